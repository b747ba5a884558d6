/*
 * test_checkpoint.c: checkpoints, recovery, the checkpoint store and
 * savepoints (issue 9).
 *
 *   - the state database API: checkpoints, incremental uploads to a
 *     directory store, retention, restore into an empty state.dir;
 *   - crash tests: a `sluice -f` INSERT job (datagen or filesystem ->
 *     stateless query -> filesystem sink, one file or part files; and with
 *     async model calls) killed with SIGKILL at random points 20 (10)
 *     times and restarted; at the end no row is missing (at-least-once;
 *     duplicates are counted and allowed);
 *   - the job contract: source seek, operator snapshot/restore;
 *   - restore from S3 alone: the same job against s3rver (npm package,
 *     installed by scripts/install-deps.sh into .cache/npm) on 127.0.0.1,
 *     each run with an empty state.dir;
 *   - STOP JOB ... WITH SAVEPOINT and 'execution.savepoint.path'.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "ckpt_store.h"
#include "harness.h"
#include "job.h"
#include "sluice.h"

/* ---- helpers ------------------------------------------------------------ */

typedef struct tally {
    int64_t n_ids;
    unsigned char *seen; /* count per id, saturating */
    int64_t rows, dups, missing, bad;
} tally;

/* Count the first CSV field of every line of every file in dir. */
static void count_dir(const char *dir, int64_t n_ids, tally *t)
{
    memset(t, 0, sizeof(*t));
    t->n_ids = n_ids;
    t->seen = calloc((size_t)n_ids + 1, 1); /* sl: allow */
    cr_assert(t->seen);
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            char path[1024];
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            size_t len = 0;
            char *text = sl_test_read_file(path, &len);
            if (!text)
                continue;
            char *p = text;
            while (p < text + len) {
                char *nl = memchr(p, '\n', (size_t)(text + len - p));
                if (!nl)
                    break; /* a torn last line of a killed run */
                char *end;
                long long id = strtoll(p, &end, 10);
                if (end == p || id < 1 || id > n_ids) {
                    t->bad++;
                } else {
                    t->rows++;
                    if (t->seen[id])
                        t->dups++;
                    if (t->seen[id] < 255)
                        t->seen[id]++;
                }
                p = nl + 1;
            }
            sl_free(text);
        }
        closedir(d);
    }
    for (int64_t i = 1; i <= n_ids; i++)
        if (!t->seen[i])
            t->missing++;
}

