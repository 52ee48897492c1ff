/*
 * Unit tests for hp_mcp: revision negotiation and the per-revision rules
 * (batches, argument errors), JSON-RPC classification of good and malformed
 * messages, the reply shapes, the initialize result, the tool catalogue
 * (every schema parses, is an object schema, and the names are the five of
 * seed 000 and SPEC section 4), argument parsing and the result shapes;
 * the era routing of 2026-07-28 (every rejection of the validation ladder,
 * the Base64 Mcp-Name, legacy traffic left alone) and its result shapes.
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
    CU_ASSERT_TRUE(hp_mcp_version_is_modern("2026-07-28"));
    CU_ASSERT_TRUE(hp_mcp_version_is_modern("2027-01-01"));
    CU_ASSERT_FALSE(hp_mcp_version_is_modern("2025-11-25"));
    CU_ASSERT_FALSE(hp_mcp_version_is_modern(NULL));
    CU_ASSERT_FALSE(hp_mcp_version_is_modern("not-a-version"));
    CU_ASSERT_FALSE(hp_mcp_version_is_modern("2026-07-28x"));
    CU_ASSERT_FALSE(hp_mcp_version_is_modern("2026_07_28"));
    CU_ASSERT_TRUE(hp_mcp_validation_is_tool_error(HP_MCP_MODERN_VERSION));
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

#define ENV_OK                                                                                     \
    "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","                       \
    "\"io.modelcontextprotocol/clientCapabilities\":{},"                                           \
    "\"io.modelcontextprotocol/clientInfo\":{\"name\":\"c\",\"version\":\"1\"}}"

/* Routes text with the headers; returns the route (data released). */
static hp_mcp_route route_of(const char *text, const char *hv, const char *hm, const char *hn)
{
    json_object *v = parse(text);
    hp_mcp_headers h = {hv, hm, hn};
    hp_mcp_msg m;
    hp_mcp_route r;

    hp_mcp_classify(v, &m);
    CU_ASSERT_FATAL(m.kind == HP_MCP_MSG_REQUEST || m.kind == HP_MCP_MSG_NOTIFICATION);
    hp_mcp_route_message(&m, &h, &r);
    if (r.kind == HP_MCP_ROUTE_REJECT) {
        CU_ASSERT_EQUAL(r.http_status, 400);
        CU_ASSERT(r.message[0] != '\0');
    } else {
        CU_ASSERT_PTR_NULL(r.data);
    }
    json_object_put(r.data);
    json_object_put(v);
    return r;
}

static int reject_code(const char *text, const char *hv, const char *hm, const char *hn)
{
    hp_mcp_route r = route_of(text, hv, hm, hn);
    return r.kind == HP_MCP_ROUTE_REJECT ? r.code : 0;
}

