/*
 * fn_regex.c: the regular-expression functions (REGEXP, REGEXP_REPLACE,
 * REGEXP_EXTRACT and friends) on PCRE2.
 *
 * Flink users write Java regular expressions; PCRE2 accepts the same
 * syntax for everything they commonly use (classes, lazy and possessive
 * quantifiers, lookaround, named groups, \d \w \s \b, inline flags), which
 * POSIX <regex.h> does not, hence the dependency (Debian libpcre2-dev).
 * A compiled pattern is cached per call site with sqlite3_set_auxdata, so
 * a constant pattern compiles once per statement. Matching runs with a
 * match limit and a depth limit, so a catastrophic pattern fails with a
 * message instead of hanging a stage. Replacement strings follow Java:
 * $n and ${name} insert a group, a backslash quotes the next character.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "fn_int.h"

#define MATCH_LIMIT 10000000
#define DEPTH_LIMIT 100000

typedef struct regex {
    pcre2_code *code;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
} regex;

static void regex_free(void *p)
{
    regex *re = p;
    if (!re)
        return;
    pcre2_match_data_free(re->md);
    pcre2_match_context_free(re->mctx);
    pcre2_code_free(re->code);
    sl_free(re);
}

/* The compiled pattern of argument i, cached per call site. */
static regex *regex_get(sqlite3_context *ctx, sqlite3_value **argv, int i)
{
    regex *re = sqlite3_get_auxdata(ctx, i);
    if (re)
        return re;
    const char *pat = (const char *)sqlite3_value_text(argv[i]);
    size_t n = (size_t)sqlite3_value_bytes(argv[i]);
    if (!pat)
        pat = "";
    re = sl_calloc(1, sizeof(*re));
    if (!re) {
        sqlite3_result_error_nomem(ctx);
        return NULL;
    }
    int errcode;
    PCRE2_SIZE erroff;
    re->code =
        pcre2_compile((PCRE2_SPTR)pat, n, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
                      &errcode, &erroff, NULL);
    if (!re->code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        sl_fn_error(ctx,
                    "%s: invalid regular expression '%.100s': %s at "
                    "offset %zu",
                    sl_fn_name(ctx), pat, (const char *)msg, (size_t)erroff);
        regex_free(re);
        return NULL;
    }
    re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
    re->mctx = pcre2_match_context_create(NULL);
    if (!re->md || !re->mctx) {
        regex_free(re);
        sqlite3_result_error_nomem(ctx);
        return NULL;
    }
    pcre2_set_match_limit(re->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(re->mctx, DEPTH_LIMIT);
    sqlite3_set_auxdata(ctx, i, re, regex_free);
    /* set_auxdata may have freed re already (on OOM); fetch it back */
    re = sqlite3_get_auxdata(ctx, i);
    if (!re)
        sqlite3_result_error_nomem(ctx);
    return re;
}

/* Run one match from offset; returns >0 on a match, 0 for none, -1 after
 * reporting an error. */
static int regex_match(sqlite3_context *ctx, regex *re, const char *s, size_t n,
                       size_t off, uint32_t opts)
{
    int rc =
        pcre2_match(re->code, (PCRE2_SPTR)s, n, off, opts, re->md, re->mctx);
    if (rc >= 0)
        return rc == 0 ? 1 : rc;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    PCRE2_UCHAR msg[160];
    pcre2_get_error_message(rc, msg, sizeof(msg));
    sl_fn_error(ctx, "%s: regular expression failed: %s", sl_fn_name(ctx),
                (const char *)msg);
    return -1;
}

static const char *text_of(sqlite3_value *v, size_t *n)
{
    const char *s = (const char *)sqlite3_value_text(v);
    *n = (size_t)sqlite3_value_bytes(v);
    if (!s) {
        *n = 0;
        return "";
    }
    return s;
}

/* REGEXP(s, pattern): TRUE when some part of s matches. */
static void fn_regexp(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    regex *re = regex_get(ctx, argv, 1);
    if (!re)
        return;
    size_t n;
    const char *s = text_of(argv[0], &n);
    int rc = regex_match(ctx, re, s, n, 0, 0);
    if (rc >= 0)
        sqlite3_result_int(ctx, rc > 0);
}

/* Next search offset after a match [m0, m1): past an empty match, step one
 * character. Returns false at the end. */
static bool advance(const char *s, size_t n, size_t m0, size_t m1, size_t *off)
{
    if (m1 > m0) {
        *off = m1;
        return true;
    }
    if (m1 >= n)
        return false;
    size_t k = m1 + 1;
    while (k < n && ((unsigned char)s[k] & 0xc0) == 0x80)
        k++;
    *off = k;
    return true;
}

static bool group_span(regex *re, int group, int rc, size_t *g0, size_t *g1)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->md);
    if (group >= rc || ov[2 * group] == PCRE2_UNSET)
        return false;
    *g0 = ov[2 * group];
    *g1 = ov[2 * group + 1];
    return true;
}

