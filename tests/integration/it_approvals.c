/*
 * The agent's reads and cancel (docs/api.md): GET /v1/approvals/:requestId,
 * GET …/result in its pending and resolved shapes, POST …/cancel, the list
 * with filters and cursor pagination, the audit trail, and the outbox job a
 * callback URL adds to every state change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hp_itest.h"

#define CREATE "/v1/approvals"

static const char *str_of(json_object *o, const char *key)
{
    json_object *v = hp_it_jget(o, key, NULL);
    IT_CHECK_FATAL(v != NULL && json_object_is_type(v, json_type_string), "no string %s in %s", key,
                   hp_it_jtext(o));
    return json_object_get_string(v);
}

/* Creates an approval with the caller's request_id; returns its approval_id. */
static const char *create(const hp_it_team *t, const char *rid, const char *extra)
{
    const char *m =
        hp_it_fmt("\"request_id\":\"%s\"%s%s", rid, extra ? "," : "", extra ? extra : "");
    hp_it_resp *r = hp_it_create_ok(t, hp_it_fmt("Question for %s?", rid), m);
    return str_of(r->json, "approval_id");
}

static hp_it_resp *resolve(const hp_it_team *t, const char *approval_id, const char *body)
{
    return hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", approval_id), body);
}

static void test_get_metadata(void)
{
    const hp_it_team *t = hp_it_team_new();
    double before = hp_it_now();
    const char *id = create(t, "meta-1", "\"correlation_id\":\"corr-9\",\"session_id\":\"s-1\"");

    hp_it_resp *r = hp_it_agent(t, "GET", "/v1/approvals/meta-1", NULL);
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "approval_id", id);
    IT_JSTR(r->json, "request_id", "meta-1");
    IT_JSTR(r->json, "agent_id", t->agent_id);
    IT_JSTR(r->json, "correlation_id", "corr-9");
    IT_JSTR(r->json, "status", "pending");
    IT_JSTR(r->json, "question", "Question for meta-1?");
    IT_JSTR(r->json, "session_id", "s-1");
    IT_JNULL(r->json, "resolved_at");
    IT_JSTR(r->json, "result_delivery_status", "pending");
    IT_JNULL(r->json, "result_delivery_error");
    double c = hp_it_time(str_of(r->json, "created_at"));
    double e = hp_it_time(str_of(r->json, "expires_at"));
    IT_CHECK(c >= before - 2 && c <= hp_it_now() + 2, "created_at is not now: %s", r->body);
    IT_CHECK(e - c > 3600 - 2 && e - c < 3600 + 2, "expires_at is not created_at + 3600: %s",
             r->body);

    /* Without correlation or session: nulls. */
    create(t, "meta-2", NULL);
    r = hp_it_agent(t, "GET", "/v1/approvals/meta-2", NULL);
    IT_STATUS(r, 200);
    IT_JNULL(r->json, "correlation_id");
    IT_JNULL(r->json, "session_id");
}

static void test_not_found(void)
{
    const hp_it_team *t = hp_it_team_new();
    const hp_it_team *other = hp_it_team_new();
    create(other, "shared-name", NULL);
    const hp_it_team *sibling = hp_it_team_as(t, hp_it_agent_new(t, NULL), NULL);
    create(sibling, "sibling-only", NULL);

    const char *suffixes[] = {"", "/result", "/audit"};
    const char *ids[] = {"no-such-request", "shared-name", "sibling-only"};
    for (size_t p = 0; p < 3; p++)
        for (size_t i = 0; i < 3; i++)
            IT_ERROR(
                hp_it_agent(t, "GET", hp_it_fmt("/v1/approvals/%s%s", ids[i], suffixes[p]), NULL),
                404, "not_found");
    IT_ERROR(hp_it_agent(t, "POST", "/v1/approvals/shared-name/cancel", NULL), 404, "not_found");
    /* The other team's approval is untouched. */
    hp_it_resp *r = hp_it_agent(other, "GET", "/v1/approvals/shared-name/result", NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "pending");
}

static void test_result_pending_shape(void)
{
    const hp_it_team *t = hp_it_team_new();
    create(t, "pending-1", NULL);
    hp_it_resp *r = hp_it_agent(t, "GET", "/v1/approvals/pending-1/result", NULL);
    IT_STATUS_FATAL(r, 200);
    IT_CHECK(hp_it_jlen(r->json) == 2, "pending result must be exactly {request_id, status}: %s",
             r->body);
    IT_JSTR(r->json, "request_id", "pending-1");
    IT_JSTR(r->json, "status", "pending");
}

