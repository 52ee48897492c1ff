/*
 * The action-response inbox of seed 004 over HTTP: decisions on approvals
 * land in it; reviewers tap buttons and reply through POST /v1/actions
 * (idempotent by client_event_id); every filter of seed 004; the keyset
 * cursor walked over 1,000 responses that share one timestamp with none
 * dropped or repeated, and a tampered cursor refused; acknowledgements
 * (default, terminal and idempotent, redacted errors); simulate-decision for
 * test-mode keys only; the stream (heartbeats, resume with Last-Event-ID or
 * cursor losing nothing, woken by a decision on another replica); and 404
 * for every id of another team or project.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hp_itest.h"

static hp_it_api *second; /* another replica on the same database */

static const char *str_of(json_object *o, const char *key)
{
    json_object *v = hp_it_jget(o, key, NULL);
    IT_CHECK_FATAL(v != NULL && json_object_is_type(v, json_type_string), "no string %s in %s", key,
                   hp_it_jtext(o));
    return json_object_get_string(v);
}

static int items_len(hp_it_resp *r)
{
    return hp_it_jlen(hp_it_jget(r->json, "items", NULL));
}

static const char *approval(const hp_it_team *t, const char *extra)
{
    hp_it_resp *r = hp_it_create_ok(t, "Deploy?", extra);
    return str_of(r->json, "approval_id");
}

static const char *message(const hp_it_team *t, const char *body)
{
    hp_it_resp *r = hp_it_agent(t, "POST", "/v1/messages", body);
    IT_STATUS_FATAL(r, 202);
    return str_of(r->json, "id");
}

static hp_it_resp *act(const hp_it_team *t, const char *body)
{
    return hp_it_user(t, "POST", "/v1/actions", body);
}

static hp_it_resp *inbox(const hp_it_team *t, const char *query)
{
    return hp_it_agent(t, "GET", hp_it_fmt("/v1/action-responses%s", query), NULL);
}

static const char *test_key(const hp_it_team *t)
{
    json_object *k = hp_it_admin((const char *[]){"admin", "create-key", "--team-id", t->team_id,
                                                  "--test-mode", "--json", NULL});
    return str_of(k, "api_key");
}

/* ---- decisions, taps and replies ------------------------------------------ */

static void test_decisions_arrive(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *aid = approval(t, "\"session_id\":\"s-dec\",\"correlation_id\":\"corr-1\"");
    hp_it_resp *r;

    r = inbox(t, "");
    IT_STATUS(r, 200);
    IT_CHECK(items_len(r) == 0, "empty before the decision: %s", r->body);
    IT_STATUS(hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", aid),
                         "{\"option_index\":1}"),
              200);
    r = inbox(t, "");
    IT_STATUS(r, 200);
    IT_CHECK_FATAL(items_len(r) == 1, "the decision is in the inbox: %s", r->body);
    IT_JSTR(r->json, "items.0.notification_id", aid);
    IT_JSTR(r->json, "items.0.approval_id", aid);
    IT_JSTR(r->json, "items.0.project_id", t->agent_id);
    IT_JSTR(r->json, "items.0.session_id", "s-dec");
    IT_JSTR(r->json, "items.0.kind", "button");
    IT_JSTR(r->json, "items.0.action", "button_pressed");
    IT_JINT(r->json, "items.0.button_index", 1);
    IT_JSTR(r->json, "items.0.button_label", "Reject");
    IT_JSTR(r->json, "items.0.decision_key", "reject");
    IT_JSTR(r->json, "items.0.decided_by.user_id", t->user_id);
    IT_JSTR(r->json, "items.0.ack_status", "pending");
    IT_JSTR(r->json, "items.0.notification_title", "Deploy?");
    IT_JMISSING(r->json, "next_cursor");
    /* Filters: approval_id, decision_key (a key, a label or an action),
     * client_event_id matches the approval's correlation id. */
    IT_CHECK(items_len(inbox(t, hp_it_fmt("?approval_id=%s", aid))) == 1, "approval_id");
    IT_CHECK(items_len(inbox(t, "?decision_key=reject")) == 1, "decision_key by key");
    IT_CHECK(items_len(inbox(t, "?decision_key=Reject")) == 1, "decision_key by label");
    IT_CHECK(items_len(inbox(t, "?decision_key=button_pressed")) == 1, "decision_key by action");
    IT_CHECK(items_len(inbox(t, "?decision_key=approve")) == 0, "decision_key other");
    IT_CHECK(items_len(inbox(t, "?client_event_id=corr-1")) == 1, "notification correlation");
    /* A cancel records nothing; a custom instruction is a reply. */
    const char *a2 = approval(t, NULL);
    IT_STATUS(hp_it_agent(t, "POST",
                          hp_it_fmt("/v1/approvals/%s/cancel",
                                    hp_it_sql_str("select request_id from approvals where id = $1",
                                                  a2, NULL)),
                          NULL),
              200);
    const char *a3 = approval(t, NULL);
    IT_STATUS(hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", a3),
                         "{\"custom_instruction\":\"use staging first\"}"),
              200);
    r = inbox(t, "?kind=reply");
    IT_CHECK_FATAL(items_len(r) == 1, "one reply: %s", r->body);
    IT_JSTR(r->json, "items.0.action", "text_reply");
    IT_JSTR(r->json, "items.0.response_text", "use staging first");
    IT_JNULL(r->json, "items.0.button_index");
    IT_CHECK(items_len(inbox(t, "")) == 2, "cancel recorded nothing");
}

