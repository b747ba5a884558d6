/*
 * kafka.c: the 'kafka' connector's shared half: the Flink-named WITH
 * options, librdkafka configuration, key/value format wiring and the
 * embedded broker.
 *
 * Both the source (kafka_source.c) and the sink (kafka_sink.c) start from
 * sl_kafka_common_init: it splits 'topic' into a list, turns every
 * 'properties.*' option into a librdkafka property (after our bounded-memory
 * defaults, so the user can override them), resolves
 * 'properties.bootstrap.servers' = 'embedded' to a mock cluster shared by
 * the process, finds the metadata columns, and decides which table columns
 * the key format and the value format read or write ('key.fields',
 * 'key.fields-prefix', 'value.fields-include'), each with its option prefix
 * ('json.', 'value.json.', 'key.json.') exactly as Flink names them.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "kafka_int.h"

#include <librdkafka/rdkafka_mock.h>

static const char *const meta_keys[] = {
    "topic",          "partition", "offset",       "timestamp",
    "timestamp-type", "headers",   "leader-epoch", NULL};
static const char *const meta_types[] = {"STRING", "INT",
                                         "BIGINT", "TIMESTAMP_LTZ(3)",
                                         "STRING", "MAP<STRING, BYTES>",
                                         "INT",    NULL};
static const bool meta_writable[] = {false, false, false, true,
                                     false, true,  false, false};

static const sl_option_def kafka_options[] = {
    {"topic", "string", NULL,
     "Topic name, or several separated by ';' (sources)."},
    {"topic-pattern", "string", NULL,
     "Regular expression of topics to read (sources only)."},
    {"properties.bootstrap.servers", "string", NULL,
     "Kafka brokers host:port,...; 'embedded' starts an in-process broker."},
    {"properties.group.id", "string", "sluice-<random>",
     "Consumer group; offsets are committed there after the sink acked."},
    {"properties.*", "string", NULL,
     "Any librdkafka property, passed through unchanged."},
    {"format", "string", NULL,
     "Value format (json, csv, raw, avro-confluent)."},
    {"value.format", "string", NULL, "Value format; same as 'format'."},
    {"key.format", "string", NULL, "Key format; needs 'key.fields'."},
    {"key.fields", "string", NULL,
     "Columns that make up the key, separated by ';'."},
    {"key.fields-prefix", "string", "", "Prefix of key columns' names."},
    {"value.fields-include", "enum", "ALL",
     "ALL or EXCEPT_KEY: whether the value holds the key columns too."},
    {"scan.startup.mode", "enum", "group-offsets",
     "earliest-offset, latest-offset, group-offsets, timestamp or "
     "specific-offsets."},
    {"scan.startup.timestamp-millis", "int", NULL,
     "Start time for 'timestamp' startup mode (epoch ms)."},
    {"scan.startup.specific-offsets", "string", NULL,
     "'partition:0,offset:42;partition:1,offset:300'."},
    {"scan.bounded.mode", "enum", "unbounded",
     "unbounded, latest-offset, timestamp or specific-offsets."},
    {"scan.bounded.timestamp-millis", "int", NULL,
     "End time for 'timestamp' bounded mode (epoch ms, exclusive)."},
    {"scan.bounded.specific-offsets", "string", NULL,
     "End offsets (exclusive), same syntax as the startup offsets."},
    {"scan.partition-assignment", "enum",
     "group with 'properties.group.id' or 'topic-pattern', else all",
     "Sluice extension: 'group' (partitions come from the consumer group) "
     "or 'all' (the source reads every partition of 'topic' itself, as "
     "Flink's KafkaSource: no group join, a restarted job reads at once)."},
    {"sink.partitioner", "enum", "default", "default, fixed or round-robin."},
    {"sink.delivery-guarantee", "enum", "at-least-once",
     "at-least-once, exactly-once (Kafka transactions committed with "
     "checkpoints) or none."},
    {"sink.transactional-id-prefix", "string", NULL,
     "Required for exactly-once: transactional.id is '<prefix>-0'; unique "
     "per job and sink."},
    {"sink.transaction-marker-topic", "string", "sluice-txn-markers",
     "Exactly-once: topic (partition 0) of the per-checkpoint commit "
     "markers recovery reads back."},
    {"sink.parallelism", "int", NULL, "Accepted for Flink compatibility."},
    {NULL, NULL, NULL, NULL},
};

const sl_connector sl_kafka_connector = {
    .version = SL_CONNECTOR_VERSION,
    .name = "kafka",
    .doc = "Apache Kafka topics (librdkafka), Flink option names.",
    .options = kafka_options,
    .open_source = sl_kafka_open_source,
    .open_sink = sl_kafka_open_sink,
    .sink_accepts_updates = false,
    .metadata_keys = meta_keys,
    .metadata_types = meta_types,
    .metadata_writable = meta_writable,
};

/* ---- embedded broker --------------------------------------------------- */

