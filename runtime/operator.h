/*
 * operator.h: the contract of a pipeline operator, everything that is not a
 * SQL stage: async model calls, window aggregates, joins, dedup, top-N.
 *
 * An operator sits in a job's chain between stages (or another operator)
 * and the sink. The job thread drives it, never from another thread:
 *
 *     upstream batch --push()--> [operator] --pull()--> downstream batch
 *
 *   push()     offer a batch. The operator copies what it keeps (the batch is
 *              reused after the call). It may refuse (*accepted = false)
 *              when its bound is reached: the job keeps the batch, stops
 *              reading sources (backpressure) and offers it again later.
 *   pull()     append ready rows to out (until out is full) and report
 *              whether more is ready now, nothing is ready yet (async work
 *              in flight: the loop waits), or, only after finish(), that
 *              everything has been emitted.
 *   attach()   optional: register fds/timers (libcurl sockets) in the job's
 *              loop. Callbacks run on the job thread; after one the job
 *              calls pull() again.
 *   wait_hint() optional alternative to attach(): fds to poll for reading and
 *              a monotonic ms deadline at which to call pull() again.
 *   on_watermark() optional: event time below which no more rows arrive.
 *   finish()   the input ended (bounded sources exhausted or a graceful
 *              stop): flush everything; pull() until SL_OP_DRAINED.
 *   buffered() optional: rows taken by push() and not yet emitted or
 *              dropped. While it is non-zero the job acks no source
 *              positions past what reached the sink before (at-least-once).
 *              NULL means the operator holds nothing between calls.
 *   close()    free everything (also without finish(), on failure).
 *
 * Errors go into err with a message a user can act on; a failing call fails
 * the job. Output rows carry kind, event time and source position (copy
 * them from the input row when an output derives from one row).
 *
 * Versioned (STYLE.md habit 14): `version` first, fields appended only.
 */
#ifndef SL_OPERATOR_H
#define SL_OPERATOR_H

#include <sqlite3.h>

#include "batch.h"
#include "loop.h"

#define SL_OPERATOR_VERSION 1

typedef enum sl_op_status {
    SL_OP_READY = 0,   /* more rows are ready now: pull again */
    SL_OP_IDLE = 1,    /* nothing ready now; work in flight or no input */
    SL_OP_DRAINED = 2, /* after finish(): everything was emitted */
} sl_op_status;

typedef struct sl_operator sl_operator;

typedef struct sl_operator_ops {
    int version;      /* SL_OPERATOR_VERSION */
    const char *name; /* "identity", "ml_predict", "tumble_agg" ... */
    int (*attach)(sl_operator *op, sl_loop *loop, sl_err *err);
    int (*push)(sl_operator *op, const sl_batch *batch, bool *accepted,
                sl_err *err);
    int (*pull)(sl_operator *op, sl_batch *out, sl_op_status *status,
                sl_err *err);
    /* Fill fds[0..*n_fds) (at most max_fds) to poll for reading, and
     * *wakeup_ms (monotonic ms, -1 none). */
    void (*wait_hint)(sl_operator *op, int *fds, int max_fds, int *n_fds,
                      int64_t *wakeup_ms);
    int (*on_watermark)(sl_operator *op, int64_t watermark_ms, sl_err *err);
    int (*finish)(sl_operator *op, sl_err *err);
    int64_t (*buffered)(sl_operator *op);
    void (*close)(sl_operator *op);
    /* Appended for checkpoints (issue 9), optional. snapshot() writes the
     * operator's state into the job's state database (SQLite) inside the
     * checkpoint's transaction, in tables whose names start with prefix
     * (write only what changed since the last snapshot: uploads are
     * incremental); restore() reads it back before the first push() when
     * the job resumes. Rows the operator holds when a checkpoint is taken
     * need no snapshot: their source positions are not yet acknowledged,
     * so they are read again after a restore (the async model operator
     * relies on this: its in-flight calls are re-sent). Keep a version row
     * in your tables and never reinterpret an old layout. */
    int (*snapshot)(sl_operator *op, sqlite3 *state, const char *prefix,
                    sl_err *err);
    int (*restore)(sl_operator *op, sqlite3 *state, const char *prefix,
                   sl_err *err);
    /* optional: input rows dropped so far (late rows of a window
     * aggregate); summed into the job's late_rows metric. */
    int64_t (*dropped)(sl_operator *op);
    /* optional: the watermark of what the operator emitted so far: every
     * row it emits later has a larger event time. The job gives it to the
     * next operator (on_watermark) once the rows emitted before have
     * reached that operator. Without it, operators after the first get
     * no watermarks. */
    int64_t (*watermark_out)(sl_operator *op);
    /* Appended (issue 9), optional, for an operator whose snapshot()
     * captures the rows it absorbed (aggregate partials): how many rows
     * it holds whose effect a snapshot() taken now would not capture
     * exactly (an emission half done: 1). With checkpoints on, the job
     * asks it instead of buffered(), so state in the snapshot does not
     * hold source acknowledgements back, and takes such a checkpoint
     * aligned: it stops reading, lets every row in flight reach the
     * operators' state or the sink, waits until this returns 0, flushes
     * the sink, then records the positions of exactly the rows read and
     * the snapshots in one transaction. */
    int64_t (*unsaved)(sl_operator *op);
} sl_operator_ops;

/* Operators are structs that begin with sl_operator. */
struct sl_operator {
    const sl_operator_ops *ops;
    const sl_schema *in_schema;  /* what push() receives */
    const sl_schema *out_schema; /* what pull() emits */
};

/* An operator that passes rows through unchanged (in = out schema), holding
 * at most max_rows (refusing pushes beyond: backpressure). For tests and as
 * the model of the contract. */
int sl_identity_op_new(const sl_schema *schema, int max_rows, sl_operator **op,
                       sl_err *err);

/* Read column i of a SQLite result row into v, converted to the storage
 * of type (NULL stays NULL; text and blobs are copied into out's arena).
 * Shared by the operators that emit rows from their state tables. */
int sl_operator_put_column(sl_batch *out, sl_value *v, const sl_type *type,
                           sqlite3_stmt *st, int i);

#endif
