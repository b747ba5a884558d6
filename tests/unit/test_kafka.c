/*
 * test_kafka.c: the Kafka connector against a real Kafka-protocol broker
 * (librdkafka's mock cluster over TCP on 127.0.0.1), with kcat as the
 * independent client: raw round trips with keys, headers and timestamps,
 * startup and bounded modes, metadata columns, offsets committed only on
 * ack, a broker that goes down for 10 s, option errors, and the
 * `sluice broker` program.
 */
#include <signal.h>
#include <stdio.h>

#include "test_kafka_util.h"

static const char *kcat = "/usr/bin/kcat";

static void kcat_produce(const char *bs, const char *topic, const char *input,
                         const char *const *extra)
{
    const char *argv[32] = {kcat, "-b", bs, "-t", topic, "-P", "-K", ":"};
    int n = 8;
    for (int i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    cr_assert_eq(sl_test_run(argv, input, NULL, NULL, 30000), 0);
}

static char *kcat_consume(const char *bs, const char *topic, const char *fmt)
{
    sl_buf out;
    sl_buf_init(&out, 0);
    const char *argv[] = {kcat, "-b", bs,          "-t", topic, "-C",
                          "-e", "-o", "beginning", "-f", fmt,   NULL};
    cr_assert_eq(sl_test_run(argv, NULL, &out, NULL, 30000), 0);
    return sl_buf_steal(&out);
}

static void set_text(sl_batch *b, sl_value *v, const char *s)
{
    cr_assert_eq(sl_batch_set_text(b, v, s, strlen(s)), SL_OK);
}

static const char *text_of(const sl_batch *b, int r, int c)
{
    const sl_value *v = &sl_batch_crow(b, r)[c];
    return v->kind == SL_V_TEXT ? v->u.s : "(null)";
}

Test(kafka, raw_sink_key_headers_timestamp_read_by_kcat_and_source,
     .timeout = 120)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    kt_topic(b, "raw1", 1);
    const char *cols[] = {"k STRING", "v STRING", "h MAP headers",
                          "ts TS_LTZ timestamp", NULL};
    const char *opts[] = {"connector",
                          "kafka",
                          "topic",
                          "raw1",
                          "properties.bootstrap.servers",
                          bs,
                          "value.format",
                          "raw",
                          "key.format",
                          "raw",
                          "key.fields",
                          "k",
                          "value.fields-include",
                          "EXCEPT_KEY",
                          NULL};
    kt_table *t = kt_table_new(cols, opts);
    sl_sink *sink = kt_open_sink(t);
    sl_batch *batch = sl_batch_new(t->info.schema, 16);
    for (int i = 0; i < 3; i++) {
        sl_value *row = sl_batch_append_row(batch);
        char k[16], v[16];
        sl_snprintf(k, sizeof(k), "key%d", i);
        sl_snprintf(v, sizeof(v), "value %d", i);
        set_text(batch, &row[0], k);
        set_text(batch, &row[1], v);
        /* "aGk=" is base64 of "hi" */
        set_text(batch, &row[2], "{\"trace\":\"aGk=\"}");
        row[3] = sl_value_int(1700000000000LL + i);
    }
    kt_write(sink, batch, 1, 30000);
    sink->ops->close(sink);

    char *out = kcat_consume(bs, "raw1", "%k|%h|%s|%T\n");
    cr_assert_str_eq(out, "key0|trace=hi|value 0|1700000000000\n"
                          "key1|trace=hi|value 1|1700000000001\n"
                          "key2|trace=hi|value 2|1700000000002\n");
    sl_free(out);

    /* Read back with the source: bounded at the latest offset. */
    const char *rcols[] = {"k STRING",
                           "v STRING",
                           "h MAP headers",
                           "ts TS_LTZ timestamp",
                           "p INT partition",
                           "o BIGINT offset",
                           "tp STRING topic",
                           "tt STRING timestamp-type",
                           NULL};
    const char *ropts[] = {"connector",
                           "kafka",
                           "topic",
                           "raw1",
                           "properties.bootstrap.servers",
                           bs,
                           "value.format",
                           "raw",
                           "key.format",
                           "raw",
                           "key.fields",
                           "k",
                           "value.fields-include",
                           "EXCEPT_KEY",
                           "scan.startup.mode",
                           "earliest-offset",
                           "scan.bounded.mode",
                           "latest-offset",
                           NULL};
    kt_table *rt = kt_table_new(rcols, ropts);
    sl_source *src = kt_open_source(rt);
    cr_assert(src->is_bounded);
    sl_batch *rb = sl_batch_new(rt->info.schema, 64);
    sl_read_status st;
    sl_err err;
    int rc;
    do {
        rc = kt_read(src, rb, 1000, 30000, &st, &err);
    } while (!rc && st != SL_READ_EOF);
    cr_assert_eq(rc, SL_OK, "%s", err.msg);
    cr_assert_eq(rb->n_rows, 3);
    for (int i = 0; i < 3; i++) {
        char k[16];
        sl_snprintf(k, sizeof(k), "key%d", i);
        cr_assert_str_eq(text_of(rb, i, 0), k);
        cr_assert_str_eq(text_of(rb, i, 2), "{\"trace\":\"aGk=\"}");
        cr_assert_eq(sl_batch_crow(rb, i)[3].u.i, 1700000000000LL + i);
        cr_assert_eq(sl_batch_crow(rb, i)[4].u.i, 0);
        cr_assert_eq(sl_batch_crow(rb, i)[5].u.i, i);
        cr_assert_str_eq(text_of(rb, i, 6), "raw1");
        cr_assert_str_eq(text_of(rb, i, 7), "CreateTime");
        cr_assert_eq(rb->pos[i].split, 0);
        cr_assert_eq(rb->pos[i].offset, i);
    }
    src->ops->close(src);
    sl_batch_free(rb);
    sl_batch_free(batch);
    kt_table_free(rt);
    kt_table_free(t);
    sl_test_broker_stop(b);
}

