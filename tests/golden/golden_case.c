/*
 * golden_case.c: parsing of golden case files (format in golden.h).
 */
#include <string.h>

#include "golden.h"

static char *subst_dir(const char *sql, const char *dir)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    const char *p = sql;
    const char *hit;
    while ((hit = strstr(p, "${dir}"))) {
        sl_buf_append(&b, p, (size_t)(hit - p));
        sl_buf_puts(&b, dir);
        p = hit + 6;
    }
    sl_buf_puts(&b, p);
    return sl_buf_steal(&b);
}

int golden_case_parse(golden_case *c, const char *text, sl_err *err)
{
    char **target = NULL;
    sl_buf body;
    sl_buf_init(&body, 0);
    char *sql = NULL;
    const char *p = text;
    int line_no = 0;
    bool in_sections = false;
    for (;;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        line_no++;
        bool at_end = !*p;
        bool header = !at_end && len >= 3 && !strncmp(p, "== ", 3);
        if (header || at_end) {
            if (target) {
                *target = sl_buf_steal(&body);
                sl_buf_init(&body, 0);
            }
            target = NULL;
        }
        if (at_end)
            break;
        if (header) {
            in_sections = true;
            char name[64] = {0}, arg[256] = {0};
            size_t i = 3, j = 0;
            while (i < len && p[i] != ' ' && j < sizeof(name) - 1)
                name[j++] = p[i++];
            while (i < len && p[i] == ' ')
                i++;
            j = 0;
            while (i < len && j < sizeof(arg) - 1)
                arg[j++] = p[i++];
            if (!strcmp(name, "sql")) {
                target = &sql;
            } else if (!strcmp(name, "output")) {
                target = &c->output;
            } else if (!strcmp(name, "error")) {
                target = &c->error;
            } else if (!strcmp(name, "file") && arg[0] &&
                       c->n_files < GOLDEN_MAX_FILES) {
                c->files[c->n_files].name = sl_strdup(arg);
                target = &c->files[c->n_files].text;
                c->n_files++;
            } else {
                sl_buf_free(&body);
                return sl_err_set(err, SL_ERROR, "line %d: bad section '%.*s'",
                                  line_no, (int)len, p);
            }
        } else if (target) {
            sl_buf_append(&body, p, len);
            sl_buf_putc(&body, '\n');
        } else if (in_sections || (len && p[0] != '#')) {
            sl_buf_free(&body);
            return sl_err_set(err, SL_ERROR, "line %d: text outside a section",
                              line_no);
        }
        p = eol ? eol + 1 : p + len;
    }
    sl_buf_free(&body);
    if (!sql)
        return sl_err_set(err, SL_ERROR, "no '== sql' section");
    c->sql = subst_dir(sql, c->dir);
    sl_free(sql);
    return SL_OK;
}

void golden_case_free(golden_case *c)
{
    sl_free(c->sql);
    sl_free(c->output);
    sl_free(c->error);
    for (int i = 0; i < c->n_files; i++) {
        sl_free(c->files[i].name);
        sl_free(c->files[i].text);
    }
    memset(c, 0, sizeof(*c));
}
