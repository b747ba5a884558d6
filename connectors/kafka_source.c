/*
 * kafka_source.c: reading Kafka topics into batches ('connector'='kafka').
 *
 * A librdkafka high-level consumer subscribes to 'topic' (or
 * 'topic-pattern') in a consumer group, so several sluice processes in one
 * group split the partitions between them. The job loop never blocks here:
 * the consumer queue signals a pipe (rd_kafka_queue_io_event_enable) whose
 * read end is the wait_hint fd, and read() takes only what is already
 * fetched (rd_kafka_consume_batch_queue with a zero timeout).
 *
 * Per message: decode the key and value formats straight into the batch
 * row, fill metadata columns, and record the row's position (split =
 * partition, offset = Kafka offset; with several topics the split also
 * carries the topic's slot, see split_of). Offsets are committed only in
 * ack(), i.e. after the sink acknowledged the rows (STYLE.md habit 20).
 * Startup and bounded modes are applied when partitions are assigned; a
 * bounded source reports SL_READ_EOF once every assigned partition reached
 * its end offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kafka_int.h"

#define MAX_PARTS     65536
#define MAX_SPECIFIC  4096
#define CONSUME_CHUNK 1024
#define NO_END        INT64_MAX
#define PART_BITS     20
#define WATERMARK_MS  10000
#define WAKEUP_MS     500

enum {
    START_EARLIEST,
    START_LATEST,
    START_GROUP,
    START_TIMESTAMP,
    START_SPECIFIC
};
enum { BOUND_NONE, BOUND_LATEST, BOUND_TIMESTAMP, BOUND_SPECIFIC };

typedef struct part_offset {
    int32_t partition;
    int64_t offset;
} part_offset;

typedef struct kpart {
    int slot; /* topic slot */
    int32_t partition;
    int64_t end;  /* exclusive end offset, NO_END when unbounded */
    int64_t next; /* the next offset to read, -1 until known (lag) */
    bool assigned, seen, done;
    bool skip_before_ts; /* start ts not resolved by the broker: filter */
} kpart;

typedef struct ksource {
    sl_source base;
    sl_kafka_common common;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    int pipe_rd, pipe_wr;
    sl_decoder *key_dec, *value_dec;
    int start_mode, bound_mode;
    int64_t start_ts, bound_ts;
    part_offset *start_offsets, *bound_offsets;
    int n_start_offsets, n_bound_offsets;
    kpart *parts;
    int n_parts, cap_parts;
    char *slots[SL_KAFKA_MAX_TOPICS * 4];
    int n_slots;
    rd_kafka_topic_t *last_rkt;
    int last_slot;
    int last_part; /* index in parts of the previous message's partition */
    bool paused;
    uint64_t n_skipped;
    uint64_t n_transient;
    sl_err async_err;                /* from the rebalance callback */
    bool self_assign, self_assigned; /* 'scan.partition-assignment'='all' */
    rd_kafka_message_t *msgs[CONSUME_CHUNK];
    int msg_pos, msg_n;
    int msg_done; /* msgs[..msg_done) are destroyed */
    sl_buf buf;
    sl_err derr;
    /* Resuming from a checkpoint (runtime/checkpoint.h): the topic of each
     * split slot when the checkpoint was taken (restore()), and the
     * positions to continue after (seek()), applied at assignment. */
    const char **ck_topics;
    int n_ck_topics;
    part_offset *ck_pos; /* offset = next offset to read */
    const char **ck_pos_topic;
    int n_ck_pos;
} ksource;

/* ---- options ----------------------------------------------------------- */

/* 'partition:0,offset:42;partition:1,offset:300' */
static int parse_offsets(ksource *s, const char *key, part_offset **out,
                         int *n_out, sl_err *err)
{
    const char *text = sl_options_get(s->common.table->options, key);
    const char *name = s->common.table->name;
    if (!text)
        return sl_err_set(err, SL_SQL,
                          "table '%s': option '%s' is required "
                          "by its mode",
                          name, key);
    part_offset *list =
        sl_arena_alloc(&s->common.arena, sizeof(*list) * MAX_SPECIFIC);
    if (!list)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    int n = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (!*p)
            break;
        long long part = 0, off = 0;
        int used = 0;
        if (sscanf(p, " partition : %lld , offset : %lld %n", &part, &off,
                   &used) < 2 ||
            used == 0 || part < 0 || part > INT32_MAX || off < 0)
            return sl_err_set(err, SL_SQL,
                              "table '%s': option '%s': expected "
                              "'partition:N,offset:M;...', got '%s'",
                              name, key, text);
        if (n == MAX_SPECIFIC)
            return sl_err_set(err, SL_LIMIT,
                              "table '%s': option '%s' lists "
                              "more than %d partitions",
                              name, key, MAX_SPECIFIC);
        list[n].partition = (int32_t)part;
        list[n].offset = off;
        n++;
        p += used;
        if (*p && *p != ';')
            return sl_err_set(err, SL_SQL,
                              "table '%s': option '%s': expected ';' between "
                              "partitions in '%s'",
                              name, key, text);
    }
    *out = list;
    *n_out = n;
    return SL_OK;
}

static int64_t specific_offset(const part_offset *list, int n, int32_t part)
{
    for (int i = 0; i < n; i++)
        if (list[i].partition == part)
            return list[i].offset;
    return -1;
}

