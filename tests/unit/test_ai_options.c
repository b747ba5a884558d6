/*
 * test_ai_options.c: the model client options not covered by
 * test_ai_client.c (retry-num, FAILOVER without retries, FIXED backoff,
 * headers, response size, cache TTL, json_object answers, explicit task,
 * async, http2 validation, batch-linger), the docs generated from the
 * option tables, and the client driven by the job's own event loop
 * (runtime/loop.h) the way the async operator drives it.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ai/model.h"
#include "ai/model_int.h"
#include "harness.h"
#include "loop.h"

typedef struct model {
    sl_arena arena;
    sl_option items[40];
    sl_options opts;
    sl_model_def def;
} model;

static sl_model_client *mk(model *m, const char *const *kv, sl_err *err)
{
    memset(m, 0, sizeof(*m));
    sl_arena_init(&m->arena, 4096, 0);
    int n = 0;
    for (int i = 0; kv[i]; i += 2) {
        m->items[n].key = kv[i];
        m->items[n].value = kv[i + 1];
        n++;
    }
    m->opts.n = n;
    m->opts.items = m->items;
    const char *in[] = {"text"};
    const sl_type *ty[] = {sl_type_simple(SL_TYPE_VARCHAR)};
    m->def.name = "m";
    m->def.input = sl_schema_new(&m->arena, 1, in, ty);
    m->def.output = sl_schema_new(&m->arena, 1, in, ty);
    m->def.options = &m->opts;
    sl_err_clear(err);
    return sl_model_client_new(&m->def, NULL, err);
}

static void done(model *m, sl_model_client *c)
{
    sl_model_client_free(c);
    sl_arena_free(&m->arena);
}

static char *url(int port, const char *path)
{
    static char buf[4][256];
    static int k;
    char *b = buf[k++ % 4];
    sl_snprintf(b, 256, "http://127.0.0.1:%d%s", port, path);
    return b;
}

static char *stats(int port)
{
    sl_buf out;
    sl_buf_init(&out, 0);
    const char *argv[] = {"/usr/bin/curl", "-sS", url(port, "/stats"), NULL};
    sl_test_run(argv, NULL, &out, NULL, 10000);
    return sl_buf_steal(&out);
}

static long stat_num(int port, const char *key)
{
    char *s = stats(port);
    char pat[64];
    sl_snprintf(pat, sizeof(pat), "\"%s\": ", key);
    const char *p = s ? strstr(s, pat) : NULL;
    long v = p ? strtol(p + strlen(pat), NULL, 10) : -1;
    sl_free(s);
    return v;
}

/* Submit one text row and wait for its result (copied into out). */
static void one(sl_model_client *c, uint64_t seq, const char *text,
                sl_model_result *out, char *txt, size_t txt_size)
{
    sl_value v = {
        .kind = SL_V_TEXT, .len = (uint32_t)strlen(text), .u.s = text};
    sl_err err;
    cr_assert_eq(sl_model_client_submit(c, seq, &v, &err), SL_OK, "%s",
                 err.msg);
    int64_t end = sl_now_ms() + 20000;
    while (sl_now_ms() < end) {
        if (sl_model_client_next_result(c, out) == SL_OK) {
            txt[0] = '\0';
            if (out->outputs[0].kind == SL_V_TEXT)
                sl_strlcpy(txt, out->outputs[0].u.s, txt_size);
            else if (out->error)
                sl_strlcpy(txt, out->error, txt_size);
            return;
        }
        sl_model_client_run(c, 20);
    }
    cr_assert_fail("no result");
}

Test(ai_options, retry_num_bounds_attempts, .timeout = 60)
{
    const char *args[] = {"--rate-500", "1", NULL};
    int port;
    sl_test_proc *srv = sl_test_http_start(args, &port);
    const char *kv[] = {"provider",
                        "openai",
                        "endpoint",
                        url(port, "/v1/chat/completions"),
                        "retry-num",
                        "2",
                        "retry-backoff-strategy",
                        "FIXED",
                        "retry-backoff-base-interval",
                        "5 ms",
                        NULL};
    model m;
    sl_err err;
    sl_model_client *c = mk(&m, kv, &err);
    cr_assert_not_null(c, "%s", err.msg);
    sl_model_result r;
    char txt[512];
    one(c, 0, "x", &r, txt, sizeof(txt));
    cr_assert_eq(r.status, SL_MODEL_ROW_FAILED);
    cr_assert_eq(r.http_status, 500);
    cr_assert(strstr(txt, "gave up after 3 attempts"), "%s", txt);
    cr_assert(strstr(txt, "internal error"), "%s", txt);
    cr_assert_eq(stat_num(port, "requests"), 3);
    sl_model_metrics mt;
    sl_model_client_metrics(c, &mt);
    cr_assert_eq(mt.retries_5xx, 2);
    done(&m, c);
    sl_test_proc_stop(srv, SIGTERM, 5000);
}

