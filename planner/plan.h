/*
 * plan.h: from a bound query to what the runtime executes.
 *
 * The planner translates a query (with its views and subqueries expanded)
 * into SQLite SQL. Every table a query reads becomes a source occurrence;
 * for each occurrence the same query is rendered with that occurrence read
 * from the stage's input batch (`{input}`) and every other occurrence an
 * empty relation, so a UNION ALL of several sources becomes one fused
 * stage per source whose outputs merge (DESIGN.md section 3: stateless
 * runs fuse into one statement; SQLite's flattener folds the nested
 * subqueries). Every relation carries the hidden `_row` column to the
 * top, so each output row keeps its input row's kind, event time and
 * source position. A query that reads no table (SELECT without FROM,
 * VALUES) is static: it runs once, directly on SQLite.
 */
#ifndef SL_PLAN_H
#define SL_PLAN_H

#include "catalog.h"
#include "connector.h"
#include "job.h"
#include "op_join.h"
#include "op_over.h"
#include "op_rank.h"
#include "op_window.h"
#include "stage.h"

#define SL_PLAN_MAX_SOURCES 64
#define SL_PLAN_MAX_DEPTH   64 /* nested views/subqueries */

/* A table as a connector sees it (source or sink side). */
typedef struct sl_plan_table {
    sl_cat_entry *entry;
    const char *name;
    const sl_connector *connector;
    const char *connector_name;
    sl_table_info info; /* schema, metadata keys, options (arena) */
    /* event time (window.c): with a WATERMARK clause, the SQL of the time
     * stage returning (rowtime, watermark candidate, _row) per row over
     * {input}; else NULL */
    char *time_sql;
    const char *rowtime;     /* the rowtime column */
    int64_t idle_timeout_ms; /* 'scan.watermark.idle-timeout', 0: none */
    /* source side: index in info.schema of each declared column, -1 for
     * computed columns */
} sl_plan_table;

struct sl_plan;

/* An ML_PREDICT in FROM: the plan of its TABLE argument (sources and
 * stages producing in_schema), the async model operator appending the
 * model's OUTPUT columns (out_schema), and the rest of the query as the
 * stage after it (the outer plan's stage_sql[0] reads out_schema). */
typedef struct sl_plan_model {
    sl_cat_entry *entry;
    const char *name;
    const char *provider;
    struct sl_plan *input;
    const sl_schema *in_schema;
    sl_schema *out_schema;
    int *input_cols; /* per model INPUT column: its column in in_schema */
    sl_schema *model_input;
    sl_schema *model_output;
    const char **output_metadata; /* per OUTPUT column: key or NULL */
    sl_options *model_options;    /* WITH options, ${ENV} unresolved */
    sl_options *call_options;     /* ML_PREDICT's MAP[...] */
    /* The next model operator of the chain (LLM_CALL / EMBED sites): its
     * input is this one's out_schema; input == NULL for it. */
    struct sl_plan_model *next;
} sl_plan_model;

/* A GROUP BY on a streaming input (window.c): the plan of its FROM and
 * WHERE (sources and stages producing in_schema: the group columns, then
 * one argument column per aggregate), the aggregate operator, and the
 * rest of the query (select list, HAVING) as the outer plan's
 * stage_sql[0] reading out_schema (group columns, then results). */
typedef struct sl_plan_agg {
    struct sl_plan *input;
    const sl_schema *in_schema;
    sl_schema *out_schema;
    sl_window_op_def def;
    sl_agg_def *aggs;
    const char *window; /* window description for EXPLAIN, or NULL */
    /* 'late-data.sink' (window.c): the table late rows go to, and per
     * column of it the input column that fills it; NULL: none */
    sl_plan_table *late;
    int *late_map;
} sl_plan_agg;

/* A column of a join's output: its name and qualifier in the query. */
typedef struct sl_plan_join_col {
    const char *name;
    const char *qual; /* the side's alias, or NULL */
    const sl_type *type;
    int side;
    int col; /* column of the side's output */
} sl_plan_join_col;

/* A two-input join (join.c): each side's plan, the operator definition
 * and the schemas around it. The rest of the query is the outer plan's
 * stage_sql[0], reading out_schema (side 0's columns, then side 1's). */
typedef struct sl_plan_join {
    struct sl_plan *side[2];
    const char *alias[2];
    const sl_schema *side_in[2]; /* each side's leaf rows */
    sl_schema *tag_schema;       /* (side, side_in[0] cols, side_in[1] cols) */
    sl_schema *out_schema;
    sl_plan_join_col *cols; /* per out_schema column */
    sl_join_op_def def;
    const char *mode_desc; /* for EXPLAIN */
} sl_plan_join;

/* Window Top-N / deduplication (window.c): ROW_NUMBER() OVER (PARTITION
 * BY window_start, window_end ...) over a window TVF or aggregate. input
 * is the plan of that query without the ROW_NUMBER item (its out_schema:
 * the visible columns, then the window bounds, partition and order
 * columns); the rank operator appends rownum (out_schema); the outer
 * plan's stage_sql[0] reads out_schema. */
typedef struct sl_plan_rank {
    struct sl_plan *input;
    const sl_schema *in_schema;
    sl_schema *out_schema;
    sl_rank_op_def def;
    sl_plan_table *late; /* 'late-data.sink', as in sl_plan_agg */
    int *late_map;
} sl_plan_rank;

