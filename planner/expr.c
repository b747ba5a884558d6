/*
 * expr.c: binding and translation of expressions into SQLite SQL.
 *
 * One walk does both: each AST expression is resolved against the scope
 * (columns of the FROM clause), typed with Flink's rules, and printed as
 * SQLite SQL that calls the functions of functions/ (registered on every
 * stage connection). Values keep runtime/types.h's storage: booleans are
 * 0/1, timestamps epoch milliseconds, nested types JSON text; so TIMESTAMP
 * literals print as integers and INTERVALs as milliseconds. Errors carry
 * the expression's line:column through sl_sql_error.
 */
#include <stdio.h>
#include <string.h>

#include "functions.h"
#include "gen_int.h"

int sl_gen_error(sl_gen *g, int code, sl_pos pos, const char *fmt, ...)
{
    char msg[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (g->err->code)
        return g->err->code;
    return sl_sql_error(g->err, code, g->text, g->text_len, pos.offset, "%s",
                        msg);
}

void sl_gen_ident(sl_buf *out, const char *s)
{
    sl_buf_putc(out, '"');
    for (; *s; s++) {
        if (*s == '"')
            sl_buf_putc(out, '"');
        sl_buf_putc(out, *s);
    }
    sl_buf_putc(out, '"');
}

void sl_gen_string(sl_buf *out, const char *s, size_t len)
{
    sl_buf_putc(out, '\'');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\'')
            sl_buf_putc(out, '\'');
        if (s[i] == '\0') {
            /* SQLite string literals cannot hold NUL: splice char(0) */
            sl_buf_puts(out, "' || char(0) || '");
            continue;
        }
        sl_buf_putc(out, s[i]);
    }
    sl_buf_putc(out, '\'');
}

char *sl_gen_type_text(sl_gen *g, const sl_type *type)
{
    sl_buf b;
    sl_buf_init(&b, 4096);
    sl_type_format(type, &b);
    char *s = sl_arena_strndup(g->arena, sl_buf_cstr(&b), b.len);
    sl_buf_free(&b);
    return s ? s : (char *)"?";
}

static const sl_type *mk_type(sl_gen *g, sl_type_id id, int precision,
                              int scale)
{
    sl_type *t = sl_arena_alloc(g->arena, sizeof(*t));
    if (!t)
        return sl_type_simple(id);
    memset(t, 0, sizeof(*t));
    t->id = id;
    t->precision = precision;
    t->scale = scale;
    return t;
}

static const sl_type *t_bool(void)
{
    return sl_type_simple(SL_TYPE_BOOLEAN);
}

static const sl_type *t_string(void)
{
    return sl_type_simple(SL_TYPE_VARCHAR);
}

/* ---- aggregates -------------------------------------------------------- */

static const char *const aggregates[] = {
    "COUNT",   "SUM",         "MIN",         "MAX",        "AVG",
    "LISTAGG", "STDDEV_POP",  "STDDEV_SAMP", "VAR_POP",    "VAR_SAMP",
    "COLLECT", "FIRST_VALUE", "LAST_VALUE",  "PERCENTILE", NULL};

static bool name_is(const sl_name *n, const char *s)
{
    return n->n_parts == 1 && sl_str_nieq(n->parts[0].text, n->parts[0].len, s);
}

bool sl_gen_is_aggregate(const sl_expr *e)
{
    if (e->kind != SL_EXPR_FUNC || e->func.over)
        return false;
    for (int i = 0; aggregates[i]; i++)
        if (name_is(&e->func.name, aggregates[i]))
            return true;
    return false;
}

static bool has_agg(const sl_expr *e, int depth)
{
    if (!e || depth > 256)
        return false;
    if (sl_gen_is_aggregate(e))
        return true;
    switch (e->kind) {
    case SL_EXPR_FUNC:
        for (int i = 0; i < e->func.n_args; i++)
            if (has_agg(e->func.args[i], depth + 1))
                return true;
        return false;
    case SL_EXPR_UNARY:
        return has_agg(e->unary.operand, depth + 1);
    case SL_EXPR_BINARY:
        return has_agg(e->binary.left, depth + 1) ||
               has_agg(e->binary.right, depth + 1);
    case SL_EXPR_CASE:
        if (has_agg(e->case_.operand, depth + 1) ||
            has_agg(e->case_.else_, depth + 1))
            return true;
        for (int i = 0; i < e->case_.n_whens; i++)
            if (has_agg(e->case_.whens[i], depth + 1) ||
                has_agg(e->case_.thens[i], depth + 1))
                return true;
        return false;
    case SL_EXPR_CAST:
        return has_agg(e->cast.operand, depth + 1);
    case SL_EXPR_IS:
        return has_agg(e->is.operand, depth + 1);
    case SL_EXPR_BETWEEN:
        return has_agg(e->between.operand, depth + 1);
    default:
        return false;
    }
}

bool sl_gen_has_aggregate(const sl_expr *e)
{
    return has_agg(e, 0);
}

/* ---- casts --------------------------------------------------------------- */

static int type_rank(sl_type_id id)
{
    switch (id) {
    case SL_TYPE_TINYINT:
        return 1;
    case SL_TYPE_SMALLINT:
        return 2;
    case SL_TYPE_INT:
        return 3;
    case SL_TYPE_BIGINT:
        return 4;
    case SL_TYPE_DECIMAL:
        return 5;
    case SL_TYPE_FLOAT:
        return 6;
    case SL_TYPE_DOUBLE:
        return 7;
    default:
        return 0;
    }
}

bool sl_gen_assignable(const sl_type *from, const sl_type *to)
{
    if (from->id == SL_TYPE_NULL)
        return true;
    if (from->id == to->id)
        return true;
    if (sl_type_is_numeric(from) && sl_type_is_numeric(to))
        return true;
    if (sl_type_is_string(from) && sl_type_is_string(to))
        return true;
    if ((from->id == SL_TYPE_TIMESTAMP || from->id == SL_TYPE_TIMESTAMP_LTZ) &&
        (to->id == SL_TYPE_TIMESTAMP || to->id == SL_TYPE_TIMESTAMP_LTZ))
        return true;
    if ((from->id == SL_TYPE_BINARY || from->id == SL_TYPE_VARBINARY) &&
        (to->id == SL_TYPE_BINARY || to->id == SL_TYPE_VARBINARY))
        return true;
    return false;
}

int sl_gen_cast(sl_gen *g, const char *sql, const sl_type *from,
                const sl_type *to, bool is_try, sl_buf *out)
{
    if (from->id == SL_TYPE_NULL) {
        sl_buf_puts(out, "NULL");
        return out->rc;
    }
    bool same_storage = sl_type_storage(from) == sl_type_storage(to);
    bool noop = false;
    if (sl_type_equal(from, to))
        noop = true;
    else if (sl_type_is_integer(from) && sl_type_is_integer(to) &&
             type_rank(from->id) <= type_rank(to->id))
        noop = true; /* widening */
    else if (sl_type_is_string(from) && to->id == SL_TYPE_VARCHAR &&
             to->precision == SL_TYPE_MAX_LEN)
        noop = true;
    else if ((from->id == SL_TYPE_FLOAT || from->id == SL_TYPE_DOUBLE) &&
             to->id == SL_TYPE_DOUBLE)
        noop = true;
    else if (from->id == to->id && same_storage &&
             (from->id == SL_TYPE_TIMESTAMP ||
              from->id == SL_TYPE_TIMESTAMP_LTZ || from->id == SL_TYPE_TIME))
        noop = true;
    else if ((from->id == SL_TYPE_TIMESTAMP &&
              to->id == SL_TYPE_TIMESTAMP_LTZ) ||
             (from->id == SL_TYPE_TIMESTAMP_LTZ && to->id == SL_TYPE_TIMESTAMP))
        noop = true; /* both UTC epoch millis in Sluice */
    if (noop) {
        sl_buf_printf(out, "(%s)", sql);
        return out->rc;
    }
    sl_buf_printf(out, "\"%s\"(%s, '", is_try ? "sl_try_cast" : "sl_cast", sql);
    sl_type_format(from, out);
    sl_buf_puts(out, "', '");
    sl_type_format(to, out);
    sl_buf_puts(out, "')");
    SL_UNUSED(g);
    return out->rc;
}

