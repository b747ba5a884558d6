/*
 * functions.h: Sluice's scalar SQL function library.
 *
 * Every stateless stage of a query runs as one SQLite prepared statement, so
 * the Flink SQL functions a query calls must exist as SQLite functions on the
 * stage's connection. sl_functions_register() puts all of them there; the
 * planner translates Flink syntax into plain calls of these names (the call
 * forms for special syntax such as CAST, EXTRACT and TIMESTAMPADD are listed
 * in docs/functions.md). sl_functions_list() is the catalog behind SHOW
 * FUNCTIONS and the documentation.
 *
 * Values follow runtime/types.h: BOOLEAN is INTEGER 0/1, TIMESTAMP and
 * TIMESTAMP_LTZ are INTEGER epoch milliseconds (UTC), DATE is INTEGER days,
 * TIME is INTEGER milliseconds of the day, DECIMAL is REAL, ARRAY/MAP/ROW
 * are TEXT holding JSON, BYTES is BLOB.
 */
#ifndef SL_FUNCTIONS_H
#define SL_FUNCTIONS_H

#include <sqlite3.h>

#include "types.h"
#include "util.h"

/* The implementation every catalog entry points at. */
typedef void (*sl_function_impl)(sqlite3_context *ctx, int argc,
                                 sqlite3_value **argv);

/* Flags of a catalog entry. */
#define SL_FN_VOLATILE 0x1 /* result may differ between calls (RAND, NOW) */
#define SL_FN_SUBTYPE  0x2 /* reads or sets SQLite's JSON subtype */

/* One function of the catalog. Several entries never share a name: a
 * function with optional arguments is one entry with min_args..max_args
 * (max_args -1: any number). */
typedef struct sl_function_info {
    const char *name;      /* the SQL name the planner emits, e.g. "LPAD" */
    const char *signature; /* "LPAD(s, len, pad)" */
    const char *returns;   /* "STRING", "BIGINT", "same as x", ... */
    const char *doc;       /* one line */
    const char *group;     /* "string", "math", "temporal", ... */
    int min_args;
    int max_args;
    int flags;             /* SL_FN_* */
    sl_function_impl impl; /* NULL: a SQLite built-in, listed only */
} sl_function_info;

/* Register every function of the catalog on db (replacing SQLite built-ins
 * of the same name where Flink's behaviour differs, e.g. ROUND, SUBSTR).
 * Deterministic functions are SQLITE_DETERMINISTIC, all are
 * SQLITE_INNOCUOUS. Returns SL_OK, or an error code with err set. */
int sl_functions_register(sqlite3 *db, sl_err *err);

/* Register the aggregates SQLite lacks (fn_agg.c: sl_percentile, Flink's
 * PERCENTILE); sl_functions_register calls it too. */
int sl_fn_aggregates_register(sqlite3 *db, sl_err *err);

/* The catalog: every registered function, ending with an entry whose name
 * is NULL. Static storage; never freed. */
const sl_function_info *sl_functions_list(void);

/* Parse a type as sl_type_format spells it ("DECIMAL(10, 2)",
 * "ARRAY<INT>", "ROW<`a` INT>") into types allocated from arena. Returns
 * NULL with err set when the text is not a type. */
const sl_type *sl_functions_parse_type(const char *text, sl_arena *arena,
                                       sl_err *err);

#endif /* SL_FUNCTIONS_H */
