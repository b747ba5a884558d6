/*
 * test_examples.c: the files in examples/ run as a user runs them: the
 * config-file jobs through `sluice run` (the OpenAI one against the local
 * mock server, via OPENAI_BASE_URL) and the demo SQL through `sluice -f`.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static int run_example(const char *const argv[], sl_buf *out, sl_buf *err)
{
    sl_buf_init(out, 0);
    sl_buf_init(err, 0);
    return sl_test_run(argv, NULL, out, err, 60000);
}

static int count_lines(const char *s, const char *prefix)
{
    int n = 0;
    for (const char *p = s; p && *p;) {
        if (!strncmp(p, prefix, strlen(prefix)))
            n++;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return n;
}

Test(examples, datagen_yaml_runs)
{
    char path[1024];
    sl_snprintf(path, sizeof(path), "%s/examples/datagen.yaml",
                sl_test_source_dir());
    const char *argv[] = {sl_test_sluice_bin(), "run", path, NULL};
    sl_buf out, err;
    cr_assert_eq(run_example(argv, &out, &err), 0, "%s", sl_buf_cstr(&err));
    int n = count_lines(sl_buf_cstr(&out), "+I[");
    cr_assert(n > 20 && n < 80, "%d rows:\n%s", n, sl_buf_cstr(&out));
    sl_buf_free(&out);
    sl_buf_free(&err);
}

Test(examples, sentiment_yaml_runs_against_a_model_server, .timeout = 60)
{
    int port = 0;
    sl_test_proc *srv = sl_test_http_start(NULL, &port);
    cr_assert_not_null(srv);
    char base[128], path[1024], reviews[1024];
    sl_snprintf(base, sizeof(base), "http://127.0.0.1:%d/v1", port);
    sl_snprintf(path, sizeof(path), "%s/examples/sentiment.yaml",
                sl_test_source_dir());
    sl_snprintf(reviews, sizeof(reviews), "%s/examples/reviews.jsonl",
                sl_test_source_dir());
    setenv("OPENAI_BASE_URL", base, 1);
    setenv("REVIEWS", reviews, 1);
    const char *argv[] = {sl_test_sluice_bin(), "run", path, NULL};
    sl_buf out, err;
    cr_assert_eq(run_example(argv, &out, &err), 0, "%s", sl_buf_cstr(&err));
    cr_assert_eq(count_lines(sl_buf_cstr(&out), "+I["), 5, "%s",
                 sl_buf_cstr(&out));
    cr_assert(strstr(sl_buf_cstr(&out), "+I[2, echo: Broke after two days"),
              "%s", sl_buf_cstr(&out));
    sl_buf_free(&out);
    sl_buf_free(&err);
    sl_test_proc_stop(srv, SIGTERM, 5000);
}

Test(examples, demo_sql_scores_with_xgboost)
{
    char path[1024];
    sl_snprintf(path, sizeof(path), "%s/examples/demo.sql",
                sl_test_source_dir());
    const char *argv[] = {"/bin/sh", "-c", NULL, NULL};
    char cmd[2048];
    sl_snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' -f '%s'",
                sl_test_source_dir(), sl_test_sluice_bin(), path);
    argv[2] = cmd;
    sl_buf out, err;
    cr_assert_eq(run_example(argv, &out, &err), 0, "%s", sl_buf_cstr(&err));
    cr_assert(strstr(sl_buf_cstr(&out), "AsyncModel: fraud [provider=xgboost]"),
              "%s", sl_buf_cstr(&out));
    cr_assert(count_lines(sl_buf_cstr(&out), "alert> +I[") >= 5, "%s",
              sl_buf_cstr(&out));
    sl_buf_free(&out);
    sl_buf_free(&err);
}
