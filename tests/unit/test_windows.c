/*
 * test_windows.c: event time, window aggregates and updating aggregates
 * checked against a reference computation: SQLite over the whole bounded
 * input.
 *
 * The input is generated here (seeded): rows arrive out of order by up to
 * 1.5 s and the watermark lags 2 s, so no row is late and every window
 * result must equal the reference GROUP BY over all rows. A second input
 * appends rows far behind the watermark: they are dropped and counted.
 * The watermark tracker is tested on its own with explicit clocks (split
 * minimum, idle splits).
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "sluice.h"
#include "watermark.h"

#define N_ROWS  30000
#define BASE_MS 1704067200000LL /* 2024-01-01 00:00:00 */

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    return sl_test_xorshift(&rng);
}

/* Write the CSV and load the same rows into ref(k, v, ts). n_late rows far
 * behind the watermark are appended to the file only. */
static void make_input(const char *path, sqlite3 *ref, int n_late)
{
    sl_buf csv;
    sl_buf_init(&csv, 0);
    cr_assert_eq(sqlite3_exec(ref,
                              "CREATE TABLE ref(k TEXT, v INTEGER, ts "
                              "INTEGER); BEGIN",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_stmt *ins = NULL;
    cr_assert_eq(sqlite3_prepare_v2(ref, "INSERT INTO ref VALUES (?, ?, ?)", -1,
                                    &ins, NULL),
                 SQLITE_OK);
    for (int i = 0; i < N_ROWS + n_late; i++) {
        bool late = i >= N_ROWS;
        int k = (int)(next_rand() % 50);
        int v = (int)(next_rand() % 1000) - 100;
        int64_t ts =
            late ? BASE_MS + (int64_t)(i - N_ROWS) * 100
                 : BASE_MS + (int64_t)i * 7 - (int64_t)(next_rand() % 1500);
        sl_buf ts_text;
        sl_buf_init(&ts_text, 0);
        sl_format_timestamp(ts, 3, &ts_text);
        sl_buf_printf(&csv, "k%d,%d,%s\n", k, v, sl_buf_cstr(&ts_text));
        sl_buf_free(&ts_text);
        if (late)
            continue;
        char kt[16];
        sl_snprintf(kt, sizeof(kt), "k%d", k);
        sqlite3_bind_text(ins, 1, kt, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(ins, 2, v);
        sqlite3_bind_int64(ins, 3, ts);
        cr_assert_eq(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    sqlite3_exec(ref, "COMMIT", NULL, NULL, NULL);
    cr_assert_eq(sl_test_write_file(path, sl_buf_cstr(&csv)), SL_OK);
    sl_buf_free(&csv);
}

/* Table t over the CSV of make_input (n_late rows far behind the
 * watermark), WATERMARK 2 s behind ts, read batch_rows rows at a time;
 * ref holds the on-time rows for the reference queries. */
typedef struct wsetup {
    char *dir;
    sqlite3 *ref;
    sluice *db;
} wsetup;

static void wsetup_open(wsetup *w, int n_late, const char *batch_rows)
{
    w->dir = sl_test_tmpdir();
    cr_assert_not_null(w->dir);
    char path[1024];
    sl_snprintf(path, sizeof(path), "%s/ev.csv", w->dir);
    w->ref = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &w->ref), SQLITE_OK);
    make_input(path, w->ref, n_late);
    w->db = NULL;
    cr_assert_eq(sluice_open(&w->db), SLUICE_OK);
    char sql[2048];
    sl_snprintf(sql, sizeof(sql),
                "SET 'sluice.batch-rows' = '%s';"
                "CREATE TABLE t (k STRING, v INT, ts TIMESTAMP(3), WATERMARK "
                "FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector' = "
                "'filesystem', 'path' = '%s', 'format' = 'csv');",
                batch_rows, path);
    cr_assert_eq(sluice_exec(w->db, sql, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(w->db));
}

static void wsetup_close(wsetup *w)
{
    sluice_close(w->db);
    sqlite3_close(w->ref);
    sl_test_tmpdir_remove(w->dir);
}

static void assert_same(sl_test_lines *got, sl_test_lines *want,
                        const char *what)
{
    sl_test_lines_sort(got);
    sl_test_lines_sort(want);
    cr_assert_gt(want->n, 40, "%s: reference too small", what);
    cr_assert_eq(got->n, want->n, "%s: %d rows, reference %d", what, got->n,
                 want->n);
    for (int i = 0; i < got->n; i++)
        cr_assert_str_eq(got->v[i], want->v[i], "%s: row %d: %s vs %s", what, i,
                         got->v[i], want->v[i]);
}

#define TS(x)                                                                  \
    "strftime('%%Y-%%m-%%d %%H:%%M:%%f', (" x ") / 1000.0, 'unixepoch')"

typedef struct wcase {
    const char *name;
    const char *tvf;    /* window TVF over t */
    const char *starts; /* reference: (ws, we) pairs per row as SQL FROM */
} wcase;

static const wcase cases[] = {
    {"tumble", "TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND)",
     "(SELECT r.*, ts - ts % 1000 AS ws, ts - ts % 1000 + 1000 AS we FROM "
     "ref r)"},
    {"hop",
     "HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '500' MILLISECOND, "
     "INTERVAL '2' SECOND)",
     "(SELECT r.*, ts - ts % 500 - j * 500 AS ws, ts - ts % 500 - j * 500 + "
     "2000 AS we FROM ref r, (SELECT 0 AS j UNION ALL SELECT 1 UNION ALL "
     "SELECT 2 UNION ALL SELECT 3))"},
    {"cumulate",
     "CUMULATE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND, "
     "INTERVAL '3' SECOND)",
     "(SELECT r.*, ts - ts % 3000 AS ws, ts - ts % 3000 + (j + 1) * 1000 AS "
     "we FROM ref r, (SELECT 0 AS j UNION ALL SELECT 1 UNION ALL SELECT 2) "
     "WHERE ts - ts % 3000 + (j + 1) * 1000 > ts)"},
};

static void run_windows(int n_late, const char *batch_rows)
{
    wsetup ws;
    wsetup_open(&ws, n_late, batch_rows);
    sqlite3 *ref = ws.ref;
    sluice *db = ws.db;
    char sql[4096];
    for (size_t c = 0; c < SL_ARRAY_LEN(cases); c++) {
        sl_test_lines got = {0}, want = {0};
        sl_snprintf(sql, sizeof(sql),
                    "SELECT window_start, window_end, k, COUNT(*), SUM(v), "
                    "MIN(v), MAX(v), AVG(v), COUNT(DISTINCT v %% 10) FROM "
                    "TABLE(%s) GROUP BY window_start, window_end, k",
                    cases[c].tvf);
        cr_assert_eq(sluice_exec(db, sql, sl_test_collect_inserts, &got),
                     SLUICE_OK, "%s: %s", cases[c].name, sluice_errmsg(db));
        sl_snprintf(
            sql, sizeof(sql),
            "SELECT " TS("ws") ", " TS(
                "we") ", k, count(*), sum(v), "
                      "min(v), max(v), sum(v) / count(v), count(DISTINCT v %% "
                      "10) FROM %s GROUP BY ws, we, k",
            cases[c].starts);
        sl_test_query_lines(ref, sql, &want);
        assert_same(&got, &want, cases[c].name);
        sl_test_lines_free(&got);
        sl_test_lines_free(&want);
    }
    wsetup_close(&ws);
}

/* PERCENTILE(v, p [, frequency]) per window against SQLite: the values of
 * each (window, key) repeated by their frequency (ABS(v) % 3: 0 to 2
 * times), ranked, and the two nearest ranks interpolated. A group whose
 * frequencies are all 0 gives NULL. */
static void pct_ref_rank(sl_buf *b, const char *p, int i)
{
    sl_buf_printf(b,
                  ", MAX(CASE WHEN rn = CAST(%s * (n - 1) AS INT) THEN v END) "
                  "AS lo%d, MAX(CASE WHEN rn = CAST(%s * (n - 1) AS INT) + "
                  "(%s * (n - 1) > CAST(%s * (n - 1) AS INT)) THEN v END) AS "
                  "hi%d",
                  p, i, p, p, p, i);
}

static void pct_ref_value(sl_buf *b, const char *p, int i)
{
    sl_buf_printf(b,
                  ", ROUND(lo%d + (%s * (n - 1) - CAST(%s * (n - 1) AS INT)) "
                  "* (hi%d - lo%d), 6)",
                  i, p, p, i, i);
}

static void pct_ref_sql(sl_buf *b, const char *starts, bool freq)
{
    sl_buf_printf(b,
                  "WITH x AS (SELECT ws, we, k, v FROM %s, (SELECT 1 AS j "
                  "UNION ALL SELECT 2) m WHERE m.j <= %s), s AS (SELECT ws, "
                  "we, k, v, row_number() OVER (PARTITION BY ws, we, k ORDER "
                  "BY v) - 1 AS rn, count(*) OVER (PARTITION BY ws, we, k) AS "
                  "n FROM x), r AS (SELECT ws, we, k, n",
                  starts, freq ? "abs(v) % 3" : "1");
    pct_ref_rank(b, "0.3", 0);
    pct_ref_rank(b, "1.0", 1);
    sl_buf_printf(b,
                  " FROM s GROUP BY ws, we, k), g AS (SELECT ws, we, k, "
                  "count(*) AS c FROM %s GROUP BY ws, we, k) SELECT " TS(
                      "g.ws") ", " TS("g.we") ", g.k",
                  starts);
    pct_ref_value(b, "0.3", 0);
    pct_ref_value(b, "1.0", 1);
    sl_buf_puts(b, ", g.c FROM g LEFT JOIN r USING (ws, we, k)");
}

Test(windows, percentile_matches_reference, .timeout = 120)
{
    wsetup ws;
    wsetup_open(&ws, 0, "333");
    sqlite3 *ref = ws.ref;
    sluice *db = ws.db;
    char sql[4096];
    for (size_t c = 0; c < SL_ARRAY_LEN(cases); c++) {
        for (int freq = 0; freq < 2; freq++) {
            sl_test_lines got = {0}, want = {0};
            sl_snprintf(sql, sizeof(sql),
                        "SELECT window_start, window_end, k, "
                        "ROUND(PERCENTILE(v, 0.3%s), 6), ROUND(PERCENTILE(v, "
                        "1%s), 6), COUNT(*) FROM TABLE(%s) GROUP BY "
                        "window_start, window_end, k",
                        freq ? ", ABS(v) % 3" : "", freq ? ", ABS(v) % 3" : "",
                        cases[c].tvf);
            cr_assert_eq(sluice_exec(db, sql, sl_test_collect_inserts, &got),
                         SLUICE_OK, "%s: %s", cases[c].name, sluice_errmsg(db));
            sl_buf b;
            sl_buf_init(&b, 0);
            pct_ref_sql(&b, cases[c].starts, freq);
            sl_test_query_lines(ref, sl_buf_cstr(&b), &want);
            sl_buf_free(&b);
            assert_same(&got, &want, cases[c].name);
            int nulls = 0;
            for (int i = 0; i < got.n; i++)
                nulls += strstr(got.v[i], "|NULL|NULL|") != NULL;
            cr_assert(freq ? nulls > 0 : nulls == 0,
                      "%s: %d groups without values", cases[c].name, nulls);
            sl_test_lines_free(&got);
            sl_test_lines_free(&want);
        }
    }
    wsetup_close(&ws);
}

Test(windows, match_reference_out_of_order, .timeout = 120)
{
    run_windows(0, "1024");
}

Test(windows, match_reference_small_batches, .timeout = 120)
{
    run_windows(0, "7");
}

Test(windows, late_rows_dropped, .timeout = 120)
{
    run_windows(25, "512");
}

/* The late rows show in the job's metrics (SHOW JOBS). */
static int show_jobs(void *ctx, const sluice_row *row)
{
    sl_test_lines *l = ctx;
    for (int i = 0; i < sluice_row_column_count(row); i++)
        if (!strcmp(sluice_row_column_name(row, i), "late rows"))
            sl_test_lines_add(l, sluice_row_text(row, i));
    return 0;
}

Test(windows, late_rows_counted_in_show_jobs, .timeout = 120)
{
    char *dir = sl_test_tmpdir();
    cr_assert_not_null(dir);
    char path[1024];
    sl_snprintf(path, sizeof(path), "%s/ev.csv", dir);
    sqlite3 *ref = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &ref), SQLITE_OK);
    make_input(path, ref, 25);
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    char sql[4096];
    sl_snprintf(sql, sizeof(sql),
                "SET 'table.dml-sync' = 'false';"
                "CREATE TABLE t (k STRING, v INT, ts TIMESTAMP(3), WATERMARK "
                "FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector' = "
                "'filesystem', 'path' = '%s', 'format' = 'csv');"
                "CREATE TABLE o (ws TIMESTAMP(3), c BIGINT) WITH "
                "('connector' = 'blackhole');"
                "INSERT INTO o SELECT window_start, COUNT(*) FROM "
                "TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND)) "
                "GROUP BY window_start, window_end;",
                path);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    sl_test_lines late = {0};
    for (int tries = 0; tries < 200; tries++) {
        sl_test_lines_free(&late);
        cr_assert_eq(sluice_exec(db, "SHOW JOBS", show_jobs, &late), SLUICE_OK);
        if (late.n == 1 && !strcmp(late.v[0], "25"))
            break;
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
    }
    cr_assert_eq(late.n, 1);
    cr_assert_str_eq(late.v[0], "25");
    sl_test_lines_free(&late);
    sluice_close(db);
    sqlite3_close(ref);
    sl_test_tmpdir_remove(dir);
}

/* Non-windowed GROUP BY: applying the changelog gives the reference. */
typedef struct state {
    sqlite3 *db;
    int n_updates;
} state;

static int apply(void *ctx, const sluice_row *row)
{
    state *s = ctx;
    int kind = sluice_row_kind(row);
    const char *k = sluice_row_text(row, 0);
    char sql[512];
    if (kind == SLUICE_ROW_INSERT || kind == SLUICE_ROW_UPDATE_AFTER) {
        sl_snprintf(sql, sizeof(sql),
                    "INSERT INTO got VALUES ('%s', '%s', '%s', '%s')", k,
                    sluice_row_text(row, 1), sluice_row_text(row, 2),
                    sluice_row_text(row, 3));
    } else {
        s->n_updates++;
        sl_snprintf(sql, sizeof(sql),
                    "DELETE FROM got WHERE k = '%s' AND c = '%s' AND s = '%s' "
                    "AND m = '%s'",
                    k, sluice_row_text(row, 1), sluice_row_text(row, 2),
                    sluice_row_text(row, 3));
    }
    cr_assert_eq(sqlite3_exec(s->db, sql, NULL, NULL, NULL), SQLITE_OK);
    if (kind != SLUICE_ROW_INSERT && kind != SLUICE_ROW_UPDATE_AFTER)
        cr_assert_eq(sqlite3_changes(s->db), 1,
                     "retraction of a row not "
                     "emitted before");
    return 0;
}

Test(windows, updating_group_by_matches_reference, .timeout = 120)
{
    char *dir = sl_test_tmpdir();
    cr_assert_not_null(dir);
    char path[1024];
    sl_snprintf(path, sizeof(path), "%s/ev.csv", dir);
    sqlite3 *ref = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &ref), SQLITE_OK);
    make_input(path, ref, 0);
    cr_assert_eq(sqlite3_exec(ref,
                              "CREATE TABLE got(k TEXT, c TEXT, s TEXT, m "
                              "TEXT)",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    char sql[4096];
    sl_snprintf(sql, sizeof(sql),
                "SET 'sluice.batch-rows' = '100';"
                "CREATE TABLE t (k STRING, v INT, ts TIMESTAMP(3)) WITH "
                "('connector' = 'filesystem', 'path' = '%s', 'format' = "
                "'csv');",
                path);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK);
    state s = {ref, 0};
    cr_assert_eq(sluice_exec(db,
                             "SELECT k, COUNT(*), SUM(v), MAX(v) FROM t "
                             "GROUP BY k",
                             apply, &s),
                 SLUICE_OK, "%s", sluice_errmsg(db));
    cr_assert_gt(s.n_updates, 1000);
    sl_test_lines got = {0}, want = {0};
    sl_test_query_lines(ref, "SELECT k, c, s, m FROM got", &got);
    sl_test_query_lines(
        ref, "SELECT k, count(*), sum(v), max(v) FROM ref GROUP BY k", &want);
    assert_same(&got, &want, "group by");
    sl_test_lines_free(&got);
    sl_test_lines_free(&want);
    sluice_close(db);
    sqlite3_close(ref);
    sl_test_tmpdir_remove(dir);
}

Test(watermark, minimum_over_splits_and_idle)
{
    sl_wm_tracker t;
    sl_wm_init(&t, 1000, 0);
    bool idle = false;
    cr_assert_eq(sl_wm_current(&t, 10, &idle), SL_NO_EVENT_TIME);
    cr_assert(!idle);
    cr_assert_eq(sl_wm_note(&t, 0, 500, 10), SL_OK);
    cr_assert_eq(sl_wm_note(&t, 1, 200, 10), SL_OK);
    cr_assert_eq(sl_wm_note(&t, 0, 400, 20), SL_OK); /* never goes back */
    cr_assert_eq(sl_wm_current(&t, 30, &idle), 200);
    cr_assert_eq(sl_wm_note(&t, 0, 900, 600), SL_OK);
    /* split 1 quiet for 1 s: ignored */
    cr_assert_eq(sl_wm_current(&t, 1100, &idle), 900);
    cr_assert(!idle);
    /* everything quiet: the source is idle */
    sl_wm_current(&t, 5000, &idle);
    cr_assert(idle);
    /* split 1 wakes up and holds the watermark back again */
    cr_assert_eq(sl_wm_note(&t, 1, 300, 5000), SL_OK);
    cr_assert_eq(sl_wm_current(&t, 5001, &idle), 300);
    sl_wm_free(&t);
    /* no idle timeout: a quiet split holds the watermark forever */
    sl_wm_init(&t, 0, 0);
    sl_wm_note(&t, 0, 100, 0);
    sl_wm_note(&t, 1, 900, 0);
    cr_assert_eq(sl_wm_current(&t, 1000000, &idle), 100);
    sl_wm_free(&t);
}

/* ---- Nexmark: the supported queries on 100k events vs SQLite ---------- */

#define NX_DDL                                                                 \
    "CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, channel "  \
    "STRING, url STRING, dateTime TIMESTAMP(3), extra STRING, WATERMARK FOR "  \
    "dateTime AS dateTime - INTERVAL '4' SECOND) WITH ('connector' = "         \
    "'nexmark', 'event.type' = 'bid', 'events-num' = '100000', 'tps' = "       \
    "'10000', 'seed' = '5');"

static int load_bid(void *ctx, const sluice_row *row)
{
    sqlite3_stmt *ins = ctx;
    for (int i = 0; i < 4; i++)
        sqlite3_bind_text(ins, i + 1, sluice_row_text(row, i), -1,
                          SQLITE_TRANSIENT);
    cr_assert_eq(sqlite3_step(ins), SQLITE_DONE);
    sqlite3_reset(ins);
    return 0;
}

#define TSX(x) "strftime('%Y-%m-%d %H:%M:%f', (" x ") / 1000.0, 'unixepoch')"
#define MS(x)                                                                  \
    "CAST(round((julianday(" x ") - 2440587.5) * 86400000) AS INTEGER)"

Test(nexmark, queries_match_reference, .timeout = 300)
{
    sqlite3 *ref = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &ref), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(ref,
                              "CREATE TABLE b(auction INTEGER, bidder "
                              "INTEGER, price INTEGER, t TEXT); BEGIN",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_stmt *ins = NULL;
    cr_assert_eq(sqlite3_prepare_v2(ref, "INSERT INTO b VALUES (?, ?, ?, ?)",
                                    -1, &ins, NULL),
                 SQLITE_OK);
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    cr_assert_eq(sluice_exec(db, NX_DDL, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    cr_assert_eq(sluice_exec(db,
                             "SELECT auction, bidder, price, dateTime FROM "
                             "bid",
                             load_bid, ins),
                 SLUICE_OK, "%s", sluice_errmsg(db));
    sqlite3_finalize(ins);
    sqlite3_exec(ref, "COMMIT", NULL, NULL, NULL);
    sl_test_lines n = {0};
    sl_test_query_lines(ref, "SELECT count(*) FROM b", &n);
    cr_assert_str_eq(n.v[0], "92000"); /* 46 of every 50 events */
    sl_test_lines_free(&n);
    static const char *const q[][2] = {
        {"SELECT auction, bidder, price, dateTime FROM bid",
         "SELECT auction, bidder, price, t FROM b"},
        /* q1: currency conversion; the DECIMAL result prints with its
         * scale (3 places), as in Flink */
        {"SELECT auction, bidder, ROUND(0.908 * price, 3), dateTime FROM bid",
         "SELECT auction, bidder, printf('%.3f', 0.908 * price), t FROM b"},
        {"SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0",
         "SELECT auction, price FROM b WHERE auction % 123 = 0"},
        {"SELECT auction, COUNT(*), window_start FROM TABLE(HOP(TABLE bid, "
         "DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND)) "
         "GROUP BY auction, window_start, window_end",
         "SELECT auction, count(*), " TSX("ws") " FROM (SELECT auction, " MS(
             "t") " - " MS("t") " % 2000 - j * 2000 AS ws FROM b, (SELECT 0 "
                                "AS j UNION ALL SELECT 1 UNION ALL SELECT 2 "
                                "UNION ALL SELECT 3 UNION ALL SELECT 4)) "
                                "GROUP BY auction, ws"},
        {"SELECT window_start, MAX(price), COUNT(DISTINCT bidder) FROM "
         "TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '100' "
         "MILLISECOND)) GROUP BY window_start, window_end",
         "SELECT " TSX("ws") ", max(price), count(DISTINCT bidder) FROM "
                             "(SELECT *, " MS("t") " - " MS(
                                 "t") " % 100 AS ws FROM b) GROUP BY ws"},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(q); i++) {
        sl_test_lines got = {0}, want = {0};
        cr_assert_eq(sluice_exec(db, q[i][0], sl_test_collect_inserts, &got),
                     SLUICE_OK, "%s: %s", q[i][0], sluice_errmsg(db));
        sl_test_query_lines(ref, q[i][1], &want);
        assert_same(&got, &want, q[i][0]);
        sl_test_lines_free(&got);
        sl_test_lines_free(&want);
    }
    sluice_close(db);
    sqlite3_close(ref);
}

/* ---- CURRENT_WATERMARK ------------------------------------------------- */

typedef struct wm_seen {
    int n, n_null;
    int64_t max_ts; /* largest ts of the rows before */
    int64_t last_wm;
    bool nulls_done;
} wm_seen;

/* Rows (ts, CURRENT_WATERMARK(ts)) in input order: the watermark is NULL
 * only before the first one, never goes back, and never covers a row not
 * read yet (it is at most the largest earlier ts minus the 2 s lag). */
static int64_t row_ms(const sluice_row *row, int i)
{
    const char *t = sluice_row_text(row, i);
    int64_t ms = 0;
    cr_assert_eq(sl_parse_timestamp(t, strlen(t), &ms), SL_OK, "%s", t);
    return ms;
}

static int check_wm(void *ctx, const sluice_row *row)
{
    wm_seen *s = ctx;
    int64_t ts = row_ms(row, 0);
    if (sluice_row_is_null(row, 1)) {
        cr_assert(!s->nulls_done, "row %d: NULL after a watermark", s->n);
        s->n_null++;
    } else {
        int64_t wm = row_ms(row, 1);
        s->nulls_done = true;
        cr_assert_geq(wm, s->last_wm, "row %d: watermark went back", s->n);
        cr_assert_leq(wm, s->max_ts - 2000, "row %d: watermark %lld ahead",
                      s->n, (long long)wm);
        s->last_wm = wm;
    }
    if (ts > s->max_ts)
        s->max_ts = ts;
    s->n++;
    return 0;
}

Test(windows, current_watermark_filters_late_rows, .timeout = 120)
{
    wsetup ws;
    wsetup_open(&ws, 25, "64");
    sqlite3 *ref = ws.ref;
    sluice *db = ws.db;
    wm_seen s = {0, 0, INT64_MIN / 2, INT64_MIN, false};
    cr_assert_eq(sluice_exec(db,
                             "SELECT ts, "
                             "CURRENT_WATERMARK(ts) FROM t",
                             check_wm, &s),
                 SLUICE_OK, "%s", sluice_errmsg(db));
    cr_assert_eq(s.n, N_ROWS + 25);
    cr_assert_gt(s.n_null, 0);
    cr_assert_lt(s.n_null, N_ROWS / 2);
    /* filtering with it in front of a window aggregate: the 25 rows behind
     * the watermark never reach the operator (no late rows), every other
     * row is counted (each is ahead of every earlier row's watermark) */
    sl_test_lines got = {0}, want = {0};
    cr_assert_eq(sluice_exec(db,
                             "SELECT window_start, k, COUNT(*), SUM(v) FROM "
                             "TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL "
                             "'1' SECOND)) WHERE CURRENT_WATERMARK(ts) IS "
                             "NULL OR ts > CURRENT_WATERMARK(ts) GROUP BY "
                             "window_start, window_end, k",
                             sl_test_collect_inserts, &got),
                 SLUICE_OK, "%s", sluice_errmsg(db));
    sl_test_query_lines(
        ref,
        "SELECT " TSX("ts - ts % 1000") ", k, count(*), sum(v) FROM ref "
                                        "GROUP BY ts - ts % 1000, k",
        &want);
    assert_same(&got, &want, "current_watermark filter");
    sl_test_lines_free(&got);
    sl_test_lines_free(&want);
    /* the rows it removes are exactly the late ones */
    sl_test_lines late = {0};
    cr_assert_eq(sluice_exec(db,
                             "SELECT v FROM t WHERE ts <= "
                             "CURRENT_WATERMARK(ts)",
                             sl_test_collect_inserts, &late),
                 SLUICE_OK, "%s", sluice_errmsg(db));
    cr_assert_eq(late.n, 25);
    sl_test_lines_free(&late);
    /* NULL without any watermark; plan-time type check */
    sl_test_lines none = {0};
    cr_assert_eq(sluice_exec(db,
                             "SELECT CURRENT_WATERMARK(TIMESTAMP "
                             "'2024-01-01 00:00:00')",
                             sl_test_collect_inserts, &none),
                 SLUICE_OK, "%s", sluice_errmsg(db));
    cr_assert_eq(none.n, 1);
    cr_assert_str_eq(none.v[0], "NULL");
    sl_test_lines_free(&none);
    cr_assert_neq(
        sluice_exec(db, "SELECT CURRENT_WATERMARK(v) FROM t", NULL, NULL),
        SLUICE_OK);
    cr_assert(strstr(sluice_errmsg(db), "CURRENT_WATERMARK expects the "
                                        "rowtime column"));
    wsetup_close(&ws);
}

/* ---- SESSION windows ---------------------------------------------------- */

/* Reference sessions: per key (or over everything), rows ordered by ts; a
 * row more than the gap after the previous one starts a new session
 * (windows [ts, ts + gap) that touch merge, as in Flink). */
#define SESSION_REF(part, gap)                                                 \
    "WITH o AS (SELECT *, rowid AS rid, CASE WHEN ts - lag(ts) OVER (" part    \
    " ORDER BY ts, rowid) <= " gap " THEN 0 ELSE 1 END AS st FROM ref), "      \
    "s AS (SELECT *, sum(st) OVER (" part " ORDER BY ts, rid ROWS "            \
    "UNBOUNDED PRECEDING) AS sid FROM o) "

static void run_sessions(const char *batch_rows)
{
    wsetup ws;
    wsetup_open(&ws, 0, batch_rows);
    sqlite3 *ref = ws.ref;
    sluice *db = ws.db;
    static const char *const q[][2] = {
        /* per key, gap 1 s: ~34 sessions per key, rows out of order by up
         * to 1.5 s merge sessions that were apart */
        {"SELECT window_start, window_end, k, COUNT(*), SUM(v), MIN(v), "
         "MAX(v), AVG(v), COUNT(DISTINCT v % 10), window_end - INTERVAL "
         "'1' SECOND FROM TABLE(SESSION(TABLE t PARTITION BY k, "
         "DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY window_start, "
         "window_end, k",
         SESSION_REF("PARTITION BY k", "1000") "SELECT " TSX(
             "min(ts)") ", " TSX("max(ts) + 1000") ", k, count(*), sum(v), "
                                                   "min(v), max(v), sum(v) / "
                                                   "count(v), count(DISTINCT "
                                                   "v % 10), " TSX(
                                                       "max(ts)") " FROM s "
                                                                  "GROUP BY "
                                                                  "k, sid"},
        /* no PARTITION BY, gap 5 ms: thousands of short sessions, many
         * bridged by late-arriving rows */
        {"SELECT window_start, window_end, COUNT(*), LISTAGG(k) IS NOT NULL, "
         "SUM(v) FROM TABLE(SESSION(TABLE t, DESCRIPTOR(ts), INTERVAL '5' "
         "MILLISECOND)) GROUP BY window_start, window_end",
         SESSION_REF("", "5") "SELECT " TSX("min(ts)") ", " TSX(
             "max(ts) + 5") ", count(*), 'TRUE', sum(v) FROM s GROUP BY "
                            "sid"},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(q); i++) {
        sl_test_lines got = {0}, want = {0};
        cr_assert_eq(sluice_exec(db, q[i][0], sl_test_collect_inserts, &got),
                     SLUICE_OK, "%s: %s", q[i][0], sluice_errmsg(db));
        sl_test_query_lines(ref, q[i][1], &want);
        assert_same(&got, &want, q[i][0]);
        sl_test_lines_free(&got);
        sl_test_lines_free(&want);
    }
    wsetup_close(&ws);
}

Test(windows, session_matches_reference, .timeout = 120)
{
    run_sessions("1024");
}

Test(windows, session_matches_reference_small_batches, .timeout = 120)
{
    run_sessions("7");
}

/* ---- window Top-N and deduplication ------------------------------------ */

static void run_ranks(int n_late, const char *batch_rows)
{
    wsetup ws;
    wsetup_open(&ws, n_late, batch_rows);
    sqlite3 *ref = ws.ref;
    sluice *db = ws.db;
    /* ties are broken by arrival order, which is file (rowid) order */
    static const char *const q[][2] = {
        /* Top-3 rows per window over a window TVF */
        {"SELECT window_start, k, v, ts, rownum FROM (SELECT k, v, ts, "
         "window_start, window_end, ROW_NUMBER() OVER (PARTITION BY "
         "window_start, window_end ORDER BY v DESC) AS rownum FROM "
         "TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND))) WHERE "
         "rownum <= 3",
         "SELECT " TSX("ws") ", k, v, " TSX(
             "ts") ", rn FROM (SELECT *, ts - ts % 1000 AS ws, row_number() "
                   "OVER (PARTITION BY ts - ts % 1000 ORDER BY v DESC, rowid) "
                   "AS rn FROM ref) WHERE rn <= 3"},
        /* Top-2 keys per HOP window over a window aggregate */
        {"SELECT window_start, window_end, rownum, s FROM (SELECT *, "
         "ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY "
         "s DESC) AS rownum FROM (SELECT window_start, window_end, k, SUM(v) "
         "AS s FROM TABLE(HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '500' "
         "MILLISECOND, INTERVAL '2' SECOND)) GROUP BY window_start, "
         "window_end, k)) WHERE rownum <= 2",
         "SELECT " TSX("ws") ", " TSX(
             "ws + 2000") ", rn, s FROM (SELECT ws, s, row_number() OVER "
                          "(PARTITION BY ws ORDER BY s DESC) AS rn FROM "
                          "(SELECT ws, k, sum(v) AS s FROM (SELECT r.*, ts - "
                          "ts % 500 - j * 500 AS ws FROM ref r, (SELECT 0 AS "
                          "j UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL "
                          "SELECT 3)) GROUP BY ws, k)) WHERE rn <= 2"},
        /* deduplication: first row per key and window */
        {"SELECT window_start, k, v, ts FROM (SELECT *, ROW_NUMBER() OVER "
         "(PARTITION BY window_start, window_end, k ORDER BY ts ASC) AS rn "
         "FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND))) "
         "WHERE rn = 1",
         "SELECT " TSX("ws") ", k, v, " TSX(
             "ts") " FROM (SELECT *, ts - ts % 1000 AS ws, row_number() OVER "
                   "(PARTITION BY ts - ts % 1000, k ORDER BY ts, rowid) AS rn "
                   "FROM ref) WHERE rn = 1"},
        /* deduplication: last row per key and window */
        {"SELECT window_start, k, v, ts FROM (SELECT *, ROW_NUMBER() OVER "
         "(PARTITION BY window_start, window_end, k ORDER BY ts DESC) AS rn "
         "FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND))) "
         "WHERE rn <= 1",
         "SELECT " TSX("ws") ", k, v, " TSX(
             "ts") " FROM (SELECT *, ts - ts % 1000 AS ws, row_number() OVER "
                   "(PARTITION BY ts - ts % 1000, k ORDER BY ts DESC, rowid) "
                   "AS rn FROM ref) WHERE rn = 1"},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(q); i++) {
        sl_test_lines got = {0}, want = {0};
        cr_assert_eq(sluice_exec(db, q[i][0], sl_test_collect_inserts, &got),
                     SLUICE_OK, "%s: %s", q[i][0], sluice_errmsg(db));
        sl_test_query_lines(ref, q[i][1], &want);
        assert_same(&got, &want, q[i][0]);
        sl_test_lines_free(&got);
        sl_test_lines_free(&want);
    }
    wsetup_close(&ws);
}

Test(windows, topn_and_dedup_match_reference, .timeout = 120)
{
    run_ranks(0, "1024");
}

Test(windows, topn_and_dedup_small_batches_late_rows, .timeout = 120)
{
    run_ranks(25, "7");
}

/* ---- 'late-data.sink' --------------------------------------------------- */

/* The sl_test_lines of a text file, sorted. */
static void file_lines(const char *path, sl_test_lines *out)
{
    size_t len = 0;
    char *text = sl_test_read_file(path, &len);
    cr_assert_not_null(text, "%s", path);
    char *p = text;
    while (*p) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (*p)
            sl_test_lines_add(out, p);
        if (!nl)
            break;
        p = nl + 1;
    }
    sl_free(text);
    sl_test_lines_sort(out);
}

/* Late rows of a window aggregate, a window Top-N, a SESSION aggregate and
 * an OVER aggregate reach the table named by 'late-data.sink', every one
 * of them, byte for byte as read. */
Test(windows, late_rows_written_to_late_data_sink, .timeout = 120)
{
    char *dir = sl_test_tmpdir();
    cr_assert_not_null(dir);
    char path[1024], out[1024], sql[4096];
    sl_snprintf(path, sizeof(path), "%s/ev.csv", dir);
    sqlite3 *ref = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &ref), SQLITE_OK);
    make_input(path, ref, 25);
    /* the late rows are the last 25 sl_test_lines of the input */
    sl_test_lines all = {0}, want = {0};
    {
        size_t len = 0;
        char *text = sl_test_read_file(path, &len);
        cr_assert_not_null(text);
        char *p = text;
        while (*p) {
            char *nl = strchr(p, '\n');
            *nl = '\0';
            sl_test_lines_add(&all, p);
            p = nl + 1;
        }
        sl_free(text);
    }
    cr_assert_eq(all.n, N_ROWS + 25);
    for (int i = N_ROWS; i < all.n; i++)
        sl_test_lines_add(&want, all.v[i]);
    sl_test_lines_sort(&want);
    sl_test_lines_free(&all);
    static const char *const q[] = {
        "SELECT window_start, k, COUNT(*) FROM TABLE(TUMBLE(TABLE t, "
        "DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY window_start, "
        "window_end, k",
        "SELECT * FROM (SELECT k, v, window_start, window_end, ROW_NUMBER() "
        "OVER (PARTITION BY window_start, window_end ORDER BY v DESC) AS rn "
        "FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND))) "
        "WHERE rn <= 1",
        "SELECT window_start, k, COUNT(*) FROM TABLE(SESSION(TABLE t "
        "PARTITION BY k, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY "
        "window_start, window_end, k",
        ("SELECT k, SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 "
         "PRECEDING AND CURRENT ROW) FROM t"),
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(q); i++) {
        sl_snprintf(out, sizeof(out), "%s/late%d.csv", dir, (int)i);
        sluice *db = NULL;
        cr_assert_eq(sluice_open(&db), SLUICE_OK);
        sl_snprintf(sql, sizeof(sql),
                    "SET 'sluice.batch-rows' = '100';"
                    "CREATE TABLE t (k STRING, v INT, ts TIMESTAMP(3), "
                    "WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH "
                    "('connector' = 'filesystem', 'path' = '%s', 'format' = "
                    "'csv', 'late-data.sink' = 'late_rows');"
                    "CREATE TABLE late_rows (k STRING, v INT, ts "
                    "TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' "
                    "= '%s', 'format' = 'csv');",
                    path, out);
        cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK, "%s",
                     sluice_errmsg(db));
        sl_test_lines got = {0}, late = {0};
        cr_assert_eq(sluice_exec(db, q[i], sl_test_collect_inserts, &got),
                     SLUICE_OK, "%s", sluice_errmsg(db));
        cr_assert_gt(got.n, 40);
        file_lines(out, &late);
        cr_assert_eq(late.n, want.n, "%s: %d late rows written", q[i], late.n);
        for (int k = 0; k < late.n; k++)
            cr_assert_str_eq(late.v[k], want.v[k]);
        sl_test_lines_free(&got);
        sl_test_lines_free(&late);
        sluice_close(db);
    }
    sl_test_lines_free(&want);
    sqlite3_close(ref);
    sl_test_tmpdir_remove(dir);
}

