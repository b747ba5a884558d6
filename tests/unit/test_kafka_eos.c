/*
 * test_kafka_eos.c: the Kafka sink's exactly-once mode
 * ('sink.delivery-guarantee' = 'exactly-once', connectors/kafka_txn.c)
 * against librdkafka's mock cluster over TCP, read back with kcat.
 *
 * What a read_committed reader sees is computed here, not by the broker:
 * librdkafka's mock cluster (2.0.2) accepts InitProducerId, AddPartitions,
 * EndTxn and so on but writes no transaction control records and keeps no
 * last stable offset, so `kcat -X isolation.level=read_committed` returns
 * every record, aborted or open ones too (checked by mock_has_no_lso). The
 * committed view therefore keeps the records that lie inside the offset
 * ranges of the commit markers of our transactional.id: on a real broker a
 * marker becomes visible atomically with the records of its transaction,
 * so this is the set read_committed returns there.
 *
 *   - option errors (no prefix; no checkpoints);
 *   - abort and recovery through the sink API with a state database file:
 *     a committed epoch, an aborted one (sink closed), and a process killed
 *     between the checkpoint's SQLite commit and the Kafka commit, whose
 *     epoch recovery writes again from the outbox;
 *   - a Kafka -> Kafka `sluice -f` job killed with SIGKILL at random
 *     points, restarted, whose committed output equals the input exactly.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sluice.h"
#include "test_kafka_util.h"

static const char *kcat = "/usr/bin/kcat";
#define MARKERS "sluice-txn-markers"

static char *kcat_read(const char *bs, const char *topic, const char *fmt)
{
    sl_buf out;
    sl_buf_init(&out, 0);
    const char *argv[] = {
        kcat, "-b", bs,   "-t",        topic, "-C",
        "-e", "-q", "-o", "beginning", "-X",  "isolation.level=read_committed",
        "-f", fmt,  NULL};
    cr_assert_eq(sl_test_run(argv, NULL, &out, NULL, 30000), 0);
    return sl_buf_steal(&out);
}

typedef struct range {
    int part;
    long long lo, hi;
} range;

typedef struct view {
    int64_t n_ids;
    int *seen;              /* committed records per id */
    int64_t raw, committed; /* records read / inside committed ranges */
    int64_t dups, missing, extra, markers;
    int64_t recovered; /* markers of epochs written again from the outbox */
} view;

/* Count ids (JSON field "id") of topic's records: all, and those inside the
 * ranges of tid's markers. */
