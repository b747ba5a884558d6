/*
 * test_ckpt_window.c: checkpoints of the aggregate operator
 * (runtime/op_window.c snapshot/restore, issue 9), on the operator alone.
 *
 * An uninterrupted run (push batches, advance the watermark, pull) is the
 * reference. An interrupted run snapshots its state into a state database
 * (one transaction per checkpoint, as the job does) after some batches,
 * goes on a little (output lost in the "crash"), then a fresh operator
 * restores from the last checkpoint and gets the batches after it: the
 * output before the checkpoint plus the restored operator's output must
 * equal the reference exactly, for window aggregates (with late rows,
 * COUNT(DISTINCT), LISTAGG and PERCENTILE-with-frequency buffers) and updating
 * GROUP BY (with TTL). Snapshots after the first write only what changed.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "op_harness.h"
#include "op_window.h"

#define N_BATCHES  24
#define BATCH_ROWS 60
#define WIN_MS     100

/* live rows of the acc log in the state database (the latest entry per
 * key, if live) */
#define LIVE_ROWS                                                              \
    "SELECT count(*) FROM op0_acc a WHERE live AND seq = (SELECT max(seq) "    \
    "FROM op0_acc b WHERE b.ws = a.ws AND b.we = a.we AND b.gk = a.gk)"

typedef struct rig {
    sl_arena a;
    const sl_schema *in, *out;
    sl_agg_def aggs[8];
    sl_window_op_def def;
    sl_batch *batches[N_BATCHES];
    int64_t wms[N_BATCHES];
} rig;

static uint64_t rng_state;
static uint64_t rnd(void)
{
    return sl_test_xorshift(&rng_state);
}

/* window mode: in (ws, we, k, v), keys ws, we, k;
 * updating mode: in (k, v), key k. Aggregates over v. */
static int64_t session_gap; /* > 0: SESSION windows of this gap */

static void rig_init(rig *r, bool updating, int64_t ttl_ms, int n_keys)
{
    memset(r, 0, sizeof(*r));
    sl_arena_init(&r->a, 4096, 0);
    const sl_type *big = sl_type_simple(SL_TYPE_BIGINT);
    const sl_type *txt = sl_type_simple(SL_TYPE_VARCHAR);
    const sl_type *dbl = sl_type_simple(SL_TYPE_DOUBLE);
    int nk = updating ? 1 : 3;
    const char *in_names[] = {"ws", "we", "k", "v"};
    const sl_type *in_types[] = {big, big, txt, big};
    r->in = sl_schema_new(&r->a, updating ? 2 : 4, in_names + (3 - nk),
                          in_types + (3 - nk));
    const char *out_names[] = {"ws", "we", "k",  "n",  "s", "lo",
                               "hi", "av", "nd", "la", "pc"};
    const sl_type *out_types[] = {big, big, txt, big, big, big,
                                  big, dbl, big, txt, dbl};
    r->out = sl_schema_new(&r->a, nk + 8, out_names + (3 - nk),
                           out_types + (3 - nk));
    cr_assert(r->in && r->out);
    int v = nk; /* column of v */
    sl_agg_kind kinds[] = {SL_AGG_COUNT_STAR, SL_AGG_SUM,
                           SL_AGG_MIN,        SL_AGG_MAX,
                           SL_AGG_AVG,        SL_AGG_COUNT_DISTINCT,
                           SL_AGG_LISTAGG,    SL_AGG_PERCENTILE};
    for (int i = 0; i < 8; i++) {
        r->aggs[i].kind = kinds[i];
        r->aggs[i].arg = i == 0 ? -1 : v;
        r->aggs[i].sep = i == 6 ? "|" : NULL;
        /* PERCENTILE(v, 0.5, v): v counts v times (0: not at all) */
        r->aggs[i].pct = i == 7 ? "0.5" : NULL;
        r->aggs[i].freq = i == 7 ? v + 1 : 0;
    }
    r->def.updating = updating;
    r->def.ws_col = updating ? -1 : 0;
    r->def.we_col = updating ? -1 : 1;
    r->def.n_keys = nk;
    r->def.n_aggs = 8;
    r->def.aggs = r->aggs;
    r->def.ttl_ms = ttl_ms;
    r->def.session_gap_ms = updating ? 0 : session_gap;
    /* input: event times rising 10 ms a row with up to 150 ms disorder,
     * 40 keys; every 7th batch carries 3 rows far behind the watermark */
    rng_state = 0x9E3779B97F4A7C15ull;
    int64_t t = 1000000, max_t = 0;
    for (int b = 0; b < N_BATCHES; b++) {
        sl_batch *bt = sl_batch_new(r->in, BATCH_ROWS + 3);
        cr_assert(bt);
        for (int i = 0; i < BATCH_ROWS + (b % 7 == 6 ? 3 : 0); i++) {
            int64_t et = i < BATCH_ROWS ? t + (int64_t)(rnd() % 150) : 1000;
            t += 10;
            if (et > max_t)
                max_t = et;
            sl_value *row = sl_batch_append_row(bt);
            int c = 0;
            if (!updating && session_gap > 0) {
                row[c++] = sl_value_int(et);
                row[c++] = sl_value_int(et + session_gap);
            } else if (!updating) {
                row[c++] = sl_value_int(et - et % WIN_MS);
                row[c++] = sl_value_int(et - et % WIN_MS + WIN_MS);
            }
            char k[16];
            snprintf(k, sizeof(k), "k%02d", (int)(rnd() % (uint64_t)n_keys));
            cr_assert_eq(sl_batch_set_text(bt, &row[c], k, strlen(k)), SL_OK);
            c++;
            row[c] = rnd() % 10 == 0 ? sl_value_null()
                                     : sl_value_int((int64_t)(rnd() % 50));
            bt->kinds[bt->n_rows - 1] = SLUICE_ROW_INSERT;
            bt->event_time[bt->n_rows - 1] = et;
            bt->pos[bt->n_rows - 1] = (sl_srcpos){0, b * 1000 + i};
        }
        r->batches[b] = bt;
        r->wms[b] = max_t - 200;
    }
}

