/*
 * parser_int.h: internals shared by the files of parser/: the lexer's
 * tokens and keyword table (lexer.c), used by the recursive-descent parser
 * (parser.c) and the unparser (unparse.c, to know which identifiers need
 * quoting). Nothing outside parser/ includes this; unit tests may, to test
 * the lexer directly.
 */
#ifndef SL_PARSER_INT_H
#define SL_PARSER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "parser.h"

/* Every word the grammar looks at. R marks reserved words: they cannot be
 * used as identifiers without quotes. The list must stay sorted (the lexer
 * binary-searches it; test_parser checks the order). */
#define SL_KEYWORDS(X)                                                         \
    X(ALL, 1)                                                                  \
    X(ALTER, 0)                                                                \
    X(AND, 1)                                                                  \
    X(ARRAY, 1)                                                                \
    X(AS, 1)                                                                   \
    X(ASC, 1)                                                                  \
    X(ASYMMETRIC, 1)                                                           \
    X(BEGIN, 0)                                                                \
    X(BETWEEN, 1)                                                              \
    X(BIGINT, 0)                                                               \
    X(BINARY, 0)                                                               \
    X(BOOLEAN, 0)                                                              \
    X(BOTH, 0)                                                                 \
    X(BY, 1)                                                                   \
    X(BYTES, 0)                                                                \
    X(CASE, 1)                                                                 \
    X(CAST, 1)                                                                 \
    X(CEIL, 0)                                                                 \
    X(CEILING, 0)                                                              \
    X(CHAR, 0)                                                                 \
    X(CHARACTER, 0)                                                            \
    X(COMMENT, 0)                                                              \
    X(CONSTRAINT, 0)                                                           \
    X(CREATE, 1)                                                               \
    X(CROSS, 1)                                                                \
    X(CURRENT, 0)                                                              \
    X(CURRENT_DATE, 1)                                                         \
    X(CURRENT_TIME, 1)                                                         \
    X(CURRENT_TIMESTAMP, 1)                                                    \
    X(DATE, 0)                                                                 \
    X(DAY, 0)                                                                  \
    X(DAYS, 0)                                                                 \
    X(DEC, 0)                                                                  \
    X(DECIMAL, 0)                                                              \
    X(DESC, 1)                                                                 \
    X(DESCRIBE, 0)                                                             \
    X(DESCRIPTOR, 0)                                                           \
    X(DISTINCT, 1)                                                             \
    X(DOUBLE, 0)                                                               \
    X(DROP, 1)                                                                 \
    X(ELSE, 1)                                                                 \
    X(END, 1)                                                                  \
    X(ENFORCED, 0)                                                             \
    X(ESCAPE, 1)                                                               \
    X(EXCEPT, 1)                                                               \
    X(EXECUTE, 0)                                                              \
    X(EXISTS, 1)                                                               \
    X(EXPLAIN, 0)                                                              \
    X(EXTRACT, 0)                                                              \
    X(FALSE, 1)                                                                \
    X(FETCH, 1)                                                                \
    X(FILTER, 0)                                                               \
    X(FIRST, 0)                                                                \
    X(FLOAT, 0)                                                                \
    X(FLOOR, 0)                                                                \
    X(FOLLOWING, 0)                                                            \
    X(FOR, 1)                                                                  \
    X(FROM, 1)                                                                 \
    X(FULL, 1)                                                                 \
    X(FUNCTIONS, 0)                                                            \
    X(GROUP, 1)                                                                \
    X(HAVING, 1)                                                               \
    X(HOUR, 0)                                                                 \
    X(HOURS, 0)                                                                \
    X(IF, 0)                                                                   \
    X(IN, 1)                                                                   \
    X(INNER, 1)                                                                \
    X(INPUT, 0)                                                                \
    X(INSERT, 1)                                                               \
    X(INT, 0)                                                                  \
    X(INTEGER, 0)                                                              \
    X(INTERSECT, 1)                                                            \
    X(INTERVAL, 1)                                                             \
    X(INTO, 1)                                                                 \
    X(IS, 1)                                                                   \
    X(JOB, 0)                                                                  \
    X(JOBS, 0)                                                                 \
    X(JOIN, 1)                                                                 \
    X(KEY, 0)                                                                  \
    X(LAST, 0)                                                                 \
    X(LATERAL, 1)                                                              \
    X(LEADING, 0)                                                              \
    X(LEFT, 1)                                                                 \
    X(LIKE, 1)                                                                 \
    X(LIMIT, 1)                                                                \
    X(LOCAL, 0)                                                                \
    X(LOCALTIME, 1)                                                            \
    X(LOCALTIMESTAMP, 1)                                                       \
    X(MAP, 1)                                                                  \
    X(METADATA, 0)                                                             \
    X(METRICS, 0)                                                              \
    X(MICROSECOND, 0)                                                          \
    X(MILLISECOND, 0)                                                          \
    X(MINUTE, 0)                                                               \
    X(MINUTES, 0)                                                              \
    X(MODEL, 0)                                                                \
    X(MODELS, 0)                                                               \
    X(MONTH, 0)                                                                \
    X(MONTHS, 0)                                                               \
    X(MULTISET, 0)                                                             \
    X(NANOSECOND, 0)                                                           \
    X(NATURAL, 1)                                                              \
    X(NEXT, 0)                                                                 \
    X(NOT, 1)                                                                  \
    X(NULL, 1)                                                                 \
    X(NULLS, 0)                                                                \
    X(NUMERIC, 0)                                                              \
    X(OF, 0)                                                                   \
    X(OFFSET, 1)                                                               \
    X(ON, 1)                                                                   \
    X(ONLY, 0)                                                                 \
    X(OR, 1)                                                                   \
    X(ORDER, 1)                                                                \
    X(OUTER, 1)                                                                \
    X(OUTPUT, 0)                                                               \
    X(OVER, 1)                                                                 \
    X(OVERLAY, 0)                                                              \
    X(OVERWRITE, 0)                                                            \
    X(PARTITION, 1)                                                            \
    X(PARTITIONED, 0)                                                          \
    X(PLACING, 0)                                                              \
    X(PLAN, 0)                                                                 \
    X(POSITION, 0)                                                             \
    X(PRECEDING, 0)                                                            \
    X(PRECISION, 0)                                                            \
    X(PRIMARY, 0)                                                              \
    X(QUARTER, 0)                                                              \
    X(RANGE, 0)                                                                \
    X(RAW, 0)                                                                  \
    X(REAL, 0)                                                                 \
    X(RENAME, 0)                                                               \
    X(RESET, 0)                                                                \
    X(RIGHT, 1)                                                                \
    X(ROW, 1)                                                                  \
    X(ROWS, 0)                                                                 \
    X(SAVEPOINT, 0)                                                            \
    X(SECOND, 0)                                                               \
    X(SECONDS, 0)                                                              \
    X(SELECT, 1)                                                               \
    X(SET, 0)                                                                  \
    X(SHOW, 0)                                                                 \
    X(SIMILAR, 1)                                                              \
    X(SMALLINT, 0)                                                             \
    X(STATEMENT, 0)                                                            \
    X(STOP, 0)                                                                 \
    X(STRING, 0)                                                               \
    X(SUBSTRING, 0)                                                            \
    X(SYMMETRIC, 1)                                                            \
    X(SYSTEM_TIME, 0)                                                          \
    X(TABLE, 1)                                                                \
    X(TABLES, 0)                                                               \
    X(TEMPORARY, 0)                                                            \
    X(THEN, 1)                                                                 \
    X(TIME, 0)                                                                 \
    X(TIMESTAMP, 0)                                                            \
    X(TIMESTAMP_LTZ, 0)                                                        \
    X(TINYINT, 0)                                                              \
    X(TO, 1)                                                                   \
    X(TRAILING, 0)                                                             \
    X(TRIM, 0)                                                                 \
    X(TRUE, 1)                                                                 \
    X(TRY_CAST, 0)                                                             \
    X(UNBOUNDED, 0)                                                            \
    X(UNION, 1)                                                                \
    X(UNKNOWN, 0)                                                              \
    X(USING, 1)                                                                \
    X(VALUES, 1)                                                               \
    X(VARBINARY, 0)                                                            \
    X(VARCHAR, 0)                                                              \
    X(VIEW, 0)                                                                 \
    X(VIEWS, 0)                                                                \
    X(VIRTUAL, 0)                                                              \
    X(WATERMARK, 0)                                                            \
    X(WEEK, 0)                                                                 \
    X(WHEN, 1)                                                                 \
    X(WHERE, 1)                                                                \
    X(WINDOW, 1)                                                               \
    X(WITH, 1)                                                                 \
    X(WITHOUT, 0)                                                              \
    X(YEAR, 0)                                                                 \
    X(YEARS, 0)                                                                \
    X(ZONE, 0)

