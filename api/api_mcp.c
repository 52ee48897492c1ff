/*
 * api_mcp: the MCP server at /mcp over Streamable HTTP (revisions
 * 2025-03-26, 2025-06-18 and 2025-11-25 after an initialize, and the
 * stateless 2026-07-28; hp_mcp.h), authenticated with a Bearer API key on
 * every request. See docs/mcp.md.
 *
 *   POST /mcp    one JSON-RPC message (or, in a 2025-03-26 session, a
 *                batch). A request carrying the 2026-07-28 envelope in
 *                params._meta is served on its own (server/discover,
 *                tools/list, tools/call; no session). Otherwise initialize
 *                opens a session (Mcp-Session-Id, stored in PostgreSQL so any
 *                replica serves it) for the later requests. Requests answer
 *                application/json, or text/event-stream when a waiting tool
 *                was asked for progress; notifications and responses 202
 *   DELETE /mcp  ends the session
 *   GET /mcp     405: there are no server-initiated messages to stream
 *
 * HTTP-level refusals (auth, Origin, Accept, body, session, protocol
 * version) answer a JSON-RPC error body with id null through the hp_err
 * table (api_dispatch sets the style for this path); errors of a parsed
 * request answer HTTP 200 with its id. The tools run the Ask API's
 * operations (api_ask.c) and wait like its long-polls, holding no database
 * connection.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "hp_ask.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_log.h"
#include "hp_mcp.h"
#include "hp_store_mcp.h"
#include "hp_store_notif.h"
#include "hp_str.h"

/* One POST's state. */
typedef struct api_mcp {
    hp_req *req;
    const char *version;     /* the revision: the session's, the negotiated one, or 2026-07-28 */
    const char *modern;      /* a 2026-07-28 request's method: its result says so */
    bool sse_ok;             /* the client accepts text/event-stream */
    bool json_ok;            /* ... and application/json */
    bool batch;              /* handling a batch: no streaming */
    json_object *progress;   /* the waiting call's progressToken, or NULL */
    json_object *request_id; /* the waiting call's id */
    int progress_total;
    int progress_sent;
} api_mcp;

static void api__json_put(void *j)
{
    json_object_put(j);
}

/* ---- transport checks --------------------------------------------------------- */

/* An Origin, when sent (browsers), must be HOLDPOINT_PUBLIC_URL's: the
 * spec's guard against DNS rebinding. */
static bool api__origin_ok(hp_req *req)
{
    const char *origin = mg_get_header(req->conn, "Origin");
    const char *pub = req->app->cfg->public_url, *host;
    size_t n;

    if (origin == NULL)
        return true;
    host = strstr(pub, "://");
    if (host == NULL)
        return false;
    n = (size_t)(host + 3 - pub) + strcspn(host + 3, "/?#");
    return strlen(origin) == n && strncasecmp(origin, pub, n) == 0;
}

/* What the Accept header allows; false when it allows neither form. No
 * Accept header allows both. */
static bool api__accept(hp_req *req, api_mcp *x)
{
    const char *a = mg_get_header(req->conn, "Accept");

    if (a == NULL) {
        x->json_ok = x->sse_ok = true;
        return true;
    }
    x->json_ok = strcasestr(a, "application/json") != NULL || strcasestr(a, "*/*") != NULL ||
                 strcasestr(a, "application/*") != NULL;
    x->sse_ok = strcasestr(a, "text/event-stream") != NULL || strcasestr(a, "*/*") != NULL;
    return x->json_ok || x->sse_ok;
}

/* The SHA-256 of the request's Mcp-Session-Id; false when it has none. */
static bool api__session_hash(hp_req *req, unsigned char hash[32])
{
    const char *sid = mg_get_header(req->conn, "Mcp-Session-Id");

    if (sid == NULL || sid[0] == '\0')
        return false;
    hp_sha256(sid, strlen(sid), hash);
    return true;
}

