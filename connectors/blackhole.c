/*
 * blackhole.c: the 'blackhole' sink, which accepts every row of every kind
 * and discards it (Flink's blackhole connector). Useful to measure a
 * pipeline without the cost of a real sink.
 */
#include "connector.h"

typedef struct blackhole_sink {
    sl_sink base;
    uint64_t last_seq;
} blackhole_sink;

static const sl_option_def blackhole_options[] = {
    {NULL, NULL, NULL, NULL},
};

static int bh_write(sl_sink *sink, const sl_batch *batch, uint64_t seq,
                    sl_err *err)
{
    SL_UNUSED(batch);
    SL_UNUSED(err);
    ((blackhole_sink *)sink)->last_seq = seq;
    return SL_OK;
}

static uint64_t bh_acked(sl_sink *sink)
{
    return ((blackhole_sink *)sink)->last_seq;
}

static int bh_flush(sl_sink *sink, int timeout_ms, sl_err *err)
{
    SL_UNUSED(sink);
    SL_UNUSED(timeout_ms);
    SL_UNUSED(err);
    return SL_OK;
}

static void bh_close(sl_sink *sink)
{
    sl_free(sink);
}

static const sl_sink_ops bh_ops = {
    .write = bh_write,
    .acked = bh_acked,
    .flush = bh_flush,
    .close = bh_close,
};

static int bh_open_sink(const sl_table_info *table, sl_sink **out, sl_err *err)
{
    *out = NULL;
    sl_options_mark(table->options, "connector");
    if (sl_options_check_unused(table->options, "connector 'blackhole'",
                                blackhole_options, err))
        return err->code;
    blackhole_sink *s = sl_calloc(1, sizeof(*s));
    if (!s)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    s->base.ops = &bh_ops;
    *out = &s->base;
    return SL_OK;
}

const sl_connector sl_connector_blackhole = {
    .version = SL_CONNECTOR_VERSION,
    .name = "blackhole",
    .doc = "Discards every row (all row kinds).",
    .options = blackhole_options,
    .open_sink = bh_open_sink,
    .sink_accepts_updates = true,
};
