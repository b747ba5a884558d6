/*
 * test_kafka_avro.c: the 'avro-confluent' format through the Kafka sink
 * and source against a real broker (mock cluster over TCP) and a small
 * Confluent Schema Registry served over HTTP by this test (a thread on
 * 127.0.0.1: POST /subjects/{s}/versions, GET /schemas/ids/{id}). Checks
 * the round trip of every scalar type, the wire header kcat sees, reading
 * records written by another producer with a different writer schema, and
 * the malformed cases: bad magic byte, unknown schema id, truncated body.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "format_avro_int.h"
#include "test_kafka_util.h"

uint64_t sl_kafka_source_skipped(sl_source *src);

/* ---- a minimal schema registry ------------------------------------------ */

typedef struct registry {
    int listen_fd, port;
    int stop[2];
    pthread_t thread;
    char *schemas[64];
    int n_schemas;
    int n_registered;
} registry;

static void reply(int fd, int status, const char *body)
{
    char head[256];
    int n = sl_snprintf(head, sizeof(head),
                        "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                        status, strlen(body));
    if (write(fd, head, (size_t)n) < 0 || write(fd, body, strlen(body)) < 0)
        return;
}

static void serve(registry *r, int fd)
{
    sl_buf in;
    sl_buf_init(&in, 1 << 20);
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n <= 0)
            break;
        sl_buf_append(&in, chunk, (size_t)n);
        const char *end = strstr(sl_buf_cstr(&in), "\r\n\r\n");
        if (!end)
            continue;
        const char *cl = strcasestr(sl_buf_cstr(&in), "Content-Length:");
        size_t want = cl ? (size_t)strtol(cl + 15, NULL, 10) : 0;
        if (in.len - (size_t)(end + 4 - in.data) >= want)
            break;
    }
    const char *req = sl_buf_cstr(&in);
    const char *body = strstr(req, "\r\n\r\n");
    int id = 0;
    if (!strncmp(req, "POST /subjects/", 15) && body) {
        json_t *j = json_loads(body + 4, 0, NULL);
        const char *s = json_string_value(json_object_get(j, "schema"));
        int found = 0;
        for (int i = 0; s && i < r->n_schemas; i++)
            if (!strcmp(r->schemas[i], s))
                found = i + 1;
        if (!found && s && r->n_schemas < 64) {
            r->schemas[r->n_schemas++] = sl_strdup(s);
            found = r->n_schemas;
        }
        r->n_registered++;
        json_decref(j);
        char out[64];
        sl_snprintf(out, sizeof(out), "{\"id\":%d}", found);
        reply(fd, 200, out);
    } else if (sscanf(req, "GET /schemas/ids/%d", &id) == 1 && id >= 1 &&
               id <= r->n_schemas) {
        json_t *j = json_pack("{s:s}", "schema", r->schemas[id - 1]);
        char *out = json_dumps(j, JSON_COMPACT);
        reply(fd, 200, out);
        free(out);
        json_decref(j);
    } else {
        reply(fd, 404,
              "{\"error_code\":40403,\"message\":\"Schema not "
              "found\"}");
    }
    sl_buf_free(&in);
    close(fd);
}

