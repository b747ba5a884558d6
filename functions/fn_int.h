/*
 * fn_int.h: helpers shared by the files of functions/ (private header).
 *
 * Each fn_<group>.c file implements one group of the catalog and exports
 * its part of the table (NULL-terminated); functions.c joins the parts,
 * registers them on a connection and checks argument counts, so the
 * implementations only see calls with an allowed number of arguments.
 * The helpers below read arguments the way Flink does (NULL in, NULL out;
 * timestamps from INTEGER epoch ms or from text) and report errors that name
 * the function and the bad argument.
 */
#ifndef SL_FN_INT_H
#define SL_FN_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "functions.h"

/* Largest text or blob a function builds (bounds every buffer). */
#define SL_FN_MAX_RESULT (64 * 1024 * 1024)
/* Deepest JSON nesting a function walks or builds. */
#define SL_FN_JSON_MAX_DEPTH 4096
/* Largest |epoch ms| the temporal functions accept (about 285 million
 * years), so calendar arithmetic on it cannot overflow. */
#define SL_FN_TS_LIMIT 9000000000000000000LL
/* SQLite's subtype for JSON text ('J'), shared with its json1 functions. */
#define SL_FN_JSON_SUBTYPE 74

extern const sl_function_info sl_fn_string_table[];
extern const sl_function_info sl_fn_math_table[];
extern const sl_function_info sl_fn_cond_table[];
extern const sl_function_info sl_fn_time_table[];
extern const sl_function_info sl_fn_json_table[];
extern const sl_function_info sl_fn_cast_table[];
extern const sl_function_info sl_fn_hash_table[];
extern const sl_function_info sl_fn_regex_table[];

/* The name of the function being evaluated (from its catalog entry). */
const char *sl_fn_name(sqlite3_context *ctx);
/* sqlite3_result_error with a formatted message. */
void sl_fn_error(sqlite3_context *ctx, const char *fmt, ...) SL_PRINTF(2, 3);
/* Report a sl_buf failure (SL_NOMEM or SL_LIMIT) on ctx. */
void sl_fn_buf_error(sqlite3_context *ctx, const sl_buf *buf);
/* Set ctx's result to the buffer's text (or report its error); frees buf. */
void sl_fn_result_buf(sqlite3_context *ctx, sl_buf *buf);
/* True when any argument is NULL. */
bool sl_fn_any_null(int argc, sqlite3_value **argv);

/* Read an integer argument: INTEGER, integral REAL or numeric text.
 * On failure reports "<FN>: <what> must be an integer, got '...'" and
 * returns false. */
bool sl_fn_arg_int(sqlite3_context *ctx, sqlite3_value *v, const char *what,
                   int64_t *out);
/* Read a number: INTEGER, REAL, or numeric text. */
bool sl_fn_arg_double(sqlite3_context *ctx, sqlite3_value *v, const char *what,
                      double *out);
/* Read a timestamp (epoch ms): INTEGER, REAL, or text parsed as
 * 'yyyy-MM-dd HH:mm:ss[.fff]' (date alone allowed). */
bool sl_fn_arg_ts(sqlite3_context *ctx, sqlite3_value *v, const char *what,
                  int64_t *out);

/* UTF-8: number of characters, and the byte offset of character n (the
 * length when n is past the end). Invalid bytes count as one character. */
int64_t sl_fn_utf8_len(const unsigned char *s, int64_t n_bytes);
int64_t sl_fn_utf8_offset(const unsigned char *s, int64_t n_bytes, int64_t n);
/* Decode one code point at s (n bytes left); returns bytes used (>= 1). */
int sl_fn_utf8_decode(const unsigned char *s, int64_t n, uint32_t *cp);
/* Append code point cp as UTF-8. */
void sl_fn_utf8_put(sl_buf *buf, uint32_t cp);

/* Unicode letter test (C.UTF-8 classes, never the process locale). */
bool sl_fn_is_alpha(uint32_t cp);

/* Floor division and modulo (for negative epoch values). */
static inline int64_t sl_fn_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}
static inline int64_t sl_fn_floor_mod(int64_t a, int64_t b)
{
    return a - sl_fn_floor_div(a, b) * b;
}

/* Shortest text that reads back as the same double ("0.1", "1.0E20" is
 * not used: plain %g style, as SQLite prints). */
void sl_fn_format_double(double d, char *out, size_t size);

/* x rounded (half away from zero) or cut to `places` decimal places on its
 * shortest decimal text, as Flink's BigDecimal.valueOf(x).setScale(). */
double sl_fn_decimal_round(double x, int64_t places, bool round);

/* Date-time pattern support (Java SimpleDateFormat letters), used by
 * DATE_FORMAT, TO_TIMESTAMP and the casts. Return SL_OK or SL_ERROR with a
 * message in err. */
int sl_fn_time_format(int64_t epoch_ms, const char *pattern, sl_buf *out,
                      sl_err *err);
int sl_fn_time_parse(const char *text, size_t len, const char *pattern,
                     int64_t *epoch_ms, sl_err *err);

#endif /* SL_FN_INT_H */
