/*
 * types.c: SQL type names, storage classes, canonical value text and the
 * calendar arithmetic shared by formats and functions (see types.h for the
 * storage of each type).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "types.h"

static const char *const type_names[SL_TYPE__COUNT] = {
    [SL_TYPE_NULL] = "NULL",
    [SL_TYPE_BOOLEAN] = "BOOLEAN",
    [SL_TYPE_TINYINT] = "TINYINT",
    [SL_TYPE_SMALLINT] = "SMALLINT",
    [SL_TYPE_INT] = "INT",
    [SL_TYPE_BIGINT] = "BIGINT",
    [SL_TYPE_FLOAT] = "FLOAT",
    [SL_TYPE_DOUBLE] = "DOUBLE",
    [SL_TYPE_DECIMAL] = "DECIMAL",
    [SL_TYPE_CHAR] = "CHAR",
    [SL_TYPE_VARCHAR] = "VARCHAR",
    [SL_TYPE_BINARY] = "BINARY",
    [SL_TYPE_VARBINARY] = "VARBINARY",
    [SL_TYPE_DATE] = "DATE",
    [SL_TYPE_TIME] = "TIME",
    [SL_TYPE_TIMESTAMP] = "TIMESTAMP",
    [SL_TYPE_TIMESTAMP_LTZ] = "TIMESTAMP_LTZ",
    [SL_TYPE_INTERVAL_DAY_TIME] = "INTERVAL DAY TO SECOND",
    [SL_TYPE_INTERVAL_YEAR_MONTH] = "INTERVAL YEAR TO MONTH",
    [SL_TYPE_ARRAY] = "ARRAY",
    [SL_TYPE_MAP] = "MAP",
    [SL_TYPE_ROW] = "ROW",
};

const char *sl_type_id_name(sl_type_id id)
{
    if ((unsigned)id >= SL_TYPE__COUNT)
        return "UNKNOWN";
    return type_names[id];
}

static const sl_type simple[SL_TYPE__COUNT] = {
    [SL_TYPE_NULL] = {.id = SL_TYPE_NULL},
    [SL_TYPE_BOOLEAN] = {.id = SL_TYPE_BOOLEAN},
    [SL_TYPE_TINYINT] = {.id = SL_TYPE_TINYINT},
    [SL_TYPE_SMALLINT] = {.id = SL_TYPE_SMALLINT},
    [SL_TYPE_INT] = {.id = SL_TYPE_INT},
    [SL_TYPE_BIGINT] = {.id = SL_TYPE_BIGINT},
    [SL_TYPE_FLOAT] = {.id = SL_TYPE_FLOAT},
    [SL_TYPE_DOUBLE] = {.id = SL_TYPE_DOUBLE},
    [SL_TYPE_DECIMAL] = {.id = SL_TYPE_DECIMAL, .precision = 10},
    [SL_TYPE_CHAR] = {.id = SL_TYPE_CHAR, .precision = 1},
    [SL_TYPE_VARCHAR] = {.id = SL_TYPE_VARCHAR, .precision = SL_TYPE_MAX_LEN},
    [SL_TYPE_BINARY] = {.id = SL_TYPE_BINARY, .precision = 1},
    [SL_TYPE_VARBINARY] = {.id = SL_TYPE_VARBINARY,
                           .precision = SL_TYPE_MAX_LEN},
    [SL_TYPE_DATE] = {.id = SL_TYPE_DATE},
    [SL_TYPE_TIME] = {.id = SL_TYPE_TIME},
    [SL_TYPE_TIMESTAMP] = {.id = SL_TYPE_TIMESTAMP, .precision = 6},
    [SL_TYPE_TIMESTAMP_LTZ] = {.id = SL_TYPE_TIMESTAMP_LTZ, .precision = 6},
    [SL_TYPE_INTERVAL_DAY_TIME] = {.id = SL_TYPE_INTERVAL_DAY_TIME},
    [SL_TYPE_INTERVAL_YEAR_MONTH] = {.id = SL_TYPE_INTERVAL_YEAR_MONTH},
    [SL_TYPE_ARRAY] = {.id = SL_TYPE_ARRAY},
    [SL_TYPE_MAP] = {.id = SL_TYPE_MAP},
    [SL_TYPE_ROW] = {.id = SL_TYPE_ROW},
};

const sl_type *sl_type_simple(sl_type_id id)
{
    if ((unsigned)id >= SL_TYPE__COUNT)
        return &simple[SL_TYPE_NULL];
    return &simple[id];
}

sl_vkind sl_type_storage(const sl_type *type)
{
    switch (type->id) {
    case SL_TYPE_FLOAT:
    case SL_TYPE_DOUBLE:
    case SL_TYPE_DECIMAL:
        return SL_V_REAL;
    case SL_TYPE_CHAR:
    case SL_TYPE_VARCHAR:
    case SL_TYPE_ARRAY:
    case SL_TYPE_MAP:
    case SL_TYPE_ROW:
        return SL_V_TEXT;
    case SL_TYPE_BINARY:
    case SL_TYPE_VARBINARY:
        return SL_V_BLOB;
    case SL_TYPE_NULL:
        return SL_V_NULL;
    default:
        return SL_V_INT;
    }
}

bool sl_type_is_integer(const sl_type *type)
{
    return type->id >= SL_TYPE_TINYINT && type->id <= SL_TYPE_BIGINT;
}

bool sl_type_is_numeric(const sl_type *type)
{
    return type->id >= SL_TYPE_TINYINT && type->id <= SL_TYPE_DECIMAL;
}

bool sl_type_is_string(const sl_type *type)
{
    return type->id == SL_TYPE_CHAR || type->id == SL_TYPE_VARCHAR;
}

bool sl_type_is_temporal(const sl_type *type)
{
    return type->id >= SL_TYPE_DATE && type->id <= SL_TYPE_TIMESTAMP_LTZ;
}

bool sl_type_equal(const sl_type *a, const sl_type *b)
{
    if (a == b)
        return true;
    if (!a || !b || a->id != b->id || a->precision != b->precision ||
        a->scale != b->scale || a->n_fields != b->n_fields)
        return false;
    if ((a->elem || b->elem) && !sl_type_equal(a->elem, b->elem))
        return false;
    if ((a->value || b->value) && !sl_type_equal(a->value, b->value))
        return false;
    for (int i = 0; i < a->n_fields; i++) {
        if (strcmp(a->fields[i].name, b->fields[i].name) ||
            !sl_type_equal(a->fields[i].type, b->fields[i].type))
            return false;
    }
    return true;
}

int sl_type_format(const sl_type *type, sl_buf *out)
{
    switch (type->id) {
    case SL_TYPE_DECIMAL:
        sl_buf_printf(out, "DECIMAL(%d, %d)", type->precision, type->scale);
        break;
    case SL_TYPE_CHAR:
    case SL_TYPE_BINARY:
        sl_buf_printf(out, "%s(%d)", sl_type_id_name(type->id),
                      type->precision);
        break;
    case SL_TYPE_VARCHAR:
        if (type->precision == SL_TYPE_MAX_LEN)
            sl_buf_puts(out, "STRING");
        else
            sl_buf_printf(out, "VARCHAR(%d)", type->precision);
        break;
    case SL_TYPE_VARBINARY:
        if (type->precision == SL_TYPE_MAX_LEN)
            sl_buf_puts(out, "BYTES");
        else
            sl_buf_printf(out, "VARBINARY(%d)", type->precision);
        break;
    case SL_TYPE_TIME:
    case SL_TYPE_TIMESTAMP:
    case SL_TYPE_TIMESTAMP_LTZ:
        sl_buf_printf(out, "%s(%d)", sl_type_id_name(type->id),
                      type->precision);
        if (type->is_rowtime)
            sl_buf_puts(out, " *ROWTIME*");
        if (type->is_proctime)
            sl_buf_puts(out, " *PROCTIME*");
        break;
    case SL_TYPE_ARRAY:
        sl_buf_puts(out, "ARRAY<");
        sl_type_format(type->elem, out);
        sl_buf_putc(out, '>');
        break;
    case SL_TYPE_MAP:
        sl_buf_puts(out, "MAP<");
        sl_type_format(type->elem, out);
        sl_buf_puts(out, ", ");
        sl_type_format(type->value, out);
        sl_buf_putc(out, '>');
        break;
    case SL_TYPE_ROW:
        sl_buf_puts(out, "ROW<");
        for (int i = 0; i < type->n_fields; i++) {
            sl_buf_printf(out, "%s`%s` ", i ? ", " : "", type->fields[i].name);
            sl_type_format(type->fields[i].type, out);
        }
        sl_buf_putc(out, '>');
        break;
    default:
        sl_buf_puts(out, sl_type_id_name(type->id));
    }
    if (type->not_null)
        sl_buf_puts(out, " NOT NULL");
    return out->rc;
}

/* Howard Hinnant's civil-from-days algorithms (public domain ideas). */
int64_t sl_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void sl_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Calendar arithmetic is exact for any year a 64-bit day count can name,
 * but the intermediate products are not: values this far out print as their
 * raw number instead. */
