/*
 * api.h: what the holdpoint-api modules share — the process-wide app state,
 * the per-request context, and the helpers every handler uses to read bodies
 * and query strings and to answer with JSON or with the error model of
 * SPEC section 3. Handlers are thin: parse, authenticate, call the model,
 * render.
 */
#ifndef HP_API_H
#define HP_API_H

#include <stdbool.h>
#include <stdint.h>

#include <civetweb.h>
#include <json-c/json.h>

#include "hp_approval.h"
#include "hp_approval_ops.h"
#include "hp_batch.h"
#include "hp_config.h"
#include "hp_cursor.h"
#include "hp_db.h"
#include "hp_keys.h"
#include "hp_err.h"
#include "hp_keymem.h"
#include "hp_metrics.h"
#include "hp_notif.h"
#include "hp_pool.h"
#include "hp_redis.h"
#include "hp_store_approval.h"
#include "hp_valid.h"
#include "api_wait.h"

/* app->keymem: slots (a key per slot) and how long an entry answers. Any
 * entry may be wrong at any time without harm (hp_keymem.h); the time to
 * live only bounds how long a key unused here stays in memory. */
#define API_KEYMEM_SLOTS  1024
#define API_KEYMEM_TTL_MS 60000

typedef struct hp_app {
    const hp_config *cfg;
    hp_db *db;
    hp_redis *redis; /* NULL when HOLDPOINT_REDIS_URL is unset */
    hp_approval_env env;
    /* Seals the rows of decisions' wake messages on Redis (hp_wake_key). */
    unsigned char wake_key[32];
    hp_waiters *waiters;
    /* API key lookups, one statement per batch (api_key_batch_run); those
     * that also read an approval by its request_id have their own. */
    hp_batch *key_batch, *key_row_batch;
    /* Keys that created approvals here lately, so that their next create
     * skips the lookup (api_auth_agent_create). */
    hp_keymem *keymem;
    hp_metrics *metrics;
    hp_urlpolicy *urlpolicy;       /* HOLDPOINT_OUTBOUND_ALLOW, for callback URLs */
    hp_urlpolicy *trusted_proxies; /* HOLDPOINT_TRUSTED_PROXIES (addresses only) */
    _Atomic int inflight;          /* requests inside api_dispatch */
    _Atomic int draining;          /* SIGTERM seen: refuse new requests with 503 */
} hp_app;

/* Who is calling, filled by the api_auth_* functions. */
typedef struct hp_auth {
    const char *team_id;
    const char *agent_id; /* agent routes */
    const char *key_id;
    /* Authenticated from app->keymem: until the create's statement or a
     * lookup confirms the key, nothing but that statement may answer. */
    bool key_unconfirmed;
    bool key_agent_scoped;
    bool test_mode;
    bool team_has_quota;
    int64_t team_agents_rev; /* hp_key_row.team_agents_rev */
    hp_agent_defaults defaults;
    const char *user_id; /* reviewer routes */
    const char *user_name;
    const char *user_role;
    const char *session_id;     /* web app session (cookie); NULL with a user token */
    const char *csrf_token;     /* that session's CSRF token */
    int64_t session_expires_at; /* µs */
} hp_auth;

/* How a surface shapes its error bodies (api_error_body). */
typedef enum {
    API_ERR_FLAT = 0, /* /v1: {"error": code, "message", "request_id", ...} (seeds 002/003) */
    API_ERR_ENVELOPE, /* Ask API: {"error": {"code", "message", "request_id", ...}} (seed 002) */
    API_ERR_JSONRPC,  /* /mcp: {"jsonrpc", "id": null, "error": {"code", "message", "data":
                         {"error": code, "request_id", ...}}} */
} api_err_style;

