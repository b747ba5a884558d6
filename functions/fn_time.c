/*
 * fn_time.c: temporal functions: the current time, DATE_FORMAT and the
 * parsers (TO_TIMESTAMP, TO_DATE, UNIX_TIMESTAMP), EXTRACT and its short
 * forms (YEAR, HOUR, ...), TIME_FLOOR/TIME_CEIL, TIMESTAMPADD,
 * TIMESTAMPDIFF and CONVERT_TZ.
 *
 * Time values are INTEGER epoch milliseconds in UTC (TIMESTAMP and
 * TIMESTAMP_LTZ alike); a TEXT argument is read as 'yyyy-MM-dd
 * HH:mm:ss[.fff]'. DATE arguments (days) are turned into timestamps by the
 * planner (sl_cast(d, 'DATE', 'TIMESTAMP(3)')); a TIME value (ms of day)
 * already is a timestamp on 1970-01-01. All calendar work uses the
 * proleptic Gregorian helpers of runtime/types.h, never the process time
 * zone. Patterns are Java's SimpleDateFormat / DateTimeFormatter letters
 * (yyyy MM dd HH mm ss SSS, MMM, EEE, a, ...). CONVERT_TZ reads the
 * system's tz database (TZif files under /usr/share/zoneinfo) itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fn_int.h"

#define MS_PER_DAY 86400000LL

typedef struct civil {
    int64_t y;
    unsigned m, d;
    int hh, mi, ss, ms;
    int64_t days;
} civil;

static void to_civil(int64_t ts, civil *c)
{
    c->days = sl_fn_floor_div(ts, MS_PER_DAY);
    int64_t msd = sl_fn_floor_mod(ts, MS_PER_DAY);
    sl_civil_from_days(c->days, &c->y, &c->m, &c->d);
    c->hh = (int)(msd / 3600000);
    c->mi = (int)(msd / 60000 % 60);
    c->ss = (int)(msd / 1000 % 60);
    c->ms = (int)(msd % 1000);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dm[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[(m - 1) % 12];
}

/* 1 = Monday .. 7 = Sunday */
static int iso_dow(int64_t days)
{
    return (int)sl_fn_floor_mod(days + 3, 7) + 1;
}

static int day_of_year(const civil *c)
{
    return (int)(c->days - sl_days_from_civil(c->y, 1, 1)) + 1;
}

static int iso_weeks_in_year(int64_t y)
{
    int jan1 = iso_dow(sl_days_from_civil(y, 1, 1));
    return (jan1 == 4 || (jan1 == 3 && is_leap(y))) ? 53 : 52;
}

static void iso_week(const civil *c, int64_t *week_year, int *week)
{
    int w = (day_of_year(c) - iso_dow(c->days) + 10) / 7;
    int64_t y = c->y;
    if (w < 1) {
        y--;
        w = iso_weeks_in_year(y);
    } else if (w > iso_weeks_in_year(y)) {
        y++;
        w = 1;
    }
    *week_year = y;
    *week = w;
}

/* ---- patterns ------------------------------------------------------------ */

static const char *month_names[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
static const char *day_names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                  "Friday", "Saturday", "Sunday"};

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void put_num(sl_buf *out, int64_t v, int width)
{
    if (v < 0) {
        sl_buf_putc(out, '-');
        v = -v;
    }
    sl_buf_printf(out, "%0*lld", width, (long long)v);
}

int sl_fn_time_format(int64_t ts, const char *pat, sl_buf *out, sl_err *err)
{
    civil c;
    to_civil(ts, &c);
    for (size_t i = 0; pat[i];) {
        char ch = pat[i];
        if (ch == '\'') {
            if (pat[i + 1] == '\'') {
                sl_buf_putc(out, '\'');
                i += 2;
                continue;
            }
            i++;
            while (pat[i] && !(pat[i] == '\'' && pat[i + 1] != '\'')) {
                if (pat[i] == '\'')
                    i++;
                sl_buf_putc(out, pat[i++]);
            }
            if (pat[i] != '\'')
                return sl_err_set(err, SL_ERROR,
                                  "unterminated quote in pattern '%s'", pat);
            i++;
            continue;
        }
        if (!is_letter(ch)) {
            sl_buf_putc(out, ch);
            i++;
            continue;
        }
        int n = 0;
        while (pat[i] == ch) {
            n++;
            i++;
        }
        switch (ch) {
        case 'G':
            sl_buf_puts(out, c.y > 0 ? "AD" : "BC");
            break;
        case 'y':
        case 'Y':
        case 'u':
            if (ch == 'u' && n < 2) { /* day number of week */
                put_num(out, iso_dow(c.days), n);
                break;
            }
            if (n == 2)
                put_num(out, sl_fn_floor_mod(c.y, 100), 2);
            else
                put_num(out, c.y, n);
            break;
        case 'M':
        case 'L':
            if (n >= 4)
                sl_buf_puts(out, month_names[c.m - 1]);
            else if (n == 3)
                sl_buf_append(out, month_names[c.m - 1], 3);
            else
                put_num(out, c.m, n);
            break;
        case 'd':
            put_num(out, c.d, n);
            break;
        case 'D':
            put_num(out, day_of_year(&c), n);
            break;
        case 'E':
            if (n >= 4)
                sl_buf_puts(out, day_names[iso_dow(c.days) - 1]);
            else
                sl_buf_append(out, day_names[iso_dow(c.days) - 1], 3);
            break;
        case 'e':
            put_num(out, iso_dow(c.days), n);
            break;
        case 'w': {
            int64_t wy;
            int w;
            iso_week(&c, &wy, &w);
            put_num(out, w, n);
            break;
        }
        case 'a':
            sl_buf_puts(out, c.hh < 12 ? "AM" : "PM");
            break;
        case 'H':
            put_num(out, c.hh, n);
            break;
        case 'k':
            put_num(out, c.hh == 0 ? 24 : c.hh, n);
            break;
        case 'K':
            put_num(out, c.hh % 12, n);
            break;
        case 'h':
            put_num(out, c.hh % 12 == 0 ? 12 : c.hh % 12, n);
            break;
        case 'm':
            put_num(out, c.mi, n);
            break;
        case 's':
            put_num(out, c.ss, n);
            break;
        case 'S': {
            char frac[16];
            sl_snprintf(frac, sizeof(frac), "%03d000000", c.ms);
            sl_buf_append(out, frac, (size_t)SL_MIN(n, 9));
            for (int k = 9; k < n; k++)
                sl_buf_putc(out, '0');
            break;
        }
        case 'z':
            sl_buf_puts(out, "UTC");
            break;
        case 'Z':
            sl_buf_puts(out, n >= 4 ? "GMT" : "+0000");
            break;
        case 'X':
            sl_buf_putc(out, 'Z');
            break;
        case 'x':
            sl_buf_puts(out, n == 1 ? "+00" : (n == 2 ? "+0000" : "+00:00"));
            break;
        default:
            return sl_err_set(err, SL_ERROR,
                              "unknown pattern letter '%c' in '%s'", ch, pat);
        }
    }
    return out->rc == SL_OK ? SL_OK : sl_err_set(err, out->rc, "out of memory");
}

