/*
 * fuzz_config.c: libFuzzer target for the job-file parser of `sluice run`
 * (cli/config.c over libyaml). Any input must give either statements or an
 * error message naming file and line, never a crash, leak or hang.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *fake_env(const char *name)
{
    /* some variables set, some not, one empty */
    if (!strcmp(name, "HOME") || !strcmp(name, "A"))
        return "/home/x";
    if (!strcmp(name, "EMPTY"))
        return "";
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_config cfg;
    if (cli_config_parse(&cfg, "fuzz.yaml", (const char *)data, size,
                         fake_env) == 0) {
        for (int i = 0; i < cfg.n_stmts; i++)
            if (!cfg.stmts[i].sql || !strchr(cfg.stmts[i].sql, ';'))
                __builtin_trap();
    } else if (strncmp(cfg.errmsg, "fuzz.yaml:", 10) != 0) {
        __builtin_trap(); /* every error names the file and line */
    }
    cli_config_free(&cfg);
    return 0;
}