#define SL_TIME_SAFE_MS   ((int64_t)9000000000000000000LL)
#define SL_DATE_SAFE_DAYS ((int64_t)100000000000000LL)

int sl_format_timestamp(int64_t epoch_ms, int precision, sl_buf *out)
{
    if (epoch_ms > SL_TIME_SAFE_MS || epoch_ms < -SL_TIME_SAFE_MS)
        return sl_buf_printf(out, "%" PRId64, epoch_ms);
    int64_t days = floor_div(epoch_ms, 86400000);
    int64_t ms = epoch_ms - days * 86400000;
    int64_t y;
    unsigned m, d;
    sl_civil_from_days(days, &y, &m, &d);
    sl_buf_printf(out, "%04" PRId64 "-%02u-%02u %02d:%02d:%02d", y, m, d,
                  (int)(ms / 3600000), (int)(ms / 60000 % 60),
                  (int)(ms / 1000 % 60));
    if (precision > 0) {
        char frac[16];
        sl_snprintf(frac, sizeof(frac), "%03d000000", (int)(ms % 1000));
        if (precision > 9)
            precision = 9;
        sl_buf_putc(out, '.');
        sl_buf_append(out, frac, (size_t)precision);
    }
    return out->rc;
}

static int digits(const char **p, const char *end, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || **p < '0' || **p > '9')
            return SL_ERROR;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return SL_OK;
}

