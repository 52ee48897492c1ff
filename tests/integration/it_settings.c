/*
 * The JSON routes behind the web app (docs/webapp.md): team settings for
 * owners and admins (agents with a webhook secret shown once, API keys
 * created, regenerated and revoked with 401 at once on another replica,
 * members with the owner rules, the quota), 404 for reviewers; the
 * reviewer API's additions (history filters by agent and text, the audit
 * trail with its surface, the agent list, the live inbox stream and its
 * catch-up by cursor); and the /app pages and assets with their security
 * and caching headers. Browser behaviour is it_webapp's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_itest.h"

static const char *str_of(json_object *o, const char *key)
{
    json_object *v = hp_it_jget(o, key, NULL);
    IT_CHECK_FATAL(v != NULL && json_object_is_type(v, json_type_string), "no string %s in %s", key,
                   hp_it_jtext(o));
    return json_object_get_string(v);
}

/* A user of t with role, and their token. */
static const char *user_token(const hp_it_team *t, const char *role, const char **id)
{
    const char *args[] = {
        "admin",      "create-user",   "--team-id",
        t->team_id,   "--email",       hp_it_fmt("%s-%s@example.test", role, hp_it_unique()),
        "--password", "member-pass-1", "--role",
        role,         "--json",        NULL};
    json_object *j = hp_it_admin(args);
    if (id)
        *id = str_of(j, "user_id");
    return str_of(j, "user_token");
}

static hp_it_resp *as(const char *token, const char *method, const char *path, const char *body)
{
    const char *h[] = {hp_it_fmt("Authorization: Bearer %s", token),
                       body ? "Content-Type: application/json" : NULL, NULL};
    return hp_it_http(NULL, method, path, h, body);
}

static void test_reviewer_404(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *tok = user_token(t, "reviewer", NULL);
    static const char *const gets[] = {"/v1/settings/agents", "/v1/settings/keys",
                                       "/v1/settings/members", "/v1/settings/quota", NULL};

    for (int i = 0; gets[i]; i++)
        IT_ERROR(as(tok, "GET", gets[i], NULL), 404, "not_found");
    IT_ERROR(as(tok, "POST", "/v1/settings/agents", "{\"name\":\"x\"}"), 404, "not_found");
    IT_ERROR(as(tok, "PUT", "/v1/settings/quota", "{\"approval_quota\":5}"), 404, "not_found");
    IT_CHECK(hp_it_sql_int("select count(*) from agents where team_id = $1", t->team_id, NULL) == 1,
             "nothing was created");
    IT_ERROR(hp_it_http(NULL, "GET", "/v1/settings/agents", NULL, NULL), 401, "invalid_user_token");
    /* An admin may. */
    IT_STATUS(as(user_token(t, "admin", NULL), "GET", "/v1/settings/agents", NULL), 200);
}

/* POST /v1/settings/agents for an agent named name of t: 600 s, expiring
 * with "Stop and report.", callback header Authorization "Bearer
 * cb-secret-1". */
static hp_it_resp *new_agent(const hp_it_team *t, const char *name)
{
    return as(t->user_token, "POST", "/v1/settings/agents",
              hp_it_fmt("{\"name\":\"%s\",\"default_timeout_seconds\":600,"
                        "\"default_timeout_mode\":\"expire_with_predefined_instruction\","
                        "\"default_timeout_instruction\":\"Stop and report.\","
                        "\"callback_auth_header\":\"Authorization\","
                        "\"callback_auth_value\":\"Bearer cb-secret-1\"}",
                        name));
}

