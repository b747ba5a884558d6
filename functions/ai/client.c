/*
 * client.c: the async, batched, rate-limited model client (see model.h).
 *
 * Data flow: submit() copies a row into a slot (bounded: the queue refuses
 * when full, which is the operator's backpressure signal), answers it at
 * once when an input is NULL or the cache has it, parks it behind an
 * identical in-flight row (single-flight), or queues it. pump() forms
 * requests from queued rows (up to 'batch-size', waiting at most
 * 'batch-linger' for a batch to fill), admits them through the AIMD
 * concurrency window and the rpm/tpm token buckets, and hands them to one
 * curl multi handle. Sockets and timers go to the caller's loop through
 * CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION. A finished transfer is
 * classified (2xx, 429, 5xx, other 4xx, timeout, connection, invalid body)
 * and either retried after an exponential backoff with jitter (honouring
 * Retry-After) or completed; the provider parses answers into typed values.
 * next_result() hands rows out in input order (ORDERED) or as they finish
 * (ALLOW_UNORDERED) without crossing a barrier.
 *
 * Two explicit state machines, each changed only through one transition
 * function that logs at debug level (STYLE.md habits 11-12):
 *   row:     FREE -> QUEUED | FOLLOWER -> IN_REQUEST -> DONE -> FREE
 *            (FREE -> DONE directly for NULL input or a cache hit)
 *   request: FREE -> IN_FLIGHT -> BACKOFF -> READY -> IN_FLIGHT ... -> FREE
 * Every row reaches DONE exactly once, also when the client is freed
 * (as cancelled).
 */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_int.h"

#define MAX_ROWS_CAP       100000
#define MAX_BARRIERS       256
#define MAX_SECRETS        16
#define MAX_RESPONSE_BYTES (64u << 20)
#define BODY_EXCERPT       200
#define ROW_ARENA_BLOCK    1024

const int sl_model_latency_bounds_ms[SL_MODEL_LAT_BUCKETS] = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000};

/* ---- option table ------------------------------------------------------ */

static const sl_option_def common_defs[] = {
    {"provider", "string", NULL,
     "Model provider: openai, http, triton or xgboost."},
    {"async", "bool", "true",
     "Flink's async hint. Calls are always asynchronous here; 'false' is "
     "accepted and behaves the same."},
    {"max-concurrent-operations", "int", "10",
     "Upper bound on requests in flight (AIMD adapts below it on 429)."},
    {"output-mode", "enum", "ORDERED",
     "ORDERED emits rows in input order; ALLOW_UNORDERED as they complete, "
     "never across a barrier (watermark)."},
    {"timeout", "duration", "3 min",
     "Per-row deadline from submit to completion, retries included; then "
     "the error policy applies."},
    {"request-timeout", "duration", "60 s",
     "Deadline of one HTTP attempt (capped by the row deadline)."},
    {"error-handling-strategy", "enum", "RETRY",
     "RETRY transient errors, FAILOVER (fail the job) or IGNORE (NULL "
     "outputs plus metadata columns) on any error."},
    {"retry-num", "int", "100", "Retries of a transient error under RETRY."},
    {"retry-fallback-strategy", "enum", "FAILOVER",
     "What RETRY does once retries are exhausted or the error is permanent: "
     "FAILOVER or IGNORE."},
    {"retry-backoff-strategy", "enum", "EXPONENTIAL",
     "FIXED or EXPONENTIAL backoff between retries (with jitter)."},
    {"retry-backoff-base-interval", "duration", "1 s", "First backoff delay."},
    {"retry-backoff-max-interval", "duration", "60 s",
     "Largest backoff delay."},
    {"batch-size", "int", "(provider)",
     "Rows per request for providers that take arrays (embeddings, http, "
     "triton, xgboost); chat is always 1."},
    {"batch-linger", "duration", "5 ms",
     "How long a partial batch waits for more rows."},
    {"rpm", "int", "0", "Client-side requests per minute (0: unlimited)."},
    {"tpm", "int", "0",
     "Client-side tokens per minute, estimated before a call and corrected "
     "from the answer's usage (0: unlimited)."},
    {"token-budget", "int", "0",
     "Total tokens this client may spend; then submit refuses so the job "
     "pauses its source (0: unlimited)."},
    {"cache.size", "int", "0",
     "Result cache entries keyed by model, options and input (0: off); "
     "identical inputs in flight share one call."},
    {"cache.ttl", "duration", "1 h", "Lifetime of a cache entry."},
    {"error.sink", "string", NULL,
     "Dead-letter table: ignored rows are marked for it instead."},
    {"api-key", "string", NULL,
     "Bearer token (use '${ENV_VAR}'; never printed)."},
    {"header.*", "string", NULL, "Extra HTTP request headers."},
    {"http2", "enum", "auto",
     "auto (HTTP/2 over TLS when offered), prior-knowledge (h2c) or off."},
    {"tls.ca-file", "string", NULL,
     "PEM file of the certificate authorities that verify an https "
     "endpoint (default: the system's; a private or self-signed CA)."},
    {"max-response-size", "size", "16 mb", "Largest response body read."},
    {NULL, NULL, NULL, NULL},
};

const sl_option_def *sl_model_common_options(void)
{
    return common_defs;
}

enum { STRAT_RETRY, STRAT_FAILOVER, STRAT_IGNORE };

/* ---- state ------------------------------------------------------------- */

typedef enum row_state {
    ROW_FREE,
    ROW_QUEUED,
    ROW_FOLLOWER,
    ROW_IN_REQUEST,
    ROW_DONE,
} row_state;

static const char *const row_state_names[] = {"FREE", "QUEUED", "FOLLOWER",
                                              "IN_REQUEST", "DONE"};

typedef enum req_state {
    REQ_FREE,
    REQ_READY,
    REQ_IN_FLIGHT,
    REQ_BACKOFF,
} req_state;

static const char *const req_state_names[] = {"FREE", "READY", "IN_FLIGHT",
                                              "BACKOFF"};

typedef struct mreq mreq;

typedef struct mrow {
    row_state state;
    uint64_t seq;
    uint64_t index; /* submission order */
    sl_arena arena;
    sl_value *in;
    sl_value *mout; /* model columns */
    sl_value *out;  /* all OUTPUT columns (== mout without metadata) */
    sl_model_status status;
    int err_code;
    long http_status;
    char *errmsg;
    char *headers_json;
    bool from_cache;
    int64_t deadline_ms;
    /* cache / single-flight */
    char *key;
    uint64_t hash;
    struct mrow *hnext;     /* in-flight table chain */
    struct mrow *followers; /* rows waiting on this leader */
    struct mrow *fnext;
    bool is_leader;
    /* corrective retry */
    int schema_retries;
    const char *prev_answer;
    const char *feedback;
    /* lists */
    struct mrow *prev, *next;   /* live rows in submission order */
    struct mrow *qnext;         /* queue / free list */
    struct mrow *dprev, *dnext; /* done list (unordered) */
    bool in_done;
    mreq *req;
} mrow;

struct mreq {
    req_state state;
    int id;
    mrow **rows;
    int n_rows;
    CURL *easy;
    sl_buf body;
    sl_buf resp;
    sl_buf headers;
    int attempt;
    int64_t retry_at_ms;
    int64_t start_ns;
    int64_t est_tokens;
    int64_t retry_after_ms;
    int64_t deadline_ms;
    bool truncated;
    mreq *next; /* free list / ready list / backoff list */
};

typedef struct cache_entry {
    uint64_t hash;
    char *key;
    sl_value *vals; /* one block holding values and their bytes */
    int64_t expire_ms;
    struct cache_entry *hnext;
    struct cache_entry *lprev, *lnext; /* LRU: head newest */
} cache_entry;

struct sl_model_client {
    char *name;
    const sl_model_provider *provider;
    void *pstate;
    sl_model_ctx pctx;
    sl_arena arena; /* schemas, names, option copies: client lifetime */
    const sl_schema *input;
    const sl_schema *output;
    sl_schema model_out;
    int *meta_kind; /* per OUTPUT column: 0 model, 1 error-string, 2 status,
                       3 headers */
    int *model_col; /* per OUTPUT column: index in model_out or -1 */
    bool has_meta;
    bool want_headers;
    /* options */
    int64_t max_conc;
    bool unordered;
    int64_t timeout_ms, request_timeout_ms;
    int strategy, fallback;
    int64_t retry_num;
    bool backoff_exp;
    int64_t backoff_base_ms, backoff_max_ms;
    int batch_size;
    int64_t linger_ms;
    int64_t rpm, tpm, token_budget;
    int64_t cache_size, cache_ttl_ms;
    const char *error_sink;
    const char *ca_file; /* 'tls.ca-file', in arena, or NULL */
    int http2;
    int64_t max_response;
    char *secrets[MAX_SECRETS];
    int n_secrets;
    struct curl_slist *http_headers;
    char *opts_canon;
    /* rows */
    mrow *slots;
    int cap;
    mrow *free_rows;
    mrow *live_head, *live_tail;
    mrow *q_head, *q_tail;
    int n_queued;
    int64_t q_first_ms; /* when the oldest queued row arrived */
    mrow *done_head, *done_tail;
    mrow *emitted; /* handed out by the last next_result */
    uint64_t next_index;
    int64_t pending;
    uint64_t barriers[MAX_BARRIERS];
    int n_barriers;
    /* requests */
    mreq *reqs;
    int n_reqs;
    mreq *free_reqs;
    mreq *ready_head, *ready_tail;
    mreq *backoff_list;
    int in_flight;
    int64_t rows_in_flight;
    double cwnd;
    int64_t last_decrease_ms;
    /* single-flight table */
    mrow **inflight_tab;
    size_t inflight_mask;
    /* cache */
    cache_entry **cache_tab;
    size_t cache_mask;
    cache_entry *lru_head, *lru_tail;
    int64_t cache_n;
    /* rate limits */
    double rpm_tokens, tpm_tokens;
    int64_t bucket_ms;
    int64_t rate_wait_until;
    int64_t tokens_spent, tokens_reserved;
    /* curl */
    CURLM *multi;
    int64_t curl_due_ms;
    sl_model_fd *fds;
    int n_fds, cap_fds;
    sl_model_fd_cb fd_cb;
    void *fd_ctx;
    uint64_t rng;
    /* log */
    sl_model_log_fn log_fn;
    void *log_ctx;
    int log_level;
    sl_model_metrics m;
    sl_model_result last;
};

