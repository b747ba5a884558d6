/*
 * config.c: `sluice run job.yaml`, a job described as a YAML file.
 *
 * The file is loaded with libyaml's document (node) API, which keeps the
 * line of every node, then checked against a fixed schema and turned into
 * SQL statements in this order: SET for the job name and each setting,
 * CREATE MODEL and CREATE TABLE from the structured entries, CREATE VIEW,
 * then the statements (SQL embedded as block scalars or a list). ${VAR} and
 * ${VAR:-default} are replaced from the environment in every value. Every
 * error names the file, the line and the key path ("job.yaml:12:
 * tables[1].with: expected a mapping of strings"); unknown keys suggest the
 * nearest known one. Schema (docs/config.md):
 *
 *   name: text                       settings: {key: value, ...}
 *   models:  [{name, input: {col: type}, output: {col: type}, with: {...}}]
 *   tables:  [{name, columns: {col: type}, watermark: {column, expression},
 *              primary_key: [col, ...], with: {...}}]
 *   views:   [{name, query}]
 *   statements: SQL text | [SQL text, ...]
 *
 * Self-contained (libc, libyaml and sqlscan.c) so the fuzz target links it.
 * Bounds: input size, statements, output bytes; aliases cannot blow up the
 * walk because the schema has a fixed depth and output is capped.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cli.h"

#define MAX_CONFIG_BYTES (4u << 20)
#define MAX_STMTS        10000
#define MAX_OUTPUT_BYTES (16u << 20)
#define MAX_PATH_TEXT    256

typedef struct strbuf {
    char *data;
    size_t len, cap;
    int failed;
} strbuf;

static void sb_add(strbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > MAX_OUTPUT_BYTES) {
        b->failed = 1;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void sb_puts(strbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

typedef struct ctx {
    cli_config *cfg;
    const char *path;
    yaml_document_t *doc;
    const char *(*getenv_fn)(const char *);
    int failed;
    size_t out_bytes;
} ctx;

static int fail(ctx *c, const yaml_node_t *node, const char *keypath,
                const char *fmt, ...)
{
    if (c->failed)
        return -1;
    c->failed = 1;
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int line = node ? (int)node->start_mark.line + 1 : 1;
    snprintf(c->cfg->errmsg, sizeof(c->cfg->errmsg), "%s:%d: %s%s%s", c->path,
             line, keypath ? keypath : "", keypath && *keypath ? ": " : "",
             msg);
    return -1;
}

static yaml_node_t *node_at(ctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "nothing";
    }
}

/* ---- did you mean ------------------------------------------------------- */

static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    int prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cost = tolower((unsigned char)a[i - 1]) !=
                       tolower((unsigned char)b[j - 1]);
            int v = prev[j - 1] + cost;
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            cur[j] = v;
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

static const char *nearest(const char *key, const char *const *known)
{
    const char *best = NULL;
    int best_d = 3;
    for (int i = 0; known[i]; i++) {
        int d = edit_distance(key, known[i]);
        if (d < best_d) {
            best_d = d;
            best = known[i];
        }
    }
    return best;
}

/* ---- values ---------------------------------------------------------------
 */

/* Key paths are for messages: a long one is cut, never overflows. */
static void key_path(char *out, const char *base, const char *key)
{
    int n = snprintf(out, MAX_PATH_TEXT, "%s%s%s", base, *base ? "." : "", key);
    if (n < 0)
        out[0] = '\0';
}

static void index_path(char *out, const char *base, int i)
{
    int n = snprintf(out, MAX_PATH_TEXT, "%s[%d]", base, i);
    if (n < 0)
        out[0] = '\0';
}

/* Replace ${VAR} and ${VAR:-default} in s[0..n); malloc'd result or NULL
 * (error set). $${ is a literal ${. */
