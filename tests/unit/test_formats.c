/*
 * test_formats.c: the json and csv record formats: decoding each SQL type
 * straight into a batch row, Flink's leniencies (numeric strings, epoch
 * timestamps), the error text for malformed records and type mismatches,
 * options (missing fields, delimiters, quotes, escapes, null literal,
 * comments) and encode -> decode round trips.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "format_int.h"

typedef struct fixture {
    sl_arena arena;
    sl_schema *schema;
    sl_batch *batch;
    sl_option items[16];
    sl_options opts;
    sl_decoder *dec;
    sl_encoder *enc;
    sl_err err;
} fixture;

static sl_type t_dec = {.id = SL_TYPE_DECIMAL, .precision = 10, .scale = 2};
static sl_type t_ts3 = {.id = SL_TYPE_TIMESTAMP, .precision = 3};
static sl_type t_ltz3 = {.id = SL_TYPE_TIMESTAMP_LTZ, .precision = 3};
static sl_type t_str = {.id = SL_TYPE_VARCHAR, .precision = SL_TYPE_MAX_LEN};
static sl_type t_arr = {.id = SL_TYPE_ARRAY, .elem = &t_str};
static sl_type t_map = {.id = SL_TYPE_MAP, .elem = &t_str, .value = &t_str};
static sl_type t_bytes = {.id = SL_TYPE_VARBINARY,
                          .precision = SL_TYPE_MAX_LEN};

/* All types, one column each. */
static const char *all_names[] = {"b",   "ti",  "si",  "i",  "bi", "f",
                                  "d",   "dec", "s",   "dt", "tm", "ts",
                                  "ltz", "by",  "arr", "m"};
static const sl_type *all_types(int i)
{
    static const sl_type *t[16];
    t[0] = sl_type_simple(SL_TYPE_BOOLEAN);
    t[1] = sl_type_simple(SL_TYPE_TINYINT);
    t[2] = sl_type_simple(SL_TYPE_SMALLINT);
    t[3] = sl_type_simple(SL_TYPE_INT);
    t[4] = sl_type_simple(SL_TYPE_BIGINT);
    t[5] = sl_type_simple(SL_TYPE_FLOAT);
    t[6] = sl_type_simple(SL_TYPE_DOUBLE);
    t[7] = &t_dec;
    t[8] = &t_str;
    t[9] = sl_type_simple(SL_TYPE_DATE);
    t[10] = sl_type_simple(SL_TYPE_TIME);
    t[11] = &t_ts3;
    t[12] = &t_ltz3;
    t[13] = &t_bytes;
    t[14] = &t_arr;
    t[15] = &t_map;
    return t[i];
}

static void fx_init(fixture *fx, int n, const char **names,
                    const sl_type **types)
{
    memset(fx, 0, sizeof(*fx));
    sl_arena_init(&fx->arena, 4096, 0);
    fx->schema = sl_schema_new(&fx->arena, n, names, types);
    fx->batch = sl_batch_new(fx->schema, 64);
    fx->opts.items = fx->items;
    sl_err_clear(&fx->err);
}

static void fx_all(fixture *fx)
{
    const sl_type *types[16];
    for (int i = 0; i < 16; i++)
        types[i] = all_types(i);
    fx_init(fx, 16, all_names, types);
}

static void fx_opt(fixture *fx, const char *k, const char *v)
{
    fx->items[fx->opts.n++] = (sl_option){k, v, false};
}

static int fx_open(fixture *fx, const char *fmt, const char *prefix)
{
    const sl_format *f = sl_format_find(fmt);
    cr_assert_not_null(f);
    sl_format_info info = {fx->schema, NULL, &fx->opts, prefix};
    int rc = f->open_decoder(&info, &fx->dec, &fx->err);
    if (rc)
        return rc;
    return f->open_encoder(&info, &fx->enc, &fx->err);
}

static void fx_free(fixture *fx)
{
    if (fx->dec)
        fx->dec->close(fx->dec);
    if (fx->enc)
        fx->enc->close(fx->enc);
    sl_batch_free(fx->batch);
    sl_arena_free(&fx->arena);
}

