/*
 * The reviewer API (docs/api.md "Reviewer API"): the team-scoped inbox with
 * status filter and cursor, one approval in full, resolve by option or by
 * instruction with its 400s, the user token checked by the decision's own
 * statement (a wrong or removed member's token: 401, nothing written), and
 * the first-resolution-wins race: 50
 * concurrent resolves give one 200, 49 × 409 already_resolved and one
 * `resolved` event.
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

static const char *create(const hp_it_team *t, const char *rid, const char *extra)
{
    const char *m =
        hp_it_fmt("\"request_id\":\"%s\"%s%s", rid, extra ? "," : "", extra ? extra : "");
    hp_it_resp *r = hp_it_create_ok(t, hp_it_fmt("Question %s?", rid), m);
    return str_of(r->json, "approval_id");
}

/* A reviewer added to t with `holdpoint admin create-user`: t acting with
 * the reviewer's user token; *u is the command's JSON (user_id, ...). */
static const hp_it_team *add_reviewer(const hp_it_team *t, const char *name, json_object **u)
{
    const char *email = hp_it_fmt("it-rev-%s@example.test", hp_it_unique());
    const char *args[] = {"admin",  "create-user", "--team-id",        t->team_id, "--email",
                          email,    "--password",  "it-password-5678", "--name",   name,
                          "--role", "reviewer",    "--json",           NULL};
    hp_it_team *rev = (hp_it_team *)hp_it_team_as(t, NULL, NULL);

    *u = hp_it_admin(args);
    rev->user_token = str_of(*u, "user_token");
    return rev;
}

static hp_it_resp *resolve_as(const hp_it_team *t, const char *id, const char *body)
{
    return hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", id), body);
}

/* 400 invalid_payload with an issue at path (any code). */
static void expect_bad(hp_it_resp *r, const char *path, int line)
{
    if (!hp_it__error(r, 400, "invalid_payload", __FILE__, (unsigned)line))
        return;
    json_object *issues = hp_it_jget(r->json, "issues", NULL);
    bool found = false;
    for (int i = 0; i < hp_it_jlen(issues); i++) {
        json_object *p = hp_it_jget(json_object_array_get_idx(issues, (size_t)i), "path", NULL);
        if (strcmp(hp_it_jtext(p), path) == 0)
            found = true;
    }
    hp_it__check(found, __FILE__, (unsigned)line, false, "want an issue at %s, got %s", path,
                 r->body);
}

#define BAD(r, path) expect_bad((r), (path), __LINE__)

static const char *ids_of(hp_it_resp *r)
{
    json_object *items = hp_it_jget(r->json, "items", NULL);
    char *s = hp_it_fmt("%s", "");
    for (int i = 0; i < hp_it_jlen(items); i++) {
        json_object *v =
            hp_it_jget(json_object_array_get_idx(items, (size_t)i), "request_id", NULL);
        s = hp_it_fmt("%s%s%s", s, i ? "," : "", v ? json_object_get_string(v) : "?");
    }
    return s;
}

static void test_inbox_team_scoped(void)
{
    const hp_it_team *t = hp_it_team_new();
    const hp_it_team *other = hp_it_team_new();
    const hp_it_team *t2 = hp_it_team_as(t, hp_it_agent_new(t, NULL), NULL);
    const char *a = create(t, "in-a", NULL);
    create(other, "in-other", NULL);
    create(t2, "in-b", NULL);
    create(t, "in-c", NULL);
    IT_STATUS(resolve_as(t, a, "{\"option_index\":0}"), 200);

    /* Default status is pending; both of the team's agents; newest first. */
    hp_it_resp *r = hp_it_user(t, "GET", "/v1/review/approvals", NULL);
    IT_STATUS(r, 200);
    IT_CHECK(strcmp(ids_of(r), "in-c,in-b") == 0, "pending inbox: want [in-c,in-b], got [%s]",
             ids_of(r));
    r = hp_it_user(t, "GET", "/v1/review/approvals?status=pending", NULL);
    IT_CHECK(strcmp(ids_of(r), "in-c,in-b") == 0, "status=pending: got [%s]", ids_of(r));
    r = hp_it_user(t, "GET", "/v1/review/approvals?status=all", NULL);
    IT_CHECK(strcmp(ids_of(r), "in-c,in-b,in-a") == 0, "status=all: got [%s]", ids_of(r));
    r = hp_it_user(t, "GET", "/v1/review/approvals?status=selected_option", NULL);
    IT_CHECK(strcmp(ids_of(r), "in-a") == 0, "status=selected_option: got [%s]", ids_of(r));

    /* The other team sees only its own. */
    r = hp_it_user(other, "GET", "/v1/review/approvals?status=all", NULL);
    IT_CHECK(strcmp(ids_of(r), "in-other") == 0, "other team: got [%s]", ids_of(r));

    /* Cursor pagination, limit 1. */
    const char *seen = "";
    const char *cursor = NULL;
    for (int page = 0; page < 5; page++) {
        r = hp_it_user(t, "GET",
                       cursor
                           ? hp_it_fmt("/v1/review/approvals?status=all&limit=1&cursor=%s", cursor)
                           : "/v1/review/approvals?status=all&limit=1",
                       NULL);
        IT_STATUS_FATAL(r, 200);
        seen = hp_it_fmt("%s%s%s", seen, *seen && *ids_of(r) ? "," : "", ids_of(r));
        bool present = false;
        json_object *nc = hp_it_jget(r->json, "next_cursor", &present);
        if (nc == NULL)
            break;
        cursor = hp_it_fmt("%s", json_object_get_string(nc));
    }
    IT_CHECK(strcmp(seen, "in-c,in-b,in-a") == 0, "paged inbox: got [%s]", seen);
}

