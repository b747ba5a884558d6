/*
 * format_avro.c: the 'avro-confluent' format: Avro binary records in the
 * Confluent Schema Registry wire format (magic byte 0, 4-byte big-endian
 * schema id, Avro body), as Flink's avro-confluent format reads and writes
 * them.
 *
 * The codec is hand-written rather than built on libavro: it decodes
 * straight into the batch row (no avro_value_t tree per record), resolves
 * the writer schema against the table by field name (missing fields are
 * NULL, extra ones skipped, int/long/float/double promotions as Avro's
 * resolution rules allow) and needs no extra library. Writer schemas are
 * fetched from the registry by id once and cached; on encode the schema
 * derived from the table is registered under the subject (Kafka passes
 * '<topic>-value' / '<topic>-key' by default) on first use. Nesting is
 * bounded by SL_AVRO_MAX_DEPTH and every length is checked against the
 * bytes left, so no input can read out of bounds (tests/fuzz/fuzz_avro.c).
 */
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "format_avro_int.h"

#define MAX_CACHED_SCHEMAS 64
#define MAX_NAMED          256

typedef enum akind {
    A_NULL,
    A_BOOLEAN,
    A_INT,
    A_LONG,
    A_FLOAT,
    A_DOUBLE,
    A_BYTES,
    A_STRING,
    A_RECORD,
    A_ENUM,
    A_ARRAY,
    A_MAP,
    A_FIXED,
    A_UNION,
} akind;

typedef enum alogical {
    L_NONE,
    L_DATE,
    L_TIME_MS,
    L_TIME_US,
    L_TS_MS,
    L_TS_US,
    L_DECIMAL,
} alogical;

static const char *const kind_names[] = {
    "null",   "boolean", "int",  "long",  "float", "double", "bytes",
    "string", "record",  "enum", "array", "map",   "fixed",  "union"};

typedef struct anode anode;
struct anode {
    akind kind;
    alogical logical;
    int scale;
    int n;              /* record fields, union branches, enum symbols */
    anode **kids;       /* record field types, union branches, [0] items */
    const char **names; /* record field names, enum symbols */
    int *col;           /* top-level record: format field per field or -1 */
    int64_t size;       /* fixed */
    const char *fullname;
};

struct sl_avro_schema {
    sl_arena arena;
    anode *root;
    const sl_schema *fmt_schema;
    const int *col_map;
    const char *named_names[MAX_NAMED];
    anode *named[MAX_NAMED];
    int n_named;
};

/* ---- schema compilation ------------------------------------------------- */

static anode *parse_node(sl_avro_schema *s, json_t *j, const char *ns,
                         int depth, sl_err *err);

static anode *new_node(sl_avro_schema *s, akind kind)
{
    anode *n = sl_arena_alloc(&s->arena, sizeof(*n));
    if (n) {
        memset(n, 0, sizeof(*n));
        n->kind = kind;
    }
    return n;
}

static const char *full_name(sl_avro_schema *s, const char *name,
                             const char *ns)
{
    if (strchr(name, '.') || !ns || !*ns)
        return sl_arena_strndup(&s->arena, name, strlen(name));
    size_t n = strlen(ns) + strlen(name) + 2;
    char *out = sl_arena_alloc(&s->arena, n);
    if (out)
        sl_snprintf(out, n, "%s.%s", ns, name);
    return out;
}

static anode *find_named(sl_avro_schema *s, const char *name, const char *ns)
{
    for (int i = 0; i < s->n_named; i++) {
        const char *fn = s->named_names[i];
        if (!strcmp(fn, name))
            return s->named[i];
        const char *dot = strrchr(fn, '.');
        if (ns && dot && !strchr(name, '.') && !strcmp(dot + 1, name) &&
            (size_t)(dot - fn) == strlen(ns) && !strncmp(fn, ns, strlen(ns)))
            return s->named[i];
        if (!ns && dot && !strcmp(dot + 1, name))
            return s->named[i];
    }
    return NULL;
}

static anode *primitive(sl_avro_schema *s, const char *name)
{
    for (int k = A_NULL; k <= A_STRING; k++)
        if (!strcmp(kind_names[k], name))
            return new_node(s, (akind)k);
    return NULL;
}

static int add_named(sl_avro_schema *s, anode *n, sl_err *err)
{
    if (s->n_named == MAX_NAMED)
        return sl_err_set(err, SL_LIMIT,
                          "avro schema: more than %d named "
                          "types",
                          MAX_NAMED);
    s->named_names[s->n_named] = n->fullname;
    s->named[s->n_named++] = n;
    return SL_OK;
}