static int read_modes(ksource *s, sl_err *err)
{
    sl_options *opts = s->common.table->options;
    static const char *const starts[] = {"earliest-offset",  "latest-offset",
                                         "group-offsets",    "timestamp",
                                         "specific-offsets", NULL};
    static const char *const bounds[] = {"unbounded", "latest-offset",
                                         "timestamp", "specific-offsets", NULL};
    int rc;
    /* upsert-kafka reads the whole changelog (Flink: always earliest) */
    int start_dflt = s->common.upsert ? START_EARLIEST : START_GROUP;
    if ((rc = sl_options_enum(opts, "scan.startup.mode", starts, start_dflt,
                              &s->start_mode, err)) ||
        (rc = sl_options_enum(opts, "scan.bounded.mode", bounds, BOUND_NONE,
                              &s->bound_mode, err)))
        return rc;
    if (s->start_mode == START_TIMESTAMP) {
        if (!sl_options_has(opts, "scan.startup.timestamp-millis"))
            return sl_err_set(err, SL_SQL,
                              "table '%s': 'scan.startup.mode'='timestamp' "
                              "requires 'scan.startup.timestamp-millis'",
                              s->common.table->name);
        if ((rc = sl_options_int(opts, "scan.startup.timestamp-millis", 0, 0,
                                 INT64_MAX, &s->start_ts, err)))
            return rc;
    }
    if (s->start_mode == START_SPECIFIC &&
        (rc = parse_offsets(s, "scan.startup.specific-offsets",
                            &s->start_offsets, &s->n_start_offsets, err)))
        return rc;
    if (s->bound_mode == BOUND_TIMESTAMP) {
        if (!sl_options_has(opts, "scan.bounded.timestamp-millis"))
            return sl_err_set(err, SL_SQL,
                              "table '%s': 'scan.bounded.mode'='timestamp' "
                              "requires 'scan.bounded.timestamp-millis'",
                              s->common.table->name);
        if ((rc = sl_options_int(opts, "scan.bounded.timestamp-millis", 0, 0,
                                 INT64_MAX, &s->bound_ts, err)))
            return rc;
    }
    if (s->bound_mode == BOUND_SPECIFIC &&
        (rc = parse_offsets(s, "scan.bounded.specific-offsets",
                            &s->bound_offsets, &s->n_bound_offsets, err)))
        return rc;
    s->base.is_bounded = s->bound_mode != BOUND_NONE;
    /* Without 'properties.group.id' the group is this source's own
     * (sluice-<pid>-<random>): no other member can share its partitions, so
     * joining it would only cost the broker's initial rebalance delay
     * (group.initial.rebalance.delay.ms, 3 s by default) before the first
     * record. */
    static const char *const assigns[] = {"group", "all", NULL};
    int assign =
        sl_options_has(opts, "properties.group.id") || s->common.topic_pattern
            ? 0
            : 1;
    if ((rc = sl_options_enum(opts, "scan.partition-assignment", assigns,
                              assign, &assign, err)))
        return rc;
    s->self_assign = assign == 1;
    if (s->self_assign && s->common.topic_pattern)
        return sl_err_set(err, SL_SQL,
                          "table '%s': 'scan.partition-assignment'='all' "
                          "needs 'topic', not 'topic-pattern'",
                          s->common.table->name);
    return SL_OK;
}

/* ---- partitions -------------------------------------------------------- */

static int slot_of(ksource *s, const char *topic)
{
    for (int i = 0; i < s->n_slots; i++)
        if (!strcmp(s->slots[i], topic))
            return i;
    if (s->n_slots == (int)SL_ARRAY_LEN(s->slots))
        return -1;
    s->slots[s->n_slots] =
        sl_arena_strndup(&s->common.arena, topic, strlen(topic));
    if (!s->slots[s->n_slots])
        return -1;
    return s->n_slots++;
}

/* split = partition for the first topic seen; later topics carry their
 * slot above PART_BITS bits (docs/kafka.md "Row positions"). */
static int32_t split_of(const kpart *kp)
{
    return (int32_t)(((uint32_t)kp->slot << PART_BITS) |
                     (uint32_t)kp->partition);
}

static kpart *part_find(ksource *s, int slot, int32_t partition, bool create)
{
    for (int i = 0; i < s->n_parts; i++)
        if (s->parts[i].slot == slot && s->parts[i].partition == partition)
            return &s->parts[i];
    if (!create || partition >= (1 << PART_BITS) || s->n_parts == MAX_PARTS)
        return NULL;
    if (s->n_parts == s->cap_parts) {
        int cap = s->cap_parts ? s->cap_parts * 2 : 64;
        kpart *p = sl_realloc(s->parts, sizeof(*p) * (size_t)cap);
        if (!p)
            return NULL;
        s->parts = p;
        s->cap_parts = cap;
    }
    kpart *kp = &s->parts[s->n_parts++];
    memset(kp, 0, sizeof(*kp));
    kp->slot = slot;
    kp->partition = partition;
    kp->end = NO_END;
    kp->next = -1;
    return kp;
}

static kpart *part_of_split(ksource *s, int32_t split)
{
    int slot = (int)((uint32_t)split >> PART_BITS);
    int32_t partition = split & ((1 << PART_BITS) - 1);
    return part_find(s, slot, partition, false);
}

