/*
 * exec.c: statement dispatch for sluice_exec.
 *
 * Parses the script (parser/), then runs each statement in order: DDL
 * changes the catalog; SET/RESET the session settings; SHOW, DESCRIBE,
 * SHOW CREATE and EXPLAIN produce rows; a query is planned (plan.h) and
 * either run once on SQLite (static) or as a job (runtime/job.h) whose
 * rows reach the caller's callback; INSERT INTO runs a job into the
 * table's sink, in the foreground unless 'table.dml-sync' is 'false'.
 * The first failing statement stops the script; its message (with
 * line:column for SQL errors) is the engine's error.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine_int.h"
#include "functions.h"
#include "job.h"
#include "kafka_int.h"
#include "op_model.h"
#include "plan.h"
#include "vtab.h"
#include "watermark.h"

typedef struct exec_ctx {
    sluice *db;
    const char *sql;
    size_t len;
    sluice_row_cb cb;
    void *cb_ctx;
    sl_arena *arena; /* the statement's */
} exec_ctx;

/* ---- settings --------------------------------------------------------------
 */

const char *sl_engine_setting(const sluice *db, const char *key)
{
    for (sl_setting *s = db->settings; s; s = s->next)
        if (!strcmp(s->key, key))
            return s->value;
    return NULL;
}

static int setting_put(sluice *db, const char *key, size_t klen,
                       const char *value, size_t vlen)
{
    char *k = sl_strndup(key, klen);
    char *v = sl_strndup(value, vlen);
    if (!k || !v) {
        sl_free(k);
        sl_free(v);
        return SL_NOMEM;
    }
    for (sl_setting *s = db->settings; s; s = s->next) {
        if (!strcmp(s->key, k)) {
            sl_free(s->value);
            s->value = v;
            sl_free(k);
            return SL_OK;
        }
    }
    sl_setting *s = sl_calloc(1, sizeof(*s));
    if (!s) {
        sl_free(k);
        sl_free(v);
        return SL_NOMEM;
    }
    s->key = k;
    s->value = v;
    sl_setting **tail = &db->settings;
    while (*tail)
        tail = &(*tail)->next;
    *tail = s;
    return SL_OK;
}

static void setting_remove(sluice *db, const char *key)
{
    for (sl_setting **p = &db->settings; *p; p = &(*p)->next) {
        if (!key || !strcmp((*p)->key, key)) {
            sl_setting *s = *p;
            *p = s->next;
            sl_free(s->key);
            sl_free(s->value);
            sl_free(s);
            if (key)
                return;
            if (!*p)
                return;
            p = &db->settings;
            if (!*p)
                return;
        }
    }
}

/* ---- rows to the caller
 * ------------------------------------------------------
 */

typedef struct row_emitter {
    exec_ctx *x;
    int n_cols;
    const char **names;
    const char **types;
    const char **texts;
    sl_buf text;
    int64_t limit; /* -1: none */
    int64_t delivered;
    int64_t last_progress_ns;
    int rc; /* SL_ABORT when the callback stopped us */
} row_emitter;

static int emitter_init(row_emitter *em, exec_ctx *x, const sl_schema *schema)
{
    memset(em, 0, sizeof(*em));
    em->x = x;
    em->limit = -1;
    em->n_cols = schema->n_cols;
    size_t n = (size_t)schema->n_cols + 1;
    em->names = sl_arena_alloc(x->arena, n * sizeof(char *));
    em->types = sl_arena_alloc(x->arena, n * sizeof(char *));
    em->texts = sl_arena_alloc(x->arena, n * sizeof(char *));
    if (!em->names || !em->types || !em->texts)
        return SL_NOMEM;
    for (int i = 0; i < schema->n_cols; i++) {
        em->names[i] = schema->cols[i].name;
        sl_buf b;
        sl_buf_init(&b, 4096);
        sl_type_format(schema->cols[i].type, &b);
        em->types[i] = sl_arena_strndup(x->arena, sl_buf_cstr(&b), b.len);
        sl_buf_free(&b);
        if (!em->types[i])
            return SL_NOMEM;
    }
    sl_buf_init(&em->text, 256u << 20);
    return SL_OK;
}

static int emit_values(row_emitter *em, const sl_schema *schema,
                       const sl_value *values, int kind)
{
    if (!em->x->cb)
        return SL_OK;
    if (em->limit >= 0 && em->delivered >= em->limit)
        return SL_ABORT;
    sl_buf_reset(&em->text);
    size_t offs[1024];
    int n = SL_MIN(em->n_cols, (int)SL_ARRAY_LEN(offs));
    for (int i = 0; i < n; i++) {
        offs[i] = em->text.len;
        if (values[i].kind == SL_V_NULL) {
            offs[i] = (size_t)-1;
            continue;
        }
        sl_value_format(schema->cols[i].type, &values[i], &em->text, NULL);
        sl_buf_putc(&em->text, '\0');
    }
    if (em->text.rc)
        return em->text.rc;
    for (int i = 0; i < n; i++)
        em->texts[i] = offs[i] == (size_t)-1 ? NULL : em->text.data + offs[i];
    sluice_row row = {n, kind, em->names, em->types, em->texts};
    em->delivered++;
    if (em->x->cb(em->x->cb_ctx, &row)) {
        em->rc = SL_ABORT;
        return SL_ABORT;
    }
    if (em->limit >= 0 && em->delivered >= em->limit)
        return SL_ABORT;
    return SL_OK;
}

static void emitter_free(row_emitter *em)
{
    sl_buf_free(&em->text);
}

/* Deliver rows of plain text columns (SHOW, DESCRIBE ...). */
static int emit_text_rows(exec_ctx *x, int n_cols, const char *const *names,
                          int n_rows, const char *const *cells)
{
    if (!x->cb)
        return SL_OK;
    const char *types[16];
    for (int i = 0; i < n_cols && i < 16; i++)
        types[i] = "STRING";
    for (int r = 0; r < n_rows; r++) {
        sluice_row row = {n_cols, SLUICE_ROW_INSERT, names, types,
                          cells + (size_t)r * (size_t)n_cols};
        if (x->cb(x->cb_ctx, &row))
            return SL_ABORT;
    }
    return SL_OK;
}

static int emit_one(exec_ctx *x, const char *name, const char *text)
{
    const char *names[1] = {name};
    const char *cells[1] = {text};
    return emit_text_rows(x, 1, names, 1, cells);
}

/* ---- errors
 * ------------------------------------------------------------------
 */

static int sql_err(exec_ctx *x, int code, size_t offset, const char *fmt, ...)
    SL_PRINTF(4, 5);

