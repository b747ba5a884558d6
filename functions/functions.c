/*
 * functions.c: the function catalog and its registration on a connection.
 *
 * The catalog is the union of the per-group tables (fn_string.c,
 * fn_math.c, ...), joined once into one static NULL-terminated array. A
 * stage's connection gets every entry through sl_functions_register(),
 * once per allowed argument count so SQLite itself rejects a wrong count
 * when the statement is prepared. Also here: the small helpers every group
 * shares (errors naming the function, argument readers, UTF-8 walking).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "fn_int.h"

#define MAX_FUNCTIONS 512

static sl_function_info catalog[MAX_FUNCTIONS + 1];
static pthread_once_t catalog_once = PTHREAD_ONCE_INIT;

static void catalog_build(void)
{
    const sl_function_info *parts[] = {
        sl_fn_string_table, sl_fn_regex_table, sl_fn_hash_table,
        sl_fn_math_table,   sl_fn_cond_table,  sl_fn_time_table,
        sl_fn_json_table,   sl_fn_cast_table,
    };
    int n = 0;
    for (size_t p = 0; p < SL_ARRAY_LEN(parts); p++) {
        for (const sl_function_info *f = parts[p]; f->name; f++) {
            if (n < MAX_FUNCTIONS)
                catalog[n++] = *f;
        }
    }
    catalog[n].name = NULL;
}

const sl_function_info *sl_functions_list(void)
{
    pthread_once(&catalog_once, catalog_build);
    return catalog;
}

int sl_functions_register(sqlite3 *db, sl_err *err)
{
    if (!db)
        return sl_err_set(err, SL_MISUSE, "sl_functions_register: no db");
    for (const sl_function_info *f = sl_functions_list(); f->name; f++) {
        if (!f->impl)
            continue; /* a SQLite built-in listed for the catalog */
        int flags = SQLITE_UTF8 | SQLITE_INNOCUOUS;
        if (!(f->flags & SL_FN_VOLATILE))
            flags |= SQLITE_DETERMINISTIC;
        if (f->flags & SL_FN_SUBTYPE) {
            flags |= SQLITE_SUBTYPE;
#ifdef SQLITE_RESULT_SUBTYPE /* SQLite 3.45 and later */
            flags |= SQLITE_RESULT_SUBTYPE;
#endif
        }
        int lo = f->min_args, hi = f->max_args;
        if (hi < 0 || hi - lo > 8) {
            lo = -1;
            hi = -1;
        }
        for (int n = lo; n <= hi; n++) {
            int rc = sqlite3_create_function_v2(
                db, f->name, n, flags, (void *)f, f->impl, NULL, NULL, NULL);
            if (rc != SQLITE_OK)
                return sl_err_set(err, rc == SQLITE_NOMEM ? SL_NOMEM : SL_ERROR,
                                  "registering function %s: %s", f->name,
                                  sqlite3_errmsg(db));
        }
    }
    return sl_fn_aggregates_register(db, err);
}

/* ---- shared helpers ----------------------------------------------------- */

const char *sl_fn_name(sqlite3_context *ctx)
{
    const sl_function_info *f = sqlite3_user_data(ctx);
    return f ? f->name : "function";
}

void sl_fn_error(sqlite3_context *ctx, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';
    sqlite3_result_error(ctx, msg, -1);
}

void sl_fn_buf_error(sqlite3_context *ctx, const sl_buf *buf)
{
    if (buf->rc == SL_NOMEM)
        sqlite3_result_error_nomem(ctx);
    else
        sl_fn_error(ctx, "%s: result longer than %d bytes", sl_fn_name(ctx),
                    SL_FN_MAX_RESULT);
}

void sl_fn_result_buf(sqlite3_context *ctx, sl_buf *buf)
{
    if (buf->rc != SL_OK) {
        sl_fn_buf_error(ctx, buf);
        sl_buf_free(buf);
        return;
    }
    if (!buf->data) {
        sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
        return;
    }
    sqlite3_result_text64(ctx, buf->data, buf->len, sl_free, SQLITE_UTF8);
    buf->data = NULL;
    sl_buf_free(buf);
}

bool sl_fn_any_null(int argc, sqlite3_value **argv)
{
    for (int i = 0; i < argc; i++)
        if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
            return true;
    return false;
}

/* A short, printable excerpt of a value for error messages. */
static void excerpt(sqlite3_value *v, char *out, size_t size)
{
    const unsigned char *s = sqlite3_value_text(v);
    int n = sqlite3_value_bytes(v);
    size_t o = 0;
    for (int i = 0; s && i < n && o + 4 < size; i++)
        out[o++] = (s[i] >= 0x20 && s[i] != 0x7f) ? (char)s[i] : '?';
    if (s && n > 0 && o + 4 >= size) {
        out[o++] = '.';
        out[o++] = '.';
        out[o++] = '.';
    }
    out[o] = '\0';
}

