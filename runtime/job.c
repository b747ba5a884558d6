/*
 * job.c: a job runs one pipeline spec on one thread around one sl_loop
 * (see job.h for the contract).
 *
 * Buffers: every input has a read batch (R) and one output batch per input
 * stage; every main step has one output batch; the last one (or an input's
 * final batch when there are no steps) is the terminal batch T that goes
 * to the sink or row callback. A pass of pump() moves data downstream-first:
 * terminal, main steps from last to first, input chains, then source reads.
 * Intermediate batches move on as soon as they hold rows; R and T wait for
 * linger_ms (or until full) so batches stay big at high rates and latency
 * stays low at low rates. A stage that fills its output stays pending on
 * its input; whatever cannot move keeps its batch, so upstream stalls and
 * the sources are paused: memory is bounded by the batches.
 *
 * At-least-once acks: each input keeps a frontier (max offset per split) of
 * the rows handed to its chain. When the chain holds no rows except in T
 * (no pending stage, empty buffers, operators buffering nothing), every
 * row handed in so far was dropped, written (seq <= written) or sits in T
 * (seq written+1): the ledger records (that seq, a copy of the frontiers).
 * Once the sink acks a seq, the newest ledger entry at or below it is acked
 * to the sources.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "job.h"
#include "op_model.h"
#include "vtab.h"
#include "watermark.h"

#define MAX_OP_FDS   8
#define MAX_PASSES   64
#define IDLE_POLL_MS 10 /* a source without wait hints */
#define SINK_POLL_MS 5  /* unacked writes, sink without poll fd */
#define PUBLISH_MS   100
/* An input whose batch waits this long for the chain pauses its source
 * (backpressure). Not at once: pausing a Kafka consumer drops what
 * librdkafka prefetched and resuming refetches it after up to a second,
 * so a pause per batch would stall a fast pipeline. */
#define PAUSE_AFTER_MS   250
#define DEFAULT_FLUSH_MS 30000
/* A stateful job's checkpoint waits at most this long for the rows in
 * flight to settle (an operator without snapshot() may hold rows until a
 * watermark that cannot come while reads pause): then reads go on and the
 * next interval tries again. */
#define ALIGN_MAX_MS 3000

typedef struct frontier {
    sl_srcpos *pos;
    int n, cap;
    uint64_t version;
} frontier;

typedef struct snap {
    uint64_t seq;
    frontier *f; /* n_inputs */
} snap;

typedef struct step_rt {
    sl_job_step_kind kind;
    sl_stage *stage;
    sl_operator *op;
    sl_batch *out;
    const sl_batch *pending_in; /* stage pending on this input */
    bool finished, drained;
    int fds[MAX_OP_FDS];
    int n_fds;
    int64_t wakeup_ms;
    sl_step_metrics m;
    int64_t wm; /* operator: the last watermark it was given */
} step_rt;

typedef struct input_rt {
    sl_source *src;
    const sl_schema *schema;
    char *name;
    sl_batch *read;
    bool read_closed;  /* R handed to the chain */
    int64_t closed_ns; /* when R was handed over (pause after PAUSE_AFTER) */
    int64_t read_first_ns;
    int n_stages;
    step_rt *stages;
    bool eof, ready, paused;
    int64_t wake_ns; /* when not ready: poll again at this time */
    int wait_fd;     /* registered in the loop, or -1 */
    int64_t pause_start_ns;
    frontier fr;
    uint64_t acked_version;
    sl_stage *time_stage; /* event time: (rowtime, watermark) per row */
    sl_batch *time_out;
    sl_wm_tracker wmt;
    int64_t wm_safe;   /* wmt's watermark when the input chain was last empty */
    int64_t splits_ms; /* the source's splits() last asked (monotonic) */
    int64_t splits_rows; /* rows_read then */
    frontier committed;  /* last positions acked (checkpoints record it) */
    int64_t rows_read, bytes_read; /* this input's share of the metrics */
} input_rt;

struct sl_job {
    char *name;
    sqlite3 *db;
    sl_loop *loop;
    int n_inputs;
    input_rt *inputs;
    int n_steps;
    step_rt *steps;
    const sl_schema *out_schema;
    sl_sink *sink;
    sl_job_row_cb row_cb;
    void *row_ctx;
    int batch_rows;
    int64_t linger_ns;
    int max_unacked;
    int flush_timeout_ms;
    int rr; /* round robin over inputs */
    int64_t term_first_ns;
    /* sink */
    uint64_t seq_written;
    uint64_t seq_acked;
    int sink_fd;
    /* ledger */
    snap *ledger;
    int n_ledger, cap_ledger;
    uint64_t fr_version; /* bumped when any frontier moves */
    uint64_t ledger_version;
    /* control */
    atomic_int state;
    atomic_int stop;
    bool stopping, aborted;
    int rc;
    sl_err err;
    pthread_t thread;
    bool has_thread, joined;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    /* metrics: `m` and step metrics are the job thread's; `pub` and
     * `pub_steps` are copies published under mu. */
    sl_job_metrics m;
    sl_job_metrics pub;
    sl_step_metrics *pub_steps;
    int n_metric_steps;
    int64_t last_pub_ns;
    sl_source_metrics *pub_sources;   /* n_inputs, under mu */
    sl_job_model_metrics *pub_models; /* n_models, under mu */
    int n_models;
    int64_t last_read, last_written;
    bool has_time;      /* some input has a time stage */
    int64_t wm_pending; /* combined watermark not yet delivered */
    int64_t *wm_cell;   /* spec.watermark_cell */
    /* checkpoints (checkpoint.h) */
    sl_ckpt *ckpt;
    int64_t next_ckpt_ns;
    int64_t n_ckpt;
    bool stateful; /* an operator snapshots absorbed rows (unsaved op) */
    bool aligning; /* a checkpoint is due: reads stop until aligned */
    int64_t align_start_ns;
};

/* ---- helpers ------------------------------------------------------------ */

static int64_t now_ns(void)
{
    return sl_mono_ns();
}

static int fail(sl_job *job, int code, const char *fmt, ...) SL_PRINTF(3, 4);
static int fail(sl_job *job, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_err_vset(&job->err, code, fmt, ap);
    va_end(ap);
    return code;
}

static bool buf_busy(const sl_job *job, const sl_batch *b)
{
    for (int i = 0; i < job->n_steps; i++)
        if (job->steps[i].pending_in == b)
            return true;
    for (int j = 0; j < job->n_inputs; j++)
        for (int k = 0; k < job->inputs[j].n_stages; k++)
            if (job->inputs[j].stages[k].pending_in == b)
                return true;
    return false;
}

static bool writable(const sl_job *job, const sl_batch *b)
{
    return b->n_rows < b->cap_rows && !buf_busy(job, b);
}

static int64_t batch_bytes(const sl_batch *b)
{
    return (int64_t)b->arena.used_bytes +
           (int64_t)b->n_rows * b->n_cols * (int64_t)sizeof(sl_value);
}

/* The batch an input hands to the main chain, or NULL when none is ready. */
static sl_batch *input_final(input_rt *in)
{
    if (in->n_stages == 0)
        return in->read_closed && in->read->n_rows > 0 ? in->read : NULL;
    sl_batch *b = in->stages[in->n_stages - 1].out;
    return b->n_rows > 0 ? b : NULL;
}

static void consume(sl_job *job, sl_batch *b)
{
    sl_batch_clear(b);
    for (int j = 0; j < job->n_inputs; j++) {
        if (job->inputs[j].read == b) {
            job->inputs[j].read_closed = false;
            job->inputs[j].read_first_ns = 0;
        }
    }
}

/* ---- frontiers and the ack ledger --------------------------------------- */

static int frontier_note(frontier *f, const sl_batch *b)
{
    int hint = 0;
    bool moved = false;
    for (int r = 0; r < b->n_rows; r++) {
        const sl_srcpos *p = &b->pos[r];
        if (p->split < 0)
            continue;
        int i = hint;
        if (i >= f->n || f->pos[i].split != p->split) {
            for (i = 0; i < f->n; i++)
                if (f->pos[i].split == p->split)
                    break;
        }
        if (i == f->n) {
            if (f->n == SL_JOB_MAX_SPLITS)
                return SL_LIMIT;
            if (f->n == f->cap) {
                int cap = f->cap ? f->cap * 2 : 8;
                sl_srcpos *np = sl_realloc(f->pos, (size_t)cap * sizeof(*np));
                if (!np)
                    return SL_NOMEM;
                f->pos = np;
                f->cap = cap;
            }
            f->pos[f->n++] = *p;
            moved = true;
        } else if (p->offset > f->pos[i].offset) {
            f->pos[i].offset = p->offset;
            moved = true;
        }
        hint = i;
    }
    if (moved)
        f->version++;
    return SL_OK;
}

