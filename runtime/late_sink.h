/*
 * late_sink.h: the side output of late rows ('late-data.sink').
 *
 * A window operator (op_window.h, op_rank.h) that drops a row because its
 * window was already emitted hands the row to its late sink, which copies
 * the mapped columns into a batch of the sink table's schema and writes
 * it to the table's sink when the batch fills and at the end of each push
 * (sl_late_sink_flush), and flushes the sink when the operator finishes.
 * The rows are still counted as late (dropped()).
 */
#ifndef SL_LATE_SINK_H
#define SL_LATE_SINK_H

#include "connector.h"

typedef struct sl_late_sink sl_late_sink;

/* schema: the sink table's; col_map[i]: the operator input column that
 * fills sink column i (-1: NULL). Takes ownership of sink (closed by
 * sl_late_sink_free, also on failure); col_map is copied. */
int sl_late_sink_new(sl_sink *sink, const sl_schema *schema, const int *col_map,
                     sl_late_sink **out, sl_err *err);
/* Add row r of batch. */
int sl_late_sink_add(sl_late_sink *ls, const sl_batch *batch, int r,
                     sl_err *err);
/* Write what is pending; final: also flush the sink (at finish). */
int sl_late_sink_flush(sl_late_sink *ls, bool final, sl_err *err);
int64_t sl_late_sink_rows(const sl_late_sink *ls);
void sl_late_sink_free(sl_late_sink *ls);

#endif
