/*
 * test_stage.c: SQL stages over batches through the sl_batch virtual
 * table: projection, filter and CASE over every storage class, the `_row`
 * carry of kind / event time / source position, storage coercion, errors
 * raised by SQLite functions surfaced with the input row's position, output
 * batches filling up (pending + resume), and aggregates without `_row`.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "stage.h"
#include "vtab.h"

static sl_arena arena;
static sqlite3 *db;
static const sl_schema *in_schema;

static const sl_schema *schema_of(int n, const char *const *names,
                                  const sl_type_id *ids)
{
    const sl_type *types[16];
    for (int i = 0; i < n; i++)
        types[i] = sl_type_simple(ids[i]);
    return sl_schema_new(&arena, n, names, types);
}

static void setup(void)
{
    sl_arena_init(&arena, 4096, 0);
    cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    static const char *const names[] = {"a", "b", "c", "d", "e"};
    static const sl_type_id ids[] = {SL_TYPE_BIGINT, SL_TYPE_DOUBLE,
                                     SL_TYPE_VARCHAR, SL_TYPE_VARBINARY,
                                     SL_TYPE_BOOLEAN};
    in_schema = schema_of(5, names, ids);
}

static void teardown(void)
{
    sqlite3_close(db);
    sl_arena_free(&arena);
}

/* Rows i = 0..n-1: a=i, b=i/2.0, c="s<i>" (NULL when i%5==4), d=blob{i,0},
 * e=i%2; kind: i%4, event time 1000+i (none for i==1), pos {i%2, 40+i}. */
static sl_batch *make_input(int n)
{
    sl_batch *b = sl_batch_new(in_schema, n);
    for (int i = 0; i < n; i++) {
        sl_value *row = sl_batch_append_row(b);
        row[0] = sl_value_int(i);
        row[1] = sl_value_real(i / 2.0);
        char s[16];
        int len = sl_snprintf(s, sizeof(s), "s%d", i);
        if (i % 5 != 4)
            sl_batch_set_text(b, &row[2], s, (size_t)len);
        unsigned char blob[2] = {(unsigned char)i, 0};
        sl_batch_set_blob(b, &row[3], blob, 2);
        row[4] = sl_value_int(i % 2);
        b->kinds[i] = (uint8_t)(i % 4);
        b->event_time[i] = i == 1 ? SL_NO_EVENT_TIME : 1000 + i;
        b->pos[i] = (sl_srcpos){i % 2, 40 + i};
    }
    return b;
}

TestSuite(stage, .init = setup, .fini = teardown);

