/*
 * fn_cast.c: CAST and TRY_CAST, and the parser for type spellings.
 *
 * The planner turns CAST(x AS T) into sl_cast(x, 'FROM', 'T') and
 * TRY_CAST into sl_try_cast(...), with both types spelled as
 * sl_type_format prints them ('BIGINT', 'DECIMAL(10, 2)', 'TIMESTAMP(3)',
 * 'ARRAY<INT>', 'ROW<`a` INT>'). The spellings are parsed here once per
 * call site (cached with sqlite3_set_auxdata). Conversions follow Flink:
 * an invalid string is an error for CAST and NULL for TRY_CAST, integer
 * narrowing out of range is an error, DECIMAL rounds half up to its scale
 * (and gives NULL when the value does not fit its precision, as Flink
 * does), CHAR(n) pads and VARCHAR(n) cuts, timestamps read and print as
 * 'yyyy-MM-dd HH:mm:ss[.fff]'. ARRAY, MAP and ROW values (JSON text) are
 * cast element by element.
 */
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "fn_int.h"

#define TYPE_MAX_DEPTH 32
#define MS_PER_DAY     86400000LL

/* ---- type parser -----------------------------------------------------------
 */

typedef struct tparse {
    const char *s;
    sl_arena *arena;
    sl_err *err;
    int depth;
} tparse;

static void skip_ws(tparse *tp)
{
    while (*tp->s == ' ' || *tp->s == '\t' || *tp->s == '\n')
        tp->s++;
}

static bool word(tparse *tp, const char *w)
{
    skip_ws(tp);
    size_t n = strlen(w);
    if (strncasecmp(tp->s, w, n) != 0)
        return false;
    char c = tp->s[n];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '_')
        return false;
    tp->s += n;
    return true;
}

static bool punct(tparse *tp, char c)
{
    skip_ws(tp);
    if (*tp->s != c)
        return false;
    tp->s++;
    return true;
}

static bool number(tparse *tp, int *out)
{
    skip_ws(tp);
    if (*tp->s < '0' || *tp->s > '9')
        return false;
    int64_t v = 0;
    while (*tp->s >= '0' && *tp->s <= '9') {
        if (v < SL_TYPE_MAX_LEN)
            v = v * 10 + (*tp->s - '0');
        tp->s++;
    }
    *out = (int)SL_MIN(v, SL_TYPE_MAX_LEN);
    return true;
}

/* Optional "(n)" or "(p, s)". */
static bool params(tparse *tp, int *a, int *b, bool two)
{
    if (!punct(tp, '('))
        return true;
    if (!number(tp, a))
        return false;
    if (two && punct(tp, ',') && !number(tp, b))
        return false;
    return punct(tp, ')');
}

static const sl_type *parse_type(tparse *tp);

static sl_type *new_type(tparse *tp, sl_type_id id)
{
    sl_type *t = sl_arena_alloc(tp->arena, sizeof(*t));
    if (t) {
        memset(t, 0, sizeof(*t));
        t->id = id;
    } else {
        sl_err_set(tp->err, SL_NOMEM, "out of memory");
    }
    return t;
}

