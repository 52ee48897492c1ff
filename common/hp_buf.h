/*
 * hp_buf: a growable byte buffer with a hard cap set when it is initialised,
 * so request bodies and webhook responses stay bounded (curl's dynbuf).
 */
#ifndef HP_BUF_H
#define HP_BUF_H

#include <stddef.h>

#include "hp_err.h"

typedef struct hp_buf {
    char *data; /* NUL-terminated after every successful append */
    size_t len;
    size_t alloc;
    size_t cap; /* maximum len */
} hp_buf;

/* Initialises an empty buffer that may hold at most cap bytes. */
void hp_buf_init(hp_buf *b, size_t cap);
/* Frees the contents; b may be reused after hp_buf_init. */
void hp_buf_free(hp_buf *b);
/* Empties the buffer, keeping its memory and cap. */
void hp_buf_reset(hp_buf *b);
/* Appends n bytes; HP_ERR_PAYLOAD_TOO_LARGE (buffer unchanged) past the cap. */
HP_MUSTCHECK hp_err hp_buf_append(hp_buf *b, const void *data, size_t n);
HP_MUSTCHECK hp_err hp_buf_puts(hp_buf *b, const char *s);
HP_MUSTCHECK hp_err hp_buf_printf(hp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the data to the caller (free() it); the buffer becomes empty. */
char *hp_buf_steal(hp_buf *b);

#endif
