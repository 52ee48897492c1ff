/*
 * Authentication on the agent and reviewer routes (docs/api.md
 * "Authentication"): the three 401 codes of agent routes in their order of
 * checks, key revocation and regeneration (on every replica), the Bearer and
 * team-key forms, user tokens, and X-Request-Id on every response.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_itest.h"

#define CREATE "/v1/approvals"

static const char *body(void)
{
    return hp_it_create_body("Deploy to production?", NULL);
}

/* POST /v1/approvals with exactly these headers (plus Content-Type). */
static hp_it_resp *create_with(const char *h1, const char *h2)
{
    const char *h[4];
    int n = 0;
    if (h1 != NULL)
        h[n++] = h1;
    if (h2 != NULL)
        h[n++] = h2;
    h[n++] = "Content-Type: application/json";
    h[n] = NULL;
    return hp_it_http(NULL, "POST", CREATE, h, body());
}

static const char *hdr_agent(const char *id)
{
    return hp_it_fmt("X-Agent-Id: %s", id);
}

static const char *hdr_key(const char *key)
{
    return hp_it_fmt("X-Api-Key: %s", key);
}

static const char *hdr_bearer(const char *key)
{
    return hp_it_fmt("Authorization: Bearer %s", key);
}

/* A key of the right shape whose prefix no one has. */
static const char *unknown_key(void)
{
    return "hpk_ZZZZZZZZZZZZ_0123456789abcdefghijklmnopqrstuv";
}

/* The same key with its last character changed (same prefix, wrong secret). */
static const char *wrong_secret(const char *key)
{
    char *k = hp_it_fmt("%s", key);
    size_t n = strlen(k);
    k[n - 1] = k[n - 1] == 'A' ? 'B' : 'A';
    return k;
}

static json_object *create_key(const hp_it_team *t, const char *agent_id)
{
    if (agent_id != NULL) {
        const char *args[] = {"admin",      "create-key", "--team-id", t->team_id,
                              "--agent-id", agent_id,     "--json",    NULL};
        return hp_it_admin(args);
    }
    const char *args[] = {"admin", "create-key", "--team-id", t->team_id, "--json", NULL};
    return hp_it_admin(args);
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v = hp_it_jget(o, key, NULL);
    IT_CHECK_FATAL(v != NULL && json_object_is_type(v, json_type_string), "no string %s in %s", key,
                   hp_it_jtext(o));
    return json_object_get_string(v);
}

static void test_missing_agent_auth(void)
{
    const hp_it_team *t = hp_it_team_new();

    IT_ERROR(create_with(NULL, NULL), 401, "missing_agent_auth");
    /* Only the agent id: no key at all. */
    IT_ERROR(create_with(hdr_agent(t->agent_id), NULL), 401, "missing_agent_auth");
    /* Reads too. */
    hp_it_resp *r = hp_it_http(NULL, "GET", "/v1/approvals/x/result", NULL, NULL);
    IT_ERROR(r, 401, "missing_agent_auth");
    const char *only_agent[] = {hdr_agent(t->agent_id), NULL};
    r = hp_it_http(NULL, "GET", "/v1/approvals", only_agent, NULL);
    IT_ERROR(r, 401, "missing_agent_auth");
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where team_id = $1", t->team_id, NULL) ==
                 0,
             "a refused create wrote a row");
}

static void test_invalid_api_key(void)
{
    const hp_it_team *t = hp_it_team_new();

    IT_ERROR(create_with(hdr_agent(t->agent_id), hdr_key("garbage")), 401, "invalid_api_key");
    IT_ERROR(create_with(hdr_agent(t->agent_id), hdr_key(unknown_key())), 401, "invalid_api_key");
    IT_ERROR(create_with(hdr_agent(t->agent_id), hdr_key(wrong_secret(t->api_key))), 401,
             "invalid_api_key");
    /* The key minus its last character. */
    IT_ERROR(create_with(hdr_agent(t->agent_id),
                         hdr_key(hp_it_fmt("%.*s", (int)strlen(t->api_key) - 1, t->api_key))),
             401, "invalid_api_key");
    /* A user token is not an API key. */
    IT_ERROR(create_with(hdr_agent(t->agent_id), hdr_key(t->user_token)), 401, "invalid_api_key");
    /* The key is checked before the agent: bad key + bad agent → invalid_api_key. */
    IT_ERROR(create_with(hdr_agent("not-a-uuid"), hdr_key("garbage")), 401, "invalid_api_key");
    /* The real key still works. */
    IT_STATUS(create_with(hdr_agent(t->agent_id), hdr_key(t->api_key)), 200);
}

