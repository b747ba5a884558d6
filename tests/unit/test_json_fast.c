/*
 * test_json_fast.c: the json encoder writes numbers and timestamps without
 * printf (format_json.c "number and time text"); this checks that the text
 * is exactly what the general formatting (sl_value_format,
 * sl_format_timestamp) gives, over many values: random doubles of every
 * magnitude, short decimals, whole numbers, integer extremes, and
 * timestamps from year 0 to 9999 and outside it. Strings are escaped 8
 * bytes at a time and the decoder matches the expected next key in place:
 * random strings are checked against a byte-by-byte escaper and read back,
 * and keys out of order, escaped or longer than a field name still land
 * in the right columns.
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

/* The escaping the encoder did byte by byte before. */
static void escape_ref(const char *s, size_t len, sl_buf *out)
{
    static const char hex[] = "0123456789abcdef";
    sl_buf_puts(out, "{\"v\":\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            sl_buf_putc(out, '\\');
            sl_buf_putc(out, (char)c);
        } else if (c == '\n') {
            sl_buf_puts(out, "\\n");
        } else if (c == '\r') {
            sl_buf_puts(out, "\\r");
        } else if (c == '\t') {
            sl_buf_puts(out, "\\t");
        } else if (c == '\b') {
            sl_buf_puts(out, "\\b");
        } else if (c == '\f') {
            sl_buf_puts(out, "\\f");
        } else if (c < 0x20) {
            sl_buf_puts(out, "\\u00");
            sl_buf_putc(out, hex[c >> 4]);
            sl_buf_putc(out, hex[c & 15]);
        } else {
            sl_buf_putc(out, (char)c);
        }
    }
    sl_buf_puts(out, "\"}");
}

Test(json_fast, strings_escape_and_read_back)
{
    fixture fx;
    fx_init(&fx, sl_type_simple(SL_TYPE_VARCHAR), NULL);
    int map[1] = {0};
    sl_options opts = {0, NULL};
    sl_format_info info = {fx.schema, map, &opts, "json."};
    sl_decoder *dec = NULL;
    cr_assert_eq(sl_format_find("json")->open_decoder(&info, &dec, &fx.err),
                 SL_OK);
    static const char alphabet[] =
        "abcXYZ019 ~\"\\\n\r\t\b\f\x01\x1f\x7f\xc3\xa9";
    char str[80];
    sl_batch *in = sl_batch_new(fx.schema, 4);
    for (int i = 0; i < 20000; i++) {
        size_t len = next() % 40;
        for (size_t k = 0; k < len; k++) {
            /* mostly plain runs, sometimes a byte to escape */
            size_t pick = next() % 64;
            str[k] = pick < 56 ? (char)('a' + pick % 26)
                               : alphabet[next() % (sizeof(alphabet) - 1)];
        }
        sl_value v = {.kind = SL_V_TEXT, .len = (uint32_t)len, .u.s = str};
        const char *got = encode(&fx, v);
        sl_buf_reset(&fx.want);
        escape_ref(str, len, &fx.want);
        cr_assert_str_eq(got, sl_buf_cstr(&fx.want), "case %d", i);
        sl_batch_clear(in);
        sl_value *row = sl_batch_append_row(in);
        cr_assert_eq(
            dec->decode(dec, fx.out.data, fx.out.len, in, row, &fx.err), SL_OK,
            "%s", fx.err.msg);
        cr_assert_eq(row[0].len, len);
        cr_assert_eq(memcmp(row[0].u.s, str, len), 0, "case %d", i);
    }
    sl_batch_free(in);
    dec->close(dec);
    fx_free(&fx);
}

Test(json_fast, keys_in_any_order_escaped_or_longer)
{
    sl_arena arena;
    sl_arena_init(&arena, 4096, 0);
    const char *names[] = {"id", "name", "idx"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_BIGINT),
                              sl_type_simple(SL_TYPE_VARCHAR),
                              sl_type_simple(SL_TYPE_BIGINT)};
    sl_schema *schema = sl_schema_new(&arena, 3, names, types);
    int map[3] = {0, 1, 2};
    sl_options opts = {0, NULL};
    sl_format_info info = {schema, map, &opts, "json."};
    sl_decoder *dec = NULL;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_format_find("json")->open_decoder(&info, &dec, &err),
                 SL_OK);
    static const char *const recs[] = {
        "{\"id\":1,\"name\":\"a\",\"idx\":2}",
        "{\"idx\":2,\"name\":\"a\",\"id\":1}",
        "{\"i\\u0064\":1,\"nam\\u0065\":\"a\",\"idx\":2}",
        "{\"id\":1,\"idxx\":7,\"name\":\"a\",\"id2\":9,\"idx\":2}",
        "{\"name\":\"a\",\"id\" : 1 ,\"idx\":2}",
    };
    sl_batch *b = sl_batch_new(schema, 4);
    for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
        sl_batch_clear(b);
        sl_value *row = sl_batch_append_row(b);
        cr_assert_eq(dec->decode(dec, recs[i], strlen(recs[i]), b, row, &err),
                     SL_OK, "%s: %s", recs[i], err.msg);
        cr_assert_eq(row[0].u.i, 1, "%s", recs[i]);
        cr_assert_str_eq(row[1].u.s, "a", "%s", recs[i]);
        cr_assert_eq(row[2].u.i, 2, "%s", recs[i]);
    }
    sl_batch_free(b);
    dec->close(dec);
    sl_arena_free(&arena);
}