static void test_agents(void)
{
    const hp_it_team *t = hp_it_team_new();
    hp_it_resp *r = new_agent(t, "release-bot");
    IT_STATUS_FATAL(r, 201);
    const char *id = str_of(r->json, "agent_id");
    const char *secret = str_of(r->json, "webhook_secret");
    IT_CHECK(strncmp(secret, "whsec_", 6) == 0, "webhook secret: %s", secret);
    IT_CHECK(hp_it_sql_int("select count(*) from agents where id = $1 and webhook_secret_sealed "
                           "not like '%' || $2 || '%' and callback_auth_value_sealed not like "
                           "'%cb-secret-1%'",
                           id, secret + 6, NULL) == 1,
             "secrets are stored sealed");
    r = as(t->user_token, "GET", "/v1/settings/agents", NULL);
    IT_STATUS(r, 200);
    IT_JINT(r->json, "items.1.default_timeout_seconds", 600);
    IT_JSTR(r->json, "items.1.default_timeout_instruction", "Stop and report.");
    IT_JSTR(r->json, "items.1.callback_auth_header", "Authorization");
    IT_CHECK(strstr(r->body, "cb-secret-1") == NULL && strstr(r->body, "whsec_") == NULL,
             "no secret in the list");
    /* The model's checks, with the body member named. */
    r = as(t->user_token, "POST", "/v1/settings/agents",
           "{\"name\":\"x\",\"default_timeout_mode\":\"expire_with_predefined_instruction\"}");
    IT_ISSUE(r, "[\"default_timeout_instruction\"]", "custom");
    r = as(t->user_token, "POST", "/v1/settings/agents",
           "{\"name\":\"x\",\"callback_auth_header\":\"Content-Length\","
           "\"callback_auth_value\":\"1\"}");
    IT_ISSUE(r, "[\"callback_auth_header\"]", "custom");
    r = as(t->user_token, "POST", "/v1/settings/agents", "{\"default_timeout_seconds\":5}");
    IT_ISSUE(r, "[\"name\"]", "invalid_type");
    IT_ERROR(as(t->user_token, "POST", "/v1/settings/agents", "[1]"), 400, "invalid_payload");
    IT_CHECK(hp_it_sql_int("select count(*) from agents where team_id = $1", t->team_id, NULL) == 2,
             "refused bodies created nothing");
}

/* PATCH /v1/settings/agents/{id}: the defaults and the callback auth
 * header change, members left out stay, the model's rules hold for the
 * agent as changed, and a refused body changes nothing. */