static anode *parse_object(sl_avro_schema *s, json_t *j, const char *ns,
                           int depth, sl_err *err)
{
    const char *type = json_string_value(json_object_get(j, "type"));
    if (!type) {
        json_t *inner = json_object_get(j, "type");
        if (inner)
            return parse_node(s, inner, ns, depth + 1, err);
        sl_err_set(err, SL_ERROR, "avro schema: object without \"type\"");
        return NULL;
    }
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *nspace = json_string_value(json_object_get(j, "namespace"));
    if (nspace)
        ns = nspace;
    anode *n = NULL;
    if (!strcmp(type, "record") || !strcmp(type, "error")) {
        json_t *fields = json_object_get(j, "fields");
        if (!name || !json_is_array(fields)) {
            sl_err_set(err, SL_ERROR,
                       "avro schema: record needs \"name\" "
                       "and \"fields\"");
            return NULL;
        }
        n = new_node(s, A_RECORD);
        size_t nf = json_array_size(fields);
        if (!n || nf > 4096)
            goto limit;
        n->fullname = full_name(s, name, ns);
        n->n = (int)nf;
        n->kids = sl_arena_alloc(&s->arena, sizeof(anode *) * (nf + 1));
        n->names = sl_arena_alloc(&s->arena, sizeof(char *) * (nf + 1));
        if (!n->fullname || !n->kids || !n->names || add_named(s, n, err))
            goto limit;
        for (size_t i = 0; i < nf; i++) {
            json_t *f = json_array_get(fields, i);
            const char *fname = json_string_value(json_object_get(f, "name"));
            json_t *ftype = json_object_get(f, "type");
            if (!fname || !ftype) {
                sl_err_set(err, SL_ERROR,
                           "avro schema: field needs \"name\" "
                           "and \"type\"");
                return NULL;
            }
            n->names[i] = sl_arena_strndup(&s->arena, fname, strlen(fname));
            n->kids[i] = parse_node(s, ftype, ns, depth + 1, err);
            if (!n->kids[i] || !n->names[i])
                return NULL;
        }
        return n;
    }
    if (!strcmp(type, "enum")) {
        json_t *syms = json_object_get(j, "symbols");
        size_t ns_ = json_array_size(syms);
        n = new_node(s, A_ENUM);
        if (!n || !name || ns_ > 65536)
            goto limit;
        n->fullname = full_name(s, name, ns);
        n->n = (int)ns_;
        n->names = sl_arena_alloc(&s->arena, sizeof(char *) * (ns_ + 1));
        if (!n->fullname || !n->names || add_named(s, n, err))
            goto limit;
        for (size_t i = 0; i < ns_; i++) {
            const char *sym = json_string_value(json_array_get(syms, i));
            n->names[i] = sl_arena_strndup(&s->arena, sym ? sym : "",
                                           sym ? strlen(sym) : 0);
        }
        return n;
    }
    if (!strcmp(type, "fixed")) {
        n = new_node(s, A_FIXED);
        json_int_t size = json_integer_value(json_object_get(j, "size"));
        if (!n || !name || size < 0 || size > (1 << 24))
            goto limit;
        n->size = size;
        n->fullname = full_name(s, name, ns);
        if (!n->fullname || add_named(s, n, err))
            goto limit;
    } else if (!strcmp(type, "array") || !strcmp(type, "map")) {
        n = new_node(s, !strcmp(type, "array") ? A_ARRAY : A_MAP);
        json_t *inner =
            json_object_get(j, n && n->kind == A_ARRAY ? "items" : "values");
        if (!n || !inner)
            goto limit;
        n->kids = sl_arena_alloc(&s->arena, sizeof(anode *));
        if (!n->kids)
            goto limit;
        n->kids[0] = parse_node(s, inner, ns, depth + 1, err);
        if (!n->kids[0])
            return NULL;
        return n;
    } else {
        n = primitive(s, type);
        if (!n) {
            n = find_named(s, type, ns);
            if (!n)
                sl_err_set(err, SL_ERROR, "avro schema: unknown type '%s'",
                           type);
            return n;
        }
    }
    /* logical types on primitives / fixed */
    const char *lt = json_string_value(json_object_get(j, "logicalType"));
    if (lt) {
        if (!strcmp(lt, "date") && n->kind == A_INT)
            n->logical = L_DATE;
        else if (!strcmp(lt, "time-millis") && n->kind == A_INT)
            n->logical = L_TIME_MS;
        else if (!strcmp(lt, "time-micros") && n->kind == A_LONG)
            n->logical = L_TIME_US;
        else if ((!strcmp(lt, "timestamp-millis") ||
                  !strcmp(lt, "local-timestamp-millis")) &&
                 n->kind == A_LONG)
            n->logical = L_TS_MS;
        else if ((!strcmp(lt, "timestamp-micros") ||
                  !strcmp(lt, "local-timestamp-micros")) &&
                 n->kind == A_LONG)
            n->logical = L_TS_US;
        else if (!strcmp(lt, "decimal") &&
                 (n->kind == A_BYTES || n->kind == A_FIXED)) {
            n->logical = L_DECIMAL;
            n->scale = (int)json_integer_value(json_object_get(j, "scale"));
        }
    }
    return n;
limit:
    if (!err->code)
        sl_err_set(err, SL_ERROR, "avro schema: malformed or too large %s",
                   type);
    return NULL;
}

