/*
 * The Ask API of seed 000 at /api/v1/server (docs/ask-api.md), called with
 * the bootstrap key as Authorization: Bearer alone: confirm, select and
 * input questions answered through the Reviewer API (which shows agentName
 * and sessionId), wait: true answered and timed out, wait: false with an
 * absolute pollUrl from HOLDPOINT_PUBLIC_URL, GET ?wait=N woken by a decision
 * on another replica, DELETE, the callback job of an answer, seed 002's error
 * envelope for every refusal with nothing stored, and 404 for another team's
 * correlation ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_itest.h"
#include "it_bg.h"

#define PUBLIC_URL "https://holdpoint.example.test"
#define ASK        "/api/v1/server/ask"

static const char *const dflt_env[] = {"HOLDPOINT_PUBLIC_URL=" PUBLIC_URL,
                                       "HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", NULL};

static const char *const *bearer(const hp_it_team *t, bool json)
{
    const char **h = hp_it_track(calloc(3, sizeof(*h)), free);
    h[0] = hp_it_fmt("Authorization: Bearer %s", t->api_key);
    h[1] = json ? "Content-Type: application/json" : NULL;
    return h;
}

static hp_it_resp *ask_on(hp_it_api *api, const hp_it_team *t, const char *method, const char *path,
                          const char *body)
{
    return hp_it_http(api, method, path, bearer(t, body != NULL), body);
}

static hp_it_resp *ask(const hp_it_team *t, const char *method, const char *path, const char *body)
{
    return ask_on(NULL, t, method, path, body);
}

static const char *jstr(json_object *o, const char *path)
{
    json_object *v = hp_it_jget(o, path, NULL);
    return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* Seed 002's envelope: {"error": {"code", "message", "request_id"}} with
 * request_id equal to X-Request-Id. */
static bool envelope(const hp_it_resp *r, long status, const char *code, int line)
{
    const char *rid = hp_it_header(r, "X-Request-Id");
    bool ok = r->status == status && r->json != NULL && jstr(r->json, "error.code") != NULL &&
              strcmp(jstr(r->json, "error.code"), code) == 0 &&
              jstr(r->json, "error.message") != NULL && jstr(r->json, "error.message")[0] &&
              rid != NULL && jstr(r->json, "error.request_id") != NULL &&
              strcmp(jstr(r->json, "error.request_id"), rid) == 0 &&
              hp_it_header(r, "Content-Type") != NULL &&
              strstr(hp_it_header(r, "Content-Type"), "application/json") != NULL;
    return IT_CHECK(ok, "line %d: want %ld %s in seed 002's envelope, got %ld %s", line, status,
                    code, r->status, r->body);
}
#define ENVELOPE(r, status, code) envelope((r), (status), (code), __LINE__)

/* The approval id of a question. */
static const char *approval_of(const char *correlation_id)
{
    const char *id = hp_it_sql_str("select id::text from approvals where request_id = $1",
                                   correlation_id, (const char *)NULL);
    IT_CHECK_FATAL(id != NULL, "no approval for correlationId %s", correlation_id);
    return id;
}

static hp_it_resp *resolve(const hp_it_team *t, const char *correlation_id, const char *body)
{
    return hp_it_user(
        t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", approval_of(correlation_id)), body);
}

/* POST /ask with wait: false; returns the correlationId. */
static const char *ask_pending(const hp_it_team *t, const char *body)
{
    hp_it_resp *r = ask(t, "POST", ASK, body);
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "status", "pending");
    const char *id = jstr(r->json, "correlationId");
    IT_CHECK_FATAL(id != NULL && hp_it_is_uuid(id), "correlationId: %s", r->body);
    return id;
}

