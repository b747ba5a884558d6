/*
 * bench_windows.c: the window operators of issue 8's second part on
 * Nexmark bids, events/s on one job thread, through the public API: the
 * built-in 'nexmark' source -> query -> blackhole. A TUMBLE aggregate is
 * the baseline; then SESSION windows, window Top-N over a TVF and over an
 * aggregate, window deduplication and OVER aggregates (ROWS and RANGE).
 * Rates count every generated event (persons, auctions and bids).
 *
 *   ./build/bench/bench_windows [events]     (default 2000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "sluice.h"
#include "util.h"

typedef struct query {
    const char *name;
    const char *sink; /* sink columns */
    const char *sql;  /* SELECT ... */
} query;

#define TUMBLE10                                                               \
    "TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '10' SECOND))"

static const query queries[] = {
    {"TUMBLE 10 s COUNT per auction", "a BIGINT, c BIGINT",
     "SELECT auction, COUNT(*) FROM " TUMBLE10
     " GROUP BY auction, window_start, window_end"},
    {"SESSION 1 s per bidder, COUNT", "b BIGINT, c BIGINT",
     "SELECT bidder, COUNT(*) FROM TABLE(SESSION(TABLE bid PARTITION BY "
     "bidder, DESCRIPTOR(dateTime), INTERVAL '1' SECOND)) GROUP BY bidder, "
     "window_start, window_end"},
    {"Top-3 bids per TUMBLE 10 s", "a BIGINT, p BIGINT, r BIGINT",
     "SELECT auction, price, rn FROM (SELECT auction, price, window_start, "
     "window_end, ROW_NUMBER() OVER (PARTITION BY window_start, window_end "
     "ORDER BY price DESC) AS rn FROM " TUMBLE10 ") WHERE rn <= 3"},
    {"Top-1 auction per TUMBLE 10 s (agg)", "a BIGINT, c BIGINT",
     "SELECT auction, c FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "
     "window_start, window_end ORDER BY c DESC) AS rn FROM (SELECT "
     "window_start, window_end, auction, COUNT(*) AS c FROM " TUMBLE10
     " GROUP BY window_start, window_end, auction)) WHERE rn = 1"},
    {"dedup: first bid per bidder, 10 s", "b BIGINT, p BIGINT",
     "SELECT bidder, price FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "
     "window_start, window_end, bidder ORDER BY dateTime) AS rn FROM " TUMBLE10
     ") WHERE rn = 1"},
    {"OVER ROWS 10 PRECEDING per auction", "a BIGINT, m BIGINT",
     "SELECT auction, MAX(price) OVER (PARTITION BY auction ORDER BY "
     "dateTime ROWS BETWEEN 10 PRECEDING AND CURRENT ROW) FROM bid"},
    {"OVER RANGE 1 s per auction", "a BIGINT, c BIGINT",
     "SELECT auction, COUNT(*) OVER (PARTITION BY auction ORDER BY dateTime "
     "RANGE BETWEEN INTERVAL '1' SECOND PRECEDING AND CURRENT ROW) FROM bid"},
};

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* events/s of wall time; *per_cpu: events per CPU second (the job runs on
 * this thread: robust when the machine is shared). */
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
                "'bid', 'events-num' = '%ld', 'tps' = '10000');"
                "CREATE TABLE person (id BIGINT, name STRING, emailAddress "
                "STRING, creditCard STRING, city STRING, state STRING, "
                "dateTime TIMESTAMP(3), extra STRING, WATERMARK FOR dateTime "
                "AS dateTime - INTERVAL '4' SECOND) WITH ('connector' = "
                "'nexmark', 'event.type' = 'person', 'events-num' = '%ld', "
                "'tps' = '10000');"
                "CREATE TABLE sink (%s) WITH ('connector' = 'blackhole');",
                events, events, q->sink);
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
    long events = argc > 1 ? strtol(argv[1], NULL, 10) : 2000000;
    if (events <= 0)
        events = 2000000;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("Window operators on Nexmark bids, %ld events (tps 10000: 100 "
           "events per 10 ms of event time), one job thread; "
           "machine: %ld cores\n",
           events, cores);
    printf("%-34s %14s %18s\n", "query", "events/s", "events/CPU-s");
    for (size_t i = 0; i < SL_ARRAY_LEN(queries); i++) {
        double pc = 0;
        double r = run(&queries[i], events, &pc);
        printf("%-34s %14.0f %18.0f\n", queries[i].name, r, pc);
        fflush(stdout);
    }
    return 0;
}
