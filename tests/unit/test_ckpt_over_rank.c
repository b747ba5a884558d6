/*
 * test_ckpt_over_rank.c: checkpoints of the OVER aggregate
 * (runtime/op_over.c) and of window Top-N / deduplication
 * (runtime/op_rank.c), on the operators alone (snapshot/restore through
 * runtime/ckpt_rows.c).
 *
 * As test_ckpt_window.c: an uninterrupted run (push batches, advance the
 * watermark, pull) is the reference. An interrupted run snapshots into a
 * state database (one transaction per checkpoint, as the job does) every
 * few batches, goes on a little (output lost in the "crash"), then a fresh
 * operator restores from the last checkpoint and gets the batches after
 * it: the output before the checkpoint plus the restored operator's output
 * must equal the reference exactly (rows pending at the watermark, the
 * preceding rows of OVER frames, rows held per window, ties broken in
 * arrival order, late rows counted once). Also: snapshots after the first
 * write only what changed; another layout or version is refused.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "op_harness.h"
#include "op_over.h"
#include "op_rank.h"

#define N_BATCHES  24
#define BATCH_ROWS 60
#define WIN_MS     300

typedef enum kind {
    K_OVER_ROWS,  /* ROWS BETWEEN 2 PRECEDING AND CURRENT ROW per key */
    K_OVER_RANGE, /* RANGE BETWEEN 500 ms PRECEDING per key */
    K_TOPN,       /* Top-3 by v DESC per window */
    K_DEDUP,      /* first row by ts per window and key */
} kind;

typedef struct rig {
    sl_arena a;
    kind kind;
    const sl_schema *in, *out;
    sl_over_op_def over;
    sl_rank_op_def rank;
    sl_batch *batches[N_BATCHES];
    int64_t wms[N_BATCHES];
} rig;

static uint64_t rng_state;
static uint64_t rnd(void)
{
    return sl_test_xorshift(&rng_state);
}

/* in: (ws, we, k, v, ts); event times rising 10 ms a row with up to
 * 150 ms disorder (ties included: 10 ms steps), n_keys keys; every 7th
 * batch carries 3 rows far behind the watermark (late). hold: no
 * watermark at all (rows pile up). */
