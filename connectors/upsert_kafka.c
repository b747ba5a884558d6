/*
 * upsert_kafka.c: the 'upsert-kafka' connector: a Kafka topic read and
 * written as a changelog keyed by the table's PRIMARY KEY, with Flink's
 * option names.
 *
 * It is the kafka connector (kafka.c, kafka_source.c, kafka_sink.c) in
 * upsert mode (sl_kafka_common.upsert, set from the 'connector' option):
 * the record key is the PRIMARY KEY columns encoded with 'key.format'
 * (there is no 'key.fields'); the sink writes +I and +U rows as key/value
 * records, a -D row as a tombstone (the key with a NULL value) and skips
 * -U rows; the source reads the topic from the earliest offset, a value
 * as a +U row (insert or update of its key) and a tombstone as a -D row
 * carrying the key columns. This file holds only the connector entry and
 * the key checks made at planning time.
 */
#include <string.h>

#include "kafka_int.h"

static const sl_option_def upsert_options[] = {
    {"topic", "string", NULL, "The topic (one)."},
    {"properties.bootstrap.servers", "string", NULL,
     "Kafka brokers host:port,...; 'embedded' starts an in-process broker."},
    {"properties.*", "string", NULL,
     "Any librdkafka property, passed through unchanged."},
    {"key.format", "string", NULL,
     "Format of the record key: the PRIMARY KEY columns."},
    {"value.format", "string", NULL, "Format of the record value."},
    {"key.fields-prefix", "string", "",
     "Prefix of the key columns' names, stripped in the key format."},
    {"value.fields-include", "enum", "ALL",
     "ALL or EXCEPT_KEY: whether the value holds the key columns too."},
    {"sink.buffer-flush.max-rows", "int", "0",
     "Accepted for Flink compatibility; records go to librdkafka at once "
     "(it batches by 'properties.linger.ms')."},
    {"sink.buffer-flush.interval", "duration", "0",
     "Accepted for Flink compatibility (see sink.buffer-flush.max-rows)."},
    {"sink.delivery-guarantee", "enum", "at-least-once",
     "at-least-once, exactly-once or none (as the kafka connector)."},
    {"sink.transactional-id-prefix", "string", NULL,
     "Required for exactly-once (as the kafka connector)."},
    {"sink.transaction-marker-topic", "string", "sluice-txn-markers",
     "Exactly-once commit markers (as the kafka connector)."},
    {"sink.parallelism", "int", NULL, "Accepted for Flink compatibility."},
    {"scan.bounded.mode", "enum", "unbounded",
     "Sluice extension: 'latest-offset' stops at the end offsets when the "
     "source starts."},
    {NULL, NULL, NULL, NULL},
};

const sl_connector sl_upsert_kafka_connector = {
    .version = SL_CONNECTOR_VERSION,
    .name = "upsert-kafka",
    .doc = "A Kafka topic as a changelog keyed by the PRIMARY KEY (upserts "
           "and tombstones), Flink option names.",
    .options = upsert_options,
    .open_source = sl_kafka_open_source,
    .open_sink = sl_kafka_open_sink,
    .sink_accepts_updates = true,
    .source_is_updating = true,
};

int sl_upsert_kafka_key_fields(sl_kafka_common *common, const char **kfields,
                               sl_err *err)
{
    const sl_table_info *table = common->table;
    sl_options *opts = table->options;
    if (sl_options_has(opts, "key.fields"))
        return sl_err_set(err, SL_SQL,
                          "table '%s': upsert-kafka takes the key from the "
                          "PRIMARY KEY; remove 'key.fields'",
                          table->name);
    if (table->n_primary_key <= 0 || !table->primary_key)
        return sl_err_set(err, SL_SQL,
                          "table '%s': the upsert-kafka connector needs a "
                          "PRIMARY KEY (the record key), e.g. PRIMARY KEY "
                          "(id) NOT ENFORCED",
                          table->name);
    if (!sl_options_has(opts, "key.format"))
        return sl_err_set(err, SL_SQL,
                          "table '%s': the upsert-kafka connector requires "
                          "option 'key.format'",
                          table->name);
    sl_buf names;
    sl_buf_init(&names, 4096);
    for (int i = 0; i < table->n_primary_key; i++) {
        int c = table->primary_key[i];
        if (c < 0 || c >= table->schema->n_cols) {
            sl_buf_free(&names);
            return sl_err_set(err, SL_SQL,
                              "table '%s': a PRIMARY KEY column is not a "
                              "column of the table",
                              table->name);
        }
        if (i)
            sl_buf_putc(&names, ';');
        sl_buf_puts(&names, table->schema->cols[c].name);
    }
    if (names.rc) {
        sl_buf_free(&names);
        return sl_err_set(err, SL_LIMIT, "table '%s': PRIMARY KEY too long",
                          table->name);
    }
    char *copy = sl_arena_alloc(&common->arena, names.len + 1);
    if (copy)
        memcpy(copy, sl_buf_cstr(&names), names.len + 1);
    sl_buf_free(&names);
    if (!copy)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    *kfields = copy;
    /* accepted, not used: records are handed to librdkafka at once */
    sl_options_mark(opts, "sink.buffer-flush.max-rows");
    sl_options_mark(opts, "sink.buffer-flush.interval");
    return SL_OK;
}
