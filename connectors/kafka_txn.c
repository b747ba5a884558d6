/*
 * kafka_txn.c: the Kafka sink's exactly-once mode
 * ('sink.delivery-guarantee' = 'exactly-once'): Kafka transactions tied to
 * the job's checkpoints (runtime/checkpoint.c).
 *
 * Between two checkpoints the sink writes every record inside one Kafka
 * transaction (transactional.id '<sink.transactional-id-prefix>-0') and
 * keeps a copy of it (key, value, timestamp, headers) in an in-memory
 * "outbox". A checkpoint then runs in this order (runtime/job.c):
 *
 *   1. flush: every record of the transaction is delivered (not committed);
 *   2. snapshot: inside the checkpoint's SQLite transaction, the outbox
 *      and (run id, epoch) of the transaction go into the tables
 *      snk_txn / snk_outbox of the job's state database;
 *   3. the checkpoint's SQLite transaction commits (source positions,
 *      operator state and the outbox are durable together);
 *   4. committed: a marker record {run, epoch, offset ranges} is written to
 *      'sink.transaction-marker-topic' (partition 0, key = transactional.id)
 *      inside the same Kafka transaction, which then commits.
 *
 * Recovery (restore, before the first write of a restarted job):
 * init_transactions() with the same transactional.id fences the previous
 * incarnation and aborts its open transaction. If the last checkpoint
 * prepared epoch E (snk_txn), the sink reads the marker topic with
 * isolation.level=read_committed: a marker (run, E) means transaction E
 * committed before the crash; otherwise (a kill between steps 3 and 4) it
 * was aborted, and the sink writes the outbox of E again in a new
 * transaction with marker E and commits it. Either way exactly the rows of
 * every completed checkpoint are committed once, and the job resumes from
 * that checkpoint's source positions. A kill before step 3 leaves the
 * previous checkpoint; its transaction is aborted and its rows are
 * produced again by the replay from the previous positions.
 *
 * The run id (random, chosen when the state database first holds sink
 * state) keeps markers of an earlier job that used the same prefix with
 * another state database from being mistaken for ours.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>

#include "kafka_int.h"

#define OUTBOX_MAX_BYTES   (512u << 20)
#define TXN_TIMEOUT_MS     60000
#define MARKER_SCAN_WINDOW 1000
#define MARKER_READ_MS     30000
#define OUTBOX_NONE        0xFFFFFFFFu

/* ---- configuration ------------------------------------------------------ */

