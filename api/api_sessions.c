/*
 * api_sessions: seed 004's sessions of a project — create (or adopt a
 * caller's id), list, read with counts, the parent/child tree of its
 * notifications, and end. Every query is scoped to the selected project, so
 * another project's session answers 404. The session's action-response inbox
 * (GET /v1/sessions/{id}/responses) is served by api_inbox.c.
 */
#include <string.h>

#include "api.h"
#include "hp_json.h"
#include "hp_notif.h"
#include "hp_store_notif.h"

static const char *const api__session_statuses[] = {"active", "completed", "error", NULL};

void api_sessions_create(hp_req *req)
{
    hp_notif_session_input in;
    hp_notif_session s;
    hp_issues *is;
    json_object *body, *o;
    hp_dbconn *c;
    bool created = false;
    hp_err rc;

    if (api_auth_team(req) != HP_OK || api_read_json(req, false, &body) != HP_OK ||
        api_project_require(req, body) != HP_OK)
        return;
    is = hp_issues_new();
    if (!hp_notif_session_parse(body, &in, is)) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        goto out;
    }
    if (api_db(req, &c) != HP_OK)
        goto out;
    rc = hp_notif_session_create(c, req->pool, req->auth.team_id, req->auth.agent_id, &in, &s,
                                 &created, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    o = hp_notif_session_json(&s);
    api_send_json(req, created ? 201 : 200, o);
    json_object_put(o);
out:
    hp_notif_session_input_deinit(&in);
    hp_issues_free(is);
}

void api_sessions_list(hp_req *req)
{
    hp_notif_session_filter f = {0};
    hp_notif_session *rows;
    hp_issues *is;
    json_object *o, *items;
    const char *v;
    hp_dbconn *c;
    int n = 0;
    hp_err rc;

    if (api_auth_project(req) != HP_OK)
        return;
    is = hp_issues_new();
    f.agent_id = req->auth.agent_id;
    (void)api_query_limit(req, is, &f.limit);
    if ((v = api_query(req, "status")) != NULL) {
        bool known = false;
        for (int i = 0; api__session_statuses[i] && !known; i++)
            known = strcmp(v, api__session_statuses[i]) == 0;
        if (!known)
            hp_issues_add(is, hp_path_key(hp_path_root(), "status"), "invalid_enum_value",
                          "Invalid enum value. Expected 'active' | 'completed' | 'error'");
        f.status = v;
    }
    if ((v = api_query(req, "cursor")) != NULL &&
        !api_text_cursor_decode(v, req->pool, &f.cursor_created_at, &f.cursor_id))
        hp_issues_add(is, hp_path_key(hp_path_root(), "cursor"), "custom", "Invalid cursor");
    if (hp_issues_count(is) > 0) {
        api_send_issues(req, HP_ERR_INVALID_QUERY, is);
        goto out;
    }
    if (api_db(req, &c) != HP_OK)
        goto out;
    rc = hp_store_notif_session_list(c, req->pool, &f, &rows, &n, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    o = json_object_new_object();
    items = json_object_new_array();
    for (int i = 0; i < n && i < f.limit; i++)
        json_object_array_add(items, hp_notif_session_json(&rows[i]));
    json_object_object_add(o, "items", items);
    if (n > f.limit) {
        char *cur;
        api_text_cursor_encode(rows[f.limit - 1].created_at, rows[f.limit - 1].id, req->pool, &cur);
        hp_json_set_str(o, "next_cursor", cur);
    }
    api_send_json(req, 200, o);
    json_object_put(o);
out:
    hp_issues_free(is);
}

/* Authenticates, selects the project and reads the session named by the
 * path; on failure the response was sent. */
static bool api__session_load(hp_req *req, hp_notif_session *s)
{
    hp_dbconn *c;
    bool found = false;
    hp_err rc;

    if (api_auth_project(req) != HP_OK || api_db(req, &c) != HP_OK)
        return false;
    if (hp_notif_session_id_ok(req->param)) {
        rc = hp_store_notif_session_get(c, req->pool, req->auth.agent_id, req->param, s, &found,
                                        req->err, sizeof(req->err));
        if (rc != HP_OK) {
            api_send_failure(req, rc, NULL);
            return false;
        }
    }
    if (!found) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such session in this project", NULL);
        return false;
    }
    return true;
}

void api_sessions_get(hp_req *req)
{
    hp_notif_session s;
    json_object *o;

    if (!api__session_load(req, &s))
        return;
    o = hp_notif_session_json(&s);
    api_send_json(req, 200, o);
    json_object_put(o);
}

/* Nodes beyond this many are left out of a tree (and "truncated" says so). */
#define API_TREE_MAX 1000

void api_sessions_tree(hp_req *req)
{
    hp_notif_session s;
    hp_notif_node *nodes;
    json_object *o;
    int n;
    hp_err rc;

    if (!api__session_load(req, &s))
        return;
    /* One more than shown tells whether the tree was cut. */
    rc = hp_store_notif_session_nodes(req->dbc, req->pool, req->auth.agent_id, s.id,
                                      API_TREE_MAX + 1, &nodes, &n, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    o = json_object_new_object();
    json_object_object_add(o, "session", hp_notif_session_json(&s));
    json_object_object_add(o, "nodes",
                           hp_notif_tree_json(nodes, n > API_TREE_MAX ? API_TREE_MAX : n));
    json_object_object_add(o, "truncated", json_object_new_boolean(n > API_TREE_MAX));
    api_send_json(req, 200, o);
    json_object_put(o);
}

void api_sessions_end(hp_req *req)
{
    static const char *const statuses[] = {"completed", "error", NULL};
    hp_notif_session s;
    hp_issues *is;
    json_object *body, *o;
    hp_path root = hp_path_root();
    const char *status = "completed", *error = NULL;
    bool changed = false;
    hp_dbconn *c;
    hp_err rc;

    if (api_auth_team(req) != HP_OK || api_read_json(req, false, &body) != HP_OK ||
        api_project_require(req, body) != HP_OK)
        return;
    is = hp_issues_new();
    if (body != NULL && hp_valid_is_object(is, root, body)) {
        int i = hp_valid_enum(is, root, body, "status", false, statuses);
        if (i >= 0)
            status = statuses[i];
        error = hp_valid_str(is, root, body, "error",
                             (hp_str_rule){false, true, 1, HP_NOTIF_SESSION_ERR_MAX});
    }
    if (hp_issues_count(is) > 0) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        goto out;
    }
    if (api_db(req, &c) != HP_OK)
        goto out;
    rc = hp_notif_session_id_ok(req->param)
             ? hp_notif_session_end(c, req->pool, req->auth.agent_id, req->param, status, error, &s,
                                    &changed, req->err, sizeof(req->err))
             : HP_ERR_NOT_FOUND;
    if (rc == HP_ERR_NOT_FOUND) {
        api_send_error(req, rc, "no such session in this project", NULL);
        goto out;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    o = hp_notif_session_json(&s);
    api_send_json(req, 200, o);
    json_object_put(o);
out:
    hp_issues_free(is);
}
