/*
 * test_cli_output.c: the CLI's pieces that need no engine, compiled in from
 * cli/: result printing in every format (aligned table with NULLs and
 * footer, jsonl with JSON types, RFC 4180 csv, changelog, tableau, the live
 * table with in-place redraws), statement boundaries (sqlscan.c), help
 * topics and completion candidates.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/complete.c"
#include "../../cli/engine.c"
#include "../../cli/help.c"
#include "../../cli/output.c"
#include "../../cli/sqlscan.c"

typedef struct capture {
    char *text;
    size_t len;
    FILE *fp;
} capture;

static cli_out *open_out(capture *cap, cli_format fmt, int tty, int footer)
{
    cap->text = NULL;
    cap->len = 0;
    cap->fp = open_memstream(&cap->text, &cap->len);
    cr_assert(cap->fp);
    cli_out_conf conf = {.fp = cap->fp,
                         .format = fmt,
                         .is_tty = tty,
                         .term_rows = 12,
                         .term_cols = 80,
                         .footer = footer};
    cli_out *out = cli_out_new(&conf);
    cr_assert(out);
    return out;
}

static const char *close_out(capture *cap, cli_out *out)
{
    cli_out_free(out);
    fclose(cap->fp);
    return cap->text;
}

static const char *const names[] = {"id", "name", "score", "ok", "tags"};
static const char *const types[] = {"BIGINT", "STRING", "DOUBLE", "BOOLEAN",
                                    "ARRAY<STRING>"};

static void two_rows(cli_out *out)
{
    const char *r1[] = {"1", "Alice", "0.5", "TRUE", "[\"a\"]"};
    const char *r2[] = {"22", NULL, "-1e3", "FALSE", NULL};
    cr_assert_eq(cli_out_begin(out, 5, names, types), 0);
    cr_assert_eq(cli_out_row(out, SLUICE_ROW_INSERT, r1), 0);
    cr_assert_eq(cli_out_row(out, SLUICE_ROW_INSERT, r2), 0);
    cli_out_end(out, 12.0);
}

Test(cli_output, table_aligned_with_nulls_and_footer)
{
    capture cap;
    cli_out *out = open_out(&cap, CLI_FMT_TABLE, 0, 1);
    two_rows(out);
    const char *text = close_out(&cap, out);
    cr_assert_str_eq(text, "+----+--------+-------+-------+--------+\n"
                           "| id | name   | score | ok    | tags   |\n"
                           "+----+--------+-------+-------+--------+\n"
                           "|  1 | Alice  |   0.5 | TRUE  | [\"a\"]  |\n"
                           "| 22 | <NULL> |  -1e3 | FALSE | <NULL> |\n"
                           "+----+--------+-------+-------+--------+\n"
                           "2 rows in set\n");
    /* the exact layout: widths include the NULL marker */
    cr_assert(strstr(text, "| id | name   | score | ok    | tags   |\n"), "%s",
              text);
    cr_assert(strstr(text, "|  1 | Alice  |   0.5 | TRUE  | [\"a\"]  |\n"),
              "%s", text);
    cr_assert(strstr(text, "| 22 | <NULL> |  -1e3 | FALSE | <NULL> |\n"), "%s",
              text);
    cr_assert(strstr(text, "2 rows in set\n"), "%s", text);
    free(cap.text);
}

Test(cli_output, table_empty_set_and_newlines_escaped)
{
    capture cap;
    cli_out *out = open_out(&cap, CLI_FMT_TABLE, 0, 1);
    cr_assert_eq(cli_out_begin(out, 5, names, types), 0);
    cli_out_end(out, 1.0);
    const char *r[] = {"7", "two\nlines", "1", "TRUE", NULL};
    cli_out_begin(out, 5, names, types);
    cli_out_row(out, SLUICE_ROW_INSERT, r);
    cli_out_end(out, 1.0);
    const char *text = close_out(&cap, out);
    cr_assert(strstr(text, "Empty set\n"), "%s", text);
    cr_assert(strstr(text, "two\\nlines"), "%s", text);
    cr_assert(strstr(text, "1 row in set\n"), "%s", text);
    free(cap.text);
}