Test(kafka, kcat_records_read_with_metadata, .timeout = 120)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    kt_topic(b, "in1", 2);
    const char *extra[] = {"-p", "1", "-H", "a=b", "-H", "bin=\x01z", NULL};
    kcat_produce(bs, "in1", "x:one\ny:two\n", extra);
    const char *cols[] = {"v BYTES",
                          "h MAP headers",
                          "p INT partition",
                          "o BIGINT offset",
                          "ts TS_LTZ timestamp",
                          "le INT leader-epoch",
                          NULL};
    const char *opts[] = {"connector",
                          "kafka",
                          "topic",
                          "in1",
                          "properties.bootstrap.servers",
                          bs,
                          "format",
                          "raw",
                          "scan.startup.mode",
                          "earliest-offset",
                          "scan.bounded.mode",
                          "latest-offset",
                          NULL};
    kt_table *t = kt_table_new(cols, opts);
    sl_source *src = kt_open_source(t);
    sl_batch *batch = sl_batch_new(t->info.schema, 64);
    sl_read_status st;
    sl_err err;
    int rc;
    do {
        rc = kt_read(src, batch, 1000, 30000, &st, &err);
    } while (!rc && st != SL_READ_EOF);
    cr_assert_eq(rc, SL_OK, "%s", err.msg);
    cr_assert_eq(batch->n_rows, 2);
    const sl_value *r0 = sl_batch_crow(batch, 0);
    cr_assert_eq(r0[0].kind, SL_V_BLOB);
    cr_assert_eq(r0[0].len, 3);
    cr_assert(!memcmp(r0[0].u.b, "one", 3));
    cr_assert_str_eq(text_of(batch, 0, 1), "{\"a\":\"Yg==\",\"bin\":\"AXo=\"}");
    cr_assert_eq(r0[2].u.i, 1);
    cr_assert_eq(r0[3].u.i, 0);
    cr_assert_eq(sl_batch_crow(batch, 1)[3].u.i, 1);
    int64_t now = sl_now_ms();
    cr_assert(r0[4].kind == SL_V_INT && r0[4].u.i > now - 120000 &&
              r0[4].u.i <= now + 1000);
    cr_assert_eq(r0[5].kind, SL_V_NULL);
    cr_assert_eq(batch->pos[0].split, 1);
    src->ops->close(src);
    sl_batch_free(batch);
    kt_table_free(t);
    sl_test_broker_stop(b);
}

