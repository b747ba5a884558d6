/*
 * engine_int.h: the engine's private layout, shared by the planner files
 * that implement statements (catalog, DDL, queries, jobs).
 */
#ifndef SL_ENGINE_INT_H
#define SL_ENGINE_INT_H

#include <pthread.h>
#include <signal.h>

#include "catalog.h"
#include "util.h"

typedef struct sl_job sl_job;

/* A job started in the background (INSERT with 'table.dml-sync' false). */
typedef struct sl_engine_job {
    char id[33];
    char *name; /* the statement text, shortened */
    sl_job *job;
    sl_arena arena; /* plan and schemas the job reads */
    struct sl_engine_job *next;
} sl_engine_job;

/* A session setting from SET 'k' = 'v'. */
typedef struct sl_setting {
    char *key;
    char *value;
    struct sl_setting *next;
} sl_setting;

struct sluice {
    sl_err err;                        /* last failure, for sluice_errmsg */
    sl_buf warnings;                   /* sluice_warnings */
    volatile sig_atomic_t interrupted; /* set by sluice_interrupt */
    sl_catalog catalog;
    sl_setting *settings;
    sl_engine_job *jobs;
    int n_jobs;
    uint64_t job_seq;
    /* The job sluice_exec is running in the foreground, for
     * sluice_interrupt (which may run in a signal handler). */
    sl_job *volatile foreground;
    const char *foreground_name; /* its statement, shortened; for metrics */
    /* guards jobs, n_jobs and foreground against readers on other threads
     * (sluice_metrics, the metrics endpoint); the engine thread changes
     * them only while holding it */
    pthread_mutex_t jobs_mu;
    struct sl_metrics_server *metrics_srv; /* 'metrics.port', or NULL */
    /* the engine holds the process's embedded Kafka broker while any of
     * its tables uses 'properties.bootstrap.servers' = 'embedded', so
     * topics outlive the jobs that wrote them */
    bool holds_embedded_kafka;
    /* sluice_progress_handler */
    sluice_progress_cb progress_cb;
    void *progress_ctx;
    int progress_interval_ms;
};

struct sluice_progress {
    int64_t rows_in, rows_out, rows_total, watermark_ms;
    const char *job_id;
};

/* A result row as handed to a sluice_row_cb: columns already rendered as
 * canonical text (NULL pointer for SQL NULL). Owned by whoever fills it. */
struct sluice_row {
    int n_cols;
    int kind; /* SLUICE_ROW_* */
    const char *const *names;
    const char *const *types;
    const char *const *texts;
};

/* Run every statement of sql on db (arguments already checked). */
int sl_engine_exec(sluice *db, const char *sql, sluice_row_cb cb, void *ctx);
/* Run one parsed statement of the script sql[0..len). */
int sl_engine_exec_stmt(sluice *db, const char *sql, size_t len,
                        const struct sl_stmt *stmt, sluice_row_cb cb,
                        void *ctx);
/* Result metadata of a statement, without running it: column names and
 * types (in arena) and a SLUICE_RESULT_* kind. */
int sl_engine_describe_stmt(sluice *db, const char *sql, size_t len,
                            const struct sl_stmt *stmt, sl_arena *arena,
                            int *n_cols, const char ***names,
                            const char ***types, int *kind);

/* Add a warning line for sluice_warnings. */
void sl_engine_warn(sluice *db, const char *fmt, ...) SL_PRINTF(2, 3);

/* The value of a session setting, or NULL. */
const char *sl_engine_setting(const sluice *db, const char *key);
/* ---- metrics (metrics.c) ---- */
/* Every job's published metrics as Prometheus text (any thread). */
int sl_engine_metrics_text(sluice *db, sl_buf *out);
/* SHOW METRICS: one call per sample with cells job id, metric, labels,
 * value (histogram buckets left out). */
typedef int (*sl_engine_metrics_row_fn)(void *ctx, const char *const *cells);
int sl_engine_metrics_rows(sluice *db, sl_engine_metrics_row_fn fn, void *ctx);
/* Start, move or stop the endpoint after 'metrics.port' / 'metrics.host'
 * changed. */
int sl_engine_metrics_configure(sluice *db, sl_err *err);
/* Stop the endpoint (before the jobs are freed). */
void sl_engine_metrics_shutdown(sluice *db);

/* Stop and free every background job. */
void sl_engine_stop_jobs(sluice *db);

#endif
