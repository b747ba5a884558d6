/*
 * bench_nexmark.c: Nexmark queries on one job thread, events/s, through
 * the public API: the built-in 'nexmark' source -> query -> blackhole.
 *
 * q0-q2 are the benchmark's stateless queries. q5, q7 and q8 run twice:
 * their aggregation part alone (q5's count of bids per auction per HOP
 * window of 10 s every 2 s, q7's highest price per TUMBLE window of 10 s,
 * q8's new persons per TUMBLE window of 10 s) and the full query with its
 * join (window joins for q5 and q8, an interval join for q7); q3 is a
 * regular join of auctions with persons. Rates count every generated
 * event (persons, auctions and bids), as the Nexmark figures do. The
 * largest state reached is printed (sampled: a join's state database plus
 * its inputs' window aggregates; for an aggregation alone its state
 * database).
 *
 *   ./build/bench/bench_nexmark [events]     (default 5000000)
 *   NEXMARK_TPS=100000 (events per second of event time, default 10M)
 *   NEXMARK_QUERY=q7   (only the queries whose name starts so)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "op_join.h"
#include "op_window.h"
#include "sluice.h"
#include "util.h"

typedef struct query {
    const char *name;
    const char *sink; /* sink columns */
    const char *sql;  /* SELECT ... */
} query;

static const query queries[] = {
    {"q0",
     "auction BIGINT, bidder BIGINT, price BIGINT, dateTime "
     "TIMESTAMP(3), extra STRING",
     "SELECT auction, bidder, price, dateTime, extra FROM bid"},
    {"q1",
     "auction BIGINT, bidder BIGINT, price DOUBLE, dateTime "
     "TIMESTAMP(3), extra STRING",
     "SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM "
     "bid"},
    {"q2", "auction BIGINT, price BIGINT",
     "SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0"},
    {"q5 (aggregation part)",
     "auction BIGINT, num BIGINT, ws TIMESTAMP(3), we TIMESTAMP(3)",
     "SELECT auction, COUNT(*) AS num, window_start, window_end FROM "
     "TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, "
     "INTERVAL '10' SECOND)) GROUP BY auction, window_start, window_end"},
    {"q7 (aggregation part)", "ws TIMESTAMP(3), we TIMESTAMP(3), price BIGINT",
     "SELECT window_start, window_end, MAX(price) FROM TABLE(TUMBLE(TABLE "
     "bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND)) GROUP BY "
     "window_start, window_end"},
    {"q8 (aggregation part)", "id BIGINT, name STRING, ws TIMESTAMP(3)",
     "SELECT id, name, window_start FROM TABLE(TUMBLE(TABLE person, "
     "DESCRIPTOR(dateTime), INTERVAL '10' SECOND)) GROUP BY id, name, "
     "window_start, window_end"},
    {"q3 (full, regular join)",
     "name STRING, city STRING, state STRING, id BIGINT",
     "SELECT P.name, P.city, P.state, A.id FROM auction AS A INNER JOIN "
     "person AS P ON A.seller = P.id WHERE A.category = 10 AND (P.state = "
     "'OR' OR P.state = 'ID' OR P.state = 'CA')"},
    {"q5 (full, window join)", "auction BIGINT, num BIGINT",
     "SELECT AuctionBids.auction, AuctionBids.num FROM (SELECT auction, "
     "COUNT(*) AS num, window_start AS starttime, window_end AS endtime "
     "FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, "
     "INTERVAL '10' SECOND)) GROUP BY auction, window_start, window_end) AS "
     "AuctionBids JOIN (SELECT MAX(CountBids.num) AS maxn, "
     "CountBids.starttime, CountBids.endtime FROM (SELECT COUNT(*) AS num, "
     "window_start AS starttime, window_end AS endtime FROM "
     "TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, "
     "INTERVAL '10' SECOND)) GROUP BY auction, window_start, window_end) AS "
     "CountBids GROUP BY CountBids.starttime, CountBids.endtime) AS MaxBids "
     "ON AuctionBids.starttime = MaxBids.starttime AND AuctionBids.endtime "
     "= MaxBids.endtime AND AuctionBids.num >= MaxBids.maxn"},
    {"q7 (full, interval join)",
     "auction BIGINT, price BIGINT, bidder BIGINT, dateTime TIMESTAMP(3), "
     "extra STRING",
     "SELECT B.auction, B.price, B.bidder, B.dateTime, B.extra FROM bid B "
     "JOIN (SELECT MAX(price) AS maxprice, window_end AS dateTime FROM "
     "TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND)) "
     "GROUP BY window_start, window_end) B1 ON B.price = B1.maxprice WHERE "
     "B.dateTime BETWEEN B1.dateTime - INTERVAL '10' SECOND AND "
     "B1.dateTime"},
    {"q8 (full, window join)", "id BIGINT, name STRING, starttime TIMESTAMP(3)",
     "SELECT P.id, P.name, P.starttime FROM (SELECT id, name, window_start "
     "AS starttime, window_end AS endtime FROM TABLE(TUMBLE(TABLE person, "
     "DESCRIPTOR(dateTime), INTERVAL '10' SECOND)) GROUP BY id, name, "
     "window_start, window_end) P JOIN (SELECT seller, window_start AS "
     "starttime, window_end AS endtime FROM TABLE(TUMBLE(TABLE auction, "
     "DESCRIPTOR(dateTime), INTERVAL '10' SECOND)) GROUP BY seller, "
     "window_start, window_end) A ON P.id = A.seller AND P.starttime = "
     "A.starttime AND P.endtime = A.endtime"},
};

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* events/s of wall time; *per_cpu: events per CPU second (the job runs on
 * this thread: robust when the machine is shared). */