/* Decode text into a new row; returns the code; the row stays on success. */
static int fx_decode(fixture *fx, const char *text, sl_value **row)
{
    sl_value *r = sl_batch_append_row(fx->batch);
    cr_assert_not_null(r);
    sl_err_clear(&fx->err);
    int rc =
        fx->dec->decode(fx->dec, text, strlen(text), fx->batch, r, &fx->err);
    if (rc)
        sl_batch_drop_last(fx->batch);
    if (row)
        *row = r;
    return rc;
}

static char *fx_encode(fixture *fx, int row)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    cr_assert_eq(fx->enc->encode(fx->enc, fx->batch, row, &b, &fx->err), 0,
                 "%s", fx->err.msg);
    return sl_buf_steal(&b);
}

static void expect_text(const sl_value *v, const char *s)
{
    cr_assert_eq(v->kind, SL_V_TEXT, "kind %d", v->kind);
    cr_assert_eq(v->len, strlen(s));
    cr_assert_str_eq(v->u.s, s);
}

Test(json, decodes_every_type)
{
    fixture fx;
    fx_all(&fx);
    cr_assert_eq(fx_open(&fx, "json", "json."), 0, "%s", fx.err.msg);
    sl_value *r;
    const char *rec =
        "{\"b\":true,\"ti\":-8,\"si\":300,\"i\":\"42\",\"bi\":"
        "9007199254740993,\"f\":1.5,\"d\":-2.5e-3,\"dec\":12.345,"
        "\"s\":\"a\\\"b\\u00e9\\n\",\"dt\":\"2024-01-02\",\"tm\":"
        "\"03:04:05.678\",\"ts\":\"2024-01-02 03:04:05.678\",\"ltz\":"
        "\"2024-01-02T03:04:05.678Z\",\"by\":\"AAH/\",\"arr\":[ \"x\" , 1 ],"
        "\"m\":{\"k\": {\"n\": null}}, \"extra\": [1,{\"a\":[]}]}";
    cr_assert_eq(fx_decode(&fx, rec, &r), 0, "%s", fx.err.msg);
    cr_assert_eq(r[0].u.i, 1);
    cr_assert_eq(r[1].u.i, -8);
    cr_assert_eq(r[2].u.i, 300);
    cr_assert_eq(r[3].u.i, 42);
    cr_assert_eq(r[4].u.i, 9007199254740993LL);
    cr_assert_eq(r[5].u.d, 1.5);
    cr_assert_eq(r[6].u.d, -2.5e-3);
    cr_assert_float_eq(r[7].u.d, 12.35, 1e-9);
    expect_text(&r[8], "a\"b\xc3\xa9\n");
    cr_assert_eq(r[9].u.i, 19724);
    cr_assert_eq(r[10].u.i, 11045678);
    cr_assert_eq(r[11].u.i, 1704164645678LL);
    cr_assert_eq(r[12].u.i, 1704164645678LL);
    cr_assert_eq(r[13].kind, SL_V_BLOB);
    cr_assert_eq(r[13].len, 3);
    cr_assert_eq(((const unsigned char *)r[13].u.b)[2], 0xff);
    expect_text(&r[14], "[\"x\",1]");
    expect_text(&r[15], "{\"k\":{\"n\":null}}");
    fx_free(&fx);
}

Test(json, missing_null_and_epoch)
{
    fixture fx;
    fx_all(&fx);
    cr_assert_eq(fx_open(&fx, "json", "json."), 0);
    sl_value *r;
    cr_assert_eq(fx_decode(&fx, " { \"ts\" : 1000 , \"s\": null } ", &r), 0,
                 "%s", fx.err.msg);
    cr_assert_eq(r[11].kind, SL_V_INT);
    cr_assert_eq(r[11].u.i, 1000);
    cr_assert_eq(r[8].kind, SL_V_NULL);
    cr_assert_eq(r[0].kind, SL_V_NULL);
    /* non-string values into a STRING column keep their JSON text */
    cr_assert_eq(fx_decode(&fx, "{\"s\": {\"a\": [1, 2]}}", &r), 0);
    expect_text(&r[8], "{\"a\":[1,2]}");
    cr_assert_eq(fx_decode(&fx, "{\"s\": 12.5}", &r), 0);
    expect_text(&r[8], "12.5");
    fx_free(&fx);
}

