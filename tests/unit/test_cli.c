/*
 * test_cli.c: the `sluice` program as a user runs it: --version, --help,
 * bad usage (exit 2), unreadable files, output-format validation.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

static int run(const char *const argv[], sl_buf *out, sl_buf *err)
{
    sl_buf_init(out, 0);
    sl_buf_init(err, 0);
    return sl_test_run(argv, NULL, out, err, 30000);
}

Test(cli, version)
{
    sl_buf out, err;
    const char *argv[] = {sl_test_sluice_bin(), "--version", NULL};
    cr_assert_eq(run(argv, &out, &err), 0);
    cr_assert_str_eq(sl_buf_cstr(&out), "sluice " SLUICE_VERSION "\n");
    sl_buf_free(&out);
    sl_buf_free(&err);
}

Test(cli, help)
{
    sl_buf out, err;
    const char *argv[] = {sl_test_sluice_bin(), "--help", NULL};
    cr_assert_eq(run(argv, &out, &err), 0);
    cr_assert(strstr(sl_buf_cstr(&out), "Usage: sluice"));
    cr_assert(strstr(sl_buf_cstr(&out), "--output-format"));
    sl_buf_free(&out);
    sl_buf_free(&err);
}

Test(cli, unknown_flag_is_usage_error)
{
    sl_buf out, err;
    const char *argv[] = {sl_test_sluice_bin(), "--bogus", NULL};
    cr_assert_eq(run(argv, &out, &err), 2);
    cr_assert(strstr(sl_buf_cstr(&err), "unknown argument '--bogus'"));
    sl_buf_free(&out);
    sl_buf_free(&err);
}

Test(cli, bad_output_format)
{
    sl_buf out, err;
    const char *argv[] = {
        sl_test_sluice_bin(), "--output-format", "xml", "-e", ";", NULL};
    cr_assert_eq(run(argv, &out, &err), 2);
    cr_assert(strstr(sl_buf_cstr(&err), "unknown output format 'xml'"));
    sl_buf_free(&out);
    sl_buf_free(&err);
}

Test(cli, missing_file)
{
    sl_buf out, err;
    const char *argv[] = {sl_test_sluice_bin(), "-f", "/nonexistent/x.sql",
                          NULL};
    cr_assert_eq(run(argv, &out, &err), 2);
    cr_assert(strstr(sl_buf_cstr(&err), "cannot open /nonexistent/x.sql"));
    sl_buf_free(&out);
    sl_buf_free(&err);
}
