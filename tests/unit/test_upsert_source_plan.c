/*
 * test_upsert_source_plan.c: an upsert-kafka table read as a source is an
 * updating changelog (+U/-D by key) at planning time (planner/query.c,
 * sl_plan_changelog_source), as a non-windowed GROUP BY is:
 *
 *   - INSERT into an append-only sink (filesystem, kafka) is refused when
 *     planned, with what, why and what to use instead;
 *   - print and upsert-kafka sinks accept it, EXPLAIN shows the changelog
 *     as updating, and a real run (`sluice -f`, mock broker, kcat-produced
 *     values and a tombstone) prints +U and -D rows;
 *   - stateful operators over it (GROUP BY, window aggregate, OVER,
 *     Top-N, join) are refused (they would take each update as a new row);
 *   - the same topic through the 'kafka' connector stays append-only.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "sluice.h"

/* planning never connects: any address does */
#define TABLES                                                                 \
    "CREATE TABLE u (id STRING, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts "  \
    "AS ts - INTERVAL '1' SECOND, PRIMARY KEY (id) NOT ENFORCED) WITH "        \
    "('connector'='upsert-kafka', 'topic'='u', "                               \
    "'properties.bootstrap.servers'='127.0.0.1:1', 'key.format'='json', "      \
    "'value.format'='json');"                                                  \
    "CREATE TABLE a (id STRING, v BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts "  \
    "AS ts - INTERVAL '1' SECOND) WITH ('connector'='kafka', 'topic'='u', "    \
    "'properties.bootstrap.servers'='127.0.0.1:1', 'format'='json');"          \
    "CREATE TABLE f (id STRING, v BIGINT) WITH ('connector'='filesystem', "    \
    "'path'='/nonexistent/f.csv', 'format'='csv');"                            \
    "CREATE TABLE k (id STRING, v BIGINT) WITH ('connector'='kafka', "         \
    "'topic'='x', 'properties.bootstrap.servers'='127.0.0.1:1', "              \
    "'format'='json');"                                                        \
    "CREATE TABLE p (id STRING, v BIGINT) WITH ('connector'='print');"         \
    "CREATE TABLE uk (id STRING, v BIGINT, PRIMARY KEY (id) NOT ENFORCED) "    \
    "WITH ('connector'='upsert-kafka', 'topic'='y', "                          \
    "'properties.bootstrap.servers'='127.0.0.1:1', 'key.format'='json', "      \
    "'value.format'='json');"

