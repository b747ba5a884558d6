/*
 * test_kafka_formats.c: every scalar type through the Kafka sink and
 * source with the json, csv and raw formats over a real broker (mock
 * cluster, TCP), records checked with kcat too, and malformed records:
 * failing with the topic/partition/offset message or skipped and counted
 * under '<format>.ignore-parse-errors'.
 */
#include <stdio.h>

#include "test_kafka_util.h"

uint64_t sl_kafka_source_skipped(sl_source *src);

static const char *all_cols[] = {"s STRING",    "b BYTES",    "i INT",
                                 "l BIGINT",    "d DOUBLE",   "f BOOLEAN",
                                 "tl TS_LTZ",   "dt DATE",    "ts TIMESTAMP",
                                 "sm SMALLINT", "ti TINYINT", "tm TIME",
                                 "n STRING",    NULL};

static void fill_row(sl_batch *b, int k)
{
    sl_value *row = sl_batch_append_row(b);
    char s[64];
    sl_snprintf(s, sizeof(s), "h\xc3\xa9llo \"q\", %d", k);
    sl_batch_set_text(b, &row[0], s, strlen(s));
    unsigned char bytes[4] = {0, 1, 2, (unsigned char)(250 + k)};
    sl_batch_set_blob(b, &row[1], bytes, 4);
    row[2] = sl_value_int(42 + k);
    row[3] = sl_value_int((1LL << 40) + k);
    row[4] = sl_value_real(3.25 + k);
    row[5] = sl_value_int(k % 2);
    row[6] = sl_value_int(1700000000123LL + k);
    row[7] = sl_value_int(19000 + k);
    row[8] = sl_value_int(1700000000456LL + k);
    row[9] = sl_value_int(-7 - k);
    row[10] = sl_value_int(5 + k);
    row[11] = sl_value_int(3723000 + 1000 * k); /* TIME(0) */
    row[12] = sl_value_null();
}

static void assert_same(const sl_batch *a, int ra, const sl_batch *b, int rb)
{
    for (int c = 0; c < a->n_cols; c++) {
        const sl_value *x = &sl_batch_crow(a, ra)[c];
        const sl_value *y = &sl_batch_crow(b, rb)[c];
        cr_assert_eq(x->kind, y->kind, "column %d kind %d vs %d", c, x->kind,
                     y->kind);
        switch (x->kind) {
        case SL_V_INT:
            cr_assert_eq(x->u.i, y->u.i, "column %d", c);
            break;
        case SL_V_REAL:
            cr_assert_eq(x->u.d, y->u.d, "column %d", c);
            break;
        case SL_V_TEXT:
        case SL_V_BLOB:
            cr_assert_eq(x->len, y->len, "column %d", c);
            cr_assert(!memcmp(x->u.b, y->u.b, x->len), "column %d", c);
            break;
        default:
            break;
        }
    }
}

static void roundtrip(const char *format)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    kt_topic(b, "all", 1);
    const char *opts[] = {"connector", "kafka", "topic", "all",
                          "properties.bootstrap.servers", bs, "format", format,
                          "scan.startup.mode", "earliest-offset",
                          "scan.bounded.mode", "latest-offset",
                          /* so that a NULL STRING is not read back as '' */
                          "csv.null-literal", "\\N", NULL};
    kt_table *t = kt_table_new(all_cols, opts);
    if (strcmp(format, "csv"))
        t->opts.n--; /* drop the csv option for other formats */
    sl_sink *sink = kt_open_sink(t);
    sl_batch *wb = sl_batch_new(t->info.schema, 8);
    for (int k = 0; k < 3; k++)
        fill_row(wb, k);
    kt_write(sink, wb, 1, 30000);
    sink->ops->close(sink);

    /* kcat sees three records with the text. */
    sl_buf out;
    sl_buf_init(&out, 0);
    const char *argv[] = {"/usr/bin/kcat", "-b", bs,     "-t",
                          "all",           "-C", "-e",   "-o",
                          "beginning",     "-f", "%s\n", NULL};
    cr_assert_eq(sl_test_run(argv, NULL, &out, NULL, 30000), 0);
    cr_assert(strstr(sl_buf_cstr(&out), "llo"), "%s", sl_buf_cstr(&out));
    sl_buf_free(&out);

    sl_source *src = kt_open_source(t);
    sl_batch *rb = sl_batch_new(t->info.schema, 8);
    sl_read_status st;
    sl_err err;
    int rc;
    do {
        rc = kt_read(src, rb, 100, 30000, &st, &err);
    } while (!rc && st != SL_READ_EOF);
    cr_assert_eq(rc, SL_OK, "%s", err.msg);
    cr_assert_eq(rb->n_rows, 3);
    for (int k = 0; k < 3; k++)
        assert_same(wb, k, rb, k);
    src->ops->close(src);
    sl_batch_free(wb);
    sl_batch_free(rb);
    kt_table_free(t);
    sl_test_broker_stop(b);
}

