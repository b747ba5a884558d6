/*
 * bench_kafka.c: issue 5's throughput benchmark. Kafka JSON -> Sluice's
 * Kafka source and json decoder -> a filter/project SQL stage -> json
 * encoder and Kafka sink -> Kafka, on one thread, in records/s, printed
 * beside raw librdkafka produce and consume rates measured in the same run
 * against the same kind of in-process mock broker (a new one per phase)
 * with the same client settings,
 * and beside the same pipeline fed from memory (no broker) against the
 * 1 M records/s goal.
 *
 * The librdkafka mock broker keeps at most 5 MB per partition, so each
 * topic gets enough partitions for all N records to stay (about 4 MB per
 * partition); then every phase can run on its own: produce N, then
 * consume them. With --concurrent a feeder thread produces while the
 * measured side consumes (at most LEAD records ahead), as the first
 * version of this bench did; on two shared cores that measures the feeder
 * more than the consumer.
 *
 * The mock broker answers a fetch that finds no data only after the full
 * 'fetch.wait.max.ms' (it does not wake on new data like a real broker),
 * so every client here uses fetch.wait.max.ms = 5 (docs/kafka.md
 * "Performance").
 *
 * The Sluice loop does the job loop's at-least-once work too: it waits on
 * the source's and sink's fds when nothing is fetched and commits the
 * offsets of rows whose records the sink reports delivered. The raw
 * consume -> produce loop uses what the sink uses (produce_batch, F_COPY,
 * a sticky partition per batch) but no delivery reports. Besides rates the
 * bench prints CPU per record: of the job thread, of the whole process per
 * phase, and for the Sluice phase per thread role (job, librdkafka
 * consumer, librdkafka producer, mock broker).
 *
 *   ./build/bench/bench_kafka [N] [--concurrent] [--no-broker]
 *                             [--sluice-kafka] [--one-cluster] [--job]
 *   (default N = 1000000; --no-broker runs only the memory pipeline,
 *   --sluice-kafka only Sluice's Kafka pipeline, e.g. under perf,
 *   --one-cluster every phase on one mock cluster, as before round 3,
 *   --job only the whole-engine phase: the query as an INSERT INTO job
 *   through the public API)
 *
 * Environment: BENCH_CONSUMER / BENCH_PRODUCER / BENCH_FEEDER =
 * "key=value,..." change the client settings (printed at the start);
 * BENCH_PERF_CTL=<fifo> drives `perf record -D -1 --control fifo:<fifo>`
 * so that only the measured phases are profiled; BENCH_TRACE=1 prints the
 * Sluice loop's read / work / idle times; BENCH_JOB_SQL="SET ...;" runs
 * before the engine phase's tables (e.g. another 'sluice.batch-rows').
 */
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "connector.h"
#include "format.h"
#include "job.h"
#include "sluice.h"
#include "stage.h"

#define LEAD          20000
#define PART_BYTES    (4u << 20)
#define MAX_PARTS     256
#define MEM_RECORDS   65536
#define BATCH_ROWS    1024
#define RECORD_ROOM   512
#define FLUSH_TIMEOUT 120000

/* The same settings for the raw clients and for Sluice's source and sink
 * (passed as 'properties.*'); the rest are Sluice's defaults, repeated
 * here for the raw clients so both sides run the same configuration. */
static const char *consumer_props[16][2] = {
    {"fetch.wait.max.ms", "5"},
    {"queued.min.messages", "1000000"},
    {"queued.max.messages.kbytes", "262144"},
    {"fetch.max.bytes", "8388608"},
    {"enable.auto.commit", "false"},
    {"auto.offset.reset", "earliest"},
    {NULL, NULL},
};
static const char *producer_props[16][2] = {
    {"linger.ms", "5"},
    {"enable.idempotence", "true"},
    {"queue.buffering.max.kbytes", "65536"},
    {"queue.buffering.max.messages", "200000"},
    {NULL, NULL},
};

/* filter (keeps 90%) and project (drops 'agent') */
static const char *const stage_sql =
    "SELECT t.user_id, t.url, t.ts, t.score, t.country, t._row "
    "FROM {input} AS t WHERE t.user_id % 10 <> 0";

static int n_parts = 4;
static double sluice_cpu_us, mem_cpu_us, through_cpu_us; /* per record */

/* CPU of the whole process (all threads, the mock broker's included). */
static int64_t process_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct phase_cpu {
    int64_t t0, c0;
    double wall_s, cpu_s;
} phase_cpu;

/* BENCH_PERF_CTL=<fifo>: write "enable" / "disable" to perf record's
 * --control fifo around each measured phase, so a profile holds only the
 * measured work (bench/RESULTS.md shows the command). */
static void perf_ctl(const char *cmd)
{
    const char *path = getenv("BENCH_PERF_CTL");
    if (!path)
        return;
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(cmd, f);
        fclose(f);
    }
}

static phase_cpu cpu_consume, cpu_through, cpu_sluice;

static void phase_start(phase_cpu *p)
{
    /* BENCH_PERF_SLUICE: profile the Sluice phase only */
    if (p == &cpu_sluice || !getenv("BENCH_PERF_SLUICE"))
        perf_ctl("enable\n");
    p->t0 = sl_mono_ns();
    p->c0 = process_cpu_ns();
}

static void phase_end(phase_cpu *p)
{
    p->wall_s = (double)(sl_mono_ns() - p->t0) / 1e9;
    p->cpu_s = (double)(process_cpu_ns() - p->c0) / 1e9;
    perf_ctl("disable\n");
}

