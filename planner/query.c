/*
 * query.c: queries, FROM clauses and tables into SQLite SQL (see plan.h).
 *
 * Every query renders as a SELECT whose columns are named c0..cn-1 and, in
 * streaming plans, a last column _row carrying the input row index. FROM
 * items render as parenthesised subqueries with generated aliases t0, t1
 * ...; views and CTEs are expanded in place; a table becomes a source
 * occurrence, read from `{input}` when it is the occurrence being rendered
 * and an empty relation otherwise. Expressions are expr.c's.
 */
#include <stdlib.h>
#include <string.h>

#include "gen_int.h"

const char *sl_gen_printf(sl_gen *g, const char *fmt, ...)
{
    sl_buf b;
    sl_buf_init(&b, 1 << 20);
    va_list ap;
    va_start(ap, fmt);
    sl_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    const char *s = b.rc ? NULL : sl_arena_strndup(g->arena, b.data, b.len);
    sl_buf_free(&b);
    return s;
}

char *sl_gen_ident_text(sl_gen *g, const sl_ident *id)
{
    return sl_arena_strndup(g->arena, id->text, id->len);
}

/* ---- tables --------------------------------------------------------------
 */

static bool is_computed(const sl_column_def *c)
{
    return c->kind == SL_COL_COMPUTED;
}

/* Resolve ${VAR} and ${VAR:-default} in an option value. */
static char *interpolate(sl_arena *arena, const char *v, size_t len)
{
    sl_buf b;
    sl_buf_init(&b, 1 << 20);
    size_t i = 0;
    while (i < len) {
        if (v[i] == '$' && i + 1 < len && v[i + 1] == '{') {
            const char *end = memchr(v + i + 2, '}', len - i - 2);
            if (end) {
                size_t nlen = (size_t)(end - (v + i + 2));
                char name[256];
                const char *dflt = NULL;
                size_t dlen = 0;
                const char *sep = NULL;
                for (size_t k = 0; k + 1 < nlen; k++)
                    if (v[i + 2 + k] == ':' && v[i + 3 + k] == '-') {
                        sep = v + i + 2 + k;
                        break;
                    }
                size_t keylen = sep ? (size_t)(sep - (v + i + 2)) : nlen;
                if (sep) {
                    dflt = sep + 2;
                    dlen = (size_t)(end - dflt);
                }
                if (keylen < sizeof(name)) {
                    memcpy(name, v + i + 2, keylen);
                    name[keylen] = '\0';
                    const char *val = getenv(name);
                    if (val && *val)
                        sl_buf_puts(&b, val);
                    else if (dflt)
                        sl_buf_append(&b, dflt, dlen);
                    i = (size_t)(end - v) + 1;
                    continue;
                }
            }
        }
        sl_buf_putc(&b, v[i]);
        i++;
    }
    char *s = b.rc ? NULL : sl_arena_strndup(arena, sl_buf_cstr(&b), b.len);
    sl_buf_free(&b);
    return s;
}

int sl_plan_table_info(const sl_plan_env *env, sl_cat_entry *entry,
                       bool for_sink, sl_arena *arena, sl_plan_table *out,
                       sl_err *err)
{
    SL_UNUSED(env);
    memset(out, 0, sizeof(*out));
    const sl_stmt *ct = entry->stmt;
    out->entry = entry;
    out->name = entry->name;
    int n = 0;
    for (int i = 0; i < ct->create_table.n_columns; i++) {
        const sl_column_def *c = &ct->create_table.columns[i];
        if (is_computed(c))
            continue;
        if (for_sink && c->kind == SL_COL_METADATA && c->is_virtual)
            continue;
        n++;
    }
    const char **names = sl_arena_alloc(arena, sizeof(char *) * (n + 1));
    const sl_type **types = sl_arena_alloc(arena, sizeof(void *) * (n + 1));
    const char **keys = sl_arena_alloc(arena, sizeof(char *) * (n + 1));
    bool *virt = sl_arena_alloc(arena, sizeof(bool) * (n + 1));
    if (!names || !types || !keys || !virt)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    int k = 0;
    for (int i = 0; i < ct->create_table.n_columns; i++) {
        const sl_column_def *c = &ct->create_table.columns[i];
        if (is_computed(c))
            continue;
        if (for_sink && c->kind == SL_COL_METADATA && c->is_virtual)
            continue;
        names[k] = sl_arena_strndup(arena, c->name.text, c->name.len);
        types[k] = c->type;
        keys[k] = NULL;
        virt[k] = false;
        if (c->kind == SL_COL_METADATA) {
            keys[k] = c->metadata_key ? c->metadata_key : names[k];
            virt[k] = c->is_virtual;
        }
        k++;
    }
    sl_schema *schema = sl_schema_new(arena, n, names, types);
    if (!schema)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    /* options, with 'connector' consumed here */
    const sl_opt_list *ol = &ct->create_table.options;
    sl_options *opts = sl_arena_alloc(arena, sizeof(*opts));
    sl_option *items =
        sl_arena_alloc(arena, sizeof(sl_option) * (size_t)(ol->n + 1));
    if (!opts || !items)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    const char *connector = NULL;
    for (int i = 0; i < ol->n; i++) {
        items[i].key =
            sl_arena_strndup(arena, ol->items[i].key, ol->items[i].key_len);
        items[i].value =
            interpolate(arena, ol->items[i].value, ol->items[i].value_len);
        items[i].used = false;
        if (!items[i].key || !items[i].value)
            return sl_err_set(err, SL_NOMEM, "out of memory");
        if (!strcmp(items[i].key, "connector")) {
            items[i].used = true;
            connector = items[i].value;
        }
    }
    opts->n = ol->n;
    opts->items = items;
    if (!connector)
        return sl_err_set(err, SL_SQL,
                          "table '%s' has no 'connector' option in its WITH "
                          "clause",
                          entry->name);
    out->connector_name = connector;
    out->connector = sl_connector_find(connector);
    if (!out->connector) {
        const sl_connector *const *all = sl_connector_all();
        const char *best = NULL;
        int best_d = 3;
        for (int i = 0; all[i]; i++) {
            int d = sl_edit_distance(connector, all[i]->name, 2);
            if (d < best_d) {
                best_d = d;
                best = all[i]->name;
            }
        }
        if (best)
            return sl_err_set(err, SL_SQL,
                              "table '%s': unknown connector '%s' (did you "
                              "mean '%s'?)",
                              entry->name, connector, best);
        return sl_err_set(err, SL_SQL, "table '%s': unknown connector '%s'",
                          entry->name, connector);
    }
    /* primary key */
    const sl_primary_key *pk = &ct->create_table.primary_key;
    int *pk_cols = NULL;
    if (pk->n_columns) {
        pk_cols = sl_arena_alloc(arena, sizeof(int) * (size_t)pk->n_columns);
        if (!pk_cols)
            return sl_err_set(err, SL_NOMEM, "out of memory");
        for (int i = 0; i < pk->n_columns; i++) {
            char *nm = sl_arena_strndup(arena, pk->columns[i].text,
                                        pk->columns[i].len);
            pk_cols[i] = nm ? sl_schema_find(schema, nm) : -1;
        }
    }
    out->info.name = entry->name;
    out->info.schema = schema;
    out->info.metadata_keys = keys;
    out->info.metadata_virtual = virt;
    out->info.n_primary_key = pk->n_columns;
    out->info.primary_key = pk_cols;
    out->info.options = opts;
    out->info.batch_rows = SL_BATCH_DEFAULT_ROWS;
    return SL_OK;
}

int sl_plan_table_columns(const sl_cat_entry *entry, sl_arena *arena,
                          sl_schema **out, sl_err *err)
{
    const sl_stmt *ct = entry->stmt;
    int n = ct->create_table.n_columns;
    const char **names = sl_arena_alloc(arena, sizeof(char *) * (n + 1));
    const sl_type **types = sl_arena_alloc(arena, sizeof(void *) * (n + 1));
    if (!names || !types)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        const sl_column_def *c = &ct->create_table.columns[i];
        names[i] = sl_arena_strndup(arena, c->name.text, c->name.len);
        types[i] = c->type ? c->type : sl_type_simple(SL_TYPE_NULL);
    }
    *out = sl_schema_new(arena, n, names, types);
    return *out ? SL_OK : sl_err_set(err, SL_NOMEM, "out of memory");
}

