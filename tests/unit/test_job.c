/*
 * test_job.c: jobs end to end with an in-test source and sink built on the
 * connector structs: bounded runs (FINISHED, every row, final acks),
 * unbounded runs stopped on request (CANCELED after a drain), backpressure
 * from a sink that stops acknowledging (sources paused, memory bounded),
 * acks never beyond what the sink acknowledged, a stage error failing the
 * job with its message, UNION ALL of two inputs through an operator and a
 * stage into a row callback, and a row callback stopping the job.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "job.h"

#define MAX_TRACK (1 << 21) /* rows tracked per split by the test sink */

static sl_arena arena;
static const sl_schema *src_schema; /* a BIGINT, b DOUBLE, c STRING, d INT */

static void setup(void)
{
    sl_arena_init(&arena, 4096, 0);
    const char *names[] = {"a", "b", "c", "d"};
    const sl_type *types[] = {
        sl_type_simple(SL_TYPE_BIGINT), sl_type_simple(SL_TYPE_DOUBLE),
        sl_type_simple(SL_TYPE_VARCHAR), sl_type_simple(SL_TYPE_INT)};
    src_schema = sl_schema_new(&arena, 4, names, types);
}

static void teardown(void)
{
    sl_arena_free(&arena);
}

TestSuite(job, .init = setup, .fini = teardown);

/* ---- the test sink ---------------------------------------------------- */

typedef struct tsink {
    sl_sink base;
    int n_splits;
    uint64_t last_seq;
    _Atomic uint64_t acked;
    int ack_delay_ms;      /* ack a seq this long after its write */
    atomic_bool hold_acks; /* ack nothing while set */
    int64_t *write_ms;     /* per seq */
    int cap_seq;
    uint32_t *row_seq[4]; /* per split, per offset: seq written */
    _Atomic int64_t rows;
    int64_t sum_a;
    bool seq_error;
    bool closed;
    int max_unacked_seen;
} tsink;

static int tsink_write(sl_sink *base, const sl_batch *batch, uint64_t seq,
                       sl_err *err)
{
    tsink *s = (tsink *)base;
    if (seq != s->last_seq + 1)
        s->seq_error = true;
    s->last_seq = seq;
    if ((int)seq >= s->cap_seq)
        return sl_err_set(err, SL_LIMIT, "test sink: too many batches");
    s->write_ms[seq] = sl_mono_ns() / 1000000;
    for (int r = 0; r < batch->n_rows; r++) {
        sl_srcpos p = batch->pos[r];
        if (p.split >= 0 && p.split < s->n_splits && p.offset < MAX_TRACK)
            s->row_seq[p.split][p.offset] = (uint32_t)seq;
        s->sum_a += sl_batch_crow(batch, r)[0].u.i;
    }
    atomic_fetch_add(&s->rows, batch->n_rows);
    int unacked = (int)(seq - atomic_load(&s->acked));
    if (unacked > s->max_unacked_seen)
        s->max_unacked_seen = unacked;
    return SL_OK;
}

static uint64_t tsink_acked(sl_sink *base)
{
    tsink *s = (tsink *)base;
    if (atomic_load(&s->hold_acks))
        return atomic_load(&s->acked);
    uint64_t a = atomic_load(&s->acked);
    int64_t now = sl_mono_ns() / 1000000;
    while (a < s->last_seq && now - s->write_ms[a + 1] >= s->ack_delay_ms)
        a++;
    atomic_store(&s->acked, a);
    return a;
}

static int tsink_flush(sl_sink *base, int timeout_ms, sl_err *err)
{
    tsink *s = (tsink *)base;
    int64_t end = sl_mono_ns() / 1000000 + timeout_ms;
    while (tsink_acked(base) < s->last_seq) {
        if (sl_mono_ns() / 1000000 > end)
            return sl_err_set(err, SL_TIMEOUT, "test sink flush timeout");
        usleep(1000);
    }
    return SL_OK;
}