/* Finds the session of this request for the calling agent; on false the
 * response (400 without a session id, 404 for an unknown one) was sent. */
static bool api__session(hp_req *req, const char **version)
{
    unsigned char hash[32];
    hp_dbconn *c;
    bool found = false;
    hp_err rc;

    if (!api__session_hash(req, hash)) {
        api_send_error(req, HP_ERR_INVALID_REQUEST,
                       "send the Mcp-Session-Id that initialize answered", NULL);
        return false;
    }
    if (api_db(req, &c) != HP_OK)
        return false;
    rc = hp_store_mcp_session_get(c, req->pool, hash, req->auth.team_id, req->auth.agent_id,
                                  version, &found, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return false;
    }
    if (!found)
        api_send_error(req, HP_ERR_NOT_FOUND,
                       "no such MCP session (it ended or expired); initialize again", NULL);
    return found;
}

/* Answers a single request's JSON-RPC response (or nothing when a stream
 * already carried it). Takes the reference. */
static void api__reply(api_mcp *x, json_object *resp)
{
    hp_req *req = x->req;

    if (resp == NULL)
        return;
    if (x->modern)
        resp = hp_mcp_modern_result(resp, x->modern);
    if (req->status != 0) {
        /* The SSE head went out when progress started: the answer is the
         * stream's last event. */
        (void)api_sse_send(req, "message", NULL, resp);
    } else if (!x->json_ok) {
        api_sse_begin(req);
        (void)api_sse_send(req, "message", NULL, resp);
    } else {
        api_send_json(req, 200, resp);
    }
    json_object_put(resp);
}

/* ---- tools ---------------------------------------------------------------------- */

/* Invalid arguments: a tool execution error the model can correct
 * (2025-11-25), or the protocol error -32602 of the earlier revisions. */
static json_object *api__invalid_args(api_mcp *x, json_object *id, hp_issues *is)
{
    if (hp_mcp_validation_is_tool_error(x->version))
        return hp_mcp_response(
            id, hp_mcp_tool_error("Invalid arguments; see the issues.", hp_issues_json(is)));
    json_object *data = json_object_new_object();
    json_object_object_add(data, "issues", hp_issues_json(is));
    return hp_mcp_error(id, HP_MCP_INVALID_PARAMS, "Invalid params", data);
}

static bool api__progress_tick(hp_req *req, void *ctx)
{
    api_mcp *x = ctx;
    json_object *p;
    bool ok;

    if (req->status == 0)
        api_sse_begin(req);
    x->progress_sent += HP_MCP_PROGRESS_EVERY;
    if (x->progress_sent > x->progress_total)
        x->progress_sent = x->progress_total;
    p = hp_mcp_progress(x->progress, x->progress_sent, x->progress_total,
                        "Waiting for a human to answer");
    ok = api_sse_send(req, "message", NULL, p);
    json_object_put(p);
    return ok;
}

/* Waits up to wait_s for *row to be decided, with progress notifications
 * when the call asked for them; returns false when the client left or the
 * wait was refused (nothing more to send). *timed_out: the wait ran out with the question open. */
static bool api__wait(api_mcp *x, hp_approval_row *row, int wait_s, bool *timed_out)
{
    hp_req *req = x->req;
    api_waiting w;
    api_wait_outcome r;
    bool progress = x->progress != NULL && x->sse_ok && !x->batch;

    *timed_out = wait_s > 0 && strcmp(row->status, "pending") == 0;
    if (!*timed_out)
        return true; /* no wait asked for, or nothing left to wait for */
    hp_err rc = api_wait_begin(req, row, wait_s, &w);
    if (rc != HP_OK) {
        api_wait_refuse(req, rc);
        return false;
    }
    if (progress) {
        x->progress_total = wait_s;
        x->progress_sent = -HP_MCP_PROGRESS_EVERY;
        if (!api__progress_tick(req, x)) { /* progress 0 at once */
            api_wait_end(&w);
            return false;
        }
    }
    r = api_wait_decided(req, &w, row, progress ? HP_MCP_PROGRESS_EVERY * 1000 : 0,
                         progress ? api__progress_tick : NULL, x);
    api_wait_end(&w);
    if (r == API_WAIT_GONE) {
        if (req->status == 0)
            req->status = 499;
        return false;
    }
    *timed_out = strcmp(row->status, "pending") == 0;
    return true;
}

