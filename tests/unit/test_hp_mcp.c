/*
 * Unit tests for hp_mcp: revision negotiation and the per-revision rules
 * (batches, argument errors), JSON-RPC classification of good and malformed
 * messages, the reply shapes, the initialize result, the tool catalogue
 * (every schema parses, is an object schema, and the names are the five of
 * seed 000 and SPEC section 4), argument parsing and the result shapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_json.h"
#include "hp_mcp.h"
#include "hp_unit.h"

static json_object *parse(const char *text)
{
    json_object *v = NULL;
    char err[128];
    CU_ASSERT_FATAL(hp_json_parse(text, strlen(text), &v, err, sizeof(err)) == HP_OK);
    return v;
}

static void test_versions(void)
{
    CU_ASSERT_STRING_EQUAL(hp_mcp_negotiate("2025-11-25"), "2025-11-25");
    CU_ASSERT_STRING_EQUAL(hp_mcp_negotiate("2025-06-18"), "2025-06-18");
    CU_ASSERT_STRING_EQUAL(hp_mcp_negotiate("2025-03-26"), "2025-03-26");
    /* Unknown (older or newer): the latest, and the client decides. */
    CU_ASSERT_STRING_EQUAL(hp_mcp_negotiate("2024-11-05"), HP_MCP_LATEST_VERSION);
    CU_ASSERT_STRING_EQUAL(hp_mcp_negotiate("2099-01-01"), HP_MCP_LATEST_VERSION);
    CU_ASSERT_STRING_EQUAL(hp_mcp_negotiate(NULL), HP_MCP_LATEST_VERSION);
    CU_ASSERT_TRUE(hp_mcp_version_supported("2025-06-18"));
    CU_ASSERT_FALSE(hp_mcp_version_supported("2024-11-05"));
    CU_ASSERT_FALSE(hp_mcp_version_supported("not-a-version"));
    CU_ASSERT_FALSE(hp_mcp_version_supported(NULL));
    CU_ASSERT_TRUE(hp_mcp_batches_allowed("2025-03-26"));
    CU_ASSERT_FALSE(hp_mcp_batches_allowed("2025-06-18"));
    CU_ASSERT_FALSE(hp_mcp_batches_allowed("2025-11-25"));
    CU_ASSERT_TRUE(hp_mcp_validation_is_tool_error("2025-11-25"));
    CU_ASSERT_FALSE(hp_mcp_validation_is_tool_error("2025-06-18"));
    CU_ASSERT_FALSE(hp_mcp_validation_is_tool_error("2025-03-26"));
}

static hp_mcp_msg_kind kind_of(const char *text)
{
    json_object *v = parse(text);
    hp_mcp_msg m;
    hp_mcp_classify(v, &m);
    if (m.kind == HP_MCP_MSG_INVALID)
        CU_ASSERT_PTR_NOT_NULL(m.why);
    json_object_put(v);
    return m.kind;
}

