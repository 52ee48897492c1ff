/*
 * Unit tests for hp_str: bounded copy and format (truncation is reported and
 * the result stays terminated), the strict integer parser that replaces atoi,
 * the UTF-8 code point counter with each invalid form (overlongs, surrogates,
 * values past U+10FFFF, stray continuation bytes, truncation), and the ASCII
 * comparisons.
 */
#include <limits.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_str.h"
#include "hp_unit.h"

static void test_strlcpy(void)
{
    char buf[8];

    CU_ASSERT_EQUAL(hp_strlcpy(buf, "abc", sizeof(buf)), 3);
    CU_ASSERT_STRING_EQUAL(buf, "abc");
    CU_ASSERT_EQUAL(hp_strlcpy(buf, "abcdefgh", sizeof(buf)), 8); /* >= cap: truncated */
    CU_ASSERT_STRING_EQUAL(buf, "abcdefg");
    CU_ASSERT_EQUAL(hp_strlcpy(buf, "", sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "");
    buf[0] = 'x';
    CU_ASSERT_EQUAL(hp_strlcpy(buf, "abc", 0), 3); /* cap 0 writes nothing */
    CU_ASSERT_EQUAL(buf[0], 'x');
    CU_ASSERT_EQUAL(hp_strlcpy(buf, "abc", 1), 3);
    CU_ASSERT_STRING_EQUAL(buf, "");
}

static void test_fmt(void)
{
    char buf[8];

    CU_ASSERT_TRUE(hp_fmt(buf, sizeof(buf), "%d-%s", 42, "ab"));
    CU_ASSERT_STRING_EQUAL(buf, "42-ab");
    CU_ASSERT_TRUE(hp_fmt(buf, sizeof(buf), "%s", "1234567")); /* exactly fits */
    CU_ASSERT_FALSE(hp_fmt(buf, sizeof(buf), "%s", "12345678"));
    CU_ASSERT_STRING_EQUAL(buf, "1234567");
    CU_ASSERT_FALSE(hp_fmt(buf, 0, "%s", "x"));
}

static void test_parse_ll(void)
{
    long long v = 0;

    CU_ASSERT_TRUE(hp_parse_ll("0", 0, 10, &v));
    CU_ASSERT_EQUAL(v, 0);
    CU_ASSERT_TRUE(hp_parse_ll("-42", -100, 100, &v));
    CU_ASSERT_EQUAL(v, -42);
    CU_ASSERT_TRUE(hp_parse_ll("007", 0, 10, &v));
    CU_ASSERT_EQUAL(v, 7);
    CU_ASSERT_TRUE(hp_parse_ll("9223372036854775807", LLONG_MIN, LLONG_MAX, &v));
    CU_ASSERT_EQUAL(v, LLONG_MAX);
    CU_ASSERT_TRUE(hp_parse_ll("-9223372036854775808", LLONG_MIN, LLONG_MAX, &v));
    CU_ASSERT_EQUAL(v, LLONG_MIN);
    v = 5;
    CU_ASSERT_FALSE(hp_parse_ll("9223372036854775808", LLONG_MIN, LLONG_MAX, &v));
    CU_ASSERT_FALSE(hp_parse_ll("-9223372036854775809", LLONG_MIN, LLONG_MAX, &v));
    CU_ASSERT_FALSE(hp_parse_ll("99999999999999999999999", LLONG_MIN, LLONG_MAX, &v));
    CU_ASSERT_FALSE(hp_parse_ll("", 0, 10, &v));
    CU_ASSERT_FALSE(hp_parse_ll("-", 0, 10, &v));
    CU_ASSERT_FALSE(hp_parse_ll("+1", 0, 10, &v));
    CU_ASSERT_FALSE(hp_parse_ll(" 1", 0, 10, &v));
    CU_ASSERT_FALSE(hp_parse_ll("1 ", 0, 10, &v));
    CU_ASSERT_FALSE(hp_parse_ll("1a", 0, 10, &v));
    CU_ASSERT_FALSE(hp_parse_ll("0x10", 0, 100, &v));
    CU_ASSERT_FALSE(hp_parse_ll("1.0", 0, 10, &v));
    CU_ASSERT_FALSE(hp_parse_ll("11", 0, 10, &v));
    CU_ASSERT_FALSE(hp_parse_ll("-1", 0, 10, &v));
    CU_ASSERT_FALSE(hp_parse_ll(NULL, 0, 10, &v));
    CU_ASSERT_EQUAL(v, 5); /* untouched on failure */
    CU_ASSERT_TRUE(hp_parse_ll("10", 0, 10, NULL));
}

#define U8LEN(lit) hp_utf8_len(lit, sizeof(lit) - 1)

static void test_utf8_valid(void)
{
    CU_ASSERT_EQUAL(U8LEN(""), 0);
    CU_ASSERT_EQUAL(U8LEN("abc"), 3);
    CU_ASSERT_EQUAL(U8LEN("\xc3\xa9"), 1);         /* U+00E9, 2 bytes */
    CU_ASSERT_EQUAL(U8LEN("\xe2\x82\xac"), 1);     /* U+20AC, 3 bytes */
    CU_ASSERT_EQUAL(U8LEN("\xf0\x9f\x98\x80"), 1); /* U+1F600, 4 bytes */
    CU_ASSERT_EQUAL(U8LEN("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"), 5);
    CU_ASSERT_EQUAL(U8LEN("\xc2\x80"), 1);                  /* U+0080, smallest 2-byte */
    CU_ASSERT_EQUAL(U8LEN("\xdf\xbf"), 1);                  /* U+07FF */
    CU_ASSERT_EQUAL(U8LEN("\xe0\xa0\x80"), 1);              /* U+0800, smallest 3-byte */
    CU_ASSERT_EQUAL(U8LEN("\xed\x9f\xbf"), 1);              /* U+D7FF, below surrogates */
    CU_ASSERT_EQUAL(U8LEN("\xee\x80\x80"), 1);              /* U+E000, above surrogates */
    CU_ASSERT_EQUAL(U8LEN("\xef\xbf\xbf"), 1);              /* U+FFFF */
    CU_ASSERT_EQUAL(U8LEN("\xf0\x90\x80\x80"), 1);          /* U+10000 */
    CU_ASSERT_EQUAL(U8LEN("\xf4\x8f\xbf\xbf"), 1);          /* U+10FFFF, the last */
    CU_ASSERT_EQUAL(hp_utf8_len("a\0b", 3), 3);             /* U+0000 is valid */
    CU_ASSERT_EQUAL(hp_utf8_len("\xc3\xa9\xc3\xa9", 2), 1); /* len bounds the scan */
}

static void test_utf8_invalid(void)
{
    /* Overlong forms. */
    CU_ASSERT_EQUAL(U8LEN("\xc0\xaf"), -1); /* '/' in 2 bytes */
    CU_ASSERT_EQUAL(U8LEN("\xc1\xbf"), -1);
    CU_ASSERT_EQUAL(U8LEN("\xe0\x80\xaf"), -1);     /* '/' in 3 bytes */
    CU_ASSERT_EQUAL(U8LEN("\xe0\x9f\xbf"), -1);     /* U+07FF in 3 bytes */
    CU_ASSERT_EQUAL(U8LEN("\xf0\x80\x80\xaf"), -1); /* '/' in 4 bytes */
    CU_ASSERT_EQUAL(U8LEN("\xf0\x8f\xbf\xbf"), -1); /* U+FFFF in 4 bytes */
    /* Surrogates U+D800..U+DFFF. */
    CU_ASSERT_EQUAL(U8LEN("\xed\xa0\x80"), -1);             /* U+D800 */
    CU_ASSERT_EQUAL(U8LEN("\xed\xbf\xbf"), -1);             /* U+DFFF */
    CU_ASSERT_EQUAL(U8LEN("\xed\xa0\xbd\xed\xb8\x80"), -1); /* CESU-8 pair */
    /* Beyond U+10FFFF. */
    CU_ASSERT_EQUAL(U8LEN("\xf4\x90\x80\x80"), -1); /* U+110000 */
    CU_ASSERT_EQUAL(U8LEN("\xf5\x80\x80\x80"), -1);
    CU_ASSERT_EQUAL(U8LEN("\xf8\x88\x80\x80\x80"), -1); /* old 5-byte form */
    CU_ASSERT_EQUAL(U8LEN("\xff"), -1);
    CU_ASSERT_EQUAL(U8LEN("\xfe"), -1);
    /* Continuation bytes where a lead byte belongs. */
    CU_ASSERT_EQUAL(U8LEN("\x80"), -1);
    CU_ASSERT_EQUAL(U8LEN("a\xbf"), -1);
    /* A lead byte followed by a non-continuation byte. */
    CU_ASSERT_EQUAL(U8LEN("\xc3(x"), -1);
    CU_ASSERT_EQUAL(U8LEN("\xe2\x82("), -1);
    /* Truncated sequences, at the end and cut by len. */
    CU_ASSERT_EQUAL(U8LEN("\xc3"), -1);
    CU_ASSERT_EQUAL(U8LEN("ab\xe2\x82"), -1);
    CU_ASSERT_EQUAL(U8LEN("\xf0\x9f\x98"), -1);
    CU_ASSERT_EQUAL(hp_utf8_len("\xf0\x9f\x98\x80", 3), -1);
}

static void test_streq_ci(void)
{
    CU_ASSERT_TRUE(hp_streq_ci("Content-Type", "content-type"));
    CU_ASSERT_TRUE(hp_streq_ci("", ""));
    CU_ASSERT_FALSE(hp_streq_ci("abc", "abcd"));
    CU_ASSERT_FALSE(hp_streq_ci("abcd", "abc"));
    CU_ASSERT_FALSE(hp_streq_ci("a-b", "a_b"));
    CU_ASSERT_FALSE(hp_streq_ci("\xc3\xa9", "\xc3\x89")); /* ASCII folding only */
    CU_ASSERT_FALSE(hp_streq_ci(NULL, "a"));
}

static void test_startswith(void)
{
    CU_ASSERT_TRUE(hp_str_startswith("redis://x", "redis://"));
    CU_ASSERT_TRUE(hp_str_startswith("abc", ""));
    CU_ASSERT_TRUE(hp_str_startswith("abc", "abc"));
    CU_ASSERT_FALSE(hp_str_startswith("ab", "abc"));
    CU_ASSERT_FALSE(hp_str_startswith("Redis://", "redis://"));
    CU_ASSERT_FALSE(hp_str_startswith(NULL, "a"));
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"strlcpy", test_strlcpy},           {"fmt", test_fmt},
        {"parse_ll", test_parse_ll},         {"utf8 valid", test_utf8_valid},
        {"utf8 invalid", test_utf8_invalid}, {"streq_ci", test_streq_ci},
        {"startswith", test_startswith},     {NULL, NULL},
    };
    return hp_unit_main("hp_str", tests);
}
