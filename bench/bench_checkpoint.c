/*
 * bench_checkpoint.c: checkpoint cost against state size. For each state
 * size (1 MB .. max_mb) an operator-like table of ~4 KB rows (one row per
 * SQLite page) is built in a job's state database, a first checkpoint
 * uploads the full base to a directory store, then each interval rewrites
 * 1% of the rows (random) and takes a checkpoint: duration and bytes
 * uploaded (the WAL frames it appended) are reported next to the total
 * state size, with one periodic full base for comparison. Finally recovery:
 * opening the job on an empty state.dir from the store alone (download of
 * base + WAL chain, SQLite WAL recovery).
 *
 *   ./build/bench/bench_checkpoint [max_mb=100] [intervals=10] [store]
 *
 * store: a directory (default: under $TMPDIR) or s3://bucket/prefix with
 * the AWS_* environment variables set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"

#define ROW_BYTES 3900

static double ms_since(int64_t t0)
{
    return (double)(sl_mono_ns() - t0) / 1e6;
}

static int run_size(const char *base, const char *store, int mb, int intervals)
{
    char state[1024], state2[1024], id[64];
    snprintf(state, sizeof(state), "%s/state-%d", base, mb);
    snprintf(state2, sizeof(state2), "%s/restore-%d", base, mb);
    snprintf(id, sizeof(id), "bench-%dmb-%d", mb, (int)getpid());
    sl_ckpt_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.state_dir = state;
    cfg.job_id = id;
    cfg.store = store;
    cfg.retained = 1;
    cfg.full_every = intervals + 1; /* one full base after the deltas */
    sl_err err;
    sl_err_clear(&err);
    sl_ckpt *c = NULL;
    if (sl_ckpt_open(&cfg, &c, &err)) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    sqlite3 *db = sl_ckpt_db(c);
    int64_t rows = (int64_t)mb * 1024 * 1024 / 4096;
    char sql[512];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE op0_kv(k INTEGER PRIMARY KEY, v BLOB);"
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
             "WHERE i < %lld) INSERT INTO op0_kv SELECT i, randomblob(%d) "
             "FROM n;",
             (long long)rows, ROW_BYTES);
    int64_t t0 = sl_mono_ns();
    if (sl_ckpt_begin(c, &err) ||
        sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
        sl_ckpt_commit(c, &err)) {
        fprintf(stderr, "build: %s %s\n", err.msg, sqlite3_errmsg(db));
        return 1;
    }
    sl_ckpt_stats st;
    sl_ckpt_stats_get(c, &st);
    printf("state %5d MB (%lld rows): first checkpoint (full base) %8.1f ms, "
           "%10lld bytes uploaded\n",
           mb, (long long)rows, ms_since(t0), (long long)st.last_upload_bytes);
    int64_t change = rows / 100 > 0 ? rows / 100 : 1;
    double sum_ms = 0, max_ms = 0;
    int64_t sum_up = 0, n_delta = 0;
    for (int i = 0; i < intervals + 1; i++) {
        snprintf(sql, sizeof(sql),
                 "UPDATE op0_kv SET v = randomblob(%d) WHERE k IN (SELECT "
                 "1 + abs(random()) %% %lld FROM op0_kv LIMIT %lld)",
                 ROW_BYTES, (long long)rows, (long long)change);
        if (sl_ckpt_begin(c, &err) ||
            sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            fprintf(stderr, "update: %s %s\n", err.msg, sqlite3_errmsg(db));
            return 1;
        }
        t0 = sl_mono_ns(); /* the checkpoint itself: commit + upload */
        if (sl_ckpt_commit(c, &err)) {
            fprintf(stderr, "checkpoint: %s\n", err.msg);
            return 1;
        }
        double ms = ms_since(t0);
        sl_ckpt_stats_get(c, &st);
        if (st.last_full) {
            printf("                 periodic full base   %8.1f ms, %10lld "
                   "bytes uploaded\n",
                   ms, (long long)st.last_upload_bytes);
            continue;
        }
        sum_ms += ms;
        if (ms > max_ms)
            max_ms = ms;
        sum_up += st.last_upload_bytes;
        n_delta++;
    }
    sl_ckpt_stats_get(c, &st);
    if (n_delta)
        printf("                 1%% changed: %lld incremental checkpoints, "
               "avg %6.1f ms (max %6.1f), avg %10lld bytes uploaded = %.2f%% "
               "of the %lld-byte state\n",
               (long long)n_delta, sum_ms / (double)n_delta, max_ms,
               (long long)(sum_up / n_delta),
               100.0 * (double)(sum_up / n_delta) / (double)st.db_bytes,
               (long long)st.db_bytes);
    sl_ckpt_free(c);
    cfg.state_dir = state2;
    t0 = sl_mono_ns();
    if (sl_ckpt_open(&cfg, &c, &err)) {
        fprintf(stderr, "restore: %s\n", err.msg);
        return 1;
    }
    sqlite3_stmt *q = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(sl_ckpt_db(c), "SELECT count(*) FROM op0_kv", -1, &q,
                           NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sl_ckpt_stats_get(c, &st);
    printf("                 recovery on an empty state.dir from the store: "
           "%8.1f ms (checkpoint %lld, %lld rows)\n",
           ms_since(t0), (long long)st.last_id, (long long)n);
    sl_ckpt_free(c);
    return n == rows ? 0 : 1;
}

int main(int argc, char **argv)
{
    int max_mb = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 100;
    int intervals = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 10;
    const char *tmp = getenv("TMPDIR");
    char base[512];
    snprintf(base, sizeof(base), "%s/bench-ckpt-%d", tmp ? tmp : "/tmp",
             (int)getpid());
    char store[600];
    snprintf(store, sizeof(store), "%s/store", base);
    const char *st = argc > 3 ? argv[3] : store;
    printf("checkpoint store: %s; state under %s\n", st, base);
    int rc = 0;
    for (int mb = 1; mb <= max_mb && !rc; mb *= 10)
        rc = run_size(base, st, mb, intervals);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (system(cmd) != 0) /* sl: allow */
        fprintf(stderr, "could not remove %s\n", base);
    return rc;
}