static void read_view(const char *bs, const char *topic, const char *tid,
                      int64_t n_ids, view *v)
{
    memset(v, 0, sizeof(*v));
    v->n_ids = n_ids;
    v->seen = calloc((size_t)n_ids + 1, sizeof(int)); /* sl: allow */
    range ranges[4096];
    int n_ranges = 0;
    char *mk = kcat_read(bs, MARKERS, "%k\t%s\n");
    for (char *line = mk; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *tab = strchr(line, '\t');
        if (tab && (size_t)(tab - line) == strlen(tid) &&
            !strncmp(line, tid, strlen(tid))) {
            json_t *obj = json_loads(tab + 1, 0, NULL);
            cr_assert(obj, "bad marker %s", tab + 1);
            json_t *rs = json_object_get(obj, "ranges");
            size_t i;
            json_t *r;
            json_array_foreach(rs, i, r)
            {
                cr_assert(n_ranges < 4096);
                ranges[n_ranges].part =
                    (int)json_integer_value(json_array_get(r, 0));
                ranges[n_ranges].lo = json_integer_value(json_array_get(r, 1));
                ranges[n_ranges].hi = json_integer_value(json_array_get(r, 2));
                n_ranges++;
            }
            if (json_is_true(json_object_get(obj, "recovered")))
                v->recovered++;
            json_decref(obj);
            v->markers++;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(mk); /* sl: allow */
    char *out = kcat_read(bs, topic, "%p %o %s\n");
    for (char *line = out; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        int part;
        long long off;
        const char *id = strstr(line, "\"id\":");
        if (sscanf(line, "%d %lld", &part, &off) == 2 && id) {
            long long x = strtoll(id + 5, NULL, 10);
            v->raw++;
            bool in = false;
            for (int i = 0; i < n_ranges && !in; i++)
                in = ranges[i].part == part && off >= ranges[i].lo &&
                     off <= ranges[i].hi;
            if (in) {
                v->committed++;
                if (x < 1 || x > n_ids)
                    v->extra++;
                else if (v->seen[x]++)
                    v->dups++;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    free(out); /* sl: allow */
}

static void view_free(view *v)
{
    free(v->seen); /* sl: allow */
}

/* ---- option errors ------------------------------------------------------ */

Test(kafka_eos, option_errors, .timeout = 30)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    kt_topic(b, "o1", 1);
    const char *cols[] = {"id BIGINT", NULL};
    const char *no_prefix[] = {"connector",
                               "kafka",
                               "topic",
                               "o1",
                               "format",
                               "json",
                               "properties.bootstrap.servers",
                               bs,
                               "sink.delivery-guarantee",
                               "exactly-once",
                               NULL};
    kt_table *t = kt_table_new(cols, no_prefix);
    const sl_connector *c = sl_connector_find("kafka");
    sl_sink *sink = NULL;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_neq(c->open_sink(&t->info, &sink, &err), SL_OK);
    cr_assert(strstr(err.msg, "sink.transactional-id-prefix"), "%s", err.msg);
    kt_table_free(t);

    /* a prefix but no checkpoints: write() says what to set */
    const char *opts[] = {"connector",
                          "kafka",
                          "topic",
                          "o1",
                          "format",
                          "json",
                          "properties.bootstrap.servers",
                          bs,
                          "sink.delivery-guarantee",
                          "exactly-once",
                          "sink.transactional-id-prefix",
                          "nockpt",
                          NULL};
    t = kt_table_new(cols, opts);
    sink = kt_open_sink(t);
    sl_batch *batch = sl_batch_new(t->info.schema, 4);
    sl_value *row = sl_batch_append_row(batch);
    row[0].kind = SL_V_INT;
    row[0].u.i = 1;
    sl_err_clear(&err);
    cr_assert_neq(sink->ops->write(sink, batch, 1, &err), SL_OK);
    cr_assert(strstr(err.msg, "state.dir"), "%s", err.msg);
    sink->ops->close(sink);
    sl_batch_free(batch);
    kt_table_free(t);
    sl_test_broker_stop(b);
}

/* ---- the sink API: commit, abort, crash between the commits ------------- */

static void write_ids(sl_sink *sink, const sl_schema *schema, int64_t from,
                      int64_t to, uint64_t seq)
{
    sl_batch *batch = sl_batch_new(schema, (int)(to - from + 1));
    for (int64_t i = from; i <= to; i++) {
        sl_value *row = sl_batch_append_row(batch);
        row[0].kind = SL_V_INT;
        row[0].u.i = i;
    }
    kt_write(sink, batch, seq, 10000);
    sl_batch_free(batch);
}

static sqlite3 *open_state(const char *path)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    return db;
}

static void restore(sl_sink *sink, sqlite3 *db)
{
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sink->ops->restore(sink, db, "snk_", &err), SL_OK, "%s",
                 err.msg);
}

/* What job.c does at a checkpoint: flush, snapshot inside the SQLite
 * transaction, commit it, then checkpoint_committed (unless crash). */
static void checkpoint(sl_sink *sink, sqlite3 *db, bool kafka_commit)
{
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sink->ops->flush(sink, 10000, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(sink->ops->snapshot(sink, db, "snk_", &err), SL_OK, "%s",
                 err.msg);
    cr_assert_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    if (kafka_commit)
        cr_assert_eq(sink->ops->checkpoint_committed(sink, &err), SL_OK, "%s",
                     err.msg);
}

static void expect_ids(const char *bs, const char *tid, int64_t n,
                       const int64_t *want_from, const int64_t *want_to,
                       int n_spans)
{
    view v;
    read_view(bs, "o2", tid, n, &v);
    for (int64_t i = 1; i <= n; i++) {
        int want = 0;
        for (int s = 0; s < n_spans; s++)
            if (i >= want_from[s] && i <= want_to[s])
                want = 1;
        cr_assert_eq(v.seen[i], want, "id %lld: seen %d committed, want %d",
                     (long long)i, v.seen[i], want);
    }
    cr_assert_eq(v.extra, 0);
    view_free(&v);
}

Test(kafka_eos, abort_and_recover_between_commits, .timeout = 60)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    kt_topic(b, "o2", 2);
    kt_topic(b, MARKERS, 1);
    char *tmp = sl_test_tmpdir();
    char path[512];
    snprintf(path, sizeof(path), "%s/state.db", tmp);
    const char *cols[] = {"id BIGINT", NULL};
    const char *opts[] = {"connector",
                          "kafka",
                          "topic",
                          "o2",
                          "format",
                          "json",
                          "properties.bootstrap.servers",
                          bs,
                          "sink.delivery-guarantee",
                          "exactly-once",
                          "sink.transactional-id-prefix",
                          "api",
                          NULL};
    kt_table *t = kt_table_new(cols, opts);

    /* epoch 1 committed (1..100); epoch 2 (101..200) aborted by close */
    sqlite3 *db = open_state(path);
    sl_sink *sink = kt_open_sink(t);
    restore(sink, db);
    write_ids(sink, t->info.schema, 1, 100, 1);
    checkpoint(sink, db, true);
    write_ids(sink, t->info.schema, 101, 200, 2);
    sink->ops->close(sink);
    sqlite3_close(db);
    int64_t f1[] = {1}, t1[] = {100};
    expect_ids(bs, "api-0", 400, f1, t1, 1);

    /* a restarted sink finds epoch 1 committed and goes on (201..300) */
    db = open_state(path);
    sink = kt_open_sink(t);
    restore(sink, db);
    write_ids(sink, t->info.schema, 201, 300, 1);
    checkpoint(sink, db, true);
    sink->ops->close(sink);
    sqlite3_close(db);
    int64_t f2[] = {1, 201}, t2[] = {100, 300};
    expect_ids(bs, "api-0", 400, f2, t2, 2);

    /* a process killed after the checkpoint's SQLite commit and before
     * the Kafka commit (301..400): nothing of it is committed ... */
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        sqlite3 *cdb = open_state(path);
        sl_sink *s = kt_open_sink(t);
        restore(s, cdb);
        write_ids(s, t->info.schema, 301, 400, 1);
        checkpoint(s, cdb, false);
        kill(getpid(), SIGKILL);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status), "child did not die by SIGKILL");
    expect_ids(bs, "api-0", 400, f2, t2, 2);
    /* ... until recovery writes the prepared epoch again from the outbox */
    db = open_state(path);
    sink = kt_open_sink(t);
    restore(sink, db);
    sink->ops->close(sink);
    sqlite3_close(db);
    int64_t f3[] = {1, 201}, t3[] = {100, 400};
    expect_ids(bs, "api-0", 400, f3, t3, 2);
    /* and a second recovery does not write it a third time */
    db = open_state(path);
    sink = kt_open_sink(t);
    restore(sink, db);
    sink->ops->close(sink);
    sqlite3_close(db);
    expect_ids(bs, "api-0", 400, f3, t3, 2);

    view v;
    read_view(bs, "o2", "api-0", 400, &v);
    fprintf(stderr,
            "kafka eos api: %lld records in the topic, %lld committed, "
            "%lld markers\n",
            (long long)v.raw, (long long)v.committed, (long long)v.markers);
    /* the mock keeps aborted records visible (no LSO): 101..200 and the
     * first copy of 301..400 are in the topic but outside the markers */
    cr_assert_eq(v.raw, 500);
    cr_assert_eq(v.committed, 300);
    cr_assert_eq(v.recovered, 1);
    view_free(&v);
    kt_table_free(t);
    sl_test_tmpdir_remove(tmp);
    sl_test_broker_stop(b);
}

