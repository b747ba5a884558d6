/*
 * kafka_sink.c: writing batches to a Kafka topic ('connector'='kafka').
 *
 * write() encodes each row's key ('key.fields' through 'key.format') and
 * value, takes headers and the record timestamp from the writable metadata
 * columns 'headers' and 'timestamp', and hands the record to an idempotent
 * librdkafka producer without waiting. Every record carries the write's
 * sequence number; delivery reports (served by poll(), whose fd is the
 * producer queue's io-event pipe) count down the outstanding records of
 * their sequence, and acked() returns the highest sequence whose records,
 * and all earlier ones, were delivered. That is what the job loop turns
 * into source acks, so source offsets are committed only for rows that are
 * in Kafka (at-least-once). A record whose delivery failed with a
 * retriable error (e.g. message timeout while the broker was down) is
 * produced again from its delivery report, so nothing is lost.
 *
 * 'sink.delivery-guarantee' = 'exactly-once' adds Kafka transactions tied
 * to checkpoints; that part lives in kafka_txn.c and is reached from here
 * only through the sl_kafka_txn_* calls and the restore / snapshot /
 * checkpoint_committed ops at the end of this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "kafka_int.h"

#define MAX_PENDING_SEQS    65536
#define MAX_REDELIVERIES    1000000
#define QUEUE_FULL_WAIT_MS  50
#define CHUNK_ROWS          1024
#define CHUNK_BYTES         (4u << 20)
#define STICKY_MS           10 /* librdkafka's sticky.partitioning.linger.ms */
#define METADATA_TIMEOUT_MS 2000

enum { PART_DEFAULT, PART_FIXED, PART_ROUND_ROBIN };
enum { GUARANTEE_AT_LEAST_ONCE, GUARANTEE_NONE, GUARANTEE_EXACTLY_ONCE };

typedef struct pending {
    uint64_t seq;
    int64_t outstanding;
} pending;

typedef struct ksink {
    sl_sink base;
    sl_kafka_common common;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    rd_kafka_queue_t *main_queue;
    int pipe_rd, pipe_wr;
    sl_encoder *key_enc, *value_enc;
    int partitioner, guarantee;
    uint32_t rr_next;
    /* Ring of write sequences not yet fully delivered, oldest first. */
    pending *ring;
    int ring_cap, ring_head, ring_len;
    uint64_t acked_seq, last_seq;
    uint64_t n_redelivered;
    sl_err async_err;
    sl_buf kbuf, vbuf;
    sl_buf hbuf;
    sl_kafka_txn txn; /* exactly-once (kafka_txn.c) */
    /* Plain records (no headers or timestamp column, no transaction) go to
     * librdkafka in chunks through rd_kafka_produce_batch: the encoded
     * keys and values of up to CHUNK_ROWS rows sit in kbuf / vbuf at
     * these offsets (len -1: NULL). */
    bool batched;
    rd_kafka_message_t *chunk;
    size_t (*chunk_off)[2];
    int64_t (*chunk_len)[2];
    int64_t write_ts; /* wall clock ms of the current write() */
    /* Keyless records under the default partitioner: the sink does
     * librdkafka's sticky partitioning itself (one random partition for
     * all chunks of STICKY_MS), so produce_batch skips the per-record
     * partitioner. n_partitions comes from the topic's metadata at open
     * (0: unknown, librdkafka partitions every record). */
    bool own_sticky;
    int32_t n_partitions;
    int32_t sticky_part;
    int64_t sticky_since;
    uint64_t rand_state;
} ksink;

/* ---- sequence tracking ------------------------------------------------- */

static pending *ring_at(ksink *k, int i)
{
    return &k->ring[(k->ring_head + i) % k->ring_cap];
}

