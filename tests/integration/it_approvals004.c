/*
 * Seed 004's form of POST /v1/approvals: title/message/decisions mapped onto
 * the one store, project selection by name, attribution in metadata, the
 * implicit session; the three wait modes — none (202 with approval_id and
 * notification_id), block (held until decided or timed out, auto-acked,
 * answering response_payload) and sse (sent, then decided); the timeout
 * default (the first decision marked is_default_on_timeout, else the
 * first), answered at the deadline by the API itself; response_format on
 * both forms; and the bad inputs of the issue (both options and decisions,
 * an unknown response_format, …) storing nothing.
 *
 * No timeout worker runs here: a waiter that reaches the approval's deadline
 * closes it itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_bg.h"

static const char *str_of(json_object *o, const char *key)
{
    json_object *v = hp_it_jget(o, key, NULL);
    IT_CHECK_FATAL(v != NULL && json_object_is_type(v, json_type_string), "no string %s in %s", key,
                   hp_it_jtext(o));
    return json_object_get_string(v);
}

/* The body of seed 004's minimal request, with the decisions and extra
 * members given. */
static const char *body004(const char *decisions, const char *extra)
{
    return hp_it_fmt("{\"title\":\"Run tool: Bash\",\"message\":\"rm -rf node_modules\","
                     "\"event\":\"PreToolUse\",\"tool_name\":\"Bash\",\"command\":"
                     "\"rm -rf node_modules\",\"decisions\":%s%s%s}",
                     decisions ? decisions
                               : "[{\"key\":\"allow\",\"label\":\"Allow\"},{\"key\":\"deny\","
                                 "\"label\":\"Deny\",\"is_default_on_timeout\":true}]",
                     extra ? "," : "", extra ? extra : "");
}

/* ---- requests in the background --------------------------------------------- */

/* POST /v1/approvals with body as t's agent in a thread. */
static bg_batch *bg_create(const hp_it_team *t, const char *body, bool sse, long timeout_ms)
{
    bg_batch *b = bg_new(1);

    bg_set(b, 0, "POST", hp_it_fmt("%s/v1/approvals", hp_it_api_base(hp_it_api_default())), t,
           false, sse ? "Accept: text/event-stream" : NULL, body, timeout_ms);
    bg_start(b);
    return b;
}

/* Waits for b's request to end; its call. */
static bg_call *bg_done(bg_batch *b)
{
    bg_join(b);
    return &b->calls[0];
}

/* The pending approval of t with this question, waiting up to 10 s for the
 * background create to store it. */
static const char *await_pending(const hp_it_team *t, const char *title)
{
    for (double end = hp_it_now() + 10; hp_it_now() < end; hp_it_sleep_ms(20)) {
        char *id = hp_it_sql_str("select id::text from approvals where agent_id = $1 and "
                                 "question = $2 and status = 'pending' order by created_at desc "
                                 "limit 1",
                                 t->agent_id, title, NULL);
        if (id != NULL)
            return id;
    }
    IT_CHECK_FATAL(false, "no pending approval \"%s\"", title);
    return NULL;
}

static hp_it_resp *resolve(const hp_it_team *t, const char *aid, int option)
{
    return hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", aid),
                      hp_it_fmt("{\"option_index\":%d}", option));
}

/* ---- the tests ------------------------------------------------------------------ */

