/*
 * ckpt_rows.c: incremental checkpoints of an operator's rowid table (see
 * ckpt_rows.h). snapshot() copies the rows a tracker (ckpt_track.c) saw
 * inserted and deletes the ones it saw deleted, in the job's state
 * database, inside the checkpoint's transaction; restore() copies the
 * table back with its rowids. Both step prepared statements across the
 * two connections (values are copied with their SQLite types).
 */
#include <string.h>

#include "ckpt_rows.h"
#include "ckpt_track.h"

#define MAX_SQL (4u << 20) /* bound of a generated statement */

struct sl_ckpt_rows {
    sqlite3 *db;
    char *table;
    char *what;
    int version;
    sl_ckpt_track *trk; /* changes since the last snapshot/restore */
    int64_t written;
};

/* What one snapshot or restore needs: names, columns, statements. */
typedef struct ctx {
    sl_ckpt_rows *c;
    sqlite3 *state;
    sl_err *err;
    char rows[192], meta[192]; /* quoted state table names */
    sl_buf cols;               /* the table's column names, quoted */
    sl_buf layout;             /* CREATE TABLE text + caller's layout */
    int n_cols;
    sqlite3_stmt *sel, *ins, *del;
} ctx;

static int db_err(ctx *x, sqlite3 *db, const char *what)
{
    return sl_err_set(x->err, SL_IO, "%s checkpoint: %s: %s", x->c->what, what,
                      sqlite3_errmsg(db));
}

static int prepare(ctx *x, sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
        return sl_err_set(x->err, SL_IO, "%s checkpoint: %s (SQL: %s)",
                          x->c->what, sqlite3_errmsg(db), sql);
    return SL_OK;
}

static int exec(ctx *x, sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_err(x, db, sql);
    return SL_OK;
}

static void stmts_free(ctx *x)
{
    sqlite3_finalize(x->sel);
    sqlite3_finalize(x->ins);
    sqlite3_finalize(x->del);
    x->sel = x->ins = x->del = NULL;
}

static void ctx_free(ctx *x)
{
    stmts_free(x);
    sl_buf_free(&x->cols);
    sl_buf_free(&x->layout);
}

