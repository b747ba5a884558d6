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
 * with other values. Exactly-once ('sink.delivery-guarantee' =
 * 'exactly-once', Kafka transactions committed after each checkpoint): the
 * committed output (what a read_committed reader gets; computed from the
 * sink's commit markers, see read_view) equals the crash-free run exactly.
 *
 * The input topic has one partition so the reference itself is
 * deterministic (no row is late: per-partition event time is disordered by
 * less than the watermark delay; with several partitions read at
 * different speeds, rows of a lagging partition may be late in one run
 * and not in another). Seed and kill count: CKW_SEED, CKW_KILLS. Each run
 * reads at once with 'scan.partition-assignment' = 'all' (no consumer
 * group join: 3 s per start on the mock cluster); tested on its own at the
 * end. Also: STOP JOB ... WITH SAVEPOINT of a windowed job and resume.
 */
#include <criterion/criterion.h>
#include <jansson.h>
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

/* Result lines (sorted), malformed ones, and for read_view the records
 * in the topic. */
typedef struct lines {
    sl_test_lines l;
    int bad;
    int raw; /* read_view: records in the topic, committed or not */
} lines;

static void lines_add(lines *l, const char *s)
{
    sl_test_lines_add(&l->l, s);
}

static void lines_free(lines *l)
{
    sl_test_lines_free(&l->l);
    memset(l, 0, sizeof(*l));
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
    sl_test_lines_sort(&out->l);
}

/* The job script: in -> TUMBLE(1 s) per key -> topic out. */
static void write_job(const char *path, const char *state, const char *name,
                      const char *bs, const char *out, bool bounded, bool eos)
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
             "'properties.bootstrap.servers'='%s', %s'format'='json');\n"
             "INSERT INTO o SELECT window_start, k, COUNT(*), SUM(v) FROM "
             "TABLE(TUMBLE(TABLE i, DESCRIPTOR(ts), INTERVAL '1' SECOND)) "
             "GROUP BY window_start, window_end, k;\n",
             state, getenv("CKW_INTERVAL") ? getenv("CKW_INTERVAL") : "50 ms",
             name, bs, bounded ? "'scan.bounded.mode'='latest-offset', " : "",
             out, bs,
             eos ? "'sink.delivery-guarantee'='exactly-once', "
                   "'sink.transactional-id-prefix'='win', "
                 : "");
    cr_assert_eq(sl_test_write_file(path, text), 0);
}

static int run_sluice(const char *script, int timeout_ms, sl_buf *err)
{
    const char *argv[] = {sl_test_sluice_bin(), "-f", script, NULL};
    return sl_test_run(argv, NULL, NULL, err, timeout_ms);
}

/* ---- exactly-once: what a read_committed reader sees ------------------ */

#define MARKERS "sluice-txn-markers"

static char *kcat_read(const char *bs, const char *topic, const char *fmt)
{
    sl_buf out;
    sl_buf_init(&out, 0);
    const char *argv[] = {"/usr/bin/kcat",
                          "-b",
                          bs,
                          "-t",
                          topic,
                          "-C",
                          "-e",
                          "-q",
                          "-o",
                          "beginning",
                          "-X",
                          "isolation.level=read_committed",
                          "-f",
                          fmt,
                          NULL};
    cr_assert_eq(sl_test_run(argv, NULL, &out, NULL, 30000), 0);
    return sl_buf_steal(&out);
}

/* The window results of topic as "ws|k|n|s" lines. tid non-NULL: only the
 * records inside the offset ranges of tid's commit markers (the Kafka
 * sink's exactly-once mode, connectors/kafka_txn.c): librdkafka's mock
 * cluster keeps no last stable offset, so read_committed returns aborted
 * records too; on a real broker a marker becomes visible atomically with
 * its transaction's records, so this is what read_committed returns
 * there (as in test_kafka_eos.c). */