static void pause_one(ksource *s, kpart *kp, bool pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, s->slots[kp->slot], kp->partition);
    if (pause)
        rd_kafka_pause_partitions(s->rk, l);
    else
        rd_kafka_resume_partitions(s->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

static void mark_done(ksource *s, kpart *kp)
{
    if (kp->done)
        return;
    kp->done = true;
    pause_one(s, kp, true);
}

/* ListOffsets for every partition of parts, in one round per broker, as a
 * list in the same order, or NULL when the lookup fails. ts: a time (the
 * first offset at or after it; -1 where none), LIST_EARLIEST or
 * LIST_LATEST. Blocks up to WATERMARK_MS (only at assignment time).
 *
 * Starting from looked-up offsets instead of OFFSET_BEGINNING / OFFSET_END
 * lets a partition fetch as soon as its leader is known: librdkafka 2.0
 * resolves a logical offset only once the partition has joined its
 * leader's thread and otherwise retries 500 ms later, so with many
 * partitions assigned at once some of them started half a second late. */
#define LIST_EARLIEST (-2)
#define LIST_LATEST   (-1)

static rd_kafka_topic_partition_list_t *
list_offsets(ksource *s, const rd_kafka_topic_partition_list_t *parts,
             int64_t ts, rd_kafka_resp_err_t *e)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_copy(parts);
    for (int i = 0; i < l->cnt; i++)
        l->elems[i].offset = ts;
    *e = rd_kafka_offsets_for_times(s->rk, l, WATERMARK_MS);
    if (*e) {
        rd_kafka_topic_partition_list_destroy(l);
        return NULL;
    }
    return l;
}

/* list_offsets for a time the query gave: a failure fails the source. */
static rd_kafka_topic_partition_list_t *
offsets_for_time(ksource *s, const rd_kafka_topic_partition_list_t *parts,
                 int64_t ts)
{
    rd_kafka_resp_err_t e;
    rd_kafka_topic_partition_list_t *l = list_offsets(s, parts, ts, &e);
    if (!l)
        sl_err_set(&s->async_err, SL_IO,
                   "kafka table '%s': looking up offsets for timestamp "
                   "%lld: %s",
                   s->common.table->name, (long long)ts, rd_kafka_err2str(e));
    return l;
}

static int64_t edge_at(const rd_kafka_topic_partition_list_t *l, int i)
{
    return l && !l->elems[i].err ? l->elems[i].offset : -1;
}

static int64_t high_watermark(ksource *s, const char *topic, int32_t part)
{
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
        s->rk, topic, part, &lo, &hi, WATERMARK_MS);
    if (e) {
        sl_err_set(&s->async_err, SL_IO,
                   "kafka topic '%s' partition %d: cannot read the end "
                   "offset: %s",
                   topic, (int)part, rd_kafka_err2str(e));
        return -1;
    }
    return hi;
}

static void on_assign(ksource *s, rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *start_ts = NULL, *end_ts = NULL;
    rd_kafka_topic_partition_list_t *first = NULL, *next = NULL;
    bool fresh = false;
    for (int i = 0; i < parts->cnt; i++) {
        int slot = slot_of(s, parts->elems[i].topic);
        kpart *kp = slot < 0
                        ? NULL
                        : part_find(s, slot, parts->elems[i].partition, true);
        if (kp && !kp->seen)
            fresh = true;
    }
    rd_kafka_resp_err_t le; /* a failed edge lookup falls back */
    if (fresh && s->start_mode == START_TIMESTAMP)
        start_ts = offsets_for_time(s, parts, s->start_ts);
    if (fresh && s->bound_mode == BOUND_TIMESTAMP)
        end_ts = offsets_for_time(s, parts, s->bound_ts);
    if (fresh && s->start_mode == START_EARLIEST)
        first = list_offsets(s, parts, LIST_EARLIEST, &le);
    if (fresh && (s->start_mode == START_LATEST || s->bound_mode != BOUND_NONE))
        next = list_offsets(s, parts, LIST_LATEST, &le);
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int slot = slot_of(s, tp->topic);
        kpart *kp = slot < 0 ? NULL : part_find(s, slot, tp->partition, false);
        if (!kp) {
            sl_err_set(&s->async_err, SL_LIMIT,
                       "kafka table '%s': too many partitions",
                       s->common.table->name);
            continue;
        }
        kp->assigned = true;
        if (kp->seen) {
            tp->offset = RD_KAFKA_OFFSET_INVALID; /* committed position */
            continue;
        }
        kp->seen = true;
        int64_t so = -1;
        for (int k = 0; k < s->n_ck_pos; k++)
            if (s->ck_pos[k].partition == tp->partition &&
                !strcmp(s->ck_pos_topic[k], tp->topic))
                so = s->ck_pos[k].offset;
        switch (so >= 0 ? -1 : s->start_mode) {
        case -1: /* after the checkpoint's position */
            tp->offset = so;
            break;
        case START_EARLIEST:
            so = edge_at(first, i);
            tp->offset = so >= 0 ? so : RD_KAFKA_OFFSET_BEGINNING;
            break;
        case START_LATEST:
            so = edge_at(next, i);
            tp->offset = so >= 0 ? so : RD_KAFKA_OFFSET_END;
            break;
        case START_TIMESTAMP:
            /* Where the broker cannot resolve the time (the mock cluster
             * does not), read from the start and skip older records. */
            so = start_ts ? start_ts->elems[i].offset : -1;
            tp->offset = so >= 0 ? so : RD_KAFKA_OFFSET_BEGINNING;
            kp->skip_before_ts = so < 0;
            break;
        case START_SPECIFIC:
            so = specific_offset(s->start_offsets, s->n_start_offsets,
                                 tp->partition);
            tp->offset = so >= 0 ? so : RD_KAFKA_OFFSET_INVALID;
            break;
        default:
            tp->offset = RD_KAFKA_OFFSET_INVALID;
        }
        int64_t end = NO_END;
        switch (s->bound_mode) {
        case BOUND_LATEST:
            end = -1;
            break;
        case BOUND_TIMESTAMP:
            end = end_ts ? end_ts->elems[i].offset : -1;
            break;
        case BOUND_SPECIFIC:
            end = specific_offset(s->bound_offsets, s->n_bound_offsets,
                                  tp->partition);
            break;
        default:
            break;
        }
        if (end < 0 && s->bound_mode != BOUND_NONE) {
            end = edge_at(next, i);
            if (end < 0)
                end = high_watermark(s, tp->topic, tp->partition);
        }
        kp->end = end < 0 ? 0 : end;
        if (tp->offset >= 0)
            kp->next = tp->offset;
        if (kp->end == 0 || (tp->offset >= 0 && tp->offset >= kp->end))
            kp->done = true;
    }
    if (start_ts)
        rd_kafka_topic_partition_list_destroy(start_ts);
    if (end_ts)
        rd_kafka_topic_partition_list_destroy(end_ts);
    if (first)
        rd_kafka_topic_partition_list_destroy(first);
    if (next)
        rd_kafka_topic_partition_list_destroy(next);
    rd_kafka_resp_err_t e = rd_kafka_assign(s->rk, parts);
    if (e)
        sl_err_set(&s->async_err, SL_IO, "kafka table '%s': assign: %s",
                   s->common.table->name, rd_kafka_err2str(e));
    if (s->paused)
        rd_kafka_pause_partitions(s->rk, parts);
    for (int i = 0; i < s->n_parts; i++)
        if (s->parts[i].assigned && s->parts[i].done)
            pause_one(s, &s->parts[i], true);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    ksource *s = opaque;
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        on_assign(s, parts);
        return;
    }
    for (int i = 0; i < s->n_parts; i++)
        s->parts[i].assigned = false;
    rd_kafka_assign(rk, NULL);
}

