/*
 * sql_error.c: the one formatter of SQL error messages.
 *
 * The lexer, the parser and the binder (planner/) all report a problem in
 * SQL text the same way: "line:column: message", then the source line and
 * a caret under the column, so a user sees exactly where to look. Long
 * lines (generated SQL) are cut to a window around the caret.
 */
#include <stdio.h>
#include <string.h>

#include "parser.h"

/* Bytes of a long line shown on each side of the caret. */
#define EXCERPT_SIDE 60

void sl_sql_position(const char *sql, size_t len, size_t offset, int *line,
                     int *col)
{
    if (offset > len)
        offset = len;
    int l = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < offset; i++) {
        if (sql[i] == '\n') {
            l++;
            line_start = i + 1;
        }
    }
    *line = l;
    size_t c = offset - line_start + 1;
    *col = c > 2000000000u ? 2000000000 : (int)c;
}

static bool is_cont(unsigned char c)
{
    return (c & 0xc0) == 0x80;
}

int sl_sql_error(sl_err *err, int code, const char *sql, size_t len,
                 size_t offset, const char *fmt, ...)
{
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!sql)
        len = 0;
    if (offset > len)
        offset = len;
    int line, col;
    sl_sql_position(sql ? sql : "", len, offset, &line, &col);

    size_t ls = offset;
    while (ls > 0 && sql[ls - 1] != '\n')
        ls--;
    size_t le = offset;
    while (le < len && sql[le] != '\n')
        le++;
    if (le > ls && sql[le - 1] == '\r')
        le--;
    if (offset > le)
        offset = le;

    size_t ws = ls, we = le;
    bool cut_start = false, cut_end = false;
    if (offset - ls > EXCERPT_SIDE) {
        ws = offset - EXCERPT_SIDE;
        while (ws < offset && is_cont((unsigned char)sql[ws]))
            ws++;
        cut_start = true;
    }
    if (we - offset > EXCERPT_SIDE) {
        we = offset + EXCERPT_SIDE;
        while (we > offset && is_cont((unsigned char)sql[we]))
            we--;
        cut_end = true;
    }

    char excerpt[2 * EXCERPT_SIDE + 16];
    size_t o = 0;
    int caret = 0;
    if (cut_start) {
        memcpy(excerpt, "...", 3);
        o = 3;
        caret = 3;
    }
    for (size_t i = ws; i < we; i++) {
        unsigned char c = (unsigned char)sql[i];
        excerpt[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
        if (i < offset && !is_cont(c))
            caret++;
    }
    if (cut_end) {
        memcpy(excerpt + o, "...", 3);
        o += 3;
    }
    excerpt[o] = '\0';

    char pad[2 * EXCERPT_SIDE + 16];
    int np = SL_MIN(caret, (int)sizeof(pad) - 1);
    memset(pad, ' ', (size_t)np);
    pad[np] = '\0';
    return sl_err_reset(err, code, "%d:%d: %s\n%s\n%s^", line, col, msg,
                        excerpt, pad);
}