static void rig_init(rig *r, kind k, int n_keys, bool hold)
{
    memset(r, 0, sizeof(*r));
    r->kind = k;
    sl_arena_init(&r->a, 4096, 0);
    const sl_type *big = sl_type_simple(SL_TYPE_BIGINT);
    const sl_type *txt = sl_type_simple(SL_TYPE_VARCHAR);
    const char *in_names[] = {"ws", "we", "k", "v", "ts"};
    const sl_type *in_types[] = {big, big, txt, big, big};
    r->in = sl_schema_new(&r->a, 5, in_names, in_types);
    if (k == K_OVER_ROWS || k == K_OVER_RANGE) {
        const char *on[] = {"ws", "we", "k",  "v",  "ts",
                            "s",  "n",  "lo", "hi", "av"};
        const sl_type *ot[] = {big, big, txt, big, big,
                               big, big, big, big, big};
        r->out = sl_schema_new(&r->a, 10, on, ot);
        sl_over_op_def *d = &r->over;
        d->ts_col = 4;
        d->n_part = 1;
        d->part_cols[0] = 2;
        d->is_range = k == K_OVER_RANGE;
        d->range_ms = 500;
        d->preceding = 2;
        d->n_out = 5;
        sl_agg_kind kinds[] = {SL_AGG_SUM, SL_AGG_COUNT_STAR, SL_AGG_MIN,
                               SL_AGG_MAX, SL_AGG_AVG};
        d->n_aggs = 5;
        for (int i = 0; i < 5; i++) {
            d->agg_kind[i] = kinds[i];
            d->agg_arg[i] = i == 1 ? -1 : 3;
        }
    } else {
        const char *on[] = {"ws", "we", "k", "v", "ts", "rownum"};
        const sl_type *ot[] = {big, big, txt, big, big, big};
        r->out = sl_schema_new(&r->a, 6, on, ot);
        sl_rank_op_def *d = &r->rank;
        d->ws_col = 0;
        d->we_col = 1;
        d->n_out = 5;
        d->n_order = 1;
        if (k == K_TOPN) {
            d->order_cols[0] = 3;
            d->order_desc[0] = true;
            d->limit = 3;
        } else {
            d->n_part = 1;
            d->part_cols[0] = 2;
            d->order_cols[0] = 4;
            d->limit = 1;
        }
    }
    cr_assert(r->in && r->out);
    rng_state = 0x9E3779B97F4A7C15ull;
    int64_t t = 1000000, max_t = 0;
    for (int b = 0; b < N_BATCHES; b++) {
        sl_batch *bt = sl_batch_new(r->in, BATCH_ROWS + 3);
        cr_assert(bt);
        for (int i = 0; i < BATCH_ROWS + (b % 7 == 6 ? 3 : 0); i++) {
            int64_t et =
                i < BATCH_ROWS ? t + (int64_t)(rnd() % 15) * 10 : 1000 + i;
            t += 10;
            if (et > max_t)
                max_t = et;
            sl_value *row = sl_batch_append_row(bt);
            row[0] = sl_value_int(et - et % WIN_MS);
            row[1] = sl_value_int(et - et % WIN_MS + WIN_MS);
            char key[16];
            snprintf(key, sizeof(key), "k%02d",
                     (int)(rnd() % (uint64_t)n_keys));
            cr_assert_eq(sl_batch_set_text(bt, &row[2], key, strlen(key)),
                         SL_OK);
            /* few distinct values: ties in ORDER BY v */
            row[3] = rnd() % 10 == 0 ? sl_value_null()
                                     : sl_value_int((int64_t)(rnd() % 20));
            row[4] = sl_value_int(et);
            bt->kinds[bt->n_rows - 1] = SLUICE_ROW_INSERT;
            bt->event_time[bt->n_rows - 1] = et;
            bt->pos[bt->n_rows - 1] = (sl_srcpos){0, b * 1000 + i};
        }
        r->batches[b] = bt;
        r->wms[b] = hold ? INT64_MIN : max_t - 200;
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
    if (r->kind == K_OVER_ROWS || r->kind == K_OVER_RANGE)
        cr_assert_eq(sl_over_op_new(r->in, r->out, &r->over, &op, &err), SL_OK,
                     "%s", err.msg);
    else
        cr_assert_eq(sl_rank_op_new(r->in, r->out, &r->rank, &op, &err), SL_OK,
                     "%s", err.msg);
    return op;
}

static void step(rig *r, sl_operator *op, int b, sl_batch *ob,
                 sl_test_lines *out)
{
    sl_test_op_push(op, r->batches[b], ob, true, out);
    sl_err err;
    sl_err_clear(&err);
    if (r->wms[b] != INT64_MIN) {
        cr_assert_eq(op->ops->on_watermark(op, r->wms[b], &err), SL_OK);
        /* an emission half done: not snapshottable */
        sl_batch_clear(ob);
        sl_op_status st = SL_OP_IDLE;
        cr_assert_eq(op->ops->pull(op, ob, &st, &err), SL_OK, "%s", err.msg);
        sl_test_op_rows(ob, true, out);
        if (st == SL_OP_READY && sl_batch_is_full(ob))
            cr_assert_eq(op->ops->unsaved(op), 1);
        if (st == SL_OP_READY)
            sl_test_op_pull_all(op, ob, true, out);
    }
    cr_assert_eq(op->ops->unsaved(op), 0);
}

/* Reference vs. a crash after batch `crash` with the last checkpoint after
 * batch `last` (checkpoints every `every` batches before it). */
static void crash_and_restore(kind k, int last, int crash, int every)
{
    rig r;
    rig_init(&r, k, 5, false);
    sl_batch *ob = sl_batch_new(r.out, 16); /* small: emissions span pulls */
    cr_assert(ob);
    sl_test_lines ref = {0}, got = {0}, lost = {0};
    sl_operator *op = op_new(&r);
    for (int b = 0; b < N_BATCHES; b++)
        step(&r, op, b, ob, &ref);
    sl_test_op_finish(op, ob, true, &ref);
    int64_t ref_late = op->ops->dropped(op);
    op->ops->close(op);
    cr_assert(ref.n > 50, "%d rows", ref.n);
    cr_assert(ref_late > 0);

    sqlite3 *state = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &state), SQLITE_OK);
    op = op_new(&r);
    int64_t held_at_last = 0;
    for (int b = 0; b <= crash; b++) {
        step(&r, op, b, ob, b <= last ? &got : &lost);
        if (b <= last && (b % every == every - 1 || b == last)) {
            sl_test_op_checkpoint(op, state);
            /* the state database holds what the operator holds */
            held_at_last =
                sl_test_count(state, "SELECT count(*) FROM op0_rows");
            cr_assert_geq(held_at_last, op->ops->buffered(op));
        }
    }
    op->ops->close(op); /* the crash */
    cr_assert(held_at_last > 0, "nothing held at the checkpoint");

    op = op_new(&r);
    sl_test_op_restore(op, state);
    for (int b = last + 1; b < N_BATCHES; b++) {
        step(&r, op, b, ob, &got);
        if (b % 3 == 2) /* the restored operator checkpoints on */
            sl_test_op_checkpoint(op, state);
    }
    sl_test_op_finish(op, ob, true, &got);
    cr_assert_eq(op->ops->dropped(op), ref_late);
    op->ops->close(op);
    sl_test_op_same_rows(&got, &ref);
    sqlite3_close(state);
    sl_test_lines_free(&ref);
    sl_test_lines_free(&got);
    sl_test_lines_free(&lost);
    sl_batch_free(ob);
    rig_free(&r);
}

