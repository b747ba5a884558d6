/*
 * op_window.h: the aggregate operator: window aggregation (TUMBLE, HOP,
 * CUMULATE rows arrive with their window_start/window_end already
 * assigned by the stage before) and non-windowed GROUP BY producing an
 * updating changelog.
 *
 *   stage (keys, window bounds, aggregate arguments) --push()--> [agg]
 *        --pull()--> stage after (select list, HAVING)
 *
 * State lives in a SQLite database the operator owns (a temporary
 * database: it spills to disk by itself). Table `acc` holds one row per
 * (window_start, window_end, group key) with incremental partials for
 * COUNT/SUM/MIN/MAX/AVG, upserted with a prepared statement; table `buf`
 * keeps the argument values of COUNT(DISTINCT x) and LISTAGG, whose
 * results are computed from them when needed.
 *
 *   window mode:   a window is emitted (+I rows) once the watermark reaches
 *                  window_end - 1 ms, then its state is deleted. Rows whose
 *                  window was already emitted are late: dropped and counted.
 *   updating mode: every input batch updates the groups it touches; then
 *                  each changed group emits -U old / +U new (+I when new).
 *                  Groups not updated for ttl_ms are forgotten.
 */
#ifndef SL_OP_WINDOW_H
#define SL_OP_WINDOW_H

#include "operator.h"

typedef enum sl_agg_kind {
    SL_AGG_COUNT_STAR = 0,
    SL_AGG_COUNT,
    SL_AGG_SUM,
    SL_AGG_MIN,
    SL_AGG_MAX,
    SL_AGG_AVG,
    SL_AGG_COUNT_DISTINCT,
    SL_AGG_LISTAGG,
    SL_AGG_SUM_DISTINCT,
    SL_AGG_PERCENTILE, /* Flink's PERCENTILE(x, p [, frequency]) */
} sl_agg_kind;

/* Aggregates that keep their argument values (table buf) instead of a
 * partial: the emission applies the aggregate to them. */
static inline bool sl_agg_is_buffered(sl_agg_kind k)
{
    return k == SL_AGG_COUNT_DISTINCT || k == SL_AGG_LISTAGG ||
           k == SL_AGG_SUM_DISTINCT || k == SL_AGG_PERCENTILE;
}

typedef struct sl_agg_def {
    sl_agg_kind kind;
    int arg;         /* input column, -1 for COUNT(*) */
    const char *sep; /* LISTAGG separator (copied); NULL: "," */
    /* PERCENTILE: the percentage as SQL literal text (a number, or a
     * quoted JSON array of numbers; copied) and the frequency's input
     * column + 1 (0: none) */
    const char *pct;
    int freq;
} sl_agg_def;

typedef struct sl_window_op_def {
    bool updating; /* non-windowed GROUP BY */
    int ws_col;    /* window mode: input column of window_start */
    int we_col;    /* window mode: input column of window_end */
    int n_keys;    /* group columns: input columns 0..n_keys-1 */
    int n_aggs;
    const sl_agg_def *aggs;
    int64_t ttl_ms;      /* updating mode: 0 = keep forever */
    const char *db_path; /* state database; NULL: temporary */
    /* SESSION windows (> 0): rows arrive with window_start = ts and
     * window_end = ts + gap; the operator merges the windows of a group
     * key that touch (Flink: [s1, e1] and [s2, e2] intersect) into one
     * session [min ts, max ts + gap) and emits it when the watermark
     * passes its end. The group key (without the window columns) is the
     * SESSION's PARTITION BY key. */
    int64_t session_gap_ms;
} sl_window_op_def;

/* Output: columns 0..n_keys-1 (the group columns), then one per aggregate
 * with the types of out_schema. */
int sl_window_op_new(const sl_schema *in_schema, const sl_schema *out_schema,
                     const sl_window_op_def *def, sl_operator **op,
                     sl_err *err);

/* Figures for metrics and EXPLAIN ANALYZE-like reports. */
typedef struct sl_window_op_stats {
    int64_t late_rows;   /* dropped: their window was already emitted */
    int64_t state_rows;  /* rows in acc */
    int64_t state_bytes; /* size of the state database */
    int64_t watermark_ms;
} sl_window_op_stats;

/* op must come from sl_window_op_new. */
void sl_window_op_stats_get(sl_operator *op, sl_window_op_stats *stats);
bool sl_window_op_is(const sl_operator *op);
/* The largest state database any window aggregate of this process reached
 * (bytes, sampled about every 200 ms while rows arrive); reset: start
 * again from 0. For benchmarks (bench_nexmark). */
int64_t sl_window_op_peak_state_bytes(bool reset);

/* Write late rows (window mode) to ls as well as counting them; takes
 * ownership of ls (freed with the operator, or at once on SL_MISUSE). */
struct sl_late_sink;
int sl_window_op_set_late_sink(sl_operator *op, struct sl_late_sink *ls);

#endif
