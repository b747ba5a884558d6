/*
 * ast.h: the syntax tree of Sluice's Flink-compatible SQL dialect.
 *
 * parser/ turns SQL text into these nodes (parser.h); planner/ binds them
 * against the catalog and rewrites them into a pipeline. Every node is
 * allocated in the arena handed to sl_parse and lives as long as it; nothing
 * here is freed individually. Nodes are immutable once the parser returns.
 *
 * Conventions:
 * - Positions (sl_pos) are byte offsets into the parsed script plus 1-based
 *   line and column (columns count bytes), so any later stage can report
 *   "3:12: ..." through sl_sql_error with the same script text.
 * - Strings are NUL-terminated copies in the arena, with a length (a SQL
 *   string literal may contain a NUL byte; the length is authoritative).
 * - Identifiers keep their text as written (quotes removed, doubled quote
 *   characters collapsed) and a `quoted` flag. Flink matches identifiers
 *   case-sensitively and keywords case-insensitively; function names are
 *   matched case-insensitively (the unparser upper-cases unquoted ones).
 * - Lists are (n_x, x) pairs: a count and an arena array.
 * - Parentheses are not nodes: the unparser adds the ones precedence needs.
 */
#ifndef SL_AST_H
#define SL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"
#include "util.h"

/* ---- positions, names, options ------------------------------------------ */

typedef struct sl_pos {
    size_t offset; /* byte offset in the script */
    int line;      /* 1-based */
    int col;       /* 1-based, in bytes */
} sl_pos;

typedef struct sl_ident {
    const char *text; /* as written, unquoted; NUL-terminated */
    size_t len;
    bool quoted; /* written with `backticks` or "double quotes" */
    sl_pos pos;
} sl_ident;

/* A compound name: catalog.db.table, t.col, db.model. */
typedef struct sl_name {
    int n_parts; /* >= 1 */
    sl_ident *parts;
    sl_pos pos; /* of the first part */
} sl_name;

/* 'key' = 'value' as in WITH (...), SET, ALTER MODEL ... SET. */
typedef struct sl_opt_pair {
    const char *key;
    size_t key_len;
    const char *value; /* NULL for RESET-style key lists */
    size_t value_len;
    sl_pos key_pos;
    sl_pos value_pos;
} sl_opt_pair;

typedef struct sl_opt_list {
    int n;
    sl_opt_pair *items; /* in source order */
} sl_opt_list;

/* ---- expressions -------------------------------------------------------- */

typedef struct sl_expr sl_expr;
typedef struct sl_query sl_query;
typedef struct sl_stmt sl_stmt;
typedef struct sl_window_spec sl_window_spec;

typedef enum sl_expr_kind {
    SL_EXPR_LITERAL = 1, /* .lit */
    SL_EXPR_COLUMN,      /* .column: a, t.a, db.t.a, r.f (binder decides) */
    SL_EXPR_STAR,        /* .star: * or t.* (select list, COUNT(*)) */
    SL_EXPR_FUNC,        /* .func */
    SL_EXPR_UNARY,       /* .unary */
    SL_EXPR_BINARY,      /* .binary */
    SL_EXPR_CASE,        /* .case_ */
    SL_EXPR_CAST,        /* .cast: CAST / TRY_CAST */
    SL_EXPR_IN_LIST,     /* .in_list */
    SL_EXPR_IN_QUERY,    /* .in_query */
    SL_EXPR_BETWEEN,     /* .between */
    SL_EXPR_LIKE,        /* .like */
    SL_EXPR_IS,          /* .is: IS [NOT] NULL/TRUE/FALSE/UNKNOWN/DISTINCT */
    SL_EXPR_INTERVAL,    /* .interval */
    SL_EXPR_ARRAY,       /* .list: ARRAY[a, b] */
    SL_EXPR_MAP,         /* .list: MAP[k1, v1, k2, v2] (even count) */
    SL_EXPR_ROW,         /* .list: ROW(a, b) */
    SL_EXPR_FIELD,       /* .field: (expr).f when expr is not a plain name */
    SL_EXPR_SUBSCRIPT,   /* .subscript: a[1], m['k'] */
    SL_EXPR_SUBQUERY,    /* .subquery: (SELECT ...) as a scalar */
    SL_EXPR_EXISTS,      /* .subquery: EXISTS (SELECT ...) */
    SL_EXPR_NAMED_ARG,   /* .named_arg: name => expr (function arguments) */
    SL_EXPR_DESCRIPTOR,  /* .descriptor: DESCRIPTOR(a, b) */
    SL_EXPR_TABLE_ARG,   /* .table_arg: TABLE t [PARTITION BY ...] */
    SL_EXPR_MODEL_ARG,   /* .model_arg: MODEL m */
    SL_EXPR_SYMBOL,      /* .symbol: a keyword argument: DAY in
                            EXTRACT(DAY FROM x), BOTH in TRIM(BOTH ...) */
    SL_EXPR__COUNT
} sl_expr_kind;

