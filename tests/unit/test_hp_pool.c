/*
 * Unit tests for hp_pool: allocations are zeroed and aligned, string helpers
 * copy exactly, deferred cleanups run exactly once and newest first when the
 * pool is freed, a cleanup may still read pool memory and may defer more
 * work, and NULL pointers register nothing. ASan (the unit build's default)
 * reports any allocation the pool forgets to free.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <json-c/json.h>

#include "hp_pool.h"
#include "hp_unit.h"

static int order[16];
static int norder;

static void record(void *ptr)
{
    if (norder < 16)
        order[norder++] = *(int *)ptr;
}

static void test_alloc(void)
{
    hp_pool *p = hp_pool_new();
    unsigned char *a = hp_pool_alloc(p, 100);
    int zero = 1;

    for (int i = 0; i < 100; i++)
        zero &= a[i] == 0;
    CU_ASSERT_TRUE(zero);
    for (size_t n = 1; n < 40; n++) {
        void *q = hp_pool_alloc(p, n);
        CU_ASSERT_EQUAL((uintptr_t)q % alignof(max_align_t), 0);
    }
    CU_ASSERT_PTR_NOT_NULL(hp_pool_alloc(p, 0));
    hp_pool_free(p);
    hp_pool_free(NULL);
}

static void test_strings(void)
{
    hp_pool *p = hp_pool_new();

    CU_ASSERT_STRING_EQUAL(hp_pool_strdup(p, "abc"), "abc");
    CU_ASSERT_STRING_EQUAL(hp_pool_strndup(p, "abcdef", 3), "abc");
    CU_ASSERT_STRING_EQUAL(hp_pool_strndup(p, "ab", 10), "ab");
    CU_ASSERT_STRING_EQUAL(hp_pool_printf(p, "%s/%d", "id", 42), "id/42");
    CU_ASSERT_STRING_EQUAL(hp_pool_printf(p, "%s", ""), "");
    hp_pool_free(p);
}

static void test_cleanup_order(void)
{
    hp_pool *p = hp_pool_new();
    int *v[4];

    norder = 0;
    for (int i = 0; i < 4; i++) {
        v[i] = hp_pool_alloc(p, sizeof(int));
        *v[i] = i + 1;
        /* The value lives in the pool: cleanups run before memory is freed. */
        CU_ASSERT_PTR_EQUAL(hp_pool_defer(p, record, v[i]), v[i]);
    }
    CU_ASSERT_EQUAL(norder, 0); /* nothing runs before hp_pool_free */
    hp_pool_free(p);
    CU_ASSERT_EQUAL(norder, 4);
    CU_ASSERT_EQUAL(order[0], 4);
    CU_ASSERT_EQUAL(order[1], 3);
    CU_ASSERT_EQUAL(order[2], 2);
    CU_ASSERT_EQUAL(order[3], 1);
}

static hp_pool *nested_pool;
static int nested_value = 99;

static void defer_more(void *ptr)
{
    record(ptr);
    hp_pool_defer(nested_pool, record, &nested_value);
    (void)hp_pool_alloc(nested_pool, 32); /* freed with the rest */
}

static void test_cleanup_defers(void)
{
    static int a = 1, b = 2;

    norder = 0;
    nested_pool = hp_pool_new();
    hp_pool_defer(nested_pool, record, &a);
    hp_pool_defer(nested_pool, defer_more, &b);
    hp_pool_free(nested_pool);
    CU_ASSERT_EQUAL(norder, 3);
    CU_ASSERT_EQUAL(order[0], 2);  /* defer_more, the newest */
    CU_ASSERT_EQUAL(order[1], 1);  /* the first record */
    CU_ASSERT_EQUAL(order[2], 99); /* added during cleanup, still run */
}

static void put_json(void *ptr)
{
    json_object_put(ptr);
}

static void test_null_and_real_cleanups(void)
{
    hp_pool *p = hp_pool_new();
    json_object *o;

    norder = 0;
    CU_ASSERT_PTR_NULL(hp_pool_defer(p, record, NULL)); /* registers nothing */
    o = hp_pool_defer(p, put_json, json_object_new_object());
    json_object_object_add(o, "k", json_object_new_string("v"));
    hp_pool_defer(p, free, malloc(64));
    hp_pool_free(p); /* ASan would report the object or block if leaked */
    CU_ASSERT_EQUAL(norder, 0);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"alloc", test_alloc},
        {"strings", test_strings},
        {"cleanups newest first", test_cleanup_order},
        {"cleanup defers more", test_cleanup_defers},
        {"null and real cleanups", test_null_and_real_cleanups},
        {NULL, NULL},
    };
    return hp_unit_main("hp_pool", tests);
}
