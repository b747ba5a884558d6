/*
 * test_config.c: `sluice run job.yaml` as a user runs it. The shipped
 * examples turn into the expected SQL (--dry-run), ${ENV} and
 * ${ENV:-default} are interpolated and secrets masked in the printout, and
 * each malformed file in the table below fails with exit status 2 and the
 * exact message (file, line, key path, reason) and no crash.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static int run_config(const char *path, const char *mode, sl_buf *out,
                      sl_buf *err)
{
    sl_buf_init(out, 0);
    sl_buf_init(err, 0);
    const char *argv[] = {sl_test_sluice_bin(), "run", mode, path, NULL};
    if (!mode) {
        argv[2] = path;
        argv[3] = NULL;
    }
    return sl_test_run(argv, NULL, out, err, 30000);
}

static char *example(const char *name)
{
    return sl_asprintf("%s/examples/%s", sl_test_source_dir(), name);
}

Test(config, datagen_example_sql)
{
    char *path = example("datagen.yaml");
    sl_buf out, err;
    cr_assert_eq(run_config(path, "--dry-run", &out, &err), 0, "%s",
                 sl_buf_cstr(&err));
    cr_assert_str_eq(
        sl_buf_cstr(&out),
        "SET 'pipeline.name' = 'datagen-print';\n"
        "CREATE TABLE numbers (\n"
        "  n BIGINT\n"
        ") WITH (\n"
        "  'connector' = 'datagen',\n"
        "  'number-of-rows' = '100'\n"
        ");\n"
        "CREATE TABLE out (\n"
        "  n BIGINT\n"
        ") WITH (\n"
        "  'connector' = 'print'\n"
        ");\n"
        "INSERT INTO out SELECT n FROM numbers WHERE n % 2 = 0;\n");
    sl_buf_free(&out);
    sl_buf_free(&err);
    sl_free(path);
}

Test(config, clicks_example_sql_with_env)
{
    char *path = example("clicks.yaml");
    sl_buf out, err;
    unsetenv("LLM_ENDPOINT");
    setenv("KAFKA_BOOTSTRAP", "127.0.0.1:9092", 1);
    cr_assert_eq(run_config(path, "-n", &out, &err), 0, "%s",
                 sl_buf_cstr(&err));
    const char *sql = sl_buf_cstr(&out);
    static const char *const expect[] = {
        "SET 'pipeline.name' = 'clicks-per-user';\n",
        "SET 'parallelism.default' = '1';\n",
        "SET 'table.exec.source.idle-timeout' = '5 s';\n",
        "CREATE MODEL spam\nINPUT (url STRING)\nOUTPUT (score DOUBLE) WITH (\n"
        "  'provider' = 'openai',\n"
        "  'endpoint' = 'http://127.0.0.1:11434/v1/chat/completions',\n",
        "  'api-key' = '${LLM_API_KEY:-ollama}',\n",
        "CREATE TABLE clicks (\n  user_id BIGINT,\n  url STRING,\n"
        "  ts TIMESTAMP(3),\n  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND\n"
        ") WITH (\n  'connector' = 'kafka',\n  'topic' = 'clicks',\n"
        "  'properties.bootstrap.servers' = '127.0.0.1:9092',\n",
        "  clicks BIGINT,\n  PRIMARY KEY (user_id, window_start) NOT "
        "ENFORCED\n)",
        "INSERT INTO clicks_per_minute\nSELECT user_id, window_start, "
        "COUNT(*) AS clicks\n",
        "GROUP BY user_id, window_start, window_end;\nINSERT INTO flagged\n",
        "WHERE score > 0.9;\n",
    };
    const char *at = sql;
    for (size_t i = 0; i < SL_ARRAY_LEN(expect); i++) {
        const char *hit = strstr(at, expect[i]);
        cr_assert(hit, "missing (in order) %s\nin:\n%s", expect[i], sql);
        at = hit;
    }
    sl_buf_free(&out);
    sl_buf_free(&err);
    sl_free(path);
}

Test(config, secrets_masked_in_dry_run)
{
    char *path = example("sentiment.yaml");
    sl_buf out, err;
    setenv("OPENAI_API_KEY", "sk-very-secret", 1);
    cr_assert_eq(run_config(path, "--dry-run", &out, &err), 0, "%s",
                 sl_buf_cstr(&err));
    const char *sql = sl_buf_cstr(&out);
    cr_assert_null(strstr(sql, "sk-very-secret"), "%s", sql);
    cr_assert(strstr(sql, "'api-key' = '${OPENAI_API_KEY:-none}'"), "%s", sql);
    cr_assert(strstr(sql, "CREATE VIEW short_reviews AS\nSELECT id, text FROM "
                          "reviews WHERE CHAR_LENGTH(text) < 2000;\n"),
              "%s", sql);
    cr_assert(strstr(sql, "INSERT INTO labelled SELECT id, label FROM "
                          "ML_PREDICT(TABLE short_reviews, MODEL sentiment, "
                          "DESCRIPTOR(text));\n"),
              "%s", sql);
    sl_buf_free(&out);
    sl_buf_free(&err);
    sl_free(path);
}

/* A job file and the exact error it must produce. */
static const struct {
    const char *yaml;
    const char *error;
} bad[] = {
    /* 0 */
    {"name: x\ntables:\n  - name: a\n    columns: {x: INT}\n    with: {k: v}\n"
     "  - name: b\n    columns: {x: INT}\n    with: [1, 2]\nstatements: "
     "SELECT 1;\n",
     "bad.yaml:8: tables[1].with: expected a mapping of strings\n"},
    /* 1: unknown key with a suggestion */
    {"name: x\ntabels: []\nstatements: SELECT 1;\n",
     "bad.yaml:2: tabels: unknown key (did you mean 'tables'?)\n"},
    /* 2: unknown key far from every known one */
    {"name: x\nzzzzzzzz: 1\nstatements: SELECT 1;\n",
     "bad.yaml:2: zzzzzzzz: unknown key (expected one of: name, description, "
     "settings, models, tables, views, statements)\n"},
    /* 3: YAML syntax */
    {"name: x\nsettings: {a: 1\nstatements: SELECT 1;\n",
     "bad.yaml:3: did not find expected ',' or '}' while parsing a flow "
     "mapping\n"},
    /* 4: missing statements */
    {"name: x\n", "bad.yaml:1: missing key 'statements'\n"},
    /* 5: unset variable */
    {"name: x\nstatements: SELECT '${SLUICE_TEST_UNSET_VAR}';\n",
     "bad.yaml:2: statements: environment variable SLUICE_TEST_UNSET_VAR is "
     "not set\n"},
    /* 6: malformed reference */
    {"name: x\nstatements: SELECT '${BROKEN';\n",
     "bad.yaml:2: statements: malformed variable reference (expected ${NAME} "
     "or ${NAME:-default})\n"},
    /* 7: table without columns */
    {"statements: SELECT 1;\ntables:\n  - name: t\n    with: {connector: "
     "print}\n",
     "bad.yaml:3: tables[0]: missing key 'columns'\n"},
    /* 8: a nested value in a with mapping */
    {"statements: SELECT 1;\nmodels:\n  - name: m\n    input: {a: STRING}\n"
     "    output: {b: STRING}\n    with:\n      provider: openai\n"
     "      headers:\n        x: y\n",
     "bad.yaml:9: models[0].with: expected a mapping of strings\n"},
    /* 9: the top level is a list */
    {"- a\n- b\n",
     "bad.yaml:1: expected a mapping with name, settings, models, tables, "
     "views and statements, found a list\n"},
    /* 10: duplicate key */
    {"name: a\nname: b\nstatements: SELECT 1;\n",
     "bad.yaml:2: name: duplicate key\n"},
    /* 11: a type that smuggles a statement */
    {"statements: SELECT 1;\ntables:\n  - name: t\n    columns:\n      a: "
     "INT; DROP TABLE x\n    with: {connector: print}\n",
     "bad.yaml:5: tables[0].columns.a: a SQL type must not contain ';'\n"},
    /* 12: misspelt entry key */
    {"statements: SELECT 1;\nmodels:\n  - name: m\n    inputs: {a: STRING}\n",
     "bad.yaml:4: models[0].inputs: unknown key (did you mean 'input'?)\n"},
    /* 13: empty file */
    {"", "bad.yaml:1: the file is empty (expected a job)\n"},
    /* 14: two documents */
    {"statements: SELECT 1;\n---\nname: again\n",
     "bad.yaml:3: only one YAML document is allowed\n"},
    /* 15: watermark without its expression */
    {"statements: SELECT 1;\ntables:\n  - name: t\n    columns: {ts: "
     "TIMESTAMP(3)}\n    watermark: {column: ts}\n    with: {connector: "
     "print}\n",
     "bad.yaml:5: tables[0].watermark: missing key 'expression'\n"},
    /* 16: statements that are only comments */
    {"statements: |\n  -- nothing here\n",
     "bad.yaml:1: statements: expected SQL text, found no statement\n"},
    /* 17: a tab where YAML wants spaces */
    {"name: x\n\tstatements: SELECT 1;\n",
     "bad.yaml:2: found a tab character that violates indentation while "
     "scanning a plain scalar\n"},
    /* 18: a list where a name is expected */
    {"statements: SELECT 1;\nviews:\n  - name: [a]\n    query: SELECT 1\n",
     "bad.yaml:3: views[0].name: expected a name, found a list\n"},
};