static anode *parse_node(sl_avro_schema *s, json_t *j, const char *ns,
                         int depth, sl_err *err)
{
    if (depth > SL_AVRO_MAX_DEPTH) {
        sl_err_set(err, SL_LIMIT, "avro schema nests deeper than %d",
                   SL_AVRO_MAX_DEPTH);
        return NULL;
    }
    if (json_is_string(j)) {
        const char *name = json_string_value(j);
        anode *n = primitive(s, name);
        if (!n)
            n = find_named(s, name, ns);
        if (!n)
            sl_err_set(err, SL_ERROR, "avro schema: unknown type '%s'", name);
        return n;
    }
    if (json_is_array(j)) {
        size_t nb = json_array_size(j);
        anode *n = new_node(s, A_UNION);
        if (!n || nb == 0 || nb > 64) {
            sl_err_set(err, SL_ERROR, "avro schema: bad union");
            return NULL;
        }
        n->n = (int)nb;
        n->kids = sl_arena_alloc(&s->arena, sizeof(anode *) * nb);
        if (!n->kids)
            return NULL;
        for (size_t i = 0; i < nb; i++) {
            n->kids[i] =
                parse_node(s, json_array_get(j, i), ns, depth + 1, err);
            if (!n->kids[i])
                return NULL;
        }
        return n;
    }
    if (json_is_object(j))
        return parse_object(s, j, ns, depth, err);
    sl_err_set(err, SL_ERROR, "avro schema: expected a type");
    return NULL;
}

sl_avro_schema *sl_avro_schema_compile(const char *text, size_t len,
                                       const sl_schema *fmt_schema,
                                       const int *col_map, sl_err *err)
{
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    if (!j) {
        sl_err_set(err, SL_ERROR, "avro schema is not JSON: %s", jerr.text);
        return NULL;
    }
    sl_avro_schema *s = sl_calloc(1, sizeof(*s));
    if (!s) {
        json_decref(j);
        sl_err_set(err, SL_NOMEM, "out of memory");
        return NULL;
    }
    sl_arena_init(&s->arena, 4096, 16u << 20);
    s->fmt_schema = fmt_schema;
    s->col_map = col_map;
    s->root = parse_node(s, j, NULL, 0, err);
    json_decref(j);
    if (s->root && s->root->kind != A_RECORD) {
        sl_err_set(err, SL_ERROR,
                   "avro schema: the top level must be a "
                   "record, got %s",
                   kind_names[s->root->kind]);
        s->root = NULL;
    }
    if (!s->root) {
        sl_avro_schema_free(s);
        return NULL;
    }
    anode *r = s->root;
    r->col = sl_arena_alloc(&s->arena, sizeof(int) * (size_t)(r->n + 1));
    if (!r->col) {
        sl_avro_schema_free(s);
        sl_err_set(err, SL_NOMEM, "out of memory");
        return NULL;
    }
    for (int i = 0; i < r->n; i++)
        r->col[i] = sl_schema_find(fmt_schema, r->names[i]);
    return s;
}

void sl_avro_schema_free(sl_avro_schema *s)
{
    if (!s)
        return;
    sl_arena_free(&s->arena);
    sl_free(s);
}

/* ---- decoding ----------------------------------------------------------- */

typedef struct cursor {
    const unsigned char *p, *end;
} cursor;

static int rd_long(cursor *c, int64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end)
            return -1;
        unsigned char b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    return -1;
}

static int rd_bytes(cursor *c, const unsigned char **b, size_t *len)
{
    int64_t n;
    if (rd_long(c, &n) || n < 0 || n > c->end - c->p)
        return -1;
    *b = c->p;
    *len = (size_t)n;
    c->p += n;
    return 0;
}