Test(json, type_mismatch_names_field)
{
    const char *names[] = {"user_id", "name"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_BIGINT), &t_str};
    fixture fx;
    fx_init(&fx, 2, names, types);
    cr_assert_eq(fx_open(&fx, "json", "json."), 0);
    cr_assert_eq(fx_decode(&fx, "{\"user_id\": \"x\"}", NULL), SL_ERROR);
    cr_assert_str_eq(fx.err.msg,
                     "field 'user_id': expected BIGINT, got string \"x\"");
    cr_assert_eq(fx_decode(&fx, "{\"user_id\": [1]}", NULL), SL_ERROR);
    cr_assert_str_eq(fx.err.msg,
                     "field 'user_id': expected BIGINT, got an array");
    cr_assert_eq(fx_decode(&fx, "{\"user_id\": 1", NULL), SL_ERROR);
    cr_assert_str_eq(fx.err.msg, "unexpected end of JSON");
    cr_assert_eq(fx_decode(&fx, "{\"user_id\": 1} x", NULL), SL_ERROR);
    cr_assert_str_eq(fx.err.msg, "unexpected data after the JSON object");
    cr_assert_eq(fx_decode(&fx, "[1]", NULL), SL_ERROR);
    cr_assert_eq(fx_decode(&fx, "{\"name\": \"a\x01\"}", NULL), SL_ERROR);
    cr_assert_eq(fx_decode(&fx, "{\"user_id\": 01}", NULL), SL_ERROR);
    cr_assert_eq(fx_decode(&fx, "{\"other\": tru}", NULL), SL_ERROR);
    cr_assert_eq(fx_decode(&fx, "", NULL), SL_ERROR);
    cr_assert_eq(fx.batch->n_rows, 0);
    fx_free(&fx);
}

Test(json, ranges_and_depth)
{
    const char *names[] = {"t", "x"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_TINYINT), &t_str};
    fixture fx;
    fx_init(&fx, 2, names, types);
    cr_assert_eq(fx_open(&fx, "json", NULL), 0);
    cr_assert_eq(fx_decode(&fx, "{\"t\": 128}", NULL), SL_ERROR);
    cr_assert_str_eq(fx.err.msg, "field 't': 128 is out of range for TINYINT");
    char deep[400];
    size_t k = 0;
    k += (size_t)sl_snprintf(deep, sizeof(deep), "{\"y\":");
    for (int i = 0; i < 100; i++)
        deep[k++] = '[';
    for (int i = 0; i < 100; i++)
        deep[k++] = ']';
    deep[k++] = '}';
    deep[k] = '\0';
    cr_assert_eq(fx_decode(&fx, deep, NULL), SL_ERROR);
    cr_assert(strstr(fx.err.msg, "nested deeper"), "%s", fx.err.msg);
    fx_free(&fx);
}

Test(json, fail_on_missing_field)
{
    const char *names[] = {"a", "b"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_INT),
                              sl_type_simple(SL_TYPE_INT)};
    fixture fx;
    fx_init(&fx, 2, names, types);
    fx_opt(&fx, "value.json.fail-on-missing-field", "true");
    cr_assert_eq(fx_open(&fx, "json", "value.json."), 0);
    cr_assert_eq(fx_decode(&fx, "{\"b\": 1, \"a\": 2}", NULL), 0);
    cr_assert_eq(fx_decode(&fx, "{\"a\": 2}", NULL), SL_ERROR);
    cr_assert(strstr(fx.err.msg, "field 'b' is missing"), "%s", fx.err.msg);
    cr_assert_eq(sl_options_check_unused(&fx.opts, "t", NULL, &fx.err), 0);
    fx_free(&fx);
}

Test(json, bad_option_value)
{
    fixture fx;
    fx_all(&fx);
    fx_opt(&fx, "json.timestamp-format.standard", "RFC");
    cr_assert_neq(fx_open(&fx, "json", "json."), 0);
    cr_assert(strstr(fx.err.msg, "timestamp-format.standard"));
    fx_free(&fx);
}

