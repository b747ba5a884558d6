/*
 * checkpoint.c: the job state database, checkpoints and their incremental
 * upload to the checkpoint store (see checkpoint.h for the layout).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "ckpt_store.h"

struct sl_ckpt {
    char *job_id;
    char *dir;
    char *db_path;
    char *wal_path;
    sqlite3 *db;
    int64_t interval_ms;
    sl_store *store;
    int retained;
    int full_every;
    bool in_txn;
    bool have_base; /* a base was uploaded by this process */
    int since_base;
    int64_t wal_off; /* WAL bytes uploaded */
    sl_ckpt_stats stats;
    int64_t t0;
    int lock_fd; /* flock on <dir>/LOCK: one running instance per job */
};

static int db_err(sl_ckpt *c, sl_err *err, const char *what)
{
    return sl_err_set(err, SL_IO, "state database %s: %s: %s", c->db_path, what,
                      c->db ? sqlite3_errmsg(c->db) : "not open");
}

static int exec_sql(sl_ckpt *c, const char *sql, sl_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = sl_err_set(err, SL_IO, "state database %s: %s", c->db_path,
                            msg ? msg : "error");
        sqlite3_free(msg);
        return rc;
    }
    return SL_OK;
}

static int mkdirs(const char *path, sl_err *err)
{
    char tmp[4096];
    if (sl_strlcpy(tmp, path, sizeof(tmp)) >= sizeof(tmp))
        return sl_err_set(err, SL_LIMIT, "path too long: %s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) && errno != EEXIST)
            return sl_err_set(err, SL_IO, "%s: cannot create directory: %s",
                              tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) && errno != EEXIST)
        return sl_err_set(err, SL_IO, "%s: cannot create directory: %s", tmp,
                          strerror(errno));
    return SL_OK;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? -1 : (int64_t)st.st_size;
}

static void remove_db_files(const sl_ckpt *c)
{
    char shm[4200];
    sl_snprintf(shm, sizeof(shm), "%s-shm", c->db_path);
    unlink(c->db_path);
    unlink(c->wal_path);
    unlink(shm);
}

/* ---- store objects ------------------------------------------------------ */

typedef struct obj {
    const char *name;
    bool base;
    int64_t id, from;
} obj;

/* Parse "<job>/base-<id>.db" or "<job>/wal-<id>-<from>.bin". */
static bool parse_obj(const char *name, size_t skip, obj *o)
{
    const char *s = name + skip;
    char *end;
    o->name = name;
    if (strncmp(s, "base-", 5) == 0) {
        o->base = true;
        o->id = strtoll(s + 5, &end, 10);
        o->from = 0;
        return strcmp(end, ".db") == 0;
    }
    if (strncmp(s, "wal-", 4) == 0) {
        o->base = false;
        o->id = strtoll(s + 4, &end, 10);
        if (*end != '-')
            return false;
        o->from = strtoll(end + 1, &end, 10);
        return strcmp(end, ".bin") == 0;
    }
    return false;
}

static int list_objs(sl_ckpt *c, char ***names, int *n, obj **objs, int *n_objs,
                     sl_err *err)
{
    char prefix[300];
    sl_snprintf(prefix, sizeof(prefix), "%s/", c->job_id);
    int rc = sl_store_list(c->store, prefix, names, n, err);
    *objs = NULL;
    *n_objs = 0;
    if (rc)
        return rc;
    *objs = sl_calloc((size_t)(*n ? *n : 1), sizeof(obj));
    if (!*objs)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    for (int i = 0; i < *n; i++)
        if (parse_obj((*names)[i], strlen(prefix), &(*objs)[*n_objs]))
            (*n_objs)++;
    return SL_OK;
}

static int cmp_obj(const void *a, const void *b)
{
    const obj *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->from < y->from ? -1 : x->from > y->from;
}

/* Download the newest base and the WAL chain after it into the local
 * files (streamed). *found false when the store holds no checkpoint of this
 * job. */