static void test_revoked_key_on_every_replica(void)
{
    const hp_it_team *t = hp_it_team_new();
    json_object *k = create_key(t, NULL);
    const char *key = jstr(k, "api_key"), *key_id = jstr(k, "key_id");
    hp_it_api *other = hp_it_api_start("replica", NULL);
    IT_CHECK_FATAL(other != NULL, "second API did not start");
    const hp_it_team *as = hp_it_team_as(t, NULL, key);

    IT_STATUS(hp_it_agent(as, "GET", "/v1/approvals", NULL), 200);
    IT_STATUS(hp_it_agent_on(other, as, "GET", "/v1/approvals", NULL), 200);

    const char *args[] = {"admin", "revoke-key", "--key-id", key_id, "--json", NULL};
    json_object *rv = hp_it_admin(args);
    IT_JSTR(rv, "key_id", key_id);
    IT_JBOOL(rv, "revoked", true);

    /* The very next call, on both replicas. */
    IT_ERROR(hp_it_agent(as, "GET", "/v1/approvals", NULL), 401, "invalid_api_key");
    IT_ERROR(hp_it_agent_on(other, as, "GET", "/v1/approvals", NULL), 401, "invalid_api_key");
    IT_ERROR(hp_it_agent(as, "POST", CREATE, body()), 401, "invalid_api_key");
    /* The bootstrap key is untouched. */
    IT_STATUS(hp_it_agent(t, "GET", "/v1/approvals", NULL), 200);

    /* Reads authenticate inside the statement that reads the approval: a
     * key revoked through the API of one replica is refused by the very
     * next read on the other, before anything about the approval shows. */
    json_object *k2 = create_key(t, t->agent_id);
    const hp_it_team *as2 = hp_it_team_as(t, NULL, jstr(k2, "api_key"));
    hp_it_resp *c = hp_it_agent(as2, "POST", CREATE,
                                hp_it_create_body("Read me?", "\"request_id\":\"fold-1\""));
    IT_STATUS_FATAL(c, 200);
    IT_STATUS(hp_it_agent(as2, "GET", "/v1/approvals/fold-1/result", NULL), 200);
    IT_STATUS(hp_it_agent_on(other, as2, "GET", "/v1/approvals/fold-1", NULL), 200);
    const char *path = hp_it_fmt("/v1/settings/keys/%s/revoke", jstr(k2, "key_id"));
    IT_STATUS(hp_it_http(other, "POST", path, hp_it_user_headers(t, true), "{}"), 204);
    IT_ERROR(hp_it_agent(as2, "GET", "/v1/approvals/fold-1/result", NULL), 401, "invalid_api_key");
    IT_ERROR(hp_it_agent(as2, "GET", "/v1/approvals/fold-1", NULL), 401, "invalid_api_key");
    IT_ERROR(hp_it_agent(as2, "GET", "/v1/approvals/no-such-request/result", NULL), 401,
             "invalid_api_key");
    IT_ERROR(hp_it_agent_on(other, as2, "GET", "/v1/approvals/fold-1/audit", NULL), 401,
             "invalid_api_key");
    /* The same approval through a live key of the same agent. */
    IT_STATUS(hp_it_agent(t, "GET", "/v1/approvals/fold-1/result", NULL), 200);
    IT_CHECK(hp_it_api_stop(other) == 0, "second API did not exit cleanly");
}

/* A new key of t (team-scoped) whose first create was looked up and
 * remembered by the replica, and whose second was answered from that
 * memory: one more hit on /metrics. */
static const hp_it_team *remembered_key(const hp_it_team *t, const char **key_id)
{
    json_object *k = create_key(t, NULL);
    const hp_it_team *as = hp_it_team_as(t, NULL, jstr(k, "api_key"));
    double hits;

    *key_id = jstr(k, "key_id");
    IT_STATUS_FATAL(hp_it_agent(as, "POST", CREATE, body()), 200);
    hits = hp_it_gauge(NULL, "holdpoint_key_memory_hits_total");
    IT_STATUS_FATAL(hp_it_agent(as, "POST", CREATE, body()), 200);
    IT_CHECK(hp_it_gauge(NULL, "holdpoint_key_memory_hits_total") == hits + 1,
             "the second create was not answered from the remembered key");
    return as;
}

