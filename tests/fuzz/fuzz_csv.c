/*
 * fuzz_csv.c: libFuzzer target for the csv format. The first byte picks
 * option variants (delimiter, quote, escape, comments, null literal,
 * disabled quoting); the rest is split into records with
 * sl_csv_record_end, as the filesystem source does, and each record is
 * decoded into a schema holding every SQL type. Decoded rows are encoded
 * again. No input may crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <string.h>

#include "format_int.h"

static sl_type t_str = {.id = SL_TYPE_VARCHAR, .precision = SL_TYPE_MAX_LEN};
static sl_type t_dec = {.id = SL_TYPE_DECIMAL, .precision = 6, .scale = 3};
static sl_type t_ts = {.id = SL_TYPE_TIMESTAMP, .precision = 3};
static sl_type t_bytes = {.id = SL_TYPE_VARBINARY,
                          .precision = SL_TYPE_MAX_LEN};
static sl_type t_arr = {.id = SL_TYPE_ARRAY, .elem = &t_str};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *names[] = {"b",  "i",  "bi", "d",  "dec", "s",
                                  "dt", "tm", "ts", "by", "arr"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_BOOLEAN),
                              sl_type_simple(SL_TYPE_INT),
                              sl_type_simple(SL_TYPE_BIGINT),
                              sl_type_simple(SL_TYPE_DOUBLE),
                              &t_dec,
                              &t_str,
                              sl_type_simple(SL_TYPE_DATE),
                              sl_type_simple(SL_TYPE_TIME),
                              &t_ts,
                              &t_bytes,
                              &t_arr};
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    sl_arena arena;
    sl_arena_init(&arena, 4096, 0);
    sl_schema *schema = sl_schema_new(&arena, 11, names, types);
    sl_option items[6];
    sl_options opts = {0, items};
    if (mode & 1)
        items[opts.n++] = (sl_option){"csv.field-delimiter", ";", false};
    if (mode & 2)
        items[opts.n++] = (sl_option){"csv.escape-character", "\\", false};
    if (mode & 4)
        items[opts.n++] = (sl_option){"csv.allow-comments", "true", false};
    if (mode & 8)
        items[opts.n++] = (sl_option){"csv.null-literal", "NULL", false};
    if (mode & 16)
        items[opts.n++] =
            (sl_option){"csv.disable-quote-character", "true", false};
    if (mode & 32)
        items[opts.n++] = (sl_option){"csv.quote-character", "'", false};
    sl_format_info info = {schema, NULL, &opts, "csv."};
    const sl_format *fmt = sl_format_find("csv");
    sl_decoder *dec = NULL;
    sl_encoder *enc = NULL;
    sl_err err;
    sl_err_clear(&err);
    sl_batch *batch = sl_batch_new(schema, 64);
    if (fmt->open_decoder(&info, &dec, &err) ||
        fmt->open_encoder(&info, &enc, &err) || !batch)
        __builtin_trap();
    const char *p = (const char *)data;
    size_t left = size;
    sl_buf out;
    sl_buf_init(&out, 0);
    while (left > 0 && !sl_batch_is_full(batch)) {
        size_t n;
        int nl;
        if (!sl_csv_record_end(dec, p, left, &n, &nl))
            n = left;
        if (n == 0 || n > left)
            __builtin_trap();
        sl_value *row = sl_batch_append_row(batch);
        sl_err_clear(&err);
        int rc = dec->decode(dec, p, n, batch, row, &err);
        if (rc == SL_OK) {
            sl_buf_reset(&out);
            if (enc->encode(enc, batch, batch->n_rows - 1, &out, &err))
                __builtin_trap();
        } else {
            sl_batch_drop_last(batch);
        }
        p += n;
        left -= n;
    }
    sl_buf_free(&out);
    dec->close(dec);
    enc->close(enc);
    sl_batch_free(batch);
    sl_arena_free(&arena);
    return 0;
}