typedef enum sl_lit_kind {
    SL_LIT_NULL = 1,
    SL_LIT_BOOL,          /* .b */
    SL_LIT_INT,           /* integer digits; .i when it fits int64 */
    SL_LIT_DECIMAL,       /* digits with a '.', no exponent: 1.50 */
    SL_LIT_DOUBLE,        /* with an exponent: 1e3, 2.5E-1 */
    SL_LIT_STRING,        /* 'text' (text is the decoded value) */
    SL_LIT_BINARY,        /* X'0A1B' (text is the hex digits as written) */
    SL_LIT_DATE,          /* DATE '2024-01-02': .i = days since epoch */
    SL_LIT_TIME,          /* TIME '10:00:00': .i = ms since midnight */
    SL_LIT_TIMESTAMP,     /* TIMESTAMP '...': .i = epoch ms (no zone) */
    SL_LIT_TIMESTAMP_LTZ, /* TIMESTAMP_LTZ '...': .i = epoch ms (UTC) */
} sl_lit_kind;

typedef struct sl_literal {
    sl_lit_kind kind;
    /* Raw text: the number as written, the decoded string value, the
     * quoted text of a DATE/TIME/TIMESTAMP literal, the hex digits. NULL
     * for NULL and booleans. */
    const char *text;
    size_t text_len;
    bool b;       /* SL_LIT_BOOL */
    bool i_valid; /* .i holds the value (INT that fits, temporal kinds) */
    int64_t i;
} sl_literal;

typedef enum sl_unary_op {
    SL_UNARY_NEG = 1, /* -x */
    SL_UNARY_PLUS,    /* +x */
    SL_UNARY_NOT,     /* NOT x */
} sl_unary_op;

typedef enum sl_binary_op {
    SL_BIN_OR = 1,
    SL_BIN_AND,
    SL_BIN_EQ, /* = */
    SL_BIN_NE, /* <> and != */
    SL_BIN_LT,
    SL_BIN_LE,
    SL_BIN_GT,
    SL_BIN_GE,
    SL_BIN_ADD,
    SL_BIN_SUB,
    SL_BIN_MUL,
    SL_BIN_DIV,
    SL_BIN_MOD,    /* % (MOD(a, b) stays a function call) */
    SL_BIN_CONCAT, /* || */
} sl_binary_op;

/* How a call was spelt when it has SQL's special argument syntax. The
 * arguments are always in .args in a fixed order (documented per value);
 * the unparser prints the same spelling back. */
typedef enum sl_call_syntax {
    SL_CALL_PLAIN = 0, /* f(a, b) */
    SL_CALL_NO_PARENS, /* CURRENT_TIMESTAMP, CURRENT_DATE, LOCALTIME ... */
    SL_CALL_EXTRACT,   /* EXTRACT(unit FROM x): args = [SYMBOL unit, x] */
    SL_CALL_FLOOR_TO,  /* FLOOR(x TO unit): args = [x, SYMBOL unit] */
    SL_CALL_CEIL_TO,   /* CEIL(x TO unit): args = [x, SYMBOL unit] */
    SL_CALL_POSITION,  /* POSITION(a IN b): args = [a, b] */
    SL_CALL_TRIM,      /* TRIM([BOTH|LEADING|TRAILING] [chars] FROM s):
                          args = [SYMBOL spec, chars (string ' ' when
                          omitted), s] */
    SL_CALL_SUBSTRING, /* SUBSTRING(s FROM a [FOR b]): args = [s, a[, b]] */
    SL_CALL_OVERLAY,   /* OVERLAY(s PLACING r FROM a [FOR b]):
                          args = [s, r, a[, b]] */
} sl_call_syntax;

