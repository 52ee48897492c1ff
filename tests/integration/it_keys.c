/*
 * Keys in every form (docs/api.md "Authentication", docs/cli.md): the key
 * `holdpoint admin bootstrap` prints works as Authorization: Bearer alone,
 * as X-Api-Key alone and as X-Agent-Id + X-Api-Key, a team key without
 * X-Agent-Id acting as the team's oldest agent; bootstrap --json names the
 * key's id; revoke-key and regenerate-key take the key's id, the key itself
 * (also from standard input) or its public prefix, and never echo a key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "hp_itest.h"

static const char *jstr(json_object *o, const char *key)
{
    json_object *v = hp_it_jget(o, key, NULL);
    IT_CHECK_FATAL(v != NULL && json_object_is_type(v, json_type_string), "no string %s in %s", key,
                   hp_it_jtext(o));
    return json_object_get_string(v);
}

/* POST /v1/approvals with exactly these headers (NULL-terminated, Content-Type
 * added); returns the agent_id the approval landed on, or NULL when refused. */
static const char *create_as(const char *const *hdrs, long want)
{
    const char *h[6];
    int n = 0;
    for (; hdrs[n] != NULL && n < 4; n++)
        h[n] = hdrs[n];
    h[n++] = "Content-Type: application/json";
    h[n] = NULL;
    hp_it_resp *r =
        hp_it_http(NULL, "POST", "/v1/approvals", h, hp_it_create_body("Which agent?", NULL));
    if (!IT_STATUS(r, want) || want != 200)
        return NULL;
    return hp_it_sql_str("select agent_id::text from approvals where id = $1::uuid",
                         jstr(r->json, "approval_id"), (const char *)NULL);
}

static bool same(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static void test_bootstrap_key_every_form(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *bearer = hp_it_fmt("Authorization: Bearer %s", t->api_key);
    const char *xkey = hp_it_fmt("X-Api-Key: %s", t->api_key);
    const char *xagent = hp_it_fmt("X-Agent-Id: %s", t->agent_id);

    const char *f1[] = {bearer, NULL};
    IT_CHECK(same(create_as(f1, 200), t->agent_id), "Bearer alone: not the bootstrap agent");
    const char *f2[] = {xkey, NULL};
    IT_CHECK(same(create_as(f2, 200), t->agent_id), "X-Api-Key alone: not the bootstrap agent");
    const char *f3[] = {xagent, xkey, NULL};
    IT_CHECK(same(create_as(f3, 200), t->agent_id), "X-Agent-Id + X-Api-Key");
    const char *f4[] = {bearer, xagent, NULL};
    IT_CHECK(same(create_as(f4, 200), t->agent_id), "Bearer + X-Agent-Id");

    /* A later agent: named, it is used; unnamed, the default stays the
     * oldest agent. */
    const char *a2 = hp_it_agent_new(t, NULL);
    const char *f5[] = {bearer, hp_it_fmt("X-Agent-Id: %s", a2), NULL};
    IT_CHECK(same(create_as(f5, 200), a2), "Bearer + X-Agent-Id of the second agent");
    IT_CHECK(same(create_as(f1, 200), t->agent_id), "the default agent changed with a new agent");

    /* Reads as the default agent see what it created in any form. */
    const char *r_h[] = {bearer, NULL};
    hp_it_resp *r = hp_it_http(NULL, "GET", "/v1/approvals", r_h, NULL);
    IT_STATUS_FATAL(r, 200);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 5,
             "the default agent should list its 5 approvals: %s", r->body);

    /* Team-level reads with the key alone still see the whole team. */
    r = hp_it_http(NULL, "GET", "/v1/agents", f2, NULL);
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 2, "agents: %s", r->body);

    /* A team left without agents has nothing to act as. */
    const hp_it_team *bare = hp_it_team_new();
    hp_it_sql_exec("delete from agents where team_id = $1::uuid", bare->team_id,
                   (const char *)NULL);
    const char *bb[] = {hp_it_fmt("Authorization: Bearer %s", bare->api_key), NULL};
    IT_ERROR(hp_it_http(NULL, "GET", "/v1/approvals", bb, NULL), 401, "missing_agent_auth");
}

