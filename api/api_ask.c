/*
 * api_ask: seed 000's Ask API under /api/v1/server — POST /send, POST /ask (confirm,
 * select, input; wait or not, with a callbackUrl), GET /ask/:correlationId
 * (long-poll with ?wait=N) and DELETE /ask/:correlationId. A question is an
 * approval of the calling agent (hp_ask.h), so the reviewer inbox, the
 * Reviewer API and every other surface see it and the first decision
 * anywhere answers it. POST /send stores a notification (a seed 004
 * message with source "ask") that the team's reviewers see. Errors use seed 002's envelope
 * (api_dispatch sets the style for these paths); another agent's or team's correlation id is 404.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "hp_ask.h"
#include "hp_json.h"
#include "hp_log.h"
#include "hp_store_approval.h"
#include "hp_str.h"

/* How long wait: true blocks when timeoutSeconds is not given. */
#define API_ASK_WAIT_DEFAULT 30

char *api_ask_poll_url(hp_req *req, const hp_approval_row *row)
{
    char *url = hp_ask_poll_url(req->app->cfg->public_url, row->request_id);
    char *copy = hp_pool_strdup(req->pool, url);
    free(url);
    return copy;
}

void api_ask_send_state(hp_req *req, const hp_approval_row *row, bool timed_out)
{
    json_object *o = hp_ask_state_json(row, timed_out, api_ask_poll_url(req, row));
    api_send_json(req, 200, o);
    json_object_put(o);
}

hp_err api_ask_find(hp_req *req, const char *correlation_id, hp_approval_row *row)
{
    hp_dbconn *c;
    bool found = false;
    hp_err rc;

    if ((rc = api_db(req, &c)) != HP_OK)
        return rc;
    rc = hp_store_approval_by_request(c, req->pool, req->auth.team_id, req->auth.agent_id,
                                      correlation_id, NULL, row, &found, NULL, req->err,
                                      sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return rc;
    }
    return found && hp_ask_is_question(row) ? HP_OK : HP_ERR_NOT_FOUND;
}

/* api_ask_find for the REST routes: false once a response was sent. */
static bool api__ask_load(hp_req *req, hp_approval_row *row)
{
    hp_err rc = api_ask_find(req, req->param, row);

    if (rc == HP_ERR_NOT_FOUND)
        api_send_error(req, rc, "no question with this correlationId", NULL);
    return rc == HP_OK;
}

hp_err api_ask_cancel_row(hp_req *req, hp_approval_row *row)
{
    hp_decision d = {.kind = HP_DECIDE_CANCEL, .option_index = -1, .actor_type = "agent"};
    hp_approval_row out;
    hp_dbconn *c;
    hp_err rc;

    if (strcmp(row->status, "cancelled") == 0)
        return HP_OK; /* cancelling twice is harmless */
    if ((rc = api_db(req, &c)) != HP_OK)
        return rc;
    d.actor_id = req->auth.agent_id;
    rc = hp_approval_decide(c, req->pool, &req->app->env, req->auth.team_id, row->id, &d, &out,
                            req->err, sizeof(req->err));
    if (rc == HP_OK) {
        *row = out;
    } else if (rc == HP_ERR_ALREADY_RESOLVED) {
        /* Closed meanwhile: a concurrent cancel counts as done. */
        hp_approval_row now;
        bool found = false;
        if (hp_store_approval_by_id(c, req->pool, req->auth.team_id, row->id, &now, &found,
                                    req->err, sizeof(req->err)) == HP_OK &&
            found) {
            *row = now;
            if (strcmp(now.status, "cancelled") == 0)
                rc = HP_OK;
        }
    } else if (rc != HP_ERR_NOT_FOUND) {
        api_send_failure(req, rc, NULL);
    }
    return rc;
}