bool sl_fn_arg_int(sqlite3_context *ctx, sqlite3_value *v, const char *what,
                   int64_t *out)
{
    switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
        *out = sqlite3_value_int64(v);
        return true;
    case SQLITE_FLOAT: {
        double d = sqlite3_value_double(v);
        if (d >= -9.2e18 && d <= 9.2e18) {
            *out = (int64_t)d;
            return true;
        }
        break;
    }
    case SQLITE_TEXT: {
        const char *s = (const char *)sqlite3_value_text(v);
        if (s &&
            sl_parse_int64(s, (size_t)sqlite3_value_bytes(v), out) == SL_OK)
            return true;
        break;
    }
    default:
        break;
    }
    char ex[48];
    excerpt(v, ex, sizeof(ex));
    sl_fn_error(ctx, "%s: %s must be an integer, got '%s'", sl_fn_name(ctx),
                what, ex);
    return false;
}

bool sl_fn_arg_double(sqlite3_context *ctx, sqlite3_value *v, const char *what,
                      double *out)
{
    switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
        *out = sqlite3_value_double(v);
        return true;
    case SQLITE_TEXT: {
        const char *s = (const char *)sqlite3_value_text(v);
        if (s &&
            sl_parse_double(s, (size_t)sqlite3_value_bytes(v), out) == SL_OK)
            return true;
        break;
    }
    default:
        break;
    }
    char ex[48];
    excerpt(v, ex, sizeof(ex));
    sl_fn_error(ctx, "%s: %s must be a number, got '%s'", sl_fn_name(ctx), what,
                ex);
    return false;
}

bool sl_fn_arg_ts(sqlite3_context *ctx, sqlite3_value *v, const char *what,
                  int64_t *out)
{
    switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
        *out = sqlite3_value_int64(v);
        if (*out < -SL_FN_TS_LIMIT || *out > SL_FN_TS_LIMIT) {
            sl_fn_error(ctx, "%s: %s %lld is out of the TIMESTAMP range",
                        sl_fn_name(ctx), what, (long long)*out);
            return false;
        }
        return true;
    case SQLITE_FLOAT: {
        double d = sqlite3_value_double(v);
        if (d >= -(double)SL_FN_TS_LIMIT && d <= (double)SL_FN_TS_LIMIT) {
            *out = (int64_t)d;
            return true;
        }
        break;
    }
    case SQLITE_TEXT: {
        const char *s = (const char *)sqlite3_value_text(v);
        if (s &&
            sl_parse_timestamp(s, (size_t)sqlite3_value_bytes(v), out) == SL_OK)
            return true;
        break;
    }
    default:
        break;
    }
    char ex[48];
    excerpt(v, ex, sizeof(ex));
    sl_fn_error(ctx, "%s: %s must be a TIMESTAMP, got '%s'", sl_fn_name(ctx),
                what, ex);
    return false;
}

int sl_fn_utf8_decode(const unsigned char *s, int64_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    int len;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2;
        v = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        v = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        v = c & 0x07;
    } else {
        *cp = 0xfffd;
        return 1;
    }
    if (n < len) {
        *cp = 0xfffd;
        return 1;
    }
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    *cp = v;
    return len;
}

int64_t sl_fn_utf8_len(const unsigned char *s, int64_t n_bytes)
{
    int64_t n = 0;
    for (int64_t i = 0; i < n_bytes; n++) {
        uint32_t cp;
        i += sl_fn_utf8_decode(s + i, n_bytes - i, &cp);
    }
    return n;
}

int64_t sl_fn_utf8_offset(const unsigned char *s, int64_t n_bytes, int64_t n)
{
    int64_t i = 0;
    for (int64_t k = 0; k < n && i < n_bytes; k++) {
        uint32_t cp;
        i += sl_fn_utf8_decode(s + i, n_bytes - i, &cp);
    }
    return i;
}

void sl_fn_utf8_put(sl_buf *buf, uint32_t cp)
{
    char b[4];
    if (cp < 0x80) {
        sl_buf_putc(buf, (char)cp);
        return;
    }
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        cp = 0xfffd;
    if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        sl_buf_append(buf, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        sl_buf_append(buf, b, 3);
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        sl_buf_append(buf, b, 4);
    }
}

void sl_fn_format_double(double d, char *out, size_t size)
{
    if (isnan(d)) {
        sl_snprintf(out, size, "NaN");
        return;
    }
    if (isinf(d)) {
        sl_snprintf(out, size, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        sl_snprintf(out, size, "%.*g", prec, d);
        double back = 0;
        if (sl_parse_double(out, strlen(out), &back) == SL_OK && back == d)
            break;
    }
    if (!strpbrk(out, ".eEn")) {
        size_t n = strlen(out);
        if (n + 2 < size) {
            out[n] = '.';
            out[n + 1] = '0';
            out[n + 2] = '\0';
        }
    }
}