static void tally_free(tally *t)
{
    free(t->seen); /* sl: allow */
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int run_sluice(const char *script, int timeout_ms, sl_buf *err)
{
    const char *argv[] = {sl_test_sluice_bin(), "-f", script, NULL};
    return sl_test_run(argv, NULL, NULL, err, timeout_ms);
}

/* Start the job, let it run kill_ms, SIGKILL it. */
static void run_and_kill(const char *script, int kill_ms)
{
    const char *argv[] = {sl_test_sluice_bin(), "-f", script, NULL};
    sl_test_proc *p = sl_test_proc_start(argv, NULL, 0, NULL, 0);
    cr_assert(p, "cannot start sluice");
    sleep_ms(kill_ms);
    sl_test_proc_stop(p, SIGKILL, 2000);
}

static void crash_loop(const char *script, const char *out_dir, int64_t n_ids,
                       int kills, int min_ms, int max_ms)
{
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    int64_t t0 = sl_mono_ns();
    for (int i = 0; i < kills; i++) {
        int ms = min_ms + (int)(rand_r(&seed) % (unsigned)(max_ms - min_ms));
        run_and_kill(script, ms);
    }
    sl_buf err;
    sl_buf_init(&err, 1 << 20);
    int rc = run_sluice(script, 40000, &err);
    cr_assert_eq(rc, 0, "final run failed (%d): %s", rc, sl_buf_cstr(&err));
    sl_buf_free(&err);
    tally t;
    count_dir(out_dir, n_ids, &t);
    fprintf(stderr,
            "crash test %s: %d kills in %.1f s (seed %u): %lld rows, %lld "
            "duplicates, %lld missing\n",
            script, kills, (double)(sl_mono_ns() - t0) / 1e9, seed,
            (long long)t.rows, (long long)t.dups, (long long)t.missing);
    cr_assert_eq(t.bad, 0, "%lld malformed rows", (long long)t.bad);
    cr_assert_eq(t.missing, 0, "%lld of %lld rows missing (seed %u)",
                 (long long)t.missing, (long long)n_ids, seed);
    tally_free(&t);
}

/* ---- the state database API -------------------------------------------- */

static int64_t count_objects(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int64_t n = 0;
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (!strncmp(de->d_name, prefix, strlen(prefix)))
            n++;
    closedir(d);
    return n;
}

Test(checkpoint, api_store_incremental_retention_restore)
{
    char *tmp = sl_test_tmpdir();
    char state[512], state2[512], store[512], jobdir[600];
    snprintf(state, sizeof(state), "%s/state", tmp);
    snprintf(state2, sizeof(state2), "%s/state2", tmp);
    snprintf(store, sizeof(store), "%s/store", tmp);
    snprintf(jobdir, sizeof(jobdir), "%s/j1", store);
    sl_ckpt_config cfg = {0};
    cfg.state_dir = state;
    cfg.job_id = "j1";
    cfg.store = store;
    cfg.retained = 2;
    cfg.full_every = 4;
    sl_err err;
    sl_err_clear(&err);
    sl_ckpt *c = NULL;
    cr_assert_eq(sl_ckpt_open(&cfg, &c, &err), SL_OK, "%s", err.msg);
    /* one running instance per job and state.dir */
    sl_ckpt *twice = NULL;
    sl_err e2;
    sl_err_clear(&e2);
    cr_assert_neq(sl_ckpt_open(&cfg, &twice, &e2), SL_OK);
    cr_assert(strstr(e2.msg, "already running"), "%s", e2.msg);
    sqlite3 *db = sl_ckpt_db(c);
    cr_assert_eq(sqlite3_exec(db,
                              "CREATE TABLE op0_kv(k INTEGER PRIMARY KEY, v "
                              "BLOB)",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    int64_t small = 0, full = 0;
    for (int i = 1; i <= 10; i++) {
        cr_assert_eq(sl_ckpt_begin(c, &err), SL_OK, "%s", err.msg);
        sl_srcpos pos[2] = {{0, i * 100}, {1, i * 10}};
        cr_assert_eq(sl_ckpt_save_positions(c, 0, "src", pos, 2, &err), SL_OK);
        char sql[200];
        snprintf(sql, sizeof(sql),
                 "INSERT OR REPLACE INTO op0_kv VALUES (%d, zeroblob(4000))",
                 i);
        cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        cr_assert_eq(sl_ckpt_commit(c, &err), SL_OK, "%s", err.msg);
        sl_ckpt_stats st;
        sl_ckpt_stats_get(c, &st);
        cr_assert_eq(st.last_id, i);
        if (st.last_full)
            full++;
        else
            small++;
    }
    cr_assert(full >= 2 && small >= 5, "full %lld small %lld", (long long)full,
              (long long)small);
    /* retention: only what the newest 2 checkpoints need */
    cr_assert_eq(count_objects(jobdir, "base-"), 1);
    sl_ckpt_free(c);

    /* a fresh state.dir restores from the store alone */
    cfg.state_dir = state2;
    c = NULL;
    cr_assert_eq(sl_ckpt_open(&cfg, &c, &err), SL_OK, "%s", err.msg);
    sl_ckpt_stats st;
    sl_ckpt_stats_get(c, &st);
    cr_assert_eq(st.last_id, 10);
    cr_assert_str_eq(st.restored_from, "store");
    sl_srcpos *pos = NULL;
    int n = 0;
    cr_assert_eq(sl_ckpt_load_positions(c, 0, "src", &pos, &n, &err), SL_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(pos[0].offset, 1000);
    cr_assert_eq(pos[1].offset, 100);
    sl_free(pos);
    /* a changed query (another table at that input) is refused */
    cr_assert_neq(sl_ckpt_load_positions(c, 0, "other", &pos, &n, &err), SL_OK);
    sqlite3_stmt *q = NULL;
    cr_assert_eq(sqlite3_prepare_v2(sl_ckpt_db(c),
                                    "SELECT count(*) FROM op0_kv", -1, &q,
                                    NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(q, 0), 10);
    sqlite3_finalize(q);

    /* savepoint file and restore from it */
    char *sp = NULL;
    char spdir[600];
    snprintf(spdir, sizeof(spdir), "%s/sp", tmp);
    sl_err_clear(&err);
    cr_assert_eq(sl_ckpt_savepoint(c, spdir, &sp, &err), SL_OK, "%s", err.msg);
    sl_ckpt_free(c);
    char state3[600];
    snprintf(state3, sizeof(state3), "%s/state3", tmp);
    sl_ckpt_config c3 = {0};
    c3.state_dir = state3;
    c3.job_id = "j1";
    c3.savepoint_path = sp;
    cr_assert_eq(sl_ckpt_open(&c3, &c, &err), SL_OK, "%s", err.msg);
    sl_ckpt_stats_get(c, &st);
    cr_assert_eq(st.last_id, 10);
    cr_assert_str_eq(st.restored_from, "savepoint");
    sl_ckpt_free(c);
    /* applied once: the next open uses the local state */
    cr_assert_eq(sl_ckpt_open(&c3, &c, &err), SL_OK, "%s", err.msg);
    sl_ckpt_stats_get(c, &st);
    cr_assert_str_eq(st.restored_from, "local");
    sl_ckpt_free(c);
    sl_free(sp);
    sl_test_tmpdir_remove(tmp);
}

Test(checkpoint, settings_errors)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    const char *sql =
        "SET 'execution.checkpointing.interval' = '1 s';"
        "CREATE TABLE s (id BIGINT) WITH ('connector'='datagen', "
        "'number-of-rows'='3');"
        "CREATE TABLE k (id BIGINT) WITH ('connector'='blackhole');"
        "INSERT INTO k SELECT id FROM s;";
    cr_assert_neq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK);
    cr_assert(strstr(sluice_errmsg(db), "state.dir"), "%s", sluice_errmsg(db));
    sluice_close(db);
}

/* ---- crash tests -------------------------------------------------------- */

Test(checkpoint, crash_datagen_to_filesystem, .timeout = 60)
{
    char *tmp = sl_test_tmpdir();
    char script[512], text[4096];
    snprintf(script, sizeof(script), "%s/job.sql", tmp);
    const int64_t n = 60000;
    snprintf(text, sizeof(text),
             "SET 'state.dir' = '%s/state';\n"
             "SET 'execution.checkpointing.interval' = '50 ms';\n"
             "SET 'pipeline.name' = 'crash-datagen';\n"
             "CREATE TABLE src (id BIGINT, name STRING) WITH ("
             "'connector'='datagen', 'rows-per-second'='50000', "
             "'fields.id.kind'='sequence', 'fields.id.start'='1', "
             "'fields.id.end'='%lld', 'fields.name.length'='8');\n"
             "CREATE TABLE dst (id BIGINT, twice BIGINT, name STRING) WITH ("
             "'connector'='filesystem', 'path'='%s/out/result.csv', "
             "'format'='csv');\n"
             "INSERT INTO dst SELECT id, id * 2, UPPER(name) FROM src "
             "WHERE id > 0;\n",
             tmp, (long long)n, tmp);
    cr_assert_eq(sl_test_write_file(script, text), 0);
    char out[600];
    snprintf(out, sizeof(out), "%s/out", tmp);
    mkdir(out, 0755);
    /* one output file: a resumed job appends ('sink.append') */
    crash_loop(script, out, n, 20, 40, 250);
    sl_test_tmpdir_remove(tmp);
}

Test(checkpoint, crash_filesystem_to_filesystem, .timeout = 60)
{
    char *tmp = sl_test_tmpdir();
    char script[512], text[4096], in[600], path[700];
    snprintf(in, sizeof(in), "%s/in", tmp);
    mkdir(in, 0755);
    const int64_t n = 600000; /* ~0.6 s uninterrupted */
    /* three input files: splits 0..2 */
    for (int f = 0; f < 3; f++) {
        snprintf(path, sizeof(path), "%s/part-%d.csv", in, f);
        FILE *fp = fopen(path, "w");
        cr_assert(fp);
        for (int64_t i = f * n / 3 + 1; i <= (f + 1) * n / 3; i++)
            fprintf(fp, "%lld,item-%lld\n", (long long)i, (long long)i);
        fclose(fp);
    }
    snprintf(script, sizeof(script), "%s/job.sql", tmp);
    snprintf(text, sizeof(text),
             "SET 'state.dir' = '%s/state';\n"
             "SET 'execution.checkpointing.interval' = '30 ms';\n"
             "SET 'sluice.batch-rows' = '256';\n"
             "CREATE TABLE src (id BIGINT, name STRING) WITH ("
             "'connector'='filesystem', 'path'='%s', 'format'='csv');\n"
             "CREATE TABLE dst (id BIGINT, name STRING) WITH ("
             "'connector'='filesystem', 'path'='%s/out/', 'format'='csv');\n"
             "INSERT INTO dst SELECT id, name || '!' FROM src;\n",
             tmp, in, tmp);
    cr_assert_eq(sl_test_write_file(script, text), 0);
    char out[600];
    snprintf(out, sizeof(out), "%s/out", tmp);
    crash_loop(script, out, n, 20, 20, 160);
    sl_test_tmpdir_remove(tmp);
}

/* ---- S3 ----------------------------------------------------------------- */

static sl_test_proc *start_s3rver(const char *dir, int *port)
{
    char bin[1024];
    snprintf(bin, sizeof(bin), "%s/.cache/npm/node_modules/.bin/s3rver",
             sl_test_source_dir());
    cr_assert(access(bin, X_OK) == 0,
              "%s missing: run scripts/install-deps.sh (npm install s3rver)",
              bin);
    const char *argv[] = {bin,         "-d", dir, "-a",
                          "127.0.0.1", "-p", "0", "--configure-bucket",
                          "ckpt",      NULL};
    char line[256] = "";
    sl_test_proc *p =
        sl_test_proc_start(argv, "listening on", 20000, line, sizeof(line));
    cr_assert(p, "s3rver did not start");
    const char *colon = strrchr(line, ':');
    cr_assert(colon, "no port in '%s'", line);
    *port = (int)strtol(colon + 1, NULL, 10);
    cr_assert(*port > 0);
    return p;
}

Test(checkpoint, restore_from_s3_on_fresh_state_dir, .timeout = 60)
{
    char *tmp = sl_test_tmpdir();
    char s3dir[600], script[600], text[4096], out[600];
    snprintf(s3dir, sizeof(s3dir), "%s/s3", tmp);
    mkdir(s3dir, 0755);
    int port = 0;
    sl_test_proc *s3 = start_s3rver(s3dir, &port);
    const int64_t n = 40000;
    snprintf(out, sizeof(out), "%s/out", tmp);
    snprintf(script, sizeof(script), "%s/job.sql", tmp);
    for (int run = 0; run < 4; run++) {
        /* every run on another "machine": an empty state.dir */
        snprintf(text, sizeof(text),
                 "SET 'state.dir' = '%s/state%d';\n"
                 "SET 'execution.checkpointing.interval' = '100 ms';\n"
                 "SET 'pipeline.name' = 's3-job';\n"
                 "SET 'state.checkpoints.dir' = 's3://ckpt/jobs';\n"
                 "SET 'sluice.checkpoints.full-every' = '4';\n"
                 "SET 's3.endpoint' = 'http://127.0.0.1:%d';\n"
                 "SET 's3.access-key' = 'S3RVER';\n"
                 "SET 's3.secret-key' = 'S3RVER';\n"
                 "SET 's3.region' = 'us-east-1';\n"
                 "CREATE TABLE src (id BIGINT) WITH ('connector'='datagen', "
                 "'rows-per-second'='20000', 'fields.id.kind'='sequence', "
                 "'fields.id.start'='1', 'fields.id.end'='%lld');\n"
                 "CREATE TABLE dst (id BIGINT) WITH ('connector'="
                 "'filesystem', 'path'='%s/', 'format'='csv');\n"
                 "INSERT INTO dst SELECT id FROM src;\n",
                 tmp, run, port, (long long)n, out);
        cr_assert_eq(sl_test_write_file(script, text), 0);
        if (run < 3) {
            run_and_kill(script, 600);
            continue;
        }
        /* the last run: its rows start after the restored position */
        tally before;
        count_dir(out, n, &before);
        sl_buf err;
        sl_buf_init(&err, 1 << 20);
        int rc = run_sluice(script, 40000, &err);
        cr_assert_eq(rc, 0, "final run failed: %s", sl_buf_cstr(&err));
        sl_buf_free(&err);
        tally after;
        count_dir(out, n, &after);
        cr_assert_eq(after.missing, 0, "%lld rows missing",
                     (long long)after.missing);
        cr_assert(before.rows > 0);
        /* restored: the final run wrote less than the whole input */
        cr_assert_lt(after.rows - before.rows, n,
                     "the final run re-read everything: no restore from S3");
        fprintf(stderr,
                "s3 restore: %lld rows before the last run, %lld after, %lld "
                "duplicates\n",
                (long long)before.rows, (long long)after.rows,
                (long long)after.dups);
        tally_free(&before);
        tally_free(&after);
    }
    sl_test_proc_stop(s3, SIGTERM, 3000);
    sl_test_tmpdir_remove(tmp);
}

/* ---- savepoints --------------------------------------------------------- */

typedef struct grab {
    char text[1024];
} grab;

static int grab_first(void *ctx, const sluice_row *row)
{
    grab *g = ctx;
    const char *t = sluice_row_text(row, 0);
    sl_strlcpy(g->text, t ? t : "", sizeof(g->text));
    return 0;
}

Test(checkpoint, stop_with_savepoint_and_resume, .timeout = 60)
{
    char *tmp = sl_test_tmpdir();
    char sql[4096], out[600];
    snprintf(out, sizeof(out), "%s/out", tmp);
    const int64_t n = 20000;
    char tables[2048];
    snprintf(tables, sizeof(tables),
             "CREATE TABLE src (id BIGINT) WITH ('connector'='datagen', "
             "'rows-per-second'='10000', 'fields.id.kind'='sequence', "
             "'fields.id.start'='1', 'fields.id.end'='%lld');"
             "CREATE TABLE dst (id BIGINT) WITH ('connector'='filesystem', "
             "'path'='%s/', 'format'='csv');",
             (long long)n, out);
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    snprintf(sql, sizeof(sql),
             "SET 'state.dir' = '%s/state';"
             "SET 'table.dml-sync' = 'false';"
             "SET 'pipeline.name' = 'sp-job';%s",
             tmp, tables);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    grab id = {""};
    cr_assert_eq(
        sluice_exec(db, "INSERT INTO dst SELECT id FROM src", grab_first, &id),
        SLUICE_OK, "%s", sluice_errmsg(db));
    cr_assert(id.text[0]);
    sleep_ms(500);
    grab path = {""};
    snprintf(sql, sizeof(sql), "STOP JOB '%s' WITH SAVEPOINT", id.text);
    cr_assert_eq(sluice_exec(db, sql, grab_first, &path), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    cr_assert(strstr(path.text, "/savepoints/sp-job-"), "%s", path.text);
    cr_assert(access(path.text, R_OK) == 0, "%s", path.text);
    sluice_close(db);
    tally mid;
    count_dir(out, n, &mid);
    cr_assert(mid.rows > 0 && mid.rows < n, "%lld", (long long)mid.rows);
    tally_free(&mid);

    /* a fresh state.dir started from the savepoint finishes the input */
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    snprintf(sql, sizeof(sql),
             "SET 'state.dir' = '%s/other-state';"
             "SET 'pipeline.name' = 'sp-job';"
             "SET 'execution.savepoint.path' = '%s';%s"
             "INSERT INTO dst SELECT id FROM src;",
             tmp, path.text, tables);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    sluice_close(db);
    tally end;
    count_dir(out, n, &end);
    cr_assert_eq(end.missing, 0);
    /* a graceful stop flushes and checkpoints everything it wrote */
    cr_assert_eq(end.dups, 0, "%lld duplicates", (long long)end.dups);
    tally_free(&end);
    sl_test_tmpdir_remove(tmp);
}

/* ---- model calls in flight ---------------------------------------------- */

/* A job with async model calls (mock OpenAI server, 20 ms per call, up to 32 in
 * flight, 32 allowed) killed 10 times: calls in flight at a kill are sent again
 * after the restore (their rows' positions were not acknowledged), so every row
 * gets its answer. */
Test(checkpoint, crash_with_model_calls_in_flight, .timeout = 60)
{
    const char *args[] = {"--latency-ms", "20", NULL};
    int port = 0;
    sl_test_proc *srv = sl_test_http_start(args, &port);
    cr_assert_not_null(srv);
    char *tmp = sl_test_tmpdir();
    char script[512], text[4096], out[600];
    snprintf(script, sizeof(script), "%s/job.sql", tmp);
    snprintf(out, sizeof(out), "%s/out", tmp);
    const int64_t n = 1500;
    snprintf(text, sizeof(text),
             "SET 'state.dir' = '%s/state';\n"
             "SET 'execution.checkpointing.interval' = '50 ms';\n"
             "CREATE TABLE src (id BIGINT, body STRING) WITH ("
             "'connector'='datagen', 'rows-per-second'='1500', "
             "'fields.id.kind'='sequence', 'fields.id.start'='1', "
             "'fields.id.end'='%lld', 'fields.body.length'='6');\n"
             "CREATE MODEL chat INPUT (prompt STRING) OUTPUT (answer STRING) "
             "WITH ('provider' = 'openai', 'endpoint' = "
             "'http://127.0.0.1:%d/v1/chat/completions', 'model' = 'mock', "
             "'api-key' = 'sk-test');\n"
             "CREATE TABLE dst (id BIGINT, answer STRING) WITH ("
             "'connector'='filesystem', 'path'='%s/', 'format'='csv');\n"
             "INSERT INTO dst SELECT id, answer FROM ML_PREDICT(TABLE src, "
             "MODEL chat, DESCRIPTOR(body), "
             "MAP['max-concurrent-operations', '32']);\n",
             tmp, (long long)n, port, out);
    cr_assert_eq(sl_test_write_file(script, text), 0);
    crash_loop(script, out, n, 10, 100, 600);
    sl_test_proc_stop(srv, SIGTERM, 5000);
    sl_test_tmpdir_remove(tmp);
}

/* ---- the job contract: seek, operator snapshot/restore ------------------ */

typedef struct csrc {
    sl_source base;
    int64_t next, end;
    int64_t seeked; /* -1: seek not called */
} csrc;

static int csrc_read(sl_source *src, sl_batch *b, sl_read_status *st,
                     sl_err *err)
{
    (void)err;
    csrc *s = (csrc *)src;
    *st = SL_READ_MORE;
    while (b->n_rows < b->cap_rows && s->next < s->end) {
        sl_value *v = sl_batch_append_row(b);
        v[0].kind = SL_V_INT;
        v[0].u.i = s->next;
        b->pos[b->n_rows - 1] = (sl_srcpos){0, s->next};
        s->next++;
    }
    if (s->next >= s->end && b->n_rows == 0)
        *st = SL_READ_EOF;
    return SL_OK;
}

static int csrc_seek(sl_source *src, const sl_srcpos *pos, int n, sl_err *err)
{
    (void)err;
    csrc *s = (csrc *)src;
    cr_assert_eq(n, 1);
    s->seeked = pos[0].offset;
    s->next = pos[0].offset + 1;
    return SL_OK;
}

static void csrc_close(sl_source *src)
{
    sl_free(src);
}

static const sl_source_ops csrc_ops = {
    .read = csrc_read, .seek = csrc_seek, .close = csrc_close};

/* Passes rows through and counts them; the count is its state. */
typedef struct cop {
    sl_operator base;
    sl_batch *held;
    int64_t count, restored;
} cop;

static int cop_push(sl_operator *op, const sl_batch *b, bool *acc, sl_err *e)
{
    (void)e;
    cop *c = (cop *)op;
    *acc = false;
    if (c->held->n_rows)
        return SL_OK;
    for (int r = 0; r < b->n_rows; r++) {
        sl_value *v = sl_batch_append_row(c->held);
        v[0] = b->values[r * b->n_cols];
        c->held->pos[c->held->n_rows - 1] = b->pos[r];
    }
    c->count += b->n_rows;
    *acc = true;
    return SL_OK;
}

static int cop_pull(sl_operator *op, sl_batch *out, sl_op_status *st, sl_err *e)
{
    (void)e;
    cop *c = (cop *)op;
    int r = 0;
    while (r < c->held->n_rows && out->n_rows < out->cap_rows) {
        sl_value *v = sl_batch_append_row(out);
        v[0] = c->held->values[r * c->held->n_cols];
        out->pos[out->n_rows - 1] = c->held->pos[r];
        r++;
    }
    cr_assert_eq(r, c->held->n_rows, "test batches fit");
    sl_batch_clear(c->held);
    *st = SL_OP_DRAINED;
    return SL_OK;
}

static int64_t cop_buffered(sl_operator *op)
{
    return ((cop *)op)->held->n_rows;
}

static int cop_snapshot(sl_operator *op, sqlite3 *db, const char *prefix,
                        sl_err *err)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE IF NOT EXISTS %scount(v INTEGER);"
             "DELETE FROM %scount; INSERT INTO %scount VALUES (%lld);",
             prefix, prefix, prefix, (long long)((cop *)op)->count);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sl_err_set(err, SL_IO, "%s", sqlite3_errmsg(db));
    return SL_OK;
}

static int cop_restore(sl_operator *op, sqlite3 *db, const char *prefix,
                       sl_err *err)
{
    (void)err;
    cop *c = (cop *)op;
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT v FROM %scount", prefix);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        c->count = c->restored = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return SL_OK;
}

static void cop_close(sl_operator *op)
{
    sl_batch_free(((cop *)op)->held);
    sl_free(op);
}

static const sl_operator_ops cop_ops = {
    .version = SL_OPERATOR_VERSION,
    .name = "counter",
    .push = cop_push,
    .pull = cop_pull,
    .buffered = cop_buffered,
    .close = cop_close,
    .snapshot = cop_snapshot,
    .restore = cop_restore,
};

static int count_rows(void *ctx, const sl_batch *b, const sl_schema *s)
{
    (void)s;
    *(int64_t *)ctx += b->n_rows;
    return 0;
}

/* Run end rows through source -> counter -> callback with checkpoints in
 * state; return the source's seek offset and the operator's restored
 * count. */
static void run_counted(const char *state, int64_t end, int64_t *seeked,
                        int64_t *restored, int64_t *rows)
{
    static sl_arena a;
    static const sl_schema *schema;
    if (!schema) {
        sl_arena_init(&a, 1024, 0);
        const char *names[] = {"id"};
        const sl_type *types[] = {sl_type_simple(SL_TYPE_BIGINT)};
        schema = sl_schema_new(&a, 1, names, types);
    }
    sl_err err;
    sl_err_clear(&err);
    sl_ckpt_config cfg = {0};
    cfg.state_dir = state;
    cfg.job_id = "contract";
    cfg.interval_ms = 5;
    sl_ckpt *ck = NULL;
    cr_assert_eq(sl_ckpt_open(&cfg, &ck, &err), SL_OK, "%s", err.msg);
    csrc *s = sl_calloc(1, sizeof(*s));
    s->base.ops = &csrc_ops;
    s->base.is_bounded = true;
    s->end = end;
    s->seeked = -1;
    cop *c = sl_calloc(1, sizeof(*c));
    c->base.ops = &cop_ops;
    c->base.in_schema = c->base.out_schema = schema;
    c->held = sl_batch_new(schema, 64);
    c->restored = -1;
    sqlite3 *jdb = NULL;
    cr_assert_eq(sl_job_db_open(&jdb, &err), SL_OK);
    sl_job_input in = {&s->base, schema, "src", 0, NULL, NULL, 0};
    sl_job_step step = {SL_STEP_OPERATOR, NULL, &c->base, NULL};
    sl_job_spec spec = {0};
    spec.name = "contract";
    spec.db = jdb;
    spec.n_inputs = 1;
    spec.inputs = &in;
    spec.n_steps = 1;
    spec.steps = &step;
    spec.out_schema = schema;
    spec.row_cb = count_rows;
    spec.row_ctx = rows;
    spec.batch_rows = 64;
    spec.ckpt = ck;
    sl_job *job = NULL;
    *rows = 0;
    cr_assert_eq(sl_job_new(&spec, &job, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_job_run(job, &err), SL_OK, "%s", err.msg);
    cr_assert(sl_job_checkpoints(job) >= 1);
    *seeked = s->seeked;
    *restored = c->restored;
    sl_job_free(job);
}

Test(checkpoint, job_contract_seek_snapshot_restore)
{
    char *tmp = sl_test_tmpdir();
    int64_t seeked, restored, rows;
    run_counted(tmp, 1000, &seeked, &restored, &rows);
    cr_assert_eq(seeked, -1); /* nothing to resume from */
    cr_assert_eq(restored, -1);
    cr_assert_eq(rows, 1000);
    /* the second run resumes after row 999 with the operator's count */
    run_counted(tmp, 1500, &seeked, &restored, &rows);
    cr_assert_eq(seeked, 999);
    cr_assert_eq(restored, 1000);
    cr_assert_eq(rows, 500);
    sl_test_tmpdir_remove(tmp);
}

/* ---- Kafka -> Kafka ----------------------------------------------------- */

static int collect_id(void *ctx, const sluice_row *row)
{
    tally *t = ctx;
    const char *v = sluice_row_text(row, 0);
    long long id = v ? strtoll(v, NULL, 10) : 0;
    if (id < 1 || id > t->n_ids) {
        t->bad++;
        return 0;
    }
    t->rows++;
    if (t->seen[id])
        t->dups++;
    if (t->seen[id] < 255)
        t->seen[id]++;
    return 0;
}

/* A Kafka (3 partitions) -> Kafka job killed 6 times: every input record
 * reaches the output topic at least once. Each run joins a fresh consumer
 * group (no 'properties.group.id'), so a killed member never delays the
 * next start; positions come from the checkpoint. */
Test(checkpoint, crash_kafka_to_kafka, .timeout = 60)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    rd_kafka_mock_cluster_t *mc = sl_test_broker_cluster(b);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "in", 3, 1), 0);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "out", 1, 1), 0);
    const int64_t n = 20000;
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    char sql[4096];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE g (id BIGINT) WITH ('connector'='datagen', "
             "'rows-per-second'='1000000', 'fields.id.kind'='sequence', "
             "'fields.id.start'='1', 'fields.id.end'='%lld');"
             "CREATE TABLE i (id BIGINT) WITH ('connector'='kafka', "
             "'topic'='in', 'properties.bootstrap.servers'='%s', "
             "'format'='json');"
             "INSERT INTO i SELECT id FROM g;",
             (long long)n, bs);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    sluice_close(db);

    char *tmp = sl_test_tmpdir();
    char script[512], text[4096];
    snprintf(script, sizeof(script), "%s/job.sql", tmp);
    snprintf(text, sizeof(text),
             "SET 'state.dir' = '%s/state';\n"
             "SET 'execution.checkpointing.interval' = '50 ms';\n"
             "SET 'pipeline.name' = 'k2k';\n"
             "SET 'sluice.batch-rows' = '100';\n"
             "CREATE TABLE i (id BIGINT) WITH ('connector'='kafka', "
             "'topic'='in', 'properties.bootstrap.servers'='%s', "
             "'scan.startup.mode'='earliest-offset', "
             "'scan.bounded.mode'='latest-offset', 'format'='json');\n"
             "CREATE TABLE o (id BIGINT, twice BIGINT) WITH ("
             "'connector'='kafka', 'topic'='out', "
             "'properties.bootstrap.servers'='%s', 'format'='json');\n"
             "INSERT INTO o SELECT id, id * 2 FROM i;\n",
             tmp, bs, bs);
    cr_assert_eq(sl_test_write_file(script, text), 0);
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    int64_t t0 = sl_mono_ns();
    /* a run needs ~1.5-4 s to join its group and get partitions: kill
     * between 1 and 4.5 s, so most kills land while records flow */
    int kills =
        getenv("CK_KILLS") ? (int)strtol(getenv("CK_KILLS"), NULL, 10) : 6;
    for (int k = 0; k < kills; k++)
        run_and_kill(script, 1000 + (int)(rand_r(&seed) % 3500));
    sl_buf err;
    sl_buf_init(&err, 1 << 20);
    int64_t t1 = sl_mono_ns();
    int rc = run_sluice(script, 40000, &err);
    cr_assert_eq(rc, 0, "final run failed (%d): %s", rc, sl_buf_cstr(&err));
    sl_buf_free(&err);
    fprintf(stderr, "kafka crash test: final run %.1f s\n",
            (double)(sl_mono_ns() - t1) / 1e9);

    tally t;
    memset(&t, 0, sizeof(t));
    t.n_ids = n;
    t.seen = calloc((size_t)n + 1, 1); /* sl: allow */
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    snprintf(sql, sizeof(sql),
             "CREATE TABLE o (id BIGINT, twice BIGINT) WITH ("
             "'connector'='kafka', 'topic'='out', "
             "'properties.bootstrap.servers'='%s', "
             "'scan.startup.mode'='earliest-offset', "
             "'scan.bounded.mode'='latest-offset', 'format'='json');"
             "SELECT id FROM o;",
             bs);
    cr_assert_eq(sluice_exec(db, sql, collect_id, &t), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    sluice_close(db);
    for (int64_t i = 1; i <= n; i++)
        if (!t.seen[i])
            t.missing++;
    fprintf(stderr,
            "kafka crash test: %d kills in %.1f s (seed %u): %lld records "
            "out, %lld duplicates, %lld missing\n",
            kills, (double)(sl_mono_ns() - t0) / 1e9, seed, (long long)t.rows,
            (long long)t.dups, (long long)t.missing);
    cr_assert_eq(t.bad, 0);
    cr_assert_eq(t.missing, 0, "%lld of %lld records missing (seed %u)",
                 (long long)t.missing, (long long)n, seed);
    tally_free(&t);
    sl_test_tmpdir_remove(tmp);
    sl_test_broker_stop(b);
}
