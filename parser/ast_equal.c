/*
 * ast_equal.c: structural equality of syntax trees, for tests.
 *
 * The golden "parse" mode and the unit tests check that the canonical text
 * printed by unparse.c parses back to the same tree. Equality ignores what
 * the canonical form normalises: positions and source spans, whether an
 * identifier was quoted, and the case of function names (matched
 * case-insensitively, as Flink does).
 */
#include <string.h>

#include "parser.h"

static bool str_eq(const char *a, size_t al, const char *b, size_t bl)
{
    if (!a || !b)
        return a == b;
    return al == bl && memcmp(a, b, al) == 0;
}

static bool cstr_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool ident_eq(const sl_ident *a, const sl_ident *b)
{
    if (!a || !b)
        return a == b;
    return str_eq(a->text, a->len, b->text, b->len);
}

static bool idents_eq(int n, const sl_ident *a, int m, const sl_ident *b)
{
    if (n != m)
        return false;
    for (int i = 0; i < n; i++)
        if (!ident_eq(&a[i], &b[i]))
            return false;
    return true;
}

static bool name_eq(const sl_name *a, const sl_name *b)
{
    if (!a || !b)
        return a == b;
    return idents_eq(a->n_parts, a->parts, b->n_parts, b->parts);
}

static bool func_name_eq(const sl_name *a, const sl_name *b)
{
    if (a->n_parts != b->n_parts)
        return false;
    for (int i = 0; i < a->n_parts; i++) {
        const sl_ident *x = &a->parts[i], *y = &b->parts[i];
        if (x->len != y->len)
            return false;
        for (size_t k = 0; k < x->len; k++) {
            char c = x->text[k], d = y->text[k];
            if (c >= 'a' && c <= 'z')
                c = (char)(c - 'a' + 'A');
            if (d >= 'a' && d <= 'z')
                d = (char)(d - 'a' + 'A');
            if (c != d)
                return false;
        }
    }
    return true;
}

static bool type_eq(const sl_type *a, const sl_type *b)
{
    if (!a || !b)
        return a == b;
    if (a->id != b->id || a->not_null != b->not_null ||
        a->precision != b->precision || a->scale != b->scale ||
        a->n_fields != b->n_fields || !type_eq(a->elem, b->elem) ||
        !type_eq(a->value, b->value))
        return false;
    for (int i = 0; i < a->n_fields; i++)
        if (!cstr_eq(a->fields[i].name, b->fields[i].name) ||
            !type_eq(a->fields[i].type, b->fields[i].type))
            return false;
    return true;
}

static bool opts_eq(const sl_opt_list *a, const sl_opt_list *b)
{
    if (a->n != b->n)
        return false;
    for (int i = 0; i < a->n; i++) {
        const sl_opt_pair *x = &a->items[i], *y = &b->items[i];
        if (!str_eq(x->key, x->key_len, y->key, y->key_len) ||
            !str_eq(x->value, x->value_len, y->value, y->value_len))
            return false;
    }
    return true;
}

static bool exprs_eq(int n, sl_expr *const *a, int m, sl_expr *const *b)
{
    if (n != m)
        return false;
    for (int i = 0; i < n; i++)
        if (!sl_ast_expr_equal(a[i], b[i]))
            return false;
    return true;
}

static bool order_eq(int n, const sl_order_item *a, int m,
                     const sl_order_item *b)
{
    if (n != m)
        return false;
    for (int i = 0; i < n; i++)
        if (a[i].desc != b[i].desc || a[i].nulls != b[i].nulls ||
            !sl_ast_expr_equal(a[i].expr, b[i].expr))
            return false;
    return true;
}

static bool bound_eq(const sl_frame_bound *a, const sl_frame_bound *b)
{
    return a->kind == b->kind && sl_ast_expr_equal(a->offset, b->offset);
}

static bool window_eq(const sl_window_spec *a, const sl_window_spec *b)
{
    if (!a || !b)
        return a == b;
    if (!ident_eq(a->base, b->base) ||
        !exprs_eq(a->n_partition, a->partition, b->n_partition, b->partition) ||
        !order_eq(a->n_order, a->order, b->n_order, b->order) ||
        a->frame != b->frame)
        return false;
    if (a->frame == SL_FRAME_NONE)
        return true;
    return bound_eq(&a->start, &b->start) && bound_eq(&a->end, &b->end);
}

static bool literal_eq(const sl_literal *a, const sl_literal *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case SL_LIT_NULL:
        return true;
    case SL_LIT_BOOL:
        return a->b == b->b;
    default:
        return str_eq(a->text, a->text_len, b->text, b->text_len);
    }
}