static int sql_err(exec_ctx *x, int code, size_t offset, const char *fmt, ...)
{
    char msg[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return sl_sql_error(&x->db->err, code, x->sql, x->len, offset, "%s", msg);
}

static char *name_text(exec_ctx *x, const sl_name *n)
{
    return sl_name_join(n, x->arena);
}

/* ---- DDL
 * ---------------------------------------------------------------------
 */

static int check_new_name(exec_ctx *x, const char *name, sl_pos pos,
                          bool if_not_exists, bool *skip)
{
    *skip = false;
    sl_cat_entry *e = sl_catalog_find(&x->db->catalog, name, 0);
    if (!e)
        return SL_OK;
    if (if_not_exists) {
        *skip = true;
        return SL_OK;
    }
    return sql_err(x, SL_EXISTS, pos.offset, "%s '%s' already exists",
                   sl_object_kind_name(e->kind), name);
}

static int exec_create_table(exec_ctx *x, const sl_stmt *st)
{
    char *name = name_text(x, &st->create_table.name);
    if (!name)
        return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
    bool skip;
    int rc = check_new_name(x, name, st->create_table.name.pos,
                            st->create_table.if_not_exists, &skip);
    if (rc || skip)
        return rc;
    if (st->create_table.as_query)
        return sql_err(x, SL_UNSUPPORTED, st->offset,
                       "CREATE TABLE ... AS SELECT is not supported yet");
    /* the connector must exist */
    const sl_opt_list *ol = &st->create_table.options;
    const sl_opt_pair *conn = NULL;
    for (int i = 0; i < ol->n; i++)
        if (ol->items[i].key_len == 9 &&
            !memcmp(ol->items[i].key, "connector", 9))
            conn = &ol->items[i];
    if (!conn)
        return sql_err(x, SL_SQL, st->create_table.name.pos.offset,
                       "table '%s' needs a 'connector' option in its WITH "
                       "clause",
                       name);
    char *cname = sl_arena_strndup(x->arena, conn->value, conn->value_len);
    if (!cname)
        return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
    if (!sl_connector_find(cname)) {
        const sl_connector *const *all = sl_connector_all();
        const char *best = NULL;
        int best_d = 3;
        for (int i = 0; all[i]; i++) {
            int d = sl_edit_distance(cname, all[i]->name, 2);
            if (d < best_d) {
                best_d = d;
                best = all[i]->name;
            }
        }
        if (best)
            return sql_err(x, SL_SQL, conn->value_pos.offset,
                           "unknown connector '%s' (did you mean '%s'?)", cname,
                           best);
        return sql_err(x, SL_SQL, conn->value_pos.offset,
                       "unknown connector '%s'", cname);
    }
    /* an embedded broker lives as long as the engine */
    for (int i = 0; i < ol->n && !x->db->holds_embedded_kafka; i++) {
        const sl_opt_pair *p = &ol->items[i];
        if (sl_str_nieq(p->key, p->key_len, "properties.bootstrap.servers") &&
            sl_str_nieq(p->value, p->value_len, "embedded")) {
            const char *bootstrap = NULL;
            int arc = sl_kafka_embedded_acquire(&bootstrap, &x->db->err);
            if (arc)
                return arc;
            x->db->holds_embedded_kafka = true;
        }
    }
    /* duplicate column names */
    for (int i = 0; i < st->create_table.n_columns; i++) {
        const sl_ident *a = &st->create_table.columns[i].name;
        for (int j = 0; j < i; j++) {
            const sl_ident *b = &st->create_table.columns[j].name;
            if (a->len == b->len && !memcmp(a->text, b->text, a->len))
                return sql_err(x, SL_SQL, a->pos.offset,
                               "duplicate column '%.*s'", (int)a->len, a->text);
        }
    }
    return sl_catalog_add(&x->db->catalog, SL_OBJ_TABLE, name,
                          st->create_table.temporary, x->sql + st->offset,
                          st->len, NULL, &x->db->err);
}

static int exec_create_view(exec_ctx *x, const sl_stmt *st)
{
    char *name = name_text(x, &st->create_view.name);
    if (!name)
        return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
    bool skip;
    int rc = check_new_name(x, name, st->create_view.name.pos,
                            st->create_view.if_not_exists, &skip);
    if (rc || skip)
        return rc;
    /* the query must plan */
    sl_plan_env env = {&x->db->catalog, x->sql, x->len};
    sl_plan plan;
    rc = sl_plan_query(&env, st->create_view.query, x->arena, &plan,
                       &x->db->err);
    if (rc)
        return rc;
    if (st->create_view.n_columns &&
        st->create_view.n_columns != plan.out_schema->n_cols)
        return sql_err(x, SL_SQL, st->create_view.name.pos.offset,
                       "view '%s' names %d columns but its query has %d", name,
                       st->create_view.n_columns, plan.out_schema->n_cols);
    return sl_catalog_add(&x->db->catalog, SL_OBJ_VIEW, name,
                          st->create_view.temporary, x->sql + st->offset,
                          st->len, NULL, &x->db->err);
}

static bool is_secret_key(const char *key, size_t len);

static int exec_create_model(exec_ctx *x, const sl_stmt *st)
{
    char *name = name_text(x, &st->create_model.name);
    if (!name)
        return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
    bool skip;
    int rc = check_new_name(x, name, st->create_model.name.pos,
                            st->create_model.if_not_exists, &skip);
    if (rc || skip)
        return rc;
    const sl_opt_list *ol = &st->create_model.options;
    bool has_provider = false;
    for (int i = 0; i < ol->n; i++)
        if (ol->items[i].key_len == 8 &&
            !memcmp(ol->items[i].key, "provider", 8))
            has_provider = true;
    for (int i = 0; i < ol->n; i++) {
        const sl_opt_pair *p = &ol->items[i];
        bool is_ref =
            p->value_len > 2 && p->value[0] == '$' && p->value[1] == '{';
        if (is_secret_key(p->key, p->key_len) && !is_ref && p->value_len)
            sl_engine_warn(x->db,
                           "warning: model '%s': option '%.*s' is a literal "
                           "secret; write '${ENV_VAR}' so it stays out of "
                           "scripts and history",
                           name, (int)p->key_len, p->key);
    }
    if (!has_provider)
        return sql_err(x, SL_SQL, st->create_model.name.pos.offset,
                       "model '%s' needs a 'provider' option in its WITH "
                       "clause",
                       name);
    return sl_catalog_add(&x->db->catalog, SL_OBJ_MODEL, name,
                          st->create_model.temporary, x->sql + st->offset,
                          st->len, NULL, &x->db->err);
}

static int exec_drop(exec_ctx *x, const sl_stmt *st)
{
    char *name = name_text(x, &st->drop.name);
    if (!name)
        return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
    sl_cat_entry *e = sl_catalog_find(&x->db->catalog, name, 0);
    if (!e || e->kind != st->drop.object) {
        if (st->drop.if_exists)
            return SL_OK;
        if (e)
            return sql_err(x, SL_SQL, st->drop.name.pos.offset,
                           "'%s' is a %s, not a %s", name,
                           sl_object_kind_name(e->kind),
                           sl_object_kind_name(st->drop.object));
        const char *hint =
            sl_catalog_suggest(&x->db->catalog, name, st->drop.object);
        if (hint)
            return sql_err(x, SL_NOTFOUND, st->drop.name.pos.offset,
                           "%s '%s' not found (did you mean '%s'?)",
                           sl_object_kind_name(st->drop.object), name, hint);
        return sql_err(x, SL_NOTFOUND, st->drop.name.pos.offset,
                       "%s '%s' not found",
                       sl_object_kind_name(st->drop.object), name);
    }
    sl_catalog_remove(&x->db->catalog, e);
    return SL_OK;
}

static int exec_alter_model(exec_ctx *x, const sl_stmt *st)
{
    char *name = name_text(x, &st->alter_model.name);
    if (!name)
        return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
    sl_cat_entry *e = sl_catalog_find(&x->db->catalog, name, SL_OBJ_MODEL);
    if (!e) {
        if (st->alter_model.if_exists)
            return SL_OK;
        return sql_err(x, SL_NOTFOUND, st->alter_model.name.pos.offset,
                       "model '%s' not found", name);
    }
    if (st->alter_model.action == SL_ALTER_MODEL_RENAME) {
        char *nn = name_text(x, &st->alter_model.new_name);
        if (!nn)
            return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
        if (sl_catalog_find(&x->db->catalog, nn, 0))
            return sql_err(x, SL_EXISTS, st->alter_model.new_name.pos.offset,
                           "'%s' already exists", nn);
        return sl_catalog_rename(e, nn)
                   ? sl_err_set(&x->db->err, SL_NOMEM, "out of memory")
                   : SL_OK;
    }
    /* SET / RESET: rebuild the option list in the entry's arena */
    const sl_opt_list *cur = &e->model_options;
    const sl_opt_list *chg = &st->alter_model.options;
    int cap = cur->n + chg->n;
    sl_opt_pair *items =
        sl_arena_alloc(&e->arena, sizeof(sl_opt_pair) * (size_t)(cap + 1));
    if (!items)
        return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
    int n = 0;
    for (int i = 0; i < cur->n; i++) {
        bool dropped = false;
        for (int k = 0; k < chg->n; k++)
            if (chg->items[k].key_len == cur->items[i].key_len &&
                !memcmp(chg->items[k].key, cur->items[i].key,
                        cur->items[i].key_len))
                dropped = true;
        if (!dropped)
            items[n++] = cur->items[i];
    }
    if (st->alter_model.action == SL_ALTER_MODEL_SET) {
        for (int k = 0; k < chg->n; k++) {
            sl_opt_pair p = chg->items[k];
            p.key = sl_arena_strndup(&e->arena, p.key, p.key_len);
            p.value = sl_arena_strndup(&e->arena, p.value, p.value_len);
            if (!p.key || !p.value)
                return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
            items[n++] = p;
        }
    }
    e->model_options.n = n;
    e->model_options.items = items;
    return SL_OK;
}

/* ---- SHOW / DESCRIBE / SHOW CREATE -----------------------------------------
 */

static const char *const show_metrics_cols[4] = {"job id", "metric", "labels",
                                                 "value"};

static int show_metrics_row(void *ctx, const char *const *cells)
{
    return emit_text_rows(ctx, 4, show_metrics_cols, 1, cells);
}

static int exec_show(exec_ctx *x, const sl_stmt *st)
{
    sluice *db = x->db;
    if (st->show.what == SL_SHOW_FUNCTIONS) {
        const char *names[1] = {"function name"};
        for (const sl_function_info *f = sl_functions_list(); f->name; f++) {
            const char *cell[1] = {f->name};
            int rc = emit_text_rows(x, 1, names, 1, cell);
            if (rc)
                return rc;
        }
        return SL_OK;
    }
    if (st->show.what == SL_SHOW_METRICS)
        return sl_engine_metrics_rows(db, show_metrics_row, x);
    if (st->show.what == SL_SHOW_JOBS) {
        const char *names[9] = {"job id",     "job name",  "status",
                                "start time", "rows in",   "rows out",
                                "error",      "watermark", "late rows"};
        for (sl_engine_job *j = db->jobs; j; j = j->next) {
            sl_job_metrics m;
            sl_job_metrics_get(j->job, &m, NULL, 0);
            char start[64] = "", in[32], outn[32];
            if (m.start_ms) {
                sl_buf b;
                sl_buf_init(&b, 64);
                sl_format_timestamp(m.start_ms, 3, &b);
                sl_strlcpy(start, sl_buf_cstr(&b), sizeof(start));
                sl_buf_free(&b);
            }
            sl_snprintf(in, sizeof(in), "%lld", (long long)m.rows_read);
            sl_snprintf(outn, sizeof(outn), "%lld", (long long)m.rows_written);
            char wm[64] = "", late[32];
            if (m.watermark_ms != SL_NO_EVENT_TIME) {
                sl_buf b;
                sl_buf_init(&b, 64);
                sl_format_timestamp(m.watermark_ms, 3, &b);
                sl_strlcpy(wm, sl_buf_cstr(&b), sizeof(wm));
                sl_buf_free(&b);
            }
            sl_snprintf(late, sizeof(late), "%lld", (long long)m.late_rows);
            const char *cells[9] = {j->id,
                                    j->name,
                                    sl_job_state_name(sl_job_state_get(j->job)),
                                    start,
                                    in,
                                    outn,
                                    sl_job_error(j->job),
                                    wm,
                                    late};
            int rc = emit_text_rows(x, 9, names, 1, cells);
            if (rc)
                return rc;
        }
        return SL_OK;
    }
    sl_object_kind kind = st->show.what == SL_SHOW_TABLES  ? SL_OBJ_TABLE
                          : st->show.what == SL_SHOW_VIEWS ? SL_OBJ_VIEW
                                                           : SL_OBJ_MODEL;
    const char *col = kind == SL_OBJ_TABLE  ? "table name"
                      : kind == SL_OBJ_VIEW ? "view name"
                                            : "model name";
    /* sorted by name, as Flink prints them */
    int n = 0;
    for (sl_cat_entry *e = db->catalog.head; e; e = e->next)
        if (e->kind == kind || (kind == SL_OBJ_TABLE && e->kind == SL_OBJ_VIEW))
            n++;
    const char **cells = sl_arena_alloc(x->arena, sizeof(char *) * (n + 1));
    if (!cells)
        return sl_err_set(&db->err, SL_NOMEM, "out of memory");
    int k = 0;
    for (sl_cat_entry *e = db->catalog.head; e; e = e->next)
        if (e->kind == kind || (kind == SL_OBJ_TABLE && e->kind == SL_OBJ_VIEW))
            cells[k++] = e->name;
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && strcmp(cells[j - 1], cells[j]) > 0; j--) {
            const char *t = cells[j];
            cells[j] = cells[j - 1];
            cells[j - 1] = t;
        }
    const char *names[1] = {col};
    return emit_text_rows(x, 1, names, k, cells);
}