Test(json, encodes_flink_representation)
{
    fixture fx;
    fx_all(&fx);
    cr_assert_eq(fx_open(&fx, "json", "json."), 0);
    sl_value *r;
    cr_assert_eq(
        fx_decode(&fx,
                  "{\"b\":false,\"i\":7,\"d\":0.1,\"dec\":3,\"s\":\"q\\\"\\t\","
                  "\"dt\":\"2024-01-02\",\"ts\":\"2024-01-02 03:04:05.100\","
                  "\"ltz\":0,\"by\":\"AQI=\",\"arr\":[1],\"f\":\"NaN\"}",
                  &r),
        0, "%s", fx.err.msg);
    char *s = fx_encode(&fx, 0);
    cr_assert_str_eq(s,
                     "{\"b\":false,\"ti\":null,\"si\":null,\"i\":7,\"bi\":null,"
                     "\"f\":\"NaN\",\"d\":0.1,\"dec\":3.00,\"s\":\"q\\\"\\t\","
                     "\"dt\":\"2024-01-02\",\"tm\":null,"
                     "\"ts\":\"2024-01-02 03:04:05.1\",\"ltz\":\"1970-01-01 "
                     "00:00:00Z\",\"by\":\"AQI=\",\"arr\":[1],\"m\":null}");
    sl_free(s);
    fx_free(&fx);
}

Test(json, round_trip_iso_and_ignore_nulls)
{
    fixture fx;
    fx_all(&fx);
    fx_opt(&fx, "json.timestamp-format.standard", "ISO-8601");
    fx_opt(&fx, "json.encode.ignore-null-fields", "true");
    cr_assert_eq(fx_open(&fx, "json", "json."), 0);
    sl_value *r;
    cr_assert_eq(fx_decode(&fx, "{\"ts\":\"2024-05-06T07:08:09.012\"}", &r), 0);
    char *s = fx_encode(&fx, 0);
    cr_assert_str_eq(s, "{\"ts\":\"2024-05-06T07:08:09.012\"}");
    cr_assert_eq(fx_decode(&fx, s, &r), 0);
    cr_assert_eq(r[11].u.i, sl_batch_row(fx.batch, 0)[11].u.i);
    sl_free(s);
    fx_free(&fx);
}

Test(csv, decodes_and_quotes)
{
    fixture fx;
    fx_all(&fx);
    cr_assert_eq(fx_open(&fx, "csv", "csv."), 0);
    sl_value *r;
    cr_assert_eq(
        fx_decode(&fx,
                  "TRUE,1,2,3,4,1.5,2.5,3.14159,\"a,\"\"b\"\"\nc\",2024-01-02,"
                  "01:02:03,2024-01-02 03:04:05.678,2024-01-02 03:04:05Z,"
                  "AQI=,\"[1,2]\",\"{\"\"a\"\":1}\"\r\n",
                  &r),
        0, "%s", fx.err.msg);
    cr_assert_eq(r[0].u.i, 1);
    cr_assert_eq(r[4].u.i, 4);
    cr_assert_float_eq(r[7].u.d, 3.14, 1e-9);
    expect_text(&r[8], "a,\"b\"\nc");
    cr_assert_eq(r[9].u.i, 19724);
    cr_assert_eq(r[11].u.i, 1704164645678LL);
    cr_assert_eq(r[13].len, 2);
    expect_text(&r[14], "[1,2]");
    expect_text(&r[15], "{\"a\":1}");
    /* empty: '' for strings, NULL otherwise */
    cr_assert_eq(fx_decode(&fx, ",,,,,,,,,,,,,,,", &r), 0, "%s", fx.err.msg);
    cr_assert_eq(r[0].kind, SL_V_NULL);
    expect_text(&r[8], "");
    cr_assert_eq(r[14].kind, SL_V_NULL);
    fx_free(&fx);
}

