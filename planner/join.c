/*
 * join.c: planning of two-input streaming joins (inner joins of
 * append-only inputs), and the job pieces they need.
 *
 * A FROM `a JOIN b ON ...` or `a, b` (condition in WHERE) becomes, like a
 * streaming GROUP BY (window.c), the only input of its query: each side
 * is planned as a query of its own (`SELECT * FROM <side>`: a table, a
 * view, a subquery, a window TVF or a window aggregate), the join
 * operator (runtime/op_join.h) joins them, and the rest of the query
 * (the ON condition, WHERE, select list) is the stage after it, reading
 * the join's output (side 0's columns then side 1's) from {input}.
 *
 * From the conditions the planner takes what the operator needs:
 *   - equi-join keys: conjuncts `x = y` with x a column of one side and y
 *     of the other (the state tables are indexed by them);
 *   - interval joins: both bounds of `l.t - r.t` from conjuncts such as
 *     `l.t BETWEEN r.t - INTERVAL '10' SECOND AND r.t` on TIMESTAMP
 *     columns (the sides' time attributes): state expires by watermark;
 *   - window joins: keys equating both sides' window_start and window_end
 *     (followed through subqueries and aliases): state expires when the
 *     watermark closes the window.
 * Anything else is a regular join whose state is kept (bounded by
 * 'table.exec.state.ttl' when set). The whole condition is still applied
 * by the stage after the join, so the operator may over-match safely.
 *
 * At job build time a plan becomes a tree: leaves (source + stage) whose
 * rows are tagged with their side and merged, the join operator running
 * each side's own chain (window aggregate + stage), and the stages and
 * aggregates above it.
 */
#include <string.h>

#include "gen_int.h"
#include "op_join.h"

#define MAX_CONJ 64

/* ---- window column provenance ------------------------------------------ */

static bool from_col_is_window(sl_gen *g, const sl_from *f, const char *name,
                               int which, int depth);

/* Is output column `name` of query q a window_start (which 0) or
 * window_end (1) of a window TVF, through aliases and subqueries? */
static bool query_col_is_window(sl_gen *g, const sl_query *q, const char *name,
                                int which, int depth)
{
    if (!q || depth > SL_PLAN_MAX_DEPTH || q->kind != SL_QUERY_SELECT ||
        !q->select.from)
        return false;
    const sl_select *s = &q->select;
    for (int i = 0; i < s->n_items; i++) {
        const sl_expr *e = s->items[i].expr;
        if (e->kind == SL_EXPR_STAR) {
            if (from_col_is_window(g, s->from, name, which, depth + 1))
                return true;
            continue;
        }
        if (e->kind != SL_EXPR_COLUMN)
            continue;
        const sl_ident *last = &e->column.parts[e->column.n_parts - 1];
        const sl_ident *alias = s->items[i].alias;
        bool named = alias ? sl_str_nieq(alias->text, alias->len, name)
                           : sl_str_nieq(last->text, last->len, name);
        if (!named)
            continue;
        char *inner = sl_gen_ident_text(g, last);
        return inner && from_col_is_window(g, s->from, inner, which, depth + 1);
    }
    return false;
}

static bool from_col_is_window(sl_gen *g, const sl_from *f, const char *name,
                               int which, int depth)
{
    if (!f || depth > SL_PLAN_MAX_DEPTH)
        return false;
    switch (f->kind) {
    case SL_FROM_TABLE_FUNC: {
        const sl_expr *call = f->table_func.call;
        char *fname = sl_name_join(&call->func.name, g->arena);
        if (!fname ||
            !(sl_str_ieq(fname, "TUMBLE") || sl_str_ieq(fname, "HOP") ||
              sl_str_ieq(fname, "CUMULATE")))
            return false;
        return sl_str_ieq(name, which ? "window_end" : "window_start");
    }
    case SL_FROM_SUBQUERY:
        return query_col_is_window(g, f->subquery.query, name, which,
                                   depth + 1);
    case SL_FROM_TABLE: {
        char *tname = sl_name_join(&f->table.name, g->arena);
        sl_cat_entry *e =
            tname ? sl_catalog_find(g->env->catalog, tname, 0) : NULL;
        if (e && e->kind == SL_OBJ_VIEW)
            return query_col_is_window(g, e->stmt->create_view.query, name,
                                       which, depth + 1);
        return false;
    }
    default:
        return false;
    }
}