static pthread_mutex_t embedded_lock = PTHREAD_MUTEX_INITIALIZER;
static int embedded_refs;
static rd_kafka_t *embedded_rk;
static rd_kafka_mock_cluster_t *embedded_cluster;

int sl_kafka_embedded_acquire(const char **bootstrap, sl_err *err)
{
    pthread_mutex_lock(&embedded_lock);
    if (!embedded_refs) {
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof(errstr));
        embedded_rk =
            rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!embedded_rk) {
            rd_kafka_conf_destroy(conf);
            pthread_mutex_unlock(&embedded_lock);
            return sl_err_set(err, SL_IO, "embedded kafka broker: %s", errstr);
        }
        embedded_cluster = rd_kafka_mock_cluster_new(embedded_rk, 1);
        if (!embedded_cluster) {
            rd_kafka_destroy(embedded_rk);
            embedded_rk = NULL;
            pthread_mutex_unlock(&embedded_lock);
            return sl_err_set(err, SL_IO,
                              "embedded kafka broker: cannot listen on "
                              "127.0.0.1");
        }
    }
    embedded_refs++;
    *bootstrap = rd_kafka_mock_cluster_bootstraps(embedded_cluster);
    pthread_mutex_unlock(&embedded_lock);
    return SL_OK;
}

void sl_kafka_embedded_release(void)
{
    pthread_mutex_lock(&embedded_lock);
    if (embedded_refs > 0 && --embedded_refs == 0) {
        rd_kafka_mock_cluster_destroy(embedded_cluster);
        rd_kafka_destroy(embedded_rk);
        embedded_cluster = NULL;
        embedded_rk = NULL;
    }
    pthread_mutex_unlock(&embedded_lock);
}

/* ---- small encoders ---------------------------------------------------- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sl_kafka_base64_encode(const void *data, size_t len, sl_buf *out)
{
    const unsigned char *p = data;
    char q[4];
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        q[0] = b64[(v >> 18) & 63];
        q[1] = b64[(v >> 12) & 63];
        q[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        q[3] = i + 2 < len ? b64[v & 63] : '=';
        sl_buf_append(out, q, 4);
    }
    return out->rc;
}

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int sl_kafka_base64_decode(const char *s, size_t len, sl_buf *out)
{
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '=')
            break;
        int v = b64_val(s[i]);
        if (v < 0)
            return SL_ERROR;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sl_buf_putc(out, (char)((acc >> bits) & 0xff));
        }
    }
    return out->rc;
}

int sl_kafka_json_string(const char *s, size_t len, sl_buf *out)
{
    sl_buf_putc(out, '"');
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        sl_buf_append(out, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"':
            sl_buf_puts(out, "\\\"");
            break;
        case '\\':
            sl_buf_puts(out, "\\\\");
            break;
        case '\n':
            sl_buf_puts(out, "\\n");
            break;
        case '\r':
            sl_buf_puts(out, "\\r");
            break;
        case '\t':
            sl_buf_puts(out, "\\t");
            break;
        default:
            sl_buf_printf(out, "\\u%04x", c);
        }
    }
    sl_buf_append(out, s + start, len - start);
    return sl_buf_putc(out, '"');
}

/* ---- options ----------------------------------------------------------- */

typedef struct conf_ctx {
    rd_kafka_conf_t *conf;
    sl_kafka_common *common;
} conf_ctx;

static int set_property(void *ctx, const char *subkey, const char *value,
                        sl_err *err)
{
    conf_ctx *c = ctx;
    char errstr[512];
    if (!strcmp(subkey, "bootstrap.servers") && !strcmp(value, "embedded"))
        value = c->common->bootstrap;
    if (rd_kafka_conf_set(c->conf, subkey, value, errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK)
        return sl_err_set(err, SL_SQL, "table '%s': option 'properties.%s': %s",
                          c->common->table->name, subkey, errstr);
    return SL_OK;
}

static int set_default(rd_kafka_conf_t *conf, const char *key,
                       const char *value, sl_err *err)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK)
        return sl_err_set(err, SL_ERROR, "librdkafka property %s: %s", key,
                          errstr);
    return SL_OK;
}

