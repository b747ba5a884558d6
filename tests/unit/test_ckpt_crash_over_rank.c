/*
 * test_ckpt_crash_over_rank.c: crash tests of jobs with an OVER aggregate
 * (runtime/op_over.c) or a window Top-N / deduplication (runtime/op_rank.c)
 * and checkpoints: `sluice -f` runs of datagen (rate-limited, a sequence:
 * it resumes exactly after the recorded row) -> operator -> filesystem
 * (CSV, a new part file per run), killed with SIGKILL at random points
 * and restarted from state.dir until the input ends, compared with a
 * crash-free run of the same query.
 *
 * Event time is disordered by up to 280 ms, under the 1 s watermark delay:
 * no row is late, so the reference is deterministic. At-least-once: every
 * row of the reference is in the output with the same values; a row may
 * appear more than once (written after the last checkpoint before a
 * kill), never with other values. A line torn by a kill (the last line of
 * a part file without its newline) is ignored: it was written after the
 * last checkpoint and is written again.
 *
 * A TUMBLE aggregate feeding a Top-N is killed the same way. Also,
 * checkpoint progress while the operator holds rows: an OVER job
 * whose watermark never passes its rows still records source positions
 * (and the held rows), so a restart goes on from there; and a graceful
 * stop (SIGTERM) then resume writes every row exactly once.
 * Seed: CKO_SEED.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define N_ROWS 4000
#define RATE   2000 /* rows per second while the job is killed */

/* Result lines (sorted) and how many were torn (no line end). */
typedef struct lines {
    sl_test_lines l;
    int torn;
} lines;

static void lines_add(lines *l, const char *s, size_t len)
{
    char *c = sl_strndup(s, len);
    cr_assert(c);
    sl_test_lines_add(&l->l, c);
    sl_free(c);
}

static void lines_free(lines *l)
{
    sl_test_lines_free(&l->l);
    memset(l, 0, sizeof(*l));
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Every complete line of every file in dir, sorted. */
static void read_dir(const char *dir, lines *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return; /* nothing written yet */
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        size_t len = 0;
        char *text = sl_test_read_file(path, &len);
        cr_assert(text, "%s", path);
        size_t start = 0;
        for (size_t i = 0; i < len; i++)
            if (text[i] == '\n') {
                if (i > start)
                    lines_add(out, text + start, i - start);
                start = i + 1;
            }
        if (start < len)
            out->torn++;
        sl_free(text);
    }
    closedir(d);
    sl_test_lines_sort(&out->l);
}

/* The source: id 1..N_ROWS, 7 keys, v in 0..100, ts 10 ms a row
 * disordered by up to 280 ms; watermark delay wm_delay. rate 0: as fast
 * as possible. */
static void write_job(const char *path, const char *state, const char *name,
                      const char *out, int rate, const char *wm_delay,
                      const char *query)
{
    char rate_opt[64] = "";
    if (rate > 0)
        snprintf(rate_opt, sizeof(rate_opt), "'rows-per-second'='%d', ", rate);
    char text[8192];
    snprintf(text, sizeof(text),
             "SET 'state.dir' = '%s';\n"
             "SET 'execution.checkpointing.interval' = '50 ms';\n"
             "SET 'pipeline.name' = '%s';\n"
             "SET 'sluice.batch-rows' = '100';\n"
             "CREATE TABLE src (id BIGINT, k AS 'k' || CAST(MOD(id, 7) AS "
             "STRING), v AS CAST(MOD(id * 37, 101) AS BIGINT), ts AS "
             "CAST(TO_TIMESTAMP_LTZ(1704067200000 + id * 10 + MOD(id * 53, "
             "29) * 10, 3) AS TIMESTAMP(3)), WATERMARK FOR ts AS ts - "
             "INTERVAL %s) WITH ('connector'='datagen', %s"
             "'fields.id.kind'='sequence', 'fields.id.start'='1', "
             "'fields.id.end'='%d');\n"
             "CREATE TABLE dst (a STRING, b STRING, c STRING, d STRING) WITH "
             "('connector'='filesystem', 'path'='%s/', 'format'='csv');\n"
             "INSERT INTO dst SELECT CAST(a AS STRING), CAST(b AS STRING), "
             "CAST(c AS STRING), CAST(d AS STRING) FROM (%s);\n",
             state, name, wm_delay, rate_opt, N_ROWS, out, query);
    cr_assert_eq(sl_test_write_file(path, text), 0);
}