static bool numeric_letter(char c)
{
    return strchr("yYuMLdDHkKhmsSwe", c) != NULL;
}

/* Read an unsigned number of exactly `width` digits, or 1..max_w digits
 * when width is 0. */
static bool read_num(const char **p, const char *end, int width, int max_w,
                     int64_t *v, int *n_digits)
{
    int64_t x = 0;
    int k = 0;
    int lim = width ? width : max_w;
    while (*p < end && k < lim && **p >= '0' && **p <= '9') {
        x = x * 10 + (**p - '0');
        (*p)++;
        k++;
    }
    if (k == 0 || (width && k != width))
        return false;
    *v = x;
    if (n_digits)
        *n_digits = k;
    return true;
}

static int match_name(const char **p, const char *end, const char **names,
                      int count)
{
    for (int full = 1; full >= 0; full--) {
        for (int i = 0; i < count; i++) {
            size_t len = full ? strlen(names[i]) : 3;
            if ((size_t)(end - *p) >= len &&
                strncasecmp(*p, names[i], len) == 0) {
                *p += len;
                return i;
            }
        }
    }
    return -1;
}

/* Parse a zone offset: Z, UTC, GMT, +HH, +HHMM, +HH:MM (seconds). */
static bool read_zone(const char **p, const char *end, int64_t *off_s)
{
    const char *s = *p;
    if (s < end && (*s == 'Z' || *s == 'z')) {
        *p = s + 1;
        *off_s = 0;
        return true;
    }
    if (end - s >= 3 &&
        (strncasecmp(s, "UTC", 3) == 0 || strncasecmp(s, "GMT", 3) == 0)) {
        s += 3;
        *off_s = 0;
        if (s >= end || (*s != '+' && *s != '-')) {
            *p = s;
            return true;
        }
    }
    if (s >= end || (*s != '+' && *s != '-'))
        return false;
    int sign = *s == '-' ? -1 : 1;
    s++;
    int64_t h, m = 0;
    int nd;
    if (!read_num(&s, end, 0, 2, &h, &nd))
        return false;
    if (s < end && *s == ':')
        s++;
    if (s < end && *s >= '0' && *s <= '9' && !read_num(&s, end, 2, 2, &m, 0))
        return false;
    if (h > 18 || m > 59)
        return false;
    *off_s = sign * (h * 3600 + m * 60);
    *p = s;
    return true;
}

/* Check a pattern's letters and quotes before using it. */
static int pattern_check(const char *pat, sl_err *err)
{
    for (size_t i = 0; pat[i]; i++) {
        if (pat[i] == '\'') {
            i++;
            while (pat[i] && !(pat[i] == '\'' && pat[i + 1] != '\'')) {
                if (pat[i] == '\'')
                    i++;
                i++;
            }
            if (!pat[i] && i > 0 && pat[i - 1] != '\'')
                return sl_err_set(err, SL_ERROR,
                                  "unterminated quote in pattern '%s'", pat);
            if (!pat[i])
                break;
            continue;
        }
        if (is_letter(pat[i]) && !strchr("GyYuMLdDEewakKhHmsSzZXx", pat[i]))
            return sl_err_set(err, SL_ERROR,
                              "unknown pattern letter '%c' in '%s'", pat[i],
                              pat);
    }
    return SL_OK;
}

int sl_fn_time_parse(const char *text, size_t len, const char *pat,
                     int64_t *epoch_ms, sl_err *err)
{
    if (pattern_check(pat, err) != SL_OK)
        return SL_ERROR;
    const char *p = text, *end = text + len;
    int64_t y = 1970, mo = 1, d = 1, hh = 0, mi = 0, ss = 0, ms = 0, off = 0;
    int pm = -1;
    bool h12 = false;
    for (size_t i = 0; pat[i];) {
        char ch = pat[i];
        if (ch == '\'') {
            i++;
            if (pat[i] == '\'') {
                if (p >= end || *p != '\'')
                    goto mismatch;
                p++;
                i++;
                continue;
            }
            while (pat[i] && !(pat[i] == '\'' && pat[i + 1] != '\'')) {
                if (pat[i] == '\'')
                    i++;
                if (p >= end || *p != pat[i])
                    goto mismatch;
                p++;
                i++;
            }
            if (pat[i] == '\'')
                i++;
            continue;
        }
        if (!is_letter(ch)) {
            if (p >= end || *p != ch)
                goto mismatch;
            p++;
            i++;
            continue;
        }
        int n = 0;
        while (pat[i] == ch) {
            n++;
            i++;
        }
        /* adjacent numeric fields take exactly their width */
        int width = numeric_letter(ch) && numeric_letter(pat[i]) ? n : 0;
        int64_t v;
        int nd = 0;
        switch (ch) {
        case 'y':
        case 'Y':
        case 'u':
            if (!read_num(&p, end, width, n == 2 ? 2 : 9, &v, &nd))
                goto mismatch;
            y = (n == 2 && nd == 2) ? 2000 + v : v;
            break;
        case 'M':
        case 'L':
            if (n >= 3) {
                int k = match_name(&p, end, month_names, 12);
                if (k < 0)
                    goto mismatch;
                mo = k + 1;
            } else if (!read_num(&p, end, width, 2, &mo, 0)) {
                goto mismatch;
            }
            break;
        case 'd':
            if (!read_num(&p, end, width, 2, &d, 0))
                goto mismatch;
            break;
        case 'D':
            if (!read_num(&p, end, width, 3, &v, 0))
                goto mismatch;
            mo = 1;
            d = v; /* normalised below */
            break;
        case 'E':
            if (match_name(&p, end, day_names, 7) < 0)
                goto mismatch;
            break;
        case 'e':
        case 'w':
            if (!read_num(&p, end, width, 2, &v, 0))
                goto mismatch;
            break;
        case 'a':
            if (end - p >= 2 && strncasecmp(p, "AM", 2) == 0)
                pm = 0;
            else if (end - p >= 2 && strncasecmp(p, "PM", 2) == 0)
                pm = 1;
            else
                goto mismatch;
            p += 2;
            break;
        case 'H':
        case 'k':
        case 'K':
        case 'h':
            if (!read_num(&p, end, width, 2, &hh, 0))
                goto mismatch;
            if (ch == 'k' && hh == 24)
                hh = 0;
            if (ch == 'h' || ch == 'K') {
                h12 = true;
                if (hh > 12)
                    goto mismatch;
                if (hh == 12)
                    hh = 0;
            }
            break;
        case 'm':
            if (!read_num(&p, end, width, 2, &mi, 0))
                goto mismatch;
            break;
        case 's':
            if (!read_num(&p, end, width, 2, &ss, 0))
                goto mismatch;
            break;
        case 'S':
            if (!read_num(&p, end, width, 9, &v, &nd))
                goto mismatch;
            while (nd > 3) {
                v /= 10;
                nd--;
            }
            while (nd < 3) {
                v *= 10;
                nd++;
            }
            ms = v;
            break;
        case 'z':
        case 'Z':
        case 'X':
        case 'x':
            if (!read_zone(&p, end, &off))
                goto mismatch;
            break;
        case 'G':
            if (end - p >= 2 && strncasecmp(p, "AD", 2) == 0)
                p += 2;
            else
                goto mismatch;
            break;
        default:
            return sl_err_set(err, SL_ERROR,
                              "unknown pattern letter '%c' in '%s'", ch, pat);
        }
    }
    if (p != end)
        goto mismatch;
    if (h12 && pm == 1)
        hh += 12;
    if (mo < 1 || mo > 12 || hh > 23 || mi > 59 || ss > 59 || d < 1 ||
        y > 999999)
        goto mismatch;
    int64_t days;
    if (d > (int64_t)days_in_month(y, (unsigned)mo)) {
        /* only a day-of-year (D) may run past the month */
        if (mo != 1 || d > (is_leap(y) ? 366 : 365) || !strchr(pat, 'D'))
            goto mismatch;
        days = sl_days_from_civil(y, 1, 1) + d - 1;
    } else {
        days = sl_days_from_civil(y, (unsigned)mo, (unsigned)d);
    }
    *epoch_ms = days * MS_PER_DAY + hh * 3600000 + mi * 60000 + ss * 1000 + ms -
                off * 1000;
    return SL_OK;
mismatch:
    return sl_err_set(err, SL_ERROR, "'%.*s' does not match pattern '%s'",
                      (int)SL_MIN(len, 100), text, pat);
}

