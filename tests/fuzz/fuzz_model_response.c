/*
 * fuzz_model_response.c: libFuzzer target for model response parsing.
 *
 * The first byte picks a provider configuration (openai chat text, openai
 * structured output, openai embeddings, http single and batched, KServe
 * v2); the rest is the HTTP body handed to the provider's parse function,
 * as the client would after a 2xx answer. Whatever the body, parsing must
 * return an error or typed values, never crash or leak.
 */
#include <stdint.h>
#include <string.h>

#include "ai/model_int.h"

#define N_ROWS 3

static sl_type arr_float = {.id = SL_TYPE_ARRAY};

static int parse_with(int which, const char *body, size_t len)
{
    arr_float.elem = sl_type_simple(SL_TYPE_FLOAT);
    sl_arena arena;
    sl_arena_init(&arena, 4096, 0);
    const char *in_names[] = {"text", "x"};
    const sl_type *in_types[] = {sl_type_simple(SL_TYPE_VARCHAR),
                                 sl_type_simple(SL_TYPE_DOUBLE)};
    const char *out_names[] = {"label", "score", "n", "ok"};
    const sl_type *out_types[] = {
        sl_type_simple(SL_TYPE_VARCHAR), sl_type_simple(SL_TYPE_DOUBLE),
        sl_type_simple(SL_TYPE_BIGINT), sl_type_simple(SL_TYPE_BOOLEAN)};
    const sl_type *emb_types[] = {&arr_float};
    sl_option items[8];
    int n_opt = 0;
    const sl_model_provider *prov = &sl_model_provider_openai;
    sl_model_ctx ctx = {.name = "fuzz"};
    ctx.input = sl_schema_new(&arena, 1, in_names, in_types);
    ctx.output = sl_schema_new(&arena, 4, out_names, out_types);
    int rows = 1;
    switch (which % 6) {
    case 0:
        ctx.output = sl_schema_new(&arena, 1, out_names, out_types);
        items[n_opt++] = (sl_option){"endpoint", "http://x/v1/chat", false};
        break;
    case 1:
        items[n_opt++] = (sl_option){"endpoint", "http://x/v1/chat", false};
        break;
    case 2:
        ctx.output = sl_schema_new(&arena, 1, out_names, emb_types);
        items[n_opt++] =
            (sl_option){"endpoint", "http://x/v1/embeddings", false};
        items[n_opt++] = (sl_option){"dimension", "4", false};
        rows = N_ROWS;
        break;
    case 3:
        prov = &sl_model_provider_http;
        items[n_opt++] = (sl_option){"endpoint", "http://x/p", false};
        items[n_opt++] =
            (sl_option){"response-path.label", "$.a[0]['b'].c", false};
        break;
    case 4:
        prov = &sl_model_provider_http;
        items[n_opt++] = (sl_option){"endpoint", "http://x/p", false};
        items[n_opt++] = (sl_option){"response-rows-path", "$.rows", false};
        rows = N_ROWS;
        break;
    default:
        prov = &sl_model_provider_triton;
        ctx.input = sl_schema_new(&arena, 2, in_names, in_types);
        items[n_opt++] = (sl_option){"endpoint", "http://x", false};
        items[n_opt++] = (sl_option){"model", "m", false};
        rows = N_ROWS;
        break;
    }
    sl_options opts = {n_opt, items};
    void *state = NULL;
    sl_err err;
    sl_err_clear(&err);
    if (prov->open(&ctx, &opts, &state, &err)) {
        prov->close(state);
        sl_arena_free(&arena);
        return 0;
    }
    sl_value in[N_ROWS][2];
    sl_value out[N_ROWS][4];
    sl_model_row r[N_ROWS];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < rows; i++) {
        in[i][0] = (sl_value){.kind = SL_V_TEXT, .len = 2, .u.s = "hi"};
        in[i][1] = sl_value_real(i);
        for (int j = 0; j < 4; j++)
            out[i][j] = sl_value_null();
        r[i].in = in[i];
        r[i].out = out[i];
        r[i].arena = &arena;
    }
    sl_buf body_out;
    sl_buf_init(&body_out, 1 << 20);
    prov->build(state, r, rows, &body_out, &err);
    sl_buf_free(&body_out);
    sl_model_usage usage = {0, 0};
    prov->parse(state, body, len, r, rows, &usage, &err);
    prov->close(state);
    sl_arena_free(&arena);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    return parse_with(data[0], (const char *)data + 1, size - 1);
}
