/*
 * metrics.c: the engine's metrics export: Prometheus text, SHOW METRICS and
 * the 'metrics.port' HTTP endpoint.
 *
 *   job thread --publish (every 100 ms, under the job's mutex)--> sl_job
 *   sluice_metrics / SHOW METRICS / HTTP thread --snapshot--> samples
 *       --> Prometheus text exposition (0.0.4) or rows of a table
 *
 * A snapshot holds db->jobs_mu while it copies every job's published
 * figures (sl_job_metrics_get, sl_job_detail_get), so it may run on any
 * thread: the engine thread links and unlinks jobs under the same lock.
 * Rendering happens after the lock is released.
 *
 * The endpoint is one thread per engine serving one connection at a time
 * with poll(): a request of at most REQ_MAX bytes read within REQ_TIMEOUT_MS,
 * GET (or HEAD) /metrics answered 200, another path 404, another method
 * 405, anything malformed 400; every answer closes the connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine_int.h"
#include "job.h"

#define REQ_MAX         8192
#define REQ_TIMEOUT_MS  2000
#define SEND_TIMEOUT_MS 5000
#define MAX_TEXT        (64u << 20) /* bound of one exposition */

/* ---- snapshot --------------------------------------------------------- */

typedef struct job_snap {
    char id[33];
    char name[128];
    const char *state;
    sl_job_metrics m;
    sl_step_metrics *steps;
    int n_steps;
    sl_source_metrics *src;
    int n_src;
    sl_job_model_metrics *models;
    int n_models;
} job_snap;

typedef struct snapshot {
    job_snap *jobs;
    int n;
} snapshot;

static void snapshot_free(snapshot *s)
{
    for (int i = 0; i < s->n; i++) {
        sl_free(s->jobs[i].steps);
        sl_free(s->jobs[i].src);
        sl_free(s->jobs[i].models);
    }
    sl_free(s->jobs);
    s->jobs = NULL;
    s->n = 0;
}

static int snap_job(job_snap *js, sl_job *job, const char *id, const char *name)
{
    sl_strlcpy(js->id, id, sizeof(js->id));
    sl_strlcpy(js->name, name ? name : "", sizeof(js->name));
    js->state = sl_job_state_name(sl_job_state_get(job));
    sl_job_metrics_get(job, &js->m, NULL, 0);
    js->n_steps = js->m.n_steps;
    int n_models = 0;
    js->n_src = sl_job_detail_get(job, NULL, 0, NULL, 0, &n_models);
    js->steps = sl_calloc((size_t)js->n_steps + 1, sizeof(sl_step_metrics));
    js->src = sl_calloc((size_t)js->n_src + 1, sizeof(sl_source_metrics));
    js->models = sl_calloc((size_t)n_models + 1, sizeof(*js->models));
    if (!js->steps || !js->src || !js->models)
        return SL_NOMEM;
    /* one consistent copy: job figures and steps, then the detail (the
     * counts never change during a job's life) */
    sl_job_metrics_get(job, &js->m, js->steps, js->n_steps);
    sl_job_detail_get(job, js->src, js->n_src, js->models, n_models,
                      &js->n_models);
    return SL_OK;
}

static int snapshot_take(sluice *db, snapshot *s)
{
    s->jobs = NULL;
    s->n = 0;
    pthread_mutex_lock(&db->jobs_mu);
    int n = db->foreground ? 1 : 0;
    for (sl_engine_job *j = db->jobs; j; j = j->next)
        n++;
    int rc = SL_OK;
    s->jobs = sl_calloc((size_t)n + 1, sizeof(job_snap));
    if (!s->jobs)
        rc = SL_NOMEM;
    if (!rc && db->foreground)
        rc = snap_job(&s->jobs[s->n++], db->foreground, "foreground",
                      db->foreground_name);
    for (sl_engine_job *j = db->jobs; !rc && j; j = j->next)
        rc = snap_job(&s->jobs[s->n++], j->job, j->id, j->name);
    pthread_mutex_unlock(&db->jobs_mu);
    if (rc)
        snapshot_free(s);
    return rc;
}

