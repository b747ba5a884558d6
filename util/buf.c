/*
 * buf.c: bounded growable byte buffers with a sticky error.
 *
 * Used wherever text is assembled: unparsed SQL, encoded records, HTTP
 * bodies, error excerpts. The buffer refuses to grow past max_len (as curl's
 * dynbuf does) so no producer can exhaust memory.
 */
#include <stdio.h>
#include <string.h>

#include "util.h"

void sl_buf_init(sl_buf *buf, size_t max_len)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->max_len = max_len ? max_len : ((size_t)1 << 30);
    buf->rc = SL_OK;
}

static int grow(sl_buf *buf, size_t extra)
{
    if (buf->rc)
        return buf->rc;
    if (extra > buf->max_len || buf->len > buf->max_len - extra) {
        buf->rc = SL_LIMIT;
        return buf->rc;
    }
    size_t need = buf->len + extra + 1;
    if (need <= buf->cap)
        return SL_OK;
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = sl_realloc(buf->data, cap);
    if (!p) {
        buf->rc = SL_NOMEM;
        return buf->rc;
    }
    buf->data = p;
    buf->cap = cap;
    return SL_OK;
}

int sl_buf_append(sl_buf *buf, const void *data, size_t len)
{
    if (grow(buf, len))
        return buf->rc;
    if (len)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return SL_OK;
}

int sl_buf_puts(sl_buf *buf, const char *s)
{
    return sl_buf_append(buf, s, strlen(s));
}

int sl_buf_putc(sl_buf *buf, char c)
{
    return sl_buf_append(buf, &c, 1);
}

int sl_buf_vprintf(sl_buf *buf, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) {
        if (!buf->rc)
            buf->rc = SL_ERROR;
        return buf->rc;
    }
    if (grow(buf, (size_t)n))
        return buf->rc;
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    buf->len += (size_t)n;
    return SL_OK;
}

int sl_buf_printf(sl_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = sl_buf_vprintf(buf, fmt, ap);
    va_end(ap);
    return rc;
}

void sl_buf_reset(sl_buf *buf)
{
    buf->len = 0;
    if (buf->data)
        buf->data[0] = '\0';
    buf->rc = SL_OK;
}

char *sl_buf_steal(sl_buf *buf)
{
    char *d = buf->data;
    if (!d)
        d = sl_strdup("");
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    return d;
}

void sl_buf_free(sl_buf *buf)
{
    sl_free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

const char *sl_buf_cstr(const sl_buf *buf)
{
    return buf->data ? buf->data : "";
}