static void snap_free(snap *s, int n_inputs)
{
    if (!s->f)
        return;
    for (int j = 0; j < n_inputs; j++)
        sl_free(s->f[j].pos);
    sl_free(s->f);
    s->f = NULL;
}

static int snap_take(sl_job *job, snap *s, uint64_t seq)
{
    snap_free(s, job->n_inputs);
    s->seq = seq;
    s->f = sl_calloc((size_t)job->n_inputs, sizeof(frontier));
    if (!s->f)
        return SL_NOMEM;
    for (int j = 0; j < job->n_inputs; j++) {
        const frontier *src = &job->inputs[j].fr;
        frontier *d = &s->f[j];
        d->version = src->version;
        if (src->n == 0)
            continue;
        d->pos = sl_malloc((size_t)src->n * sizeof(sl_srcpos));
        if (!d->pos)
            return SL_NOMEM;
        memcpy(d->pos, src->pos, (size_t)src->n * sizeof(sl_srcpos));
        d->n = d->cap = src->n;
    }
    return SL_OK;
}

/* Rows an operator holds that hold source acks back: with checkpoints,
 * state its snapshot captures does not (operator.h, unsaved). */
static int64_t op_holding(const sl_job *job, sl_operator *op)
{
    if (job->ckpt && op->ops->unsaved)
        return op->ops->unsaved(op);
    return op->ops->buffered ? op->ops->buffered(op) : 0;
}

static bool chain_quiet(const sl_job *job)
{
    for (int j = 0; j < job->n_inputs; j++) {
        const input_rt *in = &job->inputs[j];
        if (in->read_closed && in->read->n_rows > 0)
            return false;
        for (int k = 0; k < in->n_stages; k++)
            if (in->stages[k].pending_in)
                return false;
        for (int k = 0; k + 1 < in->n_stages; k++)
            if (in->stages[k].out->n_rows > 0)
                return false;
        if (in->n_stages > 0 && in->stages[in->n_stages - 1].out->n_rows > 0)
            return false;
    }
    for (int i = 0; i < job->n_steps; i++) {
        const step_rt *s = &job->steps[i];
        if (s->pending_in)
            return false;
        if (i + 1 < job->n_steps && s->out->n_rows > 0)
            return false;
        if (s->kind == SL_STEP_OPERATOR && op_holding(job, s->op) > 0)
            return false;
    }
    return true;
}

/* Record a ledger entry when the chain is quiet and a frontier moved. */
static int ledger_note(sl_job *job)
{
    if (job->fr_version == job->ledger_version || !chain_quiet(job))
        return SL_OK;
    uint64_t seq = job->seq_written;
    if (job->n_steps > 0 && job->steps[job->n_steps - 1].out->n_rows > 0)
        seq++; /* T goes out as the next write */
    snap *s;
    if (job->n_ledger > 0 && (job->ledger[job->n_ledger - 1].seq == seq ||
                              job->n_ledger == job->cap_ledger)) {
        s = &job->ledger[job->n_ledger - 1];
        if (s->seq > seq)
            seq = s->seq;
    } else {
        s = &job->ledger[job->n_ledger++];
        s->f = NULL;
    }
    if (snap_take(job, s, seq))
        return fail(job, SL_NOMEM, "out of memory (ack ledger)");
    job->ledger_version = job->fr_version;
    return SL_OK;
}

static int frontier_copy(frontier *d, const sl_srcpos *pos, int n)
{
    if (n > d->cap) {
        sl_srcpos *np = sl_realloc(d->pos, (size_t)n * sizeof(sl_srcpos));
        if (!np)
            return SL_NOMEM;
        d->pos = np;
        d->cap = n;
    }
    if (n)
        memcpy(d->pos, pos, (size_t)n * sizeof(sl_srcpos));
    d->n = n;
    d->version++;
    return SL_OK;
}

static int ack_sources(sl_job *job, const snap *s)
{
    for (int j = 0; j < job->n_inputs; j++) {
        input_rt *in = &job->inputs[j];
        const frontier *f = &s->f[j];
        if (f->version == in->acked_version || f->n == 0)
            continue;
        in->acked_version = f->version;
        if (job->ckpt && frontier_copy(&in->committed, f->pos, f->n))
            return fail(job, SL_NOMEM, "out of memory (checkpoint positions)");
        if (!in->src->ops->ack)
            continue;
        sl_err e;
        sl_err_clear(&e);
        if (in->src->ops->ack(in->src, f->pos, f->n, &e))
            return fail(job, e.code ? e.code : SL_IO,
                        "source '%s': ack failed: %s", in->name, e.msg);
    }
    return SL_OK;
}

static int process_acks(sl_job *job)
{
    if (job->sink) {
        uint64_t a = job->sink->ops->acked(job->sink);
        if (a > job->seq_written)
            a = job->seq_written;
        if (a > job->seq_acked)
            job->seq_acked = a;
    } else {
        job->seq_acked = job->seq_written;
    }
    job->m.sink_acked_seq = job->seq_acked;
    int k = 0;
    while (k < job->n_ledger && job->ledger[k].seq <= job->seq_acked)
        k++;
    if (k == 0)
        return SL_OK;
    int rc = ack_sources(job, &job->ledger[k - 1]);
    for (int i = 0; i < k; i++)
        snap_free(&job->ledger[i], job->n_inputs);
    memmove(job->ledger, job->ledger + k,
            (size_t)(job->n_ledger - k) * sizeof(snap));
    job->n_ledger -= k;
    return rc;
}

/* ---- metrics ---------------------------------------------------------- */

/* Per-source figures and model client metrics, copied under mu (a few
 * hundred bytes per model operator, at most every PUBLISH_MS); lag[j] is
 * source j's lag, asked before taking mu. */
static void publish_detail(sl_job *job, const int64_t *lag)
{
    for (int j = 0; j < job->n_inputs; j++) {
        const input_rt *in = &job->inputs[j];
        sl_source_metrics *p = &job->pub_sources[j];
        p->rows_read = in->rows_read;
        p->bytes_read = in->bytes_read;
        p->eof = in->eof;
        p->lag = lag[j];
    }
    int k = 0;
    for (int i = 0; i < job->n_steps && k < job->n_models; i++)
        if (job->steps[i].kind == SL_STEP_OPERATOR &&
            sl_model_op_is(job->steps[i].op))
            sl_model_op_metrics(job->steps[i].op, &job->pub_models[k++].m);
}

static void publish(sl_job *job, bool force)
{
    int64_t t = now_ns();
    if (!force && t - job->last_pub_ns < (int64_t)PUBLISH_MS * 1000000)
        return;
    double dt = (double)(t - job->last_pub_ns) / 1e9;
    if (job->last_pub_ns && dt > 0) {
        job->m.rows_read_per_s =
            (double)(job->m.rows_read - job->last_read) / dt;
        job->m.rows_written_per_s =
            (double)(job->m.rows_written - job->last_written) / dt;
    }
    job->last_pub_ns = t;
    double frac = -1;
    for (int j = 0; j < job->n_inputs; j++) {
        sl_source *src = job->inputs[j].src;
        double f = src && src->is_bounded && src->ops->progress
                       ? src->ops->progress(src)
                       : -1;
        if (f < 0) {
            frac = -1;
            break;
        }
        frac = frac < 0 ? f : SL_MIN(frac, f);
    }
    job->m.input_fraction = frac;
    job->last_read = job->m.rows_read;
    job->last_written = job->m.rows_written;
    job->m.late_rows = 0;
    for (int i = 0; i < job->n_steps; i++)
        if (job->steps[i].kind == SL_STEP_OPERATOR &&
            job->steps[i].op->ops->dropped)
            job->m.late_rows +=
                job->steps[i].op->ops->dropped(job->steps[i].op);
    int64_t lag[SL_JOB_MAX_INPUTS];
    for (int j = 0; j < job->n_inputs; j++) {
        const input_rt *in = &job->inputs[j];
        lag[j] = in->eof                        ? 0
                 : in->src && in->src->ops->lag ? in->src->ops->lag(in->src)
                                                : -1;
    }
    pthread_mutex_lock(&job->mu);
    job->pub = job->m;
    int n = 0;
    for (int j = 0; j < job->n_inputs; j++)
        for (int k = 0; k < job->inputs[j].n_stages; k++)
            job->pub_steps[n++] = job->inputs[j].stages[k].m;
    for (int i = 0; i < job->n_steps; i++)
        job->pub_steps[n++] = job->steps[i].m;
    publish_detail(job, lag);
    pthread_mutex_unlock(&job->mu);
}

/* ---- pump ------------------------------------------------------------- */