/* ---- samples ---------------------------------------------------------- */

/* One metric family: name, type, help. */
typedef struct family {
    const char *name;
    const char *type;
    const char *help;
} family;

/* Receives every sample: the family, the name suffix ("", "_bucket",
 * "_sum", "_count"), the job id, the other labels already rendered
 * ('operator="x",cause="429"', may be "") and the value. */
typedef struct sink {
    int (*sample)(struct sink *k, const family *f, const char *suffix,
                  const char *job, const char *labels, double value);
    int (*family_start)(struct sink *k, const family *f);
    void *ctx;
} sink;

static void label(sl_buf *b, const char *key, const char *value)
{
    if (b->len)
        sl_buf_putc(b, ',');
    sl_buf_printf(b, "%s=\"", key);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            sl_buf_putc(b, '\\');
        if (*p == '\n')
            sl_buf_puts(b, "\\n");
        else
            sl_buf_putc(b, *p);
    }
    sl_buf_putc(b, '"');
}

typedef enum scope {
    SC_JOB,
    SC_SOURCE,
    SC_OPERATOR,
    SC_MODEL,
    SC_RETRY,
    SC_TOKENS,
    SC_LATENCY,
} scope;

typedef struct metric_def {
    family f;
    scope sc;
    int which; /* field selector within the scope */
} metric_def;

enum {
    J_INFO,
    J_START,
    J_ROWS_READ,
    J_BYTES_READ,
    J_ROWS_WRITTEN,
    J_BATCHES,
    J_WATERMARK,
    J_LATE,
    J_PAUSED,
    J_FRACTION,
    S_ROWS,
    S_BYTES,
    S_LAG,
    O_IN,
    O_OUT,
    M_REQUESTS,
    M_ROWS_IN,
    M_ROWS_OUT,
    M_FAILED,
    M_IGNORED,
    M_NULL,
    M_IN_FLIGHT,
    M_ROWS_IN_FLIGHT,
    M_PENDING,
    M_CWND,
    M_DECREASES,
    M_CACHE_HITS,
    M_CACHE_MISSES,
    M_JOINS,
    M_RATE_WAITS,
};