/* Render a table occurrence. Fills the scope with its columns. */
static int gen_table(sl_gen *g, sl_cat_entry *entry, const char *alias,
                     sl_pos pos, sl_buf *out, sl_scope *sc)
{
    if (!g->with_row) {
        g->met_table = true;
        return sl_gen_error(g, SL_UNSUPPORTED, pos,
                            "VALUES or a SELECT without FROM cannot be "
                            "combined with a streaming table yet");
    }
    int idx = g->occurrence++;
    if (idx >= SL_PLAN_MAX_SOURCES)
        return sl_gen_error(g, SL_LIMIT, pos,
                            "a query may read at most %d tables",
                            SL_PLAN_MAX_SOURCES);
    if (g->plan->model || g->plan->agg || g->plan->rank || g->plan->over ||
        (idx > 0 && g->collect && g->plan->n_sources &&
         !g->plan->sources[0].connector))
        return sl_gen_error(g, SL_UNSUPPORTED, pos,
                            "ML_PREDICT must be the only table a query "
                            "reads (combine results with a view instead)");
    if (g->collect) {
        int rc = sl_plan_table_info(g->env, entry, false, g->arena,
                                    &g->plan->sources[idx], g->err);
        if (rc) {
            /* add the position to the message */
            char msg[SL_ERR_MSG_MAX];
            sl_strlcpy(msg, g->err->msg, sizeof(msg));
            sl_err_clear(g->err);
            return sl_gen_error(g, rc, pos, "%s", msg);
        }
        if (!g->plan->sources[idx].connector->open_source)
            return sl_gen_error(g, SL_SQL, pos,
                                "connector '%s' of table '%s' cannot be read "
                                "(it is a sink only)",
                                g->plan->sources[idx].connector_name,
                                entry->name);
        g->plan->n_sources = idx + 1;
        int trc = sl_window_time_sql(g, entry, &g->plan->sources[idx]);
        if (trc)
            return trc;
    }
    const sl_stmt *ct = entry->stmt;
    int n = ct->create_table.n_columns;
    const char *talias = sl_gen_printf(g, "t%d", g->alias_seq++);
    sl_rel_col *cols = sl_arena_alloc(g->arena, sizeof(*cols) * (n + 1));
    if (!talias || !cols)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");

    /* Scope of the source's own columns, for computed columns. */
    sl_scope raw = {0, NULL, NULL};
    raw.cols = sl_arena_alloc(g->arena, sizeof(sl_rel_col) * (n + 1));
    if (!raw.cols)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        const sl_column_def *c = &ct->create_table.columns[i];
        if (is_computed(c))
            continue;
        sl_buf r;
        sl_buf_init(&r, 4096);
        sl_gen_ident(&r, sl_gen_ident_text(g, &c->name));
        raw.cols[raw.n++] =
            (sl_rel_col){sl_gen_ident_text(g, &c->name), NULL, c->type,
                         sl_arena_strndup(g->arena, sl_buf_cstr(&r), r.len)};
        sl_buf_free(&r);
    }

    bool live = idx == g->current;
    sl_buf_puts(out, "(SELECT ");
    const char *saved_text = g->text;
    size_t saved_len = g->text_len;
    for (int i = 0; i < n; i++) {
        const sl_column_def *c = &ct->create_table.columns[i];
        const sl_type *type = c->type;
        if (i)
            sl_buf_puts(out, ", ");
        if (!live) {
            sl_buf_puts(out, "NULL");
            if (is_computed(c)) {
                /* still need its type */
                sl_buf tmp;
                sl_buf_init(&tmp, 1 << 20);
                g->text = entry->sql;
                g->text_len = strlen(entry->sql);
                int rc = sl_gen_expr(g, &raw, c->expr, &tmp, &type);
                g->text = saved_text;
                g->text_len = saved_len;
                sl_buf_free(&tmp);
                if (rc)
                    return rc;
            }
        } else if (is_computed(c)) {
            g->text = entry->sql;
            g->text_len = strlen(entry->sql);
            sl_buf_putc(out, '(');
            int rc = sl_gen_expr(g, &raw, c->expr, out, &type);
            sl_buf_putc(out, ')');
            g->text = saved_text;
            g->text_len = saved_len;
            if (rc)
                return rc;
        } else {
            sl_gen_ident(out, sl_gen_ident_text(g, &c->name));
        }
        sl_buf_printf(out, " AS c%d", i);
        cols[i] = (sl_rel_col){sl_gen_ident_text(g, &c->name), alias, type,
                               sl_gen_printf(g, "%s.c%d", talias, i)};
    }
    if (g->with_row)
        sl_buf_printf(out, "%s%s AS _row", n ? ", " : "",
                      live ? "_row" : "NULL");
    if (live)
        sl_buf_puts(out, " FROM {input}) AS ");
    else
        sl_buf_puts(out, " WHERE 0) AS ");
    sl_buf_puts(out, talias);
    sc->n = n;
    sc->cols = cols;
    sc->row_ref = g->with_row ? sl_gen_printf(g, "%s._row", talias) : NULL;
    return out->rc;
}

/* ---- ML_PREDICT ------------------------------------------------------------
 */

typedef struct mlp_args {
    const sl_expr *table, *model, *descriptor, *config;
} mlp_args;

static int mlp_collect_args(sl_gen *g, const sl_expr *call, mlp_args *a)
{
    memset(a, 0, sizeof(*a));
    static const char *const names[] = {"INPUT", "MODEL", "ARGS", "CONFIG"};
    const sl_expr **slots[] = {&a->table, &a->model, &a->descriptor,
                               &a->config};
    for (int i = 0; i < call->func.n_args; i++) {
        const sl_expr *e = call->func.args[i];
        int k = i;
        if (e->kind == SL_EXPR_NAMED_ARG) {
            k = -1;
            for (int j = 0; j < 4; j++)
                if (sl_str_nieq(e->named_arg.name.text, e->named_arg.name.len,
                                names[j]))
                    k = j;
            if (k < 0)
                return sl_gen_error(g, SL_SQL, e->pos,
                                    "ML_PREDICT has no argument named "
                                    "'%.*s' (INPUT, MODEL, ARGS, CONFIG)",
                                    (int)e->named_arg.name.len,
                                    e->named_arg.name.text);
            e = e->named_arg.value;
        }
        if (k > 3)
            return sl_gen_error(g, SL_SQL, e->pos,
                                "ML_PREDICT takes at most 4 arguments");
        if (*slots[k])
            return sl_gen_error(g, SL_SQL, e->pos,
                                "ML_PREDICT argument %s given twice", names[k]);
        *slots[k] = e;
    }
    if (!a->table || a->table->kind != SL_EXPR_TABLE_ARG)
        return sl_gen_error(g, SL_SQL, a->table ? a->table->pos : call->pos,
                            "ML_PREDICT expects TABLE <name> as its first "
                            "argument");
    if (!a->model || a->model->kind != SL_EXPR_MODEL_ARG)
        return sl_gen_error(g, SL_SQL, a->model ? a->model->pos : call->pos,
                            "ML_PREDICT expects MODEL <name> as its second "
                            "argument");
    if (!a->descriptor || a->descriptor->kind != SL_EXPR_DESCRIPTOR)
        return sl_gen_error(g, SL_SQL,
                            a->descriptor ? a->descriptor->pos : call->pos,
                            "ML_PREDICT expects DESCRIPTOR(<columns>) as its "
                            "third argument");
    if (a->config && a->config->kind != SL_EXPR_MAP)
        return sl_gen_error(g, SL_SQL, a->config->pos,
                            "ML_PREDICT's fourth argument must be a "
                            "MAP['key', 'value', ...] of options");
    return SL_OK;
}

static sl_options *opts_from_pairs(sl_arena *arena, const sl_opt_list *ol)
{
    sl_options *o = sl_arena_alloc(arena, sizeof(*o));
    sl_option *items =
        sl_arena_alloc(arena, sizeof(sl_option) * (size_t)(ol->n + 1));
    if (!o || !items)
        return NULL;
    for (int i = 0; i < ol->n; i++) {
        items[i].key =
            sl_arena_strndup(arena, ol->items[i].key, ol->items[i].key_len);
        items[i].value =
            sl_arena_strndup(arena, ol->items[i].value, ol->items[i].value_len);
        items[i].used = false;
        if (!items[i].key || !items[i].value)
            return NULL;
    }
    o->n = ol->n;
    o->items = items;
    return o;
}

static sl_schema *schema_of_cols(sl_gen *g, int n, const sl_column_def *cols)
{
    const char **names = sl_arena_alloc(g->arena, sizeof(char *) * (n + 1));
    const sl_type **types = sl_arena_alloc(g->arena, sizeof(void *) * (n + 1));
    if (!names || !types)
        return NULL;
    for (int i = 0; i < n; i++) {
        names[i] = sl_gen_ident_text(g, &cols[i].name);
        types[i] = cols[i].type;
    }
    return sl_schema_new(g->arena, n, names, types);
}

/* Build the model part of the plan (first pass only). */
static int mlp_plan(sl_gen *g, const sl_expr *call, const mlp_args *a)
{
    char *mname = sl_name_join(&a->model->model_arg.name, g->arena);
    if (!mname)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    sl_cat_entry *me = sl_catalog_find(g->env->catalog, mname, SL_OBJ_MODEL);
    if (!me) {
        const char *hint =
            sl_catalog_suggest(g->env->catalog, mname, SL_OBJ_MODEL);
        if (hint)
            return sl_gen_error(g, SL_SQL, a->model->pos,
                                "model '%s' not found (did you mean '%s'?)",
                                mname, hint);
        return sl_gen_error(g, SL_SQL, a->model->pos, "model '%s' not found",
                            mname);
    }
    sl_plan_model *pm = sl_arena_alloc(g->arena, sizeof(*pm));
    sl_plan *sub = sl_arena_alloc(g->arena, sizeof(*sub));
    if (!pm || !sub)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    memset(pm, 0, sizeof(*pm));
    pm->entry = me;
    pm->name = me->name;
    pm->input = sub;
    /* the TABLE argument as a query: SELECT * FROM <name> */
    sl_expr *star = sl_arena_alloc(g->arena, sizeof(*star));
    sl_from *from = sl_arena_alloc(g->arena, sizeof(*from));
    sl_select_item *item = sl_arena_alloc(g->arena, sizeof(*item));
    sl_query *q = sl_arena_alloc(g->arena, sizeof(*q));
    if (!star || !from || !item || !q)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    memset(star, 0, sizeof(*star));
    memset(from, 0, sizeof(*from));
    memset(q, 0, sizeof(*q));
    star->kind = SL_EXPR_STAR;
    star->pos = a->table->pos;
    item->expr = star;
    item->alias = NULL;
    from->kind = SL_FROM_TABLE;
    from->pos = a->table->table_arg.name.pos;
    from->table.name = a->table->table_arg.name;
    q->kind = SL_QUERY_SELECT;
    q->pos = a->table->pos;
    q->select.n_items = 1;
    q->select.items = item;
    q->select.from = from;
    sl_plan_env env = {g->env->catalog, g->text, g->text_len};
    int rc = sl_plan_query(&env, q, g->arena, sub, g->err);
    if (rc)
        return rc;
    if (sub->is_static || sub->model)
        return sl_gen_error(g, SL_UNSUPPORTED, a->table->pos,
                            "ML_PREDICT's TABLE argument must be a table or "
                            "a view over tables (nested ML_PREDICT is not "
                            "supported yet)");
    pm->in_schema = sub->out_schema;
    const sl_stmt *ms = me->stmt;
    pm->model_input =
        schema_of_cols(g, ms->create_model.n_inputs, ms->create_model.inputs);
    pm->model_output =
        schema_of_cols(g, ms->create_model.n_outputs, ms->create_model.outputs);
    if (!pm->model_input || !pm->model_output)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    int n_desc = a->descriptor->descriptor.n_columns;
    if (n_desc != pm->model_input->n_cols)
        return sl_gen_error(g, SL_SQL, a->descriptor->pos,
                            "model '%s' takes %d input column%s, "
                            "DESCRIPTOR names %d",
                            mname, pm->model_input->n_cols,
                            pm->model_input->n_cols == 1 ? "" : "s", n_desc);
    pm->input_cols = sl_arena_alloc(g->arena, sizeof(int) * (n_desc + 1));
    if (!pm->input_cols)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    for (int i = 0; i < n_desc; i++) {
        const sl_ident *id = &a->descriptor->descriptor.columns[i];
        char *cn = sl_gen_ident_text(g, id);
        int k = -1;
        for (int c = 0; c < pm->in_schema->n_cols; c++)
            if (!strcmp(pm->in_schema->cols[c].name, cn))
                k = c;
        if (k < 0)
            return sl_gen_error(g, SL_SQL, id->pos,
                                "DESCRIPTOR column '%s' not found in the "
                                "input table",
                                cn);
        const sl_type *from_t = pm->in_schema->cols[k].type;
        const sl_type *to_t = pm->model_input->cols[i].type;
        if (!sl_gen_assignable(from_t, to_t) ||
            sl_type_storage(from_t) != sl_type_storage(to_t))
            return sl_gen_error(g, SL_SQL, id->pos,
                                "column '%s' is %s but model input '%s' is "
                                "%s",
                                cn, sl_gen_type_text(g, from_t),
                                pm->model_input->cols[i].name,
                                sl_gen_type_text(g, to_t));
        pm->input_cols[i] = k;
    }
    /* output: input columns then the model's */
    int n_in = pm->in_schema->n_cols, n_out = pm->model_output->n_cols;
    const char **names =
        sl_arena_alloc(g->arena, sizeof(char *) * (size_t)(n_in + n_out + 1));
    const sl_type **types =
        sl_arena_alloc(g->arena, sizeof(void *) * (size_t)(n_in + n_out + 1));
    pm->output_metadata =
        sl_arena_alloc(g->arena, sizeof(char *) * (size_t)(n_out + 1));
    if (!names || !types || !pm->output_metadata)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    for (int i = 0; i < n_in; i++) {
        names[i] = pm->in_schema->cols[i].name;
        types[i] = pm->in_schema->cols[i].type;
    }
    for (int i = 0; i < n_out; i++) {
        const sl_column_def *c = &ms->create_model.outputs[i];
        names[n_in + i] = pm->model_output->cols[i].name;
        types[n_in + i] = pm->model_output->cols[i].type;
        pm->output_metadata[i] =
            c->kind == SL_COL_METADATA
                ? (c->metadata_key ? c->metadata_key : names[n_in + i])
                : NULL;
        for (int k = 0; k < n_in; k++)
            if (!strcmp(names[k], names[n_in + i]))
                return sl_gen_error(g, SL_SQL, call->pos,
                                    "model output column '%s' has the same "
                                    "name as an input column",
                                    names[k]);
    }
    pm->out_schema = sl_schema_new(g->arena, n_in + n_out, names, types);
    pm->model_options = opts_from_pairs(g->arena, &me->model_options);
    if (!pm->out_schema || !pm->model_options)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    for (int i = 0; i < pm->model_options->n; i++)
        if (!strcmp(pm->model_options->items[i].key, "provider"))
            pm->provider = pm->model_options->items[i].value;
    /* CONFIG MAP['k', 'v', ...]: string literals */
    int n_cfg = a->config ? a->config->list.n_items : 0;
    sl_opt_list cfg = {0, NULL};
    if (n_cfg) {
        if (n_cfg % 2)
            return sl_gen_error(g, SL_SQL, a->config->pos,
                                "the options MAP needs key/value pairs");
        cfg.items = sl_arena_alloc(g->arena, sizeof(sl_opt_pair) *
                                                 (size_t)(n_cfg / 2 + 1));
        if (!cfg.items)
            return sl_err_set(g->err, SL_NOMEM, "out of memory");
        for (int i = 0; i < n_cfg; i += 2) {
            const sl_expr *k = a->config->list.items[i];
            const sl_expr *v = a->config->list.items[i + 1];
            if (k->kind != SL_EXPR_LITERAL || k->lit.kind != SL_LIT_STRING ||
                v->kind != SL_EXPR_LITERAL ||
                (v->lit.kind != SL_LIT_STRING && v->lit.kind != SL_LIT_INT &&
                 v->lit.kind != SL_LIT_DECIMAL && v->lit.kind != SL_LIT_BOOL))
                return sl_gen_error(g, SL_SQL, k->pos,
                                    "ML_PREDICT options must be literals: "
                                    "MAP['key', 'value', ...]");
            sl_opt_pair *p = &cfg.items[cfg.n++];
            memset(p, 0, sizeof(*p));
            p->key = k->lit.text;
            p->key_len = k->lit.text_len;
            if (v->lit.kind == SL_LIT_BOOL) {
                p->value = v->lit.b ? "true" : "false";
                p->value_len = strlen(p->value);
            } else {
                p->value = v->lit.text;
                p->value_len = v->lit.text_len;
            }
        }
    }
    pm->call_options = opts_from_pairs(g->arena, &cfg);
    if (!pm->call_options)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    g->plan->model = pm;
    return SL_OK;
}