Test(ckpt_over_rank, over_rows_restore_equals_uninterrupted)
{
    crash_and_restore(K_OVER_ROWS, 11, 14, 3);
    crash_and_restore(K_OVER_ROWS, 2, 6, 3);
    crash_and_restore(K_OVER_ROWS, 21, 23, 1);
}

Test(ckpt_over_rank, over_range_restore_equals_uninterrupted)
{
    crash_and_restore(K_OVER_RANGE, 11, 14, 3);
    crash_and_restore(K_OVER_RANGE, 20, 23, 1);
}

Test(ckpt_over_rank, topn_restore_equals_uninterrupted)
{
    crash_and_restore(K_TOPN, 11, 14, 3);
    crash_and_restore(K_TOPN, 21, 23, 1);
}

Test(ckpt_over_rank, dedup_restore_equals_uninterrupted)
{
    crash_and_restore(K_DEDUP, 8, 12, 3);
    crash_and_restore(K_DEDUP, 2, 6, 1);
}

/* Large state, small change: with no watermark every row is held; the
 * second checkpoint writes the rows one batch added, a small part of what
 * the first (full) one wrote. */
static void incremental(kind k)
{
    rig r;
    rig_init(&r, k, 5, true);
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
    int64_t held = op->ops->buffered(op);
    cr_assert(held > 1000, "%lld", (long long)held);
    cr_assert(full >= held - BATCH_ROWS - 3, "%lld", (long long)full);
    cr_assert(incr <= BATCH_ROWS + 3 + 8, "incremental %lld", (long long)incr);
    cr_assert_eq(sl_test_count(state, "SELECT count(*) FROM op0_rows"), held);
    cr_assert_eq(out.n, 0);
    op->ops->close(op);
    sqlite3_close(state);
    sl_test_lines_free(&out);
    sl_batch_free(ob);
    rig_free(&r);
}

Test(ckpt_over_rank, incremental_writes_track_change)
{
    incremental(K_OVER_ROWS);
    incremental(K_TOPN);
}

/* The same prefix restored into an operator of another query, or a state
 * of another layout version: refused with a message; an empty state
 * database: nothing to restore. */
