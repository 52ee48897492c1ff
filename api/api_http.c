/*
 * api_http: the request life cycle of holdpoint-api. Every request gets a
 * pool, a request id (the client's X-Request-Id when it is sane, else a new
 * one), a route from the table below, and exactly one response carrying
 * X-Request-Id. Bodies are bounded by HOLDPOINT_MAX_BODY_BYTES: a declared
 * Content-Length over it is refused before a byte is read, and a chunked
 * body is cut off at the limit. Framing that two parties could read two
 * ways (Content-Length values that differ, or Content-Length beside
 * Transfer-Encoding, which civetweb would settle silently in favour of the
 * chunks) is refused with 400 and the connection closed, before routing. The
 * access log line is written last.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api.h"
#include "hp_ask.h"
#include "hp_buf.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_log.h"
#include "hp_mcp.h"
#include "hp_str.h"
#include "hp_time.h"

typedef void (*api_handler)(hp_req *req);

/* A route: method, and a path made of a prefix, an optional one-parameter
 * wildcard and a suffix. The parameter may contain '/', so external request
 * ids stay addressable; routes with a suffix are listed before the bare one. */
typedef struct api_route {
    const char *method;
    const char *pattern; /* "/v1/approvals/{}/result" */
    api_handler fn;
} api_route;

static const api_route api_routes[] = {
    {"GET", "/healthz", api_healthz},
    {"GET", "/readyz", api_readyz},
    {"GET", "/metrics", api_metrics},
    {"POST", "/v1/approvals", api_approvals_create},
    {"GET", "/v1/approvals", api_approvals_list},
    {"GET", "/v1/approvals/{}/result", api_approvals_result},
    {"POST", "/v1/approvals/{}/cancel", api_approvals_cancel},
    {"GET", "/v1/approvals/{}/audit", api_approvals_audit},
    {"GET", "/v1/approvals/{}", api_approvals_get},
    {"GET", "/v1/agents", api_agents_list},
    {"PATCH", "/v1/agents/{}", api_agents_update},
    {"POST", "/v1/sessions", api_sessions_create},
    {"GET", "/v1/sessions", api_sessions_list},
    {"GET", "/v1/sessions/{}/tree", api_sessions_tree},
    {"POST", "/v1/sessions/{}/end", api_sessions_end},
    {"GET", "/v1/sessions/{}/responses", api_sessions_responses},
    {"GET", "/v1/sessions/{}", api_sessions_get},
    {"POST", "/v1/messages", api_messages_create},
    {"POST", "/v1/actions", api_actions_record},
    {"GET", "/v1/action-responses/stream", api_inbox_stream},
    {"POST", "/v1/action-responses/{}/ack", api_inbox_ack},
    {"GET", "/v1/action-responses", api_inbox_list},
    {"POST", "/v1/test/simulate-decision", api_simulate_decision},
    {"POST", "/v1/hooks/claude-code", api_hooks_claude_code},
    {"GET", "/v1/review/messages", api_review_messages_list},
    {"GET", "/v1/review/messages/{}", api_review_messages_get},
    {"GET", "/v1/review/approvals", api_review_list},
    {"GET", "/v1/review/stream", api_review_stream},
    {"GET", "/v1/review/agents", api_review_agents},
    {"POST", "/v1/review/approvals/{}/resolve", api_review_resolve},
    {"GET", "/v1/review/approvals/{}/audit", api_review_audit},
    {"GET", "/v1/review/approvals/{}", api_review_get},
    {"GET", "/app/link/{}", api_link_get},
    {"POST", "/app/link/{}", api_link_post},
    {"POST", "/v1/integrations/slack/interactions", api_slack_interactions},
    {"GET", "/v1/review/push/key", api_push_key},
    {"POST", "/v1/review/push-subscriptions", api_push_subscribe},
    {"GET", "/v1/review/push-subscriptions", api_push_list},
    {"DELETE", "/v1/review/push-subscriptions/{}", api_push_unsubscribe},
    {"POST", "/v1/session", api_session_create},
    {"GET", "/v1/session", api_session_get},
    {"DELETE", "/v1/session", api_session_delete},
    {"POST", "/v1/session/password", api_session_password},
    {"POST", HP_ASK_BASE_PATH "/send", api_ask_send},
    {"POST", HP_ASK_BASE_PATH "/ask", api_ask_create},
    {"GET", HP_ASK_BASE_PATH "/ask/{}", api_ask_get},
    {"DELETE", HP_ASK_BASE_PATH "/ask/{}", api_ask_delete},
    {"GET", "/v1/settings/channels", api_settings_channels_list},
    {"POST", "/v1/settings/channels", api_settings_channels_create},
    {"POST", "/v1/settings/channels/{}/test", api_settings_channel_test},
    {"DELETE", "/v1/settings/channels/{}", api_settings_channel_remove},
    {"GET", "/v1/settings/agents/{}/notifications", api_settings_agent_notify_get},
    {"PUT", "/v1/settings/agents/{}/notifications", api_settings_agent_notify_put},
    {"GET", "/v1/settings/agents", api_settings_agents_list},
    {"POST", "/v1/settings/agents", api_settings_agents_create},
    {"PATCH", "/v1/settings/agents/{}", api_settings_agent_update},
    {"GET", "/v1/settings/keys", api_settings_keys_list},
    {"POST", "/v1/settings/keys", api_settings_keys_create},
    {"POST", "/v1/settings/keys/{}/regenerate", api_settings_key_regenerate},
    {"POST", "/v1/settings/keys/{}/revoke", api_settings_key_revoke},
    {"GET", "/v1/settings/members", api_settings_members_list},
    {"POST", "/v1/settings/members", api_settings_members_create},
    {"PATCH", "/v1/settings/members/{}", api_settings_member_update},
    {"DELETE", "/v1/settings/members/{}", api_settings_member_remove},
    {"GET", "/v1/settings/quota", api_settings_quota_get},
    {"PUT", "/v1/settings/quota", api_settings_quota_set},
    {"GET", "/app", api_web_shell},
    {"GET", "/app/", api_web_shell},
    {"GET", "/app/assets/{}", api_web_asset},
    {"GET", "/app/sw.js", api_web_sw},
    {"GET", "/app/manifest.webmanifest", api_web_manifest},
    {"GET", "/app/{}", api_web_shell},
    {"POST", "/mcp", api_mcp_post},
    {"DELETE", "/mcp", api_mcp_delete},
    /* Seed 000's MCP URL, so a client configured for it needs only a new host. */
    {"POST", HP_MCP_SEED_PATH, api_mcp_post},
    {"DELETE", HP_MCP_SEED_PATH, api_mcp_delete},
};

