/*
 * Unit tests for the part of hp_store_approval that needs no server: the
 * closed row a decision's wake message carries, read back into the result
 * a read by id returns (hp_store_approval_row_msg) and decoded by the same
 * reader (hp_store_approval_read).
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <json-c/json.h>

#include "hp_pool.h"
#include "hp_store_approval.h"
#include "hp_str.h"
#include "hp_wake.h"
#include "hp_unit.h"

/* A decided row as the decision's NOTIFY sends it: the values of
 * HP_STORE_APPROVAL_COLS in order, then the agent's name. */
static json_object *row_values(void)
{
    json_object *a = json_object_new_array();
    const char *s[] = {"0190a5c4-1111-7000-8000-000000000001",
                       "0190a5c4-2222-7000-8000-000000000002",
                       "0190a5c4-3333-7000-8000-000000000003",
                       "req-1",
                       NULL,
                       "Deploy to production? \xe2\x82\xac",
                       "Build #123 \"green\"\n",
                       NULL,
                       "[{\"label\": \"Approve\", \"value\": \"approve\"}]"};

    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        json_object_array_add(a, s[i] ? json_object_new_string(s[i]) : NULL);
    json_object_array_add(a, json_object_new_int(300));                  /* timeout_seconds */
    json_object_array_add(a, json_object_new_string("default"));         /* timeout_mode */
    json_object_array_add(a, NULL);                                      /* predefined */
    json_object_array_add(a, json_object_new_int64(1700000000123456LL)); /* expires_at */
    json_object_array_add(a, NULL);                                      /* callback_url */
    json_object_array_add(a, NULL);                                      /* callback_headers */
    json_object_array_add(a, json_object_new_boolean(1));                /* allow_custom */
    json_object_array_add(a, NULL);                                      /* session_id */
    json_object_array_add(a, json_object_new_string("deploy-bot"));      /* agent_name */
    json_object_array_add(a, json_object_new_string("{\"env\": \"prod\"}"));
    json_object_array_add(a, json_object_new_string("selected_option"));
    json_object_array_add(a, json_object_new_int(0));     /* selected index */
    json_object_array_add(a, NULL);                       /* custom */
    json_object_array_add(a, json_object_new_boolean(0)); /* timeout default */
    json_object_array_add(a, json_object_new_string("user-9"));
    json_object_array_add(a, json_object_new_string("Ann"));
    json_object_array_add(a, json_object_new_int64(1700000000500000LL)); /* resolved_at */
    json_object_array_add(a, json_object_new_string("pending"));         /* delivery status */
    json_object_array_add(a, NULL);                                      /* delivery error */
    json_object_array_add(a, json_object_new_int64(1699999999000000LL)); /* created_at */
    json_object_array_add(a, json_object_new_string("v1"));
    json_object_array_add(a, NULL); /* response_format */
    json_object_array_add(a, json_object_new_string("Deploy bot"));
    return a;
}

static char *msg_of(json_object *a)
{
    const char *j = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN);
    size_t n = strlen(HP_WAKE_ROW_PREFIX) + strlen(j) + 1;
    char *m = malloc(n);

    CU_ASSERT_FATAL(m != NULL && hp_fmt(m, n, "%s%s", HP_WAKE_ROW_PREFIX, j));
    return m;
}

