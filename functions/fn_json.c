/*
 * fn_json.c: JSON functions (JSON_VALUE, JSON_QUERY, JSON_EXISTS,
 * JSON_OBJECT, JSON_ARRAY, JSON_STRING, IS_JSON), the JSON-backed
 * collections (ARRAY, MAP and ROW values are TEXT holding JSON:
 * CARDINALITY, ELEMENT, ARRAY_*, sl_item, sl_map_get, sl_field, sl_array,
 * sl_map) and the vector helpers for embeddings (COSINE_SIMILARITY,
 * DOT_PRODUCT, L2_DISTANCE).
 *
 * Documents are parsed with jansson (a DOM is fine at function scale; the
 * record decoders on the hot path do not come here) and written back by
 * our own compact serializer, so doubles print in their shortest form and
 * nesting is bounded. Values built here carry SQLite's JSON subtype, so
 * JSON_OBJECT('a', JSON_ARRAY(1)) nests the array instead of quoting it,
 * exactly as SQLite's json_object() does.
 *
 * JSON paths follow Flink (SQL/JSON, lax mode): '$', '.key', '."key"',
 * '[n]', '[*]', '.*', '['key']'. A path with a wildcard yields the array of
 * its matches.
 */
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "fn_int.h"

/* ---- parse and write ------------------------------------------------------
 */

static json_t *parse_value(sqlite3_value *v)
{
    const char *s = (const char *)sqlite3_value_text(v);
    size_t n = (size_t)sqlite3_value_bytes(v);
    if (!s)
        return NULL;
    json_error_t jerr;
    return json_loadb(s, n, JSON_DECODE_ANY, &jerr);
}

static void write_str(sl_buf *b, const char *s, size_t n)
{
    sl_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        sl_buf_append(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            sl_buf_puts(b, "\\\"");
            break;
        case '\\':
            sl_buf_puts(b, "\\\\");
            break;
        case '\n':
            sl_buf_puts(b, "\\n");
            break;
        case '\r':
            sl_buf_puts(b, "\\r");
            break;
        case '\t':
            sl_buf_puts(b, "\\t");
            break;
        default:
            sl_buf_printf(b, "\\u%04x", c);
        }
    }
    sl_buf_append(b, s + run, n - run);
    sl_buf_putc(b, '"');
}

static void write_json(sl_buf *b, const json_t *j, int depth)
{
    if (depth > SL_FN_JSON_MAX_DEPTH) {
        b->rc = SL_LIMIT;
        return;
    }
    char num[40];
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *v;
        bool first = true;
        sl_buf_putc(b, '{');
        json_object_foreach((json_t *)j, key, v)
        {
            if (!first)
                sl_buf_putc(b, ',');
            first = false;
            write_str(b, key, strlen(key));
            sl_buf_putc(b, ':');
            write_json(b, v, depth + 1);
        }
        sl_buf_putc(b, '}');
        break;
    }
    case JSON_ARRAY:
        sl_buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(j); i++) {
            if (i)
                sl_buf_putc(b, ',');
            write_json(b, json_array_get(j, i), depth + 1);
        }
        sl_buf_putc(b, ']');
        break;
    case JSON_STRING:
        write_str(b, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        sl_buf_printf(b, "%lld", (long long)json_integer_value(j));
        break;
    case JSON_REAL: {
        double d = json_real_value(j);
        if (!isfinite(d)) {
            sl_buf_puts(b, "null");
            break;
        }
        sl_fn_format_double(d, num, sizeof(num));
        sl_buf_puts(b, num);
        break;
    }
    case JSON_TRUE:
        sl_buf_puts(b, "true");
        break;
    case JSON_FALSE:
        sl_buf_puts(b, "false");
        break;
    default:
        sl_buf_puts(b, "null");
    }
}

/* Result: JSON text of j with the JSON subtype. Does not take j. */
static void result_json(sqlite3_context *ctx, const json_t *j)
{
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    write_json(&b, j, 0);
    sl_fn_result_buf(ctx, &b);
    sqlite3_result_subtype(ctx, SL_FN_JSON_SUBTYPE);
}

/* Result: a JSON value as the SQL value it stands for (numbers, text,
 * BOOLEAN 0/1, NULL; arrays and objects as JSON text). */
static void result_elem(sqlite3_context *ctx, const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_INTEGER:
        sqlite3_result_int64(ctx, json_integer_value(j));
        break;
    case JSON_REAL:
        sqlite3_result_double(ctx, json_real_value(j));
        break;
    case JSON_STRING:
        sqlite3_result_text64(ctx, json_string_value(j), json_string_length(j),
                              SQLITE_TRANSIENT, SQLITE_UTF8);
        break;
    case JSON_TRUE:
        sqlite3_result_int(ctx, 1);
        break;
    case JSON_FALSE:
        sqlite3_result_int(ctx, 0);
        break;
    case JSON_NULL:
        sqlite3_result_null(ctx);
        break;
    default:
        result_json(ctx, j);
    }
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A new JSON value for a SQL value: TEXT with the JSON subtype is parsed,
 * other TEXT is a string, BLOB a base64 string. NULL on OOM. */