/* ---- current time -------------------------------------------------------- */

static void fn_now(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    sqlite3_result_int64(ctx, sl_now_ms());
}

static void fn_current_date(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv)
{
    sqlite3_result_int64(ctx, sl_fn_floor_div(sl_now_ms(), MS_PER_DAY));
}

static void fn_current_time(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv)
{
    /* TIME(0): whole seconds */
    sqlite3_result_int64(ctx, sl_fn_floor_mod(sl_now_ms(), MS_PER_DAY) / 1000 *
                                  1000);
}

/* ---- formatting and parsing ---------------------------------------------- */

static const char *text_arg(sqlite3_value *v, size_t *n)
{
    const char *s = (const char *)sqlite3_value_text(v);
    *n = (size_t)sqlite3_value_bytes(v);
    if (!s) {
        *n = 0;
        return "";
    }
    return s;
}

static void format_ts(sqlite3_context *ctx, int64_t ts, const char *pat)
{
    sl_buf b;
    sl_err err;
    sl_err_clear(&err);
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    if (sl_fn_time_format(ts, pat, &b, &err) != SL_OK) {
        sl_fn_error(ctx, "%s: %s", sl_fn_name(ctx), err.msg);
        sl_buf_free(&b);
        return;
    }
    sl_fn_result_buf(ctx, &b);
}

/* DATE_FORMAT(ts, pattern): ts as INTEGER epoch ms or timestamp text. */
static void fn_date_format(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t ts;
    if (!sl_fn_arg_ts(ctx, argv[0], "timestamp", &ts))
        return;
    size_t n;
    format_ts(ctx, ts, text_arg(argv[1], &n));
}

/* Parse text with an optional pattern; the default accepts
 * 'yyyy-MM-dd[ HH:mm[:ss[.f...]]]'. Returns SL_OK, SL_ERROR for text that
 * does not match (NULL result), -1 after reporting a bad pattern. */
static int parse_arg(sqlite3_context *ctx, int argc, sqlite3_value **argv,
                     int64_t *ts)
{
    size_t n, pn;
    const char *s = text_arg(argv[0], &n);
    if (argc < 2)
        return sl_parse_timestamp(s, n, ts);
    const char *pat = text_arg(argv[1], &pn);
    sl_err err;
    sl_err_clear(&err);
    if (sl_fn_time_parse(s, n, pat, ts, &err) == SL_OK)
        return SL_OK;
    if (strstr(err.msg, "pattern letter") || strstr(err.msg, "quote")) {
        sl_fn_error(ctx, "%s: %s", sl_fn_name(ctx), err.msg);
        return -1;
    }
    return SL_ERROR;
}

/* TO_TIMESTAMP(s[, pattern]): NULL when s does not match (Flink). */
static void fn_to_timestamp(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t ts;
    if (parse_arg(ctx, argc, argv, &ts) == SL_OK)
        sqlite3_result_int64(ctx, ts);
}

static void fn_to_date(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t ts;
    if (parse_arg(ctx, argc, argv, &ts) == SL_OK)
        sqlite3_result_int64(ctx, sl_fn_floor_div(ts, MS_PER_DAY));
}

/* TO_TIMESTAMP_LTZ(n[, precision]): n seconds (precision 0) or
 * milliseconds (3, the default) since the epoch; or text with a pattern. */
static void fn_to_timestamp_ltz(sqlite3_context *ctx, int argc,
                                sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int t = sqlite3_value_type(argv[0]);
    if (t == SQLITE_TEXT) {
        int64_t ts;
        if (parse_arg(ctx, argc, argv, &ts) == SL_OK)
            sqlite3_result_int64(ctx, ts);
        return;
    }
    int64_t prec = 3;
    if (argc > 1 && !sl_fn_arg_int(ctx, argv[1], "precision", &prec))
        return;
    if (prec != 0 && prec != 3) {
        sl_fn_error(ctx,
                    "TO_TIMESTAMP_LTZ: precision must be 0 or 3, got "
                    "%lld",
                    (long long)prec);
        return;
    }
    double d;
    if (!sl_fn_arg_double(ctx, argv[0], "epoch value", &d))
        return;
    if (prec == 0)
        d *= 1000;
    if (!(d > -9.2e18 && d < 9.2e18)) {
        sl_fn_error(ctx, "TO_TIMESTAMP_LTZ: %g is out of range", d);
        return;
    }
    if (t == SQLITE_INTEGER && prec == 3)
        sqlite3_result_int64(ctx, sqlite3_value_int64(argv[0]));
    else
        sqlite3_result_int64(ctx, (int64_t)floor(d));
}

/* UNIX_TIMESTAMP([s[, pattern]]): seconds since the epoch, now or of s
 * (default pattern 'yyyy-MM-dd HH:mm:ss'); NULL when s does not match. */
static void fn_unix_timestamp(sqlite3_context *ctx, int argc,
                              sqlite3_value **argv)
{
    if (argc == 0) {
        sqlite3_result_int64(ctx, sl_fn_floor_div(sl_now_ms(), 1000));
        return;
    }
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t ts;
    if (parse_arg(ctx, argc, argv, &ts) == SL_OK)
        sqlite3_result_int64(ctx, sl_fn_floor_div(ts, 1000));
}