/* Produce "0".."n-1" with kcat to partition 0 of topic. */
static void produce_numbers(const char *bs, const char *topic, int from, int to)
{
    sl_buf in;
    sl_buf_init(&in, 0);
    for (int i = from; i < to; i++)
        sl_buf_printf(&in, "k:%d\n", i);
    const char *extra[] = {"-p", "0", NULL};
    kcat_produce(bs, topic, sl_buf_cstr(&in), extra);
    sl_buf_free(&in);
}

/* Read a bounded source to EOF; return values joined by ','. */
static char *read_to_eof(const char *bs, const char *topic,
                         const char *const *extra_opts)
{
    const char *opts[40] = {
        "connector", "kafka",  "topic", topic, "properties.bootstrap.servers",
        bs,          "format", "raw"};
    int n = 8;
    for (int i = 0; extra_opts[i]; i++)
        opts[n++] = extra_opts[i];
    opts[n] = NULL;
    const char *cols[] = {"v STRING", NULL};
    kt_table *t = kt_table_new(cols, opts);
    sl_source *src = kt_open_source(t);
    sl_batch *batch = sl_batch_new(t->info.schema, 1024);
    sl_read_status st;
    sl_err err;
    int rc;
    do {
        rc = kt_read(src, batch, 100000, 30000, &st, &err);
    } while (!rc && st != SL_READ_EOF);
    cr_assert_eq(rc, SL_OK, "%s", err.msg);
    sl_buf out;
    sl_buf_init(&out, 0);
    for (int i = 0; i < batch->n_rows; i++)
        sl_buf_printf(&out, "%s%s", i ? "," : "", text_of(batch, i, 0));
    src->ops->close(src);
    sl_batch_free(batch);
    kt_table_free(t);
    return sl_buf_steal(&out);
}

Test(kafka, startup_and_bounded_modes, .timeout = 180)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    kt_topic(b, "modes", 1);
    produce_numbers(bs, "modes", 0, 5);
    usleep(50000);
    int64_t mid = sl_now_ms();
    usleep(50000);
    produce_numbers(bs, "modes", 5, 8);

    struct {
        const char *opts[9];
        const char *want;
    } cases[] = {
        {{"scan.startup.mode", "earliest-offset", "scan.bounded.mode",
          "latest-offset", NULL},
         "0,1,2,3,4,5,6,7"},
        {{"scan.startup.mode", "specific-offsets",
          "scan.startup.specific-offsets", "partition:0,offset:6",
          "scan.bounded.mode", "latest-offset", NULL},
         "6,7"},
        {{"scan.startup.mode", "earliest-offset", "scan.bounded.mode",
          "specific-offsets", "scan.bounded.specific-offsets",
          "partition:0,offset:3", NULL},
         "0,1,2"},
        {{"scan.startup.mode", "latest-offset", "scan.bounded.mode",
          "latest-offset", NULL},
         ""},
        {{"scan.startup.mode", "earliest-offset", "scan.bounded.mode",
          "specific-offsets", "scan.bounded.specific-offsets",
          "partition:0,offset:0", NULL},
         ""},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        char *got = read_to_eof(bs, "modes", cases[i].opts);
        cr_assert_str_eq(got, cases[i].want, "case %zu", i);
        sl_free(got);
    }
    /* timestamp startup and bound */
    char ts[32];
    sl_snprintf(ts, sizeof(ts), "%lld", (long long)mid);
    const char *o1[] = {"scan.startup.mode",
                        "timestamp",
                        "scan.startup.timestamp-millis",
                        ts,
                        "scan.bounded.mode",
                        "latest-offset",
                        NULL};
    char *got = read_to_eof(bs, "modes", o1);
    cr_assert_str_eq(got, "5,6,7");
    sl_free(got);
    const char *o2[] = {"scan.startup.mode",
                        "earliest-offset",
                        "scan.bounded.mode",
                        "timestamp",
                        "scan.bounded.timestamp-millis",
                        ts,
                        NULL};
    got = read_to_eof(bs, "modes", o2);
    cr_assert_str_eq(got, "0,1,2,3,4");
    sl_free(got);
    sl_test_broker_stop(b);
}

