/*
 * window.c: event time and aggregation in the planner.
 *
 *   - A table with `WATERMARK FOR ts AS expr` gets a time stage: SQL over
 *     the source batch returning (rowtime, watermark candidate) per row;
 *     the job sets each row's event time and tracks the watermark
 *     (runtime/watermark.h).
 *   - The window TVFs TUMBLE, HOP and CUMULATE render as FROM items that
 *     append window_start, window_end and window_time to each row of their
 *     TABLE argument (HOP and CUMULATE join a small VALUES list: one
 *     output row per window a row falls in). They are stateless.
 *   - A SELECT with GROUP BY or aggregates over a streaming input is cut
 *     at the aggregate operator (runtime/op_window.h), as ML_PREDICT is
 *     cut at the model operator: its FROM and WHERE become a sub-plan
 *     computing the group columns and aggregate arguments, and the select
 *     list and HAVING become the stage after the operator, in which group
 *     expressions and aggregate calls are replaced by the operator's
 *     output columns (sl_window_subst). GROUP BY window_start, window_end
 *     gives a window aggregate (final +I rows at the watermark); any other
 *     GROUP BY an updating aggregate (-U/+U changelog).
 */
#include <string.h>

#include "gen_int.h"
#include "late_sink.h"

#define MAX_WINDOWS_PER_ROW 1000 /* HOP size/slide, CUMULATE size/step */
#define MAX_AGGS            256
#define MAX_PARTITION_KEYS  64

/* A SESSION TVF renders each row's own window [ts, ts + gap), which only
 * the aggregate operator turns into sessions; so it is accepted only as
 * the FROM of a window aggregate. plan_agg plans that FROM with a copy of
 * the call whose name is this string (compared by address: no SQL text
 * can produce it). */
static const char session_agg_name[] = "SESSION";

typedef struct session_info {
    int64_t gap_ms;
    int n_partition;
    const sl_expr *partition[MAX_PARTITION_KEYS];
} session_info;

static const sl_type *ts_type(sl_gen *g, sl_type_id id)
{
    sl_type *t = sl_arena_alloc(g->arena, sizeof(*t));
    if (!t)
        return sl_type_simple(id);
    memset(t, 0, sizeof(*t));
    t->id = id;
    t->precision = 3;
    return t;
}

/* ---- the time stage ------------------------------------------------------
 */

int sl_window_time_sql(sl_gen *g, sl_cat_entry *entry, sl_plan_table *t)
{
    const sl_stmt *ct = entry->stmt;
    const sl_watermark *wmk = ct->create_table.watermark;
    sl_options *opts = t->info.options;
    if (opts && sl_options_has(opts, "scan.watermark.idle-timeout")) {
        const char *v = sl_options_get(opts, "scan.watermark.idle-timeout");
        int64_t ms = 0;
        if (!v || sl_parse_duration_ms(v, &ms) || ms < 0)
            return sl_err_set(g->err, SL_SQL,
                              "table '%s': option "
                              "'scan.watermark.idle-timeout' must be a "
                              "duration such as '5 s'",
                              entry->name);
        t->idle_timeout_ms = ms;
    }
    if (opts && sl_options_has(opts, "late-data.sink")) {
        /* read by the window operators' planning (late_plan) */
        const char *v = sl_options_get(opts, "late-data.sink");
        if (!wmk)
            return sl_err_set(g->err, SL_SQL,
                              "table '%s': option 'late-data.sink' needs a "
                              "WATERMARK (late rows are judged against it)",
                              entry->name);
        if (!v || !*v)
            return sl_err_set(g->err, SL_SQL,
                              "table '%s': option 'late-data.sink' must "
                              "name a table",
                              entry->name);
    }
    if (!wmk)
        return SL_OK;
    int n = ct->create_table.n_columns;
    const char *saved_text = g->text;
    size_t saved_len = g->text_len;
    g->text = entry->sql;
    g->text_len = strlen(entry->sql);
    sl_scope raw = {0, NULL, NULL}, all = {0, NULL, NULL};
    raw.cols = sl_arena_alloc(g->arena, sizeof(sl_rel_col) * (size_t)(n + 1));
    all.cols = sl_arena_alloc(g->arena, sizeof(sl_rel_col) * (size_t)(n + 1));
    if (!raw.cols || !all.cols)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    sl_buf inner, sql;
    sl_buf_init(&inner, 16u << 20);
    sl_buf_init(&sql, 16u << 20);
    int rc = SL_OK;
    for (int i = 0; i < n; i++) {
        const sl_column_def *c = &ct->create_table.columns[i];
        if (c->kind == SL_COL_COMPUTED)
            continue;
        sl_buf r;
        sl_buf_init(&r, 4096);
        sl_gen_ident(&r, sl_gen_ident_text(g, &c->name));
        raw.cols[raw.n++] =
            (sl_rel_col){sl_gen_ident_text(g, &c->name), NULL, c->type,
                         sl_arena_strndup(g->arena, sl_buf_cstr(&r), r.len)};
        sl_buf_free(&r);
    }
    sl_buf_puts(&inner, "SELECT ");
    for (int i = 0; i < n && !rc; i++) {
        const sl_column_def *c = &ct->create_table.columns[i];
        const sl_type *type = c->type;
        if (c->kind == SL_COL_COMPUTED) {
            sl_buf_putc(&inner, '(');
            rc = sl_gen_expr(g, &raw, c->expr, &inner, &type);
            sl_buf_putc(&inner, ')');
        } else {
            sl_gen_ident(&inner, sl_gen_ident_text(g, &c->name));
        }
        sl_buf_printf(&inner, " AS w%d, ", i);
        all.cols[all.n++] = (sl_rel_col){sl_gen_ident_text(g, &c->name), NULL,
                                         type, sl_gen_printf(g, "w%d", i)};
    }
    sl_buf_puts(&inner, "_row FROM {input}");
    char *rowtime = sl_name_join(&wmk->column, g->arena);
    int k = -1;
    for (int i = 0; i < all.n && rowtime; i++)
        if (!strcmp(all.cols[i].name, rowtime))
            k = i;
    if (!rc && k < 0)
        rc = sl_gen_error(g, SL_SQL, wmk->pos,
                          "WATERMARK FOR '%s': no such column",
                          rowtime ? rowtime : "?");
    if (!rc && all.cols[k].type->id != SL_TYPE_TIMESTAMP &&
        all.cols[k].type->id != SL_TYPE_TIMESTAMP_LTZ)
        rc = sl_gen_error(g, SL_SQL, wmk->pos,
                          "WATERMARK FOR '%s': the rowtime column must be "
                          "TIMESTAMP(3) or TIMESTAMP_LTZ(3), not %s",
                          rowtime, sl_gen_type_text(g, all.cols[k].type));
    const sl_type *wt = NULL;
    if (!rc) {
        sl_buf_printf(&sql, "SELECT %s AS c0, (", all.cols[k].ref);
        rc = sl_gen_expr(g, &all, wmk->expr, &sql, &wt);
    }
    if (!rc && wt->id != SL_TYPE_TIMESTAMP && wt->id != SL_TYPE_TIMESTAMP_LTZ)
        rc = sl_gen_error(g, SL_SQL, wmk->expr->pos,
                          "the WATERMARK expression must return a "
                          "timestamp, not %s",
                          sl_gen_type_text(g, wt));
    if (!rc) {
        sl_buf_printf(&sql, ") AS c1, _row FROM (%s)", sl_buf_cstr(&inner));
        if (sql.rc)
            rc = sl_err_set(g->err, SL_NOMEM, "out of memory");
    }
    if (!rc) {
        t->time_sql = sl_arena_strndup(g->arena, sql.data, sql.len);
        t->rowtime = rowtime;
        if (!t->time_sql)
            rc = sl_err_set(g->err, SL_NOMEM, "out of memory");
    }
    sl_buf_free(&inner);
    sl_buf_free(&sql);
    g->text = saved_text;
    g->text_len = saved_len;
    return rc;
}

/* ---- CURRENT_WATERMARK ----------------------------------------------------
 */

int sl_window_gen_current_watermark(sl_gen *g, const sl_scope *sc,
                                    const sl_expr *e, sl_buf *out,
                                    const sl_type **type)
{
    if (e->func.n_args != 1 || e->func.star || e->func.distinct)
        return sl_gen_error(g, SL_SQL, e->pos,
                            "CURRENT_WATERMARK takes one argument, the "
                            "rowtime column: CURRENT_WATERMARK(ts)");
    sl_buf scratch;
    sl_buf_init(&scratch, 64u << 20);
    const sl_type *at = NULL;
    int rc = sl_gen_expr(g, sc, e->func.args[0], &scratch, &at);
    sl_buf_free(&scratch);
    if (rc)
        return rc;
    if (at->id != SL_TYPE_TIMESTAMP && at->id != SL_TYPE_TIMESTAMP_LTZ)
        return sl_gen_error(g, SL_SQL, e->func.args[0]->pos,
                            "CURRENT_WATERMARK expects the rowtime column "
                            "(TIMESTAMP(3) or TIMESTAMP_LTZ(3)), not %s",
                            sl_gen_type_text(g, at));
    /* the job's watermark (watermark.h), read per row */
    sl_buf_puts(out, "\"sl_current_watermark\"()");
    *type = ts_type(g, at->id);
    return out->rc ? sl_err_set(g->err, out->rc, "query too large") : SL_OK;
}

/* ---- window TVFs -----------------------------------------------------------
 */

typedef struct tvf_args {
    const sl_expr *data, *timecol, *size, *slide, *offset;
} tvf_args;

static int tvf_collect(sl_gen *g, const sl_expr *call, const char *fname,
                       tvf_args *a)
{
    memset(a, 0, sizeof(*a));
    /* positional order per function */
    bool hop = sl_str_ieq(fname, "HOP");
    bool cum = sl_str_ieq(fname, "CUMULATE");
    bool ses = sl_str_ieq(fname, "SESSION");
    const sl_expr **pos[5];
    static const char *const hop_names[] = {"DATA", "TIMECOL", "SLIDE", "SIZE",
                                            "OFFSET"};
    static const char *const cum_names[] = {"DATA", "TIMECOL", "STEP", "SIZE",
                                            "OFFSET"};
    static const char *const tum_names[] = {"DATA", "TIMECOL", "SIZE", "OFFSET",
                                            NULL};
    static const char *const ses_names[] = {"DATA", "TIMECOL", "GAP", NULL,
                                            NULL};
    const char *const *names = hop   ? hop_names
                               : cum ? cum_names
                               : ses ? ses_names
                                     : tum_names;
    int max = (hop || cum) ? 5 : ses ? 3 : 4;
    pos[0] = &a->data;
    pos[1] = &a->timecol;
    if (hop || cum) {
        pos[2] = &a->slide;
        pos[3] = &a->size;
        pos[4] = &a->offset;
    } else {
        pos[2] = &a->size;
        pos[3] = &a->offset;
        pos[4] = NULL;
    }
    for (int i = 0; i < call->func.n_args; i++) {
        const sl_expr *e = call->func.args[i];
        int k = i;
        if (e->kind == SL_EXPR_NAMED_ARG) {
            k = -1;
            for (int j = 0; j < max; j++)
                if (names[j] && sl_str_nieq(e->named_arg.name.text,
                                            e->named_arg.name.len, names[j]))
                    k = j;
            if (k < 0)
                return sl_gen_error(
                    g, SL_SQL, e->pos, "%s has no argument named '%.*s'", fname,
                    (int)e->named_arg.name.len, e->named_arg.name.text);
            e = e->named_arg.value;
        }
        if (k >= max)
            return sl_gen_error(g, SL_SQL, e->pos,
                                "%s takes at most %d arguments", fname, max);
        if (*pos[k])
            return sl_gen_error(g, SL_SQL, e->pos, "%s argument %s given twice",
                                fname, names[k]);
        *pos[k] = e;
    }
    if (!a->data || a->data->kind != SL_EXPR_TABLE_ARG)
        return sl_gen_error(g, SL_SQL, a->data ? a->data->pos : call->pos,
                            "%s expects TABLE <name> as its first argument",
                            fname);
    if (!a->timecol || a->timecol->kind != SL_EXPR_DESCRIPTOR ||
        a->timecol->descriptor.n_columns != 1)
        return sl_gen_error(g, SL_SQL, a->timecol ? a->timecol->pos : call->pos,
                            "%s expects DESCRIPTOR(<time column>) as its "
                            "second argument",
                            fname);
    const sl_expr *iv[] = {a->size, a->slide, a->offset};
    for (int i = 0; i < 3; i++) {
        if (!iv[i])
            continue;
        if (iv[i]->kind != SL_EXPR_INTERVAL || iv[i]->interval.year_month)
            return sl_gen_error(g, SL_SQL, iv[i]->pos,
                                "%s expects a day-time INTERVAL literal here "
                                "(e.g. INTERVAL '10' SECOND)",
                                fname);
    }
    if (!a->size || ((hop || cum) && !a->slide))
        return sl_gen_error(
            g, SL_SQL, call->pos, "%s is missing its %s argument", fname,
            !a->size ? (ses ? "gap" : "size") : (hop ? "slide" : "step"));
    return SL_OK;
}