/* One small comparison per node kind, through a table, so deep trees cost
 * little stack per level (see unparse.c). Both nodes have the same kind. */
typedef bool (*node_eq)(const sl_expr *a, const sl_expr *b);

static bool eq_literal(const sl_expr *a, const sl_expr *b)
{
    return literal_eq(&a->lit, &b->lit);
}

static bool eq_column(const sl_expr *a, const sl_expr *b)
{
    return name_eq(&a->column, &b->column);
}

static bool eq_star(const sl_expr *a, const sl_expr *b)
{
    return name_eq(a->star.qualifier, b->star.qualifier);
}

static bool eq_func(const sl_expr *a, const sl_expr *b)
{
    return func_name_eq(&a->func.name, &b->func.name) &&
           a->func.syntax == b->func.syntax &&
           a->func.distinct == b->func.distinct &&
           a->func.star == b->func.star &&
           exprs_eq(a->func.n_args, a->func.args, b->func.n_args,
                    b->func.args) &&
           sl_ast_expr_equal(a->func.filter, b->func.filter) &&
           window_eq(a->func.over, b->func.over);
}

static bool eq_unary(const sl_expr *a, const sl_expr *b)
{
    return a->unary.op == b->unary.op &&
           sl_ast_expr_equal(a->unary.operand, b->unary.operand);
}

static bool eq_binary(const sl_expr *a, const sl_expr *b)
{
    return a->binary.op == b->binary.op &&
           sl_ast_expr_equal(a->binary.left, b->binary.left) &&
           sl_ast_expr_equal(a->binary.right, b->binary.right);
}

static bool eq_case(const sl_expr *a, const sl_expr *b)
{
    return sl_ast_expr_equal(a->case_.operand, b->case_.operand) &&
           exprs_eq(a->case_.n_whens, a->case_.whens, b->case_.n_whens,
                    b->case_.whens) &&
           exprs_eq(a->case_.n_whens, a->case_.thens, b->case_.n_whens,
                    b->case_.thens) &&
           sl_ast_expr_equal(a->case_.else_, b->case_.else_);
}

static bool eq_cast(const sl_expr *a, const sl_expr *b)
{
    return a->cast.is_try == b->cast.is_try &&
           type_eq(a->cast.type, b->cast.type) &&
           sl_ast_expr_equal(a->cast.operand, b->cast.operand);
}

static bool eq_in_list(const sl_expr *a, const sl_expr *b)
{
    return a->in_list.not_ == b->in_list.not_ &&
           sl_ast_expr_equal(a->in_list.operand, b->in_list.operand) &&
           exprs_eq(a->in_list.n_items, a->in_list.items, b->in_list.n_items,
                    b->in_list.items);
}

static bool eq_in_query(const sl_expr *a, const sl_expr *b)
{
    return a->in_query.not_ == b->in_query.not_ &&
           sl_ast_expr_equal(a->in_query.operand, b->in_query.operand) &&
           sl_ast_query_equal(a->in_query.query, b->in_query.query);
}

static bool eq_between(const sl_expr *a, const sl_expr *b)
{
    return a->between.not_ == b->between.not_ &&
           a->between.symmetric == b->between.symmetric &&
           sl_ast_expr_equal(a->between.operand, b->between.operand) &&
           sl_ast_expr_equal(a->between.low, b->between.low) &&
           sl_ast_expr_equal(a->between.high, b->between.high);
}

static bool eq_like(const sl_expr *a, const sl_expr *b)
{
    return a->like.not_ == b->like.not_ && a->like.similar == b->like.similar &&
           sl_ast_expr_equal(a->like.operand, b->like.operand) &&
           sl_ast_expr_equal(a->like.pattern, b->like.pattern) &&
           sl_ast_expr_equal(a->like.escape, b->like.escape);
}

static bool eq_is(const sl_expr *a, const sl_expr *b)
{
    return a->is.not_ == b->is.not_ && a->is.what == b->is.what &&
           sl_ast_expr_equal(a->is.operand, b->is.operand) &&
           sl_ast_expr_equal(a->is.rhs, b->is.rhs);
}

static bool eq_interval(const sl_expr *a, const sl_expr *b)
{
    return str_eq(a->interval.text, a->interval.text_len, b->interval.text,
                  b->interval.text_len) &&
           a->interval.from == b->interval.from &&
           a->interval.to == b->interval.to &&
           a->interval.precision == b->interval.precision &&
           a->interval.millis == b->interval.millis &&
           a->interval.months == b->interval.months;
}

static bool eq_list(const sl_expr *a, const sl_expr *b)
{
    return exprs_eq(a->list.n_items, a->list.items, b->list.n_items,
                    b->list.items);
}