/* CPU per thread of the Sluice phase, by role: the threads that opening
 * the source and the sink started are librdkafka's consumer and producer
 * threads; 'rdk:mock' is the mock broker; the main thread is the job
 * thread. Read from /proc/self/task/<tid>/schedstat (ns on CPU). */
enum { TG_JOB, TG_CONSUMER, TG_PRODUCER, TG_MOCK, TG_OTHER, TG__N };
static const char *const tg_names[TG__N] = {
    "job thread (Sluice + librdkafka calls)", "librdkafka consumer threads",
    "librdkafka producer threads", "mock broker thread", "other threads"};
typedef struct task_cpu {
    int tid, group;
    int64_t ns[2];
} task_cpu;
static task_cpu tasks[128];
static int n_tasks;

static int64_t task_ns(int tid)
{
    char path[64];
    sl_snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
    FILE *f = fopen(path, "r");
    long long ns = 0;
    if (f) {
        if (fscanf(f, "%lld", &ns) != 1)
            ns = 0;
        fclose(f);
    }
    return ns;
}

/* Record the threads not seen yet as members of group. */
static void threads_scan(int group)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d)) && n_tasks < (int)SL_ARRAY_LEN(tasks)) {
        int tid = (int)strtol(e->d_name, NULL, 10);
        bool seen = tid <= 0;
        for (int i = 0; i < n_tasks && !seen; i++)
            seen = tasks[i].tid == tid;
        if (seen)
            continue;
        char path[64], comm[32] = "";
        sl_snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(comm, sizeof(comm), f))
                comm[0] = 0;
            fclose(f);
        }
        int g = group;
        if (tid == (int)getpid())
            g = TG_JOB;
        else if (!strncmp(comm, "rdk:mock", 8))
            g = TG_MOCK;
        tasks[n_tasks++] = (task_cpu){tid, g, {0, 0}};
    }
    if (d)
        closedir(d);
}

static void threads_sample(int at)
{
    for (int i = 0; i < n_tasks; i++)
        tasks[i].ns[at] = task_ns(tasks[i].tid);
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
static bool concurrent, only_memory, only_kafka, only_job;

typedef struct feeder {
    const char *bootstrap;
    const char *topic;
    long n;
    volatile long consumed; /* updated by the measured side */
    bool lead;              /* stay at most LEAD records ahead */
    double seconds;         /* produce time, including the final flush */
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

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_kafka: %s: %s\n", what, msg);
    exit(1);
}

/* What the feeder (the producer writing the input topics) sets on top of
 * producer_props: it shapes the input topic's batches, i.e. the data the
 * measured consumers read. */
static const char *feeder_props[16][2] = {
    {NULL, NULL},
};
static bool feeding;

static rd_kafka_t *new_client(rd_kafka_type_t type, const char *bs,
                              const char *group)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bs, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof(errstr));
    const char *(*props)[2] =
        type == RD_KAFKA_PRODUCER ? producer_props : consumer_props;
    for (int i = 0; props[i][0]; i++)
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], errstr,
                              sizeof(errstr)))
            die(props[i][0], errstr);
    if (group)
        rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr));
    for (int i = 0; feeding && feeder_props[i][0]; i++)
        if (rd_kafka_conf_set(conf, feeder_props[i][0], feeder_props[i][1],
                              errstr, sizeof(errstr)))
            die(feeder_props[i][0], errstr);
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!rk)
        die("client", errstr);
    return rk;
}

static void *feed_main(void *arg)
{
    feeder *f = arg;
    feeding = true;
    rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, f->bootstrap, NULL);
    feeding = false;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, f->topic, NULL);
    char rec[RECORD_ROOM];
    int64_t t0 = sl_mono_ns();
    for (long i = 0; i < f->n; i++) {
        while (f->lead && i - f->consumed > LEAD)
            rd_kafka_poll(rk, 1);
        int len = make_record(rec, sizeof(rec), i);
        while (rd_kafka_produce(rkt, (int32_t)(i % n_parts),
                                RD_KAFKA_MSG_F_COPY, rec, (size_t)len, NULL, 0,
                                NULL) == -1)
            rd_kafka_poll(rk, 1);
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, FLUSH_TIMEOUT);
    f->seconds = (double)(sl_mono_ns() - t0) / 1e9;
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return NULL;
}

/* Produce f->n records: on a feeder thread (returned in *t) when
 * concurrent, else right here. */
static void start_feed(feeder *f, pthread_t *t)
{
    f->lead = concurrent;
    if (concurrent)
        pthread_create(t, NULL, feed_main, f);
    else
        feed_main(f);
}

/* Raw librdkafka consume of f->topic (group subscription as Sluice). */
static double raw_consume(const char *bs, feeder *f)
{
    pthread_t t;
    start_feed(f, &t);
    rd_kafka_t *rk = new_client(RD_KAFKA_CONSUMER, bs, "bench-raw");
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, f->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *msgs[1024];
    long n = 0;
    size_t bytes = 0;
    int64_t t0 = 0;
    while (n < f->n) {
        ssize_t got = rd_kafka_consume_batch_queue(q, 100, msgs, 1024);
        for (ssize_t i = 0; i < got; i++) {
            if (!msgs[i]->err) {
                if (!t0) {
                    t0 = sl_mono_ns();
                    phase_start(&cpu_consume);
                }
                n++;
                bytes += msgs[i]->len;
            }
            rd_kafka_message_destroy(msgs[i]);
        }
        f->consumed = n;
    }
    double s = (double)(sl_mono_ns() - t0) / 1e9;
    phase_end(&cpu_consume);
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (concurrent)
        pthread_join(t, NULL);
    return bytes ? (double)n / s : 0;
}

