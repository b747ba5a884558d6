/*
 * late_sink.c: late rows of window operators written to a sink table (see
 * late_sink.h). Delivery is at-least-once like every sink: the job does
 * not ack source positions past rows an operator still holds.
 */
#include <string.h>

#include "late_sink.h"

#define LATE_BATCH_ROWS 1024
#define FLUSH_MS        30000

struct sl_late_sink {
    sl_sink *sink;
    const sl_schema *schema;
    int *map;
    sl_batch *batch;
    uint64_t seq;
    int64_t rows;
};

void sl_late_sink_free(sl_late_sink *ls)
{
    if (!ls)
        return;
    if (ls->sink)
        ls->sink->ops->close(ls->sink);
    sl_batch_free(ls->batch);
    sl_free(ls->map);
    sl_free(ls);
}

int sl_late_sink_new(sl_sink *sink, const sl_schema *schema, const int *col_map,
                     sl_late_sink **out, sl_err *err)
{
    *out = NULL;
    sl_late_sink *ls = sl_calloc(1, sizeof(*ls));
    if (!ls) {
        sink->ops->close(sink);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    ls->sink = sink;
    ls->schema = schema;
    size_t n = (size_t)(schema->n_cols ? schema->n_cols : 1);
    ls->map = sl_calloc(n, sizeof(int));
    ls->batch = sl_batch_new(schema, LATE_BATCH_ROWS);
    if (!ls->map || !ls->batch) {
        sl_late_sink_free(ls);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    memcpy(ls->map, col_map, sizeof(int) * (size_t)schema->n_cols);
    *out = ls;
    return SL_OK;
}

static int write_batch(sl_late_sink *ls, sl_err *err)
{
    if (ls->batch->n_rows == 0)
        return SL_OK;
    int rc = ls->sink->ops->write(ls->sink, ls->batch, ++ls->seq, err);
    sl_batch_clear(ls->batch);
    return rc;
}

int sl_late_sink_add(sl_late_sink *ls, const sl_batch *batch, int r,
                     sl_err *err)
{
    if (sl_batch_is_full(ls->batch)) {
        int rc = write_batch(ls, err);
        if (rc)
            return rc;
    }
    const sl_value *in = sl_batch_crow(batch, r);
    int n_in = batch->schema->n_cols;
    sl_value *row = sl_batch_append_row(ls->batch);
    if (!row)
        return sl_err_set(err, SL_ERROR, "internal: late-data batch full");
    int k = ls->batch->n_rows - 1;
    ls->batch->kinds[k] = SLUICE_ROW_INSERT;
    ls->batch->event_time[k] = batch->event_time[r];
    ls->batch->pos[k] = batch->pos[r];
    for (int c = 0; c < ls->schema->n_cols; c++) {
        int src = ls->map[c];
        int rc = SL_OK;
        if (src < 0 || src >= n_in) {
            row[c] = sl_value_null();
            continue;
        }
        const sl_value *v = &in[src];
        if (v->kind == SL_V_TEXT)
            rc = sl_batch_set_text(ls->batch, &row[c], v->u.s, v->len);
        else if (v->kind == SL_V_BLOB)
            rc = sl_batch_set_blob(ls->batch, &row[c], v->u.b, v->len);
        else
            row[c] = *v;
        if (rc)
            return sl_err_set(err, rc, "late row too large");
    }
    ls->rows++;
    return SL_OK;
}

int sl_late_sink_flush(sl_late_sink *ls, bool final, sl_err *err)
{
    int rc = write_batch(ls, err);
    if (!rc && ls->sink->ops->poll)
        rc = ls->sink->ops->poll(ls->sink, err);
    if (!rc && final && ls->sink->ops->flush)
        rc = ls->sink->ops->flush(ls->sink, FLUSH_MS, err);
    return rc;
}

int64_t sl_late_sink_rows(const sl_late_sink *ls)
{
    return ls ? ls->rows : 0;
}
