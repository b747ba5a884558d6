/*
 * err.c: error records and result-code names.
 *
 * One result-code convention for the whole library (0 is OK); this file
 * holds the table that names each code, which sluice_errname/errstr expose.
 */
#include <stdio.h>

#include "util.h"

static const struct {
    const char *name;
    const char *str;
} codes[] = {
    [SLUICE_OK] = {"SLUICE_OK", "not an error"},
    [SLUICE_ERROR] = {"SLUICE_ERROR", "error"},
    [SLUICE_NOMEM] = {"SLUICE_NOMEM", "out of memory"},
    [SLUICE_MISUSE] = {"SLUICE_MISUSE", "API misuse"},
    [SLUICE_SQL] = {"SLUICE_SQL", "SQL error"},
    [SLUICE_RUNTIME] = {"SLUICE_RUNTIME", "job failed at run time"},
    [SLUICE_NOTFOUND] = {"SLUICE_NOTFOUND", "not found"},
    [SLUICE_IO] = {"SLUICE_IO", "I/O error"},
    [SLUICE_TIMEOUT] = {"SLUICE_TIMEOUT", "timed out"},
    [SLUICE_INTERRUPTED] = {"SLUICE_INTERRUPTED", "interrupted"},
    [SLUICE_UNSUPPORTED] = {"SLUICE_UNSUPPORTED", "not supported"},
    [SLUICE_LIMIT] = {"SLUICE_LIMIT", "limit exceeded"},
    [SLUICE_EXISTS] = {"SLUICE_EXISTS", "already exists"},
    [SLUICE_ABORT] = {"SLUICE_ABORT", "stopped by callback"},
};

SLUICE_API const char *sluice_errname(int rc)
{
    if (rc < 0 || (size_t)rc >= SL_ARRAY_LEN(codes) || !codes[rc].name)
        return "SLUICE_UNKNOWN";
    return codes[rc].name;
}

SLUICE_API const char *sluice_errstr(int rc)
{
    if (rc < 0 || (size_t)rc >= SL_ARRAY_LEN(codes) || !codes[rc].str)
        return "unknown error";
    return codes[rc].str;
}

void sl_err_clear(sl_err *err)
{
    err->code = SL_OK;
    err->msg[0] = '\0';
}

int sl_err_vset(sl_err *err, int code, const char *fmt, va_list ap)
{
    if (err->code != SL_OK)
        return code;
    err->code = code;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    return code;
}

int sl_err_set(sl_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_err_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int sl_err_reset(sl_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    sl_err_clear(err);
    va_start(ap, fmt);
    sl_err_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}
