/*
 * types.h: Sluice's SQL types and how each is stored.
 *
 * Every value in a batch is one of SQLite's storage classes (sl_value):
 * INTEGER, REAL, TEXT, BLOB or NULL, so a stage can hand it to SQLite
 * without conversion. The logical SQL type (sl_type) says how to read it:
 *
 *   BOOLEAN                INTEGER 0/1
 *   TINYINT..BIGINT        INTEGER
 *   FLOAT, DOUBLE          REAL
 *   DECIMAL(p,s)           REAL rounded to s places (exact to 15 digits;
 *                          documented in docs/sql.md)
 *   CHAR/VARCHAR/STRING    TEXT (UTF-8)
 *   BINARY/VARBINARY/BYTES BLOB
 *   DATE                   INTEGER days since 1970-01-01
 *   TIME(p)                INTEGER milliseconds since midnight
 *   TIMESTAMP(p)           INTEGER milliseconds since the epoch, no zone
 *   TIMESTAMP_LTZ(p)       INTEGER milliseconds since the epoch (UTC instant)
 *   INTERVAL ...           INTEGER milliseconds (day-time) or months
 *   ARRAY<T>, MAP<K,V>     TEXT holding JSON (array; object, or array of
 *                          [k,v] pairs when K is not a string)
 *   ROW<f T, ...>          TEXT holding a JSON object keyed by field name
 *
 * Types are built in an arena (the statement's or the catalog's) and are
 * immutable once built.
 */
#ifndef SL_TYPES_H
#define SL_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

typedef enum sl_type_id {
    SL_TYPE_NULL = 0, /* the type of the NULL literal */
    SL_TYPE_BOOLEAN,
    SL_TYPE_TINYINT,
    SL_TYPE_SMALLINT,
    SL_TYPE_INT,
    SL_TYPE_BIGINT,
    SL_TYPE_FLOAT,
    SL_TYPE_DOUBLE,
    SL_TYPE_DECIMAL,
    SL_TYPE_CHAR,
    SL_TYPE_VARCHAR, /* STRING is VARCHAR with length SL_TYPE_MAX_LEN */
    SL_TYPE_BINARY,
    SL_TYPE_VARBINARY, /* BYTES is VARBINARY with length SL_TYPE_MAX_LEN */
    SL_TYPE_DATE,
    SL_TYPE_TIME,
    SL_TYPE_TIMESTAMP,
    SL_TYPE_TIMESTAMP_LTZ,
    SL_TYPE_INTERVAL_DAY_TIME,
    SL_TYPE_INTERVAL_YEAR_MONTH,
    SL_TYPE_ARRAY,
    SL_TYPE_MAP,
    SL_TYPE_ROW,
    SL_TYPE__COUNT
} sl_type_id;

#define SL_TYPE_MAX_LEN 2147483647

typedef struct sl_type sl_type;

typedef struct sl_field {
    const char *name;
    const sl_type *type;
} sl_field;

struct sl_type {
    sl_type_id id;
    bool not_null;
    int precision; /* DECIMAL p, TIME/TIMESTAMP p, CHAR/VARCHAR/BINARY n */
    int scale;     /* DECIMAL s */
    const sl_type *elem;  /* ARRAY element, MAP key */
    const sl_type *value; /* MAP value */
    int n_fields;         /* ROW */
    const sl_field *fields;
    bool is_rowtime; /* a time attribute (WATERMARK FOR) */
    bool is_proctime;
};

/* Storage classes, numerically equal to SQLite's SQLITE_INTEGER etc. */
typedef enum sl_vkind {
    SL_V_INT = 1,
    SL_V_REAL = 2,
    SL_V_TEXT = 3,
    SL_V_BLOB = 4,
    SL_V_NULL = 5,
} sl_vkind;

/* One value: 16 bytes. TEXT/BLOB point into the owning batch's arena (or
 * into a buffer the batch documents as pinned); TEXT is NUL-terminated. */
typedef struct sl_value {
    uint8_t kind; /* sl_vkind */
    uint32_t len; /* bytes of TEXT/BLOB (without the NUL) */
    union {
        int64_t i;
        double d;
        const char *s;
        const void *b;
    } u;
} sl_value;

static inline sl_value sl_value_null(void)
{
    sl_value v = {.kind = SL_V_NULL};
    return v;
}
static inline sl_value sl_value_int(int64_t i)
{
    sl_value v = {.kind = SL_V_INT};
    v.u.i = i;
    return v;
}
static inline sl_value sl_value_real(double d)
{
    sl_value v = {.kind = SL_V_REAL};
    v.u.d = d;
    return v;
}

/* The storage class a type uses (SL_V_INT, SL_V_REAL, SL_V_TEXT, SL_V_BLOB). */
sl_vkind sl_type_storage(const sl_type *type);
/* Static singletons for the simple types (nullable, default precision). */
const sl_type *sl_type_simple(sl_type_id id);
/* Flink's name for a type id ("BIGINT", "TIMESTAMP_LTZ"). */
const char *sl_type_id_name(sl_type_id id);
/* The full SQL spelling, e.g. "DECIMAL(10, 2)", "ARRAY<STRING>",
 * "ROW<`a` INT, `b` STRING>", "TIMESTAMP(3) NOT NULL". */
int sl_type_format(const sl_type *type, sl_buf *out);
bool sl_type_is_numeric(const sl_type *type);
bool sl_type_is_integer(const sl_type *type);
bool sl_type_is_string(const sl_type *type);
bool sl_type_is_temporal(const sl_type *type);
bool sl_type_equal(const sl_type *a, const sl_type *b);

/* Canonical text of a value of a type, as Flink prints it: TRUE/FALSE,
 * timestamps "2024-01-02 03:04:05.678" (precision digits), dates
 * "2024-01-02", DECIMAL with exactly s places, JSON for nested types,
 * BYTES as x'0a1b'. NULL values print as "NULL" only if null_text is
 * non-NULL (it is appended instead). */
int sl_value_format(const sl_type *type, const sl_value *value, sl_buf *out,
                    const char *null_text);

/* Calendar helpers shared by formats and functions (proleptic Gregorian,
 * UTC). */
int64_t sl_days_from_civil(int64_t y, unsigned m, unsigned d);
void sl_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* Parse "YYYY-MM-DD[ T]HH:MM[:SS[.fff...]][Z|+HH:MM]" (date-only allowed)
 * into epoch millis. Returns SL_OK or SL_ERROR. */
int sl_parse_timestamp(const char *s, size_t len, int64_t *epoch_ms);
int sl_parse_date(const char *s, size_t len, int64_t *days);
int sl_parse_time(const char *s, size_t len, int64_t *ms_of_day);
/* Format epoch millis as "YYYY-MM-DD HH:MM:SS[.fff]" with precision digits
 * (0..9; digits past 3 print as zeros). */
int sl_format_timestamp(int64_t epoch_ms, int precision, sl_buf *out);

#endif