static json_t *value_to_json(sqlite3_value *v)
{
    switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_value_int64(v));
    case SQLITE_FLOAT: {
        double d = sqlite3_value_double(v);
        return isfinite(d) ? json_real(d) : json_null();
    }
    case SQLITE_TEXT: {
        const char *s = (const char *)sqlite3_value_text(v);
        size_t n = (size_t)sqlite3_value_bytes(v);
        if (!s)
            return json_null();
        if (sqlite3_value_subtype(v) == SL_FN_JSON_SUBTYPE) {
            json_t *j = parse_value(v);
            if (j)
                return j;
        }
        json_t *j = json_stringn(s, n);
        return j ? j : json_stringn_nocheck(s, n);
    }
    case SQLITE_BLOB: {
        const unsigned char *p = sqlite3_value_blob(v);
        int n = sqlite3_value_bytes(v);
        sl_buf b;
        sl_buf_init(&b, SL_FN_MAX_RESULT);
        for (int i = 0; p && i < n; i += 3) {
            uint32_t x = (uint32_t)p[i] << 16;
            if (i + 1 < n)
                x |= (uint32_t)p[i + 1] << 8;
            if (i + 2 < n)
                x |= p[i + 2];
            char q[4] = {b64[(x >> 18) & 63], b64[(x >> 12) & 63],
                         i + 1 < n ? b64[(x >> 6) & 63] : '=',
                         i + 2 < n ? b64[x & 63] : '='};
            sl_buf_append(&b, q, 4);
        }
        json_t *j = b.rc == SL_OK ? json_stringn(sl_buf_cstr(&b), b.len) : NULL;
        sl_buf_free(&b);
        return j;
    }
    default:
        return json_null();
    }
}

/* ---- paths ----------------------------------------------------------------
 */

#define PATH_MAX_STEPS   64
#define PATH_MAX_MATCHES 100000

typedef enum step_kind { ST_KEY, ST_INDEX, ST_ANY_KEY, ST_ANY_INDEX } step_kind;

typedef struct step {
    step_kind kind;
    char *key;
    int64_t index; /* negative: from the end is not SQL/JSON; kept >= 0 */
} step;

typedef struct path {
    int n_steps;
    bool wildcard;
    bool strict;
    step steps[PATH_MAX_STEPS];
} path;

static void path_free(void *p)
{
    path *pa = p;
    if (!pa)
        return;
    for (int i = 0; i < pa->n_steps; i++)
        sl_free(pa->steps[i].key);
    sl_free(pa);
}

static char *dup_key(const char *s, size_t n, bool unescape)
{
    char *k = sl_malloc(n + 1);
    if (!k)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (unescape && s[i] == '\\' && i + 1 < n)
            i++;
        k[o++] = s[i];
    }
    k[o] = '\0';
    return k;
}

/* Parse a path; NULL with *why set when it is malformed. */
static path *path_parse(const char *s, const char **why)
{
    path *p = sl_calloc(1, sizeof(*p));
    if (!p) {
        *why = "out of memory";
        return NULL;
    }
    while (*s == ' ')
        s++;
    if (strncasecmp(s, "lax ", 4) == 0) {
        s += 4;
    } else if (strncasecmp(s, "strict ", 7) == 0) {
        p->strict = true;
        s += 7;
    }
    while (*s == ' ')
        s++;
    if (*s != '$') {
        *why = "a path must start with '$'";
        goto fail;
    }
    s++;
    while (*s) {
        if (p->n_steps >= PATH_MAX_STEPS) {
            *why = "too many steps";
            goto fail;
        }
        step *st = &p->steps[p->n_steps];
        if (*s == '.') {
            s++;
            if (*s == '*') {
                st->kind = ST_ANY_KEY;
                p->wildcard = true;
                s++;
            } else if (*s == '"') {
                const char *b = ++s;
                while (*s && *s != '"') {
                    if (*s == '\\' && s[1])
                        s++;
                    s++;
                }
                if (*s != '"') {
                    *why = "unterminated quoted key";
                    goto fail;
                }
                st->kind = ST_KEY;
                st->key = dup_key(b, (size_t)(s - b), true);
                s++;
            } else {
                const char *b = s;
                while (*s && *s != '.' && *s != '[' && *s != ' ')
                    s++;
                if (s == b) {
                    *why = "empty key after '.'";
                    goto fail;
                }
                st->kind = ST_KEY;
                st->key = dup_key(b, (size_t)(s - b), false);
            }
        } else if (*s == '[') {
            s++;
            while (*s == ' ')
                s++;
            if (*s == '*') {
                st->kind = ST_ANY_INDEX;
                p->wildcard = true;
                s++;
            } else if (*s == '\'' || *s == '"') {
                char q = *s++;
                const char *b = s;
                while (*s && *s != q) {
                    if (*s == '\\' && s[1])
                        s++;
                    s++;
                }
                if (*s != q) {
                    *why = "unterminated quoted key";
                    goto fail;
                }
                st->kind = ST_KEY;
                st->key = dup_key(b, (size_t)(s - b), true);
                s++;
            } else if (*s >= '0' && *s <= '9') {
                int64_t v = 0;
                while (*s >= '0' && *s <= '9' && v < 100000000)
                    v = v * 10 + (*s++ - '0');
                st->kind = ST_INDEX;
                st->index = v;
            } else {
                *why = "expected an index, '*' or a quoted key in [ ]";
                goto fail;
            }
            while (*s == ' ')
                s++;
            if (*s != ']') {
                *why = "missing ']'";
                goto fail;
            }
            s++;
        } else if (*s == ' ') {
            s++;
            continue;
        } else {
            *why = "unexpected character";
            goto fail;
        }
        if ((st->kind == ST_KEY) && !st->key) {
            *why = "out of memory";
            goto fail;
        }
        p->n_steps++;
    }
    return p;
fail:
    path_free(p);
    return NULL;
}