Test(csv, errors)
{
    const char *names[] = {"id", "name"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_INT), &t_str};
    fixture fx;
    fx_init(&fx, 2, names, types);
    cr_assert_eq(fx_open(&fx, "csv", "csv."), 0);
    cr_assert_eq(fx_decode(&fx, "x,y", NULL), SL_ERROR);
    cr_assert_str_eq(fx.err.msg, "field 'id': expected INT, got \"x\"");
    cr_assert_eq(fx_decode(&fx, "1,y,z", NULL), SL_ERROR);
    cr_assert_str_eq(fx.err.msg, "record has 3 fields, expected 2");
    cr_assert_eq(fx_decode(&fx, "1", NULL), SL_ERROR);
    cr_assert_eq(fx_decode(&fx, "1,\"abc", NULL), SL_ERROR);
    cr_assert(strstr(fx.err.msg, "unterminated"));
    cr_assert_eq(fx_decode(&fx, "1,\"a\"b", NULL), SL_ERROR);
    cr_assert_eq(fx_decode(&fx, "99999999999,a", NULL), SL_ERROR);
    cr_assert_eq(fx_decode(&fx, "# note", NULL), SL_ERROR);
    fx_free(&fx);
}

Test(csv, options)
{
    const char *names[] = {"id", "name", "note"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_INT), &t_str, &t_str};
    fixture fx;
    fx_init(&fx, 3, names, types);
    fx_opt(&fx, "csv.field-delimiter", "|");
    fx_opt(&fx, "csv.quote-character", "'");
    fx_opt(&fx, "csv.allow-comments", "true");
    fx_opt(&fx, "csv.null-literal", "N/A");
    fx_opt(&fx, "csv.escape-character", "\\");
    cr_assert_eq(fx_open(&fx, "csv", "csv."), 0, "%s", fx.err.msg);
    cr_assert_eq(sl_options_check_unused(&fx.opts, "t", NULL, &fx.err), 0);
    sl_value *r;
    cr_assert_eq(fx_decode(&fx, "# comment", NULL), SL_NOTFOUND);
    cr_assert_eq(fx_decode(&fx, "7|'a|''b'|N/A", &r), 0, "%s", fx.err.msg);
    cr_assert_eq(r[0].u.i, 7);
    expect_text(&r[1], "a|'b");
    cr_assert_eq(r[2].kind, SL_V_NULL);
    cr_assert_eq(fx_decode(&fx, "8|x\\|y|", &r), 0, "%s", fx.err.msg);
    expect_text(&r[1], "x|y");
    expect_text(&r[2], "");
    char *s = fx_encode(&fx, 0);
    cr_assert_str_eq(s, "7|'a|''b'|N/A");
    sl_free(s);
    s = fx_encode(&fx, 1);
    cr_assert_str_eq(s, "8|'x|y'|''");
    sl_free(s);
    fx_free(&fx);
}

Test(csv, disable_quote)
{
    const char *names[] = {"a", "b"};
    const sl_type *types[] = {&t_str, &t_str};
    fixture fx;
    fx_init(&fx, 2, names, types);
    fx_opt(&fx, "csv.disable-quote-character", "true");
    fx_opt(&fx, "csv.field-delimiter", "\\t");
    cr_assert_eq(fx_open(&fx, "csv", "csv."), 0, "%s", fx.err.msg);
    sl_value *r;
    cr_assert_eq(fx_decode(&fx, "\"x\"\ty", &r), 0, "%s", fx.err.msg);
    expect_text(&r[0], "\"x\"");
    fx_free(&fx);
}

Test(csv, record_end_spans_quoted_newlines)
{
    fixture fx;
    const char *names[] = {"a", "b"};
    const sl_type *types[] = {&t_str, &t_str};
    fx_init(&fx, 2, names, types);
    cr_assert_eq(fx_open(&fx, "csv", "csv."), 0);
    size_t n;
    int nl;
    const char *text = "\"a\nb\",\"c\"\"\nd\"\nnext\n";
    cr_assert(sl_csv_record_end(fx.dec, text, strlen(text), &n, &nl));
    cr_assert_eq(n, 14);
    cr_assert_eq(nl, 2);
    cr_assert_not(sl_csv_record_end(fx.dec, "\"open\n", 6, &n, &nl));
    fx_free(&fx);
}