/* ---- columns --------------------------------------------------------------
 */

static int resolve_column(sl_gen *g, const sl_scope *sc, const sl_expr *e,
                          sl_buf *out, const sl_type **type)
{
    const sl_name *n = &e->column;
    char *first = sl_arena_strndup(g->arena, n->parts[0].text, n->parts[0].len);
    int used = 0;
    const sl_rel_col *hit = NULL;
    /* qualified: t.col[.field...] */
    if (n->n_parts >= 2) {
        char *second =
            sl_arena_strndup(g->arena, n->parts[1].text, n->parts[1].len);
        for (int i = 0; i < sc->n; i++) {
            if (sc->cols[i].qual && !strcmp(sc->cols[i].qual, first) &&
                !strcmp(sc->cols[i].name, second)) {
                hit = &sc->cols[i];
                used = 2;
                break;
            }
        }
    }
    if (!hit) {
        int n_hits = 0;
        for (int i = 0; i < sc->n; i++) {
            if (!strcmp(sc->cols[i].name, first)) {
                if (!hit)
                    hit = &sc->cols[i];
                n_hits++;
            }
        }
        if (n_hits > 1)
            return sl_gen_error(g, SL_SQL, e->pos, "column '%s' is ambiguous",
                                first);
        used = 1;
    }
    if (!hit) {
        const char *best = NULL;
        int best_d = 3;
        const char *want =
            n->n_parts >= 2 && n->n_parts < 3
                ? sl_arena_strndup(g->arena, n->parts[1].text, n->parts[1].len)
                : first;
        for (int i = 0; i < sc->n; i++) {
            int d = sl_edit_distance(want, sc->cols[i].name, 2);
            if (d < best_d) {
                best_d = d;
                best = sc->cols[i].name;
            }
        }
        char *full = sl_name_join(n, g->arena);
        if (!sc->n)
            return sl_gen_error(g, SL_SQL, e->pos,
                                "column '%s' not found: the query has no "
                                "FROM clause",
                                full);
        if (best)
            return sl_gen_error(g, SL_SQL, e->pos,
                                "column '%s' not found (did you mean "
                                "'%s'?)",
                                full, best);
        return sl_gen_error(g, SL_SQL, e->pos, "column '%s' not found", full);
    }
    const sl_type *t = hit->type;
    sl_buf ref;
    sl_buf_init(&ref, 1 << 16);
    sl_buf_puts(&ref, hit->ref);
    /* remaining parts are ROW field accesses */
    for (int p = used; p < n->n_parts; p++) {
        if (t->id != SL_TYPE_ROW) {
            sl_buf_free(&ref);
            char *full = sl_name_join(n, g->arena);
            return sl_gen_error(g, SL_SQL, n->parts[p].pos,
                                "'%s': column is %s, not a ROW with fields",
                                full, sl_gen_type_text(g, t));
        }
        const sl_type *ft = NULL;
        for (int f = 0; f < t->n_fields; f++)
            if (strlen(t->fields[f].name) == n->parts[p].len &&
                !memcmp(t->fields[f].name, n->parts[p].text, n->parts[p].len))
                ft = t->fields[f].type;
        if (!ft) {
            sl_buf_free(&ref);
            return sl_gen_error(
                g, SL_SQL, n->parts[p].pos, "field '%.*s' not found in %s",
                (int)n->parts[p].len, n->parts[p].text, sl_gen_type_text(g, t));
        }
        sl_buf b;
        sl_buf_init(&b, 1 << 16);
        sl_buf_printf(&b, "\"sl_field\"(%s, ", sl_buf_cstr(&ref));
        sl_gen_string(&b, n->parts[p].text, n->parts[p].len);
        sl_buf_putc(&b, ')');
        sl_buf_free(&ref);
        ref = b;
        t = ft;
    }
    sl_buf_append(out, ref.data, ref.len);
    sl_buf_free(&ref);
    *type = t;
    return out->rc;
}

/* ---- literals -------------------------------------------------------------
 */

static int gen_literal(sl_gen *g, const sl_expr *e, sl_buf *out,
                       const sl_type **type)
{
    const sl_literal *l = &e->lit;
    switch (l->kind) {
    case SL_LIT_NULL:
        sl_buf_puts(out, "NULL");
        *type = sl_type_simple(SL_TYPE_NULL);
        break;
    case SL_LIT_BOOL:
        sl_buf_puts(out, l->b ? "1" : "0");
        *type = t_bool();
        break;
    case SL_LIT_INT:
        if (!l->i_valid) {
            /* too large for BIGINT: a DECIMAL(p, 0) */
            sl_buf_append(out, l->text, l->text_len);
            sl_buf_puts(out, ".0");
            *type = mk_type(g, SL_TYPE_DECIMAL, (int)l->text_len, 0);
        } else {
            sl_buf_printf(out, "%lld", (long long)l->i);
            *type = sl_type_simple(l->i >= INT32_MIN && l->i <= INT32_MAX
                                       ? SL_TYPE_INT
                                       : SL_TYPE_BIGINT);
        }
        break;
    case SL_LIT_DECIMAL: {
        sl_buf_append(out, l->text, l->text_len);
        const char *dot = memchr(l->text, '.', l->text_len);
        int scale = dot ? (int)(l->text + l->text_len - dot - 1) : 0;
        int digits = 0;
        for (size_t i = 0; i < l->text_len; i++)
            if (l->text[i] >= '0' && l->text[i] <= '9')
                digits++;
        *type = mk_type(g, SL_TYPE_DECIMAL, SL_MAX(digits, 1), scale);
        break;
    }
    case SL_LIT_DOUBLE:
        sl_buf_append(out, l->text, l->text_len);
        *type = sl_type_simple(SL_TYPE_DOUBLE);
        break;
    case SL_LIT_STRING:
        sl_gen_string(out, l->text, l->text_len);
        *type = mk_type(g, SL_TYPE_CHAR, (int)SL_MAX(l->text_len, 1), 0);
        break;
    case SL_LIT_BINARY:
        sl_buf_puts(out, "X'");
        sl_buf_append(out, l->text, l->text_len);
        sl_buf_putc(out, '\'');
        *type = mk_type(g, SL_TYPE_BINARY, (int)SL_MAX(l->text_len / 2, 1), 0);
        break;
    case SL_LIT_DATE:
        sl_buf_printf(out, "%lld", (long long)l->i);
        *type = sl_type_simple(SL_TYPE_DATE);
        break;
    case SL_LIT_TIME:
        sl_buf_printf(out, "%lld", (long long)l->i);
        *type = mk_type(g, SL_TYPE_TIME, 0, 0);
        break;
    case SL_LIT_TIMESTAMP:
    case SL_LIT_TIMESTAMP_LTZ: {
        sl_buf_printf(out, "%lld", (long long)l->i);
        int p = 0;
        const char *dot = l->text ? memchr(l->text, '.', l->text_len) : NULL;
        if (dot)
            p = (int)(l->text + l->text_len - dot - 1);
        *type = mk_type(g,
                        l->kind == SL_LIT_TIMESTAMP ? SL_TYPE_TIMESTAMP
                                                    : SL_TYPE_TIMESTAMP_LTZ,
                        SL_MIN(SL_MAX(p, 0), 9), 0);
        break;
    }
    }
    return out->rc;
}