static int run_stage(sl_job *job, step_rt *s, sl_batch *in, bool *progress)
{
    sl_batch *out = s->out;
    int before = out->n_rows;
    int rc;
    bool was_pending = s->pending_in != NULL;
    s->pending_in = NULL; /* so writable() ignores our own claim */
    if (was_pending) {
        if (out->n_rows >= out->cap_rows || buf_busy(job, out)) {
            s->pending_in = in;
            return SL_OK;
        }
        rc = sl_stage_resume(s->stage, out, &job->err);
    } else {
        if (in->n_rows == 0 || !writable(job, out))
            return SL_OK;
        s->m.rows_in += in->n_rows;
        rc = sl_stage_run(s->stage, in, out, &job->err);
    }
    if (rc)
        return rc;
    s->m.rows_out += out->n_rows - before;
    *progress = true;
    if (sl_stage_pending(s->stage))
        s->pending_in = in;
    else
        consume(job, in);
    return SL_OK;
}

static int run_op(sl_job *job, step_rt *s, sl_batch *in, bool *progress)
{
    sl_operator *op = s->op;
    int rc;
    if (in && in->n_rows > 0 && !s->finished) {
        bool accepted = false;
        rc = op->ops->push(op, in, &accepted, &job->err);
        if (rc)
            return rc;
        if (accepted) {
            s->m.rows_in += in->n_rows;
            consume(job, in);
            *progress = true;
        }
    }
    if (!s->drained && writable(job, s->out)) {
        int before = s->out->n_rows;
        sl_op_status st = SL_OP_IDLE;
        rc = op->ops->pull(op, s->out, &st, &job->err);
        if (rc)
            return rc;
        s->m.rows_out += s->out->n_rows - before;
        if (s->out->n_rows > before)
            *progress = true;
        if (st == SL_OP_DRAINED && s->finished) {
            s->drained = true;
            *progress = true;
        }
    }
    return SL_OK;
}

static bool inputs_drained(const sl_job *job)
{
    for (int j = 0; j < job->n_inputs; j++) {
        const input_rt *in = &job->inputs[j];
        if (!in->eof || in->read->n_rows > 0)
            return false;
        for (int k = 0; k < in->n_stages; k++)
            if (in->stages[k].pending_in || in->stages[k].out->n_rows > 0)
                return false;
    }
    return true;
}

/* The terminal's batch: T, or an input's final batch when no steps. */
static sl_batch *terminal_batch(sl_job *job)
{
    if (job->n_steps > 0) {
        sl_batch *t = job->steps[job->n_steps - 1].out;
        return t->n_rows > 0 ? t : NULL;
    }
    for (int k = 0; k < job->n_inputs; k++) {
        int j = (job->rr + k) % job->n_inputs;
        sl_batch *b = input_final(&job->inputs[j]);
        if (b) {
            job->rr = (j + 1) % job->n_inputs;
            return b;
        }
    }
    return NULL;
}

static int deliver(sl_job *job, bool draining, bool *progress)
{
    sl_batch *t = terminal_batch(job);
    if (!t)
        return SL_OK;
    if (job->n_steps > 0 && !draining && !sl_batch_is_full(t) &&
        job->linger_ns > 0 && now_ns() - job->term_first_ns < job->linger_ns)
        return SL_OK;
    if (job->sink) {
        if (job->seq_written - job->seq_acked >= (uint64_t)job->max_unacked) {
            int rc = process_acks(job);
            if (rc)
                return rc;
            if (job->seq_written - job->seq_acked >= (uint64_t)job->max_unacked)
                return SL_OK; /* backpressure */
        }
        sl_err e;
        sl_err_clear(&e);
        if (job->sink->ops->write(job->sink, t, job->seq_written + 1, &e))
            return fail(job, e.code ? e.code : SL_IO, "sink: %s", e.msg);
    } else {
        if (job->row_cb(job->row_ctx, t, job->out_schema) != 0) {
            job->aborted = true;
            return fail(job, SL_ABORT, "stopped by the row callback");
        }
    }
    job->seq_written++;
    job->m.rows_written += t->n_rows;
    job->m.batches_written++;
    consume(job, t);
    job->term_first_ns = 0;
    *progress = true;
    return SL_OK;
}

static int run_main(sl_job *job, bool *progress)
{
    for (int i = job->n_steps - 1; i >= 0; i--) {
        step_rt *s = &job->steps[i];
        sl_batch *in = NULL;
        if (i > 0) {
            in = job->steps[i - 1].out;
        } else if (s->pending_in) {
            in = (sl_batch *)s->pending_in;
        } else {
            for (int k = 0; k < job->n_inputs; k++) {
                int j = (job->rr + k) % job->n_inputs;
                in = input_final(&job->inputs[j]);
                if (in) {
                    job->rr = (j + 1) % job->n_inputs;
                    break;
                }
            }
        }
        int rc;
        if (s->kind == SL_STEP_STAGE) {
            if (!in && !s->pending_in)
                continue;
            rc = run_stage(job, s, in, progress);
        } else {
            rc = run_op(job, s, in, progress);
        }
        if (rc)
            return rc;
        if (i == job->n_steps - 1 && s->out->n_rows > 0 &&
            job->term_first_ns == 0)
            job->term_first_ns = now_ns();
    }
    return SL_OK;
}

static int run_inputs(sl_job *job, bool *progress)
{
    for (int j = 0; j < job->n_inputs; j++) {
        input_rt *in = &job->inputs[j];
        for (int k = in->n_stages - 1; k >= 0; k--) {
            step_rt *s = &in->stages[k];
            sl_batch *src = k == 0 ? in->read : in->stages[k - 1].out;
            if (k == 0 && !in->read_closed)
                continue;
            int rc = run_stage(job, s, src, progress);
            if (rc)
                return rc;
        }
    }
    return SL_OK;
}

static int event_time(sl_job *job, input_rt *in);

static void close_read(sl_job *job, input_rt *in)
{
    if (in->read->n_rows == 0)
        return;
    in->read_closed = true;
    in->closed_ns = now_ns();
    int64_t bytes = batch_bytes(in->read);
    job->m.bytes_read += bytes;
    in->bytes_read += bytes;
    if (in->time_stage && event_time(job, in))
        return;
    if (frontier_note(&in->fr, in->read))
        fail(job, SL_LIMIT, "source '%s': more than %d splits", in->name,
             SL_JOB_MAX_SPLITS);
    else
        job->fr_version++;
}

/* ---- event time and watermarks ---------------------------------------- */

/* Run the input's time stage over its closed read batch: event times and
 * per-split watermark candidates. */
static int event_time(sl_job *job, input_rt *in)
{
    sl_batch *r = in->read, *t = in->time_out;
    sl_batch_clear(t);
    int rc = sl_stage_run(in->time_stage, r, t, &job->err);
    if (rc)
        return fail(job, rc, "source '%s': %s", in->name, job->err.msg);
    /* one row per input row: a full out batch holds them all */
    if (sl_stage_pending(in->time_stage))
        sl_stage_reset(in->time_stage);
    if (t->n_rows != r->n_rows)
        return fail(job, SL_ERROR, "source '%s': internal: time stage",
                    in->name);
    int64_t now = sl_mono_ns() / 1000000;
    for (int i = 0; i < r->n_rows; i++) {
        const sl_value *v = sl_batch_crow(t, i);
        r->event_time[i] = v[0].kind == SL_V_INT ? v[0].u.i : SL_NO_EVENT_TIME;
        int64_t wm = v[1].kind == SL_V_INT ? v[1].u.i : SL_NO_EVENT_TIME;
        rc = sl_wm_note(&in->wmt, r->pos[i].split, wm, now);
        if (rc)
            return fail(job, rc, "source '%s': too many splits for watermarks",
                        in->name);
    }
    return SL_OK;
}

/* Has every row this input read left its chain (none closed, none in its
 * stages)? */
static bool input_clear(const input_rt *in)
{
    if (in->read_closed)
        return false;
    for (int k = 0; k < in->n_stages; k++)
        if (in->stages[k].pending_in || in->stages[k].out->n_rows > 0)
            return false;
    return true;
}

/* The combined watermark of all inputs with event time, or
 * SL_NO_EVENT_TIME when some input holds it back. Each input counts with
 * its watermark as of the last time its chain was empty, so no row still
 * in an input chain is judged late, and fast inputs that are rarely all
 * empty at once (joins, UNION ALL) still advance it. */
/* Splits the source reads but that produced no row yet hold the watermark
 * back too (Flink); asked whenever rows were read since (a read may bring
 * a new assignment) and at least every 100 ms. */
