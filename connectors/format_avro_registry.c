/*
 * format_avro_registry.c: the Confluent Schema Registry client used by the
 * 'avro-confluent' format: fetch a writer schema by id
 * (GET /schemas/ids/{id}) and register the table's schema under a subject
 * (POST /subjects/{subject}/versions). Blocking libcurl calls with a 10 s
 * timeout; the format calls them once per new schema id or subject and
 * caches the answer, so the record path stays non-blocking in steady state.
 */
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "format_avro_int.h"

#define REGISTRY_TIMEOUT_MS 10000
#define REGISTRY_MAX_BODY   (4u << 20)

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    sl_buf *b = ctx;
    sl_buf_append(b, data, size * n);
    return b->rc ? 0 : size * n;
}

/* One request; *status receives the HTTP status. */
static int request(const char *url, const char *user_info, const char *body,
                   sl_buf *resp, long *status, sl_err *err)
{
    CURL *h = curl_easy_init();
    if (!h)
        return sl_err_set(err, SL_NOMEM, "schema registry: out of memory");
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(
        hdrs, "Content-Type: application/vnd.schemaregistry.v1+json");
    hdrs = curl_slist_append(hdrs, "Accept: application/vnd.schemaregistry."
                                   "v1+json, application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)REGISTRY_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    if (user_info && *user_info)
        curl_easy_setopt(h, CURLOPT_USERPWD, user_info);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    CURLcode c = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (c != CURLE_OK)
        return sl_err_set(err, SL_IO, "schema registry %s: %s", url,
                          curl_easy_strerror(c));
    return SL_OK;
}

static void trim_slash(const char *url, char *out, size_t size)
{
    sl_strlcpy(out, url, size);
    size_t n = strlen(out);
    while (n && out[n - 1] == '/')
        out[--n] = '\0';
}

int sl_avro_registry_get(const char *url, const char *user_info, int32_t id,
                         sl_buf *schema_text, sl_err *err)
{
    char base[1024], full[1200];
    trim_slash(url, base, sizeof(base));
    sl_snprintf(full, sizeof(full), "%s/schemas/ids/%d", base, (int)id);
    sl_buf resp;
    sl_buf_init(&resp, REGISTRY_MAX_BODY);
    long status = 0;
    int rc = request(full, user_info, NULL, &resp, &status, err);
    if (rc) {
        sl_buf_free(&resp);
        return rc;
    }
    if (status == 404) {
        sl_buf_free(&resp);
        return sl_err_set(err, SL_NOTFOUND,
                          "unknown schema id %d (the schema registry at %s "
                          "does not know it)",
                          (int)id, base);
    }
    json_t *j = status == 200 ? json_loadb(resp.data, resp.len, 0, NULL) : NULL;
    const char *s = json_string_value(json_object_get(j, "schema"));
    if (!s) {
        rc = sl_err_set(err, SL_IO,
                        "schema registry %s answered HTTP %ld without a "
                        "schema: %.200s",
                        full, status, sl_buf_cstr(&resp));
    } else {
        sl_buf_puts(schema_text, s);
        rc = schema_text->rc;
    }
    json_decref(j);
    sl_buf_free(&resp);
    return rc;
}

int sl_avro_registry_register(const char *url, const char *user_info,
                              const char *subject, const char *schema_text,
                              int32_t *id, sl_err *err)
{
    char base[1024], full[1600];
    trim_slash(url, base, sizeof(base));
    char *esc = curl_easy_escape(NULL, subject, 0);
    if (!esc)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    sl_snprintf(full, sizeof(full), "%s/subjects/%s/versions", base, esc);
    curl_free(esc);
    json_t *req = json_pack("{s:s}", "schema", schema_text);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    sl_buf resp;
    sl_buf_init(&resp, REGISTRY_MAX_BODY);
    long status = 0;
    int rc = request(full, user_info, body, &resp, &status, err);
    free(body); /* from jansson's allocator; sl: allow */
    if (rc) {
        sl_buf_free(&resp);
        return rc;
    }
    json_t *j = json_loadb(resp.data, resp.len, 0, NULL);
    json_t *jid = json_object_get(j, "id");
    if (status != 200 || !json_is_integer(jid)) {
        rc = sl_err_set(err, SL_IO,
                        "schema registry %s refused the schema (HTTP %ld): "
                        "%.200s",
                        full, status, sl_buf_cstr(&resp));
    } else {
        *id = (int32_t)json_integer_value(jid);
    }
    json_decref(j);
    sl_buf_free(&resp);
    return rc;
}
