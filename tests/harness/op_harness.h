/*
 * op_harness.h: helpers for tests that drive a stateful operator by hand
 * (push, watermark, pull, snapshot into a state database, restore): its
 * output rows as text lines to compare runs with, pulling until idle or
 * drained, one checkpoint transaction. Used by the operator checkpoint
 * tests (test_ckpt_window.c, test_ckpt_over_rank.c).
 */
#ifndef SL_OP_HARNESS_H
#define SL_OP_HARNESS_H

#include <sqlite3.h>

#include "harness.h"
#include "operator.h"

/* Each row of b as "kind[@event time],v1,v2,..." (NULL as "-"). */
void sl_test_op_rows(const sl_batch *b, bool with_etime, sl_test_lines *out);
/* Pull into ob until the operator has nothing ready, adding the rows. */
void sl_test_op_pull_all(sl_operator *op, sl_batch *ob, bool with_etime,
                         sl_test_lines *out);
/* Push b (pulling into ob while the operator refuses it), then pull until
 * idle. */
void sl_test_op_push(sl_operator *op, const sl_batch *b, sl_batch *ob,
                     bool with_etime, sl_test_lines *out);
/* finish() the operator, then pull until it is drained. */
void sl_test_op_finish(sl_operator *op, sl_batch *ob, bool with_etime,
                       sl_test_lines *out);
/* One snapshot under prefix "op0_" in its own transaction on state;
 * returns the rows it changed there. */
int64_t sl_test_op_checkpoint(sl_operator *op, sqlite3 *state);
/* restore() from prefix "op0_" of state, which must succeed. */
void sl_test_op_restore(sl_operator *op, sqlite3 *state);
/* A restored run's rows equal the uninterrupted run's, in order. */
void sl_test_op_same_rows(const sl_test_lines *got, const sl_test_lines *ref);
/* The first column of the first row of sql on db. */
int64_t sl_test_count(sqlite3 *db, const char *sql);

#endif