static void refuses(kind k, kind other)
{
    rig r, u;
    rig_init(&r, k, 5, false);
    rig_init(&u, other, 5, false);
    sl_batch *ob = sl_batch_new(r.out, 64);
    sl_test_lines out = {0};
    sqlite3 *state = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &state), SQLITE_OK);
    sl_operator *op = op_new(&r);
    step(&r, op, 0, ob, &out);
    sl_test_op_checkpoint(op, state);
    op->ops->close(op);
    op = op_new(&u);
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(op->ops->restore(op, state, "op0_", &err), SL_UNSUPPORTED);
    cr_assert(strstr(err.msg, "different") && strstr(err.msg, "pipeline.name"),
              "%s", err.msg);
    sl_err_clear(&err);
    cr_assert_eq(op->ops->restore(op, state, "op9_", &err), SL_OK, "%s",
                 err.msg);
    op->ops->close(op);
    /* a layout version this build does not read */
    cr_assert_eq(sqlite3_exec(state,
                              "UPDATE op0_meta SET v = 99 WHERE k = 'version'",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    op = op_new(&r);
    sl_err_clear(&err);
    cr_assert_eq(op->ops->restore(op, state, "op0_", &err), SL_UNSUPPORTED);
    cr_assert(strstr(err.msg, "version 99"), "%s", err.msg);
    /* a snapshot under that prefix replaces the old state */
    sl_test_op_checkpoint(op, state);
    cr_assert_eq(
        sl_test_count(state, "SELECT v FROM op0_meta WHERE k = 'version'"), 1);
    op->ops->close(op);
    sqlite3_close(state);
    sl_test_lines_free(&out);
    sl_batch_free(ob);
    rig_free(&r);
    rig_free(&u);
}

Test(ckpt_over_rank, restore_refuses_other_layout_or_version)
{
    refuses(K_OVER_ROWS, K_OVER_RANGE);
    refuses(K_TOPN, K_DEDUP);
}

/* A job resumed after the end of a bounded input (finish() emitted
 * everything, then the final checkpoint): the restored operator goes on
 * after what was emitted. The last batch again is late (no second
 * emission of its rows or windows); rows after it are emitted. */
static void resume_after_end(kind k)
{
    rig r;
    rig_init(&r, k, 5, false);
    sl_batch *ob = sl_batch_new(r.out, 64);
    sl_test_lines out = {0}, again = {0};
    sqlite3 *state = NULL;
    cr_assert_eq(sqlite3_open(":memory:", &state), SQLITE_OK);
    sl_operator *op = op_new(&r);
    for (int b = 0; b < N_BATCHES; b++)
        step(&r, op, b, ob, &out);
    sl_test_op_finish(op, ob, true, &out);
    sl_test_op_checkpoint(op, state);
    int64_t late = op->ops->dropped(op);
    op->ops->close(op);
    op = op_new(&r);
    sl_test_op_restore(op, state);
    cr_assert_eq(op->ops->buffered(op), 0);
    step(&r, op, N_BATCHES - 1, ob, &again);
    cr_assert_eq(op->ops->dropped(op) - late, r.batches[N_BATCHES - 1]->n_rows);
    /* one row an hour later: emitted at the end */
    sl_batch *bt = sl_batch_new(r.in, 1);
    sl_value *row = sl_batch_append_row(bt);
    int64_t et = 1000000 + 3600 * 1000;
    row[0] = sl_value_int(et - et % WIN_MS);
    row[1] = sl_value_int(et - et % WIN_MS + WIN_MS);
    cr_assert_eq(sl_batch_set_text(bt, &row[2], "k01", 3), SL_OK);
    row[3] = sl_value_int(7);
    row[4] = sl_value_int(et);
    bt->kinds[0] = SLUICE_ROW_INSERT;
    bt->event_time[0] = et;
    bool acc = false;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(op->ops->push(op, bt, &acc, &err), SL_OK, "%s", err.msg);
    cr_assert(acc);
    sl_test_op_finish(op, ob, true, &again);
    cr_assert_eq(again.n, 1, "%d rows after the resume", again.n);
    op->ops->close(op);
    sl_batch_free(bt);
    sqlite3_close(state);
    sl_test_lines_free(&out);
    sl_test_lines_free(&again);
    sl_batch_free(ob);
    rig_free(&r);
}

Test(ckpt_over_rank, resume_after_end_of_input)
{
    resume_after_end(K_OVER_ROWS);
    resume_after_end(K_OVER_RANGE);
    resume_after_end(K_TOPN);
    resume_after_end(K_DEDUP);
}
