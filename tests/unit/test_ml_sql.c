/*
 * test_ml_sql.c: model calls from SQL, end to end: ML_PREDICT and LLM_CALL /
 * EMBED planned into the async model operator, run against the local
 * OpenAI-compatible mock server (tests/servers/mock_openai.py) over real
 * HTTP, with injected 429s and 500s. Every input row must come out exactly
 * once, in input order (ORDERED), with the model's answer.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef struct rows {
    int n;
    int64_t ids[4096];
    char answers[4096][96];
} rows;

static int collect(void *ctx, const sluice_row *row)
{
    rows *r = ctx;
    if (r->n >= 4096)
        return 1;
    r->ids[r->n] = sluice_row_int64(row, 0);
    const char *a = sluice_row_text(row, 1);
    sl_strlcpy(r->answers[r->n], a ? a : "<null>", sizeof(r->answers[0]));
    r->n++;
    return 0;
}

static sluice *open_with_models(int port, const char *extra_model_opts)
{
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    setenv("SLUICE_TEST_KEY", "sk-test-secret", 1);
    char sql[4096];
    sl_snprintf(
        sql, sizeof(sql),
        "CREATE TABLE reviews (id BIGINT, body STRING) WITH ("
        "'connector' = 'datagen', 'number-of-rows' = '300', "
        "'rows-per-second' = '100000', 'seed' = '3', "
        "'fields.id.kind' = 'sequence', 'fields.id.start' = '1', "
        "'fields.id.end' = '300', 'fields.body.length' = '8');"
        "CREATE MODEL chat INPUT (prompt STRING) OUTPUT (answer STRING) "
        "WITH ('provider' = 'openai', 'endpoint' = "
        "'http://127.0.0.1:%d/v1/chat/completions', 'model' = 'mock', "
        "'api-key' = '${SLUICE_TEST_KEY}', "
        "'retry-backoff-base-interval' = '10 ms'%s);"
        "CREATE MODEL emb INPUT (text STRING) OUTPUT (v ARRAY<FLOAT>) "
        "WITH ('provider' = 'openai', 'endpoint' = "
        "'http://127.0.0.1:%d/v1/embeddings', 'model' = 'mock', "
        "'api-key' = '${SLUICE_TEST_KEY}', 'dimension' = '4');",
        port, extra_model_opts ? extra_model_opts : "", port);
    int rc = sluice_exec(db, sql, NULL, NULL);
    cr_assert_eq(rc, SLUICE_OK, "%s", sluice_errmsg(db));
    return db;
}

static void check_in_order(const rows *r, int n, const char *prefix)
{
    cr_assert_eq(r->n, n, "%d rows out, want %d", r->n, n);
    for (int i = 0; i < r->n; i++) {
        cr_assert_eq(r->ids[i], i + 1, "row %d has id %lld", i,
                     (long long)r->ids[i]);
        cr_assert(!strncmp(r->answers[i], prefix, strlen(prefix)),
                  "row %d answer '%s'", i, r->answers[i]);
    }
}

Test(ml_sql, ml_predict_survives_faults_in_order, .timeout = 120)
{
    const char *args[] = {
        "--latency-ms", "5",   "--rate-429", "0.1", "--retry-after", "0",
        "--rate-500",   "0.1", NULL};
    int port = 0;
    sl_test_proc *srv = sl_test_http_start(args, &port);
    cr_assert_not_null(srv);
    sluice *db = open_with_models(port, NULL);
    rows *r = calloc(1, sizeof(*r));
    int rc = sluice_exec(db,
                         "SELECT id, answer FROM ML_PREDICT(TABLE reviews, "
                         "MODEL chat, DESCRIPTOR(body), "
                         "MAP['max-concurrent-operations', '16'])",
                         collect, r);
    cr_assert_eq(rc, SLUICE_OK, "%s", sluice_errmsg(db));
    check_in_order(r, 300, "echo: ");
    free(r);
    sluice_close(db);
    sl_test_proc_stop(srv, SIGTERM, 5000);
}

Test(ml_sql, llm_call_and_embed_in_expressions, .timeout = 120)
{
    const char *args[] = {"--latency-ms", "2", NULL};
    int port = 0;
    sl_test_proc *srv = sl_test_http_start(args, &port);
    cr_assert_not_null(srv);
    sluice *db = open_with_models(port, NULL);
    rows *r = calloc(1, sizeof(*r));
    int rc = sluice_exec(
        db,
        "SELECT r.id, UPPER(LLM_CALL('chat', 'Say: ' || r.body)) || '/' || "
        "CAST(CARDINALITY(EMBED('emb', body)) AS STRING) FROM reviews AS r "
        "WHERE id <= 50",
        collect, r);
    cr_assert_eq(rc, SLUICE_OK, "%s", sluice_errmsg(db));
    check_in_order(r, 50, "ECHO: SAY: ");
    for (int i = 0; i < r->n; i++)
        cr_assert(strstr(r->answers[i], "/4"), "%s", r->answers[i]);
    free(r);
    sluice_close(db);
    sl_test_proc_stop(srv, SIGTERM, 5000);
}

Test(ml_sql, permanent_error_fails_the_job_without_the_key, .timeout = 60)
{
    int port = 0;
    sl_test_proc *srv = sl_test_http_start(NULL, &port);
    cr_assert_not_null(srv);
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    setenv("SLUICE_TEST_KEY", "sk-test-secret", 1);
    char sql[2048];
    sl_snprintf(sql, sizeof(sql),
                "CREATE TABLE t (id BIGINT, body STRING) WITH ('connector' "
                "= 'datagen', 'number-of-rows' = '3');"
                "CREATE MODEL bad INPUT (p STRING) OUTPUT (a STRING) WITH "
                "('provider' = 'openai', 'endpoint' = "
                "'http://127.0.0.1:%d/v1/nothing', 'model' = 'mock', "
                "'api-key' = '${SLUICE_TEST_KEY}');",
                port);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK);
    rows *r = calloc(1, sizeof(*r));
    int rc = sluice_exec(db,
                         "SELECT id, a FROM ML_PREDICT(TABLE t, MODEL bad, "
                         "DESCRIPTOR(body))",
                         collect, r);
    cr_assert_neq(rc, SLUICE_OK);
    cr_assert(strstr(sluice_errmsg(db), "404"), "%s", sluice_errmsg(db));
    cr_assert_null(strstr(sluice_errmsg(db), "sk-test-secret"));
    /* SHOW CREATE MODEL shows the reference, never the value */
    free(r);
    sluice_close(db);
    sl_test_proc_stop(srv, SIGTERM, 5000);
}

