/*
 * catalog.c: tables, views and models known to an engine (see catalog.h).
 */
#include <string.h>

#include "catalog.h"

void sl_catalog_init(sl_catalog *cat)
{
    cat->head = NULL;
    cat->n_entries = 0;
}

static void entry_free(sl_cat_entry *e)
{
    sl_arena_free(&e->arena);
    sl_free(e->name);
    sl_free(e->sql);
    sl_free(e);
}

void sl_catalog_free(sl_catalog *cat)
{
    sl_cat_entry *e = cat->head;
    while (e) {
        sl_cat_entry *next = e->next;
        entry_free(e);
        e = next;
    }
    cat->head = NULL;
    cat->n_entries = 0;
}

const char *sl_object_kind_name(sl_object_kind kind)
{
    switch (kind) {
    case SL_OBJ_TABLE:
        return "table";
    case SL_OBJ_VIEW:
        return "view";
    case SL_OBJ_MODEL:
        return "model";
    }
    return "object";
}

sl_cat_entry *sl_catalog_find(const sl_catalog *cat, const char *name,
                              sl_object_kind kind)
{
    for (sl_cat_entry *e = cat->head; e; e = e->next)
        if ((!kind || e->kind == kind) && !strcmp(e->name, name))
            return e;
    return NULL;
}

const char *sl_catalog_suggest(const sl_catalog *cat, const char *name,
                               sl_object_kind kind)
{
    const char *best = NULL;
    int best_d = 3;
    for (sl_cat_entry *e = cat->head; e; e = e->next) {
        if (kind && e->kind != kind)
            continue;
        int d = sl_edit_distance(name, e->name, 2);
        if (d < best_d) {
            best_d = d;
            best = e->name;
        }
    }
    return best;
}

int sl_catalog_add(sl_catalog *cat, sl_object_kind kind, const char *name,
                   bool temporary, const char *sql, size_t len,
                   sl_cat_entry **out, sl_err *err)
{
    if (cat->n_entries >= SL_CATALOG_MAX_ENTRIES)
        return sl_err_set(err, SL_LIMIT, "the catalog holds at most %d objects",
                          SL_CATALOG_MAX_ENTRIES);
    sl_cat_entry *e = sl_calloc(1, sizeof(*e));
    if (!e)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    sl_arena_init(&e->arena, 8192, 0);
    e->kind = kind;
    e->temporary = temporary;
    e->name = sl_strdup(name);
    e->sql = sl_strndup(sql, len);
    if (!e->name || !e->sql) {
        entry_free(e);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    sl_stmt_list list;
    int rc = sl_parse(e->sql, len, &e->arena, &list, err);
    if (rc == SL_OK && list.n != 1)
        rc = sl_err_set(err, SL_ERROR, "internal: catalog statement re-parse");
    if (rc) {
        entry_free(e);
        return rc;
    }
    e->stmt = list.items[0];
    if (kind == SL_OBJ_MODEL)
        e->model_options = e->stmt->create_model.options;
    /* append, keeping creation order */
    sl_cat_entry **tail = &cat->head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = e;
    cat->n_entries++;
    if (out)
        *out = e;
    return SL_OK;
}

void sl_catalog_remove(sl_catalog *cat, sl_cat_entry *entry)
{
    for (sl_cat_entry **p = &cat->head; *p; p = &(*p)->next) {
        if (*p == entry) {
            *p = entry->next;
            cat->n_entries--;
            entry_free(entry);
            return;
        }
    }
}

int sl_catalog_rename(sl_cat_entry *entry, const char *name)
{
    char *n = sl_strdup(name);
    if (!n)
        return SL_NOMEM;
    sl_free(entry->name);
    entry->name = n;
    return SL_OK;
}

char *sl_name_join(const sl_name *name, sl_arena *arena)
{
    size_t len = 0;
    for (int i = 0; i < name->n_parts; i++)
        len += name->parts[i].len + 1;
    char *s = sl_arena_alloc(arena, len + 1);
    if (!s)
        return NULL;
    size_t off = 0;
    for (int i = 0; i < name->n_parts; i++) {
        if (i)
            s[off++] = '.';
        memcpy(s + off, name->parts[i].text, name->parts[i].len);
        off += name->parts[i].len;
    }
    s[off] = '\0';
    return s;
}
