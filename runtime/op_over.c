/*
 * op_over.c: the OVER aggregate operator (see op_over.h): rows buffered in
 * a SQLite state database, emitted in rowtime order once the watermark
 * passes them, with their aggregates computed by SQLite window functions
 * over the rows kept for the frame.
 *
 * push() inserts a batch in one transaction (refused while an emission is
 * in progress); pull() steps the emission query for the rows the
 * watermark passed, then prunes what no later frame needs.
 */
#include <string.h>

#include <sqlite3.h>

#include "ckpt_rows.h"
#include "late_sink.h"
#include "op_over.h"

typedef struct oop {
    sl_operator base;
    sl_over_op_def def;
    sqlite3 *db;
    sqlite3_stmt *ins;
    sqlite3_stmt *emit;
    sqlite3_stmt *prune;
    sqlite3_stmt *min_ts_q;
    bool emitting;
    bool finished;
    int64_t wm;       /* latest watermark */
    int64_t fire_wm;  /* emit rows up to here */
    int64_t fired_wm; /* emitted up to here */
    int64_t emit_wm;  /* the emission in progress */
    int64_t min_ts;   /* lower bound of the pending rows' rowtime */
    int64_t pending;  /* rows not emitted yet */
    int64_t last_ts;  /* largest rowtime emitted */
    int64_t late;
    sl_late_sink *late_sink;
    sl_buf key;       /* encoded partition key of the row being inserted */
    sl_ckpt_rows *ck; /* checkpoints (snapshot/restore), else NULL */
} oop;

static const sl_operator_ops oop_ops;

static int db_err(oop *o, sl_err *err, const char *what)
{
    return sl_err_set(err, SL_RUNTIME, "over aggregate state: %s: %s", what,
                      sqlite3_errmsg(o->db));
}

static int prepare(oop *o, const char *sql, sqlite3_stmt **st, sl_err *err)
{
    if (sqlite3_prepare_v3(o->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
                           NULL) != SQLITE_OK)
        return sl_err_set(err, SL_ERROR,
                          "over aggregate state: cannot prepare: %s (SQL: %s)",
                          sqlite3_errmsg(o->db), sql);
    return SL_OK;
}

