/*
 * op_window.c: the aggregate operator (see op_window.h): window
 * aggregates emitted at the watermark and updating GROUP BY aggregates,
 * with partials kept in a SQLite state database the operator owns.
 *
 * push() upserts one partial row per (window, group key) per input row in
 * one transaction per batch; pull() runs the emission query (windows whose
 * end the watermark passed, or the groups a batch changed) a batch at a
 * time and deletes what it emitted. While an emission is in progress,
 * push() refuses input (backpressure), so an emission never races with
 * updates to the rows it reads.
 */
#include <stdatomic.h>
#include <string.h>

#include <sqlite3.h>

#include "ckpt_track.h"
#include "functions.h"
#include "late_sink.h"
#include "op_window.h"
#include "preagg.h"

#define TTL_SWEEP_MS   1000
#define SIZE_SAMPLE_MS 200

static _Atomic int64_t peak_state_bytes; /* sl_window_op_peak_state_bytes */

typedef struct wop {
    sl_operator base;
    sl_window_op_def def;
    sl_agg_def *aggs;
    sqlite3 *db;
    sqlite3_stmt *upsert;
    sqlite3_stmt *upsert_part; /* one folded partial (preagg.h), or NULL */
    int *part_param;           /* per aggregate: its first partial's param */
    sl_preagg pre;
    bool buf_f; /* a PERCENTILE takes a frequency: buf has a column f */
    sqlite3_stmt *buf_ins;
    sqlite3_stmt *snap;    /* updating: old results into prev */
    sqlite3_stmt *emit;    /* window: due windows; updating: changes */
    sqlite3_stmt *del_acc; /* window: emitted windows */
    sqlite3_stmt *del_buf;
    sqlite3_stmt *del_prev;
    sqlite3_stmt *ttl_acc;
    sqlite3_stmt *ttl_buf;
    sqlite3_stmt *retract;   /* updating: -U/-D input rows (retract.c part) */
    sqlite3_stmt *del_empty; /* updating: groups whose rows were retracted */
    int n_param_keys;        /* first key param index */
    int *agg_param;          /* per aggregate: its parameter index */
    bool emitting;
    bool half; /* updating: -U of the current emit row out, +U not yet */
    bool prev_pending;
    bool finished;
    int64_t wm;       /* latest watermark */
    int64_t fire_wm;  /* emit windows up to here */
    int64_t fired_wm; /* emitted up to here */
    int64_t emit_wm;  /* the emission in progress covers up to here */
    int64_t min_we;   /* smallest window_end in acc (INT64_MAX: none) */
    sqlite3_stmt *min_we_q;
    /* SESSION windows (op_session_*) */
    sqlite3_stmt *ses_find;  /* sessions of a key touching a row */
    sqlite3_stmt *ses_move;  /* one session: new bounds */
    sqlite3_stmt *ses_merge; /* several: merged partials into ses_tmp */
    sqlite3_stmt *ses_del;
    sqlite3_stmt *ses_put; /* ses_tmp into acc */
    sqlite3_stmt *ses_clear;
    sqlite3_stmt *ses_buf;   /* buffered values follow their session */
    sl_late_sink *late_sink; /* 'late-data.sink', or NULL */
    int64_t late;
    int64_t absorbed;
    int64_t last_ttl_ms;
    int64_t last_size_ms; /* peak_state_bytes sampled */
    sl_buf key;
    sl_ckpt_track *ck_trk;   /* checkpoints: changes since the last */
    int64_t ck_rows_written; /* by the last snapshot */
} wop;

static const sl_operator_ops wop_ops;

static int db_err(wop *w, sl_err *err, const char *what)
{
    return sl_err_set(err, SL_RUNTIME, "aggregate state: %s: %s", what,
                      sqlite3_errmsg(w->db));
}

static int prepare(wop *w, const char *sql, sqlite3_stmt **stmt, sl_err *err)
{
    if (sqlite3_prepare_v3(w->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt,
                           NULL) != SQLITE_OK)
        return sl_err_set(err, SL_ERROR,
                          "aggregate state: cannot prepare: %s (SQL: %s)",
                          sqlite3_errmsg(w->db), sql);
    return SL_OK;
}