static void test_taps_and_replies(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *mid = message(t, "{\"title\":\"Deploy approval needed\",\"buttons\":[\"Approve\","
                                 "\"Retry\",\"Rollback\",\"Cancel\"],\"allow_reply\":true,"
                                 "\"session_id\":\"s-tap\",\"client_event_id\":\"note-1\"}");
    const char *plain = message(t, "{\"title\":\"FYI\"}");
    hp_it_resp *r;

    r = act(t, hp_it_fmt("{\"notification_id\":\"%s\",\"action\":\"button_pressed\","
                         "\"button_index\":2,\"client_event_id\":\"tap-1\",\"device\":\"iphone\"}",
                         mid));
    IT_STATUS_FATAL(r, 200);
    const char *rid = str_of(r->json, "id");
    IT_JBOOL(r->json, "idempotent", false);
    IT_JSTR(r->json, "button_label", "Rollback");
    IT_JSTR(r->json, "session_id", "s-tap");
    IT_JSTR(r->json, "device", "iphone");
    IT_JSTR(r->json, "decided_by.name", t->user_name);
    /* The same client_event_id answers the first response. */
    r = act(t, hp_it_fmt("{\"notification_id\":\"%s\",\"action\":\"button_pressed\","
                         "\"button_index\":0,\"client_event_id\":\"tap-1\"}",
                         mid));
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "id", rid);
    IT_JBOOL(r->json, "idempotent", true);
    IT_JINT(r->json, "button_index", 2);
    r = act(t, hp_it_fmt("{\"notification_id\":\"%s\",\"action\":\"text_reply\","
                         "\"response_text\":\"wait for the 5pm window\"}",
                         mid));
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "kind", "reply");

    /* Bad actions store nothing. */
    long long before = hp_it_sql_int("select count(*) from action_responses where agent_id = $1",
                                     t->agent_id, NULL);
    IT_ISSUE(act(t, hp_it_fmt("{\"notification_id\":\"%s\",\"action\":\"button_pressed\","
                              "\"button_index\":3}",
                              plain)),
             "[\"button_index\"]", "custom");
    IT_ISSUE(act(t, hp_it_fmt("{\"notification_id\":\"%s\",\"action\":\"text_reply\","
                              "\"response_text\":\"x\"}",
                              plain)),
             "[\"action\"]", "custom");
    IT_ISSUE(act(t, hp_it_fmt("{\"notification_id\":\"%s\",\"action\":\"button_pressed\"}", mid)),
             "[\"button_index\"]", "invalid_type");
    IT_ISSUE(act(t, hp_it_fmt("{\"notification_id\":\"%s\",\"action\":\"wave\"}", mid)),
             "[\"action\"]", "invalid_enum_value");
    IT_ISSUE(act(t, "{\"notification_id\":\"nope\",\"action\":\"text_reply\","
                    "\"response_text\":\"x\"}"),
             "[\"notification_id\"]", "invalid_string");
    IT_ERROR(act(t, "{\"notification_id\":\"00000000-0000-4000-8000-000000000000\","
                    "\"action\":\"text_reply\",\"response_text\":\"x\"}"),
             404, "not_found");
    IT_ERROR(hp_it_agent(t, "POST", "/v1/actions", "{}"), 401, "invalid_user_token");
    IT_CHECK(hp_it_sql_int("select count(*) from action_responses where agent_id = $1", t->agent_id,
                           NULL) == before,
             "rejected actions stored nothing");

    /* Filters. */
    IT_CHECK(items_len(inbox(t, hp_it_fmt("?notification_id=%s", mid))) == 2, "notification_id");
    IT_CHECK(items_len(inbox(t, "?kind=button")) == 1, "kind=button");
    IT_CHECK(items_len(inbox(t, "?decision_key=Rollback")) == 1, "decision_key by label");
    IT_CHECK(items_len(inbox(t, "?client_event_id=tap-1")) == 1, "client_event_id of the action");
    IT_CHECK(items_len(inbox(t, "?client_event_id=note-1")) == 2, "client_event_id of the note");
    IT_CHECK(items_len(inbox(t, "?session_id=s-tap")) == 2, "session_id");
    IT_CHECK(items_len(inbox(t, "?session_id=other")) == 0, "other session");
    IT_CHECK(items_len(inbox(t, "?after=2000-01-01T00:00:00Z")) == 2, "after");
    IT_CHECK(items_len(inbox(t, "?after=2999-01-01T00:00:00Z")) == 0, "after (future)");
    IT_CHECK(items_len(inbox(t, "?decided_after=2999-01-01T00:00:00Z")) == 0, "decided_after");
    r = hp_it_agent(t, "GET", "/v1/sessions/s-tap/responses", NULL);
    IT_STATUS(r, 200);
    IT_CHECK(items_len(r) == 2, "session responses: %s", r->body);
    IT_ERROR(hp_it_agent(t, "GET", "/v1/sessions/no-such/responses", NULL), 404, "not_found");

    /* Subagent parents. */
    const char *child =
        message(t, hp_it_fmt("{\"title\":\"sub\",\"buttons\":[\"OK\"],\"parent_id\":\"%s\"}", mid));
    IT_STATUS(act(t, hp_it_fmt("{\"notification_id\":\"%s\",\"action\":\"button_pressed\","
                               "\"button_index\":0}",
                               child)),
              200);
    r = inbox(t, hp_it_fmt("?parent_id=%s", mid));
    IT_CHECK(items_len(r) == 1, "parent_id: %s", r->body);
    IT_JSTR(r->json, "items.0.notification_id", child);

    /* Bad queries. */
    static const char *const bad[] = {"?limit=0",           "?limit=101",         "?kind=tap",
                                      "?unacked_only=yes",  "?after=yesterday",   "?approval_id=x",
                                      "?notification_id=1", "?cursor=not-a-uuid", NULL};
    for (int i = 0; bad[i]; i++)
        IT_ERROR(inbox(t, bad[i]), 400, "invalid_query");
    IT_CHECK(items_len(inbox(t, "?limit=100")) == 3, "limit=100 is fine");
}

