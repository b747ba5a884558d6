/*
 * format_csv.c: the 'csv' record format (RFC 4180), with Flink's csv
 * options.
 *
 * A record is one line, or several when a quoted field holds line breaks
 * (sl_csv_record_end finds where a record ends for line-oriented readers).
 * Fields are positional: the i-th field of a record is the format's i-th
 * column. The decoder splits a record in one pass, unquoting into a scratch
 * buffer only when a field has doubled quotes or escapes, and converts each
 * field's text straight into the batch row. Empty unquoted fields are NULL
 * for non-string columns and '' for strings, as in Flink; 'csv.null-literal'
 * names a text read and written as NULL. BYTES travel as base64; ARRAY, MAP
 * and ROW as their JSON text (Flink's 'csv.array-element-delimiter' form is
 * not supported). The encoder writes one line per row, quoting a field only
 * when it must (and empty strings, so they stay distinct from NULL). Result
 * codes follow format_int.h.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "format_int.h"

static const sl_option_def csv_options[] = {
    {"csv.field-delimiter", "string", ",",
     "Field delimiter, one character ('\\t' is accepted for tab)."},
    {"csv.quote-character", "string", "\"",
     "Quote character enclosing field values."},
    {"csv.disable-quote-character", "bool", "false",
     "Disable quoting: quote characters are plain data."},
    {"csv.allow-comments", "bool", "false",
     "Ignore records that start with '#'."},
    {"csv.ignore-parse-errors", "bool", "false",
     "Skip (and count) records that are malformed or hold a value of the "
     "wrong type, instead of failing."},
    {"csv.escape-character", "string", NULL,
     "Escape character: the character after it is taken literally (none by "
     "default)."},
    {"csv.null-literal", "string", NULL,
     "Text that stands for NULL, read and written (none by default: NULL is "
     "an empty field)."},
    {"csv.array-element-delimiter", "string", ";",
     "Accepted for Flink compatibility; ARRAY values are read and written as "
     "JSON text."},
    {"csv.write-bigdecimal-in-scientific-notation", "bool", "true",
     "Accepted for Flink compatibility; decimals are written plainly."},
    {NULL, NULL, NULL, NULL},
};

typedef struct cfield {
    const char *name;
    const sl_type *type;
    int col;
} cfield;

typedef struct csv_codec {
    int n_fields;
    cfield *fields;
    char delim;
    int quote;  /* -1: quoting disabled */
    int escape; /* -1: none */
    bool allow_comments;
    const char *null_literal; /* NULL: none */
    size_t null_len;
} csv_codec;

static int one_char(sl_options *opts, const char *key, const char *dflt,
                    int *out, sl_err *err)
{
    const char *v = NULL;
    int rc = sl_options_string(opts, key, dflt, &v, err);
    if (rc)
        return rc;
    if (!v) {
        *out = -1;
        return SL_OK;
    }
    if (!strcmp(v, "\\t")) {
        *out = '\t';
        return SL_OK;
    }
    if (strlen(v) != 1 || v[0] == '\n' || v[0] == '\r')
        return sl_err_set(err, SL_SQL,
                          "option '%s' must be a single character, got '%s'",
                          key, v);
    *out = (unsigned char)v[0];
    return SL_OK;
}

