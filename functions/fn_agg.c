/*
 * fn_agg.c: aggregate functions SQLite does not have, registered on a
 * connection by sl_fn_aggregates_register(): on every stage connection
 * (sl_functions_register calls it, for bounded queries run by SQLite
 * alone) and on the window aggregate operator's state database
 * (runtime/op_window.c), whose emission query applies them to the values
 * the operator buffered for a window or group.
 *
 * sl_percentile(x, percentage [, frequency]) is Flink's PERCENTILE: the
 * exact percentile of a continuous distribution, interpolated linearly
 * between the two nearest values; NULL values (and rows with a NULL or 0
 * frequency) are ignored; a negative frequency is an error. percentage is
 * a number in [0, 1], or TEXT holding a JSON array of such numbers (an
 * ARRAY literal), which gives a JSON array of DOUBLE. The values of one
 * group are held in memory while the group is finished: at most
 * SL_PERCENTILE_MAX_VALUES of them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fn_int.h"

#define SL_PERCENTILE_MAX_VALUES (64 * 1024 * 1024)
#define MAX_PERCENTAGES          100

typedef struct pct_item {
    double v;
    int64_t f;
} pct_item;

typedef struct pct_ctx {
    pct_item *items;
    int64_t n, cap;
    bool failed;
} pct_ctx;

static int cmp_item(const void *a, const void *b)
{
    double x = ((const pct_item *)a)->v, y = ((const pct_item *)b)->v;
    return (x > y) - (x < y);
}

/* The value at 0-based position k of the sorted values, each repeated by
 * its frequency (cum[i]: positions before item i+1). */
static double value_at(const pct_ctx *p, const int64_t *cum, int64_t k)
{
    int64_t lo = 0, hi = p->n - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (cum[mid] > k)
            hi = mid;
        else
            lo = mid + 1;
    }
    return p->items[lo].v;
}

static double percentile_of(const pct_ctx *p, const int64_t *cum, double pct)
{
    int64_t total = cum[p->n - 1];
    double pos = pct * (double)(total - 1);
    int64_t lo = (int64_t)floor(pos), hi = (int64_t)ceil(pos);
    double a = value_at(p, cum, lo);
    if (hi == lo)
        return a;
    double b = value_at(p, cum, hi);
    return a + (pos - (double)lo) * (b - a);
}

/* Parse the percentage(s): a number, or a JSON array of numbers. */
static int read_percentages(sqlite3_value *v, double *out, int *n,
                            bool *is_array)
{
    *n = 0;
    *is_array = false;
    int t = sqlite3_value_type(v);
    if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) {
        out[(*n)++] = sqlite3_value_double(v);
        return SL_OK;
    }
    if (t != SQLITE_TEXT)
        return SL_ERROR;
    const char *s = (const char *)sqlite3_value_text(v);
    while (*s == ' ')
        s++;
    if (*s != '[') {
        double d = 0;
        if (sl_parse_double(s, strlen(s), &d))
            return SL_ERROR;
        out[(*n)++] = d;
        return SL_OK;
    }
    *is_array = true;
    s++;
    for (;;) {
        while (*s == ' ')
            s++;
        if (*s == ']' && *n == 0)
            return SL_OK;
        const char *e = s;
        while (*e && *e != ',' && *e != ']')
            e++;
        size_t len = (size_t)(e - s);
        while (len && s[len - 1] == ' ')
            len--;
        double d = 0;
        if (!*e || *n >= MAX_PERCENTAGES || sl_parse_double(s, len, &d))
            return SL_ERROR;
        out[(*n)++] = d;
        if (*e == ']')
            return SL_OK;
        s = e + 1;
    }
}

/* SQLite hands the percentage to xStep with every row; the first one is
 * kept in the context (it is a literal: the planner checks that). */
typedef struct pct_call {
    pct_ctx c;
    double pcts[MAX_PERCENTAGES];
    int n_pcts;
    bool is_array, have_pct, bad_pct;
} pct_call;