static void test_get_one(void)
{
    const hp_it_team *t = hp_it_team_new();
    const hp_it_team *other = hp_it_team_new();
    const char *id =
        create(t, "one-1", "\"notification_summary\":\"Deploy #123\",\"correlation_id\":\"x\"");

    hp_it_resp *r = hp_it_user(t, "GET", hp_it_fmt("/v1/review/approvals/%s", id), NULL);
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "approval_id", id);
    IT_JSTR(r->json, "request_id", "one-1");
    IT_JSTR(r->json, "agent_id", t->agent_id);
    bool present = false;
    hp_it_jget(r->json, "agent_name", &present);
    IT_CHECK(present, "agent_name missing: %s", r->body);
    IT_JSTR(r->json, "question", "Question one-1?");
    IT_JSTR(r->json, "context_markdown", "Build #123 passed CI.");
    IT_JSTR(r->json, "notification_summary", "Deploy #123");
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "options", NULL)) == 2, "want 2 options: %s", r->body);
    IT_JINT(r->json, "options.0.index", 0);
    IT_JSTR(r->json, "options.0.label", "Approve");
    IT_JSTR(r->json, "options.0.value", "approve");
    IT_JBOOL(r->json, "options.0.is_default_on_timeout", false);
    IT_JINT(r->json, "options.1.index", 1);
    IT_JSTR(r->json, "options.1.label", "Reject");
    IT_JSTR(r->json, "options.1.value", "reject");
    IT_JBOOL(r->json, "allow_custom_instruction", true);
    IT_JSTR(r->json, "status", "pending");
    IT_JNULL(r->json, "session_id");
    IT_JNULL(r->json, "metadata");
    IT_CHECK(hp_it_time(str_of(r->json, "created_at")) > 0, "created_at: %s", r->body);
    IT_CHECK(hp_it_time(str_of(r->json, "expires_at")) > 0, "expires_at: %s", r->body);
    IT_JNULL(r->json, "resolved_at");
    IT_JNULL(r->json, "resolved_by");
    IT_JNULL(r->json, "selected_option_index");
    IT_JNULL(r->json, "custom_instruction");

    /* After a resolve. */
    IT_STATUS(resolve_as(t, id, "{\"option_index\":1}"), 200);
    r = hp_it_user(t, "GET", hp_it_fmt("/v1/review/approvals/%s", id), NULL);
    IT_JSTR(r->json, "status", "selected_option");
    IT_JINT(r->json, "selected_option_index", 1);
    IT_JSTR(r->json, "resolved_by.user_id", t->user_id);
    IT_CHECK(hp_it_time(str_of(r->json, "resolved_at")) > 0, "resolved_at: %s", r->body);

    /* Another team's approval, an unknown id, a non-UUID: 404. */
    IT_ERROR(hp_it_user(other, "GET", hp_it_fmt("/v1/review/approvals/%s", id), NULL), 404,
             "not_found");
    IT_ERROR(
        hp_it_user(t, "GET", "/v1/review/approvals/00000000-0000-4000-8000-000000000000", NULL),
        404, "not_found");
    IT_ERROR(hp_it_user(t, "GET", "/v1/review/approvals/not-a-uuid", NULL), 404, "not_found");
    IT_ERROR(resolve_as(t, "not-a-uuid", "{\"option_index\":0}"), 404, "not_found");
}

