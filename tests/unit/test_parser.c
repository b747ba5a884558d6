/*
 * test_parser.c: unit tests for parser/: the lexer (tokens, positions,
 * keywords, quoting), the AST the parser builds (literal values, interval
 * arithmetic, positions and statement spans), the depth and height limits,
 * multi-megabyte statements, AST equality, the unparser hooks the planner
 * uses, sl_sql_error formatting, and allocation failure at every step.
 * Golden tests in tests/sql/parse and parse_errors cover the grammar by
 * construct.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "parser_int.h"

static sl_arena arena;
static sl_err err;

static void setup(void)
{
    sl_arena_init(&arena, 1 << 16, 0);
    sl_err_clear(&err);
}

static void teardown(void)
{
    sl_arena_free(&arena);
}

TestSuite(parser, .init = setup, .fini = teardown);

static sl_stmt_list parse_ok(const char *sql)
{
    sl_stmt_list list;
    int rc = sl_parse(sql, strlen(sql), &arena, &list, &err);
    cr_assert_eq(rc, SL_OK, "parse failed: %s", err.msg);
    return list;
}

static sl_stmt *parse1(const char *sql)
{
    sl_stmt_list list = parse_ok(sql);
    cr_assert_eq(list.n, 1);
    return list.items[0];
}

static sl_expr *expr_ok(const char *text)
{
    sl_expr *e = NULL;
    int rc = sl_parse_expr(text, strlen(text), &arena, &e, &err);
    cr_assert_eq(rc, SL_OK, "parse of '%s' failed: %s", text, err.msg);
    return e;
}

static char *unparse(const sl_stmt *s)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    cr_assert_eq(sl_unparse_stmt(s, &b), SL_OK);
    return sl_buf_steal(&b);
}

/* ---- lexer -----------------------------------------------------------------
 */

Test(parser, keyword_table_sorted)
{
    cr_assert(sl_kw_table_sorted());
    cr_assert_eq(sl_kw_lookup("select", 6), KW_SELECT);
    cr_assert_eq(sl_kw_lookup("SeLeCt", 6), KW_SELECT);
    cr_assert_eq(sl_kw_lookup("selectx", 7), KW_NONE);
    cr_assert(sl_kw_is_reserved(KW_FROM));
    cr_assert(!sl_kw_is_reserved(KW_MODEL));
    cr_assert_str_eq(sl_kw_name(KW_TIMESTAMP_LTZ), "TIMESTAMP_LTZ");
}

Test(parser, lexer_tokens_and_positions)
{
    const char *sql = "SELECT `a``b`, 'it''s' -- c\n"
                      "  /* x */ FROM t WHERE x<>1.5e3 || \"q\" => ;";
    sl_lexer lx;
    sl_lex_init(&lx, sql, strlen(sql));
    sl_tok_kind want[] = {TK_WORD,   TK_QIDENT, TK_COMMA, TK_STRING, TK_WORD,
                          TK_WORD,   TK_WORD,   TK_WORD,  TK_NE,     TK_DOUBLE,
                          TK_CONCAT, TK_QIDENT, TK_ARROW, TK_SEMI,   TK_EOF};
    sl_token toks[SL_ARRAY_LEN(want)];
    for (size_t i = 0; i < SL_ARRAY_LEN(want); i++) {
        cr_assert_eq(sl_lex_next(&lx, &toks[i], &err), SL_OK, "%s", err.msg);
        cr_assert_eq(toks[i].kind, want[i], "token %zu: kind %d", i,
                     toks[i].kind);
    }
    cr_assert_eq(toks[0].kw, KW_SELECT);
    cr_assert_eq(toks[4].kw, KW_FROM);
    cr_assert_eq(toks[4].line, 2);
    cr_assert_eq(toks[4].col, 11);
    cr_assert_eq(toks[5].kw, KW_NONE); /* t */
    char buf[32];
    size_t n = sl_lex_unquote(sql, &toks[1], buf);
    cr_assert_eq(n, 3);
    cr_assert_eq(memcmp(buf, "a`b", 3), 0);
    n = sl_lex_unquote(sql, &toks[3], buf);
    cr_assert_eq(n, 4);
    cr_assert_eq(memcmp(buf, "it's", 4), 0);
    /* EOF repeats */
    cr_assert_eq(sl_lex_next(&lx, &toks[0], &err), SL_OK);
    cr_assert_eq(toks[0].kind, TK_EOF);
}

