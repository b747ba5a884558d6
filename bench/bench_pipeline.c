/*
 * bench_pipeline.c: throughput of a job on one thread: a synthetic 5-column
 * source -> one SQL stage (filter + projection) -> a counting sink, next to
 * the limits measured in the same run: SQLite's own scan+filter+project of
 * the same rows from a plain table, the same statement over sl_batch
 * virtual-table batches without the job (stage only), and a bare vtab scan.
 *
 *   ./build/bench/bench_pipeline [rows=10000000] [batch_rows=1024] [pipeline]
 *
 * ("pipeline" runs only the job, for profiling.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "vtab.h"

#define N_STR 4096

static char strs[N_STR][24];
static uint32_t str_len[N_STR];
static sl_arena arena;
static const sl_schema *schema;
static const sl_schema *out_schema;

static const char *stage_sql =
    "SELECT a, lower(c), d, _row FROM {input} WHERE a % 7 = 0";

/* Row i: a=i, b=i*0.5, c="Value_<i%4096>" (pointing at a static table, as
 * a zero-copy decoder would), d=i%1000, e="x". */
static void fill_row(sl_batch *batch, int64_t i)
{
    int r = batch->n_rows++;
    sl_value *v = sl_batch_row(batch, r);
    v[0].kind = SL_V_INT;
    v[0].u.i = i;
    v[1].kind = SL_V_REAL;
    v[1].u.d = (double)i * 0.5;
    v[2].kind = SL_V_TEXT;
    v[2].u.s = strs[i % N_STR];
    v[2].len = str_len[i % N_STR];
    v[3].kind = SL_V_INT;
    v[3].u.i = i % 1000;
    v[4].kind = SL_V_TEXT;
    v[4].u.s = "x";
    v[4].len = 1;
    batch->kinds[r] = SLUICE_ROW_INSERT;
    batch->event_time[r] = SL_NO_EVENT_TIME;
    batch->pos[r] = (sl_srcpos){0, i};
}

typedef struct gen_src {
    sl_source base;
    int64_t next, total;
} gen_src;

static int gen_read(sl_source *base, sl_batch *batch, sl_read_status *st,
                    sl_err *err)
{
    (void)err;
    gen_src *g = (gen_src *)base;
    while (batch->n_rows < batch->cap_rows && g->next < g->total)
        fill_row(batch, g->next++);
    *st = g->next >= g->total ? SL_READ_EOF : SL_READ_MORE;
    return SL_OK;
}

static const sl_source_ops gen_ops = {.read = gen_read};

typedef struct count_sink {
    sl_sink base;
    int64_t rows;
    int64_t check;
    uint64_t seq;
} count_sink;

static int count_write(sl_sink *base, const sl_batch *batch, uint64_t seq,
                       sl_err *err)
{
    (void)err;
    count_sink *s = (count_sink *)base;
    s->rows += batch->n_rows;
    for (int r = 0; r < batch->n_rows; r++)
        s->check += sl_batch_crow(batch, r)[0].u.i;
    s->seq = seq;
    return SL_OK;
}

static uint64_t count_acked(sl_sink *base)
{
    return ((count_sink *)base)->seq;
}

static const sl_sink_ops count_ops = {.write = count_write,
                                      .acked = count_acked};

static double secs(int64_t ns)
{
    return (double)ns / 1e9;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "%s: %s\n", what, msg);
    exit(1);
}

static double run_pipeline(int64_t rows, int batch_rows, int64_t *out_rows)
{
    sqlite3 *db;
    sl_err err;
    sl_err_clear(&err);
    if (sl_job_db_open(&db, &err))
        die("db", err.msg);
    sl_stage *stage;
    if (sl_stage_new(db, schema, out_schema, stage_sql, &stage, &err))
        die("stage", err.msg);
    gen_src src = {.base = {.ops = &gen_ops, .is_bounded = true},
                   .total = rows};
    count_sink sink = {.base = {.ops = &count_ops}};
    sl_job_input input = {.source = &src.base, .schema = schema};
    sl_job_step step = {.kind = SL_STEP_STAGE, .stage = stage};
    sl_job_spec spec = {.db = db,
                        .n_inputs = 1,
                        .inputs = &input,
                        .n_steps = 1,
                        .steps = &step,
                        .out_schema = out_schema,
                        .sink = &sink.base,
                        .batch_rows = batch_rows};
    sl_job *job;
    if (sl_job_new(&spec, &job, &err))
        die("job", err.msg);
    int64_t t0 = sl_mono_ns();
    if (sl_job_run(job, &err))
        die("run", err.msg);
    int64_t dt = sl_mono_ns() - t0;
    *out_rows = sink.rows;
    sl_job_free(job);
    return (double)rows / secs(dt);
}

