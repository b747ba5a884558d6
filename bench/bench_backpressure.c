/*
 * bench_backpressure.c: a slow model fed by a fast source keeps memory flat.
 *
 *   datagen (100k rows/s wanted) -> ML_PREDICT (model answers in 1 s,
 *   max-concurrent-operations 1) -> blackhole
 *
 * The model operator holds a bounded queue; when it is full the job pauses
 * the source (DESIGN.md section 7). The process's resident set size is
 * sampled every few seconds through the progress handler and printed with
 * the rows read, next to the rows the model could possibly have answered.
 *
 *   ./build/bench/bench_backpressure [seconds]    (default 60)
 *
 * Starts tests/servers/mock_openai.py (Debian's /usr/bin/python3) on
 * 127.0.0.1 itself and stops it at the end.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sluice.h"
#include "util.h"

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, "VmRSS:", 6)) {
            int64_t v = 0;
            const char *p = line + 6;
            while (*p == ' ' || *p == '\t')
                p++;
            size_t n = strspn(p, "0123456789");
            if (sl_parse_int64(p, n, &v) == SL_OK)
                kb = (long)v;
        }
    fclose(f);
    return kb;
}

typedef struct sampler {
    int64_t start_ns;
    int seconds;
    long first_kb, peak_kb, last_kb;
    int n;
    pid_t server;
} sampler;

static int on_progress(void *ctx, const sluice_progress *p)
{
    sampler *s = ctx;
    double t = (double)(sl_mono_ns() - s->start_ns) / 1e9;
    long kb = rss_kb();
    if (s->n == 0)
        s->first_kb = kb;
    if (kb > s->peak_kb)
        s->peak_kb = kb;
    s->last_kb = kb;
    s->n++;
    printf("  t=%5.1fs  rows read %8lld  rows out %6lld  RSS %6ld KiB\n", t,
           (long long)sluice_progress_rows_in(p),
           (long long)sluice_progress_rows_out(p), kb);
    fflush(stdout);
    if (t >= s->seconds) {
        /* A graceful stop would drain up to the operator's queue through a
         * model answering once a second: end the measurement here. */
        printf("  RSS first sample %ld KiB, peak %ld KiB, last %ld KiB "
               "(limit: flat, i.e. peak within a few MiB of the first "
               "sample)\n",
               s->first_kb, s->peak_kb, s->last_kb);
        fflush(stdout);
        kill(s->server, SIGTERM);
        _exit(0);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 60; /* sl: allow */
    if (seconds <= 0)
        seconds = 60;
    int fds[2];
    if (pipe(fds))
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execl("/usr/bin/python3", "python3",
              SLUICE_SOURCE_DIR "/tests/servers/mock_openai.py", "--port", "0",
              "--latency-ms", "1000", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char line[256] = {0};
    FILE *srv = fdopen(fds[0], "r");
    if (!srv || !fgets(line, sizeof(line), srv)) {
        fprintf(stderr, "mock server did not start\n");
        return 1;
    }
    const char *colon = strrchr(line, ':');
    int port = colon ? (int)strtol(colon + 1, NULL, 10) : 0;
    printf("bench_backpressure: slow model (1 s per call, 1 in flight) fed "
           "by datagen at 100000 rows/s for %d s; mock server on port %d\n",
           seconds, port);
    sluice *db = NULL;
    if (sluice_open(&db))
        return 1;
    setenv("BENCH_KEY", "k", 1);
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE src (id BIGINT, body STRING) WITH ('connector' = "
             "'datagen', 'rows-per-second' = '100000', 'fields.body.length' "
             "= '64');"
             "CREATE MODEL slow INPUT (p STRING) OUTPUT (a STRING) WITH "
             "('provider' = 'openai', 'endpoint' = "
             "'http://127.0.0.1:%d/v1/chat/completions', 'model' = 'm', "
             "'api-key' = '${BENCH_KEY}', 'max-concurrent-operations' = "
             "'1');"
             "CREATE TABLE sink (id BIGINT, a STRING) WITH ('connector' = "
             "'blackhole');",
             port);
    if (sluice_exec(db, sql, NULL, NULL)) {
        fprintf(stderr, "%s\n", sluice_errmsg(db));
        return 1;
    }
    sampler s = {sl_mono_ns(), seconds, 0, 0, 0, 0, pid};
    sluice_progress_handler(db, 5000, on_progress, &s);
    int rc = sluice_exec(db,
                         "INSERT INTO sink SELECT id, a FROM ML_PREDICT(TABLE "
                         "src, MODEL slow, DESCRIPTOR(body))",
                         NULL, NULL);
    printf("  job ended early: %s\n", rc ? sluice_errmsg(db) : "ok");
    sluice_close(db);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return 0;
}