static int exec(wop *w, const char *sql, sl_err *err)
{
    if (sqlite3_exec(w->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_err(w, err, sql);
    return SL_OK;
}

/* The result expression of aggregate i over acc row alias a. */
static void final_expr(const wop *w, int i, sl_buf *b)
{
    const sl_agg_def *a = &w->aggs[i];
    switch (a->kind) {
    case SL_AGG_COUNT_STAR:
    case SL_AGG_COUNT:
        sl_buf_printf(b, "a.c%d", i);
        break;
    case SL_AGG_SUM:
        sl_buf_printf(b, "a.s%d", i);
        break;
    case SL_AGG_AVG:
        sl_buf_printf(b, "CASE WHEN a.n%d > 0 THEN a.s%d / a.n%d END", i, i, i);
        break;
    case SL_AGG_MIN:
    case SL_AGG_MAX:
        sl_buf_printf(b, "a.m%d", i);
        break;
    case SL_AGG_COUNT_DISTINCT:
    case SL_AGG_SUM_DISTINCT:
    case SL_AGG_LISTAGG:
    case SL_AGG_PERCENTILE:
        if (a->kind == SL_AGG_PERCENTILE)
            sl_buf_printf(b, "(SELECT sl_percentile(b.v, %s%s)",
                          a->pct ? a->pct : "0.5", a->freq > 0 ? ", b.f" : "");
        else if (a->kind == SL_AGG_COUNT_DISTINCT)
            sl_buf_puts(b, "(SELECT count(DISTINCT b.v)");
        else if (a->kind == SL_AGG_SUM_DISTINCT)
            sl_buf_puts(b, "(SELECT sum(DISTINCT b.v)");
        else {
            sl_buf_puts(b, "(SELECT group_concat(b.v, '");
            for (const char *p = a->sep ? a->sep : ","; *p; p++) {
                if (*p == '\'')
                    sl_buf_putc(b, '\'');
                sl_buf_putc(b, *p);
            }
            sl_buf_puts(b, "')");
        }
        sl_buf_printf(b,
                      " FROM buf b WHERE b.ws = a.ws AND b.we = a.we AND "
                      "b.gk = a.gk AND b.ai = %d)",
                      i);
        break;
    }
}

/* ---- SESSION windows ------------------------------------------------------
 *
 * A row arrives with its own window [ts, ts + gap) as (ws, we). Before it
 * is absorbed, the sessions of its key that touch that window (Flink's
 * TimeWindow.intersects: ws <= row_we AND we >= row_ws) are merged into
 * one acc row with the union of their bounds: one session by an UPDATE of
 * its bounds, several by summing their partials into ses_tmp, deleting
 * them and inserting the sum. The row is then absorbed into the merged
 * session as usual, and buffered values (COUNT(DISTINCT), LISTAGG) move
 * with their session. Sessions of a key stay disjoint, so "ws >= lo AND
 * we <= hi" selects exactly the merged ones. */

static int session_build_sql(wop *w, sl_err *err)
{
    const sl_window_op_def *d = &w->def;
    sl_buf b;
    sl_buf_init(&b, 1u << 20);
    sl_buf_puts(&b, "INSERT INTO ses_tmp SELECT ?2, ?3, gk");
    for (int k = 0; k < d->n_keys; k++)
        sl_buf_printf(&b, ", min(k%d)", k);
    for (int i = 0; i < d->n_aggs; i++) {
        switch (w->aggs[i].kind) {
        case SL_AGG_COUNT_STAR:
        case SL_AGG_COUNT:
            sl_buf_printf(&b, ", sum(c%d)", i);
            break;
        case SL_AGG_SUM:
            sl_buf_printf(&b, ", sum(s%d)", i);
            break;
        case SL_AGG_AVG:
            sl_buf_printf(&b, ", sum(s%d), sum(n%d)", i, i);
            break;
        case SL_AGG_MIN:
            sl_buf_printf(&b, ", min(m%d)", i);
            break;
        case SL_AGG_MAX:
            sl_buf_printf(&b, ", max(m%d)", i);
            break;
        default:
            break;
        }
    }
    sl_buf_puts(&b, ", max(upd) FROM acc WHERE gk = ?1 AND ws >= ?2 AND we "
                    "<= ?3 GROUP BY gk");
    int rc = exec(w,
                  "CREATE INDEX acc_gk ON acc(gk, ws);"
                  "CREATE INDEX acc_we ON acc(we);"
                  "CREATE TABLE ses_tmp AS SELECT * FROM acc WHERE 0;",
                  err);
    if (!rc)
        rc = b.rc ? sl_err_set(err, SL_NOMEM, "out of memory")
                  : prepare(w, sl_buf_cstr(&b), &w->ses_merge, err);
    sl_buf_free(&b);
    if (!rc)
        rc = prepare(w,
                     "SELECT ws, we FROM acc WHERE gk = ?1 AND ws <= ?3 AND "
                     "we >= ?2",
                     &w->ses_find, err);
    if (!rc)
        rc = prepare(w,
                     "UPDATE acc SET ws = ?4, we = ?5 WHERE gk = ?1 AND ws "
                     "= ?2 AND we = ?3",
                     &w->ses_move, err);
    if (!rc)
        rc = prepare(w,
                     "DELETE FROM acc WHERE gk = ?1 AND ws >= ?2 AND we <= "
                     "?3",
                     &w->ses_del, err);
    if (!rc)
        rc = prepare(w, "INSERT INTO acc SELECT * FROM ses_tmp", &w->ses_put,
                     err);
    if (!rc)
        rc = prepare(w, "DELETE FROM ses_tmp", &w->ses_clear, err);
    if (!rc)
        rc = prepare(w,
                     "UPDATE buf SET ws = ?2, we = ?3 WHERE gk = ?1 AND ws "
                     ">= ?2 AND we <= ?3",
                     &w->ses_buf, err);
    if (!rc)
        rc = prepare(w, "SELECT min(we) FROM acc", &w->min_we_q, err);
    return rc;
}

static int step_done(wop *w, sqlite3_stmt *st, sl_err *err, const char *what);
static void encode_key(wop *w, const sl_value *row);

/* Merge the sessions of the row's key that touch [*ws, *we] (the row's
 * own window); *ws, *we become the merged session's bounds. */
static int session_merge(wop *w, const sl_value *row, int64_t *ws, int64_t *we,
                         sl_err *err)
{
    encode_key(w, row);
    if (w->key.rc)
        return sl_err_set(err, SL_NOMEM, "group key too large");
    int64_t lo = *ws, hi = *we, ows = 0, owe = 0;
    int n = 0, s;
    sqlite3_stmt *f = w->ses_find;
    sqlite3_bind_blob(f, 1, w->key.data, (int)w->key.len, SQLITE_STATIC);
    sqlite3_bind_int64(f, 2, *ws);
    sqlite3_bind_int64(f, 3, *we);
    while ((s = sqlite3_step(f)) == SQLITE_ROW) {
        ows = sqlite3_column_int64(f, 0);
        owe = sqlite3_column_int64(f, 1);
        lo = ows < lo ? ows : lo;
        hi = owe > hi ? owe : hi;
        n++;
    }
    sqlite3_reset(f);
    if (s != SQLITE_DONE)
        return db_err(w, err, "session lookup");
    *ws = lo;
    *we = hi;
    if (n == 0 || (n == 1 && ows == lo && owe == hi))
        return SL_OK; /* a new session, or inside one */
    int rc = SL_OK;
    if (n == 1) {
        sqlite3_stmt *m = w->ses_move;
        sqlite3_bind_blob(m, 1, w->key.data, (int)w->key.len, SQLITE_STATIC);
        sqlite3_bind_int64(m, 2, ows);
        sqlite3_bind_int64(m, 3, owe);
        sqlite3_bind_int64(m, 4, lo);
        sqlite3_bind_int64(m, 5, hi);
        rc = step_done(w, m, err, "session bounds");
    } else {
        sqlite3_stmt *st[] = {w->ses_merge, w->ses_del};
        for (size_t i = 0; i < SL_ARRAY_LEN(st) && !rc; i++) {
            sqlite3_bind_blob(st[i], 1, w->key.data, (int)w->key.len,
                              SQLITE_STATIC);
            sqlite3_bind_int64(st[i], 2, lo);
            sqlite3_bind_int64(st[i], 3, hi);
            rc = step_done(w, st[i], err, "session merge");
        }
        if (!rc)
            rc = step_done(w, w->ses_put, err, "session merge");
        if (!rc)
            rc = step_done(w, w->ses_clear, err, "session merge");
    }
    if (!rc) {
        sqlite3_stmt *b = w->ses_buf;
        sqlite3_bind_blob(b, 1, w->key.data, (int)w->key.len, SQLITE_STATIC);
        sqlite3_bind_int64(b, 2, lo);
        sqlite3_bind_int64(b, 3, hi);
        rc = step_done(w, b, err, "session merge");
    }
    return rc;
}

static int build_upsert(wop *w, bool partial, sqlite3_stmt **stmt, int *params,
                        sl_err *err);

static int build_sql(wop *w, sl_err *err)
{
    const sl_window_op_def *d = &w->def;
    sl_buf b;
    sl_buf_init(&b, 1u << 20);
    /* tables */
    sl_buf_puts(&b, "CREATE TABLE acc(ws INTEGER NOT NULL, we INTEGER NOT "
                    "NULL, gk BLOB NOT NULL");
    for (int k = 0; k < d->n_keys; k++)
        sl_buf_printf(&b, ", k%d", k);
    for (int i = 0; i < d->n_aggs; i++) {
        switch (w->aggs[i].kind) {
        case SL_AGG_COUNT_STAR:
        case SL_AGG_COUNT:
            sl_buf_printf(&b, ", c%d INTEGER", i);
            break;
        case SL_AGG_SUM:
            sl_buf_printf(&b, ", s%d", i);
            break;
        case SL_AGG_AVG:
            sl_buf_printf(&b, ", s%d, n%d INTEGER", i, i);
            break;
        case SL_AGG_MIN:
        case SL_AGG_MAX:
            sl_buf_printf(&b, ", m%d", i);
            break;
        default:
            break;
        }
    }
    /* updating mode: nrows counts the group's rows (retractions) */
    sl_buf_printf(&b,
                  ", upd INTEGER%s, PRIMARY KEY(ws, we, gk)) WITHOUT "
                  "ROWID;",
                  d->updating ? ", nrows INTEGER NOT NULL DEFAULT 1" : "");
    sl_buf_printf(&b,
                  "CREATE TABLE buf(ws INTEGER, we INTEGER, gk BLOB, ai "
                  "INTEGER, v%s);"
                  "CREATE INDEX buf_key ON buf(ws, we, gk, ai);",
                  w->buf_f ? ", f INTEGER" : "");
    if (d->updating) {
        sl_buf_puts(&b, "CREATE TABLE prev(gk BLOB UNIQUE, existed INTEGER");
        for (int i = 0; i < d->n_aggs; i++)
            sl_buf_printf(&b, ", f%d", i);
        sl_buf_puts(&b, ");");
    }
    int rc = b.rc ? SL_NOMEM : exec(w, sl_buf_cstr(&b), err);
    if (rc)
        goto out;
    w->n_param_keys = 4;
    rc = build_upsert(w, false, &w->upsert, w->agg_param, err);
    if (!rc)
        rc = prepare(w,
                     w->buf_f ? "INSERT INTO buf(ws, we, gk, ai, v, f) "
                                "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
                              : "INSERT INTO buf(ws, we, gk, ai, v) "
                                "VALUES(?1, ?2, ?3, ?4, ?5)",
                     &w->buf_ins, err);
    if (rc)
        goto out;
    /* emission */
    sl_buf_reset(&b);
    if (d->updating) {
        sl_buf_puts(&b, "INSERT OR IGNORE INTO prev SELECT ?1, a.gk IS NOT "
                        "NULL");
        for (int i = 0; i < d->n_aggs; i++) {
            sl_buf_puts(&b, ", ");
            final_expr(w, i, &b);
        }
        sl_buf_puts(&b, " FROM (SELECT 1) LEFT JOIN acc a ON a.ws = 0 AND "
                        "a.we = 0 AND a.gk = ?1");
        rc = b.rc ? SL_NOMEM : prepare(w, sl_buf_cstr(&b), &w->snap, err);
        if (rc)
            goto out;
        sl_buf_reset(&b);
        sl_buf_puts(&b, "SELECT p.existed");
        for (int k = 0; k < d->n_keys; k++)
            sl_buf_printf(&b, ", a.k%d", k);
        for (int i = 0; i < d->n_aggs; i++)
            sl_buf_printf(&b, ", p.f%d", i);
        for (int i = 0; i < d->n_aggs; i++) {
            sl_buf_puts(&b, ", ");
            final_expr(w, i, &b);
        }
        sl_buf_puts(&b, ", a.nrows FROM prev p JOIN acc a ON a.ws = 0 AND "
                        "a.we = 0 AND a.gk = p.gk ORDER BY p.rowid");
        rc = b.rc ? SL_NOMEM : prepare(w, sl_buf_cstr(&b), &w->emit, err);
        if (!rc)
            rc = prepare(w, "DELETE FROM prev", &w->del_prev, err);
        if (!rc)
            rc = prepare(w,
                         "DELETE FROM acc WHERE ws = 0 AND we = 0 AND upd < "
                         "?1",
                         &w->ttl_acc, err);
        if (!rc)
            rc = prepare(w,
                         "DELETE FROM buf WHERE NOT EXISTS (SELECT 1 FROM acc "
                         "a WHERE a.ws = buf.ws AND a.we = buf.we AND a.gk = "
                         "buf.gk)",
                         &w->ttl_buf, err);
    } else {
        sl_buf_puts(&b, "SELECT a.we");
        for (int k = 0; k < d->n_keys; k++) {
            if (k == d->ws_col || k == d->we_col)
                sl_buf_puts(&b, k == d->ws_col ? ", a.ws" : ", a.we");
            else
                sl_buf_printf(&b, ", a.k%d", k);
        }
        for (int i = 0; i < d->n_aggs; i++) {
            sl_buf_puts(&b, ", ");
            final_expr(w, i, &b);
        }
        sl_buf_puts(&b, " FROM acc a WHERE a.ws <= ?1 AND a.we - 1 <= ?1 "
                        "ORDER BY a.ws, a.we, a.gk");
        rc = b.rc ? SL_NOMEM : prepare(w, sl_buf_cstr(&b), &w->emit, err);
        if (!rc)
            rc = prepare(w, "DELETE FROM acc WHERE ws <= ?1 AND we - 1 <= ?1",
                         &w->del_acc, err);
        if (!rc)
            rc = prepare(w, "DELETE FROM buf WHERE ws <= ?1 AND we - 1 <= ?1",
                         &w->del_buf, err);
        if (!rc && d->session_gap_ms > 0)
            rc = session_build_sql(w, err);
        else if (!rc)
            rc = prepare(w,
                         "SELECT min(we) FROM acc WHERE ws = (SELECT min(ws) "
                         "FROM acc)",
                         &w->min_we_q, err);
    }
out:
    if (!rc && b.rc)
        rc = sl_err_set(err, SL_NOMEM, "out of memory");
    sl_buf_free(&b);
    return rc;
}

/* The upsert of a row's partials into acc: ?1 ws, ?2 we, ?3 gk, ?4.. the
 * group columns, then the aggregates' parameters (params[i], 0: none),
 * then upd. partial false: one parameter per aggregate argument, each row
 * upserted alone (COUNT(*) adds 1, COUNT(x) adds x IS NOT NULL); true: one
 * parameter per partial of a folded batch (preagg.h: COUNT: count; SUM,
 * MIN, MAX: value; AVG: sum, then count). Either way an existing row
 * combines with the new partial the same way. */
static int build_upsert(wop *w, bool partial, sqlite3_stmt **stmt, int *params,
                        sl_err *err)
{
    const sl_window_op_def *d = &w->def;
    sl_buf b, vals, upd;
    sl_buf_init(&b, 1u << 20);
    sl_buf_init(&vals, 1u << 20);
    sl_buf_init(&upd, 1u << 20);
    sl_buf_puts(&b, "INSERT INTO acc(ws, we, gk");
    sl_buf_puts(&vals, "?1, ?2, ?3");
    for (int k = 0; k < d->n_keys; k++) {
        sl_buf_printf(&b, ", k%d", k);
        sl_buf_printf(&vals, ", ?%d", 4 + k);
    }
    int p = 4 + d->n_keys;
    for (int i = 0; i < d->n_aggs; i++) {
        sl_agg_kind kind = w->aggs[i].kind;
        params[i] = 0;
        if (sl_agg_is_buffered(kind))
            continue; /* its values go to buf */
        if (partial || w->aggs[i].arg >= 0)
            params[i] = p++;
        int q = params[i];
        switch (kind) {
        case SL_AGG_COUNT_STAR:
        case SL_AGG_COUNT:
            sl_buf_printf(&b, ", c%d", i);
            if (partial)
                sl_buf_printf(&vals, ", ?%d", q);
            else if (kind == SL_AGG_COUNT_STAR)
                sl_buf_puts(&vals, ", 1");
            else
                sl_buf_printf(&vals, ", (?%d IS NOT NULL)", q);
            sl_buf_printf(&upd, "c%d = c%d + excluded.c%d, ", i, i, i);
            break;
        case SL_AGG_SUM:
        case SL_AGG_AVG:
            sl_buf_printf(&b, ", s%d", i);
            sl_buf_printf(&vals, ", ?%d", q);
            sl_buf_printf(&upd,
                          "s%d = CASE WHEN excluded.s%d IS NULL THEN s%d "
                          "WHEN s%d IS NULL THEN excluded.s%d ELSE s%d + "
                          "excluded.s%d END, ",
                          i, i, i, i, i, i, i);
            if (kind == SL_AGG_AVG) {
                sl_buf_printf(&b, ", n%d", i);
                if (partial)
                    sl_buf_printf(&vals, ", ?%d", p++);
                else
                    sl_buf_printf(&vals, ", (?%d IS NOT NULL)", q);
                sl_buf_printf(&upd, "n%d = n%d + excluded.n%d, ", i, i, i);
            }
            break;
        case SL_AGG_MIN:
        case SL_AGG_MAX:
            sl_buf_printf(&b, ", m%d", i);
            sl_buf_printf(&vals, ", ?%d", q);
            sl_buf_printf(&upd,
                          "m%d = CASE WHEN m%d IS NULL OR (excluded.m%d "
                          "IS NOT NULL AND excluded.m%d %c m%d) THEN "
                          "excluded.m%d ELSE m%d END, ",
                          i, i, i, i, kind == SL_AGG_MIN ? '<' : '>', i, i, i);
            break;
        default:
            break;
        }
    }
    sl_buf_printf(&b,
                  ", upd) VALUES(%s, ?%d) ON CONFLICT(ws, we, gk) DO "
                  "UPDATE SET ",
                  sl_buf_cstr(&vals), p);
    sl_buf_append(&b, upd.data, upd.len);
    sl_buf_printf(&b, "upd = excluded.upd%s",
                  d->updating ? ", nrows = nrows + 1" : "");
    int rc = b.rc || vals.rc || upd.rc
                 ? sl_err_set(err, SL_NOMEM, "out of memory")
                 : prepare(w, sl_buf_cstr(&b), stmt, err);
    sl_buf_free(&b);
    sl_buf_free(&vals);
    sl_buf_free(&upd);
    return rc;
}

/* Window mode without SESSION, every aggregate foldable or buffered: the
 * upsert of one folded partial (build_upsert, partial). */
static int build_upsert_part(wop *w, sl_err *err)
{
    const sl_window_op_def *d = &w->def;
    if (d->updating || d->session_gap_ms > 0 ||
        !sl_preagg_supported(d->n_aggs, w->aggs))
        return SL_OK;
    size_t na = (size_t)(d->n_aggs ? d->n_aggs : 1);
    w->part_param = sl_calloc(na, sizeof(int));
    if (!w->part_param)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    int rc = build_upsert(w, true, &w->upsert_part, w->part_param, err);
    if (!rc)
        sl_preagg_init(&w->pre, d->n_aggs, w->aggs);
    return rc;
}

static void wop_close(sl_operator *op)
{
    wop *w = (wop *)op;
    sqlite3_stmt *all[] = {
        w->upsert,   w->upsert_part, w->buf_ins,  w->snap,      w->emit,
        w->del_acc,  w->del_buf,     w->del_prev, w->ttl_acc,   w->ttl_buf,
        w->min_we_q, w->ses_find,    w->ses_move, w->ses_merge, w->ses_del,
        w->ses_put,  w->ses_clear,   w->ses_buf,  w->retract,   w->del_empty};
    for (size_t i = 0; i < SL_ARRAY_LEN(all); i++)
        sqlite3_finalize(all[i]);
    sl_ckpt_track_free(w->ck_trk);
    if (w->db)
        sqlite3_close(w->db);
    sl_late_sink_free(w->late_sink);
    if (w->aggs)
        for (int i = 0; i < w->def.n_aggs; i++) {
            sl_free((char *)w->aggs[i].sep);
            sl_free((char *)w->aggs[i].pct);
        }
    sl_free(w->aggs);
    sl_free(w->agg_param);
    sl_free(w->part_param);
    sl_preagg_free(&w->pre);
    sl_buf_free(&w->key);
    sl_free(w);
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

/* Encode the non-window group columns of a row (NULLs included). */
static void encode_key(wop *w, const sl_value *row)
{
    sl_buf_reset(&w->key);
    for (int k = 0; k < w->def.n_keys; k++) {
        if (k == w->def.ws_col || k == w->def.we_col)
            continue;
        const sl_value *v = &row[k];
        sl_buf_putc(&w->key, (char)v->kind);
        switch (v->kind) {
        case SL_V_INT:
            sl_buf_append(&w->key, &v->u.i, sizeof(v->u.i));
            break;
        case SL_V_REAL:
            sl_buf_append(&w->key, &v->u.d, sizeof(v->u.d));
            break;
        case SL_V_TEXT:
        case SL_V_BLOB: {
            uint32_t n = v->len;
            sl_buf_append(&w->key, &n, sizeof(n));
            sl_buf_append(&w->key,
                          v->kind == SL_V_TEXT ? (const void *)v->u.s : v->u.b,
                          n);
            break;
        }
        default:
            break;
        }
    }
    if (!w->key.len)
        sl_buf_putc(&w->key, 0);
}

static int step_done(wop *w, sqlite3_stmt *st, sl_err *err, const char *what)
{
    int s = sqlite3_step(st);
    sqlite3_reset(st);
    if (s != SQLITE_DONE && s != SQLITE_ROW)
        return db_err(w, err, what);
    return SL_OK;
}

/* Rows of the buffered aggregates (COUNT(DISTINCT), LISTAGG, ...) go into
 * buf, keyed like their partial (w->key holds the row's group key). */
static int buffer_values(wop *w, const sl_value *row, int64_t ws, int64_t we,
                         sl_err *err)
{
    for (int i = 0; i < w->def.n_aggs; i++) {
        const sl_agg_def *a = &w->aggs[i];
        if (a->arg < 0 || !sl_agg_is_buffered(a->kind) ||
            row[a->arg].kind == SL_V_NULL)
            continue;
        sqlite3_stmt *b = w->buf_ins;
        if (a->freq > 0) { /* a NULL or 0 frequency counts the row 0 times */
            const sl_value *f = &row[a->freq - 1];
            if (f->kind == SL_V_NULL || (f->kind == SL_V_INT && f->u.i == 0))
                continue;
            bind_value(b, 6, f);
        } else if (a->kind == SL_AGG_PERCENTILE && w->buf_f) {
            sqlite3_bind_int(b, 6, 1);
        }
        sqlite3_bind_int64(b, 1, ws);
        sqlite3_bind_int64(b, 2, we);
        sqlite3_bind_blob(b, 3, w->key.data, (int)w->key.len, SQLITE_STATIC);
        sqlite3_bind_int(b, 4, i);
        bind_value(b, 5, &row[a->arg]);
        int rc = step_done(w, b, err, "buffer");
        if (rc)
            return rc;
    }
    return SL_OK;
}

static int absorb_row(wop *w, const sl_value *row, int64_t ws, int64_t we,
                      int64_t now_ms, sl_err *err)
{
    encode_key(w, row);
    if (w->key.rc)
        return sl_err_set(err, SL_NOMEM, "group key too large");
    sqlite3_stmt *u = w->upsert;
    if (w->snap) {
        sqlite3_bind_blob(w->snap, 1, w->key.data, (int)w->key.len,
                          SQLITE_STATIC);
        int rc = step_done(w, w->snap, err, "snapshot");
        if (rc)
            return rc;
        w->prev_pending = true;
    }
    sqlite3_bind_int64(u, 1, ws);
    sqlite3_bind_int64(u, 2, we);
    sqlite3_bind_blob(u, 3, w->key.data, (int)w->key.len, SQLITE_STATIC);
    for (int k = 0; k < w->def.n_keys; k++)
        bind_value(u, w->n_param_keys + k, &row[k]);
    for (int i = 0; i < w->def.n_aggs; i++) {
        const sl_agg_def *a = &w->aggs[i];
        if (a->arg < 0)
            continue;
        const sl_value *v = &row[a->arg];
        if (w->agg_param[i])
            bind_value(u, w->agg_param[i], v);
    }
    int rc = buffer_values(w, row, ws, we, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(u, sqlite3_bind_parameter_count(u), now_ms);
    return step_done(w, u, err, "upsert");
}

/* Window mode without SESSION, every row's arguments foldable: fold the
 * batch per (window, group key) in memory (preagg.h), then one upsert per
 * slot. Late rows and the smallest window end are handled as in the
 * row-by-row path. */
static int push_folded(wop *w, const sl_batch *batch, int64_t now_ms,
                       sl_err *err)
{
    int rc = sl_preagg_begin(&w->pre, batch->n_rows);
    if (rc)
        return sl_err_set(err, rc, "out of memory");
    for (int r = 0; r < batch->n_rows && !rc; r++) {
        const sl_value *row = sl_batch_crow(batch, r);
        const sl_value *s = &row[w->def.ws_col], *e = &row[w->def.we_col];
        if (s->kind != SL_V_INT || e->kind != SL_V_INT)
            continue; /* no event time: belongs to no window */
        int64_t ws = s->u.i, we = e->u.i;
        if (we - 1 <= w->wm) {
            w->late++;
            if (w->late_sink)
                rc = sl_late_sink_add(w->late_sink, batch, r, err);
            continue;
        }
        if (we < w->min_we)
            w->min_we = we;
        encode_key(w, row);
        if (w->key.rc)
            return sl_err_set(err, SL_NOMEM, "group key too large");
        rc = buffer_values(w, row, ws, we, err);
        if (!rc && sl_preagg_add(&w->pre, ws, we, w->key.data,
                                 (uint32_t)w->key.len, r, row))
            rc = sl_err_set(err, SL_NOMEM, "out of memory");
        w->absorbed++;
    }
    sqlite3_stmt *u = w->upsert_part;
    int upd_param = sqlite3_bind_parameter_count(u);
    for (int i = 0; i < w->pre.n_slots && !rc; i++) {
        const sl_preagg_slot *sl = &w->pre.slots[i];
        const sl_preagg_part *pt = &w->pre.parts[(size_t)i * w->def.n_aggs];
        const sl_value *row = sl_batch_crow(batch, sl->row);
        sqlite3_bind_int64(u, 1, sl->ws);
        sqlite3_bind_int64(u, 2, sl->we);
        sqlite3_bind_blob(u, 3, w->pre.keys.data + sl->koff, (int)sl->klen,
                          SQLITE_STATIC);
        for (int k = 0; k < w->def.n_keys; k++)
            bind_value(u, w->n_param_keys + k, &row[k]);
        for (int a = 0; a < w->def.n_aggs; a++) {
            int q = w->part_param[a];
            switch (w->aggs[a].kind) {
            case SL_AGG_COUNT_STAR:
            case SL_AGG_COUNT:
                sqlite3_bind_int64(u, q, pt[a].c);
                break;
            case SL_AGG_AVG:
                sqlite3_bind_int64(u, q + 1, pt[a].c);
                /* fall through */
            case SL_AGG_SUM:
            case SL_AGG_MIN:
            case SL_AGG_MAX:
                bind_value(u, q, &pt[a].v);
                break;
            default:
                break;
            }
        }
        sqlite3_bind_int64(u, upd_param, now_ms);
        rc = step_done(w, u, err, "upsert");
    }
    return rc;
}

/* ---- retractions (updating mode): -U/-D rows of an updating input --- */

/* Prepare the statement that takes one row out of its group's partials
 * (COUNT, SUM, AVG only: MIN, MAX and the buffered aggregates cannot be
 * retracted from partials; then w->retract stays NULL). */
static int build_retract(wop *w, sl_err *err)
{
    for (int i = 0; i < w->def.n_aggs; i++) {
        sl_agg_kind k = w->aggs[i].kind;
        if (k != SL_AGG_COUNT_STAR && k != SL_AGG_COUNT && k != SL_AGG_SUM &&
            k != SL_AGG_AVG)
            return SL_OK;
    }
    sl_buf b;
    sl_buf_init(&b, 1u << 20);
    sl_buf_puts(&b, "UPDATE acc SET nrows = nrows - 1, upd = ?1");
    for (int i = 0; i < w->def.n_aggs; i++) {
        int q = w->agg_param[i];
        switch (w->aggs[i].kind) {
        case SL_AGG_COUNT_STAR:
            sl_buf_printf(&b, ", c%d = c%d - 1", i, i);
            break;
        case SL_AGG_COUNT:
            sl_buf_printf(&b, ", c%d = c%d - (?%d IS NOT NULL)", i, i, q);
            break;
        case SL_AGG_AVG:
            sl_buf_printf(&b, ", n%d = n%d - (?%d IS NOT NULL)", i, i, q);
            /* fall through */
        default:
            sl_buf_printf(&b,
                          ", s%d = CASE WHEN ?%d IS NULL THEN s%d ELSE s%d - "
                          "?%d END",
                          i, q, i, i, q);
            break;
        }
    }
    sl_buf_puts(&b, " WHERE ws = 0 AND we = 0 AND gk = ?3");
    int rc = b.rc ? sl_err_set(err, SL_NOMEM, "out of memory")
                  : prepare(w, sl_buf_cstr(&b), &w->retract, err);
    sl_buf_free(&b);
    if (!rc)
        rc =
            prepare(w, "DELETE FROM acc WHERE ws = 0 AND we = 0 AND nrows <= 0",
                    &w->del_empty, err);
    return rc;
}

static int retract_row(wop *w, const sl_value *row, int64_t now_ms, sl_err *err)
{
    if (!w->retract)
        return sl_err_set(err, SL_UNSUPPORTED,
                          "GROUP BY over an updating input: only COUNT, SUM "
                          "and AVG can take back (retract) rows yet, not "
                          "MIN, MAX, COUNT(DISTINCT) or LISTAGG");
    encode_key(w, row);
    if (w->key.rc)
        return sl_err_set(err, SL_NOMEM, "group key too large");
    sqlite3_bind_blob(w->snap, 1, w->key.data, (int)w->key.len, SQLITE_STATIC);
    int rc = step_done(w, w->snap, err, "snapshot");
    if (rc)
        return rc;
    w->prev_pending = true;
    sqlite3_stmt *u = w->retract;
    sqlite3_bind_int64(u, 1, now_ms);
    sqlite3_bind_blob(u, 3, w->key.data, (int)w->key.len, SQLITE_STATIC);
    for (int i = 0; i < w->def.n_aggs; i++)
        if (w->agg_param[i])
            bind_value(u, w->agg_param[i], &row[w->aggs[i].arg]);
    return step_done(w, u, err, "retract");
}

/* Fold the state database's size into the process-wide peak. */
static void sample_size(wop *w)
{
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    if (sqlite3_prepare_v2(w->db,
                           "SELECT page_count * page_size FROM "
                           "pragma_page_count(), pragma_page_size()",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    int64_t cur = atomic_load(&peak_state_bytes);
    while (n > cur && !atomic_compare_exchange_weak(&peak_state_bytes, &cur, n))
        ;
}

static int wop_push(sl_operator *op, const sl_batch *batch, bool *accepted,
                    sl_err *err)
{
    wop *w = (wop *)op;
    *accepted = false;
    if (w->emitting || w->prev_pending)
        return SL_OK;
    int rc = exec(w, "BEGIN", err);
    if (rc)
        return rc;
    int64_t now = sl_now_ms();
    bool fold = w->upsert_part != NULL;
    for (int r = 0; r < batch->n_rows && fold; r++)
        fold = sl_preagg_row_ok(&w->pre, sl_batch_crow(batch, r));
    if (fold)
        rc = push_folded(w, batch, now, err);
    for (int r = 0; r < batch->n_rows && !rc && !fold; r++) {
        const sl_value *row = sl_batch_crow(batch, r);
        int64_t ws = 0, we = 0;
        if (!w->def.updating) {
            const sl_value *s = &row[w->def.ws_col], *e = &row[w->def.we_col];
            if (s->kind != SL_V_INT || e->kind != SL_V_INT)
                continue; /* no event time: belongs to no window */
            ws = s->u.i;
            we = e->u.i;
            if (we - 1 <= w->wm) {
                w->late++;
                if (w->late_sink)
                    rc = sl_late_sink_add(w->late_sink, batch, r, err);
                continue;
            }
            if (we < w->min_we)
                w->min_we = we;
            if (w->def.session_gap_ms > 0) {
                rc = session_merge(w, row, &ws, &we, err);
                if (rc)
                    break;
            }
        } else if (batch->kinds[r] != SLUICE_ROW_INSERT &&
                   batch->kinds[r] != SLUICE_ROW_UPDATE_AFTER) {
            rc = retract_row(w, row, now, err);
            continue;
        }
        rc = absorb_row(w, row, ws, we, now, err);
        w->absorbed++;
    }
    if (rc) {
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    rc = exec(w, "COMMIT", err);
    if (!rc)
        *accepted = true;
    if (!rc && now - w->last_size_ms >= SIZE_SAMPLE_MS) {
        w->last_size_ms = now;
        sample_size(w);
    }
    if (!rc && w->late_sink)
        rc = sl_late_sink_flush(w->late_sink, false, err);
    return rc;
}

static bool same_value(sqlite3_stmt *st, int a, int b)
{
    int ta = sqlite3_column_type(st, a), tb = sqlite3_column_type(st, b);
    if (ta != tb)
        return false;
    switch (ta) {
    case SQLITE_NULL:
        return true;
    case SQLITE_INTEGER:
        return sqlite3_column_int64(st, a) == sqlite3_column_int64(st, b);
    case SQLITE_FLOAT:
        return sqlite3_column_double(st, a) == sqlite3_column_double(st, b);
    default: {
        int la = sqlite3_column_bytes(st, a), lb = sqlite3_column_bytes(st, b);
        const void *pa = sqlite3_column_blob(st, a);
        const void *pb = sqlite3_column_blob(st, b);
        return la == lb && (la == 0 || !memcmp(pa, pb, (size_t)la));
    }
    }
}

/* Append one output row from the emission statement. first_agg: column of
 * the first aggregate result. */
static int emit_row(wop *w, sl_batch *out, int kind, int64_t etime,
                    int first_key, int first_agg, sl_err *err)
{
    const sl_schema *os = w->base.out_schema;
    sl_value *row = sl_batch_append_row(out);
    if (!row)
        return sl_err_set(err, SL_ERROR, "internal: output batch full");
    int r = out->n_rows - 1;
    out->kinds[r] = (uint8_t)kind;
    out->event_time[r] = etime;
    out->pos[r] = (sl_srcpos){-1, -1};
    int rc = SL_OK;
    for (int k = 0; k < w->def.n_keys && !rc; k++)
        rc = sl_operator_put_column(out, &row[k], os->cols[k].type, w->emit,
                                    first_key + k);
    for (int i = 0; i < w->def.n_aggs && !rc; i++)
        rc = sl_operator_put_column(out, &row[w->def.n_keys + i],
                                    os->cols[w->def.n_keys + i].type, w->emit,
                                    first_agg + i);
    if (rc)
        return sl_err_set(err, rc, "aggregate result too large");
    return SL_OK;
}

static int end_emission(wop *w, sl_err *err)
{
    sqlite3_reset(w->emit);
    w->emitting = false;
    int rc;
    if (w->def.updating) {
        rc = step_done(w, w->del_prev, err, "delete");
        if (!rc && w->del_empty)
            rc = step_done(w, w->del_empty, err, "delete");
        w->prev_pending = false;
        return rc;
    }
    sqlite3_bind_int64(w->del_acc, 1, w->emit_wm);
    sqlite3_bind_int64(w->del_buf, 1, w->emit_wm);
    rc = step_done(w, w->del_acc, err, "delete");
    if (!rc)
        rc = step_done(w, w->del_buf, err, "delete");
    w->fired_wm = w->emit_wm;
    /* the smallest window_end left: among the windows of the smallest
     * window_start (windows of one start differ only in their end) */
    w->min_we = INT64_MAX;
    if (!rc) {
        int s = sqlite3_step(w->min_we_q);
        if (s == SQLITE_ROW &&
            sqlite3_column_type(w->min_we_q, 0) != SQLITE_NULL)
            w->min_we = sqlite3_column_int64(w->min_we_q, 0);
        else if (s != SQLITE_ROW && s != SQLITE_DONE)
            rc = db_err(w, err, "state");
        sqlite3_reset(w->min_we_q);
    }
    if (w->min_we == INT64_MAX)
        w->absorbed = 0;
    return rc;
}

static int ttl_sweep(wop *w, sl_err *err)
{
    if (!w->def.updating || w->def.ttl_ms <= 0)
        return SL_OK;
    int64_t now = sl_now_ms();
    if (now - w->last_ttl_ms < TTL_SWEEP_MS)
        return SL_OK;
    w->last_ttl_ms = now;
    sqlite3_bind_int64(w->ttl_acc, 1, now - w->def.ttl_ms);
    int rc = step_done(w, w->ttl_acc, err, "state TTL");
    if (!rc && sqlite3_changes(w->db) > 0)
        rc = step_done(w, w->ttl_buf, err, "state TTL");
    return rc;
}

static int wop_pull(sl_operator *op, sl_batch *out, sl_op_status *status,
                    sl_err *err)
{
    wop *w = (wop *)op;
    *status = SL_OP_IDLE;
    if (!w->emitting) {
        int rc = ttl_sweep(w, err);
        if (rc)
            return rc;
        if (w->def.updating && w->prev_pending) {
            w->emitting = true;
        } else if (!w->def.updating && w->fire_wm > w->fired_wm &&
                   w->min_we != INT64_MAX && w->fire_wm >= w->min_we - 1) {
            w->emit_wm = w->fire_wm;
            sqlite3_bind_int64(w->emit, 1, w->emit_wm);
            w->emitting = true;
        }
    }
    int n_keys = w->def.n_keys, n_aggs = w->def.n_aggs;
    while (w->emitting && !sl_batch_is_full(out)) {
        if (w->half) {
            int rc = emit_row(w, out, SLUICE_ROW_UPDATE_AFTER, SL_NO_EVENT_TIME,
                              1, 1 + n_keys + n_aggs, err);
            if (rc)
                return rc;
            w->half = false;
            continue;
        }
        int s = sqlite3_step(w->emit);
        if (s == SQLITE_DONE) {
            int rc = end_emission(w, err);
            if (rc)
                return rc;
            break;
        }
        if (s != SQLITE_ROW) {
            int rc = db_err(w, err, "emit");
            sqlite3_reset(w->emit);
            w->emitting = false;
            return rc;
        }
        int rc;
        if (w->def.updating) {
            /* existed, k.., old f.., new f.., nrows */
            int old0 = 1 + n_keys, new0 = 1 + n_keys + n_aggs;
            if (sqlite3_column_int64(w->emit, new0 + n_aggs) <= 0) {
                /* every row of the group was retracted */
                if (!sqlite3_column_int(w->emit, 0))
                    continue;
                rc = emit_row(w, out, SLUICE_ROW_DELETE, SL_NO_EVENT_TIME, 1,
                              old0, err);
            } else if (sqlite3_column_int(w->emit, 0)) {
                bool same = true;
                for (int i = 0; i < n_aggs && same; i++)
                    same = same_value(w->emit, old0 + i, new0 + i);
                if (same)
                    continue;
                rc = emit_row(w, out, SLUICE_ROW_UPDATE_BEFORE,
                              SL_NO_EVENT_TIME, 1, old0, err);
                w->half = true; /* +U next, from the same row */
            } else {
                rc = emit_row(w, out, SLUICE_ROW_INSERT, SL_NO_EVENT_TIME, 1,
                              new0, err);
            }
        } else {
            int64_t we = sqlite3_column_int64(w->emit, 0);
            rc =
                emit_row(w, out, SLUICE_ROW_INSERT, we - 1, 1, 1 + n_keys, err);
        }
        if (rc)
            return rc;
    }
    if (w->emitting ||
        (!w->def.updating && w->fire_wm > w->fired_wm &&
         w->min_we != INT64_MAX && w->fire_wm >= w->min_we - 1) ||
        (w->def.updating && w->prev_pending))
        *status = SL_OP_READY;
    else if (w->finished)
        *status = SL_OP_DRAINED;
    return SL_OK;
}

static int wop_on_watermark(sl_operator *op, int64_t watermark_ms, sl_err *err)
{
    SL_UNUSED(err);
    wop *w = (wop *)op;
    if (watermark_ms <= w->wm)
        return SL_OK;
    w->wm = watermark_ms;
    if (!w->def.updating)
        w->fire_wm = watermark_ms;
    return SL_OK;
}

static int wop_finish(sl_operator *op, sl_err *err)
{
    wop *w = (wop *)op;
    w->finished = true;
    if (!w->def.updating)
        w->fire_wm = INT64_MAX;
    return w->late_sink ? sl_late_sink_flush(w->late_sink, true, err) : SL_OK;
}

static int64_t wop_buffered(sl_operator *op)
{
    wop *w = (wop *)op;
    if (w->def.updating)
        return w->prev_pending ? 1 : 0;
    return w->absorbed;
}

static int64_t wop_dropped(sl_operator *op)
{
    return ((wop *)op)->late;
}

/* Windows emitted so far cover up to fired_wm; with nothing due, every
 * window ending at or before the watermark is out. */
static int64_t wop_watermark_out(sl_operator *op)
{
    wop *w = (wop *)op;
    if (w->def.updating)
        return SL_NO_EVENT_TIME;
    bool due = w->fire_wm > w->fired_wm && w->min_we != INT64_MAX &&
               w->fire_wm >= w->min_we - 1;
    return w->emitting || due ? w->fired_wm : w->wm;
}

/* ---- checkpoints: snapshot() and restore() ------------------------------
 *
 * The partials go into the job's state database (inside the checkpoint's
 * transaction; the job takes it aligned, operator.h unsaved, so they
 * reflect exactly the rows before the recorded source positions; prev,
 * updating mode, is empty then):
 *
 *   <prefix>acc(seq INTEGER PRIMARY KEY, live, <acc's columns>)
 *       a log of acc rows: each snapshot appends the current row of every
 *       (window, group) that changed (live = 1) or went away, emitted or
 *       expired (live = 0); the latest entry per key wins. Appending
 *       touches only new pages, so the pages a checkpoint changes, and the
 *       WAL bytes uploaded to a store, track the change, not the state.
 *       When the log outgrows twice the live rows it is rewritten.
 *   <prefix>buf(rid INTEGER PRIMARY KEY, <buf's columns>)
 *       buf's rows by their rowid (kept on restore: LISTAGG order).
 *   <prefix>meta(k, v)
 *       version, layout, watermarks, late count, log sizes.
 *
 * What changed comes from a tracker on the operator's database
 * (ckpt_track.h: SQLite's pre-update hook, one hash-set probe per row
 * written). The first snapshot of a process (or after the tracker
 * overflowed) writes everything; a restore replays the log. */

#define CK_VERSION   1
#define CK_LOG_SLACK 1000 /* log rows allowed beyond 2x the live rows */

static int ck_err(sqlite3 *db, sl_err *err, const char *what)
{
    return sl_err_set(err, SL_IO, "aggregate checkpoint: %s: %s", what,
                      sqlite3_errmsg(db));
}

static int ck_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st,
                      sl_err *err)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
        return sl_err_set(err, SL_IO, "aggregate checkpoint: %s (SQL: %s)",
                          sqlite3_errmsg(db), sql);
    return SL_OK;
}

static int ck_exec(sqlite3 *db, const char *sql, sl_err *err)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return ck_err(db, err, sql);
    return SL_OK;
}

/* The CREATE TABLE text of the operator's table name ("acc", "buf") and
 * its column names, quoted and comma separated. */
static int ck_layout(wop *w, const char *name, sl_buf *sql, sl_buf *cols,
                     sl_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = ck_prepare(w->db,
                        "SELECT sql FROM main.sqlite_master WHERE type = "
                        "'table' AND name = ?1",
                        &st, err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        sl_buf_puts(sql, (const char *)sqlite3_column_text(st, 0));
    else
        rc = ck_err(w->db, err, "table layout");
    sqlite3_finalize(st);
    st = NULL;
    char q[64];
    sl_snprintf(q, sizeof(q), "SELECT * FROM main.%s LIMIT 0", name);
    if (!rc)
        rc = ck_prepare(w->db, q, &st, err);
    for (int i = 0; !rc && i < sqlite3_column_count(st); i++) {
        const char *c = sqlite3_column_name(st, i);
        sl_buf_printf(cols, "%s\"%s\"", i ? ", " : "", c ? c : "");
    }
    sqlite3_finalize(st);
    if (!rc && (sql->rc || cols->rc))
        rc = sl_err_set(err, SL_NOMEM, "out of memory");
    return rc;
}

typedef struct ck_ctx {
    wop *w;
    sqlite3 *state;
    char acc[64], buf[64]; /* state table names */
    sl_buf acc_sql, acc_cols, buf_sql, buf_cols, layout;
    sqlite3_stmt *sel, *ins, *tomb, *del;
    int64_t rows; /* written */
    sl_err *err;
} ck_ctx;

static int ck_ctx_init(ck_ctx *c, wop *w, sqlite3 *state, const char *prefix,
                       sl_err *err)
{
    memset(c, 0, sizeof(*c));
    c->w = w;
    c->state = state;
    c->err = err;
    sl_snprintf(c->acc, sizeof(c->acc), "%sacc", prefix);
    sl_snprintf(c->buf, sizeof(c->buf), "%sbuf", prefix);
    sl_buf_init(&c->acc_sql, 1u << 20);
    sl_buf_init(&c->acc_cols, 1u << 20);
    sl_buf_init(&c->buf_sql, 1u << 20);
    sl_buf_init(&c->buf_cols, 1u << 20);
    sl_buf_init(&c->layout, 1u << 22);
    int rc = ck_layout(w, "acc", &c->acc_sql, &c->acc_cols, err);
    if (!rc)
        rc = ck_layout(w, "buf", &c->buf_sql, &c->buf_cols, err);
    if (!rc &&
        sl_buf_printf(&c->layout, "%s;%s;%d;%lld", sl_buf_cstr(&c->acc_sql),
                      sl_buf_cstr(&c->buf_sql), w->def.updating ? 1 : 0,
                      (long long)w->def.session_gap_ms))
        rc = sl_err_set(err, SL_NOMEM, "out of memory");
    return rc;
}

static void ck_ctx_stmts_free(ck_ctx *c)
{
    sqlite3_stmt *all[] = {c->sel, c->ins, c->tomb, c->del};
    for (size_t i = 0; i < SL_ARRAY_LEN(all); i++)
        sqlite3_finalize(all[i]);
    c->sel = c->ins = c->tomb = c->del = NULL;
}

static void ck_ctx_free(ck_ctx *c)
{
    ck_ctx_stmts_free(c);
    sl_buf_free(&c->acc_sql);
    sl_buf_free(&c->acc_cols);
    sl_buf_free(&c->buf_sql);
    sl_buf_free(&c->buf_cols);
    sl_buf_free(&c->layout);
}

/* Prepare on db: fmt with the placeholders "?, ..." for n values. */
static int ck_prepare_n(sqlite3 *db, int n, sqlite3_stmt **st, sl_err *err,
                        const char *fmt, ...) SL_PRINTF(5, 6);
static int ck_prepare_n(sqlite3 *db, int n, sqlite3_stmt **st, sl_err *err,
                        const char *fmt, ...)
{
    sl_buf b;
    sl_buf_init(&b, 1u << 22);
    va_list ap;
    va_start(ap, fmt);
    sl_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    sl_buf_puts(&b, " VALUES(");
    for (int i = 0; i < n; i++)
        sl_buf_puts(&b, i ? ", ?" : "?");
    sl_buf_puts(&b, ")");
    int rc = b.rc ? sl_err_set(err, SL_NOMEM, "out of memory")
                  : ck_prepare(db, sl_buf_cstr(&b), st, err);
    sl_buf_free(&b);
    return rc;
}

/* Step `to` once per row of `from`, binding from's columns (from `skip`
 * on) to to's parameters 1... */
static int ck_copy(ck_ctx *c, sqlite3_stmt *from, int skip, sqlite3_stmt *to,
                   sqlite3 *to_db)
{
    int s;
    while ((s = sqlite3_step(from)) == SQLITE_ROW) {
        int nc = sqlite3_column_count(from);
        for (int i = skip; i < nc; i++)
            sqlite3_bind_value(to, i - skip + 1, sqlite3_column_value(from, i));
        int t = sqlite3_step(to);
        sqlite3_reset(to);
        if (t != SQLITE_DONE)
            return ck_err(to_db, c->err, "copy");
        c->rows++;
    }
    if (s != SQLITE_DONE)
        return ck_err(sqlite3_db_handle(from), c->err, "read");
    return SL_OK;
}

static int ck_meta_put(ck_ctx *c, const char *prefix, const char *k, int64_t iv,
                       const char *tv)
{
    char sql[128];
    sl_snprintf(sql, sizeof(sql),
                "INSERT OR REPLACE INTO \"%smeta\"(k, v) VALUES(?1, ?2)",
                prefix);
    sqlite3_stmt *s = NULL;
    int rc = ck_prepare(c->state, sql, &s, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, k, -1, SQLITE_STATIC);
    if (tv)
        sqlite3_bind_text(s, 2, tv, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(s, 2, iv);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = ck_err(c->state, c->err, "meta");
    sqlite3_finalize(s);
    return rc;
}

/* *found false when the key is absent. */
static int ck_meta_get(ck_ctx *c, const char *prefix, const char *k,
                       int64_t *iv, sl_buf *tv, bool *found)
{
    char sql[128];
    sl_snprintf(sql, sizeof(sql), "SELECT v FROM \"%smeta\" WHERE k = ?1",
                prefix);
    sqlite3_stmt *s = NULL;
    int rc = ck_prepare(c->state, sql, &s, c->err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, k, -1, SQLITE_STATIC);
    *found = false;
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *found = true;
        if (iv)
            *iv = sqlite3_column_int64(s, 0);
        if (tv && sqlite3_column_text(s, 0))
            sl_buf_puts(tv, (const char *)sqlite3_column_text(s, 0));
    } else if (r != SQLITE_DONE) {
        rc = ck_err(c->state, c->err, "meta");
    }
    sqlite3_finalize(s);
    return rc;
}

/* Everything: the log restarts with one live entry per acc row. */
static int ck_write_all(ck_ctx *c)
{
    char sql[256];
    sl_snprintf(sql, sizeof(sql), "DELETE FROM \"%s\"; DELETE FROM \"%s\"",
                c->acc, c->buf);
    int rc = ck_exec(c->state, sql, c->err);
    if (!rc)
        rc = ck_prepare(c->w->db, "SELECT 1, * FROM main.acc", &c->sel, c->err);
    if (!rc)
        rc = ck_prepare_n(c->state, sqlite3_column_count(c->sel), &c->ins,
                          c->err, "INSERT INTO \"%s\"(live, %s)", c->acc,
                          sl_buf_cstr(&c->acc_cols));
    if (!rc)
        rc = ck_copy(c, c->sel, 0, c->ins, c->state);
    ck_ctx_stmts_free(c);
    if (!rc)
        rc = ck_prepare(c->w->db, "SELECT rowid, * FROM main.buf", &c->sel,
                        c->err);
    if (!rc)
        rc = ck_prepare_n(c->state, sqlite3_column_count(c->sel), &c->ins,
                          c->err, "INSERT INTO \"%s\"(rid, %s)", c->buf,
                          sl_buf_cstr(&c->buf_cols));
    if (!rc)
        rc = ck_copy(c, c->sel, 0, c->ins, c->state);
    ck_ctx_stmts_free(c);
    return rc;
}

static int ck_key_cb(void *ctx, int64_t ws, int64_t we, const void *gk, int len)
{
    ck_ctx *c = ctx;
    sqlite3_bind_int64(c->sel, 1, ws);
    sqlite3_bind_int64(c->sel, 2, we);
    sqlite3_bind_blob(c->sel, 3, gk ? gk : "", len, SQLITE_STATIC);
    int64_t before = c->rows;
    int rc = ck_copy(c, c->sel, 0, c->ins, c->state);
    sqlite3_reset(c->sel);
    if (!rc && c->rows == before) { /* gone: a tombstone */
        sqlite3_bind_int64(c->tomb, 1, ws);
        sqlite3_bind_int64(c->tomb, 2, we);
        sqlite3_bind_blob(c->tomb, 3, gk ? gk : "", len, SQLITE_STATIC);
        if (sqlite3_step(c->tomb) != SQLITE_DONE)
            rc = ck_err(c->state, c->err, "log");
        sqlite3_reset(c->tomb);
        c->rows++;
    }
    return rc;
}

static int ck_rid_del_cb(void *ctx, int64_t rid, int64_t unused,
                         const void *key, int len)
{
    SL_UNUSED(unused);
    SL_UNUSED(key);
    SL_UNUSED(len);
    ck_ctx *c = ctx;
    sqlite3_bind_int64(c->del, 1, rid);
    int s = sqlite3_step(c->del);
    sqlite3_reset(c->del);
    c->rows++;
    return s == SQLITE_DONE ? SL_OK : ck_err(c->state, c->err, "delete");
}

static int ck_rid_new_cb(void *ctx, int64_t rid, int64_t unused,
                         const void *key, int len)
{
    SL_UNUSED(unused);
    SL_UNUSED(key);
    SL_UNUSED(len);
    ck_ctx *c = ctx;
    sqlite3_bind_int64(c->sel, 1, rid);
    int rc = ck_copy(c, c->sel, 0, c->ins, c->state);
    sqlite3_reset(c->sel);
    return rc;
}

/* The changes the tracker recorded. */
static int ck_write_changes(ck_ctx *c)
{
    sl_ckpt_track *t = c->w->ck_trk;
    int rc = ck_prepare(c->w->db,
                        "SELECT 1, * FROM main.acc WHERE ws = ?1 AND we = ?2 "
                        "AND gk = ?3",
                        &c->sel, c->err);
    if (!rc)
        rc = ck_prepare_n(c->state, sqlite3_column_count(c->sel), &c->ins,
                          c->err, "INSERT INTO \"%s\"(live, %s)", c->acc,
                          sl_buf_cstr(&c->acc_cols));
    char tomb[128];
    sl_snprintf(tomb, sizeof(tomb),
                "INSERT INTO \"%s\"(live, ws, we, gk) VALUES(0, ?1, ?2, ?3)",
                c->acc);
    if (!rc)
        rc = ck_prepare(c->state, tomb, &c->tomb, c->err);
    if (!rc)
        rc = sl_ckpt_track_each(t, SL_TRACK_KEYS, ck_key_cb, c);
    ck_ctx_stmts_free(c);
    char sql[128];
    sl_snprintf(sql, sizeof(sql), "DELETE FROM \"%s\" WHERE rid = ?1", c->buf);
    if (!rc)
        rc = ck_prepare(c->state, sql, &c->del, c->err);
    if (!rc)
        rc = sl_ckpt_track_each(t, SL_TRACK_DELETED, ck_rid_del_cb, c);
    if (!rc)
        rc = ck_prepare(c->w->db,
                        "SELECT rowid, * FROM main.buf WHERE rowid "
                        "= ?1",
                        &c->sel, c->err);
    if (!rc)
        rc = ck_prepare_n(c->state, sqlite3_column_count(c->sel), &c->ins,
                          c->err, "INSERT OR REPLACE INTO \"%s\"(rid, %s)",
                          c->buf, sl_buf_cstr(&c->buf_cols));
    if (!rc)
        rc = sl_ckpt_track_each(t, SL_TRACK_INSERTED, ck_rid_new_cb, c);
    ck_ctx_stmts_free(c);
    return rc;
}

static int ck_tables(ck_ctx *c, const char *prefix)
{
    sl_buf b;
    sl_buf_init(&b, 1u << 22);
    sl_buf_printf(&b,
                  "CREATE TABLE IF NOT EXISTS \"%smeta\"(k TEXT PRIMARY KEY, "
                  "v);"
                  "CREATE TABLE IF NOT EXISTS \"%s\"(seq INTEGER PRIMARY KEY, "
                  "live INTEGER NOT NULL, %s);"
                  "CREATE TABLE IF NOT EXISTS \"%s\"(rid INTEGER PRIMARY KEY, "
                  "%s);",
                  prefix, c->acc, sl_buf_cstr(&c->acc_cols), c->buf,
                  sl_buf_cstr(&c->buf_cols));
    int rc = b.rc ? sl_err_set(c->err, SL_NOMEM, "out of memory")
                  : ck_exec(c->state, sl_buf_cstr(&b), c->err);
    sl_buf_free(&b);
    return rc;
}

static int wop_snapshot(sl_operator *op, sqlite3 *state, const char *prefix,
                        sl_err *err)
{
    wop *w = (wop *)op;
    if (w->emitting || w->prev_pending)
        return sl_err_set(err, SL_ERROR,
                          "internal: aggregate snapshot during an emission");
    ck_ctx c;
    int rc = ck_ctx_init(&c, w, state, prefix, err);
    sl_buf old;
    sl_buf_init(&old, 1u << 22);
    bool found = false;
    if (!rc)
        rc = ck_tables(&c, prefix);
    if (!rc)
        rc = ck_meta_get(&c, prefix, "layout", NULL, &old, &found);
    bool all = !w->ck_trk || sl_ckpt_track_overflowed(w->ck_trk);
    if (!rc && found && strcmp(sl_buf_cstr(&old), sl_buf_cstr(&c.layout))) {
        /* another query's state under this prefix: replace it */
        sl_buf d;
        sl_buf_init(&d, 1024);
        sl_buf_printf(&d, "DROP TABLE \"%s\"; DROP TABLE \"%s\"", c.acc, c.buf);
        rc = ck_exec(state, sl_buf_cstr(&d), err);
        sl_buf_free(&d);
        if (!rc)
            rc = ck_tables(&c, prefix);
        all = true;
    }
    int64_t log_rows = 0, live_rows = 0;
    if (!rc && !all)
        rc = ck_meta_get(&c, prefix, "log_rows", &log_rows, NULL, &found);
    if (!rc && !all)
        rc = ck_meta_get(&c, prefix, "live_rows", &live_rows, NULL, &found);
    if (!rc && !all &&
        log_rows + sl_ckpt_track_count(w->ck_trk, SL_TRACK_KEYS) >
            2 * live_rows + CK_LOG_SLACK)
        all = true; /* compaction: rewrite the log */
    if (!rc && all) {
        rc = ck_write_all(&c);
        log_rows = live_rows = c.rows;
    } else if (!rc) {
        rc = ck_write_changes(&c);
        log_rows += c.rows;
    }
    if (!rc && !w->ck_trk)
        rc = sl_ckpt_track_new(w->db, "acc", "buf", &w->ck_trk, err);
    else if (!rc)
        sl_ckpt_track_clear(w->ck_trk);
    w->ck_rows_written = c.rows;
    /* finish() fires everything (INT64_MAX); a job resumed after the end
     * of a bounded input goes on from the watermark */
    struct {
        const char *k;
        int64_t v;
    } meta[] = {{"version", CK_VERSION},
                {"wm", w->wm},
                {"fire_wm", SL_MIN(w->fire_wm, w->wm)},
                {"fired_wm", SL_MIN(w->fired_wm, w->wm)},
                {"late", w->late},
                {"log_rows", log_rows},
                {"live_rows", live_rows}};
    for (size_t i = 0; i < SL_ARRAY_LEN(meta) && !rc; i++)
        rc = ck_meta_put(&c, prefix, meta[i].k, meta[i].v, NULL);
    if (!rc)
        rc = ck_meta_put(&c, prefix, "layout", 0, sl_buf_cstr(&c.layout));
    if (rc && w->ck_trk) { /* the next snapshot rewrites everything */
        sl_ckpt_track_free(w->ck_trk);
        w->ck_trk = NULL;
    }
    ck_ctx_free(&c);
    sl_buf_free(&old);
    return rc;
}

static int wop_restore(sl_operator *op, sqlite3 *state, const char *prefix,
                       sl_err *err)
{
    wop *w = (wop *)op;
    ck_ctx c;
    int rc = ck_ctx_init(&c, w, state, prefix, err);
    sl_buf old;
    sl_buf_init(&old, 1u << 22);
    char sql[160];
    sqlite3_stmt *st = NULL;
    sl_snprintf(sql, sizeof(sql),
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                "name = '%smeta'",
                prefix);
    if (!rc)
        rc = ck_prepare(state, sql, &st, err);
    bool have =
        !rc && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    bool found = false;
    int64_t version = 0;
    if (!rc && have)
        rc = ck_meta_get(&c, prefix, "version", &version, NULL, &found);
    if (!rc && have && (!found || version != CK_VERSION))
        rc = sl_err_set(err, SL_UNSUPPORTED,
                        "aggregate checkpoint: state version %lld is not "
                        "%d; use a new 'pipeline.name' or an empty "
                        "'state.dir'",
                        (long long)version, CK_VERSION);
    if (!rc && have)
        rc = ck_meta_get(&c, prefix, "layout", NULL, &old, &found);
    if (!rc && have && strcmp(sl_buf_cstr(&old), sl_buf_cstr(&c.layout)))
        rc = sl_err_set(err, SL_UNSUPPORTED,
                        "aggregate checkpoint: the checkpoint holds the state "
                        "of a different aggregate (the query changed); use a "
                        "new 'pipeline.name' or an empty 'state.dir'");
    if (!rc && have)
        rc = exec(w, "BEGIN", err);
    /* acc: replay the log (the latest entry per key wins) */
    sqlite3_stmt *log = NULL, *put = NULL, *del = NULL;
    sl_buf q;
    sl_buf_init(&q, 1u << 22);
    sl_buf_printf(&q, "SELECT live, %s FROM \"%s\" ORDER BY seq",
                  sl_buf_cstr(&c.acc_cols), c.acc);
    if (!rc && have)
        rc = ck_prepare(state, sl_buf_cstr(&q), &log, err);
    if (!rc && have)
        rc = ck_prepare_n(w->db, sqlite3_column_count(log) - 1, &put, err,
                          "INSERT OR REPLACE INTO main.acc(%s)",
                          sl_buf_cstr(&c.acc_cols));
    if (!rc && have)
        rc = ck_prepare(w->db,
                        "DELETE FROM main.acc WHERE ws = ?1 AND we = ?2 AND "
                        "gk = ?3",
                        &del, err);
    int s = SQLITE_DONE;
    while (!rc && have && (s = sqlite3_step(log)) == SQLITE_ROW) {
        bool live = sqlite3_column_int(log, 0) != 0;
        sqlite3_stmt *to = live ? put : del;
        int n = live ? sqlite3_column_count(log) - 1 : 3;
        for (int i = 0; i < n; i++)
            sqlite3_bind_value(to, i + 1, sqlite3_column_value(log, i + 1));
        if (sqlite3_step(to) != SQLITE_DONE)
            rc = ck_err(w->db, err, "restore");
        sqlite3_reset(to);
    }
    if (!rc && have && s != SQLITE_DONE)
        rc = ck_err(state, err, "restore");
    sqlite3_finalize(log);
    sqlite3_finalize(put);
    sqlite3_finalize(del);
    /* buf: its rows with their rowids */
    sl_buf_reset(&q);
    sl_buf_printf(&q, "SELECT rid, %s FROM \"%s\" ORDER BY rid",
                  sl_buf_cstr(&c.buf_cols), c.buf);
    if (!rc && have)
        rc = ck_prepare(state, sl_buf_cstr(&q), &c.sel, err);
    if (!rc && have)
        rc = ck_prepare_n(w->db, sqlite3_column_count(c.sel), &c.ins, err,
                          "INSERT INTO main.buf(rowid, %s)",
                          sl_buf_cstr(&c.buf_cols));
    if (!rc && have)
        rc = ck_copy(&c, c.sel, 0, c.ins, w->db);
    ck_ctx_stmts_free(&c);
    sl_buf_free(&q);
    if (have && !rc)
        rc = exec(w, "COMMIT", err);
    else if (have)
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
    int64_t *vals[] = {&w->wm, &w->fire_wm, &w->fired_wm, &w->late};
    const char *keys[] = {"wm", "fire_wm", "fired_wm", "late"};
    for (size_t i = 0; i < SL_ARRAY_LEN(keys) && !rc && have; i++)
        rc = ck_meta_get(&c, prefix, keys[i], vals[i], NULL, &found);
    if (!rc && have && !w->def.updating) {
        w->min_we = INT64_MAX;
        if (sqlite3_step(w->min_we_q) == SQLITE_ROW &&
            sqlite3_column_type(w->min_we_q, 0) != SQLITE_NULL)
            w->min_we = sqlite3_column_int64(w->min_we_q, 0);
        sqlite3_reset(w->min_we_q);
        w->absorbed = w->min_we != INT64_MAX ? 1 : 0;
    }
    /* the state database now holds what we hold: track changes from here */
    if (!rc && have && !w->ck_trk)
        rc = sl_ckpt_track_new(w->db, "acc", "buf", &w->ck_trk, err);
    ck_ctx_free(&c);
    sl_buf_free(&old);
    return rc;
}

/* An emission half done cannot be snapshotted exactly (operator.h). */
static int64_t wop_unsaved(sl_operator *op)
{
    wop *w = (wop *)op;
    return w->emitting || w->prev_pending ? 1 : 0;
}

static const sl_operator_ops wop_ops = {
    .version = SL_OPERATOR_VERSION,
    .name = "window_agg",
    .push = wop_push,
    .pull = wop_pull,
    .on_watermark = wop_on_watermark,
    .finish = wop_finish,
    .buffered = wop_buffered,
    .close = wop_close,
    .dropped = wop_dropped,
    .watermark_out = wop_watermark_out,
    .snapshot = wop_snapshot,
    .restore = wop_restore,
    .unsaved = wop_unsaved,
};

bool sl_window_op_is(const sl_operator *op)
{
    return op && op->ops == &wop_ops;
}

int sl_window_op_new(const sl_schema *in_schema, const sl_schema *out_schema,
                     const sl_window_op_def *def, sl_operator **op, sl_err *err)
{
    *op = NULL;
    if (def->n_keys < 0 || def->n_aggs < 0 ||
        def->n_keys + def->n_aggs != out_schema->n_cols ||
        def->n_keys > in_schema->n_cols)
        return sl_err_set(err, SL_MISUSE, "window operator: bad definition");
    for (int i = 0; i < def->n_aggs; i++)
        if (def->aggs[i].arg >= in_schema->n_cols ||
            (def->aggs[i].arg < 0 && def->aggs[i].kind != SL_AGG_COUNT_STAR))
            return sl_err_set(err, SL_MISUSE,
                              "window operator: bad aggregate argument");
    for (int i = 0; i < def->n_aggs; i++)
        if (def->aggs[i].freq < 0 || def->aggs[i].freq > in_schema->n_cols ||
            (def->aggs[i].freq && def->aggs[i].kind != SL_AGG_PERCENTILE))
            return sl_err_set(err, SL_MISUSE,
                              "window operator: bad frequency argument");
    if (!def->updating && (def->ws_col < 0 || def->ws_col >= def->n_keys ||
                           def->we_col < 0 || def->we_col >= def->n_keys))
        return sl_err_set(err, SL_MISUSE,
                          "window operator: window columns missing");
    wop *w = sl_calloc(1, sizeof(*w));
    if (!w)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    w->base.ops = &wop_ops;
    w->base.in_schema = in_schema;
    w->base.out_schema = out_schema;
    w->def = *def;
    if (def->updating)
        w->def.ws_col = w->def.we_col = -1;
    w->wm = INT64_MIN;
    w->fire_wm = INT64_MIN;
    w->fired_wm = INT64_MIN;
    w->min_we = INT64_MAX;
    sl_buf_init(&w->key, 16u << 20);
    size_t na = (size_t)(def->n_aggs ? def->n_aggs : 1);
    w->aggs = sl_calloc(na, sizeof(*w->aggs));
    w->agg_param = sl_calloc(na, sizeof(int));
    if (!w->aggs || !w->agg_param) {
        wop_close(&w->base);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    for (int i = 0; i < def->n_aggs; i++) {
        w->aggs[i] = def->aggs[i];
        w->aggs[i].sep = def->aggs[i].sep ? sl_strdup(def->aggs[i].sep) : NULL;
        w->aggs[i].pct = def->aggs[i].pct ? sl_strdup(def->aggs[i].pct) : NULL;
    }
    w->def.aggs = w->aggs;
    for (int i = 0; i < def->n_aggs; i++)
        w->buf_f = w->buf_f || (def->aggs[i].kind == SL_AGG_PERCENTILE &&
                                def->aggs[i].freq > 0);
    const char *path = def->db_path ? def->db_path : "";
    if (sqlite3_open_v2(path, &w->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        int rc = sl_err_set(err, SL_IO, "cannot open the state database: %s",
                            w->db ? sqlite3_errmsg(w->db) : "out of memory");
        wop_close(&w->base);
        return rc;
    }
    int rc = exec(w,
                  "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                  "PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY",
                  err);
    if (!rc)
        rc = sl_fn_aggregates_register(w->db, err);
    if (!rc)
        rc = build_sql(w, err);
    if (!rc)
        rc = build_upsert_part(w, err);
    if (!rc && def->updating)
        rc = build_retract(w, err);
    if (rc) {
        wop_close(&w->base);
        return rc;
    }
    *op = &w->base;
    return SL_OK;
}

void sl_window_op_stats_get(sl_operator *op, sl_window_op_stats *stats)
{
    memset(stats, 0, sizeof(*stats));
    if (!sl_window_op_is(op))
        return;
    wop *w = (wop *)op;
    stats->late_rows = w->late;
    stats->watermark_ms = w->wm;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db, "SELECT count(*) FROM acc", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        stats->state_rows = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(w->db,
                           "SELECT page_count * page_size FROM "
                           "pragma_page_count(), pragma_page_size()",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        stats->state_bytes = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
}

int sl_window_op_set_late_sink(sl_operator *op, sl_late_sink *ls)
{
    if (!sl_window_op_is(op) || ((wop *)op)->def.updating) {
        sl_late_sink_free(ls);
        return SL_MISUSE;
    }
    wop *w = (wop *)op;
    sl_late_sink_free(w->late_sink);
    w->late_sink = ls;
    return SL_OK;
}

int64_t sl_window_op_peak_state_bytes(bool reset)
{
    return reset ? atomic_exchange(&peak_state_bytes, 0)
                 : atomic_load(&peak_state_bytes);
}