static void test_resolve_forms(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *a = create(t, "rf-a", NULL);
    const char *b = create(t, "rf-b", NULL);

    hp_it_resp *r = resolve_as(t, a, "{\"option_index\":1}");
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "approval_id", a);
    IT_JSTR(r->json, "request_id", "rf-a");
    IT_JSTR(r->json, "status", "selected_option");
    IT_JINT(r->json, "selected_option_index", 1);
    IT_JSTR(r->json, "selected_option_label", "Reject");
    IT_JSTR(r->json, "selected_option_value", "reject");
    IT_JNULL(r->json, "custom_instruction");
    IT_JSTR(r->json, "resolved_by.user_id", t->user_id);
    IT_JSTR(r->json, "resolved_by.name", t->user_name);

    const char *instr = hp_it_repeat("w", 2500);
    r = resolve_as(t, b, hp_it_fmt("{\"custom_instruction\":\"%s\"}", instr));
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "status", "custom_instruction");
    IT_JSTR(r->json, "custom_instruction", instr);
    IT_JNULL(r->json, "selected_option_index");

    /* A reviewer added later resolves under its own name. */
    json_object *u;
    const hp_it_team *rev = add_reviewer(t, "Grace", &u);
    const char *c = create(t, "rf-c", NULL);
    r = resolve_as(rev, c, "{\"option_index\":0}");
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "resolved_by.user_id", str_of(u, "user_id"));
    IT_JSTR(r->json, "resolved_by.name", "Grace");
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events where approval_id = $1 and "
                           "kind = 'resolved' and actor_type = 'user' and actor_id = $2",
                           c, str_of(u, "user_id"), NULL) == 1,
             "want a resolved event by the reviewer");
}

/* The decision checks a user token in its own statement: a wrong secret,
 * a malformed token, or the token of a member removed a moment before is
 * refused with 401 and changes nothing; the owner's token then decides. */
static void test_resolve_token(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *id = create(t, "rt-1", NULL);
    json_object *u;
    const hp_it_team *rev = add_reviewer(t, "Ada", &u);

    hp_it_team *wrong = (hp_it_team *)hp_it_team_as(t, NULL, NULL);
    char *w = hp_it_fmt("%s", rev->user_token);
    size_t n = strlen(w);
    w[n - 1] = w[n - 1] == 'A' ? 'B' : 'A';
    wrong->user_token = w;
    IT_ERROR(resolve_as(wrong, id, "{\"option_index\":0}"), 401, "invalid_user_token");
    wrong->user_token = "hpu_short";
    IT_ERROR(resolve_as(wrong, id, "{\"option_index\":0}"), 401, "invalid_user_token");
    wrong->user_token = t->api_key; /* an API key is not a user token */
    IT_ERROR(resolve_as(wrong, id, "{\"option_index\":0}"), 401, "invalid_user_token");

    /* Removed, then refused by the very next decision. */
    IT_STATUS(
        hp_it_user(t, "DELETE", hp_it_fmt("/v1/settings/members/%s", str_of(u, "user_id")), NULL),
        204);
    IT_ERROR(resolve_as(rev, id, "{\"option_index\":0}"), 401, "invalid_user_token");

    IT_CHECK(hp_it_sql_int("select count(*) from approvals where id = $1 and status = 'pending' "
                           "and resolved_by_user_id is null",
                           id, NULL) == 1,
             "a refused token changed the approval");
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events where approval_id = $1 and "
                           "kind = 'resolved'",
                           id, NULL) == 0,
             "a refused token wrote an event");
    IT_CHECK(hp_it_sql_int("select count(*) from action_responses where approval_id = $1", id,
                           NULL) == 0,
             "a refused token recorded an action response");

    hp_it_resp *r = resolve_as(t, id, "{\"option_index\":0}");
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "resolved_by.user_id", t->user_id);
    IT_JSTR(r->json, "resolved_by.name", t->user_name);
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events where approval_id = $1 and "
                           "kind = 'resolved' and actor_type = 'user' and actor_id = $2",
                           id, t->user_id, NULL) == 1,
             "want one resolved event by the owner");
}

