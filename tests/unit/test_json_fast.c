/*
 * test_json_fast.c: the json encoder writes numbers and timestamps without
 * printf (format_json.c "number and time text"); this checks that the text
 * is exactly what the general formatting (sl_value_format,
 * sl_format_timestamp) gives, over many values: random doubles of every
 * magnitude, short decimals, whole numbers, integer extremes, and
 * timestamps from year 0 to 9999 and outside it.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "format_int.h"

typedef struct fixture {
    sl_arena arena;
    sl_schema *schema;
    sl_batch *batch;
    sl_encoder *enc;
    sl_buf out, want;
    sl_err err;
} fixture;

static sl_type t_ts3 = {.id = SL_TYPE_TIMESTAMP, .precision = 3};
static sl_type t_ltz3 = {.id = SL_TYPE_TIMESTAMP_LTZ, .precision = 3};

static void fx_init(fixture *fx, const sl_type *type, const char *std)
{
    memset(fx, 0, sizeof(*fx));
    sl_arena_init(&fx->arena, 4096, 0);
    const char *names[] = {"v"};
    const sl_type *types[] = {type};
    fx->schema = sl_schema_new(&fx->arena, 1, names, types);
    fx->batch = sl_batch_new(fx->schema, 4);
    static sl_option items[1];
    items[0] = (sl_option){"json.timestamp-format.standard", std, false};
    static sl_options opts;
    opts = (sl_options){std ? 1 : 0, items};
    int map[1] = {0};
    sl_format_info info = {fx->schema, map, &opts, "json."};
    sl_err_clear(&fx->err);
    cr_assert_eq(
        sl_format_find("json")->open_encoder(&info, &fx->enc, &fx->err), SL_OK,
        "%s", fx->err.msg);
    sl_buf_init(&fx->out, 0);
    sl_buf_init(&fx->want, 0);
}

static void fx_free(fixture *fx)
{
    fx->enc->close(fx->enc);
    sl_batch_free(fx->batch);
    sl_buf_free(&fx->out);
    sl_buf_free(&fx->want);
    sl_arena_free(&fx->arena);
}

static const char *encode(fixture *fx, sl_value v)
{
    sl_batch_clear(fx->batch);
    sl_value *row = sl_batch_append_row(fx->batch);
    row[0] = v;
    sl_buf_reset(&fx->out);
    cr_assert_eq(fx->enc->encode(fx->enc, fx->batch, 0, &fx->out, &fx->err),
                 SL_OK);
    return sl_buf_cstr(&fx->out);
}

/* {"v":<sl_value_format text>} */
static const char *expect_number(fixture *fx, const sl_type *t, sl_value v)
{
    sl_buf_reset(&fx->want);
    sl_buf_puts(&fx->want, "{\"v\":");
    sl_value_format(t, &v, &fx->want, NULL);
    sl_buf_putc(&fx->want, '}');
    return sl_buf_cstr(&fx->want);
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void check_double(fixture *fx, double d)
{
    if (!isfinite(d))
        return;
    sl_value v = sl_value_real(d);
    const sl_type *t = sl_type_simple(SL_TYPE_DOUBLE);
    cr_assert_str_eq(encode(fx, v), expect_number(fx, t, v), "value %.17g", d);
}

Test(json_fast, doubles_match_general_formatting)
{
    fixture fx;
    fx_init(&fx, sl_type_simple(SL_TYPE_DOUBLE), NULL);
    static const double fixed[] = {
        0.1,     0.2,       0.3,    1.5,    -2.25,
        1e-4,    9.9e-5,    1e15,   1e16,   999999999999999.0,
        0.1234,  12345.678, 1e-300, 5e-324, 1.0 / 3,
        2.0 / 3, -0.0,      0.0,    123.0,  -7.0};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        check_double(&fx, fixed[i]);
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = next();
        double d;
        switch (i % 4) {
        case 0: /* any bit pattern */
            memcpy(&d, &bits, sizeof(d));
            break;
        case 1: /* short decimals */
            d = (double)(int64_t)(bits % 2000000001ULL - 1000000000) /
                pow(10, (double)(next() % 12));
            break;
        case 2: /* around the fixed-notation limits */
            d = ldexp((double)(bits >> 11) / 9007199254740992.0,
                      (int)(next() % 120) - 20);
            break;
        default: /* whole numbers */
            d = (double)(int64_t)(bits >> (next() % 64));
        }
        check_double(&fx, d);
    }
    fx_free(&fx);
}

