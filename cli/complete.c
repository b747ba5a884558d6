/*
 * complete.c: what Tab offers in the shell.
 *
 * Given the statement text before the cursor and the word being typed, pick
 * candidates by context: after FROM/JOIN/INTO/TABLE/DESCRIBE a table name,
 * after MODEL a model name, inside the quotes of a WITH ( ... ) option key a
 * known option key, otherwise keywords, functions, tables and columns. Names
 * come from the engine (SHOW TABLES, SHOW MODELS, DESCRIBE t) through the
 * adapter and are cached in a cli_catalog; when those statements fail the
 * shell still completes keywords. Keywords follow the case the user types.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_CANDIDATES 1000
#define MAX_NAMES      2000

static const char *const keywords[] = {
    "ADD",
    "ALL",
    "ALTER",
    "AND",
    "AS",
    "ASC",
    "BEGIN",
    "BETWEEN",
    "BIGINT",
    "BOOLEAN",
    "BY",
    "BYTES",
    "CASE",
    "CAST",
    "CHAR",
    "COUNT",
    "CREATE",
    "CROSS",
    "CUMULATE",
    "DATE",
    "DECIMAL",
    "DESC",
    "DESCRIBE",
    "DESCRIPTOR",
    "DISTINCT",
    "DOUBLE",
    "DROP",
    "ELSE",
    "END",
    "ENFORCED",
    "EXECUTE",
    "EXISTS",
    "EXPLAIN",
    "FALSE",
    "FLOAT",
    "FOR",
    "FROM",
    "FULL",
    "FUNCTIONS",
    "GROUP",
    "HAVING",
    "HOP",
    "IF",
    "IN",
    "INNER",
    "INPUT",
    "INSERT",
    "INT",
    "INTEGER",
    "INTERVAL",
    "INTO",
    "IS",
    "JOBS",
    "JOB",
    "JOIN",
    "KEY",
    "LEFT",
    "LIKE",
    "LIMIT",
    "LLM_CALL",
    "MAP",
    "METADATA",
    "METRICS",
    "ML_PREDICT",
    "MODEL",
    "MODELS",
    "NOT",
    "NULL",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "OUTPUT",
    "OVER",
    "PARTITION",
    "PLAN",
    "PRIMARY",
    "PROCTIME",
    "RENAME",
    "RESET",
    "RIGHT",
    "ROW",
    "SECOND",
    "MINUTE",
    "HOUR",
    "DAY",
    "SELECT",
    "SESSION",
    "SET",
    "SHOW",
    "SMALLINT",
    "STATEMENT",
    "STOP",
    "STRING",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "TABLE",
    "TABLES",
    "TEMPORARY",
    "THEN",
    "TIME",
    "TIMESTAMP",
    "TIMESTAMP_LTZ",
    "TINYINT",
    "TO",
    "TRUE",
    "TUMBLE",
    "UNION",
    "VALUES",
    "VARCHAR",
    "VIEW",
    "VIEWS",
    "WATERMARK",
    "WHEN",
    "WHERE",
    "WITH",
    "CREATE",
    "ARRAY",
    "CURRENT_WATERMARK",
};

static const char *const option_keys[] = {
    "connector",
    "format",
    "topic",
    "topic-pattern",
    "properties.bootstrap.servers",
    "properties.group.id",
    "scan.startup.mode",
    "scan.startup.timestamp-millis",
    "scan.startup.specific-offsets",
    "scan.bounded.mode",
    "key.format",
    "key.fields",
    "value.format",
    "value.fields-include",
    "sink.partitioner",
    "sink.delivery-guarantee",
    "sink.transactional-id-prefix",
    "path",
    "source.monitor-interval",
    "json.ignore-parse-errors",
    "json.fail-on-missing-field",
    "json.timestamp-format.standard",
    "csv.field-delimiter",
    "csv.ignore-parse-errors",
    "csv.null-literal",
    "raw.charset",
    "rows-per-second",
    "number-of-rows",
    "print-identifier",
    "provider",
    "endpoint",
    "model",
    "api-key",
    "task",
    "system-prompt",
    "prompt",
    "temperature",
    "max-tokens",
    "max-in-flight",
    "batch-size",
    "timeout",
    "max-retries",
    "rate-limit.requests-per-minute",
    "rate-limit.tokens-per-minute",
    "error-handling",
    "ordering",
    "cache",
    "request-template",
    "response-path",
};

static int has_prefix_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (tolower((unsigned char)*s) != tolower((unsigned char)*prefix))
            return 0;
    return 1;
}

typedef struct cands {
    char **v;
    int n;
} cands;

static void add(cands *c, const char *s, int lower)
{
    if (!c->v || c->n >= MAX_CANDIDATES)
        return;
    for (int i = 0; i < c->n; i++)
        if (!strcasecmp(c->v[i], s))
            return;
    char *d = strdup(s);
    if (!d)
        return;
    if (lower)
        for (char *p = d; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    c->v[c->n++] = d;
}

static void add_all(cands *c, char **names, const char *word)
{
    for (int i = 0; names && names[i]; i++)
        if (has_prefix_ci(names[i], word))
            add(c, names[i], 0);
}

/* The last whole word of before, upper-cased into out. */
static void last_word(const char *before, char *out, size_t size)
{
    size_t n = strlen(before);
    while (n &&
           !(isalnum((unsigned char)before[n - 1]) || before[n - 1] == '_'))
        n--;
    size_t e = n;
    while (n && (isalnum((unsigned char)before[n - 1]) || before[n - 1] == '_'))
        n--;
    size_t k = 0;
    for (; n < e && k + 1 < size; n++)
        out[k++] = (char)toupper((unsigned char)before[n]);
    out[k] = '\0';
}

