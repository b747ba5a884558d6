/*
 * test_ckpt_crash_window.c: the crash test of issue 9 for a stateful job:
 * Kafka -> windowed aggregate (TUMBLE over a WATERMARK) -> Kafka, killed
 * with SIGKILL at random points 20 times and restarted, then compared
 * with a crash-free run of the same job over the same input.
 *
 * A producer (`sluice -f` with a rate-limited datagen) writes the input
 * topic while the job is killed and restarted (unbounded source), so the
 * kills land while records flow, windows fire and checkpoints (every
 * 50 ms, aligned: operator.h unsaved) record the aggregate's partials with
 * the source positions. After the producer ends, a last run with a
 * bounded source finishes the input. The reference is one bounded run
 * into another topic. At-least-once: every window result of the reference
 * is in the output with the same values; a window may appear more than
 * once (a kill after the sink wrote it and before the checkpoint), never
 * with other values.
 *
 * The input topic has one partition so the reference itself is
 * deterministic (no row is late: per-partition event time is disordered by
 * less than the watermark delay; with several partitions read at
 * different speeds, rows of a lagging partition may be late in one run
 * and not in another). Seed and kill count: CKW_SEED, CKW_KILLS.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "sluice.h"

#define N_ROWS 10000
#define RATE   500 /* rows per second from the producer */

typedef struct lines {
    char **v;
    int n, cap;
    int bad;
} lines;

static void lines_add(lines *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->v = sl_realloc(l->v, (size_t)l->cap * sizeof(char *));
        cr_assert(l->v);
    }
    l->v[l->n++] = sl_strdup(s);
}