static void test_classify(void)
{
    json_object *v = parse("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
                           "\"params\":{\"name\":\"ask_user\"}}");
    hp_mcp_msg m;

    hp_mcp_classify(v, &m);
    CU_ASSERT_EQUAL(m.kind, HP_MCP_MSG_REQUEST);
    CU_ASSERT_STRING_EQUAL(m.method, "tools/call");
    CU_ASSERT_EQUAL(json_object_get_int(m.id), 7);
    CU_ASSERT_STRING_EQUAL(hp_json_str(m.params, "name"), "ask_user");
    json_object_put(v);

    CU_ASSERT_EQUAL(kind_of("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"ping\"}"),
                    HP_MCP_MSG_REQUEST);
    CU_ASSERT_EQUAL(kind_of("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"),
                    HP_MCP_MSG_NOTIFICATION);
    CU_ASSERT_EQUAL(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}"), HP_MCP_MSG_RESPONSE);
    CU_ASSERT_EQUAL(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":1,"
                            "\"message\":\"x\"}}"),
                    HP_MCP_MSG_RESPONSE);
    /* Malformed. */
    CU_ASSERT_EQUAL(kind_of("{\"id\":1,\"method\":\"ping\"}"), HP_MCP_MSG_INVALID);
    CU_ASSERT_EQUAL(kind_of("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}"),
                    HP_MCP_MSG_INVALID);
    CU_ASSERT_EQUAL(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}"), HP_MCP_MSG_INVALID);
    CU_ASSERT_EQUAL(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}"), HP_MCP_MSG_INVALID);
    CU_ASSERT_EQUAL(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}"),
                    HP_MCP_MSG_INVALID);
    CU_ASSERT_EQUAL(kind_of("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}"),
                    HP_MCP_MSG_INVALID);
    CU_ASSERT_EQUAL(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[1]}"),
                    HP_MCP_MSG_INVALID);
    CU_ASSERT_EQUAL(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\",\"result\":{}}"),
                    HP_MCP_MSG_INVALID);
    CU_ASSERT_EQUAL(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{}}"),
                    HP_MCP_MSG_INVALID);
    CU_ASSERT_EQUAL(kind_of("{\"jsonrpc\":\"2.0\"}"), HP_MCP_MSG_INVALID);
    CU_ASSERT_EQUAL(kind_of("[1]"), HP_MCP_MSG_INVALID);
    CU_ASSERT_EQUAL(kind_of("\"x\""), HP_MCP_MSG_INVALID);
}

static void test_replies(void)
{
    json_object *id = json_object_new_string("r1");
    json_object *o = hp_mcp_response(id, json_object_new_object());

    CU_ASSERT_STRING_EQUAL(hp_json_text(o), "{\"jsonrpc\":\"2.0\",\"id\":\"r1\",\"result\":{}}");
    json_object_put(o);
    o = hp_mcp_error(id, HP_MCP_METHOD_NOT_FOUND, "Method not found", NULL);
    CU_ASSERT_STRING_EQUAL(hp_json_text(o), "{\"jsonrpc\":\"2.0\",\"id\":\"r1\",\"error\":"
                                            "{\"code\":-32601,\"message\":\"Method not found\"}}");
    json_object_put(o);
    o = hp_mcp_error(NULL, HP_MCP_INVALID_REQUEST, "bad", json_object_new_int(3));
    CU_ASSERT_STRING_EQUAL(hp_json_text(o), "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
                                            "{\"code\":-32600,\"message\":\"bad\",\"data\":3}}");
    json_object_put(o);
    json_object_put(id);

    id = json_object_new_int(9);
    o = hp_mcp_progress(id, 5, 45, "Waiting");
    json_object_put(id);
    CU_ASSERT_STRING_EQUAL(hp_json_text(o),
                           "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":"
                           "{\"progressToken\":9,\"progress\":5,\"total\":45,\"message\":"
                           "\"Waiting\"}}");
    json_object_put(o);
}

static void test_initialize(void)
{
    json_object *p = parse("{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
                           "\"clientInfo\":{\"name\":\"claude\",\"version\":\"1.2\"}}");
    hp_mcp_init in;
    const char *why = NULL;

    CU_ASSERT_TRUE(hp_mcp_parse_initialize(p, &in, &why));
    CU_ASSERT_STRING_EQUAL(in.protocol_version, "2025-06-18");
    CU_ASSERT_STRING_EQUAL(in.client_name, "claude");
    CU_ASSERT_STRING_EQUAL(in.client_version, "1.2");
    json_object_put(p);
    p = parse("{\"capabilities\":{}}");
    CU_ASSERT_FALSE(hp_mcp_parse_initialize(p, &in, &why));
    CU_ASSERT_PTR_NOT_NULL(why);
    json_object_put(p);
    CU_ASSERT_FALSE(hp_mcp_parse_initialize(NULL, &in, &why));

    json_object *r = hp_mcp_initialize_result("2025-06-18");
    CU_ASSERT_STRING_EQUAL(hp_json_str(r, "protocolVersion"), "2025-06-18");
    CU_ASSERT_PTR_NOT_NULL(hp_json_obj(hp_json_obj(r, "capabilities"), "tools"));
    CU_ASSERT_STRING_EQUAL(hp_json_str(hp_json_obj(r, "serverInfo"), "name"), "holdpoint");
    CU_ASSERT_PTR_NOT_NULL(strstr(hp_json_str(r, "instructions"), "wait_for_answer"));
    json_object_put(r);
}

