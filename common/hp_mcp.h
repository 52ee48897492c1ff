/*
 * hp_mcp: the protocol model of the MCP server at /mcp — the revisions it
 * speaks and how they differ, JSON-RPC message classification and replies,
 * the initialize result, the five tools (their input and output schemas)
 * and the shapes of their results. The tools are the Ask API's operations
 * (hp_ask.h): ask_user, wait_for_answer and cancel_question work on the same
 * questions, send_notification stores the same notification, list_sessions
 * reads seed 004's sessions. Transport, sessions and waiting live in
 * api/api_mcp.c. Pure; any thread.
 *
 * Revisions: 2025-11-25, 2025-06-18 and 2025-03-26, the Streamable HTTP
 * revisions negotiated by an initialize handshake (the legacy era); and
 * 2026-07-28, the stateless revision (the modern era): no handshake and no
 * session, every request names its revision and the client's capabilities
 * in params._meta and mirrors its method (and tool name) in headers. The
 * legacy revisions differ here in two places: JSON-RPC batches exist only in
 * 2025-03-26, and invalid tool arguments are a tool execution error
 * (isError) from 2025-11-25 but a protocol error (-32602) before it.
 * docs/mcp.md.
 */
#ifndef HP_MCP_H
#define HP_MCP_H

#include <stdbool.h>

#include <json-c/json.h>

#include "hp_approval.h"
#include "hp_notif.h"
#include "hp_valid.h"

#define HP_MCP_LATEST_VERSION "2025-11-25"
/* The stateless revision, served to requests that carry its envelope. */
#define HP_MCP_MODERN_VERSION "2026-07-28"

/* The reserved _meta keys of the modern era. */
#define HP_MCP_META_VERSION      "io.modelcontextprotocol/protocolVersion"
#define HP_MCP_META_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"
#define HP_MCP_META_CLIENT_INFO  "io.modelcontextprotocol/clientInfo"
#define HP_MCP_META_LOG_LEVEL    "io.modelcontextprotocol/logLevel"
#define HP_MCP_META_SERVER_INFO  "io.modelcontextprotocol/serverInfo"

/* How long a client or a shared cache may keep tools/list and
 * server/discover (modern era): the list changes only with a new release. */
#define HP_MCP_CACHE_TTL_MS 3600000

/* The server is at /mcp, and also at seed 000's path, so an MCP client
 * configured for the hosted product needs only a new host. */
#define HP_MCP_SEED_PATH "/api/mcp/mcp"

/* How long a waiting tool blocks by default, and at most: under the ~60 s
 * request timeout common clients use (the TypeScript SDK's default). */
#define HP_MCP_WAIT_DEFAULT 45
#define HP_MCP_WAIT_MAX     55

/* Seconds between progress notifications while a tool waits. */
#define HP_MCP_PROGRESS_EVERY 5

/* JSON-RPC error codes. */
#define HP_MCP_PARSE_ERROR      (-32700)
#define HP_MCP_INVALID_REQUEST  (-32600)
#define HP_MCP_METHOD_NOT_FOUND (-32601)
#define HP_MCP_INVALID_PARAMS   (-32602)
/* Modern era (2026-07-28). */
#define HP_MCP_HEADER_MISMATCH     (-32020)
#define HP_MCP_UNSUPPORTED_VERSION (-32022)

/* The revisions spoken, newest first, NULL-terminated. */
extern const char *const hp_mcp_versions[];

bool hp_mcp_version_supported(const char *v);
/* The revision to answer an initialize asking for requested: requested when
 * supported, else the latest (the client then decides whether to go on). */
const char *hp_mcp_negotiate(const char *requested);
bool hp_mcp_batches_allowed(const char *version);
/* Whether v names a revision of the modern era: an ISO date (YYYY-MM-DD),
 * 2026-07-28 or later (such dates order as strings). */
bool hp_mcp_version_is_modern(const char *v);
bool hp_mcp_validation_is_tool_error(const char *version);

typedef enum {
    HP_MCP_MSG_INVALID = 0,
    HP_MCP_MSG_REQUEST,
    HP_MCP_MSG_NOTIFICATION,
    HP_MCP_MSG_RESPONSE, /* a client's answer to a server request */
} hp_mcp_msg_kind;

/* One JSON-RPC message; members are borrowed from the parsed body. */
typedef struct hp_mcp_msg {
    hp_mcp_msg_kind kind;
    json_object *id; /* requests (string or integer); else NULL */
    const char *method;
    json_object *params; /* an object, or NULL when absent */
    const char *why;     /* HP_MCP_MSG_INVALID: a static reason */
} hp_mcp_msg;

/* Classifies m as JSON-RPC 2.0: "jsonrpc": "2.0"; a request has a string
 * method and an id that is a string or an integer; a notification has no
 * id; a response has an id and exactly one of result and error; params,
 * when present, is an object. */
void hp_mcp_classify(json_object *m, hp_mcp_msg *out);

/* The request headers that mirror body fields in the modern era (NULL when
 * absent): MCP-Protocol-Version, Mcp-Method and Mcp-Name. */
typedef struct hp_mcp_headers {
    const char *protocol_version;
    const char *method;
    const char *name;
} hp_mcp_headers;

typedef enum {
    HP_MCP_ROUTE_LEGACY = 0, /* the initialize handshake and its sessions */
    HP_MCP_ROUTE_MODERN,     /* served statelessly as 2026-07-28 */
    HP_MCP_ROUTE_REJECT,     /* answered with the error below */
} hp_mcp_route_kind;