static void register_splits(input_rt *in, int64_t now_ms)
{
    if (!in->src->ops->splits ||
        (in->rows_read == in->splits_rows && now_ms - in->splits_ms < 100))
        return;
    in->splits_ms = now_ms;
    in->splits_rows = in->rows_read;
    int32_t ids[256];
    int n = in->src->ops->splits(in->src, ids, (int)SL_ARRAY_LEN(ids));
    for (int i = 0; i < n && i < (int)SL_ARRAY_LEN(ids); i++)
        if (sl_wm_register(&in->wmt, ids[i], now_ms))
            break; /* past SL_WM_MAX_SPLITS: rows will report it */
}

static int64_t combined_watermark(sl_job *job)
{
    int64_t now = sl_mono_ns() / 1000000;
    int64_t best = INT64_MAX;
    bool any = false;
    for (int j = 0; j < job->n_inputs; j++) {
        input_rt *in = &job->inputs[j];
        if (!in->time_stage)
            continue;
        if (in->eof && in->read->n_rows == 0)
            continue; /* exhausted: holds nothing back */
        register_splits(in, now);
        bool idle = false;
        int64_t wm = sl_wm_current(&in->wmt, now, &idle);
        if (idle)
            continue;
        if (input_clear(in))
            in->wm_safe = wm;
        wm = in->wm_safe;
        any = true;
        if (wm < best)
            best = wm;
    }
    return any ? best : SL_NO_EVENT_TIME;
}

/* Deliver a newer watermark to the operators once every row read before
 * it has left the input chains (so none of them is judged late). */
static int advance_watermark(sl_job *job, bool *progress)
{
    if (!job->has_time)
        return SL_OK;
    int64_t wm = combined_watermark(job);
    if (wm != SL_NO_EVENT_TIME && wm > job->wm_pending)
        job->wm_pending = wm;
    if (job->wm_pending == SL_NO_EVENT_TIME ||
        (job->m.watermark_ms != SL_NO_EVENT_TIME &&
         job->wm_pending <= job->m.watermark_ms))
        return SL_OK;
    for (int i = 0; i < job->n_steps; i++) {
        step_rt *s = &job->steps[i];
        if (s->kind != SL_STEP_OPERATOR)
            continue;
        if (s->pending_in)
            return SL_OK;
        if (s->op->ops->on_watermark &&
            s->op->ops->on_watermark(s->op, job->wm_pending, &job->err))
            return job->err.code ? job->err.code : SL_ERROR;
        s->wm = job->wm_pending;
        break; /* operators further down: forward_watermarks() */
    }
    job->m.watermark_ms = job->wm_pending;
    if (job->wm_cell)
        *job->wm_cell = job->wm_pending;
    *progress = true;
    return SL_OK;
}

/* Give each operator after the first the watermark of the operator
 * before it (watermark_out), once every row that operator emitted has
 * left the steps between them. */
static int forward_watermarks(sl_job *job, bool *progress)
{
    int prev = -1;
    for (int i = 0; i < job->n_steps; i++) {
        step_rt *s = &job->steps[i];
        if (s->kind != SL_STEP_OPERATOR)
            continue;
        step_rt *p = prev >= 0 ? &job->steps[prev] : NULL;
        prev = i;
        if (!p || !p->op->ops->watermark_out || s->pending_in ||
            p->out->n_rows > 0)
            continue;
        bool clear = true;
        for (int k = (int)(p - job->steps) + 1; k < i && clear; k++)
            clear = !job->steps[k].pending_in && job->steps[k].out->n_rows == 0;
        int64_t wm = p->op->ops->watermark_out(p->op);
        if (!clear || wm == SL_NO_EVENT_TIME || wm <= s->wm)
            continue;
        if (s->op->ops->on_watermark &&
            s->op->ops->on_watermark(s->op, wm, &job->err))
            return job->err.code ? job->err.code : SL_ERROR;
        s->wm = wm;
        *progress = true;
    }
    return SL_OK;
}

static void src_ready(sl_loop *loop, int fd, unsigned events, void *ctx)
{
    SL_UNUSED(loop);
    SL_UNUSED(fd);
    SL_UNUSED(events);
    input_rt *in = ctx;
    in->ready = true;
}

static int read_sources(sl_job *job, bool *progress)
{
    int64_t t = now_ns();
    for (int j = 0; j < job->n_inputs; j++) {
        input_rt *in = &job->inputs[j];
        if (in->eof || in->read_closed)
            continue;
        if (!in->ready && t >= in->wake_ns)
            in->ready = true;
        if (in->ready && !job->stopping && !job->aligning) {
            int before = in->read->n_rows;
            sl_read_status st = SL_READ_IDLE;
            sl_err e;
            sl_err_clear(&e);
            if (in->src->ops->read(in->src, in->read, &st, &e))
                return fail(job, e.code ? e.code : SL_IO, "source '%s': %s",
                            in->name, e.msg);
            int got = in->read->n_rows - before;
            if (got > 0) {
                *progress = true;
                job->m.rows_read += got;
                in->rows_read += got;
                if (before == 0)
                    in->read_first_ns = t;
            }
            if (st == SL_READ_EOF) {
                in->eof = true;
                *progress = true;
                if (in->wait_fd >= 0) {
                    sl_loop_del_fd(job->loop, in->wait_fd);
                    in->wait_fd = -1;
                }
            } else if (st == SL_READ_IDLE) {
                in->ready = false;
                int fd = -1;
                int64_t wake_ms = -1;
                if (in->src->ops->wait_hint)
                    in->src->ops->wait_hint(in->src, &fd, &wake_ms);
                int64_t now_ms = t / 1000000;
                if (wake_ms >= 0)
                    in->wake_ns =
                        (wake_ms > now_ms ? wake_ms : now_ms) * 1000000;
                else if (fd >= 0)
                    in->wake_ns = INT64_MAX;
                else
                    in->wake_ns = t + (int64_t)IDLE_POLL_MS * 1000000;
                if (fd != in->wait_fd) {
                    if (in->wait_fd >= 0)
                        sl_loop_del_fd(job->loop, in->wait_fd);
                    in->wait_fd = -1;
                }
                if (fd >= 0 && in->wait_fd < 0) {
                    if (sl_loop_add_fd(job->loop, fd, SL_LOOP_READ, src_ready,
                                       in, &job->err))
                        return job->err.code;
                    in->wait_fd = fd;
                }
            }
        }
        if (job->stopping)
            in->eof = true;
        if (in->read->n_rows > 0 &&
            (sl_batch_is_full(in->read) || in->eof || job->linger_ns <= 0 ||
             t - in->read_first_ns >= job->linger_ns)) {
            close_read(job, in);
            if (job->err.code)
                return job->err.code;
            *progress = true;
        }
    }
    return SL_OK;
}

/* finish() operators whose upstream is exhausted. */
static int finish_ops(sl_job *job, bool *all_done, bool *progress)
{
    bool up = inputs_drained(job);
    for (int i = 0; i < job->n_steps; i++) {
        step_rt *s = &job->steps[i];
        bool in_empty = i == 0 || job->steps[i - 1].out->n_rows == 0;
        if (s->kind == SL_STEP_OPERATOR) {
            if (up && in_empty && !s->finished && job->stopping &&
                job->stateful && s->op->ops->unsaved) {
                /* a stop (not the end of the input): the state goes into
                 * the last checkpoint, open windows are not emitted (an
                 * emission half done completes first) */
                if (s->op->ops->unsaved(s->op) == 0) {
                    s->finished = s->drained = true;
                    *progress = true;
                }
            } else if (up && in_empty && !s->finished) {
                if (s->op->ops->finish && s->op->ops->finish(s->op, &job->err))
                    return job->err.code ? job->err.code : SL_ERROR;
                s->finished = true;
                if (!s->op->ops->finish)
                    s->drained = true;
                *progress = true;
            }
            up = up && in_empty && s->drained;
        } else {
            up = up && in_empty && !s->pending_in;
        }
    }
    *all_done = up && terminal_batch(job) == NULL;
    return SL_OK;
}

static void set_paused(sl_job *job, input_rt *in, bool paused)
{
    if (in->paused == paused)
        return;
    in->paused = paused;
    if (paused) {
        in->pause_start_ns = now_ns();
    } else {
        job->m.paused_ms += (now_ns() - in->pause_start_ns) / 1000000;
    }
    if (in->src->ops->pause)
        in->src->ops->pause(in->src, paused);
    /* A paused source's fd may stay readable: stop watching it so the
     * loop does not spin, watch it again on resume. */
    if (in->wait_fd >= 0)
        sl_loop_mod_fd(job->loop, in->wait_fd, paused ? 0 : SL_LOOP_READ, NULL);
}

/* One pass over everything; repeat while it moves data. *busy: the last
 * pass still moved data (MAX_PASSES ran out): do not wait. */