static int grab_text(void *ctx, const sluice_row *row)
{
    sl_buf *b = ctx;
    const char *t = sluice_row_text(row, 0);
    sl_buf_puts(b, t ? t : "");
    return 0;
}

Test(ml_sql, explain_and_show_create_mask_secrets)
{
    sluice *db = open_with_models(1, ", 'output-mode' = 'ALLOW_UNORDERED'");
    sl_buf b;
    sl_buf_init(&b, 0);
    int rc = sluice_exec(db,
                         "EXPLAIN SELECT id, answer FROM ML_PREDICT(TABLE "
                         "reviews, MODEL chat, DESCRIPTOR(body), "
                         "MAP['max-concurrent-operations', '64'])",
                         grab_text, &b);
    cr_assert_eq(rc, SLUICE_OK, "%s", sluice_errmsg(db));
    cr_assert(strstr(sl_buf_cstr(&b), "AsyncModel: chat [provider=openai]"),
              "%s", sl_buf_cstr(&b));
    cr_assert(strstr(sl_buf_cstr(&b), "'max-concurrent-operations'='64'"));
    cr_assert_null(strstr(sl_buf_cstr(&b), "sk-test-secret"));
    sl_buf_reset(&b);
    sluice_exec(db,
                "CREATE MODEL lit INPUT (p STRING) OUTPUT (a STRING) WITH "
                "('provider' = 'openai', 'api-key' = 'sk-literal');"
                "SHOW CREATE MODEL lit",
                grab_text, &b);
    cr_assert(strstr(sl_buf_cstr(&b), "'api-key' = '****'"), "%s",
              sl_buf_cstr(&b));
    cr_assert_null(strstr(sl_buf_cstr(&b), "sk-literal"));
    sl_buf_free(&b);
    sluice_close(db);
}

typedef struct seen {
    int n;
    char answers[400];
} seen;

static int mark_rows(void *ctx, const sluice_row *row)
{
    seen *s = ctx;
    int64_t id = sluice_row_int64(row, 0);
    if (id >= 1 && id < 400)
        s->answers[id]++;
    s->n++;
    return 0;
}

