/*
 * provider_openai.c: OpenAI-compatible chat completions and embeddings
 * (OpenAI, vLLM, llama.cpp server, Ollama...).
 *
 * Chat sends one row per request: the system prompt, the row's input as the
 * user message and, on a corrective retry, the previous answer plus the
 * reason it did not fit. With one STRING output column the answer text is
 * the output; with typed or several OUTPUT columns a JSON schema derived
 * from them goes out as response_format (json_schema, strict) and the
 * answer is parsed into typed columns. Embeddings send many rows per
 * request ('input' array) and return ARRAY<FLOAT> as JSON text.
 */
#include <string.h>

#include "model_int.h"

static const sl_option_def openai_defs[] = {
    {"endpoint", "string", NULL,
     "Full URL: .../v1/chat/completions or .../v1/embeddings."},
    {"model", "string", NULL, "Model name sent in the request."},
    {"task", "enum", "(from endpoint)",
     "chat or embedding; inferred from an endpoint ending in /embeddings."},
    {"system-prompt", "string", NULL, "System message of every chat call."},
    {"temperature", "double", NULL, "Sampling temperature (0..2)."},
    {"top-p", "double", NULL, "Nucleus sampling cutoff (0..1)."},
    {"stop", "string", NULL, "Comma-separated stop sequences."},
    {"max-tokens", "int", NULL, "Most tokens generated per answer."},
    {"seed", "int", NULL, "Sampling seed."},
    {"presence-penalty", "double", NULL, "Presence penalty (-2..2)."},
    {"response-format", "enum", "(from OUTPUT)",
     "text, json_object or json_schema; json_schema (strict, derived from "
     "the OUTPUT columns) when OUTPUT has typed or several columns."},
    {"dimension", "int", NULL, "Embedding size requested and checked."},
    {NULL, NULL, NULL, NULL},
};

enum { FMT_TEXT, FMT_JSON_OBJECT, FMT_JSON_SCHEMA };

typedef struct openai {
    const sl_model_ctx *ctx;
    char *endpoint;
    char *model;
    bool embedding;
    char *system_prompt;
    bool has_temp, has_top_p, has_max, has_seed, has_presence;
    double temperature, top_p, presence;
    int64_t max_tokens, seed;
    json_t *stop;
    int format;
    bool typed; /* parse the answer as a JSON object into columns */
    int64_t dimension;
    json_t *response_format;
} openai;

static char *dup_opt(sl_options *o, const char *key)
{
    const char *v = sl_options_get(o, key);
    return v ? sl_strdup(v) : NULL;
}

static void openai_close(void *state)
{
    openai *p = state;
    if (!p)
        return;
    sl_free(p->endpoint);
    sl_free(p->model);
    sl_free(p->system_prompt);
    json_decref(p->stop);
    json_decref(p->response_format);
    sl_free(p);
}

