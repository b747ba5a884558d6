/*
 * golden_modes.c: the table of golden test modes, one per tests/sql folder.
 * Add a mode by writing mode_<name>.c and listing it here.
 */
#include <stddef.h>

#include "golden.h"

const golden_mode golden_modes[] = {
    {"exec", golden_mode_exec},
    {"parse", golden_mode_parse},
    {"parse_errors", golden_mode_parse_errors},
    {NULL, NULL},
};
