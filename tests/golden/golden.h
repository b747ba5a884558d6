/*
 * golden.h: the golden SQL test runner's case format and mode handlers.
 *
 * A case is one file tests/sql/<mode>/<name>.test made of sections, each
 * opened by a line "== <section> [arg]":
 *
 *   == sql             statements to run (required)
 *   == file NAME       a file written into the case's scratch directory;
 *                      ${dir} in the sql section is replaced by its path
 *   == output          expected output, exactly (trailing newline ignored)
 *   == error           expected error text, exactly
 *
 * Lines before the first section starting with '#' are comments. The mode
 * (the folder name) picks the handler that turns the sql into actual output
 * or an error; the runner compares. Handlers live in mode_<name>.c and are
 * listed in golden_modes.c.
 */
#ifndef SL_GOLDEN_H
#define SL_GOLDEN_H

#include "util.h"

#define GOLDEN_MAX_FILES 8

typedef struct golden_file {
    char *name;
    char *text;
} golden_file;

typedef struct golden_case {
    const char *path; /* the .test file */
    const char *dir;  /* scratch directory for this case */
    char *sql;        /* with ${dir} substituted */
    char *output;     /* NULL when the case has no output section */
    char *error;      /* NULL when the case expects success */
    golden_file files[GOLDEN_MAX_FILES];
    int n_files;
} golden_case;

/* A mode turns c->sql into text: on success the output (into out) and
 * return SL_OK; on failure the error text (into out) and return non-zero. */
typedef int (*golden_mode_fn)(const golden_case *c, sl_buf *out);

typedef struct golden_mode {
    const char *name;
    golden_mode_fn run;
} golden_mode;

extern const golden_mode golden_modes[];

int golden_mode_exec(const golden_case *c, sl_buf *out);
int golden_mode_parse(const golden_case *c, sl_buf *out);
int golden_mode_parse_errors(const golden_case *c, sl_buf *out);

/* Parse a case file's text; fills c (strings owned by c). */
int golden_case_parse(golden_case *c, const char *text, sl_err *err);
void golden_case_free(golden_case *c);

#endif
