/*
 * The MCP server at /mcp (docs/mcp.md) over real HTTP: initialize and
 * version negotiation for every supported revision, Mcp-Session-Id and
 * MCP-Protocol-Version, 202 for notifications and responses, ping,
 * tools/list and tools/call, batches where 2025-03-26 allows them and
 * refused elsewhere, DELETE, sessions served by another replica, progress
 * over SSE while a tool waits, and every refusal (missing or revoked key,
 * Origin, Accept, malformed or huge or deep bodies, malformed JSON-RPC,
 * unknown method or tool, invalid arguments per revision, another team's
 * session) answering a documented status or JSON-RPC error with nothing
 * stored. The stateless 2026-07-28 revision beside them: server/discover,
 * tools/list with cache hints, a question asked on one replica and answered
 * on the other with no session, progress over SSE, and the validation
 * ladder (-32020, -32022, -32602, 404 for methods it does not define).
 * Then the official MCP TypeScript SDK clients run their scenarios against
 * two replicas: v1 (tests/e2e/mcp_client.mjs, 2025-11-25 with sessions) and
 * v2 (tests/e2e/mcp_modern_client.mjs, 2026-07-28, pinned and probing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "hp_itest.h"
#include "it_bg.h"

#define PUBLIC_URL "https://holdpoint.example.test"

static const char *const dflt_env[] = {"HOLDPOINT_PUBLIC_URL=" PUBLIC_URL, NULL};

/* A second replica, started once for the program: sessions must work on it. */
static hp_it_api *replica;

static int setup(void)
{
    replica = hp_it_api_start("mcp-replica", dflt_env);
    return replica != NULL ? 0 : 1;
}

static int teardown(void)
{
    return hp_it_api_stop(replica) == 0 ? 0 : 1;
}

static const char *jstr(json_object *o, const char *path)
{
    json_object *v = hp_it_jget(o, path, NULL);
    return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static long long jint(json_object *o, const char *path)
{
    json_object *v = hp_it_jget(o, path, NULL);
    return v != NULL ? json_object_get_int64(v) : -999999;
}

/* An MCP POST: the key, the session (may be NULL), extra headers (may be
 * NULL), and the body. */
static hp_it_resp *mcp_on(hp_it_api *api, const char *key, const char *sid, const char *extra,
                          const char *body)
{
    const char *h[6];
    int n = 0;
    if (key != NULL)
        h[n++] = hp_it_fmt("Authorization: Bearer %s", key);
    h[n++] = "Content-Type: application/json";
    h[n++] = "Accept: application/json, text/event-stream";
    if (sid != NULL)
        h[n++] = hp_it_fmt("Mcp-Session-Id: %s", sid);
    if (extra != NULL)
        h[n++] = extra;
    h[n] = NULL;
    return hp_it_http(api, "POST", "/mcp", h, body);
}

static hp_it_resp *mcp(const char *key, const char *sid, const char *body)
{
    return mcp_on(NULL, key, sid, NULL, body);
}

static const char *init_body(const char *version)
{
    return hp_it_fmt("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
                     "{\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":"
                     "{\"name\":\"it_mcp\",\"version\":\"1\"}}}",
                     version);
}

/* Opens a session at version; returns its Mcp-Session-Id. */
static const char *open_session(hp_it_api *api, const hp_it_team *t, const char *version)
{
    hp_it_resp *r = mcp_on(api, t->api_key, NULL, NULL, init_body(version));
    IT_STATUS_FATAL(r, 200);
    const char *sid = hp_it_header(r, "Mcp-Session-Id");
    IT_CHECK_FATAL(sid != NULL && strncmp(sid, "mcp_", 4) == 0, "no Mcp-Session-Id: %s",
                   r->headers);
    IT_STATUS(mcp_on(api, t->api_key, sid, NULL,
                     "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"),
              202);
    return sid;
}

static const char *call(const char *id, const char *tool, const char *args)
{
    return hp_it_fmt("{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"tools/call\",\"params\":"
                     "{\"name\":\"%s\",\"arguments\":%s}}",
                     id, tool, args);
}

/* A JSON-RPC error answer: HTTP status, error.code, id null, and
 * data.error the stable code (HTTP-level refusals). */
static bool rpc_http_error(const hp_it_resp *r, long status, int code, const char *wire, int line)
{
    bool ok = r->status == status && r->json != NULL && jint(r->json, "error.code") == code &&
              jstr(r->json, "jsonrpc") != NULL && hp_it_jget(r->json, "id", NULL) == NULL &&
              (wire == NULL || (jstr(r->json, "error.data.error") != NULL &&
                                strcmp(jstr(r->json, "error.data.error"), wire) == 0)) &&
              jstr(r->json, "error.data.request_id") != NULL;
    return IT_CHECK(ok, "line %d: want %ld with JSON-RPC error %d (%s), got %ld %s", line, status,
                    code, wire ? wire : "-", r->status, r->body);
}
#define RPC_HTTP_ERROR(r, status, code, wire)                                                      \
    rpc_http_error((r), (status), (code), (wire), __LINE__)

static long long team_approvals(const hp_it_team *t)
{
    return hp_it_sql_int("select count(*) from approvals where team_id = $1::uuid", t->team_id,
                         (const char *)NULL);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_initialize_and_versions(void)
{
    const hp_it_team *t = hp_it_team_new();
    static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};

    for (int i = 0; i < 3; i++) {
        hp_it_resp *r = mcp(t->api_key, NULL, init_body(versions[i]));
        IT_STATUS_FATAL(r, 200);
        IT_JSTR(r->json, "jsonrpc", "2.0");
        IT_JINT(r->json, "id", 0);
        IT_JSTR(r->json, "result.protocolVersion", versions[i]);
        IT_JSTR(r->json, "result.serverInfo.name", "holdpoint");
        IT_CHECK(hp_it_jget(r->json, "result.capabilities.tools", NULL) != NULL,
                 "no tools capability: %s", r->body);
        IT_CHECK(hp_it_header(r, "Mcp-Session-Id") != NULL, "no session id");
    }
    /* Asked for a revision we do not speak: the latest, and the client decides. */
    hp_it_resp *r = mcp(t->api_key, NULL, init_body("2024-11-05"));
    IT_JSTR(r->json, "result.protocolVersion", "2025-11-25");
    /* Sessions are stored with their revision and only the hash of the id. */
    const char *sid = hp_it_header(r, "Mcp-Session-Id");
    IT_CHECK(hp_it_sql_int("select count(*) from mcp_sessions where team_id = $1::uuid and "
                           "agent_id = $2::uuid",
                           t->team_id, t->agent_id, (const char *)NULL) == 4,
             "four sessions stored");
    IT_CHECK(hp_it_sql_int("select count(*) from mcp_sessions where id_hash = sha256($1::bytea)",
                           sid, (const char *)NULL) == 1,
             "the session is stored by the hash of its id");
    IT_CHECK(hp_it_sql_int("select count(*) from mcp_sessions where encode(id_hash, 'escape') "
                           "like '%' || $1 || '%'",
                           sid + 4, (const char *)NULL) == 0,
             "the session id itself is stored");
    /* An initialize asking for 2026-07-28 (which has no initialize) gets
     * 2025-11-25 and a session, as a legacy client expects. */
    r = mcp(t->api_key, NULL, init_body("2026-07-28"));
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "result.protocolVersion", "2025-11-25");
    IT_CHECK(hp_it_header(r, "Mcp-Session-Id") != NULL, "no session for the initialize");
    IT_CHECK(hp_it_sql_int("select count(*) from mcp_sessions where team_id = $1::uuid", t->team_id,
                           (const char *)NULL) == 5,
             "want five sessions");
    /* An initialize without protocolVersion. */
    r = mcp(t->api_key, NULL,
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}");
    IT_STATUS(r, 200);
    IT_JINT(r->json, "error.code", -32602);
}

