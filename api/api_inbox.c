/*
 * api_inbox: seed 004's action responses. A reviewer records a button tap or
 * a text reply with POST /v1/actions (a user token); a test harness injects
 * one with POST /v1/test/simulate-decision (a test-mode key). The agent
 * reads its project's inbox with GET /v1/action-responses (and the session's
 * with GET /v1/sessions/{id}/responses), streams it with
 * GET /v1/action-responses/stream, and acknowledges each response.
 *
 * Order and cursors: responses are read in their agent's sequence order
 * (hp_inbox.h); a cursor is the id of the last response read, so it never
 * drops or repeats responses that share a timestamp. The stream waits on the
 * waiter key "agent:<id>", which every recorded response wakes on every
 * replica (NOTIFY in its transaction, Redis after commit).
 */
#include <string.h>

#include "api.h"
#include "hp_approval_ops.h"
#include "hp_crypto.h"
#include "hp_inbox.h"
#include "hp_json.h"
#include "hp_notif.h"
#include "hp_store_approval.h"
#include "hp_store_inbox.h"
#include "hp_store_notif.h"
#include "hp_str.h"
#include "hp_time.h"

/* Responses read per round trip by the stream. */
#define API_STREAM_PAGE 100

/* Wakes the agent's inbox streams on other replicas (NOTIFY already
 * travelled with the commit). */
static void api__publish_agent(hp_req *req, const char *agent_id)
{
    char msg[64];
    (void)hp_fmt(msg, sizeof(msg), "agent:%s", agent_id);
    hp_waiters_publish_msg(req->app->redis, msg);
}

static void api__uuid_param(hp_req *req, hp_issues *is, const char *name, const char **out)
{
    const char *v = api_query(req, name);
    if (v == NULL)
        return;
    if (!hp_uuid_valid(v))
        hp_issues_add(is, hp_path_key(hp_path_root(), name), "invalid_string", "Invalid uuid");
    *out = v;
}

static void api__time_param(hp_req *req, hp_issues *is, const char *name, int64_t *out)
{
    const char *v = api_query(req, name);
    if (v != NULL && !hp_time_parse_rfc3339(v, out))
        hp_issues_add(is, hp_path_key(hp_path_root(), name), "invalid_string", "Invalid datetime");
}

/* Reads the inbox filters of seed 004 from the query string into f (the
 * project is req's); the cursor comes from cursor_text when not NULL (the
 * stream's Last-Event-ID), else the cursor parameter. On a bad value sends
 * 400 invalid_query and returns false. */
static bool api__inbox_query(hp_req *req, hp_inbox_filter *f, const char *cursor_text)
{
    hp_issues *is = hp_issues_new();
    hp_path root = hp_path_root();
    const char *v, *cursor = cursor_text ? cursor_text : api_query(req, "cursor");
    bool ok;

    memset(f, 0, sizeof(*f));
    f->agent_id = req->auth.agent_id;
    f->after = f->decided_after = -1;
    f->unacked_only = true;
    (void)api_query_limit(req, is, &f->limit);
    (void)api_query_bool(req, is, "unacked_only", &f->unacked_only);
    if ((v = api_query(req, "session_id")) != NULL)
        f->session_id = v;
    api__uuid_param(req, is, "notification_id", &f->notification_id);
    api__uuid_param(req, is, "parent_id", &f->parent_id);
    api__uuid_param(req, is, "approval_id", &f->approval_id);
    if ((v = api_query(req, "kind")) != NULL) {
        if (strcmp(v, "button") != 0 && strcmp(v, "reply") != 0)
            hp_issues_add(is, hp_path_key(root, "kind"), "invalid_enum_value",
                          "Invalid enum value. Expected 'button' | 'reply', received '%s'", v);
        f->kind = v;
    }
    if ((v = api_query(req, "client_event_id")) != NULL)
        f->client_event_id = v;
    if ((v = api_query(req, "decision_key")) != NULL)
        f->decision_key = v;
    api__time_param(req, is, "after", &f->after);
    api__time_param(req, is, "decided_after", &f->decided_after);
    if (cursor != NULL && hp_issues_count(is) == 0) {
        bool found = false;
        hp_dbconn *c;
        if (api_db(req, &c) != HP_OK) {
            hp_issues_free(is);
            return false;
        }
        if (hp_store_inbox_seq_of(c, f->agent_id, cursor, &f->after_seq, &found, req->err,
                                  sizeof(req->err)) != HP_OK) {
            api_send_failure(req, HP_ERR_UNAVAILABLE, NULL);
            hp_issues_free(is);
            return false;
        }
        if (!found)
            hp_issues_add(is, hp_path_key(root, cursor_text ? "Last-Event-ID" : "cursor"), "custom",
                          "Invalid cursor: not a response of this project");
    }
    ok = hp_issues_count(is) == 0;
    if (!ok)
        api_send_issues(req, HP_ERR_INVALID_QUERY, is);
    hp_issues_free(is);
    return ok;
}