/* ---- OVER aggregation -------------------------------------------------- */

static void run_over(int n_late, const char *batch_rows)
{
    wsetup ws;
    wsetup_open(&ws, n_late, batch_rows);
    sqlite3 *ref = ws.ref;
    sluice *db = ws.db;
    /* rows of equal rowtime: arrival (file, rowid) order for ROWS; peers
     * for RANGE */
    static const char *const q[][2] = {
        {"SELECT k, v, ts, SUM(v) OVER w, COUNT(*) OVER w, MIN(v) OVER w, "
         "MAX(v) OVER w, AVG(v) OVER w FROM t WINDOW w AS (PARTITION BY k "
         "ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)",
         "SELECT k, v, " TSX("ts") ", sum(v) OVER w, count(*) OVER w, min(v) "
                                   "OVER w, max(v) OVER w, sum(v) OVER w / "
                                   "count(v) OVER w FROM ref WINDOW w AS "
                                   "(PARTITION BY k ORDER BY ts, rowid ROWS "
                                   "BETWEEN 3 PRECEDING AND CURRENT ROW)"},
        {"SELECT k, v, ts, SUM(v) OVER (ORDER BY ts RANGE BETWEEN INTERVAL "
         "'1' SECOND PRECEDING AND CURRENT ROW) AS s, COUNT(v) OVER (ORDER BY "
         "ts RANGE BETWEEN INTERVAL '1' SECOND PRECEDING AND CURRENT ROW) "
         "FROM t",
         "SELECT k, v, " TSX("ts") ", sum(v) OVER w, count(v) OVER w FROM "
                                   "ref WINDOW w AS (ORDER BY ts RANGE "
                                   "BETWEEN 1000 PRECEDING AND CURRENT ROW)"},
        {"SELECT k, ts, MAX(v) OVER (PARTITION BY k ORDER BY ts RANGE "
         "BETWEEN INTERVAL '2' SECOND PRECEDING AND CURRENT ROW) FROM t",
         "SELECT k, " TSX("ts") ", max(v) OVER (PARTITION BY k ORDER BY ts "
                                "RANGE BETWEEN 2000 PRECEDING AND CURRENT "
                                "ROW) FROM ref"},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(q); i++) {
        sl_test_lines got = {0}, want = {0};
        cr_assert_eq(sluice_exec(db, q[i][0], sl_test_collect_inserts, &got),
                     SLUICE_OK, "%s: %s", q[i][0], sluice_errmsg(db));
        sl_test_query_lines(ref, q[i][1], &want);
        assert_same(&got, &want, q[i][0]);
        sl_test_lines_free(&got);
        sl_test_lines_free(&want);
    }
    wsetup_close(&ws);
}

