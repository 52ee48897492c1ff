/*
 * api_settings: the team settings of the web app as JSON under
 * /v1/settings, for owners and admins (a reviewer gets 404, as for a route
 * that does not exist): agents, API keys, members and the monthly quota.
 * Creating things calls the same model and store functions as `holdpoint
 * admin` (hp_admin.c, hp_store_admin.c), so every rule and check exists
 * once; their reasons name CLI options, so the handlers map them to the
 * body member. Secrets (a key, a webhook signing secret) are in the
 * answer that made them and nowhere else; they are never logged.
 */
#include <string.h>

#include "api.h"
#include "hp_admin.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_log.h"
#include "hp_store_admin.h"
#include "hp_store_auth.h"
#include "hp_store_team.h"
#include "hp_str.h"

static const char *const api__roles[] = {"owner", "admin", "reviewer", NULL};
static const char *const api__modes[] = {"expire_no_action", "expire_with_predefined_instruction",
                                         NULL};

bool api_auth_admin(hp_req *req)
{
    if (api_auth_user(req) != HP_OK)
        return false;
    if (strcmp(req->auth.user_role, "owner") != 0 && strcmp(req->auth.user_role, "admin") != 0) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such route", NULL);
        return false;
    }
    return true;
}

/* A 400 for a model check, whose reason names the option (--name): the
 * issue goes to member (the body's name of that option). */
static void api__model_issue(hp_req *req, const char *member)
{
    hp_issues *is = hp_issues_new();
    const char *reason = req->err[0] ? req->err : "not valid";
    hp_issues_add(is, hp_path_key(hp_path_root(), member), "custom", "%s", reason);
    api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
    hp_issues_free(is);
}

/* The body member a model reason is about ("--timeout-seconds must ..."). */
static const char *api__member_of(const char *reason, const char *const *map)
{
    for (size_t i = 0; map[i] != NULL; i += 2)
        if (hp_str_startswith(reason, map[i]))
            return map[i + 1];
    return "";
}

/* Reads a JSON object body; on failure the answer has been sent. */
static bool api__body(hp_req *req, json_object **body, hp_issues **is)
{
    if (api_read_json(req, true, body) != HP_OK)
        return false;
    *is = hp_issues_new();
    if (!hp_valid_is_object(*is, hp_path_root(), *body)) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, *is);
        hp_issues_free(*is);
        return false;
    }
    return true;
}

/* Sends issues when there are any; true when there were. */
static bool api__issues_sent(hp_req *req, hp_issues *is)
{
    if (hp_issues_count(is) == 0)
        return false;
    api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
    return true;
}

/* ---- agents --------------------------------------------------------------- */

/* The settings' rows as the pages list them (row: the store's row of the
 * list). New references. */
static json_object *api__agent_json(const void *row)
{
    return hp_admin_agent_json(row);
}

static json_object *api__key_json(const void *row)
{
    const hp_team_key *k = row;
    json_object *o = json_object_new_object();

    hp_json_set_str(o, "key_id", k->id);
    hp_json_set_str(o, "name", k->name);
    hp_json_set_str(o, "prefix", k->prefix);
    hp_json_set_str(o, "agent_id", k->agent_id);
    json_object_object_add(o, "test_mode", json_object_new_boolean(k->test_mode));
    hp_json_set_time(o, "created_at", k->created_at);
    hp_json_set_time(o, "revoked_at", k->revoked_at);
    return o;
}

static json_object *api__member_row_json(const void *row)
{
    const hp_member_row *m = row;
    json_object *o = json_object_new_object();

    hp_json_set_str(o, "user_id", m->id);
    hp_json_set_str(o, "email", m->email);
    hp_json_set_str(o, "name", m->name);
    hp_json_set_str(o, "role", m->role);
    hp_json_set_time(o, "created_at", m->created_at);
    return o;
}

/* Answers a settings list: the store's error (rc), or {"items": [...]}
 * with the n rows of size bytes at rows, each rendered by render. */
static void api__send_rows(hp_req *req, hp_err rc, const void *rows, int n, size_t size,
                           json_object *(*render)(const void *row))
{
    json_object *items;

    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    items = json_object_new_array();
    for (int i = 0; i < n; i++)
        json_object_array_add(items, render((const char *)rows + (size_t)i * size));
    api_send_items(req, items);
}

