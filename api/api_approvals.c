/*
 * api_approvals: the agent-facing /v1/approvals routes of seed 003. Each
 * handler authenticates the agent, validates, calls the model and renders;
 * every query is scoped to the calling agent, so another agent's or team's
 * approval answers 404.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "hp_approval.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_log.h"
#include "hp_store_approval.h"
#include "hp_str.h"
#include "hp_time.h"

static const char *const api_statuses[] = {"pending", "selected_option", "custom_instruction",
                                           "expired", "cancelled",       NULL};

static void api__rate_limited(hp_req *req, long retry_ms)
{
    long secs = (retry_ms + 999) / 1000;
    char ra[24];
    json_object *extra = json_object_new_object();

    if (secs < 1)
        secs = 1;
    (void)hp_fmt(ra, sizeof(ra), "%ld", secs);
    const char *h[] = {"Retry-After", ra, NULL};
    json_object_object_add(extra, "retry_after_seconds", json_object_new_int64(secs));
    api_send_error_h(req, HP_ERR_RATE_LIMITED, "too many creates for this agent; retry later",
                     extra, h);
    json_object_put(extra);
}

/* After a fresh key lookup: body merged again into *in when the agent's
 * defaults differ from was, the ones it was merged with. False when the
 * body no longer passes (the 400 has been sent). */
static bool api__merge_again(hp_req *req, hp_approval_input *in, json_object *body,
                             const hp_agent_defaults *was)
{
    const hp_agent_defaults *now = &req->auth.defaults;
    hp_issues *is;
    bool ok;

    if (body == NULL || hp_agent_defaults_equal(was, now))
        return true;
    hp_approval_input_deinit(in);
    is = hp_issues_new();
    ok = hp_approval_parse_create(body, now, req->app->urlpolicy, in, is);
    if (!ok)
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
    hp_issues_free(is);
    return ok;
}

bool api_approval_create(hp_req *req, hp_approval_input *in, json_object *body,
                         hp_create_result *res)
{
    hp_key_memo memo = {.key_id = req->auth.key_id, .team_agents_rev = req->auth.team_agents_rev};
    const hp_agent_defaults was = req->auth.defaults;
    hp_dbconn *c;
    hp_err rc;

    /* A key from memory is checked by the create's insert; a create that
     * may answer without inserting (an idempotent repeat) looks it up, and
     * its idempotency hash covers a timeout merged with the defaults looked
     * up. */
    if (req->auth.key_unconfirmed && (in->request_id != NULL || req->auth.team_has_quota) &&
        (api_auth_confirm(req) != HP_OK || !api__merge_again(req, in, body, &was)))
        return false;
    if (api_db(req, &c) != HP_OK)
        return false;
    /* Counted in the agent's rate window, and its wake published after the
     * commit, by hp_approval_create (app->env). */
    rc = hp_approval_create(c, req->pool, &req->app->env, req->auth.team_id, req->auth.agent_id,
                            req->auth.team_has_quota, req->auth.key_unconfirmed ? &memo : NULL, in,
                            res, req->err, sizeof(req->err));
    if (req->auth.key_unconfirmed)
        hp_keymem_count(req->app->keymem, rc != HP_ERR_INVALID_API_KEY);
    if (rc == HP_ERR_INVALID_API_KEY && req->auth.key_unconfirmed) {
        /* The insert refused the remembered key: revoked (the lookup
         * answers 401), its team given a quota (created as any other) or
         * an agent's defaults changed (the body is merged again if its
         * agent's did). */
        if (api_auth_confirm(req) != HP_OK || !api__merge_again(req, in, body, &was))
            return false;
        rc =
            hp_approval_create(c, req->pool, &req->app->env, req->auth.team_id, req->auth.agent_id,
                               req->auth.team_has_quota, NULL, in, res, req->err, sizeof(req->err));
    }
    if (rc == HP_OK)
        req->auth.key_unconfirmed = false;
    if (rc == HP_ERR_RATE_LIMITED) {
        api__rate_limited(req, res->retry_after_ms);
        return false;
    }
    if (rc == HP_ERR_USAGE_LIMIT) {
        json_object *extra = json_object_new_object();
        hp_json_set_str(extra, "code", "USAGE_APPROVAL_LIMIT");
        json_object_object_add(extra, "over_limit", json_object_new_boolean(1));
        api_send_error(req, rc, "the team is over its approval quota", extra);
        json_object_put(extra);
        return false;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return false;
    }
    return true;
}