static const metric_def metrics[] = {
    {{"sluice_job_info", "gauge",
      "A job: 1, with its name (statement) and state as labels."},
     SC_JOB,
     J_INFO},
    {{"sluice_job_start_time_seconds", "gauge",
      "Wall clock time the job started running."},
     SC_JOB,
     J_START},
    {{"sluice_job_rows_read_total", "counter", "Rows read by all sources."},
     SC_JOB,
     J_ROWS_READ},
    {{"sluice_job_bytes_read_total", "counter",
      "In-memory bytes of the rows read."},
     SC_JOB,
     J_BYTES_READ},
    {{"sluice_job_rows_written_total", "counter",
      "Rows handed to the sink or the result callback."},
     SC_JOB,
     J_ROWS_WRITTEN},
    {{"sluice_job_batches_written_total", "counter",
      "Batches handed to the sink or the result callback."},
     SC_JOB,
     J_BATCHES},
    {{"sluice_job_watermark_seconds", "gauge",
      "Event-time watermark delivered to the operators (absent without "
      "event time)."},
     SC_JOB,
     J_WATERMARK},
    {{"sluice_job_late_rows_total", "counter",
      "Rows operators dropped behind the watermark."},
     SC_JOB,
     J_LATE},
    {{"sluice_job_paused_seconds_total", "counter",
      "Time sources spent paused by backpressure."},
     SC_JOB,
     J_PAUSED},
    {{"sluice_job_input_fraction", "gauge",
      "Fraction of a bounded input read (absent when unbounded)."},
     SC_JOB,
     J_FRACTION},
    {{"sluice_source_rows_read_total", "counter", "Rows read by a source."},
     SC_SOURCE,
     S_ROWS},
    {{"sluice_source_bytes_read_total", "counter",
      "In-memory bytes of the rows a source read."},
     SC_SOURCE,
     S_BYTES},
    {{"sluice_source_lag_records", "gauge",
      "Records after a source's read position (Kafka: up to each "
      "partition's high watermark); absent while unknown."},
     SC_SOURCE,
     S_LAG},
    {{"sluice_operator_rows_in_total", "counter",
      "Rows into a stage or operator."},
     SC_OPERATOR,
     O_IN},
    {{"sluice_operator_rows_out_total", "counter",
      "Rows out of a stage or operator."},
     SC_OPERATOR,
     O_OUT},
    {{"sluice_model_requests_total", "counter",
      "Model requests sent (HTTP requests or local predict calls), retries "
      "included."},
     SC_MODEL,
     M_REQUESTS},
    {{"sluice_model_rows_in_total", "counter", "Rows submitted to a model."},
     SC_MODEL,
     M_ROWS_IN},
    {{"sluice_model_rows_out_total", "counter",
      "Rows a model call site handed on."},
     SC_MODEL,
     M_ROWS_OUT},
    {{"sluice_model_rows_failed_total", "counter",
      "Rows whose call failed the job ('error.policy' fail)."},
     SC_MODEL,
     M_FAILED},
    {{"sluice_model_rows_ignored_total", "counter",
      "Rows whose call failed and were ignored or dead-lettered."},
     SC_MODEL,
     M_IGNORED},
    {{"sluice_model_rows_null_input_total", "counter",
      "Rows answered NULL without a call (NULL input)."},
     SC_MODEL,
     M_NULL},
    {{"sluice_model_in_flight_requests", "gauge", "Requests on the wire."},
     SC_MODEL,
     M_IN_FLIGHT},
    {{"sluice_model_in_flight_rows", "gauge", "Rows inside those requests."},
     SC_MODEL,
     M_ROWS_IN_FLIGHT},
    {{"sluice_model_pending_rows", "gauge",
      "Rows submitted and not yet handed on."},
     SC_MODEL,
     M_PENDING},
    {{"sluice_model_concurrency_limit", "gauge",
      "Current adaptive (AIMD) concurrency window."},
     SC_MODEL,
     M_CWND},
    {{"sluice_model_window_decreases_total", "counter",
      "Times the concurrency window was halved after a 429."},
     SC_MODEL,
     M_DECREASES},
    {{"sluice_model_retries_total", "counter",
      "Retried requests by cause: 429, 5xx, timeout, connection, invalid "
      "(unreadable 2xx body), schema (structured answer re-asked)."},
     SC_RETRY,
     0},
    {{"sluice_model_cache_hits_total", "counter", "Rows answered from cache."},
     SC_MODEL,
     M_CACHE_HITS},
    {{"sluice_model_cache_misses_total", "counter",
      "Rows looked up in the cache and not found."},
     SC_MODEL,
     M_CACHE_MISSES},
    {{"sluice_model_singleflight_joins_total", "counter",
      "Rows that joined an identical call already in flight."},
     SC_MODEL,
     M_JOINS},
    {{"sluice_model_rate_limited_waits_total", "counter",
      "Times 'rpm'/'tpm' held a request back."},
     SC_MODEL,
     M_RATE_WAITS},
    {{"sluice_model_tokens_total", "counter",
      "Tokens reported by the provider, by kind: prompt, completion."},
     SC_TOKENS,
     0},
    {{"sluice_model_latency_seconds", "histogram",
      "Latency of model requests (send to answer)."},
     SC_LATENCY,
     0},
};

