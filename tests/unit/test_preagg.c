/*
 * test_preagg.c: batch-local pre-aggregation of the window aggregate
 * operator (runtime/preagg.c, used by op_window.c's push).
 *
 * The reference is the same operator fed one row per batch: then every
 * partial holds one row and SQLite's upsert combines them in arrival
 * order, exactly as the row-by-row upserts did before folding. The same
 * rows in batches of 97 must give the same window results for values
 * where folding can differ in the details: INT sums that overflow into
 * REAL, REAL sums (exact halves), INT and REAL mixed in one group, NULLs,
 * MIN/MAX over TEXT (SQLite's BINARY order, numbers before TEXT), and a
 * COUNT(DISTINCT) beside the folded aggregates. A batch whose SUM
 * argument holds TEXT takes the row-by-row path; the results agree too.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "op_window.h"

#define N_ROWS 3000

static uint64_t rng_state;
static uint64_t rnd(void)
{
    return sl_test_xorshift(&rng_state);
}

typedef struct rig {
    sl_arena a;
    const sl_schema *in, *out;
    sl_agg_def aggs[7];
    sl_window_op_def def;
    sl_batch *rows; /* all input rows, in order */
} rig;

/* v: one value of the group's kind (k selects it) */
static void put_v(sl_batch *bt, sl_value *v, int k, bool text_mode)
{
    uint64_t x = rnd();
    if (x % 11 == 0) {
        *v = sl_value_null();
        return;
    }
    if (text_mode) {
        /* TEXT of varied lengths, some numbers: numbers sort first */
        if (x % 5 == 0) {
            *v = sl_value_int((int64_t)(x % 1000));
            return;
        }
        char s[16];
        int n = snprintf(s, sizeof(s), "%c%.*s", 'a' + (int)(x % 26),
                         (int)((x >> 8) % 4), "zzzz");
        cr_assert_eq(sl_batch_set_text(bt, v, s, (size_t)n), SL_OK);
        return;
    }
    switch (k) {
    case 0: /* INT sums that overflow: multiples of 10^18 */
        *v = sl_value_int((int64_t)(1 + x % 4) * 1000000000000000000ll);
        break;
    case 1: /* REAL, exact halves */
        *v = sl_value_real((double)(int64_t)(x % 200 - 100) / 2.0);
        break;
    case 2: /* INT and REAL mixed, exact */
        *v = x % 2 ? sl_value_int((int64_t)(x % 50))
                   : sl_value_real((double)(x % 50) + 0.25);
        break;
    default: /* small INT */
        *v = sl_value_int((int64_t)(x % 100) - 20);
        break;
    }
}

static void rig_init(rig *r, bool text_mode, bool text_in_sum)
{
    memset(r, 0, sizeof(*r));
    sl_arena_init(&r->a, 4096, 0);
    const sl_type *big = sl_type_simple(SL_TYPE_BIGINT);
    const sl_type *txt = sl_type_simple(SL_TYPE_VARCHAR);
    const sl_type *dbl = sl_type_simple(SL_TYPE_DOUBLE);
    const char *in_names[] = {"ws", "we", "k", "v"};
    const sl_type *in_types[] = {big, big, txt, dbl};
    r->in = sl_schema_new(&r->a, 4, in_names, in_types);
    const char *out_names[] = {"ws", "we", "k",  "n",  "c",
                               "s",  "lo", "hi", "av", "nd"};
    const sl_type *out_types[] = {big, big, txt, big, big,
                                  dbl, dbl, dbl, dbl, big};
    /* text mode: COUNT(*), COUNT(v), MIN(v), MAX(v), COUNT(DISTINCT v) */
    sl_agg_kind kinds[] = {SL_AGG_COUNT_STAR,    SL_AGG_COUNT, SL_AGG_SUM,
                           SL_AGG_MIN,           SL_AGG_MAX,   SL_AGG_AVG,
                           SL_AGG_COUNT_DISTINCT};
    sl_agg_kind tkinds[] = {SL_AGG_COUNT_STAR, SL_AGG_COUNT, SL_AGG_MIN,
                            SL_AGG_MAX, SL_AGG_COUNT_DISTINCT};
    int na = text_mode ? 5 : 7;
    for (int i = 0; i < na; i++) {
        r->aggs[i].kind = text_mode ? tkinds[i] : kinds[i];
        r->aggs[i].arg = i == 0 ? -1 : 3;
    }
    r->out = sl_schema_new(&r->a, 3 + na, out_names, out_types);
    cr_assert(r->in && r->out);
    r->def.ws_col = 0;
    r->def.we_col = 1;
    r->def.n_keys = 3;
    r->def.n_aggs = na;
    r->def.aggs = r->aggs;
    rng_state = 0x2545F4914F6CDD1Dull;
    r->rows = sl_batch_new(r->in, N_ROWS);
    cr_assert(r->rows);
    for (int i = 0; i < N_ROWS; i++) {
        sl_value *row = sl_batch_append_row(r->rows);
        cr_assert(row);
        int64_t ws = (int64_t)(i / 500) * 1000; /* six windows */
        int k = (int)(rnd() % 5);
        row[0] = sl_value_int(ws);
        row[1] = sl_value_int(ws + 1000);
        char key[8];
        int n = snprintf(key, sizeof(key), "g%d", k);
        cr_assert_eq(sl_batch_set_text(r->rows, &row[2], key, (size_t)n),
                     SL_OK);
        put_v(r->rows, &row[3], k, text_mode);
        if (text_in_sum && i % 701 == 0)
            cr_assert_eq(sl_batch_set_text(r->rows, &row[3], "7", 1), SL_OK);
        r->rows->kinds[i] = SLUICE_ROW_INSERT;
        r->rows->event_time[i] = ws;
    }
}