static void test_tools(void)
{
    static const char *const names[] = {"ask_user", "wait_for_answer", "cancel_question",
                                        "send_notification", "list_sessions"};
    json_object *o = hp_mcp_tools_list(), *tools = hp_json_arr(o, "tools");

    CU_ASSERT_EQUAL_FATAL(json_object_array_length(tools), 5);
    for (size_t i = 0; i < 5; i++) {
        json_object *t = json_object_array_get_idx(tools, i);
        json_object *in = hp_json_obj(t, "inputSchema"), *out = hp_json_obj(t, "outputSchema");
        CU_ASSERT_STRING_EQUAL(hp_json_str(t, "name"), names[i]);
        CU_ASSERT_EQUAL(hp_mcp_tool_find(names[i]), (int)i);
        CU_ASSERT_PTR_NOT_NULL(hp_json_str(t, "description"));
        CU_ASSERT_PTR_NOT_NULL_FATAL(in);
        CU_ASSERT_PTR_NOT_NULL_FATAL(out);
        CU_ASSERT_STRING_EQUAL(hp_json_str(in, "type"), "object");
        CU_ASSERT_STRING_EQUAL(hp_json_str(out, "type"), "object");
        CU_ASSERT_PTR_NOT_NULL(hp_json_obj(in, "properties"));
        CU_ASSERT_PTR_NOT_NULL(hp_json_obj(out, "properties"));
    }
    CU_ASSERT_EQUAL(hp_mcp_tool_find("delete_everything"), -1);
    CU_ASSERT_EQUAL(hp_mcp_tool_find(NULL), -1);
    json_object_put(o);
}

static void test_args(void)
{
    hp_mcp_ref_args r;
    hp_mcp_list_args l;
    hp_issues *is = hp_issues_new();
    json_object *a = parse("{\"correlationId\":\"abc\",\"timeoutSeconds\":10}");

    CU_ASSERT_TRUE(hp_mcp_parse_ref(a, true, &r, is));
    CU_ASSERT_STRING_EQUAL(r.correlation_id, "abc");
    CU_ASSERT_EQUAL(r.timeout_seconds, 10);
    json_object_put(a);
    a = parse("{\"correlationId\":\"abc\"}");
    CU_ASSERT_TRUE(hp_mcp_parse_ref(a, true, &r, is));
    CU_ASSERT_EQUAL(r.timeout_seconds, HP_MCP_WAIT_DEFAULT);
    json_object_put(a);
    a = parse("{\"correlationId\":\"abc\",\"timeoutSeconds\":56}");
    CU_ASSERT_FALSE(hp_mcp_parse_ref(a, true, &r, is));
    json_object_put(a);
    hp_issues_free(is);
    is = hp_issues_new();
    a = parse("{\"timeoutSeconds\":5}");
    CU_ASSERT_FALSE(hp_mcp_parse_ref(a, true, &r, is));
    json_object_put(a);
    hp_issues_free(is);

    is = hp_issues_new();
    a = parse("{}");
    CU_ASSERT_TRUE(hp_mcp_parse_list(a, &l, is));
    CU_ASSERT_PTR_NULL(l.status);
    CU_ASSERT_EQUAL(l.limit, 20);
    json_object_put(a);
    a = parse("{\"status\":\"active\",\"limit\":3}");
    CU_ASSERT_TRUE(hp_mcp_parse_list(a, &l, is));
    CU_ASSERT_STRING_EQUAL(l.status, "active");
    CU_ASSERT_EQUAL(l.limit, 3);
    json_object_put(a);
    a = parse("{\"status\":\"dead\",\"limit\":0}");
    CU_ASSERT_FALSE(hp_mcp_parse_list(a, &l, is));
    CU_ASSERT_EQUAL(hp_issues_count(is), 2);
    json_object_put(a);
    hp_issues_free(is);
}

