/*
 * hp_mem: allocation that aborts when memory runs out (small allocations only;
 * size limits are checked by callers and returned as errors), plus a test-build
 * hook that makes the Nth allocation fail so out-of-memory paths can be tested.
 */
#ifndef HP_MEM_H
#define HP_MEM_H

#include <stdarg.h>
#include <stddef.h>

/* Each returns memory the caller frees with free(); never returns NULL. */
void *hp_xmalloc(size_t n);
void *hp_xcalloc(size_t count, size_t n);
void *hp_xrealloc(void *p, size_t n);
char *hp_xstrdup(const char *s);
char *hp_xstrndup(const char *s, size_t n);
/* printf into a new heap string (caller frees). */
char *hp_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The va_list form of hp_xasprintf, for other printf-like helpers (pools,
 * buffers, issue collectors); ap is consumed. */
char *hp_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Gives back to the system the pages of the calling thread's stack below
 * the caller's frame (touched by deeper calls that have returned), for a
 * thread about to sleep for long. Cheap after the first call on a thread;
 * never fails (does nothing where the stack bounds are unknown). */
void hp_mem_stack_trim(void);

#ifdef HP_TESTING
/* Test builds: the allocation after `n` more successful ones aborts through the
 * normal out-of-memory path; -1 disables. Thread-safe. */
void hp_mem_fail_after(long n);
#endif

#endif
