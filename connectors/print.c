/*
 * print.c: the 'print' sink, Flink's print connector: every row, of every
 * change kind, as one line on standard output (or standard error with
 * 'standard-error' = 'true'):
 *
 *     +I[1, alice, null]
 *     orders> -U[2, bob, 3.5]        ('print-identifier' = 'orders')
 *
 * The frame is Flink's Row.toString (kind, then the values in brackets,
 * separated by ", ", NULL as null); each value's text is Sluice's canonical
 * value text (sl_value_format: TRUE/FALSE, "2024-01-02 03:04:05.678").
 * Lines go through stdio so they interleave correctly with the shell's own
 * output; the stream is flushed after every batch.
 */
#include <stdio.h>

#include "connector.h"

typedef struct print_sink {
    sl_sink base;
    const sl_schema *schema;
    char *identifier; /* NULL: no prefix */
    FILE *stream;
    sl_buf line;
    uint64_t last_seq;
} print_sink;

static const sl_option_def print_options[] = {
    {"print-identifier", "string", NULL,
     "Text printed before every row, followed by '> '."},
    {"standard-error", "bool", "false",
     "Print to standard error instead of standard output."},
    {"sink.parallelism", "int", NULL,
     "Accepted for Flink compatibility; Sluice prints from one task."},
    {NULL, NULL, NULL, NULL},
};

static const char *const kind_text[] = {"+I", "-U", "+U", "-D"};

static int print_write(sl_sink *sink, const sl_batch *batch, uint64_t seq,
                       sl_err *err)
{
    print_sink *s = (print_sink *)sink;
    sl_buf *b = &s->line;
    for (int r = 0; r < batch->n_rows; r++) {
        const sl_value *row = sl_batch_crow(batch, r);
        sl_buf_reset(b);
        if (s->identifier) {
            sl_buf_puts(b, s->identifier);
            sl_buf_puts(b, "> ");
        }
        unsigned kind = batch->kinds[r];
        sl_buf_puts(b, kind < 4 ? kind_text[kind] : "+I");
        sl_buf_putc(b, '[');
        for (int c = 0; c < batch->n_cols; c++) {
            if (c)
                sl_buf_append(b, ", ", 2);
            const sl_type *t =
                c < s->schema->n_cols ? s->schema->cols[c].type : NULL;
            sl_value_format(t, &row[c], b, "null");
        }
        sl_buf_append(b, "]\n", 2);
        if (b->rc)
            return sl_err_set(err, b->rc, "print: row too large to print");
        if (fwrite(b->data, 1, b->len, s->stream) != b->len)
            return sl_err_set(err, SL_IO, "print: cannot write to %s",
                              s->stream == stderr ? "standard error"
                                                  : "standard output");
    }
    fflush(s->stream);
    s->last_seq = seq;
    return SL_OK;
}

static uint64_t print_acked(sl_sink *sink)
{
    return ((print_sink *)sink)->last_seq;
}

static int print_flush(sl_sink *sink, int timeout_ms, sl_err *err)
{
    SL_UNUSED(timeout_ms);
    print_sink *s = (print_sink *)sink;
    if (fflush(s->stream))
        return sl_err_set(err, SL_IO, "print: cannot flush output");
    return SL_OK;
}

static void print_close(sl_sink *sink)
{
    print_sink *s = (print_sink *)sink;
    if (!s)
        return;
    fflush(s->stream);
    sl_buf_free(&s->line);
    sl_free(s->identifier);
    sl_free(s);
}

static const sl_sink_ops print_ops = {
    .write = print_write,
    .acked = print_acked,
    .flush = print_flush,
    .close = print_close,
};

static int print_open_sink(const sl_table_info *table, sl_sink **out,
                           sl_err *err)
{
    *out = NULL;
    sl_options *o = table->options;
    const char *ident;
    bool to_stderr;
    int64_t par;
    sl_options_mark(o, "connector");
    if (sl_options_string(o, "print-identifier", NULL, &ident, err) ||
        sl_options_bool(o, "standard-error", false, &to_stderr, err) ||
        sl_options_int(o, "sink.parallelism", 1, 1, 65536, &par, err) ||
        sl_options_check_unused(o, "connector 'print'", print_options, err))
        return err->code;
    print_sink *s = sl_calloc(1, sizeof(*s));
    if (!s)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    s->base.ops = &print_ops;
    s->schema = table->schema;
    s->stream = to_stderr ? stderr : stdout;
    sl_buf_init(&s->line, 0);
    if (ident) {
        s->identifier = sl_strdup(ident);
        if (!s->identifier) {
            print_close(&s->base);
            return sl_err_set(err, SL_NOMEM, "out of memory");
        }
    }
    *out = &s->base;
    return SL_OK;
}

const sl_connector sl_connector_print = {
    .version = SL_CONNECTOR_VERSION,
    .name = "print",
    .doc = "Prints every row with its change kind to standard output.",
    .options = print_options,
    .open_sink = print_open_sink,
    .sink_accepts_updates = true,
};