static int exec(oop *o, const char *sql, sl_err *err)
{
    if (sqlite3_exec(o->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_err(o, err, sql);
    return SL_OK;
}

/* The frame: WINDOW w AS (...) */
static void window_def(const oop *o, sl_buf *b)
{
    const sl_over_op_def *d = &o->def;
    sl_buf_puts(b, " WINDOW w AS (PARTITION BY pk ");
    if (d->is_range)
        sl_buf_printf(b,
                      "ORDER BY ts RANGE BETWEEN %lld PRECEDING AND CURRENT "
                      "ROW)",
                      (long long)d->range_ms);
    else
        sl_buf_printf(b,
                      "ORDER BY ts, seq ROWS BETWEEN %lld PRECEDING AND "
                      "CURRENT ROW)",
                      (long long)d->preceding);
}

static int build_sql(oop *o, sl_err *err)
{
    const sl_over_op_def *d = &o->def;
    int n_in = o->base.in_schema->n_cols;
    sl_buf b;
    sl_buf_init(&b, 1u << 20);
    /* pk: the encoded PARTITION BY key (NULL-safe, one column) */
    sl_buf_puts(&b, "CREATE TABLE rows(seq INTEGER PRIMARY KEY, ts INTEGER, "
                    "pk BLOB NOT NULL");
    for (int i = 0; i < n_in; i++)
        sl_buf_printf(&b, ", c%d", i);
    sl_buf_puts(&b, "); CREATE INDEX rows_ts ON rows(ts);"
                    "CREATE INDEX rows_pk ON rows(pk, ts);");
    int rc = b.rc ? SL_NOMEM : exec(o, sl_buf_cstr(&b), err);
    if (!rc) {
        sl_buf_reset(&b);
        sl_buf_puts(&b, "INSERT INTO rows VALUES(NULL, ?1, ?2");
        for (int i = 0; i < n_in; i++)
            sl_buf_printf(&b, ", ?%d", i + 3);
        sl_buf_puts(&b, ")");
        rc = b.rc ? SL_NOMEM : prepare(o, sl_buf_cstr(&b), &o->ins, err);
    }
    if (!rc) {
        /* ?1: emit up to; ?2: emitted before */
        sl_buf_reset(&b);
        sl_buf_puts(&b, "SELECT * FROM (SELECT ts, seq");
        for (int i = 0; i < d->n_out; i++)
            sl_buf_printf(&b, ", c%d", i);
        for (int i = 0; i < d->n_aggs; i++) {
            int a = d->agg_arg[i];
            switch (d->agg_kind[i]) {
            case SL_AGG_COUNT_STAR:
                sl_buf_puts(&b, ", count(*) OVER w");
                break;
            case SL_AGG_COUNT:
                sl_buf_printf(&b, ", count(c%d) OVER w", a);
                break;
            case SL_AGG_SUM:
                sl_buf_printf(&b, ", sum(c%d) OVER w", a);
                break;
            case SL_AGG_MIN:
                sl_buf_printf(&b, ", min(c%d) OVER w", a);
                break;
            case SL_AGG_MAX:
                sl_buf_printf(&b, ", max(c%d) OVER w", a);
                break;
            default: /* AVG: integer arguments give a truncated integer */
                sl_buf_printf(&b,
                              ", CASE WHEN count(c%d) OVER w > 0 THEN "
                              "sum(c%d) OVER w / count(c%d) OVER w END",
                              a, a, a);
                break;
            }
        }
        /* only the partitions with rows to emit: their frames */
        sl_buf_puts(&b, " FROM rows WHERE ts <= ?1 AND pk IN (SELECT pk FROM "
                        "rows WHERE ts > ?2 AND ts <= ?1)");
        window_def(o, &b);
        sl_buf_puts(&b, ") WHERE ts > ?2 ORDER BY ts, seq");
        rc = b.rc ? SL_NOMEM : prepare(o, sl_buf_cstr(&b), &o->emit, err);
    }
    if (!rc) {
        sl_buf_reset(&b);
        if (d->is_range) {
            sl_buf_printf(&b, "DELETE FROM rows WHERE ts <= ?1 - %lld",
                          (long long)d->range_ms);
        } else {
            /* in the partitions just emitted (?2 < ts <= ?1), all but
             * the last n rows */
            sl_buf_printf(&b,
                          "DELETE FROM rows WHERE seq IN (SELECT seq FROM "
                          "(SELECT seq, row_number() OVER (PARTITION BY pk "
                          "ORDER BY ts DESC, seq DESC) AS rn FROM rows WHERE "
                          "ts <= ?1 AND pk IN (SELECT pk FROM rows WHERE ts "
                          "> ?2 AND ts <= ?1)) WHERE rn > %lld)",
                          (long long)d->preceding);
        }
        rc = b.rc ? SL_NOMEM : prepare(o, sl_buf_cstr(&b), &o->prune, err);
    }
    if (!rc)
        rc = prepare(o, "SELECT min(ts), count(*) FROM rows WHERE ts > ?1",
                     &o->min_ts_q, err);
    if (rc == SL_NOMEM || (!rc && b.rc))
        rc = sl_err_set(err, SL_NOMEM, "out of memory");
    sl_buf_free(&b);
    return rc;
}

static void oop_close(sl_operator *op)
{
    oop *o = (oop *)op;
    sqlite3_stmt *all[] = {o->ins, o->emit, o->prune, o->min_ts_q};
    for (size_t i = 0; i < SL_ARRAY_LEN(all); i++)
        sqlite3_finalize(all[i]);
    sl_late_sink_free(o->late_sink);
    sl_ckpt_rows_free(o->ck); /* before the database: its hook */
    if (o->db)
        sqlite3_close(o->db);
    sl_buf_free(&o->key);
    sl_free(o);
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

/* Encode the PARTITION BY columns of a row (NULLs included). */
static void encode_key(oop *o, const sl_value *row)
{
    sl_buf_reset(&o->key);
    sl_buf_putc(&o->key, 0);
    for (int k = 0; k < o->def.n_part; k++) {
        const sl_value *v = &row[o->def.part_cols[k]];
        sl_buf_putc(&o->key, (char)v->kind);
        switch (v->kind) {
        case SL_V_INT:
            sl_buf_append(&o->key, &v->u.i, sizeof(v->u.i));
            break;
        case SL_V_REAL:
            sl_buf_append(&o->key, &v->u.d, sizeof(v->u.d));
            break;
        case SL_V_TEXT:
        case SL_V_BLOB: {
            uint32_t n = v->len;
            sl_buf_append(&o->key, &n, sizeof(n));
            sl_buf_append(&o->key,
                          v->kind == SL_V_TEXT ? (const void *)v->u.s : v->u.b,
                          n);
            break;
        }
        default:
            break;
        }
    }
}

static int oop_push(sl_operator *op, const sl_batch *batch, bool *accepted,
                    sl_err *err)
{
    oop *o = (oop *)op;
    *accepted = false;
    if (o->emitting)
        return SL_OK;
    int rc = exec(o, "BEGIN", err);
    if (rc)
        return rc;
    int n_in = o->base.in_schema->n_cols;
    for (int i = 0; i < batch->n_rows && !rc; i++) {
        const sl_value *row = sl_batch_crow(batch, i);
        const sl_value *t = &row[o->def.ts_col];
        if (t->kind != SL_V_INT)
            continue; /* no rowtime */
        if (t->u.i <= o->wm) {
            o->late++;
            if (o->late_sink)
                rc = sl_late_sink_add(o->late_sink, batch, i, err);
            continue;
        }
        if (t->u.i < o->min_ts)
            o->min_ts = t->u.i;
        encode_key(o, row);
        if (o->key.rc) {
            rc = sl_err_set(err, SL_NOMEM, "partition key too large");
            break;
        }
        sqlite3_bind_int64(o->ins, 1, t->u.i);
        sqlite3_bind_blob(o->ins, 2, o->key.data, (int)o->key.len,
                          SQLITE_STATIC);
        for (int c = 0; c < n_in; c++)
            bind_value(o->ins, c + 3, &row[c]);
        int st = sqlite3_step(o->ins);
        sqlite3_reset(o->ins);
        if (st != SQLITE_DONE)
            rc = db_err(o, err, "insert");
        else
            o->pending++;
    }
    if (rc) {
        sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    rc = exec(o, "COMMIT", err);
    if (!rc)
        *accepted = true;
    if (!rc && o->late_sink)
        rc = sl_late_sink_flush(o->late_sink, false, err);
    return rc;
}

static bool due(const oop *o)
{
    return o->fire_wm > o->fired_wm && o->pending > 0 &&
           o->fire_wm >= o->min_ts;
}

static int end_emission(oop *o, sl_err *err)
{
    sqlite3_reset(o->emit);
    o->emitting = false;
    sqlite3_bind_int64(o->prune, 1, o->emit_wm);
    if (!o->def.is_range)
        sqlite3_bind_int64(o->prune, 2, o->fired_wm);
    o->fired_wm = o->emit_wm;
    int st = sqlite3_step(o->prune);
    sqlite3_reset(o->prune);
    if (st != SQLITE_DONE)
        return db_err(o, err, "prune");
    o->min_ts = INT64_MAX;
    o->pending = 0;
    sqlite3_bind_int64(o->min_ts_q, 1, o->fired_wm);
    st = sqlite3_step(o->min_ts_q);
    if (st == SQLITE_ROW) {
        if (sqlite3_column_type(o->min_ts_q, 0) != SQLITE_NULL)
            o->min_ts = sqlite3_column_int64(o->min_ts_q, 0);
        o->pending = sqlite3_column_int64(o->min_ts_q, 1);
    }
    sqlite3_reset(o->min_ts_q);
    if (st != SQLITE_ROW)
        return db_err(o, err, "state");
    return SL_OK;
}

static int oop_pull(sl_operator *op, sl_batch *out, sl_op_status *status,
                    sl_err *err)
{
    oop *o = (oop *)op;
    *status = SL_OP_IDLE;
    if (!o->emitting && due(o)) {
        o->emit_wm = o->fire_wm;
        sqlite3_bind_int64(o->emit, 1, o->emit_wm);
        sqlite3_bind_int64(o->emit, 2, o->fired_wm);
        o->emitting = true;
    }
    const sl_schema *os = o->base.out_schema;
    int n = os->n_cols;
    while (o->emitting && !sl_batch_is_full(out)) {
        int s = sqlite3_step(o->emit);
        if (s == SQLITE_DONE) {
            int rc = end_emission(o, err);
            if (rc)
                return rc;
            break;
        }
        if (s != SQLITE_ROW) {
            int rc = db_err(o, err, "emit");
            sqlite3_reset(o->emit);
            o->emitting = false;
            return rc;
        }
        sl_value *row = sl_batch_append_row(out);
        if (!row)
            return sl_err_set(err, SL_ERROR, "internal: output batch full");
        int k = out->n_rows - 1;
        out->kinds[k] = SLUICE_ROW_INSERT;
        out->event_time[k] = sqlite3_column_int64(o->emit, 0);
        if (out->event_time[k] > o->last_ts)
            o->last_ts = out->event_time[k];
        out->pos[k] = (sl_srcpos){-1, -1};
        int rc = SL_OK;
        for (int c = 0; c < n && !rc; c++)
            rc = sl_operator_put_column(out, &row[c], os->cols[c].type, o->emit,
                                        c + 2);
        if (rc)
            return sl_err_set(err, rc, "over aggregate: row too large");
    }
    if (o->emitting || due(o))
        *status = SL_OP_READY;
    else if (o->finished)
        *status = SL_OP_DRAINED;
    return SL_OK;
}

static int oop_on_watermark(sl_operator *op, int64_t watermark_ms, sl_err *err)
{
    SL_UNUSED(err);
    oop *o = (oop *)op;
    if (watermark_ms > o->wm) {
        o->wm = watermark_ms;
        o->fire_wm = watermark_ms;
    }
    return SL_OK;
}

static int oop_finish(sl_operator *op, sl_err *err)
{
    oop *o = (oop *)op;
    o->finished = true;
    o->fire_wm = INT64_MAX;
    return o->late_sink ? sl_late_sink_flush(o->late_sink, true, err) : SL_OK;
}

static int64_t oop_buffered(sl_operator *op)
{
    return ((oop *)op)->pending;
}

static int64_t oop_dropped(sl_operator *op)
{
    return ((oop *)op)->late;
}

static int64_t oop_watermark_out(sl_operator *op)
{
    oop *o = (oop *)op;
    return o->emitting || due(o) ? o->fired_wm : o->wm;
}

/* ---- checkpoints: snapshot() and restore() ------------------------------
 *
 * The rows table (pending rows and the preceding rows later frames need)
 * goes into the job's state database incrementally (ckpt_rows.h:
 * <prefix>rows with each row's seq, which orders ties; <prefix>meta with
 * the watermarks and the late count). The job takes checkpoints aligned
 * (operator.h unsaved): never during an emission, so the table holds
 * exactly the effect of the rows before the recorded source positions. */

#define SNAP_VERSION 1

/* The definition a restored table must have been written under. */
static int layout(const oop *o, sl_buf *b, sl_err *err)
{
    const sl_over_op_def *d = &o->def;
    sl_buf_printf(b, "over ts=%d %s=%lld out=%d part=", d->ts_col,
                  d->is_range ? "range" : "rows",
                  (long long)(d->is_range ? d->range_ms : d->preceding),
                  d->n_out);
    for (int i = 0; i < d->n_part; i++)
        sl_buf_printf(b, "%d,", d->part_cols[i]);
    sl_buf_puts(b, " aggs=");
    for (int i = 0; i < d->n_aggs; i++)
        sl_buf_printf(b, "%d:%d,", (int)d->agg_kind[i], d->agg_arg[i]);
    return b->rc ? sl_err_set(err, SL_NOMEM, "out of memory") : SL_OK;
}

static int ck_open(oop *o, sl_buf *lay, sl_err *err)
{
    int rc = o->ck ? SL_OK
                   : sl_ckpt_rows_new(o->db, "rows", "over aggregate",
                                      SNAP_VERSION, &o->ck, err);
    return rc ? rc : layout(o, lay, err);
}

static int oop_snapshot(sl_operator *op, sqlite3 *state, const char *prefix,
                        sl_err *err)
{
    oop *o = (oop *)op;
    if (o->emitting)
        return sl_err_set(err, SL_ERROR,
                          "internal: over aggregate snapshot during an "
                          "emission");
    sl_buf lay;
    sl_buf_init(&lay, 1u << 20);
    int rc = ck_open(o, &lay, err);
    sl_ckpt_clock k = {o->wm, SL_MIN(o->fire_wm, o->wm), o->fired_wm, o->late};
    if (k.fired_wm > k.wm) {
        /* finish() emitted everything (fired_wm INT64_MAX): a resumed job
         * goes on after the last row emitted (later rows at or behind it
         * are late; the history rows stay for later frames) */
        k.wm = SL_MAX(k.wm, o->last_ts);
        k.fire_wm = k.fired_wm = k.wm;
    }
    if (!rc)
        rc = sl_ckpt_rows_snapshot(o->ck, state, prefix, sl_buf_cstr(&lay), &k,
                                   err);
    sl_buf_free(&lay);
    return rc;
}

static int oop_restore(sl_operator *op, sqlite3 *state, const char *prefix,
                       sl_err *err)
{
    oop *o = (oop *)op;
    sl_buf lay;
    sl_buf_init(&lay, 1u << 20);
    int rc = ck_open(o, &lay, err);
    sl_ckpt_clock k;
    bool found = false;
    if (!rc)
        rc = sl_ckpt_rows_restore(o->ck, state, prefix, sl_buf_cstr(&lay), &k,
                                  &found, err);
    sl_buf_free(&lay);
    if (rc || !found)
        return rc;
    o->wm = k.wm;
    o->fire_wm = k.fire_wm;
    o->fired_wm = k.fired_wm;
    o->late = k.late;
    /* pending rows: those after what was emitted */
    o->min_ts = INT64_MAX;
    o->pending = 0;
    sqlite3_bind_int64(o->min_ts_q, 1, o->fired_wm);
    int st = sqlite3_step(o->min_ts_q);
    if (st == SQLITE_ROW) {
        if (sqlite3_column_type(o->min_ts_q, 0) != SQLITE_NULL)
            o->min_ts = sqlite3_column_int64(o->min_ts_q, 0);
        o->pending = sqlite3_column_int64(o->min_ts_q, 1);
    }
    sqlite3_reset(o->min_ts_q);
    return st == SQLITE_ROW ? SL_OK : db_err(o, err, "restore");
}

/* An emission half done cannot be snapshotted exactly (operator.h). */
static int64_t oop_unsaved(sl_operator *op)
{
    return ((oop *)op)->emitting ? 1 : 0;
}

static const sl_operator_ops oop_ops = {
    .version = SL_OPERATOR_VERSION,
    .name = "over_agg",
    .push = oop_push,
    .pull = oop_pull,
    .on_watermark = oop_on_watermark,
    .finish = oop_finish,
    .buffered = oop_buffered,
    .close = oop_close,
    .dropped = oop_dropped,
    .watermark_out = oop_watermark_out,
    .snapshot = oop_snapshot,
    .restore = oop_restore,
    .unsaved = oop_unsaved,
};

int sl_over_op_new(const sl_schema *in_schema, const sl_schema *out_schema,
                   const sl_over_op_def *def, sl_operator **op, sl_err *err)
{
    *op = NULL;
    int n_in = in_schema->n_cols;
    bool ok = def->ts_col >= 0 && def->ts_col < n_in && def->n_out >= 0 &&
              def->n_out <= n_in && def->n_aggs >= 1 &&
              def->n_aggs <= SL_OVER_MAX_AGGS &&
              out_schema->n_cols == def->n_out + def->n_aggs &&
              def->n_part >= 0 && def->n_part <= SL_OVER_MAX_KEYS &&
              (def->is_range ? def->range_ms >= 0 : def->preceding >= 0);
    for (int i = 0; ok && i < def->n_part; i++)
        ok = def->part_cols[i] >= 0 && def->part_cols[i] < n_in;
    for (int i = 0; ok && i < def->n_aggs; i++)
        ok = def->agg_arg[i] < n_in &&
             (def->agg_arg[i] >= 0 || def->agg_kind[i] == SL_AGG_COUNT_STAR);
    if (!ok)
        return sl_err_set(err, SL_MISUSE, "over aggregate: bad definition");
    oop *o = sl_calloc(1, sizeof(*o));
    if (!o)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    o->base.ops = &oop_ops;
    o->base.in_schema = in_schema;
    o->base.out_schema = out_schema;
    o->def = *def;
    o->wm = o->fire_wm = o->fired_wm = o->last_ts = INT64_MIN;
    o->min_ts = INT64_MAX;
    sl_buf_init(&o->key, 16u << 20);
    if (sqlite3_open_v2("", &o->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        int rc = sl_err_set(err, SL_IO, "cannot open the state database: %s",
                            o->db ? sqlite3_errmsg(o->db) : "out of memory");
        oop_close(&o->base);
        return rc;
    }
    int rc = exec(o,
                  "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                  "PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY",
                  err);
    if (!rc)
        rc = build_sql(o, err);
    if (rc) {
        oop_close(&o->base);
        return rc;
    }
    *op = &o->base;
    return SL_OK;
}

int sl_over_op_set_late_sink(sl_operator *op, struct sl_late_sink *ls)
{
    if (!op || op->ops != &oop_ops) {
        sl_late_sink_free(ls);
        return SL_MISUSE;
    }
    oop *o = (oop *)op;
    sl_late_sink_free(o->late_sink);
    o->late_sink = ls;
    return SL_OK;
}
