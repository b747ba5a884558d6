/*
 * op_join.c: the two-input join operator (see op_join.h).
 *
 * push() splits the tagged batch by side, runs each side's chain over its
 * rows synchronously (stages run to completion, operators are pushed and
 * then pulled until idle) and feeds what comes out to the join: store in
 * the side's state table, probe the other side's, queue the matches. The
 * queue is a list of output batches that pull() hands out; while it holds
 * rows push() refuses input (backpressure). A new watermark is processed
 * in pull(): delivered down each side chain in step order (each operator
 * drained before the next sees it, so rows a window emits are never late
 * for the operator after it), then the expired state rows are deleted.
 */
#include <stdatomic.h>
#include <string.h>

#include <sqlite3.h>

#include "op_join.h"
#include "op_window.h"
#include "stage.h"

#define QUEUE_BATCH_ROWS 1024
#define QUEUE_KEEP       16 /* output batches kept for reuse */
#define DEFAULT_MAX_ROWS (8 << 20)
#define TTL_SWEEP_MS     1000
#define SIZE_SAMPLE_MS   200

/* the largest state (join and side chains) any join reached: benchmarks */
static _Atomic int64_t peak_state_bytes;

typedef struct chain {
    sl_join_side side;
    sl_batch *in;    /* rows of this side split from a pushed batch */
    sl_batch **outb; /* per step: its output batch */
    bool finished;
} chain;

typedef struct jop {
    sl_operator base;
    sl_join_op_def def;
    chain ch[2];
    sqlite3 *db;
    sqlite3_stmt *ins[2];
    sqlite3_stmt *probe[2]; /* probe[s]: rows of side s by key */
    sqlite3_stmt *expire[2];
    sqlite3_stmt *ttl[2];
    sl_batch **queue; /* output batches: [q_head, q_n) */
    int q_head, q_n, q_cap;
    int q_alloc;     /* batches allocated: [0, q_alloc) */
    int q_rd;        /* rows of queue[q_head] already pulled */
    int64_t q_rows;  /* rows queued */
    int64_t wm;      /* latest watermark received */
    int64_t wm_done; /* processed up to here */
    int64_t last_ttl_ms;
    int64_t last_size_ms;
    int64_t peak_bytes;
    sqlite3_stmt *size_q;
    int64_t rows_out;
    int64_t stored;
    bool finishing;
    bool finished; /* side chains drained after finish() */
    bool in_tx;
    bool snapshotting; /* checkpoints take the state: it holds no rows */
    sl_buf key;
} jop;

static const sl_operator_ops jop_ops;

static int db_err(jop *j, sl_err *err, const char *what)
{
    return sl_err_set(err, SL_RUNTIME, "join state: %s: %s", what,
                      sqlite3_errmsg(j->db));
}

static int prepare(jop *j, const char *sql, sqlite3_stmt **stmt, sl_err *err)
{
    if (sqlite3_prepare_v3(j->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt,
                           NULL) != SQLITE_OK)
        return sl_err_set(err, SL_ERROR,
                          "join state: cannot prepare: %s (SQL: %s)",
                          sqlite3_errmsg(j->db), sql);
    return SL_OK;
}

