/*
 * preagg.h: batch-local pre-aggregation for the window aggregate operator
 * (op_window.c). Before the operator upserts partials into its SQLite
 * state, it folds the rows of one input batch that share a window and a
 * group key into one partial per (window, key) here, in memory, so the
 * state sees one upsert per distinct (window, key) of the batch instead of
 * one per row (Flink's local-global aggregation, done per batch). A HOP
 * window copies every row into size/slide windows; nexmark q5's bids fall
 * on a few hot auctions, so a batch of 4096 rows folds into a few hundred
 * upserts.
 *
 * Only the aggregates whose partials combine (COUNT, SUM, AVG, MIN, MAX)
 * are folded; combining follows SQLite's arithmetic and comparison rules
 * of the operator's own upsert statement, so the state ends up as the
 * row-by-row upserts would leave it (a SUM of REAL values may differ in
 * the last bits: additions are grouped differently). Memory is bounded by
 * the batch: one slot per row at most, keys copied into one buffer.
 */
#ifndef SL_PREAGG_H
#define SL_PREAGG_H

#include "op_window.h"

/* The partial of one aggregate in one slot. */
typedef struct sl_preagg_part {
    int64_t c;  /* COUNT(*), COUNT(x), AVG's count */
    sl_value v; /* SUM, AVG's sum, MIN, MAX (NULL: no value yet) */
} sl_preagg_part;

typedef struct sl_preagg_slot {
    int64_t ws, we;
    uint64_t hash;
    size_t koff; /* key bytes in keys */
    uint32_t klen;
    int row; /* the batch row the slot's group columns come from */
} sl_preagg_slot;

typedef struct sl_preagg {
    int n_aggs;
    const sl_agg_def *aggs;
    sl_preagg_slot *slots;
    sl_preagg_part *parts; /* n_aggs per slot */
    int n_slots, cap;
    int32_t *index; /* open addressing: slot + 1, 0 = empty */
    uint32_t mask;
    sl_buf keys;
} sl_preagg;

/* Whether aggregates of these kinds can be folded (buffered aggregates
 * such as COUNT(DISTINCT) keep their rows and take no partial here; they
 * do not prevent folding the others). */
bool sl_preagg_supported(int n_aggs, const sl_agg_def *aggs);
void sl_preagg_init(sl_preagg *p, int n_aggs, const sl_agg_def *aggs);
/* Empty the table and make room for a batch of n_rows rows. */
int sl_preagg_begin(sl_preagg *p, int n_rows);
/* Whether the row's aggregate arguments fold as SQLite would add and
 * compare them (SUM and AVG take INT, REAL or NULL only). */
bool sl_preagg_row_ok(const sl_preagg *p, const sl_value *row);
/* Fold one row into the slot of (ws, we, key). */
int sl_preagg_add(sl_preagg *p, int64_t ws, int64_t we, const void *key,
                  uint32_t klen, int row_index, const sl_value *row);
void sl_preagg_free(sl_preagg *p);

#endif