static void test_agent_update(void)
{
    const hp_it_team *t = hp_it_team_new(), *other = hp_it_team_new();
    hp_it_resp *r = new_agent(t, "deploy-bot");
    IT_STATUS_FATAL(r, 201);
    const char *id = str_of(r->json, "agent_id");
    const char *path = hp_it_fmt("/v1/settings/agents/%s", id);
    const char *row = "select default_timeout_seconds || '|' || default_timeout_mode || '|' || "
                      "coalesce(default_timeout_instruction, '-') || '|' || "
                      "coalesce(callback_auth_header, '-') || '|' || "
                      "coalesce(callback_auth_value_sealed, '-') from agents where id = $1";
    char *was;

    r = as(t->user_token, "PATCH", path, "{\"default_timeout_seconds\":1200}");
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "agent_id", id);
    IT_JSTR(r->json, "name", "deploy-bot");
    IT_JINT(r->json, "default_timeout_seconds", 1200);
    IT_JSTR(r->json, "default_timeout_mode", "expire_with_predefined_instruction");
    IT_JSTR(r->json, "default_timeout_instruction", "Stop and report.");
    IT_JSTR(r->json, "callback_auth_header", "Authorization");
    r = as(t->user_token, "PATCH", path, "{\"default_timeout_instruction\":\"Roll back.\"}");
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "default_timeout_instruction", "Roll back.");
    /* Back to no action: the instruction goes with the mode. */
    r = as(t->user_token, "PATCH", path, "{\"default_timeout_mode\":\"expire_no_action\"}");
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "default_timeout_mode", "expire_no_action");
    IT_JNULL(r->json, "default_timeout_instruction");

    /* Refused: each rule of a new agent, for the agent as changed. */
    was = hp_it_sql_str(row, id, NULL);
    IT_ISSUE(as(t->user_token, "PATCH", path,
                "{\"default_timeout_mode\":\"expire_with_predefined_instruction\"}"),
             "[\"default_timeout_instruction\"]", "custom");
    IT_ISSUE(as(t->user_token, "PATCH", path, "{\"default_timeout_instruction\":\"Halt.\"}"),
             "[\"default_timeout_instruction\"]", "custom");
    IT_ISSUE(as(t->user_token, "PATCH", path, "{\"default_timeout_seconds\":5}"),
             "[\"default_timeout_seconds\"]", "too_small");
    IT_ISSUE(as(t->user_token, "PATCH", path, "{\"default_timeout_mode\":\"wait\"}"),
             "[\"default_timeout_mode\"]", "invalid_enum_value");
    IT_ISSUE(as(t->user_token, "PATCH", path, "{\"callback_auth_header\":\"X-Only\"}"),
             "[\"callback_auth_value\"]", "custom");
    IT_ISSUE(as(t->user_token, "PATCH", path,
                "{\"callback_auth_header\":\"Content-Length\",\"callback_auth_value\":\"1\"}"),
             "[\"callback_auth_header\"]", "custom");
    IT_ISSUE(as(t->user_token, "PATCH", path, "{\"name\":\"\"}"), "[\"name\"]", "too_small");
    IT_ISSUE(as(t->user_token, "PATCH", path, "{\"name\":null}"), "[\"name\"]", "invalid_type");
    IT_ISSUE(
        as(t->user_token, "PATCH", path, hp_it_fmt("{\"name\":\"%s\"}", hp_it_repeat("n", 201))),
        "[\"name\"]", "too_big");
    IT_ISSUE(as(t->user_token, "PATCH", path, "{\"name\":\"two\\nlines\"}"), "[\"name\"]",
             "custom");
    IT_ISSUE(as(t->user_token, "PATCH", path, "{}"), "[]", "custom");
    IT_ERROR(as(t->user_token, "PATCH", path, "[1]"), 400, "invalid_payload");
    IT_CHECK(strcmp(hp_it_sql_str(row, id, NULL), was) == 0, "a refused change wrote: %s",
             hp_it_sql_str(row, id, NULL));

    /* A new callback auth header, stored sealed; then none. */
    r = as(
        t->user_token, "PATCH", path,
        "{\"callback_auth_header\":\"X-Callback-Token\",\"callback_auth_value\":\"cb-secret-2\"}");
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "callback_auth_header", "X-Callback-Token");
    IT_CHECK(strstr(r->body, "cb-secret-2") == NULL, "the value is never answered");
    IT_CHECK(hp_it_sql_int("select count(*) from agents where id = $1 and "
                           "callback_auth_value_sealed is not null and callback_auth_value_sealed "
                           "not like '%cb-secret-2%' and callback_auth_value_sealed <> $2",
                           id, strrchr(was, '|') + 1, NULL) == 1,
             "the new value is stored sealed, in place of the old");
    r = as(t->user_token, "PATCH", path,
           "{\"callback_auth_header\":null,\"callback_auth_value\":null}");
    IT_STATUS(r, 200);
    IT_JNULL(r->json, "callback_auth_header");
    IT_CHECK(strcmp(hp_it_sql_str(row, id, NULL), "1200|expire_no_action|-|-|-") == 0,
             "the header was not removed: %s", hp_it_sql_str(row, id, NULL));
    IT_CHECK(hp_it_sql_int("select count(*) from agents where id = $1 and name = 'deploy-bot'", id,
                           NULL) == 1,
             "a refused name was stored");

    /* A new name: answered, listed, and shown on the agent's approvals,
     * those made before it included; the rest of the agent is kept. */
    {
        const char *approval =
            str_of(hp_it_create_ok(t, "Ship the renamed build?", NULL)->json, "approval_id");
        const char *mine = hp_it_fmt("/v1/settings/agents/%s", t->agent_id);
        r = as(t->user_token, "PATCH", mine, "{\"name\":\"release-bot\"}");
        IT_STATUS(r, 200);
        IT_JSTR(r->json, "name", "release-bot");
        IT_JINT(r->json, "default_timeout_seconds", 3600);
        IT_CHECK(strstr(as(t->user_token, "GET", "/v1/settings/agents", NULL)->body,
                        "\"release-bot\"") != NULL,
                 "the list does not show the new name");
        r = as(t->user_token, "GET", hp_it_fmt("/v1/review/approvals/%s", approval), NULL);
        IT_STATUS(r, 200);
        IT_JSTR(r->json, "agent_name", "release-bot");
        /* Creates from the agent's key go on. */
        hp_it_create_ok(t, "And the next one?", NULL);
    }

    /* Only the team's own agents, only for owners and admins. */
    IT_ERROR(as(t->user_token, "PATCH", hp_it_fmt("/v1/settings/agents/%s", other->agent_id),
                "{\"default_timeout_seconds\":60}"),
             404, "not_found");
    IT_ERROR(as(t->user_token, "PATCH", "/v1/settings/agents/not-a-uuid",
                "{\"default_timeout_seconds\":60}"),
             404, "not_found");
    IT_ERROR(as(user_token(t, "reviewer", NULL), "PATCH", path, "{\"default_timeout_seconds\":60}"),
             404, "not_found");
    IT_STATUS(as(user_token(t, "admin", NULL), "PATCH", path, "{\"default_timeout_seconds\":60}"),
              200);
    IT_CHECK(hp_it_sql_int("select default_timeout_seconds from agents where id = $1",
                           other->agent_id, NULL) == 3600,
             "another team's agent changed");
}

/* `holdpoint admin update-agent`: the same change from the command line,
 * for operators without the web app. */
