/*
 * provider_triton.c: the KServe v2 / Triton inference protocol.
 *
 * POST <endpoint>/v2/models/<model>[/versions/<v>]/infer with one tensor
 * per INPUT column (shape [rows, 1], or [rows, k] for ARRAY columns) and
 * one requested output per OUTPUT column; the answer's tensors are split
 * back into rows (a [rows, k] output gives an ARRAY column k values).
 */
#include <string.h>

#include "model_int.h"

static const sl_option_def triton_defs[] = {
    {"endpoint", "string", NULL,
     "Server base URL (http://host:8000) or the full .../infer URL."},
    {"model", "string", NULL, "Model name on the server."},
    {"model-version", "string", NULL, "Model version (optional)."},
    {"max-batch-size", "int", "1024", "Largest 'batch-size' accepted."},
    {NULL, NULL, NULL, NULL},
};

typedef struct triton {
    const sl_model_ctx *ctx;
    char *url;
    int64_t max_batch;
} triton;

static void triton_close(void *state)
{
    triton *p = state;
    if (!p)
        return;
    sl_free(p->url);
    sl_free(p);
}

static const char *datatype(const sl_type *t)
{
    if (t->id == SL_TYPE_ARRAY && t->elem)
        t = t->elem;
    switch (t->id) {
    case SL_TYPE_BOOLEAN:
        return "BOOL";
    case SL_TYPE_TINYINT:
        return "INT8";
    case SL_TYPE_SMALLINT:
        return "INT16";
    case SL_TYPE_INT:
        return "INT32";
    case SL_TYPE_BIGINT:
        return "INT64";
    case SL_TYPE_FLOAT:
        return "FP32";
    case SL_TYPE_DOUBLE:
    case SL_TYPE_DECIMAL:
        return "FP64";
    default:
        return "BYTES";
    }
}

static int triton_open(const sl_model_ctx *ctx, sl_options *o, void **state,
                       sl_err *err)
{
    triton *p = sl_calloc(1, sizeof(*p));
    if (!p)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    *state = p;
    p->ctx = ctx;
    char what[300];
    sl_snprintf(what, sizeof(what), "model '%s' (provider 'triton')",
                ctx->name);
    const char *ep, *model = NULL, *ver;
    int rc = sl_options_required(o, "endpoint", what, &ep, err);
    if (!rc)
        rc = sl_options_string(o, "model-version", NULL, &ver, err);
    if (!rc)
        rc = sl_options_int(o, "max-batch-size", 1024, 1, 65536, &p->max_batch,
                            err);
    if (rc)
        return rc;
    if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8))
        return sl_err_set(err, SL_SQL,
                          "option 'endpoint' must be an http:// or https:// "
                          "URL");
    size_t el = strlen(ep);
    while (el && ep[el - 1] == '/')
        el--;
    if (el >= 6 && !strncmp(ep + el - 6, "/infer", 6)) {
        p->url = sl_strndup(ep, el);
        sl_options_mark(o, "model");
    } else {
        rc = sl_options_required(o, "model", what, &model, err);
        if (rc)
            return rc;
        p->url =
            ver ? sl_asprintf("%.*s/v2/models/%s/versions/%s/infer", (int)el,
                              ep, model, ver)
                : sl_asprintf("%.*s/v2/models/%s/infer", (int)el, ep, model);
    }
    return p->url ? SL_OK : sl_err_set(err, SL_NOMEM, "out of memory");
}

static int triton_batch(void *state, int *dflt, int *max)
{
    triton *p = state;
    *dflt = 32 < p->max_batch ? 32 : (int)p->max_batch;
    *max = (int)p->max_batch;
    return SL_OK;
}

static const char *triton_url(void *state)
{
    return ((triton *)state)->url;
}

