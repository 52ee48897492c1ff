/*
 * api_project: how seed 004 callers name their project (a Holdpoint agent),
 * and the query helpers the seed 004 routes share.
 *
 * Key scope decides (seed 004): an agent-scoped key is its agent's and
 * ignores selectors; X-Agent-Id names the agent for a team key; otherwise a
 * team key must pass project_id (a UUID, which wins) or project (a name) in
 * the query string or the JSON body. A project of another team is reported
 * exactly like a missing one (404), so guessed ids leak nothing.
 */
#include <string.h>

#include "api.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_store_auth.h"
#include "hp_store_notif.h"
#include "hp_str.h"

/* The selector member of body or the query parameter; body wins. */
static const char *api__selector(hp_req *req, json_object *body, const char *name)
{
    const char *v = json_object_is_type(body, json_type_object) ? hp_json_str(body, name) : NULL;
    return v != NULL ? v : api_query(req, name);
}

hp_err api_project_select(hp_req *req, json_object *body, bool *selected)
{
    const char *id = api__selector(req, body, "project_id");
    const char *name = api__selector(req, body, "project");
    hp_notif_project p;
    hp_dbconn *c;
    bool found = false;
    hp_err rc;

    *selected = false;
    if (req->auth.agent_id != NULL) {
        *selected = true;
        return HP_OK;
    }
    if (id == NULL && name == NULL)
        return HP_OK;
    if ((rc = api_db(req, &c)) != HP_OK)
        return rc;
    rc = hp_store_notif_project(c, req->pool, req->auth.team_id, id, name, &p, &found, req->err,
                                sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return rc;
    }
    if (!found) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such project in this team", NULL);
        return HP_ERR_NOT_FOUND;
    }
    req->auth.agent_id = p.id;
    req->auth.defaults.timeout_seconds = p.default_timeout_seconds;
    req->auth.defaults.timeout_mode = p.default_timeout_mode;
    req->auth.defaults.timeout_instruction = p.default_timeout_instruction;
    *selected = true;
    return HP_OK;
}

hp_err api_project_require(hp_req *req, json_object *body)
{
    bool selected = false;
    hp_err rc;

    if ((rc = api_project_select(req, body, &selected)) != HP_OK)
        return rc;
    if (!selected) {
        hp_issues *is = hp_issues_new();
        hp_issues_add(is, hp_path_key(hp_path_root(), "project_id"), "invalid_type",
                      "Required: a team API key must name its project with project_id or "
                      "project (or X-Agent-Id)");
        api_send_issues(req, body != NULL ? HP_ERR_INVALID_PAYLOAD : HP_ERR_INVALID_QUERY, is);
        hp_issues_free(is);
        return HP_ERR_INVALID_QUERY;
    }
    return HP_OK;
}

hp_err api_auth_project(hp_req *req)
{
    hp_err rc = api_auth_team(req);
    return rc != HP_OK ? rc : api_project_require(req, NULL);
}

bool api_query_limit(hp_req *req, hp_issues *is, int *limit)
{
    const char *v = api_query(req, "limit");
    long long n;

    *limit = 50;
    if (v == NULL)
        return true;
    if (!hp_parse_ll(v, 1, 100, &n)) {
        hp_issues_add(is, hp_path_key(hp_path_root(), "limit"), "too_big",
                      "limit must be an integer from 1 to 100");
        return false;
    }
    *limit = (int)n;
    return true;
}

bool api_query_bool(hp_req *req, hp_issues *is, const char *name, bool *out)
{
    const char *v = api_query(req, name);

    if (v == NULL)
        return true;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
        *out = true;
    } else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
        *out = false;
    } else {
        hp_issues_add(is, hp_path_key(hp_path_root(), name), "invalid_type",
                      "Expected true or false");
        return false;
    }
    return true;
}

/* Text keys (session ids) travel hex-encoded in cursors, so any character
 * is safe and a cursor is "<µs>.<hex>". */
