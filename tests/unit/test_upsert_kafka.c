/*
 * test_upsert_kafka.c: the 'upsert-kafka' connector (issue 8) against
 * librdkafka's mock cluster over TCP, with kcat as the independent client.
 *
 *   - planning errors: no PRIMARY KEY, 'key.fields' given, no 'key.format';
 *   - an updating GROUP BY (+I/-U/+U) written through upsert-kafka: every
 *     record is keyed by the PRIMARY KEY, no -U is written, the values per
 *     key only grow, and the last value per key is the final aggregate;
 *   - a changelog read back: kcat-produced values and tombstones read by an
 *     upsert-kafka source (+U and -D rows, the -D carrying the key) and
 *     written again through an upsert-kafka sink (tombstones as NULL
 *     values, read by kcat -Z).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sluice.h"

#include <librdkafka/rdkafka_mock.h>

static const char *kcat = "/usr/bin/kcat";

static void kcat_produce(const char *bs, const char *topic, const char *input)
{
    const char *argv[] = {kcat, "-b", bs,  "-t", topic,
                          "-P", "-K", "|", "-Z", NULL};
    cr_assert_eq(sl_test_run(argv, input, NULL, NULL, 30000), 0);
}

static char *kcat_consume(const char *bs, const char *topic)
{
    sl_buf out;
    sl_buf_init(&out, 0);
    const char *argv[] = {kcat,        "-b", bs,        "-t", topic,
                          "-C",        "-e", "-q",      "-Z", "-o",
                          "beginning", "-f", "%k|%s\n", NULL};
    cr_assert_eq(sl_test_run(argv, NULL, &out, NULL, 30000), 0);
    return sl_buf_steal(&out);
}

static void topic(sl_test_broker *b, const char *name, int parts)
{
    cr_assert_eq(
        rd_kafka_mock_topic_create(sl_test_broker_cluster(b), name, parts, 1),
        0);
}

/* ---- planning errors ---------------------------------------------------- */

static void plan_error(const char *bs, const char *cols, const char *opts,
                       const char *want)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE src (u STRING, n BIGINT) WITH ("
             "'connector'='datagen', 'number-of-rows'='3');\n"
             "CREATE TABLE up (%s) WITH ('connector'='upsert-kafka', "
             "'topic'='t', 'properties.bootstrap.servers'='%s'%s);\n"
             "INSERT INTO up SELECT u, COUNT(*) FROM src GROUP BY u;",
             cols, bs, opts);
    int rc = sluice_exec(db, sql, NULL, NULL);
    cr_assert_neq(rc, SLUICE_OK, "no error for %s", sql);
    cr_assert(strstr(sluice_errmsg(db), want), "got '%s', want '%s'",
              sluice_errmsg(db), want);
    sluice_close(db);
}

Test(upsert_kafka, planning_errors, .timeout = 30)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    plan_error(bs, "u STRING, c BIGINT",
               ", 'key.format'='json', 'value.format'='json'",
               "needs a PRIMARY KEY");
    plan_error(bs, "u STRING, c BIGINT, PRIMARY KEY (u) NOT ENFORCED",
               ", 'key.format'='json', 'value.format'='json', "
               "'key.fields'='u'",
               "remove 'key.fields'");
    plan_error(bs, "u STRING, c BIGINT, PRIMARY KEY (u) NOT ENFORCED",
               ", 'value.format'='json'", "requires option 'key.format'");
    /* and the append-only kafka connector still refuses the same query */
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE src (u STRING, n BIGINT) WITH ("
             "'connector'='datagen', 'number-of-rows'='3');\n"
             "CREATE TABLE k (u STRING, c BIGINT) WITH ('connector'='kafka', "
             "'topic'='t', 'properties.bootstrap.servers'='%s', "
             "'format'='json');\n"
             "INSERT INTO k SELECT u, COUNT(*) FROM src GROUP BY u;",
             bs);
    cr_assert_neq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK);
    cr_assert(strstr(sluice_errmsg(db), "upsert-kafka"), "%s",
              sluice_errmsg(db));
    sluice_close(db);
    sl_test_broker_stop(b);
}

/* ---- an updating GROUP BY through upsert-kafka -------------------------- */

#define N_USERS  5
#define N_CLICKS 400