static void test_form_none(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *sid = hp_it_fmt("00000000-0000-4000-8000-%012d", rand() % 1000000);
    const char *name = hp_it_sql_str("select name from agents where id = $1", t->agent_id, NULL);
    const char *h[] = {hp_it_fmt("X-Api-Key: %s", t->api_key), "Content-Type: application/json",
                       NULL};
    hp_it_resp *r;

    /* Seed 004's minimal request, sent with the team key and "project". */
    r = hp_it_http(NULL, "POST", "/v1/approvals", h,
                   body004(NULL, hp_it_fmt("\"project\":\"%s\",\"session_id\":\"%s\","
                                           "\"timeout_seconds\":300,\"response_format\":"
                                           "\"claude_code.pretooluse\",\"wait\":\"none\"",
                                           hp_it_jesc(name), sid)));
    IT_STATUS_FATAL(r, 202);
    const char *aid = str_of(r->json, "approval_id");
    IT_JSTR(r->json, "notification_id", aid);
    IT_JSTR(r->json, "status", "pending");
    IT_JSTR(r->json, "session_id", sid);
    IT_JSTR(r->json, "response_format", "claude_code.pretooluse");
    IT_CHECK(hp_it_time(str_of(r->json, "expires_at")) - hp_it_now() > 250, "300 s timeout");
    /* One store: the reviewer sees the mapped approval. */
    r = hp_it_user(t, "GET", hp_it_fmt("/v1/review/approvals/%s", aid), NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "question", "Run tool: Bash");
    IT_JSTR(r->json, "context_markdown", "rm -rf node_modules");
    IT_JSTR(r->json, "options.0.value", "allow");
    IT_JSTR(r->json, "options.1.label", "Deny");
    IT_JBOOL(r->json, "options.1.is_default_on_timeout", true);
    IT_JSTR(r->json, "metadata.tool_name", "Bash");
    IT_JSTR(r->json, "metadata.event", "PreToolUse");
    IT_JSTR(r->json, "metadata.command", "rm -rf node_modules");
    IT_JSTR(r->json, "agent_id", t->agent_id);
    /* The session was created implicitly. */
    r = hp_it_agent(t, "GET", hp_it_fmt("/v1/sessions/%s", sid), NULL);
    IT_STATUS(r, 200);
    IT_JINT(r->json, "approval_count", 1);
    /* Decided: the result carries the rendered payload. */
    IT_STATUS(resolve(t, aid, 0), 200);
    r = hp_it_agent(
        t, "GET",
        hp_it_fmt("/v1/approvals/%s/result",
                  hp_it_sql_str("select request_id from approvals where id = $1", aid, NULL)),
        NULL);
    IT_JSTR(r->json, "decision_key", "allow");
    IT_JSTR(r->json, "notification_id", aid);
    IT_JSTR(r->json, "response_payload.hookSpecificOutput.permissionDecision", "allow");
    IT_JSTR(r->json, "response_payload.hookSpecificOutput.hookEventName", "PreToolUse");
    /* The default wait is none; a repeat with the same request_id is
     * idempotent. */
    r = hp_it_agent(t, "POST", "/v1/approvals", body004(NULL, "\"request_id\":\"h-1\""));
    IT_STATUS(r, 202);
    IT_JBOOL(r->json, "idempotent", false);
    r = hp_it_agent(t, "POST", "/v1/approvals", body004(NULL, "\"request_id\":\"h-1\""));
    IT_STATUS(r, 202);
    IT_JBOOL(r->json, "idempotent", true);
    /* A project of another team is 404. */
    r = hp_it_http(NULL, "POST", "/v1/approvals", h, body004(NULL, "\"project\":\"nope-x\""));
    IT_ERROR(r, 404, "not_found");
}

static void test_bad_input(void)
{
    const hp_it_team *t = hp_it_team_new();
    long long before =
        hp_it_sql_int("select count(*) from approvals where agent_id = $1", t->agent_id, NULL);
    hp_it_resp *r;

    r = hp_it_agent(t, "POST", "/v1/approvals",
                    body004(NULL, "\"options\":[{\"label\":\"A\",\"value\":\"a\"}],"
                                  "\"question\":\"q\",\"context_markdown\":\"\""));
    IT_ISSUE(r, "[\"decisions\"]", "custom");
    r = hp_it_agent(t, "POST", "/v1/approvals",
                    body004(NULL, "\"response_format\":\"claude_code.posttooluse\""));
    IT_ISSUE(r, "[\"response_format\"]", "invalid_enum_value");
    r = hp_it_agent(t, "POST", "/v1/approvals",
                    body004("[{\"key\":\"a\",\"label\":\"A\"},{\"key\":\"b\",\"label\":\"B\"},"
                            "{\"key\":\"c\",\"label\":\"C\"},{\"key\":\"d\",\"label\":\"D\"},"
                            "{\"key\":\"e\",\"label\":\"E\"}]",
                            NULL));
    IT_ISSUE(r, "[\"decisions\"]", "too_big");
    r = hp_it_agent(
        t, "POST", "/v1/approvals",
        body004("[{\"key\":\"a\",\"label\":\"A\"},{\"key\":\"a\",\"label\":\"B\"}]", NULL));
    IT_ISSUE(r, "[\"decisions\",1,\"key\"]", "custom");
    r = hp_it_agent(t, "POST", "/v1/approvals", body004("[]", NULL));
    IT_ISSUE(r, "[\"decisions\"]", "too_small");
    r = hp_it_agent(t, "POST", "/v1/approvals", body004(NULL, "\"timeout_seconds\":4"));
    IT_ISSUE(r, "[\"timeout_seconds\"]", "too_small");
    r = hp_it_agent(t, "POST", "/v1/approvals", body004(NULL, "\"wait\":\"forever\""));
    IT_ISSUE(r, "[\"wait\"]", "invalid_enum_value");
    r = hp_it_agent(t, "POST", "/v1/approvals",
                    "{\"decisions\":[{\"key\":\"a\",\"label\":\"A\"}]}");
    IT_ISSUE(r, "[\"title\"]", "invalid_type");
    /* response_format is checked on seed 003's form too. */
    r = hp_it_agent(t, "POST", "/v1/approvals",
                    hp_it_create_body("q", "\"response_format\":\"cursor\""));
    IT_ISSUE(r, "[\"response_format\"]", "invalid_enum_value");
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where agent_id = $1", t->agent_id,
                           NULL) == before,
             "nothing stored");
}

