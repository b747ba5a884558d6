/*
 * model.h: the model-inference engine the async model operator drives.
 *
 * The planner cuts every ML_PREDICT / LLM_CALL / EMBED out of a query into
 * an async operator; that operator owns one sl_model_client per model call
 * site and feeds it rows. Everything below the operator lives here: option
 * validation, secrets, providers (openai chat and embeddings, generic http,
 * KServe v2 / Triton, in-process XGBoost), batching, bounded concurrency
 * with AIMD, retries with backoff, rate limits, token budgets, a result cache
 * with single-flight, per-row error policy, ordering and barriers, metrics.
 *
 * The client never owns the event loop (STYLE.md habit 13): it exposes the
 * sockets libcurl wants watched and the next deadline, and the caller hands
 * readiness and timeouts back. sl_model_client_run() polls internally for
 * tests and simple callers. No threads are started.
 *
 * The operator's calls, in order:
 *   client = sl_model_client_new(def, call_opts, err);
 *   loop:
 *     sl_model_client_submit(client, seq, inputs, err)   SL_LIMIT: queue full,
 *                                   stop the source; SL_MODEL_EXHAUSTED: the
 *                                   token budget is spent, pause the source.
 *     [sl_model_client_barrier(client, seq) before forwarding a watermark]
 *     watch sl_model_client_fds() / sl_model_client_timeout_ms(), then call
 *     sl_model_client_on_fd() / sl_model_client_on_timeout()
 *     (or just sl_model_client_run(client, timeout_ms))
 *     while (sl_model_client_next_result(client, &res) == SL_OK) emit(res);
 *   sl_model_client_free(client);   (cancels whatever is still in flight)
 */
#ifndef SL_MODEL_H
#define SL_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "options.h"
#include "types.h"
#include "util.h"

/* Returned by submit when the client's 'token-budget' is spent. It is an
 * internal code the operator translates (pause the source); it never
 * leaves the library. Distinct from SL_LIMIT (queue full: backpressure). */
#define SL_MODEL_EXHAUSTED 64

/* The model as the planner hands it over (CREATE MODEL). Everything is
 * borrowed for the duration of sl_model_client_new only; the client copies
 * what it keeps. */
typedef struct sl_model_def {
    const char *name;        /* model name, for messages and cache keys */
    const char *provider;    /* 'provider' option value: openai, http... */
    const sl_schema *input;  /* INPUT columns, in DESCRIPTOR order */
    const sl_schema *output; /* OUTPUT columns, metadata ones included */
    /* NULL, or one entry per OUTPUT column: NULL for a model column, or the
     * metadata key of a METADATA column: "error-string", "http-status-code",
     * "http-headers-map". These are filled when a row's error is ignored. */
    const char *const *output_metadata;
    sl_options *options; /* WITH options ('provider' may be among them) */
} sl_model_def;

/* What happened to a row. */
typedef enum sl_model_status {
    SL_MODEL_ROW_OK = 0,      /* outputs are the model's answer */
    SL_MODEL_ROW_FAILED,      /* the job must fail: error says why */
    SL_MODEL_ROW_IGNORED,     /* outputs NULL, metadata columns set */
    SL_MODEL_ROW_DEAD_LETTER, /* as IGNORED; route the row to 'error.sink' */
} sl_model_status;

/* One completed row. Pointers stay valid until the next call of
 * sl_model_client_next_result or sl_model_client_free. */
typedef struct sl_model_result {
    uint64_t seq;
    sl_model_status status;
    int n_outputs;           /* OUTPUT column count (metadata included) */
    const sl_value *outputs; /* typed per runtime/types.h */
    int error_code;          /* SL_OK, or SL_TIMEOUT / SL_IO / SL_RUNTIME.. */
    long http_status;        /* last HTTP status, 0 when none */
    const char *error;       /* NULL, or "model 'm' row 17: HTTP 500: .." */
    bool from_cache;
} sl_model_result;

/* Latency histogram bucket upper bounds in ms; the last bucket is +Inf. */
#define SL_MODEL_LAT_BUCKETS 14
extern const int sl_model_latency_bounds_ms[SL_MODEL_LAT_BUCKETS];

typedef struct sl_model_metrics {
    uint64_t requests;         /* HTTP requests (or local predict calls) */
    uint64_t rows_in;          /* rows submitted */
    uint64_t rows_out;         /* rows handed out by next_result */
    uint64_t rows_failed;      /* results with status FAILED */
    uint64_t rows_ignored;     /* results with status IGNORED/DEAD_LETTER */
    uint64_t rows_null_input;  /* answered NULL without a call */
    int64_t in_flight;         /* requests on the wire now */
    int64_t rows_in_flight;    /* rows inside those requests */
    int64_t rows_pending;      /* submitted, not yet handed out */
    double concurrency_limit;  /* current AIMD window */
    uint64_t window_decreases; /* AIMD halvings on 429 */
    uint64_t latency_hist[SL_MODEL_LAT_BUCKETS + 1];
    uint64_t latency_sum_ms;
    uint64_t retries_429, retries_5xx, retries_timeout, retries_connection;
    uint64_t retries_invalid; /* 2xx with an unreadable body */
    uint64_t retries_schema;  /* structured answer re-asked with feedback */
    uint64_t cache_hits, cache_misses, singleflight_joins;
    uint64_t prompt_tokens, completion_tokens;
    uint64_t rate_limited_waits; /* times rpm/tpm held a request back */
} sl_model_metrics;

