/*
 * fuzz_json.c: libFuzzer target for the json format. Each input is decoded
 * as one record into a schema holding every SQL type (nested ones
 * included); a decoded row is encoded again and decoded back, which must
 * succeed. The first byte picks option variants (fail-on-missing-field,
 * ISO-8601 timestamps). No input may crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <string.h>

#include "format_int.h"

static sl_type t_str = {.id = SL_TYPE_VARCHAR, .precision = SL_TYPE_MAX_LEN};
static sl_type t_dec = {.id = SL_TYPE_DECIMAL, .precision = 10, .scale = 2};
static sl_type t_ts = {.id = SL_TYPE_TIMESTAMP, .precision = 3};
static sl_type t_ltz = {.id = SL_TYPE_TIMESTAMP_LTZ, .precision = 3};
static sl_type t_bytes = {.id = SL_TYPE_VARBINARY,
                          .precision = SL_TYPE_MAX_LEN};
static sl_type t_arr = {.id = SL_TYPE_ARRAY, .elem = &t_str};
static sl_type t_map = {.id = SL_TYPE_MAP, .elem = &t_str, .value = &t_str};
static sl_field fields[] = {{"x", &t_str}};
static sl_type t_row = {.id = SL_TYPE_ROW, .n_fields = 1, .fields = fields};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *names[] = {"b",   "ti",  "si",  "i",  "bi", "f",
                                  "d",   "dec", "s",   "dt", "tm", "ts",
                                  "ltz", "by",  "arr", "m",  "r"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_BOOLEAN),
                              sl_type_simple(SL_TYPE_TINYINT),
                              sl_type_simple(SL_TYPE_SMALLINT),
                              sl_type_simple(SL_TYPE_INT),
                              sl_type_simple(SL_TYPE_BIGINT),
                              sl_type_simple(SL_TYPE_FLOAT),
                              sl_type_simple(SL_TYPE_DOUBLE),
                              &t_dec,
                              &t_str,
                              sl_type_simple(SL_TYPE_DATE),
                              sl_type_simple(SL_TYPE_TIME),
                              &t_ts,
                              &t_ltz,
                              &t_bytes,
                              &t_arr,
                              &t_map,
                              &t_row};
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    sl_arena arena;
    sl_arena_init(&arena, 4096, 0);
    sl_schema *schema = sl_schema_new(&arena, 17, names, types);
    sl_option items[2];
    sl_options opts = {0, items};
    if (mode & 1)
        items[opts.n++] =
            (sl_option){"json.fail-on-missing-field", "true", false};
    if (mode & 2)
        items[opts.n++] =
            (sl_option){"json.timestamp-format.standard", "ISO-8601", false};
    sl_format_info info = {schema, NULL, &opts, "json."};
    const sl_format *fmt = sl_format_find("json");
    sl_decoder *dec = NULL;
    sl_encoder *enc = NULL;
    sl_err err;
    sl_err_clear(&err);
    sl_batch *batch = sl_batch_new(schema, 4);
    if (fmt->open_decoder(&info, &dec, &err) ||
        fmt->open_encoder(&info, &enc, &err) || !batch)
        __builtin_trap();
    sl_value *row = sl_batch_append_row(batch);
    int rc = dec->decode(dec, (const char *)data, size, batch, row, &err);
    if (rc == SL_OK) {
        sl_buf out;
        sl_buf_init(&out, 0);
        if (enc->encode(enc, batch, 0, &out, &err))
            __builtin_trap();
        sl_value *again = sl_batch_append_row(batch);
        sl_err_clear(&err);
        /* fail-on-missing-field holds: the encoder writes every field */
        if (dec->decode(dec, out.data, out.len, batch, again, &err))
            __builtin_trap();
        sl_buf_free(&out);
    }
    dec->close(dec);
    enc->close(enc);
    sl_batch_free(batch);
    sl_arena_free(&arena);
    return 0;
}