static void api__inbox_send(hp_req *req, const hp_inbox_filter *f)
{
    hp_inbox_response *rows;
    json_object *o, *items;
    int n = 0;
    hp_err rc;

    rc = hp_store_inbox_list(req->dbc, req->pool, f, &rows, &n, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    o = json_object_new_object();
    items = json_object_new_array();
    for (int i = 0; i < n && i < f->limit; i++)
        json_object_array_add(items, hp_inbox_response_json(&rows[i]));
    json_object_object_add(o, "items", items);
    if (n > f->limit)
        hp_json_set_str(o, "next_cursor", rows[f->limit - 1].id);
    api_send_json(req, 200, o);
    json_object_put(o);
}

void api_inbox_list(hp_req *req)
{
    hp_inbox_filter f;
    hp_dbconn *c;

    if (api_auth_project(req) != HP_OK || !api__inbox_query(req, &f, NULL) ||
        api_db(req, &c) != HP_OK)
        return;
    api__inbox_send(req, &f);
}

void api_sessions_responses(hp_req *req)
{
    hp_inbox_filter f;
    hp_notif_session s;
    hp_dbconn *c;
    bool found = false;

    if (api_auth_project(req) != HP_OK || api_db(req, &c) != HP_OK)
        return;
    if (hp_notif_session_id_ok(req->param) &&
        hp_store_notif_session_get(c, req->pool, req->auth.agent_id, req->param, &s, &found,
                                   req->err, sizeof(req->err)) != HP_OK) {
        api_send_failure(req, HP_ERR_UNAVAILABLE, NULL);
        return;
    }
    if (!found) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such session in this project", NULL);
        return;
    }
    if (!api__inbox_query(req, &f, NULL))
        return;
    f.session_id = s.id; /* the path's session, whatever the query says */
    api__inbox_send(req, &f);
}

/* ---- the stream ------------------------------------------------------------- */

/* Sends every response after f->after_seq (moving it on); false when the
 * client is gone. A database failure sends nothing and leaves the cursor,
 * so the next wake or heartbeat retries. */
static bool api__stream_flush(hp_req *req, hp_inbox_filter *f)
{
    for (;;) {
        hp_pool *pool = hp_pool_new();
        hp_inbox_response *rows;
        hp_dbconn *c = NULL;
        int n = 0;
        bool ok = true;

        if (hp_db_acquire(req->app->db, &c, req->err, sizeof(req->err)) != HP_OK ||
            hp_store_inbox_list(c, pool, f, &rows, &n, req->err, sizeof(req->err)) != HP_OK)
            n = -1;
        hp_db_release(req->app->db, c);
        for (int i = 0; ok && i < n && i < f->limit; i++) {
            json_object *o = hp_inbox_response_json(&rows[i]);
            ok = api_sse_send(req, "action_response", rows[i].id, o);
            json_object_put(o);
            f->after_seq = rows[i].seq;
        }
        hp_pool_free(pool);
        if (!ok)
            return false;
        if (n <= f->limit) /* the last page (or a failure) */
            return true;
    }
}

