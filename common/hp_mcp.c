/*
 * hp_mcp: MCP revisions, JSON-RPC shapes and the tool catalogue; see
 * hp_mcp.h. The schemas are JSON Schema 2020-12 (the MCP default), written
 * out once below and parsed when a client lists the tools.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_ask.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_mcp.h"
#include "hp_mem.h"
#include "hp_str.h"

const char *const hp_mcp_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", NULL};

bool hp_mcp_version_supported(const char *v)
{
    for (int i = 0; v != NULL && hp_mcp_versions[i] != NULL; i++)
        if (strcmp(v, hp_mcp_versions[i]) == 0)
            return true;
    return false;
}

const char *hp_mcp_negotiate(const char *requested)
{
    for (int i = 0; requested != NULL && hp_mcp_versions[i] != NULL; i++)
        if (strcmp(requested, hp_mcp_versions[i]) == 0)
            return hp_mcp_versions[i];
    return HP_MCP_LATEST_VERSION;
}

bool hp_mcp_batches_allowed(const char *version)
{
    return version != NULL && strcmp(version, "2025-03-26") == 0;
}

bool hp_mcp_validation_is_tool_error(const char *version)
{
    return version != NULL && strcmp(version, "2025-11-25") >= 0;
}

bool hp_mcp_version_is_modern(const char *v)
{
    if (v == NULL || strlen(v) != 10)
        return false;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? v[i] != '-' : (v[i] < '0' || v[i] > '9'))
            return false;
    return strcmp(v, HP_MCP_MODERN_VERSION) >= 0;
}

/* ---- JSON-RPC -------------------------------------------------------------- */

static bool hp__id_ok(json_object *id)
{
    return json_object_is_type(id, json_type_string) || json_object_is_type(id, json_type_int);
}

void hp_mcp_classify(json_object *m, hp_mcp_msg *out)
{
    json_object *v, *id = NULL, *params = NULL;
    bool has_id, has_result, has_error;

    memset(out, 0, sizeof(*out));
    out->kind = HP_MCP_MSG_INVALID;
    if (!json_object_is_type(m, json_type_object)) {
        out->why = "a JSON-RPC message must be an object";
        return;
    }
    if (!json_object_object_get_ex(m, "jsonrpc", &v) || !json_object_is_type(v, json_type_string) ||
        strcmp(json_object_get_string(v), "2.0") != 0) {
        out->why = "jsonrpc must be \"2.0\"";
        return;
    }
    has_id = json_object_object_get_ex(m, "id", &id);
    has_result = json_object_object_get_ex(m, "result", NULL);
    has_error = json_object_object_get_ex(m, "error", NULL);
    if (json_object_object_get_ex(m, "method", &v)) {
        if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
            out->why = "method must be a non-empty string";
            return;
        }
        if (has_result || has_error) {
            out->why = "a request carries no result or error";
            return;
        }
        if (json_object_object_get_ex(m, "params", &params) &&
            !json_object_is_type(params, json_type_object)) {
            out->why = "params must be an object";
            return;
        }
        if (has_id && !hp__id_ok(id)) {
            out->why = "id must be a string or an integer";
            return;
        }
        out->method = json_object_get_string(v);
        out->params = params;
        out->id = has_id ? id : NULL;
        out->kind = has_id ? HP_MCP_MSG_REQUEST : HP_MCP_MSG_NOTIFICATION;
        return;
    }
    if (has_id && hp__id_ok(id) && has_result != has_error) {
        out->id = id;
        out->kind = HP_MCP_MSG_RESPONSE;
        return;
    }
    out->why = "not a request, notification or response";
}

json_object *hp_mcp_response(json_object *id, json_object *result)
{
    json_object *o = json_object_new_object();
    hp_json_set_str(o, "jsonrpc", "2.0");
    json_object_object_add(o, "id", json_object_get(id));
    json_object_object_add(o, "result", result);
    return o;
}

