/*
 * ckpt_track.h: change tracking for incremental operator snapshots
 * (issue 9). An operator that keeps its state in its own SQLite database
 * attaches a tracker to it; SQLite's pre-update hook then records, for
 * every row written to a tracked table of the "main" schema:
 *
 *   keyed tables (e.g. acc, WITHOUT ROWID, key = its first columns: two
 *   integers and a blob): the key of each inserted, updated or deleted row
 *   (old and new key of an update);
 *   rowid tables (e.g. buf): the rowids inserted and the rowids deleted.
 *
 * snapshot() then rewrites only those rows in the job's state database and
 * clears the tracker. The sets are deduplicated and bounded; past the bound
 * the tracker reports overflow and the next snapshot must copy everything.
 * The hook costs one hash-set probe per written row (no SQL).
 */
#ifndef SL_CKPT_TRACK_H
#define SL_CKPT_TRACK_H

#include <sqlite3.h>

#include "util.h"

#define SL_TRACK_MAX_ENTRIES (4 << 20)    /* per set */
#define SL_TRACK_MAX_BYTES   (256u << 20) /* of keyed-table key blobs */

typedef struct sl_ckpt_track sl_ckpt_track;

typedef enum sl_track_set {
    SL_TRACK_KEYS = 0, /* keys of keyed_table */
    SL_TRACK_INSERTED, /* rowids inserted into rowid_table */
    SL_TRACK_DELETED,  /* rowids deleted from rowid_table */
} sl_track_set;

/* Install the hook on db (replacing any other pre-update hook).
 * keyed_table: key = columns 0 and 1 (integers) and 2 (blob);
 * rowid_table: may be NULL. */
int sl_ckpt_track_new(sqlite3 *db, const char *keyed_table,
                      const char *rowid_table, sl_ckpt_track **out,
                      sl_err *err);
/* Remove the hook and free. NULL is fine. */
void sl_ckpt_track_free(sl_ckpt_track *t);
/* The bound was passed (or memory ran out) since the last clear: changes
 * are missing, copy everything. */
bool sl_ckpt_track_overflowed(const sl_ckpt_track *t);
int64_t sl_ckpt_track_count(const sl_ckpt_track *t, sl_track_set set);
/* Call cb for each entry of set (a, b: the integer key columns or the
 * rowid and 0; key/len: the blob, NULL/0 for rowids); stops at the first
 * non-zero return and returns it. */
int sl_ckpt_track_each(const sl_ckpt_track *t, sl_track_set set,
                       int (*cb)(void *ctx, int64_t a, int64_t b,
                                 const void *key, int len),
                       void *ctx);
void sl_ckpt_track_clear(sl_ckpt_track *t);

#endif