static int exec(jop *j, const char *sql, sl_err *err)
{
    if (sqlite3_exec(j->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_err(j, err, sql);
    return SL_OK;
}

static int step_done(jop *j, sqlite3_stmt *st, sl_err *err, const char *what)
{
    int s = sqlite3_step(st);
    sqlite3_reset(st);
    if (s != SQLITE_DONE && s != SQLITE_ROW)
        return db_err(j, err, what);
    return SL_OK;
}

static void bind_value(sqlite3_stmt *st, int i, const sl_value *v)
{
    switch (v->kind) {
    case SL_V_INT:
        sqlite3_bind_int64(st, i, v->u.i);
        break;
    case SL_V_REAL:
        sqlite3_bind_double(st, i, v->u.d);
        break;
    case SL_V_TEXT:
        sqlite3_bind_text(st, i, v->u.s, (int)v->len, SQLITE_STATIC);
        break;
    case SL_V_BLOB:
        sqlite3_bind_blob(st, i, v->u.b, (int)v->len, SQLITE_STATIC);
        break;
    default:
        sqlite3_bind_null(st, i);
    }
}

/* A value of the state table into an output column of type. */

/* Copy a value into batch b's arena. */
static int copy_value(sl_batch *b, sl_value *dst, const sl_value *src)
{
    if (src->kind == SL_V_TEXT)
        return sl_batch_set_text(b, dst, src->u.s, src->len);
    if (src->kind == SL_V_BLOB)
        return sl_batch_set_blob(b, dst, src->u.b, src->len);
    *dst = *src;
    return SL_OK;
}

/* Encode the key columns of a row of side s; false when a key is NULL
 * (an inner join matches nothing then). Integral REALs encode as INTs so
 * 2 = 2.0 matches. */
static bool encode_key(jop *j, int s, const sl_value *row)
{
    sl_buf_reset(&j->key);
    for (int k = 0; k < j->def.n_keys; k++) {
        const sl_value *v = &row[j->def.keys[s][k]];
        switch (v->kind) {
        case SL_V_INT:
            sl_buf_putc(&j->key, 'i');
            sl_buf_append(&j->key, &v->u.i, sizeof(v->u.i));
            break;
        case SL_V_REAL: {
            double d = v->u.d;
            if (d >= -9.2e18 && d <= 9.2e18 && (double)(int64_t)d == d) {
                int64_t i = (int64_t)d;
                sl_buf_putc(&j->key, 'i');
                sl_buf_append(&j->key, &i, sizeof(i));
            } else {
                sl_buf_putc(&j->key, 'r');
                sl_buf_append(&j->key, &d, sizeof(d));
            }
            break;
        }
        case SL_V_TEXT:
        case SL_V_BLOB: {
            uint32_t n = v->len;
            sl_buf_putc(&j->key, v->kind == SL_V_TEXT ? 't' : 'b');
            sl_buf_append(&j->key, &n, sizeof(n));
            sl_buf_append(&j->key,
                          v->kind == SL_V_TEXT ? (const void *)v->u.s : v->u.b,
                          n);
            break;
        }
        default:
            return false;
        }
    }
    if (!j->key.len)
        sl_buf_putc(&j->key, 0);
    return true;
}

/* ---- output queue --------------------------------------------------------
 */

static sl_batch *queue_tail(jop *j, sl_err *err)
{
    if (j->q_n > j->q_head && !sl_batch_is_full(j->queue[j->q_n - 1]))
        return j->queue[j->q_n - 1];
    int64_t max = j->def.max_pending_rows > 0 ? j->def.max_pending_rows
                                              : DEFAULT_MAX_ROWS;
    if (j->q_rows >= max) {
        sl_err_set(err, SL_LIMIT,
                   "join: more than %lld result rows pending from one input "
                   "batch or watermark (a key matches too many rows: add "
                   "join keys or time bounds)",
                   (long long)max);
        return NULL;
    }
    if (j->q_head > 0 && j->q_head == j->q_n) {
        /* all consumed (and cleared): reuse a few, free the rest */
        for (int i = QUEUE_KEEP; i < j->q_alloc; i++)
            sl_batch_free(j->queue[i]);
        if (j->q_alloc > QUEUE_KEEP)
            j->q_alloc = QUEUE_KEEP;
        j->q_head = j->q_n = 0;
    }
    if (j->q_n < j->q_alloc)
        return j->queue[j->q_n++];
    if (j->q_n == j->q_cap) {
        int cap = j->q_cap ? j->q_cap * 2 : 16;
        sl_batch **q = sl_realloc(j->queue, sizeof(*q) * (size_t)cap);
        if (!q) {
            sl_err_set(err, SL_NOMEM, "out of memory");
            return NULL;
        }
        j->queue = q;
        j->q_cap = cap;
    }
    sl_batch *b = sl_batch_new(j->base.out_schema, QUEUE_BATCH_ROWS);
    if (!b) {
        sl_err_set(err, SL_NOMEM, "out of memory");
        return NULL;
    }
    j->queue[j->q_n++] = b;
    j->q_alloc = j->q_n;
    return b;
}

/* ---- the join --------------------------------------------------------------
 */

/* Row r of batch b reached the end of side s's chain: probe, store. */
static int join_row(jop *j, int s, const sl_batch *b, int r, sl_err *err)
{
    const sl_value *row = sl_batch_crow(b, r);
    if (!encode_key(j, s, row))
        return SL_OK;
    int o = 1 - s;
    const sl_schema *os = j->base.out_schema;
    int n0 = j->ch[0].side.out->n_cols;
    int n_me = j->ch[s].side.out->n_cols, n_other = j->ch[o].side.out->n_cols;
    int me0 = s == 0 ? 0 : n0, other0 = s == 0 ? n0 : 0;
    int64_t et = b->event_time[r];
    sqlite3_stmt *p = j->probe[o];
    sqlite3_bind_blob(p, 1, j->key.data, (int)j->key.len, SQLITE_STATIC);
    if (j->def.mode == SL_JOIN_MODE_INTERVAL) {
        /* only the other side's rows within the bounds */
        const sl_value *tv = &row[j->def.time_col[s]];
        if (tv->kind != SL_V_INT)
            return SL_OK; /* no time: matches nothing */
        int64_t t = tv->u.i;
        int64_t from = s == 0 ? t - j->def.hi : t + j->def.lo;
        int64_t to = s == 0 ? t - j->def.lo : t + j->def.hi;
        sqlite3_bind_int64(p, 2, from);
        sqlite3_bind_int64(p, 3, to);
    }
    int rc = SL_OK;
    for (;;) {
        int st = sqlite3_step(p);
        if (st == SQLITE_DONE)
            break;
        if (st != SQLITE_ROW) {
            rc = db_err(j, err, "probe");
            break;
        }
        sl_batch *q = queue_tail(j, err);
        if (!q) {
            rc = err->code ? err->code : SL_ERROR;
            break;
        }
        sl_value *orow = sl_batch_append_row(q);
        int qr = q->n_rows - 1;
        int64_t oet = sqlite3_column_type(p, 0) == SQLITE_NULL
                          ? SL_NO_EVENT_TIME
                          : sqlite3_column_int64(p, 0);
        q->kinds[qr] = SLUICE_ROW_INSERT;
        q->event_time[qr] = et > oet ? et : oet;
        q->pos[qr] = (sl_srcpos){-1, -1};
        for (int c = 0; c < n_me && !rc; c++)
            rc = copy_value(q, &orow[me0 + c], &row[c]);
        for (int c = 0; c < n_other && !rc; c++)
            rc = sl_operator_put_column(q, &orow[other0 + c],
                                        os->cols[other0 + c].type, p, 1 + c);
        if (rc) {
            rc = sl_err_set(err, rc, "join result row too large");
            break;
        }
        j->q_rows++;
        j->rows_out++;
    }
    sqlite3_reset(p);
    if (rc)
        return rc;
    /* store */
    sqlite3_stmt *ins = j->ins[s];
    sqlite3_bind_blob(ins, 1, j->key.data, (int)j->key.len, SQLITE_STATIC);
    int tc = j->def.time_col[s];
    if (j->def.mode != SL_JOIN_MODE_REGULAR && tc >= 0 &&
        row[tc].kind == SL_V_INT) {
        sqlite3_bind_int64(ins, 2, row[tc].u.i + j->def.exp_off[s]);
        sqlite3_bind_int64(ins, 5, row[tc].u.i);
    } else {
        sqlite3_bind_null(ins, 2);
        sqlite3_bind_null(ins, 5);
    }
    if (et == SL_NO_EVENT_TIME)
        sqlite3_bind_null(ins, 3);
    else
        sqlite3_bind_int64(ins, 3, et);
    sqlite3_bind_int64(ins, 4, j->def.ttl_ms > 0 ? sl_now_ms() : 0);
    for (int c = 0; c < n_me; c++)
        bind_value(ins, 6 + c, &row[c]);
    rc = step_done(j, ins, err, "store");
    if (!rc)
        j->stored++;
    return rc;
}

static int begin(jop *j, sl_err *err)
{
    if (j->in_tx)
        return SL_OK;
    int rc = exec(j, "BEGIN", err);
    if (!rc)
        j->in_tx = true;
    return rc;
}

static int commit(jop *j, sl_err *err)
{
    if (!j->in_tx)
        return SL_OK;
    j->in_tx = false;
    return exec(j, "COMMIT", err);
}

/* ---- side chains -----------------------------------------------------------
 */

static int run_from(jop *j, int s, int k, const sl_batch *b, sl_err *err);

/* Pull operator step k of side s until it has nothing ready, passing its
 * output down the chain. */
static int drain_op(jop *j, int s, int k, sl_op_status *last, sl_err *err)
{
    chain *c = &j->ch[s];
    sl_operator *op = c->side.steps[k].op;
    sl_batch *out = c->outb[k];
    for (int guard = 0;; guard++) {
        sl_batch_clear(out);
        sl_op_status st = SL_OP_IDLE;
        int rc = op->ops->pull(op, out, &st, err);
        if (!rc && out->n_rows)
            rc = run_from(j, s, k + 1, out, err);
        sl_batch_clear(out);
        if (rc)
            return rc;
        *last = st;
        if (st != SL_OP_READY)
            return SL_OK;
        if (guard > (1 << 30))
            return sl_err_set(err, SL_ERROR, "join: side chain never idle");
    }
}

/* Run batch b through side s's chain from step k on. */
static int run_from(jop *j, int s, int k, const sl_batch *b, sl_err *err)
{
    chain *c = &j->ch[s];
    if (k == c->side.n_steps) {
        int rc = SL_OK;
        for (int r = 0; r < b->n_rows && !rc; r++) {
            uint8_t kind = b->kinds[r];
            if (kind != SLUICE_ROW_INSERT && kind != SLUICE_ROW_UPDATE_AFTER)
                return sl_err_set(err, SL_UNSUPPORTED,
                                  "join: an input produced updates or "
                                  "deletes; joins of updating inputs are not "
                                  "supported yet");
            rc = join_row(j, s, b, r, err);
        }
        return rc;
    }
    sl_job_step *step = &c->side.steps[k];
    sl_batch *out = c->outb[k];
    if (step->kind == SL_STEP_STAGE) {
        sl_batch_clear(out);
        int rc = sl_stage_run(step->stage, b, out, err);
        while (!rc) {
            if (out->n_rows)
                rc = run_from(j, s, k + 1, out, err);
            sl_batch_clear(out);
            if (rc || !sl_stage_pending(step->stage))
                break;
            rc = sl_stage_resume(step->stage, out, err);
        }
        if (rc && sl_stage_pending(step->stage))
            sl_stage_reset(step->stage);
        return rc;
    }
    sl_operator *op = step->op;
    sl_op_status st;
    for (int tries = 0; tries < 3; tries++) {
        bool accepted = false;
        int rc = op->ops->push(op, b, &accepted, err);
        if (rc)
            return rc;
        if (accepted)
            return drain_op(j, s, k, &st, err);
        rc = drain_op(j, s, k, &st, err);
        if (rc)
            return rc;
    }
    return sl_err_set(err, SL_ERROR,
                      "join: operator '%s' of a join input refuses input",
                      op->ops->name);
}

/* Deliver a watermark down side s's chain, operator by operator. */
static int chain_watermark(jop *j, int s, int64_t wm, sl_err *err)
{
    chain *c = &j->ch[s];
    for (int k = 0; k < c->side.n_steps; k++) {
        sl_job_step *step = &c->side.steps[k];
        if (step->kind != SL_STEP_OPERATOR)
            continue;
        sl_operator *op = step->op;
        if (op->ops->on_watermark) {
            int rc = op->ops->on_watermark(op, wm, err);
            if (rc)
                return rc;
        }
        sl_op_status st;
        int rc = drain_op(j, s, k, &st, err);
        if (rc)
            return rc;
    }
    return SL_OK;
}

static int chain_finish(jop *j, int s, sl_err *err)
{
    chain *c = &j->ch[s];
    for (int k = 0; k < c->side.n_steps; k++) {
        sl_job_step *step = &c->side.steps[k];
        if (step->kind != SL_STEP_OPERATOR)
            continue;
        sl_operator *op = step->op;
        int rc = op->ops->finish ? op->ops->finish(op, err) : SL_OK;
        if (rc)
            return rc;
        for (int guard = 0;; guard++) {
            sl_op_status st = SL_OP_IDLE;
            rc = drain_op(j, s, k, &st, err);
            if (rc)
                return rc;
            if (st == SL_OP_DRAINED)
                break;
            if (guard > 1000000)
                return sl_err_set(err, SL_ERROR,
                                  "join: operator '%s' of a join input does "
                                  "not drain",
                                  op->ops->name);
        }
    }
    c->finished = true;
    return SL_OK;
}

/* ---- operator ----------------------------------------------------------- */

static int jop_push(sl_operator *op, const sl_batch *batch, bool *accepted,
                    sl_err *err)
{
    jop *j = (jop *)op;
    *accepted = false;
    if (j->q_rows > 0)
        return SL_OK;
    sl_batch_clear(j->ch[0].in);
    sl_batch_clear(j->ch[1].in);
    int n0 = j->ch[0].side.in->n_cols;
    int rc = SL_OK;
    for (int r = 0; r < batch->n_rows && !rc; r++) {
        const sl_value *row = sl_batch_crow(batch, r);
        if (row[0].kind != SL_V_INT || row[0].u.i < 0 || row[0].u.i > 1)
            return sl_err_set(err, SL_ERROR, "join: internal: untagged row");
        int s = (int)row[0].u.i;
        sl_batch *in = j->ch[s].in;
        if (sl_batch_is_full(in)) {
            rc = begin(j, err);
            if (!rc)
                rc = run_from(j, s, 0, in, err);
            sl_batch_clear(in);
            if (rc)
                break;
        }
        sl_value *dst = sl_batch_append_row(in);
        int d = in->n_rows - 1;
        in->kinds[d] = batch->kinds[r];
        in->event_time[d] = batch->event_time[r];
        in->pos[d] = batch->pos[r];
        const sl_value *src = row + 1 + (s == 0 ? 0 : n0);
        for (int c = 0; c < in->n_cols && !rc; c++)
            rc = copy_value(in, &dst[c], &src[c]);
        if (rc)
            rc = sl_err_set(err, rc, "join: row too large");
    }
    for (int s = 0; s < 2 && !rc; s++) {
        if (!j->ch[s].in->n_rows)
            continue;
        rc = begin(j, err);
        if (!rc)
            rc = run_from(j, s, 0, j->ch[s].in, err);
        sl_batch_clear(j->ch[s].in);
    }
    if (!rc)
        rc = commit(j, err);
    if (rc) {
        if (j->in_tx)
            sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
        j->in_tx = false;
        return rc;
    }
    *accepted = true;
    return SL_OK;
}

static int ttl_sweep(jop *j, sl_err *err)
{
    if (j->def.mode != SL_JOIN_MODE_REGULAR || j->def.ttl_ms <= 0)
        return SL_OK;
    int64_t now = sl_now_ms();
    if (now - j->last_ttl_ms < TTL_SWEEP_MS)
        return SL_OK;
    j->last_ttl_ms = now;
    for (int s = 0; s < 2; s++) {
        sqlite3_bind_int64(j->ttl[s], 1, now - j->def.ttl_ms);
        int rc = step_done(j, j->ttl[s], err, "state TTL");
        if (rc)
            return rc;
        j->stored -= sqlite3_changes(j->db);
    }
    return SL_OK;
}

/* Bytes of the state database and the side chains' aggregate states. */
static int64_t state_bytes(jop *j)
{
    int64_t n = 0;
    if (j->size_q && sqlite3_step(j->size_q) == SQLITE_ROW)
        n = sqlite3_column_int64(j->size_q, 0);
    if (j->size_q)
        sqlite3_reset(j->size_q);
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < j->ch[s].side.n_steps; k++) {
            sl_job_step *step = &j->ch[s].side.steps[k];
            if (step->kind == SL_STEP_OPERATOR && sl_window_op_is(step->op)) {
                sl_window_op_stats st;
                sl_window_op_stats_get(step->op, &st);
                n += st.state_bytes;
            }
        }
    return n;
}

static void sample_size(jop *j, bool force)
{
    int64_t now = sl_now_ms();
    if (!force && now - j->last_size_ms < SIZE_SAMPLE_MS)
        return;
    j->last_size_ms = now;
    int64_t n = state_bytes(j);
    if (n > j->peak_bytes)
        j->peak_bytes = n;
    int64_t cur = atomic_load(&peak_state_bytes);
    while (n > cur && !atomic_compare_exchange_weak(&peak_state_bytes, &cur, n))
        ;
}

int64_t sl_join_op_peak_state_bytes(bool reset)
{
    return reset ? atomic_exchange(&peak_state_bytes, 0)
                 : atomic_load(&peak_state_bytes);
}

/* Process the newest watermark: side chains first, then expiry. */
static int process_watermark(jop *j, sl_err *err)
{
    int64_t wm = j->wm;
    int rc = begin(j, err);
    for (int s = 0; s < 2 && !rc; s++)
        rc = chain_watermark(j, s, wm, err);
    if (!rc && j->def.mode != SL_JOIN_MODE_REGULAR) {
        for (int s = 0; s < 2 && !rc; s++) {
            sqlite3_bind_int64(j->expire[s], 1, wm);
            rc = step_done(j, j->expire[s], err, "expire");
            j->stored -= sqlite3_changes(j->db);
        }
    }
    if (!rc)
        rc = commit(j, err);
    if (rc && j->in_tx) {
        sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
        j->in_tx = false;
    }
    j->wm_done = wm;
    if (!rc)
        sample_size(j, false);
    return rc;
}

static int jop_pull(sl_operator *op, sl_batch *out, sl_op_status *status,
                    sl_err *err)
{
    jop *j = (jop *)op;
    *status = SL_OP_IDLE;
    int rc = SL_OK;
    if (j->q_rows == 0) {
        rc = ttl_sweep(j, err);
        if (!rc && j->wm > j->wm_done)
            rc = process_watermark(j, err);
        if (!rc && j->finishing && !j->finished) {
            sample_size(j, true);
            rc = begin(j, err);
            for (int s = 0; s < 2 && !rc; s++)
                rc = chain_finish(j, s, err);
            if (!rc)
                rc = commit(j, err);
            if (rc && j->in_tx) {
                sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
                j->in_tx = false;
            }
            j->finished = true;
        }
        if (rc)
            return rc;
    }
    while (j->q_head < j->q_n && !sl_batch_is_full(out)) {
        sl_batch *q = j->queue[j->q_head];
        while (j->q_rd < q->n_rows && !sl_batch_is_full(out)) {
            sl_value *dst = sl_batch_append_row(out);
            int d = out->n_rows - 1;
            out->kinds[d] = q->kinds[j->q_rd];
            out->event_time[d] = q->event_time[j->q_rd];
            out->pos[d] = q->pos[j->q_rd];
            const sl_value *src = sl_batch_crow(q, j->q_rd);
            for (int c = 0; c < out->n_cols && !rc; c++)
                rc = copy_value(out, &dst[c], &src[c]);
            if (rc)
                return sl_err_set(err, rc, "join result row too large");
            j->q_rd++;
            j->q_rows--;
        }
        if (j->q_rd == q->n_rows) {
            sl_batch_clear(q);
            j->q_head++;
            j->q_rd = 0;
        }
    }
    if (j->q_rows > 0 || (j->q_rows == 0 && j->wm > j->wm_done) ||
        (j->finishing && !j->finished))
        *status = SL_OP_READY;
    else if (j->finished)
        *status = SL_OP_DRAINED;
    return SL_OK;
}

static int jop_on_watermark(sl_operator *op, int64_t watermark_ms, sl_err *err)
{
    SL_UNUSED(err);
    jop *j = (jop *)op;
    if (watermark_ms > j->wm)
        j->wm = watermark_ms;
    return SL_OK;
}

static int jop_finish(sl_operator *op, sl_err *err)
{
    SL_UNUSED(err);
    ((jop *)op)->finishing = true;
    return SL_OK;
}

static int64_t jop_buffered(sl_operator *op)
{
    jop *j = (jop *)op;
    int64_t n = j->q_rows;
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < j->ch[s].side.n_steps; k++) {
            sl_job_step *step = &j->ch[s].side.steps[k];
            if (step->kind == SL_STEP_OPERATOR && step->op->ops->buffered)
                n += step->op->ops->buffered(step->op);
        }
    /* stored rows may still produce results: unless checkpoints take
     * the state, they count as held */
    return n + (j->finished || j->snapshotting ? 0 : j->stored);
}