typedef struct hp_req {
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    hp_app *app;
    hp_pool *pool;
    char request_id[129];
    const char *route; /* route pattern, for logs and metrics */
    const char *param; /* the path parameter of the route, if any */
    int status;        /* set when the response is sent */
    int64_t start_ms;
    hp_dbconn *dbc; /* borrowed lazily by api_db, released with the pool */
    bool dbc_deferred;
    hp_auth auth;
    api_err_style err_style;  /* from the path's surface, set by api_dispatch */
    hp_waiter *waiter;        /* a place reserved by api_wait_reserve, ended with the pool */
    const char *wait_refusal; /* "team" or "key" after a refusal for a share */
    char err[HP_ERRBUF];      /* reason from lower layers, logged on 5xx */
    /* A surface that must answer every failure in its own format (the
     * Claude Code hook endpoint) sets capture_errors: api_send_error_h then
     * sends nothing and keeps the error here instead (status stays 0). */
    bool capture_errors;
    hp_err captured; /* HP_OK while nothing was captured */
    char captured_msg[HP_ERRBUF];
} hp_req;

/* Borrows a database connection for the rest of the request. On failure the
 * 503 has already been sent; the handler returns. */
HP_MUSTCHECK hp_err api_db(hp_req *req, hp_dbconn **out);

/* Gives the request's database connection back early (before waiting for a
 * human); a later api_db borrows again. */
void api_db_put(hp_req *req);

/* Reads and parses the JSON body, enforcing Content-Type and
 * HOLDPOINT_MAX_BODY_BYTES (413 from Content-Length before reading). When
 * required is false an empty body gives *out NULL. On failure the error
 * response has been sent. */
HP_MUSTCHECK hp_err api_read_json(hp_req *req, bool required, json_object **out);

/* Query parameter name (decoded) into the pool; NULL when absent. */
const char *api_query(hp_req *req, const char *name);

/* Starts the response (status line, Date, X-Request-Id) and records status;
 * every response begins here — never with mg_response_header_start, whose
 * own Date header races between threads. The caller adds its headers and
 * calls mg_response_header_send. */
void api_response_start(hp_req *req, int status);

/* A whole number of seconds in query parameter name (a wait), taken as cap
 * when larger; *out is left alone when the parameter is absent. Returns
 * false after sending 400 invalid_query when it is not a number. */
bool api_query_seconds(hp_req *req, const char *name, long long cap, long long *out);

/* Sends status with a JSON body (borrowed; the caller still owns it). */
void api_send_json(hp_req *req, int status, json_object *body);
/* The same with extra response headers (name, value pairs, NULL-ended). */
void api_send_json_h(hp_req *req, int status, json_object *body, const char *const *headers);
/* Sends status with no body (Content-Length: 0 unless 1xx, 204 or 304). */
void api_send_empty(hp_req *req, int status, const char *const *headers);
/* Sends a body as it is, with its content type and extra headers (the web
 * app's pages and assets). */
void api_send_raw(hp_req *req, int status, const char *ctype, const void *body, size_t len,
                  const char *const *headers);

/* The error body {"error", "message", "request_id"} for e (message NULL:
 * the table's default), with the members of extra (borrowed, may be NULL)
 * merged in over them, in the shape of req->err_style (the same members
 * inside seed 002's "error" envelope, or inside a JSON-RPC error's data).
 * Returns a new reference. Every error a client sees, SSE events included,
 * is built here. */
json_object *api_error_body(hp_req *req, hp_err e, const char *message, json_object *extra);

/* Sends api_error_body(req, e, message, extra) with e's status. */
void api_send_error(hp_req *req, hp_err e, const char *message, json_object *extra);

/* The same with extra response headers (name, value pairs, NULL-ended). */
void api_send_error_h(hp_req *req, hp_err e, const char *message, json_object *extra,
                      const char *const *headers);

/* 400 invalid_payload / invalid_query with the issues of is. */
void api_send_issues(hp_req *req, hp_err e, const hp_issues *is);

/* Sends the right response for an error from the model or store: 503 with
 * Retry-After for HP_ERR_UNAVAILABLE, 500 (logged with the reason) for
 * internal errors, else the code's own status. */
void api_send_failure(hp_req *req, hp_err e, const char *message);

/* Authentication; on failure the 401 has been sent. */
HP_MUSTCHECK hp_err api_auth_agent(hp_req *req);
/* api_auth_agent for a create, answered from app->keymem when the key is
 * remembered there (req->auth.key_unconfirmed): the create's statement then
 * checks the key again, and any answer sent before it confirms the key
 * with a lookup first (api_auth_confirm, called by api_send_error_h). */
