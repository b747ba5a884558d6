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

#endif