static void test_block_decided(void)
{
    const hp_it_team *t = hp_it_team_new();
    bg_batch *allow =
        bg_create(t,
                  body004(NULL, "\"title\":\"allow me\",\"wait\":\"block\","
                                "\"response_format\":\"cursor.beforeshellexecution\""),
                  false, 30000);
    bg_batch *deny = bg_create(t,
                               body004(NULL, "\"title\":\"deny me\",\"wait\":\"block\","
                                             "\"response_format\":\"codex.permission\""),
                               false, 30000);
    const char *a = await_pending(t, "allow me"), *d = await_pending(t, "deny me");
    json_object *j;

    IT_STATUS(resolve(t, a, 0), 200);
    IT_STATUS(resolve(t, d, 1), 200);
    bg_call *c = bg_done(allow);
    IT_CHECK_FATAL(c->status == 200, "block answered 200: %ld %s", c->status,
                   c->resp ? c->resp : "");
    j = hp_it_json(c->resp);
    IT_JSTR(j, "status", "selected_option");
    IT_JSTR(j, "decision_key", "allow");
    IT_JBOOL(j, "is_timeout_default", false);
    IT_JSTR(j, "response_format", "cursor.beforeshellexecution");
    IT_JSTR(j, "response_payload.permission", "allow");
    IT_CHECK(hp_it_jget(j, "response_payload.user_message", NULL) != NULL, "user_message");
    c = bg_done(deny);
    IT_CHECK_FATAL(c->status == 200, "block answered 200");
    j = hp_it_json(c->resp);
    IT_JSTR(j, "response_payload.hookSpecificOutput.decision.behavior", "deny");
    IT_JSTR(j, "response_payload.hookSpecificOutput.hookEventName", "PermissionRequest");
    /* Auto-acked: nothing pending, both processed. */
    hp_it_resp *r = hp_it_agent(t, "GET", "/v1/action-responses", NULL);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 0, "auto-acked: %s", r->body);
    r = hp_it_agent(t, "GET", "/v1/action-responses?unacked_only=false", NULL);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 2, "two responses");
    IT_JSTR(r->json, "items.0.ack_status", "processed");
}

static void test_block_timeout_default(void)
{
    const hp_it_team *t = hp_it_team_new();
    /* Marked default: deny; none marked: the first decision. */
    bg_batch *marked =
        bg_create(t,
                  body004("[{\"key\":\"allow\",\"label\":\"Allow\"},{\"key\":\"deny\","
                          "\"label\":\"Deny\",\"is_default_on_timeout\":true}]",
                          "\"title\":\"marked\",\"timeout_seconds\":5,\"wait\":\"block\","
                          "\"response_format\":\"claude_code.pretooluse\""),
                  false, 30000);
    bg_batch *first =
        bg_create(t,
                  body004("[{\"key\":\"ask\",\"label\":\"Ask me\"},{\"key\":\"allow\","
                          "\"label\":\"Allow\"}]",
                          "\"title\":\"first\",\"timeout_seconds\":5,\"wait\":\"block\","
                          "\"response_format\":\"copilot_cli.pretooluse\""),
                  false, 30000);
    double t0 = hp_it_now();
    bg_call *c = bg_done(marked);
    json_object *j = hp_it_json(c->resp);

    IT_CHECK_FATAL(c->status == 200, "answered: %ld %s", c->status, c->resp ? c->resp : "");
    IT_CHECK(c->done_at - t0 >= 4.0 && c->done_at - t0 < 12.0,
             "answered at the deadline, not before: %.2f s", c->done_at - t0);
    IT_JSTR(j, "status", "expired");
    IT_JBOOL(j, "is_timeout_default", true);
    IT_JSTR(j, "decision_key", "deny");
    IT_JSTR(j, "response_payload.hookSpecificOutput.permissionDecision", "deny");
    c = bg_done(first);
    IT_CHECK_FATAL(c->status == 200, "answered");
    j = hp_it_json(c->resp);
    IT_JSTR(j, "decision_key", "ask");
    IT_JBOOL(j, "is_timeout_default", true);
    IT_JSTR(j, "response_payload.permissionDecision", "ask");
    /* The expiry is the approval's: audit event by the API, inbox response
     * with action timeout_default, acknowledged. */
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events e join approvals a on a.id = "
                           "e.approval_id where a.agent_id = $1 and e.kind = 'expired' and "
                           "e.actor_id = 'holdpoint-api'",
                           t->agent_id, NULL) == 2,
             "two expired events");
    hp_it_resp *r = hp_it_agent(t, "GET", "/v1/action-responses?unacked_only=false", NULL);
    IT_JSTR(r->json, "items.0.action", "timeout_default");
    IT_JSTR(r->json, "items.0.ack_status", "processed");
}