json_object *hp_mcp_error(json_object *id, int code, const char *message, json_object *data)
{
    json_object *o = json_object_new_object(), *e = json_object_new_object();
    hp_json_set_str(o, "jsonrpc", "2.0");
    json_object_object_add(o, "id", json_object_get(id));
    json_object_object_add(e, "code", json_object_new_int(code));
    hp_json_set_str(e, "message", message);
    if (data != NULL)
        json_object_object_add(e, "data", data);
    json_object_object_add(o, "error", e);
    return o;
}

/* ---- era routing (2026-07-28) ------------------------------------------------- */

static json_object *hp__meta(json_object *params)
{
    json_object *meta;

    if (!json_object_is_type(params, json_type_object) ||
        !json_object_object_get_ex(params, "_meta", &meta) ||
        !json_object_is_type(meta, json_type_object))
        return NULL;
    return meta;
}

bool hp_mcp_has_envelope(json_object *params)
{
    json_object *meta = hp__meta(params);
    return meta != NULL && json_object_object_get_ex(meta, HP_MCP_META_VERSION, NULL);
}

static const char *hp__meta_version(json_object *params)
{
    json_object *v = json_object_object_get(hp__meta(params), HP_MCP_META_VERSION);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool hp__str_member(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string);
}

/* The first problem of a claimed envelope as "key: problem", or NULL. */
static const char *hp__envelope_problem(json_object *meta, const char **key)
{
    json_object *v;

    *key = HP_MCP_META_VERSION;
    if (!hp__str_member(meta, HP_MCP_META_VERSION))
        return "expected a protocol version string";
    *key = HP_MCP_META_CAPABILITIES;
    if (!json_object_object_get_ex(meta, HP_MCP_META_CAPABILITIES, &v))
        return "missing";
    if (!json_object_is_type(v, json_type_object))
        return "expected an object";
    *key = HP_MCP_META_CLIENT_INFO;
    if (json_object_object_get_ex(meta, HP_MCP_META_CLIENT_INFO, &v) &&
        (!json_object_is_type(v, json_type_object) || !hp__str_member(v, "name") ||
         !hp__str_member(v, "version")))
        return "expected an object with name and version strings";
    *key = HP_MCP_META_LOG_LEVEL;
    if (json_object_object_get_ex(meta, HP_MCP_META_LOG_LEVEL, &v) &&
        !json_object_is_type(v, json_type_string))
        return "expected a log level string";
    return NULL;
}