Test(stage, projection_filter_case_all_storage_classes)
{
    static const char *const names[] = {"x", "y", "u", "blob", "flag", "lbl"};
    static const sl_type_id ids[] = {SL_TYPE_BIGINT,  SL_TYPE_DOUBLE,
                                     SL_TYPE_VARCHAR, SL_TYPE_VARBINARY,
                                     SL_TYPE_BOOLEAN, SL_TYPE_VARCHAR};
    const sl_schema *out = schema_of(6, names, ids);
    sl_stage *stage;
    sl_err err;
    sl_err_clear(&err);
    int rc = sl_stage_new(
        db, in_schema, out,
        "SELECT a * 10, b + 0.25, upper(c), d, NOT e, "
        "CASE WHEN a < 3 THEN 'low' WHEN c IS NULL THEN 'none' "
        "ELSE 'high' END, _row FROM {input} WHERE a % 2 = 0 OR c IS NULL",
        &stage, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.msg);
    cr_assert(strstr(sl_stage_explain(stage), "temp.\"in_") != NULL);
    sl_batch *in = make_input(10);
    sl_batch *o = sl_batch_new(out, 16);
    cr_assert_eq(sl_stage_run(stage, in, o, &err), SL_OK, "%s", err.msg);
    cr_assert_not(sl_stage_pending(stage));
    /* rows 0,2,4,6,8 (even) and 9 (c NULL) */
    cr_assert_eq(o->n_rows, 6);
    int want[] = {0, 2, 4, 6, 8, 9};
    for (int r = 0; r < 6; r++) {
        int i = want[r];
        const sl_value *v = sl_batch_crow(o, r);
        cr_assert_eq(v[0].kind, SL_V_INT);
        cr_assert_eq(v[0].u.i, i * 10);
        cr_assert_eq(v[1].kind, SL_V_REAL);
        cr_assert_float_eq(v[1].u.d, i / 2.0 + 0.25, 1e-9);
        if (i % 5 == 4) {
            cr_assert_eq(v[2].kind, SL_V_NULL);
        } else {
            char s[16];
            sl_snprintf(s, sizeof(s), "S%d", i);
            cr_assert_eq(v[2].kind, SL_V_TEXT);
            cr_assert_str_eq(v[2].u.s, s);
            cr_assert_eq(v[2].len, strlen(s));
        }
        cr_assert_eq(v[3].kind, SL_V_BLOB);
        cr_assert_eq(v[3].len, 2);
        cr_assert_eq(((const unsigned char *)v[3].u.b)[0], i);
        /* out values live in o's arena, not in's */
        cr_assert_neq(v[3].u.b, sl_batch_crow(in, i)[3].u.b);
        cr_assert_eq(v[4].u.i, !(i % 2));
        const char *lbl = i < 3 ? "low" : i % 5 == 4 ? "none" : "high";
        cr_assert_str_eq(v[5].u.s, lbl);
        /* carried from the input row */
        cr_assert_eq(o->kinds[r], i % 4);
        cr_assert_eq(o->event_time[r], 1000 + i);
        cr_assert_eq(o->pos[r].split, i % 2);
        cr_assert_eq(o->pos[r].offset, 40 + i);
    }
    /* the statement is reusable: run again on another batch */
    sl_batch_clear(o);
    sl_batch *in2 = make_input(3);
    cr_assert_eq(sl_stage_run(stage, in2, o, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(o->n_rows, 2);
    sl_batch_free(in2);
    sl_batch_free(in);
    sl_batch_free(o);
    sl_stage_free(stage);
}

Test(stage, hidden_columns_and_row_carry)
{
    static const char *const names[] = {"k", "t", "r"};
    static const sl_type_id ids[] = {SL_TYPE_INT, SL_TYPE_BIGINT, SL_TYPE_INT};
    const sl_schema *out = schema_of(3, names, ids);
    sl_stage *stage;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_stage_new(db, in_schema, out,
                              "SELECT _kind, _etime, _row, _row "
                              "FROM {input} AS t ORDER BY _row DESC",
                              &stage, &err),
                 SL_OK, "%s", err.msg);
    sl_batch *in = make_input(4);
    sl_batch *o = sl_batch_new(out, 8);
    cr_assert_eq(sl_stage_run(stage, in, o, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(o->n_rows, 4);
    for (int r = 0; r < 4; r++) {
        int i = 3 - r;
        const sl_value *v = sl_batch_crow(o, r);
        cr_assert_eq(v[0].u.i, i % 4);
        if (i == 1)
            cr_assert_eq(v[1].kind, SL_V_NULL);
        else
            cr_assert_eq(v[1].u.i, 1000 + i);
        cr_assert_eq(v[2].u.i, i);
        cr_assert_eq(o->kinds[r], i % 4);
        cr_assert_eq(o->event_time[r], i == 1 ? SL_NO_EVENT_TIME : 1000 + i);
        cr_assert_eq(o->pos[r].offset, 40 + i);
    }
    sl_batch_free(in);
    sl_batch_free(o);
    sl_stage_free(stage);
}

Test(stage, row_equality_lookup)
{
    static const char *const names[] = {"c"};
    static const sl_type_id ids[] = {SL_TYPE_VARCHAR};
    const sl_schema *out = schema_of(1, names, ids);
    sl_stage *stage;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_stage_new(db, in_schema, out,
                              "SELECT c, _row FROM {input} WHERE _row = 2",
                              &stage, &err),
                 SL_OK, "%s", err.msg);
    sl_batch *in = make_input(5);
    sl_batch *o = sl_batch_new(out, 8);
    cr_assert_eq(sl_stage_run(stage, in, o, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(o->n_rows, 1);
    cr_assert_str_eq(sl_batch_crow(o, 0)[0].u.s, "s2");
    sl_batch_free(in);
    sl_batch_free(o);
    sl_stage_free(stage);
}

Test(stage, function_error_names_the_position)
{
    static const char *const names[] = {"j"};
    static const sl_type_id ids[] = {SL_TYPE_VARCHAR};
    const sl_schema *out = schema_of(1, names, ids);
    sl_stage *stage;
    sl_err err;
    sl_err_clear(&err);
    sl_stage_opts opts = {.name = "project"};
    cr_assert_eq(sl_stage_new_ex(db, in_schema, out,
                                 "SELECT json_extract(CASE WHEN a = 3 "
                                 "THEN 'not json' ELSE '{\"v\":1}' END, "
                                 "'$.v'), _row FROM {input}",
                                 &opts, &stage, &err),
                 SL_OK, "%s", err.msg);
    sl_batch *in = make_input(6);
    sl_batch *o = sl_batch_new(out, 8);
    int rc = sl_stage_run(stage, in, o, &err);
    cr_assert_neq(rc, SL_OK);
    cr_assert(strstr(err.msg, "stage 'project'") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "malformed JSON") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "split 1 offset 43") != NULL, "%s", err.msg);
    cr_assert_not(sl_stage_pending(stage));
    /* usable again after the failure */
    sl_batch *ok = make_input(3);
    sl_batch_clear(o);
    sl_err_clear(&err);
    cr_assert_eq(sl_stage_run(stage, ok, o, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(o->n_rows, 3);
    sl_batch_free(ok);
    sl_batch_free(in);
    sl_batch_free(o);
    sl_stage_free(stage);
}

Test(stage, storage_coercion_and_type_errors)
{
    static const char *const names[] = {"i", "r", "t"};
    static const sl_type_id ids[] = {SL_TYPE_BIGINT, SL_TYPE_DOUBLE,
                                     SL_TYPE_VARCHAR};
    const sl_schema *out = schema_of(3, names, ids);
    sl_stage *stage;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_stage_new(db, in_schema, out,
                              "SELECT b * 2 + 0.5, a, a + 0.5, _row "
                              "FROM {input}",
                              &stage, &err),
                 SL_OK, "%s", err.msg);
    sl_batch *in = make_input(3);
    sl_batch *o = sl_batch_new(out, 8);
    cr_assert_eq(sl_stage_run(stage, in, o, &err), SL_OK, "%s", err.msg);
    const sl_value *v = sl_batch_crow(o, 2);
    cr_assert_eq(v[0].kind, SL_V_INT);
    cr_assert_eq(v[0].u.i, 2); /* 2.5 truncates */
    cr_assert_eq(v[1].kind, SL_V_REAL);
    cr_assert_float_eq(v[1].u.d, 2.0, 1e-12);
    cr_assert_eq(v[2].kind, SL_V_TEXT);
    cr_assert_str_eq(v[2].u.s, "2.5");
    sl_stage_free(stage);

    cr_assert_eq(sl_stage_new(db, in_schema, out,
                              "SELECT c, 1.0, 'x', _row FROM {input}", &stage,
                              &err),
                 SL_OK, "%s", err.msg);
    sl_batch_clear(o);
    cr_assert_neq(sl_stage_run(stage, in, o, &err), SL_OK);
    cr_assert(strstr(err.msg, "column 'i' is declared BIGINT but the stage "
                              "produced TEXT value 's0'") != NULL,
              "%s", err.msg);
    cr_assert(strstr(err.msg, "split 0 offset 40") != NULL, "%s", err.msg);
    cr_assert_eq(o->n_rows, 0);
    sl_stage_free(stage);
    sl_batch_free(in);
    sl_batch_free(o);
}

Test(stage, not_null_column)
{
    sl_type nn = *sl_type_simple(SL_TYPE_VARCHAR);
    nn.not_null = true;
    const char *names[] = {"c"};
    const sl_type *types[] = {&nn};
    const sl_schema *out = sl_schema_new(&arena, 1, names, types);
    sl_stage *stage;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_stage_new(db, in_schema, out, "SELECT c, _row FROM {input}",
                              &stage, &err),
                 SL_OK);
    sl_batch *in = make_input(6);
    sl_batch *o = sl_batch_new(out, 8);
    cr_assert_neq(sl_stage_run(stage, in, o, &err), SL_OK);
    cr_assert(strstr(err.msg, "column 'c' is NOT NULL") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "offset 44") != NULL, "%s", err.msg);
    sl_batch_free(in);
    sl_batch_free(o);
    sl_stage_free(stage);
}

Test(stage, output_fills_then_resumes)
{
    static const char *const names[] = {"a", "c"};
    static const sl_type_id ids[] = {SL_TYPE_BIGINT, SL_TYPE_VARCHAR};
    const sl_schema *out = schema_of(2, names, ids);
    sl_stage *stage;
    sl_err err;
    sl_err_clear(&err);
    /* two output rows per input row */
    cr_assert_eq(sl_stage_new(db, in_schema, out,
                              "SELECT a * 100 + value, c, _row FROM {input}, "
                              "json_each('[1,2]')",
                              &stage, &err),
                 SL_OK, "%s", err.msg);
    sl_batch *in = make_input(10);
    sl_batch *o = sl_batch_new(out, 7);
    int seen = 0;
    int64_t sum = 0;
    cr_assert_eq(sl_stage_run(stage, in, o, &err), SL_OK);
    for (int round = 0; round < 10; round++) {
        seen += o->n_rows;
        for (int r = 0; r < o->n_rows; r++)
            sum += sl_batch_crow(o, r)[0].u.i;
        sl_batch_clear(o);
        if (!sl_stage_pending(stage))
            break;
        cr_assert_eq(sl_stage_resume(stage, o, &err), SL_OK, "%s", err.msg);
    }
    cr_assert_not(sl_stage_pending(stage));
    cr_assert_eq(seen, 20);
    cr_assert_eq(sum, 100 * 45 * 2 + 10 * 3);
    sl_batch_free(in);
    sl_batch_free(o);
    sl_stage_free(stage);
}

Test(stage, aggregate_without_row)
{
    static const char *const names[] = {"n", "s"};
    static const sl_type_id ids[] = {SL_TYPE_BIGINT, SL_TYPE_DOUBLE};
    const sl_schema *out = schema_of(2, names, ids);
    sl_stage *stage;
    sl_err err;
    sl_err_clear(&err);
    sl_stage_opts opts = {.flags = SL_STAGE_NO_ROW, .name = "agg"};
    cr_assert_eq(sl_stage_new_ex(db, in_schema, out,
                                 "SELECT count(*), sum(b) FROM {input}", &opts,
                                 &stage, &err),
                 SL_OK, "%s", err.msg);
    sl_batch *in = make_input(4);
    sl_batch *o = sl_batch_new(out, 2);
    cr_assert_eq(sl_stage_run(stage, in, o, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(o->n_rows, 1);
    cr_assert_eq(sl_batch_crow(o, 0)[0].u.i, 4);
    cr_assert_float_eq(sl_batch_crow(o, 0)[1].u.d, 3.0, 1e-12);
    cr_assert_eq(o->kinds[0], SLUICE_ROW_INSERT);
    cr_assert_eq(o->event_time[0], SL_NO_EVENT_TIME);
    cr_assert_eq(o->pos[0].split, -1);
    sl_batch_free(in);
    sl_batch_free(o);
    sl_stage_free(stage);
}

Test(stage, bad_templates_fail_at_prepare)
{
    static const char *const names[] = {"a"};
    static const sl_type_id ids[] = {SL_TYPE_BIGINT};
    const sl_schema *out = schema_of(1, names, ids);
    sl_stage *stage;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(
        sl_stage_new(db, in_schema, out, "SELECT a FROM {input}", &stage, &err),
        SL_SQL);
    cr_assert_null(stage);
    cr_assert(strstr(err.msg, "returns 1 columns, expected 2") != NULL, "%s",
              err.msg);
    sl_err_clear(&err);
    cr_assert_eq(sl_stage_new(db, in_schema, out,
                              "SELECT nope, _row FROM {input}", &stage, &err),
                 SL_SQL);
    cr_assert(strstr(err.msg, "no such column: nope") != NULL, "%s", err.msg);
    /* the failed stages dropped their tables: only the module remains */
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM temp.sqlite_master", -1, &st,
                       NULL);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
}

Test(stage, scan_without_batch_is_empty)
{
    char name[32];
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_vtab_create(db, in_schema, name, sizeof(name), &err), SL_OK,
                 "%s", err.msg);
    cr_assert_eq(sl_vtab_register(db, &err), SL_OK); /* again: harmless */
    char sql[128];
    sl_snprintf(sql, sizeof(sql), "SELECT count(*) FROM temp.\"%s\"", name);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sl_vtab_drop(db, name);
}

/* Run sql over in into a fresh batch of out; the caller frees it. */
static sl_batch *run_sql(const sl_schema *out, const char *sql,
                         const sl_batch *in, int want_pass)
{
    sl_stage *stage;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_stage_new(db, in_schema, out, sql, &stage, &err), SL_OK,
                 "%s", err.msg);
    if (want_pass >= 0)
        cr_assert_eq(sl_stage_pass_columns(stage), want_pass, "%s", sql);
    sl_batch *o = sl_batch_new(out, 64);
    cr_assert_eq(sl_stage_run(stage, in, o, &err), SL_OK, "%s", err.msg);
    cr_assert_not(sl_stage_pending(stage));
    sl_stage_free(stage);
    return o;
}