static void tsink_close(sl_sink *base)
{
    ((tsink *)base)->closed = true;
}

static const sl_sink_ops tsink_ops = {
    .write = tsink_write,
    .acked = tsink_acked,
    .flush = tsink_flush,
    .close = tsink_close,
};

static tsink *tsink_new(int n_splits)
{
    tsink *s = sl_calloc(1, sizeof(*s));
    s->base.ops = &tsink_ops;
    s->n_splits = n_splits;
    s->cap_seq = 1 << 20;
    s->write_ms = sl_calloc((size_t)s->cap_seq, sizeof(int64_t));
    for (int i = 0; i < n_splits; i++)
        s->row_seq[i] = sl_calloc(MAX_TRACK, sizeof(uint32_t));
    return s;
}

static void tsink_free(tsink *s)
{
    for (int i = 0; i < s->n_splits; i++)
        sl_free(s->row_seq[i]);
    sl_free(s->write_ms);
    sl_free(s);
}

/* ---- the test source -------------------------------------------------- */

typedef bool (*row_pred)(int64_t a);

typedef struct tsrc {
    sl_source base;
    int64_t total;   /* -1: unbounded */
    int64_t offset0; /* added to a */
    _Atomic int64_t next;
    int n_splits;
    int per_read;
    int idle_every; /* return IDLE (1 ms) after this many reads; 0 never */
    int n_reads;
    int64_t bad_at; /* row whose c is not JSON, -1 none */
    atomic_bool paused;
    _Atomic int pause_calls;
    _Atomic int64_t read_while_paused;
    int64_t acked[4];
    int n_acks;
    tsink *check; /* verify acks against this sink */
    row_pred passes;
    bool ack_violation;
    bool closed;
} tsrc;

static int tsrc_read(sl_source *base, sl_batch *batch, sl_read_status *st,
                     sl_err *err)
{
    SL_UNUSED(err);
    tsrc *s = (tsrc *)base;
    int got = 0;
    if (s->idle_every && ++s->n_reads % s->idle_every == 0) {
        *st = SL_READ_IDLE;
        return SL_OK;
    }
    while (!sl_batch_is_full(batch) && got < s->per_read &&
           (s->total < 0 || s->next < s->total)) {
        int64_t i = atomic_load(&s->next);
        int r = batch->n_rows;
        sl_value *row = sl_batch_append_row(batch);
        row[0] = sl_value_int(s->offset0 + i);
        row[1] = sl_value_real((double)i / 4);
        char text[48];
        int len = i == s->bad_at ? sl_snprintf(text, sizeof(text), "oops")
                                 : sl_snprintf(text, sizeof(text),
                                               "{\"x\": %lld}", (long long)i);
        sl_batch_set_text(batch, &row[2], text, (size_t)len);
        row[3] = sl_value_int(i % 1000);
        batch->pos[r] =
            (sl_srcpos){(int32_t)(i % s->n_splits), i / s->n_splits};
        batch->event_time[r] = 1700000000000 + i;
        atomic_store(&s->next, i + 1);
        got++;
    }
    if (got && atomic_load(&s->paused))
        atomic_fetch_add(&s->read_while_paused, got);
    if (s->total >= 0 && s->next >= s->total)
        *st = SL_READ_EOF;
    else
        *st = sl_batch_is_full(batch) ? SL_READ_MORE : SL_READ_IDLE;
    return SL_OK;
}

static void tsrc_wait_hint(sl_source *base, int *fd, int64_t *wakeup_ms)
{
    SL_UNUSED(base);
    *fd = -1;
    *wakeup_ms = sl_mono_ns() / 1000000 + 1;
}

