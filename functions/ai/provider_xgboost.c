/*
 * provider_xgboost.c: in-process XGBoost models through Debian's libxgboost
 * (package libxgboost0 / libxgboost-dev), loaded with dlopen so the engine
 * builds and runs without it and only this provider needs it.
 *
 * 'path' names a model file (JSON or binary, as saved by xgboost). INPUT
 * columns are the features in order (numeric or BOOLEAN; NULL is
 * "missing"). A batch of rows becomes one dense float matrix and one
 * XGBoosterPredict call. OUTPUT is one numeric column (the first value
 * per row), one ARRAY column (all values, e.g. class probabilities), or k
 * numeric columns (value j into column j).
 */
#include <dlfcn.h>
#include <math.h>
#include <string.h>

#include "model_int.h"

typedef uint64_t xgb_ulong;
typedef void *xgb_handle;

static const sl_option_def xgb_defs[] = {
    {"path", "string", NULL, "Model file saved by xgboost (JSON or binary)."},
    {"library", "string", "libxgboost.so.0", "Shared library to load."},
    {"max-batch-size", "int", "4096", "Largest 'batch-size' accepted."},
    {NULL, NULL, NULL, NULL},
};

typedef struct xgb {
    const sl_model_ctx *ctx;
    void *lib;
    xgb_handle booster;
    int64_t max_batch;
    const char *(*last_error)(void);
    int (*dmat_from_mat)(const float *, xgb_ulong, xgb_ulong, float,
                         xgb_handle *);
    int (*dmat_free)(xgb_handle);
    int (*booster_create)(const xgb_handle *, xgb_ulong, xgb_handle *);
    int (*booster_free)(xgb_handle);
    int (*booster_load)(xgb_handle, const char *);
    int (*booster_predict)(xgb_handle, xgb_handle, int, unsigned, int,
                           xgb_ulong *, const float **);
    int (*booster_set_param)(xgb_handle, const char *, const char *);
} xgb;

static void xgb_close(void *state)
{
    xgb *p = state;
    if (!p)
        return;
    if (p->booster && p->booster_free)
        p->booster_free(p->booster);
    if (p->lib)
        dlclose(p->lib);
    sl_free(p);
}

static void *sym(xgb *p, const char *name, int *missing)
{
    void *f = dlsym(p->lib, name);
    if (!f)
        (*missing)++;
    return f;
}

static int xgb_open(const sl_model_ctx *ctx, sl_options *o, void **state,
                    sl_err *err)
{
    xgb *p = sl_calloc(1, sizeof(*p));
    if (!p)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    *state = p;
    p->ctx = ctx;
    char what[300];
    sl_snprintf(what, sizeof(what), "model '%s' (provider 'xgboost')",
                ctx->name);
    const char *path, *lib;
    int rc = sl_options_required(o, "path", what, &path, err);
    if (!rc)
        rc = sl_options_string(o, "library", "libxgboost.so.0", &lib, err);
    if (!rc)
        rc = sl_options_int(o, "max-batch-size", 4096, 1, 1 << 20,
                            &p->max_batch, err);
    if (rc)
        return rc;
    for (int i = 0; i < ctx->input->n_cols; i++) {
        const sl_type *t = ctx->input->cols[i].type;
        if (!sl_type_is_numeric(t) && t->id != SL_TYPE_BOOLEAN)
            return sl_err_set(err, SL_SQL,
                              "xgboost model '%s': INPUT column '%s' must be "
                              "numeric, not %s",
                              ctx->name, ctx->input->cols[i].name,
                              sl_type_id_name(t->id));
    }
    for (int i = 0; i < ctx->output->n_cols; i++) {
        const sl_type *t = ctx->output->cols[i].type;
        bool arr = t->id == SL_TYPE_ARRAY && ctx->output->n_cols == 1;
        if (!sl_type_is_numeric(t) && !arr)
            return sl_err_set(err, SL_SQL,
                              "xgboost model '%s': OUTPUT column '%s' must be "
                              "numeric (or the only column, an ARRAY)",
                              ctx->name, ctx->output->cols[i].name);
    }
    p->lib = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!p->lib && !strcmp(lib, "libxgboost.so.0"))
        p->lib = dlopen("libxgboost.so", RTLD_NOW | RTLD_LOCAL);
    if (!p->lib)
        return sl_err_set(err, SL_UNSUPPORTED,
                          "xgboost model '%s': cannot load %s (install "
                          "Debian's libxgboost0)",
                          ctx->name, lib);
    int missing = 0;
    *(void **)&p->last_error = sym(p, "XGBGetLastError", &missing);
    *(void **)&p->dmat_from_mat = sym(p, "XGDMatrixCreateFromMat", &missing);
    *(void **)&p->dmat_free = sym(p, "XGDMatrixFree", &missing);
    *(void **)&p->booster_create = sym(p, "XGBoosterCreate", &missing);
    *(void **)&p->booster_free = sym(p, "XGBoosterFree", &missing);
    *(void **)&p->booster_load = sym(p, "XGBoosterLoadModel", &missing);
    *(void **)&p->booster_predict = sym(p, "XGBoosterPredict", &missing);
    *(void **)&p->booster_set_param = sym(p, "XGBoosterSetParam", &missing);
    if (missing)
        return sl_err_set(err, SL_UNSUPPORTED,
                          "xgboost model '%s': %s lacks the C API", ctx->name,
                          lib);
    if (p->booster_create(NULL, 0, &p->booster)) {
        p->booster = NULL;
        return sl_err_set(err, SL_RUNTIME, "xgboost: %s", p->last_error());
    }
    p->booster_set_param(p->booster, "nthread", "1");
    if (p->booster_load(p->booster, path))
        return sl_err_set(err, SL_IO,
                          "xgboost model '%s': cannot load '%s': %.300s",
                          ctx->name, path, p->last_error());
    return SL_OK;
}