Test(parser, lexer_numbers)
{
    const char *sql = "1 1.5 .5 1. 1e3 1E-3 2.5e+2";
    sl_tok_kind want[] = {TK_INT,    TK_DECIMAL, TK_DECIMAL, TK_DECIMAL,
                          TK_DOUBLE, TK_DOUBLE,  TK_DOUBLE};
    sl_lexer lx;
    sl_lex_init(&lx, sql, strlen(sql));
    for (size_t i = 0; i < SL_ARRAY_LEN(want); i++) {
        sl_token t;
        cr_assert_eq(sl_lex_next(&lx, &t, &err), SL_OK);
        cr_assert_eq(t.kind, want[i], "token %zu", i);
    }
}

Test(parser, lexer_errors)
{
    const char *bad[] = {"'abc", "`abc",  "\"abc",  "/* x",   "a | b", "#",
                         "1abc", "x'0g'", "x'abc'", "a == b", "'a\0b'"};
    size_t lens[] = {4, 4, 4, 4, 5, 1, 4, 5, 6, 6, 5};
    for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
        sl_lexer lx;
        sl_lex_init(&lx, bad[i], lens[i]);
        sl_token t;
        int rc = SL_OK;
        for (int k = 0; k < 10 && rc == SL_OK; k++) {
            rc = sl_lex_next(&lx, &t, &err);
            if (rc == SL_OK && t.kind == TK_EOF)
                break;
        }
        cr_assert_eq(rc, SL_SQL, "'%s' lexed without error", bad[i]);
        cr_assert(strchr(err.msg, '^'), "no caret in: %s", err.msg);
    }
}

/* ---- AST contents ----------------------------------------------------------
 */

Test(parser, literal_values)
{
    sl_expr *e = expr_ok("9223372036854775807");
    cr_assert_eq(e->lit.kind, SL_LIT_INT);
    cr_assert(e->lit.i_valid);
    cr_assert_eq(e->lit.i, INT64_MAX);
    e = expr_ok("9223372036854775808");
    cr_assert(!e->lit.i_valid);
    cr_assert_str_eq(e->lit.text, "9223372036854775808");
    e = expr_ok("'it''s'");
    cr_assert_eq(e->lit.kind, SL_LIT_STRING);
    cr_assert_str_eq(e->lit.text, "it's");
    cr_assert_eq(e->lit.text_len, 4);
    e = expr_ok("DATE '1970-01-02'");
    cr_assert_eq(e->lit.kind, SL_LIT_DATE);
    cr_assert_eq(e->lit.i, 1);
    e = expr_ok("TIMESTAMP '1970-01-01 00:00:01.5'");
    cr_assert_eq(e->lit.kind, SL_LIT_TIMESTAMP);
    cr_assert_eq(e->lit.i, 1500);
    e = expr_ok("TIME '01:00:00'");
    cr_assert_eq(e->lit.i, 3600000);
    e = expr_ok("X'0aff'");
    cr_assert_eq(e->lit.kind, SL_LIT_BINARY);
    cr_assert_str_eq(e->lit.text, "0aff");
    e = expr_ok("false");
    cr_assert_eq(e->lit.kind, SL_LIT_BOOL);
    cr_assert(!e->lit.b);
}

