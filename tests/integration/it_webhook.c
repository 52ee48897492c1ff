/*
 * Seed 004's project webhook: an agent's webhook_url set through PATCH
 * /v1/agents/{id} under seed 004's URL rules (and 404 for another team's or
 * another project's agent); every action response — a reviewer's tap or
 * reply on a message, a decision on an approval — POSTed by
 * holdpoint-delivery with seed 004's payload and X-Signature-256,
 * X-Timestamp and X-Nonce (checked by independent code: Node's crypto and
 * the standardwebhooks package); the rules checked again before delivery (a
 * worker without the operator's allowance refuses the same URL); and a
 * cleared URL sends nothing more. And a decision's callback, queued without
 * a body by the decision's one statement, arrives as the approval's result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_workers.h"

#define WORKER "holdpoint-delivery"

static const char *const worker_env[] = {
    "HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1",  "HOLDPOINT_CALLBACK_BASE_DELAY_MS=100",
    "HOLDPOINT_CALLBACK_MAX_DELAY_MS=400", "HOLDPOINT_CALLBACK_TIMEOUT_MS=2000",
    "HOLDPOINT_CALLBACK_MAX_ATTEMPTS=2",   NULL};

static const char *str_of(json_object *o, const char *key)
{
    json_object *v = hp_it_jget(o, key, NULL);
    IT_CHECK_FATAL(v != NULL && json_object_is_type(v, json_type_string), "no string %s in %s", key,
                   hp_it_jtext(o));
    return json_object_get_string(v);
}

static hp_it_resp *set_url(const hp_it_team *t, const char *agent_id, const char *json_value)
{
    return hp_it_agent(t, "PATCH", hp_it_fmt("/v1/agents/%s", agent_id),
                       hp_it_fmt("{\"webhook_url\":%s}", json_value));
}

static void test_url_rules(void)
{
    const hp_it_team *t = hp_it_team_new();
    const hp_it_team *other = hp_it_team_new();
    static const char *const refused[] = {
        "\"https://10.1.2.3/hook\"",      "\"http://user:pw@example.com/hook\"",
        "\"https://printer.local/hook\"", "\"https://metadata.internal/\"",
        "\"https://intranet/hook\"",      "\"http://169.254.169.254/latest\"",
        "\"https://example.com:0/x\"",    NULL};
    hp_it_resp *r;

    for (int i = 0; refused[i]; i++)
        IT_ISSUE(set_url(t, t->agent_id, refused[i]), "[\"webhook_url\"]", "custom");
    IT_ISSUE(set_url(t, t->agent_id, "\"ftp://example.com/x\""), "[\"webhook_url\"]",
             "invalid_string");
    IT_ISSUE(set_url(t, t->agent_id, "\"\""), "[\"webhook_url\"]", "too_small");
    IT_ISSUE(set_url(t, t->agent_id, "42"), "[\"webhook_url\"]", "invalid_type");
    IT_ISSUE(hp_it_agent(t, "PATCH", hp_it_fmt("/v1/agents/%s", t->agent_id), "{}"),
             "[\"webhook_url\"]", "invalid_type");
    IT_CHECK(hp_it_sql_str("select webhook_url from agents where id = $1", t->agent_id, NULL) ==
                 NULL,
             "nothing stored");
    /* A public URL is fine; GET /v1/agents shows it; null clears it. */
    r = set_url(t, t->agent_id, "\"https://hooks.example.com/holdpoint\"");
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "webhook_url", "https://hooks.example.com/holdpoint");
    r = hp_it_agent(t, "GET", "/v1/agents", NULL);
    IT_JSTR(r->json, "items.0.webhook_url", "https://hooks.example.com/holdpoint");
    r = set_url(t, t->agent_id, "null");
    IT_STATUS(r, 200);
    IT_JNULL(r->json, "webhook_url");
    /* Another team's agent, or another agent for an agent-scoped key: 404. */
    IT_ERROR(set_url(other, t->agent_id, "\"https://hooks.example.com/x\""), 404, "not_found");
    const char *sibling = hp_it_agent_new(t, NULL);
    json_object *k = hp_it_admin((const char *[]){"admin", "create-key", "--team-id", t->team_id,
                                                  "--agent-id", sibling, "--json", NULL});
    const hp_it_team *scoped = hp_it_team_as(t, sibling, str_of(k, "api_key"));
    IT_ERROR(set_url(scoped, t->agent_id, "\"https://hooks.example.com/x\""), 404, "not_found");
    IT_STATUS(set_url(scoped, sibling, "\"https://hooks.example.com/mine\""), 200);
}