/* The parsed path of argument i, cached per call site. */
static path *path_get(sqlite3_context *ctx, sqlite3_value **argv, int i)
{
    path *p = sqlite3_get_auxdata(ctx, i);
    if (p)
        return p;
    const char *s = (const char *)sqlite3_value_text(argv[i]);
    const char *why = "";
    p = path_parse(s ? s : "", &why);
    if (!p) {
        sl_fn_error(ctx, "%s: invalid JSON path '%.80s': %s", sl_fn_name(ctx),
                    s ? s : "", why);
        return NULL;
    }
    sqlite3_set_auxdata(ctx, i, p, path_free);
    p = sqlite3_get_auxdata(ctx, i);
    if (!p)
        sqlite3_result_error_nomem(ctx);
    return p;
}

/* Collect the matches of steps[k..] below j into out (borrowed refs). */
static void path_walk(const path *p, int k, json_t *j, json_t *out)
{
    if (json_array_size(out) >= PATH_MAX_MATCHES)
        return;
    if (k == p->n_steps) {
        json_array_append(out, j);
        return;
    }
    const step *st = &p->steps[k];
    switch (st->kind) {
    case ST_KEY:
        if (json_is_object(j)) {
            json_t *v = json_object_get(j, st->key);
            if (v)
                path_walk(p, k + 1, v, out);
        }
        break;
    case ST_INDEX:
        if (json_is_array(j)) {
            if ((size_t)st->index < json_array_size(j))
                path_walk(p, k + 1, json_array_get(j, (size_t)st->index), out);
        } else if (!p->strict && st->index == 0) {
            path_walk(p, k + 1, j, out); /* lax: a scalar is [scalar] */
        }
        break;
    case ST_ANY_KEY:
        if (json_is_object(j)) {
            const char *key;
            json_t *v;
            json_object_foreach(j, key, v) path_walk(p, k + 1, v, out);
        }
        break;
    case ST_ANY_INDEX:
        if (json_is_array(j)) {
            for (size_t i = 0; i < json_array_size(j); i++)
                path_walk(p, k + 1, json_array_get(j, i), out);
        }
        break;
    }
}

/* Evaluate: a new reference to the single match, the array of matches for
 * a wildcard path, or NULL when nothing matches. */
static json_t *path_eval(const path *p, json_t *doc)
{
    json_t *out = json_array();
    if (!out)
        return NULL;
    path_walk(p, 0, doc, out);
    if (p->wildcard) {
        if (json_array_size(out) == 0) {
            json_decref(out);
            return NULL;
        }
        return out;
    }
    json_t *m =
        json_array_size(out) ? json_incref(json_array_get(out, 0)) : NULL;
    json_decref(out);
    return m;
}

/* ---- JSON_VALUE, JSON_QUERY, JSON_EXISTS ----------------------------------
 */

/* JSON_VALUE(json, path[, returning]): the scalar at path as STRING, or
 * as the returning type (INT, BIGINT, DOUBLE, BOOLEAN, ...); NULL when the
 * document is invalid, nothing matches, the match is not a scalar, or it
 * does not convert (Flink's default NULL ON EMPTY / NULL ON ERROR). */
static void fn_json_value(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
        sqlite3_value_type(argv[1]) == SQLITE_NULL)
        return;
    path *p = path_get(ctx, argv, 1);
    if (!p)
        return;
    const char *ret =
        argc > 2 ? (const char *)sqlite3_value_text(argv[2]) : NULL;
    json_t *doc = parse_value(argv[0]);
    if (!doc)
        return;
    json_t *m = path_eval(p, doc);
    json_decref(doc);
    if (!m)
        return;
    char num[40];
    const char *txt = NULL;
    size_t len = 0;
    switch (json_typeof(m)) {
    case JSON_STRING:
        txt = json_string_value(m);
        len = json_string_length(m);
        break;
    case JSON_INTEGER:
        sl_snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(m));
        txt = num;
        len = strlen(num);
        break;
    case JSON_REAL:
        sl_fn_format_double(json_real_value(m), num, sizeof(num));
        txt = num;
        len = strlen(num);
        break;
    case JSON_TRUE:
        txt = "true";
        len = 4;
        break;
    case JSON_FALSE:
        txt = "false";
        len = 5;
        break;
    default:
        break;
    }
    if (!txt) {
        json_decref(m);
        return;
    }
    if (!ret || sl_str_ieq(ret, "STRING") ||
        strncasecmp(ret, "VARCHAR", 7) == 0 ||
        strncasecmp(ret, "CHAR", 4) == 0) {
        sqlite3_result_text64(ctx, txt, len, SQLITE_TRANSIENT, SQLITE_UTF8);
    } else if (sl_str_ieq(ret, "BOOLEAN")) {
        if (json_is_boolean(m))
            sqlite3_result_int(ctx, json_is_true(m));
        else if (sl_str_nieq(txt, len, "true"))
            sqlite3_result_int(ctx, 1);
        else if (sl_str_nieq(txt, len, "false"))
            sqlite3_result_int(ctx, 0);
    } else if (sl_str_ieq(ret, "INT") || sl_str_ieq(ret, "INTEGER") ||
               sl_str_ieq(ret, "BIGINT") || sl_str_ieq(ret, "SMALLINT") ||
               sl_str_ieq(ret, "TINYINT")) {
        int64_t v;
        double d;
        if (json_is_integer(m))
            sqlite3_result_int64(ctx, json_integer_value(m));
        else if (sl_parse_int64(txt, len, &v) == SL_OK)
            sqlite3_result_int64(ctx, v);
        else if (json_is_real(m) && (d = json_real_value(m)) > -9.2e18 &&
                 d < 9.2e18)
            sqlite3_result_int64(ctx, (int64_t)d);
    } else if (sl_str_ieq(ret, "DOUBLE") || sl_str_ieq(ret, "FLOAT") ||
               strncasecmp(ret, "DECIMAL", 7) == 0) {
        double d;
        if (json_is_number(m))
            sqlite3_result_double(ctx, json_number_value(m));
        else if (sl_parse_double(txt, len, &d) == SL_OK)
            sqlite3_result_double(ctx, d);
    } else {
        sl_fn_error(ctx, "JSON_VALUE: unsupported RETURNING type '%.40s'", ret);
    }
    json_decref(m);
}