/* ---- the cursor ---------------------------------------------------------------- */

static void test_cursor_same_timestamp(void)
{
    const hp_it_team *t = hp_it_team_new();
    const hp_it_team *other = hp_it_team_new();
    const char *mid = message(t, "{\"title\":\"batch\",\"buttons\":[\"A\",\"B\"]}");
    char *seen = calloc(1001, 1);
    const char *cursor = NULL;
    int total = 0, pages = 0, dups = 0;
    long long last_seq = 0;

    /* 1,000 responses in one statement: one recorded_at, one decided_at. */
    IT_CHECK_FATAL(
        hp_it_sql_exec("insert into action_responses (id, team_id, agent_id, seq, "
                       "notification_id, kind, action, button_index, button_label, "
                       "notification_title, notification_message, decided_at, "
                       "response_text) select gen_random_uuid(), $1, $2, g, $3, 'button', "
                       "'button_pressed', 0, 'A', 'batch', '', now(), g::text "
                       "from generate_series(1, 1000) g",
                       t->team_id, t->agent_id, mid, NULL),
        "bulk insert");
    IT_CHECK_FATAL(
        hp_it_sql_exec("insert into inbox_counters values ($1, 1000)", t->agent_id, NULL),
        "counter");
    IT_CHECK(hp_it_sql_int("select count(distinct recorded_at) from action_responses where "
                           "agent_id = $1",
                           t->agent_id, NULL) == 1,
             "all share one timestamp");
    do {
        hp_it_resp *r = inbox(t, cursor ? hp_it_fmt("?limit=37&cursor=%s", cursor) : "?limit=37");
        json_object *items = hp_it_jget(r->json, "items", NULL);
        IT_STATUS_FATAL(r, 200);
        for (int i = 0; i < hp_it_jlen(items); i++) {
            json_object *it = json_object_array_get_idx(items, (size_t)i);
            int k = (int)strtol(str_of(it, "response_text"), NULL, 10);
            if (k < 1 || k > 1000 || seen[k])
                dups++;
            else
                seen[k] = 1;
            IT_CHECK(k > last_seq, "in order: %d after %lld", k, last_seq);
            last_seq = k;
            total++;
        }
        json_object *nc = hp_it_jget(r->json, "next_cursor", NULL);
        IT_CHECK(nc == NULL || hp_it_is_uuid(json_object_get_string(nc)),
                 "a cursor is a response id");
        cursor = nc ? json_object_get_string(nc) : NULL;
        pages++;
    } while (cursor != NULL && pages < 100);
    IT_CHECK(total == 1000 && dups == 0 && pages == 28,
             "1000 responses in 28 pages, none dropped or repeated: %d in %d, %d repeats", total,
             pages, dups);
    free(seen);

    /* A tampered cursor, or another project's response id: 400. */
    const char *first = str_of(inbox(t, "?limit=1")->json, "items.0.id");
    char *tampered = hp_it_fmt("%s", first);
    tampered[strlen(tampered) - 1] = tampered[strlen(tampered) - 1] == '0' ? '1' : '0';
    IT_ERROR(inbox(t, hp_it_fmt("?cursor=%s", tampered)), 400, "invalid_query");
    IT_ERROR(inbox(other, hp_it_fmt("?cursor=%s", first)), 400, "invalid_query");
}