/* ---- small helpers ----------------------------------------------------- */

static uint64_t rnd(sl_model_client *c)
{
    uint64_t x = c->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c->rng = x;
    return x;
}

static uint64_t fnv1a(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Replace every secret in text with "****" (in place, bounded by size). */
static void mask_secrets(const sl_model_client *c, char *text, size_t size)
{
    for (int i = 0; i < c->n_secrets; i++) {
        const char *sec = c->secrets[i];
        size_t sl = strlen(sec);
        if (sl < 3)
            continue;
        char *p;
        while ((p = strstr(text, sec)) != NULL) {
            size_t tail = strlen(p + sl);
            memcpy(p, "****", 4);
            memmove(p + 4, p + sl, tail + 1);
            (void)size;
        }
    }
}

static void logf_(sl_model_client *c, int level, const char *fmt, ...)
    SL_PRINTF(3, 4);
static void logf_(sl_model_client *c, int level, const char *fmt, ...)
{
    if (level > c->log_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    mask_secrets(c, msg, sizeof(msg));
    if (c->log_fn)
        c->log_fn(c->log_ctx, level, msg);
    else
        fprintf(stderr, "sluice model %s: %s\n", c->name, msg);
}

static void row_set_state(sl_model_client *c, mrow *r, row_state to,
                          const char *why)
{
    if (c->log_level >= 3)
        logf_(c, 3, "row seq %llu: %s -> %s (%s)", (unsigned long long)r->seq,
              row_state_names[r->state], row_state_names[to], why);
    r->state = to;
}

static void req_set_state(sl_model_client *c, mreq *q, req_state to,
                          const char *why)
{
    if (c->log_level >= 3)
        logf_(c, 3, "request %d (%d rows, attempt %d): %s -> %s (%s)", q->id,
              q->n_rows, q->attempt, req_state_names[q->state],
              req_state_names[to], why);
    q->state = to;
}

/* ---- options ----------------------------------------------------------- */

/* Resolve ${NAME} and ${NAME:-default} references; resolved values are
 * remembered as secrets. */
static int resolve_env(sl_model_client *c, const char *key, const char *value,
                       char **out, sl_err *err)
{
    sl_buf b;
    sl_buf_init(&b, 65536);
    const char *p = value;
    while (*p) {
        const char *s = strstr(p, "${");
        if (!s) {
            sl_buf_puts(&b, p);
            break;
        }
        sl_buf_append(&b, p, (size_t)(s - p));
        const char *e = strchr(s + 2, '}');
        if (!e) {
            sl_buf_free(&b);
            return sl_err_set(err, SL_SQL,
                              "option '%s': unterminated '${' reference", key);
        }
        char var[256];
        size_t vl = (size_t)(e - s - 2);
        if (vl == 0 || vl >= sizeof(var)) {
            sl_buf_free(&b);
            return sl_err_set(err, SL_SQL,
                              "option '%s': bad environment reference", key);
        }
        memcpy(var, s + 2, vl);
        var[vl] = '\0';
        /* ${NAME:-default}: the default when NAME is unset or empty */
        const char *dflt = NULL;
        char *sep = strstr(var, ":-");
        if (sep) {
            *sep = '\0';
            dflt = sep + 2;
        }
        const char *val = getenv(var);
        if ((!val || !*val) && dflt)
            val = dflt;
        if (!val) {
            sl_buf_free(&b);
            return sl_err_set(err, SL_SQL,
                              "option '%s' references environment variable "
                              "'%s', which is not set",
                              key, var);
        }
        if (c->n_secrets < MAX_SECRETS && strlen(val) >= 3) {
            c->secrets[c->n_secrets] = sl_strdup(val);
            if (c->secrets[c->n_secrets])
                c->n_secrets++;
        }
        sl_buf_puts(&b, val);
        p = e + 1;
    }
    if (b.rc) {
        sl_buf_free(&b);
        return sl_err_set(err, SL_NOMEM, "out of memory resolving '%s'", key);
    }
    *out = sl_buf_steal(&b);
    if (!*out)
        *out = sl_strdup("");
    return *out ? SL_OK : SL_NOMEM;
}

static int add_opt(sl_model_client *c, sl_option *items, int *n, int cap,
                   const char *key, const char *value, sl_err *err)
{
    for (int i = 0; i < *n; i++) {
        if (!strcmp(items[i].key, key)) {
            char *v;
            int rc = resolve_env(c, key, value, &v, err);
            if (rc)
                return rc;
            sl_free((char *)items[i].value);
            items[i].value = v;
            return SL_OK;
        }
    }
    if (*n >= cap)
        return sl_err_set(err, SL_LIMIT, "too many options");
    char *v;
    int rc = resolve_env(c, key, value, &v, err);
    if (rc)
        return rc;
    items[*n].key = sl_strdup(key);
    items[*n].value = v;
    items[*n].used = false;
    if (!items[*n].key) {
        sl_free(v);
        return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    (*n)++;
    return SL_OK;
}

static void free_opts(sl_options *o)
{
    for (int i = 0; i < o->n; i++) {
        sl_free((char *)o->items[i].key);
        sl_free((char *)o->items[i].value);
    }
    sl_free(o->items);
    o->items = NULL;
    o->n = 0;
}

static bool def_has(const sl_option_def *defs, const char *key)
{
    for (int i = 0; defs && defs[i].key; i++)
        if (!strcmp(defs[i].key, key))
            return true;
    return false;
}

/* Canonical text of the options that shape an answer (provider options,
 * sorted, secrets excluded): part of the cache key. */
static char *canon_options(sl_model_client *c, const sl_options *o)
{
    int idx[256];
    int n = 0;
    for (int i = 0; i < o->n && n < 256; i++) {
        if (!def_has(c->provider->options, o->items[i].key) ||
            !strcmp(o->items[i].key, "api-key"))
            continue;
        idx[n++] = i;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(o->items[idx[j - 1]].key,
                                        o->items[idx[j]].key) > 0;
             j--) {
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    sl_buf b;
    sl_buf_init(&b, 1 << 20);
    for (int i = 0; i < n; i++)
        sl_buf_printf(&b, "%s=%s;", o->items[idx[i]].key,
                      o->items[idx[i]].value);
    char *s = sl_buf_steal(&b);
    return s ? s : sl_strdup("");
}

/* ---- curl callbacks ---------------------------------------------------- */

static int sock_cb(CURL *easy, curl_socket_t s, int what, void *userp,
                   void *socketp)
{
    SL_UNUSED(easy);
    SL_UNUSED(socketp);
    sl_model_client *c = userp;
    int ev = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        ev |= SL_MODEL_FD_IN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        ev |= SL_MODEL_FD_OUT;
    int i;
    for (i = 0; i < c->n_fds; i++)
        if (c->fds[i].fd == (int)s)
            break;
    if (what == CURL_POLL_REMOVE) {
        if (i < c->n_fds)
            c->fds[i] = c->fds[--c->n_fds];
        ev = 0;
    } else if (i < c->n_fds) {
        c->fds[i].events = ev;
    } else {
        if (c->n_fds == c->cap_fds) {
            int ncap = c->cap_fds ? c->cap_fds * 2 : 16;
            sl_model_fd *nf = sl_realloc(c->fds, sizeof(*nf) * (size_t)ncap);
            if (!nf)
                return -1;
            c->fds = nf;
            c->cap_fds = ncap;
        }
        c->fds[c->n_fds].fd = (int)s;
        c->fds[c->n_fds].events = ev;
        c->n_fds++;
    }
    if (c->fd_cb)
        c->fd_cb(c->fd_ctx, (int)s, ev);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    SL_UNUSED(multi);
    sl_model_client *c = userp;
    c->curl_due_ms = timeout_ms < 0 ? -1 : sl_now_ms() + timeout_ms;
    return 0;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    mreq *q = userdata;
    size_t n = size * nmemb;
    if (sl_buf_append(&q->resp, ptr, n)) {
        q->truncated = true;
        return 0; /* abort the transfer: body too large */
    }
    return n;
}

static size_t header_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    mreq *q = userdata;
    size_t n = size * nmemb;
    if (n > 12 && sl_str_nieq(ptr, 12, "retry-after:")) {
        char tmp[64];
        size_t l = SL_MIN(n - 12, sizeof(tmp) - 1);
        memcpy(tmp, ptr + 12, l);
        tmp[l] = '\0';
        double secs;
        if (!sl_parse_double(tmp, strlen(tmp), &secs) && secs >= 0 &&
            secs < 86400)
            q->retry_after_ms = (int64_t)(secs * 1000);
    }
    if (n >= 5 && !sl_str_nieq(ptr, 5, "HTTP/") && q->headers.max_len)
        sl_buf_append(&q->headers, ptr, n);
    else if (n >= 5)
        sl_buf_reset(&q->headers); /* a new response (after 100) */
    return n;
}

/* ---- rows -------------------------------------------------------------- */

static void live_remove(sl_model_client *c, mrow *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        c->live_head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        c->live_tail = r->prev;
    r->prev = r->next = NULL;
}

static void done_remove(sl_model_client *c, mrow *r)
{
    if (!r->in_done)
        return;
    if (r->dprev)
        r->dprev->dnext = r->dnext;
    else
        c->done_head = r->dnext;
    if (r->dnext)
        r->dnext->dprev = r->dprev;
    else
        c->done_tail = r->dprev;
    r->dprev = r->dnext = NULL;
    r->in_done = false;
}

static void row_release(sl_model_client *c, mrow *r)
{
    live_remove(c, r);
    done_remove(c, r);
    sl_arena_reset(&r->arena);
    r->state = ROW_FREE;
    r->qnext = c->free_rows;
    c->free_rows = r;
    c->pending--;
}

static void inflight_remove(sl_model_client *c, mrow *r)
{
    if (!c->inflight_tab || !r->is_leader)
        return;
    mrow **pp = &c->inflight_tab[r->hash & c->inflight_mask];
    while (*pp && *pp != r)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = r->hnext;
    r->hnext = NULL;
    r->is_leader = false;
}

static mrow *inflight_find(sl_model_client *c, uint64_t hash, const char *key)
{
    if (!c->inflight_tab)
        return NULL;
    for (mrow *r = c->inflight_tab[hash & c->inflight_mask]; r; r = r->hnext)
        if (r->hash == hash && !strcmp(r->key, key))
            return r;
    return NULL;
}

/* ---- cache ------------------------------------------------------------- */

static void lru_unlink(sl_model_client *c, cache_entry *e)
{
    if (e->lprev)
        e->lprev->lnext = e->lnext;
    else
        c->lru_head = e->lnext;
    if (e->lnext)
        e->lnext->lprev = e->lprev;
    else
        c->lru_tail = e->lprev;
    e->lprev = e->lnext = NULL;
}

static void lru_push(sl_model_client *c, cache_entry *e)
{
    e->lnext = c->lru_head;
    e->lprev = NULL;
    if (c->lru_head)
        c->lru_head->lprev = e;
    c->lru_head = e;
    if (!c->lru_tail)
        c->lru_tail = e;
}

static void cache_drop(sl_model_client *c, cache_entry *e)
{
    cache_entry **pp = &c->cache_tab[e->hash & c->cache_mask];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    lru_unlink(c, e);
    sl_free(e->key);
    sl_free(e->vals);
    sl_free(e);
    c->cache_n--;
}

static cache_entry *cache_find(sl_model_client *c, uint64_t hash,
                               const char *key)
{
    if (!c->cache_tab)
        return NULL;
    int64_t now = sl_now_ms();
    for (cache_entry *e = c->cache_tab[hash & c->cache_mask]; e; e = e->hnext) {
        if (e->hash == hash && !strcmp(e->key, key)) {
            if (e->expire_ms <= now) {
                cache_drop(c, e);
                return NULL;
            }
            lru_unlink(c, e);
            lru_push(c, e);
            return e;
        }
    }
    return NULL;
}

/* Copy n values and their bytes into one allocation. */
static sl_value *values_block(const sl_value *vals, int n)
{
    size_t bytes = sizeof(sl_value) * (size_t)n;
    for (int i = 0; i < n; i++)
        if (vals[i].kind == SL_V_TEXT || vals[i].kind == SL_V_BLOB)
            bytes += vals[i].len + 1;
    sl_value *out = sl_malloc(bytes ? bytes : 1);
    if (!out)
        return NULL;
    char *p = (char *)(out + n);
    for (int i = 0; i < n; i++) {
        out[i] = vals[i];
        if (vals[i].kind == SL_V_TEXT || vals[i].kind == SL_V_BLOB) {
            memcpy(p,
                   vals[i].kind == SL_V_TEXT ? (const void *)vals[i].u.s
                                             : vals[i].u.b,
                   vals[i].len);
            p[vals[i].len] = '\0';
            if (vals[i].kind == SL_V_TEXT)
                out[i].u.s = p;
            else
                out[i].u.b = p;
            p += vals[i].len + 1;
        }
    }
    return out;
}

static void cache_put(sl_model_client *c, mrow *r)
{
    if (!c->cache_tab || !r->key)
        return;
    if (cache_find(c, r->hash, r->key))
        return;
    while (c->cache_n >= c->cache_size && c->lru_tail)
        cache_drop(c, c->lru_tail);
    cache_entry *e = sl_calloc(1, sizeof(*e));
    if (!e)
        return;
    e->hash = r->hash;
    e->key = sl_strdup(r->key);
    e->vals = values_block(r->mout, c->model_out.n_cols);
    if (!e->key || !e->vals) {
        sl_free(e->key);
        sl_free(e->vals);
        sl_free(e);
        return;
    }
    e->expire_ms = sl_now_ms() + c->cache_ttl_ms;
    size_t b = e->hash & c->cache_mask;
    e->hnext = c->cache_tab[b];
    c->cache_tab[b] = e;
    lru_push(c, e);
    c->cache_n++;
}

/* ---- completion -------------------------------------------------------- */

static int copy_value(sl_arena *arena, const sl_value *src, sl_value *dst)
{
    *dst = *src;
    if (src->kind == SL_V_TEXT || src->kind == SL_V_BLOB) {
        const char *s =
            src->kind == SL_V_TEXT ? src->u.s : (const char *)src->u.b;
        char *d = sl_arena_strndup(arena, s, src->len);
        if (!d) {
            *dst = sl_value_null();
            return SL_NOMEM;
        }
        if (src->kind == SL_V_TEXT)
            dst->u.s = d;
        else
            dst->u.b = d;
    }
    return SL_OK;
}

/* Fill the OUTPUT array (model columns + metadata) from mout. */
static void fill_outputs(sl_model_client *c, mrow *r)
{
    if (!c->has_meta)
        return;
    for (int i = 0; i < c->output->n_cols; i++) {
        sl_value *v = &r->out[i];
        switch (c->meta_kind[i]) {
        case 0:
            *v = r->mout[c->model_col[i]];
            break;
        case 1:
            *v = sl_value_null();
            if (r->errmsg) {
                v->kind = SL_V_TEXT;
                v->u.s = r->errmsg;
                v->len = (uint32_t)strlen(r->errmsg);
            }
            break;
        case 2:
            *v =
                r->http_status ? sl_value_int(r->http_status) : sl_value_null();
            break;
        case 3:
            *v = sl_value_null();
            if (r->headers_json) {
                v->kind = SL_V_TEXT;
                v->u.s = r->headers_json;
                v->len = (uint32_t)strlen(r->headers_json);
            }
            break;
        }
    }
}

static void complete_row(sl_model_client *c, mrow *r, const char *why);

/* Give a follower its leader's result. */
static void settle_follower(sl_model_client *c, mrow *leader, mrow *f)
{
    f->status = leader->status;
    f->err_code = leader->err_code;
    f->http_status = leader->http_status;
    for (int i = 0; i < c->model_out.n_cols; i++)
        copy_value(&f->arena, &leader->mout[i], &f->mout[i]);
    if (leader->errmsg)
        f->errmsg =
            sl_arena_strndup(&f->arena, leader->errmsg, strlen(leader->errmsg));
    if (leader->headers_json)
        f->headers_json = sl_arena_strndup(&f->arena, leader->headers_json,
                                           strlen(leader->headers_json));
    complete_row(c, f, "single-flight leader done");
}

static void complete_row(sl_model_client *c, mrow *r, const char *why)
{
    fill_outputs(c, r);
    row_set_state(c, r, ROW_DONE, why);
    r->req = NULL;
    if (r->status == SL_MODEL_ROW_OK && r->is_leader)
        cache_put(c, r);
    if (r->is_leader) {
        inflight_remove(c, r);
        mrow *f = r->followers;
        r->followers = NULL;
        while (f) {
            mrow *n = f->fnext;
            f->fnext = NULL;
            settle_follower(c, r, f);
            f = n;
        }
    }
    if (c->unordered) {
        r->dprev = c->done_tail;
        r->dnext = NULL;
        if (c->done_tail)
            c->done_tail->dnext = r;
        else
            c->done_head = r;
        c->done_tail = r;
        r->in_done = true;
    }
}

/* Sanitized excerpt of a body for messages. */
static void excerpt(const char *body, size_t len, char *out, size_t size)
{
    size_t n = SL_MIN(len, (size_t)BODY_EXCERPT);
    n = SL_MIN(n, size - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)body[i];
        out[i] = (ch < 32 || ch == 127) ? ' ' : (char)ch;
    }
    out[n] = '\0';
    if (len > n && n > 3 && size > 4)
        memcpy(out + n - 3, "...", 4);
}

/* Final failure of one row: apply the error policy. */
static void fail_row(sl_model_client *c, mrow *r, int code, long status,
                     const char *msg, const char *headers_json)
{
    int strat = c->strategy == STRAT_RETRY ? c->fallback : c->strategy;
    char full[SL_ERR_MSG_MAX];
    sl_snprintf(full, sizeof(full), "model '%s' row %llu: %s", c->name,
                (unsigned long long)r->seq, msg);
    mask_secrets(c, full, sizeof(full));
    r->err_code = code;
    r->http_status = status;
    r->errmsg = sl_arena_strndup(&r->arena, full, strlen(full));
    if (headers_json)
        r->headers_json =
            sl_arena_strndup(&r->arena, headers_json, strlen(headers_json));
    for (int i = 0; i < c->model_out.n_cols; i++)
        r->mout[i] = sl_value_null();
    if (strat == STRAT_IGNORE)
        r->status =
            c->error_sink ? SL_MODEL_ROW_DEAD_LETTER : SL_MODEL_ROW_IGNORED;
    else
        r->status = SL_MODEL_ROW_FAILED;
    logf_(c, r->status == SL_MODEL_ROW_FAILED ? 0 : 1, "%s", full);
    complete_row(c, r, "error");
}

/* ---- requests ---------------------------------------------------------- */

static void req_release(sl_model_client *c, mreq *q)
{
    req_set_state(c, q, REQ_FREE, "released");
    q->n_rows = 0;
    q->attempt = 0;
    q->next = c->free_reqs;
    c->free_reqs = q;
}

static void ready_push(sl_model_client *c, mreq *q)
{
    q->next = NULL;
    if (c->ready_tail)
        c->ready_tail->next = q;
    else
        c->ready_head = q;
    c->ready_tail = q;
}

static char *headers_to_json(const char *raw)
{
    json_t *o = json_object();
    const char *p = raw;
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (colon) {
            char key[128];
            size_t kl = SL_MIN((size_t)(colon - p), sizeof(key) - 1);
            memcpy(key, p, kl);
            key[kl] = '\0';
            for (size_t i = 0; i < kl; i++)
                if (key[i] >= 'A' && key[i] <= 'Z')
                    key[i] = (char)(key[i] - 'A' + 'a');
            const char *v = colon + 1;
            while (v < p + len && (*v == ' ' || *v == '\t'))
                v++;
            size_t vl = (size_t)(p + len - v);
            while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
                vl--;
            json_object_set_new(o, key, json_stringn(v, vl));
        }
        p = eol ? eol + 1 : NULL;
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!s)
        return NULL;
    char *d = sl_strdup(s);
    free(s); /* sl: allow */
    return d;
}

/* Fail every row of a request and free it. */
static void req_fail(sl_model_client *c, mreq *q, int code, long status,
                     const char *msg)
{
    char *hj = c->want_headers && q->headers.len
                   ? headers_to_json(sl_buf_cstr(&q->headers))
                   : NULL;
    for (int i = 0; i < q->n_rows; i++)
        fail_row(c, q->rows[i], code, status, msg, hj);
    sl_free(hj);
    req_release(c, q);
}

static int64_t backoff_ms(sl_model_client *c, int attempt)
{
    int64_t d = c->backoff_base_ms;
    if (c->backoff_exp)
        for (int i = 1; i < attempt && d < c->backoff_max_ms; i++)
            d *= 2;
    if (d > c->backoff_max_ms)
        d = c->backoff_max_ms;
    /* jitter: uniform in [d/2, d] */
    if (d > 1)
        d = d / 2 + (int64_t)(rnd(c) % (uint64_t)(d / 2 + 1));
    return d;
}

enum { CAUSE_429, CAUSE_5XX, CAUSE_TIMEOUT, CAUSE_CONN, CAUSE_INVALID };

/* A transient failure: back off and retry, or give up per policy. */
static void req_retry_or_fail(sl_model_client *c, mreq *q, int cause, int code,
                              long status, const char *msg)
{
    int64_t now = sl_now_ms();
    int64_t delay = backoff_ms(c, q->attempt);
    if (cause == CAUSE_429 && q->retry_after_ms > delay)
        delay = q->retry_after_ms;
    bool can = c->strategy == STRAT_RETRY && q->attempt <= c->retry_num &&
               now + delay < q->deadline_ms;
    if (!can) {
        char m[SL_ERR_MSG_MAX];
        if (c->strategy == STRAT_RETRY && q->attempt > c->retry_num)
            sl_snprintf(m, sizeof(m), "%s (gave up after %d attempts)", msg,
                        q->attempt);
        else if (c->strategy == STRAT_RETRY)
            sl_snprintf(m, sizeof(m), "%s (timeout of %lld ms reached)", msg,
                        (long long)c->timeout_ms);
        else
            sl_snprintf(m, sizeof(m), "%s", msg);
        req_fail(c, q, now + delay >= q->deadline_ms ? SL_TIMEOUT : code,
                 status, m);
        return;
    }
    switch (cause) {
    case CAUSE_429:
        c->m.retries_429++;
        break;
    case CAUSE_5XX:
        c->m.retries_5xx++;
        break;
    case CAUSE_TIMEOUT:
        c->m.retries_timeout++;
        break;
    case CAUSE_CONN:
        c->m.retries_connection++;
        break;
    default:
        c->m.retries_invalid++;
        break;
    }
    q->retry_at_ms = now + delay;
    logf_(c, 2, "request %d: %s; retry %d in %lld ms", q->id, msg, q->attempt,
          (long long)delay);
    req_set_state(c, q, REQ_BACKOFF, msg);
    q->next = c->backoff_list;
    c->backoff_list = q;
}

static void aimd_decrease(sl_model_client *c)
{
    int64_t now = sl_now_ms();
    if (now - c->last_decrease_ms < 100)
        return;
    c->last_decrease_ms = now;
    c->cwnd = c->cwnd / 2 < 1 ? 1 : c->cwnd / 2;
    c->m.window_decreases++;
}

static void aimd_increase(sl_model_client *c)
{
    c->cwnd += 1.0 / c->cwnd;
    if (c->cwnd > (double)c->max_conc)
        c->cwnd = (double)c->max_conc;
}

static void record_latency(sl_model_client *c, int64_t ms)
{
    int b = 0;
    while (b < SL_MODEL_LAT_BUCKETS && ms > sl_model_latency_bounds_ms[b])
        b++;
    c->m.latency_hist[b]++;
    c->m.latency_sum_ms += (uint64_t)(ms < 0 ? 0 : ms);
}

static sl_model_row *prow_array(sl_model_client *c, mreq *q,
                                sl_model_row *stack, int n_stack)
{
    sl_model_row *pr = q->n_rows <= n_stack
                           ? stack
                           : sl_calloc((size_t)q->n_rows, sizeof(*pr));
    if (!pr)
        return NULL;
    for (int i = 0; i < q->n_rows; i++) {
        mrow *r = q->rows[i];
        memset(&pr[i], 0, sizeof(pr[i]));
        pr[i].in = r->in;
        pr[i].out = r->mout;
        pr[i].arena = &r->arena;
        pr[i].prev_answer = r->prev_answer;
        pr[i].feedback = r->feedback;
        for (int j = 0; j < c->model_out.n_cols; j++)
            r->mout[j] = sl_value_null();
    }
    return pr;
}

static void settle_tokens(sl_model_client *c, mreq *q, sl_model_usage *u)
{
    c->tokens_reserved -= q->est_tokens;
    int64_t actual = u ? u->prompt_tokens + u->completion_tokens : 0;
    if (!u || actual == 0)
        actual = q->est_tokens;
    c->tokens_spent += actual;
    if (c->tpm)
        c->tpm_tokens -= (double)(actual - q->est_tokens);
    if (u) {
        c->m.prompt_tokens += (uint64_t)u->prompt_tokens;
        c->m.completion_tokens += (uint64_t)u->completion_tokens;
    }
    q->est_tokens = 0;
}

static void handle_success(sl_model_client *c, mreq *q)
{
    sl_model_row stack[8];
    sl_model_row *pr = prow_array(c, q, stack, 8);
    if (!pr) {
        req_fail(c, q, SL_NOMEM, 200, "out of memory parsing the answer");
        return;
    }
    sl_model_usage usage = {0, 0};
    sl_err perr;
    sl_err_clear(&perr);
    int rc = c->provider->parse(c->pstate, q->resp.data ? q->resp.data : "",
                                q->resp.len, pr, q->n_rows, &usage, &perr);
    settle_tokens(c, q, &usage);
    if (rc) {
        char ex[BODY_EXCERPT + 4];
        excerpt(sl_buf_cstr(&q->resp), q->resp.len, ex, sizeof(ex));
        char msg[SL_ERR_MSG_MAX];
        sl_snprintf(msg, sizeof(msg),
                    "HTTP 200 with an unreadable answer: "
                    "%s; body: %s",
                    perr.msg, ex);
        if (pr != stack)
            sl_free(pr);
        req_retry_or_fail(c, q, CAUSE_INVALID, SL_IO, 200, msg);
        return;
    }
    /* A chat request carries one row; a corrective retry re-sends it. */
    if (q->n_rows == 1 && pr[0].err_code && pr[0].err_schema &&
        q->rows[0]->schema_retries == 0 && c->strategy != STRAT_FAILOVER) {
        mrow *r = q->rows[0];
        r->schema_retries++;
        r->prev_answer = pr[0].answer;
        r->feedback = sl_arena_strndup(&r->arena, pr[0].err, strlen(pr[0].err));
        c->m.retries_schema++;
        if (pr != stack)
            sl_free(pr);
        req_set_state(c, q, REQ_READY, "answer did not fit the schema");
        ready_push(c, q);
        q->attempt = 0;
        return;
    }
    for (int i = 0; i < q->n_rows; i++) {
        mrow *r = q->rows[i];
        if (pr[i].err_code) {
            fail_row(c, r, pr[i].err_code, 200, pr[i].err, NULL);
        } else {
            r->status = SL_MODEL_ROW_OK;
            r->http_status = 200;
            complete_row(c, r, "answered");
        }
    }
    if (pr != stack)
        sl_free(pr);
    req_release(c, q);
}

static void handle_done(sl_model_client *c, mreq *q, CURLcode cc)
{
    long status = 0;
    curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(c->multi, q->easy);
    c->in_flight--;
    c->rows_in_flight -= q->n_rows;
    int64_t ms = (sl_mono_ns() - q->start_ns) / 1000000;
    record_latency(c, ms);
    char msg[SL_ERR_MSG_MAX];
    const char *url = c->provider->url(c->pstate);
    if (cc != CURLE_OK) {
        settle_tokens(c, q, NULL);
        if (q->truncated) {
            sl_snprintf(msg, sizeof(msg),
                        "answer from %s larger than max-response-size", url);
            req_fail(c, q, SL_LIMIT, status, msg);
            return;
        }
        sl_snprintf(msg, sizeof(msg), "%s: %s", url, curl_easy_strerror(cc));
        int cause = cc == CURLE_OPERATION_TIMEDOUT ? CAUSE_TIMEOUT : CAUSE_CONN;
        req_retry_or_fail(c, q, cause,
                          cause == CAUSE_TIMEOUT ? SL_TIMEOUT : SL_IO, status,
                          msg);
        return;
    }
    if (status >= 200 && status < 300) {
        aimd_increase(c);
        handle_success(c, q);
        return;
    }
    settle_tokens(c, q, NULL);
    char ex[BODY_EXCERPT + 4];
    excerpt(sl_buf_cstr(&q->resp), q->resp.len, ex, sizeof(ex));
    sl_snprintf(msg, sizeof(msg), "HTTP %ld from %s: %s", status, url, ex);
    if (status == 429) {
        aimd_decrease(c);
        req_retry_or_fail(c, q, CAUSE_429, SL_IO, status, msg);
    } else if (status >= 500) {
        req_retry_or_fail(c, q, CAUSE_5XX, SL_IO, status, msg);
    } else {
        req_fail(c, q, SL_RUNTIME, status, msg); /* permanent */
    }
}

static void check_done(sl_model_client *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        mreq *q = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&q);
        if (q)
            handle_done(c, q, msg->data.result);
    }
}