static void lines_free(lines *l)
{
    for (int i = 0; i < l->n; i++)
        sl_free(l->v[i]);
    sl_free(l->v);
    memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect(void *ctx, const sluice_row *row)
{
    lines *l = ctx;
    char line[256];
    const char *v[4];
    for (int i = 0; i < 4; i++) {
        v[i] = sluice_row_text(row, i);
        if (!v[i]) {
            l->bad++;
            return 0;
        }
    }
    snprintf(line, sizeof(line), "%s|%s|%s|%s", v[0], v[1], v[2], v[3]);
    lines_add(l, line);
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void read_topic(const char *bs, const char *topic, lines *out)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE o (ws TIMESTAMP(3), k STRING, n BIGINT, s BIGINT) "
             "WITH ('connector'='kafka', 'topic'='%s', "
             "'properties.bootstrap.servers'='%s', "
             "'scan.startup.mode'='earliest-offset', "
             "'scan.partition-assignment'='all', "
             "'scan.bounded.mode'='latest-offset', 'format'='json');"
             "SELECT ws, k, n, s FROM o;",
             topic, bs);
    cr_assert_eq(sluice_exec(db, sql, collect, out), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    sluice_close(db);
    qsort(out->v, (size_t)out->n, sizeof(char *), cmp_str);
}

/* The job script: in -> TUMBLE(1 s) per key -> topic out. */
static void write_job(const char *path, const char *state, const char *name,
                      const char *bs, const char *out, bool bounded)
{
    char text[4096];
    snprintf(text, sizeof(text),
             "SET 'state.dir' = '%s';\n"
             "SET 'execution.checkpointing.interval' = '%s';\n"
             "SET 'pipeline.name' = '%s';\n"
             "SET 'sluice.batch-rows' = '100';\n"
             "CREATE TABLE i (id BIGINT, k STRING, v INT, ts TIMESTAMP(3), "
             "WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ("
             "'connector'='kafka', 'topic'='in', "
             "'properties.bootstrap.servers'='%s', "
             "'scan.startup.mode'='earliest-offset', "
             "'scan.partition-assignment'='all', %s'format'='json');\n"
             "CREATE TABLE o (ws TIMESTAMP(3), k STRING, n BIGINT, s BIGINT) "
             "WITH ('connector'='kafka', 'topic'='%s', "
             "'properties.bootstrap.servers'='%s', 'format'='json');\n"
             "INSERT INTO o SELECT window_start, k, COUNT(*), SUM(v) FROM "
             "TABLE(TUMBLE(TABLE i, DESCRIPTOR(ts), INTERVAL '1' SECOND)) "
             "GROUP BY window_start, window_end, k;\n",
             state,
             getenv("CKW_INTERVAL") ? getenv("CKW_INTERVAL") : "50 ms", name,
             bs, bounded ? "'scan.bounded.mode'='latest-offset', "
                                      : "",
             out, bs);
    cr_assert_eq(sl_test_write_file(path, text), 0);
}

static int run_sluice(const char *script, int timeout_ms, sl_buf *err)
{
    const char *argv[] = {sl_test_sluice_bin(), "-f", script, NULL};
    return sl_test_run(argv, NULL, NULL, err, timeout_ms);
}

Test(ckpt_crash, kafka_window_aggregate_20_kills, .timeout = 90)
{
    int64_t t0 = sl_mono_ns();
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    rd_kafka_mock_cluster_t *mc = sl_test_broker_cluster(b);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "in", 1, 1), 0);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "out", 1, 1), 0);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "ref", 1, 1), 0);
    char *tmp = sl_test_tmpdir();
    char produce[512], job[512], last[512], ref[512], state[512],
        text[4096];
    snprintf(produce, sizeof(produce), "%s/produce.sql", tmp);
    snprintf(job, sizeof(job), "%s/job.sql", tmp);
    snprintf(last, sizeof(last), "%s/last.sql", tmp);
    snprintf(ref, sizeof(ref), "%s/ref.sql", tmp);
    snprintf(state, sizeof(state), "%s/state", tmp);
    /* event time 10 ms a row, disordered by up to 290 ms (< the 1 s
     * watermark delay: no row is late), 7 keys */
    snprintf(text, sizeof(text),
             "CREATE TABLE g (id BIGINT) WITH ('connector'='datagen', "
             "'rows-per-second'='%d', 'fields.id.kind'='sequence', "
             "'fields.id.start'='1', 'fields.id.end'='%d');\n"
             "CREATE TABLE i (id BIGINT, k STRING, v INT, ts TIMESTAMP(3)) "
             "WITH ('connector'='kafka', 'topic'='in', "
             "'properties.bootstrap.servers'='%s', 'format'='json');\n"
             "INSERT INTO i SELECT id, 'k' || CAST(MOD(id, 7) AS STRING), "
             "CAST(MOD(id * 37, 101) AS INT), CAST(TO_TIMESTAMP_LTZ("
             "1704067200000 + id * 10 + MOD(id * 53, 29) * 10, 3) AS "
             "TIMESTAMP(3)) FROM g;\n",
             RATE, N_ROWS, bs);
    cr_assert_eq(sl_test_write_file(produce, text), 0);
    write_job(job, state, "win", bs, "out", false);
    write_job(last, state, "win", bs, "out", true);
    char rstate[600];
    snprintf(rstate, sizeof(rstate), "%s/ref-state", tmp);
    write_job(ref, rstate, "ref", bs, "ref", true);

    const char *pargv[] = {sl_test_sluice_bin(), "-f", produce, NULL};
    sl_test_proc *producer = sl_test_proc_start(pargv, NULL, 0, NULL, 0);
    cr_assert(producer, "cannot start the producer");
    unsigned seed = getenv("CKW_SEED")
                        ? (unsigned)strtoul(getenv("CKW_SEED"), NULL, 10)
                        : (unsigned)time(NULL) ^ (unsigned)getpid();
    int kills =
        getenv("CKW_KILLS") ? (int)strtol(getenv("CKW_KILLS"), NULL, 10) : 20;
    /* production takes N_ROWS / RATE s; the kills spread over it */
    int span_ms = N_ROWS / RATE * 1000;
    int avg_ms = kills > 0 ? span_ms / kills : 0;
    for (int k = 0; k < kills; k++) {
        const char *argv[] = {sl_test_sluice_bin(), "-f", job, NULL};
        sl_test_proc *p = sl_test_proc_start(argv, NULL, 0, NULL, 0);
        cr_assert(p, "cannot start sluice");
        sleep_ms(avg_ms / 2 + (int)(rand_r(&seed) % (unsigned)(avg_ms + 1)));
        sl_test_proc_stop(p, SIGKILL, 2000);
    }
    sl_buf err;
    sl_buf_init(&err, 1 << 20);
    int rc = sl_test_proc_stop(producer, 0, 60000); /* wait for its end */
    cr_assert_eq(rc, 0, "producer failed (%d)", rc);
    int64_t t1 = sl_mono_ns();
    rc = run_sluice(last, 30000, &err);
    cr_assert_eq(rc, 0, "last run failed (%d): %s", rc, sl_buf_cstr(&err));
    int64_t t2 = sl_mono_ns();
    sl_buf_reset(&err);
    rc = run_sluice(ref, 30000, &err);
    cr_assert_eq(rc, 0, "reference run failed (%d): %s", rc,
                 sl_buf_cstr(&err));

    sl_buf_free(&err);

    lines got = {0}, want = {0};
    read_topic(bs, "out", &got);
    read_topic(bs, "ref", &want);
    cr_assert_eq(got.bad + want.bad, 0);
    /* the reference: every row in exactly one window result */
    long long total = 0;
    for (int i = 0; i < want.n; i++) {
        const char *p = strrchr(want.v[i], '|');
        cr_assert(p);
        const char *q = p - 1;
        while (q > want.v[i] && *q != '|')
            q--;
        total += strtoll(q + 1, NULL, 10);
        if (i)
            cr_assert_str_neq(want.v[i], want.v[i - 1]);
    }
    cr_assert_eq(total, N_ROWS, "reference counts %lld rows", total);
    /* at-least-once: the same set of window results; duplicates allowed */
    int dups = 0, missing = 0, extra = 0, j = 0;
    for (int i = 0; i < got.n; i++) {
        if (i && !strcmp(got.v[i], got.v[i - 1])) {
            dups++;
            continue;
        }
        while (j < want.n && strcmp(want.v[j], got.v[i]) < 0) {
            fprintf(stderr, "missing: %s\n", want.v[j]);
            j++, missing++;
        }
        if (j < want.n && !strcmp(want.v[j], got.v[i]))
            j++;
        else if (extra++ < 20)
            fprintf(stderr, "not in the reference: %s\n", got.v[i]);
    }
    for (; j < want.n; j++, missing++)
        fprintf(stderr, "missing: %s\n", want.v[j]);
    fprintf(stderr,
            "window crash test: %d kills (seed %u), last run %.1f s, "
            "reference %.1f s, total %.1f s: %d window results, %d "
            "duplicates, %d missing, %d wrong\n",
            kills, seed, (double)(t2 - t1) / 1e9,
            (double)(sl_mono_ns() - t2) / 1e9,
            (double)(sl_mono_ns() - t0) / 1e9, want.n, dups, missing, extra);
    cr_assert_eq(missing, 0, "seed %u", seed);
    cr_assert_eq(extra, 0, "seed %u", seed);
    lines_free(&got);
    lines_free(&want);
    sl_test_tmpdir_remove(tmp);
    sl_test_broker_stop(b);
}
