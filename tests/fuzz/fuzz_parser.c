/*
 * fuzz_parser.c: libFuzzer target for the SQL front end (parser/).
 *
 * Feeds arbitrary bytes to sl_parse, sl_parse_expr and sl_parse_type. Any
 * crash, sanitizer report or leak is a bug (DESIGN.md section 10: no input
 * may crash the process). When a script parses, every statement must also
 * round-trip: its canonical text parses back to an equal AST and prints
 * identically; a violation aborts so the fuzzer reports the input. Seeds:
 * tests/fuzz/corpus/parser/ (the golden inputs). How to run it for longer:
 * docs/fuzzing.md.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const sl_stmt *stmt)
{
    sl_buf text;
    sl_buf_init(&text, 64u << 20);
    if (sl_unparse_stmt(stmt, &text) != SL_OK) {
        sl_buf_free(&text);
        return; /* out of buffer space: not a correctness issue */
    }
    sl_arena arena;
    sl_arena_init(&arena, 1 << 16, 256u << 20);
    sl_err err;
    sl_err_clear(&err);
    sl_stmt_list again;
    int rc = sl_parse(text.data, text.len, &arena, &again, &err);
    if (rc == SL_LIMIT || rc == SL_NOMEM) {
        /* canonical parentheses can add nesting near the limits */
    } else if (rc != SL_OK || again.n != 1 ||
               !sl_ast_stmt_equal(stmt, again.items[0])) {
        abort();
    } else {
        sl_buf second;
        sl_buf_init(&second, 64u << 20);
        sl_unparse_stmt(again.items[0], &second);
        if (strcmp(sl_buf_cstr(&second), sl_buf_cstr(&text)))
            abort();
        sl_buf_free(&second);
    }
    sl_arena_free(&arena);
    sl_buf_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *sql = (const char *)data;
    sl_arena arena;
    sl_arena_init(&arena, 1 << 16, 256u << 20);
    sl_err err;
    sl_err_clear(&err);
    sl_stmt_list list;
    int rc = sl_parse(sql, size, &arena, &list, &err);
    if (rc == SL_OK) {
        for (int i = 0; i < list.n; i++)
            check_round_trip(list.items[i]);
    } else if (rc == SL_SQL && !strchr(err.msg, ':')) {
        abort(); /* every parse error carries a position */
    }
    sl_arena_reset(&arena);

    sl_expr *expr;
    if (sl_parse_expr(sql, size, &arena, &expr, &err) == SL_OK) {
        sl_buf out;
        sl_buf_init(&out, 64u << 20);
        sl_unparse_expr(expr, &out, NULL);
        sl_buf_free(&out);
    }
    sl_arena_reset(&arena);

    const sl_type *type;
    if (sl_parse_type(sql, size, &arena, &type, &err) == SL_OK) {
        sl_buf out;
        sl_buf_init(&out, 1u << 20);
        sl_unparse_type(type, &out);
        sl_buf_free(&out);
    }
    sl_arena_free(&arena);
    return 0;
}