/* True when libcurl cannot reuse an h2c (prior knowledge) connection. */
static bool h2c_reuse_broken(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    return v && v->version_num < 0x080000;
}

static int setup_easy(sl_model_client *c, mreq *q)
{
    if (q->easy)
        return SL_OK;
    q->easy = curl_easy_init();
    if (!q->easy)
        return SL_NOMEM;
    CURL *e = q->easy;
    curl_easy_setopt(e, CURLOPT_URL, c->provider->url(c->pstate));
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)q);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->http_headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, q);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, q);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (c->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    if (c->http2 == 0) {
        /* wait for the first connection's ALPN answer rather than open one
         * connection per concurrent request: h2 then multiplexes them all
         * on it (an HTTP/1.1 server costs one round of waiting) */
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    } else if (c->http2 == 1) {
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                         CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
        if (h2c_reuse_broken()) {
            /* libcurl before 8.0.0 fails every request that reuses a
             * prior-knowledge connection ("Error in the HTTP2 framing
             * layer", curl issue 10634, fixed in 8.0.0): one connection
             * per request there, HTTP/2 without multiplexing */
            curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
            curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        } else {
            curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
        }
    } else {
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    }
    return SL_OK;
}

static int64_t estimate_tokens(const sl_buf *body)
{
    return (int64_t)(body->len / 4) + 1;
}