/* Matches path against pattern; on a match with a wildcard, *param gets the
 * parameter (pool memory). */
static bool api__match(hp_pool *pool, const char *pattern, const char *path, const char **param)
{
    const char *w = strstr(pattern, "{}");
    size_t plen, slen, n = strlen(path);

    *param = NULL;
    if (w == NULL)
        return strcmp(pattern, path) == 0;
    plen = (size_t)(w - pattern);
    slen = strlen(w + 2);
    if (n <= plen + slen || strncmp(path, pattern, plen) != 0 ||
        strcmp(path + n - slen, w + 2) != 0)
        return false;
    /* The server leaves the path percent-encoded (decode_url=no) so that an
     * external id containing "%2F" stays one parameter; decode it here. */
    {
        size_t len = n - plen - slen;
        char *raw = hp_pool_strndup(pool, path + plen, len);
        char *dec = hp_pool_alloc(pool, len + 1);
        if (mg_url_decode(raw, (int)len, dec, (int)len + 1, 0) < 0)
            return false;
        *param = dec;
    }
    return true;
}

static bool api__request_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("._:-", *s) != NULL))
            return false;
    return true;
}

static void api__release_db(void *p)
{
    hp_req *req = p;
    if (req->dbc != NULL) {
        hp_db_release(req->app->db, req->dbc);
        req->dbc = NULL;
    }
}

void api_db_put(hp_req *req)
{
    api__release_db(req);
}

hp_err api_db(hp_req *req, hp_dbconn **out)
{
    hp_err rc;

    if (req->dbc == NULL) {
        rc = hp_db_acquire(req->app->db, &req->dbc, req->err, sizeof(req->err));
        if (rc != HP_OK) {
            req->dbc = NULL;
            api_send_failure(req, rc, NULL);
            return rc;
        }
        if (!req->dbc_deferred) {
            hp_pool_defer(req->pool, api__release_db, req);
            req->dbc_deferred = true;
        }
    }
    *out = req->dbc;
    return HP_OK;
}