static bool is_secret_key(const char *key, size_t len)
{
    static const char *const words[] = {"key",      "secret",     "token",
                                        "password", "credential", NULL};
    for (int i = 0; words[i]; i++) {
        size_t wl = strlen(words[i]);
        for (size_t p = 0; p + wl <= len; p++)
            if (sl_str_nieq(key + p, wl, words[i]))
                return true;
    }
    return false;
}

static void append_options(sl_buf *b, const sl_opt_list *ol, bool mask)
{
    sl_buf_puts(b, "WITH (\n");
    for (int i = 0; i < ol->n; i++) {
        const sl_opt_pair *p = &ol->items[i];
        sl_buf_puts(b, "  ");
        sl_buf_putc(b, '\'');
        sl_buf_append(b, p->key, p->key_len);
        sl_buf_puts(b, "' = '");
        bool is_ref =
            p->value_len > 2 && p->value[0] == '$' && p->value[1] == '{';
        if (mask && is_secret_key(p->key, p->key_len) && !is_ref)
            sl_buf_puts(b, "****");
        else
            for (size_t k = 0; k < p->value_len; k++) {
                if (p->value[k] == '\'')
                    sl_buf_putc(b, '\'');
                sl_buf_putc(b, p->value[k]);
            }
        sl_buf_printf(b, "'%s\n", i + 1 < ol->n ? "," : "");
    }
    sl_buf_putc(b, ')');
}

static int exec_show_create(exec_ctx *x, const sl_stmt *st)
{
    char *name = name_text(x, &st->show_create.name);
    if (!name)
        return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
    sl_cat_entry *e =
        sl_catalog_find(&x->db->catalog, name, st->show_create.object);
    if (!e && st->show_create.object == SL_OBJ_TABLE)
        e = sl_catalog_find(&x->db->catalog, name, SL_OBJ_VIEW);
    if (!e)
        return sql_err(x, SL_NOTFOUND, st->show_create.name.pos.offset,
                       "%s '%s' not found",
                       sl_object_kind_name(st->show_create.object), name);
    sl_buf b;
    sl_buf_init(&b, 16u << 20);
    if (e->kind == SL_OBJ_MODEL) {
        /* print without the options, then the (masked) current options */
        sl_stmt copy = *e->stmt;
        copy.create_model.options.n = 0;
        sl_unparse_stmt(&copy, &b);
        sl_buf_putc(&b, '\n');
        append_options(&b, &e->model_options, true);
    } else {
        sl_unparse_stmt(e->stmt, &b);
    }
    int rc = b.rc ? sl_err_set(&x->db->err, b.rc, "statement too large")
                  : emit_one(x, "result", sl_buf_cstr(&b));
    sl_buf_free(&b);
    return rc;
}

static int exec_describe(exec_ctx *x, const sl_stmt *st)
{
    char *name = name_text(x, &st->describe.name);
    if (!name)
        return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
    sl_cat_entry *e = sl_catalog_find(&x->db->catalog, name, 0);
    if (!e ||
        (st->describe.object == SL_OBJ_MODEL && e->kind != SL_OBJ_MODEL)) {
        const char *hint = sl_catalog_suggest(&x->db->catalog, name, 0);
        if (hint)
            return sql_err(x, SL_NOTFOUND, st->describe.name.pos.offset,
                           "'%s' not found (did you mean '%s'?)", name, hint);
        return sql_err(x, SL_NOTFOUND, st->describe.name.pos.offset,
                       "'%s' not found", name);
    }
    if (e->kind == SL_OBJ_MODEL) {
        const char *names[4] = {"name", "type", "null", "io"};
        for (int io = 0; io < 2; io++) {
            int n = io ? e->stmt->create_model.n_outputs
                       : e->stmt->create_model.n_inputs;
            const sl_column_def *cols = io ? e->stmt->create_model.outputs
                                           : e->stmt->create_model.inputs;
            for (int i = 0; i < n; i++) {
                sl_buf b;
                sl_buf_init(&b, 4096);
                sl_type tt = *cols[i].type;
                tt.not_null = false;
                sl_type_format(&tt, &b);
                char *cn = sl_arena_strndup(x->arena, cols[i].name.text,
                                            cols[i].name.len);
                const char *cells[4] = {cn, sl_buf_cstr(&b),
                                        cols[i].type->not_null ? "FALSE"
                                                               : "TRUE",
                                        io ? "OUTPUT" : "INPUT"};
                int rc = emit_text_rows(x, 4, names, 1, cells);
                sl_buf_free(&b);
                if (rc)
                    return rc;
            }
        }
        return SL_OK;
    }
    if (e->kind == SL_OBJ_VIEW) {
        sl_plan_env env = {&x->db->catalog, e->sql, strlen(e->sql)};
        sl_plan plan;
        int rc = sl_plan_query(&env, e->stmt->create_view.query, x->arena,
                               &plan, &x->db->err);
        if (rc)
            return rc;
        const char *names[3] = {"name", "type", "null"};
        for (int i = 0; i < plan.out_schema->n_cols; i++) {
            sl_buf b;
            sl_buf_init(&b, 4096);
            sl_type_format(plan.out_schema->cols[i].type, &b);
            const char *nm =
                e->stmt->create_view.n_columns
                    ? sl_arena_strndup(x->arena,
                                       e->stmt->create_view.columns[i].text,
                                       e->stmt->create_view.columns[i].len)
                    : plan.out_schema->cols[i].name;
            const char *cells[3] = {nm, sl_buf_cstr(&b), "TRUE"};
            rc = emit_text_rows(x, 3, names, 1, cells);
            sl_buf_free(&b);
            if (rc)
                return rc;
        }
        return SL_OK;
    }
    /* table: name, type, null, key, extras, watermark (Flink's columns) */
    const sl_stmt *ct = e->stmt;
    const char *names[6] = {"name", "type",   "null",
                            "key",  "extras", "watermark"};
    for (int i = 0; i < ct->create_table.n_columns; i++) {
        const sl_column_def *c = &ct->create_table.columns[i];
        char *cn = sl_arena_strndup(x->arena, c->name.text, c->name.len);
        sl_buf type, extras, wm;
        sl_buf_init(&type, 4096);
        sl_buf_init(&extras, 1 << 16);
        sl_buf_init(&wm, 1 << 16);
        bool not_null = false;
        if (c->type) {
            sl_type tt = *c->type;
            not_null = tt.not_null;
            tt.not_null = false;
            sl_type_format(&tt, &type);
        } else {
            sl_buf_puts(&type, "(computed)");
        }
        bool is_pk = false;
        for (int k = 0; k < ct->create_table.primary_key.n_columns; k++) {
            const sl_ident *p = &ct->create_table.primary_key.columns[k];
            if (p->len == c->name.len && !memcmp(p->text, c->name.text, p->len))
                is_pk = true;
        }
        if (c->kind == SL_COL_COMPUTED) {
            sl_buf_puts(&extras, "AS ");
            sl_unparse_expr(c->expr, &extras, NULL);
        } else if (c->kind == SL_COL_METADATA) {
            sl_buf_puts(&extras, "METADATA");
            if (c->metadata_key)
                sl_buf_printf(&extras, " FROM '%s'", c->metadata_key);
            if (c->is_virtual)
                sl_buf_puts(&extras, " VIRTUAL");
        }
        const sl_watermark *w = ct->create_table.watermark;
        if (w && w->column.n_parts == 1 &&
            w->column.parts[0].len == c->name.len &&
            !memcmp(w->column.parts[0].text, c->name.text, c->name.len))
            sl_unparse_expr(w->expr, &wm, NULL);
        const char *cells[6] = {cn,
                                sl_buf_cstr(&type),
                                (not_null || is_pk) ? "FALSE" : "TRUE",
                                is_pk ? "PRI" : "",
                                sl_buf_cstr(&extras),
                                sl_buf_cstr(&wm)};
        int rc = emit_text_rows(x, 6, names, 1, cells);
        sl_buf_free(&type);
        sl_buf_free(&extras);
        sl_buf_free(&wm);
        if (rc)
            return rc;
    }
    return SL_OK;
}

