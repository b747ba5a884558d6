/*
 * parser.c: the recursive-descent parser, tokens (lexer.c) -> AST (ast.h).
 *
 * One function per grammar rule, top down: script -> statement -> query /
 * DDL -> FROM items -> expressions (one function per precedence level, from
 * OR down to primaries) -> types. The grammar is documented in
 * docs/sql-syntax.md. Tokens are pulled lazily from the lexer into a small
 * lookahead ring; a cloned lexer gives deeper lookahead where SQL needs it
 * (is "((" the start of a subquery or of a parenthesised join?).
 *
 * Errors: the first error ends the parse. It is formatted by sl_sql_error
 * at the offending token ("expected ... after ..., found 'x'") and the
 * parser unwinds with longjmp to sl_parse; every node lives in the caller's
 * arena, so unwinding leaks nothing. Recursion is bounded twice: `depth`
 * counts nested rules (parentheses, subqueries, calls, unary operators,
 * types) against SL_PARSE_MAX_DEPTH; `height` also counts the links of
 * left-deep chains (a + b + c, joins, UNIONs), bounding the height of the
 * tree that later stages walk recursively.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "parser_int.h"

#define RING     8 /* lookahead tokens kept (a power of two) */
#define MAX_LIST (1 << 26)

typedef struct parser {
    const char *src;
    size_t len;
    sl_arena *arena;
    sl_err *err;
    sl_lexer lx;
    sl_token ring[RING];
    int head; /* index of the current token */
    int n;    /* tokens buffered */
    size_t prev_end;
    int depth;
    int height;
    bool star_ok;        /* the next primary may be '*' or 't.*' */
    sl_expr *last_star;  /* the last '*' item built */
    const char *fn_name; /* name of the call whose arguments are parsed */
    jmp_buf jmp;
} parser;

/* ---- errors ----------------------------------------------------------- */

static void fail(parser *p)
{
    longjmp(p->jmp, 1);
}

static void error_at(parser *p, size_t offset, int code, const char *fmt, ...)
    SL_PRINTF(4, 5);

static void error_at(parser *p, size_t offset, int code, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sl_sql_error(p->err, code, p->src, p->len, offset, "%s", msg);
    fail(p);
}

static void nomem(parser *p)
{
    sl_err_reset(p->err, SL_NOMEM, "out of memory while parsing SQL");
    fail(p);
}

/* ---- tokens ------------------------------------------------------------- */

static sl_token *peek(parser *p, int k)
{
    while (p->n <= k) {
        sl_token *t = &p->ring[(p->head + p->n) & (RING - 1)];
        if (sl_lex_next(&p->lx, t, p->err))
            fail(p);
        p->n++;
    }
    return &p->ring[(p->head + k) & (RING - 1)];
}

static sl_token *cur(parser *p)
{
    return peek(p, 0);
}

static sl_token next(parser *p)
{
    sl_token t = *cur(p);
    if (t.kind != TK_EOF) {
        p->prev_end = t.offset + t.len;
        p->head = (p->head + 1) & (RING - 1);
        p->n--;
    }
    return t;
}

static sl_pos tpos(const sl_token *t)
{
    sl_pos pos = {t->offset, t->line, t->col};
    return pos;
}

static bool tok_is(parser *p, int k, sl_tok_kind kind)
{
    return peek(p, k)->kind == kind;
}

static bool kw_at(parser *p, int k, sl_kw kw)
{
    sl_token *t = peek(p, k);
    return t->kind == TK_WORD && t->kw == kw;
}

static bool is_kw(parser *p, sl_kw kw)
{
    return kw_at(p, 0, kw);
}

static bool accept(parser *p, sl_tok_kind kind)
{
    if (cur(p)->kind != kind)
        return false;
    next(p);
    return true;
}

static bool accept_kw(parser *p, sl_kw kw)
{
    if (!is_kw(p, kw))
        return false;
    next(p);
    return true;
}

/* "'FROM'", "end of input", "string 'abc'" */
static void describe(parser *p, const sl_token *t, char *buf, size_t size)
{
    const char *s = p->src + t->offset;
    int n = (int)SL_MIN(t->len, 40);
    const char *more = t->len > 40 ? "..." : "";
    switch (t->kind) {
    case TK_EOF:
        sl_snprintf(buf, size, "end of input");
        break;
    case TK_STRING:
        sl_snprintf(buf, size, "string %.*s%s", n, s, more);
        break;
    default:
        sl_snprintf(buf, size, "'%.*s%s'", n, s, more);
        break;
    }
    for (char *c = buf; *c; c++)
        if ((unsigned char)*c < 0x20)
            *c = ' ';
}

/* "expected <what>, found 'x'" at the current token. */
static void expected(parser *p, const char *what)
{
    char found[80];
    sl_token *t = cur(p);
    describe(p, t, found, sizeof(found));
    const char *hint = "";
    char hintbuf[120];
    bool wants_ident = (!strncmp(what, "a ", 2) || !strncmp(what, "an ", 3)) &&
                       (strstr(what, "name") || strstr(what, "alias"));
    if (t->kind == TK_WORD && sl_kw_is_reserved(t->kw) && wants_ident) {
        sl_snprintf(hintbuf, sizeof(hintbuf),
                    " (%s is a reserved word; quote it as `%.*s`)",
                    sl_kw_name(t->kw), (int)t->len, p->src + t->offset);
        hint = hintbuf;
    }
    /* At the end of input, point just past the last token rather than at
     * trailing blanks or an empty last line. */
    size_t at = t->kind == TK_EOF && p->prev_end ? p->prev_end : t->offset;
    error_at(p, at, SL_SQL, "expected %s, found %s%s", what, found, hint);
}

static sl_token expect(parser *p, sl_tok_kind kind, const char *what)
{
    if (cur(p)->kind != kind)
        expected(p, what);
    return next(p);
}

static sl_token expect_kw(parser *p, sl_kw kw, const char *what)
{
    if (!is_kw(p, kw))
        expected(p, what);
    return next(p);
}

/* ---- bounds and memory -------------------------------------------------- */

static void enter(parser *p)
{
    p->height++;
    if (++p->depth > SL_PARSE_MAX_DEPTH) {
        sl_token *t = cur(p);
        error_at(p, t->offset, SL_LIMIT,
                 "statement nested too deeply: more than %d levels of "
                 "parentheses, subqueries, calls or operators",
                 SL_PARSE_MAX_DEPTH);
    }
    if (p->height > SL_PARSE_MAX_HEIGHT)
        error_at(p, cur(p)->offset, SL_LIMIT,
                 "statement too complex: more than %d nested or chained "
                 "operators, joins or set operations",
                 SL_PARSE_MAX_HEIGHT);
}

static void leave(parser *p)
{
    p->depth--;
    p->height--;
}

/* One more link of a left-deep chain; the caller subtracts its links at
 * the end. */
static void link_chain(parser *p, int *links)
{
    (*links)++;
    if (++p->height > SL_PARSE_MAX_HEIGHT)
        error_at(p, cur(p)->offset, SL_LIMIT,
                 "statement too complex: more than %d nested or chained "
                 "operators, joins or set operations",
                 SL_PARSE_MAX_HEIGHT);
}

static void *alloc(parser *p, size_t n)
{
    void *m = sl_arena_alloc(p->arena, n ? n : 1);
    if (!m)
        nomem(p);
    memset(m, 0, n);
    return m;
}