static json_object *api__question(api_mcp *x, json_object *id, hp_approval_row *row, int wait_s)
{
    bool timed_out = false;

    if (!api__wait(x, row, wait_s, &timed_out))
        return NULL;
    return hp_mcp_response(id, hp_mcp_tool_result(hp_mcp_question_state(
                                   row, timed_out, api_ask_poll_url(x->req, row))));
}

static json_object *api__ask_user(api_mcp *x, json_object *id, json_object *args)
{
    hp_ask_input in;
    hp_create_result res;
    json_object *out = NULL;
    hp_issues *is = hp_issues_new();

    if (!hp_ask_parse(args, x->req->app->urlpolicy, true, HP_MCP_WAIT_DEFAULT, &in, is))
        out = api__invalid_args(x, id, is);
    /* A waiting ask takes its waiting place first: refused (429 or 503 sent),
     * it asks nothing. */
    else if (in.wait && api_wait_reserve(x->req, false) != HP_OK)
        out = NULL;
    else if (api_approval_create(x->req, &in.approval, NULL, &res))
        out = api__question(x, id, &res.row, in.wait ? in.timeout_seconds : 0);
    hp_ask_input_deinit(&in);
    hp_issues_free(is);
    return out;
}

/* wait_for_answer and cancel_question. */
static json_object *api__by_ref(api_mcp *x, json_object *id, json_object *args, bool cancel)
{
    hp_mcp_ref_args a;
    hp_approval_row row;
    json_object *out = NULL;
    hp_issues *is = hp_issues_new();
    hp_err rc;

    if (!hp_mcp_parse_ref(args, !cancel, &a, is)) {
        out = api__invalid_args(x, id, is);
        goto done;
    }
    rc = api_ask_find(x->req, a.correlation_id, &row);
    if (rc == HP_ERR_NOT_FOUND) {
        out = hp_mcp_response(
            id, hp_mcp_tool_error("No question with this correlationId for this agent.", NULL));
        goto done;
    }
    if (rc != HP_OK)
        goto done; /* the failure response was sent */
    if (cancel) {
        /* Answered or expired first: report how it ended. */
        rc = api_ask_cancel_row(x->req, &row);
        if (rc == HP_OK || rc == HP_ERR_ALREADY_RESOLVED)
            out = api__question(x, id, &row, 0);
        goto done;
    }
    out = api__question(x, id, &row, a.timeout_seconds);
done:
    hp_issues_free(is);
    return out;
}

static json_object *api__send_notification(api_mcp *x, json_object *id, json_object *args)
{
    hp_notif_message_input in;
    hp_notif_message m;
    json_object *out = NULL;
    hp_issues *is = hp_issues_new();

    if (!hp_ask_send_parse(args, &in, is))
        out = api__invalid_args(x, id, is);
    else if (api_ask_send_message(x->req, &in, &m) == HP_OK)
        out = hp_mcp_response(id, hp_mcp_tool_result(hp_ask_sent_json(&m)));
    hp_notif_message_input_deinit(&in);
    hp_issues_free(is);
    return out;
}

