/*
 * Unit tests for hp_err: every code maps to its HTTP status and wire string
 * from the one X-macro table, unknown codes fall back to 500 and
 * "internal_error", and hp_err_set stays bounded and terminated.
 */
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_err.h"
#include "hp_unit.h"

static void test_table(void)
{
    CU_ASSERT_EQUAL(HP_OK, 0);
    CU_ASSERT_EQUAL(hp_err_status(HP_OK), 200);
    CU_ASSERT_STRING_EQUAL(hp_err_wire(HP_OK), "ok");
    CU_ASSERT_EQUAL(hp_err_status(HP_ERR_INVALID_PAYLOAD), 400);
    CU_ASSERT_STRING_EQUAL(hp_err_wire(HP_ERR_INVALID_PAYLOAD), "invalid_payload");
    CU_ASSERT_EQUAL(hp_err_status(HP_ERR_INVALID_API_KEY), 401);
    CU_ASSERT_EQUAL(hp_err_status(HP_ERR_USAGE_LIMIT), 403);
    CU_ASSERT_STRING_EQUAL(hp_err_wire(HP_ERR_USAGE_LIMIT), "USAGE_APPROVAL_LIMIT");
    CU_ASSERT_EQUAL(hp_err_status(HP_ERR_NOT_FOUND), 404);
    CU_ASSERT_EQUAL(hp_err_status(HP_ERR_ALREADY_RESOLVED), 409);
    CU_ASSERT_STRING_EQUAL(hp_err_wire(HP_ERR_ALREADY_RESOLVED), "already_resolved");
    CU_ASSERT_EQUAL(hp_err_status(HP_ERR_PAYLOAD_TOO_LARGE), 413);
    CU_ASSERT_EQUAL(hp_err_status(HP_ERR_RATE_LIMITED), 429);
    CU_ASSERT_EQUAL(hp_err_status(HP_ERR_WAIT_SHARE), 429);
    CU_ASSERT_STRING_EQUAL(hp_err_wire(HP_ERR_WAIT_SHARE), "wait_share_exceeded");
    CU_ASSERT_STRING_EQUAL(hp_err_wire(HP_ERR_CREATE_FAILED), "approval_creation_failed");
    CU_ASSERT_EQUAL(hp_err_status(HP_ERR_UNAVAILABLE), 503);
    CU_ASSERT_STRING_EQUAL(hp_err_wire(HP_ERR_CONFIG), "config_error");
}

static void test_every_code(void)
{
    /* Each code has a status in the HTTP range and a non-empty wire string
     * of lower-case words (USAGE_APPROVAL_LIMIT is the seed's own spelling). */
    for (int e = 0; e < HP_ERR__COUNT; e++) {
        const char *w = hp_err_wire((hp_err)e);
        int st = hp_err_status((hp_err)e);
        CU_ASSERT(st >= 200 && st <= 599);
        CU_ASSERT_PTR_NOT_NULL_FATAL(w);
        CU_ASSERT(strlen(w) > 0);
        CU_ASSERT(strspn(w, "abcdefghijklmnopqrstuvwxyz_") == strlen(w) || e == HP_ERR_USAGE_LIMIT);
        for (int f = 0; f < e; f++)
            CU_ASSERT(strcmp(w, hp_err_wire((hp_err)f)) != 0);
        /* A default message a person can read: lower case first, no final
         * period (the house style for messages). */
        const char *m = hp_err_message((hp_err)e);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        CU_ASSERT(strlen(m) > 1);
        CU_ASSERT(m[strlen(m) - 1] != '.');
    }
}

static void test_unknown(void)
{
    CU_ASSERT_EQUAL(hp_err_status(HP_ERR__COUNT), 500);
    CU_ASSERT_EQUAL(hp_err_status((hp_err)-1), 500);
    CU_ASSERT_STRING_EQUAL(hp_err_wire(HP_ERR__COUNT), "internal_error");
    CU_ASSERT_STRING_EQUAL(hp_err_wire((hp_err)9999), "internal_error");
    CU_ASSERT_STRING_EQUAL(hp_err_message((hp_err)9999), hp_err_message(HP_ERR_INTERNAL));
    CU_ASSERT_STRING_EQUAL(hp_err_message(HP_ERR_ALREADY_RESOLVED),
                           "the approval was already resolved");
}

static void test_set(void)
{
    char buf[8];

    hp_err_set(buf, sizeof(buf), "%s %d", "ab", 12);
    CU_ASSERT_STRING_EQUAL(buf, "ab 12");
    hp_err_set(buf, sizeof(buf), "%s", "a long reason");
    CU_ASSERT_STRING_EQUAL(buf, "a long ");
    hp_err_set(NULL, 10, "%s", "ignored");
    buf[0] = 'x';
    hp_err_set(buf, 0, "%s", "ignored");
    CU_ASSERT_EQUAL(buf[0], 'x');
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"table", test_table},
        {"every code", test_every_code},
        {"unknown codes", test_unknown},
        {"set", test_set},
        {NULL, NULL},
    };
    return hp_unit_main("hp_err", tests);
}