bool sl_join_col_is_window(sl_gen *g, const sl_from *from, const sl_expr *e,
                           int which)
{
    if (!from || e->kind != SL_EXPR_COLUMN)
        return false;
    const sl_ident *last = &e->column.parts[e->column.n_parts - 1];
    char *name = sl_gen_ident_text(g, last);
    if (!name)
        return false;
    if (from->kind == SL_FROM_JOIN)
        return false;
    return from_col_is_window(g, from, name, which, 0);
}

/* ---- condition analysis ---------------------------------------------------
 */

typedef sl_plan_join_col jcol;

typedef struct janalysis {
    int n_cols;
    jcol *cols;
    int n_keys;
    int keys[2][SL_JOIN_MAX_KEYS];
    bool has_lo, has_hi;
    int64_t lo, hi; /* l.t - r.t in [lo, hi] */
    int tcol[2];
} janalysis;

static int resolve(const janalysis *a, const sl_expr *e)
{
    if (e->kind != SL_EXPR_COLUMN || e->column.n_parts > 2)
        return -1;
    const sl_ident *last = &e->column.parts[e->column.n_parts - 1];
    const sl_ident *q = e->column.n_parts == 2 ? &e->column.parts[0] : NULL;
    int found = -1;
    for (int i = 0; i < a->n_cols; i++) {
        if (!sl_str_nieq(last->text, last->len, a->cols[i].name))
            continue;
        if (q &&
            !(a->cols[i].qual && sl_str_nieq(q->text, q->len, a->cols[i].qual)))
            continue;
        if (found >= 0)
            return -1; /* ambiguous */
        found = i;
    }
    return found;
}

typedef struct tterm {
    int c;       /* index in a->cols */
    int64_t off; /* ms added */
} tterm;

static bool is_time(const sl_type *t)
{
    return t->id == SL_TYPE_TIMESTAMP || t->id == SL_TYPE_TIMESTAMP_LTZ;
}

/* col, col + INTERVAL, INTERVAL + col, col - INTERVAL */
static bool time_term(const janalysis *a, const sl_expr *e, tterm *t)
{
    if (e->kind == SL_EXPR_COLUMN) {
        t->c = resolve(a, e);
        t->off = 0;
        return t->c >= 0 && is_time(a->cols[t->c].type);
    }
    if (e->kind != SL_EXPR_BINARY ||
        (e->binary.op != SL_BIN_ADD && e->binary.op != SL_BIN_SUB))
        return false;
    const sl_expr *col = e->binary.left, *iv = e->binary.right;
    if (col->kind == SL_EXPR_INTERVAL && e->binary.op == SL_BIN_ADD) {
        col = e->binary.right;
        iv = e->binary.left;
    }
    if (iv->kind != SL_EXPR_INTERVAL || iv->interval.year_month)
        return false;
    if (!time_term(a, col, t))
        return false;
    t->off +=
        e->binary.op == SL_BIN_SUB ? -iv->interval.millis : iv->interval.millis;
    return true;
}

/* x >= y (x and y on different sides) */
static void add_ge(janalysis *a, const tterm *x, const tterm *y)
{
    int sx = a->cols[x->c].side, sy = a->cols[y->c].side;
    if (sx == sy)
        return;
    int cl = sx == 0 ? a->cols[x->c].col : a->cols[y->c].col;
    int cr = sx == 0 ? a->cols[y->c].col : a->cols[x->c].col;
    if (a->tcol[0] >= 0 && (a->tcol[0] != cl || a->tcol[1] != cr))
        return; /* bounds on other columns: left to the stage after */
    a->tcol[0] = cl;
    a->tcol[1] = cr;
    if (sx == 0) { /* l + xo >= r + yo: l - r >= yo - xo */
        int64_t v = y->off - x->off;
        if (!a->has_lo || v > a->lo)
            a->lo = v;
        a->has_lo = true;
    } else { /* r + xo >= l + yo: l - r <= xo - yo */
        int64_t v = x->off - y->off;
        if (!a->has_hi || v < a->hi)
            a->hi = v;
        a->has_hi = true;
    }
}