static json_object *api__list_sessions(api_mcp *x, json_object *id, json_object *args)
{
    hp_req *req = x->req;
    hp_mcp_list_args a;
    hp_notif_session_filter f = {0};
    hp_notif_session *rows;
    hp_dbconn *c;
    json_object *out = NULL;
    hp_issues *is = hp_issues_new();
    int n = 0;
    hp_err rc;

    if (!hp_mcp_parse_list(args, &a, is)) {
        out = api__invalid_args(x, id, is);
        goto done;
    }
    if (api_db(req, &c) != HP_OK)
        goto done;
    f.agent_id = req->auth.agent_id;
    f.status = a.status;
    f.cursor_created_at = -1;
    f.limit = a.limit + 1; /* one more tells whether there is a next page */
    rc = hp_store_notif_session_list(c, req->pool, &f, &rows, &n, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto done;
    }
    out = hp_mcp_response(id, hp_mcp_tool_result(hp_mcp_sessions_state(
                                  rows, n < a.limit ? n : a.limit, n > a.limit)));
done:
    hp_issues_free(is);
    return out;
}

static json_object *api__tools_call(api_mcp *x, json_object *id, json_object *params)
{
    const char *name = params ? hp_json_str(params, "name") : NULL;
    json_object *args = NULL, *meta = NULL;
    int tool;

    if (name == NULL)
        return hp_mcp_error(id, HP_MCP_INVALID_PARAMS, "tools/call needs params.name", NULL);
    tool = hp_mcp_tool_find(name);
    if (tool < 0) {
        char msg[160];
        (void)hp_fmt(msg, sizeof(msg), "Unknown tool: %.100s", name);
        return hp_mcp_error(id, HP_MCP_INVALID_PARAMS, msg, NULL);
    }
    if (!json_object_object_get_ex(params, "arguments", &args) || args == NULL) {
        args = json_object_new_object(); /* no arguments: an empty object */
        hp_pool_defer(x->req->pool, api__json_put, args);
    }
    if (json_object_object_get_ex(params, "_meta", &meta) &&
        json_object_is_type(meta, json_type_object)) {
        json_object *t = json_object_object_get(meta, "progressToken");
        if (json_object_is_type(t, json_type_string) || json_object_is_type(t, json_type_int))
            x->progress = t;
    }
    x->request_id = id;
    switch ((hp_mcp_tool)tool) {
    case HP_MCP_ASK_USER:
        return api__ask_user(x, id, args);
    case HP_MCP_WAIT_FOR_ANSWER:
        return api__by_ref(x, id, args, false);
    case HP_MCP_CANCEL_QUESTION:
        return api__by_ref(x, id, args, true);
    case HP_MCP_SEND_NOTIFICATION:
        return api__send_notification(x, id, args);
    case HP_MCP_LIST_SESSIONS:
    default:
        return api__list_sessions(x, id, args);
    }
}

/* ---- messages ------------------------------------------------------------------- */

/* The response to one classified request in an open session, or NULL when
 * the response was already sent (a failure) or streamed. */
static json_object *api__request(api_mcp *x, const hp_mcp_msg *m)
{
    if (strcmp(m->method, "ping") == 0)
        return hp_mcp_response(m->id, json_object_new_object());
    if (strcmp(m->method, "tools/list") == 0)
        return hp_mcp_response(m->id, hp_mcp_tools_list());
    if (strcmp(m->method, "tools/call") == 0)
        return api__tools_call(x, m->id, m->params);
    return hp_mcp_error(m->id, HP_MCP_METHOD_NOT_FOUND, "Method not found", NULL);
}

static void api__initialize(api_mcp *x, const hp_mcp_msg *m)
{
    hp_req *req = x->req;
    hp_mcp_init in;
    const char *why = NULL, *version;
    char *sid;
    unsigned char hash[32];
    hp_dbconn *c;
    hp_err rc;

    if (!hp_mcp_parse_initialize(m->params, &in, &why)) {
        api__reply(x, hp_mcp_error(m->id, HP_MCP_INVALID_PARAMS, why, NULL));
        return;
    }
    version = hp_mcp_negotiate(in.protocol_version);
    if (api_db(req, &c) != HP_OK)
        return;
    sid = hp_random_token("mcp_", 40);
    hp_sha256(sid, strlen(sid), hash);
    rc = hp_store_mcp_session_open(c, hash, req->auth.team_id, req->auth.agent_id, version,
                                   in.client_name, in.client_version, req->err, sizeof(req->err));
    if (rc == HP_OK) {
        const char *h[] = {"Mcp-Session-Id", hp_pool_strdup(req->pool, sid), NULL};
        json_object *resp = hp_mcp_response(m->id, hp_mcp_initialize_result(version));
        api_send_json_h(req, 200, resp, h);
        json_object_put(resp);
        hp_log_info("mcp session opened", "request_id", req->request_id, "team_id",
                    req->auth.team_id, "agent_id", req->auth.agent_id, "protocol_version", version);
    } else {
        api_send_failure(req, rc, NULL);
    }
    explicit_bzero(sid, strlen(sid));
    free(sid);
}