static int restore_from_store(sl_ckpt *c, bool *found, sl_err *err)
{
    char **names = NULL;
    int n = 0, n_objs = 0;
    obj *objs = NULL;
    *found = false;
    int dbfd = -1, walfd = -1;
    int rc = list_objs(c, &names, &n, &objs, &n_objs, err);
    if (rc)
        goto out;
    qsort(objs, (size_t)n_objs, sizeof(obj), cmp_obj);
    int b = -1;
    for (int i = 0; i < n_objs; i++)
        if (objs[i].base)
            b = i;
    if (b < 0)
        goto out;
    remove_db_files(c);
    dbfd = open(c->db_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (dbfd < 0) {
        rc = sl_err_set(err, SL_IO, "%s: cannot create: %s", c->db_path,
                        strerror(errno));
        goto out;
    }
    int64_t got = 0;
    rc = sl_store_get_fd(c->store, objs[b].name, dbfd, &got, err);
    if (rc == SL_NOTFOUND)
        rc = sl_err_set(err, SL_IO, "checkpoint store %s: %s vanished",
                        sl_store_uri(c->store), objs[b].name);
    int64_t next = 0;
    for (int i = b + 1; !rc && i < n_objs; i++) {
        if (objs[i].base || objs[i].from != next)
            break; /* a gap: stop at the last complete chain */
        if (walfd < 0) {
            walfd = open(c->wal_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                         0644);
            if (walfd < 0) {
                rc = sl_err_set(err, SL_IO, "%s: cannot create: %s",
                                c->wal_path, strerror(errno));
                break;
            }
        }
        rc = sl_store_get_fd(c->store, objs[i].name, walfd, &got, err);
        if (rc == SL_NOTFOUND) {
            rc = SL_OK;
            break;
        }
        next += got;
    }
    if (!rc && (fsync(dbfd) || (walfd >= 0 && fsync(walfd))))
        rc = sl_err_set(err, SL_IO, "%s: fsync: %s", c->db_path,
                        strerror(errno));
    if (!rc)
        *found = true;
out:
    if (dbfd >= 0)
        close(dbfd);
    if (walfd >= 0)
        close(walfd);
    if (rc)
        remove_db_files(c);
    sl_free(objs);
    sl_store_names_free(names, n);
    return rc;
}

/* Delete objects that no longer help restore one of the newest `retained`
 * checkpoints. */
static int apply_retention(sl_ckpt *c, sl_err *err)
{
    char **names = NULL;
    int n = 0, n_objs = 0;
    obj *objs = NULL;
    int rc = list_objs(c, &names, &n, &objs, &n_objs, err);
    if (rc)
        goto out;
    qsort(objs, (size_t)n_objs, sizeof(obj), cmp_obj);
    /* distinct checkpoint ids, newest first */
    int kept = 0;
    int64_t oldest_kept = INT64_MAX, prev = INT64_MIN;
    for (int i = n_objs - 1; i >= 0 && kept < c->retained; i--) {
        if (objs[i].id == prev)
            continue;
        prev = objs[i].id;
        oldest_kept = objs[i].id;
        kept++;
    }
    int64_t base_id = -1;
    for (int i = 0; i < n_objs; i++)
        if (objs[i].base && objs[i].id <= oldest_kept)
            base_id = objs[i].id;
    for (int i = 0; !rc && i < n_objs && base_id >= 0; i++)
        if (objs[i].id < base_id)
            rc = sl_store_delete(c->store, objs[i].name, err);
out:
    sl_free(objs);
    sl_store_names_free(names, n);
    return rc;
}

static int upload(sl_ckpt *c, int64_t id, sl_err *err)
{
    char name[400];
    int rc = SL_OK;
    int64_t wal_size = file_size(c->wal_path);
    int64_t db_size = file_size(c->db_path);
    int64_t sent = 0;
    if (wal_size < c->wal_off)
        c->have_base = false; /* the WAL restarted behind our back */
    bool full = !c->have_base || c->since_base + 1 >= c->full_every ||
                (wal_size > 0 && db_size > 0 && wal_size > db_size);
    if (full) {
        int nlog = 0, nckpt = 0;
        if (sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                      &nlog, &nckpt) != SQLITE_OK)
            return db_err(c, err, "WAL checkpoint");
        sent = file_size(c->db_path);
        sl_snprintf(name, sizeof(name), "%s/base-%016" PRId64 ".db", c->job_id,
                    id);
        rc = sl_store_put_file(c->store, name, c->db_path, 0, sent, err);
        if (rc)
            return rc;
        c->have_base = true;
        c->since_base = 0;
        c->wal_off = 0;
    } else {
        sent = wal_size - c->wal_off;
        sl_snprintf(name, sizeof(name),
                    "%s/wal-%016" PRId64 "-%012" PRId64 ".bin", c->job_id, id,
                    c->wal_off);
        rc = sl_store_put_file(c->store, name, c->wal_path, c->wal_off, sent,
                               err);
        if (rc)
            return rc;
        c->wal_off = wal_size;
        c->since_base++;
    }
    c->stats.last_upload_bytes = sent;
    c->stats.last_full = full;
    c->stats.total_upload_bytes += sent;
    return apply_retention(c, err);
}

