/*
 * format_json.c: the 'json' record format (one JSON object per record), as
 * Flink's json format reads and writes it.
 *
 * The decoder is the hot path of every JSON pipeline (DESIGN.md section 4),
 * so it builds no DOM: one forward pass over the bytes matches each key
 * against the declared fields (trying the field after the previous one
 * first, since producers usually keep an order), converts the value straight
 * into the batch row (strings unescaped into the batch arena, numbers parsed
 * in place) and skips unknown fields with a validating scanner. Nested
 * values of ARRAY/MAP/ROW columns are validated and copied, minified, as
 * JSON text (their storage, types.h). Nesting is bounded by
 * SL_JSON_MAX_DEPTH and the scanner never reads outside [data, data+len).
 * The encoder writes one compact object per row with Flink's representation
 * of each type. Result codes follow format_int.h.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format_int.h"

/* ---- base64 (shared with csv through format_int.h) ---------------------- */

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sl_format_base64_encode(const unsigned char *b, size_t len, sl_buf *out)
{
    char quad[4];
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
        quad[0] = b64_chars[v >> 18];
        quad[1] = b64_chars[(v >> 12) & 63];
        quad[2] = b64_chars[(v >> 6) & 63];
        quad[3] = b64_chars[v & 63];
        sl_buf_append(out, quad, 4);
    }
    if (i < len) {
        uint32_t v = (uint32_t)b[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)b[i + 1] << 8;
        quad[0] = b64_chars[v >> 18];
        quad[1] = b64_chars[(v >> 12) & 63];
        quad[2] = i + 1 < len ? b64_chars[(v >> 6) & 63] : '=';
        quad[3] = '=';
        sl_buf_append(out, quad, 4);
    }
    return out->rc;
}

static int b64_val(unsigned char c)
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