static void test_session_requests(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *sid = open_session(NULL, t, "2025-11-25");
    const char *ver = "MCP-Protocol-Version: 2025-11-25";
    hp_it_resp *r;

    r = mcp_on(NULL, t->api_key, sid, ver,
               "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "id", "p");
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "result", NULL)) == 0, "ping answers {}: %s", r->body);
    r = mcp_on(NULL, t->api_key, sid, ver,
               "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "result.tools", NULL)) == 5, "five tools: %s", r->body);
    IT_JSTR(r->json, "result.tools.0.name", "ask_user");
    IT_JSTR(r->json, "result.tools.0.outputSchema.type", "object");
    /* Unknown method: a JSON-RPC error with the request's id. */
    r = mcp(t->api_key, sid, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/list\"}");
    IT_STATUS(r, 200);
    IT_JINT(r->json, "id", 3);
    IT_JINT(r->json, "error.code", -32601);
    /* Unknown tool. */
    r = mcp(t->api_key, sid, call("4", "delete_everything", "{}"));
    IT_JINT(r->json, "error.code", -32602);
    /* A client's answer and a cancellation: accepted, no body. */
    r = mcp(t->api_key, sid, "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}");
    IT_STATUS(r, 202);
    IT_CHECK(r->body_len == 0, "202 with a body: %s", r->body);
    IT_STATUS(mcp(t->api_key, sid,
                  "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
                  "{\"requestId\":4}}"),
              202);
    /* Another replica serves the same session. */
    hp_it_api *other = replica;
    r = mcp_on(other, t->api_key, sid, ver, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}");
    IT_STATUS(r, 200);
    IT_JINT(r->json, "id", 5);
    /* DELETE ends it everywhere. */
    const char *dh[] = {hp_it_fmt("Authorization: Bearer %s", t->api_key),
                        hp_it_fmt("Mcp-Session-Id: %s", sid), NULL};
    IT_STATUS(hp_it_http(other, "DELETE", "/mcp", dh, NULL), 204);
    RPC_HTTP_ERROR(mcp(t->api_key, sid, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}"), 404,
                   -32001, "not_found");
    RPC_HTTP_ERROR(hp_it_http(NULL, "DELETE", "/mcp", dh, NULL), 404, -32001, "not_found");
    /* GET: no stream to offer. */
    const char *gh[] = {hp_it_fmt("Authorization: Bearer %s", t->api_key),
                        "Accept: text/event-stream", NULL};
    r = hp_it_http(NULL, "GET", "/mcp", gh, NULL);
    IT_STATUS(r, 405);
    IT_CHECK(hp_it_header(r, "Allow") != NULL && strstr(hp_it_header(r, "Allow"), "POST"),
             "405 without Allow: POST");
}