Test(cli_output, jsonl_types)
{
    capture cap;
    cli_out *out = open_out(&cap, CLI_FMT_JSONL, 0, 0);
    two_rows(out);
    const char *bad[] = {"NaN", "say \"hi\"\n", "1.5", "TRUE", "[1]"};
    cli_out_begin(out, 5, names, types);
    cli_out_row(out, SLUICE_ROW_UPDATE_BEFORE, bad);
    cli_out_end(out, 0);
    const char *text = close_out(&cap, out);
    cr_assert_str_eq(
        text, "{\"id\": 1, \"name\": \"Alice\", \"score\": 0.5, \"ok\": true, "
              "\"tags\": [\"a\"]}\n"
              "{\"id\": 22, \"name\": null, \"score\": -1e3, \"ok\": false, "
              "\"tags\": null}\n"
              "{\"id\": \"NaN\", \"name\": \"say \\\"hi\\\"\\n\", \"score\": "
              "1.5, \"ok\": true, \"tags\": [1], \"_kind\": \"-U\"}\n");
    free(cap.text);
}

Test(cli_output, csv_rfc4180)
{
    capture cap;
    cli_out *out = open_out(&cap, CLI_FMT_CSV, 0, 0);
    const char *const n2[] = {"a", "b,c"};
    const char *const t2[] = {"STRING", "STRING"};
    const char *r1[] = {"x", "say \"hi\""};
    const char *r2[] = {NULL, ""};
    const char *r3[] = {"line\nbreak", "plain"};
    cli_out_begin(out, 2, n2, t2);
    cli_out_row(out, SLUICE_ROW_INSERT, r1);
    cli_out_row(out, SLUICE_ROW_INSERT, r2);
    cli_out_row(out, SLUICE_ROW_INSERT, r3);
    cli_out_end(out, 0);
    const char *text = close_out(&cap, out);
    cr_assert_str_eq(text, "a,\"b,c\"\r\n"
                           "x,\"say \"\"hi\"\"\"\r\n"
                           ",\"\"\r\n"
                           "\"line\nbreak\",plain\r\n");
    free(cap.text);
}

Test(cli_output, changelog_lines)
{
    capture cap;
    cli_out *out = open_out(&cap, CLI_FMT_CHANGELOG, 0, 0);
    const char *const n2[] = {"k", "v"};
    const char *const t2[] = {"STRING", "BIGINT"};
    const char *a[] = {"x", "1"}, *b[] = {"x", NULL};
    cli_out_begin(out, 2, n2, t2);
    cli_out_row(out, SLUICE_ROW_INSERT, a);
    cli_out_row(out, SLUICE_ROW_UPDATE_BEFORE, a);
    cli_out_row(out, SLUICE_ROW_UPDATE_AFTER, b);
    cli_out_row(out, SLUICE_ROW_DELETE, b);
    cli_out_end(out, 0);
    const char *text = close_out(&cap, out);
    cr_assert_str_eq(text, "+I[x, 1]\n-U[x, 1]\n+U[x, NULL]\n-D[x, NULL]\n");
    free(cap.text);
}

Test(cli_output, tableau_header_and_op_column)
{
    capture cap;
    cli_out *out = open_out(&cap, CLI_FMT_TABLEAU, 0, 1);
    const char *const n2[] = {"k", "cnt"};
    const char *const t2[] = {"STRING", "BIGINT"};
    const char *a[] = {"x", "1"}, *b[] = {"x", "2"};
    cli_out_begin(out, 2, n2, t2);
    cli_out_row(out, SLUICE_ROW_INSERT, a);
    cli_out_row(out, SLUICE_ROW_UPDATE_BEFORE, a);
    cli_out_row(out, SLUICE_ROW_UPDATE_AFTER, b);
    cli_out_end(out, 0);
    const char *text = close_out(&cap, out);
    cr_assert(
        strstr(text, "| op | k                    |                  cnt |\n"),
        "%s", text);
    cr_assert(
        strstr(text, "| -U | x                    |                    1 |\n"),
        "%s", text);
    cr_assert(
        strstr(text, "| +U | x                    |                    2 |\n"),
        "%s", text);
    cr_assert(strstr(text, "Received a total of 3 rows\n"), "%s", text);
    free(cap.text);
}

