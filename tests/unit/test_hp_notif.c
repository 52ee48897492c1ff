/*
 * Unit tests for the pure half of hp_notif: message and session bodies with
 * their issue paths (buttons 0..4, type words, parent ids, session ids), the
 * wire shapes, and the session tree (nesting, orphans as roots, no cycles).
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_json.h"
#include "hp_notif.h"
#include "hp_unit.h"

static json_object *parse(const char *text)
{
    json_object *v = NULL;
    char err[128];
    CU_ASSERT_FATAL(hp_json_parse(text, strlen(text), &v, err, sizeof(err)) == HP_OK);
    return v;
}

/* The issues of a message body as canonical JSON text (caller frees), or
 * NULL when it is valid. */
static char *message_issues(const char *text)
{
    json_object *body = parse(text);
    hp_issues *is = hp_issues_new();
    hp_notif_message_input in;
    char *out = NULL;

    if (!hp_notif_message_parse(body, &in, is)) {
        json_object *j = hp_issues_json(is);
        out = hp_json_canonical(j);
        json_object_put(j);
    }
    hp_notif_message_input_deinit(&in);
    hp_issues_free(is);
    json_object_put(body);
    return out;
}

static void expect_issue(const char *body, const char *fragment)
{
    char *got = message_issues(body);
    CU_ASSERT_PTR_NOT_NULL(got);
    if (got != NULL && strstr(got, fragment) == NULL) {
        fprintf(stderr, "\n  body %s\n  want %s\n  got  %s\n", body, fragment, got);
        CU_FAIL("issue not found");
    }
    free(got);
}

static void test_message_valid(void)
{
    json_object *body = parse("{\"type\":\"alert\",\"title\":\"Deploy approval needed\","
                              "\"message\":\"Promote build 1.2.3?\",\"buttons\":[\"Approve\","
                              "\"Retry\",\"Rollback\",\"Cancel\"],\"allow_reply\":true,"
                              "\"session_id\":\"s-1\",\"client_event_id\":\"e1\"}");
    hp_issues *is = hp_issues_new();
    hp_notif_message_input in;

    CU_ASSERT_TRUE(hp_notif_message_parse(body, &in, is));
    CU_ASSERT_STRING_EQUAL(in.type, "alert");
    CU_ASSERT_EQUAL(json_object_array_length(in.buttons), 4);
    CU_ASSERT_TRUE(in.allow_reply);
    CU_ASSERT_STRING_EQUAL(in.session_id, "s-1");
    CU_ASSERT_STRING_EQUAL(in.source, "v1");
    hp_notif_message_input_deinit(&in);
    hp_issues_free(is);
    json_object_put(body);

    /* Defaults: type info, empty message, no buttons. */
    body = parse("{\"title\":\"x\"}");
    is = hp_issues_new();
    CU_ASSERT_TRUE(hp_notif_message_parse(body, &in, is));
    CU_ASSERT_STRING_EQUAL(in.type, "info");
    CU_ASSERT_STRING_EQUAL(in.message, "");
    CU_ASSERT_EQUAL(json_object_array_length(in.buttons), 0);
    CU_ASSERT_FALSE(in.allow_reply);
    hp_notif_message_input_deinit(&in);
    hp_issues_free(is);
    json_object_put(body);
}

