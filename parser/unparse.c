/*
 * unparse.c: AST -> canonical SQL text, the inverse of parser.c.
 *
 * The canonical form is what SHOW CREATE, EXPLAIN and the golden tests
 * print: keywords and unquoted function names in upper case, identifiers
 * in backticks only when needed, single spaces, ", " between list items and
 * parentheses exactly where operator precedence needs them (the AST has no
 * parenthesis nodes). Parsing the output again yields an equal AST
 * (sl_ast_stmt_equal); tests/sql/parse checks this for every construct.
 * planner/ reuses the expression printer through sl_unparse_hooks to emit
 * SQLite SQL for stages.
 */
#include <string.h>

#include "parser_int.h"

typedef struct printer {
    sl_buf *out;
    const sl_unparse_hooks *hooks;
    int rc; /* a hook's error; stops printing */
} printer;

static void print_expr(printer *pr, const sl_expr *e, int min_prec);
static void print_query(printer *pr, const sl_query *q);
static void print_window_spec(printer *pr, const sl_window_spec *w);

static void puts_(printer *pr, const char *s)
{
    sl_buf_puts(pr->out, s);
}

/* ---- identifiers, strings, types ----------------------------------------- */

static bool plain_word(const char *s, size_t len)
{
    if (len == 0)
        return false;
    unsigned char c = (unsigned char)s[0];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
          c >= 0x80))
        return false;
    for (size_t i = 1; i < len; i++) {
        c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              c >= 0x80 || (c >= '0' && c <= '9') || c == '$'))
            return false;
    }
    return true;
}

static void backticks(sl_buf *out, const char *text, size_t len)
{
    sl_buf_putc(out, '`');
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '`')
            sl_buf_putc(out, '`');
        sl_buf_putc(out, text[i]);
    }
    sl_buf_putc(out, '`');
}

int sl_unparse_ident(const char *text, size_t len, sl_buf *out)
{
    if (plain_word(text, len) && !sl_kw_is_reserved(sl_kw_lookup(text, len)))
        sl_buf_append(out, text, len);
    else
        backticks(out, text, len);
    return out->rc;
}

static void ident(printer *pr, const sl_ident *id)
{
    sl_unparse_ident(id->text, id->len, pr->out);
}

static void name(printer *pr, const sl_name *n)
{
    for (int i = 0; i < n->n_parts; i++) {
        if (i)
            sl_buf_putc(pr->out, '.');
        ident(pr, &n->parts[i]);
    }
}

static void ident_list(printer *pr, int n, const sl_ident *ids)
{
    sl_buf_putc(pr->out, '(');
    for (int i = 0; i < n; i++) {
        if (i)
            puts_(pr, ", ");
        ident(pr, &ids[i]);
    }
    sl_buf_putc(pr->out, ')');
}

static void string_lit(sl_buf *out, const char *s, size_t len)
{
    sl_buf_putc(out, '\'');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\'')
            sl_buf_putc(out, '\'');
        sl_buf_putc(out, s[i]);
    }
    sl_buf_putc(out, '\'');
}

static void cstring(printer *pr, const char *s)
{
    string_lit(pr->out, s, strlen(s));
}

int sl_unparse_type(const sl_type *t, sl_buf *out)
{
    switch (t->id) {
    case SL_TYPE_DECIMAL:
        sl_buf_printf(out, "DECIMAL(%d, %d)", t->precision, t->scale);
        break;
    case SL_TYPE_CHAR:
        sl_buf_printf(out, "CHAR(%d)", t->precision);
        break;
    case SL_TYPE_VARCHAR:
        if (t->precision == SL_TYPE_MAX_LEN)
            sl_buf_puts(out, "STRING");
        else
            sl_buf_printf(out, "VARCHAR(%d)", t->precision);
        break;
    case SL_TYPE_BINARY:
        sl_buf_printf(out, "BINARY(%d)", t->precision);
        break;
    case SL_TYPE_VARBINARY:
        if (t->precision == SL_TYPE_MAX_LEN)
            sl_buf_puts(out, "BYTES");
        else
            sl_buf_printf(out, "VARBINARY(%d)", t->precision);
        break;
    case SL_TYPE_TIME:
        if (t->precision)
            sl_buf_printf(out, "TIME(%d)", t->precision);
        else
            sl_buf_puts(out, "TIME");
        break;
    case SL_TYPE_TIMESTAMP:
        sl_buf_printf(out, "TIMESTAMP(%d)", t->precision);
        break;
    case SL_TYPE_TIMESTAMP_LTZ:
        sl_buf_printf(out, "TIMESTAMP_LTZ(%d)", t->precision);
        break;
    case SL_TYPE_ARRAY:
        sl_buf_puts(out, "ARRAY<");
        if (t->elem)
            sl_unparse_type(t->elem, out);
        sl_buf_putc(out, '>');
        break;
    case SL_TYPE_MAP:
        sl_buf_puts(out, "MAP<");
        if (t->elem)
            sl_unparse_type(t->elem, out);
        sl_buf_puts(out, ", ");
        if (t->value)
            sl_unparse_type(t->value, out);
        sl_buf_putc(out, '>');
        break;
    case SL_TYPE_ROW:
        sl_buf_puts(out, "ROW<");
        for (int i = 0; i < t->n_fields; i++) {
            if (i)
                sl_buf_puts(out, ", ");
            sl_unparse_ident(t->fields[i].name, strlen(t->fields[i].name), out);
            sl_buf_putc(out, ' ');
            sl_unparse_type(t->fields[i].type, out);
        }
        sl_buf_putc(out, '>');
        break;
    default:
        sl_buf_puts(out, sl_type_id_name(t->id));
        break;
    }
    if (t->not_null)
        sl_buf_puts(out, " NOT NULL");
    return out->rc;
}

/* ---- expressions ------------------------------------------------------------
 */

enum {
    PREC_OR = 1,
    PREC_AND,
    PREC_NOT,
    PREC_CMP, /* comparisons, IS, IN, BETWEEN, LIKE */
    PREC_ADD,
    PREC_MUL, /* * / % || */
    PREC_UNARY,
    PREC_POSTFIX,
    PREC_PRIMARY
};