Test(windows, over_aggregates_match_reference, .timeout = 120)
{
    run_over(0, "1024");
}

Test(windows, over_aggregates_small_batches_late_rows, .timeout = 120)
{
    run_over(25, "61");
}

/* On an unbounded source, a Top-N over a window aggregate emits as the
 * watermark moves: the aggregate hands its output watermark to the rank
 * operator (watermark_out). Without it the query would never return. */
Test(windows, topn_over_aggregate_on_unbounded_source, .timeout = 60)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    cr_assert_eq(sluice_exec(db,
                             "CREATE TABLE bid (auction BIGINT, bidder "
                             "BIGINT, price BIGINT, channel STRING, url "
                             "STRING, dateTime TIMESTAMP(3), extra STRING, "
                             "WATERMARK FOR dateTime AS dateTime - INTERVAL "
                             "'4' SECOND) WITH ('connector' = 'nexmark', "
                             "'event.type' = 'bid', 'tps' = '10000', 'seed' "
                             "= '5')",
                             NULL, NULL),
                 SLUICE_OK, "%s", sluice_errmsg(db));
    sl_test_lines got = {0};
    cr_assert_eq(
        sluice_exec(db,
                    "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "
                    "window_start, window_end ORDER BY c DESC) AS rownum FROM "
                    "(SELECT window_start, window_end, auction, COUNT(*) AS c "
                    "FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), "
                    "INTERVAL '1' SECOND)) GROUP BY window_start, window_end, "
                    "auction)) WHERE rownum <= 1 LIMIT 3",
                    sl_test_collect_inserts, &got),
        SLUICE_OK, "%s", sluice_errmsg(db));
    cr_assert_eq(got.n, 3);
    /* consecutive windows, one row each, rownum 1 */
    cr_assert(strstr(got.v[0], "2015-07-15 00:00:00.000|2015-07-15 "
                               "00:00:01.000|"));
    cr_assert(strstr(got.v[2], "2015-07-15 00:00:02.000|"));
    for (int i = 0; i < got.n; i++) {
        size_t len = strlen(got.v[i]);
        cr_assert(len > 2 && !strcmp(got.v[i] + len - 2, "|1"), "%s", got.v[i]);
    }
    sl_test_lines_free(&got);
    sluice_close(db);
}