static void test_message_invalid(void)
{
    expect_issue("{}", "\"path\":[\"title\"]");
    expect_issue("[]", "Expected object, received array");
    expect_issue("{\"title\":\"x\",\"buttons\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}",
                 "{\"code\":\"too_big\",\"message\":\"Array must contain at most 4 "
                 "element(s)\",\"path\":[\"buttons\"]}");
    expect_issue("{\"title\":\"x\",\"buttons\":[\"a\",2]}", "\"path\":[\"buttons\",1]");
    expect_issue("{\"title\":\"x\",\"buttons\":[\"\"]}", "\"code\":\"too_small\"");
    expect_issue("{\"title\":\"x\",\"type\":\"Alert!\"}", "\"path\":[\"type\"]");
    expect_issue("{\"title\":\"x\",\"parent_id\":\"nope\"}", "\"path\":[\"parent_id\"]");
    expect_issue("{\"title\":\"x\",\"session_id\":\"a\\u0001b\"}", "\"path\":[\"session_id\"]");
    expect_issue("{\"title\":\"x\",\"metadata\":[1]}", "\"path\":[\"metadata\"]");
    expect_issue("{\"title\":\"x\",\"allow_reply\":\"yes\"}", "\"path\":[\"allow_reply\"]");
    char *long_title = malloc(HP_NOTIF_TITLE_MAX + 32);
    char *body = malloc(HP_NOTIF_TITLE_MAX + 64);
    memset(long_title, 'a', HP_NOTIF_TITLE_MAX + 1);
    long_title[HP_NOTIF_TITLE_MAX + 1] = '\0';
    snprintf(body, HP_NOTIF_TITLE_MAX + 64, "{\"title\":\"%s\"}", long_title);
    expect_issue(body, "\"code\":\"too_big\"");
    long_title[HP_NOTIF_TITLE_MAX] = '\0';
    snprintf(body, HP_NOTIF_TITLE_MAX + 64, "{\"title\":\"%s\"}", long_title);
    CU_ASSERT_PTR_NULL(message_issues(body));
    free(body);
    free(long_title);
}

static void test_session_parse(void)
{
    hp_issues *is = hp_issues_new();
    hp_notif_session_input in;
    json_object *body = parse("{\"project\":\"p\",\"label\":\"Tuesday morning run\",\"agent\":"
                              "\"claude-code\",\"agent_version\":\"2.1.119\",\"metadata\":{"
                              "\"repo\":\"x\"}}");

    CU_ASSERT_TRUE(hp_notif_session_parse(body, &in, is));
    CU_ASSERT_PTR_NULL(in.id);
    CU_ASSERT_STRING_EQUAL(in.client, "claude-code");
    CU_ASSERT_STRING_EQUAL(in.client_version, "2.1.119");
    CU_ASSERT_PTR_NOT_NULL(in.metadata);
    hp_notif_session_input_deinit(&in);
    json_object_put(body);

    /* No body at all is an empty one. */
    CU_ASSERT_TRUE(hp_notif_session_parse(NULL, &in, is));
    hp_notif_session_input_deinit(&in);

    body = parse("{\"label\":\"\",\"session_id\":7}");
    CU_ASSERT_FALSE(hp_notif_session_parse(body, &in, is));
    CU_ASSERT_EQUAL(hp_issues_count(is), 2);
    hp_notif_session_input_deinit(&in);
    json_object_put(body);
    hp_issues_free(is);

    CU_ASSERT_TRUE(hp_notif_session_id_ok("00000000-0000-0000-0000-000000000000"));
    CU_ASSERT_TRUE(hp_notif_session_id_ok("with/slash and space"));
    CU_ASSERT_FALSE(hp_notif_session_id_ok(""));
    CU_ASSERT_FALSE(hp_notif_session_id_ok("tab\there"));
    CU_ASSERT_FALSE(hp_notif_session_id_ok(NULL));
}