static char *interpolate(ctx *c, const yaml_node_t *node, const char *kp,
                         const char *s, size_t n)
{
    strbuf b = {0};
    sb_add(&b, "", 0);
    size_t i = 0;
    while (i < n && !b.failed) {
        if (s[i] == '$' && i + 2 < n && s[i + 1] == '$' && s[i + 2] == '{') {
            sb_add(&b, "${", 2);
            i += 3;
            continue;
        }
        if (!(s[i] == '$' && i + 1 < n && s[i + 1] == '{')) {
            sb_add(&b, s + i, 1);
            i++;
            continue;
        }
        size_t j = i + 2, name_start = j;
        while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '_'))
            j++;
        size_t name_len = j - name_start;
        const char *def = NULL;
        size_t def_len = 0;
        if (j + 1 < n && s[j] == ':' && s[j + 1] == '-') {
            def = s + j + 2;
            j += 2;
            while (j < n && s[j] != '}')
                j++;
            def_len = (size_t)(s + j - def);
        }
        if (j >= n || s[j] != '}' || name_len == 0 || name_len > 128 ||
            isdigit((unsigned char)s[name_start])) {
            free(b.data);
            fail(c, node, kp,
                 "malformed variable reference (expected ${NAME} or "
                 "${NAME:-default})");
            return NULL;
        }
        char name[130];
        memcpy(name, s + name_start, name_len);
        name[name_len] = '\0';
        const char *v = c->getenv_fn(name);
        if (v && (*v || !def))
            sb_puts(&b, v);
        else if (def)
            sb_add(&b, def, def_len);
        else {
            free(b.data);
            fail(c, node, kp, "environment variable %s is not set", name);
            return NULL;
        }
        i = j + 1;
    }
    if (b.failed) {
        free(b.data);
        fail(c, node, kp, "value too large");
        return NULL;
    }
    return b.data;
}

/* The interpolated text of a scalar node, or NULL (error set). */
static char *scalar_text(ctx *c, const yaml_node_t *node, const char *kp,
                         const char *what)
{
    if (!node || node->type != YAML_SCALAR_NODE) {
        fail(c, node, kp, "expected %s, found %s", what,
             node ? node_kind(node) : "nothing");
        return NULL;
    }
    return interpolate(c, node, kp, (const char *)node->data.scalar.value,
                       node->data.scalar.length);
}

/* Walk a mapping with a known set of keys. For each pair calls visit; an
 * unknown or duplicate key is an error naming the nearest known key. */
typedef int (*visit_fn)(ctx *c, void *arg, const char *key, yaml_node_t *val,
                        const char *kp);

static int walk_mapping(ctx *c, yaml_node_t *map, const char *kp,
                        const char *const *known, visit_fn visit, void *arg)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return fail(c, map, kp, "expected a mapping, found %s",
                    map ? node_kind(map) : "nothing");
    unsigned seen = 0;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
        if (!k || k->type != YAML_SCALAR_NODE)
            return fail(c, k ? k : map, kp, "keys must be plain names");
        const char *key = (const char *)k->data.scalar.value;
        int idx = -1;
        for (int i = 0; known[i]; i++)
            if (!strcmp(key, known[i]))
                idx = i;
        char sub[MAX_PATH_TEXT];
        key_path(sub, kp, key);
        if (idx < 0) {
            const char *near = nearest(key, known);
            if (near)
                return fail(c, k, sub, "unknown key (did you mean '%s'?)",
                            near);
            char list[256] = "";
            for (int i = 0; known[i]; i++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "",
                         known[i]);
            }
            return fail(c, k, sub, "unknown key (expected one of: %s)", list);
        }
        if (seen & (1u << idx))
            return fail(c, k, sub, "duplicate key");
        seen |= 1u << idx;
        if (visit(c, arg, key, v, sub))
            return -1;
    }
    return 0;
}

/* ---- SQL text ---------------------------------------------------------- */

