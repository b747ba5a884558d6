/*
 * lexer.c: SQL text -> tokens, the first step of parsing (parser.c pulls
 * tokens one at a time through sl_lex_next).
 *
 * Skips blanks and comments (-- to end of line, / * ... * / blocks),
 * recognises words (looked up in the keyword table of parser_int.h),
 * `backtick` and "double-quote" identifiers, 'strings' with '' escapes,
 * X'hex' binary strings, numbers and operators. Tokens point into the text
 * by offset; decoding quoted text is left to the parser (sl_lex_unquote),
 * so lexing allocates nothing. Positions are tracked as line and byte
 * column for error messages.
 */
#include <string.h>

#include "parser_int.h"

static const struct {
    const char *name;
    bool reserved;
} keywords[] = {{"", false},
#define SL_KW_ENTRY(name, reserved) {#name, reserved},
                SL_KEYWORDS(SL_KW_ENTRY)
#undef SL_KW_ENTRY
};

#define MAX_KW_LEN 24

sl_kw sl_kw_lookup(const char *word, size_t len)
{
    char up[MAX_KW_LEN + 1];
    if (len == 0 || len > MAX_KW_LEN)
        return KW_NONE;
    for (size_t i = 0; i < len; i++) {
        char c = word[i];
        up[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    up[len] = '\0';
    int lo = 1, hi = KW__COUNT - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(up, keywords[mid].name);
        if (c == 0)
            return (sl_kw)mid;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return KW_NONE;
}

const char *sl_kw_name(sl_kw kw)
{
    if (kw <= KW_NONE || kw >= KW__COUNT)
        return "";
    return keywords[kw].name;
}

bool sl_kw_is_reserved(sl_kw kw)
{
    return kw > KW_NONE && kw < KW__COUNT && keywords[kw].reserved;
}

bool sl_kw_table_sorted(void)
{
    for (int i = 2; i < KW__COUNT; i++)
        if (strcmp(keywords[i - 1].name, keywords[i].name) >= 0)
            return false;
    return true;
}

void sl_lex_init(sl_lexer *lx, const char *src, size_t len)
{
    lx->src = src;
    lx->len = len;
    lx->pos = 0;
    lx->line = 1;
    lx->line_start = 0;
}

static bool is_word_start(unsigned char c)
{
    /* Bytes >= 0x80 are UTF-8 letters as far as identifiers go. */
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c >= 0x80;
}

static bool is_word_char(unsigned char c)
{
    return is_word_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void newline(sl_lexer *lx, size_t at)
{
    lx->line++;
    lx->line_start = at + 1;
}

/* Skip blanks and comments. Returns SL_OK or an error for an unterminated
 * block comment. */
static int skip_space(sl_lexer *lx, sl_err *err)
{
    const char *s = lx->src;
    while (lx->pos < lx->len) {
        unsigned char c = (unsigned char)s[lx->pos];
        if (c == '\n') {
            newline(lx, lx->pos);
            lx->pos++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' ||
                   c == '\v') {
            lx->pos++;
        } else if (c == '-' && lx->pos + 1 < lx->len && s[lx->pos + 1] == '-') {
            while (lx->pos < lx->len && s[lx->pos] != '\n')
                lx->pos++;
        } else if (c == '/' && lx->pos + 1 < lx->len && s[lx->pos + 1] == '*') {
            size_t start = lx->pos;
            lx->pos += 2;
            for (;;) {
                if (lx->pos + 1 >= lx->len) {
                    return sl_sql_error(err, SL_SQL, lx->src, lx->len, start,
                                        "unterminated comment: '/*' has no "
                                        "closing '*/'");
                }
                if (s[lx->pos] == '*' && s[lx->pos + 1] == '/') {
                    lx->pos += 2;
                    break;
                }
                if (s[lx->pos] == '\n')
                    newline(lx, lx->pos);
                lx->pos++;
            }
        } else {
            break;
        }
    }
    return SL_OK;
}

/* Scan a quoted run starting at the opening quote q; doubled quotes stay
 * inside. Returns false when the text ends first or holds a NUL byte
 * (lx->pos then points at the NUL). */
static bool scan_quoted(sl_lexer *lx, char q)
{
    const char *s = lx->src;
    lx->pos++; /* opening quote */
    while (lx->pos < lx->len) {
        char c = s[lx->pos];
        if (c == q) {
            if (lx->pos + 1 < lx->len && s[lx->pos + 1] == q) {
                lx->pos += 2;
                continue;
            }
            lx->pos++;
            return true;
        }
        if (c == '\0')
            return false;
        if (c == '\n')
            newline(lx, lx->pos);
        lx->pos++;
    }
    return false;
}

static int quote_error(const sl_lexer *lx, const sl_token *tok, const char *msg,
                       sl_err *err)
{
    if (lx->pos < lx->len && lx->src[lx->pos] == '\0')
        return sl_sql_error(err, SL_SQL, lx->src, lx->len, lx->pos,
                            "NUL byte inside a quoted string or identifier");
    return sl_sql_error(err, SL_SQL, lx->src, lx->len, tok->offset, "%s", msg);
}

static void scan_number(sl_lexer *lx, sl_token *tok)
{
    const char *s = lx->src;
    size_t n = lx->len;
    bool dot = false, exp = false;
    while (lx->pos < n && is_digit((unsigned char)s[lx->pos]))
        lx->pos++;
    if (lx->pos < n && s[lx->pos] == '.') {
        dot = true;
        lx->pos++;
        while (lx->pos < n && is_digit((unsigned char)s[lx->pos]))
            lx->pos++;
    }
    if (lx->pos < n && (s[lx->pos] == 'e' || s[lx->pos] == 'E')) {
        size_t p = lx->pos + 1;
        if (p < n && (s[p] == '+' || s[p] == '-'))
            p++;
        if (p < n && is_digit((unsigned char)s[p])) {
            exp = true;
            while (p < n && is_digit((unsigned char)s[p]))
                p++;
            lx->pos = p;
        }
    }
    tok->kind = exp ? TK_DOUBLE : dot ? TK_DECIMAL : TK_INT;
}

int sl_lex_next(sl_lexer *lx, sl_token *tok, sl_err *err)
{
    int rc = skip_space(lx, err);
    if (rc)
        return rc;
    const char *s = lx->src;
    size_t n = lx->len;
    tok->offset = lx->pos;
    tok->line = lx->line;
    tok->col = (int)(lx->pos - lx->line_start + 1);
    tok->kw = KW_NONE;
    if (lx->pos >= n) {
        tok->kind = TK_EOF;
        tok->len = 0;
        return SL_OK;
    }
    unsigned char c = (unsigned char)s[lx->pos];
    unsigned char c1 = lx->pos + 1 < n ? (unsigned char)s[lx->pos + 1] : 0;
    if ((c == 'x' || c == 'X') && c1 == '\'') {
        lx->pos++;
        if (!scan_quoted(lx, '\''))
            return quote_error(lx, tok, "unterminated binary string literal",
                               err);
        for (size_t i = tok->offset + 2; i + 1 < lx->pos; i++) {
            if (!is_hex((unsigned char)s[i]))
                return sl_sql_error(err, SL_SQL, s, n, i,
                                    "invalid hex digit in binary string "
                                    "literal");
        }
        if ((lx->pos - tok->offset - 3) % 2)
            return sl_sql_error(err, SL_SQL, s, n, tok->offset,
                                "binary string literal has an odd number of "
                                "hex digits");
        tok->kind = TK_BINSTR;
    } else if (is_word_start(c)) {
        while (lx->pos < n && is_word_char((unsigned char)s[lx->pos]))
            lx->pos++;
        tok->kind = TK_WORD;
        tok->kw = sl_kw_lookup(s + tok->offset, lx->pos - tok->offset);
    } else if (is_digit(c) || (c == '.' && is_digit(c1))) {
        scan_number(lx, tok);
        if (lx->pos < n && is_word_start((unsigned char)s[lx->pos]))
            return sl_sql_error(err, SL_SQL, s, n, tok->offset,
                                "invalid number: a letter follows the digits "
                                "'%.*s'",
                                (int)SL_MIN(lx->pos - tok->offset, 40),
                                s + tok->offset);
    } else if (c == '\'' || c == '`' || c == '"') {
        if (!scan_quoted(lx, (char)c)) {
            if (c == '\'')
                return quote_error(lx, tok,
                                   "unterminated string literal: missing "
                                   "closing '",
                                   err);
            return quote_error(lx, tok,
                               c == '`' ? "unterminated quoted identifier: "
                                          "missing closing `"
                                        : "unterminated quoted identifier: "
                                          "missing closing \"",
                               err);
        }
        tok->kind = c == '\'' ? TK_STRING : TK_QIDENT;
        if (tok->kind == TK_QIDENT && lx->pos - tok->offset == 2)
            return sl_sql_error(err, SL_SQL, s, n, tok->offset,
                                "empty quoted identifier");
    } else {
        lx->pos++;
        switch (c) {
        case '(':
            tok->kind = TK_LPAREN;
            break;
        case ')':
            tok->kind = TK_RPAREN;
            break;
        case '[':
            tok->kind = TK_LBRACKET;
            break;
        case ']':
            tok->kind = TK_RBRACKET;
            break;
        case ',':
            tok->kind = TK_COMMA;
            break;
        case ';':
            tok->kind = TK_SEMI;
            break;
        case '.':
            tok->kind = TK_DOT;
            break;
        case '+':
            tok->kind = TK_PLUS;
            break;
        case '-':
            tok->kind = TK_MINUS;
            break;
        case '*':
            tok->kind = TK_STAR;
            break;
        case '/':
            tok->kind = TK_SLASH;
            break;
        case '%':
            tok->kind = TK_PERCENT;
            break;
        case '|':
            if (c1 != '|')
                return sl_sql_error(err, SL_SQL, s, n, tok->offset,
                                    "unexpected character '|' (did you "
                                    "mean '||'?)");
            lx->pos++;
            tok->kind = TK_CONCAT;
            break;
        case '=':
            if (c1 == '>') {
                lx->pos++;
                tok->kind = TK_ARROW;
            } else {
                tok->kind = TK_EQ;
                if (c1 == '=')
                    return sl_sql_error(err, SL_SQL, s, n, tok->offset,
                                        "unexpected '==' (use '=' to "
                                        "compare)");
            }
            break;
        case '<':
            if (c1 == '=') {
                lx->pos++;
                tok->kind = TK_LE;
            } else if (c1 == '>') {
                lx->pos++;
                tok->kind = TK_NE;
            } else {
                tok->kind = TK_LT;
            }
            break;
        case '>':
            if (c1 == '=') {
                lx->pos++;
                tok->kind = TK_GE;
            } else {
                tok->kind = TK_GT;
            }
            break;
        case '!':
            if (c1 == '=') {
                lx->pos++;
                tok->kind = TK_NE;
                break;
            }
            return sl_sql_error(err, SL_SQL, s, n, tok->offset,
                                "unexpected character '!'");
        default:
            if (c >= 0x20 && c < 0x7f)
                return sl_sql_error(err, SL_SQL, s, n, tok->offset,
                                    "unexpected character '%c'", c);
            return sl_sql_error(err, SL_SQL, s, n, tok->offset,
                                "unexpected byte 0x%02x", c);
        }
    }
    tok->len = lx->pos - tok->offset;
    return SL_OK;
}

size_t sl_lex_unquote(const char *src, const sl_token *tok, char *dst)
{
    const char *s = src + tok->offset;
    size_t len = tok->len;
    size_t start = 1;
    if (tok->kind == TK_BINSTR)
        start = 2;
    if (len < start + 1)
        return 0;
    char q = s[len - 1];
    size_t o = 0;
    for (size_t i = start; i + 1 < len; i++) {
        dst[o++] = s[i];
        if (s[i] == q)
            i++; /* doubled quote */
    }
    return o;
}
