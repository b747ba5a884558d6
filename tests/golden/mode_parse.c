/*
 * mode_parse.c: golden modes "parse" and "parse_errors" (tests/sql/parse,
 * tests/sql/parse_errors) for the SQL front end in parser/.
 *
 * "parse" parses the sql section and prints the canonical unparse of each
 * statement on its own line ending in ';'. It also checks the round trip:
 * the canonical text must parse back to an equal AST (sl_ast_stmt_equal)
 * and print identically; a failure becomes the output, so the case fails
 * with the offending text. "parse_errors" prints the parser's error
 * message (line:column, excerpt and caret) for sql that must not parse.
 */
#include <string.h>

#include "golden.h"
#include "parser.h"

static int check_round_trip(const sl_stmt *stmt, const char *text, sl_buf *out)
{
    sl_arena arena;
    sl_arena_init(&arena, 1 << 16, 0);
    sl_err err;
    sl_err_clear(&err);
    sl_stmt_list again;
    int rc = sl_parse(text, strlen(text), &arena, &again, &err);
    if (rc) {
        sl_buf_printf(out, "round trip: canonical text does not parse:\n%s\n%s",
                      text, err.msg);
    } else if (again.n != 1 || !sl_ast_stmt_equal(stmt, again.items[0])) {
        sl_buf_printf(out,
                      "round trip: canonical text parses to a different "
                      "AST:\n%s\n",
                      text);
        rc = SL_ERROR;
    } else {
        sl_buf second;
        sl_buf_init(&second, 64u << 20);
        sl_unparse_stmt(again.items[0], &second);
        if (strcmp(sl_buf_cstr(&second), text)) {
            sl_buf_printf(out,
                          "round trip: canonical text is not stable:\n"
                          "%s\n%s\n",
                          text, sl_buf_cstr(&second));
            rc = SL_ERROR;
        }
        sl_buf_free(&second);
    }
    sl_arena_free(&arena);
    return rc;
}

int golden_mode_parse(const golden_case *c, sl_buf *out)
{
    sl_arena arena;
    sl_arena_init(&arena, 1 << 16, 0);
    sl_err err;
    sl_err_clear(&err);
    sl_stmt_list list;
    int rc = sl_parse(c->sql, strlen(c->sql), &arena, &list, &err);
    if (rc) {
        sl_buf_puts(out, err.msg);
        sl_arena_free(&arena);
        return rc;
    }
    sl_buf text;
    sl_buf_init(&text, 64u << 20);
    for (int i = 0; i < list.n && !rc; i++) {
        sl_buf_reset(&text);
        rc = sl_unparse_stmt(list.items[i], &text);
        if (!rc)
            rc = check_round_trip(list.items[i], sl_buf_cstr(&text), out);
        if (rc) {
            sl_buf_printf(out, "\n(statement %d)", i + 1);
            break;
        }
        sl_buf_puts(out, sl_buf_cstr(&text));
        sl_buf_puts(out, ";\n");
    }
    sl_buf_free(&text);
    sl_arena_free(&arena);
    return rc;
}

int golden_mode_parse_errors(const golden_case *c, sl_buf *out)
{
    sl_arena arena;
    sl_arena_init(&arena, 1 << 16, 0);
    sl_err err;
    sl_err_clear(&err);
    sl_stmt_list list;
    int rc = sl_parse(c->sql, strlen(c->sql), &arena, &list, &err);
    if (rc) {
        sl_buf_puts(out, err.msg);
    } else {
        sl_buf_puts(out, "parsed without error:\n");
        for (int i = 0; i < list.n; i++) {
            sl_unparse_stmt(list.items[i], out);
            sl_buf_puts(out, ";\n");
        }
    }
    sl_arena_free(&arena);
    return rc;
}
