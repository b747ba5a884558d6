/*
 * run.c: non-interactive execution for -e and -f.
 *
 * Reads statement text (a file, stdin for '-', or the command line) and
 * runs it statement by statement through a session (session.c), which
 * prints result rows in the chosen output format (--output-format) and maps
 * failures to exit codes. Errors go to stderr prefixed with their origin;
 * the first failure stops the run.
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
                 {"changelog", CLI_FMT_CHANGELOG},
                 {"tableau", CLI_FMT_TABLEAU}};
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

int cli_run_sql(sluice *db, const cli_opts *opts, const char *origin,
                const char *sql)
{
    cli_session s;
    cli_session_init(&s, db, opts);
    s.progress = 1;
    return cli_session_text(&s, origin, sql);
}

char *cli_read_file(const char *path, size_t max_len, size_t *len_out,
                    int *status)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    *status = CLI_EXIT_OK;
    if (!f) {
        fprintf(stderr, "sluice: cannot open %s: %s\n", path, strerror(errno));
        *status = CLI_EXIT_USAGE;
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    while (text) {
        if (len + 1 >= cap) {
            if (cap >= max_len) {
                fprintf(stderr, "sluice: %s is larger than %zu MiB\n", path,
                        max_len >> 20);
                free(text);
                text = NULL;
                *status = CLI_EXIT_USAGE;
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
        if (*status == CLI_EXIT_OK) {
            fprintf(stderr, "sluice: out of memory reading %s\n", path);
            *status = CLI_EXIT_RUNTIME;
        }
        return NULL;
    }
    text[len] = '\0';
    if (len_out)
        *len_out = len;
    return text;
}

int cli_run_file(sluice *db, const cli_opts *opts, const char *path)
{
    int status;
    char *text = cli_read_file(path, MAX_SCRIPT_BYTES, NULL, &status);
    if (!text)
        return status;
    status = cli_run_sql(db, opts, strcmp(path, "-") ? path : "<stdin>", text);
    free(text);
    return status;
}

#define MAX_CONFIG_FILE_BYTES (4u << 20)

int cli_run_config(int argc, char **argv)
{
    cli_opts opts = {.output_format = CLI_FMT_TABLE};
    const char *path = NULL;
    int dry_run = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--dry-run") || !strcmp(a, "-n")) {
            dry_run = 1;
        } else if (!strcmp(a, "--output-format") && i + 1 < argc) {
            if (cli_parse_format(argv[++i], &opts.output_format)) {
                fprintf(stderr, "sluice: unknown output format '%s'\n",
                        argv[i]);
                return CLI_EXIT_USAGE;
            }
        } else if (!strncmp(a, "--output-format=", 16)) {
            if (cli_parse_format(a + 16, &opts.output_format)) {
                fprintf(stderr, "sluice: unknown output format '%s'\n", a + 16);
                return CLI_EXIT_USAGE;
            }
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("Usage: sluice run [--dry-run] [--output-format FORMAT] "
                   "JOB.yaml\n"
                   "Run the job described by a YAML file (see "
                   "docs/config.md).\n"
                   "  -n, --dry-run   print the SQL the file turns into "
                   "(secrets masked)\n");
            return CLI_EXIT_OK;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "sluice run: unknown argument '%s'\n", a);
            return CLI_EXIT_USAGE;
        } else if (path) {
            fprintf(stderr, "sluice run: one job file at a time\n");
            return CLI_EXIT_USAGE;
        } else {
            path = a;
        }
    }
    if (!path) {
        fprintf(stderr, "sluice run: missing job file (sluice run job.yaml)\n");
        return CLI_EXIT_USAGE;
    }
    int status;
    size_t len = 0;
    char *text = cli_read_file(path, MAX_CONFIG_FILE_BYTES, &len, &status);
    if (!text)
        return status;
    const char *origin = strcmp(path, "-") ? path : "<stdin>";
    cli_config cfg;
    if (cli_config_parse(&cfg, origin, text, len, NULL)) {
        fprintf(stderr, "%s\n", cfg.errmsg);
        cli_config_free(&cfg);
        free(text);
        return CLI_EXIT_USAGE;
    }
    free(text);
    if (dry_run) {
        for (int i = 0; i < cfg.n_stmts; i++)
            printf("%s\n", cfg.stmts[i].masked ? cfg.stmts[i].masked
                                               : cfg.stmts[i].sql);
        cli_config_free(&cfg);
        return CLI_EXIT_OK;
    }
    sluice *db = NULL;
    int rc = sluice_open(&db);
    if (rc) {
        fprintf(stderr, "sluice: %s\n", sluice_errstr(rc));
        cli_config_free(&cfg);
        return CLI_EXIT_RUNTIME;
    }
    cli_session s;
    cli_session_init(&s, db, &opts);
    s.progress = 1;
    status = CLI_EXIT_OK;
    for (int i = 0; i < cfg.n_stmts && status == CLI_EXIT_OK && !s.quit; i++) {
        const cli_config_stmt *st = &cfg.stmts[i];
        status =
            cli_session_stmt(&s, origin, st->sql, strlen(st->sql), st->line, 1);
    }
    sluice_close(db);
    cli_config_free(&cfg);
    return status;
}
