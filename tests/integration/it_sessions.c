/*
 * Seed 004 sessions and messages over HTTP: project selection by key scope
 * (X-Agent-Id, project_id, project, neither), explicit and implicit
 * sessions, the list with its cursor and status filter, counts, the
 * parent/child tree, end (final, repeatable), messages with their limits,
 * idempotency and parents, the reviewer reads, and 404 for every id of
 * another team or project.
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

/* As the team's key alone (no X-Agent-Id). */
static hp_it_resp *team_call(const hp_it_team *t, const char *method, const char *path,
                             const char *body)
{
    const char *h[] = {hp_it_fmt("X-Api-Key: %s", t->api_key),
                       body ? "Content-Type: application/json" : NULL, NULL};
    return hp_it_http(NULL, method, path, h, body);
}

static const char *agent_name(const hp_it_team *t)
{
    hp_it_resp *r = hp_it_agent(t, "GET", "/v1/agents", NULL);
    json_object *items = hp_it_jget(r->json, "items", NULL);
    for (int i = 0; i < hp_it_jlen(items); i++) {
        json_object *a = json_object_array_get_idx(items, (size_t)i);
        if (strcmp(str_of(a, "agent_id"), t->agent_id) == 0)
            return str_of(a, "name");
    }
    IT_CHECK_FATAL(false, "agent %s not listed", t->agent_id);
    return NULL;
}

static void test_project_selection(void)
{
    const hp_it_team *t = hp_it_team_new();
    const hp_it_team *other = hp_it_team_new();
    const char *name = agent_name(t);
    hp_it_resp *r;

    /* X-Agent-Id with the team key. */
    r = hp_it_agent(t, "POST", "/v1/sessions", "{\"label\":\"Tuesday morning run\"}");
    IT_STATUS(r, 201);
    IT_JSTR(r->json, "project_id", t->agent_id);
    IT_JSTR(r->json, "label", "Tuesday morning run");
    IT_JSTR(r->json, "status", "active");
    IT_CHECK(hp_it_is_uuid(str_of(r->json, "id")), "server ids are UUIDs: %s", r->body);

    /* Team key alone: project by name (body) or project_id (query). */
    r = team_call(t, "POST", "/v1/sessions",
                  hp_it_fmt("{\"project\":\"%s\",\"agent\":\"claude-code\","
                            "\"agent_version\":\"2.1.119\",\"metadata\":{\"repo\":\"x\"}}",
                            hp_it_jesc(name)));
    IT_STATUS(r, 201);
    IT_JSTR(r->json, "project_id", t->agent_id);
    IT_JSTR(r->json, "project", name);
    IT_JSTR(r->json, "agent", "claude-code");
    IT_JSTR(r->json, "metadata.repo", "x");
    r = team_call(t, "GET", hp_it_fmt("/v1/sessions?project_id=%s", t->agent_id), NULL);
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 2, "two sessions: %s", r->body);

    /* Neither: 400 naming project_id; another team's project: 404. */
    r = team_call(t, "GET", "/v1/sessions", NULL);
    IT_ERROR(r, 400, "invalid_query");
    r = team_call(t, "POST", "/v1/sessions", "{}");
    IT_ISSUE(r, "[\"project_id\"]", "invalid_type");
    r = team_call(t, "GET", hp_it_fmt("/v1/sessions?project_id=%s", other->agent_id), NULL);
    IT_ERROR(r, 404, "not_found");
    r = team_call(t, "GET", "/v1/sessions?project=no-such-project", NULL);
    IT_ERROR(r, 404, "not_found");
    r = team_call(t, "GET", "/v1/sessions?project_id=not-a-uuid", NULL);
    IT_ERROR(r, 404, "not_found");
    /* An agent-scoped key ignores selectors. */
    json_object *k = hp_it_admin((const char *[]){"admin", "create-key", "--team-id", t->team_id,
                                                  "--agent-id", t->agent_id, "--json", NULL});
    const char *akey = str_of(k, "api_key");
    const char *h[] = {hp_it_fmt("Authorization: Bearer %s", akey), NULL};
    r = hp_it_http(NULL, "GET", hp_it_fmt("/v1/sessions?project_id=%s", other->agent_id), h, NULL);
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 2, "own sessions: %s", r->body);
    /* No key at all. */
    r = hp_it_http(NULL, "GET", "/v1/sessions", NULL, NULL);
    IT_ERROR(r, 401, "missing_agent_auth");
}