static int skip(cursor *c, const anode *n, int depth)
{
    if (depth > SL_AVRO_MAX_DEPTH)
        return -1;
    int64_t v;
    const unsigned char *b;
    size_t len;
    switch (n->kind) {
    case A_NULL:
        return 0;
    case A_BOOLEAN:
        if (c->p >= c->end)
            return -1;
        c->p++;
        return 0;
    case A_INT:
    case A_LONG:
    case A_ENUM:
        return rd_long(c, &v);
    case A_FLOAT:
    case A_DOUBLE: {
        size_t w = n->kind == A_FLOAT ? 4 : 8;
        if ((size_t)(c->end - c->p) < w)
            return -1;
        c->p += w;
        return 0;
    }
    case A_BYTES:
    case A_STRING:
        return rd_bytes(c, &b, &len);
    case A_FIXED:
        if (n->size > c->end - c->p)
            return -1;
        c->p += n->size;
        return 0;
    case A_RECORD:
        for (int i = 0; i < n->n; i++)
            if (skip(c, n->kids[i], depth + 1))
                return -1;
        return 0;
    case A_UNION:
        if (rd_long(c, &v) || v < 0 || v >= n->n)
            return -1;
        return skip(c, n->kids[v], depth + 1);
    case A_ARRAY:
    case A_MAP:
        for (;;) {
            int64_t count;
            if (rd_long(c, &count))
                return -1;
            if (count == 0)
                return 0;
            if (count < 0) {
                int64_t size;
                if (rd_long(c, &size) || size < 0 || size > c->end - c->p)
                    return -1;
                c->p += size;
                continue;
            }
            /* every item takes at least... possibly zero bytes (null):
             * bound the count by the bytes left plus a fixed slack */
            if (count > (c->end - c->p) + 1024)
                return -1;
            for (int64_t i = 0; i < count; i++) {
                if (n->kind == A_MAP && rd_bytes(c, &b, &len))
                    return -1;
                if (skip(c, n->kids[0], depth + 1))
                    return -1;
            }
        }
    }
    return -1;
}

static double pow10i(int s)
{
    double d = 1;
    for (int i = 0; i < s && i < 40; i++)
        d *= 10;
    return d;
}

static int type_error(sl_err *err, const char *field, const sl_type *t,
                      const anode *n)
{
    return sl_err_set(err, SL_ERROR, "field '%s': expected %s, got avro %s",
                      field, sl_type_id_name(t->id), kind_names[n->kind]);
}

static int truncated(sl_err *err, const char *field)
{
    return sl_err_set(err, SL_ERROR,
                      "field '%s': avro data is truncated or "
                      "malformed",
                      field);
}