static const sl_type *parse_base(tparse *tp)
{
    sl_type *t = NULL;
    int a, b;
    if (word(tp, "BOOLEAN") || word(tp, "BOOL")) {
        t = new_type(tp, SL_TYPE_BOOLEAN);
    } else if (word(tp, "TINYINT")) {
        t = new_type(tp, SL_TYPE_TINYINT);
    } else if (word(tp, "SMALLINT")) {
        t = new_type(tp, SL_TYPE_SMALLINT);
    } else if (word(tp, "INTEGER") || word(tp, "INT")) {
        t = new_type(tp, SL_TYPE_INT);
    } else if (word(tp, "BIGINT")) {
        t = new_type(tp, SL_TYPE_BIGINT);
    } else if (word(tp, "FLOAT") || word(tp, "REAL")) {
        t = new_type(tp, SL_TYPE_FLOAT);
    } else if (word(tp, "DOUBLE")) {
        word(tp, "PRECISION");
        t = new_type(tp, SL_TYPE_DOUBLE);
    } else if (word(tp, "DECIMAL") || word(tp, "DEC") || word(tp, "NUMERIC")) {
        a = 10;
        b = 0;
        if (!params(tp, &a, &b, true))
            return NULL;
        t = new_type(tp, SL_TYPE_DECIMAL);
        if (t) {
            t->precision = a;
            t->scale = b;
        }
    } else if (word(tp, "CHAR") || word(tp, "CHARACTER")) {
        a = 1;
        if (word(tp, "VARYING")) {
            if (!params(tp, &a, NULL, false))
                return NULL;
            t = new_type(tp, SL_TYPE_VARCHAR);
        } else {
            if (!params(tp, &a, NULL, false))
                return NULL;
            t = new_type(tp, SL_TYPE_CHAR);
        }
        if (t)
            t->precision = a;
    } else if (word(tp, "VARCHAR")) {
        a = 1;
        if (!params(tp, &a, NULL, false))
            return NULL;
        t = new_type(tp, SL_TYPE_VARCHAR);
        if (t)
            t->precision = a;
    } else if (word(tp, "STRING")) {
        t = new_type(tp, SL_TYPE_VARCHAR);
        if (t)
            t->precision = SL_TYPE_MAX_LEN;
    } else if (word(tp, "BINARY")) {
        a = 1;
        if (!params(tp, &a, NULL, false))
            return NULL;
        t = new_type(tp, SL_TYPE_BINARY);
        if (t)
            t->precision = a;
    } else if (word(tp, "VARBINARY")) {
        a = 1;
        if (!params(tp, &a, NULL, false))
            return NULL;
        t = new_type(tp, SL_TYPE_VARBINARY);
        if (t)
            t->precision = a;
    } else if (word(tp, "BYTES")) {
        t = new_type(tp, SL_TYPE_VARBINARY);
        if (t)
            t->precision = SL_TYPE_MAX_LEN;
    } else if (word(tp, "DATE")) {
        t = new_type(tp, SL_TYPE_DATE);
    } else if (word(tp, "TIMESTAMP_LTZ")) {
        a = 6;
        if (!params(tp, &a, NULL, false))
            return NULL;
        t = new_type(tp, SL_TYPE_TIMESTAMP_LTZ);
        if (t)
            t->precision = a;
    } else if (word(tp, "TIMESTAMP") || word(tp, "TIME")) {
        bool is_ts = (tp->s[-1] == 'P' || tp->s[-1] == 'p');
        a = is_ts ? 6 : 0;
        if (!params(tp, &a, NULL, false))
            return NULL;
        sl_type_id id = is_ts ? SL_TYPE_TIMESTAMP : SL_TYPE_TIME;
        if (word(tp, "WITHOUT")) {
            if (!word(tp, "TIME") || !word(tp, "ZONE"))
                return NULL;
        } else if (word(tp, "WITH")) {
            if (!word(tp, "LOCAL") || !word(tp, "TIME") || !word(tp, "ZONE"))
                return NULL;
            id = SL_TYPE_TIMESTAMP_LTZ;
        }
        t = new_type(tp, id);
        if (t)
            t->precision = a;
    } else if (word(tp, "INTERVAL")) {
        bool ym = word(tp, "YEAR") || word(tp, "MONTH");
        /* the rest of the qualifier does not change the storage */
        while (*tp->s && *tp->s != '>' && *tp->s != ',' &&
               strncasecmp(tp->s, " NOT", 4) != 0)
            tp->s++;
        t = new_type(tp, ym ? SL_TYPE_INTERVAL_YEAR_MONTH
                            : SL_TYPE_INTERVAL_DAY_TIME);
    } else if (word(tp, "ARRAY") || word(tp, "MULTISET")) {
        if (!punct(tp, '<'))
            return NULL;
        const sl_type *e = parse_type(tp);
        if (!e || !punct(tp, '>'))
            return NULL;
        t = new_type(tp, SL_TYPE_ARRAY);
        if (t)
            t->elem = e;
    } else if (word(tp, "MAP")) {
        if (!punct(tp, '<'))
            return NULL;
        const sl_type *k = parse_type(tp);
        if (!k || !punct(tp, ','))
            return NULL;
        const sl_type *v = parse_type(tp);
        if (!v || !punct(tp, '>'))
            return NULL;
        t = new_type(tp, SL_TYPE_MAP);
        if (t) {
            t->elem = k;
            t->value = v;
        }
    } else if (word(tp, "ROW")) {
        char close = punct(tp, '<') ? '>' : (punct(tp, '(') ? ')' : 0);
        if (!close)
            return NULL;
        sl_field fields[256];
        int n = 0;
        skip_ws(tp);
        while (*tp->s && *tp->s != close) {
            if (n == (int)SL_ARRAY_LEN(fields))
                return NULL;
            skip_ws(tp);
            const char *nb, *ne;
            if (*tp->s == '`' || *tp->s == '"') {
                char q = *tp->s++;
                nb = tp->s;
                while (*tp->s && *tp->s != q)
                    tp->s++;
                if (*tp->s != q)
                    return NULL;
                ne = tp->s++;
            } else {
                nb = tp->s;
                while ((*tp->s >= 'a' && *tp->s <= 'z') ||
                       (*tp->s >= 'A' && *tp->s <= 'Z') ||
                       (*tp->s >= '0' && *tp->s <= '9') || *tp->s == '_')
                    tp->s++;
                ne = tp->s;
                if (ne == nb)
                    return NULL;
            }
            const sl_type *ft = parse_type(tp);
            if (!ft)
                return NULL;
            skip_ws(tp);
            if (*tp->s == '\'') { /* field description */
                tp->s++;
                while (*tp->s && *tp->s != '\'')
                    tp->s++;
                if (*tp->s)
                    tp->s++;
            }
            fields[n].name = sl_arena_strndup(tp->arena, nb, (size_t)(ne - nb));
            fields[n].type = ft;
            if (!fields[n].name)
                return NULL;
            n++;
            if (!punct(tp, ','))
                break;
        }
        if (!punct(tp, close))
            return NULL;
        t = new_type(tp, SL_TYPE_ROW);
        sl_field *fs =
            sl_arena_alloc(tp->arena, sizeof(sl_field) * (size_t)(n ? n : 1));
        if (!t || !fs)
            return NULL;
        memcpy(fs, fields, sizeof(sl_field) * (size_t)n);
        t->fields = fs;
        t->n_fields = n;
    } else if (word(tp, "NULL")) {
        t = new_type(tp, SL_TYPE_NULL);
    }
    return t;
}

