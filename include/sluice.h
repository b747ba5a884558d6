/*
 * sluice.h: the public embedding API of Sluice, a streaming SQL engine.
 *
 * This is the only header an application needs, and the only contract: a
 * name that is not declared here is not API. An application opens an engine
 * (sluice_open), hands it SQL text (sluice_exec), receives result rows through
 * a callback as opaque sluice_row handles read with accessor functions, and
 * closes it (sluice_close). Every function reports failure through one
 * result-code convention: an int that is SLUICE_OK (0) on success; the
 * message of the last failure on an engine is kept for sluice_errmsg().
 *
 * Rules that hold for the whole API:
 * - Handles are opaque; no struct is ever part of the API.
 * - Result codes are never renumbered; retired codes keep their number.
 * - Strings returned by the library stay valid until the next call on the
 *   same handle unless a function says otherwise; the library owns them.
 * - Arguments are checked at this boundary: a NULL handle where one is
 *   required returns SLUICE_MISUSE rather than crashing.
 */
#ifndef SLUICE_H
#define SLUICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SLUICE_BUILDING) && defined(__GNUC__)
#define SLUICE_API __attribute__((visibility("default")))
#else
#define SLUICE_API
#endif

/* Version of this header. sluice_libversion() returns the library's. */
#define SLUICE_VERSION        "0.1.0"
#define SLUICE_VERSION_NUMBER 1000 /* major*1000000 + minor*1000 + patch */

/*
 * Result codes. 0 is success; everything else is a failure whose message is
 * available from sluice_errmsg() on the engine that returned it.
 */
#define SLUICE_OK          0  /* success */
#define SLUICE_ERROR       1  /* generic failure; see the message */
#define SLUICE_NOMEM       2  /* a memory allocation failed */
#define SLUICE_MISUSE      3  /* the API was called wrongly (NULL handle ...) */
#define SLUICE_SQL         4  /* SQL syntax or planning error (line:column) */
#define SLUICE_RUNTIME     5  /* a job failed while running */
#define SLUICE_NOTFOUND    6  /* a named object (table, model, job) is absent */
#define SLUICE_IO          7  /* a file, socket or broker operation failed */
#define SLUICE_TIMEOUT     8  /* a deadline passed */
#define SLUICE_INTERRUPTED 9  /* cancelled by sluice_interrupt() or a signal */
#define SLUICE_UNSUPPORTED 10 /* valid request this build does not support */
#define SLUICE_LIMIT       11 /* a configured bound (size, depth) was hit */
#define SLUICE_EXISTS      12 /* the object already exists */
#define SLUICE_ABORT       13 /* a row callback asked to stop */

/* The short name of a result code ("SLUICE_NOMEM"); never NULL. */
SLUICE_API const char *sluice_errname(int rc);
/* A sentence describing a result code ("out of memory"); never NULL. */
SLUICE_API const char *sluice_errstr(int rc);

/* The library's version string ("0.1.0") and number (see above). */
SLUICE_API const char *sluice_libversion(void);
SLUICE_API int sluice_libversion_number(void);

/* An engine: a catalog of tables, views and models plus its jobs. */
typedef struct sluice sluice;

/*
 * Open an engine. On success *out receives a handle to release with
 * sluice_close(). On SLUICE_NOMEM *out is NULL.
 */
SLUICE_API int sluice_open(sluice **out);

/* Stop every job of the engine and release it. NULL is a no-op. */
SLUICE_API void sluice_close(sluice *db);

/*
 * The message of the last failure on this engine, or "not an error" after a
 * success. Valid until the next call on db. For SQL errors it starts with
 * "line:column: " and is followed by an excerpt of the statement with a caret.
 */
SLUICE_API const char *sluice_errmsg(sluice *db);
/* The result code of the last call on db. */
SLUICE_API int sluice_errcode(sluice *db);

/*
 * Warnings raised by the last sluice_exec / sluice_stmt_run on db (for
 * example a model declared with a literal API key), one per line, or ""
 * when there were none. Valid until the next call on db.
 */
SLUICE_API const char *sluice_warnings(sluice *db);

/* Row kinds of a changelog, as Flink prints them: +I -U +U -D. */
#define SLUICE_ROW_INSERT        0
#define SLUICE_ROW_UPDATE_BEFORE 1
#define SLUICE_ROW_UPDATE_AFTER  2
#define SLUICE_ROW_DELETE        3

/* One result row handed to a sluice_row_cb; valid only during the call. */
typedef struct sluice_row sluice_row;

/* Number of columns, column name, and SQL type name ("BIGINT"). */
SLUICE_API int sluice_row_column_count(const sluice_row *row);
SLUICE_API const char *sluice_row_column_name(const sluice_row *row, int i);
SLUICE_API const char *sluice_row_column_type(const sluice_row *row, int i);
/* The row kind, one of SLUICE_ROW_*. */
SLUICE_API int sluice_row_kind(const sluice_row *row);
/* 1 when column i is NULL. */
SLUICE_API int sluice_row_is_null(const sluice_row *row, int i);
/*
 * Column i as text in Sluice's canonical output form (timestamps formatted,
 * booleans TRUE/FALSE, ARRAY/MAP/ROW as JSON); NULL for a NULL value.
 */
