/*
 * op_model.c: the async model operator (see op_model.h).
 *
 * Rows pushed by the job are copied into slots of a ring indexed by their
 * sequence number; a slot holds the input values (strings copied), the
 * row's kind, event time and source position until the client returns its
 * result, in input order (ORDERED) or as results complete (ALLOW_UNORDERED,
 * fenced by barriers at watermarks). Rows not yet accepted by the client
 * stay in the ring and are submitted on the next pull. The client is
 * driven without blocking: pull() runs one non-blocking round of it and
 * wait_hint() reports its sockets and next deadline to the job's loop.
 */
#include <string.h>

#include "op_model.h"

#define MAX_FDS 32

typedef struct slot {
    bool used;
    uint64_t seq;
    uint8_t kind;
    int64_t etime;
    sl_srcpos pos;
    sl_value *vals; /* in->n_cols values; TEXT/BLOB owned (sl_malloc) */
} slot;

typedef struct model_op {
    sl_operator base;
    sl_model_client *client;
    int n_in;       /* columns of in_schema */
    int n_model_in; /* model INPUT columns */
    int *input_cols;
    int n_model_out;
    int cap; /* ring size (power of two) */
    slot *ring;
    uint64_t next_seq;    /* seq of the next pushed row */
    uint64_t next_submit; /* next seq to hand to the client */
    int64_t held;         /* rows in the ring */
    bool finishing;
    sl_value *model_inputs; /* scratch for submit */
    /* a result taken from the client that did not fit in the out batch */
    bool has_carry;
    uint64_t carry_seq;
    sl_model_status carry_status;
    sl_value *carry_out; /* n_model_out values, copied */
    /* dead-letter sink ('error.sink') */
    sl_sink *dead;
    const sl_schema *dead_schema;
    int *dead_map;
    char *model_name;
    sl_batch *dead_batch;
    uint64_t dead_seq;
    int64_t dead_rows;
    bool has_error_columns; /* OUTPUT declares METADATA error columns */
    bool barrier_pending;   /* a watermark fence the client refused */
    uint64_t barrier_seq;
    int64_t ignored_rows;
} model_op;

static void free_values(sl_value *v, int n)
{
    if (!v)
        return;
    for (int i = 0; i < n; i++)
        if (v[i].kind == SL_V_TEXT || v[i].kind == SL_V_BLOB)
            sl_free((void *)v[i].u.s);
    sl_free(v);
}

static int copy_values(const sl_value *src, int n, sl_value **out)
{
    sl_value *v = sl_calloc((size_t)(n ? n : 1), sizeof(sl_value));
    if (!v)
        return SL_NOMEM;
    for (int i = 0; i < n; i++) {
        v[i] = src[i];
        if (src[i].kind == SL_V_TEXT || src[i].kind == SL_V_BLOB) {
            char *d = sl_malloc((size_t)src[i].len + 1);
            if (!d) {
                v[i].kind = SL_V_NULL;
                free_values(v, n);
                return SL_NOMEM;
            }
            memcpy(d, src[i].u.s, src[i].len);
            d[src[i].len] = '\0';
            v[i].u.s = d;
        }
    }
    *out = v;
    return SL_OK;
}

static slot *slot_of(model_op *m, uint64_t seq)
{
    return &m->ring[seq & (uint64_t)(m->cap - 1)];
}

static int op_push(sl_operator *op, const sl_batch *batch, bool *accepted,
                   sl_err *err)
{
    model_op *m = (model_op *)op;
    if (m->held + batch->n_rows > m->cap) {
        *accepted = false;
        return SL_OK;
    }
    /* every slot must be unused (unordered completion can leave an old row
     * in a slot the ring wraps onto) */
    for (int r = 0; r < batch->n_rows; r++) {
        if (slot_of(m, m->next_seq + (uint64_t)r)->used) {
            *accepted = false;
            return SL_OK;
        }
    }
    for (int r = 0; r < batch->n_rows; r++) {
        slot *s = slot_of(m, m->next_seq);
        int rc = copy_values(sl_batch_crow(batch, r), m->n_in, &s->vals);
        if (rc)
            return sl_err_set(err, rc, "out of memory copying a model row");
        s->used = true;
        s->seq = m->next_seq++;
        s->kind = batch->kinds[r];
        s->etime = batch->event_time[r];
        s->pos = batch->pos[r];
        m->held++;
    }
    *accepted = true;
    return SL_OK;
}