static pending *ring_find(ksink *k, uint64_t seq)
{
    int lo = 0, hi = k->ring_len - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        pending *p = ring_at(k, mid);
        if (p->seq == seq)
            return p;
        if (p->seq < seq)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

static void ring_advance(ksink *k)
{
    while (k->ring_len && ring_at(k, 0)->outstanding == 0) {
        k->acked_seq = ring_at(k, 0)->seq;
        k->ring_head = (k->ring_head + 1) % k->ring_cap;
        k->ring_len--;
    }
}

/* ---- delivery reports -------------------------------------------------- */

static bool is_retriable(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__FATAL:
        return false;
    default:
        return true;
    }
}

/* Exactly-once delivery reports: ranges for the marker; a failed record
 * fails the transaction (it is never produced again inside it). Returns
 * true when the report is not one of a write's records. */
static bool eos_delivered(ksink *k, const rd_kafka_message_t *m)
{
    bool ours = m->_private != SL_KAFKA_TXN_MARKER_OPAQUE &&
                m->_private != SL_KAFKA_TXN_REPLAY_OPAQUE;
    if (!m->err) {
        if (m->_private != SL_KAFKA_TXN_MARKER_OPAQUE)
            sl_kafka_txn_delivered(&k->txn, m->partition, m->offset);
        return !ours;
    }
    sl_err_set(&k->async_err, SL_IO,
               "kafka topic '%s' partition %d: delivery in transaction '%s' "
               "failed: %s",
               rd_kafka_topic_name(m->rkt), (int)m->partition, k->txn.tid,
               rd_kafka_err2str(m->err));
    return true;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    ksink *k = opaque;
    uint64_t seq = (uint64_t)(uintptr_t)m->_private;
    if (k->guarantee == GUARANTEE_NONE)
        return;
    if (k->txn.enabled && eos_delivered(k, m))
        return;
    pending *p = ring_find(k, seq);
    if (!m->err) {
        if (p && p->outstanding > 0)
            p->outstanding--;
        return;
    }
    if (!is_retriable(m->err) || k->n_redelivered >= MAX_REDELIVERIES ||
        rd_kafka_fatal_error(rk, NULL, 0)) {
        sl_err_set(&k->async_err, SL_IO,
                   "kafka topic '%s' partition %d: delivery failed: %s",
                   rd_kafka_topic_name(m->rkt), (int)m->partition,
                   rd_kafka_err2str(m->err));
        return;
    }
    /* At-least-once: produce the record again (same sequence). */
    rd_kafka_headers_t *hdrs = NULL;
    rd_kafka_message_detach_headers((rd_kafka_message_t *)m, &hdrs);
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    int32_t part = k->partitioner == PART_DEFAULT && !m->key
                       ? RD_KAFKA_PARTITION_UA
                       : m->partition;
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_RKT(k->rkt), RD_KAFKA_V_PARTITION(part),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(m->payload, m->len),
        RD_KAFKA_V_KEY(m->key, m->key_len),
        RD_KAFKA_V_TIMESTAMP(tstype == RD_KAFKA_TIMESTAMP_CREATE_TIME ? ts : 0),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(m->_private),
        RD_KAFKA_V_END);
    if (e) {
        if (hdrs)
            rd_kafka_headers_destroy(hdrs);
        sl_err_set(&k->async_err, SL_IO,
                   "kafka topic '%s': cannot redeliver a record: %s",
                   rd_kafka_topic_name(m->rkt), rd_kafka_err2str(e));
        return;
    }
    k->n_redelivered++;
}

/* ---- partitioners ('sink.partitioner') --------------------------------- */

static int32_t fixed_partitioner(const rd_kafka_topic_t *rkt, const void *key,
                                 size_t keylen, int32_t partition_cnt,
                                 void *rkt_opaque, void *msg_opaque)
{
    /* Flink's FlinkFixedPartitioner: sink subtask i -> partition i; we are
     * one subtask. */
    return 0;
}

static int32_t rr_partitioner(const rd_kafka_topic_t *rkt, const void *key,
                              size_t keylen, int32_t partition_cnt,
                              void *rkt_opaque, void *msg_opaque)
{
    ksink *k = rkt_opaque;
    uint32_t n = __atomic_fetch_add(&k->rr_next, 1, __ATOMIC_RELAXED);
    return (int32_t)(n % (uint32_t)partition_cnt);
}