static int gen_ml_predict(sl_gen *g, const sl_from *from, const char *alias,
                          sl_buf *out, sl_scope *sc)
{
    const sl_expr *call = from->table_func.call;
    if (!g->with_row)
        return sl_gen_error(g, SL_UNSUPPORTED, from->pos,
                            "ML_PREDICT cannot be combined with VALUES yet");
    mlp_args a;
    int rc = mlp_collect_args(g, call, &a);
    if (rc)
        return rc;
    int idx = g->occurrence++;
    if (idx != 0 || (g->plan->model && g->collect))
        return sl_gen_error(g, SL_UNSUPPORTED, from->pos,
                            "ML_PREDICT must be the only table a query "
                            "reads (combine results with a view instead)");
    if (g->collect) {
        rc = mlp_plan(g, call, &a);
        if (rc)
            return rc;
        memset(&g->plan->sources[0], 0, sizeof(g->plan->sources[0]));
        g->plan->sources[0].name = g->plan->model->name;
        g->plan->n_sources = 1;
    }
    const sl_plan_model *pm = g->plan->model;
    const sl_schema *os = pm->out_schema;
    const char *talias = sl_gen_printf(g, "t%d", g->alias_seq++);
    sl_rel_col *cols =
        sl_arena_alloc(g->arena, sizeof(*cols) * (size_t)(os->n_cols + 1));
    if (!talias || !cols)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    bool live = idx == g->current;
    sl_buf_puts(out, "(SELECT ");
    for (int i = 0; i < os->n_cols; i++) {
        if (i)
            sl_buf_puts(out, ", ");
        if (live)
            sl_gen_ident(out, os->cols[i].name);
        else
            sl_buf_puts(out, "NULL");
        sl_buf_printf(out, " AS c%d", i);
        cols[i] = (sl_rel_col){os->cols[i].name, alias, os->cols[i].type,
                               sl_gen_printf(g, "%s.c%d", talias, i)};
    }
    sl_buf_printf(out, "%s%s AS _row", os->n_cols ? ", " : "",
                  live ? "_row" : "NULL");
    sl_buf_puts(out, live ? " FROM {input}) AS " : " WHERE 0) AS ");
    sl_buf_puts(out, talias);
    sc->n = os->n_cols;
    sc->cols = cols;
    sc->row_ref = sl_gen_printf(g, "%s._row", talias);
    return out->rc;
}

/* ---- FROM ------------------------------------------------------------------
 */

static const sl_cte *find_cte(sl_gen *g, const char *name, sl_cte_frame **frame)
{
    for (sl_cte_frame *f = g->ctes; f; f = f->up) {
        if (f->cte->name.len == strlen(name) &&
            !memcmp(f->cte->name.text, name, f->cte->name.len)) {
            *frame = f;
            return f->cte;
        }
    }
    return NULL;
}

/* Wrap a query's relation as a FROM item with an alias. */
static int scope_from_rel(sl_gen *g, const sl_rel *rel, const char *alias,
                          const char *talias, int n_col_aliases,
                          const sl_ident *col_aliases, sl_pos pos, sl_scope *sc)
{
    if (n_col_aliases && n_col_aliases != rel->n)
        return sl_gen_error(g, SL_SQL, pos,
                            "%d column aliases given for %d columns",
                            n_col_aliases, rel->n);
    sc->n = rel->n;
    sc->cols = sl_arena_alloc(g->arena, sizeof(sl_rel_col) * (rel->n + 1));
    if (!sc->cols)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    for (int i = 0; i < rel->n; i++) {
        sc->cols[i].name = n_col_aliases ? sl_gen_ident_text(g, &col_aliases[i])
                                         : rel->names[i];
        sc->cols[i].qual = alias;
        sc->cols[i].type = rel->types[i];
        sc->cols[i].ref = sl_gen_printf(g, "%s.c%d", talias, i);
    }
    sc->row_ref = g->with_row ? sl_gen_printf(g, "%s._row", talias) : NULL;
    return SL_OK;
}

static int gen_subquery_item(sl_gen *g, const sl_query *q, const char *alias,
                             int n_col_aliases, const sl_ident *col_aliases,
                             sl_pos pos, sl_buf *out, sl_scope *sc)
{
    if (++g->depth > SL_PLAN_MAX_DEPTH)
        return sl_gen_error(g, SL_LIMIT, pos,
                            "views and subqueries nest deeper than %d",
                            SL_PLAN_MAX_DEPTH);
    const char *talias = sl_gen_printf(g, "t%d", g->alias_seq++);
    sl_rel rel;
    bool top = g->top;
    g->top = false;
    sl_buf_putc(out, '(');
    int rc = sl_gen_query(g, q, out, &rel);
    g->top = top;
    g->depth--;
    if (rc)
        return rc;
    sl_buf_printf(out, ") AS %s", talias);
    return scope_from_rel(g, &rel, alias, talias, n_col_aliases, col_aliases,
                          pos, sc);
}