static int parse_date_part(const char **p, const char *end, int64_t *days)
{
    int y, m, d;
    bool neg = *p < end && **p == '-';
    if (neg)
        (*p)++;
    if (digits(p, end, 4, &y) || *p >= end || **p != '-')
        return SL_ERROR;
    (*p)++;
    if (digits(p, end, 2, &m) || *p >= end || **p != '-')
        return SL_ERROR;
    (*p)++;
    if (digits(p, end, 2, &d))
        return SL_ERROR;
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return SL_ERROR;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d > mdays[m - 1])
        return SL_ERROR;
    int64_t yy = neg ? -y : y;
    bool leap = (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return SL_ERROR;
    *days = sl_days_from_civil(yy, (unsigned)m, (unsigned)d);
    return SL_OK;
}

static int parse_time_part(const char **p, const char *end, int64_t *ms)
{
    int h, mi, s = 0, frac = 0;
    if (digits(p, end, 2, &h) || *p >= end || **p != ':')
        return SL_ERROR;
    (*p)++;
    if (digits(p, end, 2, &mi))
        return SL_ERROR;
    if (*p < end && **p == ':') {
        (*p)++;
        if (digits(p, end, 2, &s))
            return SL_ERROR;
        if (*p < end && **p == '.') {
            (*p)++;
            int n = 0;
            while (*p < end && **p >= '0' && **p <= '9') {
                if (n < 3)
                    frac = frac * 10 + (**p - '0');
                n++;
                (*p)++;
            }
            if (n == 0)
                return SL_ERROR;
            for (; n < 3; n++)
                frac *= 10;
        }
    }
    if (h > 23 || mi > 59 || s > 60)
        return SL_ERROR;
    *ms = ((int64_t)h * 3600 + mi * 60 + s) * 1000 + frac;
    return SL_OK;
}

static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

int sl_parse_date(const char *s, size_t len, int64_t *days)
{
    trim(&s, &len);
    const char *p = s, *end = s + len;
    if (parse_date_part(&p, end, days) || p != end)
        return SL_ERROR;
    return SL_OK;
}

int sl_parse_time(const char *s, size_t len, int64_t *ms_of_day)
{
    trim(&s, &len);
    const char *p = s, *end = s + len;
    if (parse_time_part(&p, end, ms_of_day) || p != end)
        return SL_ERROR;
    return SL_OK;
}