/* ---- SET / RESET
 * --------------------------------------------------------------
 */

/* 'metrics.port' / 'metrics.host' take effect at once; a value the
 * endpoint cannot use is dropped again (the endpoint stays off). */
static int metrics_settings_changed(exec_ctx *x)
{
    int rc = sl_engine_metrics_configure(x->db, &x->db->err);
    if (rc) {
        setting_remove(x->db, "metrics.port");
        sl_err e;
        sl_err_clear(&e);
        sl_engine_metrics_configure(x->db, &e);
    }
    return rc;
}

static int exec_set(exec_ctx *x, const sl_stmt *st)
{
    const sl_opt_list *ol = &st->set.options;
    if (ol->n == 0) {
        const char *names[2] = {"key", "value"};
        for (sl_setting *s = x->db->settings; s; s = s->next) {
            const char *cells[2] = {s->key, s->value};
            int rc = emit_text_rows(x, 2, names, 1, cells);
            if (rc)
                return rc;
        }
        return SL_OK;
    }
    for (int i = 0; i < ol->n; i++) {
        const sl_opt_pair *p = &ol->items[i];
        if (setting_put(x->db, p->key, p->key_len, p->value ? p->value : "",
                        p->value ? p->value_len : 0))
            return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
    }
    return metrics_settings_changed(x);
}

static int exec_reset(exec_ctx *x, const sl_stmt *st)
{
    const sl_opt_list *ol = &st->reset.options;
    if (ol->n == 0) {
        setting_remove(x->db, NULL);
        return metrics_settings_changed(x);
    }
    for (int i = 0; i < ol->n; i++) {
        char *k =
            sl_arena_strndup(x->arena, ol->items[i].key, ol->items[i].key_len);
        if (!k)
            return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
        setting_remove(x->db, k);
    }
    return metrics_settings_changed(x);
}

/* ---- running plans
 * ------------------------------------------------------------
 */

static int open_db(sqlite3 **out, int64_t **wm_cell, sl_err *err)
{
    int rc = sl_job_db_open(out, err);
    if (rc)
        return rc;
    rc = sl_functions_register(*out, err);
    if (!rc)
        rc = sl_wm_sql_register(*out, wm_cell, err);
    if (!rc && sqlite3_exec(*out, "PRAGMA case_sensitive_like = ON", NULL, NULL,
                            NULL) != SQLITE_OK)
        rc = sl_err_set(err, SL_ERROR, "cannot configure SQLite: %s",
                        sqlite3_errmsg(*out));
    if (rc) {
        sqlite3_close(*out);
        *out = NULL;
    }
    return rc;
}

static int value_from_sqlite(sqlite3_stmt *stmt, int i, const sl_type *type,
                             sl_value *v)
{
    switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_NULL:
        *v = sl_value_null();
        break;
    case SQLITE_INTEGER:
        if (sl_type_storage(type) == SL_V_REAL)
            *v = sl_value_real((double)sqlite3_column_int64(stmt, i));
        else
            *v = sl_value_int(sqlite3_column_int64(stmt, i));
        break;
    case SQLITE_FLOAT:
        if (sl_type_storage(type) == SL_V_INT && !sl_type_is_temporal(type))
            *v = sl_value_int((int64_t)sqlite3_column_double(stmt, i));
        else
            *v = sl_value_real(sqlite3_column_double(stmt, i));
        break;
    case SQLITE_BLOB:
        v->kind = SL_V_BLOB;
        v->u.b = sqlite3_column_blob(stmt, i);
        v->len = (uint32_t)sqlite3_column_bytes(stmt, i);
        break;
    default:
        v->kind = SL_V_TEXT;
        v->u.s = (const char *)sqlite3_column_text(stmt, i);
        v->len = (uint32_t)sqlite3_column_bytes(stmt, i);
        break;
    }
    return SL_OK;
}

static int run_static(exec_ctx *x, sl_plan *plan, row_emitter *em)
{
    sqlite3 *sdb = NULL;
    int rc = open_db(&sdb, NULL, &x->db->err);
    if (rc)
        return rc;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(sdb, plan->static_sql, -1, &stmt, NULL) !=
        SQLITE_OK) {
        rc = sl_err_set(&x->db->err, SL_SQL, "cannot prepare query: %s",
                        sqlite3_errmsg(sdb));
        sqlite3_close(sdb);
        return rc;
    }
    const sl_schema *schema = plan->out_schema;
    sl_value vals[1024];
    int n = SL_MIN(schema->n_cols, (int)SL_ARRAY_LEN(vals));
    for (;;) {
        if (x->db->interrupted) {
            rc = sl_err_set(&x->db->err, SL_INTERRUPTED, "interrupted");
            break;
        }
        int s = sqlite3_step(stmt);
        if (s == SQLITE_DONE)
            break;
        if (s != SQLITE_ROW) {
            rc = sl_err_set(&x->db->err, SL_RUNTIME, "%s", sqlite3_errmsg(sdb));
            break;
        }
        for (int i = 0; i < n; i++)
            value_from_sqlite(stmt, i, schema->cols[i].type, &vals[i]);
        rc = emit_values(em, schema, vals, SLUICE_ROW_INSERT);
        if (rc == SL_ABORT) {
            rc = em->rc;
            break;
        }
        if (rc) {
            rc = sl_err_set(&x->db->err, rc, "result row too large");
            break;
        }
    }
    sqlite3_finalize(stmt);
    sqlite3_close(sdb);
    return rc;
}

static int call_progress(sluice *db, sl_job *job);

static int job_rows(void *ctx, const sl_batch *batch, const sl_schema *schema)
{
    row_emitter *em = ctx;
    sluice *db = em->x->db;
    if (db->progress_cb && db->foreground) {
        int64_t t = sl_mono_ns();
        if (t - em->last_progress_ns >=
            (int64_t)db->progress_interval_ms * 1000000) {
            em->last_progress_ns = t;
            if (call_progress(db, db->foreground))
                return SL_ABORT;
        }
    }
    for (int r = 0; r < batch->n_rows; r++) {
        int rc =
            emit_values(em, schema, sl_batch_crow(batch, r), batch->kinds[r]);
        if (rc)
            return rc;
    }
    return 0;
}

static void job_id_new(sluice *db, char id[33])
{
    uint64_t a =
        (uint64_t)sl_now_ms() * 0x9E3779B97F4A7C15ull ^ (uint64_t)sl_mono_ns();
    uint64_t b = ++db->job_seq * 0xBF58476D1CE4E5B9ull ^ (uintptr_t)db;
    sl_snprintf(id, 33, "%016llx%016llx", (unsigned long long)a,
                (unsigned long long)b);
}

/* ---- checkpoints ------------------------------------------------------- */

/* The checkpoint state of an INSERT job from the session's settings, or
 * NULL when none of 'state.dir', 'execution.checkpointing.interval' and
 * 'execution.savepoint.path' is set. The job is identified by
 * 'pipeline.name' or a hash of the statement's text. */
static int open_ckpt(exec_ctx *x, const char *text, size_t len, sl_ckpt **out)
{
    sluice *db = x->db;
    sl_err *err = &db->err;
    *out = NULL;
    const char *dir = sl_engine_setting(db, "state.dir");
    const char *iv = sl_engine_setting(db, "execution.checkpointing.interval");
    const char *sp = sl_engine_setting(db, "execution.savepoint.path");
    if (!dir && !iv && !sp)
        return SL_OK;
    if (!dir || !*dir)
        return sl_err_set(err, SL_SQL,
                          "checkpoints need a state directory: SET "
                          "'state.dir' = '/path'");
    sl_ckpt_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.state_dir = dir;
    if (iv && sl_parse_duration_ms(iv, &cfg.interval_ms))
        return sl_err_set(err, SL_SQL,
                          "'execution.checkpointing.interval': '%s' is not a "
                          "duration ('10 s', '500 ms', '1 min')",
                          iv);
    if (iv && cfg.interval_ms <= 0)
        return sl_err_set(err, SL_SQL,
                          "'execution.checkpointing.interval' must be > 0");
    char id[64];
    const char *name = sl_engine_setting(db, "pipeline.name");
    if (name && *name) {
        cfg.job_id = name;
    } else {
        uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the statement */
        for (size_t i = 0; i < len; i++) {
            h ^= (unsigned char)text[i];
            h *= 0x100000001b3ull;
        }
        sl_snprintf(id, sizeof(id), "job-%016llx", (unsigned long long)h);
        cfg.job_id = id;
    }
    cfg.store = sl_engine_setting(db, "state.checkpoints.dir");
    const char *v = sl_engine_setting(db, "state.checkpoints.num-retained");
    int64_t n = 0;
    if (v &&
        (sl_parse_int64(v, strlen(v), &n) || n < 1 || n > SL_CKPT_MAX_RETAINED))
        return sl_err_set(err, SL_SQL,
                          "'state.checkpoints.num-retained' must be 1..%d",
                          SL_CKPT_MAX_RETAINED);
    cfg.retained = (int)n;
    v = sl_engine_setting(db, "sluice.checkpoints.full-every");
    n = 0;
    if (v && (sl_parse_int64(v, strlen(v), &n) || n < 1 || n > 1000000))
        return sl_err_set(err, SL_SQL,
                          "'sluice.checkpoints.full-every' must be 1..1000000");
    cfg.full_every = (int)n;
    cfg.s3_endpoint = sl_engine_setting(db, "s3.endpoint");
    cfg.s3_region = sl_engine_setting(db, "s3.region");
    cfg.s3_access_key = sl_engine_setting(db, "s3.access-key");
    cfg.s3_secret_key = sl_engine_setting(db, "s3.secret-key");
    cfg.savepoint_path = sp;
    return sl_ckpt_open(&cfg, out, err);
}