/* ---- acknowledgements ------------------------------------------------------------ */

static void test_ack(void)
{
    const hp_it_team *t = hp_it_team_new();
    const hp_it_team *other = hp_it_team_new();
    const hp_it_team *sibling = hp_it_team_as(t, hp_it_agent_new(t, NULL), NULL);
    const char *mid = message(t, "{\"title\":\"x\",\"buttons\":[\"A\"],\"allow_reply\":true}");
    const char *ids[3];

    for (int i = 0; i < 3; i++) {
        hp_it_resp *r = act(t, hp_it_fmt("{\"notification_id\":\"%s\",\"action\":\"text_reply\","
                                         "\"response_text\":\"r%d\"}",
                                         mid, i));
        IT_STATUS_FATAL(r, 200);
        ids[i] = str_of(r->json, "id");
    }
    /* No body: processed. */
    hp_it_resp *r = hp_it_agent(t, "POST", hp_it_fmt("/v1/action-responses/%s/ack", ids[0]), NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "ack_status", "processed");
    IT_CHECK(hp_it_time(str_of(r->json, "acked_at")) > 0, "acked_at set");
    /* Terminal: a repeat answers the first status. */
    r = hp_it_agent(t, "POST", hp_it_fmt("/v1/action-responses/%s/ack", ids[0]),
                    "{\"status\":\"failed\",\"error\":\"late\"}");
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "ack_status", "processed");
    IT_JNULL(r->json, "ack_error");
    r = hp_it_agent(t, "POST", hp_it_fmt("/v1/action-responses/%s/ack", ids[1]),
                    "{\"status\":\"ignored\"}");
    IT_JSTR(r->json, "ack_status", "ignored");
    r = hp_it_agent(t, "POST", hp_it_fmt("/v1/action-responses/%s/ack", ids[2]),
                    "{\"status\":\"failed\",\"error\":\"push rejected: Bearer "
                    "ghp_0123456789abcdefghij\\nretry later\"}");
    IT_JSTR(r->json, "ack_status", "failed");
    IT_JSTR(r->json, "ack_error", "push rejected: Bearer [redacted] retry later");
    /* Pending-only by default; everything with unacked_only=false. */
    IT_CHECK(items_len(inbox(t, "")) == 0, "nothing pending");
    r = inbox(t, "?unacked_only=false");
    IT_CHECK(items_len(r) == 3, "all three: %s", r->body);

    /* Bad bodies change nothing. */
    const char *mid2 = message(t, "{\"title\":\"y\",\"allow_reply\":true}");
    r = act(t, hp_it_fmt("{\"notification_id\":\"%s\",\"action\":\"text_reply\","
                         "\"response_text\":\"z\"}",
                         mid2));
    const char *pending = str_of(r->json, "id");
    IT_ISSUE(hp_it_agent(t, "POST", hp_it_fmt("/v1/action-responses/%s/ack", pending),
                         "{\"status\":\"done\"}"),
             "[\"status\"]", "invalid_enum_value");
    IT_ISSUE(hp_it_agent(t, "POST", hp_it_fmt("/v1/action-responses/%s/ack", pending),
                         "{\"error\":\"only with failed\"}"),
             "[\"error\"]", "custom");
    IT_CHECK(items_len(inbox(t, "")) == 1, "still pending after bad acks");

    /* Another team's or project's guessed id: 404, and unchanged. */
    IT_ERROR(hp_it_agent(other, "POST", hp_it_fmt("/v1/action-responses/%s/ack", pending), NULL),
             404, "not_found");
    IT_ERROR(hp_it_agent(sibling, "POST", hp_it_fmt("/v1/action-responses/%s/ack", pending), NULL),
             404, "not_found");
    IT_ERROR(hp_it_agent(t, "POST", "/v1/action-responses/not-a-uuid/ack", NULL), 404, "not_found");
    IT_CHECK(items_len(inbox(t, "")) == 1, "still pending after foreign acks");
    IT_CHECK(items_len(inbox(sibling, "?unacked_only=false")) == 0, "sibling sees nothing");
    /* A team key alone must name the project (seed 004). */
    const char *h[] = {hp_it_fmt("X-Api-Key: %s", t->api_key), NULL};
    IT_ERROR(hp_it_http(NULL, "POST", hp_it_fmt("/v1/action-responses/%s/ack", pending), h, NULL),
             400, "invalid_query");
    r = hp_it_http(NULL, "POST",
                   hp_it_fmt("/v1/action-responses/%s/ack?project_id=%s", pending, t->agent_id), h,
                   NULL);
    IT_STATUS(r, 200);
}