static int prec(const sl_expr *e)
{
    switch (e->kind) {
    case SL_EXPR_BINARY:
        switch (e->binary.op) {
        case SL_BIN_OR:
            return PREC_OR;
        case SL_BIN_AND:
            return PREC_AND;
        case SL_BIN_ADD:
        case SL_BIN_SUB:
            return PREC_ADD;
        case SL_BIN_MUL:
        case SL_BIN_DIV:
        case SL_BIN_MOD:
        case SL_BIN_CONCAT:
            return PREC_MUL;
        default:
            return PREC_CMP;
        }
    case SL_EXPR_UNARY:
        return e->unary.op == SL_UNARY_NOT ? PREC_NOT : PREC_UNARY;
    case SL_EXPR_IS:
    case SL_EXPR_IN_LIST:
    case SL_EXPR_IN_QUERY:
    case SL_EXPR_BETWEEN:
    case SL_EXPR_LIKE:
        return PREC_CMP;
    case SL_EXPR_SUBSCRIPT:
    case SL_EXPR_FIELD:
        return PREC_POSTFIX;
    default:
        return PREC_PRIMARY;
    }
}

static const char *binop_text(sl_binary_op op)
{
    switch (op) {
    case SL_BIN_OR:
        return "OR";
    case SL_BIN_AND:
        return "AND";
    case SL_BIN_EQ:
        return "=";
    case SL_BIN_NE:
        return "<>";
    case SL_BIN_LT:
        return "<";
    case SL_BIN_LE:
        return "<=";
    case SL_BIN_GT:
        return ">";
    case SL_BIN_GE:
        return ">=";
    case SL_BIN_ADD:
        return "+";
    case SL_BIN_SUB:
        return "-";
    case SL_BIN_MUL:
        return "*";
    case SL_BIN_DIV:
        return "/";
    case SL_BIN_MOD:
        return "%";
    case SL_BIN_CONCAT:
        return "||";
    }
    return "?";
}

static const char *const unit_text[] = {
    "",     "YEAR",   "QUARTER", "MONTH",       "WEEK",        "DAY",
    "HOUR", "MINUTE", "SECOND",  "MILLISECOND", "MICROSECOND", "NANOSECOND"};

static const char *unit_name(sl_time_unit u)
{
    return (unsigned)u < SL_ARRAY_LEN(unit_text) ? unit_text[u] : "";
}

static void literal(printer *pr, const sl_literal *l)
{
    switch (l->kind) {
    case SL_LIT_NULL:
        puts_(pr, "NULL");
        break;
    case SL_LIT_BOOL:
        puts_(pr, l->b ? "TRUE" : "FALSE");
        break;
    case SL_LIT_INT:
    case SL_LIT_DECIMAL:
    case SL_LIT_DOUBLE:
        sl_buf_append(pr->out, l->text, l->text_len);
        break;
    case SL_LIT_STRING:
        string_lit(pr->out, l->text, l->text_len);
        break;
    case SL_LIT_BINARY:
        puts_(pr, "X");
        string_lit(pr->out, l->text, l->text_len);
        break;
    case SL_LIT_DATE:
        puts_(pr, "DATE ");
        string_lit(pr->out, l->text, l->text_len);
        break;
    case SL_LIT_TIME:
        puts_(pr, "TIME ");
        string_lit(pr->out, l->text, l->text_len);
        break;
    case SL_LIT_TIMESTAMP:
        puts_(pr, "TIMESTAMP ");
        string_lit(pr->out, l->text, l->text_len);
        break;
    case SL_LIT_TIMESTAMP_LTZ:
        puts_(pr, "TIMESTAMP WITH LOCAL TIME ZONE ");
        string_lit(pr->out, l->text, l->text_len);
        break;
    }
}

static void expr_list(printer *pr, int n, sl_expr *const *items)
{
    for (int i = 0; i < n; i++) {
        if (i)
            puts_(pr, ", ");
        print_expr(pr, items[i], 0);
    }
}

/* Would this name, printed bare before '(', parse as something other than
 * a plain call? */
static bool special_call_name(const char *s, size_t len, sl_call_syntax syn)
{
    sl_kw kw = sl_kw_lookup(s, len);
    switch (kw) {
    case KW_LEFT:
    case KW_RIGHT:
    case KW_CURRENT_DATE:
    case KW_CURRENT_TIME:
    case KW_CURRENT_TIMESTAMP:
    case KW_LOCALTIME:
    case KW_LOCALTIMESTAMP:
        return false;
    case KW_TRY_CAST:
    case KW_DESCRIPTOR:
        return true;
    case KW_EXTRACT:
        return syn != SL_CALL_EXTRACT;
    case KW_POSITION:
        return syn != SL_CALL_POSITION;
    default:
        return sl_kw_is_reserved(kw);
    }
}

/* The leftmost word of an expression's canonical text, when it starts with
 * a name (column, call, named argument); NULL otherwise. */
static const sl_ident *leftmost_word(const sl_expr *e)
{
    for (int guard = 0; e && guard < SL_PARSE_MAX_HEIGHT + 10; guard++) {
        switch (e->kind) {
        case SL_EXPR_COLUMN:
            return &e->column.parts[0];
        case SL_EXPR_FUNC:
            return &e->func.name.parts[0];
        case SL_EXPR_NAMED_ARG:
            return &e->named_arg.name;
        case SL_EXPR_BINARY:
            e = e->binary.left;
            break;
        case SL_EXPR_IS:
            e = e->is.operand;
            break;
        case SL_EXPR_IN_LIST:
            e = e->in_list.operand;
            break;
        case SL_EXPR_IN_QUERY:
            e = e->in_query.operand;
            break;
        case SL_EXPR_BETWEEN:
            e = e->between.operand;
            break;
        case SL_EXPR_LIKE:
            e = e->like.operand;
            break;
        case SL_EXPR_SUBSCRIPT:
            e = e->subscript.base;
            break;
        default:
            return NULL;
        }
    }
    return NULL;
}