Test(json_fast, integers_and_float_columns)
{
    fixture fx;
    fx_init(&fx, sl_type_simple(SL_TYPE_BIGINT), NULL);
    static const int64_t ints[] = {
        0, 1, -1, 9, 10, -10, INT64_MAX, INT64_MIN, 1234567890123LL};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        sl_value v = sl_value_int(ints[i]);
        cr_assert_str_eq(encode(&fx, v),
                         expect_number(&fx, sl_type_simple(SL_TYPE_BIGINT), v));
    }
    fx_free(&fx);
    fx_init(&fx, sl_type_simple(SL_TYPE_FLOAT), NULL);
    for (int i = 0; i < 20000; i++) {
        sl_value v =
            sl_value_real((double)(float)((double)(int32_t)next() /
                                          (double)(next() % 1000 + 1)));
        cr_assert_str_eq(encode(&fx, v),
                         expect_number(&fx, sl_type_simple(SL_TYPE_FLOAT), v));
    }
    /* an integer stored in a FLOAT column */
    sl_value v = sl_value_int(42);
    cr_assert_str_eq(encode(&fx, v), "{\"v\":42.0}");
    fx_free(&fx);
}

/* What put_timestamp wrote before: sl_format_timestamp, trailing fraction
 * zeros and the '.' dropped, 'T' for ISO, 'Z' for LTZ. */
static const char *expect_ts(fixture *fx, int64_t ms, bool iso, bool ltz)
{
    sl_buf t;
    sl_buf_init(&t, 0);
    sl_format_timestamp(ms, 3, &t);
    char tmp[64];
    sl_strlcpy(tmp, sl_buf_cstr(&t), sizeof(tmp));
    size_t n = t.len;
    sl_buf_free(&t);
    if (n >= 4 && tmp[n - 4] == '.') {
        while (tmp[n - 1] == '0')
            n--;
        if (tmp[n - 1] == '.')
            n--;
    }
    tmp[n] = '\0';
    char *sp = strchr(tmp, ' ');
    if (sp && iso)
        *sp = 'T';
    sl_buf_reset(&fx->want);
    sl_buf_printf(&fx->want, "{\"v\":\"%s%s\"}", tmp, ltz ? "Z" : "");
    return sl_buf_cstr(&fx->want);
}

static void check_ts(const sl_type *type, const char *std, bool ltz)
{
    fixture fx;
    fx_init(&fx, type, std);
    bool iso = std != NULL;
    static const int64_t fixed[] = {0,
                                    1,
                                    -1,
                                    999,
                                    -86400000,
                                    1704164645123LL,
                                    1704164645100LL,
                                    1704164645120LL,
                                    -62167219200000LL, /* 0000-01-01 */
                                    -62167219200001LL,
                                    253402300799999LL, /* 9999-12-31 */
                                    253402300800000LL,
                                    INT64_MAX,
                                    INT64_MIN};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        cr_assert_str_eq(encode(&fx, sl_value_int(fixed[i])),
                         expect_ts(&fx, fixed[i], iso, ltz), "ms %" PRId64,
                         fixed[i]);
    for (int i = 0; i < 100000; i++) {
        int64_t ms = (int64_t)(next() % 700000000000000ULL) - 300000000000000LL;
        if (i % 3 == 0)
            ms -= ms % 1000; /* whole seconds */
        cr_assert_str_eq(encode(&fx, sl_value_int(ms)),
                         expect_ts(&fx, ms, iso, ltz), "ms %" PRId64, ms);
    }
    fx_free(&fx);
}

Test(json_fast, timestamps_match_general_formatting)
{
    check_ts(&t_ts3, NULL, false);
    check_ts(&t_ts3, "ISO-8601", false);
    check_ts(&t_ltz3, NULL, true);
    check_ts(&t_ltz3, "ISO-8601", true);
}