void api_inbox_stream(hp_req *req)
{
    hp_inbox_filter f;
    hp_waiter *wt = NULL;
    const char *last = mg_get_header(req->conn, "Last-Event-ID");
    char key[HP_WAIT_KEY_MAX];
    int64_t deadline, beat_ms = (int64_t)req->app->cfg->sse_heartbeat_seconds * 1000;
    hp_wait_result r = HP_WAIT_WOKEN;

    if (last != NULL && last[0] == '\0')
        last = NULL;
    if (api_auth_project(req) != HP_OK || !api__inbox_query(req, &f, last))
        return;
    f.limit = API_STREAM_PAGE;
    api_db_put(req); /* hold nothing while waiting */
    (void)hp_fmt(key, sizeof(key), "agent:%s", req->auth.agent_id);
    /* Registered before the first read: a response committed meanwhile
     * wakes this waiter, so nothing falls between the read and the wait. */
    if (api_waiter_begin(req, key, true, &wt) != HP_OK)
        return;
    api_sse_begin(req);
    deadline = hp_time_mono_ms() + (int64_t)req->app->cfg->max_wait_seconds * 1000;
    if (!api_sse_raw(req, "retry: 1000\n\n"))
        r = HP_WAIT_GONE;
    while (r != HP_WAIT_GONE && r != HP_WAIT_SHUTDOWN) {
        int64_t now, until;

        if (r == HP_WAIT_WOKEN && !api__stream_flush(req, &f))
            break;
        now = hp_time_mono_ms();
        if (now >= deadline)
            break;
        until = now + beat_ms < deadline ? now + beat_ms : deadline;
        r = hp_waiter_wait(wt, until);
        if (r == HP_WAIT_TIMEOUT) {
            /* A heartbeat also retries a read that failed. */
            if (hp_time_mono_ms() < deadline && !api_sse_raw(req, ": heartbeat\n\n"))
                break;
            r = HP_WAIT_WOKEN;
        }
    }
    hp_waiter_end(wt);
    /* The stream ends after HOLDPOINT_MAX_WAIT_SECONDS (or at shutdown); the
     * client reconnects with Last-Event-ID and loses nothing. */
    (void)api_sse_raw(req, ": stream ends; reconnect with Last-Event-ID\n\n");
}

/* ---- acknowledgement ------------------------------------------------------------ */

void api_inbox_ack(hp_req *req)
{
    hp_inbox_response out;
    hp_issues *is;
    json_object *body, *o;
    const char *status;
    char error[HP_INBOX_ACK_ERROR_KEEP * 4 + 8];
    bool changed = false;
    hp_dbconn *c;
    hp_err rc;

    if (api_auth_team(req) != HP_OK || api_read_json(req, false, &body) != HP_OK ||
        api_project_require(req, body) != HP_OK)
        return;
    is = hp_issues_new();
    if (!hp_inbox_ack_parse(body, &status, error, sizeof(error), is)) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        goto out;
    }
    if (api_db(req, &c) != HP_OK)
        goto out;
    rc = hp_inbox_ack(c, req->pool, req->auth.agent_id, req->param, status, error, &out, &changed,
                      req->err, sizeof(req->err));
    if (rc == HP_ERR_NOT_FOUND) {
        api_send_error(req, rc, "no such action response in this project", NULL);
        goto out;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    o = hp_inbox_response_json(&out);
    api_send_json(req, 200, o);
    json_object_put(o);
out:
    hp_issues_free(is);
}

/* ---- recording: POST /v1/actions and simulate-decision --------------------------- */

/* What was tapped or typed, from either route. */
typedef struct api_action {
    const char *notification_id;
    bool reply;                /* a text reply, else a button */
    int button_index;          /* -1 = find it by decision_key */
    const char *decision_key;  /* simulate: an option value/label or a button label */
    const char *response_text; /* replies */
    const char *client_event_id;
    const char *device;
    int64_t decided_at; /* µs, -1 = now */
    const char *user_id, *user_name;
    const char *actor_type, *actor_id;
} api_action;