/* TRIM(both) with a column named both must not read as TRIM(BOTH ...). */
static bool trim_needs_quotes(const sl_expr *e)
{
    if (e->func.syntax != SL_CALL_PLAIN || e->func.n_args < 1 ||
        e->func.distinct)
        return false;
    const sl_ident *w = leftmost_word(e->func.args[0]);
    return w &&
           (sl_str_ieq(w->text, "BOTH") || sl_str_ieq(w->text, "LEADING") ||
            sl_str_ieq(w->text, "TRAILING"));
}

static void func_name(printer *pr, const sl_expr *e)
{
    const sl_name *n = &e->func.name;
    for (int i = 0; i < n->n_parts; i++) {
        const sl_ident *id = &n->parts[i];
        if (i)
            sl_buf_putc(pr->out, '.');
        bool trim = n->n_parts == 1 && sl_str_ieq(id->text, "TRIM") &&
                    trim_needs_quotes(e);
        if (i == n->n_parts - 1 && plain_word(id->text, id->len) &&
            !special_call_name(id->text, id->len, e->func.syntax) && !trim) {
            for (size_t k = 0; k < id->len; k++) {
                char c = id->text[k];
                sl_buf_putc(pr->out,
                            (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c);
            }
        } else if (i == n->n_parts - 1) {
            backticks(pr->out, id->text, id->len);
        } else {
            ident(pr, id);
        }
    }
}

static bool special_args_ok(const sl_expr *e)
{
    int n = e->func.n_args;
    switch (e->func.syntax) {
    case SL_CALL_PLAIN:
    case SL_CALL_NO_PARENS:
        return true;
    case SL_CALL_EXTRACT:
        return n == 2 && e->func.args[0]->kind == SL_EXPR_SYMBOL;
    case SL_CALL_FLOOR_TO:
    case SL_CALL_CEIL_TO:
        return n == 2 && e->func.args[1]->kind == SL_EXPR_SYMBOL;
    case SL_CALL_POSITION:
        return n == 2;
    case SL_CALL_TRIM:
        return n == 3 && e->func.args[0]->kind == SL_EXPR_SYMBOL;
    case SL_CALL_SUBSTRING:
        return n == 2 || n == 3;
    case SL_CALL_OVERLAY:
        return n == 3 || n == 4;
    }
    return false;
}

static void func(printer *pr, const sl_expr *e)
{
    func_name(pr, e);
    if (e->func.syntax == SL_CALL_NO_PARENS && e->func.n_args == 0 &&
        !e->func.star)
        return;
    sl_expr *const *a = e->func.args;
    sl_buf_putc(pr->out, '(');
    if (e->func.star) {
        sl_buf_putc(pr->out, '*');
    } else if (!special_args_ok(e) || e->func.syntax == SL_CALL_PLAIN ||
               e->func.syntax == SL_CALL_NO_PARENS) {
        if (e->func.distinct)
            puts_(pr, "DISTINCT ");
        expr_list(pr, e->func.n_args, a);
    } else {
        switch (e->func.syntax) {
        case SL_CALL_EXTRACT:
            print_expr(pr, a[0], 0);
            puts_(pr, " FROM ");
            print_expr(pr, a[1], 0);
            break;
        case SL_CALL_FLOOR_TO:
        case SL_CALL_CEIL_TO:
            print_expr(pr, a[0], 0);
            puts_(pr, " TO ");
            print_expr(pr, a[1], 0);
            break;
        case SL_CALL_POSITION:
            print_expr(pr, a[0], PREC_ADD);
            puts_(pr, " IN ");
            print_expr(pr, a[1], 0);
            break;
        case SL_CALL_TRIM:
            print_expr(pr, a[0], 0);
            sl_buf_putc(pr->out, ' ');
            print_expr(pr, a[1], 0);
            puts_(pr, " FROM ");
            print_expr(pr, a[2], 0);
            break;
        case SL_CALL_SUBSTRING:
            print_expr(pr, a[0], 0);
            puts_(pr, " FROM ");
            print_expr(pr, a[1], 0);
            if (e->func.n_args == 3) {
                puts_(pr, " FOR ");
                print_expr(pr, a[2], 0);
            }
            break;
        case SL_CALL_OVERLAY:
            print_expr(pr, a[0], 0);
            puts_(pr, " PLACING ");
            print_expr(pr, a[1], 0);
            puts_(pr, " FROM ");
            print_expr(pr, a[2], 0);
            if (e->func.n_args == 4) {
                puts_(pr, " FOR ");
                print_expr(pr, a[3], 0);
            }
            break;
        default:
            break;
        }
    }
    sl_buf_putc(pr->out, ')');
    if (e->func.filter) {
        puts_(pr, " FILTER (WHERE ");
        print_expr(pr, e->func.filter, 0);
        sl_buf_putc(pr->out, ')');
    }
    if (e->func.over) {
        const sl_window_spec *w = e->func.over;
        puts_(pr, " OVER ");
        if (w->base && !w->n_partition && !w->n_order &&
            w->frame == SL_FRAME_NONE)
            ident(pr, w->base);
        else
            print_window_spec(pr, w);
    }
}

static void order_items(printer *pr, int n, const sl_order_item *items)
{
    for (int i = 0; i < n; i++) {
        if (i)
            puts_(pr, ", ");
        print_expr(pr, items[i].expr, 0);
        if (items[i].desc)
            puts_(pr, " DESC");
        if (items[i].nulls == SL_NULLS_FIRST)
            puts_(pr, " NULLS FIRST");
        else if (items[i].nulls == SL_NULLS_LAST)
            puts_(pr, " NULLS LAST");
    }
}

static void bound(printer *pr, const sl_frame_bound *b)
{
    switch (b->kind) {
    case SL_BOUND_UNBOUNDED_PRECEDING:
        puts_(pr, "UNBOUNDED PRECEDING");
        break;
    case SL_BOUND_UNBOUNDED_FOLLOWING:
        puts_(pr, "UNBOUNDED FOLLOWING");
        break;
    case SL_BOUND_CURRENT_ROW:
        puts_(pr, "CURRENT ROW");
        break;
    case SL_BOUND_PRECEDING:
    case SL_BOUND_FOLLOWING:
        if (b->offset)
            print_expr(pr, b->offset, PREC_ADD);
        puts_(pr, b->kind == SL_BOUND_PRECEDING ? " PRECEDING" : " FOLLOWING");
        break;
    }
}

static void print_window_spec(printer *pr, const sl_window_spec *w)
{
    bool sp = false;
    sl_buf_putc(pr->out, '(');
    if (w->base) {
        /* a base window named rows or range would read as a frame */
        if (sl_str_ieq(w->base->text, "ROWS") ||
            sl_str_ieq(w->base->text, "RANGE"))
            backticks(pr->out, w->base->text, w->base->len);
        else
            ident(pr, w->base);
        sp = true;
    }
    if (w->n_partition) {
        puts_(pr, sp ? " PARTITION BY " : "PARTITION BY ");
        expr_list(pr, w->n_partition, w->partition);
        sp = true;
    }
    if (w->n_order) {
        puts_(pr, sp ? " ORDER BY " : "ORDER BY ");
        order_items(pr, w->n_order, w->order);
        sp = true;
    }
    if (w->frame != SL_FRAME_NONE) {
        if (sp)
            sl_buf_putc(pr->out, ' ');
        puts_(pr,
              w->frame == SL_FRAME_ROWS ? "ROWS BETWEEN " : "RANGE BETWEEN ");
        bound(pr, &w->start);
        puts_(pr, " AND ");
        bound(pr, &w->end);
    }
    sl_buf_putc(pr->out, ')');
}

static void subquery(printer *pr, const sl_query *q)
{
    sl_buf_putc(pr->out, '(');
    print_query(pr, q);
    sl_buf_putc(pr->out, ')');
}

/* One small printer per node kind, called through a table: a deep tree
 * recurses through print_expr and one of these, so each level costs two
 * small stack frames (a single big switch costs kilobytes per level in
 * sanitizer builds). */
typedef void (*node_printer)(printer *pr, const sl_expr *e);

static void p_literal(printer *pr, const sl_expr *e)
{
    literal(pr, &e->lit);
}

static void p_column(printer *pr, const sl_expr *e)
{
    name(pr, &e->column);
}

static void p_star(printer *pr, const sl_expr *e)
{
    if (e->star.qualifier) {
        name(pr, e->star.qualifier);
        sl_buf_putc(pr->out, '.');
    }
    sl_buf_putc(pr->out, '*');
}

static void p_unary(printer *pr, const sl_expr *e)
{
    if (e->unary.op == SL_UNARY_NOT) {
        puts_(pr, "NOT ");
        print_expr(pr, e->unary.operand, PREC_NOT);
        return;
    }
    sl_buf_putc(pr->out, e->unary.op == SL_UNARY_NEG ? '-' : '+');
    size_t at = pr->out->len;
    print_expr(pr, e->unary.operand, PREC_UNARY);
    /* "--x" would lex as a comment: space nested signs apart (the operand
     * may come from a hook, so look at the text). */
    sl_buf *b = pr->out;
    if (!b->rc && b->len > at && (b->data[at] == '-' || b->data[at] == '+')) {
        sl_buf_putc(b, ' ');
        if (!b->rc) {
            memmove(b->data + at + 1, b->data + at, b->len - at - 1);
            b->data[at] = ' ';
        }
    }
}

static void p_binary(printer *pr, const sl_expr *e)
{
    int p = prec(e);
    print_expr(pr, e->binary.left, p);
    sl_buf_putc(pr->out, ' ');
    puts_(pr, binop_text(e->binary.op));
    sl_buf_putc(pr->out, ' ');
    print_expr(pr, e->binary.right, p + 1);
}

static void p_case(printer *pr, const sl_expr *e)
{
    puts_(pr, "CASE ");
    if (e->case_.operand) {
        print_expr(pr, e->case_.operand, 0);
        sl_buf_putc(pr->out, ' ');
    }
    for (int i = 0; i < e->case_.n_whens; i++) {
        puts_(pr, "WHEN ");
        print_expr(pr, e->case_.whens[i], 0);
        puts_(pr, " THEN ");
        print_expr(pr, e->case_.thens[i], 0);
        sl_buf_putc(pr->out, ' ');
    }
    if (e->case_.else_) {
        puts_(pr, "ELSE ");
        print_expr(pr, e->case_.else_, 0);
        sl_buf_putc(pr->out, ' ');
    }
    puts_(pr, "END");
}

static void p_cast(printer *pr, const sl_expr *e)
{
    puts_(pr, e->cast.is_try ? "TRY_CAST(" : "CAST(");
    print_expr(pr, e->cast.operand, 0);
    puts_(pr, " AS ");
    sl_unparse_type(e->cast.type, pr->out);
    sl_buf_putc(pr->out, ')');
}

static void p_in_list(printer *pr, const sl_expr *e)
{
    print_expr(pr, e->in_list.operand, PREC_CMP);
    puts_(pr, e->in_list.not_ ? " NOT IN (" : " IN (");
    expr_list(pr, e->in_list.n_items, e->in_list.items);
    sl_buf_putc(pr->out, ')');
}

static void p_in_query(printer *pr, const sl_expr *e)
{
    print_expr(pr, e->in_query.operand, PREC_CMP);
    puts_(pr, e->in_query.not_ ? " NOT IN " : " IN ");
    subquery(pr, e->in_query.query);
}

static void p_between(printer *pr, const sl_expr *e)
{
    print_expr(pr, e->between.operand, PREC_CMP);
    puts_(pr, e->between.not_ ? " NOT BETWEEN " : " BETWEEN ");
    if (e->between.symmetric)
        puts_(pr, "SYMMETRIC ");
    print_expr(pr, e->between.low, PREC_ADD);
    puts_(pr, " AND ");
    print_expr(pr, e->between.high, PREC_ADD);
}

static void p_like(printer *pr, const sl_expr *e)
{
    print_expr(pr, e->like.operand, PREC_CMP);
    if (e->like.not_)
        puts_(pr, " NOT");
    puts_(pr, e->like.similar ? " SIMILAR TO " : " LIKE ");
    print_expr(pr, e->like.pattern, PREC_ADD);
    if (e->like.escape) {
        puts_(pr, " ESCAPE ");
        print_expr(pr, e->like.escape, PREC_ADD);
    }
}

static void p_is(printer *pr, const sl_expr *e)
{
    static const char *const what[] = {"",      "NULL",    "TRUE",
                                       "FALSE", "UNKNOWN", "DISTINCT FROM "};
    print_expr(pr, e->is.operand, PREC_CMP);
    puts_(pr, e->is.not_ ? " IS NOT " : " IS ");
    puts_(pr,
          (unsigned)e->is.what < SL_ARRAY_LEN(what) ? what[e->is.what] : "");
    if (e->is.what == SL_IS_DISTINCT_FROM)
        print_expr(pr, e->is.rhs, PREC_ADD);
}

static void p_interval(printer *pr, const sl_expr *e)
{
    puts_(pr, "INTERVAL ");
    string_lit(pr->out, e->interval.text, e->interval.text_len);
    sl_buf_putc(pr->out, ' ');
    puts_(pr, unit_name(e->interval.from));
    if (e->interval.precision >= 0)
        sl_buf_printf(pr->out, "(%d)", e->interval.precision);
    if (e->interval.to != SL_UNIT_NONE) {
        puts_(pr, " TO ");
        puts_(pr, unit_name(e->interval.to));
    }
}

static void p_list(printer *pr, const sl_expr *e)
{
    bool row = e->kind == SL_EXPR_ROW;
    puts_(pr, e->kind == SL_EXPR_ARRAY ? "ARRAY[" : row ? "ROW(" : "MAP[");
    expr_list(pr, e->list.n_items, e->list.items);
    sl_buf_putc(pr->out, row ? ')' : ']');
}

static void p_field(printer *pr, const sl_expr *e)
{
    const sl_expr *b = e->field.base;
    /* a column base needs parentheses, or "(r).f" would read as r.f */
    bool bare =
        (b->kind == SL_EXPR_FUNC && b->func.syntax != SL_CALL_NO_PARENS) ||
        b->kind == SL_EXPR_SUBSCRIPT || b->kind == SL_EXPR_FIELD ||
        b->kind == SL_EXPR_SUBQUERY;
    print_expr(pr, b, bare ? PREC_POSTFIX : PREC_PRIMARY + 1);
    sl_buf_putc(pr->out, '.');
    ident(pr, &e->field.field);
}

static void p_subscript(printer *pr, const sl_expr *e)
{
    print_expr(pr, e->subscript.base, PREC_POSTFIX);
    sl_buf_putc(pr->out, '[');
    print_expr(pr, e->subscript.index, 0);
    sl_buf_putc(pr->out, ']');
}

static void p_subquery(printer *pr, const sl_expr *e)
{
    if (e->kind == SL_EXPR_EXISTS)
        puts_(pr, "EXISTS ");
    subquery(pr, e->subquery.query);
}

static void p_named_arg(printer *pr, const sl_expr *e)
{
    ident(pr, &e->named_arg.name);
    puts_(pr, " => ");
    print_expr(pr, e->named_arg.value, 0);
}

static void p_descriptor(printer *pr, const sl_expr *e)
{
    puts_(pr, "DESCRIPTOR");
    ident_list(pr, e->descriptor.n_columns, e->descriptor.columns);
}

static void p_table_arg(printer *pr, const sl_expr *e)
{
    puts_(pr, "TABLE ");
    name(pr, &e->table_arg.name);
    if (e->table_arg.n_partition == 1 &&
        e->table_arg.partition[0]->kind == SL_EXPR_COLUMN) {
        puts_(pr, " PARTITION BY ");
        print_expr(pr, e->table_arg.partition[0], 0);
    } else if (e->table_arg.n_partition) {
        puts_(pr, " PARTITION BY (");
        expr_list(pr, e->table_arg.n_partition, e->table_arg.partition);
        sl_buf_putc(pr->out, ')');
    }
}

static void p_model_arg(printer *pr, const sl_expr *e)
{
    puts_(pr, "MODEL ");
    name(pr, &e->model_arg.name);
}

static void p_symbol(printer *pr, const sl_expr *e)
{
    puts_(pr, e->symbol.text ? e->symbol.text : "");
}

static const node_printer node_printers[SL_EXPR__COUNT] = {
    [SL_EXPR_LITERAL] = p_literal,
    [SL_EXPR_COLUMN] = p_column,
    [SL_EXPR_STAR] = p_star,
    [SL_EXPR_FUNC] = func,
    [SL_EXPR_UNARY] = p_unary,
    [SL_EXPR_BINARY] = p_binary,
    [SL_EXPR_CASE] = p_case,
    [SL_EXPR_CAST] = p_cast,
    [SL_EXPR_IN_LIST] = p_in_list,
    [SL_EXPR_IN_QUERY] = p_in_query,
    [SL_EXPR_BETWEEN] = p_between,
    [SL_EXPR_LIKE] = p_like,
    [SL_EXPR_IS] = p_is,
    [SL_EXPR_INTERVAL] = p_interval,
    [SL_EXPR_ARRAY] = p_list,
    [SL_EXPR_MAP] = p_list,
    [SL_EXPR_ROW] = p_list,
    [SL_EXPR_FIELD] = p_field,
    [SL_EXPR_SUBSCRIPT] = p_subscript,
    [SL_EXPR_SUBQUERY] = p_subquery,
    [SL_EXPR_EXISTS] = p_subquery,
    [SL_EXPR_NAMED_ARG] = p_named_arg,
    [SL_EXPR_DESCRIPTOR] = p_descriptor,
    [SL_EXPR_TABLE_ARG] = p_table_arg,
    [SL_EXPR_MODEL_ARG] = p_model_arg,
    [SL_EXPR_SYMBOL] = p_symbol,
};

static void print_node(printer *pr, const sl_expr *e)
{
    if ((unsigned)e->kind < SL_EXPR__COUNT && node_printers[e->kind])
        node_printers[e->kind](pr, e);
    else
        puts_(pr, "?");
}

static void print_expr(printer *pr, const sl_expr *e, int min_prec)
{
    if (pr->rc || !e)
        return;
    bool paren = prec(e) < min_prec;
    if (paren)
        sl_buf_putc(pr->out, '(');
    bool handled = false;
    if (pr->hooks && pr->hooks->expr) {
        int rc = pr->hooks->expr(pr->hooks->ctx, e, pr->out, &handled);
        if (rc) {
            pr->rc = rc;
            return;
        }
    }
    if (!handled)
        print_node(pr, e);
    if (paren)
        sl_buf_putc(pr->out, ')');
}

int sl_unparse_expr(const sl_expr *expr, sl_buf *out,
                    const sl_unparse_hooks *hooks)
{
    printer pr = {out, hooks, 0};
    print_expr(&pr, expr, 0);
    return pr.rc ? pr.rc : out->rc;
}

/* ---- queries ----------------------------------------------------------------
 */

static void print_from(printer *pr, const sl_from *f);

static void from_child(printer *pr, const sl_from *f, bool paren)
{
    if (paren)
        sl_buf_putc(pr->out, '(');
    print_from(pr, f);
    if (paren)
        sl_buf_putc(pr->out, ')');
}

static void alias(printer *pr, const sl_from *f)
{
    if (!f->alias)
        return;
    puts_(pr, " AS ");
    ident(pr, f->alias);
    if (f->n_col_aliases) {
        sl_buf_putc(pr->out, ' ');
        ident_list(pr, f->n_col_aliases, f->col_aliases);
    }
}

static void print_from(printer *pr, const sl_from *f)
{
    switch (f->kind) {
    case SL_FROM_TABLE:
        name(pr, &f->table.name);
        if (f->table.system_time) {
            puts_(pr, " FOR SYSTEM_TIME AS OF ");
            print_expr(pr, f->table.system_time, PREC_ADD);
        }
        alias(pr, f);
        break;
    case SL_FROM_SUBQUERY:
        if (f->subquery.lateral)
            puts_(pr, "LATERAL ");
        subquery(pr, f->subquery.query);
        alias(pr, f);
        break;
    case SL_FROM_TABLE_FUNC:
        if (f->table_func.syntax == SL_TFUNC_TABLE)
            puts_(pr, "TABLE(");
        else if (f->table_func.syntax == SL_TFUNC_LATERAL)
            puts_(pr, "LATERAL TABLE(");
        print_expr(pr, f->table_func.call, 0);
        if (f->table_func.syntax != SL_TFUNC_DIRECT)
            sl_buf_putc(pr->out, ')');
        alias(pr, f);
        break;
    case SL_FROM_JOIN: {
        const sl_from *l = f->join.left, *r = f->join.right;
        bool comma = f->join.kind == SL_JOIN_COMMA;
        from_child(pr, l,
                   !comma && l->kind == SL_FROM_JOIN &&
                       l->join.kind == SL_JOIN_COMMA);
        switch (f->join.kind) {
        case SL_JOIN_INNER:
            puts_(pr, " JOIN ");
            break;
        case SL_JOIN_LEFT:
            puts_(pr, " LEFT JOIN ");
            break;
        case SL_JOIN_RIGHT:
            puts_(pr, " RIGHT JOIN ");
            break;
        case SL_JOIN_FULL:
            puts_(pr, " FULL JOIN ");
            break;
        case SL_JOIN_CROSS:
            puts_(pr, " CROSS JOIN ");
            break;
        case SL_JOIN_COMMA:
            puts_(pr, ", ");
            break;
        }
        from_child(pr, r,
                   r->kind == SL_FROM_JOIN &&
                       (!comma || r->join.kind == SL_JOIN_COMMA));
        if (f->join.on) {
            puts_(pr, " ON ");
            print_expr(pr, f->join.on, 0);
        } else if (f->join.n_using) {
            puts_(pr, " USING ");
            ident_list(pr, f->join.n_using, f->join.using_);
        }
        break;
    }
    }
}

static void select_core(printer *pr, const sl_select *s)
{
    puts_(pr, s->distinct ? "SELECT DISTINCT " : "SELECT ");
    for (int i = 0; i < s->n_items; i++) {
        if (i)
            puts_(pr, ", ");
        print_expr(pr, s->items[i].expr, 0);
        if (s->items[i].alias) {
            puts_(pr, " AS ");
            ident(pr, s->items[i].alias);
        }
    }
    if (s->from) {
        puts_(pr, " FROM ");
        print_from(pr, s->from);
    }
    if (s->where) {
        puts_(pr, " WHERE ");
        print_expr(pr, s->where, 0);
    }
    if (s->n_group) {
        puts_(pr, " GROUP BY ");
        expr_list(pr, s->n_group, s->group_by);
    }
    if (s->having) {
        puts_(pr, " HAVING ");
        print_expr(pr, s->having, 0);
    }
    for (int i = 0; i < s->n_windows; i++) {
        puts_(pr, i ? ", " : " WINDOW ");
        ident(pr, &s->windows[i].name);
        puts_(pr, " AS ");
        print_window_spec(pr, s->windows[i].spec);
    }
}

static bool has_tail(const sl_query *q)
{
    return q->n_with || q->n_order || q->limit || q->offset;
}

static int setop_prec(const sl_query *q)
{
    if (q->kind != SL_QUERY_SETOP)
        return 3;
    return q->setop.op == SL_SETOP_INTERSECT ? 2 : 1;
}

static void setop_child(printer *pr, const sl_query *child, int parent_prec,
                        bool right)
{
    int cp = setop_prec(child);
    bool paren =
        has_tail(child) || cp < parent_prec || (right && cp == parent_prec);
    if (paren)
        subquery(pr, child);
    else
        print_query(pr, child);
}

static void print_query(printer *pr, const sl_query *q)
{
    if (pr->rc)
        return;
    for (int i = 0; i < q->n_with; i++) {
        const sl_cte *c = &q->with[i];
        puts_(pr, i ? ", " : "WITH ");
        ident(pr, &c->name);
        if (c->n_columns) {
            sl_buf_putc(pr->out, ' ');
            ident_list(pr, c->n_columns, c->columns);
        }
        puts_(pr, " AS ");
        subquery(pr, c->query);
    }
    if (q->n_with)
        sl_buf_putc(pr->out, ' ');
    switch (q->kind) {
    case SL_QUERY_SELECT:
        select_core(pr, &q->select);
        break;
    case SL_QUERY_SETOP: {
        int p = setop_prec(q);
        setop_child(pr, q->setop.left, p, false);
        puts_(pr, q->setop.op == SL_SETOP_UNION       ? " UNION "
                  : q->setop.op == SL_SETOP_INTERSECT ? " INTERSECT "
                                                      : " EXCEPT ");
        if (q->setop.all)
            puts_(pr, "ALL ");
        setop_child(pr, q->setop.right, p, true);
        break;
    }
    case SL_QUERY_VALUES:
        puts_(pr, "VALUES ");
        for (int r = 0; r < q->values.n_rows; r++) {
            if (r)
                puts_(pr, ", ");
            sl_buf_putc(pr->out, '(');
            expr_list(pr, q->values.n_cols[r], q->values.rows[r]);
            sl_buf_putc(pr->out, ')');
        }
        break;
    }
    if (q->n_order) {
        puts_(pr, " ORDER BY ");
        order_items(pr, q->n_order, q->order_by);
    }
    if (q->limit) {
        puts_(pr, " LIMIT ");
        print_expr(pr, q->limit, PREC_ADD);
    }
    if (q->offset) {
        puts_(pr, " OFFSET ");
        print_expr(pr, q->offset, PREC_ADD);
    }
}

int sl_unparse_query(const sl_query *query, sl_buf *out,
                     const sl_unparse_hooks *hooks)
{
    printer pr = {out, hooks, 0};
    print_query(&pr, query);
    return pr.rc ? pr.rc : out->rc;
}

/* ---- statements -------------------------------------------------------------
 */

static void options(printer *pr, const sl_opt_list *o, bool values)
{
    sl_buf_putc(pr->out, '(');
    for (int i = 0; i < o->n; i++) {
        if (i)
            puts_(pr, ", ");
        string_lit(pr->out, o->items[i].key, o->items[i].key_len);
        if (values && o->items[i].value) {
            puts_(pr, " = ");
            string_lit(pr->out, o->items[i].value, o->items[i].value_len);
        }
    }
    sl_buf_putc(pr->out, ')');
}

static void column_def(printer *pr, const sl_column_def *c)
{
    ident(pr, &c->name);
    if (c->kind == SL_COL_COMPUTED) {
        puts_(pr, " AS ");
        print_expr(pr, c->expr, 0);
    } else {
        sl_buf_putc(pr->out, ' ');
        if (c->type)
            sl_unparse_type(c->type, pr->out);
        if (c->kind == SL_COL_METADATA) {
            puts_(pr, " METADATA");
            if (c->metadata_key) {
                puts_(pr, " FROM ");
                cstring(pr, c->metadata_key);
            }
            if (c->is_virtual)
                puts_(pr, " VIRTUAL");
        }
    }
    if (c->comment) {
        puts_(pr, " COMMENT ");
        cstring(pr, c->comment);
    }
}

static void column_defs(printer *pr, int n, const sl_column_def *cols)
{
    sl_buf_putc(pr->out, '(');
    for (int i = 0; i < n; i++) {
        if (i)
            puts_(pr, ", ");
        column_def(pr, &cols[i]);
    }
    sl_buf_putc(pr->out, ')');
}

static void create_table(printer *pr, const sl_stmt *s)
{
    puts_(pr, s->create_table.temporary ? "CREATE TEMPORARY TABLE "
                                        : "CREATE TABLE ");
    if (s->create_table.if_not_exists)
        puts_(pr, "IF NOT EXISTS ");
    name(pr, &s->create_table.name);
    const sl_primary_key *pk = &s->create_table.primary_key;
    int n = s->create_table.n_columns;
    if (n || s->create_table.watermark || pk->n_columns) {
        puts_(pr, " (");
        for (int i = 0; i < n; i++) {
            if (i)
                puts_(pr, ", ");
            column_def(pr, &s->create_table.columns[i]);
        }
        bool sep = n > 0;
        if (s->create_table.watermark) {
            puts_(pr, sep ? ", WATERMARK FOR " : "WATERMARK FOR ");
            name(pr, &s->create_table.watermark->column);
            puts_(pr, " AS ");
            print_expr(pr, s->create_table.watermark->expr, 0);
            sep = true;
        }
        if (pk->n_columns) {
            if (sep)
                puts_(pr, ", ");
            if (pk->constraint_name) {
                puts_(pr, "CONSTRAINT ");
                ident(pr, pk->constraint_name);
                sl_buf_putc(pr->out, ' ');
            }
            puts_(pr, "PRIMARY KEY ");
            ident_list(pr, pk->n_columns, pk->columns);
            puts_(pr, " NOT ENFORCED");
        }
        sl_buf_putc(pr->out, ')');
    }
    if (s->create_table.comment) {
        puts_(pr, " COMMENT ");
        cstring(pr, s->create_table.comment);
    }
    if (s->create_table.n_partitioned_by) {
        puts_(pr, " PARTITIONED BY ");
        ident_list(pr, s->create_table.n_partitioned_by,
                   s->create_table.partitioned_by);
    }
    if (s->create_table.options.n) {
        puts_(pr, " WITH ");
        options(pr, &s->create_table.options, true);
    }
    if (s->create_table.as_query) {
        puts_(pr, " AS ");
        print_query(pr, s->create_table.as_query);
    }
}

static const char *object_name(sl_object_kind k)
{
    return k == SL_OBJ_MODEL ? "MODEL" : k == SL_OBJ_VIEW ? "VIEW" : "TABLE";
}

static void print_stmt(printer *pr, const sl_stmt *s)
{
    switch (s->kind) {
    case SL_STMT_CREATE_TABLE:
        create_table(pr, s);
        break;
    case SL_STMT_CREATE_VIEW:
        puts_(pr, s->create_view.temporary ? "CREATE TEMPORARY VIEW "
                                           : "CREATE VIEW ");
        if (s->create_view.if_not_exists)
            puts_(pr, "IF NOT EXISTS ");
        name(pr, &s->create_view.name);
        if (s->create_view.n_columns) {
            sl_buf_putc(pr->out, ' ');
            ident_list(pr, s->create_view.n_columns, s->create_view.columns);
        }
        if (s->create_view.comment) {
            puts_(pr, " COMMENT ");
            cstring(pr, s->create_view.comment);
        }
        puts_(pr, " AS ");
        print_query(pr, s->create_view.query);
        break;
    case SL_STMT_CREATE_MODEL:
        puts_(pr, s->create_model.temporary ? "CREATE TEMPORARY MODEL "
                                            : "CREATE MODEL ");
        if (s->create_model.if_not_exists)
            puts_(pr, "IF NOT EXISTS ");
        name(pr, &s->create_model.name);
        puts_(pr, " INPUT ");
        column_defs(pr, s->create_model.n_inputs, s->create_model.inputs);
        puts_(pr, " OUTPUT ");
        column_defs(pr, s->create_model.n_outputs, s->create_model.outputs);
        if (s->create_model.comment) {
            puts_(pr, " COMMENT ");
            cstring(pr, s->create_model.comment);
        }
        puts_(pr, " WITH ");
        options(pr, &s->create_model.options, true);
        break;
    case SL_STMT_ALTER_MODEL:
        puts_(pr, "ALTER MODEL ");
        if (s->alter_model.if_exists)
            puts_(pr, "IF EXISTS ");
        name(pr, &s->alter_model.name);
        switch (s->alter_model.action) {
        case SL_ALTER_MODEL_SET:
            puts_(pr, " SET ");
            options(pr, &s->alter_model.options, true);
            break;
        case SL_ALTER_MODEL_RESET:
            puts_(pr, " RESET ");
            options(pr, &s->alter_model.options, false);
            break;
        case SL_ALTER_MODEL_RENAME:
            puts_(pr, " RENAME TO ");
            name(pr, &s->alter_model.new_name);
            break;
        }
        break;
    case SL_STMT_DROP:
        puts_(pr, s->drop.temporary ? "DROP TEMPORARY " : "DROP ");
        puts_(pr, object_name(s->drop.object));
        puts_(pr, s->drop.if_exists ? " IF EXISTS " : " ");
        name(pr, &s->drop.name);
        break;
    case SL_STMT_INSERT:
        puts_(pr, s->insert.overwrite ? "INSERT OVERWRITE " : "INSERT INTO ");
        name(pr, &s->insert.table);
        if (s->insert.n_columns) {
            sl_buf_putc(pr->out, ' ');
            ident_list(pr, s->insert.n_columns, s->insert.columns);
        }
        sl_buf_putc(pr->out, ' ');
        print_query(pr, s->insert.query);
        break;
    case SL_STMT_STATEMENT_SET:
        puts_(pr, "EXECUTE STATEMENT SET BEGIN ");
        for (int i = 0; i < s->statement_set.n_stmts; i++) {
            print_stmt(pr, s->statement_set.stmts[i]);
            puts_(pr, "; ");
        }
        puts_(pr, "END");
        break;
    case SL_STMT_QUERY:
        print_query(pr, s->query.query);
        break;
    case SL_STMT_SET:
    case SL_STMT_RESET: {
        const sl_opt_list *o =
            s->kind == SL_STMT_SET ? &s->set.options : &s->reset.options;
        puts_(pr, s->kind == SL_STMT_SET ? "SET" : "RESET");
        if (o->n) {
            sl_buf_putc(pr->out, ' ');
            string_lit(pr->out, o->items[0].key, o->items[0].key_len);
            if (s->kind == SL_STMT_SET && o->items[0].value) {
                puts_(pr, " = ");
                string_lit(pr->out, o->items[0].value, o->items[0].value_len);
            }
        }
        break;
    }
    case SL_STMT_SHOW: {
        static const char *const what[] = {
            "", "TABLES", "VIEWS", "MODELS", "JOBS", "FUNCTIONS", "METRICS"};
        puts_(pr, "SHOW ");
        puts_(pr, (unsigned)s->show.what < SL_ARRAY_LEN(what)
                      ? what[s->show.what]
                      : "");
        break;
    }
    case SL_STMT_SHOW_CREATE:
        puts_(pr, "SHOW CREATE ");
        puts_(pr, object_name(s->show_create.object));
        sl_buf_putc(pr->out, ' ');
        name(pr, &s->show_create.name);
        break;
    case SL_STMT_DESCRIBE:
        puts_(pr, s->describe.object == SL_OBJ_MODEL ? "DESCRIBE MODEL "
                                                     : "DESCRIBE ");
        name(pr, &s->describe.name);
        break;
    case SL_STMT_EXPLAIN:
        puts_(pr, "EXPLAIN ");
        if (s->explain.stmt)
            print_stmt(pr, s->explain.stmt);
        break;
    case SL_STMT_STOP_JOB:
        puts_(pr, "STOP JOB ");
        cstring(pr, s->stop_job.job_id ? s->stop_job.job_id : "");
        if (s->stop_job.with_savepoint)
            puts_(pr, " WITH SAVEPOINT");
        break;
    }
}

int sl_unparse_stmt(const sl_stmt *stmt, sl_buf *out)
{
    printer pr = {out, NULL, 0};
    print_stmt(&pr, stmt);
    return pr.rc ? pr.rc : out->rc;
}