static const sl_type *parse_type(tparse *tp)
{
    if (++tp->depth > TYPE_MAX_DEPTH)
        return NULL;
    sl_type *t = (sl_type *)parse_base(tp);
    if (t) {
        for (;;) {
            if (word(tp, "NOT")) {
                if (!word(tp, "NULL"))
                    return NULL;
                t->not_null = true;
            } else if (punct(tp, '*')) {
                if (word(tp, "ROWTIME"))
                    t->is_rowtime = true;
                else if (word(tp, "PROCTIME"))
                    t->is_proctime = true;
                else
                    return NULL;
                if (!punct(tp, '*'))
                    return NULL;
            } else if (word(tp, "NULL")) {
                /* "INT NULL": nullable, the default */
            } else {
                break;
            }
        }
    }
    tp->depth--;
    return t;
}

const sl_type *sl_functions_parse_type(const char *text, sl_arena *arena,
                                       sl_err *err)
{
    tparse tp = {.s = text ? text : "", .arena = arena, .err = err};
    const sl_type *t = parse_type(&tp);
    skip_ws(&tp);
    if (!t || *tp.s) {
        sl_err_set(err, SL_ERROR, "'%.80s' is not a SQL type",
                   text ? text : "");
        return NULL;
    }
    return t;
}

/* ---- values
 * ------------------------------------------------------------------ */

/* A value on its way through a cast: a storage class and its payload.
 * TEXT/BLOB point to memory owned elsewhere (the argument or a buffer). */
typedef struct cval {
    int kind; /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB,
                 SQLITE_NULL */
    int64_t i;
    double d;
    const char *s;
    size_t n;
    bool json; /* TEXT holding JSON for a collection */
} cval;

typedef struct cast_ctx {
    sl_buf *out; /* holds built TEXT/BLOB results */
    char why[200];
    bool null_result; /* Flink gives NULL (e.g. DECIMAL overflow) */
} cast_ctx;

static const char *type_name(const sl_type *t, char *buf, size_t size)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_type_format(t, &b);
    sl_strlcpy(buf, b.rc == SL_OK && b.data ? b.data : "?", size);
    sl_buf_free(&b);
    return buf;
}

static bool fail(cast_ctx *cc, const char *fmt, const char *arg)
{
    sl_snprintf(cc->why, sizeof(cc->why), fmt, arg);
    return false;
}

static void trim_text(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t' || **s == '\n' || **s == '\r')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' ||
                  (*s)[*n - 1] == '\n' || (*s)[*n - 1] == '\r'))
        (*n)--;
}

static bool is_time_type(const sl_type *t)
{
    return t->id == SL_TYPE_TIMESTAMP || t->id == SL_TYPE_TIMESTAMP_LTZ;
}

/* Truncate epoch ms to a precision below 3 digits. */
static int64_t cut_precision(int64_t ms, int precision)
{
    if (precision >= 3)
        return ms;
    int64_t q = precision == 2 ? 10 : (precision == 1 ? 100 : 1000);
    return sl_fn_floor_div(ms, q) * q;
}

static bool text_to_ts(const char *s, size_t n, int64_t *ms)
{
    trim_text(&s, &n);
    return sl_parse_timestamp(s, n, ms) == SL_OK;
}

/* Integer range of an integer type. */
static void int_range(sl_type_id id, int64_t *lo, int64_t *hi)
{
    switch (id) {
    case SL_TYPE_TINYINT:
        *lo = -128;
        *hi = 127;
        break;
    case SL_TYPE_SMALLINT:
        *lo = -32768;
        *hi = 32767;
        break;
    case SL_TYPE_INT:
        *lo = INT32_MIN;
        *hi = INT32_MAX;
        break;
    default:
        *lo = INT64_MIN;
        *hi = INT64_MAX;
    }
}

static bool cast_json(const sl_type *from, const sl_type *to, const cval *in,
                      cval *out, cast_ctx *cc, int depth);

