/*
 * Unit tests for hp_fault: the HOLDPOINT_FAULTS grammar (known points only,
 * crash or error, error only where the point has an error path, @n), and an
 * armed error firing on exactly the n-th pass and never again. (crash is
 * exercised by tests/integration/it_faults.c, where a process may die.)
 */
#include <CUnit/Basic.h>

#include "hp_fault.h"
#include "hp_unit.h"

static void test_grammar(void)
{
    static const char *const bad[] = {
        "nope=crash",
        "decide.before_commit=crash",
        "delivery.after_claim",
        "delivery.after_claim=",
        "delivery.after_claim=explode",
        "delivery.after_claim=error@",
        "delivery.after_claim=error@0",
        "delivery.after_claim=error@x",
        "delivery.after_send=error",
        "expiry.after_commit=error",
        "decide.after_commit=error",
        "decide.after_commit=crash,,",
    };
    char err[HP_ERRBUF];

    CU_ASSERT_EQUAL(hp_fault_init(NULL, err, sizeof(err)), HP_OK);
    CU_ASSERT_EQUAL(hp_fault_init("", err, sizeof(err)), HP_OK);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(hp_fault_init(bad[i], err, sizeof(err)), HP_ERR_CONFIG);
    CU_ASSERT_EQUAL(
        hp_fault_init(
            "delivery.after_send=crash@3,expiry.after_commit=crash,decide.after_commit=crash@2",
            err, sizeof(err)),
        HP_OK);
}

static void test_error_fires_once(void)
{
    char err[HP_ERRBUF];

    CU_ASSERT_EQUAL_FATAL(hp_fault_init("delivery.after_claim=error@3", err, sizeof(err)), HP_OK);
    CU_ASSERT_FALSE(HP_FAULT("delivery.after_claim"));
    CU_ASSERT_FALSE(HP_FAULT("delivery.after_claim"));
    CU_ASSERT_TRUE(HP_FAULT("delivery.after_claim"));
    CU_ASSERT_FALSE(HP_FAULT("delivery.after_claim"));
    /* Points that are not armed, and names that are not points, never fire. */
    CU_ASSERT_FALSE(HP_FAULT("decide.after_commit"));
    CU_ASSERT_FALSE(HP_FAULT("no.such.point"));
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"grammar", test_grammar},
        {"an error fires on the n-th pass only", test_error_fires_once},
        {NULL, NULL},
    };
    return hp_unit_main("hp_fault", tests);
}