/* The stage alone over pre-filled batches (no job, no source work). */
static double run_stage_only(int64_t rows, int batch_rows, const char *sql,
                             const sl_schema *out, unsigned flags)
{
    sqlite3 *db;
    sl_err err;
    sl_err_clear(&err);
    if (sl_job_db_open(&db, &err))
        die("db", err.msg);
    sl_stage *stage;
    sl_stage_opts opts = {.flags = flags};
    if (sl_stage_new_ex(db, schema, out, sql, &opts, &stage, &err))
        die("stage", err.msg);
    sl_batch *in = sl_batch_new(schema, batch_rows);
    sl_batch *o = sl_batch_new(out, batch_rows);
    for (int i = 0; i < batch_rows; i++)
        fill_row(in, i);
    int64_t done = 0, t0 = sl_mono_ns();
    while (done < rows) {
        sl_batch_clear(o);
        if (sl_stage_run(stage, in, o, &err))
            die("run", err.msg);
        done += batch_rows;
    }
    int64_t dt = sl_mono_ns() - t0;
    sl_batch_free(in);
    sl_batch_free(o);
    sl_stage_free(stage);
    sqlite3_close(db);
    return (double)done / secs(dt);
}

/* SQLite's own rate: the same SELECT over a plain table of the same rows. */
static double run_sqlite_table(int64_t rows)
{
    sqlite3 *db;
    sqlite3_open(":memory:", &db);
    sqlite3_exec(db,
                 "CREATE TABLE t(a INTEGER, b REAL, c TEXT, d INTEGER, "
                 "e TEXT)",
                 NULL, NULL, NULL);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(db, "INSERT INTO t VALUES(?,?,?,?,?)", -1, &ins, NULL);
    for (int64_t i = 0; i < rows; i++) {
        sqlite3_bind_int64(ins, 1, i);
        sqlite3_bind_double(ins, 2, (double)i * 0.5);
        sqlite3_bind_text(ins, 3, strs[i % N_STR], (int)str_len[i % N_STR],
                          SQLITE_STATIC);
        sqlite3_bind_int64(ins, 4, i % 1000);
        sqlite3_bind_text(ins, 5, "x", 1, SQLITE_STATIC);
        sqlite3_step(ins);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(db, "SELECT a, lower(c), d FROM t WHERE a % 7 = 0", -1,
                       &q, NULL);
    int64_t n = 0, check = 0, t0 = sl_mono_ns();
    while (sqlite3_step(q) == SQLITE_ROW) {
        check += sqlite3_column_int64(q, 0);
        (void)sqlite3_column_text(q, 1);
        (void)sqlite3_column_int64(q, 2);
        n++;
    }
    int64_t dt = sl_mono_ns() - t0;
    sqlite3_finalize(q);
    sqlite3_close(db);
    (void)check;
    return (double)rows / secs(dt);
}

int main(int argc, char **argv)
{
    int64_t rows = argc > 1 ? strtoll(argv[1], NULL, 10) : 10000000;
    int batch_rows = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 1024;
    for (int i = 0; i < N_STR; i++)
        str_len[i] =
            (uint32_t)sl_snprintf(strs[i], sizeof(strs[i]), "Value_%d", i);
    sl_arena_init(&arena, 4096, 0);
    const char *names[] = {"a", "b", "c", "d", "e"};
    const sl_type *types[] = {
        sl_type_simple(SL_TYPE_BIGINT), sl_type_simple(SL_TYPE_DOUBLE),
        sl_type_simple(SL_TYPE_VARCHAR), sl_type_simple(SL_TYPE_BIGINT),
        sl_type_simple(SL_TYPE_VARCHAR)};
    schema = sl_schema_new(&arena, 5, names, types);
    const char *onames[] = {"a", "c", "d"};
    const sl_type *otypes[] = {sl_type_simple(SL_TYPE_BIGINT),
                               sl_type_simple(SL_TYPE_VARCHAR),
                               sl_type_simple(SL_TYPE_BIGINT)};
    out_schema = sl_schema_new(&arena, 3, onames, otypes);
    const char *cnames[] = {"n"};
    const sl_type *ctypes[] = {sl_type_simple(SL_TYPE_BIGINT)};
    const sl_schema *count_schema = sl_schema_new(&arena, 1, cnames, ctypes);

    printf("bench_pipeline: %lld rows, batch %d rows, 1 thread\n",
           (long long)rows, batch_rows);
    printf("  stage SQL: %s\n", stage_sql);
    int64_t out_rows = 0;
    double pipe = run_pipeline(rows, batch_rows, &out_rows);
    int64_t want = (rows + 6) / 7;
    if (out_rows != want) {
        fprintf(stderr, "wrong row count %lld, want %lld\n",
                (long long)out_rows, (long long)want);
        return 1;
    }
    if (argc > 3 && strcmp(argv[3], "pipeline") == 0) {
        printf("  pipeline (source -> stage -> sink): %7.2f M rows/s\n",
               pipe / 1e6);
        return 0;
    }
    double stage = run_stage_only(rows, batch_rows, stage_sql, out_schema, 0);
    double scan = run_stage_only(rows, batch_rows,
                                 "SELECT count(*) FROM {input} WHERE a % 7 = 0",
                                 count_schema, SL_STAGE_NO_ROW);
    int64_t table_rows = rows < 4000000 ? rows : 4000000;
    double table = run_sqlite_table(table_rows);
    printf("  pipeline (source -> stage -> sink): %7.2f M rows/s\n",
           pipe / 1e6);
    printf("  stage only over batches:            %7.2f M rows/s\n",
           stage / 1e6);
    printf("  vtab scan + filter (count):         %7.2f M rows/s\n",
           scan / 1e6);
    printf("  SQLite plain table, same SELECT:    %7.2f M rows/s "
           "(%lld rows)\n",
           table / 1e6, (long long)table_rows);
    sl_arena_free(&arena);
    return 0;
}