/* Text of a non-text value as Flink prints it. */
static bool to_text(const sl_type *from, const cval *in, sl_buf *b)
{
    if (in->kind == SQLITE_INTEGER &&
        ((from->id == SL_TYPE_DATE &&
          (in->i > 100000000000LL || in->i < -100000000000LL)) ||
         (from->id == SL_TYPE_TIME &&
          (in->i > 1000000000000LL || in->i < -1000000000000LL)) ||
         (is_time_type(from) &&
          (in->i > SL_FN_TS_LIMIT || in->i < -SL_FN_TS_LIMIT))))
        return false;
    sl_value v = {.kind = (uint8_t)in->kind};
    if (in->kind == SQLITE_INTEGER)
        v.u.i = in->i;
    else if (in->kind == SQLITE_FLOAT)
        v.u.d = in->d;
    sl_value_format(from, &v, b, NULL);
    return b->rc == SL_OK;
}

static bool cast_scalar(const sl_type *from, const sl_type *to, const cval *in,
                        cval *out, cast_ctx *cc, int depth)
{
    char tn[96];
    *out = (cval){.kind = SQLITE_NULL};
    if (in->kind == SQLITE_NULL)
        return true;
    bool text = in->kind == SQLITE_TEXT || in->kind == SQLITE_BLOB;
    switch (to->id) {
    case SL_TYPE_NULL:
        return true;
    case SL_TYPE_BOOLEAN:
        if (text) {
            const char *s = in->s;
            size_t n = in->n;
            trim_text(&s, &n);
            static const char *yes[] = {"true", "t", "yes", "y", "1"};
            static const char *no[] = {"false", "f", "no", "n", "0"};
            for (int k = 0; k < 5; k++) {
                if (sl_str_nieq(s, n, yes[k])) {
                    *out = (cval){.kind = SQLITE_INTEGER, .i = 1};
                    return true;
                }
                if (sl_str_nieq(s, n, no[k])) {
                    *out = (cval){.kind = SQLITE_INTEGER, .i = 0};
                    return true;
                }
            }
            return fail(cc, "not a valid %s", "BOOLEAN");
        }
        if (sl_type_is_temporal(from))
            return fail(cc, "cannot cast %s to BOOLEAN",
                        type_name(from, tn, sizeof(tn)));
        *out =
            (cval){.kind = SQLITE_INTEGER,
                   .i = in->kind == SQLITE_INTEGER ? in->i != 0 : in->d != 0};
        return true;
    case SL_TYPE_TINYINT:
    case SL_TYPE_SMALLINT:
    case SL_TYPE_INT:
    case SL_TYPE_BIGINT: {
        int64_t v, lo, hi;
        int_range(to->id, &lo, &hi);
        const char *name = sl_type_id_name(to->id);
        if (text) {
            const char *s = in->s;
            size_t n = in->n;
            trim_text(&s, &n);
            double d;
            if (sl_parse_int64(s, n, &v) != SL_OK) {
                bool plain = n > 0;
                for (size_t k = 0; k < n; k++)
                    if (!strchr("0123456789+-.eE", s[k]))
                        plain = false;
                if (!plain || sl_parse_double(s, n, &d) != SL_OK ||
                    !isfinite(d))
                    return fail(cc, "not a valid %s", name);
                if (d >= 9.2233720368547758e18 || d < -9.2233720368547758e18)
                    return fail(cc, "out of range for %s", name);
                v = (int64_t)d;
            }
        } else if (in->kind == SQLITE_FLOAT) {
            if (!isfinite(in->d) || in->d >= 9.2233720368547758e18 ||
                in->d < -9.2233720368547758e18)
                return fail(cc, "out of range for %s", name);
            v = (int64_t)in->d;
        } else if (is_time_type(from)) {
            v = sl_fn_floor_div(in->i, 1000);
        } else if (from->id == SL_TYPE_DATE || from->id == SL_TYPE_TIME) {
            return fail(cc, "cannot cast %s to an integer type",
                        type_name(from, tn, sizeof(tn)));
        } else {
            v = in->i;
        }
        if (v < lo || v > hi)
            return fail(cc, "out of range for %s", name);
        *out = (cval){.kind = SQLITE_INTEGER, .i = v};
        return true;
    }
    case SL_TYPE_FLOAT:
    case SL_TYPE_DOUBLE:
    case SL_TYPE_DECIMAL: {
        double d;
        if (text) {
            const char *s = in->s;
            size_t n = in->n;
            trim_text(&s, &n);
            if (sl_parse_double(s, n, &d) != SL_OK)
                return fail(cc, "not a valid %s",
                            type_name(to, tn, sizeof(tn)));
        } else if (in->kind == SQLITE_FLOAT) {
            d = in->d;
        } else if (is_time_type(from)) {
            d = (double)in->i / 1000.0;
        } else if (from->id == SL_TYPE_DATE || from->id == SL_TYPE_TIME) {
            return fail(cc, "cannot cast %s to a number",
                        type_name(from, tn, sizeof(tn)));
        } else {
            d = (double)in->i;
        }
        if (to->id == SL_TYPE_FLOAT)
            d = (double)(float)d;
        if (to->id == SL_TYPE_DECIMAL) {
            if (!isfinite(d))
                return fail(cc, "not a valid %s",
                            type_name(to, tn, sizeof(tn)));
            d = sl_fn_decimal_round(d, to->scale, true);
            int digits = to->precision - to->scale;
            if (digits < 0 || fabs(d) >= pow(10.0, digits)) {
                cc->null_result = true; /* Flink: overflow gives NULL */
                return true;
            }
        }
        *out = (cval){.kind = SQLITE_FLOAT, .d = d};
        return true;
    }
    case SL_TYPE_CHAR:
    case SL_TYPE_VARCHAR: {
        sl_buf *b = cc->out;
        size_t start = b->len;
        if (text)
            sl_buf_append(b, in->s, in->n);
        else if (!to_text(from, in, b))
            return fail(cc, "%s",
                        b->rc == SL_OK ? "out of range" : "out of memory");
        const unsigned char *s = (const unsigned char *)b->data + start;
        int64_t n = (int64_t)(b->len - start);
        if (!b->data) {
            s = (const unsigned char *)"";
            n = 0;
        }
        if (to->precision < SL_TYPE_MAX_LEN) {
            int64_t chars = sl_fn_utf8_len(s, n);
            if (chars > to->precision) {
                b->len = start + (size_t)sl_fn_utf8_offset(s, n, to->precision);
                if (b->data)
                    b->data[b->len] = '\0';
            } else if (to->id == SL_TYPE_CHAR) {
                for (int64_t k = chars; k < to->precision; k++)
                    sl_buf_putc(b, ' ');
            }
        }
        if (b->rc != SL_OK)
            return fail(cc, "%s", "result too long");
        *out = (cval){.kind = SQLITE_TEXT,
                      .s = b->data ? b->data + start : "",
                      .n = b->len - start};
        return true;
    }
    case SL_TYPE_BINARY:
    case SL_TYPE_VARBINARY: {
        if (!text)
            return fail(cc, "cannot cast %s to a binary type",
                        type_name(from, tn, sizeof(tn)));
        sl_buf *b = cc->out;
        size_t start = b->len;
        size_t n = in->n;
        if (to->precision < SL_TYPE_MAX_LEN && n > (size_t)to->precision)
            n = (size_t)to->precision;
        sl_buf_append(b, in->s, n);
        if (to->id == SL_TYPE_BINARY)
            for (size_t k = n; k < (size_t)to->precision && b->rc == SL_OK; k++)
                sl_buf_putc(b, '\0');
        if (b->rc != SL_OK)
            return fail(cc, "%s", "result too long");
        *out = (cval){.kind = SQLITE_BLOB,
                      .s = b->data ? b->data + start : "",
                      .n = b->len - start};
        return true;
    }
    case SL_TYPE_DATE: {
        int64_t v;
        if (text) {
            const char *s = in->s;
            size_t n = in->n;
            trim_text(&s, &n);
            int64_t ms;
            if (sl_parse_date(s, n, &v) != SL_OK) {
                if (!text_to_ts(s, n, &ms))
                    return fail(cc, "not a valid %s", "DATE");
                v = sl_fn_floor_div(ms, MS_PER_DAY);
            }
        } else if (is_time_type(from)) {
            v = sl_fn_floor_div(in->i, MS_PER_DAY);
        } else if (from->id == SL_TYPE_DATE) {
            v = in->i;
        } else {
            return fail(cc, "cannot cast %s to DATE",
                        type_name(from, tn, sizeof(tn)));
        }
        *out = (cval){.kind = SQLITE_INTEGER, .i = v};
        return true;
    }
    case SL_TYPE_TIME: {
        int64_t v;
        if (text) {
            const char *s = in->s;
            size_t n = in->n;
            trim_text(&s, &n);
            if (sl_parse_time(s, n, &v) != SL_OK) {
                if (!text_to_ts(s, n, &v))
                    return fail(cc, "not a valid %s", "TIME");
                v = sl_fn_floor_mod(v, MS_PER_DAY);
            }
        } else if (is_time_type(from) || from->id == SL_TYPE_TIME) {
            v = sl_fn_floor_mod(in->i, MS_PER_DAY);
        } else {
            return fail(cc, "cannot cast %s to TIME",
                        type_name(from, tn, sizeof(tn)));
        }
        *out = (cval){.kind = SQLITE_INTEGER,
                      .i = cut_precision(v, to->precision)};
        return true;
    }
    case SL_TYPE_TIMESTAMP:
    case SL_TYPE_TIMESTAMP_LTZ: {
        int64_t v;
        const char *name = sl_type_id_name(to->id);
        if (text) {
            if (!text_to_ts(in->s, in->n, &v))
                return fail(cc, "not a valid %s", name);
        } else if (from->id == SL_TYPE_DATE) {
            if (in->i > 106751991167LL || in->i < -106751991167LL)
                return fail(cc, "out of range for %s", name);
            v = in->i * MS_PER_DAY;
        } else if (is_time_type(from) || from->id == SL_TYPE_TIME) {
            v = in->i;
        } else if (in->kind == SQLITE_FLOAT) {
            double d = floor(in->d * 1000.0);
            if (!(d > -9.2e18 && d < 9.2e18))
                return fail(cc, "out of range for %s", name);
            v = (int64_t)d;
        } else if (sl_type_is_numeric(from) || from->id == SL_TYPE_NULL ||
                   sl_type_is_string(from)) {
            if (__builtin_mul_overflow(in->i, (int64_t)1000, &v))
                return fail(cc, "out of range for %s", name);
        } else {
            return fail(cc, "cannot cast %s to a timestamp",
                        type_name(from, tn, sizeof(tn)));
        }
        *out = (cval){.kind = SQLITE_INTEGER,
                      .i = cut_precision(v, to->precision)};
        return true;
    }
    case SL_TYPE_INTERVAL_DAY_TIME:
    case SL_TYPE_INTERVAL_YEAR_MONTH:
        if (in->kind != SQLITE_INTEGER)
            return fail(cc, "cannot cast %s to an INTERVAL",
                        type_name(from, tn, sizeof(tn)));
        *out = *in;
        return true;
    case SL_TYPE_ARRAY:
    case SL_TYPE_MAP:
    case SL_TYPE_ROW:
        if (in->kind != SQLITE_TEXT)
            return fail(cc, "cannot cast %s to a collection",
                        type_name(from, tn, sizeof(tn)));
        return cast_json(from, to, in, out, cc, depth);
    default:
        return fail(cc, "unsupported target type %s",
                    type_name(to, tn, sizeof(tn)));
    }
}