/* ---- reading ----------------------------------------------------------- */

static void drain_pipe(int fd)
{
    char junk[256];
    while (read(fd, junk, sizeof(junk)) > 0) {
    }
}

static bool all_done(const ksource *s)
{
    int n_assigned = 0;
    for (int i = 0; i < s->n_parts; i++) {
        if (!s->parts[i].assigned)
            continue;
        n_assigned++;
        if (!s->parts[i].done)
            return false;
    }
    return n_assigned > 0;
}

static int set_headers(ksource *s, rd_kafka_message_t *m, sl_batch *batch,
                       sl_value *v)
{
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(m, &hdrs) || !hdrs) {
        return sl_batch_set_text(batch, v, "{}", 2);
    }
    sl_buf *b = &s->buf;
    sl_buf_reset(b);
    sl_buf_putc(b, '{');
    const char *name;
    const void *val;
    size_t len;
    for (size_t i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &val, &len);
         i++) {
        if (i)
            sl_buf_putc(b, ',');
        sl_kafka_json_string(name, strlen(name), b);
        sl_buf_putc(b, ':');
        if (val) {
            sl_buf_putc(b, '"');
            sl_kafka_base64_encode(val, len, b);
            sl_buf_putc(b, '"');
        } else {
            sl_buf_puts(b, "null");
        }
    }
    sl_buf_putc(b, '}');
    if (b->rc)
        return b->rc;
    return sl_batch_set_text(batch, v, b->data, b->len);
}

static int fill_metadata(ksource *s, rd_kafka_message_t *m, const char *topic,
                         sl_batch *batch, sl_value *row)
{
    const int *mc = s->common.meta_col;
    int rc = SL_OK;
    if (mc[SL_KMETA_TOPIC] >= 0)
        rc = sl_batch_set_text(batch, &row[mc[SL_KMETA_TOPIC]], topic,
                               strlen(topic));
    if (mc[SL_KMETA_PARTITION] >= 0)
        row[mc[SL_KMETA_PARTITION]] = sl_value_int(m->partition);
    if (mc[SL_KMETA_OFFSET] >= 0)
        row[mc[SL_KMETA_OFFSET]] = sl_value_int(m->offset);
    if (mc[SL_KMETA_TIMESTAMP] >= 0 || mc[SL_KMETA_TIMESTAMP_TYPE] >= 0) {
        rd_kafka_timestamp_type_t tstype;
        int64_t ts = rd_kafka_message_timestamp(m, &tstype);
        if (mc[SL_KMETA_TIMESTAMP] >= 0 && ts >= 0)
            row[mc[SL_KMETA_TIMESTAMP]] = sl_value_int(ts);
        if (mc[SL_KMETA_TIMESTAMP_TYPE] >= 0) {
            const char *t = tstype == RD_KAFKA_TIMESTAMP_CREATE_TIME
                                ? "CreateTime"
                            : tstype == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME
                                ? "LogAppendTime"
                                : "NoTimestampType";
            if (!rc)
                rc = sl_batch_set_text(batch, &row[mc[SL_KMETA_TIMESTAMP_TYPE]],
                                       t, strlen(t));
        }
    }
    if (mc[SL_KMETA_HEADERS] >= 0 && !rc)
        rc = set_headers(s, m, batch, &row[mc[SL_KMETA_HEADERS]]);
    /* 'leader-epoch' stays NULL: librdkafka 2.0 does not expose it. */
    return rc;
}