/* The partition for the next chunk of keyless records, or
 * RD_KAFKA_PARTITION_UA to let librdkafka choose per record. */
static int32_t chunk_partition(ksink *k)
{
    int32_t n = k->n_partitions;
    if (!k->own_sticky || n <= 0)
        return RD_KAFKA_PARTITION_UA;
    if (k->sticky_part < 0 || k->sticky_part >= n ||
        k->write_ts - k->sticky_since >= STICKY_MS) {
        /* xorshift64: a random partition, another one when possible */
        uint64_t x = k->rand_state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        k->rand_state = x;
        int32_t p = (int32_t)(x % (uint64_t)n);
        if (n > 1 && p == k->sticky_part)
            p = (p + 1) % n;
        k->sticky_part = p;
        k->sticky_since = k->write_ts;
    }
    return k->sticky_part;
}

/* ---- writing ----------------------------------------------------------- */

static int build_headers(ksink *k, const sl_value *v, rd_kafka_headers_t **out,
                         sl_err *err)
{
    *out = NULL;
    if (v->kind != SL_V_TEXT)
        return SL_OK;
    json_error_t jerr;
    json_t *obj = json_loadb(v->u.s, v->len, 0, &jerr);
    if (!obj || !json_is_object(obj)) {
        json_decref(obj);
        return sl_err_set(err, SL_RUNTIME,
                          "kafka sink: column 'headers' must be a JSON "
                          "object of base64 strings, got '%.60s'",
                          v->u.s);
    }
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(json_object_size(obj));
    const char *name;
    json_t *val;
    json_object_foreach(obj, name, val)
    {
        if (json_is_null(val)) {
            rd_kafka_header_add(hdrs, name, -1, NULL, 0);
            continue;
        }
        const char *s = json_string_value(val);
        sl_buf_reset(&k->hbuf);
        if (!s || sl_kafka_base64_decode(s, strlen(s), &k->hbuf)) {
            rd_kafka_headers_destroy(hdrs);
            json_decref(obj);
            return sl_err_set(err, SL_RUNTIME,
                              "kafka sink: header '%s' must be a base64 "
                              "string",
                              name);
        }
        rd_kafka_header_add(hdrs, name, -1, k->hbuf.data, (ssize_t)k->hbuf.len);
    }
    json_decref(obj);
    *out = hdrs;
    return SL_OK;
}

/* tombstone: an upsert-kafka delete, written with a NULL value. */
static int produce_row(ksink *k, const sl_batch *batch, int r, uint64_t seq,
                       bool tombstone, sl_err *err)
{
    const sl_value *row = sl_batch_crow(batch, r);
    int rc;
    sl_buf_reset(&k->vbuf);
    if (!tombstone &&
        (rc = k->value_enc->encode(k->value_enc, batch, r, &k->vbuf, err)))
        return rc;
    bool has_key = k->key_enc != NULL;
    if (has_key) {
        sl_buf_reset(&k->kbuf);
        if ((rc = k->key_enc->encode(k->key_enc, batch, r, &k->kbuf, err)))
            return rc;
    }
    rd_kafka_headers_t *hdrs = NULL;
    int hc = k->common.meta_col[SL_KMETA_HEADERS];
    if (hc >= 0 && (rc = build_headers(k, &row[hc], &hdrs, err)))
        return rc;
    /* CreateTime: the row's 'timestamp' column, else the write's time
     * (librdkafka would read the clock for every record). */
    int64_t ts = k->write_ts;
    int tc = k->common.meta_col[SL_KMETA_TIMESTAMP];
    if (tc >= 0 && row[tc].kind == SL_V_INT)
        ts = row[tc].u.i;
    if (k->txn.enabled &&
        (rc = sl_kafka_txn_record(&k->txn, has_key ? k->kbuf.data : NULL,
                                  k->kbuf.len, tombstone ? NULL : k->vbuf.data,
                                  k->vbuf.len, ts, hdrs, err))) {
        if (hdrs)
            rd_kafka_headers_destroy(hdrs);
        return rc;
    }
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            k->rk, RD_KAFKA_V_RKT(k->rkt),
            RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE(tombstone ? NULL : k->vbuf.data,
                             tombstone ? 0 : k->vbuf.len),
            RD_KAFKA_V_KEY(has_key ? k->kbuf.data : NULL,
                           has_key ? k->kbuf.len : 0),
            RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(hdrs),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)seq), RD_KAFKA_V_END);
        if (!e)
            return SL_OK;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            if (hdrs)
                rd_kafka_headers_destroy(hdrs);
            return sl_err_set(err, SL_IO, "kafka topic '%s': produce: %s",
                              k->common.topics[0], rd_kafka_err2str(e));
        }
        /* The bounded producer queue is full (broker slow or down): serve
         * delivery reports until there is room (docs/kafka.md "Memory"). */
        rd_kafka_poll(k->rk, QUEUE_FULL_WAIT_MS);
        if (k->async_err.code) {
            if (hdrs)
                rd_kafka_headers_destroy(hdrs);
            return sl_err_set(err, k->async_err.code, "%s", k->async_err.msg);
        }
    }
}