static void test_adopt_and_end(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *sid = hp_it_fmt("claude-%s", hp_it_unique());
    hp_it_resp *r;

    r = hp_it_agent(t, "POST", "/v1/sessions",
                    hp_it_fmt("{\"session_id\":\"%s\",\"label\":\"first\"}", sid));
    IT_STATUS(r, 201);
    IT_JSTR(r->json, "id", sid);
    IT_JBOOL(r->json, "implicit", false);
    /* Adopting an existing id answers it (200) with the new label. */
    r = hp_it_agent(t, "POST", "/v1/sessions",
                    hp_it_fmt("{\"session_id\":\"%s\",\"label\":\"second\"}", sid));
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "label", "second");

    r = hp_it_agent(t, "POST", hp_it_fmt("/v1/sessions/%s/end", sid),
                    "{\"status\":\"error\",\"error\":\"tests failed\"}");
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "error");
    IT_JSTR(r->json, "error", "tests failed");
    IT_CHECK(hp_it_time(str_of(r->json, "ended_at")) > 0, "ended_at: %s", r->body);
    /* Ending is final: a repeat answers the session as it is. */
    r = hp_it_agent(t, "POST", hp_it_fmt("/v1/sessions/%s/end", sid), NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "error");
    /* The default end status is completed. */
    r = hp_it_agent(t, "POST", "/v1/sessions", "{}");
    const char *s2 = str_of(r->json, "id");
    r = hp_it_agent(t, "POST", hp_it_fmt("/v1/sessions/%s/end", s2), NULL);
    IT_JSTR(r->json, "status", "completed");
    IT_JNULL(r->json, "error");
    r = hp_it_agent(t, "POST", hp_it_fmt("/v1/sessions/%s/end", s2), "{\"status\":\"done\"}");
    IT_ISSUE(r, "[\"status\"]", "invalid_enum_value");
    r = hp_it_agent(t, "POST", "/v1/sessions/nope/end", NULL);
    IT_ERROR(r, 404, "not_found");

    /* Filter by status. */
    r = hp_it_agent(t, "GET", "/v1/sessions?status=completed", NULL);
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 1, "one completed: %s", r->body);
    IT_JSTR(r->json, "items.0.id", s2);
    r = hp_it_agent(t, "GET", "/v1/sessions?status=finished", NULL);
    IT_ERROR(r, 400, "invalid_query");
}

static void test_list_cursor(void)
{
    const hp_it_team *t = hp_it_team_new();
    char seen[7] = {0};
    const char *cursor = NULL;
    int pages = 0, total = 0;

    for (int i = 0; i < 7; i++) {
        hp_it_resp *r =
            hp_it_agent(t, "POST", "/v1/sessions", hp_it_fmt("{\"session_id\":\"s%d/x\"}", i));
        IT_STATUS_FATAL(r, 201);
    }
    do {
        hp_it_resp *r = hp_it_agent(t, "GET",
                                    cursor ? hp_it_fmt("/v1/sessions?limit=3&cursor=%s", cursor)
                                           : "/v1/sessions?limit=3",
                                    NULL);
        json_object *items = hp_it_jget(r->json, "items", NULL);
        IT_STATUS_FATAL(r, 200);
        for (int i = 0; i < hp_it_jlen(items); i++) {
            const char *id = str_of(json_object_array_get_idx(items, (size_t)i), "id");
            int k = id[1] - '0';
            IT_CHECK(k >= 0 && k < 7 && !seen[k], "session %s seen twice or unknown", id);
            if (k >= 0 && k < 7)
                seen[k] = 1;
            total++;
        }
        json_object *nc = hp_it_jget(r->json, "next_cursor", NULL);
        cursor = nc ? json_object_get_string(nc) : NULL;
        pages++;
    } while (cursor != NULL && pages < 10);
    IT_CHECK(total == 7 && pages == 3, "7 sessions in 3 pages, got %d in %d", total, pages);

    IT_ERROR(hp_it_agent(t, "GET", "/v1/sessions?limit=0", NULL), 400, "invalid_query");
    IT_ERROR(hp_it_agent(t, "GET", "/v1/sessions?limit=101", NULL), 400, "invalid_query");
    IT_ERROR(hp_it_agent(t, "GET", "/v1/sessions?cursor=123.zz", NULL), 400, "invalid_query");
    IT_ERROR(hp_it_agent(t, "GET", "/v1/sessions?cursor=garbage", NULL), 400, "invalid_query");
}