static void assert_same_batches(const sl_batch *a, const sl_batch *b)
{
    cr_assert_eq(a->n_rows, b->n_rows);
    for (int r = 0; r < a->n_rows; r++) {
        cr_assert_eq(a->kinds[r], b->kinds[r]);
        cr_assert_eq(a->event_time[r], b->event_time[r]);
        cr_assert_eq(a->pos[r].offset, b->pos[r].offset);
        for (int c = 0; c < a->n_cols; c++) {
            const sl_value *x = &sl_batch_crow(a, r)[c];
            const sl_value *y = &sl_batch_crow(b, r)[c];
            cr_assert_eq(x->kind, y->kind, "row %d col %d", r, c);
            if (x->kind == SL_V_INT)
                cr_assert_eq(x->u.i, y->u.i);
            else if (x->kind == SL_V_REAL)
                cr_assert_eq(x->u.d, y->u.d);
            else if (x->kind == SL_V_TEXT || x->kind == SL_V_BLOB) {
                cr_assert_eq(x->len, y->len);
                cr_assert_eq(memcmp(x->u.b, y->u.b, x->len), 0);
            }
        }
    }
}

/* Bare input columns are copied from the input row, not computed by
 * SQLite; the result equals the same query with every column an expression
 * (`+a` is not a bare column), through the planner's nested subqueries too. */