static int tsrc_ack(sl_source *base, const sl_srcpos *pos, int n_pos,
                    sl_err *err)
{
    SL_UNUSED(err);
    tsrc *s = (tsrc *)base;
    s->n_acks++;
    for (int k = 0; k < n_pos; k++) {
        int sp = pos[k].split;
        if (sp < 0 || sp >= s->n_splits)
            continue;
        if (pos[k].offset < s->acked[sp])
            s->ack_violation = true; /* acks go backwards */
        if (s->check) {
            uint64_t acked = atomic_load(&s->check->acked);
            for (int64_t o = s->acked[sp] + 1;
                 o <= pos[k].offset && o < MAX_TRACK; o++) {
                int64_t i = o * s->n_splits + sp;
                if (s->passes && !s->passes(s->offset0 + i))
                    continue;
                uint32_t q = s->check->row_seq[sp][o];
                if (q == 0 || q > acked)
                    s->ack_violation = true;
            }
        }
        s->acked[sp] = pos[k].offset;
    }
    return SL_OK;
}

static void tsrc_pause(sl_source *base, bool paused)
{
    tsrc *s = (tsrc *)base;
    atomic_store(&s->paused, paused);
    atomic_fetch_add(&s->pause_calls, 1);
}

static void tsrc_close(sl_source *base)
{
    ((tsrc *)base)->closed = true;
}

static const sl_source_ops tsrc_ops = {
    .read = tsrc_read,
    .wait_hint = tsrc_wait_hint,
    .ack = tsrc_ack,
    .pause = tsrc_pause,
    .close = tsrc_close,
};

static void tsrc_init(tsrc *s, int64_t total, int n_splits, int per_read)
{
    memset(s, 0, sizeof(*s));
    s->base.ops = &tsrc_ops;
    s->base.is_bounded = total >= 0;
    s->total = total;
    s->n_splits = n_splits;
    s->per_read = per_read;
    s->bad_at = -1;
    for (int i = 0; i < 4; i++)
        s->acked[i] = -1;
}

/* ---- helpers ------------------------------------------------------------ */

static bool not_div3(int64_t a)
{
    return a % 3 != 0;
}

static const sl_schema *filter_out_schema(void)
{
    const char *names[] = {"a", "c"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_BIGINT),
                              sl_type_simple(SL_TYPE_VARCHAR)};
    return sl_schema_new(&arena, 2, names, types);
}

static sl_stage *filter_stage(sqlite3 *db, const sl_schema *out,
                              const char *sql)
{
    sl_stage *stage = NULL;
    sl_err err;
    sl_err_clear(&err);
    int rc = sl_stage_new(db, src_schema, out, sql, &stage, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.msg);
    return stage;
}

static sqlite3 *open_db(void)
{
    sqlite3 *db;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_job_db_open(&db, &err), SL_OK, "%s", err.msg);
    return db;
}

static int64_t expected_sum(int64_t n, row_pred p)
{
    int64_t s = 0;
    for (int64_t i = 0; i < n; i++)
        if (!p || p(i))
            s += i;
    return s;
}

/* ---- tests ------------------------------------------------------------ */

