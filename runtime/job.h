/*
 * job.h: a pipeline spec, as the planner fills it, and the job that runs it.
 *
 *   source 0 --read--> batch --stage--> ... --+
 *   source 1 --read--> batch --stage--> ... --+--> step 0 --> ... --> step n
 *                    (each input's own chain;    (stage or operator)   |
 *                     merged: UNION ALL)                    sink or row
 * callback
 *
 * Execution (one job thread, one sl_loop):
 *   - Each source reads into its own batch (spec.batch_rows, default 1024).
 *     A batch moves on when full, when the source has nothing more right now
 *     and linger_ms passed since its first row, or at EOF: low latency at
 *     low rates, big batches at high rates.
 *   - Each step has one output batch; a stage that fills it waits until it
 *     is consumed. An operator may refuse a push; the sink may have at most
 *     max_unacked_batches written and not acked. Whenever data cannot move,
 *     upstream batches stay full and the sources are paused (pause(true))
 *     until it can: memory is bounded by the batches and the operators'
 *     own bounds.
 *   - The sink gets batches with seq 1, 2, 3 ... Source positions are acked
 *     (source ack()) only up to rows whose results are all in batches the
 *     sink reports acked (every row before them too): at-least-once. Rows a
 *     stage filters out count as done once every earlier write is acked.
 *   - The job ends FINISHED when every source is bounded and at EOF, after
 *     the chain is drained (operators finish()ed), the sink flushed and the
 *     final positions acked; CANCELED after sl_job_stop (graceful: stop
 *     reading, drain, flush, final ack) or a row callback returning
 *     non-zero; FAILED on the first error, with its message.
 *
 * Ownership: sl_job_new takes every source, stage, operator and sink in the
 * spec and the sqlite3 connection, even when it fails; sl_job_free releases
 * them (stages before the connection). The spec struct itself and its
 * arrays are copied; schemas must outlive the job.
 *
 * Threads: sl_job_start runs the job on a new thread; sl_job_run on the
 * caller's. sl_job_stop, sl_job_state, sl_job_error (after the job ended),
 * sl_job_metrics and sl_job_request_stop_from_signal may be called from any
 * thread. The job thread owns the pipeline; metrics are published by it
 * under a mutex at least every 100 ms and at the end.
 */
#ifndef SL_JOB_H
#define SL_JOB_H

#include <sqlite3.h>

#include "ai/model.h"
#include "checkpoint.h"
#include "connector.h"
#include "loop.h"
#include "operator.h"
#include "stage.h"

#define SL_JOB_DEFAULT_LINGER_MS 5
#define SL_JOB_DEFAULT_UNACKED   64 /* sink batches written, not acked */
#define SL_JOB_MAX_INPUTS        64
#define SL_JOB_MAX_STEPS         256
#define SL_JOB_MAX_SPLITS        65536 /* distinct splits per source */

typedef enum sl_job_state {
    SL_JOB_CREATED = 0,
    SL_JOB_RUNNING = 1,
    SL_JOB_FINISHED = 2,
    SL_JOB_FAILED = 3,
    SL_JOB_CANCELED = 4,
} sl_job_state;

/* One source and the stages applied to its rows before the merge. The
 * last stage's out schema (or the source schema when n_stages is 0) must
 * have the same column storage classes as the first step's input. */
typedef struct sl_job_input {
    sl_source *source;
    const sl_schema *schema; /* what the source appends */
    const char *name;        /* table name, for messages and metrics */
    int n_stages;
    sl_stage **stages;
    /* Event time (optional): a stage over the source's batch returning
     * (rowtime, watermark candidate) per row, one row per input row in
     * order (no filter). Rows get event_time = rowtime; candidates feed
     * the job's watermark (watermark.h), which operators receive through
     * on_watermark once every row before it reached them. */
    sl_stage *time_stage;
    int64_t idle_timeout_ms; /* 'scan.watermark.idle-timeout'; 0: none */
} sl_job_input;

typedef enum sl_job_step_kind {
    SL_STEP_STAGE = 0,
    SL_STEP_OPERATOR = 1,
} sl_job_step_kind;

typedef struct sl_job_step {
    sl_job_step_kind kind;
    sl_stage *stage;  /* SL_STEP_STAGE */
    sl_operator *op;  /* SL_STEP_OPERATOR */
    const char *name; /* for metrics; NULL: the stage's / operator's name */
} sl_job_step;

/* Rows for a SELECT: a batch of rows of schema (valid during the call).
 * Return 0 to continue, non-zero to stop the job (it ends CANCELED with
 * code SL_ABORT). Runs on the job thread. */
typedef int (*sl_job_row_cb)(void *ctx, const sl_batch *batch,
                             const sl_schema *schema);

