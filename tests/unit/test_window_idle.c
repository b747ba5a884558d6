/*
 * test_window_idle.c: windows over a Kafka topic with an idle partition.
 *
 * The topic (the harness's mock cluster over TCP, records written by kcat)
 * has two partitions; every record goes to partition 0 and partition 1
 * stays empty. As in Flink, the empty partition holds the watermark back
 * (the Kafka source reports its assigned partitions to the job before their
 * first record), so no window can close until 'scan.watermark.idle-timeout'
 * lets the job ignore it. Each window type (TUMBLE, HOP, CUMULATE,
 * SESSION) then emits windows while the source is still unbounded, and
 * every window emitted equals a SQLite reference over the same rows: the
 * input is out of order by up to 1.5 s with a watermark 2 s behind, plus
 * rows far behind the watermark that must be dropped as late. While the
 * queries run, a producer keeps partition 0 live (a 'tick' row every 20 ms,
 * 10 s of event time after the data), as a live topic would be: when every
 * partition is quiet, Flink's watermark stays put too. Without the idle
 * timeout, CURRENT_WATERMARK stays NULL for every row read.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sluice.h"
#include "test_kafka_util.h"

#define N_ROWS  3000
#define N_LATE  20
#define BASE_MS 1704067200000LL /* 2024-01-01 00:00:00 */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void)
{
    return sl_test_xorshift(&rng);
}

/* Produce the rows into partition 0 with kcat and load the on-time ones
 * into ref(k, v, ts). */
