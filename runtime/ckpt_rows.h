/*
 * ckpt_rows.h: checkpoints of an operator whose state is one rowid table
 * in its own SQLite database plus a few integers (watermarks, counters):
 * the OVER aggregate (op_over.c) and window Top-N / deduplication
 * (op_rank.c). Their rows are only ever inserted and deleted, never
 * updated, so a snapshot is incremental: a change tracker on the
 * operator's database (ckpt_track.h, SQLite's pre-update hook) records
 * the rowids inserted and deleted since the last snapshot, and snapshot()
 * applies just those to a copy of the table in the job's state database:
 *
 *   <prefix>rows(rid INTEGER PRIMARY KEY, <the table's columns>)
 *       every row the operator holds, under its own rowid (kept on a
 *       restore: it breaks ties in arrival order);
 *   <prefix>meta(k TEXT PRIMARY KEY, v)
 *       "version" (the caller's layout version), "layout" (the table's
 *       CREATE TABLE text and the caller's definition text: a different
 *       query is refused on restore), and the operator's event-time clock
 *       (sl_ckpt_clock, one row per field).
 *
 * The first snapshot of a process (no tracker yet, or it overflowed, or the
 * prefix held another layout) copies the whole table. Rows written per
 * snapshot are therefore bounded by the rows the operator took in and
 * dropped since the previous one, not by its state.
 */
#ifndef SL_CKPT_ROWS_H
#define SL_CKPT_ROWS_H

#include <sqlite3.h>

#include "util.h"

typedef struct sl_ckpt_rows sl_ckpt_rows;

/* The event-time clock both operators keep beside their rows. */
typedef struct sl_ckpt_clock {
    int64_t wm;       /* the watermark taken in */
    int64_t fire_wm;  /* up to where emission is due */
    int64_t fired_wm; /* up to where rows were emitted */
    int64_t late;     /* rows dropped behind the watermark */
} sl_ckpt_clock;

/* db: the operator's database; table: its rowid table; what: the operator
 * for messages ("over aggregate"); version: the layout version the caller
 * writes and accepts. Nothing is tracked until the first snapshot or
 * restore. */
int sl_ckpt_rows_new(sqlite3 *db, const char *table, const char *what,
                     int version, sl_ckpt_rows **out, sl_err *err);
/* NULL is fine. */
void sl_ckpt_rows_free(sl_ckpt_rows *c);

/* Write the table's changes (or all of it) and clock under prefix, inside
 * the caller's transaction on state. layout: the caller's definition (what
 * a restore must match). On failure the next snapshot copies everything. */
int sl_ckpt_rows_snapshot(sl_ckpt_rows *c, sqlite3 *state, const char *prefix,
                          const char *layout, const sl_ckpt_clock *clock,
                          sl_err *err);

/* Read the table and *clock back (the table must be empty). *found false:
 * prefix holds no snapshot (first start); nothing changed. A snapshot of
 * another version or layout: SL_UNSUPPORTED with a message. */
int sl_ckpt_rows_restore(sl_ckpt_rows *c, sqlite3 *state, const char *prefix,
                         const char *layout, sl_ckpt_clock *clock, bool *found,
                         sl_err *err);

/* Rows the last snapshot wrote or deleted in the state database. */
int64_t sl_ckpt_rows_written(const sl_ckpt_rows *c);

#endif
