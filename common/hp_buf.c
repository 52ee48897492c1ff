/*
 * hp_buf: a growable byte buffer with a hard cap fixed at initialisation, in
 * the manner of curl's dynbuf. Request bodies and webhook responses are read
 * through it, so an oversized peer gets HP_ERR_PAYLOAD_TOO_LARGE instead of
 * our memory. The data is always NUL-terminated after a successful append so
 * text can be handed to C string functions; binary data may contain NULs and
 * callers then use len. Growth aborts on out-of-memory like every small
 * allocation (hp_mem); only the cap is an error. Not thread-safe.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_buf.h"
#include "hp_mem.h"

#define HP__BUF_MIN 64

void hp_buf_init(hp_buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void hp_buf_free(hp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
}

void hp_buf_reset(hp_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

/* Makes room for n more bytes plus the NUL, or refuses past the cap. */
static hp_err hp__buf_reserve(hp_buf *b, size_t n)
{
    size_t need, a;

    if (n > b->cap - b->len) /* len <= cap always holds */
        return HP_ERR_PAYLOAD_TOO_LARGE;
    need = b->len + n + 1;
    if (need == 0) /* only when cap is SIZE_MAX */
        return HP_ERR_PAYLOAD_TOO_LARGE;
    if (need <= b->alloc)
        return HP_OK;
    a = b->alloc ? b->alloc : HP__BUF_MIN;
    while (a < need)
        a = a > ((size_t)-1) / 2 ? need : a * 2;
    /* Never allocate more than the cap can ever use (need <= cap + 1). */
    if (b->cap < (size_t)-1 && a > b->cap + 1)
        a = b->cap + 1;
    b->data = hp_xrealloc(b->data, a);
    b->alloc = a;
    return HP_OK;
}

hp_err hp_buf_append(hp_buf *b, const void *data, size_t n)
{
    hp_err rc = hp__buf_reserve(b, n);

    if (rc != HP_OK)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return HP_OK;
}

hp_err hp_buf_puts(hp_buf *b, const char *s)
{
    return hp_buf_append(b, s, strlen(s));
}

hp_err hp_buf_printf(hp_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    hp_err rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return HP_ERR_INTERNAL;
    rc = hp__buf_reserve(b, (size_t)n);
    if (rc != HP_OK)
        return rc;
    va_start(ap, fmt);
    (void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return HP_OK;
}

char *hp_buf_steal(hp_buf *b)
{
    char *d = b->data;

    if (d == NULL)
        d = hp_xstrdup("");
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    return d;
}