/* JSON_QUERY(json, path[, wrapper]): the object or array at path as JSON
 * text; wrapper is 'WITHOUT' (default: scalars give NULL), 'WITH' /
 * 'UNCONDITIONAL' (always wrap in an array) or 'CONDITIONAL' (wrap
 * scalars). */
static void fn_json_query(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
        sqlite3_value_type(argv[1]) == SQLITE_NULL)
        return;
    path *p = path_get(ctx, argv, 1);
    if (!p)
        return;
    int wrap = 0;
    if (argc > 2) {
        const char *w = (const char *)sqlite3_value_text(argv[2]);
        if (!w || sl_str_ieq(w, "WITHOUT") ||
            sl_str_ieq(w, "WITHOUT ARRAY WRAPPER"))
            wrap = 0;
        else if (sl_str_ieq(w, "WITH") || sl_str_ieq(w, "UNCONDITIONAL") ||
                 sl_str_ieq(w, "WITH ARRAY WRAPPER") ||
                 sl_str_ieq(w, "WITH UNCONDITIONAL ARRAY WRAPPER"))
            wrap = 1;
        else if (sl_str_ieq(w, "CONDITIONAL") ||
                 sl_str_ieq(w, "WITH CONDITIONAL ARRAY WRAPPER"))
            wrap = 2;
        else {
            sl_fn_error(ctx,
                        "JSON_QUERY: wrapper must be WITHOUT, WITH or "
                        "CONDITIONAL, got '%.40s'",
                        w);
            return;
        }
    }
    json_t *doc = parse_value(argv[0]);
    if (!doc)
        return;
    json_t *m = path_eval(p, doc);
    json_decref(doc);
    if (!m)
        return;
    bool container = json_is_object(m) || json_is_array(m);
    if (wrap == 1 || (wrap == 2 && !container)) {
        json_t *a = json_array();
        if (a && json_array_append(a, m) == 0)
            result_json(ctx, a);
        else
            sqlite3_result_error_nomem(ctx);
        json_decref(a);
    } else if (container) {
        result_json(ctx, m);
    }
    json_decref(m);
}

/* JSON_EXISTS(json, path): FALSE for an invalid document. */
static void fn_json_exists(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    path *p = path_get(ctx, argv, 1);
    if (!p)
        return;
    json_t *doc = parse_value(argv[0]);
    if (!doc) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    json_t *m = path_eval(p, doc);
    sqlite3_result_int(ctx, m != NULL);
    json_decref(m);
    json_decref(doc);
}

/* IS_JSON(s[, kind]): kind VALUE (default), SCALAR, ARRAY or OBJECT. FALSE
 * for NULL. */
static void fn_is_json(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    const char *kind =
        argc > 1 ? (const char *)sqlite3_value_text(argv[1]) : "VALUE";
    if (!kind)
        kind = "VALUE";
    json_t *j = parse_value(argv[0]);
    bool ok = j != NULL;
    if (ok && sl_str_ieq(kind, "SCALAR"))
        ok = !json_is_object(j) && !json_is_array(j);
    else if (ok && sl_str_ieq(kind, "ARRAY"))
        ok = json_is_array(j);
    else if (ok && sl_str_ieq(kind, "OBJECT"))
        ok = json_is_object(j);
    else if (!sl_str_ieq(kind, "VALUE") && !sl_str_ieq(kind, "SCALAR") &&
             !sl_str_ieq(kind, "ARRAY") && !sl_str_ieq(kind, "OBJECT")) {
        json_decref(j);
        sl_fn_error(ctx,
                    "IS_JSON: kind must be VALUE, SCALAR, ARRAY or "
                    "OBJECT, got '%.40s'",
                    kind);
        return;
    }
    json_decref(j);
    sqlite3_result_int(ctx, ok);
}

/* ---- constructors ---------------------------------------------------------
 */

static void object_build(sqlite3_context *ctx, int argc, sqlite3_value **argv,
                         bool absent_on_null)
{
    if (argc % 2) {
        sl_fn_error(ctx, "%s: expects key, value pairs (got %d arguments)",
                    sl_fn_name(ctx), argc);
        return;
    }
    json_t *o = json_object();
    if (!o) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    for (int i = 0; i < argc; i += 2) {
        if (sqlite3_value_type(argv[i]) == SQLITE_NULL) {
            sl_fn_error(ctx, "%s: key %d is NULL", sl_fn_name(ctx), i / 2 + 1);
            json_decref(o);
            return;
        }
        if (absent_on_null && sqlite3_value_type(argv[i + 1]) == SQLITE_NULL)
            continue;
        const char *k = (const char *)sqlite3_value_text(argv[i]);
        json_t *v = value_to_json(argv[i + 1]);
        if (!k || !v || json_object_set_new_nocheck(o, k, v) != 0) {
            json_decref(o);
            sqlite3_result_error_nomem(ctx);
            return;
        }
    }
    result_json(ctx, o);
    json_decref(o);
}

static void fn_json_object(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    object_build(ctx, argc, argv, false);
}

static void fn_json_object_absent(sqlite3_context *ctx, int argc,
                                  sqlite3_value **argv)
{
    object_build(ctx, argc, argv, true);
}