static int run_sluice(const char *script, int timeout_ms, sl_buf *err)
{
    const char *argv[] = {sl_test_sluice_bin(), "-f", script, NULL};
    return sl_test_run(argv, NULL, NULL, err, timeout_ms);
}

/* The crash-free run of query into <tmp>/ref. */
static void reference(const char *tmp, const char *wm_delay, const char *query,
                      lines *want)
{
    char script[600], state[600], out[600];
    snprintf(script, sizeof(script), "%s/ref.sql", tmp);
    snprintf(state, sizeof(state), "%s/ref-state", tmp);
    snprintf(out, sizeof(out), "%s/ref", tmp);
    write_job(script, state, "ref", out, 0, wm_delay, query);
    sl_buf err;
    sl_buf_init(&err, 1 << 20);
    int rc = run_sluice(script, 30000, &err);
    cr_assert_eq(rc, 0, "reference run failed (%d): %s", rc, sl_buf_cstr(&err));
    sl_buf_free(&err);
    read_dir(out, want);
    cr_assert_eq(want->torn, 0);
    for (int i = 1; i < want->l.n; i++)
        cr_assert_str_neq(want->l.v[i], want->l.v[i - 1],
                          "reference not unique");
}

/* query (columns a, b, c, d) killed `kills` times while the rate-limited
 * input flows, then run to the end; compared with a crash-free run. */
static void crash_test(const char *what, const char *query, int kills,
                       int max_dups_div)
{
    int64_t t0 = sl_mono_ns();
    char *tmp = sl_test_tmpdir();
    lines want = {0}, got = {0};
    reference(tmp, "'1' SECOND", query, &want);
    cr_assert(want.l.n > 50, "%s: reference has %d rows", what, want.l.n);
    char script[600], state[600], out[600];
    snprintf(script, sizeof(script), "%s/job.sql", tmp);
    snprintf(state, sizeof(state), "%s/state", tmp);
    snprintf(out, sizeof(out), "%s/out", tmp);
    write_job(script, state, "job", out, RATE, "'1' SECOND", query);
    unsigned seed = getenv("CKO_SEED")
                        ? (unsigned)strtoul(getenv("CKO_SEED"), NULL, 10)
                        : (unsigned)time(NULL) ^ (unsigned)getpid();
    /* the input takes N_ROWS / RATE s to produce; the kills spread over
     * the first 80% of it */
    int avg_ms = N_ROWS * 800 / RATE / kills;
    for (int k = 0; k < kills; k++) {
        const char *argv[] = {sl_test_sluice_bin(), "-f", script, NULL};
        sl_test_proc *p = sl_test_proc_start(argv, NULL, 0, NULL, 0);
        cr_assert(p, "cannot start sluice");
        sleep_ms(avg_ms / 2 + (int)(rand_r(&seed) % (unsigned)(avg_ms + 1)));
        sl_test_proc_stop(p, SIGKILL, 2000);
    }
    sl_buf err;
    sl_buf_init(&err, 1 << 20);
    int rc = run_sluice(script, 30000, &err);
    cr_assert_eq(rc, 0, "%s: last run failed (%d): %s", what, rc,
                 sl_buf_cstr(&err));
    sl_buf_free(&err);
    read_dir(out, &got);
    int dups, missing, extra;
    sl_test_lines_diff(what, &got.l, &want.l, &dups, &missing, &extra);
    fprintf(stderr,
            "%s crash test: %d kills (seed %u), %.1f s: %d rows, %d "
            "duplicates, %d missing, %d wrong, %d torn lines\n",
            what, kills, seed, (double)(sl_mono_ns() - t0) / 1e9, want.l.n,
            dups, missing, extra, got.torn);
    cr_assert_eq(missing, 0, "%s: seed %u", what, seed);
    cr_assert_eq(extra, 0, "%s: seed %u", what, seed);
    /* duplicates: only rows written after a kill's last checkpoint (one
     * interval, 50 ms, a kill). Without checkpointed state the held rows
     * hold acknowledgements back and most of the input is read again,
     * many more (a window Top-N emits a few rows a window, every 50 ms
     * here: the bound is looser). */
    cr_assert_leq(dups, want.l.n / max_dups_div, "%s: %d duplicates (seed %u)",
                  what, dups, seed);
    lines_free(&got);
    lines_free(&want);
    sl_test_tmpdir_remove(tmp);
}

