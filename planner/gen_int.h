/*
 * gen_int.h: shared state of the query-to-SQLite translation (query.c for
 * relations, expr.c for expressions). Private to planner/.
 */
#ifndef SL_GEN_INT_H
#define SL_GEN_INT_H

#include "plan.h"

/* A column visible in a scope. */
typedef struct sl_rel_col {
    const char *name; /* visible name */
    const char *qual; /* the relation's alias, or NULL */
    const sl_type *type;
    const char *ref; /* SQLite expression that reads it */
} sl_rel_col;

/* The columns a FROM clause makes visible. */
typedef struct sl_scope {
    int n;
    sl_rel_col *cols;
    const char *row_ref; /* SQLite expression of the row's _row, or NULL */
} sl_scope;

/* A query's result: column names and types (SQL columns c0..cn-1). */
typedef struct sl_rel {
    int n;
    const char **names;
    const sl_type **types;
} sl_rel;

typedef struct sl_cte_frame {
    const sl_cte *cte;
    const char *text; /* script the CTE was parsed from */
    size_t text_len;
    struct sl_cte_frame *up;
} sl_cte_frame;

/* An expression replaced by a column reference (GROUP BY keys and
 * aggregate calls in the stage after an aggregate). */
typedef struct sl_gen_subst {
    const sl_expr *expr;
    const char *ref;
    const sl_type *type;
} sl_gen_subst;

typedef struct sl_gen {
    const sl_plan_env *env;
    sl_plan *plan;
    sl_arena *arena;
    sl_err *err;
    bool collect;   /* first pass: create source occurrences */
    bool with_row;  /* relations carry _row (streaming) */
    bool met_table; /* !with_row: a table was found (not a static query) */
    int current;    /* occurrence read from {input}; -1: none */
    int occurrence; /* occurrences seen in this pass */
    int alias_seq;
    int depth;
    bool top;         /* translating the outermost query */
    const char *text; /* the script positions refer to */
    size_t text_len;
    sl_cte_frame *ctes;
    /* LLM_CALL / EMBED lifted out of the query: the top-level SELECT reads
     * the model chain's output (over_*) and each call site is replaced by
     * a column of it (subst). */
    const sl_scope *over_scope;
    const char *over_from_sql;
    bool over_skip_where;
    int n_subst;
    const sl_expr **subst_expr;
    const char **subst_ref;
    const sl_type **subst_type;
    const sl_gen_subst *wsubst; /* window.c: see sl_gen_subst */
    int n_wsubst;
    const sl_expr *join_where; /* join.c: WHERE of the SELECT whose FROM
                                  is being generated (FROM a, b WHERE) */
} sl_gen;

/* expr.c */
int sl_gen_expr(sl_gen *g, const sl_scope *sc, const sl_expr *e, sl_buf *out,
                const sl_type **type);
/* Error at an AST position of the current text. */
int sl_gen_error(sl_gen *g, int code, sl_pos pos, const char *fmt, ...)
    SL_PRINTF(4, 5);
/* Append s as a SQLite identifier ("..." with "" doubled). */
void sl_gen_ident(sl_buf *out, const char *s);
/* Append s as a SQLite string literal. */
void sl_gen_string(sl_buf *out, const char *s, size_t len);
/* Is this call an aggregate function (COUNT, SUM, ...)? */
bool sl_gen_is_aggregate(const sl_expr *e);
bool sl_gen_has_aggregate(const sl_expr *e);
/* Convert the value of `from` to `to` in SQL (casts as needed). */
int sl_gen_cast(sl_gen *g, const char *sql, const sl_type *from,
                const sl_type *to, bool is_try, sl_buf *out);
/* Can a value of from be written into a column of to (INSERT)? */
bool sl_gen_assignable(const sl_type *from, const sl_type *to);
char *sl_gen_type_text(sl_gen *g, const sl_type *type);

/* query.c */
/* printf into the statement's arena (NULL on failure). */
const char *sl_gen_printf(sl_gen *g, const char *fmt, ...) SL_PRINTF(2, 3);
/* An identifier's text copied into the arena. */
char *sl_gen_ident_text(sl_gen *g, const sl_ident *id);
int sl_gen_query(sl_gen *g, const sl_query *q, sl_buf *out, sl_rel *rel);
int sl_gen_from(sl_gen *g, const sl_from *from, sl_buf *out, sl_scope *sc);

/* window.c: window TVFs (TUMBLE, HOP, CUMULATE) as FROM items; a
 * streaming GROUP BY cut at the aggregate operator; the time stage of a
 * table with a WATERMARK; substitutions in sl_gen_expr. */
int sl_window_gen_tvf(sl_gen *g, const sl_from *from, const char *alias,
                      sl_buf *out, sl_scope *sc);
bool sl_window_wants_agg(const sl_gen *g, const sl_query *q);
int sl_window_gen_agg(sl_gen *g, const sl_query *q, sl_buf *out, sl_rel *rel);
int sl_window_time_sql(sl_gen *g, sl_cat_entry *entry, sl_plan_table *t);
/* window.c: window Top-N / deduplication (ROW_NUMBER() OVER ...). */
bool sl_window_wants_rank(const sl_gen *g, const sl_query *q);
int sl_window_gen_rank(sl_gen *g, const sl_query *q, sl_buf *out, sl_rel *rel);
/* CURRENT_WATERMARK(ts): the job's watermark (NULL before the first). */
int sl_window_gen_current_watermark(sl_gen *g, const sl_scope *sc,
                                    const sl_expr *e, sl_buf *out,
                                    const sl_type **type);
/* Returns 1 when e was substituted (written to out), 0 when not. */
int sl_window_subst(sl_gen *g, const sl_expr *e, sl_buf *out,
                    const sl_type **type);

/* join.c: a join as a FROM item; is e (a column of FROM item from) a
 * window_start (which 0) / window_end (1) through aliases? */
int sl_join_gen_from(sl_gen *g, const sl_from *from, sl_buf *out, sl_scope *sc);
bool sl_join_col_is_window(sl_gen *g, const sl_from *from, const sl_expr *e,
                           int which);

#endif
