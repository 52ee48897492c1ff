/*
 * hp_unit: the main of every unit test program. A program lists its tests
 * in a table ended by {NULL, NULL} and returns hp_unit_main(suite, tests):
 * one CUnit suite, verbose output; exit status 0 when every test passed, 1
 * when one failed (a failed suite set-up counts), 2 when CUnit itself
 * failed. Header-only, included by one test program each.
 */
#ifndef HP_TEST_UNIT_H
#define HP_TEST_UNIT_H

#include <stddef.h>

#include <CUnit/Basic.h>

typedef struct hp_unit_test {
    const char *name;
    CU_TestFunc fn;
} hp_unit_test;

/* With a suite set-up and clean-up (either may be NULL). */
static inline int hp_unit_main_with(const char *suite, CU_InitializeFunc init, CU_CleanupFunc clean,
                                    const hp_unit_test *tests)
{
    CU_pSuite s;
    unsigned fails;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite(suite, init, clean);
    for (const hp_unit_test *t = tests; s != NULL && t->name != NULL; t++)
        if (CU_add_test(s, t->name, t->fn) == NULL)
            s = NULL;
    if (s == NULL) {
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (CU_basic_run_tests() != CUE_SUCCESS) {
        CU_cleanup_registry();
        return 2;
    }
    fails = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return fails > 0 ? 1 : 0;
}

static inline int hp_unit_main(const char *suite, const hp_unit_test *tests)
{
    return hp_unit_main_with(suite, NULL, NULL, tests);
}

#endif
