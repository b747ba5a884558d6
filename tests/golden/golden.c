/*
 * golden.c: discovery and comparison for the golden SQL tests.
 *
 * Walks tests/sql/<mode>/ for *.test files (see golden.h for the format),
 * makes each one a Criterion parameterized test, runs it through its mode
 * and compares the result with the expected output or error text exactly.
 * A failing case prints the file name, the expected and the actual text.
 * SLUICE_GOLDEN_FILTER=substring runs only matching cases.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "harness.h"

#define MAX_CASES 4096

typedef struct golden_param {
    char mode[64];
    char path[512];
} golden_param;

static int cmp_param(const void *a, const void *b)
{
    return strcmp(((const golden_param *)a)->path,
                  ((const golden_param *)b)->path);
}

static void free_params(struct criterion_test_params *crp)
{
    cr_free(crp->params);
}

ParameterizedTestParameters(golden, sql)
{
    golden_param *params = cr_calloc(MAX_CASES, sizeof(golden_param));
    size_t n = 0;
    const char *filter = getenv("SLUICE_GOLDEN_FILTER");
    for (const golden_mode *m = golden_modes; m->name; m++) {
        char dir[512];
        sl_snprintf(dir, sizeof(dir), "%s/tests/sql/%s", sl_test_source_dir(),
                    m->name);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) && n < MAX_CASES) {
            size_t len = strlen(e->d_name);
            if (len < 6 || strcmp(e->d_name + len - 5, ".test"))
                continue;
            if (filter && !strstr(e->d_name, filter))
                continue;
            sl_strlcpy(params[n].mode, m->name, sizeof(params[n].mode));
            sl_snprintf(params[n].path, sizeof(params[n].path), "%s/%s", dir,
                        e->d_name);
            n++;
        }
        closedir(d);
    }
    qsort(params, n, sizeof(*params), cmp_param);
    return cr_make_param_array(golden_param, params, n, free_params);
}

static const golden_mode *find_mode(const char *name)
{
    for (const golden_mode *m = golden_modes; m->name; m++)
        if (!strcmp(m->name, name))
            return m;
    return NULL;
}

static char *trim_end(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

ParameterizedTest(golden_param *param, golden, sql, .timeout = 120)
{
    const golden_mode *mode = find_mode(param->mode);
    cr_assert(mode, "no mode %s", param->mode);
    char *text = sl_test_read_file(param->path, NULL);
    cr_assert(text, "cannot read %s", param->path);
    char *dir = sl_test_tmpdir();
    cr_assert(dir);
    golden_case c = {.path = param->path, .dir = dir};
    sl_err err;
    sl_err_clear(&err);
    int rc = golden_case_parse(&c, text, &err);
    cr_assert(rc == SL_OK, "%s: %s", param->path, err.msg);
    for (int i = 0; i < c.n_files; i++) {
        char p[1024];
        sl_snprintf(p, sizeof(p), "%s/%s", dir, c.files[i].name);
        cr_assert(sl_test_write_file(p, c.files[i].text) == SL_OK);
    }
    sl_buf out;
    sl_buf_init(&out, 64u << 20);
    rc = mode->run(&c, &out);
    char *actual = trim_end(sl_buf_steal(&out));
    if (c.error) {
        char *want = trim_end(c.error);
        cr_expect(rc != SL_OK, "%s: expected an error, statements succeeded",
                  param->path);
        cr_expect(!strcmp(actual, want),
                  "%s:\n--- expected error\n%s\n--- actual\n%s\n", param->path,
                  want, actual);
    } else {
        char *want = trim_end(c.output ? c.output : (char[]){""});
        cr_expect(rc == SL_OK, "%s: unexpected error:\n%s\n", param->path,
                  actual);
        if (rc == SL_OK)
            cr_expect(!strcmp(actual, want),
                      "%s:\n--- expected output\n%s\n--- actual\n%s\n",
                      param->path, want, actual);
    }
    sl_free(actual);
    golden_case_free(&c);
    sl_free(text);
    sl_test_tmpdir_remove(dir);
}