/* Date in the IMF-fixdate form; civetweb 1.15 would write its own with
 * gmtime(), whose one static result every worker thread shares. */
static void api__http_date(char *out, size_t n)
{
    struct tm tm;
    time_t now = time(NULL);

    out[0] = '\0';
    if (gmtime_r(&now, &tm) == NULL || strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
        out[0] = '\0';
}

void api_response_start(hp_req *req, int status)
{
    char date[40];

    req->status = status;
    mg_response_header_start(req->conn, status);
    api__http_date(date, sizeof(date));
    if (date[0] != '\0')
        mg_response_header_add(req->conn, "Date", date, -1);
    mg_response_header_add(req->conn, "X-Request-Id", req->request_id, -1);
}

/* Whether the connection stays open after this response, by civetweb's own
 * rule (enable_keep_alive is on): the client's Connection header when it
 * sent one, else the HTTP/1.1 default. */
static bool api__keep_alive(hp_req *req)
{
    const char *v = mg_get_header(req->conn, "Connection");

    while (v != NULL && *v != '\0') {
        v += strspn(v, " \t,");
        size_t n = strcspn(v, " \t,");
        if (n == 10 && strncasecmp(v, "keep-alive", 10) == 0)
            return true;
        v += n;
    }
    if (v != NULL)
        return false;
    return req->ri->http_version != NULL && strcmp(req->ri->http_version, "1.1") == 0;
}

/* Bodies up to this size leave in the same write as the head. */
#define API_ONE_WRITE_BODY 16384

/* A whole response with a known length, written by us rather than by
 * mg_response_header_send, which sends every header line in a write of its
 * own (nine packets for a small JSON answer). The head, and the body when
 * it is small, go out in one write; civetweb only learns the status from
 * the handler, as for any response. ctype NULL: no Content-Type, and no
 * Content-Length on the statuses that carry no body (1xx, 204, 304). */
static void api__send(hp_req *req, int status, const char *ctype, const void *body, size_t len,
                      const char *const *extra_headers)
{
    char date[40];
    bool own_cache = false, own_conn = false;
    bool head_only = strcmp(req->ri->request_method, "HEAD") == 0;
    bool bodiless = status < 200 || status == 204 || status == 304;
    hp_buf b;
    hp_err e;

    if (req->status != 0)
        return; /* one response per request */
    req->status = status;
    api__http_date(date, sizeof(date));
    hp_buf_init(&b, SIZE_MAX);
    e = hp_buf_printf(&b, "HTTP/%s %d %s\r\n",
                      req->ri->http_version ? req->ri->http_version : "1.0", status,
                      mg_get_response_code_text(req->conn, status));
    if (e == HP_OK && date[0] != '\0')
        e = hp_buf_printf(&b, "Date: %s\r\n", date);
    if (e == HP_OK)
        e = hp_buf_printf(&b, "X-Request-Id: %s\r\n", req->request_id);
    if (e == HP_OK && ctype != NULL)
        e = hp_buf_printf(&b, "Content-Type: %s\r\n", ctype);
    if (e == HP_OK && !bodiless)
        e = hp_buf_printf(&b, "Content-Length: %zu\r\n", len);
    /* JSON is never cached; the web app's assets bring their own policy. */
    for (const char *const *h = extra_headers; h && h[0]; h += 2) {
        own_cache = own_cache || strcasecmp(h[0], "Cache-Control") == 0;
        own_conn = own_conn || strcasecmp(h[0], "Connection") == 0;
    }
    if (e == HP_OK && !own_cache)
        e = hp_buf_puts(&b, "Cache-Control: no-store\r\n");
    for (const char *const *h = extra_headers; e == HP_OK && h && h[0]; h += 2)
        e = hp_buf_printf(&b, "%s: %s\r\n", h[0], h[1]);
    if (e == HP_OK && !own_conn)
        e = hp_buf_printf(&b, "Connection: %s\r\n", api__keep_alive(req) ? "keep-alive" : "close");
    if (e == HP_OK)
        e = hp_buf_puts(&b, "\r\n");
    if (e != HP_OK) { /* out of memory: nothing sensible can be sent */
        hp_buf_free(&b);
        return;
    }
    if (head_only || bodiless)
        len = 0;
    if (len > 0 && len <= API_ONE_WRITE_BODY && hp_buf_append(&b, body, len) == HP_OK)
        len = 0;
    if (mg_write(req->conn, b.data, b.len) > 0 && len > 0)
        mg_write(req->conn, body, len);
    hp_buf_free(&b);
}

static void api__send_json_h(hp_req *req, int status, json_object *body,
                             const char *const *extra_headers)
{
    const char *text = hp_json_text(body);
    api__send(req, status, "application/json", text, strlen(text), extra_headers);
}

void api_send_json(hp_req *req, int status, json_object *body)
{
    api__send_json_h(req, status, body, NULL);
}

void api_send_json_h(hp_req *req, int status, json_object *body, const char *const *headers)
{
    api__send_json_h(req, status, body, headers);
}

void api_send_empty(hp_req *req, int status, const char *const *headers)
{
    api__send(req, status, NULL, NULL, 0, headers);
}

void api_send_raw(hp_req *req, int status, const char *ctype, const void *body, size_t len,
                  const char *const *headers)
{
    api__send(req, status, ctype, body, len, headers);
}

void api_send_items(hp_req *req, json_object *items)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "items", items);
    api_send_json(req, 200, o);
    json_object_put(o);
}

