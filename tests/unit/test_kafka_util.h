/*
 * test_kafka_util.h: helpers shared by the Kafka connector tests: build an
 * sl_table_info from a compact column list and WITH options, drive a
 * source until it has N rows (waiting on its wait_hint fd as the job loop
 * does) and write rows through a sink until they are acknowledged.
 */
#ifndef SL_TEST_KAFKA_UTIL_H
#define SL_TEST_KAFKA_UTIL_H

#include <criterion/criterion.h>
#include <poll.h>
#include <string.h>

#include "connector.h"
#include "format.h"
#include "harness.h"

#define KT_MAX_COLS 16
#define KT_MAX_OPTS 32

typedef struct kt_table {
    sl_arena arena;
    sl_table_info info;
    sl_options opts;
    sl_option items[KT_MAX_OPTS];
    const char *meta[KT_MAX_COLS];
    bool virt[KT_MAX_COLS];
} kt_table;

/* cols: "name TYPE" or "name TYPE META key", types from a small set. */
static inline const sl_type *kt_type(const char *name)
{
    static const struct {
        const char *n;
        sl_type_id id;
    } map[] = {{"STRING", SL_TYPE_VARCHAR},
               {"BYTES", SL_TYPE_VARBINARY},
               {"INT", SL_TYPE_INT},
               {"BIGINT", SL_TYPE_BIGINT},
               {"DOUBLE", SL_TYPE_DOUBLE},
               {"BOOLEAN", SL_TYPE_BOOLEAN},
               {"TS_LTZ", SL_TYPE_TIMESTAMP_LTZ},
               {"MAP", SL_TYPE_MAP},
               {"FLOAT", SL_TYPE_FLOAT},
               {"DATE", SL_TYPE_DATE},
               {"TIMESTAMP", SL_TYPE_TIMESTAMP},
               {"SMALLINT", SL_TYPE_SMALLINT},
               {"TINYINT", SL_TYPE_TINYINT},
               {"TIME", SL_TYPE_TIME},
               {"DECIMAL", SL_TYPE_DECIMAL}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(map[i].n, name))
            return sl_type_simple(map[i].id);
    cr_assert_fail("unknown test type %s", name);
    return NULL;
}

/* cols: NULL-ended "name TYPE [key]" strings; opts: NULL-ended k, v pairs. */
static inline kt_table *kt_table_new(const char *const *cols,
                                     const char *const *opts)
{
    kt_table *t = sl_calloc(1, sizeof(*t));
    sl_arena_init(&t->arena, 4096, 0);
    const char *names[KT_MAX_COLS];
    const sl_type *types[KT_MAX_COLS];
    int n = 0;
    for (; cols[n]; n++) {
        char name[64], type[64], meta[64] = "";
        int k = sscanf(cols[n], "%63s %63s %63s", name, type, meta);
        cr_assert(k >= 2);
        names[n] = sl_arena_strndup(&t->arena, name, strlen(name));
        types[n] = kt_type(type);
        t->meta[n] =
            k == 3 ? sl_arena_strndup(&t->arena, meta, strlen(meta)) : NULL;
    }
    int m = 0;
    for (; opts[2 * m]; m++) {
        t->items[m].key = opts[2 * m];
        t->items[m].value = opts[2 * m + 1];
    }
    t->opts.n = m;
    t->opts.items = t->items;
    t->info.name = "t";
    t->info.schema = sl_schema_new(&t->arena, n, names, types);
    t->info.metadata_keys = t->meta;
    t->info.metadata_virtual = t->virt;
    t->info.options = &t->opts;
    t->info.batch_rows = 256;
    return t;
}

static inline void kt_table_free(kt_table *t)
{
    sl_arena_free(&t->arena);
    sl_free(t);
}

static inline sl_source *kt_open_source(kt_table *t)
{
    const sl_connector *c = sl_connector_find("kafka");
    cr_assert_not_null(c);
    sl_source *src = NULL;
    sl_err err;
    sl_err_clear(&err);
    int rc = c->open_source(&t->info, &src, &err);
    cr_assert_eq(rc, SL_OK, "open_source: %s", err.msg);
    return src;
}

static inline sl_sink *kt_open_sink(kt_table *t)
{
    const sl_connector *c = sl_connector_find("kafka");
    sl_sink *sink = NULL;
    sl_err err;
    sl_err_clear(&err);
    int rc = c->open_sink(&t->info, &sink, &err);
    cr_assert_eq(rc, SL_OK, "open_sink: %s", err.msg);
    return sink;
}

/* Read until want rows are in batch, EOF, an error or timeout. Returns the
 * last read's code; *status receives the last status. */
static inline int kt_read(sl_source *src, sl_batch *batch, int want,
                          int timeout_ms, sl_read_status *status, sl_err *err)
{
    int64_t deadline = sl_now_ms() + timeout_ms;
    sl_err_clear(err);
    for (;;) {
        int rc = src->ops->read(src, batch, status, err);
        if (rc || *status == SL_READ_EOF || batch->n_rows >= want)
            return rc;
        if (sl_now_ms() > deadline)
            return SL_TIMEOUT;
        if (*status == SL_READ_IDLE) {
            int fd = -1;
            int64_t wake = -1;
            src->ops->wait_hint(src, &fd, &wake);
            struct pollfd p = {fd, POLLIN, 0};
            int64_t left = wake >= 0 ? wake - sl_now_ms() : 100;
            poll(&p, fd >= 0 ? 1 : 0, (int)SL_MAX(0, SL_MIN(left, 200)));
        }
    }
}

/* Write batch as seq, then poll until acked or timeout. */
static inline void kt_write(sl_sink *sink, const sl_batch *batch, uint64_t seq,
                            int timeout_ms)
{
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sink->ops->write(sink, batch, seq, &err), SL_OK, "write: %s",
                 err.msg);
    int64_t deadline = sl_now_ms() + timeout_ms;
    while (sink->ops->acked(sink) < seq) {
        cr_assert(sl_now_ms() < deadline, "seq %llu not acked in time",
                  (unsigned long long)seq);
        struct pollfd p = {sink->ops->poll_fd(sink), POLLIN, 0};
        poll(&p, 1, 100);
        cr_assert_eq(sink->ops->poll(sink, &err), SL_OK, "poll: %s", err.msg);
    }
}

/* Create a topic on the test broker. */
static inline void kt_topic(sl_test_broker *b, const char *name, int parts)
{
    cr_assert_eq(
        rd_kafka_mock_topic_create(sl_test_broker_cluster(b), name, parts, 1),
        RD_KAFKA_RESP_ERR_NO_ERROR);
}

#endif
