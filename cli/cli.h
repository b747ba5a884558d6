/*
 * cli.h: declarations shared by the files of the `sluice` program.
 * The CLI is an ordinary embedder: it includes only sluice.h.
 *
 * Data flow: main.c picks a mode (-e/-f, `run`, the shell); statement text
 * is cut into statements by sqlscan.c, client commands (\set, help, quit,
 * SET 'sql-client.*') are handled by session.c, everything else goes to the
 * engine through the adapter in engine.c, whose result rows are drawn by
 * output.c. config.c turns a YAML job file into statements; it depends on
 * nothing else here so the fuzz target can link it alone.
 */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <stddef.h>
#include <stdint.h>
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
    CLI_FMT_TABLEAU,
} cli_format;

typedef struct cli_opts {
    cli_format output_format;
} cli_opts;

int cli_parse_format(const char *name, cli_format *out);
/* Map a library result code to the program's exit status. */
int cli_exit_status(int rc);

/* ---- sqlscan.c: statement boundaries ------------------------------------
 * Scan s[0..len) for the end of the first statement: a ';' outside quotes,
 * comments and the BEGIN ... END of EXECUTE STATEMENT SET. Returns the
 * number of bytes up to and including the ';', or 0 when the text holds no
 * complete statement yet. */
size_t cli_sql_stmt_len(const char *s, size_t len);
/* 1 when s[0..len) holds only blanks, comments and ';'. */
int cli_sql_is_blank(const char *s, size_t len);
/* The first keyword of a statement, upper-cased into buf (skipping blanks,
 * comments and '('); "" when there is none. */
const char *cli_sql_first_word(const char *s, size_t len, char *buf,
                               size_t size);

/* ---- output.c: result printing ------------------------------------------
 * A printer receives result sets row by row as plain arrays, so it can be
 * driven (and tested) without an engine. */
typedef enum cli_view {
    CLI_VIEW_AUTO,  /* bounded: aligned table; continuous: live table */
    CLI_VIEW_PLAIN, /* never redraw in place (files, pipes) */
} cli_view;

typedef struct cli_out cli_out;

typedef struct cli_out_conf {
    FILE *fp;
    cli_format format;
    const char *null_text; /* table and tableau; default "<NULL>" */
    int is_tty;            /* fp is a terminal: live table allowed */
    int term_rows, term_cols;
    int timing; /* print elapsed time in the footer */
    int footer; /* print "N rows in set" after tables */
} cli_out_conf;

cli_out *cli_out_new(const cli_out_conf *conf);
void cli_out_free(cli_out *out);
/* Start a result set with its columns (names and types are copied). */
int cli_out_begin(cli_out *out, int n_cols, const char *const *names,
                  const char *const *types);
/* One row: kind is SLUICE_ROW_*, vals[i] NULL for SQL NULL. */
int cli_out_row(cli_out *out, int kind, const char *const *vals);
/* Periodic tick while a statement runs (redraws the live table, progress).
 * watermark is a display string or NULL. */
void cli_out_tick(cli_out *out, const char *watermark);
/* Finish the result set; elapsed_ms for the footer. */
void cli_out_end(cli_out *out, double elapsed_ms);
/* Rows seen in the current/last result set. */
int64_t cli_out_rows(const cli_out *out);
/* Text helpers, shared with tests. */
size_t cli_display_width(const char *s);
int cli_json_is_number(const char *s);

/* A progress line on a terminal for long jobs (-f): "rows: N  12.3k rows/s
 * 45%". Writes to fp with \r; cli_progress_done erases it. */
typedef struct cli_progress {
    FILE *fp;
    int enabled;
    int64_t start_ns, last_draw_ns;
    int drawn;
} cli_progress;
void cli_progress_init(cli_progress *p, FILE *fp, int enabled);
/* total < 0: unknown. */
void cli_progress_update(cli_progress *p, int64_t rows, int64_t total,
                         int force);
void cli_progress_done(cli_progress *p);
int64_t cli_mono_ns(void);

/* ---- engine.c: the adapter over sluice.h ---------------------------------
 * The one place that knows how statements reach the engine. */
typedef struct cli_exec_hooks {
    cli_out *out;           /* where rows go (may be NULL: discard) */
    cli_progress *progress; /* may be NULL */
    int is_query;           /* the statement is expected to return rows */
    int raw_text;           /* print values as plain text lines (EXPLAIN, SHOW
                               CREATE in table formats) */
} cli_exec_hooks;
/* Run one statement; returns the library result code. Rows are handed to
 * hooks->out (cli_out_begin is called on the first row). */
