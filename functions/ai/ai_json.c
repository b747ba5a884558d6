/*
 * ai_json.c: JSON <-> typed values for model providers.
 *
 * Model answers arrive as JSON (a chat model's structured output, an
 * embedding array, a KServe tensor, a generic HTTP body); these helpers
 * convert them into values typed per runtime/types.h, derive the JSON
 * schema sent as a chat model's response_format from the OUTPUT columns,
 * and evaluate the small JSON paths of the http provider. Every conversion
 * reports a mismatch instead of guessing, so a wrong answer becomes a row
 * error (and a corrective retry), never a wrong value.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model_int.h"

#define JSON_PATH_MAX_STEPS 32

static int text_value(sl_arena *arena, const char *s, size_t len, sl_value *out)
{
    char *d = sl_arena_strndup(arena, s, len);
    if (!d)
        return SL_NOMEM;
    out->kind = SL_V_TEXT;
    out->len = (uint32_t)len;
    out->u.s = d;
    return SL_OK;
}

static int json_text(json_t *json, sl_arena *arena, sl_value *out)
{
    char *s = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        return SL_NOMEM;
    int rc = text_value(arena, s, strlen(s), out);
    free(s); /* sl: allow */
    return rc;
}

int sl_model_json_to_value(const sl_type *type, json_t *json, sl_arena *arena,
                           sl_value *out, char *why, size_t why_size)
{
    *out = sl_value_null();
    if (!json || json_is_null(json))
        return SL_OK;
    const char *tname = sl_type_id_name(type->id);
    switch (type->id) {
    case SL_TYPE_BOOLEAN:
        if (json_is_boolean(json)) {
            *out = sl_value_int(json_is_true(json));
            return SL_OK;
        }
        if (json_is_string(json)) {
            const char *s = json_string_value(json);
            if (sl_str_ieq(s, "true") || sl_str_ieq(s, "false")) {
                *out = sl_value_int(sl_str_ieq(s, "true"));
                return SL_OK;
            }
        }
        break;
    case SL_TYPE_TINYINT:
    case SL_TYPE_SMALLINT:
    case SL_TYPE_INT:
    case SL_TYPE_BIGINT:
    case SL_TYPE_INTERVAL_DAY_TIME:
    case SL_TYPE_INTERVAL_YEAR_MONTH:
        if (json_is_integer(json)) {
            *out = sl_value_int(json_integer_value(json));
            return SL_OK;
        }
        if (json_is_real(json)) {
            double d = json_real_value(json);
            if (d == floor(d) && fabs(d) < 9.2e18) {
                *out = sl_value_int((int64_t)d);
                return SL_OK;
            }
        }
        if (json_is_string(json)) {
            int64_t n;
            const char *s = json_string_value(json);
            if (!sl_parse_int64(s, strlen(s), &n)) {
                *out = sl_value_int(n);
                return SL_OK;
            }
        }
        break;
    case SL_TYPE_FLOAT:
    case SL_TYPE_DOUBLE:
    case SL_TYPE_DECIMAL:
        if (json_is_number(json)) {
            *out = sl_value_real(json_number_value(json));
            return SL_OK;
        }
        if (json_is_string(json)) {
            double d;
            const char *s = json_string_value(json);
            if (!sl_parse_double(s, strlen(s), &d)) {
                *out = sl_value_real(d);
                return SL_OK;
            }
        }
        break;
    case SL_TYPE_CHAR:
    case SL_TYPE_VARCHAR:
        if (json_is_string(json))
            return text_value(arena, json_string_value(json),
                              json_string_length(json), out);
        return json_text(json, arena, out);
    case SL_TYPE_BINARY:
    case SL_TYPE_VARBINARY:
        if (json_is_string(json)) {
            char *d = sl_arena_strndup(arena, json_string_value(json),
                                       json_string_length(json));
            if (!d)
                return SL_NOMEM;
            out->kind = SL_V_BLOB;
            out->len = (uint32_t)json_string_length(json);
            out->u.b = d;
            return SL_OK;
        }
        break;
    case SL_TYPE_DATE:
    case SL_TYPE_TIME:
    case SL_TYPE_TIMESTAMP:
    case SL_TYPE_TIMESTAMP_LTZ:
        if (json_is_integer(json)) {
            *out = sl_value_int(json_integer_value(json));
            return SL_OK;
        }
        if (json_is_string(json)) {
            const char *s = json_string_value(json);
            size_t len = json_string_length(json);
            int64_t v;
            int rc = type->id == SL_TYPE_DATE ? sl_parse_date(s, len, &v)
                     : type->id == SL_TYPE_TIME
                         ? sl_parse_time(s, len, &v)
                         : sl_parse_timestamp(s, len, &v);
            if (!rc) {
                *out = sl_value_int(v);
                return SL_OK;
            }
        }
        break;
    case SL_TYPE_ARRAY:
        if (json_is_array(json)) {
            if (type->elem) {
                size_t i;
                json_t *e;
                json_array_foreach(json, i, e)
                {
                    sl_value tmp;
                    char sub[128];
                    sl_arena scratch;
                    sl_arena_init(&scratch, 256, 0);
                    int rc = sl_model_json_to_value(type->elem, e, &scratch,
                                                    &tmp, sub, sizeof(sub));
                    sl_arena_free(&scratch);
                    if (rc) {
                        sl_snprintf(why, why_size, "element %zu: %s", i, sub);
                        return rc;
                    }
                }
            }
            return json_text(json, arena, out);
        }
        break;
    case SL_TYPE_MAP:
    case SL_TYPE_ROW:
        if (json_is_object(json) ||
            (type->id == SL_TYPE_MAP && json_is_array(json)))
            return json_text(json, arena, out);
        break;
    default:
        return json_text(json, arena, out);
    }
    static const char *const jnames[] = {"object", "array", "string", "integer",
                                         "number", "true",  "false",  "null"};
    int jt = json_typeof(json);
    sl_snprintf(why, why_size, "expected %s, got a JSON %s", tname,
                jt >= 0 && jt < 8 ? jnames[jt] : "value");
    return SL_ERROR;
}

