/*
 * Unit tests for the parts of hp_db that need no server: the names
 * statements are prepared under (derived from the SQL text, so a name means
 * the same text on any server connection), the prepared-statement modes a
 * pool accepts, and the pool gauges before any connection is opened (a pool
 * connects lazily, so creating one never touches the network).
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_db.h"
#include "hp_metrics.h"
#include "hp_unit.h"

static void test_stmt_name(void)
{
    char a[HP_DB_STMT_NAME], b[HP_DB_STMT_NAME], c[HP_DB_STMT_NAME];
    char copy[] = "select 1";

    /* "hp_" and the first 16 bytes of SHA-256("select 1") in hex. */
    hp_db_stmt_name("select 1", a);
    CU_ASSERT_STRING_EQUAL(a, "hp_822ae07d4783158bc1912bb623e5107c");
    CU_ASSERT_EQUAL(strlen(a), HP_DB_STMT_NAME - 1);
    CU_ASSERT_TRUE(strlen(a) <= 63); /* PostgreSQL's NAMEDATALEN - 1 */

    /* The text decides, not where it lives. */
    hp_db_stmt_name(copy, b);
    CU_ASSERT_STRING_EQUAL(a, b);
    hp_db_stmt_name("select 2", c);
    CU_ASSERT_STRING_NOT_EQUAL(a, c);
    hp_db_stmt_name("select 1 ", c);
    CU_ASSERT_STRING_NOT_EQUAL(a, c);
    hp_db_stmt_name("", c);
    CU_ASSERT_EQUAL(strncmp(c, "hp_", 3), 0);
    CU_ASSERT_EQUAL(strlen(c), HP_DB_STMT_NAME - 1);
}

static void test_prepare_modes(void)
{
    hp_db *db = hp_db_new("postgresql://nobody@127.0.0.1:1/none", 2, 1000);

    CU_ASSERT_TRUE(hp_db_set_prepare(db, "auto"));
    CU_ASSERT_TRUE(hp_db_set_prepare(db, "on"));
    CU_ASSERT_TRUE(hp_db_set_prepare(db, "off"));
    CU_ASSERT_FALSE(hp_db_set_prepare(db, "ON"));
    CU_ASSERT_FALSE(hp_db_set_prepare(db, "yes"));
    CU_ASSERT_FALSE(hp_db_set_prepare(db, ""));
    hp_db_free(db);
}

static void test_gauges_before_connecting(void)
{
    hp_db *db = hp_db_new("postgresql://nobody@127.0.0.1:1/none", 3, 1000);
    hp_metrics *m = hp_metrics_new();
    char *text;

    CU_ASSERT_TRUE(hp_db_set_prepare(db, "on"));
    hp_db_metrics(db, m);
    text = hp_metrics_render(m);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nholdpoint_db_pool_size 3\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nholdpoint_db_pool_in_use 0\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nholdpoint_db_prepared_statements 0\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "# TYPE holdpoint_db_prepared_statements gauge\n"));
    free(text);
    hp_metrics_free(m);
    hp_db_free(db);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"statement names", test_stmt_name},
        {"prepare modes", test_prepare_modes},
        {"gauges before connecting", test_gauges_before_connecting},
        {NULL, NULL},
    };
    return hp_unit_main("hp_db", tests);
}