/* ---- simulate-decision ------------------------------------------------------------ */

static void test_simulate(void)
{
    const hp_it_team *t = hp_it_team_new();
    const hp_it_team *other = hp_it_team_new();
    const hp_it_team *tt = hp_it_team_as(t, NULL, test_key(t));
    const char *aid = approval(t, NULL);
    const char *mid = message(t, "{\"title\":\"m\",\"buttons\":[\"Ship it\",\"Hold\"]}");
    const char *body = hp_it_fmt("{\"notification_id\":\"%s\",\"decision_key\":\"approve\","
                                 "\"device\":\"test-runner\"}",
                                 aid);
    hp_it_resp *r;

    /* Normal keys: 403 forbidden, nothing decided. */
    IT_ERROR(hp_it_agent(t, "POST", "/v1/test/simulate-decision", body), 403, "forbidden");
    IT_CHECK(hp_it_sql_str("select status from approvals where id = $1", aid, NULL) != NULL &&
                 strcmp(hp_it_sql_str("select status from approvals where id = $1", aid, NULL),
                        "pending") == 0,
             "still pending");
    /* A test-mode key decides by the decision's key. */
    r = hp_it_agent(tt, "POST", "/v1/test/simulate-decision", body);
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "approval_id", aid);
    IT_JSTR(r->json, "decision_key", "approve");
    IT_JSTR(r->json, "device", "test-runner");
    IT_JNULL(r->json, "decided_by");
    r = hp_it_agent(
        t, "GET",
        hp_it_fmt("/v1/approvals/%s/result",
                  hp_it_sql_str("select request_id from approvals where id = $1", aid, NULL)),
        NULL);
    IT_JSTR(r->json, "status", "selected_option");
    IT_JINT(r->json, "selected_option_index", 0);
    /* Again: the approval is closed. */
    IT_ERROR(hp_it_agent(tt, "POST", "/v1/test/simulate-decision", body), 409, "already_resolved");
    /* A message by its button label (any case). */
    r = hp_it_agent(tt, "POST", "/v1/test/simulate-decision",
                    hp_it_fmt("{\"notification_id\":\"%s\",\"decision_key\":\"hold\"}", mid));
    IT_STATUS(r, 200);
    IT_JINT(r->json, "button_index", 1);
    IT_JSTR(r->json, "device", "simulated");
    IT_ISSUE(hp_it_agent(tt, "POST", "/v1/test/simulate-decision",
                         hp_it_fmt("{\"notification_id\":\"%s\",\"decision_key\":\"nope\"}", mid)),
             "[\"decision_key\"]", "custom");
    IT_ISSUE(hp_it_agent(tt, "POST", "/v1/test/simulate-decision",
                         hp_it_fmt("{\"notification_id\":\"%s\"}", mid)),
             "[]", "custom");
    /* Another team's notification: 404. */
    const char *foreign = approval(other, NULL);
    IT_ERROR(hp_it_agent(
                 tt, "POST", "/v1/test/simulate-decision",
                 hp_it_fmt("{\"notification_id\":\"%s\",\"decision_key\":\"approve\"}", foreign)),
             404, "not_found");
}