/* Decode one value of writer node n into v, typed by column type t. */
static int decode_value(cursor *c, const anode *n, const sl_type *t,
                        const char *field, sl_batch *batch, sl_value *v,
                        sl_err *err)
{
    int64_t i64;
    const unsigned char *b;
    size_t len;
    if (n->kind == A_UNION) {
        if (rd_long(c, &i64) || i64 < 0 || i64 >= n->n)
            return truncated(err, field);
        n = n->kids[i64];
    }
    sl_type_id id = t->id;
    bool is_int_col = id == SL_TYPE_BOOLEAN ||
                      (id >= SL_TYPE_TINYINT && id <= SL_TYPE_BIGINT) ||
                      sl_type_is_temporal(t);
    bool is_real_col =
        id == SL_TYPE_FLOAT || id == SL_TYPE_DOUBLE || id == SL_TYPE_DECIMAL;
    switch (n->kind) {
    case A_NULL:
        if (t->not_null)
            return sl_err_set(err, SL_ERROR,
                              "field '%s': NULL in a NOT NULL "
                              "column",
                              field);
        *v = sl_value_null();
        return SL_OK;
    case A_BOOLEAN:
        if (c->p >= c->end)
            return truncated(err, field);
        if (id != SL_TYPE_BOOLEAN)
            return type_error(err, field, t, n);
        *v = sl_value_int(*c->p++ != 0);
        return SL_OK;
    case A_INT:
    case A_LONG:
        if (rd_long(c, &i64))
            return truncated(err, field);
        if (n->logical == L_TIME_US || n->logical == L_TS_US)
            i64 /= 1000;
        if (is_real_col) {
            *v = sl_value_real((double)i64);
            return SL_OK;
        }
        if (!is_int_col || id == SL_TYPE_BOOLEAN)
            return type_error(err, field, t, n);
        *v = sl_value_int(i64);
        return SL_OK;
    case A_FLOAT:
    case A_DOUBLE: {
        if (!is_real_col)
            return type_error(err, field, t, n);
        size_t w = n->kind == A_FLOAT ? 4 : 8;
        if ((size_t)(c->end - c->p) < w)
            return truncated(err, field);
        double d;
        if (w == 4) {
            float f;
            memcpy(&f, c->p, 4);
            d = f;
        } else {
            memcpy(&d, c->p, 8);
        }
        c->p += w;
        *v = sl_value_real(d);
        return SL_OK;
    }
    case A_STRING:
    case A_ENUM:
        if (n->kind == A_ENUM) {
            if (rd_long(c, &i64) || i64 < 0 || i64 >= n->n)
                return truncated(err, field);
            b = (const unsigned char *)n->names[i64];
            len = strlen(n->names[i64]);
        } else if (rd_bytes(c, &b, &len)) {
            return truncated(err, field);
        }
        if (!sl_type_is_string(t))
            return type_error(err, field, t, n);
        return sl_batch_set_text(batch, v, (const char *)b, len);
    case A_BYTES:
    case A_FIXED:
        if (n->kind == A_FIXED) {
            if (n->size > c->end - c->p)
                return truncated(err, field);
            b = c->p;
            len = (size_t)n->size;
            c->p += n->size;
        } else if (rd_bytes(c, &b, &len)) {
            return truncated(err, field);
        }
        if (n->logical == L_DECIMAL && is_real_col) {
            /* big-endian two's complement unscaled value */
            if (len > 8)
                return sl_err_set(err, SL_ERROR,
                                  "field '%s': decimal wider "
                                  "than 64 bits",
                                  field);
            int64_t u = len && (b[0] & 0x80) ? -1 : 0;
            for (size_t k = 0; k < len; k++)
                u = (int64_t)((uint64_t)u << 8 | b[k]);
            *v = sl_value_real((double)u / pow10i(n->scale));
            return SL_OK;
        }
        if (id != SL_TYPE_BINARY && id != SL_TYPE_VARBINARY)
            return type_error(err, field, t, n);
        return sl_batch_set_blob(batch, v, b, len);
    default:
        return sl_err_set(err, SL_ERROR,
                          "field '%s': avro %s values are not "
                          "supported for column type %s",
                          field, kind_names[n->kind], sl_type_id_name(id));
    }
}

int sl_avro_decode_body(const sl_avro_schema *s, const unsigned char *p,
                        size_t len, sl_batch *batch, sl_value *row, sl_err *err)
{
    cursor c = {p, p + len};
    const anode *r = s->root;
    for (int i = 0; i < r->n; i++) {
        int f = r->col[i];
        if (f < 0 || s->col_map[f] < 0) {
            if (skip(&c, r->kids[i], 1))
                return truncated(err, r->names[i]);
            continue;
        }
        const sl_column *col = &s->fmt_schema->cols[f];
        int rc = decode_value(&c, r->kids[i], col->type, col->name, batch,
                              &row[s->col_map[f]], err);
        if (rc)
            return rc == SL_NOMEM || rc == SL_LIMIT ? rc : SL_ERROR;
    }
    if (c.p != c.end)
        return sl_err_set(err, SL_ERROR,
                          "%zu bytes left after the avro "
                          "record",
                          (size_t)(c.end - c.p));
    return SL_OK;
}

/* ---- schema derivation and encoding ------------------------------------- */

static int derive_type(const sl_type *t, sl_buf *out, sl_err *err,
                       const char *name)
{
    const char *simple = NULL;
    switch (t->id) {
    case SL_TYPE_BOOLEAN:
        simple = "\"boolean\"";
        break;
    case SL_TYPE_TINYINT:
    case SL_TYPE_SMALLINT:
    case SL_TYPE_INT:
        simple = "\"int\"";
        break;
    case SL_TYPE_BIGINT:
        simple = "\"long\"";
        break;
    case SL_TYPE_FLOAT:
        simple = "\"float\"";
        break;
    case SL_TYPE_DOUBLE:
        simple = "\"double\"";
        break;
    case SL_TYPE_CHAR:
    case SL_TYPE_VARCHAR:
        simple = "\"string\"";
        break;
    case SL_TYPE_BINARY:
    case SL_TYPE_VARBINARY:
        simple = "\"bytes\"";
        break;
    case SL_TYPE_DATE:
        simple = "{\"type\":\"int\",\"logicalType\":\"date\"}";
        break;
    case SL_TYPE_TIME:
        simple = "{\"type\":\"int\",\"logicalType\":\"time-millis\"}";
        break;
    case SL_TYPE_TIMESTAMP:
    case SL_TYPE_TIMESTAMP_LTZ:
        simple = "{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}";
        break;
    case SL_TYPE_DECIMAL:
        return sl_buf_printf(out,
                             "{\"type\":\"bytes\",\"logicalType\":"
                             "\"decimal\",\"precision\":%d,\"scale\":%d}",
                             t->precision, t->scale);
    default:
        return sl_err_set(err, SL_UNSUPPORTED,
                          "avro-confluent: column '%s' of type %s is not "
                          "supported yet (nested types: use json)",
                          name, sl_type_id_name(t->id));
    }
    return sl_buf_puts(out, simple);
}