static int gen_from(sl_gen *g, const sl_from *from, sl_buf *out, sl_scope *sc)
{
    const char *alias = from->alias ? sl_gen_ident_text(g, from->alias) : NULL;
    switch (from->kind) {
    case SL_FROM_TABLE: {
        if (from->table.system_time)
            return sl_gen_error(g, SL_UNSUPPORTED, from->pos,
                                "FOR SYSTEM_TIME AS OF (temporal joins) is "
                                "not supported yet");
        char *name = sl_name_join(&from->table.name, g->arena);
        if (!name)
            return sl_err_set(g->err, SL_NOMEM, "out of memory");
        const sl_ident *last =
            &from->table.name.parts[from->table.name.n_parts - 1];
        if (!alias)
            alias = sl_gen_ident_text(g, last);
        sl_cte_frame *frame = NULL;
        const sl_cte *cte =
            from->table.name.n_parts == 1 ? find_cte(g, name, &frame) : NULL;
        if (cte) {
            /* the CTE's body sees only the CTEs defined before it */
            sl_cte_frame *saved = g->ctes;
            const char *st = g->text;
            size_t sl = g->text_len;
            g->ctes = frame->up;
            g->text = frame->text;
            g->text_len = frame->text_len;
            int rc = gen_subquery_item(g, cte->query, alias, cte->n_columns,
                                       cte->columns, from->pos, out, sc);
            g->ctes = saved;
            g->text = st;
            g->text_len = sl;
            return rc;
        }
        sl_cat_entry *e = sl_catalog_find(g->env->catalog, name, 0);
        if (!e) {
            const char *hint =
                sl_catalog_suggest(g->env->catalog, name, SL_OBJ_TABLE);
            if (!hint)
                hint = sl_catalog_suggest(g->env->catalog, name, SL_OBJ_VIEW);
            if (hint)
                return sl_gen_error(g, SL_SQL, from->pos,
                                    "table '%s' not found (did you mean "
                                    "'%s'?)",
                                    name, hint);
            return sl_gen_error(g, SL_SQL, from->pos, "table '%s' not found",
                                name);
        }
        if (e->kind == SL_OBJ_MODEL)
            return sl_gen_error(g, SL_SQL, from->pos,
                                "'%s' is a model, not a table; call it "
                                "with ML_PREDICT(TABLE t, MODEL %s, "
                                "DESCRIPTOR(...))",
                                name, name);
        if (e->kind == SL_OBJ_VIEW) {
            const char *st = g->text;
            size_t sl = g->text_len;
            sl_cte_frame *saved = g->ctes;
            g->ctes = NULL;
            g->text = e->sql;
            g->text_len = strlen(e->sql);
            const sl_stmt *v = e->stmt;
            int rc = gen_subquery_item(
                g, v->create_view.query, alias, v->create_view.n_columns,
                v->create_view.columns, from->pos, out, sc);
            g->text = st;
            g->text_len = sl;
            g->ctes = saved;
            return rc;
        }
        return gen_table(g, e, alias, from->pos, out, sc);
    }
    case SL_FROM_SUBQUERY:
        if (from->subquery.lateral)
            return sl_gen_error(g, SL_UNSUPPORTED, from->pos,
                                "LATERAL subqueries are not supported yet");
        return gen_subquery_item(g, from->subquery.query, alias,
                                 from->n_col_aliases, from->col_aliases,
                                 from->pos, out, sc);
    case SL_FROM_JOIN:
        return sl_join_gen_from(g, from, out, sc);
    case SL_FROM_TABLE_FUNC: {
        const sl_expr *call = from->table_func.call;
        char *fname = sl_name_join(&call->func.name, g->arena);
        if (fname && sl_str_ieq(fname, "ML_PREDICT"))
            return gen_ml_predict(g, from, alias ? alias : "ML_PREDICT", out,
                                  sc);
        if (fname &&
            (sl_str_ieq(fname, "TUMBLE") || sl_str_ieq(fname, "HOP") ||
             sl_str_ieq(fname, "CUMULATE") || sl_str_ieq(fname, "SESSION")))
            return sl_window_gen_tvf(g, from, alias, out, sc);
        return sl_gen_error(g, SL_UNSUPPORTED, from->pos,
                            "table function '%s' is not supported yet",
                            fname ? fname : "?");
    }
    }
    return sl_gen_error(g, SL_ERROR, from->pos, "internal: bad FROM item");
}

int sl_gen_from(sl_gen *g, const sl_from *from, sl_buf *out, sl_scope *sc)
{
    return gen_from(g, from, out, sc);
}

/* ---- SELECT ----------------------------------------------------------------
 */

static const char *expr_name(sl_gen *g, const sl_expr *e, int i)
{
    if (e->kind == SL_EXPR_COLUMN)
        return sl_gen_ident_text(g, &e->column.parts[e->column.n_parts - 1]);
    if (e->kind == SL_EXPR_FIELD)
        return sl_gen_ident_text(g, &e->field.field);
    return sl_gen_printf(g, "EXPR$%d", i);
}

static int gen_select(sl_gen *g, const sl_query *q, sl_buf *out, sl_rel *rel)
{
    const sl_select *s = &q->select;
    if (sl_window_wants_rank(g, q))
        return sl_window_gen_rank(g, q, out, rel);
    if (sl_window_wants_agg(g, q))
        return sl_window_gen_agg(g, q, out, rel);
    sl_scope sc = {0, NULL, NULL};
    sl_buf from;
    sl_buf_init(&from, 64u << 20);
    int rc = SL_OK;
    if (g->over_scope && g->top) {
        /* LLM_CALL lifted: the FROM clause is the model chain's output */
        sc = *g->over_scope;
        sl_buf_puts(&from, g->over_from_sql);
    } else if (s->from) {
        const sl_expr *saved_where = g->join_where;
        g->join_where = s->where;
        rc = gen_from(g, s->from, &from, &sc);
        g->join_where = saved_where;
        if (rc)
            goto done;
    } else if (g->with_row) {
        rc = sl_gen_error(g, SL_UNSUPPORTED, q->pos,
                          "a SELECT without FROM cannot be combined with a "
                          "streaming table");
        goto done;
    }
    bool streaming = g->with_row;
    if (streaming && (s->n_group || s->having)) {
        rc = sl_gen_error(g, SL_UNSUPPORTED, q->pos,
                          "GROUP BY on a streaming table is not supported "
                          "yet (it produces an updating result)");
        goto done;
    }
    if (streaming && s->distinct) {
        rc = sl_gen_error(g, SL_UNSUPPORTED, q->pos,
                          "SELECT DISTINCT on a streaming table is not "
                          "supported yet (it keeps state per row)");
        goto done;
    }
    /* count output columns */
    int n = 0;
    for (int i = 0; i < s->n_items; i++) {
        const sl_expr *e = s->items[i].expr;
        if (e->kind != SL_EXPR_STAR) {
            n++;
            continue;
        }
        int matched = 0;
        char *qual = e->star.qualifier
                         ? sl_name_join(e->star.qualifier, g->arena)
                         : NULL;
        for (int k = 0; k < sc.n; k++)
            if (!qual || (sc.cols[k].qual && !strcmp(sc.cols[k].qual, qual)))
                matched++;
        if (qual && !matched) {
            rc = sl_gen_error(g, SL_SQL, e->pos,
                              "table '%s' not found in the FROM clause", qual);
            goto done;
        }
        if (!s->from) {
            rc =
                sl_gen_error(g, SL_SQL, e->pos, "SELECT * needs a FROM clause");
            goto done;
        }
        n += matched;
    }
    rel->n = n;
    rel->names = sl_arena_alloc(g->arena, sizeof(char *) * (n + 1));
    rel->types = sl_arena_alloc(g->arena, sizeof(void *) * (n + 1));
    if (!rel->names || !rel->types) {
        rc = sl_err_set(g->err, SL_NOMEM, "out of memory");
        goto done;
    }
    sl_buf_puts(out, "SELECT ");
    if (s->distinct)
        sl_buf_puts(out, "DISTINCT ");
    int c = 0;
    for (int i = 0; i < s->n_items; i++) {
        const sl_select_item *it = &s->items[i];
        const sl_expr *e = it->expr;
        if (e->kind == SL_EXPR_STAR) {
            char *qual = e->star.qualifier
                             ? sl_name_join(e->star.qualifier, g->arena)
                             : NULL;
            for (int k = 0; k < sc.n; k++) {
                if (qual &&
                    !(sc.cols[k].qual && !strcmp(sc.cols[k].qual, qual)))
                    continue;
                sl_buf_printf(out, "%s%s AS c%d", c ? ", " : "", sc.cols[k].ref,
                              c);
                rel->names[c] = sc.cols[k].name;
                rel->types[c] = sc.cols[k].type;
                c++;
            }
            continue;
        }
        if (streaming && sl_gen_has_aggregate(e)) {
            rc = sl_gen_error(g, SL_UNSUPPORTED, e->pos,
                              "aggregate functions on a streaming table are "
                              "not supported yet (they produce an updating "
                              "result)");
            goto done;
        }
        if (c)
            sl_buf_puts(out, ", ");
        const sl_type *t = NULL;
        rc = sl_gen_expr(g, &sc, e, out, &t);
        if (rc)
            goto done;
        sl_buf_printf(out, " AS c%d", c);
        rel->names[c] =
            it->alias ? sl_gen_ident_text(g, it->alias) : expr_name(g, e, c);
        rel->types[c] = t;
        c++;
    }
    if (g->with_row)
        sl_buf_printf(out, "%s%s AS _row", c ? ", " : "",
                      sc.row_ref ? sc.row_ref : "NULL");
    if (s->from) {
        sl_buf_puts(out, " FROM ");
        sl_buf_append(out, from.data, from.len);
    }
    if (s->where && !(g->over_scope && g->top && g->over_skip_where)) {
        if (sl_gen_has_aggregate(s->where)) {
            rc = sl_gen_error(g, SL_SQL, s->where->pos,
                              "aggregate functions are not allowed in WHERE");
            goto done;
        }
        sl_buf_puts(out, " WHERE ");
        const sl_type *t = NULL;
        rc = sl_gen_expr(g, &sc, s->where, out, &t);
        if (rc)
            goto done;
        if (t->id != SL_TYPE_BOOLEAN && t->id != SL_TYPE_NULL) {
            rc = sl_gen_error(g, SL_SQL, s->where->pos,
                              "WHERE needs a BOOLEAN condition, got %s",
                              sl_gen_type_text(g, t));
            goto done;
        }
    }
    if (s->n_group) {
        sl_buf_puts(out, " GROUP BY ");
        for (int i = 0; i < s->n_group; i++) {
            if (i)
                sl_buf_puts(out, ", ");
            const sl_type *t = NULL;
            rc = sl_gen_expr(g, &sc, s->group_by[i], out, &t);
            if (rc)
                goto done;
        }
    }
    if (s->having) {
        sl_buf_puts(out, " HAVING ");
        const sl_type *t = NULL;
        rc = sl_gen_expr(g, &sc, s->having, out, &t);
        if (rc)
            goto done;
    }
    if (q->n_order) {
        if (streaming) {
            rc = sl_gen_error(g, SL_UNSUPPORTED, q->order_by[0].expr->pos,
                              "ORDER BY on a streaming table is not "
                              "supported yet");
            goto done;
        }
        sl_buf_puts(out, " ORDER BY ");
        for (int i = 0; i < q->n_order; i++) {
            const sl_order_item *o = &q->order_by[i];
            if (i)
                sl_buf_puts(out, ", ");
            const sl_expr *e = o->expr;
            int pos_idx = -1;
            if (e->kind == SL_EXPR_LITERAL && e->lit.kind == SL_LIT_INT &&
                e->lit.i_valid && e->lit.i >= 1 && e->lit.i <= rel->n)
                pos_idx = (int)e->lit.i - 1;
            if (e->kind == SL_EXPR_COLUMN && e->column.n_parts == 1) {
                char *nm = sl_gen_ident_text(g, &e->column.parts[0]);
                bool in_scope = false;
                for (int k = 0; k < sc.n; k++)
                    if (!strcmp(sc.cols[k].name, nm))
                        in_scope = true;
                for (int k = 0; k < rel->n && !in_scope; k++)
                    if (!strcmp(rel->names[k], nm)) {
                        pos_idx = k;
                        break;
                    }
            }
            if (pos_idx >= 0) {
                sl_buf_printf(out, "c%d", pos_idx);
            } else {
                const sl_type *t = NULL;
                rc = sl_gen_expr(g, &sc, e, out, &t);
                if (rc)
                    goto done;
            }
            if (o->desc)
                sl_buf_puts(out, " DESC");
            if (o->nulls == SL_NULLS_FIRST)
                sl_buf_puts(out, " NULLS FIRST");
            else if (o->nulls == SL_NULLS_LAST)
                sl_buf_puts(out, " NULLS LAST");
        }
    }
done:
    sl_buf_free(&from);
    if (!rc && out->rc)
        rc = sl_err_set(g->err, out->rc, "query too large to plan");
    return rc;
}

