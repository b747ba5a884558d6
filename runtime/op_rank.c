/*
 * op_rank.c: the window rank operator (see op_rank.h): rows buffered per
 * window in a SQLite state database, ranked with SQLite's row_number()
 * window function when the watermark closes their window.
 *
 * push() inserts a batch in one transaction (refused while an emission is
 * in progress, so an emission never races with inserts); pull() runs the
 * emission query for the windows the watermark closed, a batch at a time,
 * then deletes them.
 */
#include <string.h>

#include <sqlite3.h>

#include "ckpt_rows.h"
#include "late_sink.h"
#include "op_rank.h"

typedef struct rop {
    sl_operator base;
    sl_rank_op_def def;
    sqlite3 *db;
    sqlite3_stmt *ins;
    sqlite3_stmt *emit;
    sqlite3_stmt *del;
    sqlite3_stmt *min_we_q;
    bool emitting;
    bool finished;
    int64_t wm;       /* latest watermark */
    int64_t fire_wm;  /* emit windows up to here */
    int64_t fired_wm; /* emitted up to here */
    int64_t emit_wm;  /* the emission in progress */
    int64_t min_we;   /* lower bound of window_end in rows */
    int64_t held;     /* rows kept */
    int64_t last_we;  /* largest window_end emitted */
    int64_t late;
    sl_late_sink *late_sink; /* 'late-data.sink', or NULL */
    sl_ckpt_rows *ck;        /* checkpoints (snapshot/restore), else NULL */
} rop;

static const sl_operator_ops rop_ops;

static int db_err(rop *r, sl_err *err, const char *what)
{
    return sl_err_set(err, SL_RUNTIME, "window rank state: %s: %s", what,
                      sqlite3_errmsg(r->db));
}

static int prepare(rop *r, const char *sql, sqlite3_stmt **st, sl_err *err)
{
    if (sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
                           NULL) != SQLITE_OK)
        return sl_err_set(err, SL_ERROR,
                          "window rank state: cannot prepare: %s (SQL: %s)",
                          sqlite3_errmsg(r->db), sql);
    return SL_OK;
}

static int exec(rop *r, const char *sql, sl_err *err)
{
    if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_err(r, err, sql);
    return SL_OK;
}

static int build_sql(rop *r, sl_err *err)
{
    const sl_rank_op_def *d = &r->def;
    int n_in = r->base.in_schema->n_cols;
    sl_buf b;
    sl_buf_init(&b, 1u << 20);
    sl_buf_puts(&b, "CREATE TABLE rows(ws INTEGER, we INTEGER");
    for (int i = 0; i < n_in; i++)
        sl_buf_printf(&b, ", c%d", i);
    sl_buf_puts(&b, "); CREATE INDEX rows_we ON rows(we);");
    int rc = b.rc ? SL_NOMEM : exec(r, sl_buf_cstr(&b), err);
    if (!rc) {
        sl_buf_reset(&b);
        sl_buf_puts(&b, "INSERT INTO rows VALUES(?1, ?2");
        for (int i = 0; i < n_in; i++)
            sl_buf_printf(&b, ", ?%d", i + 3);
        sl_buf_puts(&b, ")");
        rc = b.rc ? SL_NOMEM : prepare(r, sl_buf_cstr(&b), &r->ins, err);
    }
    if (!rc) {
        sl_buf_reset(&b);
        sl_buf_puts(&b, "SELECT we");
        for (int i = 0; i < d->n_out; i++)
            sl_buf_printf(&b, ", c%d", i);
        sl_buf_puts(&b, ", rn FROM (SELECT *, row_number() OVER (PARTITION "
                        "BY ws, we");
        for (int i = 0; i < d->n_part; i++)
            sl_buf_printf(&b, ", c%d", d->part_cols[i]);
        sl_buf_puts(&b, " ORDER BY ");
        for (int i = 0; i < d->n_order; i++) {
            sl_buf_printf(&b, "c%d%s", d->order_cols[i],
                          d->order_desc[i] ? " DESC" : "");
            if (d->order_nulls[i])
                sl_buf_puts(&b, d->order_nulls[i] == 1 ? " NULLS FIRST"
                                                       : " NULLS LAST");
            sl_buf_puts(&b, ", ");
        }
        sl_buf_puts(&b, "rowid) AS rn FROM rows WHERE we - 1 <= ?1)");
        if (d->limit > 0)
            sl_buf_printf(&b, " WHERE rn <= %lld", (long long)d->limit);
        sl_buf_puts(&b, " ORDER BY ws, we");
        for (int i = 0; i < d->n_part; i++)
            sl_buf_printf(&b, ", c%d", d->part_cols[i]);
        sl_buf_puts(&b, ", rn");
        rc = b.rc ? SL_NOMEM : prepare(r, sl_buf_cstr(&b), &r->emit, err);
    }
    if (!rc)
        rc = prepare(r, "DELETE FROM rows WHERE we - 1 <= ?1", &r->del, err);
    if (!rc)
        rc =
            prepare(r, "SELECT min(we), count(*) FROM rows", &r->min_we_q, err);
    if (!rc && b.rc)
        rc = sl_err_set(err, SL_NOMEM, "out of memory");
    if (rc == SL_NOMEM)
        sl_err_set(err, SL_NOMEM, "out of memory");
    sl_buf_free(&b);
    return rc;
}