static int openai_open(const sl_model_ctx *ctx, sl_options *o, void **state,
                       sl_err *err)
{
    static const char *const tasks[] = {"chat", "embedding", "embeddings",
                                        "chat/completions", NULL};
    static const char *const fmts[] = {"text", "json_object", "json_schema",
                                       NULL};
    openai *p = sl_calloc(1, sizeof(*p));
    if (!p)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    *state = p;
    p->ctx = ctx;
    const char *ep;
    char what[300];
    sl_snprintf(what, sizeof(what), "model '%s' (provider 'openai')",
                ctx->name);
    int rc = sl_options_required(o, "endpoint", what, &ep, err);
    if (rc)
        return rc;
    if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8))
        return sl_err_set(err, SL_SQL,
                          "option 'endpoint' must be an http:// or https:// "
                          "URL");
    p->endpoint = sl_strdup(ep);
    p->model = dup_opt(o, "model");
    p->system_prompt = dup_opt(o, "system-prompt");
    size_t el = strlen(ep);
    while (el && ep[el - 1] == '/')
        el--;
    bool ep_embed = el >= 11 && !strncmp(ep + el - 11, "/embeddings", 11);
    int task;
    rc = sl_options_enum(o, "task", tasks, ep_embed ? 1 : 0, &task, err);
    if (rc)
        return rc;
    p->embedding = task == 1 || task == 2;
    if (sl_options_has(o, "temperature")) {
        p->has_temp = true;
        rc = sl_options_double(o, "temperature", 1, 0, 2, &p->temperature, err);
    }
    if (!rc && sl_options_has(o, "top-p")) {
        p->has_top_p = true;
        rc = sl_options_double(o, "top-p", 1, 0, 1, &p->top_p, err);
    }
    if (!rc && sl_options_has(o, "presence-penalty")) {
        p->has_presence = true;
        rc = sl_options_double(o, "presence-penalty", 0, -2, 2, &p->presence,
                               err);
    }
    if (!rc && sl_options_has(o, "max-tokens")) {
        p->has_max = true;
        rc = sl_options_int(o, "max-tokens", 0, 1, INT32_MAX, &p->max_tokens,
                            err);
    }
    if (!rc && sl_options_has(o, "seed")) {
        p->has_seed = true;
        rc = sl_options_int(o, "seed", 0, INT64_MIN, INT64_MAX, &p->seed, err);
    }
    if (!rc)
        rc = sl_options_int(o, "dimension", 0, 1, 1 << 20, &p->dimension, err);
    if (rc)
        return rc;
    const char *stop = sl_options_get(o, "stop");
    if (stop) {
        p->stop = json_array();
        const char *s = stop;
        while (*s) {
            const char *comma = strchr(s, ',');
            size_t len = comma ? (size_t)(comma - s) : strlen(s);
            if (len)
                json_array_append_new(p->stop, json_stringn(s, len));
            s += len + (comma ? 1 : 0);
        }
    }
    const sl_schema *out = ctx->output;
    bool single_string =
        out->n_cols == 1 && sl_type_is_string(out->cols[0].type);
    if (p->embedding) {
        if (ctx->input->n_cols != 1 ||
            !sl_type_is_string(ctx->input->cols[0].type))
            return sl_err_set(err, SL_SQL,
                              "embedding model '%s' needs exactly one STRING "
                              "INPUT column",
                              ctx->name);
        const sl_type *t = out->cols[0].type;
        if (out->n_cols != 1 ||
            !(sl_type_is_string(t) || (t->id == SL_TYPE_ARRAY && t->elem &&
                                       sl_type_is_numeric(t->elem))))
            return sl_err_set(err, SL_SQL,
                              "embedding model '%s' needs exactly one OUTPUT "
                              "column of type ARRAY<FLOAT> (or ARRAY<DOUBLE>)",
                              ctx->name);
        if (sl_options_has(o, "response-format"))
            sl_options_mark(o, "response-format");
        return SL_OK;
    }
    rc = sl_options_enum(o, "response-format", fmts,
                         single_string ? FMT_TEXT : FMT_JSON_SCHEMA, &p->format,
                         err);
    if (rc)
        return rc;
    p->typed = !single_string || p->format != FMT_TEXT;
    if (!single_string && p->format == FMT_TEXT)
        return sl_err_set(err, SL_SQL,
                          "model '%s': 'response-format' = 'text' needs "
                          "exactly one STRING OUTPUT column",
                          ctx->name);
    if (p->format == FMT_JSON_SCHEMA) {
        p->response_format = json_pack(
            "{s:s, s:{s:s, s:b, s:o}}", "type", "json_schema", "json_schema",
            "name", "output", "strict", 1, "schema", sl_model_schema_for(out));
    } else if (p->format == FMT_JSON_OBJECT) {
        p->response_format = json_pack("{s:s}", "type", "json_object");
    }
    if (p->format != FMT_TEXT && !p->response_format)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    return SL_OK;
}

static int openai_batch(void *state, int *dflt, int *max)
{
    openai *p = state;
    *dflt = p->embedding ? 32 : 1;
    *max = p->embedding ? 2048 : 1;
    return SL_OK;
}

static const char *openai_url(void *state)
{
    return ((openai *)state)->endpoint;
}

/* The row's input as one text. */
static json_t *input_text(const sl_model_ctx *ctx, const sl_model_row *row)
{
    if (ctx->input->n_cols == 1) {
        sl_buf b;
        sl_buf_init(&b, 0);
        sl_model_value_text(ctx->input->cols[0].type, &row->in[0], &b);
        json_t *j = json_stringn(sl_buf_cstr(&b), b.len);
        sl_buf_free(&b);
        return j;
    }
    json_t *o = json_object();
    for (int i = 0; i < ctx->input->n_cols; i++)
        json_object_set_new(
            o, ctx->input->cols[i].name,
            sl_model_value_to_json(ctx->input->cols[i].type, &row->in[i]));
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    json_t *j = json_string(s ? s : "");
    free(s); /* sl: allow */
    return j;
}