static void test_routing(void)
{
    static const char list[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{" ENV_OK "}}";
    static const char call[] =
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{"
        "\"name\":\"ask_user\",\"arguments\":{}," ENV_OK "}}";
    static const char init[] = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
                               "{\"protocolVersion\":\"2025-11-25\"}}";
    const char *v = "2026-07-28";
    hp_mcp_route r;

    /* Served statelessly when the envelope and every header agree. */
    r = route_of(list, v, "tools/list", NULL);
    CU_ASSERT_EQUAL(r.kind, HP_MCP_ROUTE_MODERN);
    CU_ASSERT_STRING_EQUAL(r.version, "2026-07-28");
    CU_ASSERT_EQUAL(route_of(call, v, "tools/call", "ask_user").kind, HP_MCP_ROUTE_MODERN);
    /* Mcp-Name in the Base64 form; a broken one or another name is refused. */
    CU_ASSERT_EQUAL(route_of(call, v, "tools/call", "=?base64?YXNrX3VzZXI=?=").kind,
                    HP_MCP_ROUTE_MODERN);
    CU_ASSERT_EQUAL(reject_code(call, v, "tools/call", "=?base64?YXNr*3VzZXI=?="),
                    HP_MCP_HEADER_MISMATCH);
    CU_ASSERT_EQUAL(reject_code(call, v, "tools/call", "=?base64?d2FpdF9mb3JfYW5zd2Vy?="),
                    HP_MCP_HEADER_MISMATCH);
    CU_ASSERT_EQUAL(reject_code(call, v, "tools/call", "cancel_question"), HP_MCP_HEADER_MISMATCH);
    /* Required headers missing, or naming something else than the body. */
    CU_ASSERT_EQUAL(reject_code(call, v, "tools/call", NULL), HP_MCP_HEADER_MISMATCH);
    CU_ASSERT_EQUAL(reject_code(list, NULL, "tools/list", NULL), HP_MCP_HEADER_MISMATCH);
    CU_ASSERT_EQUAL(reject_code(list, v, NULL, NULL), HP_MCP_HEADER_MISMATCH);
    CU_ASSERT_EQUAL(reject_code(list, v, "tools/call", NULL), HP_MCP_HEADER_MISMATCH);
    CU_ASSERT_EQUAL(reject_code(list, "2025-11-25", "tools/list", NULL), HP_MCP_HEADER_MISMATCH);
    /* A revision the server does not speak: -32022 with the ones it does. */
    {
        json_object *m =
            parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":"
                  "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
                  "\"2099-01-01\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}");
        hp_mcp_headers h = {"2099-01-01", "tools/list", NULL};
        hp_mcp_msg msg;
        hp_mcp_classify(m, &msg);
        hp_mcp_route_message(&msg, &h, &r);
        CU_ASSERT_EQUAL(r.kind, HP_MCP_ROUTE_REJECT);
        CU_ASSERT_EQUAL(r.code, HP_MCP_UNSUPPORTED_VERSION);
        CU_ASSERT_STRING_EQUAL(hp_json_str(r.data, "requested"), "2099-01-01");
        CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(
                                   json_object_object_get(r.data, "supported"), 0)),
                               "2026-07-28");
        json_object_put(r.data);
        json_object_put(m);
    }
    /* Malformed envelopes: -32602, whatever the headers say. */
    CU_ASSERT_EQUAL(
        reject_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":"
                    "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
                    "\"2026-07-28\"}}}",
                    v, "tools/list", NULL),
        HP_MCP_INVALID_PARAMS);
    CU_ASSERT_EQUAL(
        reject_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":"
                    "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":7,"
                    "\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
                    v, "tools/list", NULL),
        HP_MCP_INVALID_PARAMS);
    CU_ASSERT_EQUAL(
        reject_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":"
                    "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
                    "\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{},"
                    "\"io.modelcontextprotocol/clientInfo\":\"me\"}}}",
                    v, "tools/list", NULL),
        HP_MCP_INVALID_PARAMS);
    /* A modern header on a request without the envelope. */
    CU_ASSERT_EQUAL(reject_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", v,
                                "tools/list", NULL),
                    HP_MCP_INVALID_PARAMS);
    /* The legacy era is left alone: initialize, and requests of a session. */
    CU_ASSERT_EQUAL(route_of(init, NULL, NULL, NULL).kind, HP_MCP_ROUTE_LEGACY);
    CU_ASSERT_EQUAL(route_of(init, "2025-11-25", NULL, NULL).kind, HP_MCP_ROUTE_LEGACY);
    CU_ASSERT_EQUAL(reject_code(init, v, NULL, NULL), HP_MCP_HEADER_MISMATCH);
    CU_ASSERT_EQUAL(route_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}",
                             "2025-11-25", NULL, NULL)
                        .kind,
                    HP_MCP_ROUTE_LEGACY);
    /* An initialize that carries a valid modern envelope is a modern request
     * (which this revision does not define). */
    CU_ASSERT_EQUAL(
        route_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{" ENV_OK "}}",
                 v, "initialize", NULL)
            .kind,
        HP_MCP_ROUTE_MODERN);
    /* Notifications: the envelope, or a modern header alone. */
    CU_ASSERT_EQUAL(
        route_of("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\",\"params\":{" ENV_OK "}}", v,
                 NULL, NULL)
            .kind,
        HP_MCP_ROUTE_MODERN);
    CU_ASSERT_EQUAL(
        route_of("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}", v, NULL, NULL).kind,
        HP_MCP_ROUTE_MODERN);
    CU_ASSERT_EQUAL(reject_code("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}", v,
                                "notifications/y", NULL),
                    HP_MCP_HEADER_MISMATCH);
    CU_ASSERT_EQUAL(
        route_of("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", NULL, NULL, NULL)
            .kind,
        HP_MCP_ROUTE_LEGACY);
}

static void test_modern_results(void)
{
    json_object *id = json_object_new_int(4), *r, *res, *d;

    r = hp_mcp_modern_result(hp_mcp_response(id, hp_mcp_discover_result()), "server/discover");
    d = json_object_object_get(r, "result");

    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(
                               json_object_object_get(d, "supportedVersions"), 0)),
                           "2026-07-28");
    CU_ASSERT_EQUAL(json_object_array_length(json_object_object_get(d, "supportedVersions")), 1);
    CU_ASSERT_PTR_NOT_NULL(
        json_object_object_get(json_object_object_get(d, "capabilities"), "tools"));
    CU_ASSERT_PTR_NOT_NULL(strstr(hp_json_str(d, "instructions"), "wait_for_answer"));
    CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(d, "ttlMs")), HP_MCP_CACHE_TTL_MS);
    CU_ASSERT_STRING_EQUAL(hp_json_str(d, "cacheScope"), "public");
    json_object_put(r);

    r = hp_mcp_modern_result(hp_mcp_response(id, hp_mcp_tools_list()), "tools/list");
    res = json_object_object_get(r, "result");
    CU_ASSERT_STRING_EQUAL(hp_json_str(res, "resultType"), "complete");
    CU_ASSERT_STRING_EQUAL(hp_json_str(json_object_object_get(json_object_object_get(res, "_meta"),
                                                              HP_MCP_META_SERVER_INFO),
                                       "name"),
                           "holdpoint");
    CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(res, "ttlMs")), HP_MCP_CACHE_TTL_MS);
    CU_ASSERT_EQUAL(json_object_array_length(json_object_object_get(res, "tools")), 5);
    json_object_put(r);

    /* Not cacheable: no hints. An error response is left as it is. */
    r = hp_mcp_modern_result(hp_mcp_response(id, json_object_new_object()), "tools/call");
    CU_ASSERT_PTR_NULL(json_object_object_get(json_object_object_get(r, "result"), "ttlMs"));
    json_object_put(r);
    r = hp_mcp_modern_result(hp_mcp_error(id, HP_MCP_INVALID_PARAMS, "x", NULL), "tools/list");
    CU_ASSERT_PTR_NULL(json_object_object_get(r, "result"));
    CU_ASSERT_PTR_NULL(json_object_object_get(json_object_object_get(r, "error"), "resultType"));
    json_object_put(r);
    json_object_put(id);
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
        {"2026-07-28 era routing", test_routing},
        {"2026-07-28 results", test_modern_results},
        {NULL, NULL},
    };
    return hp_unit_main("hp_mcp", tests);
}