static void test_cli_update_agent(void)
{
    const hp_it_team *t = hp_it_team_new(), *other = hp_it_team_new();
    const char *row = "select name || '|' || default_timeout_seconds || '|' || "
                      "default_timeout_mode || '|' || coalesce(default_timeout_instruction, '-') "
                      "|| '|' || coalesce(callback_auth_header, '-') from agents where id = $1";
    const char *set[] = {"admin",
                         "update-agent",
                         "--team-id",
                         t->team_id,
                         "--agent-id",
                         t->agent_id,
                         "--name",
                         "cli-bot",
                         "--timeout-seconds",
                         "120",
                         "--timeout-mode",
                         "expire_with_predefined_instruction",
                         "--timeout-instruction",
                         "Wait for the window.",
                         "--callback-auth-header",
                         "X-Cli-Token",
                         "--callback-auth-value",
                         "cli-secret-1",
                         "--json",
                         NULL};
    const char *drop[] = {"admin",     "update-agent",       "--team-id", t->team_id, "--agent-id",
                          t->agent_id, "--no-callback-auth", "--json",    NULL};
    char *out = NULL, *err = NULL, *was;
    int st = -1;
    json_object *j = hp_it_cli(set, &st, &out, &err);

    IT_CHECK_FATAL(st == 0 && j != NULL, "update-agent: exit %d: %s", st, err);
    IT_JSTR(j, "agent_id", t->agent_id);
    IT_JSTR(j, "name", "cli-bot");
    IT_JINT(j, "default_timeout_seconds", 120);
    IT_JSTR(j, "default_timeout_mode", "expire_with_predefined_instruction");
    IT_JSTR(j, "default_timeout_instruction", "Wait for the window.");
    IT_JSTR(j, "callback_auth_header", "X-Cli-Token");
    IT_CHECK(hp_it_time(str_of(j, "created_at")) > 0, "created_at is not a time: %s", out);
    IT_CHECK(strstr(out, "cli-secret-1") == NULL && strstr(err, "cli-secret-1") == NULL,
             "the header's value was printed");
    IT_CHECK(hp_it_sql_int("select count(*) from agents where id = $1 and "
                           "callback_auth_value_sealed not like '%cli-secret-1%'",
                           t->agent_id, NULL) == 1,
             "the header's value is not stored sealed");
    /* The next create of the team's key merges the new defaults. */
    IT_CHECK(hp_it_sql_int("select timeout_seconds from approvals where id::text = $1",
                           str_of(hp_it_create_ok(t, "After the CLI?", NULL)->json, "approval_id"),
                           NULL) == 120,
             "a create after the change did not take the new default timeout");

    j = hp_it_cli(drop, &st, NULL, &err);
    IT_CHECK(st == 0 && j != NULL, "update-agent --no-callback-auth: exit %d: %s", st, err);
    IT_JNULL(j, "callback_auth_header");
    was = hp_it_sql_str(row, t->agent_id, NULL);
    IT_CHECK(was != NULL && strcmp(was, "cli-bot|120|expire_with_predefined_instruction|Wait for "
                                        "the window.|-") == 0,
             "stored: %s", was ? was : "(null)");

    /* Refused, changing nothing: usage errors exit 2, the rules of a new
     * agent too; another team's agent exits 1. */
    {
        const char *none[] = {"admin",      "update-agent", "--team-id", t->team_id,
                              "--agent-id", t->agent_id,    "--json",    NULL};
        const char *both[] = {"admin",
                              "update-agent",
                              "--team-id",
                              t->team_id,
                              "--agent-id",
                              t->agent_id,
                              "--no-callback-auth",
                              "--callback-auth-header",
                              "X-A",
                              "--callback-auth-value",
                              "v",
                              "--json",
                              NULL};
        const char *rule[] = {"admin",          "update-agent",     "--team-id",
                              t->team_id,       "--agent-id",       t->agent_id,
                              "--timeout-mode", "expire_no_action", "--timeout-instruction",
                              "Halt.",          "--json",           NULL};
        const char *short_timeout[] = {
            "admin",     "update-agent",      "--team-id", t->team_id, "--agent-id",
            t->agent_id, "--timeout-seconds", "5",         "--json",   NULL};
        const char *foreign[] = {
            "admin",         "update-agent", "--team-id", t->team_id, "--agent-id",
            other->agent_id, "--name",       "stolen",    "--json",   NULL};
        const char *const *cases[] = {none, both, rule, short_timeout};

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            hp_it_cli(cases[i], &st, NULL, &err);
            IT_CHECK(st == 2, "case %zu: want exit 2, got %d: %s", i, st, err);
        }
        hp_it_cli(foreign, &st, NULL, &err);
        IT_CHECK(st == 1, "another team's agent: want exit 1, got %d: %s", st, err);
        IT_CHECK(strcmp(hp_it_sql_str(row, t->agent_id, NULL), was) == 0,
                 "a refused change wrote: %s", hp_it_sql_str(row, t->agent_id, NULL));
        IT_CHECK(hp_it_sql_int("select count(*) from agents where id = $1 and name = 'stolen'",
                               other->agent_id, NULL) == 0,
                 "another team's agent was renamed");
    }
}