/* Errors the consumer reports that retrying cannot fix: the job fails
 * with the broker's reason (Flink's source fails on them too). Others
 * (brokers down, timeouts) are counted and librdkafka retries. */
static bool permanent_error(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_INVALID_GROUP_ID:
        return true;
    default:
        return false;
    }
}

/* Decode one message into a new row. Returns SL_OK (row kept or skipped)
 * or an error that fails the read. */
static int take_message(ksource *s, rd_kafka_message_t *m, sl_batch *batch,
                        sl_err *err)
{
    if (m->err && (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF || !m->rkt)) {
        /* a consumer event rather than a record (no topic when it comes
         * from the client or the group, no partition when it is about a
         * topic): fail on what retrying cannot fix, else count it */
        if (permanent_error(m->err))
            return sl_err_set(err, SL_IO, "kafka table '%s'%s%s%s: %s",
                              s->common.table->name, m->rkt ? ": topic '" : "",
                              m->rkt ? rd_kafka_topic_name(m->rkt) : "",
                              m->rkt ? "'" : "", rd_kafka_message_errstr(m));
        s->n_transient++;
        return SL_OK;
    }
    const char *topic = rd_kafka_topic_name(m->rkt);
    int slot;
    if (m->rkt == s->last_rkt) {
        slot = s->last_slot;
    } else {
        slot = slot_of(s, topic);
        s->last_rkt = m->rkt;
        s->last_slot = slot;
    }
    kpart *kp = NULL;
    if (s->last_part < s->n_parts && s->parts[s->last_part].slot == slot &&
        s->parts[s->last_part].partition == m->partition)
        kp = &s->parts[s->last_part];
    else if (slot >= 0 && (kp = part_find(s, slot, m->partition, true)))
        s->last_part = (int)(kp - s->parts);
    if (!kp)
        return sl_err_set(err, SL_LIMIT,
                          "kafka table '%s': too many "
                          "partitions",
                          s->common.table->name);
    if (m->err) { /* the end of the partition for now */
        kp->next = m->offset;
        if (kp->end != NO_END && m->offset >= kp->end)
            mark_done(s, kp);
        return SL_OK;
    }
    kp->next = m->offset + 1;
    if (kp->end != NO_END && m->offset >= kp->end) {
        mark_done(s, kp);
        return SL_OK;
    }
    if (kp->end != NO_END && m->offset + 1 >= kp->end)
        mark_done(s, kp);
    if (kp->skip_before_ts || s->bound_mode == BOUND_TIMESTAMP) {
        int64_t ts = rd_kafka_message_timestamp(m, NULL);
        if (s->bound_mode == BOUND_TIMESTAMP && ts >= s->bound_ts) {
            mark_done(s, kp);
            return SL_OK;
        }
        if (kp->skip_before_ts && ts < s->start_ts)
            return SL_OK;
        kp->skip_before_ts = false;
    }
    if (!m->payload && !s->common.upsert)
        return SL_OK; /* a tombstone: no row in an append-only table */
    sl_value *row = sl_batch_append_row(batch);
    if (!row)
        return sl_err_set(err, SL_ERROR, "kafka source: batch overflow");
    int r = batch->n_rows - 1;
    batch->pos[r].split = split_of(kp);
    batch->pos[r].offset = m->offset;
    int rc = fill_metadata(s, m, topic, batch, row);
    if (rc) {
        sl_batch_drop_last(batch);
        return sl_err_set(err, rc,
                          "kafka topic '%s' partition %d offset "
                          "%lld: out of batch memory",
                          topic, (int)m->partition, (long long)m->offset);
    }
    const sl_kafka_side *side = NULL;
    sl_err_clear(&s->derr);
    if (s->key_dec && m->key) {
        rc = s->key_dec->decode(s->key_dec, m->key, m->key_len, batch, row,
                                &s->derr);
        if (rc)
            side = &s->common.key;
    }
    if (!rc && s->common.upsert)
        batch->kinds[r] =
            m->payload ? SLUICE_ROW_UPDATE_AFTER : SLUICE_ROW_DELETE;
    if (!rc && m->payload) {
        rc = s->value_dec->decode(s->value_dec, m->payload, m->len, batch, row,
                                  &s->derr);
        if (rc)
            side = &s->common.value;
    }
    if (!rc)
        return SL_OK;
    sl_batch_drop_last(batch);
    if (rc == SL_NOTFOUND)
        return SL_OK; /* the record holds no row (format_int.h) */
    if (side->ignore_errors && rc != SL_NOMEM && rc != SL_LIMIT) {
        s->n_skipped++;
        return SL_OK;
    }
    return sl_err_set(err, rc == SL_NOMEM ? SL_NOMEM : SL_RUNTIME,
                      "kafka topic '%s' partition %d offset %lld: %s%s", topic,
                      (int)m->partition, (long long)m->offset,
                      side == &s->common.key ? "key: " : "", s->derr.msg);
}

/* 'scan.partition-assignment'='all': every partition of the topics, from
 * the metadata, assigned on the first read (after seek()). */
