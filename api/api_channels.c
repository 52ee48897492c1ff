/*
 * api_channels: the notification settings of the web app, for owners and
 * admins, as JSON under /v1/settings: the team's channels (list, add, test,
 * remove) and an agent's routing, reminder and escalation settings. They
 * call the same model and store as `holdpoint admin channel`
 * (hp_channel.c, hp_store_channel.c), so every check — the outbound rules
 * for URLs and SMTP hosts, team ownership of channels and members, members
 * being reachable — exists once. Secrets go into the sealed half and never
 * come back; a new webhook channel's signing secret is in the answer that
 * made it and nowhere else.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "api.h"
#include "hp_channel.h"
#include "hp_json.h"
#include "hp_log.h"
#include "hp_store_channel.h"

void api_settings_channels_list(hp_req *req)
{
    PGresult *r = NULL;
    json_object *o;
    hp_err rc;

    if (!api_auth_admin(req))
        return;
    rc = hp_store_channel_list(req->dbc, req->pool, req->auth.team_id, &r, req->err,
                               sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    o = json_object_new_object();
    json_object_object_add(o, "items", hp_store_channel_list_json(r));
    api_send_json(req, 200, o);
    json_object_put(o);
}

/* One issue at member with the model's reason ("url: host is a private
 * address" names the setting; the issue path says where it was). */
static void api__issue(hp_req *req, hp_path at, const char *reason)
{
    hp_issues *is = hp_issues_new();
    hp_issues_add(is, at, "custom", "%s", reason);
    api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
    hp_issues_free(is);
}

void api_settings_channels_create(hp_req *req)
{
    hp_path root = hp_path_root();
    json_object *body, *settings, *config = NULL, *secret = NULL, *o;
    const char *name = NULL, *kind = NULL;
    char *shown = NULL, id[HP_UUID_LEN + 1];
    hp_issues *is;
    hp_err rc;

    if (!api_auth_admin(req) || api_read_json(req, true, &body) != HP_OK)
        return;
    is = hp_issues_new();
    if (hp_valid_is_object(is, root, body)) {
        kind = hp_valid_str(is, root, body, "kind", (hp_str_rule){true, false, 1, 16});
        name = hp_valid_str(is, root, body, "name",
                            (hp_str_rule){true, false, 1, HP_CHANNEL_NAME_MAX});
        if (kind != NULL && !hp_channel_kind_ok(kind))
            hp_issues_add(is, hp_path_key(root, "kind"), "invalid_enum_value",
                          "Expected 'webpush' | 'ntfy' | 'slack' | 'email' | 'webhook'");
    }
    if (hp_issues_count(is) > 0) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        hp_issues_free(is);
        return;
    }
    hp_issues_free(is);
    settings = hp_json_obj(body, "settings");
    if (settings == NULL && !hp_json_has(body, "settings"))
        settings = json_object_new_object();
    else
        json_object_get(settings);
    rc = hp_channel_prepare(kind, settings, req->app->urlpolicy, &config, &secret, &shown, req->err,
                            sizeof(req->err));
    json_object_put(settings);
    if (rc != HP_OK) {
        api__issue(req, hp_path_key(root, "settings"), req->err);
        return;
    }
    rc = hp_store_channel_add(req->dbc, req->app->cfg->secret_key, req->auth.team_id, kind, name,
                              config, secret, id, req->err, sizeof(req->err));
    json_object_put(secret);
    if (rc == HP_OK) {
        o = json_object_new_object();
        hp_json_set_str(o, "channel_id", id);
        hp_json_set_str(o, "kind", kind);
        hp_json_set_str(o, "name", name);
        json_object_object_add(o, "config", json_object_get(config));
        if (shown != NULL)
            hp_json_set_str(o, "signing_secret", shown);
        hp_log_info("channel added", "request_id", req->request_id, "team_id", req->auth.team_id,
                    "channel_id", id, "kind", kind);
        api_send_json(req, 201, o);
        json_object_put(o);
    } else if (rc == HP_ERR_CONFLICT) {
        api__issue(req, hp_path_key(root, "name"), "the team already has a channel of that name");
    } else {
        api_send_failure(req, rc, NULL);
    }
    json_object_put(config);
    if (shown != NULL) {
        OPENSSL_cleanse(shown, strlen(shown));
        free(shown);
    }
}

void api_settings_channel_remove(hp_req *req)
{
    hp_err rc;

    if (!api_auth_admin(req))
        return;
    if (!hp_uuid_valid(req->param)) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such channel", NULL);
        return;
    }
    rc = hp_store_channel_remove(req->dbc, req->auth.team_id, req->param, req->err,
                                 sizeof(req->err));
    if (rc == HP_ERR_NOT_FOUND) {
        api_send_error(req, rc, "no such channel", NULL);
        return;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    hp_log_info("channel removed", "request_id", req->request_id, "team_id", req->auth.team_id,
                "channel_id", req->param);
    api_send_empty(req, 204, NULL);
}