/* ---- open --------------------------------------------------------------- */

static int64_t meta_int(sl_ckpt *c, const char *key)
{
    sqlite3_stmt *st = NULL;
    int64_t v = 0;
    if (sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key = ?", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

static bool meta_text_eq(sl_ckpt *c, const char *key, const char *val)
{
    sqlite3_stmt *st = NULL;
    bool eq = false;
    if (sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key = ?", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            eq = t && strcmp(t, val) == 0;
        }
    }
    sqlite3_finalize(st);
    return eq;
}

static int set_meta(sl_ckpt *c, const char *key, const char *text, int64_t num,
                    sl_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db,
                           "INSERT OR REPLACE INTO meta(key, value) "
                           "VALUES (?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(c, err, "prepare");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (text)
        sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 2, num);
    int rc = sqlite3_step(st) == SQLITE_DONE ? SL_OK : db_err(c, err, "meta");
    sqlite3_finalize(st);
    return rc;
}

static int open_db(sl_ckpt *c, sl_err *err)
{
    if (sqlite3_open_v2(c->db_path, &c->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return db_err(c, err, "open");
    sqlite3_busy_timeout(c->db, 5000);
    int rc = exec_sql(c,
                      "PRAGMA journal_mode=WAL;"
                      "PRAGMA synchronous=FULL;"
                      "PRAGMA wal_autocheckpoint=0;"
                      "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, "
                      "value);"
                      "CREATE TABLE IF NOT EXISTS positions(input INTEGER, "
                      "source TEXT, split INTEGER, offset INTEGER, "
                      "PRIMARY KEY(input, split));"
                      "CREATE TABLE IF NOT EXISTS watermarks(input INTEGER "
                      "PRIMARY KEY, source TEXT, watermark INTEGER);",
                      err);
    if (rc)
        return rc;
    if (!c->store) { /* nothing reads the WAL: keep it short */
        rc = exec_sql(c, "PRAGMA wal_autocheckpoint=1000;", err);
        if (rc)
            return rc;
    }
    c->stats.last_id = meta_int(c, "checkpoint_id");
    return SL_OK;
}

static void close_db(sl_ckpt *c)
{
    if (c->db)
        sqlite3_close_v2(c->db);
    c->db = NULL;
}

/* Copy a savepoint file into the local database (SQLite backup API, so a
 * savepoint taken from a WAL database is consistent). */
static int restore_savepoint(sl_ckpt *c, const char *path, sl_err *err)
{
    if (file_size(path) < 0)
        return sl_err_set(err, SL_NOTFOUND,
                          "'execution.savepoint.path': no savepoint at '%s'",
                          path);
    sqlite3 *src = NULL;
    int rc = SL_OK;
    if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = sl_err_set(err, SL_IO, "savepoint '%s': cannot open: %s", path,
                        src ? sqlite3_errmsg(src) : "out of memory");
        sqlite3_close_v2(src);
        return rc;
    }
    sqlite3_backup *b = sqlite3_backup_init(c->db, "main", src, "main");
    if (!b || sqlite3_backup_step(b, -1) != SQLITE_DONE)
        rc = sl_err_set(err, SL_IO, "savepoint '%s': cannot restore: %s", path,
                        sqlite3_errmsg(c->db));
    sqlite3_backup_finish(b);
    sqlite3_close_v2(src);
    if (!rc)
        rc = exec_sql(c, "PRAGMA journal_mode=WAL;", err);
    if (!rc)
        rc = set_meta(c, "restored_from", path, 0, err);
    return rc;
}

int sl_ckpt_open(const sl_ckpt_config *cfg, sl_ckpt **out, sl_err *err)
{
    *out = NULL;
    if (!cfg->state_dir || !*cfg->state_dir)
        return sl_err_set(err, SL_MISUSE, "checkpoints need 'state.dir'");
    sl_ckpt *c = sl_calloc(1, sizeof(*c));
    if (!c)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    c->lock_fd = -1;
    int64_t t0 = sl_mono_ns();
    const char *id = cfg->job_id && *cfg->job_id ? cfg->job_id : "job";
    c->job_id = sl_strdup(id);
    int rc = c->job_id ? SL_OK : sl_err_set(err, SL_NOMEM, "out of memory");
    for (char *p = c->job_id; !rc && *p; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
            *p = '_';
    }
    if (!rc && c->job_id[0] == '.')
        c->job_id[0] = '_';
    c->interval_ms =
        cfg->interval_ms > 0 ? cfg->interval_ms : SL_CKPT_DEFAULT_INTERVAL_MS;
    c->retained =
        cfg->retained > 0 ? SL_MIN(cfg->retained, SL_CKPT_MAX_RETAINED) : 1;
    c->full_every =
        cfg->full_every > 0 ? cfg->full_every : SL_CKPT_DEFAULT_FULL_EVERY;
    c->stats.restored_from = "";
    if (!rc) {
        c->dir = sl_asprintf("%s/%s", cfg->state_dir, c->job_id);
        c->db_path = sl_asprintf("%s/%s/state.db", cfg->state_dir, c->job_id);
        c->wal_path =
            sl_asprintf("%s/%s/state.db-wal", cfg->state_dir, c->job_id);
        if (!c->dir || !c->db_path || !c->wal_path)
            rc = sl_err_set(err, SL_NOMEM, "out of memory");
    }
    if (!rc)
        rc = mkdirs(c->dir, err);
    if (!rc) {
        char lock[4200];
        sl_snprintf(lock, sizeof(lock), "%s/LOCK", c->dir);
        c->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (c->lock_fd < 0)
            rc = sl_err_set(err, SL_IO, "%s: cannot open: %s", lock,
                            strerror(errno));
        else if (flock(c->lock_fd, LOCK_EX | LOCK_NB))
            rc = sl_err_set(err, SL_IO,
                            "job '%s' is already running with state.dir "
                            "'%s' (another process holds %s); stop it or set "
                            "another 'pipeline.name'",
                            c->job_id, cfg->state_dir, lock);
    }
    if (!rc && cfg->store && *cfg->store) {
        sl_store_config sc = {cfg->store,         cfg->s3_endpoint,
                              cfg->s3_region,     cfg->s3_access_key,
                              cfg->s3_secret_key, 0};
        rc = sl_store_open(&sc, &c->store, err);
    }
    bool have_local = !rc && file_size(c->db_path) > 0;
    if (!rc && have_local) {
        rc = open_db(c, err);
        if (!rc && c->stats.last_id > 0)
            c->stats.restored_from = "local";
        if (!rc && c->stats.last_id == 0) {
            close_db(c); /* nothing committed: as if absent */
            remove_db_files(c);
            have_local = false;
        }
    }
    const char *sp = cfg->savepoint_path;
    if (!rc && sp && *sp &&
        !(have_local && meta_text_eq(c, "restored_from", sp))) {
        if (!c->db)
            rc = open_db(c, err);
        if (!rc)
            rc = restore_savepoint(c, sp, err);
        if (!rc) {
            c->stats.last_id = meta_int(c, "checkpoint_id");
            c->stats.restored_from = "savepoint";
        }
    } else if (!rc && !have_local && c->store) {
        bool found = false;
        rc = restore_from_store(c, &found, err);
        if (!rc) {
            rc = open_db(c, err);
            if (found && !rc)
                c->stats.restored_from = "store";
        }
    } else if (!rc && !c->db) {
        rc = open_db(c, err);
    }
    if (!rc)
        rc = set_meta(c, "job_id", c->job_id, 0, err);
    if (rc) {
        sl_ckpt_free(c);
        return rc;
    }
    c->stats.restore_us = (sl_mono_ns() - t0) / 1000;
    *out = c;
    return SL_OK;
}

void sl_ckpt_free(sl_ckpt *c)
{
    if (!c)
        return;
    if (c->in_txn)
        sl_ckpt_abort(c);
    close_db(c);
    if (c->lock_fd >= 0)
        close(c->lock_fd); /* releases the flock */
    sl_store_free(c->store);
    sl_free(c->job_id);
    sl_free(c->dir);
    sl_free(c->db_path);
    sl_free(c->wal_path);
    sl_free(c);
}

sqlite3 *sl_ckpt_db(sl_ckpt *c)
{
    return c->db;
}

int64_t sl_ckpt_interval_ms(const sl_ckpt *c)
{
    return c->interval_ms;
}

const char *sl_ckpt_job_id(const sl_ckpt *c)
{
    return c->job_id;
}

const char *sl_ckpt_db_path(const sl_ckpt *c)
{
    return c->db_path;
}

void sl_ckpt_stats_get(const sl_ckpt *c, sl_ckpt_stats *stats)
{
    *stats = c->stats;
    int64_t a = file_size(c->db_path), b = file_size(c->wal_path);
    stats->db_bytes = (a > 0 ? a : 0) + (b > 0 ? b : 0);
}

/* ---- reading and writing ------------------------------------------------ */

int sl_ckpt_load_positions(sl_ckpt *c, int input, const char *source,
                           sl_srcpos **pos, int *n, sl_err *err)
{
    *pos = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT source, split, offset FROM positions "
                           "WHERE input = ? ORDER BY split",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(c, err, "read positions");
    sqlite3_bind_int(st, 1, input);
    int rc = SL_OK, cap = 0, s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (source && name && strcmp(name, source)) {
            rc = sl_err_set(err, SL_MISUSE,
                            "state %s: input %d was table '%s' in the "
                            "checkpoint, the job now reads '%s' (a changed "
                            "query needs a new 'pipeline.name' or state.dir)",
                            c->db_path, input + 1, name, source);
            break;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            sl_srcpos *np = sl_realloc(*pos, sizeof(sl_srcpos) * (size_t)cap);
            if (!np) {
                rc = sl_err_set(err, SL_NOMEM, "out of memory");
                break;
            }
            *pos = np;
        }
        (*pos)[*n].split = (int32_t)sqlite3_column_int64(st, 1);
        (*pos)[*n].offset = sqlite3_column_int64(st, 2);
        (*n)++;
    }
    if (!rc && s != SQLITE_DONE && s != SQLITE_ROW)
        rc = db_err(c, err, "read positions");
    sqlite3_finalize(st);
    if (rc) {
        sl_free(*pos);
        *pos = NULL;
        *n = 0;
    }
    return rc;
}