void api_settings_agents_list(hp_req *req)
{
    hp_agent_row *agents = NULL;
    int n = 0;
    hp_err rc;

    if (!api_auth_admin(req))
        return;
    rc = hp_store_agents_list(req->dbc, req->pool, req->auth.team_id, NULL, &agents, &n, req->err,
                              sizeof(req->err));
    api__send_rows(req, rc, agents, n, sizeof(*agents), api__agent_json);
}

/* The body member each model reason is about (its option, as the CLI
 * names it). */
static const char *const api__agent_members[] = {"--name",
                                                 "name",
                                                 "--timeout-seconds",
                                                 "default_timeout_seconds",
                                                 "--timeout-mode",
                                                 "default_timeout_mode",
                                                 "--timeout-instruction",
                                                 "default_timeout_instruction",
                                                 "--callback-auth-header and --callback-auth-value",
                                                 "callback_auth_value",
                                                 "--callback-auth-header",
                                                 "callback_auth_header",
                                                 "--callback-auth-value",
                                                 "callback_auth_value",
                                                 NULL};

/* Reads the members an agent's create and change share (its timeout
 * defaults and callback auth header) from body into *p, each marked set when
 * the body has it; problems go to is. */
static void api__agent_fields(hp_issues *is, json_object *body, hp_admin_agent_patch *p)
{
    hp_path root = hp_path_root();
    int64_t secs = 0;
    int mode;

    memset(p, 0, sizeof(*p));
    (void)hp_valid_int(is, root, body, "default_timeout_seconds", false, HP_APPROVAL_TIMEOUT_MIN,
                       HP_APPROVAL_TIMEOUT_MAX, &secs, &p->set_timeout_seconds);
    p->timeout_seconds = (int)secs;
    mode = hp_valid_enum(is, root, body, "default_timeout_mode", false, api__modes);
    p->timeout_mode = mode >= 0 ? api__modes[mode] : NULL;
    p->set_timeout_instruction = hp_json_has(body, "default_timeout_instruction");
    p->timeout_instruction =
        hp_valid_str(is, root, body, "default_timeout_instruction",
                     (hp_str_rule){false, true, 1, HP_APPROVAL_INSTRUCTION_MAX});
    p->set_callback_auth =
        hp_json_has(body, "callback_auth_header") || hp_json_has(body, "callback_auth_value");
    p->callback_auth_header =
        hp_valid_str(is, root, body, "callback_auth_header", (hp_str_rule){false, true, 1, 256});
    p->callback_auth_value =
        hp_valid_str(is, root, body, "callback_auth_value", (hp_str_rule){false, true, 1, 4096});
}

