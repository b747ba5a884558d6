/*
 * stmt.c: prepared statements and the progress handler of the public API.
 *
 * sluice_prepare parses the first statement of a script (keeping a copy of
 * the text, so error positions stay relative to it) and describes its
 * result columns without running it: queries are planned, SHOW/DESCRIBE/
 * EXPLAIN have fixed columns. sluice_stmt_run executes it through the same
 * path as sluice_exec. The progress handler is stored on the engine and
 * called by exec.c while a foreground job runs.
 */
#include <string.h>

#include "engine_int.h"
#include "parser.h"

struct sluice_stmt {
    sluice *db;
    sl_arena arena;
    char *sql; /* the text the statement was parsed from */
    size_t len;
    const sl_stmt *stmt;
    int n_cols;
    const char **names;
    const char **types;
    int kind;
    bool ran;
};

SLUICE_API int sluice_prepare(sluice *db, const char *sql, const char **tail,
                              sluice_stmt **out)
{
    if (!db || !sql || !out)
        return SLUICE_MISUSE;
    *out = NULL;
    sl_err_clear(&db->err);
    db->interrupted = 0;
    sluice_stmt *st = sl_calloc(1, sizeof(*st));
    if (!st)
        return sl_err_set(&db->err, SL_NOMEM, "out of memory");
    st->db = db;
    sl_arena_init(&st->arena, 1 << 14, 0);
    st->len = strlen(sql);
    st->sql = sl_strndup(sql, st->len);
    if (!st->sql) {
        sluice_stmt_finalize(st);
        return sl_err_set(&db->err, SL_NOMEM, "out of memory");
    }
    sl_stmt_list list;
    int rc = sl_parse(st->sql, st->len, &st->arena, &list, &db->err);
    if (rc) {
        sluice_stmt_finalize(st);
        return rc;
    }
    if (list.n == 0) {
        if (tail)
            *tail = sql + st->len;
        sluice_stmt_finalize(st);
        return SLUICE_OK;
    }
    st->stmt = list.items[0];
    if (tail) {
        size_t end = st->stmt->offset + st->stmt->len;
        while (end < st->len && (sql[end] == ' ' || sql[end] == '\t' ||
                                 sql[end] == '\r' || sql[end] == '\n'))
            end++;
        if (end < st->len && sql[end] == ';')
            end++;
        while (end < st->len && (sql[end] == ' ' || sql[end] == '\t' ||
                                 sql[end] == '\r' || sql[end] == '\n'))
            end++;
        *tail = sql + end;
    }
    rc =
        sl_engine_describe_stmt(db, st->sql, st->len, st->stmt, &st->arena,
                                &st->n_cols, &st->names, &st->types, &st->kind);
    if (rc) {
        sluice_stmt_finalize(st);
        return rc;
    }
    *out = st;
    return SLUICE_OK;
}

SLUICE_API int sluice_stmt_column_count(const sluice_stmt *stmt)
{
    return stmt ? stmt->n_cols : 0;
}

SLUICE_API const char *sluice_stmt_column_name(const sluice_stmt *stmt, int i)
{
    return stmt && i >= 0 && i < stmt->n_cols ? stmt->names[i] : NULL;
}

SLUICE_API const char *sluice_stmt_column_type(const sluice_stmt *stmt, int i)
{
    return stmt && i >= 0 && i < stmt->n_cols ? stmt->types[i] : NULL;
}

SLUICE_API int sluice_stmt_result_kind(const sluice_stmt *stmt)
{
    return stmt ? stmt->kind : SLUICE_RESULT_NONE;
}

SLUICE_API int sluice_stmt_run(sluice_stmt *stmt, sluice_row_cb cb, void *ctx)
{
    if (!stmt)
        return SLUICE_MISUSE;
    sluice *db = stmt->db;
    if (stmt->ran)
        return sl_err_reset(&db->err, SL_MISUSE,
                            "a prepared statement runs once");
    stmt->ran = true;
    sl_err_clear(&db->err);
    sl_buf_reset(&db->warnings);
    db->interrupted = 0;
    return sl_engine_exec_stmt(db, stmt->sql, stmt->len, stmt->stmt, cb, ctx);
}

SLUICE_API void sluice_stmt_finalize(sluice_stmt *stmt)
{
    if (!stmt)
        return;
    sl_arena_free(&stmt->arena);
    sl_free(stmt->sql);
    sl_free(stmt);
}

SLUICE_API int64_t sluice_progress_rows_in(const sluice_progress *p)
{
    return p ? p->rows_in : 0;
}

SLUICE_API int64_t sluice_progress_rows_out(const sluice_progress *p)
{
    return p ? p->rows_out : 0;
}

SLUICE_API int64_t sluice_progress_rows_total(const sluice_progress *p)
{
    return p ? p->rows_total : -1;
}

SLUICE_API int64_t sluice_progress_watermark_ms(const sluice_progress *p)
{
    return p ? p->watermark_ms : INT64_MIN;
}

SLUICE_API const char *sluice_progress_job_id(const sluice_progress *p)
{
    return p && p->job_id ? p->job_id : "";
}

SLUICE_API int sluice_progress_handler(sluice *db, int interval_ms,
                                       sluice_progress_cb cb, void *ctx)
{
    if (!db)
        return SLUICE_MISUSE;
    db->progress_cb = cb;
    db->progress_ctx = ctx;
    db->progress_interval_ms = interval_ms > 0 ? interval_ms : 250;
    return SLUICE_OK;
}