static int plain_ident(const char *s)
{
    if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

static void put_ident(strbuf *b, const char *s)
{
    if (plain_ident(s)) {
        sb_puts(b, s);
        return;
    }
    sb_add(b, "`", 1);
    for (; *s; s++) {
        if (*s == '`')
            sb_add(b, "`", 1);
        sb_add(b, s, 1);
    }
    sb_add(b, "`", 1);
}

static void put_string(strbuf *b, const char *s)
{
    sb_add(b, "'", 1);
    for (; *s; s++) {
        if (*s == '\'')
            sb_add(b, "'", 1);
        sb_add(b, s, 1);
    }
    sb_add(b, "'", 1);
}

static int is_secret_key(const char *k)
{
    static const char *const words[] = {"key", "secret", "password", "token",
                                        "credential"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcasestr(k, words[i]))
            return 1;
    return 0;
}

static int add_stmt(ctx *c, const yaml_node_t *node, strbuf *sql,
                    strbuf *masked, int line)
{
    cli_config *cfg = c->cfg;
    if (sql->failed || (masked && masked->failed)) {
        free(sql->data);
        if (masked)
            free(masked->data);
        return fail(c, node, "", "the job is too large");
    }
    c->out_bytes += sql->len;
    if (cfg->n_stmts >= MAX_STMTS || c->out_bytes > MAX_OUTPUT_BYTES) {
        free(sql->data);
        if (masked)
            free(masked->data);
        return fail(c, node, "", "the job is too large");
    }
    if (cfg->n_stmts % 16 == 0) {
        cli_config_stmt *s =
            realloc(cfg->stmts, (size_t)(cfg->n_stmts + 16) * sizeof(*s));
        if (!s) {
            free(sql->data);
            if (masked)
                free(masked->data);
            return fail(c, node, "", "out of memory");
        }
        cfg->stmts = s;
    }
    cli_config_stmt *st = &cfg->stmts[cfg->n_stmts++];
    st->sql = sql->data;
    st->line = line;
    st->masked = masked ? masked->data : NULL;
    st->secret = masked != NULL;
    return 0;
}

/* Validate a SQL fragment from the file (a type, an expression): no ';'
 * that could end the statement. */
static int check_fragment(ctx *c, const yaml_node_t *node, const char *kp,
                          const char *s, const char *what)
{
    if (!*s)
        return fail(c, node, kp, "expected %s, found an empty value", what);
    if (strchr(s, ';'))
        return fail(c, node, kp, "%s must not contain ';'", what);
    return 0;
}

/* A mapping name -> SQL type as "(a T, b U)" or a column list. */
static int put_columns(ctx *c, strbuf *b, yaml_node_t *map, const char *kp,
                       const char *sep, const char *indent)
{
    if (!map || map->type != YAML_MAPPING_NODE ||
        map->data.mapping.pairs.start == map->data.mapping.pairs.top)
        return fail(c, map, kp,
                    "expected a mapping of column names to SQL types");
    int first = 1;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
        if (!k || k->type != YAML_SCALAR_NODE || !v ||
            v->type != YAML_SCALAR_NODE)
            return fail(c, v && k ? v : map, kp,
                        "expected a mapping of column names to SQL types");
        char sub[MAX_PATH_TEXT];
        key_path(sub, kp, (const char *)k->data.scalar.value);
        char *type = scalar_text(c, v, sub, "a SQL type");
        if (!type || check_fragment(c, v, sub, type, "a SQL type")) {
            free(type);
            return -1;
        }
        sb_puts(b, first ? "" : sep);
        sb_puts(b, indent);
        put_ident(b, (const char *)k->data.scalar.value);
        sb_puts(b, " ");
        sb_puts(b, type);
        free(type);
        first = 0;
    }
    return 0;
}