/* Raw librdkafka copy-through: consume f->topic and produce every
 * message's bytes to 'raw_out' on this thread, the librdkafka work a
 * Kafka -> Kafka pipeline cannot avoid. Timed from the first message to
 * the last produce call; *flushed also counts the final flush. */
static long through_full;

static double raw_through(const char *bs, feeder *f, double *flushed)
{
    pthread_t t;
    start_feed(f, &t);
    rd_kafka_t *rk = new_client(RD_KAFKA_CONSUMER, bs, "bench-through");
    rd_kafka_t *pk = new_client(RD_KAFKA_PRODUCER, bs, NULL);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(pk, "raw_out", NULL);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, f->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *msgs[1024];
    rd_kafka_message_t out[1024];
    long n = 0;
    int64_t t0 = 0, c0 = 0, sticky_since = 0;
    int32_t part = 0;
    while (n < f->n) {
        ssize_t got = rd_kafka_consume_batch_queue(q, 100, msgs, 1024);
        int n_out = 0;
        for (ssize_t i = 0; i < got; i++) {
            rd_kafka_message_t *m = msgs[i];
            if (!m->err) {
                if (!t0) {
                    t0 = sl_mono_ns();
                    c0 = thread_cpu_ns();
                    phase_start(&cpu_through);
                }
                n++;
                memset(&out[n_out], 0, sizeof(out[n_out]));
                out[n_out].payload = m->payload;
                out[n_out].len = m->len;
                n_out++;
            }
        }
        /* as Sluice's sink: one produce_batch call per batch, keyless
         * records on a sticky partition (changed every 10 ms) */
        int64_t now = sl_mono_ns();
        if (now - sticky_since >= 10000000) {
            part = (part + 1) % n_parts;
            sticky_since = now;
        }
        for (int done = 0; done < n_out;) {
            int ok = rd_kafka_produce_batch(rkt, part, RD_KAFKA_MSG_F_COPY,
                                            out + done, n_out - done);
            done += ok;
            if (done < n_out) {
                rd_kafka_poll(pk, 1); /* queue full */
                through_full++;
            }
        }
        for (ssize_t i = 0; i < got; i++)
            rd_kafka_message_destroy(msgs[i]);
        rd_kafka_poll(pk, 0);
        f->consumed = n;
    }
    int64_t t1 = sl_mono_ns();
    through_cpu_us = (double)(thread_cpu_ns() - c0) / 1e3 / (double)n;
    rd_kafka_flush(pk, FLUSH_TIMEOUT);
    phase_end(&cpu_through);
    *flushed = (double)n / ((double)(sl_mono_ns() - t0) / 1e9);
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(pk);
    if (concurrent)
        pthread_join(t, NULL);
    return (double)n / ((double)(t1 - t0) / 1e9);
}

typedef struct pipe_schemas {
    sl_arena arena;
    sl_schema *in, *out;
    sqlite3 *db;
    sl_stage *stage;
} pipe_schemas;

static void schemas_init(pipe_schemas *p)
{
    sl_arena_init(&p->arena, 4096, 0);
    const char *names[] = {"user_id", "url", "ts", "score", "country", "agent"};
    sl_type *ts3 = sl_arena_alloc(&p->arena, sizeof(*ts3));
    *ts3 = *sl_type_simple(SL_TYPE_TIMESTAMP);
    ts3->precision = 3;
    const sl_type *types[] = {sl_type_simple(SL_TYPE_BIGINT),
                              sl_type_simple(SL_TYPE_VARCHAR),
                              ts3,
                              sl_type_simple(SL_TYPE_DOUBLE),
                              sl_type_simple(SL_TYPE_VARCHAR),
                              sl_type_simple(SL_TYPE_VARCHAR)};
    p->in = sl_schema_new(&p->arena, 6, names, types);
    p->out = sl_schema_new(&p->arena, 5, names, types);
    sl_err err;
    sl_err_clear(&err);
    if (sl_job_db_open(&p->db, &err)) /* the job thread's connection */
        die("sqlite", err.msg);
    if (sl_stage_new(p->db, p->in, p->out, stage_sql, &p->stage, &err))
        die("stage", err.msg);
}

static void schemas_free(pipe_schemas *p)
{
    sl_stage_free(p->stage);
    sqlite3_close(p->db);
    sl_arena_free(&p->arena);
}

/* Run the stage over in into out, handing every full out batch to emit. */
typedef int (*emit_fn)(void *ctx, sl_batch *out, sl_err *err);

static void run_stage(pipe_schemas *p, const sl_batch *in, sl_batch *out,
                      emit_fn emit, void *ctx)
{
    sl_err err;
    sl_err_clear(&err);
    sl_batch_clear(out);
    if (sl_stage_run(p->stage, in, out, &err))
        die("stage", err.msg);
    for (;;) {
        if (out->n_rows && emit(ctx, out, &err))
            die("emit", err.msg);
        sl_batch_clear(out);
        if (!sl_stage_pending(p->stage))
            break;
        if (sl_stage_resume(p->stage, out, &err))
            die("stage", err.msg);
    }
}