static void hp__reject(hp_mcp_route *out, int code, json_object *data, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void hp__reject(hp_mcp_route *out, int code, json_object *data, const char *fmt, ...)
{
    va_list ap;

    out->kind = HP_MCP_ROUTE_REJECT;
    out->http_status = 400;
    out->code = code;
    out->data = data;
    va_start(ap, fmt);
    (void)vsnprintf(out->message, sizeof(out->message), fmt, ap);
    va_end(ap);
}

/* A -32602 naming the envelope's key and its problem. */
static void hp__envelope_reject(hp_mcp_route *out, const char *key, const char *problem)
{
    json_object *data = json_object_new_object(), *env = json_object_new_object();

    hp_json_set_str(env, "key", key);
    hp_json_set_str(env, "problem", problem);
    json_object_object_add(data, "envelope", env);
    hp__reject(out, HP_MCP_INVALID_PARAMS, data, "Invalid _meta envelope: %s: %s", key, problem);
}

/* A -32020 naming the header and what the body says instead. */
static void hp__mismatch(hp_mcp_route *out, const char *header, const char *value, const char *body)
{
    json_object *data = json_object_new_object(), *mm = json_object_new_object();

    hp_json_set_str(mm, "header", header);
    hp_json_set_str(mm, "value", value);
    hp_json_set_str(mm, "body", body);
    json_object_object_add(data, "mismatch", mm);
    if (value == NULL)
        hp__reject(out, HP_MCP_HEADER_MISMATCH, data,
                   "Header mismatch: the required %s header is missing (the body says %.100s)",
                   header, body ? body : "nothing");
    else
        hp__reject(out, HP_MCP_HEADER_MISMATCH, data,
                   "Header mismatch: %s header value '%.80s' does not match body value '%.80s'",
                   header, value, body ? body : "");
}

/* Whether the Mcp-Name header hv names the string name, decoding hv when
 * it is sent as =?base64?...?= (false when that encoding is broken). */
static bool hp__name_header_is(const char *hv, json_object *name)
{
    static const char pre[] = "=?base64?", suf[] = "?=";
    size_t n = strlen(hv), want = (size_t)json_object_get_string_len(name), len = 0;
    const char *s = json_object_get_string(name);
    unsigned char *out;
    char *b64;
    bool same;

    if (n < sizeof(pre) - 1 + sizeof(suf) - 1 || strncmp(hv, pre, sizeof(pre) - 1) != 0 ||
        strcmp(hv + n - (sizeof(suf) - 1), suf) != 0)
        return n == want && memcmp(hv, s, n) == 0;
    n -= sizeof(pre) - 1 + sizeof(suf) - 1;
    b64 = hp_xstrndup(hv + sizeof(pre) - 1, n);
    out = hp_xmalloc(n / 4 * 3 + 1);
    same = hp_base64_decode(b64, out, n / 4 * 3, &len) == HP_OK && len == want &&
           memcmp(out, s, len) == 0;
    free(b64);
    free(out);
    return same;
}

static void hp__route_request(const hp_mcp_msg *m, const hp_mcp_headers *h, hp_mcp_route *out)
{
    json_object *meta = hp__meta(m->params), *name;
    const char *version = hp__meta_version(m->params), *key, *problem;

    if (strcmp(m->method, "initialize") == 0 &&
        !(hp_mcp_has_envelope(m->params) && hp_mcp_version_is_modern(version) &&
          hp__envelope_problem(meta, &key) == NULL)) {
        if (hp_mcp_version_is_modern(h->protocol_version))
            hp__mismatch(out, "MCP-Protocol-Version", h->protocol_version,
                         "initialize (the legacy handshake)");
        return; /* legacy */
    }
    if (!hp_mcp_has_envelope(m->params)) {
        if (hp_mcp_version_is_modern(h->protocol_version)) {
            json_object *data = json_object_new_object(), *env = json_object_new_object();
            json_object *missing = json_object_new_array();
            json_object_array_add(
                missing, json_object_new_string(meta == NULL ? "_meta" : HP_MCP_META_VERSION));
            json_object_object_add(env, "missing", missing);
            json_object_object_add(data, "envelope", env);
            hp__reject(out, HP_MCP_INVALID_PARAMS, data,
                       "Invalid params: the MCP-Protocol-Version header names %.40s, but the "
                       "params lack %s",
                       h->protocol_version,
                       meta == NULL ? "_meta" : "_meta's " HP_MCP_META_VERSION);
        }
        return; /* legacy */
    }
    problem = hp__envelope_problem(meta, &key);
    if (problem != NULL) {
        hp__envelope_reject(out, key, problem);
        return;
    }
    if (h->protocol_version == NULL || strcmp(h->protocol_version, version) != 0) {
        hp__mismatch(out, "MCP-Protocol-Version", h->protocol_version, version);
        return;
    }
    if (h->method == NULL || strcmp(h->method, m->method) != 0) {
        hp__mismatch(out, "Mcp-Method", h->method, m->method);
        return;
    }
    if (strcmp(m->method, "tools/call") == 0 &&
        json_object_object_get_ex(m->params, "name", &name) &&
        json_object_is_type(name, json_type_string)) {
        if (h->name == NULL || !hp__name_header_is(h->name, name)) {
            hp__mismatch(out, "Mcp-Name", h->name, json_object_get_string(name));
            return;
        }
    }
    if (strcmp(version, HP_MCP_MODERN_VERSION) != 0) {
        json_object *data = json_object_new_object(), *sup = json_object_new_array();
        json_object_array_add(sup, json_object_new_string(HP_MCP_MODERN_VERSION));
        json_object_object_add(data, "supported", sup);
        hp_json_set_str(data, "requested", version);
        hp__reject(out, HP_MCP_UNSUPPORTED_VERSION, data, "Unsupported protocol version");
        return;
    }
    out->kind = HP_MCP_ROUTE_MODERN;
    out->version = HP_MCP_MODERN_VERSION;
}

static void hp__route_notification(const hp_mcp_msg *m, const hp_mcp_headers *h, hp_mcp_route *out)
{
    const char *version = hp__meta_version(m->params);

    if (hp_mcp_has_envelope(m->params)) {
        if (version == NULL) {
            hp__envelope_reject(out, HP_MCP_META_VERSION, "expected a protocol version string");
            return;
        }
        if (h->protocol_version != NULL && strcmp(h->protocol_version, version) != 0) {
            hp__mismatch(out, "MCP-Protocol-Version", h->protocol_version, version);
            return;
        }
    } else if (hp_mcp_version_is_modern(h->protocol_version)) {
        version = h->protocol_version;
    }
    if (!hp_mcp_version_is_modern(version))
        return; /* legacy */
    if (h->method != NULL && strcmp(h->method, m->method) != 0) {
        hp__mismatch(out, "Mcp-Method", h->method, m->method);
        return;
    }
    out->kind = HP_MCP_ROUTE_MODERN;
    out->version = version;
}

void hp_mcp_route_message(const hp_mcp_msg *m, const hp_mcp_headers *h, hp_mcp_route *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = HP_MCP_ROUTE_LEGACY;
    if (m->kind == HP_MCP_MSG_REQUEST)
        hp__route_request(m, h, out);
    else if (m->kind == HP_MCP_MSG_NOTIFICATION)
        hp__route_notification(m, h, out);
}

/* ---- initialize ------------------------------------------------------------- */

bool hp_mcp_parse_initialize(json_object *params, hp_mcp_init *out, const char **why)
{
    json_object *v, *info;

    memset(out, 0, sizeof(*out));
    if (params == NULL || !json_object_object_get_ex(params, "protocolVersion", &v) ||
        !json_object_is_type(v, json_type_string)) {
        *why = "initialize needs params.protocolVersion (a string)";
        return false;
    }
    out->protocol_version = json_object_get_string(v);
    if (json_object_object_get_ex(params, "clientInfo", &info) &&
        json_object_is_type(info, json_type_object)) {
        out->client_name = hp_json_str(info, "name");
        out->client_version = hp_json_str(info, "version");
    }
    return true;
}

static const char hp__instructions[] =
    "Holdpoint lets you pause and ask a human, then continue with their decision. "
    "Use ask_user for a yes/no confirmation (type confirm), a choice between 2 to 6 options "
    "(type select) or a free-text answer (type input). It waits for the answer; if the human "
    "has not answered yet it returns status \"pending\" or \"timeout\" with a correlationId: "
    "call wait_for_answer with that correlationId to keep waiting, as often as needed, until "
    "status is \"answered\" (read value), \"expired\" or \"cancelled\". Use cancel_question "
    "when you no longer need an answer, send_notification to tell the human something without "
    "waiting, and list_sessions to see this agent's sessions. Pass agentName and sessionId so "
    "the human knows who is asking.";

static json_object *hp__server_info(void)
{
    json_object *info = json_object_new_object();

    hp_json_set_str(info, "name", "holdpoint");
    hp_json_set_str(info, "title", "Holdpoint");
    hp_json_set_str(info, "version", "1.0.0");
    return info;
}

static json_object *hp__capabilities(void)
{
    json_object *caps = json_object_new_object(), *tools = json_object_new_object();

    json_object_object_add(tools, "listChanged", json_object_new_boolean(0));
    json_object_object_add(caps, "tools", tools);
    return caps;
}

json_object *hp_mcp_initialize_result(const char *version)
{
    json_object *o = json_object_new_object();

    hp_json_set_str(o, "protocolVersion", version);
    json_object_object_add(o, "capabilities", hp__capabilities());
    json_object_object_add(o, "serverInfo", hp__server_info());
    hp_json_set_str(o, "instructions", hp__instructions);
    return o;
}

static void hp__cache_hints(json_object *result)
{
    json_object_object_add(result, "ttlMs", json_object_new_int(HP_MCP_CACHE_TTL_MS));
    hp_json_set_str(result, "cacheScope", "public");
}

json_object *hp_mcp_discover_result(void)
{
    json_object *o = json_object_new_object(), *versions = json_object_new_array();

    json_object_array_add(versions, json_object_new_string(HP_MCP_MODERN_VERSION));
    json_object_object_add(o, "supportedVersions", versions);
    json_object_object_add(o, "capabilities", hp__capabilities());
    hp_json_set_str(o, "instructions", hp__instructions);
    return o;
}

json_object *hp_mcp_modern_result(json_object *resp, const char *method)
{
    json_object *result, *meta;

    if (!json_object_object_get_ex(resp, "result", &result) ||
        !json_object_is_type(result, json_type_object))
        return resp;
    hp_json_set_str(result, "resultType", "complete");
    if (!json_object_object_get_ex(result, "_meta", &meta)) {
        meta = json_object_new_object();
        json_object_object_add(result, "_meta", meta);
    }
    json_object_object_add(meta, HP_MCP_META_SERVER_INFO, hp__server_info());
    /* The spec's cacheable results this server has. */
    if (strcmp(method, "tools/list") == 0 || strcmp(method, "server/discover") == 0)
        hp__cache_hints(result);
    return resp;
}

/* ---- tools ------------------------------------------------------------------ */

#define HP__STR(max, desc)                                                                         \
    "{\"type\":\"string\",\"minLength\":1,\"maxLength\":" max ",\"description\":\"" desc "\"}"

#define HP__ATTRIBUTION                                                                            \
    "\"agentName\":" HP__STR(                                                                      \
        "200", "Who is asking, shown to the human.") ","                                           \
                                                     "\"sessionId\":" HP__STR(                     \
                                                         "200", "The run or conversation this "    \
                                                                "belongs to, shown to the human.")

#define HP__STATE_SCHEMA                                                                           \
    "{\"type\":\"object\",\"additionalProperties\":false,"                                         \
    "\"required\":[\"correlationId\",\"status\",\"answered\",\"type\",\"question\",\"message\"],"  \
    "\"properties\":{"                                                                             \
    "\"correlationId\":{\"type\":\"string\",\"description\":\"Pass to wait_for_answer or "         \
    "cancel_question.\"},"                                                                         \
    "\"status\":{\"type\":\"string\",\"enum\":[\"pending\",\"answered\",\"timeout\",\"expired\","  \
    "\"cancelled\"]},"                                                                             \
    "\"answered\":{\"type\":\"boolean\"},"                                                         \
    "\"value\":{\"type\":\"string\",\"description\":\"The answer: yes or no (confirm), the "       \
    "chosen option (select), or the human's text (input).\"},"                                     \
    "\"answeredAt\":{\"type\":\"string\",\"format\":\"date-time\"},"                               \
    "\"pollUrl\":{\"type\":\"string\",\"format\":\"uri\"},"                                        \
    "\"type\":{\"type\":\"string\",\"enum\":[\"confirm\",\"select\",\"input\"]},"                  \
    "\"question\":{\"type\":\"string\"},"                                                          \
    "\"message\":{\"type\":\"string\",\"description\":\"What to do next.\"}}}"

#define HP__CORRELATION                                                                            \
    "\"correlationId\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":120,"                    \
    "\"description\":\"The correlationId ask_user returned.\"}"

#define HP__TIMEOUT                                                                                \
    "\"timeoutSeconds\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":55,\"default\":45,"        \
    "\"description\":\"How long to wait for the answer before returning a still-pending "          \
    "result.\"}"

static const struct {
    const char *name, *title, *description, *input, *output;
    bool read_only;
} hp__tools[HP_MCP_TOOL_COUNT] = {
    {"ask_user", "Ask a human",
     "Ask a human a question and wait for the answer: confirm (yes/no), select (one of 2 to 6 "
     "options) or input (free text). Returns the answer, or, when nobody has answered within "
     "timeoutSeconds, a pending result whose correlationId you pass to wait_for_answer.",
     "{\"type\":\"object\",\"required\":[\"question\"],\"properties\":{"
     "\"question\":" HP__STR(
         "500",
         "The question, in one or two sentences.") ","
                                                   "\"type\":{\"type\":\"string\",\"enum\":["
                                                   "\"confirm\",\"select\",\"input\"],"
                                                   "\"default\":\"confirm\"},"
                                                   "\"options\":{\"type\":\"array\",\"minItems\":2,"
                                                   "\"maxItems\":6,\"items\":" HP__STR(
                                                       "120",
                                                       "One choice.") ",\"description\":\"The "
                                                                      "choices, for type select "
                                                                      "only.\"},"
                                                                      "\"context\":{\"type\":"
                                                                      "\"string\",\"maxLength\":"
                                                                      "2500,"
                                                                      "\"description\":\"Markdown "
                                                                      "details shown under the "
                                                                      "question.\"},"
                                                                      "" HP__ATTRIBUTION ","
                                                                      "\"callbackUrl\":{\"type\":"
                                                                      "\"string\",\"format\":"
                                                                      "\"uri\","
                                                                      "\"description\":\"Also POST "
                                                                      "the answer here.\"},"
                                                                      "\"wait\":{\"type\":"
                                                                      "\"boolean\",\"default\":"
                                                                      "true,"
                                                                      "\"description\":\"false "
                                                                      "returns at once with a "
                                                                      "pending "
                                                                      "result.\"},"
                                                                      "" HP__TIMEOUT ","
                                                                      "\"expiresInSeconds\":{"
                                                                      "\"type\":\"integer\","
                                                                      "\"minimum\":30,"
                                                                      "\"maximum\":86400,"
                                                                      "\"default\":600,"
                                                                      "\"description\":\"How long "
                                                                      "the question stays open for "
                                                                      "the human.\"}}}",
     HP__STATE_SCHEMA, false},
    {"wait_for_answer", "Wait for an answer",
     "Wait for the answer to a question asked with ask_user. Returns the answer, or a pending "
     "result when it is still open after timeoutSeconds: then call wait_for_answer again.",
     "{\"type\":\"object\",\"required\":[\"correlationId\"],\"properties\":{" HP__CORRELATION
     "," HP__TIMEOUT "}}",
     HP__STATE_SCHEMA, true},
    {"cancel_question", "Cancel a question",
     "Cancel an open question when the answer is no longer needed.",
     "{\"type\":\"object\",\"required\":[\"correlationId\"],\"properties\":{" HP__CORRELATION "}}",
     HP__STATE_SCHEMA, false},
    {"send_notification", "Notify a human",
     "Tell a human something without waiting for an answer: a job finished or failed.",
     "{\"type\":\"object\",\"required\":[\"title\"],\"properties\":{"
     "\"title\":" HP__STR("500", "A short headline.") ","
                                                      "\"body\":{\"type\":\"string\",\"maxLength\":"
                                                      "2500,\"description\":\"The details.\"},"
                                                      "" HP__ATTRIBUTION "}}",
     "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"id\",\"createdAt\"],"
     "\"properties\":{\"id\":{\"type\":\"string\"},"
     "\"createdAt\":{\"type\":\"string\",\"format\":\"date-time\"}}}",
     false},
    {"list_sessions", "List sessions",
     "List this agent's sessions (runs named by sessionId), newest first.",
     "{\"type\":\"object\",\"properties\":{"
     "\"status\":{\"type\":\"string\",\"enum\":[\"active\",\"completed\",\"error\"]},"
     "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":20}}}",
     "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"sessions\","
     "\"hasMore\"],\"properties\":{\"hasMore\":{\"type\":\"boolean\"},"
     "\"sessions\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
     "\"additionalProperties\":false,"
     "\"required\":[\"sessionId\",\"status\",\"implicit\",\"createdAt\"],\"properties\":{"
     "\"sessionId\":{\"type\":\"string\"},\"label\":{\"type\":[\"string\",\"null\"]},"
     "\"client\":{\"type\":[\"string\",\"null\"]},"
     "\"status\":{\"type\":\"string\",\"enum\":[\"active\",\"completed\",\"error\"]},"
     "\"implicit\":{\"type\":\"boolean\"},"
     "\"createdAt\":{\"type\":\"string\",\"format\":\"date-time\"},"
     "\"endedAt\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"}}}}}}",
     true},
};