static int codec_init(csv_codec *c, const sl_format_info *info, sl_err *err)
{
    char key[128];
    const char *p = info->prefix;
    sl_options *o = info->options;
    int delim = ',', quote = '"', escape = -1;
    bool disable = false, ignored = false, sci = true;
    const char *aed;
    if (one_char(o, sl_format_key(key, sizeof(key), p, "field-delimiter"), ",",
                 &delim, err) ||
        one_char(o, sl_format_key(key, sizeof(key), p, "quote-character"), "\"",
                 &quote, err) ||
        one_char(o, sl_format_key(key, sizeof(key), p, "escape-character"),
                 NULL, &escape, err) ||
        sl_options_bool(
            o, sl_format_key(key, sizeof(key), p, "disable-quote-character"),
            false, &disable, err) ||
        sl_options_bool(o, sl_format_key(key, sizeof(key), p, "allow-comments"),
                        false, &c->allow_comments, err) ||
        sl_format_ignore_errors(o, p, &ignored, err) ||
        sl_options_string(o, sl_format_key(key, sizeof(key), p, "null-literal"),
                          NULL, &c->null_literal, err) ||
        sl_options_string(
            o, sl_format_key(key, sizeof(key), p, "array-element-delimiter"),
            ";", &aed, err) ||
        sl_options_bool(o,
                        sl_format_key(key, sizeof(key), p,
                                      "write-bigdecimal-in-scientific-"
                                      "notation"),
                        true, &sci, err))
        return err->code ? err->code : SL_SQL;
    c->delim = (char)delim;
    c->quote = disable ? -1 : quote;
    c->escape = escape;
    if (c->quote == c->delim || (c->escape >= 0 && c->escape == c->delim))
        return sl_err_set(err, SL_SQL,
                          "csv: the field delimiter must differ from the "
                          "quote and escape characters");
    c->null_len = c->null_literal ? strlen(c->null_literal) : 0;
    const sl_schema *s = info->fmt_schema;
    c->n_fields = s->n_cols;
    c->fields = sl_calloc((size_t)(s->n_cols ? s->n_cols : 1), sizeof(cfield));
    if (!c->fields)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    for (int i = 0; i < s->n_cols; i++) {
        c->fields[i].name = s->cols[i].name;
        c->fields[i].type = s->cols[i].type;
        c->fields[i].col = info->col_map ? info->col_map[i] : i;
    }
    return SL_OK;
}

/* ---- decoding ----------------------------------------------------------- */

typedef struct csv_decoder {
    sl_decoder base;
    csv_codec c;
    sl_buf scratch;
} csv_decoder;

bool sl_csv_record_end(const sl_decoder *dec, const char *data, size_t len,
                       size_t *rec_len, int *n_newlines)
{
    const csv_codec *c = &((const csv_decoder *)dec)->c;
    bool in_quotes = false, at_start = true;
    int nl = 0;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)data[i];
        if (c->escape >= 0 && ch == c->escape) {
            i++; /* the next byte is literal */
            if (i < len && data[i] == '\n')
                nl++;
            at_start = false;
            continue;
        }
        if (in_quotes) {
            if (ch == c->quote) {
                if (i + 1 >= len)
                    return false; /* doubled quote or end: need more */
                if ((unsigned char)data[i + 1] == c->quote)
                    i++;
                else
                    in_quotes = false;
            } else if (ch == '\n') {
                nl++;
            }
            continue;
        }
        if (ch == '\n') {
            *rec_len = i + 1;
            *n_newlines = nl;
            return true;
        }
        if (at_start && ch == c->quote) {
            in_quotes = true;
            at_start = false;
            continue;
        }
        at_start = ch == (unsigned char)c->delim;
    }
    return false;
}

static int field_error(const cfield *f, const char *txt, size_t len,
                       sl_err *err)
{
    sl_buf t;
    sl_buf_init(&t, 256);
    sl_type_format(f->type, &t);
    char shown[48];
    size_t k = 0;
    for (size_t i = 0; i < len && i < 40 && k + 1 < sizeof(shown); i++)
        shown[k++] = (unsigned char)txt[i] < 0x20 ? '?' : txt[i];
    shown[k] = '\0';
    sl_err_set(err, SL_ERROR, "field '%s': expected %s, got \"%s%s\"", f->name,
               sl_buf_cstr(&t), shown, len > 40 ? "..." : "");
    sl_buf_free(&t);
    return SL_ERROR;
}

/* Plain decimal integers of up to 18 digits, without strtoll. */
static bool fast_int(const char *s, size_t len, int64_t *out)
{
    bool neg = len && *s == '-';
    size_t i = neg ? 1 : 0;
    if (len == i || len - i > 18)
        return false;
    int64_t v = 0;
    for (; i < len; i++) {
        unsigned dgt = (unsigned)(s[i] - '0');
        if (dgt > 9)
            return false;
        v = v * 10 + (int64_t)dgt;
    }
    *out = neg ? -v : v;
    return true;
}

