/*
 * bench_kafka.c: Kafka JSON -> Sluice's Kafka source and json decoder ->
 * json encoder and Kafka sink -> Kafka, on one thread, in records/s,
 * printed beside raw librdkafka consume and produce rates measured in the
 * same run against the same in-process mock broker.
 *
 * The mock broker keeps only a few MB per partition, so every phase
 * produces and consumes concurrently: a feeder thread produces N records
 * of ~200 bytes, staying at most LEAD records ahead of the measured
 * consumer. Timing starts at the first record the consumer sees (the
 * mock's group join delay is not counted).
 *
 *   ./build/bench/bench_kafka [N]        (default 1000000)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "connector.h"
#include "format.h"

#define PARTITIONS 4
#define LEAD       20000

typedef struct feeder {
    const char *bootstrap;
    const char *topic;
    long n;
    volatile long consumed; /* updated by the measured side */
    double seconds;         /* produce time */
} feeder;

static int make_record(char *buf, size_t size, long i)
{
    return sl_snprintf(
        buf, size,
        "{\"user_id\":%ld,\"url\":\"https://example.com/"
        "products/%06ld?ref=search\",\"ts\":\"2024-01-02 "
        "03:04:%02ld.%03ld\",\"score\":0.%04ld,\"country\":"
        "\"NL\",\"agent\":\"Mozilla/5.0 (X11; Linux x86_64) Gecko Firefox/120.0"
        "\"}",
        100000 + i, i % 1000000, i % 60, i % 1000, i % 10000);
}

static rd_kafka_t *new_client(rd_kafka_type_t type, const char *bs,
                              const char *group)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bs, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof(errstr));
    if (type == RD_KAFKA_PRODUCER) {
        rd_kafka_conf_set(conf, "linger.ms", "5", errstr, sizeof(errstr));
        rd_kafka_conf_set(conf, "queue.buffering.max.kbytes", "65536", errstr,
                          sizeof(errstr));
    } else {
        rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr));
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr,
                          sizeof(errstr));
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr,
                          sizeof(errstr));
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "bench_kafka: %s\n", errstr);
        exit(1);
    }
    return rk;
}

static void *feed_main(void *arg)
{
    feeder *f = arg;
    rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, f->bootstrap, NULL);
    char rec[512];
    int64_t t0 = sl_mono_ns();
    for (long i = 0; i < f->n; i++) {
        while (i - f->consumed > LEAD)
            rd_kafka_poll(rk, 1);
        int len = make_record(rec, sizeof(rec), i);
        while (
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(f->topic),
                              RD_KAFKA_V_PARTITION((int32_t)(i % PARTITIONS)),
                              RD_KAFKA_V_VALUE(rec, (size_t)len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 1);
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 60000);
    f->seconds = (double)(sl_mono_ns() - t0) / 1e9;
    rd_kafka_destroy(rk);
    return NULL;
}

/* Raw librdkafka consume of topic while a feeder produces it. */
static double raw_consume(const char *bs, const char *topic, feeder *f)
{
    rd_kafka_t *rk = new_client(RD_KAFKA_CONSUMER, bs, "bench-raw");
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *msgs[1024];
    long n = 0;
    int64_t t0 = 0;
    while (n < f->n) {
        ssize_t got = rd_kafka_consume_batch_queue(q, 100, msgs, 1024);
        for (ssize_t i = 0; i < got; i++) {
            if (!msgs[i]->err) {
                if (!t0)
                    t0 = sl_mono_ns();
                n++;
            }
            rd_kafka_message_destroy(msgs[i]);
        }
        f->consumed = n;
    }
    double s = (double)(sl_mono_ns() - t0) / 1e9;
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return (double)n / s;
}

/* The Sluice work per record without Kafka: json decode into a batch and
 * json encode of each row (what the pipeline adds to raw consume). */
static double codec_only(const sl_schema *schema, long n)
{
    const sl_format *json = sl_format_find("json");
    int col_map[6] = {0, 1, 2, 3, 4, 5};
    sl_options opts = {0, NULL};
    sl_format_info info = {schema, col_map, &opts, "json."};
    sl_decoder *dec = NULL;
    sl_encoder *enc = NULL;
    sl_err err;
    sl_err_clear(&err);
    if (json->open_decoder(&info, &dec, &err) ||
        json->open_encoder(&info, &enc, &err)) {
        fprintf(stderr, "bench_kafka: %s\n", err.msg);
        exit(1);
    }
    sl_batch *batch = sl_batch_new(schema, 1024);
    sl_buf out;
    sl_buf_init(&out, 1u << 20);
    char rec[512];
    size_t bytes = 0;
    int64_t t0 = sl_mono_ns();
    for (long i = 0; i < n; i++) {
        int len = make_record(rec, sizeof(rec), i);
        if (sl_batch_is_full(batch)) {
            for (int r = 0; r < batch->n_rows; r++) {
                sl_buf_reset(&out);
                enc->encode(enc, batch, r, &out, &err);
                bytes += out.len;
            }
            sl_batch_clear(batch);
        }
        sl_value *row = sl_batch_append_row(batch);
        if (dec->decode(dec, rec, (size_t)len, batch, row, &err)) {
            fprintf(stderr, "bench_kafka: decode: %s\n", err.msg);
            exit(1);
        }
    }
    double s = (double)(sl_mono_ns() - t0) / 1e9;
    sl_buf_free(&out);
    sl_batch_free(batch);
    dec->close(dec);
    enc->close(enc);
    return bytes ? (double)n / s : 0;
}

