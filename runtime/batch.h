/*
 * batch.h: the unit of data that flows through a pipeline.
 *
 * A batch holds up to `cap_rows` rows of one schema, row-major (values of
 * row r are values[r * n_cols .. r * n_cols + n_cols - 1]), with per-row
 * change kind (+I/-U/+U/-D), event time and source position. TEXT and BLOB
 * values live in the batch's arena, which sl_batch_clear resets; a decoder
 * may instead point values at a buffer it pins until the batch is cleared
 * (see `pins`). Sources append rows; SQL stages read a batch through the
 * `sl_batch` virtual table and write their results into the next batch;
 * sinks encode rows. Batches are reused, never reallocated per row.
 */
#ifndef SL_BATCH_H
#define SL_BATCH_H

#include "types.h"

#define SL_BATCH_DEFAULT_ROWS 1024
#define SL_BATCH_MAX_ROWS     65536
#define SL_BATCH_ARENA_MAX    (256u << 20)
#define SL_NO_EVENT_TIME      INT64_MIN

/* A column of a schema. */
typedef struct sl_column {
    const char *name;
    const sl_type *type;
} sl_column;

/* An immutable list of columns; allocated in an arena that outlives the
 * batches using it. */
typedef struct sl_schema {
    int n_cols;
    const sl_column *cols;
} sl_schema;

/* Where a row came from: a split (Kafka partition, file index) and a
 * position in it (Kafka offset, line number). */
typedef struct sl_srcpos {
    int32_t split;
    int64_t offset;
} sl_srcpos;

/* A buffer a batch keeps alive until it is cleared (e.g. a Kafka message
 * whose bytes values point into). */
typedef struct sl_pin {
    void *ptr;
    void (*release)(void *ptr);
} sl_pin;

typedef struct sl_batch {
    const sl_schema *schema;
    int n_cols;
    int n_rows;
    int cap_rows;
    sl_value *values;    /* cap_rows * n_cols */
    uint8_t *kinds;      /* SLUICE_ROW_* per row */
    int64_t *event_time; /* SL_NO_EVENT_TIME when none */
    sl_srcpos *pos;
    sl_arena arena;
    sl_pin *pins;
    int n_pins, cap_pins;
} sl_batch;

/* Allocate a batch for schema with room for cap_rows (1..SL_BATCH_MAX_ROWS).
 * Returns NULL on failure. The schema must outlive the batch. */
sl_batch *sl_batch_new(const sl_schema *schema, int cap_rows);
void sl_batch_free(sl_batch *batch);
/* Drop all rows; reset the arena; release pins. */
void sl_batch_clear(sl_batch *batch);
static inline bool sl_batch_is_full(const sl_batch *batch)
{
    return batch->n_rows >= batch->cap_rows;
}
/* Append a row of NULLs (kind +I, no event time) and return its values, or
 * NULL when the batch is full. */
sl_value *sl_batch_append_row(sl_batch *batch);
/* Drop the last row (a decoder that failed half way). */
void sl_batch_drop_last(sl_batch *batch);
static inline sl_value *sl_batch_row(sl_batch *batch, int row)
{
    return batch->values + (size_t)row * (size_t)batch->n_cols;
}
static inline const sl_value *sl_batch_crow(const sl_batch *batch, int row)
{
    return batch->values + (size_t)row * (size_t)batch->n_cols;
}
/* Copy bytes into the arena and set *value to TEXT (NUL-terminated) or
 * BLOB. Return SL_OK or SL_NOMEM / SL_LIMIT (arena bound). */
int sl_batch_set_text(sl_batch *batch, sl_value *value, const char *s,
                      size_t len);
int sl_batch_set_blob(sl_batch *batch, sl_value *value, const void *b,
                      size_t len);
/* Keep ptr alive until the batch is cleared. */
int sl_batch_pin(sl_batch *batch, void *ptr, void (*release)(void *));

/* Build a schema in arena from parallel arrays (names copied). */
sl_schema *sl_schema_new(sl_arena *arena, int n_cols, const char *const *names,
                         const sl_type *const *types);
/* Index of a column by case-insensitive name, or -1. */
int sl_schema_find(const sl_schema *schema, const char *name);

#endif