/* FROM_UNIXTIME(n[, pattern]): seconds formatted (default 'yyyy-MM-dd
 * HH:mm:ss'). */
static void fn_from_unixtime(sqlite3_context *ctx, int argc,
                             sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t s;
    if (!sl_fn_arg_int(ctx, argv[0], "seconds", &s))
        return;
    if (s > SL_FN_TS_LIMIT / 1000 || s < -SL_FN_TS_LIMIT / 1000) {
        sl_fn_error(ctx, "FROM_UNIXTIME: %lld seconds is out of range",
                    (long long)s);
        return;
    }
    size_t n;
    format_ts(ctx, s * 1000,
              argc > 1 ? text_arg(argv[1], &n) : "yyyy-MM-dd HH:mm:ss");
}

/* ---- EXTRACT ------------------------------------------------------------- */

typedef enum unit {
    U_BAD,
    U_MILLENNIUM,
    U_CENTURY,
    U_DECADE,
    U_YEAR,
    U_ISOYEAR,
    U_QUARTER,
    U_MONTH,
    U_WEEK,
    U_DAY,
    U_DOY,
    U_DOW,
    U_ISODOW,
    U_HOUR,
    U_MINUTE,
    U_SECOND,
    U_MILLISECOND,
    U_MICROSECOND,
    U_NANOSECOND,
    U_EPOCH,
} unit;

static const struct {
    const char *name;
    unit u;
} unit_names[] = {
    {"MILLENNIUM", U_MILLENNIUM},
    {"CENTURY", U_CENTURY},
    {"DECADE", U_DECADE},
    {"YEAR", U_YEAR},
    {"ISOYEAR", U_ISOYEAR},
    {"QUARTER", U_QUARTER},
    {"MONTH", U_MONTH},
    {"WEEK", U_WEEK},
    {"DAY", U_DAY},
    {"DOY", U_DOY},
    {"DOW", U_DOW},
    {"ISODOW", U_ISODOW},
    {"HOUR", U_HOUR},
    {"MINUTE", U_MINUTE},
    {"SECOND", U_SECOND},
    {"MILLISECOND", U_MILLISECOND},
    {"MICROSECOND", U_MICROSECOND},
    {"NANOSECOND", U_NANOSECOND},
    {"EPOCH", U_EPOCH},
    {"DAYOFYEAR", U_DOY},
    {"DAYOFWEEK", U_DOW},
    {"DAYOFMONTH", U_DAY},
    {"YEARS", U_YEAR},
    {"MONTHS", U_MONTH},
    {"DAYS", U_DAY},
    {"HOURS", U_HOUR},
    {"MINUTES", U_MINUTE},
    {"SECONDS", U_SECOND},
    {"WEEKS", U_WEEK},
    {"QUARTERS", U_QUARTER},
    {"SQL_TSI_YEAR", U_YEAR},
    {"SQL_TSI_MONTH", U_MONTH},
    {"SQL_TSI_DAY", U_DAY},
    {"SQL_TSI_HOUR", U_HOUR},
    {"SQL_TSI_MINUTE", U_MINUTE},
    {"SQL_TSI_SECOND", U_SECOND},
};

static unit unit_of(sqlite3_value *v)
{
    const char *s = (const char *)sqlite3_value_text(v);
    if (!s)
        return U_BAD;
    for (size_t i = 0; i < SL_ARRAY_LEN(unit_names); i++)
        if (sl_str_ieq(s, unit_names[i].name))
            return unit_names[i].u;
    return U_BAD;
}

static bool unit_arg(sqlite3_context *ctx, sqlite3_value *v, unit *u)
{
    *u = unit_of(v);
    if (*u != U_BAD)
        return true;
    const char *s = (const char *)sqlite3_value_text(v);
    sl_fn_error(ctx, "%s: unknown time unit '%.40s'", sl_fn_name(ctx),
                s ? s : "");
    return false;
}

static int64_t extract(unit u, int64_t ts)
{
    civil c;
    to_civil(ts, &c);
    int64_t wy;
    int w;
    switch (u) {
    case U_MILLENNIUM:
        return c.y > 0 ? (c.y + 999) / 1000 : -((-c.y + 999) / 1000);
    case U_CENTURY:
        return c.y > 0 ? (c.y + 99) / 100 : -((-c.y + 99) / 100);
    case U_DECADE:
        return sl_fn_floor_div(c.y, 10);
    case U_YEAR:
        return c.y;
    case U_ISOYEAR:
        iso_week(&c, &wy, &w);
        return wy;
    case U_QUARTER:
        return (c.m + 2) / 3;
    case U_MONTH:
        return c.m;
    case U_WEEK:
        iso_week(&c, &wy, &w);
        return w;
    case U_DAY:
        return c.d;
    case U_DOY:
        return day_of_year(&c);
    case U_DOW:
        return iso_dow(c.days) % 7 + 1; /* 1 = Sunday */
    case U_ISODOW:
        return iso_dow(c.days);
    case U_HOUR:
        return c.hh;
    case U_MINUTE:
        return c.mi;
    case U_SECOND:
        return c.ss;
    case U_MILLISECOND:
        return c.ss * 1000 + c.ms;
    case U_MICROSECOND:
        return (c.ss * 1000 + c.ms) * 1000LL;
    case U_NANOSECOND:
        return (c.ss * 1000 + c.ms) * 1000000LL;
    case U_EPOCH:
        return sl_fn_floor_div(ts, 1000);
    default:
        return 0;
    }
}

/* EXTRACT(unit, ts): the form of EXTRACT(unit FROM ts). */
static void fn_extract(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    unit u;
    int64_t ts;
    if (unit_arg(ctx, argv[0], &u) &&
        sl_fn_arg_ts(ctx, argv[1], "timestamp", &ts))
        sqlite3_result_int64(ctx, extract(u, ts));
}

#define EXTRACT_FN(fname, u)                                                   \
    static void fname(sqlite3_context *ctx, int argc, sqlite3_value **argv)    \
    {                                                                          \
        int64_t ts;                                                            \
        if (!sl_fn_any_null(argc, argv) &&                                     \
            sl_fn_arg_ts(ctx, argv[0], "timestamp", &ts))                      \
            sqlite3_result_int64(ctx, extract(u, ts));                         \
    }

EXTRACT_FN(fn_year, U_YEAR)
EXTRACT_FN(fn_quarter, U_QUARTER)
EXTRACT_FN(fn_month, U_MONTH)
EXTRACT_FN(fn_week, U_WEEK)
EXTRACT_FN(fn_dayofyear, U_DOY)
EXTRACT_FN(fn_dayofmonth, U_DAY)
EXTRACT_FN(fn_dayofweek, U_DOW)
EXTRACT_FN(fn_hour, U_HOUR)
EXTRACT_FN(fn_minute, U_MINUTE)
EXTRACT_FN(fn_second, U_SECOND)

