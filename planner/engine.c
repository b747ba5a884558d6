/*
 * engine.c: the public handle (struct sluice) and the sluice_* entry points.
 *
 * The engine is where the embedding API meets the planner: it owns the
 * catalog and the jobs, keeps the last error for sluice_errmsg, and routes
 * each statement of sluice_exec through parse -> bind -> plan -> run. It is
 * the top of the library's dependency graph; cli/ sees only include/sluice.h.
 */
#include <signal.h>
#include <stdarg.h>
#include <string.h>

#include "engine_int.h"
#include "job.h"
#include "kafka_int.h"

SLUICE_API const char *sluice_libversion(void)
{
    return SLUICE_VERSION;
}

SLUICE_API int sluice_libversion_number(void)
{
    return SLUICE_VERSION_NUMBER;
}

SLUICE_API int sluice_open(sluice **out)
{
    if (!out)
        return SLUICE_MISUSE;
    *out = NULL;
    sluice *db = sl_calloc(1, sizeof(*db));
    if (!db)
        return SLUICE_NOMEM;
    sl_err_clear(&db->err);
    sl_buf_init(&db->warnings, 64 * 1024);
    sl_catalog_init(&db->catalog);
    pthread_mutex_init(&db->jobs_mu, NULL);
    *out = db;
    return SLUICE_OK;
}

SLUICE_API void sluice_close(sluice *db)
{
    if (!db)
        return;
    sl_engine_metrics_shutdown(db);
    sl_engine_stop_jobs(db);
    if (db->holds_embedded_kafka)
        sl_kafka_embedded_release();
    sl_catalog_free(&db->catalog);
    sl_buf_free(&db->warnings);
    for (sl_setting *s = db->settings; s;) {
        sl_setting *next = s->next;
        sl_free(s->key);
        sl_free(s->value);
        sl_free(s);
        s = next;
    }
    pthread_mutex_destroy(&db->jobs_mu);
    sl_free(db);
}

SLUICE_API const char *sluice_errmsg(sluice *db)
{
    if (!db)
        return sluice_errstr(SLUICE_MISUSE);
    if (db->err.code == SLUICE_OK)
        return sluice_errstr(SLUICE_OK);
    return db->err.msg[0] ? db->err.msg : sluice_errstr(db->err.code);
}

SLUICE_API const char *sluice_warnings(sluice *db)
{
    return db ? sl_buf_cstr(&db->warnings) : "";
}

void sl_engine_warn(sluice *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_buf_vprintf(&db->warnings, fmt, ap);
    va_end(ap);
    sl_buf_putc(&db->warnings, '\n');
}

SLUICE_API int sluice_errcode(sluice *db)
{
    return db ? db->err.code : SLUICE_MISUSE;
}

SLUICE_API void sluice_interrupt(sluice *db)
{
    if (!db)
        return;
    db->interrupted = 1;
    sl_job *job = db->foreground;
    if (job)
        sl_job_request_stop_from_signal(job);
}

SLUICE_API int sluice_exec(sluice *db, const char *sql, sluice_row_cb cb,
                           void *ctx)
{
    if (!db || !sql)
        return SLUICE_MISUSE;
    sl_err_clear(&db->err);
    sl_buf_reset(&db->warnings);
    db->interrupted = 0;
    return sl_engine_exec(db, sql, cb, ctx);
}