static int submit_pending(model_op *m, sl_err *err)
{
    while (m->next_submit < m->next_seq) {
        slot *s = slot_of(m, m->next_submit);
        for (int i = 0; i < m->n_model_in; i++)
            m->model_inputs[i] = s->vals[m->input_cols[i]];
        int rc =
            sl_model_client_submit(m->client, s->seq, m->model_inputs, err);
        if (rc == SL_LIMIT || rc == SL_MODEL_EXHAUSTED) {
            if (rc == SL_MODEL_EXHAUSTED && err->code == SL_MODEL_EXHAUSTED)
                sl_err_clear(err);
            return SL_OK; /* try again later */
        }
        if (rc)
            return rc;
        m->next_submit++;
    }
    return SL_OK;
}

static int emit(model_op *m, uint64_t seq, sl_model_status status,
                const sl_value *outputs, sl_batch *out, sl_err *err)
{
    slot *s = slot_of(m, seq);
    if (!s->used || s->seq != seq)
        return sl_err_set(err, SL_ERROR,
                          "internal: model result for unknown row %llu",
                          (unsigned long long)seq);
    sl_value *row = sl_batch_append_row(out);
    if (!row)
        return SL_LIMIT;
    int r = out->n_rows - 1;
    out->kinds[r] = s->kind;
    out->event_time[r] = s->etime;
    out->pos[r] = s->pos;
    for (int i = 0; i < m->n_in + m->n_model_out; i++) {
        const sl_value *v = i < m->n_in ? &s->vals[i] : &outputs[i - m->n_in];
        if (status == SL_MODEL_ROW_FAILED && i >= m->n_in) {
            row[i] = sl_value_null();
            continue;
        }
        if (v->kind == SL_V_TEXT) {
            if (sl_batch_set_text(out, &row[i], v->u.s, v->len))
                return sl_err_set(err, SL_NOMEM, "out of memory");
        } else if (v->kind == SL_V_BLOB) {
            if (sl_batch_set_blob(out, &row[i], v->u.b, v->len))
                return sl_err_set(err, SL_NOMEM, "out of memory");
        } else {
            row[i] = *v;
        }
    }
    free_values(s->vals, m->n_in);
    s->vals = NULL;
    s->used = false;
    m->held--;
    return SL_OK;
}

/* Put a dead-lettered row into the dead-letter batch (written when full
 * and at the end of each pull); the row leaves the operator. */
static int dead_letter(model_op *m, const sl_model_result *res, sl_err *err)
{
    slot *s = slot_of(m, res->seq);
    if (!s->used || s->seq != res->seq)
        return sl_err_set(err, SL_ERROR,
                          "internal: dead letter for unknown "
                          "row");
    if (sl_batch_is_full(m->dead_batch)) {
        int rc =
            m->dead->ops->write(m->dead, m->dead_batch, ++m->dead_seq, err);
        if (rc)
            return rc;
        sl_batch_clear(m->dead_batch);
    }
    sl_value *row = sl_batch_append_row(m->dead_batch);
    int r = m->dead_batch->n_rows - 1;
    m->dead_batch->pos[r] = s->pos;
    m->dead_batch->event_time[r] = s->etime;
    for (int c = 0; c < m->dead_schema->n_cols; c++) {
        int src = m->dead_map[c];
        int rc = SL_OK;
        if (src >= 0 && src < m->n_in) {
            const sl_value *v = &s->vals[src];
            if (v->kind == SL_V_TEXT)
                rc = sl_batch_set_text(m->dead_batch, &row[c], v->u.s, v->len);
            else if (v->kind == SL_V_BLOB)
                rc = sl_batch_set_blob(m->dead_batch, &row[c], v->u.b, v->len);
            else
                row[c] = *v;
        } else if (src == SL_DEAD_ERROR && res->error) {
            rc = sl_batch_set_text(m->dead_batch, &row[c], res->error,
                                   strlen(res->error));
        } else if (src == SL_DEAD_STATUS) {
            row[c] = sl_value_int(res->http_status);
        } else if (src == SL_DEAD_MODEL) {
            rc = sl_batch_set_text(m->dead_batch, &row[c], m->model_name,
                                   strlen(m->model_name));
        }
        if (rc)
            return sl_err_set(err, rc, "out of memory (dead letter)");
    }
    free_values(s->vals, m->n_in);
    s->vals = NULL;
    s->used = false;
    m->held--;
    m->dead_rows++;
    return SL_OK;
}

static int flush_dead(model_op *m, sl_err *err)
{
    if (!m->dead || m->dead_batch->n_rows == 0)
        return SL_OK;
    int rc = m->dead->ops->write(m->dead, m->dead_batch, ++m->dead_seq, err);
    sl_batch_clear(m->dead_batch);
    return rc;
}

