/*
 * api_push: Web Push subscriptions of a signed-in member (the web app's
 * service worker subscribes with the installation's VAPID public key and
 * hands the browser's PushSubscription here), and that public key. Every
 * route is the member's own: a user token or the web session (with its CSRF
 * header on changes). The endpoint must obey the outbound rules, like every
 * URL Holdpoint sends to; the keys must be a P-256 point and a 16-byte
 * secret, which is stored sealed.
 */
#include <string.h>

#include "api.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_store_channel.h"
#include "hp_webpush.h"

void api_push_key(hp_req *req)
{
    const char *pub = NULL;
    json_object *o;
    hp_dbconn *c;
    hp_err rc;

    if (api_auth_user(req) != HP_OK || api_db(req, &c) != HP_OK)
        return;
    rc = hp_store_vapid_get(c, req->pool, req->app->cfg->secret_key, &pub, NULL, req->err,
                            sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    o = json_object_new_object();
    hp_json_set_str(o, "public_key", pub);
    api_send_json(req, 200, o);
    json_object_put(o);
}

void api_push_subscribe(hp_req *req)
{
    hp_path root = hp_path_root();
    json_object *body, *keys = NULL, *o;
    const char *endpoint = NULL, *p256dh = NULL, *auth = NULL;
    char id[HP_UUID_LEN + 1], reason[HP_ERRBUF];
    hp_issues *is;
    hp_dbconn *c;
    hp_err rc;

    if (api_auth_user(req) != HP_OK || api_read_json(req, true, &body) != HP_OK)
        return;
    is = hp_issues_new();
    if (hp_valid_is_object(is, root, body)) {
        endpoint = hp_valid_str(is, root, body, "endpoint",
                                (hp_str_rule){true, false, 1, HP_URLPOLICY_URL_MAX});
        keys = hp_json_obj(body, "keys");
        if (keys == NULL) {
            hp_issues_add(is, hp_path_key(root, "keys"), "invalid_type", "Required");
        } else {
            hp_path kp = hp_path_key(root, "keys");
            p256dh = hp_valid_str(is, kp, keys, "p256dh", (hp_str_rule){true, false, 1, 200});
            auth = hp_valid_str(is, kp, keys, "auth", (hp_str_rule){true, false, 1, 100});
        }
        if (endpoint != NULL &&
            hp_urlpolicy_check_url(req->app->urlpolicy, endpoint, reason, sizeof(reason)) != HP_OK)
            hp_issues_add(is, hp_path_key(root, "endpoint"), "invalid_string", "%s", reason);
        if (p256dh != NULL && auth != NULL && !hp_webpush_keys_ok(p256dh, auth))
            hp_issues_add(is, hp_path_key(root, "keys"), "custom",
                          "p256dh must be a P-256 public key and auth 16 bytes, both base64url");
    }
    if (hp_issues_count(is) > 0) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        hp_issues_free(is);
        return;
    }
    hp_issues_free(is);
    if (api_db(req, &c) != HP_OK)
        return;
    rc = hp_store_push_subscribe(c, req->app->cfg->secret_key, req->auth.team_id, req->auth.user_id,
                                 endpoint, p256dh, auth, mg_get_header(req->conn, "User-Agent"), id,
                                 req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    o = json_object_new_object();
    hp_json_set_str(o, "subscription_id", id);
    hp_json_set_str(o, "endpoint", endpoint);
    api_send_json(req, 201, o);
    json_object_put(o);
}

void api_push_list(hp_req *req)
{
    hp_push_sub *subs;
    json_object *o, *items;
    hp_dbconn *c;
    int n;
    hp_err rc;

    if (api_auth_user(req) != HP_OK || api_db(req, &c) != HP_OK)
        return;
    rc = hp_store_push_list(c, req->pool, req->auth.user_id, &subs, &n, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    o = json_object_new_object();
    items = json_object_new_array();
    for (int i = 0; i < n; i++) {
        json_object *it = json_object_new_object();
        hp_json_set_str(it, "subscription_id", subs[i].id);
        hp_json_set_str(it, "endpoint", subs[i].endpoint);
        hp_json_set_str(it, "user_agent", subs[i].user_agent);
        hp_json_set_time(it, "created_at", subs[i].created_at);
        hp_json_set_time(it, "last_success_at", subs[i].last_success_at);
        hp_json_set_str(it, "last_error", subs[i].last_error);
        json_object_array_add(items, it);
    }
    json_object_object_add(o, "items", items);
    api_send_json(req, 200, o);
    json_object_put(o);
}

void api_push_unsubscribe(hp_req *req)
{
    hp_dbconn *c;
    hp_err rc;

    if (api_auth_user(req) != HP_OK)
        return;
    if (!hp_uuid_valid(req->param)) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such subscription", NULL);
        return;
    }
    if (api_db(req, &c) != HP_OK)
        return;
    rc = hp_store_push_unsubscribe(c, req->auth.user_id, req->param, req->err, sizeof(req->err));
    if (rc == HP_ERR_NOT_FOUND) {
        api_send_error(req, rc, "no such subscription", NULL);
        return;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    api_send_empty(req, 204, NULL);
}
