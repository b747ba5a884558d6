/*
 * op_rank.h: the window rank operator: window Top-N and window
 * deduplication (ROW_NUMBER() OVER (PARTITION BY window_start, window_end
 * [, keys] ORDER BY ...) over a window TVF or a window aggregate).
 *
 *   stage (row columns, then the window bounds, partition and order
 *   columns) --push()--> [rank] --pull()--> stage after (rownum filter)
 *
 * Rows are kept in a SQLite database the operator owns (table `rows`, one
 * row per input row with its window bounds). When the watermark reaches
 * window_end - 1 ms, every row of the windows that closed is emitted once
 * (+I, event time window_end - 1 ms) with its ROW_NUMBER() within
 * (window, partition key) in the given order (ties: arrival order), only
 * rows with rownum <= limit when a limit is set, and the windows are
 * deleted. Rows of a window already emitted are late: dropped, counted.
 */
#ifndef SL_OP_RANK_H
#define SL_OP_RANK_H

#include "operator.h"

#define SL_RANK_MAX_KEYS 64

typedef struct sl_rank_op_def {
    int ws_col; /* input column of window_start */
    int we_col; /* input column of window_end */
    int n_part; /* further PARTITION BY columns */
    int part_cols[SL_RANK_MAX_KEYS];
    int n_order; /* ORDER BY columns, at least one */
    int order_cols[SL_RANK_MAX_KEYS];
    bool order_desc[SL_RANK_MAX_KEYS];
    int order_nulls[SL_RANK_MAX_KEYS]; /* 0 default, 1 first, 2 last */
    int n_out;           /* output: input columns 0..n_out-1, then rownum */
    int64_t limit;       /* emit rows with rownum <= limit; <= 0: all */
    const char *db_path; /* state database; NULL: temporary */
} sl_rank_op_def;

/* out_schema: n_out columns typed as the input's, then rownum (BIGINT). */
int sl_rank_op_new(const sl_schema *in_schema, const sl_schema *out_schema,
                   const sl_rank_op_def *def, sl_operator **op, sl_err *err);

/* Write late rows to ls as well as counting them; takes ownership of ls
 * (freed with the operator, or at once on SL_MISUSE). */
struct sl_late_sink;
int sl_rank_op_set_late_sink(sl_operator *op, struct sl_late_sink *ls);

#endif