typedef struct mem_sink {
    sl_encoder *enc;
    sl_buf buf;
    size_t bytes;
    long rows;
} mem_sink;

static int mem_emit(void *ctx, sl_batch *out, sl_err *err)
{
    mem_sink *m = ctx;
    for (int r = 0; r < out->n_rows; r++) {
        sl_buf_reset(&m->buf);
        int rc = m->enc->encode(m->enc, out, r, &m->buf, err);
        if (rc)
            return rc;
        m->bytes += m->buf.len;
    }
    m->rows += out->n_rows;
    return SL_OK;
}

/* The Sluice pipeline without a broker: pre-made messages -> json decode
 * into a batch (as the Kafka source does) -> stage -> json encode of each
 * row (what the Kafka sink hands to librdkafka). */
static double no_broker(pipe_schemas *p, long n, long *out_rows)
{
    const sl_format *json = sl_format_find("json");
    int in_map[6] = {0, 1, 2, 3, 4, 5};
    sl_options opts = {0, NULL};
    sl_format_info din = {p->in, in_map, &opts, "json."};
    sl_format_info eout = {p->out, in_map, &opts, "json."};
    sl_decoder *dec = NULL;
    mem_sink ms = {0};
    sl_err err;
    sl_err_clear(&err);
    if (json->open_decoder(&din, &dec, &err) ||
        json->open_encoder(&eout, &ms.enc, &err))
        die("json", err.msg);
    sl_buf_init(&ms.buf, 1u << 20);
    long n_mem = SL_MIN(n, (long)MEM_RECORDS);
    char *recs = sl_malloc((size_t)n_mem * RECORD_ROOM);
    int *lens = sl_malloc(sizeof(int) * (size_t)n_mem);
    if (!recs || !lens)
        die("memory", "out of memory");
    for (long i = 0; i < n_mem; i++)
        lens[i] = make_record(recs + i * RECORD_ROOM, RECORD_ROOM, i);
    sl_batch *in = sl_batch_new(p->in, BATCH_ROWS);
    sl_batch *out = sl_batch_new(p->out, BATCH_ROWS);
    int64_t t0 = sl_mono_ns(), c0 = thread_cpu_ns();
    for (long i = 0; i < n; i++) {
        if (sl_batch_is_full(in)) {
            run_stage(p, in, out, mem_emit, &ms);
            sl_batch_clear(in);
        }
        long k = i % n_mem;
        sl_value *row = sl_batch_append_row(in);
        in->pos[in->n_rows - 1].split = (int32_t)(i % n_parts);
        in->pos[in->n_rows - 1].offset = i;
        if (dec->decode(dec, recs + k * RECORD_ROOM, (size_t)lens[k], in, row,
                        &err))
            die("decode", err.msg);
    }
    run_stage(p, in, out, mem_emit, &ms);
    double s = (double)(sl_mono_ns() - t0) / 1e9;
    mem_cpu_us = (double)(thread_cpu_ns() - c0) / 1e3 / (double)n;
    *out_rows = ms.rows;
    sl_batch_free(in);
    sl_batch_free(out);
    sl_free(recs);
    sl_free(lens);
    sl_buf_free(&ms.buf);
    dec->close(dec);
    ms.enc->close(ms.enc);
    return ms.bytes ? (double)n / s : 0;
}

typedef struct kafka_sink_ctx {
    sl_sink *sink;
    uint64_t seq;
} kafka_sink_ctx;

static int kafka_emit(void *ctx, sl_batch *out, sl_err *err)
{
    kafka_sink_ctx *k = ctx;
    if (getenv("BENCH_NOSINK"))
        return 0;
    return k->sink->ops->write(k->sink, out, ++k->seq, err);
}

static int add_props(sl_option *items, int n, const char *(*props)[2],
                     sl_arena *arena)
{
    for (int i = 0; props[i][0]; i++) {
        char key[128];
        sl_snprintf(key, sizeof(key), "properties.%s", props[i][0]);
        items[n].key = sl_arena_strndup(arena, key, strlen(key));
        items[n].value = props[i][1];
        items[n].used = false;
        n++;
    }
    return n;
}

/* The job loop's at-least-once bookkeeping (runtime/job.c ledger): after
 * each input batch the read frontier (highest offset per partition) is
 * kept with the sink sequence that carries its rows; once the sink reports
 * that sequence delivered, the source acks the frontier, i.e. commits the
 * offsets to the group. */
#define LEDGER_CAP 256
static int64_t frontier[MAX_PARTS];
static struct {
    uint64_t seq;
    int64_t off[MAX_PARTS];
} ledger[LEDGER_CAP];
static int ledger_head, ledger_len;
static uint64_t n_commits;

static void ledger_push(uint64_t seq)
{
    int at;
    if (ledger_len == LEDGER_CAP) {
        at = (ledger_head + ledger_len - 1) % LEDGER_CAP; /* merge */
    } else {
        at = (ledger_head + ledger_len) % LEDGER_CAP;
        ledger_len++;
    }
    ledger[at].seq = seq;
    memcpy(ledger[at].off, frontier, sizeof(int64_t) * (size_t)n_parts);
}