static void test_results(void)
{
    json_object *opts = parse("[{\"label\":\"Yes\",\"value\":\"yes\"},{\"label\":\"No\","
                              "\"value\":\"no\"}]");
    hp_approval_row r;
    json_object *s, *res;

    memset(&r, 0, sizeof(r));
    r.request_id = "c-1";
    r.question = "Ship it?";
    r.status = "pending";
    r.options = opts;
    r.selected_option_index = -1;
    r.resolved_at = -1;
    r.source = "ask";
    r.metadata = "{\"ask_type\":\"confirm\"}";
    s = hp_mcp_question_state(&r, true, "https://h/api/v1/server/ask/c-1");
    CU_ASSERT_STRING_EQUAL(hp_json_str(s, "status"), "timeout");
    CU_ASSERT_STRING_EQUAL(hp_json_str(s, "type"), "confirm");
    CU_ASSERT_STRING_EQUAL(hp_json_str(s, "question"), "Ship it?");
    CU_ASSERT_PTR_NOT_NULL(strstr(hp_json_str(s, "message"), "wait_for_answer"));
    CU_ASSERT_PTR_NOT_NULL(strstr(hp_json_str(s, "message"), "c-1"));
    res = hp_mcp_tool_result(s);
    CU_ASSERT_FALSE(json_object_get_boolean(json_object_object_get(res, "isError")));
    /* The text block is the structured content's JSON. */
    CU_ASSERT_STRING_EQUAL(
        hp_json_str(json_object_array_get_idx(hp_json_arr(res, "content"), 0), "text"),
        hp_json_text(hp_json_obj(res, "structuredContent")));
    json_object_put(res);

    r.status = "selected_option";
    r.selected_option_index = 0;
    r.resolved_at = 1795425052123000LL;
    s = hp_mcp_question_state(&r, false, "https://h/x");
    CU_ASSERT_STRING_EQUAL(hp_json_str(s, "status"), "answered");
    CU_ASSERT_STRING_EQUAL(hp_json_str(s, "value"), "yes");
    CU_ASSERT_PTR_NULL(hp_json_str(s, "pollUrl"));
    json_object_put(s);
    r.status = "expired";
    s = hp_mcp_question_state(&r, false, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(hp_json_str(s, "message"), "expired"));
    json_object_put(s);

    res = hp_mcp_tool_error("No question", parse("[{\"path\":[]}]"));
    CU_ASSERT_TRUE(json_object_get_boolean(json_object_object_get(res, "isError")));
    CU_ASSERT_EQUAL(json_object_array_length(hp_json_arr(res, "content")), 2);
    CU_ASSERT_PTR_NULL(hp_json_obj(res, "structuredContent"));
    json_object_put(res);

    hp_notif_session rows[2];
    memset(rows, 0, sizeof(rows));
    rows[0].id = "s2";
    rows[0].status = "active";
    rows[0].created_at = 1795425052123000LL;
    rows[0].ended_at = -1;
    rows[1].id = "s1";
    rows[1].status = "completed";
    rows[1].implicit = true;
    rows[1].created_at = 1795425000000000LL;
    rows[1].ended_at = 1795425052000000LL;
    s = hp_mcp_sessions_state(rows, 2, true);
    CU_ASSERT_STRING_EQUAL(hp_json_text(s),
                           "{\"sessions\":[{\"sessionId\":\"s2\",\"label\":null,\"client\":null,"
                           "\"status\":\"active\",\"implicit\":false,\"createdAt\":"
                           "\"2026-11-23T09:10:52.123Z\",\"endedAt\":null},{\"sessionId\":\"s1\","
                           "\"label\":null,\"client\":null,\"status\":\"completed\",\"implicit\":"
                           "true,\"createdAt\":\"2026-11-23T09:10:00.000Z\",\"endedAt\":"
                           "\"2026-11-23T09:10:52.000Z\"}],\"hasMore\":true}");
    json_object_put(s);
    json_object_put(opts);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"revisions and their rules", test_versions},
        {"JSON-RPC classification", test_classify},
        {"responses, errors, progress", test_replies},
        {"initialize", test_initialize},
        {"the five tools and their schemas", test_tools},
        {"tool arguments", test_args},
        {"result shapes", test_results},
        {NULL, NULL},
    };
    return hp_unit_main("hp_mcp", tests);
}