/* A JSON-RPC error with an HTTP status of its own: the modern era answers
 * a refused request 400 and an unknown method 404. Takes data. */
static void api__rpc_error(hp_req *req, int status, json_object *id, int code, const char *message,
                           json_object *data)
{
    json_object *resp = hp_mcp_error(id, code, message, data);

    api_send_json(req, status, resp);
    json_object_put(resp);
}

/* One 2026-07-28 message, routed and checked by hp_mcp_route_message:
 * served on its own, with no session. */
static void api__modern(api_mcp *x, const hp_mcp_msg *m, const char *version)
{
    x->version = version;
    x->modern = m->method;
    if (m->kind != HP_MCP_MSG_REQUEST) {
        api_send_empty(x->req, 202, NULL);
        return;
    }
    if (strcmp(m->method, "server/discover") == 0) {
        api__reply(x, hp_mcp_response(m->id, hp_mcp_discover_result()));
    } else if (strcmp(m->method, "tools/list") == 0) {
        api__reply(x, hp_mcp_response(m->id, hp_mcp_tools_list()));
    } else if (strcmp(m->method, "tools/call") == 0) {
        api__reply(x, api__tools_call(x, m->id, m->params));
    } else {
        /* ping and initialize are not part of this revision. */
        api__rpc_error(x->req, 404, m->id, HP_MCP_METHOD_NOT_FOUND, "Method not found", NULL);
    }
}

/* A batch (2025-03-26 sessions only): every request answered in order in one
 * JSON array; 202 when it held only notifications and responses. */
static void api__batch(api_mcp *x, json_object *body)
{
    hp_req *req = x->req;
    size_t n = json_object_array_length(body);
    json_object *out = json_object_new_array();

    x->batch = true;
    for (size_t i = 0; i < n && req->status == 0; i++) {
        hp_mcp_msg m;
        json_object *r = NULL;

        hp_mcp_classify(json_object_array_get_idx(body, i), &m);
        if (m.kind == HP_MCP_MSG_INVALID)
            r = hp_mcp_error(NULL, HP_MCP_INVALID_REQUEST, m.why, NULL);
        else if (m.kind == HP_MCP_MSG_REQUEST)
            r = api__request(x, &m);
        if (r != NULL)
            json_object_array_add(out, r);
    }
    if (req->status == 0) {
        if (json_object_array_length(out) == 0)
            api_send_empty(req, 202, NULL);
        else
            api_send_json(req, 200, out);
    }
    json_object_put(out);
}

/* MCP-Protocol-Version on a request after initialize: absent, or one of the
 * revisions served; else 400 (the answer that tells a client speaking a
 * later revision to fall back to initialize). An initialize negotiates in
 * its body, so its header is not checked, as in the reference SDK server. */
static bool api__version_header_ok(hp_req *req, const char *hv)
{
    if (hv == NULL || hp_mcp_version_supported(hv))
        return true;
    api_send_error(req, HP_ERR_INVALID_REQUEST,
                   "unsupported MCP-Protocol-Version (supported: 2025-11-25, 2025-06-18, "
                   "2025-03-26)",
                   NULL);
    return false;
}

