/*
 * fn_string.c: Flink's string functions over SQLite TEXT.
 *
 * Positions and lengths count characters (UTF-8 code points), never bytes,
 * and are 1-based as in Flink. Case mapping is Unicode-aware through the
 * C.UTF-8 locale object (never the process locale). Results are built in
 * bounded sl_bufs (SL_FN_MAX_RESULT), so REPEAT or LPAD with a huge count
 * fails with a message instead of exhausting memory. The regular
 * expression functions live in fn_regex.c.
 */
#include <locale.h>
#include <pthread.h>
#include <string.h>
#include <wctype.h>

#include "fn_int.h"

typedef const unsigned char *ustr;

static ustr arg_text(sqlite3_value *v, int64_t *n)
{
    ustr s = sqlite3_value_text(v);
    *n = sqlite3_value_bytes(v);
    if (!s) {
        *n = 0;
        return (ustr) "";
    }
    return s;
}

/* ---- case mapping -------------------------------------------------------- */

static locale_t utf8_locale;
static pthread_once_t locale_once = PTHREAD_ONCE_INIT;

static void locale_init(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static uint32_t map_case(uint32_t cp, bool upper)
{
    pthread_once(&locale_once, locale_init);
    if (cp < 0x80 || !utf8_locale) {
        if (cp < 0x80)
            return upper ? (uint32_t)((cp >= 'a' && cp <= 'z') ? cp - 32 : cp)
                         : (uint32_t)((cp >= 'A' && cp <= 'Z') ? cp + 32 : cp);
        return cp;
    }
    return upper ? (uint32_t)towupper_l((wint_t)cp, utf8_locale)
                 : (uint32_t)towlower_l((wint_t)cp, utf8_locale);
}

static bool is_alnum_cp(uint32_t cp)
{
    pthread_once(&locale_once, locale_init);
    if (cp < 0x80 || !utf8_locale)
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
               (cp >= 'A' && cp <= 'Z');
    return iswalnum_l((wint_t)cp, utf8_locale) != 0;
}

bool sl_fn_is_alpha(uint32_t cp)
{
    pthread_once(&locale_once, locale_init);
    if (cp < 0x80 || !utf8_locale)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    return iswalpha_l((wint_t)cp, utf8_locale) != 0;
}

static void case_fn(sqlite3_context *ctx, sqlite3_value *v, int mode)
{
    int64_t n;
    ustr s = arg_text(v, &n);
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    bool word_start = true;
    for (int64_t i = 0; i < n;) {
        uint32_t cp;
        i += sl_fn_utf8_decode(s + i, n - i, &cp);
        if (mode == 2) { /* INITCAP */
            bool alnum = is_alnum_cp(cp);
            cp = map_case(cp, word_start && alnum);
            word_start = !alnum;
        } else if (mode == 1 && cp == 0xdf) {
            sl_buf_puts(&b, "SS"); /* as Java's toUpperCase */
            continue;
        } else {
            cp = map_case(cp, mode == 1);
        }
        sl_fn_utf8_put(&b, cp);
    }
    sl_fn_result_buf(ctx, &b);
}

static void fn_upper(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (!sl_fn_any_null(argc, argv))
        case_fn(ctx, argv[0], 1);
}

static void fn_lower(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (!sl_fn_any_null(argc, argv))
        case_fn(ctx, argv[0], 0);
}

static void fn_initcap(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (!sl_fn_any_null(argc, argv))
        case_fn(ctx, argv[0], 2);
}

/* ---- length, position, substrings ---------------------------------------- */

static void fn_char_length(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n;
    ustr s = arg_text(argv[0], &n);
    sqlite3_result_int64(ctx, sl_fn_utf8_len(s, n));
}

/* Character position (1-based) of needle in hay at or after character
 * `from` (1-based); 0 when absent. */
static int64_t find_chars(ustr hay, int64_t hn, ustr needle, int64_t nn,
                          int64_t from)
{
    int64_t off = sl_fn_utf8_offset(hay, hn, from - 1);
    if (from - 1 > 0 && off >= hn && nn > 0)
        return 0;
    for (int64_t i = off; i + nn <= hn; i++) {
        if ((hay[i] & 0xc0) == 0x80)
            continue;
        if (memcmp(hay + i, needle, (size_t)nn) == 0)
            return sl_fn_utf8_len(hay, i) + 1;
    }
    return 0;
}

/* POSITION(needle, hay): the planner's form of POSITION(needle IN hay). */
static void fn_position(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t nn, hn;
    ustr needle = arg_text(argv[0], &nn);
    ustr hay = arg_text(argv[1], &hn);
    sqlite3_result_int64(ctx, find_chars(hay, hn, needle, nn, 1));
}

static void fn_instr(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t nn, hn;
    ustr hay = arg_text(argv[0], &hn);
    ustr needle = arg_text(argv[1], &nn);
    sqlite3_result_int64(ctx, find_chars(hay, hn, needle, nn, 1));
}

static void fn_locate(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t nn, hn, from = 1;
    ustr needle = arg_text(argv[0], &nn);
    ustr hay = arg_text(argv[1], &hn);
    if (argc > 2 && !sl_fn_arg_int(ctx, argv[2], "start", &from))
        return;
    if (from < 1) {
        sqlite3_result_int64(ctx, 0);
        return;
    }
    sqlite3_result_int64(ctx, find_chars(hay, hn, needle, nn, from));
}

/* Flink's SUBSTRING(s, pos[, len]): pos 1-based, 0 acts as 1, negative
 * counts from the end; a negative length gives ''. */
static void fn_substring(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n, pos, len = INT64_MAX / 4;
    ustr s = arg_text(argv[0], &n);
    if (!sl_fn_arg_int(ctx, argv[1], "start", &pos))
        return;
    if (argc > 2 && !sl_fn_arg_int(ctx, argv[2], "length", &len))
        return;
    int64_t chars = sl_fn_utf8_len(s, n);
    if (pos < -(INT64_MAX / 4) || pos > INT64_MAX / 4)
        pos = pos < 0 ? -(INT64_MAX / 4) : INT64_MAX / 4;
    if (len > INT64_MAX / 4)
        len = INT64_MAX / 4;
    if (len < -(INT64_MAX / 4))
        len = -(INT64_MAX / 4);
    int64_t start = pos > 0 ? pos - 1 : (pos < 0 ? chars + pos : 0);
    int64_t end = start + len;
    if (start < 0)
        start = 0;
    if (end > chars)
        end = chars;
    if (start >= end) {
        sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
        return;
    }
    int64_t b0 = sl_fn_utf8_offset(s, n, start);
    int64_t b1 = b0 + sl_fn_utf8_offset(s + b0, n - b0, end - start);
    sqlite3_result_text64(ctx, (const char *)s + b0, (sqlite3_uint64)(b1 - b0),
                          SQLITE_TRANSIENT, SQLITE_UTF8);
}

static void fn_left(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n, k;
    ustr s = arg_text(argv[0], &n);
    if (!sl_fn_arg_int(ctx, argv[1], "length", &k))
        return;
    if (k < 0)
        k = 0;
    int64_t b = sl_fn_utf8_offset(s, n, k);
    sqlite3_result_text64(ctx, (const char *)s, (sqlite3_uint64)b,
                          SQLITE_TRANSIENT, SQLITE_UTF8);
}

static void fn_right(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n, k;
    ustr s = arg_text(argv[0], &n);
    if (!sl_fn_arg_int(ctx, argv[1], "length", &k))
        return;
    int64_t chars = sl_fn_utf8_len(s, n);
    if (k < 0)
        k = 0;
    if (k > chars)
        k = chars;
    int64_t b = sl_fn_utf8_offset(s, n, chars - k);
    sqlite3_result_text64(ctx, (const char *)s + b, (sqlite3_uint64)(n - b),
                          SQLITE_TRANSIENT, SQLITE_UTF8);
}

/* OVERLAY(s, r, pos[, len]): the form of OVERLAY(s PLACING r FROM pos FOR
 * len). len defaults to the length of r. */
static void fn_overlay(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n, rn, pos, len;
    ustr s = arg_text(argv[0], &n);
    ustr r = arg_text(argv[1], &rn);
    if (!sl_fn_arg_int(ctx, argv[2], "position", &pos))
        return;
    len = sl_fn_utf8_len(r, rn);
    if (argc > 3 && !sl_fn_arg_int(ctx, argv[3], "length", &len))
        return;
    if (pos < 1)
        pos = 1;
    if (len < 0)
        len = 0;
    int64_t b0 = sl_fn_utf8_offset(s, n, pos - 1);
    int64_t b1 = b0 + sl_fn_utf8_offset(s + b0, n - b0, len);
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    sl_buf_append(&b, s, (size_t)b0);
    sl_buf_append(&b, r, (size_t)rn);
    sl_buf_append(&b, s + b1, (size_t)(n - b1));
    sl_fn_result_buf(ctx, &b);
}

/* ---- building strings ---------------------------------------------------- */

/* CONCAT(a, ...): NULL when any argument is NULL (Flink). */
static void fn_concat(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    for (int i = 0; i < argc; i++) {
        int64_t n;
        ustr s = arg_text(argv[i], &n);
        sl_buf_append(&b, s, (size_t)n);
    }
    sl_fn_result_buf(ctx, &b);
}

/* CONCAT_WS(sep, a, ...): NULL sep gives NULL; NULL values are skipped. */
static void fn_concat_ws(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
        return;
    int64_t sn;
    ustr sep = arg_text(argv[0], &sn);
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    bool first = true;
    for (int i = 1; i < argc; i++) {
        if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
            continue;
        if (!first)
            sl_buf_append(&b, sep, (size_t)sn);
        first = false;
        int64_t n;
        ustr s = arg_text(argv[i], &n);
        sl_buf_append(&b, s, (size_t)n);
    }
    sl_fn_result_buf(ctx, &b);
}

static void pad(sqlite3_context *ctx, sqlite3_value **argv, bool left)
{
    int64_t n, pn, len;
    ustr s = arg_text(argv[0], &n);
    if (!sl_fn_arg_int(ctx, argv[1], "length", &len))
        return;
    ustr p = arg_text(argv[2], &pn);
    if (len < 0)
        return; /* NULL, as Flink */
    if (len > SL_FN_MAX_RESULT) {
        sl_fn_error(ctx, "%s: length %lld is larger than %d", sl_fn_name(ctx),
                    (long long)len, SL_FN_MAX_RESULT);
        return;
    }
    int64_t chars = sl_fn_utf8_len(s, n);
    if (len <= chars) {
        int64_t bn = sl_fn_utf8_offset(s, n, len);
        sqlite3_result_text64(ctx, (const char *)s, (sqlite3_uint64)bn,
                              SQLITE_TRANSIENT, SQLITE_UTF8);
        return;
    }
    int64_t pchars = sl_fn_utf8_len(p, pn);
    if (pchars == 0)
        return; /* NULL: cannot pad with '' */
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    if (!left)
        sl_buf_append(&b, s, (size_t)n);
    int64_t need = len - chars;
    while (need > 0 && b.rc == SL_OK) {
        int64_t take = need < pchars ? need : pchars;
        sl_buf_append(&b, p, (size_t)sl_fn_utf8_offset(p, pn, take));
        need -= take;
    }
    if (left)
        sl_buf_append(&b, s, (size_t)n);
    sl_fn_result_buf(ctx, &b);
}

static void fn_lpad(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (!sl_fn_any_null(argc, argv))
        pad(ctx, argv, true);
}

static void fn_rpad(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (!sl_fn_any_null(argc, argv))
        pad(ctx, argv, false);
}

static void fn_repeat(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n, k;
    ustr s = arg_text(argv[0], &n);
    if (!sl_fn_arg_int(ctx, argv[1], "count", &k))
        return;
    if (k <= 0 || n == 0) {
        sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
        return;
    }
    if (k > SL_FN_MAX_RESULT / n) {
        sl_fn_error(ctx, "REPEAT: result longer than %d bytes",
                    SL_FN_MAX_RESULT);
        return;
    }
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    for (int64_t i = 0; i < k && b.rc == SL_OK; i++)
        sl_buf_append(&b, s, (size_t)n);
    sl_fn_result_buf(ctx, &b);
}

static void fn_reverse(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n;
    ustr s = arg_text(argv[0], &n);
    char *out = sqlite3_malloc64((sqlite3_uint64)n + 1);
    if (!out) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    int64_t o = n;
    for (int64_t i = 0; i < n;) {
        uint32_t cp;
        int k = sl_fn_utf8_decode(s + i, n - i, &cp);
        o -= k;
        memcpy(out + o, s + i, (size_t)k);
        i += k;
    }
    out[n] = '\0';
    sqlite3_result_text64(ctx, out, (sqlite3_uint64)n, sqlite3_free,
                          SQLITE_UTF8);
}

/* REPLACE(s, from, to): every occurrence; an empty `from` changes
 * nothing. */
static void fn_replace(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n, fn, tn;
    ustr s = arg_text(argv[0], &n);
    ustr f = arg_text(argv[1], &fn);
    ustr t = arg_text(argv[2], &tn);
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    int64_t i = 0;
    while (i < n && b.rc == SL_OK) {
        if (fn > 0 && i + fn <= n && memcmp(s + i, f, (size_t)fn) == 0) {
            sl_buf_append(&b, t, (size_t)tn);
            i += fn;
        } else {
            sl_buf_putc(&b, (char)s[i++]);
        }
    }
    sl_fn_result_buf(ctx, &b);
}

/* ---- trimming ------------------------------------------------------------ */

static bool in_set(ustr set, int64_t sn, uint32_t cp)
{
    for (int64_t i = 0; i < sn;) {
        uint32_t c;
        i += sl_fn_utf8_decode(set + i, sn - i, &c);
        if (c == cp)
            return true;
    }
    return false;
}

static void trim(sqlite3_context *ctx, int argc, sqlite3_value **argv,
                 bool lead, bool trail)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n, sn = 1;
    ustr s = arg_text(argv[0], &n);
    ustr set = (ustr) " ";
    if (argc > 1)
        set = arg_text(argv[1], &sn);
    int64_t b0 = 0, b1 = n;
    if (lead) {
        while (b0 < n) {
            uint32_t cp;
            int k = sl_fn_utf8_decode(s + b0, n - b0, &cp);
            if (!in_set(set, sn, cp))
                break;
            b0 += k;
        }
    }
    if (trail) {
        while (b1 > b0) {
            int64_t st = b1 - 1;
            while (st > b0 && (s[st] & 0xc0) == 0x80 && b1 - st < 4)
                st--;
            uint32_t cp;
            sl_fn_utf8_decode(s + st, b1 - st, &cp);
            if (!in_set(set, sn, cp))
                break;
            b1 = st;
        }
    }
    sqlite3_result_text64(ctx, (const char *)s + b0, (sqlite3_uint64)(b1 - b0),
                          SQLITE_TRANSIENT, SQLITE_UTF8);
}