static void revoke(const char *key_id)
{
    const char *args[] = {"admin", "revoke-key", "--key-id", key_id, "--json", NULL};
    IT_JBOOL(hp_it_admin(args), "revoked", true);
}

/* Creates may skip the key lookup for a key the replica remembers
 * (docs/internals/batching.md, "Creates from a remembered key"). The
 * create's insert checks the key again, and nothing else answers first:
 * revoked elsewhere, the very next create is refused with 401 whatever it
 * sends, and writes nothing; a team given a quota meanwhile has it
 * enforced. */
static void test_remembered_key_checked_again(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *id;
    const hp_it_team *as = remembered_key(t, &id);
    const char *count = "select count(*) from approvals where team_id = $1";
    long long before;
    double refused = hp_it_gauge(NULL, "holdpoint_key_memory_refused_total");

    /* Revoked by another process: the insert refuses the key. */
    revoke(id);
    before = hp_it_sql_int(count, t->team_id, NULL);
    IT_ERROR(hp_it_agent(as, "POST", CREATE, body()), 401, "invalid_api_key");
    IT_CHECK(hp_it_gauge(NULL, "holdpoint_key_memory_refused_total") == refused + 1,
             "the insert did not refuse the remembered key");
    IT_ERROR(hp_it_agent(as, "POST", CREATE, body()), 401, "invalid_api_key");
    IT_CHECK(hp_it_sql_int(count, t->team_id, NULL) == before, "a revoked key created");

    /* Answers that come before the insert look the key up first, and count
     * no create made without a lookup. */
    as = remembered_key(t, &id);
    double hits = hp_it_gauge(NULL, "holdpoint_key_memory_hits_total");
    revoke(id);
    IT_ERROR(hp_it_agent(as, "POST", CREATE, "{\"question\": 7}"), 401, "invalid_api_key");
    as = remembered_key(t, &id);
    revoke(id);
    IT_ERROR(hp_it_agent(as, "POST", CREATE, "not json"), 401, "invalid_api_key");
    /* An idempotent repeat answers from the existing row, never from memory. */
    IT_STATUS_FATAL(
        hp_it_agent(t, "POST", CREATE, hp_it_create_body("Once?", "\"request_id\":\"mem-1\"")),
        200);
    as = remembered_key(t, &id);
    IT_STATUS(
        hp_it_agent(as, "POST", CREATE, hp_it_create_body("Once?", "\"request_id\":\"mem-1\"")),
        200);
    revoke(id);
    IT_ERROR(
        hp_it_agent(as, "POST", CREATE, hp_it_create_body("Once?", "\"request_id\":\"mem-1\"")),
        401, "invalid_api_key");
    IT_CHECK(hp_it_sql_int(count, t->team_id, NULL) == before + 7,
             "the refused creates wrote rows");
    IT_CHECK(hp_it_gauge(NULL, "holdpoint_key_memory_hits_total") == hits + 2,
             "only the two creates of remembered_key were made without a lookup");

    /* A quota set since the key was remembered: this month's approvals
     * already exceed it, so the next create is over it (403). */
    as = remembered_key(t, &id);
    const char *q[] = {"admin",       "set-quota", "--team-id", t->team_id,
                       "--approvals", "1",         "--json",    NULL};
    IT_JINT(hp_it_admin(q), "approval_quota", 1);
    before = hp_it_sql_int(count, t->team_id, NULL);
    IT_ERROR(hp_it_agent(as, "POST", CREATE, body()), 403, "USAGE_APPROVAL_LIMIT");
    IT_CHECK(hp_it_sql_int(count, t->team_id, NULL) == before, "a create over the quota wrote");
}

/* The approval r answered, as "seconds|mode|instruction" from its row. */
static const char *timeout_of(hp_it_resp *r)
{
    return hp_it_sql_str("select timeout_seconds || '|' || timeout_mode || '|' || "
                         "coalesce(predefined_instruction, '-') from approvals where id = $1",
                         jstr(r->json, "approval_id"), NULL);
}

/* A create as `as` with body: 200, its approval's timeout want
 * (timeout_of), and the remembered key refused by its insert `refusals`
 * times (0 or 1) on the way. */