static int pump(sl_job *job, bool *all_done, bool *busy)
{
    bool draining = job->stopping;
    if (!draining) {
        draining = true;
        for (int j = 0; j < job->n_inputs; j++)
            draining = draining && job->inputs[j].eof;
    }
    *all_done = false;
    *busy = false;
    for (int pass = 0; pass < MAX_PASSES; pass++) {
        bool progress = false;
        int rc = deliver(job, draining || job->aligning, &progress);
        if (!rc)
            rc = run_main(job, &progress);
        if (!rc)
            rc = run_inputs(job, &progress);
        if (!rc)
            rc = advance_watermark(job, &progress);
        if (!rc)
            rc = forward_watermarks(job, &progress);
        if (!rc)
            rc = ledger_note(job);
        if (!rc)
            rc = read_sources(job, &progress);
        if (!rc && draining)
            rc = finish_ops(job, all_done, &progress);
        if (rc)
            return rc;
        *busy = progress;
        if (!progress)
            break;
        if (!draining) {
            draining = true;
            for (int j = 0; j < job->n_inputs; j++)
                draining = draining && job->inputs[j].eof;
        }
    }
    int rc = ledger_note(job);
    if (!rc)
        rc = process_acks(job);
    if (job->sink && job->sink->ops->poll && !rc) {
        sl_err e;
        sl_err_clear(&e);
        if (job->sink->ops->poll(job->sink, &e))
            rc = fail(job, e.code ? e.code : SL_IO, "sink: %s", e.msg);
    }
    int64_t t = now_ns();
    for (int j = 0; j < job->n_inputs; j++) {
        input_rt *in = &job->inputs[j];
        set_paused(job, in,
                   !in->eof && in->read_closed &&
                       t - in->closed_ns >= (int64_t)PAUSE_AFTER_MS * 1000000);
    }
    return rc;
}

static int wait_timeout_ms(sl_job *job)
{
    int64_t t = now_ns();
    int64_t best = (int64_t)PUBLISH_MS * 1000000;
    for (int j = 0; j < job->n_inputs; j++) {
        input_rt *in = &job->inputs[j];
        if (!in->eof && in->read_closed && !in->paused)
            best = SL_MIN(best, in->closed_ns +
                                    (int64_t)PAUSE_AFTER_MS * 1000000 - t);
        if (in->eof || in->read_closed)
            continue;
        if (in->ready && !job->aligning)
            return 0;
        if (in->wake_ns != INT64_MAX)
            best = SL_MIN(best, in->wake_ns - t);
        if (in->read->n_rows > 0)
            best = SL_MIN(best, in->read_first_ns + job->linger_ns - t);
    }
    if (job->n_steps > 0 && job->steps[job->n_steps - 1].out->n_rows > 0)
        best = SL_MIN(best, job->term_first_ns + job->linger_ns - t);
    if (job->sink && job->seq_acked < job->seq_written && job->sink_fd < 0)
        best = SL_MIN(best, (int64_t)SINK_POLL_MS * 1000000);
    for (int i = 0; i < job->n_steps; i++) {
        step_rt *s = &job->steps[i];
        if (s->kind != SL_STEP_OPERATOR || !s->op->ops->wait_hint)
            continue;
        int64_t w = s->wakeup_ms;
        if (w >= 0)
            best = SL_MIN(best, w * 1000000 - t);
    }
    if (best <= 0)
        return 0;
    return (int)((best + 999999) / 1000000);
}

static void op_fd_ready(sl_loop *loop, int fd, unsigned events, void *ctx)
{
    SL_UNUSED(loop);
    SL_UNUSED(fd);
    SL_UNUSED(events);
    SL_UNUSED(ctx); /* the next pump pulls every operator */
}

static int sync_op_hints(sl_job *job)
{
    for (int i = 0; i < job->n_steps; i++) {
        step_rt *s = &job->steps[i];
        if (s->kind != SL_STEP_OPERATOR || !s->op->ops->wait_hint)
            continue;
        int fds[MAX_OP_FDS];
        int n = 0;
        int64_t w = -1;
        s->op->ops->wait_hint(s->op, fds, MAX_OP_FDS, &n, &w);
        if (n < 0 || n > MAX_OP_FDS)
            n = 0;
        s->wakeup_ms = w;
        if (n == s->n_fds && memcmp(fds, s->fds, (size_t)n * sizeof(int)) == 0)
            continue; /* unchanged: no epoll_ctl */
        for (int k = 0; k < s->n_fds; k++)
            sl_loop_del_fd(job->loop, s->fds[k]);
        s->n_fds = 0;
        for (int k = 0; k < n; k++) {
            if (sl_loop_add_fd(job->loop, fds[k], SL_LOOP_READ, op_fd_ready, s,
                               &job->err))
                return job->err.code;
            s->fds[s->n_fds++] = fds[k];
        }
    }
    return SL_OK;
}

static void sink_fd_ready(sl_loop *loop, int fd, unsigned events, void *ctx)
{
    SL_UNUSED(loop);
    SL_UNUSED(fd);
    SL_UNUSED(events);
    SL_UNUSED(ctx);
}

static void set_state(sl_job *job, sl_job_state st)
{
    atomic_store(&job->state, (int)st);
}

static int final_flush(sl_job *job)
{
    if (!job->sink)
        return process_acks(job);
    sl_err e;
    sl_err_clear(&e);
    if (job->sink->ops->flush &&
        job->sink->ops->flush(job->sink, job->flush_timeout_ms, &e))
        return fail(job, e.code ? e.code : SL_IO, "sink flush: %s", e.msg);
    int rc = ledger_note(job);
    if (!rc)
        rc = process_acks(job);
    if (!rc && job->seq_acked < job->seq_written)
        rc = fail(job, SL_TIMEOUT,
                  "sink: %llu of %llu batches not acknowledged after %d ms",
                  (unsigned long long)(job->seq_written - job->seq_acked),
                  (unsigned long long)job->seq_written, job->flush_timeout_ms);
    return rc;
}

/* ---- checkpoints -------------------------------------------------------- */

/* Before the first read: operator and source state, then source seeks. */
static int restore_state(sl_job *job)
{
    sqlite3 *db = sl_ckpt_db(job->ckpt);
    char prefix[32];
    for (int i = 0; i < job->n_steps; i++) {
        step_rt *s = &job->steps[i];
        if (s->kind != SL_STEP_OPERATOR || !s->op->ops->restore)
            continue;
        sl_snprintf(prefix, sizeof(prefix), "op%d_", i);
        if (s->op->ops->restore(s->op, db, prefix, &job->err))
            return job->err.code ? job->err.code : SL_ERROR;
    }
    for (int j = 0; j < job->n_inputs; j++) {
        input_rt *in = &job->inputs[j];
        const sl_source_ops *ops = in->src->ops;
        sl_srcpos *pos = NULL;
        int n = 0;
        int rc =
            sl_ckpt_load_positions(job->ckpt, j, in->name, &pos, &n, &job->err);
        if (rc)
            return rc;
        sl_err e;
        sl_err_clear(&e);
        sl_snprintf(prefix, sizeof(prefix), "src%d_", j);
        if (ops->restore && ops->restore(in->src, db, prefix, &e))
            rc = fail(job, e.code ? e.code : SL_IO,
                      "source '%s': restore failed: %s", in->name, e.msg);
        if (!rc && n > 0 && !ops->seek)
            rc = fail(job, SL_UNSUPPORTED,
                      "source '%s' cannot resume from a checkpoint (its "
                      "connector has no seek); use a new 'pipeline.name' or "
                      "an empty 'state.dir'",
                      in->name);
        if (!rc && n > 0 && ops->seek(in->src, pos, n, &e))
            rc = fail(job, e.code ? e.code : SL_IO,
                      "source '%s': cannot resume from the checkpoint: %s",
                      in->name, e.msg);
        if (!rc && n > 0 &&
            (frontier_copy(&in->fr, pos, n) ||
             frontier_copy(&in->committed, pos, n)))
            rc = fail(job, SL_NOMEM, "out of memory");
        sl_free(pos);
        if (rc)
            return rc;
    }
    if (job->sink && job->sink->ops->restore) {
        sl_err e;
        sl_err_clear(&e);
        if (job->sink->ops->restore(job->sink, db, "snk_", &e))
            return fail(job, e.code ? e.code : SL_IO,
                        "sink: cannot recover from the checkpoint: %s", e.msg);
    }
    job->next_ckpt_ns = now_ns() + sl_ckpt_interval_ms(job->ckpt) * 1000000;
    return SL_OK;
}

/* A stateful job's checkpoint waits until no row is in flight between the
 * sources and the operators' state or the sink (reads stop meanwhile). */
static bool aligned(const sl_job *job)
{
    return chain_quiet(job) && job->n_steps > 0 &&
           job->steps[job->n_steps - 1].out->n_rows == 0;
}

static bool same_frontier(const frontier *a, const frontier *b)
{
    return a->n == b->n &&
           (a->n == 0 ||
            memcmp(a->pos, b->pos, (size_t)a->n * sizeof(sl_srcpos)) == 0);
}

