/*
 * api_review: the reviewer API of SPEC section 5 for headless reviewers,
 * integrations and tests. A user token scopes every query to its team; the
 * decision itself is hp_approval_decide, where the first resolution wins.
 */
#include <string.h>

#include "api.h"
#include "hp_crypto.h"
#include "hp_json.h"

void api_review_list(hp_req *req)
{
    hp_approval_filter f = {0};

    if (api_auth_user(req) != HP_OK || !api_list_query(req, &f, "pending", true))
        return;
    f.team_id = req->auth.team_id;
    api_list_send(req, &f, hp_approval_review_json);
}

void api_review_get(hp_req *req)
{
    hp_approval_row row;
    json_object *o;
    hp_dbconn *c;
    bool found = false;
    hp_err rc;

    if (api_auth_user(req) != HP_OK)
        return;
    if (!hp_uuid_valid(req->param)) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such approval", NULL);
        return;
    }
    if (api_db(req, &c) != HP_OK)
        return;
    rc = hp_store_approval_by_id(c, req->pool, req->auth.team_id, req->param, false, &row, &found,
                                 req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    if (!found) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such approval", NULL);
        return;
    }
    o = hp_approval_review_json(&row);
    api_send_json(req, 200, o);
    json_object_put(o);
}

void api_review_resolve(hp_req *req)
{
    hp_decision d = {.option_index = -1, .actor_type = "user"};
    hp_approval_row out;
    hp_issues *is;
    json_object *body, *o;
    hp_path root = hp_path_root();
    int64_t idx = -1;
    bool has_idx = false;
    hp_dbconn *c;
    hp_err rc;

    if (api_auth_user(req) != HP_OK || api_read_json(req, true, &body) != HP_OK)
        return;
    is = hp_issues_new();
    if (!json_object_is_type(body, json_type_object)) {
        hp_issues_add(is, root, "invalid_type", "Expected object, received %s",
                      hp_valid_type_name(body));
    } else {
        (void)hp_valid_int(is, root, body, "option_index", false, 0,
                           HP_APPROVAL_STORED_OPTIONS_MAX - 1, &idx, &has_idx);
        d.custom_instruction = hp_valid_str(is, root, body, "custom_instruction",
                                            (hp_str_rule){false, true, 1, HP_APPROVAL_CUSTOM_MAX});
        if (hp_issues_count(is) == 0 && has_idx == (d.custom_instruction != NULL))
            hp_issues_add(is, root, "custom",
                          "send exactly one of option_index and custom_instruction");
    }
    if (hp_issues_count(is) > 0) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        goto out;
    }
    if (!hp_uuid_valid(req->param)) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such approval", NULL);
        goto out;
    }
    if (api_db(req, &c) != HP_OK)
        goto out;
    d.kind = has_idx ? HP_DECIDE_OPTION : HP_DECIDE_CUSTOM;
    d.option_index = (int)idx;
    d.user_id = req->auth.user_id;
    d.user_name = req->auth.user_name;
    d.actor_id = req->auth.user_id;
    rc = hp_approval_decide(c, req->pool, &req->app->env, req->auth.team_id, req->param, &d, &out,
                            req->err, sizeof(req->err));
    if (rc == HP_ERR_INVALID_PAYLOAD) {
        hp_issues_add(is, hp_path_key(root, has_idx ? "option_index" : "custom_instruction"),
                      has_idx ? "too_big" : "custom", "%s", req->err);
        api_send_issues(req, rc, is);
        goto out;
    }
    if (rc == HP_ERR_ALREADY_RESOLVED || rc == HP_ERR_NOT_FOUND) {
        api_send_error(req, rc,
                       rc == HP_ERR_NOT_FOUND ? "no such approval"
                                              : "the approval was already resolved",
                       NULL);
        goto out;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    hp_waiters_publish(req->app->redis, &out);
    o = hp_approval_result_json(&out);
    api_send_json(req, 200, o);
    json_object_put(o);
out:
    hp_issues_free(is);
}