static int conjuncts(const sl_expr *e, const sl_expr **out, int *n, int depth)
{
    if (!e)
        return SL_OK;
    if (depth > 256)
        return SL_LIMIT;
    if (e->kind == SL_EXPR_BINARY && e->binary.op == SL_BIN_AND) {
        int rc = conjuncts(e->binary.left, out, n, depth + 1);
        return rc ? rc : conjuncts(e->binary.right, out, n, depth + 1);
    }
    if (*n < MAX_CONJ)
        out[(*n)++] = e;
    return SL_OK;
}

static void analyse(janalysis *a, const sl_expr *cond)
{
    const sl_expr *cs[MAX_CONJ];
    int n = 0;
    if (conjuncts(cond, cs, &n, 0))
        return;
    for (int i = 0; i < n; i++) {
        const sl_expr *e = cs[i];
        if (e->kind == SL_EXPR_BINARY && e->binary.op == SL_BIN_EQ) {
            int x = resolve(a, e->binary.left), y = resolve(a, e->binary.right);
            if (x >= 0 && y >= 0 && a->cols[x].side != a->cols[y].side &&
                a->n_keys < SL_JOIN_MAX_KEYS) {
                if (a->cols[x].side == 1) {
                    int t = x;
                    x = y;
                    y = t;
                }
                a->keys[0][a->n_keys] = a->cols[x].col;
                a->keys[1][a->n_keys] = a->cols[y].col;
                a->n_keys++;
            }
            continue;
        }
        tterm x, lo, hi;
        if (e->kind == SL_EXPR_BETWEEN && !e->between.not_ &&
            !e->between.symmetric && time_term(a, e->between.operand, &x)) {
            if (time_term(a, e->between.low, &lo))
                add_ge(a, &x, &lo);
            if (time_term(a, e->between.high, &hi))
                add_ge(a, &hi, &x);
            continue;
        }
        if (e->kind == SL_EXPR_BINARY &&
            (e->binary.op == SL_BIN_GE || e->binary.op == SL_BIN_GT ||
             e->binary.op == SL_BIN_LE || e->binary.op == SL_BIN_LT) &&
            time_term(a, e->binary.left, &x) &&
            time_term(a, e->binary.right, &lo)) {
            if (e->binary.op == SL_BIN_GE || e->binary.op == SL_BIN_GT)
                add_ge(a, &x, &lo);
            else
                add_ge(a, &lo, &x);
        }
    }
}

/* ---- planning -------------------------------------------------------------
 */

static const char *side_alias(sl_gen *g, const sl_from *f)
{
    if (f->alias)
        return sl_gen_ident_text(g, f->alias);
    if (f->kind == SL_FROM_TABLE)
        return sl_gen_ident_text(
            g, &f->table.name.parts[f->table.name.n_parts - 1]);
    return NULL;
}

static int plan_side(sl_gen *g, const sl_from *f, sl_plan **out)
{
    if (f->kind == SL_FROM_JOIN)
        return sl_gen_error(g, SL_UNSUPPORTED, f->pos,
                            "joins of more than two inputs are not supported "
                            "yet: join two of them in a subquery or view "
                            "first");
    sl_query *pq = sl_arena_alloc(g->arena, sizeof(*pq));
    sl_select_item *item = sl_arena_alloc(g->arena, sizeof(*item));
    sl_expr *star = sl_arena_alloc(g->arena, sizeof(*star));
    sl_plan *sub = sl_arena_alloc(g->arena, sizeof(*sub));
    if (!pq || !item || !star || !sub)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    memset(pq, 0, sizeof(*pq));
    memset(item, 0, sizeof(*item));
    memset(star, 0, sizeof(*star));
    star->kind = SL_EXPR_STAR;
    star->pos = f->pos;
    item->expr = star;
    pq->kind = SL_QUERY_SELECT;
    pq->pos = f->pos;
    pq->select.n_items = 1;
    pq->select.items = item;
    pq->select.from = (sl_from *)f;
    sl_plan_env env = {g->env->catalog, g->text, g->text_len};
    int rc = sl_plan_query(&env, pq, g->arena, sub, g->err);
    if (rc)
        return rc;
    if (sub->is_static)
        return sl_gen_error(g, SL_UNSUPPORTED, f->pos,
                            "a join of a streaming table with VALUES is not "
                            "supported yet");
    if (sub->model)
        return sl_gen_error(g, SL_UNSUPPORTED, f->pos,
                            "a join input with ML_PREDICT or model calls is "
                            "not supported yet (write the model's result to "
                            "a table first)");
    if (sub->agg && sub->agg->def.updating)
        return sl_gen_error(g, SL_UNSUPPORTED, f->pos,
                            "this join input is an updating aggregate (a "
                            "GROUP BY without a window): joins of updating "
                            "inputs are not supported yet; aggregate per "
                            "window (GROUP BY window_start, window_end) or "
                            "join first and aggregate after");
    *out = sub;
    return SL_OK;
}