static long long team_approvals(const hp_it_team *t)
{
    return hp_it_sql_int("select count(*) from approvals where team_id = $1::uuid", t->team_id,
                         (const char *)NULL);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_confirm_wait_false_then_poll(void)
{
    const hp_it_team *t = hp_it_team_new();
    hp_it_resp *r = ask(t, "POST", ASK,
                        "{\"question\":\"Approve sending the campaign to all 4,000 contacts?\","
                        "\"type\":\"confirm\",\"agentName\":\"Marketing agent\","
                        "\"sessionId\":\"run-42\",\"wait\":false}");
    IT_STATUS_FATAL(r, 200);
    const char *id = jstr(r->json, "correlationId");
    IT_CHECK_FATAL(id != NULL, "no correlationId: %s", r->body);
    IT_JSTR(r->json, "status", "pending");
    IT_JSTR(r->json, "pollUrl", hp_it_fmt(PUBLIC_URL "/api/v1/server/ask/%s", id));
    IT_CHECK(hp_it_jlen(r->json) == 3, "wait:false answers exactly three members: %s", r->body);

    /* The reviewer sees it with its attribution and the two confirm options. */
    r = hp_it_user(t, "GET", hp_it_fmt("/v1/review/approvals/%s", approval_of(id)), NULL);
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "agent_name", "Marketing agent");
    IT_JSTR(r->json, "session_id", "run-42");
    IT_JSTR(r->json, "question", "Approve sending the campaign to all 4,000 contacts?");
    IT_JSTR(r->json, "options.0.value", "yes");
    IT_JSTR(r->json, "options.1.value", "no");
    IT_JBOOL(r->json, "allow_custom_instruction", false);
    IT_JSTR(r->json, "metadata.ask_type", "confirm");
    /* The agent's own /v1 read sees the same approval by correlationId. */
    IT_STATUS(hp_it_agent(t, "GET", hp_it_fmt("/v1/approvals/%s", id), NULL), 200);

    r = ask(t, "GET", hp_it_fmt(ASK "/%s", id), NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "pending");
    IT_JBOOL(r->json, "answered", false);

    IT_STATUS(resolve(t, id, "{\"option_index\":1}"), 200);
    r = ask(t, "GET", hp_it_fmt(ASK "/%s", id), NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "answered");
    IT_JBOOL(r->json, "answered", true);
    IT_JSTR(r->json, "value", "no");
    IT_CHECK(hp_it_time(jstr(r->json, "answeredAt")) > 0, "answeredAt: %s", r->body);
    IT_JMISSING(r->json, "pollUrl");
    /* A second decision loses, here and on the reviewer side. */
    IT_ERROR(resolve(t, id, "{\"option_index\":0}"), 409, "already_resolved");
}

static void test_select_six_options_and_input(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *id = ask_pending(t, "{\"question\":\"Which region?\",\"type\":\"select\","
                                    "\"options\":[\"eu-west\",\"eu-central\",\"us-east\","
                                    "\"us-west\",\"ap-south\",\"sa-east\"]}");
    hp_it_resp *r;

    /* Free text is not an answer to a select. */
    IT_ERROR(resolve(t, id, "{\"custom_instruction\":\"mars\"}"), 400, "invalid_payload");
    IT_STATUS(resolve(t, id, "{\"option_index\":5}"), 200);
    r = ask(t, "GET", hp_it_fmt(ASK "/%s", id), NULL);
    IT_JSTR(r->json, "value", "sa-east");

    id = ask_pending(t, "{\"question\":\"Subject line for the launch email?\",\"type\":\"input\"}");
    r = hp_it_user(t, "GET", hp_it_fmt("/v1/review/approvals/%s", approval_of(id)), NULL);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "options", NULL)) == 0, "input has no options: %s",
             r->body);
    IT_JBOOL(r->json, "allow_custom_instruction", true);
    IT_ERROR(resolve(t, id, "{\"option_index\":0}"), 400, "invalid_payload");
    IT_STATUS(resolve(t, id, "{\"custom_instruction\":\"Meet Holdpoint 1.0\"}"), 200);
    r = ask(t, "GET", hp_it_fmt(ASK "/%s", id), NULL);
    IT_JSTR(r->json, "status", "answered");
    IT_JSTR(r->json, "value", "Meet Holdpoint 1.0");
}

