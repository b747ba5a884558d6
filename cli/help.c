/*
 * help.c: `help` and `help <statement>` in the shell.
 *
 * One table holds a synopsis and an example for every statement of the
 * dialect (DESIGN.md section 3) plus the shell's own commands; `help`
 * prints the index, `help create table` (any case, any prefix that names
 * one entry) prints the entry.
 */
#include <ctype.h>
#include <string.h>

#include "cli.h"

typedef struct help_entry {
    const char *topic; /* upper-case words */
    const char *summary;
    const char *text;
} help_entry;

static const help_entry entries[] = {
    {"CREATE TABLE", "declare a stream or bounded table over a connector",
     "CREATE TABLE [IF NOT EXISTS] name (\n"
     "    column type [NOT NULL] [METADATA [FROM 'key']], ...\n"
     "    [, WATERMARK FOR column AS expression]\n"
     "    [, PRIMARY KEY (column, ...) NOT ENFORCED]\n"
     ") WITH ('connector' = '...', 'key' = 'value', ...);\n\n"
     "Example:\n"
     "  CREATE TABLE clicks (user_id BIGINT, url STRING, ts TIMESTAMP(3),\n"
     "    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)\n"
     "  WITH ('connector' = 'kafka', 'topic' = 'clicks',\n"
     "        'properties.bootstrap.servers' = 'embedded',\n"
     "        'format' = 'json');\n"},
    {"CREATE MODEL", "declare an inference endpoint usable in ML_PREDICT",
     "CREATE MODEL [IF NOT EXISTS] name\n"
     "    INPUT (column type, ...) OUTPUT (column type, ...)\n"
     "    WITH ('provider' = 'openai' | 'http' | 'xgboost', 'key' = 'value',\n"
     "          ...);\n\n"
     "Secrets are written as '${ENV_VAR}' and are never printed.\n\n"
     "Example:\n"
     "  CREATE MODEL sentiment INPUT (text STRING) OUTPUT (label STRING)\n"
     "  WITH ('provider' = 'openai', 'endpoint' = 'http://127.0.0.1:8080',\n"
     "        'model' = 'gpt-4o-mini', 'api-key' = '${OPENAI_API_KEY}');\n"},
    {"CREATE VIEW", "name a query",
     "CREATE [TEMPORARY] VIEW [IF NOT EXISTS] name [(column, ...)] AS "
     "query;\n\n"
     "Example:\n"
     "  CREATE VIEW long_clicks AS SELECT * FROM clicks WHERE "
     "CHAR_LENGTH(url) > 100;\n"},
    {"DROP", "remove a table, view or model",
     "DROP TABLE [IF EXISTS] name;\n"
     "DROP VIEW [IF EXISTS] name;\n"
     "DROP MODEL [IF EXISTS] name;\n"},
    {"ALTER MODEL", "change a model's options or name",
     "ALTER MODEL [IF EXISTS] name SET ('key' = 'value', ...);\n"
     "ALTER MODEL [IF EXISTS] name RENAME TO new_name;\n\n"
     "Example:\n"
     "  ALTER MODEL sentiment SET ('max-in-flight' = '32');\n"},
    {"INSERT", "start a job writing a query's rows into a table",
     "INSERT INTO table [(column, ...)] query;\n\n"
     "Starts a job; it runs until its sources end (bounded) or until STOP "
     "JOB.\n\n"
     "Example:\n"
     "  INSERT INTO flagged\n"
     "  SELECT user_id, url, score\n"
     "  FROM ML_PREDICT(TABLE clicks, MODEL spam, DESCRIPTOR(url))\n"
     "  WHERE score > 0.9;\n"},
    {"EXECUTE STATEMENT SET", "run several INSERTs as one job",
     "EXECUTE STATEMENT SET BEGIN\n"
     "  INSERT INTO a SELECT ...;\n"
     "  INSERT INTO b SELECT ...;\n"
     "END;\n\n"
     "The inserts share their sources and run as one job.\n"},
    {"SELECT", "query tables; continuous queries update their result live",
     "[WITH name AS (query), ...]\n"
     "SELECT [DISTINCT] expression [AS alias], ...\n"
     "FROM table | TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE)\n"
     "     | HOP(...) | CUMULATE(...) | SESSION(...)\n"
     "     | ML_PREDICT(TABLE t, MODEL m, DESCRIPTOR(column) [, MAP[...]])\n"
     "     [[LEFT] JOIN ... ON ...]\n"
     "[WHERE condition] [GROUP BY ...] [HAVING ...]\n"
     "[ORDER BY ...] [LIMIT n]\n"
     "[UNION ALL query];\n\n"
     "On a bounded table the result prints as a table; on a stream it stays\n"
     "live (see \\set output) until Ctrl-C.\n\n"
     "Example:\n"
     "  SELECT window_start, COUNT(*) AS clicks\n"
     "  FROM TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE)\n"
     "  GROUP BY window_start, window_end;\n"},
    {"SET", "set a session option, or list them",
     "SET;                         list the options that are set\n"
     "SET 'key' = 'value';         set one\n\n"
     "Client options (handled by the shell):\n"
     "  SET 'sql-client.execution.result-mode' = "
     "'table'|'changelog'|'tableau';\n"
     "  SET 'sql-client.display.null' = '<NULL>';\n"},
    {"RESET", "reset session options",
     "RESET;                       reset every option\n"
     "RESET 'key';                 reset one\n"},
    {"SHOW", "list catalog objects and jobs",
     "SHOW TABLES;\n"
     "SHOW VIEWS;\n"
     "SHOW MODELS;\n"
     "SHOW FUNCTIONS;\n"
     "SHOW JOBS;\n"
     "SHOW METRICS;            metrics of every job (also served over HTTP\n"
     "                         with SET 'metrics.port' = '9464')\n"
     "SHOW CREATE TABLE name;  SHOW CREATE MODEL name;  SHOW CREATE VIEW "
     "name;\n"},
    {"DESCRIBE", "show the columns of a table, view or model",
     "DESCRIBE name;   (also DESC name;)\n"
     "DESCRIBE MODEL name;\n"},
    {"EXPLAIN", "show how a statement would run",
     "EXPLAIN [PLAN FOR] statement;\n\n"
     "Prints the pipeline: operators, the SQLite SQL of each stage, the\n"
     "state each operator keeps and the changelog kind of each edge.\n"},
    {"STOP JOB", "stop a running job",
     "STOP JOB 'job-id' [WITH SAVEPOINT];\n\n"
     "Job ids come from SHOW JOBS.\n"},
    {"\\SET", "client settings",
     "\\set                      show client settings\n"
     "\\set output table|changelog|tableau\n"
     "\\set null TEXT            how NULL shows in tables (default <NULL>)\n"
     "\\timing on|off            print elapsed time after each statement\n"},
    {"QUIT", "leave the shell", "quit, exit, \\q or Ctrl-D.\n"},
};