/* Refill the token buckets; true when a request of est tokens may go. */
static bool rate_permit(sl_model_client *c, int64_t est, int64_t now)
{
    if (!c->rpm && !c->tpm)
        return true;
    double dt = (double)(now - c->bucket_ms) / 60000.0;
    c->bucket_ms = now;
    double rcap = c->rpm ? SL_MAX(1.0, (double)c->rpm / 60.0) : 0;
    double tcap = c->tpm ? SL_MAX(1.0, (double)c->tpm / 60.0) : 0;
    if (c->rpm)
        c->rpm_tokens = SL_MIN(rcap, c->rpm_tokens + dt * (double)c->rpm);
    if (c->tpm)
        c->tpm_tokens = SL_MIN(tcap, c->tpm_tokens + dt * (double)c->tpm);
    int64_t wait = 0;
    if (c->rpm && c->rpm_tokens < 1.0)
        wait = (int64_t)ceil((1.0 - c->rpm_tokens) * 60000.0 / (double)c->rpm);
    if (c->tpm) {
        double need = SL_MIN((double)est, tcap);
        if (c->tpm_tokens < need) {
            int64_t w = (int64_t)ceil((need - c->tpm_tokens) * 60000.0 /
                                      (double)c->tpm);
            wait = SL_MAX(wait, w);
        }
    }
    if (wait > 0) {
        c->rate_wait_until = now + SL_MAX(wait, 1);
        c->m.rate_limited_waits++;
        return false;
    }
    if (c->rpm)
        c->rpm_tokens -= 1.0;
    if (c->tpm)
        c->tpm_tokens -= (double)est;
    c->rate_wait_until = 0;
    return true;
}