static const char *opt_value(const sl_options *o, const char *key)
{
    for (int i = 0; o && i < o->n; i++)
        if (!strcmp(o->items[i].key, key))
            return o->items[i].value;
    return NULL;
}

/* 'error.sink' = 'table': open that table's sink for the rows the model
 * gives up on, its columns filled by name from the input row and the
 * error columns 'error' / 'error_message', 'http_status' / 'status' and
 * 'model'. */
static int attach_dead_letter(exec_ctx *x, const sl_plan_model *m,
                              sl_operator *op, sl_arena *arena, sl_err *err)
{
    const char *name = opt_value(m->call_options, "error.sink");
    if (!name)
        name = opt_value(m->model_options, "error.sink");
    if (!name)
        return SL_OK;
    sl_cat_entry *e = sl_catalog_find(&x->db->catalog, name, SL_OBJ_TABLE);
    if (!e)
        return sl_err_set(err, SL_SQL,
                          "model '%s': 'error.sink' table '%s' not found",
                          m->name, name);
    sl_plan_env env = {&x->db->catalog, x->sql, x->len};
    sl_plan_table t;
    int rc = sl_plan_table_info(&env, e, true, arena, &t, err);
    if (rc)
        return rc;
    if (!t.connector->open_sink)
        return sl_err_set(err, SL_SQL,
                          "model '%s': 'error.sink' table '%s' cannot be "
                          "written",
                          m->name, name);
    const sl_schema *ds = t.info.schema;
    int *map = sl_arena_alloc(arena, sizeof(int) * (size_t)(ds->n_cols + 1));
    if (!map)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    for (int c = 0; c < ds->n_cols; c++) {
        const char *cn = ds->cols[c].name;
        int k = sl_schema_find(m->in_schema, cn);
        if (k >= 0 && strncmp(cn, "__llm_", 6))
            map[c] = k;
        else if (!strcmp(cn, "error") || !strcmp(cn, "error_message"))
            map[c] = SL_DEAD_ERROR;
        else if (!strcmp(cn, "http_status") || !strcmp(cn, "status"))
            map[c] = SL_DEAD_STATUS;
        else if (!strcmp(cn, "model"))
            map[c] = SL_DEAD_MODEL;
        else
            map[c] = SL_DEAD_NULL;
    }
    sl_sink *sink = NULL;
    rc = t.connector->open_sink(&t.info, &sink, err);
    if (rc)
        return rc;
    return sl_model_op_set_dead_letter(op, sink, ds, map, m->name, err);
}

/* The job resumes from a checkpoint or savepoint. */
static bool resumes(const sl_ckpt *ckpt)
{
    sl_ckpt_stats st;
    sl_ckpt_stats_get(ckpt, &st);
    return st.last_id > 0;
}

/* A resumed job tells a sink whose connector knows 'sink.append' (the
 * filesystem sink) to append to its file instead of truncating it: rows
 * written before the crash stay. Other connectors ignore it. */
static int add_option(sl_arena *arena, sl_options *o, const char *key,
                      const char *value)
{
    if (!o || sl_options_has(o, key))
        return SL_OK;
    sl_option *items =
        sl_arena_alloc(arena, sizeof(sl_option) * (size_t)(o->n + 1));
    if (!items)
        return SL_NOMEM;
    if (o->n)
        memcpy(items, o->items, sizeof(sl_option) * (size_t)o->n);
    items[o->n] = (sl_option){key, value, true}; /* used: no complaint */
    o->items = items;
    o->n++;
    return SL_OK;
}

/* Tell a source which of its table's columns the query reads (its stage
 * and its event-time stage, as SQLite planned them), so that it can skip
 * decoding the others. Unknown use: every column. */
static int project_source(sl_source *src, const sl_plan_table *t,
                          const sl_stage *stage, const sl_stage *time_stage,
                          sl_err *err)
{
    int n = t->info.schema->n_cols;
    if (!src->ops->project || n == 0)
        return SL_OK;
    bool *used = sl_calloc((size_t)n * 2, sizeof(bool));
    if (!used)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    bool *more = used + n;
    int rc = SL_OK;
    bool known = sl_stage_columns_used(stage, used);
    if (known && time_stage) {
        known = sl_stage_columns_used(time_stage, more);
        for (int c = 0; c < n; c++)
            used[c] = used[c] || more[c];
    }
    if (known) {
        rc = src->ops->project(src, used, n, err);
        if (rc) {
            char msg[SL_ERR_MSG_MAX];
            sl_strlcpy(msg, err->msg, sizeof(msg));
            sl_err_reset(err, rc, "table '%s': %s", t->name, msg);
        }
    }
    sl_free(used);
    return rc;
}

/* Build the job for a plan: sources opened, one stage per source; with an
 * ML_PREDICT, the model operator and the stage after it as steps. Takes
 * sink and ckpt, also on failure. */