/* Append the Java-style replacement for the current match. */
static bool expand(sqlite3_context *ctx, regex *re, int rc, const char *s,
                   const char *r, size_t rn, sl_buf *b)
{
    uint32_t n_groups = 0;
    pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &n_groups);
    for (size_t i = 0; i < rn; i++) {
        char c = r[i];
        if (c == '\\') {
            if (i + 1 >= rn) {
                sl_fn_error(ctx, "REGEXP_REPLACE: replacement ends with a "
                                 "backslash");
                return false;
            }
            sl_buf_putc(b, r[++i]);
        } else if (c == '$') {
            int group = -1;
            if (i + 1 < rn && r[i + 1] == '{') {
                size_t e = i + 2;
                while (e < rn && r[e] != '}')
                    e++;
                if (e >= rn) {
                    sl_fn_error(ctx, "REGEXP_REPLACE: unterminated ${ in "
                                     "replacement");
                    return false;
                }
                char name[64];
                size_t len = SL_MIN(e - i - 2, sizeof(name) - 1);
                memcpy(name, r + i + 2, len);
                name[len] = '\0';
                group = pcre2_substring_number_from_name(re->code,
                                                         (PCRE2_SPTR)name);
                if (group < 0) {
                    sl_fn_error(ctx, "REGEXP_REPLACE: no group named '%s'",
                                name);
                    return false;
                }
                i = e;
            } else if (i + 1 < rn && r[i + 1] >= '0' && r[i + 1] <= '9') {
                group = r[++i] - '0';
                /* more digits while they name an existing group (Java) */
                while (i + 1 < rn && r[i + 1] >= '0' && r[i + 1] <= '9' &&
                       (uint32_t)(group * 10 + (r[i + 1] - '0')) <= n_groups) {
                    group = group * 10 + (r[++i] - '0');
                }
                if ((uint32_t)group > n_groups) {
                    sl_fn_error(ctx,
                                "REGEXP_REPLACE: replacement refers to group "
                                "%d, the pattern has %u",
                                group, n_groups);
                    return false;
                }
            } else {
                sl_fn_error(ctx, "REGEXP_REPLACE: '$' in the replacement "
                                 "must be followed by a group number or "
                                 "{name} (write \\$ for a dollar sign)");
                return false;
            }
            size_t g0, g1;
            if (group_span(re, group, rc, &g0, &g1))
                sl_buf_append(b, s + g0, g1 - g0);
        } else {
            sl_buf_putc(b, c);
        }
    }
    return true;
}

static void fn_regexp_replace(sqlite3_context *ctx, int argc,
                              sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    regex *re = regex_get(ctx, argv, 1);
    if (!re)
        return;
    size_t n, rn;
    const char *s = text_of(argv[0], &n);
    const char *r = text_of(argv[2], &rn);
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    size_t off = 0, copied = 0;
    for (;;) {
        int rc = regex_match(ctx, re, s, n, off, 0);
        if (rc < 0) {
            sl_buf_free(&b);
            return;
        }
        if (rc == 0)
            break;
        size_t m0 = 0, m1 = 0;
        group_span(re, 0, rc, &m0, &m1);
        sl_buf_append(&b, s + copied, m0 - copied);
        if (!expand(ctx, re, rc, s, r, rn, &b)) {
            sl_buf_free(&b);
            return;
        }
        copied = m1;
        if (b.rc != SL_OK || !advance(s, n, m0, m1, &off))
            break;
        if (m1 == m0 && off > copied) {
            sl_buf_append(&b, s + copied, off - copied);
            copied = off;
        }
    }
    if (copied < n)
        sl_buf_append(&b, s + copied, n - copied);
    sl_fn_result_buf(ctx, &b);
}

static bool group_arg(sqlite3_context *ctx, regex *re, sqlite3_value *v,
                      int64_t *group)
{
    if (!sl_fn_arg_int(ctx, v, "group index", group))
        return false;
    uint32_t n_groups = 0;
    pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &n_groups);
    if (*group < 0 || *group > (int64_t)n_groups) {
        sl_fn_error(ctx,
                    "%s: group index %lld out of range (the pattern has "
                    "%u groups)",
                    sl_fn_name(ctx), (long long)*group, n_groups);
        return false;
    }
    return true;
}

/* REGEXP_EXTRACT(s, pattern[, group]): group (default 0, the whole match)
 * of the first match; NULL when nothing matches. */
static void fn_regexp_extract(sqlite3_context *ctx, int argc,
                              sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    regex *re = regex_get(ctx, argv, 1);
    if (!re)
        return;
    int64_t group = 0;
    if (argc > 2 && !group_arg(ctx, re, argv[2], &group))
        return;
    size_t n, g0, g1;
    const char *s = text_of(argv[0], &n);
    int rc = regex_match(ctx, re, s, n, 0, 0);
    if (rc > 0 && group_span(re, (int)group, rc, &g0, &g1))
        sqlite3_result_text64(ctx, s + g0, g1 - g0, SQLITE_TRANSIENT,
                              SQLITE_UTF8);
}

static void json_str(sl_buf *b, const char *s, size_t n)
{
    sl_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            sl_buf_putc(b, '\\');
            sl_buf_putc(b, (char)c);
        } else if (c < 0x20) {
            sl_buf_printf(b, "\\u%04x", c);
        } else {
            sl_buf_putc(b, (char)c);
        }
    }
    sl_buf_putc(b, '"');
}