Test(cli_output, live_table_materializes_changelog)
{
    capture cap;
    cli_out *out = open_out(&cap, CLI_FMT_TABLE, 1, 1);
    const char *const n2[] = {"k", "cnt"};
    const char *const t2[] = {"STRING", "BIGINT"};
    const char *a1[] = {"a", "1"}, *a2[] = {"a", "2"}, *b1[] = {"b", "1"};
    cli_out_begin(out, 2, n2, t2);
    cli_out_row(out, SLUICE_ROW_INSERT, a1);
    cli_out_row(out, SLUICE_ROW_INSERT, b1);
    /* an update turns the result live: redrawn in place */
    cli_out_row(out, SLUICE_ROW_UPDATE_BEFORE, a1);
    cli_out_row(out, SLUICE_ROW_UPDATE_AFTER, a2);
    cli_out_tick(out, "2024-01-01 00:00:05.000");
    cli_out_row(out, SLUICE_ROW_DELETE, b1);
    cli_out_end(out, 10);
    const char *text = close_out(&cap, out);
    cr_assert(strstr(text, "\x1b[J"), "no in-place redraw: %s", text);
    /* the last frame holds only a=2 */
    const char *last = strstr(text, "Done.");
    cr_assert(last, "%s", text);
    const char *frame = text;
    for (const char *p = text; (p = strstr(p, "\x1b[J")); p++)
        frame = p;
    cr_assert(strstr(frame, "| a |   2 |"), "%s", frame);
    cr_assert_null(strstr(frame, "| b |"), "%s", frame);
    cr_assert(strstr(frame, "1 of 1 rows | changes: 5"), "%s", frame);
    free(cap.text);
}

Test(cli_output, live_table_pages_to_terminal_height)
{
    capture cap;
    cli_out *out = open_out(&cap, CLI_FMT_TABLE, 1, 0);
    const char *const n1[] = {"n"};
    const char *const t1[] = {"BIGINT"};
    cli_out_begin(out, 1, n1, t1);
    char num[16];
    const char *v[] = {num};
    for (int i = 0; i < 50; i++) {
        snprintf(num, sizeof(num), "%d", i);
        cli_out_row(out, i == 0 ? SLUICE_ROW_UPDATE_AFTER : SLUICE_ROW_INSERT,
                    v);
    }
    cli_out_end(out, 1);
    const char *text = close_out(&cap, out);
    const char *frame = text;
    for (const char *p = text; (p = strstr(p, "\x1b[J")); p++)
        frame = p;
    /* 12 terminal rows: 7 data rows, the newest */
    cr_assert(strstr(frame, "7 of 50 rows"), "%s", frame);
    cr_assert(strstr(frame, "| 49 |"), "%s", frame);
    cr_assert_null(strstr(frame, "| 42 |"), "%s", frame);
    free(cap.text);
}

Test(cli_output, json_number_check)
{
    cr_assert(cli_json_is_number("0"));
    cr_assert(cli_json_is_number("-12.5e+3"));
    cr_assert_not(cli_json_is_number("01"));
    cr_assert_not(cli_json_is_number("1."));
    cr_assert_not(cli_json_is_number("Infinity"));
    cr_assert_not(cli_json_is_number(""));
    cr_assert_eq(cli_display_width("h\xc3\xa9llo"), 5);
}

Test(cli_output, progress_line)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    cli_progress p;
    cli_progress_init(&p, fp, 1);
    cli_progress_update(&p, 500, 1000, 1);
    cli_progress_done(&p);
    fclose(fp);
    cr_assert(strstr(text, "rows: 500"), "%s", text);
    cr_assert(strstr(text, "50%"), "%s", text);
    cr_assert(strstr(text, "\r\x1b[K"), "%s", text);
    free(text);
}

/* ---- statement boundaries ---------------------------------------------- */

static size_t stmt_len(const char *s)
{
    return cli_sql_stmt_len(s, strlen(s));
}