static int build_job(exec_ctx *x, sl_plan *plan, const char *name,
                     sl_sink *sink, row_emitter *em, sl_ckpt *ckpt,
                     sl_job **out)
{
    sl_err *err = &x->db->err;
    sqlite3 *jdb = NULL;
    int64_t *wm_cell = NULL;
    int rc = open_db(&jdb, &wm_cell, err);
    if (rc) {
        if (sink)
            sink->ops->close(sink);
        sl_ckpt_free(ckpt);
        return rc;
    }
    /* a window rank (Top-N, dedup) runs after what its input plan runs */
    const sl_plan_rank *pr = plan->rank;
    const sl_plan *rp = pr ? pr->input : plan->over ? plan->over->input : plan;
    const sl_plan_model *pm = rp->model;
    const sl_plan_agg *pa = rp->agg;
    const sl_plan *sp = pm ? pm->input : pa ? pa->input : rp;
    const sl_schema *first_out = pm   ? pm->in_schema
                                 : pa ? pa->in_schema
                                      : rp->out_schema;
    sl_job_input inputs[SL_PLAN_MAX_SOURCES];
    sl_stage *stages[SL_PLAN_MAX_SOURCES];
    sl_job_step steps[16];
    memset(inputs, 0, sizeof(inputs));
    memset(stages, 0, sizeof(stages));
    memset(steps, 0, sizeof(steps));
    sl_stage *after = NULL, *after_rank = NULL;
    int n = sp->n_sources;
    int n_steps = 0;
    bool tree = sl_join_in_plan(plan);
    if (tree) /* joins, nested aggregates: join.c builds the job */
        rc = sl_join_build_job(
            jdb, plan, sl_engine_setting(x->db, "table.exec.state.ttl"), inputs,
            stages, &n, steps, (int)SL_ARRAY_LEN(steps), &n_steps, err);
    for (int i = 0; i < n && !rc && !tree; i++) {
        const sl_plan_table *t = &sp->sources[i];
        sl_source *src = NULL;
        rc = t->connector->open_source(&t->info, &src, err);
        if (rc) {
            char msg[SL_ERR_MSG_MAX];
            sl_strlcpy(msg, err->msg, sizeof(msg));
            sl_err_reset(err, rc, "table '%s': %s", t->name, msg);
            break;
        }
        inputs[i].source = src;
        inputs[i].schema = t->info.schema;
        inputs[i].name = t->name;
        char sname[64];
        sl_snprintf(sname, sizeof(sname), "%s", t->name);
        sl_stage_opts so = {0, sname};
        rc = sl_stage_new_ex(jdb, t->info.schema, first_out, sp->stage_sql[i],
                             &so, &stages[i], err);
        if (rc)
            break;
        inputs[i].n_stages = 1;
        inputs[i].stages = &stages[i];
        rc = sl_window_time_stage(jdb, plan->arena, t, &inputs[i].time_stage,
                                  err);
        if (!rc)
            rc = project_source(src, t, stages[i], inputs[i].time_stage, err);
        inputs[i].idle_timeout_ms = t->idle_timeout_ms;
    }
    for (const sl_plan_model *m = pm; !rc && !tree && m; m = m->next) {
        if (n_steps >= (int)SL_ARRAY_LEN(steps) - 1) {
            rc = sl_err_set(err, SL_LIMIT, "too many model calls");
            break;
        }
        sl_model_def def = {
            m->name,         m->provider,        m->model_input,
            m->model_output, m->output_metadata, m->model_options};
        sl_operator *mop = NULL;
        rc = sl_model_op_new(m->in_schema, m->out_schema, m->input_cols, &def,
                             m->call_options, 0, &mop, err);
        if (rc) {
            char msg[SL_ERR_MSG_MAX];
            sl_strlcpy(msg, err->msg, sizeof(msg));
            sl_err_reset(err, rc, "model '%s': %s", m->name, msg);
            break;
        }
        steps[n_steps++] = (sl_job_step){SL_STEP_OPERATOR, NULL, mop, m->name};
        rc = attach_dead_letter(x, m, mop, plan->arena, err);
    }
    if (!rc && !tree && pm) {
        const sl_plan_model *last = pm;
        while (last->next)
            last = last->next;
        sl_stage_opts so = {0, "stage after the model calls"};
        rc = sl_stage_new_ex(jdb, last->out_schema, rp->out_schema,
                             rp->stage_sql[0], &so, &after, err);
        if (!rc)
            steps[n_steps++] = (sl_job_step){SL_STEP_STAGE, after, NULL, NULL};
    }
    if (!rc && !tree && pa) {
        sl_operator *aop = NULL;
        rc = sl_window_op_build(
            pa, sl_engine_setting(x->db, "table.exec.state.ttl"), &aop, err);
        if (!rc)
            steps[n_steps++] = (sl_job_step){
                SL_STEP_OPERATOR, NULL, aop,
                pa->def.updating ? "group aggregate" : "window aggregate"};
        if (!rc) {
            sl_stage_opts so = {0, "stage after aggregate"};
            rc = sl_stage_new_ex(jdb, pa->out_schema, rp->out_schema,
                                 rp->stage_sql[0], &so, &after, err);
        }
        if (!rc)
            steps[n_steps++] = (sl_job_step){SL_STEP_STAGE, after, NULL, NULL};
    }
    if (!rc && (pr || plan->over))
        rc = sl_window_rank_steps(jdb, plan, steps, &n_steps, &after_rank, err);
    if (rc) {
        for (int i = 0; i < n; i++) {
            sl_stage_free(inputs[i].time_stage);
            sl_stage_free(stages[i]);
            if (inputs[i].source)
                inputs[i].source->ops->close(inputs[i].source);
        }
        sl_stage_free(after);
        sl_stage_free(after_rank);
        for (int i = 0; i < n_steps; i++)
            if (steps[i].kind == SL_STEP_OPERATOR)
                steps[i].op->ops->close(steps[i].op);
        if (sink)
            sink->ops->close(sink);
        sl_ckpt_free(ckpt);
        sqlite3_close(jdb);
        return rc;
    }
    sl_job_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.name = name;
    spec.db = jdb;
    spec.n_inputs = n;
    spec.inputs = inputs;
    spec.n_steps = n_steps;
    spec.steps = steps;
    spec.out_schema = plan->out_schema;
    spec.sink = sink;
    spec.ckpt = ckpt;
    spec.watermark_cell = wm_cell;
    if (!sink) {
        spec.row_cb = job_rows;
        spec.row_ctx = em;
    }
    const char *v = sl_engine_setting(x->db, "sluice.batch-rows");
    int64_t br = 0;
    if (v && sl_parse_int64(v, strlen(v), &br) == SL_OK && br > 0 &&
        br <= SL_BATCH_MAX_ROWS)
        spec.batch_rows = (int)br;
    return sl_job_new(&spec, out, err);
}

static bool dml_sync(const sluice *db)
{
    const char *v = sl_engine_setting(db, "table.dml-sync");
    return !v || !sl_str_ieq(v, "false");
}

static int call_progress(sluice *db, sl_job *job)
{
    sl_job_metrics m;
    sl_job_metrics_get(job, &m, NULL, 0);
    int64_t total = -1;
    if (m.input_fraction > 0.001)
        total = (int64_t)((double)m.rows_read / m.input_fraction + 0.5);
    sluice_progress p = {m.rows_read, m.rows_written, total, m.watermark_ms,
                         ""};
    if (m.watermark_ms == SL_NO_EVENT_TIME)
        p.watermark_ms = INT64_MIN;
    return db->progress_cb(db->progress_ctx, &p);
}

/* db->foreground changes under jobs_mu (metrics readers). */
static void set_foreground(sluice *db, sl_job *job, const char *name)
{
    pthread_mutex_lock(&db->jobs_mu);
    db->foreground = job;
    db->foreground_name = name;
    pthread_mutex_unlock(&db->jobs_mu);
}

static int run_foreground(exec_ctx *x, sl_job *job, bool has_rows,
                          const char *name)
{
    sluice *db = x->db;
    set_foreground(db, job, name);
    if (db->interrupted)
        sl_job_stop(job);
    sl_err jerr;
    sl_err_clear(&jerr);
    int rc;
    if (db->progress_cb && !has_rows) {
        /* no row callback: run the job on its own thread and report
         * progress from this one */
        rc = sl_job_start(job, &jerr);
        while (!rc) {
            int w = sl_job_wait(job, db->progress_interval_ms, &jerr);
            if (w != SL_TIMEOUT) {
                rc = w;
                break;
            }
            sl_err_clear(&jerr);
            if (call_progress(db, job))
                sl_job_stop(job);
        }
        call_progress(db, job);
    } else {
        rc = sl_job_run(job, &jerr);
    }
    set_foreground(db, NULL, NULL);
    if (rc == SL_ABORT)
        rc = SL_OK; /* LIMIT reached or the callback stopped: not an error */
    else if (rc)
        sl_err_set(&db->err, rc == SL_NOMEM ? SL_NOMEM : SL_RUNTIME, "%s",
                   jerr.msg[0] ? jerr.msg : sl_job_error(job));
    if (!rc && db->interrupted)
        rc = sl_err_set(&db->err, SL_INTERRUPTED, "interrupted");
    sl_job_free(job);
    return rc;
}

static int exec_query(exec_ctx *x, const sl_query *q)
{
    sl_plan_env env = {&x->db->catalog, x->sql, x->len};
    sl_plan plan;
    int rc = sl_plan_query(&env, q, x->arena, &plan, &x->db->err);
    if (rc)
        return rc;
    row_emitter em;
    if (emitter_init(&em, x, plan.out_schema))
        return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
    em.limit = plan.limit;
    if (plan.is_static) {
        rc = run_static(x, &plan, &em);
    } else if (plan.limit == 0) {
        rc = SL_OK;
    } else {
        sl_job *job = NULL;
        rc = build_job(x, &plan, "SELECT", NULL, &em, NULL, &job);
        if (!rc)
            rc = run_foreground(x, job, true, "SELECT");
    }
    emitter_free(&em);
    if (rc == SL_ABORT)
        rc = sl_err_set(&x->db->err, SL_ABORT, "stopped by the row callback");
    return rc;
}

static char *short_name(sl_arena *arena, const char *text, size_t len)
{
    size_t n = len > 60 ? 60 : len;
    char *s = sl_arena_alloc(arena, n + 4);
    if (!s)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        s[k++] = (text[i] == '\n' || text[i] == '\t') ? ' ' : text[i];
    if (len > n) {
        memcpy(s + k, "...", 3);
        k += 3;
    }
    s[k] = '\0';
    return s;
}

static int start_background(exec_ctx *x, sl_job *job, sl_arena *arena,
                            const char *name)
{
    sl_engine_job *ej = sl_calloc(1, sizeof(*ej));
    if (!ej) {
        sl_job_free(job);
        sl_arena_free(arena);
        return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
    }
    ej->arena = *arena;
    ej->job = job;
    ej->name = sl_strdup(name ? name : "INSERT");
    job_id_new(x->db, ej->id);
    int rc = sl_job_start(job, &x->db->err);
    if (rc) {
        sl_job_free(job);
        sl_arena_free(&ej->arena);
        sl_free(ej->name);
        sl_free(ej);
        return rc;
    }
    pthread_mutex_lock(&x->db->jobs_mu);
    ej->next = x->db->jobs;
    x->db->jobs = ej;
    x->db->n_jobs++;
    pthread_mutex_unlock(&x->db->jobs_mu);
    return emit_one(x, "job id", ej->id);
}