static void test_keys(void)
{
    static const char *const env[] = {NULL};
    const hp_it_team *t = hp_it_team_new(), *other = hp_it_team_new();
    hp_it_api *b = hp_it_api_start("settings-b", env);
    IT_CHECK_FATAL(b != NULL, "second replica");

    hp_it_resp *r = as(t->user_token, "POST", "/v1/settings/keys",
                       hp_it_fmt("{\"name\":\"ci\",\"agent_id\":\"%s\"}", t->agent_id));
    IT_STATUS_FATAL(r, 201);
    const char *key = str_of(r->json, "api_key"), *key_id = str_of(r->json, "key_id");
    IT_JSTR(r->json, "agent_id", t->agent_id);
    const char *kh[] = {hp_it_fmt("X-Api-Key: %s", key), NULL};
    IT_STATUS(hp_it_http(b, "GET", "/v1/agents", kh, NULL), 200);
    r = as(t->user_token, "GET", "/v1/settings/keys", NULL);
    IT_STATUS(r, 200);
    IT_CHECK(strstr(r->body, key) == NULL, "the list never shows a key");
    IT_JSTR(r->json, "items.0.key_id", key_id);
    IT_JSTR(r->json, "items.0.name", "ci");

    r = as(t->user_token, "POST", hp_it_fmt("/v1/settings/keys/%s/regenerate", key_id), NULL);
    IT_STATUS_FATAL(r, 200);
    const char *key2 = str_of(r->json, "api_key");
    IT_JSTR(r->json, "replaces", key_id);
    IT_ERROR(hp_it_http(b, "GET", "/v1/agents", kh, NULL), 401, "invalid_api_key");
    const char *kh2[] = {hp_it_fmt("X-Api-Key: %s", key2), NULL};
    IT_STATUS(hp_it_http(b, "GET", "/v1/agents", kh2, NULL), 200);
    IT_ERROR(as(t->user_token, "POST", hp_it_fmt("/v1/settings/keys/%s/regenerate", key_id), NULL),
             409, "conflict");

    const char *id2 = str_of(r->json, "key_id");
    IT_STATUS(as(t->user_token, "POST", hp_it_fmt("/v1/settings/keys/%s/revoke", id2), NULL), 204);
    IT_ERROR(hp_it_http(b, "GET", "/v1/agents", kh2, NULL), 401, "invalid_api_key");
    /* Another team's key is not found and stays alive. */
    const char *okid =
        hp_it_sql_str("select id::text from api_keys where team_id = $1", other->team_id, NULL);
    IT_ERROR(as(t->user_token, "POST", hp_it_fmt("/v1/settings/keys/%s/revoke", okid), NULL), 404,
             "not_found");
    IT_STATUS(hp_it_agent(other, "GET", "/v1/agents", NULL), 200);
    r = as(t->user_token, "POST", "/v1/settings/keys", "{\"agent_id\":\"not-a-uuid\"}");
    IT_ISSUE(r, "[\"agent_id\"]", "invalid_string");
    r = as(t->user_token, "POST", "/v1/settings/keys",
           hp_it_fmt("{\"agent_id\":\"%s\"}", other->agent_id));
    IT_ISSUE(r, "[\"agent_id\"]", "custom");
    IT_CHECK(hp_it_api_stop(b) == 0, "second replica stopped cleanly");
}