/* A string literal compared with a temporal value: convert at plan time. */
static bool literal_as_temporal(const sl_expr *e, const sl_type *want,
                                int64_t *v)
{
    if (e->kind != SL_EXPR_LITERAL || e->lit.kind != SL_LIT_STRING)
        return false;
    switch (want->id) {
    case SL_TYPE_TIMESTAMP:
    case SL_TYPE_TIMESTAMP_LTZ:
        return sl_parse_timestamp(e->lit.text, e->lit.text_len, v) == SL_OK;
    case SL_TYPE_DATE:
        return sl_parse_date(e->lit.text, e->lit.text_len, v) == SL_OK;
    case SL_TYPE_TIME:
        return sl_parse_time(e->lit.text, e->lit.text_len, v) == SL_OK;
    default:
        return false;
    }
}

/* ---- operators -------------------------------------------------------------
 */

static const sl_type *numeric_result(sl_gen *g, const sl_type *a,
                                     const sl_type *b)
{
    if (a->id == SL_TYPE_NULL)
        return b;
    if (b->id == SL_TYPE_NULL)
        return a;
    if (a->id == SL_TYPE_DOUBLE || b->id == SL_TYPE_DOUBLE ||
        a->id == SL_TYPE_FLOAT || b->id == SL_TYPE_FLOAT)
        return sl_type_simple(SL_TYPE_DOUBLE);
    if (a->id == SL_TYPE_DECIMAL || b->id == SL_TYPE_DECIMAL) {
        int s = SL_MAX(a->id == SL_TYPE_DECIMAL ? a->scale : 0,
                       b->id == SL_TYPE_DECIMAL ? b->scale : 0);
        return mk_type(g, SL_TYPE_DECIMAL, 38, s);
    }
    return type_rank(a->id) >= type_rank(b->id) ? a : b;
}

static bool comparable(const sl_type *a, const sl_type *b)
{
    if (a->id == SL_TYPE_NULL || b->id == SL_TYPE_NULL)
        return true;
    if (sl_type_is_numeric(a) && sl_type_is_numeric(b))
        return true;
    if (sl_type_is_string(a) && sl_type_is_string(b))
        return true;
    if (sl_type_is_temporal(a) && sl_type_is_temporal(b))
        return true;
    return a->id == b->id;
}

static int gen_sub(sl_gen *g, const sl_scope *sc, const sl_expr *e, sl_buf *out,
                   const sl_type **type)
{
    sl_buf_putc(out, '(');
    int rc = sl_gen_expr(g, sc, e, out, type);
    sl_buf_putc(out, ')');
    return rc;
}

/* Render an operand of a comparison with other's type in mind. */
static int gen_cmp_operand(sl_gen *g, const sl_scope *sc, const sl_expr *e,
                           const sl_type *other, sl_buf *out,
                           const sl_type **type)
{
    int64_t v;
    if (other && sl_type_is_temporal(other) &&
        literal_as_temporal(e, other, &v)) {
        sl_buf_printf(out, "%lld", (long long)v);
        *type = other;
        return out->rc;
    }
    return gen_sub(g, sc, e, out, type);
}

static int type_of(sl_gen *g, const sl_scope *sc, const sl_expr *e,
                   const sl_type **type)
{
    sl_buf tmp;
    sl_buf_init(&tmp, 64u << 20);
    int rc = sl_gen_expr(g, sc, e, &tmp, type);
    sl_buf_free(&tmp);
    return rc;
}

