/*
 * api_messages: seed 004's POST /v1/messages (a notification with up to
 * four buttons and an optional text reply, shown to the team's reviewers)
 * and the reviewer reads of the team's messages. A reviewer taps a button or
 * replies through POST /v1/actions (api_inbox.c).
 */
#include <string.h>

#include "api.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_notif.h"
#include "hp_store_notif.h"
#include "hp_str.h"

void api_messages_create(hp_req *req)
{
    hp_notif_message_input in;
    hp_notif_message m;
    hp_issues *is;
    json_object *body, *o;
    hp_dbconn *c;
    bool idempotent = false;
    hp_err rc;

    if (api_auth_team(req) != HP_OK || api_read_json(req, true, &body) != HP_OK ||
        api_project_require(req, body) != HP_OK)
        return;
    is = hp_issues_new();
    if (!hp_notif_message_parse(body, &in, is)) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        goto out;
    }
    if (api_db(req, &c) != HP_OK)
        goto out;
    rc = hp_notif_message_send(c, req->pool, req->auth.team_id, req->auth.agent_id, &in,
                               req->app->env.notify_creates, &m, &idempotent, req->err,
                               sizeof(req->err));
    if (rc == HP_ERR_NOT_FOUND) {
        hp_issues_add(is, hp_path_key(hp_path_root(), "parent_id"), "custom",
                      "parent_id names no notification of this project");
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        goto out;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    if (!idempotent) {
        char msg[64];
        (void)hp_fmt(msg, sizeof(msg), "team:%s", req->auth.team_id);
        hp_waiters_publish_msg(req->app->redis, msg); /* live reviewer views */
    }
    o = hp_notif_message_json(&m);
    json_object_object_add(o, "idempotent", json_object_new_boolean(idempotent));
    api_send_json(req, 202, o);
    json_object_put(o);
out:
    hp_notif_message_input_deinit(&in);
    hp_issues_free(is);
}

void api_review_messages_list(hp_req *req)
{
    hp_notif_message_filter f = {0};
    hp_notif_message *rows;
    hp_issues *is;
    json_object *o, *items;
    const char *v;
    hp_dbconn *c;
    int n = 0;
    hp_err rc;

    if (api_auth_user(req) != HP_OK)
        return;
    is = hp_issues_new();
    f.team_id = req->auth.team_id;
    (void)api_query_limit(req, is, &f.limit);
    if ((v = api_query(req, "project_id")) != NULL) {
        if (!hp_uuid_valid(v))
            hp_issues_add(is, hp_path_key(hp_path_root(), "project_id"), "invalid_string",
                          "Invalid uuid");
        f.agent_id = v;
    }
    if ((v = api_query(req, "session_id")) != NULL)
        f.session_id = v;
    if ((v = api_query(req, "cursor")) != NULL) {
        char *id = hp_pool_alloc(req->pool, HP_UUID_LEN + 1);
        if (!hp_cursor_decode(v, &f.cursor_created_at, id, HP_UUID_LEN + 1))
            hp_issues_add(is, hp_path_key(hp_path_root(), "cursor"), "custom", "Invalid cursor");
        f.cursor_id = id;
    }
    if (hp_issues_count(is) > 0) {
        api_send_issues(req, HP_ERR_INVALID_QUERY, is);
        goto out;
    }
    if (api_db(req, &c) != HP_OK)
        goto out;
    rc = hp_store_notif_message_list(c, req->pool, &f, &rows, &n, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    o = json_object_new_object();
    items = json_object_new_array();
    for (int i = 0; i < n && i < f.limit; i++)
        json_object_array_add(items, hp_notif_message_json(&rows[i]));
    json_object_object_add(o, "items", items);
    if (n > f.limit) {
        char cur[96];
        hp_cursor_encode(rows[f.limit - 1].created_at, rows[f.limit - 1].id, cur, sizeof(cur));
        hp_json_set_str(o, "next_cursor", cur);
    }
    api_send_json(req, 200, o);
    json_object_put(o);
out:
    hp_issues_free(is);
}

void api_review_messages_get(hp_req *req)
{
    hp_notif_message m;
    json_object *o;
    hp_dbconn *c;
    bool found = false;
    hp_err rc;

    if (api_auth_user(req) != HP_OK || api_db(req, &c) != HP_OK)
        return;
    rc = hp_store_notif_message_get(c, req->pool, req->auth.team_id, NULL, req->param, &m, &found,
                                    req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    if (!found) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such message", NULL);
        return;
    }
    o = hp_notif_message_json(&m);
    api_send_json(req, 200, o);
    json_object_put(o);
}