/* WITH ('k' = 'v', ...) from a mapping of scalars, into sql and masked. */
static int put_with(ctx *c, strbuf *sql, strbuf *masked, int *has_secret,
                    yaml_node_t *map, const char *kp)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return fail(c, map, kp, "expected a mapping of strings");
    sb_puts(sql, " WITH (\n");
    sb_puts(masked, " WITH (\n");
    int first = 1;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
        if (!k || k->type != YAML_SCALAR_NODE || !v ||
            v->type != YAML_SCALAR_NODE)
            return fail(c, v && k ? v : map, kp,
                        "expected a mapping of strings");
        const char *key = (const char *)k->data.scalar.value;
        char sub[MAX_PATH_TEXT];
        key_path(sub, kp, key);
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = node_at(c, q->key);
            if (k2 && k2->type == YAML_SCALAR_NODE &&
                !strcmp((const char *)k2->data.scalar.value, key))
                return fail(c, k, sub, "duplicate key");
        }
        char *val = scalar_text(c, v, sub, "a string");
        if (!val)
            return -1;
        const char *raw = (const char *)v->data.scalar.value;
        int secret = is_secret_key(key) && strchr(raw, '$');
        for (int side = 0; side < 2; side++) {
            strbuf *b = side ? masked : sql;
            sb_puts(b, first ? "  " : ",\n  ");
            put_string(b, key);
            sb_puts(b, " = ");
            put_string(b, side && secret ? raw : val);
        }
        *has_secret |= secret;
        free(val);
        first = 0;
    }
    sb_puts(sql, "\n)");
    sb_puts(masked, "\n)");
    return 0;
}

/* ---- entries ---------------------------------------------------------- */

typedef struct entry {
    yaml_node_t *name, *input, *output, *with, *columns, *watermark, *pk,
        *query, *comment;
} entry;

static int visit_entry(ctx *c, void *arg, const char *key, yaml_node_t *val,
                       const char *kp)
{
    entry *e = arg;
    (void)c;
    (void)kp;
    yaml_node_t **slot = !strcmp(key, "name")          ? &e->name
                         : !strcmp(key, "input")       ? &e->input
                         : !strcmp(key, "output")      ? &e->output
                         : !strcmp(key, "with")        ? &e->with
                         : !strcmp(key, "columns")     ? &e->columns
                         : !strcmp(key, "watermark")   ? &e->watermark
                         : !strcmp(key, "primary_key") ? &e->pk
                         : !strcmp(key, "query")       ? &e->query
                                                       : &e->comment;
    *slot = val;
    return 0;
}

static char *entry_name(ctx *c, yaml_node_t *entry_node, entry *e,
                        const char *kp)
{
    char sub[MAX_PATH_TEXT];
    key_path(sub, kp, "name");
    if (!e->name) {
        fail(c, entry_node, kp, "missing key 'name'");
        return NULL;
    }
    char *name = scalar_text(c, e->name, sub, "a name");
    if (name && !*name) {
        fail(c, e->name, sub, "expected a name, found an empty value");
        free(name);
        return NULL;
    }
    return name;
}

static int require(ctx *c, yaml_node_t *entry_node, yaml_node_t *v,
                   const char *kp, const char *key)
{
    if (!v)
        return fail(c, entry_node, kp, "missing key '%s'", key);
    return 0;
}

static int put_comment(ctx *c, strbuf *b, strbuf *m, yaml_node_t *node,
                       const char *kp)
{
    if (!node)
        return 0;
    char sub[MAX_PATH_TEXT];
    key_path(sub, kp, "comment");
    char *text = scalar_text(c, node, sub, "a string");
    if (!text)
        return -1;
    sb_puts(b, " COMMENT ");
    put_string(b, text);
    sb_puts(m, " COMMENT ");
    put_string(m, text);
    free(text);
    return 0;
}