static int gen_binary(sl_gen *g, const sl_scope *sc, const sl_expr *e,
                      sl_buf *out, const sl_type **type)
{
    const sl_expr *l = e->binary.left, *r = e->binary.right;
    const sl_type *lt = NULL, *rt = NULL;
    int rc;
    switch (e->binary.op) {
    case SL_BIN_AND:
    case SL_BIN_OR:
        rc = gen_sub(g, sc, l, out, &lt);
        if (rc)
            return rc;
        sl_buf_puts(out, e->binary.op == SL_BIN_AND ? " AND " : " OR ");
        rc = gen_sub(g, sc, r, out, &rt);
        if (rc)
            return rc;
        if ((lt->id != SL_TYPE_BOOLEAN && lt->id != SL_TYPE_NULL) ||
            (rt->id != SL_TYPE_BOOLEAN && rt->id != SL_TYPE_NULL))
            return sl_gen_error(
                g, SL_SQL, e->pos, "%s needs BOOLEAN operands, got %s and %s",
                e->binary.op == SL_BIN_AND ? "AND" : "OR",
                sl_gen_type_text(g, lt), sl_gen_type_text(g, rt));
        *type = t_bool();
        return out->rc;
    case SL_BIN_EQ:
    case SL_BIN_NE:
    case SL_BIN_LT:
    case SL_BIN_LE:
    case SL_BIN_GT:
    case SL_BIN_GE: {
        static const char *const ops[] = {
            [SL_BIN_EQ] = " = ",  [SL_BIN_NE] = " <> ", [SL_BIN_LT] = " < ",
            [SL_BIN_LE] = " <= ", [SL_BIN_GT] = " > ",  [SL_BIN_GE] = " >= "};
        rc = type_of(g, sc, l, &lt);
        if (!rc)
            rc = type_of(g, sc, r, &rt);
        if (rc)
            return rc;
        const sl_type *lt2, *rt2;
        rc = gen_cmp_operand(g, sc, l, rt, out, &lt2);
        if (rc)
            return rc;
        sl_buf_puts(out, ops[e->binary.op]);
        rc = gen_cmp_operand(g, sc, r, lt, out, &rt2);
        if (rc)
            return rc;
        if (!comparable(lt2, rt2))
            return sl_gen_error(g, SL_SQL, e->pos, "cannot compare %s with %s",
                                sl_gen_type_text(g, lt2),
                                sl_gen_type_text(g, rt2));
        *type = t_bool();
        return out->rc;
    }
    case SL_BIN_CONCAT:
        rc = gen_sub(g, sc, l, out, &lt);
        if (rc)
            return rc;
        sl_buf_puts(out, " || ");
        rc = gen_sub(g, sc, r, out, &rt);
        if (rc)
            return rc;
        *type = t_string();
        return out->rc;
    default:
        break;
    }
    /* arithmetic */
    rc = type_of(g, sc, l, &lt);
    if (!rc)
        rc = type_of(g, sc, r, &rt);
    if (rc)
        return rc;
    bool l_time = sl_type_is_temporal(lt), r_time = sl_type_is_temporal(rt);
    bool l_iv = lt->id == SL_TYPE_INTERVAL_DAY_TIME ||
                lt->id == SL_TYPE_INTERVAL_YEAR_MONTH;
    bool r_iv = rt->id == SL_TYPE_INTERVAL_DAY_TIME ||
                rt->id == SL_TYPE_INTERVAL_YEAR_MONTH;
    if ((l_time && r_iv) || (l_iv && r_time)) {
        if (e->binary.op != SL_BIN_ADD && e->binary.op != SL_BIN_SUB)
            return sl_gen_error(g, SL_SQL, e->pos,
                                "only + and - combine a time with an "
                                "INTERVAL");
        if (l_iv && e->binary.op == SL_BIN_SUB)
            return sl_gen_error(g, SL_SQL, e->pos,
                                "cannot subtract a time from an INTERVAL");
        const sl_expr *te = l_time ? l : r, *ie = l_time ? r : l;
        const sl_type *tt = l_time ? lt : rt, *it = l_time ? rt : lt;
        const char *sign = e->binary.op == SL_BIN_SUB ? "-" : "";
        if (it->id == SL_TYPE_INTERVAL_YEAR_MONTH) {
            sl_buf_puts(out, "\"TIMESTAMPADD\"('MONTH', ");
            sl_buf_puts(out, sign);
            rc = gen_sub(g, sc, ie, out, &it);
            if (!rc) {
                sl_buf_puts(out, ", ");
                rc = gen_sub(g, sc, te, out, &tt);
            }
            sl_buf_putc(out, ')');
        } else if (tt->id == SL_TYPE_DATE) {
            /* DATE +/- day-time interval: whole days */
            rc = gen_sub(g, sc, te, out, &tt);
            if (!rc) {
                sl_buf_printf(out, " %s (", *sign ? "-" : "+");
                rc = gen_sub(g, sc, ie, out, &it);
                sl_buf_puts(out, " / 86400000)");
            }
        } else {
            rc = gen_sub(g, sc, te, out, &tt);
            if (!rc) {
                sl_buf_printf(out, " %s ", *sign ? "-" : "+");
                rc = gen_sub(g, sc, ie, out, &it);
            }
        }
        *type = tt;
        return rc ? rc : out->rc;
    }
    if (l_iv && r_iv) {
        if (lt->id != rt->id ||
            (e->binary.op != SL_BIN_ADD && e->binary.op != SL_BIN_SUB))
            return sl_gen_error(g, SL_SQL, e->pos,
                                "cannot combine %s and %s with this operator",
                                sl_gen_type_text(g, lt),
                                sl_gen_type_text(g, rt));
    } else if (l_iv || r_iv) {
        if (e->binary.op != SL_BIN_MUL && e->binary.op != SL_BIN_DIV)
            return sl_gen_error(g, SL_SQL, e->pos,
                                "cannot combine %s and %s with this operator",
                                sl_gen_type_text(g, lt),
                                sl_gen_type_text(g, rt));
    } else if ((!sl_type_is_numeric(lt) && lt->id != SL_TYPE_NULL) ||
               (!sl_type_is_numeric(rt) && rt->id != SL_TYPE_NULL)) {
        return sl_gen_error(g, SL_SQL, e->pos,
                            "arithmetic needs numeric operands, got %s and %s",
                            sl_gen_type_text(g, lt), sl_gen_type_text(g, rt));
    }
    static const char *const ops[] = {[SL_BIN_ADD] = " + ",
                                      [SL_BIN_SUB] = " - ",
                                      [SL_BIN_MUL] = " * ",
                                      [SL_BIN_DIV] = " / ",
                                      [SL_BIN_MOD] = " % "};
    const sl_type *res = l_iv ? lt : r_iv ? rt : numeric_result(g, lt, rt);
    bool real_div = e->binary.op == SL_BIN_DIV &&
                    (res->id == SL_TYPE_DECIMAL) && !l_iv && !r_iv;
    rc = gen_sub(g, sc, l, out, &lt);
    if (rc)
        return rc;
    if (real_div)
        sl_buf_puts(out, " * 1.0");
    sl_buf_puts(out, ops[e->binary.op]);
    rc = gen_sub(g, sc, r, out, &rt);
    if (rc)
        return rc;
    *type = res;
    return out->rc;
}

/* ---- function calls --------------------------------------------------------
 */

typedef enum ret_rule {
    RET_CATALOG = 0, /* the functions/ catalog's declared return type */
    RET_ARG0,        /* type of the first argument */
    RET_ARG1,
    RET_ARG2,
    RET_COMMON,   /* common type of all arguments */
    RET_COMMON_1, /* common type of arguments from the second on */
    RET_FIXED,    /* .fixed */
} ret_rule;

typedef struct fn_rule {
    const char *name;
    ret_rule rule;
    sl_type_id fixed;
    int precision;
} fn_rule;

static const fn_rule fn_rules[] = {
    {"COALESCE", RET_COMMON, 0, 0},
    {"IFNULL", RET_COMMON, 0, 0},
    {"NULLIF", RET_ARG0, 0, 0},
    {"GREATEST", RET_COMMON, 0, 0},
    {"LEAST", RET_COMMON, 0, 0},
    {"IF", RET_COMMON_1, 0, 0},
    {"ABS", RET_ARG0, 0, 0},
    {"MOD", RET_COMMON, 0, 0},
    {"CEIL", RET_ARG0, 0, 0},
    {"CEILING", RET_ARG0, 0, 0},
    {"FLOOR", RET_ARG0, 0, 0},
    {"ROUND", RET_ARG0, 0, 0},
    {"TRUNCATE", RET_ARG0, 0, 0},
    {"SIGN", RET_ARG0, 0, 0},
    {"SUM", RET_ARG0, 0, 0},
    {"MIN", RET_ARG0, 0, 0},
    {"MAX", RET_ARG0, 0, 0},
    {"AVG", RET_ARG0, 0, 0},
    {"FIRST_VALUE", RET_ARG0, 0, 0},
    {"LAST_VALUE", RET_ARG0, 0, 0},
    {"COUNT", RET_FIXED, SL_TYPE_BIGINT, 0},
    {"LISTAGG", RET_FIXED, SL_TYPE_VARCHAR, SL_TYPE_MAX_LEN},
    {"PERCENTILE", RET_FIXED, SL_TYPE_DOUBLE, 0},
    {"STDDEV_POP", RET_FIXED, SL_TYPE_DOUBLE, 0},
    {"STDDEV_SAMP", RET_FIXED, SL_TYPE_DOUBLE, 0},
    {"VAR_POP", RET_FIXED, SL_TYPE_DOUBLE, 0},
    {"VAR_SAMP", RET_FIXED, SL_TYPE_DOUBLE, 0},
    {"NOW", RET_FIXED, SL_TYPE_TIMESTAMP_LTZ, 3},
    {"CURRENT_TIMESTAMP", RET_FIXED, SL_TYPE_TIMESTAMP_LTZ, 3},
    {"LOCALTIMESTAMP", RET_FIXED, SL_TYPE_TIMESTAMP, 3},
    {"PROCTIME", RET_FIXED, SL_TYPE_TIMESTAMP_LTZ, 3},
    {"CURRENT_ROW_TIMESTAMP", RET_FIXED, SL_TYPE_TIMESTAMP_LTZ, 3},
    {"CURRENT_DATE", RET_FIXED, SL_TYPE_DATE, 0},
    {"CURRENT_TIME", RET_FIXED, SL_TYPE_TIME, 0},
    {"LOCALTIME", RET_FIXED, SL_TYPE_TIME, 0},
    {"TO_TIMESTAMP", RET_FIXED, SL_TYPE_TIMESTAMP, 3},
    {"TO_TIMESTAMP_LTZ", RET_FIXED, SL_TYPE_TIMESTAMP_LTZ, 3},
    {"TO_DATE", RET_FIXED, SL_TYPE_DATE, 0},
    {"TIMESTAMPADD", RET_ARG2, 0, 0},
    {"TIME_FLOOR", RET_ARG0, 0, 0},
    {"TIME_CEIL", RET_ARG0, 0, 0},
    {NULL, 0, 0, 0},
};