static long tps = 10000000; /* events per second of event time */

static double run(const query *q, long events, double *per_cpu)
{
    *per_cpu = 0;
    sluice *db = NULL;
    if (sluice_open(&db))
        return 0;
    char sql[8192];
    sl_snprintf(sql, sizeof(sql),
                "SET 'sluice.batch-rows' = '4096';"
                "CREATE TABLE bid (auction BIGINT, bidder BIGINT, price "
                "BIGINT, channel STRING, url STRING, dateTime TIMESTAMP(3), "
                "extra STRING, WATERMARK FOR dateTime AS dateTime - INTERVAL "
                "'4' SECOND) WITH ('connector' = 'nexmark', 'event.type' = "
                "'bid', 'events-num' = '%ld', 'tps' = '%ld');"
                "CREATE TABLE person (id BIGINT, name STRING, emailAddress "
                "STRING, creditCard STRING, city STRING, state STRING, "
                "dateTime TIMESTAMP(3), extra STRING, WATERMARK FOR dateTime "
                "AS dateTime - INTERVAL '4' SECOND) WITH ('connector' = "
                "'nexmark', 'event.type' = 'person', 'events-num' = '%ld', "
                "'tps' = '%ld');"
                "CREATE TABLE auction (id BIGINT, itemName STRING, "
                "description STRING, initialBid BIGINT, reserve BIGINT, "
                "dateTime TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT, "
                "category BIGINT, extra STRING, WATERMARK FOR dateTime AS "
                "dateTime - INTERVAL '4' SECOND) WITH ('connector' = "
                "'nexmark', 'event.type' = 'auction', 'events-num' = '%ld', "
                "'tps' = '%ld');"
                "CREATE TABLE sink (%s) WITH ('connector' = 'blackhole');",
                events, tps, events, tps, events, tps, q->sink);
    int rc = sluice_exec(db, sql, NULL, NULL);
    double rate = 0;
    if (!rc) {
        sl_snprintf(sql, sizeof(sql), "INSERT INTO sink %s", q->sql);
        int64_t t0 = sl_mono_ns();
        double c0 = cpu_s();
        rc = sluice_exec(db, sql, NULL, NULL);
        double s = (double)(sl_mono_ns() - t0) / 1e9;
        double c = cpu_s() - c0;
        rate = rc ? 0 : (double)events / s;
        *per_cpu = rc || c <= 0 ? 0 : (double)events / c;
    }
    if (rc)
        fprintf(stderr, "%s: %s\n", q->name, sluice_errmsg(db));
    sluice_close(db);
    return rate;
}

int main(int argc, char **argv)
{
    long events = argc > 1 ? strtol(argv[1], NULL, 10) : 5000000;
    if (events <= 0)
        events = 5000000;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const char *t = getenv("NEXMARK_TPS"); /* event time rate */
    if (t && strtol(t, NULL, 10) > 0)
        tps = strtol(t, NULL, 10);
    printf("Nexmark, %ld events (tps %ld of event time), one job thread; "
           "machine: %ld cores\n",
           events, tps, cores);
    printf("%-26s %14s %18s %14s\n", "query", "events/s", "events/CPU-s",
           "state MB");
    const char *only = getenv("NEXMARK_QUERY"); /* e.g. "q7": those only */
    for (size_t i = 0; i < SL_ARRAY_LEN(queries); i++) {
        if (only && strncmp(queries[i].name, only, strlen(only)))
            continue;
        double pc = 0;
        sl_join_op_peak_state_bytes(true);
        sl_window_op_peak_state_bytes(true);
        double r = run(&queries[i], events, &pc);
        /* a join's figure includes its inputs' window aggregates */
        int64_t peak = sl_join_op_peak_state_bytes(true);
        int64_t wpeak = sl_window_op_peak_state_bytes(true);
        if (peak <= 0)
            peak = wpeak;
        if (peak > 0)
            printf("%-26s %14.0f %18.0f %14.1f\n", queries[i].name, r, pc,
                   (double)peak / 1e6);
        else
            printf("%-26s %14.0f %18.0f %14s\n", queries[i].name, r, pc, "-");
        fflush(stdout);
    }
    return 0;
}
