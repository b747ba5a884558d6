/*
 * options.c: typed, validated access to WITH options (see options.h).
 */
#include <ctype.h>
#include <string.h>

#include "options.h"

static sl_option *find(const sl_options *opts, const char *key)
{
    for (int i = 0; i < opts->n; i++)
        if (!strcmp(opts->items[i].key, key))
            return &opts->items[i];
    return NULL;
}

const char *sl_options_get(sl_options *opts, const char *key)
{
    sl_option *o = find(opts, key);
    if (!o)
        return NULL;
    o->used = true;
    return o->value;
}

bool sl_options_has(const sl_options *opts, const char *key)
{
    return find(opts, key) != NULL;
}

void sl_options_mark(sl_options *opts, const char *key)
{
    sl_option *o = find(opts, key);
    if (o)
        o->used = true;
}

int sl_options_string(sl_options *opts, const char *key, const char *dflt,
                      const char **out, sl_err *err)
{
    SL_UNUSED(err);
    const char *v = sl_options_get(opts, key);
    *out = v ? v : dflt;
    return SL_OK;
}

int sl_options_required(sl_options *opts, const char *key, const char *what,
                        const char **out, sl_err *err)
{
    const char *v = sl_options_get(opts, key);
    if (!v)
        return sl_err_set(err, SL_SQL, "%s requires option '%s'", what, key);
    *out = v;
    return SL_OK;
}

int sl_options_int(sl_options *opts, const char *key, int64_t dflt, int64_t min,
                   int64_t max, int64_t *out, sl_err *err)
{
    const char *v = sl_options_get(opts, key);
    if (!v) {
        *out = dflt;
        return SL_OK;
    }
    int64_t n;
    if (sl_parse_int64(v, strlen(v), &n))
        return sl_err_set(err, SL_SQL,
                          "option '%s' must be an integer, got '%s'", key, v);
    if (n < min || n > max)
        return sl_err_set(err, SL_SQL,
                          "option '%s' must be between %lld and %lld, got %lld",
                          key, (long long)min, (long long)max, (long long)n);
    *out = n;
    return SL_OK;
}

int sl_options_double(sl_options *opts, const char *key, double dflt,
                      double min, double max, double *out, sl_err *err)
{
    const char *v = sl_options_get(opts, key);
    if (!v) {
        *out = dflt;
        return SL_OK;
    }
    double d;
    if (sl_parse_double(v, strlen(v), &d))
        return sl_err_set(err, SL_SQL, "option '%s' must be a number, got '%s'",
                          key, v);
    if (d < min || d > max)
        return sl_err_set(err, SL_SQL,
                          "option '%s' must be between %g and %g, got %g", key,
                          min, max, d);
    *out = d;
    return SL_OK;
}

int sl_options_bool(sl_options *opts, const char *key, bool dflt, bool *out,
                    sl_err *err)
{
    const char *v = sl_options_get(opts, key);
    if (!v) {
        *out = dflt;
        return SL_OK;
    }
    if (sl_str_ieq(v, "true")) {
        *out = true;
    } else if (sl_str_ieq(v, "false")) {
        *out = false;
    } else {
        return sl_err_set(err, SL_SQL,
                          "option '%s' must be 'true' or 'false', got '%s'",
                          key, v);
    }
    return SL_OK;
}

int sl_options_enum(sl_options *opts, const char *key,
                    const char *const *choices, int dflt, int *out, sl_err *err)
{
    const char *v = sl_options_get(opts, key);
    if (!v) {
        *out = dflt;
        return SL_OK;
    }
    for (int i = 0; choices[i]; i++) {
        if (sl_str_ieq(v, choices[i])) {
            *out = i;
            return SL_OK;
        }
    }
    sl_buf b;
    sl_buf_init(&b, 512);
    for (int i = 0; choices[i]; i++)
        sl_buf_printf(&b, "%s'%s'", i ? ", " : "", choices[i]);
    sl_err_set(err, SL_SQL, "option '%s' must be one of %s, got '%s'", key,
               sl_buf_cstr(&b), v);
    sl_buf_free(&b);
    return SL_SQL;
}