Test(parser, interval_values)
{
    struct {
        const char *text;
        int64_t millis, months;
    } cases[] = {
        {"INTERVAL '5' SECOND", 5000, 0},
        {"INTERVAL '1.25' SECOND", 1250, 0},
        {"INTERVAL '10' MINUTES", 600000, 0},
        {"INTERVAL '2' HOUR", 7200000, 0},
        {"INTERVAL '1' DAY", 86400000, 0},
        {"INTERVAL '1' WEEK", 7 * 86400000LL, 0},
        {"INTERVAL '1:30' MINUTE TO SECOND", 90000, 0},
        {"INTERVAL '1:02:03.5' HOUR TO SECOND", 3723500, 0},
        {"INTERVAL '2 03:04' DAY TO MINUTE", 2 * 86400000LL + 11040000, 0},
        {"INTERVAL '-5' SECOND", -5000, 0},
        {"INTERVAL -'1' MINUTE", -60000, 0},
        {"INTERVAL 7 SECOND", 7000, 0},
        {"INTERVAL '2-6' YEAR TO MONTH", 0, 30},
        {"INTERVAL '3' MONTH", 0, 3},
        {"INTERVAL '1' QUARTER", 0, 3},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        sl_expr *e = expr_ok(cases[i].text);
        cr_assert_eq(e->kind, SL_EXPR_INTERVAL);
        cr_assert_eq(e->interval.millis, cases[i].millis, "%s: %lld",
                     cases[i].text, (long long)e->interval.millis);
        cr_assert_eq(e->interval.months, cases[i].months, "%s", cases[i].text);
        cr_assert_eq(e->interval.year_month, cases[i].months != 0);
    }
}

Test(parser, positions_and_spans)
{
    const char *sql = "SELECT 1;\n\n  SELECT a,\n    usr_id FROM t;  ";
    sl_stmt_list list = parse_ok(sql);
    cr_assert_eq(list.n, 2);
    sl_stmt *s = list.items[1];
    cr_assert_eq(s->line, 3);
    cr_assert_eq(s->col, 3);
    cr_assert_eq(s->offset, 13);
    cr_assert_eq(s->len, strlen("SELECT a,\n    usr_id FROM t"));
    sl_select *sel = &s->query.query->select;
    sl_expr *col = sel->items[1].expr;
    cr_assert_eq(col->kind, SL_EXPR_COLUMN);
    cr_assert_eq(col->pos.line, 4);
    cr_assert_eq(col->pos.col, 5);
    cr_assert_eq(sel->from->pos.line, 4);
    cr_assert_eq(sel->from->pos.col, 17);
    /* the binder reports through the same formatter */
    sl_sql_error(&err, SL_SQL, sql, strlen(sql), col->pos.offset,
                 "column '%s' not found (did you mean '%s'?)",
                 col->column.parts[0].text, "user_id");
    cr_assert_str_eq(err.msg, "4:5: column 'usr_id' not found (did you mean "
                              "'user_id'?)\n"
                              "    usr_id FROM t;  \n"
                              "    ^");
}

Test(parser, empty_script_and_empty_statements)
{
    sl_stmt_list list = parse_ok("");
    cr_assert_eq(list.n, 0);
    list = parse_ok(" ;; -- only comments\n/* x */ ;");
    cr_assert_eq(list.n, 0);
    list = parse_ok(";SELECT 1;;SELECT 2");
    cr_assert_eq(list.n, 2);
}

Test(parser, identifiers_keep_text_and_quoting)
{
    sl_stmt *s = parse1("SELECT `Order Id`, \"x\"\"y\", UserId FROM db.`T`");
    sl_select *sel = &s->query.query->select;
    sl_ident *a = &sel->items[0].expr->column.parts[0];
    cr_assert_str_eq(a->text, "Order Id");
    cr_assert(a->quoted);
    cr_assert_str_eq(sel->items[1].expr->column.parts[0].text, "x\"y");
    sl_ident *c = &sel->items[2].expr->column.parts[0];
    cr_assert_str_eq(c->text, "UserId");
    cr_assert(!c->quoted);
    cr_assert_eq(sel->from->table.name.n_parts, 2);
    cr_assert_str_eq(sel->from->table.name.parts[1].text, "T");
}