/* SESSION's PARTITION BY: columns of its input table. */
static int session_check_partition(sl_gen *g, const tvf_args *a,
                                   const sl_scope *isc)
{
    int np = a->data->table_arg.n_partition;
    if (np > MAX_PARTITION_KEYS)
        return sl_gen_error(g, SL_LIMIT, a->data->pos,
                            "SESSION: at most %d PARTITION BY columns",
                            MAX_PARTITION_KEYS);
    for (int i = 0; i < np; i++) {
        const sl_expr *p = a->data->table_arg.partition[i];
        if (p->kind != SL_EXPR_COLUMN || p->column.n_parts != 1)
            return sl_gen_error(g, SL_SQL, p->pos,
                                "SESSION: PARTITION BY takes column names "
                                "of the input table");
        char *name = sl_gen_ident_text(g, &p->column.parts[0]);
        bool found = false;
        for (int k = 0; k < isc->n && name; k++)
            found = found || !strcmp(isc->cols[k].name, name);
        if (!name || !found)
            return sl_gen_error(g, SL_SQL, p->pos,
                                "SESSION: PARTITION BY column '%s' not "
                                "found in the input table",
                                name ? name : "?");
    }
    return SL_OK;
}

int sl_window_gen_tvf(sl_gen *g, const sl_from *from, const char *alias,
                      sl_buf *out, sl_scope *sc)
{
    const sl_expr *call = from->table_func.call;
    char *fname = sl_name_join(&call->func.name, g->arena);
    if (!fname)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    for (char *p = fname; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    tvf_args a;
    int rc = tvf_collect(g, call, fname, &a);
    if (rc)
        return rc;
    bool ses = !strcmp(fname, "SESSION");
    if (ses && call->func.name.parts[0].text != session_agg_name)
        return sl_gen_error(g, SL_UNSUPPORTED, from->pos,
                            "a SESSION window is supported directly in the "
                            "FROM of a window aggregate (SELECT ... FROM "
                            "TABLE(SESSION(...)) GROUP BY window_start, "
                            "window_end [, partition keys]), not on its "
                            "own, in a view or under another operator");
    if (!ses && a.data->table_arg.n_partition)
        return sl_gen_error(g, SL_SQL, a.data->pos,
                            "PARTITION BY is only valid in SESSION windows");
    if (ses && a.offset)
        return sl_gen_error(g, SL_SQL, a.offset->pos,
                            "SESSION takes no offset");
    int64_t size = a.size->interval.millis;
    int64_t slide = a.slide ? a.slide->interval.millis : size;
    int64_t offset = a.offset ? a.offset->interval.millis : 0;
    if (size <= 0 || slide <= 0)
        return sl_gen_error(g, SL_SQL, (a.size ? a.size : call)->pos,
                            ses ? "%s: the gap must be positive"
                                : "%s: window size and slide must be "
                                  "positive",
                            fname);
    int n_win = 1;
    bool hop = !strcmp(fname, "HOP"), cum = !strcmp(fname, "CUMULATE");
    if (hop || cum) {
        if (size % slide)
            return sl_gen_error(g, SL_SQL, a.size->pos,
                                "%s: the size (%lld ms) must be a multiple "
                                "of the %s (%lld ms)",
                                fname, (long long)size, hop ? "slide" : "step",
                                (long long)slide);
        if (size / slide > MAX_WINDOWS_PER_ROW)
            return sl_gen_error(g, SL_LIMIT, a.size->pos,
                                "%s: at most %d windows per row (size / %s)",
                                fname, MAX_WINDOWS_PER_ROW,
                                hop ? "slide" : "step");
        n_win = (int)(size / slide);
    }
    /* the TABLE argument as a FROM item */
    sl_from tf;
    memset(&tf, 0, sizeof(tf));
    tf.kind = SL_FROM_TABLE;
    tf.pos = a.data->pos;
    tf.table.name = a.data->table_arg.name;
    sl_scope isc = {0, NULL, NULL};
    sl_buf inner;
    sl_buf_init(&inner, 64u << 20);
    rc = sl_gen_from(g, &tf, &inner, &isc);
    if (rc) {
        sl_buf_free(&inner);
        return rc;
    }
    char *tcname = sl_gen_ident_text(g, &a.timecol->descriptor.columns[0]);
    const sl_rel_col *tc = NULL;
    for (int i = 0; i < isc.n; i++)
        if (!strcmp(isc.cols[i].name, tcname))
            tc = &isc.cols[i];
    if (!tc) {
        sl_buf_free(&inner);
        return sl_gen_error(g, SL_SQL, a.timecol->pos,
                            "DESCRIPTOR column '%s' not found in the input "
                            "table",
                            tcname);
    }
    if (tc->type->id != SL_TYPE_TIMESTAMP &&
        tc->type->id != SL_TYPE_TIMESTAMP_LTZ) {
        sl_buf_free(&inner);
        return sl_gen_error(g, SL_SQL, a.timecol->pos,
                            "the time column '%s' of %s must be a "
                            "TIMESTAMP(3) or TIMESTAMP_LTZ(3), not %s",
                            tcname, fname, sl_gen_type_text(g, tc->type));
    }
    if (ses) {
        rc = session_check_partition(g, &a, &isc);
        if (rc) {
            sl_buf_free(&inner);
            return rc;
        }
    }
    const char *talias = sl_gen_printf(g, "t%d", g->alias_seq++);
    int n = isc.n;
    sl_rel_col *cols =
        sl_arena_alloc(g->arena, sizeof(*cols) * (size_t)(n + 4));
    if (!talias || !cols) {
        sl_buf_free(&inner);
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    }
    const char *t = tc->ref;
    /* floor of (t - offset) to a multiple of m, plus offset */
    sl_buf ws;
    sl_buf_init(&ws, 1 << 16);
    int64_t m = hop ? slide : size;
    sl_buf_printf(&ws, "(%s - (((%s - %lld) %% %lld) + %lld) %% %lld)", t, t,
                  (long long)offset, (long long)m, (long long)m, (long long)m);
    sl_buf_puts(out, "(SELECT ");
    for (int i = 0; i < n; i++) {
        sl_buf_printf(out, "%s AS c%d, ", isc.cols[i].ref, i);
        cols[i] = (sl_rel_col){isc.cols[i].name, alias, isc.cols[i].type,
                               sl_gen_printf(g, "%s.c%d", talias, i)};
    }
    const char *start, *end;
    if (ses) {
        /* each row's own window [ts, ts + gap); the aggregate operator
         * merges them into sessions */
        start = sl_gen_printf(g, "%s", t);
        end = sl_gen_printf(g, "%s + %lld", t, (long long)size);
    } else if (hop) {
        start = sl_gen_printf(g, "(%s - _wj.column1 * %lld)", sl_buf_cstr(&ws),
                              (long long)slide);
        end = sl_gen_printf(g, "%s + %lld", start, (long long)size);
    } else if (cum) {
        start = sl_gen_printf(g, "%s", sl_buf_cstr(&ws));
        end = sl_gen_printf(g, "(%s + (_wj.column1 + 1) * %lld)", start,
                            (long long)slide);
    } else {
        start = sl_gen_printf(g, "%s", sl_buf_cstr(&ws));
        end = sl_gen_printf(g, "%s + %lld", start, (long long)size);
    }
    sl_buf_free(&ws);
    if (!start || !end) {
        sl_buf_free(&inner);
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    }
    sl_buf_printf(out, "%s AS c%d, %s AS c%d, %s - 1 AS c%d", start, n, end,
                  n + 1, end, n + 2);
    if (g->with_row)
        sl_buf_printf(out, ", %s AS _row", isc.row_ref ? isc.row_ref : "NULL");
    sl_buf_puts(out, " FROM ");
    sl_buf_append(out, inner.data, inner.len);
    sl_buf_free(&inner);
    if (n_win > 1 || cum) {
        sl_buf_puts(out, " JOIN (VALUES ");
        for (int j = 0; j < n_win; j++)
            sl_buf_printf(out, "%s(%d)", j ? ", " : "", j);
        sl_buf_puts(out, ") AS _wj");
    }
    sl_buf_printf(out, " WHERE %s IS NOT NULL", t);
    if (cum)
        sl_buf_printf(out, " AND %s > %s", end, t);
    sl_buf_printf(out, ") AS %s", talias);
    cols[n] = (sl_rel_col){"window_start", alias, ts_type(g, SL_TYPE_TIMESTAMP),
                           sl_gen_printf(g, "%s.c%d", talias, n)};
    cols[n + 1] =
        (sl_rel_col){"window_end", alias, ts_type(g, SL_TYPE_TIMESTAMP),
                     sl_gen_printf(g, "%s.c%d", talias, n + 1)};
    cols[n + 2] = (sl_rel_col){"window_time", alias, ts_type(g, tc->type->id),
                               sl_gen_printf(g, "%s.c%d", talias, n + 2)};
    sc->n = n + 3;
    sc->cols = cols;
    sc->row_ref = g->with_row ? sl_gen_printf(g, "%s._row", talias) : NULL;
    return out->rc ? sl_err_set(g->err, out->rc, "query too large") : SL_OK;
}

/* ---- aggregation -----------------------------------------------------------
 */

typedef struct agg_list {
    int n;
    const sl_expr *calls[MAX_AGGS];
} agg_list;

static int collect_aggs(sl_gen *g, const sl_expr *e, agg_list *l, int depth)
{
    if (!e)
        return SL_OK;
    if (depth > 256)
        return sl_gen_error(g, SL_LIMIT, e->pos, "expression nests too deep");
    if (sl_gen_is_aggregate(e)) {
        for (int i = 0; i < e->func.n_args; i++)
            if (sl_gen_has_aggregate(e->func.args[i]))
                return sl_gen_error(g, SL_SQL, e->func.args[i]->pos,
                                    "aggregate calls cannot be nested");
        for (int i = 0; i < l->n; i++)
            if (sl_ast_expr_equal(l->calls[i], e))
                return SL_OK;
        if (l->n >= MAX_AGGS)
            return sl_gen_error(g, SL_LIMIT, e->pos,
                                "at most %d aggregates per query", MAX_AGGS);
        l->calls[l->n++] = e;
        return SL_OK;
    }
    int rc = SL_OK;
    switch (e->kind) {
    case SL_EXPR_FUNC:
        for (int i = 0; i < e->func.n_args && !rc; i++)
            rc = collect_aggs(g, e->func.args[i], l, depth + 1);
        break;
    case SL_EXPR_UNARY:
        rc = collect_aggs(g, e->unary.operand, l, depth + 1);
        break;
    case SL_EXPR_BINARY:
        rc = collect_aggs(g, e->binary.left, l, depth + 1);
        if (!rc)
            rc = collect_aggs(g, e->binary.right, l, depth + 1);
        break;
    case SL_EXPR_CASE:
        rc = collect_aggs(g, e->case_.operand, l, depth + 1);
        for (int i = 0; i < e->case_.n_whens && !rc; i++) {
            rc = collect_aggs(g, e->case_.whens[i], l, depth + 1);
            if (!rc)
                rc = collect_aggs(g, e->case_.thens[i], l, depth + 1);
        }
        if (!rc)
            rc = collect_aggs(g, e->case_.else_, l, depth + 1);
        break;
    case SL_EXPR_CAST:
        rc = collect_aggs(g, e->cast.operand, l, depth + 1);
        break;
    case SL_EXPR_IN_LIST:
        rc = collect_aggs(g, e->in_list.operand, l, depth + 1);
        for (int i = 0; i < e->in_list.n_items && !rc; i++)
            rc = collect_aggs(g, e->in_list.items[i], l, depth + 1);
        break;
    case SL_EXPR_BETWEEN:
        rc = collect_aggs(g, e->between.operand, l, depth + 1);
        if (!rc)
            rc = collect_aggs(g, e->between.low, l, depth + 1);
        if (!rc)
            rc = collect_aggs(g, e->between.high, l, depth + 1);
        break;
    case SL_EXPR_IS:
        rc = collect_aggs(g, e->is.operand, l, depth + 1);
        if (!rc)
            rc = collect_aggs(g, e->is.rhs, l, depth + 1);
        break;
    case SL_EXPR_LIKE:
        rc = collect_aggs(g, e->like.operand, l, depth + 1);
        break;
    default:
        break;
    }
    return rc;
}

bool sl_window_wants_agg(const sl_gen *g, const sl_query *q)
{
    const sl_select *s = &q->select;
    if (!g->with_row || !s->from || g->n_wsubst)
        return false;
    if (s->n_group || s->having)
        return true;
    for (int i = 0; i < s->n_items; i++)
        if (sl_gen_has_aggregate(s->items[i].expr))
            return true;
    return false;
}

static bool column_named(const sl_expr *e, const char *name)
{
    if (e->kind != SL_EXPR_COLUMN)
        return false;
    const sl_ident *last = &e->column.parts[e->column.n_parts - 1];
    return sl_str_nieq(last->text, last->len, name);
}

static const char *agg_name(const sl_expr *e)
{
    return e->func.name.n_parts == 1 ? e->func.name.parts[0].text : "";
}

/* One percentage of PERCENTILE: a numeric literal in [0, 1]. */
static int percentage_one(sl_gen *g, const sl_expr *e, sl_buf *out)
{
    bool neg = false;
    if (e->kind == SL_EXPR_UNARY && e->unary.op == SL_UNARY_NEG) {
        neg = true;
        e = e->unary.operand;
    }
    double d = 0;
    if (e->kind != SL_EXPR_LITERAL ||
        (e->lit.kind != SL_LIT_INT && e->lit.kind != SL_LIT_DECIMAL &&
         e->lit.kind != SL_LIT_DOUBLE) ||
        sl_parse_double(e->lit.text, e->lit.text_len, &d))
        return sl_gen_error(g, SL_SQL, e->pos,
                            "PERCENTILE's percentage must be a numeric "
                            "literal between 0 and 1, or an ARRAY of them");
    if (neg)
        d = -d;
    if (!(d >= 0.0 && d <= 1.0))
        return sl_gen_error(g, SL_SQL, e->pos,
                            "PERCENTILE's percentage must be between 0 and 1, "
                            "got %s%.*s",
                            neg ? "-" : "", (int)e->lit.text_len, e->lit.text);
    if (out)
        sl_buf_printf(out, "%.17g", d);
    return SL_OK;
}

/* PERCENTILE's percentage as SQL for sl_percentile (fn_agg.c): a number,
 * or a JSON array of numbers as a string literal; out NULL: check only. */
static int percentage_sql(sl_gen *g, const sl_expr *e, sl_buf *out)
{
    if (e->kind != SL_EXPR_ARRAY)
        return percentage_one(g, e, out);
    if (e->list.n_items == 0 || e->list.n_items > 100)
        return sl_gen_error(g, SL_SQL, e->pos,
                            "PERCENTILE takes an ARRAY of 1 to 100 "
                            "percentages, got %d",
                            e->list.n_items);
    if (out)
        sl_buf_puts(out, "'[");
    for (int i = 0; i < e->list.n_items; i++) {
        if (out && i)
            sl_buf_putc(out, ',');
        int rc = percentage_one(g, e->list.items[i], out);
        if (rc)
            return rc;
    }
    if (out)
        sl_buf_puts(out, "]'");
    return SL_OK;
}

/* The aggregate definition of call i (args at input column arg). */
static int agg_kind(sl_gen *g, const sl_expr *e, sl_agg_kind *kind)
{
    const sl_ident *nm = &e->func.name.parts[e->func.name.n_parts - 1];
    if (e->func.filter)
        return sl_gen_error(g, SL_UNSUPPORTED, e->pos,
                            "FILTER (WHERE ...) on a streaming aggregate is "
                            "not supported yet");
    if (sl_str_nieq(nm->text, nm->len, "COUNT")) {
        if (e->func.star || e->func.n_args == 0)
            *kind = SL_AGG_COUNT_STAR;
        else
            *kind = e->func.distinct ? SL_AGG_COUNT_DISTINCT : SL_AGG_COUNT;
    } else if (sl_str_nieq(nm->text, nm->len, "SUM")) {
        *kind = e->func.distinct ? SL_AGG_SUM_DISTINCT : SL_AGG_SUM;
    } else if (sl_str_nieq(nm->text, nm->len, "MIN")) {
        *kind = SL_AGG_MIN;
    } else if (sl_str_nieq(nm->text, nm->len, "MAX")) {
        *kind = SL_AGG_MAX;
    } else if (sl_str_nieq(nm->text, nm->len, "AVG")) {
        if (e->func.distinct)
            return sl_gen_error(g, SL_UNSUPPORTED, e->pos,
                                "AVG(DISTINCT ...) is not supported yet");
        *kind = SL_AGG_AVG;
    } else if (sl_str_nieq(nm->text, nm->len, "LISTAGG")) {
        *kind = SL_AGG_LISTAGG;
    } else if (sl_str_nieq(nm->text, nm->len, "PERCENTILE")) {
        if (e->func.distinct)
            return sl_gen_error(g, SL_UNSUPPORTED, e->pos,
                                "PERCENTILE(DISTINCT ...) is not supported "
                                "yet");
        *kind = SL_AGG_PERCENTILE;
        if (e->func.n_args != 2 && e->func.n_args != 3)
            return sl_gen_error(g, SL_SQL, e->pos,
                                "PERCENTILE takes 2 or 3 arguments (value, "
                                "percentage [, frequency]), got %d",
                                e->func.n_args);
        return percentage_sql(g, e->func.args[1], NULL);
    } else {
        return sl_gen_error(g, SL_UNSUPPORTED, e->pos,
                            "aggregate %.*s is not supported on streaming "
                            "tables yet (COUNT, SUM, MIN, MAX, AVG, LISTAGG, "
                            "COUNT(DISTINCT), PERCENTILE are)",
                            (int)nm->len, nm->text);
    }
    int want = *kind == SL_AGG_COUNT_STAR ? 0 : 1;
    if (*kind == SL_AGG_LISTAGG && e->func.n_args == 2) {
        const sl_expr *sep = e->func.args[1];
        if (sep->kind != SL_EXPR_LITERAL || sep->lit.kind != SL_LIT_STRING)
            return sl_gen_error(g, SL_SQL, sep->pos,
                                "LISTAGG's separator must be a string "
                                "literal");
        want = 2;
    }
    if (e->func.n_args != want)
        return sl_gen_error(g, SL_SQL, e->pos, "%s takes %d argument%s",
                            agg_name(e), want == 2 ? 1 : want,
                            want == 1 ? "" : "s");
    return SL_OK;
}

/* 'late-data.sink' = 'name' on the table (with the WATERMARK) a window
 * operator reads: the operator writes the rows it drops as late to that
 * table. Its columns are filled by name from the columns visible in the
 * window query's FROM (the table's columns, window_start, ...): they are
 * appended to the sub-query's select list (*pq grows, *sub is planned
 * again) and recorded as *late and *late_map (column i of the table <-
 * input column late_map[i]). */
static int late_plan(sl_gen *g, sl_query *pq, sl_plan *sub,
                     sl_plan_table **late, int **late_map)
{
    *late = NULL;
    *late_map = NULL;
    const char *name = NULL, *src = NULL;
    for (int i = 0; i < sub->n_sources; i++) {
        sl_options *o = sub->sources[i].info.options;
        const char *v = o && sl_options_has(o, "late-data.sink")
                            ? sl_options_get(o, "late-data.sink")
                            : NULL;
        if (!v)
            continue;
        if (name && strcmp(name, v))
            return sl_gen_error(g, SL_SQL, pq->pos,
                                "tables '%s' and '%s' name different "
                                "'late-data.sink' tables for one window "
                                "operator",
                                src, sub->sources[i].name);
        name = v;
        src = sub->sources[i].name;
    }
    if (!name)
        return SL_OK;
    sl_cat_entry *e = sl_catalog_find(g->env->catalog, name, SL_OBJ_TABLE);
    if (!e)
        return sl_gen_error(g, SL_SQL, pq->pos,
                            "table '%s': 'late-data.sink' table '%s' not "
                            "found",
                            src, name);
    sl_plan_table *t = sl_arena_alloc(g->arena, sizeof(*t));
    if (!t)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    int rc = sl_plan_table_info(g->env, e, true, g->arena, t, g->err);
    if (rc)
        return rc;
    if (!t->connector->open_sink)
        return sl_gen_error(g, SL_SQL, pq->pos,
                            "table '%s': 'late-data.sink' table '%s' cannot "
                            "be written (connector '%s' is a source only)",
                            src, name, t->connector_name);
    for (int i = 0; i < sub->n_sources; i++)
        if (sl_str_ieq(sub->sources[i].name, name))
            return sl_gen_error(g, SL_SQL, pq->pos,
                                "table '%s': 'late-data.sink' cannot be a "
                                "table the query reads",
                                src);
    const sl_schema *ls = t->info.schema;
    int n0 = pq->select.n_items;
    sl_select_item *items = sl_arena_alloc(
        g->arena, sizeof(*items) * (size_t)(n0 + ls->n_cols + 1));
    int *map = sl_arena_alloc(g->arena, sizeof(int) * (size_t)(ls->n_cols + 1));
    if (!items || !map)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    memcpy(items, pq->select.items, sizeof(*items) * (size_t)n0);
    for (int c = 0; c < ls->n_cols; c++) {
        sl_expr *col = sl_arena_alloc(g->arena, sizeof(*col));
        sl_ident *id = sl_arena_alloc(g->arena, sizeof(*id));
        if (!col || !id)
            return sl_err_set(g->err, SL_NOMEM, "out of memory");
        memset(col, 0, sizeof(*col));
        memset(id, 0, sizeof(*id));
        id->text = ls->cols[c].name;
        id->len = strlen(ls->cols[c].name);
        id->quoted = true;
        id->pos = pq->pos;
        col->kind = SL_EXPR_COLUMN;
        col->pos = pq->pos;
        col->column.n_parts = 1;
        col->column.parts = id;
        items[n0 + c] = (sl_select_item){col, NULL};
        map[c] = n0 + c;
    }
    pq->select.items = items;
    pq->select.n_items = n0 + ls->n_cols;
    sl_plan_env env = {g->env->catalog, g->text, g->text_len};
    rc = sl_plan_query(&env, pq, g->arena, sub, g->err);
    if (rc) {
        /* the inner message without its position and excerpt */
        char msg[SL_ERR_MSG_MAX];
        const char *m = g->err->msg;
        while ((*m >= '0' && *m <= '9') || *m == ':')
            m++;
        while (*m == ' ')
            m++;
        sl_strlcpy(msg, m, sizeof(msg));
        char *nl = strchr(msg, '\n');
        if (nl)
            *nl = '\0';
        sl_err_clear(g->err);
        return sl_gen_error(g, SL_SQL, pq->pos,
                            "table '%s': 'late-data.sink' table '%s': its "
                            "columns are filled by name from the window "
                            "query's input: %s",
                            src, name, msg);
    }
    for (int c = 0; c < ls->n_cols; c++) {
        const sl_type *from = sub->out_schema->cols[n0 + c].type;
        const sl_type *to = ls->cols[c].type;
        if (sl_type_storage(from) != sl_type_storage(to) ||
            !sl_gen_assignable(from, to))
            return sl_gen_error(g, SL_SQL, pq->pos,
                                "table '%s': 'late-data.sink' table '%s': "
                                "column '%s' is %s, the input's is %s",
                                src, name, ls->cols[c].name,
                                sl_gen_type_text(g, to),
                                sl_gen_type_text(g, from));
    }
    *late = t;
    *late_map = map;
    return SL_OK;
}

/* Open the late sink of an operator (see late_plan). */
static int late_open(const sl_plan_table *t, const int *map, sl_late_sink **out,
                     sl_err *err)
{
    *out = NULL;
    sl_sink *sink = NULL;
    int rc = t->connector->open_sink(&t->info, &sink, err);
    if (rc) {
        char msg[SL_ERR_MSG_MAX];
        sl_strlcpy(msg, err->msg, sizeof(msg));
        return sl_err_reset(err, rc, "'late-data.sink' table '%s': %s", t->name,
                            msg);
    }
    return sl_late_sink_new(sink, t->info.schema, map, out, err);
}

/* A SESSION window aggregate groups by window_start, window_end and
 * exactly the SESSION's PARTITION BY columns: sessions are formed per
 * partition key, so other keys would split or mix them. */
static int session_check_keys(sl_gen *g, const sl_query *q,
                              const session_info *wsub, int ws, int we)
{
    const sl_select *s = &q->select;
    if (ws < 0 || we < 0)
        return sl_gen_error(g, SL_SQL, q->pos,
                            "a SESSION window must be aggregated with "
                            "GROUP BY window_start, window_end [, its "
                            "PARTITION BY columns]");
    int matched = 0;
    for (int i = 0; i < s->n_group; i++) {
        if (i == ws || i == we)
            continue;
        const sl_expr *e = s->group_by[i];
        int hit = -1;
        for (int k = 0; k < wsub->n_partition; k++) {
            const sl_ident *p = &wsub->partition[k]->column.parts[0];
            if (e->kind == SL_EXPR_COLUMN &&
                sl_str_nieq(e->column.parts[e->column.n_parts - 1].text,
                            e->column.parts[e->column.n_parts - 1].len,
                            sl_arena_strndup(g->arena, p->text, p->len)))
                hit = k;
        }
        if (hit < 0)
            return sl_gen_error(g, SL_SQL, e->pos,
                                "GROUP BY over a SESSION window takes "
                                "window_start, window_end and the "
                                "SESSION's PARTITION BY columns only "
                                "(sessions are formed per partition key); "
                                "add this column to PARTITION BY");
        matched++;
    }
    if (matched != wsub->n_partition)
        return sl_gen_error(g, SL_SQL, q->pos,
                            "GROUP BY over a SESSION window must list "
                            "every PARTITION BY column of the SESSION "
                            "(once)");
    return SL_OK;
}

/* A FROM that is TABLE(SESSION(...)) [alias]: *out becomes a copy whose
 * call carries session_agg_name (so the TVF renders), *is_ses true and
 * ses its gap and PARTITION BY columns. Else *out = from. */
static int session_from(sl_gen *g, sl_from *from, sl_from **out,
                        session_info *ses, bool *is_ses)
{
    *out = from;
    *is_ses = false;
    if (!from || from->kind != SL_FROM_TABLE_FUNC)
        return SL_OK;
    const sl_expr *call = from->table_func.call;
    if (call->func.name.n_parts != 1 ||
        !sl_str_nieq(call->func.name.parts[0].text,
                     call->func.name.parts[0].len, "SESSION"))
        return SL_OK;
    tvf_args a;
    int rc = tvf_collect(g, call, "SESSION", &a);
    if (rc)
        return rc;
    int np = a.data->table_arg.n_partition;
    if (np > MAX_PARTITION_KEYS)
        return sl_gen_error(g, SL_LIMIT, a.data->pos,
                            "SESSION: at most %d PARTITION BY columns",
                            MAX_PARTITION_KEYS);
    for (int i = 0; i < np; i++) {
        const sl_expr *p = a.data->table_arg.partition[i];
        if (p->kind != SL_EXPR_COLUMN || p->column.n_parts != 1)
            return sl_gen_error(g, SL_SQL, p->pos,
                                "SESSION: PARTITION BY takes column names "
                                "of the input table");
        ses->partition[i] = p;
    }
    ses->n_partition = np;
    ses->gap_ms = a.size->interval.millis;
    sl_from *f = sl_arena_alloc(g->arena, sizeof(*f));
    sl_expr *c = sl_arena_alloc(g->arena, sizeof(*c));
    sl_ident *part = sl_arena_alloc(g->arena, sizeof(*part));
    if (!f || !c || !part)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    *f = *from;
    *c = *call;
    *part = call->func.name.parts[0];
    part->text = session_agg_name;
    part->len = sizeof(session_agg_name) - 1;
    c->func.name.parts = part;
    f->table_func.call = c;
    *out = f;
    *is_ses = true;
    return SL_OK;
}

/* Build the sub-plan and the operator definition (first pass). */
static int plan_agg(sl_gen *g, const sl_query *q, const agg_list *aggs)
{
    const sl_select *s = &q->select;
    int n_keys = s->n_group, n_aggs = aggs->n;
    sl_plan_agg *pa = sl_arena_alloc(g->arena, sizeof(*pa));
    sl_plan *sub = sl_arena_alloc(g->arena, sizeof(*sub));
    sl_select_item *items = sl_arena_alloc(
        g->arena, sizeof(*items) * (size_t)(n_keys + 2 * n_aggs + 1));
    sl_query *pq = sl_arena_alloc(g->arena, sizeof(*pq));
    sl_agg_def *defs =
        sl_arena_alloc(g->arena, sizeof(*defs) * (size_t)(n_aggs + 1));
    sl_expr *one = sl_arena_alloc(g->arena, sizeof(*one));
    if (!pa || !sub || !items || !pq || !defs || !one)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    memset(pa, 0, sizeof(*pa));
    memset(pq, 0, sizeof(*pq));
    memset(one, 0, sizeof(*one));
    one->kind = SL_EXPR_LITERAL;
    one->pos = q->pos;
    one->lit.kind = SL_LIT_INT;
    one->lit.text = "1";
    one->lit.text_len = 1;
    one->lit.i = 1;
    one->lit.i_valid = true;
    int ws = -1, we = -1;
    for (int i = 0; i < n_keys; i++) {
        const sl_expr *e = s->group_by[i];
        if (e->kind == SL_EXPR_FUNC && !sl_gen_is_aggregate(e) &&
            e->func.name.n_parts == 1 &&
            (sl_str_nieq(e->func.name.parts[0].text, e->func.name.parts[0].len,
                         "ROLLUP") ||
             sl_str_nieq(e->func.name.parts[0].text, e->func.name.parts[0].len,
                         "CUBE") ||
             sl_str_nieq(e->func.name.parts[0].text, e->func.name.parts[0].len,
                         "GROUPING SETS")))
            return sl_gen_error(g, SL_UNSUPPORTED, e->pos,
                                "ROLLUP, CUBE and GROUPING SETS are not "
                                "supported on streaming tables yet");
        if (sl_gen_has_aggregate(e))
            return sl_gen_error(g, SL_SQL, e->pos,
                                "aggregate functions are not allowed in "
                                "GROUP BY");
        if (column_named(e, "window_start") ||
            sl_join_col_is_window(g, s->from, e, 0))
            ws = i;
        if (column_named(e, "window_end") ||
            sl_join_col_is_window(g, s->from, e, 1))
            we = i;
        items[i].expr = (sl_expr *)e;
        items[i].alias = NULL;
    }
    if ((ws < 0) != (we < 0))
        return sl_gen_error(g, SL_SQL, q->pos,
                            "a window aggregate must GROUP BY both "
                            "window_start and window_end");
    int n_freq = 0; /* PERCENTILE frequencies, input columns after aggs */
    for (int i = 0; i < n_aggs; i++) {
        const sl_expr *e = aggs->calls[i];
        sl_agg_kind kind = SL_AGG_COUNT_STAR;
        int rc = agg_kind(g, e, &kind);
        if (rc)
            return rc;
        defs[i].kind = kind;
        defs[i].arg = kind == SL_AGG_COUNT_STAR ? -1 : n_keys + i;
        defs[i].sep = NULL;
        if (kind == SL_AGG_LISTAGG && e->func.n_args == 2)
            defs[i].sep = sl_arena_strndup(g->arena, e->func.args[1]->lit.text,
                                           e->func.args[1]->lit.text_len);
        defs[i].pct = NULL;
        defs[i].freq = 0;
        if (kind == SL_AGG_PERCENTILE) {
            sl_buf pb;
            sl_buf_init(&pb, 4096);
            rc = percentage_sql(g, e->func.args[1], &pb);
            defs[i].pct = rc || pb.rc
                              ? NULL
                              : sl_arena_strndup(g->arena, pb.data, pb.len);
            sl_buf_free(&pb);
            if (rc)
                return rc;
            if (!defs[i].pct)
                return sl_err_set(g->err, SL_NOMEM, "out of memory");
            if (e->func.n_args == 3) { /* the frequency: after the aggs */
                items[n_keys + n_aggs + n_freq].expr = e->func.args[2];
                items[n_keys + n_aggs + n_freq].alias = NULL;
                defs[i].freq = n_keys + n_aggs + n_freq + 1;
                n_freq++;
            }
        }
        items[n_keys + i].expr =
            kind == SL_AGG_COUNT_STAR ? one : e->func.args[0];
        items[n_keys + i].alias = NULL;
    }
    pq->kind = SL_QUERY_SELECT;
    pq->pos = q->pos;
    pq->select.n_items = n_keys + n_aggs + n_freq;
    pq->select.items = items;
    pq->select.from = s->from;
    pq->select.where = s->where;
    if (n_keys + n_aggs == 0)
        return sl_gen_error(g, SL_SQL, q->pos, "nothing to aggregate");
    session_info ses;
    bool is_ses = false;
    int rc = session_from(g, s->from, &pq->select.from, &ses, &is_ses);
    if (!rc && is_ses)
        rc = session_check_keys(g, q, &ses, ws, we);
    if (rc)
        return rc;
    sl_plan_env env = {g->env->catalog, g->text, g->text_len};
    rc = sl_plan_query(&env, pq, g->arena, sub, g->err);
    if (rc)
        return rc;
    if (sub->is_static)
        return SL_UNSUPPORTED; /* VALUES: runs statically */
    if (is_ses)
        pa->def.session_gap_ms = ses.gap_ms;
    if (ws >= 0) {
        rc = late_plan(g, pq, sub, &pa->late, &pa->late_map);
        if (rc)
            return rc;
    }
    if (sub->model) /* over an aggregate or a join: join.c builds it */
        return sl_gen_error(g, SL_UNSUPPORTED, q->pos,
                            "an aggregate over ML_PREDICT is not supported "
                            "yet");
    pa->input = sub;
    pa->in_schema = sub->out_schema;
    const sl_schema *in = sub->out_schema;
    const char **names = sl_arena_alloc(
        g->arena, sizeof(char *) * (size_t)(n_keys + n_aggs + 1));
    const sl_type **types = sl_arena_alloc(
        g->arena, sizeof(void *) * (size_t)(n_keys + n_aggs + 1));
    if (!names || !types)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    for (int i = 0; i < n_keys; i++) {
        names[i] = in->cols[i].name;
        types[i] = in->cols[i].type;
        for (int k = 0; k < i; k++)
            if (sl_str_ieq(names[k], names[i]) || !strncmp(names[i], "agg", 3))
                names[i] = sl_gen_printf(g, "k%d", i);
    }
    for (int i = 0; i < n_aggs; i++) {
        names[n_keys + i] = sl_gen_printf(g, "agg%d", i);
        const sl_type *at = in->cols[n_keys + i].type;
        switch (defs[i].kind) {
        case SL_AGG_COUNT_STAR:
        case SL_AGG_COUNT:
        case SL_AGG_COUNT_DISTINCT:
            types[n_keys + i] = sl_type_simple(SL_TYPE_BIGINT);
            break;
        case SL_AGG_LISTAGG:
            types[n_keys + i] = sl_type_simple(SL_TYPE_VARCHAR);
            break;
        case SL_AGG_PERCENTILE: {
            if (!sl_type_is_numeric(at))
                return sl_gen_error(g, SL_SQL, aggs->calls[i]->pos,
                                    "PERCENTILE needs a numeric argument, "
                                    "got %s",
                                    sl_gen_type_text(g, at));
            const sl_type *dbl = sl_type_simple(SL_TYPE_DOUBLE);
            if (defs[i].pct && defs[i].pct[0] == '\'') {
                sl_type *t = sl_arena_alloc(g->arena, sizeof(*t));
                if (!t)
                    return sl_err_set(g->err, SL_NOMEM, "out of memory");
                memset(t, 0, sizeof(*t));
                t->id = SL_TYPE_ARRAY;
                t->elem = dbl;
                dbl = t;
            }
            types[n_keys + i] = dbl;
            if (defs[i].freq > 0) {
                const sl_type *ft = in->cols[defs[i].freq - 1].type;
                if (!sl_type_is_integer(ft))
                    return sl_gen_error(g, SL_SQL,
                                        aggs->calls[i]->func.args[2]->pos,
                                        "PERCENTILE's frequency must be an "
                                        "integer, got %s",
                                        sl_gen_type_text(g, ft));
            }
            break;
        }
        default:
            if ((defs[i].kind == SL_AGG_SUM || defs[i].kind == SL_AGG_AVG ||
                 defs[i].kind == SL_AGG_SUM_DISTINCT) &&
                !sl_type_is_numeric(at))
                return sl_gen_error(g, SL_SQL, aggs->calls[i]->pos,
                                    "%s needs a numeric argument, got %s",
                                    agg_name(aggs->calls[i]),
                                    sl_gen_type_text(g, at));
            if (at->not_null) {
                sl_type *t = sl_arena_alloc(g->arena, sizeof(*t));
                if (!t)
                    return sl_err_set(g->err, SL_NOMEM, "out of memory");
                *t = *at;
                t->not_null = false;
                at = t;
            }
            types[n_keys + i] = at;
        }
    }
    pa->out_schema = sl_schema_new(g->arena, n_keys + n_aggs, names, types);
    if (!pa->out_schema)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    pa->aggs = defs;
    pa->def.updating = ws < 0;
    pa->def.ws_col = ws;
    pa->def.we_col = we;
    pa->def.n_keys = n_keys;
    pa->def.n_aggs = n_aggs;
    pa->def.aggs = defs;
    if (ws >= 0)
        pa->window = "window_start, window_end";
    g->plan->agg = pa;
    memset(&g->plan->sources[0], 0, sizeof(g->plan->sources[0]));
    g->plan->sources[0].name = ws >= 0 ? "window aggregate" : "group aggregate";
    g->plan->n_sources = 1;
    return SL_OK;
}

int sl_window_subst(sl_gen *g, const sl_expr *e, sl_buf *out,
                    const sl_type **type)
{
    for (int i = 0; i < g->n_wsubst; i++) {
        if (sl_ast_expr_equal(g->wsubst[i].expr, e)) {
            sl_buf_puts(out, g->wsubst[i].ref);
            *type = g->wsubst[i].type;
            return 1;
        }
    }
    if (sl_gen_is_aggregate(e)) {
        sl_gen_error(g, SL_ERROR, e->pos, "internal: aggregate not planned");
        return -1;
    }
    return 0;
}

int sl_window_gen_agg(sl_gen *g, const sl_query *q, sl_buf *out, sl_rel *rel)
{
    const sl_select *s = &q->select;
    if (s->distinct)
        return sl_gen_error(g, SL_UNSUPPORTED, q->pos,
                            "SELECT DISTINCT with GROUP BY on a streaming "
                            "table is not supported yet");
    if (q->n_order)
        return sl_gen_error(g, SL_UNSUPPORTED, q->order_by[0].expr->pos,
                            "ORDER BY on a streaming table is not supported "
                            "yet");
    agg_list *aggs = sl_arena_alloc(g->arena, sizeof(*aggs));
    if (!aggs)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    aggs->n = 0;
    for (int i = 0; i < s->n_items; i++) {
        if (s->items[i].expr->kind == SL_EXPR_STAR)
            return sl_gen_error(g, SL_SQL, s->items[i].expr->pos,
                                "SELECT * cannot be combined with GROUP BY "
                                "or aggregates: name the group columns");
        int rc = collect_aggs(g, s->items[i].expr, aggs, 0);
        if (rc)
            return rc;
    }
    int rc = collect_aggs(g, s->having, aggs, 0);
    if (rc)
        return rc;
    int idx = g->occurrence++;
    if (idx != 0 || (g->collect && (g->plan->agg || g->plan->model)))
        return sl_gen_error(g, SL_UNSUPPORTED, q->pos,
                            "a streaming GROUP BY must be the only input of "
                            "its query (no UNION ALL with other tables, "
                            "one aggregation per query)");
    if (g->collect) {
        rc = plan_agg(g, q, aggs);
        if (rc)
            return rc;
    }
    const sl_plan_agg *pa = g->plan->agg;
    int n_keys = s->n_group, n_out = pa->out_schema->n_cols;
    const char *talias = sl_gen_printf(g, "t%d", g->alias_seq++);
    sl_gen_subst *subst =
        sl_arena_alloc(g->arena, sizeof(*subst) * (size_t)(n_out + 1));
    rel->n = s->n_items;
    rel->names =
        sl_arena_alloc(g->arena, sizeof(char *) * (size_t)(rel->n + 1));
    rel->types =
        sl_arena_alloc(g->arena, sizeof(void *) * (size_t)(rel->n + 1));
    if (!talias || !subst || !rel->names || !rel->types)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    for (int i = 0; i < n_keys; i++)
        subst[i] = (sl_gen_subst){s->group_by[i],
                                  sl_gen_printf(g, "%s.c%d", talias, i),
                                  pa->out_schema->cols[i].type};
    for (int i = 0; i < aggs->n; i++)
        subst[n_keys + i] = (sl_gen_subst){
            aggs->calls[i], sl_gen_printf(g, "%s.c%d", talias, n_keys + i),
            pa->out_schema->cols[n_keys + i].type};
    bool live = idx == g->current;
    const sl_gen_subst *saved = g->wsubst;
    int saved_n = g->n_wsubst;
    g->wsubst = subst;
    g->n_wsubst = n_out;
    sl_scope empty = {0, NULL, NULL};
    sl_buf_puts(out, "SELECT ");
    for (int i = 0; i < s->n_items && !rc; i++) {
        const sl_select_item *it = &s->items[i];
        const sl_type *t = NULL;
        if (i)
            sl_buf_puts(out, ", ");
        rc = sl_gen_expr(g, &empty, it->expr, out, &t);
        if (rc)
            break;
        sl_buf_printf(out, " AS c%d", i);
        if (it->alias)
            rel->names[i] = sl_gen_ident_text(g, it->alias);
        else if (it->expr->kind == SL_EXPR_COLUMN)
            rel->names[i] = sl_gen_ident_text(
                g, &it->expr->column.parts[it->expr->column.n_parts - 1]);
        else
            rel->names[i] = sl_gen_printf(g, "EXPR$%d", i);
        rel->types[i] = t;
    }
    if (!rc) {
        sl_buf_printf(out, ", %s._row AS _row FROM (SELECT ", talias);
        for (int i = 0; i < n_out; i++) {
            if (live)
                sl_gen_ident(out, pa->out_schema->cols[i].name);
            else
                sl_buf_puts(out, "NULL");
            sl_buf_printf(out, " AS c%d, ", i);
        }
        sl_buf_printf(out, "%s AS _row%s) AS %s", live ? "_row" : "NULL",
                      live ? " FROM {input}" : " WHERE 0", talias);
    }
    if (!rc && s->having) {
        sl_buf_puts(out, " WHERE ");
        const sl_type *t = NULL;
        rc = sl_gen_expr(g, &empty, s->having, out, &t);
        if (!rc && t->id != SL_TYPE_BOOLEAN && t->id != SL_TYPE_NULL)
            rc = sl_gen_error(g, SL_SQL, s->having->pos,
                              "HAVING needs a BOOLEAN condition, got %s",
                              sl_gen_type_text(g, t));
    }
    g->wsubst = saved;
    g->n_wsubst = saved_n;
    if (!rc && out->rc)
        rc = sl_err_set(g->err, out->rc, "query too large to plan");
    return rc;
}

/* ---- job pieces and EXPLAIN ------------------------------------------------
 */

int sl_window_time_stage(sqlite3 *db, sl_arena *arena, const sl_plan_table *t,
                         sl_stage **stage, sl_err *err)
{
    *stage = NULL;
    if (!t->time_sql)
        return SL_OK;
    static const char *const names[] = {"rowtime", "watermark"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_BIGINT),
                              sl_type_simple(SL_TYPE_BIGINT)};
    sl_schema *ts = sl_schema_new(arena, 2, names, types);
    if (!ts)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    char name[64];
    sl_snprintf(name, sizeof(name), "event time (%s)", t->name);
    sl_stage_opts so = {0, name};
    return sl_stage_new_ex(db, t->info.schema, ts, t->time_sql, &so, stage,
                           err);
}