static void test_shapes(void)
{
    json_object *buttons = json_object_new_array();
    hp_notif_message m = {.id = "m1",
                          .agent_id = "a1",
                          .project = "proj",
                          .type = "alert",
                          .title = "t",
                          .message = "",
                          .buttons = buttons,
                          .metadata = "{\"k\":1}",
                          .source = "v1",
                          .created_at = 0};
    hp_notif_session s = {.id = "s1",
                          .agent_id = "a1",
                          .status = "active",
                          .created_at = 0,
                          .ended_at = -1,
                          .messages = 2,
                          .approvals = -1,
                          .responses_pending = -1};
    json_object *o;

    json_object_array_add(buttons, json_object_new_string("Approve"));
    o = hp_notif_message_json(&m);
    CU_ASSERT_STRING_EQUAL(hp_json_text(o),
                           "{\"id\":\"m1\",\"notification_id\":\"m1\",\"project_id\":\"a1\","
                           "\"project\":\"proj\",\"session_id\":null,\"parent_id\":null,\"type\":"
                           "\"alert\",\"title\":\"t\",\"message\":\"\",\"buttons\":[\"Approve\"],"
                           "\"allow_reply\":false,\"client_event_id\":null,\"agent_name\":null,"
                           "\"metadata\":{\"k\":1},\"source\":\"v1\",\"created_at\":"
                           "\"1970-01-01T00:00:00.000Z\"}");
    json_object_put(o);
    json_object_put(buttons);

    o = hp_notif_session_json(&s);
    CU_ASSERT_PTR_NULL(json_object_object_get(o, "ended_at"));
    CU_ASSERT_TRUE(json_object_object_get_ex(o, "ended_at", NULL));
    CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(o, "message_count")), 2);
    CU_ASSERT_FALSE(json_object_object_get_ex(o, "approval_count", NULL));
    json_object_put(o);
}

static void test_tree(void)
{
    /* root1 <- child1 <- grandchild; root2; an orphan whose parent is not in
     * the session; a node naming a later node as parent stays a root. */
    hp_notif_node nodes[] = {
        {"message", "root1", NULL, "info", "r1", NULL, 1, 0},
        {"approval", "child1", "root1", "approval", "c1", "pending", 2, 1},
        {"message", "grand", "child1", "info", "g", NULL, 3, 0},
        {"message", "root2", NULL, "info", "r2", NULL, 4, 0},
        {"message", "orphan", "elsewhere", "info", "o", NULL, 5, 0},
        {"message", "early", "late", "info", "e", NULL, 6, 0},
        {"message", "late", "early", "info", "l", NULL, 7, 0},
    };
    json_object *t = hp_notif_tree_json(nodes, 7);
    json_object *r1, *c1;

    CU_ASSERT_EQUAL_FATAL(json_object_array_length(t), 4);
    r1 = json_object_array_get_idx(t, 0);
    CU_ASSERT_STRING_EQUAL(hp_json_str(r1, "notification_id"), "root1");
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(json_object_object_get(r1, "children")), 1);
    c1 = json_object_array_get_idx(json_object_object_get(r1, "children"), 0);
    CU_ASSERT_STRING_EQUAL(hp_json_str(c1, "status"), "pending");
    CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(c1, "response_count")), 1);
    CU_ASSERT_EQUAL(json_object_array_length(json_object_object_get(c1, "children")), 1);
    CU_ASSERT_STRING_EQUAL(hp_json_str(json_object_array_get_idx(t, 1), "notification_id"),
                           "root2");
    CU_ASSERT_STRING_EQUAL(hp_json_str(json_object_array_get_idx(t, 2), "notification_id"),
                           "orphan");
    /* "early" names a later parent: it stays a root, and "late" nests
     * under it, so there is no cycle. */
    CU_ASSERT_STRING_EQUAL(hp_json_str(json_object_array_get_idx(t, 3), "notification_id"),
                           "early");
    CU_ASSERT_EQUAL(json_object_array_length(
                        json_object_object_get(json_object_array_get_idx(t, 3), "children")),
                    1);
    json_object_put(t);

    t = hp_notif_tree_json(NULL, 0);
    CU_ASSERT_EQUAL(json_object_array_length(t), 0);
    json_object_put(t);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"valid messages and defaults", test_message_valid},
        {"invalid messages", test_message_invalid},
        {"session bodies and ids", test_session_parse},
        {"wire shapes", test_shapes},
        {"session tree", test_tree},
        {NULL, NULL},
    };
    return hp_unit_main("hp_notif", tests);
}
