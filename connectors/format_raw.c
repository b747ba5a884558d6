/*
 * format_raw.c: the 'raw' format: a record's bytes are one column's value.
 *
 * As in Flink, the table (or the key/value side using the format) has a
 * single physical column of a string type (STRING/VARCHAR/CHAR: the bytes
 * as UTF-8 text) or a binary type (BYTES/VARBINARY/BINARY: the bytes as
 * they are). Decoding copies the record into the batch arena; encoding
 * writes the column's bytes. Used by the Kafka connector for keys and
 * values and by the filesystem connector for lines.
 */
#include <string.h>

#include "format.h"

static const sl_option_def raw_options[] = {
    {"raw.charset", "string", "UTF-8", "Character set of text (UTF-8 only)."},
    {"raw.endianness", "enum", "big-endian",
     "Byte order of numbers (accepted for Flink compatibility)."},
    {NULL, NULL, NULL, NULL},
};

typedef struct raw_codec {
    sl_decoder dec;
    sl_encoder enc;
    int col;      /* batch column */
    bool is_text; /* string column (else binary) */
} raw_codec;

static int raw_decode(sl_decoder *dec, const char *data, size_t len,
                      sl_batch *batch, sl_value *row, sl_err *err)
{
    raw_codec *c = (raw_codec *)dec;
    if (c->col < 0)
        return SL_OK; /* the query does not read it */
    if (!data) {
        row[c->col] = sl_value_null();
        return SL_OK;
    }
    int rc = c->is_text ? sl_batch_set_text(batch, &row[c->col], data, len)
                        : sl_batch_set_blob(batch, &row[c->col], data, len);
    if (rc)
        return sl_err_set(err, rc,
                          "record of %zu bytes does not fit in the "
                          "batch",
                          len);
    return SL_OK;
}

static int raw_encode(sl_encoder *enc, const sl_batch *batch, int row,
                      sl_buf *out, sl_err *err)
{
    raw_codec *c = (raw_codec *)((char *)enc - offsetof(raw_codec, enc));
    const sl_value *v = &sl_batch_crow(batch, row)[c->col];
    if (v->kind == SL_V_TEXT || v->kind == SL_V_BLOB)
        sl_buf_append(out, v->u.b, v->len);
    else if (v->kind != SL_V_NULL)
        return sl_err_set(err, SL_RUNTIME,
                          "raw format: column value is "
                          "not text or bytes");
    if (out->rc)
        return sl_err_set(err, out->rc, "raw format: record too large");
    return SL_OK;
}

static void raw_close_dec(sl_decoder *dec)
{
    sl_free(dec);
}

static void raw_close_enc(sl_encoder *enc)
{
    sl_free((char *)enc - offsetof(raw_codec, enc));
}

static int raw_open(const sl_format_info *info, raw_codec **out, sl_err *err)
{
    const sl_schema *s = info->fmt_schema;
    if (s->n_cols != 1)
        return sl_err_set(err, SL_SQL,
                          "the 'raw' format needs exactly one physical "
                          "column, the table has %d",
                          s->n_cols);
    const sl_type *t = s->cols[0].type;
    bool is_text = sl_type_is_string(t);
    if (!is_text && t->id != SL_TYPE_BINARY && t->id != SL_TYPE_VARBINARY)
        return sl_err_set(err, SL_SQL,
                          "the 'raw' format needs a STRING or BYTES column; "
                          "column '%s' is %s",
                          s->cols[0].name, sl_type_id_name(t->id));
    char key[160];
    const char *charset = NULL;
    sl_snprintf(key, sizeof(key), "%scharset", info->prefix);
    sl_options_string(info->options, key, "UTF-8", &charset, err);
    if (!sl_str_ieq(charset, "UTF-8") && !sl_str_ieq(charset, "UTF8"))
        return sl_err_set(err, SL_UNSUPPORTED,
                          "option '%s': only UTF-8 is supported, got '%s'", key,
                          charset);
    sl_snprintf(key, sizeof(key), "%sendianness", info->prefix);
    sl_options_mark(info->options, key);
    raw_codec *c = sl_calloc(1, sizeof(*c));
    if (!c)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    c->dec.decode = raw_decode;
    c->dec.close = raw_close_dec;
    c->enc.encode = raw_encode;
    c->enc.close = raw_close_enc;
    c->col = info->col_map[0];
    c->is_text = is_text;
    *out = c;
    return SL_OK;
}

static int raw_open_decoder(const sl_format_info *info, sl_decoder **out,
                            sl_err *err)
{
    raw_codec *c = NULL;
    int rc = raw_open(info, &c, err);
    *out = c ? &c->dec : NULL;
    return rc;
}

static int raw_open_encoder(const sl_format_info *info, sl_encoder **out,
                            sl_err *err)
{
    raw_codec *c = NULL;
    int rc = raw_open(info, &c, err);
    *out = c ? &c->enc : NULL;
    return rc;
}

const sl_format sl_format_raw = {
    .version = SL_FORMAT_VERSION,
    .name = "raw",
    .options = raw_options,
    .open_decoder = raw_open_decoder,
    .open_encoder = raw_open_encoder,
};