typedef enum sl_null_order {
    SL_NULLS_DEFAULT = 0,
    SL_NULLS_FIRST,
    SL_NULLS_LAST,
} sl_null_order;

typedef struct sl_order_item {
    sl_expr *expr;
    bool desc;
    sl_null_order nulls;
} sl_order_item;

typedef enum sl_frame_unit {
    SL_FRAME_NONE = 0, /* no frame clause */
    SL_FRAME_ROWS,
    SL_FRAME_RANGE,
} sl_frame_unit;

typedef enum sl_bound_kind {
    SL_BOUND_UNBOUNDED_PRECEDING = 1,
    SL_BOUND_PRECEDING, /* .offset PRECEDING */
    SL_BOUND_CURRENT_ROW,
    SL_BOUND_FOLLOWING, /* .offset FOLLOWING */
    SL_BOUND_UNBOUNDED_FOLLOWING,
} sl_bound_kind;

typedef struct sl_frame_bound {
    sl_bound_kind kind;
    sl_expr *offset; /* PRECEDING/FOLLOWING: a number or an INTERVAL */
} sl_frame_bound;

/* OVER (...) or a WINDOW clause entry. A frame written without BETWEEN
 * ("ROWS 5 PRECEDING") is stored as BETWEEN 5 PRECEDING AND CURRENT ROW. */
struct sl_window_spec {
    sl_ident *base; /* OVER w, or w2 AS (w ...): the window named; else NULL */
    int n_partition;
    sl_expr **partition;
    int n_order;
    sl_order_item *order;
    sl_frame_unit frame;
    sl_frame_bound start, end;
    sl_pos pos;
};

typedef enum sl_is_kind {
    SL_IS_NULL = 1,
    SL_IS_TRUE,
    SL_IS_FALSE,
    SL_IS_UNKNOWN,
    SL_IS_DISTINCT_FROM, /* .rhs */
} sl_is_kind;

typedef enum sl_time_unit {
    SL_UNIT_NONE = 0,
    SL_UNIT_YEAR,
    SL_UNIT_QUARTER,
    SL_UNIT_MONTH,
    SL_UNIT_WEEK,
    SL_UNIT_DAY,
    SL_UNIT_HOUR,
    SL_UNIT_MINUTE,
    SL_UNIT_SECOND,
    SL_UNIT_MILLISECOND,
    SL_UNIT_MICROSECOND,
    SL_UNIT_NANOSECOND,
} sl_time_unit;