static sluice *open_db(void)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    cr_assert_eq(sluice_exec(db, TABLES, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    return db;
}

static int grab_text(void *ctx, const sluice_row *row)
{
    sl_buf *b = ctx;
    const char *t = sluice_row_text(row, 0);
    sl_buf_puts(b, t ? t : "");
    return 0;
}

/* sql fails at planning time with every one of want[] in its message. */
static void refused(sluice *db, const char *sql, const char *const *want)
{
    int rc = sluice_exec(db, sql, NULL, NULL);
    cr_assert_neq(rc, SLUICE_OK, "accepted: %s", sql);
    for (int i = 0; want[i]; i++)
        cr_assert(strstr(sluice_errmsg(db), want[i]), "%s\n  want '%s' in '%s'",
                  sql, want[i], sluice_errmsg(db));
}

Test(upsert_source_plan, append_only_sinks_refused)
{
    sluice *db = open_db();
    const char *const fs[] = {"1:13: table 'f' (connector 'filesystem') is "
                              "append-only",
                              "table 'u' (connector 'upsert-kafka') is read "
                              "as a changelog",
                              "('print', 'upsert-kafka')",
                              "the 'kafka' connector", NULL};
    refused(db, "INSERT INTO f SELECT id, v FROM u", fs);
    const char *const kf[] = {"table 'k' (connector 'kafka') is append-only",
                              "upsert (+U) or a delete (-D)", NULL};
    refused(db, "INSERT INTO k SELECT id, v * 2 FROM u WHERE v > 1", kf);
    /* through a view and a UNION ALL with an append-only table */
    cr_assert_eq(
        sluice_exec(db, "CREATE VIEW uv AS SELECT id, v FROM u", NULL, NULL),
        SLUICE_OK, "%s", sluice_errmsg(db));
    refused(db, "INSERT INTO k SELECT id, v FROM uv", kf);
    refused(db,
            "INSERT INTO k SELECT id, v FROM a UNION ALL SELECT id, v FROM u",
            kf);
    sluice_close(db);
}

Test(upsert_source_plan, updating_sinks_accept_it)
{
    sluice *db = open_db();
    sl_buf b;
    sl_buf_init(&b, 0);
    cr_assert_eq(sluice_exec(db, "EXPLAIN INSERT INTO p SELECT id, v FROM u",
                             grab_text, &b),
                 SLUICE_OK, "%s", sluice_errmsg(db));
    cr_assert(strstr(sl_buf_cstr(&b), "changelog: updating (+U/-D)]"), "%s",
              sl_buf_cstr(&b));
    const char *sink = strstr(sl_buf_cstr(&b), "Sink: p");
    cr_assert(sink && strstr(sink, "changelog: updating (+U/-D)"), "%s",
              sl_buf_cstr(&b));
    sl_buf_reset(&b);
    cr_assert_eq(sluice_exec(db,
                             "EXPLAIN INSERT INTO uk SELECT id, v + 1 FROM u",
                             grab_text, &b),
                 SLUICE_OK, "%s", sluice_errmsg(db));
    cr_assert(strstr(sl_buf_cstr(&b), "changelog: updating (+U/-D)"));
    /* the same topic read with the kafka connector: append-only */
    sl_buf_reset(&b);
    cr_assert_eq(sluice_exec(db, "EXPLAIN INSERT INTO f SELECT id, v FROM a",
                             grab_text, &b),
                 SLUICE_OK, "%s", sluice_errmsg(db));
    cr_assert_null(strstr(sl_buf_cstr(&b), "updating"), "%s", sl_buf_cstr(&b));
    sl_buf_free(&b);
    sluice_close(db);
}

Test(upsert_source_plan, stateful_operators_refused)
{
    sluice *db = open_db();
    static const char *const q[][2] = {
        {"SELECT id, SUM(v) FROM u GROUP BY id", "a GROUP BY"},
        {"SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE u, "
         "DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY window_start, "
         "window_end",
         "a window aggregate"},
        {"SELECT id, SUM(v) OVER (PARTITION BY id ORDER BY ts ROWS BETWEEN "
         "1 PRECEDING AND CURRENT ROW) FROM u",
         "an OVER aggregate"},
        {"SELECT * FROM (SELECT id, v, window_start, ROW_NUMBER() OVER "
         "(PARTITION BY window_start, window_end ORDER BY v DESC) AS rn FROM "
         "TABLE(TUMBLE(TABLE u, DESCRIPTOR(ts), INTERVAL '1' SECOND))) WHERE "
         "rn <= 1",
         "a window Top-N"},
        {"SELECT x.id FROM a x JOIN u y ON x.id = y.id", "a join"},
        {"INSERT INTO p SELECT id, COUNT(*) FROM u GROUP BY id", "a GROUP BY"},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(q); i++) {
        const char *const want[] = {"table 'u' (connector 'upsert-kafka') is "
                                    "read as a changelog",
                                    q[i][1], "not supported yet",
                                    "the 'kafka' connector", NULL};
        refused(db, q[i][0], want);
    }
    /* the kafka connector's rows are append-only: the same queries plan */
    sl_buf b;
    sl_buf_init(&b, 0);
    cr_assert_eq(sluice_exec(db,
                             "EXPLAIN SELECT id, SUM(v) OVER (PARTITION BY id "
                             "ORDER BY ts ROWS BETWEEN 1 PRECEDING AND "
                             "CURRENT ROW) FROM a",
                             grab_text, &b),
                 SLUICE_OK, "%s", sluice_errmsg(db));
    sl_buf_free(&b);
    sluice_close(db);
}

/* A real run: kcat-produced values and a tombstone, read by an upsert-kafka
 * source and printed by `sluice -f` (print sink): +U per value, -D with
 * the key for the tombstone. */
Test(upsert_source_plan, print_sink_runs_changelog, .timeout = 60)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    cr_assert_eq(
        rd_kafka_mock_topic_create(sl_test_broker_cluster(b), "uin", 1, 1), 0);
    const char *pargv[] = {
        "/usr/bin/kcat", "-b", bs, "-t", "uin", "-P", "-K", "|", "-Z", NULL};
    cr_assert_eq(sl_test_run(pargv,
                             "{\"id\":\"k1\"}|{\"id\":\"k1\",\"v\":1}\n"
                             "{\"id\":\"k2\"}|{\"id\":\"k2\",\"v\":2}\n"
                             "{\"id\":\"k1\"}|{\"id\":\"k1\",\"v\":3}\n"
                             "{\"id\":\"k2\"}|\n",
                             NULL, NULL, 30000),
                 0);
    char *tmp = sl_test_tmpdir();
    char script[600], text[2048];
    snprintf(script, sizeof(script), "%s/job.sql", tmp);
    snprintf(text, sizeof(text),
             "CREATE TABLE u (id STRING, v BIGINT, PRIMARY KEY (id) NOT "
             "ENFORCED) WITH ('connector'='upsert-kafka', 'topic'='uin', "
             "'properties.bootstrap.servers'='%s', 'key.format'='json', "
             "'value.format'='json', 'scan.bounded.mode'='latest-offset');\n"
             "CREATE TABLE p (id STRING, v BIGINT) WITH "
             "('connector'='print');\n"
             "INSERT INTO p SELECT id, v * 10 FROM u;\n",
             bs);
    cr_assert_eq(sl_test_write_file(script, text), 0);
    sl_buf out, err;
    sl_buf_init(&out, 1 << 20);
    sl_buf_init(&err, 1 << 20);
    const char *argv[] = {sl_test_sluice_bin(), "-f", script, NULL};
    int rc = sl_test_run(argv, NULL, &out, &err, 30000);
    cr_assert_eq(rc, 0, "sluice failed (%d): %s", rc, sl_buf_cstr(&err));
    cr_assert_str_eq(sl_buf_cstr(&out), "+U[k1, 10]\n"
                                        "+U[k2, 20]\n"
                                        "+U[k1, 30]\n"
                                        "-D[k2, null]\n");
    sl_buf_free(&out);
    sl_buf_free(&err);
    sl_test_tmpdir_remove(tmp);
    sl_test_broker_stop(b);
}
