/*
 * kafka_int.h: what the Kafka source (kafka_source.c), sink (kafka_sink.c)
 * and the shared option handling (kafka.c) tell each other.
 *
 * kafka.c reads the Flink-named WITH options common to both directions
 * ('topic', 'properties.*', key and value formats), builds librdkafka
 * configurations with bounded queues, and owns the per-process embedded
 * broker ('properties.bootstrap.servers' = 'embedded'). The source and the
 * sink then drive librdkafka without ever blocking the job loop.
 */
#ifndef SL_KAFKA_INT_H
#define SL_KAFKA_INT_H

#include <librdkafka/rdkafka.h>

#include "connector.h"
#include "format.h"

#define SL_KAFKA_MAX_TOPICS 64

/* Metadata columns ('timestamp' etc.), by index in kafka_meta_keys. */
typedef enum sl_kafka_meta {
    SL_KMETA_TOPIC = 0,
    SL_KMETA_PARTITION,
    SL_KMETA_OFFSET,
    SL_KMETA_TIMESTAMP,
    SL_KMETA_TIMESTAMP_TYPE,
    SL_KMETA_HEADERS,
    SL_KMETA_LEADER_EPOCH,
    SL_KMETA__COUNT
} sl_kafka_meta;

/* One side of the record (key or value) with its format. */
typedef struct sl_kafka_side {
    const sl_format *format; /* NULL: this side is not read/written */
    char format_name[64];
    char prefix[96];    /* "json.", "value.json.", "key.raw." */
    sl_schema *schema;  /* the format's fields */
    int *col_map;       /* format field -> table column */
    sl_options opts;    /* copy of the table options (+ defaults) */
    bool ignore_errors; /* '<prefix>ignore-parse-errors' */
} sl_kafka_side;

/* What both directions read from the WITH options. */
typedef struct sl_kafka_common {
    sl_arena arena;
    const sl_table_info *table;
    int n_topics;
    char *topics[SL_KAFKA_MAX_TOPICS];
    char *topic_pattern;
    bool embedded; /* holds a reference on the embedded broker */
    char *bootstrap;
    int meta_col[SL_KMETA__COUNT]; /* table column of each key, or -1 */
    sl_kafka_side key, value;
    rd_kafka_conf_t *conf; /* ready for rd_kafka_new, or NULL */
    bool upsert; /* 'connector' = 'upsert-kafka' (upsert_kafka.c): the key
                    is the PRIMARY KEY; -D rows are tombstones */
} sl_kafka_common;

/* Parse the shared options; build conf with defaults then properties.*.
 * is_source selects the consumer/producer defaults. */
int sl_kafka_common_init(sl_kafka_common *common, const sl_table_info *table,
                         bool is_source, sl_err *err);
void sl_kafka_common_free(sl_kafka_common *common);
/* Copy 'used' marks of the side's option copy back to the table's. */
void sl_kafka_side_sync_used(sl_kafka_side *side, sl_options *table_opts);

/* The embedded broker shared by the process: acquire returns its bootstrap
 * address (valid until the matching release). */
int sl_kafka_embedded_acquire(const char **bootstrap, sl_err *err);
void sl_kafka_embedded_release(void);

/* Base64 (standard alphabet, padded) for header values in JSON. */
int sl_kafka_base64_encode(const void *data, size_t len, sl_buf *out);
/* Decode into out; returns SL_ERROR on malformed input. */
int sl_kafka_base64_decode(const char *s, size_t len, sl_buf *out);
/* Append s as a JSON string literal (quotes and escapes). */
int sl_kafka_json_string(const char *s, size_t len, sl_buf *out);

int sl_kafka_open_source(const sl_table_info *table, sl_source **out,
                         sl_err *err);
/* For tests and metrics: records skipped under
 * '<format>.ignore-parse-errors' by a Kafka source. */
uint64_t sl_kafka_source_skipped(sl_source *src);

int sl_kafka_open_sink(const sl_table_info *table, sl_sink **out, sl_err *err);

/* upsert_kafka.c: with 'connector' = 'upsert-kafka', setup_formats takes
 * the key columns from the PRIMARY KEY; *kfields receives them joined by
 * ';' (arena) after the upsert-specific option checks. */
int sl_upsert_kafka_key_fields(sl_kafka_common *common, const char **kfields,
                               sl_err *err);

/* ---- exactly-once: transactions tied to checkpoints (kafka_txn.c) ------- */

#define SL_KAFKA_TXN_MAX_PARTS     256
#define SL_KAFKA_TXN_MARKER_OPAQUE ((void *)(uintptr_t)UINT64_MAX)
#define SL_KAFKA_TXN_REPLAY_OPAQUE ((void *)(uintptr_t)(UINT64_MAX - 1))

typedef struct sl_kafka_txn {
    bool enabled;             /* 'sink.delivery-guarantee' = 'exactly-once' */
    bool restored;            /* restore() ran: the job has checkpoints */
    bool open;                /* a Kafka transaction is open */
    bool prepared;            /* snapshot() wrote it into the checkpoint */
    bool recovered_committed; /* restore found the last one committed */
    bool replaying;           /* restore writes a prepared outbox again */
    int64_t n_prepared;       /* checkpoints that prepared a transaction */
    rd_kafka_t *rk;           /* the sink's producer (not owned) */
    const char *topic;        /* the sink's topic (not owned) */
    char tid[256];            /* transactional.id */
    char marker_topic[256];
    char run[24];  /* hex id of the state database's sink state */
    int64_t epoch; /* number of the open (or next) transaction */
    int64_t n_records, n_replayed;
    sl_buf outbox; /* the open transaction's records, for recovery */
    int n_ranges;  /* delivered offsets per partition, for the marker */
    struct {
        int32_t partition;
        int64_t lo, hi;
    } ranges[SL_KAFKA_TXN_MAX_PARTS];
} sl_kafka_txn;

/* Read 'sink.transactional-id-prefix' / 'sink.transaction-marker-topic'
 * and set transactional.id in conf. */
int sl_kafka_txn_config(sl_kafka_txn *t, const sl_table_info *table,
                        rd_kafka_conf_t *conf, sl_err *err);
/* Before producing a record: open the transaction, keep a copy. */
int sl_kafka_txn_record(sl_kafka_txn *t, const void *key, size_t key_len,
                        const void *value, size_t value_len, int64_t ts,
                        rd_kafka_headers_t *hdrs, sl_err *err);
/* A record of the open transaction was delivered (delivery report). */
void sl_kafka_txn_delivered(sl_kafka_txn *t, int32_t partition, int64_t offset);
/* Checkpoint hooks (connector.h sl_sink_ops restore/snapshot/committed). */
int sl_kafka_txn_restore(sl_kafka_txn *t, const char *bootstrap, sqlite3 *db,
                         const char *prefix, sl_err *err);
int sl_kafka_txn_snapshot(sl_kafka_txn *t, sqlite3 *db, const char *prefix,
                          sl_err *err);
int sl_kafka_txn_committed(sl_kafka_txn *t, sl_err *err);
/* Abort an open transaction; free the outbox. */
void sl_kafka_txn_close(sl_kafka_txn *t);

#endif