/* Bounded memory by default (docs/kafka.md "Memory"); properties.* wins. */
static const char *const source_defaults[][2] = {
    {"enable.auto.commit", "false"},
    {"enable.auto.offset.store", "false"},
    {"enable.partition.eof", "true"},
    {"queued.max.messages.kbytes", "65536"},
    {"queued.min.messages", "200000"},
    {"fetch.max.bytes", "8388608"},
    {"auto.offset.reset", "earliest"},
    {"log_level", "2"},
    {NULL, NULL},
};
static const char *const sink_defaults[][2] = {
    {"enable.idempotence", "true"},
    {"queue.buffering.max.kbytes", "65536"},
    {"queue.buffering.max.messages", "200000"},
    {"linger.ms", "5"},
    {"partitioner", "murmur2_random"},
    {"log_level", "2"},
    {NULL, NULL},
};

static char *arena_strdup(sl_arena *arena, const char *s)
{
    return sl_arena_strndup(arena, s, strlen(s));
}

/* Split a ';' list, trimming blanks; empty items are skipped. */
static int split_list(sl_arena *arena, const char *text, char **items,
                      int max_items, int *n_items)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a) {
            if (n == max_items)
                return SL_LIMIT;
            items[n] = sl_arena_strndup(arena, a, (size_t)(b - a));
            if (!items[n])
                return SL_NOMEM;
            n++;
        }
        p = *end ? end + 1 : end;
    }
    *n_items = n;
    return SL_OK;
}

static bool is_physical(const sl_table_info *table, int col)
{
    return !table->metadata_keys || !table->metadata_keys[col];
}

void sl_kafka_side_sync_used(sl_kafka_side *side, sl_options *table_opts)
{
    for (int i = 0; i < table_opts->n && i < side->opts.n; i++)
        if (side->opts.items[i].used)
            table_opts->items[i].used = true;
}