static void test_resolve_invalid(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *id = create(t, "ri-1", NULL);
    const char *strict = create(t, "ri-2", "\"allow_custom_instruction\":false");

    BAD(resolve_as(t, id, "{\"option_index\":2}"), "[\"option_index\"]");
    BAD(resolve_as(t, id, "{\"option_index\":-1}"), "[\"option_index\"]");
    BAD(resolve_as(t, id, "{\"option_index\":\"0\"}"), "[\"option_index\"]");
    BAD(resolve_as(t, id, "{\"option_index\":0.5}"), "[\"option_index\"]");
    BAD(resolve_as(t, id, "{\"custom_instruction\":\"\"}"), "[\"custom_instruction\"]");
    BAD(resolve_as(t, id, hp_it_fmt("{\"custom_instruction\":\"%s\"}", hp_it_repeat("w", 2501))),
        "[\"custom_instruction\"]");
    /* Exactly one of the two. */
    hp_it_resp *r = resolve_as(t, id, "{}");
    IT_ERROR(r, 400, "invalid_payload");
    r = resolve_as(t, id, "{\"option_index\":0,\"custom_instruction\":\"both\"}");
    IT_ERROR(r, 400, "invalid_payload");
    IT_ISSUE(resolve_as(t, id, "{"), "[]", "invalid_json");

    /* allow_custom_instruction false refuses free text, not options. */
    hp_it_resp *g = hp_it_user(t, "GET", hp_it_fmt("/v1/review/approvals/%s", strict), NULL);
    IT_JBOOL(g->json, "allow_custom_instruction", false);
    BAD(resolve_as(t, strict, "{\"custom_instruction\":\"do something else\"}"),
        "[\"custom_instruction\"]");

    /* Nothing changed. */
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where team_id = $1 and status = "
                           "'pending'",
                           t->team_id, NULL) == 2,
             "a refused resolve changed an approval");
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events e join approvals a on a.id = "
                           "e.approval_id where a.team_id = $1 and e.kind = 'resolved'",
                           t->team_id, NULL) == 0,
             "a refused resolve wrote an event");
    IT_STATUS(resolve_as(t, strict, "{\"option_index\":0}"), 200);

    /* Another team cannot resolve it. */
    const hp_it_team *other = hp_it_team_new();
    IT_ERROR(resolve_as(other, id, "{\"option_index\":0}"), 404, "not_found");
    r = hp_it_agent(t, "GET", "/v1/approvals/ri-1/result", NULL);
    IT_JSTR(r->json, "status", "pending");
    /* 415 on the reviewer API too. */
    const char *h[] = {hp_it_fmt("Authorization: Bearer %s", t->user_token),
                       "Content-Type: text/plain", NULL};
    IT_ERROR(hp_it_http(NULL, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", id), h,
                        "{\"option_index\":0}"),
             415, "unsupported_media_type");
}

static void test_second_resolve(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *id = create(t, "twice", NULL);
    IT_STATUS(resolve_as(t, id, "{\"option_index\":0}"), 200);
    IT_ERROR(resolve_as(t, id, "{\"option_index\":1}"), 409, "already_resolved");
    IT_ERROR(resolve_as(t, id, "{\"custom_instruction\":\"late\"}"), 409, "already_resolved");
    hp_it_resp *r = hp_it_agent(t, "GET", "/v1/approvals/twice/result", NULL);
    IT_JSTR(r->json, "status", "selected_option");
    IT_JINT(r->json, "selected_option_index", 0);
}

static void test_concurrent_resolves(void)
{
    enum { N = 50 };
    const hp_it_team *t = hp_it_team_new();
    const char *id = create(t, "race", NULL);
    hp_it_req reqs[N];
    hp_it_resp *out[N];
    for (int i = 0; i < N; i++) {
        memset(&reqs[i], 0, sizeof(reqs[i]));
        reqs[i].method = "POST";
        reqs[i].path = hp_it_fmt("/v1/review/approvals/%s/resolve", id);
        reqs[i].headers = hp_it_user_headers(t, true);
        reqs[i].body = hp_it_fmt("{\"option_index\":%d}", i % 2);
    }
    hp_it_parallel(NULL, N, reqs, out);
    int won = -1, ok = 0, conflict = 0;
    for (int i = 0; i < N; i++) {
        if (out[i]->status == 200) {
            ok++;
            won = i;
        } else if (out[i]->status == 409) {
            conflict++;
            IT_ERROR(out[i], 409, "already_resolved");
        } else {
            IT_CHECK(false, "resolve %d: %s", i, out[i]->status ? out[i]->body : out[i]->error);
        }
    }
    IT_CHECK(ok == 1 && conflict == N - 1, "want 1 x 200 and %d x 409, got %d and %d", N - 1, ok,
             conflict);
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events where approval_id = $1 and "
                           "kind = 'resolved'",
                           id, NULL) == 1,
             "want exactly one resolved event");
    if (won >= 0) {
        hp_it_resp *r = hp_it_agent(t, "GET", "/v1/approvals/race/result", NULL);
        IT_JINT(r->json, "selected_option_index", won % 2);
    }
}

int main(void)
{
    static const char *const dflt_env[] = {"AGENT_CREATE_RATE_LIMIT_MAX=1000000", NULL};
    static const hp_it_test tests[] = {
        {"inbox_team_scoped", test_inbox_team_scoped},
        {"get_one", test_get_one},
        {"resolve_forms", test_resolve_forms},
        {"resolve_invalid", test_resolve_invalid},
        {"resolve_token", test_resolve_token},
        {"second_resolve_409", test_second_resolve},
        {"concurrent_resolves", test_concurrent_resolves},
        {NULL, NULL},
    };
    hp_it_set_default_env(dflt_env);
    return hp_it_main("review", tests, NULL, NULL);
}
