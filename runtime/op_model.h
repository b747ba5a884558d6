/*
 * op_model.h: the async model operator (ML_PREDICT) of a job's chain.
 *
 *   stage (input columns) --push--> [model operator] --pull--> stage (query)
 *                                    | sl_model_client: batched, bounded,
 *                                    | retried, rate-limited HTTP/local calls
 *
 * Each input row is kept (copied) while its call is in flight; the output
 * row is the input row followed by the model's OUTPUT columns, with the
 * input row's kind, event time and source position. Rows wait in a bounded
 * queue before the client takes them; when the queue is full push()
 * refuses the batch and the job pauses its sources (DESIGN.md section 7:
 * memory stays flat however slow the model is). A row whose call fails
 * under the 'fail' policy fails the job with the client's message.
 */
#ifndef SL_OP_MODEL_H
#define SL_OP_MODEL_H

#include "ai/model.h"
#include "connector.h"
#include "operator.h"

/* Build the operator. in is the upstream schema; input_cols[i] is the
 * column of in that feeds the model's i-th INPUT column; out must be in's
 * columns followed by def->output's. def and call_opts are used during the
 * call only (the client copies what it keeps); the schemas must outlive
 * the operator. max_queued bounds rows held (0: 4096). */
int sl_model_op_new(const sl_schema *in, const sl_schema *out,
                    const int *input_cols, const sl_model_def *def,
                    sl_options *call_opts, int max_queued, sl_operator **op,
                    sl_err *err);

/* Route rows the model gave up on ('error.sink', status DEAD_LETTER) to
 * sink instead of downstream. schema is the sink table's; col_map[i] says
 * what fills its column i: >= 0 a column of the operator's input row,
 * SL_DEAD_NULL, SL_DEAD_ERROR (the error text), SL_DEAD_STATUS (the HTTP
 * status) or SL_DEAD_MODEL (the model name). Takes ownership of sink
 * (closed with the operator, also on failure); col_map is copied. */
#define SL_DEAD_NULL   (-1)
#define SL_DEAD_ERROR  (-2)
#define SL_DEAD_STATUS (-3)
#define SL_DEAD_MODEL  (-4)
int sl_model_op_set_dead_letter(sl_operator *op, sl_sink *sink,
                                const sl_schema *schema, const int *col_map,
                                const char *model_name, sl_err *err);

/* True when op is a model operator (NULL-safe). */
bool sl_model_op_is(const sl_operator *op);

/* The operator's client metrics (NULL-safe). */
void sl_model_op_metrics(sl_operator *op, sl_model_metrics *out);

#endif