/* Seed 000's MCP URL (/api/mcp/mcp) is the same server: a session opened
 * there is served at /mcp too, and DELETE there ends it. */
static void test_seed_path(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *h[] = {hp_it_fmt("Authorization: Bearer %s", t->api_key),
                       "Content-Type: application/json",
                       "Accept: application/json, text/event-stream", NULL};
    hp_it_resp *r = hp_it_http(NULL, "POST", "/api/mcp/mcp", h, init_body("2025-11-25"));

    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "result.protocolVersion", "2025-11-25");
    const char *sid = hp_it_header(r, "Mcp-Session-Id");
    IT_CHECK_FATAL(sid != NULL, "no Mcp-Session-Id: %s", r->headers);
    r = mcp(t->api_key, sid, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "result.tools", NULL)) == 5, "five tools: %s", r->body);
    /* JSON-RPC errors there too, not the /v1 body. */
    const char *nokey[] = {"Content-Type: application/json",
                           "Accept: application/json, text/event-stream", NULL};
    RPC_HTTP_ERROR(hp_it_http(NULL, "POST", "/api/mcp/mcp", nokey, init_body("2025-11-25")), 401,
                   -32000, "missing_api_key");
    const char *dh[] = {hp_it_fmt("Authorization: Bearer %s", t->api_key),
                        hp_it_fmt("Mcp-Session-Id: %s", sid), NULL};
    IT_STATUS(hp_it_http(NULL, "DELETE", "/api/mcp/mcp", dh, NULL), 204);
    RPC_HTTP_ERROR(mcp(t->api_key, sid, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}"), 404,
                   -32001, "not_found");
}

static void test_tools_call(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *sid = open_session(NULL, t, "2025-11-25");
    hp_it_resp *r;
    double start = hp_it_now();

    /* ask_user waits, then answers pending with the next step. */
    r = mcp(t->api_key, sid,
            call("1", "ask_user",
                 "{\"question\":\"Merge the release branch?\",\"agentName\":\"mcp agent\","
                 "\"sessionId\":\"mcp-run\",\"timeoutSeconds\":1}"));
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "result.structuredContent.status", "timeout");
    IT_JBOOL(r->json, "result.isError", false);
    IT_CHECK(hp_it_now() - start >= 0.9 && hp_it_now() - start < 30, "waited %.2f s",
             hp_it_now() - start);
    const char *cid = jstr(r->json, "result.structuredContent.correlationId");
    IT_CHECK_FATAL(cid != NULL, "no correlationId: %s", r->body);
    IT_CHECK(strstr(jstr(r->json, "result.structuredContent.message"), "wait_for_answer") != NULL,
             "no next step: %s", r->body);
    IT_JSTR(r->json, "result.structuredContent.pollUrl",
            hp_it_fmt(PUBLIC_URL "/api/v1/server/ask/%s", cid));
    /* The same question is an Ask API question and an approval in the inbox. */
    const char *ap = hp_it_sql_str("select id::text from approvals where request_id = $1 and "
                                   "source = 'ask' and agent_name = 'mcp agent' and "
                                   "session_id = 'mcp-run'",
                                   cid, (const char *)NULL);
    IT_CHECK_FATAL(ap != NULL, "the question is not stored as an ask approval");
    IT_STATUS(hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", ap),
                         "{\"option_index\":1}"),
              200);
    r = mcp(t->api_key, sid,
            call("2", "wait_for_answer", hp_it_fmt("{\"correlationId\":\"%s\"}", cid)));
    IT_JSTR(r->json, "result.structuredContent.status", "answered");
    IT_JSTR(r->json, "result.structuredContent.value", "no");
    const char *bh[] = {hp_it_fmt("Authorization: Bearer %s", t->api_key), NULL};
    IT_JSTR(hp_it_http(NULL, "GET", hp_it_fmt("/api/v1/server/ask/%s", cid), bh, NULL)->json,
            "value", "no");

    /* Another agent's correlation id is unknown to this session. */
    const hp_it_team *other = hp_it_team_new();
    const char *osid = open_session(NULL, other, "2025-11-25");
    r = mcp(other->api_key, osid,
            call("3", "wait_for_answer", hp_it_fmt("{\"correlationId\":\"%s\"}", cid)));
    IT_JBOOL(r->json, "result.isError", true);
    r = mcp(other->api_key, osid,
            call("4", "cancel_question", hp_it_fmt("{\"correlationId\":\"%s\"}", cid)));
    IT_JBOOL(r->json, "result.isError", true);
    IT_JSTR(hp_it_http(NULL, "GET", hp_it_fmt("/api/v1/server/ask/%s", cid), bh, NULL)->json,
            "status", "answered");
}

static void jput(void *j)
{
    json_object_put(j);
}