static int64_t jop_dropped(sl_operator *op)
{
    jop *j = (jop *)op;
    int64_t n = 0;
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < j->ch[s].side.n_steps; k++) {
            sl_job_step *step = &j->ch[s].side.steps[k];
            if (step->kind == SL_STEP_OPERATOR && step->op->ops->dropped)
                n += step->op->ops->dropped(step->op);
        }
    return n;
}

static void free_steps(sl_join_side *side)
{
    for (int k = 0; k < side->n_steps; k++) {
        if (side->steps[k].kind == SL_STEP_OPERATOR && side->steps[k].op)
            side->steps[k].op->ops->close(side->steps[k].op);
        else if (side->steps[k].kind == SL_STEP_STAGE)
            sl_stage_free(side->steps[k].stage);
    }
    sl_free(side->steps);
    side->steps = NULL;
    side->n_steps = 0;
}

static void jop_close(sl_operator *op)
{
    jop *j = (jop *)op;
    for (int s = 0; s < 2; s++) {
        chain *c = &j->ch[s];
        if (c->outb)
            for (int k = 0; k < c->side.n_steps; k++)
                sl_batch_free(c->outb[k]);
        sl_free(c->outb);
        sl_batch_free(c->in);
        free_steps(&c->side);
        sqlite3_finalize(j->ins[s]);
        sqlite3_finalize(j->probe[s]);
        sqlite3_finalize(j->expire[s]);
        sqlite3_finalize(j->ttl[s]);
    }
    sqlite3_finalize(j->size_q);
    for (int i = 0; i < j->q_alloc; i++)
        sl_batch_free(j->queue[i]);
    sl_free(j->queue);
    if (j->db)
        sqlite3_close(j->db);
    sl_buf_free(&j->key);
    sl_free(j);
}