int sl_kafka_txn_config(sl_kafka_txn *t, const sl_table_info *table,
                        rd_kafka_conf_t *conf, sl_err *err)
{
    memset(t, 0, sizeof(*t));
    sl_buf_init(&t->outbox, OUTBOX_MAX_BYTES);
    t->enabled = true;
    t->epoch = 1;
    const char *prefix = NULL, *marker = NULL;
    int rc = sl_options_string(table->options, "sink.transactional-id-prefix",
                               NULL, &prefix, err);
    if (!rc && (!prefix || !*prefix))
        return sl_err_set(err, SL_SQL,
                          "table '%s': 'sink.delivery-guarantee' = "
                          "'exactly-once' needs "
                          "'sink.transactional-id-prefix' (a name unique to "
                          "this job and sink, e.g. 'orders-to-totals')",
                          table->name);
    if (!rc)
        rc = sl_options_string(table->options, "sink.transaction-marker-topic",
                               "sluice-txn-markers", &marker, err);
    if (rc)
        return rc;
    if (sl_snprintf(t->tid, sizeof(t->tid), "%s-0", prefix) >=
            (int)sizeof(t->tid) ||
        sl_strlcpy(t->marker_topic, marker, sizeof(t->marker_topic)) >=
            sizeof(t->marker_topic))
        return sl_err_set(err, SL_SQL,
                          "table '%s': 'sink.transactional-id-prefix' or "
                          "'sink.transaction-marker-topic' is too long",
                          table->name);
    char errstr[256];
    if (rd_kafka_conf_set(conf, "transactional.id", t->tid, errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK)
        return sl_err_set(err, SL_SQL, "table '%s': transactional.id: %s",
                          table->name, errstr);
    return SL_OK;
}

/* ---- errors ------------------------------------------------------------- */

/* Take over a librdkafka transaction error (destroying it). */
static int txn_error(sl_kafka_txn *t, rd_kafka_error_t *e, const char *what,
                     sl_err *err)
{
    int rc = sl_err_set(err, SL_IO, "kafka transaction '%s': %s: %s%s", t->tid,
                        what, rd_kafka_error_string(e),
                        rd_kafka_error_is_fatal(e)
                            ? " (fatal: another job with the same "
                              "'sink.transactional-id-prefix' fenced "
                              "this one?)"
                            : "");
    rd_kafka_error_destroy(e);
    return rc;
}

/* ---- writing ------------------------------------------------------------ */

static int begin(sl_kafka_txn *t, sl_err *err)
{
    if (t->open)
        return SL_OK;
    rd_kafka_error_t *e = rd_kafka_begin_transaction(t->rk);
    if (e)
        return txn_error(t, e, "begin", err);
    t->open = true;
    t->n_ranges = 0;
    return SL_OK;
}

static void put_u32(sl_buf *b, uint32_t v)
{
    sl_buf_append(b, &v, sizeof(v));
}

int sl_kafka_txn_record(sl_kafka_txn *t, const void *key, size_t key_len,
                        const void *value, size_t value_len, int64_t ts,
                        rd_kafka_headers_t *hdrs, sl_err *err)
{
    if (!t->restored)
        return sl_err_set(err, SL_UNSUPPORTED,
                          "kafka sink '%s': 'sink.delivery-guarantee' = "
                          "'exactly-once' commits with checkpoints: SET "
                          "'state.dir' (and 'execution.checkpointing."
                          "interval') for the job",
                          t->tid);
    int rc = begin(t, err);
    if (rc)
        return rc;
    /* outbox record: key, value (length OUTBOX_NONE: NULL), timestamp,
     * header count, then per header name and value */
    sl_buf *b = &t->outbox;
    put_u32(b, key ? (uint32_t)key_len : OUTBOX_NONE);
    if (key)
        sl_buf_append(b, key, key_len);
    put_u32(b, value ? (uint32_t)value_len : OUTBOX_NONE);
    if (value)
        sl_buf_append(b, value, value_len);
    sl_buf_append(b, &ts, sizeof(ts));
    size_t n_hdrs = hdrs ? rd_kafka_header_cnt(hdrs) : 0;
    put_u32(b, (uint32_t)n_hdrs);
    for (size_t i = 0; i < n_hdrs; i++) {
        const char *name;
        const void *val;
        size_t size;
        rd_kafka_header_get_all(hdrs, i, &name, &val, &size);
        put_u32(b, (uint32_t)strlen(name));
        sl_buf_append(b, name, strlen(name));
        put_u32(b, val ? (uint32_t)size : OUTBOX_NONE);
        if (val)
            sl_buf_append(b, val, size);
    }
    if (b->rc)
        return sl_err_set(err, b->rc,
                          "kafka sink '%s': the output of one checkpoint "
                          "interval exceeds %u MB (exactly-once keeps it "
                          "until the checkpoint); shorten "
                          "'execution.checkpointing.interval'",
                          t->tid, OUTBOX_MAX_BYTES >> 20);
    t->n_records++;
    return SL_OK;
}

void sl_kafka_txn_delivered(sl_kafka_txn *t, int32_t partition, int64_t offset)
{
    for (int i = 0; i < t->n_ranges; i++) {
        if (t->ranges[i].partition != partition)
            continue;
        t->ranges[i].lo = SL_MIN(t->ranges[i].lo, offset);
        t->ranges[i].hi = SL_MAX(t->ranges[i].hi, offset);
        return;
    }
    if (t->n_ranges == SL_KAFKA_TXN_MAX_PARTS)
        return; /* ranges are informational (tests, audits) */
    t->ranges[t->n_ranges].partition = partition;
    t->ranges[t->n_ranges].lo = offset;
    t->ranges[t->n_ranges].hi = offset;
    t->n_ranges++;
}

/* ---- the marker --------------------------------------------------------- */

static int produce_marker(sl_kafka_txn *t, sl_err *err)
{
    json_t *ranges = json_array();
    for (int i = 0; i < t->n_ranges; i++)
        json_array_append_new(ranges,
                              json_pack("[iII]", (int)t->ranges[i].partition,
                                        (json_int_t)t->ranges[i].lo,
                                        (json_int_t)t->ranges[i].hi));
    json_t *obj = json_pack("{sssssIsssIsbso}", "tid", t->tid, "run", t->run,
                            "epoch", (json_int_t)t->epoch, "topic", t->topic,
                            "records", (json_int_t)t->n_records, "recovered",
                            (int)t->replaying, "ranges", ranges);
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!text)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    rd_kafka_resp_err_t e = rd_kafka_producev(
        t->rk, RD_KAFKA_V_TOPIC(t->marker_topic), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(t->tid, strlen(t->tid)),
        RD_KAFKA_V_VALUE(text, strlen(text)),
        RD_KAFKA_V_OPAQUE(SL_KAFKA_TXN_MARKER_OPAQUE), RD_KAFKA_V_END);
    free(text); /* sl: allow */
    if (e)
        return sl_err_set(err, SL_IO,
                          "kafka transaction '%s': marker topic '%s': %s",
                          t->tid, t->marker_topic, rd_kafka_err2str(e));
    return SL_OK;
}

