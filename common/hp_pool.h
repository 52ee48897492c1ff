/*
 * hp_pool: a per-request (or per-job) memory pool. Allocations and registered
 * cleanups (PGresult, json_object, anything with a free function) are released
 * together by hp_pool_free, in reverse order of registration. Not thread-safe:
 * one pool belongs to one request or job.
 */
#ifndef HP_POOL_H
#define HP_POOL_H

#include <stddef.h>

typedef struct hp_pool hp_pool;
typedef void (*hp_pool_cleanup_fn)(void *ptr);

/* Returns a new empty pool; never NULL. */
hp_pool *hp_pool_new(void);
/* Runs every cleanup (newest first) and frees every allocation; NULL is fine. */
void hp_pool_free(hp_pool *p);
/* Zeroed memory owned by the pool; never NULL. */
void *hp_pool_alloc(hp_pool *p, size_t n);
char *hp_pool_strdup(hp_pool *p, const char *s);
char *hp_pool_strndup(hp_pool *p, const char *s, size_t n);
char *hp_pool_printf(hp_pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Registers fn(ptr) to run at hp_pool_free; returns ptr for chaining. ptr NULL
 * registers nothing. */
void *hp_pool_defer(hp_pool *p, hp_pool_cleanup_fn fn, void *ptr);

#endif
