/*
 * test_e2e_stateless.c: issue 4's end-to-end example run by the `sluice`
 * program, checked against a reference computation: SQLite itself, run
 * directly over the same generated rows.
 *
 *   datagen (seeded) -> filter/project stage -> filesystem sink (jsonl)
 *
 * The rows are dumped once through the same datagen table into raw.jsonl;
 * the reference loads them into a plain SQLite table and runs the query's
 * SQL there; the job's out.jsonl must hold exactly those rows, in order.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define DDL                                                                    \
    "CREATE TABLE clicks (user_id BIGINT, url STRING, ts TIMESTAMP(3)) "       \
    "WITH ('connector'='datagen', 'number-of-rows'='200000', "                 \
    "'rows-per-second'='100000000', 'seed'='7', "                              \
    "'fields.user_id.min'='1', 'fields.user_id.max'='100');\n"

static void run_sql(const char *dir, const char *name, const char *sql)
{
    char path[1024];
    sl_snprintf(path, sizeof(path), "%s/%s", dir, name);
    cr_assert_eq(sl_test_write_file(path, sql), SL_OK);
    sl_buf err;
    sl_buf_init(&err, 0);
    const char *argv[] = {sl_test_sluice_bin(), "-f", path, NULL};
    int st = sl_test_run(argv, NULL, NULL, &err, 120000);
    cr_assert_eq(st, 0, "sluice -f %s exited %d: %s", name, st,
                 sl_buf_cstr(&err));
    sl_buf_free(&err);
}

static void load(sqlite3 *db, const char *table, const char *path,
                 const char *cols)
{
    char *text = sl_test_read_file(path, NULL);
    cr_assert_not_null(text, "cannot read %s", path);
    char sql[512];
    sl_snprintf(sql, sizeof(sql), "CREATE TABLE %s (j TEXT)", table);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sl_snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES (?)", table);
    sqlite3_stmt *ins = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &ins, NULL), SQLITE_OK);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len) {
            sqlite3_bind_text(ins, 1, line, (int)len, SQLITE_STATIC);
            cr_assert_eq(sqlite3_step(ins), SQLITE_DONE);
            sqlite3_reset(ins);
        }
        line = nl ? nl + 1 : line + len;
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_finalize(ins);
    sl_free(text);
    (void)cols;
}

Test(e2e, issue4_example_matches_reference, .timeout = 300)
{
    char *dir = sl_test_tmpdir();
    cr_assert_not_null(dir);
    char sql[4096];
    sl_snprintf(sql, sizeof(sql),
                DDL "CREATE TABLE raw (user_id BIGINT, url STRING, ts "
                    "TIMESTAMP(3)) WITH ('connector'='filesystem', "
                    "'path'='%s/raw.jsonl', 'format'='json');\n"
                    "INSERT INTO raw SELECT * FROM clicks;\n",
                dir);
    run_sql(dir, "dump.sql", sql);
    sl_snprintf(sql, sizeof(sql),
                DDL "CREATE TABLE out (user_id BIGINT, host STRING) WITH "
                    "('connector'='filesystem', 'path'='%s/out.jsonl', "
                    "'format'='json');\n"
                    "INSERT INTO out SELECT user_id, lower(substr(url, 1, "
                    "12)) FROM clicks WHERE user_id %% 7 = 0;\n",
                dir);
    run_sql(dir, "job.sql", sql);

    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    char path[1024];
    sl_snprintf(path, sizeof(path), "%s/raw.jsonl", dir);
    load(db, "raw", path, NULL);
    sl_snprintf(path, sizeof(path), "%s/out.jsonl", dir);
    load(db, "out", path, NULL);

    sqlite3_stmt *n_raw = NULL;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM raw", -1, &n_raw, NULL);
    cr_assert_eq(sqlite3_step(n_raw), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int64(n_raw, 0), 200000);
    sqlite3_finalize(n_raw);

    /* reference: the same query in SQLite, in input order */
    sqlite3_stmt *ref = NULL, *got = NULL;
    cr_assert_eq(sqlite3_prepare_v2(
                     db,
                     "SELECT json_extract(j, '$.user_id'), "
                     "lower(substr(json_extract(j, '$.url'), 1, 12)) FROM "
                     "raw WHERE json_extract(j, '$.user_id') % 7 = 0 "
                     "ORDER BY rowid",
                     -1, &ref, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db,
                                    "SELECT json_extract(j, '$.user_id'), "
                                    "json_extract(j, '$.host') FROM out "
                                    "ORDER BY rowid",
                                    -1, &got, NULL),
                 SQLITE_OK);
    long n = 0;
    for (;;) {
        int a = sqlite3_step(ref), b = sqlite3_step(got);
        cr_assert_eq(a, b, "row %ld: reference has %s, job output has %s", n,
                     a == SQLITE_ROW ? "a row" : "none",
                     b == SQLITE_ROW ? "a row" : "none");
        if (a != SQLITE_ROW)
            break;
        cr_assert_eq(sqlite3_column_int64(ref, 0), sqlite3_column_int64(got, 0),
                     "row %ld user_id", n);
        const char *r = (const char *)sqlite3_column_text(ref, 1);
        const char *g = (const char *)sqlite3_column_text(got, 1);
        cr_assert_str_eq(r ? r : "<null>", g ? g : "<null>", "row %ld host", n);
        n++;
    }
    cr_assert(n > 20000 && n < 40000, "%ld rows passed the filter", n);
    sqlite3_finalize(ref);
    sqlite3_finalize(got);
    sqlite3_close(db);
    sl_test_tmpdir_remove(dir);
}