/* 1 when the cursor is at an option key: inside WITH ( ... ), right after
 * an opening quote that follows '(' or ','. */
static int at_option_key(const char *before)
{
    size_t n = strlen(before);
    if (!n || before[n - 1] != '\'')
        return 0;
    size_t i = n - 1;
    while (i && isspace((unsigned char)before[i - 1]))
        i--;
    if (!i || (before[i - 1] != '(' && before[i - 1] != ','))
        return 0;
    /* find an unclosed '(' preceded by WITH or SET */
    int depth = 0, quoted = 0;
    for (size_t j = n - 1; j-- > 0;) {
        char ch = before[j];
        if (ch == '\'') {
            quoted = !quoted;
            continue;
        }
        if (quoted)
            continue;
        if (ch == ')')
            depth++;
        else if (ch == '(' && depth-- == 0) {
            char w[16];
            char head[512];
            size_t hl = j < sizeof(head) - 1 ? j : sizeof(head) - 1;
            memcpy(head, before + j - hl, hl);
            head[hl] = '\0';
            last_word(head, w, sizeof(w));
            return !strcmp(w, "WITH") || !strcmp(w, "SET");
        }
    }
    return 0;
}

static int is_lower(const char *w)
{
    int any = 0;
    for (; *w; w++) {
        if (isupper((unsigned char)*w))
            return 0;
        any |= islower((unsigned char)*w);
    }
    return any;
}

char **cli_complete(const cli_catalog *cat, const char *before,
                    const char *word)
{
    cands c = {calloc(MAX_CANDIDATES + 1, sizeof(char *)), 0};
    if (!c.v)
        return NULL;
    if (!before)
        before = "";
    if (!word)
        word = "";
    if (at_option_key(before)) {
        for (size_t i = 0; i < sizeof(option_keys) / sizeof(option_keys[0]);
             i++)
            if (has_prefix_ci(option_keys[i], word))
                add(&c, option_keys[i], 0);
        return c.v;
    }
    char prev[32];
    last_word(before, prev, sizeof(prev));
    if (!strcmp(prev, "FROM") || !strcmp(prev, "JOIN") ||
        !strcmp(prev, "INTO") || !strcmp(prev, "TABLE") ||
        !strcmp(prev, "DESCRIBE") || !strcmp(prev, "DESC") ||
        !strcmp(prev, "CREATE") || !strcmp(prev, "VIEW")) {
        add_all(&c, cat ? cat->tables : NULL, word);
        if (c.n == 0 || !strcmp(prev, "CREATE") || !strcmp(prev, "DESCRIBE"))
            for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
                if (*word && has_prefix_ci(keywords[i], word))
                    add(&c, keywords[i], is_lower(word));
        return c.v;
    }
    if (!strcmp(prev, "MODEL")) {
        add_all(&c, cat ? cat->models : NULL, word);
        return c.v;
    }
    int lower = is_lower(word) || (!*word && is_lower(before));
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
        if (has_prefix_ci(keywords[i], word))
            add(&c, keywords[i], lower);
    if (cat) {
        add_all(&c, cat->tables, word);
        add_all(&c, cat->columns, word);
        add_all(&c, cat->models, word);
    }
    return c.v;
}

void cli_catalog_free(cli_catalog *cat)
{
    cli_strv_free(cat->tables);
    cli_strv_free(cat->models);
    cli_strv_free(cat->columns);
    memset(cat, 0, sizeof(*cat));
}

/* Append the names in add to *dst without duplicates (takes add). */
static void merge(char ***dst, int *n, char **more)
{
    for (int i = 0; more && more[i]; i++) {
        int dup = 0;
        for (int j = 0; j < *n; j++)
            if (!strcmp((*dst)[j], more[i]))
                dup = 1;
        if (dup || *n >= MAX_NAMES) {
            free(more[i]);
            continue;
        }
        (*dst)[(*n)++] = more[i];
    }
    free(more);
}

static char *quote_ident(const char *name)
{
    size_t n = strlen(name);
    char *q = malloc(2 * n + 3);
    if (!q)
        return NULL;
    size_t k = 0;
    q[k++] = '`';
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '`')
            q[k++] = '`';
        q[k++] = name[i];
    }
    q[k++] = '`';
    q[k] = '\0';
    return q;
}

void cli_catalog_refresh(cli_catalog *cat, sluice *db)
{
    cli_catalog_free(cat);
    cat->tables = cli_exec_column(db, "SHOW TABLES;", MAX_NAMES);
    cat->models = cli_exec_column(db, "SHOW MODELS;", MAX_NAMES);
    char **cols = calloc(MAX_NAMES + 1, sizeof(char *));
    int n = 0;
    for (int i = 0; cols && cat->tables && cat->tables[i] && i < 64; i++) {
        char *q = quote_ident(cat->tables[i]);
        size_t len = q ? strlen(q) + 16 : 0;
        char *sql = q ? malloc(len) : NULL;
        if (sql) {
            snprintf(sql, len, "DESCRIBE %s;", q);
            merge(&cols, &n, cli_exec_column(db, sql, MAX_NAMES));
        }
        free(sql);
        free(q);
    }
    cat->columns = cols;
}