Test(upsert_kafka, group_by_changelog_read_by_kcat, .timeout = 60)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    topic(b, "clicks", 2);
    topic(b, "totals", 3);
    /* clicks: user u<i % 5> with n = i */
    sl_buf in;
    sl_buf_init(&in, 0);
    long long want_cnt[N_USERS] = {0}, want_sum[N_USERS] = {0};
    for (int i = 1; i <= N_CLICKS; i++) {
        int u = (i * 7) % N_USERS;
        sl_buf_printf(&in, "u%d|{\"usr\":\"u%d\",\"n\":%d}\n", u, u, i);
        want_cnt[u]++;
        want_sum[u] += i;
    }
    kcat_produce(bs, "clicks", sl_buf_cstr(&in));
    sl_buf_free(&in);

    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "SET 'sluice.batch-rows' = '16';\n"
             "CREATE TABLE clicks (usr STRING, n BIGINT) WITH ("
             "'connector'='kafka', 'topic'='clicks', "
             "'properties.bootstrap.servers'='%s', "
             "'scan.startup.mode'='earliest-offset', "
             "'scan.bounded.mode'='latest-offset', 'format'='json');\n"
             "CREATE TABLE totals (usr STRING, cnt BIGINT, total BIGINT, "
             "PRIMARY KEY (usr) NOT ENFORCED) WITH ("
             "'connector'='upsert-kafka', 'topic'='totals', "
             "'properties.bootstrap.servers'='%s', 'key.format'='json', "
             "'value.format'='json', 'sink.buffer-flush.max-rows'='100', "
             "'sink.buffer-flush.interval'='1 s');\n"
             "INSERT INTO totals SELECT usr, COUNT(*), SUM(n) FROM clicks "
             "GROUP BY usr;",
             bs, bs);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    sluice_close(db);

    char *out = kcat_consume(bs, "totals");
    long long last_cnt[N_USERS], last_sum[N_USERS];
    int n_records = 0;
    memset(last_cnt, 0, sizeof(last_cnt));
    memset(last_sum, 0, sizeof(last_sum));
    for (char *line = out; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        int ku = -1, vu = -1;
        long long cnt = 0, sum = 0;
        int k = sscanf(line,
                       "{\"usr\":\"u%d\"}|{\"usr\":\"u%d\",\"cnt\":%lld,"
                       "\"total\":%lld}",
                       &ku, &vu, &cnt, &sum);
        cr_assert_eq(k, 4, "unexpected record '%s'", line);
        cr_assert(ku >= 0 && ku < N_USERS && ku == vu, "%s", line);
        /* per key (one partition each) the counts only grow: no -U */
        cr_assert_gt(cnt, last_cnt[ku], "%s after cnt %lld", line,
                     last_cnt[ku]);
        last_cnt[ku] = cnt;
        last_sum[ku] = sum;
        n_records++;
        line = nl ? nl + 1 : NULL;
    }
    sl_free(out);
    for (int u = 0; u < N_USERS; u++) {
        cr_assert_eq(last_cnt[u], want_cnt[u], "u%d count", u);
        cr_assert_eq(last_sum[u], want_sum[u], "u%d sum", u);
    }
    fprintf(stderr, "upsert-kafka: %d records for %d keys\n", n_records,
            N_USERS);
    cr_assert_gt(n_records, N_USERS, "expected updates, not only inserts");
    sl_test_broker_stop(b);
}

/* ---- values and tombstones: source and sink ------------------------------ */

typedef struct seen_rows {
    char text[64][96];
    int n;
} seen_rows;

static int collect(void *ctx, const sluice_row *row)
{
    seen_rows *s = ctx;
    static const char *const kinds[] = {"+I", "-U", "+U", "-D"};
    int kind = sluice_row_kind(row);
    const char *id = sluice_row_text(row, 0), *v = sluice_row_text(row, 1);
    if (s->n < 64)
        snprintf(s->text[s->n++], sizeof(s->text[0]), "%s %s %s",
                 kind >= 0 && kind < 4 ? kinds[kind] : "?", id ? id : "NULL",
                 v ? v : "NULL");
    return 0;
}