/* ---- arithmetic ------------------------------------------------------------
 */

static int64_t unit_ms(unit u)
{
    switch (u) {
    case U_WEEK:
        return 7 * MS_PER_DAY;
    case U_DAY:
        return MS_PER_DAY;
    case U_HOUR:
        return 3600000;
    case U_MINUTE:
        return 60000;
    case U_SECOND:
        return 1000;
    case U_MILLISECOND:
        return 1;
    default:
        return 0;
    }
}

static int64_t unit_months(unit u)
{
    switch (u) {
    case U_YEAR:
        return 12;
    case U_QUARTER:
        return 3;
    case U_MONTH:
        return 1;
    default:
        return 0;
    }
}

static bool add_months(int64_t ts, int64_t months, int64_t *out)
{
    if (months > 12000000 || months < -12000000)
        return false;
    civil c;
    to_civil(ts, &c);
    int64_t total = c.y * 12 + (c.m - 1) + months;
    int64_t y = sl_fn_floor_div(total, 12);
    unsigned m = (unsigned)(total - y * 12) + 1;
    unsigned d = SL_MIN(c.d, days_in_month(y, m));
    *out = sl_days_from_civil(y, m, d) * MS_PER_DAY +
           sl_fn_floor_mod(ts, MS_PER_DAY);
    return true;
}

/* TIMESTAMPADD(unit, n, ts): the form of TIMESTAMPADD(unit, n, ts) and of
 * ts + INTERVAL 'n' unit. Month arithmetic clamps the day to the month. */
static void fn_timestampadd(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    unit u;
    int64_t n, ts, out;
    if (!unit_arg(ctx, argv[0], &u) ||
        !sl_fn_arg_int(ctx, argv[1], "interval count", &n) ||
        !sl_fn_arg_ts(ctx, argv[2], "timestamp", &ts))
        return;
    if (u == U_MICROSECOND || u == U_NANOSECOND) {
        n /= u == U_MICROSECOND ? 1000 : 1000000;
        u = U_MILLISECOND;
    }
    if (unit_months(u)) {
        if (__builtin_mul_overflow(n, unit_months(u), &n) ||
            !add_months(ts, n, &out))
            goto overflow;
    } else if (unit_ms(u)) {
        if (__builtin_mul_overflow(n, unit_ms(u), &n) ||
            __builtin_add_overflow(ts, n, &out))
            goto overflow;
    } else {
        sl_fn_error(ctx, "TIMESTAMPADD: unit must be YEAR, QUARTER, MONTH, "
                         "WEEK, DAY, HOUR, MINUTE, SECOND or MILLISECOND");
        return;
    }
    sqlite3_result_int64(ctx, out);
    return;
overflow:
    sl_fn_error(ctx, "TIMESTAMPADD: result out of range");
}

static int64_t months_between(int64_t a, int64_t b)
{
    civil ca, cb;
    to_civil(a, &ca);
    to_civil(b, &cb);
    int64_t months = (cb.y * 12 + cb.m) - (ca.y * 12 + ca.m);
    int64_t ra = (ca.d - 1) * MS_PER_DAY + sl_fn_floor_mod(a, MS_PER_DAY);
    int64_t rb = (cb.d - 1) * MS_PER_DAY + sl_fn_floor_mod(b, MS_PER_DAY);
    if (months > 0 && rb < ra)
        months--;
    else if (months < 0 && rb > ra)
        months++;
    return months;
}

/* TIMESTAMPDIFF(unit, a, b): whole units from a to b (negative when b is
 * earlier). */
static void fn_timestampdiff(sqlite3_context *ctx, int argc,
                             sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    unit u;
    int64_t a, b;
    if (!unit_arg(ctx, argv[0], &u) ||
        !sl_fn_arg_ts(ctx, argv[1], "start", &a) ||
        !sl_fn_arg_ts(ctx, argv[2], "end", &b))
        return;
    if (unit_months(u)) {
        sqlite3_result_int64(ctx, months_between(a, b) / unit_months(u));
        return;
    }
    if (u == U_MICROSECOND || u == U_NANOSECOND || unit_ms(u)) {
        int64_t diff;
        if (__builtin_sub_overflow(b, a, &diff)) {
            sl_fn_error(ctx, "TIMESTAMPDIFF: result out of range");
            return;
        }
        if (u == U_MICROSECOND || u == U_NANOSECOND) {
            int64_t f = u == U_MICROSECOND ? 1000 : 1000000;
            if (__builtin_mul_overflow(diff, f, &diff)) {
                sl_fn_error(ctx, "TIMESTAMPDIFF: result out of range");
                return;
            }
            sqlite3_result_int64(ctx, diff);
            return;
        }
        sqlite3_result_int64(ctx, diff / unit_ms(u));
        return;
    }
    sl_fn_error(ctx, "TIMESTAMPDIFF: unit must be YEAR, QUARTER, MONTH, WEEK, "
                     "DAY, HOUR, MINUTE, SECOND or MILLISECOND");
}

/* Floor ts to a unit; WEEK starts on Sunday (as Calcite's FLOOR). */
static bool time_floor(unit u, int64_t ts, int64_t *out)
{
    civil c;
    to_civil(ts, &c);
    switch (u) {
    case U_MILLENNIUM:
    case U_CENTURY:
    case U_DECADE:
    case U_YEAR: {
        int64_t span =
            u == U_YEAR ? 1
                        : (u == U_DECADE ? 10 : (u == U_CENTURY ? 100 : 1000));
        int64_t y = sl_fn_floor_div(c.y - (span > 1 ? 1 : 0), span) * span +
                    (span > 1 ? 1 : 0);
        if (u == U_DECADE)
            y = sl_fn_floor_div(c.y, 10) * 10;
        *out = sl_days_from_civil(y, 1, 1) * MS_PER_DAY;
        return true;
    }
    case U_QUARTER:
        *out = sl_days_from_civil(c.y, (c.m - 1) / 3 * 3 + 1, 1) * MS_PER_DAY;
        return true;
    case U_MONTH:
        *out = sl_days_from_civil(c.y, c.m, 1) * MS_PER_DAY;
        return true;
    case U_WEEK: {
        int64_t days = c.days - iso_dow(c.days) % 7;
        *out = days * MS_PER_DAY;
        return true;
    }
    default: {
        int64_t ms = unit_ms(u);
        if (!ms)
            return false;
        *out = sl_fn_floor_div(ts, ms) * ms;
        return true;
    }
    }
}