Test(parser, options_in_order_with_positions)
{
    sl_stmt *s = parse1("CREATE TABLE t (a INT) WITH (\n 'b' = '2',\n 'a' = "
                        "'1')");
    sl_opt_list *o = &s->create_table.options;
    cr_assert_eq(o->n, 2);
    cr_assert_str_eq(o->items[0].key, "b");
    cr_assert_str_eq(o->items[0].value, "2");
    cr_assert_str_eq(o->items[1].key, "a");
    cr_assert_eq(o->items[1].key_pos.line, 3);
    cr_assert_eq(o->items[1].value_pos.col, 8);
}

Test(parser, create_table_columns)
{
    sl_stmt *s = parse1(
        "CREATE TABLE t (id BIGINT NOT NULL, ts TIMESTAMP(3), c AS id + 1, "
        "m STRING METADATA FROM 'key' VIRTUAL, WATERMARK FOR ts AS ts - "
        "INTERVAL '1' SECOND, PRIMARY KEY (id) NOT ENFORCED)");
    cr_assert_eq(s->create_table.n_columns, 4);
    sl_column_def *c = s->create_table.columns;
    cr_assert_eq(c[0].type->id, SL_TYPE_BIGINT);
    cr_assert(c[0].type->not_null);
    cr_assert_eq(c[1].type->id, SL_TYPE_TIMESTAMP);
    cr_assert_eq(c[1].type->precision, 3);
    cr_assert_eq(c[2].kind, SL_COL_COMPUTED);
    cr_assert_null(c[2].type);
    cr_assert_eq(c[3].kind, SL_COL_METADATA);
    cr_assert_str_eq(c[3].metadata_key, "key");
    cr_assert(c[3].is_virtual);
    cr_assert_not_null(s->create_table.watermark);
    cr_assert_str_eq(s->create_table.watermark->column.parts[0].text, "ts");
    cr_assert_eq(s->create_table.primary_key.n_columns, 1);
}

Test(parser, parse_type_api)
{
    const sl_type *t = NULL;
    const char *text = "ROW<a INT, `b c` ARRAY<MAP<STRING, DECIMAL(5, 2)>>> "
                       "NOT NULL";
    cr_assert_eq(sl_parse_type(text, strlen(text), &arena, &t, &err), SL_OK,
                 "%s", err.msg);
    cr_assert_eq(t->id, SL_TYPE_ROW);
    cr_assert(t->not_null);
    cr_assert_eq(t->n_fields, 2);
    cr_assert_str_eq(t->fields[1].name, "b c");
    const sl_type *m = t->fields[1].type->elem;
    cr_assert_eq(m->id, SL_TYPE_MAP);
    cr_assert_eq(m->value->precision, 5);
    cr_assert_eq(m->value->scale, 2);
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_unparse_type(t, &b);
    cr_assert_str_eq(sl_buf_cstr(&b), "ROW<a INT, `b c` ARRAY<MAP<STRING, "
                                      "DECIMAL(5, 2)>>> NOT NULL");
    sl_buf_free(&b);
    cr_assert_eq(sl_parse_type("INT INT", 7, &arena, &t, &err), SL_SQL);
    cr_assert_null(t);
    cr_assert_str_eq(err.msg, "1:5: expected the end of the type, found "
                              "'INT'\nINT INT\n    ^");
    cr_assert_eq(sl_parse_type("STRING", 6, &arena, &t, &err), SL_OK);
    cr_assert_eq(t->id, SL_TYPE_VARCHAR);
    cr_assert_eq(t->precision, SL_TYPE_MAX_LEN);
}

Test(parser, error_leaves_empty_list)
{
    sl_stmt_list list;
    const char *sql = "SELECT 1; SELECT FROM";
    cr_assert_eq(sl_parse(sql, strlen(sql), &arena, &list, &err), SL_SQL);
    cr_assert_eq(list.n, 0);
    cr_assert_null(list.items);
    cr_assert_eq(err.code, SL_SQL);
    cr_assert_eq(sl_parse(NULL, 5, &arena, &list, &err), SL_MISUSE);
}

