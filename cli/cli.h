/*
 * cli.h: declarations shared by the files of the `sluice` program.
 * The CLI is an ordinary embedder: it includes only sluice.h.
 */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <stdio.h>

#include "sluice.h"

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_SQL = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_RUNTIME = 3,
};

typedef enum cli_format {
    CLI_FMT_TABLE,
    CLI_FMT_JSONL,
    CLI_FMT_CSV,
    CLI_FMT_CHANGELOG,
} cli_format;

typedef struct cli_opts {
    cli_format output_format;
} cli_opts;

int cli_parse_format(const char *name, cli_format *out);
/* Map a library result code to the program's exit status. */
int cli_exit_status(int rc);
/* Run statements; print results to stdout, errors to stderr. Return an exit
 * status. */
int cli_run_sql(sluice *db, const cli_opts *opts, const char *origin,
                const char *sql);
int cli_run_file(sluice *db, const cli_opts *opts, const char *path);
/* `sluice broker ...` (argv[0] is "broker"); returns an exit status. */
int cli_broker_main(int argc, char **argv);

#endif
