/*
 * op_identity.c: the identity operator (see operator.h): rows pass through
 * unchanged, held in a bounded buffer between push() and pull(). It is the
 * reference implementation of the operator contract and lets tests build
 * pipelines with an operator step and exercise backpressure (a full
 * identity operator refuses pushes).
 */
#include <string.h>

#include "operator.h"

typedef struct identity_op {
    sl_operator base;
    sl_batch *hold; /* rows pushed, not yet pulled: [rd, n_rows) */
    int rd;
    bool finished;
} identity_op;

/* Copy row r of src to the end of dst (TEXT/BLOB into dst's arena). */
static int copy_row(sl_batch *dst, const sl_batch *src, int r)
{
    int d = dst->n_rows;
    const sl_value *sv = sl_batch_crow(src, r);
    sl_value *dv = sl_batch_row(dst, d);
    for (int c = 0; c < dst->n_cols; c++) {
        int rc = SL_OK;
        if (sv[c].kind == SL_V_TEXT)
            rc = sl_batch_set_text(dst, &dv[c], sv[c].u.s, sv[c].len);
        else if (sv[c].kind == SL_V_BLOB)
            rc = sl_batch_set_blob(dst, &dv[c], sv[c].u.b, sv[c].len);
        else
            dv[c] = sv[c];
        if (rc)
            return rc;
    }
    dst->kinds[d] = src->kinds[r];
    dst->event_time[d] = src->event_time[r];
    dst->pos[d] = src->pos[r];
    dst->n_rows = d + 1;
    return SL_OK;
}

static int id_push(sl_operator *base, const sl_batch *batch, bool *accepted,
                   sl_err *err)
{
    identity_op *op = (identity_op *)base;
    *accepted = false;
    if (op->finished)
        return sl_err_set(err, SL_MISUSE, "identity: push after finish");
    if (op->rd == op->hold->n_rows) {
        sl_batch_clear(op->hold);
        op->rd = 0;
    }
    if (batch->n_rows > op->hold->cap_rows)
        return sl_err_set(err, SL_LIMIT,
                          "identity: a batch of %d rows exceeds its bound of "
                          "%d rows",
                          batch->n_rows, op->hold->cap_rows);
    if (op->hold->n_rows + batch->n_rows > op->hold->cap_rows)
        return SL_OK; /* full: backpressure */
    for (int r = 0; r < batch->n_rows; r++) {
        int rc = copy_row(op->hold, batch, r);
        if (rc)
            return sl_err_set(err, rc, "identity: out of memory");
    }
    *accepted = true;
    return SL_OK;
}

static int id_pull(sl_operator *base, sl_batch *out, sl_op_status *status,
                   sl_err *err)
{
    identity_op *op = (identity_op *)base;
    while (op->rd < op->hold->n_rows && !sl_batch_is_full(out)) {
        int rc = copy_row(out, op->hold, op->rd);
        if (rc)
            return sl_err_set(err, rc, "identity: out of memory");
        op->rd++;
    }
    if (op->rd < op->hold->n_rows)
        *status = SL_OP_READY;
    else
        *status = op->finished ? SL_OP_DRAINED : SL_OP_IDLE;
    return SL_OK;
}

static int id_finish(sl_operator *base, sl_err *err)
{
    SL_UNUSED(err);
    ((identity_op *)base)->finished = true;
    return SL_OK;
}

static int64_t id_buffered(sl_operator *base)
{
    identity_op *op = (identity_op *)base;
    return op->hold->n_rows - op->rd;
}

static void id_close(sl_operator *base)
{
    identity_op *op = (identity_op *)base;
    if (!op)
        return;
    sl_batch_free(op->hold);
    sl_free(op);
}

static const sl_operator_ops identity_ops = {
    .version = SL_OPERATOR_VERSION,
    .name = "identity",
    .push = id_push,
    .pull = id_pull,
    .finish = id_finish,
    .buffered = id_buffered,
    .close = id_close,
};

int sl_identity_op_new(const sl_schema *schema, int max_rows, sl_operator **out,
                       sl_err *err)
{
    *out = NULL;
    if (max_rows < 1 || max_rows > SL_BATCH_MAX_ROWS)
        return sl_err_set(err, SL_MISUSE, "identity: max_rows %d out of range",
                          max_rows);
    identity_op *op = sl_calloc(1, sizeof(*op));
    if (!op)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    op->hold = sl_batch_new(schema, max_rows);
    if (!op->hold) {
        sl_free(op);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    op->base.ops = &identity_ops;
    op->base.in_schema = schema;
    op->base.out_schema = schema;
    *out = &op->base;
    return SL_OK;
}