Test(csv, round_trip_every_type)
{
    fixture fx;
    fx_all(&fx);
    cr_assert_eq(fx_open(&fx, "csv", "csv."), 0);
    sl_value *r = sl_batch_append_row(fx.batch);
    r[0] = sl_value_int(1);
    r[1] = sl_value_int(-3);
    r[2] = sl_value_int(1000);
    r[3] = sl_value_int(-100000);
    r[4] = sl_value_int(INT64_MIN);
    r[5] = sl_value_real(0.25);
    r[6] = sl_value_real(1e300);
    r[7] = sl_value_real(-12.5);
    sl_batch_set_text(fx.batch, &r[8], "x,\"y\"\n", 6);
    r[9] = sl_value_int(-1);
    r[10] = sl_value_int(86399000);
    r[11] = sl_value_int(-1);
    r[12] = sl_value_int(1700000000123LL);
    sl_batch_set_blob(fx.batch, &r[13], "\0\1\2\3", 4);
    sl_batch_set_text(fx.batch, &r[14], "[\"a\",null]", 10);
    /* r[15] stays NULL */
    char *s = fx_encode(&fx, 0);
    sl_value *back;
    cr_assert_eq(fx_decode(&fx, s, &back), 0, "%s: %s", s, fx.err.msg);
    for (int c = 0; c < 16; c++) {
        cr_assert_eq(back[c].kind, r[c].kind, "col %d in %s", c, s);
        if (r[c].kind == SL_V_INT)
            cr_assert_eq(back[c].u.i, r[c].u.i, "col %d", c);
        else if (r[c].kind == SL_V_REAL)
            cr_assert_eq(back[c].u.d, r[c].u.d, "col %d", c);
        else if (r[c].kind != SL_V_NULL)
            cr_assert(back[c].len == r[c].len &&
                          !memcmp(back[c].u.s, r[c].u.s, r[c].len),
                      "col %d", c);
    }
    sl_free(s);
    fx_free(&fx);
}

Test(json, round_trip_every_type)
{
    fixture fx;
    fx_all(&fx);
    cr_assert_eq(fx_open(&fx, "json", "json."), 0);
    sl_value *r = sl_batch_append_row(fx.batch);
    r[0] = sl_value_int(0);
    r[1] = sl_value_int(127);
    r[2] = sl_value_int(-32768);
    r[3] = sl_value_int(2147483647);
    r[4] = sl_value_int(INT64_MIN);
    r[5] = sl_value_real(-0.5);
    r[6] = sl_value_real(0.1 + 0.2);
    r[7] = sl_value_real(99999999.99);
    sl_batch_set_text(fx.batch, &r[8], "\x01\"\\/\xe2\x82\xac", 7);
    r[9] = sl_value_int(-719162);
    r[10] = sl_value_int(45296000);
    r[11] = sl_value_int(-1);
    r[12] = sl_value_int(1700000000120LL);
    sl_batch_set_blob(fx.batch, &r[13], "\xff\xfe", 2);
    sl_batch_set_text(fx.batch, &r[14], "[[],{}]", 7);
    sl_batch_set_text(fx.batch, &r[15], "{\"k\":\"v\"}", 9);
    char *s = fx_encode(&fx, 0);
    sl_value *back;
    cr_assert_eq(fx_decode(&fx, s, &back), 0, "%s: %s", s, fx.err.msg);
    for (int c = 0; c < 16; c++) {
        cr_assert_eq(back[c].kind, r[c].kind, "col %d in %s", c, s);
        if (r[c].kind == SL_V_INT)
            cr_assert_eq(back[c].u.i, r[c].u.i, "col %d in %s", c, s);
        else if (r[c].kind == SL_V_REAL)
            cr_assert_eq(back[c].u.d, r[c].u.d, "col %d in %s", c, s);
        else
            cr_assert(back[c].len == r[c].len &&
                          !memcmp(back[c].u.s, r[c].u.s, r[c].len),
                      "col %d in %s", c, s);
    }
    sl_free(s);
    fx_free(&fx);
}