Test(ai_options, failover_does_not_retry, .timeout = 60)
{
    const char *args[] = {"--rate-500", "1", NULL};
    int port;
    sl_test_proc *srv = sl_test_http_start(args, &port);
    const char *kv[] = {"provider",
                        "openai",
                        "endpoint",
                        url(port, "/v1/chat/completions"),
                        "error-handling-strategy",
                        "FAILOVER",
                        NULL};
    model m;
    sl_err err;
    sl_model_client *c = mk(&m, kv, &err);
    cr_assert_not_null(c, "%s", err.msg);
    sl_model_result r;
    char txt[512];
    one(c, 0, "x", &r, txt, sizeof(txt));
    cr_assert_eq(r.status, SL_MODEL_ROW_FAILED);
    cr_assert_eq(stat_num(port, "requests"), 1);
    done(&m, c);
    sl_test_proc_stop(srv, SIGTERM, 5000);
}

Test(ai_options, headers_size_ttl_format_task_async, .timeout = 60)
{
    int port;
    sl_test_proc *srv = sl_test_http_start(NULL, &port);
    model m;
    sl_err err;
    sl_model_result r;
    char txt[512];
    /* header.* and async */
    const char *kv1[] = {"provider",
                         "openai",
                         "endpoint",
                         url(port, "/v1/chat/completions"),
                         "header.X-Test",
                         "abc",
                         "async",
                         "false",
                         "task",
                         "chat",
                         NULL};
    sl_model_client *c = mk(&m, kv1, &err);
    cr_assert_not_null(c, "%s", err.msg);
    one(c, 0, "x", &r, txt, sizeof(txt));
    cr_assert_str_eq(txt, "echo: x");
    char *st = stats(port);
    cr_assert(strstr(st, "\"x_test\": \"abc\""), "%s", st);
    sl_free(st);
    done(&m, c);
    /* max-response-size */
    const char *kv2[] = {"provider",
                         "openai",
                         "endpoint",
                         url(port, "/v1/chat/completions"),
                         "max-response-size",
                         "32",
                         NULL};
    c = mk(&m, kv2, &err);
    cr_assert_not_null(c, "%s", err.msg);
    one(c, 0, "x", &r, txt, sizeof(txt));
    cr_assert_eq(r.status, SL_MODEL_ROW_FAILED);
    cr_assert_eq(r.error_code, SL_LIMIT, "%s", txt);
    cr_assert(strstr(txt, "max-response-size"), "%s", txt);
    done(&m, c);
    /* cache.ttl expiry */
    long before = stat_num(port, "chat");
    const char *kv3[] = {
        "provider",   "openai", "endpoint",  url(port, "/v1/chat/completions"),
        "cache.size", "4",      "cache.ttl", "100 ms",
        NULL};
    c = mk(&m, kv3, &err);
    cr_assert_not_null(c, "%s", err.msg);
    one(c, 0, "same", &r, txt, sizeof(txt));
    one(c, 1, "same", &r, txt, sizeof(txt));
    cr_assert(r.from_cache);
    usleep(200000);
    one(c, 2, "same", &r, txt, sizeof(txt));
    cr_assert(!r.from_cache);
    cr_assert_eq(stat_num(port, "chat") - before, 2);
    done(&m, c);
    /* json_object answers into a single STRING column named like the key */
    const char *kv4[] = {"provider",
                         "openai",
                         "endpoint",
                         url(port, "/v1/chat/completions"),
                         "response-format",
                         "json_object",
                         NULL};
    c = mk(&m, kv4, &err);
    cr_assert_not_null(c, "%s", err.msg);
    one(c, 0, "y", &r, txt, sizeof(txt));
    cr_assert_eq(r.status, SL_MODEL_ROW_OK, "%s", txt);
    cr_assert_str_eq(txt, "echo: y");
    done(&m, c);
    sl_test_proc_stop(srv, SIGTERM, 5000);
}