struct sl_expr {
    sl_expr_kind kind;
    sl_pos pos; /* first token of the expression (operator for unary) */
    union {
        sl_literal lit;
        sl_name column;
        struct {
            sl_name *qualifier; /* t in t.*; NULL for plain * */
        } star;
        struct {
            sl_name name;
            sl_call_syntax syntax;
            int n_args;
            sl_expr **args;
            bool distinct;        /* COUNT(DISTINCT x) */
            bool star;            /* COUNT(*): n_args == 0 */
            sl_expr *filter;      /* FILTER (WHERE ...) or NULL */
            sl_window_spec *over; /* OVER (...) / OVER w, or NULL */
        } func;
        struct {
            sl_unary_op op;
            sl_expr *operand;
        } unary;
        struct {
            sl_binary_op op;
            sl_expr *left, *right;
        } binary;
        struct {
            sl_expr *operand; /* CASE x WHEN ...: x; NULL for searched CASE */
            int n_whens;
            sl_expr **whens; /* conditions (or values compared to operand) */
            sl_expr **thens; /* n_whens results */
            sl_expr *else_;  /* NULL when absent */
        } case_;
        struct {
            sl_expr *operand;
            const sl_type *type;
            bool is_try; /* TRY_CAST */
        } cast;
        struct {
            sl_expr *operand;
            bool not_;
            int n_items;
            sl_expr **items;
        } in_list;
        struct {
            sl_expr *operand;
            bool not_;
            sl_query *query;
        } in_query;
        struct {
            sl_expr *operand;
            bool not_;
            bool symmetric; /* BETWEEN SYMMETRIC */
            sl_expr *low, *high;
        } between;
        struct {
            sl_expr *operand;
            bool not_;
            bool similar; /* SIMILAR TO instead of LIKE */
            sl_expr *pattern;
            sl_expr *escape; /* NULL when absent */
        } like;
        struct {
            sl_expr *operand;
            bool not_;
            sl_is_kind what;
            sl_expr *rhs; /* SL_IS_DISTINCT_FROM only */
        } is;
        struct {
            /* INTERVAL 'text' from [TO to]. text as written inside the
             * quotes (or the bare number), e.g. "5", "1:30", "-2". */
            const char *text;
            size_t text_len;
            sl_time_unit from;
            sl_time_unit to; /* SL_UNIT_NONE when no TO part */
            int precision;   /* SECOND(p) / leading precision; -1 none */
            bool year_month; /* YEAR/QUARTER/MONTH units: see months */
            int64_t millis;  /* day-time value in milliseconds */
            int64_t months;  /* year-month value in months */
        } interval;
        struct {
            int n_items;
            sl_expr **items;
        } list; /* ARRAY, MAP (k, v, k, v ...), ROW */
        struct {
            sl_expr *base;
            sl_ident field;
        } field;
        struct {
            sl_expr *base;
            sl_expr *index;
        } subscript;
        struct {
            sl_query *query;
        } subquery; /* SUBQUERY, EXISTS */
        struct {
            sl_ident name;
            sl_expr *value;
        } named_arg;
        struct {
            int n_columns;
            sl_ident *columns;
        } descriptor;
        struct {
            sl_name name;
            int n_partition; /* SESSION(TABLE t PARTITION BY k, ...) */
            sl_expr **partition;
        } table_arg;
        struct {
            sl_name name;
        } model_arg;
        struct {
            const char *text;  /* upper case: "DAY", "BOTH" */
            sl_time_unit unit; /* when it is a time unit */
        } symbol;
    };
};

/* ---- queries --------------------------------------------------------------
 */

typedef struct sl_from sl_from;

typedef struct sl_select_item {
    sl_expr *expr;   /* SL_EXPR_STAR for * and t.* */
    sl_ident *alias; /* [AS] alias, or NULL */
} sl_select_item;

typedef struct sl_named_window {
    sl_ident name;
    sl_window_spec *spec;
} sl_named_window;

typedef struct sl_select {
    bool distinct;
    int n_items;
    sl_select_item *items;
    sl_from *from; /* NULL: SELECT without FROM */
    sl_expr *where;
    int n_group;
    sl_expr **group_by; /* ROLLUP(...)/CUBE(...) appear as calls */
    sl_expr *having;
    int n_windows; /* WINDOW w AS (...), ... */
    sl_named_window *windows;
} sl_select;

typedef enum sl_query_kind {
    SL_QUERY_SELECT = 1, /* .select */
    SL_QUERY_SETOP,      /* .setop */
    SL_QUERY_VALUES,     /* .values */
} sl_query_kind;

typedef enum sl_setop_kind {
    SL_SETOP_UNION = 1,
    SL_SETOP_INTERSECT,
    SL_SETOP_EXCEPT,
} sl_setop_kind;

typedef struct sl_cte {
    sl_ident name;
    int n_columns; /* WITH t (a, b) AS (...); 0 when absent */
    sl_ident *columns;
    sl_query *query;
} sl_cte;

/* A query expression. ORDER BY / LIMIT / OFFSET / WITH belong to the query
 * they were written on: in `(SELECT ... LIMIT 1) UNION ALL SELECT ...` the
 * left operand carries the LIMIT. */