/* One row: its value (and frequency) into the group's list. */
static void add_value(sqlite3_context *ctx, pct_ctx *p, int argc,
                      sqlite3_value **argv)
{
    int t = sqlite3_value_numeric_type(argv[0]);
    if (t == SQLITE_NULL)
        return;
    if (t != SQLITE_INTEGER && t != SQLITE_FLOAT) {
        p->failed = true;
        return sl_fn_error(ctx, "PERCENTILE: value '%s' is not a number",
                           (const char *)sqlite3_value_text(argv[0]));
    }
    int64_t f = 1;
    if (argc > 2) {
        if (sqlite3_value_type(argv[2]) == SQLITE_NULL)
            return;
        f = sqlite3_value_int64(argv[2]);
        if (f < 0) {
            p->failed = true;
            return sl_fn_error(ctx,
                               "PERCENTILE: frequency must not be negative, "
                               "got %lld",
                               (long long)f);
        }
        if (f == 0)
            return;
    }
    if (p->n == p->cap) {
        if (p->cap >= SL_PERCENTILE_MAX_VALUES) {
            p->failed = true;
            return sl_fn_error(ctx,
                               "PERCENTILE: more than %d values in one group",
                               SL_PERCENTILE_MAX_VALUES);
        }
        int64_t cap = p->cap ? p->cap * 2 : 64;
        pct_item *it = sl_realloc(p->items, (size_t)cap * sizeof(*it));
        if (!it) {
            p->failed = true;
            return sqlite3_result_error_nomem(ctx);
        }
        p->items = it;
        p->cap = cap;
    }
    p->items[p->n].v = sqlite3_value_double(argv[0]);
    p->items[p->n].f = f;
    p->n++;
}

static void call_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    pct_call *k = sqlite3_aggregate_context(ctx, sizeof(*k));
    if (!k)
        return sqlite3_result_error_nomem(ctx);
    if (!k->have_pct) {
        k->have_pct = true;
        k->bad_pct = read_percentages(argv[1], k->pcts, &k->n_pcts,
                                      &k->is_array) != SL_OK;
        for (int i = 0; i < k->n_pcts && !k->bad_pct; i++)
            if (!(k->pcts[i] >= 0.0 && k->pcts[i] <= 1.0))
                k->bad_pct = true;
        if (k->bad_pct) {
            k->c.failed = true;
            return sl_fn_error(ctx,
                               "PERCENTILE: the percentage must be a number "
                               "between 0 and 1, or an ARRAY of such "
                               "numbers");
        }
    }
    if (k->c.failed)
        return;
    add_value(ctx, &k->c, argc, argv);
}

static void call_final(sqlite3_context *ctx)
{
    pct_call *k = sqlite3_aggregate_context(ctx, 0);
    if (!k) { /* no rows */
        sqlite3_result_null(ctx);
        return;
    }
    pct_ctx *p = &k->c;
    if (p->failed) {
        sl_free(p->items);
        return;
    }
    if (p->n == 0) {
        sl_free(p->items);
        sqlite3_result_null(ctx);
        return;
    }
    int64_t *cum = sl_malloc((size_t)p->n * sizeof(*cum));
    if (!cum) {
        sl_free(p->items);
        return sqlite3_result_error_nomem(ctx);
    }
    qsort(p->items, (size_t)p->n, sizeof(*p->items), cmp_item);
    int64_t run = 0;
    for (int64_t i = 0; i < p->n; i++) {
        if (__builtin_add_overflow(run, p->items[i].f, &run)) {
            sl_free(cum);
            sl_free(p->items);
            return sl_fn_error(ctx, "PERCENTILE: frequencies add up to more "
                                    "than 2^63");
        }
        cum[i] = run;
    }
    if (!k->is_array) {
        sqlite3_result_double(ctx, percentile_of(p, cum, k->pcts[0]));
    } else {
        sl_buf b;
        sl_buf_init(&b, SL_FN_MAX_RESULT);
        sl_buf_putc(&b, '[');
        const sl_type *dbl = sl_type_simple(SL_TYPE_DOUBLE);
        for (int i = 0; i < k->n_pcts; i++) {
            if (i)
                sl_buf_putc(&b, ',');
            sl_value v = sl_value_real(percentile_of(p, cum, k->pcts[i]));
            sl_value_format(dbl, &v, &b, "null");
        }
        sl_buf_putc(&b, ']');
        sl_fn_result_buf(ctx, &b);
        sl_buf_free(&b);
    }
    sl_free(cum);
    sl_free(p->items);
}

int sl_fn_aggregates_register(sqlite3 *db, sl_err *err)
{
    for (int n = 2; n <= 3; n++) {
        int rc = sqlite3_create_function_v2(
            db, "sl_percentile", n,
            SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL, NULL,
            call_step, call_final, NULL);
        if (rc != SQLITE_OK)
            return sl_err_set(err, rc == SQLITE_NOMEM ? SL_NOMEM : SL_ERROR,
                              "registering aggregate sl_percentile: %s",
                              sqlite3_errmsg(db));
    }
    return SL_OK;
}
