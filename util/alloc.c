/*
 * alloc.c: the allocation wrappers of util.h.
 *
 * The one file allowed to call malloc/realloc/free directly (see
 * scripts/check-source.sh). A failure counter lets tests make allocations
 * fail in turn, as curl's torture mode and SQLite's anomaly tests do, to
 * prove the library returns SLUICE_NOMEM instead of crashing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static long fail_after = -1; /* test hook; -1 disables */

static bool should_fail(void)
{
    if (fail_after < 0)
        return false;
    if (fail_after == 0)
        return true;
    fail_after--;
    return false;
}

void sl_alloc_fail_after(long n)
{
    fail_after = n;
}

void *sl_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *sl_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *sl_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void sl_free(void *p)
{
    free(p);
}

char *sl_strndup(const char *s, size_t len)
{
    char *d = sl_malloc(len + 1);
    if (!d)
        return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *sl_strdup(const char *s)
{
    return s ? sl_strndup(s, strlen(s)) : NULL;
}

char *sl_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *d = sl_malloc((size_t)n + 1);
    if (!d)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}