static void floor_ceil(sqlite3_context *ctx, int argc, sqlite3_value **argv,
                       bool ceil_it)
{
    if (sl_fn_any_null(argc, argv))
        return;
    unit u;
    int64_t ts, out;
    if (!sl_fn_arg_ts(ctx, argv[0], "timestamp", &ts) ||
        !unit_arg(ctx, argv[1], &u))
        return;
    if (!time_floor(u, ts, &out)) {
        sl_fn_error(ctx, "%s: cannot round to unit '%s'", sl_fn_name(ctx),
                    (const char *)sqlite3_value_text(argv[1]));
        return;
    }
    if (ceil_it && out != ts) {
        int64_t next;
        if (unit_months(u) || u == U_DECADE || u == U_CENTURY ||
            u == U_MILLENNIUM) {
            int64_t months = u == U_DECADE       ? 120
                             : u == U_CENTURY    ? 1200
                             : u == U_MILLENNIUM ? 12000
                                                 : unit_months(u);
            if (!add_months(out, months, &next)) {
                sl_fn_error(ctx, "%s: result out of range", sl_fn_name(ctx));
                return;
            }
        } else if (__builtin_add_overflow(out, unit_ms(u), &next)) {
            sl_fn_error(ctx, "%s: result out of range", sl_fn_name(ctx));
            return;
        }
        out = next;
    }
    sqlite3_result_int64(ctx, out);
}

static void fn_time_floor(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    floor_ceil(ctx, argc, argv, false);
}

static void fn_time_ceil(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    floor_ceil(ctx, argc, argv, true);
}

/* ---- time zones ---------------------------------------------------------- */

#define TZ_MAX_TRANS 4096
#define TZ_MAX_TYPES 64

/* A POSIX TZ rule date: month, week (1-5, 5 = last), weekday (0 = Sun),
 * time of day in seconds. */
typedef struct tz_rule_date {
    int month, week, wday;
    int64_t secs;
} tz_rule_date;

typedef struct tz_zone {
    int n_trans;
    int64_t *trans; /* transition instants (s) */
    uint8_t *idx;   /* type index per transition */
    int n_types;
    int32_t offs[TZ_MAX_TYPES];
    int32_t first_off; /* before the first transition */
    bool has_rule;     /* footer: after the last transition */
    int32_t std_off, dst_off;
    bool has_dst;
    tz_rule_date start, end;
} tz_zone;

static void tz_free(void *p)
{
    tz_zone *z = p;
    if (!z)
        return;
    sl_free(z->trans);
    sl_free(z->idx);
    sl_free(z);
}

static int64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    if (n == 4)
        return (int32_t)(uint32_t)v;
    return (int64_t)v;
}

/* Parse "[+-]hh[:mm[:ss]]" (POSIX sign: positive is west). */
static bool posix_time(const char **p, int64_t *secs)
{
    int sign = 1;
    if (**p == '+' || **p == '-')
        sign = *(*p)++ == '-' ? -1 : 1;
    int64_t parts[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        if (**p < '0' || **p > '9')
            return k > 0;
        int64_t v = 0;
        while (**p >= '0' && **p <= '9' && v < 1000)
            v = v * 10 + (*(*p)++ - '0');
        parts[k] = v;
        *secs = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
        if (**p != ':')
            return true;
        (*p)++;
    }
    return true;
}

static bool posix_name(const char **p)
{
    if (**p == '<') {
        while (**p && **p != '>')
            (*p)++;
        if (**p != '>')
            return false;
        (*p)++;
        return true;
    }
    const char *s = *p;
    while ((**p >= 'A' && **p <= 'Z') || (**p >= 'a' && **p <= 'z'))
        (*p)++;
    return *p - s >= 3;
}

static bool posix_date(const char **p, tz_rule_date *d)
{
    if (**p != 'M')
        return false; /* Jn and n forms are not supported */
    (*p)++;
    int v[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        if (**p < '0' || **p > '9')
            return false;
        while (**p >= '0' && **p <= '9' && v[k] < 100)
            v[k] = v[k] * 10 + (*(*p)++ - '0');
        if (k < 2 && *(*p)++ != '.')
            return false;
    }
    d->month = v[0];
    d->week = v[1];
    d->wday = v[2];
    d->secs = 7200;
    if (d->month < 1 || d->month > 12 || d->week < 1 || d->week > 5 ||
        d->wday > 6)
        return false;
    if (**p == '/') {
        (*p)++;
        if (!posix_time(p, &d->secs))
            return false;
    }
    return true;
}

static void tz_parse_footer(tz_zone *z, const char *s)
{
    const char *p = s;
    int64_t std;
    if (!posix_name(&p) || !posix_time(&p, &std))
        return;
    z->std_off = (int32_t)-std;
    z->has_rule = true;
    if (!*p)
        return;
    int64_t dst = std - 3600;
    if (!posix_name(&p))
        return;
    if (*p != ',' && *p && !posix_time(&p, &dst))
        return;
    if (*p++ != ',' || !posix_date(&p, &z->start) || *p++ != ',' ||
        !posix_date(&p, &z->end))
        return;
    z->dst_off = (int32_t)-dst;
    z->has_dst = true;
}

/* Local seconds of a rule date in year y (in the zone's local time before
 * the change). */
static int64_t rule_instant(const tz_rule_date *d, int64_t y)
{
    int64_t first = sl_days_from_civil(y, (unsigned)d->month, 1);
    int dow = iso_dow(first) % 7; /* 0 = Sunday */
    int64_t day = first + (d->wday - dow + 7) % 7 + (d->week - 1) * 7;
    int64_t dim = days_in_month(y, (unsigned)d->month);
    while (day >= first + dim)
        day -= 7;
    return day * 86400 + d->secs;
}

static int32_t rule_offset(const tz_zone *z, int64_t t)
{
    if (!z->has_dst)
        return z->std_off;
    civil c;
    to_civil(t * 1000, &c);
    int64_t start = rule_instant(&z->start, c.y) - z->std_off;
    int64_t end = rule_instant(&z->end, c.y) - z->dst_off;
    bool dst = start < end ? (t >= start && t < end) : (t >= start || t < end);
    return dst ? z->dst_off : z->std_off;
}

/* Offset from UTC (seconds) of zone z at instant t (seconds). */
static int32_t tz_offset(const tz_zone *z, int64_t t)
{
    if (z->n_trans == 0 || t < z->trans[0])
        return z->n_trans == 0 && z->has_rule ? rule_offset(z, t)
                                              : z->first_off;
    if (t >= z->trans[z->n_trans - 1] && z->has_rule)
        return rule_offset(z, t);
    int lo = 0, hi = z->n_trans - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return z->offs[z->idx[lo] % z->n_types];
}

static bool tz_read_file(const char *path, unsigned char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t cap = 1 << 20, n = 0;
    unsigned char *buf = sl_malloc(cap);
    if (!buf) {
        close(fd);
        return false;
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == cap)
            break;
    }
    close(fd);
    *data = buf;
    *len = n;
    return true;
}