Test(ai_options, invalid_values_are_named)
{
    model m;
    sl_err err;
    const char *kv1[] = {"provider", "openai", "endpoint", "http://x/v1/chat",
                         "http2",    "maybe",  NULL};
    cr_assert_null(mk(&m, kv1, &err));
    cr_assert(strstr(err.msg, "'http2'"), "%s", err.msg);
    sl_arena_free(&m.arena);
    const char *kv2[] = {"provider",   "openai", "endpoint", "http://x/v1/chat",
                         "batch-size", "4",      NULL};
    cr_assert_null(mk(&m, kv2, &err)); /* chat takes one row per request */
    cr_assert(strstr(err.msg, "'batch-size'"), "%s", err.msg);
    sl_arena_free(&m.arena);
    const char *kv3[] = {"provider", "openai", "endpoint", "http://x/v1/chat",
                         "timeout",  "soon",   NULL};
    cr_assert_null(mk(&m, kv3, &err));
    cr_assert(strstr(err.msg, "'timeout'"), "%s", err.msg);
    sl_arena_free(&m.arena);
    const char *kv4[] = {
        "provider",    "openai", "endpoint", "http://x/v1/chat",
        "temperature", "7",      NULL};
    cr_assert_null(mk(&m, kv4, &err));
    cr_assert(strstr(err.msg, "'temperature'"), "%s", err.msg);
    sl_arena_free(&m.arena);
    /* call options override model options */
    const char *kv5[] = {"provider",
                         "openai",
                         "endpoint",
                         "http://x/v1/chat",
                         "max-concurrent-operations",
                         "0",
                         NULL};
    cr_assert_null(mk(&m, kv5, &err));
    sl_option call[] = {{"max-concurrent-operations", "3", false}};
    sl_options copts = {1, call};
    sl_err_clear(&err);
    sl_model_client *c = sl_model_client_new(&m.def, &copts, &err);
    cr_assert_not_null(c, "%s", err.msg);
    sl_model_metrics mt;
    sl_model_client_metrics(c, &mt);
    cr_assert_float_eq(mt.concurrency_limit, 3.0, 1e-9);
    done(&m, c);
}

/* docs/ai.md carries the option tables generated from the code; set
 * SLUICE_REGEN_DOCS=1 to rewrite the generated part. */
static void table(sl_buf *b, const sl_option_def *defs)
{
    sl_buf_puts(b, "| option | type | default | meaning |\n");
    sl_buf_puts(b, "| --- | --- | --- | --- |\n");
    for (int i = 0; defs[i].key; i++)
        sl_buf_printf(b, "| `%s` | %s | %s | %s |\n", defs[i].key, defs[i].type,
                      defs[i].dflt ? defs[i].dflt : "(none)", defs[i].doc);
}

Test(ai_options, docs_match_option_tables)
{
    sl_buf gen;
    sl_buf_init(&gen, 0);
    sl_buf_puts(&gen, "<!-- generated from the option tables: begin -->\n");
    sl_buf_puts(&gen, "### Options of every model\n\n");
    table(&gen, sl_model_common_options());
    for (int i = 0; i < sl_model_provider_count(); i++) {
        const sl_model_provider *p = sl_model_provider_at(i);
        sl_buf_printf(&gen, "\n### Provider `%s`\n\n%s\n\n", p->name, p->doc);
        table(&gen, p->options);
    }
    sl_buf_puts(&gen, "<!-- generated from the option tables: end -->\n");
    char path[1024];
    sl_snprintf(path, sizeof(path), "%s/docs/ai.md", sl_test_source_dir());
    char *doc = sl_test_read_file(path, NULL);
    cr_assert_not_null(doc, "%s missing", path);
    const char *b = strstr(doc, "<!-- generated from the option tables: begin");
    const char *e = strstr(doc, "<!-- generated from the option tables: end");
    cr_assert(b && e);
    const char *eol = strchr(e, '\n');
    e = eol ? eol + 1 : e + strlen(e);
    if (getenv("SLUICE_REGEN_DOCS")) {
        sl_buf out;
        sl_buf_init(&out, 0);
        sl_buf_append(&out, doc, (size_t)(b - doc));
        sl_buf_append(&out, gen.data, gen.len);
        sl_buf_puts(&out, e);
        sl_test_write_file(path, sl_buf_cstr(&out));
        sl_buf_free(&out);
    } else {
        size_t len = (size_t)(e - b);
        cr_assert(len == gen.len && !memcmp(b, gen.data, len),
                  "docs/ai.md is stale: run SLUICE_REGEN_DOCS=1 "
                  "build/tests/test_ai_options --filter 'ai_options/docs*'");
    }
    sl_free(doc);
    sl_buf_free(&gen);
}

