/*
 * test_kafka_project.c: a Kafka source decodes only the columns its query
 * reads (projection push-down: the planner passes SQLite's column use of
 * the source's stages to the source, which maps the other fields to -1 in
 * its decoders). Records whose unread fields hold values of the wrong type
 * pass (as with Flink's projection push-down) when the query does not read
 * them and fail with topic/partition/offset when it does; a column only
 * the watermark reads is still decoded. Also: without a group id the
 * source does not join a consumer group (a broker refusing JoinGroup still
 * serves it; with a group id that refusal fails the query cleanly), and
 * a running job exports each source's lag as a metric. Real
 * broker (mock cluster over TCP), records written by kcat, queries
 * through the public API.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sluice.h"

static void kcat_produce(const char *bs, const char *topic, const char *lines)
{
    const char *argv[] = {
        "/usr/bin/kcat", "-b", bs, "-t", topic, "-P", "-p", "0", NULL};
    cr_assert_eq(sl_test_run(argv, lines, NULL, NULL, 30000), 0);
}

/* Run setup then query; rows into out. Returns sluice_exec's code, the
 * message in msg. */
static int run(const char *setup, const char *query, sl_test_lines *out,
               char *msg, size_t msg_size)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    cr_assert_eq(sluice_exec(db, setup, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    int rc = sluice_exec(db, query, sl_test_collect_inserts, out);
    snprintf(msg, msg_size, "%s", rc ? sluice_errmsg(db) : "");
    sluice_close(db);
    return rc;
}

static void expect_rows(const sl_test_lines *l, const char *const *want, int n)
{
    cr_assert_eq(l->n, n, "%d rows", l->n);
    for (int i = 0; i < n; i++)
        cr_assert_str_eq(l->v[i], want[i]);
}

Test(kafka_project, unread_fields_are_not_decoded, .timeout = 120)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    cr_assert_eq(
        rd_kafka_mock_topic_create(sl_test_broker_cluster(b), "pj", 1, 1), 0);
    cr_assert_eq(
        rd_kafka_mock_topic_create(sl_test_broker_cluster(b), "pc", 1, 1), 0);
    kcat_produce(bs, "pj",
                 "{\"id\":1,\"name\":\"a\",\"bad\":\"x1\",\"ts\":\"2024-01-01 "
                 "00:00:01\",\"n\":{\"k\":1}}\n"
                 "{\"id\":2,\"name\":\"b\",\"bad\":2,\"ts\":\"not a time\","
                 "\"n\":{\"k\":\"y\"}}\n"
                 "{\"id\":3,\"name\":\"c\",\"bad\":[3],\"ts\":\"2024-01-01 "
                 "00:00:03\",\"n\":{\"k\":3}}\n");
    kcat_produce(bs, "pc", "1,a,x1\n2,b,2\n3,c,zz\n");
    char setup[2048];
    snprintf(setup, sizeof(setup),
             "CREATE TABLE j (id BIGINT, name STRING, bad INT, ts "
             "TIMESTAMP(3), n ROW<k INT>) WITH ('connector'='kafka', "
             "'topic'='pj', 'properties.bootstrap.servers'='%s', "
             "'scan.startup.mode'='earliest-offset', "
             "'scan.bounded.mode'='latest-offset', 'format'='json');"
             "CREATE TABLE jw (id BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts "
             "AS ts) WITH ('connector'='kafka', 'topic'='pj', "
             "'properties.bootstrap.servers'='%s', "
             "'scan.startup.mode'='earliest-offset', "
             "'scan.bounded.mode'='latest-offset', 'format'='json');"
             "CREATE TABLE c (id BIGINT, name STRING, bad INT) WITH "
             "('connector'='kafka', 'topic'='pc', "
             "'properties.bootstrap.servers'='%s', "
             "'scan.startup.mode'='earliest-offset', "
             "'scan.bounded.mode'='latest-offset', 'format'='csv');",
             bs, bs, bs);
    static const char *const want[] = {"1|a", "2|b", "3|c"};
    char msg[1024];

    /* json: bad, ts and n are unread: their wrong values do not matter */
    sl_test_lines l = {0};
    cr_assert_eq(run(setup, "SELECT id, name FROM j", &l, msg, sizeof(msg)),
                 SLUICE_OK, "%s", msg);
    sl_test_lines_sort(&l);
    expect_rows(&l, want, 3);
    sl_test_lines_free(&l);
    /* a column read only by the filter is decoded */
    cr_assert_neq(run(setup, "SELECT id, name FROM j WHERE bad IS NOT NULL", &l,
                      msg, sizeof(msg)),
                  SLUICE_OK);
    cr_assert(strstr(msg, "topic 'pj' partition 0 offset 0") != NULL, "%s",
              msg);
    cr_assert(strstr(msg, "bad") != NULL, "%s", msg);
    sl_test_lines_free(&l);
    /* the nested field when the query reads it */
    cr_assert_neq(run(setup, "SELECT id, n.k FROM j", &l, msg, sizeof(msg)),
                  SLUICE_OK);
    cr_assert(strstr(msg, "offset 1") != NULL, "%s", msg);
    sl_test_lines_free(&l);
    /* ts is read by the watermark only: still decoded */
    cr_assert_neq(run(setup, "SELECT id FROM jw", &l, msg, sizeof(msg)),
                  SLUICE_OK);
    cr_assert(strstr(msg, "offset 1") != NULL, "%s", msg);
    sl_test_lines_free(&l);

    /* csv: the same */
    cr_assert_eq(run(setup, "SELECT id, name FROM c", &l, msg, sizeof(msg)),
                 SLUICE_OK, "%s", msg);
    sl_test_lines_sort(&l);
    expect_rows(&l, want, 3);
    sl_test_lines_free(&l);
    cr_assert_neq(run(setup, "SELECT id, bad FROM c", &l, msg, sizeof(msg)),
                  SLUICE_OK);
    cr_assert(strstr(msg, "topic 'pc' partition 0 offset 0") != NULL, "%s",
              msg);
    sl_test_lines_free(&l);
    sl_test_broker_stop(b);
}