Test(cli_sqlscan, boundaries)
{
    static const struct {
        const char *sql;
        size_t len; /* 0: incomplete */
    } cases[] = {
        {"SELECT 1;", 9},
        {"SELECT 1", 0},
        {"SELECT ';';", 11},
        {"SELECT 'it''s;';", 16},
        {"SELECT 'open;", 0},
        {"SELECT \"a;b\" FROM t;", 20},
        {"SELECT `a;b`;", 13},
        {"SELECT 1 -- no;\n;", 17},
        {"SELECT /* ; */ 1;", 17},
        {"SELECT /* ; ", 0},
        {"EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1; END;", 56},
        {"EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1;", 0},
        {"execute statement set begin insert into a select case when x "
         "then 1 end; end;",
         77},
        {"SELECT 1; SELECT 2;", 9},
        {"BEGIN; SELECT 1;", 6},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_assert_eq(stmt_len(cases[i].sql), cases[i].len,
                     "case %zu: %s: got %zu", i, cases[i].sql,
                     stmt_len(cases[i].sql));
    cr_assert(cli_sql_is_blank(" -- x\n ;\n/* y */", 16));
    cr_assert_not(cli_sql_is_blank(" x;", 3));
    char w[16];
    cr_assert_str_eq(cli_sql_first_word(" -- c\n (select 1)", 17, w, 16),
                     "SELECT");
}

/* ---- help --------------------------------------------------------------- */

static char *help_text(const char *topic, int *rc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    *rc = cli_help(fp, topic);
    fclose(fp);
    return text;
}

Test(cli_help, every_statement_has_help)
{
    static const char *const topics[] = {
        "create table", "CREATE MODEL", "create view", "drop",
        "alter model",  "insert",       "insert into", "execute statement set",
        "execute",      "select",       "set",         "reset",
        "show",         "show tables",  "describe",    "desc",
        "explain",      "stop job",     "\\set",       "quit"};
    for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
        int rc;
        char *t = help_text(topics[i], &rc);
        cr_assert_eq(rc, 0, "no help for %s: %s", topics[i], t);
        free(t);
    }
    int rc;
    char *t = help_text("create", &rc);
    cr_assert_eq(rc, -1);
    cr_assert(strstr(t, "No help for 'create'"));
    free(t);
    t = help_text(NULL, &rc);
    cr_assert(strstr(t, "EXECUTE STATEMENT SET"));
    free(t);
    t = help_text("create model", &rc);
    cr_assert(strstr(t, "INPUT ("), "%s", t);
    free(t);
}

/* ---- completion --------------------------------------------------------- */

static int has(char **v, const char *s)
{
    for (int i = 0; v && v[i]; i++)
        if (!strcmp(v[i], s))
            return 1;
    return 0;
}

Test(cli_complete, contexts)
{
    char *tables[] = {"clicks", "users", NULL};
    char *models[] = {"spam", NULL};
    char *columns[] = {"user_id", "url", NULL};
    cli_catalog cat = {tables, models, columns};
    char **v = cli_complete(&cat, "", "sel");
    cr_assert(has(v, "select"));
    cli_strv_free(v);
    v = cli_complete(&cat, "", "SEL");
    cr_assert(has(v, "SELECT"));
    cli_strv_free(v);
    v = cli_complete(&cat, "SELECT * FROM ", "cl");
    cr_assert(has(v, "clicks"));
    cr_assert_not(has(v, "CLUSTER"));
    cli_strv_free(v);
    v = cli_complete(&cat, "SELECT ", "us");
    cr_assert(has(v, "user_id"));
    cr_assert(has(v, "users"));
    cli_strv_free(v);
    v = cli_complete(&cat, "SELECT * FROM ML_PREDICT(TABLE clicks, MODEL ", "");
    cr_assert(has(v, "spam"));
    cr_assert_null(v[1]);
    cli_strv_free(v);
    v = cli_complete(
        &cat, "CREATE TABLE t (a INT) WITH ('connector'='kafka', '", "prop");
    cr_assert(has(v, "properties.bootstrap.servers"));
    cli_strv_free(v);
    v = cli_complete(NULL, "CREATE TABLE t (a INT) WITH (\n  '", "form");
    cr_assert(has(v, "format"));
    cli_strv_free(v);
}