static void create_expecting(const hp_it_team *as, const char *body, const char *want, int refusals)
{
    double refused = hp_it_gauge(NULL, "holdpoint_key_memory_refused_total");
    hp_it_resp *r = hp_it_agent(as, "POST", CREATE, body);

    IT_STATUS_FATAL(r, 200);
    IT_CHECK(strcmp(timeout_of(r), want) == 0, "the create used %s, not %s", timeout_of(r), want);
    IT_CHECK(hp_it_gauge(NULL, "holdpoint_key_memory_refused_total") == refused + refusals,
             "the remembered key was not refused %d time(s)", refusals);
}

/* An agent's defaults changed in the settings (PATCH /v1/settings/agents)
 * while a replica remembers a key of that agent: the very next create from
 * memory is refused by its insert, looked up again and merged with the new
 * defaults, so no create gets the old ones; a body that the new defaults
 * no longer complete gets the 400 it would get after a lookup, and stores
 * nothing. */
static void test_remembered_key_new_defaults(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *id, *patch = hp_it_fmt("/v1/settings/agents/%s", t->agent_id);
    const hp_it_team *as = remembered_key(t, &id);
    const char *count = "select count(*) from approvals where team_id = $1";
    const char *partial = hp_it_create_body("Ship it?", "\"timeout\":{\"mode\":"
                                                        "\"expire_with_predefined_instruction\"}");
    const char *halt = "120|expire_with_predefined_instruction|Halt the rollout.";
    double hits;
    hp_it_resp *r;
    long long before;

    IT_STATUS_FATAL(hp_it_user(t, "PATCH", patch,
                               "{\"default_timeout_seconds\":120,\"default_timeout_mode\":"
                               "\"expire_with_predefined_instruction\","
                               "\"default_timeout_instruction\":\"Halt the rollout.\"}"),
                    200);
    create_expecting(as, body(), halt, 1);
    /* Remembered again, with the new defaults. */
    hits = hp_it_gauge(NULL, "holdpoint_key_memory_hits_total");
    create_expecting(as, partial, halt, 0);
    IT_CHECK(hp_it_gauge(NULL, "holdpoint_key_memory_hits_total") == hits + 1,
             "the create after the refresh was not answered from memory");

    /* No instruction to expire with any more: the partial timeout is
     * incomplete once merged with the new defaults. */
    IT_STATUS_FATAL(
        hp_it_user(t, "PATCH", patch, "{\"default_timeout_mode\":\"expire_no_action\"}"), 200);
    before = hp_it_sql_int(count, t->team_id, NULL);
    IT_ISSUE(hp_it_agent(as, "POST", CREATE, partial), "[\"timeout\",\"predefined_instruction\"]",
             "custom");
    IT_CHECK(hp_it_sql_int(count, t->team_id, NULL) == before, "the refused create stored a row");
    create_expecting(as, body(), "120|expire_no_action|-", 0);

    /* Another agent of the team changed: the memory is refused once (the
     * check is the team's), and the create keeps its own agent's defaults. */
    IT_STATUS_FATAL(hp_it_user(t, "PATCH",
                               hp_it_fmt("/v1/settings/agents/%s", hp_it_agent_new(t, NULL)),
                               "{\"default_timeout_seconds\":999}"),
                    200);
    create_expecting(as, body(), "120|expire_no_action|-", 1);

    /* Seed 003 hashes the merged timeout: a repeat of a request_id whose
     * body left the timeout to the defaults is another request once they
     * changed; one that gave its whole timeout is still the same. */
    const char *left = hp_it_create_body("Again?", "\"request_id\":\"dflt-1\"");
    const char *whole = hp_it_create_body(
        "Again?", "\"request_id\":\"dflt-2\",\"timeout\":{\"expires_in_seconds\":300,"
                  "\"mode\":\"expire_no_action\"}");
    IT_STATUS_FATAL(hp_it_agent(t, "POST", CREATE, left), 200);
    IT_STATUS_FATAL(hp_it_agent(t, "POST", CREATE, whole), 200);
    IT_STATUS_FATAL(hp_it_user(t, "PATCH", patch, "{\"default_timeout_seconds\":240}"), 200);
    IT_ERROR(hp_it_agent(t, "POST", CREATE, left), 409, "idempotency_conflict");
    r = hp_it_agent(t, "POST", CREATE, whole);
    IT_STATUS(r, 200);
    IT_JBOOL(r->json, "idempotent", true);
}