/* ---- collections ----------------------------------------------------------
 */

static bool json_to_cval(const json_t *j, cval *v, sl_buf *hold)
{
    switch (json_typeof(j)) {
    case JSON_INTEGER:
        *v = (cval){.kind = SQLITE_INTEGER, .i = json_integer_value(j)};
        return true;
    case JSON_REAL:
        *v = (cval){.kind = SQLITE_FLOAT, .d = json_real_value(j)};
        return true;
    case JSON_TRUE:
    case JSON_FALSE:
        *v = (cval){.kind = SQLITE_INTEGER, .i = json_is_true(j)};
        return true;
    case JSON_STRING:
        *v = (cval){.kind = SQLITE_TEXT,
                    .s = json_string_value(j),
                    .n = json_string_length(j)};
        return true;
    case JSON_NULL:
        *v = (cval){.kind = SQLITE_NULL};
        return true;
    default: {
        char *txt = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!txt)
            return false;
        size_t start = hold->len;
        sl_buf_puts(hold, txt);
        free(txt); /* sl: allow (jansson's buffer) */
        if (hold->rc != SL_OK)
            return false;
        *v = (cval){.kind = SQLITE_TEXT,
                    .s = hold->data + start,
                    .n = hold->len - start,
                    .json = true};
        return true;
    }
    }
}