static void rig_free(rig *r)
{
    for (int b = 0; b < N_BATCHES; b++)
        sl_batch_free(r->batches[b]);
    sl_arena_free(&r->a);
}

static sl_operator *op_new(rig *r)
{
    sl_operator *op = NULL;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_window_op_new(r->in, r->out, &r->def, &op, &err), SL_OK,
                 "%s", err.msg);
    return op;
}

static void step(rig *r, sl_operator *op, int b, sl_batch *ob,
                 sl_test_lines *out)
{
    sl_test_op_push(op, r->batches[b], ob, false, out);
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(op->ops->on_watermark(op, r->wms[b], &err), SL_OK);
    sl_test_op_pull_all(op, ob, false, out);
    cr_assert_eq(op->ops->unsaved(op), 0);
}

/* Reference vs. crash after batch `crash` with the last checkpoint after
 * batch `last` (checkpoints every 3 batches before it). */
static void crash_and_restore_every(bool updating, int64_t ttl_ms, int last,
                                    int crash, int every,
                                    bool expect_compaction)
{
    rig r;
    rig_init(&r, updating, ttl_ms, 40);
    sl_batch *ob = sl_batch_new(r.out, 16); /* small: emissions span pulls */
    cr_assert(ob);
    sl_test_lines ref = {0}, got = {0}, lost = {0};
    sl_operator *op = op_new(&r);
    for (int b = 0; b < N_BATCHES; b++)
        step(&r, op, b, ob, &ref);
    sl_test_op_finish(op, ob, false, &ref);
    int64_t ref_late = op->ops->dropped(op);
    op->ops->close(op);
    cr_assert(ref.n > 50, "%d rows", ref.n);
    if (!updating)
        cr_assert(ref_late > 0);

    sqlite3 *state = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &state), SQLITE_OK);
    op = op_new(&r);
    int64_t full = 0, incr_max = 0, compactions = 0;
    for (int b = 0; b <= crash; b++) {
        step(&r, op, b, ob, b <= last ? &got : &lost);
        if (b <= last && (b % every == every - 1 || b == last)) {
            int64_t seq0 =
                full ? sl_test_count(state, "SELECT max(seq) FROM op0_acc") : 0;
            int64_t ch = sl_test_op_checkpoint(op, state);
            if (sl_test_count(state, "SELECT max(seq) FROM op0_acc") < seq0)
                compactions++; /* the log was rewritten */
            if (!full)
                full = ch;
            else if (ch > incr_max)
                incr_max = ch;
            /* the state database holds what the operator holds */
            sl_window_op_stats s;
            sl_window_op_stats_get(op, &s);
            cr_assert_eq(sl_test_count(state, LIVE_ROWS), s.state_rows);
        }
    }
    op->ops->close(op); /* the crash */
    if (expect_compaction)
        cr_assert(compactions > 0);
    /* a checkpoint writes the groups a few batches touched: bounded by
     * the rows pushed since the last one (acc and buf rows, deletes and
     * inserts), not by the state (sessions: a merge also moves the
     * buffered values of the sessions it merges) */
    cr_assert(session_gap > 0 || incr_max <= 4 * 3 * (BATCH_ROWS + 3) + 64,
              "%lld", (long long)incr_max);

    op = op_new(&r);
    sl_test_op_restore(op, state);
    for (int b = last + 1; b < N_BATCHES; b++) {
        step(&r, op, b, ob, &got);
        if (b % 3 == 2) /* the restored operator checkpoints on */
            sl_test_op_checkpoint(op, state);
    }
    sl_test_op_finish(op, ob, false, &got);
    cr_assert_eq(op->ops->dropped(op), ref_late);
    op->ops->close(op);
    sl_test_op_same_rows(&got, &ref);
    /* a fresh operator restored from the last checkpoint (after the
     * restored run's own) holds the same state */
    sqlite3_close(state);
    sl_test_lines_free(&ref);
    sl_test_lines_free(&got);
    sl_test_lines_free(&lost);
    sl_batch_free(ob);
    rig_free(&r);
}