/* Marker, then commit; the transaction of epoch t->epoch is done. */
static int commit(sl_kafka_txn *t, sl_err *err)
{
    int rc = produce_marker(t, err);
    if (rc)
        return rc;
    rd_kafka_error_t *e = rd_kafka_commit_transaction(t->rk, TXN_TIMEOUT_MS);
    if (e) {
        if (rd_kafka_error_txn_requires_abort(e)) {
            rd_kafka_error_t *e2 =
                rd_kafka_abort_transaction(t->rk, TXN_TIMEOUT_MS);
            if (e2)
                rd_kafka_error_destroy(e2);
            t->open = false;
        }
        return txn_error(t, e, "commit", err);
    }
    t->open = false;
    t->prepared = false;
    t->n_ranges = 0;
    t->n_records = 0;
    sl_buf_reset(&t->outbox);
    t->epoch++;
    return SL_OK;
}

/* ---- checkpoint hooks --------------------------------------------------- */

static int exec_sql(sqlite3 *db, const char *sql, sl_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc =
            sl_err_set(err, SL_IO, "kafka sink state: %s", msg ? msg : "error");
        sqlite3_free(msg);
        return rc;
    }
    return SL_OK;
}

int sl_kafka_txn_snapshot(sl_kafka_txn *t, sqlite3 *db, const char *prefix,
                          sl_err *err)
{
    if (!t->open)
        return SL_OK; /* nothing written since the last checkpoint */
    char sql[512];
    sl_snprintf(sql, sizeof(sql),
                "CREATE TABLE IF NOT EXISTS %stxn(version INTEGER, tid TEXT, "
                "run TEXT, epoch INTEGER, n_records INTEGER, outbox BLOB);"
                "DELETE FROM %stxn;",
                prefix, prefix);
    int rc = exec_sql(db, sql, err);
    if (rc)
        return rc;
    sl_snprintf(sql, sizeof(sql),
                "INSERT INTO %stxn VALUES (1, ?1, ?2, ?3, ?4, ?5)", prefix);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return sl_err_set(err, SL_IO, "kafka sink state: %s",
                          sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, t->tid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, t->run, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, t->epoch);
    sqlite3_bind_int64(st, 4, t->n_records);
    sqlite3_bind_blob64(st, 5, t->outbox.data ? t->outbox.data : "",
                        t->outbox.len, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sl_err_set(err, SL_IO, "kafka sink state: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (!rc)
        t->prepared = true;
    return rc;
}

/* Fault injection for the crash tests (test_kafka_eos.c): with
 * SLUICE_TEST_KAFKA_TXN_KILL=N in the environment the process kills itself
 * (SIGKILL) after the N-th checkpoint's SQLite commit that prepared a
 * transaction, before that transaction's marker and Kafka commit. */
static void test_kill_point(sl_kafka_txn *t)
{
    const char *v = getenv("SLUICE_TEST_KAFKA_TXN_KILL");
    if (v && ++t->n_prepared == strtoll(v, NULL, 10))
        raise(SIGKILL);
}

int sl_kafka_txn_committed(sl_kafka_txn *t, sl_err *err)
{
    if (!t->prepared)
        return SL_OK;
    test_kill_point(t);
    return commit(t, err);
}

/* ---- recovery ----------------------------------------------------------- */

/* The newest marker of t->tid on the marker topic (read_committed): its run
 * and epoch into *run / *epoch (run "" when there is none). */
static int last_marker(sl_kafka_txn *t, const char *bootstrap, char *run,
                       size_t run_len, int64_t *epoch, sl_err *err)
{
    run[0] = '\0';
    *epoch = 0;
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[][2] = {{"bootstrap.servers", bootstrap},
                           {"isolation.level", "read_committed"},
                           {"enable.partition.eof", "true"},
                           {"enable.auto.commit", "false"},
                           {"queued.max.messages.kbytes", "4096"},
                           {"log_level", "3"}};
    for (size_t i = 0; i < SL_ARRAY_LEN(kv); i++)
        rd_kafka_conf_set(conf, kv[i][0], kv[i][1], errstr, sizeof(errstr));
    rd_kafka_t *rk =
        rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return sl_err_set(err, SL_IO, "kafka transaction '%s': %s", t->tid,
                          errstr);
    }
    int rc = SL_OK;
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
        rk, t->marker_topic, 0, &lo, &hi, MARKER_READ_MS);
    if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
        e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
        e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
        rd_kafka_destroy(rk);
        return SL_OK;
    }
    if (e) {
        rd_kafka_destroy(rk);
        return sl_err_set(err, SL_IO,
                          "kafka transaction '%s': marker topic '%s': %s",
                          t->tid, t->marker_topic, rd_kafka_err2str(e));
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, t->marker_topic, NULL);
    int64_t deadline = sl_now_ms() + MARKER_READ_MS;
    bool found = false;
    /* scan windows backwards from the end until a marker of ours shows */
    for (int64_t end = hi; end > lo && !found && !rc;) {
        int64_t start = SL_MAX(lo, end - MARKER_SCAN_WINDOW);
        if (rd_kafka_consume_start(rkt, 0, start) == -1) {
            rc = sl_err_set(err, SL_IO, "kafka transaction '%s': %s", t->tid,
                            rd_kafka_err2str(rd_kafka_last_error()));
            break;
        }
        for (;;) {
            if (sl_now_ms() > deadline) {
                rc = sl_err_set(err, SL_TIMEOUT,
                                "kafka transaction '%s': reading marker "
                                "topic '%s' timed out",
                                t->tid, t->marker_topic);
                break;
            }
            rd_kafka_message_t *m = rd_kafka_consume(rkt, 0, 200);
            if (!m)
                continue;
            bool done = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ||
                        (!m->err && m->offset >= end - 1);
            if (m->err && !done) {
                rc = sl_err_set(err, SL_IO,
                                "kafka transaction '%s': marker topic "
                                "'%s': %s",
                                t->tid, t->marker_topic,
                                rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
                break;
            }
            if (!m->err && m->offset < end && m->key &&
                m->key_len == strlen(t->tid) &&
                !memcmp(m->key, t->tid, m->key_len)) {
                json_t *obj = json_loadb(m->payload, m->len, 0, NULL);
                const char *r = json_string_value(json_object_get(obj, "run"));
                json_t *ep = json_object_get(obj, "epoch");
                if (r && json_is_integer(ep)) {
                    sl_strlcpy(run, r, run_len);
                    *epoch = json_integer_value(ep);
                    found = true;
                }
                json_decref(obj);
            }
            rd_kafka_message_destroy(m);
            if (done)
                break;
        }
        rd_kafka_consume_stop(rkt, 0);
        end = start;
    }
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return rc;
}