static double job_value(const job_snap *js, int which, bool *present)
{
    const sl_job_metrics *m = &js->m;
    *present = true;
    switch (which) {
    case J_INFO:
        return 1;
    case J_START:
        *present = m->start_ms != 0;
        return (double)m->start_ms / 1000.0;
    case J_ROWS_READ:
        return (double)m->rows_read;
    case J_BYTES_READ:
        return (double)m->bytes_read;
    case J_ROWS_WRITTEN:
        return (double)m->rows_written;
    case J_BATCHES:
        return (double)m->batches_written;
    case J_WATERMARK:
        *present = m->watermark_ms != SL_NO_EVENT_TIME;
        return (double)m->watermark_ms / 1000.0;
    case J_LATE:
        return (double)m->late_rows;
    case J_PAUSED:
        return (double)m->paused_ms / 1000.0;
    case J_FRACTION:
        *present = m->input_fraction >= 0;
        return m->input_fraction;
    }
    *present = false;
    return 0;
}

static double model_value(const sl_model_metrics *m, int which)
{
    switch (which) {
    case M_REQUESTS:
        return (double)m->requests;
    case M_ROWS_IN:
        return (double)m->rows_in;
    case M_ROWS_OUT:
        return (double)m->rows_out;
    case M_FAILED:
        return (double)m->rows_failed;
    case M_IGNORED:
        return (double)m->rows_ignored;
    case M_NULL:
        return (double)m->rows_null_input;
    case M_IN_FLIGHT:
        return (double)m->in_flight;
    case M_ROWS_IN_FLIGHT:
        return (double)m->rows_in_flight;
    case M_PENDING:
        return (double)m->rows_pending;
    case M_CWND:
        return m->concurrency_limit;
    case M_DECREASES:
        return (double)m->window_decreases;
    case M_CACHE_HITS:
        return (double)m->cache_hits;
    case M_CACHE_MISSES:
        return (double)m->cache_misses;
    case M_JOINS:
        return (double)m->singleflight_joins;
    case M_RATE_WAITS:
        return (double)m->rate_limited_waits;
    }
    return 0;
}

static int model_family(sink *k, const metric_def *d, const job_snap *js,
                        const sl_job_model_metrics *mm, sl_buf *lb)
{
    const sl_model_metrics *m = &mm->m;
    sl_buf_reset(lb);
    label(lb, "model", mm->step);
    size_t base = lb->len;
    char lbuf[64];
    int rc = SL_OK;
    if (d->sc == SC_MODEL)
        return k->sample(k, &d->f, "", js->id, sl_buf_cstr(lb),
                         model_value(m, d->which));
    if (d->sc == SC_RETRY) {
        static const char *const cause[] = {"429",        "5xx",     "timeout",
                                            "connection", "invalid", "schema"};
        const uint64_t v[] = {m->retries_429,     m->retries_5xx,
                              m->retries_timeout, m->retries_connection,
                              m->retries_invalid, m->retries_schema};
        for (int i = 0; !rc && i < 6; i++) {
            lb->len = base;
            label(lb, "cause", cause[i]);
            rc = k->sample(k, &d->f, "", js->id, sl_buf_cstr(lb), (double)v[i]);
        }
        return rc;
    }
    if (d->sc == SC_TOKENS) {
        label(lb, "kind", "prompt");
        rc = k->sample(k, &d->f, "", js->id, sl_buf_cstr(lb),
                       (double)m->prompt_tokens);
        lb->len = base;
        label(lb, "kind", "completion");
        return rc ? rc
                  : k->sample(k, &d->f, "", js->id, sl_buf_cstr(lb),
                              (double)m->completion_tokens);
    }
    /* histogram: cumulative buckets in seconds, then +Inf, sum, count */
    uint64_t cum = 0;
    for (int i = 0; !rc && i <= SL_MODEL_LAT_BUCKETS; i++) {
        cum += m->latency_hist[i];
        lb->len = base;
        if (i < SL_MODEL_LAT_BUCKETS)
            sl_snprintf(lbuf, sizeof(lbuf), "%g",
                        sl_model_latency_bounds_ms[i] / 1000.0);
        else
            sl_strlcpy(lbuf, "+Inf", sizeof(lbuf));
        label(lb, "le", lbuf);
        rc = k->sample(k, &d->f, "_bucket", js->id, sl_buf_cstr(lb),
                       (double)cum);
    }
    lb->len = base;
    if (!rc)
        rc = k->sample(k, &d->f, "_sum", js->id, sl_buf_cstr(lb),
                       (double)m->latency_sum_ms / 1000.0);
    if (!rc)
        rc =
            k->sample(k, &d->f, "_count", js->id, sl_buf_cstr(lb), (double)cum);
    return rc;
}