Test(config, malformed_files_give_precise_errors)
{
    char *dir = sl_test_tmpdir();
    char *path = sl_asprintf("%s/bad.yaml", dir);
    unsetenv("SLUICE_TEST_UNSET_VAR");
    for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
        cr_assert_eq(sl_test_write_file(path, bad[i].yaml), 0);
        char *cwd_path = path;
        sl_buf out, err;
        /* run from the directory so the message says bad.yaml */
        const char *argv[] = {"/bin/sh", "-c", NULL, NULL};
        char *cmd = sl_asprintf("cd '%s' && exec '%s' run --dry-run bad.yaml",
                                dir, sl_test_sluice_bin());
        argv[2] = cmd;
        sl_buf_init(&out, 0);
        sl_buf_init(&err, 0);
        int rc = sl_test_run(argv, NULL, &out, &err, 30000);
        cr_expect_eq(rc, 2, "case %zu: exit %d", i, rc);
        cr_expect_str_eq(sl_buf_cstr(&err), bad[i].error, "case %zu", i);
        cr_expect_str_eq(sl_buf_cstr(&out), "", "case %zu", i);
        sl_free(cmd);
        sl_buf_free(&out);
        sl_buf_free(&err);
        (void)cwd_path;
    }
    sl_free(path);
    sl_test_tmpdir_remove(dir);
}