/* ---- checkpoints: the state tables copied to the checkpoint database --- */

#define SNAP_VERSION 1

/* Copy every row of `from_table` in `from` into `to_table` in `to` (which
 * is emptied first; created when missing), n_vals value columns. */
static int copy_table(sqlite3 *from, const char *from_table, sqlite3 *to,
                      const char *to_table, int n_vals, sl_err *err)
{
    sl_buf b;
    sl_buf_init(&b, 1u << 20);
    sl_buf_printf(&b, "CREATE TABLE IF NOT EXISTS \"%s\"(k, exp, et, ins, t",
                  to_table);
    for (int c = 0; c < n_vals; c++)
        sl_buf_printf(&b, ", v%d", c);
    sl_buf_printf(&b, "); DELETE FROM \"%s\";", to_table);
    int rc = SL_OK;
    if (b.rc || sqlite3_exec(to, sl_buf_cstr(&b), NULL, NULL, NULL))
        rc = sl_err_set(err, SL_IO, "join checkpoint: %s", sqlite3_errmsg(to));
    sqlite3_stmt *sel = NULL, *ins = NULL;
    if (!rc) {
        sl_buf_reset(&b);
        sl_buf_puts(&b, "SELECT k, exp, et, ins, t");
        for (int c = 0; c < n_vals; c++)
            sl_buf_printf(&b, ", v%d", c);
        sl_buf_printf(&b, " FROM \"%s\"", from_table);
        if (b.rc || sqlite3_prepare_v2(from, sl_buf_cstr(&b), -1, &sel, NULL))
            rc = sl_err_set(err, SL_IO, "join checkpoint: %s",
                            sqlite3_errmsg(from));
    }
    if (!rc) {
        sl_buf_reset(&b);
        sl_buf_printf(&b, "INSERT INTO \"%s\" VALUES(?", to_table);
        for (int c = 0; c < n_vals + 4; c++)
            sl_buf_puts(&b, ", ?");
        sl_buf_puts(&b, ")");
        if (b.rc || sqlite3_prepare_v2(to, sl_buf_cstr(&b), -1, &ins, NULL))
            rc = sl_err_set(err, SL_IO, "join checkpoint: %s",
                            sqlite3_errmsg(to));
    }
    while (!rc) {
        int st = sqlite3_step(sel);
        if (st == SQLITE_DONE)
            break;
        if (st != SQLITE_ROW) {
            rc = sl_err_set(err, SL_IO, "join checkpoint: %s",
                            sqlite3_errmsg(from));
            break;
        }
        for (int c = 0; c < n_vals + 5; c++)
            sqlite3_bind_value(ins, c + 1, sqlite3_column_value(sel, c));
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = sl_err_set(err, SL_IO, "join checkpoint: %s",
                            sqlite3_errmsg(to));
        sqlite3_reset(ins);
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(ins);
    sl_buf_free(&b);
    return rc;
}

/* The side chains' operators, with prefixes of their own. */
static int side_ops_ckpt(jop *j, sqlite3 *state, const char *prefix,
                         bool restore, sl_err *err)
{
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < j->ch[s].side.n_steps; k++) {
            sl_job_step *step = &j->ch[s].side.steps[k];
            if (step->kind != SL_STEP_OPERATOR)
                continue;
            const sl_operator_ops *ops = step->op->ops;
            char p[96];
            sl_snprintf(p, sizeof(p), "%ss%d_%d_", prefix, s, k);
            int rc = SL_OK;
            if (restore && ops->restore)
                rc = ops->restore(step->op, state, p, err);
            else if (!restore && ops->snapshot)
                rc = ops->snapshot(step->op, state, p, err);
            if (rc)
                return rc;
        }
    return SL_OK;
}