static void test_result_selected_option(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *id = create(t, "sel-1", "\"correlation_id\":\"c-1\"");
    double before = hp_it_now();

    hp_it_resp *rv = resolve(t, id, "{\"option_index\":0}");
    IT_STATUS_FATAL(rv, 200);
    hp_it_resp *r = hp_it_agent(t, "GET", "/v1/approvals/sel-1/result", NULL);
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "approval_id", id);
    IT_JSTR(r->json, "request_id", "sel-1");
    IT_JSTR(r->json, "agent_id", t->agent_id);
    IT_JSTR(r->json, "correlation_id", "c-1");
    IT_JSTR(r->json, "status", "selected_option");
    IT_JINT(r->json, "selected_option_index", 0);
    IT_JSTR(r->json, "selected_option_label", "Approve");
    IT_JSTR(r->json, "selected_option_value", "approve");
    IT_JNULL(r->json, "custom_instruction");
    IT_JSTR(r->json, "resolved_by.user_id", t->user_id);
    IT_JSTR(r->json, "resolved_by.name", t->user_name);
    double at = hp_it_time(str_of(r->json, "resolved_at"));
    IT_CHECK(at >= before - 2 && at <= hp_it_now() + 2, "resolved_at is not now: %s", r->body);
    /* The resolve answer is the same result object. */
    IT_CHECK(rv->json != NULL && json_object_equal(rv->json, r->json),
             "resolve answered %s but result is %s", rv->body, r->body);

    r = hp_it_agent(t, "GET", "/v1/approvals/sel-1", NULL);
    IT_JSTR(r->json, "status", "selected_option");
    IT_CHECK(hp_it_time(str_of(r->json, "resolved_at")) > 0, "metadata lacks resolved_at: %s",
             r->body);
    IT_JSTR(r->json, "result_delivery_status", "pending");
}

static void test_result_custom_instruction(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *id = create(t, "custom-1", NULL);
    IT_STATUS_FATAL(resolve(t, id, "{\"custom_instruction\":\"Deploy at 6pm instead\"}"), 200);
    hp_it_resp *r = hp_it_agent(t, "GET", "/v1/approvals/custom-1/result", NULL);
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "status", "custom_instruction");
    IT_JSTR(r->json, "custom_instruction", "Deploy at 6pm instead");
    IT_JNULL(r->json, "selected_option_index");
    IT_JNULL(r->json, "selected_option_label");
    IT_JNULL(r->json, "selected_option_value");
    IT_JSTR(r->json, "resolved_by.user_id", t->user_id);
}

static void test_cancel(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *id = create(t, "cancel-1", NULL);

    hp_it_resp *r = hp_it_agent(t, "POST", "/v1/approvals/cancel-1/cancel", NULL);
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "approval_id", id);
    IT_JSTR(r->json, "request_id", "cancel-1");
    IT_JSTR(r->json, "status", "cancelled");
    IT_JNULL(r->json, "selected_option_index");
    IT_JNULL(r->json, "selected_option_label");
    IT_JNULL(r->json, "selected_option_value");
    IT_JNULL(r->json, "custom_instruction");
    IT_JNULL(r->json, "resolved_by");

    r = hp_it_agent(t, "GET", "/v1/approvals/cancel-1/result", NULL);
    IT_JSTR(r->json, "status", "cancelled");
    IT_ERROR(hp_it_agent(t, "POST", "/v1/approvals/cancel-1/cancel", NULL), 409,
             "already_resolved");
    IT_ERROR(resolve(t, id, "{\"option_index\":0}"), 409, "already_resolved");
    r = hp_it_agent(t, "GET", "/v1/approvals/cancel-1/result", NULL);
    IT_JSTR(r->json, "status", "cancelled");

    /* Cancel after a resolve. */
    const char *id2 = create(t, "cancel-2", NULL);
    IT_STATUS(resolve(t, id2, "{\"option_index\":1}"), 200);
    IT_ERROR(hp_it_agent(t, "POST", "/v1/approvals/cancel-2/cancel", NULL), 409,
             "already_resolved");
    r = hp_it_agent(t, "GET", "/v1/approvals/cancel-2/result", NULL);
    IT_JSTR(r->json, "status", "selected_option");
    IT_JINT(r->json, "selected_option_index", 1);
    IT_ERROR(hp_it_agent(t, "POST", "/v1/approvals/no-such/cancel", NULL), 404, "not_found");

    IT_CHECK(hp_it_sql_int("select count(*) from approval_events where approval_id = $1 and "
                           "kind = 'cancelled'",
                           id, NULL) == 1,
             "want one cancelled event");
}