static int gen_limit(sl_gen *g, const sl_query *q, sl_buf *out)
{
    if (!q->limit && !q->offset)
        return SL_OK;
    if (g->with_row) {
        if (!g->top || q->offset)
            return sl_gen_error(g, SL_UNSUPPORTED,
                                q->limit ? q->limit->pos : q->offset->pos,
                                "LIMIT/OFFSET inside a streaming query is "
                                "not supported yet (only a top-level LIMIT)");
        const sl_expr *e = q->limit;
        if (e->kind != SL_EXPR_LITERAL || e->lit.kind != SL_LIT_INT ||
            !e->lit.i_valid || e->lit.i < 0)
            return sl_gen_error(g, SL_SQL, e->pos,
                                "LIMIT needs a non-negative integer literal");
        g->plan->limit = e->lit.i;
        return SL_OK;
    }
    sl_scope empty = {0, NULL, NULL};
    const sl_type *t = NULL;
    if (q->limit) {
        sl_buf_puts(out, " LIMIT ");
        int rc = sl_gen_expr(g, &empty, q->limit, out, &t);
        if (rc)
            return rc;
    } else {
        sl_buf_puts(out, " LIMIT -1");
    }
    if (q->offset) {
        sl_buf_puts(out, " OFFSET ");
        int rc = sl_gen_expr(g, &empty, q->offset, out, &t);
        if (rc)
            return rc;
    }
    return SL_OK;
}

static const sl_type *common_type(const sl_type *a, const sl_type *b)
{
    if (a->id == SL_TYPE_NULL)
        return b;
    if (b->id == SL_TYPE_NULL)
        return a;
    if (sl_type_is_numeric(a) && sl_type_is_numeric(b))
        return a->id >= b->id ? a : b;
    if (sl_type_is_string(a) && sl_type_is_string(b))
        return sl_type_simple(SL_TYPE_VARCHAR);
    if (a->id == b->id)
        return a;
    return NULL;
}

static int gen_values(sl_gen *g, const sl_query *q, sl_buf *out, sl_rel *rel)
{
    if (g->with_row)
        return sl_gen_error(g, SL_UNSUPPORTED, q->pos,
                            "VALUES cannot be combined with a streaming "
                            "table yet");
    int n = q->values.n_cols[0];
    rel->n = n;
    rel->names = sl_arena_alloc(g->arena, sizeof(char *) * (n + 1));
    rel->types = sl_arena_alloc(g->arena, sizeof(void *) * (n + 1));
    if (!rel->names || !rel->types)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    for (int c = 0; c < n; c++) {
        rel->names[c] = sl_gen_printf(g, "EXPR$%d", c);
        rel->types[c] = sl_type_simple(SL_TYPE_NULL);
    }
    sl_buf body;
    sl_buf_init(&body, 64u << 20);
    sl_scope empty = {0, NULL, NULL};
    sl_buf_puts(&body, "VALUES ");
    for (int r = 0; r < q->values.n_rows; r++) {
        if (q->values.n_cols[r] != n) {
            sl_buf_free(&body);
            return sl_gen_error(g, SL_SQL, q->values.rows[r][0]->pos,
                                "VALUES rows must all have %d columns", n);
        }
        sl_buf_printf(&body, "%s(", r ? ", " : "");
        for (int c = 0; c < n; c++) {
            const sl_type *t = NULL;
            if (c)
                sl_buf_puts(&body, ", ");
            int rc = sl_gen_expr(g, &empty, q->values.rows[r][c], &body, &t);
            if (rc) {
                sl_buf_free(&body);
                return rc;
            }
            const sl_type *ct = common_type(rel->types[c], t);
            if (!ct) {
                sl_buf_free(&body);
                return sl_gen_error(g, SL_SQL, q->values.rows[r][c]->pos,
                                    "VALUES column %d mixes %s and %s", c + 1,
                                    sl_gen_type_text(g, rel->types[c]),
                                    sl_gen_type_text(g, t));
            }
            rel->types[c] = ct;
        }
        sl_buf_putc(&body, ')');
    }
    sl_buf_puts(out, "SELECT ");
    for (int c = 0; c < n; c++)
        sl_buf_printf(out, "%scolumn%d AS c%d", c ? ", " : "", c + 1, c);
    sl_buf_puts(out, " FROM (");
    sl_buf_append(out, body.data, body.len);
    sl_buf_putc(out, ')');
    sl_buf_free(&body);
    return out->rc ? sl_err_set(g->err, out->rc, "query too large") : SL_OK;
}

static int gen_setop(sl_gen *g, const sl_query *q, sl_buf *out, sl_rel *rel)
{
    if (g->with_row && !(q->setop.op == SL_SETOP_UNION && q->setop.all))
        return sl_gen_error(g, SL_UNSUPPORTED, q->pos,
                            "only UNION ALL is supported on streaming "
                            "tables (UNION, INTERSECT and EXCEPT keep "
                            "state)");
    bool top = g->top;
    g->top = false;
    sl_rel l, r;
    sl_buf_puts(out, "SELECT * FROM (");
    int rc = sl_gen_query(g, q->setop.left, out, &l);
    if (rc)
        return rc;
    static const char *const ops[] = {"", " UNION", " INTERSECT", " EXCEPT"};
    sl_buf_printf(out, ")%s%s SELECT * FROM (", ops[q->setop.op],
                  q->setop.all ? " ALL" : "");
    rc = sl_gen_query(g, q->setop.right, out, &r);
    g->top = top;
    if (rc)
        return rc;
    sl_buf_putc(out, ')');
    if (l.n != r.n)
        return sl_gen_error(g, SL_SQL, q->setop.right->pos,
                            "set operation inputs have %d and %d columns", l.n,
                            r.n);
    rel->n = l.n;
    rel->names = l.names;
    rel->types = sl_arena_alloc(g->arena, sizeof(void *) * (l.n + 1));
    if (!rel->types)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    for (int i = 0; i < l.n; i++) {
        rel->types[i] = common_type(l.types[i], r.types[i]);
        if (!rel->types[i])
            return sl_gen_error(g, SL_SQL, q->setop.right->pos,
                                "column %d of the set operation has "
                                "incompatible types %s and %s",
                                i + 1, sl_gen_type_text(g, l.types[i]),
                                sl_gen_type_text(g, r.types[i]));
    }
    return SL_OK;
}

int sl_gen_query(sl_gen *g, const sl_query *q, sl_buf *out, sl_rel *rel)
{
    sl_cte_frame *saved = g->ctes;
    sl_cte_frame frames[64];
    if (q->n_with > (int)SL_ARRAY_LEN(frames))
        return sl_gen_error(g, SL_LIMIT, q->pos, "at most %d CTEs per WITH",
                            (int)SL_ARRAY_LEN(frames));
    for (int i = 0; i < q->n_with; i++) {
        frames[i] = (sl_cte_frame){&q->with[i], g->text, g->text_len, g->ctes};
        g->ctes = &frames[i];
    }
    int rc;
    bool wrap =
        q->kind != SL_QUERY_SELECT && (q->n_order || q->limit || q->offset);
    if (wrap)
        sl_buf_puts(out, "SELECT * FROM (");
    switch (q->kind) {
    case SL_QUERY_SELECT:
        rc = gen_select(g, q, out, rel);
        break;
    case SL_QUERY_SETOP:
        rc = gen_setop(g, q, out, rel);
        break;
    case SL_QUERY_VALUES:
        rc = gen_values(g, q, out, rel);
        break;
    default:
        rc = sl_gen_error(g, SL_ERROR, q->pos, "internal: query kind");
    }
    if (!rc && wrap) {
        sl_buf_putc(out, ')');
        if (q->n_order) {
            if (g->with_row)
                rc = sl_gen_error(g, SL_UNSUPPORTED, q->order_by[0].expr->pos,
                                  "ORDER BY on a streaming table is not "
                                  "supported yet");
            sl_buf_puts(out, " ORDER BY ");
            for (int i = 0; i < q->n_order && !rc; i++) {
                const sl_expr *e = q->order_by[i].expr;
                int k = -1;
                if (e->kind == SL_EXPR_LITERAL && e->lit.i_valid)
                    k = (int)e->lit.i - 1;
                for (int j = 0; j < rel->n && k < 0; j++)
                    if (e->kind == SL_EXPR_COLUMN && e->column.n_parts == 1 &&
                        e->column.parts[0].len == strlen(rel->names[j]) &&
                        !memcmp(e->column.parts[0].text, rel->names[j],
                                e->column.parts[0].len))
                        k = j;
                if (k < 0 || k >= rel->n)
                    rc = sl_gen_error(g, SL_SQL, e->pos,
                                      "ORDER BY of a set operation must name "
                                      "an output column");
                else
                    sl_buf_printf(out, "%sc%d%s", i ? ", " : "", k,
                                  q->order_by[i].desc ? " DESC" : "");
            }
        }
    }
    if (!rc)
        rc = gen_limit(g, q, out);
    g->ctes = saved;
    return rc;
}

/* ---- entry points ----------------------------------------------------------
 */

static int make_schema(sl_gen *g, const sl_rel *rel, sl_schema **out)
{
    const sl_type **types =
        sl_arena_alloc(g->arena, sizeof(void *) * (rel->n + 1));
    if (!types)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    for (int i = 0; i < rel->n; i++)
        types[i] = rel->types[i]->id == SL_TYPE_NULL
                       ? sl_type_simple(SL_TYPE_VARCHAR)
                       : rel->types[i];
    *out = sl_schema_new(g->arena, rel->n, rel->names, types);
    return *out ? SL_OK : sl_err_set(g->err, SL_NOMEM, "out of memory");
}

static void gen_init(sl_gen *g, const sl_plan_env *env, sl_plan *plan,
                     sl_arena *arena, sl_err *err)
{
    memset(g, 0, sizeof(*g));
    g->env = env;
    g->plan = plan;
    g->arena = arena;
    g->err = err;
    g->text = env->sql;
    g->text_len = env->sql_len;
    g->top = true;
    g->current = -1;
}