static json_object *hp__parse_const(const char *text)
{
    json_object *v = NULL;
    char err[128];

    if (hp_json_parse(text, strlen(text), &v, err, sizeof(err)) != HP_OK)
        abort(); /* a broken built-in schema; the unit tests parse every one */
    return v;
}

json_object *hp_mcp_tools_list(void)
{
    json_object *o = json_object_new_object(), *arr = json_object_new_array();

    for (int i = 0; i < HP_MCP_TOOL_COUNT; i++) {
        json_object *t = json_object_new_object(), *ann = json_object_new_object();
        hp_json_set_str(t, "name", hp__tools[i].name);
        hp_json_set_str(t, "title", hp__tools[i].title);
        hp_json_set_str(t, "description", hp__tools[i].description);
        json_object_object_add(t, "inputSchema", hp__parse_const(hp__tools[i].input));
        json_object_object_add(t, "outputSchema", hp__parse_const(hp__tools[i].output));
        json_object_object_add(ann, "readOnlyHint",
                               json_object_new_boolean(hp__tools[i].read_only));
        json_object_object_add(ann, "openWorldHint", json_object_new_boolean(0));
        json_object_object_add(t, "annotations", ann);
        json_object_array_add(arr, t);
    }
    json_object_object_add(o, "tools", arr);
    return o;
}

