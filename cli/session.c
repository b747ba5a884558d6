/*
 * session.c: one statement or client command at a time, for every mode.
 *
 * The shell, `sluice -f/-e`, piped stdin and `sluice run` all end here:
 * client commands (help, quit/exit, \set, \timing) and the client-side SET
 * 'sql-client.execution.result-mode' are handled without the engine; every
 * other statement is padded so the engine's line:column points into its
 * source, run through the adapter (engine.c) and printed by output.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

#define MAX_PAD                                                                \
    (1u << 24) /* lines/columns of padding we are willing to add               \
                */

void cli_session_init(cli_session *s, sluice *db, const cli_opts *opts)
{
    memset(s, 0, sizeof(*s));
    s->db = db;
    s->format = opts ? opts->output_format : CLI_FMT_TABLE;
    s->result_mode = CLI_FMT_TABLE;
    snprintf(s->null_text, sizeof(s->null_text), "<NULL>");
}

static void set_null_text(cli_session *s, const char *v)
{
    size_t n = strlen(v);
    if (n >= sizeof(s->null_text))
        n = sizeof(s->null_text) - 1;
    memcpy(s->null_text, v, n);
    s->null_text[n] = '\0';
}

static const char *mode_name(int mode)
{
    switch (mode) {
    case CLI_FMT_CHANGELOG:
        return "changelog";
    case CLI_FMT_TABLEAU:
        return "tableau";
    case CLI_FMT_JSONL:
        return "jsonl";
    case CLI_FMT_CSV:
        return "csv";
    default:
        return "table";
    }
}

static int set_result_mode(cli_session *s, const char *v)
{
    int mode;
    if (!strcasecmp(v, "table"))
        mode = CLI_FMT_TABLE;
    else if (!strcasecmp(v, "changelog"))
        mode = CLI_FMT_CHANGELOG;
    else if (!strcasecmp(v, "tableau"))
        mode = CLI_FMT_TABLEAU;
    else {
        fprintf(stderr,
                "ERROR: unknown result mode '%s' (expected table, changelog "
                "or tableau)\n",
                v);
        return -1;
    }
    s->result_mode = mode;
    if (!s->interactive)
        s->format = (cli_format)mode;
    return 0;
}

/* Copy the next word or quoted string of *p into buf; advances *p. */
static int next_token(const char **p, char *buf, size_t size, int stop_eq)
{
    const char *q = *p;
    while (isspace((unsigned char)*q))
        q++;
    size_t n = 0;
    if (*q == '\'' || *q == '"' || *q == '`') {
        char quote = *q++;
        while (*q) {
            if (*q == quote) {
                if (q[1] != quote)
                    break;
                q++;
            }
            if (n + 1 < size)
                buf[n++] = *q;
            q++;
        }
        if (*q != quote)
            return -1;
        q++;
    } else {
        while (*q && !isspace((unsigned char)*q) && *q != ';' &&
               !(stop_eq && *q == '=')) {
            if (n + 1 < size)
                buf[n++] = *q;
            q++;
        }
    }
    buf[n] = '\0';
    *p = q;
    return n ? 0 : -1;
}

/* SET 'sql-client.execution.result-mode' = 'x': 1 handled, 0 not ours. */
static int client_set(cli_session *s, const char *stmt, size_t len, int *rc)
{
    char text[512];
    if (len >= sizeof(text))
        return 0;
    memcpy(text, stmt, len);
    text[len] = '\0';
    const char *p = text;
    char word[16], key[128], val[128];
    if (next_token(&p, word, sizeof(word), 1) || strcasecmp(word, "SET"))
        return 0;
    if (next_token(&p, key, sizeof(key), 1))
        return 0;
    if (strcasecmp(key, "sql-client.execution.result-mode") &&
        strcasecmp(key, "sql-client.display.null"))
        return 0;
    while (isspace((unsigned char)*p))
        p++;
    if (*p++ != '=' || next_token(&p, val, sizeof(val), 0)) {
        fprintf(stderr, "ERROR: expected SET '%s' = 'value'\n", key);
        *rc = CLI_EXIT_SQL;
        return 1;
    }
    if (!strcasecmp(key, "sql-client.display.null")) {
        set_null_text(s, val);
        *rc = CLI_EXIT_OK;
    } else {
        *rc = set_result_mode(s, val) ? CLI_EXIT_SQL : CLI_EXIT_OK;
    }
    if (*rc == CLI_EXIT_OK && s->interactive)
        printf("[INFO] %s = %s\n", key, val);
    return 1;
}