static int family_samples(sink *k, const metric_def *d, const snapshot *s,
                          sl_buf *lb)
{
    int rc = SL_OK;
    for (int i = 0; !rc && i < s->n; i++) {
        const job_snap *js = &s->jobs[i];
        switch (d->sc) {
        case SC_JOB: {
            bool present;
            double v = job_value(js, d->which, &present);
            if (!present)
                break;
            sl_buf_reset(lb);
            if (d->which == J_INFO) {
                label(lb, "name", js->name);
                label(lb, "state", js->state);
            }
            rc = k->sample(k, &d->f, "", js->id, sl_buf_cstr(lb), v);
            break;
        }
        case SC_SOURCE:
            for (int j = 0; !rc && j < js->n_src; j++) {
                const sl_source_metrics *sm = &js->src[j];
                if (d->which == S_LAG && sm->lag < 0)
                    continue;
                sl_buf_reset(lb);
                label(lb, "source", sm->name);
                rc = k->sample(k, &d->f, "", js->id, sl_buf_cstr(lb),
                               d->which == S_ROWS    ? (double)sm->rows_read
                               : d->which == S_BYTES ? (double)sm->bytes_read
                                                     : (double)sm->lag);
            }
            break;
        case SC_OPERATOR:
            for (int j = 0; !rc && j < js->n_steps; j++) {
                sl_buf_reset(lb);
                label(lb, "operator", js->steps[j].name);
                rc =
                    k->sample(k, &d->f, "", js->id, sl_buf_cstr(lb),
                              d->which == O_IN ? (double)js->steps[j].rows_in
                                               : (double)js->steps[j].rows_out);
            }
            break;
        default:
            for (int j = 0; !rc && j < js->n_models; j++)
                rc = model_family(k, d, js, &js->models[j], lb);
            break;
        }
        if (!rc && lb->rc)
            rc = lb->rc;
    }
    return rc;
}

static bool family_empty(const metric_def *d, const snapshot *s)
{
    for (int i = 0; i < s->n; i++) {
        const job_snap *js = &s->jobs[i];
        bool present = true;
        if (d->sc == SC_JOB)
            job_value(js, d->which, &present);
        else if (d->sc == SC_SOURCE) {
            present = false;
            for (int j = 0; j < js->n_src; j++)
                present = present || d->which != S_LAG || js->src[j].lag >= 0;
        } else if (d->sc == SC_OPERATOR)
            present = js->n_steps > 0;
        else
            present = js->n_models > 0;
        if (present)
            return false;
    }
    return true;
}

static int walk(sluice *db, sink *k)
{
    snapshot s;
    int rc = snapshot_take(db, &s);
    if (rc)
        return rc;
    sl_buf lb;
    sl_buf_init(&lb, 4096);
    for (size_t i = 0; !rc && i < SL_ARRAY_LEN(metrics); i++) {
        if (family_empty(&metrics[i], &s))
            continue;
        if (k->family_start)
            rc = k->family_start(k, &metrics[i].f);
        if (!rc)
            rc = family_samples(k, &metrics[i], &s, &lb);
    }
    sl_buf_free(&lb);
    snapshot_free(&s);
    return rc;
}