static hp_it_resp *send_msg(const hp_it_team *t, const char *body)
{
    return hp_it_agent(t, "POST", "/v1/messages", body);
}

static void test_messages(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *sid = hp_it_fmt("run-%s", hp_it_unique());
    hp_it_resp *r;

    r = send_msg(t, hp_it_fmt("{\"type\":\"alert\",\"title\":\"Deploy approval needed\","
                              "\"message\":\"Promote build 1.2.3 to production?\",\"buttons\":"
                              "[\"Approve\",\"Retry\",\"Rollback\",\"Cancel\"],\"session_id\":"
                              "\"%s\",\"client_event_id\":\"evt-1\"}",
                              sid));
    IT_STATUS_FATAL(r, 202);
    const char *mid = str_of(r->json, "notification_id");
    IT_JSTR(r->json, "id", mid);
    IT_JSTR(r->json, "buttons.3", "Cancel");
    IT_JBOOL(r->json, "idempotent", false);
    /* The session was created implicitly. */
    r = hp_it_agent(t, "GET", hp_it_fmt("/v1/sessions/%s", sid), NULL);
    IT_STATUS(r, 200);
    IT_JBOOL(r->json, "implicit", true);
    IT_JINT(r->json, "message_count", 1);
    IT_JINT(r->json, "approval_count", 0);
    /* A repeat with the same client_event_id answers the first message. */
    r = send_msg(t, "{\"title\":\"different\",\"client_event_id\":\"evt-1\"}");
    IT_STATUS(r, 202);
    IT_JSTR(r->json, "id", mid);
    IT_JBOOL(r->json, "idempotent", true);
    IT_JSTR(r->json, "title", "Deploy approval needed");

    /* Bad input: nothing stored. */
    long long before =
        hp_it_sql_int("select count(*) from messages where agent_id = $1", t->agent_id, NULL);
    r = send_msg(t, "{\"title\":\"x\",\"buttons\":[\"1\",\"2\",\"3\",\"4\",\"5\"]}");
    IT_ISSUE(r, "[\"buttons\"]", "too_big");
    r = send_msg(t, "{\"message\":\"no title\"}");
    IT_ISSUE(r, "[\"title\"]", "invalid_type");
    r = send_msg(t, hp_it_fmt("{\"title\":\"x\",\"parent_id\":\"%s\"}",
                              "00000000-0000-4000-8000-000000000000"));
    IT_ISSUE(r, "[\"parent_id\"]", "custom");
    r = hp_it_http(NULL, "POST", "/v1/messages", hp_it_agent_headers(t, false), "{\"title\":1}");
    IT_ERROR(r, 415, "unsupported_media_type");
    IT_CHECK(hp_it_sql_int("select count(*) from messages where agent_id = $1", t->agent_id,
                           NULL) == before,
             "rejected messages stored nothing");

    /* The tree: a subagent message under the first, an approval beside. */
    r = send_msg(t, hp_it_fmt("{\"title\":\"subagent\",\"parent_id\":\"%s\",\"session_id\":\"%s\"}",
                              mid, sid));
    IT_STATUS_FATAL(r, 202);
    const char *child = str_of(r->json, "id");
    r = send_msg(t, hp_it_fmt("{\"title\":\"grandchild\",\"parent_id\":\"%s\",\"session_id\":"
                              "\"%s\"}",
                              child, sid));
    IT_STATUS_FATAL(r, 202);
    r = hp_it_agent(t, "GET", hp_it_fmt("/v1/sessions/%s/tree", sid), NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "session.id", sid);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "nodes", NULL)) == 1, "one root: %s", r->body);
    IT_JSTR(r->json, "nodes.0.notification_id", mid);
    IT_JSTR(r->json, "nodes.0.children.0.notification_id", child);
    IT_JSTR(r->json, "nodes.0.children.0.children.0.title", "grandchild");
    IT_JBOOL(r->json, "truncated", false);

    /* The reviewer sees the team's messages, newest first. */
    r = hp_it_user(t, "GET", "/v1/review/messages?limit=2", NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "items.0.title", "grandchild");
    IT_CHECK(hp_it_jget(r->json, "next_cursor", NULL) != NULL, "more pages: %s", r->body);
    r = hp_it_user(t, "GET",
                   hp_it_fmt("/v1/review/messages?cursor=%s",
                             json_object_get_string(hp_it_jget(r->json, "next_cursor", NULL))),
                   NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "items.0.id", mid);
    r = hp_it_user(t, "GET", hp_it_fmt("/v1/review/messages/%s", mid), NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "buttons.0", "Approve");
    IT_ERROR(hp_it_user(t, "GET", "/v1/review/messages?cursor=x", NULL), 400, "invalid_query");
}

