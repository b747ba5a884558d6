/*
 * vtab.h: the "sl_batch" SQLite virtual table, through which a SQL stage
 * reads the batch it is running on.
 *
 * Data flow: source -> batch -> [sl_batch vtab] -> stage statement (SQLite
 * VDBE) -> next batch. One module is registered per connection; every stage
 * creates its own instance table
 *
 *     CREATE VIRTUAL TABLE temp."in_<n>" USING sl_batch(<column decls>)
 *
 * whose columns are the batch schema's columns (declared INTEGER, REAL,
 * TEXT or BLOB from the storage class of their SQL type), followed by the
 * HIDDEN columns
 *
 *     _batch  the batch to scan, passed as a table-valued-function argument
 *             bound with sqlite3_bind_pointer(.., SL_VTAB_POINTER_TYPE, ..)
 *     _kind   the row kind (SLUICE_ROW_*), INTEGER
 *     _etime  the row's event time in epoch ms, or NULL
 *     _row    the row index in the batch, INTEGER
 *
 * A stage reads `FROM temp."in_<n>"(:sl_batch)` (sl_vtab_input_ref builds
 * that text). The batch is therefore passed as a typed pointer: SQL text can
 * never forge one, no registry or global state is needed, and binding it
 * costs one call per batch. A scan without the argument sees no rows.
 *
 * xColumn hands values straight out of the batch (TEXT/BLOB with
 * SQLITE_STATIC: the batch outlives every step of the statement).
 * xBestIndex/xFilter support a full scan and `_row = ?` equality.
 */
#ifndef SL_VTAB_H
#define SL_VTAB_H

#include <sqlite3.h>

#include "batch.h"

#define SL_VTAB_MODULE       "sl_batch"
#define SL_VTAB_POINTER_TYPE "sl_vtab_bind"
/* The named parameter a stage statement binds the batch to. */
#define SL_VTAB_PARAM ":sl_batch"

/* What a stage binds with sqlite3_bind_pointer: the batch to scan, and the
 * row the scan is on (written by the cursor, read by the stage to name the
 * failing row in error messages). Owned by the stage. */
typedef struct sl_vtab_bind {
    const sl_batch *batch;
    int cur_row; /* row the last cursor visited, -1 before the first */
} sl_vtab_bind;

/* Register the module on db. Calling it again on the same connection is
 * harmless. Returns SL_OK or an error naming the SQLite failure. */
int sl_vtab_register(sqlite3 *db, sl_err *err);

/* Create a new instance table in temp for schema (registering the module if
 * needed). Writes the unqualified table name ("in_<n>", n unique in the
 * process) into name (name_size >= 32). */
int sl_vtab_create(sqlite3 *db, const sl_schema *schema, char *name,
                   size_t name_size, sl_err *err);

/* Drop an instance table created by sl_vtab_create (statements reading it
 * must be finalized first). Errors are ignored: used on cleanup paths. */
void sl_vtab_drop(sqlite3 *db, const char *name);

/* Append the table reference a stage uses for name:
 * temp."in_<n>"(:sl_batch). */
int sl_vtab_input_ref(const char *name, sl_buf *out);

/* Until called again with NULLs, statements prepared on this thread OR the
 * columns they read of vtab name into *mask (SQLite's colUsed: bit i for
 * column i < 63, bit 63 for any column from 63 on, hidden ones included). */
void sl_vtab_track_used(const char *name, uint64_t *mask);

/* The SQLite declared type for a storage class ("INTEGER", "REAL", "TEXT",
 * "BLOB"). */
const char *sl_vtab_decltype(const sl_type *type);

#endif