struct sl_query {
    sl_query_kind kind;
    sl_pos pos;
    int n_with;
    sl_cte *with;
    union {
        sl_select select;
        struct {
            sl_setop_kind op;
            bool all; /* UNION ALL; false means DISTINCT */
            sl_query *left, *right;
        } setop;
        struct {
            int n_rows;
            int *n_cols;     /* per row */
            sl_expr ***rows; /* rows[r][c] */
        } values;
    };
    int n_order;
    sl_order_item *order_by;
    sl_expr *limit;  /* LIMIT n / FETCH FIRST n ROWS ONLY; NULL when absent */
    sl_expr *offset; /* OFFSET n; NULL when absent */
};

typedef enum sl_from_kind {
    SL_FROM_TABLE = 1, /* .table */
    SL_FROM_SUBQUERY,  /* .subquery */
    SL_FROM_JOIN,      /* .join */
    SL_FROM_TABLE_FUNC /* .table_func */
} sl_from_kind;

typedef enum sl_join_kind {
    SL_JOIN_INNER = 1, /* [INNER] JOIN */
    SL_JOIN_LEFT,      /* LEFT [OUTER] JOIN */
    SL_JOIN_RIGHT,
    SL_JOIN_FULL,
    SL_JOIN_CROSS, /* CROSS JOIN */
    SL_JOIN_COMMA, /* FROM a, b */
} sl_join_kind;

typedef enum sl_tfunc_syntax {
    SL_TFUNC_TABLE = 1, /* TABLE(f(...)) */
    SL_TFUNC_LATERAL,   /* LATERAL TABLE(f(...)) */
    SL_TFUNC_DIRECT,    /* f(...) directly, e.g. FROM ML_PREDICT(...) */
} sl_tfunc_syntax;

struct sl_from {
    sl_from_kind kind;
    sl_pos pos;
    union {
        struct {
            sl_name name;
            sl_expr *system_time; /* FOR SYSTEM_TIME AS OF expr, or NULL */
        } table;
        struct {
            sl_query *query;
            bool lateral; /* LATERAL (SELECT ...) */
        } subquery;
        struct {
            sl_join_kind kind;
            sl_from *left, *right;
            sl_expr *on; /* NULL for USING / CROSS / COMMA */
            int n_using;
            sl_ident *using_;
        } join;
        struct {
            sl_tfunc_syntax syntax;
            sl_expr *call; /* an SL_EXPR_FUNC */
        } table_func;
    };
    /* [AS] alias [(c1, c2)]: tables, subqueries and table functions. */
    sl_ident *alias;
    int n_col_aliases;
    sl_ident *col_aliases;
};

/* ---- statements -----------------------------------------------------------
 */

typedef enum sl_column_kind {
    SL_COL_PHYSICAL = 1, /* name TYPE */
    SL_COL_COMPUTED,     /* name AS expr */
    SL_COL_METADATA,     /* name TYPE METADATA [FROM 'key'] [VIRTUAL] */
} sl_column_kind;

typedef struct sl_column_def {
    sl_ident name;
    sl_column_kind kind;
    const sl_type *type;      /* NULL for computed columns */
    sl_expr *expr;            /* computed columns */
    const char *metadata_key; /* METADATA FROM 'key', or NULL */
    bool is_virtual;          /* METADATA ... VIRTUAL */
    const char *comment;      /* COMMENT '...', or NULL */
    sl_pos pos;
} sl_column_def;

typedef struct sl_watermark {
    sl_name column; /* WATERMARK FOR column */
    sl_expr *expr;  /* AS expr */
    sl_pos pos;
} sl_watermark;

typedef struct sl_primary_key {
    sl_ident *constraint_name; /* CONSTRAINT name, or NULL */
    int n_columns;             /* 0 when the table has no primary key */
    sl_ident *columns;
    sl_pos pos;
} sl_primary_key;

typedef enum sl_stmt_kind {
    SL_STMT_CREATE_TABLE = 1, /* .create_table */
    SL_STMT_CREATE_VIEW,      /* .create_view */
    SL_STMT_CREATE_MODEL,     /* .create_model */
    SL_STMT_ALTER_MODEL,      /* .alter_model */
    SL_STMT_DROP,             /* .drop */
    SL_STMT_INSERT,           /* .insert */
    SL_STMT_STATEMENT_SET,    /* .statement_set */
    SL_STMT_QUERY,            /* .query */
    SL_STMT_SET,              /* .set */
    SL_STMT_RESET,            /* .reset */
    SL_STMT_SHOW,             /* .show */
    SL_STMT_SHOW_CREATE,      /* .show_create */
    SL_STMT_DESCRIBE,         /* .describe */
    SL_STMT_EXPLAIN,          /* .explain */
    SL_STMT_STOP_JOB,         /* .stop_job */
} sl_stmt_kind;

