/*
 * stage.h: a SQL stage: one SQLite prepared statement run over a batch.
 *
 * The planner fuses every stateless run of a query (projection, filter,
 * scalar functions, CASE, casts) into one SELECT that reads the current
 * batch from `{input}` and emits the rows of the next batch. The runtime
 * substitutes `{input}` with the stage's sl_batch virtual table reference
 * (see vtab.h), prepares the statement once, and runs it once per batch:
 *
 *     in batch --[sl_batch vtab]--> SELECT ... FROM {input} ... --> out batch
 *
 * Template contract (what the planner writes):
 *   - `{input}` appears wherever the input relation is read; it expands to
 *     a table reference, so `FROM {input}` and `FROM {input} AS t` both work.
 *     It is a table-valued call (temp."in_<n>"(:sl_batch)), so qualify
 *     columns through an alias (`t.a`), never as `{input}.a`.
 *     Columns are the input schema's names plus the HIDDEN columns `_kind`,
 *     `_etime`, `_row`. Only the exact text `{input}` is replaced (also
 *     inside string literals: do not write it there).
 *   - The result has out->n_cols + 1 columns: the out columns in order,
 *     then LAST the input `_row` of the row it derives from. The runtime
 *     copies that row's kind, event time and source position to the output
 *     row. With SL_STAGE_NO_ROW (e.g. an aggregate over a bounded input) the
 *     result has exactly out->n_cols columns and rows get +I, no event time,
 *     position {-1,-1}.
 *   - Result values are copied into the out batch in the storage class of
 *     the out column's type: INTEGER<->REAL are coerced (REAL -> INTEGER
 *     truncates toward zero), numbers into TEXT/BLOB columns become their
 *     SQLite text, TEXT/BLOB into a numeric column fails with a message
 *     naming the column; NULL into a NOT NULL column fails. The planner
 *     casts; this is the safety net.
 *   - An out column that is a bare input column (`SELECT a, b + 1, _row
 *     FROM {input}`) is copied from the input row `_row` names without
 *     SQLite computing it, with the same storage rules (stage.c says when).
 *   - An error raised while stepping (a failed CAST, a function error) fails
 *     the run with "stage '<name>': <sqlite message> (input row from split
 *     S offset O)".
 *
 * Threads: a stage belongs to its connection; use it from one thread at a
 * time (the job thread).
 */
#ifndef SL_STAGE_H
#define SL_STAGE_H

#include <sqlite3.h>

#include "batch.h"

typedef struct sl_stage sl_stage;

/* Flags for sl_stage_opts. */
#define SL_STAGE_NO_ROW 0x1u /* the result has no trailing _row column */

typedef struct sl_stage_opts {
    unsigned flags;   /* SL_STAGE_* */
    const char *name; /* for messages and EXPLAIN; NULL: "stage" (copied) */
} sl_stage_opts;

/* Prepare a stage on db (the sl_batch module is registered if needed).
 * in and out must outlive the stage. sql_template is copied. On failure
 * *stage is NULL and err names the stage and SQLite's message. */
int sl_stage_new(sqlite3 *db, const sl_schema *in, const sl_schema *out,
                 const char *sql_template, sl_stage **stage, sl_err *err);
/* The same with options (opts may be NULL). */
int sl_stage_new_ex(sqlite3 *db, const sl_schema *in, const sl_schema *out,
                    const char *sql_template, const sl_stage_opts *opts,
                    sl_stage **stage, sl_err *err);
/* Finalize the statement and drop the vtab instance. NULL is a no-op. */
void sl_stage_free(sl_stage *stage);

/* Run the statement over in, appending rows to out (out's schema must be the
 * stage's out schema; rows already in out are kept). When out fills before
 * the statement is done, the run stops with sl_stage_pending() true: the
 * caller empties out and calls sl_stage_resume; in must stay unchanged and
 * alive until the stage is no longer pending. Returns SL_OK or an error
 * (then the stage is reset and not pending). */
int sl_stage_run(sl_stage *stage, const sl_batch *in, sl_batch *out,
                 sl_err *err);
int sl_stage_resume(sl_stage *stage, sl_batch *out, sl_err *err);
bool sl_stage_pending(const sl_stage *stage);
/* Abandon a pending run (reset the statement). */
void sl_stage_reset(sl_stage *stage);

/* The SQL as prepared (with {input} substituted), for EXPLAIN. Owned by
 * the stage. */
const char *sl_stage_explain(const sl_stage *stage);
const char *sl_stage_name(const sl_stage *stage);
const sl_schema *sl_stage_in_schema(const sl_stage *stage);
const sl_schema *sl_stage_out_schema(const sl_stage *stage);
/* Which input columns the stage reads (used[j] for column j of its in
 * schema), as SQLite planned its statement; false when that is unknown
 * (then take every column as read). Pass-through columns count as read. */
bool sl_stage_columns_used(const sl_stage *stage, bool *used);
/* How many out columns the stage copies straight from the input row
 * instead of computing them in SQL (pass-through columns, see stage.c). */
int sl_stage_pass_columns(const sl_stage *stage);
/* The prepared statement (e.g. for sqlite3_stmt_status in metrics). */
sqlite3_stmt *sl_stage_stmt(sl_stage *stage);

#endif