int hp_mcp_tool_find(const char *name)
{
    for (int i = 0; name != NULL && i < HP_MCP_TOOL_COUNT; i++)
        if (strcmp(name, hp__tools[i].name) == 0)
            return i;
    return -1;
}

bool hp_mcp_parse_ref(json_object *args, bool wait, hp_mcp_ref_args *out, hp_issues *is)
{
    hp_path root = hp_path_root();
    int64_t n = 0;
    bool present = false;

    out->correlation_id = NULL;
    out->timeout_seconds = HP_MCP_WAIT_DEFAULT;
    if (!hp_valid_is_object(is, root, args)) {
        return false;
    }
    out->correlation_id = hp_valid_str(is, root, args, "correlationId",
                                       (hp_str_rule){true, false, 1, HP_APPROVAL_REQUEST_ID_MAX});
    if (wait &&
        hp_valid_int(is, root, args, "timeoutSeconds", false, 1, HP_MCP_WAIT_MAX, &n, &present))
        out->timeout_seconds = (int)n;
    return hp_issues_count(is) == 0;
}

bool hp_mcp_parse_list(json_object *args, hp_mcp_list_args *out, hp_issues *is)
{
    static const char *const statuses[] = {"active", "completed", "error", NULL};
    hp_path root = hp_path_root();
    int64_t n = 0;
    bool present = false;
    int s;

    out->status = NULL;
    out->limit = 20;
    if (!hp_valid_is_object(is, root, args)) {
        return false;
    }
    s = hp_valid_enum(is, root, args, "status", false, statuses);
    if (s >= 0)
        out->status = statuses[s];
    if (hp_valid_int(is, root, args, "limit", false, 1, 100, &n, &present))
        out->limit = (int)n;
    return hp_issues_count(is) == 0;
}

