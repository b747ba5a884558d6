/*
 * watermark.c: per-split watermark tracking (see watermark.h). Splits are
 * few (partitions, files), so a small array searched linearly from the
 * last hit is enough. Also the SQL function behind CURRENT_WATERMARK.
 */
#include "watermark.h"

void sl_wm_init(sl_wm_tracker *t, int64_t idle_ms, int64_t now_ms)
{
    t->splits = NULL;
    t->n = t->cap = 0;
    t->idle_ms = idle_ms;
    t->created_ms = now_ms;
}

void sl_wm_free(sl_wm_tracker *t)
{
    sl_free(t->splits);
    t->splits = NULL;
    t->n = t->cap = 0;
}

int sl_wm_register(sl_wm_tracker *t, int32_t split, int64_t now_ms)
{
    for (int i = 0; i < t->n; i++)
        if (t->splits[i].split == split)
            return SL_OK;
    return sl_wm_note(t, split, SL_NO_EVENT_TIME, now_ms);
}

int sl_wm_note(sl_wm_tracker *t, int32_t split, int64_t wm, int64_t now_ms)
{
    sl_wm_split *s = NULL;
    for (int i = 0; i < t->n; i++)
        if (t->splits[i].split == split) {
            s = &t->splits[i];
            break;
        }
    if (!s) {
        if (t->n >= SL_WM_MAX_SPLITS)
            return SL_LIMIT;
        if (t->n == t->cap) {
            int cap = t->cap ? t->cap * 2 : 8;
            sl_wm_split *ns = sl_realloc(t->splits, sizeof(*ns) * (size_t)cap);
            if (!ns)
                return SL_NOMEM;
            t->splits = ns;
            t->cap = cap;
        }
        s = &t->splits[t->n++];
        s->split = split;
        s->wm = SL_NO_EVENT_TIME;
    }
    if (wm != SL_NO_EVENT_TIME && wm > s->wm)
        s->wm = wm;
    s->last_ms = now_ms;
    return SL_OK;
}

int64_t sl_wm_current(const sl_wm_tracker *t, int64_t now_ms, bool *idle)
{
    int64_t best = INT64_MAX;
    bool any = false;
    for (int i = 0; i < t->n; i++) {
        const sl_wm_split *s = &t->splits[i];
        if (t->idle_ms > 0 && now_ms - s->last_ms >= t->idle_ms)
            continue;
        any = true;
        if (s->wm < best)
            best = s->wm;
    }
    if (!any) {
        /* nothing active: idle once the timeout passed, else waiting */
        *idle = t->idle_ms > 0 &&
                (t->n > 0 || now_ms - t->created_ms >= t->idle_ms);
        return SL_NO_EVENT_TIME;
    }
    *idle = false;
    return best;
}

static void current_watermark(sqlite3_context *ctx, int argc,
                              sqlite3_value **argv)
{
    SL_UNUSED(argc);
    SL_UNUSED(argv);
    const int64_t *cell = sqlite3_user_data(ctx);
    if (!cell || *cell == SL_NO_EVENT_TIME)
        sqlite3_result_null(ctx);
    else
        sqlite3_result_int64(ctx, *cell);
}

static void free_cell(void *p)
{
    sl_free(p);
}

int sl_wm_sql_register(sqlite3 *db, int64_t **cell, sl_err *err)
{
    int64_t *c = sl_malloc(sizeof(*c));
    if (cell)
        *cell = NULL;
    if (!c)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    *c = SL_NO_EVENT_TIME;
    /* on failure SQLite calls free_cell itself */
    if (sqlite3_create_function_v2(db, "sl_current_watermark", 0, SQLITE_UTF8,
                                   c, current_watermark, NULL, NULL,
                                   free_cell) != SQLITE_OK)
        return sl_err_set(err, SL_ERROR, "cannot register a SQL function: %s",
                          sqlite3_errmsg(db));
    if (cell)
        *cell = c;
    return SL_OK;
}