static void format_value(char *out, size_t n, double v)
{
    if (isnan(v))
        sl_strlcpy(out, "NaN", n);
    else if (v == floor(v) && fabs(v) < 9007199254740992.0)
        sl_snprintf(out, n, "%.0f", v);
    else if (fabs(v) >= 1e15 || fabs(v) < 1e-6)
        sl_snprintf(out, n, "%.9g", v);
    else {
        /* fixed point, at most 6 decimals, trailing zeros dropped */
        int k = sl_snprintf(out, n, "%.6f", v);
        while (k > 0 && (size_t)k < n && out[k - 1] == '0')
            out[--k] = '\0';
        if (k > 0 && out[k - 1] == '.')
            out[--k] = '\0';
    }
}

/* ---- Prometheus text -------------------------------------------------- */

static int text_family(sink *k, const family *f)
{
    sl_buf *b = k->ctx;
    sl_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                  f->type);
    return b->rc;
}

static int text_sample(sink *k, const family *f, const char *suffix,
                       const char *job, const char *labels, double value)
{
    sl_buf *b = k->ctx;
    char v[64];
    format_value(v, sizeof(v), value);
    sl_buf_printf(b, "%s%s{job=\"%s\"%s%s} %s\n", f->name, suffix, job,
                  *labels ? "," : "", labels, v);
    return b->rc;
}

int sl_engine_metrics_text(sluice *db, sl_buf *out)
{
    sink k = {text_sample, text_family, out};
    int rc = walk(db, &k);
    return rc ? rc : out->rc;
}

SLUICE_API int sluice_metrics(sluice *db, char **out_text, size_t *out_len)
{
    if (out_text)
        *out_text = NULL;
    if (out_len)
        *out_len = 0;
    if (!db || !out_text)
        return SLUICE_MISUSE;
    sl_buf b;
    sl_buf_init(&b, MAX_TEXT);
    int rc = sl_engine_metrics_text(db, &b);
    if (rc) {
        sl_buf_free(&b);
        return rc == SL_LIMIT ? SLUICE_LIMIT : SLUICE_NOMEM;
    }
    size_t len = b.len;
    char *text = sl_buf_steal(&b);
    if (!text) {
        text = sl_strdup("");
        if (!text)
            return SLUICE_NOMEM;
    }
    *out_text = text;
    if (out_len)
        *out_len = len;
    return SLUICE_OK;
}

SLUICE_API void sluice_free(void *p)
{
    sl_free(p);
}

/* ---- SHOW METRICS ----------------------------------------------------- */

typedef struct rows_ctx {
    sl_engine_metrics_row_fn fn;
    void *ctx;
} rows_ctx;

static int row_sample(sink *k, const family *f, const char *suffix,
                      const char *job, const char *labels, double value)
{
    rows_ctx *r = k->ctx;
    if (!strcmp(suffix, "_bucket"))
        return SL_OK; /* the table shows sum and count */
    char name[128], v[64];
    sl_snprintf(name, sizeof(name), "%s%s", f->name, suffix);
    format_value(v, sizeof(v), value);
    const char *cells[4] = {job, name, labels, v};
    return r->fn(r->ctx, cells);
}

int sl_engine_metrics_rows(sluice *db, sl_engine_metrics_row_fn fn, void *ctx)
{
    rows_ctx r = {fn, ctx};
    sink k = {row_sample, NULL, &r};
    return walk(db, &k);
}

/* ---- the HTTP endpoint ------------------------------------------------ */

struct sl_metrics_server {
    sluice *db;
    int listen_fd;
    int wake[2]; /* pipe: a byte asks the thread to stop */
    pthread_t thread;
    char host[256];
    int port;
};

static int send_all(int fd, const char *p, size_t n)
{
    int64_t deadline = sl_mono_ns() / 1000000 + SEND_TIMEOUT_MS;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        int64_t left = deadline - sl_mono_ns() / 1000000;
        if (left <= 0)
            return -1;
        struct pollfd pf = {fd, POLLOUT, 0};
        if (poll(&pf, 1, (int)left) < 0 && errno != EINTR)
            return -1;
    }
    return 0;
}

