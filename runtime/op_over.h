/*
 * op_over.h: the OVER aggregate operator: `agg(x) OVER (PARTITION BY k
 * ORDER BY rowtime ROWS BETWEEN n PRECEDING AND CURRENT ROW)` or `RANGE
 * BETWEEN INTERVAL ... PRECEDING AND CURRENT ROW` over an append-only
 * input with event time (Flink's OVER aggregation).
 *
 *   stage (row columns, then rowtime, partition and argument columns)
 *        --push()--> [over] --pull()--> stage after
 *
 * Rows wait in a SQLite state database (table `rows`) until the watermark
 * passes their rowtime; then they are emitted once (+I, in rowtime order,
 * ties in arrival order) with each aggregate computed over the row's
 * frame by SQLite's window functions, and rows no later frame can reach
 * are deleted (RANGE: older than the watermark minus the range; ROWS: all
 * but the last n of each partition). Rows at or behind the watermark when
 * they arrive are late: dropped and counted.
 */
#ifndef SL_OP_OVER_H
#define SL_OP_OVER_H

#include "op_window.h"

#define SL_OVER_MAX_KEYS 64
#define SL_OVER_MAX_AGGS 64

typedef struct sl_over_op_def {
    int ts_col; /* input column of the rowtime (epoch ms) */
    int n_part; /* PARTITION BY columns */
    int part_cols[SL_OVER_MAX_KEYS];
    bool is_range;     /* RANGE (range_ms) or ROWS (n_preceding) */
    int64_t range_ms;  /* RANGE BETWEEN range_ms PRECEDING */
    int64_t preceding; /* ROWS BETWEEN preceding PRECEDING */
    int n_out;         /* output: input columns 0..n_out-1, then aggs */
    int n_aggs;
    sl_agg_kind agg_kind[SL_OVER_MAX_AGGS]; /* COUNT(*), COUNT, SUM, MIN,
                                               MAX, AVG */
    int agg_arg[SL_OVER_MAX_AGGS];          /* input column; -1: COUNT(*) */
} sl_over_op_def;

int sl_over_op_new(const sl_schema *in_schema, const sl_schema *out_schema,
                   const sl_over_op_def *def, sl_operator **op, sl_err *err);

/* As sl_window_op_set_late_sink. */
struct sl_late_sink;
int sl_over_op_set_late_sink(sl_operator *op, struct sl_late_sink *ls);

#endif