/* The operator's wiring: sockets into the job loop through the fd
 * callback, one one-shot timer re-armed from timeout_ms. */
typedef struct wire {
    sl_loop *loop;
    sl_model_client *client;
    uint64_t timer;
    int n;
} wire;

static void on_fd(sl_loop *loop, int fd, unsigned events, void *ctx)
{
    SL_UNUSED(loop);
    wire *w = ctx;
    int ev = 0;
    if (events & (SL_LOOP_READ | SL_LOOP_ERROR))
        ev |= SL_MODEL_FD_IN;
    if (events & SL_LOOP_WRITE)
        ev |= SL_MODEL_FD_OUT;
    sl_model_client_on_fd(w->client, fd, ev);
}

static void fd_changed(void *ctx, int fd, int events)
{
    wire *w = ctx;
    sl_err err;
    if (!events) {
        sl_loop_del_fd(w->loop, fd);
        return;
    }
    unsigned le = ((events & SL_MODEL_FD_IN) ? SL_LOOP_READ : 0) |
                  ((events & SL_MODEL_FD_OUT) ? SL_LOOP_WRITE : 0);
    cr_assert_eq(sl_loop_add_fd(w->loop, fd, le, on_fd, w, &err), SL_OK);
}

static void on_timer(sl_loop *loop, uint64_t id, void *ctx)
{
    SL_UNUSED(loop);
    SL_UNUSED(id);
    wire *w = ctx;
    w->timer = 0;
    sl_model_client_on_timeout(w->client);
}

static void rearm(wire *w)
{
    int64_t t = sl_model_client_timeout_ms(w->client);
    sl_loop_cancel_timer(w->loop, w->timer);
    w->timer = 0;
    if (t >= 0) {
        sl_err err;
        sl_loop_add_timer(w->loop, t, 0, on_timer, w, &w->timer, &err);
    }
}

Test(ai_options, driven_by_the_job_loop, .timeout = 60)
{
    const char *args[] = {"--latency-ms", "20", "--rate-500", "0.2", NULL};
    int port;
    sl_test_proc *srv = sl_test_http_start(args, &port);
    const char *kv[] = {"provider",
                        "openai",
                        "endpoint",
                        url(port, "/v1/chat/completions"),
                        "retry-backoff-base-interval",
                        "5 ms",
                        "max-concurrent-operations",
                        "8",
                        NULL};
    model m;
    sl_err err;
    wire w = {0};
    w.client = mk(&m, kv, &err);
    cr_assert_not_null(w.client, "%s", err.msg);
    cr_assert_eq(sl_loop_new(&w.loop, &err), SL_OK);
    sl_model_client_set_fd_cb(w.client, fd_changed, &w);
    int next = 0;
    int64_t end = sl_now_ms() + 30000;
    while (w.n < 50 && sl_now_ms() < end) {
        while (next < 50) {
            sl_value v = {.kind = SL_V_TEXT, .len = 1, .u.s = "z"};
            if (sl_model_client_submit(w.client, (uint64_t)next, &v, &err))
                break;
            next++;
        }
        rearm(&w);
        cr_assert_eq(sl_loop_run_once(w.loop, 100, NULL, &err), SL_OK);
        sl_model_result r;
        while (sl_model_client_next_result(w.client, &r) == SL_OK) {
            cr_assert_eq(r.seq, (uint64_t)w.n);
            cr_assert_eq(r.status, SL_MODEL_ROW_OK, "%s", r.error);
            w.n++;
        }
    }
    cr_assert_eq(w.n, 50);
    sl_loop_cancel_timer(w.loop, w.timer);
    done(&m, w.client);
    sl_loop_free(w.loop);
    sl_test_proc_stop(srv, SIGTERM, 5000);
}