/* ---- limits
 * ------------------------------------------------------------------ */

static char *repeat_around(const char *pre, const char *open, int n,
                           const char *mid, const char *close, const char *post)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_buf_puts(&b, pre);
    for (int i = 0; i < n; i++)
        sl_buf_puts(&b, open);
    sl_buf_puts(&b, mid);
    for (int i = 0; i < n; i++)
        sl_buf_puts(&b, close);
    sl_buf_puts(&b, post);
    return sl_buf_steal(&b);
}

static int try_parse(const char *sql)
{
    sl_stmt_list list;
    sl_err_clear(&err);
    return sl_parse(sql, strlen(sql), &arena, &list, &err);
}

Test(parser, depth_limit)
{
    struct {
        const char *pre, *open, *mid, *close, *post;
    } shapes[] = {
        {"SELECT ", "(", "1", ")", ""},
        {"SELECT ", "f(", "1", ")", ""},
        {"SELECT ", "- ", "1", "", ""},
        {"SELECT ", "NOT ", "a", "", ""},
        {"SELECT ", "(SELECT ", "1", ")", ""},
        {"SELECT * FROM ", "(", "t", ")", ""},
        {"SELECT CAST(a AS ", "ARRAY<", "INT", ">", ")"},
        {"SELECT ", "CASE WHEN a THEN ", "1", " END", ""},
        {"SELECT ", "ARRAY[", "1", "]", ""},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(shapes); i++) {
        char *ok =
            repeat_around(shapes[i].pre, shapes[i].open, 90, shapes[i].mid,
                          shapes[i].close, shapes[i].post);
        cr_assert_eq(try_parse(ok), SL_OK, "shape %zu: %s", i, err.msg);
        sl_free(ok);
        char *deep =
            repeat_around(shapes[i].pre, shapes[i].open, 100000, shapes[i].mid,
                          shapes[i].close, shapes[i].post);
        cr_assert_eq(try_parse(deep), SL_LIMIT, "shape %zu", i);
        cr_assert(strstr(err.msg, "nested too deeply: more than 200 levels"),
                  "shape %zu: %s", i, err.msg);
        sl_free(deep);
    }
}

Test(parser, chain_limit)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_buf_puts(&b, "SELECT 1 FROM t WHERE ");
    for (int i = 0; i < 900; i++)
        sl_buf_printf(&b, "%sid = %d", i ? " OR " : "", i);
    cr_assert_eq(try_parse(sl_buf_cstr(&b)), SL_OK, "%s", err.msg);
    for (int i = 0; i < 100000; i++)
        sl_buf_puts(&b, " OR x");
    cr_assert_eq(try_parse(sl_buf_cstr(&b)), SL_LIMIT);
    cr_assert(strstr(err.msg, "more than 1000 nested or chained"), "%s",
              err.msg);
    sl_buf_reset(&b);
    sl_buf_puts(&b, "SELECT 1");
    for (int i = 0; i < 100000; i++)
        sl_buf_puts(&b, " UNION ALL SELECT 1");
    cr_assert_eq(try_parse(sl_buf_cstr(&b)), SL_LIMIT);
    sl_buf_free(&b);
}

/* Trees as tall as the limits allow still print and compare: the walkers
 * recurse, and the sanitizer build runs this too. */