static void test_wait_true_answered_and_timeout(void)
{
    const hp_it_team *t = hp_it_team_new();
    bg_batch *b = bg_new(1);
    const char *url = hp_it_fmt("%s%s", hp_it_api_base(hp_it_api_default()), ASK);
    const char *id;
    double start = hp_it_now();

    bg_set_headers(b, 0, "POST", url, bearer(t, true),
                   "{\"question\":\"Deploy?\",\"wait\":true,\"timeoutSeconds\":50}", 60000);
    bg_start(b);
    /* The reviewer answers as soon as the question shows up. */
    id = bg_await_sql("select request_id from approvals where team_id = $1::uuid", t->team_id,
                      10000);
    IT_CHECK_FATAL(id != NULL, "the blocking ask never created its question");
    IT_STATUS(resolve(t, id, "{\"option_index\":0}"), 200);
    bg_join(b);
    json_object *o = hp_it_json(b->calls[0].resp);
    IT_CHECK_FATAL(b->calls[0].status == 200 && o != NULL, "blocking ask: %ld %s",
                   b->calls[0].status, b->calls[0].resp);
    IT_JSTR(o, "correlationId", id);
    IT_JSTR(o, "status", "answered");
    IT_JBOOL(o, "answered", true);
    IT_JSTR(o, "value", "yes");
    IT_CHECK(b->calls[0].done_at - start < 40, "the answer took %.1f s to arrive",
             b->calls[0].done_at - start);

    /* Nobody answers: timeout after timeoutSeconds, still open for polling. */
    start = hp_it_now();
    hp_it_resp *r = ask(t, "POST", ASK,
                        "{\"question\":\"Anyone?\",\"wait\":true,"
                        "\"timeoutSeconds\":1}");
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "status", "timeout");
    IT_JBOOL(r->json, "answered", false);
    IT_JMISSING(r->json, "value");
    IT_CHECK(hp_it_now() - start >= 0.9 && hp_it_now() - start < 30, "timeout took %.2f s",
             hp_it_now() - start);
    id = jstr(r->json, "correlationId");
    IT_JSTR(r->json, "pollUrl", hp_it_fmt(PUBLIC_URL "/api/v1/server/ask/%s", id));
    r = ask(t, "GET", hp_it_fmt(ASK "/%s", id), NULL);
    IT_JSTR(r->json, "status", "pending");
    /* It stays open ten minutes by default, or as long as it asks. */
    IT_CHECK(hp_it_sql_int("select round(extract(epoch from expires_at - created_at))::int "
                           "from approvals where request_id = $1",
                           id, (const char *)NULL) == 600,
             "a question stays open 10 minutes");
    id = ask_pending(t, "{\"question\":\"Longer?\",\"expiresInSeconds\":3600}");
    IT_CHECK(hp_it_sql_int("select round(extract(epoch from expires_at - created_at))::int "
                           "from approvals where request_id = $1",
                           id, (const char *)NULL) == 3600,
             "expiresInSeconds sets how long it stays open");
}

static void test_long_poll_woken_on_another_replica(void)
{
    const hp_it_team *t = hp_it_team_new();
    hp_it_api *other = hp_it_api_start("ask-replica", dflt_env);
    IT_CHECK_FATAL(other != NULL, "second API did not start");
    const char *id = ask_pending(t, "{\"question\":\"Rotate the keys?\"}");
    bg_batch *b = bg_new(1);
    double start = hp_it_now();

    bg_set_headers(b, 0, "GET", hp_it_fmt("%s" ASK "/%s?wait=50", hp_it_api_base(other), id),
                   bearer(t, false), NULL, 60000);
    bg_start(b);
    /* Decide on the default replica once the long-poll is waiting there. */
    IT_CHECK_FATAL(hp_it_await_gauge(other, "holdpoint_waiters", 1, true, 30000),
                   "the long-poll never started waiting on the second replica");
    IT_STATUS(resolve(t, id, "{\"option_index\":0}"), 200);
    bg_join(b);
    json_object *o = hp_it_json(b->calls[0].resp);
    IT_CHECK_FATAL(b->calls[0].status == 200 && o != NULL, "long-poll: %ld %s", b->calls[0].status,
                   b->calls[0].resp);
    IT_JSTR(o, "status", "answered");
    IT_JSTR(o, "value", "yes");
    IT_CHECK(b->calls[0].done_at - start < 40, "the long-poll was released after %.1f s",
             b->calls[0].done_at - start);

    /* A long-poll that runs out answers the pending state. */
    id = ask_pending(t, "{\"question\":\"Still there?\"}");
    start = hp_it_now();
    hp_it_resp *r = ask_on(other, t, "GET", hp_it_fmt(ASK "/%s?wait=1", id), NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "pending");
    IT_CHECK(hp_it_now() - start >= 0.9, "?wait=1 returned after %.2f s", hp_it_now() - start);
    ENVELOPE(ask(t, "GET", hp_it_fmt(ASK "/%s?wait=soon", id), NULL), 400, "invalid_query");
    IT_CHECK(hp_it_api_stop(other) == 0, "second API did not exit cleanly");
}

/* With every waiting place taken, a blocking ask is refused before it asks
 * anything (503, or 429 wait_share_exceeded), a long-poll is refused, and a
 * non-blocking ask still works. */
static bool refused(const hp_it_resp *r)
{
    const char *code = jstr(r->json, "error.code");
    return (r->status == 503 && code != NULL && strcmp(code, "service_unavailable") == 0) ||
           (r->status == 429 && code != NULL && strcmp(code, "wait_share_exceeded") == 0);
}