/* One SSE body's data lines parsed as JSON (harness-owned array). */
static json_object *sse_data(const char *body)
{
    json_object *arr = hp_it_track(json_object_new_array(), jput);
    for (const char *p = body; p != NULL && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, "data: ", 6) == 0) {
            size_t n = strcspn(p + 6, "\n");
            json_object *v = hp_it_json(hp_it_fmt("%.*s", (int)n, p + 6));
            if (v != NULL)
                json_object_array_add(arr, json_object_get(v));
        }
    return arr;
}

/* Sends a waiting ask_user (headers hs, body) to api in the background,
 * decides its question (option 0) once it is asked, and returns the event
 * stream's messages: progress first, the answer last (at least two). */
static json_object *decided_while_waiting(hp_it_api *api, const hp_it_team *t,
                                          const char *const *hs, const char *body)
{
    bg_batch *b = bg_new(1);
    const char *ap;

    bg_set_headers(b, 0, "POST", hp_it_fmt("%s/mcp", hp_it_api_base(api)), hs, body, 60000);
    bg_start(b);
    ap = bg_await_sql("select id::text from approvals where team_id = $1::uuid", t->team_id, 10000);
    IT_CHECK_FATAL(ap != NULL, "the waiting call never asked");
    hp_it_sleep_ms(200);
    IT_STATUS(hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", ap),
                         "{\"option_index\":0}"),
              200);
    bg_join(b);
    IT_CHECK_FATAL(b->calls[0].status == 200, "status %ld", b->calls[0].status);
    IT_CHECK(strstr(b->calls[0].hdrs, "text/event-stream") != NULL, "not an event stream: %s",
             b->calls[0].hdrs);
    json_object *ev = sse_data(b->calls[0].resp);
    IT_CHECK_FATAL(hp_it_jlen(ev) >= 2, "want progress then the result: %s", b->calls[0].resp);
    IT_JSTR(json_object_array_get_idx(ev, 0), "method", "notifications/progress");
    return ev;
}

static void test_progress_over_sse(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *sid = open_session(NULL, t, "2025-11-25");
    const char *hs[] = {
        hp_it_fmt("Authorization: Bearer %s", t->api_key), "Content-Type: application/json",
        "Accept: application/json, text/event-stream", hp_it_fmt("Mcp-Session-Id: %s", sid), NULL};
    json_object *ev =
        decided_while_waiting(hp_it_api_default(), t, hs,
                              "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":"
                              "{\"name\":\"ask_user\",\"arguments\":{\"question\":\"Progress?\","
                              "\"timeoutSeconds\":50},\"_meta\":{\"progressToken\":\"tok-1\"}}}");
    json_object *first = json_object_array_get_idx(ev, 0);
    IT_JSTR(first, "params.progressToken", "tok-1");
    IT_JINT(first, "params.total", 50);
    json_object *last = json_object_array_get_idx(ev, (size_t)hp_it_jlen(ev) - 1);
    IT_JINT(last, "id", 7);
    IT_JSTR(last, "result.structuredContent.status", "answered");
    IT_JSTR(last, "result.structuredContent.value", "yes");
}

/* ---- 2026-07-28 ------------------------------------------------------------ */

#define ENVELOPE                                                                                   \
    "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","                       \
    "\"io.modelcontextprotocol/clientCapabilities\":{},"                                           \
    "\"io.modelcontextprotocol/clientInfo\":{\"name\":\"it_mcp\",\"version\":\"1\"}}"

/* A 2026-07-28 request: no session, its revision in MCP-Protocol-Version,
 * its method in Mcp-Method and, given, name in Mcp-Name. */
static hp_it_resp *modern_on(hp_it_api *api, const char *key, const char *method, const char *name,
                             const char *body)
{
    const char *h[] = {hp_it_fmt("Authorization: Bearer %s", key),
                       "Content-Type: application/json",
                       "Accept: application/json, text/event-stream",
                       "MCP-Protocol-Version: 2026-07-28",
                       hp_it_fmt("Mcp-Method: %s", method),
                       name ? hp_it_fmt("Mcp-Name: %s", name) : NULL,
                       NULL};
    return hp_it_http(api, "POST", "/mcp", h, body);
}

static const char *modern_call(const char *id, const char *tool, const char *args)
{
    return hp_it_fmt("{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"tools/call\",\"params\":"
                     "{\"name\":\"%s\",\"arguments\":%s," ENVELOPE "}}",
                     id, tool, args);
}

/* A refusal of the modern ladder: status, code, the request's id, and no
 * session opened. */
static bool modern_refused(const hp_it_resp *r, long status, int code, int line)
{
    bool ok = r->status == status && r->json != NULL && jint(r->json, "error.code") == code &&
              hp_it_jget(r->json, "id", NULL) != NULL && hp_it_header(r, "Mcp-Session-Id") == NULL;
    return IT_CHECK(ok, "line %d: want %ld with JSON-RPC error %d, got %ld %s", line, status, code,
                    r->status, r->body);
}
#define MODERN_REFUSED(r, status, code) modern_refused((r), (status), (code), __LINE__)

/* A 2026-07-28 result: resultType complete, serverInfo in its _meta, and
 * no session. */