static int op_pull(sl_operator *op, sl_batch *out, sl_op_status *status,
                   sl_err *err)
{
    model_op *m = (model_op *)op;
    *status = SL_OP_IDLE;
    int rc = submit_pending(m, err);
    if (rc)
        return rc;
    if (m->held > 0 && sl_model_client_run(m->client, 0))
        return sl_err_set(err, SL_IO, "model client: polling failed");
    rc = submit_pending(m, err);
    if (rc)
        return rc;
    if (m->has_carry) {
        if (sl_batch_is_full(out)) {
            *status = SL_OP_READY;
            return SL_OK;
        }
        rc = emit(m, m->carry_seq, m->carry_status, m->carry_out, out, err);
        if (rc)
            return rc;
        free_values(m->carry_out, m->n_model_out);
        m->carry_out = NULL;
        m->has_carry = false;
    }
    sl_model_result res;
    while (sl_model_client_next_result(m->client, &res) == SL_OK) {
        if (res.status == SL_MODEL_ROW_FAILED)
            return sl_err_set(err, res.error_code ? res.error_code : SL_RUNTIME,
                              "%s",
                              res.error ? res.error : "model call failed");
        if (res.status == SL_MODEL_ROW_IGNORED && !m->has_error_columns) {
            /* as Flink: an ignored row without error columns is dropped */
            slot *s = slot_of(m, res.seq);
            if (s->used && s->seq == res.seq) {
                free_values(s->vals, m->n_in);
                s->vals = NULL;
                s->used = false;
                m->held--;
            }
            m->ignored_rows++;
            continue;
        }
        if (res.status == SL_MODEL_ROW_DEAD_LETTER && m->dead) {
            rc = dead_letter(m, &res, err);
            if (rc)
                return rc;
            continue;
        }
        if (sl_batch_is_full(out)) {
            rc = copy_values(res.outputs, m->n_model_out, &m->carry_out);
            if (rc)
                return sl_err_set(err, rc, "out of memory");
            m->has_carry = true;
            m->carry_seq = res.seq;
            m->carry_status = res.status;
            *status = SL_OP_READY;
            return SL_OK;
        }
        rc = emit(m, res.seq, res.status, res.outputs, out, err);
        if (rc)
            return rc;
    }
    rc = flush_dead(m, err);
    if (rc)
        return rc;
    if (m->barrier_pending &&
        sl_model_client_barrier(m->client, m->barrier_seq) == SL_OK)
        m->barrier_pending = false;
    if (m->held == 0 && m->finishing) {
        if (m->dead && m->dead->ops->flush) {
            rc = m->dead->ops->flush(m->dead, 30000, err);
            if (rc)
                return rc;
        }
        *status = SL_OP_DRAINED;
    } else if (m->next_submit < m->next_seq && m->held > 0 &&
               sl_model_client_pending(m->client) == 0)
        *status = SL_OP_READY; /* room in the client again */
    return SL_OK;
}

static void op_wait_hint(sl_operator *op, int *fds, int max_fds, int *n_fds,
                         int64_t *wakeup_ms)
{
    model_op *m = (model_op *)op;
    *n_fds = 0;
    *wakeup_ms = -1;
    if (m->held == 0)
        return;
    sl_model_fd mf[MAX_FDS];
    int n = sl_model_client_fds(m->client, mf, MAX_FDS);
    bool wants_out = false;
    for (int i = 0; i < n && i < MAX_FDS && *n_fds < max_fds; i++) {
        fds[(*n_fds)++] = mf[i].fd;
        if (mf[i].events & SL_MODEL_FD_OUT)
            wants_out = true;
    }
    int64_t t = sl_model_client_timeout_ms(m->client);
    int64_t now = sl_mono_ns() / 1000000;
    /* sockets waiting to write (connecting) are not polled by the job's
     * loop, so look again soon; never sleep longer than 50 ms with work in
     * flight */
    int64_t cap = wants_out || n > MAX_FDS ? 1 : 50;
    if (t < 0 || t > cap)
        t = cap;
    *wakeup_ms = now + t;
}

static int op_on_watermark(sl_operator *op, int64_t watermark_ms, sl_err *err)
{
    model_op *m = (model_op *)op;
    SL_UNUSED(watermark_ms);
    if (m->next_seq == 0)
        return SL_OK;
    int rc = sl_model_client_barrier(m->client, m->next_seq - 1);
    if (rc == SL_LIMIT) {
        /* too many open fences: set it again once results drained */
        m->barrier_pending = true;
        m->barrier_seq = m->next_seq - 1;
        return SL_OK;
    }
    if (rc)
        return sl_err_set(err, rc, "model operator: barrier failed");
    return SL_OK;
}