/* ---- LLM_CALL / EMBED: lifted into model operators ------------------------
 */

#define SL_PLAN_MAX_LLM 8

static bool is_llm_call(const sl_expr *e)
{
    return e->kind == SL_EXPR_FUNC && e->func.name.n_parts == 1 &&
           (sl_str_nieq(e->func.name.parts[0].text, e->func.name.parts[0].len,
                        "LLM_CALL") ||
            sl_str_nieq(e->func.name.parts[0].text, e->func.name.parts[0].len,
                        "EMBED"));
}

/* Collect LLM_CALL/EMBED nodes (not those nested in another's arguments). */
static void collect_llm(const sl_expr *e, const sl_expr **found, int *n,
                        int depth)
{
    if (!e || depth > 200)
        return;
    if (is_llm_call(e)) {
        if (*n < SL_PLAN_MAX_LLM + 1)
            found[(*n)++] = e;
        return;
    }
    switch (e->kind) {
    case SL_EXPR_FUNC:
        for (int i = 0; i < e->func.n_args; i++)
            collect_llm(e->func.args[i], found, n, depth + 1);
        break;
    case SL_EXPR_UNARY:
        collect_llm(e->unary.operand, found, n, depth + 1);
        break;
    case SL_EXPR_BINARY:
        collect_llm(e->binary.left, found, n, depth + 1);
        collect_llm(e->binary.right, found, n, depth + 1);
        break;
    case SL_EXPR_CASE:
        collect_llm(e->case_.operand, found, n, depth + 1);
        collect_llm(e->case_.else_, found, n, depth + 1);
        for (int i = 0; i < e->case_.n_whens; i++) {
            collect_llm(e->case_.whens[i], found, n, depth + 1);
            collect_llm(e->case_.thens[i], found, n, depth + 1);
        }
        break;
    case SL_EXPR_CAST:
        collect_llm(e->cast.operand, found, n, depth + 1);
        break;
    case SL_EXPR_IS:
        collect_llm(e->is.operand, found, n, depth + 1);
        collect_llm(e->is.rhs, found, n, depth + 1);
        break;
    case SL_EXPR_LIKE:
        collect_llm(e->like.operand, found, n, depth + 1);
        collect_llm(e->like.pattern, found, n, depth + 1);
        break;
    case SL_EXPR_IN_LIST:
        collect_llm(e->in_list.operand, found, n, depth + 1);
        for (int i = 0; i < e->in_list.n_items; i++)
            collect_llm(e->in_list.items[i], found, n, depth + 1);
        break;
    case SL_EXPR_BETWEEN:
        collect_llm(e->between.operand, found, n, depth + 1);
        collect_llm(e->between.low, found, n, depth + 1);
        collect_llm(e->between.high, found, n, depth + 1);
        break;
    case SL_EXPR_SUBSCRIPT:
        collect_llm(e->subscript.base, found, n, depth + 1);
        collect_llm(e->subscript.index, found, n, depth + 1);
        break;
    case SL_EXPR_FIELD:
        collect_llm(e->field.base, found, n, depth + 1);
        break;
    default:
        break;
    }
}

static sl_ident mk_ident(sl_gen *g, const char *text, sl_pos pos)
{
    sl_ident id;
    id.text = sl_arena_strndup(g->arena, text, strlen(text));
    id.len = strlen(text);
    id.quoted = true;
    id.pos = pos;
    return id;
}

typedef int (*wrap_fn)(sl_gen *g, const sl_rel *rel, const char *inner,
                       sl_buf *out, void *ctx);

static int make_schema(sl_gen *g, const sl_rel *rel, sl_schema **out);

static int plan_llm(const sl_plan_env *env, const sl_query *q,
                    const sl_expr **calls, int n_calls, sl_arena *arena,
                    sl_plan *plan, sl_rel *rel, wrap_fn wrap, void *wrap_ctx,
                    sl_err *err)
{
    sl_gen g;
    memset(&g, 0, sizeof(g));
    g.env = env;
    g.plan = plan;
    g.arena = arena;
    g.err = err;
    g.text = env->sql;
    g.text_len = env->sql_len;
    g.top = true;
    g.current = 0;
    g.with_row = true;
    const sl_select *sel = &q->select;
    if (n_calls > SL_PLAN_MAX_LLM)
        return sl_gen_error(&g, SL_LIMIT, calls[SL_PLAN_MAX_LLM]->pos,
                            "at most %d LLM_CALL/EMBED calls per query",
                            SL_PLAN_MAX_LLM);
    if (!sel->from || sel->n_group || sel->having || sel->distinct)
        return sl_gen_error(&g, SL_UNSUPPORTED, calls[0]->pos,
                            "LLM_CALL and EMBED need a plain SELECT over a "
                            "table (no GROUP BY, HAVING or DISTINCT)");
    int n_where_calls = 0;
    const sl_expr *tmp[SL_PLAN_MAX_LLM + 1];
    collect_llm(sel->where, tmp, &n_where_calls, 0);
    /* inner query: SELECT *, prompt_k AS __llm_k FROM <from> [WHERE ...] */
    sl_select_item *items =
        sl_arena_alloc(arena, sizeof(*items) * (size_t)(n_calls + 1));
    sl_expr *star = sl_arena_alloc(arena, sizeof(*star));
    sl_query *iq = sl_arena_alloc(arena, sizeof(*iq));
    if (!items || !star || !iq)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    memset(star, 0, sizeof(*star));
    star->kind = SL_EXPR_STAR;
    star->pos = q->pos;
    items[0].expr = star;
    items[0].alias = NULL;
    for (int k = 0; k < n_calls; k++) {
        const sl_expr *c = calls[k];
        if (c->func.n_args < 2 || c->func.n_args > 3)
            return sl_gen_error(
                &g, SL_SQL, c->pos, "%.*s takes (model, input [, MAP[...]])",
                (int)c->func.name.parts[0].len, c->func.name.parts[0].text);
        collect_llm(c->func.args[1], tmp, &(int){0}, 0);
        sl_ident *alias = sl_arena_alloc(arena, sizeof(*alias));
        char nm[32];
        sl_snprintf(nm, sizeof(nm), "__llm_%d", k);
        if (!alias)
            return sl_err_set(err, SL_NOMEM, "out of memory");
        *alias = mk_ident(&g, nm, c->pos);
        items[k + 1].expr = c->func.args[1];
        items[k + 1].alias = alias;
    }
    memset(iq, 0, sizeof(*iq));
    iq->kind = SL_QUERY_SELECT;
    iq->pos = q->pos;
    iq->n_with = q->n_with;
    iq->with = q->with;
    iq->select.n_items = n_calls + 1;
    iq->select.items = items;
    iq->select.from = sel->from;
    iq->select.where = n_where_calls ? NULL : sel->where;
    sl_plan *inner = sl_arena_alloc(arena, sizeof(*inner));
    if (!inner)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    int rc = sl_plan_query(env, iq, arena, inner, err);
    if (rc)
        return rc;
    if (inner->is_static || inner->model)
        return sl_gen_error(&g, SL_UNSUPPORTED, calls[0]->pos,
                            "LLM_CALL and EMBED read a table (not VALUES or "
                            "ML_PREDICT) in this version");
    /* the model chain */
    const sl_schema *prev = inner->out_schema;
    sl_plan_model *head = NULL, **tail = &head;
    const char **first_out = sl_arena_alloc(arena, sizeof(char *) * 9);
    const sl_type **first_type = sl_arena_alloc(arena, sizeof(void *) * 9);
    if (!first_out || !first_type)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    for (int k = 0; k < n_calls; k++) {
        const sl_expr *c = calls[k];
        const sl_expr *m = c->func.args[0];
        char *mname = NULL;
        if (m->kind == SL_EXPR_LITERAL && m->lit.kind == SL_LIT_STRING)
            mname = sl_arena_strndup(arena, m->lit.text, m->lit.text_len);
        else if (m->kind == SL_EXPR_COLUMN && m->column.n_parts == 1)
            mname = sl_name_join(&m->column, arena);
        else if (m->kind == SL_EXPR_MODEL_ARG)
            mname = sl_name_join(&m->model_arg.name, arena);
        if (!mname)
            return sl_gen_error(&g, SL_SQL, m->pos,
                                "the first argument of %.*s names a model: "
                                "'model_name'",
                                (int)c->func.name.parts[0].len,
                                c->func.name.parts[0].text);
        sl_cat_entry *me = sl_catalog_find(env->catalog, mname, SL_OBJ_MODEL);
        if (!me) {
            const char *hint =
                sl_catalog_suggest(env->catalog, mname, SL_OBJ_MODEL);
            if (hint)
                return sl_gen_error(&g, SL_SQL, m->pos,
                                    "model '%s' not found (did you mean "
                                    "'%s'?)",
                                    mname, hint);
            return sl_gen_error(&g, SL_SQL, m->pos, "model '%s' not found",
                                mname);
        }
        const sl_stmt *ms = me->stmt;
        if (ms->create_model.n_inputs != 1 || ms->create_model.n_outputs < 1)
            return sl_gen_error(&g, SL_SQL, m->pos,
                                "model '%s' must have one INPUT column and "
                                "at least one OUTPUT column to be called "
                                "with %.*s",
                                mname, (int)c->func.name.parts[0].len,
                                c->func.name.parts[0].text);
        sl_plan_model *pm = sl_arena_alloc(arena, sizeof(*pm));
        if (!pm)
            return sl_err_set(err, SL_NOMEM, "out of memory");
        memset(pm, 0, sizeof(*pm));
        pm->entry = me;
        pm->name = me->name;
        pm->input = k == 0 ? inner : NULL;
        pm->in_schema = prev;
        pm->model_input = schema_of_cols(&g, 1, ms->create_model.inputs);
        pm->model_output = schema_of_cols(&g, ms->create_model.n_outputs,
                                          ms->create_model.outputs);
        pm->input_cols = sl_arena_alloc(arena, sizeof(int));
        int n_out = ms->create_model.n_outputs;
        pm->output_metadata =
            sl_arena_alloc(arena, sizeof(char *) * (size_t)(n_out + 1));
        if (!pm->model_input || !pm->model_output || !pm->input_cols ||
            !pm->output_metadata)
            return sl_err_set(err, SL_NOMEM, "out of memory");
        char nm[32];
        sl_snprintf(nm, sizeof(nm), "__llm_%d", k);
        pm->input_cols[0] = sl_schema_find(prev, nm);
        if (pm->input_cols[0] < 0)
            return sl_gen_error(&g, SL_ERROR, c->pos, "internal: lifted input");
        const sl_type *pt = prev->cols[pm->input_cols[0]].type;
        const sl_type *mt = pm->model_input->cols[0].type;
        if (!sl_gen_assignable(pt, mt) ||
            sl_type_storage(pt) != sl_type_storage(mt))
            return sl_gen_error(&g, SL_SQL, c->func.args[1]->pos,
                                "the input is %s but model '%s' takes %s",
                                sl_gen_type_text(&g, pt), mname,
                                sl_gen_type_text(&g, mt));
        int n_prev = prev->n_cols;
        const char **names = sl_arena_alloc(
            arena, sizeof(char *) * (size_t)(n_prev + n_out + 1));
        const sl_type **types = sl_arena_alloc(
            arena, sizeof(void *) * (size_t)(n_prev + n_out + 1));
        if (!names || !types)
            return sl_err_set(err, SL_NOMEM, "out of memory");
        for (int i = 0; i < n_prev; i++) {
            names[i] = prev->cols[i].name;
            types[i] = prev->cols[i].type;
        }
        for (int i = 0; i < n_out; i++) {
            const sl_column_def *cd = &ms->create_model.outputs[i];
            char on[48];
            sl_snprintf(on, sizeof(on), "__llm_%d_%d", k, i);
            names[n_prev + i] = sl_arena_strndup(arena, on, strlen(on));
            types[n_prev + i] = pm->model_output->cols[i].type;
            pm->output_metadata[i] =
                cd->kind == SL_COL_METADATA
                    ? (cd->metadata_key ? cd->metadata_key
                                        : pm->model_output->cols[i].name)
                    : NULL;
        }
        pm->out_schema = sl_schema_new(arena, n_prev + n_out, names, types);
        pm->model_options = opts_from_pairs(arena, &me->model_options);
        sl_opt_list cfg = {0, NULL};
        if (c->func.n_args == 3) {
            const sl_expr *mp = c->func.args[2];
            if (mp->kind != SL_EXPR_MAP || mp->list.n_items % 2)
                return sl_gen_error(&g, SL_SQL, mp->pos,
                                    "options must be MAP['key', 'value', "
                                    "...]");
            cfg.items =
                sl_arena_alloc(arena, sizeof(sl_opt_pair) *
                                          (size_t)(mp->list.n_items / 2 + 1));
            if (!cfg.items)
                return sl_err_set(err, SL_NOMEM, "out of memory");
            for (int i = 0; i < mp->list.n_items; i += 2) {
                const sl_expr *ke = mp->list.items[i];
                const sl_expr *ve = mp->list.items[i + 1];
                if (ke->kind != SL_EXPR_LITERAL ||
                    ve->kind != SL_EXPR_LITERAL || !ke->lit.text ||
                    !ve->lit.text)
                    return sl_gen_error(&g, SL_SQL, ke->pos,
                                        "options must be literals");
                sl_opt_pair *pp = &cfg.items[cfg.n++];
                memset(pp, 0, sizeof(*pp));
                pp->key = ke->lit.text;
                pp->key_len = ke->lit.text_len;
                pp->value = ve->lit.text;
                pp->value_len = ve->lit.text_len;
            }
        }
        pm->call_options = opts_from_pairs(arena, &cfg);
        if (!pm->out_schema || !pm->model_options || !pm->call_options)
            return sl_err_set(err, SL_NOMEM, "out of memory");
        for (int i = 0; i < pm->model_options->n; i++)
            if (!strcmp(pm->model_options->items[i].key, "provider"))
                pm->provider = pm->model_options->items[i].value;
        first_out[k] = names[n_prev];
        first_type[k] = types[n_prev];
        *tail = pm;
        tail = &pm->next;
        prev = pm->out_schema;
    }
    /* the scope the outer SELECT sees: the FROM item's columns */
    const char *alias = NULL;
    if (sel->from->alias)
        alias = sl_gen_ident_text(&g, sel->from->alias);
    else if (sel->from->kind == SL_FROM_TABLE)
        alias = sl_gen_ident_text(
            &g,
            &sel->from->table.name.parts[sel->from->table.name.n_parts - 1]);
    sl_scope *over = sl_arena_alloc(arena, sizeof(*over));
    sl_rel_col *cols =
        sl_arena_alloc(arena, sizeof(sl_rel_col) * (size_t)(prev->n_cols + 1));
    const char **refs =
        sl_arena_alloc(arena, sizeof(char *) * (size_t)(n_calls + 1));
    if (!over || !cols || !refs)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    sl_buf from;
    sl_buf_init(&from, 64u << 20);
    sl_buf_puts(&from, "(SELECT ");
    int n_vis = 0;
    for (int i = 0; i < prev->n_cols; i++) {
        sl_gen_ident(&from, prev->cols[i].name);
        sl_buf_printf(&from, " AS c%d, ", i);
        if (strncmp(prev->cols[i].name, "__llm_", 6))
            cols[n_vis++] =
                (sl_rel_col){prev->cols[i].name, alias, prev->cols[i].type,
                             sl_gen_printf(&g, "tover.c%d", i)};
    }
    sl_buf_puts(&from, "_row AS _row FROM {input}) AS tover");
    for (int k = 0; k < n_calls; k++)
        refs[k] =
            sl_gen_printf(&g, "tover.c%d", sl_schema_find(prev, first_out[k]));
    over->n = n_vis;
    over->cols = cols;
    over->row_ref = "tover._row";
    plan->model = head;
    plan->n_sources = 1;
    memset(&plan->sources[0], 0, sizeof(plan->sources[0]));
    plan->sources[0].name = head->name;
    g.over_scope = over;
    g.over_from_sql = sl_arena_strndup(arena, sl_buf_cstr(&from), from.len);
    sl_buf_free(&from);
    g.over_skip_where = n_where_calls == 0;
    g.n_subst = n_calls;
    g.subst_expr = calls;
    g.subst_ref = refs;
    g.subst_type = first_type;
    sl_buf out;
    sl_buf_init(&out, 64u << 20);
    rc = sl_gen_query(&g, q, &out, rel);
    if (!rc) {
        sl_buf w;
        sl_buf_init(&w, 64u << 20);
        if (wrap) {
            rc = wrap(&g, rel, sl_buf_cstr(&out), &w, wrap_ctx);
        } else {
            sl_buf_puts(&w, "SELECT ");
            for (int c = 0; c < rel->n; c++)
                sl_buf_printf(&w, "c%d, ", c);
            sl_buf_printf(&w, "_row FROM (%s)", sl_buf_cstr(&out));
        }
        sl_buf_free(&out);
        out = w;
    }
    if (!rc && out.rc)
        rc = sl_err_set(err, out.rc, "query too large to plan");
    if (!rc) {
        plan->stage_sql[0] =
            sl_arena_strndup(arena, sl_buf_cstr(&out), out.len);
        if (!plan->stage_sql[0])
            rc = sl_err_set(err, SL_NOMEM, "out of memory");
    }
    sl_buf_free(&out);
    if (rc)
        return rc;
    return make_schema(&g, rel, &plan->out_schema);
}