static sl_type *nullable(sl_gen *g, const sl_type *t)
{
    sl_type *n = sl_arena_alloc(g->arena, sizeof(*n));
    if (n) {
        *n = *t;
        n->not_null = false;
    }
    return n;
}

static int plan_join(sl_gen *g, const sl_from *from)
{
    sl_join_kind kind = from->join.kind;
    /* an error below is the join's, not a reason to retry statically */
    g->plan->n_sources = 1;
    g->plan->sources[0].name = "join";
    if (kind == SL_JOIN_LEFT || kind == SL_JOIN_RIGHT || kind == SL_JOIN_FULL)
        return sl_gen_error(g, SL_UNSUPPORTED, from->pos,
                            "%s OUTER joins of streaming tables are not "
                            "supported yet (inner joins are: window joins, "
                            "interval joins and regular joins)",
                            kind == SL_JOIN_LEFT    ? "LEFT"
                            : kind == SL_JOIN_RIGHT ? "RIGHT"
                                                    : "FULL");
    if (from->join.n_using)
        return sl_gen_error(g, SL_UNSUPPORTED, from->pos,
                            "JOIN ... USING is not supported yet on streaming "
                            "tables: write ON a.x = b.x");
    sl_plan_join *pj = sl_arena_alloc(g->arena, sizeof(*pj));
    if (!pj)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    memset(pj, 0, sizeof(*pj));
    const sl_from *sf[2] = {from->join.left, from->join.right};
    for (int s = 0; s < 2; s++) {
        int rc = plan_side(g, sf[s], &pj->side[s]);
        if (rc)
            return rc;
        pj->alias[s] = side_alias(g, sf[s]);
    }
    const sl_schema *o0 = pj->side[0]->out_schema,
                    *o1 = pj->side[1]->out_schema;
    int n = o0->n_cols + o1->n_cols;
    const char **names = sl_arena_alloc(g->arena, sizeof(char *) * (size_t)n);
    const sl_type **types =
        sl_arena_alloc(g->arena, sizeof(void *) * (size_t)n);
    janalysis *a = sl_arena_alloc(g->arena, sizeof(*a));
    jcol *cols = sl_arena_alloc(g->arena, sizeof(*cols) * (size_t)n);
    if (!names || !types || !a || !cols)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    memset(a, 0, sizeof(*a));
    a->cols = cols;
    a->n_cols = n;
    a->tcol[0] = a->tcol[1] = -1;
    for (int c = 0; c < n; c++) {
        int s = c < o0->n_cols ? 0 : 1;
        int k = s ? c - o0->n_cols : c;
        const sl_column *col = s ? &o1->cols[k] : &o0->cols[k];
        names[c] = sl_gen_printf(g, "c%d", c);
        types[c] = col->type;
        cols[c] = (jcol){col->name, pj->alias[s], col->type, s, k};
    }
    pj->out_schema = sl_schema_new(g->arena, n, names, types);
    pj->cols = cols;
    if (!pj->out_schema)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    analyse(a, from->join.on);
    analyse(a, g->join_where);
    sl_join_op_def *d = &pj->def;
    d->n_keys = a->n_keys;
    memcpy(d->keys, a->keys, sizeof(d->keys));
    d->time_col[0] = d->time_col[1] = -1;
    if (a->has_lo && a->has_hi) {
        d->mode = SL_JOIN_MODE_INTERVAL;
        d->time_col[0] = a->tcol[0];
        d->time_col[1] = a->tcol[1];
        d->exp_off[0] = -a->lo;
        d->exp_off[1] = a->hi;
        d->lo = a->lo;
        d->hi = a->hi;
        pj->mode_desc =
            sl_gen_printf(g, "interval join (l.%s - r.%s in [%lld, %lld] ms)",
                          o0->cols[a->tcol[0]].name, o1->cols[a->tcol[1]].name,
                          (long long)a->lo, (long long)a->hi);
    } else {
        int ws = -1, we = -1;
        for (int k = 0; k < a->n_keys; k++) {
            for (int w = 0; w < 2; w++) {
                bool both = true;
                for (int s = 0; s < 2; s++) {
                    const char *nm = s ? o1->cols[a->keys[1][k]].name
                                       : o0->cols[a->keys[0][k]].name;
                    sl_ident id = {nm, strlen(nm), false, sf[s]->pos};
                    sl_expr ce;
                    memset(&ce, 0, sizeof(ce));
                    ce.kind = SL_EXPR_COLUMN;
                    ce.column.n_parts = 1;
                    ce.column.parts = &id;
                    if (!sl_join_col_is_window(g, sf[s], &ce, w))
                        both = false;
                }
                if (both && w == 0)
                    ws = k;
                if (both && w == 1)
                    we = k;
            }
        }
        if (ws >= 0 && we >= 0) {
            d->mode = SL_JOIN_MODE_WINDOW;
            d->time_col[0] = a->keys[0][we];
            d->time_col[1] = a->keys[1][we];
            d->exp_off[0] = d->exp_off[1] = -1;
            pj->mode_desc = "window join (state deleted when the watermark "
                            "closes the window)";
        } else {
            d->mode = SL_JOIN_MODE_REGULAR;
            pj->mode_desc = "regular join (state kept; "
                            "'table.exec.state.ttl' bounds it)";
        }
    }
    /* the tagged input: side, then each side's leaf columns */
    const sl_schema *in[2];
    for (int s = 0; s < 2; s++) {
        const sl_plan *p = pj->side[s];
        while (p->agg)
            p = p->agg->input;
        in[s] = p->join ? p->join->tag_schema : p->out_schema;
        pj->side_in[s] = in[s];
    }
    int nt = 1 + in[0]->n_cols + in[1]->n_cols;
    const char **tn = sl_arena_alloc(g->arena, sizeof(char *) * (size_t)nt);
    const sl_type **tt = sl_arena_alloc(g->arena, sizeof(void *) * (size_t)nt);
    if (!tn || !tt)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    tn[0] = "side";
    tt[0] = sl_type_simple(SL_TYPE_INT);
    for (int c = 1; c < nt; c++) {
        int s = c - 1 < in[0]->n_cols ? 0 : 1;
        int k = s ? c - 1 - in[0]->n_cols : c - 1;
        tn[c] = sl_gen_printf(g, "c%d", c);
        tt[c] = nullable(g, in[s]->cols[k].type);
        if (!tt[c])
            return sl_err_set(g->err, SL_NOMEM, "out of memory");
    }
    pj->tag_schema = sl_schema_new(g->arena, nt, tn, tt);
    if (!pj->tag_schema)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    g->plan->join = pj;
    memset(&g->plan->sources[0], 0, sizeof(g->plan->sources[0]));
    g->plan->sources[0].name = "join";
    g->plan->n_sources = 1;
    return SL_OK;
}