static void array_build(sqlite3_context *ctx, int argc, sqlite3_value **argv,
                        bool absent_on_null)
{
    json_t *a = json_array();
    if (!a) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    for (int i = 0; i < argc; i++) {
        if (absent_on_null && sqlite3_value_type(argv[i]) == SQLITE_NULL)
            continue;
        json_t *v = value_to_json(argv[i]);
        if (!v || json_array_append_new(a, v) != 0) {
            json_decref(a);
            sqlite3_result_error_nomem(ctx);
            return;
        }
    }
    result_json(ctx, a);
    json_decref(a);
}

static void fn_json_array(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    array_build(ctx, argc, argv, true);
}

static void fn_json_array_null(sqlite3_context *ctx, int argc,
                               sqlite3_value **argv)
{
    array_build(ctx, argc, argv, false);
}

/* JSON_STRING(x): x serialized as JSON (strings quoted). */
static void fn_json_string(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    json_t *j = value_to_json(argv[0]);
    if (!j) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    write_json(&b, j, 0);
    json_decref(j);
    sl_fn_result_buf(ctx, &b);
}

static void fn_json_quote(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    const char *s = (const char *)sqlite3_value_text(argv[0]);
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    write_str(&b, s ? s : "", (size_t)sqlite3_value_bytes(argv[0]));
    sl_fn_result_buf(ctx, &b);
}

/* JSON_UNQUOTE(s): the string a JSON string literal holds; s itself when
 * it is not one. */
static void fn_json_unquote(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    json_t *j = parse_value(argv[0]);
    if (j && json_is_string(j))
        sqlite3_result_text64(ctx, json_string_value(j), json_string_length(j),
                              SQLITE_TRANSIENT, SQLITE_UTF8);
    else
        sqlite3_result_value(ctx, argv[0]);
    json_decref(j);
}

/* ---- collections -----------------------------------------------------------
 */

/* Parse a collection argument; reports an error naming the function when
 * it is not JSON of the wanted shape (want: 'a' array, 'o' object, '*'
 * either). */
static json_t *coll_arg(sqlite3_context *ctx, sqlite3_value *v, char want,
                        const char *what)
{
    json_t *j = parse_value(v);
    bool ok = j && ((want == 'a' && json_is_array(j)) ||
                    (want == 'o' && json_is_object(j)) ||
                    (want == '*' && (json_is_array(j) || json_is_object(j))));
    if (!ok) {
        json_decref(j);
        sl_fn_error(ctx, "%s: %s must be %s (JSON text)", sl_fn_name(ctx), what,
                    want == 'a'   ? "an ARRAY"
                    : want == 'o' ? "a ROW"
                                  : "an ARRAY or MAP");
        return NULL;
    }
    return j;
}

/* Equality of a JSON value and a SQL value (numbers numerically). */
static bool json_eq_value(const json_t *j, sqlite3_value *v)
{
    switch (sqlite3_value_type(v)) {
    case SQLITE_NULL:
        return json_is_null(j);
    case SQLITE_INTEGER:
        if (json_is_integer(j))
            return json_integer_value(j) == sqlite3_value_int64(v);
        if (json_is_real(j))
            return json_real_value(j) == (double)sqlite3_value_int64(v);
        if (json_is_boolean(j))
            return json_is_true(j) == (sqlite3_value_int64(v) != 0);
        return false;
    case SQLITE_FLOAT:
        return json_is_number(j) &&
               json_number_value(j) == sqlite3_value_double(v);
    case SQLITE_TEXT: {
        if (json_is_string(j)) {
            size_t n = (size_t)sqlite3_value_bytes(v);
            return json_string_length(j) == n &&
                   memcmp(json_string_value(j), sqlite3_value_text(v), n) == 0;
        }
        if (json_is_object(j) || json_is_array(j)) {
            json_t *o = parse_value(v);
            bool eq = o && json_equal(o, j);
            json_decref(o);
            return eq;
        }
        return false;
    }
    default:
        return false;
    }
}

static bool json_eq(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return json_number_value(a) == json_number_value(b);
    }
    return json_equal(a, b);
}

static void fn_cardinality(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    json_t *j = coll_arg(ctx, argv[0], '*', "argument");
    if (!j)
        return;
    sqlite3_result_int64(
        ctx,
        (int64_t)(json_is_array(j) ? json_array_size(j) : json_object_size(j)));
    json_decref(j);
}

/* ELEMENT(arr): the only element; NULL when empty; an error for more. */
static void fn_element(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    json_t *j = coll_arg(ctx, argv[0], 'a', "argument");
    if (!j)
        return;
    if (json_array_size(j) == 1)
        result_elem(ctx, json_array_get(j, 0));
    else if (json_array_size(j) > 1)
        sl_fn_error(ctx,
                    "ELEMENT: the array has %zu elements, expected at "
                    "most one",
                    json_array_size(j));
    json_decref(j);
}

static void fn_array_contains(sqlite3_context *ctx, int argc,
                              sqlite3_value **argv)
{
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
        return;
    json_t *j = coll_arg(ctx, argv[0], 'a', "argument 1");
    if (!j)
        return;
    bool found = false;
    for (size_t i = 0; i < json_array_size(j) && !found; i++)
        found = json_eq_value(json_array_get(j, i), argv[1]);
    sqlite3_result_int(ctx, found);
    json_decref(j);
}