/* ---- the stream ------------------------------------------------------------------- */

typedef struct sse_run {
    hp_it_api *api;
    char url[512];
    const char *path;  /* for the contract check */
    const char *event; /* the events counted: "event: action_response" */
    struct curl_slist *headers;
    int want;        /* stop after this many of them */
    long timeout_ms; /* client-side bound */
    /* results */
    char *buf;
    size_t len;
    char *hdrs;
    size_t hdrs_len;
    int events;
    int heartbeats;
    char ids[64][40];
    double first_at; /* hp_it_now() of the first event */
    pthread_t tid;
} sse_run;

/* Counts the complete events received (blank-line terminated) and keeps
 * the ids of the first want; once want are in, the client hangs up, as a
 * client that processed that many and then lost its connection. */
static size_t sse__sink(char *p, size_t size, size_t n, void *ud)
{
    sse_run *s = ud;
    size_t k = size * n;
    char *grown = realloc(s->buf, s->len + k + 1);
    if (grown == NULL)
        return 0;
    s->buf = grown;
    memcpy(s->buf + s->len, p, k);
    s->len += k;
    s->buf[s->len] = '\0';
    s->events = s->heartbeats = 0;
    for (char *start = s->buf, *q; (q = strstr(start, "\n\n")) != NULL; start = q + 2) {
        if (strncmp(start, ": heartbeat", 11) == 0)
            s->heartbeats++;
        char *ev = strstr(start, s->event);
        if (ev != NULL && ev < q && (s->want == 0 || s->events < s->want)) {
            char *id = strstr(start, "id: ");
            if (id != NULL && id < q && s->events < 64)
                (void)sscanf(id + 4, "%39s", s->ids[s->events]);
            if (s->events++ == 0)
                s->first_at = hp_it_now();
        }
    }
    return s->want > 0 && s->events >= s->want ? 0 : k; /* 0 hangs up */
}

static size_t sse__header(char *p, size_t size, size_t n, void *ud)
{
    sse_run *s = ud;
    size_t k = size * n;
    char *grown = realloc(s->hdrs, s->hdrs_len + k + 1);
    if (grown == NULL)
        return 0;
    s->hdrs = grown;
    memcpy(s->hdrs + s->hdrs_len, p, k);
    s->hdrs_len += k;
    s->hdrs[s->hdrs_len] = '\0';
    return k;
}

