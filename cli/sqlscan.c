/*
 * sqlscan.c: where a statement ends, without parsing it.
 *
 * The shell and the -f runner cut input into statements before handing them
 * to the engine one at a time. A statement ends at a ';' that is outside
 * string literals ('...' with '' escapes), quoted identifiers ("..." and
 * `...`), comments (-- to end of line, / * ... * /) and outside the
 * BEGIN ... END block of EXECUTE STATEMENT SET (whose inner statements end
 * in ';' themselves). CASE ... END inside that block is counted so its END
 * does not close the block. The scan is linear and keeps O(1) state.
 */
#include <ctype.h>
#include <string.h>

#include "cli.h"

typedef struct scan {
    char w1[16], w2[16]; /* the two previous words, upper-cased */
    int in_block;        /* inside EXECUTE STATEMENT SET BEGIN ... END */
    int case_depth;      /* CASE ... END nesting inside the block */
} scan;

static void upper_word(const char *s, size_t n, char *out, size_t size)
{
    size_t i = 0;
    for (; i < n && i + 1 < size; i++)
        out[i] = (char)toupper((unsigned char)s[i]);
    out[i] = '\0';
    if (n + 1 > size)
        out[0] = '\0'; /* too long to be a keyword we care about */
}

static void on_word(scan *sc, const char *s, size_t n)
{
    char w[16];
    upper_word(s, n, w, sizeof(w));
    if (!sc->in_block) {
        if (!strcmp(w, "BEGIN") && !strcmp(sc->w1, "SET") &&
            !strcmp(sc->w2, "STATEMENT")) {
            sc->in_block = 1;
            sc->case_depth = 0;
        }
    } else if (!strcmp(w, "CASE")) {
        sc->case_depth++;
    } else if (!strcmp(w, "END")) {
        if (sc->case_depth > 0)
            sc->case_depth--;
        else
            sc->in_block = 0;
    }
    memcpy(sc->w2, sc->w1, sizeof(sc->w2));
    memcpy(sc->w1, w, sizeof(sc->w1));
}

static int is_word_char(int c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

/* Skip a quoted run starting at s[i] == q; returns the index after it, or
 * 0 when unterminated. '' (or "" / ``) inside is an escaped quote. */
static size_t skip_quoted(const char *s, size_t len, size_t i, char q)
{
    for (i++; i < len; i++) {
        if (s[i] == q) {
            if (i + 1 < len && s[i + 1] == q) {
                i++;
                continue;
            }
            return i + 1;
        }
    }
    return 0;
}

/* Index after the comment starting at s[i], or i when none starts there;
 * *open is set when a block comment is unterminated. */
static size_t skip_comment(const char *s, size_t len, size_t i, int *open)
{
    if (i + 1 < len && s[i] == '-' && s[i + 1] == '-') {
        while (i < len && s[i] != '\n')
            i++;
        return i;
    }
    if (i + 1 < len && s[i] == '/' && s[i + 1] == '*') {
        const char *end = NULL;
        for (size_t j = i + 2; j + 1 < len; j++) {
            if (s[j] == '*' && s[j + 1] == '/') {
                end = s + j;
                break;
            }
        }
        if (!end) {
            *open = 1;
            return len;
        }
        return (size_t)(end - s) + 2;
    }
    return i;
}

size_t cli_sql_stmt_len(const char *s, size_t len)
{
    scan sc;
    memset(&sc, 0, sizeof(sc));
    size_t i = 0;
    while (i < len) {
        char c = s[i];
        int open = 0;
        size_t j = skip_comment(s, len, i, &open);
        if (j != i) {
            if (open)
                return 0;
            i = j;
            continue;
        }
        if (c == '\'' || c == '"' || c == '`') {
            j = skip_quoted(s, len, i, c);
            if (j == 0)
                return 0;
            i = j;
            continue;
        }
        if (is_word_char((unsigned char)c)) {
            j = i;
            while (j < len && is_word_char((unsigned char)s[j]))
                j++;
            on_word(&sc, s + i, j - i);
            i = j;
            continue;
        }
        if (c == ';' && !sc.in_block)
            return i + 1;
        i++;
    }
    return 0;
}

int cli_sql_is_blank(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        int open = 0;
        size_t j = skip_comment(s, len, i, &open);
        if (j != i) {
            i = j;
            continue;
        }
        if (!isspace((unsigned char)s[i]) && s[i] != ';')
            return 0;
        i++;
    }
    return 1;
}

const char *cli_sql_first_word(const char *s, size_t len, char *buf,
                               size_t size)
{
    size_t i = 0;
    buf[0] = '\0';
    while (i < len) {
        int open = 0;
        size_t j = skip_comment(s, len, i, &open);
        if (j != i) {
            i = j;
            continue;
        }
        if (isspace((unsigned char)s[i]) || s[i] == '(') {
            i++;
            continue;
        }
        break;
    }
    size_t j = i;
    while (j < len && is_word_char((unsigned char)s[j]))
        j++;
    if (j > i)
        upper_word(s + i, j - i, buf, size);
    return buf;
}