HP_MUSTCHECK hp_err api_auth_agent_create(hp_req *req);
/* When req->auth.key_unconfirmed: looks the key up, remembering the new
 * answer, and fills req->auth again; on failure its 401 (or 503) has been
 * sent. HP_OK at once otherwise. */
HP_MUSTCHECK hp_err api_auth_confirm(hp_req *req);
/* The work of app->key_batch and key_row_batch (hp_batch_fn, ctx the
 * hp_db pool): the API key lookups of concurrent requests in one
 * statement. */
void api_key_batch_run(void *ctx, void **items, int n);
HP_MUSTCHECK hp_err api_auth_team(hp_req *req);
/* api_auth_agent and, in the same round trip, the agent's approval with
 * external id request_id into *row (*found false when it has none). Unlike
 * the other forms it leaves req->dbc unset: a caller that goes on to the
 * database takes a connection with api_db. */
HP_MUSTCHECK hp_err api_auth_agent_approval(hp_req *req, const char *request_id,
                                            hp_approval_row *row, bool *found);
HP_MUSTCHECK hp_err api_auth_user(hp_req *req);
/* For a route whose own statement checks the user token (the decision):
 * with Authorization: Bearer, the token's public prefix and SHA-256 and
 * *by_token; a Bearer that is not a user token gets its 401 here. Without
 * a Bearer, HP_OK and !*by_token: use api_auth_user (the session cookie). */
HP_MUSTCHECK hp_err api_auth_user_token_form(hp_req *req, char prefix[HP_KEY_PREFIX_LEN + 1],
                                             unsigned char hash[32], bool *by_token);
/* api_auth_user for an owner or admin (the settings); everyone else gets the
 * unknown route's 404, so the settings do not even show that they exist.
 * false when the answer has been sent. */
bool api_auth_admin(hp_req *req);
/* The web app's session cookie only (sign-out, password change). */
HP_MUSTCHECK hp_err api_auth_session(hp_req *req);

/* The session cookie's name and the longest secret it may carry. */
#define API_SESSION_COOKIE     "hp_session"
#define API_SESSION_SECRET_MAX 128

/* The CSRF token of the session whose cookie secret is secret: 64 hex
 * characters. Pure. */
void api_session_csrf(const char *secret, char out[65]);

/* The client's address: the peer, or with HOLDPOINT_TRUST_FORWARDED_FOR the
 * last X-Forwarded-For entry (pool memory). */
const char *api_client_addr(hp_req *req);

/* Seed 004 projects (api_project.c). api_project_select: the agent of the
 * key or X-Agent-Id, else project_id / project from body (may be NULL) or
 * the query string; *selected false when nothing names one; 404 sent when
 * the named project is not the team's. api_project_require: the same, and
 * 400 when nothing names one. api_auth_project: api_auth_team, then
 * api_project_require without a body. On failure the response was sent. */
HP_MUSTCHECK hp_err api_project_select(hp_req *req, json_object *body, bool *selected);
HP_MUSTCHECK hp_err api_project_require(hp_req *req, json_object *body);
HP_MUSTCHECK hp_err api_auth_project(hp_req *req);

/* One agent (hp_store_agents_list's row) as GET /v1/agents lists it. New
 * reference. */
struct hp_agent_row;
json_object *api_agent_json(const struct hp_agent_row *a);

/* Query helpers: limit 1..100 (default 50) and true/false flags; false
 * after adding an issue (the caller sends 400 invalid_query). */
bool api_query_limit(hp_req *req, hp_issues *is, int *limit);
bool api_query_bool(hp_req *req, hp_issues *is, const char *name, bool *out);

/* Keyset cursors over a text key: "<µs>.<hex of key>" (pool memory). */
void api_text_cursor_encode(int64_t created_at, const char *key, hp_pool *pool, char **out);
bool api_text_cursor_decode(const char *s, hp_pool *pool, int64_t *created_at, const char **key);