static void print_overview(FILE *fp)
{
    fprintf(fp, "Statements end with ';' and may span lines. Commands:\n\n");
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
        fprintf(fp, "  %-22s %s\n", entries[i].topic, entries[i].summary);
    fprintf(fp,
            "\nhelp <statement> shows one in detail (e.g. help create "
            "table).\n"
            "Keys: Tab completes, Up/Down walk the history (~/.sluice_history),"
            "\nCtrl-C cancels a running query or clears the line, Ctrl-D "
            "exits.\n");
}

/* Upper-case topic with runs of blanks squeezed to one space. */
static void normalize(const char *in, char *out, size_t size)
{
    size_t n = 0;
    int space = 0;
    for (; *in && n + 1 < size; in++) {
        if (isspace((unsigned char)*in) || *in == ';') {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < size)
            out[n++] = ' ';
        space = 0;
        out[n++] = (char)toupper((unsigned char)*in);
    }
    out[n] = '\0';
}

int cli_help(FILE *fp, const char *topic)
{
    char want[128];
    normalize(topic ? topic : "", want, sizeof(want));
    if (!want[0]) {
        print_overview(fp);
        return 0;
    }
    /* aliases */
    if (!strcmp(want, "DESC"))
        snprintf(want, sizeof(want), "DESCRIBE");
    if (!strcmp(want, "EXIT") || !strcmp(want, "\\Q"))
        snprintf(want, sizeof(want), "QUIT");
    if (!strcmp(want, "\\TIMING"))
        snprintf(want, sizeof(want), "\\SET");
    const help_entry *hit = NULL;
    size_t wl = strlen(want);
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        const char *t = entries[i].topic;
        if (!strcmp(t, want)) {
            hit = &entries[i];
            break;
        }
        /* "help insert into" names INSERT; "help show tables" names SHOW */
        size_t tl = strlen(t);
        if (!hit && wl > tl && !strncmp(want, t, tl) && want[tl] == ' ')
            hit = &entries[i];
        /* "help create" is ambiguous, "help execute" is not */
        if (!hit && tl > wl && !strncmp(t, want, wl) && t[wl] == ' ') {
            int n = 0;
            for (size_t j = 0; j < sizeof(entries) / sizeof(entries[0]); j++)
                if (!strncmp(entries[j].topic, want, wl) &&
                    entries[j].topic[wl] == ' ')
                    n++;
            if (n == 1)
                hit = &entries[i];
        }
    }
    if (!hit) {
        fprintf(fp, "No help for '%s'. Topics:", topic);
        for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
            fprintf(fp, "%s %s", i ? "," : "", entries[i].topic);
        fprintf(fp, "\n");
        return -1;
    }
    fprintf(fp, "%s: %s\n\n%s", hit->topic, hit->summary, hit->text);
    return 0;
}