static int dump_into(json_t *req, sl_buf *body, sl_err *err)
{
    char *s = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!s)
        return sl_err_set(err, SL_NOMEM, "out of memory building a request");
    sl_buf_puts(body, s);
    free(s); /* sl: allow */
    return body->rc ? sl_err_set(err, body->rc, "request too large") : SL_OK;
}

static int openai_build(void *state, sl_model_row *rows, int n, sl_buf *body,
                        sl_err *err)
{
    openai *p = state;
    json_t *req = json_object();
    if (!req)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    if (p->model)
        json_object_set_new(req, "model", json_string(p->model));
    if (p->embedding) {
        json_t *in = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(in, input_text(p->ctx, &rows[i]));
        json_object_set_new(req, "input", in);
        if (p->dimension)
            json_object_set_new(req, "dimensions", json_integer(p->dimension));
        json_object_set_new(req, "encoding_format", json_string("float"));
        return dump_into(req, body, err);
    }
    json_t *msgs = json_array();
    if (p->system_prompt && *p->system_prompt)
        json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "system",
                                              "content", p->system_prompt));
    json_t *user = json_object();
    json_object_set_new(user, "role", json_string("user"));
    json_object_set_new(user, "content", input_text(p->ctx, &rows[0]));
    json_array_append_new(msgs, user);
    if (rows[0].feedback) {
        json_array_append_new(
            msgs, json_pack("{s:s, s:s}", "role", "assistant", "content",
                            rows[0].prev_answer ? rows[0].prev_answer : ""));
        char *fb = sl_asprintf(
            "Your previous answer did not match the required JSON schema: "
            "%s. Answer again with only a JSON object that matches the "
            "schema.",
            rows[0].feedback);
        json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user",
                                              "content", fb ? fb : ""));
        sl_free(fb);
    }
    json_object_set_new(req, "messages", msgs);
    if (p->has_temp)
        json_object_set_new(req, "temperature", json_real(p->temperature));
    if (p->has_top_p)
        json_object_set_new(req, "top_p", json_real(p->top_p));
    if (p->has_presence)
        json_object_set_new(req, "presence_penalty", json_real(p->presence));
    if (p->has_max)
        json_object_set_new(req, "max_tokens", json_integer(p->max_tokens));
    if (p->has_seed)
        json_object_set_new(req, "seed", json_integer(p->seed));
    if (p->stop)
        json_object_set(req, "stop", p->stop);
    if (p->response_format)
        json_object_set(req, "response_format", p->response_format);
    return dump_into(req, body, err);
}

static void read_usage(json_t *root, sl_model_usage *usage)
{
    json_t *u = json_object_get(root, "usage");
    if (!json_is_object(u))
        return;
    json_t *pt = json_object_get(u, "prompt_tokens");
    json_t *ct = json_object_get(u, "completion_tokens");
    if (json_is_integer(pt) && json_integer_value(pt) > 0)
        usage->prompt_tokens += json_integer_value(pt);
    if (json_is_integer(ct) && json_integer_value(ct) > 0)
        usage->completion_tokens += json_integer_value(ct);
}

static int row_error(sl_model_row *row, bool schema, const char *fmt,
                     const char *a, const char *b)
{
    row->err_code = SL_RUNTIME;
    row->err_schema = schema;
    sl_snprintf(row->err, sizeof(row->err), fmt, a, b);
    return SL_OK;
}

/* Parse a structured answer into the row's typed columns. */
static void parse_typed(openai *p, const char *content, size_t len,
                        sl_model_row *row)
{
    const sl_schema *out = p->ctx->output;
    json_error_t jerr;
    json_t *obj = json_loadb(content, len, 0, &jerr);
    if (!json_is_object(obj)) {
        json_decref(obj);
        row_error(row, true, "answer is not a JSON object (%s)%s",
                  obj ? "another JSON value" : jerr.text, "");
        return;
    }
    for (int i = 0; i < out->n_cols; i++) {
        json_t *v = json_object_get(obj, out->cols[i].name);
        if (!v) {
            row_error(row, true, "property '%s' is missing%s",
                      out->cols[i].name, "");
            break;
        }
        char why[160];
        int rc = sl_model_json_to_value(out->cols[i].type, v, row->arena,
                                        &row->out[i], why, sizeof(why));
        if (rc) {
            row_error(row, true, "property '%s': %s", out->cols[i].name, why);
            break;
        }
    }
    json_decref(obj);
}