static void fn_array_position(sqlite3_context *ctx, int argc,
                              sqlite3_value **argv)
{
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
        return;
    json_t *j = coll_arg(ctx, argv[0], 'a', "argument 1");
    if (!j)
        return;
    int64_t pos = 0;
    for (size_t i = 0; i < json_array_size(j) && !pos; i++)
        if (json_eq_value(json_array_get(j, i), argv[1]))
            pos = (int64_t)i + 1;
    sqlite3_result_int64(ctx, pos);
    json_decref(j);
}

static void fn_array_distinct(sqlite3_context *ctx, int argc,
                              sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    json_t *j = coll_arg(ctx, argv[0], 'a', "argument");
    if (!j)
        return;
    json_t *out = json_array();
    size_t n = json_array_size(j);
    for (size_t i = 0; out && i < n; i++) {
        json_t *e = json_array_get(j, i);
        bool seen = false;
        for (size_t k = 0; k < json_array_size(out) && !seen; k++)
            seen = json_eq(json_array_get(out, k), e);
        if (!seen)
            json_array_append(out, e);
    }
    if (out)
        result_json(ctx, out);
    else
        sqlite3_result_error_nomem(ctx);
    json_decref(out);
    json_decref(j);
}

static void fn_array_reverse(sqlite3_context *ctx, int argc,
                             sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    json_t *j = coll_arg(ctx, argv[0], 'a', "argument");
    if (!j)
        return;
    json_t *out = json_array();
    for (size_t i = json_array_size(j); out && i > 0; i--)
        json_array_append(out, json_array_get(j, i - 1));
    if (out)
        result_json(ctx, out);
    else
        sqlite3_result_error_nomem(ctx);
    json_decref(out);
    json_decref(j);
}

/* ARRAY_JOIN(arr, sep[, null_text]): elements as text joined by sep; NULL
 * elements are skipped unless null_text is given. */
static void fn_array_join(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
        sqlite3_value_type(argv[1]) == SQLITE_NULL)
        return;
    json_t *j = coll_arg(ctx, argv[0], 'a', "argument 1");
    if (!j)
        return;
    const char *sep = (const char *)sqlite3_value_text(argv[1]);
    const char *null_text =
        argc > 2 ? (const char *)sqlite3_value_text(argv[2]) : NULL;
    sl_buf b;
    sl_buf_init(&b, SL_FN_MAX_RESULT);
    bool first = true;
    char num[40];
    for (size_t i = 0; i < json_array_size(j); i++) {
        json_t *e = json_array_get(j, i);
        if (json_is_null(e) && !null_text)
            continue;
        if (!first)
            sl_buf_puts(&b, sep ? sep : "");
        first = false;
        switch (json_typeof(e)) {
        case JSON_NULL:
            sl_buf_puts(&b, null_text);
            break;
        case JSON_STRING:
            sl_buf_append(&b, json_string_value(e), json_string_length(e));
            break;
        case JSON_INTEGER:
            sl_buf_printf(&b, "%lld", (long long)json_integer_value(e));
            break;
        case JSON_REAL:
            sl_fn_format_double(json_real_value(e), num, sizeof(num));
            sl_buf_puts(&b, num);
            break;
        case JSON_TRUE:
            sl_buf_puts(&b, "TRUE");
            break;
        case JSON_FALSE:
            sl_buf_puts(&b, "FALSE");
            break;
        default:
            write_json(&b, e, 0);
        }
    }
    json_decref(j);
    sl_fn_result_buf(ctx, &b);
}

/* sl_item(arr, i): arr[i], 1-based; NULL when out of range. */
static void fn_item(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    int64_t i;
    if (!sl_fn_arg_int(ctx, argv[1], "index", &i))
        return;
    json_t *j = coll_arg(ctx, argv[0], 'a', "argument 1");
    if (!j)
        return;
    if (i >= 1 && (uint64_t)i <= json_array_size(j))
        result_elem(ctx, json_array_get(j, (size_t)(i - 1)));
    json_decref(j);
}

/* sl_map_get(m, k): m[k] for a MAP stored as a JSON object, or as an
 * array of [key, value] pairs; NULL when absent. */
static void fn_map_get(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    json_t *j = coll_arg(ctx, argv[0], '*', "argument 1");
    if (!j)
        return;
    if (json_is_object(j)) {
        const char *k = (const char *)sqlite3_value_text(argv[1]);
        json_t *v = k ? json_object_get(j, k) : NULL;
        if (v)
            result_elem(ctx, v);
    } else {
        for (size_t i = 0; i < json_array_size(j); i++) {
            json_t *pair = json_array_get(j, i);
            if (json_is_array(pair) && json_array_size(pair) == 2 &&
                json_eq_value(json_array_get(pair, 0), argv[1])) {
                result_elem(ctx, json_array_get(pair, 1));
                break;
            }
        }
    }
    json_decref(j);
}

/* sl_field(row, name): row.name; NULL when the row has no such field. */
static void fn_field(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (sl_fn_any_null(argc, argv))
        return;
    json_t *j = coll_arg(ctx, argv[0], 'o', "argument 1");
    if (!j)
        return;
    const char *k = (const char *)sqlite3_value_text(argv[1]);
    json_t *v = k ? json_object_get(j, k) : NULL;
    if (v)
        result_elem(ctx, v);
    json_decref(j);
}

/* sl_map(k1, v1, ...): MAP[k1, v1, ...]: a JSON object when every key is
 * text, else an array of [key, value] pairs. Later keys win. */