Test(ckpt_crash_over_rank, over_rows_killed, .timeout = 60)
{
    crash_test("OVER ROWS",
               "SELECT id AS a, k AS b, SUM(v) OVER w AS c, "
               "MIN(v) OVER w AS d FROM src WINDOW w AS (PARTITION BY k "
               "ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)",
               6, 4);
}

Test(ckpt_crash_over_rank, over_range_killed, .timeout = 60)
{
    crash_test("OVER RANGE",
               "SELECT id AS a, k AS b, SUM(v) OVER w AS c, "
               "COUNT(*) OVER w AS d FROM src WINDOW w AS (PARTITION BY k "
               "ORDER BY ts RANGE BETWEEN INTERVAL '1' SECOND PRECEDING AND "
               "CURRENT ROW)",
               6, 4);
}

Test(ckpt_crash_over_rank, topn_killed, .timeout = 60)
{
    crash_test("Top-N",
               "SELECT window_start AS a, rownum AS b, id AS c, v AS d FROM "
               "(SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, "
               "window_end ORDER BY v DESC) AS rownum FROM TABLE(TUMBLE("
               "TABLE src, DESCRIPTOR(ts), INTERVAL '1' SECOND))) WHERE "
               "rownum <= 3",
               6, 2);
}

Test(ckpt_crash_over_rank, dedup_killed, .timeout = 60)
{
    crash_test("dedup",
               "SELECT window_start AS a, k AS b, id AS c, v AS d FROM "
               "(SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, "
               "window_end, k ORDER BY ts ASC) AS rn FROM TABLE(TUMBLE("
               "TABLE src, DESCRIPTOR(ts), INTERVAL '1' SECOND))) WHERE "
               "rn = 1",
               6, 2);
}

/* Two stateful operators in a chain: a TUMBLE aggregate, then a Top-2 of
 * its rows per window (both in every checkpoint; the aggregate hands its
 * output watermark to the rank operator). */
Test(ckpt_crash_over_rank, topn_over_window_aggregate_killed, .timeout = 60)
{
    crash_test("Top-N over aggregate",
               "SELECT window_start AS a, rownum AS b, k AS c, s AS d FROM "
               "(SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, "
               "window_end ORDER BY s DESC) AS rownum FROM (SELECT "
               "window_start, window_end, k, SUM(v) AS s FROM TABLE(TUMBLE("
               "TABLE src, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY "
               "window_start, window_end, k)) WHERE rownum <= 2",
               6, 2);
}

/* ---- checkpoint progress while rows are held --------------------------- */

static int64_t query_int(const char *db_path, const char *sql)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL),
                 SQLITE_OK, "%s", db_path);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s",
                 sqlite3_errmsg(db));
    int64_t v =
        sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* The job's state database (<state>/<job id>/state.db). */
static void state_db(const char *state, char *path, size_t size)
{
    DIR *d = opendir(state);
    cr_assert(d, "%s: no state", state);
    struct dirent *e;
    path[0] = '\0';
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && strcmp(e->d_name, "savepoints"))
            snprintf(path, size, "%s/%s/state.db", state, e->d_name);
    closedir(d);
    cr_assert(path[0]);
}

/* An OVER aggregate whose watermark (1 hour behind) never passes its rows
 * before the input ends: every row is held, yet checkpoints record the
 * source positions with the held rows. A restart after a kill goes on
 * from there (no row is read twice: the output, written only at the end,
 * equals the reference exactly). */