/* With 'error-handling-strategy' = 'IGNORE' and 'error.sink', rows whose
 * calls fail (30% 500s, no retries) go to the dead-letter table with the
 * error; every input row ends up exactly once in the output or there. */
Test(ml_sql, dead_letter_sink_gets_failed_rows, .timeout = 120)
{
    const char *args[] = {"--rate-500", "0.3", NULL};
    int port = 0;
    sl_test_proc *srv = sl_test_http_start(args, &port);
    cr_assert_not_null(srv);
    sluice *db = open_with_models(port, ", 'error-handling-strategy' = "
                                        "'IGNORE', 'retry-num' = '0'");
    char *dir = sl_test_tmpdir();
    char sql[1024];
    sl_snprintf(sql, sizeof(sql),
                "CREATE TABLE dead (id BIGINT, body STRING, error STRING, "
                "http_status INT) WITH ('connector' = 'filesystem', 'path' "
                "= '%s/dead.jsonl', 'format' = 'json');",
                dir);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK, "%s",
                 sluice_errmsg(db));
    seen *s = calloc(1, sizeof(*s));
    int rc = sluice_exec(db,
                         "SELECT id, answer FROM ML_PREDICT(TABLE reviews, "
                         "MODEL chat, DESCRIPTOR(body), MAP['error.sink', "
                         "'dead', 'max-concurrent-operations', '8'])",
                         mark_rows, s);
    cr_assert_eq(rc, SLUICE_OK, "%s", sluice_errmsg(db));
    /* read the dead letters back through the engine */
    sl_snprintf(sql, sizeof(sql),
                "CREATE TABLE dead_in (id BIGINT, error STRING, http_status "
                "INT) WITH ('connector' = 'filesystem', 'path' = "
                "'%s/dead.jsonl', 'format' = 'json');",
                dir);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK);
    int out_rows = s->n;
    rc = sluice_exec(db,
                     "SELECT id, error FROM dead_in WHERE http_status = 500 "
                     "AND error LIKE '%HTTP 500%'",
                     mark_rows, s);
    cr_assert_eq(rc, SLUICE_OK, "%s", sluice_errmsg(db));
    int dead_rows = s->n - out_rows;
    cr_assert(dead_rows > 30 && out_rows > 100, "out %d dead %d", out_rows,
              dead_rows);
    for (int id = 1; id <= 300; id++)
        cr_assert_eq(s->answers[id], 1, "row %d seen %d times", id,
                     s->answers[id]);
    free(s);
    sl_test_tmpdir_remove(dir);
    sluice_close(db);
    sl_test_proc_stop(srv, SIGTERM, 5000);
}

/* ${VAR:-default} in a model option: the default when VAR is unset. */
Test(ml_sql, env_default_in_model_options, .timeout = 60)
{
    int port = 0;
    sl_test_proc *srv = sl_test_http_start(NULL, &port);
    cr_assert_not_null(srv);
    unsetenv("SLUICE_UNSET_KEY");
    sluice *db = NULL;
    cr_assert_eq(sluice_open(&db), SLUICE_OK);
    char sql[2048];
    sl_snprintf(sql, sizeof(sql),
                "CREATE TABLE t (id BIGINT, body STRING) WITH ('connector' "
                "= 'datagen', 'number-of-rows' = '3', 'fields.id.kind' = "
                "'sequence', 'fields.id.start' = '1', 'fields.id.end' = "
                "'3');"
                "CREATE MODEL m INPUT (p STRING) OUTPUT (a STRING) WITH "
                "('provider' = 'openai', 'endpoint' = "
                "'http://127.0.0.1:%d/v1/chat/completions', 'model' = "
                "'mock', 'api-key' = '${SLUICE_UNSET_KEY:-fallback}');",
                port);
    cr_assert_eq(sluice_exec(db, sql, NULL, NULL), SLUICE_OK);
    rows *r = calloc(1, sizeof(*r));
    int rc =
        sluice_exec(db, "SELECT id, LLM_CALL('m', body) FROM t", collect, r);
    cr_assert_eq(rc, SLUICE_OK, "%s", sluice_errmsg(db));
    check_in_order(r, 3, "echo: ");
    free(r);
    sluice_close(db);
    sl_test_proc_stop(srv, SIGTERM, 5000);
}