int sl_join_gen_from(sl_gen *g, const sl_from *from, sl_buf *out, sl_scope *sc)
{
    if (!g->with_row)
        return sl_gen_error(g, SL_UNSUPPORTED, from->pos,
                            "joins of static relations (VALUES) are not "
                            "supported yet");
    int idx = g->occurrence++;
    if (idx != 0 ||
        (g->collect && (g->plan->agg || g->plan->model || g->plan->join)))
        return sl_gen_error(g, SL_UNSUPPORTED, from->pos,
                            "a join must be the only input of its query (no "
                            "UNION ALL with other tables, one join per "
                            "query: nest further joins in subqueries)");
    if (g->collect) {
        int rc = plan_join(g, from);
        if (rc)
            return rc;
    }
    const sl_plan_join *pj = g->plan->join;
    bool live = idx == g->current;
    const char *talias = sl_gen_printf(g, "t%d", g->alias_seq++);
    const char *jalias = sl_gen_printf(g, "j%d", g->alias_seq++);
    int n = pj->out_schema->n_cols;
    sl_rel_col *cols = sl_arena_alloc(g->arena, sizeof(*cols) * (size_t)n);
    sl_rel_col *jcols = sl_arena_alloc(g->arena, sizeof(*cols) * (size_t)n);
    if (!talias || !jalias || !cols || !jcols)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    for (int c = 0; c < n; c++) {
        const jcol *jc = &pj->cols[c];
        cols[c] = (sl_rel_col){jc->name, jc->qual, jc->type,
                               sl_gen_printf(g, "%s.c%d", talias, c)};
        jcols[c] = cols[c];
        jcols[c].ref = sl_gen_printf(g, "%s.c%d", jalias, c);
    }
    sl_buf_puts(out, "(SELECT ");
    for (int c = 0; c < n; c++)
        sl_buf_printf(out, "%s%s AS c%d, ", live ? jalias : "NULL",
                      live ? sl_gen_printf(g, ".c%d", c) : "", c);
    int rc = SL_OK;
    if (live) {
        sl_buf_printf(out, "%s._row AS _row FROM {input} AS %s", jalias,
                      jalias);
        if (from->join.on) {
            sl_scope js = {n, jcols, NULL};
            const sl_type *t = NULL;
            sl_buf_puts(out, " WHERE ");
            rc = sl_gen_expr(g, &js, from->join.on, out, &t);
            if (!rc && t->id != SL_TYPE_BOOLEAN && t->id != SL_TYPE_NULL)
                rc = sl_gen_error(g, SL_SQL, from->join.on->pos,
                                  "ON needs a BOOLEAN condition, got %s",
                                  sl_gen_type_text(g, t));
        }
    } else {
        sl_buf_puts(out, "NULL AS _row WHERE 0");
    }
    sl_buf_printf(out, ") AS %s", talias);
    sc->n = n;
    sc->cols = cols;
    sc->row_ref = sl_gen_printf(g, "%s._row", talias);
    if (!rc && out->rc)
        rc = sl_err_set(g->err, out->rc, "query too large to plan");
    return rc;
}