static void show_settings(const cli_session *s)
{
    printf("output  %s\n",
           mode_name(s->interactive ? s->result_mode : (int)s->format));
    printf("timing  %s\n", s->timing ? "on" : "off");
    printf("null    %s\n", s->null_text);
}

int cli_session_command(cli_session *s, const char *line)
{
    char buf[512];
    size_t n = strlen(line);
    while (n && (isspace((unsigned char)line[n - 1]) || line[n - 1] == ';'))
        n--;
    while (n && isspace((unsigned char)*line)) {
        line++;
        n--;
    }
    if (n == 0 || n >= sizeof(buf))
        return 0;
    memcpy(buf, line, n);
    buf[n] = '\0';
    char *arg = buf;
    while (*arg && !isspace((unsigned char)*arg))
        arg++;
    if (*arg)
        *arg++ = '\0';
    while (isspace((unsigned char)*arg))
        arg++;
    const char *cmd = buf;
    if (!strcasecmp(cmd, "quit") || !strcasecmp(cmd, "exit") ||
        !strcmp(cmd, "\\q")) {
        if (*arg)
            return 0;
        s->quit = 1;
        return 1;
    }
    if (!strcasecmp(cmd, "help") || !strcmp(cmd, "\\help") ||
        !strcmp(cmd, "\\h") || !strcmp(cmd, "\\?")) {
        cli_help(stdout, arg);
        return 1;
    }
    if (cmd[0] != '\\')
        return 0;
    if (!strcmp(cmd, "\\timing")) {
        if (!*arg)
            s->timing = !s->timing;
        else if (!strcasecmp(arg, "on"))
            s->timing = 1;
        else if (!strcasecmp(arg, "off"))
            s->timing = 0;
        else {
            fprintf(stderr, "ERROR: \\timing takes on or off\n");
            return 1;
        }
        printf("Timing is %s.\n", s->timing ? "on" : "off");
        return 1;
    }
    if (!strcmp(cmd, "\\set")) {
        char *val = arg;
        while (*val && !isspace((unsigned char)*val))
            val++;
        if (*val)
            *val++ = '\0';
        while (isspace((unsigned char)*val))
            val++;
        if (!*arg) {
            show_settings(s);
        } else if (!strcmp(arg, "output")) {
            if (!*val)
                printf("output  %s\n", mode_name(s->result_mode));
            else if (set_result_mode(s, val) == 0)
                printf("Result mode is %s.\n", mode_name(s->result_mode));
        } else if (!strcmp(arg, "timing")) {
            s->timing = !strcasecmp(val, "on") || !strcmp(val, "1");
            printf("Timing is %s.\n", s->timing ? "on" : "off");
        } else if (!strcmp(arg, "null")) {
            set_null_text(s, val);
            printf("NULL is shown as '%s'.\n", s->null_text);
        } else {
            fprintf(stderr,
                    "ERROR: unknown setting '%s' (settings: output, timing, "
                    "null)\n",
                    arg);
        }
        return 1;
    }
    fprintf(stderr, "ERROR: unknown command '%s' (try 'help')\n", cmd);
    return 1;
}

static void term_size(int *rows, int *cols)
{
    struct winsize ws;
    *rows = 24;
    *cols = 80;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) {
        *rows = ws.ws_row;
        *cols = ws.ws_col;
    }
}

static int is_query_word(const char *w)
{
    static const char *const q[] = {"SELECT",   "WITH", "VALUES",  "SHOW",
                                    "DESCRIBE", "DESC", "EXPLAIN", "TABLE"};
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
        if (!strcmp(w, q[i]))
            return 1;
    return 0;
}

