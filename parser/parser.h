/*
 * parser.h: SQL text -> AST (ast.h), and AST -> canonical SQL text.
 *
 * The first stage of statement time (DESIGN.md section 3): the CLI and the
 * engine hand a script to sl_parse, which lexes and parses it with a
 * hand-written recursive-descent parser into statements allocated in the
 * caller's arena; planner/ binds those. Every error carries "line:column",
 * names the offending token and what was expected, and shows the source
 * line with a caret (sl_sql_error, shared with the binder so all SQL errors
 * look the same). The unparser prints the canonical form of a statement
 * (upper-case keywords, identifiers quoted only when needed, one spacing)
 * which parses back to an equal AST; planner/ reuses the expression printer
 * with hooks to emit SQLite SQL.
 *
 * Bounds: nesting deeper than SL_PARSE_MAX_DEPTH (parentheses, subqueries,
 * operators, types) is an SL_LIMIT error; input longer than
 * SL_PARSE_MAX_INPUT is an SL_LIMIT error. Nothing here aborts on bad
 * input or on OOM (SL_NOMEM, message set).
 */
#ifndef SL_PARSER_H
#define SL_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "ast.h"
#include "types.h"
#include "util.h"

#define SL_PARSE_MAX_DEPTH 200
/* Bound on the height of the tree, counting the links of left-deep chains
 * (a OR b OR ..., joins, UNION ALL ...) as well as nesting. Code that walks
 * the AST recursively may rely on it: at 1000 levels a walker using up to
 * 4 KB of stack per level (sanitizer builds) needs 4 MB. */
#define SL_PARSE_MAX_HEIGHT 1000
#define SL_PARSE_MAX_INPUT  ((size_t)1 << 30)

/* Parse a whole script: statements separated by ';' (empty statements
 * skipped; the last ';' optional). On success out->items holds out->n
 * statements allocated in arena, each with its source span. On failure
 * returns SL_SQL (syntax), SL_LIMIT (depth/size) or SL_NOMEM and fills err
 * with the sl_sql_error text; *out is then empty. The arena owns every
 * node; the script text need not outlive the call. */
int sl_parse(const char *sql, size_t len, sl_arena *arena, sl_stmt_list *out,
             sl_err *err);

/* Parse exactly one expression (the whole text); positions refer to text.
 */
int sl_parse_expr(const char *text, size_t len, sl_arena *arena, sl_expr **out,
                  sl_err *err);

/* Parse a SQL type ("DECIMAL(10, 2)", "ROW<a INT, b ARRAY<STRING>> NOT
 * NULL") into an sl_type built in arena. */
int sl_parse_type(const char *text, size_t len, sl_arena *arena,
                  const sl_type **out, sl_err *err);

/* The one formatter of SQL errors: sets err (replacing any earlier
 * message) to
 *
 *     L:C: message
 *     <the source line containing offset>
 *     <spaces>^
 *
 * where L:C is the 1-based line and byte column of offset in sql[0..len).
 * Long lines are cut to a window around the caret (marked "..."); tabs in
 * the excerpt become spaces so the caret lines up. Returns code. */
int sl_sql_error(sl_err *err, int code, const char *sql, size_t len,
                 size_t offset, const char *fmt, ...) SL_PRINTF(6, 7);

/* 1-based line and column of a byte offset in sql[0..len). */
void sl_sql_position(const char *sql, size_t len, size_t offset, int *line,
                     int *col);

/* ---- unparsing ------------------------------------------------------------
 * Canonical text: keywords upper case, unquoted function names upper case,
 * identifiers in backticks only when needed (not a plain word, or a
 * reserved keyword), single spaces, ", " between list items, parentheses
 * only where precedence needs them. Statements are printed without the
 * trailing ';'. unparse(parse(x)) parses back to an AST equal (by
 * sl_ast_stmt_equal) to parse(x). Errors are sticky in out->rc; the
 * functions return it (SL_OK, SL_NOMEM or SL_LIMIT). */
int sl_unparse_stmt(const sl_stmt *stmt, sl_buf *out);

/* Hooks let a caller (planner/) take over printing of any expression node,
 * e.g. to print a bound column as a SQLite column reference or a CAST in
 * SQLite's syntax. Before printing each node (the root and every child),
 * the printer calls hooks->expr(ctx, expr, out, &handled). If the hook
 * sets *handled = true, it has appended the node's complete text to out
 * itself (it may call sl_unparse_expr recursively, with the same hooks,
 * for children); the printer still wraps that text in the parentheses the
 * surrounding precedence requires. If *handled stays false the canonical
 * printer prints the node, calling the hook again for each child. A
 * non-zero return aborts printing and is returned from sl_unparse_expr
 * (out->rc is left as is). */
typedef struct sl_unparse_hooks {
    void *ctx;
    int (*expr)(void *ctx, const sl_expr *expr, sl_buf *out, bool *handled);
} sl_unparse_hooks;

/* Print one expression canonically; hooks may be NULL. */
int sl_unparse_expr(const sl_expr *expr, sl_buf *out,
                    const sl_unparse_hooks *hooks);

/* Print a query (SELECT/UNION/VALUES with WITH, ORDER BY, LIMIT). Hooks
 * apply to every expression in it; may be NULL. */
int sl_unparse_query(const sl_query *query, sl_buf *out,
                     const sl_unparse_hooks *hooks);

/* Canonical type spelling: STRING, BYTES, VARCHAR(n), DECIMAL(p, s),
 * TIMESTAMP(p), TIMESTAMP_LTZ(p), ARRAY<T>, MAP<K, V>, ROW<a T, ...>,
 * with " NOT NULL" when not nullable. */
int sl_unparse_type(const sl_type *type, sl_buf *out);

/* An identifier as canonical SQL: bare when it is a plain word that is not
 * a reserved keyword, else in backticks (inner backticks doubled). */
int sl_unparse_ident(const char *text, size_t len, sl_buf *out);

/* ---- comparison (tests) ----------------------------------------------------
 * Structural equality ignoring positions, source spans and the `quoted`
 * flag of identifiers (quoting does not change an identifier's meaning);
 * function names compare case-insensitively. */
bool sl_ast_stmt_equal(const sl_stmt *a, const sl_stmt *b);
bool sl_ast_expr_equal(const sl_expr *a, const sl_expr *b);
bool sl_ast_query_equal(const sl_query *a, const sl_query *b);

/* Names for messages and debugging: "CREATE TABLE", "SELECT", ... */
const char *sl_stmt_kind_name(sl_stmt_kind kind);

#endif /* SL_PARSER_H */