static int api__match_label(json_object *labels, const char *key, bool options)
{
    size_t n = labels ? json_object_array_length(labels) : 0;

    for (size_t i = 0; options && i < n; i++) /* an option's value first */
    {
        const char *value = hp_json_str(json_object_array_get_idx(labels, i), "value");
        if (value != NULL && strcmp(value, key) == 0)
            return (int)i;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *x = json_object_array_get_idx(labels, i);
        const char *label = options ? hp_json_str(x, "label") : json_object_get_string(x);
        if (label != NULL && hp_streq_ci(label, key))
            return (int)i;
    }
    return -1;
}

/* Sends the 200 answer: the response with "idempotent". */
static void api__action_answer(hp_req *req, const hp_inbox_response *resp, bool idempotent)
{
    json_object *o = hp_inbox_response_json(resp);
    json_object_object_add(o, "idempotent", json_object_new_boolean(idempotent));
    api_send_json(req, 200, o);
    json_object_put(o);
}

/* An earlier action with the same client_event_id answers again. */
static bool api__action_repeat(hp_req *req, hp_dbconn *c, const char *agent_id, const api_action *a)
{
    hp_inbox_response prev;
    bool found = false;

    if (a->client_event_id == NULL)
        return false;
    if (hp_store_inbox_by_event(c, req->pool, agent_id, a->client_event_id, &prev, &found, req->err,
                                sizeof(req->err)) != HP_OK) {
        api_send_failure(req, HP_ERR_UNAVAILABLE, NULL);
        return true;
    }
    if (found)
        api__action_answer(req, &prev, true);
    return found;
}

static void api__bad(hp_req *req, const char *field, const char *code, const char *msg)
{
    hp_issues *is = hp_issues_new();
    hp_issues_add(is, hp_path_key(hp_path_root(), field), code, "%s", msg);
    api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
    hp_issues_free(is);
}

static void api__act_on_message(hp_req *req, hp_dbconn *c, const hp_notif_message *m, api_action *a)
{
    hp_inbox_env env = {.webhook_max_attempts = req->app->cfg->callback_max_attempts};
    hp_inbox_record rec;
    hp_inbox_response resp;
    size_t nb = json_object_array_length(m->buttons);
    hp_err rc;

    memset(&rec, 0, sizeof(rec));
    rec.button_index = -1;
    if (a->reply) {
        if (!m->allow_reply) {
            api__bad(req, "action", "custom", "this message does not accept a text reply");
            return;
        }
        rec.kind = "reply";
        rec.action = "text_reply";
        rec.response_text = a->response_text;
    } else {
        if (a->button_index < 0 && a->decision_key != NULL)
            a->button_index = api__match_label(m->buttons, a->decision_key, false);
        if (a->button_index < 0 || (size_t)a->button_index >= nb) {
            api__bad(req, a->decision_key ? "decision_key" : "button_index", "custom",
                     nb ? "no button of this message has this index or label"
                        : "this message has no buttons");
            return;
        }
        rec.kind = "button";
        rec.action = "button_pressed";
        rec.button_index = a->button_index;
        rec.button_label =
            json_object_get_string(json_object_array_get_idx(m->buttons, (size_t)a->button_index));
        rec.decision_key = a->decision_key;
    }
    rec.team_id = m->team_id;
    rec.agent_id = m->agent_id;
    rec.session_id = m->session_id;
    rec.notification_id = m->id;
    rec.parent_id = m->parent_id;
    rec.client_event_id = a->client_event_id;
    rec.notification_client_event_id = m->client_event_id;
    rec.user_id = a->user_id;
    rec.user_name = a->user_name;
    rec.device = a->device;
    rec.notification_title = m->title;
    rec.notification_message = m->message;
    rec.decided_at = a->decided_at;
    rc = hp_inbox_record_add(c, req->pool, &env, &rec, true, &resp, req->err, sizeof(req->err));
    if (rc == HP_ERR_CONFLICT && api__action_repeat(req, c, m->agent_id, a))
        return; /* a concurrent repeat won */
    if (rc != HP_OK) {
        api_send_failure(req, rc == HP_ERR_CONFLICT ? HP_ERR_INTERNAL : rc, NULL);
        return;
    }
    api__publish_agent(req, m->agent_id);
    api__action_answer(req, &resp, false);
}

