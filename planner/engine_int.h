/*
 * engine_int.h: the engine's private layout, shared by the planner files
 * that implement statements (catalog, DDL, queries, jobs).
 */
#ifndef SL_ENGINE_INT_H
#define SL_ENGINE_INT_H

#include <signal.h>

#include "util.h"

struct sluice {
    sl_err err;                        /* last failure, for sluice_errmsg */
    volatile sig_atomic_t interrupted; /* set by sluice_interrupt */
};

/* A result row as handed to a sluice_row_cb: columns already rendered as
 * canonical text (NULL pointer for SQL NULL). Owned by whoever fills it. */
struct sluice_row {
    int n_cols;
    int kind; /* SLUICE_ROW_* */
    const char *const *names;
    const char *const *types;
    const char *const *texts;
};

/* Run every statement of sql on db (arguments already checked). */
int sl_engine_exec(sluice *db, const char *sql, sluice_row_cb cb, void *ctx);

#endif