/* Key lookups of concurrent requests share statements (hp_batch): each
 * request still gets its own answer. 60 reads at once, in six kinds mixed
 * through the batch: two teams' own approvals, a revoked key, a wrong
 * secret, another team's request_id (404, like an unknown one) and a team's
 * list. */
static void test_concurrent_lookups_each_their_own(void)
{
    enum { N = 60, KINDS = 6 };
    const hp_it_team *a = hp_it_team_new(), *b = hp_it_team_new();
    json_object *k = create_key(a, a->agent_id);
    const hp_it_team *revoked = hp_it_team_as(a, NULL, jstr(k, "api_key"));
    const hp_it_team *wrong = hp_it_team_as(a, NULL, wrong_secret(a->api_key));
    const char *args[] = {"admin", "revoke-key", "--key-id", jstr(k, "key_id"), "--json", NULL};
    hp_it_req reqs[N];
    hp_it_resp *out[N];

    IT_STATUS_FATAL(hp_it_create_ok(a, "Team A's?", "\"request_id\":\"mine-a\""), 200);
    IT_STATUS_FATAL(hp_it_create_ok(b, "Team B's?", "\"request_id\":\"mine-b\""), 200);
    (void)hp_it_admin(args);
    for (int i = 0; i < N; i++) {
        static const char *const paths[KINDS] = {
            "/v1/approvals/mine-a", "/v1/approvals/mine-b",        "/v1/approvals/mine-a/result",
            "/v1/approvals/mine-a", "/v1/approvals/mine-b/result", "/v1/approvals"};
        const hp_it_team *who[KINDS] = {a, b, revoked, wrong, a, b};
        memset(&reqs[i], 0, sizeof(reqs[i]));
        reqs[i].method = "GET";
        reqs[i].path = paths[i % KINDS];
        reqs[i].headers = hp_it_agent_headers(who[i % KINDS], false);
    }
    hp_it_parallel(NULL, N, reqs, out);
    for (int i = 0; i < N; i++) {
        switch (i % KINDS) {
        case 0:
        case 1:
            IT_STATUS(out[i], 200);
            IT_JSTR(out[i]->json, "request_id", i % KINDS == 0 ? "mine-a" : "mine-b");
            IT_JSTR(out[i]->json, "question", i % KINDS == 0 ? "Team A's?" : "Team B's?");
            break;
        case 2:
        case 3:
            IT_ERROR(out[i], 401, "invalid_api_key");
            break;
        case 4:
            IT_ERROR(out[i], 404, "not_found");
            break;
        default:
            IT_STATUS(out[i], 200);
            IT_CHECK(strstr(out[i]->body, "Team B's?") != NULL &&
                         strstr(out[i]->body, "Team A's?") == NULL,
                     "team B's list shows its own approval only: %s", out[i]->body);
        }
    }
}

static void test_regenerated_key(void)
{
    const hp_it_team *t = hp_it_team_new();
    json_object *k = create_key(t, NULL);
    const char *old = jstr(k, "api_key"), *key_id = jstr(k, "key_id");
    const hp_it_team *as_old = hp_it_team_as(t, NULL, old);

    IT_STATUS(hp_it_agent(as_old, "GET", "/v1/approvals", NULL), 200);
    const char *args[] = {"admin", "regenerate-key", "--key-id", key_id, "--json", NULL};
    json_object *rg = hp_it_admin(args);
    const char *fresh = jstr(rg, "api_key");
    IT_CHECK(strcmp(fresh, old) != 0, "regenerate-key returned the same key");
    IT_JSTR(rg, "replaces", key_id);

    IT_ERROR(hp_it_agent(as_old, "GET", "/v1/approvals", NULL), 401, "invalid_api_key");
    IT_STATUS(hp_it_agent(hp_it_team_as(t, NULL, fresh), "GET", "/v1/approvals", NULL), 200);
}