static int parse_scaled(const char *text, const char *const *units,
                        const int64_t *scale, int64_t *out)
{
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    const char *num = p;
    while (isdigit((unsigned char)*p))
        p++;
    if (p == num)
        return SL_ERROR;
    int64_t n;
    if (sl_parse_int64(num, (size_t)(p - num), &n))
        return SL_ERROR;
    while (isspace((unsigned char)*p))
        p++;
    size_t ulen = strlen(p);
    while (ulen && isspace((unsigned char)p[ulen - 1]))
        ulen--;
    for (int i = 0; units[i]; i++) {
        if (sl_str_nieq(p, ulen, units[i])) {
            if (scale[i] && n > INT64_MAX / scale[i])
                return SL_ERROR;
            *out = n * scale[i];
            return SL_OK;
        }
    }
    return SL_ERROR;
}

int sl_parse_duration_ms(const char *text, int64_t *out)
{
    static const char *const units[] = {
        "",     "ms",     "milli",   "millis", "millisecond", "milliseconds",
        "s",    "sec",    "secs",    "second", "seconds",     "min",
        "mins", "minute", "minutes", "h",      "hour",        "hours",
        "d",    "day",    "days",    NULL};
    static const int64_t scale[] = {
        1,     1,       1,       1,       1,        1,        1000,
        1000,  1000,    1000,    1000,    60000,    60000,    60000,
        60000, 3600000, 3600000, 3600000, 86400000, 86400000, 86400000};
    return parse_scaled(text, units, scale, out);
}

int sl_options_duration_ms(sl_options *opts, const char *key, int64_t dflt,
                           int64_t *out, sl_err *err)
{
    const char *v = sl_options_get(opts, key);
    if (!v) {
        *out = dflt;
        return SL_OK;
    }
    if (sl_parse_duration_ms(v, out))
        return sl_err_set(err, SL_SQL,
                          "option '%s' must be a duration such as '10 s' or "
                          "'500 ms', got '%s'",
                          key, v);
    return SL_OK;
}

int sl_options_bytes(sl_options *opts, const char *key, int64_t dflt,
                     int64_t *out, sl_err *err)
{
    static const char *const units[] = {"",  "b",  "kb", "k", "mb",
                                        "m", "gb", "g",  NULL};
    static const int64_t scale[] = {1,       1,       1024,       1024,
                                    1 << 20, 1 << 20, 1073741824, 1073741824};
    const char *v = sl_options_get(opts, key);
    if (!v) {
        *out = dflt;
        return SL_OK;
    }
    if (parse_scaled(v, units, scale, out))
        return sl_err_set(err, SL_SQL,
                          "option '%s' must be a size such as '16 mb', got "
                          "'%s'",
                          key, v);
    return SL_OK;
}

int sl_options_each_prefix(sl_options *opts, const char *prefix,
                           int (*fn)(void *ctx, const char *subkey,
                                     const char *value, sl_err *err),
                           void *ctx, sl_err *err)
{
    size_t plen = strlen(prefix);
    for (int i = 0; i < opts->n; i++) {
        sl_option *o = &opts->items[i];
        if (strncmp(o->key, prefix, plen))
            continue;
        o->used = true;
        int rc = fn(ctx, o->key + plen, o->value, err);
        if (rc)
            return rc;
    }
    return SL_OK;
}

int sl_options_check_unused(const sl_options *opts, const char *what,
                            const sl_option_def *defs, sl_err *err)
{
    for (int i = 0; i < opts->n; i++) {
        const sl_option *o = &opts->items[i];
        if (o->used)
            continue;
        const char *best = NULL;
        int best_d = 4;
        for (int j = 0; defs && defs[j].key; j++) {
            int d = sl_edit_distance(o->key, defs[j].key, 3);
            if (d < best_d) {
                best_d = d;
                best = defs[j].key;
            }
        }
        if (best)
            return sl_err_set(err, SL_SQL,
                              "unsupported option '%s' for %s (did you mean "
                              "'%s'?)",
                              o->key, what, best);
        return sl_err_set(err, SL_SQL, "unsupported option '%s' for %s", o->key,
                          what);
    }
    return SL_OK;
}