/* Build (or rebuild) the body of q. */
static int build_body(sl_model_client *c, mreq *q, sl_err *err)
{
    sl_model_row stack[8];
    sl_model_row *pr = prow_array(c, q, stack, 8);
    if (!pr)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    sl_buf_reset(&q->body);
    int rc = c->provider->build(c->pstate, pr, q->n_rows, &q->body, err);
    if (!rc && q->body.rc)
        rc = sl_err_set(err, q->body.rc, "request body too large");
    if (pr != stack)
        sl_free(pr);
    return rc;
}

/* Put q on the wire. Returns false when the rate limiter holds it. */
static bool req_start(sl_model_client *c, mreq *q, int64_t now)
{
    sl_err err;
    sl_err_clear(&err);
    if (build_body(c, q, &err)) {
        req_fail(c, q, err.code, 0, err.msg);
        return true;
    }
    int64_t est = estimate_tokens(&q->body);
    if (!rate_permit(c, est, now))
        return false;
    if (setup_easy(c, q)) {
        req_fail(c, q, SL_NOMEM, 0, "out of memory creating a transfer");
        return true;
    }
    q->est_tokens = est;
    c->tokens_reserved += est;
    int64_t left = q->deadline_ms - now;
    int64_t tmo = SL_MIN(left, c->request_timeout_ms);
    if (tmo < 1)
        tmo = 1;
    sl_buf_reset(&q->resp);
    sl_buf_reset(&q->headers);
    q->retry_after_ms = 0;
    q->truncated = false;
    curl_easy_setopt(q->easy, CURLOPT_POSTFIELDS, q->body.data);
    curl_easy_setopt(q->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)q->body.len);
    curl_easy_setopt(q->easy, CURLOPT_TIMEOUT_MS, (long)tmo);
    q->attempt++;
    q->start_ns = sl_mono_ns();
    if (curl_multi_add_handle(c->multi, q->easy) != CURLM_OK) {
        settle_tokens(c, q, NULL);
        req_fail(c, q, SL_IO, 0, "could not start a transfer");
        return true;
    }
    c->in_flight++;
    c->rows_in_flight += q->n_rows;
    c->m.requests++;
    req_set_state(c, q, REQ_IN_FLIGHT, "sent");
    return true;
}

/* Take up to batch-size queued rows into a new request. */
static mreq *form_request(sl_model_client *c)
{
    mreq *q = c->free_reqs;
    if (!q || !c->q_head)
        return NULL;
    c->free_reqs = q->next;
    q->next = NULL;
    q->n_rows = 0;
    q->attempt = 0;
    q->deadline_ms = INT64_MAX;
    while (c->q_head && q->n_rows < c->batch_size) {
        mrow *r = c->q_head;
        c->q_head = r->qnext;
        if (!c->q_head)
            c->q_tail = NULL;
        r->qnext = NULL;
        c->n_queued--;
        r->req = q;
        q->rows[q->n_rows++] = r;
        if (r->deadline_ms < q->deadline_ms)
            q->deadline_ms = r->deadline_ms;
        row_set_state(c, r, ROW_IN_REQUEST, "batched");
    }
    c->q_first_ms = sl_now_ms();
    req_set_state(c, q, REQ_READY, "formed");
    return q;
}

static void run_local(sl_model_client *c, int64_t now)
{
    while (c->q_head) {
        if (c->n_queued < c->batch_size && now - c->q_first_ms < c->linger_ms)
            return;
        mreq *q = form_request(c);
        if (!q)
            return;
        sl_model_row stack[8];
        sl_model_row *pr = prow_array(c, q, stack, 8);
        sl_err err;
        sl_err_clear(&err);
        int64_t t0 = sl_mono_ns();
        int rc = pr ? c->provider->predict(c->pstate, pr, q->n_rows, &err)
                    : sl_err_set(&err, SL_NOMEM, "out of memory");
        c->m.requests++;
        record_latency(c, (sl_mono_ns() - t0) / 1000000);
        q->attempt = 1;
        if (rc) {
            if (pr && pr != stack)
                sl_free(pr);
            req_fail(c, q, rc, 0, err.msg);
            continue;
        }
        for (int i = 0; i < q->n_rows; i++) {
            mrow *r = q->rows[i];
            if (pr[i].err_code) {
                fail_row(c, r, pr[i].err_code, 0, pr[i].err, NULL);
            } else {
                r->status = SL_MODEL_ROW_OK;
                complete_row(c, r, "predicted");
            }
        }
        if (pr != stack)
            sl_free(pr);
        req_release(c, q);
    }
}

static void pump(sl_model_client *c)
{
    int64_t now = sl_now_ms();
    /* Rows whose deadline passed while queued. */
    while (c->q_head && c->q_head->deadline_ms <= now) {
        mrow *r = c->q_head;
        c->q_head = r->qnext;
        if (!c->q_head)
            c->q_tail = NULL;
        r->qnext = NULL;
        c->n_queued--;
        char m[128];
        sl_snprintf(m, sizeof(m), "timed out after %lld ms while queued",
                    (long long)c->timeout_ms);
        fail_row(c, r, SL_TIMEOUT, 0, m, NULL);
    }
    if (c->provider->is_local) {
        run_local(c, now);
        return;
    }
    /* Backoffs that are due become ready (or time out). */
    mreq **pp = &c->backoff_list;
    while (*pp) {
        mreq *q = *pp;
        if (q->retry_at_ms <= now) {
            *pp = q->next;
            if (q->deadline_ms <= now) {
                char m[128];
                sl_snprintf(m, sizeof(m),
                            "timed out after %lld ms (%d attempts)",
                            (long long)c->timeout_ms, q->attempt);
                req_fail(c, q, SL_TIMEOUT, 0, m);
            } else {
                req_set_state(c, q, REQ_READY, "backoff over");
                ready_push(c, q);
            }
        } else {
            pp = &q->next;
        }
    }
    if (c->rate_wait_until > now)
        return;
    while (c->in_flight < (int)c->cwnd) {
        mreq *q = c->ready_head;
        if (q) {
            c->ready_head = q->next;
            if (!c->ready_head)
                c->ready_tail = NULL;
            q->next = NULL;
        } else {
            if (!c->q_head)
                break;
            bool full = c->n_queued >= c->batch_size;
            if (!full && c->batch_size > 1 &&
                now - c->q_first_ms < c->linger_ms)
                break;
            q = form_request(c);
            if (!q)
                break;
        }
        if (!req_start(c, q, now)) {
            /* rate limited: put it back at the front */
            q->next = c->ready_head;
            c->ready_head = q;
            if (!c->ready_tail)
                c->ready_tail = q;
            break;
        }
    }
}

/* ---- construction ------------------------------------------------------ */

