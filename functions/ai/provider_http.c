/*
 * provider_http.c: a generic JSON-over-HTTP model provider.
 *
 * 'request-template' is the JSON body of one row with {{column}}
 * placeholders replaced by the JSON form of the input value; with
 * 'batch-size' > 1 the rows' bodies go out as a JSON array, or inside
 * 'batch-template' at {{rows}}. 'response-rows-path' finds the per-row
 * answers of a batched response, and 'response-path.<column>' finds each
 * OUTPUT column inside one row's answer (default $.<column>).
 */
#include <string.h>

#include "model_int.h"

#define MAX_TEMPLATE_BYTES (1u << 20)

static const sl_option_def http_defs[] = {
    {"endpoint", "string", NULL, "URL to POST to."},
    {"request-template", "string", "(object of inputs)",
     "JSON body of one row; {{column}} is replaced by the input's JSON."},
    {"batch-template", "string", "{{rows}}",
     "Body of a batch; {{rows}} is the JSON array of row bodies."},
    {"response-rows-path", "string", "$",
     "JSON path of the per-row answers array in a batched response."},
    {"response-path.*", "string", "$.<column>",
     "JSON path of an OUTPUT column inside one row's answer."},
    {"max-batch-size", "int", "1024", "Largest 'batch-size' accepted."},
    {NULL, NULL, NULL, NULL},
};

typedef struct http_p {
    const sl_model_ctx *ctx;
    char *endpoint;
    char *tmpl;
    char *batch_tmpl;
    char *rows_path;
    char **col_path;
    int64_t max_batch;
    bool batched;
} http_p;

static void http_close(void *state)
{
    http_p *p = state;
    if (!p)
        return;
    sl_free(p->endpoint);
    sl_free(p->tmpl);
    sl_free(p->batch_tmpl);
    sl_free(p->rows_path);
    for (int i = 0; p->col_path && i < p->ctx->output->n_cols; i++)
        sl_free(p->col_path[i]);
    sl_free(p->col_path);
    sl_free(p);
}

/* Render the row template; unknown placeholders are an error. */
static int render(http_p *p, const sl_model_row *row, sl_buf *out, sl_err *err)
{
    const char *s = p->tmpl;
    while (*s) {
        const char *o = strstr(s, "{{");
        if (!o) {
            sl_buf_puts(out, s);
            break;
        }
        sl_buf_append(out, s, (size_t)(o - s));
        const char *e = strstr(o + 2, "}}");
        if (!e)
            return sl_err_set(err, SL_SQL,
                              "'request-template': unterminated '{{'");
        char name[256];
        size_t nl = (size_t)(e - o - 2);
        while (nl && o[2] == ' ') {
            o++;
            nl--;
        }
        while (nl && o[2 + nl - 1] == ' ')
            nl--;
        if (nl >= sizeof(name))
            return sl_err_set(err, SL_SQL,
                              "'request-template': placeholder too long");
        memcpy(name, o + 2, nl);
        name[nl] = '\0';
        int col = sl_schema_find(p->ctx->input, name);
        if (col < 0)
            return sl_err_set(err, SL_SQL,
                              "'request-template': '{{%s}}' is not an INPUT "
                              "column of model '%s'",
                              name, p->ctx->name);
        json_t *j = row ? sl_model_value_to_json(p->ctx->input->cols[col].type,
                                                 &row->in[col])
                        : json_null();
        char *js = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(j);
        if (!js)
            return sl_err_set(err, SL_NOMEM, "out of memory");
        sl_buf_puts(out, js);
        free(js); /* sl: allow */
        s = e + 2;
    }
    return out->rc ? sl_err_set(err, out->rc, "request too large") : SL_OK;
}

static int default_template(http_p *p)
{
    sl_buf b;
    sl_buf_init(&b, MAX_TEMPLATE_BYTES);
    sl_buf_putc(&b, '{');
    for (int i = 0; i < p->ctx->input->n_cols; i++) {
        json_t *k = json_string(p->ctx->input->cols[i].name);
        char *ks = json_dumps(k, JSON_ENCODE_ANY);
        json_decref(k);
        sl_buf_printf(&b, "%s%s: {{%s}}", i ? ", " : "", ks ? ks : "\"\"",
                      p->ctx->input->cols[i].name);
        free(ks); /* sl: allow */
    }
    sl_buf_putc(&b, '}');
    p->tmpl = sl_buf_steal(&b);
    return p->tmpl ? SL_OK : SL_NOMEM;
}