static void test_invalid_agent(void)
{
    const hp_it_team *t = hp_it_team_new();
    const hp_it_team *other = hp_it_team_new();

    IT_ERROR(create_with(hdr_agent("not-a-uuid"), hdr_key(t->api_key)), 401, "invalid_agent");
    IT_ERROR(create_with(hdr_agent("00000000-0000-4000-8000-000000000000"), hdr_key(t->api_key)),
             401, "invalid_agent");
    /* Another team's agent with this team's key. */
    IT_ERROR(create_with(hdr_agent(other->agent_id), hdr_key(t->api_key)), 401, "invalid_agent");
    /* An agent-scoped key used for another agent of the same team. */
    const char *a2 = hp_it_agent_new(t, NULL);
    const char *scoped = jstr(create_key(t, t->agent_id), "api_key");
    IT_ERROR(create_with(hdr_agent(a2), hdr_key(scoped)), 401, "invalid_agent");
    /* ... but it works for its own agent. */
    IT_STATUS(create_with(hdr_agent(t->agent_id), hdr_key(scoped)), 200);
    /* Nothing was created for the other team. */
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where team_id = $1", other->team_id,
                           NULL) == 0,
             "a refused create wrote a row for the other team");
}

static void test_bearer_forms(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *a2 = hp_it_agent_new(t, NULL);
    json_object *k = create_key(t, a2);
    const char *scoped = jstr(k, "api_key");
    IT_JSTR(k, "agent_id", a2);

    /* An agent-scoped key alone identifies its agent. */
    hp_it_resp *r = create_with(hdr_bearer(scoped), NULL);
    IT_STATUS_FATAL(r, 200);
    const char *rid = jstr(r->json, "request_id");
    r = hp_it_agent(hp_it_team_as(t, a2, NULL), "GET", hp_it_fmt("/v1/approvals/%s", rid), NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "agent_id", a2);
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where agent_id = $1", a2, NULL) == 1,
             "the Bearer create did not land on the key's agent");

    /* A team key with X-Agent-Id. */
    r = create_with(hdr_bearer(t->api_key), hdr_agent(t->agent_id));
    IT_STATUS(r, 200);
    /* A team key alone acts as the team's default agent (tests/it_keys.c). */
    IT_STATUS(create_with(hdr_bearer(t->api_key), NULL), 200);
    /* Garbage. */
    IT_ERROR(create_with(hdr_bearer("garbage"), hdr_agent(t->agent_id)), 401, "invalid_api_key");
    IT_ERROR(create_with(hdr_bearer(wrong_secret(scoped)), NULL), 401, "invalid_api_key");
    /* A scoped key with another agent's id. */
    IT_ERROR(create_with(hdr_bearer(scoped), hdr_agent(t->agent_id)), 401, "invalid_agent");
}

static bool has_agent(json_object *items, const char *id)
{
    int n = hp_it_jlen(items);
    for (int i = 0; i < n; i++) {
        json_object *a = json_object_array_get_idx(items, (size_t)i);
        json_object *v = hp_it_jget(a, "agent_id", NULL);
        if (v != NULL && strcmp(json_object_get_string(v), id) == 0)
            return true;
    }
    return false;
}

static void test_team_key_alone_lists_agents(void)
{
    const hp_it_team *t = hp_it_team_new();
    const hp_it_team *other = hp_it_team_new();
    const char *a2 = hp_it_agent_new(t, NULL);
    const char *only_key[] = {hdr_key(t->api_key), NULL};

    hp_it_resp *r = hp_it_http(NULL, "GET", "/v1/agents", only_key, NULL);
    IT_STATUS_FATAL(r, 200);
    json_object *items = hp_it_jget(r->json, "items", NULL);
    IT_CHECK_FATAL(hp_it_jlen(items) == 2, "want the team's 2 agents, got %s", hp_it_jtext(items));
    IT_CHECK(has_agent(items, t->agent_id) && has_agent(items, a2), "agents missing: %s",
             hp_it_jtext(items));
    IT_CHECK(!has_agent(items, other->agent_id), "another team's agent is listed");
    json_object *first = json_object_array_get_idx(items, 0);
    IT_CHECK(hp_it_jget(first, "name", NULL) != NULL, "agent without name: %s", hp_it_jtext(first));
    IT_JINT(first, "default_timeout_seconds", 3600);
    IT_JSTR(first, "default_timeout_mode", "expire_no_action");
    IT_JNULL(first, "default_timeout_instruction");
    IT_CHECK(hp_it_time(json_object_get_string(hp_it_jget(first, "created_at", NULL))) > 0,
             "agent created_at is not RFC 3339: %s", hp_it_jtext(first));

    /* Any agent form works too. */
    IT_STATUS(hp_it_agent(t, "GET", "/v1/agents", NULL), 200);
    /* An agent-scoped key sees only its agent. */
    const char *scoped = jstr(create_key(t, a2), "api_key");
    const char *scoped_h[] = {hdr_key(scoped), NULL};
    r = hp_it_http(NULL, "GET", "/v1/agents", scoped_h, NULL);
    IT_STATUS(r, 200);
    items = hp_it_jget(r->json, "items", NULL);
    IT_CHECK(hp_it_jlen(items) == 1 && has_agent(items, a2),
             "agent-scoped key must list only its agent: %s", hp_it_jtext(items));
    /* No key, a bad key. */
    IT_ERROR(hp_it_http(NULL, "GET", "/v1/agents", NULL, NULL), 401, "missing_agent_auth");
    const char *bad[] = {hdr_key("garbage"), NULL};
    IT_ERROR(hp_it_http(NULL, "GET", "/v1/agents", bad, NULL), 401, "invalid_api_key");
}