static void api__act_on_approval(hp_req *req, hp_dbconn *c, const hp_approval_row *ap,
                                 api_action *a)
{
    hp_inbox_response resp;
    hp_decision d = {.option_index = -1, .response = &resp};
    hp_approval_row out;
    hp_err rc;

    if (a->reply) {
        d.kind = HP_DECIDE_CUSTOM;
        d.custom_instruction = a->response_text;
    } else {
        if (a->button_index < 0 && a->decision_key != NULL)
            a->button_index = api__match_label(ap->options, a->decision_key, true);
        if (a->button_index < 0 ||
            (size_t)a->button_index >= json_object_array_length(ap->options)) {
            api__bad(req, a->decision_key ? "decision_key" : "button_index", "custom",
                     "no decision of this approval has this index or key");
            return;
        }
        d.kind = HP_DECIDE_OPTION;
        d.option_index = a->button_index;
    }
    d.user_id = a->user_id;
    d.user_name = a->user_name;
    d.actor_type = a->actor_type;
    d.actor_id = a->actor_id;
    d.client_event_id = a->client_event_id;
    d.device = a->device;
    rc = hp_approval_decide(c, req->pool, &req->app->env, ap->team_id, ap->id, &d, &out, req->err,
                            sizeof(req->err));
    if ((rc == HP_ERR_CONFLICT || rc == HP_ERR_ALREADY_RESOLVED) &&
        api__action_repeat(req, c, ap->agent_id, a))
        return; /* this very action was recorded before */
    if (rc == HP_ERR_ALREADY_RESOLVED) {
        api_send_error(req, rc, "the approval was already decided, cancelled or expired", NULL);
        return;
    }
    if (rc == HP_ERR_INVALID_PAYLOAD) {
        api__bad(req, a->reply ? "response_text" : "button_index", "custom", req->err);
        return;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc == HP_ERR_CONFLICT ? HP_ERR_INTERNAL : rc, NULL);
        return;
    }
    /* The same statement recorded the response (a button in range or a
     * reply always makes one). */
    if (resp.id == NULL) {
        hp_err_set(req->err, sizeof(req->err), "decision recorded without its response");
        api_send_failure(req, HP_ERR_INTERNAL, NULL);
        return;
    }
    api__action_answer(req, &resp, false);
}

/* Finds the notification (a message, else an approval) of the team — and
 * of agent_id when not NULL — and records a on it. */
static void api__act(hp_req *req, const char *agent_id, api_action *a)
{
    hp_notif_message m;
    hp_approval_row ap;
    hp_dbconn *c;
    bool found = false;

    if (api_db(req, &c) != HP_OK)
        return;
    if (hp_store_notif_message_get(c, req->pool, req->auth.team_id, agent_id, a->notification_id,
                                   &m, &found, req->err, sizeof(req->err)) != HP_OK) {
        api_send_failure(req, HP_ERR_UNAVAILABLE, NULL);
        return;
    }
    if (found) {
        if (!api__action_repeat(req, c, m.agent_id, a))
            api__act_on_message(req, c, &m, a);
        return;
    }
    if (hp_store_approval_by_id(c, req->pool, req->auth.team_id, a->notification_id, &ap, &found,
                                req->err, sizeof(req->err)) != HP_OK) {
        api_send_failure(req, HP_ERR_UNAVAILABLE, NULL);
        return;
    }
    if (!found || (agent_id != NULL && strcmp(ap.agent_id, agent_id) != 0)) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such notification", NULL);
        return;
    }
    if (!api__action_repeat(req, c, ap.agent_id, a))
        api__act_on_approval(req, c, &ap, a);
}