static void check_modern_result(const hp_it_resp *r, int line)
{
    json_object *info = json_object_object_get(hp_it_jget(r->json, "result._meta", NULL),
                                               "io.modelcontextprotocol/serverInfo");
    const char *type = jstr(r->json, "result.resultType");

    IT_CHECK(r->status == 200 && type != NULL && strcmp(type, "complete") == 0 &&
                 jstr(info, "name") != NULL && strcmp(jstr(info, "name"), "holdpoint") == 0 &&
                 hp_it_header(r, "Mcp-Session-Id") == NULL,
             "line %d: not a 2026-07-28 result: %ld %s", line, r->status, r->body);
}

static void test_stateless_revision(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *discover =
        "{\"jsonrpc\":\"2.0\",\"id\":\"d\",\"method\":\"server/discover\",\"params\":{" ENVELOPE
        "}}";
    hp_it_resp *r;

    r = modern_on(NULL, t->api_key, "server/discover", NULL, discover);
    check_modern_result(r, __LINE__);
    IT_JSTR(r->json, "id", "d");
    IT_JSTR(r->json, "result.supportedVersions.0", "2026-07-28");
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "result.supportedVersions", NULL)) == 1,
             "legacy revisions listed in discover: %s", r->body);
    IT_CHECK(hp_it_jget(r->json, "result.capabilities.tools", NULL) != NULL, "no tools: %s",
             r->body);
    IT_CHECK(strstr(jstr(r->json, "result.instructions"), "wait_for_answer") != NULL,
             "instructions");
    IT_JINT(r->json, "result.ttlMs", 3600000);
    r = modern_on(replica, t->api_key, "tools/list", NULL,
                  "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{" ENVELOPE
                  "}}");
    check_modern_result(r, __LINE__);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "result.tools", NULL)) == 5, "five tools: %s", r->body);
    IT_JINT(r->json, "result.ttlMs", 3600000);
    IT_JSTR(r->json, "result.cacheScope", "public");

    /* Asked on one replica, answered on the other: nothing shared but the
     * correlationId, and no session stored. Mcp-Name may come in Base64. */
    r = modern_on(NULL, t->api_key, "tools/call", "=?base64?YXNrX3VzZXI=?=",
                  modern_call("2", "ask_user",
                              "{\"question\":\"Stateless?\",\"type\":\"select\",\"options\":"
                              "[\"one\",\"two\"],\"wait\":false}"));
    check_modern_result(r, __LINE__);
    IT_JSTR(r->json, "result.structuredContent.status", "pending");
    const char *cid = jstr(r->json, "result.structuredContent.correlationId");
    IT_CHECK_FATAL(cid != NULL, "no correlationId: %s", r->body);
    const char *ap = hp_it_sql_str("select id::text from approvals where request_id = $1", cid,
                                   (const char *)NULL);
    IT_CHECK_FATAL(ap != NULL, "the question was not stored");
    IT_STATUS(hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", ap),
                         "{\"option_index\":1}"),
              200);
    r = modern_on(
        replica, t->api_key, "tools/call", "wait_for_answer",
        modern_call("3", "wait_for_answer", hp_it_fmt("{\"correlationId\":\"%s\"}", cid)));
    check_modern_result(r, __LINE__);
    IT_JSTR(r->json, "result.structuredContent.status", "answered");
    IT_JSTR(r->json, "result.structuredContent.value", "two");
    IT_CHECK(hp_it_sql_int("select count(*) from mcp_sessions where team_id = $1::uuid", t->team_id,
                           (const char *)NULL) == 0,
             "a 2026-07-28 request opened a session");
    /* Invalid arguments: a tool error the model can read. */
    r = modern_on(NULL, t->api_key, "tools/call", "ask_user",
                  modern_call("4", "ask_user", "{\"question\":\"q\",\"type\":\"multiple\"}"));
    check_modern_result(r, __LINE__);
    IT_JBOOL(r->json, "result.isError", true);

    /* The ladder: every refusal is 400 (404 for a method this revision does
     * not define), carries the request's id, and asks nothing. */
    long long before = team_approvals(t);
    const char *ask = modern_call("5", "ask_user", "{\"question\":\"Refused?\",\"wait\":false}");
    MODERN_REFUSED(modern_on(NULL, t->api_key, "tools/call", "wait_for_answer", ask), 400, -32020);
    MODERN_REFUSED(modern_on(NULL, t->api_key, "tools/call", NULL, ask), 400, -32020);
    MODERN_REFUSED(modern_on(NULL, t->api_key, "tools/call", "=?base64?not base64?=", ask), 400,
                   -32020);
    MODERN_REFUSED(modern_on(NULL, t->api_key, "tools/list", "ask_user", ask), 400, -32020);
    {
        const char *h[] = {hp_it_fmt("Authorization: Bearer %s", t->api_key),
                           "Content-Type: application/json", "Mcp-Method: tools/call",
                           "Mcp-Name: ask_user", NULL};
        MODERN_REFUSED(hp_it_http(NULL, "POST", "/mcp", h, ask), 400, -32020);
    }
    r = modern_on(NULL, t->api_key, "tools/call", "ask_user",
                  "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":"
                  "\"ask_user\",\"arguments\":{\"question\":\"q\"},\"_meta\":{"
                  "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}");
    MODERN_REFUSED(r, 400, -32602);
    IT_JSTR(r->json, "error.data.envelope.key", "io.modelcontextprotocol/clientCapabilities");
    {
        const char *h[] = {hp_it_fmt("Authorization: Bearer %s", t->api_key),
                           "Content-Type: application/json", "MCP-Protocol-Version: 2099-01-01",
                           "Mcp-Method: tools/list", NULL};
        r = hp_it_http(NULL, "POST", "/mcp", h,
                       "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\",\"params\":{"
                       "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2099-01-01\","
                       "\"io.modelcontextprotocol/clientCapabilities\":{}}}}");
        MODERN_REFUSED(r, 400, -32022);
        IT_JSTR(r->json, "error.data.supported.0", "2026-07-28");
        IT_JSTR(r->json, "error.data.requested", "2099-01-01");
    }
    MODERN_REFUSED(modern_on(NULL, t->api_key, "tools/list", NULL,
                             "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/list\"}"),
                   400, -32602);
    MODERN_REFUSED(
        modern_on(NULL, t->api_key, "ping", NULL,
                  "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\",\"params\":{" ENVELOPE "}}"),
        404, -32601);
    MODERN_REFUSED(modern_on(NULL, t->api_key, "initialize", NULL, init_body("2025-11-25")), 400,
                   -32020);
    RPC_HTTP_ERROR(mcp(t->api_key, NULL, hp_it_fmt("[%s]", discover)), 400, -32600,
                   "invalid_request");
    IT_CHECK(team_approvals(t) == before, "a refused 2026-07-28 call asked a question");
    IT_CHECK(hp_it_sql_int("select count(*) from mcp_sessions where team_id = $1::uuid", t->team_id,
                           (const char *)NULL) == 0,
             "a refusal opened a session");
    /* Notifications are accepted and do nothing; a key is still needed. */
    IT_STATUS(modern_on(NULL, t->api_key, "notifications/cancelled", NULL,
                        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{"
                        "\"requestId\":1," ENVELOPE "}}"),
              202);
    RPC_HTTP_ERROR(modern_on(NULL, "hpk_not_a_key", "server/discover", NULL, discover), 401, -32000,
                   "invalid_api_key");
}

