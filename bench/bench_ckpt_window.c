/*
 * bench_ckpt_window.c: checkpoints of the aggregate operator's state
 * (runtime/op_window.c snapshot, issue 9) against state size.
 *
 * For each size (10k groups .. max_groups, x10) a window aggregate
 * (COUNT, SUM, MIN, MAX, AVG per group of one long open window) absorbs one
 * row per group; a first checkpoint (the operator's full copy into the job
 * state database, commit, full base upload to a directory store) is timed;
 * then each interval 1% of the groups get a row and a checkpoint is taken:
 * the operator's snapshot time, the whole checkpoint (snapshot + commit +
 * upload) and the bytes uploaded are reported next to the state size.
 * Also: push throughput (1% batches of random groups) before the first
 * checkpoint (no change tracking) and after it (ckpt_track.h).
 *
 *   ./build/bench/bench_ckpt_window [max_groups=1000000] [intervals=10]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "op_window.h"

#define BATCH 1000

static double ms_since(int64_t t0)
{
    return (double)(sl_mono_ns() - t0) / 1e6;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Push n rows (keys: sequential from *next when seq, else random below
 * groups); returns rows per second. */
static double push_rows(sl_operator *op, sl_batch *b, int64_t n, bool seq,
                        int64_t groups, int64_t *next)
{
    sl_err err;
    sl_err_clear(&err);
    int64_t t0 = sl_mono_ns();
    for (int64_t done = 0; done < n;) {
        sl_batch_clear(b);
        while (b->n_rows < BATCH && done < n) {
            sl_value *row = sl_batch_append_row(b);
            int64_t k = seq ? (*next)++ : (int64_t)(rnd() % (uint64_t)groups);
            row[0] = sl_value_int(0);
            row[1] = sl_value_int(INT64_C(1) << 50);
            row[2] = sl_value_int(k);
            row[3] = sl_value_int((int64_t)(rnd() % 1000));
            b->kinds[b->n_rows - 1] = SLUICE_ROW_INSERT;
            b->event_time[b->n_rows - 1] = 0;
            b->pos[b->n_rows - 1] = (sl_srcpos){0, done};
            done++;
        }
        bool acc = false;
        if (op->ops->push(op, b, &acc, &err) || !acc) {
            fprintf(stderr, "push: %s\n", err.msg);
            exit(1);
        }
    }
    return (double)n / ((double)(sl_mono_ns() - t0) / 1e9);
}

static int checkpoint(sl_ckpt *c, sl_operator *op, double *snap_ms,
                      double *all_ms)
{
    sl_err err;
    sl_err_clear(&err);
    int64_t t0 = sl_mono_ns();
    if (sl_ckpt_begin(c, &err))
        goto fail;
    int64_t t1 = sl_mono_ns();
    if (op->ops->snapshot(op, sl_ckpt_db(c), "op0_", &err))
        goto fail;
    *snap_ms = ms_since(t1);
    if (sl_ckpt_commit(c, &err))
        goto fail;
    *all_ms = ms_since(t0);
    return 0;
fail:
    fprintf(stderr, "checkpoint: %s\n", err.msg);
    return 1;
}