/* Without 'properties.group.id' the source's consumer group would be its
 * own: it reads every partition itself and never joins the group, so a
 * broker that refuses every JoinGroup still serves the query (a join
 * would also wait out the broker's initial rebalance delay). With a group
 * id the refusal fails the query with the broker's reason (before, the
 * consumer's group error, which has no topic, crashed the source). */
Test(kafka_project, no_group_join_without_a_group_id, .timeout = 60)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    rd_kafka_mock_cluster_t *mc = sl_test_broker_cluster(b);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "ng", 2, 1), 0);
    kcat_produce(bs, "ng", "{\"id\":1}\n{\"id\":2}\n");
    rd_kafka_resp_err_t errs[64];
    for (int i = 0; i < 64; i++)
        errs[i] = RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED;
    rd_kafka_mock_push_request_errors_array(mc, 11 /* JoinGroup */, 64, errs);
    char setup[1024];
    snprintf(setup, sizeof(setup),
             "CREATE TABLE t (id BIGINT) WITH ('connector'='kafka', "
             "'topic'='ng', 'properties.bootstrap.servers'='%s', "
             "'scan.startup.mode'='earliest-offset', "
             "'scan.bounded.mode'='latest-offset', 'format'='json');"
             "CREATE TABLE tg (id BIGINT) WITH ('connector'='kafka', "
             "'topic'='ng', 'properties.bootstrap.servers'='%s', "
             "'properties.group.id'='g1', "
             "'scan.startup.mode'='earliest-offset', "
             "'scan.bounded.mode'='latest-offset', 'format'='json');",
             bs, bs);
    sl_test_lines l = {0};
    char msg[1024];
    cr_assert_eq(run(setup, "SELECT id FROM t", &l, msg, sizeof(msg)),
                 SLUICE_OK, "%s", msg);
    sl_test_lines_sort(&l);
    static const char *const want[] = {"1", "2"};
    expect_rows(&l, want, 2);
    sl_test_lines_free(&l);
    cr_assert_neq(run(setup, "SELECT id FROM tg", &l, msg, sizeof(msg)),
                  SLUICE_OK);
    cr_assert(strstr(msg, "kafka table 'tg'") != NULL, "%s", msg);
    cr_assert(strstr(msg, "Group authorization failed") != NULL, "%s", msg);
    cr_assert_eq(l.n, 0);
    sl_test_lines_free(&l);
    sl_test_broker_stop(b);
}

/* The value of the sample of metric whose labels contain label, or -1. */
static double sample_of(const char *text, const char *metric, const char *label)
{
    size_t n = strlen(metric);
    for (const char *p = text; (p = strstr(p, metric)) != NULL; p += n) {
        if ((p != text && p[-1] != '\n') || p[n] != '{')
            continue;
        const char *end = strchr(p, '}');
        const char *eol = strchr(p, '\n');
        if (!end || !eol || end > eol)
            continue;
        if (memmem(p, (size_t)(end - p), label, strlen(label)))
            return strtod(end + 1, NULL);
    }
    return -1;
}

/* A running Kafka job exports sluice_source_lag_records per source; it
 * comes back to 0 once the job has read what was written. */
Test(kafka_project, source_lag_exported, .timeout = 120)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    cr_assert_eq(
        rd_kafka_mock_topic_create(sl_test_broker_cluster(b), "lg", 1, 1), 0);
    kcat_produce(bs, "lg", "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n");
    char setup[1024];
    snprintf(setup, sizeof(setup),
             "SET 'table.dml-sync' = 'false';"
             "CREATE TABLE src (id BIGINT) WITH ('connector'='kafka', "
             "'topic'='lg', 'properties.bootstrap.servers'='%s', "
             "'scan.startup.mode'='earliest-offset', 'format'='json');"
             "CREATE TABLE bh (id BIGINT) WITH ('connector'='blackhole');"
             "INSERT INTO bh SELECT id FROM src;",
             bs);
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    cr_assert_eq(sluice_exec(db, setup, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    const int want_rows[] = {3, 5};
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            kcat_produce(bs, "lg", "{\"id\":4}\n{\"id\":5}\n");
        char *text = NULL;
        bool ok = false;
        for (int i = 0; i < 400 && !ok; i++) {
            usleep(25 * 1000);
            sluice_free(text);
            cr_assert_eq(sluice_metrics(db, &text, NULL), SLUICE_OK);
            ok = sample_of(text, "sluice_source_rows_read_total",
                           "source=\"src\"") == want_rows[round] &&
                 sample_of(text, "sluice_source_lag_records",
                           "source=\"src\"") == 0;
        }
        cr_assert(ok, "round %d: %s", round, text);
        cr_assert(strstr(text, "# TYPE sluice_source_lag_records gauge"), "%s",
                  text);
        sluice_free(text);
    }
    sluice_close(db);
    sl_test_broker_stop(b);
}