int sl_ckpt_begin(sl_ckpt *c, sl_err *err)
{
    c->t0 = sl_mono_ns();
    int rc = exec_sql(c, "BEGIN IMMEDIATE", err);
    if (!rc)
        c->in_txn = true;
    return rc;
}

int sl_ckpt_save_positions(sl_ckpt *c, int input, const char *source,
                           const sl_srcpos *pos, int n, sl_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db,
                           "INSERT INTO positions(input, source, split, "
                           "offset) VALUES (?, ?, ?, ?) ON CONFLICT(input, "
                           "split) DO UPDATE SET source = excluded.source, "
                           "offset = excluded.offset WHERE offset IS NOT "
                           "excluded.offset OR source IS NOT excluded.source",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(c, err, "save positions");
    int rc = SL_OK;
    for (int i = 0; i < n && !rc; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int(st, 1, input);
        sqlite3_bind_text(st, 2, source ? source : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, pos[i].split);
        sqlite3_bind_int64(st, 4, pos[i].offset);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_err(c, err, "save positions");
    }
    sqlite3_finalize(st);
    return rc;
}

int sl_ckpt_save_watermark(sl_ckpt *c, int input, const char *source,
                           int64_t watermark_ms, sl_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db,
                           "INSERT OR REPLACE INTO watermarks(input, source, "
                           "watermark) VALUES (?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(c, err, "save watermark");
    sqlite3_bind_int(st, 1, input);
    sqlite3_bind_text(st, 2, source ? source : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, watermark_ms);
    int rc =
        sqlite3_step(st) == SQLITE_DONE ? SL_OK : db_err(c, err, "watermark");
    sqlite3_finalize(st);
    return rc;
}