Test(config, usage_errors)
{
    sl_buf out, err;
    cr_assert_eq(run_config("/nonexistent/job.yaml", NULL, &out, &err), 2);
    cr_assert(strstr(sl_buf_cstr(&err), "cannot open /nonexistent/job.yaml"));
    sl_buf_free(&out);
    sl_buf_free(&err);
    const char *argv[] = {sl_test_sluice_bin(), "run", NULL};
    sl_buf_init(&out, 0);
    sl_buf_init(&err, 0);
    cr_assert_eq(sl_test_run(argv, NULL, &out, &err, 30000), 2);
    cr_assert(strstr(sl_buf_cstr(&err), "missing job file"));
    sl_buf_free(&out);
    sl_buf_free(&err);
}

Test(config, run_reports_engine_errors_with_file_and_line)
{
    /* statements reach the engine; its message is prefixed with the file
     * and the statement is padded to its line in the file */
    char *dir = sl_test_tmpdir();
    char *path = sl_asprintf("%s/job.yaml", dir);
    cr_assert_eq(sl_test_write_file(path, "name: j\nstatements: |\n"
                                          "  ;\n  THIS IS NOT SQL;\n"),
                 0);
    sl_buf out, err;
    int rc = run_config(path, NULL, &out, &err);
    cr_assert_eq(rc, 1, "exit %d: %s", rc, sl_buf_cstr(&err));
    cr_assert(strncmp(sl_buf_cstr(&err), path, strlen(path)) == 0, "%s",
              sl_buf_cstr(&err));
    sl_buf_free(&out);
    sl_buf_free(&err);
    sl_free(path);
    sl_test_tmpdir_remove(dir);
}