int cli_exec_stmt(sluice *db, const char *sql, cli_exec_hooks *hooks);
/* Collect the first column of every row of sql into a NULL-terminated
 * malloc'd array (free with cli_strv_free); NULL on any failure. */
char **cli_exec_column(sluice *db, const char *sql, int max_rows);
void cli_strv_free(char **v);
/* Install / remove the SIGINT handler that calls sluice_interrupt(db)
 * while a statement runs. */
void cli_interrupt_arm(sluice *db);
void cli_interrupt_disarm(void);
int cli_interrupt_pending(void);

/* ---- session.c: statements plus client commands -------------------------
 */
typedef struct cli_session {
    sluice *db;
    cli_format format;  /* output format of -f / -e / non-TTY stdin */
    int interactive;    /* the shell on a terminal */
    int result_mode;    /* shell: CLI_FMT_TABLE, _CHANGELOG or _TABLEAU */
    int timing;         /* \timing on */
    char null_text[64]; /* \set null */
    int quit;           /* quit/exit was entered */
    int catalog_dirty;  /* a DDL statement ran: refresh completion names */
    int progress;       /* show a progress line on stderr (TTY) */
} cli_session;

void cli_session_init(cli_session *s, sluice *db, const cli_opts *opts);
/* Run one statement (text up to and including its ';') or client command.
 * origin prefixes error messages; line/col place the statement in its
 * source so the engine's line:column matches the file (1/1: as is).
 * Returns an exit status (CLI_EXIT_*). */
int cli_session_stmt(cli_session *s, const char *origin, const char *stmt,
                     size_t len, int line, int col);
/* Run every statement of text; stops at the first failure. */
int cli_session_text(cli_session *s, const char *origin, const char *text);
/* A client command (\set ..., help, quit): 1 when line was one (handled),
 * 0 when it is SQL. */
int cli_session_command(cli_session *s, const char *line);

/* ---- run.c: -e / -f / stdin --------------------------------------------- */
int cli_run_sql(sluice *db, const cli_opts *opts, const char *origin,
                const char *sql);
int cli_run_file(sluice *db, const cli_opts *opts, const char *path);
/* `sluice broker ...` (argv[0] is "broker"); returns an exit status. */
int cli_broker_main(int argc, char **argv);

/* Read a whole file ('-' is stdin) into malloc'd text. NULL on failure with
 * a message on stderr; *status receives the exit status. */
char *cli_read_file(const char *path, size_t max_len, size_t *len, int *status);

/* ---- shell.c: the interactive shell -------------------------------------- */
int cli_shell(sluice *db, const cli_opts *opts);

/* ---- complete.c: completion candidates ---------------------------------- */
typedef struct cli_catalog {
    char **tables; /* NULL-terminated, may be NULL */
    char **models;
    char **columns; /* columns of all tables, deduplicated */
} cli_catalog;
/* Candidates for word (the text being completed) given the statement text
 * before it. Returns a NULL-terminated malloc'd array (cli_strv_free). */
char **cli_complete(const cli_catalog *cat, const char *before,
                    const char *word);
void cli_catalog_refresh(cli_catalog *cat, sluice *db);
void cli_catalog_free(cli_catalog *cat);

/* ---- help.c -------------------------------------------------------------- */
/* Print the help for topic (NULL or "": the overview). Returns 0, or -1
 * when the topic is unknown (a message is printed). */
int cli_help(FILE *fp, const char *topic);

/* ---- config.c: `sluice run job.yaml` -------------------------------------
 * Parse a job file and turn it into SQL statements. Self-contained (libc and
 * libyaml only) so the fuzz target links it alone. */
typedef struct cli_config_stmt {
    char *sql;    /* one statement, ending in ';' */
    int line;     /* line in the file where it comes from (1-based) */
    int secret;   /* sql holds interpolated option values (mask on print) */
    char *masked; /* sql with secret option values masked, or NULL */
} cli_config_stmt;

typedef struct cli_config {
    char *name;
    cli_config_stmt *stmts;
    int n_stmts;
    char errmsg[512]; /* "job.yaml:12: tables[1].with: expected ..." */
} cli_config;

/* Parse text (len bytes) read from path (used in messages). getenv_fn looks
 * up ${VAR} (NULL: getenv). Returns 0, or -1 with cfg->errmsg set. Always
 * call cli_config_free. */
int cli_config_parse(cli_config *cfg, const char *path, const char *text,
                     size_t len, const char *(*getenv_fn)(const char *));
void cli_config_free(cli_config *cfg);
/* `sluice run [--dry-run] [--output-format F] job.yaml` (argv[0] is "run"):
 * returns an exit status. */
int cli_run_config(int argc, char **argv);

#endif