/* Creates the approval *in for the authenticated agent: the create rate
 * limit, the team's quota, the insert (race-safe and idempotent by
 * request_id); answers 429, 403 USAGE_APPROVAL_LIMIT or 5xx itself and
 * returns false then. On true *res holds the row (or the idempotent match
 * or conflict it found), and live inboxes on every replica have been told of
 * a new approval. body is the create's JSON that *in was parsed from with
 * req->auth.defaults, or NULL when the key was looked up (not taken from
 * the replica's memory): a create from memory whose agent's defaults have
 * changed since is parsed again into *in with the new ones. */
bool api_approval_create(hp_req *req, hp_approval_input *in, json_object *body,
                         hp_create_result *res);

/* The Ask API's pieces that MCP shares (api_ask.c). api_ask_find reads the
 * calling agent's question (an approval with source "ask") by correlation
 * id: HP_OK, HP_ERR_NOT_FOUND (nothing sent), or another error after the
 * failure response was sent. api_ask_cancel_row cancels it unless closed:
 * HP_OK (also when it was cancelled already; *row is the new state),
 * HP_ERR_ALREADY_RESOLVED (answered or expired; *row re-read, nothing sent),
 * or another error after the response was sent. api_ask_poll_url: the
 * question's absolute pollUrl (pool memory). */
HP_MUSTCHECK hp_err api_ask_find(hp_req *req, const char *correlation_id, hp_approval_row *row);
HP_MUSTCHECK hp_err api_ask_cancel_row(hp_req *req, hp_approval_row *row);
char *api_ask_poll_url(hp_req *req, const hp_approval_row *row);
void api_ask_send_state(hp_req *req, const hp_approval_row *row, bool timed_out);
/* Stores the notification *in for the calling agent and tells live reviewer
 * views; *m is the stored message. On failure the response has been sent. */
HP_MUSTCHECK hp_err api_ask_send_message(hp_req *req, const hp_notif_message_input *in,
                                         hp_notif_message *m);

/* Route handlers. */
void api_approvals_create(hp_req *req);
void api_approvals_list(hp_req *req);
void api_approvals_get(hp_req *req);
void api_approvals_result(hp_req *req);
void api_approvals_cancel(hp_req *req);
void api_approvals_audit(hp_req *req);
void api_review_list(hp_req *req);
void api_review_get(hp_req *req);
void api_review_resolve(hp_req *req);
void api_review_audit(hp_req *req);
void api_review_agents(hp_req *req);
void api_review_stream(hp_req *req);
/* Notification settings (api_channels.c): the team's channels and an
 * agent's routing, reminders and escalation; owners and admins. */
void api_settings_channels_list(hp_req *req);
void api_settings_channels_create(hp_req *req);
void api_settings_channel_test(hp_req *req);
void api_settings_channel_remove(hp_req *req);
void api_settings_agent_notify_get(hp_req *req);
void api_settings_agent_notify_put(hp_req *req);
/* Deciding from notifications (api_links.c): signed decision links and
 * Slack's interactive buttons. */
void api_link_get(hp_req *req);
void api_link_post(hp_req *req);
void api_slack_interactions(hp_req *req);
/* Web Push subscriptions and the VAPID public key (api_push.c). */
void api_push_key(hp_req *req);
void api_push_subscribe(hp_req *req);
void api_push_list(hp_req *req);
void api_push_unsubscribe(hp_req *req);
void api_agents_list(hp_req *req);
void api_agents_update(hp_req *req);
void api_session_create(hp_req *req);
void api_session_get(hp_req *req);
void api_session_delete(hp_req *req);
void api_session_password(hp_req *req);
void api_sessions_create(hp_req *req);
void api_sessions_list(hp_req *req);
void api_sessions_get(hp_req *req);
void api_sessions_tree(hp_req *req);
void api_sessions_end(hp_req *req);
void api_messages_create(hp_req *req);
void api_review_messages_list(hp_req *req);
void api_review_messages_get(hp_req *req);
void api_sessions_responses(hp_req *req);
void api_inbox_list(hp_req *req);
void api_inbox_stream(hp_req *req);
void api_inbox_ack(hp_req *req);
void api_actions_record(hp_req *req);
void api_simulate_decision(hp_req *req);
/* POST /v1/hooks/claude-code (api_hooks.c): a Claude Code HTTP hook; always
 * answers 200 with the decision, or the default verdict on any failure. */