static void *sse__main(void *arg)
{
    sse_run *s = arg;
    CURL *h = curl_easy_init();
    const char *ctype = NULL;
    long status = 0;

    curl_easy_setopt(h, CURLOPT_URL, s->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sse__sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, sse__header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    (void)curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
    if (status > 0) /* for the contract check */
        hp_it_record("GET", s->path, status, ctype, s->hdrs ? s->hdrs : "", s->buf ? s->buf : "",
                     s->len);
    curl_easy_cleanup(h);
    return NULL;
}

static void sse__free(void *p)
{
    sse_run *s = p;
    curl_slist_free_all(s->headers);
    free(s->buf);
    free(s->hdrs);
    free(s);
}

/* Starts a stream of path on api (the default when NULL) with headers hs
 * (and last_id as Last-Event-ID when not NULL) in a thread, counting the
 * events named event. */
static sse_run *sse_start_at(hp_it_api *api, const char *path, const char *query,
                             const char *const *hs, const char *event, const char *last_id,
                             int want, long timeout_ms)
{
    sse_run *s = calloc(1, sizeof(*s));

    hp_it_track(s, sse__free);
    snprintf(s->url, sizeof(s->url), "%s%s%s", hp_it_api_base(api ? api : hp_it_api_default()),
             path, query);
    s->path = path;
    s->event = event;
    for (; *hs; hs++)
        s->headers = curl_slist_append(s->headers, *hs);
    s->headers = curl_slist_append(s->headers, "Accept: text/event-stream");
    if (last_id != NULL)
        s->headers = curl_slist_append(s->headers, hp_it_fmt("Last-Event-ID: %s", last_id));
    s->want = want;
    s->timeout_ms = timeout_ms;
    pthread_create(&s->tid, NULL, sse__main, s);
    return s;
}

/* Starts a stream of t's inbox on api (query appended). */
static sse_run *sse_start(hp_it_api *api, const hp_it_team *t, const char *query,
                          const char *last_id, int want, long timeout_ms)
{
    return sse_start_at(api, "/v1/action-responses/stream", query, hp_it_agent_headers(t, false),
                        "event: action_response", last_id, want, timeout_ms);
}

static void sse_join(sse_run *s)
{
    pthread_join(s->tid, NULL);
}

static const char *reply(const hp_it_team *t, const char *mid, int i)
{
    hp_it_resp *r = act(t, hp_it_fmt("{\"notification_id\":\"%s\",\"action\":\"text_reply\","
                                     "\"response_text\":\"s%d\"}",
                                     mid, i));
    IT_STATUS_FATAL(r, 200);
    return str_of(r->json, "id");
}

static void test_stream_resume(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *mid = message(t, "{\"title\":\"s\",\"allow_reply\":true}");
    const char *ids[8];
    sse_run *s;

    for (int i = 0; i < 5; i++)
        ids[i] = reply(t, mid, i);
    /* Read three, hang up. */
    s = sse_start(NULL, t, "", NULL, 3, 10000);
    sse_join(s);
    IT_CHECK_FATAL(s->events == 3, "three events before the hang-up, got %d: %s", s->events,
                   s->buf ? s->buf : "");
    for (int i = 0; i < 3; i++)
        IT_CHECK(strcmp(s->ids[i], ids[i]) == 0, "event %d is response %d", i, i);
    /* Two more while disconnected. */
    ids[5] = reply(t, mid, 5);
    ids[6] = reply(t, mid, 6);
    /* Resume with Last-Event-ID: exactly the four not yet seen, in order. */
    s = sse_start(NULL, t, "", ids[2], 4, 10000);
    sse_join(s);
    IT_CHECK(s->events == 4, "four after resuming, got %d", s->events);
    for (int i = 0; i < 4 && i < s->events; i++)
        IT_CHECK(strcmp(s->ids[i], ids[3 + i]) == 0, "resumed event %d is response %d", i, 3 + i);
    /* The cursor query parameter resumes the same way. */
    s = sse_start(NULL, t, hp_it_fmt("?cursor=%s", ids[5]), NULL, 1, 10000);
    sse_join(s);
    IT_CHECK(s->events == 1 && strcmp(s->ids[0], ids[6]) == 0, "cursor resume");
    /* A filter applies to the stream too; an unknown Last-Event-ID is 400. */
    s = sse_start(NULL, t, "?kind=button", NULL, 0, 2500);
    sse_join(s);
    IT_CHECK(s->events == 0 && s->heartbeats >= 1,
             "no buttons, and heartbeats while idle: %d events, %d heartbeats", s->events,
             s->heartbeats);
    const char *h[] = {hp_it_agent_headers(t, false)[0], hp_it_agent_headers(t, false)[1],
                       "Last-Event-ID: 00000000-0000-4000-8000-000000000000", NULL};
    IT_ERROR(hp_it_http(NULL, "GET", "/v1/action-responses/stream", h, NULL), 400, "invalid_query");
}

static void test_stream_across_replicas(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *aid = approval(t, NULL);
    double t0;
    sse_run *s;

    /* Stream on the second replica; decide on the default one. */
    s = sse_start(second, t, "", NULL, 1, 20000);
    hp_it_sleep_ms(300); /* let the stream register (a miss would only delay it) */
    t0 = hp_it_now();
    IT_STATUS(hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", aid),
                         "{\"option_index\":0}"),
              200);
    sse_join(s);
    IT_CHECK_FATAL(s->events == 1, "the decision arrived on the other replica: %s",
                   s->buf ? s->buf : "");
    IT_CHECK(s->first_at - t0 < 5.0, "woken, not polled: %.3f s", s->first_at - t0);
    IT_CHECK(strstr(s->buf, aid) != NULL, "the event names the approval");
}