static void fn_map(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (argc % 2) {
        sl_fn_error(ctx, "sl_map: expects key, value pairs (got %d arguments)",
                    argc);
        return;
    }
    bool text_keys = true;
    for (int i = 0; i < argc; i += 2)
        if (sqlite3_value_type(argv[i]) != SQLITE_TEXT)
            text_keys = false;
    if (text_keys) {
        object_build(ctx, argc, argv, false);
        return;
    }
    json_t *a = json_array();
    for (int i = 0; a && i < argc; i += 2) {
        json_t *k = value_to_json(argv[i]);
        json_t *v = value_to_json(argv[i + 1]);
        bool replaced = false;
        for (size_t e = 0; k && e < json_array_size(a); e++) {
            json_t *pair = json_array_get(a, e);
            if (json_eq(json_array_get(pair, 0), k)) {
                json_array_set(pair, 1, v);
                replaced = true;
            }
        }
        if (!replaced && k && v)
            json_array_append_new(a, json_pack("[OO]", k, v));
        json_decref(k);
        json_decref(v);
    }
    if (a)
        result_json(ctx, a);
    else
        sqlite3_result_error_nomem(ctx);
    json_decref(a);
}

static void map_part(sqlite3_context *ctx, sqlite3_value **argv, bool keys)
{
    json_t *j = coll_arg(ctx, argv[0], '*', "argument");
    if (!j)
        return;
    json_t *out = json_array();
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            if (out)
                json_array_append_new(out, keys ? json_string_nocheck(k)
                                                : json_incref(v));
        }
    } else {
        for (size_t i = 0; out && i < json_array_size(j); i++) {
            json_t *pair = json_array_get(j, i);
            json_t *e = json_array_get(pair, keys ? 0 : 1);
            json_array_append(out, e ? e : json_null());
        }
    }
    if (out)
        result_json(ctx, out);
    else
        sqlite3_result_error_nomem(ctx);
    json_decref(out);
    json_decref(j);
}

static void fn_map_keys(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (!sl_fn_any_null(argc, argv))
        map_part(ctx, argv, true);
}

static void fn_map_values(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    if (!sl_fn_any_null(argc, argv))
        map_part(ctx, argv, false);
}

/* ---- vectors ----------------------------------------------------------------
 */

#define VEC_MAX_DIM (1 << 20)

typedef struct vec {
    double *x;
    int64_t n;
} vec;

/* Parse a JSON array of numbers without building a DOM. */
static bool vec_parse(const char *s, size_t len, vec *v)
{
    const char *p = s, *end = s + len;
    int64_t cap = 0;
    v->x = NULL;
    v->n = 0;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
        p++;
    if (p >= end || *p++ != '[')
        return false;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
            p++;
        if (p < end && *p == ']' && v->n == 0) {
            p++;
            break;
        }
        const char *b = p;
        while (p < end && ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' ||
                           *p == '.' || *p == 'e' || *p == 'E'))
            p++;
        double d;
        if (p == b || sl_parse_double(b, (size_t)(p - b), &d) != SL_OK)
            return false;
        if (v->n == cap) {
            if (cap >= VEC_MAX_DIM)
                return false;
            int64_t ncap = cap ? cap * 2 : 64;
            double *nx = sl_realloc(v->x, sizeof(double) * (size_t)ncap);
            if (!nx)
                return false;
            v->x = nx;
            cap = ncap;
        }
        v->x[v->n++] = d;
        while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
            p++;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == ']') {
            p++;
            break;
        }
        return false;
    }
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
        p++;
    return p == end;
}

static bool vec_args(sqlite3_context *ctx, sqlite3_value **argv, vec *a, vec *b)
{
    vec *vs[2] = {a, b};
    a->x = b->x = NULL;
    for (int i = 0; i < 2; i++) {
        const char *s = (const char *)sqlite3_value_text(argv[i]);
        if (!s || !vec_parse(s, (size_t)sqlite3_value_bytes(argv[i]), vs[i])) {
            sl_fn_error(ctx,
                        "%s: argument %d is not an array of numbers (JSON "
                        "text such as '[0.1, 0.2]')",
                        sl_fn_name(ctx), i + 1);
            sl_free(a->x);
            sl_free(b->x);
            return false;
        }
    }
    if (a->n != b->n) {
        sl_fn_error(ctx, "%s: dimension mismatch (%lld vs %lld)",
                    sl_fn_name(ctx), (long long)a->n, (long long)b->n);
        sl_free(a->x);
        sl_free(b->x);
        return false;
    }
    return true;
}

static void vector_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv,
                      int mode)
{
    if (sl_fn_any_null(argc, argv))
        return;
    vec a, b;
    if (!vec_args(ctx, argv, &a, &b))
        return;
    double dot = 0, na = 0, nb = 0, l2 = 0;
    for (int64_t i = 0; i < a.n; i++) {
        dot += a.x[i] * b.x[i];
        na += a.x[i] * a.x[i];
        nb += b.x[i] * b.x[i];
        l2 += (a.x[i] - b.x[i]) * (a.x[i] - b.x[i]);
    }
    sl_free(a.x);
    sl_free(b.x);
    if (mode == 0) {
        if (na == 0 || nb == 0)
            return; /* NULL: undefined for a zero vector */
        sqlite3_result_double(ctx, dot / (sqrt(na) * sqrt(nb)));
    } else if (mode == 1) {
        sqlite3_result_double(ctx, dot);
    } else {
        sqlite3_result_double(ctx, sqrt(l2));
    }
}

static void fn_cosine_similarity(sqlite3_context *ctx, int argc,
                                 sqlite3_value **argv)
{
    vector_fn(ctx, argc, argv, 0);
}

static void fn_dot_product(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    vector_fn(ctx, argc, argv, 1);
}

static void fn_l2_distance(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    vector_fn(ctx, argc, argv, 2);
}