static void read_view(const char *bs, const char *topic, const char *tid,
                      lines *out)
{
    enum { MAX_RANGES = 8192 };
    static long long ranges[MAX_RANGES][3];
    int n_ranges = 0;
    char *mk = tid ? kcat_read(bs, MARKERS, "%k\t%s\n") : NULL;
    for (char *line = mk; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *tab = strchr(line, '\t');
        if (tab && (size_t)(tab - line) == strlen(tid) &&
            !strncmp(line, tid, strlen(tid))) {
            json_t *obj = json_loads(tab + 1, 0, NULL);
            cr_assert(obj, "bad marker %s", tab + 1);
            size_t i;
            json_t *r;
            json_array_foreach(json_object_get(obj, "ranges"), i, r)
            {
                cr_assert(n_ranges < MAX_RANGES);
                for (int k = 0; k < 3; k++)
                    ranges[n_ranges][k] =
                        json_integer_value(json_array_get(r, (size_t)k));
                n_ranges++;
            }
            json_decref(obj);
        }
        line = nl ? nl + 1 : NULL;
    }
    free(mk); /* sl: allow */
    char *text = kcat_read(bs, topic, "%p %o %s\n");
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        int part;
        long long off;
        int used = 0;
        if (sscanf(line, "%d %lld %n", &part, &off, &used) == 2 && used > 0) {
            out->raw++;
            bool in = !tid;
            for (int i = 0; i < n_ranges && !in; i++)
                in = ranges[i][0] == part && off >= ranges[i][1] &&
                     off <= ranges[i][2];
            json_t *v = in ? json_loads(line + used, 0, NULL) : NULL;
            if (in && !v)
                out->bad++;
            if (v) {
                char buf[256];
                snprintf(
                    buf, sizeof(buf), "%s|%s|%lld|%lld",
                    json_string_value(json_object_get(v, "ws")),
                    json_string_value(json_object_get(v, "k")),
                    (long long)json_integer_value(json_object_get(v, "n")),
                    (long long)json_integer_value(json_object_get(v, "s")));
                lines_add(out, buf);
                json_decref(v);
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text); /* sl: allow */
    sl_test_lines_sort(&out->l);
}

/* Kafka -> TUMBLE -> Kafka killed `kills` times while the input is
 * produced, then a bounded last run; compared with a crash-free run.
 * eos: the sink is exactly-once and its committed view must equal the
 * reference exactly; else at-least-once (duplicates allowed). */
static void crash_test(bool eos)
{
    int64_t t0 = sl_mono_ns();
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    rd_kafka_mock_cluster_t *mc = sl_test_broker_cluster(b);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "in", 1, 1), 0);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "out", 1, 1), 0);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "ref", 1, 1), 0);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, MARKERS, 1, 1), 0);
    char *tmp = sl_test_tmpdir();
    char produce[512], job[512], last[512], ref[512], state[512], text[4096];
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
    write_job(job, state, "win", bs, "out", false, eos);
    write_job(last, state, "win", bs, "out", true, eos);
    char rstate[600];
    snprintf(rstate, sizeof(rstate), "%s/ref-state", tmp);
    write_job(ref, rstate, "ref", bs, "ref", true, false);

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
    cr_assert_eq(rc, 0, "reference run failed (%d): %s", rc, sl_buf_cstr(&err));

    sl_buf_free(&err);

    lines got = {0}, want = {0};
    if (eos) {
        read_view(bs, "out", "win-0", &got);
        read_view(bs, "ref", NULL, &want);
    } else {
        read_topic(bs, "out", &got);
        read_topic(bs, "ref", &want);
    }
    cr_assert_eq(got.bad + want.bad, 0);
    /* the reference: every row in exactly one window result */
    long long total = 0;
    for (int i = 0; i < want.l.n; i++) {
        const char *p = strrchr(want.l.v[i], '|');
        cr_assert(p);
        const char *q = p - 1;
        while (q > want.l.v[i] && *q != '|')
            q--;
        total += strtoll(q + 1, NULL, 10);
        if (i)
            cr_assert_str_neq(want.l.v[i], want.l.v[i - 1]);
    }
    cr_assert_eq(total, N_ROWS, "reference counts %lld rows", total);
    /* at-least-once: the same set of window results; duplicates allowed */
    int dups, missing, extra;
    sl_test_lines_diff("window crash test", &got.l, &want.l, &dups, &missing,
                       &extra);
    fprintf(stderr,
            "window crash test (%s): %d kills (seed %u), last run %.1f s, "
            "reference %.1f s, total %.1f s: %d window results, %d "
            "duplicates, %d missing, %d wrong\n",
            eos ? "exactly-once" : "at-least-once", kills, seed,
            (double)(t2 - t1) / 1e9, (double)(sl_mono_ns() - t2) / 1e9,
            (double)(sl_mono_ns() - t0) / 1e9, want.l.n, dups, missing, extra);
    if (eos)
        fprintf(stderr,
                "window crash test (exactly-once): %d records in the output "
                "topic, %d committed\n",
                got.raw, got.l.n);
    cr_assert_eq(missing, 0, "seed %u", seed);
    cr_assert_eq(extra, 0, "seed %u", seed);
    if (eos) /* the committed output equals the crash-free run exactly */
        cr_assert_eq(dups, 0, "seed %u", seed);
    lines_free(&got);
    lines_free(&want);
    sl_test_tmpdir_remove(tmp);
    sl_test_broker_stop(b);
}