static json_t *cval_to_json(const sl_type *to, const cval *v)
{
    switch (v->kind) {
    case SQLITE_INTEGER:
        if (to->id == SL_TYPE_BOOLEAN)
            return json_boolean(v->i);
        return json_integer(v->i);
    case SQLITE_FLOAT:
        return isfinite(v->d) ? json_real(v->d) : json_null();
    case SQLITE_TEXT:
        if (to->id == SL_TYPE_ARRAY || to->id == SL_TYPE_MAP ||
            to->id == SL_TYPE_ROW) {
            json_error_t e;
            json_t *j = json_loadb(v->s, v->n, JSON_DECODE_ANY, &e);
            if (j)
                return j;
        }
        return json_stringn_nocheck(v->s, v->n);
    case SQLITE_BLOB:
        return json_stringn_nocheck(v->s, v->n);
    default:
        return json_null();
    }
}

/* Cast one JSON element from type `from` (NULL: its own JSON type) to
 * `to`; returns a new reference or NULL with cc->why set. */
static json_t *cast_elem(const sl_type *from, const sl_type *to,
                         const json_t *e, cast_ctx *cc, int depth)
{
    sl_buf hold;
    sl_buf_init(&hold, SL_FN_MAX_RESULT);
    cval in, out;
    if (!json_to_cval(e, &in, &hold)) {
        sl_buf_free(&hold);
        fail(cc, "%s", "out of memory");
        return NULL;
    }
    const sl_type *f = from;
    if (!f || (in.kind == SQLITE_TEXT && !sl_type_is_string(f) && !in.json &&
               f->id != SL_TYPE_ARRAY && f->id != SL_TYPE_MAP &&
               f->id != SL_TYPE_ROW))
        f = sl_type_simple(in.kind == SQLITE_TEXT    ? SL_TYPE_VARCHAR
                           : in.kind == SQLITE_FLOAT ? SL_TYPE_DOUBLE
                                                     : SL_TYPE_BIGINT);
    if (json_is_boolean(e) && !from)
        f = sl_type_simple(SL_TYPE_BOOLEAN);
    if (in.json && to->id != SL_TYPE_ARRAY && to->id != SL_TYPE_MAP &&
        to->id != SL_TYPE_ROW && !sl_type_is_string(to)) {
        sl_buf_free(&hold);
        fail(cc, "%s", "a nested value does not fit the element type");
        return NULL;
    }
    cast_ctx inner = {.out = &hold};
    json_t *r = NULL;
    if (cast_scalar(f, to, &in, &out, &inner, depth + 1))
        r = inner.null_result ? json_null() : cval_to_json(to, &out);
    else
        sl_strlcpy(cc->why, inner.why, sizeof(cc->why));
    sl_buf_free(&hold);
    return r;
}