static int triton_build(void *state, sl_model_row *rows, int n, sl_buf *body,
                        sl_err *err)
{
    triton *p = state;
    json_t *req = json_object();
    json_t *inputs = json_array();
    for (int c = 0; c < p->ctx->input->n_cols; c++) {
        const sl_type *t = p->ctx->input->cols[c].type;
        json_t *data = json_array();
        size_t width = 1;
        for (int r = 0; r < n; r++) {
            json_t *v = sl_model_value_to_json(t, &rows[r].in[c]);
            if (t->id == SL_TYPE_ARRAY && json_is_array(v)) {
                if (r == 0)
                    width = json_array_size(v);
                if (json_array_size(v) != width) {
                    json_decref(v);
                    json_decref(data);
                    json_decref(inputs);
                    json_decref(req);
                    return sl_err_set(err, SL_RUNTIME,
                                      "column '%s': arrays of different "
                                      "lengths in one batch",
                                      p->ctx->input->cols[c].name);
                }
                json_array_extend(data, v);
                json_decref(v);
            } else {
                json_array_append_new(data, v);
            }
        }
        json_array_append_new(inputs,
                              json_pack("{s:s, s:[I,I], s:s, s:o}", "name",
                                        p->ctx->input->cols[c].name, "shape",
                                        (json_int_t)n, (json_int_t)width,
                                        "datatype", datatype(t), "data", data));
    }
    json_object_set_new(req, "inputs", inputs);
    json_t *outs = json_array();
    for (int c = 0; c < p->ctx->output->n_cols; c++)
        json_array_append_new(
            outs, json_pack("{s:s}", "name", p->ctx->output->cols[c].name));
    json_object_set_new(req, "outputs", outs);
    char *s = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!s)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    sl_buf_puts(body, s);
    free(s); /* sl: allow */
    return body->rc ? sl_err_set(err, body->rc, "request too large") : SL_OK;
}

static int triton_parse(void *state, const char *body, size_t len,
                        sl_model_row *rows, int n, sl_model_usage *usage,
                        sl_err *err)
{
    SL_UNUSED(usage);
    triton *p = state;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    json_t *outputs = json_object_get(root, "outputs");
    if (!json_is_array(outputs)) {
        json_decref(root);
        return sl_err_set(err, SL_IO, "no 'outputs' array in the answer");
    }
    int rc = SL_OK;
    for (int c = 0; c < p->ctx->output->n_cols && !rc; c++) {
        const char *name = p->ctx->output->cols[c].name;
        const sl_type *t = p->ctx->output->cols[c].type;
        json_t *tensor = NULL;
        size_t i;
        json_t *o;
        json_array_foreach(outputs, i, o)
        {
            json_t *nm = json_object_get(o, "name");
            if (json_is_string(nm) && !strcmp(json_string_value(nm), name))
                tensor = o;
        }
        json_t *data = json_object_get(tensor, "data");
        if (!json_is_array(data) || json_array_size(data) % (size_t)n) {
            rc = sl_err_set(err, SL_IO,
                            "output '%s' is missing or does not split into "
                            "%d rows",
                            name, n);
            break;
        }
        size_t width = json_array_size(data) / (size_t)n;
        for (int r = 0; r < n; r++) {
            json_t *v;
            if (t->id == SL_TYPE_ARRAY) {
                v = json_array();
                for (size_t k = 0; k < width; k++)
                    json_array_append(
                        v, json_array_get(data, (size_t)r * width + k));
            } else if (width == 1) {
                v = json_incref(json_array_get(data, (size_t)r));
            } else {
                rows[r].err_code = SL_RUNTIME;
                sl_snprintf(rows[r].err, sizeof(rows[r].err),
                            "output '%s' has %zu values per row; declare the "
                            "column as an ARRAY",
                            name, width);
                continue;
            }
            char why[160];
            if (sl_model_json_to_value(t, v, rows[r].arena, &rows[r].out[c],
                                       why, sizeof(why))) {
                rows[r].err_code = SL_RUNTIME;
                sl_snprintf(rows[r].err, sizeof(rows[r].err), "output '%s': %s",
                            name, why);
            }
            json_decref(v);
        }
    }
    json_decref(root);
    return rc;
}

const sl_model_provider sl_model_provider_triton = {
    .version = SL_MODEL_PROVIDER_VERSION,
    .name = "triton",
    .doc = "KServe v2 inference protocol (Triton, KServe, MLServer): batched "
           "rows become one tensor per INPUT column.",
    .options = triton_defs,
    .is_local = false,
    .open = triton_open,
    .close = triton_close,
    .batch_limits = triton_batch,
    .url = triton_url,
    .build = triton_build,
    .parse = triton_parse,
    .predict = NULL,
};