Test(ckpt_crash_over_rank, over_holding_rows_makes_progress, .timeout = 60)
{
    const char *query =
        "SELECT id AS a, k AS b, SUM(v) OVER w AS c, MAX(v) OVER w AS d "
        "FROM src WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 "
        "PRECEDING AND CURRENT ROW)";
    char *tmp = sl_test_tmpdir();
    lines want = {0}, got = {0};
    reference(tmp, "'1' HOUR", query, &want);
    cr_assert_eq(want.l.n, N_ROWS);
    char script[600], state[600], out[600], db[1200];
    snprintf(script, sizeof(script), "%s/job.sql", tmp);
    snprintf(state, sizeof(state), "%s/state", tmp);
    snprintf(out, sizeof(out), "%s/out", tmp);
    write_job(script, state, "hold", out, RATE, "'1' HOUR", query);
    const char *argv[] = {sl_test_sluice_bin(), "-f", script, NULL};
    sl_test_proc *p = sl_test_proc_start(argv, NULL, 0, NULL, 0);
    cr_assert(p, "cannot start sluice");
    sleep_ms(N_ROWS * 1000 / RATE / 2);
    sl_test_proc_stop(p, SIGKILL, 2000);
    state_db(state, db, sizeof(db));
    /* positions acknowledged while the operator held every row */
    int64_t pos = query_int(db, "SELECT max(offset) FROM positions");
    int64_t held = query_int(db, "SELECT count(*) FROM op0_rows");
    fprintf(stderr, "held rows: position %lld, %lld rows in the checkpoint\n",
            (long long)pos, (long long)held);
    cr_assert_gt(pos, N_ROWS / 8, "no checkpoint progress: %lld",
                 (long long)pos);
    cr_assert_lt(pos, N_ROWS - 1);
    cr_assert_eq(held, pos + 1, "the checkpoint holds every row read");
    sl_buf err;
    sl_buf_init(&err, 1 << 20);
    int rc = run_sluice(script, 30000, &err);
    cr_assert_eq(rc, 0, "last run failed (%d): %s", rc, sl_buf_cstr(&err));
    sl_buf_free(&err);
    read_dir(out, &got);
    int dups, missing, extra;
    sl_test_lines_diff("held rows", &got.l, &want.l, &dups, &missing, &extra);
    cr_assert_eq(missing + extra + dups, 0, "%d missing, %d wrong, %d dups",
                 missing, extra, dups);
    lines_free(&got);
    lines_free(&want);
    sl_test_tmpdir_remove(tmp);
}

/* A graceful stop (SIGTERM) of a Top-N job mid-stream, then resume: the
 * stop emits no open window (its rows go into the last checkpoint), so
 * every row is written exactly once. */
Test(ckpt_crash_over_rank, topn_stop_and_resume_exactly_once, .timeout = 60)
{
    const char *query =
        "SELECT window_start AS a, rownum AS b, id AS c, v AS d FROM "
        "(SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, "
        "window_end ORDER BY v DESC) AS rownum FROM TABLE(TUMBLE(TABLE src, "
        "DESCRIPTOR(ts), INTERVAL '1' SECOND))) WHERE rownum <= 3";
    char *tmp = sl_test_tmpdir();
    lines want = {0}, got = {0}, mid = {0};
    reference(tmp, "'1' SECOND", query, &want);
    char script[600], state[600], out[600];
    snprintf(script, sizeof(script), "%s/job.sql", tmp);
    snprintf(state, sizeof(state), "%s/state", tmp);
    snprintf(out, sizeof(out), "%s/out", tmp);
    write_job(script, state, "stop", out, RATE, "'1' SECOND", query);
    const char *argv[] = {sl_test_sluice_bin(), "-f", script, NULL};
    sl_test_proc *p = sl_test_proc_start(argv, NULL, 0, NULL, 0);
    cr_assert(p, "cannot start sluice");
    sleep_ms(N_ROWS * 1000 / RATE / 2);
    cr_assert_eq(sl_test_proc_stop(p, SIGTERM, 10000), 0);
    read_dir(out, &mid);
    cr_assert(mid.l.n > 0 && mid.l.n < want.l.n,
              "%d of %d rows before the stop", mid.l.n, want.l.n);
    sl_buf err;
    sl_buf_init(&err, 1 << 20);
    int rc = run_sluice(script, 30000, &err);
    cr_assert_eq(rc, 0, "resumed run failed (%d): %s", rc, sl_buf_cstr(&err));
    sl_buf_free(&err);
    read_dir(out, &got);
    int dups, missing, extra;
    sl_test_lines_diff("stop and resume", &got.l, &want.l, &dups, &missing,
                       &extra);
    cr_assert_eq(missing + extra + dups, 0, "%d missing, %d wrong, %d dups",
                 missing, extra, dups);
    lines_free(&got);
    lines_free(&want);
    lines_free(&mid);
    sl_test_tmpdir_remove(tmp);
}