static void test_no_waiter_left(void)
{
    static const char *const env[] = {"HOLDPOINT_PUBLIC_URL=" PUBLIC_URL, "HOLDPOINT_MAX_WAITERS=1",
                                      NULL};
    const hp_it_team *t = hp_it_team_new();
    hp_it_api *api = hp_it_api_start("ask-one-waiter", env);
    IT_CHECK_FATAL(api != NULL, "API did not start");
    const char *held = ask_pending(t, "{\"question\":\"Holds the waiter\"}");
    bg_batch *b = bg_new(1);

    bg_set_headers(b, 0, "GET", hp_it_fmt("%s" ASK "/%s?wait=50", hp_it_api_base(api), held),
                   bearer(t, false), NULL, 60000);
    bg_start(b);
    IT_CHECK_FATAL(hp_it_await_gauge(api, "holdpoint_waiters", 1, true, 30000),
                   "the first request never took the waiter");
    long long before = team_approvals(t);
    hp_it_resp *r = ask_on(api, t, "POST", ASK,
                           "{\"question\":\"No waiter\",\"wait\":true,\"timeoutSeconds\":40}");
    IT_CHECK(refused(r), "a blocking ask without a waiting place: %ld %s", r->status, r->body);
    IT_CHECK(team_approvals(t) == before, "a refused blocking ask stored a question");
    r = ask_on(api, t, "GET", hp_it_fmt(ASK "/%s?wait=10", held), NULL);
    IT_CHECK(refused(r), "a long-poll without a waiting place: %ld %s", r->status, r->body);
    /* Asking without waiting needs no place. */
    IT_STATUS(ask_on(api, t, "POST", ASK, "{\"question\":\"Later\",\"wait\":false}"), 200);
    IT_STATUS(resolve(t, held, "{\"option_index\":0}"), 200);
    bg_join(b);
    IT_CHECK(b->calls[0].status == 200 && strstr(b->calls[0].resp, "\"answered\"") != NULL,
             "the held long-poll: %ld %s", b->calls[0].status, b->calls[0].resp);
    IT_CHECK(hp_it_api_stop(api) == 0, "API did not exit cleanly");
}

static void test_delete(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *id = ask_pending(t, "{\"question\":\"Cancel me\"}");
    hp_it_resp *r = ask(t, "DELETE", hp_it_fmt(ASK "/%s", id), NULL);

    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "cancelled");
    IT_JBOOL(r->json, "answered", false);
    /* Again: the same answer. */
    r = ask(t, "DELETE", hp_it_fmt(ASK "/%s", id), NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "cancelled");
    r = ask(t, "GET", hp_it_fmt(ASK "/%s", id), NULL);
    IT_JSTR(r->json, "status", "cancelled");
    IT_ERROR(resolve(t, id, "{\"option_index\":0}"), 409, "already_resolved");

    /* An answered question cannot be cancelled. */
    id = ask_pending(t, "{\"question\":\"Answer me\"}");
    IT_STATUS(resolve(t, id, "{\"option_index\":0}"), 200);
    ENVELOPE(ask(t, "DELETE", hp_it_fmt(ASK "/%s", id), NULL), 409, "already_resolved");
    IT_JSTR(ask(t, "GET", hp_it_fmt(ASK "/%s", id), NULL)->json, "status", "answered");
}

static void test_callback_job(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *id = ask_pending(t, "{\"question\":\"Email the customer?\",\"wait\":false,"
                                    "\"callbackUrl\":\"http://127.0.0.1:9/webhooks/holdpoint\"}");
    const char *ap = approval_of(id);

    IT_CHECK(hp_it_sql_int("select count(*) from jobs where approval_id = $1::uuid", ap,
                           (const char *)NULL) == 0,
             "a job before the answer");
    IT_STATUS(resolve(t, id, "{\"option_index\":0}"), 200);
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where approval_id = $1::uuid and kind = "
                           "'ask_callback' and url = 'http://127.0.0.1:9/webhooks/holdpoint'",
                           ap, (const char *)NULL) == 1,
             "one ask_callback job for the answer");
    /* Queued by the decision's one statement without a body: delivery
     * renders {correlationId, answer, answeredAt} from the answered
     * question (it_ask_curl receives it). */
    IT_CHECK(
        hp_it_sql_int("select count(*) from jobs where approval_id = $1::uuid and body is null", ap,
                      (const char *)NULL) == 1,
        "the ask_callback job is rendered at delivery");

    /* Cancelled or expired questions call nobody. */
    id = ask_pending(t, "{\"question\":\"Never mind\","
                        "\"callbackUrl\":\"http://127.0.0.1:9/webhooks/holdpoint\"}");
    IT_STATUS(ask(t, "DELETE", hp_it_fmt(ASK "/%s", id), NULL), 200);
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where approval_id = $1::uuid",
                           approval_of(id), (const char *)NULL) == 0,
             "a cancelled question queued a callback");
}

