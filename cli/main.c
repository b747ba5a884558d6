/*
 * main.c: the `sluice` program's entry point and argument parsing.
 *
 * Decides what the invocation asks for (-e/-f statements, a subcommand such
 * as `broker` or `run`, or the interactive shell) and maps results to the
 * exit codes of DESIGN.md section 9: 0 ok, 1 SQL or planning error, 2 bad
 * usage, 3 the job failed at run time. Uses only include/sluice.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_SCRIPTS 64

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: sluice [options]             interactive shell (reads\n"
        "                                    statements from stdin when it\n"
        "                                    is not a terminal)\n"
        "       sluice [options] -e SQL      run statements\n"
        "       sluice [options] -f FILE...  run statements from files\n"
        "       sluice run [--dry-run] [--output-format F] JOB.yaml\n"
        "                                    run a job file (--dry-run "
        "prints\n"
        "                                    its SQL instead)\n"
        "\n"
        "Options:\n"
        "  -e, --execute SQL         run SQL (may be repeated)\n"
        "  -f, --file FILE           run the statements in FILE ('-' "
        "reads stdin;\n"
        "                            may be repeated)\n"
        "  --output-format FORMAT    how SELECT results print: table, "
        "jsonl, csv,\n"
        "                            changelog, tableau (default: table)\n"
        "  -h, --help                show this help and exit\n"
        "  -V, --version             print the version and exit\n"
        "\n"
        "Exit status: 0 ok, 1 SQL or planning error, 2 bad usage,\n"
        "3 a job failed at run time.\n");
}

int main(int argc, char **argv)
{
    cli_opts opts = {.output_format = CLI_FMT_TABLE};
    const char *scripts[MAX_SCRIPTS];
    int is_file[MAX_SCRIPTS];
    int n_scripts = 0;

    /* subcommands: one dispatch line each */
    if (argc > 1 && !strcmp(argv[1], "run"))
        return cli_run_config(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "broker"))
        return cli_broker_main(argc - 1, argv + 1);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("sluice %s\n", sluice_libversion());
            return CLI_EXIT_OK;
        } else if (!strcmp(a, "-e") || !strcmp(a, "--execute") ||
                   !strcmp(a, "-f") || !strcmp(a, "--file")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sluice: option %s needs an argument\n", a);
                return CLI_EXIT_USAGE;
            }
            if (n_scripts == MAX_SCRIPTS) {
                fprintf(stderr, "sluice: at most %d -e/-f options\n",
                        MAX_SCRIPTS);
                return CLI_EXIT_USAGE;
            }
            is_file[n_scripts] = a[1] == 'f' || !strcmp(a, "--file");
            scripts[n_scripts++] = argv[++i];
        } else if (!strcmp(a, "--output-format") ||
                   !strncmp(a, "--output-format=", 16)) {
            const char *v = a[15] == '=' ? a + 16 : NULL;
            if (!v) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "sluice: option %s needs an argument\n", a);
                    return CLI_EXIT_USAGE;
                }
                v = argv[++i];
            }
            if (cli_parse_format(v, &opts.output_format)) {
                fprintf(stderr,
                        "sluice: unknown output format '%s' (expected "
                        "table, jsonl, csv, changelog or tableau)\n",
                        v);
                return CLI_EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "sluice: unknown argument '%s'\n", a);
            fprintf(stderr, "Try 'sluice --help'.\n");
            return CLI_EXIT_USAGE;
        }
    }

    sluice *db = NULL;
    int rc = sluice_open(&db);
    if (rc) {
        fprintf(stderr, "sluice: %s\n", sluice_errstr(rc));
        return CLI_EXIT_RUNTIME;
    }
    int status = CLI_EXIT_OK;
    if (n_scripts == 0)
        status = cli_shell(db, &opts);
    for (int i = 0; i < n_scripts && status == CLI_EXIT_OK; i++) {
        if (is_file[i])
            status = cli_run_file(db, &opts, scripts[i]);
        else
            status = cli_run_sql(db, &opts, "<command line>", scripts[i]);
    }
    sluice_close(db);
    return status;
}