Test(job, bounded_filter_to_sink)
{
    sqlite3 *db = open_db();
    const sl_schema *out = filter_out_schema();
    sl_stage *stage = filter_stage(
        db, out, "SELECT a, upper(c), _row FROM {input} WHERE a % 3 <> 0");
    tsrc src;
    tsrc_init(&src, 10000, 3, 100);
    tsink *sink = tsink_new(3);
    src.check = sink;
    src.passes = not_div3;
    sl_job_input input = {
        .source = &src.base, .schema = src_schema, .name = "numbers"};
    sl_job_step step = {.kind = SL_STEP_STAGE, .stage = stage};
    sl_job_spec spec = {.name = "t",
                        .db = db,
                        .n_inputs = 1,
                        .inputs = &input,
                        .n_steps = 1,
                        .steps = &step,
                        .out_schema = out,
                        .sink = &sink->base,
                        .batch_rows = 256};
    sl_job *job;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_job_new(&spec, &job, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_job_state_get(job), SL_JOB_CREATED);
    cr_assert_eq(sl_job_run(job, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_job_state_get(job), SL_JOB_FINISHED);
    cr_assert_str_eq(sl_job_error(job), "");
    int64_t want = 0;
    for (int i = 0; i < 10000; i++)
        want += i % 3 != 0;
    cr_assert_eq(sink->rows, want);
    cr_assert_eq(sink->sum_a, expected_sum(10000, not_div3));
    cr_assert_not(sink->seq_error);
    cr_assert_not(src.ack_violation);
    /* final acks cover every row of every split */
    cr_assert_eq(src.acked[0], 3333);
    cr_assert_eq(src.acked[1], 3332);
    cr_assert_eq(src.acked[2], 3332);
    sl_job_metrics m;
    sl_step_metrics steps[2];
    sl_job_metrics_get(job, &m, steps, 2);
    cr_assert_eq(m.rows_read, 10000);
    cr_assert_eq(m.rows_written, want);
    cr_assert_gt(m.bytes_read, 10000 * 4 * 16 - 1);
    cr_assert_eq(m.n_steps, 1);
    cr_assert_eq(steps[0].rows_in, 10000);
    cr_assert_eq(steps[0].rows_out, want);
    cr_assert_str_eq(steps[0].name, "stage");
    cr_assert_gt(m.end_ms, 0);
    sl_job_free(job);
    cr_assert(src.closed);
    cr_assert(sink->closed);
    tsink_free(sink);
}

Test(job, unbounded_stops_on_request)
{
    sqlite3 *db = open_db();
    const sl_schema *out = filter_out_schema();
    sl_stage *stage = filter_stage(
        db, out, "SELECT a, c, _row FROM {input} WHERE a % 3 <> 0");
    tsrc src;
    tsrc_init(&src, -1, 2, 50);
    src.idle_every = 4;
    tsink *sink = tsink_new(2);
    src.check = sink;
    src.passes = not_div3;
    sl_job_input input = {.source = &src.base, .schema = src_schema};
    sl_job_step step = {.kind = SL_STEP_STAGE, .stage = stage};
    sl_job_spec spec = {.db = db,
                        .n_inputs = 1,
                        .inputs = &input,
                        .n_steps = 1,
                        .steps = &step,
                        .out_schema = out,
                        .sink = &sink->base,
                        .batch_rows = 128};
    sl_job *job;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_job_new(&spec, &job, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_job_start(job, &err), SL_OK, "%s", err.msg);
    usleep(150000);
    cr_assert_eq(sl_job_state_get(job), SL_JOB_RUNNING);
    sl_job_metrics m;
    sl_job_metrics_get(job, &m, NULL, 0);
    cr_assert_gt(m.rows_read, 0, "metrics published while running");
    cr_assert_gt(m.start_ms, 0);
    sl_job_stop(job);
    cr_assert_eq(sl_job_wait(job, 10000, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_job_state_get(job), SL_JOB_CANCELED);
    int64_t n = atomic_load(&src.next);
    cr_assert_gt(n, 1000);
    /* every row read was processed and written: a graceful drain */
    cr_assert_eq(sink->sum_a, expected_sum(n, not_div3));
    cr_assert_not(src.ack_violation);
    cr_assert_eq(src.acked[(n - 1) % 2], (n - 1) / 2);
    sl_job_free(job);
    tsink_free(sink);
}

Test(job, backpressure_pauses_the_source)
{
    sqlite3 *db = open_db();
    const sl_schema *out = filter_out_schema();
    sl_stage *stage = filter_stage(db, out, "SELECT a, c, _row FROM {input}");
    tsrc src;
    tsrc_init(&src, -1, 1, 1000);
    tsink *sink = tsink_new(1);
    atomic_store(&sink->hold_acks, true);
    src.check = sink;
    sl_job_input input = {.source = &src.base, .schema = src_schema};
    sl_job_step step = {.kind = SL_STEP_STAGE, .stage = stage};
    sl_job_spec spec = {.db = db,
                        .n_inputs = 1,
                        .inputs = &input,
                        .n_steps = 1,
                        .steps = &step,
                        .out_schema = out,
                        .sink = &sink->base,
                        .batch_rows = 100,
                        .max_unacked_batches = 3};
    sl_job *job;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_job_new(&spec, &job, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_job_start(job, &err), SL_OK, "%s", err.msg);
    usleep(100000);
    /* blocked for less than PAUSE_AFTER_MS (250 ms): not paused yet, so a
     * short wait does not make a Kafka consumer drop its prefetch */
    cr_assert_not(atomic_load(&src.paused), "paused too early");
    usleep(300000);
    /* 3 unacked batches in the sink + T + the stage's input + R */
    int64_t read = atomic_load(&src.next);
    cr_assert_leq(read, 6 * 100, "read %lld rows", (long long)read);
    cr_assert_geq(read, 3 * 100);
    cr_assert(atomic_load(&src.paused), "source paused");
    cr_assert_eq(atomic_load(&src.read_while_paused), 0);
    cr_assert_eq(sink->last_seq, 3);
    cr_assert_eq(src.n_acks, 0, "nothing acked by the sink yet");
    usleep(100000);
    cr_assert_eq(atomic_load(&src.next), read, "still stalled");
    atomic_store(&sink->hold_acks, false); /* the sink catches up */
    usleep(100000);
    cr_assert_gt(atomic_load(&src.next), read);
    sl_job_stop(job);
    cr_assert_eq(sl_job_wait(job, 10000, &err), SL_OK, "%s", err.msg);
    cr_assert_leq(sink->max_unacked_seen, 3);
    cr_assert_not(src.ack_violation);
    sl_job_metrics m;
    sl_job_metrics_get(job, &m, NULL, 0);
    cr_assert_gt(m.paused_ms, 100);
    sl_job_free(job);
    tsink_free(sink);
}

Test(job, acks_never_pass_the_sink)
{
    sqlite3 *db = open_db();
    const sl_schema *out = filter_out_schema();
    sl_stage *stage = filter_stage(
        db, out, "SELECT a, c, _row FROM {input} WHERE a % 3 <> 0");
    tsrc src;
    tsrc_init(&src, 30000, 4, 37);
    tsink *sink = tsink_new(4);
    sink->ack_delay_ms = 3;
    src.check = sink;
    src.passes = not_div3;
    sl_job_input input = {.source = &src.base, .schema = src_schema};
    sl_job_step step = {.kind = SL_STEP_STAGE, .stage = stage};
    sl_job_spec spec = {.db = db,
                        .n_inputs = 1,
                        .inputs = &input,
                        .n_steps = 1,
                        .steps = &step,
                        .out_schema = out,
                        .sink = &sink->base,
                        .batch_rows = 64,
                        .linger_ms = 1,
                        .max_unacked_batches = 8};
    sl_job *job;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_job_new(&spec, &job, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_job_run(job, &err), SL_OK, "%s", err.msg);
    cr_assert_gt(src.n_acks, 10, "acks along the way (%d)", src.n_acks);
    cr_assert_not(src.ack_violation);
    for (int sp = 0; sp < 4; sp++)
        cr_assert_eq(src.acked[sp], 30000 / 4 - 1);
    cr_assert_eq(sink->sum_a, expected_sum(30000, not_div3));
    sl_job_free(job);
    tsink_free(sink);
}

Test(job, stage_error_fails_the_job)
{
    sqlite3 *db = open_db();
    const sl_schema *out = filter_out_schema();
    sl_stage_opts opts = {.name = "extract"};
    sl_stage *stage = NULL;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_stage_new_ex(db, src_schema, out,
                                 "SELECT a, json_extract(c, '$.x'), _row "
                                 "FROM {input}",
                                 &opts, &stage, &err),
                 SL_OK, "%s", err.msg);
    tsrc src;
    tsrc_init(&src, 5000, 2, 100);
    src.bad_at = 1501;
    tsink *sink = tsink_new(2);
    sl_job_input input = {.source = &src.base, .schema = src_schema};
    sl_job_step step = {.kind = SL_STEP_STAGE, .stage = stage};
    sl_job_spec spec = {.db = db,
                        .n_inputs = 1,
                        .inputs = &input,
                        .n_steps = 1,
                        .steps = &step,
                        .out_schema = out,
                        .sink = &sink->base};
    sl_job *job;
    cr_assert_eq(sl_job_new(&spec, &job, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_job_start(job, &err), SL_OK);
    int rc = sl_job_wait(job, 10000, &err);
    cr_assert_neq(rc, SL_OK);
    cr_assert_eq(sl_job_state_get(job), SL_JOB_FAILED);
    const char *msg = sl_job_error(job);
    cr_assert(strstr(msg, "stage 'extract'") != NULL, "%s", msg);
    cr_assert(strstr(msg, "malformed JSON") != NULL, "%s", msg);
    cr_assert(strstr(msg, "split 1 offset 750") != NULL, "%s", msg);
    cr_assert(strstr(err.msg, "malformed JSON") != NULL, "%s", err.msg);
    /* nothing past the failing row was acknowledged */
    cr_assert_lt(src.acked[1], 750);
    sl_job_free(job);
    tsink_free(sink);
}

typedef struct collect {
    const sl_schema *schema;
    int64_t rows;
    int64_t sum;
    int64_t stop_after;
    int calls;
} collect;

static int collect_rows(void *ctx, const sl_batch *batch,
                        const sl_schema *schema)
{
    collect *c = ctx;
    cr_assert_eq(schema, c->schema);
    c->calls++;
    for (int r = 0; r < batch->n_rows; r++) {
        c->sum += sl_batch_crow(batch, r)[0].u.i;
        cr_assert_eq(sl_batch_crow(batch, r)[2].kind, SL_V_TEXT);
    }
    c->rows += batch->n_rows;
    return c->stop_after && c->rows >= c->stop_after;
}

Test(job, union_all_operator_and_row_callback)
{
    sqlite3 *db = open_db();
    sl_err err;
    sl_err_clear(&err);
    sl_stage *shift;
    cr_assert_eq(sl_stage_new(db, src_schema, src_schema,
                              "SELECT a + 100000, b, c, d, _row "
                              "FROM {input}",
                              &shift, &err),
                 SL_OK, "%s", err.msg);
    sl_stage *even;
    cr_assert_eq(sl_stage_new(db, src_schema, src_schema,
                              "SELECT a, b, c, d, _row FROM {input} "
                              "WHERE a % 2 = 0",
                              &even, &err),
                 SL_OK, "%s", err.msg);
    sl_operator *op;
    cr_assert_eq(sl_identity_op_new(src_schema, 300, &op, &err), SL_OK);
    tsrc s1, s2;
    tsrc_init(&s1, 1000, 1, 70);
    tsrc_init(&s2, 1000, 2, 90);
    sl_job_input inputs[2] = {
        {.source = &s1.base,
         .schema = src_schema,
         .n_stages = 1,
         .stages = &shift,
         .name = "left"},
        {.source = &s2.base, .schema = src_schema, .name = "right"},
    };
    sl_job_step steps[2] = {
        {.kind = SL_STEP_OPERATOR, .op = op, .name = "pass"},
        {.kind = SL_STEP_STAGE, .stage = even},
    };
    collect c = {.schema = src_schema};
    sl_job_spec spec = {.db = db,
                        .n_inputs = 2,
                        .inputs = inputs,
                        .n_steps = 2,
                        .steps = steps,
                        .out_schema = src_schema,
                        .row_cb = collect_rows,
                        .row_ctx = &c,
                        .batch_rows = 100};
    sl_job *job;
    cr_assert_eq(sl_job_new(&spec, &job, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_job_run(job, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_job_state_get(job), SL_JOB_FINISHED);
    cr_assert_eq(c.rows, 1000);
    int64_t want = 0;
    for (int64_t i = 0; i < 1000; i += 2)
        want += i + (i + 100000);
    cr_assert_eq(c.sum, want);
    cr_assert_eq(s1.acked[0], 999);
    cr_assert_eq(s2.acked[0], 499);
    cr_assert_eq(s2.acked[1], 499);
    sl_step_metrics m[3];
    sl_job_metrics_get(job, NULL, m, 3);
    cr_assert_str_eq(m[0].name, "left: stage");
    cr_assert_str_eq(m[1].name, "pass");
    cr_assert_eq(m[1].rows_in, 2000);
    cr_assert_eq(m[1].rows_out, 2000);
    cr_assert_eq(m[2].rows_out, 1000);
    sl_job_free(job);
}

Test(job, row_callback_stops_the_job)
{
    sqlite3 *db = open_db();
    tsrc src;
    tsrc_init(&src, -1, 1, 100);
    collect c = {.schema = src_schema, .stop_after = 500};
    sl_job_input input = {.source = &src.base, .schema = src_schema};
    sl_job_spec spec = {.db = db,
                        .n_inputs = 1,
                        .inputs = &input,
                        .out_schema = src_schema,
                        .row_cb = collect_rows,
                        .row_ctx = &c,
                        .batch_rows = 100};
    sl_job *job;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_job_new(&spec, &job, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_job_run(job, &err), SL_ABORT, "%s", err.msg);
    cr_assert_eq(sl_job_state_get(job), SL_JOB_CANCELED);
    cr_assert_eq(c.rows, 500);
    sl_job_free(job);
}

Test(job, bad_spec_closes_what_it_was_given)
{
    sqlite3 *db = open_db();
    tsrc src;
    tsrc_init(&src, 10, 1, 10);
    sl_job_input input = {.source = &src.base, .schema = src_schema};
    /* neither a sink nor a row callback */
    sl_job_spec spec = {
        .db = db, .n_inputs = 1, .inputs = &input, .out_schema = src_schema};
    sl_job *job;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_job_new(&spec, &job, &err), SL_MISUSE);
    cr_assert(strstr(err.msg, "exactly one of a sink") != NULL);
    cr_assert(src.closed);
}

static sl_job *signal_job;

static void on_term(int sig)
{
    SL_UNUSED(sig);
    sl_job_request_stop_from_signal(signal_job);
}

static void *raise_later(void *arg)
{
    SL_UNUSED(arg);
    usleep(50000);
    kill(getpid(), SIGUSR2);
    return NULL;
}

Test(job, stop_from_signal_handler)
{
    sqlite3 *db = open_db();
    tsrc src;
    tsrc_init(&src, -1, 1, 10);
    src.idle_every = 2;
    tsink *sink = tsink_new(1);
    sl_job_input input = {.source = &src.base, .schema = src_schema};
    sl_job_spec spec = {.db = db,
                        .n_inputs = 1,
                        .inputs = &input,
                        .out_schema = src_schema,
                        .sink = &sink->base};
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_job_new(&spec, &signal_job, &err), SL_OK, "%s", err.msg);
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    pthread_t th;
    pthread_create(&th, NULL, raise_later, NULL);
    cr_assert_eq(sl_job_run(signal_job, &err), SL_OK, "%s", err.msg);
    pthread_join(th, NULL);
    signal(SIGUSR2, SIG_DFL);
    cr_assert_eq(sl_job_state_get(signal_job), SL_JOB_CANCELED);
    cr_assert_eq(sink->rows, atomic_load(&src.next));
    sl_job_free(signal_job);
    tsink_free(sink);
}

/* A source fed through a pipe: each byte written is one row; the pipe's
 * read end is the wait fd; closing the write end ends the input. */
typedef struct pipe_src {
    sl_source base;
    int fd;
    int64_t next;
} pipe_src;

static int pipe_read(sl_source *base, sl_batch *batch, sl_read_status *st,
                     sl_err *err)
{
    pipe_src *s = (pipe_src *)base;
    char buf[64];
    *st = SL_READ_IDLE;
    while (!sl_batch_is_full(batch)) {
        size_t room = (size_t)(batch->cap_rows - batch->n_rows);
        ssize_t n = read(s->fd, buf, SL_MIN(sizeof(buf), room));
        if (n == 0) {
            *st = SL_READ_EOF;
            break;
        }
        if (n < 0)
            break; /* EAGAIN: nothing now */
        for (ssize_t k = 0; k < n; k++) {
            int r = batch->n_rows;
            sl_value *row = sl_batch_append_row(batch);
            row[0] = sl_value_int(sl_mono_ns() / 1000);
            if (sl_batch_set_text(batch, &row[2], "p", 1))
                return sl_err_set(err, SL_NOMEM, "oom");
            batch->pos[r] = (sl_srcpos){0, s->next++};
        }
    }
    return SL_OK;
}

static void pipe_hint(sl_source *base, int *fd, int64_t *wakeup_ms)
{
    *fd = ((pipe_src *)base)->fd;
    *wakeup_ms = -1;
}

static const sl_source_ops pipe_ops = {.read = pipe_read,
                                       .wait_hint = pipe_hint};

typedef struct latency {
    _Atomic int64_t rows;
    _Atomic int64_t max_delay_us;
} latency;

static int latency_rows(void *ctx, const sl_batch *batch,
                        const sl_schema *schema)
{
    SL_UNUSED(schema);
    latency *l = ctx;
    int64_t now = sl_mono_ns() / 1000;
    for (int r = 0; r < batch->n_rows; r++) {
        int64_t d = now - sl_batch_crow(batch, r)[0].u.i;
        if (d > atomic_load(&l->max_delay_us))
            atomic_store(&l->max_delay_us, d);
    }
    atomic_fetch_add(&l->rows, batch->n_rows);
    return 0;
}

Test(job, fd_source_low_rate_rows_arrive_after_linger)
{
    sqlite3 *db = open_db();
    sl_stage *stage;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_stage_new(db, src_schema, src_schema,
                              "SELECT a, b, c, d, _row FROM {input}", &stage,
                              &err),
                 SL_OK, "%s", err.msg);
    int p[2];
    cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
    pipe_src src = {.base = {.ops = &pipe_ops}, .fd = p[0]};
    latency lat = {0};
    sl_job_input input = {.source = &src.base, .schema = src_schema};
    sl_job_step step = {.kind = SL_STEP_STAGE, .stage = stage};
    sl_job_spec spec = {.db = db,
                        .n_inputs = 1,
                        .inputs = &input,
                        .n_steps = 1,
                        .steps = &step,
                        .out_schema = src_schema,
                        .row_cb = latency_rows,
                        .row_ctx = &lat};
    sl_job *job;
    cr_assert_eq(sl_job_new(&spec, &job, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_job_start(job, &err), SL_OK);
    cr_assert_eq(sl_job_wait(job, 50, &err), SL_TIMEOUT);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(write(p[1], "x", 1), 1);
        usleep(30000);
        /* one row per 30 ms: each left after the linger, not a batch */
        cr_assert_eq(atomic_load(&lat.rows), i + 1, "row %d", i);
    }
    close(p[1]); /* end of input */
    sl_err_clear(&err);
    cr_assert_eq(sl_job_wait(job, 10000, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(sl_job_state_get(job), SL_JOB_FINISHED);
    cr_assert_lt(atomic_load(&lat.max_delay_us), 1000000);
    sl_job_free(job);
    close(p[0]);
}