static int ctx_init(ctx *x, sl_ckpt_rows *c, sqlite3 *state, const char *prefix,
                    const char *layout, sl_err *err)
{
    memset(x, 0, sizeof(*x));
    x->c = c;
    x->state = state;
    x->err = err;
    sl_buf_init(&x->cols, MAX_SQL);
    sl_buf_init(&x->layout, MAX_SQL);
    if (strlen(prefix) + 8 >= sizeof(x->rows) || strchr(prefix, '"'))
        return sl_err_set(err, SL_MISUSE, "%s checkpoint: bad prefix", c->what);
    sl_snprintf(x->rows, sizeof(x->rows), "\"%srows\"", prefix);
    sl_snprintf(x->meta, sizeof(x->meta), "\"%smeta\"", prefix);
    sqlite3_stmt *st = NULL;
    int rc = prepare(x, c->db,
                     "SELECT sql FROM main.sqlite_master WHERE type = 'table' "
                     "AND name = ?1",
                     &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, c->table, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        sl_buf_printf(&x->layout, "%s;%s",
                      (const char *)sqlite3_column_text(st, 0), layout);
    else
        rc = db_err(x, c->db, "table layout");
    sqlite3_finalize(st);
    st = NULL;
    sl_buf q;
    sl_buf_init(&q, 1024);
    sl_buf_printf(&q, "SELECT * FROM main.\"%s\" LIMIT 0", c->table);
    if (!rc)
        rc = q.rc ? SL_NOMEM : prepare(x, c->db, sl_buf_cstr(&q), &st);
    sl_buf_free(&q);
    if (!rc)
        x->n_cols = sqlite3_column_count(st);
    for (int i = 0; !rc && i < x->n_cols; i++) {
        const char *n = sqlite3_column_name(st, i);
        sl_buf_printf(&x->cols, "%s\"%s\"", i ? ", " : "", n ? n : "");
    }
    sqlite3_finalize(st);
    if (rc == SL_NOMEM || (!rc && (x->cols.rc || x->layout.rc)))
        rc = sl_err_set(err, SL_NOMEM, "out of memory");
    return rc;
}

/* Prepare on db: head, then " VALUES(?, ...)" with n placeholders. */
static int prepare_values(ctx *x, sqlite3 *db, int n, sqlite3_stmt **st,
                          const char *head)
{
    sl_buf b;
    sl_buf_init(&b, MAX_SQL);
    sl_buf_puts(&b, head);
    sl_buf_puts(&b, " VALUES(");
    for (int i = 0; i < n; i++)
        sl_buf_puts(&b, i ? ", ?" : "?");
    sl_buf_puts(&b, ")");
    int rc = b.rc ? sl_err_set(x->err, SL_NOMEM, "out of memory")
                  : prepare(x, db, sl_buf_cstr(&b), st);
    sl_buf_free(&b);
    return rc;
}

/* The statements copy_rows uses: x->sel, the rid and columns of rows, on
 * from; x->ins, ins_head then VALUES for them, on to. */
static int prepare_copy(ctx *x, sqlite3 *from, const sl_buf *sel, sqlite3 *to,
                        const sl_buf *ins_head)
{
    if (sel->rc || ins_head->rc)
        return sl_err_set(x->err, SL_NOMEM, "out of memory");
    int rc = prepare(x, from, sl_buf_cstr(sel), &x->sel);
    return rc ? rc
              : prepare_values(x, to, x->n_cols + 1, &x->ins,
                               sl_buf_cstr(ins_head));
}

/* Step `to` once per row of `from` (all its columns bound in order). */
static int copy_rows(ctx *x, sqlite3_stmt *from, sqlite3_stmt *to,
                     sqlite3 *to_db)
{
    int s;
    while ((s = sqlite3_step(from)) == SQLITE_ROW) {
        int nc = sqlite3_column_count(from);
        for (int i = 0; i < nc; i++)
            sqlite3_bind_value(to, i + 1, sqlite3_column_value(from, i));
        int t = sqlite3_step(to);
        sqlite3_reset(to);
        if (t != SQLITE_DONE)
            return db_err(x, to_db, "copy");
        x->c->written++;
    }
    if (s != SQLITE_DONE)
        return db_err(x, sqlite3_db_handle(from), "read");
    return SL_OK;
}

/* meta value of k: *found false when absent. */
static int meta_get(ctx *x, const char *k, int64_t *iv, sl_buf *tv, bool *found)
{
    char sql[256];
    sl_snprintf(sql, sizeof(sql), "SELECT v FROM %s WHERE k = ?1", x->meta);
    sqlite3_stmt *st = NULL;
    int rc = prepare(x, x->state, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
    *found = false;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *found = true;
        if (iv)
            *iv = sqlite3_column_int64(st, 0);
        if (tv && sqlite3_column_text(st, 0))
            sl_buf_puts(tv, (const char *)sqlite3_column_text(st, 0));
    } else if (r != SQLITE_DONE) {
        rc = db_err(x, x->state, "meta");
    }
    sqlite3_finalize(st);
    return rc;
}

static int meta_put(ctx *x, sqlite3_stmt *put, const char *k, int64_t iv,
                    const char *tv)
{
    sqlite3_bind_text(put, 1, k, -1, SQLITE_STATIC);
    if (tv)
        sqlite3_bind_text(put, 2, tv, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(put, 2, iv);
    int s = sqlite3_step(put);
    sqlite3_reset(put);
    return s == SQLITE_DONE ? SL_OK : db_err(x, x->state, "meta");
}

static bool table_exists(sqlite3 *db, const char *quoted)
{
    char name[192];
    size_t n = strlen(quoted);
    if (n < 2 || n - 1 > sizeof(name))
        return false;
    memcpy(name, quoted + 1, n - 2); /* without the quotes */
    name[n - 2] = '\0';
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM main.sqlite_master WHERE "
                           "type = 'table' AND name = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return false;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bool have = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    return have;
}

/* Everything: the copy is emptied and refilled. */
static int write_all(ctx *x)
{
    char sql[256];
    sl_snprintf(sql, sizeof(sql), "DELETE FROM %s", x->rows);
    int rc = exec(x, x->state, sql);
    x->c->written += sqlite3_changes(x->state);
    sl_buf sel, ins;
    sl_buf_init(&sel, MAX_SQL);
    sl_buf_init(&ins, MAX_SQL);
    sl_buf_printf(&sel, "SELECT rowid, * FROM main.\"%s\"", x->c->table);
    sl_buf_printf(&ins, "INSERT INTO %s(rid, %s)", x->rows,
                  sl_buf_cstr(&x->cols));
    if (!rc)
        rc = prepare_copy(x, x->c->db, &sel, x->state, &ins);
    if (!rc)
        rc = copy_rows(x, x->sel, x->ins, x->state);
    sl_buf_free(&sel);
    sl_buf_free(&ins);
    stmts_free(x);
    return rc;
}

static int del_cb(void *arg, int64_t rid, int64_t unused, const void *key,
                  int len)
{
    SL_UNUSED(unused);
    SL_UNUSED(key);
    SL_UNUSED(len);
    ctx *x = arg;
    sqlite3_bind_int64(x->del, 1, rid);
    int s = sqlite3_step(x->del);
    sqlite3_reset(x->del);
    x->c->written++;
    return s == SQLITE_DONE ? SL_OK : db_err(x, x->state, "delete");
}

static int ins_cb(void *arg, int64_t rid, int64_t unused, const void *key,
                  int len)
{
    SL_UNUSED(unused);
    SL_UNUSED(key);
    SL_UNUSED(len);
    ctx *x = arg;
    sqlite3_bind_int64(x->sel, 1, rid);
    int rc = copy_rows(x, x->sel, x->ins, x->state); /* none: gone again */
    sqlite3_reset(x->sel);
    return rc;
}

/* What the tracker recorded: deletes first (a rowid can be reused). */
static int write_changes(ctx *x)
{
    char sql[256];
    sl_snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE rid = ?1", x->rows);
    int rc = prepare(x, x->state, sql, &x->del);
    if (!rc)
        rc = sl_ckpt_track_each(x->c->trk, SL_TRACK_DELETED, del_cb, x);
    sl_buf sel, ins;
    sl_buf_init(&sel, MAX_SQL);
    sl_buf_init(&ins, MAX_SQL);
    sl_buf_printf(&sel, "SELECT rowid, * FROM main.\"%s\" WHERE rowid = ?1",
                  x->c->table);
    sl_buf_printf(&ins, "INSERT OR REPLACE INTO %s(rid, %s)", x->rows,
                  sl_buf_cstr(&x->cols));
    if (!rc)
        rc = prepare_copy(x, x->c->db, &sel, x->state, &ins);
    if (!rc)
        rc = sl_ckpt_track_each(x->c->trk, SL_TRACK_INSERTED, ins_cb, x);
    sl_buf_free(&sel);
    sl_buf_free(&ins);
    stmts_free(x);
    return rc;
}

static int create_tables(ctx *x)
{
    sl_buf b;
    sl_buf_init(&b, MAX_SQL);
    sl_buf_printf(&b,
                  "CREATE TABLE IF NOT EXISTS %s(k TEXT PRIMARY KEY, v);"
                  "CREATE TABLE IF NOT EXISTS %s(rid INTEGER PRIMARY KEY, %s);",
                  x->meta, x->rows, sl_buf_cstr(&x->cols));
    int rc = b.rc ? sl_err_set(x->err, SL_NOMEM, "out of memory")
                  : exec(x, x->state, sl_buf_cstr(&b));
    sl_buf_free(&b);
    return rc;
}

int sl_ckpt_rows_new(sqlite3 *db, const char *table, const char *what,
                     int version, sl_ckpt_rows **out, sl_err *err)
{
    *out = NULL;
    sl_ckpt_rows *c = sl_calloc(1, sizeof(*c));
    if (!c)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    c->db = db;
    c->version = version;
    c->table = sl_strdup(table);
    c->what = sl_strdup(what);
    if (!c->table || !c->what) {
        sl_ckpt_rows_free(c);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    *out = c;
    return SL_OK;
}

void sl_ckpt_rows_free(sl_ckpt_rows *c)
{
    if (!c)
        return;
    sl_ckpt_track_free(c->trk);
    sl_free(c->table);
    sl_free(c->what);
    sl_free(c);
}

int64_t sl_ckpt_rows_written(const sl_ckpt_rows *c)
{
    return c ? c->written : 0;
}

/* Track the table's changes from now on (the copy equals it). */
static int track(ctx *x)
{
    if (x->c->trk) {
        sl_ckpt_track_clear(x->c->trk);
        return SL_OK;
    }
    /* no keyed table: "" names none */
    return sl_ckpt_track_new(x->c->db, "", x->c->table, &x->c->trk, x->err);
}

/* The keys of sl_ckpt_clock's fields in <prefix>meta, in field order. */
static const char *const clock_keys[] = {"wm", "fire_wm", "fired_wm", "late"};
#define CLOCK_FIELDS ((int)SL_ARRAY_LEN(clock_keys))

int sl_ckpt_rows_snapshot(sl_ckpt_rows *c, sqlite3 *state, const char *prefix,
                          const char *layout, const sl_ckpt_clock *clock,
                          sl_err *err)
{
    ctx x;
    c->written = 0;
    int rc = ctx_init(&x, c, state, prefix, layout, err);
    if (!rc)
        rc = create_tables(&x);
    sl_buf old;
    sl_buf_init(&old, MAX_SQL);
    bool found = false, all = !c->trk || sl_ckpt_track_overflowed(c->trk);
    int64_t version = 0;
    if (!rc)
        rc = meta_get(&x, "version", &version, NULL, &found);
    if (!rc && found)
        rc = meta_get(&x, "layout", NULL, &old, &found);
    if (!rc && found &&
        (version != c->version ||
         strcmp(sl_buf_cstr(&old), sl_buf_cstr(&x.layout)))) {
        /* another query's (or build's) state under this prefix: replace */
        char sql[512];
        sl_snprintf(sql, sizeof(sql), "DROP TABLE %s; DELETE FROM %s", x.rows,
                    x.meta);
        rc = exec(&x, state, sql);
        if (!rc)
            rc = create_tables(&x);
        all = true;
    }
    if (!rc)
        rc = all ? write_all(&x) : write_changes(&x);
    sqlite3_stmt *put = NULL;
    char sql[256];
    sl_snprintf(sql, sizeof(sql),
                "INSERT OR REPLACE INTO %s(k, v) VALUES(?1, ?2)", x.meta);
    if (!rc)
        rc = prepare(&x, state, sql, &put);
    if (!rc)
        rc = meta_put(&x, put, "version", c->version, NULL);
    if (!rc)
        rc = meta_put(&x, put, "layout", 0, sl_buf_cstr(&x.layout));
    const int64_t vals[] = {clock->wm, clock->fire_wm, clock->fired_wm,
                            clock->late};
    for (int i = 0; i < CLOCK_FIELDS && !rc; i++)
        rc = meta_put(&x, put, clock_keys[i], vals[i], NULL);
    sqlite3_finalize(put);
    if (!rc)
        rc = track(&x);
    if (rc) { /* the next snapshot copies everything */
        sl_ckpt_track_free(c->trk);
        c->trk = NULL;
    }
    sl_buf_free(&old);
    ctx_free(&x);
    return rc;
}

int sl_ckpt_rows_restore(sl_ckpt_rows *c, sqlite3 *state, const char *prefix,
                         const char *layout, sl_ckpt_clock *clock, bool *found,
                         sl_err *err)
{
    *found = false;
    ctx x;
    int rc = ctx_init(&x, c, state, prefix, layout, err);
    if (rc || !table_exists(state, x.meta)) {
        ctx_free(&x);
        return rc; /* nothing checkpointed yet */
    }
    bool have = false;
    int64_t version = 0;
    sl_buf old;
    sl_buf_init(&old, MAX_SQL);
    rc = meta_get(&x, "version", &version, NULL, &have);
    if (!rc && have && version != c->version)
        rc = sl_err_set(err, SL_UNSUPPORTED,
                        "%s checkpoint: the state has layout version %lld, "
                        "this build reads version %d; use a new "
                        "'pipeline.name' or an empty 'state.dir'",
                        c->what, (long long)version, c->version);
    bool same = false;
    if (!rc && have)
        rc = meta_get(&x, "layout", NULL, &old, &same);
    if (!rc && have &&
        (!same || strcmp(sl_buf_cstr(&old), sl_buf_cstr(&x.layout))))
        rc = sl_err_set(err, SL_UNSUPPORTED,
                        "%s checkpoint: the checkpoint holds the state of a "
                        "different %s (the query changed); use a new "
                        "'pipeline.name' or an empty 'state.dir'",
                        c->what, c->what);
    if (rc || !have) {
        sl_buf_free(&old);
        ctx_free(&x);
        return rc;
    }
    sl_buf sel, ins;
    sl_buf_init(&sel, MAX_SQL);
    sl_buf_init(&ins, MAX_SQL);
    sl_buf_printf(&sel, "SELECT rid, %s FROM %s ORDER BY rid",
                  sl_buf_cstr(&x.cols), x.rows);
    sl_buf_printf(&ins, "INSERT INTO main.\"%s\"(rowid, %s)", c->table,
                  sl_buf_cstr(&x.cols));
    rc = prepare_copy(&x, state, &sel, c->db, &ins);
    sl_buf_free(&sel);
    sl_buf_free(&ins);
    if (!rc)
        rc = exec(&x, c->db, "BEGIN");
    if (!rc) {
        rc = copy_rows(&x, x.sel, x.ins, c->db);
        if (!rc)
            rc = exec(&x, c->db, "COMMIT");
        else
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    }
    stmts_free(&x);
    int64_t vals[CLOCK_FIELDS];
    for (int i = 0; i < CLOCK_FIELDS && !rc; i++) {
        bool f = false;
        rc = meta_get(&x, clock_keys[i], &vals[i], NULL, &f);
        if (!rc && !f)
            rc = sl_err_set(err, SL_UNSUPPORTED,
                            "%s checkpoint: the state lacks '%s'; use a new "
                            "'pipeline.name' or an empty 'state.dir'",
                            c->what, clock_keys[i]);
    }
    if (!rc)
        *clock = (sl_ckpt_clock){vals[0], vals[1], vals[2], vals[3]};
    if (!rc)
        rc = track(&x); /* the copy now equals the table */
    if (!rc)
        *found = true;
    sl_buf_free(&old);
    ctx_free(&x);
    return rc;
}
