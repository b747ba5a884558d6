/*
 * bench_metrics.c: the cost of the metrics export. Runs bench_stateless's
 * filter/project job (datagen -> stage -> blackhole, one job thread) three
 * ways: nobody reading metrics; a thread calling sluice_metrics every
 * 10 ms; and every 1 ms (far more often than a Prometheus scrape, every
 * 15 s by default). Prints rows/s of each and the mean time of one
 * sluice_metrics call (render of one job's exposition).
 *
 *   ./build/bench/bench_metrics [rows] [rounds]   (default 3000000 3)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sluice.h"
#include "util.h"

typedef struct scraper {
    sluice *db;
    int interval_us;
    atomic_int stop;
    long calls;
    int64_t ns;
    size_t bytes;
} scraper;

static void *scrape(void *arg)
{
    scraper *s = arg;
    while (!atomic_load(&s->stop)) {
        int64_t t0 = sl_mono_ns();
        char *text = NULL;
        size_t len = 0;
        if (sluice_metrics(s->db, &text, &len) == SLUICE_OK) {
            s->ns += sl_mono_ns() - t0;
            s->calls++;
            s->bytes = len;
            sluice_free(text);
        }
        usleep((useconds_t)s->interval_us);
    }
    return NULL;
}

static double rate(long rows, int interval_us, scraper *out)
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
    if (sluice_exec(db, ddl, NULL, NULL)) {
        fprintf(stderr, "error: %s\n", sluice_errmsg(db));
        sluice_close(db);
        return 0;
    }
    scraper s = {db, interval_us, 0, 0, 0, 0};
    pthread_t th;
    bool threaded = interval_us > 0 && !pthread_create(&th, NULL, scrape, &s);
    int64_t t0 = sl_mono_ns();
    int rc = sluice_exec(db,
                         "INSERT INTO sink SELECT id, user_id, LOWER(url), "
                         "amount FROM src WHERE user_id % 7 = 0;",
                         NULL, NULL);
    double secs = (double)(sl_mono_ns() - t0) / 1e9;
    if (threaded) {
        atomic_store(&s.stop, 1);
        pthread_join(th, NULL);
    }
    if (out)
        *out = s;
    sluice_close(db);
    return rc ? 0 : (double)rows / secs;
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? strtol(argv[1], NULL, 10) : 3000000;
    int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3;
    if (rows <= 0)
        rows = 3000000;
    if (rounds <= 0)
        rounds = 3;
    printf("bench_metrics: %ld rows, filter/project job, %d rounds "
           "(best of each)\n",
           rows, rounds);
    static const int intervals[] = {0, 100000, 10000, 1000, 0};
    for (int k = 0; k < 5; k++) {
        double best = 0;
        scraper s = {0};
        for (int r = 0; r < rounds; r++) {
            scraper cur = {0};
            double v = rate(rows, intervals[k], &cur);
            if (v > best) {
                best = v;
                s = cur;
            }
        }
        if (!intervals[k])
            printf("  no reader:                  %10.0f rows/s\n", best);
        else
            printf("  sluice_metrics every %3d ms: %10.0f rows/s  (%ld "
                   "calls, %.1f us each, %zu bytes)\n",
                   intervals[k] / 1000, best, s.calls,
                   s.calls ? (double)s.ns / (double)s.calls / 1000.0 : 0.0,
                   s.bytes);
    }
    return 0;
}