static void test_delivered_signed(void)
{
    static const int ok[] = {204};
    const hp_it_team *t = hp_it_team_new();
    it_recv *rv = it_recv_start(ok, 1, 0);
    const char *url = hp_it_fmt("http://127.0.0.1:%d/project-hook", rv->port);
    it_proc *w = it_proc_start(WORKER, "webhook", worker_env);
    hp_it_resp *r;

    IT_STATUS_FATAL(set_url(t, t->agent_id, hp_it_fmt("\"%s\"", url)), 200);
    /* A tap on a message and a decision on an approval. */
    r = hp_it_agent(t, "POST", "/v1/messages",
                    "{\"title\":\"Deploy?\",\"buttons\":[\"Approve\",\"Hold\"],\"session_id\":"
                    "\"s-web\"}");
    const char *mid = str_of(r->json, "id");
    r = hp_it_user(t, "POST", "/v1/actions",
                   hp_it_fmt("{\"notification_id\":\"%s\",\"action\":\"button_pressed\","
                             "\"button_index\":1}",
                             mid));
    IT_STATUS_FATAL(r, 200);
    const char *tap = str_of(r->json, "id");
    r = hp_it_create_ok(t, "Ship?", NULL);
    const char *aid = str_of(r->json, "approval_id");
    IT_STATUS(hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", aid),
                         "{\"option_index\":0}"),
              200);

    IT_CHECK_FATAL(it_recv_wait(rv, 2, 15000), "two webhooks, got %d", it_recv_count(rv));
    json_object *seen_tap = NULL, *seen_decision = NULL;
    for (int i = 0; i < 2; i++) {
        const it_rreq *q = &rv->reqs[i];
        json_object *b = hp_it_json(q->body);
        IT_CHECK(strncmp(q->head, "POST /project-hook ", 19) == 0, "POST to the path: %.40s",
                 q->head);
        IT_CHECK(it_rhdr(q, "X-Signature-256") != NULL && it_rhdr(q, "X-Timestamp") != NULL &&
                     it_rhdr(q, "X-Nonce") != NULL,
                 "seed 004 signature headers");
        if (b != NULL && strcmp(str_of(b, "notification_id"), mid) == 0)
            seen_tap = b;
        else
            seen_decision = b;
    }
    IT_CHECK_FATAL(seen_tap != NULL && seen_decision != NULL, "one per response");
    /* Seed 004's payload: notification_id, action, button_index,
     * session_id, timestamp, nonce; plus the response's id. */
    IT_JSTR(seen_tap, "id", tap);
    IT_JSTR(seen_tap, "action", "button_pressed");
    IT_JINT(seen_tap, "button_index", 1);
    IT_JSTR(seen_tap, "session_id", "s-web");
    IT_CHECK(hp_it_jget(seen_tap, "timestamp", NULL) != NULL &&
                 hp_it_jget(seen_tap, "nonce", NULL) != NULL,
             "timestamp and nonce in the body");
    IT_JSTR(seen_decision, "notification_id", aid);
    IT_JSTR(seen_decision, "approval_id", aid);
    IT_JSTR(seen_decision, "decision_key", "approve");
    IT_CHECK(it_verify_signatures(rv, NULL, t->webhook_secret) == 0,
             "signatures verified by independent code");
    /* The jobs are the project's, not the approval's callback. */
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where agent_id = $1 and kind = "
                           "'project_webhook' and state = 'done' and approval_id is null",
                           t->agent_id, NULL) == 2,
             "two project_webhook jobs done");
    IT_CHECK(strcmp(hp_it_sql_str("select result_delivery_status from approvals where id = $1", aid,
                                  NULL),
                    "pending") == 0,
             "the approval's own delivery status is untouched");

    /* Cleared: the next response sends nothing. */
    IT_STATUS(set_url(t, t->agent_id, "null"), 200);
    IT_STATUS(hp_it_user(t, "POST", "/v1/actions",
                         hp_it_fmt("{\"notification_id\":\"%s\",\"action\":\"button_pressed\","
                                   "\"button_index\":0}",
                                   mid)),
              200);
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where agent_id = $1", t->agent_id, NULL) == 2,
             "no job without a webhook_url");
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
}

