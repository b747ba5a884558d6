/*
 * model_int.h: the provider plugin contract and helpers shared by the model
 * client (client.c) and the providers (provider_*.c).
 *
 * A provider turns a batch of input rows into one HTTP request body and an
 * HTTP response back into typed output values (remote providers), or
 * predicts in process (local providers). It never touches sockets, retries,
 * ordering or caching: the client does. Adding a provider touches its own
 * file plus one line in providers.c (STYLE.md habit 14: a versioned struct
 * whose fields are appended, never reordered).
 */
#ifndef SL_MODEL_INT_H
#define SL_MODEL_INT_H

#include <jansson.h>

#include "model.h"

#define SL_MODEL_PROVIDER_VERSION 1

/* What a provider sees of the model at open time. */
typedef struct sl_model_ctx {
    const char *name;
    const sl_schema *input;
    const sl_schema *output; /* model columns only (no metadata columns) */
} sl_model_ctx;

/* One row inside a request, as a provider sees it. */
typedef struct sl_model_row {
    const sl_value *in; /* input->n_cols values */
    sl_value *out;      /* output->n_cols values, NULL on entry */
    sl_arena *arena;    /* owns TEXT/BLOB put into out */
    /* Set on a corrective retry: the previous answer and why it failed. */
    const char *prev_answer;
    const char *feedback;
    /* Set by parse on a row-level failure. */
    int err_code;
    bool err_schema;    /* the answer did not fit the OUTPUT schema */
    const char *answer; /* raw answer text (arena), for feedback */
    char err[256];
} sl_model_row;

typedef struct sl_model_usage {
    int64_t prompt_tokens;
    int64_t completion_tokens;
} sl_model_usage;

typedef struct sl_model_provider {
    int version; /* SL_MODEL_PROVIDER_VERSION: always first */
    const char *name;
    const char *doc;              /* one sentence for docs/ai.md */
    const sl_option_def *options; /* provider options (NULL-key ended) */
    bool is_local;                /* predict in process; no HTTP */
    /* Read and validate the provider options, check schemas. *state is
     * freed with close. */
    int (*open)(const sl_model_ctx *ctx, sl_options *opts, void **state,
                sl_err *err);
    void (*close)(void *state);
    /* Largest and default rows per request. */
    int (*batch_limits)(void *state, int *dflt, int *max);
    /* Remote: the URL to POST to (state-owned) and the JSON body for n
     * rows appended to body. */
    const char *(*url)(void *state);
    int (*build)(void *state, sl_model_row *rows, int n, sl_buf *body,
                 sl_err *err);
    /* Remote: parse a 2xx body. SL_OK when understood (row-level failures
     * are in rows[i].err_code); otherwise the whole response is invalid
     * and err says why. */
    int (*parse)(void *state, const char *body, size_t len, sl_model_row *rows,
                 int n, sl_model_usage *usage, sl_err *err);
    /* Local: fill rows[i].out for n rows. */
    int (*predict)(void *state, sl_model_row *rows, int n, sl_err *err);
} sl_model_provider;

/* Registry (providers.c). */
extern const sl_model_provider sl_model_provider_openai;
extern const sl_model_provider sl_model_provider_http;
extern const sl_model_provider sl_model_provider_triton;
extern const sl_model_provider sl_model_provider_xgboost;

/* ---- helpers (ai_json.c) ---------------------------------------------- */
/* Convert a JSON value to a value of type; strings go into arena. Returns
 * SL_OK or SL_ERROR with a short reason in why. */
int sl_model_json_to_value(const sl_type *type, json_t *json, sl_arena *arena,
                           sl_value *out, char *why, size_t why_size);
/* The JSON form of a value of type (new reference; NULL value -> null). */
json_t *sl_model_value_to_json(const sl_type *type, const sl_value *value);
/* A JSON schema (object with one property per column, all required). */
json_t *sl_model_schema_for(const sl_schema *schema);
/* Evaluate a small JSON path ($, .name, ['name'], [n]) on root; borrowed
 * result or NULL. */
json_t *sl_model_json_path(json_t *root, const char *path);
/* Value as prompt text: TEXT verbatim, others in canonical form. */
int sl_model_value_text(const sl_type *type, const sl_value *value,
                        sl_buf *out);

#endif /* SL_MODEL_INT_H */
