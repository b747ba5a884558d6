/*
 * test_ai_xgboost.c: the in-process XGBoost provider. Predictions of the
 * committed model (tests/data/xgb_model.json, trained by
 * scripts/train_xgboost.py) must match xgboost's own predictions
 * (tests/data/xgb_expected.json) within 1e-6, batched; when Debian's
 * python3-xgboost is installed the script is also run afresh and its output
 * checked the same way.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "ai/model.h"
#include "harness.h"

static void check_model(const char *dir, const char *batch)
{
    char mpath[1024], epath[1024];
    sl_snprintf(mpath, sizeof(mpath), "%s/xgb_model.json", dir);
    sl_snprintf(epath, sizeof(epath), "%s/xgb_expected.json", dir);
    json_error_t jerr;
    json_t *exp = json_load_file(epath, 0, &jerr);
    cr_assert_not_null(exp, "%s: %s", epath, jerr.text);
    json_t *rows = json_object_get(exp, "rows");
    json_t *preds = json_object_get(exp, "predictions");
    size_t n = json_array_size(rows);
    cr_assert(n > 10 && n == json_array_size(preds));

    sl_arena arena;
    sl_arena_init(&arena, 4096, 0);
    const char *in_names[] = {"f0", "f1", "f2", "f3"};
    const sl_type *in_types[4];
    for (int i = 0; i < 4; i++)
        in_types[i] = sl_type_simple(SL_TYPE_DOUBLE);
    const char *out_names[] = {"p"};
    const sl_type *out_types[] = {sl_type_simple(SL_TYPE_DOUBLE)};
    sl_option items[] = {{"provider", "xgboost", false},
                         {"path", mpath, false},
                         {"batch-size", batch, false}};
    sl_options opts = {3, items};
    sl_model_def def = {.name = "xgb",
                        .input = sl_schema_new(&arena, 4, in_names, in_types),
                        .output =
                            sl_schema_new(&arena, 1, out_names, out_types),
                        .options = &opts};
    sl_err err;
    sl_err_clear(&err);
    sl_model_client *c = sl_model_client_new(&def, NULL, &err);
    cr_assert_not_null(c, "%s", err.msg);
    size_t got = 0;
    for (size_t i = 0; i < n; i++) {
        sl_value v[4];
        for (int f = 0; f < 4; f++) {
            json_t *x = json_array_get(json_array_get(rows, i), (size_t)f);
            /* NULL is "missing" for xgboost, but a NULL input row skips
             * the call; send NaN-free missing as a NULL only via REAL. */
            v[f] = json_is_null(x) ? sl_value_real(NAN)
                                   : sl_value_real(json_number_value(x));
        }
        int rc = sl_model_client_submit(c, i, v, &err);
        if (rc == SL_LIMIT) {
            sl_model_client_run(c, 0);
            rc = sl_model_client_submit(c, i, v, &err);
        }
        sl_model_client_run(c, 0);
        sl_model_result r;
        while (sl_model_client_next_result(c, &r) == SL_OK) {
            cr_assert_eq(r.status, SL_MODEL_ROW_OK, "%s", r.error);
            double want = json_number_value(json_array_get(preds, r.seq));
            cr_assert(fabs(r.outputs[0].u.d - want) <= 1e-6,
                      "row %llu: %.9f vs %.9f", (unsigned long long)r.seq,
                      r.outputs[0].u.d, want);
            cr_assert_eq(r.seq, got);
            got++;
        }
    }
    int64_t end = sl_now_ms() + 5000;
    while (got < n && sl_now_ms() < end) {
        sl_model_client_run(c, 10);
        sl_model_result r;
        while (sl_model_client_next_result(c, &r) == SL_OK) {
            double want = json_number_value(json_array_get(preds, r.seq));
            cr_assert(fabs(r.outputs[0].u.d - want) <= 1e-6,
                      "row %llu: %.9f vs %.9f", (unsigned long long)r.seq,
                      r.outputs[0].u.d, want);
            got++;
        }
    }
    cr_assert_eq(got, n, "got %zu of %zu", got, n);
    sl_model_metrics mt;
    sl_model_client_metrics(c, &mt);
    if (strcmp(batch, "1"))
        cr_assert(mt.requests < n, "%llu predict calls",
                  (unsigned long long)mt.requests);
    sl_model_client_free(c);
    sl_arena_free(&arena);
    json_decref(exp);
}

Test(ai_xgboost, committed_model_matches_xgboost)
{
    char dir[1024];
    sl_snprintf(dir, sizeof(dir), "%s/tests/data", sl_test_source_dir());
    check_model(dir, "8");
    check_model(dir, "1");
}

Test(ai_xgboost, trained_by_script_matches, .timeout = 300)
{
    const char *probe[] = {sl_test_python(), "-c", "import xgboost", NULL};
    if (sl_test_run(probe, NULL, NULL, NULL, 60000) != 0) {
        cr_log_warn("python3-xgboost not installed: script path not run");
        return;
    }
    char *dir = sl_test_tmpdir();
    char script[1024];
    sl_snprintf(script, sizeof(script), "%s/scripts/train_xgboost.py",
                sl_test_source_dir());
    const char *argv[] = {sl_test_python(), script, dir, NULL};
    sl_buf out, err;
    sl_buf_init(&out, 0);
    sl_buf_init(&err, 0);
    cr_assert_eq(sl_test_run(argv, NULL, &out, &err, 240000), 0, "%s",
                 sl_buf_cstr(&err));
    check_model(dir, "16");
    sl_buf_free(&out);
    sl_buf_free(&err);
    sl_test_tmpdir_remove(dir);
}

Test(ai_xgboost, bad_inputs_are_rejected)
{
    sl_arena arena;
    sl_arena_init(&arena, 4096, 0);
    const char *names[] = {"t"};
    const sl_type *types[] = {sl_type_simple(SL_TYPE_VARCHAR)};
    const sl_type *dtypes[] = {sl_type_simple(SL_TYPE_DOUBLE)};
    sl_option items[] = {{"provider", "xgboost", false},
                         {"path", "/nonexistent/model.json", false}};
    sl_options opts = {2, items};
    sl_model_def def = {.name = "xgb",
                        .input = sl_schema_new(&arena, 1, names, types),
                        .output = sl_schema_new(&arena, 1, names, dtypes),
                        .options = &opts};
    sl_err err;
    sl_err_clear(&err);
    cr_assert_null(sl_model_client_new(&def, NULL, &err));
    cr_assert(strstr(err.msg, "must be numeric"), "%s", err.msg);
    def.input = sl_schema_new(&arena, 1, names, dtypes);
    sl_err_clear(&err);
    cr_assert_null(sl_model_client_new(&def, NULL, &err));
    cr_assert(strstr(err.msg, "/nonexistent/model.json"), "%s", err.msg);
    sl_arena_free(&arena);
}