static int op_finish(sl_operator *op, sl_err *err)
{
    SL_UNUSED(err);
    ((model_op *)op)->finishing = true;
    return SL_OK;
}

static int64_t op_buffered(sl_operator *op)
{
    return ((model_op *)op)->held;
}

static void op_close(sl_operator *op)
{
    model_op *m = (model_op *)op;
    if (!m)
        return;
    sl_model_client_free(m->client);
    for (int i = 0; m->ring && i < m->cap; i++)
        if (m->ring[i].used)
            free_values(m->ring[i].vals, m->n_in);
    free_values(m->carry_out, m->n_model_out);
    if (m->dead)
        m->dead->ops->close(m->dead);
    sl_batch_free(m->dead_batch);
    sl_free(m->dead_map);
    sl_free(m->model_name);
    sl_free(m->ring);
    sl_free(m->input_cols);
    sl_free(m->model_inputs);
    sl_free(m);
}

static const sl_operator_ops model_ops = {
    .version = SL_OPERATOR_VERSION,
    .name = "ml_predict",
    .push = op_push,
    .pull = op_pull,
    .wait_hint = op_wait_hint,
    .on_watermark = op_on_watermark,
    .finish = op_finish,
    .buffered = op_buffered,
    .close = op_close,
};

int sl_model_op_new(const sl_schema *in, const sl_schema *out,
                    const int *input_cols, const sl_model_def *def,
                    sl_options *call_opts, int max_queued, sl_operator **op,
                    sl_err *err)
{
    *op = NULL;
    model_op *m = sl_calloc(1, sizeof(*m));
    if (!m)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    m->base.ops = &model_ops;
    m->base.in_schema = in;
    m->base.out_schema = out;
    m->n_in = in->n_cols;
    m->n_model_in = def->input->n_cols;
    m->n_model_out = def->output->n_cols;
    int want = max_queued > 0 ? max_queued : 4096;
    m->cap = 64;
    while (m->cap < want && m->cap < (1 << 20))
        m->cap *= 2;
    m->ring = sl_calloc((size_t)m->cap, sizeof(slot));
    m->input_cols = sl_calloc((size_t)m->n_model_in + 1, sizeof(int));
    m->model_inputs = sl_calloc((size_t)m->n_model_in + 1, sizeof(sl_value));
    if (!m->ring || !m->input_cols || !m->model_inputs) {
        op_close(&m->base);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    memcpy(m->input_cols, input_cols, sizeof(int) * (size_t)m->n_model_in);
    for (int i = 0; def->output_metadata && i < m->n_model_out; i++)
        if (def->output_metadata[i])
            m->has_error_columns = true;
    if (out->n_cols != m->n_in + m->n_model_out) {
        op_close(&m->base);
        return sl_err_set(err, SL_ERROR,
                          "internal: model operator schema mismatch");
    }
    m->client = sl_model_client_new(def, call_opts, err);
    if (!m->client) {
        op_close(&m->base);
        return err->code ? err->code : SL_ERROR;
    }
    *op = &m->base;
    return SL_OK;
}

int sl_model_op_set_dead_letter(sl_operator *op, sl_sink *sink,
                                const sl_schema *schema, const int *col_map,
                                const char *model_name, sl_err *err)
{
    model_op *m = (model_op *)op;
    if (!op || op->ops != &model_ops) {
        if (sink)
            sink->ops->close(sink);
        return sl_err_set(err, SL_MISUSE, "not a model operator");
    }
    m->dead = sink;
    m->dead_schema = schema;
    m->dead_map = sl_calloc((size_t)schema->n_cols + 1, sizeof(int));
    m->model_name = sl_strdup(model_name ? model_name : "");
    m->dead_batch = sl_batch_new(schema, 256);
    if (!m->dead_map || !m->model_name || !m->dead_batch)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    memcpy(m->dead_map, col_map, sizeof(int) * (size_t)schema->n_cols);
    return SL_OK;
}

bool sl_model_op_is(const sl_operator *op)
{
    return op && op->ops == &model_ops;
}

void sl_model_op_metrics(sl_operator *op, sl_model_metrics *out)
{
    memset(out, 0, sizeof(*out));
    if (op && op->ops == &model_ops)
        sl_model_client_metrics(((model_op *)op)->client, out);
}