Test(stage, pass_through_columns_equal_the_sql_result)
{
    static const char *const names[] = {"a", "c", "d", "x", "b", "e"};
    static const sl_type_id ids[] = {SL_TYPE_BIGINT,    SL_TYPE_VARCHAR,
                                     SL_TYPE_VARBINARY, SL_TYPE_BIGINT,
                                     SL_TYPE_DOUBLE,    SL_TYPE_BOOLEAN};
    const sl_schema *out = schema_of(6, names, ids);
    sl_batch *in = make_input(40);
    sl_batch *ref = run_sql(out,
                            "SELECT +a, +c, +d, a * 2, +b, +e, _row FROM "
                            "{input} WHERE a % 3 <> 0",
                            in, 0);
    cr_assert_eq(ref->n_rows, 26);
    sl_batch *o = run_sql(out,
                          "SELECT a, c, d, a * 2, b, e, _row FROM {input} "
                          "WHERE a % 3 <> 0",
                          in, 5);
    assert_same_batches(o, ref);
    /* copies in o's arena, not pointers into in */
    cr_assert_neq(sl_batch_crow(o, 0)[1].u.s, sl_batch_crow(in, 1)[2].u.s);
    cr_assert_str_eq(sl_batch_crow(o, 0)[1].u.s, "s1");
    sl_batch_free(o);
    o = run_sql(out,
                "SELECT (c0), (c1), (c2), (c3), (c4), (c5), _row FROM "
                "(SELECT t0.c0 AS c0, t0.c1 AS c1, t0.c2 AS c2, t0.c0 * 2 AS "
                "c3, t0.c4 AS c4, t0.c5 AS c5, t0._row AS _row FROM (SELECT "
                "\"a\" AS c0, \"c\" AS c1, \"d\" AS c2, \"b\" AS c4, \"e\" AS "
                "c5, _row AS _row FROM {input}) AS t0 WHERE (t0.c0 % 3) <> 0)",
                in, 5);
    assert_same_batches(o, ref);
    sl_batch_free(o);
    /* an aggregate takes its bare columns and _row from one row */
    static const char *const gnames[] = {"a", "n"};
    static const sl_type_id gids[] = {SL_TYPE_BIGINT, SL_TYPE_BIGINT};
    const sl_schema *gout = schema_of(2, gnames, gids);
    ref =
        (sl_batch_free(ref),
         run_sql(gout, "SELECT +a, count(*), _row FROM {input} GROUP BY a % 4",
                 in, -1));
    o = run_sql(gout, "SELECT a, count(*), _row FROM {input} GROUP BY a % 4",
                in, 1);
    cr_assert_eq(o->n_rows, 4);
    assert_same_batches(o, ref);
    sl_batch_free(o);
    sl_batch_free(ref);
    sl_batch_free(in);
}