static void test_user_token(void)
{
    const hp_it_team *t = hp_it_team_new();

    hp_it_resp *r = hp_it_user(t, "GET", "/v1/review/approvals", NULL);
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 0,
             "a fresh team's inbox is not empty: %s", r->body);

    IT_ERROR(hp_it_http(NULL, "GET", "/v1/review/approvals", NULL, NULL), 401,
             "invalid_user_token");
    const char *garbage[] = {hdr_bearer("garbage"), NULL};
    IT_ERROR(hp_it_http(NULL, "GET", "/v1/review/approvals", garbage, NULL), 401,
             "invalid_user_token");
    const char *wrong[] = {hdr_bearer(wrong_secret(t->user_token)), NULL};
    IT_ERROR(hp_it_http(NULL, "GET", "/v1/review/approvals", wrong, NULL), 401,
             "invalid_user_token");
    /* An API key is not a user token. */
    const char *apikey[] = {hdr_bearer(t->api_key), NULL};
    IT_ERROR(hp_it_http(NULL, "GET", "/v1/review/approvals", apikey, NULL), 401,
             "invalid_user_token");
    IT_ERROR(hp_it_http(NULL, "GET", "/v1/review/approvals/00000000-0000-4000-8000-000000000000",
                        NULL, NULL),
             401, "invalid_user_token");
    const char *json_ct[] = {"Content-Type: application/json", NULL};
    IT_ERROR(hp_it_http(NULL, "POST",
                        "/v1/review/approvals/00000000-0000-4000-8000-000000000000/resolve",
                        json_ct, "{\"option_index\":0}"),
             401, "invalid_user_token");
    /* A user created later gets a working token of its own. */
    const char *args[] = {
        "admin",      "create-user",      "--team-id",
        t->team_id,   "--email",          hp_it_fmt("it-rev-%s@example.test", hp_it_unique()),
        "--password", "it-password-5678", "--role",
        "reviewer",   "--json",           NULL};
    json_object *u = hp_it_admin(args);
    const char *tok = jstr(u, "user_token");
    const char *ok[] = {hdr_bearer(tok), NULL};
    IT_STATUS(hp_it_http(NULL, "GET", "/v1/review/approvals", ok, NULL), 200);
}

static bool valid_request_id(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 128)
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") ==
           strlen(s);
}

static void test_request_id_everywhere(void)
{
    const hp_it_team *t = hp_it_team_new();
    hp_it_resp *rs[6];

    rs[0] = hp_it_http(NULL, "GET", "/v1/approvals/x", NULL, NULL);       /* 401 */
    rs[1] = hp_it_agent(t, "GET", "/v1/approvals/no-such-request", NULL); /* 404 */
    rs[2] = hp_it_agent(t, "POST", CREATE, body());                       /* 200 */
    rs[3] = hp_it_agent(t, "POST", CREATE, "{");                          /* 400 */
    rs[4] = hp_it_http(NULL, "GET", "/healthz", NULL, NULL);              /* 200 */
    rs[5] = hp_it_agent(t, "GET", "/v1/no-such-route", NULL);             /* 404 */
    IT_ERROR(rs[0], 401, "missing_agent_auth");
    IT_ERROR(rs[1], 404, "not_found");
    IT_STATUS(rs[2], 200);
    IT_ISSUE(rs[3], "[]", "invalid_json");
    IT_STATUS(rs[4], 200);
    IT_ERROR(rs[5], 404, "not_found");
    for (int i = 0; i < 6; i++) {
        const char *x = hp_it_header(rs[i], "X-Request-Id");
        IT_CHECK(valid_request_id(x), "response %d: bad X-Request-Id %s", i, x ? x : "(none)");
    }
    /* Distinct per request. */
    IT_CHECK(
        strcmp(hp_it_header(rs[0], "X-Request-Id") ? hp_it_header(rs[0], "X-Request-Id") : "",
               hp_it_header(rs[1], "X-Request-Id") ? hp_it_header(rs[1], "X-Request-Id") : "") != 0,
        "two requests got the same X-Request-Id");
}