void api_settings_agents_create(hp_req *req)
{
    hp_admin_agent_spec spec = {0};
    hp_admin_agent_patch f;
    hp_admin_agent out;
    hp_issues *is;
    json_object *body, *o;
    hp_err rc;

    if (!api_auth_admin(req) || !api__body(req, &body, &is))
        return;
    spec.name = hp_valid_str(is, hp_path_root(), body, "name", (hp_str_rule){true, false, 1, 200});
    api__agent_fields(is, body, &f);
    spec.timeout_seconds = f.timeout_seconds; /* 0 when absent: the default */
    spec.timeout_mode = f.timeout_mode;
    spec.timeout_instruction = f.timeout_instruction;
    spec.callback_auth_header = f.callback_auth_header;
    spec.callback_auth_value = f.callback_auth_value;
    if (api__issues_sent(req, is))
        goto out;
    if (hp_admin_agent_check(req->auth.team_id, &spec, req->err, sizeof(req->err)) != HP_OK) {
        api__model_issue(req, api__member_of(req->err, api__agent_members));
        goto out;
    }
    rc = hp_store_admin_agent_create(req->dbc, req->app->cfg->secret_key, req->auth.team_id, &spec,
                                     &out, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    hp_log_info("agent created", "request_id", req->request_id, "team_id", req->auth.team_id,
                "agent_id", out.id, "user_id", req->auth.user_id);
    o = json_object_new_object();
    hp_json_set_str(o, "agent_id", out.id);
    hp_json_set_str(o, "name", spec.name);
    hp_json_set_str(o, "webhook_secret", out.webhook_secret);
    explicit_bzero(&out, sizeof(out));
    api_send_json(req, 201, o);
    json_object_put(o);
out:
    hp_issues_free(is);
}

/* PATCH /v1/settings/agents/{id}: an agent's name, timeout defaults and
 * callback auth header. Members left out keep their value; null clears the
 * instruction, and null for both callback members removes the header. */
void api_settings_agent_update(hp_req *req)
{
    hp_admin_agent_patch p;
    hp_issues *is;
    json_object *body, *o;
    hp_agent_row row;
    hp_err rc;

    if (!api_auth_admin(req) || !api__body(req, &body, &is))
        return;
    api__agent_fields(is, body, &p);
    p.name = hp_valid_str(is, hp_path_root(), body, "name", (hp_str_rule){false, false, 1, 200});
    if (hp_issues_count(is) == 0 && p.name == NULL && !p.set_timeout_seconds &&
        p.timeout_mode == NULL && !p.set_timeout_instruction && !p.set_callback_auth)
        hp_issues_add(is, hp_path_root(), "custom",
                      "give at least one of name, default_timeout_seconds, "
                      "default_timeout_mode, default_timeout_instruction, "
                      "callback_auth_header and callback_auth_value");
    if (api__issues_sent(req, is))
        goto out;
    rc = hp_store_admin_agent_update(req->dbc, req->pool, req->app->cfg->secret_key,
                                     req->auth.team_id, req->param, &p, &row, req->err,
                                     sizeof(req->err));
    if (rc == HP_ERR_INVALID_PAYLOAD) {
        api__model_issue(req, api__member_of(req->err, api__agent_members));
        goto out;
    }
    if (rc == HP_ERR_NOT_FOUND) {
        api_send_error(req, rc, "no such agent", NULL);
        goto out;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    hp_log_info("agent updated", "request_id", req->request_id, "team_id", req->auth.team_id,
                "agent_id", row.id, "user_id", req->auth.user_id);
    o = api__agent_json(&row);
    api_send_json(req, 200, o);
    json_object_put(o);
out:
    hp_issues_free(is);
}

/* ---- keys ----------------------------------------------------------------- */

void api_settings_keys_list(hp_req *req)
{
    hp_team_key *keys = NULL;
    int n = 0;
    hp_err rc;

    if (!api_auth_admin(req))
        return;
    rc = hp_store_team_keys(req->dbc, req->pool, req->auth.team_id, &keys, &n, req->err,
                            sizeof(req->err));
    api__send_rows(req, rc, keys, n, sizeof(*keys), api__key_json);
}

/* {key_id, api_key, prefix, agent_id, test_mode[, replaces]}: the secret,
 * shown this once. */
static void api__send_key(hp_req *req, int status, hp_admin_key *k)
{
    json_object *o = json_object_new_object();

    hp_json_set_str(o, "key_id", k->id);
    hp_json_set_str(o, "api_key", k->secret);
    hp_json_set_str(o, "prefix", k->prefix);
    hp_json_set_str(o, "agent_id", k->agent_id[0] ? k->agent_id : NULL);
    json_object_object_add(o, "test_mode", json_object_new_boolean(k->test_mode));
    if (k->replaces[0])
        hp_json_set_str(o, "replaces", k->replaces);
    explicit_bzero(k, sizeof(*k));
    api_send_json(req, status, o);
    json_object_put(o);
}

void api_settings_keys_create(hp_req *req)
{
    hp_path root = hp_path_root();
    hp_issues *is;
    json_object *body;
    hp_admin_key out;
    const char *name, *agent;
    bool test = false;
    hp_err rc;

    if (!api_auth_admin(req) || !api__body(req, &body, &is))
        return;
    name = hp_valid_str(is, root, body, "name", (hp_str_rule){false, true, 1, 200});
    agent = hp_valid_str(is, root, body, "agent_id", (hp_str_rule){false, true, 1, 64});
    (void)hp_valid_bool(is, root, body, "test_mode", false, &test);
    if (agent != NULL && !hp_uuid_valid(agent))
        hp_issues_add(is, hp_path_key(root, "agent_id"), "invalid_string", "Invalid uuid");
    if (api__issues_sent(req, is))
        goto out;
    rc = hp_store_admin_key_create(req->dbc, req->auth.team_id, agent, name, test, &out, req->err,
                                   sizeof(req->err));
    if (rc == HP_ERR_NOT_FOUND) {
        hp_issues_add(is, hp_path_key(root, "agent_id"), "custom", "no such agent in this team");
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        goto out;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    hp_log_info("api key created", "request_id", req->request_id, "team_id", req->auth.team_id,
                "key_id", out.id, "user_id", req->auth.user_id);
    api__send_key(req, 201, &out);
out:
    hp_issues_free(is);
}

/* The team's key named by the path, as a reference for the admin store;
 * false (answer sent) when it is not a key of this team. */
static bool api__team_key(hp_req *req, hp_admin_key_ref *ref)
{
    bool found = false;
    hp_err rc;

    if (!hp_uuid_valid(req->param) ||
        hp_admin_key_ref_parse(req->param, ref, req->err, sizeof(req->err)) != HP_OK) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such key", NULL);
        return false;
    }
    rc = hp_store_team_key_owned(req->dbc, req->auth.team_id, req->param, &found, req->err,
                                 sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return false;
    }
    if (!found) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such key", NULL);
        return false;
    }
    return true;
}

void api_settings_key_regenerate(hp_req *req)
{
    hp_admin_key_ref ref;
    hp_admin_key out;
    hp_err rc;

    if (!api_auth_admin(req) || !api__team_key(req, &ref))
        return;
    rc = hp_store_admin_key_regenerate(req->dbc, &ref, &out, req->err, sizeof(req->err));
    if (rc == HP_ERR_CONFLICT) {
        api_send_error(req, rc, "the key is revoked; create a new one", NULL);
        return;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    hp_log_info("api key regenerated", "request_id", req->request_id, "team_id", req->auth.team_id,
                "key_id", out.id, "replaces", out.replaces, "user_id", req->auth.user_id);
    api__send_key(req, 200, &out);
}

void api_settings_key_revoke(hp_req *req)
{
    hp_admin_key_ref ref;
    char id[HP_UUID_LEN + 1];
    hp_err rc;

    if (!api_auth_admin(req) || !api__team_key(req, &ref))
        return;
    rc = hp_store_admin_key_revoke(req->dbc, &ref, id, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    hp_log_info("api key revoked", "request_id", req->request_id, "team_id", req->auth.team_id,
                "key_id", id, "user_id", req->auth.user_id);
    api_send_empty(req, 204, NULL);
}

/* ---- members -------------------------------------------------------------- */

static json_object *api__member_json(const char *id, const char *email, const char *name,
                                     const char *role)
{
    json_object *m = json_object_new_object();
    hp_json_set_str(m, "user_id", id);
    hp_json_set_str(m, "email", email);
    hp_json_set_str(m, "name", name);
    hp_json_set_str(m, "role", role);
    return m;
}

void api_settings_members_list(hp_req *req)
{
    hp_member_row *members = NULL;
    int n = 0;
    hp_err rc;

    if (!api_auth_admin(req))
        return;
    rc = hp_store_team_members(req->dbc, req->pool, req->auth.team_id, &members, &n, req->err,
                               sizeof(req->err));
    api__send_rows(req, rc, members, n, sizeof(*members), api__member_row_json);
}

void api_settings_members_create(hp_req *req)
{
    static const char *const members[] = {"--email", "email",      "--name",   "name", "--role",
                                          "role",    "--password", "password", NULL};
    hp_admin_user_spec spec = {0};
    hp_admin_user out;
    hp_path root = hp_path_root();
    hp_issues *is;
    json_object *body, *o;
    int role;
    hp_err rc;

    if (!api_auth_admin(req) || !api__body(req, &body, &is))
        return;
    spec.email = hp_valid_str(is, root, body, "email", (hp_str_rule){true, false, 3, 254});
    spec.name = hp_valid_str(is, root, body, "name", (hp_str_rule){false, true, 1, 200});
    role = hp_valid_enum(is, root, body, "role", true, api__roles);
    spec.role = role >= 0 ? api__roles[role] : NULL;
    spec.password = hp_valid_str(is, root, body, "password", (hp_str_rule){true, false, 8, 1024});
    if (api__issues_sent(req, is))
        goto out;
    if (strcmp(spec.role, "owner") == 0 && strcmp(req->auth.user_role, "owner") != 0) {
        api_send_error(req, HP_ERR_FORBIDDEN, "only an owner may add an owner", NULL);
        goto out;
    }
    if (hp_admin_user_check(req->auth.team_id, &spec, req->err, sizeof(req->err)) != HP_OK) {
        api__model_issue(req, api__member_of(req->err, members));
        goto out;
    }
    /* argon2 runs inside; the store hashes before it opens its transaction. */
    rc = hp_store_admin_user_create(req->dbc, req->auth.team_id, &spec, &out, req->err,
                                    sizeof(req->err));
    if (rc == HP_ERR_CONFLICT) {
        api_send_error(req, rc, "a user with this email already exists", NULL);
        goto out;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    hp_log_info("member added", "request_id", req->request_id, "team_id", req->auth.team_id,
                "member_id", out.id, "user_id", req->auth.user_id);
    /* The store also made a personal API token; it is not shown here: the
     * member makes their own (holdpoint admin create-user prints it). */
    o = api__member_json(
        out.id, spec.email,
        spec.name ? spec.name : hp_pool_strndup(req->pool, spec.email, strcspn(spec.email, "@")),
        spec.role);
    explicit_bzero(&out, sizeof(out));
    api_send_json(req, 201, o);
    json_object_put(o);
out:
    hp_issues_free(is);
}

static void api__member_change(hp_req *req, hp_member_op op, const char *role)
{
    hp_err rc;

    if (!hp_uuid_valid(req->param)) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such member", NULL);
        return;
    }
    rc = hp_store_team_member_change(req->dbc, req->auth.team_id, req->param, op, role,
                                     req->auth.user_role, req->err, sizeof(req->err));
    if (rc == HP_ERR_NOT_FOUND || rc == HP_ERR_FORBIDDEN || rc == HP_ERR_CONFLICT) {
        api_send_error(req, rc, rc == HP_ERR_NOT_FOUND ? "no such member" : req->err, NULL);
        return;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    hp_log_info(op == HP_MEMBER_REMOVE ? "member removed" : "member role changed", "request_id",
                req->request_id, "team_id", req->auth.team_id, "member_id", req->param, "user_id",
                req->auth.user_id);
    if (op == HP_MEMBER_REMOVE) {
        api_send_empty(req, 204, NULL);
        return;
    }
    {
        hp_member_row *members;
        json_object *o = NULL;
        int n;
        rc = hp_store_team_members(req->dbc, req->pool, req->auth.team_id, &members, &n, req->err,
                                   sizeof(req->err));
        if (rc != HP_OK) {
            api_send_failure(req, rc, NULL);
            return;
        }
        for (int i = 0; i < n && o == NULL; i++)
            if (strcmp(members[i].id, req->param) == 0)
                o = api__member_row_json(&members[i]);
        if (o == NULL) {
            api_send_error(req, HP_ERR_NOT_FOUND, "no such member", NULL);
            return;
        }
        api_send_json(req, 200, o);
        json_object_put(o);
    }
}

void api_settings_member_update(hp_req *req)
{
    hp_issues *is;
    json_object *body;
    int role;

    if (!api_auth_admin(req) || !api__body(req, &body, &is))
        return;
    role = hp_valid_enum(is, hp_path_root(), body, "role", true, api__roles);
    if (!api__issues_sent(req, is))
        api__member_change(req, HP_MEMBER_SET_ROLE, api__roles[role]);
    hp_issues_free(is);
}

void api_settings_member_remove(hp_req *req)
{
    if (!api_auth_admin(req))
        return;
    api__member_change(req, HP_MEMBER_REMOVE, NULL);
}

/* ---- quota ---------------------------------------------------------------- */

static void api__send_quota(hp_req *req)
{
    long long quota = -1, used = 0;
    json_object *o;
    hp_err rc =
        hp_store_team_quota(req->dbc, req->auth.team_id, &quota, &used, req->err, sizeof(req->err));

    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    o = json_object_new_object();
    json_object_object_add(o, "approval_quota", quota < 0 ? NULL : json_object_new_int64(quota));
    json_object_object_add(o, "used_this_month", json_object_new_int64(used));
    api_send_json(req, 200, o);
    json_object_put(o);
}

void api_settings_quota_get(hp_req *req)
{
    if (!api_auth_admin(req))
        return;
    api__send_quota(req);
}

void api_settings_quota_set(hp_req *req)
{
    hp_issues *is;
    json_object *body, *v;
    int64_t n = 0;
    bool present = false;
    hp_err rc;

    if (!api_auth_admin(req) || !api__body(req, &body, &is))
        return;
    v = json_object_object_get(body, "approval_quota");
    if (!json_object_object_get_ex(body, "approval_quota", NULL))
        hp_issues_add(is, hp_path_key(hp_path_root(), "approval_quota"), "invalid_type",
                      "Required");
    else if (v != NULL)
        (void)hp_valid_int(is, hp_path_root(), body, "approval_quota", true, 0, 2147483647LL, &n,
                           &present);
    if (api__issues_sent(req, is))
        goto out;
    rc = hp_store_admin_quota_set(req->dbc, req->auth.team_id, v == NULL ? HP_QUOTA_UNLIMITED : n,
                                  req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    hp_log_info("quota set", "request_id", req->request_id, "team_id", req->auth.team_id, "user_id",
                req->auth.user_id);
    api__send_quota(req);
out:
    hp_issues_free(is);
}
