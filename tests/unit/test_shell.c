/*
 * test_shell.c: the interactive shell driven through a real pseudo-terminal
 * (forkpty), as a person types: Tab completion of a keyword and of a WITH
 * option key, history kept across two sessions in $HOME/.sluice_history,
 * multi-line statements with the continuation prompt, help output, Ctrl-C
 * clearing the line, \set and the client-side result-mode SET, quit and
 * Ctrl-D. Also the shell reading a piped stdin without prompts.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

typedef struct term {
    int fd;
    pid_t pid;
    sl_buf out;  /* everything the shell wrote */
    size_t mark; /* expect() searches from here */
} term;

static void term_start(term *t, const char *home)
{
    struct winsize ws = {.ws_row = 30, .ws_col = 100};
    sl_buf_init(&t->out, 1 << 22);
    t->mark = 0;
    t->pid = forkpty(&t->fd, NULL, NULL, &ws);
    cr_assert(t->pid >= 0, "forkpty: %s", strerror(errno));
    if (t->pid == 0) {
        setenv("HOME", home, 1);
        setenv("TERM", "xterm", 1);
        execl(sl_test_sluice_bin(), sl_test_sluice_bin(), (char *)NULL);
        _exit(127);
    }
}

/* Read what is available for up to ms milliseconds. */
static void term_pump(term *t, int ms)
{
    struct pollfd p = {t->fd, POLLIN, 0};
    while (poll(&p, 1, ms) > 0) {
        char chunk[4096];
        ssize_t n = read(t->fd, chunk, sizeof(chunk));
        if (n <= 0)
            return;
        sl_buf_append(&t->out, chunk, (size_t)n);
        ms = 20;
    }
}

/* Wait until needle appears after the mark; move the mark past it. */
static int term_expect(term *t, const char *needle, int timeout_ms)
{
    int64_t deadline = sl_now_ms() + timeout_ms;
    for (;;) {
        const char *base = sl_buf_cstr(&t->out);
        const char *hit =
            t->mark <= t->out.len ? strstr(base + t->mark, needle) : NULL;
        if (hit) {
            t->mark = (size_t)(hit - base) + strlen(needle);
            return 1;
        }
        if (sl_now_ms() > deadline)
            return 0;
        term_pump(t, 50);
    }
}

static void term_send(term *t, const char *keys)
{
    size_t n = strlen(keys), off = 0;
    while (off < n) {
        ssize_t w = write(t->fd, keys + off, n - off);
        if (w <= 0)
            break;
        off += (size_t)w;
        term_pump(t, 0);
    }
}