/* Where a result row's columns may come from another row than `_row` (a
 * second scan of the input, a CTE, another arm of a compound SELECT) or
 * the out column's storage differs, every column stays SQL. */
Test(stage, no_pass_through_where_the_row_may_differ)
{
    static const char *const names[] = {"a"};
    static const sl_type_id ids[] = {SL_TYPE_BIGINT};
    const sl_schema *out = schema_of(1, names, ids);
    sl_batch *in = make_input(6);
    /* each row's a is the next input row's: not the row _row names */
    static const char *const next_a[] = {
        "SELECT y.a, x._row FROM {input} AS x JOIN {input} AS y ON y.a = "
        "x.a + 1",
        "WITH w AS (SELECT a, _row FROM {input}) SELECT y.a, x._row FROM w "
        "AS x JOIN w AS y ON y.a = x.a + 1"};
    sl_batch *o;
    for (size_t q = 0; q < SL_ARRAY_LEN(next_a); q++) {
        o = run_sql(out, next_a[q], in, 0);
        cr_assert_eq(o->n_rows, 5);
        for (int r = 0; r < 5; r++)
            cr_assert_eq(sl_batch_crow(o, r)[0].u.i, o->pos[r].offset - 40 + 1);
        sl_batch_free(o);
    }
    o = run_sql(out,
                "SELECT a, _row FROM {input} WHERE a < 2 "
                "union all SELECT 7, 0",
                in, 0);
    cr_assert_eq(o->n_rows, 3);
    cr_assert_eq(sl_batch_crow(o, 2)[0].u.i, 7);
    sl_batch_free(o);
    /* a scalar subquery returning the input's column: NULL when it finds
     * no row */
    o = run_sql(out,
                "SELECT (SELECT x.a FROM (SELECT 1) WHERE x.a > 2), x._row "
                "FROM {input} AS x",
                in, 0);
    cr_assert_eq(o->n_rows, 6);
    cr_assert_eq(sl_batch_crow(o, 0)[0].kind, SL_V_NULL);
    cr_assert_eq(sl_batch_crow(o, 3)[0].u.i, 3);
    sl_batch_free(o);
    /* a BIGINT into a VARCHAR column is SQLite's text of it */
    static const char *const tnames[] = {"t"};
    static const sl_type_id tids[] = {SL_TYPE_VARCHAR};
    o = run_sql(schema_of(1, tnames, tids), "SELECT a, _row FROM {input}", in,
                0);
    cr_assert_str_eq(sl_batch_crow(o, 3)[0].u.s, "3");
    sl_batch_free(o);
    /* 'UNION' inside a string literal is no compound SELECT */
    o = run_sql(out, "SELECT a, _row FROM {input} WHERE 'UNION' <> c", in, 1);
    cr_assert_eq(o->n_rows, 5);
    sl_batch_free(o);
    sl_batch_free(in);
}