/* Flush the sink, ack what it acked, record the acked positions and the
 * snapshots in one transaction (then the store upload). A stateful job
 * checkpoints only when the acked positions are those of every row read
 * (aligned; else *taken stays false: try again later). */
static int take_checkpoint(sl_job *job, bool *taken)
{
    *taken = false;
    if (job->sink && job->sink->ops->flush) {
        sl_err e;
        sl_err_clear(&e);
        if (job->sink->ops->flush(job->sink, job->flush_timeout_ms, &e))
            return fail(job, e.code ? e.code : SL_IO,
                        "checkpoint: sink flush: %s", e.msg);
    }
    int rc = ledger_note(job);
    if (!rc)
        rc = process_acks(job);
    if (rc)
        return rc;
    if (job->stateful) {
        if (!aligned(job))
            return SL_OK;
        for (int j = 0; j < job->n_inputs; j++)
            if (!same_frontier(&job->inputs[j].committed, &job->inputs[j].fr))
                return SL_OK;
    }
    if (!rc)
        rc = sl_ckpt_begin(job->ckpt, &job->err);
    if (rc)
        return rc;
    sqlite3 *db = sl_ckpt_db(job->ckpt);
    char prefix[32];
    for (int j = 0; j < job->n_inputs && !rc; j++) {
        input_rt *in = &job->inputs[j];
        rc = sl_ckpt_save_positions(job->ckpt, j, in->name, in->committed.pos,
                                    in->committed.n, &job->err);
        sl_snprintf(prefix, sizeof(prefix), "src%d_", j);
        if (!rc && in->src->ops->snapshot &&
            in->src->ops->snapshot(in->src, db, prefix, &job->err))
            rc = job->err.code ? job->err.code : SL_ERROR;
    }
    if (!rc && job->m.watermark_ms != SL_NO_EVENT_TIME)
        rc = sl_ckpt_save_watermark(job->ckpt, -1, job->name,
                                    job->m.watermark_ms, &job->err);
    for (int i = 0; i < job->n_steps && !rc; i++) {
        step_rt *s = &job->steps[i];
        if (s->kind != SL_STEP_OPERATOR || !s->op->ops->snapshot)
            continue;
        sl_snprintf(prefix, sizeof(prefix), "op%d_", i);
        if (s->op->ops->snapshot(s->op, db, prefix, &job->err))
            rc = job->err.code ? job->err.code : SL_ERROR;
    }
    if (!rc && job->sink && job->sink->ops->snapshot) {
        sl_err e;
        sl_err_clear(&e);
        if (job->sink->ops->snapshot(job->sink, db, "snk_", &e))
            rc = fail(job, e.code ? e.code : SL_IO, "checkpoint: sink: %s",
                      e.msg);
    }
    if (rc) {
        sl_ckpt_abort(job->ckpt);
        return rc;
    }
    rc = sl_ckpt_commit(job->ckpt, &job->err);
    if (rc) {
        char msg[SL_ERR_MSG_MAX];
        sl_strlcpy(msg, job->err.msg, sizeof(msg));
        sl_err_reset(&job->err, rc, "checkpoint failed: %s", msg);
        return rc;
    }
    job->n_ckpt++;
    if (job->sink && job->sink->ops->checkpoint_committed) {
        /* after the SQLite commit: a sink's transaction commits only once
         * the checkpoint that can redo it is durable */
        sl_err e;
        sl_err_clear(&e);
        if (job->sink->ops->checkpoint_committed(job->sink, &e))
            return fail(job, e.code ? e.code : SL_IO,
                        "sink: commit after checkpoint: %s", e.msg);
    }
    job->next_ckpt_ns = now_ns() + sl_ckpt_interval_ms(job->ckpt) * 1000000;
    *taken = true;
    return SL_OK;
}

static int execute(sl_job *job)
{
    int rc = SL_OK;
    job->m.start_ms = sl_now_ms();
    job->m.watermark_ms = SL_NO_EVENT_TIME;
    job->last_pub_ns = 0;
    publish(job, true);
    for (int i = 0; i < job->n_steps && !rc; i++) {
        step_rt *s = &job->steps[i];
        if (s->kind == SL_STEP_OPERATOR && s->op->ops->attach)
            rc = s->op->ops->attach(s->op, job->loop, &job->err);
    }
    if (!rc && job->sink && job->sink->ops->poll_fd) {
        int fd = job->sink->ops->poll_fd(job->sink);
        if (fd >= 0) {
            rc = sl_loop_add_fd(job->loop, fd, SL_LOOP_READ, sink_fd_ready, job,
                                &job->err);
            if (!rc)
                job->sink_fd = fd;
        }
    }
    if (!rc && job->ckpt)
        rc = restore_state(job);
    for (int i = 0; i < job->n_steps && job->ckpt; i++)
        if (job->steps[i].kind == SL_STEP_OPERATOR &&
            job->steps[i].op->ops->snapshot && job->steps[i].op->ops->unsaved)
            job->stateful = true;
    bool all_done = false, busy = false, taken = false;
    while (!rc) {
        if (atomic_load(&job->stop) && !job->stopping)
            job->stopping = true;
        rc = pump(job, &all_done, &busy);
        if (rc || all_done)
            break;
        if (job->aligning &&
            now_ns() - job->align_start_ns > (int64_t)ALIGN_MAX_MS * 1000000) {
            job->aligning = false; /* give up this one */
            job->next_ckpt_ns =
                now_ns() + sl_ckpt_interval_ms(job->ckpt) * 1000000;
        }
        if (job->aligning && aligned(job)) {
            rc = take_checkpoint(job, &taken);
            if (rc)
                break;
            if (taken) {
                job->aligning = false;
                continue; /* reads go on */
            }
        }
        rc = sync_op_hints(job);
        if (rc)
            break;
        rc = sl_loop_run_once(job->loop, busy ? 0 : wait_timeout_ms(job), NULL,
                              &job->err);
        publish(job, false);
        if (!rc && job->ckpt && !job->aligning &&
            now_ns() >= job->next_ckpt_ns) {
            if (job->stateful) {
                job->aligning = true; /* taken once aligned */
                job->align_start_ns = now_ns();
            } else
                rc = take_checkpoint(job, &taken);
        }
    }
    if (!rc)
        rc = final_flush(job);
    if (!rc && job->ckpt)
        rc = take_checkpoint(job, &taken);
    if (rc && !job->err.code)
        fail(job, rc, "job failed (%s)", sluice_errstr(rc));
    return rc;
}

static void finish_job(sl_job *job, int rc)
{
    job->rc = rc;
    job->m.end_ms = sl_now_ms();
    for (int j = 0; j < job->n_inputs; j++)
        set_paused(job, &job->inputs[j], false);
    publish(job, true);
    sl_job_state st;
    if (rc == SL_OK)
        st = job->stopping ? SL_JOB_CANCELED : SL_JOB_FINISHED;
    else if (job->aborted)
        st = SL_JOB_CANCELED;
    else
        st = SL_JOB_FAILED;
    pthread_mutex_lock(&job->mu);
    job->done = true;
    set_state(job, st);
    pthread_cond_broadcast(&job->cv);
    pthread_mutex_unlock(&job->mu);
}

static void *thread_main(void *arg)
{
    sl_job *job = arg;
    finish_job(job, execute(job));
    return NULL;
}

/* ---- construction ----------------------------------------------------- */

static void close_spec(const sl_job_spec *spec)
{
    for (int j = 0; j < spec->n_inputs && spec->inputs; j++) {
        const sl_job_input *in = &spec->inputs[j];
        for (int k = 0; k < in->n_stages && in->stages; k++)
            sl_stage_free(in->stages[k]);
        sl_stage_free(in->time_stage);
        if (in->source && in->source->ops->close)
            in->source->ops->close(in->source);
    }
    for (int i = 0; i < spec->n_steps && spec->steps; i++) {
        const sl_job_step *s = &spec->steps[i];
        if (s->kind == SL_STEP_STAGE)
            sl_stage_free(s->stage);
        else if (s->op && s->op->ops->close)
            s->op->ops->close(s->op);
    }
    if (spec->sink && spec->sink->ops->close)
        spec->sink->ops->close(spec->sink);
    if (spec->db)
        sqlite3_close_v2(spec->db);
    sl_ckpt_free(spec->ckpt);
}

