/*
 * op_harness.c: see op_harness.h. Operator tests' shared driving and
 * formatting code; every failure is a Criterion assertion.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "op_harness.h"

void sl_test_op_rows(const sl_batch *b, bool with_etime, sl_test_lines *out)
{
    for (int r = 0; r < b->n_rows; r++) {
        char line[512];
        int len = with_etime
                      ? snprintf(line, sizeof(line), "%d@%lld", b->kinds[r],
                                 (long long)b->event_time[r])
                      : snprintf(line, sizeof(line), "%d", b->kinds[r]);
        const sl_value *row = sl_batch_crow(b, r);
        for (int c = 0; c < b->n_cols; c++) {
            const sl_value *v = &row[c];
            if (v->kind == SL_V_INT)
                len += snprintf(line + len, sizeof(line) - (size_t)len, ",%lld",
                                (long long)v->u.i);
            else if (v->kind == SL_V_REAL)
                len += snprintf(line + len, sizeof(line) - (size_t)len, ",%.9g",
                                v->u.d);
            else if (v->kind == SL_V_TEXT)
                len += snprintf(line + len, sizeof(line) - (size_t)len, ",%s",
                                v->u.s);
            else
                len += snprintf(line + len, sizeof(line) - (size_t)len, ",-");
            cr_assert(len < (int)sizeof(line));
        }
        sl_test_lines_add(out, line);
    }
}

/* Pull until the status is not READY (want_drained: until DRAINED). */
static void pull_until(sl_operator *op, sl_batch *ob, bool with_etime,
                       sl_test_lines *out, bool want_drained)
{
    sl_err err;
    sl_err_clear(&err);
    for (int guard = 0; guard < 100000; guard++) {
        sl_batch_clear(ob);
        sl_op_status st = SL_OP_IDLE;
        cr_assert_eq(op->ops->pull(op, ob, &st, &err), SL_OK, "%s", err.msg);
        sl_test_op_rows(ob, with_etime, out);
        if (want_drained ? st == SL_OP_DRAINED : st != SL_OP_READY)
            return;
    }
    if (want_drained)
        cr_assert_fail("operator never drained");
    cr_assert_fail("operator never idle");
}

void sl_test_op_pull_all(sl_operator *op, sl_batch *ob, bool with_etime,
                         sl_test_lines *out)
{
    pull_until(op, ob, with_etime, out, false);
}

void sl_test_op_push(sl_operator *op, const sl_batch *b, sl_batch *ob,
                     bool with_etime, sl_test_lines *out)
{
    sl_err err;
    sl_err_clear(&err);
    bool acc = false;
    for (int tries = 0; !acc; tries++) {
        cr_assert(tries < 3, "push refused after pulls");
        cr_assert_eq(op->ops->push(op, b, &acc, &err), SL_OK, "%s", err.msg);
        if (!acc)
            sl_test_op_pull_all(op, ob, with_etime, out);
    }
    sl_test_op_pull_all(op, ob, with_etime, out);
}

void sl_test_op_finish(sl_operator *op, sl_batch *ob, bool with_etime,
                       sl_test_lines *out)
{
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(op->ops->finish(op, &err), SL_OK);
    pull_until(op, ob, with_etime, out, true);
}

int64_t sl_test_op_checkpoint(sl_operator *op, sqlite3 *state)
{
    sl_err err;
    sl_err_clear(&err);
    int before = sqlite3_total_changes(state);
    cr_assert_eq(sqlite3_exec(state, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(op->ops->snapshot(op, state, "op0_", &err), SL_OK, "%s",
                 err.msg);
    cr_assert_eq(sqlite3_exec(state, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    return sqlite3_total_changes(state) - before;
}

void sl_test_op_restore(sl_operator *op, sqlite3 *state)
{
    sl_err err;
    sl_err_clear(&err);
    cr_assert_eq(op->ops->restore(op, state, "op0_", &err), SL_OK, "%s",
                 err.msg);
}

void sl_test_op_same_rows(const sl_test_lines *got, const sl_test_lines *ref)
{
    cr_assert_eq(got->n, ref->n, "restored run: %d rows, reference %d", got->n,
                 ref->n);
    for (int i = 0; i < ref->n; i++)
        cr_assert_str_eq(got->v[i], ref->v[i], "row %d", i);
}

int64_t sl_test_count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s",
                 sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}