void api_hooks_claude_code(hp_req *req);
void api_ask_send(hp_req *req);
void api_ask_create(hp_req *req);
void api_ask_get(hp_req *req);
void api_ask_delete(hp_req *req);
void api_settings_agents_list(hp_req *req);
void api_settings_agents_create(hp_req *req);
void api_settings_agent_update(hp_req *req);
void api_settings_keys_list(hp_req *req);
void api_settings_keys_create(hp_req *req);
void api_settings_key_regenerate(hp_req *req);
void api_settings_key_revoke(hp_req *req);
void api_settings_members_list(hp_req *req);
void api_settings_members_create(hp_req *req);
void api_settings_member_update(hp_req *req);
void api_settings_member_remove(hp_req *req);
void api_settings_quota_get(hp_req *req);
void api_settings_quota_set(hp_req *req);
void api_web_shell(hp_req *req);
void api_web_asset(hp_req *req);
/* The service worker at /app/sw.js and the PWA manifest
 * (/app/manifest.webmanifest). */
void api_web_sw(hp_req *req);
void api_web_manifest(hp_req *req);
void api_mcp_post(hp_req *req);
void api_mcp_delete(hp_req *req);
void api_healthz(hp_req *req);
void api_readyz(hp_req *req);
void api_metrics(hp_req *req);

/* Declares the API's metric families on app->metrics. */
void api_metrics_init(hp_app *app);

/* Waiting (api_stream.c). api_wants_sse: the client sent Accept:
 * text/event-stream.
 *
 * api_wait_reserve: takes a waiting place for the caller (its team's and
 * credential's share, see api_wait.h) before a handler creates what it will
 * wait for, so a refusal changes nothing. On failure the 429
 * wait_share_exceeded or 503 has been sent and the handler returns. The
 * place is used by the next api_wait_and_answer, or given back with the
 * request.
 *
 * api_wait_and_answer: row is the caller's approval (read within this
 * request); waits up to wait_s seconds for it to leave pending without
 * holding a database connection, then answers the result body — or, with
 * sse, streams "pending" then "decided" events. Without a reserved place it
 * takes one first (a refusal is answered 429 or 503 before anything else is
 * sent). While it waits, pool memory of the request stays valid. */
bool api_wants_sse(hp_req *req);
HP_MUSTCHECK hp_err api_wait_reserve(hp_req *req, bool sse);

/* Sends the refusal of a wait whose place could not be had (rc from
 * api_wait_begin or api_wait_until): 429 wait_share_exceeded with scope,
 * limit and Retry-After, or 503 service_unavailable. */
void api_wait_refuse(hp_req *req, hp_err rc);

/* Takes a waiting place for the caller and registers it under key (see
 * hp_waiter_begin; the owner is the caller's team and credential): for
 * waits on other keys than an approval ("agent:<id>", "team:<id>"). stream:
 * an event stream, which notices a departed client by writing, so no socket
 * lookup. On refusal the 429 wait_share_exceeded or 503 has been sent; the
 * handler returns. The caller ends *out with hp_waiter_end. */
HP_MUSTCHECK hp_err api_waiter_begin(hp_req *req, const char *key, bool stream, hp_waiter **out);
void api_wait_and_answer(hp_req *req, const hp_approval_row *row, int wait_s, bool sse,
                         json_object *created_event);

/* The general wait behind api_wait_and_answer: waits until spec->deadline_ms
 * (monotonic); with sse, streams first_event (named first_name) before
 * waiting. expire_due closes the approval as expired when its own deadline
 * passes during the wait (seed 004: the answer is the timeout default at the
 * deadline whatever the expiry worker's lag); auto_ack acknowledges the
 * decision's action response when the answer is the decision (seed 004's
 * block). Sends the answer. */
typedef struct api_wait_spec {
    int64_t deadline_ms;
    bool sse;
    json_object *first_event;
    const char *first_name;
    bool expire_due;
    bool auto_ack;
} api_wait_spec;
void api_wait_run(hp_req *req, const hp_approval_row *row, const api_wait_spec *spec);

