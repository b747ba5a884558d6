/*
 * test_runtime_core.c: the shared runtime contracts: type names and value
 * text, calendar parsing, batches (append, arena strings, bounds), and
 * WITH-option validation.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "batch.h"
#include "options.h"

static char *fmt_value(const sl_type *t, sl_value v)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_value_format(t, &v, &b, "NULL");
    return sl_buf_steal(&b);
}

Test(types, timestamps_roundtrip)
{
    int64_t ms;
    cr_assert_eq(sl_parse_timestamp("2024-02-29 13:04:05.678", 23, &ms), 0);
    sl_type ts = {.id = SL_TYPE_TIMESTAMP, .precision = 3};
    char *s = fmt_value(&ts, sl_value_int(ms));
    cr_assert_str_eq(s, "2024-02-29 13:04:05.678");
    sl_free(s);
    cr_assert_eq(sl_parse_timestamp("1969-12-31T23:59:59Z", 20, &ms), 0);
    cr_assert_eq(ms, -1000);
    cr_assert_eq(sl_parse_timestamp("2023-02-29 00:00:00", 19, &ms), SL_ERROR);
    cr_assert_eq(sl_parse_timestamp("2024-01-01 00:00:00+01:00", 25, &ms), 0);
    cr_assert_eq(ms, 1704063600000LL);
}

Test(types, value_text)
{
    char *s = fmt_value(sl_type_simple(SL_TYPE_BOOLEAN), sl_value_int(1));
    cr_assert_str_eq(s, "TRUE");
    sl_free(s);
    s = fmt_value(sl_type_simple(SL_TYPE_DOUBLE), sl_value_real(0.1));
    cr_assert_str_eq(s, "0.1");
    sl_free(s);
    sl_type dec = {.id = SL_TYPE_DECIMAL, .precision = 10, .scale = 2};
    s = fmt_value(&dec, sl_value_real(3.14159));
    cr_assert_str_eq(s, "3.14");
    sl_free(s);
    s = fmt_value(sl_type_simple(SL_TYPE_DATE), sl_value_int(19723));
    cr_assert_str_eq(s, "2024-01-01");
    sl_free(s);
    s = fmt_value(sl_type_simple(SL_TYPE_INT), sl_value_null());
    cr_assert_str_eq(s, "NULL");
    sl_free(s);
}

Test(types, type_names)
{
    sl_type inner = {.id = SL_TYPE_VARCHAR, .precision = SL_TYPE_MAX_LEN};
    sl_type arr = {.id = SL_TYPE_ARRAY, .elem = &inner, .not_null = true};
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_type_format(&arr, &b);
    cr_assert_str_eq(sl_buf_cstr(&b), "ARRAY<STRING> NOT NULL");
    sl_buf_free(&b);
}

Test(batch, append_and_clear)
{
    sl_arena a;
    sl_arena_init(&a, 1024, 0);
    const char *names[] = {"id", "name"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_BIGINT),
                              sl_type_simple(SL_TYPE_VARCHAR)};
    sl_schema *schema = sl_schema_new(&a, 2, names, types);
    cr_assert_eq(sl_schema_find(schema, "NAME"), 1);
    sl_batch *batch = sl_batch_new(schema, 4);
    for (int i = 0; i < 4; i++) {
        sl_value *row = sl_batch_append_row(batch);
        cr_assert_not_null(row);
        row[0] = sl_value_int(i);
        cr_assert_eq(sl_batch_set_text(batch, &row[1], "abc", 3), 0);
    }
    cr_assert_null(sl_batch_append_row(batch));
    cr_assert(sl_batch_is_full(batch));
    cr_assert_str_eq(sl_batch_row(batch, 3)[1].u.s, "abc");
    sl_batch_clear(batch);
    cr_assert_eq(batch->n_rows, 0);
    sl_batch_free(batch);
    sl_arena_free(&a);
}

Test(options, typed_getters_and_unused)
{
    sl_option items[] = {{"rows-per-second", "100", false},
                         {"interval", "10 s", false},
                         {"fields.id.kind", "sequence", false},
                         {"tpoic", "x", false}};
    sl_options opts = {4, items};
    sl_err err;
    sl_err_clear(&err);
    int64_t n;
    cr_assert_eq(
        sl_options_int(&opts, "rows-per-second", 1, 1, 1000000, &n, &err), 0);
    cr_assert_eq(n, 100);
    cr_assert_eq(sl_options_duration_ms(&opts, "interval", 0, &n, &err), 0);
    cr_assert_eq(n, 10000);
    sl_options_mark(&opts, "fields.id.kind");
    static const sl_option_def defs[] = {{"topic", "string", NULL, "the topic"},
                                         {NULL, NULL, NULL, NULL}};
    cr_assert_eq(
        sl_options_check_unused(&opts, "connector 'kafka'", defs, &err),
        SL_SQL);
    cr_assert_str_eq(err.msg, "unsupported option 'tpoic' for connector "
                              "'kafka' (did you mean 'topic'?)");
}

Test(options, bad_values_name_the_key)
{
    sl_option items[] = {{"n", "12x", false}, {"mode", "sideways", false}};
    sl_options opts = {2, items};
    sl_err err;
    sl_err_clear(&err);
    int64_t n;
    cr_assert_eq(sl_options_int(&opts, "n", 0, 0, 100, &n, &err), SL_SQL);
    cr_assert_str_eq(err.msg, "option 'n' must be an integer, got '12x'");
    sl_err_clear(&err);
    static const char *const modes[] = {"up", "down", NULL};
    int m;
    cr_assert_eq(sl_options_enum(&opts, "mode", modes, 0, &m, &err), SL_SQL);
    cr_assert_str_eq(err.msg, "option 'mode' must be one of 'up', 'down', got "
                              "'sideways'");
}

Test(types, extreme_temporal_values_do_not_overflow)
{
    char *s =
        fmt_value(sl_type_simple(SL_TYPE_TIMESTAMP), sl_value_int(INT64_MIN));
    cr_assert_str_eq(s, "-9223372036854775808");
    sl_free(s);
    s = fmt_value(sl_type_simple(SL_TYPE_DATE), sl_value_int(INT64_MAX));
    cr_assert_str_eq(s, "9223372036854775807");
    sl_free(s);
}