/* The members both recording routes share. */
static void api__action_common(hp_issues *is, json_object *body, api_action *a)
{
    hp_path root = hp_path_root();

    a->notification_id =
        hp_valid_str(is, root, body, "notification_id", (hp_str_rule){true, false, 1, 64});
    if (a->notification_id != NULL && !hp_uuid_valid(a->notification_id))
        hp_issues_add(is, hp_path_key(root, "notification_id"), "invalid_string", "Invalid uuid");
    a->response_text = hp_valid_str(is, root, body, "response_text",
                                    (hp_str_rule){false, true, 1, HP_APPROVAL_CUSTOM_MAX});
    a->client_event_id = hp_valid_str(is, root, body, "client_event_id",
                                      (hp_str_rule){false, true, 1, HP_NOTIF_EVENT_ID_MAX});
    a->device = hp_valid_str(is, root, body, "device", (hp_str_rule){false, true, 1, 100});
    (void)hp_valid_str(is, root, body, "session_id",
                       (hp_str_rule){false, true, 1, HP_NOTIF_SESSION_ID_MAX});
}

void api_actions_record(hp_req *req)
{
    static const char *const actions[] = {"button_pressed", "text_reply", NULL};
    api_action a = {.button_index = -1, .decided_at = -1, .actor_type = "user"};
    hp_issues *is;
    json_object *body;
    hp_path root = hp_path_root();
    int64_t idx = -1;
    bool has_idx = false;
    int act;

    if (api_auth_user(req) != HP_OK || api_read_json(req, true, &body) != HP_OK)
        return;
    is = hp_issues_new();
    if (hp_valid_is_object(is, root, body)) {
        api__action_common(is, body, &a);
        act = hp_valid_enum(is, root, body, "action", true, actions);
        (void)hp_valid_int(is, root, body, "button_index", false, 0, HP_NOTIF_BUTTONS_MAX - 1, &idx,
                           &has_idx);
        a.reply = act == 1;
        if (act == 0 && !has_idx)
            hp_issues_add(is, hp_path_key(root, "button_index"), "invalid_type",
                          "Required for button_pressed");
        if (act == 1 && a.response_text == NULL)
            hp_issues_add(is, hp_path_key(root, "response_text"), "invalid_type",
                          "Required for text_reply");
        {
            const char *t =
                hp_valid_str(is, root, body, "decided_at", (hp_str_rule){false, true, 1, 64});
            if (t != NULL && (!hp_time_parse_rfc3339(t, &a.decided_at) ||
                              a.decided_at > hp_time_now_us() + 60 * 1000000LL))
                hp_issues_add(is, hp_path_key(root, "decided_at"), "invalid_string",
                              "Invalid datetime (RFC 3339, not in the future)");
        }
    }
    if (hp_issues_count(is) > 0) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        goto out;
    }
    a.button_index = has_idx ? (int)idx : -1;
    a.user_id = req->auth.user_id;
    a.user_name = req->auth.user_name;
    a.actor_id = req->auth.user_id;
    api__act(req, NULL, &a);
out:
    hp_issues_free(is);
}

void api_simulate_decision(hp_req *req)
{
    api_action a = {.button_index = -1, .decided_at = -1, .actor_type = "agent"};
    hp_issues *is;
    json_object *body;
    hp_path root = hp_path_root();

    if (api_auth_team(req) != HP_OK)
        return;
    if (!req->auth.test_mode) {
        api_send_error(req, HP_ERR_FORBIDDEN,
                       "simulated decisions need an API key created with test mode", NULL);
        return;
    }
    if (api_read_json(req, true, &body) != HP_OK)
        return;
    is = hp_issues_new();
    if (hp_valid_is_object(is, root, body)) {
        api__action_common(is, body, &a);
        a.decision_key = hp_valid_str(is, root, body, "decision_key",
                                      (hp_str_rule){false, true, 1, HP_APPROVAL_VALUE_MAX});
        if (hp_issues_count(is) == 0 && (a.decision_key == NULL) == (a.response_text == NULL))
            hp_issues_add(is, root, "custom", "send exactly one of decision_key and response_text");
        a.reply = a.response_text != NULL;
    }
    if (hp_issues_count(is) > 0) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        goto out;
    }
    if (a.device == NULL)
        a.device = "simulated";
    a.actor_id = req->auth.key_id;
    /* An agent-scoped key (or X-Agent-Id) reaches only its agent's
     * notifications; a team key the whole team's. */
    api__act(req, req->auth.agent_id, &a);
out:
    hp_issues_free(is);
}