void api_settings_channel_test(hp_req *req)
{
    char job[24];
    json_object *o;
    hp_err rc;

    if (!api_auth_admin(req))
        return;
    if (!hp_uuid_valid(req->param)) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such channel", NULL);
        return;
    }
    rc = hp_store_channel_test(req->dbc, req->auth.team_id, req->param, job, req->err,
                               sizeof(req->err));
    if (rc == HP_ERR_NOT_FOUND) {
        api_send_error(req, rc, "no such channel", NULL);
        return;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    o = json_object_new_object();
    hp_json_set_str(o, "channel_id", req->param);
    hp_json_set_str(o, "job_id", job);
    hp_json_set_str(o, "status", "queued");
    api_send_json(req, 202, o);
    json_object_put(o);
}

/* ---- an agent's notification settings ------------------------------------------ */

static void api__agent_notify_send(hp_req *req)
{
    const char *json = NULL;
    json_object *o = NULL;
    hp_err rc = hp_store_agent_notify_get(req->dbc, req->pool, req->auth.team_id, req->param, &json,
                                          req->err, sizeof(req->err));

    if (rc == HP_ERR_NOT_FOUND) {
        api_send_error(req, rc, "no such agent", NULL);
        return;
    }
    if (rc == HP_OK && hp_json_parse(json, strlen(json), &o, req->err, sizeof(req->err)) != HP_OK)
        rc = HP_ERR_INTERNAL;
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    api_send_json(req, 200, o);
    json_object_put(o);
}

void api_settings_agent_notify_get(hp_req *req)
{
    if (!api_auth_admin(req))
        return;
    if (!hp_uuid_valid(req->param)) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such agent", NULL);
        return;
    }
    api__agent_notify_send(req);
}

/* A list member of UUIDs (or null/absent when nullable): borrowed array. */
static json_object *api__ids(hp_issues *is, json_object *body, const char *key, bool nullable)
{
    hp_path at = hp_path_key(hp_path_root(), key);
    json_object *v = NULL;

    if (!json_object_object_get_ex(body, key, &v) || v == NULL)
        return NULL;
    if (!json_object_is_type(v, json_type_array) ||
        json_object_array_length(v) > HP_CHANNEL_LIST_MAX) {
        hp_issues_add(is, at, "invalid_type", "Expected an array of at most %d ids%s",
                      HP_CHANNEL_LIST_MAX, nullable ? ", or null" : "");
        return NULL;
    }
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        json_object *it = json_object_array_get_idx(v, i);
        if (!json_object_is_type(it, json_type_string) ||
            !hp_uuid_valid(json_object_get_string(it)))
            hp_issues_add(is, hp_path_index(at, (int)i), "invalid_string", "Invalid uuid");
    }
    return v;
}

void api_settings_agent_notify_put(hp_req *req)
{
    hp_agent_notify_spec spec = {0};
    hp_path root = hp_path_root();
    json_object *body;
    int64_t remind = 0, escalate = 0;
    bool has = false;
    hp_issues *is;
    hp_err rc;

    if (!api_auth_admin(req) || api_read_json(req, true, &body) != HP_OK)
        return;
    if (!hp_uuid_valid(req->param)) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such agent", NULL);
        return;
    }
    is = hp_issues_new();
    if (hp_valid_is_object(is, root, body)) {
        /* null reads as "none" for a delay, as GET writes it. */
        static const char *const delays[] = {"remind_after_seconds", "escalate_after_seconds"};
        for (size_t i = 0; i < 2; i++)
            if (hp_json_has(body, delays[i]) && json_object_object_get(body, delays[i]) == NULL)
                json_object_object_del(body, delays[i]);
        spec.channel_ids = api__ids(is, body, "channel_ids", true);
        spec.escalate_channel_ids = api__ids(is, body, "escalate_channel_ids", false);
        spec.escalate_user_ids = api__ids(is, body, "escalate_user_ids", false);
        (void)hp_valid_int(is, root, body, "remind_after_seconds", false, 0, 604800, &remind, &has);
        (void)hp_valid_int(is, root, body, "escalate_after_seconds", false, 0, 604800, &escalate,
                           &has);
    }
    if (hp_issues_count(is) > 0) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        hp_issues_free(is);
        return;
    }
    hp_issues_free(is);
    spec.remind_after_seconds = (int)remind;
    spec.escalate_after_seconds = (int)escalate;
    rc = hp_store_agent_notify_set(req->dbc, req->auth.team_id, req->param, &spec, req->err,
                                   sizeof(req->err));
    if (rc == HP_ERR_NOT_FOUND) {
        api_send_error(req, rc, "no such agent", NULL);
        return;
    }
    if (rc == HP_ERR_INVALID_PAYLOAD) {
        api__issue(req, root, req->err);
        return;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    api__agent_notify_send(req);
}
