/*
 * test_api_stmt.c: one statement at a time through the public API
 * (sluice_prepare, result metadata before rows, sluice_stmt_run) and the
 * progress handler called while a foreground job runs.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sluice.h"

static int count_rows(void *ctx, const sluice_row *row)
{
    (void)row;
    (*(int *)ctx)++;
    return 0;
}

Test(api_stmt, prepare_describes_and_runs)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    const char *sql = "SELECT 1 AS a, 'x' AS b;  SELECT 2";
    const char *tail = NULL;
    sluice_stmt *st = NULL;
    cr_assert_eq(sluice_prepare(db, sql, &tail, &st), SLUICE_OK);
    cr_assert_not_null(st);
    cr_assert_str_eq(tail, "SELECT 2");
    cr_assert_eq(sluice_stmt_column_count(st), 2);
    cr_assert_str_eq(sluice_stmt_column_name(st, 0), "a");
    cr_assert_str_eq(sluice_stmt_column_type(st, 0), "INT");
    cr_assert_str_eq(sluice_stmt_column_name(st, 1), "b");
    cr_assert_eq(sluice_stmt_result_kind(st), SLUICE_RESULT_BOUNDED);
    int n = 0;
    cr_assert_eq(sluice_stmt_run(st, count_rows, &n), SLUICE_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(sluice_stmt_run(st, count_rows, &n), SLUICE_MISUSE);
    sluice_stmt_finalize(st);
    sluice_close(db);
}

Test(api_stmt, kinds_and_blank)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    sluice_stmt *st = NULL;
    const char *tail = NULL;
    cr_assert_eq(sluice_prepare(db, "  -- nothing\n ; ", &tail, &st),
                 SLUICE_OK);
    cr_assert_null(st);
    cr_assert_eq(*tail, '\0');
    cr_assert_eq(sluice_exec(db,
                             "CREATE TABLE t (a INT) WITH ('connector' = "
                             "'datagen', 'number-of-rows' = '5')",
                             NULL, NULL),
                 SLUICE_OK);
    cr_assert_eq(sluice_prepare(db, "SELECT a FROM t", NULL, &st), SLUICE_OK);
    cr_assert_eq(sluice_stmt_result_kind(st), SLUICE_RESULT_APPEND);
    int n = 0;
    cr_assert_eq(sluice_stmt_run(st, count_rows, &n), SLUICE_OK);
    cr_assert_eq(n, 5);
    sluice_stmt_finalize(st);
    cr_assert_eq(sluice_prepare(db, "SHOW TABLES", NULL, &st), SLUICE_OK);
    cr_assert_str_eq(sluice_stmt_column_name(st, 0), "table name");
    sluice_stmt_finalize(st);
    cr_assert_eq(sluice_prepare(db, "DROP TABLE t", NULL, &st), SLUICE_OK);
    cr_assert_eq(sluice_stmt_column_count(st), 0);
    cr_assert_eq(sluice_stmt_result_kind(st), SLUICE_RESULT_NONE);
    sluice_stmt_finalize(st);
    sluice_close(db);
}

Test(api_stmt, prepare_reports_errors_with_position)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    sluice_stmt *st = NULL;
    cr_assert_eq(sluice_prepare(db, "SELECT nope", NULL, &st), SLUICE_SQL);
    cr_assert_null(st);
    cr_assert(strstr(sluice_errmsg(db), "1:8: column 'nope' not found"), "%s",
              sluice_errmsg(db));
    sluice_close(db);
}

typedef struct prog {
    int calls;
    int64_t max_in;
    int64_t total;
} prog;

static int on_progress(void *ctx, const sluice_progress *p)
{
    prog *pr = ctx;
    pr->calls++;
    if (sluice_progress_rows_in(p) > pr->max_in)
        pr->max_in = sluice_progress_rows_in(p);
    if (sluice_progress_rows_total(p) > 0)
        pr->total = sluice_progress_rows_total(p);
    return 0;
}

Test(api_stmt, progress_handler_runs_during_insert, .timeout = 60)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    prog pr = {0, 0, -1};
    cr_assert_eq(sluice_progress_handler(db, 20, on_progress, &pr), SLUICE_OK);
    int rc = sluice_exec(
        db,
        "CREATE TABLE s (a BIGINT) WITH ('connector' = 'datagen', "
        "'number-of-rows' = '20000', 'rows-per-second' = '200000');"
        "CREATE TABLE k (a BIGINT) WITH ('connector' = 'blackhole');"
        "INSERT INTO k SELECT a FROM s;",
        NULL, NULL);
    cr_assert_eq(rc, SLUICE_OK, "%s", sluice_errmsg(db));
    cr_assert(pr.calls >= 2, "%d progress calls", pr.calls);
    cr_assert_eq(pr.max_in, 20000);
    /* datagen with 'number-of-rows' is bounded: the total is known */
    cr_assert_eq(pr.total, 20000, "total %lld", (long long)pr.total);
    sluice_close(db);
}