static bool take(const unsigned char **p, const unsigned char *end, size_t n)
{
    return (size_t)(end - *p) >= n;
}

static int get_u32(const unsigned char **p, const unsigned char *end,
                   uint32_t *v)
{
    if (!take(p, end, 4))
        return SL_ERROR;
    memcpy(v, *p, 4);
    *p += 4;
    return SL_OK;
}

/* Produce the outbox of a prepared epoch again, inside the open txn. */
static int replay(sl_kafka_txn *t, const unsigned char *p, size_t len,
                  sl_err *err)
{
    const unsigned char *end = p + len;
    while (p < end) {
        uint32_t klen, vlen, n_hdrs;
        const void *key = NULL, *value = NULL;
        int64_t ts;
        if (get_u32(&p, end, &klen))
            goto corrupt;
        if (klen != OUTBOX_NONE) {
            if (!take(&p, end, klen))
                goto corrupt;
            key = p;
            p += klen;
        }
        if (get_u32(&p, end, &vlen))
            goto corrupt;
        if (vlen != OUTBOX_NONE) {
            if (!take(&p, end, vlen))
                goto corrupt;
            value = p;
            p += vlen;
        }
        if (!take(&p, end, 8))
            goto corrupt;
        memcpy(&ts, p, 8);
        p += 8;
        if (get_u32(&p, end, &n_hdrs))
            goto corrupt;
        rd_kafka_headers_t *hdrs =
            n_hdrs ? rd_kafka_headers_new(SL_MIN(n_hdrs, 64u)) : NULL;
        for (uint32_t i = 0; i < n_hdrs; i++) {
            uint32_t nlen, hlen;
            const void *name, *hval = NULL;
            if (get_u32(&p, end, &nlen) || !take(&p, end, nlen)) {
                rd_kafka_headers_destroy(hdrs);
                goto corrupt;
            }
            name = p;
            p += nlen;
            if (get_u32(&p, end, &hlen)) {
                rd_kafka_headers_destroy(hdrs);
                goto corrupt;
            }
            if (hlen != OUTBOX_NONE) {
                if (!take(&p, end, hlen)) {
                    rd_kafka_headers_destroy(hdrs);
                    goto corrupt;
                }
                hval = p;
                p += hlen;
            }
            rd_kafka_header_add(hdrs, name, (ssize_t)nlen, hval,
                                hval ? (ssize_t)hlen : 0);
        }
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                t->rk, RD_KAFKA_V_TOPIC(t->topic),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(key, key ? klen : 0),
                RD_KAFKA_V_VALUE((void *)value, value ? vlen : 0),
                RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(hdrs),
                RD_KAFKA_V_OPAQUE(SL_KAFKA_TXN_REPLAY_OPAQUE), RD_KAFKA_V_END);
            if (!e)
                break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                if (hdrs)
                    rd_kafka_headers_destroy(hdrs);
                return sl_err_set(err, SL_IO,
                                  "kafka transaction '%s': replay: %s", t->tid,
                                  rd_kafka_err2str(e));
            }
            rd_kafka_poll(t->rk, 50);
        }
        t->n_records++;
    }
    return SL_OK;