static void test_members(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *admin_id, *admin = user_token(t, "admin", &admin_id);

    hp_it_resp *r = as(admin, "POST", "/v1/settings/members",
                       hp_it_fmt("{\"email\":\"m-%s@example.test\",\"role\":\"reviewer\","
                                 "\"password\":\"member-pass-1\",\"name\":\"Mia\"}",
                                 hp_it_unique()));
    IT_STATUS_FATAL(r, 201);
    const char *mid = str_of(r->json, "user_id");
    IT_JSTR(r->json, "role", "reviewer");
    IT_CHECK(hp_it_jget(r->json, "user_token", NULL) == NULL, "no token of another person shown");
    r = as(admin, "POST", "/v1/settings/members",
           "{\"email\":\"x@example.test\",\"role\":\"owner\",\"password\":\"member-pass-1\"}");
    IT_ERROR(r, 403, "forbidden");
    r = as(admin, "POST", "/v1/settings/members",
           "{\"email\":\"bad\",\"role\":\"reviewer\",\"password\":\"member-pass-1\"}");
    IT_ISSUE(r, "[\"email\"]", "custom");
    r = as(admin, "POST", "/v1/settings/members",
           hp_it_fmt("{\"email\":\"%s\",\"role\":\"reviewer\",\"password\":\"member-pass-1\"}",
                     t->email));
    IT_ERROR(r, 409, "conflict");

    r = as(admin, "PATCH", hp_it_fmt("/v1/settings/members/%s", mid), "{\"role\":\"admin\"}");
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "role", "admin");
    /* Admins may not touch owners; the last owner stays. */
    IT_ERROR(as(admin, "PATCH", hp_it_fmt("/v1/settings/members/%s", t->user_id),
                "{\"role\":\"reviewer\"}"),
             403, "forbidden");
    IT_ERROR(as(t->user_token, "PATCH", hp_it_fmt("/v1/settings/members/%s", t->user_id),
                "{\"role\":\"admin\"}"),
             409, "conflict");
    IT_ERROR(as(t->user_token, "DELETE", hp_it_fmt("/v1/settings/members/%s", t->user_id), NULL),
             409, "conflict");
    IT_ISSUE(as(admin, "PATCH", hp_it_fmt("/v1/settings/members/%s", mid), "{\"role\":\"boss\"}"),
             "[\"role\"]", "invalid_enum_value");

    r = as(t->user_token, "GET", "/v1/settings/members", NULL);
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 3, "three members: %s", r->body);
    /* Removing a member ends their credentials at once. */
    IT_STATUS(as(t->user_token, "DELETE", hp_it_fmt("/v1/settings/members/%s", admin_id), NULL),
              204);
    IT_ERROR(as(admin, "GET", "/v1/review/approvals", NULL), 401, "invalid_user_token");
    IT_ERROR(as(t->user_token, "DELETE", hp_it_fmt("/v1/settings/members/%s", admin_id), NULL), 404,
             "not_found");
    const hp_it_team *other = hp_it_team_new();
    IT_ERROR(
        as(t->user_token, "DELETE", hp_it_fmt("/v1/settings/members/%s", other->user_id), NULL),
        404, "not_found");
}

static void test_quota(void)
{
    const hp_it_team *t = hp_it_team_new();

    hp_it_create_ok(t, "Counted?", NULL);
    hp_it_resp *r = as(t->user_token, "GET", "/v1/settings/quota", NULL);
    IT_STATUS(r, 200);
    IT_JNULL(r->json, "approval_quota");
    IT_JINT(r->json, "used_this_month", 1);
    r = as(t->user_token, "PUT", "/v1/settings/quota", "{\"approval_quota\":1}");
    IT_STATUS(r, 200);
    IT_JINT(r->json, "approval_quota", 1);
    r = hp_it_agent(t, "POST", "/v1/approvals", hp_it_create_body("Over?", NULL));
    IT_ERROR(r, 403, "USAGE_APPROVAL_LIMIT");
    IT_ISSUE(as(t->user_token, "PUT", "/v1/settings/quota", "{\"approval_quota\":-1}"),
             "[\"approval_quota\"]", "too_small");
    IT_ISSUE(as(t->user_token, "PUT", "/v1/settings/quota", "{}"), "[\"approval_quota\"]",
             "invalid_type");
    r = as(t->user_token, "PUT", "/v1/settings/quota", "{\"approval_quota\":null}");
    IT_STATUS(r, 200);
    IT_JNULL(r->json, "approval_quota");
    hp_it_create_ok(t, "Unlimited again?", NULL);
}