static void *registry_main(void *arg)
{
    registry *r = arg;
    for (;;) {
        struct pollfd p[2] = {{r->stop[0], POLLIN, 0},
                              {r->listen_fd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0 || p[0].revents)
            break;
        int fd = accept(r->listen_fd, NULL, NULL);
        if (fd >= 0)
            serve(r, fd);
    }
    return NULL;
}

static registry *registry_start(void)
{
    registry *r = sl_calloc(1, sizeof(*r));
    r->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(a);
    cr_assert_eq(bind(r->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(r->listen_fd, 16), 0);
    getsockname(r->listen_fd, (struct sockaddr *)&a, &alen);
    r->port = ntohs(a.sin_port);
    cr_assert_eq(pipe(r->stop), 0);
    pthread_create(&r->thread, NULL, registry_main, r);
    return r;
}

static void registry_stop(registry *r)
{
    cr_assert_eq(write(r->stop[1], "x", 1), 1);
    pthread_join(r->thread, NULL);
    close(r->listen_fd);
    close(r->stop[0]);
    close(r->stop[1]);
    for (int i = 0; i < r->n_schemas; i++)
        sl_free(r->schemas[i]);
    sl_free(r);
}

/* ---- helpers ------------------------------------------------------------- */

static const char *cols[] = {"s STRING",    "b BYTES",  "i INT",
                             "l BIGINT",    "d DOUBLE", "f BOOLEAN",
                             "tl TS_LTZ",   "dt DATE",  "ts TIMESTAMP",
                             "sm SMALLINT", "fl FLOAT", "tm TIME",
                             "n STRING",    NULL};

static void fill_row(sl_batch *b, int k)
{
    sl_value *row = sl_batch_append_row(b);
    char s[64];
    sl_snprintf(s, sizeof(s), "h\xc3\xa9llo %d", k);
    sl_batch_set_text(b, &row[0], s, strlen(s));
    unsigned char bytes[4] = {0, 1, 2, (unsigned char)(250 + k)};
    sl_batch_set_blob(b, &row[1], bytes, 4);
    row[2] = sl_value_int(-42 - k);
    row[3] = sl_value_int((1LL << 40) + k);
    row[4] = sl_value_real(3.25 + k);
    row[5] = sl_value_int(k % 2);
    row[6] = sl_value_int(1700000000123LL + k);
    row[7] = sl_value_int(19000 + k);
    row[8] = sl_value_int(1700000000456LL + k);
    row[9] = sl_value_int(-7 - k);
    row[10] = sl_value_real(0.5 + k);
    row[11] = sl_value_int(3723000 + k);
    row[12] = sl_value_null();
}

static void assert_same(const sl_batch *a, int ra, const sl_batch *b, int rb)
{
    for (int c = 0; c < a->n_cols; c++) {
        const sl_value *x = &sl_batch_crow(a, ra)[c];
        const sl_value *y = &sl_batch_crow(b, rb)[c];
        cr_assert_eq(x->kind, y->kind, "column %d", c);
        if (x->kind == SL_V_INT)
            cr_assert_eq(x->u.i, y->u.i, "column %d", c);
        else if (x->kind == SL_V_REAL)
            cr_assert_eq(x->u.d, y->u.d, "column %d", c);
        else if (x->kind == SL_V_TEXT || x->kind == SL_V_BLOB)
            cr_assert(x->len == y->len && !memcmp(x->u.b, y->u.b, x->len),
                      "column %d", c);
    }
}

static int read_all(kt_table *t, sl_batch *rb, sl_source **srcp, sl_err *err)
{
    sl_source *src = kt_open_source(t);
    sl_read_status st;
    int rc;
    do {
        rc = kt_read(src, rb, 1000, 30000, &st, err);
    } while (!rc && st != SL_READ_EOF);
    *srcp = src;
    return rc;
}

/* ---- tests --------------------------------------------------------------- */

Test(kafka_avro, roundtrip_all_types_and_wire_header, .timeout = 120)
{
    registry *reg = registry_start();
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    kt_topic(b, "av", 1);
    char url[64];
    sl_snprintf(url, sizeof(url), "http://127.0.0.1:%d", reg->port);
    const char *opts[] = {"connector",
                          "kafka",
                          "topic",
                          "av",
                          "properties.bootstrap.servers",
                          bs,
                          "format",
                          "avro-confluent",
                          "avro-confluent.url",
                          url,
                          "scan.startup.mode",
                          "earliest-offset",
                          "scan.bounded.mode",
                          "latest-offset",
                          NULL};
    kt_table *t = kt_table_new(cols, opts);
    sl_sink *sink = kt_open_sink(t);
    sl_batch *wb = sl_batch_new(t->info.schema, 8);
    for (int k = 0; k < 3; k++)
        fill_row(wb, k);
    kt_write(sink, wb, 1, 30000);
    sink->ops->close(sink);
    cr_assert_eq(reg->n_schemas, 1);
    cr_assert(strstr(reg->schemas[0], "\"name\":\"record\""), "%s",
              reg->schemas[0]);

    /* kcat: every record starts with magic 0 and schema id 1. */
    sl_buf out;
    sl_buf_init(&out, 0);
    const char *argv[] = {
        "/usr/bin/kcat", "-b", bs,        "-t", "av", "-C", "-e", "-o",
        "beginning",     "-f", "%S:%s\n", NULL};
    cr_assert_eq(sl_test_run(argv, NULL, &out, NULL, 30000), 0);
    cr_assert(out.len > 12 &&
              !memcmp(strchr(out.data, ':') + 1, "\x00\x00\x00\x00\x01", 5));
    sl_buf_free(&out);

    sl_batch *rb = sl_batch_new(t->info.schema, 8);
    sl_source *src = NULL;
    sl_err err;
    cr_assert_eq(read_all(t, rb, &src, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(rb->n_rows, 3);
    for (int k = 0; k < 3; k++)
        assert_same(wb, k, rb, k);
    src->ops->close(src);
    sl_batch_free(wb);
    sl_batch_free(rb);
    kt_table_free(t);
    sl_test_broker_stop(b);
    registry_stop(reg);
}

/* Produce raw bytes to topic partition 0 with a plain librdkafka producer
 * (another writer). */
static void produce_bytes(const char *bs, const char *topic, const void *data,
                          size_t len)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bs, errstr, sizeof(errstr));
    rd_kafka_t *rk =
        rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    cr_assert_not_null(rk);
    cr_assert_eq(rd_kafka_producev(
                     rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                     RD_KAFKA_V_VALUE((void *)data, len),
                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                 0);
    cr_assert_eq(rd_kafka_flush(rk, 10000), 0);
    rd_kafka_destroy(rk);
}

Test(kafka_avro, other_writer_schema_and_malformed_records, .timeout = 180)
{
    registry *reg = registry_start();
    /* Writer schema: fields in another order, an extra field, int where
     * the table has BIGINT, a union with the null branch second. */
    reg->schemas[reg->n_schemas++] = sl_strdup(
        "{\"type\":\"record\",\"name\":\"Click\",\"namespace\":\"x\","
        "\"fields\":[{\"name\":\"extra\",\"type\":{\"type\":\"array\","
        "\"items\":\"string\"}},{\"name\":\"name\",\"type\":[\"string\","
        "\"null\"]},{\"name\":\"user_id\",\"type\":\"int\"}]}");
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    kt_topic(b, "clicks", 1);
    kt_topic(b, "clicks2", 1);
    /* offset 0: good: extra=["a"], name="bob" (branch 0), user_id=-3 */
    const unsigned char good[] = {0, 0, 0, 0,   1,   2,   2, 'a',
                                  0, 0, 6, 'b', 'o', 'b', 5};
    const unsigned char bad_magic[] = {1, 0, 0, 0, 1, 0, 2, 5};
    const unsigned char bad_id[] = {0, 0, 0, 0, 99, 0, 2, 5};
    const unsigned char truncated[] = {0, 0, 0, 0, 1, 2, 2, 'a', 0, 0, 40};
    const char *topics[] = {"clicks", "clicks2"};
    for (int i = 0; i < 2; i++) {
        produce_bytes(bs, topics[i], good, sizeof(good));
        produce_bytes(bs, topics[i], bad_magic, sizeof(bad_magic));
        produce_bytes(bs, topics[i], bad_id, sizeof(bad_id));
        produce_bytes(bs, topics[i], truncated, sizeof(truncated));
        produce_bytes(bs, topics[i], good, sizeof(good));
    }
    char url[64];
    sl_snprintf(url, sizeof(url), "http://127.0.0.1:%d", reg->port);
    const char *tcols[] = {"user_id BIGINT", "name STRING", NULL};
    const char *opts[] = {"connector",
                          "kafka",
                          "topic",
                          "clicks",
                          "properties.bootstrap.servers",
                          bs,
                          "format",
                          "avro-confluent",
                          "avro-confluent.url",
                          url,
                          "scan.startup.mode",
                          "earliest-offset",
                          "scan.bounded.mode",
                          "latest-offset",
                          NULL};
    kt_table *t = kt_table_new(tcols, opts);
    sl_batch *rb = sl_batch_new(t->info.schema, 64);
    sl_source *src = NULL;
    sl_err err;
    /* Default: fail at offset 1 on the magic byte. */
    cr_assert_neq(read_all(t, rb, &src, &err), SL_OK);
    cr_assert(strstr(err.msg, "kafka topic 'clicks' partition 0 offset 1: "
                              "avro-confluent: unknown magic byte 0x01"),
              "%s", err.msg);
    cr_assert_eq(rb->n_rows, 1);
    cr_assert_eq(sl_batch_crow(rb, 0)[0].u.i, -3);
    cr_assert_str_eq(sl_batch_crow(rb, 0)[1].u.s, "bob");
    src->ops->close(src);
    kt_table_free(t);

    /* Skip and count: 2 good rows, 3 skipped (magic, id, truncated). */
    const char *opts2[] = {"connector",
                           "kafka",
                           "topic",
                           "clicks2",
                           "properties.bootstrap.servers",
                           bs,
                           "format",
                           "avro-confluent",
                           "avro-confluent.url",
                           url,
                           "avro-confluent.ignore-parse-errors",
                           "true",
                           "scan.startup.mode",
                           "earliest-offset",
                           "scan.bounded.mode",
                           "latest-offset",
                           NULL};
    t = kt_table_new(tcols, opts2);
    sl_batch_clear(rb);
    cr_assert_eq(read_all(t, rb, &src, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(rb->n_rows, 2);
    cr_assert_eq(sl_kafka_source_skipped(src), 3);
    src->ops->close(src);
    kt_table_free(t);
    sl_batch_free(rb);
    sl_test_broker_stop(b);
    registry_stop(reg);
}

Test(kafka_avro, unknown_schema_id_message)
{
    registry *reg = registry_start();
    const char *tcols[] = {"user_id BIGINT", NULL};
    kt_table *t = kt_table_new(tcols, (const char *const[]){NULL});
    char url[64];
    sl_snprintf(url, sizeof(url), "http://127.0.0.1:%d", reg->port);
    sl_option o = {"avro-confluent.url", url, false};
    sl_options opts = {1, &o};
    int col_map[] = {0};
    sl_format_info info = {t->info.schema, col_map, &opts, "avro-confluent."};
    const sl_format *f = sl_format_find("avro-confluent");
    sl_decoder *dec = NULL;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(f->open_decoder(&info, &dec, &err), SL_OK, "%s", err.msg);
    sl_batch *batch = sl_batch_new(t->info.schema, 4);
    sl_value *row = sl_batch_append_row(batch);
    cr_assert_eq(dec->decode(dec, "\0\0\0\0\x07\x02", 6, batch, row, &err),
                 SL_ERROR);
    cr_assert(strstr(err.msg, "unknown schema id 7"), "%s", err.msg);
    dec->close(dec);
    sl_batch_free(batch);
    kt_table_free(t);
    registry_stop(reg);
}