Test(parser, tallest_trees_print_and_compare)
{
    const char *shapes[][3] = {
        {"SELECT ", " + x", "x"},
        {"SELECT 1 FROM t WHERE ", " OR b", "a"},
        {"SELECT ", " || 'y'", "'x'"},
        {"SELECT 1", " UNION ALL SELECT 1", ""},
        {"SELECT * FROM t", " JOIN u ON TRUE", ""},
        {"SELECT ", "[1]", "a"},
    };
    for (size_t k = 0; k < SL_ARRAY_LEN(shapes); k++) {
        sl_buf b;
        sl_buf_init(&b, 0);
        sl_buf_puts(&b, shapes[k][0]);
        sl_buf_puts(&b, shapes[k][2]);
        int n = 0;
        for (;; n++) {
            size_t len = b.len;
            sl_buf_puts(&b, shapes[k][1]);
            if (try_parse(sl_buf_cstr(&b)) != SL_OK) {
                cr_assert_eq(err.code, SL_LIMIT, "shape %zu: %s", k, err.msg);
                b.len = len;
                b.data[len] = '\0';
                break;
            }
        }
        cr_assert_gt(n, 900, "shape %zu: only %d links", k, n);
        sl_stmt *s = parse1(sl_buf_cstr(&b));
        char *text = unparse(s);
        sl_stmt *again = parse1(text);
        cr_assert(sl_ast_stmt_equal(s, again), "shape %zu", k);
        sl_free(text);
        sl_buf_free(&b);
    }
    char *parens = repeat_around("SELECT ", "(", 190, "1 + 2", ")", "");
    sl_stmt *s = parse1(parens);
    cr_assert(sl_ast_stmt_equal(s, s));
    sl_free(unparse(s));
    sl_free(parens);
}

/* A generated statement of about 5 MB: a wide INSERT ... VALUES with long
 * strings, then a huge IN list; both parse, print and parse back. */
Test(parser, multi_megabyte_statements, .timeout = 120)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_buf_puts(&b, "INSERT INTO sink (id, name, tags) VALUES ");
    for (int i = 0; b.len < 5u << 20; i++)
        sl_buf_printf(&b,
                      "%s(%d, 'name number %d with a quote '' inside', "
                      "ARRAY['a', 'b', 'c'])",
                      i ? ", " : "", i, i);
    cr_assert_eq(b.rc, SL_OK);
    size_t n = b.len;
    sl_stmt_list list;
    cr_assert_eq(sl_parse(b.data, n, &arena, &list, &err), SL_OK, "%s",
                 err.msg);
    cr_assert_eq(list.n, 1);
    cr_assert_eq(list.items[0]->len, n);
    sl_query *q = list.items[0]->insert.query;
    cr_assert_gt(q->values.n_rows, 50000);
    char *text = unparse(list.items[0]);
    sl_stmt_list again;
    cr_assert_eq(sl_parse(text, strlen(text), &arena, &again, &err), SL_OK);
    cr_assert(sl_ast_stmt_equal(list.items[0], again.items[0]));
    sl_free(text);

    sl_buf_reset(&b);
    sl_buf_puts(&b, "SELECT * FROM t WHERE id IN (");
    for (int i = 0; b.len < 5u << 20; i++)
        sl_buf_printf(&b, "%s%d", i ? ", " : "", i);
    sl_buf_puts(&b, ")");
    cr_assert_eq(sl_parse(b.data, b.len, &arena, &list, &err), SL_OK, "%s",
                 err.msg);
    sl_expr *in = list.items[0]->query.query->select.where;
    cr_assert_eq(in->kind, SL_EXPR_IN_LIST);
    cr_assert_gt(in->in_list.n_items, 500000);

    /* one 5 MB string literal */
    sl_buf_reset(&b);
    sl_buf_puts(&b, "SELECT '");
    while (b.len < 5u << 20)
        sl_buf_puts(&b, "abcdefghij");
    sl_buf_puts(&b, "' AS s");
    cr_assert_eq(sl_parse(b.data, b.len, &arena, &list, &err), SL_OK);
    sl_expr *s = list.items[0]->query.query->select.items[0].expr;
    cr_assert_eq(s->lit.text_len, b.len - strlen("SELECT '' AS s"));

    /* an error at the end of a 5 MB line shows a short excerpt */
    sl_buf_puts(&b, " FROM");
    cr_assert_eq(sl_parse(b.data, b.len, &arena, &list, &err), SL_SQL);
    cr_assert_lt(strlen(err.msg), 400);
    cr_assert(strstr(err.msg, "abcdefghij' AS s FROM\n"), "%s", err.msg);
    sl_buf_free(&b);
}