const char *api_client_addr(hp_req *req)
{
    const char *xff;

    /* Believed only from the proxies: anyone else could write it. */
    if (req->app->cfg->trust_forwarded_for &&
        hp_urlpolicy_listed(req->app->trusted_proxies, req->ri->remote_addr) &&
        (xff = mg_get_header(req->conn, "X-Forwarded-For")) != NULL) {
        /* The proxy appends the address it saw: the last entry is the one
         * no client can forge. */
        const char *last = strrchr(xff, ',');
        last = last ? last + 1 : xff;
        while (*last == ' ')
            last++;
        if (*last != '\0' && strlen(last) < 64)
            return hp_pool_strndup(req->pool, last, strcspn(last, " "));
    }
    return hp_pool_strdup(req->pool, req->ri->remote_addr);
}

/* The JSON-RPC error code for an HTTP-level error on /mcp: a body that is
 * not JSON is a parse error, other refused requests are invalid, an unknown
 * or ended session is -32001 (as the official SDK's servers answer), the rest
 * server errors; data.error always carries the stable code. */
static int api__jsonrpc_code(hp_err e)
{
    int status = hp_err_status(e);

    if (e == HP_ERR_INVALID_PAYLOAD)
        return -32700;
    if (e == HP_ERR_NOT_FOUND)
        return -32001;
    if (status == 400 || status == 413 || status == 415)
        return -32600;
    return status >= 500 ? -32603 : -32000;
}

json_object *api_error_body(hp_req *req, hp_err e, const char *message, json_object *extra)
{
    json_object *o = json_object_new_object(), *outer;

    hp_json_set_str(o, req->err_style == API_ERR_FLAT ? "error" : "code", hp_err_wire(e));
    hp_json_set_str(o, "message", message != NULL ? message : hp_err_message(e));
    hp_json_set_str(o, "request_id", req->request_id);
    if (extra != NULL) {
        json_object_object_foreach(extra, k, v)
        {
            json_object_object_add(o, k, json_object_get(v));
        }
    }
    if (req->err_style == API_ERR_FLAT)
        return o;
    outer = json_object_new_object();
    if (req->err_style == API_ERR_ENVELOPE) {
        json_object_object_add(outer, "error", o);
        return outer;
    }
    /* JSON-RPC: the stable code moves into data, next to the rest. */
    {
        json_object *err = json_object_new_object();
        json_object_object_add(o, "error", json_object_new_string(hp_err_wire(e)));
        json_object_object_del(o, "code");
        json_object_object_add(err, "code", json_object_new_int(api__jsonrpc_code(e)));
        hp_json_set_str(err, "message", hp_json_str(o, "message"));
        json_object_object_del(o, "message");
        json_object_object_add(err, "data", o);
        hp_json_set_str(outer, "jsonrpc", "2.0");
        json_object_object_add(outer, "id", NULL);
        json_object_object_add(outer, "error", err);
    }
    return outer;
}