/* Hand the chunk's n records to librdkafka: one produce_batch call (one
 * clock read and topic lock for all), again for the rest after serving
 * delivery reports while the bounded queue is full. */
static int produce_chunk(ksink *k, int n, uint64_t seq, pending *p, sl_err *err)
{
    rd_kafka_message_t *m = k->chunk;
    for (int i = 0; i < n; i++) {
        memset(&m[i], 0, sizeof(m[i]));
        m[i].partition = RD_KAFKA_PARTITION_UA;
        if (k->chunk_len[i][1] >= 0) {
            m[i].payload = k->vbuf.data + k->chunk_off[i][1];
            m[i].len = (size_t)k->chunk_len[i][1];
        }
        if (k->chunk_len[i][0] >= 0) {
            m[i].key = k->kbuf.data + k->chunk_off[i][0];
            m[i].key_len = (size_t)k->chunk_len[i][0];
        }
        m[i]._private = (void *)(uintptr_t)seq;
    }
    int32_t part = chunk_partition(k);
    int start = 0;
    while (start < n) {
        rd_kafka_produce_batch(k->rkt, part, RD_KAFKA_MSG_F_COPY, m + start,
                               n - start);
        int first_err = -1;
        for (int i = start; i < n; i++) {
            if (!m[i].err) {
                if (p)
                    p->outstanding++;
            } else if (first_err < 0) {
                first_err = i;
            }
        }
        if (first_err < 0)
            break;
        if (part != RD_KAFKA_PARTITION_UA &&
            m[first_err].err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
            /* the partition went away: librdkafka chooses again */
            k->n_partitions = 0;
            part = RD_KAFKA_PARTITION_UA;
            start = first_err;
            continue;
        }
        if (m[first_err].err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return sl_err_set(err, SL_IO, "kafka topic '%s': produce: %s",
                              k->common.topics[0],
                              rd_kafka_err2str(m[first_err].err));
        /* Queue full: every record from first_err on was refused (the
         * call stops taking records then). Serve delivery reports until
         * there is room (docs/kafka.md "Memory"). */
        start = first_err;
        rd_kafka_poll(k->rk, QUEUE_FULL_WAIT_MS);
        if (k->async_err.code)
            return sl_err_set(err, k->async_err.code, "%s", k->async_err.msg);
    }
    sl_buf_reset(&k->kbuf);
    sl_buf_reset(&k->vbuf);
    return SL_OK;
}

/* Encode side (0 key, 1 value) of row r at the end of buf for the chunk's
 * record i; a record that does not fit after others is retried alone
 * once the chunk went out (*flush). */
static int chunk_encode(ksink *k, sl_encoder *enc, sl_buf *buf, int side,
                        const sl_batch *batch, int r, int i, bool *flush,
                        sl_err *err)
{
    size_t start = buf->len;
    int rc = enc->encode(enc, batch, r, buf, err);
    if (rc == SL_LIMIT && start > 0 && i > 0) {
        buf->len = start;
        buf->rc = SL_OK;
        *flush = true;
        return SL_OK;
    }
    k->chunk_off[i][side] = start;
    k->chunk_len[i][side] = (int64_t)(buf->len - start);
    return rc;
}

enum { ROW_RECORD, ROW_TOMBSTONE, ROW_SKIP };

/* What a row of this kind becomes: a record, a tombstone (upsert-kafka
 * -D), nothing (upsert-kafka -U: the +U that follows replaces it), or an
 * error (-1, err set) for update rows on an append-only topic. */
static int row_action(ksink *k, uint8_t kind, sl_err *err)
{
    if (kind == SLUICE_ROW_INSERT || kind == SLUICE_ROW_UPDATE_AFTER)
        return ROW_RECORD;
    if (!k->common.upsert) {
        sl_err_set(err, SL_UNSUPPORTED,
                   "kafka table '%s' is append-only and cannot take "
                   "update/delete rows (use upsert-kafka)",
                   k->common.table->name);
        return -1;
    }
    return kind == SLUICE_ROW_UPDATE_BEFORE ? ROW_SKIP : ROW_TOMBSTONE;
}

static int write_batched(ksink *k, const sl_batch *batch, uint64_t seq,
                         pending *p, sl_err *err)
{
    int n = 0, rc;
    sl_buf_reset(&k->kbuf);
    sl_buf_reset(&k->vbuf);
    for (int r = 0; r < batch->n_rows; r++) {
        int act = row_action(k, batch->kinds[r], err);
        if (act < 0)
            return err->code;
        if (act == ROW_SKIP)
            continue;
        bool tombstone = act == ROW_TOMBSTONE;
        bool flush = false;
        k->chunk_len[n][0] = k->chunk_len[n][1] = -1;
        if (k->key_enc && (rc = chunk_encode(k, k->key_enc, &k->kbuf, 0, batch,
                                             r, n, &flush, err)))
            return rc;
        if (!flush && !tombstone &&
            (rc = chunk_encode(k, k->value_enc, &k->vbuf, 1, batch, r, n,
                               &flush, err)))
            return rc;
        if (flush) {
            /* (produce_chunk empties both buffers) */
            if ((rc = produce_chunk(k, n, seq, p, err)))
                return rc;
            n = 0;
            r--; /* this row again, alone in the buffers */
            continue;
        }
        n++;
        if (n == CHUNK_ROWS || k->vbuf.len >= CHUNK_BYTES ||
            k->kbuf.len >= CHUNK_BYTES) {
            if ((rc = produce_chunk(k, n, seq, p, err)))
                return rc;
            n = 0;
        }
    }
    return n ? produce_chunk(k, n, seq, p, err) : SL_OK;
}

static int write_rows(ksink *k, const sl_batch *batch, uint64_t seq, pending *p,
                      sl_err *err);

static int sink_write(sl_sink *sink, const sl_batch *batch, uint64_t seq,
                      sl_err *err)
{
    ksink *k = (ksink *)sink;
    if (k->async_err.code)
        return sl_err_set(err, k->async_err.code, "%s", k->async_err.msg);
    pending *p = NULL; /* this write's delivery count (at-least-once) */
    if (k->guarantee != GUARANTEE_NONE) {
        while (k->ring_len == k->ring_cap) {
            /* Too many writes in flight: wait for deliveries. */
            rd_kafka_poll(k->rk, QUEUE_FULL_WAIT_MS);
            ring_advance(k);
            if (k->async_err.code)
                return sl_err_set(err, k->async_err.code, "%s",
                                  k->async_err.msg);
        }
        p = &k->ring[(k->ring_head + k->ring_len) % k->ring_cap];
        p->seq = seq;
        p->outstanding = 0;
        k->ring_len++;
    }
    k->write_ts = sl_now_ms();
    int rc = k->batched ? write_batched(k, batch, seq, p, err)
                        : write_rows(k, batch, seq, p, err);
    if (rc)
        return rc;
    k->last_seq = seq;
    rd_kafka_poll(k->rk, 0);
    ring_advance(k);
    return SL_OK;
}

/* Records one at a time (headers, timestamp column or transactions). */
static int write_rows(ksink *k, const sl_batch *batch, uint64_t seq, pending *p,
                      sl_err *err)
{
    for (int r = 0; r < batch->n_rows; r++) {
        int act = row_action(k, batch->kinds[r], err);
        if (act < 0)
            return err->code;
        if (act == ROW_SKIP)
            continue;
        bool tombstone = act == ROW_TOMBSTONE;
        if (p)
            p->outstanding++;
        int rc = produce_row(k, batch, r, seq, tombstone, err);
        if (rc) {
            if (p)
                p->outstanding--;
            return rc;
        }
    }
    return SL_OK;
}

static uint64_t sink_acked(sl_sink *sink)
{
    ksink *k = (ksink *)sink;
    if (k->guarantee == GUARANTEE_NONE)
        return k->last_seq;
    ring_advance(k);
    return k->acked_seq;
}

static int sink_poll_fd(sl_sink *sink)
{
    return ((ksink *)sink)->pipe_rd;
}

static int sink_poll(sl_sink *sink, sl_err *err)
{
    ksink *k = (ksink *)sink;
    char junk[256];
    while (read(k->pipe_rd, junk, sizeof(junk)) > 0) {
    }
    rd_kafka_poll(k->rk, 0);
    ring_advance(k);
    char errstr[256];
    if (rd_kafka_fatal_error(k->rk, errstr, sizeof(errstr)))
        return sl_err_set(err, SL_IO, "kafka topic '%s': %s",
                          k->common.topics[0], errstr);
    if (k->async_err.code)
        return sl_err_set(err, k->async_err.code, "%s", k->async_err.msg);
    return SL_OK;
}

static int sink_flush(sl_sink *sink, int timeout_ms, sl_err *err)
{
    ksink *k = (ksink *)sink;
    int64_t deadline = sl_now_ms() + timeout_ms;
    for (;;) {
        int rc = sink_poll(sink, err);
        if (rc)
            return rc;
        bool done = k->guarantee == GUARANTEE_NONE
                        ? rd_kafka_outq_len(k->rk) == 0
                        : k->ring_len == 0;
        if (done)
            return SL_OK;
        int64_t left = deadline - sl_now_ms();
        if (left <= 0)
            return sl_err_set(err, SL_TIMEOUT,
                              "kafka topic '%s': %d records not delivered "
                              "after %d ms",
                              k->common.topics[0], rd_kafka_outq_len(k->rk),
                              timeout_ms);
        rd_kafka_poll(k->rk, (int)SL_MIN(left, 100));
    }
}

static void sink_close(sl_sink *sink)
{
    ksink *k = (ksink *)sink;
    if (!k)
        return;
    if (k->key_enc)
        k->key_enc->close(k->key_enc);
    if (k->value_enc)
        k->value_enc->close(k->value_enc);
    sl_kafka_txn_close(&k->txn);
    if (k->rkt)
        rd_kafka_topic_destroy(k->rkt);
    if (k->main_queue)
        rd_kafka_queue_destroy(k->main_queue);
    if (k->rk) {
        /* Unflushed records are dropped on close: flush() first. */
        rd_kafka_purge(k->rk,
                       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_destroy(k->rk);
    }
    if (k->pipe_rd >= 0)
        close(k->pipe_rd);
    if (k->pipe_wr >= 0)
        close(k->pipe_wr);
    sl_free(k->ring);
    sl_free(k->chunk);
    sl_free(k->chunk_off);
    sl_free(k->chunk_len);
    sl_buf_free(&k->kbuf);
    sl_buf_free(&k->vbuf);
    sl_buf_free(&k->hbuf);
    sl_kafka_common_free(&k->common);
    sl_free(k);
}

/* ---- exactly-once checkpoint hooks (kafka_txn.c) ----------------------- */

static int sink_restore(sl_sink *sink, sqlite3 *state, const char *prefix,
                        sl_err *err)
{
    ksink *k = (ksink *)sink;
    if (!k->txn.enabled)
        return SL_OK;
    return sl_kafka_txn_restore(&k->txn, k->common.bootstrap, state, prefix,
                                err);
}

static int sink_snapshot(sl_sink *sink, sqlite3 *state, const char *prefix,
                         sl_err *err)
{
    ksink *k = (ksink *)sink;
    if (!k->txn.enabled)
        return SL_OK;
    if (k->async_err.code)
        return sl_err_set(err, k->async_err.code, "%s", k->async_err.msg);
    return sl_kafka_txn_snapshot(&k->txn, state, prefix, err);
}

static int sink_checkpoint_committed(sl_sink *sink, sl_err *err)
{
    ksink *k = (ksink *)sink;
    if (!k->txn.enabled)
        return SL_OK;
    int rc = sl_kafka_txn_committed(&k->txn, err);
    if (!rc && k->async_err.code)
        rc = sl_err_set(err, k->async_err.code, "%s", k->async_err.msg);
    return rc;
}

static const sl_sink_ops sink_ops = {
    .write = sink_write,
    .acked = sink_acked,
    .poll_fd = sink_poll_fd,
    .poll = sink_poll,
    .flush = sink_flush,
    .close = sink_close,
    .restore = sink_restore,
    .snapshot = sink_snapshot,
    .checkpoint_committed = sink_checkpoint_committed,
};

static int open_encoder(sl_kafka_side *side, sl_options *table_opts,
                        sl_encoder **out, sl_err *err)
{
    if (!side->format)
        return SL_OK;
    if (!side->format->open_encoder)
        return sl_err_set(err, SL_UNSUPPORTED, "format '%s' cannot be written",
                          side->format_name);
    sl_format_info info = {
        .fmt_schema = side->schema,
        .col_map = side->col_map,
        .options = &side->opts,
        .prefix = side->prefix,
    };
    int rc = side->format->open_encoder(&info, out, err);
    sl_kafka_side_sync_used(side, table_opts);
    return rc;
}

int sl_kafka_open_sink(const sl_table_info *table, sl_sink **out, sl_err *err)
{
    *out = NULL;
    ksink *k = sl_calloc(1, sizeof(*k));
    if (!k)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    k->base.ops = &sink_ops;
    k->pipe_rd = k->pipe_wr = -1;
    sl_buf_init(&k->kbuf, 64u << 20);
    sl_buf_init(&k->vbuf, 64u << 20);
    sl_buf_init(&k->hbuf, 16u << 20);
    int rc = sl_kafka_common_init(&k->common, table, false, err);
    static const char *const parts[] = {"default", "fixed", "round-robin",
                                        NULL};
    static const char *const guarantees[] = {"at-least-once", "none",
                                             "exactly-once", NULL};
    if (!rc)
        rc = sl_options_enum(table->options, "sink.partitioner", parts,
                             PART_DEFAULT, &k->partitioner, err);
    if (!rc)
        rc = sl_options_enum(table->options, "sink.delivery-guarantee",
                             guarantees, GUARANTEE_AT_LEAST_ONCE, &k->guarantee,
                             err);
    if (!rc && k->guarantee == GUARANTEE_EXACTLY_ONCE)
        rc = sl_kafka_txn_config(&k->txn, table, k->common.conf, err);
    sl_options_mark(table->options, "sink.transactional-id-prefix");
    sl_options_mark(table->options, "sink.transaction-marker-topic");
    if (!rc)
        rc = open_encoder(&k->common.key, table->options, &k->key_enc, err);
    if (!rc)
        rc = open_encoder(&k->common.value, table->options, &k->value_enc, err);
    if (rc) {
        sink_close(&k->base);
        return rc;
    }
    k->ring_cap = MAX_PENDING_SEQS;
    k->ring = sl_calloc((size_t)k->ring_cap, sizeof(*k->ring));
    k->batched = !k->txn.enabled && k->common.meta_col[SL_KMETA_HEADERS] < 0 &&
                 k->common.meta_col[SL_KMETA_TIMESTAMP] < 0;
    if (k->batched) {
        k->chunk = sl_calloc(CHUNK_ROWS, sizeof(*k->chunk));
        k->chunk_off = sl_calloc(CHUNK_ROWS, sizeof(*k->chunk_off));
        k->chunk_len = sl_calloc(CHUNK_ROWS, sizeof(*k->chunk_len));
    }
    int fds[2];
    if (!k->ring ||
        (k->batched && (!k->chunk || !k->chunk_off || !k->chunk_len)) ||
        pipe2(fds, O_NONBLOCK | O_CLOEXEC)) {
        sink_close(&k->base);
        return sl_err_set(err, SL_NOMEM, "kafka sink: out of resources");
    }
    k->pipe_rd = fds[0];
    k->pipe_wr = fds[1];
    rd_kafka_conf_t *conf = k->common.conf;
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, k);
    if (k->partitioner != PART_DEFAULT) {
        /* keyless records would otherwise stick to one partition */
        char errstr[256];
        rd_kafka_conf_set(conf, "sticky.partitioning.linger.ms", "0", errstr,
                          sizeof(errstr));
    }
    if (k->guarantee == GUARANTEE_NONE) {
        char errstr[256];
        rd_kafka_conf_set(conf, "enable.idempotence", "false", errstr,
                          sizeof(errstr));
        rd_kafka_conf_set(conf, "acks", "1", errstr, sizeof(errstr));
    }
    char errstr[512];
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!k->rk) {
        sink_close(&k->base);
        return sl_err_set(err, SL_IO, "kafka table '%s': %s", table->name,
                          errstr);
    }
    k->common.conf = NULL;
    k->txn.rk = k->rk;
    k->txn.topic = k->common.topics[0];
    rd_kafka_topic_conf_t *tconf = rd_kafka_default_topic_conf_dup(k->rk);
    rd_kafka_topic_conf_set_opaque(tconf, k);
    k->own_sticky = k->batched && k->partitioner == PART_DEFAULT &&
                    !k->key_enc &&
                    !sl_options_has(table->options, "properties.partitioner") &&
                    !sl_options_has(table->options,
                                    "properties.sticky.partitioning.linger.ms");
    k->sticky_part = -1;
    k->rand_state = (uint64_t)sl_mono_ns() | 1;
    if (k->partitioner == PART_FIXED)
        rd_kafka_topic_conf_set_partitioner_cb(tconf, fixed_partitioner);
    else if (k->partitioner == PART_ROUND_ROBIN)
        rd_kafka_topic_conf_set_partitioner_cb(tconf, rr_partitioner);
    k->rkt = rd_kafka_topic_new(k->rk, k->common.topics[0], tconf);
    if (!k->rkt) {
        sink_close(&k->base);
        return sl_err_set(err, SL_IO, "kafka table '%s': topic '%s': %s",
                          table->name, k->common.topics[0],
                          rd_kafka_err2str(rd_kafka_last_error()));
    }
    if (k->own_sticky) {
        /* One metadata round trip at open; without an answer (broker
         * down, topic not created yet) librdkafka partitions. */
        const rd_kafka_metadata_t *md = NULL;
        if (!rd_kafka_metadata(k->rk, 0, k->rkt, &md, METADATA_TIMEOUT_MS) &&
            md->topic_cnt == 1 && !md->topics[0].err)
            k->n_partitions = md->topics[0].partition_cnt;
        if (md)
            rd_kafka_metadata_destroy(md);
    }
    k->main_queue = rd_kafka_queue_get_main(k->rk);
    rd_kafka_queue_io_event_enable(k->main_queue, k->pipe_wr, "1", 1);
    *out = &k->base;
    return SL_OK;
}