/* A batch value whose kind is not its column's storage class goes through
 * the same coercions as a value SQLite returns. */
Test(stage, pass_through_coerces_like_sql)
{
    static const char *const names[] = {"a", "b", "c"};
    static const sl_type_id ids[] = {SL_TYPE_BIGINT, SL_TYPE_DOUBLE,
                                     SL_TYPE_VARCHAR};
    const sl_schema *out = schema_of(3, names, ids);
    sl_batch *in = make_input(3);
    sl_value *row = sl_batch_row(in, 1);
    row[0] = sl_value_real(7.75); /* REAL in a BIGINT column */
    row[1] = sl_value_int(5);     /* INT in a DOUBLE column */
    row[2] = sl_value_int(-12);   /* INT in a VARCHAR column */
    sl_batch *o = run_sql(out, "SELECT a, b, c, _row FROM {input}", in, 3);
    sl_batch *ref =
        run_sql(out, "SELECT +a, +b, +c, _row FROM {input}", in, -1);
    assert_same_batches(o, ref);
    const sl_value *v = sl_batch_crow(o, 1);
    cr_assert_eq(v[0].kind, SL_V_INT);
    cr_assert_eq(v[0].u.i, 7);
    cr_assert_eq(v[1].kind, SL_V_REAL);
    cr_assert_eq(v[1].u.d, 5.0);
    cr_assert_str_eq(v[2].u.s, "-12");
    sl_batch_free(o);
    sl_batch_free(ref);
    /* TEXT in a BIGINT column: the same error as from SQL */
    row[0].kind = SL_V_TEXT;
    row[0].u.s = "abc";
    row[0].len = 3;
    sl_stage *stage;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_stage_new(db, in_schema, out,
                              "SELECT a, b, c, _row FROM {input}", &stage,
                              &err),
                 SL_OK);
    o = sl_batch_new(out, 8);
    cr_assert_neq(sl_stage_run(stage, in, o, &err), SL_OK);
    cr_assert(strstr(err.msg, "column 'a' is declared BIGINT but the stage "
                              "produced TEXT value 'abc'") != NULL,
              "%s", err.msg);
    cr_assert(strstr(err.msg, "split 1 offset 41") != NULL, "%s", err.msg);
    sl_stage_free(stage);
    sl_batch_free(o);
    sl_batch_free(in);
}