static void crash_and_restore(bool updating, int64_t ttl_ms, int last,
                              int crash)
{
    crash_and_restore_every(updating, ttl_ms, last, crash, 3, false);
}

/* A checkpoint after every batch: the acc log outgrows the live rows and
 * is rewritten (compaction) before the crash. */
Test(ckpt_window, window_restore_after_log_compaction)
{
    crash_and_restore_every(false, 0, 21, 23, 1, true);
}

Test(ckpt_window, window_restore_equals_uninterrupted)
{
    crash_and_restore(false, 0, 11, 14);
}

Test(ckpt_window, window_restore_at_first_checkpoint)
{
    crash_and_restore(false, 0, 2, 6);
}

Test(ckpt_window, window_restore_late_in_input)
{
    crash_and_restore(false, 0, 20, 23);
}

/* SESSION windows (gap 500 ms, a key's rows about 400 ms apart): sessions
 * grow and merge across the checkpoints (moved and merged acc rows,
 * buffered values following their session). */
Test(ckpt_window, session_restore_equals_uninterrupted)
{
    session_gap = 500;
    crash_and_restore(false, 0, 11, 14);
    crash_and_restore_every(false, 0, 21, 23, 1, false);
    session_gap = 0;
}

Test(ckpt_window, updating_restore_equals_uninterrupted)
{
    crash_and_restore(true, 0, 11, 14);
}

Test(ckpt_window, updating_with_ttl_restore)
{
    /* a TTL longer than the test: bookkeeping (upd) survives a restore */
    crash_and_restore(true, 3600 * 1000, 8, 10);
}

Test(ckpt_window, restore_refuses_other_layout)
{
    rig r;
    rig_init(&r, false, 0, 40);
    sl_batch *ob = sl_batch_new(r.out, 64);
    sl_test_lines out = {0};
    sqlite3 *state = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &state), SQLITE_OK);
    sl_operator *op = op_new(&r);
    step(&r, op, 0, ob, &out);
    sl_test_op_checkpoint(op, state);
    op->ops->close(op);
    /* the same prefix restored into an aggregate of another query */
    rig u;
    rig_init(&u, true, 0, 40);
    op = op_new(&u);
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(op->ops->restore(op, state, "op0_", &err), SL_UNSUPPORTED);
    cr_assert(strstr(err.msg, "different aggregate"), "%s", err.msg);
    /* an empty state database: nothing to restore */
    sl_err_clear(&err);
    cr_assert_eq(op->ops->restore(op, state, "op9_", &err), SL_OK, "%s",
                 err.msg);
    op->ops->close(op);
    sqlite3_close(state);
    sl_test_lines_free(&out);
    sl_batch_free(ob);
    rig_free(&r);
    rig_free(&u);
}

/* Large state, small change: the second checkpoint writes the groups one
 * batch touched, a small part of what the first (full) one wrote. */
Test(ckpt_window, incremental_writes_track_change)
{
    rig r;
    rig_init(&r, true, 0, 1000000);
    sl_batch *ob = sl_batch_new(r.out, 256);
    sl_test_lines out = {0};
    sqlite3 *state = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &state), SQLITE_OK);
    sl_operator *op = op_new(&r);
    for (int b = 0; b < N_BATCHES - 1; b++)
        step(&r, op, b, ob, &out);
    int64_t full = sl_test_op_checkpoint(op, state);
    step(&r, op, N_BATCHES - 1, ob, &out);
    int64_t incr = sl_test_op_checkpoint(op, state);
    sl_window_op_stats s;
    sl_window_op_stats_get(op, &s);
    cr_assert(s.state_rows > 1000, "%lld", (long long)s.state_rows);
    cr_assert(full >= s.state_rows - BATCH_ROWS, "%lld", (long long)full);
    cr_assert(incr * 10 < full, "full %lld, incremental %lld", (long long)full,
              (long long)incr);
    cr_assert_eq(sl_test_count(state, LIVE_ROWS), s.state_rows);
    op->ops->close(op);
    sqlite3_close(state);
    sl_test_lines_free(&out);
    sl_batch_free(ob);
    rig_free(&r);
}