/* Request ids of items (harness-owned array of n). */
static const char **item_ids(json_object *items, int *n)
{
    *n = hp_it_jlen(items);
    if (*n < 0)
        *n = 0;
    const char **ids = hp_it_track(calloc((size_t)*n + 1, sizeof(char *)), free);
    for (int i = 0; i < *n; i++) {
        json_object *v =
            hp_it_jget(json_object_array_get_idx(items, (size_t)i), "request_id", NULL);
        ids[i] = v ? json_object_get_string(v) : "";
    }
    return ids;
}

/* The items' request ids joined with commas. */
static const char *joined_ids(hp_it_resp *r)
{
    int n;
    const char **ids = item_ids(hp_it_jget(r->json, "items", NULL), &n);
    char *got = hp_it_fmt("%s", "");
    for (int k = 0; k < n; k++)
        got = hp_it_fmt("%s%s%s", got, k ? "," : "", ids[k]);
    return got;
}

static void test_list_pagination(void)
{
    const hp_it_team *t = hp_it_team_new();
    for (int i = 0; i < 7; i++)
        create(t, hp_it_fmt("page-%d", i), NULL);
    /* Another agent's approvals are not listed. */
    create(hp_it_team_as(t, hp_it_agent_new(t, NULL), NULL), "other-agent", NULL);

    const char *seen[16];
    int nseen = 0, pages = 0;
    const char *cursor = NULL;
    for (;;) {
        const char *path =
            cursor ? hp_it_fmt("/v1/approvals?limit=3&cursor=%s", cursor) : "/v1/approvals?limit=3";
        hp_it_resp *r = hp_it_agent(t, "GET", path, NULL);
        IT_STATUS_FATAL(r, 200);
        pages++;
        int n;
        const char **ids = item_ids(hp_it_jget(r->json, "items", NULL), &n);
        IT_CHECK(n == (pages < 3 ? 3 : 1), "page %d has %d items: %s", pages, n, r->body);
        for (int i = 0; i < n && nseen < 16; i++)
            seen[nseen++] = ids[i];
        bool present = false;
        json_object *nc = hp_it_jget(r->json, "next_cursor", &present);
        if (pages < 3) {
            IT_CHECK_FATAL(nc != NULL && json_object_is_type(nc, json_type_string),
                           "page %d lacks next_cursor: %s", pages, r->body);
            cursor = hp_it_fmt("%s", json_object_get_string(nc));
        } else {
            IT_CHECK(!present, "the last page must omit next_cursor: %s", r->body);
            break;
        }
        IT_CHECK_FATAL(pages < 5, "pagination does not end");
    }
    /* Newest first, each exactly once. */
    IT_CHECK(nseen == 7, "want 7 items over the pages, got %d", nseen);
    for (int i = 0; i < nseen; i++)
        IT_CHECK(strcmp(seen[i], hp_it_fmt("page-%d", 6 - i)) == 0,
                 "item %d is %s, want page-%d (newest first, no gaps or repeats)", i, seen[i],
                 6 - i);

    /* Default limit covers all. */
    hp_it_resp *r = hp_it_agent(t, "GET", "/v1/approvals", NULL);
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 7, "want 7 items: %s", r->body);
    IT_JMISSING(r->json, "next_cursor");
    /* Items have the GET :requestId shape. */
    json_object *first = hp_it_jget(r->json, "items.0", NULL);
    IT_JSTR(first, "request_id", "page-6");
    IT_JSTR(first, "agent_id", t->agent_id);
    IT_JSTR(first, "status", "pending");
    IT_JSTR(first, "result_delivery_status", "pending");
    IT_JNULL(first, "result_delivery_error");
    /* Exactly 3 items means a cursor to an empty page or no cursor; either
     * way no duplicates: checked above. limit=7 returns all without a
     * cursor only when nothing follows. */
    r = hp_it_agent(t, "GET", "/v1/approvals?limit=100", NULL);
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 7, "limit=100: %s", r->body);
}