#define J(name, sig, ret, doc, lo, hi, fn)                                     \
    {                                                                          \
        name, sig, ret, doc, "json", lo, hi, SL_FN_SUBTYPE, fn                 \
    }
#define K(name, sig, ret, doc, lo, hi, fn)                                     \
    {                                                                          \
        name, sig, ret, doc, "collection", lo, hi, SL_FN_SUBTYPE, fn           \
    }
#define V(name, sig, ret, doc, lo, hi, fn)                                     \
    {                                                                          \
        name, sig, ret, doc, "vector", lo, hi, 0, fn                           \
    }

const sl_function_info sl_fn_json_table[] = {
    J("JSON_VALUE", "JSON_VALUE(json, path[, returning])", "STRING",
      "the scalar at path, as STRING or the returning type; NULL if absent "
      "or invalid",
      2, 3, fn_json_value),
    J("JSON_QUERY", "JSON_QUERY(json, path[, wrapper])", "STRING",
      "the object or array at path as JSON (wrapper WITHOUT, WITH, "
      "CONDITIONAL)",
      2, 3, fn_json_query),
    J("JSON_EXISTS", "JSON_EXISTS(json, path)", "BOOLEAN",
      "TRUE if path matches something in json", 2, 2, fn_json_exists),
    J("IS_JSON", "IS_JSON(s[, kind])", "BOOLEAN",
      "s IS JSON [VALUE|SCALAR|ARRAY|OBJECT]", 1, 2, fn_is_json),
    J("JSON_OBJECT", "JSON_OBJECT(k1, v1, ...)", "STRING",
      "JSON object of the pairs; NULL values kept as null (NULL ON NULL)", 0,
      -1, fn_json_object),
    J("sl_json_object_absent", "sl_json_object_absent(k1, v1, ...)", "STRING",
      "JSON_OBJECT(... ABSENT ON NULL): pairs with NULL values left out", 0, -1,
      fn_json_object_absent),
    J("JSON_ARRAY", "JSON_ARRAY(v1, ...)", "STRING",
      "JSON array of the values; NULLs left out (ABSENT ON NULL)", 0, -1,
      fn_json_array),
    J("sl_json_array_null", "sl_json_array_null(v1, ...)", "STRING",
      "JSON_ARRAY(... NULL ON NULL): NULLs kept as null", 0, -1,
      fn_json_array_null),
    J("JSON_STRING", "JSON_STRING(x)", "STRING", "x serialized as JSON", 1, 1,
      fn_json_string),
    J("JSON_QUOTE", "JSON_QUOTE(s)", "STRING", "s as a JSON string literal", 1,
      1, fn_json_quote),
    J("JSON_UNQUOTE", "JSON_UNQUOTE(s)", "STRING",
      "the value of a JSON string literal (s itself if it is not one)", 1, 1,
      fn_json_unquote),
    K("CARDINALITY", "CARDINALITY(c)", "INT",
      "number of elements of an ARRAY or entries of a MAP", 1, 1,
      fn_cardinality),
    K("ELEMENT", "ELEMENT(arr)", "element type",
      "the only element of arr; NULL if empty; error if more than one", 1, 1,
      fn_element),
    K("ARRAY_CONTAINS", "ARRAY_CONTAINS(arr, v)", "BOOLEAN",
      "TRUE if arr has an element equal to v", 2, 2, fn_array_contains),
    K("ARRAY_POSITION", "ARRAY_POSITION(arr, v)", "INT",
      "1-based position of the first element equal to v, 0 if none", 2, 2,
      fn_array_position),
    K("ARRAY_DISTINCT", "ARRAY_DISTINCT(arr)", "ARRAY",
      "arr without duplicates (first occurrences, in order)", 1, 1,
      fn_array_distinct),
    K("ARRAY_REVERSE", "ARRAY_REVERSE(arr)", "ARRAY", "arr in reverse order", 1,
      1, fn_array_reverse),
    K("ARRAY_JOIN", "ARRAY_JOIN(arr, sep[, null_text])", "STRING",
      "elements joined by sep; NULLs skipped unless null_text is given", 2, 3,
      fn_array_join),
    K("sl_item", "sl_item(arr, i)", "element type",
      "arr[i]: 1-based element, NULL when out of range", 2, 2, fn_item),
    K("sl_map_get", "sl_map_get(m, k)", "value type",
      "m[k]: the value for key k, NULL when absent", 2, 2, fn_map_get),
    K("sl_field", "sl_field(row, name)", "field type",
      "row.name: a field of a ROW", 2, 2, fn_field),
    K("sl_array", "sl_array(v1, ...)", "ARRAY", "ARRAY[v1, ...] (NULLs kept)",
      0, -1, fn_json_array_null),
    K("sl_map", "sl_map(k1, v1, ...)", "MAP", "MAP[k1, v1, ...]", 0, -1,
      fn_map),
    K("MAP_KEYS", "MAP_KEYS(m)", "ARRAY", "the keys of m", 1, 1, fn_map_keys),
    K("MAP_VALUES", "MAP_VALUES(m)", "ARRAY", "the values of m", 1, 1,
      fn_map_values),
    V("COSINE_SIMILARITY", "COSINE_SIMILARITY(a, b)", "DOUBLE",
      "cosine similarity of two equal-length number arrays", 2, 2,
      fn_cosine_similarity),
    V("DOT_PRODUCT", "DOT_PRODUCT(a, b)", "DOUBLE",
      "dot product of two equal-length number arrays", 2, 2, fn_dot_product),
    V("L2_DISTANCE", "L2_DISTANCE(a, b)", "DOUBLE",
      "Euclidean distance of two equal-length number arrays", 2, 2,
      fn_l2_distance),
    {0},
};