/* A waiting 2026-07-28 call with a progressToken answers an event stream:
 * progress, then the result with its resultType. */
static void test_stateless_progress(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *hs[] = {hp_it_fmt("Authorization: Bearer %s", t->api_key),
                        "Content-Type: application/json",
                        "Accept: application/json, text/event-stream",
                        "MCP-Protocol-Version: 2026-07-28",
                        "Mcp-Method: tools/call",
                        "Mcp-Name: ask_user",
                        NULL};
    json_object *ev = decided_while_waiting(
        replica, t, hs,
        "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":"
        "{\"name\":\"ask_user\",\"arguments\":{\"question\":\"Modern progress?\","
        "\"timeoutSeconds\":50},\"_meta\":{\"progressToken\":\"tok-m\","
        "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
        "\"io.modelcontextprotocol/clientCapabilities\":{}}}}");
    IT_JSTR(json_object_array_get_idx(ev, 0), "params.progressToken", "tok-m");
    json_object *last = json_object_array_get_idx(ev, (size_t)hp_it_jlen(ev) - 1);
    IT_JINT(last, "id", 11);
    IT_JSTR(last, "result.resultType", "complete");
    IT_JSTR(last, "result.structuredContent.value", "yes");
}

/* With every waiting place taken, a waiting tool call is refused (503, or
 * 429 wait_share_exceeded) before it asks anything. */
static void test_no_waiter_left(void)
{
    static const char *const env[] = {"HOLDPOINT_PUBLIC_URL=" PUBLIC_URL, "HOLDPOINT_MAX_WAITERS=1",
                                      NULL};
    const hp_it_team *t = hp_it_team_new();
    hp_it_api *api = hp_it_api_start("mcp-one-waiter", env);
    IT_CHECK_FATAL(api != NULL, "API did not start");
    const char *sid = open_session(api, t, "2025-11-25");
    bg_batch *b = bg_new(1);
    const char *hs[] = {hp_it_fmt("Authorization: Bearer %s", t->api_key),
                        "Content-Type: application/json", "Accept: application/json",
                        hp_it_fmt("Mcp-Session-Id: %s", sid), NULL};
    const char *ap;

    bg_set_headers(
        b, 0, "POST", hp_it_fmt("%s/mcp", hp_it_api_base(api)), hs,
        call("1", "ask_user", "{\"question\":\"Holds the waiter\",\"timeoutSeconds\":50}"), 60000);
    bg_start(b);
    ap = bg_await_sql("select id::text from approvals where team_id = $1::uuid", t->team_id, 10000);
    IT_CHECK_FATAL(ap != NULL, "the first call never asked");
    IT_CHECK_FATAL(hp_it_await_gauge(api, "holdpoint_waiters", 1, true, 30000),
                   "the first call never took the waiter");
    /* A waiting call without a place is refused before it asks anything;
     * asking without waiting needs no place. */
    hp_it_resp *r =
        mcp_on(api, t->api_key, sid, NULL,
               call("2", "ask_user", "{\"question\":\"No waiter\",\"timeoutSeconds\":40}"));
    IT_CHECK((r->status == 503 &&
              strcmp(jstr(r->json, "error.data.error") ? jstr(r->json, "error.data.error") : "",
                     "service_unavailable") == 0) ||
                 (r->status == 429 && jstr(r->json, "error.data.error") != NULL &&
                  strcmp(jstr(r->json, "error.data.error"), "wait_share_exceeded") == 0),
             "a waiting call without a place: %ld %s", r->status, r->body);
    IT_CHECK(team_approvals(t) == 1, "a refused call asked a question");
    r = mcp_on(api, t->api_key, sid, NULL,
               call("3", "ask_user", "{\"question\":\"Later\",\"wait\":false}"));
    IT_JSTR(r->json, "result.structuredContent.status", "pending");
    IT_STATUS(hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", ap),
                         "{\"option_index\":0}"),
              200);
    bg_join(b);
    IT_CHECK(b->calls[0].status == 200 && strstr(b->calls[0].resp, "\"answered\"") != NULL,
             "the waiting call: %ld %s", b->calls[0].status, b->calls[0].resp);
    IT_CHECK(hp_it_api_stop(api) == 0, "API did not exit cleanly");
}