static int check_spec(const sl_job_spec *spec, sl_err *err)
{
    if (spec->n_inputs < 1 || spec->n_inputs > SL_JOB_MAX_INPUTS ||
        !spec->inputs)
        return sl_err_set(err, SL_MISUSE, "a job needs 1..%d inputs",
                          SL_JOB_MAX_INPUTS);
    if (spec->n_steps < 0 || spec->n_steps > SL_JOB_MAX_STEPS ||
        (spec->n_steps && !spec->steps))
        return sl_err_set(err, SL_MISUSE, "a job takes 0..%d steps",
                          SL_JOB_MAX_STEPS);
    if (!spec->sink == !spec->row_cb)
        return sl_err_set(err, SL_MISUSE,
                          "a job needs exactly one of a sink and a row "
                          "callback");
    if (!spec->out_schema)
        return sl_err_set(err, SL_MISUSE, "a job needs its out schema");
    for (int j = 0; j < spec->n_inputs; j++) {
        const sl_job_input *in = &spec->inputs[j];
        if (!in->source || !in->schema || in->n_stages < 0 ||
            (in->n_stages && !in->stages))
            return sl_err_set(err, SL_MISUSE, "input %d is incomplete", j);
        for (int k = 0; k < in->n_stages; k++)
            if (!in->stages[k])
                return sl_err_set(err, SL_MISUSE, "input %d: stage %d NULL", j,
                                  k);
    }
    for (int i = 0; i < spec->n_steps; i++) {
        const sl_job_step *s = &spec->steps[i];
        if ((s->kind == SL_STEP_STAGE && !s->stage) ||
            (s->kind == SL_STEP_OPERATOR &&
             (!s->op || !s->op->ops || !s->op->out_schema)) ||
            (s->kind != SL_STEP_STAGE && s->kind != SL_STEP_OPERATOR))
            return sl_err_set(err, SL_MISUSE, "step %d is incomplete", i);
        if (s->kind == SL_STEP_OPERATOR &&
            s->op->ops->version != SL_OPERATOR_VERSION)
            return sl_err_set(err, SL_MISUSE,
                              "step %d: operator version %d, expected %d", i,
                              s->op->ops->version, SL_OPERATOR_VERSION);
    }
    int rows = spec->batch_rows ? spec->batch_rows : SL_BATCH_DEFAULT_ROWS;
    if (rows < 1 || rows > SL_BATCH_MAX_ROWS)
        return sl_err_set(err, SL_MISUSE, "batch_rows %d out of 1..%d",
                          spec->batch_rows, SL_BATCH_MAX_ROWS);
    return SL_OK;
}

static void step_name(sl_step_metrics *m, const char *prefix, const char *name)
{
    if (prefix)
        sl_snprintf(m->name, sizeof(m->name), "%s: %s", prefix, name);
    else
        sl_snprintf(m->name, sizeof(m->name), "%s", name);
}

static int step_init(step_rt *s, sl_job_step_kind kind, sl_stage *stage,
                     sl_operator *op, const char *name, const char *prefix,
                     int rows)
{
    s->kind = kind;
    s->stage = stage;
    s->op = op;
    s->wakeup_ms = -1;
    s->wm = SL_NO_EVENT_TIME;
    const sl_schema *out =
        kind == SL_STEP_STAGE ? sl_stage_out_schema(stage) : op->out_schema;
    if (!name)
        name = kind == SL_STEP_STAGE ? sl_stage_name(stage)
                                     : (op->ops->name ? op->ops->name : "op");
    step_name(&s->m, prefix, name);
    s->out = sl_batch_new(out, rows);
    return s->out ? SL_OK : SL_NOMEM;
}

static void free_buffers(sl_job *job);

/* The published per-source and per-model arrays, named once. */
static bool detail_init(sl_job *job, const sl_job_spec *spec)
{
    for (int i = 0; i < spec->n_steps; i++)
        if (spec->steps[i].kind == SL_STEP_OPERATOR &&
            sl_model_op_is(spec->steps[i].op))
            job->n_models++;
    job->pub_sources = sl_calloc((size_t)(spec->n_inputs ? spec->n_inputs : 1),
                                 sizeof(sl_source_metrics));
    job->pub_models = sl_calloc((size_t)(job->n_models ? job->n_models : 1),
                                sizeof(sl_job_model_metrics));
    if (!job->pub_sources || !job->pub_models)
        return false;
    for (int j = 0; j < spec->n_inputs; j++)
        sl_strlcpy(job->pub_sources[j].name, job->inputs[j].name,
                   sizeof(job->pub_sources[j].name));
    int k = 0;
    for (int i = 0; i < spec->n_steps; i++)
        if (spec->steps[i].kind == SL_STEP_OPERATOR &&
            sl_model_op_is(spec->steps[i].op))
            sl_strlcpy(job->pub_models[k++].step, job->steps[i].m.name,
                       sizeof(job->pub_models[0].step));
    return true;
}