/* A decision is one statement, so its callback job is queued without a
 * body; holdpoint-delivery renders it from the closed approval, and the
 * receiver gets exactly the approval's result. */
static void test_decision_callback_rendered(void)
{
    static const int ok[] = {204};
    const hp_it_team *t = hp_it_team_new();
    it_recv *rv = it_recv_start(ok, 1, 0);
    it_proc *w = it_proc_start(WORKER, "webhook-callback", worker_env);
    hp_it_resp *r =
        hp_it_create_ok(t, "Ship?",
                        hp_it_fmt("\"request_id\":\"cb-rendered\",\"callback\":{\"url\":"
                                  "\"http://127.0.0.1:%d/cb\",\"headers\":{\"X-Trace\":\"t-9\"}}",
                                  rv->port));
    const char *aid = str_of(r->json, "approval_id");
    json_object *sent, *result;

    IT_STATUS(hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", aid),
                         "{\"option_index\":1}"),
              200);
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where approval_id = $1 and kind = "
                           "'callback' and body is null",
                           aid, NULL) == 1,
             "the decision's callback job is queued without a body");
    IT_CHECK_FATAL(it_recv_wait(rv, 1, 15000), "no callback arrived");
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
    IT_CHECK(strncmp(rv->reqs[0].head, "POST /cb ", 9) == 0, "POST to the path: %.40s",
             rv->reqs[0].head);
    IT_CHECK(it_rhdr(&rv->reqs[0], "X-Trace") != NULL &&
                 strcmp(it_rhdr(&rv->reqs[0], "X-Trace"), "t-9") == 0,
             "the approval's (sealed) callback header");
    sent = hp_it_json(rv->reqs[0].body);
    r = hp_it_agent(t, "GET", "/v1/approvals/cb-rendered/result", NULL);
    result = r->json;
    IT_CHECK(sent != NULL && result != NULL && json_object_equal(sent, result),
             "callback body %s differs from the result %s", rv->reqs[0].body, r->body);
    IT_JINT(sent, "selected_option_index", 1);
}

static void test_checked_again_at_delivery(void)
{
    static const int ok[] = {204};
    static const char *const strict_env[] = {"HOLDPOINT_CALLBACK_MAX_ATTEMPTS=1", NULL};
    const hp_it_team *t = hp_it_team_new();
    it_recv *rv = it_recv_start(ok, 1, 0);
    hp_it_resp *r;

    /* The API allows 127.0.0.1 (this test's operator allowance); a worker
     * without it refuses the same URL when it resolves it before sending. */
    IT_STATUS_FATAL(set_url(t, t->agent_id, hp_it_fmt("\"http://127.0.0.1:%d/hook\"", rv->port)),
                    200);
    r = hp_it_agent(t, "POST", "/v1/messages", "{\"title\":\"x\",\"buttons\":[\"A\"]}");
    IT_STATUS(hp_it_user(t, "POST", "/v1/actions",
                         hp_it_fmt("{\"notification_id\":\"%s\",\"action\":\"button_pressed\","
                                   "\"button_index\":0}",
                                   str_of(r->json, "id"))),
              200);
    it_proc *w = it_proc_start(WORKER, "webhook-strict", strict_env);
    IT_CHECK(it_sql_wait(1, 15000,
                         "select count(*) from jobs where agent_id = $1::uuid and state = 'failed' "
                         "and last_error like 'url refused%'",
                         t->agent_id) == 1,
             "refused at delivery");
    IT_CHECK(it_recv_count(rv) == 0, "nothing sent");
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
}

static int setup(void)
{
    if (it_schema_ready() != 0)
        return 1;
    return it_e2e_ready("it_webhook");
}

static int teardown(void)
{
    /* Leave no queued job behind for other programs' workers. */
    return hp_it_sql_exec("delete from jobs where state = 'queued' and kind = 'project_webhook'",
                          (const char *)NULL)
               ? 0
               : 1;
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"url_rules", test_url_rules},
        {"delivered_signed", test_delivered_signed},
        {"decision_callback_rendered", test_decision_callback_rendered},
        {"checked_again_at_delivery", test_checked_again_at_delivery},
        {NULL, NULL},
    };
    static const char *const api_env[] = {"HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", NULL};
    hp_it_set_default_env(api_env);
    return hp_it_main("webhook", tests, setup, teardown);
}