corrupt:
    return sl_err_set(err, SL_IO,
                      "kafka transaction '%s': the outbox in the state "
                      "database is corrupt",
                      t->tid);
}

int sl_kafka_txn_restore(sl_kafka_txn *t, const char *bootstrap, sqlite3 *db,
                         const char *prefix, sl_err *err)
{
    rd_kafka_error_t *e = rd_kafka_init_transactions(t->rk, TXN_TIMEOUT_MS);
    if (e)
        return txn_error(t, e, "init (fencing the previous run)", err);
    t->restored = true;
    char sql[256];
    sl_snprintf(sql, sizeof(sql),
                "SELECT run, epoch, outbox FROM %stxn WHERE version = 1",
                prefix);
    sqlite3_stmt *st = NULL;
    bool have = db && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW;
    if (!have) {
        sqlite3_finalize(st);
        /* no sink state yet: a new run id for our markers */
        unsigned char rnd[8];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
            uint64_t x = (uint64_t)sl_mono_ns() ^ (uint64_t)sl_now_ms() << 20;
            memcpy(rnd, &x, sizeof(rnd));
        }
        for (int i = 0; i < 8; i++)
            sl_snprintf(t->run + 2 * i, 3, "%02x", rnd[i]);
        t->epoch = 1;
        return SL_OK;
    }
    const char *run = (const char *)sqlite3_column_text(st, 0);
    sl_strlcpy(t->run, run ? run : "", sizeof(t->run));
    int64_t prepared = sqlite3_column_int64(st, 1);
    char mrun[sizeof(t->run)];
    int64_t mepoch = 0;
    int rc = last_marker(t, bootstrap, mrun, sizeof(mrun), &mepoch, err);
    if (rc) {
        sqlite3_finalize(st);
        return rc;
    }
    t->epoch = prepared;
    t->recovered_committed = false;
    if (!strcmp(mrun, t->run) && mepoch >= prepared) {
        t->recovered_committed = true; /* committed before the crash */
        sqlite3_finalize(st);
        t->epoch = prepared + 1;
        return SL_OK;
    }
    /* The checkpoint prepared epoch E but its transaction never committed
     * (killed between the SQLite commit and the Kafka commit): write it
     * again. */
    rc = begin(t, err);
    const void *blob = sqlite3_column_blob(st, 2);
    int blob_len = sqlite3_column_bytes(st, 2);
    t->n_records = 0;
    t->replaying = true;
    if (!rc && blob)
        rc = replay(t, blob, (size_t)blob_len, err);
    sqlite3_finalize(st);
    if (!rc) {
        rd_kafka_resp_err_t fe = rd_kafka_flush(t->rk, TXN_TIMEOUT_MS);
        if (fe)
            rc = sl_err_set(err, SL_TIMEOUT,
                            "kafka transaction '%s': replay not delivered: %s",
                            t->tid, rd_kafka_err2str(fe));
    }
    t->n_replayed = t->n_records;
    if (!rc)
        rc = commit(t, err);
    t->replaying = false;
    return rc;
}

void sl_kafka_txn_close(sl_kafka_txn *t)
{
    if (t->enabled && t->open && t->rk) {
        /* a failed or stopped job: its rows since the last checkpoint are
         * aborted (read_committed readers never see them) */
        rd_kafka_error_t *e = rd_kafka_abort_transaction(t->rk, 10000);
        if (e)
            rd_kafka_error_destroy(e);
        t->open = false;
    }
    sl_buf_free(&t->outbox);
}