static int openai_parse(void *state, const char *body, size_t len,
                        sl_model_row *rows, int n, sl_model_usage *usage,
                        sl_err *err)
{
    openai *p = state;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return sl_err_set(err, SL_IO, "not a JSON object (%s)", jerr.text);
    }
    read_usage(root, usage);
    int rc = SL_OK;
    if (p->embedding) {
        json_t *data = json_object_get(root, "data");
        if (!json_is_array(data) || json_array_size(data) != (size_t)n) {
            rc = sl_err_set(err, SL_IO,
                            "expected 'data' with %d embeddings, got %zu", n,
                            json_is_array(data) ? json_array_size(data) : 0);
            goto out;
        }
        const sl_type *t = p->ctx->output->cols[0].type;
        for (size_t i = 0; i < (size_t)n; i++) {
            json_t *item = json_array_get(data, i);
            json_t *idx = json_object_get(item, "index");
            size_t at =
                json_is_integer(idx) ? (size_t)json_integer_value(idx) : i;
            json_t *emb = json_object_get(item, "embedding");
            if (at >= (size_t)n || !json_is_array(emb)) {
                rc = sl_err_set(err, SL_IO,
                                "embedding %zu is missing or malformed", i);
                goto out;
            }
            sl_model_row *row = &rows[at];
            if (p->dimension && json_array_size(emb) != (size_t)p->dimension) {
                char a[32], b[32];
                sl_snprintf(a, sizeof(a), "%zu", json_array_size(emb));
                sl_snprintf(b, sizeof(b), "%lld", (long long)p->dimension);
                row_error(row, false, "embedding has %s values, expected %s", a,
                          b);
                continue;
            }
            size_t k;
            json_t *e;
            bool ok = true;
            json_array_foreach(emb, k, e) if (!json_is_number(e)) ok = false;
            if (!ok) {
                row_error(row, false, "embedding has a non-number%s%s", "", "");
                continue;
            }
            char *s = json_dumps(emb, JSON_COMPACT | JSON_REAL_PRECISION(9));
            if (!s) {
                rc = sl_err_set(err, SL_NOMEM, "out of memory");
                goto out;
            }
            size_t sl = strlen(s);
            char *d = sl_arena_strndup(row->arena, s, sl);
            free(s); /* sl: allow */
            if (!d) {
                rc = sl_err_set(err, SL_NOMEM, "out of memory");
                goto out;
            }
            SL_UNUSED(t);
            row->out[0].kind = SL_V_TEXT;
            row->out[0].u.s = d;
            row->out[0].len = (uint32_t)sl;
        }
        goto out;
    }
    json_t *choices = json_object_get(root, "choices");
    json_t *msg = json_object_get(json_array_get(choices, 0), "message");
    json_t *content = json_object_get(msg, "content");
    if (!json_is_string(content)) {
        json_t *refusal = json_object_get(msg, "refusal");
        if (json_is_string(refusal)) {
            row_error(&rows[0], false, "the model refused: %s%s",
                      json_string_value(refusal), "");
            goto out;
        }
        rc = sl_err_set(err, SL_IO, "no choices[0].message.content");
        goto out;
    }
    const char *text = json_string_value(content);
    size_t tl = json_string_length(content);
    rows[0].answer = sl_arena_strndup(rows[0].arena, text, tl);
    if (!p->typed) {
        sl_value *v = &rows[0].out[0];
        v->kind = SL_V_TEXT;
        v->u.s = rows[0].answer;
        v->len = (uint32_t)tl;
        if (!v->u.s)
            rc = sl_err_set(err, SL_NOMEM, "out of memory");
        goto out;
    }
    parse_typed(p, text, tl, &rows[0]);
out:
    json_decref(root);
    return rc;
}

const sl_model_provider sl_model_provider_openai = {
    .version = SL_MODEL_PROVIDER_VERSION,
    .name = "openai",
    .doc = "OpenAI-compatible chat completions (one row per request, "
           "structured output for typed OUTPUT) and embeddings (batched).",
    .options = openai_defs,
    .is_local = false,
    .open = openai_open,
    .close = openai_close,
    .batch_limits = openai_batch,
    .url = openai_url,
    .build = openai_build,
    .parse = openai_parse,
    .predict = NULL,
};