static void fn_trim(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    trim(ctx, argc, argv, true, true);
}

static void fn_ltrim(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    trim(ctx, argc, argv, true, false);
}

static void fn_rtrim(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    trim(ctx, argc, argv, false, true);
}

/* ---- splitting and small codes ------------------------------------------- */

/* SPLIT_INDEX(s, sep, i): the i-th (0-based) piece; NULL when out of
 * range. */
static void fn_split_index(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n, sn, idx;
    ustr s = arg_text(argv[0], &n);
    ustr sep = arg_text(argv[1], &sn);
    if (!sl_fn_arg_int(ctx, argv[2], "index", &idx))
        return;
    if (idx < 0)
        return;
    if (sn == 0) {
        if (idx == 0)
            sqlite3_result_text64(ctx, (const char *)s, (sqlite3_uint64)n,
                                  SQLITE_TRANSIENT, SQLITE_UTF8);
        return;
    }
    int64_t start = 0, k = 0;
    for (int64_t i = 0; i <= n; i++) {
        bool at_sep = i + sn <= n && memcmp(s + i, sep, (size_t)sn) == 0;
        if (at_sep || i == n) {
            if (k == idx) {
                sqlite3_result_text64(ctx, (const char *)s + start,
                                      (sqlite3_uint64)(i - start),
                                      SQLITE_TRANSIENT, SQLITE_UTF8);
                return;
            }
            k++;
            start = i + sn;
            i += sn - 1;
        }
    }
}