static int assign_all(ksource *s, sl_err *err)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    int rc = SL_OK;
    for (int t = 0; t < s->common.n_topics && !rc; t++) {
        rd_kafka_topic_t *rkt =
            rd_kafka_topic_new(s->rk, s->common.topics[t], NULL);
        const rd_kafka_metadata_t *md = NULL;
        rd_kafka_resp_err_t e =
            rkt ? rd_kafka_metadata(s->rk, 0, rkt, &md, 10000)
                : RD_KAFKA_RESP_ERR__INVALID_ARG;
        if (!e && (md->topic_cnt != 1 || md->topics[0].err))
            e = md->topic_cnt == 1 ? md->topics[0].err
                                   : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
        if (e)
            rc = sl_err_set(err, SL_IO,
                            "kafka table '%s': topic '%s': metadata: %s",
                            s->common.table->name, s->common.topics[t],
                            rd_kafka_err2str(e));
        for (int i = 0; !rc && i < md->topics[0].partition_cnt; i++)
            rd_kafka_topic_partition_list_add(l, s->common.topics[t],
                                              md->topics[0].partitions[i].id);
        if (md)
            rd_kafka_metadata_destroy(md);
        if (rkt)
            rd_kafka_topic_destroy(rkt);
    }
    if (!rc)
        on_assign(s, l);
    rd_kafka_topic_partition_list_destroy(l);
    s->self_assigned = true;
    return rc;
}

/* Destroy the messages taken so far (msgs[msg_done..msg_pos)) in one go
 * rather than one after each decode: each free returns memory that
 * librdkafka's fetcher thread allocated, under that thread's malloc arena
 * lock, and freeing them in a burst makes the two threads collide on it
 * less often. */
static void free_taken(ksource *s)
{
    for (int i = s->msg_done; i < s->msg_pos; i++)
        rd_kafka_message_destroy(s->msgs[i]);
    s->msg_done = s->msg_pos;
}

static int source_read(sl_source *src, sl_batch *batch, sl_read_status *status,
                       sl_err *err)
{
    ksource *s = (ksource *)src;
    if (s->self_assign && !s->self_assigned) {
        int rc = assign_all(s, err);
        if (rc)
            return rc;
    }
    drain_pipe(s->pipe_rd);
    *status = SL_READ_IDLE;
    int rc = SL_OK;
    while (!sl_batch_is_full(batch)) {
        if (s->msg_pos == s->msg_n) {
            s->msg_pos = s->msg_n = s->msg_done = 0;
            size_t room = (size_t)(batch->cap_rows - batch->n_rows);
            ssize_t n = rd_kafka_consume_batch_queue(
                s->queue, 0, s->msgs, SL_MIN(room, (size_t)CONSUME_CHUNK));
            if (s->async_err.code)
                return sl_err_set(err, s->async_err.code, "%s",
                                  s->async_err.msg);
            if (n <= 0)
                break;
            s->msg_n = (int)n;
        }
        rc = take_message(s, s->msgs[s->msg_pos], batch, err);
        s->msg_pos++;
        if (s->msg_pos == s->msg_n || rc)
            free_taken(s);
        if (rc)
            return rc;
    }
    free_taken(s);
    char errstr[256];
    rd_kafka_resp_err_t fatal =
        rd_kafka_fatal_error(s->rk, errstr, sizeof(errstr));
    if (fatal)
        return sl_err_set(err, SL_IO, "kafka table '%s': %s",
                          s->common.table->name, errstr);
    if (sl_batch_is_full(batch) || s->msg_pos < s->msg_n)
        *status = SL_READ_MORE;
    else if (s->base.is_bounded && all_done(s))
        *status = SL_READ_EOF;
    return SL_OK;
}

static void source_wait_hint(sl_source *src, int *fd, int64_t *wakeup_ms)
{
    ksource *s = (ksource *)src;
    *fd = s->pipe_rd;
    *wakeup_ms = sl_now_ms() + WAKEUP_MS;
}

static int source_ack(sl_source *src, const sl_srcpos *pos, int n_pos,
                      sl_err *err)
{
    ksource *s = (ksource *)src;
    if (n_pos <= 0)
        return SL_OK;
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new(n_pos);
    for (int i = 0; i < n_pos; i++) {
        kpart *kp = part_of_split(s, pos[i].split);
        if (!kp)
            continue;
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(
            l, s->slots[kp->slot], kp->partition);
        tp->offset = pos[i].offset + 1;
    }
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (l->cnt)
        e = rd_kafka_commit(s->rk, l, 1);
    rd_kafka_topic_partition_list_destroy(l);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
        return sl_err_set(err, SL_IO, "kafka table '%s': commit: %s",
                          s->common.table->name, rd_kafka_err2str(e));
    return SL_OK;
}

static void source_pause(sl_source *src, bool paused)
{
    ksource *s = (ksource *)src;
    if (s->paused == paused)
        return;
    s->paused = paused;
    for (int i = 0; i < s->n_parts; i++)
        if (s->parts[i].assigned && !s->parts[i].done)
            pause_one(s, &s->parts[i], paused);
}