static void test_block_capped(void)
{
    const hp_it_team *t = hp_it_team_new();
    double t0 = hp_it_now();
    hp_it_resp *r = hp_it_agent(t, "POST", "/v1/approvals",
                                body004(NULL, "\"wait\":\"block\",\"wait_timeout_seconds\":1"));

    /* The cap came first: the pending shape, and the approval stays open. */
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "pending");
    IT_CHECK(hp_it_now() - t0 < 5, "answered after the 1 s cap");
}

static void test_sse(void)
{
    const hp_it_team *t = hp_it_team_new();
    bg_batch *b =
        bg_create(t, body004(NULL, "\"title\":\"stream me\",\"wait\":\"sse\""), true, 30000);
    const char *aid = await_pending(t, "stream me");

    IT_STATUS(resolve(t, aid, 1), 200);
    bg_call *s = bg_done(b);
    IT_CHECK_FATAL(s->status == 200 && s->resp != NULL, "stream");
    const char *sent = strstr(s->resp, "event: sent\ndata: ");
    const char *decided = strstr(s->resp, "event: decided\ndata: ");
    IT_CHECK_FATAL(sent != NULL && decided != NULL && sent < decided, "sent, then decided: %s",
                   s->resp);
    json_object *d = hp_it_json(hp_it_fmt("%.*s", (int)strcspn(decided + 21, "\n"), decided + 21));
    IT_JSTR(d, "status", "selected_option");
    IT_JSTR(d, "decision_key", "deny");
    IT_JSTR(d, "response_payload.verdict", "deny");
    json_object *first = hp_it_json(hp_it_fmt("%.*s", (int)strcspn(sent + 18, "\n"), sent + 18));
    IT_JSTR(first, "notification_id", aid);
}

static void test_seed003_with_renderer(void)
{
    const hp_it_team *t = hp_it_team_new();
    hp_it_resp *r = hp_it_create_ok(
        t, "Deploy?", "\"request_id\":\"r3\",\"response_format\":\"claude_code.userpromptsubmit\"");
    const char *aid = str_of(r->json, "approval_id");

    IT_JMISSING(r->json, "notification_id"); /* seed 003's 200 body is unchanged */
    IT_STATUS(resolve(t, aid, 1), 200);
    r = hp_it_agent(t, "GET", "/v1/approvals/r3/result", NULL);
    IT_JSTR(r->json, "response_payload.decision", "block");
    IT_JSTR(r->json, "decision_key", "reject");
    /* A plain seed 003 approval's result has none of seed 004's members. */
    hp_it_create_ok(t, "Plain?", "\"request_id\":\"r4\"");
    r = hp_it_agent(t, "GET", "/v1/approvals/r4/result", NULL);
    IT_JMISSING(r->json, "response_payload");
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"form_none", test_form_none},
        {"bad_input", test_bad_input},
        {"block_decided", test_block_decided},
        {"block_timeout_default", test_block_timeout_default},
        {"block_capped", test_block_capped},
        {"sse", test_sse},
        {"seed003_with_renderer", test_seed003_with_renderer},
        {NULL, NULL},
    };
    return hp_it_main("approvals004", tests, NULL, NULL);
}