/* Parse a TZif file (version 2 or later: the 64-bit block and footer). */
static tz_zone *tz_parse(const unsigned char *d, size_t n)
{
    if (n < 44 || memcmp(d, "TZif", 4) != 0 || d[4] < '2')
        return NULL;
    int64_t cnt[6];
    for (int i = 0; i < 6; i++)
        cnt[i] = be(d + 20 + 4 * i, 4);
    /* skip the v1 block */
    /* isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt */
    int64_t v1 =
        cnt[3] * 5 + cnt[4] * 6 + cnt[5] + cnt[2] * 8 + cnt[1] + cnt[0];
    for (int i = 0; i < 6; i++)
        if (cnt[i] < 0 || cnt[i] > 100000)
            return NULL;
    size_t o = 44 + (size_t)v1;
    if (o + 44 > n || memcmp(d + o, "TZif", 4) != 0)
        return NULL;
    for (int i = 0; i < 6; i++)
        cnt[i] = be(d + o + 20 + 4 * i, 4);
    for (int i = 0; i < 6; i++)
        if (cnt[i] < 0 || cnt[i] > 100000)
            return NULL;
    int64_t isutc = cnt[0], isstd = cnt[1], leap = cnt[2], timecnt = cnt[3],
            typecnt = cnt[4], charcnt = cnt[5];
    o += 44;
    size_t need = (size_t)(timecnt * 9 + typecnt * 6 + charcnt + leap * 12 +
                           isstd + isutc);
    if (o + need > n || typecnt < 1 || typecnt > TZ_MAX_TYPES ||
        timecnt > TZ_MAX_TRANS)
        return NULL;
    tz_zone *z = sl_calloc(1, sizeof(*z));
    if (!z)
        return NULL;
    z->n_trans = (int)timecnt;
    z->n_types = (int)typecnt;
    z->trans = sl_malloc(sizeof(int64_t) * (size_t)(timecnt + 1));
    z->idx = sl_malloc((size_t)timecnt + 1);
    if (!z->trans || !z->idx) {
        tz_free(z);
        return NULL;
    }
    for (int64_t i = 0; i < timecnt; i++)
        z->trans[i] = be(d + o + 8 * i, 8);
    o += (size_t)timecnt * 8;
    memcpy(z->idx, d + o, (size_t)timecnt);
    o += (size_t)timecnt;
    for (int64_t i = 0; i < typecnt; i++)
        z->offs[i] = (int32_t)be(d + o + 6 * i, 4);
    z->first_off = z->offs[0];
    o += (size_t)typecnt * 6 + (size_t)charcnt + (size_t)leap * 12 +
         (size_t)isstd + (size_t)isutc;
    if (o < n && d[o] == '\n') {
        char footer[128];
        size_t k = 0;
        o++;
        while (o < n && d[o] != '\n' && k + 1 < sizeof(footer))
            footer[k++] = (char)d[o++];
        footer[k] = '\0';
        tz_parse_footer(z, footer);
    }
    return z;
}

/* A fixed offset: UTC, GMT, Z, +08:00, GMT+8, UTC-05:30. */
static bool fixed_zone(const char *name, int32_t *off)
{
    const char *p = name;
    if (sl_str_ieq(name, "UTC") || sl_str_ieq(name, "GMT") ||
        sl_str_ieq(name, "Z") || sl_str_ieq(name, "UT") ||
        sl_str_ieq(name, "Etc/UTC") || sl_str_ieq(name, "Etc/GMT")) {
        *off = 0;
        return true;
    }
    if (strncasecmp(p, "UTC", 3) == 0 || strncasecmp(p, "GMT", 3) == 0)
        p += 3;
    if (*p != '+' && *p != '-')
        return false;
    int64_t s;
    const char *q = p;
    if (!read_zone(&q, p + strlen(p), &s) || *q)
        return false;
    *off = (int32_t)s;
    return true;
}

static bool zone_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] == '/' || strstr(name, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '-' ||
              c == '+'))
            return false;
    }
    return true;
}

/* The zone of argument i, cached per call site. */
static tz_zone *zone_get(sqlite3_context *ctx, sqlite3_value **argv, int i)
{
    tz_zone *z = sqlite3_get_auxdata(ctx, i);
    if (z)
        return z;
    const char *name = (const char *)sqlite3_value_text(argv[i]);
    if (!name)
        name = "";
    int32_t off;
    if (fixed_zone(name, &off)) {
        z = sl_calloc(1, sizeof(*z));
        if (!z) {
            sqlite3_result_error_nomem(ctx);
            return NULL;
        }
        z->n_types = 1;
        z->first_off = z->offs[0] = off;
    } else if (zone_name_ok(name)) {
        char path[160];
        sl_snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
        unsigned char *data = NULL;
        size_t len = 0;
        if (tz_read_file(path, &data, &len)) {
            z = tz_parse(data, len);
            sl_free(data);
        }
    }
    if (!z) {
        sl_fn_error(ctx, "%s: unknown time zone '%.64s'", sl_fn_name(ctx),
                    name);
        return NULL;
    }
    sqlite3_set_auxdata(ctx, i, z, tz_free);
    z = sqlite3_get_auxdata(ctx, i);
    if (!z)
        sqlite3_result_error_nomem(ctx);
    return z;
}

/* UTC instant (ms) of a local time (ms) in zone z. */
static int64_t local_to_utc(const tz_zone *z, int64_t local_ms)
{
    int64_t t = sl_fn_floor_div(local_ms, 1000);
    int32_t off = tz_offset(z, t);
    int32_t off2 = tz_offset(z, t - off);
    if (off2 != off)
        off = off2;
    return local_ms - (int64_t)off * 1000;
}

/* CONVERT_TZ(s, from, to): the local time s in zone `from` as local time
 * in zone `to`, 'yyyy-MM-dd HH:mm:ss'. */
static void fn_convert_tz(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t ts;
    if (!sl_fn_arg_ts(ctx, argv[0], "timestamp", &ts))
        return;
    tz_zone *from = zone_get(ctx, argv, 1);
    if (!from)
        return;
    tz_zone *to = zone_get(ctx, argv, 2);
    if (!to)
        return;
    int64_t utc = local_to_utc(from, ts);
    int64_t local =
        utc + (int64_t)tz_offset(to, sl_fn_floor_div(utc, 1000)) * 1000;
    format_ts(ctx, local, "yyyy-MM-dd HH:mm:ss");
}

/* FROM_UTC_TIMESTAMP(ts, zone) / TO_UTC_TIMESTAMP(ts, zone): shift a
 * TIMESTAMP between UTC and a zone's local time. */
static void fn_from_utc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t ts;
    if (!sl_fn_arg_ts(ctx, argv[0], "timestamp", &ts))
        return;
    tz_zone *z = zone_get(ctx, argv, 1);
    if (z)
        sqlite3_result_int64(
            ctx, ts + (int64_t)tz_offset(z, sl_fn_floor_div(ts, 1000)) * 1000);
}

