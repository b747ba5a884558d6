/*
 * str.c: string, number and clock helpers.
 *
 * Strict parsers (the whole text must be a number; no atoi), bounded copies,
 * case-insensitive comparison for SQL keywords and names, the edit distance
 * behind "did you mean" hints, and the two clocks the runtime uses.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

size_t sl_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

int sl_snprintf(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(dst, size, fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (size)
            dst[0] = '\0';
        return 0;
    }
    return n;
}

bool sl_str_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
    return *a == *b;
}

bool sl_str_nieq(const char *a, size_t a_len, const char *b)
{
    size_t i = 0;
    for (; i < a_len && b[i]; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return false;
    return i == a_len && b[i] == '\0';
}

static bool trim(const char **s, size_t *len)
{
    while (*len && isspace((unsigned char)**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && isspace((unsigned char)(*s)[*len - 1]))
        (*len)--;
    return *len > 0 && *len < 64;
}

int sl_parse_int64(const char *s, size_t len, int64_t *out)
{
    char tmp[64];
    if (!trim(&s, &len))
        return SL_ERROR;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    errno = 0;
    char *end = NULL;
    long long v = strtoll(tmp, &end, 10);
    if (errno || end != tmp + len)
        return SL_ERROR;
    *out = (int64_t)v;
    return SL_OK;
}

int sl_parse_double(const char *s, size_t len, double *out)
{
    char tmp[64];
    if (!trim(&s, &len))
        return SL_ERROR;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    errno = 0;
    char *end = NULL;
    double v = strtod(tmp, &end);
    if (end != tmp + len || (errno == ERANGE && v != 0.0))
        return SL_ERROR;
    *out = v;
    return SL_OK;
}

int sl_edit_distance(const char *a, const char *b, int cap)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return cap + 1;
    int row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int prev = row[0];
        row[0] = (int)i;
        int best = row[0];
        for (size_t j = 1; j <= lb; j++) {
            int cur = row[j];
            int cost = tolower((unsigned char)a[i - 1]) !=
                       tolower((unsigned char)b[j - 1]);
            int v = prev + cost;
            if (row[j] + 1 < v)
                v = row[j] + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            row[j] = v;
            prev = cur;
            if (v < best)
                best = v;
        }
        if (best > cap)
            return cap + 1;
    }
    return row[lb] > cap ? cap + 1 : row[lb];
}

int64_t sl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sl_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