static int do_model(ctx *c, yaml_node_t *node, const char *kp)
{
    static const char *const keys[] = {"name", "input",   "output",
                                       "with", "comment", NULL};
    entry e = {0};
    if (walk_mapping(c, node, kp, keys, visit_entry, &e))
        return -1;
    char *name = entry_name(c, node, &e, kp);
    if (!name)
        return -1;
    char sub[MAX_PATH_TEXT];
    strbuf b = {0}, m = {0};
    int secret = 0, rc = -1;
    if (require(c, node, e.input, kp, "input") ||
        require(c, node, e.output, kp, "output") ||
        require(c, node, e.with, kp, "with"))
        goto out;
    for (int side = 0; side < 2; side++) {
        strbuf *x = side ? &m : &b;
        sb_puts(x, "CREATE MODEL ");
        put_ident(x, name);
        sb_puts(x, "\nINPUT (");
        key_path(sub, kp, "input");
        if (put_columns(c, x, e.input, sub, ", ", ""))
            goto out;
        sb_puts(x, ")\nOUTPUT (");
        key_path(sub, kp, "output");
        if (put_columns(c, x, e.output, sub, ", ", ""))
            goto out;
        sb_puts(x, ")");
    }
    if (put_comment(c, &b, &m, e.comment, kp))
        goto out;
    key_path(sub, kp, "with");
    if (put_with(c, &b, &m, &secret, e.with, sub))
        goto out;
    sb_puts(&b, ";");
    sb_puts(&m, ";");
    rc = add_stmt(c, node, &b, secret ? &m : NULL,
                  (int)node->start_mark.line + 1);
    if (!secret)
        free(m.data);
    free(name);
    return rc;
out:
    free(b.data);
    free(m.data);
    free(name);
    return rc;
}

static int do_watermark(ctx *c, strbuf *b, yaml_node_t *wm, const char *kp)
{
    if (!wm || wm->type != YAML_MAPPING_NODE)
        return fail(c, wm, kp,
                    "expected a mapping with 'column' and 'expression'");
    yaml_node_t *col = NULL, *expr = NULL;
    for (yaml_node_pair_t *p = wm->data.mapping.pairs.start;
         p < wm->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
        const char *key = k && k->type == YAML_SCALAR_NODE
                              ? (const char *)k->data.scalar.value
                              : "";
        char sub[MAX_PATH_TEXT];
        key_path(sub, kp, key);
        if (!strcmp(key, "column") && !col)
            col = v;
        else if (!strcmp(key, "expression") && !expr)
            expr = v;
        else {
            static const char *const known[] = {"column", "expression", NULL};
            const char *near = nearest(key, known);
            return fail(c, k ? k : wm, sub,
                        near && strcmp(near, key)
                            ? "unknown key (did you mean '%s'?)"
                            : "unknown or duplicate key (expected column, "
                              "expression)%s",
                        near && strcmp(near, key) ? near : "");
        }
    }
    if (!col || !expr)
        return fail(c, wm, kp, "missing key '%s'",
                    col ? "expression" : "column");
    char sub[MAX_PATH_TEXT];
    key_path(sub, kp, "column");
    char *cname = scalar_text(c, col, sub, "a column name");
    if (!cname)
        return -1;
    key_path(sub, kp, "expression");
    char *etext = scalar_text(c, expr, sub, "a SQL expression");
    if (!etext || check_fragment(c, expr, sub, etext, "a SQL expression")) {
        free(cname);
        free(etext);
        return -1;
    }
    sb_puts(b, ",\n  WATERMARK FOR ");
    put_ident(b, cname);
    sb_puts(b, " AS ");
    sb_puts(b, etext);
    free(cname);
    free(etext);
    return 0;
}