/* A waiter that answers at the approval's deadline waits this much longer,
 * so the close it makes itself (or the worker's) is in before it gives up. */
#define API_EXPIRY_GRACE_MS 2000

/* Seed 004: a team key without X-Agent-Id may name its project in the body
 * (project_id or project); without one it acts as the team's default agent
 * like every agent route. False when the response was sent (404). */
static bool api__project_from_body(hp_req *req, json_object *body)
{
    const char *hdr = mg_get_header(req->conn, "X-Agent-Id");
    bool selected = false;

    if (req->auth.key_agent_scoped || (hdr != NULL && hdr[0] != '\0') ||
        !json_object_is_type(body, json_type_object) ||
        (hp_json_str(body, "project_id") == NULL && hp_json_str(body, "project") == NULL))
        return true;
    if (api_auth_confirm(req) != HP_OK)
        return false;
    req->auth.agent_id = NULL; /* the body names it instead of the default */
    return api_project_select(req, body, &selected) == HP_OK && selected;
}

void api_approvals_create(hp_req *req)
{
    hp_approval_input in;
    hp_create_result res;
    hp_issues *is;
    json_object *body, *out;
    const hp_config *cfg = req->app->cfg;
    char exp[40];
    int wait_mode = 0; /* none, block, sse */
    int64_t wait_s = 55;
    bool wait_given = false, form004;

    if (api_auth_agent_create(req) != HP_OK || api_read_json(req, true, &body) != HP_OK ||
        !api__project_from_body(req, body))
        return;
    is = hp_issues_new();
    (void)hp_approval_parse_create(body, &req->auth.defaults, req->app->urlpolicy, &in, is);
    if (json_object_is_type(body, json_type_object)) {
        static const char *const modes[] = {"none", "block", "sse", NULL};
        hp_path root = hp_path_root();
        bool present = false;
        int m = hp_valid_enum(is, root, body, "wait", false, modes);
        if (m > 0)
            wait_mode = m;
        (void)hp_valid_int(is, root, body, "wait_timeout_seconds", false, 1, 300, &wait_s,
                           &present);
        wait_given = present;
        if (wait_s > cfg->max_wait_seconds)
            wait_s = cfg->max_wait_seconds;
    }
    form004 = in.source != NULL && strcmp(in.source, "v1_decisions") == 0;
    if (hp_issues_count(is) > 0) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        goto out;
    }
    /* A create that will wait takes its waiting place first: refused, it
     * creates nothing, so the client may simply retry. */
    if (wait_mode != 0 && api_wait_reserve(req, wait_mode == 2) != HP_OK)
        goto out;
    if (!api_approval_create(req, &in, body, &res))
        goto out;
    if (res.conflict) {
        /* Seed 003: request_id here is the caller's external id. */
        json_object *extra = json_object_new_object();
        hp_json_set_str(extra, "request_id", in.request_id);
        hp_json_set_str(extra, "existing_approval_id", res.row.id);
        api_send_error(req, HP_ERR_IDEMPOTENCY_CONFLICT,
                       "an approval with this request_id exists with a different payload; "
                       "idempotency compares question, context, options, merged timeout, "
                       "callback URL and headers",
                       extra);
        json_object_put(extra);
        goto out;
    }
    out = json_object_new_object();
    hp_json_set_str(out, "approval_id", res.row.id);
    hp_json_set_str(out, "request_id", res.row.request_id);
    hp_json_set_str(out, "status", res.row.status);
    hp_time_rfc3339(res.row.expires_at, exp, sizeof(exp));
    hp_json_set_str(out, "expires_at", exp);
    json_object_object_add(out, "idempotent", json_object_new_boolean(res.idempotent));
    if (form004) {
        /* Seed 004: the approval is its own notification. */
        hp_json_set_str(out, "notification_id", res.row.id);
        hp_json_set_str(out, "session_id", res.row.session_id);
        hp_json_set_str(out, "response_format", res.row.response_format);
    }
    if (wait_mode == 0 && form004) {
        api_send_json(req, 202, out);
    } else if (wait_mode == 0) {
        api_send_json(req, 200, out);
    } else if (form004) {
        /* Seed 004: block until decided or timed out — the approval's own
         * deadline (closed here as expired if the worker lags), capped by
         * wait_timeout_seconds when given and HOLDPOINT_MAX_WAIT_SECONDS —
         * then answer and acknowledge the decision; sse streams "sent"
         * first. */
        int64_t left_ms = (res.row.expires_at - hp_time_now_us()) / 1000 + API_EXPIRY_GRACE_MS;
        int64_t cap_ms = (wait_given ? wait_s : cfg->max_wait_seconds) * 1000;
        api_wait_spec spec = {.deadline_ms =
                                  hp_time_mono_ms() +
                                  (left_ms < cap_ms ? (left_ms > 0 ? left_ms : 0) : cap_ms),
                              .sse = wait_mode == 2,
                              .first_event = out,
                              .first_name = "sent",
                              .expire_due = true,
                              .auto_ack = true};
        api_wait_run(req, &res.row, &spec);
    } else {
        api_wait_and_answer(req, &res.row, (int)wait_s, wait_mode == 2, out);
    }
    json_object_put(out);