static int parse_meta(sl_model_client *c, const sl_model_def *def, sl_err *err)
{
    int n = c->output->n_cols;
    c->meta_kind = sl_arena_alloc(&c->arena, sizeof(int) * (size_t)(n + 1));
    c->model_col = sl_arena_alloc(&c->arena, sizeof(int) * (size_t)(n + 1));
    sl_column *mcols =
        sl_arena_alloc(&c->arena, sizeof(sl_column) * (size_t)(n + 1));
    if (!c->meta_kind || !c->model_col || !mcols)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    int nm = 0;
    for (int i = 0; i < n; i++) {
        const char *k = def->output_metadata ? def->output_metadata[i] : NULL;
        c->meta_kind[i] = 0;
        c->model_col[i] = -1;
        if (!k) {
            c->model_col[i] = nm;
            mcols[nm++] = c->output->cols[i];
            continue;
        }
        const sl_type *t = c->output->cols[i].type;
        if (!strcmp(k, "error-string")) {
            c->meta_kind[i] = 1;
            if (!sl_type_is_string(t))
                return sl_err_set(err, SL_SQL,
                                  "metadata column '%s' ('error-string') "
                                  "must be STRING",
                                  c->output->cols[i].name);
        } else if (!strcmp(k, "http-status-code")) {
            c->meta_kind[i] = 2;
            if (!sl_type_is_integer(t))
                return sl_err_set(err, SL_SQL,
                                  "metadata column '%s' ('http-status-code') "
                                  "must be INT",
                                  c->output->cols[i].name);
        } else if (!strcmp(k, "http-headers-map")) {
            c->meta_kind[i] = 3;
            c->want_headers = true;
            if (t->id != SL_TYPE_MAP && !sl_type_is_string(t))
                return sl_err_set(err, SL_SQL,
                                  "metadata column '%s' ('http-headers-map') "
                                  "must be MAP<STRING, STRING>",
                                  c->output->cols[i].name);
        } else {
            return sl_err_set(err, SL_SQL,
                              "unknown metadata key '%s' for model '%s' "
                              "(supported: 'error-string', "
                              "'http-status-code', 'http-headers-map')",
                              k, c->name);
        }
        c->has_meta = true;
    }
    if (nm == 0)
        return sl_err_set(err, SL_SQL,
                          "model '%s' needs at least one OUTPUT column that "
                          "is not METADATA",
                          c->name);
    c->model_out.n_cols = nm;
    c->model_out.cols = mcols;
    return SL_OK;
}

static int read_options(sl_model_client *c, sl_options *o, sl_err *err)
{
    static const char *const modes[] = {"ORDERED", "ALLOW_UNORDERED", NULL};
    static const char *const strats[] = {"RETRY", "FAILOVER", "IGNORE", NULL};
    static const char *const fallbacks[] = {"FAILOVER", "IGNORE", NULL};
    static const char *const backoffs[] = {"FIXED", "EXPONENTIAL", NULL};
    static const char *const h2[] = {"auto", "prior-knowledge", "off", NULL};
    bool async_hint;
    int mode, fb, bo;
    int rc = sl_options_bool(o, "async", true, &async_hint, err);
    if (!rc)
        rc = sl_options_int(o, "max-concurrent-operations", 10, 1, 65536,
                            &c->max_conc, err);
    if (!rc)
        rc = sl_options_enum(o, "output-mode", modes, 0, &mode, err);
    if (!rc)
        rc = sl_options_duration_ms(o, "timeout", 180000, &c->timeout_ms, err);
    if (!rc)
        rc = sl_options_duration_ms(o, "request-timeout", 60000,
                                    &c->request_timeout_ms, err);
    if (!rc)
        rc = sl_options_enum(o, "error-handling-strategy", strats, 0,
                             &c->strategy, err);
    if (!rc)
        rc =
            sl_options_int(o, "retry-num", 100, 0, 1000000, &c->retry_num, err);
    if (!rc)
        rc = sl_options_enum(o, "retry-fallback-strategy", fallbacks, 0, &fb,
                             err);
    if (!rc)
        rc =
            sl_options_enum(o, "retry-backoff-strategy", backoffs, 1, &bo, err);
    if (!rc)
        rc = sl_options_duration_ms(o, "retry-backoff-base-interval", 1000,
                                    &c->backoff_base_ms, err);
    if (!rc)
        rc = sl_options_duration_ms(o, "retry-backoff-max-interval", 60000,
                                    &c->backoff_max_ms, err);
    if (!rc)
        rc = sl_options_duration_ms(o, "batch-linger", 5, &c->linger_ms, err);
    if (!rc)
        rc = sl_options_int(o, "rpm", 0, 0, INT64_MAX / 2, &c->rpm, err);
    if (!rc)
        rc = sl_options_int(o, "tpm", 0, 0, INT64_MAX / 2, &c->tpm, err);
    if (!rc)
        rc = sl_options_int(o, "token-budget", 0, 0, INT64_MAX / 2,
                            &c->token_budget, err);
    if (!rc)
        rc = sl_options_int(o, "cache.size", 0, 0, 10000000, &c->cache_size,
                            err);
    if (!rc)
        rc = sl_options_duration_ms(o, "cache.ttl", 3600000, &c->cache_ttl_ms,
                                    err);
    if (!rc)
        rc = sl_options_string(o, "error.sink", NULL, &c->error_sink, err);
    if (!rc)
        rc = sl_options_enum(o, "http2", h2, 0, &c->http2, err);
    if (!rc)
        rc = sl_options_string(o, "tls.ca-file", NULL, &c->ca_file, err);
    if (!rc)
        rc = sl_options_bytes(o, "max-response-size", 16 << 20,
                              &c->max_response, err);
    if (rc)
        return rc;
    if (c->timeout_ms <= 0 || c->request_timeout_ms <= 0)
        return sl_err_set(err, SL_SQL, "option 'timeout' must be positive");
    if (c->max_response <= 0 || c->max_response > MAX_RESPONSE_BYTES)
        return sl_err_set(err, SL_SQL,
                          "option 'max-response-size' must be between 1 "
                          "byte and 64 mb");
    if (c->backoff_max_ms < c->backoff_base_ms)
        c->backoff_max_ms = c->backoff_base_ms;
    if (c->error_sink) {
        c->error_sink =
            sl_arena_strndup(&c->arena, c->error_sink, strlen(c->error_sink));
    }
    if (c->ca_file) {
        c->ca_file =
            sl_arena_strndup(&c->arena, c->ca_file, strlen(c->ca_file));
        if (!c->ca_file)
            return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    c->unordered = mode == 1;
    c->fallback = fb == 0 ? STRAT_FAILOVER : STRAT_IGNORE;
    c->backoff_exp = bo == 1;
    return SL_OK;
}

static int build_headers(void *ctx, const char *subkey, const char *value,
                         sl_err *err)
{
    sl_model_client *c = ctx;
    if (!*subkey || strchr(subkey, ':') || strchr(subkey, '\n') ||
        strchr(value, '\n') || strchr(value, '\r'))
        return sl_err_set(err, SL_SQL, "bad header option 'header.%s'", subkey);
    char *h = sl_asprintf("%s: %s", subkey, value);
    if (!h)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    struct curl_slist *n = curl_slist_append(c->http_headers, h);
    sl_free(h);
    if (!n)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    c->http_headers = n;
    return SL_OK;
}

static const sl_schema *copy_schema(sl_arena *arena, const sl_schema *s)
{
    sl_schema *d = sl_arena_alloc(arena, sizeof(*d));
    sl_column *cols =
        sl_arena_alloc(arena, sizeof(sl_column) * (size_t)(s->n_cols + 1));
    if (!d || !cols)
        return NULL;
    for (int i = 0; i < s->n_cols; i++) {
        cols[i].type = s->cols[i].type; /* types outlive the job (catalog) */
        cols[i].name =
            sl_arena_strndup(arena, s->cols[i].name, strlen(s->cols[i].name));
        if (!cols[i].name)
            return NULL;
    }
    d->n_cols = s->n_cols;
    d->cols = cols;
    return d;
}

static int client_init(sl_model_client *c, const sl_model_def *def,
                       sl_options *call_opts, sl_err *err)
{
    if (!def || !def->name || !def->input || !def->output)
        return sl_err_set(err, SL_MISUSE, "incomplete model definition");
    c->name = sl_strdup(def->name);
    if (!c->name)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    const char *lvl = getenv("SLUICE_MODEL_LOG");
    c->log_level = lvl && *lvl >= '0' && *lvl <= '3' ? *lvl - '0' : -1;
    c->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)sl_mono_ns();
    c->input = copy_schema(&c->arena, def->input);
    c->output = copy_schema(&c->arena, def->output);
    if (!c->input || !c->output)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    if (c->input->n_cols < 1)
        return sl_err_set(err, SL_SQL, "model '%s' has no INPUT columns",
                          c->name);
    int rc = parse_meta(c, def, err);
    if (rc)
        return rc;

    /* Merge options: model WITH options, then call options on top. */
    int cap = (def->options ? def->options->n : 0) +
              (call_opts ? call_opts->n : 0) + 2;
    sl_options merged = {0, sl_calloc((size_t)cap, sizeof(sl_option))};
    if (!merged.items)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    for (int i = 0; !rc && def->options && i < def->options->n; i++)
        rc =
            add_opt(c, merged.items, &merged.n, cap, def->options->items[i].key,
                    def->options->items[i].value, err);
    for (int i = 0; !rc && call_opts && i < call_opts->n; i++)
        rc = add_opt(c, merged.items, &merged.n, cap, call_opts->items[i].key,
                     call_opts->items[i].value, err);
    const char *pname = def->provider;
    if (!rc) {
        const char *p = sl_options_get(&merged, "provider");
        if (p)
            pname = p;
        if (!pname)
            rc = sl_err_set(err, SL_SQL,
                            "model '%s' requires option "
                            "'provider'",
                            c->name);
    }
    if (!rc) {
        c->provider = sl_model_provider_find(pname);
        if (!c->provider) {
            const char *best = NULL;
            int bd = 4;
            for (int i = 0; i < sl_model_provider_count(); i++) {
                int d =
                    sl_edit_distance(pname, sl_model_provider_at(i)->name, 3);
                if (d < bd) {
                    bd = d;
                    best = sl_model_provider_at(i)->name;
                }
            }
            rc = best ? sl_err_set(err, SL_SQL,
                                   "unknown model provider '%s' (did you "
                                   "mean '%s'?)",
                                   pname, best)
                      : sl_err_set(err, SL_SQL,
                                   "unknown model provider '%s' (supported: "
                                   "openai, http, triton, xgboost)",
                                   pname);
        }
    }
    if (!rc)
        rc = read_options(c, &merged, err);
    const char *api_key = NULL;
    if (!rc)
        rc = sl_options_string(&merged, "api-key", NULL, &api_key, err);
    if (!rc && api_key && c->n_secrets < MAX_SECRETS) {
        c->secrets[c->n_secrets] = sl_strdup(api_key);
        if (c->secrets[c->n_secrets])
            c->n_secrets++;
    }
    if (!rc) {
        c->pctx.name = c->name;
        c->pctx.input = c->input;
        c->pctx.output = &c->model_out;
        rc = c->provider->open(&c->pctx, &merged, &c->pstate, err);
    }
    if (!rc) {
        int dflt = 1, max = 1;
        c->provider->batch_limits(c->pstate, &dflt, &max);
        int64_t bs;
        rc = sl_options_int(&merged, "batch-size", dflt, 1, max, &bs, err);
        c->batch_size = (int)bs;
    }
    if (!rc && !c->provider->is_local) {
        c->http_headers =
            curl_slist_append(NULL, "Content-Type: application/json");
        if (c->http_headers)
            c->http_headers = curl_slist_append(c->http_headers, "Expect:");
        if (api_key && c->http_headers) {
            char *h = sl_asprintf("Authorization: Bearer %s", api_key);
            struct curl_slist *n =
                h ? curl_slist_append(c->http_headers, h) : NULL;
            sl_free(h);
            if (n)
                c->http_headers = n;
            else
                rc = sl_err_set(err, SL_NOMEM, "out of memory");
        }
        if (!rc && !c->http_headers)
            rc = sl_err_set(err, SL_NOMEM, "out of memory");
        if (!rc)
            rc = sl_options_each_prefix(&merged, "header.", build_headers, c,
                                        err);
    }
    if (!rc) {
        /* Unknown keys: check against common + provider tables. */
        int nc = 0, np = 0;
        while (common_defs[nc].key)
            nc++;
        while (c->provider->options && c->provider->options[np].key)
            np++;
        sl_option_def *all = sl_calloc((size_t)(nc + np + 1), sizeof(*all));
        if (!all) {
            rc = sl_err_set(err, SL_NOMEM, "out of memory");
        } else {
            memcpy(all, common_defs, sizeof(*all) * (size_t)nc);
            if (np)
                memcpy(all + nc, c->provider->options,
                       sizeof(*all) * (size_t)np);
            char what[300];
            sl_snprintf(what, sizeof(what), "model '%s' (provider '%s')",
                        c->name, c->provider->name);
            rc = sl_options_check_unused(&merged, what, all, err);
            sl_free(all);
        }
    }
    if (!rc) {
        c->opts_canon = canon_options(c, &merged);
        if (!c->opts_canon)
            rc = sl_err_set(err, SL_NOMEM, "out of memory");
    }
    free_opts(&merged);
    if (rc)
        return rc;

    /* Slots and requests. */
    int64_t cap_rows = (c->max_conc + 1) * (int64_t)c->batch_size;
    if (cap_rows > MAX_ROWS_CAP)
        cap_rows = MAX_ROWS_CAP;
    c->cap = (int)cap_rows;
    c->slots = sl_calloc((size_t)c->cap, sizeof(mrow));
    c->n_reqs = c->cap;
    c->reqs = sl_calloc((size_t)c->n_reqs, sizeof(mreq));
    if (!c->slots || !c->reqs)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    for (int i = c->cap - 1; i >= 0; i--) {
        mrow *r = &c->slots[i];
        sl_arena_init(&r->arena, ROW_ARENA_BLOCK, 0);
        r->qnext = c->free_rows;
        c->free_rows = r;
    }
    for (int i = c->n_reqs - 1; i >= 0; i--) {
        mreq *q = &c->reqs[i];
        q->id = i;
        q->rows = sl_calloc((size_t)c->batch_size, sizeof(mrow *));
        if (!q->rows)
            return sl_err_set(err, SL_NOMEM, "out of memory");
        sl_buf_init(&q->body, 64u << 20);
        sl_buf_init(&q->resp, (size_t)c->max_response);
        sl_buf_init(&q->headers, c->want_headers ? 16384 : 0);
        if (!c->want_headers)
            q->headers.max_len = 0;
        q->next = c->free_reqs;
        c->free_reqs = q;
    }
    if (c->cache_size > 0) {
        size_t n = 16;
        while (n < (size_t)c->cache_size * 2)
            n *= 2;
        c->cache_tab = sl_calloc(n, sizeof(cache_entry *));
        c->cache_mask = n - 1;
        size_t m = 16;
        while (m < (size_t)c->cap * 2)
            m *= 2;
        c->inflight_tab = sl_calloc(m, sizeof(mrow *));
        c->inflight_mask = m - 1;
        if (!c->cache_tab || !c->inflight_tab)
            return sl_err_set(err, SL_NOMEM, "out of memory");
    }
    c->cwnd = (double)c->max_conc;
    c->rpm_tokens = c->rpm ? SL_MAX(1.0, (double)c->rpm / 60.0) : 0;
    c->tpm_tokens = c->tpm ? SL_MAX(1.0, (double)c->tpm / 60.0) : 0;
    c->bucket_ms = sl_now_ms();
    c->curl_due_ms = -1;
    if (!c->provider->is_local) {
        c->multi = curl_multi_init();
        if (!c->multi)
            return sl_err_set(err, SL_NOMEM, "out of memory");
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
        curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
        curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS,
                          (long)SL_MIN(c->max_conc + 4, 10000));
    }
    return SL_OK;
}

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