static void produce(const char *bs, sqlite3 *ref)
{
    cr_assert_eq(sqlite3_exec(ref,
                              "CREATE TABLE ref(k TEXT, v INTEGER, ts "
                              "INTEGER); BEGIN",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_stmt *ins = NULL;
    cr_assert_eq(sqlite3_prepare_v2(ref, "INSERT INTO ref VALUES (?, ?, ?)", -1,
                                    &ins, NULL),
                 SQLITE_OK);
    sl_buf in;
    sl_buf_init(&in, 0);
    for (int i = 0; i < N_ROWS + N_LATE; i++) {
        bool late = i >= N_ROWS;
        int k = (int)(next_rand() % 20);
        int v = (int)(next_rand() % 1000) - 100;
        /* 10 rows per second of event time, out of order by up to 1.5 s;
         * the late ones 60 s behind the end */
        int64_t ts =
            late ? BASE_MS + (int64_t)(N_ROWS / 10 - 60) * 1000 + i
                 : BASE_MS + (int64_t)i * 100 - (int64_t)(next_rand() % 1500);
        sl_buf t;
        sl_buf_init(&t, 0);
        sl_format_timestamp(ts, 3, &t);
        sl_buf_printf(&in, "{\"k\":\"k%d\",\"v\":%d,\"ts\":\"%s\"}\n", k, v,
                      sl_buf_cstr(&t));
        sl_buf_free(&t);
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
    cr_assert_eq(sqlite3_exec(ref, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    const char *argv[] = {
        "/usr/bin/kcat", "-b", bs, "-t", "ev", "-P", "-p", "0", NULL};
    cr_assert_eq(sl_test_run(argv, sl_buf_cstr(&in), NULL, NULL, 30000), 0);
    sl_buf_free(&in);
}

#define TS(x) "strftime('%Y-%m-%d %H:%M:%f', (" x ") / 1000.0, 'unixepoch')"

/* Windows of the rows: (ws, we) per row */
#define HOP_WINDOWS                                                            \
    "(SELECT r.*, ts - ts % 1000 - j * 1000 AS ws, ts - ts % 1000 - j * "      \
    "1000 + 4000 AS we FROM ref r, (SELECT 0 AS j UNION ALL SELECT 1 UNION "   \
    "ALL SELECT 2 UNION ALL SELECT 3))"
#define CUMULATE_WINDOWS                                                       \
    "(SELECT r.*, ts - ts % 3000 AS ws, ts - ts % 3000 + (j + 1) * 1000 AS "   \
    "we FROM ref r, (SELECT 0 AS j UNION ALL SELECT 1 UNION ALL SELECT 2) "    \
    "WHERE ts - ts % 3000 + (j + 1) * 1000 > ts)"
#define SESSIONS                                                               \
    "WITH o AS (SELECT *, rowid AS rid, CASE WHEN ts - lag(ts) OVER "          \
    "(PARTITION BY k ORDER BY ts, rowid) <= 1000 THEN 0 ELSE 1 END AS st "     \
    "FROM ref), s AS (SELECT *, sum(st) OVER (PARTITION BY k ORDER BY ts, "    \
    "rid ROWS UNBOUNDED PRECEDING) AS sid FROM o) "

typedef struct wcase {
    const char *name;
    const char *query; /* over t, LIMIT added */
    const char *ref;   /* same columns over ref */
} wcase;

static const wcase cases[] = {
    {"tumble",
     "SELECT window_start, window_end, k, COUNT(*), SUM(v), MAX(v) FROM "
     "TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND)) GROUP BY "
     "window_start, window_end, k",
     "SELECT " TS("ts - ts % 1000") ", " TS(
         "ts - ts % 1000 + 1000") ", k, count(*), sum(v), max(v) FROM ref "
                                  "GROUP BY ts - ts % 1000, k"},
    {"hop",
     "SELECT window_start, window_end, k, COUNT(*), SUM(v), MAX(v) FROM "
     "TABLE(HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND, INTERVAL '4' "
     "SECOND)) GROUP BY window_start, window_end, k",
     "SELECT " TS("ws") ", " TS("we") ", k, count(*), sum(v), max(v) "
                                      "FROM " HOP_WINDOWS " GROUP BY ws, we, "
                                      "k"},
    {"cumulate",
     "SELECT window_start, window_end, k, COUNT(*), SUM(v), MAX(v) FROM "
     "TABLE(CUMULATE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' SECOND, INTERVAL "
     "'3' SECOND)) GROUP BY window_start, window_end, k",
     "SELECT " TS("ws") ", " TS("we") ", k, count(*), sum(v), max(v) "
                                      "FROM " CUMULATE_WINDOWS " GROUP BY ws, "
                                      "we, k"},
    {"session",
     "SELECT window_start, window_end, k, COUNT(*), SUM(v), MAX(v) FROM "
     "TABLE(SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), INTERVAL '1' "
     "SECOND)) GROUP BY window_start, window_end, k",
     SESSIONS "SELECT " TS("min(ts)") ", " TS(
         "max(ts) + 1000") ", k, count(*), sum(v), max(v) FROM s GROUP BY k, "
                           "sid"},
};

typedef struct ticker {
    const char *bs;
    atomic_bool stop;
    int sent;
} ticker;

/* Keep partition 0 live: one row every 20 ms, event time after the data. */
static void *tick_main(void *arg)
{
    ticker *tk = arg;
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", tk->bs, errstr,
                      sizeof(errstr));
    rd_kafka_conf_set(conf, "linger.ms", "0", errstr, sizeof(errstr));
    rd_kafka_t *rk =
        rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk)
        return NULL;
    for (int i = 0; !atomic_load(&tk->stop) && i < 100000; i++) {
        int64_t ts =
            BASE_MS + (int64_t)(N_ROWS / 10 + 10) * 1000 + (int64_t)i * 100;
        sl_buf t, m;
        sl_buf_init(&t, 0);
        sl_buf_init(&m, 0);
        sl_format_timestamp(ts, 3, &t);
        sl_buf_printf(&m, "{\"k\":\"tick\",\"v\":0,\"ts\":\"%s\"}",
                      sl_buf_cstr(&t));
        if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("ev"),
                              RD_KAFKA_V_PARTITION(0),
                              RD_KAFKA_V_VALUE(m.data, m.len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR)
            tk->sent++;
        sl_buf_free(&t);
        sl_buf_free(&m);
        rd_kafka_poll(rk, 0);
        usleep(20000);
    }
    rd_kafka_flush(rk, 5000);
    rd_kafka_destroy(rk);
    return NULL;
}

static void create_table(sluice *db, const char *bs, const char *extra)
{
    char sql[2048];
    sl_snprintf(sql, sizeof(sql),
                "DROP TABLE IF EXISTS t;"
                "CREATE TABLE t (k STRING, v INT, ts TIMESTAMP(3), WATERMARK "
                "FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector' = "
                "'kafka', 'topic' = 'ev', 'properties.bootstrap.servers' = "
                "'%s', 'scan.startup.mode' = 'earliest-offset', "
                "'scan.partition-assignment' = 'all', 'format' = 'json'%s)",
                bs, extra);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
}

Test(window_idle, idle_partition_releases_windows, .timeout = 120)
{
    sl_test_broker *b = sl_test_broker_start(1);
    const char *bs = sl_test_broker_bootstraps(b);
    kt_topic(b, "ev", 2);
    sqlite3 *ref = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &ref), SQLITE_OK);
    produce(bs, ref);
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);

    /* no idle timeout: partition 1 holds the watermark back */
    create_table(db, bs, "");
    sl_test_lines wm = {0};
    char q[2048];
    sl_snprintf(q, sizeof(q), "SELECT CURRENT_WATERMARK(ts) FROM t LIMIT %d",
                N_ROWS);
    cr_assert_eq(sluice_exec(db, q, sl_test_collect_inserts, &wm), SLUICE_OK,
                 "%s", sluice_errmsg(db));
    cr_assert_eq(wm.n, N_ROWS);
    for (int i = 0; i < wm.n; i++)
        cr_assert_str_eq(wm.v[i], "NULL", "row %d: watermark %s", i, wm.v[i]);
    sl_test_lines_free(&wm);

    ticker tk = {.bs = bs};
    atomic_init(&tk.stop, false);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, tick_main, &tk), 0);
    create_table(db, bs, ", 'scan.watermark.idle-timeout' = '300 ms'");
    for (size_t c = 0; c < SL_ARRAY_LEN(cases); c++) {
        sl_test_lines want = {0}, got = {0};
        sl_test_query_lines(ref, cases[c].ref, &want);
        cr_assert_gt(want.n, 500, "%s: reference too small", cases[c].name);
        /* the source never ends: only a moving watermark emits these */
        sl_snprintf(q, sizeof(q), "%s LIMIT 300", cases[c].query);
        cr_assert_eq(sluice_exec(db, q, sl_test_collect_inserts, &got),
                     SLUICE_OK, "%s: %s", cases[c].name, sluice_errmsg(db));
        cr_assert_eq(got.n, 300, "%s: %d windows", cases[c].name, got.n);
        for (int i = 0; i < got.n; i++) {
            cr_assert(!strstr(got.v[i], "|tick|"),
                      "%s: a tick window before the data's: %s", cases[c].name,
                      got.v[i]);
            bool found = false;
            for (int j = 0; j < want.n && !found; j++)
                found = !strcmp(got.v[i], want.v[j]);
            cr_assert(found, "%s: window %s not in the reference",
                      cases[c].name, got.v[i]);
        }
        sl_test_lines_free(&want);
        sl_test_lines_free(&got);
    }
    atomic_store(&tk.stop, true);
    pthread_join(th, NULL);
    cr_assert_gt(tk.sent, 0);
    sluice_close(db);
    sqlite3_close(ref);
    sl_test_broker_stop(b);
}