/* ---- results ---------------------------------------------------------------- */

static json_object *hp__text(const char *text)
{
    json_object *t = json_object_new_object();
    hp_json_set_str(t, "type", "text");
    hp_json_set_str(t, "text", text);
    return t;
}

json_object *hp_mcp_tool_result(json_object *structured)
{
    json_object *o = json_object_new_object(), *content = json_object_new_array();

    json_object_array_add(content, hp__text(hp_json_text(structured)));
    json_object_object_add(o, "content", content);
    json_object_object_add(o, "structuredContent", structured);
    json_object_object_add(o, "isError", json_object_new_boolean(0));
    return o;
}

json_object *hp_mcp_tool_error(const char *message, json_object *issues)
{
    json_object *o = json_object_new_object(), *content = json_object_new_array();

    json_object_array_add(content, hp__text(message));
    if (issues != NULL) {
        json_object_array_add(content, hp__text(hp_json_text(issues)));
        json_object_put(issues);
    }
    json_object_object_add(o, "content", content);
    json_object_object_add(o, "isError", json_object_new_boolean(1));
    return o;
}

json_object *hp_mcp_question_state(const hp_approval_row *r, bool timed_out, const char *poll_url)
{
    json_object *o = hp_ask_state_json(r, timed_out, poll_url);
    const char *status = hp_ask_status(r);
    char msg[512];

    hp_json_set_str(o, "type", hp_ask_type_of(r));
    hp_json_set_str(o, "question", r->question);
    if (strcmp(status, "answered") == 0)
        (void)hp_fmt(msg, sizeof(msg), "The human answered. Continue with value.");
    else if (strcmp(status, "pending") == 0)
        (void)hp_fmt(msg, sizeof(msg),
                     "No answer yet; the question is still open. Call wait_for_answer with "
                     "correlationId \"%s\" to keep waiting.",
                     r->request_id);
    else if (strcmp(status, "expired") == 0)
        (void)hp_fmt(msg, sizeof(msg),
                     "Nobody answered in time and the question expired. Do not proceed as if "
                     "it had been approved.");
    else
        (void)hp_fmt(msg, sizeof(msg), "The question was cancelled; no answer will come.");
    hp_json_set_str(o, "message", msg);
    return o;
}