/* The mock cluster's limit the view above works around, pinned down so a
 * librdkafka upgrade that adds control records shows up here. */
Test(kafka_eos, mock_has_no_lso, .timeout = 30)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    kt_topic(b, "o2", 1);
    kt_topic(b, MARKERS, 1);
    const char *cols[] = {"id BIGINT", NULL};
    const char *opts[] = {"connector",
                          "kafka",
                          "topic",
                          "o2",
                          "format",
                          "json",
                          "properties.bootstrap.servers",
                          bs,
                          "sink.delivery-guarantee",
                          "exactly-once",
                          "sink.transactional-id-prefix",
                          "lso",
                          NULL};
    kt_table *t = kt_table_new(cols, opts);
    sl_sink *sink = kt_open_sink(t);
    restore(sink, NULL);
    write_ids(sink, t->info.schema, 1, 10, 1);
    sink->ops->close(sink); /* aborts */
    view v;
    read_view(bs, "o2", "lso-0", 10, &v);
    cr_assert_eq(v.committed, 0);
    cr_assert_eq(v.raw, 10,
                 "the mock cluster now hides aborted records: "
                 "use kcat's read_committed view directly");
    view_free(&v);
    kt_table_free(t);
    sl_test_broker_stop(b);
}

/* ---- crash test: Kafka -> Kafka, SIGKILL at random points --------------- */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Fill topic 'in' (3 partitions) with ids 1..n and write the job script:
 * in -> o2 (exactly-once, prefix prefix), checkpoints every interval. */