typedef enum sl_object_kind {
    SL_OBJ_TABLE = 1,
    SL_OBJ_VIEW,
    SL_OBJ_MODEL,
} sl_object_kind;

typedef enum sl_show_kind {
    SL_SHOW_TABLES = 1,
    SL_SHOW_VIEWS,
    SL_SHOW_MODELS,
    SL_SHOW_JOBS,
    SL_SHOW_FUNCTIONS,
    SL_SHOW_METRICS,
} sl_show_kind;

typedef enum sl_alter_model_action {
    SL_ALTER_MODEL_SET = 1, /* SET ('k' = 'v', ...): .options */
    SL_ALTER_MODEL_RESET,   /* RESET ('k', ...): .options, values NULL */
    SL_ALTER_MODEL_RENAME,  /* RENAME TO name: .new_name */
} sl_alter_model_action;

struct sl_stmt {
    sl_stmt_kind kind;
    /* Source span: [offset, offset + len) in the script, without the
     * terminating ';'; line/col of its first token. */
    size_t offset;
    size_t len;
    int line;
    int col;
    union {
        struct {
            sl_name name;
            bool temporary;
            bool if_not_exists;
            int n_columns;
            sl_column_def *columns;
            sl_watermark *watermark; /* NULL when absent */
            sl_primary_key primary_key;
            const char *comment;  /* COMMENT '...', or NULL */
            int n_partitioned_by; /* PARTITIONED BY (a, b) */
            sl_ident *partitioned_by;
            sl_opt_list options; /* WITH (...) */
            sl_query *as_query;  /* CREATE TABLE ... AS SELECT, or NULL */
        } create_table;
        struct {
            sl_name name;
            bool temporary;
            bool if_not_exists;
            int n_columns; /* CREATE VIEW v (a, b) AS ...; 0 when absent */
            sl_ident *columns;
            const char *comment;
            sl_query *query;
        } create_view;
        struct {
            sl_name name;
            bool temporary;
            bool if_not_exists;
            int n_inputs;
            sl_column_def *inputs; /* INPUT (...): physical columns */
            int n_outputs;
            sl_column_def *outputs; /* OUTPUT (...) */
            const char *comment;
            sl_opt_list options;
        } create_model;
        struct {
            sl_name name;
            bool if_exists;
            sl_alter_model_action action;
            sl_opt_list options;
            sl_name new_name;
        } alter_model;
        struct {
            sl_object_kind object;
            sl_name name;
            bool temporary;
            bool if_exists;
        } drop;
        struct {
            sl_name table;
            bool overwrite; /* INSERT OVERWRITE */
            int n_columns;  /* (a, b); 0 when absent */
            sl_ident *columns;
            sl_query *query;
        } insert;
        struct {
            int n_stmts; /* each an SL_STMT_INSERT */
            sl_stmt **stmts;
        } statement_set;
        struct {
            sl_query *query;
        } query;
        struct {
            /* SET 'k' = 'v' (n == 1), or a bare SET (n == 0: list all). */
            sl_opt_list options;
        } set;
        struct {
            /* RESET 'k' (key, value NULL), or bare RESET (n == 0). */
            sl_opt_list options;
        } reset;
        struct {
            sl_show_kind what;
        } show;
        struct {
            sl_object_kind object;
            sl_name name;
        } show_create;
        struct {
            sl_object_kind object; /* DESCRIBE [MODEL] name */
            sl_name name;
        } describe;
        struct {
            sl_stmt *stmt; /* EXPLAIN [PLAN FOR] stmt */
        } explain;
        struct {
            const char *job_id;
            bool with_savepoint;
        } stop_job;
    };
};

typedef struct sl_stmt_list {
    int n;
    sl_stmt **items;
} sl_stmt_list;

#endif /* SL_AST_H */