/* Prepare one side: its format, prefix, option copy and fields. */
static int setup_side(sl_kafka_common *common, sl_kafka_side *side,
                      const char *format_name, const char *side_name,
                      bool prefixed, const int *cols, const char *const *names,
                      int n_cols, sl_err *err)
{
    const sl_table_info *table = common->table;
    side->format = sl_format_find(format_name);
    if (!side->format)
        return sl_err_set(err, SL_SQL, "table '%s': unknown %s format '%s'",
                          table->name, side_name, format_name);
    sl_strlcpy(side->format_name, format_name, sizeof(side->format_name));
    sl_snprintf(side->prefix, sizeof(side->prefix), "%s%s%s.",
                prefixed ? side_name : "", prefixed ? "." : "", format_name);
    const sl_type **types =
        sl_arena_alloc(&common->arena, sizeof(*types) * (size_t)(n_cols + 1));
    side->col_map =
        sl_arena_alloc(&common->arena, sizeof(int) * (size_t)(n_cols + 1));
    if (!types || !side->col_map)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    for (int i = 0; i < n_cols; i++) {
        types[i] = table->schema->cols[cols[i]].type;
        side->col_map[i] = cols[i];
    }
    side->schema = sl_schema_new(&common->arena, n_cols, names, types);
    /* Option copy: the table's options plus a default Confluent subject
     * ('<topic>-key' / '<topic>-value') when a single topic is named. */
    sl_options *src = table->options;
    side->opts.items = sl_arena_alloc(&common->arena,
                                      sizeof(sl_option) * (size_t)(src->n + 1));
    if (!side->schema || !side->opts.items)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    memcpy(side->opts.items, src->items, sizeof(sl_option) * (size_t)src->n);
    side->opts.n = src->n;
    char key[160];
    sl_snprintf(key, sizeof(key), "%ssubject", side->prefix);
    if (common->n_topics == 1 && !sl_options_has(src, key)) {
        char subject[512];
        sl_snprintf(subject, sizeof(subject), "%s-%s", common->topics[0],
                    side_name);
        sl_option *o = &side->opts.items[side->opts.n++];
        o->key = arena_strdup(&common->arena, key);
        o->value = arena_strdup(&common->arena, subject);
        o->used = false;
        if (!o->key || !o->value)
            return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    sl_snprintf(key, sizeof(key), "%signore-parse-errors", side->prefix);
    return sl_options_bool(&side->opts, key, false, &side->ignore_errors, err);
}

static int setup_formats(sl_kafka_common *common, sl_err *err)
{
    const sl_table_info *table = common->table;
    sl_options *opts = table->options;
    const sl_schema *schema = table->schema;
    int rc;
    const char *fmt = NULL, *vfmt = NULL, *kfmt = NULL, *kfields = NULL,
               *kprefix = NULL;
    sl_options_string(opts, "format", NULL, &fmt, err);
    sl_options_string(opts, "value.format", NULL, &vfmt, err);
    sl_options_string(opts, "key.format", NULL, &kfmt, err);
    sl_options_string(opts, "key.fields", NULL, &kfields, err);
    sl_options_string(opts, "key.fields-prefix", "", &kprefix, err);
    if (common->upsert &&
        (rc = sl_upsert_kafka_key_fields(common, &kfields, err)))
        return rc;
    static const char *const include_choices[] = {"ALL", "EXCEPT_KEY", NULL};
    int include = 0;
    if ((rc = sl_options_enum(opts, "value.fields-include", include_choices, 0,
                              &include, err)))
        return rc;
    if (fmt && vfmt)
        return sl_err_set(err, SL_SQL,
                          "table '%s': set either 'format' or "
                          "'value.format', not both",
                          table->name);
    if (!fmt && !vfmt)
        return sl_err_set(err, SL_SQL,
                          "table '%s': the kafka connector requires option "
                          "'format' (or 'value.format')",
                          table->name);
    if (kfields && !kfmt)
        return sl_err_set(err, SL_SQL,
                          "table '%s': 'key.fields' needs 'key.format'",
                          table->name);
    if (kfmt && !kfields)
        return sl_err_set(err, SL_SQL,
                          "table '%s': 'key.format' needs 'key.fields'",
                          table->name);

    int n = schema->n_cols;
    int *cols = sl_arena_alloc(&common->arena, sizeof(int) * (size_t)(n + 1));
    const char **names =
        sl_arena_alloc(&common->arena, sizeof(char *) * (size_t)(n + 1));
    bool *is_key = sl_arena_alloc(&common->arena, (size_t)n + 1);
    if (!cols || !names || !is_key)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    memset(is_key, 0, (size_t)n + 1);

    if (kfields) {
        char *items[256];
        int n_items = 0;
        if ((rc = split_list(&common->arena, kfields, items, 256, &n_items)))
            return sl_err_set(err, rc, "table '%s': bad 'key.fields'",
                              table->name);
        size_t plen = strlen(kprefix);
        for (int i = 0; i < n_items; i++) {
            int c = sl_schema_find(schema, items[i]);
            if (c < 0 || !is_physical(table, c))
                return sl_err_set(err, SL_SQL,
                                  "table '%s': 'key.fields' names '%s', "
                                  "which is not a physical column",
                                  table->name, items[i]);
            if (plen && strncmp(schema->cols[c].name, kprefix, plen))
                return sl_err_set(err, SL_SQL,
                                  "table '%s': key column '%s' must start "
                                  "with 'key.fields-prefix' '%s'",
                                  table->name, items[i], kprefix);
            cols[i] = c;
            names[i] = schema->cols[c].name + plen;
            is_key[c] = true;
        }
        if ((rc = setup_side(common, &common->key, kfmt, "key", true, cols,
                             names, n_items, err)))
            return rc;
    }
    int nv = 0;
    for (int c = 0; c < n; c++) {
        if (!is_physical(table, c) || (include == 1 && is_key[c]))
            continue;
        cols[nv] = c;
        names[nv] = schema->cols[c].name;
        nv++;
    }
    return setup_side(common, &common->value, vfmt ? vfmt : fmt, "value",
                      vfmt != NULL, cols, names, nv, err);
}

int sl_kafka_common_init(sl_kafka_common *common, const sl_table_info *table,
                         bool is_source, sl_err *err)
{
    memset(common, 0, sizeof(*common));
    sl_arena_init(&common->arena, 4096, 1u << 20);
    common->table = table;
    sl_options *opts = table->options;
    int rc;
    const char *connector = sl_options_get(opts, "connector");
    common->upsert = connector && !strcasecmp(connector, "upsert-kafka");
    sl_options_mark(opts, "sink.parallelism");
    for (int i = 0; i < SL_KMETA__COUNT; i++)
        common->meta_col[i] = -1;
    for (int c = 0; table->metadata_keys && c < table->schema->n_cols; c++) {
        const char *k = table->metadata_keys[c];
        if (!k)
            continue;
        int m = 0;
        while (meta_keys[m] && strcmp(meta_keys[m], k))
            m++;
        if (!meta_keys[m])
            return sl_err_set(err, SL_SQL,
                              "table '%s': unknown kafka metadata key '%s' "
                              "(available: topic, partition, offset, "
                              "timestamp, timestamp-type, headers, "
                              "leader-epoch)",
                              table->name, k);
        common->meta_col[m] = c;
    }

    const char *topic = NULL, *pattern = NULL, *servers = NULL;
    sl_options_string(opts, "topic", NULL, &topic, err);
    sl_options_string(opts, "topic-pattern", NULL, &pattern, err);
    if (topic && pattern)
        return sl_err_set(err, SL_SQL,
                          "table '%s': set either 'topic' or "
                          "'topic-pattern', not both",
                          table->name);
    if (pattern && !is_source)
        return sl_err_set(err, SL_SQL,
                          "table '%s': a kafka sink needs a single 'topic', "
                          "not 'topic-pattern'",
                          table->name);
    if (!topic && !pattern)
        return sl_err_set(err, SL_SQL,
                          "table '%s': the kafka connector requires option "
                          "'topic' (or 'topic-pattern')",
                          table->name);
    if (topic && split_list(&common->arena, topic, common->topics,
                            SL_KAFKA_MAX_TOPICS, &common->n_topics))
        return sl_err_set(err, SL_SQL,
                          "table '%s': bad 'topic' list (at most %d topics)",
                          table->name, SL_KAFKA_MAX_TOPICS);
    if (topic && common->n_topics == 0)
        return sl_err_set(err, SL_SQL, "table '%s': 'topic' is empty",
                          table->name);
    if (!is_source && common->n_topics != 1)
        return sl_err_set(err, SL_SQL,
                          "table '%s': a kafka sink writes exactly one topic",
                          table->name);
    if (pattern) {
        /* librdkafka subscribes by regex when the name starts with '^'. */
        common->topic_pattern =
            sl_arena_alloc(&common->arena, strlen(pattern) + 2);
        if (!common->topic_pattern)
            return sl_err_set(err, SL_NOMEM, "out of memory");
        sl_snprintf(common->topic_pattern, strlen(pattern) + 2, "%s%s",
                    pattern[0] == '^' ? "" : "^", pattern);
    }
    if ((rc = sl_options_required(opts, "properties.bootstrap.servers",
                                  "the kafka connector", &servers, err)))
        return rc;
    if (!strcmp(servers, "embedded")) {
        const char *bs = NULL;
        if ((rc = sl_kafka_embedded_acquire(&bs, err)))
            return rc;
        common->embedded = true;
        common->bootstrap = arena_strdup(&common->arena, bs);
    } else {
        common->bootstrap = arena_strdup(&common->arena, servers);
    }
    if (!common->bootstrap)
        return sl_err_set(err, SL_NOMEM, "out of memory");

    if ((rc = setup_formats(common, err)))
        return rc;

    common->conf = rd_kafka_conf_new();
    const char *const(*defs)[2] = is_source ? source_defaults : sink_defaults;
    for (int i = 0; defs[i][0]; i++)
        if ((rc = set_default(common->conf, defs[i][0], defs[i][1], err)))
            return rc;
    if (is_source && !sl_options_has(opts, "properties.group.id")) {
        char group[96];
        sl_snprintf(group, sizeof(group), "sluice-%ld-%lld", (long)getpid(),
                    (long long)sl_mono_ns());
        if ((rc = set_default(common->conf, "group.id", group, err)))
            return rc;
    }
    conf_ctx ctx = {common->conf, common};
    return sl_options_each_prefix(opts, "properties.", set_property, &ctx, err);
}

void sl_kafka_common_free(sl_kafka_common *common)
{
    if (common->conf)
        rd_kafka_conf_destroy(common->conf);
    common->conf = NULL;
    if (common->embedded)
        sl_kafka_embedded_release();
    common->embedded = false;
    sl_arena_free(&common->arena);
}
