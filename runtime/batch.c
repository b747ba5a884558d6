/*
 * batch.c: allocation, reuse and row appends for sl_batch (see batch.h).
 */
#include <string.h>

#include "batch.h"

sl_batch *sl_batch_new(const sl_schema *schema, int cap_rows)
{
    if (cap_rows < 1 || cap_rows > SL_BATCH_MAX_ROWS)
        return NULL;
    sl_batch *batch = sl_calloc(1, sizeof(*batch));
    if (!batch)
        return NULL;
    batch->schema = schema;
    batch->n_cols = schema->n_cols;
    batch->cap_rows = cap_rows;
    size_t n_vals =
        (size_t)cap_rows * (size_t)(schema->n_cols ? schema->n_cols : 1);
    batch->values = sl_malloc(n_vals * sizeof(sl_value));
    batch->kinds = sl_malloc((size_t)cap_rows);
    batch->event_time = sl_malloc((size_t)cap_rows * sizeof(int64_t));
    batch->pos = sl_malloc((size_t)cap_rows * sizeof(sl_srcpos));
    if (!batch->values || !batch->kinds || !batch->event_time || !batch->pos) {
        sl_batch_free(batch);
        return NULL;
    }
    sl_arena_init(&batch->arena, 64 * 1024, SL_BATCH_ARENA_MAX);
    return batch;
}

static void release_pins(sl_batch *batch)
{
    for (int i = 0; i < batch->n_pins; i++)
        if (batch->pins[i].release)
            batch->pins[i].release(batch->pins[i].ptr);
    batch->n_pins = 0;
}

void sl_batch_free(sl_batch *batch)
{
    if (!batch)
        return;
    release_pins(batch);
    sl_free(batch->pins);
    sl_free(batch->values);
    sl_free(batch->kinds);
    sl_free(batch->event_time);
    sl_free(batch->pos);
    sl_arena_free(&batch->arena);
    sl_free(batch);
}

void sl_batch_clear(sl_batch *batch)
{
    batch->n_rows = 0;
    release_pins(batch);
    sl_arena_reset(&batch->arena);
}

sl_value *sl_batch_append_row(sl_batch *batch)
{
    if (batch->n_rows >= batch->cap_rows)
        return NULL;
    int r = batch->n_rows++;
    sl_value *row = sl_batch_row(batch, r);
    for (int c = 0; c < batch->n_cols; c++)
        row[c] = sl_value_null();
    batch->kinds[r] = SLUICE_ROW_INSERT;
    batch->event_time[r] = SL_NO_EVENT_TIME;
    batch->pos[r] = (sl_srcpos){-1, -1};
    return row;
}

void sl_batch_drop_last(sl_batch *batch)
{
    if (batch->n_rows > 0)
        batch->n_rows--;
}

int sl_batch_set_text(sl_batch *batch, sl_value *value, const char *s,
                      size_t len)
{
    if (len > UINT32_MAX)
        return SL_LIMIT;
    char *d = sl_arena_strndup(&batch->arena, s, len);
    if (!d)
        return SL_NOMEM;
    value->kind = SL_V_TEXT;
    value->len = (uint32_t)len;
    value->u.s = d;
    return SL_OK;
}

int sl_batch_set_blob(sl_batch *batch, sl_value *value, const void *b,
                      size_t len)
{
    if (len > UINT32_MAX)
        return SL_LIMIT;
    void *d = sl_arena_alloc(&batch->arena, len ? len : 1);
    if (!d)
        return SL_NOMEM;
    if (len)
        memcpy(d, b, len);
    value->kind = SL_V_BLOB;
    value->len = (uint32_t)len;
    value->u.b = d;
    return SL_OK;
}

int sl_batch_pin(sl_batch *batch, void *ptr, void (*release)(void *))
{
    if (batch->n_pins == batch->cap_pins) {
        int cap = batch->cap_pins ? batch->cap_pins * 2 : 64;
        sl_pin *p = sl_realloc(batch->pins, (size_t)cap * sizeof(*p));
        if (!p)
            return SL_NOMEM;
        batch->pins = p;
        batch->cap_pins = cap;
    }
    batch->pins[batch->n_pins++] = (sl_pin){ptr, release};
    return SL_OK;
}

sl_schema *sl_schema_new(sl_arena *arena, int n_cols, const char *const *names,
                         const sl_type *const *types)
{
    sl_schema *schema = sl_arena_alloc(arena, sizeof(*schema));
    sl_column *cols =
        sl_arena_alloc(arena, sizeof(*cols) * (size_t)(n_cols ? n_cols : 1));
    if (!schema || !cols)
        return NULL;
    for (int i = 0; i < n_cols; i++) {
        cols[i].name = sl_arena_strndup(arena, names[i], strlen(names[i]));
        if (!cols[i].name)
            return NULL;
        cols[i].type = types[i];
    }
    schema->n_cols = n_cols;
    schema->cols = cols;
    return schema;
}

int sl_schema_find(const sl_schema *schema, const char *name)
{
    for (int i = 0; i < schema->n_cols; i++)
        if (sl_str_ieq(schema->cols[i].name, name))
            return i;
    return -1;
}