Test(upsert_kafka, tombstones_source_and_sink, .timeout = 60)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    topic(b, "uin", 1);
    topic(b, "uout", 1);
    kcat_produce(bs, "uin",
                 "{\"id\":\"k1\"}|{\"id\":\"k1\",\"v\":1}\n"
                 "{\"id\":\"k2\"}|{\"id\":\"k2\",\"v\":2}\n"
                 "{\"id\":\"k1\"}|{\"id\":\"k1\",\"v\":3}\n"
                 "{\"id\":\"k2\"}|\n");
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE uin (id STRING, v BIGINT, PRIMARY KEY (id) NOT "
             "ENFORCED) WITH ('connector'='upsert-kafka', 'topic'='uin', "
             "'properties.bootstrap.servers'='%s', 'key.format'='json', "
             "'value.format'='json', 'scan.bounded.mode'='latest-offset');\n"
             "CREATE TABLE uout (id STRING, v BIGINT, PRIMARY KEY (id) NOT "
             "ENFORCED) WITH ('connector'='upsert-kafka', 'topic'='uout', "
             "'properties.bootstrap.servers'='%s', 'key.format'='json', "
             "'value.format'='json', 'value.fields-include'='EXCEPT_KEY');\n"
             "INSERT INTO uout SELECT id, v * 10 FROM uin;\n",
             bs, bs);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    /* the source: +U per value, -D with the key per tombstone */
    seen_rows rows = {.n = 0};
    cr_assert_eq(sluice_exec(db, "SELECT id, v FROM uin;", collect, &rows),
                 SLUICE_OK, "%s", sluice_errmsg(db));
    sluice_close(db);
    cr_assert_eq(rows.n, 4);
    cr_assert_str_eq(rows.text[0], "+U k1 1");
    cr_assert_str_eq(rows.text[1], "+U k2 2");
    cr_assert_str_eq(rows.text[2], "+U k1 3");
    cr_assert_str_eq(rows.text[3], "-D k2 NULL");
    /* the sink: values without the key (EXCEPT_KEY), a NULL tombstone */
    char *out = kcat_consume(bs, "uout");
    cr_assert_str_eq(out, "{\"id\":\"k1\"}|{\"v\":10}\n"
                          "{\"id\":\"k2\"}|{\"v\":20}\n"
                          "{\"id\":\"k1\"}|{\"v\":30}\n"
                          "{\"id\":\"k2\"}|NULL\n");
    sl_free(out);
    sl_test_broker_stop(b);
}

/* 'key.fields-prefix': the key column k_id is the key format's field id. */
Test(upsert_kafka, key_fields_prefix, .timeout = 60)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    topic(b, "pin", 1);
    topic(b, "pout", 1);
    kcat_produce(bs, "pin",
                 "{\"id\":\"a\"}|{\"v\":1}\n"
                 "{\"id\":\"a\"}|\n"
                 "{\"id\":\"b\"}|{\"v\":2}\n");
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE pin (k_id STRING, v BIGINT, PRIMARY KEY (k_id) NOT "
             "ENFORCED) WITH ('connector'='upsert-kafka', 'topic'='pin', "
             "'properties.bootstrap.servers'='%s', 'key.format'='json', "
             "'key.fields-prefix'='k_', 'value.format'='json', "
             "'value.fields-include'='EXCEPT_KEY', "
             "'scan.bounded.mode'='latest-offset');\n"
             "CREATE TABLE pout (k_id STRING, v BIGINT, PRIMARY KEY (k_id) "
             "NOT ENFORCED) WITH ('connector'='upsert-kafka', "
             "'topic'='pout', 'properties.bootstrap.servers'='%s', "
             "'key.format'='json', 'key.fields-prefix'='k_', "
             "'value.format'='json');\n"
             "INSERT INTO pout SELECT k_id, v + 1 FROM pin;\n",
             bs, bs);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    sluice_close(db);
    char *out = kcat_consume(bs, "pout");
    /* value.fields-include ALL: the value holds the key column too */
    cr_assert_str_eq(out, "{\"id\":\"a\"}|{\"k_id\":\"a\",\"v\":2}\n"
                          "{\"id\":\"a\"}|NULL\n"
                          "{\"id\":\"b\"}|{\"k_id\":\"b\",\"v\":3}\n");
    sl_free(out);
    sl_test_broker_stop(b);
}