typedef struct hp_mcp_route {
    hp_mcp_route_kind kind;
    const char *version; /* MODERN: the revision the request names (borrowed) */
    int http_status;     /* REJECT: 400 */
    int code;            /* REJECT: the JSON-RPC error code */
    char message[256];   /* REJECT */
    json_object *data;   /* REJECT: the error's data, a new reference (or NULL) */
} hp_mcp_route;

/* Whether params carry the modern envelope's claim: params._meta holds the
 * reserved protocol-version key (valid or not). */
bool hp_mcp_has_envelope(json_object *params);

/* Decides the era of one classified request or notification (not a
 * response, not an invalid message) from its body first and its headers
 * second, as the official SDK's dual-era server does:
 * - an initialize without a valid modern envelope is legacy (with a modern
 *   MCP-Protocol-Version header: -32020);
 * - a request with the envelope claim is modern: a malformed envelope is
 *   -32602, headers that disagree with the body -32020, a missing
 *   MCP-Protocol-Version or Mcp-Method header -32020, and for tools/call a
 *   missing, undecodable or different Mcp-Name -32020 (a value may be sent
 *   as =?base64?...?=); a revision other than 2026-07-28 is -32022 with the
 *   supported ones;
 * - a modern MCP-Protocol-Version header on a request without the envelope
 *   is -32602;
 * - anything else is legacy.
 * Every rejection is HTTP 400. Notifications need only a string version in
 * their envelope and matching headers. */
void hp_mcp_route_message(const hp_mcp_msg *m, const hp_mcp_headers *h, hp_mcp_route *out);

/* {"jsonrpc": "2.0", "id": id, "result": result}; takes the reference to
 * result, copies id (NULL = null). New reference. */
json_object *hp_mcp_response(json_object *id, json_object *result);
/* {"jsonrpc": "2.0", "id": id, "error": {code, message, data}}; takes the
 * reference to data (may be NULL). New reference. */
json_object *hp_mcp_error(json_object *id, int code, const char *message, json_object *data);

/* initialize params: protocolVersion (required string) and clientInfo's
 * name and version (optional). Borrowed. */
typedef struct hp_mcp_init {
    const char *protocol_version;
    const char *client_name;
    const char *client_version;
} hp_mcp_init;

/* false (with a static reason in *why) when params are not an initialize's. */
bool hp_mcp_parse_initialize(json_object *params, hp_mcp_init *out, const char **why);

/* The initialize result for the negotiated version: protocolVersion,
 * capabilities {tools}, serverInfo and instructions. New reference. */
json_object *hp_mcp_initialize_result(const char *version);

/* The server/discover result (modern era): supportedVersions (the modern
 * revisions; the legacy ones are negotiated by initialize), capabilities
 * {tools} and instructions. New reference. */
json_object *hp_mcp_discover_result(void);

/* Adds what every modern-era result carries to resp's result, when it has
 * one: resultType "complete" and _meta's serverInfo; and to the results of
 * the cacheable methods (tools/list, server/discover) the cache hints ttlMs
 * and cacheScope. method: the request's. Returns resp. */
json_object *hp_mcp_modern_result(json_object *resp, const char *method);

typedef enum {
    HP_MCP_ASK_USER = 0,
    HP_MCP_WAIT_FOR_ANSWER,
    HP_MCP_CANCEL_QUESTION,
    HP_MCP_SEND_NOTIFICATION,
    HP_MCP_LIST_SESSIONS,
    HP_MCP_TOOL_COUNT
} hp_mcp_tool;

/* {"tools": [...]}: each tool's name, title, description, inputSchema,
 * outputSchema and annotations. New reference. */
json_object *hp_mcp_tools_list(void);

/* The tool named name, or -1. */
int hp_mcp_tool_find(const char *name);

/* wait_for_answer and cancel_question arguments. */
typedef struct hp_mcp_ref_args {
    const char *correlation_id;
    int timeout_seconds; /* wait_for_answer: 1..HP_MCP_WAIT_MAX */
} hp_mcp_ref_args;

bool hp_mcp_parse_ref(json_object *args, bool wait, hp_mcp_ref_args *out, hp_issues *is);

/* list_sessions arguments: status (active | completed | error) and limit
 * (1..100, default 20). */
typedef struct hp_mcp_list_args {
    const char *status; /* NULL = any */
    int limit;
} hp_mcp_list_args;

bool hp_mcp_parse_list(json_object *args, hp_mcp_list_args *out, hp_issues *is);

/* A tool result with structured content (reference taken) and the same
 * JSON as its one text block, as the spec recommends. New reference. */
json_object *hp_mcp_tool_result(json_object *structured);
/* A tool execution error: isError true, message as text, plus the issues
 * (reference taken, may be NULL) as a second text block. New reference. */
json_object *hp_mcp_tool_error(const char *message, json_object *issues);

/* The structured state of a question for ask_user, wait_for_answer and
 * cancel_question: hp_ask_state_json plus type, question and a message that
 * tells the model what to do next (call wait_for_answer again while the
 * question is open). New reference. */
json_object *hp_mcp_question_state(const hp_approval_row *r, bool timed_out, const char *poll_url);

/* list_sessions: {"sessions": [...], "hasMore"}; rows[0..n) newest first,
 * more when the store found another page. New reference. */
json_object *hp_mcp_sessions_state(const hp_notif_session *rows, int n, bool more);

/* A notifications/progress message for token (borrowed). New reference. */
json_object *hp_mcp_progress(json_object *token, int progress, int total, const char *message);

#endif