void api_mcp_post(hp_req *req)
{
    api_mcp x = {.req = req};
    const char *hv = mg_get_header(req->conn, "MCP-Protocol-Version");
    hp_mcp_headers h = {hv, mg_get_header(req->conn, "Mcp-Method"),
                        mg_get_header(req->conn, "Mcp-Name")};
    hp_mcp_route route;
    json_object *body;
    hp_mcp_msg m;

    if (api_auth_agent(req) != HP_OK)
        return;
    if (!api__origin_ok(req)) {
        api_send_error(req, HP_ERR_FORBIDDEN, "this Origin may not call the MCP endpoint", NULL);
        return;
    }
    if (!api__accept(req, &x)) {
        api_send_error(req, HP_ERR_NOT_ACCEPTABLE, NULL, NULL);
        return;
    }
    if (api_read_json(req, true, &body) != HP_OK)
        return;

    if (json_object_is_type(body, json_type_array)) {
        size_t n = json_object_array_length(body);
        for (size_t i = 0; i < n; i++) {
            hp_mcp_classify(json_object_array_get_idx(body, i), &m);
            if (hp_mcp_has_envelope(m.params)) {
                api_send_error(req, HP_ERR_INVALID_REQUEST,
                               "JSON-RPC batches may not hold 2026-07-28 requests", NULL);
                return;
            }
            if (m.kind == HP_MCP_MSG_REQUEST && strcmp(m.method, "initialize") == 0) {
                api_send_error(req, HP_ERR_INVALID_REQUEST,
                               "initialize must not be part of a batch", NULL);
                return;
            }
        }
        if (n == 0) {
            api_send_error(req, HP_ERR_INVALID_REQUEST, "an empty batch", NULL);
            return;
        }
        if (!api__version_header_ok(req, hv) || !api__session(req, &x.version))
            return;
        if (!hp_mcp_batches_allowed(x.version)) {
            api_send_error(req, HP_ERR_INVALID_REQUEST,
                           "JSON-RPC batches are not part of this session's protocol version",
                           NULL);
            return;
        }
        api__batch(&x, body);
        return;
    }

    hp_mcp_classify(body, &m);
    if (m.kind == HP_MCP_MSG_INVALID) {
        api_send_error(req, HP_ERR_INVALID_REQUEST, m.why, NULL);
        return;
    }
    hp_mcp_route_message(&m, &h, &route);
    if (route.kind == HP_MCP_ROUTE_REJECT) {
        api__rpc_error(req, route.http_status, m.id, route.code, route.message, route.data);
        return;
    }
    if (route.kind == HP_MCP_ROUTE_MODERN) {
        api__modern(&x, &m, route.version);
        return;
    }
    if (m.kind == HP_MCP_MSG_REQUEST && strcmp(m.method, "initialize") == 0) {
        /* Always a new session, also from a client that still sends an
         * old one's id. */
        api__initialize(&x, &m);
        return;
    }
    if (!api__version_header_ok(req, hv) || !api__session(req, &x.version))
        return;
    if (m.kind != HP_MCP_MSG_REQUEST) {
        /* notifications/initialized, cancellations, answers: accepted. */
        api_send_empty(req, 202, NULL);
        return;
    }
    api__reply(&x, api__request(&x, &m));
}

void api_mcp_delete(hp_req *req)
{
    unsigned char hash[32];
    hp_dbconn *c;
    bool found = false;
    hp_err rc;

    if (api_auth_agent(req) != HP_OK)
        return;
    if (!api__session_hash(req, hash)) {
        api_send_error(req, HP_ERR_INVALID_REQUEST, "send the Mcp-Session-Id to end", NULL);
        return;
    }
    if (api_db(req, &c) != HP_OK)
        return;
    rc = hp_store_mcp_session_end(c, hash, req->auth.team_id, req->auth.agent_id, &found, req->err,
                                  sizeof(req->err));
    if (rc != HP_OK)
        api_send_failure(req, rc, NULL);
    else if (!found)
        api_send_error(req, HP_ERR_NOT_FOUND, "no such MCP session", NULL);
    else
        api_send_empty(req, 204, NULL);
}