static void test_row_read_back(void)
{
    json_object *a = row_values();
    char *m = msg_of(a);
    PGresult *r = hp_store_approval_row_msg(m);
    hp_pool *pool = hp_pool_new();
    hp_approval_row row;

    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(PQntuples(r), 1);
    CU_ASSERT_EQUAL(PQnfields(r), HP_STORE_APPROVAL_NCOLS + 1);
    hp_store_approval_read(pool, r, 0, 0, &row);
    PQclear(r); /* the row's strings are the pool's */
    CU_ASSERT_STRING_EQUAL(row.id, "0190a5c4-1111-7000-8000-000000000001");
    CU_ASSERT_STRING_EQUAL(row.team_id, "0190a5c4-2222-7000-8000-000000000002");
    CU_ASSERT_STRING_EQUAL(row.agent_id, "0190a5c4-3333-7000-8000-000000000003");
    CU_ASSERT_STRING_EQUAL(row.request_id, "req-1");
    CU_ASSERT_PTR_NULL(row.correlation_id);
    CU_ASSERT_STRING_EQUAL(row.question, "Deploy to production? \xe2\x82\xac");
    CU_ASSERT_STRING_EQUAL(row.context_markdown, "Build #123 \"green\"\n");
    CU_ASSERT_PTR_NULL(row.notification_summary);
    CU_ASSERT_EQUAL(json_object_array_length(row.options), 1);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(
                               json_object_array_get_idx(row.options, 0), "value")),
                           "approve");
    CU_ASSERT_EQUAL(row.timeout_seconds, 300);
    CU_ASSERT_STRING_EQUAL(row.timeout_mode, "default");
    CU_ASSERT_EQUAL(row.expires_at, 1700000000123456LL);
    CU_ASSERT_PTR_NULL(row.callback_url);
    CU_ASSERT_PTR_NULL(row.callback_headers);
    CU_ASSERT_TRUE(row.allow_custom_instruction);
    CU_ASSERT_STRING_EQUAL(row.agent_name, "deploy-bot");
    CU_ASSERT_STRING_EQUAL(row.metadata, "{\"env\": \"prod\"}");
    CU_ASSERT_STRING_EQUAL(row.status, "selected_option");
    CU_ASSERT_EQUAL(row.selected_option_index, 0);
    CU_ASSERT_PTR_NULL(row.custom_instruction);
    CU_ASSERT_FALSE(row.is_timeout_default);
    CU_ASSERT_STRING_EQUAL(row.resolved_by_user_id, "user-9");
    CU_ASSERT_STRING_EQUAL(row.resolved_by_name, "Ann");
    CU_ASSERT_EQUAL(row.resolved_at, 1700000000500000LL);
    CU_ASSERT_STRING_EQUAL(row.result_delivery_status, "pending");
    CU_ASSERT_EQUAL(row.created_at, 1699999999000000LL);
    CU_ASSERT_STRING_EQUAL(row.source, "v1");
    CU_ASSERT_PTR_NULL(row.response_format);
    CU_ASSERT_STRING_EQUAL(row.agent_display_name, "Deploy bot");
    hp_pool_free(pool);
    free(m);
    json_object_put(a);
}

/* Each message is refused whole (NULL), never read in part. */
static void refused(json_object *a)
{
    char *m = msg_of(a);
    PGresult *r = hp_store_approval_row_msg(m);

    CU_ASSERT_PTR_NULL(r);
    PQclear(r);
    free(m);
    json_object_put(a);
}

static void test_refusals(void)
{
    json_object *a;

    /* Not a row message: keys, no prefix, not JSON, not an array. */
    CU_ASSERT_PTR_NULL(hp_store_approval_row_msg("0190a5c4 team:1 agent:2"));
    CU_ASSERT_PTR_NULL(hp_store_approval_row_msg("[\"a\"]"));
    CU_ASSERT_PTR_NULL(hp_store_approval_row_msg(HP_WAKE_ROW_PREFIX "[1, 2"));
    CU_ASSERT_PTR_NULL(hp_store_approval_row_msg(HP_WAKE_ROW_PREFIX "{\"id\": \"a\"}"));
    CU_ASSERT_PTR_NULL(hp_store_approval_row_msg(HP_WAKE_ROW_PREFIX));
    /* One value too few, one too many. */
    a = row_values();
    json_object_array_del_idx(a, 31, 1);
    refused(a);
    a = row_values();
    json_object_array_add(a, json_object_new_string("extra"));
    refused(a);
    /* No id, team or agent to key on. */
    for (size_t k = 0; k < 3; k++) {
        a = row_values();
        json_object_array_put_idx(a, k, NULL);
        refused(a);
    }
    /* A value no column of the read has: a nested value, a fraction. */
    a = row_values();
    json_object_array_put_idx(a, 18, json_object_new_object());
    refused(a);
    a = row_values();
    json_object_array_put_idx(a, 9, json_object_new_double(1.5));
    refused(a);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"a decided row read back", test_row_read_back},
        {"malformed row messages", test_refusals},
        {NULL, NULL},
    };
    return hp_unit_main("hp_store_approval", tests);
}