static bool cast_json(const sl_type *from, const sl_type *to, const cval *in,
                      cval *out, cast_ctx *cc, int depth)
{
    char tn[96];
    if (depth > TYPE_MAX_DEPTH)
        return fail(cc, "%s", "nesting too deep");
    json_error_t e;
    json_t *j = json_loadb(in->s, in->n, JSON_DECODE_ANY, &e);
    bool shape =
        j &&
        ((to->id == SL_TYPE_ARRAY && json_is_array(j)) ||
         (to->id == SL_TYPE_ROW && json_is_object(j)) ||
         (to->id == SL_TYPE_MAP && (json_is_object(j) || json_is_array(j))));
    if (!shape) {
        json_decref(j);
        return fail(cc, "not a valid %s", type_name(to, tn, sizeof(tn)));
    }
    bool same_kind = from->id == to->id;
    json_t *r = NULL;
    if (to->id == SL_TYPE_ARRAY) {
        r = json_array();
        for (size_t i = 0; r && i < json_array_size(j); i++) {
            json_t *c = cast_elem(same_kind ? from->elem : NULL, to->elem,
                                  json_array_get(j, i), cc, depth);
            if (!c) {
                json_decref(r);
                r = NULL;
                break;
            }
            json_array_append_new(r, c);
        }
    } else if (to->id == SL_TYPE_ROW) {
        r = json_object();
        for (int f = 0; r && f < to->n_fields; f++) {
            const char *name = to->fields[f].name;
            json_t *src = json_object_get(j, name);
            const sl_type *ft = NULL;
            if (!src && same_kind && f < from->n_fields)
                src = json_object_get(j, from->fields[f].name);
            if (same_kind && f < from->n_fields)
                ft = from->fields[f].type;
            json_t *c = src ? cast_elem(ft, to->fields[f].type, src, cc, depth)
                            : json_null();
            if (!c) {
                json_decref(r);
                r = NULL;
                break;
            }
            json_object_set_new(r, name, c);
        }
    } else { /* MAP: cast the values */
        r = json_deep_copy(j);
        const sl_type *vt = same_kind ? from->value : NULL;
        if (r && json_is_object(r)) {
            const char *k;
            json_t *v;
            void *tmp;
            json_object_foreach_safe(r, tmp, k, v)
            {
                json_t *c = cast_elem(vt, to->value, v, cc, depth);
                if (!c) {
                    json_decref(r);
                    r = NULL;
                    break;
                }
                json_object_set_new(r, k, c);
            }
        } else if (r) {
            for (size_t i = 0; i < json_array_size(r); i++) {
                json_t *pair = json_array_get(r, i);
                json_t *c = json_is_array(pair) && json_array_size(pair) == 2
                                ? cast_elem(vt, to->value,
                                            json_array_get(pair, 1), cc, depth)
                                : NULL;
                if (!c) {
                    if (!cc->why[0])
                        fail(cc, "not a valid %s",
                             type_name(to, tn, sizeof(tn)));
                    json_decref(r);
                    r = NULL;
                    break;
                }
                json_array_set_new(pair, 1, c);
            }
        }
    }
    json_decref(j);
    if (!r) {
        if (!cc->why[0])
            fail(cc, "%s", "out of memory");
        return false;
    }
    char *txt = json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(r);
    if (!txt)
        return fail(cc, "%s", "out of memory");
    size_t start = cc->out->len;
    sl_buf_puts(cc->out, txt);
    free(txt); /* sl: allow (jansson's buffer) */
    if (cc->out->rc != SL_OK)
        return fail(cc, "%s", "result too long");
    *out = (cval){.kind = SQLITE_TEXT,
                  .s = cc->out->data + start,
                  .n = cc->out->len - start,
                  .json = true};
    return true;
}

/* ---- the SQL functions
 * -------------------------------------------------------- */

typedef struct cached_type {
    sl_arena arena;
    const sl_type *type;
} cached_type;

static void cached_free(void *p)
{
    cached_type *c = p;
    if (!c)
        return;
    sl_arena_free(&c->arena);
    sl_free(c);
}