void api_send_error_h(hp_req *req, hp_err e, const char *message, json_object *extra,
                      const char *const *headers)
{
    json_object *o;

    /* A create authenticated from memory answers nothing before its key is
     * confirmed: a revoked key gets its 401 instead of this error. */
    if (req->auth.key_unconfirmed && api_auth_confirm(req) != HP_OK)
        return;
    if (req->capture_errors) {
        if (req->captured == HP_OK) {
            req->captured = e;
            hp_strlcpy(req->captured_msg, message ? message : hp_err_message(e),
                       sizeof(req->captured_msg));
        }
        return;
    }
    o = api_error_body(req, e, message, extra);
    api__send_json_h(req, hp_err_status(e), o, headers);
    json_object_put(o);
}

void api_send_error(hp_req *req, hp_err e, const char *message, json_object *extra)
{
    static const char *const retry[] = {"Retry-After", "2", NULL};
    static const char *const close_conn[] = {"Connection", "close", NULL};
    static const char *const challenge[] = {"WWW-Authenticate", "Bearer realm=\"holdpoint\"", NULL};
    const char *const *h = NULL;

    if (e == HP_ERR_UNAVAILABLE)
        h = retry;
    else if (e == HP_ERR_PAYLOAD_TOO_LARGE)
        h = close_conn; /* the unread body makes the connection unusable */
    else if (hp_err_status(e) == 401 && req->err_style != API_ERR_FLAT)
        h = challenge; /* the Bearer surfaces (RFC 6750) */
    api_send_error_h(req, e, message, extra, h);
}

void api_send_issues(hp_req *req, hp_err e, const hp_issues *is)
{
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "issues", hp_issues_json(is));
    api_send_error(req, e, NULL, extra);
    json_object_put(extra);
}

void api_send_failure(hp_req *req, hp_err e, const char *message)
{
    int status = hp_err_status(e);

    if (status >= 500) {
        hp_log(e == HP_ERR_UNAVAILABLE ? HP_LOG_WARN : HP_LOG_ERROR,
               e == HP_ERR_UNAVAILABLE ? "dependency unavailable" : "request failed", "request_id",
               req->request_id, "route", req->route, "reason", req->err);
        /* Never leak internals: 5xx bodies carry the generic message. */
        message = NULL;
    }
    api_send_error(req, e, message, NULL);
}

/* ---- bodies and queries --------------------------------------------------- */

static bool api__is_json_type(const char *ct)
{
    size_t n;
    if (ct == NULL)
        return false;
    while (*ct == ' ')
        ct++;
    n = strcspn(ct, "; ");
    return n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0;
}

void api_metrics(hp_req *req)
{
    char *text = hp_metrics_render(req->app->metrics);
    api__send(req, 200, HP_METRICS_CONTENT_TYPE, text, strlen(text), NULL);
    free(text);
}

static void api__json_put(void *j)
{
    json_object_put(j);
}

hp_err api_read_json(hp_req *req, bool required, json_object **out)
{
    long long declared = req->ri->content_length;
    const char *te = mg_get_header(req->conn, "Transfer-Encoding");
    bool chunked = te != NULL && strcasestr(te, "chunked") != NULL;
    size_t max = (size_t)req->app->cfg->max_body_bytes;
    hp_buf b;
    char chunk[8192], perr[160];
    hp_err rc;
    int n;

    *out = NULL;
    if (declared > (long long)max) {
        api_send_error(req, HP_ERR_PAYLOAD_TOO_LARGE, NULL, NULL);
        return HP_ERR_PAYLOAD_TOO_LARGE;
    }
    if (declared <= 0 && !chunked) {
        if (!required)
            return HP_OK;
        hp_issues *is = hp_issues_new();
        hp_issues_add(is, hp_path_root(), "invalid_type", "Required");
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        hp_issues_free(is);
        return HP_ERR_INVALID_PAYLOAD;
    }
    if (!api__is_json_type(mg_get_header(req->conn, "Content-Type"))) {
        api_send_error(req, HP_ERR_UNSUPPORTED_MEDIA_TYPE, NULL, NULL);
        return HP_ERR_UNSUPPORTED_MEDIA_TYPE;
    }
    hp_buf_init(&b, max);
    while ((n = mg_read(req->conn, chunk, sizeof(chunk))) > 0) {
        if (hp_buf_append(&b, chunk, (size_t)n) != HP_OK) {
            hp_buf_free(&b);
            api_send_error(req, HP_ERR_PAYLOAD_TOO_LARGE, NULL, NULL);
            return HP_ERR_PAYLOAD_TOO_LARGE;
        }
    }
    if (b.len == 0 && !required) {
        hp_buf_free(&b);
        return HP_OK;
    }
    rc = hp_json_parse(b.data ? b.data : "", b.len, out, perr, sizeof(perr));
    hp_buf_free(&b);
    if (rc != HP_OK) {
        hp_issues *is = hp_issues_new();
        hp_issues_add(is, hp_path_root(), "invalid_json", "Malformed JSON: %s", perr);
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        hp_issues_free(is);
        return HP_ERR_INVALID_PAYLOAD;
    }
    hp_pool_defer(req->pool, api__json_put, *out);
    {
        /* A NUL in any string (metadata and callback.headers included)
         * could be neither kept whole nor stored. */
        hp_issues *is = hp_issues_new();
        bool clean = hp_valid_no_nul(is, hp_path_root(), *out);
        if (!clean)
            api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        hp_issues_free(is);
        if (!clean) {
            *out = NULL;
            return HP_ERR_INVALID_PAYLOAD;
        }
    }
    return HP_OK;
}