static int jop_snapshot(sl_operator *op, sqlite3 *state, const char *prefix,
                        sl_err *err)
{
    jop *j = (jop *)op;
    j->snapshotting = true;
    char from[16], to[96], sql[256];
    int rc = SL_OK;
    for (int s = 0; s < 2 && !rc; s++) {
        sl_snprintf(from, sizeof(from), "s%d", s);
        sl_snprintf(to, sizeof(to), "%ss%d", prefix, s);
        rc = copy_table(j->db, from, state, to, j->ch[s].side.out->n_cols, err);
    }
    if (!rc) {
        sl_snprintf(sql, sizeof(sql),
                    "CREATE TABLE IF NOT EXISTS \"%sjoin_meta\"(version "
                    "INTEGER, stored INTEGER); DELETE FROM \"%sjoin_meta\"; "
                    "INSERT INTO \"%sjoin_meta\" VALUES(%d, %lld)",
                    prefix, prefix, prefix, SNAP_VERSION, (long long)j->stored);
        if (sqlite3_exec(state, sql, NULL, NULL, NULL))
            rc = sl_err_set(err, SL_IO, "join checkpoint: %s",
                            sqlite3_errmsg(state));
    }
    if (!rc)
        rc = side_ops_ckpt(j, state, prefix, false, err);
    return rc;
}