long sl_format_base64_decode(const char *s, size_t len, unsigned char *dst)
{
    while (len && s[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return -1;
    long n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_val((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n;
}

/* ---- options ------------------------------------------------------------ */

static const sl_option_def json_options[] = {
    {"json.fail-on-missing-field", "bool", "false",
     "Fail when a declared field is missing from a record (otherwise it is "
     "NULL)."},
    {"json.ignore-parse-errors", "bool", "false",
     "Skip (and count) records that are malformed or hold a value of the "
     "wrong type, instead of failing."},
    {"json.timestamp-format.standard", "enum", "SQL",
     "Text of TIMESTAMP/TIMESTAMP_LTZ values: 'SQL' (2020-12-30 12:13:14.123)"
     " or 'ISO-8601' (2020-12-30T12:13:14.123). Both are accepted when "
     "reading, as are epoch milliseconds."},
    {"json.encode.ignore-null-fields", "bool", "false",
     "Leave NULL fields out of written objects."},
    {"json.encode.decimal-as-plain-number", "bool", "false",
     "Accepted for Flink compatibility; decimals are always written as plain "
     "numbers."},
    {"json.map-null-key.mode", "enum", "FAIL",
     "Accepted for Flink compatibility (FAIL, DROP, LITERAL); map keys are "
     "never NULL in Sluice's JSON text storage."},
    {"json.map-null-key.literal", "string", "null",
     "Accepted for Flink compatibility."},
    {NULL, NULL, NULL, NULL},
};

typedef struct jfield {
    const char *name;
    size_t name_len;
    const sl_type *type;
    int col;
    bool plain; /* the name needs no escaping: its JSON key is "name" */
} jfield;

typedef struct json_codec {
    int n_fields;
    jfield *fields;
    bool fail_on_missing;
    bool ignore_null_fields;
    bool iso; /* timestamp-format.standard = ISO-8601 */
} json_codec;

static const char *const ts_standards[] = {"SQL", "ISO-8601", NULL};
static const char *const null_key_modes[] = {"FAIL", "DROP", "LITERAL", NULL};

static int codec_init(json_codec *c, const sl_format_info *info, sl_err *err)
{
    char key[128];
    const char *p = info->prefix;
    int std = 0, mode = 0;
    bool ignored = false;
    const char *lit;
    if (sl_options_bool(
            info->options,
            sl_format_key(key, sizeof(key), p, "fail-on-missing-field"), false,
            &c->fail_on_missing, err) ||
        sl_format_ignore_errors(info->options, p, &ignored, err) ||
        sl_options_enum(
            info->options,
            sl_format_key(key, sizeof(key), p, "timestamp-format.standard"),
            ts_standards, 0, &std, err) ||
        sl_options_bool(
            info->options,
            sl_format_key(key, sizeof(key), p, "encode.ignore-null-fields"),
            false, &c->ignore_null_fields, err) ||
        sl_options_bool(info->options,
                        sl_format_key(key, sizeof(key), p,
                                      "encode.decimal-as-plain-number"),
                        false, &ignored, err) ||
        sl_options_enum(info->options,
                        sl_format_key(key, sizeof(key), p, "map-null-key.mode"),
                        null_key_modes, 0, &mode, err) ||
        sl_options_string(
            info->options,
            sl_format_key(key, sizeof(key), p, "map-null-key.literal"), "null",
            &lit, err))
        return err->code ? err->code : SL_SQL;
    c->iso = std == 1;
    const sl_schema *s = info->fmt_schema;
    c->n_fields = s->n_cols;
    c->fields = sl_calloc((size_t)(s->n_cols ? s->n_cols : 1), sizeof(jfield));
    if (!c->fields)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    for (int i = 0; i < s->n_cols; i++) {
        c->fields[i].name = s->cols[i].name;
        c->fields[i].name_len = strlen(s->cols[i].name);
        c->fields[i].plain = true;
        for (const char *n = s->cols[i].name; *n; n++)
            if ((unsigned char)*n < 0x20 || *n == '"' || *n == '\\')
                c->fields[i].plain = false;
        c->fields[i].type = s->cols[i].type;
        c->fields[i].col = info->col_map ? info->col_map[i] : i;
    }
    return SL_OK;
}

/* ---- scanning ----------------------------------------------------------- */

/* 1 for bytes that end a run of plain string characters. */
static const unsigned char str_stop[256] = {
    [0 ... 31] = 1, ['"'] = 1, ['\\'] = 1};
static const unsigned char is_ws[256] = {
    [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

/* Whether any of the 8 bytes at p is '"', '\\' or a control byte. */
static inline bool stop_in_8(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t q = w ^ 0x2222222222222222ULL;
    uint64_t b = w ^ 0x5C5C5C5C5C5C5C5CULL;
    uint64_t stop = ((q - 0x0101010101010101ULL) & ~q) |
                    ((b - 0x0101010101010101ULL) & ~b) |
                    ((w - 0x2020202020202020ULL) & ~w);
    return (stop & 0x8080808080808080ULL) != 0;
}

static inline const char *skip_ws(const char *p, const char *end)
{
    while (p < end && is_ws[(unsigned char)*p])
        p++;
    return p;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* p points after the opening quote. Returns the position of the closing
 * quote, or NULL when the string is malformed; *escaped says whether any
 * backslash was seen. */
static const char *scan_string(const char *p, const char *end, bool *escaped)
{
    *escaped = false;
    for (;;) {
        /* 8 bytes at a time while none is '"', '\\' or a control byte */
        while (end - p >= 8 && !stop_in_8(p))
            p += 8;
        while (p < end && !str_stop[(unsigned char)*p])
            p++;
        if (p >= end)
            return NULL;
        if (*p == '"')
            return p;
        if (*p != '\\')
            return NULL; /* raw control character */
        *escaped = true;
        if (p + 1 >= end)
            return NULL;
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            p += 2;
            break;
        case 'u':
            if (end - p < 6 || hexval(p[2]) < 0 || hexval(p[3]) < 0 ||
                hexval(p[4]) < 0 || hexval(p[5]) < 0)
                return NULL;
            p += 6;
            break;
        default:
            return NULL;
        }
    }
}

static unsigned hex4(const char *p)
{
    return (unsigned)(hexval(p[0]) << 12 | hexval(p[1]) << 8 |
                      hexval(p[2]) << 4 | hexval(p[3]));
}

static size_t put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xC0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Unescape a validated string body [s, e) into d (room for e - s bytes:
 * every escape is at least as long as what it produces). Returns the
 * length written. Lone surrogates become U+FFFD. */
static size_t unescape(const char *s, const char *e, char *d)
{
    char *start = d;
    while (s < e) {
        if (*s != '\\') {
            *d++ = *s++;
            continue;
        }
        char c = s[1];
        s += 2;
        switch (c) {
        case 'b':
            *d++ = '\b';
            break;
        case 'f':
            *d++ = '\f';
            break;
        case 'n':
            *d++ = '\n';
            break;
        case 'r':
            *d++ = '\r';
            break;
        case 't':
            *d++ = '\t';
            break;
        case 'u': {
            unsigned cp = hex4(s);
            s += 4;
            if (cp >= 0xD800 && cp < 0xDC00) {
                if (e - s >= 6 && s[0] == '\\' && s[1] == 'u') {
                    unsigned lo = hex4(s + 2);
                    if (lo >= 0xDC00 && lo < 0xE000) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        s += 6;
                    } else {
                        cp = 0xFFFD;
                    }
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                cp = 0xFFFD;
            }
            d += put_utf8(d, cp);
            break;
        }
        default: /* '"', '\\', '/' */
            *d++ = c;
        }
    }
    return (size_t)(d - start);
}

/* Validate a JSON number at p; returns its end or NULL. */
static const char *scan_number(const char *p, const char *end, bool *is_int)
{
    *is_int = true;
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return NULL;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return NULL;
    }
    if (p < end && *p == '.') {
        *is_int = false;
        p++;
        const char *d = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *is_int = false;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        const char *d = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    return p;
}

static const char *scan_literal(const char *p, const char *end)
{
    static const char *const lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(lits[i]);
        if ((size_t)(end - p) >= n && !memcmp(p, lits[i], n))
            return p + n;
    }
    return NULL;
}

/* Validate one JSON value starting at p (after whitespace) and, when out is
 * non-NULL, append it minified. Iterative with a bounded stack. Returns the
 * end of the value or NULL (message in err). */
static const char *scan_value(const char *p, const char *end, sl_buf *out,
                              sl_err *err)
{
    char stack[SL_JSON_MAX_DEPTH];
    int depth = 0;
    bool escaped, is_int;
    for (;;) {
        /* a value */
        p = skip_ws(p, end);
        if (p >= end)
            goto truncated;
        const char *s = p;
        switch (*p) {
        case '{':
        case '[':
            if (depth == SL_JSON_MAX_DEPTH) {
                sl_err_set(err, SL_ERROR, "JSON nested deeper than %d levels",
                           SL_JSON_MAX_DEPTH);
                return NULL;
            }
            stack[depth++] = *p;
            if (out)
                sl_buf_putc(out, *p);
            p = skip_ws(p + 1, end);
            if (p < end && *p == (stack[depth - 1] == '{' ? '}' : ']')) {
                if (out)
                    sl_buf_putc(out, *p);
                p++;
                depth--;
                goto after_value;
            }
            if (stack[depth - 1] == '{')
                goto member_key;
            continue;
        case '"':
            p = scan_string(p + 1, end, &escaped);
            if (!p)
                goto bad_string;
            p++;
            break;
        case 't':
        case 'f':
        case 'n':
            p = scan_literal(p, end);
            if (!p) {
                p = s;
                goto unexpected;
            }
            break;
        default:
            p = scan_number(p, end, &is_int);
            if (!p) {
                p = s;
                goto unexpected;
            }
        }
        if (out)
            sl_buf_append(out, s, (size_t)(p - s));
    after_value:
        for (;;) {
            if (depth == 0)
                return p;
            p = skip_ws(p, end);
            if (p >= end)
                goto truncated;
            char close = stack[depth - 1] == '{' ? '}' : ']';
            if (*p == close) {
                if (out)
                    sl_buf_putc(out, close);
                p++;
                depth--;
                continue;
            }
            if (*p != ',')
                goto unexpected;
            if (out)
                sl_buf_putc(out, ',');
            p++;
            if (stack[depth - 1] == '{')
                goto member_key;
            break;
        }
        continue;
    member_key:
        p = skip_ws(p, end);
        if (p >= end)
            goto truncated;
        if (*p != '"')
            goto unexpected;
        s = p;
        p = scan_string(p + 1, end, &escaped);
        if (!p)
            goto bad_string;
        p++;
        if (out)
            sl_buf_append(out, s, (size_t)(p - s));
        p = skip_ws(p, end);
        if (p >= end)
            goto truncated;
        if (*p != ':')
            goto unexpected;
        if (out)
            sl_buf_putc(out, ':');
        p++;
    }
truncated:
    sl_err_set(err, SL_ERROR, "unexpected end of JSON");
    return NULL;
bad_string:
    sl_err_set(err, SL_ERROR, "malformed JSON string");
    return NULL;
unexpected:
    if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7F)
        sl_err_set(err, SL_ERROR, "unexpected character '%c' in JSON", *p);
    else
        sl_err_set(err, SL_ERROR, "unexpected byte 0x%02x in JSON",
                   (unsigned char)*p);
    return NULL;
}

/* ---- decoding values ---------------------------------------------------- */

typedef struct json_decoder {
    sl_decoder base;
    json_codec c;
    uint32_t *seen; /* per field: generation of the last record setting it */
    uint32_t gen;
    sl_buf scratch;
} json_decoder;

/* Describe the token at p for "got ..." in messages. */
static void describe(const char *p, const char *end, char *buf, size_t size)
{
    if (p >= end) {
        sl_snprintf(buf, size, "end of input");
        return;
    }
    switch (*p) {
    case '"': {
        const char *q = p + 1;
        size_t n = 0;
        while (q + n < end && q[n] != '"' && n < 40)
            n++;
        char tmp[48];
        size_t k = 0;
        for (size_t i = 0; i < n && k + 1 < sizeof(tmp); i++)
            tmp[k++] = (unsigned char)q[i] < 0x20 ? '?' : q[i];
        tmp[k] = '\0';
        sl_snprintf(buf, size, "string \"%s%s\"", tmp,
                    (q + n < end && q[n] != '"') ? "..." : "");
        return;
    }
    case '{':
        sl_snprintf(buf, size, "an object");
        return;
    case '[':
        sl_snprintf(buf, size, "an array");
        return;
    case 't':
    case 'f':
        sl_snprintf(buf, size, "boolean %s", *p == 't' ? "true" : "false");
        return;
    default: {
        bool is_int;
        const char *e = scan_number(p, end, &is_int);
        if (e && e - p < 40) {
            sl_snprintf(buf, size, "number %.*s", (int)(e - p), p);
            return;
        }
        sl_snprintf(buf, size, "invalid JSON");
    }
    }
}

static int mismatch(const jfield *f, const char *p, const char *end,
                    sl_err *err)
{
    char got[96];
    sl_buf t;
    sl_buf_init(&t, 256);
    sl_type_format(f->type, &t);
    describe(p, end, got, sizeof(got));
    sl_err_set(err, SL_ERROR, "field '%s': expected %s, got %s", f->name,
               sl_buf_cstr(&t), got);
    sl_buf_free(&t);
    return SL_ERROR;
}

static int bad_value(const jfield *f, const char *what, const char *s,
                     size_t len, sl_err *err)
{
    sl_buf t;
    sl_buf_init(&t, 256);
    sl_type_format(f->type, &t);
    sl_err_set(err, SL_ERROR, "field '%s': %s \"%.*s\" is not a valid %s",
               f->name, what, (int)SL_MIN(len, 40), s, sl_buf_cstr(&t));
    sl_buf_free(&t);
    return SL_ERROR;
}

static const double pow10_tab[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Parse a validated JSON number [s, e). Integers without fraction or
 * exponent that fit int64 come back in *i with *is_i true; everything else
 * as a double (exact fast path when the mantissa and exponent are small, as
 * Clinger's algorithm allows; strtod otherwise). */
static int parse_num(const char *s, const char *e, bool *is_i, int64_t *i,
                     double *d)
{
    const char *p = s;
    bool neg = *p == '-';
    if (neg)
        p++;
    uint64_t m = 0;
    int digits = 0, exp10 = 0;
    bool overflow = false;
    for (; p < e && *p >= '0' && *p <= '9'; p++) {
        if (digits < 19) {
            m = m * 10 + (uint64_t)(*p - '0');
            if (m)
                digits++;
        } else {
            overflow = true;
            exp10++;
        }
    }
    bool frac = false;
    if (p < e && *p == '.') {
        frac = true;
        for (p++; p < e && *p >= '0' && *p <= '9'; p++) {
            if (digits < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                if (m)
                    digits++;
                exp10--;
            } else {
                overflow = true;
            }
        }
    }
    int ex = 0;
    bool has_exp = false;
    if (p < e && (*p == 'e' || *p == 'E')) {
        has_exp = true;
        p++;
        bool eneg = false;
        if (*p == '+' || *p == '-')
            eneg = *p++ == '-';
        for (; p < e && *p >= '0' && *p <= '9'; p++)
            if (ex < 100000)
                ex = ex * 10 + (*p - '0');
        if (eneg)
            ex = -ex;
    }
    if (!frac && !has_exp && !overflow) {
        if (!neg && m <= (uint64_t)INT64_MAX) {
            *is_i = true;
            *i = (int64_t)m;
            return SL_OK;
        }
        if (neg && m <= (uint64_t)INT64_MAX + 1) {
            *is_i = true;
            *i = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
            return SL_OK;
        }
    }
    *is_i = false;
    int total = exp10 + ex;
    if (!overflow && m < ((uint64_t)1 << 53) && total >= -22 && total <= 22) {
        double v = (double)m;
        v = total < 0 ? v / pow10_tab[-total] : v * pow10_tab[total];
        *d = neg ? -v : v;
        return SL_OK;
    }
    char tmp[64];
    if (e - s >= (long)sizeof(tmp))
        return sl_parse_double(s, (size_t)(e - s), d) == SL_OK ? SL_OK
                                                               : SL_ERROR;
    memcpy(tmp, s, (size_t)(e - s));
    tmp[e - s] = '\0';
    char *stop;
    *d = strtod(tmp, &stop);
    return SL_OK;
}

static int int_range(const sl_type *t, int64_t *lo, int64_t *hi)
{
    switch (t->id) {
    case SL_TYPE_TINYINT:
        *lo = INT8_MIN, *hi = INT8_MAX;
        break;
    case SL_TYPE_SMALLINT:
        *lo = INT16_MIN, *hi = INT16_MAX;
        break;
    case SL_TYPE_INT:
        *lo = INT32_MIN, *hi = INT32_MAX;
        break;
    default:
        *lo = INT64_MIN, *hi = INT64_MAX;
    }
    return SL_OK;
}

/* Text of a string token (unescaped into scratch when needed). */
static int string_text(json_decoder *d, const char *s, const char *q,
                       bool escaped, const char **txt, size_t *len)
{
    if (!escaped) {
        *txt = s;
        *len = (size_t)(q - s);
        return SL_OK;
    }
    sl_buf_reset(&d->scratch);
    if (sl_buf_append(&d->scratch, s, (size_t)(q - s)))
        return d->scratch.rc;
    *len = unescape(s, q, d->scratch.data);
    *txt = d->scratch.data;
    return SL_OK;
}

/* Set an integer-stored value from a number or numeric string. */
static int set_integer(const jfield *f, bool is_i, int64_t i, double dv,
                       sl_value *v, const char *p, const char *end, sl_err *err)
{
    int64_t lo, hi;
    int_range(f->type, &lo, &hi);
    if (!is_i) {
        if (!(dv > (double)lo - 1.0 && dv < (double)hi + 1.0))
            return mismatch(f, p, end, err);
        i = (int64_t)dv; /* Flink truncates (Jackson asLong) */
    }
    if (i < lo || i > hi) {
        sl_buf t;
        sl_buf_init(&t, 64);
        sl_type_format(f->type, &t);
        sl_err_set(err, SL_ERROR,
                   "field '%s': %" PRId64 " is out of range "
                   "for %s",
                   f->name, i, sl_buf_cstr(&t));
        sl_buf_free(&t);
        return SL_ERROR;
    }
    *v = sl_value_int(i);
    return SL_OK;
}

static int set_decimal(const jfield *f, double dv, sl_value *v, sl_err *err)
{
    int s = f->type->scale, prec = f->type->precision;
    double scale = pow(10.0, s);
    double r = round(dv * scale) / scale;
    if (!isfinite(r) || (prec - s < 308 && fabs(r) >= pow(10.0, prec - s))) {
        sl_err_set(err, SL_ERROR,
                   "field '%s': %.17g does not fit "
                   "DECIMAL(%d, %d)",
                   f->name, dv, prec, s);
        return SL_ERROR;
    }
    *v = sl_value_real(r);
    return SL_OK;
}

static int parse_temporal(const jfield *f, const char *txt, size_t len,
                          sl_value *v, sl_err *err)
{
    int64_t x;
    int rc;
    switch (f->type->id) {
    case SL_TYPE_DATE:
        rc = sl_parse_date(txt, len, &x);
        break;
    case SL_TYPE_TIME:
        rc = sl_parse_time(txt, len, &x);
        break;
    default:
        rc = sl_parse_timestamp(txt, len, &x);
    }
    if (rc || !sl_format_temporal_ok(f->type->id, x))
        return bad_value(f, "text", txt, len, err);
    *v = sl_value_int(x);
    return SL_OK;
}

/* Validate the JSON value at p and store it, without insignificant
 * whitespace, as TEXT in the batch arena: one validating pass, then one
 * copying pass. Returns the end of the value or NULL. */
static const char *copy_minified(const char *p, const char *end,
                                 sl_batch *batch, sl_value *v, sl_err *err)
{
    const char *e = scan_value(p, end, NULL, err);
    if (!e)
        return NULL;
    size_t raw = (size_t)(e - p);
    if (raw > UINT32_MAX - 1) {
        sl_err_set(err, SL_LIMIT, "JSON value too long");
        return NULL;
    }
    char *dst = sl_arena_alloc(&batch->arena, raw + 1);
    if (!dst) {
        sl_err_set(err, SL_NOMEM, "out of memory (batch arena)");
        return NULL;
    }
    char *d = dst;
    for (const char *q = p; q < e;) {
        char c = *q++;
        if (c == '"') {
            *d++ = c;
            /* the string was validated: copy up to its closing quote */
            for (;;) {
                char x = *q++;
                *d++ = x;
                if (x == '\\')
                    *d++ = *q++;
                else if (x == '"')
                    break;
            }
        } else if (!is_ws[(unsigned char)c]) {
            *d++ = c;
        }
    }
    *d = '\0';
    v->kind = SL_V_TEXT;
    v->len = (uint32_t)(d - dst);
    v->u.s = dst;
    return e;
}

/* A JSON object read into a MAP whose key type is not a string: stored as
 * an array of [key, value] pairs (types.h); a key whose text is a JSON
 * number becomes that number, any other key stays a string. */
static const char *object_to_pairs(const char *p, const char *end, sl_buf *out,
                                   sl_err *err)
{
    bool escaped, is_int;
    sl_buf_putc(out, '[');
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        sl_buf_putc(out, ']');
        return p + 1;
    }
    for (;;) {
        if (p >= end || *p != '"') {
            sl_err_set(err, SL_ERROR,
                       p >= end ? "unexpected end of JSON"
                                : "expected a map key");
            return NULL;
        }
        const char *q = scan_string(p + 1, end, &escaped);
        if (!q) {
            sl_err_set(err, SL_ERROR, "malformed JSON string");
            return NULL;
        }
        sl_buf_putc(out, '[');
        const char *ne = q > p + 1 ? scan_number(p + 1, q, &is_int) : NULL;
        if (ne == q)
            sl_buf_append(out, p + 1, (size_t)(q - p - 1));
        else
            sl_buf_append(out, p, (size_t)(q + 1 - p));
        sl_buf_putc(out, ',');
        p = skip_ws(q + 1, end);
        if (p >= end || *p != ':') {
            sl_err_set(err, SL_ERROR, "expected ':' after map key");
            return NULL;
        }
        p = scan_value(p + 1, end, out, err);
        if (!p)
            return NULL;
        sl_buf_putc(out, ']');
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            sl_buf_putc(out, ',');
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') {
            sl_buf_putc(out, ']');
            return p + 1;
        }
        sl_err_set(err, SL_ERROR, "expected ',' or '}' in JSON object");
        return NULL;
    }
}

/* Convert the value at p (non-whitespace, inside [p, end)) into *v. Returns
 * the end of the value or NULL with err set. */
static const char *decode_value(json_decoder *d, const jfield *f, const char *p,
                                const char *end, sl_batch *batch, sl_value *v,
                                sl_err *err)
{
    const sl_type *t = f->type;
    char c = *p;
    if (c == 'n') {
        const char *e = scan_literal(p, end);
        if (!e || e - p != 4) {
            scan_value(p, end, NULL, err);
            return NULL;
        }
        *v = sl_value_null();
        return e;
    }
    bool escaped = false;
    const char *q = NULL; /* closing quote of a string token */
    if (c == '"') {
        q = scan_string(p + 1, end, &escaped);
        if (!q) {
            sl_err_set(err, SL_ERROR, "field '%s': malformed JSON string",
                       f->name);
            return NULL;
        }
    }
    const char *txt = NULL;
    size_t len = 0;
    int rc;
    switch (t->id) {
    case SL_TYPE_CHAR:
    case SL_TYPE_VARCHAR:
        if (q) {
            size_t raw = (size_t)(q - p - 1);
            if (raw > UINT32_MAX - 1) {
                sl_err_set(err, SL_LIMIT, "field '%s': string too long",
                           f->name);
                return NULL;
            }
            char *dst = sl_arena_alloc(&batch->arena, raw + 1);
            if (!dst) {
                sl_err_set(err, SL_NOMEM, "out of memory (batch arena)");
                return NULL;
            }
            if (escaped) {
                len = unescape(p + 1, q, dst);
            } else {
                memcpy(dst, p + 1, raw);
                len = raw;
            }
            dst[len] = '\0';
            v->kind = SL_V_TEXT;
            v->len = (uint32_t)len;
            v->u.s = dst;
            return q + 1;
        } else {
            /* Flink keeps the JSON text of non-string values. */
            return copy_minified(p, end, batch, v, err);
        }
    case SL_TYPE_ARRAY:
    case SL_TYPE_MAP:
    case SL_TYPE_ROW: {
        if (c != (t->id == SL_TYPE_ARRAY ? '[' : '{')) {
            mismatch(f, p, end, err);
            return NULL;
        }
        if (t->id != SL_TYPE_MAP || sl_type_is_string(t->elem))
            return copy_minified(p, end, batch, v, err);
        sl_buf_reset(&d->scratch);
        const char *e = object_to_pairs(p, end, &d->scratch, err);
        if (!e)
            return NULL;
        if (d->scratch.rc ||
            sl_batch_set_text(batch, v, d->scratch.data, d->scratch.len)) {
            sl_err_set(err, SL_NOMEM, "out of memory");
            return NULL;
        }
        return e;
    }
    case SL_TYPE_BOOLEAN:
        if (c == 't' || c == 'f') {
            const char *e = scan_literal(p, end);
            if (!e) {
                mismatch(f, p, end, err);
                return NULL;
            }
            *v = sl_value_int(c == 't');
            return e;
        }
        if (q) {
            if (string_text(d, p + 1, q, escaped, &txt, &len)) {
                sl_err_set(err, SL_NOMEM, "out of memory");
                return NULL;
            }
            if (sl_str_nieq(txt, len, "true")) {
                *v = sl_value_int(1);
                return q + 1;
            }
            if (sl_str_nieq(txt, len, "false")) {
                *v = sl_value_int(0);
                return q + 1;
            }
        }
        mismatch(f, p, end, err);
        return NULL;
    case SL_TYPE_BINARY:
    case SL_TYPE_VARBINARY: {
        if (!q) {
            mismatch(f, p, end, err);
            return NULL;
        }
        if (string_text(d, p + 1, q, escaped, &txt, &len)) {
            sl_err_set(err, SL_NOMEM, "out of memory");
            return NULL;
        }
        unsigned char *dst = sl_arena_alloc(&batch->arena, len / 4 * 3 + 3);
        if (!dst) {
            sl_err_set(err, SL_NOMEM, "out of memory (batch arena)");
            return NULL;
        }
        long n = sl_format_base64_decode(txt, len, dst);
        if (n < 0) {
            bad_value(f, "base64 text", txt, len, err);
            return NULL;
        }
        v->kind = SL_V_BLOB;
        v->len = (uint32_t)n;
        v->u.b = dst;
        return q + 1;
    }
    default:
        break;
    }

    /* Numbers and temporal types: a JSON number or a string holding one. */
    bool is_i = false;
    int64_t i = 0;
    double dv = 0;
    const char *e;
    if (q) {
        if (string_text(d, p + 1, q, escaped, &txt, &len)) {
            sl_err_set(err, SL_NOMEM, "out of memory");
            return NULL;
        }
        e = q + 1;
        if (sl_type_is_temporal(t)) {
            if (parse_temporal(f, txt, len, v, err))
                return NULL;
            return e;
        }
        /* Flink parses numeric strings ("42") too. */
        while (len && is_ws[(unsigned char)*txt])
            txt++, len--;
        while (len && is_ws[(unsigned char)txt[len - 1]])
            len--;
        bool isint;
        const char *ne = len ? scan_number(txt, txt + len, &isint) : NULL;
        if (ne != txt + len || !len) {
            if (t->id == SL_TYPE_FLOAT || t->id == SL_TYPE_DOUBLE) {
                if (sl_str_nieq(txt, len, "NaN")) {
                    *v = sl_value_real(NAN);
                    return e;
                }
                if (sl_str_nieq(txt, len, "Infinity")) {
                    *v = sl_value_real(INFINITY);
                    return e;
                }
                if (sl_str_nieq(txt, len, "-Infinity")) {
                    *v = sl_value_real(-INFINITY);
                    return e;
                }
            }
            mismatch(f, p, end, err);
            return NULL;
        }
        if (parse_num(txt, txt + len, &is_i, &i, &dv)) {
            mismatch(f, p, end, err);
            return NULL;
        }
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        bool isint;
        e = scan_number(p, end, &isint);
        if (!e) {
            scan_value(p, end, NULL, err);
            return NULL;
        }
        if (parse_num(p, e, &is_i, &i, &dv)) {
            mismatch(f, p, end, err);
            return NULL;
        }
    } else {
        if (!scan_value(p, end, NULL, err))
            return NULL;
        mismatch(f, p, end, err);
        return NULL;
    }
    switch (t->id) {
    case SL_TYPE_TINYINT:
    case SL_TYPE_SMALLINT:
    case SL_TYPE_INT:
    case SL_TYPE_BIGINT:
    case SL_TYPE_INTERVAL_DAY_TIME:
    case SL_TYPE_INTERVAL_YEAR_MONTH:
        rc = set_integer(f, is_i, i, dv, v, p, end, err);
        break;
    case SL_TYPE_FLOAT:
    case SL_TYPE_DOUBLE:
        *v = sl_value_real(is_i ? (double)i : dv);
        rc = SL_OK;
        break;
    case SL_TYPE_DECIMAL:
        rc = set_decimal(f, is_i ? (double)i : dv, v, err);
        break;
    case SL_TYPE_DATE:
    case SL_TYPE_TIME:
    case SL_TYPE_TIMESTAMP:
    case SL_TYPE_TIMESTAMP_LTZ:
        /* epoch numbers: days for DATE, milliseconds otherwise */
        if (!is_i || !sl_format_temporal_ok(t->id, i))
            return mismatch(f, p, end, err), NULL;
        *v = sl_value_int(i);
        rc = SL_OK;
        break;
    default:
        rc = mismatch(f, p, end, err);
    }
    return rc ? NULL : e;
}

static const jfield *find_field(json_decoder *d, const char *k, size_t klen,
                                int *hint)
{
    json_codec *c = &d->c;
    int h = *hint;
    if (h < c->n_fields && c->fields[h].name_len == klen &&
        !memcmp(c->fields[h].name, k, klen)) {
        *hint = h + 1;
        return &c->fields[h];
    }
    for (int i = 0; i < c->n_fields; i++) {
        if (c->fields[i].name_len == klen &&
            !memcmp(c->fields[i].name, k, klen)) {
            *hint = i + 1;
            return &c->fields[i];
        }
    }
    return NULL;
}

static int json_decode(sl_decoder *dec, const char *data, size_t len,
                       sl_batch *batch, sl_value *row, sl_err *err)
{
    json_decoder *d = (json_decoder *)dec;
    const char *p = data, *end = data + len;
    int hint = 0;
    if (++d->gen == 0) {
        memset(d->seen, 0, sizeof(uint32_t) * (size_t)(d->c.n_fields + 1));
        d->gen = 1;
    }
    p = skip_ws(p, end);
    if (p >= end)
        return sl_err_set(err, SL_ERROR, "empty record");
    if (*p != '{') {
        if (!scan_value(p, end, NULL, err))
            return SL_ERROR;
        return sl_err_set(err, SL_ERROR, "expected a JSON object, got %s",
                          *p == '[' ? "an array" : "a scalar");
    }
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
        goto done;
    }
    for (;;) {
        if (p >= end)
            return sl_err_set(err, SL_ERROR, "unexpected end of JSON");
        if (*p != '"') {
            scan_value(p, end, NULL, err); /* for the message */
            return sl_err_set(err, SL_ERROR,
                              "expected a field name in JSON object");
        }
        const jfield *f = NULL;
        const char *q = NULL;
        if (hint < d->c.n_fields) {
            /* the next field in schema order, written without escapes:
             * compare in place instead of scanning the key first */
            const jfield *h = &d->c.fields[hint];
            size_t nl = h->name_len;
            if (h->plain && (size_t)(end - p) > nl + 1 && p[1 + nl] == '"' &&
                !memcmp(p + 1, h->name, nl)) {
                f = h;
                q = p + 1 + nl;
                hint++;
            }
        }
        if (!f) {
            bool escaped;
            q = scan_string(p + 1, end, &escaped);
            if (!q)
                return sl_err_set(err, SL_ERROR, "malformed JSON string");
            const char *key = p + 1;
            size_t klen = (size_t)(q - key);
            if (escaped) {
                sl_buf_reset(&d->scratch);
                if (sl_buf_append(&d->scratch, key, klen))
                    return sl_err_set(err, SL_NOMEM, "out of memory");
                klen = unescape(key, q, d->scratch.data);
                key = d->scratch.data;
            }
            f = find_field(d, key, klen, &hint);
        }
        p = skip_ws(q + 1, end);
        if (p >= end || *p != ':')
            return sl_err_set(err, SL_ERROR,
                              p >= end ? "unexpected end of JSON"
                                       : "expected ':' after field name");
        p = skip_ws(p + 1, end);
        if (p >= end)
            return sl_err_set(err, SL_ERROR, "unexpected end of JSON");
        if (f && f->col >= 0) {
            p = decode_value(d, f, p, end, batch, &row[f->col], err);
            d->seen[f - d->c.fields] = d->gen;
        } else if (f) { /* a field the query does not read */
            p = scan_value(p, end, NULL, err);
            d->seen[f - d->c.fields] = d->gen;
        } else {
            p = scan_value(p, end, NULL, err);
        }
        if (!p)
            return err->code ? err->code : SL_ERROR;
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') {
            p++;
            break;
        }
        return sl_err_set(err, SL_ERROR,
                          p >= end ? "unexpected end of JSON"
                                   : "expected ',' or '}' in JSON object");
    }
done:
    p = skip_ws(p, end);
    if (p < end)
        return sl_err_set(err, SL_ERROR,
                          "unexpected data after the JSON object");
    if (d->c.fail_on_missing) {
        for (int i = 0; i < d->c.n_fields; i++)
            if (d->seen[i] != d->gen)
                return sl_err_set(err, SL_ERROR,
                                  "field '%s' is missing "
                                  "('json.fail-on-missing-field' is true)",
                                  d->c.fields[i].name);
    }
    return SL_OK;
}

static void json_decoder_close(sl_decoder *dec)
{
    json_decoder *d = (json_decoder *)dec;
    if (!d)
        return;
    sl_free(d->c.fields);
    sl_free(d->seen);
    sl_buf_free(&d->scratch);
    sl_free(d);
}

static int json_open_decoder(const sl_format_info *info, sl_decoder **out,
                             sl_err *err)
{
    *out = NULL;
    json_decoder *d = sl_calloc(1, sizeof(*d));
    if (!d)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    d->base.decode = json_decode;
    d->base.close = json_decoder_close;
    sl_buf_init(&d->scratch, (size_t)UINT32_MAX);
    int rc = codec_init(&d->c, info, err);
    if (rc) {
        json_decoder_close(&d->base);
        return rc;
    }
    d->seen = sl_calloc((size_t)d->c.n_fields + 1, sizeof(uint32_t));
    if (!d->seen) {
        json_decoder_close(&d->base);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    *out = &d->base;
    return SL_OK;
}

/* ---- encoding ----------------------------------------------------------- */

/* sl_buf_append / sl_buf_putc with the common case (room left, under the
 * bound) inline: the encoder appends a dozen small pieces per row. */
static inline void out_append(sl_buf *b, const char *s, size_t n)
{
    if (!b->rc && b->cap > b->len && n < b->cap - b->len &&
        b->len + n <= b->max_len) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return;
    }
    sl_buf_append(b, s, n);
}

static inline void out_putc(sl_buf *b, char c)
{
    out_append(b, &c, 1);
}

typedef struct json_encoder {
    sl_encoder base;
    json_codec c;
    sl_buf keys;     /* ',"name":' of every field, back to back */
    size_t *key_end; /* per field: end offset in keys */
} json_encoder;

static void put_json_string(sl_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    out_putc(out, '"');
    size_t run = 0;
    for (size_t i = 0;; i++) {
        while (len - i >= 8 && !stop_in_8(s + i))
            i += 8;
        while (i < len && !str_stop[(unsigned char)s[i]])
            i++;
        if (i >= len)
            break;
        unsigned char ch = (unsigned char)s[i];
        out_append(out, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 0};
        switch (ch) {
        case '"':
        case '\\':
            esc[1] = (char)ch;
            out_append(out, esc, 2);
            break;
        case '\n':
            out_append(out, "\\n", 2);
            break;
        case '\r':
            out_append(out, "\\r", 2);
            break;
        case '\t':
            out_append(out, "\\t", 2);
            break;
        case '\b':
            out_append(out, "\\b", 2);
            break;
        case '\f':
            out_append(out, "\\f", 2);
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            out_append(out, esc, 6);
        }
    }
    out_append(out, s + run, len - run);
    out_putc(out, '"');
}

/* ---- number and time text without printf (the encoder's hot path) ---- */

/* Decimal digits of v at d (room for 20); returns their count. */
static size_t put_u64(char *d, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        d[i] = tmp[n - 1 - i];
    return n;
}

static size_t put_i64(char *d, int64_t v)
{
    if (v >= 0)
        return put_u64(d, (uint64_t)v);
    d[0] = '-';
    return 1 + put_u64(d + 1, (uint64_t)0 - (uint64_t)v);
}

static inline void put_2(char *d, unsigned v)
{
    d[0] = (char)('0' + v / 10);
    d[1] = (char)('0' + v % 10);
}

static const double exact_pow10[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The text sl_value_format gives a DOUBLE (shortest of %.15g..%.17g that
 * reads back, or %.1f for whole numbers), for the values whose text is
 * plain fixed notation with at most 15 significant digits: the decimal
 * x / 10^k with the fewest k that reads back as d is then exactly what
 * %.15g prints. Returns 0 (write nothing) for every other value. */
static size_t fast_real(double d, char *out)
{
    double a = fabs(d);
    if (!(a >= 1e-4 && a < 1e15) || d == 0)
        return 0;
    size_t n = 0;
    if (signbit(d))
        out[n++] = '-';
    if (a == floor(a)) {
        n += put_u64(out + n, (uint64_t)a);
        out[n++] = '.';
        out[n++] = '0';
        return n;
    }
    for (int k = 1; k <= 19; k++) {
        double x = nearbyint(a * exact_pow10[k]);
        if (x >= 1e15)
            return 0; /* more than 15 significant digits */
        if (x / exact_pow10[k] != a)
            continue;
        uint64_t ix = (uint64_t)x;
        uint64_t p = (uint64_t)exact_pow10[k];
        n += put_u64(out + n, ix / p);
        out[n++] = '.';
        uint64_t frac = ix % p;
        for (int i = k - 1; i >= 0; i--) {
            out[n + (size_t)i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        return n + (size_t)k;
    }
    return 0;
}

/* Flink's JSON timestamps: seconds always, fraction digits only as needed
 * (java.time ISO_LOCAL_TIME), 'T' for ISO-8601, 'Z' for TIMESTAMP_LTZ.
 * Writes years 0..9999 directly; other values as sl_format_timestamp. */
static void put_timestamp(sl_buf *out, int64_t ms, bool iso, bool ltz)
{
    char tmp[48];
    size_t n = 0;
    int64_t days = 0, in_day = 0, y = -1;
    unsigned mo, d;
    if (ms > -800000 * (int64_t)86400000 && ms < 3000000 * (int64_t)86400000) {
        days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
        in_day = ms - days * 86400000;
        sl_civil_from_days(days, &y, &mo, &d);
    }
    if (y >= 0 && y <= 9999) {
        tmp[n++] = '"';
        put_2(tmp + n, (unsigned)(y / 100));
        put_2(tmp + n + 2, (unsigned)(y % 100));
        tmp[n + 4] = '-';
        put_2(tmp + n + 5, mo);
        tmp[n + 7] = '-';
        put_2(tmp + n + 8, d);
        tmp[n + 10] = iso ? 'T' : ' ';
        n += 11;
        unsigned secs = (unsigned)(in_day / 1000), frac = in_day % 1000;
        put_2(tmp + n, secs / 3600);
        tmp[n + 2] = ':';
        put_2(tmp + n + 3, secs / 60 % 60);
        tmp[n + 5] = ':';
        put_2(tmp + n + 6, secs % 60);
        n += 8;
        if (frac) {
            tmp[n++] = '.';
            tmp[n++] = (char)('0' + frac / 100);
            if (frac % 100) {
                tmp[n++] = (char)('0' + frac / 10 % 10);
                if (frac % 10)
                    tmp[n++] = (char)('0' + frac % 10);
            }
        }
    } else {
        sl_buf t;
        sl_buf_init(&t, 64);
        sl_format_timestamp(ms, 3, &t);
        size_t len = t.len;
        tmp[n++] = '"';
        sl_strlcpy(tmp + 1, sl_buf_cstr(&t), sizeof(tmp) - 3);
        sl_buf_free(&t);
        len = SL_MIN(len, sizeof(tmp) - 4);
        if (len >= 4 && tmp[n + len - 4] == '.') {
            while (tmp[n + len - 1] == '0')
                len--;
            if (tmp[n + len - 1] == '.')
                len--;
        }
        char *sp = memchr(tmp + n, ' ', len);
        if (sp && iso)
            *sp = 'T';
        n += len;
    }
    if (ltz)
        tmp[n++] = 'Z';
    tmp[n++] = '"';
    out_append(out, tmp, n);
}

/* The stored [[k, v], ...] form of a MAP with non-string keys, written as
 * a JSON object with the keys' text as names (as Flink writes maps).
 * Returns false, writing nothing, when the text is not in that form. */
static bool pairs_to_object(const char *s, size_t len, sl_buf *out)
{
    const char *p = s, *end = s + len;
    sl_err err;
    sl_buf key;
    size_t mark = out->len;
    sl_err_clear(&err);
    sl_buf_init(&key, 0);
    out_putc(out, '{');
    p = skip_ws(p + 1, end);
    bool first = true;
    while (p < end && *p != ']') {
        if (!first) {
            if (*p != ',')
                goto bad;
            p = skip_ws(p + 1, end);
        }
        if (p >= end || *p != '[')
            goto bad;
        sl_buf_reset(&key);
        p = scan_value(p + 1, end, &key, &err);
        if (!p || key.rc)
            goto bad;
        p = skip_ws(p, end);
        if (p >= end || *p != ',')
            goto bad;
        if (!first)
            out_putc(out, ',');
        if (key.len && key.data[0] == '"')
            out_append(out, key.data, key.len);
        else
            put_json_string(out, key.data, key.len);
        out_putc(out, ':');
        p = scan_value(p + 1, end, out, &err);
        if (!p)
            goto bad;
        p = skip_ws(p, end);
        if (p >= end || *p != ']')
            goto bad;
        p = skip_ws(p + 1, end);
        first = false;
    }
    if (p >= end || skip_ws(p + 1, end) != end)
        goto bad;
    out_putc(out, '}');
    sl_buf_free(&key);
    return true;
bad:
    sl_buf_free(&key);
    out->len = mark;
    if (out->data)
        out->data[mark] = '\0';
    return false;
}

/* One value as JSON, in Flink's representation of its type. */
static int put_value(const sl_type *t, const sl_value *v, bool iso, sl_buf *out)
{
    if (v->kind == SL_V_NULL) {
        out_append(out, "null", 4);
        return out->rc;
    }
    switch (t->id) {
    case SL_TYPE_CHAR:
    case SL_TYPE_VARCHAR:
        if (v->kind == SL_V_TEXT) {
            put_json_string(out, v->u.s, v->len);
            return out->rc;
        }
        break;
    case SL_TYPE_ARRAY:
    case SL_TYPE_MAP:
    case SL_TYPE_ROW:
        if (v->kind == SL_V_TEXT) {
            if (t->id == SL_TYPE_MAP && !sl_type_is_string(t->elem) && v->len &&
                v->u.s[0] == '[' && pairs_to_object(v->u.s, v->len, out))
                return out->rc;
            if (v->len)
                out_append(out, v->u.s, v->len);
            else
                out_append(out, "null", 4);
            return out->rc;
        }
        break;
    case SL_TYPE_BINARY:
    case SL_TYPE_VARBINARY:
        if (v->kind == SL_V_BLOB || v->kind == SL_V_TEXT) {
            out_putc(out, '"');
            sl_format_base64_encode(v->u.b, v->len, out);
            out_putc(out, '"');
            return out->rc;
        }
        break;
    case SL_TYPE_BOOLEAN:
        if (v->kind == SL_V_INT || v->kind == SL_V_REAL) {
            bool b = v->kind == SL_V_INT ? v->u.i != 0 : v->u.d != 0;
            sl_buf_puts(out, b ? "true" : "false");
            return out->rc;
        }
        break;
    case SL_TYPE_TIMESTAMP:
    case SL_TYPE_TIMESTAMP_LTZ:
        if (v->kind == SL_V_INT) {
            put_timestamp(out, v->u.i, iso, t->id == SL_TYPE_TIMESTAMP_LTZ);
            return out->rc;
        }
        break;
    case SL_TYPE_DATE:
    case SL_TYPE_TIME:
        if (v->kind == SL_V_INT) {
            out_putc(out, '"');
            sl_value_format(t, v, out, NULL);
            out_putc(out, '"');
            return out->rc;
        }
        break;
    case SL_TYPE_TINYINT:
    case SL_TYPE_SMALLINT:
    case SL_TYPE_INT:
    case SL_TYPE_BIGINT:
        if (v->kind == SL_V_INT) {
            char tmp[24];
            out_append(out, tmp, put_i64(tmp, v->u.i));
            return out->rc;
        }
        break;
    case SL_TYPE_FLOAT:
    case SL_TYPE_DOUBLE:
    case SL_TYPE_DECIMAL:
        if (t->id != SL_TYPE_DECIMAL) {
            char tmp[40];
            double d = v->kind == SL_V_INT ? (double)v->u.i : v->u.d;
            size_t n = fast_real(d, tmp);
            if (n) {
                out_append(out, tmp, n);
                return out->rc;
            }
        }
        if (v->kind == SL_V_REAL && !isfinite(v->u.d)) {
            /* Jackson quotes non-numeric numbers. */
            sl_buf_puts(out, isnan(v->u.d) ? "\"NaN\""
                             : v->u.d > 0  ? "\"Infinity\""
                                           : "\"-Infinity\"");
            return out->rc;
        }
        sl_value_format(t, v, out, NULL);
        return out->rc;
    default:
        break;
    }
    /* Storage that does not match the type: write what is there. */
    switch (v->kind) {
    case SL_V_INT:
        sl_buf_printf(out, "%" PRId64, v->u.i);
        break;
    case SL_V_REAL:
        if (!isfinite(v->u.d))
            sl_buf_puts(out, "null");
        else
            sl_value_format(sl_type_simple(SL_TYPE_DOUBLE), v, out, NULL);
        break;
    case SL_V_TEXT:
        put_json_string(out, v->u.s, v->len);
        break;
    default:
        out_putc(out, '"');
        sl_format_base64_encode(v->u.b, v->len, out);
        out_putc(out, '"');
    }
    return out->rc;
}

static int json_encode(sl_encoder *enc, const sl_batch *batch, int row,
                       sl_buf *out, sl_err *err)
{
    json_encoder *e = (json_encoder *)enc;
    const sl_value *vals = sl_batch_crow(batch, row);
    bool first = true;
    out_putc(out, '{');
    for (int i = 0; i < e->c.n_fields; i++) {
        const jfield *f = &e->c.fields[i];
        const sl_value *v = &vals[f->col];
        if (v->kind == SL_V_NULL && e->c.ignore_null_fields)
            continue;
        size_t start = i ? e->key_end[i - 1] : 0;
        size_t skip = first ? 1 : 0; /* no ',' before the first */
        out_append(out, e->keys.data + start + skip,
                   e->key_end[i] - start - skip);
        first = false;
        put_value(f->type, v, e->c.iso, out);
    }
    out_putc(out, '}');
    if (out->rc)
        return sl_err_set(err, out->rc,
                          out->rc == SL_LIMIT ? "encoded JSON record too large"
                                              : "out of memory");
    return SL_OK;
}

static void json_encoder_close(sl_encoder *enc)
{
    json_encoder *e = (json_encoder *)enc;
    if (!e)
        return;
    sl_free(e->c.fields);
    sl_free(e->key_end);
    sl_buf_free(&e->keys);
    sl_free(e);
}

static int json_open_encoder(const sl_format_info *info, sl_encoder **out,
                             sl_err *err)
{
    *out = NULL;
    json_encoder *e = sl_calloc(1, sizeof(*e));
    if (!e)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    e->base.encode = json_encode;
    e->base.close = json_encoder_close;
    sl_buf_init(&e->keys, 0);
    int rc = codec_init(&e->c, info, err);
    if (!rc) {
        e->key_end = sl_calloc((size_t)(e->c.n_fields ? e->c.n_fields : 1),
                               sizeof(size_t));
        for (int i = 0; e->key_end && i < e->c.n_fields; i++) {
            out_putc(&e->keys, ',');
            put_json_string(&e->keys, e->c.fields[i].name,
                            e->c.fields[i].name_len);
            out_putc(&e->keys, ':');
            e->key_end[i] = e->keys.len;
        }
        if (!e->key_end || e->keys.rc)
            rc = sl_err_set(err, SL_NOMEM, "out of memory");
    }
    if (rc) {
        json_encoder_close(&e->base);
        return rc;
    }
    *out = &e->base;
    return SL_OK;
}

const sl_format sl_format_json = {
    .version = SL_FORMAT_VERSION,
    .name = "json",
    .options = json_options,
    .open_decoder = json_open_decoder,
    .open_encoder = json_open_encoder,
};