SLUICE_API const char *sluice_row_text(const sluice_row *row, int i);
SLUICE_API int64_t sluice_row_int64(const sluice_row *row, int i);
SLUICE_API double sluice_row_double(const sluice_row *row, int i);

/*
 * Called once per result row. Return 0 to continue, anything else to stop
 * the statement (sluice_exec then returns SLUICE_ABORT).
 */
typedef int (*sluice_row_cb)(void *ctx, const sluice_row *row);

/*
 * Execute every statement in sql, in order. Statements producing rows
 * (SELECT, SHOW, DESCRIBE, EXPLAIN) deliver them to cb when cb is not NULL.
 * Returns SLUICE_OK when all statements succeeded; otherwise the code of the
 * first failure, after which no further statement runs.
 */
SLUICE_API int sluice_exec(sluice *db, const char *sql, sluice_row_cb cb,
                           void *ctx);

/*
 * Ask the statement currently running in sluice_exec on db to stop as soon as
 * possible; safe to call from another thread or a signal handler.
 */
SLUICE_API void sluice_interrupt(sluice *db);

/* ---- one statement at a time -------------------------------------------
 * For shells and tools that want result metadata before rows arrive. */

/* A prepared statement: one statement of a script, parsed and (for
 * queries) planned, not yet run. */
typedef struct sluice_stmt sluice_stmt;

/* Kinds of result a statement produces. */
#define SLUICE_RESULT_NONE 0 /* DDL, SET, INSERT run in the foreground */
#define SLUICE_RESULT_BOUNDED                                                  \
    1                            /* a finite set of rows (SHOW, static query)  \
                                  */
#define SLUICE_RESULT_APPEND   2 /* continuous rows, inserts only */
#define SLUICE_RESULT_UPDATING 3 /* continuous changelog (+I/-U/+U/-D) */

/*
 * Prepare the first statement of sql. On success *out is the statement
 * (NULL when sql holds only blanks, comments and ';') and *tail (if not
 * NULL) points just past it and its ';'. Error positions ("line:column")
 * count from the start of sql. Release with sluice_stmt_finalize.
 */
SLUICE_API int sluice_prepare(sluice *db, const char *sql, const char **tail,
                              sluice_stmt **out);
/* Result columns known before running (0 when the statement returns no
 * rows); names and SQL type names stay valid until finalize. */
SLUICE_API int sluice_stmt_column_count(const sluice_stmt *stmt);
SLUICE_API const char *sluice_stmt_column_name(const sluice_stmt *stmt, int i);
SLUICE_API const char *sluice_stmt_column_type(const sluice_stmt *stmt, int i);
/* One of SLUICE_RESULT_*. */
SLUICE_API int sluice_stmt_result_kind(const sluice_stmt *stmt);
/* Run the statement (once); rows go to cb as with sluice_exec. */
SLUICE_API int sluice_stmt_run(sluice_stmt *stmt, sluice_row_cb cb, void *ctx);
/* Release a statement. NULL is a no-op. */
SLUICE_API void sluice_stmt_finalize(sluice_stmt *stmt);

/* ---- progress of running statements ------------------------------------ */

/* A snapshot of the running job, valid during the progress callback. */
typedef struct sluice_progress sluice_progress;
SLUICE_API int64_t sluice_progress_rows_in(const sluice_progress *p);
SLUICE_API int64_t sluice_progress_rows_out(const sluice_progress *p);
/* Rows a bounded input holds in all, or -1 when unknown. */
SLUICE_API int64_t sluice_progress_rows_total(const sluice_progress *p);
/* The current watermark in epoch ms, or INT64_MIN when there is none. */
SLUICE_API int64_t sluice_progress_watermark_ms(const sluice_progress *p);
SLUICE_API const char *sluice_progress_job_id(const sluice_progress *p);

/*
 * Called about every interval_ms while a statement runs a job in the
 * foreground, and once when it ends, on the thread that called
 * sluice_exec / sluice_stmt_run. Return non-zero to stop the job (as
 * sluice_interrupt does). A NULL cb removes the handler.
 */
typedef int (*sluice_progress_cb)(void *ctx, const sluice_progress *p);
SLUICE_API int sluice_progress_handler(sluice *db, int interval_ms,
                                       sluice_progress_cb cb, void *ctx);

/* ---- metrics -----------------------------------------------------------
 * The figures every job publishes (at least every 100 ms and when it ends):
 * per job, per source, per stage/operator and per model call site. The
 * same figures are served over HTTP when the session sets 'metrics.port'
 * (docs/operations.md lists the metric names). */

/*
 * Render the metrics of every job of db (the foreground one and the
 * background ones, running or ended) in the Prometheus text exposition
 * format 0.0.4. On success *out_text receives a NUL-terminated string to
 * release with sluice_free and *out_len (if not NULL) its length. Safe to
 * call from any thread, also while another runs sluice_exec on db; it
 * leaves sluice_errmsg unchanged. Returns SLUICE_OK, SLUICE_MISUSE or
 * SLUICE_NOMEM.
 */
SLUICE_API int sluice_metrics(sluice *db, char **out_text, size_t *out_len);

/* Release memory the library handed over (sluice_metrics). NULL is a
 * no-op. */
SLUICE_API void sluice_free(void *p);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_H */
