/*
 * util.h: the small toolkit every other module stands on.
 *
 * Allocation wrappers (the only place raw malloc/free are called, so tests can
 * inject failures), arenas that free by lifetime (per batch, per statement),
 * bounded growable buffers with a sticky error, an error record carrying a
 * result code plus message, and strict number parsing. Nothing here knows
 * about SQL, batches or Kafka; util sits at the bottom of the dependency
 * graph (cli -> planner -> runtime -> functions, connectors -> util).
 */
#ifndef SL_UTIL_H
#define SL_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice.h"

/* Internal result codes are the public ones. */
#define SL_OK          SLUICE_OK
#define SL_ERROR       SLUICE_ERROR
#define SL_NOMEM       SLUICE_NOMEM
#define SL_MISUSE      SLUICE_MISUSE
#define SL_SQL         SLUICE_SQL
#define SL_RUNTIME     SLUICE_RUNTIME
#define SL_NOTFOUND    SLUICE_NOTFOUND
#define SL_IO          SLUICE_IO
#define SL_TIMEOUT     SLUICE_TIMEOUT
#define SL_INTERRUPTED SLUICE_INTERRUPTED
#define SL_UNSUPPORTED SLUICE_UNSUPPORTED
#define SL_LIMIT       SLUICE_LIMIT
#define SL_EXISTS      SLUICE_EXISTS
#define SL_ABORT       SLUICE_ABORT

#define SL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SL_MIN(a, b)    ((a) < (b) ? (a) : (b))
#define SL_MAX(a, b)    ((a) > (b) ? (a) : (b))
#define SL_UNUSED(x)    ((void)(x))

#if defined(__GNUC__)
#define SL_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SL_PRINTF(fmt, args)
#endif

/* ---- allocation --------------------------------------------------------
 * Every allocation in Sluice goes through these. They return NULL on
 * failure and never abort. sl_alloc_fail_after(n) makes the n-th next
 * allocation and all later ones fail (tests only; -1 turns it off). */
void *sl_malloc(size_t n);
void *sl_calloc(size_t count, size_t size);
void *sl_realloc(void *p, size_t n);
void sl_free(void *p);
char *sl_strdup(const char *s);
char *sl_strndup(const char *s, size_t len);
char *sl_asprintf(const char *fmt, ...) SL_PRINTF(1, 2);
void sl_alloc_fail_after(long n);

/* ---- arena ---------------------------------------------------------------
 * Bump allocator freed all at once. max_bytes bounds the total (0: no bound
 * beyond memory). Allocations are 8-byte aligned. */
typedef struct sl_arena_block sl_arena_block;
typedef struct sl_arena {
    sl_arena_block *head;
    size_t block_size;
    size_t max_bytes;
    size_t used_bytes; /* bytes handed out since the last reset */
} sl_arena;

void sl_arena_init(sl_arena *arena, size_t block_size, size_t max_bytes);
void *sl_arena_alloc(sl_arena *arena, size_t n);
char *sl_arena_strndup(sl_arena *arena, const char *s, size_t len);
/* Keep the first block, drop the rest: ready for reuse. */
void sl_arena_reset(sl_arena *arena);
void sl_arena_free(sl_arena *arena);

/* ---- growable buffer -----------------------------------------------------
 * A byte buffer that stays NUL-terminated and never grows past max_len.
 * Errors are sticky: after a failed append, buf->rc is SL_NOMEM or SL_LIMIT
 * and later appends do nothing, so callers check once at the end. */
typedef struct sl_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max_len;
    int rc;
} sl_buf;

void sl_buf_init(sl_buf *buf, size_t max_len);
int sl_buf_append(sl_buf *buf, const void *data, size_t len);
int sl_buf_puts(sl_buf *buf, const char *s);
int sl_buf_putc(sl_buf *buf, char c);
int sl_buf_printf(sl_buf *buf, const char *fmt, ...) SL_PRINTF(2, 3);
int sl_buf_vprintf(sl_buf *buf, const char *fmt, va_list ap);
void sl_buf_reset(sl_buf *buf);
/* Hand the data over to the caller (free with sl_free); buf becomes empty. */
char *sl_buf_steal(sl_buf *buf);
void sl_buf_free(sl_buf *buf);
/* "" when the buffer is empty, never NULL. */
const char *sl_buf_cstr(const sl_buf *buf);

/* ---- errors --------------------------------------------------------------
 * A result code with its message. The first error set wins unless the
 * caller resets it: inner code records, the boundary reports. */
#define SL_ERR_MSG_MAX 1024
typedef struct sl_err {
    int code;
    char msg[SL_ERR_MSG_MAX];
} sl_err;

void sl_err_clear(sl_err *err);
/* Sets the error if none is set yet; returns code for `return sl_err_set(..)`.
 */
int sl_err_set(sl_err *err, int code, const char *fmt, ...) SL_PRINTF(3, 4);
int sl_err_vset(sl_err *err, int code, const char *fmt, va_list ap);
/* Replaces whatever error is set. */
int sl_err_reset(sl_err *err, int code, const char *fmt, ...) SL_PRINTF(3, 4);

/* ---- strings and numbers ------------------------------------------------ */
/* Copy with truncation; always NUL-terminates when size > 0. Returns strlen
 * of src. */
size_t sl_strlcpy(char *dst, const char *src, size_t size);
/* snprintf that never returns negative and reports truncation as the
 * return value >= size. */
int sl_snprintf(char *dst, size_t size, const char *fmt, ...) SL_PRINTF(3, 4);
bool sl_str_ieq(const char *a, const char *b);
bool sl_str_nieq(const char *a, size_t a_len, const char *b);
/* Strict decimal parse of the whole text (leading/trailing blanks allowed).
 * Return SL_OK or SL_ERROR (not a number / out of range). */
int sl_parse_int64(const char *s, size_t len, int64_t *out);
int sl_parse_double(const char *s, size_t len, double *out);
/* Levenshtein distance with a cap (returns cap+1 when larger); for
 * "did you mean" hints. Case-insensitive. */
int sl_edit_distance(const char *a, const char *b, int cap);

/* Monotonic and wall clocks in milliseconds / nanoseconds. */
int64_t sl_now_ms(void);
int64_t sl_mono_ns(void);

#endif /* SL_UTIL_H */