typedef enum sl_kw {
    KW_NONE = 0,
#define SL_KW_ENUM(name, reserved) KW_##name,
    SL_KEYWORDS(SL_KW_ENUM)
#undef SL_KW_ENUM
        KW__COUNT
} sl_kw;

typedef enum sl_tok_kind {
    TK_EOF = 0,
    TK_WORD,     /* unquoted identifier or keyword (.kw) */
    TK_QIDENT,   /* `quoted` or "quoted" identifier */
    TK_STRING,   /* 'text' */
    TK_BINSTR,   /* X'0A1B' */
    TK_INT,      /* 123 */
    TK_DECIMAL,  /* 1.5, .5, 1. */
    TK_DOUBLE,   /* 1e3, 1.5E-2 */
    TK_LPAREN,   /* ( */
    TK_RPAREN,   /* ) */
    TK_LBRACKET, /* [ */
    TK_RBRACKET, /* ] */
    TK_COMMA,    /* , */
    TK_SEMI,     /* ; */
    TK_DOT,      /* . */
    TK_PLUS,     /* + */
    TK_MINUS,    /* - */
    TK_STAR,     /* * */
    TK_SLASH,    /* / */
    TK_PERCENT,  /* % */
    TK_CONCAT,   /* || */
    TK_EQ,       /* = */
    TK_NE,       /* <> or != */
    TK_LT,       /* < */
    TK_LE,       /* <= */
    TK_GT,       /* > */
    TK_GE,       /* >= */
    TK_ARROW,    /* => */
} sl_tok_kind;