/* ---- equality
 * ---------------------------------------------------------------- */

static bool same(const char *a, const char *b)
{
    return sl_ast_stmt_equal(parse1(a), parse1(b));
}

Test(parser, ast_equality)
{
    cr_assert(same("SELECT a FROM t", "select  a\nfrom t -- x"));
    cr_assert(same("SELECT `a` FROM \"t\"", "SELECT a FROM t"));
    cr_assert(same("SELECT count(*) FROM t", "SELECT COUNT(*) FROM t"));
    cr_assert(same("SELECT ((a + b)) FROM t", "SELECT a + b FROM t"));
    cr_assert(same("SELECT a FROM t x", "SELECT a FROM t AS x"));
    cr_assert(same("SELECT a FROM t UNION DISTINCT SELECT b FROM u",
                   "SELECT a FROM t UNION SELECT b FROM u"));
    cr_assert(same("SELECT a != b", "SELECT a <> b"));
    cr_assert(same("SELECT SUM(x) OVER (ORDER BY t ROWS 2 PRECEDING)",
                   "SELECT SUM(x) OVER (ORDER BY t ROWS BETWEEN 2 "
                   "PRECEDING AND CURRENT ROW)"));
    cr_assert(!same("SELECT A FROM t", "SELECT a FROM t"));
    cr_assert(!same("SELECT a + b FROM t", "SELECT a - b FROM t"));
    cr_assert(!same("SELECT a + (b + c)", "SELECT a + b + c"));
    cr_assert(!same("SELECT 1", "SELECT 1.0"));
    cr_assert(!same("SELECT 'a'", "SELECT 'A'"));
    cr_assert(!same("SELECT a AS x FROM t", "SELECT a AS y FROM t"));
    cr_assert(!same("SELECT a FROM t LIMIT 1", "SELECT a FROM t LIMIT 2"));
    cr_assert(!same("SELECT CAST(a AS INT)", "SELECT TRY_CAST(a AS INT)"));
    cr_assert(!same("SELECT CAST(a AS INT)", "SELECT CAST(a AS INT NOT NULL)"));
    cr_assert(!same("SELECT * FROM a JOIN b ON TRUE",
                    "SELECT * FROM a LEFT JOIN b ON TRUE"));
    cr_assert(!same("CREATE TABLE t (a INT) WITH ('k' = 'v')",
                    "CREATE TABLE t (a INT) WITH ('k' = 'w')"));
    cr_assert(
        !same("SELECT INTERVAL '1' SECOND", "SELECT INTERVAL '1' MINUTE"));
    cr_assert(!sl_ast_stmt_equal(parse1("SHOW TABLES"), NULL));
    cr_assert(sl_ast_stmt_equal(NULL, NULL));
}

/* ---- unparse hooks ---------------------------------------------------------
 */

static int hook_columns(void *ctx, const sl_expr *e, sl_buf *out, bool *handled)
{
    int *calls = ctx;
    (*calls)++;
    if (e->kind == SL_EXPR_COLUMN) {
        sl_buf_printf(out, "c%d", (int)e->column.parts[0].len);
        *handled = true;
    } else if (e->kind == SL_EXPR_CAST) {
        sl_buf_puts(out, "CAST(");
        sl_unparse_expr(e->cast.operand, out,
                        &(sl_unparse_hooks){ctx, hook_columns});
        sl_buf_puts(out, " AS INTEGER)");
        *handled = true;
    } else if (e->kind == SL_EXPR_LITERAL && e->lit.kind == SL_LIT_INT &&
               e->lit.i == 666) {
        return SL_UNSUPPORTED;
    }
    return SL_OK;
}

