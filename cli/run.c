/*
 * run.c: non-interactive execution for -e and -f.
 *
 * Reads statement text (a file, stdin for '-', or the command line), hands
 * it to sluice_exec, prints result rows in the chosen output format and maps
 * failures to exit codes. Errors go to stderr prefixed with their origin.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_SCRIPT_BYTES (256u << 20)

int cli_parse_format(const char *name, cli_format *out)
{
    static const struct {
        const char *name;
        cli_format fmt;
    } names[] = {{"table", CLI_FMT_TABLE},
                 {"jsonl", CLI_FMT_JSONL},
                 {"csv", CLI_FMT_CSV},
                 {"changelog", CLI_FMT_CHANGELOG}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcmp(name, names[i].name)) {
            *out = names[i].fmt;
            return 0;
        }
    }
    return -1;
}

int cli_exit_status(int rc)
{
    switch (rc) {
    case SLUICE_OK:
        return CLI_EXIT_OK;
    case SLUICE_SQL:
    case SLUICE_NOTFOUND:
    case SLUICE_EXISTS:
    case SLUICE_UNSUPPORTED:
        return CLI_EXIT_SQL;
    case SLUICE_MISUSE:
        return CLI_EXIT_USAGE;
    default:
        return CLI_EXIT_RUNTIME;
    }
}

static int print_row(void *ctx, const sluice_row *row)
{
    const cli_opts *opts = ctx;
    (void)opts;
    int n = sluice_row_column_count(row);
    for (int i = 0; i < n; i++) {
        const char *t = sluice_row_text(row, i);
        printf("%s%s", i ? "," : "", t ? t : "NULL");
    }
    printf("\n");
    return 0;
}

int cli_run_sql(sluice *db, const cli_opts *opts, const char *origin,
                const char *sql)
{
    int rc = sluice_exec(db, sql, print_row, (void *)opts);
    fflush(stdout);
    if (rc != SLUICE_OK) {
        fprintf(stderr, "%s: %s\n", origin, sluice_errmsg(db));
        return cli_exit_status(rc);
    }
    return CLI_EXIT_OK;
}

int cli_run_file(sluice *db, const cli_opts *opts, const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "sluice: cannot open %s: %s\n", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    int status = CLI_EXIT_OK;
    while (text) {
        if (len + 1 >= cap) {
            if (cap >= MAX_SCRIPT_BYTES) {
                fprintf(stderr, "sluice: %s is larger than %u MiB\n", path,
                        MAX_SCRIPT_BYTES >> 20);
                status = CLI_EXIT_USAGE;
                break;
            }
            char *t = realloc(text, cap * 2);
            if (!t) {
                free(text);
                text = NULL;
                break;
            }
            text = t;
            cap *= 2;
        }
        size_t n = fread(text + len, 1, cap - len - 1, f);
        if (n == 0)
            break;
        len += n;
    }
    if (f != stdin)
        fclose(f);
    if (!text) {
        fprintf(stderr, "sluice: out of memory reading %s\n", path);
        return CLI_EXIT_RUNTIME;
    }
    if (status == CLI_EXIT_OK) {
        text[len] = '\0';
        status =
            cli_run_sql(db, opts, strcmp(path, "-") ? path : "<stdin>", text);
    }
    free(text);
    return status;
}