static bool eq_field(const sl_expr *a, const sl_expr *b)
{
    return ident_eq(&a->field.field, &b->field.field) &&
           sl_ast_expr_equal(a->field.base, b->field.base);
}

static bool eq_subscript(const sl_expr *a, const sl_expr *b)
{
    return sl_ast_expr_equal(a->subscript.base, b->subscript.base) &&
           sl_ast_expr_equal(a->subscript.index, b->subscript.index);
}

static bool eq_subquery(const sl_expr *a, const sl_expr *b)
{
    return sl_ast_query_equal(a->subquery.query, b->subquery.query);
}

static bool eq_named_arg(const sl_expr *a, const sl_expr *b)
{
    return ident_eq(&a->named_arg.name, &b->named_arg.name) &&
           sl_ast_expr_equal(a->named_arg.value, b->named_arg.value);
}

static bool eq_descriptor(const sl_expr *a, const sl_expr *b)
{
    return idents_eq(a->descriptor.n_columns, a->descriptor.columns,
                     b->descriptor.n_columns, b->descriptor.columns);
}

static bool eq_table_arg(const sl_expr *a, const sl_expr *b)
{
    return name_eq(&a->table_arg.name, &b->table_arg.name) &&
           exprs_eq(a->table_arg.n_partition, a->table_arg.partition,
                    b->table_arg.n_partition, b->table_arg.partition);
}

static bool eq_model_arg(const sl_expr *a, const sl_expr *b)
{
    return name_eq(&a->model_arg.name, &b->model_arg.name);
}

static bool eq_symbol(const sl_expr *a, const sl_expr *b)
{
    return cstr_eq(a->symbol.text, b->symbol.text);
}

static const node_eq node_eqs[SL_EXPR__COUNT] = {
    [SL_EXPR_LITERAL] = eq_literal,
    [SL_EXPR_COLUMN] = eq_column,
    [SL_EXPR_STAR] = eq_star,
    [SL_EXPR_FUNC] = eq_func,
    [SL_EXPR_UNARY] = eq_unary,
    [SL_EXPR_BINARY] = eq_binary,
    [SL_EXPR_CASE] = eq_case,
    [SL_EXPR_CAST] = eq_cast,
    [SL_EXPR_IN_LIST] = eq_in_list,
    [SL_EXPR_IN_QUERY] = eq_in_query,
    [SL_EXPR_BETWEEN] = eq_between,
    [SL_EXPR_LIKE] = eq_like,
    [SL_EXPR_IS] = eq_is,
    [SL_EXPR_INTERVAL] = eq_interval,
    [SL_EXPR_ARRAY] = eq_list,
    [SL_EXPR_MAP] = eq_list,
    [SL_EXPR_ROW] = eq_list,
    [SL_EXPR_FIELD] = eq_field,
    [SL_EXPR_SUBSCRIPT] = eq_subscript,
    [SL_EXPR_SUBQUERY] = eq_subquery,
    [SL_EXPR_EXISTS] = eq_subquery,
    [SL_EXPR_NAMED_ARG] = eq_named_arg,
    [SL_EXPR_DESCRIPTOR] = eq_descriptor,
    [SL_EXPR_TABLE_ARG] = eq_table_arg,
    [SL_EXPR_MODEL_ARG] = eq_model_arg,
    [SL_EXPR_SYMBOL] = eq_symbol,
};

bool sl_ast_expr_equal(const sl_expr *a, const sl_expr *b)
{
    /* Left-deep binary chains (a + b + c ..., up to SL_PARSE_MAX_HEIGHT
     * links): walk the left spine in a loop, recurse only to the right. */
    while (a && b && a->kind == SL_EXPR_BINARY && b->kind == SL_EXPR_BINARY) {
        if (a->binary.op != b->binary.op ||
            !sl_ast_expr_equal(a->binary.right, b->binary.right))
            return false;
        a = a->binary.left;
        b = b->binary.left;
    }
    if (!a || !b)
        return a == b;
    if (a->kind != b->kind || (unsigned)a->kind >= SL_EXPR__COUNT ||
        !node_eqs[a->kind])
        return false;
    return node_eqs[a->kind](a, b);
}