/* Render q once per source (or once, static). wrap_fn may wrap each
 * rendering (INSERT casts). */

static int plan_passes(const sl_plan_env *env, const sl_query *query,
                       sl_arena *arena, sl_plan *plan, sl_rel *rel,
                       wrap_fn wrap, void *wrap_ctx, sl_err *err)
{
    memset(plan, 0, sizeof(*plan));
    plan->arena = arena;
    plan->limit = -1;
    if (query->kind == SL_QUERY_SELECT) {
        const sl_expr *calls[SL_PLAN_MAX_LLM + 1];
        int n_calls = 0;
        for (int i = 0; i < query->select.n_items; i++)
            collect_llm(query->select.items[i].expr, calls, &n_calls, 0);
        collect_llm(query->select.where, calls, &n_calls, 0);
        if (n_calls)
            return plan_llm(env, query, calls, n_calls, arena, plan, rel, wrap,
                            wrap_ctx, err);
    }
    sl_gen g;
    gen_init(&g, env, plan, arena, err);
    g.collect = true;
    g.with_row = true;
    sl_buf out;
    sl_buf_init(&out, 64u << 20);
    int rc = sl_gen_query(&g, query, &out, rel);
    sl_err first; /* why the streaming pass gave up */
    sl_err_clear(&first);
    if (rc == SL_UNSUPPORTED && plan->n_sources == 0) {
        /* maybe a static query: retry without _row below */
        first = *err;
        sl_err_clear(err);
        rc = SL_OK;
    }
    sl_buf_free(&out);
    if (rc)
        return rc;
    int n_passes = plan->n_sources ? plan->n_sources : 1;
    plan->is_static = plan->n_sources == 0;
    for (int i = 0; i < n_passes; i++) {
        gen_init(&g, env, plan, arena, err);
        g.with_row = !plan->is_static;
        g.current = plan->is_static ? -1 : i;
        plan->limit = -1;
        sl_buf_init(&out, 64u << 20);
        rc = sl_gen_query(&g, query, &out, rel);
        if (!rc && wrap) {
            sl_buf w;
            sl_buf_init(&w, 64u << 20);
            rc = wrap(&g, rel, sl_buf_cstr(&out), &w, wrap_ctx);
            sl_buf_free(&out);
            out = w;
        } else if (!rc && !plan->is_static) {
            /* top-level: output columns then _row */
            sl_buf w;
            sl_buf_init(&w, 64u << 20);
            sl_buf_puts(&w, "SELECT ");
            for (int c = 0; c < rel->n; c++)
                sl_buf_printf(&w, "c%d, ", c);
            sl_buf_printf(&w, "_row FROM (%s)", sl_buf_cstr(&out));
            sl_buf_free(&out);
            out = w;
        }
        if (!rc && out.rc)
            rc = sl_err_set(err, out.rc, "query too large to plan");
        if (rc && plan->is_static && g.met_table && first.code) {
            /* not static after all: the streaming pass's reason holds
             * (e.g. an operator it does not support yet) */
            *err = first;
            rc = first.code;
        }
        if (rc) {
            sl_buf_free(&out);
            return rc;
        }
        char *sql = sl_arena_strndup(arena, sl_buf_cstr(&out), out.len);
        sl_buf_free(&out);
        if (!sql)
            return sl_err_set(err, SL_NOMEM, "out of memory");
        if (plan->is_static)
            plan->static_sql = sql;
        else
            plan->stage_sql[i] = sql;
    }
    return make_schema(&g, rel, &plan->out_schema);
}

/* ---- changelog sources ---------------------------------------------------
 *
 * A table whose connector reads a changelog rather than append-only rows:
 * upsert-kafka (a record is an upsert of its key, +U; a tombstone a
 * delete, -D). Stateless stages and model calls carry each row's kind, so
 * the result stays updating, as a non-windowed GROUP BY's does: an
 * append-only sink cannot take it (sl_plan_insert). Stateful operators
 * (aggregates, joins, Top-N, OVER) take append-only rows only and would
 * count each update as a new row: refused. */