out:
    hp_approval_input_deinit(&in);
    hp_issues_free(is);
}

/* Authenticates the agent and reads its approval named by the path, in one
 * statement; on any failure the response has been sent and false is
 * returned. */
static bool api__load(hp_req *req, hp_approval_row *row)
{
    bool found = false;

    if (api_auth_agent_approval(req, req->param, row, &found) != HP_OK)
        return false;
    if (!found) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no approval with this request_id for this agent",
                       NULL);
        return false;
    }
    return true;
}

void api_approvals_get(hp_req *req)
{
    hp_approval_row row;
    json_object *o;

    if (!api__load(req, &row))
        return;
    o = hp_approval_meta_json(&row);
    api_send_json(req, 200, o);
    json_object_put(o);
}

void api_approvals_result(hp_req *req)
{
    hp_approval_row row;
    json_object *o;
    bool sse = api_wants_sse(req);
    long long wait_s = sse ? req->app->cfg->max_wait_seconds : 0;

    if (!api__load(req, &row) ||
        !api_query_seconds(req, "wait", req->app->cfg->max_wait_seconds, &wait_s))
        return;
    if (wait_s > 0 || sse) {
        api_wait_and_answer(req, &row, (int)wait_s, sse, NULL);
        return;
    }
    o = hp_approval_result_json(&row);
    api_send_json(req, 200, o);
    json_object_put(o);
}