typedef struct sl_job_spec {
    const char *name; /* job name for messages; copied */
    sqlite3 *db;      /* the connection the stages were prepared on */
    int n_inputs;     /* 1..SL_JOB_MAX_INPUTS */
    sl_job_input *inputs;
    int n_steps; /* 0..SL_JOB_MAX_STEPS */
    sl_job_step *steps;
    const sl_schema *out_schema; /* what reaches the terminal */
    /* Terminal: exactly one of sink and row_cb. */
    sl_sink *sink;
    sl_job_row_cb row_cb;
    void *row_ctx;
    int batch_rows;            /* 0: SL_BATCH_DEFAULT_ROWS */
    int linger_ms;             /* 0: SL_JOB_DEFAULT_LINGER_MS; -1: none */
    int max_unacked_batches;   /* 0: SL_JOB_DEFAULT_UNACKED */
    int sink_flush_timeout_ms; /* final flush; 0: 30000 */
    /* Checkpoints (NULL: none). The job takes it (also on failure). On
     * start it restores operator/source state and seeks the sources to the
     * recorded positions; every sl_ckpt_interval_ms (and when the job
     * ends) it flushes the sink, acks what the sink acked and records, in
     * one transaction, the acked positions per source split, watermarks
     * and operator/source snapshots (checkpoint.h). */
    sl_ckpt *ckpt;
    /* Optional: the job stores each watermark it delivers here (epoch ms;
     * SL_NO_EVENT_TIME before the first), on the job thread, for
     * CURRENT_WATERMARK (watermark.h sl_wm_sql_register). */
    int64_t *watermark_cell;
} sl_job_spec;

typedef struct sl_job sl_job;

/* Metrics of one step (stage or operator) or of the terminal. */
typedef struct sl_step_metrics {
    char name[64];
    int64_t rows_in;
    int64_t rows_out;
} sl_step_metrics;

typedef struct sl_job_metrics {
    int64_t start_ms;     /* wall clock when the job started running */
    int64_t end_ms;       /* when it ended, 0 while running */
    int64_t rows_read;    /* rows appended by all sources */
    int64_t bytes_read;   /* in-memory bytes of those rows (values+arena) */
    int64_t rows_written; /* rows handed to the sink / row callback */
    int64_t batches_written;
    uint64_t sink_acked_seq;
    double rows_read_per_s; /* over the last publishing interval */
    double rows_written_per_s;
    int64_t watermark_ms; /* delivered to operators; SL_NO_EVENT_TIME */
    int64_t paused_ms;    /* total time sources spent paused */
    /* Fraction of the bounded input read (the least advanced bounded
     * source's progress()), or -1 when unknown or unbounded. */
    double input_fraction;
    int n_steps;
    int64_t late_rows; /* rows operators dropped behind the watermark */
} sl_job_metrics;

/* Metrics of one input (source), published with the job's metrics. */
typedef struct sl_source_metrics {
    char name[64];
    int64_t rows_read;
    int64_t bytes_read; /* in-memory bytes of the rows read */
    bool eof;           /* a bounded source reached its end */
    int64_t lag; /* records after the read position (ops->lag), -1: unknown */
} sl_source_metrics;

/* Client metrics of one model operator (one ML_PREDICT call site). */
typedef struct sl_job_model_metrics {
    char step[64]; /* the step's name (the model's name) */
    sl_model_metrics m;
} sl_job_model_metrics;

/* Validate spec and build the job (state CREATED). Takes ownership of
 * everything in spec (see above), also on failure. */
int sl_job_new(const sl_job_spec *spec, sl_job **job, sl_err *err);
/* Stop (if running), wait, close everything. NULL is a no-op. */
void sl_job_free(sl_job *job);

/* Run on a new thread. */
int sl_job_start(sl_job *job, sl_err *err);
/* Run on the caller's thread until the job ends. Returns SL_OK when it
 * FINISHED or was CANCELED by sl_job_stop, SL_ABORT when the row callback
 * stopped it, else the error code (message in err and sl_job_error). */
int sl_job_run(sl_job *job, sl_err *err);
/* Ask for a graceful stop. Any thread; returns at once. */
void sl_job_stop(sl_job *job);
/* Async-signal-safe sl_job_stop for SIGINT/SIGTERM handlers. */
void sl_job_request_stop_from_signal(sl_job *job);
/* Wait until the job ends (joins its thread when started); returns what
 * sl_job_run would. timeout_ms -1: forever; on timeout SL_TIMEOUT. */
int sl_job_wait(sl_job *job, int timeout_ms, sl_err *err);

sl_job_state sl_job_state_get(const sl_job *job);
const char *sl_job_state_name(sl_job_state state);
/* The failure message ("" unless FAILED); stable once the job ended. */
const char *sl_job_error(const sl_job *job);
/* Copy the latest published metrics; steps[0..max_steps) receive per-step
 * figures (steps may be NULL). */
void sl_job_metrics_get(sl_job *job, sl_job_metrics *metrics,
                        sl_step_metrics *steps, int max_steps);
/* Copy the latest published per-source figures into out[0..max) and the
 * model operators' client metrics into models[0..max_models); either
 * array may be NULL. Returns the number of sources (*n_models receives the
 * number of model operators). Any thread; one consistent snapshot (taken
 * under the same lock as sl_job_metrics_get). */
int sl_job_detail_get(sl_job *job, sl_source_metrics *out, int max,
                      sl_job_model_metrics *models, int max_models,
                      int *n_models);
/* The job's checkpoint state (NULL without one); valid until
 * sl_job_free. After the job ended it holds the final checkpoint. */
sl_ckpt *sl_job_ckpt(sl_job *job);
/* Checkpoints taken by this run (0 without state). */
int64_t sl_job_checkpoints(sl_job *job);

/* The job's loop (to attach fds before it runs). */
sl_loop *sl_job_loop(sl_job *job);

/* Open a connection for a job's stages: in-memory, sl_batch registered.
 * The planner registers Sluice's SQL functions on it. */
int sl_job_db_open(sqlite3 **db, sl_err *err);

#endif
