/*
 * hp_mem: allocation wrappers that never return NULL. When malloc fails the
 * process writes one JSON line to stderr and aborts: a service that cannot
 * allocate a few hundred bytes cannot answer the request it is working on,
 * and unwinding every small allocation by hand would cost more bugs than it
 * saves. Size limits (bodies, webhook responses) are not handled here; callers
 * check them first and return errors. Test builds add hp_mem_fail_after, which
 * sends one chosen allocation down the same out-of-memory path.
 *
 * hp_mem_stack_trim gives back the stack pages a thread touched in deeper
 * calls before it sleeps for long (a waiting request): only the pages below
 * the caller's frame, which no live frame uses, so the next deep call finds
 * zero-filled pages again. The thread's stack bounds are read once and kept
 * in thread-local storage.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>

#include "hp_mem.h"

#ifdef HP_TESTING
#include <stdatomic.h>

/* Allocations left before the injected failure; -1 = disabled. */
static atomic_long hp__mem_budget = -1;

void hp_mem_fail_after(long n)
{
    atomic_store(&hp__mem_budget, n < 0 ? -1 : n);
}

/* True when this allocation must fail. Lock-free so it is safe from any
 * thread: the budget is taken with compare-and-swap, one unit per call. */
static int hp__mem_inject(void)
{
    long v = atomic_load(&hp__mem_budget);
    for (;;) {
        if (v < 0)
            return 0;
        if (v == 0)
            return 1;
        if (atomic_compare_exchange_weak(&hp__mem_budget, &v, v - 1))
            return 0;
    }
}
#else
#define hp__mem_inject() 0
#endif

/* Reports and aborts. Uses only a stack buffer and write(2): the heap is the
 * thing that just failed. */
static _Noreturn void hp__mem_oom(size_t n)
{
    char line[128];
    int k = snprintf(line, sizeof(line),
                     "{\"level\":\"error\",\"msg\":\"out of memory\",\"bytes\":%zu}\n", n);
    if (k > 0)
        (void)!write(STDERR_FILENO, line, (size_t)k < sizeof(line) ? (size_t)k : sizeof(line) - 1);
    abort();
}

void *hp_xmalloc(size_t n)
{
    void *p = hp__mem_inject() ? NULL : malloc(n ? n : 1);
    if (p == NULL)
        hp__mem_oom(n);
    return p;
}

void *hp_xcalloc(size_t count, size_t n)
{
    void *p;
    if (count == 0 || n == 0)
        count = n = 1;
    p = hp__mem_inject() ? NULL : calloc(count, n);
    if (p == NULL)
        hp__mem_oom(n > 0 && count > ((size_t)-1) / n ? (size_t)-1 : count * n);
    return p;
}

void *hp_xrealloc(void *p, size_t n)
{
    void *q = hp__mem_inject() ? NULL : realloc(p, n ? n : 1);
    if (q == NULL)
        hp__mem_oom(n);
    return q;
}

char *hp_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = hp_xmalloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *hp_xstrdup(const char *s)
{
    size_t len = strlen(s);
    char *d = hp_xmalloc(len + 1);
    memcpy(d, s, len + 1);
    return d;
}

char *hp_xvasprintf(const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    char *s;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) /* only for an invalid format or a length beyond INT_MAX */
        hp__mem_oom(0);
    s = hp_xmalloc((size_t)n + 1);
    (void)vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *hp_xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = hp_xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}

/* Stack kept below the trimming frame: room for the calls that follow it
 * (the sleep itself) without faulting pages straight back in. */
#define HP__TRIM_KEEP 2048

void hp_mem_stack_trim(void)
{
    static __thread uintptr_t lo; /* lowest usable address of this thread's stack */
    static __thread bool known;
    uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), from, to;

    if (!known) {
        pthread_attr_t a;
        void *addr;
        size_t size;

        known = true;
        if (pthread_getattr_np(pthread_self(), &a) == 0) {
            if (pthread_attr_getstack(&a, &addr, &size) == 0)
                lo = (uintptr_t)addr;
            pthread_attr_destroy(&a);
        }
    }
    if (lo == 0 || fp < lo + 2 * HP__TRIM_KEEP)
        return;
    from = (lo + page - 1) & ~(page - 1);
    to = (fp - HP__TRIM_KEEP) & ~(page - 1);
    if (to > from)
        (void)madvise((void *)from, to - from, MADV_DONTNEED);
}