static int exec_insert(exec_ctx *x, const sl_stmt *st)
{
    bool sync = dml_sync(x->db);
    /* a background job outlives the statement: plan in its own arena */
    sl_arena job_arena;
    sl_arena_init(&job_arena, 16384, 0);
    sl_arena *arena = sync ? x->arena : &job_arena;
    sl_plan_env env = {&x->db->catalog, x->sql, x->len};
    sl_plan plan;
    sl_plan_table sink_t;
    int rc = sl_plan_insert(&env, st, arena, &plan, &sink_t, &x->db->err);
    if (rc) {
        sl_arena_free(&job_arena);
        return rc;
    }
    if (plan.is_static) {
        sl_arena_free(&job_arena);
        return sql_err(x, SL_UNSUPPORTED, st->insert.query->pos.offset,
                       "INSERT from VALUES or a SELECT without FROM is not "
                       "supported yet");
    }
    sl_ckpt *ckpt = NULL;
    rc = open_ckpt(x, x->sql + st->offset, st->len, &ckpt);
    if (rc) {
        sl_arena_free(&job_arena);
        return rc;
    }
    if (ckpt && resumes(ckpt) &&
        add_option(arena, sink_t.info.options, "sink.append", "true")) {
        sl_ckpt_free(ckpt);
        sl_arena_free(&job_arena);
        return sl_err_set(&x->db->err, SL_NOMEM, "out of memory");
    }
    sl_sink *sink = NULL;
    rc = sink_t.connector->open_sink(&sink_t.info, &sink, &x->db->err);
    if (rc) {
        char msg[SL_ERR_MSG_MAX];
        sl_strlcpy(msg, x->db->err.msg, sizeof(msg));
        sl_err_reset(&x->db->err, rc, "table '%s': %s", sink_t.name, msg);
        sl_ckpt_free(ckpt);
        sl_arena_free(&job_arena);
        return rc;
    }
    char *name = short_name(arena, x->sql + st->offset, st->len);
    sl_job *job = NULL;
    rc = build_job(x, &plan, name ? name : "INSERT", sink, NULL, ckpt, &job);
    if (rc) {
        sl_arena_free(&job_arena);
        return rc;
    }
    if (sync) {
        rc = run_foreground(x, job, false, name ? name : "INSERT");
        sl_arena_free(&job_arena);
        return rc;
    }
    return start_background(x, job, &job_arena, name);
}

static int exec_statement_set(exec_ctx *x, const sl_stmt *st)
{
    for (int i = 0; i < st->statement_set.n_stmts; i++) {
        int rc = exec_insert(x, st->statement_set.stmts[i]);
        if (rc)
            return rc;
    }
    return SL_OK;
}

static int exec_stop_job(exec_ctx *x, const sl_stmt *st)
{
    for (sl_engine_job **p = &x->db->jobs; *p; p = &(*p)->next) {
        sl_engine_job *j = *p;
        if (strcmp(j->id, st->stop_job.job_id))
            continue;
        sl_ckpt *ckpt = sl_job_ckpt(j->job);
        if (st->stop_job.with_savepoint && !ckpt)
            return sql_err(x, SL_SQL, st->offset,
                           "STOP JOB ... WITH SAVEPOINT needs a job started "
                           "with checkpoints: SET 'state.dir' = '/path' "
                           "before the INSERT");
        sl_job_stop(j->job);
        sl_err jerr;
        sl_err_clear(&jerr);
        int rc = sl_job_wait(j->job, -1, &jerr);
        if (!st->stop_job.with_savepoint)
            return SL_OK;
        if (rc)
            return sl_err_set(&x->db->err, rc,
                              "job '%s' failed before its savepoint: %s", j->id,
                              jerr.msg);
        const char *dir = sl_engine_setting(x->db, "state.savepoints.dir");
        char def[4096];
        if (!dir || !*dir) {
            sl_strlcpy(def, sl_ckpt_db_path(ckpt), sizeof(def));
            for (int k = 0; k < 2; k++) { /* <state.dir>/<job>/state.db */
                char *slash = strrchr(def, '/');
                if (slash)
                    *slash = 0;
            }
            size_t dl = strlen(def);
            sl_strlcpy(def + dl, "/savepoints", sizeof(def) - dl);
            dir = def;
        }
        char *path = NULL;
        rc = sl_ckpt_savepoint(ckpt, dir, &path, &x->db->err);
        if (rc)
            return rc;
        rc = emit_one(x, "savepoint path", path);
        sl_free(path);
        return rc;
    }
    return sql_err(x, SL_NOTFOUND, st->offset, "job '%s' not found",
                   st->stop_job.job_id);
}

void sl_engine_stop_jobs(sluice *db)
{
    for (sl_engine_job *j = db->jobs; j; j = j->next)
        sl_job_stop(j->job);
    pthread_mutex_lock(&db->jobs_mu);
    sl_engine_job *j = db->jobs;
    db->jobs = NULL;
    db->n_jobs = 0;
    pthread_mutex_unlock(&db->jobs_mu);
    while (j) {
        sl_engine_job *next = j->next;
        sl_job_free(j->job);
        sl_arena_free(&j->arena);
        sl_free(j->name);
        sl_free(j);
        j = next;
    }
}

/* ---- EXPLAIN ---------------------------------------------------------------
 */

static void explain_table(sl_buf *b, const char *what, const sl_plan_table *t)
{
    sl_buf_printf(b, "%s: %s [connector=%s] (", what, t->name,
                  t->connector_name);
    const sl_schema *s = t->info.schema;
    for (int i = 0; i < s->n_cols; i++) {
        sl_buf_printf(b, "%s%s ", i ? ", " : "", s->cols[i].name);
        sl_type_format(s->cols[i].type, b);
        if (t->info.metadata_keys && t->info.metadata_keys[i])
            sl_buf_printf(b, " METADATA FROM '%s'", t->info.metadata_keys[i]);
    }
    sl_buf_puts(b, ")\n");
}

static int exec_explain(exec_ctx *x, const sl_stmt *st)
{
    const sl_stmt *inner = st->explain.stmt;
    sl_plan_env env = {&x->db->catalog, x->sql, x->len};
    sl_plan plan;
    sl_plan_table sink;
    bool has_sink = false;
    int rc;
    if (inner->kind == SL_STMT_INSERT) {
        rc = sl_plan_insert(&env, inner, x->arena, &plan, &sink, &x->db->err);
        has_sink = true;
    } else if (inner->kind == SL_STMT_QUERY) {
        rc = sl_plan_query(&env, inner->query.query, x->arena, &plan,
                           &x->db->err);
    } else {
        return sql_err(x, SL_UNSUPPORTED, inner->offset,
                       "EXPLAIN takes a query or an INSERT");
    }
    if (rc)
        return rc;
    sl_buf b;
    sl_buf_init(&b, 16u << 20);
    sl_buf_puts(&b, "== Physical Plan ==\n");
    if (plan.is_static) {
        sl_buf_printf(&b, "StaticQuery: runs once on SQLite\n  SQL: %s\n",
                      plan.static_sql);
    }
    const sl_plan *rp = plan.rank   ? plan.rank->input
                        : plan.over ? plan.over->input
                                    : &plan;
    const sl_plan *sp = rp->model ? rp->model->input
                        : rp->agg ? rp->agg->input
                                  : rp;
    bool tree = sl_join_in_plan(&plan);
    if (tree) /* joins: the plan tree (join.c) */
        sl_join_explain(&plan, &b);
    for (int i = 0; i < sp->n_sources && !tree; i++) {
        char what[32];
        sl_snprintf(what, sizeof(what), "Source %d", i + 1);
        explain_table(&b, what, &sp->sources[i]);
        sl_window_explain_source(&sp->sources[i], &b);
        bool chg = sl_plan_table_is_changelog(&sp->sources[i]);
        sl_buf_printf(&b,
                      "  Stage %d [stateless, fused; state: none; "
                      "changelog: %s]\n    SQL: ",
                      i + 1, chg ? "updating (+U/-D)" : "append-only");
        const char *s = sp->stage_sql[i];
        for (const char *p = s; *p; p++) {
            if (!strncmp(p, "{input}", 7)) {
                sl_buf_printf(&b, "in_%d", i + 1);
                p += 6;
            } else {
                sl_buf_putc(&b, *p);
            }
        }
        sl_buf_putc(&b, '\n');
    }
    if (sp->n_sources > 1 && !tree)
        sl_buf_printf(&b, "Union: %d inputs merged (UNION ALL)\n",
                      sp->n_sources);
    for (const sl_plan_model *pm = rp->model; pm; pm = pm->next) {
        sl_buf_printf(&b, "AsyncModel: %s [provider=%s] (inputs:", pm->name,
                      pm->provider ? pm->provider : "?");
        for (int i = 0; i < pm->model_input->n_cols; i++)
            sl_buf_printf(&b, "%s %s", i ? "," : "",
                          pm->in_schema->cols[pm->input_cols[i]].name);
        sl_buf_puts(&b, "; outputs:");
        for (int i = 0; i < pm->model_output->n_cols; i++) {
            sl_buf_printf(&b, "%s %s ", i ? "," : "",
                          pm->model_output->cols[i].name);
            sl_type_format(pm->model_output->cols[i].type, &b);
        }
        sl_buf_puts(&b, ")\n  options:");
        for (int i = 0; i < pm->call_options->n; i++)
            sl_buf_printf(&b, " '%s'='%s'", pm->call_options->items[i].key,
                          pm->call_options->items[i].value);
        if (!pm->call_options->n)
            sl_buf_puts(&b, " (model defaults)");
        sl_buf_puts(&b, "\n  state: rows in flight (bounded queue); "
                        "changelog: append-only\n");
    }
    if (rp->model) {
        sl_buf_puts(&b, "  Stage after the model calls [stateless, fused]\n"
                        "    SQL: ");
        for (const char *p = rp->stage_sql[0]; *p; p++) {
            if (!strncmp(p, "{input}", 7)) {
                sl_buf_puts(&b, "model_out");
                p += 6;
            } else {
                sl_buf_putc(&b, *p);
            }
        }
        sl_buf_putc(&b, '\n');
    }
    if (rp->agg && !tree)
        sl_window_explain(rp->agg, rp->stage_sql[0], &b);
    if (plan.rank)
        sl_window_explain_rank(plan.rank, plan.stage_sql[0], &b);
    if (plan.over)
        sl_window_explain_over(plan.over, plan.stage_sql[0], &b);
    if (plan.limit >= 0)
        sl_buf_printf(&b, "Limit: %lld rows\n", (long long)plan.limit);
    if (has_sink) {
        explain_table(&b, "Sink", &sink);
        sl_buf_printf(&b, "  changelog: %s\n",
                      plan.agg && plan.agg->def.updating ? "updating (+I/-U/+U)"
                      : sl_plan_is_updating(&plan)       ? "updating (+U/-D)"
                                                         : "append-only");
    } else {
        sl_buf_puts(&b, "Collect: rows to the client (");
        for (int i = 0; i < plan.out_schema->n_cols; i++) {
            sl_buf_printf(&b, "%s%s ", i ? ", " : "",
                          plan.out_schema->cols[i].name);
            sl_type_format(plan.out_schema->cols[i].type, &b);
        }
        sl_buf_puts(&b, ")\n");
    }
    if (b.len && b.data[b.len - 1] == '\n')
        b.data[--b.len] = '\0';
    rc = b.rc ? sl_err_set(&x->db->err, b.rc, "plan too large")
              : emit_one(x, "plan", sl_buf_cstr(&b));
    sl_buf_free(&b);
    return rc;
}