static void source_close(sl_source *src)
{
    ksource *s = (ksource *)src;
    if (!s)
        return;
    for (int i = s->msg_done; i < s->msg_n; i++)
        rd_kafka_message_destroy(s->msgs[i]);
    if (s->key_dec)
        s->key_dec->close(s->key_dec);
    if (s->value_dec)
        s->value_dec->close(s->value_dec);
    if (s->rk) {
        rd_kafka_consumer_close(s->rk);
        if (s->queue)
            rd_kafka_queue_destroy(s->queue);
        rd_kafka_destroy(s->rk);
    }
    if (s->pipe_rd >= 0)
        close(s->pipe_rd);
    if (s->pipe_wr >= 0)
        close(s->pipe_wr);
    sl_free(s->parts);
    sl_buf_free(&s->buf);
    sl_kafka_common_free(&s->common);
    sl_free(s);
}

/* ---- checkpoints ------------------------------------------------------ */

/* The split slots' topics, so a restore maps splits back to topics even
 * when slots are handed out in another order (topic-pattern). */
static int source_snapshot(sl_source *src, sqlite3 *db, const char *prefix,
                           sl_err *err)
{
    ksource *s = (ksource *)src;
    char sql[256];
    sl_snprintf(sql, sizeof(sql),
                "CREATE TABLE IF NOT EXISTS %stopics(slot INTEGER PRIMARY "
                "KEY, topic TEXT)",
                prefix);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sl_err_set(err, SL_IO, "kafka snapshot: %s", sqlite3_errmsg(db));
    sl_snprintf(sql, sizeof(sql),
                "INSERT OR REPLACE INTO %stopics(slot, topic) VALUES (?, ?)",
                prefix);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return sl_err_set(err, SL_IO, "kafka snapshot: %s", sqlite3_errmsg(db));
    int rc = SL_OK;
    for (int i = 0; i < s->n_slots && !rc; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_text(st, 2, s->slots[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = sl_err_set(err, SL_IO, "kafka snapshot: %s",
                            sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return rc;
}

static int source_restore(sl_source *src, sqlite3 *db, const char *prefix,
                          sl_err *err)
{
    ksource *s = (ksource *)src;
    char sql[256];
    sl_snprintf(sql, sizeof(sql), "SELECT slot, topic FROM %stopics", prefix);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return SL_OK; /* no table: a checkpoint without kafka state */
    int max = (int)SL_ARRAY_LEN(s->slots);
    s->ck_topics =
        sl_arena_alloc(&s->common.arena, sizeof(char *) * (size_t)max);
    if (!s->ck_topics) {
        sqlite3_finalize(st);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    memset(s->ck_topics, 0, sizeof(char *) * (size_t)max);
    int rc = SL_OK;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        int slot = sqlite3_column_int(st, 0);
        const char *t = (const char *)sqlite3_column_text(st, 1);
        if (slot < 0 || slot >= max || !t)
            continue;
        s->ck_topics[slot] = sl_arena_strndup(&s->common.arena, t, strlen(t));
        if (!s->ck_topics[slot])
            rc = sl_err_set(err, SL_NOMEM, "out of memory");
        if (slot + 1 > s->n_ck_topics)
            s->n_ck_topics = slot + 1;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Continue after the checkpoint's positions when partitions get assigned
 * (they take precedence over 'scan.startup.mode' and committed offsets). */
static int source_seek(sl_source *src, const sl_srcpos *pos, int n_pos,
                       sl_err *err)
{
    ksource *s = (ksource *)src;
    s->ck_pos = sl_arena_alloc(&s->common.arena,
                               sizeof(part_offset) * (size_t)(n_pos + 1));
    s->ck_pos_topic =
        sl_arena_alloc(&s->common.arena, sizeof(char *) * (size_t)(n_pos + 1));
    if (!s->ck_pos || !s->ck_pos_topic)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    for (int i = 0; i < n_pos; i++) {
        int slot = (int)((uint32_t)pos[i].split >> PART_BITS);
        const char *topic = NULL;
        if (s->ck_topics && slot < s->n_ck_topics)
            topic = s->ck_topics[slot];
        else if (slot < s->n_slots)
            topic = s->slots[slot];
        if (!topic)
            return sl_err_set(err, SL_MISUSE,
                              "kafka table '%s': the checkpoint names split "
                              "%d, whose topic is unknown",
                              s->common.table->name, (int)pos[i].split);
        s->ck_pos_topic[s->n_ck_pos] = topic;
        s->ck_pos[s->n_ck_pos].partition =
            pos[i].split & ((1 << PART_BITS) - 1);
        s->ck_pos[s->n_ck_pos].offset = pos[i].offset + 1;
        s->n_ck_pos++;
    }
    return SL_OK;
}

/* The assigned partitions still to be read: the job's watermark waits for
 * each of them (Flink), also before its first record. */
static int source_splits(sl_source *src, int32_t *out, int max)
{
    ksource *s = (ksource *)src;
    int n = 0;
    for (int i = 0; i < s->n_parts && n < max; i++)
        if (s->parts[i].assigned && !s->parts[i].done)
            out[n++] = split_of(&s->parts[i]);
    return n;
}

static int source_project(sl_source *src, const bool *used, int n_cols,
                          sl_err *err);

/* Records after the read position of every assigned partition that has
 * not reached its bounded end, from the high watermarks librdkafka keeps
 * from its last fetch responses (no request); -1 while none is known. */
static int64_t source_lag(sl_source *src)
{
    ksource *s = (ksource *)src;
    int64_t sum = 0;
    bool known = false;
    for (int i = 0; i < s->n_parts; i++) {
        const kpart *kp = &s->parts[i];
        int64_t lo = 0, hi = -1;
        if (!kp->assigned || kp->done || kp->next < 0 ||
            rd_kafka_get_watermark_offsets(s->rk, s->slots[kp->slot],
                                           kp->partition, &lo, &hi) ||
            hi < 0)
            continue;
        int64_t end = kp->end != NO_END && kp->end < hi ? kp->end : hi;
        sum += end > kp->next ? end - kp->next : 0;
        known = true;
    }
    return known ? sum : -1;
}

static const sl_source_ops source_ops = {
    .read = source_read,
    .wait_hint = source_wait_hint,
    .ack = source_ack,
    .pause = source_pause,
    .progress = NULL,
    .close = source_close,
    .seek = source_seek,
    .snapshot = source_snapshot,
    .restore = source_restore,
    .splits = source_splits,
    .project = source_project,
    .lag = source_lag,
};

static int open_decoder(sl_kafka_side *side, sl_options *table_opts,
                        sl_decoder **out, sl_err *err)
{
    if (!side->format)
        return SL_OK;
    if (!side->format->open_decoder)
        return sl_err_set(err, SL_UNSUPPORTED, "format '%s' cannot be read",
                          side->format_name);
    sl_format_info info = {
        .fmt_schema = side->schema,
        .col_map = side->col_map,
        .options = &side->opts,
        .prefix = side->prefix,
    };
    int rc = side->format->open_decoder(&info, out, err);
    sl_kafka_side_sync_used(side, table_opts);
    return rc;
}

/* The query reads no column of some fields of side: map them to -1 and
 * reopen the side's decoder, which then skips their values. */
static int project_side(ksource *s, sl_kafka_side *side, sl_decoder **dec,
                        const bool *used, int n_cols, sl_err *err)
{
    if (!side->format || !*dec)
        return SL_OK;
    bool any = false;
    for (int i = 0; i < side->schema->n_cols; i++) {
        int c = side->col_map[i];
        if (c >= 0 && c < n_cols && !used[c]) {
            side->col_map[i] = -1;
            any = true;
        }
    }
    if (!any)
        return SL_OK;
    (*dec)->close(*dec);
    *dec = NULL;
    return open_decoder(side, s->common.table->options, dec, err);
}

static int source_project(sl_source *src, const bool *used, int n_cols,
                          sl_err *err)
{
    ksource *s = (ksource *)src;
    int rc = project_side(s, &s->common.key, &s->key_dec, used, n_cols, err);
    if (!rc)
        rc =
            project_side(s, &s->common.value, &s->value_dec, used, n_cols, err);
    return rc;
}

int sl_kafka_open_source(const sl_table_info *table, sl_source **out,
                         sl_err *err)
{
    *out = NULL;
    ksource *s = sl_calloc(1, sizeof(*s));
    if (!s)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    s->base.ops = &source_ops;
    s->pipe_rd = s->pipe_wr = -1;
    sl_buf_init(&s->buf, 1u << 20);
    int rc = sl_kafka_common_init(&s->common, table, true, err);
    if (!rc)
        rc = read_modes(s, err);
    if (!rc)
        rc = open_decoder(&s->common.key, table->options, &s->key_dec, err);
    if (!rc)
        rc = open_decoder(&s->common.value, table->options, &s->value_dec, err);
    if (rc) {
        source_close(&s->base);
        return rc;
    }
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC)) {
        source_close(&s->base);
        return sl_err_set(err, SL_IO, "pipe: %s", strerror(errno));
    }
    s->pipe_rd = fds[0];
    s->pipe_wr = fds[1];
    rd_kafka_conf_t *conf = s->common.conf;
    if (s->common.embedded &&
        !sl_options_has(table->options, "properties.fetch.wait.max.ms")) {
        /* The embedded (mock) broker answers a fetch that finds no data
         * only after the whole fetch.wait.max.ms, even when data arrives
         * meanwhile (docs/kafka.md "Performance"). */
        char errstr[128];
        rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", errstr,
                          sizeof(errstr));
    }
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, s);
    char errstr[512];
    s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!s->rk) {
        source_close(&s->base);
        return sl_err_set(err, SL_IO, "kafka table '%s': %s", table->name,
                          errstr);
    }
    s->common.conf = NULL; /* owned by rk now */
    rd_kafka_poll_set_consumer(s->rk);
    s->queue = rd_kafka_queue_get_consumer(s->rk);
    rd_kafka_queue_io_event_enable(s->queue, s->pipe_wr, "1", 1);

    int n = s->common.topic_pattern ? 1 : s->common.n_topics;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < s->common.n_topics; i++) {
        rd_kafka_topic_partition_list_add(l, s->common.topics[i],
                                          RD_KAFKA_PARTITION_UA);
        slot_of(s, s->common.topics[i]);
    }
    if (s->common.topic_pattern)
        rd_kafka_topic_partition_list_add(l, s->common.topic_pattern,
                                          RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = s->self_assign ? RD_KAFKA_RESP_ERR_NO_ERROR
                                           : rd_kafka_subscribe(s->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        source_close(&s->base);
        return sl_err_set(err, SL_IO, "kafka table '%s': subscribe: %s",
                          table->name, rd_kafka_err2str(e));
    }
    *out = &s->base;
    return SL_OK;
}

uint64_t sl_kafka_source_skipped(sl_source *src)
{
    return ((ksource *)src)->n_skipped;
}