static int jop_restore(sl_operator *op, sqlite3 *state, const char *prefix,
                       sl_err *err)
{
    jop *j = (jop *)op;
    /* the job has checkpoints (it calls restore() on every start with
     * them): they take the state, which then holds back no acks */
    j->snapshotting = true;
    char sql[160], from[96], to[16];
    sl_snprintf(sql, sizeof(sql), "SELECT version, stored FROM \"%sjoin_meta\"",
                prefix);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(state, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return side_ops_ckpt(j, state, prefix, true, err); /* none yet */
    }
    int rc = SL_OK;
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_int(st, 0) != SNAP_VERSION)
            rc = sl_err_set(err, SL_UNSUPPORTED,
                            "join checkpoint: state version %d, this build "
                            "reads %d",
                            sqlite3_column_int(st, 0), SNAP_VERSION);
        j->stored = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    for (int s = 0; s < 2 && !rc; s++) {
        sl_snprintf(from, sizeof(from), "%ss%d", prefix, s);
        sl_snprintf(to, sizeof(to), "s%d", s);
        rc = copy_table(state, from, j->db, to, j->ch[s].side.out->n_cols, err);
    }
    if (!rc)
        rc = side_ops_ckpt(j, state, prefix, true, err);
    return rc;
}

static const sl_operator_ops jop_ops = {
    .version = SL_OPERATOR_VERSION,
    .name = "join",
    .push = jop_push,
    .pull = jop_pull,
    .on_watermark = jop_on_watermark,
    .finish = jop_finish,
    .buffered = jop_buffered,
    .close = jop_close,
    .snapshot = jop_snapshot,
    .restore = jop_restore,
    .dropped = jop_dropped,
};

