/*
 * hp_pool: the memory of one request or one job. Every allocation and every
 * registered cleanup is a node on one list, newest first; hp_pool_free first
 * runs the cleanups newest-first (so a cleanup registered after an object was
 * created runs before anything that object depends on), and only then frees
 * the memory, so a cleanup may still read any pool allocation. Each allocation
 * is its own malloc block rather than a slice of an arena: requests make few
 * allocations, and separate blocks let AddressSanitizer see overruns.
 * Allocation aborts on out-of-memory (hp_mem). One pool, one thread.
 */
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_mem.h"
#include "hp_pool.h"

typedef struct hp__pool_node {
    struct hp__pool_node *next;
    hp_pool_cleanup_fn fn; /* NULL for an allocation (data follows the header) */
    void *ptr;
} hp__pool_node;

struct hp_pool {
    hp__pool_node *head;
};

/* Header size rounded up so the data after it is aligned for any type. */
#define HP__POOL_HDR                                                                               \
    ((sizeof(hp__pool_node) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1))

hp_pool *hp_pool_new(void)
{
    hp_pool *p = hp_xmalloc(sizeof(*p));
    p->head = NULL;
    return p;
}

void hp_pool_free(hp_pool *p)
{
    hp__pool_node *batch, *n, *next, *dead = NULL;

    if (p == NULL)
        return;
    /* A cleanup may allocate or defer more; detach the list before walking
     * it and go round again for whatever the cleanups added. Memory is freed
     * only after the last cleanup. */
    while ((batch = p->head) != NULL) {
        p->head = NULL;
        for (n = batch; n != NULL; n = next) {
            next = n->next;
            if (n->fn != NULL)
                n->fn(n->ptr);
            n->next = dead;
            dead = n;
        }
    }
    for (n = dead; n != NULL; n = next) {
        next = n->next;
        free(n);
    }
    free(p);
}

void *hp_pool_alloc(hp_pool *p, size_t n)
{
    hp__pool_node *node;

    if (n > (size_t)-1 - HP__POOL_HDR)
        n = (size_t)-1 - HP__POOL_HDR; /* hp_xcalloc reports it as out of memory */
    node = hp_xcalloc(1, HP__POOL_HDR + n);
    node->next = p->head;
    p->head = node;
    return (char *)node + HP__POOL_HDR;
}

char *hp_pool_strndup(hp_pool *p, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = hp_pool_alloc(p, len + 1);
    memcpy(d, s, len);
    return d; /* zeroed, so already terminated */
}

char *hp_pool_strdup(hp_pool *p, const char *s)
{
    return hp_pool_strndup(p, s, strlen(s));
}

char *hp_pool_printf(hp_pool *p, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *d;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0; /* invalid format: an empty string rather than a crash */
    d = hp_pool_alloc(p, (size_t)n + 1);
    if (n > 0) {
        va_start(ap, fmt);
        (void)vsnprintf(d, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return d;
}

void *hp_pool_defer(hp_pool *p, hp_pool_cleanup_fn fn, void *ptr)
{
    hp__pool_node *node;

    if (ptr == NULL || fn == NULL)
        return ptr;
    node = hp_xmalloc(sizeof(*node));
    node->fn = fn;
    node->ptr = ptr;
    node->next = p->head;
    p->head = node;
    return ptr;
}