static void test_cross_tenant(void)
{
    const hp_it_team *t = hp_it_team_new();
    const hp_it_team *other = hp_it_team_new();
    const hp_it_team *sibling = hp_it_team_as(t, hp_it_agent_new(t, NULL), NULL);
    hp_it_resp *r = hp_it_agent(t, "POST", "/v1/sessions", "{\"session_id\":\"shared-name\"}");
    IT_STATUS_FATAL(r, 201);
    r = hp_it_agent(t, "POST", "/v1/messages", "{\"title\":\"secret\"}");
    const char *mid = str_of(r->json, "id");

    /* Another team and another project of the same team: 404 for every id. */
    const hp_it_team *outsiders[] = {other, sibling};
    for (int i = 0; i < 2; i++) {
        const hp_it_team *o = outsiders[i];
        IT_ERROR(hp_it_agent(o, "GET", "/v1/sessions/shared-name", NULL), 404, "not_found");
        IT_ERROR(hp_it_agent(o, "GET", "/v1/sessions/shared-name/tree", NULL), 404, "not_found");
        IT_ERROR(hp_it_agent(o, "POST", "/v1/sessions/shared-name/end", NULL), 404, "not_found");
        r = hp_it_agent(o, "POST", "/v1/messages",
                        hp_it_fmt("{\"title\":\"x\",\"parent_id\":\"%s\"}", mid));
        IT_ISSUE(r, "[\"parent_id\"]", "custom");
    }
    IT_ERROR(hp_it_user(other, "GET", hp_it_fmt("/v1/review/messages/%s", mid), NULL), 404,
             "not_found");
    /* The same session id in another project is another session. */
    r = hp_it_agent(sibling, "POST", "/v1/sessions", "{\"session_id\":\"shared-name\"}");
    IT_STATUS(r, 201);
    r = hp_it_agent(t, "GET", "/v1/sessions/shared-name", NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "active");
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"project_selection", test_project_selection},
        {"adopt_and_end", test_adopt_and_end},
        {"list_cursor", test_list_cursor},
        {"messages", test_messages},
        {"cross_tenant", test_cross_tenant},
        {NULL, NULL},
    };
    return hp_it_main("sessions", tests, NULL, NULL);
}