static void ledger_ack(sl_source *src, uint64_t acked)
{
    int k = -1;
    while (ledger_len && ledger[ledger_head].seq <= acked) {
        k = ledger_head;
        ledger_head = (ledger_head + 1) % LEDGER_CAP;
        ledger_len--;
    }
    if (k < 0)
        return;
    sl_srcpos pos[MAX_PARTS];
    int n = 0;
    for (int i = 0; i < n_parts; i++)
        if (ledger[k].off[i] >= 0)
            pos[n++] = (sl_srcpos){i, ledger[k].off[i]};
    sl_err err;
    sl_err_clear(&err);
    if (n && src->ops->ack(src, pos, n, &err))
        die("ack", err.msg);
    n_commits += n > 0;
}

/* Sluice: source(json) -> stage -> sink(json) on this thread, as the job
 * loop runs them. Returns records/s read; *flushed counts the final flush. */
static double sluice_kafka(pipe_schemas *p, const char *bs, feeder *f,
                           double *flushed)
{
    pthread_t t;
    start_feed(f, &t);
    const char *meta[6] = {NULL};
    bool virt[6] = {false};
    sl_option in_items[32] = {
        {"connector", "kafka", false},
        {"topic", f->topic, false},
        {"properties.bootstrap.servers", bs, false},
        {"properties.group.id", "bench-sluice", false},
        {"scan.startup.mode", "earliest-offset", false},
        {"format", "json", false},
    };
    sl_option out_items[32] = {
        {"connector", "kafka", false},
        {"topic", "out", false},
        {"properties.bootstrap.servers", bs, false},
        {"format", "json", false},
    };
    sl_options in_opts = {add_props(in_items, 6, consumer_props, &p->arena),
                          in_items};
    sl_options out_opts = {add_props(out_items, 4, producer_props, &p->arena),
                           out_items};
    sl_table_info in = {.name = f->topic,
                        .schema = p->in,
                        .metadata_keys = meta,
                        .metadata_virtual = virt,
                        .options = &in_opts,
                        .batch_rows = BATCH_ROWS};
    sl_table_info out = in;
    out.name = "out";
    out.schema = p->out;
    out.options = &out_opts;
    const sl_connector *kafka = sl_connector_find("kafka");
    sl_source *src = NULL;
    kafka_sink_ctx ks = {NULL, 0};
    for (int i = 0; i < MAX_PARTS; i++)
        frontier[i] = -1;
    sl_err err;
    sl_err_clear(&err);
    threads_scan(TG_OTHER);
    if (kafka->open_source(&in, &src, &err))
        die("open", err.msg);
    threads_scan(TG_CONSUMER);
    if (kafka->open_sink(&out, &ks.sink, &err))
        die("open", err.msg);
    threads_scan(TG_PRODUCER);
    sl_batch *batch = sl_batch_new(p->in, BATCH_ROWS);
    sl_batch *obatch = sl_batch_new(p->out, BATCH_ROWS);
    long n = 0;
    int64_t t0 = 0, c0 = 0;
    int64_t t_read = 0, t_work = 0, t_idle = 0;
    long n_empty = 0;
    while (n < f->n) {
        sl_read_status st;
        sl_batch_clear(batch);
        int64_t a = sl_mono_ns();
        if (src->ops->read(src, batch, &st, &err))
            die("read", err.msg);
        int64_t b = sl_mono_ns();
        t_read += b - a;
        if (batch->n_rows) {
            if (!t0) {
                t0 = sl_mono_ns();
                c0 = thread_cpu_ns();
                phase_start(&cpu_sluice);
                threads_sample(0);
            }
            for (int r = 0; r < batch->n_rows; r++) {
                const sl_srcpos *pos = &batch->pos[r];
                if (pos->split >= 0 && pos->split < MAX_PARTS &&
                    pos->offset > frontier[pos->split])
                    frontier[pos->split] = pos->offset;
            }
            run_stage(p, batch, obatch, kafka_emit, &ks);
            /* at-least-once bookkeeping, as the job loop does */
            ledger_push(ks.seq);
            ledger_ack(src, ks.sink->ops->acked(ks.sink));
            n += batch->n_rows;
            f->consumed = n;
            t_work += sl_mono_ns() - b;
        } else {
            if (ks.sink->ops->poll(ks.sink, &err))
                die("poll", err.msg);
            /* nothing fetched: wait on the source's and the sink's fds,
             * as the job loop does */
            int64_t wake = 0;
            struct pollfd pf[2] = {
                {.fd = -1, .events = POLLIN},
                {.fd = ks.sink->ops->poll_fd(ks.sink), .events = POLLIN}};
            src->ops->wait_hint(src, &pf[0].fd, &wake);
            int pr = poll(pf, 2, 100);
            if (getenv("BENCH_TRACE") && t0)
                fprintf(stderr,
                        "idle at %.3f s, %ld read: poll %d src %d sink %d "
                        "after %.1f ms\n",
                        (b - t0) / 1e9, n, pr, pf[0].revents, pf[1].revents,
                        (sl_mono_ns() - b) / 1e6);
            if (t0) {
                n_empty++;
                t_idle += sl_mono_ns() - b;
            }
        }
    }
    if (getenv("BENCH_TRACE"))
        fprintf(stderr,
                "read %.3f s, stage+write %.3f s, idle %.3f s (%ld), "
                "%llu commits\n",
                t_read / 1e9, t_work / 1e9, t_idle / 1e9, n_empty,
                (unsigned long long)n_commits);
    int64_t t1 = sl_mono_ns();
    sluice_cpu_us = (double)(thread_cpu_ns() - c0) / 1e3 / (double)n;
    if (ks.sink->ops->flush(ks.sink, FLUSH_TIMEOUT, &err))
        die("flush", err.msg);
    ledger_ack(src, ks.sink->ops->acked(ks.sink));
    phase_end(&cpu_sluice);
    threads_sample(1);
    *flushed = (double)n / ((double)(sl_mono_ns() - t0) / 1e9);
    sl_batch_free(batch);
    sl_batch_free(obatch);
    src->ops->close(src);
    ks.sink->ops->close(ks.sink);
    if (concurrent)
        pthread_join(t, NULL);
    return (double)n / ((double)(t1 - t0) / 1e9);
}