static int xgb_batch(void *state, int *dflt, int *max)
{
    xgb *p = state;
    *dflt = 256 < p->max_batch ? 256 : (int)p->max_batch;
    *max = (int)p->max_batch;
    return SL_OK;
}

static const char *xgb_url(void *state)
{
    SL_UNUSED(state);
    return "xgboost:local";
}

static int xgb_predict(void *state, sl_model_row *rows, int n, sl_err *err)
{
    xgb *p = state;
    int nf = p->ctx->input->n_cols;
    float *mat = sl_malloc(sizeof(float) * (size_t)n * (size_t)nf);
    if (!mat)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    for (int r = 0; r < n; r++) {
        for (int f = 0; f < nf; f++) {
            const sl_value *v = &rows[r].in[f];
            float x = NAN;
            if (v->kind == SL_V_INT)
                x = (float)v->u.i;
            else if (v->kind == SL_V_REAL)
                x = (float)v->u.d;
            mat[(size_t)r * (size_t)nf + (size_t)f] = x;
        }
    }
    xgb_handle dm = NULL;
    if (p->dmat_from_mat(mat, (xgb_ulong)n, (xgb_ulong)nf, NAN, &dm)) {
        sl_free(mat);
        return sl_err_set(err, SL_RUNTIME, "xgboost: %.300s", p->last_error());
    }
    xgb_ulong len = 0;
    const float *res = NULL;
    int rc = p->booster_predict(p->booster, dm, 0, 0, 0, &len, &res);
    sl_free(mat);
    if (rc) {
        p->dmat_free(dm);
        return sl_err_set(err, SL_RUNTIME, "xgboost: %.300s", p->last_error());
    }
    size_t k = n ? (size_t)len / (size_t)n : 0;
    const sl_schema *out = p->ctx->output;
    if (k == 0 || k * (size_t)n != (size_t)len) {
        p->dmat_free(dm);
        return sl_err_set(err, SL_RUNTIME,
                          "xgboost returned %llu values for %d rows",
                          (unsigned long long)len, n);
    }
    for (int r = 0; r < n; r++) {
        const float *pr = res + (size_t)r * k;
        if (out->cols[0].type->id == SL_TYPE_ARRAY) {
            sl_buf b;
            sl_buf_init(&b, 0);
            sl_buf_putc(&b, '[');
            for (size_t j = 0; j < k; j++)
                sl_buf_printf(&b, "%s%.9g", j ? "," : "", (double)pr[j]);
            sl_buf_putc(&b, ']');
            char *d = sl_arena_strndup(rows[r].arena, sl_buf_cstr(&b), b.len);
            rows[r].out[0].kind = SL_V_TEXT;
            rows[r].out[0].u.s = d;
            rows[r].out[0].len = (uint32_t)b.len;
            sl_buf_free(&b);
            if (!d)
                rows[r].out[0] = sl_value_null();
            continue;
        }
        for (int c = 0; c < out->n_cols; c++) {
            if ((size_t)c >= k) {
                rows[r].err_code = SL_RUNTIME;
                sl_snprintf(rows[r].err, sizeof(rows[r].err),
                            "model gives %zu values per row, OUTPUT has %d "
                            "columns",
                            k, out->n_cols);
                break;
            }
            rows[r].out[c] = sl_type_is_integer(out->cols[c].type)
                                 ? sl_value_int((int64_t)llround(pr[c]))
                                 : sl_value_real((double)pr[c]);
        }
    }
    p->dmat_free(dm);
    return SL_OK;
}

const sl_model_provider sl_model_provider_xgboost = {
    .version = SL_MODEL_PROVIDER_VERSION,
    .name = "xgboost",
    .doc = "XGBoost models predicted in process through libxgboost (loaded "
           "at run time); rows are batched into one dense matrix.",
    .options = xgb_defs,
    .is_local = true,
    .open = xgb_open,
    .close = xgb_close,
    .batch_limits = xgb_batch,
    .url = xgb_url,
    .build = NULL,
    .parse = NULL,
    .predict = xgb_predict,
};
