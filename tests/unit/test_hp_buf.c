/*
 * Unit tests for hp_buf: appends keep the data NUL-terminated, the cap is
 * exact (reaching it is fine, passing it is HP_ERR_PAYLOAD_TOO_LARGE and
 * leaves the buffer unchanged), printf obeys the same cap, and reset, steal
 * and free leave the buffer reusable.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_buf.h"
#include "hp_unit.h"

static void test_append(void)
{
    hp_buf b;

    hp_buf_init(&b, 1024);
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_EQUAL(hp_buf_puts(&b, "hello"), HP_OK);
    CU_ASSERT_EQUAL(hp_buf_append(&b, ", world", 7), HP_OK);
    CU_ASSERT_EQUAL(b.len, 12);
    CU_ASSERT_STRING_EQUAL(b.data, "hello, world");
    CU_ASSERT_EQUAL(hp_buf_append(&b, "\0x", 2), HP_OK); /* binary data is fine */
    CU_ASSERT_EQUAL(b.len, 14);
    CU_ASSERT_EQUAL(memcmp(b.data, "hello, world\0x", 15), 0);
    hp_buf_free(&b);
    CU_ASSERT_PTR_NULL(b.data);
}

static void test_empty_append(void)
{
    hp_buf b;

    hp_buf_init(&b, 0);
    CU_ASSERT_EQUAL(hp_buf_append(&b, NULL, 0), HP_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b.data); /* terminated even when empty */
    CU_ASSERT_STRING_EQUAL(b.data, "");
    CU_ASSERT_EQUAL(hp_buf_puts(&b, "x"), HP_ERR_PAYLOAD_TOO_LARGE);
    hp_buf_free(&b);
}

static void test_cap(void)
{
    hp_buf b;
    char big[100];

    memset(big, 'z', sizeof(big));
    hp_buf_init(&b, 10);
    CU_ASSERT_EQUAL(hp_buf_append(&b, big, 6), HP_OK);
    CU_ASSERT_EQUAL(hp_buf_append(&b, big, 5), HP_ERR_PAYLOAD_TOO_LARGE);
    CU_ASSERT_EQUAL(b.len, 6); /* unchanged */
    CU_ASSERT_EQUAL(strlen(b.data), 6);
    CU_ASSERT_EQUAL(hp_buf_append(&b, big, 4), HP_OK); /* exactly the cap */
    CU_ASSERT_EQUAL(b.len, 10);
    CU_ASSERT_EQUAL(hp_buf_append(&b, big, 1), HP_ERR_PAYLOAD_TOO_LARGE);
    CU_ASSERT_EQUAL(hp_buf_append(&b, big, (size_t)-1), HP_ERR_PAYLOAD_TOO_LARGE);
    CU_ASSERT_EQUAL(b.data[10], '\0');
    CU_ASSERT(b.alloc <= 11); /* never allocates beyond what the cap can use */
    hp_buf_free(&b);
}

static void test_growth(void)
{
    hp_buf b;
    char chunk[1000];

    memset(chunk, 'q', sizeof(chunk));
    hp_buf_init(&b, 1u << 20);
    for (int i = 0; i < 500; i++)
        CU_ASSERT_EQUAL_FATAL(hp_buf_append(&b, chunk, sizeof(chunk)), HP_OK);
    CU_ASSERT_EQUAL(b.len, 500000);
    CU_ASSERT_EQUAL(b.data[499999], 'q');
    CU_ASSERT_EQUAL(b.data[500000], '\0');
    hp_buf_free(&b);
}

static void test_printf(void)
{
    hp_buf b;

    hp_buf_init(&b, 16);
    CU_ASSERT_EQUAL(hp_buf_printf(&b, "%d:%s", 7, "abc"), HP_OK);
    CU_ASSERT_EQUAL(hp_buf_printf(&b, "-%03d", 5), HP_OK);
    CU_ASSERT_STRING_EQUAL(b.data, "7:abc-005");
    CU_ASSERT_EQUAL(b.len, 9);
    CU_ASSERT_EQUAL(hp_buf_printf(&b, "%s", "12345678"), HP_ERR_PAYLOAD_TOO_LARGE);
    CU_ASSERT_STRING_EQUAL(b.data, "7:abc-005");                /* unchanged */
    CU_ASSERT_EQUAL(hp_buf_printf(&b, "%s", "1234567"), HP_OK); /* 16 exactly */
    CU_ASSERT_EQUAL(b.len, 16);
    hp_buf_free(&b);
}

static void test_reset_steal(void)
{
    hp_buf b;
    char *s;

    hp_buf_init(&b, 64);
    CU_ASSERT_EQUAL(hp_buf_puts(&b, "first"), HP_OK);
    hp_buf_reset(&b);
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_STRING_EQUAL(b.data, "");
    CU_ASSERT_EQUAL(b.cap, 64);
    CU_ASSERT_EQUAL(hp_buf_puts(&b, "second"), HP_OK);
    s = hp_buf_steal(&b);
    CU_ASSERT_STRING_EQUAL(s, "second");
    CU_ASSERT_PTR_NULL(b.data);
    CU_ASSERT_EQUAL(b.len, 0);
    free(s);
    /* Stealing from a never-used buffer still gives a string to free. */
    s = hp_buf_steal(&b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "");
    free(s);
    CU_ASSERT_EQUAL(hp_buf_puts(&b, "third"), HP_OK); /* reusable after steal */
    CU_ASSERT_STRING_EQUAL(b.data, "third");
    hp_buf_free(&b);
    hp_buf_init(&b, 8);
    CU_ASSERT_EQUAL(hp_buf_puts(&b, "again"), HP_OK); /* reusable after free + init */
    hp_buf_free(&b);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"append", test_append},
        {"empty append", test_empty_append},
        {"cap", test_cap},
        {"growth", test_growth},
        {"printf", test_printf},
        {"reset and steal", test_reset_steal},
        {NULL, NULL},
    };
    return hp_unit_main("hp_buf", tests);
}