static int convert(csv_decoder *d, const cfield *f, const char *txt, size_t len,
                   bool quoted, sl_batch *batch, sl_value *v, sl_err *err)
{
    const sl_type *t = f->type;
    if (d->c.null_literal && len == d->c.null_len &&
        !memcmp(txt, d->c.null_literal, len)) {
        *v = sl_value_null();
        return SL_OK;
    }
    if (sl_type_is_string(t) || t->id == SL_TYPE_ARRAY ||
        t->id == SL_TYPE_MAP || t->id == SL_TYPE_ROW) {
        if (len == 0 && !quoted && !sl_type_is_string(t)) {
            *v = sl_value_null();
            return SL_OK;
        }
        int rc = sl_batch_set_text(batch, v, txt, len);
        return rc ? sl_err_set(err, rc, "out of memory (batch arena)") : 0;
    }
    /* Other types: surrounding blanks do not matter; empty is NULL. */
    while (len && (*txt == ' ' || *txt == '\t'))
        txt++, len--;
    while (len && (txt[len - 1] == ' ' || txt[len - 1] == '\t'))
        len--;
    if (len == 0) {
        *v = sl_value_null();
        return SL_OK;
    }
    int64_t i;
    double dv;
    switch (t->id) {
    case SL_TYPE_BOOLEAN:
        if (sl_str_nieq(txt, len, "true"))
            *v = sl_value_int(1);
        else if (sl_str_nieq(txt, len, "false"))
            *v = sl_value_int(0);
        else
            return field_error(f, txt, len, err);
        return SL_OK;
    case SL_TYPE_TINYINT:
    case SL_TYPE_SMALLINT:
    case SL_TYPE_INT:
    case SL_TYPE_BIGINT:
    case SL_TYPE_INTERVAL_DAY_TIME:
    case SL_TYPE_INTERVAL_YEAR_MONTH: {
        if (!fast_int(txt, len, &i) && sl_parse_int64(txt, len, &i))
            return field_error(f, txt, len, err);
        int64_t lo = INT64_MIN, hi = INT64_MAX;
        if (t->id == SL_TYPE_TINYINT)
            lo = INT8_MIN, hi = INT8_MAX;
        else if (t->id == SL_TYPE_SMALLINT)
            lo = INT16_MIN, hi = INT16_MAX;
        else if (t->id == SL_TYPE_INT)
            lo = INT32_MIN, hi = INT32_MAX;
        if (i < lo || i > hi)
            return field_error(f, txt, len, err);
        *v = sl_value_int(i);
        return SL_OK;
    }
    case SL_TYPE_FLOAT:
    case SL_TYPE_DOUBLE:
        if (sl_parse_double(txt, len, &dv))
            return field_error(f, txt, len, err);
        *v = sl_value_real(dv);
        return SL_OK;
    case SL_TYPE_DECIMAL: {
        if (sl_parse_double(txt, len, &dv) || !isfinite(dv))
            return field_error(f, txt, len, err);
        double sc = pow(10.0, t->scale);
        double r = round(dv * sc) / sc;
        if (t->precision - t->scale < 308 &&
            fabs(r) >= pow(10.0, t->precision - t->scale))
            return field_error(f, txt, len, err);
        *v = sl_value_real(r);
        return SL_OK;
    }
    case SL_TYPE_DATE:
        if (sl_parse_date(txt, len, &i) || !sl_format_temporal_ok(t->id, i))
            return field_error(f, txt, len, err);
        *v = sl_value_int(i);
        return SL_OK;
    case SL_TYPE_TIME:
        if (sl_parse_time(txt, len, &i) || !sl_format_temporal_ok(t->id, i))
            return field_error(f, txt, len, err);
        *v = sl_value_int(i);
        return SL_OK;
    case SL_TYPE_TIMESTAMP:
    case SL_TYPE_TIMESTAMP_LTZ:
        /* text, or epoch milliseconds */
        if ((sl_parse_timestamp(txt, len, &i) &&
             sl_parse_int64(txt, len, &i)) ||
            !sl_format_temporal_ok(t->id, i))
            return field_error(f, txt, len, err);
        *v = sl_value_int(i);
        return SL_OK;
    case SL_TYPE_BINARY:
    case SL_TYPE_VARBINARY: {
        unsigned char *dst = sl_arena_alloc(&batch->arena, len / 4 * 3 + 3);
        if (!dst)
            return sl_err_set(err, SL_NOMEM, "out of memory (batch arena)");
        long n = sl_format_base64_decode(txt, len, dst);
        if (n < 0)
            return field_error(f, txt, len, err);
        v->kind = SL_V_BLOB;
        v->len = (uint32_t)n;
        v->u.b = dst;
        return SL_OK;
    }
    default:
        return field_error(f, txt, len, err);
    }
}