Test(parser, unparse_hooks)
{
    int calls = 0;
    sl_unparse_hooks hooks = {&calls, hook_columns};
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_expr *e = expr_ok("(ab + c) * CAST(dd AS INT) - f(x)");
    cr_assert_eq(sl_unparse_expr(e, &b, &hooks), SL_OK);
    cr_assert_str_eq(sl_buf_cstr(&b),
                     "(c2 + c1) * CAST(c2 AS INTEGER) - F(c1)");
    cr_assert_gt(calls, 6);
    sl_buf_reset(&b);
    e = expr_ok("a + 666");
    cr_assert_eq(sl_unparse_expr(e, &b, &hooks), SL_UNSUPPORTED);
    sl_buf_reset(&b);
    e = expr_ok("-(-x)");
    cr_assert_eq(sl_unparse_expr(e, &b, NULL), SL_OK);
    cr_assert_str_eq(sl_buf_cstr(&b), "- -x");
    sl_buf_free(&b);
}

Test(parser, unparse_ident_quoting)
{
    const char *cases[][2] = {
        {"a", "a"},
        {"Abc_1", "Abc_1"},
        {"select", "`select`"},
        {"SELECT", "`SELECT`"},
        {"model", "model"},
        {"a b", "`a b`"},
        {"1a", "`1a`"},
        {"a`b", "`a``b`"},
        {"", "``"},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        sl_buf b;
        sl_buf_init(&b, 0);
        sl_unparse_ident(cases[i][0], strlen(cases[i][0]), &b);
        cr_assert_str_eq(sl_buf_cstr(&b), cases[i][1]);
        sl_buf_free(&b);
    }
}

/* ---- error formatting ------------------------------------------------------
 */

Test(parser, sql_error_format)
{
    const char *sql = "SELECT a\n\tFROM  t WHERE ?";
    sl_sql_error(&err, SL_SQL, sql, strlen(sql), strlen(sql) - 1,
                 "unexpected %s", "'?'");
    cr_assert_str_eq(err.msg, "2:16: unexpected '?'\n"
                              " FROM  t WHERE ?\n"
                              "               ^");
    /* UTF-8 before the caret counts one column per character in the
     * excerpt, so the caret stays under the token */
    const char *u = "SELECT 'héllo' x y";
    sl_sql_error(&err, SL_SQL, u, strlen(u), strlen(u) - 1, "bad");
    cr_assert_str_eq(err.msg, "1:19: bad\nSELECT 'héllo' x y\n"
                              "                 ^");
    /* offset past the end clamps to the end */
    sl_sql_error(&err, SL_SQL, "ab", 2, 99, "end");
    cr_assert_str_eq(err.msg, "1:3: end\nab\n  ^");
}

/* ---- allocation failures
 * ----------------------------------------------------- */

Test(parser, allocation_failure_at_every_step)
{
    const char *sql =
        "CREATE TABLE t (a INT, b AS a + 1, WATERMARK FOR ts AS ts) WITH "
        "('k' = 'v'); SELECT a, COUNT(DISTINCT b) OVER (PARTITION BY c) "
        "FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) "
        "JOIN u ON t.a = u.a WHERE x IN (1, 2) GROUP BY a";
    int ok = 0, nomem = 0;
    for (long n = 0; n < 400; n++) {
        sl_arena a;
        sl_arena_init(&a, 256, 0);
        sl_stmt_list list;
        sl_err_clear(&err);
        sl_alloc_fail_after(n);
        int rc = sl_parse(sql, strlen(sql), &a, &list, &err);
        sl_alloc_fail_after(-1);
        if (rc == SL_OK) {
            ok++;
            cr_assert_eq(list.n, 2);
        } else {
            cr_assert_eq(rc, SL_NOMEM, "step %ld: %d %s", n, rc, err.msg);
            nomem++;
        }
        sl_arena_free(&a);
    }
    cr_assert_gt(nomem, 10);
    cr_assert_gt(ok, 0);
    /* an arena bound behaves the same */
    sl_arena small;
    sl_arena_init(&small, 256, 1024);
    sl_stmt_list list;
    cr_assert_eq(sl_parse(sql, strlen(sql), &small, &list, &err), SL_NOMEM);
    sl_arena_free(&small);
}