const char *api_query(hp_req *req, const char *name)
{
    const char *q = req->ri->query_string;
    char buf[1024];
    int n;

    if (q == NULL)
        return NULL;
    n = mg_get_var2(q, strlen(q), name, buf, sizeof(buf), 0);
    if (n < 0)
        return n == -1 ? NULL : hp_pool_strdup(req->pool, "\x01"); /* too long: invalid */
    return hp_pool_strdup(req->pool, buf);
}

bool api_query_seconds(hp_req *req, const char *name, long long cap, long long *out)
{
    const char *v = api_query(req, name);
    long long n;

    if (v == NULL)
        return true;
    if (!hp_parse_ll(v, 0, 1000000, &n)) {
        hp_issues *is = hp_issues_new();
        hp_issues_add(is, hp_path_key(hp_path_root(), name), "invalid_type",
                      "%s must be a whole number of seconds", name);
        api_send_issues(req, HP_ERR_INVALID_QUERY, is);
        hp_issues_free(is);
        return false;
    }
    *out = n < cap ? n : cap;
    return true;
}

/* ---- dispatch ------------------------------------------------------------- */

static void api__record(hp_req *req, int64_t ms)
{
    char route[160], labels[256];

    if (!hp_metrics_escape(req->route, route, sizeof(route)))
        hp_strlcpy(route, "unmatched", sizeof(route));
    (void)hp_fmt(labels, sizeof(labels), "route=\"%s\",method=\"%s\",status=\"%d\"", route,
                 req->ri->request_method[0]
                     ? (strlen(req->ri->request_method) < 10 ? req->ri->request_method : "OTHER")
                     : "OTHER",
                 req->status);
    hp_metrics_add(req->app->metrics, "holdpoint_http_requests_total", labels, 1);
    (void)hp_fmt(labels, sizeof(labels), "route=\"%s\",status=\"%d\"", route, req->status);
    hp_metrics_observe(req->app->metrics, "holdpoint_http_request_duration_seconds", labels,
                       (double)ms / 1000.0);
}

static void api__access_log(hp_req *req)
{
    json_object *f = json_object_new_object();
    int64_t ms = hp_time_mono_ms() - req->start_ms;

    api__record(req, ms);

    hp_json_set_str(f, "request_id", req->request_id);
    hp_json_set_str(f, "method", req->ri->request_method);
    hp_json_set_str(f, "route", req->route);
    json_object_object_add(f, "status", json_object_new_int(req->status));
    json_object_object_add(f, "duration_ms", json_object_new_int64(ms));
    if (req->auth.team_id)
        hp_json_set_str(f, "team_id", req->auth.team_id);
    if (req->auth.agent_id)
        hp_json_set_str(f, "agent_id", req->auth.agent_id);
    hp_log_fields(HP_LOG_INFO, "request", f);
    json_object_put(f);
}

/* Why the request's body framing is ambiguous (RFC 9112 6.3: a proxy and
 * this server could disagree on where the body ends, which smuggles a
 * request), or NULL when it is not. */