static void test_batches(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *old = open_session(NULL, t, "2025-03-26");
    const char *now = open_session(NULL, t, "2025-06-18");
    const char *batch = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
                        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"},"
                        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nope\"}]";
    hp_it_resp *r = mcp(t->api_key, old, batch);

    IT_STATUS_FATAL(r, 200);
    IT_CHECK(hp_it_jlen(r->json) == 3, "three answers for three requests: %s", r->body);
    IT_JINT(r->json, "0.id", 1);
    IT_JINT(r->json, "1.id", 2);
    IT_JINT(r->json, "2.error.code", -32601);
    IT_STATUS(mcp(t->api_key, old, "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}]"), 202);
    /* Refused where the revision has no batches, with initialize, or empty. */
    RPC_HTTP_ERROR(mcp(t->api_key, now, batch), 400, -32600, "invalid_request");
    RPC_HTTP_ERROR(mcp(t->api_key, old, hp_it_fmt("[%s]", init_body("2025-03-26"))), 400, -32600,
                   "invalid_request");
    RPC_HTTP_ERROR(mcp(t->api_key, old, "[]"), 400, -32600, "invalid_request");
}

static void test_invalid_arguments_per_revision(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *s11 = open_session(NULL, t, "2025-11-25");
    const char *s06 = open_session(NULL, t, "2025-06-18");
    static const char *const bad[] = {
        "{\"question\":\"q\",\"type\":\"multiple\"}",
        "{\"question\":\"q\",\"type\":\"select\",\"options\":[\"a\"]}",
        "{\"question\":\"q\",\"type\":\"select\",\"options\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\","
        "\"7\"]}",
        "{\"question\":\"\"}",
        "{\"question\":\"q\",\"timeoutSeconds\":0}",
        "{\"question\":\"q\",\"timeoutSeconds\":56}",
        "{}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hp_it_resp *r = mcp(t->api_key, s11, call("1", "ask_user", bad[i]));
        IT_STATUS(r, 200);
        IT_CHECK(json_object_get_boolean(hp_it_jget(r->json, "result.isError", NULL)),
                 "2025-11-25: %s should be a tool error: %s", bad[i], r->body);
        r = mcp(t->api_key, s06, call("1", "ask_user", bad[i]));
        IT_STATUS(r, 200);
        IT_JINT(r->json, "error.code", -32602);
        IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "error.data.issues", NULL)) > 0, "no issues: %s",
                 r->body);
    }
    IT_JINT(mcp(t->api_key, s06, call("2", "wait_for_answer", "{\"timeoutSeconds\":5}"))->json,
            "error.code", -32602);
    IT_JINT(mcp(t->api_key, s06, call("3", "send_notification", "{\"body\":\"x\"}"))->json,
            "error.code", -32602);
    IT_JINT(mcp(t->api_key, s06, call("4", "list_sessions", "{\"limit\":1000}"))->json,
            "error.code", -32602);
    IT_CHECK(team_approvals(t) == 0, "invalid calls stored %lld approvals", team_approvals(t));
}