/* An in-process librdkafka mock cluster (one broker) with topics a and b
 * (b may be NULL) of n_parts partitions. */
typedef struct cluster {
    rd_kafka_t *host;
    rd_kafka_mock_cluster_t *mc;
    char bs[256];
} cluster;

/* The same query as a whole Sluice job through the public API: CREATE
 * TABLE (Kafka json source read from the earliest to the latest offsets at
 * start, all partitions assigned without a group join; Kafka json sink,
 * at-least-once) and INSERT INTO, which returns when the bounded job has
 * ended and its sink flushed. Timed from the INSERT to its return, so job
 * start (planning, metadata, connections) is included. *rows_out: records
 * in 'out' afterwards (the sum of its partitions' high watermarks). */
static phase_cpu cpu_job;

static double sluice_job(const char *bs, feeder *f, long *rows_out)
{
    pthread_t t;
    start_feed(f, &t);
    sl_buf props_in, props_out, sql;
    sl_buf_init(&props_in, 0);
    sl_buf_init(&props_out, 0);
    sl_buf_init(&sql, 0);
    for (int i = 0; consumer_props[i][0]; i++)
        if (strcmp(consumer_props[i][0], "enable.auto.commit"))
            sl_buf_printf(&props_in, ", 'properties.%s' = '%s'",
                          consumer_props[i][0], consumer_props[i][1]);
    for (int i = 0; producer_props[i][0]; i++)
        sl_buf_printf(&props_out, ", 'properties.%s' = '%s'",
                      producer_props[i][0], producer_props[i][1]);
    sl_buf_printf(
        &sql,
        "CREATE TABLE src (user_id BIGINT, url STRING, ts TIMESTAMP(3), "
        "score DOUBLE, country STRING, agent STRING) WITH ('connector' = "
        "'kafka', 'topic' = '%s', 'properties.bootstrap.servers' = '%s', "
        "'properties.group.id' = 'bench-job', 'scan.startup.mode' = "
        "'earliest-offset', 'scan.bounded.mode' = 'latest-offset', "
        "'scan.partition-assignment' = 'all', 'format' = 'json'%s);"
        "CREATE TABLE dst (user_id BIGINT, url STRING, ts TIMESTAMP(3), "
        "score DOUBLE, country STRING) WITH ('connector' = 'kafka', 'topic' "
        "= 'job_out', 'properties.bootstrap.servers' = '%s', 'format' = "
        "'json'%s);",
        f->topic, bs, sl_buf_cstr(&props_in), bs, sl_buf_cstr(&props_out));
    sluice *db = NULL;
    if (sluice_open(&db) != SLUICE_OK)
        die("sluice_open", "failed");
    const char *set = getenv("BENCH_JOB_SQL"); /* e.g. SET statements */
    if (set && sluice_exec(db, set, NULL, NULL) != SLUICE_OK)
        die("BENCH_JOB_SQL", sluice_errmsg(db));
    if (sluice_exec(db, sl_buf_cstr(&sql), NULL, NULL) != SLUICE_OK)
        die("job tables", sluice_errmsg(db));
    int64_t t0 = sl_mono_ns();
    phase_start(&cpu_job);
    if (sluice_exec(db,
                    "INSERT INTO dst SELECT user_id, url, ts, score, country "
                    "FROM src WHERE user_id % 10 <> 0",
                    NULL, NULL) != SLUICE_OK)
        die("job", sluice_errmsg(db));
    double secs = (double)(sl_mono_ns() - t0) / 1e9;
    phase_end(&cpu_job);
    sluice_close(db);
    sl_buf_free(&props_in);
    sl_buf_free(&props_out);
    sl_buf_free(&sql);
    if (concurrent)
        pthread_join(t, NULL);
    /* what arrived: the output topic's high watermarks */
    rd_kafka_t *rk = new_client(RD_KAFKA_CONSUMER, bs, "bench-count");
    *rows_out = 0;
    for (int part = 0; part < n_parts; part++) {
        int64_t lo = 0, hi = 0;
        if (!rd_kafka_query_watermark_offsets(rk, "job_out", part, &lo, &hi,
                                              10000))
            *rows_out += hi;
    }
    rd_kafka_destroy(rk);
    return (double)f->n / secs;
}

static bool one_cluster; /* --one-cluster: all phases on the first one */
static cluster shared;

static void cluster_open(cluster *c, const char *a, const char *b)
{
    if (one_cluster && shared.mc) {
        *c = shared;
        rd_kafka_mock_topic_create(c->mc, a, n_parts, 1);
        if (b)
            rd_kafka_mock_topic_create(c->mc, b, n_parts, 1);
        return;
    }
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof(errstr));
    c->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!c->host)
        die("mock host", errstr);
    c->mc = rd_kafka_mock_cluster_new(c->host, 1);
    if (!c->mc)
        die("mock", "cannot create the mock cluster");
    sl_strlcpy(c->bs, rd_kafka_mock_cluster_bootstraps(c->mc), sizeof(c->bs));
    rd_kafka_mock_topic_create(c->mc, a, n_parts, 1);
    if (b)
        rd_kafka_mock_topic_create(c->mc, b, n_parts, 1);
    if (one_cluster)
        shared = *c;
}

