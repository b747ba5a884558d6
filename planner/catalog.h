/*
 * catalog.h: the engine's catalog of tables, views and models.
 *
 * Each entry owns an arena holding its own parsed CREATE statement (the
 * statement text is parsed again into the entry's arena, so the AST lives
 * exactly as long as the entry). The binder reads column definitions,
 * computed-column expressions, view queries and WITH options from there;
 * SHOW CREATE prints the canonical form of the stored statement.
 * Names match case-sensitively, as Flink's do; lookups that fail suggest a
 * close name ("did you mean").
 */
#ifndef SL_CATALOG_H
#define SL_CATALOG_H

#include "parser.h"

typedef struct sl_cat_entry {
    sl_object_kind kind; /* TABLE, VIEW, MODEL */
    char *name;
    bool temporary;
    sl_arena arena;      /* owns stmt and everything it points to */
    const sl_stmt *stmt; /* CREATE TABLE / VIEW / MODEL */
    char *sql;           /* the statement text it was parsed from */
    /* For models: options as changed by ALTER MODEL (key/value pairs in
     * arena). For tables and views: unused. */
    sl_opt_list model_options;
    struct sl_cat_entry *next;
} sl_cat_entry;

typedef struct sl_catalog {
    sl_cat_entry *head; /* in creation order */
    int n_entries;
} sl_catalog;

#define SL_CATALOG_MAX_ENTRIES 100000

void sl_catalog_init(sl_catalog *cat);
void sl_catalog_free(sl_catalog *cat);
/* Find by exact name (any kind when kind is 0). */
sl_cat_entry *sl_catalog_find(const sl_catalog *cat, const char *name,
                              sl_object_kind kind);
/* The closest name of the given kind (0: any) within a small edit
 * distance, or NULL. */
const char *sl_catalog_suggest(const sl_catalog *cat, const char *name,
                               sl_object_kind kind);
/* Add an entry for a CREATE statement whose text is sql[0..len): parses it
 * again into the entry's own arena. */
int sl_catalog_add(sl_catalog *cat, sl_object_kind kind, const char *name,
                   bool temporary, const char *sql, size_t len,
                   sl_cat_entry **out, sl_err *err);
/* Remove and free an entry. */
void sl_catalog_remove(sl_catalog *cat, sl_cat_entry *entry);
/* Rename (models). */
int sl_catalog_rename(sl_cat_entry *entry, const char *name);

/* The name as one string: parts joined with '.'. Allocated in arena. */
char *sl_name_join(const sl_name *name, sl_arena *arena);

const char *sl_object_kind_name(sl_object_kind kind); /* "table" ... */

#endif