int sl_parse_timestamp(const char *s, size_t len, int64_t *epoch_ms)
{
    trim(&s, &len);
    const char *p = s, *end = s + len;
    int64_t days, ms = 0;
    if (parse_date_part(&p, end, &days))
        return SL_ERROR;
    if (p < end && (*p == ' ' || *p == 'T')) {
        p++;
        if (parse_time_part(&p, end, &ms))
            return SL_ERROR;
        if (p < end && (*p == 'Z' || *p == 'z')) {
            p++;
        } else if (p < end && (*p == '+' || *p == '-')) {
            int sign = *p == '-' ? -1 : 1, oh, om = 0;
            p++;
            if (digits(&p, end, 2, &oh))
                return SL_ERROR;
            if (p < end && *p == ':')
                p++;
            if (p < end && digits(&p, end, 2, &om))
                return SL_ERROR;
            ms -= sign * ((int64_t)oh * 3600 + om * 60) * 1000;
        }
    }
    if (p != end)
        return SL_ERROR;
    *epoch_ms = days * 86400000 + ms;
    return SL_OK;
}

static void format_real(double d, sl_buf *out)
{
    if (isnan(d)) {
        sl_buf_puts(out, "NaN");
    } else if (isinf(d)) {
        sl_buf_puts(out, d > 0 ? "Infinity" : "-Infinity");
    } else if (d == floor(d) && fabs(d) < 1e16) {
        sl_buf_printf(out, "%.1f", d);
    } else {
        char tmp[40];
        for (int prec = 15; prec <= 17; prec++) {
            sl_snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
            double back = 0;
            if (sl_parse_double(tmp, strlen(tmp), &back) == SL_OK && back == d)
                break;
        }
        sl_buf_puts(out, tmp);
    }
}

int sl_value_format(const sl_type *type, const sl_value *value, sl_buf *out,
                    const char *null_text)
{
    if (value->kind == SL_V_NULL) {
        if (null_text)
            sl_buf_puts(out, null_text);
        return out->rc;
    }
    if (value->kind == SL_V_TEXT) {
        sl_buf_append(out, value->u.s, value->len);
        return out->rc;
    }
    if (value->kind == SL_V_BLOB) {
        const unsigned char *b = value->u.b;
        sl_buf_puts(out, "x'");
        for (uint32_t i = 0; i < value->len; i++)
            sl_buf_printf(out, "%02x", b[i]);
        sl_buf_putc(out, '\'');
        return out->rc;
    }
    switch (type ? type->id : SL_TYPE_NULL) {
    case SL_TYPE_BOOLEAN: {
        bool t = value->kind == SL_V_INT ? value->u.i != 0 : value->u.d != 0;
        sl_buf_puts(out, t ? "TRUE" : "FALSE");
        break;
    }
    case SL_TYPE_DATE:
        if (value->kind == SL_V_INT && value->u.i < SL_DATE_SAFE_DAYS &&
            value->u.i > -SL_DATE_SAFE_DAYS) {
            int64_t y;
            unsigned m, d;
            sl_civil_from_days(value->u.i, &y, &m, &d);
            sl_buf_printf(out, "%04" PRId64 "-%02u-%02u", y, m, d);
            break;
        }
        goto plain;
    case SL_TYPE_TIME:
        if (value->kind == SL_V_INT) {
            int64_t ms = value->u.i;
            sl_buf_printf(out, "%02d:%02d:%02d", (int)(ms / 3600000),
                          (int)(ms / 60000 % 60), (int)(ms / 1000 % 60));
            if (type->precision > 0) {
                char frac[16];
                sl_snprintf(frac, sizeof(frac), "%03d000000", (int)(ms % 1000));
                sl_buf_putc(out, '.');
                sl_buf_append(out, frac, (size_t)SL_MIN(type->precision, 9));
            }
            break;
        }
        goto plain;
    case SL_TYPE_TIMESTAMP:
    case SL_TYPE_TIMESTAMP_LTZ:
        if (value->kind == SL_V_INT) {
            sl_format_timestamp(value->u.i, type->precision, out);
            break;
        }
        goto plain;
    case SL_TYPE_DECIMAL: {
        double d = value->kind == SL_V_INT ? (double)value->u.i : value->u.d;
        sl_buf_printf(out, "%.*f", type->scale, d);
        break;
    }
    case SL_TYPE_FLOAT:
    case SL_TYPE_DOUBLE:
        format_real(value->kind == SL_V_INT ? (double)value->u.i : value->u.d,
                    out);
        break;
    default:
    plain:
        if (value->kind == SL_V_INT)
            sl_buf_printf(out, "%" PRId64, value->u.i);
        else
            format_real(value->u.d, out);
    }
    return out->rc;
}