bool sl_join_op_is(const sl_operator *op)
{
    return op && op->ops == &jop_ops;
}

static int build_sql(jop *j, sl_err *err)
{
    sl_buf b;
    sl_buf_init(&b, 1u << 20);
    int rc = SL_OK;
    for (int s = 0; s < 2 && !rc; s++) {
        int n = j->ch[s].side.out->n_cols;
        sl_buf_reset(&b);
        sl_buf_printf(&b,
                      "CREATE TABLE s%d(k BLOB NOT NULL, exp INTEGER, et "
                      "INTEGER, ins INTEGER, t INTEGER",
                      s);
        for (int c = 0; c < n; c++)
            sl_buf_printf(&b, ", v%d", c);
        sl_buf_printf(&b,
                      "); CREATE INDEX s%d_k ON s%d(k, t); CREATE INDEX s%d_e "
                      "ON s%d(exp); CREATE INDEX s%d_i ON s%d(ins);",
                      s, s, s, s, s, s);
        rc = b.rc ? SL_NOMEM : exec(j, sl_buf_cstr(&b), err);
        if (rc)
            break;
        sl_buf_reset(&b);
        sl_buf_printf(&b, "INSERT INTO s%d VALUES(?1, ?2, ?3, ?4, ?5", s);
        for (int c = 0; c < n; c++)
            sl_buf_printf(&b, ", ?%d", 6 + c);
        sl_buf_puts(&b, ")");
        rc = b.rc ? SL_NOMEM : prepare(j, sl_buf_cstr(&b), &j->ins[s], err);
        if (rc)
            break;
        sl_buf_reset(&b);
        sl_buf_puts(&b, "SELECT et");
        for (int c = 0; c < n; c++)
            sl_buf_printf(&b, ", v%d", c);
        sl_buf_printf(&b, " FROM s%d WHERE k = ?1%s", s,
                      j->def.mode == SL_JOIN_MODE_INTERVAL
                          ? " AND t BETWEEN ?2 AND ?3"
                          : "");
        rc = b.rc ? SL_NOMEM : prepare(j, sl_buf_cstr(&b), &j->probe[s], err);
        if (rc)
            break;
        sl_buf_reset(&b);
        sl_buf_printf(&b, "DELETE FROM s%d WHERE exp <= ?1", s);
        rc = b.rc ? SL_NOMEM : prepare(j, sl_buf_cstr(&b), &j->expire[s], err);
        if (rc)
            break;
        sl_buf_reset(&b);
        sl_buf_printf(&b, "DELETE FROM s%d WHERE ins < ?1", s);
        rc = b.rc ? SL_NOMEM : prepare(j, sl_buf_cstr(&b), &j->ttl[s], err);
    }
    if (!rc && b.rc)
        rc = sl_err_set(err, SL_NOMEM, "out of memory");
    sl_buf_free(&b);
    return rc;
}