int sl_window_op_build(const sl_plan_agg *pa, const char *ttl, sl_operator **op,
                       sl_err *err)
{
    sl_window_op_def def = pa->def;
    if (ttl && *ttl) {
        int64_t ms = 0;
        if (sl_parse_duration_ms(ttl, &ms) || ms < 0)
            return sl_err_set(err, SL_SQL,
                              "setting 'table.exec.state.ttl' must be a "
                              "duration such as '1 h', got '%s'",
                              ttl);
        def.ttl_ms = ms;
    }
    int rc = sl_window_op_new(pa->in_schema, pa->out_schema, &def, op, err);
    if (rc || !pa->late)
        return rc;
    sl_late_sink *ls = NULL;
    rc = late_open(pa->late, pa->late_map, &ls, err);
    if (!rc)
        rc = sl_window_op_set_late_sink(*op, ls);
    if (rc) {
        (*op)->ops->close(*op);
        *op = NULL;
    }
    return rc;
}

static void put_sql(sl_buf *b, const char *sql, const char *input)
{
    for (const char *p = sql; *p; p++) {
        if (!strncmp(p, "{input}", 7)) {
            sl_buf_puts(b, input);
            p += 6;
        } else {
            sl_buf_putc(b, *p);
        }
    }
}

void sl_window_explain_source(const sl_plan_table *t, sl_buf *b)
{
    if (!t->time_sql)
        return;
    sl_buf_printf(b,
                  "  EventTime: rowtime %s, watermark per split, combined "
                  "as the minimum",
                  t->rowtime ? t->rowtime : "?");
    if (t->idle_timeout_ms)
        sl_buf_printf(b, "; idle splits ignored after %lld ms",
                      (long long)t->idle_timeout_ms);
    sl_buf_puts(b, "\n    SQL: ");
    put_sql(b, t->time_sql, "source");
    sl_buf_putc(b, '\n');
}