static void test_send(void)
{
    const hp_it_team *t = hp_it_team_new();
    hp_it_resp *r = ask(t, "POST", "/api/v1/server/send",
                        "{\"title\":\"Backfill finished\","
                        "\"body\":\"Processed 12,400 rows with 0 errors.\","
                        "\"agentName\":\"Backfill agent\",\"sessionId\":\"nightly-7\"}");
    IT_STATUS_FATAL(r, 200);
    const char *id = jstr(r->json, "id");
    IT_CHECK_FATAL(id != NULL && hp_it_is_uuid(id), "send answers its id: %s", r->body);
    IT_CHECK(hp_it_time(jstr(r->json, "createdAt")) > 0, "createdAt: %s", r->body);

    /* Stored, and shown to the team's reviewers with its attribution. */
    r = hp_it_user(t, "GET", hp_it_fmt("/v1/review/messages/%s", id), NULL);
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "title", "Backfill finished");
    IT_JSTR(r->json, "message", "Processed 12,400 rows with 0 errors.");
    IT_JSTR(r->json, "agent_name", "Backfill agent");
    IT_JSTR(r->json, "session_id", "nightly-7");
    IT_JSTR(r->json, "source", "ask");
    IT_JSTR(r->json, "project_id", t->agent_id);
    r = hp_it_user(t, "GET", "/v1/review/messages", NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "items.0.id", id);
    /* Its session exists now, for list_sessions and the seed 004 reads. */
    IT_STATUS(hp_it_agent(t, "GET", "/v1/sessions/nightly-7", NULL), 200);

    /* The title alone is enough; bad input stores nothing. */
    IT_STATUS(ask(t, "POST", "/api/v1/server/send", "{\"title\":\"Done\"}"), 200);
    const long long before = hp_it_sql_int("select count(*) from messages where team_id = $1",
                                           t->team_id, (const char *)NULL);
    r = ask(t, "POST", "/api/v1/server/send", "{\"body\":\"no title\"}");
    if (ENVELOPE(r, 400, "invalid_payload"))
        IT_JSTR(r->json, "error.issues.0.path.0", "title");
    ENVELOPE(ask(t, "POST", "/api/v1/server/send", "{\"title\":\" \"}"), 400, "invalid_payload");
    ENVELOPE(ask(t, "POST", "/api/v1/server/send", "{\"title\":\"t\",\"body\":7}"), 400,
             "invalid_payload");
    const char *json_only[] = {"Content-Type: application/json", NULL};
    ENVELOPE(hp_it_http(NULL, "POST", "/api/v1/server/send", json_only, "{\"title\":\"t\"}"), 401,
             "missing_api_key");
    IT_CHECK(hp_it_sql_int("select count(*) from messages where team_id = $1", t->team_id,
                           (const char *)NULL) == before,
             "a refused send stored a message");
}

