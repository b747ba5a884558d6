/*
 * shell.c: the interactive shell (`sluice` with no arguments).
 *
 * On a terminal: libedit (readline interface) for line editing, a bounded
 * persistent history in ~/.sluice_history, prompts "sluice> " and "     -> "
 * for continuation lines, Tab completion (complete.c), Ctrl-C clearing the
 * line at the prompt or cancelling the running statement (engine.c arms
 * sluice_interrupt), Ctrl-D / quit / exit leaving. Lines accumulate until
 * sqlscan.c finds a complete statement, which goes to the session.
 *
 * Without a terminal on stdin the same loop reads lines with no prompt and
 * no editing, like `sqlite3 < file`, and stops at the first failure with
 * the exit status of DESIGN.md section 9.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifdef HAVE_LIBEDIT
#include <editline/readline.h>
#endif

#define HISTORY_MAX     1000
#define MAX_STMT_BYTES  (16u << 20)
#define PROMPT          "sluice> "
#define PROMPT_CONTINUE "     -> "

typedef struct pending {
    char *buf;
    size_t len, cap;
    int line, col; /* source position of buf[0] (stdin mode) */
} pending;

static int pending_add(pending *p, const char *text, size_t n)
{
    if (p->len + n + 1 > MAX_STMT_BYTES) {
        fprintf(stderr, "ERROR: statement longer than %u MiB\n",
                MAX_STMT_BYTES >> 20);
        return -1;
    }
    if (p->len + n + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 256;
        while (cap < p->len + n + 1)
            cap *= 2;
        char *b = realloc(p->buf, cap);
        if (!b)
            return -1;
        p->buf = b;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, text, n);
    p->len += n;
    p->buf[p->len] = '\0';
    return 0;
}

static void pending_drop(pending *p, size_t n)
{
    if (!p->buf)
        return;
    for (size_t i = 0; i < n; i++) {
        if (p->buf[i] == '\n') {
            p->line++;
            p->col = 1;
        } else {
            p->col++;
        }
    }
    memmove(p->buf, p->buf + n, p->len - n + 1);
    p->len -= n;
}

static int pending_blank(const pending *p)
{
    for (size_t i = 0; i < p->len; i++)
        if (!isspace((unsigned char)p->buf[i]))
            return 0;
    return 1;
}

/* Run every complete statement at the front of p; at_eof also runs a last
 * statement without ';'. Returns the first failing exit status or OK. */
static int run_pending(cli_session *s, pending *p, int at_eof,
                       void (*on_stmt)(const char *, size_t))
{
    int status = CLI_EXIT_OK;
    while (p->len && !s->quit) {
        size_t lead = 0;
        while (lead < p->len && isspace((unsigned char)p->buf[lead]))
            lead++;
        pending_drop(p, lead);
        if (!p->len)
            break;
        size_t n = cli_sql_stmt_len(p->buf, p->len);
        if (n == 0) {
            if (!at_eof)
                break;
            n = p->len;
        }
        if (on_stmt)
            on_stmt(p->buf, n);
        int st = s->interactive ? cli_session_stmt(s, "", p->buf, n, 1, 1)
                                : cli_session_stmt(s, "<stdin>", p->buf, n,
                                                   p->line, p->col);
        pending_drop(p, n);
        if (st != CLI_EXIT_OK) {
            status = st;
            if (!s->interactive)
                break;
        }
    }
    return status;
}

static int line_is_command(const char *line)
{
    while (isspace((unsigned char)*line))
        line++;
    if (*line == '\\')
        return 1;
    char w[16];
    cli_sql_first_word(line, strlen(line), w, sizeof(w));
    return !strcmp(w, "HELP") || !strcmp(w, "QUIT") || !strcmp(w, "EXIT");
}

/* ---- stdin that is not a terminal --------------------------------------- */

static int shell_stdin(cli_session *s)
{
    pending p = {.line = 1, .col = 1};
    int status = CLI_EXIT_OK;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (!s->quit && (n = getline(&line, &cap, stdin)) >= 0) {
        if (pending_blank(&p) && line_is_command(line) &&
            cli_session_command(s, line)) {
            pending_drop(&p, p.len);
            p.line++;
            p.col = 1;
            continue;
        }
        if (pending_add(&p, line, (size_t)n)) {
            status = CLI_EXIT_USAGE;
            break;
        }
        status = run_pending(s, &p, 0, NULL);
        if (status != CLI_EXIT_OK)
            break;
    }
    if (status == CLI_EXIT_OK && !s->quit)
        status = run_pending(s, &p, 1, NULL);
    free(line);
    free(p.buf);
    return status;
}

/* ---- the terminal --------------------------------------------------------
 */

#ifdef HAVE_LIBEDIT

static volatile sig_atomic_t prompt_sigint;
static cli_session *the_session;
static pending *the_pending;
static cli_catalog the_catalog;
static int catalog_loaded;

static void on_prompt_sigint(int sig)
{
    (void)sig;
    prompt_sigint = 1;
}