static const char *kind_name(sl_agg_kind k)
{
    static const char *const names[] = {"COUNT(*)",
                                        "COUNT",
                                        "SUM",
                                        "MIN",
                                        "MAX",
                                        "AVG",
                                        "COUNT(DISTINCT)",
                                        "LISTAGG",
                                        "SUM(DISTINCT)",
                                        "PERCENTILE"};
    return (int)k >= 0 && (size_t)k < SL_ARRAY_LEN(names) ? names[k] : "?";
}

void sl_window_explain(const sl_plan_agg *pa, const char *after_sql, sl_buf *b)
{
    const sl_window_op_def *d = &pa->def;
    sl_buf_printf(b, "%s: group by (",
                  d->updating ? "GroupAggregate" : "WindowAggregate");
    for (int i = 0; i < d->n_keys; i++)
        sl_buf_printf(b, "%s%s", i ? ", " : "", pa->in_schema->cols[i].name);
    sl_buf_puts(b, "); aggregates:");
    bool buffered = false;
    for (int i = 0; i < d->n_aggs; i++) {
        sl_agg_kind k = pa->aggs[i].kind;
        buffered = buffered || sl_agg_is_buffered(k);
        sl_buf_printf(b, "%s %s", i ? "," : "", kind_name(k));
        if (pa->aggs[i].arg >= 0)
            sl_buf_printf(b, "(%s)", pa->in_schema->cols[pa->aggs[i].arg].name);
    }
    sl_buf_puts(b, "\n  state: SQLite state database, table acc (one row "
                   "per window and group key: partial COUNT/SUM/MIN/MAX/AVG)");
    if (buffered)
        sl_buf_puts(b, ", table buf (argument values of COUNT(DISTINCT), "
                       "LISTAGG, PERCENTILE)");
    if (d->session_gap_ms > 0)
        sl_buf_printf(b,
                      "; SESSION windows (gap %lld ms): a row's window "
                      "[ts, ts + gap) merges with the sessions of its key "
                      "it touches",
                      (long long)d->session_gap_ms);
    if (d->updating)
        sl_buf_puts(b, "; kept until 'table.exec.state.ttl' passes without "
                       "an update\n  input: append-only; output changelog: "
                       "updating (+I/-U/+U)\n");
    else
        sl_buf_puts(b, "; a window is emitted and deleted when the "
                       "watermark passes window_end; late rows dropped and "
                       "counted\n  input: append-only; output changelog: "
                       "append-only (+I)\n");
    if (pa->late)
        sl_buf_printf(b,
                      "  late rows: also written to table '%s' "
                      "('late-data.sink')\n",
                      pa->late->name);
    sl_buf_puts(b, "  Stage after aggregate [stateless, fused]\n    SQL: ");
    put_sql(b, after_sql, "agg_out");
    sl_buf_putc(b, '\n');
}