static int csv_decode(sl_decoder *dec, const char *data, size_t len,
                      sl_batch *batch, sl_value *row, sl_err *err)
{
    csv_decoder *d = (csv_decoder *)dec;
    const csv_codec *c = &d->c;
    if (len && data[len - 1] == '\n')
        len--;
    if (len && data[len - 1] == '\r')
        len--;
    if (c->allow_comments && len && data[0] == '#')
        return SL_NOTFOUND;
    const char *p = data, *end = data + len;
    int n = 0;
    for (;;) {
        const char *txt;
        size_t tlen;
        bool quoted = false;
        if (c->quote >= 0 && p < end && (unsigned char)*p == c->quote) {
            /* quoted field: copy unless it is a plain run */
            quoted = true;
            p++;
            const char *s = p;
            bool plain = true;
            sl_buf_reset(&d->scratch);
            for (;;) {
                if (p >= end)
                    return sl_err_set(err, SL_ERROR,
                                      "field %d: unterminated quoted field",
                                      n + 1);
                int ch = (unsigned char)*p;
                if (c->escape >= 0 && ch == c->escape && p + 1 < end) {
                    if (plain)
                        sl_buf_append(&d->scratch, s, (size_t)(p - s));
                    plain = false;
                    sl_buf_putc(&d->scratch, p[1]);
                    p += 2;
                    continue;
                }
                if (ch == c->quote) {
                    if (p + 1 < end && (unsigned char)p[1] == c->quote) {
                        if (plain)
                            sl_buf_append(&d->scratch, s, (size_t)(p - s));
                        plain = false;
                        sl_buf_putc(&d->scratch, (char)c->quote);
                        p += 2;
                        continue;
                    }
                    break;
                }
                if (!plain)
                    sl_buf_putc(&d->scratch, *p);
                p++;
            }
            if (plain) {
                txt = s;
                tlen = (size_t)(p - s);
            } else {
                if (d->scratch.rc)
                    return sl_err_set(err, d->scratch.rc, "field too long");
                txt = d->scratch.data;
                tlen = d->scratch.len;
            }
            p++; /* closing quote */
            if (p < end && *p != c->delim)
                return sl_err_set(err, SL_ERROR,
                                  "field %d: unexpected character after "
                                  "closing quote",
                                  n + 1);
        } else {
            const char *s = p;
            bool plain = true;
            sl_buf_reset(&d->scratch);
            while (p < end && *p != c->delim) {
                if (c->escape >= 0 && (unsigned char)*p == c->escape &&
                    p + 1 < end) {
                    if (plain)
                        sl_buf_append(&d->scratch, s, (size_t)(p - s));
                    plain = false;
                    sl_buf_putc(&d->scratch, p[1]);
                    p += 2;
                    continue;
                }
                if (!plain)
                    sl_buf_putc(&d->scratch, *p);
                p++;
            }
            if (plain) {
                txt = s;
                tlen = (size_t)(p - s);
            } else {
                if (d->scratch.rc)
                    return sl_err_set(err, d->scratch.rc, "field too long");
                txt = d->scratch.data;
                tlen = d->scratch.len;
            }
        }
        if (n < c->n_fields && c->fields[n].col >= 0) {
            const cfield *f = &c->fields[n];
            int rc = convert(d, f, txt, tlen, quoted, batch, &row[f->col], err);
            if (rc)
                return rc;
        }
        n++;
        if (p < end && *p == c->delim) {
            p++;
            continue;
        }
        break;
    }
    if (n != c->n_fields)
        return sl_err_set(err, SL_ERROR, "record has %d field%s, expected %d",
                          n, n == 1 ? "" : "s", c->n_fields);
    return SL_OK;
}

static void csv_decoder_close(sl_decoder *dec)
{
    csv_decoder *d = (csv_decoder *)dec;
    if (!d)
        return;
    sl_free(d->c.fields);
    sl_buf_free(&d->scratch);
    sl_free(d);
}

static int csv_open_decoder(const sl_format_info *info, sl_decoder **out,
                            sl_err *err)
{
    *out = NULL;
    csv_decoder *d = sl_calloc(1, sizeof(*d));
    if (!d)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    d->base.decode = csv_decode;
    d->base.close = csv_decoder_close;
    sl_buf_init(&d->scratch, (size_t)UINT32_MAX);
    int rc = codec_init(&d->c, info, err);
    if (rc) {
        csv_decoder_close(&d->base);
        return rc;
    }
    *out = &d->base;
    return SL_OK;
}