static void test_method_not_allowed(void)
{
    const hp_it_team *t = hp_it_team_new();
    hp_it_resp *r = hp_it_agent(t, "DELETE", CREATE, NULL);
    IT_ERROR(r, 405, "method_not_allowed");
    r = hp_it_agent(t, "PUT", "/v1/approvals/x/result", NULL);
    IT_ERROR(r, 405, "method_not_allowed");
}

static void test_client_request_id_kept(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *mine = "it-trace_1.2:abc-XYZ";

    /* On an error: header and body request_id. */
    const char *h[] = {hp_it_fmt("X-Request-Id: %s", mine), NULL};
    hp_it_resp *r = hp_it_http(NULL, "GET", "/v1/approvals/x/result", h, NULL);
    IT_ERROR(r, 401, "missing_agent_auth");
    const char *x = hp_it_header(r, "X-Request-Id");
    IT_CHECK(x != NULL && strcmp(x, mine) == 0, "X-Request-Id not kept: %s", x ? x : "(none)");
    IT_JSTR(r->json, "request_id", mine);

    /* On a success. */
    const char *h2[] = {hdr_agent(t->agent_id), hdr_key(t->api_key),
                        "Content-Type: application/json", h[0], NULL};
    r = hp_it_http(NULL, "POST", CREATE, h2, body());
    IT_STATUS(r, 200);
    x = hp_it_header(r, "X-Request-Id");
    IT_CHECK(x != NULL && strcmp(x, mine) == 0, "X-Request-Id not kept on 200: %s",
             x ? x : "(none)");

    /* 128 characters are kept; 129, or a character outside the set, are not. */
    const char *max = hp_it_repeat("a", 128);
    const char *h3[] = {hp_it_fmt("X-Request-Id: %s", max), NULL};
    r = hp_it_http(NULL, "GET", "/healthz", h3, NULL);
    x = hp_it_header(r, "X-Request-Id");
    IT_CHECK(x != NULL && strcmp(x, max) == 0, "128-character X-Request-Id not kept");
    const char *too_long = hp_it_repeat("a", 129);
    const char *h4[] = {hp_it_fmt("X-Request-Id: %s", too_long), NULL};
    r = hp_it_http(NULL, "GET", "/v1/approvals/x/result", h4, NULL);
    IT_ERROR(r, 401, "missing_agent_auth");
    x = hp_it_header(r, "X-Request-Id");
    IT_CHECK(valid_request_id(x) && strcmp(x, too_long) != 0,
             "129-character X-Request-Id must be replaced, got %s", x ? x : "(none)");
    const char *h5[] = {"X-Request-Id: bad id!", NULL};
    r = hp_it_http(NULL, "GET", "/v1/approvals/x/result", h5, NULL);
    x = hp_it_header(r, "X-Request-Id");
    IT_CHECK(valid_request_id(x), "invalid X-Request-Id must be replaced, got %s",
             x ? x : "(none)");
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"missing_agent_auth", test_missing_agent_auth},
        {"invalid_api_key", test_invalid_api_key},
        {"revoked_key_on_every_replica", test_revoked_key_on_every_replica},
        {"remembered_key_checked_again", test_remembered_key_checked_again},
        {"remembered_key_new_defaults", test_remembered_key_new_defaults},
        {"regenerated_key", test_regenerated_key},
        {"concurrent_lookups_each_their_own", test_concurrent_lookups_each_their_own},
        {"invalid_agent", test_invalid_agent},
        {"bearer_forms", test_bearer_forms},
        {"team_key_alone_lists_agents", test_team_key_alone_lists_agents},
        {"user_token", test_user_token},
        {"request_id_everywhere", test_request_id_everywhere},
        {"method_not_allowed", test_method_not_allowed},
        {"client_request_id_kept", test_client_request_id_kept},
        {NULL, NULL},
    };
    return hp_it_main("auth", tests, NULL, NULL);
}