static void test_bootstrap_prints_key_id(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *id = hp_it_sql_str("select id::text from api_keys where prefix = $1",
                                   hp_it_fmt("%.16s", t->api_key), (const char *)NULL);

    /* The harness keeps only the fields it knows; bootstrap once more by
     * hand to see the whole output. */
    const char *args[] = {"admin",      "bootstrap", "--team",
                          "keys-team",  "--email",   hp_it_fmt("k-%s@example.com", hp_it_unique()),
                          "--password", "pw-12345",  "--agent",
                          "keys-agent", "--json",    NULL};
    json_object *o = hp_it_admin(args);
    const char *key = jstr(o, "api_key"), *key_id = jstr(o, "key_id");
    IT_CHECK(hp_it_is_uuid(key_id), "key_id is not a UUID: %s", key_id);
    IT_CHECK(same(hp_it_sql_str("select id::text from api_keys where prefix = $1",
                                hp_it_fmt("%.16s", key), (const char *)NULL),
                  key_id),
             "key_id is not the printed key's id");
    IT_CHECK(id != NULL, "the harness team's key is not stored");
}

/* A fresh team key of t: {key_id, api_key, prefix}. */
static json_object *new_key(const hp_it_team *t)
{
    const char *args[] = {"admin", "create-key", "--team-id", t->team_id, "--json", NULL};
    return hp_it_admin(args);
}

/* GET /v1/approvals with the key alone. */
static long call_with(const char *key)
{
    const char *h[] = {hp_it_fmt("Authorization: Bearer %s", key), NULL};
    return hp_it_http(NULL, "GET", "/v1/approvals", h, NULL)->status;
}

/* Runs `printf KEY | holdpoint admin <cmd> --key-id - --json`; returns the
 * parsed stdout (NULL when not JSON) and the exit status in *st. */
static json_object *admin_stdin(const char *cmd, const char *value, int *st)
{
    const char *line =
        hp_it_fmt("printf '%%s\\n' '%s' | '%s/holdpoint' admin %s --key-id - --json 2>/dev/null",
                  value, hp_it_env("HP_BIN_DIR"), cmd);
    FILE *p = popen(line, "r");
    char buf[4096];
    size_t n;

    IT_CHECK_FATAL(p != NULL, "popen failed");
    n = fread(buf, 1, sizeof(buf) - 1, p);
    buf[n] = '\0';
    *st = pclose(p);
    *st = WIFEXITED(*st) ? WEXITSTATUS(*st) : 128;
    return hp_it_json(buf);
}

static void test_revoke_by_key_prefix_and_id(void)
{
    const hp_it_team *t = hp_it_team_new();
    int st;

    /* The key itself. */
    json_object *k = new_key(t);
    IT_CHECK_FATAL(call_with(jstr(k, "api_key")) == 200, "a new key does not work");
    const char *a1[] = {"admin", "revoke-key", "--key-id", jstr(k, "api_key"), "--json", NULL};
    json_object *o = hp_it_admin(a1);
    IT_JSTR(o, "key_id", jstr(k, "key_id"));
    IT_JBOOL(o, "revoked", true);
    IT_CHECK(call_with(jstr(k, "api_key")) == 401, "revoked by the key itself: still works");

    /* Its public prefix. */
    k = new_key(t);
    const char *a2[] = {"admin", "revoke-key", "--key-id", jstr(k, "prefix"), "--json", NULL};
    o = hp_it_admin(a2);
    IT_JSTR(o, "key_id", jstr(k, "key_id"));
    IT_CHECK(call_with(jstr(k, "api_key")) == 401, "revoked by prefix: still works");

    /* The key from standard input. */
    k = new_key(t);
    o = admin_stdin("revoke-key", jstr(k, "api_key"), &st);
    IT_CHECK(st == 0, "revoke-key --key-id - exited %d", st);
    IT_JSTR(o, "key_id", jstr(k, "key_id"));
    IT_CHECK(call_with(jstr(k, "api_key")) == 401, "revoked from stdin: still works");

    /* The id, as before; the bootstrap key is untouched by all of this. */
    k = new_key(t);
    const char *a3[] = {"admin", "revoke-key", "--key-id", jstr(k, "key_id"), "--json", NULL};
    o = hp_it_admin(a3);
    IT_JSTR(o, "key_id", jstr(k, "key_id"));
    IT_CHECK(call_with(jstr(k, "api_key")) == 401, "revoked by id: still works");
    IT_CHECK(call_with(t->api_key) == 200, "the bootstrap key stopped working");
}