int sl_join_op_new(const sl_schema *in_schema, const sl_schema *out_schema,
                   sl_join_side sides[2], const sl_join_op_def *def,
                   sl_operator **op, sl_err *err)
{
    *op = NULL;
    jop *j = sl_calloc(1, sizeof(*j));
    if (!j) {
        free_steps(&sides[0]);
        free_steps(&sides[1]);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    j->base.ops = &jop_ops;
    j->base.in_schema = in_schema;
    j->base.out_schema = out_schema;
    j->def = *def;
    j->def.db_path = NULL;
    j->wm = j->wm_done = INT64_MIN;
    sl_buf_init(&j->key, 16u << 20);
    for (int s = 0; s < 2; s++) {
        j->ch[s].side = sides[s];
        sides[s].steps = NULL;
        sides[s].n_steps = 0;
    }
    int rc = SL_OK;
    if (def->n_keys < 0 || def->n_keys > SL_JOIN_MAX_KEYS ||
        in_schema->n_cols !=
            1 + j->ch[0].side.in->n_cols + j->ch[1].side.in->n_cols ||
        out_schema->n_cols !=
            j->ch[0].side.out->n_cols + j->ch[1].side.out->n_cols)
        rc = sl_err_set(err, SL_MISUSE, "join operator: bad definition");
    for (int s = 0; s < 2 && !rc; s++) {
        chain *c = &j->ch[s];
        for (int k = 0; k < def->n_keys && !rc; k++)
            if (def->keys[s][k] < 0 || def->keys[s][k] >= c->side.out->n_cols)
                rc = sl_err_set(err, SL_MISUSE, "join operator: bad key");
        if (rc)
            break;
        c->in = sl_batch_new(c->side.in, SL_BATCH_DEFAULT_ROWS);
        c->outb = sl_calloc((size_t)(c->side.n_steps + 1), sizeof(sl_batch *));
        if (!c->in || !c->outb) {
            rc = sl_err_set(err, SL_NOMEM, "out of memory");
            break;
        }
        for (int k = 0; k < c->side.n_steps && !rc; k++) {
            sl_job_step *st = &c->side.steps[k];
            const sl_schema *os = st->kind == SL_STEP_STAGE
                                      ? sl_stage_out_schema(st->stage)
                                      : st->op->out_schema;
            c->outb[k] = sl_batch_new(os, SL_BATCH_DEFAULT_ROWS);
            if (!c->outb[k])
                rc = sl_err_set(err, SL_NOMEM, "out of memory");
        }
    }
    if (!rc) {
        const char *path = def->db_path ? def->db_path : "";
        if (sqlite3_open_v2(path, &j->db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                SQLITE_OPEN_NOMUTEX,
                            NULL) != SQLITE_OK)
            rc = sl_err_set(err, SL_IO, "cannot open the join state: %s",
                            j->db ? sqlite3_errmsg(j->db) : "out of memory");
    }
    if (!rc)
        rc = exec(j,
                  "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                  "PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY",
                  err);
    if (!rc)
        rc = build_sql(j, err);
    if (!rc)
        rc = prepare(j,
                     "SELECT page_count * page_size FROM pragma_page_count(), "
                     "pragma_page_size()",
                     &j->size_q, err);
    if (rc) {
        jop_close(&j->base);
        return rc;
    }
    *op = &j->base;
    return SL_OK;
}

void sl_join_op_stats_get(sl_operator *op, sl_join_op_stats *stats)
{
    memset(stats, 0, sizeof(*stats));
    if (!sl_join_op_is(op))
        return;
    jop *j = (jop *)op;
    stats->rows_out = j->rows_out;
    stats->peak_bytes = j->peak_bytes;
    for (int s = 0; s < 2; s++) {
        char sql[64];
        sl_snprintf(sql, sizeof(sql), "SELECT count(*) FROM s%d", s);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            stats->state_rows[s] = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT page_count * page_size FROM "
                           "pragma_page_count(), pragma_page_size()",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        stats->state_bytes = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
}