int sl_avro_schema_derive(const sl_schema *fs, sl_buf *out, sl_err *err)
{
    sl_buf_puts(out, "{\"type\":\"record\",\"name\":\"record\","
                     "\"namespace\":\"org.apache.flink.avro.generated\","
                     "\"fields\":[");
    for (int i = 0; i < fs->n_cols; i++) {
        const sl_type *t = fs->cols[i].type;
        json_t *name = json_string(fs->cols[i].name);
        char *qn = name ? json_dumps(name, JSON_ENCODE_ANY) : NULL;
        json_decref(name);
        if (!qn)
            return sl_err_set(err, SL_NOMEM, "out of memory");
        sl_buf_printf(out, "%s{\"name\":%s,\"type\":", i ? "," : "", qn);
        free(qn); /* jansson's allocation; sl: allow */
        if (!t->not_null)
            sl_buf_puts(out, "[\"null\",");
        int rc = derive_type(t, out, err, fs->cols[i].name);
        if (rc)
            return rc;
        sl_buf_puts(out, t->not_null ? "}" : "],\"default\":null}");
    }
    sl_buf_puts(out, "]}");
    return out->rc;
}

static void wr_long(sl_buf *out, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    char b[10];
    int n = 0;
    while (z >= 0x80) {
        b[n++] = (char)((z & 0x7f) | 0x80);
        z >>= 7;
    }
    b[n++] = (char)z;
    sl_buf_append(out, b, (size_t)n);
}

static int encode_value(const sl_column *col, const sl_value *v, sl_buf *out,
                        sl_err *err)
{
    const sl_type *t = col->type;
    if (!t->not_null) {
        if (v->kind == SL_V_NULL) {
            wr_long(out, 0);
            return SL_OK;
        }
        wr_long(out, 1);
    } else if (v->kind == SL_V_NULL) {
        return sl_err_set(err, SL_ERROR,
                          "field '%s': NULL in a NOT NULL "
                          "column",
                          col->name);
    }
    switch (t->id) {
    case SL_TYPE_BOOLEAN:
        sl_buf_putc(out, v->u.i ? 1 : 0);
        break;
    case SL_TYPE_FLOAT: {
        float f = (float)(v->kind == SL_V_REAL ? v->u.d : (double)v->u.i);
        sl_buf_append(out, &f, 4);
        break;
    }
    case SL_TYPE_DOUBLE: {
        double d = v->kind == SL_V_REAL ? v->u.d : (double)v->u.i;
        sl_buf_append(out, &d, 8);
        break;
    }
    case SL_TYPE_DECIMAL: {
        double d = v->kind == SL_V_REAL ? v->u.d : (double)v->u.i;
        int64_t u = (int64_t)llround(d * pow10i(t->scale));
        unsigned char b[8];
        for (int k = 7; k >= 0; k--) {
            b[k] = (unsigned char)(u & 0xff);
            u >>= 8;
        }
        int start = 0; /* minimal two's complement */
        while (start < 7 && ((b[start] == 0 && !(b[start + 1] & 0x80)) ||
                             (b[start] == 0xff && (b[start + 1] & 0x80))))
            start++;
        wr_long(out, 8 - start);
        sl_buf_append(out, b + start, (size_t)(8 - start));
        break;
    }
    case SL_TYPE_CHAR:
    case SL_TYPE_VARCHAR:
    case SL_TYPE_BINARY:
    case SL_TYPE_VARBINARY:
        if (v->kind != SL_V_TEXT && v->kind != SL_V_BLOB)
            return sl_err_set(err, SL_ERROR, "field '%s': expected text",
                              col->name);
        wr_long(out, v->len);
        sl_buf_append(out, v->u.b, v->len);
        break;
    default:
        if (v->kind != SL_V_INT)
            return sl_err_set(err, SL_ERROR,
                              "field '%s': expected an "
                              "integer",
                              col->name);
        wr_long(out, v->u.i);
    }
    return SL_OK;
}