/* OVER aggregation (window.c): agg(x) OVER (PARTITION BY ... ORDER BY
 * rowtime ROWS|RANGE BETWEEN ... PRECEDING AND CURRENT ROW). input is the
 * plan of the query without the OVER items (its out_schema: the visible
 * columns, then rowtime, partition and argument columns); the operator
 * appends one column per aggregate (out_schema). */
typedef struct sl_plan_over {
    struct sl_plan *input;
    const sl_schema *in_schema;
    sl_schema *out_schema;
    sl_over_op_def def;
    sl_plan_table *late; /* 'late-data.sink', as in sl_plan_agg */
    int *late_map;
} sl_plan_over;

typedef struct sl_plan {
    sl_arena *arena; /* the statement's arena: everything below lives there */
    int n_sources;
    sl_plan_table sources[SL_PLAN_MAX_SOURCES];
    char *stage_sql[SL_PLAN_MAX_SOURCES]; /* per source, with {input} */
    bool is_static;   /* no sources: static_sql runs directly */
    char *static_sql; /* the whole query, for static plans */
    sl_schema *out_schema;
    int64_t limit;        /* rows to deliver at most; -1: all */
    sl_plan_model *model; /* non-NULL: sources[0] is the model's output */
    sl_plan_agg *agg;     /* non-NULL: sources[0] is the aggregate's output */
    sl_plan_rank *rank;   /* non-NULL: sources[0] is the rank's output */
    sl_plan_over *over;   /* non-NULL: sources[0] is the OVER's output */
    sl_plan_join *join;   /* non-NULL: sources[0] is the join's output */
} sl_plan;

/* Settings and catalog the planner reads. */
typedef struct sl_plan_env {
    const sl_catalog *catalog;
    const char *sql; /* the script, for error positions */
    size_t sql_len;
} sl_plan_env;

/* Plan a query. On failure err holds an "L:C: ..." message. */
int sl_plan_query(const sl_plan_env *env, const sl_query *query,
                  sl_arena *arena, sl_plan *plan, sl_err *err);

/* Plan INSERT INTO target: plan the query and cast its columns to the
 * sink's columns (type check with Flink's message on mismatch). */
int sl_plan_insert(const sl_plan_env *env, const sl_stmt *insert,
                   sl_arena *arena, sl_plan *plan, sl_plan_table *sink,
                   sl_err *err);

/* The source of plan's output that reads a changelog (+U/-D by key:
 * upsert-kafka) through stateless stages and model calls, or NULL. Its
 * result is updating, as a non-windowed GROUP BY's (query.c). */
const sl_plan_table *sl_plan_changelog_source(const sl_plan *plan);
/* t's connector reads a changelog (upsert-kafka). */
bool sl_plan_table_is_changelog(const sl_plan_table *t);
/* plan's output is updating: a non-windowed GROUP BY or a changelog
 * source (EXPLAIN, sink checks). */
bool sl_plan_is_updating(const sl_plan *plan);

/* The connector view of a catalog table (for_sink: the persisted columns;
 * else physical and metadata columns). Options are copied with ${ENV}
 * references resolved. */
int sl_plan_table_info(const sl_plan_env *env, sl_cat_entry *entry,
                       bool for_sink, sl_arena *arena, sl_plan_table *out,
                       sl_err *err);

/* The schema a table exposes to queries (all columns, computed ones too),
 * for DESCRIBE and name completion. */
int sl_plan_table_columns(const sl_cat_entry *entry, sl_arena *arena,
                          sl_schema **out, sl_err *err);

/* window.c: the time stage of a source with a WATERMARK (NULL when it has
 * none; schema in arena), the aggregate operator of a plan (ttl: the
 * 'table.exec.state.ttl' setting or NULL), and their EXPLAIN lines. */
int sl_window_time_stage(sqlite3 *db, sl_arena *arena, const sl_plan_table *t,
                         sl_stage **stage, sl_err *err);
int sl_window_op_build(const sl_plan_agg *pa, const char *ttl, sl_operator **op,
                       sl_err *err);
void sl_window_explain_source(const sl_plan_table *t, sl_buf *b);
void sl_window_explain(const sl_plan_agg *pa, const char *after_sql, sl_buf *b);
/* The window rank (or OVER) operator of plan and the stage after it, appended
 * to steps (*n_steps grows by 2; at most 16 steps in all); *after receives the
 * stage (freed by the caller on failure, like the operator in steps). */
int sl_window_rank_steps(sqlite3 *db, const sl_plan *plan, sl_job_step *steps,
                         int *n_steps, sl_stage **after, sl_err *err);
void sl_window_explain_rank(const sl_plan_rank *pr, const char *after_sql,
                            sl_buf *b);
void sl_window_explain_over(const sl_plan_over *po, const char *after_sql,
                            sl_buf *b);

/* join.c: does the plan need the join builder (a join, or an aggregate
 * over an aggregate)? Build its inputs (sources opened, one stage each)
 * and steps; on failure what was put in inputs/stages is the caller's to
 * free, steps are freed. EXPLAIN lines of the plan tree. */
bool sl_join_in_plan(const sl_plan *plan);
int sl_join_build_job(sqlite3 *jdb, const sl_plan *plan, const char *ttl,
                      sl_job_input *inputs, sl_stage **stages, int *n_inputs,
                      sl_job_step *steps, int max_steps, int *n_steps,
                      sl_err *err);
void sl_join_explain(const sl_plan *plan, sl_buf *b);

#endif