bool sl_plan_table_is_changelog(const sl_plan_table *t)
{
    return t->connector && t->connector->source_is_updating;
}

const sl_plan_table *sl_plan_changelog_source(const sl_plan *plan)
{
    const sl_plan *p = plan;
    for (int depth = 0; p && depth < 64; depth++) {
        if (p->model) { /* model calls keep the row kinds */
            p = p->model->input;
            continue;
        }
        if (p->agg || p->rank || p->over || p->join)
            return NULL; /* an operator's output: see its own input */
        for (int i = 0; i < p->n_sources; i++)
            if (sl_plan_table_is_changelog(&p->sources[i]))
                return &p->sources[i];
        return NULL;
    }
    return NULL;
}

bool sl_plan_is_updating(const sl_plan *plan)
{
    return (plan->agg && plan->agg->def.updating) ||
           sl_plan_changelog_source(plan) != NULL;
}

/* The operators of plan (this level: nested ones were checked when their
 * own query was planned) take append-only input. */
static int check_changelog_inputs(const sl_plan_env *env, const sl_query *query,
                                  const sl_plan *plan, sl_err *err)
{
    const sl_plan_table *t = NULL;
    const char *what = NULL;
    if (plan->agg && (t = sl_plan_changelog_source(plan->agg->input)))
        what = plan->agg->def.updating ? "a GROUP BY" : "a window aggregate";
    else if (plan->rank && (t = sl_plan_changelog_source(plan->rank->input)))
        what = "a window Top-N or deduplication";
    else if (plan->over && (t = sl_plan_changelog_source(plan->over->input)))
        what = "an OVER aggregate";
    for (int s = 0; s < 2 && !t && plan->join; s++)
        if ((t = sl_plan_changelog_source(plan->join->side[s])))
            what = "a join";
    if (!t)
        return SL_OK;
    return sl_sql_error(
        err, SL_UNSUPPORTED, env->sql, env->sql_len, query->pos.offset,
        "table '%s' (connector '%s') is read as a changelog (each record "
        "upserts or deletes its key: +U/-D rows), and %s over an updating "
        "input is not supported yet: it would take every update as a new "
        "row. Read the topic with the 'kafka' connector to get its records "
        "as append-only rows, or read it without %s",
        t->name, t->connector_name, what, what);
}

int sl_plan_query(const sl_plan_env *env, const sl_query *query,
                  sl_arena *arena, sl_plan *plan, sl_err *err)
{
    sl_rel rel;
    int rc = plan_passes(env, query, arena, plan, &rel, NULL, NULL, err);
    return rc ? rc : check_changelog_inputs(env, query, plan, err);
}

typedef struct insert_ctx {
    const sl_stmt *stmt;
    sl_plan_table *sink;
    int *target_of; /* sink column -> query column, -1: NULL */
} insert_ctx;

static int wrap_insert(sl_gen *g, const sl_rel *rel, const char *inner,
                       sl_buf *out, void *vctx)
{
    insert_ctx *ic = vctx;
    const sl_schema *ss = ic->sink->info.schema;
    sl_buf_puts(out, "SELECT ");
    for (int i = 0; i < ss->n_cols; i++) {
        if (i)
            sl_buf_puts(out, ", ");
        int q = ic->target_of[i];
        if (q < 0) {
            sl_buf_puts(out, "NULL");
            continue;
        }
        char ref[32];
        sl_snprintf(ref, sizeof(ref), "c%d", q);
        int rc =
            sl_gen_cast(g, ref, rel->types[q], ss->cols[i].type, false, out);
        if (rc)
            return rc;
    }
    if (g->with_row)
        sl_buf_printf(out, "%s_row", ss->n_cols ? ", " : "");
    sl_buf_printf(out, " FROM (%s)", inner);
    return out->rc;
}

int sl_plan_insert(const sl_plan_env *env, const sl_stmt *insert,
                   sl_arena *arena, sl_plan *plan, sl_plan_table *sink,
                   sl_err *err)
{
    char *name = sl_name_join(&insert->insert.table, arena);
    if (!name)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    sl_pos pos = insert->insert.table.pos;
    sl_cat_entry *e = sl_catalog_find(env->catalog, name, 0);
    if (!e || e->kind != SL_OBJ_TABLE) {
        const char *hint = sl_catalog_suggest(env->catalog, name, SL_OBJ_TABLE);
        if (e)
            return sl_sql_error(err, SL_SQL, env->sql, env->sql_len, pos.offset,
                                "cannot INSERT INTO %s '%s'",
                                sl_object_kind_name(e->kind), name);
        if (hint)
            return sl_sql_error(err, SL_SQL, env->sql, env->sql_len, pos.offset,
                                "table '%s' not found (did you mean '%s'?)",
                                name, hint);
        return sl_sql_error(err, SL_SQL, env->sql, env->sql_len, pos.offset,
                            "table '%s' not found", name);
    }
    int rc = sl_plan_table_info(env, e, true, arena, sink, err);
    if (rc) {
        char msg[SL_ERR_MSG_MAX];
        sl_strlcpy(msg, err->msg, sizeof(msg));
        sl_err_clear(err);
        return sl_sql_error(err, rc, env->sql, env->sql_len, pos.offset, "%s",
                            msg);
    }
    if (!sink->connector->open_sink)
        return sl_sql_error(err, SL_SQL, env->sql, env->sql_len, pos.offset,
                            "connector '%s' of table '%s' cannot be written "
                            "(it is a source only)",
                            sink->connector_name, name);
    /* plan the query once to learn its columns */
    sl_rel rel;
    sl_plan probe;
    rc = plan_passes(env, insert->insert.query, arena, &probe, &rel, NULL, NULL,
                     err);
    if (rc)
        return rc;
    const sl_schema *ss = sink->info.schema;
    int *target_of = sl_arena_alloc(arena, sizeof(int) * (ss->n_cols + 1));
    if (!target_of)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    int n_target =
        insert->insert.n_columns ? insert->insert.n_columns : ss->n_cols;
    if (rel.n != n_target) {
        sl_buf b;
        sl_buf_init(&b, 4096);
        sl_buf_puts(&b, "Query schema: [");
        for (int i = 0; i < rel.n; i++) {
            sl_buf_printf(&b, "%s%s: ", i ? ", " : "", rel.names[i]);
            sl_type_format(rel.types[i], &b);
        }
        sl_buf_puts(&b, "], sink schema: [");
        for (int i = 0; i < ss->n_cols; i++) {
            sl_buf_printf(&b, "%s%s: ", i ? ", " : "", ss->cols[i].name);
            sl_type_format(ss->cols[i].type, &b);
        }
        sl_buf_putc(&b, ']');
        rc = sl_sql_error(err, SL_SQL, env->sql, env->sql_len,
                          insert->insert.query->pos.offset,
                          "column count mismatch: the query produces %d "
                          "columns but table '%s' takes %d. %s",
                          rel.n, name, n_target, sl_buf_cstr(&b));
        sl_buf_free(&b);
        return rc;
    }
    for (int i = 0; i < ss->n_cols; i++)
        target_of[i] = insert->insert.n_columns ? -1 : i;
    for (int k = 0; k < insert->insert.n_columns; k++) {
        const sl_ident *id = &insert->insert.columns[k];
        char *cn = sl_arena_strndup(arena, id->text, id->len);
        int idx = -1;
        for (int i = 0; i < ss->n_cols; i++)
            if (!strcmp(ss->cols[i].name, cn))
                idx = i;
        if (idx < 0)
            return sl_sql_error(
                err, SL_SQL, env->sql, env->sql_len, id->pos.offset,
                "column '%s' not found in table '%s'", cn, name);
        target_of[idx] = k;
    }
    for (int i = 0; i < ss->n_cols; i++) {
        int q = target_of[i];
        if (q < 0) {
            if (ss->cols[i].type->not_null)
                return sl_sql_error(err, SL_SQL, env->sql, env->sql_len,
                                    pos.offset,
                                    "column '%s' of table '%s' is NOT NULL "
                                    "and gets no value",
                                    ss->cols[i].name, name);
            continue;
        }
        if (!sl_gen_assignable(rel.types[q], ss->cols[i].type)) {
            sl_buf a, b;
            sl_buf_init(&a, 256);
            sl_buf_init(&b, 256);
            sl_type_format(rel.types[q], &a);
            sl_type_format(ss->cols[i].type, &b);
            rc = sl_sql_error(err, SL_SQL, env->sql, env->sql_len,
                              insert->insert.query->pos.offset,
                              "incompatible types for sink column '%s' at "
                              "position %d: the query gives %s, the table "
                              "takes %s",
                              ss->cols[i].name, i + 1, sl_buf_cstr(&a),
                              sl_buf_cstr(&b));
            sl_buf_free(&a);
            sl_buf_free(&b);
            return rc;
        }
    }
    rc = check_changelog_inputs(env, insert->insert.query, &probe, err);
    if (rc)
        return rc;
    const sl_plan_table *chg = sl_plan_changelog_source(&probe);
    if (chg && !sink->connector->sink_accepts_updates)
        return sl_sql_error(
            err, SL_SQL, env->sql, env->sql_len, pos.offset,
            "table '%s' (connector '%s') is append-only and cannot take "
            "the updating result of this query: table '%s' (connector "
            "'%s') is read as a changelog, each record an upsert (+U) or a "
            "delete (-D) of its PRIMARY KEY. Write to a sink that accepts "
            "updates ('print', 'upsert-kafka'), or read the topic with the "
            "'kafka' connector to get its records as append-only rows",
            name, sink->connector_name, chg->name, chg->connector_name);
    if (probe.agg && probe.agg->def.updating &&
        !sink->connector->sink_accepts_updates)
        return sl_sql_error(
            err, SL_SQL, env->sql, env->sql_len, pos.offset,
            "table '%s' (connector '%s') is append-only and cannot take "
            "the updating result of this query: a GROUP BY without a window "
            "emits updates (-U/+U) whenever a group changes. Aggregate per "
            "window instead (GROUP BY window_start, window_end over "
            "TUMBLE/HOP/CUMULATE, which emits final rows), or write to a "
            "sink that accepts updates ('print', 'upsert-kafka')",
            name, sink->connector_name);
    insert_ctx ic = {insert, sink, target_of};
    rc = plan_passes(env, insert->insert.query, arena, plan, &rel, wrap_insert,
                     &ic, err);
    if (rc)
        return rc;
    plan->out_schema = (sl_schema *)ss;
    return SL_OK;
}
