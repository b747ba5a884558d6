/*
 * fn_cond.c: conditional and predicate functions: IF, GREATEST, LEAST,
 * IS_ALPHA, IS_DIGIT, IS_DECIMAL, plus catalog entries for SQLite's own
 * COALESCE, IFNULL and NULLIF (same semantics as Flink, and lazily
 * evaluated by SQLite, so they are listed but not replaced).
 *
 * SQLite evaluates every argument of a function, so IF(c, a, b) evaluates
 * both branches; the planner should emit CASE WHEN c THEN a ELSE b END
 * when a branch may fail (docs/functions.md).
 */
#include <string.h>

#include "fn_int.h"

/* IF(c, a, b): a when c is true, else b (also when c is NULL). */
static void fn_if(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    int t = sqlite3_value_type(argv[0]);
    bool c = false;
    if (t == SQLITE_INTEGER)
        c = sqlite3_value_int64(argv[0]) != 0;
    else if (t == SQLITE_FLOAT)
        c = sqlite3_value_double(argv[0]) != 0;
    else if (t == SQLITE_TEXT) {
        const char *s = (const char *)sqlite3_value_text(argv[0]);
        c = s && (sl_str_ieq(s, "true") || sl_str_ieq(s, "1"));
    }
    sqlite3_result_value(ctx, argv[c ? 1 : 2]);
}

/* Order of two non-NULL values: numbers numerically, text by bytes,
 * numbers before text before blobs (SQLite's order). */
static int cmp_values(sqlite3_value *a, sqlite3_value *b)
{
    int ta = sqlite3_value_type(a), tb = sqlite3_value_type(b);
    bool na = ta == SQLITE_INTEGER || ta == SQLITE_FLOAT;
    bool nb = tb == SQLITE_INTEGER || tb == SQLITE_FLOAT;
    if (na && nb) {
        if (ta == SQLITE_INTEGER && tb == SQLITE_INTEGER) {
            int64_t x = sqlite3_value_int64(a), y = sqlite3_value_int64(b);
            return x < y ? -1 : x > y;
        }
        double x = sqlite3_value_double(a), y = sqlite3_value_double(b);
        return x < y ? -1 : x > y;
    }
    if (na != nb)
        return na ? -1 : 1;
    if (ta != tb)
        return ta < tb ? -1 : 1;
    const void *pa = ta == SQLITE_BLOB ? sqlite3_value_blob(a)
                                       : (const void *)sqlite3_value_text(a);
    const void *pb = tb == SQLITE_BLOB ? sqlite3_value_blob(b)
                                       : (const void *)sqlite3_value_text(b);
    int la = sqlite3_value_bytes(a), lb = sqlite3_value_bytes(b);
    int c = (pa && pb) ? memcmp(pa, pb, (size_t)SL_MIN(la, lb)) : 0;
    if (c)
        return c;
    return la < lb ? -1 : la > lb;
}

static void extreme(sqlite3_context *ctx, int argc, sqlite3_value **argv,
                    int sign)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int best = 0;
    for (int i = 1; i < argc; i++)
        if (cmp_values(argv[i], argv[best]) * sign > 0)
            best = i;
    sqlite3_result_value(ctx, argv[best]);
}

static void fn_greatest(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    extreme(ctx, argc, argv, 1);
}

static void fn_least(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    extreme(ctx, argc, argv, -1);
}

/* IS_ALPHA / IS_DIGIT: every character is a letter / a digit; FALSE for ''
 * and for NULL. */
static void char_class(sqlite3_context *ctx, sqlite3_value *v, bool digit)
{
    if (sqlite3_value_type(v) == SQLITE_NULL) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    const unsigned char *s = sqlite3_value_text(v);
    int64_t n = sqlite3_value_bytes(v);
    bool ok = s && n > 0;
    for (int64_t i = 0; ok && i < n;) {
        uint32_t cp;
        i += sl_fn_utf8_decode(s + i, n - i, &cp);
        if (digit)
            ok = cp >= '0' && cp <= '9';
        else
            ok = sl_fn_is_alpha(cp);
    }
    sqlite3_result_int(ctx, ok);
}

static void fn_is_alpha(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char_class(ctx, argv[0], false);
}

static void fn_is_digit(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char_class(ctx, argv[0], true);
}

/* IS_DECIMAL(s): s reads as a number; FALSE for NULL. */
static void fn_is_decimal(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    int t = sqlite3_value_type(argv[0]);
    if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) {
        sqlite3_result_int(ctx, 1);
        return;
    }
    if (t != SQLITE_TEXT) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    const char *s = (const char *)sqlite3_value_text(argv[0]);
    size_t n = (size_t)sqlite3_value_bytes(argv[0]);
    double d;
    bool ok = s && n > 0 && sl_parse_double(s, n, &d) == SL_OK;
    /* sl_parse_double accepts nan/inf spellings; a decimal does not */
    for (size_t i = 0; ok && i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' ||
              c == 'e' || c == 'E' || c == ' '))
            ok = false;
    }
    sqlite3_result_int(ctx, ok);
}

#define C(name, sig, ret, doc, lo, hi, fn)                                     \
    {                                                                          \
        name, sig, ret, doc, "conditional", lo, hi, 0, fn                      \
    }

const sl_function_info sl_fn_cond_table[] = {
    C("IF", "IF(c, a, b)", "type of a and b",
      "a if c is TRUE, else b (both are evaluated)", 3, 3, fn_if),
    C("COALESCE", "COALESCE(a, b, ...)", "type of the arguments",
      "the first non-NULL argument (SQLite built-in)", 2, -1, NULL),
    C("IFNULL", "IFNULL(a, b)", "type of the arguments",
      "a if it is not NULL, else b (SQLite built-in)", 2, 2, NULL),
    C("NULLIF", "NULLIF(a, b)", "type of a",
      "NULL if a = b, else a (SQLite built-in)", 2, 2, NULL),
    C("GREATEST", "GREATEST(a, b, ...)", "type of the arguments",
      "the largest argument; NULL if any is NULL", 1, -1, fn_greatest),
    C("LEAST", "LEAST(a, b, ...)", "type of the arguments",
      "the smallest argument; NULL if any is NULL", 1, -1, fn_least),
    C("IS_ALPHA", "IS_ALPHA(s)", "BOOLEAN",
      "TRUE if s is non-empty and all letters (FALSE for NULL)", 1, 1,
      fn_is_alpha),
    C("IS_DIGIT", "IS_DIGIT(s)", "BOOLEAN",
      "TRUE if s is non-empty and all digits 0-9 (FALSE for NULL)", 1, 1,
      fn_is_digit),
    C("IS_DECIMAL", "IS_DECIMAL(s)", "BOOLEAN",
      "TRUE if s reads as a number (FALSE for NULL)", 1, 1, fn_is_decimal),
    {0},
};
