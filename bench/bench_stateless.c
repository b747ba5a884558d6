/*
 * bench_stateless.c: issue 4's benchmark: a stateless continuous query,
 * datagen -> filter/project -> blackhole, run through the public API on
 * one job thread, printed next to SQLite's own scan+filter rate over the
 * same number of 5-column rows in a plain table, measured in the same run.
 *
 *   ./build/bench/bench_stateless [rows]      (default 5000000)
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice.h"
#include "util.h"

static double secs(int64_t t0)
{
    return (double)(sl_mono_ns() - t0) / 1e9;
}

static int run(sluice *db, const char *sql)
{
    int rc = sluice_exec(db, sql, NULL, NULL);
    if (rc)
        fprintf(stderr, "error: %s\n", sluice_errmsg(db));
    return rc;
}

static double sluice_rate(long rows, const char *query)
{
    sluice *db = NULL;
    if (sluice_open(&db))
        return 0;
    char ddl[2048];
    sl_snprintf(ddl, sizeof(ddl),
                "CREATE TABLE src (id BIGINT, user_id BIGINT, url STRING, "
                "amount DOUBLE, ts TIMESTAMP(3)) WITH ("
                "'connector' = 'datagen', 'number-of-rows' = '%ld', "
                "'rows-per-second' = '2000000000', 'seed' = '42', "
                "'fields.id.kind' = 'sequence', 'fields.id.start' = '1', "
                "'fields.id.end' = '%ld', 'fields.user_id.min' = '1', "
                "'fields.user_id.max' = '100', 'fields.url.length' = '20');"
                "CREATE TABLE sink (id BIGINT, user_id BIGINT, url STRING, "
                "amount DOUBLE) WITH ('connector' = 'blackhole');"
                "SET 'sluice.batch-rows' = '4096';",
                rows, rows);
    if (run(db, ddl)) {
        sluice_close(db);
        return 0;
    }
    int64_t t0 = sl_mono_ns();
    int rc = run(db, query);
    double s = secs(t0);
    sluice_close(db);
    return rc ? 0 : (double)rows / s;
}

static double sqlite_rate(long rows)
{
    sqlite3 *db = NULL;
    sqlite3_open(":memory:", &db);
    sqlite3_exec(db,
                 "CREATE TABLE t (id INTEGER, user_id INTEGER, url TEXT, "
                 "amount REAL, ts INTEGER)",
                 NULL, NULL, NULL);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *ins = NULL;
    sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, ?, ?, ?, ?)", -1, &ins,
                       NULL);
    uint64_t x = 42;
    char url[21];
    for (long i = 0; i < rows; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        for (int k = 0; k < 20; k++)
            url[k] = (char)('a' + ((x >> (k * 3)) & 15));
        url[20] = '\0';
        sqlite3_bind_int64(ins, 1, i + 1);
        sqlite3_bind_int64(ins, 2, (int64_t)(1 + (x >> 33) % 100));
        sqlite3_bind_text(ins, 3, url, 20, SQLITE_STATIC);
        sqlite3_bind_double(ins, 4, (double)(x >> 40) / 100.0);
        sqlite3_bind_int64(ins, 5, 1700000000000 + i);
        sqlite3_step(ins);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_stmt *q = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT id, user_id, lower(url), amount FROM t WHERE "
                       "user_id % 7 = 0",
                       -1, &q, NULL);
    int64_t t0 = sl_mono_ns();
    long n = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        for (int c = 0; c < 4; c++)
            (void)sqlite3_column_text(q, c);
        n++;
    }
    double s = secs(t0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    (void)n;
    return (double)rows / s;
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? strtol(argv[1], NULL, 10) : 5000000;
    if (rows <= 0)
        rows = 5000000;
    printf("bench_stateless: %ld rows of 5 columns (BIGINT, BIGINT, "
           "STRING(20), DOUBLE, TIMESTAMP), one job thread, %ld cores\n",
           rows, sysconf(_SC_NPROCESSORS_ONLN));
    double gen = sluice_rate(rows, "INSERT INTO sink SELECT id, user_id, "
                                   "url, amount FROM src;");
    double q = sluice_rate(rows, "INSERT INTO sink SELECT id, user_id, "
                                 "LOWER(url), amount FROM src WHERE "
                                 "user_id % 7 = 0;");
    double ref = sqlite_rate(rows);
    printf("  datagen -> project -> blackhole:         %10.0f rows/s\n", gen);
    printf("  datagen -> filter/project -> blackhole:  %10.0f rows/s "
           "(goal >= 5000000)\n",
           q);
    printf("  SQLite scan+filter+project, plain table: %10.0f rows/s "
           "(reference, same run)\n",
           ref);
    printf("  pipeline / SQLite raw: %.0f%%\n", ref > 0 ? 100.0 * q / ref : 0);
    return gen > 0 && q > 0 ? 0 : 1;
}