Test(kafka, offsets_committed_only_on_ack, .timeout = 180)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    kt_topic(b, "acks", 1);
    produce_numbers(bs, "acks", 0, 6);
    const char *cols[] = {"v STRING", NULL};
    const char *opts[] = {"connector",
                          "kafka",
                          "topic",
                          "acks",
                          "properties.bootstrap.servers",
                          bs,
                          "format",
                          "raw",
                          "properties.group.id",
                          "g1",
                          "properties.session.timeout.ms",
                          "6000",
                          "scan.startup.mode",
                          "group-offsets",
                          "properties.auto.offset.reset",
                          "earliest",
                          NULL};
    kt_table *t = kt_table_new(cols, opts);
    sl_source *src = kt_open_source(t);
    sl_batch *batch = sl_batch_new(t->info.schema, 64);
    sl_read_status st;
    sl_err err;
    cr_assert_eq(kt_read(src, batch, 6, 30000, &st, &err), SL_OK, "%s",
                 err.msg);
    cr_assert_eq(batch->n_rows, 6);
    /* The sink acknowledged rows up to offset 3 only. */
    sl_srcpos pos = {batch->pos[3].split, batch->pos[3].offset};
    cr_assert_eq(src->ops->ack(src, &pos, 1, &err), SL_OK, "%s", err.msg);
    src->ops->close(src); /* the async commit completes on close */
    sl_batch_free(batch);
    kt_table_free(t);

    /* A new member of the group resumes after the acked offset. */
    const char *extra[] = {"properties.group.id",
                           "g1",
                           "properties.session.timeout.ms",
                           "6000",
                           "scan.startup.mode",
                           "group-offsets",
                           "scan.bounded.mode",
                           "latest-offset",
                           NULL};
    char *got = read_to_eof(bs, "acks", extra);
    cr_assert_str_eq(got, "4,5");
    sl_free(got);
    sl_test_broker_stop(b);
}

/* Mark the integer values of rb's first column in seen; return how many
 * were new. */
static int mark_rows(sl_batch *rb, bool *seen, int cap)
{
    int n_new = 0;
    for (int i = 0; i < rb->n_rows; i++) {
        const char *t = text_of(rb, i, 0);
        int64_t v = 0;
        cr_assert_eq(sl_parse_int64(t, strlen(t), &v), SL_OK);
        cr_assert(v >= 0 && v < cap);
        if (!seen[v]) {
            seen[v] = true;
            n_new++;
        }
    }
    sl_batch_clear(rb);
    return n_new;
}