static void format_rows(const sl_batch *b, sl_test_lines *out)
{
    for (int r = 0; r < b->n_rows; r++) {
        char line[512];
        int len = 0;
        const sl_value *row = sl_batch_crow(b, r);
        for (int c = 0; c < b->n_cols; c++) {
            const sl_value *v = &row[c];
            size_t room = sizeof(line) - (size_t)len;
            if (v->kind == SL_V_INT)
                len += snprintf(line + len, room, "i%lld,", (long long)v->u.i);
            else if (v->kind == SL_V_REAL)
                len += snprintf(line + len, room, "r%.17g,", v->u.d);
            else if (v->kind == SL_V_TEXT)
                len += snprintf(line + len, room, "t%s,", v->u.s);
            else
                len += snprintf(line + len, room, "-,");
            cr_assert(len < (int)sizeof(line));
        }
        sl_test_lines_add(out, line);
    }
}

/* Feed the rows in batches of per_batch, then finish and collect. */
static void run(rig *r, int per_batch, sl_test_lines *out)
{
    sl_operator *op = NULL;
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(sl_window_op_new(r->in, r->out, &r->def, &op, &err), SL_OK,
                 "%s", err.msg);
    sl_batch *in = sl_batch_new(r->in, per_batch);
    sl_batch *ob = sl_batch_new(r->out, 256);
    cr_assert(in && ob);
    for (int i = 0; i < N_ROWS; i += per_batch) {
        sl_batch_clear(in);
        for (int j = i; j < i + per_batch && j < N_ROWS; j++) {
            sl_value *row = sl_batch_append_row(in);
            memcpy(row, sl_batch_crow(r->rows, j), 4 * sizeof(sl_value));
            in->kinds[in->n_rows - 1] = SLUICE_ROW_INSERT;
            in->event_time[in->n_rows - 1] = r->rows->event_time[j];
        }
        bool acc = false;
        cr_assert_eq(op->ops->push(op, in, &acc, &err), SL_OK, "%s", err.msg);
        cr_assert(acc, "push refused");
    }
    cr_assert_eq(op->ops->finish(op, &err), SL_OK);
    for (int guard = 0;; guard++) {
        cr_assert(guard < 10000, "operator never drained");
        sl_batch_clear(ob);
        sl_op_status st = SL_OP_IDLE;
        cr_assert_eq(op->ops->pull(op, ob, &st, &err), SL_OK, "%s", err.msg);
        format_rows(ob, out);
        if (st == SL_OP_DRAINED)
            break;
    }
    op->ops->close(op);
    sl_batch_free(in);
    sl_batch_free(ob);
    sl_test_lines_sort(out);
}

static void check(bool text_mode, bool text_in_sum)
{
    rig r;
    rig_init(&r, text_mode, text_in_sum);
    sl_test_lines one = {0}, many = {0};
    run(&r, 1, &one);
    run(&r, 97, &many);
    cr_assert_eq(one.n, 30, "6 windows x 5 groups, got %d", one.n);
    cr_assert_eq(many.n, one.n);
    for (int i = 0; i < one.n; i++)
        cr_assert_str_eq(many.v[i], one.v[i], "row %d", i);
    if (!text_mode) {
        /* the overflowing group became REAL, the others kept their kind */
        bool real_sum = false;
        for (int i = 0; i < one.n; i++) {
            const char *f = one.v[i]; /* field 5: SUM */
            for (int c = 0; c < 5 && f; c++)
                f = strchr(f, ',') ? strchr(f, ',') + 1 : NULL;
            if (strstr(one.v[i], "tg0,") && f && *f == 'r')
                real_sum = true;
        }
        cr_assert(real_sum || text_in_sum, "no INT sum overflowed");
    }
    sl_test_lines_free(&one);
    sl_test_lines_free(&many);
    sl_batch_free(r.rows);
    sl_arena_free(&r.a);
}

Test(preagg, folded_batches_equal_row_by_row)
{
    check(false, false);
}

Test(preagg, text_min_max_equal_row_by_row)
{
    check(true, false);
}

Test(preagg, text_in_sum_takes_row_path)
{
    check(false, true);
}