static void rop_close(sl_operator *op)
{
    rop *r = (rop *)op;
    sqlite3_stmt *all[] = {r->ins, r->emit, r->del, r->min_we_q};
    for (size_t i = 0; i < SL_ARRAY_LEN(all); i++)
        sqlite3_finalize(all[i]);
    sl_ckpt_rows_free(r->ck); /* before the database: its hook */
    if (r->db)
        sqlite3_close(r->db);
    sl_late_sink_free(r->late_sink);
    sl_free(r);
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

static int rop_push(sl_operator *op, const sl_batch *batch, bool *accepted,
                    sl_err *err)
{
    rop *r = (rop *)op;
    *accepted = false;
    if (r->emitting)
        return SL_OK;
    int rc = exec(r, "BEGIN", err);
    if (rc)
        return rc;
    int n_in = r->base.in_schema->n_cols;
    for (int i = 0; i < batch->n_rows && !rc; i++) {
        const sl_value *row = sl_batch_crow(batch, i);
        const sl_value *s = &row[r->def.ws_col], *e = &row[r->def.we_col];
        if (s->kind != SL_V_INT || e->kind != SL_V_INT)
            continue; /* no window */
        if (e->u.i - 1 <= r->wm) {
            r->late++;
            if (r->late_sink)
                rc = sl_late_sink_add(r->late_sink, batch, i, err);
            continue;
        }
        if (e->u.i < r->min_we)
            r->min_we = e->u.i;
        sqlite3_bind_int64(r->ins, 1, s->u.i);
        sqlite3_bind_int64(r->ins, 2, e->u.i);
        for (int c = 0; c < n_in; c++)
            bind_value(r->ins, c + 3, &row[c]);
        int st = sqlite3_step(r->ins);
        sqlite3_reset(r->ins);
        if (st != SQLITE_DONE)
            rc = db_err(r, err, "insert");
        else
            r->held++;
    }
    if (rc) {
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    rc = exec(r, "COMMIT", err);
    if (!rc)
        *accepted = true;
    if (!rc && r->late_sink)
        rc = sl_late_sink_flush(r->late_sink, false, err);
    return rc;
}

static bool due(const rop *r)
{
    return r->fire_wm > r->fired_wm && r->min_we != INT64_MAX &&
           r->fire_wm >= r->min_we - 1;
}

static int end_emission(rop *r, sl_err *err)
{
    sqlite3_reset(r->emit);
    r->emitting = false;
    sqlite3_bind_int64(r->del, 1, r->emit_wm);
    int st = sqlite3_step(r->del);
    sqlite3_reset(r->del);
    if (st != SQLITE_DONE)
        return db_err(r, err, "delete");
    r->fired_wm = r->emit_wm;
    r->min_we = INT64_MAX;
    r->held = 0;
    st = sqlite3_step(r->min_we_q);
    if (st == SQLITE_ROW) {
        if (sqlite3_column_type(r->min_we_q, 0) != SQLITE_NULL)
            r->min_we = sqlite3_column_int64(r->min_we_q, 0);
        r->held = sqlite3_column_int64(r->min_we_q, 1);
    }
    sqlite3_reset(r->min_we_q);
    if (st != SQLITE_ROW)
        return db_err(r, err, "state");
    return SL_OK;
}

static int rop_pull(sl_operator *op, sl_batch *out, sl_op_status *status,
                    sl_err *err)
{
    rop *r = (rop *)op;
    *status = SL_OP_IDLE;
    if (!r->emitting && due(r)) {
        r->emit_wm = r->fire_wm;
        sqlite3_bind_int64(r->emit, 1, r->emit_wm);
        r->emitting = true;
    }
    const sl_schema *os = r->base.out_schema;
    int n_out = r->def.n_out;
    while (r->emitting && !sl_batch_is_full(out)) {
        int s = sqlite3_step(r->emit);
        if (s == SQLITE_DONE) {
            int rc = end_emission(r, err);
            if (rc)
                return rc;
            break;
        }
        if (s != SQLITE_ROW) {
            int rc = db_err(r, err, "emit");
            sqlite3_reset(r->emit);
            r->emitting = false;
            return rc;
        }
        sl_value *row = sl_batch_append_row(out);
        if (!row)
            return sl_err_set(err, SL_ERROR, "internal: output batch full");
        int k = out->n_rows - 1;
        out->kinds[k] = SLUICE_ROW_INSERT;
        out->event_time[k] = sqlite3_column_int64(r->emit, 0) - 1;
        if (out->event_time[k] + 1 > r->last_we)
            r->last_we = out->event_time[k] + 1;
        out->pos[k] = (sl_srcpos){-1, -1};
        int rc = SL_OK;
        for (int c = 0; c < n_out && !rc; c++)
            rc = sl_operator_put_column(out, &row[c], os->cols[c].type, r->emit,
                                        c + 1);
        if (rc)
            return sl_err_set(err, rc, "window rank: row too large");
        row[n_out] = sl_value_int(sqlite3_column_int64(r->emit, n_out + 1));
    }
    if (r->emitting || due(r))
        *status = SL_OP_READY;
    else if (r->finished)
        *status = SL_OP_DRAINED;
    return SL_OK;
}

static int rop_on_watermark(sl_operator *op, int64_t watermark_ms, sl_err *err)
{
    SL_UNUSED(err);
    rop *r = (rop *)op;
    if (watermark_ms > r->wm) {
        r->wm = watermark_ms;
        r->fire_wm = watermark_ms;
    }
    return SL_OK;
}

static int rop_finish(sl_operator *op, sl_err *err)
{
    rop *r = (rop *)op;
    r->finished = true;
    r->fire_wm = INT64_MAX;
    return r->late_sink ? sl_late_sink_flush(r->late_sink, true, err) : SL_OK;
}

static int64_t rop_buffered(sl_operator *op)
{
    return ((rop *)op)->held;
}

static int64_t rop_dropped(sl_operator *op)
{
    return ((rop *)op)->late;
}

static int64_t rop_watermark_out(sl_operator *op)
{
    rop *r = (rop *)op;
    return r->emitting || due(r) ? r->fired_wm : r->wm;
}

/* ---- checkpoints: snapshot() and restore() ------------------------------
 *
 * The rows of the open windows go into the job's state database
 * incrementally (ckpt_rows.h: <prefix>rows with each row's rowid, which
 * breaks ties in arrival order; <prefix>meta with the watermarks and the
 * late count). The job takes checkpoints aligned (operator.h unsaved):
 * never during an emission, so the table holds exactly the rows before
 * the recorded source positions. */

#define SNAP_VERSION 1

/* The definition a restored table must have been written under. */
static int layout(const rop *r, sl_buf *b, sl_err *err)
{
    const sl_rank_op_def *d = &r->def;
    sl_buf_printf(b, "rank ws=%d we=%d out=%d limit=%lld part=", d->ws_col,
                  d->we_col, d->n_out, (long long)d->limit);
    for (int i = 0; i < d->n_part; i++)
        sl_buf_printf(b, "%d,", d->part_cols[i]);
    sl_buf_puts(b, " order=");
    for (int i = 0; i < d->n_order; i++)
        sl_buf_printf(b, "%d:%d:%d,", d->order_cols[i],
                      d->order_desc[i] ? 1 : 0, d->order_nulls[i]);
    return b->rc ? sl_err_set(err, SL_NOMEM, "out of memory") : SL_OK;
}

static int ck_open(rop *r, sl_buf *lay, sl_err *err)
{
    int rc = r->ck ? SL_OK
                   : sl_ckpt_rows_new(r->db, "rows", "window rank",
                                      SNAP_VERSION, &r->ck, err);
    return rc ? rc : layout(r, lay, err);
}

static int rop_snapshot(sl_operator *op, sqlite3 *state, const char *prefix,
                        sl_err *err)
{
    rop *r = (rop *)op;
    if (r->emitting)
        return sl_err_set(err, SL_ERROR,
                          "internal: window rank snapshot during an emission");
    sl_buf lay;
    sl_buf_init(&lay, 1u << 20);
    int rc = ck_open(r, &lay, err);
    sl_ckpt_clock k = {r->wm, SL_MIN(r->fire_wm, r->wm), r->fired_wm, r->late};
    if (k.fired_wm > k.wm && r->last_we != INT64_MIN) {
        /* finish() emitted every window (fired_wm INT64_MAX): a resumed
         * job goes on after the last window emitted (later rows of it are
         * late, not a second emission of the window) */
        k.wm = SL_MAX(k.wm, r->last_we - 1);
    }
    k.fired_wm = SL_MIN(k.fired_wm, k.wm);
    k.fire_wm = SL_MIN(k.fire_wm, k.wm);
    if (!rc)
        rc = sl_ckpt_rows_snapshot(r->ck, state, prefix, sl_buf_cstr(&lay), &k,
                                   err);
    sl_buf_free(&lay);
    return rc;
}

static int rop_restore(sl_operator *op, sqlite3 *state, const char *prefix,
                       sl_err *err)
{
    rop *r = (rop *)op;
    sl_buf lay;
    sl_buf_init(&lay, 1u << 20);
    int rc = ck_open(r, &lay, err);
    sl_ckpt_clock k;
    bool found = false;
    if (!rc)
        rc = sl_ckpt_rows_restore(r->ck, state, prefix, sl_buf_cstr(&lay), &k,
                                  &found, err);
    sl_buf_free(&lay);
    if (rc || !found)
        return rc;
    r->wm = k.wm;
    r->fire_wm = k.fire_wm;
    r->fired_wm = k.fired_wm;
    r->late = k.late;
    r->min_we = INT64_MAX;
    r->held = 0;
    int st = sqlite3_step(r->min_we_q);
    if (st == SQLITE_ROW) {
        if (sqlite3_column_type(r->min_we_q, 0) != SQLITE_NULL)
            r->min_we = sqlite3_column_int64(r->min_we_q, 0);
        r->held = sqlite3_column_int64(r->min_we_q, 1);
    }
    sqlite3_reset(r->min_we_q);
    return st == SQLITE_ROW ? SL_OK : db_err(r, err, "restore");
}

/* An emission half done cannot be snapshotted exactly (operator.h). */
static int64_t rop_unsaved(sl_operator *op)
{
    return ((rop *)op)->emitting ? 1 : 0;
}

static const sl_operator_ops rop_ops = {
    .version = SL_OPERATOR_VERSION,
    .name = "window_rank",
    .push = rop_push,
    .pull = rop_pull,
    .on_watermark = rop_on_watermark,
    .finish = rop_finish,
    .buffered = rop_buffered,
    .close = rop_close,
    .dropped = rop_dropped,
    .watermark_out = rop_watermark_out,
    .snapshot = rop_snapshot,
    .restore = rop_restore,
    .unsaved = rop_unsaved,
};

int sl_rank_op_new(const sl_schema *in_schema, const sl_schema *out_schema,
                   const sl_rank_op_def *def, sl_operator **op, sl_err *err)
{
    *op = NULL;
    int n_in = in_schema->n_cols;
    bool ok = def->ws_col >= 0 && def->ws_col < n_in && def->we_col >= 0 &&
              def->we_col < n_in && def->n_out >= 0 && def->n_out <= n_in &&
              out_schema->n_cols == def->n_out + 1 && def->n_part >= 0 &&
              def->n_part <= SL_RANK_MAX_KEYS && def->n_order >= 1 &&
              def->n_order <= SL_RANK_MAX_KEYS;
    for (int i = 0; ok && i < def->n_part; i++)
        ok = def->part_cols[i] >= 0 && def->part_cols[i] < n_in;
    for (int i = 0; ok && i < def->n_order; i++)
        ok = def->order_cols[i] >= 0 && def->order_cols[i] < n_in;
    if (!ok)
        return sl_err_set(err, SL_MISUSE, "window rank: bad definition");
    rop *r = sl_calloc(1, sizeof(*r));
    if (!r)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    r->base.ops = &rop_ops;
    r->base.in_schema = in_schema;
    r->base.out_schema = out_schema;
    r->def = *def;
    r->def.db_path = NULL;
    r->wm = r->fire_wm = r->fired_wm = r->last_we = INT64_MIN;
    r->min_we = INT64_MAX;
    const char *path = def->db_path ? def->db_path : "";
    if (sqlite3_open_v2(path, &r->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        int rc = sl_err_set(err, SL_IO, "cannot open the state database: %s",
                            r->db ? sqlite3_errmsg(r->db) : "out of memory");
        rop_close(&r->base);
        return rc;
    }
    int rc = exec(r,
                  "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                  "PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY",
                  err);
    if (!rc)
        rc = build_sql(r, err);
    if (rc) {
        rop_close(&r->base);
        return rc;
    }
    *op = &r->base;
    return SL_OK;
}

int sl_rank_op_set_late_sink(sl_operator *op, struct sl_late_sink *ls)
{
    if (!op || op->ops != &rop_ops) {
        sl_late_sink_free(ls);
        return SL_MISUSE;
    }
    rop *r = (rop *)op;
    sl_late_sink_free(r->late_sink);
    r->late_sink = ls;
    return SL_OK;
}