int sl_job_new(const sl_job_spec *spec, sl_job **out, sl_err *err)
{
    *out = NULL;
    int rc = check_spec(spec, err);
    if (rc) {
        close_spec(spec);
        return rc;
    }
    sl_job *job = sl_calloc(1, sizeof(*job));
    if (!job) {
        close_spec(spec);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    pthread_mutex_init(&job->mu, NULL);
    pthread_cond_init(&job->cv, NULL);
    atomic_init(&job->state, SL_JOB_CREATED);
    atomic_init(&job->stop, 0);
    job->db = spec->db;
    job->ckpt = spec->ckpt;
    job->sink = spec->sink;
    job->row_cb = spec->row_cb;
    job->row_ctx = spec->row_ctx;
    job->out_schema = spec->out_schema;
    job->sink_fd = -1;
    job->wm_pending = SL_NO_EVENT_TIME;
    job->wm_cell = spec->watermark_cell;
    job->batch_rows =
        spec->batch_rows ? spec->batch_rows : SL_BATCH_DEFAULT_ROWS;
    int linger = spec->linger_ms ? spec->linger_ms : SL_JOB_DEFAULT_LINGER_MS;
    job->linger_ns = linger < 0 ? 0 : (int64_t)linger * 1000000;
    job->max_unacked = spec->max_unacked_batches > 0 ? spec->max_unacked_batches
                                                     : SL_JOB_DEFAULT_UNACKED;
    job->flush_timeout_ms = spec->sink_flush_timeout_ms > 0
                                ? spec->sink_flush_timeout_ms
                                : DEFAULT_FLUSH_MS;
    job->name = sl_strdup(spec->name ? spec->name : "job");
    job->n_inputs = spec->n_inputs;
    job->n_steps = spec->n_steps;
    job->inputs = sl_calloc((size_t)spec->n_inputs, sizeof(input_rt));
    job->steps =
        sl_calloc((size_t)(spec->n_steps ? spec->n_steps : 1), sizeof(step_rt));
    job->cap_ledger = job->max_unacked + 2;
    job->ledger = sl_calloc((size_t)job->cap_ledger, sizeof(snap));
    bool ok = job->name && job->inputs && job->steps && job->ledger;
    int n_metric = spec->n_steps;
    for (int j = 0; ok && j < spec->n_inputs; j++) {
        const sl_job_input *si = &spec->inputs[j];
        input_rt *in = &job->inputs[j];
        in->src = si->source;
        in->schema = si->schema;
        in->wait_fd = -1;
        in->ready = true;
        in->name = sl_strdup(si->name ? si->name : "source");
        in->read = sl_batch_new(si->schema, job->batch_rows);
        in->time_stage = si->time_stage;
        sl_wm_init(&in->wmt, si->idle_timeout_ms, sl_mono_ns() / 1000000);
        in->wm_safe = SL_NO_EVENT_TIME;
        if (si->time_stage) {
            job->has_time = true;
            in->time_out = sl_batch_new(sl_stage_out_schema(si->time_stage),
                                        job->batch_rows);
            ok = in->time_out != NULL;
        }
        in->n_stages = si->n_stages;
        in->stages = sl_calloc((size_t)(si->n_stages ? si->n_stages : 1),
                               sizeof(step_rt));
        ok = ok && in->name && in->read && in->stages;
        n_metric += si->n_stages;
        for (int k = 0; ok && k < si->n_stages; k++)
            ok = step_init(&in->stages[k], SL_STEP_STAGE, si->stages[k], NULL,
                           NULL, in->name, job->batch_rows) == SL_OK;
    }
    for (int i = 0; ok && i < spec->n_steps; i++) {
        const sl_job_step *ss = &spec->steps[i];
        ok = step_init(&job->steps[i], ss->kind, ss->stage, ss->op, ss->name,
                       NULL, job->batch_rows) == SL_OK;
    }
    job->n_metric_steps = n_metric;
    job->pub_steps =
        sl_calloc((size_t)(n_metric ? n_metric : 1), sizeof(sl_step_metrics));
    job->m.n_steps = n_metric;
    ok = ok && job->pub_steps && detail_init(job, spec);
    if (ok)
        ok = sl_loop_new(&job->loop, err) == SL_OK;
    else
        sl_err_set(err, SL_NOMEM, "out of memory");
    if (!ok) {
        /* Nothing in spec was closed yet: close it from spec. */
        free_buffers(job);
        close_spec(spec);
        sl_loop_free(job->loop);
        sl_free(job->inputs);
        sl_free(job->steps);
        sl_free(job->ledger);
        sl_free(job->pub_steps);
        sl_free(job->pub_sources);
        sl_free(job->pub_models);
        sl_free(job->name);
        pthread_mutex_destroy(&job->mu);
        pthread_cond_destroy(&job->cv);
        sl_free(job);
        return err->code ? err->code : SL_NOMEM;
    }
    *out = job;
    return SL_OK;
}

/* The job's own memory: batches, names, frontiers, ledger entries. */
static void free_buffers(sl_job *job)
{
    for (int j = 0; job->inputs && j < job->n_inputs; j++) {
        input_rt *in = &job->inputs[j];
        for (int k = 0; in->stages && k < in->n_stages; k++)
            sl_batch_free(in->stages[k].out);
        sl_free(in->stages);
        in->stages = NULL;
        sl_batch_free(in->read);
        in->read = NULL;
        sl_batch_free(in->time_out);
        in->time_out = NULL;
        sl_wm_free(&in->wmt);
        sl_free(in->fr.pos);
        in->fr.pos = NULL;
        sl_free(in->committed.pos);
        in->committed.pos = NULL;
        sl_free(in->name);
        in->name = NULL;
    }
    for (int i = 0; job->steps && i < job->n_steps; i++) {
        sl_batch_free(job->steps[i].out);
        job->steps[i].out = NULL;
    }
    for (int i = 0; job->ledger && i < job->n_ledger; i++)
        snap_free(&job->ledger[i], job->n_inputs);
    job->n_ledger = 0;
}

/* Close what the job owns: stages, operators, sources, sink, then db. */
static void release(sl_job *job)
{
    for (int j = 0; j < job->n_inputs; j++) {
        input_rt *in = &job->inputs[j];
        if (in->wait_fd >= 0)
            sl_loop_del_fd(job->loop, in->wait_fd);
        for (int k = 0; k < in->n_stages; k++)
            sl_stage_free(in->stages[k].stage);
        sl_stage_free(in->time_stage);
        in->time_stage = NULL;
        if (in->src->ops->close)
            in->src->ops->close(in->src);
    }
    for (int i = 0; i < job->n_steps; i++) {
        step_rt *s = &job->steps[i];
        if (s->kind == SL_STEP_STAGE)
            sl_stage_free(s->stage);
        else if (s->op->ops->close)
            s->op->ops->close(s->op);
    }
    if (job->sink && job->sink->ops->close)
        job->sink->ops->close(job->sink);
    if (job->db)
        sqlite3_close_v2(job->db);
    free_buffers(job);
}

void sl_job_free(sl_job *job)
{
    if (!job)
        return;
    if (job->has_thread && !job->joined) {
        sl_job_stop(job);
        pthread_join(job->thread, NULL);
        job->joined = true;
    }
    release(job);
    sl_ckpt_free(job->ckpt);
    sl_loop_free(job->loop);
    sl_free(job->inputs);
    sl_free(job->steps);
    sl_free(job->ledger);
    sl_free(job->pub_steps);
    sl_free(job->pub_sources);
    sl_free(job->pub_models);
    sl_free(job->name);
    pthread_mutex_destroy(&job->mu);
    pthread_cond_destroy(&job->cv);
    sl_free(job);
}

/* ---- control ---------------------------------------------------------- */

static int begin(sl_job *job, sl_err *err)
{
    int expected = SL_JOB_CREATED;
    if (!atomic_compare_exchange_strong(&job->state, &expected, SL_JOB_RUNNING))
        return sl_err_set(err, SL_MISUSE, "job '%s' was already started",
                          job->name);
    return SL_OK;
}

static int result(sl_job *job, sl_err *err)
{
    if (job->rc && err)
        sl_err_set(err, job->rc, "%s", job->err.msg);
    if (job->rc == SL_OK || (job->stopping && !job->aborted && !job->rc))
        return SL_OK;
    return job->rc;
}

int sl_job_start(sl_job *job, sl_err *err)
{
    int rc = begin(job, err);
    if (rc)
        return rc;
    if (pthread_create(&job->thread, NULL, thread_main, job) != 0) {
        set_state(job, SL_JOB_CREATED);
        return sl_err_set(err, SL_ERROR, "cannot start the job thread");
    }
    job->has_thread = true;
    return SL_OK;
}

int sl_job_run(sl_job *job, sl_err *err)
{
    int rc = begin(job, err);
    if (rc)
        return rc;
    finish_job(job, execute(job));
    return result(job, err);
}

void sl_job_stop(sl_job *job)
{
    atomic_store(&job->stop, 1);
    sl_loop_wakeup(job->loop);
}

void sl_job_request_stop_from_signal(sl_job *job)
{
    atomic_store(&job->stop, 1); /* lock-free atomic: signal-safe */
    sl_loop_wakeup(job->loop);   /* write(2) on the eventfd */
}

int sl_job_wait(sl_job *job, int timeout_ms, sl_err *err)
{
    pthread_mutex_lock(&job->mu);
    if (atomic_load(&job->state) == SL_JOB_CREATED) {
        pthread_mutex_unlock(&job->mu);
        return sl_err_set(err, SL_MISUSE, "job '%s' was not started",
                          job->name);
    }
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    if (timeout_ms >= 0) {
        dl.tv_sec += timeout_ms / 1000;
        dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
        if (dl.tv_nsec >= 1000000000) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000;
        }
    }
    while (!job->done) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&job->cv, &job->mu);
        } else if (pthread_cond_timedwait(&job->cv, &job->mu, &dl) != 0 &&
                   !job->done) {
            pthread_mutex_unlock(&job->mu);
            return sl_err_set(err, SL_TIMEOUT, "job '%s' still running",
                              job->name);
        }
    }
    pthread_mutex_unlock(&job->mu);
    if (job->has_thread && !job->joined) {
        pthread_join(job->thread, NULL);
        job->joined = true;
    }
    return result(job, err);
}

sl_job_state sl_job_state_get(const sl_job *job)
{
    return (sl_job_state)atomic_load(&((sl_job *)job)->state);
}

const char *sl_job_state_name(sl_job_state state)
{
    switch (state) {
    case SL_JOB_CREATED:
        return "CREATED";
    case SL_JOB_RUNNING:
        return "RUNNING";
    case SL_JOB_FINISHED:
        return "FINISHED";
    case SL_JOB_FAILED:
        return "FAILED";
    case SL_JOB_CANCELED:
        return "CANCELED";
    }
    return "UNKNOWN";
}

const char *sl_job_error(const sl_job *job)
{
    sl_job_state st = sl_job_state_get(job);
    if (st != SL_JOB_FAILED && st != SL_JOB_CANCELED)
        return "";
    return job->err.msg;
}

void sl_job_metrics_get(sl_job *job, sl_job_metrics *metrics,
                        sl_step_metrics *steps, int max_steps)
{
    pthread_mutex_lock(&job->mu);
    if (metrics)
        *metrics = job->pub;
    for (int i = 0; steps && i < max_steps && i < job->n_metric_steps; i++)
        steps[i] = job->pub_steps[i];
    pthread_mutex_unlock(&job->mu);
}

int sl_job_detail_get(sl_job *job, sl_source_metrics *out, int max,
                      sl_job_model_metrics *models, int max_models,
                      int *n_models)
{
    pthread_mutex_lock(&job->mu);
    for (int j = 0; out && j < max && j < job->n_inputs; j++)
        out[j] = job->pub_sources[j];
    for (int k = 0; models && k < max_models && k < job->n_models; k++)
        models[k] = job->pub_models[k];
    if (n_models)
        *n_models = job->n_models;
    pthread_mutex_unlock(&job->mu);
    return job->n_inputs;
}

sl_ckpt *sl_job_ckpt(sl_job *job)
{
    return job->ckpt;
}

int64_t sl_job_checkpoints(sl_job *job)
{
    return job->ckpt ? job->n_ckpt : 0;
}

sl_loop *sl_job_loop(sl_job *job)
{
    return job->loop;
}

int sl_job_db_open(sqlite3 **db, sl_err *err)
{
    *db = NULL;
    int rc = sqlite3_open_v2(
        ":memory:", db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        sl_err_set(err, rc == SQLITE_NOMEM ? SL_NOMEM : SL_ERROR,
                   "cannot open the job's SQLite connection: %s",
                   *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
        sqlite3_close_v2(*db);
        *db = NULL;
        return err->code;
    }
    rc = sl_vtab_register(*db, err);
    if (rc) {
        sqlite3_close_v2(*db);
        *db = NULL;
    }
    return rc;
}