static char *dup(parser *p, const char *s, size_t n)
{
    char *d = alloc(p, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* A list growing in the arena (old arrays are abandoned to the arena). */
typedef struct vec {
    char *data;
    int n, cap;
    size_t elem;
} vec;

static void vec_init(vec *v, size_t elem)
{
    v->data = NULL;
    v->n = v->cap = 0;
    v->elem = elem;
}

static void *vec_push(parser *p, vec *v)
{
    if (v->n == v->cap) {
        if (v->cap >= MAX_LIST)
            error_at(p, cur(p)->offset, SL_LIMIT,
                     "list too long: more than %d items", MAX_LIST);
        int cap = v->cap ? v->cap * 2 : 4;
        char *d = alloc(p, (size_t)cap * v->elem);
        if (v->n)
            memcpy(d, v->data, (size_t)v->n * v->elem);
        v->data = d;
        v->cap = cap;
    }
    void *slot = v->data + (size_t)v->n * v->elem;
    memset(slot, 0, v->elem);
    v->n++;
    return slot;
}

#define PUSH(p, v, T, x) (*(T *)vec_push((p), (v)) = (x))

/* ---- identifiers and strings ------------------------------------------- */

static bool is_ident_tok(const sl_token *t)
{
    return t->kind == TK_QIDENT ||
           (t->kind == TK_WORD && !sl_kw_is_reserved(t->kw));
}

static void make_ident(parser *p, const sl_token *t, sl_ident *id)
{
    id->pos = tpos(t);
    if (t->kind == TK_QIDENT) {
        char *d = alloc(p, t->len + 1);
        id->len = sl_lex_unquote(p->src, t, d);
        d[id->len] = '\0';
        id->text = d;
        id->quoted = true;
    } else {
        id->text = dup(p, p->src + t->offset, t->len);
        id->len = t->len;
        id->quoted = false;
    }
}

static sl_ident parse_ident(parser *p, const char *what)
{
    sl_ident id;
    if (!is_ident_tok(cur(p)))
        expected(p, what);
    sl_token t = next(p);
    make_ident(p, &t, &id);
    return id;
}

static sl_name parse_name(parser *p, const char *what)
{
    vec parts;
    vec_init(&parts, sizeof(sl_ident));
    PUSH(p, &parts, sl_ident, parse_ident(p, what));
    while (tok_is(p, 0, TK_DOT) && is_ident_tok(peek(p, 1))) {
        next(p);
        PUSH(p, &parts, sl_ident, parse_ident(p, what));
    }
    sl_name name;
    name.n_parts = parts.n;
    name.parts = (sl_ident *)parts.data;
    name.pos = name.parts[0].pos;
    return name;
}

/* '(' ident, ... ')' */
static int parse_ident_list(parser *p, sl_ident **out, const char *what,
                            const char *close_ctx)
{
    vec v;
    vec_init(&v, sizeof(sl_ident));
    expect(p, TK_LPAREN, "'(' to start the column list");
    do {
        PUSH(p, &v, sl_ident, parse_ident(p, what));
    } while (accept(p, TK_COMMA));
    expect(p, TK_RPAREN, close_ctx);
    *out = (sl_ident *)v.data;
    return v.n;
}

static const char *string_value(parser *p, const sl_token *t, size_t *len)
{
    char *d = alloc(p, t->len + 1);
    size_t n = sl_lex_unquote(p->src, t, d);
    d[n] = '\0';
    if (len)
        *len = n;
    return d;
}

static const char *expect_string(parser *p, const char *what, size_t *len,
                                 sl_pos *pos)
{
    if (!tok_is(p, 0, TK_STRING))
        expected(p, what);
    sl_token t = next(p);
    if (pos)
        *pos = tpos(&t);
    return string_value(p, &t, len);
}

/* ---- forward declarations ---------------------------------------------- */

static sl_expr *parse_expr(parser *p);
static sl_expr *parse_additive(parser *p);
static sl_query *parse_query(parser *p);
static const sl_type *parse_type(parser *p);
static sl_stmt *parse_statement(parser *p);
static sl_window_spec *parse_window_body(parser *p);
static int parse_expr_list(parser *p, sl_expr ***out);

static bool starts_query(parser *p, int k)
{
    return kw_at(p, k, KW_SELECT) || kw_at(p, k, KW_WITH) ||
           kw_at(p, k, KW_VALUES);
}

static sl_expr *new_expr(parser *p, sl_expr_kind kind, sl_pos pos)
{
    sl_expr *e = alloc(p, sizeof(*e));
    e->kind = kind;
    e->pos = pos;
    return e;
}

/* ---- options ------------------------------------------------------------ */

static void parse_opt_pair(parser *p, sl_opt_pair *o, bool with_value)
{
    sl_token *t = cur(p);
    if (t->kind != TK_STRING) {
        if (t->kind == TK_WORD || t->kind == TK_QIDENT)
            error_at(p, t->offset, SL_SQL,
                     "expected an option key string, found '%.*s' (option "
                     "keys are quoted: write '%.*s')",
                     (int)SL_MIN(t->len, 40), p->src + t->offset,
                     (int)SL_MIN(t->len, 40), p->src + t->offset);
        expected(p, "an option key string such as 'connector'");
    }
    o->key = expect_string(p, "an option key", &o->key_len, &o->key_pos);
    if (!with_value)
        return;
    expect(p, TK_EQ, "'=' after the option key");
    t = cur(p);
    if (t->kind != TK_STRING && t->kind != TK_EOF && t->kind != TK_SEMI &&
        t->kind != TK_RPAREN && t->kind != TK_COMMA)
        error_at(p, t->offset, SL_SQL,
                 "expected an option value string, found '%.*s' (option "
                 "values are quoted: write '%.*s')",
                 (int)SL_MIN(t->len, 40), p->src + t->offset,
                 (int)SL_MIN(t->len, 40), p->src + t->offset);
    o->value = expect_string(p, "an option value string", &o->value_len,
                             &o->value_pos);
}

/* '(' 'k' = 'v', ... ')' (with_value) or '(' 'k', ... ')' */
static sl_opt_list parse_options(parser *p, bool with_value, const char *ctx)
{
    vec v;
    vec_init(&v, sizeof(sl_opt_pair));
    char what[96];
    sl_snprintf(what, sizeof(what), "'(' to start the %s", ctx);
    expect(p, TK_LPAREN, what);
    if (!tok_is(p, 0, TK_RPAREN)) {
        do {
            parse_opt_pair(p, vec_push(p, &v), with_value);
        } while (accept(p, TK_COMMA));
    }
    sl_snprintf(what, sizeof(what), "',' or ')' in the %s", ctx);
    expect(p, TK_RPAREN, what);
    sl_opt_list list = {v.n, (sl_opt_pair *)v.data};
    return list;
}

/* ---- types --------------------------------------------------------------- */

static int parse_int_param(parser *p, const char *what)
{
    sl_token *t = cur(p);
    int64_t v = 0;
    if (t->kind != TK_INT)
        expected(p, what);
    if (sl_parse_int64(p->src + t->offset, t->len, &v) || v > SL_TYPE_MAX_LEN)
        error_at(p, t->offset, SL_SQL, "%s is out of range: %.*s", what,
                 (int)SL_MIN(t->len, 40), p->src + t->offset);
    next(p);
    return (int)v;
}

/* Optional "(n)"; returns dflt when absent. */
static int parse_opt_len(parser *p, int dflt, const char *what, int lo, int hi)
{
    if (!accept(p, TK_LPAREN))
        return dflt;
    sl_token at = *cur(p);
    int v = parse_int_param(p, what);
    if (v < lo || v > hi)
        error_at(p, at.offset, SL_SQL, "%s must be between %d and %d, found %d",
                 what, lo, hi, v);
    expect(p, TK_RPAREN, "')' after the type parameter");
    return v;
}

static sl_type *new_type(parser *p, sl_type_id id)
{
    sl_type *t = alloc(p, sizeof(*t));
    *t = *sl_type_simple(id);
    return t;
}

static void expect_type_close(parser *p, bool angle, const char *ctx)
{
    if (angle)
        expect(p, TK_GT, ctx);
    else
        expect(p, TK_RPAREN, ctx);
}

static const sl_type *parse_row_type(parser *p, sl_type *t)
{
    if (accept(p, TK_NE)) /* ROW<> lexes as the '<>' operator */
        return t;
    bool angle = accept(p, TK_LT);
    if (!angle)
        expect(p, TK_LPAREN, "'<' or '(' after ROW");
    vec fields;
    vec_init(&fields, sizeof(sl_field));
    if (!tok_is(p, 0, angle ? TK_GT : TK_RPAREN)) {
        do {
            sl_ident name = parse_ident(p, "a ROW field name");
            sl_field *f = vec_push(p, &fields);
            f->name = name.text;
            f->type = parse_type(p);
            if (tok_is(p, 0, TK_STRING))
                next(p); /* field description: accepted, not kept */
        } while (accept(p, TK_COMMA));
    }
    expect_type_close(p, angle,
                      angle ? "',' or '>' to close the ROW type"
                            : "',' or ')' to close the ROW type");
    t->n_fields = fields.n;
    t->fields = (const sl_field *)fields.data;
    return t;
}

static void parse_time_zone_suffix(parser *p, sl_type *t)
{
    if (is_kw(p, KW_WITHOUT)) {
        next(p);
        expect_kw(p, KW_TIME, "TIME after WITHOUT");
        expect_kw(p, KW_ZONE, "ZONE after WITHOUT TIME");
    } else if (t->id == SL_TYPE_TIMESTAMP && is_kw(p, KW_WITH) &&
               kw_at(p, 1, KW_LOCAL)) {
        next(p);
        next(p);
        expect_kw(p, KW_TIME, "TIME after WITH LOCAL");
        expect_kw(p, KW_ZONE, "ZONE after WITH LOCAL TIME");
        t->id = SL_TYPE_TIMESTAMP_LTZ;
    }
}

static const sl_type *parse_type(parser *p)
{
    enter(p);
    sl_token tk = *cur(p);
    if (tk.kind != TK_WORD)
        expected(p, "a type such as INT, STRING or TIMESTAMP(3)");
    next(p);
    sl_type *t = NULL;
    switch (tk.kw) {
    case KW_BOOLEAN:
        t = new_type(p, SL_TYPE_BOOLEAN);
        break;
    case KW_TINYINT:
        t = new_type(p, SL_TYPE_TINYINT);
        break;
    case KW_SMALLINT:
        t = new_type(p, SL_TYPE_SMALLINT);
        break;
    case KW_INT:
    case KW_INTEGER:
        t = new_type(p, SL_TYPE_INT);
        break;
    case KW_BIGINT:
        t = new_type(p, SL_TYPE_BIGINT);
        break;
    case KW_FLOAT:
    case KW_REAL:
        t = new_type(p, SL_TYPE_FLOAT);
        break;
    case KW_DOUBLE:
        t = new_type(p, SL_TYPE_DOUBLE);
        accept_kw(p, KW_PRECISION);
        break;
    case KW_DECIMAL:
    case KW_DEC:
    case KW_NUMERIC:
        t = new_type(p, SL_TYPE_DECIMAL);
        t->scale = 0;
        if (accept(p, TK_LPAREN)) {
            sl_token at = *cur(p);
            t->precision = parse_int_param(p, "a DECIMAL precision");
            if (t->precision < 1 || t->precision > 38)
                error_at(p, at.offset, SL_SQL,
                         "DECIMAL precision must be between 1 and 38, "
                         "found %d",
                         t->precision);
            if (accept(p, TK_COMMA)) {
                at = *cur(p);
                t->scale = parse_int_param(p, "a DECIMAL scale");
                if (t->scale > t->precision)
                    error_at(p, at.offset, SL_SQL,
                             "DECIMAL scale must be between 0 and the "
                             "precision %d, found %d",
                             t->precision, t->scale);
            }
            expect(p, TK_RPAREN, "')' after the DECIMAL precision and scale");
        }
        break;
    case KW_CHAR:
    case KW_CHARACTER:
        t = new_type(p, SL_TYPE_CHAR);
        t->precision = parse_opt_len(p, 1, "a CHAR length", 1, SL_TYPE_MAX_LEN);
        break;
    case KW_VARCHAR:
        t = new_type(p, SL_TYPE_VARCHAR);
        t->precision = parse_opt_len(p, SL_TYPE_MAX_LEN, "a VARCHAR length", 1,
                                     SL_TYPE_MAX_LEN);
        break;
    case KW_STRING:
        t = new_type(p, SL_TYPE_VARCHAR);
        break;
    case KW_BINARY:
        t = new_type(p, SL_TYPE_BINARY);
        t->precision =
            parse_opt_len(p, 1, "a BINARY length", 1, SL_TYPE_MAX_LEN);
        break;
    case KW_VARBINARY:
        t = new_type(p, SL_TYPE_VARBINARY);
        t->precision = parse_opt_len(p, SL_TYPE_MAX_LEN, "a VARBINARY length",
                                     1, SL_TYPE_MAX_LEN);
        break;
    case KW_BYTES:
        t = new_type(p, SL_TYPE_VARBINARY);
        break;
    case KW_DATE:
        t = new_type(p, SL_TYPE_DATE);
        break;
    case KW_TIME:
        t = new_type(p, SL_TYPE_TIME);
        t->precision = parse_opt_len(p, 0, "a TIME precision", 0, 9);
        parse_time_zone_suffix(p, t);
        break;
    case KW_TIMESTAMP:
        t = new_type(p, SL_TYPE_TIMESTAMP);
        t->precision = parse_opt_len(p, 6, "a TIMESTAMP precision", 0, 9);
        parse_time_zone_suffix(p, t);
        break;
    case KW_TIMESTAMP_LTZ:
        t = new_type(p, SL_TYPE_TIMESTAMP_LTZ);
        t->precision = parse_opt_len(p, 6, "a TIMESTAMP_LTZ precision", 0, 9);
        break;
    case KW_ARRAY:
        t = new_type(p, SL_TYPE_ARRAY);
        expect(p, TK_LT, "'<' after ARRAY");
        t->elem = parse_type(p);
        expect(p, TK_GT, "'>' to close ARRAY<...>");
        break;
    case KW_MAP:
        t = new_type(p, SL_TYPE_MAP);
        expect(p, TK_LT, "'<' after MAP");
        t->elem = parse_type(p);
        expect(p, TK_COMMA, "',' between the MAP key and value types");
        t->value = parse_type(p);
        expect(p, TK_GT, "'>' to close MAP<...>");
        break;
    case KW_ROW:
        t = new_type(p, SL_TYPE_ROW);
        parse_row_type(p, t);
        break;
    case KW_MULTISET:
    case KW_RAW:
    case KW_INTERVAL:
        error_at(p, tk.offset, SL_UNSUPPORTED,
                 "type %s is not supported; use STRING, a number, "
                 "TIMESTAMP or ARRAY/MAP/ROW",
                 sl_kw_name(tk.kw));
        break;
    default:
        error_at(p, tk.offset, SL_SQL,
                 "unknown type '%.*s'; expected a type such as INT, BIGINT, "
                 "DOUBLE, STRING, TIMESTAMP(3) or ARRAY<STRING>",
                 (int)SL_MIN(tk.len, 40), p->src + tk.offset);
    }
    if (is_kw(p, KW_NOT) && kw_at(p, 1, KW_NULL)) {
        next(p);
        next(p);
        t->not_null = true;
    } else if (is_kw(p, KW_NULL)) {
        next(p);
    }
    leave(p);
    return t;
}

/* ---- intervals ----------------------------------------------------------- */

static sl_time_unit unit_of(sl_kw kw)
{
    switch (kw) {
    case KW_YEAR:
    case KW_YEARS:
        return SL_UNIT_YEAR;
    case KW_QUARTER:
        return SL_UNIT_QUARTER;
    case KW_MONTH:
    case KW_MONTHS:
        return SL_UNIT_MONTH;
    case KW_WEEK:
        return SL_UNIT_WEEK;
    case KW_DAY:
    case KW_DAYS:
        return SL_UNIT_DAY;
    case KW_HOUR:
    case KW_HOURS:
        return SL_UNIT_HOUR;
    case KW_MINUTE:
    case KW_MINUTES:
        return SL_UNIT_MINUTE;
    case KW_SECOND:
    case KW_SECONDS:
        return SL_UNIT_SECOND;
    case KW_MILLISECOND:
        return SL_UNIT_MILLISECOND;
    case KW_MICROSECOND:
        return SL_UNIT_MICROSECOND;
    case KW_NANOSECOND:
        return SL_UNIT_NANOSECOND;
    default:
        return SL_UNIT_NONE;
    }
}

static const char *const unit_names[] = {
    "",     "YEAR",   "QUARTER", "MONTH",       "WEEK",        "DAY",
    "HOUR", "MINUTE", "SECOND",  "MILLISECOND", "MICROSECOND", "NANOSECOND"};

static int64_t unit_ms(sl_time_unit u)
{
    switch (u) {
    case SL_UNIT_WEEK:
        return 7 * 86400000LL;
    case SL_UNIT_DAY:
        return 86400000LL;
    case SL_UNIT_HOUR:
        return 3600000LL;
    case SL_UNIT_MINUTE:
        return 60000LL;
    case SL_UNIT_SECOND:
        return 1000LL;
    case SL_UNIT_MILLISECOND:
        return 1;
    default:
        return 0;
    }
}

#define INTERVAL_MAX_FIELD 999999999999LL

/* Read an unsigned integer field; false when there is none or it is huge. */
static bool read_field(const char **s, const char *end, int64_t *v)
{
    const char *q = *s;
    int64_t x = 0;
    while (q < end && *q >= '0' && *q <= '9') {
        x = x * 10 + (*q - '0');
        if (x > INTERVAL_MAX_FIELD)
            return false;
        q++;
    }
    if (q == *s)
        return false;
    *s = q;
    *v = x;
    return true;
}

/* Fraction of a second ".fff" -> milliseconds (digits past 3 dropped). */
static bool read_fraction(const char **s, const char *end, int64_t *ms)
{
    *ms = 0;
    if (*s >= end || **s != '.')
        return true;
    (*s)++;
    int digits = 0;
    int64_t v = 0;
    while (*s < end && **s >= '0' && **s <= '9') {
        if (digits < 3)
            v = v * 10 + (**s - '0');
        digits++;
        (*s)++;
    }
    if (digits == 0)
        return false;
    for (int d = digits; d < 3; d++)
        v *= 10;
    *ms = v;
    return true;
}

/* Compute e->interval.millis / months from its text. Returns false when the
 * text does not fit the units. */
static bool interval_value(sl_expr *e)
{
    const char *s = e->interval.text;
    const char *end = s + e->interval.text_len;
    while (s < end && *s == ' ')
        s++;
    while (end > s && end[-1] == ' ')
        end--;
    int sign = 1;
    if (s < end && (*s == '-' || *s == '+')) {
        if (*s == '-')
            sign = -1;
        s++;
    }
    sl_time_unit from = e->interval.from, to = e->interval.to;
    int64_t f[4] = {0, 0, 0, 0}, frac = 0;
    int nf;
    const char *seps;
    int64_t lim[4] = {0, 0, 0, 0};
    if (to == SL_UNIT_NONE) {
        nf = 1;
        seps = "";
    } else if (from == SL_UNIT_YEAR && to == SL_UNIT_MONTH) {
        nf = 2, seps = "-", lim[1] = 12;
    } else if (from == SL_UNIT_DAY && to == SL_UNIT_HOUR) {
        nf = 2, seps = " ", lim[1] = 24;
    } else if (from == SL_UNIT_DAY && to == SL_UNIT_MINUTE) {
        nf = 3, seps = " :", lim[1] = 24, lim[2] = 60;
    } else if (from == SL_UNIT_DAY && to == SL_UNIT_SECOND) {
        nf = 4, seps = " ::", lim[1] = 24, lim[2] = 60, lim[3] = 60;
    } else if (from == SL_UNIT_HOUR && to == SL_UNIT_MINUTE) {
        nf = 2, seps = ":", lim[1] = 60;
    } else if (from == SL_UNIT_HOUR && to == SL_UNIT_SECOND) {
        nf = 3, seps = "::", lim[1] = 60, lim[2] = 60;
    } else if (from == SL_UNIT_MINUTE && to == SL_UNIT_SECOND) {
        nf = 2, seps = ":", lim[1] = 60;
    } else {
        return false;
    }
    for (int i = 0; i < nf; i++) {
        if (i > 0) {
            if (s >= end || *s != seps[i - 1])
                return false;
            s++;
            if (seps[i - 1] == ' ')
                while (s < end && *s == ' ')
                    s++;
        }
        if (!read_field(&s, end, &f[i]))
            return false;
        if (i > 0 && f[i] >= lim[i])
            return false;
    }
    sl_time_unit last = to == SL_UNIT_NONE ? from : to;
    if (last == SL_UNIT_SECOND && !read_fraction(&s, end, &frac))
        return false;
    if (s != end)
        return false;
    if (from == SL_UNIT_YEAR || from == SL_UNIT_QUARTER ||
        from == SL_UNIT_MONTH) {
        e->interval.year_month = true;
        int64_t m = from == SL_UNIT_YEAR      ? f[0] * 12 + f[1]
                    : from == SL_UNIT_QUARTER ? f[0] * 3
                                              : f[0];
        e->interval.months = sign * m;
        return true;
    }
    int64_t ms = 0;
    if (from == SL_UNIT_MICROSECOND)
        ms = f[0] / 1000;
    else if (from == SL_UNIT_NANOSECOND)
        ms = f[0] / 1000000;
    else {
        sl_time_unit u = from;
        for (int i = 0; i < nf; i++) {
            ms += f[i] * unit_ms(u);
            u = (sl_time_unit)(u + 1);
        }
        ms += frac;
    }
    e->interval.millis = sign * ms;
    return true;
}

static sl_time_unit parse_unit(parser *p, const char *what)
{
    sl_token *t = cur(p);
    sl_time_unit u = t->kind == TK_WORD ? unit_of(t->kw) : SL_UNIT_NONE;
    if (u == SL_UNIT_NONE)
        expected(p, what);
    next(p);
    return u;
}

/* INTERVAL ['-'] 'text' unit [(p)] [TO unit] */
static sl_expr *parse_interval(parser *p)
{
    sl_token kw = next(p);
    sl_expr *e = new_expr(p, SL_EXPR_INTERVAL, tpos(&kw));
    bool neg = false;
    if (tok_is(p, 0, TK_MINUS) || tok_is(p, 0, TK_PLUS))
        neg = next(p).kind == TK_MINUS;
    sl_token v = *cur(p);
    if (v.kind == TK_STRING) {
        next(p);
        size_t n;
        const char *text = string_value(p, &v, &n);
        if (neg) {
            char *d = alloc(p, n + 2);
            d[0] = '-';
            memcpy(d + 1, text, n + 1);
            text = d;
            n++;
        }
        e->interval.text = text;
        e->interval.text_len = n;
    } else if (v.kind == TK_INT || v.kind == TK_DECIMAL) {
        next(p);
        e->interval.text_len = v.len + (neg ? 1 : 0);
        char *d = alloc(p, e->interval.text_len + 1);
        if (neg)
            d[0] = '-';
        memcpy(d + (neg ? 1 : 0), p->src + v.offset, v.len);
        e->interval.text = d;
    } else {
        expected(p, "a quoted interval value after INTERVAL, such as "
                    "INTERVAL '5' SECOND");
    }
    e->interval.precision = -1;
    e->interval.from =
        parse_unit(p, "an interval unit (YEAR, MONTH, DAY, HOUR, MINUTE or "
                      "SECOND) after the INTERVAL value");
    if (tok_is(p, 0, TK_LPAREN)) {
        next(p);
        e->interval.precision = parse_int_param(p, "an interval precision");
        expect(p, TK_RPAREN, "')' after the interval precision");
    }
    if (accept_kw(p, KW_TO))
        e->interval.to = parse_unit(
            p, "an interval unit (MONTH, HOUR, MINUTE or SECOND) after TO");
    if (!interval_value(e)) {
        const char *form = "a number";
        sl_time_unit from = e->interval.from, to = e->interval.to;
        if (to == SL_UNIT_NONE && from == SL_UNIT_SECOND)
            form = "a number such as '5' or '1.5'";
        else if (from == SL_UNIT_YEAR && to == SL_UNIT_MONTH)
            form = "'Y-M'";
        else if (from == SL_UNIT_DAY && to == SL_UNIT_HOUR)
            form = "'D H'";
        else if (from == SL_UNIT_DAY && to == SL_UNIT_MINUTE)
            form = "'D H:M'";
        else if (from == SL_UNIT_DAY && to == SL_UNIT_SECOND)
            form = "'D H:M:S'";
        else if (from == SL_UNIT_HOUR && to == SL_UNIT_MINUTE)
            form = "'H:M'";
        else if (from == SL_UNIT_HOUR && to == SL_UNIT_SECOND)
            form = "'H:M:S'";
        else if (from == SL_UNIT_MINUTE && to == SL_UNIT_SECOND)
            form = "'M:S'";
        else if (to != SL_UNIT_NONE)
            error_at(p, kw.offset, SL_SQL,
                     "unsupported interval qualifier %s TO %s",
                     unit_names[from], unit_names[to]);
        char q[80];
        if (to == SL_UNIT_NONE)
            sl_snprintf(q, sizeof(q), "%s", unit_names[from]);
        else
            sl_snprintf(q, sizeof(q), "%s TO %s", unit_names[from],
                        unit_names[to]);
        error_at(p, v.offset, SL_SQL,
                 "invalid INTERVAL value '%.*s' for %s: expected %s",
                 (int)SL_MIN(e->interval.text_len, 40), e->interval.text, q,
                 form);
    }
    return e;
}

/* ---- literals ------------------------------------------------------------ */

static sl_expr *literal(parser *p, sl_lit_kind kind, const sl_token *t)
{
    sl_expr *e = new_expr(p, SL_EXPR_LITERAL, tpos(t));
    e->lit.kind = kind;
    return e;
}

static sl_expr *parse_temporal_literal(parser *p, sl_lit_kind kind)
{
    sl_token kw = next(p);
    if (kind == SL_LIT_TIMESTAMP_LTZ) {
        next(p); /* WITH */
        next(p); /* LOCAL */
        expect_kw(p, KW_TIME, "TIME after WITH LOCAL");
        expect_kw(p, KW_ZONE, "ZONE after WITH LOCAL TIME");
    }
    sl_pos vpos;
    size_t n;
    const char *text = expect_string(
        p, "a quoted literal such as '2024-01-31 12:00:00'", &n, &vpos);
    sl_expr *e = literal(p, kind, &kw);
    e->lit.text = text;
    e->lit.text_len = n;
    int rc;
    const char *form;
    switch (kind) {
    case SL_LIT_DATE:
        rc = sl_parse_date(text, n, &e->lit.i);
        form = "'YYYY-MM-DD'";
        break;
    case SL_LIT_TIME:
        rc = sl_parse_time(text, n, &e->lit.i);
        form = "'HH:MM:SS[.fff]'";
        break;
    default:
        rc = sl_parse_timestamp(text, n, &e->lit.i);
        form = "'YYYY-MM-DD HH:MM:SS[.fff]'";
        break;
    }
    if (rc != SL_OK || strlen(text) != n)
        error_at(p, vpos.offset, SL_SQL,
                 "invalid %s literal '%.*s': expected %s",
                 kind == SL_LIT_DATE   ? "DATE"
                 : kind == SL_LIT_TIME ? "TIME"
                                       : "TIMESTAMP",
                 (int)SL_MIN(n, 40), text, form);
    e->lit.i_valid = true;
    return e;
}

/* ---- calls ----------------------------------------------------------------
 */

static sl_expr *symbol(parser *p, const sl_token *t)
{
    sl_expr *e = new_expr(p, SL_EXPR_SYMBOL, tpos(t));
    char *up = dup(p, p->src + t->offset, t->len);
    for (char *c = up; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    e->symbol.text = up;
    e->symbol.unit = t->kind == TK_WORD ? unit_of(t->kw) : SL_UNIT_NONE;
    return e;
}

static bool name_is(const sl_name *name, const char *s)
{
    return name->n_parts == 1 && !name->parts[0].quoted &&
           sl_str_ieq(name->parts[0].text, s);
}

static sl_expr *parse_call_arg(parser *p, int index)
{
    sl_token *t = cur(p);
    /* TABLE t [PARTITION BY ...] */
    if (t->kind == TK_WORD && t->kw == KW_TABLE && is_ident_tok(peek(p, 1))) {
        sl_token kw = next(p);
        sl_expr *e = new_expr(p, SL_EXPR_TABLE_ARG, tpos(&kw));
        e->table_arg.name = parse_name(p, "a table name after TABLE");
        if (is_kw(p, KW_PARTITION)) {
            next(p);
            expect_kw(p, KW_BY, "BY after PARTITION");
            if (accept(p, TK_LPAREN)) {
                e->table_arg.n_partition =
                    parse_expr_list(p, &e->table_arg.partition);
                expect(p, TK_RPAREN, "',' or ')' in PARTITION BY (...)");
            } else {
                e->table_arg.n_partition = 1;
                e->table_arg.partition = alloc(p, sizeof(sl_expr *));
                e->table_arg.partition[0] = parse_expr(p);
            }
        }
        return e;
    }
    if (t->kind == TK_WORD && t->kw == KW_TABLE) {
        next(p);
        expected(p, "a table name after TABLE (a table argument names a "
                    "table, view or WITH query)");
    }
    /* MODEL m */
    if (t->kind == TK_WORD && t->kw == KW_MODEL && is_ident_tok(peek(p, 1))) {
        sl_token kw = next(p);
        sl_expr *e = new_expr(p, SL_EXPR_MODEL_ARG, tpos(&kw));
        e->model_arg.name = parse_name(p, "a model name after MODEL");
        return e;
    }
    /* name => value */
    if (is_ident_tok(t) && tok_is(p, 1, TK_ARROW)) {
        sl_token nt = next(p);
        next(p);
        sl_expr *e = new_expr(p, SL_EXPR_NAMED_ARG, tpos(&nt));
        make_ident(p, &nt, &e->named_arg.name);
        if (tok_is(p, 1, TK_ARROW) && is_ident_tok(cur(p)))
            expected(p, "an argument value after '=>'");
        e->named_arg.value = parse_call_arg(p, index);
        return e;
    }
    /* TIMESTAMPADD(DAY, ...), TIMESTAMPDIFF(HOUR, ...) */
    if (index == 0 && t->kind == TK_WORD && unit_of(t->kw) != SL_UNIT_NONE &&
        tok_is(p, 1, TK_COMMA) && p->fn_name &&
        (sl_str_ieq(p->fn_name, "TIMESTAMPADD") ||
         sl_str_ieq(p->fn_name, "TIMESTAMPDIFF"))) {
        sl_token u = next(p);
        return symbol(p, &u);
    }
    return parse_expr(p);
}

static void finish_args(parser *p, sl_expr *e, vec *args)
{
    e->func.n_args = args->n;
    e->func.args = (sl_expr **)args->data;
}

/* Special argument syntaxes; returns true when handled (args filled and
 * the closing ')' not yet consumed). */
static bool parse_special_args(parser *p, sl_expr *e, vec *args)
{
    const sl_name *name = &e->func.name;
    if (name_is(name, "EXTRACT")) {
        sl_token u = *cur(p);
        if (u.kind != TK_WORD)
            expected(p, "a time unit such as YEAR or HOUR in EXTRACT");
        next(p);
        PUSH(p, args, sl_expr *, symbol(p, &u));
        expect_kw(p, KW_FROM, "FROM after the EXTRACT unit");
        PUSH(p, args, sl_expr *, parse_expr(p));
        e->func.syntax = SL_CALL_EXTRACT;
        return true;
    }
    if (name_is(name, "FLOOR") || name_is(name, "CEIL") ||
        name_is(name, "CEILING")) {
        PUSH(p, args, sl_expr *, parse_expr(p));
        if (accept_kw(p, KW_TO)) {
            sl_token u = *cur(p);
            parse_unit(p, "a time unit such as HOUR or DAY after TO");
            PUSH(p, args, sl_expr *, symbol(p, &u));
            e->func.syntax =
                name_is(name, "FLOOR") ? SL_CALL_FLOOR_TO : SL_CALL_CEIL_TO;
            return true;
        }
        while (accept(p, TK_COMMA))
            PUSH(p, args, sl_expr *, parse_expr(p));
        return true;
    }
    if (name_is(name, "POSITION")) {
        PUSH(p, args, sl_expr *, parse_additive(p));
        if (accept_kw(p, KW_IN)) {
            PUSH(p, args, sl_expr *, parse_expr(p));
            e->func.syntax = SL_CALL_POSITION;
            return true;
        }
        while (accept(p, TK_COMMA))
            PUSH(p, args, sl_expr *, parse_expr(p));
        return true;
    }
    if (name_is(name, "TRIM")) {
        sl_token *t = cur(p);
        sl_expr *spec = NULL, *chars = NULL;
        if (t->kind == TK_WORD &&
            (t->kw == KW_BOTH || t->kw == KW_LEADING || t->kw == KW_TRAILING)) {
            sl_token st = next(p);
            spec = symbol(p, &st);
            if (!is_kw(p, KW_FROM))
                chars = parse_expr(p);
            expect_kw(p, KW_FROM, "FROM in TRIM(...)");
        } else {
            sl_expr *x = parse_expr(p);
            if (!accept_kw(p, KW_FROM)) {
                PUSH(p, args, sl_expr *, x);
                while (accept(p, TK_COMMA))
                    PUSH(p, args, sl_expr *, parse_expr(p));
                return true;
            }
            chars = x;
        }
        if (!spec) {
            spec = new_expr(p, SL_EXPR_SYMBOL, e->pos);
            spec->symbol.text = "BOTH";
        }
        if (!chars) {
            chars = new_expr(p, SL_EXPR_LITERAL, e->pos);
            chars->lit.kind = SL_LIT_STRING;
            chars->lit.text = " ";
            chars->lit.text_len = 1;
        }
        PUSH(p, args, sl_expr *, spec);
        PUSH(p, args, sl_expr *, chars);
        PUSH(p, args, sl_expr *, parse_expr(p));
        e->func.syntax = SL_CALL_TRIM;
        return true;
    }
    if (name_is(name, "SUBSTRING") || name_is(name, "OVERLAY")) {
        bool overlay = name_is(name, "OVERLAY");
        PUSH(p, args, sl_expr *, parse_expr(p));
        if (overlay && accept_kw(p, KW_PLACING)) {
            PUSH(p, args, sl_expr *, parse_expr(p));
            expect_kw(p, KW_FROM, "FROM in OVERLAY(... PLACING ...)");
        } else if (overlay || !accept_kw(p, KW_FROM)) {
            while (accept(p, TK_COMMA))
                PUSH(p, args, sl_expr *, parse_expr(p));
            return true;
        }
        PUSH(p, args, sl_expr *, parse_expr(p));
        if (accept_kw(p, KW_FOR))
            PUSH(p, args, sl_expr *, parse_expr(p));
        e->func.syntax = overlay ? SL_CALL_OVERLAY : SL_CALL_SUBSTRING;
        return true;
    }
    return false;
}

/* name '(' ... ')' [FILTER (WHERE ...)] [OVER ...]; cur is '('. */
static sl_expr *parse_call(parser *p, sl_name name)
{
    sl_expr *e = new_expr(p, SL_EXPR_FUNC, name.pos);
    e->func.name = name;
    sl_token open = next(p);
    const char *saved = p->fn_name;
    p->fn_name = name.parts[name.n_parts - 1].text;
    vec args;
    vec_init(&args, sizeof(sl_expr *));
    if (tok_is(p, 0, TK_STAR)) {
        next(p);
        e->func.star = true;
        if (!tok_is(p, 0, TK_RPAREN)) {
            char what[96];
            sl_snprintf(what, sizeof(what), "')' after '*' in %s(*)",
                        e->func.name.parts[e->func.name.n_parts - 1].text);
            expected(p, what);
        }
    } else if (!tok_is(p, 0, TK_RPAREN)) {
        if (accept_kw(p, KW_DISTINCT))
            e->func.distinct = true;
        else
            accept_kw(p, KW_ALL);
        if (e->func.distinct || !parse_special_args(p, e, &args)) {
            int i = 0;
            do {
                PUSH(p, &args, sl_expr *, parse_call_arg(p, i++));
            } while (accept(p, TK_COMMA));
        }
    }
    finish_args(p, e, &args);
    p->fn_name = saved;
    if (!tok_is(p, 0, TK_RPAREN)) {
        char what[120];
        sl_snprintf(what, sizeof(what),
                    "',' or ')' in the arguments of %s (opened at %d:%d)",
                    e->func.name.parts[e->func.name.n_parts - 1].text,
                    open.line, open.col);
        expected(p, what);
    }
    next(p);
    if (is_kw(p, KW_FILTER) && tok_is(p, 1, TK_LPAREN)) {
        next(p);
        next(p);
        expect_kw(p, KW_WHERE, "WHERE in FILTER (WHERE ...)");
        e->func.filter = parse_expr(p);
        expect(p, TK_RPAREN, "')' to close FILTER (WHERE ...)");
    }
    if (accept_kw(p, KW_OVER)) {
        if (tok_is(p, 0, TK_LPAREN)) {
            next(p);
            e->func.over = parse_window_body(p);
        } else {
            sl_window_spec *w = alloc(p, sizeof(*w));
            w->pos = tpos(cur(p));
            w->base = alloc(p, sizeof(sl_ident));
            *w->base = parse_ident(p, "'(' or a window name after OVER");
            e->func.over = w;
        }
    }
    return e;
}

/* ---- windows --------------------------------------------------------------
 */

static int parse_order_list(parser *p, sl_order_item **out)
{
    vec v;
    vec_init(&v, sizeof(sl_order_item));
    do {
        sl_order_item *o = vec_push(p, &v);
        o->expr = parse_expr(p);
        if (accept_kw(p, KW_DESC))
            o->desc = true;
        else
            accept_kw(p, KW_ASC);
        if (is_kw(p, KW_NULLS) &&
            (kw_at(p, 1, KW_FIRST) || kw_at(p, 1, KW_LAST))) {
            next(p);
            o->nulls = next(p).kw == KW_FIRST ? SL_NULLS_FIRST : SL_NULLS_LAST;
        }
    } while (accept(p, TK_COMMA));
    *out = (sl_order_item *)v.data;
    return v.n;
}

static int parse_expr_list(parser *p, sl_expr ***out)
{
    vec v;
    vec_init(&v, sizeof(sl_expr *));
    do {
        PUSH(p, &v, sl_expr *, parse_expr(p));
    } while (accept(p, TK_COMMA));
    *out = (sl_expr **)v.data;
    return v.n;
}

static sl_frame_bound parse_bound(parser *p)
{
    sl_frame_bound b = {0, NULL};
    if (is_kw(p, KW_UNBOUNDED)) {
        next(p);
        if (accept_kw(p, KW_PRECEDING))
            b.kind = SL_BOUND_UNBOUNDED_PRECEDING;
        else if (accept_kw(p, KW_FOLLOWING))
            b.kind = SL_BOUND_UNBOUNDED_FOLLOWING;
        else
            expected(p, "PRECEDING or FOLLOWING after UNBOUNDED");
        return b;
    }
    if (is_kw(p, KW_CURRENT) && kw_at(p, 1, KW_ROW)) {
        next(p);
        next(p);
        b.kind = SL_BOUND_CURRENT_ROW;
        return b;
    }
    b.offset = parse_additive(p);
    if (accept_kw(p, KW_PRECEDING))
        b.kind = SL_BOUND_PRECEDING;
    else if (accept_kw(p, KW_FOLLOWING))
        b.kind = SL_BOUND_FOLLOWING;
    else
        expected(p, "PRECEDING or FOLLOWING after the frame offset");
    return b;
}

/* After '(': [base] [PARTITION BY ...] [ORDER BY ...] [frame] ')' */
static sl_window_spec *parse_window_body(parser *p)
{
    sl_window_spec *w = alloc(p, sizeof(*w));
    w->pos = tpos(cur(p));
    sl_token *t = cur(p);
    if (is_ident_tok(t) &&
        !(t->kind == TK_WORD && (t->kw == KW_ROWS || t->kw == KW_RANGE))) {
        w->base = alloc(p, sizeof(sl_ident));
        *w->base = parse_ident(p, "a window name");
    }
    if (accept_kw(p, KW_PARTITION)) {
        expect_kw(p, KW_BY, "BY after PARTITION");
        w->n_partition = parse_expr_list(p, &w->partition);
    }
    if (accept_kw(p, KW_ORDER)) {
        expect_kw(p, KW_BY, "BY after ORDER");
        w->n_order = parse_order_list(p, &w->order);
    }
    if (is_kw(p, KW_ROWS) || is_kw(p, KW_RANGE)) {
        w->frame = next(p).kw == KW_ROWS ? SL_FRAME_ROWS : SL_FRAME_RANGE;
        if (accept_kw(p, KW_BETWEEN)) {
            w->start = parse_bound(p);
            expect_kw(p, KW_AND, "AND between the frame bounds");
            w->end = parse_bound(p);
        } else {
            w->start = parse_bound(p);
            w->end.kind = SL_BOUND_CURRENT_ROW;
        }
    }
    expect(p, TK_RPAREN, "')' to close the window specification");
    return w;
}

/* ---- expressions ----------------------------------------------------------
 */

static sl_expr *parse_case(parser *p)
{
    sl_token kw = next(p);
    sl_expr *e = new_expr(p, SL_EXPR_CASE, tpos(&kw));
    if (!is_kw(p, KW_WHEN))
        e->case_.operand = parse_expr(p);
    vec whens, thens;
    vec_init(&whens, sizeof(sl_expr *));
    vec_init(&thens, sizeof(sl_expr *));
    if (!is_kw(p, KW_WHEN))
        expected(p, "WHEN in CASE");
    while (accept_kw(p, KW_WHEN)) {
        PUSH(p, &whens, sl_expr *, parse_expr(p));
        expect_kw(p, KW_THEN, "THEN after the WHEN condition");
        PUSH(p, &thens, sl_expr *, parse_expr(p));
    }
    if (accept_kw(p, KW_ELSE))
        e->case_.else_ = parse_expr(p);
    if (!is_kw(p, KW_END)) {
        char what[96];
        sl_snprintf(what, sizeof(what),
                    "WHEN, ELSE or END in the CASE opened at %d:%d", kw.line,
                    kw.col);
        expected(p, what);
    }
    next(p);
    e->case_.n_whens = whens.n;
    e->case_.whens = (sl_expr **)whens.data;
    e->case_.thens = (sl_expr **)thens.data;
    return e;
}

static sl_expr *parse_cast(parser *p, bool is_try)
{
    sl_token kw = next(p);
    sl_expr *e = new_expr(p, SL_EXPR_CAST, tpos(&kw));
    e->cast.is_try = is_try;
    expect(p, TK_LPAREN, is_try ? "'(' after TRY_CAST" : "'(' after CAST");
    e->cast.operand = parse_expr(p);
    expect_kw(p, KW_AS,
              is_try ? "AS in TRY_CAST(x AS type)" : "AS in CAST(x AS type)");
    e->cast.type = parse_type(p);
    expect(p, TK_RPAREN,
           is_try ? "')' to close TRY_CAST" : "')' to close CAST");
    return e;
}

/* ARRAY[...], MAP[...]: cur is the keyword. */
static sl_expr *parse_bracket_ctor(parser *p, sl_expr_kind kind)
{
    sl_token kw = next(p);
    sl_expr *e = new_expr(p, kind, tpos(&kw));
    next(p); /* '[' */
    vec v;
    vec_init(&v, sizeof(sl_expr *));
    if (!tok_is(p, 0, TK_RBRACKET)) {
        do {
            PUSH(p, &v, sl_expr *, parse_expr(p));
        } while (accept(p, TK_COMMA));
    }
    expect(p, TK_RBRACKET,
           kind == SL_EXPR_ARRAY ? "',' or ']' in ARRAY[...]"
                                 : "',' or ']' in MAP[...]");
    if (kind == SL_EXPR_MAP && v.n % 2)
        error_at(p, kw.offset, SL_SQL,
                 "MAP[...] needs key/value pairs: found %d values", v.n);
    e->list.n_items = v.n;
    e->list.items = (sl_expr **)v.data;
    return e;
}

static sl_expr *parse_descriptor(parser *p)
{
    sl_token kw = next(p);
    sl_expr *e = new_expr(p, SL_EXPR_DESCRIPTOR, tpos(&kw));
    next(p); /* '(' */
    vec v;
    vec_init(&v, sizeof(sl_ident));
    do {
        PUSH(p, &v, sl_ident, parse_ident(p, "a column name in DESCRIPTOR"));
    } while (accept(p, TK_COMMA));
    expect(p, TK_RPAREN, "')' after DESCRIPTOR column list");
    e->descriptor.n_columns = v.n;
    e->descriptor.columns = (sl_ident *)v.data;
    return e;
}

static sl_expr *parse_no_paren_func(parser *p)
{
    sl_token t = next(p);
    sl_expr *e = new_expr(p, SL_EXPR_FUNC, tpos(&t));
    e->func.name.n_parts = 1;
    e->func.name.parts = alloc(p, sizeof(sl_ident));
    make_ident(p, &t, &e->func.name.parts[0]);
    e->func.name.pos = e->pos;
    e->func.syntax = SL_CALL_NO_PARENS;
    return e;
}

/* A name chain a.b.c: a column, a qualified star t.*, or a call. */
static sl_expr *parse_name_expr(parser *p, bool star_ok)
{
    sl_token first = *cur(p);
    vec parts;
    vec_init(&parts, sizeof(sl_ident));
    sl_token t = next(p);
    make_ident(p, &t, vec_push(p, &parts));
    for (;;) {
        if (!tok_is(p, 0, TK_DOT))
            break;
        if (tok_is(p, 1, TK_STAR)) {
            if (!star_ok)
                break;
            next(p);
            next(p);
            sl_expr *e = new_expr(p, SL_EXPR_STAR, tpos(&first));
            e->star.qualifier = alloc(p, sizeof(sl_name));
            e->star.qualifier->n_parts = parts.n;
            e->star.qualifier->parts = (sl_ident *)parts.data;
            e->star.qualifier->pos = tpos(&first);
            p->last_star = e;
            return e;
        }
        if (!is_ident_tok(peek(p, 1))) {
            if (peek(p, 1)->kind == TK_WORD) {
                /* a.<reserved>: be specific */
                next(p);
                expected(p, "a field or column name after '.'");
            }
            break;
        }
        next(p);
        t = next(p);
        make_ident(p, &t, vec_push(p, &parts));
    }
    sl_name name = {parts.n, (sl_ident *)parts.data, tpos(&first)};
    if (tok_is(p, 0, TK_LPAREN))
        return parse_call(p, name);
    sl_expr *e = new_expr(p, SL_EXPR_COLUMN, tpos(&first));
    e->column = name;
    return e;
}

static sl_expr *parse_primary(parser *p)
{
    bool star_ok = p->star_ok;
    p->star_ok = false;
    sl_token *t = cur(p);
    sl_token tk = *t;
    switch (t->kind) {
    case TK_INT:
    case TK_DECIMAL:
    case TK_DOUBLE: {
        next(p);
        sl_expr *e = literal(p,
                             t->kind == TK_INT       ? SL_LIT_INT
                             : t->kind == TK_DECIMAL ? SL_LIT_DECIMAL
                                                     : SL_LIT_DOUBLE,
                             &tk);
        e->lit.text = dup(p, p->src + tk.offset, tk.len);
        e->lit.text_len = tk.len;
        if (tk.kind == TK_INT &&
            sl_parse_int64(e->lit.text, tk.len, &e->lit.i) == SL_OK)
            e->lit.i_valid = true;
        return e;
    }
    case TK_STRING: {
        next(p);
        sl_expr *e = literal(p, SL_LIT_STRING, &tk);
        e->lit.text = string_value(p, &tk, &e->lit.text_len);
        return e;
    }
    case TK_BINSTR: {
        next(p);
        sl_expr *e = literal(p, SL_LIT_BINARY, &tk);
        e->lit.text = string_value(p, &tk, &e->lit.text_len);
        return e;
    }
    case TK_LPAREN: {
        next(p);
        sl_expr *e;
        if (starts_query(p, 0)) {
            e = new_expr(p, SL_EXPR_SUBQUERY, tpos(&tk));
            e->subquery.query = parse_query(p);
            expect(p, TK_RPAREN, "')' to close the subquery");
        } else {
            e = parse_expr(p);
            if (tok_is(p, 0, TK_COMMA)) {
                vec v;
                vec_init(&v, sizeof(sl_expr *));
                PUSH(p, &v, sl_expr *, e);
                while (accept(p, TK_COMMA))
                    PUSH(p, &v, sl_expr *, parse_expr(p));
                e = new_expr(p, SL_EXPR_ROW, tpos(&tk));
                e->list.n_items = v.n;
                e->list.items = (sl_expr **)v.data;
            }
            char what[80];
            sl_snprintf(what, sizeof(what),
                        "')' to close the '(' opened at %d:%d", tk.line,
                        tk.col);
            expect(p, TK_RPAREN, what);
        }
        return e;
    }
    case TK_STAR:
        if (star_ok) {
            next(p);
            sl_expr *e = new_expr(p, SL_EXPR_STAR, tpos(&tk));
            p->last_star = e;
            return e;
        }
        break;
    case TK_QIDENT:
        return parse_name_expr(p, star_ok);
    case TK_WORD:
        switch (t->kw) {
        case KW_NULL:
            next(p);
            return literal(p, SL_LIT_NULL, &tk);
        case KW_TRUE:
        case KW_FALSE: {
            next(p);
            sl_expr *e = literal(p, SL_LIT_BOOL, &tk);
            e->lit.b = tk.kw == KW_TRUE;
            return e;
        }
        case KW_CASE:
            return parse_case(p);
        case KW_CAST:
            return parse_cast(p, false);
        case KW_TRY_CAST:
            if (tok_is(p, 1, TK_LPAREN))
                return parse_cast(p, true);
            break;
        case KW_EXISTS: {
            next(p);
            sl_expr *e = new_expr(p, SL_EXPR_EXISTS, tpos(&tk));
            expect(p, TK_LPAREN, "'(' after EXISTS");
            if (!starts_query(p, 0) && !tok_is(p, 0, TK_LPAREN))
                expected(p, "a subquery after EXISTS (");
            e->subquery.query = parse_query(p);
            expect(p, TK_RPAREN, "')' to close the EXISTS subquery");
            return e;
        }
        case KW_INTERVAL:
            return parse_interval(p);
        case KW_DATE:
            if (tok_is(p, 1, TK_STRING))
                return parse_temporal_literal(p, SL_LIT_DATE);
            break;
        case KW_TIME:
            if (tok_is(p, 1, TK_STRING))
                return parse_temporal_literal(p, SL_LIT_TIME);
            break;
        case KW_TIMESTAMP:
            if (tok_is(p, 1, TK_STRING))
                return parse_temporal_literal(p, SL_LIT_TIMESTAMP);
            if (kw_at(p, 1, KW_WITH) && kw_at(p, 2, KW_LOCAL))
                return parse_temporal_literal(p, SL_LIT_TIMESTAMP_LTZ);
            break;
        case KW_ARRAY:
            if (tok_is(p, 1, TK_LBRACKET))
                return parse_bracket_ctor(p, SL_EXPR_ARRAY);
            next(p);
            expected(p, "'[' after ARRAY");
            break;
        case KW_MAP:
            if (tok_is(p, 1, TK_LBRACKET))
                return parse_bracket_ctor(p, SL_EXPR_MAP);
            next(p);
            expected(p, "'[' after MAP");
            break;
        case KW_ROW: {
            next(p);
            sl_expr *e = new_expr(p, SL_EXPR_ROW, tpos(&tk));
            expect(p, TK_LPAREN, "'(' after ROW");
            vec v;
            vec_init(&v, sizeof(sl_expr *));
            if (!tok_is(p, 0, TK_RPAREN)) {
                do {
                    PUSH(p, &v, sl_expr *, parse_expr(p));
                } while (accept(p, TK_COMMA));
            }
            expect(p, TK_RPAREN, "',' or ')' in ROW(...)");
            e->list.n_items = v.n;
            e->list.items = (sl_expr **)v.data;
            return e;
        }
        case KW_DESCRIPTOR:
            if (tok_is(p, 1, TK_LPAREN))
                return parse_descriptor(p);
            break;
        case KW_CURRENT_DATE:
        case KW_CURRENT_TIME:
        case KW_CURRENT_TIMESTAMP:
        case KW_LOCALTIME:
        case KW_LOCALTIMESTAMP:
            if (!tok_is(p, 1, TK_LPAREN))
                return parse_no_paren_func(p);
            return parse_name_expr(p, false);
        case KW_LEFT:
        case KW_RIGHT:
            if (tok_is(p, 1, TK_LPAREN))
                return parse_name_expr(p, false);
            break;
        default:
            break;
        }
        if (!sl_kw_is_reserved(t->kw))
            return parse_name_expr(p, star_ok);
        break;
    default:
        break;
    }
    expected(p, "an expression");
    return NULL;
}

static sl_expr *parse_postfix(parser *p)
{
    sl_expr *e = parse_primary(p);
    int links = 0;
    for (;;) {
        if (tok_is(p, 0, TK_LBRACKET)) {
            sl_token open = next(p);
            link_chain(p, &links);
            sl_expr *s = new_expr(p, SL_EXPR_SUBSCRIPT, e->pos);
            s->subscript.base = e;
            s->subscript.index = parse_expr(p);
            char what[80];
            sl_snprintf(what, sizeof(what),
                        "']' to close the '[' opened at %d:%d", open.line,
                        open.col);
            expect(p, TK_RBRACKET, what);
            e = s;
        } else if (tok_is(p, 0, TK_DOT) && e->kind != SL_EXPR_STAR) {
            next(p);
            link_chain(p, &links);
            sl_expr *f = new_expr(p, SL_EXPR_FIELD, e->pos);
            f->field.base = e;
            f->field.field = parse_ident(p, "a field name after '.'");
            e = f;
        } else {
            break;
        }
    }
    p->height -= links;
    return e;
}

static sl_expr *parse_unary(parser *p)
{
    if (tok_is(p, 0, TK_MINUS) || tok_is(p, 0, TK_PLUS)) {
        sl_token op = next(p);
        enter(p);
        sl_expr *e = new_expr(p, SL_EXPR_UNARY, tpos(&op));
        e->unary.op = op.kind == TK_MINUS ? SL_UNARY_NEG : SL_UNARY_PLUS;
        e->unary.operand = parse_unary(p);
        leave(p);
        return e;
    }
    return parse_postfix(p);
}

static sl_expr *binary(parser *p, sl_binary_op op, sl_expr *l, sl_expr *r)
{
    sl_expr *e = new_expr(p, SL_EXPR_BINARY, l->pos);
    e->binary.op = op;
    e->binary.left = l;
    e->binary.right = r;
    return e;
}

static sl_expr *parse_multiplicative(parser *p)
{
    sl_expr *e = parse_unary(p);
    int links = 0;
    for (;;) {
        sl_binary_op op;
        switch (cur(p)->kind) {
        case TK_STAR:
            op = SL_BIN_MUL;
            break;
        case TK_SLASH:
            op = SL_BIN_DIV;
            break;
        case TK_PERCENT:
            op = SL_BIN_MOD;
            break;
        case TK_CONCAT:
            op = SL_BIN_CONCAT;
            break;
        default:
            p->height -= links;
            return e;
        }
        next(p);
        link_chain(p, &links);
        e = binary(p, op, e, parse_unary(p));
    }
}

static sl_expr *parse_additive(parser *p)
{
    sl_expr *e = parse_multiplicative(p);
    int links = 0;
    while (tok_is(p, 0, TK_PLUS) || tok_is(p, 0, TK_MINUS)) {
        sl_binary_op op = next(p).kind == TK_PLUS ? SL_BIN_ADD : SL_BIN_SUB;
        link_chain(p, &links);
        e = binary(p, op, e, parse_multiplicative(p));
    }
    p->height -= links;
    return e;
}

static sl_expr *parse_in(parser *p, sl_expr *left, bool not_)
{
    sl_token open = *cur(p);
    expect(p, TK_LPAREN, "'(' after IN");
    sl_expr *e;
    if (starts_query(p, 0)) {
        e = new_expr(p, SL_EXPR_IN_QUERY, left->pos);
        e->in_query.operand = left;
        e->in_query.not_ = not_;
        e->in_query.query = parse_query(p);
        expect(p, TK_RPAREN, "')' to close the IN subquery");
    } else {
        e = new_expr(p, SL_EXPR_IN_LIST, left->pos);
        e->in_list.operand = left;
        e->in_list.not_ = not_;
        e->in_list.n_items = parse_expr_list(p, &e->in_list.items);
        char what[80];
        sl_snprintf(what, sizeof(what),
                    "',' or ')' in the IN list opened at %d:%d", open.line,
                    open.col);
        expect(p, TK_RPAREN, what);
    }
    return e;
}

static sl_expr *parse_predicate(parser *p)
{
    sl_expr *e = parse_additive(p);
    int links = 0;
    for (;;) {
        sl_token *t = cur(p);
        sl_binary_op op = 0;
        switch (t->kind) {
        case TK_EQ:
            op = SL_BIN_EQ;
            break;
        case TK_NE:
            op = SL_BIN_NE;
            break;
        case TK_LT:
            op = SL_BIN_LT;
            break;
        case TK_LE:
            op = SL_BIN_LE;
            break;
        case TK_GT:
            op = SL_BIN_GT;
            break;
        case TK_GE:
            op = SL_BIN_GE;
            break;
        default:
            break;
        }
        if (op) {
            next(p);
            link_chain(p, &links);
            e = binary(p, op, e, parse_additive(p));
            continue;
        }
        if (t->kind != TK_WORD)
            break;
        if (t->kw == KW_IS) {
            next(p);
            link_chain(p, &links);
            sl_expr *is = new_expr(p, SL_EXPR_IS, e->pos);
            is->is.operand = e;
            is->is.not_ = accept_kw(p, KW_NOT);
            if (accept_kw(p, KW_NULL))
                is->is.what = SL_IS_NULL;
            else if (accept_kw(p, KW_TRUE))
                is->is.what = SL_IS_TRUE;
            else if (accept_kw(p, KW_FALSE))
                is->is.what = SL_IS_FALSE;
            else if (accept_kw(p, KW_UNKNOWN))
                is->is.what = SL_IS_UNKNOWN;
            else if (accept_kw(p, KW_DISTINCT)) {
                expect_kw(p, KW_FROM, "FROM after IS DISTINCT");
                is->is.what = SL_IS_DISTINCT_FROM;
                is->is.rhs = parse_additive(p);
            } else {
                expected(p, is->is.not_ ? "NULL, TRUE, FALSE, UNKNOWN or "
                                          "DISTINCT FROM after IS NOT"
                                        : "NULL, TRUE, FALSE, UNKNOWN or "
                                          "DISTINCT FROM after IS");
            }
            e = is;
            continue;
        }
        bool not_ = false;
        int k = 0;
        if (t->kw == KW_NOT) {
            if (!(kw_at(p, 1, KW_IN) || kw_at(p, 1, KW_BETWEEN) ||
                  kw_at(p, 1, KW_LIKE) || kw_at(p, 1, KW_SIMILAR)))
                break;
            not_ = true;
            k = 1;
        }
        sl_kw kw = peek(p, k)->kw;
        if (kw == KW_IN) {
            if (not_)
                next(p);
            next(p);
            link_chain(p, &links);
            e = parse_in(p, e, not_);
        } else if (kw == KW_BETWEEN) {
            if (not_)
                next(p);
            next(p);
            link_chain(p, &links);
            sl_expr *b = new_expr(p, SL_EXPR_BETWEEN, e->pos);
            b->between.operand = e;
            b->between.not_ = not_;
            if (accept_kw(p, KW_SYMMETRIC))
                b->between.symmetric = true;
            else
                accept_kw(p, KW_ASYMMETRIC);
            b->between.low = parse_additive(p);
            expect_kw(p, KW_AND, "AND in BETWEEN ... AND ...");
            b->between.high = parse_additive(p);
            e = b;
        } else if (kw == KW_LIKE || kw == KW_SIMILAR) {
            if (not_)
                next(p);
            next(p);
            link_chain(p, &links);
            sl_expr *l = new_expr(p, SL_EXPR_LIKE, e->pos);
            l->like.operand = e;
            l->like.not_ = not_;
            if (kw == KW_SIMILAR) {
                expect_kw(p, KW_TO, "TO after SIMILAR");
                l->like.similar = true;
            }
            l->like.pattern = parse_additive(p);
            if (accept_kw(p, KW_ESCAPE))
                l->like.escape = parse_additive(p);
            e = l;
        } else {
            break;
        }
    }
    p->height -= links;
    return e;
}

static sl_expr *parse_not(parser *p)
{
    if (is_kw(p, KW_NOT)) {
        sl_token op = next(p);
        enter(p);
        sl_expr *e = new_expr(p, SL_EXPR_UNARY, tpos(&op));
        e->unary.op = SL_UNARY_NOT;
        e->unary.operand = parse_not(p);
        leave(p);
        return e;
    }
    return parse_predicate(p);
}

static sl_expr *parse_and(parser *p)
{
    sl_expr *e = parse_not(p);
    int links = 0;
    while (accept_kw(p, KW_AND)) {
        link_chain(p, &links);
        e = binary(p, SL_BIN_AND, e, parse_not(p));
    }
    p->height -= links;
    return e;
}

static sl_expr *parse_or(parser *p)
{
    sl_expr *e = parse_and(p);
    int links = 0;
    while (accept_kw(p, KW_OR)) {
        link_chain(p, &links);
        e = binary(p, SL_BIN_OR, e, parse_and(p));
    }
    p->height -= links;
    return e;
}

static sl_expr *parse_expr(parser *p)
{
    enter(p);
    sl_expr *e = parse_or(p);
    leave(p);
    return e;
}

/* ---- FROM -----------------------------------------------------------------
 */

static sl_from *parse_from_list(parser *p);

static void parse_alias(parser *p, sl_from *f)
{
    bool as = accept_kw(p, KW_AS);
    if (!as && !is_ident_tok(cur(p)))
        return;
    f->alias = alloc(p, sizeof(sl_ident));
    *f->alias = parse_ident(p, "an alias after AS");
    if (tok_is(p, 0, TK_LPAREN))
        f->n_col_aliases =
            parse_ident_list(p, &f->col_aliases, "a column alias",
                             "',' or ')' in the column alias list");
}

/* After '(' , skipping any further '(' : does a query start here? */
static bool parens_start_query(parser *p)
{
    sl_lexer lx = p->lx;
    /* lx is positioned after the buffered tokens; rescan from cur. */
    sl_token *t = cur(p);
    lx.pos = t->offset;
    lx.line = t->line;
    lx.line_start = t->offset - (size_t)(t->col - 1);
    sl_token tok;
    sl_err scratch;
    sl_err_clear(&scratch);
    for (int i = 0; i < SL_PARSE_MAX_DEPTH + 2; i++) {
        if (sl_lex_next(&lx, &tok, &scratch))
            return false;
        if (tok.kind != TK_LPAREN)
            return tok.kind == TK_WORD &&
                   (tok.kw == KW_SELECT || tok.kw == KW_WITH ||
                    tok.kw == KW_VALUES);
    }
    return false;
}

static sl_expr *parse_table_call(parser *p, const char *ctx)
{
    if (!is_ident_tok(cur(p)))
        expected(p, ctx);
    sl_name name = parse_name(p, ctx);
    if (!tok_is(p, 0, TK_LPAREN))
        expected(p, "'(' after the table function name");
    return parse_call(p, name);
}

static sl_from *parse_from_primary(parser *p)
{
    sl_token tk = *cur(p);
    sl_from *f = alloc(p, sizeof(*f));
    f->pos = tpos(&tk);
    if (tk.kind == TK_LPAREN) {
        next(p);
        enter(p);
        if (parens_start_query(p)) {
            f->kind = SL_FROM_SUBQUERY;
            f->subquery.query = parse_query(p);
            expect(p, TK_RPAREN, "')' to close the subquery in FROM");
            leave(p);
            parse_alias(p, f);
            return f;
        }
        sl_from *inner = parse_from_list(p);
        expect(p, TK_RPAREN, "')' to close the parenthesised FROM item");
        leave(p);
        return inner;
    }
    if (tk.kind == TK_WORD && tk.kw == KW_LATERAL) {
        next(p);
        if (accept_kw(p, KW_TABLE)) {
            expect(p, TK_LPAREN, "'(' after LATERAL TABLE");
            f->kind = SL_FROM_TABLE_FUNC;
            f->table_func.syntax = SL_TFUNC_LATERAL;
            f->table_func.call =
                parse_table_call(p, "a table function call in LATERAL "
                                    "TABLE(...)");
            expect(p, TK_RPAREN, "')' to close LATERAL TABLE(...)");
        } else if (tok_is(p, 0, TK_LPAREN)) {
            next(p);
            f->kind = SL_FROM_SUBQUERY;
            f->subquery.lateral = true;
            f->subquery.query = parse_query(p);
            expect(p, TK_RPAREN, "')' to close the LATERAL subquery");
        } else {
            expected(p, "TABLE(...) or a subquery after LATERAL");
        }
        parse_alias(p, f);
        return f;
    }
    if (tk.kind == TK_WORD && tk.kw == KW_TABLE) {
        next(p);
        expect(p, TK_LPAREN, "'(' after TABLE");
        f->kind = SL_FROM_TABLE_FUNC;
        f->table_func.syntax = SL_TFUNC_TABLE;
        f->table_func.call =
            parse_table_call(p, "a table function call such as TUMBLE(...) "
                                "in TABLE(...)");
        expect(p, TK_RPAREN, "')' to close TABLE(...)");
        parse_alias(p, f);
        return f;
    }
    if (!is_ident_tok(&tk))
        expected(p, "a table name, subquery or table function in FROM");
    sl_name name = parse_name(p, "a table name");
    if (tok_is(p, 0, TK_LPAREN)) {
        f->kind = SL_FROM_TABLE_FUNC;
        f->table_func.syntax = SL_TFUNC_DIRECT;
        f->table_func.call = parse_call(p, name);
    } else {
        f->kind = SL_FROM_TABLE;
        f->table.name = name;
        if (accept_kw(p, KW_FOR)) {
            sl_token st = *cur(p);
            if (st.kind != TK_WORD || st.kw != KW_SYSTEM_TIME)
                expected(p, "SYSTEM_TIME after FOR");
            next(p);
            expect_kw(p, KW_AS, "AS OF after FOR SYSTEM_TIME");
            expect_kw(p, KW_OF, "OF after FOR SYSTEM_TIME AS");
            f->table.system_time = parse_additive(p);
        }
    }
    parse_alias(p, f);
    return f;
}

static sl_from *parse_from_joins(parser *p)
{
    sl_from *left = parse_from_primary(p);
    int links = 0;
    for (;;) {
        sl_token *t = cur(p);
        if (t->kind != TK_WORD)
            break;
        sl_join_kind kind;
        sl_token start = *t;
        if (t->kw == KW_JOIN) {
            kind = SL_JOIN_INNER;
        } else if (t->kw == KW_INNER) {
            kind = SL_JOIN_INNER;
            next(p);
        } else if (t->kw == KW_LEFT || t->kw == KW_RIGHT || t->kw == KW_FULL) {
            kind = t->kw == KW_LEFT    ? SL_JOIN_LEFT
                   : t->kw == KW_RIGHT ? SL_JOIN_RIGHT
                                       : SL_JOIN_FULL;
            next(p);
            accept_kw(p, KW_OUTER);
        } else if (t->kw == KW_CROSS) {
            kind = SL_JOIN_CROSS;
            next(p);
        } else if (t->kw == KW_NATURAL) {
            error_at(p, t->offset, SL_UNSUPPORTED,
                     "NATURAL JOIN is not supported; use JOIN ... USING "
                     "(...)");
            break;
        } else {
            break;
        }
        expect_kw(p, KW_JOIN, "JOIN");
        link_chain(p, &links);
        sl_from *j = alloc(p, sizeof(*j));
        j->kind = SL_FROM_JOIN;
        j->pos = left->pos;
        j->join.kind = kind;
        j->join.left = left;
        j->join.right = parse_from_primary(p);
        if (kind != SL_JOIN_CROSS) {
            if (accept_kw(p, KW_ON)) {
                j->join.on = parse_expr(p);
            } else if (is_kw(p, KW_USING)) {
                next(p);
                j->join.n_using = parse_ident_list(
                    p, &j->join.using_, "a column name in USING",
                    "',' or ')' in the USING column list");
            } else {
                char what[120];
                sl_snprintf(what, sizeof(what),
                            "ON or USING after the table joined at %d:%d",
                            start.line, start.col);
                expected(p, what);
            }
        }
        left = j;
    }
    p->height -= links;
    return left;
}

static sl_from *parse_from_list(parser *p)
{
    sl_from *left = parse_from_joins(p);
    int links = 0;
    while (tok_is(p, 0, TK_COMMA)) {
        next(p);
        link_chain(p, &links);
        sl_from *j = alloc(p, sizeof(*j));
        j->kind = SL_FROM_JOIN;
        j->pos = left->pos;
        j->join.kind = SL_JOIN_COMMA;
        j->join.left = left;
        j->join.right = parse_from_joins(p);
        left = j;
    }
    p->height -= links;
    return left;
}

/* ---- queries --------------------------------------------------------------
 */

static sl_query *new_query(parser *p, sl_query_kind kind, sl_pos pos)
{
    sl_query *q = alloc(p, sizeof(*q));
    q->kind = kind;
    q->pos = pos;
    return q;
}

static void parse_select_item(parser *p, sl_select_item *item)
{
    p->star_ok = true;
    p->last_star = NULL;
    item->expr = parse_expr(p);
    p->star_ok = false;
    if (p->last_star && p->last_star != item->expr)
        error_at(p, p->last_star->pos.offset, SL_SQL,
                 "'*' must stand alone as a select item");
    p->last_star = NULL; /* an enclosing select item checks its own */
    if (item->expr->kind == SL_EXPR_STAR)
        return;
    if (accept_kw(p, KW_AS)) {
        item->alias = alloc(p, sizeof(sl_ident));
        *item->alias = parse_ident(p, "an alias after AS");
    } else if (is_ident_tok(cur(p))) {
        item->alias = alloc(p, sizeof(sl_ident));
        *item->alias = parse_ident(p, "an alias");
    }
}

static sl_query *parse_select(parser *p)
{
    sl_token kw = next(p);
    sl_query *q = new_query(p, SL_QUERY_SELECT, tpos(&kw));
    sl_select *s = &q->select;
    if (accept_kw(p, KW_DISTINCT))
        s->distinct = true;
    else
        accept_kw(p, KW_ALL);
    if (is_kw(p, KW_FROM))
        expected(p, "a select list (an expression or *) after SELECT");
    vec items;
    vec_init(&items, sizeof(sl_select_item));
    do {
        parse_select_item(p, vec_push(p, &items));
    } while (accept(p, TK_COMMA));
    s->n_items = items.n;
    s->items = (sl_select_item *)items.data;
    if (accept_kw(p, KW_FROM))
        s->from = parse_from_list(p);
    if (accept_kw(p, KW_WHERE))
        s->where = parse_expr(p);
    if (is_kw(p, KW_GROUP)) {
        next(p);
        expect_kw(p, KW_BY, "BY after GROUP");
        s->n_group = parse_expr_list(p, &s->group_by);
    }
    if (accept_kw(p, KW_HAVING))
        s->having = parse_expr(p);
    if (accept_kw(p, KW_WINDOW)) {
        vec v;
        vec_init(&v, sizeof(sl_named_window));
        do {
            sl_named_window *w = vec_push(p, &v);
            w->name = parse_ident(p, "a window name after WINDOW");
            expect_kw(p, KW_AS, "AS after the window name");
            expect(p, TK_LPAREN, "'(' to start the window specification");
            w->spec = parse_window_body(p);
        } while (accept(p, TK_COMMA));
        s->n_windows = v.n;
        s->windows = (sl_named_window *)v.data;
    }
    return q;
}

static sl_query *parse_values(parser *p)
{
    sl_token kw = next(p);
    sl_query *q = new_query(p, SL_QUERY_VALUES, tpos(&kw));
    vec rows, ncols;
    vec_init(&rows, sizeof(sl_expr **));
    vec_init(&ncols, sizeof(int));
    do {
        accept_kw(p, KW_ROW);
        expect(p, TK_LPAREN, "'(' to start a VALUES row");
        sl_expr **row;
        int n = parse_expr_list(p, &row);
        expect(p, TK_RPAREN, "',' or ')' in the VALUES row");
        PUSH(p, &rows, sl_expr **, row);
        PUSH(p, &ncols, int, n);
    } while (accept(p, TK_COMMA));
    q->values.n_rows = rows.n;
    q->values.rows = (sl_expr ***)rows.data;
    q->values.n_cols = (int *)ncols.data;
    return q;
}

static sl_query *parse_query_primary(parser *p)
{
    sl_token *t = cur(p);
    if (t->kind == TK_WORD && t->kw == KW_SELECT)
        return parse_select(p);
    if (t->kind == TK_WORD && t->kw == KW_VALUES)
        return parse_values(p);
    if (t->kind == TK_LPAREN) {
        sl_token open = next(p);
        sl_query *q = parse_query(p);
        char what[80];
        sl_snprintf(what, sizeof(what), "')' to close the '(' opened at %d:%d",
                    open.line, open.col);
        expect(p, TK_RPAREN, what);
        return q;
    }
    expected(p, "SELECT, VALUES or '(' to start a query");
    return NULL;
}

static sl_query *setop(parser *p, sl_setop_kind op, sl_query *l)
{
    next(p);
    sl_query *q = new_query(p, SL_QUERY_SETOP, l->pos);
    q->setop.op = op;
    if (accept_kw(p, KW_ALL))
        q->setop.all = true;
    else
        accept_kw(p, KW_DISTINCT);
    q->setop.left = l;
    return q;
}

static sl_query *parse_set_term(parser *p)
{
    sl_query *q = parse_query_primary(p);
    int links = 0;
    while (is_kw(p, KW_INTERSECT)) {
        link_chain(p, &links);
        q = setop(p, SL_SETOP_INTERSECT, q);
        q->setop.right = parse_query_primary(p);
    }
    p->height -= links;
    return q;
}

static sl_query *parse_set_expr(parser *p)
{
    sl_query *q = parse_set_term(p);
    int links = 0;
    while (is_kw(p, KW_UNION) || is_kw(p, KW_EXCEPT)) {
        link_chain(p, &links);
        q = setop(p, is_kw(p, KW_UNION) ? SL_SETOP_UNION : SL_SETOP_EXCEPT, q);
        q->setop.right = parse_set_term(p);
    }
    p->height -= links;
    return q;
}

static sl_query *parse_query(parser *p)
{
    enter(p);
    sl_token start = *cur(p);
    vec ctes;
    vec_init(&ctes, sizeof(sl_cte));
    if (accept_kw(p, KW_WITH)) {
        do {
            sl_cte *c = vec_push(p, &ctes);
            c->name = parse_ident(p, "a name for the WITH query");
            if (tok_is(p, 0, TK_LPAREN))
                c->n_columns =
                    parse_ident_list(p, &c->columns, "a column name",
                                     "',' or ')' in the WITH column list");
            expect_kw(p, KW_AS, "AS after the WITH query name");
            expect(p, TK_LPAREN, "'(' after AS in the WITH clause");
            c->query = parse_query(p);
            expect(p, TK_RPAREN, "')' to close the WITH query");
        } while (accept(p, TK_COMMA));
    }
    sl_query *q = parse_set_expr(p);
    if (ctes.n) {
        if (q->n_with)
            error_at(p, start.offset, SL_SQL,
                     "this query already has a WITH clause inside its "
                     "parentheses");
        q->n_with = ctes.n;
        q->with = (sl_cte *)ctes.data;
        q->pos = tpos(&start);
    }
    sl_token tail = *cur(p);
    sl_order_item *order = NULL;
    int n_order = 0;
    sl_expr *limit = NULL, *offset = NULL;
    if (is_kw(p, KW_ORDER)) {
        next(p);
        expect_kw(p, KW_BY, "BY after ORDER");
        n_order = parse_order_list(p, &order);
    }
    if (accept_kw(p, KW_LIMIT))
        limit = parse_additive(p);
    if (accept_kw(p, KW_OFFSET)) {
        offset = parse_additive(p);
        if (!accept_kw(p, KW_ROWS))
            accept_kw(p, KW_ROW);
    }
    if (!limit && is_kw(p, KW_FETCH)) {
        next(p);
        if (!accept_kw(p, KW_FIRST))
            expect_kw(p, KW_NEXT, "FIRST or NEXT after FETCH");
        limit = parse_additive(p);
        if (!accept_kw(p, KW_ROWS))
            expect_kw(p, KW_ROW, "ROWS after FETCH FIRST n");
        expect_kw(p, KW_ONLY, "ONLY after FETCH FIRST n ROWS");
    }
    if (n_order || limit || offset) {
        if (q->n_order || q->limit || q->offset)
            error_at(p, tail.offset, SL_SQL,
                     "ORDER BY/LIMIT/OFFSET given twice for the same query; "
                     "move the inner one into a subquery in FROM");
        q->n_order = n_order;
        q->order_by = order;
        q->limit = limit;
        q->offset = offset;
    }
    leave(p);
    return q;
}

/* ---- statements ------------------------------------------------------------
 */

static const char *opt_comment(parser *p)
{
    if (!accept_kw(p, KW_COMMENT))
        return NULL;
    return expect_string(p, "a quoted comment after COMMENT", NULL, NULL);
}

static bool parse_if_not_exists(parser *p)
{
    if (!is_kw(p, KW_IF) || !kw_at(p, 1, KW_NOT))
        return false; /* a table may be named `if` */
    next(p);
    expect_kw(p, KW_NOT, "NOT after IF (IF NOT EXISTS)");
    expect_kw(p, KW_EXISTS, "EXISTS after IF NOT");
    return true;
}

static bool parse_if_exists(parser *p)
{
    if (!is_kw(p, KW_IF) || !kw_at(p, 1, KW_EXISTS))
        return false;
    next(p);
    expect_kw(p, KW_EXISTS, "EXISTS after IF");
    return true;
}

static void parse_not_enforced(parser *p)
{
    if (!is_kw(p, KW_NOT) || !kw_at(p, 1, KW_ENFORCED))
        expected(p, "NOT ENFORCED after PRIMARY KEY (Flink does not enforce "
                    "primary keys)");
    next(p);
    next(p);
}

static void set_pk(parser *p, sl_stmt *s, sl_ident *cname, int n,
                   sl_ident *cols, const sl_token *at)
{
    sl_primary_key *pk = &s->create_table.primary_key;
    if (pk->n_columns)
        error_at(p, at->offset, SL_SQL,
                 "a table can have only one PRIMARY KEY (the first is at "
                 "%d:%d)",
                 pk->pos.line, pk->pos.col);
    pk->constraint_name = cname;
    pk->n_columns = n;
    pk->columns = cols;
    pk->pos = tpos(at);
}

static void parse_column_def(parser *p, sl_stmt *s, sl_column_def *c,
                             bool table)
{
    c->pos = tpos(cur(p));
    c->name = parse_ident(p, "a column name");
    if (table && accept_kw(p, KW_AS)) {
        c->kind = SL_COL_COMPUTED;
        c->expr = parse_expr(p);
        c->comment = opt_comment(p);
        return;
    }
    c->kind = SL_COL_PHYSICAL;
    if (tok_is(p, 0, TK_COMMA) || tok_is(p, 0, TK_RPAREN))
        expected(p, table ? "a type or AS after the column name"
                          : "a type after the column name");
    c->type = parse_type(p);
    if (table && accept_kw(p, KW_METADATA)) {
        c->kind = SL_COL_METADATA;
        if (accept_kw(p, KW_FROM))
            c->metadata_key = expect_string(
                p, "a quoted metadata key after FROM", NULL, NULL);
        c->is_virtual = accept_kw(p, KW_VIRTUAL);
    }
    if (table && (is_kw(p, KW_PRIMARY) || is_kw(p, KW_CONSTRAINT))) {
        sl_token at = *cur(p);
        sl_ident *cname = NULL;
        if (accept_kw(p, KW_CONSTRAINT)) {
            cname = alloc(p, sizeof(sl_ident));
            *cname = parse_ident(p, "a constraint name");
        }
        expect_kw(p, KW_PRIMARY, "PRIMARY KEY after CONSTRAINT name");
        expect_kw(p, KW_KEY, "KEY after PRIMARY");
        parse_not_enforced(p);
        sl_ident *col = alloc(p, sizeof(sl_ident));
        *col = c->name;
        set_pk(p, s, cname, 1, col, &at);
    }
    c->comment = opt_comment(p);
}

static void parse_create_table(parser *p, sl_stmt *s)
{
    s->kind = SL_STMT_CREATE_TABLE;
    s->create_table.if_not_exists = parse_if_not_exists(p);
    s->create_table.name = parse_name(p, "a table name");
    vec cols;
    vec_init(&cols, sizeof(sl_column_def));
    if (tok_is(p, 0, TK_LPAREN)) {
        sl_token open = next(p);
        do {
            sl_token *t = cur(p);
            if (t->kind == TK_WORD && t->kw == KW_WATERMARK &&
                kw_at(p, 1, KW_FOR)) {
                sl_token at = next(p);
                next(p);
                if (s->create_table.watermark)
                    error_at(p, at.offset, SL_SQL,
                             "a table can have only one WATERMARK");
                sl_watermark *w = alloc(p, sizeof(*w));
                w->pos = tpos(&at);
                w->column = parse_name(p, "a column name after WATERMARK FOR");
                expect_kw(p, KW_AS, "AS after WATERMARK FOR column");
                w->expr = parse_expr(p);
                s->create_table.watermark = w;
            } else if ((t->kind == TK_WORD && t->kw == KW_PRIMARY &&
                        kw_at(p, 1, KW_KEY)) ||
                       (t->kind == TK_WORD && t->kw == KW_CONSTRAINT &&
                        is_ident_tok(peek(p, 1)) && kw_at(p, 2, KW_PRIMARY))) {
                sl_token at = *t;
                sl_ident *cname = NULL;
                if (accept_kw(p, KW_CONSTRAINT)) {
                    cname = alloc(p, sizeof(sl_ident));
                    *cname = parse_ident(p, "a constraint name");
                }
                expect_kw(p, KW_PRIMARY,
                          "PRIMARY KEY after the constraint "
                          "name");
                expect_kw(p, KW_KEY, "KEY after PRIMARY");
                sl_ident *pkcols;
                int n = parse_ident_list(p, &pkcols, "a column name",
                                         "',' or ')' in the PRIMARY KEY "
                                         "column list");
                parse_not_enforced(p);
                set_pk(p, s, cname, n, pkcols, &at);
            } else {
                parse_column_def(p, s, vec_push(p, &cols), true);
            }
        } while (accept(p, TK_COMMA));
        if (!tok_is(p, 0, TK_RPAREN)) {
            char what[96];
            sl_snprintf(what, sizeof(what),
                        "',' or ')' in the column list opened at %d:%d",
                        open.line, open.col);
            expected(p, what);
        }
        next(p);
    }
    s->create_table.n_columns = cols.n;
    s->create_table.columns = (sl_column_def *)cols.data;
    s->create_table.comment = opt_comment(p);
    if (is_kw(p, KW_PARTITIONED)) {
        next(p);
        expect_kw(p, KW_BY, "BY after PARTITIONED");
        s->create_table.n_partitioned_by = parse_ident_list(
            p, &s->create_table.partitioned_by, "a column name",
            "',' or ')' in PARTITIONED BY (...)");
    }
    if (accept_kw(p, KW_WITH))
        s->create_table.options = parse_options(p, true, "WITH options");
    if (accept_kw(p, KW_AS))
        s->create_table.as_query = parse_query(p);
    if (!cols.n && !s->create_table.as_query)
        expected(p, "'(' and a column list, or AS SELECT ...");
}

static void parse_model_columns(parser *p, sl_stmt *s, const char *ctx, int *n,
                                sl_column_def **out)
{
    vec cols;
    vec_init(&cols, sizeof(sl_column_def));
    char what[80];
    sl_snprintf(what, sizeof(what), "'(' after %s", ctx);
    expect(p, TK_LPAREN, what);
    do {
        parse_column_def(p, s, vec_push(p, &cols), false);
    } while (accept(p, TK_COMMA));
    sl_snprintf(what, sizeof(what), "',' or ')' in the %s column list", ctx);
    expect(p, TK_RPAREN, what);
    *n = cols.n;
    *out = (sl_column_def *)cols.data;
}

static void parse_create_model(parser *p, sl_stmt *s)
{
    s->kind = SL_STMT_CREATE_MODEL;
    s->create_model.if_not_exists = parse_if_not_exists(p);
    s->create_model.name = parse_name(p, "a model name");
    expect_kw(p, KW_INPUT, "INPUT (...) after the model name");
    parse_model_columns(p, s, "INPUT", &s->create_model.n_inputs,
                        &s->create_model.inputs);
    expect_kw(p, KW_OUTPUT, "OUTPUT (...) after the INPUT columns");
    parse_model_columns(p, s, "OUTPUT", &s->create_model.n_outputs,
                        &s->create_model.outputs);
    s->create_model.comment = opt_comment(p);
    expect_kw(p, KW_WITH, "WITH (...) options for the model");
    s->create_model.options = parse_options(p, true, "WITH options");
}

static void parse_create_view(parser *p, sl_stmt *s)
{
    s->kind = SL_STMT_CREATE_VIEW;
    s->create_view.if_not_exists = parse_if_not_exists(p);
    s->create_view.name = parse_name(p, "a view name");
    if (tok_is(p, 0, TK_LPAREN))
        s->create_view.n_columns =
            parse_ident_list(p, &s->create_view.columns, "a column name",
                             "',' or ')' in the view column list");
    s->create_view.comment = opt_comment(p);
    expect_kw(p, KW_AS, "AS before the view's query");
    s->create_view.query = parse_query(p);
}

static void parse_create(parser *p, sl_stmt *s)
{
    next(p); /* CREATE */
    bool temporary = accept_kw(p, KW_TEMPORARY);
    if (accept_kw(p, KW_TABLE)) {
        parse_create_table(p, s);
        s->create_table.temporary = temporary;
    } else if (accept_kw(p, KW_VIEW)) {
        parse_create_view(p, s);
        s->create_view.temporary = temporary;
    } else if (accept_kw(p, KW_MODEL)) {
        parse_create_model(p, s);
        s->create_model.temporary = temporary;
    } else {
        expected(p, temporary ? "TABLE, VIEW or MODEL after CREATE TEMPORARY"
                              : "TABLE, VIEW or MODEL after CREATE");
    }
}

static sl_object_kind parse_object_kind(parser *p, const char *ctx)
{
    if (accept_kw(p, KW_TABLE))
        return SL_OBJ_TABLE;
    if (accept_kw(p, KW_VIEW))
        return SL_OBJ_VIEW;
    if (accept_kw(p, KW_MODEL))
        return SL_OBJ_MODEL;
    expected(p, ctx);
    return SL_OBJ_TABLE;
}

static void parse_drop(parser *p, sl_stmt *s)
{
    next(p);
    s->kind = SL_STMT_DROP;
    s->drop.temporary = accept_kw(p, KW_TEMPORARY);
    s->drop.object = parse_object_kind(p, "TABLE, VIEW or MODEL after DROP");
    s->drop.if_exists = parse_if_exists(p);
    s->drop.name =
        parse_name(p, s->drop.object == SL_OBJ_MODEL  ? "a model name"
                      : s->drop.object == SL_OBJ_VIEW ? "a view name"
                                                      : "a table name");
}

static void parse_alter(parser *p, sl_stmt *s)
{
    next(p);
    expect_kw(p, KW_MODEL,
              "MODEL after ALTER (only ALTER MODEL is "
              "supported)");
    s->kind = SL_STMT_ALTER_MODEL;
    s->alter_model.if_exists = parse_if_exists(p);
    s->alter_model.name = parse_name(p, "a model name");
    if (accept_kw(p, KW_SET)) {
        s->alter_model.action = SL_ALTER_MODEL_SET;
        s->alter_model.options = parse_options(p, true, "SET options");
    } else if (accept_kw(p, KW_RESET)) {
        s->alter_model.action = SL_ALTER_MODEL_RESET;
        s->alter_model.options = parse_options(p, false, "RESET key list");
    } else if (accept_kw(p, KW_RENAME)) {
        expect_kw(p, KW_TO, "TO after RENAME");
        s->alter_model.action = SL_ALTER_MODEL_RENAME;
        s->alter_model.new_name = parse_name(p, "the new model name");
    } else {
        expected(p, "SET, RESET or RENAME TO after ALTER MODEL name");
    }
}

static void parse_insert(parser *p, sl_stmt *s)
{
    next(p); /* INSERT */
    s->kind = SL_STMT_INSERT;
    if (accept_kw(p, KW_OVERWRITE))
        s->insert.overwrite = true;
    else
        expect_kw(p, KW_INTO, "INTO or OVERWRITE after INSERT");
    s->insert.table = parse_name(p, "a table name after INSERT INTO");
    if (tok_is(p, 0, TK_LPAREN) && !parens_start_query(p) &&
        is_ident_tok(peek(p, 1))) {
        s->insert.n_columns =
            parse_ident_list(p, &s->insert.columns, "a column name",
                             "',' or ')' in the INSERT column list");
    }
    if (!starts_query(p, 0) && !tok_is(p, 0, TK_LPAREN))
        expected(p, "a query (SELECT or VALUES) after the INSERT target");
    s->insert.query = parse_query(p);
}

static void begin_stmt(sl_stmt *s, const sl_token *t)
{
    s->offset = t->offset;
    s->line = t->line;
    s->col = t->col;
}

static void end_stmt(parser *p, sl_stmt *s)
{
    s->len = p->prev_end > s->offset ? p->prev_end - s->offset : 0;
}

static sl_stmt *parse_set_insert(parser *p, const char *ctx)
{
    sl_token *t = cur(p);
    if (!(t->kind == TK_WORD && t->kw == KW_INSERT)) {
        char what[96];
        sl_snprintf(what, sizeof(what), "INSERT or END in %s", ctx);
        expected(p, what);
    }
    sl_stmt *ins = alloc(p, sizeof(*ins));
    begin_stmt(ins, t);
    parse_insert(p, ins);
    end_stmt(p, ins);
    return ins;
}

/* EXECUTE STATEMENT SET BEGIN insert; ... END */
static void parse_statement_set(parser *p, sl_stmt *s)
{
    s->kind = SL_STMT_STATEMENT_SET;
    expect_kw(p, KW_BEGIN, "BEGIN after EXECUTE STATEMENT SET");
    vec v;
    vec_init(&v, sizeof(sl_stmt *));
    while (!is_kw(p, KW_END)) {
        PUSH(p, &v, sl_stmt *, parse_set_insert(p, "the STATEMENT SET"));
        expect(p, TK_SEMI, "';' after each INSERT in the STATEMENT SET");
        while (accept(p, TK_SEMI))
            ;
    }
    sl_token end = next(p);
    if (!v.n)
        error_at(p, end.offset, SL_SQL,
                 "a STATEMENT SET needs at least one INSERT");
    s->statement_set.n_stmts = v.n;
    s->statement_set.stmts = (sl_stmt **)v.data;
}

static void parse_show(parser *p, sl_stmt *s)
{
    next(p);
    sl_token *t = cur(p);
    s->kind = SL_STMT_SHOW;
    switch (t->kind == TK_WORD ? t->kw : KW_NONE) {
    case KW_TABLES:
        s->show.what = SL_SHOW_TABLES;
        break;
    case KW_VIEWS:
        s->show.what = SL_SHOW_VIEWS;
        break;
    case KW_MODELS:
        s->show.what = SL_SHOW_MODELS;
        break;
    case KW_JOBS:
        s->show.what = SL_SHOW_JOBS;
        break;
    case KW_FUNCTIONS:
        s->show.what = SL_SHOW_FUNCTIONS;
        break;
    case KW_METRICS:
        s->show.what = SL_SHOW_METRICS;
        break;
    case KW_CREATE:
        next(p);
        s->kind = SL_STMT_SHOW_CREATE;
        s->show_create.object =
            parse_object_kind(p, "TABLE, VIEW or MODEL after SHOW CREATE");
        s->show_create.name = parse_name(p, "a name");
        return;
    default:
        expected(p, "TABLES, VIEWS, MODELS, JOBS, FUNCTIONS, METRICS or CREATE "
                    "after SHOW");
    }
    next(p);
}

static void parse_explain(parser *p, sl_stmt *s)
{
    next(p);
    s->kind = SL_STMT_EXPLAIN;
    if (accept_kw(p, KW_PLAN))
        expect_kw(p, KW_FOR, "FOR after EXPLAIN PLAN");
    sl_token *t = cur(p);
    if (!(starts_query(p, 0) || t->kind == TK_LPAREN ||
          (t->kind == TK_WORD && (t->kw == KW_INSERT || t->kw == KW_EXECUTE))))
        expected(p, "a query, INSERT or EXECUTE STATEMENT SET after EXPLAIN");
    s->explain.stmt = parse_statement(p);
}

static sl_stmt *parse_statement(parser *p)
{
    enter(p);
    sl_token t = *cur(p);
    sl_stmt *s = alloc(p, sizeof(*s));
    begin_stmt(s, &t);
    sl_kw kw = t.kind == TK_WORD ? t.kw : KW_NONE;
    switch (kw) {
    case KW_CREATE:
        parse_create(p, s);
        break;
    case KW_DROP:
        parse_drop(p, s);
        break;
    case KW_ALTER:
        parse_alter(p, s);
        break;
    case KW_INSERT:
        parse_insert(p, s);
        break;
    case KW_EXECUTE:
        next(p);
        if (is_kw(p, KW_INSERT)) {
            parse_insert(p, s);
            break;
        }
        expect_kw(p, KW_STATEMENT, "STATEMENT SET or INSERT after EXECUTE");
        expect_kw(p, KW_SET, "SET after EXECUTE STATEMENT");
        parse_statement_set(p, s);
        break;
    case KW_SELECT:
    case KW_WITH:
    case KW_VALUES:
        s->kind = SL_STMT_QUERY;
        s->query.query = parse_query(p);
        break;
    case KW_SET:
    case KW_RESET: {
        next(p);
        s->kind = kw == KW_SET ? SL_STMT_SET : SL_STMT_RESET;
        sl_opt_list *opts = kw == KW_SET ? &s->set.options : &s->reset.options;
        if (tok_is(p, 0, TK_STRING) ||
            (cur(p)->kind != TK_SEMI && cur(p)->kind != TK_EOF)) {
            opts->n = 1;
            opts->items = alloc(p, sizeof(sl_opt_pair));
            parse_opt_pair(p, opts->items, kw == KW_SET);
        }
        break;
    }
    case KW_SHOW:
        parse_show(p, s);
        break;
    case KW_DESCRIBE:
    case KW_DESC:
        next(p);
        s->kind = SL_STMT_DESCRIBE;
        s->describe.object = SL_OBJ_TABLE;
        if (is_kw(p, KW_MODEL) && is_ident_tok(peek(p, 1))) {
            next(p); /* else a table named `model` */
            s->describe.object = SL_OBJ_MODEL;
        }
        s->describe.name =
            parse_name(p, s->describe.object == SL_OBJ_MODEL ? "a model name"
                                                             : "a table name");
        break;
    case KW_EXPLAIN:
        parse_explain(p, s);
        break;
    case KW_STOP:
        next(p);
        expect_kw(p, KW_JOB, "JOB after STOP");
        s->kind = SL_STMT_STOP_JOB;
        s->stop_job.job_id =
            expect_string(p, "a quoted job id after STOP JOB", NULL, NULL);
        if (is_kw(p, KW_WITH)) {
            next(p);
            expect_kw(p, KW_SAVEPOINT, "SAVEPOINT after WITH");
            s->stop_job.with_savepoint = true;
        }
        break;
    default:
        if (t.kind == TK_LPAREN) {
            s->kind = SL_STMT_QUERY;
            s->query.query = parse_query(p);
            break;
        }
        expected(p, "a statement (SELECT, INSERT, CREATE, DROP, ALTER, SET, "
                    "RESET, SHOW, DESCRIBE, EXPLAIN, EXECUTE or STOP)");
    }
    end_stmt(p, s);
    leave(p);
    return s;
}

/* After a statement: ';' or the end. */
static void expect_end_of_statement(parser *p, const sl_stmt *s)
{
    sl_token *t = cur(p);
    if (t->kind == TK_SEMI || t->kind == TK_EOF)
        return;
    char what[120];
    sl_snprintf(what, sizeof(what), "';' or the end of the %s statement",
                sl_stmt_kind_name(s->kind));
    expected(p, what);
}

/* BEGIN STATEMENT SET; INSERT ...; ... END; (SQL client style) */
static sl_stmt *parse_client_statement_set(parser *p)
{
    sl_token begin = *cur(p);
    sl_stmt *s = alloc(p, sizeof(*s));
    begin_stmt(s, &begin);
    s->kind = SL_STMT_STATEMENT_SET;
    next(p);
    next(p);
    expect_kw(p, KW_SET, "SET after BEGIN STATEMENT");
    expect(p, TK_SEMI, "';' after BEGIN STATEMENT SET");
    vec v;
    vec_init(&v, sizeof(sl_stmt *));
    for (;;) {
        while (accept(p, TK_SEMI))
            ;
        if (is_kw(p, KW_END))
            break;
        PUSH(p, &v, sl_stmt *,
             parse_set_insert(p, "the STATEMENT SET started at BEGIN"));
        expect(p, TK_SEMI, "';' after each INSERT in the STATEMENT SET");
    }
    sl_token end = next(p);
    if (!v.n)
        error_at(p, end.offset, SL_SQL,
                 "a STATEMENT SET needs at least one INSERT");
    s->statement_set.n_stmts = v.n;
    s->statement_set.stmts = (sl_stmt **)v.data;
    end_stmt(p, s);
    return s;
}

static void parse_script(parser *p, sl_stmt_list *out)
{
    vec v;
    vec_init(&v, sizeof(sl_stmt *));
    for (;;) {
        while (accept(p, TK_SEMI))
            ;
        if (tok_is(p, 0, TK_EOF))
            break;
        sl_stmt *s;
        if (is_kw(p, KW_BEGIN) && kw_at(p, 1, KW_STATEMENT))
            s = parse_client_statement_set(p);
        else
            s = parse_statement(p);
        expect_end_of_statement(p, s);
        PUSH(p, &v, sl_stmt *, s);
    }
    out->n = v.n;
    out->items = (sl_stmt **)v.data;
}

static void parser_init(parser *p, const char *sql, size_t len, sl_arena *arena,
                        sl_err *err)
{
    memset(p, 0, sizeof(*p));
    p->src = sql ? sql : "";
    p->len = sql ? len : 0;
    p->arena = arena;
    p->err = err;
    sl_lex_init(&p->lx, p->src, p->len);
}

static int check_args(const char *sql, size_t len, sl_arena *arena, sl_err *err)
{
    if ((!sql && len) || !arena)
        return sl_err_reset(err, SL_MISUSE, "sl_parse: NULL argument");
    if (len > SL_PARSE_MAX_INPUT)
        return sl_err_reset(err, SL_LIMIT,
                            "SQL text too long: %zu bytes (the limit is %zu)",
                            len, SL_PARSE_MAX_INPUT);
    return SL_OK;
}

int sl_parse(const char *sql, size_t len, sl_arena *arena, sl_stmt_list *out,
             sl_err *err)
{
    out->n = 0;
    out->items = NULL;
    int rc = check_args(sql, len, arena, err);
    if (rc)
        return rc;
    parser pstate;
    parser *p = &pstate;
    parser_init(p, sql, len, arena, err);
    if (setjmp(p->jmp)) {
        rc = err->code ? err->code : SL_SQL;
        out->n = 0;
        out->items = NULL;
    } else {
        parse_script(p, out);
        rc = SL_OK;
    }
    return rc;
}

int sl_parse_expr(const char *text, size_t len, sl_arena *arena, sl_expr **out,
                  sl_err *err)
{
    *out = NULL;
    int rc = check_args(text, len, arena, err);
    if (rc)
        return rc;
    parser pstate;
    parser *p = &pstate;
    parser_init(p, text, len, arena, err);
    if (setjmp(p->jmp)) {
        rc = err->code ? err->code : SL_SQL;
        *out = NULL;
    } else {
        sl_expr *e = parse_expr(p);
        if (!tok_is(p, 0, TK_EOF))
            expected(p, "the end of the expression");
        *out = e;
        rc = SL_OK;
    }
    return rc;
}

int sl_parse_type(const char *text, size_t len, sl_arena *arena,
                  const sl_type **out, sl_err *err)
{
    *out = NULL;
    int rc = check_args(text, len, arena, err);
    if (rc)
        return rc;
    parser pstate;
    parser *p = &pstate;
    parser_init(p, text, len, arena, err);
    if (setjmp(p->jmp)) {
        rc = err->code ? err->code : SL_SQL;
        *out = NULL;
    } else {
        const sl_type *t = parse_type(p);
        if (!tok_is(p, 0, TK_EOF))
            expected(p, "the end of the type");
        *out = t;
        rc = SL_OK;
    }
    return rc;
}

const char *sl_stmt_kind_name(sl_stmt_kind kind)
{
    switch (kind) {
    case SL_STMT_CREATE_TABLE:
        return "CREATE TABLE";
    case SL_STMT_CREATE_VIEW:
        return "CREATE VIEW";
    case SL_STMT_CREATE_MODEL:
        return "CREATE MODEL";
    case SL_STMT_ALTER_MODEL:
        return "ALTER MODEL";
    case SL_STMT_DROP:
        return "DROP";
    case SL_STMT_INSERT:
        return "INSERT";
    case SL_STMT_STATEMENT_SET:
        return "STATEMENT SET";
    case SL_STMT_QUERY:
        return "SELECT";
    case SL_STMT_SET:
        return "SET";
    case SL_STMT_RESET:
        return "RESET";
    case SL_STMT_SHOW:
        return "SHOW";
    case SL_STMT_SHOW_CREATE:
        return "SHOW CREATE";
    case SL_STMT_DESCRIBE:
        return "DESCRIBE";
    case SL_STMT_EXPLAIN:
        return "EXPLAIN";
    case SL_STMT_STOP_JOB:
        return "STOP JOB";
    }
    return "SQL";
}