void api_text_cursor_encode(int64_t created_at, const char *key, hp_pool *pool, char **out)
{
    size_t n = strlen(key);
    char *hex = hp_pool_alloc(pool, 2 * n + 1);

    hp_hex_encode(key, n, hex);
    *out = hp_pool_printf(pool, "%lld.%s", (long long)created_at, hex);
}

bool api_text_cursor_decode(const char *s, hp_pool *pool, int64_t *created_at, const char **key)
{
    const char *dot = strchr(s, '.');
    char num[24];
    long long v;
    size_t hn;
    char *k;

    if (dot == NULL || (size_t)(dot - s) >= sizeof(num))
        return false;
    memcpy(num, s, (size_t)(dot - s));
    num[dot - s] = '\0';
    hn = strlen(dot + 1);
    if (!hp_parse_ll(num, 0, 0x7fffffffffffffffLL, &v) || hn == 0 || hn % 2 != 0 ||
        hn > 2 * HP_NOTIF_SESSION_ID_MAX * 4)
        return false;
    k = hp_pool_alloc(pool, hn / 2 + 1);
    for (size_t i = 0; i < hn / 2; i++) {
        int hi = -1, lo = -1;
        char a = dot[1 + 2 * i], b = dot[2 + 2 * i];
        hi = (a >= '0' && a <= '9') ? a - '0' : (a >= 'a' && a <= 'f') ? a - 'a' + 10 : -1;
        lo = (b >= '0' && b <= '9') ? b - '0' : (b >= 'a' && b <= 'f') ? b - 'a' + 10 : -1;
        if (hi < 0 || lo < 0)
            return false;
        k[i] = (char)(hi << 4 | lo);
    }
    k[hn / 2] = '\0';
    if (!hp_notif_session_id_ok(k))
        return false;
    *created_at = v;
    *key = k;
    return true;
}

/* Longest webhook_url accepted, like a callback URL. */
#define API_WEBHOOK_URL_MAX 2048

void api_agents_update(hp_req *req)
{
    hp_issues *is;
    json_object *body, *o;
    hp_path root = hp_path_root();
    const char *url = NULL;
    hp_agent_row agent;
    hp_dbconn *c;
    bool found = false;
    hp_err rc;

    if (api_auth_team(req) != HP_OK || api_read_json(req, true, &body) != HP_OK)
        return;
    is = hp_issues_new();
    if (hp_valid_is_object(is, root, body) && !hp_json_has(body, "webhook_url")) {
        hp_issues_add(is, hp_path_key(root, "webhook_url"), "invalid_type", "Required");
    } else if (hp_issues_count(is) == 0) {
        /* Seed 004's rules when the URL is set; checked again before each
         * delivery against the resolved address. */
        char reason[160];
        url = hp_valid_str(is, root, body, "webhook_url",
                           (hp_str_rule){false, true, 1, API_WEBHOOK_URL_MAX});
        if (url != NULL && !hp_approval_url_ok(url))
            hp_issues_add(is, hp_path_key(root, "webhook_url"), "invalid_string", "Invalid url");
        else if (url != NULL &&
                 hp_urlpolicy_check_url(req->app->urlpolicy, url, reason, sizeof(reason)) != HP_OK)
            hp_issues_add(is, hp_path_key(root, "webhook_url"), "custom",
                          "Webhook URL is not allowed: %s", reason);
    }
    if (hp_issues_count(is) > 0) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        goto out;
    }
    /* An agent-scoped key may change only its own agent. */
    if (req->auth.key_agent_scoped && strcmp(req->param, req->auth.agent_id) != 0) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such agent in this team", NULL);
        goto out;
    }
    if (api_db(req, &c) != HP_OK)
        goto out;
    rc = hp_store_notif_project_set_webhook(c, req->pool, req->auth.team_id, req->param, url,
                                            &agent, &found, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    if (!found) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such agent in this team", NULL);
        goto out;
    }
    o = api_agent_json(&agent);
    api_send_json(req, 200, o);
    json_object_put(o);
out:
    hp_issues_free(is);
}