static int run_size(const char *base, int64_t groups, int intervals)
{
    sl_arena a;
    sl_arena_init(&a, 4096, 0);
    const sl_type *big = sl_type_simple(SL_TYPE_BIGINT);
    const sl_type *dbl = sl_type_simple(SL_TYPE_DOUBLE);
    const char *in_names[] = {"ws", "we", "k", "v"};
    const sl_type *in_types[] = {big, big, big, big};
    const char *out_names[] = {"ws", "we", "k", "n", "s", "lo", "hi", "av"};
    const sl_type *out_types[] = {big, big, big, big, big, big, big, dbl};
    const sl_schema *in = sl_schema_new(&a, 4, in_names, in_types);
    const sl_schema *out = sl_schema_new(&a, 8, out_names, out_types);
    sl_agg_def aggs[5] = {{SL_AGG_COUNT_STAR, -1, NULL, NULL, 0},
                          {SL_AGG_SUM, 3, NULL, NULL, 0},
                          {SL_AGG_MIN, 3, NULL, NULL, 0},
                          {SL_AGG_MAX, 3, NULL, NULL, 0},
                          {SL_AGG_AVG, 3, NULL, NULL, 0}};
    sl_window_op_def def;
    memset(&def, 0, sizeof(def));
    def.ws_col = 0;
    def.we_col = 1;
    def.n_keys = 3;
    def.n_aggs = 5;
    def.aggs = aggs;
    sl_err err;
    sl_err_clear(&err);
    sl_operator *op = NULL;
    if (sl_window_op_new(in, out, &def, &op, &err)) {
        fprintf(stderr, "operator: %s\n", err.msg);
        return 1;
    }
    char state[1024], store[1024], id[64];
    snprintf(state, sizeof(state), "%s/state-%lld", base, (long long)groups);
    snprintf(store, sizeof(store), "%s/store", base);
    snprintf(id, sizeof(id), "win-%lld-%d", (long long)groups, (int)getpid());
    sl_ckpt_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.state_dir = state;
    cfg.job_id = id;
    cfg.store = store;
    cfg.retained = 1;
    cfg.full_every = intervals + 100;
    sl_ckpt *c = NULL;
    if (sl_ckpt_open(&cfg, &c, &err)) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    sl_batch *b = sl_batch_new(in, BATCH);
    int64_t next = 0;
    push_rows(op, b, groups, true, groups, &next);
    int64_t change = groups / 100;
    double rate0 = 0; /* random keys, as below, before any tracking */
    for (int i = 0; i < intervals; i++)
        rate0 += push_rows(op, b, change, false, groups, &next);
    double snap_ms = 0, all_ms = 0;
    if (checkpoint(c, op, &snap_ms, &all_ms))
        return 1;
    sl_ckpt_stats st;
    sl_ckpt_stats_get(c, &st);
    printf("%8lld groups: first checkpoint %8.1f ms (operator copy %8.1f "
           "ms), %10lld bytes uploaded; state database %lld bytes\n",
           (long long)groups, all_ms, snap_ms, (long long)st.last_upload_bytes,
           (long long)st.db_bytes);
    double sum_snap = 0, sum_all = 0, max_all = 0, rate1 = 0;
    int64_t sum_up = 0;
    for (int i = 0; i < intervals; i++) {
        rate1 += push_rows(op, b, change, false, groups, &next);
        if (checkpoint(c, op, &snap_ms, &all_ms))
            return 1;
        sl_ckpt_stats_get(c, &st);
        sum_snap += snap_ms;
        sum_all += all_ms;
        if (all_ms > max_all)
            max_all = all_ms;
        sum_up += st.last_upload_bytes;
    }
    sl_ckpt_stats_get(c, &st);
    if (intervals > 0)
        printf("          1%% of the groups changed: checkpoint avg %6.1f ms "
               "(max %6.1f; operator %6.1f), avg %9lld bytes uploaded = "
               "%.2f%% of the %lld-byte state database\n"
               "          push: %.0f rows/s untracked, %.0f rows/s with "
               "change tracking\n",
               sum_all / intervals, max_all, sum_snap / intervals,
               (long long)(sum_up / intervals),
               100.0 * (double)(sum_up / intervals) / (double)st.db_bytes,
               (long long)st.db_bytes, rate0 / intervals, rate1 / intervals);
    sl_ckpt_free(c);
    sl_batch_free(b);
    op->ops->close(op);
    sl_arena_free(&a);
    return 0;
}

int main(int argc, char **argv)
{
    int64_t max_groups =
        argc > 1 ? (int64_t)strtoll(argv[1], NULL, 10) : 1000000;
    int intervals = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 10;
    const char *tmp = getenv("TMPDIR");
    char base[512];
    snprintf(base, sizeof(base), "%s/bench-ckpt-window-%d", tmp ? tmp : "/tmp",
             (int)getpid());
    printf("state and directory store under %s\n", base);
    int rc = 0;
    for (int64_t g = 10000; g <= max_groups && !rc; g *= 10)
        rc = run_size(base, g, intervals);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (system(cmd) != 0) /* sl: allow */
        fprintf(stderr, "could not remove %s\n", base);
    return rc;
}