/* batch_rows bounds how much a checkpoint interval carries: the sink
 * acknowledges only at checkpoints, and the job keeps at most 64 batches
 * unacknowledged (SL_JOB_DEFAULT_UNACKED). */
static void k2k_setup(sl_test_broker *b, int64_t n, const char *dir,
                      const char *prefix, const char *interval, int batch_rows,
                      char *script, size_t script_len)
{
    const char *bs = sl_test_broker_bootstraps(b);
    rd_kafka_mock_cluster_t *mc = sl_test_broker_cluster(b);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "in", 3, 1), 0);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "o2", 2, 1), 0);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, MARKERS, 1, 1), 0);
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
    char text[4096];
    snprintf(script, script_len, "%s/job.sql", dir);
    snprintf(text, sizeof(text),
             "SET 'state.dir' = '%s/state';\n"
             "SET 'execution.checkpointing.interval' = '%s';\n"
             "SET 'pipeline.name' = 'eos';\n"
             "SET 'sluice.batch-rows' = '%d';\n"
             "CREATE TABLE i (id BIGINT) WITH ('connector'='kafka', "
             "'topic'='in', 'properties.bootstrap.servers'='%s', "
             "'scan.startup.mode'='earliest-offset', "
             "'scan.bounded.mode'='latest-offset', 'format'='json');\n"
             "CREATE TABLE o (id BIGINT, twice BIGINT) WITH ("
             "'connector'='kafka', 'topic'='o2', "
             "'properties.bootstrap.servers'='%s', 'format'='json', "
             "'sink.delivery-guarantee'='exactly-once', "
             "'sink.transactional-id-prefix'='%s');\n"
             "INSERT INTO o SELECT id, id * 2 FROM i;\n",
             dir, interval, batch_rows, bs, bs, prefix);
    cr_assert_eq(sl_test_write_file(script, text), 0);
}

static void expect_exactly_once(view *v, int64_t n, const char *what)
{
    for (int64_t i = 1; i <= n; i++)
        if (!v->seen[i])
            v->missing++;
    cr_assert_eq(v->extra, 0, "%s", what);
    cr_assert_eq(v->dups, 0, "%s: %lld duplicates", what, (long long)v->dups);
    cr_assert_eq(v->missing, 0, "%s: %lld of %lld missing", what,
                 (long long)v->missing, (long long)n);
    cr_assert_eq(v->committed, n, "%s", what);
}