static void fn_ascii(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n;
    ustr s = arg_text(argv[0], &n);
    if (n == 0) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    uint32_t cp;
    sl_fn_utf8_decode(s, n, &cp);
    sqlite3_result_int64(ctx, cp);
}

/* CHR(n): the character with code n & 0xFF ('' for negative n). */
static void fn_chr(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t k;
    if (!sl_fn_arg_int(ctx, argv[0], "code", &k))
        return;
    if (k < 0) {
        sqlite3_result_text(ctx, "", 0, SQLITE_STATIC);
        return;
    }
    sl_buf b;
    sl_buf_init(&b, 8);
    uint32_t cp = (uint32_t)(k & 0xff);
    if (cp == 0)
        sl_buf_append(&b, "", 1);
    else
        sl_fn_utf8_put(&b, cp);
    sl_fn_result_buf(ctx, &b);
}

/* STR_TO_MAP(s[, pair_sep[, kv_sep]]): a JSON object (MAP<STRING,
 * STRING>). Delimiters are plain strings (default ',' and '='). */
static void json_quote(sl_buf *b, ustr s, int64_t n)
{
    sl_buf_putc(b, '"');
    for (int64_t i = 0; i < n; i++) {
        unsigned char c = s[i];
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

static void fn_str_to_map(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n, pn = 1, kn = 1;
    ustr s = arg_text(argv[0], &n);
    ustr ps = (ustr) ",", ks = (ustr) "=";
    if (argc > 1)
        ps = arg_text(argv[1], &pn);
    if (argc > 2)
        ks = arg_text(argv[2], &kn);
    if (pn == 0 || kn == 0) {
        sl_fn_error(ctx, "STR_TO_MAP: delimiters must not be empty");
        return;
    }
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    sl_buf_putc(&b, '{');
    int64_t start = 0;
    bool first = true;
    for (int64_t i = 0; i <= n && n > 0; i++) {
        bool at = i + pn <= n && memcmp(s + i, ps, (size_t)pn) == 0;
        if (!at && i != n)
            continue;
        ustr pair = s + start;
        int64_t len = i - start, kv = -1;
        for (int64_t j = 0; j + kn <= len; j++)
            if (memcmp(pair + j, ks, (size_t)kn) == 0) {
                kv = j;
                break;
            }
        if (!first)
            sl_buf_putc(&b, ',');
        first = false;
        if (kv < 0) {
            json_quote(&b, pair, len);
            sl_buf_puts(&b, ":null");
        } else {
            json_quote(&b, pair, kv);
            sl_buf_putc(&b, ':');
            json_quote(&b, pair + kv + kn, len - kv - kn);
        }
        start = i + pn;
        i += pn - 1;
    }
    sl_buf_putc(&b, '}');
    sl_fn_result_buf(ctx, &b);
    sqlite3_result_subtype(ctx, SL_FN_JSON_SUBTYPE);
}

/* ---- URLs ---------------------------------------------------------------- */

typedef struct url_parts {
    ustr proto, auth, userinfo, host, path, query, ref;
    int64_t proto_n, auth_n, userinfo_n, host_n, path_n, query_n, ref_n;
} url_parts;

static bool url_split(ustr s, int64_t n, url_parts *u)
{
    memset(u, 0, sizeof(*u));
    int64_t i = 0;
    while (i < n && s[i] != ':' && s[i] != '/' && s[i] != '?' && s[i] != '#')
        i++;
    if (i == 0 || i >= n || s[i] != ':')
        return false;
    u->proto = s;
    u->proto_n = i;
    i++;
    int64_t rest = i;
    if (i + 1 < n && s[i] == '/' && s[i + 1] == '/') {
        i += 2;
        int64_t a0 = i;
        while (i < n && s[i] != '/' && s[i] != '?' && s[i] != '#')
            i++;
        u->auth = s + a0;
        u->auth_n = i - a0;
        int64_t at = -1;
        for (int64_t j = 0; j < u->auth_n; j++)
            if (u->auth[j] == '@')
                at = j;
        u->host = u->auth;
        u->host_n = u->auth_n;
        if (at >= 0) {
            u->userinfo = u->auth;
            u->userinfo_n = at;
            u->host = u->auth + at + 1;
            u->host_n = u->auth_n - at - 1;
        }
        int64_t colon = -1;
        for (int64_t j = 0; j < u->host_n; j++) {
            if (u->host[j] == ']')
                colon = -1;
            if (u->host[j] == ':')
                colon = j;
        }
        if (colon >= 0)
            u->host_n = colon;
        rest = i;
    }
    int64_t p0 = rest;
    while (i < n && s[i] != '?' && s[i] != '#')
        i++;
    u->path = s + p0;
    u->path_n = i - p0;
    if (i < n && s[i] == '?') {
        int64_t q0 = ++i;
        while (i < n && s[i] != '#')
            i++;
        u->query = s + q0;
        u->query_n = i - q0;
    }
    if (i < n && s[i] == '#') {
        u->ref = s + i + 1;
        u->ref_n = n - i - 1;
    }
    return true;
}

static void result_part(sqlite3_context *ctx, ustr p, int64_t n)
{
    if (p)
        sqlite3_result_text64(ctx, (const char *)p, (sqlite3_uint64)n,
                              SQLITE_TRANSIENT, SQLITE_UTF8);
}

/* PARSE_URL(url, part[, key]): part is HOST, PATH, QUERY, REF, PROTOCOL,
 * FILE, AUTHORITY or USERINFO; with a key, the value of that query
 * parameter. NULL when the URL or the part is missing. */
static void fn_parse_url(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n, pn;
    ustr s = arg_text(argv[0], &n);
    const char *part = (const char *)arg_text(argv[1], &pn);
    url_parts u;
    if (!url_split(s, n, &u))
        return;
    if (sl_str_ieq(part, "HOST")) {
        result_part(ctx, u.host, u.host_n);
    } else if (sl_str_ieq(part, "PATH")) {
        result_part(ctx, u.path, u.path_n);
    } else if (sl_str_ieq(part, "REF")) {
        result_part(ctx, u.ref, u.ref_n);
    } else if (sl_str_ieq(part, "PROTOCOL")) {
        result_part(ctx, u.proto, u.proto_n);
    } else if (sl_str_ieq(part, "AUTHORITY")) {
        result_part(ctx, u.auth, u.auth_n);
    } else if (sl_str_ieq(part, "USERINFO")) {
        result_part(ctx, u.userinfo, u.userinfo_n);
    } else if (sl_str_ieq(part, "FILE")) {
        if (u.query)
            result_part(ctx, u.path, u.query + u.query_n - u.path);
        else
            result_part(ctx, u.path, u.path_n);
    } else if (sl_str_ieq(part, "QUERY")) {
        if (argc < 3) {
            result_part(ctx, u.query, u.query_n);
            return;
        }
        int64_t kn;
        ustr key = arg_text(argv[2], &kn);
        ustr q = u.query;
        int64_t i = 0;
        while (q && i < u.query_n) {
            int64_t e = i;
            while (e < u.query_n && q[e] != '&')
                e++;
            if (e - i > kn && q[i + kn] == '=' &&
                memcmp(q + i, key, (size_t)kn) == 0) {
                result_part(ctx, q + i + kn + 1, e - i - kn - 1);
                return;
            }
            i = e + 1;
        }
    } else {
        sl_fn_error(ctx,
                    "PARSE_URL: unknown part '%s' (expected HOST, PATH, "
                    "QUERY, REF, PROTOCOL, FILE, AUTHORITY or USERINFO)",
                    part);
    }
}

static void fn_url_encode(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n;
    ustr s = arg_text(argv[0], &n);
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    for (int64_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '*' ||
            c == '_')
            sl_buf_putc(&b, (char)c);
        else if (c == ' ')
            sl_buf_putc(&b, '+');
        else
            sl_buf_printf(&b, "%%%02X", c);
    }
    sl_fn_result_buf(ctx, &b);
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* URL_DECODE(s): NULL when s holds a malformed %-escape (as Flink). */
static void fn_url_decode(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t n;
    ustr s = arg_text(argv[0], &n);
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    for (int64_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            sl_buf_putc(&b, ' ');
        } else if (s[i] == '%') {
            int h = i + 2 < n ? hexval(s[i + 1]) : -1;
            int l = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (h < 0 || l < 0) {
                sl_buf_free(&b);
                return;
            }
            sl_buf_putc(&b, (char)(h * 16 + l));
            i += 2;
        } else {
            sl_buf_putc(&b, (char)s[i]);
        }
    }
    sl_fn_result_buf(ctx, &b);
}

#define S(name, sig, ret, doc, lo, hi, fn)                                     \
    {                                                                          \
        name, sig, ret, doc, "string", lo, hi, 0, fn                           \
    }

const sl_function_info sl_fn_string_table[] = {
    S("UPPER", "UPPER(s)", "STRING", "s in upper case (Unicode)", 1, 1,
      fn_upper),
    S("LOWER", "LOWER(s)", "STRING", "s in lower case (Unicode)", 1, 1,
      fn_lower),
    S("INITCAP", "INITCAP(s)", "STRING",
      "first letter of each word upper case, the rest lower case", 1, 1,
      fn_initcap),
    S("CHAR_LENGTH", "CHAR_LENGTH(s)", "INT", "number of characters in s", 1, 1,
      fn_char_length),
    S("CHARACTER_LENGTH", "CHARACTER_LENGTH(s)", "INT",
      "number of characters in s", 1, 1, fn_char_length),
    S("POSITION", "POSITION(needle, s)", "INT",
      "POSITION(needle IN s): 1-based position of needle in s, 0 if absent", 2,
      2, fn_position),
    S("INSTR", "INSTR(s, needle)", "INT",
      "1-based position of needle in s, 0 if absent", 2, 2, fn_instr),
    S("LOCATE", "LOCATE(needle, s[, start])", "INT",
      "position of needle in s at or after character start, 0 if absent", 2, 3,
      fn_locate),
    S("SUBSTRING", "SUBSTRING(s, start[, len])", "STRING",
      "SUBSTRING(s FROM start FOR len): len characters from start (1-based; "
      "negative counts from the end)",
      2, 3, fn_substring),
    S("SUBSTR", "SUBSTR(s, start[, len])", "STRING", "same as SUBSTRING", 2, 3,
      fn_substring),
    S("LEFT", "\"LEFT\"(s, n)", "STRING", "the first n characters of s", 2, 2,
      fn_left),
    S("RIGHT", "\"RIGHT\"(s, n)", "STRING", "the last n characters of s", 2, 2,
      fn_right),
    S("OVERLAY", "OVERLAY(s, r, pos[, len])", "STRING",
      "OVERLAY(s PLACING r FROM pos FOR len): replace len characters at pos "
      "with r",
      3, 4, fn_overlay),
    S("REPLACE", "REPLACE(s, from, to)", "STRING",
      "every occurrence of from in s replaced by to", 3, 3, fn_replace),
    S("CONCAT", "CONCAT(s1, s2, ...)", "STRING",
      "the arguments joined; NULL if any is NULL", 1, -1, fn_concat),
    S("CONCAT_WS", "CONCAT_WS(sep, s1, s2, ...)", "STRING",
      "the non-NULL arguments joined with sep; NULL if sep is NULL", 1, -1,
      fn_concat_ws),
    S("LPAD", "LPAD(s, len, pad)", "STRING",
      "s left-padded with pad (or cut) to len characters", 3, 3, fn_lpad),
    S("RPAD", "RPAD(s, len, pad)", "STRING",
      "s right-padded with pad (or cut) to len characters", 3, 3, fn_rpad),
    S("REPEAT", "REPEAT(s, n)", "STRING", "s repeated n times", 2, 2,
      fn_repeat),
    S("REVERSE", "REVERSE(s)", "STRING", "the characters of s reversed", 1, 1,
      fn_reverse),
    S("TRIM", "TRIM(s[, chars])", "STRING",
      "TRIM(BOTH chars FROM s): remove chars (default space) at both ends", 1,
      2, fn_trim),
    S("BTRIM", "BTRIM(s[, chars])", "STRING", "same as TRIM", 1, 2, fn_trim),
    S("LTRIM", "LTRIM(s[, chars])", "STRING",
      "TRIM(LEADING chars FROM s): remove chars (default space) at the start",
      1, 2, fn_ltrim),
    S("RTRIM", "RTRIM(s[, chars])", "STRING",
      "TRIM(TRAILING chars FROM s): remove chars (default space) at the end", 1,
      2, fn_rtrim),
    S("SPLIT_INDEX", "SPLIT_INDEX(s, sep, i)", "STRING",
      "the i-th (0-based) piece of s split at sep, NULL if out of range", 3, 3,
      fn_split_index),
    S("ASCII", "ASCII(s)", "INT", "code of the first character of s (0 if '')",
      1, 1, fn_ascii),
    S("CHR", "CHR(n)", "STRING", "the character with code n & 255", 1, 1,
      fn_chr),
    {"STR_TO_MAP", "STR_TO_MAP(s[, pair_sep[, kv_sep]])", "MAP<STRING, STRING>",
     "split s into key=value pairs (defaults ',' and '=')", "string", 1, 3,
     SL_FN_SUBTYPE, fn_str_to_map},
    S("PARSE_URL", "PARSE_URL(url, part[, key])", "STRING",
      "a part of url: HOST, PATH, QUERY (or one query parameter), REF, "
      "PROTOCOL, FILE, AUTHORITY, USERINFO",
      2, 3, fn_parse_url),
    S("URL_ENCODE", "URL_ENCODE(s)", "STRING",
      "s encoded as application/x-www-form-urlencoded", 1, 1, fn_url_encode),
    S("URL_DECODE", "URL_DECODE(s)", "STRING",
      "s decoded from application/x-www-form-urlencoded; NULL if malformed", 1,
      1, fn_url_decode),
    {0},
};