/* ---- window Top-N and deduplication ---------------------------------------
 *
 *   SELECT ..., ROW_NUMBER() OVER (PARTITION BY window_start, window_end
 *                                  [, keys] ORDER BY x [DESC], ...) AS rn
 *   FROM <window TVF, or a subquery with a window aggregate>
 *
 * is cut at the window rank operator (runtime/op_rank.h): the query
 * without the ROW_NUMBER item, plus one column per PARTITION BY and ORDER
 * BY expression, is the sub-plan feeding it; the operator appends rn; the
 * enclosing query (typically WHERE rn <= N) is the stage after it.
 */

/* agg(x) OVER (...) with an aggregate function name. */
static bool is_over_agg(const sl_expr *e)
{
    if (e->kind != SL_EXPR_FUNC || !e->func.over)
        return false;
    sl_expr plain = *e;
    plain.func.over = NULL;
    return sl_gen_is_aggregate(&plain);
}

static bool is_row_number(const sl_expr *e)
{
    return e->kind == SL_EXPR_FUNC && e->func.over &&
           e->func.name.n_parts == 1 &&
           sl_str_nieq(e->func.name.parts[0].text, e->func.name.parts[0].len,
                       "ROW_NUMBER");
}

bool sl_window_wants_rank(const sl_gen *g, const sl_query *q)
{
    const sl_select *s = &q->select;
    if (!g->with_row || !s->from || g->n_wsubst)
        return false;
    for (int i = 0; i < s->n_items; i++)
        if (s->items[i].expr->kind == SL_EXPR_FUNC &&
            s->items[i].expr->func.over)
            return true;
    return false;
}