static void cluster_close(cluster *c)
{
    if (one_cluster)
        return; /* destroyed at exit */
    rd_kafka_mock_cluster_destroy(c->mc);
    rd_kafka_destroy(c->host);
}

/* Extra settings from the environment (BENCH_CONSUMER / BENCH_PRODUCER =
 * "key=value,key=value"), for both the raw clients and Sluice. */
static void env_props(const char *var, const char *(*props)[2])
{
    const char *text = getenv(var);
    if (!text)
        return;
    char *copy = sl_strdup(text);
    int n = 0;
    while (props[n][0])
        n++;
    for (char *kv = copy, *next; kv && *kv && n < 15; kv = next) {
        next = strchr(kv, ',');
        if (next)
            *next++ = 0;
        char *eq = strchr(kv, '=');
        if (!eq)
            continue;
        *eq = 0;
        int k = 0;
        while (k < n && strcmp(props[k][0], kv))
            k++;
        props[k][0] = kv;
        props[k][1] = eq + 1;
        if (k == n)
            n++;
    }
    props[n][0] = props[n][1] = NULL; /* copy stays until exit */
}

int main(int argc, char **argv)
{
    env_props("BENCH_CONSUMER", consumer_props);
    env_props("BENCH_PRODUCER", producer_props);
    env_props("BENCH_FEEDER", feeder_props);
    long n = 1000000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--concurrent"))
            concurrent = true;
        else if (!strcmp(argv[i], "--no-broker"))
            only_memory = true;
        else if (!strcmp(argv[i], "--sluice-kafka"))
            only_kafka = true;
        else if (!strcmp(argv[i], "--one-cluster"))
            one_cluster = true;
        else if (!strcmp(argv[i], "--job"))
            only_job = true;
        else if (strtol(argv[i], NULL, 10) > 0)
            n = strtol(argv[i], NULL, 10);
    }
    char rec[RECORD_ROOM];
    int rec_len = make_record(rec, sizeof(rec), 123456);
    if (!concurrent) {
        long need = (long)(((double)n * rec_len + PART_BYTES - 1) / PART_BYTES);
        n_parts = (int)SL_MAX(4, SL_MIN(need, (long)MAX_PARTS));
        if (need > MAX_PARTS)
            n = (long)MAX_PARTS * (PART_BYTES / (unsigned)rec_len);
    }
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    printf("bench_kafka: %ld records of %d bytes, %d partitions, %s, "
           "%s, load %.2f\n",
           n, rec_len, n_parts,
           concurrent ? "produce concurrently with consume"
                      : "produce first, then consume",
           one_cluster ? "one in-process mock cluster for all phases"
                       : "a new in-process mock cluster for each phase",
           load[0]);

    const char *(*const sets[3])[2] = {consumer_props, producer_props,
                                       feeder_props};
    const char *const set_names[3] = {"consumer (raw and Sluice source)",
                                      "producer (raw and Sluice sink)",
                                      "input feeder, on top of producer"};
    for (int k = 0; k < 3; k++) {
        printf("  %s:", set_names[k]);
        for (int i = 0; sets[k][i][0]; i++)
            printf(" %s=%s", sets[k][i][0], sets[k][i][1]);
        printf(sets[k][0][0] ? "\n" : " -\n");
    }

    if (only_job) {
        cluster c;
        cluster_open(&c, "in5", "job_out");
        feeder f5 = {c.bs, "in5", n, 0, false, 0};
        long out = 0;
        double job = sluice_job(c.bs, &f5, &out);
        cluster_close(&c);
        printf("sluice job (public API: INSERT INTO, bounded)     %10.0f "
               "records/s  (%ld of %ld rows out), process CPU %.2f "
               "us/record, %.2f cores\n",
               job, out, n, cpu_job.cpu_s * 1e6 / (double)n,
               cpu_job.cpu_s / cpu_job.wall_s);
        return 0;
    }
    pipe_schemas p;
    schemas_init(&p);
    long mem_rows = 0;
    double mem = only_kafka ? 0 : no_broker(&p, n, &mem_rows);
    if (only_memory) {
        printf("sluice pipeline, no broker (memory in/out) %10.0f records/s "
               "(%ld of %ld rows out), job thread CPU %.3f us/record\n",
               mem, mem_rows, n, mem_cpu_us);
        schemas_free(&p);
        return 0;
    }

    /* Each phase gets a new mock cluster: the mock keeps every record in
     * memory, so a phase on a used cluster would pay for the earlier
     * phases' data (fresh pages to zero) as well. */
    cluster c;
    feeder f1 = {NULL, "in", n, 0, false, 1};
    double raw_c = 1;
    if (!only_kafka) {
        cluster_open(&c, "in", NULL);
        f1.bootstrap = c.bs;
        raw_c = raw_consume(c.bs, &f1);
        cluster_close(&c);
    }
    double raw_p = (double)n / f1.seconds;

    feeder f3 = {NULL, "in3", n, 0, false, 1};
    double through_flushed = 0;
    double through = 1;
    if (!only_kafka) {
        cluster_open(&c, "in3", "raw_out");
        f3.bootstrap = c.bs;
        through = raw_through(c.bs, &f3, &through_flushed);
        cluster_close(&c);
    }

    cluster_open(&c, "in2", "out");
    feeder f2 = {c.bs, "in2", n, 0, false, 0};
    double flushed = 0;
    double sluice = sluice_kafka(&p, c.bs, &f2, &flushed);
    double raw_p2 = (double)n / f2.seconds;
    cluster_close(&c);
    schemas_free(&p);

    /* the whole engine: a bounded INSERT job (not with --concurrent: the
     * bound is the latest offsets when the job starts) */
    double job = 0;
    long job_out = 0;
    if (!concurrent) {
        cluster_open(&c, "in5", "job_out");
        feeder f5 = {c.bs, "in5", n, 0, false, 0};
        job = sluice_job(c.bs, &f5, &job_out);
        cluster_close(&c);
    }

    /* raw consume once more, after the other phases (warm allocator,
     * other moment of the machine): the baseline is the better run */
    double raw_c1 = raw_c, raw_c2 = 0;
    if (!only_kafka) {
        phase_cpu first = cpu_consume;
        feeder f4 = {NULL, "in4", n, 0, false, 1};
        cluster_open(&c, "in4", NULL);
        f4.bootstrap = c.bs;
        raw_c2 = raw_consume(c.bs, &f4);
        cluster_close(&c);
        if (raw_c2 > raw_c1)
            raw_c = raw_c2;
        else
            cpu_consume = first;
    }

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("raw librdkafka produce (rd_kafka_produce, F_COPY) %10.0f "
           "records/s (runs %.0f, %.0f, %.0f)%s\n",
           (raw_p + raw_p2 + (double)n / f3.seconds) / 3, raw_p, raw_p2,
           (double)n / f3.seconds,
           concurrent ? " paced by the consumer, group join included" : "");
    printf("raw librdkafka consume (consume_batch_queue)      %10.0f "
           "records/s (better of %.0f first, %.0f last)\n",
           raw_c, raw_c1, raw_c2);
    printf("raw librdkafka consume -> produce, one thread     %10.0f "
           "records/s  (with final flush %.0f)\n",
           through, through_flushed);
    printf("  its thread CPU %.2f us/record, %ld waits for room in the "
           "producer queue\n",
           through_cpu_us, through_full);
    if (only_kafka)
        printf("sluice kafka json -> filter/project -> kafka json %10.0f "
               "records/s\n",
               sluice);
    else
        printf("sluice kafka json -> filter/project -> kafka json %10.0f "
               "records/s  (%.0f%% of raw consume, goal >= 50%%; %.0f%% of "
               "raw consume -> produce)\n",
               sluice, 100.0 * sluice / raw_c, 100.0 * sluice / through);
    printf("  including the final sink flush                  %10.0f "
           "records/s\n",
           flushed);
    printf("  job thread CPU %.2f us/record (%.0f records/s of one core)\n",
           sluice_cpu_us, 1e6 / sluice_cpu_us);
    if (job > 0 && !only_kafka)
        printf("sluice job (public API: INSERT INTO, bounded)     %10.0f "
               "records/s  (%.0f%% of raw consume; job start and final "
               "flush included; %ld of %ld rows out)\n",
               job, 100.0 * job / raw_c, job_out, n);
    else if (job > 0)
        printf("sluice job (public API: INSERT INTO, bounded)     %10.0f "
               "records/s  (%ld of %ld rows out)\n",
               job, job_out, n);
    printf("sluice same pipeline, no broker (memory in/out)   %10.0f "
           "records/s  (%.0f%% of the 1 M goal; %ld of %ld rows out)\n",
           mem, mem / 1e4, mem_rows, n);
    printf("  job thread CPU %.2f us/record (%.0f records/s of one core)\n",
           mem_cpu_us, 1e6 / mem_cpu_us);
    printf("process CPU (all threads: client, librdkafka, mock broker) per "
           "record, and cores busy:\n");
    const phase_cpu *pc[] = {&cpu_consume, &cpu_through, &cpu_sluice, &cpu_job};
    const char *pn[] = {"raw consume", "raw consume -> produce",
                        "sluice kafka pipeline (to flush)",
                        "sluice job (INSERT INTO, bounded)"};
    for (int i = 0; i < 4; i++)
        if (pc[i]->wall_s > 0)
            printf("  %-34s %5.2f us/record, %.2f cores\n", pn[i],
                   pc[i]->cpu_s * 1e6 / (double)n,
                   pc[i]->cpu_s / pc[i]->wall_s);
    printf("sluice kafka pipeline CPU per record by thread (to flush):\n");
    for (int g = 0; g < TG__N; g++) {
        int64_t ns = 0;
        for (int i = 0; i < n_tasks; i++)
            if (tasks[i].group == g && tasks[i].ns[1] >= tasks[i].ns[0])
                ns += tasks[i].ns[1] - tasks[i].ns[0];
        printf("  %-40s %5.2f us/record\n", tg_names[g],
               (double)ns / 1e3 / (double)n);
    }
    printf("max RSS %ld MB\n", ru.ru_maxrss / 1024);
    if (one_cluster && shared.mc) {
        rd_kafka_mock_cluster_destroy(shared.mc);
        rd_kafka_destroy(shared.host);
    }
    return 0;
}