static int http_open(const sl_model_ctx *ctx, sl_options *o, void **state,
                     sl_err *err)
{
    http_p *p = sl_calloc(1, sizeof(*p));
    if (!p)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    *state = p;
    p->ctx = ctx;
    char what[300];
    sl_snprintf(what, sizeof(what), "model '%s' (provider 'http')", ctx->name);
    const char *ep, *t, *bt, *rp;
    int rc = sl_options_required(o, "endpoint", what, &ep, err);
    if (!rc)
        rc = sl_options_string(o, "request-template", NULL, &t, err);
    if (!rc)
        rc = sl_options_string(o, "batch-template", "{{rows}}", &bt, err);
    if (!rc)
        rc = sl_options_string(o, "response-rows-path", "$", &rp, err);
    if (!rc)
        rc = sl_options_int(o, "max-batch-size", 1024, 1, 65536, &p->max_batch,
                            err);
    if (rc)
        return rc;
    if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8))
        return sl_err_set(err, SL_SQL,
                          "option 'endpoint' must be an http:// or https:// "
                          "URL");
    p->endpoint = sl_strdup(ep);
    p->batch_tmpl = sl_strdup(bt);
    p->rows_path = sl_strdup(rp);
    if (!p->endpoint || !p->batch_tmpl || !p->rows_path)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    if (t)
        p->tmpl = sl_strdup(t);
    else if (default_template(p))
        return sl_err_set(err, SL_NOMEM, "out of memory");
    if (!p->tmpl)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    if (!strstr(p->batch_tmpl, "{{rows}}"))
        return sl_err_set(err, SL_SQL,
                          "option 'batch-template' must contain {{rows}}");
    /* Check the template renders to JSON. */
    sl_buf b;
    sl_buf_init(&b, MAX_TEMPLATE_BYTES);
    rc = render(p, NULL, &b, err);
    if (!rc) {
        json_error_t jerr;
        json_t *j =
            json_loadb(b.data ? b.data : "", b.len, JSON_DECODE_ANY, &jerr);
        if (!j)
            rc = sl_err_set(err, SL_SQL,
                            "option 'request-template' is not JSON once "
                            "filled in: %s",
                            jerr.text);
        json_decref(j);
    }
    sl_buf_free(&b);
    if (rc)
        return rc;
    int n = ctx->output->n_cols;
    p->col_path = sl_calloc((size_t)n, sizeof(char *));
    if (!p->col_path)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        char key[300];
        sl_snprintf(key, sizeof(key), "response-path.%s",
                    ctx->output->cols[i].name);
        const char *v = sl_options_get(o, key);
        p->col_path[i] =
            v ? sl_strdup(v) : sl_asprintf("$.%s", ctx->output->cols[i].name);
        if (!p->col_path[i])
            return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    return SL_OK;
}

static int http_batch(void *state, int *dflt, int *max)
{
    http_p *p = state;
    *dflt = 1;
    *max = (int)p->max_batch;
    return SL_OK;
}

static const char *http_url(void *state)
{
    return ((http_p *)state)->endpoint;
}

static int http_build(void *state, sl_model_row *rows, int n, sl_buf *body,
                      sl_err *err)
{
    http_p *p = state;
    p->batched = n > 1;
    if (n == 1 && !strcmp(p->batch_tmpl, "{{rows}}"))
        return render(p, &rows[0], body, err);
    const char *at = strstr(p->batch_tmpl, "{{rows}}");
    sl_buf_append(body, p->batch_tmpl, (size_t)(at - p->batch_tmpl));
    sl_buf_putc(body, '[');
    for (int i = 0; i < n; i++) {
        if (i)
            sl_buf_putc(body, ',');
        int rc = render(p, &rows[i], body, err);
        if (rc)
            return rc;
    }
    sl_buf_putc(body, ']');
    sl_buf_puts(body, at + 8);
    p->batched = true;
    return body->rc ? sl_err_set(err, body->rc, "request too large") : SL_OK;
}

static void fill_row(http_p *p, json_t *item, sl_model_row *row)
{
    const sl_schema *out = p->ctx->output;
    for (int c = 0; c < out->n_cols; c++) {
        json_t *v = sl_model_json_path(item, p->col_path[c]);
        if (!v && out->n_cols == 1 && !json_is_object(item))
            v = item;
        if (!v) {
            row->err_code = SL_RUNTIME;
            sl_snprintf(row->err, sizeof(row->err),
                        "answer has nothing at '%s' for column '%s'",
                        p->col_path[c], out->cols[c].name);
            return;
        }
        char why[160];
        if (sl_model_json_to_value(out->cols[c].type, v, row->arena,
                                   &row->out[c], why, sizeof(why))) {
            row->err_code = SL_RUNTIME;
            sl_snprintf(row->err, sizeof(row->err), "column '%s': %s",
                        out->cols[c].name, why);
            return;
        }
    }
}

static int http_parse(void *state, const char *body, size_t len,
                      sl_model_row *rows, int n, sl_model_usage *usage,
                      sl_err *err)
{
    SL_UNUSED(usage);
    http_p *p = state;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
    if (!root)
        return sl_err_set(err, SL_IO, "not JSON (%s)", jerr.text);
    int rc = SL_OK;
    bool batched = n > 1 || strcmp(p->batch_tmpl, "{{rows}}");
    if (!batched) {
        fill_row(p, root, &rows[0]);
    } else {
        json_t *arr = sl_model_json_path(root, p->rows_path);
        if (!json_is_array(arr) || json_array_size(arr) != (size_t)n) {
            rc = sl_err_set(err, SL_IO,
                            "expected an array of %d answers at '%s'", n,
                            p->rows_path);
        } else {
            for (int i = 0; i < n; i++)
                fill_row(p, json_array_get(arr, (size_t)i), &rows[i]);
        }
    }
    json_decref(root);
    return rc;
}

const sl_model_provider sl_model_provider_http = {
    .version = SL_MODEL_PROVIDER_VERSION,
    .name = "http",
    .doc = "Generic JSON over HTTP with a request template and JSON paths "
           "per OUTPUT column; batches rows into one array.",
    .options = http_defs,
    .is_local = false,
    .open = http_open,
    .close = http_close,
    .batch_limits = http_batch,
    .url = http_url,
    .build = http_build,
    .parse = http_parse,
    .predict = NULL,
};