static void test_bad_input_stores_nothing(void)
{
    const hp_it_team *t = hp_it_team_new();
    static const struct {
        const char *body, *path;
    } bad[] = {
        {"{\"question\":\"q\",\"type\":\"multiple\"}", "type"},
        {"{\"question\":\"q\",\"type\":\"select\",\"options\":[\"a\"]}", "options"},
        {"{\"question\":\"q\",\"type\":\"select\",\"options\":[\"1\",\"2\",\"3\",\"4\",\"5\","
         "\"6\",\"7\"]}",
         "options"},
        {"{\"question\":\"\"}", "question"},
        {"{\"question\":\"   \"}", "question"},
        {"{\"question\":\"q\",\"wait\":true,\"timeoutSeconds\":0}", "timeoutSeconds"},
        {"{\"question\":\"q\",\"wait\":true,\"timeoutSeconds\":56}", "timeoutSeconds"},
        {"{\"question\":\"q\",\"callbackUrl\":\"http://10.0.0.1/hook\"}", "callbackUrl"},
        {"{\"question\":\"q\",\"callbackUrl\":\"not a url\"}", "callbackUrl"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hp_it_resp *r = ask(t, "POST", ASK, bad[i].body);
        if (ENVELOPE(r, 400, "invalid_payload"))
            IT_JSTR(r->json, "error.issues.0.path.0", bad[i].path);
    }
    ENVELOPE(ask(t, "POST", ASK, "{\"question\": \"q\""), 400, "invalid_payload");
    ENVELOPE(ask(t, "POST", ASK, "[]"), 400, "invalid_payload");
    const char *text_h[] = {hp_it_fmt("Authorization: Bearer %s", t->api_key),
                            "Content-Type: text/plain", NULL};
    ENVELOPE(hp_it_http(NULL, "POST", ASK, text_h, "{\"question\":\"q\"}"), 415,
             "unsupported_media_type");
    ENVELOPE(ask(t, "PUT", ASK, "{}"), 405, "method_not_allowed");
    ENVELOPE(ask(t, "GET", "/api/v1/server/nothing", NULL), 404, "not_found");
    IT_CHECK(team_approvals(t) == 0, "a refused ask stored %lld approvals", team_approvals(t));
}

static void test_keys_and_tenancy(void)
{
    const hp_it_team *t = hp_it_team_new();
    const hp_it_team *other = hp_it_team_new();
    const char *id = ask_pending(t, "{\"question\":\"Mine\"}");
    hp_it_resp *r;

    /* No key, a bad key, a user token. */
    const char *json_only[] = {"Content-Type: application/json", NULL};
    r = hp_it_http(NULL, "POST", ASK, json_only, "{\"question\":\"q\"}");
    ENVELOPE(r, 401, "missing_api_key");
    IT_CHECK(hp_it_header(r, "WWW-Authenticate") != NULL, "401 without WWW-Authenticate");
    const char *bad[] = {"Authorization: Bearer hpk_nope", "Content-Type: application/json", NULL};
    ENVELOPE(hp_it_http(NULL, "POST", ASK, bad, "{\"question\":\"q\"}"), 401, "invalid_api_key");
    const char *user[] = {hp_it_fmt("Authorization: Bearer %s", t->user_token), NULL};
    ENVELOPE(hp_it_http(NULL, "GET", hp_it_fmt(ASK "/%s", id), user, NULL), 401, "invalid_api_key");
    /* Seed 001's form works too. */
    IT_STATUS(hp_it_agent(t, "GET", hp_it_fmt(ASK "/%s", id), NULL), 200);

    /* Another team's key: 404 for every correlation id, for every verb. */
    ENVELOPE(ask(other, "GET", hp_it_fmt(ASK "/%s", id), NULL), 404, "not_found");
    ENVELOPE(ask(other, "GET", hp_it_fmt(ASK "/%s?wait=5", id), NULL), 404, "not_found");
    ENVELOPE(ask(other, "DELETE", hp_it_fmt(ASK "/%s", id), NULL), 404, "not_found");
    ENVELOPE(ask(other, "GET", ASK "/00000000-0000-4000-8000-000000000000", NULL), 404,
             "not_found");
    /* A /v1 approval is not a question. */
    hp_it_resp *v1 = hp_it_create_ok(t, "A v1 approval", NULL);
    ENVELOPE(ask(t, "GET", hp_it_fmt(ASK "/%s", jstr(v1->json, "request_id")), NULL), 404,
             "not_found");
    IT_JSTR(ask(t, "GET", hp_it_fmt(ASK "/%s", id), NULL)->json, "status", "pending");

    /* A revoked key stops at once. */
    const char *args[] = {"admin", "revoke-key", "--key-id", t->api_key, "--json", NULL};
    hp_it_admin(args);
    ENVELOPE(ask(t, "GET", hp_it_fmt(ASK "/%s", id), NULL), 401, "invalid_api_key");
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"confirm_wait_false_then_poll", test_confirm_wait_false_then_poll},
        {"select_six_options_and_input", test_select_six_options_and_input},
        {"wait_true_answered_and_timeout", test_wait_true_answered_and_timeout},
        {"long_poll_woken_on_another_replica", test_long_poll_woken_on_another_replica},
        {"no_waiter_left", test_no_waiter_left},
        {"delete", test_delete},
        {"callback_job", test_callback_job},
        {"send", test_send},
        {"bad_input_stores_nothing", test_bad_input_stores_nothing},
        {"keys_and_tenancy", test_keys_and_tenancy},
        {NULL, NULL},
    };
    hp_it_set_default_env(dflt_env);
    return hp_it_main("ask", tests, NULL, NULL);
}