static const char *api__framing_problem(const struct mg_request_info *ri)
{
    const char *cl = NULL;
    bool te = false;

    for (int i = 0; i < ri->num_headers; i++) {
        const char *name = ri->http_headers[i].name, *value = ri->http_headers[i].value;
        if (strcasecmp(name, "Transfer-Encoding") == 0) {
            te = true;
        } else if (strcasecmp(name, "Content-Length") == 0) {
            if (cl != NULL && strcmp(cl, value) != 0)
                return "conflicting Content-Length headers";
            cl = value;
        }
    }
    if (te && cl != NULL)
        return "Content-Length together with Transfer-Encoding";
    return NULL;
}

int api_dispatch(struct mg_connection *conn, void *cbdata)
{
    hp_req req;
    const char *path, *rid;
    bool path_known = false;
    char allow[64] = "";

    memset(&req, 0, sizeof(req));
    req.conn = conn;
    req.ri = mg_get_request_info(conn);
    req.app = cbdata;
    req.pool = hp_pool_new();
    req.start_ms = hp_time_mono_ms();
    req.route = "unmatched";
    rid = mg_get_header(conn, "X-Request-Id");
    if (rid != NULL && api__request_id_ok(rid)) {
        hp_strlcpy(req.request_id, rid, sizeof(req.request_id));
    } else {
        char hex[33];
        unsigned char raw[16];
        hp_rand_id_bytes(raw, sizeof(raw));
        hp_hex_encode(raw, sizeof(raw), hex);
        (void)hp_fmt(req.request_id, sizeof(req.request_id), "req_%s", hex);
    }
    path = req.ri->local_uri_raw ? req.ri->local_uri_raw : req.ri->local_uri;
    if (hp_str_startswith(path, HP_ASK_BASE_PATH "/"))
        req.err_style = API_ERR_ENVELOPE;
    else if (strcmp(path, "/mcp") == 0 || strcmp(path, HP_MCP_SEED_PATH) == 0)
        req.err_style = API_ERR_JSONRPC;
    atomic_fetch_add(&req.app->inflight, 1);

    const char *framing = api__framing_problem(req.ri);
    if (framing != NULL) {
        static const char *const h[] = {"Connection", "close", NULL};
        req.route = "bad_framing";
        api_send_error_h(&req, HP_ERR_INVALID_REQUEST, framing, NULL, h);
    } else if (atomic_load(&req.app->draining) && strcmp(path, "/healthz") != 0) {
        /* Stopping: new work goes to another replica. */
        static const char *const h[] = {"Retry-After", "1", "Connection", "close", NULL};
        req.route = "draining";
        api_send_error_h(&req, HP_ERR_UNAVAILABLE, "this server is stopping; retry", NULL, h);
    }
    for (size_t i = 0; req.status == 0 && i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
        const char *param;
        if (!api__match(req.pool, api_routes[i].pattern, path, &param))
            continue;
        /* A parameterless route would also match a longer path's prefix only
         * by equality, so the first path match decides "known". */
        path_known = true;
        if (strcmp(api_routes[i].method, req.ri->request_method) == 0) {
            req.route = api_routes[i].pattern;
            req.param = param;
            api_routes[i].fn(&req);
            break;
        }
        if (strstr(allow, api_routes[i].method) == NULL) {
            size_t used = strlen(allow);
            (void)hp_fmt(allow + used, sizeof(allow) - used, "%s%s", used ? ", " : "",
                         api_routes[i].method);
        }
    }
    if (req.status == 0) {
        if (path_known && strcmp(req.route, "unmatched") == 0) {
            const char *h[] = {"Allow", allow, NULL};
            api_send_error_h(&req, HP_ERR_METHOD_NOT_ALLOWED, NULL, NULL, h);
        } else if (strcmp(req.route, "unmatched") == 0) {
            api_send_error(&req, HP_ERR_NOT_FOUND, "no such route", NULL);
        } else {
            hp_err_set(req.err, sizeof(req.err), "handler sent no response");
            api_send_failure(&req, HP_ERR_INTERNAL, NULL);
        }
    }
    api__access_log(&req);
    hp_pool_free(req.pool);
    atomic_fetch_sub(&req.app->inflight, 1);
    return req.status;
}