static void test_list_filters(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *a = create(t, "f-a", NULL);
    create(t, "f-b", "\"session_id\":\"sess-1\"");
    hp_it_sleep_ms(1100);
    create(t, "f-c", "\"session_id\":\"sess-1\"");
    create(t, "f-d", NULL);
    IT_STATUS(resolve(t, a, "{\"option_index\":0}"), 200);
    IT_STATUS(hp_it_agent(t, "POST", "/v1/approvals/f-d/cancel", NULL), 200);

    struct {
        const char *query;
        const char *want; /* request ids, newest first, comma-separated */
    } cases[] = {
        {"status=pending", "f-c,f-b"},     {"status=selected_option", "f-a"},
        {"status=cancelled", "f-d"},       {"status=expired", ""},
        {"status=custom_instruction", ""}, {"session_id=sess-1", "f-c,f-b"},
        {"session_id=none-such", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        hp_it_resp *r = hp_it_agent(t, "GET", hp_it_fmt("/v1/approvals?%s", cases[i].query), NULL);
        IT_STATUS(r, 200);
        IT_CHECK(strcmp(joined_ids(r), cases[i].want) == 0, "%s: want [%s], got [%s]",
                 cases[i].query, cases[i].want, joined_ids(r));
    }

    /* created_after / created_before around the gap between f-b and f-c. */
    hp_it_resp *rb = hp_it_agent(t, "GET", "/v1/approvals/f-b", NULL);
    hp_it_resp *rc = hp_it_agent(t, "GET", "/v1/approvals/f-c", NULL);
    double tb = hp_it_time(str_of(rb->json, "created_at"));
    double tc = hp_it_time(str_of(rc->json, "created_at"));
    IT_CHECK_FATAL(tc - tb > 0.5, "f-b and f-c were created too close together");
    /* A whole second strictly between the two, RFC 3339 with Z. */
    time_t mid = (time_t)tb + 1;
    struct tm tm;
    gmtime_r(&mid, &tm);
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    IT_CHECK_FATAL((double)mid > tb && (double)mid < tc, "no whole second between f-b and f-c");
    struct {
        const char *query;
        const char *want;
    } timed[] = {
        {hp_it_fmt("created_after=%s", when), "f-d,f-c"},
        {hp_it_fmt("created_before=%s", when), "f-b,f-a"},
        {hp_it_fmt("created_after=%s&status=pending", when), "f-c"},
        {hp_it_fmt("created_before=%s&status=selected_option", when), "f-a"},
    };
    for (size_t i = 0; i < sizeof(timed) / sizeof(timed[0]); i++) {
        hp_it_resp *r = hp_it_agent(t, "GET", hp_it_fmt("/v1/approvals?%s", timed[i].query), NULL);
        IT_STATUS(r, 200);
        IT_CHECK(strcmp(joined_ids(r), timed[i].want) == 0, "%s: want [%s], got [%s]",
                 timed[i].query, timed[i].want, joined_ids(r));
    }
}

static void test_list_invalid_query(void)
{
    const hp_it_team *t = hp_it_team_new();
    struct {
        const char *query, *param;
    } cases[] = {
        {"status=bogus", "status"},
        {"limit=0", "limit"},
        {"limit=101", "limit"},
        {"limit=abc", "limit"},
        {"limit=-1", "limit"},
        {"cursor=not-a-cursor", "cursor"},
        {"created_after=yesterday", "created_after"},
        {"created_before=2026-13-45T99:00:00Z", "created_before"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        hp_it_resp *r = hp_it_agent(t, "GET", hp_it_fmt("/v1/approvals?%s", cases[i].query), NULL);
        if (!IT_ERROR(r, 400, "invalid_query"))
            continue;
        json_object *issues = hp_it_jget(r->json, "issues", NULL);
        bool found = false;
        for (int k = 0; k < hp_it_jlen(issues); k++) {
            json_object *p = hp_it_jget(json_object_array_get_idx(issues, (size_t)k), "path", NULL);
            if (strcmp(hp_it_jtext(p), hp_it_fmt("[\"%s\"]", cases[i].param)) == 0)
                found = true;
        }
        IT_CHECK(found, "%s: want an issue at [\"%s\"], got %s", cases[i].query, cases[i].param,
                 hp_it_jtext(issues));
    }
    /* The reviewer list checks its query too. */
    IT_ERROR(hp_it_user(t, "GET", "/v1/review/approvals?status=bogus", NULL), 400, "invalid_query");
    IT_ERROR(hp_it_user(t, "GET", "/v1/review/approvals?limit=0", NULL), 400, "invalid_query");
}

static void test_audit(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *id = create(t, "audit-1", NULL);
    IT_STATUS_FATAL(resolve(t, id, "{\"option_index\":0}"), 200);

    hp_it_resp *r = hp_it_agent(t, "GET", "/v1/approvals/audit-1/audit", NULL);
    IT_STATUS_FATAL(r, 200);
    IT_JSTR(r->json, "approval_id", id);
    IT_JSTR(r->json, "request_id", "audit-1");
    json_object *ev = hp_it_jget(r->json, "events", NULL);
    IT_CHECK_FATAL(hp_it_jlen(ev) == 2, "want 2 events: %s", r->body);
    IT_JSTR(ev, "0.kind", "created");
    IT_JSTR(ev, "0.actor.type", "agent");
    IT_JSTR(ev, "0.actor.id", t->agent_id);
    IT_JSTR(ev, "1.kind", "resolved");
    IT_JSTR(ev, "1.actor.type", "user");
    IT_JSTR(ev, "1.actor.id", t->user_id);
    IT_JSTR(ev, "1.data.status", "selected_option");
    IT_JINT(ev, "1.data.selected_option_index", 0);
    json_object *id0 = hp_it_jget(ev, "0.id", NULL), *id1 = hp_it_jget(ev, "1.id", NULL);
    IT_CHECK(id0 && id1 && json_object_is_type(id0, json_type_int) &&
                 json_object_get_int64(id0) < json_object_get_int64(id1),
             "event ids must increase: %s", hp_it_jtext(ev));
    double c0 = hp_it_time(str_of(json_object_array_get_idx(ev, 0), "created_at"));
    double c1 = hp_it_time(str_of(json_object_array_get_idx(ev, 1), "created_at"));
    IT_CHECK(c0 > 0 && c1 >= c0, "event times out of order: %s", hp_it_jtext(ev));

    /* Cancel shows up too. */
    create(t, "audit-2", NULL);
    IT_STATUS(hp_it_agent(t, "POST", "/v1/approvals/audit-2/cancel", NULL), 200);
    r = hp_it_agent(t, "GET", "/v1/approvals/audit-2/audit", NULL);
    IT_STATUS(r, 200);
    ev = hp_it_jget(r->json, "events", NULL);
    IT_CHECK(hp_it_jlen(ev) == 2, "want created and cancelled: %s", r->body);
    IT_JSTR(ev, "0.kind", "created");
    IT_JSTR(ev, "1.kind", "cancelled");
    IT_JSTR(ev, "1.actor.type", "agent");

    long long n =
        hp_it_sql_int("select count(*) from approval_events where approval_id = $1", id, NULL);
    IT_CHECK(n == 2, "want 2 stored events, got %lld", n);
}

static void test_callback_job(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *with_cb = create(t, "cb-1",
                                 "\"callback\":{\"url\":\"https://example.com/hook\","
                                 "\"headers\":{\"X-Trace\":\"t-1\"}}");
    const char *without = create(t, "cb-2", NULL);
    const char *cancelled = create(t, "cb-3", "\"callback\":{\"url\":\"https://example.com/c\"}");

    IT_CHECK(hp_it_sql_int("select count(*) from jobs where team_id = $1", t->team_id, NULL) == 0,
             "a create queued a job");
    IT_STATUS(resolve(t, with_cb, "{\"option_index\":1}"), 200);
    IT_STATUS(resolve(t, without, "{\"option_index\":1}"), 200);
    IT_STATUS(hp_it_agent(t, "POST", "/v1/approvals/cb-3/cancel", NULL), 200);

    IT_CHECK(hp_it_sql_int("select count(*) from jobs where approval_id = $1 and kind = "
                           "'callback' and url = 'https://example.com/hook' and "
                           "jsonb_typeof(headers) = 'string' and headers::text not like '%t-1%'",
                           with_cb, NULL) == 1,
             "want exactly one callback job, its headers sealed, after the resolve");
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where approval_id = $1", with_cb, NULL) == 1,
             "want exactly one job for the resolved approval");
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where approval_id = $1", without, NULL) == 0,
             "an approval without callback queued a job");
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where approval_id = $1 and url = "
                           "'https://example.com/c'",
                           cancelled, NULL) == 1,
             "a cancel must queue the callback too");
    /* The decision is one statement: the job carries no body, and
     * holdpoint-delivery renders the closed approval's result at the claim
     * (it_webhook decision_callback_rendered receives it). */
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where approval_id = $1 and body is null "
                           "and response_id is null",
                           with_cb, NULL) == 1,
             "the callback job is rendered from the approval at delivery");
}

int main(void)
{
    static const char *const dflt_env[] = {"AGENT_CREATE_RATE_LIMIT_MAX=1000000", NULL};
    static const hp_it_test tests[] = {
        {"get_metadata", test_get_metadata},
        {"not_found", test_not_found},
        {"result_pending_shape", test_result_pending_shape},
        {"result_selected_option", test_result_selected_option},
        {"result_custom_instruction", test_result_custom_instruction},
        {"cancel", test_cancel},
        {"list_pagination", test_list_pagination},
        {"list_filters", test_list_filters},
        {"list_invalid_query", test_list_invalid_query},
        {"audit", test_audit},
        {"callback_job", test_callback_job},
        {NULL, NULL},
    };
    hp_it_set_default_env(dflt_env);
    return hp_it_main("approvals", tests, NULL, NULL);
}