static void fn_to_utc(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t ts;
    if (!sl_fn_arg_ts(ctx, argv[0], "timestamp", &ts))
        return;
    tz_zone *z = zone_get(ctx, argv, 1);
    if (z)
        sqlite3_result_int64(ctx, local_to_utc(z, ts));
}

#define T(name, sig, ret, doc, lo, hi, fn)                                     \
    {                                                                          \
        name, sig, ret, doc, "temporal", lo, hi, 0, fn                         \
    }
#define TV(name, sig, ret, doc, lo, hi, fn)                                    \
    {                                                                          \
        name, sig, ret, doc, "temporal", lo, hi, SL_FN_VOLATILE, fn            \
    }

const sl_function_info sl_fn_time_table[] = {
    TV("NOW", "NOW()", "TIMESTAMP_LTZ(3)", "the current time (epoch ms)", 0, 0,
       fn_now),
    TV("sl_current_timestamp", "sl_current_timestamp()", "TIMESTAMP_LTZ(3)",
       "CURRENT_TIMESTAMP: the current time (epoch ms)", 0, 0, fn_now),
    TV("LOCALTIMESTAMP", "LOCALTIMESTAMP()", "TIMESTAMP(3)",
       "the current time in the session zone (UTC)", 0, 0, fn_now),
    TV("CURRENT_ROW_TIMESTAMP", "CURRENT_ROW_TIMESTAMP()", "TIMESTAMP_LTZ(3)",
       "the current time, evaluated per row", 0, 0, fn_now),
    TV("PROCTIME", "PROCTIME()", "TIMESTAMP_LTZ(3)",
       "processing time of the row (epoch ms)", 0, 0, fn_now),
    TV("sl_current_date", "sl_current_date()", "DATE",
       "CURRENT_DATE: today (days since the epoch, UTC)", 0, 0,
       fn_current_date),
    TV("sl_current_time", "sl_current_time()", "TIME(0)",
       "CURRENT_TIME: the time of day (ms, UTC)", 0, 0, fn_current_time),
    TV("LOCALTIME", "LOCALTIME()", "TIME(0)", "the time of day (ms, UTC)", 0, 0,
       fn_current_time),
    T("DATE_FORMAT", "DATE_FORMAT(ts, pattern)", "STRING",
      "ts formatted with a Java date pattern such as 'yyyy-MM-dd HH:mm:ss'", 2,
      2, fn_date_format),
    T("TO_TIMESTAMP", "TO_TIMESTAMP(s[, pattern])", "TIMESTAMP(3)",
      "parse s (default 'yyyy-MM-dd HH:mm:ss'); NULL if it does not match", 1,
      2, fn_to_timestamp),
    T("TO_TIMESTAMP_LTZ", "TO_TIMESTAMP_LTZ(n[, precision])",
      "TIMESTAMP_LTZ(3)",
      "epoch seconds (precision 0) or milliseconds (3, default) as a time", 1,
      2, fn_to_timestamp_ltz),
    T("TO_DATE", "TO_DATE(s[, pattern])", "DATE",
      "parse s (default 'yyyy-MM-dd'); NULL if it does not match", 1, 2,
      fn_to_date),
    TV("UNIX_TIMESTAMP", "UNIX_TIMESTAMP([s[, pattern]])", "BIGINT",
       "seconds since the epoch: now, or of s; NULL if s does not match", 0, 2,
       fn_unix_timestamp),
    T("FROM_UNIXTIME", "FROM_UNIXTIME(n[, pattern])", "STRING",
      "epoch seconds n formatted (default 'yyyy-MM-dd HH:mm:ss')", 1, 2,
      fn_from_unixtime),
    T("EXTRACT", "EXTRACT(unit, ts)", "BIGINT",
      "EXTRACT(unit FROM ts): YEAR, QUARTER, MONTH, WEEK, DAY, DOY, DOW, "
      "HOUR, MINUTE, SECOND, MILLISECOND, EPOCH, ...",
      2, 2, fn_extract),
    T("YEAR", "YEAR(ts)", "BIGINT", "the year of ts", 1, 1, fn_year),
    T("QUARTER", "QUARTER(ts)", "BIGINT", "the quarter (1-4) of ts", 1, 1,
      fn_quarter),
    T("MONTH", "MONTH(ts)", "BIGINT", "the month (1-12) of ts", 1, 1, fn_month),
    T("WEEK", "WEEK(ts)", "BIGINT", "the ISO week (1-53) of ts", 1, 1, fn_week),
    T("DAYOFYEAR", "DAYOFYEAR(ts)", "BIGINT", "the day of the year (1-366)", 1,
      1, fn_dayofyear),
    T("DAYOFMONTH", "DAYOFMONTH(ts)", "BIGINT", "the day of the month (1-31)",
      1, 1, fn_dayofmonth),
    T("DAYOFWEEK", "DAYOFWEEK(ts)", "BIGINT",
      "the day of the week (1 = Sunday .. 7 = Saturday)", 1, 1, fn_dayofweek),
    T("HOUR", "HOUR(ts)", "BIGINT", "the hour (0-23) of ts", 1, 1, fn_hour),
    T("MINUTE", "MINUTE(ts)", "BIGINT", "the minute (0-59) of ts", 1, 1,
      fn_minute),
    T("SECOND", "SECOND(ts)", "BIGINT", "the second (0-59) of ts", 1, 1,
      fn_second),
    T("TIME_FLOOR", "TIME_FLOOR(ts, unit)", "TIMESTAMP(3)",
      "FLOOR(ts TO unit): ts rounded down to the unit (WEEK: Sunday)", 2, 2,
      fn_time_floor),
    T("TIME_CEIL", "TIME_CEIL(ts, unit)", "TIMESTAMP(3)",
      "CEIL(ts TO unit): ts rounded up to the unit", 2, 2, fn_time_ceil),
    T("TIMESTAMPADD", "TIMESTAMPADD(unit, n, ts)", "TIMESTAMP(3)",
      "ts plus n units (also ts + INTERVAL 'n' unit)", 3, 3, fn_timestampadd),
    T("TIMESTAMPDIFF", "TIMESTAMPDIFF(unit, a, b)", "INT",
      "whole units from a to b", 3, 3, fn_timestampdiff),
    T("CONVERT_TZ", "CONVERT_TZ(s, from_zone, to_zone)", "STRING",
      "local time s in from_zone as local time in to_zone", 3, 3,
      fn_convert_tz),
    T("FROM_UTC_TIMESTAMP", "FROM_UTC_TIMESTAMP(ts, zone)", "TIMESTAMP(3)",
      "UTC time ts as local time in zone", 2, 2, fn_from_utc),
    T("TO_UTC_TIMESTAMP", "TO_UTC_TIMESTAMP(ts, zone)", "TIMESTAMP(3)",
      "local time ts in zone as UTC", 2, 2, fn_to_utc),
    {0},
};