static void test_history_and_audit(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *a2 = hp_it_agent_new(t, NULL);
    const hp_it_team *t2 = hp_it_team_as(t, a2, NULL);
    hp_it_resp *r = hp_it_create_ok(t, "Deploy 100% of web_1?", NULL);
    const char *id = str_of(r->json, "approval_id");
    hp_it_create_ok(t2, "Rotate keys?", NULL);

    r = hp_it_user(t, "GET", "/v1/review/approvals?status=all&q=100%25%20of%20web_1", NULL);
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 1, "text filter: %s", r->body);
    r = hp_it_user(t, "GET", "/v1/review/approvals?status=all&q=_", NULL);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 1, "'_' matches itself: %s",
             r->body);
    r = hp_it_user(t, "GET", hp_it_fmt("/v1/review/approvals?status=all&agent_id=%s", a2), NULL);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 1, "agent filter: %s", r->body);
    IT_JSTR(r->json, "items.0.question", "Rotate keys?");
    IT_ERROR(hp_it_user(t, "GET", "/v1/review/approvals?agent_id=x", NULL), 400, "invalid_query");

    r = hp_it_user(t, "GET", "/v1/review/agents", NULL);
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 2, "two agents: %s", r->body);

    r = hp_it_user(t, "GET", hp_it_fmt("/v1/review/approvals/%s", id), NULL);
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_jget(r->json, "context_html", NULL) != NULL, "context_html: %s", r->body);
    IT_STATUS(hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", id),
                         "{\"option_index\":0}"),
              200);
    r = hp_it_user(t, "GET", hp_it_fmt("/v1/review/approvals/%s/audit", id), NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "events.0.kind", "created");
    IT_JSTR(r->json, "events.1.kind", "resolved");
    IT_JSTR(r->json, "events.1.actor.type", "user");
    IT_JSTR(r->json, "events.1.actor.name", t->user_name);
    IT_JSTR(r->json, "events.1.data.surface", "api");
    const hp_it_team *stranger = hp_it_team_new();
    IT_ERROR(hp_it_user(stranger, "GET", hp_it_fmt("/v1/review/approvals/%s/audit", id), NULL), 404,
             "not_found");
}

/* The value of the last "id:" line of an event stream body. */
static const char *last_id(const char *body)
{
    const char *p = body, *last = NULL;
    while ((p = strstr(p, "id: ")) != NULL) {
        if (p == body || p[-1] == '\n')
            last = p + 4;
        p += 4;
    }
    IT_CHECK_FATAL(last != NULL, "an id line in %s", body);
    return hp_it_fmt("%.*s", (int)strcspn(last, "\n"), last);
}

static void test_stream(void)
{
    const hp_it_team *t = hp_it_team_new(), *other = hp_it_team_new();
    const char *h[] = {hp_it_fmt("Authorization: Bearer %s", t->user_token),
                       "Accept: text/event-stream", NULL};
    hp_it_req q = {.method = "GET", .path = "/v1/review/stream", .headers = h};

    /* HOLDPOINT_MAX_WAIT_SECONDS is 2 here: a stream ends after 2 s. */
    hp_it_resp *r = hp_it_send(NULL, &q);
    IT_STATUS_FATAL(r, 200);
    IT_CHECK(strstr(hp_it_header(r, "Content-Type"), "text/event-stream") != NULL, "SSE");
    IT_CHECK(strstr(r->body, "event: ready\ndata: {\"pending_count\":0") != NULL, "ready: %s",
             r->body);
    const char *cursor = last_id(r->body);

    hp_it_resp *c = hp_it_create_ok(t, "Streamed?", NULL);
    const char *id = str_of(c->json, "approval_id");
    hp_it_create_ok(other, "Not yours", NULL);
    q.path = hp_it_fmt("/v1/review/stream?since=%s", cursor);
    r = hp_it_send(NULL, &q);
    IT_STATUS(r, 200);
    IT_CHECK(strstr(r->body, "event: approval") && strstr(r->body, id) &&
                 strstr(r->body, "\"status\":\"pending\""),
             "the new approval: %s", r->body);
    IT_CHECK(strstr(r->body, "Not yours") == NULL, "never another team's");
    IT_CHECK(strstr(r->body, "event: count\ndata: {\"pending_count\":1") != NULL, "count: %s",
             r->body);
    cursor = last_id(r->body);

    IT_STATUS(hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", id),
                         "{\"option_index\":1}"),
              200);
    /* A reconnecting browser sends Last-Event-ID instead. */
    const char *h2[] = {h[0], h[1], hp_it_fmt("Last-Event-ID: %s", cursor), NULL};
    hp_it_req q2 = {.method = "GET", .path = "/v1/review/stream", .headers = h2};
    r = hp_it_send(NULL, &q2);
    IT_CHECK(strstr(r->body, "\"status\":\"selected_option\"") != NULL, "the decision: %s",
             r->body);
    IT_CHECK(strstr(r->body, "\"pending_count\":0") != NULL, "count back to 0: %s", r->body);

    q.path = "/v1/review/stream?since=yesterday";
    IT_ERROR(hp_it_send(NULL, &q), 400, "invalid_query");
    const char *nh[] = {"Accept: text/event-stream", NULL};
    IT_ERROR(hp_it_http(NULL, "GET", "/v1/review/stream", nh, NULL), 401, "invalid_user_token");
}