static void respond(int fd, int status, const char *reason, const char *ctype,
                    const char *body, size_t len, bool head)
{
    char hdr[512];
    int n = sl_snprintf(hdr, sizeof(hdr),
                        "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
                        "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                        status, reason, ctype, len);
    if (n <= 0 || send_all(fd, hdr, (size_t)n) || head)
        return;
    send_all(fd, body, len);
}

static void respond_text(int fd, int status, const char *reason)
{
    char body[128];
    int n = sl_snprintf(body, sizeof(body), "%d %s\n", status, reason);
    respond(fd, status, reason, "text/plain; charset=utf-8", body,
            n > 0 ? (size_t)n : 0, false);
}

/* Read the request head ("...\r\n\r\n") into buf: its length, 0 when the
 * peer went away or the deadline passed, -1 when it is too large. */
static int read_head(int fd, int wake_fd, char *buf, size_t cap)
{
    size_t len = 0;
    int64_t deadline = sl_mono_ns() / 1000000 + REQ_TIMEOUT_MS;
    for (;;) {
        int64_t left = deadline - sl_mono_ns() / 1000000;
        if (left <= 0)
            return 0;
        struct pollfd pf[2] = {{fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
        int r = poll(pf, 2, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || pf[1].revents)
            return 0;
        ssize_t got = recv(fd, buf + len, cap - 1 - len, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0)
            return len ? -2 : 0; /* closed mid-request: malformed */
        len += (size_t)got;
        buf[len] = '\0';
        if (memmem(buf, len, "\r\n\r\n", 4) || memmem(buf, len, "\n\n", 2))
            return (int)len;
        if (len >= cap - 1)
            return -1;
    }
}

static bool is_token_char(char c)
{
    return c >= 'A' && c <= 'Z';
}

static void serve_one(struct sl_metrics_server *srv, int fd)
{
    char req[REQ_MAX + 1];
    int n = read_head(fd, srv->wake[0], req, sizeof(req));
    if (n == 0)
        return;
    if (n == -1) {
        respond_text(fd, 431, "Request Header Fields Too Large");
        return;
    }
    if (n < 0 || memchr(req, '\0', (size_t)n)) {
        respond_text(fd, 400, "Bad Request");
        return;
    }
    /* request line: METHOD SP TARGET SP HTTP/1.x CRLF */
    char *eol = strpbrk(req, "\r\n");
    *eol = '\0';
    char *sp1 = strchr(req, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    bool ok = sp1 && sp2 && sp1 > req && sp2 > sp1 + 1 && sp1[1] == '/' &&
              (!strcmp(sp2 + 1, "HTTP/1.1") || !strcmp(sp2 + 1, "HTTP/1.0"));
    for (char *p = req; ok && p < sp1; p++)
        ok = is_token_char(*p);
    for (char *p = sp1 ? sp1 + 1 : req; ok && p < sp2; p++)
        ok = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f;
    if (!ok) {
        respond_text(fd, 400, "Bad Request");
        return;
    }
    *sp1 = '\0';
    *sp2 = '\0';
    char *target = sp1 + 1;
    char *q = strchr(target, '?');
    if (q)
        *q = '\0';
    bool head = !strcmp(req, "HEAD");
    if (strcmp(target, "/metrics")) {
        respond_text(fd, 404, "Not Found");
        return;
    }
    if (!head && strcmp(req, "GET")) {
        respond_text(fd, 405, "Method Not Allowed");
        return;
    }
    sl_buf b;
    sl_buf_init(&b, MAX_TEXT);
    if (sl_engine_metrics_text(srv->db, &b)) {
        sl_buf_free(&b);
        respond_text(fd, 500, "Internal Server Error");
        return;
    }
    respond(fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
            sl_buf_cstr(&b), b.len, head);
    sl_buf_free(&b);
}

static void *server_main(void *arg)
{
    struct sl_metrics_server *srv = arg;
    for (;;) {
        struct pollfd pf[2] = {{srv->listen_fd, POLLIN, 0},
                               {srv->wake[0], POLLIN, 0}};
        int r = poll(pf, 2, -1);
        if (r < 0 && errno != EINTR)
            break;
        if (pf[1].revents)
            break;
        if (!(pf[0].revents & POLLIN))
            continue;
        int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        serve_one(srv, fd);
        shutdown(fd, SHUT_WR);
        /* drain what the client still sends, briefly, so close() does not
         * reset the connection before it read the answer */
        char junk[1024];
        struct pollfd cf = {fd, POLLIN, 0};
        for (int i = 0; i < 8 && poll(&cf, 1, 50) > 0; i++)
            if (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0)
                break;
        close(fd);
    }
    return NULL;
}

static void server_free(struct sl_metrics_server *srv)
{
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    if (srv->wake[0] >= 0)
        close(srv->wake[0]);
    if (srv->wake[1] >= 0)
        close(srv->wake[1]);
    sl_free(srv);
}

static void server_stop(sluice *db)
{
    struct sl_metrics_server *srv = db->metrics_srv;
    if (!srv)
        return;
    db->metrics_srv = NULL;
    char c = 1;
    while (write(srv->wake[1], &c, 1) < 0 && errno == EINTR)
        ;
    pthread_join(srv->thread, NULL);
    server_free(srv);
}

static int server_start(sluice *db, const char *host, int port, sl_err *err)
{
    struct sl_metrics_server *srv = sl_calloc(1, sizeof(*srv));
    if (!srv)
        return sl_err_set(err, SL_NOMEM, "out of memory");
    srv->db = db;
    srv->listen_fd = srv->wake[0] = srv->wake[1] = -1;
    srv->port = port;
    sl_strlcpy(srv->host, host, sizeof(srv->host));
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char ports[16];
    sl_snprintf(ports, sizeof(ports), "%d", port);
    int g = getaddrinfo(host, ports, &hints, &res);
    if (g) {
        server_free(srv);
        return sl_err_set(err, SL_IO, "'metrics.host' '%s': %s", host,
                          gai_strerror(g));
    }
    int rc = SL_OK;
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 16))
        rc = sl_err_set(err, SL_IO,
                        "metrics endpoint: cannot listen on %s:%d: %s", host,
                        port, strerror(errno));
    freeaddrinfo(res);
    srv->listen_fd = fd;
    if (!rc && pipe2(srv->wake, O_CLOEXEC))
        rc = sl_err_set(err, SL_IO, "metrics endpoint: pipe: %s",
                        strerror(errno));
    if (!rc && pthread_create(&srv->thread, NULL, server_main, srv))
        rc = sl_err_set(err, SL_IO, "metrics endpoint: cannot start thread");
    if (rc) {
        server_free(srv);
        return rc;
    }
    db->metrics_srv = srv;
    return SL_OK;
}

int sl_engine_metrics_configure(sluice *db, sl_err *err)
{
    const char *ps = sl_engine_setting(db, "metrics.port");
    const char *host = sl_engine_setting(db, "metrics.host");
    if (!host || !*host)
        host = "127.0.0.1";
    long port = 0;
    if (ps && *ps) {
        char *end = NULL;
        errno = 0;
        port = strtol(ps, &end, 10);
        if (errno || *end || port < 0 || port > 65535)
            return sl_err_set(err, SL_ERROR,
                              "'metrics.port' must be a port number 0-65535 "
                              "(0: off), got '%s'",
                              ps);
    }
    struct sl_metrics_server *cur = db->metrics_srv;
    if (cur && cur->port == port && !strcmp(cur->host, host))
        return SL_OK;
    server_stop(db);
    if (port == 0)
        return SL_OK;
    return server_start(db, host, (int)port, err);
}

void sl_engine_metrics_shutdown(sluice *db)
{
    server_stop(db);
}