typedef struct sl_model_client sl_model_client;

/*
 * Build a client: merge call_opts over def->options (call options win),
 * resolve ${ENV_VAR} references, validate every option (an unknown key is
 * an error with a "did you mean" hint) and open the provider. call_opts
 * may be NULL; neither list is kept. Returns NULL with err set on failure.
 * Error messages never contain a secret's value.
 */
sl_model_client *sl_model_client_new(const sl_model_def *def,
                                     sl_options *call_opts, sl_err *err);

/* Cancel everything in flight (each row is completed exactly once, as
 * cancelled, and discarded) and release the client. NULL is a no-op. */
void sl_model_client_free(sl_model_client *client);

/*
 * Submit one row: inputs has def->input->n_cols values, copied. Returns
 * SL_OK, SL_LIMIT when the bounded queue is full (apply backpressure and
 * retry after draining results), SL_MODEL_EXHAUSTED when the token budget
 * is spent, or SL_NOMEM. A row with a NULL input is answered NULL without
 * a call.
 */
int sl_model_client_submit(sl_model_client *client, uint64_t seq,
                           const sl_value *inputs, sl_err *err);

/* No row submitted after the row with sequence number seq may be emitted
 * before every row up to and including seq has been (a watermark fence
 * for ALLOW_UNORDERED; a no-op effect for ORDERED). SL_LIMIT when too many
 * barriers are open (drain results first). */
int sl_model_client_barrier(sl_model_client *client, uint64_t seq);

/* The next completed row that may be emitted: SL_OK and *out filled, or
 * SL_NOTFOUND when none is ready. */
int sl_model_client_next_result(sl_model_client *client, sl_model_result *out);

/* Rows submitted and not yet handed out. 0 means idle. */
int64_t sl_model_client_pending(const sl_model_client *client);

/* ---- driving the client from an external loop ----------------------- */
#define SL_MODEL_FD_IN  1
#define SL_MODEL_FD_OUT 2

typedef struct sl_model_fd {
    int fd;
    int events; /* SL_MODEL_FD_IN | SL_MODEL_FD_OUT */
} sl_model_fd;

/* The sockets to watch now; returns how many were written (at most max),
 * or the total needed when it exceeds max. */
int sl_model_client_fds(sl_model_client *client, sl_model_fd *fds, int max);
/* Optional push notification for epoll users: called whenever a socket is
 * added (events != 0), changed, or removed (events == 0). */
typedef void (*sl_model_fd_cb)(void *ctx, int fd, int events);
void sl_model_client_set_fd_cb(sl_model_client *client, sl_model_fd_cb cb,
                               void *ctx);
/* Milliseconds until sl_model_client_on_timeout must be called; 0: now;
 * -1: no deadline (nothing pending). */
int64_t sl_model_client_timeout_ms(sl_model_client *client);
/* fd became ready for events (SL_MODEL_FD_IN/OUT; 0 if unknown). */
void sl_model_client_on_fd(sl_model_client *client, int fd, int events);
void sl_model_client_on_timeout(sl_model_client *client);
/* Poll the client's sockets for up to timeout_ms and process what is
 * ready; returns after one round. Returns SL_OK or SL_IO. */
int sl_model_client_run(sl_model_client *client, int timeout_ms);

/* ---- observing -------------------------------------------------------- */
void sl_model_client_metrics(const sl_model_client *client,
                             sl_model_metrics *out);

/* Debug log sink: level 0 error, 1 warn, 2 info, 3 debug. Messages have
 * secrets masked. Without a sink nothing is logged, unless the environment
 * variable SLUICE_MODEL_LOG is set to a level (0-3): then stderr. */
typedef void (*sl_model_log_fn)(void *ctx, int level, const char *msg);
void sl_model_client_set_log(sl_model_client *client, sl_model_log_fn fn,
                             void *ctx, int level);

/* The cache key of a row as text (model, options, inputs): stable across
 * processes so a persistent cache can store it. Returns SL_OK. */
int sl_model_client_cache_key(sl_model_client *client, const sl_value *inputs,
                              sl_buf *out);

/* ---- documentation ---------------------------------------------------- */
/* The option tables (NULL-key terminated): client options shared by every
 * provider, and each provider's own. docs/ai.md is generated from them. */
const sl_option_def *sl_model_common_options(void);
typedef struct sl_model_provider sl_model_provider;
const sl_model_provider *sl_model_provider_find(const char *name);
int sl_model_provider_count(void);
const sl_model_provider *sl_model_provider_at(int i);

#endif /* SL_MODEL_H */