typedef struct sl_token {
    sl_tok_kind kind;
    sl_kw kw;      /* TK_WORD that is a keyword; KW_NONE otherwise */
    size_t offset; /* of the first byte, quotes included */
    size_t len;    /* bytes, quotes included */
    int line;
    int col;
} sl_token;

/* The lexer is a cursor over the text: copying the struct gives an
 * independent cursor (used for deep lookahead). */
typedef struct sl_lexer {
    const char *src;
    size_t len;
    size_t pos;
    int line;
    size_t line_start; /* offset of the current line's first byte */
} sl_lexer;

void sl_lex_init(sl_lexer *lx, const char *src, size_t len);
/* Next token (TK_EOF at the end, repeatedly). On a lexical error (an
 * unterminated string, quoted identifier or comment, or a character that
 * starts no token) returns SL_SQL with err set through sl_sql_error. */
int sl_lex_next(sl_lexer *lx, sl_token *tok, sl_err *err);

/* Keyword lookup (case-insensitive); KW_NONE when the word is not one. */
sl_kw sl_kw_lookup(const char *word, size_t len);
const char *sl_kw_name(sl_kw kw);
bool sl_kw_is_reserved(sl_kw kw);
/* True when the keyword table is sorted (a unit test checks it). */
bool sl_kw_table_sorted(void);

/* Decode a quoted token's content ('it''s' -> it's, `a``b` -> a`b) into
 * dst, which has room for tok->len bytes. Returns the decoded length. */
size_t sl_lex_unquote(const char *src, const sl_token *tok, char *dst);

#endif /* SL_PARSER_INT_H */