static const sl_function_info *catalog_fn(const char *name)
{
    for (const sl_function_info *f = sl_functions_list(); f->name; f++)
        if (sl_str_ieq(f->name, name))
            return f;
    return NULL;
}

static const char *suggest_fn(const char *name)
{
    const char *best = NULL;
    int best_d = 3;
    for (const sl_function_info *f = sl_functions_list(); f->name; f++) {
        int d = sl_edit_distance(name, f->name, 2);
        if (d < best_d) {
            best_d = d;
            best = f->name;
        }
    }
    for (int i = 0; aggregates[i]; i++) {
        int d = sl_edit_distance(name, aggregates[i], 2);
        if (d < best_d) {
            best_d = d;
            best = aggregates[i];
        }
    }
    return best;
}

static const char *unit_name(sl_time_unit u)
{
    static const char *const names[] = {[SL_UNIT_NONE] = "NONE",
                                        [SL_UNIT_YEAR] = "YEAR",
                                        [SL_UNIT_QUARTER] = "QUARTER",
                                        [SL_UNIT_MONTH] = "MONTH",
                                        [SL_UNIT_WEEK] = "WEEK",
                                        [SL_UNIT_DAY] = "DAY",
                                        [SL_UNIT_HOUR] = "HOUR",
                                        [SL_UNIT_MINUTE] = "MINUTE",
                                        [SL_UNIT_SECOND] = "SECOND",
                                        [SL_UNIT_MILLISECOND] = "MILLISECOND",
                                        [SL_UNIT_MICROSECOND] = "MICROSECOND",
                                        [SL_UNIT_NANOSECOND] = "NANOSECOND"};
    return (unsigned)u < SL_ARRAY_LEN(names) ? names[u] : "NONE";
}

static const char *const temporal_fns[] = {
    "EXTRACT",   "YEAR",        "QUARTER",      "MONTH",         "WEEK",
    "DAYOFYEAR", "DAYOFMONTH",  "DAYOFWEEK",    "HOUR",          "MINUTE",
    "SECOND",    "DATE_FORMAT", "TIMESTAMPADD", "TIMESTAMPDIFF", "TIME_FLOOR",
    "TIME_CEIL", NULL};

static bool is_temporal_fn(const char *name)
{
    for (int i = 0; temporal_fns[i]; i++)
        if (!strcmp(temporal_fns[i], name))
            return true;
    return false;
}

/* Render a function argument; a DATE passed to a temporal function is
 * handed over as a timestamp (functions/ works on epoch milliseconds). */
static int gen_arg(sl_gen *g, const sl_scope *sc, const sl_expr *a,
                   bool temporal, sl_buf *out, const sl_type **type)
{
    if (!temporal)
        return sl_gen_expr(g, sc, a, out, type);
    sl_buf inner;
    sl_buf_init(&inner, 64u << 20);
    int rc = sl_gen_expr(g, sc, a, &inner, type);
    if (!rc && (*type)->id == SL_TYPE_DATE)
        sl_buf_printf(out, "\"sl_cast\"(%s, 'DATE', 'TIMESTAMP(3)')",
                      sl_buf_cstr(&inner));
    else if (!rc)
        sl_buf_append(out, inner.data, inner.len);
    sl_buf_free(&inner);
    return rc;
}

#define MAX_CALL_ARGS 256