json_t *sl_model_value_to_json(const sl_type *type, const sl_value *value)
{
    switch (value->kind) {
    case SL_V_NULL:
        return json_null();
    case SL_V_INT:
        if (type->id == SL_TYPE_BOOLEAN)
            return json_boolean(value->u.i != 0);
        if (sl_type_is_temporal(type)) {
            sl_buf b;
            sl_buf_init(&b, 256);
            sl_value_format(type, value, &b, NULL);
            json_t *j = json_stringn(sl_buf_cstr(&b), b.len);
            sl_buf_free(&b);
            return j;
        }
        return json_integer(value->u.i);
    case SL_V_REAL:
        return json_real(value->u.d);
    case SL_V_TEXT:
        if (type->id == SL_TYPE_ARRAY || type->id == SL_TYPE_MAP ||
            type->id == SL_TYPE_ROW) {
            json_t *j =
                json_loadb(value->u.s, value->len, JSON_DECODE_ANY, NULL);
            if (j)
                return j;
        }
        return json_stringn(value->u.s, value->len);
    case SL_V_BLOB:
        return json_stringn((const char *)value->u.b, value->len);
    }
    return json_null();
}

static json_t *type_schema(const sl_type *type, int depth)
{
    json_t *s = json_object();
    if (!s || depth > 16)
        return s;
    const char *jt = "string";
    switch (type->id) {
    case SL_TYPE_BOOLEAN:
        jt = "boolean";
        break;
    case SL_TYPE_TINYINT:
    case SL_TYPE_SMALLINT:
    case SL_TYPE_INT:
    case SL_TYPE_BIGINT:
        jt = "integer";
        break;
    case SL_TYPE_FLOAT:
    case SL_TYPE_DOUBLE:
    case SL_TYPE_DECIMAL:
        jt = "number";
        break;
    case SL_TYPE_ARRAY:
        jt = "array";
        if (type->elem)
            json_object_set_new(s, "items", type_schema(type->elem, depth + 1));
        break;
    case SL_TYPE_ROW: {
        jt = "object";
        json_t *props = json_object();
        json_t *req = json_array();
        for (int i = 0; i < type->n_fields; i++) {
            json_object_set_new(props, type->fields[i].name,
                                type_schema(type->fields[i].type, depth + 1));
            json_array_append_new(req, json_string(type->fields[i].name));
        }
        json_object_set_new(s, "properties", props);
        json_object_set_new(s, "required", req);
        json_object_set_new(s, "additionalProperties", json_false());
        break;
    }
    case SL_TYPE_MAP:
        jt = "object";
        break;
    default:
        break;
    }
    json_object_set_new(s, "type", json_string(jt));
    return s;
}

json_t *sl_model_schema_for(const sl_schema *schema)
{
    json_t *s = json_object();
    json_t *props = json_object();
    json_t *req = json_array();
    for (int i = 0; i < schema->n_cols; i++) {
        json_object_set_new(props, schema->cols[i].name,
                            type_schema(schema->cols[i].type, 0));
        json_array_append_new(req, json_string(schema->cols[i].name));
    }
    json_object_set_new(s, "type", json_string("object"));
    json_object_set_new(s, "properties", props);
    json_object_set_new(s, "required", req);
    json_object_set_new(s, "additionalProperties", json_false());
    return s;
}

json_t *sl_model_json_path(json_t *root, const char *path)
{
    if (!path)
        return root;
    const char *p = path;
    if (*p == '$')
        p++;
    json_t *cur = root;
    for (int steps = 0; *p && cur; steps++) {
        if (steps >= JSON_PATH_MAX_STEPS)
            return NULL;
        if (*p == '.') {
            p++;
            const char *start = p;
            while (*p && *p != '.' && *p != '[')
                p++;
            if (p == start)
                return NULL;
            char key[256];
            size_t len = (size_t)(p - start);
            if (len >= sizeof(key))
                return NULL;
            memcpy(key, start, len);
            key[len] = '\0';
            cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
        } else if (*p == '[') {
            p++;
            if (*p == '\'' || *p == '"') {
                char q = *p++;
                const char *start = p;
                while (*p && *p != q)
                    p++;
                if (*p != q || p[1] != ']')
                    return NULL;
                char key[256];
                size_t len = (size_t)(p - start);
                if (len >= sizeof(key))
                    return NULL;
                memcpy(key, start, len);
                key[len] = '\0';
                p += 2;
                cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
            } else {
                const char *start = p;
                while (*p >= '0' && *p <= '9')
                    p++;
                int64_t idx;
                if (*p != ']' ||
                    sl_parse_int64(start, (size_t)(p - start), &idx))
                    return NULL;
                p++;
                cur = json_is_array(cur) ? json_array_get(cur, (size_t)idx)
                                         : NULL;
            }
        } else {
            return NULL;
        }
    }
    return cur;
}

int sl_model_value_text(const sl_type *type, const sl_value *value, sl_buf *out)
{
    if (value->kind == SL_V_TEXT)
        return sl_buf_append(out, value->u.s, value->len);
    return sl_value_format(type, value, out, "");
}