static int do_pk(ctx *c, strbuf *b, yaml_node_t *pk, const char *kp)
{
    sb_puts(b, ",\n  PRIMARY KEY (");
    if (pk && pk->type == YAML_SCALAR_NODE) {
        char *t = scalar_text(c, pk, kp, "a column name");
        if (!t)
            return -1;
        put_ident(b, t);
        free(t);
    } else if (pk && pk->type == YAML_SEQUENCE_NODE &&
               pk->data.sequence.items.start != pk->data.sequence.items.top) {
        int i = 0;
        for (yaml_node_item_t *it = pk->data.sequence.items.start;
             it < pk->data.sequence.items.top; it++, i++) {
            char sub[MAX_PATH_TEXT];
            index_path(sub, kp, i);
            char *t = scalar_text(c, node_at(c, *it), sub, "a column name");
            if (!t)
                return -1;
            sb_puts(b, i ? ", " : "");
            put_ident(b, t);
            free(t);
        }
    } else {
        return fail(c, pk, kp, "expected a column name or a list of them");
    }
    sb_puts(b, ") NOT ENFORCED");
    return 0;
}

static int do_table(ctx *c, yaml_node_t *node, const char *kp)
{
    static const char *const keys[] = {
        "name", "columns", "watermark", "primary_key", "with", "comment", NULL};
    entry e = {0};
    if (walk_mapping(c, node, kp, keys, visit_entry, &e))
        return -1;
    char *name = entry_name(c, node, &e, kp);
    if (!name)
        return -1;
    char sub[MAX_PATH_TEXT];
    strbuf b = {0}, m = {0};
    int secret = 0, rc = -1;
    if (require(c, node, e.columns, kp, "columns") ||
        require(c, node, e.with, kp, "with"))
        goto out;
    for (int side = 0; side < 2; side++) {
        strbuf *x = side ? &m : &b;
        sb_puts(x, "CREATE TABLE ");
        put_ident(x, name);
        sb_puts(x, " (\n");
        key_path(sub, kp, "columns");
        if (put_columns(c, x, e.columns, sub, ",\n", "  "))
            goto out;
        key_path(sub, kp, "watermark");
        if (e.watermark && do_watermark(c, x, e.watermark, sub))
            goto out;
        key_path(sub, kp, "primary_key");
        if (e.pk && do_pk(c, x, e.pk, sub))
            goto out;
        sb_puts(x, "\n)");
    }
    if (put_comment(c, &b, &m, e.comment, kp))
        goto out;
    key_path(sub, kp, "with");
    if (put_with(c, &b, &m, &secret, e.with, sub))
        goto out;
    sb_puts(&b, ";");
    sb_puts(&m, ";");
    rc = add_stmt(c, node, &b, secret ? &m : NULL,
                  (int)node->start_mark.line + 1);
    if (!secret)
        free(m.data);
    free(name);
    return rc;
out:
    free(b.data);
    free(m.data);
    free(name);
    return rc;
}

/* Split a script into statements; each keeps its line in the file. */
static int do_script(ctx *c, yaml_node_t *node, const char *kp)
{
    if (!node || node->type != YAML_SCALAR_NODE)
        return fail(c, node, kp, "expected SQL text, found %s",
                    node ? node_kind(node) : "nothing");
    const char *raw = (const char *)node->data.scalar.value;
    size_t len = node->data.scalar.length, off = 0;
    int line = (int)node->start_mark.line + 1;
    if (node->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
        node->data.scalar.style == YAML_FOLDED_SCALAR_STYLE)
        line++;
    int n_found = 0;
    while (off < len) {
        while (off < len && isspace((unsigned char)raw[off])) {
            if (raw[off] == '\n')
                line++;
            off++;
        }
        if (off >= len)
            break;
        size_t n = cli_sql_stmt_len(raw + off, len - off);
        if (n == 0)
            n = len - off;
        if (!cli_sql_is_blank(raw + off, n)) {
            char *text = interpolate(c, node, kp, raw + off, n);
            if (!text)
                return -1;
            strbuf b = {0};
            sb_puts(&b, text);
            size_t tl = strlen(text);
            while (tl && isspace((unsigned char)text[tl - 1]))
                tl--;
            if (!tl || text[tl - 1] != ';')
                sb_puts(&b, ";");
            free(text);
            if (add_stmt(c, node, &b, NULL, line))
                return -1;
            n_found++;
        }
        for (size_t i = 0; i < n; i++)
            if (raw[off + i] == '\n')
                line++;
        off += n;
    }
    if (n_found == 0)
        return fail(c, node, kp, "expected SQL text, found no statement");
    return 0;
}