static void test_regenerate_by_key(void)
{
    const hp_it_team *t = hp_it_team_new();
    json_object *k = new_key(t);
    int st;

    /* By the key itself, from standard input. */
    json_object *o = admin_stdin("regenerate-key", jstr(k, "api_key"), &st);
    IT_CHECK_FATAL(st == 0 && o != NULL, "regenerate-key --key-id - exited %d", st);
    IT_JSTR(o, "replaces", jstr(k, "key_id"));
    const char *fresh = jstr(o, "api_key");
    IT_CHECK(call_with(jstr(k, "api_key")) == 401, "the regenerated key still works");
    IT_CHECK(call_with(fresh) == 200, "the new key does not work");

    /* By prefix. */
    const char *a[] = {"admin", "regenerate-key", "--key-id", jstr(o, "prefix"), "--json", NULL};
    json_object *o2 = hp_it_admin(a);
    IT_JSTR(o2, "replaces", jstr(o, "key_id"));
    IT_CHECK(call_with(fresh) == 401, "regenerated by prefix: the old key still works");
    IT_CHECK(call_with(jstr(o2, "api_key")) == 200, "the newest key does not work");
}

static void test_bad_references(void)
{
    const hp_it_team *t = hp_it_team_new();
    json_object *k = new_key(t);
    const char *key = jstr(k, "api_key");
    char *wrong = hp_it_fmt("%s", key), *out, *err;
    int st;

    /* Same prefix, wrong secret: nothing is revoked, and the key is not
     * echoed anywhere. */
    wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == 'A' ? 'B' : 'A';
    const char *a1[] = {"admin", "revoke-key", "--key-id", wrong, "--json", NULL};
    hp_it_cli(a1, &st, &out, &err);
    IT_CHECK(st == 1, "a wrong secret: want exit 1, got %d", st);
    IT_CHECK(strstr(err, "key not found") != NULL, "stderr: %s", err);
    IT_CHECK(strstr(err, wrong + 17) == NULL && strstr(out, wrong + 17) == NULL,
             "the secret part was echoed: %s", err);
    IT_CHECK(strstr(err, jstr(k, "prefix")) != NULL, "the prefix should name the key: %s", err);
    IT_CHECK(call_with(key) == 200, "a wrong secret revoked the key");

    /* Malformed: a usage error that does not quote the value. */
    const char *a2[] = {"admin", "revoke-key", "--key-id", "hpk_short-secret-xyz", "--json", NULL};
    hp_it_cli(a2, &st, &out, &err);
    IT_CHECK(st == 2, "a malformed key: want exit 2, got %d", st);
    IT_CHECK(strstr(err, "secret-xyz") == NULL, "the value was echoed: %s", err);
    /* An unknown prefix or id. */
    const char *a3[] = {"admin", "revoke-key", "--key-id", "hpk_ZZZZZZZZZZZZ", "--json", NULL};
    hp_it_cli(a3, &st, &out, &err);
    IT_CHECK(st == 1, "an unknown prefix: want exit 1, got %d", st);
    const char *a4[] = {"admin",    "regenerate-key",
                        "--key-id", "00000000-0000-4000-8000-000000000000",
                        "--json",   NULL};
    hp_it_cli(a4, &st, &out, &err);
    IT_CHECK(st == 1, "an unknown id: want exit 1, got %d", st);
    /* An empty standard input. */
    int st2;
    json_object *o = admin_stdin("revoke-key", "", &st2);
    IT_CHECK(st2 == 2 && o == NULL, "an empty stdin: want exit 2, got %d", st2);
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"bootstrap_key_every_form", test_bootstrap_key_every_form},
        {"bootstrap_prints_key_id", test_bootstrap_prints_key_id},
        {"revoke_by_key_prefix_and_id", test_revoke_by_key_prefix_and_id},
        {"regenerate_by_key", test_regenerate_by_key},
        {"bad_references", test_bad_references},
        {NULL, NULL},
    };
    return hp_it_main("keys", tests, NULL, NULL);
}