/* hp_approval_env.decided_fn (ctx: the hp_waiters): answers this process's
 * long-polls of the approval just decided from r, the deciding statement's
 * result (taken over), before any wake message arrives. */
void api_answer_decided(void *ctx, const char *team_id, const char *approval_id, PGresult *r);

/* hp_waiters_config.row_message: the row a decision's wake message
 * carries (from any replica's decision, by NOTIFY) answers this process's
 * long-polls of it as api_answer_decided does. */
bool api_wake_row(hp_waiters *w, const char *row);

/* Server-Sent Events (api_stream.c): api_sse_begin sends the 200 head of a
 * stream; api_sse_send writes one event (with an id line when id is not
 * NULL); api_sse_raw writes text as is (comments, retry lines). The writers
 * return false once the client is gone. */
void api_sse_begin(hp_req *req);
bool api_sse_send(hp_req *req, const char *event, const char *id, json_object *data);
bool api_sse_raw(hp_req *req, const char *text);

/* The steps of a wait, for surfaces that render their own answers (the Ask
 * API, MCP): begin takes the place reserved by api_wait_reserve (or takes
 * one now), gives the database connection back and registers a waiter on
 * row's approval for wait_s seconds — on refusal nothing was sent and the
 * caller renders it (api_wait_refuse for the standard answer; reserve
 * before creating what will be waited for, so a refusal creates nothing);
 * decided re-reads *row and sleeps until it leaves
 * pending or the deadline, re-reading after each wake, and calls tick (when
 * not NULL) every tick_ms while it sleeps — tick returns false when the
 * client is gone; end gives the place back (the re-read *row stays valid
 * until the request ends). */
typedef struct api_waiting {
    hp_req *req;
    hp_waiter *wt;
    int64_t deadline_ms; /* monotonic */
    hp_pool *pool;       /* the latest re-read of the row */
} api_waiting;

typedef enum {
    API_WAITED = 0,    /* decided, or the deadline passed: see row->status */
    API_WAIT_GONE,     /* the client hung up */
    API_WAIT_STOPPING, /* the process is stopping */
    API_WAIT_ANSWERED, /* a peer sent the answer (api_wait_and_answer only) */
} api_wait_outcome;

HP_MUSTCHECK hp_err api_wait_begin(hp_req *req, const hp_approval_row *row, int wait_s,
                                   api_waiting *w);
api_wait_outcome api_wait_decided(hp_req *req, api_waiting *w, hp_approval_row *row, int tick_ms,
                                  bool (*tick)(hp_req *req, void *ctx), void *ctx);
void api_wait_end(api_waiting *w);
/* Sends 200 {"items": items}; takes the reference to items (an array). */
void api_send_items(hp_req *req, json_object *items);

/* Sends the audit trail of row (read within this request, whose database
 * connection is still held): {"approval_id", "request_id", "events"}. */
void api_audit_send(hp_req *req, const hp_approval_row *row);

/* The wait of api_wait_run without an answer, for surfaces that render
 * their own (POST /v1/hooks/claude-code): *out is the approval as it ended
 * (still pending when spec->deadline_ms came first or the process is
 * stopping), *outcome how the wait ended. Sends nothing;
 * HP_ERR_UNAVAILABLE when no waiter can be had. */
HP_MUSTCHECK hp_err api_wait_until(hp_req *req, const hp_approval_row *row,
                                   const api_wait_spec *spec, hp_approval_row *out,
                                   api_wait_outcome *outcome);

/* Reads the list query shared by the agent list and the reviewer inbox
 * (status, session_id, created_after, created_before, limit, cursor) into f.
 * Returns false after sending 400 invalid_query. all_ok allows status=all. */
bool api_list_query(hp_req *req, hp_approval_filter *f, const char *default_status, bool all_ok);

/* Runs the list query and sends {"items": [...], "next_cursor"?}. */
void api_list_send(hp_req *req, const hp_approval_filter *f,
                   json_object *(*render)(const hp_approval_row *));

/* The civetweb request handler (registered for "/"). */
int api_dispatch(struct mg_connection *conn, void *cbdata);

#endif