int sl_ckpt_commit(sl_ckpt *c, sl_err *err)
{
    int64_t id = c->stats.last_id + 1;
    int rc = set_meta(c, "checkpoint_id", NULL, id, err);
    if (!rc)
        rc = set_meta(c, "checkpoint_time_ms", NULL, sl_now_ms(), err);
    if (!rc)
        rc = exec_sql(c, "COMMIT", err);
    if (rc) {
        sl_ckpt_abort(c);
        return rc;
    }
    c->in_txn = false;
    c->stats.last_id = id;
    c->stats.n_taken++;
    c->stats.last_upload_bytes = 0;
    if (c->store)
        rc = upload(c, id, err);
    c->stats.last_duration_us = (sl_mono_ns() - c->t0) / 1000;
    return rc;
}

void sl_ckpt_abort(sl_ckpt *c)
{
    if (c->in_txn)
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    c->in_txn = false;
}

int sl_ckpt_savepoint(sl_ckpt *c, const char *dir, char **path, sl_err *err)
{
    *path = NULL;
    int rc = mkdirs(dir, err);
    if (rc)
        return rc;
    char *p =
        sl_asprintf("%s/%s-%" PRId64 ".db", dir, c->job_id, c->stats.last_id);
    if (!p)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    unlink(p);
    sqlite3 *dst = NULL;
    if (sqlite3_open_v2(p, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK) {
        rc = sl_err_set(err, SL_IO, "savepoint %s: cannot create: %s", p,
                        dst ? sqlite3_errmsg(dst) : "out of memory");
    } else {
        sqlite3_backup *b = sqlite3_backup_init(dst, "main", c->db, "main");
        if (!b || sqlite3_backup_step(b, -1) != SQLITE_DONE)
            rc = sl_err_set(err, SL_IO, "savepoint %s: cannot write: %s", p,
                            sqlite3_errmsg(dst));
        sqlite3_backup_finish(b);
    }
    sqlite3_close_v2(dst);
    if (rc) {
        unlink(p);
        sl_free(p);
        return rc;
    }
    *path = p;
    return SL_OK;
}