Test(kafka, broker_down_then_up_loses_nothing, .timeout = 300)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    rd_kafka_mock_cluster_t *mc = sl_test_broker_cluster(b);
    kt_topic(b, "down", 1);
    const char *cols[] = {"v STRING", NULL};
    /* A short message timeout makes deliveries fail while the broker is
     * down, so the sink's redelivery path is exercised. */
    const char *opts[] = {"connector",
                          "kafka",
                          "topic",
                          "down",
                          "properties.bootstrap.servers",
                          bs,
                          "format",
                          "raw",
                          "properties.message.timeout.ms",
                          "3000",
                          "scan.startup.mode",
                          "earliest-offset",
                          NULL};
    kt_table *t = kt_table_new(cols, opts);
    sl_sink *sink = kt_open_sink(t);
    sl_source *src = kt_open_source(t);
    enum { CAP = 100000 };
    sl_batch *wb = sl_batch_new(t->info.schema, 16);
    sl_batch *rb = sl_batch_new(t->info.schema, 4096);
    bool *seen_src = sl_calloc(CAP, 1);
    sl_err err;
    sl_read_status st;
    int n_rows = 0, n_src = 0;
    uint64_t seq = 0;
    int64_t start = sl_now_ms();
    bool down = false, was_down = false;
    while (sl_now_ms() - start < 16000) {
        int64_t el = sl_now_ms() - start;
        if (!down && !was_down && el > 2000) {
            cr_assert_eq(rd_kafka_mock_broker_set_down(mc, 1), 0);
            down = was_down = true;
        }
        if (down && el > 12000) {
            cr_assert_eq(rd_kafka_mock_broker_set_up(mc, 1), 0);
            down = false;
        }
        sl_batch_clear(wb);
        for (int i = 0; i < 10; i++) {
            char v[16];
            sl_snprintf(v, sizeof(v), "%d", n_rows++);
            set_text(wb, &sl_batch_append_row(wb)[0], v);
        }
        cr_assert_eq(sink->ops->write(sink, wb, ++seq, &err), SL_OK, "%s",
                     err.msg);
        cr_assert_eq(sink->ops->poll(sink, &err), SL_OK, "%s", err.msg);
        /* The source keeps running (no error) throughout. */
        cr_assert_eq(src->ops->read(src, rb, &st, &err), SL_OK, "%s", err.msg);
        n_src += mark_rows(rb, seen_src, CAP);
        usleep(20000);
    }
    cr_assert_eq(sink->ops->flush(sink, 60000, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sink->ops->acked(sink), seq);
    /* Every row is in the topic (duplicates allowed: at-least-once). */
    char *out = kcat_consume(bs, "down", "%s\n");
    bool *seen = sl_calloc((size_t)n_rows, 1);
    int n_seen = 0, n_lines = 0;
    for (char *p = out; *p;) {
        char *nl = strchr(p, '\n');
        *nl = '\0';
        int64_t v = 0;
        cr_assert_eq(sl_parse_int64(p, strlen(p), &v), SL_OK);
        cr_assert(v >= 0 && v < n_rows);
        if (!seen[v]) {
            seen[v] = true;
            n_seen++;
        }
        n_lines++;
        p = nl + 1;
    }
    cr_assert_eq(n_seen, n_rows, "%d of %d rows delivered (%d records)", n_seen,
                 n_rows, n_lines);
    sl_free(seen);
    sl_free(out);
    /* The source, still running, reads every row too. */
    int64_t deadline = sl_now_ms() + 60000;
    while (n_src < n_rows && sl_now_ms() < deadline) {
        int rc = kt_read(src, rb, 1, 1000, &st, &err);
        cr_assert(rc == SL_OK || rc == SL_TIMEOUT, "%s", err.msg);
        n_src += mark_rows(rb, seen_src, CAP);
    }
    cr_assert_eq(n_src, n_rows, "the source read %d of %d rows", n_src, n_rows);
    sl_free(seen_src);
    src->ops->close(src);
    sink->ops->close(sink);
    sl_batch_free(wb);
    sl_batch_free(rb);
    kt_table_free(t);
    sl_test_broker_stop(b);
}

Test(kafka, option_errors)
{
    struct {
        const char *opts[16];
        bool sink;
        const char *want;
    } cases[] = {
        {{"topic", "x", "properties.bootstrap.servers", "127.0.0.1:1", NULL},
         false,
         "requires option 'format'"},
        {{"format", "raw", "properties.bootstrap.servers", "127.0.0.1:1", NULL},
         false,
         "requires option 'topic'"},
        {{"topic", "x", "format", "raw", NULL},
         false,
         "requires option 'properties.bootstrap.servers'"},
        {{"topic", "x", "format", "raw", "properties.bootstrap.servers",
          "127.0.0.1:1", "sink.delivery-guarantee", "exactly-once", NULL},
         true,
         "exactly-once"},
        {{"topic", "x", "format", "raw", "properties.bootstrap.servers",
          "127.0.0.1:1", "scan.startup.mode", "timestamp", NULL},
         false,
         "requires 'scan.startup.timestamp-millis'"},
        {{"topic", "x", "format", "raw", "properties.bootstrap.servers",
          "127.0.0.1:1", "scan.startup.mode", "specific-offsets",
          "scan.startup.specific-offsets", "partition:x", NULL},
         false,
         "expected 'partition:N,offset:M;...'"},
        {{"topic", "x", "format", "nope", "properties.bootstrap.servers",
          "127.0.0.1:1", NULL},
         false,
         "unknown value format 'nope'"},
        {{"topic", "a;b", "format", "raw", "properties.bootstrap.servers",
          "127.0.0.1:1", NULL},
         true,
         "exactly one topic"},
        {{"topic", "x", "format", "raw", "properties.bootstrap.servers",
          "127.0.0.1:1", "properties.no.such.thing", "1", NULL},
         false,
         "properties.no.such.thing"},
    };
    const char *cols[] = {"v STRING", NULL};
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        kt_table *t = kt_table_new(cols, cases[i].opts);
        const sl_connector *c = sl_connector_find("kafka");
        sl_err err;
        sl_err_clear(&err);
        int rc;
        if (cases[i].sink) {
            sl_sink *sink = NULL;
            rc = c->open_sink(&t->info, &sink, &err);
            cr_assert_null(sink);
        } else {
            sl_source *src = NULL;
            rc = c->open_source(&t->info, &src, &err);
            cr_assert_null(src);
        }
        cr_assert_neq(rc, SL_OK, "case %zu", i);
        cr_assert(strstr(err.msg, cases[i].want), "case %zu: %s", i, err.msg);
        kt_table_free(t);
    }
}