static int do_view(ctx *c, yaml_node_t *node, const char *kp)
{
    static const char *const keys[] = {"name", "query", "comment", NULL};
    entry e = {0};
    if (walk_mapping(c, node, kp, keys, visit_entry, &e))
        return -1;
    char *name = entry_name(c, node, &e, kp);
    if (!name)
        return -1;
    char sub[MAX_PATH_TEXT];
    key_path(sub, kp, "query");
    char *q = NULL;
    if (require(c, node, e.query, kp, "query") ||
        !(q = scalar_text(c, e.query, sub, "a query"))) {
        free(name);
        return -1;
    }
    size_t ql = strlen(q);
    while (ql && (isspace((unsigned char)q[ql - 1]) || q[ql - 1] == ';'))
        ql--;
    q[ql] = '\0';
    if (check_fragment(c, e.query, sub, q, "a query")) {
        free(name);
        free(q);
        return -1;
    }
    strbuf b = {0};
    sb_puts(&b, "CREATE VIEW ");
    put_ident(&b, name);
    sb_puts(&b, " AS\n");
    sb_puts(&b, q);
    sb_puts(&b, ";");
    free(name);
    free(q);
    return add_stmt(c, node, &b, NULL, (int)node->start_mark.line + 1);
}

typedef int (*entry_fn)(ctx *c, yaml_node_t *node, const char *kp);

static int do_list(ctx *c, yaml_node_t *seq, const char *kp, entry_fn fn)
{
    if (!seq || seq->type != YAML_SEQUENCE_NODE)
        return fail(c, seq, kp, "expected a list, found %s",
                    seq ? node_kind(seq) : "nothing");
    int i = 0;
    for (yaml_node_item_t *it = seq->data.sequence.items.start;
         it < seq->data.sequence.items.top; it++, i++) {
        char sub[MAX_PATH_TEXT];
        index_path(sub, kp, i);
        if (fn(c, node_at(c, *it), sub))
            return -1;
    }
    return 0;
}

static int do_settings(ctx *c, yaml_node_t *map, const char *kp)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return fail(c, map, kp, "expected a mapping of strings");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
        if (!k || k->type != YAML_SCALAR_NODE || !v ||
            v->type != YAML_SCALAR_NODE)
            return fail(c, v && k ? v : map, kp,
                        "expected a mapping of strings");
        char sub[MAX_PATH_TEXT];
        key_path(sub, kp, (const char *)k->data.scalar.value);
        char *val = scalar_text(c, v, sub, "a string");
        if (!val)
            return -1;
        strbuf b = {0};
        sb_puts(&b, "SET ");
        put_string(&b, (const char *)k->data.scalar.value);
        sb_puts(&b, " = ");
        put_string(&b, val);
        sb_puts(&b, ";");
        free(val);
        if (add_stmt(c, k, &b, NULL, (int)k->start_mark.line + 1))
            return -1;
    }
    return 0;
}

typedef struct top {
    yaml_node_t *name, *description, *settings, *models, *tables, *views,
        *statements;
} top;

static int visit_top(ctx *c, void *arg, const char *key, yaml_node_t *val,
                     const char *kp)
{
    top *t = arg;
    (void)c;
    (void)kp;
    yaml_node_t **slot = !strcmp(key, "name")          ? &t->name
                         : !strcmp(key, "description") ? &t->description
                         : !strcmp(key, "settings")    ? &t->settings
                         : !strcmp(key, "models")      ? &t->models
                         : !strcmp(key, "tables")      ? &t->tables
                         : !strcmp(key, "views")       ? &t->views
                                                       : &t->statements;
    *slot = val;
    return 0;
}