sl_model_client *sl_model_client_new(const sl_model_def *def,
                                     sl_options *call_opts, sl_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init_once);
    sl_model_client *c = sl_calloc(1, sizeof(*c));
    if (!c) {
        sl_err_set(err, SL_NOMEM, "out of memory");
        return NULL;
    }
    sl_arena_init(&c->arena, 4096, 0);
    int rc = client_init(c, def, call_opts, err);
    if (rc) {
        mask_secrets(c, err->msg, sizeof(err->msg));
        sl_model_client_free(c);
        return NULL;
    }
    logf_(c, 2, "provider %s, max-concurrent-operations %lld, batch-size %d",
          c->provider->name, (long long)c->max_conc, c->batch_size);
    return c;
}

void sl_model_client_free(sl_model_client *c)
{
    if (!c)
        return;
    /* Cancel: every row not yet handed out completes once, as cancelled. */
    for (int i = 0; c->reqs && i < c->n_reqs; i++) {
        mreq *q = &c->reqs[i];
        if (q->state == REQ_IN_FLIGHT && c->multi) {
            curl_multi_remove_handle(c->multi, q->easy);
            c->in_flight--;
        }
        if (q->state != REQ_FREE)
            req_set_state(c, q, REQ_FREE, "cancelled");
    }
    for (int i = 0; c->slots && i < c->cap; i++) {
        mrow *r = &c->slots[i];
        if (r->state != ROW_FREE && r->state != ROW_DONE)
            row_set_state(c, r, ROW_DONE, "cancelled");
        sl_arena_free(&r->arena);
    }
    for (int i = 0; c->reqs && i < c->n_reqs; i++) {
        mreq *q = &c->reqs[i];
        if (q->easy)
            curl_easy_cleanup(q->easy);
        sl_buf_free(&q->body);
        sl_buf_free(&q->resp);
        sl_buf_free(&q->headers);
        sl_free(q->rows);
    }
    if (c->multi)
        curl_multi_cleanup(c->multi);
    while (c->lru_head)
        cache_drop(c, c->lru_head);
    if (c->provider && c->pstate)
        c->provider->close(c->pstate);
    curl_slist_free_all(c->http_headers);
    for (int i = 0; i < c->n_secrets; i++)
        sl_free(c->secrets[i]);
    sl_free(c->cache_tab);
    sl_free(c->inflight_tab);
    sl_free(c->slots);
    sl_free(c->reqs);
    sl_free(c->fds);
    sl_free(c->opts_canon);
    sl_free(c->name);
    sl_arena_free(&c->arena);
    sl_free(c);
}

/* ---- submit / results -------------------------------------------------- */