static void test_refusals(void)
{
    const hp_it_team *t = hp_it_team_new();
    const hp_it_team *other = hp_it_team_new();
    const char *sid = open_session(NULL, t, "2025-11-25");
    const char *ping = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
    hp_it_resp *r;

    /* Keys. */
    r = mcp(NULL, sid, ping);
    RPC_HTTP_ERROR(r, 401, -32000, "missing_api_key");
    IT_CHECK(hp_it_header(r, "WWW-Authenticate") != NULL, "401 without WWW-Authenticate");
    RPC_HTTP_ERROR(mcp("hpk_nope", sid, ping), 401, -32000, "invalid_api_key");
    /* Another team's key with this session: unknown. */
    RPC_HTTP_ERROR(mcp(other->api_key, sid, ping), 404, -32001, "not_found");
    /* Sessions and versions. */
    RPC_HTTP_ERROR(mcp(t->api_key, NULL, ping), 400, -32600, "invalid_request");
    RPC_HTTP_ERROR(mcp(t->api_key, "mcp_made_up", ping), 404, -32001, "not_found");
    RPC_HTTP_ERROR(mcp_on(NULL, t->api_key, sid, "MCP-Protocol-Version: 1900-01-01", ping), 400,
                   -32600, "invalid_request");
    RPC_HTTP_ERROR(mcp_on(NULL, t->api_key, sid, "MCP-Protocol-Version: not-a-version",
                          "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"),
                   400, -32600, "invalid_request");
    /* Origin and Accept. */
    RPC_HTTP_ERROR(mcp_on(NULL, t->api_key, sid, "Origin: https://evil.example", ping), 403, -32000,
                   "forbidden");
    IT_STATUS(mcp_on(NULL, t->api_key, sid, "Origin: " PUBLIC_URL, ping), 200);
    {
        const char *h[] = {hp_it_fmt("Authorization: Bearer %s", t->api_key),
                           "Content-Type: application/json", "Accept: text/html",
                           hp_it_fmt("Mcp-Session-Id: %s", sid), NULL};
        RPC_HTTP_ERROR(hp_it_http(NULL, "POST", "/mcp", h, ping), 406, -32000, "not_acceptable");
        const char *h2[] = {hp_it_fmt("Authorization: Bearer %s", t->api_key),
                            "Content-Type: text/plain", hp_it_fmt("Mcp-Session-Id: %s", sid), NULL};
        RPC_HTTP_ERROR(hp_it_http(NULL, "POST", "/mcp", h2, ping), 415, -32600,
                       "unsupported_media_type");
    }
    /* Bodies: not JSON, not JSON-RPC, too deep, too large. */
    RPC_HTTP_ERROR(mcp(t->api_key, sid, "{\"jsonrpc\":"), 400, -32700, "invalid_payload");
    RPC_HTTP_ERROR(mcp(t->api_key, sid, "{\"id\":1,\"method\":\"ping\"}"), 400, -32600,
                   "invalid_request");
    RPC_HTTP_ERROR(mcp(t->api_key, sid, "\"ping\""), 400, -32600, "invalid_request");
    RPC_HTTP_ERROR(mcp(t->api_key, sid,
                       hp_it_fmt("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":"
                                 "{\"a\":%s1%s}}",
                                 hp_it_repeat("[", 40), hp_it_repeat("]", 40))),
                   400, -32700, "invalid_payload");
    RPC_HTTP_ERROR(mcp(t->api_key, sid,
                       hp_it_fmt("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":"
                                 "{\"pad\":\"%s\"}}",
                                 hp_it_repeat("x", 70000))),
                   413, -32600, "payload_too_large");
    /* A revoked key stops at once. */
    const char *args[] = {"admin", "revoke-key", "--key-id", t->api_key, "--json", NULL};
    hp_it_admin(args);
    RPC_HTTP_ERROR(mcp(t->api_key, sid, ping), 401, -32000, "invalid_api_key");
    IT_CHECK(team_approvals(t) == 0, "a refused request stored something");
}

/* One official SDK client's scenario (a script in tests/e2e) against two
 * replicas, with a fresh team and another team's key. */
static void run_sdk_scenario(const char *script)
{
    const hp_it_team *t = hp_it_team_new();
    const hp_it_team *other = hp_it_team_new();
    const char *cmd =
        hp_it_fmt("cd '%s/tests/e2e' && HP_URL_A='%s' HP_URL_B='%s' HP_API_KEY='%s' "
                  "HP_USER_TOKEN='%s' HP_OTHER_KEY='%s' timeout 240 node %s >&2",
                  HP_ITEST_SOURCE_DIR, hp_it_api_base(hp_it_api_default()), hp_it_api_base(replica),
                  t->api_key, t->user_token, other->api_key, script);
    int st = system(cmd);
    IT_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s failed (exit %d)", script,
             WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* The official SDK v1 client, 2025-11-25 with sessions. */
static void test_official_sdk_two_replicas(void)
{
    run_sdk_scenario("mcp_client.mjs");
}

/* The official SDK v2 client, 2026-07-28: pinned, and probing (auto). */
static void test_official_sdk_v2_stateless(void)
{
    run_sdk_scenario("mcp_modern_client.mjs");
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"initialize_and_versions", test_initialize_and_versions},
        {"session_requests", test_session_requests},
        {"seed_path", test_seed_path},
        {"tools_call", test_tools_call},
        {"progress_over_sse", test_progress_over_sse},
        {"no_waiter_left", test_no_waiter_left},
        {"batches", test_batches},
        {"invalid_arguments_per_revision", test_invalid_arguments_per_revision},
        {"refusals", test_refusals},
        {"stateless_revision", test_stateless_revision},
        {"stateless_progress", test_stateless_progress},
        {"official_sdk_two_replicas", test_official_sdk_two_replicas},
        {"official_sdk_v2_stateless", test_official_sdk_v2_stateless},
        {NULL, NULL},
    };
    hp_it_set_default_env(dflt_env);
    return hp_it_main("mcp", tests, setup, teardown);
}