#define RANK_SHAPE                                                             \
    "window Top-N is ROW_NUMBER() OVER (PARTITION BY window_start, "           \
    "window_end [, keys] ORDER BY ...) as the last select item over a "        \
    "window TVF or a window aggregate"

static int plan_rank(sl_gen *g, const sl_query *q, int r)
{
    const sl_select *s = &q->select;
    const sl_expr *rn = s->items[r].expr;
    const sl_window_spec *w = rn->func.over;
    int np = w->n_partition, no = w->n_order;
    if (np + no > SL_RANK_MAX_KEYS)
        return sl_gen_error(g, SL_LIMIT, w->pos,
                            "window Top-N: at most %d PARTITION BY and "
                            "ORDER BY expressions",
                            SL_RANK_MAX_KEYS);
    int ws = -1, we = -1;
    for (int i = 0; i < np; i++) {
        if (column_named(w->partition[i], "window_start"))
            ws = i;
        if (column_named(w->partition[i], "window_end"))
            we = i;
    }
    if (ws < 0 || we < 0)
        return sl_gen_error(g, SL_SQL, w->pos,
                            "ROW_NUMBER() OVER on a streaming table must "
                            "PARTITION BY window_start and window_end: "
                            "%s",
                            RANK_SHAPE);
    if (no == 0)
        return sl_gen_error(g, SL_SQL, w->pos,
                            "window Top-N needs an ORDER BY in OVER (...)");
    sl_plan_rank *pr = sl_arena_alloc(g->arena, sizeof(*pr));
    sl_plan *sub = sl_arena_alloc(g->arena, sizeof(*sub));
    sl_query *pq = sl_arena_alloc(g->arena, sizeof(*pq));
    sl_select_item *items =
        sl_arena_alloc(g->arena, sizeof(*items) * (size_t)(r + np + no + 1));
    if (!pr || !sub || !pq || !items)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    memset(pr, 0, sizeof(*pr));
    memset(pq, 0, sizeof(*pq));
    for (int i = 0; i < r; i++)
        items[i] = s->items[i];
    for (int i = 0; i < np; i++)
        items[r + i] = (sl_select_item){w->partition[i], NULL};
    for (int i = 0; i < no; i++)
        items[r + np + i] = (sl_select_item){w->order[i].expr, NULL};
    pq->kind = SL_QUERY_SELECT;
    pq->pos = q->pos;
    pq->select.n_items = r + np + no;
    pq->select.items = items;
    pq->select.from = s->from;
    pq->select.where = s->where;
    sl_plan_env env = {g->env->catalog, g->text, g->text_len};
    int rc = sl_plan_query(&env, pq, g->arena, sub, g->err);
    if (rc)
        return rc;
    if (sub->is_static)
        return SL_UNSUPPORTED; /* VALUES: runs statically */
    if (sub->model || sub->rank || (sub->agg && sub->agg->def.updating) ||
        sl_join_in_plan(sub))
        return sl_gen_error(g, SL_UNSUPPORTED, q->pos,
                            "%s (not over ML_PREDICT, another Top-N, a "
                            "non-windowed GROUP BY or a join)",
                            RANK_SHAPE);
    const sl_schema *in = sub->out_schema;
    int n_vis = in->n_cols - np - no;
    if (n_vis < 0)
        return sl_gen_error(g, SL_ERROR, q->pos, "internal: rank columns");
    sl_rank_op_def *d = &pr->def;
    d->ws_col = n_vis + ws;
    d->we_col = n_vis + we;
    const sl_type *tws = in->cols[d->ws_col].type;
    const sl_type *twe = in->cols[d->we_col].type;
    if ((tws->id != SL_TYPE_TIMESTAMP && tws->id != SL_TYPE_TIMESTAMP_LTZ) ||
        (twe->id != SL_TYPE_TIMESTAMP && twe->id != SL_TYPE_TIMESTAMP_LTZ))
        return sl_gen_error(g, SL_SQL, w->pos,
                            "window Top-N: window_start and window_end must "
                            "be the timestamps of a window TVF");
    if (!sub->agg) {
        /* late rows are the rank operator's (over an aggregate: the
         * aggregate's, planned with it) */
        rc = late_plan(g, pq, sub, &pr->late, &pr->late_map);
        if (rc)
            return rc;
        in = sub->out_schema;
    }
    for (int i = 0; i < np; i++)
        if (i != ws && i != we)
            d->part_cols[d->n_part++] = n_vis + i;
    for (int i = 0; i < no; i++) {
        d->order_cols[i] = n_vis + np + i;
        d->order_desc[i] = w->order[i].desc;
        d->order_nulls[i] = w->order[i].nulls == SL_NULLS_FIRST  ? 1
                            : w->order[i].nulls == SL_NULLS_LAST ? 2
                                                                 : 0;
    }
    d->n_order = no;
    d->n_out = n_vis;
    const char **names =
        sl_arena_alloc(g->arena, sizeof(char *) * (size_t)(n_vis + 1));
    const sl_type **types =
        sl_arena_alloc(g->arena, sizeof(void *) * (size_t)(n_vis + 1));
    if (!names || !types)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    for (int i = 0; i < n_vis; i++) {
        names[i] = sl_gen_printf(g, "r%d", i);
        types[i] = in->cols[i].type;
    }
    sl_type *bt = sl_arena_alloc(g->arena, sizeof(*bt));
    if (!bt)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    *bt = *sl_type_simple(SL_TYPE_BIGINT);
    bt->not_null = true;
    names[n_vis] = "rownum";
    types[n_vis] = bt;
    pr->input = sub;
    pr->in_schema = in;
    pr->out_schema = sl_schema_new(g->arena, n_vis + 1, names, types);
    if (!pr->out_schema)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    g->plan->rank = pr;
    memset(&g->plan->sources[0], 0, sizeof(g->plan->sources[0]));
    g->plan->sources[0].name = "window rank";
    g->plan->n_sources = 1;
    return SL_OK;
}