void api_approvals_cancel(hp_req *req)
{
    hp_approval_row row, out;
    hp_decision d = {.kind = HP_DECIDE_CANCEL, .option_index = -1, .actor_type = "agent"};
    json_object *body, *o;
    hp_dbconn *c;
    hp_err rc;

    if (!api__load(req, &row) || api_read_json(req, false, &body) != HP_OK ||
        api_db(req, &c) != HP_OK)
        return;
    d.actor_id = req->auth.agent_id;
    d.surface = "api";
    rc = hp_approval_decide(c, req->pool, &req->app->env, req->auth.team_id, row.id, &d, &out,
                            req->err, sizeof(req->err));
    if (rc == HP_ERR_ALREADY_RESOLVED) {
        api_send_error(req, rc, "the approval is no longer pending", NULL);
        return;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    o = hp_approval_result_json(&out);
    api_send_json(req, 200, o);
    json_object_put(o);
}

void api_approvals_audit(hp_req *req)
{
    hp_approval_row row;

    if (!api__load(req, &row))
        return;
    api_audit_send(req, &row);
}

void api_audit_send(hp_req *req, const hp_approval_row *row)
{
    hp_event *ev;
    json_object *o, *events;
    hp_dbconn *c;
    int n;
    hp_err rc;

    if (api_db(req, &c) != HP_OK)
        return;
    rc = hp_store_event_list(c, req->pool, row->id, &ev, &n, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    o = json_object_new_object();
    events = json_object_new_array();
    hp_json_set_str(o, "approval_id", row->id);
    hp_json_set_str(o, "request_id", row->request_id);
    for (int i = 0; i < n; i++) {
        json_object *e = json_object_new_object(), *actor = json_object_new_object(), *data;
        char perr[64];

        json_object_object_add(e, "id", json_object_new_int64(ev[i].id));
        hp_json_set_str(e, "kind", ev[i].kind);
        hp_json_set_str(actor, "type", ev[i].actor_type);
        hp_json_set_str(actor, "id", ev[i].actor_id);
        if (ev[i].actor_name != NULL)
            hp_json_set_str(actor, "name", ev[i].actor_name);
        json_object_object_add(e, "actor", actor);
        if (ev[i].data == NULL ||
            hp_json_parse(ev[i].data, strlen(ev[i].data), &data, perr, sizeof(perr)) != HP_OK)
            data = json_object_new_object();
        json_object_object_add(e, "data", data);
        hp_json_set_time(e, "created_at", ev[i].created_at);
        json_object_array_add(events, e);
    }
    json_object_object_add(o, "events", events);
    api_send_json(req, 200, o);
    json_object_put(o);
}

bool api_list_query(hp_req *req, hp_approval_filter *f, const char *default_status, bool all_ok)
{
    hp_issues *is = hp_issues_new();
    hp_path root = hp_path_root();
    const char *v;
    long long n;
    bool ok;

    f->created_after = f->created_before = f->cursor_created_at = -1;
    f->limit = 50;
    f->status = default_status;
    if ((v = api_query(req, "status")) != NULL) {
        bool known = all_ok && strcmp(v, "all") == 0;
        for (int i = 0; api_statuses[i] && !known; i++)
            known = strcmp(v, api_statuses[i]) == 0;
        if (!known)
            hp_issues_add(is, hp_path_key(root, "status"), "invalid_enum_value",
                          "Invalid enum value. Expected 'pending' | 'selected_option' | "
                          "'custom_instruction' | 'expired' | 'cancelled'%s",
                          all_ok ? " | 'all'" : "");
        f->status = strcmp(v, "all") == 0 ? NULL : v;
    }
    if ((v = api_query(req, "limit")) != NULL) {
        if (!hp_parse_ll(v, 1, 100, &n))
            hp_issues_add(is, hp_path_key(root, "limit"), "too_big",
                          "limit must be an integer from 1 to 100");
        else
            f->limit = (int)n;
    }
    if ((v = api_query(req, "session_id")) != NULL)
        f->session_id = v;
    if ((v = api_query(req, "created_after")) != NULL &&
        !hp_time_parse_rfc3339(v, &f->created_after))
        hp_issues_add(is, hp_path_key(root, "created_after"), "invalid_string", "Invalid datetime");
    if ((v = api_query(req, "created_before")) != NULL &&
        !hp_time_parse_rfc3339(v, &f->created_before))
        hp_issues_add(is, hp_path_key(root, "created_before"), "invalid_string",
                      "Invalid datetime");
    if ((v = api_query(req, "cursor")) != NULL) {
        char *id = hp_pool_alloc(req->pool, HP_UUID_LEN + 1);
        if (!hp_cursor_decode(v, &f->cursor_created_at, id, HP_UUID_LEN + 1))
            hp_issues_add(is, hp_path_key(root, "cursor"), "custom", "Invalid cursor");
        else
            f->cursor_id = id;
    }
    ok = hp_issues_count(is) == 0;
    if (!ok)
        api_send_issues(req, HP_ERR_INVALID_QUERY, is);
    hp_issues_free(is);
    return ok;
}

void api_list_send(hp_req *req, const hp_approval_filter *f,
                   json_object *(*render)(const hp_approval_row *))
{
    hp_approval_row *rows;
    json_object *o, *items;
    hp_dbconn *c;
    int n;
    hp_err rc;

    if (api_db(req, &c) != HP_OK)
        return;
    rc = hp_store_approval_list(c, req->pool, f, &rows, &n, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    o = json_object_new_object();
    items = json_object_new_array();
    for (int i = 0; i < n && i < f->limit; i++)
        json_object_array_add(items, render(&rows[i]));
    json_object_object_add(o, "items", items);
    if (n > f->limit) {
        char cur[96];
        hp_cursor_encode(rows[f->limit - 1].created_at, rows[f->limit - 1].id, cur, sizeof(cur));
        hp_json_set_str(o, "next_cursor", cur);
    }
    api_send_json(req, 200, o);
    json_object_put(o);
}

void api_approvals_list(hp_req *req)
{
    hp_approval_filter f = {0};

    if (api_auth_agent(req) != HP_OK || !api_list_query(req, &f, NULL, false))
        return;
    f.team_id = req->auth.team_id;
    f.agent_id = req->auth.agent_id;
    api_list_send(req, &f, hp_approval_meta_json);
}