/* ---- job pieces ------------------------------------------------------------
 */

typedef struct leaf {
    const sl_plan_table *t;
    const char *sql;
    const sl_schema *out;
} leaf;

typedef struct built {
    int n_leaves;
    leaf leaves[SL_PLAN_MAX_SOURCES];
    int n_steps;
    sl_job_step steps[SL_JOIN_MAX_STEPS];
    bool window_after_first; /* a window aggregate not first in the chain */
} built;

bool sl_join_in_plan(const sl_plan *plan)
{
    for (const sl_plan *p = plan; p; p = p->agg ? p->agg->input : NULL)
        if (p->join || (p != plan && p->agg))
            return true;
    return false;
}

static void free_built(built *b)
{
    for (int i = 0; i < b->n_steps; i++) {
        if (b->steps[i].kind == SL_STEP_OPERATOR)
            b->steps[i].op->ops->close(b->steps[i].op);
        else
            sl_stage_free(b->steps[i].stage);
    }
    b->n_steps = 0;
}

static int add_step(built *b, sl_job_step step, sl_err *err)
{
    if (b->n_steps >= SL_JOIN_MAX_STEPS) {
        if (step.kind == SL_STEP_OPERATOR)
            step.op->ops->close(step.op);
        else
            sl_stage_free(step.stage);
        return sl_err_set(err, SL_LIMIT, "query too deep: more than %d steps",
                          SL_JOIN_MAX_STEPS);
    }
    b->steps[b->n_steps++] = step;
    return SL_OK;
}

static int build(sqlite3 *jdb, sl_arena *arena, const sl_plan *p,
                 const char *ttl, built *b, sl_err *err);

