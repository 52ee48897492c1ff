/*
 * Unit tests for hp_cursor: a cursor round-trips; anything that is not
 * exactly what the encoder writes (leading zeros, a sign, upper-case hex, a
 * missing or extra part, a number out of range) is refused.
 */
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_crypto.h"
#include "hp_cursor.h"
#include "hp_unit.h"

static const char *const uuid = "0193a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b";

static void test_round_trip(void)
{
    char text[HP_CURSOR_MAX], id[HP_UUID_LEN + 1];
    int64_t at = -1;

    hp_cursor_encode(1733000000123456LL, uuid, text, sizeof(text));
    CU_ASSERT_STRING_EQUAL(text, "1733000000123456.0193a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b");
    CU_ASSERT_TRUE_FATAL(hp_cursor_decode(text, &at, id, sizeof(id)));
    CU_ASSERT_EQUAL(at, 1733000000123456LL);
    CU_ASSERT_STRING_EQUAL(id, uuid);
    hp_cursor_encode(0, uuid, text, sizeof(text));
    CU_ASSERT_TRUE(hp_cursor_decode(text, &at, id, sizeof(id)));
    CU_ASSERT_EQUAL(at, 0);
}

static void test_refused(void)
{
    static const char *const bad[] = {
        "",
        ".",
        "1",
        "1.",
        ".0193a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
        "01.0193a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
        "+1.0193a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
        "-1.0193a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
        "1.0193A2B4-1C2D-7E3F-8A9B-0C1D2E3F4A5B",
        "1.0193a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5",
        "1.0193a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5bb",
        "1.0193a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b.2",
        "99999999999999999999.0193a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
        " 1.0193a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b",
    };
    char id[HP_UUID_LEN + 1];
    int64_t at;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_FALSE(hp_cursor_decode(bad[i], &at, id, sizeof(id)));
    CU_ASSERT_FALSE(hp_cursor_decode("1.0193a2b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b", &at, id, 10));
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"round trip", test_round_trip},
        {"refused", test_refused},
        {NULL, NULL},
    };
    return hp_unit_main("hp_cursor", tests);
}