/* ---- the format --------------------------------------------------------- */

static const sl_option_def avro_options[] = {
    {"avro-confluent.url", "string", NULL,
     "Schema Registry URL (required), e.g. http://localhost:8081."},
    {"avro-confluent.schema-registry.url", "string", NULL,
     "Older Flink name of 'avro-confluent.url'."},
    {"avro-confluent.subject", "string", "<topic>-value / <topic>-key",
     "Subject the sink registers its schema under."},
    {"avro-confluent.basic-auth.user-info", "string", NULL,
     "user:password for the registry."},
    {"avro-confluent.basic-auth.credentials-source", "string", NULL,
     "Accepted for Flink compatibility (USER_INFO)."},
    {"avro-confluent.ignore-parse-errors", "bool", "false",
     "Skip (and count) records that cannot be decoded."},
    {NULL, NULL, NULL, NULL},
};

typedef struct cached {
    int32_t id;
    sl_avro_schema *schema;
} cached;

typedef struct avro_codec {
    sl_decoder dec;
    sl_encoder enc;
    const sl_schema *fmt_schema;
    const int *col_map;
    char *url, *user_info, *subject;
    cached cache[MAX_CACHED_SCHEMAS];
    int n_cache;
    int32_t write_id; /* -1 until registered */
    sl_err sticky;    /* registry failure for the encoder */
} avro_codec;

static const sl_avro_schema *schema_for(avro_codec *c, int32_t id, sl_err *err)
{
    for (int i = 0; i < c->n_cache; i++)
        if (c->cache[i].id == id)
            return c->cache[i].schema;
    sl_buf text;
    sl_buf_init(&text, 4u << 20);
    if (sl_avro_registry_get(c->url, c->user_info, id, &text, err)) {
        sl_buf_free(&text);
        return NULL;
    }
    sl_avro_schema *s = sl_avro_schema_compile(text.data, text.len,
                                               c->fmt_schema, c->col_map, err);
    sl_buf_free(&text);
    if (!s)
        return NULL;
    if (c->n_cache == MAX_CACHED_SCHEMAS) {
        sl_avro_schema_free(c->cache[0].schema);
        memmove(c->cache, c->cache + 1,
                sizeof(cached) * (MAX_CACHED_SCHEMAS - 1));
        c->n_cache--;
    }
    c->cache[c->n_cache].id = id;
    c->cache[c->n_cache++].schema = s;
    return s;
}

