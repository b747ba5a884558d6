/*
 * engine.c: the CLI's adapter over include/sluice.h.
 *
 * Everything the program asks of the engine goes through here: run one
 * statement and route its rows to a printer, collect a column for
 * completion, cancel on Ctrl-C. A statement is prepared first
 * (sluice_prepare) so its result columns are known before the first row;
 * INSERT jobs report progress through sluice_progress_handler; continuous
 * results are recognised by the printer from time and row kinds.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_NAME_COLS 1024

static sluice *volatile armed_db;
static volatile sig_atomic_t interrupt_pending;
static struct sigaction old_int, old_term;
static int is_armed;

static void on_sigint(int sig)
{
    (void)sig;
    interrupt_pending = 1;
    sluice *db = armed_db;
    if (db)
        sluice_interrupt(db);
}

/* SIGINT (Ctrl-C) and SIGTERM both ask the running statement to stop; a
 * streaming job then ends gracefully (the engine takes a final checkpoint). */
void cli_interrupt_arm(sluice *db)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    interrupt_pending = 0;
    armed_db = db;
    if (!is_armed && sigaction(SIGINT, &sa, &old_int) == 0) {
        sigaction(SIGTERM, &sa, &old_term);
        is_armed = 1;
    }
}

void cli_interrupt_disarm(void)
{
    armed_db = NULL;
    if (is_armed) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        is_armed = 0;
    }
}

int cli_interrupt_pending(void)
{
    return interrupt_pending;
}

typedef struct exec_ctx {
    cli_exec_hooks *hooks;
    int begun;
    int n_cols;
    const char *vals[MAX_NAME_COLS];
} exec_ctx;

static int on_row(void *arg, const sluice_row *r)
{
    exec_ctx *ctx = arg;
    cli_exec_hooks *hooks = ctx->hooks;
    if (interrupt_pending)
        return 1;
    int n = sluice_row_column_count(r);
    if (n > MAX_NAME_COLS)
        n = MAX_NAME_COLS;
    if (hooks->raw_text) {
        for (int i = 0; i < n; i++) {
            const char *t = sluice_row_text(r, i);
            fputs(t ? t : "", stdout);
            fputc('\n', stdout);
        }
        return 0;
    }
    if (!ctx->begun || n != ctx->n_cols) {
        const char *names[MAX_NAME_COLS], *types[MAX_NAME_COLS];
        for (int i = 0; i < n; i++) {
            names[i] = sluice_row_column_name(r, i);
            types[i] = sluice_row_column_type(r, i);
        }
        if (hooks->out && cli_out_begin(hooks->out, n, names, types))
            return 1;
        ctx->begun = 1;
        ctx->n_cols = n;
    }
    for (int i = 0; i < n; i++)
        ctx->vals[i] = sluice_row_is_null(r, i) ? NULL : sluice_row_text(r, i);
    if (hooks->out) {
        if (cli_out_row(hooks->out, sluice_row_kind(r), ctx->vals))
            return 1;
        cli_out_tick(hooks->out, NULL);
    }
    if (hooks->progress && hooks->out)
        cli_progress_update(hooks->progress, cli_out_rows(hooks->out), -1, 0);
    return 0;
}

static int on_progress(void *arg, const sluice_progress *p)
{
    cli_progress *pr = arg;
    int64_t rows = sluice_progress_rows_in(p);
    cli_progress_update(pr, rows, sluice_progress_rows_total(p), 0);
    return interrupt_pending ? 1 : 0;
}

int cli_exec_stmt(sluice *db, const char *sql, cli_exec_hooks *hooks)
{
    exec_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return SLUICE_NOMEM;
    ctx->hooks = hooks;
    int64_t t0 = cli_mono_ns();
    sluice_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sluice_prepare(db, sql, &tail, &st);
    if (rc == SLUICE_OK && st && tail && *tail) {
        /* more than one statement: let sluice_exec run them all */
        sluice_stmt_finalize(st);
        st = NULL;
        rc = sluice_exec(db, sql, on_row, ctx);
    } else if (rc == SLUICE_OK && st) {
        int n = sluice_stmt_column_count(st);
        if (n > MAX_NAME_COLS)
            n = MAX_NAME_COLS;
        if (n > 0 && hooks->out && !hooks->raw_text) {
            const char *names[MAX_NAME_COLS], *types[MAX_NAME_COLS];
            for (int i = 0; i < n; i++) {
                names[i] = sluice_stmt_column_name(st, i);
                types[i] = sluice_stmt_column_type(st, i);
            }
            if (cli_out_begin(hooks->out, n, names, types) == 0) {
                ctx->begun = 1;
                ctx->n_cols = n;
            }
        }
        if (hooks->progress)
            sluice_progress_handler(db, 200, on_progress, hooks->progress);
        rc = sluice_stmt_run(st, on_row, ctx);
        if (hooks->progress)
            sluice_progress_handler(db, 0, NULL, NULL);
        sluice_stmt_finalize(st);
    }
    if (hooks->progress)
        cli_progress_done(hooks->progress);
    if (hooks->out) {
        if (!ctx->begun && hooks->is_query && rc == SLUICE_OK &&
            !hooks->raw_text)
            cli_out_begin(hooks->out, 0, NULL, NULL);
        cli_out_end(hooks->out, (double)(cli_mono_ns() - t0) / 1e6);
    }
    if (interrupt_pending && (rc == SLUICE_ABORT || rc == SLUICE_OK))
        rc = SLUICE_INTERRUPTED;
    free(ctx);
    return rc;
}

typedef struct column_ctx {
    char **v;
    int n, max;
} column_ctx;

static int on_column(void *arg, const sluice_row *r)
{
    column_ctx *c = arg;
    const char *t = sluice_row_text(r, 0);
    if (!t)
        return 0;
    if (c->n >= c->max)
        return 1;
    char *d = strdup(t);
    if (!d)
        return 1;
    c->v[c->n++] = d;
    return 0;
}

char **cli_exec_column(sluice *db, const char *sql, int max_rows)
{
    column_ctx c = {calloc((size_t)max_rows + 1, sizeof(char *)), 0, max_rows};
    if (!c.v)
        return NULL;
    int rc = sluice_exec(db, sql, on_column, &c);
    if (rc != SLUICE_OK && rc != SLUICE_ABORT) {
        cli_strv_free(c.v);
        return NULL;
    }
    return c.v;
}

void cli_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}