/* ---- OVER aggregation ------------------------------------------------------
 *
 *   SELECT cols..., agg(x) OVER (PARTITION BY k ORDER BY rowtime
 *       ROWS BETWEEN n PRECEDING AND CURRENT ROW | RANGE BETWEEN INTERVAL
 *       '...' PRECEDING AND CURRENT ROW) [AS a], ...
 *
 * is cut at the OVER operator (runtime/op_over.h) like a window Top-N:
 * the query without the OVER items, plus the rowtime, the partition
 * columns and the aggregate arguments, feeds it. */

#define OVER_SHAPE                                                             \
    "OVER aggregation is agg(x) OVER (PARTITION BY ... ORDER BY rowtime "      \
    "ROWS BETWEEN n PRECEDING AND CURRENT ROW | RANGE BETWEEN INTERVAL "       \
    "'...' PRECEDING AND CURRENT ROW) after the other select items, every "    \
    "OVER the same window, with COUNT, SUM, MIN, MAX or AVG"

static bool same_spec(const sl_window_spec *a, const sl_window_spec *b)
{
    if (a == b)
        return true;
    if (a->n_partition != b->n_partition || a->n_order != b->n_order ||
        a->frame != b->frame || a->start.kind != b->start.kind ||
        a->end.kind != b->end.kind)
        return false;
    for (int i = 0; i < a->n_partition; i++)
        if (!sl_ast_expr_equal(a->partition[i], b->partition[i]))
            return false;
    for (int i = 0; i < a->n_order; i++)
        if (a->order[i].desc != b->order[i].desc ||
            !sl_ast_expr_equal(a->order[i].expr, b->order[i].expr))
            return false;
    if ((a->start.offset == NULL) != (b->start.offset == NULL))
        return false;
    return !a->start.offset ||
           sl_ast_expr_equal(a->start.offset, b->start.offset);
}

/* The window of OVER item e: its own, or the one its name refers to in
 * the SELECT's WINDOW clause (NULL: unknown, or a window built on
 * another). */
static const sl_window_spec *over_spec(const sl_select *s, const sl_expr *e)
{
    const sl_window_spec *w = e->func.over;
    if (!w->base)
        return w;
    if (w->n_partition || w->n_order || w->frame)
        return NULL;
    for (int i = 0; i < s->n_windows; i++) {
        const sl_ident *nm = &s->windows[i].name;
        if (nm->len == w->base->len &&
            !strncmp(nm->text, w->base->text, nm->len))
            return s->windows[i].spec->base ? NULL : s->windows[i].spec;
    }
    return NULL;
}

static int over_frame(sl_gen *g, const sl_window_spec *w, sl_over_op_def *d)
{
    if (w->frame == SL_FRAME_NONE || w->end.kind != SL_BOUND_CURRENT_ROW ||
        (w->start.kind != SL_BOUND_PRECEDING &&
         w->start.kind != SL_BOUND_CURRENT_ROW))
        return sl_gen_error(g, SL_SQL, w->pos,
                            "OVER on a streaming table needs a bounded "
                            "frame ending at the current row: %s",
                            OVER_SHAPE);
    const sl_expr *off = w->start.offset;
    d->is_range = w->frame == SL_FRAME_RANGE;
    if (w->start.kind == SL_BOUND_CURRENT_ROW)
        return SL_OK;
    if (d->is_range) {
        if (!off || off->kind != SL_EXPR_INTERVAL || off->interval.year_month ||
            off->interval.millis < 0)
            return sl_gen_error(g, SL_SQL, off ? off->pos : w->pos,
                                "RANGE BETWEEN ... PRECEDING takes a "
                                "day-time INTERVAL literal (e.g. INTERVAL "
                                "'10' SECOND)");
        d->range_ms = off->interval.millis;
    } else {
        if (!off || off->kind != SL_EXPR_LITERAL ||
            off->lit.kind != SL_LIT_INT || !off->lit.i_valid ||
            off->lit.i < 0 || off->lit.i > 1000000)
            return sl_gen_error(g, SL_SQL, off ? off->pos : w->pos,
                                "ROWS BETWEEN n PRECEDING takes an integer "
                                "literal from 0 to 1000000");
        d->preceding = off->lit.i;
    }
    return SL_OK;
}

static int plan_over(sl_gen *g, const sl_query *q, int first,
                     const sl_window_spec *w)
{
    const sl_select *s = &q->select;
    int n_over = s->n_items - first, np = w->n_partition;
    if (n_over > SL_OVER_MAX_AGGS || np > SL_OVER_MAX_KEYS)
        return sl_gen_error(g, SL_LIMIT, w->pos,
                            "OVER: at most %d aggregates and %d PARTITION BY "
                            "expressions",
                            SL_OVER_MAX_AGGS, SL_OVER_MAX_KEYS);
    if (w->n_order != 1 || w->order[0].desc)
        return sl_gen_error(g, SL_SQL, w->pos,
                            "OVER on a streaming table is ordered by the "
                            "rowtime ascending: ORDER BY <rowtime> (%s)",
                            OVER_SHAPE);
    sl_plan_over *po = sl_arena_alloc(g->arena, sizeof(*po));
    sl_plan *sub = sl_arena_alloc(g->arena, sizeof(*sub));
    sl_query *pq = sl_arena_alloc(g->arena, sizeof(*pq));
    sl_select_item *items = sl_arena_alloc(
        g->arena, sizeof(*items) * (size_t)(first + 1 + np + n_over + 1));
    if (!po || !sub || !pq || !items)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    memset(po, 0, sizeof(*po));
    memset(pq, 0, sizeof(*pq));
    sl_over_op_def *d = &po->def;
    int rc = over_frame(g, w, d);
    if (rc)
        return rc;
    for (int i = 0; i < first; i++)
        items[i] = s->items[i];
    int n = first;
    items[n++] = (sl_select_item){w->order[0].expr, NULL};
    for (int i = 0; i < np; i++)
        items[n++] = (sl_select_item){w->partition[i], NULL};
    int n_args = 0;
    for (int i = 0; i < n_over; i++) {
        const sl_expr *e = s->items[first + i].expr;
        sl_agg_kind kind = SL_AGG_COUNT_STAR;
        rc = agg_kind(g, e, &kind);
        if (rc)
            return rc;
        if (sl_agg_is_buffered(kind))
            return sl_gen_error(g, SL_UNSUPPORTED, e->pos,
                                "DISTINCT, LISTAGG and PERCENTILE are not "
                                "supported in OVER aggregates yet (%s)",
                                OVER_SHAPE);
        d->agg_kind[i] = kind;
        d->agg_arg[i] = -1;
        if (kind != SL_AGG_COUNT_STAR) {
            d->agg_arg[i] = n_args++; /* made absolute below */
            items[n++] = (sl_select_item){e->func.args[0], NULL};
        }
    }
    d->n_aggs = n_over;
    pq->kind = SL_QUERY_SELECT;
    pq->pos = q->pos;
    pq->select.n_items = n;
    pq->select.items = items;
    pq->select.from = s->from;
    pq->select.where = s->where;
    sl_plan_env env = {g->env->catalog, g->text, g->text_len};
    rc = sl_plan_query(&env, pq, g->arena, sub, g->err);
    if (rc)
        return rc;
    if (sub->is_static)
        return SL_UNSUPPORTED;
    if (sub->model || sub->rank || sub->over || sub->agg || sub->join)
        return sl_gen_error(g, SL_UNSUPPORTED, q->pos,
                            "%s, over a table, view or window TVF (not "
                            "over ML_PREDICT, an aggregate, a Top-N or a "
                            "join)",
                            OVER_SHAPE);
    int n_vis = sub->out_schema->n_cols - 1 - np - n_args;
    if (n_vis < 0)
        return sl_gen_error(g, SL_ERROR, q->pos, "internal: over columns");
    rc = late_plan(g, pq, sub, &po->late, &po->late_map);
    if (rc)
        return rc;
    const sl_schema *in = sub->out_schema;
    d->ts_col = n_vis;
    const sl_type *tt = in->cols[n_vis].type;
    if (tt->id != SL_TYPE_TIMESTAMP && tt->id != SL_TYPE_TIMESTAMP_LTZ)
        return sl_gen_error(g, SL_SQL, w->order[0].expr->pos,
                            "OVER on a streaming table is ordered by the "
                            "rowtime (a TIMESTAMP(3) column with a "
                            "WATERMARK), not %s",
                            sl_gen_type_text(g, tt));
    d->n_part = np;
    for (int i = 0; i < np; i++)
        d->part_cols[i] = n_vis + 1 + i;
    for (int i = 0; i < n_over; i++)
        if (d->agg_arg[i] >= 0)
            d->agg_arg[i] += n_vis + 1 + np;
    d->n_out = n_vis;
    const char **names =
        sl_arena_alloc(g->arena, sizeof(char *) * (size_t)(n_vis + n_over + 1));
    const sl_type **types =
        sl_arena_alloc(g->arena, sizeof(void *) * (size_t)(n_vis + n_over + 1));
    if (!names || !types)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    for (int i = 0; i < n_vis; i++) {
        names[i] = sl_gen_printf(g, "r%d", i);
        types[i] = in->cols[i].type;
    }
    for (int i = 0; i < n_over; i++) {
        names[n_vis + i] = sl_gen_printf(g, "a%d", i);
        if (d->agg_kind[i] == SL_AGG_COUNT_STAR ||
            d->agg_kind[i] == SL_AGG_COUNT) {
            types[n_vis + i] = sl_type_simple(SL_TYPE_BIGINT);
            continue;
        }
        const sl_type *at = in->cols[d->agg_arg[i]].type;
        if ((d->agg_kind[i] == SL_AGG_SUM || d->agg_kind[i] == SL_AGG_AVG) &&
            !sl_type_is_numeric(at))
            return sl_gen_error(g, SL_SQL, s->items[first + i].expr->pos,
                                "%s needs a numeric argument, got %s",
                                agg_name(s->items[first + i].expr),
                                sl_gen_type_text(g, at));
        sl_type *t = sl_arena_alloc(g->arena, sizeof(*t));
        if (!t)
            return sl_err_set(g->err, SL_NOMEM, "out of memory");
        *t = *at;
        t->not_null = false;
        types[n_vis + i] = t;
    }
    po->input = sub;
    po->in_schema = in;
    po->out_schema = sl_schema_new(g->arena, n_vis + n_over, names, types);
    if (!po->out_schema)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    g->plan->over = po;
    memset(&g->plan->sources[0], 0, sizeof(g->plan->sources[0]));
    g->plan->sources[0].name = "over aggregate";
    g->plan->n_sources = 1;
    return SL_OK;
}