static bool from_eq(const sl_from *a, const sl_from *b)
{
    if (!a || !b)
        return a == b;
    if (a->kind != b->kind || !ident_eq(a->alias, b->alias) ||
        !idents_eq(a->n_col_aliases, a->col_aliases, b->n_col_aliases,
                   b->col_aliases))
        return false;
    switch (a->kind) {
    case SL_FROM_TABLE:
        return name_eq(&a->table.name, &b->table.name) &&
               sl_ast_expr_equal(a->table.system_time, b->table.system_time);
    case SL_FROM_SUBQUERY:
        return a->subquery.lateral == b->subquery.lateral &&
               sl_ast_query_equal(a->subquery.query, b->subquery.query);
    case SL_FROM_JOIN:
        return a->join.kind == b->join.kind &&
               from_eq(a->join.left, b->join.left) &&
               from_eq(a->join.right, b->join.right) &&
               sl_ast_expr_equal(a->join.on, b->join.on) &&
               idents_eq(a->join.n_using, a->join.using_, b->join.n_using,
                         b->join.using_);
    case SL_FROM_TABLE_FUNC:
        return a->table_func.syntax == b->table_func.syntax &&
               sl_ast_expr_equal(a->table_func.call, b->table_func.call);
    }
    return false;
}

static bool select_eq(const sl_select *a, const sl_select *b)
{
    if (a->distinct != b->distinct || a->n_items != b->n_items ||
        a->n_windows != b->n_windows)
        return false;
    for (int i = 0; i < a->n_items; i++)
        if (!sl_ast_expr_equal(a->items[i].expr, b->items[i].expr) ||
            !ident_eq(a->items[i].alias, b->items[i].alias))
            return false;
    for (int i = 0; i < a->n_windows; i++)
        if (!ident_eq(&a->windows[i].name, &b->windows[i].name) ||
            !window_eq(a->windows[i].spec, b->windows[i].spec))
            return false;
    return from_eq(a->from, b->from) && sl_ast_expr_equal(a->where, b->where) &&
           exprs_eq(a->n_group, a->group_by, b->n_group, b->group_by) &&
           sl_ast_expr_equal(a->having, b->having);
}

bool sl_ast_query_equal(const sl_query *a, const sl_query *b)
{
    if (!a || !b)
        return a == b;
    if (a->kind != b->kind || a->n_with != b->n_with)
        return false;
    for (int i = 0; i < a->n_with; i++)
        if (!ident_eq(&a->with[i].name, &b->with[i].name) ||
            !idents_eq(a->with[i].n_columns, a->with[i].columns,
                       b->with[i].n_columns, b->with[i].columns) ||
            !sl_ast_query_equal(a->with[i].query, b->with[i].query))
            return false;
    switch (a->kind) {
    case SL_QUERY_SELECT:
        if (!select_eq(&a->select, &b->select))
            return false;
        break;
    case SL_QUERY_SETOP:
        if (a->setop.op != b->setop.op || a->setop.all != b->setop.all ||
            !sl_ast_query_equal(a->setop.left, b->setop.left) ||
            !sl_ast_query_equal(a->setop.right, b->setop.right))
            return false;
        break;
    case SL_QUERY_VALUES:
        if (a->values.n_rows != b->values.n_rows)
            return false;
        for (int r = 0; r < a->values.n_rows; r++)
            if (!exprs_eq(a->values.n_cols[r], a->values.rows[r],
                          b->values.n_cols[r], b->values.rows[r]))
                return false;
        break;
    }
    return order_eq(a->n_order, a->order_by, b->n_order, b->order_by) &&
           sl_ast_expr_equal(a->limit, b->limit) &&
           sl_ast_expr_equal(a->offset, b->offset);
}

static bool column_eq(const sl_column_def *a, const sl_column_def *b)
{
    return ident_eq(&a->name, &b->name) && a->kind == b->kind &&
           type_eq(a->type, b->type) && sl_ast_expr_equal(a->expr, b->expr) &&
           cstr_eq(a->metadata_key, b->metadata_key) &&
           a->is_virtual == b->is_virtual && cstr_eq(a->comment, b->comment);
}

static bool columns_eq(int n, const sl_column_def *a, int m,
                       const sl_column_def *b)
{
    if (n != m)
        return false;
    for (int i = 0; i < n; i++)
        if (!column_eq(&a[i], &b[i]))
            return false;
    return true;
}