Test(kafka_formats, json_roundtrip_all_types, .timeout = 120)
{
    roundtrip("json");
}

Test(kafka_formats, csv_roundtrip_all_types, .timeout = 120)
{
    roundtrip("csv");
}

/* Produce lines with kcat; read with the source; return the read code. */
static int read_bad(const char *bs, const char *topic, const char *input,
                    const char *format, bool ignore, int *n_rows,
                    uint64_t *skipped, sl_err *err)
{
    const char *argv[] = {
        "/usr/bin/kcat", "-b", bs, "-t", topic, "-P", "-p", "0", NULL};
    cr_assert_eq(sl_test_run(argv, input, NULL, NULL, 30000), 0);
    char key[64];
    sl_snprintf(key, sizeof(key), "%s.ignore-parse-errors", format);
    const char *opts[] = {"connector",
                          "kafka",
                          "topic",
                          topic,
                          "properties.bootstrap.servers",
                          bs,
                          "format",
                          format,
                          "scan.startup.mode",
                          "earliest-offset",
                          "scan.bounded.mode",
                          "latest-offset",
                          key,
                          ignore ? "true" : "false",
                          NULL};
    const char *cols[] = {"user_id BIGINT", "name STRING", NULL};
    kt_table *t = kt_table_new(cols, opts);
    t->info.name = "clicks";
    sl_source *src = kt_open_source(t);
    sl_batch *rb = sl_batch_new(t->info.schema, 64);
    sl_read_status st;
    int rc;
    do {
        rc = kt_read(src, rb, 100, 30000, &st, err);
    } while (!rc && st != SL_READ_EOF);
    *n_rows = rb->n_rows;
    *skipped = sl_kafka_source_skipped(src);
    src->ops->close(src);
    sl_batch_free(rb);
    kt_table_free(t);
    return rc;
}

Test(kafka_formats, malformed_records_fail_or_skip, .timeout = 180)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    kt_topic(b, "clicks", 1);
    kt_topic(b, "clicks2", 1);
    const char *input = "{\"user_id\": 1, \"name\": \"a\"}\n"
                        "{\"user_id\": \"x\", \"name\": \"b\"}\n"
                        "{\"user_id\": 3, \"na\n"
                        "{\"user_id\": 4, \"name\": \"d\"}\n";
    int n = 0;
    uint64_t skipped = 0;
    sl_err err;
    int rc = read_bad(bs, "clicks", input, "json", false, &n, &skipped, &err);
    cr_assert_neq(rc, SL_OK);
    cr_assert(strstr(err.msg, "kafka topic 'clicks' partition 0 offset 1: "),
              "%s", err.msg);
    cr_assert(strstr(err.msg, "user_id"), "%s", err.msg);
    cr_assert_eq(n, 1);

    rc = read_bad(bs, "clicks2", input, "json", true, &n, &skipped, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.msg);
    cr_assert_eq(n, 2);
    cr_assert_eq(skipped, 2);
    sl_test_broker_stop(b);
}
