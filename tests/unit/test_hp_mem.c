/*
 * Unit tests for hp_mem: the x-allocators return usable memory (zero sizes
 * included), the string helpers copy exactly, and the test-build hook
 * hp_mem_fail_after sends exactly the chosen allocation down the
 * out-of-memory path, which writes one JSON line and aborts. The abort is
 * observed from a forked child, never in the test process itself.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "hp_mem.h"
#include "hp_unit.h"

static void test_alloc(void)
{
    char *p = hp_xmalloc(16);
    unsigned char *z = hp_xcalloc(4, 8);
    int zero = 1;

    memset(p, 'a', 16);
    for (int i = 0; i < 32; i++)
        zero &= z[i] == 0;
    CU_ASSERT_TRUE(zero);
    p = hp_xrealloc(p, 4096);
    CU_ASSERT_EQUAL(p[15], 'a');
    free(p);
    free(z);
    /* Zero sizes still give a pointer that free() accepts. */
    p = hp_xmalloc(0);
    CU_ASSERT_PTR_NOT_NULL(p);
    free(p);
    p = hp_xcalloc(0, 10);
    CU_ASSERT_PTR_NOT_NULL(p);
    p = hp_xrealloc(p, 0);
    CU_ASSERT_PTR_NOT_NULL(p);
    free(p);
}

static void test_strings(void)
{
    char *s = hp_xstrdup("hello");
    CU_ASSERT_STRING_EQUAL(s, "hello");
    free(s);
    s = hp_xstrndup("hello", 3);
    CU_ASSERT_STRING_EQUAL(s, "hel");
    free(s);
    s = hp_xstrndup("hi", 10);
    CU_ASSERT_STRING_EQUAL(s, "hi");
    free(s);
    s = hp_xasprintf("%s-%d-%05.1f", "x", 42, 2.5);
    CU_ASSERT_STRING_EQUAL(s, "x-42-002.5");
    free(s);
    s = hp_xasprintf("%s", "");
    CU_ASSERT_STRING_EQUAL(s, "");
    free(s);
}

/* Runs `allocs` allocations in a child after hp_mem_fail_after(n). Returns
 * how many succeeded (each reports one byte on a pipe) and whether the child
 * died of SIGABRT with "out of memory" on stderr. */
static int run_child(long n, int allocs, int *aborted, int *said_oom)
{
    int okp[2], errp[2], status = 0, count = 0;
    char buf[512];
    ssize_t k;
    size_t got = 0;
    pid_t pid;

    CU_ASSERT_FATAL(pipe(okp) == 0 && pipe(errp) == 0);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        close(okp[0]);
        close(errp[0]);
        dup2(errp[1], STDERR_FILENO);
        hp_mem_fail_after(n);
        for (int i = 0; i < allocs; i++) {
            void *p = (i % 3 == 0)   ? hp_xmalloc(32)
                      : (i % 3 == 1) ? hp_xcalloc(2, 16)
                                     : (void *)hp_xstrdup("abc");
            free(p);
            if (write(okp[1], "+", 1) != 1)
                _exit(3);
        }
        _exit(0);
    }
    close(okp[1]);
    close(errp[1]);
    while ((k = read(okp[0], buf, sizeof(buf))) > 0)
        count += (int)k;
    while (got < sizeof(buf) - 1 && (k = read(errp[0], buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)k;
    buf[got] = '\0';
    close(okp[0]);
    close(errp[0]);
    CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
    *aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
    *said_oom = strstr(buf, "\"msg\":\"out of memory\"") != NULL;
    return count;
}

static void test_fail_after(void)
{
    int aborted = 0, oom = 0;

    CU_ASSERT_EQUAL(run_child(2, 5, &aborted, &oom), 2);
    CU_ASSERT_TRUE(aborted);
    CU_ASSERT_TRUE(oom);
    CU_ASSERT_EQUAL(run_child(0, 5, &aborted, &oom), 0);
    CU_ASSERT_TRUE(aborted);
    CU_ASSERT_TRUE(oom);
    /* -1 disables the hook. */
    CU_ASSERT_EQUAL(run_child(-1, 5, &aborted, &oom), 5);
    CU_ASSERT_FALSE(aborted);
    CU_ASSERT_FALSE(oom);
    /* Enough budget: nothing fails. */
    CU_ASSERT_EQUAL(run_child(10, 5, &aborted, &oom), 5);
    CU_ASSERT_FALSE(aborted);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"alloc", test_alloc},
        {"strings", test_strings},
        {"fail_after", test_fail_after},
        {NULL, NULL},
    };
    return hp_unit_main("hp_mem", tests);
}