static const sl_type *type_arg(sqlite3_context *ctx, sqlite3_value **argv,
                               int i)
{
    cached_type *c = sqlite3_get_auxdata(ctx, i);
    if (c)
        return c->type;
    const char *text = (const char *)sqlite3_value_text(argv[i]);
    c = sl_calloc(1, sizeof(*c));
    if (!c) {
        sqlite3_result_error_nomem(ctx);
        return NULL;
    }
    sl_arena_init(&c->arena, 512, 1 << 20);
    sl_err err;
    sl_err_clear(&err);
    c->type = sl_functions_parse_type(text, &c->arena, &err);
    if (!c->type) {
        sl_fn_error(ctx, "%s: %s", sl_fn_name(ctx), err.msg);
        cached_free(c);
        return NULL;
    }
    sqlite3_set_auxdata(ctx, i, c, cached_free);
    c = sqlite3_get_auxdata(ctx, i);
    if (!c) {
        sqlite3_result_error_nomem(ctx);
        return NULL;
    }
    return c->type;
}

static void describe_value(sqlite3_value *v, char *out, size_t size)
{
    int t = sqlite3_value_type(v);
    if (t == SQLITE_TEXT) {
        const char *s = (const char *)sqlite3_value_text(v);
        int n = sqlite3_value_bytes(v);
        sl_snprintf(out, size, "'%.*s%s'", SL_MIN(n, 60), s ? s : "",
                    n > 60 ? "..." : "");
        for (char *p = out; *p; p++)
            if ((unsigned char)*p < 0x20)
                *p = '?';
    } else if (t == SQLITE_BLOB) {
        sl_snprintf(out, size, "<%d bytes>", sqlite3_value_bytes(v));
    } else {
        const char *s = (const char *)sqlite3_value_text(v);
        sl_snprintf(out, size, "%s", s ? s : "");
    }
}

static void cast(sqlite3_context *ctx, sqlite3_value **argv, bool try_cast)
{
    const sl_type *from = type_arg(ctx, argv, 1);
    if (!from)
        return;
    const sl_type *to = type_arg(ctx, argv, 2);
    if (!to)
        return;
    sqlite3_value *x = argv[0];
    cval in = {.kind = sqlite3_value_type(x)};
    switch (in.kind) {
    case SQLITE_NULL:
        return;
    case SQLITE_INTEGER:
        in.i = sqlite3_value_int64(x);
        break;
    case SQLITE_FLOAT:
        in.d = sqlite3_value_double(x);
        break;
    case SQLITE_TEXT:
        in.s = (const char *)sqlite3_value_text(x);
        in.n = (size_t)sqlite3_value_bytes(x);
        break;
    default:
        in.s = sqlite3_value_blob(x);
        in.n = (size_t)sqlite3_value_bytes(x);
        break;
    }
    if (!in.s && (in.kind == SQLITE_TEXT || in.kind == SQLITE_BLOB)) {
        in.s = "";
        in.n = 0;
    }
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    cast_ctx cc = {.out = &b};
    cval out;
    if (!cast_scalar(from, to, &in, &out, &cc, 0)) {
        if (!try_cast) {
            char val[96], tn[96];
            describe_value(x, val, sizeof(val));
            sl_fn_error(ctx, "CAST(%s AS %s): %s", val,
                        type_name(to, tn, sizeof(tn)), cc.why);
        }
        sl_buf_free(&b);
        return;
    }
    if (cc.null_result) {
        sl_buf_free(&b);
        return;
    }
    switch (out.kind) {
    case SQLITE_INTEGER:
        sqlite3_result_int64(ctx, out.i);
        break;
    case SQLITE_FLOAT:
        sqlite3_result_double(ctx, out.d);
        break;
    case SQLITE_TEXT:
        sqlite3_result_text64(ctx, out.s, out.n, SQLITE_TRANSIENT, SQLITE_UTF8);
        if (out.json)
            sqlite3_result_subtype(ctx, SL_FN_JSON_SUBTYPE);
        break;
    case SQLITE_BLOB:
        sqlite3_result_blob64(ctx, out.s, out.n, SQLITE_TRANSIENT);
        break;
    default:
        break;
    }
    sl_buf_free(&b);
}

static void fn_cast(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    cast(ctx, argv, false);
}

static void fn_try_cast(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    cast(ctx, argv, true);
}

const sl_function_info sl_fn_cast_table[] = {
    {"sl_cast", "sl_cast(x, from_type, to_type)", "to_type",
     "CAST(x AS to_type); an invalid value is an error", "cast", 3, 3,
     SL_FN_SUBTYPE, fn_cast},
    {"sl_try_cast", "sl_try_cast(x, from_type, to_type)", "to_type",
     "TRY_CAST(x AS to_type); an invalid value gives NULL", "cast", 3, 3,
     SL_FN_SUBTYPE, fn_try_cast},
    {0},
};