Test(ckpt_crash, kafka_window_aggregate_20_kills, .timeout = 90)
{
    crash_test(false);
}

/* The same with 'sink.delivery-guarantee' = 'exactly-once': the committed
 * output (inside the commit markers) equals the crash-free run exactly. */
Test(ckpt_crash, kafka_window_aggregate_20_kills_exactly_once, .timeout = 90)
{
    crash_test(true);
}

/* ---- STOP JOB ... WITH SAVEPOINT of a windowed job ----------------------- */

static int grab_first(void *ctx, const sluice_row *row)
{
    const char *t = sluice_row_text(row, 0);
    sl_strlcpy(ctx, t ? t : "", 1024);
    return 0;
}

/* Parse "YYYY-MM-DD HH:MM:SS.mmm,n,s" lines of every file in dir into
 * per-second counts; returns the lines read. */
static int read_windows(const char *dir, int n_win, int *seen, long long *cnt,
                        long long *sum)
{
    int lines_read = 0;
    char cmd[800];
    snprintf(cmd, sizeof(cmd), "cat %s/* 2>/dev/null", dir);
    FILE *f = popen(cmd, "r");
    cr_assert(f);
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        int hh, mm, ss, ms;
        long long n, s;
        if (sscanf(line, "%*d-%*d-%*d %d:%d:%d.%d,%lld,%lld", &hh, &mm, &ss,
                   &ms, &n, &s) != 6)
            continue;
        int k = hh * 3600 + mm * 60 + ss;
        cr_assert(k >= 0 && k < n_win, "%s", line);
        seen[k]++;
        cnt[k] = n;
        sum[k] = s;
        lines_read++;
    }
    pclose(f);
    return lines_read;
}

/* A datagen -> TUMBLE -> filesystem job stopped with a savepoint while
 * windows are open, resumed from the savepoint with an empty state.dir:
 * the stop emits no open window (its partials go into the savepoint), so
 * every window is written once with its full count. */