bool sl_ast_stmt_equal(const sl_stmt *a, const sl_stmt *b)
{
    if (!a || !b)
        return a == b;
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case SL_STMT_CREATE_TABLE: {
        const sl_watermark *wa = a->create_table.watermark,
                           *wb = b->create_table.watermark;
        const sl_primary_key *pa = &a->create_table.primary_key,
                             *pb = &b->create_table.primary_key;
        if ((!wa) != (!wb))
            return false;
        if (wa && (!name_eq(&wa->column, &wb->column) ||
                   !sl_ast_expr_equal(wa->expr, wb->expr)))
            return false;
        return name_eq(&a->create_table.name, &b->create_table.name) &&
               a->create_table.temporary == b->create_table.temporary &&
               a->create_table.if_not_exists == b->create_table.if_not_exists &&
               columns_eq(a->create_table.n_columns, a->create_table.columns,
                          b->create_table.n_columns, b->create_table.columns) &&
               ident_eq(pa->constraint_name, pb->constraint_name) &&
               idents_eq(pa->n_columns, pa->columns, pb->n_columns,
                         pb->columns) &&
               cstr_eq(a->create_table.comment, b->create_table.comment) &&
               idents_eq(a->create_table.n_partitioned_by,
                         a->create_table.partitioned_by,
                         b->create_table.n_partitioned_by,
                         b->create_table.partitioned_by) &&
               opts_eq(&a->create_table.options, &b->create_table.options) &&
               sl_ast_query_equal(a->create_table.as_query,
                                  b->create_table.as_query);
    }
    case SL_STMT_CREATE_VIEW:
        return name_eq(&a->create_view.name, &b->create_view.name) &&
               a->create_view.temporary == b->create_view.temporary &&
               a->create_view.if_not_exists == b->create_view.if_not_exists &&
               idents_eq(a->create_view.n_columns, a->create_view.columns,
                         b->create_view.n_columns, b->create_view.columns) &&
               cstr_eq(a->create_view.comment, b->create_view.comment) &&
               sl_ast_query_equal(a->create_view.query, b->create_view.query);
    case SL_STMT_CREATE_MODEL:
        return name_eq(&a->create_model.name, &b->create_model.name) &&
               a->create_model.temporary == b->create_model.temporary &&
               a->create_model.if_not_exists == b->create_model.if_not_exists &&
               columns_eq(a->create_model.n_inputs, a->create_model.inputs,
                          b->create_model.n_inputs, b->create_model.inputs) &&
               columns_eq(a->create_model.n_outputs, a->create_model.outputs,
                          b->create_model.n_outputs, b->create_model.outputs) &&
               cstr_eq(a->create_model.comment, b->create_model.comment) &&
               opts_eq(&a->create_model.options, &b->create_model.options);
    case SL_STMT_ALTER_MODEL:
        if (a->alter_model.action != b->alter_model.action ||
            a->alter_model.if_exists != b->alter_model.if_exists ||
            !name_eq(&a->alter_model.name, &b->alter_model.name))
            return false;
        if (a->alter_model.action == SL_ALTER_MODEL_RENAME)
            return name_eq(&a->alter_model.new_name, &b->alter_model.new_name);
        return opts_eq(&a->alter_model.options, &b->alter_model.options);
    case SL_STMT_DROP:
        return a->drop.object == b->drop.object &&
               a->drop.temporary == b->drop.temporary &&
               a->drop.if_exists == b->drop.if_exists &&
               name_eq(&a->drop.name, &b->drop.name);
    case SL_STMT_INSERT:
        return name_eq(&a->insert.table, &b->insert.table) &&
               a->insert.overwrite == b->insert.overwrite &&
               idents_eq(a->insert.n_columns, a->insert.columns,
                         b->insert.n_columns, b->insert.columns) &&
               sl_ast_query_equal(a->insert.query, b->insert.query);
    case SL_STMT_STATEMENT_SET:
        if (a->statement_set.n_stmts != b->statement_set.n_stmts)
            return false;
        for (int i = 0; i < a->statement_set.n_stmts; i++)
            if (!sl_ast_stmt_equal(a->statement_set.stmts[i],
                                   b->statement_set.stmts[i]))
                return false;
        return true;
    case SL_STMT_QUERY:
        return sl_ast_query_equal(a->query.query, b->query.query);
    case SL_STMT_SET:
        return opts_eq(&a->set.options, &b->set.options);
    case SL_STMT_RESET:
        return opts_eq(&a->reset.options, &b->reset.options);
    case SL_STMT_SHOW:
        return a->show.what == b->show.what;
    case SL_STMT_SHOW_CREATE:
        return a->show_create.object == b->show_create.object &&
               name_eq(&a->show_create.name, &b->show_create.name);
    case SL_STMT_DESCRIBE:
        return a->describe.object == b->describe.object &&
               name_eq(&a->describe.name, &b->describe.name);
    case SL_STMT_EXPLAIN:
        return sl_ast_stmt_equal(a->explain.stmt, b->explain.stmt);
    case SL_STMT_STOP_JOB:
        return cstr_eq(a->stop_job.job_id, b->stop_job.job_id) &&
               a->stop_job.with_savepoint == b->stop_job.with_savepoint;
    }
    return false;
}
