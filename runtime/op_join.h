/*
 * op_join.h: the two-input join operator (inner joins of append-only
 * inputs): window joins, interval joins and regular joins.
 *
 * The job merges its inputs into one chain, so the two inputs of a join
 * arrive tagged: every row pushed carries its side in column 0, then the
 * columns of side 0's input, then those of side 1's (NULL for the other
 * side). Each side may first run a chain of its own (stages and operators,
 * e.g. a window aggregate and the stage after it) that the join operator
 * drives itself, delivering watermarks and finish() down it:
 *
 *   tagged rows --push()--> split by side --> side chain 0 --+--> probe/store
 *                                         --> side chain 1 --+      |
 *                                      pull() <-- joined rows <-----+
 *
 * State lives in a SQLite database the operator owns: table s0 and s1
 * keep the rows of each side indexed by their encoded equi-join key, with
 * an expiry time. A row arriving on one side is stored and probes the
 * other side's table; every match is one output row (side 0's columns
 * then side 1's), +I, with the later event time of the two.
 *
 *   window:   rows expire once the watermark reaches their window_end - 1
 *             (after both side chains emitted what that watermark closed)
 *   interval: l.t - r.t in [lo, hi]: a side-0 row expires when the
 *             watermark passes l.t - lo, a side-1 row at r.t + hi
 *   regular:  rows are kept; with ttl_ms rows not seen for ttl_ms of
 *             processing time are forgotten ('table.exec.state.ttl')
 *
 * Residual conditions (non-equi parts of ON/WHERE) are applied by the
 * stage after the join, not here.
 */
#ifndef SL_OP_JOIN_H
#define SL_OP_JOIN_H

#include "job.h"
#include "operator.h"

#define SL_JOIN_MAX_KEYS  32
#define SL_JOIN_MAX_STEPS 16

typedef enum sl_join_mode {
    SL_JOIN_MODE_REGULAR = 0,
    SL_JOIN_MODE_INTERVAL = 1,
    SL_JOIN_MODE_WINDOW = 2,
} sl_join_mode;

/* One input of the join: the chain its rows run through first. */
typedef struct sl_join_side {
    const sl_schema *in;  /* its columns in the tagged input */
    const sl_schema *out; /* what reaches the join (= in without steps) */
    int n_steps;          /* 0..SL_JOIN_MAX_STEPS */
    sl_job_step *steps;   /* taken by sl_join_op_new (also on failure) */
} sl_join_side;

typedef struct sl_join_op_def {
    sl_join_mode mode;
    int n_keys;                    /* equi-join pairs */
    int keys[2][SL_JOIN_MAX_KEYS]; /* per side: column of side out */
    int time_col[2];               /* interval: time columns; window:
                                      window_end columns; else -1 */
    int64_t exp_off[2];            /* expiry = time column + exp_off */
    int64_t lo, hi;                /* interval: l.t - r.t in [lo, hi] */
    int64_t ttl_ms;                /* regular: 0 = keep forever */
    int64_t max_pending_rows;      /* output queue bound; 0: default */
    const char *db_path;           /* state database; NULL: temporary */
} sl_join_op_def;

/* in_schema: (side, side 0 in columns, side 1 in columns); out_schema:
 * side 0 out columns then side 1 out columns. Takes the steps of both
 * sides, also on failure. */
int sl_join_op_new(const sl_schema *in_schema, const sl_schema *out_schema,
                   sl_join_side sides[2], const sl_join_op_def *def,
                   sl_operator **op, sl_err *err);

typedef struct sl_join_op_stats {
    int64_t state_rows[2];
    int64_t state_bytes; /* size of the state database */
    int64_t rows_out;
    int64_t peak_bytes; /* largest sampled state, side chains included */
} sl_join_op_stats;

bool sl_join_op_is(const sl_operator *op);
void sl_join_op_stats_get(sl_operator *op, sl_join_op_stats *stats);
/* The largest state (bytes of the join's and its side chains' state
 * databases, sampled every 200 ms and before finishing) any join operator
 * of this process reached; reset sets it back to 0. For benchmarks. */
int64_t sl_join_op_peak_state_bytes(bool reset);

#endif