static int translate(ctx *c, yaml_node_t *root)
{
    static const char *const keys[] = {"name",       "description", "settings",
                                       "models",     "tables",      "views",
                                       "statements", NULL};
    top t = {0};
    if (!root || root->type != YAML_MAPPING_NODE)
        return fail(c, root, "",
                    "expected a mapping with name, settings, models, "
                    "tables, views and statements, found %s",
                    root ? node_kind(root) : "nothing");
    if (walk_mapping(c, root, "", keys, visit_top, &t))
        return -1;
    if (t.name) {
        char *name = scalar_text(c, t.name, "name", "a job name");
        if (!name)
            return -1;
        c->cfg->name = name;
        strbuf b = {0};
        sb_puts(&b, "SET 'pipeline.name' = ");
        put_string(&b, name);
        sb_puts(&b, ";");
        if (add_stmt(c, t.name, &b, NULL, (int)t.name->start_mark.line + 1))
            return -1;
    }
    if (t.description) {
        char *d = scalar_text(c, t.description, "description", "a string");
        if (!d)
            return -1;
        free(d);
    }
    if (t.settings && do_settings(c, t.settings, "settings"))
        return -1;
    if (t.models && do_list(c, t.models, "models", do_model))
        return -1;
    if (t.tables && do_list(c, t.tables, "tables", do_table))
        return -1;
    if (t.views && do_list(c, t.views, "views", do_view))
        return -1;
    if (!t.statements)
        return fail(c, root, "", "missing key 'statements'");
    if (t.statements->type == YAML_SEQUENCE_NODE)
        return do_list(c, t.statements, "statements", do_script);
    return do_script(c, t.statements, "statements");
}

static const char *default_getenv(const char *name)
{
    return getenv(name);
}

int cli_config_parse(cli_config *cfg, const char *path, const char *text,
                     size_t len, const char *(*getenv_fn)(const char *))
{
    memset(cfg, 0, sizeof(*cfg));
    ctx c = {.cfg = cfg,
             .path = path ? path : "<config>",
             .getenv_fn = getenv_fn ? getenv_fn : default_getenv};
    if (len > MAX_CONFIG_BYTES)
        return fail(&c, NULL, "", "the file is larger than %u MiB",
                    MAX_CONFIG_BYTES >> 20);
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return fail(&c, NULL, "", "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        int line = (int)parser.problem_mark.line + 1;
        snprintf(cfg->errmsg, sizeof(cfg->errmsg), "%s:%d: %s%s%s", c.path,
                 line, parser.problem ? parser.problem : "invalid YAML",
                 parser.context ? " " : "",
                 parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return -1;
    }
    c.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int rc;
    if (!root) {
        rc = fail(&c, NULL, "", "the file is empty (expected a job)");
    } else {
        rc = translate(&c, root);
        if (rc == 0) {
            yaml_document_t next;
            if (yaml_parser_load(&parser, &next)) {
                yaml_node_t *r2 = yaml_document_get_root_node(&next);
                if (r2)
                    rc = fail(&c, r2, "", "only one YAML document is allowed");
                yaml_document_delete(&next);
            } else {
                rc = fail(&c, NULL, "", "%s",
                          parser.problem ? parser.problem : "invalid YAML");
                cfg->errmsg[0] = '\0';
                snprintf(cfg->errmsg, sizeof(cfg->errmsg), "%s:%d: %s", c.path,
                         (int)parser.problem_mark.line + 1,
                         parser.problem ? parser.problem : "invalid YAML");
            }
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc ? -1 : 0;
}

void cli_config_free(cli_config *cfg)
{
    for (int i = 0; i < cfg->n_stmts; i++) {
        free(cfg->stmts[i].sql);
        free(cfg->stmts[i].masked);
    }
    free(cfg->stmts);
    free(cfg->name);
    memset(cfg, 0, sizeof(*cfg));
}