json_object *hp_mcp_sessions_state(const hp_notif_session *rows, int n, bool more)
{
    json_object *o = json_object_new_object(), *arr = json_object_new_array();

    for (int i = 0; i < n; i++) {
        json_object *s = json_object_new_object();
        hp_json_set_str(s, "sessionId", rows[i].id);
        hp_json_set_str(s, "label", rows[i].label);
        hp_json_set_str(s, "client", rows[i].client);
        hp_json_set_str(s, "status", rows[i].status);
        json_object_object_add(s, "implicit", json_object_new_boolean(rows[i].implicit));
        hp_json_set_time(s, "createdAt", rows[i].created_at);
        hp_json_set_time(s, "endedAt", rows[i].ended_at);
        json_object_array_add(arr, s);
    }
    json_object_object_add(o, "sessions", arr);
    json_object_object_add(o, "hasMore", json_object_new_boolean(more));
    return o;
}

json_object *hp_mcp_progress(json_object *token, int progress, int total, const char *message)
{
    json_object *o = json_object_new_object(), *p = json_object_new_object();

    hp_json_set_str(o, "jsonrpc", "2.0");
    hp_json_set_str(o, "method", "notifications/progress");
    json_object_object_add(p, "progressToken", json_object_get(token));
    json_object_object_add(p, "progress", json_object_new_int(progress));
    json_object_object_add(p, "total", json_object_new_int(total));
    hp_json_set_str(p, "message", message);
    json_object_object_add(o, "params", p);
    return o;
}