/* Read one byte for libedit; Ctrl-C (EINTR with the flag set) ends the
 * line so the loop can throw it away. */
static int getc_fn(FILE *f)
{
    unsigned char c;
    for (;;) {
        ssize_t r = read(fileno(f), &c, 1);
        if (r == 1)
            return c;
        if (r < 0 && errno == EINTR) {
            if (prompt_sigint) {
                (void)!write(STDOUT_FILENO, "^C", 2);
                return '\n';
            }
            continue;
        }
        return EOF;
    }
}

static char *generator(const char *text, int state)
{
    static char **cands;
    static int idx;
    (void)text;
    if (state == 0) {
        cli_strv_free(cands);
        cands = NULL;
        idx = 0;
        if (!catalog_loaded || the_session->catalog_dirty) {
            cli_catalog_refresh(&the_catalog, the_session->db);
            catalog_loaded = 1;
            the_session->catalog_dirty = 0;
        }
        size_t blen = the_pending->len + (size_t)rl_point + 1;
        char *before = malloc(blen + 1);
        if (!before)
            return NULL;
        size_t start = (size_t)rl_point - strlen(text);
        if (start > (size_t)rl_point)
            start = 0;
        memcpy(before, the_pending->buf ? the_pending->buf : "",
               the_pending->len);
        memcpy(before + the_pending->len, rl_line_buffer, start);
        before[the_pending->len + start] = '\0';
        cands = cli_complete(&the_catalog, before, text);
        free(before);
    }
    if (!cands || !cands[idx])
        return NULL;
    return strdup(cands[idx++]);
}

static char **complete_fn(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1;
    return rl_completion_matches(text, generator);
}

static void history_path(char *buf, size_t size)
{
    const char *home = getenv("HOME");
    buf[0] = '\0';
    if (home && *home)
        snprintf(buf, size, "%s/.sluice_history", home);
}

/* One history entry per statement: its lines joined by spaces. */
static void remember(const char *stmt, size_t n)
{
    char *h = malloc(n + 1);
    if (!h)
        return;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        h[k++] = stmt[i] == '\n' ? ' ' : stmt[i];
    while (k && isspace((unsigned char)h[k - 1]))
        k--;
    h[k] = '\0';
    if (k)
        add_history(h);
    free(h);
}

static int shell_tty(cli_session *s)
{
    char hist[4096];
    history_path(hist, sizeof(hist));
    rl_readline_name = "sluice";
    rl_getc_function = getc_fn;
    rl_attempted_completion_function = complete_fn;
    rl_completer_word_break_characters = " \t\n\"'`@$><=;|&{(,";
    rl_catch_signals = 0;
    using_history();
    stifle_history(HISTORY_MAX);
    if (hist[0])
        read_history(hist);

    pending p = {.line = 1, .col = 1};
    the_session = s;
    the_pending = &p;
    printf("Welcome to Sluice %s. Statements end with ';'. Type 'help' for "
           "help, 'quit' or Ctrl-D to leave.\n",
           sluice_libversion());
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_prompt_sigint;
    sigemptyset(&sa.sa_mask);
    while (!s->quit) {
        prompt_sigint = 0;
        sigaction(SIGINT, &sa, &old);
        char *line = readline(p.len ? PROMPT_CONTINUE : PROMPT);
        sigaction(SIGINT, &old, NULL);
        if (prompt_sigint) {
            free(line); /* sl: allow */
            pending_drop(&p, p.len);
            continue;
        }
        if (!line) {
            printf("\n");
            break;
        }
        if (pending_blank(&p) && line_is_command(line)) {
            remember(line, strlen(line));
            if (hist[0])
                write_history(hist);
            pending_drop(&p, p.len);
            if (cli_session_command(s, line)) {
                free(line); /* sl: allow */
                continue;
            }
        }
        if (pending_add(&p, line, strlen(line)) || pending_add(&p, "\n", 1)) {
            free(line); /* sl: allow */
            pending_drop(&p, p.len);
            continue;
        }
        free(line); /* sl: allow */
        run_pending(s, &p, 0, remember);
        if (hist[0])
            write_history(hist); /* each statement is kept at once */
    }
    if (hist[0])
        write_history(hist);
    cli_catalog_free(&the_catalog);
    free(p.buf);
    return CLI_EXIT_OK;
}

#else

static int shell_tty(cli_session *s)
{
    fprintf(stderr, "sluice: built without libedit; reading statements "
                    "without line editing\n");
    s->interactive = 0;
    return shell_stdin(s);
}

#endif

int cli_shell(sluice *db, const cli_opts *opts)
{
    cli_session s;
    cli_session_init(&s, db, opts);
    if (isatty(STDIN_FILENO)) {
        s.interactive = 1;
        /* as in Flink's SQL client, INSERT INTO submits a background job
         * and returns its id; SHOW JOBS / STOP JOB manage it */
        sluice_exec(db, "SET 'table.dml-sync' = 'false'", NULL, NULL);
        return shell_tty(&s);
    }
    return shell_stdin(&s);
}