/* Sluice: source(json) -> batch -> sink(json) on this thread. */
static double sluice_pipeline(const char *bs, feeder *f, double *sink_rate,
                              double *codec_rate)
{
    sl_arena arena;
    sl_arena_init(&arena, 4096, 0);
    const char *names[] = {"user_id", "url", "ts", "score", "country", "agent"};
    sl_type ts3 = *sl_type_simple(SL_TYPE_TIMESTAMP);
    ts3.precision = 3;
    const sl_type *types[] = {sl_type_simple(SL_TYPE_BIGINT),
                              sl_type_simple(SL_TYPE_VARCHAR),
                              &ts3,
                              sl_type_simple(SL_TYPE_DOUBLE),
                              sl_type_simple(SL_TYPE_VARCHAR),
                              sl_type_simple(SL_TYPE_VARCHAR)};
    sl_schema *schema = sl_schema_new(&arena, 6, names, types);
    *codec_rate = codec_only(schema, f->n);
    const char *meta[6] = {NULL};
    bool virt[6] = {false};
    sl_option in_items[] = {
        {"connector", "kafka", false},
        {"topic", "in2", false},
        {"properties.bootstrap.servers", bs, false},
        {"properties.group.id", "bench-sluice", false},
        {"scan.startup.mode", "earliest-offset", false},
        {"format", "json", false},
    };
    sl_option out_items[] = {
        {"connector", "kafka", false},
        {"topic", "out", false},
        {"properties.bootstrap.servers", bs, false},
        {"format", "json", false},
    };
    sl_options in_opts = {6, in_items}, out_opts = {4, out_items};
    pthread_t t;
    pthread_create(&t, NULL, feed_main, f);
    sl_table_info in = {.name = "in2",
                        .schema = schema,
                        .metadata_keys = meta,
                        .metadata_virtual = virt,
                        .options = &in_opts,
                        .batch_rows = 1024};
    sl_table_info out = in;
    out.name = "out";
    out.options = &out_opts;
    const sl_connector *kafka = sl_connector_find("kafka");
    sl_source *src = NULL;
    sl_sink *sink = NULL;
    sl_err err;
    sl_err_clear(&err);
    if (kafka->open_source(&in, &src, &err) ||
        kafka->open_sink(&out, &sink, &err)) {
        fprintf(stderr, "bench_kafka: %s\n", err.msg);
        exit(1);
    }
    sl_batch *batch = sl_batch_new(schema, 1024);
    long n = 0;
    uint64_t seq = 0;
    int64_t t0 = 0;
    while (n < f->n) {
        sl_read_status st;
        sl_batch_clear(batch);
        if (src->ops->read(src, batch, &st, &err)) {
            fprintf(stderr, "bench_kafka: read: %s\n", err.msg);
            exit(1);
        }
        if (batch->n_rows) {
            if (!t0)
                t0 = sl_mono_ns();
            if (!getenv("BENCH_NOSINK") &&
                sink->ops->write(sink, batch, ++seq, &err)) {
                fprintf(stderr, "bench_kafka: write: %s\n", err.msg);
                exit(1);
            }
            /* at-least-once bookkeeping, as the job loop does */
            sink->ops->acked(sink);
            n += batch->n_rows;
            f->consumed = n;
        } else {
            sink->ops->poll(sink, &err);
            usleep(200);
        }
    }
    int64_t t1 = sl_mono_ns();
    if (sink->ops->flush(sink, 60000, &err))
        fprintf(stderr, "bench_kafka: flush: %s\n", err.msg);
    double s_loop = (double)(t1 - t0) / 1e9;
    double s_all = (double)(sl_mono_ns() - t0) / 1e9;
    *sink_rate = (double)n / s_all;
    sl_batch_free(batch);
    src->ops->close(src);
    sink->ops->close(sink);
    sl_arena_free(&arena);
    pthread_join(t, NULL);
    return (double)n / s_loop;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    if (n <= 0)
        n = 1000000;
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof(errstr));
    rd_kafka_t *host =
        rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(host, 1);
    const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
    rd_kafka_mock_topic_create(mc, "in", PARTITIONS, 1);
    rd_kafka_mock_topic_create(mc, "in2", PARTITIONS, 1);
    rd_kafka_mock_topic_create(mc, "out", PARTITIONS, 1);
    char rec[512];
    int rec_len = make_record(rec, sizeof(rec), 123456);

    printf("bench_kafka: %ld records of %d bytes, %d partitions, mock broker "
           "%s\n",
           n, rec_len, PARTITIONS, bs);
    feeder f1 = {bs, "in", n, 0, 0};
    pthread_t t;
    pthread_create(&t, NULL, feed_main, &f1);
    double raw_c = raw_consume(bs, "in", &f1);
    pthread_join(t, NULL);
    double raw_p = (double)n / f1.seconds;

    feeder f2 = {bs, "in2", n, 0, 0};
    double sink_rate = 0, codec = 0;
    double sluice = sluice_pipeline(bs, &f2, &sink_rate, &codec);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("raw librdkafka produce (feeder, concurrent) %10.0f records/s\n",
           raw_p);
    printf("raw librdkafka consume                      %10.0f records/s\n",
           raw_c);
    printf("sluice kafka json -> json (one thread)      %10.0f records/s  "
           "(%.0f%% of raw consume)\n",
           sluice, 100.0 * sluice / raw_c);
    printf("  including final sink flush                %10.0f records/s\n",
           sink_rate);
    printf("json decode + encode only (no Kafka)        %10.0f records/s\n",
           codec);
    printf("max RSS %ld MB\n", ru.ru_maxrss / 1024);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(host);
    return 0;
}