Test(kafka, embedded_broker_shared_in_process, .timeout = 120)
{
    const char *cols[] = {"v STRING", NULL};
    const char *opts[] = {"connector",
                          "kafka",
                          "topic",
                          "emb",
                          "properties.bootstrap.servers",
                          "embedded",
                          "format",
                          "raw",
                          "scan.startup.mode",
                          "earliest-offset",
                          NULL};
    kt_table *t = kt_table_new(cols, opts);
    sl_source *src = kt_open_source(t); /* holds the embedded broker */
    sl_sink *sink = kt_open_sink(t);
    sl_batch *wb = sl_batch_new(t->info.schema, 4);
    set_text(wb, &sl_batch_append_row(wb)[0], "hello");
    kt_write(sink, wb, 7, 30000);
    sink->ops->close(sink);
    sl_batch *rb = sl_batch_new(t->info.schema, 4);
    sl_read_status st;
    sl_err err;
    cr_assert_eq(kt_read(src, rb, 1, 30000, &st, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(rb->n_rows, 1);
    cr_assert_str_eq(text_of(rb, 0, 0), "hello");
    src->ops->close(src);
    sl_batch_free(wb);
    sl_batch_free(rb);
    kt_table_free(t);
}

Test(kafka, sink_partitioners, .timeout = 120)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    kt_topic(b, "rr", 3);
    kt_topic(b, "fx", 3);
    const char *cols[] = {"v STRING", NULL};
    const char *names[] = {"rr", "fx"};
    const char *modes[] = {"round-robin", "fixed"};
    for (int m = 0; m < 2; m++) {
        const char *opts[] = {"connector",
                              "kafka",
                              "topic",
                              names[m],
                              "properties.bootstrap.servers",
                              bs,
                              "format",
                              "raw",
                              "sink.partitioner",
                              modes[m],
                              NULL};
        kt_table *t = kt_table_new(cols, opts);
        sl_sink *sink = kt_open_sink(t);
        sl_batch *wb = sl_batch_new(t->info.schema, 8);
        for (int i = 0; i < 6; i++)
            set_text(wb, &sl_batch_append_row(wb)[0], "x");
        kt_write(sink, wb, 1, 30000);
        sink->ops->close(sink);
        sl_batch_free(wb);
        kt_table_free(t);
        char *out = kcat_consume(bs, names[m], "%p");
        int count[3] = {0, 0, 0};
        for (char *p = out; *p; p++)
            count[*p - '0']++;
        if (m == 0)
            cr_assert(count[0] == 2 && count[1] == 2 && count[2] == 2, "%s",
                      out);
        else
            cr_assert(count[0] == 6, "%s", out);
        sl_free(out);
    }
    sl_test_broker_stop(b);
}

Test(kafka, broker_command_serves_kcat_and_stops_on_sigterm, .timeout = 120)
{
    const char *argv[] = {sl_test_sluice_bin(),
                          "broker",
                          "--partitions",
                          "2",
                          "--topic",
                          "cmd",
                          NULL};
    char line[256];
    sl_test_proc *proc =
        sl_test_proc_start(argv, "bootstrap:", 30000, line, sizeof(line));
    cr_assert_not_null(proc);
    const char *bs = line + strlen("bootstrap: ");
    cr_assert(!strncmp(bs, "127.0.0.1:", 10), "%s", line);
    char boot[128];
    sl_strlcpy(boot, bs, sizeof(boot));
    kcat_produce(boot, "cmd", "a:1\nb:2\n", NULL);
    char *out = kcat_consume(boot, "cmd", "%k=%s\n");
    cr_assert(strstr(out, "a=1\n") && strstr(out, "b=2\n"), "%s", out);
    sl_free(out);
    cr_assert_eq(sl_test_proc_stop(proc, SIGTERM, 10000), 0);
}

Test(kafka, broker_command_fixed_port, .timeout = 120)
{
    /* Pick a port that is free now. */
    int port = 20000 + (int)(getpid() % 20000);
    char port_s[16];
    sl_snprintf(port_s, sizeof(port_s), "%d", port);
    const char *argv[] = {sl_test_sluice_bin(), "broker", "--port", port_s,
                          NULL};
    char line[256];
    sl_test_proc *proc =
        sl_test_proc_start(argv, "bootstrap:", 30000, line, sizeof(line));
    cr_assert_not_null(proc);
    char want[64];
    sl_snprintf(want, sizeof(want), "bootstrap: 127.0.0.1:%d", port);
    cr_assert_str_eq(line, want);
    char boot[64];
    sl_snprintf(boot, sizeof(boot), "127.0.0.1:%d", port);
    kcat_produce(boot, "fixed", "a:1\n", NULL);
    char *out = kcat_consume(boot, "fixed", "%k=%s\n");
    cr_assert_str_eq(out, "a=1\n");
    sl_free(out);
    cr_assert_eq(sl_test_proc_stop(proc, SIGINT, 10000), 0);
}

/* ops->lag: records after the read position, up to the high watermark
 * librdkafka learnt from its last fetch; unknown (-1) before any fetch. */
Test(kafka, lag_counts_records_after_the_read_position, .timeout = 120)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    kt_topic(b, "lag", 1);
    produce_numbers(bs, "lag", 0, 100);
    const char *cols[] = {"v STRING", NULL};
    const char *opts[] = {"connector",
                          "kafka",
                          "topic",
                          "lag",
                          "properties.bootstrap.servers",
                          bs,
                          "format",
                          "raw",
                          "scan.startup.mode",
                          "earliest-offset",
                          NULL};
    kt_table *t = kt_table_new(cols, opts);
    sl_source *src = kt_open_source(t);
    cr_assert_not_null(src->ops->lag);
    cr_assert_eq(src->ops->lag(src), -1); /* nothing assigned yet */
    sl_batch *batch = sl_batch_new(t->info.schema, 30);
    sl_read_status st;
    sl_err err;
    cr_assert_eq(kt_read(src, batch, 30, 30000, &st, &err), SL_OK, "%s",
                 err.msg);
    cr_assert_eq(batch->n_rows, 30);
    cr_assert_eq(src->ops->lag(src), 70);
    sl_batch *all = sl_batch_new(t->info.schema, 256);
    cr_assert_eq(kt_read(src, all, 70, 30000, &st, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(all->n_rows, 70);
    cr_assert_eq(src->ops->lag(src), 0);
    /* 20 more: the lag shows them once fetched, until they are read */
    produce_numbers(bs, "lag", 100, 120);
    int64_t lag = 0;
    for (int i = 0; i < 300 && lag != 20; i++) {
        usleep(20 * 1000);
        lag = src->ops->lag(src);
    }
    cr_assert_eq(lag, 20);
    sl_batch_clear(all);
    cr_assert_eq(kt_read(src, all, 20, 30000, &st, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(all->n_rows, 20);
    cr_assert_eq(src->ops->lag(src), 0);
    src->ops->close(src);
    sl_batch_free(batch);
    sl_batch_free(all);
    kt_table_free(t);
    sl_test_broker_stop(b);
}