/* ---- encoding ----------------------------------------------------------- */

typedef struct csv_encoder {
    sl_encoder base;
    csv_codec c;
    sl_buf field;
} csv_encoder;

static void put_field(const csv_codec *c, const char *s, size_t len,
                      bool force_quote, sl_buf *out)
{
    bool need = force_quote;
    for (size_t i = 0; i < len && !need; i++) {
        int ch = (unsigned char)s[i];
        need = ch == (unsigned char)c->delim || ch == c->quote || ch == '\n' ||
               ch == '\r' || (c->escape >= 0 && ch == c->escape);
    }
    if (!need) {
        sl_buf_append(out, s, len);
        return;
    }
    if (c->quote < 0) {
        /* no quoting: escape specials when we can, else write raw */
        for (size_t i = 0; i < len; i++) {
            int ch = (unsigned char)s[i];
            if (c->escape >= 0 && (ch == (unsigned char)c->delim ||
                                   ch == c->escape || ch == '\n'))
                sl_buf_putc(out, (char)c->escape);
            sl_buf_putc(out, s[i]);
        }
        return;
    }
    sl_buf_putc(out, (char)c->quote);
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)s[i];
        if (ch == c->quote || (c->escape >= 0 && ch == c->escape)) {
            sl_buf_append(out, s + run, i + 1 - run);
            sl_buf_putc(out, ch == c->quote ? (char)c->quote : (char)c->escape);
            run = i + 1;
        }
    }
    sl_buf_append(out, s + run, len - run);
    sl_buf_putc(out, (char)c->quote);
}

static int csv_encode(sl_encoder *enc, const sl_batch *batch, int row,
                      sl_buf *out, sl_err *err)
{
    csv_encoder *e = (csv_encoder *)enc;
    const csv_codec *c = &e->c;
    const sl_value *vals = sl_batch_crow(batch, row);
    for (int i = 0; i < c->n_fields; i++) {
        const cfield *f = &c->fields[i];
        const sl_value *v = &vals[f->col];
        if (i)
            sl_buf_putc(out, c->delim);
        if (v->kind == SL_V_NULL) {
            if (c->null_literal)
                put_field(c, c->null_literal, c->null_len, false, out);
            continue;
        }
        if (v->kind == SL_V_TEXT) {
            put_field(c, v->u.s, v->len, v->len == 0, out);
            continue;
        }
        sl_buf *t = &e->field;
        sl_buf_reset(t);
        if (v->kind == SL_V_BLOB) {
            sl_format_base64_encode(v->u.b, v->len, t);
        } else if (f->type->id == SL_TYPE_BOOLEAN) {
            bool b = v->kind == SL_V_INT ? v->u.i != 0 : v->u.d != 0;
            sl_buf_puts(t, b ? "true" : "false");
        } else {
            sl_value_format(f->type, v, t, NULL);
        }
        if (t->rc)
            return sl_err_set(err, t->rc, "out of memory");
        put_field(c, t->data, t->len, false, out);
    }
    if (out->rc)
        return sl_err_set(err, out->rc,
                          out->rc == SL_LIMIT ? "encoded CSV record too large"
                                              : "out of memory");
    return SL_OK;
}

static void csv_encoder_close(sl_encoder *enc)
{
    csv_encoder *e = (csv_encoder *)enc;
    if (!e)
        return;
    sl_free(e->c.fields);
    sl_buf_free(&e->field);
    sl_free(e);
}

static int csv_open_encoder(const sl_format_info *info, sl_encoder **out,
                            sl_err *err)
{
    *out = NULL;
    csv_encoder *e = sl_calloc(1, sizeof(*e));
    if (!e)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    e->base.encode = csv_encode;
    e->base.close = csv_encoder_close;
    sl_buf_init(&e->field, 0);
    int rc = codec_init(&e->c, info, err);
    if (rc) {
        csv_encoder_close(&e->base);
        return rc;
    }
    *out = &e->base;
    return SL_OK;
}

const sl_format sl_format_csv = {
    .version = SL_FORMAT_VERSION,
    .name = "csv",
    .options = csv_options,
    .open_decoder = csv_open_decoder,
    .open_encoder = csv_open_encoder,
};