int cli_session_stmt(cli_session *s, const char *origin, const char *stmt,
                     size_t len, int line, int col)
{
    if (cli_sql_is_blank(stmt, len))
        return CLI_EXIT_OK;
    int rc = CLI_EXIT_OK;
    if (client_set(s, stmt, len, &rc))
        return rc;
    if (line < 1 || (unsigned)line > MAX_PAD)
        line = 1;
    if (col < 1 || (unsigned)col > MAX_PAD)
        col = 1;
    size_t pad = (size_t)(line - 1) + (size_t)(col - 1);
    char *sql = malloc(pad + len + 1);
    if (!sql) {
        fprintf(stderr, "sluice: out of memory\n");
        return CLI_EXIT_RUNTIME;
    }
    memset(sql, '\n', (size_t)(line - 1));
    memset(sql + line - 1, ' ', (size_t)(col - 1));
    memcpy(sql + pad, stmt, len);
    sql[pad + len] = '\0';

    char word[32];
    cli_sql_first_word(stmt, len, word, sizeof(word));
    int is_query = is_query_word(word);
    if (!strcmp(word, "CREATE") || !strcmp(word, "DROP") ||
        !strcmp(word, "ALTER"))
        s->catalog_dirty = 1;

    cli_out_conf conf = {.fp = stdout,
                         .format = s->interactive ? (cli_format)s->result_mode
                                                  : s->format,
                         .null_text = s->null_text,
                         .is_tty = s->interactive && isatty(STDOUT_FILENO),
                         .timing = s->timing,
                         .footer = s->interactive || s->timing};
    term_size(&conf.term_rows, &conf.term_cols);
    cli_out *out = cli_out_new(&conf);
    cli_progress progress;
    cli_progress_init(&progress, stderr,
                      s->progress && !s->interactive && isatty(STDERR_FILENO));
    cli_exec_hooks hooks = {
        .out = out, .progress = &progress, .is_query = is_query};
    if (conf.format == CLI_FMT_TABLE || conf.format == CLI_FMT_TABLEAU) {
        /* multi-line text results read best as they are */
        const char *p = stmt;
        while (p < stmt + len &&
               (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
            p++;
        if (!strcmp(word, "EXPLAIN")) {
            hooks.raw_text = 1;
        } else if (!strcmp(word, "SHOW")) {
            p += 4;
            while (p < stmt + len &&
                   (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
                p++;
            if (stmt + len - p >= 6 && !strncasecmp(p, "CREATE", 6))
                hooks.raw_text = 1;
        }
    }
    int64_t t0 = cli_mono_ns();
    cli_interrupt_arm(s->db);
    int lrc = out ? cli_exec_stmt(s->db, sql, &hooks) : SLUICE_NOMEM;
    cli_interrupt_disarm();
    const char *warn = sluice_warnings(s->db);
    if (warn && *warn)
        fputs(warn, stderr);
    cli_out_free(out);
    free(sql);
    fflush(stdout);
    if (lrc == SLUICE_INTERRUPTED) {
        /* the shell returns to its prompt; a script stops gracefully (a
         * streaming job ends on SIGINT/SIGTERM) and runs nothing more */
        if (s->interactive) {
            fprintf(stderr, "Query cancelled.\n");
        } else {
            fprintf(stderr, "sluice: stopped by signal\n");
            s->quit = 1;
        }
        return CLI_EXIT_OK;
    }
    if (lrc != SLUICE_OK) {
        const char *msg = lrc == SLUICE_NOMEM && !out ? sluice_errstr(lrc)
                                                      : sluice_errmsg(s->db);
        if (s->interactive)
            fprintf(stderr, "ERROR: %s\n", msg);
        else
            fprintf(stderr, "%s: %s\n", origin, msg);
        return cli_exit_status(lrc);
    }
    if (s->interactive && !is_query) {
        if (s->timing)
            printf("OK (%.3f sec)\n", (double)(cli_mono_ns() - t0) / 1e9);
        else
            printf("OK\n");
    }
    return CLI_EXIT_OK;
}

/* Advance line/col over n bytes of text. */
static void advance(const char *t, size_t n, int *line, int *col)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int cli_session_text(cli_session *s, const char *origin, const char *text)
{
    size_t len = strlen(text), off = 0;
    int line = 1, col = 1;
    while (off < len && !s->quit) {
        /* skip blanks so the statement starts at its first character */
        size_t skip = 0;
        while (off + skip < len && isspace((unsigned char)text[off + skip]))
            skip++;
        advance(text + off, skip, &line, &col);
        off += skip;
        if (off >= len)
            break;
        /* a client command takes the rest of its line */
        const char *nl = memchr(text + off, '\n', len - off);
        size_t line_len = nl ? (size_t)(nl - (text + off)) : len - off;
        if (line_len < 512) {
            char cmd[512];
            memcpy(cmd, text + off, line_len);
            cmd[line_len] = '\0';
            char w[16];
            cli_sql_first_word(cmd, line_len, w, sizeof(w));
            if ((cmd[0] == '\\' || !strcmp(w, "HELP") || !strcmp(w, "QUIT") ||
                 !strcmp(w, "EXIT")) &&
                cli_session_command(s, cmd)) {
                advance(text + off, line_len, &line, &col);
                off += line_len;
                continue;
            }
        }
        size_t n = cli_sql_stmt_len(text + off, len - off);
        if (n == 0)
            n = len - off; /* the last statement may omit its ';' */
        int status = cli_session_stmt(s, origin, text + off, n, line, col);
        if (status != CLI_EXIT_OK)
            return status;
        advance(text + off, n, &line, &col);
        off += n;
    }
    return CLI_EXIT_OK;
}