static int avro_decode(sl_decoder *dec, const char *data, size_t len,
                       sl_batch *batch, sl_value *row, sl_err *err)
{
    avro_codec *c = (avro_codec *)dec;
    const unsigned char *p = (const unsigned char *)data;
    if (!data || len < 5)
        return sl_err_set(err, SL_ERROR,
                          "avro-confluent: record of %zu "
                          "bytes is shorter than the 5-byte header",
                          len);
    if (p[0] != 0)
        return sl_err_set(err, SL_ERROR,
                          "avro-confluent: unknown magic byte "
                          "0x%02x (expected 0x00)",
                          p[0]);
    int32_t id = (int32_t)((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
                           (uint32_t)p[3] << 8 | p[4]);
    const sl_avro_schema *s = schema_for(c, id, err);
    if (!s)
        return err->code == SL_NOMEM ? SL_NOMEM : SL_ERROR;
    return sl_avro_decode_body(s, p + 5, len - 5, batch, row, err);
}

static int avro_encode(sl_encoder *enc, const sl_batch *batch, int row,
                       sl_buf *out, sl_err *err)
{
    avro_codec *c = (avro_codec *)((char *)enc - offsetof(avro_codec, enc));
    if (c->sticky.code)
        return sl_err_set(err, c->sticky.code, "%s", c->sticky.msg);
    if (c->write_id < 0) {
        sl_buf schema;
        sl_buf_init(&schema, 1u << 20);
        int rc = sl_avro_schema_derive(c->fmt_schema, &schema, &c->sticky);
        if (!rc)
            rc = sl_avro_registry_register(c->url, c->user_info, c->subject,
                                           schema.data, &c->write_id,
                                           &c->sticky);
        sl_buf_free(&schema);
        if (rc) {
            c->write_id = -1;
            return sl_err_set(err, rc, "%s", c->sticky.msg);
        }
    }
    unsigned char hdr[5] = {0, (unsigned char)(c->write_id >> 24),
                            (unsigned char)(c->write_id >> 16),
                            (unsigned char)(c->write_id >> 8),
                            (unsigned char)c->write_id};
    sl_buf_append(out, hdr, 5);
    const sl_value *vals = sl_batch_crow(batch, row);
    for (int f = 0; f < c->fmt_schema->n_cols; f++) {
        int rc = encode_value(&c->fmt_schema->cols[f], &vals[c->col_map[f]],
                              out, err);
        if (rc)
            return rc;
    }
    return out->rc ? sl_err_set(err, out->rc, "avro record too large") : SL_OK;
}

static void avro_free(avro_codec *c)
{
    for (int i = 0; i < c->n_cache; i++)
        sl_avro_schema_free(c->cache[i].schema);
    sl_free(c->url);
    sl_free(c->user_info);
    sl_free(c->subject);
    sl_free(c);
}

static void avro_close_dec(sl_decoder *dec)
{
    avro_free((avro_codec *)dec);
}

static void avro_close_enc(sl_encoder *enc)
{
    avro_free((avro_codec *)((char *)enc - offsetof(avro_codec, enc)));
}

static int avro_open(const sl_format_info *info, bool encoding,
                     avro_codec **out, sl_err *err)
{
    char key[160];
    const char *url = NULL, *old_url = NULL, *user = NULL, *subject = NULL;
    sl_snprintf(key, sizeof(key), "%surl", info->prefix);
    sl_options_string(info->options, key, NULL, &url, err);
    sl_snprintf(key, sizeof(key), "%sschema-registry.url", info->prefix);
    sl_options_string(info->options, key, NULL, &old_url, err);
    if (!url)
        url = old_url;
    if (!url)
        return sl_err_set(err, SL_SQL,
                          "the 'avro-confluent' format requires "
                          "option '%surl'",
                          info->prefix);
    sl_snprintf(key, sizeof(key), "%sbasic-auth.user-info", info->prefix);
    sl_options_string(info->options, key, NULL, &user, err);
    sl_snprintf(key, sizeof(key), "%sbasic-auth.credentials-source",
                info->prefix);
    sl_options_mark(info->options, key);
    sl_snprintf(key, sizeof(key), "%signore-parse-errors", info->prefix);
    sl_options_mark(info->options, key);
    sl_snprintf(key, sizeof(key), "%ssubject", info->prefix);
    sl_options_string(info->options, key, NULL, &subject, err);
    if (encoding && !subject)
        return sl_err_set(err, SL_SQL,
                          "the 'avro-confluent' format needs "
                          "option '%s' to register its schema",
                          key);
    if (encoding) {
        sl_buf probe;
        sl_buf_init(&probe, 1u << 20);
        int rc = sl_avro_schema_derive(info->fmt_schema, &probe, err);
        sl_buf_free(&probe);
        if (rc)
            return rc;
    }
    avro_codec *c = sl_calloc(1, sizeof(*c));
    if (!c)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    c->dec.decode = avro_decode;
    c->dec.close = avro_close_dec;
    c->enc.encode = avro_encode;
    c->enc.close = avro_close_enc;
    c->fmt_schema = info->fmt_schema;
    c->col_map = info->col_map;
    c->write_id = -1;
    c->url = sl_strdup(url);
    c->user_info = user ? sl_strdup(user) : NULL;
    c->subject = subject ? sl_strdup(subject) : NULL;
    if (!c->url || (user && !c->user_info) || (subject && !c->subject)) {
        avro_free(c);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    *out = c;
    return SL_OK;
}

static int avro_open_decoder(const sl_format_info *info, sl_decoder **out,
                             sl_err *err)
{
    avro_codec *c = NULL;
    int rc = avro_open(info, false, &c, err);
    *out = c ? &c->dec : NULL;
    return rc;
}

static int avro_open_encoder(const sl_format_info *info, sl_encoder **out,
                             sl_err *err)
{
    avro_codec *c = NULL;
    int rc = avro_open(info, true, &c, err);
    *out = c ? &c->enc : NULL;
    return rc;
}

const sl_format sl_format_avro_confluent = {
    .version = SL_FORMAT_VERSION,
    .name = "avro-confluent",
    .options = avro_options,
    .open_decoder = avro_open_decoder,
    .open_encoder = avro_open_encoder,
};