void api_ask_create(hp_req *req)
{
    hp_ask_input in;
    hp_create_result res;
    hp_issues *is;
    json_object *body;
    api_waiting w;

    if (api_auth_agent(req) != HP_OK || api_read_json(req, true, &body) != HP_OK)
        return;
    is = hp_issues_new();
    if (!hp_ask_parse(body, req->app->urlpolicy, false, API_ASK_WAIT_DEFAULT, &in, is)) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        goto out;
    }
    /* A blocking ask takes its waiting place first: refused (429 or 503),
     * it asks nothing. */
    if (in.wait && api_wait_reserve(req, false) != HP_OK)
        goto out;
    if (!api_approval_create(req, &in.approval, NULL, &res))
        goto out;
    if (!in.wait) {
        /* Exactly seed 000's {correlationId, status: "pending", pollUrl}. */
        json_object *o = hp_ask_state_json(&res.row, false, api_ask_poll_url(req, &res.row));
        json_object_object_del(o, "answered");
        api_send_json(req, 200, o);
        json_object_put(o);
        goto out;
    }
    if (api_wait_begin(req, &res.row, in.timeout_seconds, &w) != HP_OK)
        goto out; /* not reached: the place was reserved above */
    if (api_wait_decided(req, &w, &res.row, 0, NULL, NULL) == API_WAIT_GONE)
        req->status = 499; /* client closed the request; nothing to send */
    else
        api_ask_send_state(req, &res.row, true);
    api_wait_end(&w);
out:
    hp_ask_input_deinit(&in);
    hp_issues_free(is);
}

void api_ask_get(hp_req *req)
{
    hp_approval_row row;
    long long wait_s = 0;
    api_waiting w;

    if (api_auth_agent(req) != HP_OK || !api_query_seconds(req, "wait", HP_ASK_WAIT_MAX, &wait_s))
        return;
    if (!api__ask_load(req, &row))
        return;
    if (wait_s == 0 || strcmp(row.status, "pending") != 0) {
        api_ask_send_state(req, &row, false);
        return;
    }
    hp_err rc = api_wait_begin(req, &row, (int)wait_s, &w);
    if (rc != HP_OK) {
        api_wait_refuse(req, rc);
        return;
    }
    if (api_wait_decided(req, &w, &row, 0, NULL, NULL) == API_WAIT_GONE)
        req->status = 499;
    else
        api_ask_send_state(req, &row, false);
    api_wait_end(&w);
}

void api_ask_delete(hp_req *req)
{
    hp_approval_row row;
    hp_err rc;

    if (api_auth_agent(req) != HP_OK || !api__ask_load(req, &row))
        return;
    rc = api_ask_cancel_row(req, &row);
    if (rc == HP_ERR_ALREADY_RESOLVED || rc == HP_ERR_NOT_FOUND)
        api_send_error(req, HP_ERR_ALREADY_RESOLVED, "the question was already answered or expired",
                       NULL);
    else if (rc == HP_OK)
        api_ask_send_state(req, &row, false);
}

hp_err api_ask_send_message(hp_req *req, const hp_notif_message_input *in, hp_notif_message *m)
{
    hp_dbconn *c;
    bool idempotent = false;
    char msg[64];
    hp_err rc;

    if ((rc = api_db(req, &c)) != HP_OK)
        return rc;
    rc = hp_notif_message_send(c, req->pool, req->auth.team_id, req->auth.agent_id, in,
                               req->app->env.notify_creates, m, &idempotent, req->err,
                               sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return rc;
    }
    (void)hp_fmt(msg, sizeof(msg), "team:%s", req->auth.team_id);
    hp_waiters_publish_msg(req->app->redis, msg); /* live reviewer views */
    return HP_OK;
}

void api_ask_send(hp_req *req)
{
    hp_notif_message_input in;
    hp_notif_message m;
    hp_issues *is;
    json_object *body, *o;

    if (api_auth_agent(req) != HP_OK || api_read_json(req, true, &body) != HP_OK)
        return;
    is = hp_issues_new();
    if (!hp_ask_send_parse(body, &in, is)) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
    } else if (api_ask_send_message(req, &in, &m) == HP_OK) {
        o = hp_ask_sent_json(&m);
        api_send_json(req, 200, o);
        json_object_put(o);
    }
    hp_notif_message_input_deinit(&in);
    hp_issues_free(is);
}
