/*
 * watermark.h: per-source watermark tracking for event time.
 *
 * A source with a WATERMARK clause has a time stage that computes, per
 * row, its rowtime (the row's event time) and a watermark candidate (the
 * WATERMARK expression). The job notes each candidate under the row's
 * split (Kafka partition, file); a split's watermark is the largest
 * candidate it produced, the source's is the smallest over its splits,
 * and splits that produced nothing for the idle timeout do not count, so
 * a quiet partition does not stall windows. The job's watermark is the
 * minimum over its sources (DESIGN.md section 6).
 */
#ifndef SL_WATERMARK_H
#define SL_WATERMARK_H

#include <sqlite3.h>

#include "batch.h"

#define SL_WM_MAX_SPLITS 65536

typedef struct sl_wm_split {
    int32_t split;
    int64_t wm;      /* largest candidate seen; SL_NO_EVENT_TIME: none */
    int64_t last_ms; /* monotonic ms of its last row */
} sl_wm_split;

typedef struct sl_wm_tracker {
    sl_wm_split *splits;
    int n, cap;
    int64_t idle_ms;    /* 0: splits never go idle */
    int64_t created_ms; /* monotonic */
} sl_wm_tracker;

void sl_wm_init(sl_wm_tracker *t, int64_t idle_ms, int64_t now_ms);
void sl_wm_free(sl_wm_tracker *t);
/* Note a watermark candidate of a row of split. SL_LIMIT past
 * SL_WM_MAX_SPLITS splits, SL_NOMEM. */
int sl_wm_note(sl_wm_tracker *t, int32_t split, int64_t wm, int64_t now_ms);
/* Make a split known before its first row (the source's splits()): it
 * holds the watermark back (no watermark yet) until it produces rows or
 * goes idle. No-op for a known split. SL_LIMIT, SL_NOMEM as sl_wm_note. */
int sl_wm_register(sl_wm_tracker *t, int32_t split, int64_t now_ms);
/* The source's watermark now: the minimum over active splits
 * (SL_NO_EVENT_TIME while an active split has none); *idle true when every
 * split (or the source, having seen none) is idle. */
int64_t sl_wm_current(const sl_wm_tracker *t, int64_t now_ms, bool *idle);

/* CURRENT_WATERMARK(ts) in SQL: register the SQLite function
 * sl_current_watermark() on db. It returns the value of a cell (epoch ms,
 * NULL while it holds SL_NO_EVENT_TIME) that the job running the
 * connection's stages updates whenever it delivers a watermark
 * (sl_job_spec.watermark_cell). The cell belongs to the connection (freed
 * when it closes); *cell receives it. Not deterministic: evaluated per
 * row. Only the thread running the connection reads and writes it. */
int sl_wm_sql_register(sqlite3 *db, int64_t **cell, sl_err *err);

#endif
