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

Test(cli, blank_statements_and_comments_succeed)
{
    sl_buf out, err;
    const char *argv[] = {
        sl_test_sluice_bin(), "-e",    "; -- nothing\n ; /* still ; nothing */",
        "--output-format",    "jsonl", NULL};
    cr_assert_eq(run(argv, &out, &err), 0, "%s", sl_buf_cstr(&err));
    cr_assert_str_eq(sl_buf_cstr(&out), "");
    sl_buf_free(&out);
    sl_buf_free(&err);
}

Test(cli, first_failure_stops_the_script)
{
    /* statements run one at a time; the first failure ends the run with the
     * SQL exit status and one message prefixed by its origin */
    char *dir = sl_test_tmpdir();
    char *path = sl_asprintf("%s/two.sql", dir);
    cr_assert_eq(sl_test_write_file(path, "-- two statements\n\nNOT SQL 1;\n"
                                          "NOT SQL 2;\n"),
                 0);
    sl_buf out, err;
    const char *argv[] = {sl_test_sluice_bin(), "-f", path, NULL};
    cr_assert_eq(run(argv, &out, &err), 1, "%s", sl_buf_cstr(&err));
    const char *e = sl_buf_cstr(&err);
    cr_assert(!strncmp(e, path, strlen(path)), "%s", e);
    cr_assert_null(strstr(e + 1, path), "two messages: %s", e);
    sl_buf_free(&out);
    sl_buf_free(&err);
    sl_free(path);
    sl_test_tmpdir_remove(dir);
}

Test(cli, tableau_is_an_output_format)
{
    sl_buf out, err;
    const char *argv[] = {sl_test_sluice_bin(), "--output-format=tableau", "-e",
                          ";", NULL};
    cr_assert_eq(run(argv, &out, &err), 0, "%s", sl_buf_cstr(&err));
    sl_buf_free(&out);
    sl_buf_free(&err);
}