static int gen_over(sl_gen *g, const sl_query *q, sl_buf *out, sl_rel *rel)
{
    const sl_select *s = &q->select;
    int first = -1;
    const sl_window_spec *w = NULL;
    for (int i = 0; i < s->n_items; i++) {
        const sl_expr *e = s->items[i].expr;
        bool over = e->kind == SL_EXPR_FUNC && e->func.over;
        if (!over) {
            if (first >= 0)
                return sl_gen_error(g, SL_SQL, e->pos,
                                    "put the OVER aggregates after the "
                                    "other select items (%s)",
                                    OVER_SHAPE);
            continue;
        }
        if (!is_over_agg(e))
            return sl_gen_error(g, SL_SQL, e->pos,
                                "ROW_NUMBER() and OVER aggregates cannot be "
                                "mixed (%s)",
                                OVER_SHAPE);
        const sl_window_spec *ws = over_spec(s, e);
        if (!ws)
            return sl_gen_error(g, SL_SQL, e->pos,
                                "OVER names a window that is not in the "
                                "WINDOW clause (or builds on another)");
        if (first < 0) {
            first = i;
            w = ws;
        } else if (!same_spec(w, ws)) {
            return sl_gen_error(g, SL_SQL, e->pos,
                                "every OVER aggregate of a query must use "
                                "the same window (as in Flink)");
        }
    }
    if (s->n_group || s->having || s->distinct || q->n_order)
        return sl_gen_error(g, SL_SQL, q->pos,
                            "%s; put GROUP BY, DISTINCT or ORDER BY in a "
                            "subquery",
                            OVER_SHAPE);
    int idx = g->occurrence++;
    if (idx != 0 || (g->collect && (g->plan->agg || g->plan->model ||
                                    g->plan->rank || g->plan->over)))
        return sl_gen_error(g, SL_UNSUPPORTED, q->pos,
                            "an OVER aggregation must be the only input of "
                            "its query (no UNION ALL with other tables)");
    if (g->collect) {
        int rc = plan_over(g, q, first, w);
        if (rc)
            return rc;
    }
    const sl_plan_over *po = g->plan->over;
    const sl_schema *os = po->out_schema;
    int n = os->n_cols, n_vis = po->def.n_out;
    bool live = idx == g->current;
    const char *talias = sl_gen_printf(g, "t%d", g->alias_seq++);
    rel->n = n;
    rel->names = sl_arena_alloc(g->arena, sizeof(char *) * (size_t)(n + 1));
    rel->types = sl_arena_alloc(g->arena, sizeof(void *) * (size_t)(n + 1));
    if (!talias || !rel->names || !rel->types)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    sl_buf_puts(out, "SELECT ");
    for (int i = 0; i < n; i++) {
        sl_buf_printf(out, "%s.c%d AS c%d, ", talias, i, i);
        rel->types[i] = os->cols[i].type;
        if (i < n_vis) {
            rel->names[i] = po->in_schema->cols[i].name;
        } else {
            const sl_select_item *it = &s->items[first + i - n_vis];
            rel->names[i] =
                it->alias ? sl_gen_ident_text(g, it->alias)
                          : sl_gen_printf(g, "EXPR$%d", first + i - n_vis);
        }
    }
    sl_buf_printf(out, "%s._row AS _row FROM (SELECT ", talias);
    for (int i = 0; i < n; i++) {
        if (live)
            sl_gen_ident(out, os->cols[i].name);
        else
            sl_buf_puts(out, "NULL");
        sl_buf_printf(out, " AS c%d, ", i);
    }
    sl_buf_printf(out, "%s AS _row%s) AS %s", live ? "_row" : "NULL",
                  live ? " FROM {input}" : " WHERE 0", talias);
    if (out->rc)
        return sl_err_set(g->err, out->rc, "query too large to plan");
    return SL_OK;
}

void sl_window_explain_over(const sl_plan_over *po, const char *after_sql,
                            sl_buf *b)
{
    const sl_over_op_def *d = &po->def;
    const sl_schema *in = po->in_schema;
    sl_buf_printf(b, "OverAggregate: partition by (");
    for (int i = 0; i < d->n_part; i++)
        sl_buf_printf(b, "%s%s", i ? ", " : "", in->cols[d->part_cols[i]].name);
    sl_buf_printf(b, ") order by %s ", in->cols[d->ts_col].name);
    if (d->is_range)
        sl_buf_printf(b, "RANGE BETWEEN %lld ms PRECEDING",
                      (long long)d->range_ms);
    else
        sl_buf_printf(b, "ROWS BETWEEN %lld PRECEDING",
                      (long long)d->preceding);
    sl_buf_puts(b, " AND CURRENT ROW; aggregates:");
    for (int i = 0; i < d->n_aggs; i++) {
        sl_buf_printf(b, "%s %s", i ? "," : "", kind_name(d->agg_kind[i]));
        if (d->agg_arg[i] >= 0)
            sl_buf_printf(b, "(%s)", in->cols[d->agg_arg[i]].name);
    }
    sl_buf_puts(b, "\n  state: SQLite state database, table rows (rows "
                   "waiting for the watermark, and those later frames "
                   "reach); a row is emitted when the watermark passes its "
                   "rowtime; late rows dropped and counted\n  input: "
                   "append-only; output changelog: append-only (+I)\n");
    if (po->late)
        sl_buf_printf(b,
                      "  late rows: also written to table '%s' "
                      "('late-data.sink')\n",
                      po->late->name);
    sl_buf_puts(b, "  Stage after the OVER aggregate [stateless, fused]\n"
                   "    SQL: ");
    put_sql(b, after_sql, "over_out");
    sl_buf_putc(b, '\n');
}

int sl_window_gen_rank(sl_gen *g, const sl_query *q, sl_buf *out, sl_rel *rel)
{
    const sl_select *s = &q->select;
    int r = -1;
    for (int i = 0; i < s->n_items; i++) {
        const sl_expr *e = s->items[i].expr;
        if (is_over_agg(e))
            return gen_over(g, q, out, rel);
    }
    for (int i = 0; i < s->n_items; i++) {
        const sl_expr *e = s->items[i].expr;
        if (e->kind != SL_EXPR_FUNC || !e->func.over)
            continue;
        if (!is_row_number(e) || r >= 0)
            return sl_gen_error(g, SL_SQL, e->pos,
                                "OVER on a streaming table: only %s",
                                RANK_SHAPE);
        r = i;
    }
    const sl_expr *rn = s->items[r].expr;
    if (r != s->n_items - 1)
        return sl_gen_error(g, SL_SQL, rn->pos,
                            "put ROW_NUMBER() OVER (...) last in the select "
                            "list (%s)",
                            RANK_SHAPE);
    if (rn->func.n_args || rn->func.over->base ||
        rn->func.over->frame != SL_FRAME_NONE)
        return sl_gen_error(g, SL_SQL, rn->pos,
                            "%s: no arguments, named windows or frames",
                            RANK_SHAPE);
    if (s->n_group || s->having || s->distinct || q->n_order)
        return sl_gen_error(g, SL_SQL, rn->pos,
                            "%s; put GROUP BY, DISTINCT or ORDER BY in a "
                            "subquery",
                            RANK_SHAPE);
    int idx = g->occurrence++;
    if (idx != 0 ||
        (g->collect && (g->plan->agg || g->plan->model || g->plan->rank)))
        return sl_gen_error(g, SL_UNSUPPORTED, q->pos,
                            "a window Top-N must be the only input of its "
                            "query (no UNION ALL with other tables)");
    if (g->collect) {
        int rc = plan_rank(g, q, r);
        if (rc)
            return rc;
    }
    const sl_plan_rank *pr = g->plan->rank;
    const sl_schema *os = pr->out_schema;
    const sl_schema *in = pr->in_schema;
    int n = os->n_cols;
    bool live = idx == g->current;
    const char *talias = sl_gen_printf(g, "t%d", g->alias_seq++);
    rel->n = n;
    rel->names = sl_arena_alloc(g->arena, sizeof(char *) * (size_t)(n + 1));
    rel->types = sl_arena_alloc(g->arena, sizeof(void *) * (size_t)(n + 1));
    if (!talias || !rel->names || !rel->types)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    sl_buf_puts(out, "SELECT ");
    for (int i = 0; i < n; i++) {
        sl_buf_printf(out, "%s.c%d AS c%d, ", talias, i, i);
        rel->types[i] = os->cols[i].type;
        rel->names[i] = i < n - 1 ? in->cols[i].name : NULL;
    }
    rel->names[n - 1] = s->items[r].alias
                            ? sl_gen_ident_text(g, s->items[r].alias)
                            : sl_gen_printf(g, "EXPR$%d", r);
    sl_buf_printf(out, "%s._row AS _row FROM (SELECT ", talias);
    for (int i = 0; i < n; i++) {
        if (live)
            sl_gen_ident(out, os->cols[i].name);
        else
            sl_buf_puts(out, "NULL");
        sl_buf_printf(out, " AS c%d, ", i);
    }
    sl_buf_printf(out, "%s AS _row%s) AS %s", live ? "_row" : "NULL",
                  live ? " FROM {input}" : " WHERE 0", talias);
    if (out->rc)
        return sl_err_set(g->err, out->rc, "query too large to plan");
    return SL_OK;
}

int sl_window_rank_steps(sqlite3 *db, const sl_plan *plan, sl_job_step *steps,
                         int *n_steps, sl_stage **after, sl_err *err)
{
    const sl_plan_rank *pr = plan->rank;
    const sl_plan_over *po = plan->over;
    sl_operator *op = NULL;
    int rc =
        pr ? sl_rank_op_new(pr->in_schema, pr->out_schema, &pr->def, &op, err)
           : sl_over_op_new(po->in_schema, po->out_schema, &po->def, &op, err);
    if (rc)
        return rc;
    const sl_plan_table *late = pr ? pr->late : po->late;
    if (late) {
        sl_late_sink *ls = NULL;
        rc = late_open(late, pr ? pr->late_map : po->late_map, &ls, err);
        if (!rc)
            rc = pr ? sl_rank_op_set_late_sink(op, ls)
                    : sl_over_op_set_late_sink(op, ls);
        if (rc) {
            op->ops->close(op);
            return rc;
        }
    }
    steps[(*n_steps)++] = (sl_job_step){SL_STEP_OPERATOR, NULL, op,
                                        pr ? "window rank" : "over aggregate"};
    sl_stage_opts so = {0, pr ? "stage after window rank"
                              : "stage after the OVER aggregate"};
    rc = sl_stage_new_ex(db, pr ? pr->out_schema : po->out_schema,
                         plan->out_schema, plan->stage_sql[0], &so, after, err);
    if (!rc)
        steps[(*n_steps)++] = (sl_job_step){SL_STEP_STAGE, *after, NULL, NULL};
    return rc;
}

void sl_window_explain_rank(const sl_plan_rank *pr, const char *after_sql,
                            sl_buf *b)
{
    const sl_rank_op_def *d = &pr->def;
    const sl_schema *in = pr->in_schema;
    sl_buf_printf(b, "WindowRank: ROW_NUMBER() per (window_start, "
                     "window_end");
    for (int i = 0; i < d->n_part; i++)
        sl_buf_printf(b, ", %s", in->cols[d->part_cols[i]].name);
    sl_buf_puts(b, ") ordered by ");
    for (int i = 0; i < d->n_order; i++)
        sl_buf_printf(b, "%s%s%s", i ? ", " : "",
                      in->cols[d->order_cols[i]].name,
                      d->order_desc[i] ? " DESC" : "");
    sl_buf_puts(b, "\n  state: SQLite state database, table rows (the rows "
                   "of open windows); a window's rows are ranked, emitted "
                   "and deleted when the watermark passes window_end; late "
                   "rows dropped and counted\n  input: append-only; output "
                   "changelog: append-only (+I)\n");
    if (pr->late)
        sl_buf_printf(b,
                      "  late rows: also written to table '%s' "
                      "('late-data.sink')\n",
                      pr->late->name);
    sl_buf_puts(b, "  Stage after window rank [stateless, fused]\n    SQL: ");
    put_sql(b, after_sql, "rank_out");
    sl_buf_putc(b, '\n');
}