/* Wait for the process to exit; returns its status or -1. */
static int term_wait(term *t, int timeout_ms)
{
    int64_t deadline = sl_now_ms() + timeout_ms;
    for (;;) {
        int st;
        term_pump(t, 20);
        pid_t r = waitpid(t->pid, &st, WNOHANG);
        if (r == t->pid) {
            close(t->fd);
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        if (sl_now_ms() > deadline) {
            kill(t->pid, SIGKILL);
            waitpid(t->pid, &st, 0);
            close(t->fd);
            return -1;
        }
    }
}

static void term_done(term *t)
{
    sl_buf_free(&t->out);
}

#define EXPECT(t, s)                                                           \
    cr_assert(term_expect((t), (s), 10000), "did not see \"%s\" in:\n%s", (s), \
              sl_buf_cstr(&(t)->out))

/* The history file, with libedit's \040 escapes turned back into spaces. */
static char *read_history(const char *home)
{
    char *path = sl_asprintf("%s/.sluice_history", home);
    char *text = sl_test_read_file(path, NULL);
    sl_free(path);
    if (!text)
        return NULL;
    char *w = text;
    for (char *r = text; *r; r++) {
        if (!strncmp(r, "\\040", 4)) {
            *w++ = ' ';
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return text;
}

Test(shell, banner_help_and_ctrl_d)
{
    char *home = sl_test_tmpdir();
    term t;
    term_start(&t, home);
    EXPECT(&t, "Welcome to Sluice");
    EXPECT(&t, "sluice> ");
    term_send(&t, "help\r");
    EXPECT(&t, "CREATE TABLE");
    EXPECT(&t, "STOP JOB");
    EXPECT(&t, "sluice> ");
    term_send(&t, "help create model\r");
    EXPECT(&t, "INPUT (column type, ...) OUTPUT (column type, ...)");
    EXPECT(&t, "sluice> ");
    term_send(&t, "help bogus\r");
    EXPECT(&t, "No help for 'bogus'");
    EXPECT(&t, "sluice> ");
    term_send(&t, "\x04");
    cr_assert_eq(term_wait(&t, 10000), 0, "%s", sl_buf_cstr(&t.out));
    term_done(&t);
    sl_test_tmpdir_remove(home);
}

Test(shell, quit_command_exits)
{
    char *home = sl_test_tmpdir();
    term t;
    term_start(&t, home);
    EXPECT(&t, "sluice> ");
    term_send(&t, "quit\r");
    cr_assert_eq(term_wait(&t, 10000), 0, "%s", sl_buf_cstr(&t.out));
    term_done(&t);
    sl_test_tmpdir_remove(home);
}

Test(shell, tab_completes_keyword_and_option_key)
{
    char *home = sl_test_tmpdir();
    term t;
    term_start(&t, home);
    EXPECT(&t, "sluice> ");
    term_send(&t, "sel\t");
    EXPECT(&t, "ect");
    term_send(&t, "1;\r");
    EXPECT(&t, "sluice> ");
    term_send(&t, "CREATE TABLE t (a INT) WITH ('properties.bo\t");
    EXPECT(&t, "otstrap.servers");
    term_send(&t, "\x03");
    EXPECT(&t, "sluice> ");
    term_send(&t, "exit\r");
    cr_assert_eq(term_wait(&t, 10000), 0);
    char *hist = read_history(home);
    cr_assert(hist && strstr(hist, "select 1;"), "history: %s", hist);
    /* the line cleared by Ctrl-C is not remembered */
    cr_assert_null(strstr(hist, "CREATE TABLE"), "history: %s", hist);
    sl_free(hist);
    term_done(&t);
    sl_test_tmpdir_remove(home);
}

Test(shell, multi_line_statement)
{
    char *home = sl_test_tmpdir();
    term t;
    term_start(&t, home);
    EXPECT(&t, "sluice> ");
    term_send(&t, "SELECT\r");
    EXPECT(&t, "     -> ");
    term_send(&t, "  'a;b'\r");
    EXPECT(&t, "     -> ");
    term_send(&t, "  AS x;\r");
    /* the statement ran: a result or the engine's error, then a new prompt */
    EXPECT(&t, "sluice> ");
    const char *after = sl_buf_cstr(&t.out);
    cr_assert(strstr(after, "1 row in set") || strstr(after, "ERROR: "), "%s",
              after);
    term_send(&t, "\x04");
    cr_assert_eq(term_wait(&t, 10000), 0);
    char *hist = read_history(home);
    cr_assert(hist && strstr(hist, "SELECT   'a;b'   AS x;"), "history: %s",
              hist);
    sl_free(hist);
    term_done(&t);
    sl_test_tmpdir_remove(home);
}

Test(shell, history_across_sessions)
{
    char *home = sl_test_tmpdir();
    term t;
    term_start(&t, home);
    EXPECT(&t, "sluice> ");
    term_send(&t, "SELECT 42 AS answer;\r");
    EXPECT(&t, "sluice> ");
    term_send(&t, "\x04");
    cr_assert_eq(term_wait(&t, 10000), 0);
    term_done(&t);

    term_start(&t, home);
    EXPECT(&t, "sluice> ");
    term_send(&t, "\x1b[A"); /* Up: the last statement comes back */
    EXPECT(&t, "SELECT 42 AS answer;");
    term_send(&t, "\x03"); /* ^C flushes the tty's input: send apart */
    EXPECT(&t, "sluice> ");
    term_send(&t, "\x04");
    cr_assert_eq(term_wait(&t, 10000), 0);
    term_done(&t);
    sl_test_tmpdir_remove(home);
}

Test(shell, ctrl_c_clears_the_line)
{
    char *home = sl_test_tmpdir();
    term t;
    term_start(&t, home);
    EXPECT(&t, "sluice> ");
    term_send(&t, "SELECT 1\r");
    EXPECT(&t, "     -> ");
    term_send(&t, "garbage\x03");
    EXPECT(&t, "^C");
    /* the pending statement is gone: a fresh prompt, not a continuation */
    EXPECT(&t, "sluice> ");
    term_send(&t, "\\set\r");
    EXPECT(&t, "output  table");
    term_send(&t, "\x04");
    cr_assert_eq(term_wait(&t, 10000), 0);
    term_done(&t);
    sl_test_tmpdir_remove(home);
}

Test(shell, client_settings)
{
    char *home = sl_test_tmpdir();
    term t;
    term_start(&t, home);
    EXPECT(&t, "sluice> ");
    term_send(&t, "\\set output tableau\r");
    EXPECT(&t, "Result mode is tableau.");
    term_send(&t, "SET 'sql-client.execution.result-mode' = 'changelog';\r");
    EXPECT(&t, "[INFO] sql-client.execution.result-mode = changelog");
    term_send(&t, "\\timing on\r");
    EXPECT(&t, "Timing is on.");
    term_send(&t, "\\set null (null)\r");
    EXPECT(&t, "NULL is shown as '(null)'.");
    term_send(&t, "\\set\r");
    EXPECT(&t, "output  changelog");
    EXPECT(&t, "timing  on");
    EXPECT(&t, "null    (null)");
    term_send(&t, "\\set output xml\r");
    EXPECT(&t, "unknown result mode 'xml'");
    term_send(&t, "\\bogus\r");
    EXPECT(&t, "unknown command '\\bogus'");
    term_send(&t, "\x04");
    cr_assert_eq(term_wait(&t, 10000), 0);
    term_done(&t);
    sl_test_tmpdir_remove(home);
}

Test(shell, piped_stdin_has_no_prompt)
{
    sl_buf out, err;
    sl_buf_init(&out, 0);
    sl_buf_init(&err, 0);
    const char *argv[] = {sl_test_sluice_bin(), NULL};
    int rc = sl_test_run(argv,
                         "-- comments and empty statements are fine\n;\n"
                         "help drop\n\\set output changelog\n;\nquit\n"
                         "this is never read;\n",
                         &out, &err, 30000);
    cr_assert_eq(rc, 0, "%s", sl_buf_cstr(&err));
    cr_assert_null(strstr(sl_buf_cstr(&out), "sluice> "));
    cr_assert(strstr(sl_buf_cstr(&out), "DROP TABLE [IF EXISTS] name;"));
    sl_buf_free(&out);
    sl_buf_free(&err);

    /* a failing statement stops the run with the SQL exit status and the
     * error names <stdin> */
    sl_buf_init(&out, 0);
    sl_buf_init(&err, 0);
    rc = sl_test_run(argv, "\n\nNOT A STATEMENT;\n", &out, &err, 30000);
    cr_assert_eq(rc, 1, "%s", sl_buf_cstr(&err));
    cr_assert(!strncmp(sl_buf_cstr(&err), "<stdin>: ", 9), "%s",
              sl_buf_cstr(&err));
    sl_buf_free(&out);
    sl_buf_free(&err);
}

/* A continuous query over an unbounded source shows the live table (status
 * line with changes and rows/s, redrawn as rows arrive); Ctrl-C cancels it
 * and returns to the prompt. */
Test(shell, live_table_and_ctrl_c_cancel, .timeout = 60)
{
    char *home = sl_test_tmpdir();
    term t;
    term_start(&t, home);
    EXPECT(&t, "sluice> ");
    term_send(&t, "CREATE TABLE ticks (id BIGINT, v INT) WITH ('connector' = "
                  "'datagen', 'rows-per-second' = '20', 'fields.id.kind' = "
                  "'sequence', 'fields.id.start' = '1', 'fields.id.end' = "
                  "'1000000');\r");
    EXPECT(&t, "sluice> ");
    term_send(&t, "SELECT id, v FROM ticks;\r");
    EXPECT(&t, "rows/s");
    /* the table keeps updating: a later id shows up */
    EXPECT(&t, "| 30 ");
    term_send(&t, "\x03");
    EXPECT(&t, "Query cancelled.");
    EXPECT(&t, "sluice> ");
    term_send(&t, "\x04");
    cr_assert_eq(term_wait(&t, 10000), 0);
    term_done(&t);
    sl_test_tmpdir_remove(home);
}

/* INSERT INTO from the shell runs in the background: it prints a job id,
 * SHOW JOBS lists it RUNNING, STOP JOB stops it gracefully. */
Test(shell, background_insert_show_and_stop_job, .timeout = 60)
{
    char *home = sl_test_tmpdir();
    term t;
    term_start(&t, home);
    EXPECT(&t, "sluice> ");
    term_send(&t, "CREATE TABLE src (id BIGINT) WITH ('connector' = "
                  "'datagen', 'rows-per-second' = '100');\r");
    EXPECT(&t, "sluice> ");
    term_send(&t, "CREATE TABLE dst (id BIGINT) WITH ('connector' = "
                  "'blackhole');\r");
    EXPECT(&t, "sluice> ");
    term_send(&t, "INSERT INTO dst SELECT id FROM src;\r");
    EXPECT(&t, "job id");
    EXPECT(&t, "sluice> ");
    /* the id is the 32 hex digits printed in the result table */
    const char *all = sl_buf_cstr(&t.out);
    const char *p = strstr(all, "| job id");
    cr_assert_not_null(p);
    char id[33] = {0};
    for (const char *q = p + 8; *q && !id[0]; q++) {
        size_t n = strspn(q, "0123456789abcdef");
        if (n == 32)
            memcpy(id, q, 32);
        else if (n)
            q += n - 1;
    }
    cr_assert(id[0], "no job id in:\n%s", all);
    term_send(&t, "SHOW JOBS;\r");
    EXPECT(&t, "RUNNING");
    EXPECT(&t, "sluice> ");
    char cmd[96];
    sl_snprintf(cmd, sizeof(cmd), "STOP JOB '%s';\r", id);
    term_send(&t, cmd);
    EXPECT(&t, "sluice> ");
    term_send(&t, "SHOW JOBS;\r");
    EXPECT(&t, "CANCELED");
    EXPECT(&t, "sluice> ");
    term_send(&t, "\x04");
    cr_assert_eq(term_wait(&t, 10000), 0);
    term_done(&t);
    sl_test_tmpdir_remove(home);
}