/* REGEXP_EXTRACT_ALL(s, pattern[, group]): group (default 1) of every
 * match, as a JSON array. */
static void fn_regexp_extract_all(sqlite3_context *ctx, int argc,
                                  sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    regex *re = regex_get(ctx, argv, 1);
    if (!re)
        return;
    int64_t group = 1;
    uint32_t n_groups = 0;
    pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &n_groups);
    if (n_groups == 0)
        group = 0;
    if (argc > 2 && !group_arg(ctx, re, argv[2], &group))
        return;
    size_t n, off = 0;
    const char *s = text_of(argv[0], &n);
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    sl_buf_putc(&b, '[');
    bool first = true;
    for (;;) {
        int rc = regex_match(ctx, re, s, n, off, 0);
        if (rc < 0) {
            sl_buf_free(&b);
            return;
        }
        if (rc == 0)
            break;
        size_t m0 = 0, m1 = 0, g0, g1;
        group_span(re, 0, rc, &m0, &m1);
        if (!first)
            sl_buf_putc(&b, ',');
        first = false;
        if (group_span(re, (int)group, rc, &g0, &g1))
            json_str(&b, s + g0, g1 - g0);
        else
            sl_buf_puts(&b, "null");
        if (b.rc != SL_OK || !advance(s, n, m0, m1, &off))
            break;
    }
    sl_buf_putc(&b, ']');
    sl_fn_result_buf(ctx, &b);
    sqlite3_result_subtype(ctx, SL_FN_JSON_SUBTYPE);
}

/* REGEXP_COUNT / REGEXP_INSTR / REGEXP_SUBSTR share one loop. */
static void regexp_scan(sqlite3_context *ctx, sqlite3_value **argv, int mode)
{
    regex *re = regex_get(ctx, argv, 1);
    if (!re)
        return;
    size_t n, off = 0;
    const char *s = text_of(argv[0], &n);
    int64_t count = 0;
    for (;;) {
        int rc = regex_match(ctx, re, s, n, off, 0);
        if (rc < 0)
            return;
        if (rc == 0)
            break;
        size_t m0 = 0, m1 = 0;
        group_span(re, 0, rc, &m0, &m1);
        if (mode == 1) {
            sqlite3_result_int64(
                ctx, sl_fn_utf8_len((const unsigned char *)s, (int64_t)m0) + 1);
            return;
        }
        if (mode == 2) {
            sqlite3_result_text64(ctx, s + m0, m1 - m0, SQLITE_TRANSIENT,
                                  SQLITE_UTF8);
            return;
        }
        count++;
        if (!advance(s, n, m0, m1, &off))
            break;
    }
    if (mode == 0)
        sqlite3_result_int64(ctx, count);
    else if (mode == 1)
        sqlite3_result_int(ctx, 0);
}

static void fn_regexp_count(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv)
{
    if (!sl_fn_any_null(argc, argv))
        regexp_scan(ctx, argv, 0);
}

static void fn_regexp_instr(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv)
{
    if (!sl_fn_any_null(argc, argv))
        regexp_scan(ctx, argv, 1);
}

static void fn_regexp_substr(sqlite3_context *ctx, int argc,
                             sqlite3_value **argv)
{
    if (!sl_fn_any_null(argc, argv))
        regexp_scan(ctx, argv, 2);
}

#define R(name, sig, ret, doc, lo, hi, flags, fn)                              \
    {                                                                          \
        name, sig, ret, doc, "string", lo, hi, flags, fn                       \
    }

const sl_function_info sl_fn_regex_table[] = {
    R("REGEXP", "REGEXP(s, pattern)", "BOOLEAN",
      "TRUE if some part of s matches the regular expression", 2, 2, 0,
      fn_regexp),
    R("REGEXP_REPLACE", "REGEXP_REPLACE(s, pattern, replacement)", "STRING",
      "every match of pattern replaced ($n inserts group n)", 3, 3, 0,
      fn_regexp_replace),
    R("REGEXP_EXTRACT", "REGEXP_EXTRACT(s, pattern[, group])", "STRING",
      "group (default 0: whole match) of the first match, NULL if none", 2, 3,
      0, fn_regexp_extract),
    R("REGEXP_EXTRACT_ALL", "REGEXP_EXTRACT_ALL(s, pattern[, group])",
      "ARRAY<STRING>", "group (default 1) of every match", 2, 3, SL_FN_SUBTYPE,
      fn_regexp_extract_all),
    R("REGEXP_COUNT", "REGEXP_COUNT(s, pattern)", "INT",
      "number of matches of pattern in s", 2, 2, 0, fn_regexp_count),
    R("REGEXP_INSTR", "REGEXP_INSTR(s, pattern)", "INT",
      "1-based position of the first match, 0 if none", 2, 2, 0,
      fn_regexp_instr),
    R("REGEXP_SUBSTR", "REGEXP_SUBSTR(s, pattern)", "STRING",
      "the first match of pattern in s, NULL if none", 2, 2, 0,
      fn_regexp_substr),
    {0},
};