static void test_app_pages(void)
{
    hp_it_resp *r = hp_it_http(NULL, "GET", "/app", NULL, NULL);
    IT_STATUS_FATAL(r, 200);
    const char *csp = hp_it_header(r, "Content-Security-Policy");
    IT_CHECK(csp && strstr(csp, "script-src 'self'") && strstr(csp, "frame-ancestors 'none'") &&
                 strstr(csp, "worker-src 'self'") && !strstr(csp, "unsafe"),
             "CSP: %s", csp ? csp : "(none)");
    IT_CHECK(strcmp(hp_it_header(r, "X-Frame-Options"), "DENY") == 0, "X-Frame-Options");
    IT_CHECK(hp_it_header(r, "Referrer-Policy") != NULL, "Referrer-Policy");
    IT_CHECK(strcmp(hp_it_header(r, "X-Content-Type-Options"), "nosniff") == 0, "nosniff");
    IT_CHECK(strcmp(hp_it_header(r, "Cache-Control"), "no-cache") == 0, "the shell: no-cache");
    IT_CHECK(strstr(r->body, "<script>") == NULL && strstr(r->body, " style=") == NULL &&
                 strstr(r->body, " onclick=") == NULL,
             "no inline script or style in the shell");
    /* The hashed asset path from the shell. */
    const char *s = strstr(r->body, "/app/assets/");
    IT_CHECK_FATAL(s != NULL, "asset path in %s", r->body);
    const char *hash = hp_it_fmt("%.*s", (int)strcspn(s + 12, "/\""), s + 12);
    IT_CHECK(strlen(hash) == 16, "a 16-digit build hash: %s", hash);
    IT_CHECK(strstr(r->body, hp_it_fmt("/app/assets/%s/app.js", hash)) != NULL,
             "the shell loads app.js of this build");
    const char *js = hp_it_fmt("/app/assets/%s/app.js", hash);
    hp_it_resp *a = hp_it_http(NULL, "GET", js, NULL, NULL);
    IT_STATUS(a, 200);
    IT_CHECK(strstr(hp_it_header(a, "Content-Type"), "javascript") != NULL, "JS type");
    IT_CHECK(strstr(hp_it_header(a, "Cache-Control"), "immutable") &&
                 strstr(hp_it_header(a, "Cache-Control"), "max-age=31536000"),
             "assets cached for a year: %s", hp_it_header(a, "Cache-Control"));
    IT_ERROR(hp_it_http(NULL, "GET", "/app/assets/0000000000000000/app.js", NULL, NULL), 404,
             "not_found");
    IT_ERROR(hp_it_http(NULL, "GET", hp_it_fmt("/app/assets/%s/index.html", hash), NULL, NULL), 404,
             "not_found");
    hp_it_resp *css =
        hp_it_http(NULL, "GET", hp_it_fmt("/app/assets/%s/app.css", hash), NULL, NULL);
    IT_STATUS(css, 200);
    IT_CHECK(strstr(hp_it_header(css, "Content-Type"), "text/css") != NULL, "CSS type");
    IT_STATUS(hp_it_http(NULL, "GET", "/app/", NULL, NULL), 200);
    IT_STATUS(hp_it_http(NULL, "GET", "/app/history", NULL, NULL), 200);
    IT_STATUS(
        hp_it_http(NULL, "GET", "/app/approvals/01a21d71-4ed8-7680-b153-2c7d07dbafdf", NULL, NULL),
        200);
    r = hp_it_http(NULL, "GET", "/app/no-such-page", NULL, NULL);
    IT_STATUS(r, 404);
    IT_CHECK(strstr(hp_it_header(r, "Content-Type"), "text/html") != NULL,
             "an unknown page is the app's own 404 page");
}

int main(void)
{
    static const char *const dflt_env[] = {"HOLDPOINT_MAX_WAIT_SECONDS=2",
                                           "AGENT_CREATE_RATE_LIMIT_MAX=100000", NULL};
    static const hp_it_test tests[] = {
        {"reviewer_404", test_reviewer_404},
        {"agents", test_agents},
        {"agent_update", test_agent_update},
        {"cli_update_agent", test_cli_update_agent},
        {"keys", test_keys},
        {"members", test_members},
        {"quota", test_quota},
        {"history_and_audit", test_history_and_audit},
        {"stream", test_stream},
        {"app_pages", test_app_pages},
        {NULL, NULL},
    };
    hp_it_set_default_env(dflt_env);
    return hp_it_main("settings", tests, NULL, NULL);
}