static int build_join(sqlite3 *jdb, sl_arena *arena, const sl_plan_join *pj,
                      const char *ttl, built *b, sl_err *err)
{
    built *sb = sl_calloc(2, sizeof(*sb));
    if (!sb)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    int rc = SL_OK;
    for (int s = 0; s < 2 && !rc; s++)
        rc = build(jdb, arena, pj->side[s], ttl, &sb[s], err);
    for (int s = 0; s < 2 && !rc; s++) {
        /* a side chain delivers watermarks operator by operator: window
         * aggregates anywhere in it fire in time */
        const sl_schema *in = pj->side_in[s];
        int n0 = pj->side_in[0]->n_cols;
        for (int i = 0; i < sb[s].n_leaves && !rc; i++) {
            if (b->n_leaves >= SL_PLAN_MAX_SOURCES) {
                rc = sl_err_set(err, SL_LIMIT,
                                "a query may read at most %d tables",
                                SL_PLAN_MAX_SOURCES);
                break;
            }
            sl_buf w;
            sl_buf_init(&w, 64u << 20);
            sl_buf_printf(&w, "SELECT %d AS c0", s);
            int nt = pj->tag_schema->n_cols;
            for (int c = 1; c < nt; c++) {
                int cs = c - 1 < n0 ? 0 : 1;
                int k = cs ? c - 1 - n0 : c - 1;
                if (cs == s)
                    sl_buf_printf(&w, ", c%d AS c%d", k, c);
                else
                    sl_buf_printf(&w, ", NULL AS c%d", c);
            }
            sl_buf_printf(&w, ", _row FROM (%s)", sb[s].leaves[i].sql);
            const char *sql =
                w.rc ? NULL : sl_arena_strndup(arena, w.data, w.len);
            sl_buf_free(&w);
            if (!sql) {
                rc = sl_err_set(err, SL_NOMEM, "out of memory");
                break;
            }
            (void)in;
            b->leaves[b->n_leaves++] =
                (leaf){sb[s].leaves[i].t, sql, pj->tag_schema};
        }
    }
    if (rc) {
        free_built(&sb[0]);
        free_built(&sb[1]);
        sl_free(sb);
        return rc;
    }
    sl_join_side sides[2];
    for (int s = 0; s < 2; s++) {
        sides[s].in = pj->side_in[s];
        sides[s].out = pj->side[s]->out_schema;
        sides[s].n_steps = sb[s].n_steps;
        sides[s].steps = NULL;
        if (sb[s].n_steps) {
            sides[s].steps =
                sl_calloc((size_t)sb[s].n_steps, sizeof(sl_job_step));
            if (!sides[s].steps)
                rc = SL_NOMEM;
            else
                memcpy(sides[s].steps, sb[s].steps,
                       sizeof(sl_job_step) * (size_t)sb[s].n_steps);
        }
    }
    if (rc) {
        for (int s = 0; s < 2; s++) {
            sl_free(sides[s].steps);
            free_built(&sb[s]);
        }
        sl_free(sb);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    sl_free(sb); /* the steps moved to sides */
    sl_join_op_def def = pj->def;
    if (def.mode == SL_JOIN_MODE_REGULAR && ttl) {
        int64_t ms = 0;
        if (sl_parse_duration_ms(ttl, &ms) == SL_OK && ms > 0)
            def.ttl_ms = ms;
    }
    sl_operator *op = NULL;
    rc = sl_join_op_new(pj->tag_schema, pj->out_schema, sides, &def, &op, err);
    if (rc)
        return rc;
    return add_step(b, (sl_job_step){SL_STEP_OPERATOR, NULL, op, "join"}, err);
}

static int build(sqlite3 *jdb, sl_arena *arena, const sl_plan *p,
                 const char *ttl, built *b, sl_err *err)
{
    if (p->model)
        return sl_err_set(err, SL_UNSUPPORTED,
                          "model calls combined with joins or nested "
                          "aggregates are not supported yet");
    if (p->agg) {
        const sl_plan_agg *pa = p->agg;
        int rc = build(jdb, arena, pa->input, ttl, b, err);
        if (rc)
            return rc;
        if (!pa->def.updating && b->n_steps > 0) {
            /* its watermark comes from the join's side chain only */
            b->window_after_first = true;
        }
        sl_operator *aop = NULL;
        rc = sl_window_op_build(pa, ttl, &aop, err);
        if (!rc)
            rc = add_step(b,
                          (sl_job_step){SL_STEP_OPERATOR, NULL, aop,
                                        pa->def.updating ? "group aggregate"
                                                         : "window aggregate"},
                          err);
        sl_stage *after = NULL;
        if (!rc) {
            sl_stage_opts so = {0, "stage after aggregate"};
            rc = sl_stage_new_ex(jdb, pa->out_schema, p->out_schema,
                                 p->stage_sql[0], &so, &after, err);
        }
        if (!rc)
            rc = add_step(b, (sl_job_step){SL_STEP_STAGE, after, NULL, NULL},
                          err);
        return rc;
    }
    if (p->join) {
        int rc = build_join(jdb, arena, p->join, ttl, b, err);
        sl_stage *after = NULL;
        if (!rc) {
            sl_stage_opts so = {0, "stage after join"};
            rc = sl_stage_new_ex(jdb, p->join->out_schema, p->out_schema,
                                 p->stage_sql[0], &so, &after, err);
        }
        if (!rc)
            rc = add_step(b, (sl_job_step){SL_STEP_STAGE, after, NULL, NULL},
                          err);
        return rc;
    }
    for (int i = 0; i < p->n_sources; i++) {
        if (b->n_leaves >= SL_PLAN_MAX_SOURCES)
            return sl_err_set(err, SL_LIMIT,
                              "a query may read at most %d tables",
                              SL_PLAN_MAX_SOURCES);
        b->leaves[b->n_leaves++] =
            (leaf){&p->sources[i], p->stage_sql[i], p->out_schema};
    }
    return SL_OK;
}

int sl_join_build_job(sqlite3 *jdb, const sl_plan *plan, const char *ttl,
                      sl_job_input *inputs, sl_stage **stages, int *n_inputs,
                      sl_job_step *steps, int max_steps, int *n_steps,
                      sl_err *err)
{
    *n_inputs = 0;
    *n_steps = 0;
    built *b = sl_calloc(1, sizeof(*b));
    if (!b)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    int rc = build(jdb, plan->arena, plan, ttl, b, err);
    if (!rc && b->window_after_first)
        rc = sl_err_set(err, SL_UNSUPPORTED,
                        "a window aggregate over a join or over another "
                        "aggregate is supported only as an input of a join "
                        "yet");
    if (!rc && b->n_steps > max_steps)
        rc = sl_err_set(err, SL_LIMIT, "query too deep");
    if (rc) {
        free_built(b);
        sl_free(b);
        return rc;
    }
    memcpy(steps, b->steps, sizeof(sl_job_step) * (size_t)b->n_steps);
    *n_steps = b->n_steps;
    b->n_steps = 0;
    for (int i = 0; i < b->n_leaves && !rc; i++) {
        const sl_plan_table *t = b->leaves[i].t;
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
        *n_inputs = i + 1;
        char sname[64];
        sl_snprintf(sname, sizeof(sname), "%s", t->name);
        sl_stage_opts so = {0, sname};
        rc = sl_stage_new_ex(jdb, t->info.schema, b->leaves[i].out,
                             b->leaves[i].sql, &so, &stages[i], err);
        if (rc)
            break;
        inputs[i].n_stages = 1;
        inputs[i].stages = &stages[i];
        rc = sl_window_time_stage(jdb, plan->arena, t, &inputs[i].time_stage,
                                  err);
        inputs[i].idle_timeout_ms = t->idle_timeout_ms;
    }
    sl_free(b);
    return rc;
}

/* ---- EXPLAIN ---------------------------------------------------------------
 */

static void explain(const sl_plan *p, int depth, sl_buf *b)
{
    if (depth > SL_PLAN_MAX_DEPTH)
        return;
    for (int i = 0; i < depth; i++)
        sl_buf_puts(b, "  ");
    if (p->agg) {
        sl_buf_printf(b, "%s aggregate [state: SQLite tables]\n",
                      p->agg->def.updating ? "Group" : "Window");
        explain(p->agg->input, depth + 1, b);
        return;
    }
    if (p->join) {
        const sl_plan_join *pj = p->join;
        sl_buf_printf(b, "Join: %s [inner; keys:", pj->mode_desc);
        for (int k = 0; k < pj->def.n_keys; k++)
            sl_buf_printf(
                b, "%s %s = %s", k ? "," : "",
                pj->side[0]->out_schema->cols[pj->def.keys[0][k]].name,
                pj->side[1]->out_schema->cols[pj->def.keys[1][k]].name);
        sl_buf_puts(b, "; state: SQLite tables s0, s1; changelog: "
                       "append-only]\n");
        explain(pj->side[0], depth + 1, b);
        explain(pj->side[1], depth + 1, b);
        return;
    }
    sl_buf_puts(b, "Sources:");
    for (int i = 0; i < p->n_sources; i++)
        sl_buf_printf(
            b, " %s [connector=%s]", p->sources[i].name,
            p->sources[i].connector_name ? p->sources[i].connector_name : "?");
    sl_buf_putc(b, '\n');
}

void sl_join_explain(const sl_plan *plan, sl_buf *b)
{
    explain(plan, 0, b);
}