static int gen_func(sl_gen *g, const sl_scope *sc, const sl_expr *e,
                    sl_buf *out, const sl_type **type)
{
    char *name = sl_name_join(&e->func.name, g->arena);
    if (!name)
        return sl_err_set(g->err, SL_NOMEM, "out of memory");
    for (char *p = name; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    int n = e->func.n_args;
    if (n > MAX_CALL_ARGS)
        return sl_gen_error(g, SL_LIMIT, e->pos, "%s: at most %d arguments",
                            name, MAX_CALL_ARGS);
    if (e->func.over)
        return sl_gen_error(g, SL_UNSUPPORTED, e->pos,
                            "OVER windows are not supported yet");
    if (e->func.filter)
        return sl_gen_error(g, SL_UNSUPPORTED, e->pos,
                            "FILTER (WHERE ...) is not supported yet");
    for (int i = 0; i < n; i++)
        if (e->func.args[i]->kind == SL_EXPR_NAMED_ARG ||
            e->func.args[i]->kind == SL_EXPR_TABLE_ARG ||
            e->func.args[i]->kind == SL_EXPR_MODEL_ARG ||
            e->func.args[i]->kind == SL_EXPR_DESCRIPTOR)
            return sl_gen_error(g, SL_UNSUPPORTED, e->func.args[i]->pos,
                                "%s: this argument form is only valid in "
                                "table functions",
                                name);
    const sl_type *argt[MAX_CALL_ARGS + 1];
    const sl_expr *const *args = (const sl_expr *const *)e->func.args;

    /* Special syntax first. */
    switch (e->func.syntax) {
    case SL_CALL_EXTRACT: {
        const char *u =
            args[0]->kind == SL_EXPR_SYMBOL ? args[0]->symbol.text : "?";
        sl_buf_printf(out, "\"EXTRACT\"('%s', ", u);
        int rc = gen_arg(g, sc, args[1], true, out, &argt[1]);
        sl_buf_putc(out, ')');
        *type = sl_type_simple(SL_TYPE_BIGINT);
        return rc;
    }
    case SL_CALL_FLOOR_TO:
    case SL_CALL_CEIL_TO: {
        sl_buf call;
        sl_buf_init(&call, 64u << 20);
        sl_buf_printf(&call, "\"%s\"(",
                      e->func.syntax == SL_CALL_FLOOR_TO ? "TIME_FLOOR"
                                                         : "TIME_CEIL");
        int rc = gen_arg(g, sc, args[0], true, &call, type);
        sl_buf_printf(&call, ", '%s')",
                      args[1]->kind == SL_EXPR_SYMBOL ? args[1]->symbol.text
                                                      : "?");
        if (!rc && (*type)->id == SL_TYPE_DATE)
            sl_buf_printf(out, "\"sl_cast\"(%s, 'TIMESTAMP(3)', 'DATE')",
                          sl_buf_cstr(&call));
        else if (!rc)
            sl_buf_append(out, call.data, call.len);
        sl_buf_free(&call);
        return rc;
    }
    case SL_CALL_TRIM: {
        const char *spec =
            args[0]->kind == SL_EXPR_SYMBOL ? args[0]->symbol.text : "BOTH";
        const char *fn = !strcmp(spec, "LEADING")    ? "LTRIM"
                         : !strcmp(spec, "TRAILING") ? "RTRIM"
                                                     : "TRIM";
        sl_buf_printf(out, "\"%s\"(", fn);
        int rc = sl_gen_expr(g, sc, args[2], out, &argt[2]);
        sl_buf_puts(out, ", ");
        if (!rc)
            rc = sl_gen_expr(g, sc, args[1], out, &argt[1]);
        sl_buf_putc(out, ')');
        *type = t_string();
        return rc;
    }
    default:
        break;
    }

    if (!strcmp(name, "IF") && n == 3) {
        /* IF is a keyword in SQLite: a CASE does the same */
        sl_buf_puts(out, "CASE WHEN ");
        int rc = gen_sub(g, sc, args[0], out, &argt[0]);
        sl_buf_puts(out, " THEN ");
        if (!rc)
            rc = gen_sub(g, sc, args[1], out, &argt[1]);
        sl_buf_puts(out, " ELSE ");
        if (!rc)
            rc = gen_sub(g, sc, args[2], out, &argt[2]);
        sl_buf_puts(out, " END");
        if (rc)
            return rc;
        *type = numeric_result(g, argt[1], argt[2]);
        if (!sl_type_is_numeric(*type))
            *type = argt[1]->id == SL_TYPE_NULL ? argt[2] : argt[1];
        return out->rc;
    }
    if (n == 0 &&
        (!strcmp(name, "CURRENT_TIMESTAMP") || !strcmp(name, "CURRENT_DATE") ||
         !strcmp(name, "CURRENT_TIME"))) {
        /* SQLite reserves these keywords (and returns text for them) */
        bool date = !strcmp(name, "CURRENT_DATE");
        bool time = !strcmp(name, "CURRENT_TIME");
        sl_buf_puts(out, date   ? "\"sl_current_date\"()"
                         : time ? "\"sl_current_time\"()"
                                : "\"sl_current_timestamp\"()");
        *type = date   ? sl_type_simple(SL_TYPE_DATE)
                : time ? mk_type(g, SL_TYPE_TIME, 0, 0)
                       : mk_type(g, SL_TYPE_TIMESTAMP_LTZ, 3, 0);
        return out->rc;
    }

    if (!strcmp(name, "CURRENT_WATERMARK"))
        return sl_window_gen_current_watermark(g, sc, e, out, type);
    if (!strcmp(name, "LLM_CALL") || !strcmp(name, "EMBED"))
        return sl_gen_error(g, SL_UNSUPPORTED, e->pos,
                            "%s is supported in the SELECT list and WHERE "
                            "clause of a query over a table, not here",
                            name);
    bool is_agg = sl_gen_is_aggregate(e);
    const sl_function_info *fi = is_agg ? NULL : catalog_fn(name);
    if (!is_agg && !fi) {
        const char *hint = suggest_fn(name);
        if (hint)
            return sl_gen_error(g, SL_SQL, e->pos,
                                "unknown function '%s' (did you mean "
                                "'%s'?)",
                                name, hint);
        return sl_gen_error(g, SL_SQL, e->pos, "unknown function '%s'", name);
    }
    if (fi && (n < fi->min_args || (fi->max_args >= 0 && n > fi->max_args))) {
        if (fi->min_args == fi->max_args)
            return sl_gen_error(
                g, SL_SQL, e->pos, "%s takes %d argument%s, got %d (%s)", name,
                fi->min_args, fi->min_args == 1 ? "" : "s", n, fi->signature);
        return sl_gen_error(g, SL_SQL, e->pos,
                            "wrong number of arguments for %s: got %d (%s)",
                            name, n, fi->signature);
    }
    const char *sqlname = name;
    if (is_agg) {
        if (!strcmp(name, "LISTAGG"))
            sqlname = "group_concat";
        else if (!strcmp(name, "PERCENTILE"))
            sqlname = "sl_percentile"; /* functions/fn_agg.c */
        else if (!strcmp(name, "COUNT") || !strcmp(name, "SUM") ||
                 !strcmp(name, "MIN") || !strcmp(name, "MAX") ||
                 !strcmp(name, "AVG"))
            sqlname = name;
        else
            return sl_gen_error(g, SL_UNSUPPORTED, e->pos,
                                "aggregate %s is not supported yet", name);
    }
    bool temporal = is_temporal_fn(name);
    bool date_back = false;
    if (!strcmp(name, "TIMESTAMPADD") && n == 3) {
        const sl_type *t3 = NULL;
        int rc = type_of(g, sc, args[2], &t3);
        if (rc)
            return rc;
        if (t3->id == SL_TYPE_DATE) {
            date_back = true;
            sl_buf_puts(out, "\"sl_cast\"(");
        }
    }
    sl_buf_putc(out, '"');
    sl_buf_puts(out, sqlname);
    sl_buf_puts(out, "\"(");
    if (e->func.distinct)
        sl_buf_puts(out, "DISTINCT ");
    if (e->func.star)
        sl_buf_putc(out, '*');
    for (int i = 0; i < n; i++) {
        if (i)
            sl_buf_puts(out, ", ");
        const sl_expr *a = args[i];
        if (a->kind == SL_EXPR_SYMBOL) {
            /* TIMESTAMPADD(DAY, ...): the unit as a string */
            sl_buf_printf(out, "'%s'", a->symbol.text);
            argt[i] = t_string();
            continue;
        }
        if (a->kind == SL_EXPR_COLUMN && a->column.n_parts == 1 &&
            (!strcmp(name, "TIMESTAMPADD") || !strcmp(name, "TIMESTAMPDIFF")) &&
            i == 0) {
            sl_buf_putc(out, '\'');
            sl_buf_append(out, a->column.parts[0].text, a->column.parts[0].len);
            sl_buf_putc(out, '\'');
            argt[i] = t_string();
            continue;
        }
        int rc = gen_arg(g, sc, a, temporal, out, &argt[i]);
        if (rc)
            return rc;
    }
    sl_buf_putc(out, ')');
    if (date_back)
        sl_buf_puts(out, ", 'TIMESTAMP(3)', 'DATE')");
    SL_UNUSED(unit_name);

    /* return type */
    const fn_rule *rule = NULL;
    for (const fn_rule *r = fn_rules; r->name; r++)
        if (!strcmp(r->name, name))
            rule = r;
    ret_rule rr = rule ? rule->rule : RET_CATALOG;
    switch (rr) {
    case RET_FIXED:
        *type = mk_type(g, rule->fixed, rule->precision, 0);
        if (!strcmp(name, "PERCENTILE") && n > 1 &&
            args[1]->kind == SL_EXPR_ARRAY) { /* ARRAY<DOUBLE> */
            sl_type *t = sl_arena_alloc(g->arena, sizeof(*t));
            if (!t)
                return sl_err_set(g->err, SL_NOMEM, "out of memory");
            memset(t, 0, sizeof(*t));
            t->id = SL_TYPE_ARRAY;
            t->elem = *type;
            *type = t;
        }
        break;
    case RET_ARG0:
    case RET_ARG1:
    case RET_ARG2: {
        int k = rr == RET_ARG0 ? 0 : rr == RET_ARG1 ? 1 : 2;
        *type = k < n ? argt[k] : t_string();
        break;
    }
    case RET_COMMON:
    case RET_COMMON_1: {
        const sl_type *t = sl_type_simple(SL_TYPE_NULL);
        for (int i = rr == RET_COMMON ? 0 : 1; i < n; i++) {
            if (t->id == SL_TYPE_NULL)
                t = argt[i];
            else if (sl_type_is_numeric(t) && sl_type_is_numeric(argt[i]))
                t = numeric_result(g, t, argt[i]);
            else if (sl_type_is_string(t) && sl_type_is_string(argt[i]))
                t = t_string();
        }
        *type = t;
        break;
    }
    case RET_CATALOG:
    default: {
        const sl_type *t = NULL;
        if (fi && fi->returns) {
            sl_err perr;
            sl_err_clear(&perr);
            if (sl_parse_type(fi->returns, strlen(fi->returns), g->arena, &t,
                              &perr))
                t = NULL;
        }
        if (!t)
            t = n > 0 ? argt[0] : t_string();
        *type = t;
    }
    }
    return out->rc;
}

/* ---- the walk ---------------------------------------------------------------
 */

int sl_gen_expr(sl_gen *g, const sl_scope *sc, const sl_expr *e, sl_buf *out,
                const sl_type **type)
{
    if (++g->depth > 400) {
        g->depth--;
        return sl_gen_error(g, SL_LIMIT, e->pos, "expression nests too deep");
    }
    if (g->n_wsubst) {
        int hit = sl_window_subst(g, e, out, type);
        if (hit) {
            g->depth--;
            return hit > 0 ? SL_OK : g->err->code;
        }
    }
    int rc = SL_OK;
    const sl_type *t = NULL, *t2 = NULL;
    for (int i = 0; i < g->n_subst; i++) {
        if (g->subst_expr[i] == e) {
            sl_buf_puts(out, g->subst_ref[i]);
            *type = g->subst_type[i];
            g->depth--;
            return out->rc;
        }
    }
    switch (e->kind) {
    case SL_EXPR_LITERAL:
        rc = gen_literal(g, e, out, type);
        break;
    case SL_EXPR_COLUMN:
        rc = resolve_column(g, sc, e, out, type);
        break;
    case SL_EXPR_STAR:
        rc = sl_gen_error(g, SL_SQL, e->pos, "'*' is not allowed here");
        break;
    case SL_EXPR_FUNC:
        rc = gen_func(g, sc, e, out, type);
        break;
    case SL_EXPR_UNARY:
        if (e->unary.op == SL_UNARY_NOT) {
            sl_buf_puts(out, "NOT ");
            rc = gen_sub(g, sc, e->unary.operand, out, &t);
            if (!rc && t->id != SL_TYPE_BOOLEAN && t->id != SL_TYPE_NULL)
                rc = sl_gen_error(g, SL_SQL, e->pos,
                                  "NOT needs a BOOLEAN operand, got %s",
                                  sl_gen_type_text(g, t));
            *type = t_bool();
        } else {
            sl_buf_puts(out, e->unary.op == SL_UNARY_NEG ? "-" : "+");
            rc = gen_sub(g, sc, e->unary.operand, out, &t);
            if (!rc && !sl_type_is_numeric(t) && t->id != SL_TYPE_NULL &&
                t->id != SL_TYPE_INTERVAL_DAY_TIME &&
                t->id != SL_TYPE_INTERVAL_YEAR_MONTH)
                rc = sl_gen_error(g, SL_SQL, e->pos,
                                  "unary %s needs a number, got %s",
                                  e->unary.op == SL_UNARY_NEG ? "-" : "+",
                                  sl_gen_type_text(g, t));
            *type = t;
        }
        break;
    case SL_EXPR_BINARY:
        rc = gen_binary(g, sc, e, out, type);
        break;
    case SL_EXPR_CASE: {
        sl_buf_puts(out, "CASE");
        if (e->case_.operand) {
            sl_buf_putc(out, ' ');
            rc = gen_sub(g, sc, e->case_.operand, out, &t);
        }
        const sl_type *res = sl_type_simple(SL_TYPE_NULL);
        for (int i = 0; i < e->case_.n_whens && !rc; i++) {
            sl_buf_puts(out, " WHEN ");
            rc = gen_sub(g, sc, e->case_.whens[i], out, &t2);
            if (rc)
                break;
            if (!e->case_.operand && t2->id != SL_TYPE_BOOLEAN &&
                t2->id != SL_TYPE_NULL) {
                rc = sl_gen_error(g, SL_SQL, e->case_.whens[i]->pos,
                                  "CASE WHEN needs a BOOLEAN condition, got "
                                  "%s",
                                  sl_gen_type_text(g, t2));
                break;
            }
            sl_buf_puts(out, " THEN ");
            rc = gen_sub(g, sc, e->case_.thens[i], out, &t2);
            if (rc)
                break;
            if (res->id == SL_TYPE_NULL)
                res = t2;
            else if (sl_type_is_numeric(res) && sl_type_is_numeric(t2))
                res = numeric_result(g, res, t2);
            else if (sl_type_is_string(res) && sl_type_is_string(t2))
                res = t_string();
        }
        if (!rc && e->case_.else_) {
            sl_buf_puts(out, " ELSE ");
            rc = gen_sub(g, sc, e->case_.else_, out, &t2);
            if (!rc) {
                if (res->id == SL_TYPE_NULL)
                    res = t2;
                else if (sl_type_is_numeric(res) && sl_type_is_numeric(t2))
                    res = numeric_result(g, res, t2);
                else if (sl_type_is_string(res) && sl_type_is_string(t2))
                    res = t_string();
            }
        }
        sl_buf_puts(out, " END");
        *type = res;
        break;
    }
    case SL_EXPR_CAST: {
        sl_buf inner;
        sl_buf_init(&inner, 64u << 20);
        rc = sl_gen_expr(g, sc, e->cast.operand, &inner, &t);
        if (!rc)
            rc = sl_gen_cast(g, sl_buf_cstr(&inner), t, e->cast.type,
                             e->cast.is_try, out);
        sl_buf_free(&inner);
        *type = e->cast.type;
        break;
    }
    case SL_EXPR_IN_LIST: {
        rc = gen_sub(g, sc, e->in_list.operand, out, &t);
        sl_buf_puts(out, e->in_list.not_ ? " NOT IN (" : " IN (");
        for (int i = 0; i < e->in_list.n_items && !rc; i++) {
            if (i)
                sl_buf_puts(out, ", ");
            rc = gen_cmp_operand(g, sc, e->in_list.items[i], t, out, &t2);
            if (!rc && !comparable(t, t2))
                rc = sl_gen_error(g, SL_SQL, e->in_list.items[i]->pos,
                                  "IN list item of type %s cannot be "
                                  "compared with %s",
                                  sl_gen_type_text(g, t2),
                                  sl_gen_type_text(g, t));
        }
        sl_buf_putc(out, ')');
        *type = t_bool();
        break;
    }
    case SL_EXPR_IN_QUERY:
    case SL_EXPR_SUBQUERY:
    case SL_EXPR_EXISTS:
        rc = sl_gen_error(g, SL_UNSUPPORTED, e->pos,
                          "subqueries in expressions are not supported yet");
        break;
    case SL_EXPR_BETWEEN: {
        sl_buf op;
        sl_buf_init(&op, 64u << 20);
        rc = gen_sub(g, sc, e->between.operand, &op, &t);
        sl_buf lo, hi;
        sl_buf_init(&lo, 64u << 20);
        sl_buf_init(&hi, 64u << 20);
        if (!rc)
            rc = gen_cmp_operand(g, sc, e->between.low, t, &lo, &t2);
        if (!rc)
            rc = gen_cmp_operand(g, sc, e->between.high, t, &hi, &t2);
        if (!rc) {
            const char *neg = e->between.not_ ? "NOT " : "";
            if (e->between.symmetric)
                sl_buf_printf(out,
                              "%s(%s BETWEEN %s AND %s OR %s BETWEEN %s AND "
                              "%s)",
                              neg, op.data, lo.data, hi.data, op.data, hi.data,
                              lo.data);
            else
                sl_buf_printf(out, "%s %sBETWEEN %s AND %s", op.data, neg,
                              lo.data, hi.data);
        }
        sl_buf_free(&op);
        sl_buf_free(&lo);
        sl_buf_free(&hi);
        *type = t_bool();
        break;
    }
    case SL_EXPR_LIKE:
        if (e->like.similar) {
            rc = sl_gen_error(g, SL_UNSUPPORTED, e->pos,
                              "SIMILAR TO is not supported yet");
            break;
        }
        rc = gen_sub(g, sc, e->like.operand, out, &t);
        sl_buf_puts(out, e->like.not_ ? " NOT LIKE " : " LIKE ");
        if (!rc)
            rc = gen_sub(g, sc, e->like.pattern, out, &t2);
        if (!rc && e->like.escape) {
            sl_buf_puts(out, " ESCAPE ");
            rc = gen_sub(g, sc, e->like.escape, out, &t2);
        }
        *type = t_bool();
        break;
    case SL_EXPR_IS:
        rc = gen_sub(g, sc, e->is.operand, out, &t);
        switch (e->is.what) {
        case SL_IS_NULL:
        case SL_IS_UNKNOWN:
            sl_buf_puts(out, e->is.not_ ? " IS NOT NULL" : " IS NULL");
            break;
        case SL_IS_TRUE:
            sl_buf_puts(out, e->is.not_ ? " IS NOT 1" : " IS 1");
            break;
        case SL_IS_FALSE:
            sl_buf_puts(out, e->is.not_ ? " IS NOT 0" : " IS 0");
            break;
        case SL_IS_DISTINCT_FROM:
            sl_buf_puts(out, e->is.not_ ? " IS " : " IS NOT ");
            if (!rc)
                rc = gen_cmp_operand(g, sc, e->is.rhs, t, out, &t2);
            break;
        }
        *type = t_bool();
        break;
    case SL_EXPR_INTERVAL:
        if (e->interval.year_month) {
            sl_buf_printf(out, "%lld", (long long)e->interval.months);
            *type = sl_type_simple(SL_TYPE_INTERVAL_YEAR_MONTH);
        } else {
            sl_buf_printf(out, "%lld", (long long)e->interval.millis);
            *type = sl_type_simple(SL_TYPE_INTERVAL_DAY_TIME);
        }
        break;
    case SL_EXPR_ARRAY:
    case SL_EXPR_MAP:
    case SL_EXPR_ROW: {
        const char *fn = e->kind == SL_EXPR_ARRAY ? "sl_array"
                         : e->kind == SL_EXPR_MAP ? "sl_map"
                                                  : "JSON_OBJECT";
        sl_buf_printf(out, "\"%s\"(", fn);
        int nf = e->list.n_items;
        const sl_type *elem = sl_type_simple(SL_TYPE_NULL);
        const sl_type *val = sl_type_simple(SL_TYPE_NULL);
        sl_field *fields =
            sl_arena_alloc(g->arena, sizeof(sl_field) * (size_t)(nf + 1));
        if (!fields) {
            rc = sl_err_set(g->err, SL_NOMEM, "out of memory");
            break;
        }
        for (int i = 0; i < nf && !rc; i++) {
            if (i)
                sl_buf_puts(out, ", ");
            if (e->kind == SL_EXPR_ROW) {
                char nm[32];
                sl_snprintf(nm, sizeof(nm), "EXPR$%d", i);
                sl_gen_string(out, nm, strlen(nm));
                sl_buf_puts(out, ", ");
                fields[i].name = sl_arena_strndup(g->arena, nm, strlen(nm));
            }
            rc = sl_gen_expr(g, sc, e->list.items[i], out, &t2);
            if (rc)
                break;
            if (e->kind == SL_EXPR_ROW) {
                fields[i].type = t2;
            } else if (e->kind == SL_EXPR_MAP && i % 2) {
                val = val->id == SL_TYPE_NULL ? t2 : val;
            } else {
                if (elem->id == SL_TYPE_NULL)
                    elem = t2;
                else if (sl_type_is_numeric(elem) && sl_type_is_numeric(t2))
                    elem = numeric_result(g, elem, t2);
                else if (sl_type_is_string(elem) && sl_type_is_string(t2))
                    elem = t_string();
            }
        }
        sl_buf_putc(out, ')');
        if (rc)
            break;
        sl_type *nt = sl_arena_alloc(g->arena, sizeof(*nt));
        if (!nt) {
            rc = sl_err_set(g->err, SL_NOMEM, "out of memory");
            break;
        }
        memset(nt, 0, sizeof(*nt));
        nt->id = e->kind == SL_EXPR_ARRAY ? SL_TYPE_ARRAY
                 : e->kind == SL_EXPR_MAP ? SL_TYPE_MAP
                                          : SL_TYPE_ROW;
        if (sl_type_is_string(elem))
            elem = t_string();
        if (sl_type_is_string(val))
            val = t_string();
        nt->elem = elem;
        nt->value = e->kind == SL_EXPR_MAP ? val : NULL;
        if (e->kind == SL_EXPR_ROW) {
            nt->n_fields = nf;
            nt->fields = fields;
            nt->elem = NULL;
        }
        *type = nt;
        break;
    }
    case SL_EXPR_FIELD: {
        rc = type_of(g, sc, e->field.base, &t);
        if (rc)
            break;
        if (t->id != SL_TYPE_ROW) {
            rc = sl_gen_error(g, SL_SQL, e->pos,
                              "field access needs a ROW, got %s",
                              sl_gen_type_text(g, t));
            break;
        }
        const sl_type *ft = NULL;
        for (int f = 0; f < t->n_fields; f++)
            if (strlen(t->fields[f].name) == e->field.field.len &&
                !memcmp(t->fields[f].name, e->field.field.text,
                        e->field.field.len))
                ft = t->fields[f].type;
        if (!ft) {
            rc = sl_gen_error(g, SL_SQL, e->field.field.pos,
                              "field '%.*s' not found in %s",
                              (int)e->field.field.len, e->field.field.text,
                              sl_gen_type_text(g, t));
            break;
        }
        sl_buf_puts(out, "\"sl_field\"(");
        rc = sl_gen_expr(g, sc, e->field.base, out, &t);
        sl_buf_puts(out, ", ");
        sl_gen_string(out, e->field.field.text, e->field.field.len);
        sl_buf_putc(out, ')');
        *type = ft;
        break;
    }
    case SL_EXPR_SUBSCRIPT: {
        rc = type_of(g, sc, e->subscript.base, &t);
        if (rc)
            break;
        if (t->id != SL_TYPE_ARRAY && t->id != SL_TYPE_MAP) {
            rc = sl_gen_error(g, SL_SQL, e->pos,
                              "[] needs an ARRAY or a MAP, got %s",
                              sl_gen_type_text(g, t));
            break;
        }
        sl_buf_printf(out, "\"%s\"(",
                      t->id == SL_TYPE_ARRAY ? "sl_item" : "sl_map_get");
        rc = sl_gen_expr(g, sc, e->subscript.base, out, &t);
        sl_buf_puts(out, ", ");
        if (!rc)
            rc = sl_gen_expr(g, sc, e->subscript.index, out, &t2);
        sl_buf_putc(out, ')');
        *type = t->id == SL_TYPE_ARRAY ? t->elem : t->value;
        if (!*type)
            *type = t_string();
        break;
    }
    case SL_EXPR_NAMED_ARG:
    case SL_EXPR_DESCRIPTOR:
    case SL_EXPR_TABLE_ARG:
    case SL_EXPR_MODEL_ARG:
        rc = sl_gen_error(g, SL_SQL, e->pos,
                          "this argument form is only valid in table "
                          "functions");
        break;
    case SL_EXPR_SYMBOL:
        rc = sl_gen_error(g, SL_SQL, e->pos, "unexpected keyword '%s'",
                          e->symbol.text);
        break;
    default:
        rc = sl_gen_error(g, SL_ERROR, e->pos, "internal: expression kind %d",
                          (int)e->kind);
    }
    g->depth--;
    if (!rc && out->rc)
        rc = sl_err_set(g->err, out->rc, "expression too large");
    if (!rc && !*type)
        *type = t_string();
    return rc;
}