/* ---- dispatch
 * ----------------------------------------------------------------
 */

static int exec_stmt(exec_ctx *x, const sl_stmt *st)
{
    switch (st->kind) {
    case SL_STMT_CREATE_TABLE:
        return exec_create_table(x, st);
    case SL_STMT_CREATE_VIEW:
        return exec_create_view(x, st);
    case SL_STMT_CREATE_MODEL:
        return exec_create_model(x, st);
    case SL_STMT_ALTER_MODEL:
        return exec_alter_model(x, st);
    case SL_STMT_DROP:
        return exec_drop(x, st);
    case SL_STMT_INSERT:
        return exec_insert(x, st);
    case SL_STMT_STATEMENT_SET:
        return exec_statement_set(x, st);
    case SL_STMT_QUERY:
        return exec_query(x, st->query.query);
    case SL_STMT_SET:
        return exec_set(x, st);
    case SL_STMT_RESET:
        return exec_reset(x, st);
    case SL_STMT_SHOW:
        return exec_show(x, st);
    case SL_STMT_SHOW_CREATE:
        return exec_show_create(x, st);
    case SL_STMT_DESCRIBE:
        return exec_describe(x, st);
    case SL_STMT_EXPLAIN:
        return exec_explain(x, st);
    case SL_STMT_STOP_JOB:
        return exec_stop_job(x, st);
    }
    return sl_err_set(&x->db->err, SL_ERROR, "internal: statement kind %d",
                      (int)st->kind);
}

int sl_engine_exec_stmt(sluice *db, const char *sql, size_t len,
                        const sl_stmt *stmt, sluice_row_cb cb, void *ctx)
{
    sl_arena st_arena;
    sl_arena_init(&st_arena, 1 << 16, 0);
    exec_ctx x = {db, sql, len, cb, ctx, &st_arena};
    int rc = exec_stmt(&x, stmt);
    sl_arena_free(&st_arena);
    if (!rc && db->interrupted)
        rc = sl_err_set(&db->err, SL_INTERRUPTED, "interrupted");
    if (rc && db->err.code == SL_OK)
        sl_err_set(&db->err, rc, "%s", sluice_errstr(rc));
    return rc;
}

static int fixed_cols(sl_arena *arena, int n, const char *const *src,
                      int *n_cols, const char ***names, const char ***types)
{
    *names = sl_arena_alloc(arena, sizeof(char *) * (size_t)(n + 1));
    *types = sl_arena_alloc(arena, sizeof(char *) * (size_t)(n + 1));
    if (!*names || !*types)
        return SL_NOMEM;
    for (int i = 0; i < n; i++) {
        (*names)[i] = src[i];
        (*types)[i] = "STRING";
    }
    *n_cols = n;
    return SL_OK;
}

int sl_engine_describe_stmt(sluice *db, const char *sql, size_t len,
                            const sl_stmt *stmt, sl_arena *arena, int *n_cols,
                            const char ***names, const char ***types, int *kind)
{
    *n_cols = 0;
    *names = NULL;
    *types = NULL;
    *kind = SLUICE_RESULT_NONE;
    static const char *const show_jobs[] = {
        "job id",   "job name", "status",    "start time", "rows in",
        "rows out", "error",    "watermark", "late rows"};
    static const char *const describe[] = {"name", "type",   "null",
                                           "key",  "extras", "watermark"};
    static const char *const describe_model[] = {"name", "type", "null", "io"};
    static const char *const kv[] = {"key", "value"};
    const char *one[1];
    switch (stmt->kind) {
    case SL_STMT_QUERY: {
        sl_plan_env env = {&db->catalog, sql, len};
        sl_plan plan;
        int rc = sl_plan_query(&env, stmt->query.query, arena, &plan, &db->err);
        if (rc)
            return rc;
        int n = plan.out_schema->n_cols;
        *names = sl_arena_alloc(arena, sizeof(char *) * (size_t)(n + 1));
        *types = sl_arena_alloc(arena, sizeof(char *) * (size_t)(n + 1));
        if (!*names || !*types)
            return sl_err_set(&db->err, SL_NOMEM, "out of memory");
        for (int i = 0; i < n; i++) {
            (*names)[i] = plan.out_schema->cols[i].name;
            sl_buf b;
            sl_buf_init(&b, 4096);
            sl_type_format(plan.out_schema->cols[i].type, &b);
            (*types)[i] = sl_arena_strndup(arena, sl_buf_cstr(&b), b.len);
            sl_buf_free(&b);
        }
        *n_cols = n;
        *kind = plan.is_static ? SLUICE_RESULT_BOUNDED : SLUICE_RESULT_APPEND;
        return SL_OK;
    }
    case SL_STMT_SHOW:
        *kind = SLUICE_RESULT_BOUNDED;
        if (stmt->show.what == SL_SHOW_JOBS)
            return fixed_cols(arena, 9, show_jobs, n_cols, names, types);
        if (stmt->show.what == SL_SHOW_METRICS)
            return fixed_cols(arena, 4, show_metrics_cols, n_cols, names,
                              types);
        one[0] = stmt->show.what == SL_SHOW_TABLES   ? "table name"
                 : stmt->show.what == SL_SHOW_VIEWS  ? "view name"
                 : stmt->show.what == SL_SHOW_MODELS ? "model name"
                                                     : "function name";
        return fixed_cols(arena, 1, one, n_cols, names, types);
    case SL_STMT_SHOW_CREATE:
        *kind = SLUICE_RESULT_BOUNDED;
        one[0] = "result";
        return fixed_cols(arena, 1, one, n_cols, names, types);
    case SL_STMT_EXPLAIN:
        *kind = SLUICE_RESULT_BOUNDED;
        one[0] = "plan";
        return fixed_cols(arena, 1, one, n_cols, names, types);
    case SL_STMT_DESCRIBE:
        *kind = SLUICE_RESULT_BOUNDED;
        if (stmt->describe.object == SL_OBJ_MODEL)
            return fixed_cols(arena, 4, describe_model, n_cols, names, types);
        return fixed_cols(arena, 6, describe, n_cols, names, types);
    case SL_STMT_SET:
        if (stmt->set.options.n == 0) {
            *kind = SLUICE_RESULT_BOUNDED;
            return fixed_cols(arena, 2, kv, n_cols, names, types);
        }
        return SL_OK;
    case SL_STMT_STOP_JOB:
        if (stmt->stop_job.with_savepoint) {
            *kind = SLUICE_RESULT_BOUNDED;
            one[0] = "savepoint path";
            return fixed_cols(arena, 1, one, n_cols, names, types);
        }
        return SL_OK;
    case SL_STMT_INSERT:
    case SL_STMT_STATEMENT_SET:
        if (!dml_sync(db)) {
            *kind = SLUICE_RESULT_BOUNDED;
            one[0] = "job id";
            return fixed_cols(arena, 1, one, n_cols, names, types);
        }
        return SL_OK;
    default:
        return SL_OK;
    }
}

int sl_engine_exec(sluice *db, const char *sql, sluice_row_cb cb, void *ctx)
{
    size_t len = strlen(sql);
    sl_arena arena;
    sl_arena_init(&arena, 1 << 16, 0);
    sl_stmt_list list;
    int rc = sl_parse(sql, len, &arena, &list, &db->err);
    for (int i = 0; !rc && i < list.n; i++) {
        sl_arena st_arena;
        sl_arena_init(&st_arena, 1 << 16, 0);
        exec_ctx x = {db, sql, len, cb, ctx, &st_arena};
        rc = exec_stmt(&x, list.items[i]);
        sl_arena_free(&st_arena);
        if (!rc && db->interrupted)
            rc = sl_err_set(&db->err, SL_INTERRUPTED, "interrupted");
    }
    sl_arena_free(&arena);
    if (rc && db->err.code == SL_OK)
        sl_err_set(&db->err, rc, "%s", sluice_errstr(rc));
    return rc;
}
