/*
 * test_util.c: unit tests for util/ (arena, bounded buffer, errors, strict
 * number parsing, edit distance, allocation failure injection).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "util.h"

Test(util, buf_grows_and_stays_terminated)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    for (int i = 0; i < 1000; i++)
        sl_buf_printf(&b, "%d,", i);
    cr_assert_eq(b.rc, SL_OK);
    cr_assert_eq(strncmp(b.data, "0,1,2,", 6), 0);
    cr_assert_eq(b.data[b.len], '\0');
    sl_buf_free(&b);
}

Test(util, buf_bound_is_sticky)
{
    sl_buf b;
    sl_buf_init(&b, 8);
    cr_assert_eq(sl_buf_puts(&b, "12345678"), SL_OK);
    cr_assert_eq(sl_buf_putc(&b, '9'), SL_LIMIT);
    cr_assert_eq(sl_buf_puts(&b, ""), SL_LIMIT);
    cr_assert_eq(b.len, 8);
    sl_buf_free(&b);
}

Test(util, arena_alignment_and_reset)
{
    sl_arena a;
    sl_arena_init(&a, 128, 0);
    char *s = sl_arena_strndup(&a, "hello", 5);
    cr_assert_str_eq(s, "hello");
    void *big = sl_arena_alloc(&a, 1000);
    cr_assert_not_null(big);
    void *p = sl_arena_alloc(&a, 3);
    cr_assert_eq((uintptr_t)p % 8, 0);
    sl_arena_reset(&a);
    cr_assert_eq(a.used_bytes, 0);
    cr_assert_not_null(sl_arena_alloc(&a, 16));
    sl_arena_free(&a);
}

Test(util, arena_bound)
{
    sl_arena a;
    sl_arena_init(&a, 64, 100);
    cr_assert_not_null(sl_arena_alloc(&a, 96));
    cr_assert_null(sl_arena_alloc(&a, 16));
    sl_arena_free(&a);
}

Test(util, parse_numbers_strictly)
{
    int64_t v;
    double d;
    cr_assert_eq(sl_parse_int64(" 42 ", 4, &v), SL_OK);
    cr_assert_eq(v, 42);
    cr_assert_neq(sl_parse_int64("42x", 3, &v), SL_OK);
    cr_assert_neq(sl_parse_int64("", 0, &v), SL_OK);
    cr_assert_neq(sl_parse_int64("99999999999999999999", 20, &v), SL_OK);
    cr_assert_eq(sl_parse_double("1.5e3", 5, &d), SL_OK);
    cr_assert_float_eq(d, 1500.0, 1e-9);
    cr_assert_neq(sl_parse_double("abc", 3, &d), SL_OK);
}

Test(util, errors_first_wins)
{
    sl_err e;
    sl_err_clear(&e);
    cr_assert_eq(sl_err_set(&e, SL_IO, "first %d", 1), SL_IO);
    sl_err_set(&e, SL_SQL, "second");
    cr_assert_eq(e.code, SL_IO);
    cr_assert_str_eq(e.msg, "first 1");
    sl_err_reset(&e, SL_SQL, "third");
    cr_assert_str_eq(e.msg, "third");
}

Test(util, edit_distance)
{
    cr_assert_eq(sl_edit_distance("user_id", "usr_id", 3), 1);
    cr_assert_eq(sl_edit_distance("URL", "url", 3), 0);
    cr_assert_eq(sl_edit_distance("abc", "xyzxyz", 2), 3);
}

Test(util, alloc_failure_injection)
{
    sl_alloc_fail_after(1);
    void *a = sl_malloc(8);
    void *b = sl_malloc(8);
    sl_alloc_fail_after(-1);
    cr_assert_not_null(a);
    cr_assert_null(b);
    sl_free(a);
    sl_buf buf;
    sl_buf_init(&buf, 0);
    sl_alloc_fail_after(0);
    cr_assert_eq(sl_buf_puts(&buf, "x"), SL_NOMEM);
    sl_alloc_fail_after(-1);
    cr_assert_eq(buf.rc, SL_NOMEM);
    sl_buf_free(&buf);
}

Test(util, result_code_names)
{
    cr_assert_str_eq(sluice_errname(SLUICE_NOMEM), "SLUICE_NOMEM");
    cr_assert_str_eq(sluice_errstr(SLUICE_OK), "not an error");
    cr_assert_str_eq(sluice_errname(9999), "SLUICE_UNKNOWN");
}