/* The reviewers' live inbox (GET /v1/review/stream) on one replica hears
 * the approvals created at once on another: the creates share statements,
 * and one Redis message per team and statement wakes the stream (creates
 * send no NOTIFY when Redis is configured). The stream sends changes only
 * when woken, so every approval arriving proves its wake came. */
static void test_review_stream_hears_creates(void)
{
    enum { N = 12 };
    const hp_it_team *t = hp_it_team_new();
    const char *h[] = {hp_it_fmt("Authorization: Bearer %s", t->user_token), NULL};
    hp_it_req reqs[N];
    hp_it_resp *out[N];
    sse_run *s;
    double t0;

    s = sse_start_at(second, "/v1/review/stream", "", h, "event: approval", NULL, N, 20000);
    hp_it_sleep_ms(300); /* past the stream's catch-up read: only a wake tells it now */
    for (int i = 0; i < N; i++) {
        memset(&reqs[i], 0, sizeof(reqs[i]));
        reqs[i].method = "POST";
        reqs[i].path = "/v1/approvals";
        reqs[i].headers = hp_it_agent_headers(t, true);
        reqs[i].body = hp_it_create_body(hp_it_fmt("Live %d?", i), NULL);
    }
    t0 = hp_it_now();
    hp_it_parallel(NULL, N, reqs, out);
    sse_join(s);
    IT_CHECK_FATAL(s->events == N, "want %d approvals on the live stream, got %d: %s", N, s->events,
                   s->buf ? s->buf : "");
    IT_CHECK(s->first_at - t0 < 5.0, "woken, not polled: %.3f s", s->first_at - t0);
    for (int i = 0; i < N; i++) {
        IT_STATUS(out[i], 200);
        const char *id = out[i]->status == 200 ? str_of(out[i]->json, "approval_id") : NULL;
        IT_CHECK(id != NULL && strstr(s->buf, id) != NULL, "create %d is on the stream", i);
    }
}

static int setup(void)
{
    static const char *const env[] = {"HOLDPOINT_SSE_HEARTBEAT_SECONDS=1", NULL};
    second = hp_it_api_start("inbox-second", env);
    return second == NULL;
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"decisions_arrive", test_decisions_arrive},
        {"taps_and_replies", test_taps_and_replies},
        {"cursor_same_timestamp", test_cursor_same_timestamp},
        {"ack", test_ack},
        {"simulate", test_simulate},
        {"stream_resume", test_stream_resume},
        {"stream_across_replicas", test_stream_across_replicas},
        {"review_stream_hears_creates", test_review_stream_hears_creates},
        {NULL, NULL},
    };
    static const char *const dflt_env[] = {"HOLDPOINT_SSE_HEARTBEAT_SECONDS=1", NULL};
    hp_it_set_default_env(dflt_env);
    return hp_it_main("inbox", tests, setup, NULL);
}