Test(ckpt_crash, window_stop_with_savepoint_and_resume, .timeout = 60)
{
    char *tmp = sl_test_tmpdir();
    char sql[4096], out[600], tables[2048];
    snprintf(out, sizeof(out), "%s/out", tmp);
    const int n = 8000; /* 10 ms of event time each: 81 windows of 1 s */
    snprintf(tables, sizeof(tables),
             "CREATE TABLE src (id BIGINT, ts AS CAST(TO_TIMESTAMP_LTZ("
             "1704067200000 + id * 10, 3) AS TIMESTAMP(3)), WATERMARK FOR ts "
             "AS ts - INTERVAL '1' SECOND) WITH ('connector'='datagen', "
             "'rows-per-second'='4000', 'fields.id.kind'='sequence', "
             "'fields.id.start'='1', 'fields.id.end'='%d');"
             "CREATE TABLE dst (ws TIMESTAMP(3), n BIGINT, s BIGINT) WITH ("
             "'connector'='filesystem', 'path'='%s/', 'format'='csv');",
             n, out);
    const char *insert =
        "INSERT INTO dst SELECT window_start, COUNT(*), SUM(id) FROM "
        "TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' SECOND)) "
        "GROUP BY window_start, window_end";
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    snprintf(sql, sizeof(sql),
             "SET 'state.dir' = '%s/state';"
             "SET 'table.dml-sync' = 'false';"
             "SET 'pipeline.name' = 'wsp';%s",
             tmp, tables);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    char id[1024] = "", path[1024] = "";
    cr_assert_eq(sluice_exec(db, insert, grab_first, id), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    cr_assert(id[0]);
    sleep_ms(800);
    snprintf(sql, sizeof(sql), "STOP JOB '%s' WITH SAVEPOINT", id);
    cr_assert_eq(sluice_exec(db, sql, grab_first, path), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    cr_assert(path[0]);
    sluice_close(db);
    enum { N_WIN = 81 };
    int seen[N_WIN] = {0};
    long long cnt[N_WIN], sum[N_WIN];
    int mid = read_windows(out, N_WIN, seen, cnt, sum);
    cr_assert(mid > 0 && mid < N_WIN - 5, "%d windows before the stop", mid);

    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    snprintf(sql, sizeof(sql),
             "SET 'state.dir' = '%s/other-state';"
             "SET 'pipeline.name' = 'wsp';"
             "SET 'execution.savepoint.path' = '%s';%s%s;",
             tmp, path, tables, insert);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    sluice_close(db);
    memset(seen, 0, sizeof(seen));
    int all = read_windows(out, N_WIN, seen, cnt, sum);
    cr_assert_eq(all, N_WIN, "%d window results (%d before the stop)", all,
                 mid);
    for (int k = 0; k < N_WIN; k++) {
        long long lo = k * 100LL, hi = lo + 99;
        if (lo < 1)
            lo = 1;
        if (hi > n)
            hi = n;
        cr_assert_eq(seen[k], 1, "window %d written %d times", k, seen[k]);
        cr_assert_eq(cnt[k], hi - lo + 1, "window %d", k);
        cr_assert_eq(sum[k], (lo + hi) * (hi - lo + 1) / 2, "window %d", k);
    }
    sl_test_tmpdir_remove(tmp);
}

/* ---- 'scan.partition-assignment' = 'all' -------------------------------- */

static int count_rows_cb(void *ctx, const sluice_row *row)
{
    (void)row;
    (*(int *)ctx)++;
    return 0;
}

/* The source reads every partition itself (no group join): all records
 * of a 3-partition topic, at once; not with a topic pattern. */
Test(ckpt_crash, kafka_partition_assignment_all, .timeout = 30)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    rd_kafka_mock_cluster_t *mc = sl_test_broker_cluster(b);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "p3", 3, 1), 0);
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE g (id BIGINT) WITH ('connector'='datagen', "
             "'fields.id.kind'='sequence', 'fields.id.start'='1', "
             "'fields.id.end'='3000');"
             "CREATE TABLE w (id BIGINT) WITH ('connector'='kafka', "
             "'topic'='p3', 'properties.bootstrap.servers'='%s', "
             "'sink.partitioner'='round-robin', 'format'='json');"
             "INSERT INTO w SELECT id FROM g;"
             "CREATE TABLE r (id BIGINT) WITH ('connector'='kafka', "
             "'topic'='p3', 'properties.bootstrap.servers'='%s', "
             "'scan.startup.mode'='earliest-offset', "
             "'scan.bounded.mode'='latest-offset', "
             "'scan.partition-assignment'='all', 'format'='json');",
             bs, bs);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    int n = 0;
    int64_t t0 = sl_mono_ns();
    cr_assert_eq(sluice_exec(db, "SELECT id FROM r", count_rows_cb, &n),
                 SLUICE_OK, "%s", sluice_errmsg(db));
    cr_assert_eq(n, 3000);
    /* no 3 s group join on the mock cluster */
    cr_assert_lt(sl_mono_ns() - t0, INT64_C(2500000000));
    snprintf(sql, sizeof(sql),
             "CREATE TABLE t (id BIGINT) WITH ('connector'='kafka', "
             "'topic-pattern'='p.*', 'properties.bootstrap.servers'='%s', "
             "'scan.partition-assignment'='all', 'format'='json');"
             "SELECT id FROM t;",
             bs);
    cr_assert_neq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK);
    cr_assert(strstr(sluice_errmsg(db), "topic-pattern"), "%s",
              sluice_errmsg(db));
    sluice_close(db);
    sl_test_broker_stop(b);
}