Test(base64, both_ways)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_format_base64_encode((const unsigned char *)"hello", 5, &b);
    cr_assert_str_eq(sl_buf_cstr(&b), "aGVsbG8=");
    unsigned char out[8];
    cr_assert_eq(sl_format_base64_decode("aGVsbG8=", 8, out), 5);
    cr_assert_eq(memcmp(out, "hello", 5), 0);
    cr_assert_eq(sl_format_base64_decode("a", 1, out), -1);
    cr_assert_eq(sl_format_base64_decode("a*==", 4, out), -1);
    sl_buf_free(&b);
}

Test(json, map_with_non_string_keys_is_pairs)
{
    static sl_type t_int = {.id = SL_TYPE_INT};
    static sl_type t_m = {.id = SL_TYPE_MAP, .elem = &t_int, .value = &t_str};
    const char *names[] = {"m"};
    const sl_type *types[] = {&t_m};
    fixture fx;
    fx_init(&fx, 1, names, types);
    cr_assert_eq(fx_open(&fx, "json", "json."), 0);
    sl_value *r;
    cr_assert_eq(fx_decode(&fx, "{\"m\": {\"1\": \"a\", \"x\": [2]}}", &r), 0,
                 "%s", fx.err.msg);
    expect_text(&r[0], "[[1,\"a\"],[\"x\",[2]]]");
    char *s = fx_encode(&fx, 0);
    cr_assert_str_eq(s, "{\"m\":{\"1\":\"a\",\"x\":[2]}}");
    sl_free(s);
    cr_assert_eq(fx_decode(&fx, "{\"m\": {}}", &r), 0);
    expect_text(&r[0], "[]");
    s = fx_encode(&fx, 1);
    cr_assert_str_eq(s, "{\"m\":{}}");
    sl_free(s);
    cr_assert_eq(fx_decode(&fx, "{\"m\": {\"1\" 2}}", &r), SL_ERROR);
    fx_free(&fx);
}

/* Every allocation failing in turn: open, decode and encode report
 * SL_NOMEM (or succeed) and never crash or leak. */
Test(formats, allocation_failures)
{
    const char *recs[] = {
        "{\"b\":true,\"s\":\"a\\n\",\"by\":\"AQI=\",\"arr\":[1,{\"x\":[]}],"
        "\"m\":{\"k\":1},\"ts\":\"2024-01-02 03:04:05\"}",
        "true,1,2,3,4,1.5,2.5,1.25,\"a\"\"b\",2024-01-02,01:02:03,"
        "2024-01-02 03:04:05,2024-01-02 03:04:05,AQI=,[1],{}"};
    const char *fmts[] = {"json", "csv"};
    for (int f = 0; f < 2; f++) {
        for (long n = 0; n < 60; n++) {
            fixture fx;
            fx_all(&fx);
            sl_alloc_fail_after(n);
            const sl_format *fmt = sl_format_find(fmts[f]);
            sl_format_info info = {fx.schema, NULL, &fx.opts, NULL};
            int rc = fmt->open_decoder(&info, &fx.dec, &fx.err);
            if (!rc)
                rc = fmt->open_encoder(&info, &fx.enc, &fx.err);
            if (!rc) {
                sl_value *row = sl_batch_append_row(fx.batch);
                rc = fx.dec->decode(fx.dec, recs[f], strlen(recs[f]), fx.batch,
                                    row, &fx.err);
                cr_assert(rc == SL_OK || rc == SL_NOMEM, "%s n=%ld rc=%d %s",
                          fmts[f], n, rc, fx.err.msg);
                if (!rc) {
                    sl_buf b;
                    sl_buf_init(&b, 0);
                    rc = fx.enc->encode(fx.enc, fx.batch, 0, &b, &fx.err);
                    cr_assert(rc == SL_OK || rc == SL_NOMEM);
                    sl_buf_free(&b);
                }
            } else {
                cr_assert_eq(rc, SL_NOMEM, "%s n=%ld: %s", fmts[f], n,
                             fx.err.msg);
            }
            sl_alloc_fail_after(-1);
            fx_free(&fx);
        }
    }
}