/* The job kills itself (SLUICE_TEST_KAFKA_TXN_KILL) right after the SQLite
 * commit of its 2nd checkpoint that prepared a transaction, before the
 * Kafka commit, three runs in a row; each restart writes that epoch again
 * from the outbox, then goes on. */
Test(kafka_eos, job_killed_between_sqlite_and_kafka_commit, .timeout = 60)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    const int64_t n = 3000;
    char *tmp = sl_test_tmpdir();
    char script[512];
    /* 3000 rows over several checkpoints: 640 rows each */
    k2k_setup(b, n, tmp, "between", "200 ms", 10, script, sizeof(script));
    const char *argv[] = {sl_test_sluice_bin(), "-f", script, NULL};
    setenv("SLUICE_TEST_KAFKA_TXN_KILL", "2", 1);
    int killed = 0;
    for (int k = 0; k < 3; k++) {
        int rc = sl_test_run(argv, NULL, NULL, NULL, 30000);
        killed += rc != 0;
        view v;
        read_view(bs, "o2", "between-0", n, &v);
        cr_assert_eq(v.dups, 0, "run %d: duplicates", k);
        cr_assert_eq(v.extra, 0);
        view_free(&v);
    }
    unsetenv("SLUICE_TEST_KAFKA_TXN_KILL");
    sl_buf err;
    sl_buf_init(&err, 1 << 20);
    int rc = sl_test_run(argv, NULL, NULL, &err, 40000);
    cr_assert_eq(rc, 0, "final run failed (%d): %s", rc, sl_buf_cstr(&err));
    sl_buf_free(&err);
    view v;
    read_view(bs, "o2", "between-0", n, &v);
    fprintf(stderr,
            "kafka eos between commits: %d runs killed, %lld records in the "
            "topic, %lld committed, %lld markers, %lld recovered from the "
            "outbox\n",
            killed, (long long)v.raw, (long long)v.committed,
            (long long)v.markers, (long long)v.recovered);
    cr_assert_gt(killed, 0, "no run reached its 2nd checkpoint");
    cr_assert_eq(v.recovered, killed, "every kill left one epoch to redo");
    expect_exactly_once(&v, n, "between commits");
    view_free(&v);
    sl_test_tmpdir_remove(tmp);
    sl_test_broker_stop(b);
}

Test(kafka_eos, crash_kafka_to_kafka_exactly_once, .timeout = 90)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    const int64_t n = 20000;
    char *tmp = sl_test_tmpdir();
    char script[512];
    k2k_setup(b, n, tmp, "k2k", "100 ms", 50, script, sizeof(script));
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    int64_t t0 = sl_mono_ns();
    int kills =
        getenv("CK_KILLS") ? (int)strtol(getenv("CK_KILLS"), NULL, 10) : 6;
    const char *argv[] = {sl_test_sluice_bin(), "-f", script, NULL};
    for (int k = 0; k < kills; k++) {
        sl_test_proc *p = sl_test_proc_start(argv, NULL, 0, NULL, 0);
        cr_assert(p, "cannot start sluice");
        sleep_ms(1000 + (int)(rand_r(&seed) % 3500));
        sl_test_proc_stop(p, SIGKILL, 2000);
    }
    sl_buf err;
    sl_buf_init(&err, 1 << 20);
    int rc = sl_test_run(argv, NULL, NULL, &err, 40000);
    cr_assert_eq(rc, 0, "final run failed (%d): %s", rc, sl_buf_cstr(&err));
    sl_buf_free(&err);

    view v;
    read_view(bs, "o2", "k2k-0", n, &v);
    fprintf(stderr,
            "kafka eos crash test: %d kills in %.1f s (seed %u): %lld "
            "records in the topic, %lld committed, %lld markers (%lld "
            "recovered from the outbox)\n",
            kills, (double)(sl_mono_ns() - t0) / 1e9, seed, (long long)v.raw,
            (long long)v.committed, (long long)v.markers,
            (long long)v.recovered);
    expect_exactly_once(&v, n, "crash test");
    view_free(&v);
    sl_test_tmpdir_remove(tmp);
    sl_test_broker_stop(b);
}