static int key_for(sl_model_client *c, const sl_value *inputs, sl_buf *out)
{
    sl_buf_printf(out, "v1\x1f%s\x1f%s\x1f%s\x1f", c->name, c->provider->name,
                  c->opts_canon);
    json_t *arr = json_array();
    for (int i = 0; i < c->input->n_cols; i++)
        json_array_append_new(
            arr, sl_model_value_to_json(c->input->cols[i].type, &inputs[i]));
    char *s = json_dumps(arr, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(arr);
    if (!s)
        return SL_NOMEM;
    sl_buf_puts(out, s);
    free(s); /* sl: allow */
    return out->rc;
}

int sl_model_client_cache_key(sl_model_client *c, const sl_value *inputs,
                              sl_buf *out)
{
    if (!c || !inputs || !out)
        return SL_MISUSE;
    return key_for(c, inputs, out);
}

int sl_model_client_submit(sl_model_client *c, uint64_t seq,
                           const sl_value *inputs, sl_err *err)
{
    if (!c || !inputs)
        return sl_err_set(err, SL_MISUSE, "submit: NULL argument");
    if (c->token_budget &&
        c->tokens_spent + c->tokens_reserved >= c->token_budget)
        return sl_err_set(err, SL_MODEL_EXHAUSTED,
                          "model '%s': token budget of %lld spent", c->name,
                          (long long)c->token_budget);
    mrow *r = c->free_rows;
    if (!r)
        return SL_LIMIT; /* backpressure, not an error worth a message */
    int n_in = c->input->n_cols;
    int n_out = c->output->n_cols;
    r->in = sl_arena_alloc(&r->arena, sizeof(sl_value) * (size_t)n_in);
    r->mout = sl_arena_alloc(&r->arena,
                             sizeof(sl_value) * (size_t)c->model_out.n_cols);
    r->out = c->has_meta
                 ? sl_arena_alloc(&r->arena, sizeof(sl_value) * (size_t)n_out)
                 : r->mout;
    bool null_in = false;
    int rc = (r->in && r->mout && r->out) ? SL_OK : SL_NOMEM;
    for (int i = 0; !rc && i < n_in; i++) {
        rc = copy_value(&r->arena, &inputs[i], &r->in[i]);
        if (inputs[i].kind == SL_V_NULL)
            null_in = true;
    }
    if (rc) {
        sl_arena_reset(&r->arena);
        return sl_err_set(err, SL_NOMEM, "out of memory copying a row");
    }
    c->free_rows = r->qnext;
    r->qnext = NULL;
    for (int i = 0; i < c->model_out.n_cols; i++)
        r->mout[i] = sl_value_null();
    r->seq = seq;
    r->index = c->next_index++;
    r->status = SL_MODEL_ROW_OK;
    r->err_code = 0;
    r->http_status = 0;
    r->errmsg = NULL;
    r->headers_json = NULL;
    r->from_cache = false;
    r->key = NULL;
    r->is_leader = false;
    r->followers = r->fnext = r->hnext = NULL;
    r->schema_retries = 0;
    r->prev_answer = r->feedback = NULL;
    r->req = NULL;
    r->in_done = false;
    int64_t now = sl_now_ms();
    r->deadline_ms = now + c->timeout_ms;
    r->prev = c->live_tail;
    r->next = NULL;
    if (c->live_tail)
        c->live_tail->next = r;
    else
        c->live_head = r;
    c->live_tail = r;
    c->pending++;
    c->m.rows_in++;

    if (null_in) {
        c->m.rows_null_input++;
        complete_row(c, r, "NULL input");
        return SL_OK;
    }
    if (c->cache_tab) {
        sl_buf kb;
        sl_buf_init(&kb, 1 << 24);
        if (key_for(c, r->in, &kb) == SL_OK) {
            r->key = sl_arena_strndup(&r->arena, kb.data, kb.len);
            r->hash = fnv1a(kb.data, kb.len);
        }
        sl_buf_free(&kb);
        if (r->key) {
            cache_entry *e = cache_find(c, r->hash, r->key);
            if (e) {
                c->m.cache_hits++;
                for (int i = 0; i < c->model_out.n_cols; i++)
                    copy_value(&r->arena, &e->vals[i], &r->mout[i]);
                r->from_cache = true;
                r->http_status = 200;
                complete_row(c, r, "cache hit");
                return SL_OK;
            }
            c->m.cache_misses++;
            mrow *leader = inflight_find(c, r->hash, r->key);
            if (leader) {
                c->m.singleflight_joins++;
                r->fnext = leader->followers;
                leader->followers = r;
                row_set_state(c, r, ROW_FOLLOWER, "identical row in flight");
                return SL_OK;
            }
            size_t b = r->hash & c->inflight_mask;
            r->hnext = c->inflight_tab[b];
            c->inflight_tab[b] = r;
            r->is_leader = true;
        }
    }
    if (!c->q_head)
        c->q_first_ms = now;
    r->qnext = NULL;
    if (c->q_tail)
        c->q_tail->qnext = r;
    else
        c->q_head = r;
    c->q_tail = r;
    c->n_queued++;
    row_set_state(c, r, ROW_QUEUED, "submitted");
    if (c->n_queued >= c->batch_size || c->batch_size == 1)
        pump(c);
    return SL_OK;
}

int sl_model_client_barrier(sl_model_client *c, uint64_t seq)
{
    if (!c)
        return SL_MISUSE;
    if (!c->unordered)
        return SL_OK;
    /* Position just after the last live row with row.seq <= seq. */
    uint64_t pos = 0;
    bool any = false;
    for (mrow *r = c->live_tail; r; r = r->prev) {
        if (r->seq <= seq) {
            pos = r->index + 1;
            any = true;
            break;
        }
    }
    if (!any)
        return SL_OK; /* everything up to seq is already out */
    if (c->n_barriers && c->barriers[c->n_barriers - 1] >= pos)
        return SL_OK;
    if (c->n_barriers == MAX_BARRIERS)
        return SL_LIMIT;
    c->barriers[c->n_barriers++] = pos;
    return SL_OK;
}

static void pop_barriers(sl_model_client *c)
{
    int k = 0;
    while (k < c->n_barriers &&
           (!c->live_head || c->live_head->index >= c->barriers[k]))
        k++;
    if (k) {
        memmove(c->barriers, c->barriers + k,
                sizeof(uint64_t) * (size_t)(c->n_barriers - k));
        c->n_barriers -= k;
    }
}

int sl_model_client_next_result(sl_model_client *c, sl_model_result *out)
{
    if (!c || !out)
        return SL_MISUSE;
    if (c->emitted) {
        row_release(c, c->emitted);
        c->emitted = NULL;
    }
    mrow *r = NULL;
    if (!c->unordered) {
        if (c->live_head && c->live_head->state == ROW_DONE)
            r = c->live_head;
    } else {
        pop_barriers(c);
        uint64_t bound = c->n_barriers ? c->barriers[0] : UINT64_MAX;
        for (mrow *d = c->done_head; d; d = d->dnext) {
            if (d->index < bound) {
                r = d;
                break;
            }
        }
    }
    if (!r)
        return SL_NOTFOUND;
    done_remove(c, r);
    c->emitted = r;
    out->seq = r->seq;
    out->status = r->status;
    out->n_outputs = c->output->n_cols;
    out->outputs = r->out;
    out->error_code = r->err_code;
    out->http_status = r->http_status;
    out->error = r->errmsg;
    out->from_cache = r->from_cache;
    c->m.rows_out++;
    if (r->status == SL_MODEL_ROW_FAILED)
        c->m.rows_failed++;
    else if (r->status != SL_MODEL_ROW_OK)
        c->m.rows_ignored++;
    return SL_OK;
}

int64_t sl_model_client_pending(const sl_model_client *c)
{
    return c ? c->pending - (c->emitted ? 1 : 0) : 0;
}

/* ---- driving ------------------------------------------------------------ */

int sl_model_client_fds(sl_model_client *c, sl_model_fd *fds, int max)
{
    if (!c)
        return 0;
    for (int i = 0; i < c->n_fds && i < max; i++)
        fds[i] = c->fds[i];
    return c->n_fds;
}

void sl_model_client_set_fd_cb(sl_model_client *c, sl_model_fd_cb cb, void *ctx)
{
    if (!c)
        return;
    c->fd_cb = cb;
    c->fd_ctx = ctx;
}

int64_t sl_model_client_timeout_ms(sl_model_client *c)
{
    if (!c)
        return -1;
    int64_t now = sl_now_ms();
    int64_t due = INT64_MAX;
    if (c->curl_due_ms >= 0)
        due = c->curl_due_ms;
    if (c->q_head) {
        due = SL_MIN(due, c->q_head->deadline_ms);
        bool can_send = c->in_flight < (int)c->cwnd;
        if (can_send && c->rate_wait_until > now)
            due = SL_MIN(due, c->rate_wait_until);
        else if (can_send)
            due = SL_MIN(due, c->batch_size > 1 && c->n_queued < c->batch_size
                                  ? c->q_first_ms + c->linger_ms
                                  : now);
    }
    if (c->ready_head && c->in_flight < (int)c->cwnd)
        due = SL_MIN(due, c->rate_wait_until > now ? c->rate_wait_until : now);
    for (mreq *q = c->backoff_list; q; q = q->next)
        due = SL_MIN(due, q->retry_at_ms);
    if (due == INT64_MAX)
        return -1;
    return due <= now ? 0 : due - now;
}

void sl_model_client_on_fd(sl_model_client *c, int fd, int events)
{
    if (!c || !c->multi)
        return;
    int ev = 0;
    if (events & SL_MODEL_FD_IN)
        ev |= CURL_CSELECT_IN;
    if (events & SL_MODEL_FD_OUT)
        ev |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(c->multi, fd, ev, &running);
    check_done(c);
    pump(c);
}

void sl_model_client_on_timeout(sl_model_client *c)
{
    if (!c)
        return;
    if (c->multi && c->curl_due_ms >= 0 && c->curl_due_ms <= sl_now_ms()) {
        int running;
        c->curl_due_ms = -1;
        curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        check_done(c);
    }
    pump(c);
}

int sl_model_client_run(sl_model_client *c, int timeout_ms)
{
    if (!c)
        return SL_MISUSE;
    pump(c);
    int64_t t = sl_model_client_timeout_ms(c);
    int wait = timeout_ms;
    if (t >= 0 && t < wait)
        wait = (int)t;
    if (wait < 0)
        wait = 0;
    struct pollfd stack[64];
    struct pollfd *pfd = stack;
    int n = c->n_fds;
    if (n > 64) {
        pfd = sl_calloc((size_t)n, sizeof(*pfd));
        if (!pfd)
            return SL_NOMEM;
    }
    for (int i = 0; i < n; i++) {
        pfd[i].fd = c->fds[i].fd;
        pfd[i].events =
            (short)(((c->fds[i].events & SL_MODEL_FD_IN) ? POLLIN : 0) |
                    ((c->fds[i].events & SL_MODEL_FD_OUT) ? POLLOUT : 0));
        pfd[i].revents = 0;
    }
    int rc = poll(pfd, (nfds_t)n, wait);
    if (rc < 0 && errno != EINTR) {
        if (pfd != stack)
            sl_free(pfd);
        return SL_IO;
    }
    for (int i = 0; rc > 0 && i < n; i++) {
        if (!pfd[i].revents)
            continue;
        int ev = 0;
        if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
            ev |= SL_MODEL_FD_IN;
        if (pfd[i].revents & POLLOUT)
            ev |= SL_MODEL_FD_OUT;
        sl_model_client_on_fd(c, pfd[i].fd, ev);
    }
    if (pfd != stack)
        sl_free(pfd);
    int64_t t2 = sl_model_client_timeout_ms(c);
    if (t2 == 0)
        sl_model_client_on_timeout(c);
    return SL_OK;
}

void sl_model_client_metrics(const sl_model_client *c, sl_model_metrics *out)
{
    if (!c || !out)
        return;
    *out = c->m;
    out->in_flight = c->in_flight;
    out->rows_in_flight = c->rows_in_flight;
    out->rows_pending = sl_model_client_pending(c);
    out->concurrency_limit = c->cwnd;
}

void sl_model_client_set_log(sl_model_client *c, sl_model_log_fn fn, void *ctx,
                             int level)
{
    if (!c)
        return;
    c->log_fn = fn;
    c->log_ctx = ctx;
    c->log_level = level;
}
