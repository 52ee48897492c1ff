/*
 * POST /v1/approvals (seed 003, docs/api.md): the seed 001 body, every field
 * limit at N and N + 1 with the exact issue path and code, code points not
 * bytes, the timeout merge with the agent's defaults, idempotency by
 * request_id (200 idempotent / 409 conflict body, race-safe), and the
 * transport errors 413, 415 and malformed JSON. Every create writes one
 * `created` event.
 *
 * The default API runs with a high create limit so these tests never meet
 * the rate limit (it_limits tests that).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_itest.h"

#define CREATE "/v1/approvals"
#define OPTS2                                                                                      \
    "[{\"label\":\"Approve\",\"value\":\"approve\"},{\"label\":\"Reject\",\"value\":\"reject\"}]"

static hp_it_api *small_api; /* HOLDPOINT_MAX_BODY_BYTES=2048 */

/* A JSON string literal for s. */
static const char *js(const char *s)
{
    return hp_it_fmt("\"%s\"", hp_it_jesc(s));
}

/* A body from raw JSON values; NULL leaves a member out. */
static const char *mk(const char *question, const char *context, const char *options,
                      const char *extra)
{
    char *s = hp_it_fmt("{");
    const char *sep = "";
    if (question != NULL) {
        s = hp_it_fmt("%s%s\"question\":%s", s, sep, question);
        sep = ",";
    }
    if (context != NULL) {
        s = hp_it_fmt("%s%s\"context_markdown\":%s", s, sep, context);
        sep = ",";
    }
    if (options != NULL) {
        s = hp_it_fmt("%s%s\"options\":%s", s, sep, options);
        sep = ",";
    }
    if (extra != NULL)
        s = hp_it_fmt("%s%s%s", s, sep, extra);
    return hp_it_fmt("%s}", s);
}

/* The usual body plus extra members. */
static const char *with(const char *extra)
{
    return mk(js("Deploy to production?"), js("Build #123 passed CI."), OPTS2, extra);
}

static hp_it_resp *post(const hp_it_team *t, const char *body)
{
    return hp_it_agent(t, "POST", CREATE, body);
}

static long long approvals_of(const hp_it_team *t)
{
    return hp_it_sql_int("select count(*) from approvals where team_id = $1", t->team_id, NULL);
}

static const char *str_of(hp_it_resp *r, const char *key)
{
    json_object *v = hp_it_jget(r->json, key, NULL);
    IT_CHECK_FATAL(v != NULL && json_object_is_type(v, json_type_string),
                   "response lacks string %s: %s", key, r->body);
    return json_object_get_string(v);
}

/* Asserts a 200 create answer and returns it. */
static hp_it_resp *ok(const hp_it_team *t, const char *body, int line)
{
    hp_it_resp *r = post(t, body);
    hp_it__status(r, 200, __FILE__, (unsigned)line, false);
    return r;
}

/* Asserts a 400 with the issue and that no row was written. */
static void bad(const hp_it_team *t, const char *body, const char *path, const char *code, int line)
{
    long long before = approvals_of(t);
    hp_it_resp *r = post(t, body);
    hp_it__issue(r, path, code, __FILE__, (unsigned)line);
    hp_it__check(approvals_of(t) == before, __FILE__, (unsigned)line, false,
                 "an invalid create wrote a row");
}

#define OK(t, body)              ok((t), (body), __LINE__)
#define BAD(t, body, path, code) bad((t), (body), (path), (code), __LINE__)

static bool ms_time(const char *s)
{
    /* 2026-11-23T09:37:29.123Z */
    return s != NULL && strlen(s) == 24 && s[19] == '.' && s[23] == 'Z' && hp_it_time(s) > 0;
}

static void test_seed001_body(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *seed = "{\n    \"question\": \"Deploy to production?\",\n"
                       "    \"context_markdown\": \"Build #123 passed CI.\",\n"
                       "    \"options\": [\n"
                       "      { \"label\": \"Approve\", \"value\": \"approve\" },\n"
                       "      { \"label\": \"Reject\", \"value\": \"reject\" }\n    ]\n  }";
    double before = hp_it_now();
    hp_it_resp *r = post(t, seed);
    IT_STATUS_FATAL(r, 200);
    const char *ct = hp_it_header(r, "Content-Type");
    IT_CHECK(ct != NULL && strncmp(ct, "application/json", 16) == 0, "Content-Type %s",
             ct ? ct : "(none)");
    IT_CHECK(hp_it_jlen(r->json) == 5,
             "want exactly approval_id, request_id, status, expires_at, idempotent: %s", r->body);
    IT_CHECK(hp_it_is_uuid(str_of(r, "approval_id")), "approval_id is not a UUID: %s", r->body);
    IT_CHECK(hp_it_is_uuid(str_of(r, "request_id")), "server request_id is not a UUID: %s",
             r->body);
    IT_JSTR(r->json, "status", "pending");
    IT_JBOOL(r->json, "idempotent", false);
    const char *exp = str_of(r, "expires_at");
    IT_CHECK(ms_time(exp), "expires_at is not RFC 3339 UTC with milliseconds: %s", exp);
    double e = hp_it_time(exp);
    IT_CHECK(e >= before + 3600 - 5 && e <= hp_it_now() + 3600 + 5,
             "expires_at %s is not now + 3600 s (agent default)", exp);

    /* Stored as sent. */
    const char *id = str_of(r, "approval_id");
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where id = $1 and team_id = $2 and "
                           "agent_id = $3 and question = 'Deploy to production?' and "
                           "context_markdown = 'Build #123 passed CI.' and status = 'pending' "
                           "and not request_id_supplied and jsonb_array_length(options) = 2",
                           id, t->team_id, t->agent_id, NULL) == 1,
             "the stored row does not match the body");
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events where approval_id = $1 and "
                           "kind = 'created' and actor_type = 'agent' and actor_id = $2",
                           id, t->agent_id, NULL) == 1,
             "want one created event by the agent");
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where approval_id = $1", id, NULL) == 0,
             "a create without callback queued a job");
}

static void test_server_request_ids(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *ids[4];
    const char *bodies[4] = {with(NULL), with("\"request_id\":\"\""),
                             with("\"request_id\":\"   \""), with("\"request_id\":null")};
    for (int i = 0; i < 4; i++) {
        hp_it_resp *r = OK(t, bodies[i]);
        ids[i] = r->status == 200 ? str_of(r, "request_id") : "";
        IT_CHECK(hp_it_is_uuid(ids[i]), "body %d: request_id is not a server UUID: %s", i, r->body);
        IT_JBOOL(r->json, "idempotent", false);
    }
    /* Server-assigned ids are never merged: the same body twice is two rows. */
    IT_CHECK(strcmp(ids[0], ids[1]) != 0 && strcmp(ids[1], ids[2]) != 0 &&
                 strcmp(ids[2], ids[3]) != 0,
             "server request ids repeat");
    hp_it_resp *r = OK(t, with(NULL));
    IT_JBOOL(r->json, "idempotent", false);
    IT_CHECK(approvals_of(t) == 5, "want 5 rows for 5 creates without request_id");
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events e join approvals a on "
                           "a.id = e.approval_id where a.team_id = $1 and e.kind = 'created'",
                           t->team_id, NULL) == 5,
             "want one created event per create");
}

/* The request_id of n characters, unique per call. */
static const char *rid_of_len(int n)
{
    const char *u = hp_it_unique();
    return hp_it_fmt("%s%s", u, hp_it_repeat("r", n - (int)strlen(u)));
}

static void test_string_limits(void)
{
    const hp_it_team *t = hp_it_team_new();

    const char *rid = rid_of_len(120);
    hp_it_resp *r = OK(t, with(hp_it_fmt("\"request_id\":%s", js(rid))));
    IT_JSTR(r->json, "request_id", rid);
    BAD(t, with(hp_it_fmt("\"request_id\":%s", js(rid_of_len(121)))), "[\"request_id\"]",
        "too_big");

    OK(t, with(hp_it_fmt("\"correlation_id\":%s", js(hp_it_repeat("c", 120)))));
    BAD(t, with(hp_it_fmt("\"correlation_id\":%s", js(hp_it_repeat("c", 121)))),
        "[\"correlation_id\"]", "too_big");

    OK(t, with(hp_it_fmt("\"notification_summary\":%s", js(hp_it_repeat("n", 120)))));
    BAD(t, with(hp_it_fmt("\"notification_summary\":%s", js(hp_it_repeat("n", 121)))),
        "[\"notification_summary\"]", "too_big");

    OK(t, mk(js(hp_it_repeat("q", 500)), js(""), OPTS2, NULL));
    BAD(t, mk(js(hp_it_repeat("q", 501)), js(""), OPTS2, NULL), "[\"question\"]", "too_big");
    BAD(t, mk(js(""), js(""), OPTS2, NULL), "[\"question\"]", "too_small");

    OK(t, mk(js("q"), js(hp_it_repeat("m", 2500)), OPTS2, NULL));
    BAD(t, mk(js("q"), js(hp_it_repeat("m", 2501)), OPTS2, NULL), "[\"context_markdown\"]",
        "too_big");
    /* context_markdown may be empty. */
    OK(t, mk(js("q"), js(""), OPTS2, NULL));
}

static void test_required_and_types(void)
{
    const hp_it_team *t = hp_it_team_new();

    BAD(t, mk(NULL, js("c"), OPTS2, NULL), "[\"question\"]", "invalid_type");
    /* zod's message for a missing member. */
    hp_it_resp *r = post(t, mk(NULL, js("c"), OPTS2, NULL));
    IT_CHECK(strcmp(hp_it_jtext(hp_it_jget(r->json, "issues.0.message", NULL)), "\"Required\"") ==
                 0,
             "missing question: want message Required, got %s", r->body);
    BAD(t, mk(js("q"), NULL, OPTS2, NULL), "[\"context_markdown\"]", "invalid_type");
    BAD(t, mk(js("q"), js("c"), NULL, NULL), "[\"options\"]", "invalid_type");
    BAD(t, mk("5", js("c"), OPTS2, NULL), "[\"question\"]", "invalid_type");
    BAD(t, mk("null", js("c"), OPTS2, NULL), "[\"question\"]", "invalid_type");
    BAD(t, mk(js("q"), js("c"), "{}", NULL), "[\"options\"]", "invalid_type");
    BAD(t, with("\"timeout\":\"soon\""), "[\"timeout\"]", "invalid_type");
    BAD(t, with("\"callback\":\"https://example.com\""), "[\"callback\"]", "invalid_type");
    BAD(t, with("\"request_id\":42"), "[\"request_id\"]", "invalid_type");
    BAD(t, mk(js("q"), js("c"), "[{\"value\":\"v\"}]", NULL), "[\"options\",0,\"label\"]",
        "invalid_type");
    BAD(t, mk(js("q"), js("c"), "[{\"label\":\"l\"}]", NULL), "[\"options\",0,\"value\"]",
        "invalid_type");
    BAD(t, mk(js("q"), js("c"), "[\"approve\"]", NULL), "[\"options\",0]", "invalid_type");
    /* Several problems are all reported. */
    r = post(t, mk(js(""), NULL, "[]", NULL));
    IT_ISSUE(r, "[\"question\"]", "too_small");
    IT_ISSUE(r, "[\"context_markdown\"]", "invalid_type");
    IT_ISSUE(r, "[\"options\"]", "too_small");
    /* Unknown members are ignored. */
    OK(t, with("\"colour\":\"blue\",\"extra\":{\"a\":[1,2]}"));
    IT_CHECK(approvals_of(t) == 1, "want exactly the one valid create stored");
}

static void test_options_limits(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *o1 = "{\"label\":\"a\",\"value\":\"1\"}";

    BAD(t, mk(js("q"), js(""), "[]", NULL), "[\"options\"]", "too_small");
    OK(t, mk(js("q"), js(""), hp_it_fmt("[%s]", o1), NULL));
    OK(t, mk(js("q"), js(""), hp_it_fmt("[%s,%s,%s,%s]", o1, o1, o1, o1), NULL));
    BAD(t, mk(js("q"), js(""), hp_it_fmt("[%s,%s,%s,%s,%s]", o1, o1, o1, o1, o1), NULL),
        "[\"options\"]", "too_big");

    OK(t,
       mk(js("q"), js(""),
          hp_it_fmt("[%s,{\"label\":%s,\"value\":\"v\"}]", o1, js(hp_it_repeat("L", 120))), NULL));
    BAD(t,
        mk(js("q"), js(""),
           hp_it_fmt("[%s,{\"label\":%s,\"value\":\"v\"}]", o1, js(hp_it_repeat("L", 121))), NULL),
        "[\"options\",1,\"label\"]", "too_big");
    BAD(t, mk(js("q"), js(""), "[{\"label\":\"\",\"value\":\"v\"}]", NULL),
        "[\"options\",0,\"label\"]", "too_small");

    OK(t, mk(js("q"), js(""),
             hp_it_fmt("[{\"label\":\"l\",\"value\":%s}]", js(hp_it_repeat("V", 500))), NULL));
    BAD(t,
        mk(js("q"), js(""),
           hp_it_fmt("[{\"label\":\"l\",\"value\":%s}]", js(hp_it_repeat("V", 501))), NULL),
        "[\"options\",0,\"value\"]", "too_big");
    /* value has no minimum. */
    OK(t, mk(js("q"), js(""), "[{\"label\":\"l\",\"value\":\"\"}]", NULL));
    /* is_default_on_timeout must be a boolean. */
    OK(t, mk(js("q"), js(""), "[{\"label\":\"l\",\"value\":\"v\",\"is_default_on_timeout\":true}]",
             NULL));
    BAD(t,
        mk(js("q"), js(""), "[{\"label\":\"l\",\"value\":\"v\",\"is_default_on_timeout\":\"yes\"}]",
           NULL),
        "[\"options\",0,\"is_default_on_timeout\"]", "invalid_type");
}

static void test_code_points(void)
{
    const hp_it_team *t = hp_it_team_new();

    /* 500 x U+00E9 (1000 bytes) is 500 characters. */
    const char *q = hp_it_repeat("\xc3\xa9", 500);
    hp_it_resp *r = OK(t, mk(js(q), js(""), OPTS2, NULL));
    if (r->status == 200) {
        const char *stored = hp_it_sql_str("select question from approvals where id = $1",
                                           str_of(r, "approval_id"), NULL);
        IT_CHECK(stored != NULL && strcmp(stored, q) == 0, "the question was not stored as sent");
    }
    BAD(t, mk(js(hp_it_repeat("\xc3\xa9", 501)), js(""), OPTS2, NULL), "[\"question\"]", "too_big");
    /* Four-byte characters: 120 x U+1F600 as a label. */
    OK(t,
       mk(js("q"), js(""),
          hp_it_fmt("[{\"label\":%s,\"value\":\"v\"}]", js(hp_it_repeat("\xf0\x9f\x98\x80", 120))),
          NULL));
    BAD(t,
        mk(js("q"), js(""),
           hp_it_fmt("[{\"label\":%s,\"value\":\"v\"}]", js(hp_it_repeat("\xf0\x9f\x98\x80", 121))),
           NULL),
        "[\"options\",0,\"label\"]", "too_big");
    /* JSON escapes count as the character they stand for. */
    OK(t, mk(hp_it_fmt("\"%s\"", hp_it_repeat("\\u00e9", 500)), js(""), OPTS2, NULL));
    BAD(t, mk(hp_it_fmt("\"%s\"", hp_it_repeat("\\u00e9", 501)), js(""), OPTS2, NULL),
        "[\"question\"]", "too_big");
}

static void test_timeout_limits(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *p = "[\"timeout\",\"expires_in_seconds\"]";

    BAD(t, with("\"timeout\":{\"expires_in_seconds\":29}"), p, "too_small");
    OK(t, with("\"timeout\":{\"expires_in_seconds\":30}"));
    OK(t, with("\"timeout\":{\"expires_in_seconds\":86400}"));
    BAD(t, with("\"timeout\":{\"expires_in_seconds\":86401}"), p, "too_big");
    BAD(t, with("\"timeout\":{\"expires_in_seconds\":30.5}"), p, "invalid_type");
    BAD(t, with("\"timeout\":{\"expires_in_seconds\":\"30\"}"), p, "invalid_type");
    BAD(t, with("\"timeout\":{\"expires_in_seconds\":-30}"), p, "too_small");
    /* An integral 30.0 is 30. */
    double before = hp_it_now();
    hp_it_resp *r = OK(t, with("\"timeout\":{\"expires_in_seconds\":30.0}"));
    double e = hp_it_time(json_object_get_string(hp_it_jget(r->json, "expires_at", NULL)));
    IT_CHECK(e >= before + 30 - 2 && e <= hp_it_now() + 30 + 2,
             "expires_in_seconds 30.0: expires_at %s is not now + 30 s", r->body);

    BAD(t, with("\"timeout\":{\"mode\":\"never\"}"), "[\"timeout\",\"mode\"]",
        "invalid_enum_value");
    OK(t, with("\"timeout\":{\"mode\":\"expire_no_action\"}"));

    /* expire_with_predefined_instruction needs a non-empty instruction. */
    BAD(t, with("\"timeout\":{\"mode\":\"expire_with_predefined_instruction\"}"),
        "[\"timeout\",\"predefined_instruction\"]", "custom");
    BAD(t,
        with("\"timeout\":{\"mode\":\"expire_with_predefined_instruction\","
             "\"predefined_instruction\":\"\"}"),
        "[\"timeout\",\"predefined_instruction\"]", "custom");
    BAD(t,
        with("\"timeout\":{\"mode\":\"expire_with_predefined_instruction\","
             "\"predefined_instruction\":null}"),
        "[\"timeout\",\"predefined_instruction\"]", "custom");
    OK(t, with("\"timeout\":{\"mode\":\"expire_with_predefined_instruction\","
               "\"predefined_instruction\":\"stop\"}"));

    OK(t, with(hp_it_fmt("\"timeout\":{\"mode\":\"expire_with_predefined_instruction\","
                         "\"predefined_instruction\":%s}",
                         js(hp_it_repeat("i", 1000)))));
    BAD(t,
        with(hp_it_fmt("\"timeout\":{\"predefined_instruction\":%s}", js(hp_it_repeat("i", 1001)))),
        "[\"timeout\",\"predefined_instruction\"]", "too_big");
    BAD(t, with("\"timeout\":{\"predefined_instruction\":7}"),
        "[\"timeout\",\"predefined_instruction\"]", "invalid_type");
    /* An empty timeout object keeps every default. */
    OK(t, with("\"timeout\":{}"));
}

static void test_callback_rules(void)
{
    const hp_it_team *t = hp_it_team_new();

    BAD(t, with("\"callback\":{\"url\":\"not a url\"}"), "[\"callback\",\"url\"]",
        "invalid_string");
    BAD(t, with("\"callback\":{\"url\":\"ftp://example.com/x\"}"), "[\"callback\",\"url\"]",
        "invalid_string");
    BAD(t, with("\"callback\":{\"headers\":{\"X-A\":\"1\"}}"), "[\"callback\",\"url\"]",
        "invalid_type");
    BAD(t, with("\"callback\":{\"url\":42}"), "[\"callback\",\"url\"]", "invalid_type");
    BAD(t, with("\"callback\":{\"url\":\"https://example.com/hook\",\"headers\":{\"X-N\":1}}"),
        "[\"callback\",\"headers\",\"X-N\"]", "invalid_type");
    BAD(t, with("\"callback\":{\"url\":\"https://example.com/hook\",\"headers\":[\"a\"]}"),
        "[\"callback\",\"headers\"]", "invalid_type");
    hp_it_resp *r = OK(t, with("\"callback\":{\"url\":\"https://example.com/hook\","
                               "\"headers\":{\"X-Trace\":\"abc\"}}"));
    if (r->status == 200)
        IT_CHECK(hp_it_sql_int("select count(*) from approvals where id = $1 and callback_url = "
                               "'https://example.com/hook' and jsonb_typeof(callback_headers) = "
                               "'string' and callback_headers #>> '{}' like 'v1.%'",
                               str_of(r, "approval_id"), NULL) == 1,
                 "callback not stored, its headers sealed");
    OK(t, with("\"callback\":{\"url\":\"http://example.com/hook\"}"));
}

static double expires_at(hp_it_resp *r)
{
    json_object *e = hp_it_jget(r->json, "expires_at", NULL);
    return e ? hp_it_time(json_object_get_string(e)) : -1;
}

/* Checks the stored merged timeout of the approval answered in r. */
static void expect_timeout(hp_it_resp *r, double before, int secs, const char *mode,
                           const char *instr, int line)
{
    if (!hp_it__status(r, 200, __FILE__, (unsigned)line, false))
        return;
    const char *id = str_of(r, "approval_id");
    double e = expires_at(r);
    hp_it__check(e >= before + secs - 2 && e <= hp_it_now() + secs + 2, __FILE__, (unsigned)line,
                 false, "expires_at %s is not now + %d s", r->body, secs);
    long long n;
    if (instr != NULL)
        n = hp_it_sql_int("select count(*) from approvals where id = $1 and "
                          "timeout_seconds = $2::int and timeout_mode = $3 and "
                          "predefined_instruction = $4",
                          id, hp_it_fmt("%d", secs), mode, instr, NULL);
    else
        n = hp_it_sql_int("select count(*) from approvals where id = $1 and "
                          "timeout_seconds = $2::int and timeout_mode = $3 and "
                          "predefined_instruction is null",
                          id, hp_it_fmt("%d", secs), mode, NULL);
    hp_it__check(n == 1, __FILE__, (unsigned)line, false, "stored timeout is not %d %s %s", secs,
                 mode, instr ? instr : "null");
}

static void test_timeout_merge(void)
{
    const hp_it_team *base = hp_it_team_new();
    const char *args[] = {"--timeout-seconds",
                          "120",
                          "--timeout-mode",
                          "expire_with_predefined_instruction",
                          "--timeout-instruction",
                          "stop",
                          NULL};
    const char *agent = hp_it_agent_new(base, args);
    const hp_it_team *t = hp_it_team_as(base, agent, NULL);
    const char *mode_i = "expire_with_predefined_instruction";
    double now;

    /* The agent's defaults are listed. */
    hp_it_resp *r = hp_it_agent(t, "GET", "/v1/agents", NULL);
    IT_STATUS(r, 200);
    json_object *items = hp_it_jget(r->json, "items", NULL), *mine = NULL;
    for (int i = 0; i < hp_it_jlen(items); i++) {
        json_object *a = json_object_array_get_idx(items, (size_t)i);
        json_object *v = hp_it_jget(a, "agent_id", NULL);
        if (v != NULL && strcmp(json_object_get_string(v), agent) == 0)
            mine = a;
    }
    IT_CHECK(mine != NULL, "the new agent is not listed: %s", r->body);
    IT_JINT(mine, "default_timeout_seconds", 120);
    IT_JSTR(mine, "default_timeout_mode", mode_i);
    IT_JSTR(mine, "default_timeout_instruction", "stop");

    now = hp_it_now();
    expect_timeout(post(t, with(NULL)), now, 120, mode_i, "stop", __LINE__);
    now = hp_it_now();
    expect_timeout(post(t, with("\"timeout\":{\"expires_in_seconds\":45}")), now, 45, mode_i,
                   "stop", __LINE__);
    now = hp_it_now();
    expect_timeout(post(t, with("\"timeout\":{\"predefined_instruction\":\"halt\"}")), now, 120,
                   mode_i, "halt", __LINE__);
    now = hp_it_now();
    r = post(t, with("\"timeout\":{\"mode\":\"expire_no_action\"}"));
    IT_STATUS(r, 200);
    if (r->status == 200)
        IT_CHECK(hp_it_sql_int("select count(*) from approvals where id = $1 and "
                               "timeout_seconds = 120 and timeout_mode = 'expire_no_action'",
                               str_of(r, "approval_id"), NULL) == 1,
                 "mode override did not keep the agent's seconds");
    /* Clearing the instruction while the merged mode needs one. */
    BAD(t, with("\"timeout\":{\"predefined_instruction\":null}"),
        "[\"timeout\",\"predefined_instruction\"]", "custom");
    BAD(t, with("\"timeout\":{\"predefined_instruction\":\"\"}"),
        "[\"timeout\",\"predefined_instruction\"]", "custom");
    /* The bootstrap agent keeps the service defaults (3600, expire_no_action). */
    now = hp_it_now();
    expect_timeout(post(base, with(NULL)), now, 3600, "expire_no_action", NULL, __LINE__);
    now = hp_it_now();
    expect_timeout(post(base, with("\"timeout\":{\"mode\":\"expire_with_predefined_instruction\","
                                   "\"predefined_instruction\":\"go\"}")),
                   now, 3600, mode_i, "go", __LINE__);
}

/* 409 idempotency_conflict with the seed 003 body. */
static void expect_conflict(hp_it_resp *r, const char *rid, const char *existing, int line)
{
    if (!hp_it__error(r, 409, "idempotency_conflict", __FILE__, (unsigned)line))
        return;
    hp_it__jstr(r->json, "request_id", rid, __FILE__, (unsigned)line);
    hp_it__jstr(r->json, "existing_approval_id", existing, __FILE__, (unsigned)line);
    const char *x = hp_it_header(r, "X-Request-Id");
    hp_it__check(x != NULL && strcmp(x, rid) != 0, __FILE__, (unsigned)line, false,
                 "the trace id must travel in X-Request-Id, got %s", x ? x : "(none)");
}

static void test_idempotency(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *rid = hp_it_fmt("deploy-%s", hp_it_unique());
    const char *ridm = hp_it_fmt("\"request_id\":%s", js(rid));
    const char *b = with(ridm);

    hp_it_resp *first = post(t, b);
    IT_STATUS_FATAL(first, 200);
    IT_JSTR(first->json, "request_id", rid);
    IT_JBOOL(first->json, "idempotent", false);
    const char *id = str_of(first, "approval_id"), *exp = str_of(first, "expires_at");

    hp_it_resp *again = post(t, b);
    IT_STATUS(again, 200);
    IT_JSTR(again->json, "approval_id", id);
    IT_JSTR(again->json, "request_id", rid);
    IT_JSTR(again->json, "status", "pending");
    IT_JSTR(again->json, "expires_at", exp);
    IT_JBOOL(again->json, "idempotent", true);

    /* Same canonical payload: member order, fields outside it, and an
     * explicit timeout equal to the merged default. */
    const char *same[] = {
        hp_it_fmt("{%s,\"options\":%s,\"context_markdown\":\"Build #123 passed CI.\","
                  "\"question\":\"Deploy to production?\"}",
                  ridm, OPTS2),
        with(hp_it_fmt("%s,\"correlation_id\":\"other-correlation\"", ridm)),
        with(hp_it_fmt("%s,\"notification_summary\":\"a new summary\"", ridm)),
        with(hp_it_fmt("%s,\"timeout\":{\"expires_in_seconds\":3600}", ridm)),
        with(hp_it_fmt("%s,\"timeout\":{\"mode\":\"expire_no_action\"}", ridm)),
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        hp_it_resp *r = post(t, same[i]);
        IT_STATUS(r, 200);
        IT_JSTR(r->json, "approval_id", id);
        IT_JBOOL(r->json, "idempotent", true);
    }

    /* A different canonical payload. */
    const char *differ[] = {
        mk(js("Deploy to staging?"), js("Build #123 passed CI."), OPTS2, ridm),
        mk(js("Deploy to production?"), js("Build #124 passed CI."), OPTS2, ridm),
        mk(js("Deploy to production?"), js("Build #123 passed CI."),
           "[{\"label\":\"Approve\",\"value\":\"approve\"},{\"label\":\"Decline\",\"value\":"
           "\"reject\"}]",
           ridm),
        mk(js("Deploy to production?"), js("Build #123 passed CI."),
           "[{\"label\":\"Approve\",\"value\":\"approve\"}]", ridm),
        with(hp_it_fmt("%s,\"timeout\":{\"expires_in_seconds\":3601}", ridm)),
        with(hp_it_fmt("%s,\"timeout\":{\"mode\":\"expire_with_predefined_instruction\","
                       "\"predefined_instruction\":\"stop\"}",
                       ridm)),
        with(hp_it_fmt("%s,\"callback\":{\"url\":\"https://example.com/a\"}", ridm)),
        with(hp_it_fmt("%s,\"callback\":{\"url\":\"https://example.com/a\",\"headers\":"
                       "{\"X-T\":\"1\"}}",
                       ridm)),
    };
    for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++)
        expect_conflict(post(t, differ[i]), rid, id, __LINE__);

    /* The same request_id on another agent of the team is another approval. */
    const hp_it_team *t2 = hp_it_team_as(t, hp_it_agent_new(t, NULL), NULL);
    hp_it_resp *r = post(t2, b);
    IT_STATUS(r, 200);
    IT_JBOOL(r->json, "idempotent", false);
    IT_CHECK(r->status == 200 && strcmp(str_of(r, "approval_id"), id) != 0,
             "another agent's request_id must not match");

    IT_CHECK(hp_it_sql_int("select count(*) from approvals where agent_id = $1 and "
                           "request_id = $2",
                           t->agent_id, rid, NULL) == 1,
             "want one row for the request_id");
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events where approval_id = $1 and "
                           "kind = 'created'",
                           id, NULL) == 1,
             "idempotent repeats must not write created events");
}

static void test_idempotent_after_resolve(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *rid = hp_it_fmt("resolved-%s", hp_it_unique());
    const char *b = with(hp_it_fmt("\"request_id\":%s", js(rid)));
    hp_it_resp *r = post(t, b);
    IT_STATUS_FATAL(r, 200);
    const char *id = str_of(r, "approval_id");
    r = hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", id),
                   "{\"option_index\":1}");
    IT_STATUS_FATAL(r, 200);
    r = post(t, b);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "approval_id", id);
    IT_JSTR(r->json, "status", "selected_option");
    IT_JBOOL(r->json, "idempotent", true);
    expect_conflict(
        post(t, mk(js("Something else?"), js(""), OPTS2, hp_it_fmt("\"request_id\":%s", js(rid)))),
        rid, id, __LINE__);
}

static void test_concurrent_identical_creates(void)
{
    enum { N = 50 };
    const hp_it_team *t = hp_it_team_new();
    const char *rid = hp_it_fmt("race-%s", hp_it_unique());
    const char *b = with(hp_it_fmt("\"request_id\":%s", js(rid)));
    hp_it_req reqs[N];
    hp_it_resp *out[N];
    for (int i = 0; i < N; i++) {
        memset(&reqs[i], 0, sizeof(reqs[i]));
        reqs[i].method = "POST";
        reqs[i].path = CREATE;
        reqs[i].headers = hp_it_agent_headers(t, true);
        reqs[i].body = b;
    }
    hp_it_parallel(NULL, N, reqs, out);
    int ok200 = 0, fresh = 0;
    const char *id = NULL;
    bool same = true;
    for (int i = 0; i < N; i++) {
        if (out[i]->status != 200) {
            IT_STATUS(out[i], 200);
            continue;
        }
        ok200++;
        json_object *idem = hp_it_jget(out[i]->json, "idempotent", NULL);
        if (idem != NULL && !json_object_get_boolean(idem))
            fresh++;
        const char *a = json_object_get_string(hp_it_jget(out[i]->json, "approval_id", NULL));
        if (id == NULL)
            id = a;
        else if (a == NULL || strcmp(a, id) != 0)
            same = false;
    }
    IT_CHECK(ok200 == N, "want %d x 200, got %d", N, ok200);
    IT_CHECK(fresh == 1, "want exactly one idempotent:false, got %d", fresh);
    IT_CHECK(same, "concurrent identical creates answered different approval ids");
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where agent_id = $1 and "
                           "request_id = $2",
                           t->agent_id, rid, NULL) == 1,
             "concurrent identical creates wrote more than one row");
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events e join approvals a on a.id = "
                           "e.approval_id where a.agent_id = $1 and e.kind = 'created'",
                           t->agent_id, NULL) == 1,
             "want one created event");
}

/* Creates of several teams sent at once share statements and commits
 * (hp_batch): each still gets its own answer. One of them is refused by
 * PostgreSQL (a trigger); the statement it shared fails as a whole, and
 * every other create in it is retried alone and succeeds. Three pairs repeat
 * a request_id: one of each pair is new, the other its idempotent repeat.
 * Bursts repeat until /metrics shows a statement that served more than one
 * request (the first burst almost always does). */
static void test_concurrent_creates_share_statements(void)
{
    enum { N = 48, TEAMS = 3, BURSTS = 5 };
    const hp_it_team *t[TEAMS];
    hp_it_api *api = hp_it_api_default();
    const char *fn = hp_it_fmt("it_fail_batch_%d", (int)getpid());
    bool shared = false;

    for (int i = 0; i < TEAMS; i++)
        t[i] = hp_it_team_new();
    for (int burst = 0; burst < BURSTS && !shared; burst++) {
        const char *tag = hp_it_unique();
        const char *marker = hp_it_fmt("it: fail in a batch %s", tag);
        double stmts = hp_it_gauge(api, "holdpoint_db_batch_statements_total");
        double served = hp_it_gauge(api, "holdpoint_db_batch_requests_total");
        hp_it_req reqs[N];
        hp_it_resp *out[N];

        IT_CHECK_FATAL(stmts >= 0 && served >= 0, "the batch counters are on /metrics");
        IT_CHECK_FATAL(
            hp_it_sql_exec(hp_it_fmt("create or replace function %s() returns trigger "
                                     "language plpgsql as $$ begin if new.question = '%s' then "
                                     "raise exception 'injected by it_create'; end if; "
                                     "return new; end $$",
                                     fn, marker),
                           NULL) &&
                hp_it_sql_exec(hp_it_fmt("create or replace trigger %s before insert on "
                                         "approvals for each row execute function %s()",
                                         fn, fn),
                               NULL),
            "could not install the failing trigger");
        for (int i = 0; i < N; i++) {
            /* 0: refused; 1..6: three pairs with one request_id each. */
            bool pair = i >= 1 && i <= 6; /* both halves of a pair as team 0 */
            const char *q = i == 0 ? marker
                            : pair ? hp_it_fmt("Batch %s pair %d?", tag, (i + 1) / 2)
                                   : hp_it_fmt("Batch %s #%d?", tag, i);
            const char *extra =
                pair ? hp_it_fmt("\"request_id\":\"pair-%s-%d\"", tag, (i + 1) / 2) : NULL;
            memset(&reqs[i], 0, sizeof(reqs[i]));
            reqs[i].method = "POST";
            reqs[i].path = CREATE;
            reqs[i].headers = hp_it_agent_headers(t[pair ? 0 : i % TEAMS], true);
            reqs[i].body = mk(js(q), js(""), OPTS2, extra);
        }
        hp_it_parallel(api, N, reqs, out);
        IT_CHECK(hp_it_sql_exec(hp_it_fmt("drop trigger %s on approvals", fn), NULL) &&
                     hp_it_sql_exec(hp_it_fmt("drop function %s()", fn), NULL),
                 "could not drop the failing trigger");

        IT_ERROR(out[0], 500, "approval_creation_failed");
        int fresh_pairs = 0;
        for (int i = 1; i < N; i++) {
            IT_STATUS(out[i], 200);
            if (out[i]->status != 200)
                continue;
            const char *id = str_of(out[i], "approval_id");
            bool repeat = json_object_get_boolean(hp_it_jget(out[i]->json, "idempotent", NULL));
            if (i <= 6 && !repeat)
                fresh_pairs++;
            if (i > 6)
                IT_CHECK(!repeat, "create %d answered as a repeat", i);
            IT_CHECK(hp_it_sql_int("select count(*) from approvals where id = $1 and question = "
                                   "$2",
                                   id,
                                   hp_it_fmt(i <= 6 ? "Batch %s pair %d?" : "Batch %s #%d?", tag,
                                             i <= 6 ? (i + 1) / 2 : i),
                                   NULL) == 1,
                     "create %d: its approval_id names its own question", i);
        }
        IT_CHECK(fresh_pairs == 3, "want one new create per request_id pair, got %d", fresh_pairs);
        IT_CHECK(hp_it_sql_int("select count(*) from approvals where question like $1",
                               hp_it_fmt("Batch %s %%", tag), NULL) == N - 1 - 3,
                 "want one row per create but the refused one and the repeats");
        IT_CHECK(hp_it_sql_int("select count(*) from approval_events e join approvals a on a.id = "
                               "e.approval_id where a.question like $1 and e.kind = 'created'",
                               hp_it_fmt("Batch %s %%", tag), NULL) == N - 1 - 3,
                 "want one created event per row");
        IT_CHECK(
            hp_it_sql_int("select count(*) from approvals where question = $1", marker, NULL) == 0,
            "the refused create left a row");
        shared = hp_it_gauge(api, "holdpoint_db_batch_requests_total") - served >
                 hp_it_gauge(api, "holdpoint_db_batch_statements_total") - stmts;
    }
    IT_CHECK(shared, "no statement served more than one request in %d bursts of %d", BURSTS, N);
}

static void test_media_type(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *b = with(NULL);
    const char *h_text[] = {hp_it_fmt("X-Agent-Id: %s", t->agent_id),
                            hp_it_fmt("X-Api-Key: %s", t->api_key), "Content-Type: text/plain",
                            NULL};
    IT_ERROR(hp_it_http(NULL, "POST", CREATE, h_text, b), 415, "unsupported_media_type");
    /* curl's default form type. */
    const char *h_form[] = {h_text[0], h_text[1], NULL};
    IT_ERROR(hp_it_http(NULL, "POST", CREATE, h_form, b), 415, "unsupported_media_type");
    /* A charset parameter is accepted. */
    const char *h_cs[] = {h_text[0], h_text[1], "Content-Type: application/json; charset=utf-8",
                          NULL};
    IT_STATUS(hp_it_http(NULL, "POST", CREATE, h_cs, b), 200);
    IT_CHECK(approvals_of(t) == 1, "a 415 wrote a row");
}

static void test_malformed_json(void)
{
    const hp_it_team *t = hp_it_team_new();

    BAD(t, "{", "[]", "invalid_json");
    BAD(t, "not json at all", "[]", "invalid_json");
    BAD(t, "{\"question\":\"q\",}", "[]", "invalid_json");
    hp_it_resp *r = post(t, "{\"question\": \"unterminated");
    IT_ISSUE(r, "[]", "invalid_json");
    /* JSON that is not an object. */
    BAD(t, "[1]", "[]", "invalid_type");
    BAD(t, "\"a string\"", "[]", "invalid_type");
    BAD(t, "null", "[]", "invalid_type");
    BAD(t, "42", "[]", "invalid_type");
    IT_CHECK(approvals_of(t) == 0, "malformed bodies wrote rows");
}

/* A valid body of exactly n bytes (padding the context). */
static const char *body_of_size(size_t n)
{
    const char *empty = mk(js("Sized?"), js(""), OPTS2, NULL);
    size_t base = strlen(empty);
    if (n < base)
        return empty;
    return mk(js("Sized?"), js(hp_it_repeat("p", (int)(n - base))), OPTS2, NULL);
}

static void test_payload_too_large(void)
{
    const hp_it_team *t = hp_it_team_new();
    IT_CHECK_FATAL(small_api != NULL, "the API with HOLDPOINT_MAX_BODY_BYTES=2048 is not up");
    const char *const *h = hp_it_agent_headers(t, true);

    /* At the limit: fine. */
    const char *at = body_of_size(2048);
    IT_CHECK_FATAL(strlen(at) == 2048, "body_of_size");
    hp_it_req req = {.method = "POST", .path = CREATE, .headers = h, .body = at};
    IT_STATUS(hp_it_send(small_api, &req), 200);

    /* One byte over, refused from Content-Length (with and without
     * Expect: 100-continue). */
    const char *over = body_of_size(2049);
    req.body = over;
    IT_ERROR(hp_it_send(small_api, &req), 413, "payload_too_large");
    const char *big = body_of_size(2400);
    req.body = big;
    req.flags = HP_IT_EXPECT;
    IT_ERROR(hp_it_send(small_api, &req), 413, "payload_too_large");

    /* Chunked: a small body is read, a large one is cut off at the limit. */
    req.flags = HP_IT_CHUNKED;
    req.body = body_of_size(600);
    IT_STATUS(hp_it_send(small_api, &req), 200);
    req.body = mk(js("Chunked?"), js(hp_it_repeat("x", 2400)), OPTS2, NULL);
    IT_ERROR(hp_it_send(small_api, &req), 413, "payload_too_large");

    /* The API is still healthy afterwards. */
    IT_STATUS(hp_it_http(small_api, "GET", "/healthz", NULL, NULL), 200);
    IT_CHECK(approvals_of(t) == 2, "want exactly the 2 accepted bodies stored");
}

static void test_created_event_per_create(void)
{
    const hp_it_team *t = hp_it_team_new();
    for (int i = 0; i < 5; i++)
        OK(t, with(hp_it_fmt("\"request_id\":\"ev-%d\"", i)));
    OK(t, with("\"request_id\":\"ev-0\"")); /* idempotent: no event */
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events e join approvals a on a.id = "
                           "e.approval_id where a.team_id = $1 and e.kind = 'created' and "
                           "e.team_id = $1",
                           t->team_id, NULL) == 5,
             "want exactly 5 created events");
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events e join approvals a on a.id = "
                           "e.approval_id where a.team_id = $1 and e.kind <> 'created'",
                           t->team_id, NULL) == 0,
             "a create wrote another kind of event");
}

/* The database keeps an approval's team equal to its agent's (one foreign
 * key on the pair, sql/013): a row copied from a real create is refused
 * under another team and stored under its own. Its agent's deletion still
 * takes the approvals with it. */
static void test_approval_team_is_agent_team(void)
{
    const hp_it_team *t = hp_it_team_new(), *other = hp_it_team_new();
    const hp_it_team *doomed = hp_it_team_agent(t);
    /* The insert in a function of this connection, so a refusal comes back
     * as its SQLSTATE instead of failing the harness's statement. */
    static const char fn[] =
        "create or replace function pg_temp.copy_approval(src uuid, team uuid) returns text "
        "language plpgsql as $$ begin "
        "insert into approvals (id, team_id, agent_id, request_id, request_id_supplied, "
        "question, context_markdown, options, timeout_seconds, timeout_mode, expires_at, "
        "canonical_hash) select gen_random_uuid(), team, agent_id, request_id || '-copy', "
        "request_id_supplied, question, context_markdown, options, timeout_seconds, "
        "timeout_mode, expires_at, canonical_hash from approvals where id = src; "
        "return 'inserted'; exception when others then return sqlstate; end $$";
    const char *row, *to_other, *to_own;

    OK(doomed, with("\"request_id\":\"pair-1\""));
    row = hp_it_sql_str("select id::text from approvals where request_id = 'pair-1' and team_id = "
                        "$1::uuid",
                        t->team_id, NULL);
    IT_CHECK_FATAL(row != NULL, "the create was not stored");
    IT_CHECK_FATAL(hp_it_sql_exec(fn, NULL), "could not define the copy");
    to_other = hp_it_sql_str("select pg_temp.copy_approval($1::uuid, $2::uuid)", row,
                             other->team_id, NULL);
    to_own =
        hp_it_sql_str("select pg_temp.copy_approval($1::uuid, $2::uuid)", row, t->team_id, NULL);
    IT_CHECK(to_other != NULL && strcmp(to_other, "23503") == 0,
             "an approval of another team's agent: want foreign_key_violation, got %s",
             to_other ? to_other : "(null)");
    IT_CHECK(to_own != NULL && strcmp(to_own, "inserted") == 0,
             "the same row with its own team: want inserted, got %s", to_own ? to_own : "(null)");
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where request_id like 'pair-1%' "
                           "and agent_id = (select agent_id from approvals where id = $1::uuid)",
                           row, NULL) == 2,
             "want the create and its copy");
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where team_id = $1::uuid",
                           other->team_id, NULL) == 0,
             "the refused copy left a row");
    IT_CHECK_FATAL(hp_it_sql_exec("delete from agents where id = (select agent_id from approvals "
                                  "where id = $1::uuid)",
                                  row, NULL),
                   "could not delete the agent");
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where request_id like 'pair-1%' and "
                           "team_id = $1::uuid",
                           t->team_id, NULL) == 0,
             "the agent's approvals outlived it");
}

/* 500 approval_creation_failed: a trigger (made and dropped by this test)
 * makes PostgreSQL refuse the insert of one marked question, an unexpected
 * failure that is not an outage. Nothing may be left behind. */
static void test_creation_failed_500(void)
{
    const hp_it_team *t = hp_it_team_new();
    const hp_it_team *q = hp_it_team_new();
    const char *marker = hp_it_fmt("it: fail this create %s", hp_it_unique());
    /* Its own trigger, matching only its own marker: the pooled pass of
     * this program may run at the same time. */
    const char *fn = hp_it_fmt("it_fail_create_%d", (int)getpid());
    IT_CHECK_FATAL(hp_it_sql_exec(hp_it_fmt("create or replace function %s() returns trigger "
                                            "language plpgsql as $$ begin if new.question = "
                                            "'%s' then raise exception 'injected by it_create'; "
                                            "end if; return new; end $$",
                                            fn, marker),
                                  NULL) &&
                       hp_it_sql_exec(hp_it_fmt("create or replace trigger %s before insert "
                                                "on approvals for each row execute function %s()",
                                                fn, fn),
                                      NULL),
                   "could not install the failing trigger");
    {
        const char *args[] = {"admin",       "set-quota", "--team-id", q->team_id,
                              "--approvals", "1",         "--json",    NULL};
        hp_it_admin(args);
    }

    /* Without and with a quota (the quota takes another code path). */
    IT_ERROR(post(t, mk(js(marker), js(""), OPTS2, NULL)), 500, "approval_creation_failed");
    IT_ERROR(post(t, mk(js(marker), js(""), OPTS2, "\"request_id\":\"fail-1\"")), 500,
             "approval_creation_failed");
    IT_ERROR(post(q, mk(js(marker), js(""), OPTS2, NULL)), 500, "approval_creation_failed");

    bool dropped = hp_it_sql_exec(hp_it_fmt("drop trigger %s on approvals", fn), NULL) &&
                   hp_it_sql_exec(hp_it_fmt("drop function %s()", fn), NULL);
    IT_CHECK_FATAL(dropped, "could not drop the failing trigger");

    IT_CHECK(approvals_of(t) == 0 && approvals_of(q) == 0, "a failed create left a row");
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events where team_id in ($1, $2)",
                           t->team_id, q->team_id, NULL) == 0,
             "a failed create left an event");
    /* The same request_id works once the failure is gone; the failed
     * attempt did not use up the quota. */
    hp_it_resp *r = OK(t, mk(js(marker), js(""), OPTS2, "\"request_id\":\"fail-1\""));
    IT_JBOOL(r->json, "idempotent", false);
    OK(q, mk(js(marker), js(""), OPTS2, NULL));
    hp_it_resp *over = post(q, mk(js("One more?"), js(""), OPTS2, NULL));
    IT_ERROR(over, 403, "USAGE_APPROVAL_LIMIT");
}

static int setup(void)
{
    const char *env[] = {"HOLDPOINT_MAX_BODY_BYTES=2048", "AGENT_CREATE_RATE_LIMIT_MAX=1000000",
                         NULL};
    small_api = hp_it_api_start("smallbody", env);
    return small_api != NULL ? 0 : 1;
}

int main(void)
{
    static const char *const dflt_env[] = {"AGENT_CREATE_RATE_LIMIT_MAX=1000000", NULL};
    static const hp_it_test tests[] = {
        {"seed001_body", test_seed001_body},
        {"server_request_ids", test_server_request_ids},
        {"string_limits", test_string_limits},
        {"required_and_types", test_required_and_types},
        {"options_limits", test_options_limits},
        {"code_points", test_code_points},
        {"timeout_limits", test_timeout_limits},
        {"callback_rules", test_callback_rules},
        {"timeout_merge", test_timeout_merge},
        {"idempotency", test_idempotency},
        {"idempotent_after_resolve", test_idempotent_after_resolve},
        {"concurrent_identical_creates", test_concurrent_identical_creates},
        {"concurrent_creates_share_statements", test_concurrent_creates_share_statements},
        {"media_type_415", test_media_type},
        {"malformed_json", test_malformed_json},
        {"payload_too_large_413", test_payload_too_large},
        {"approval_team_is_agent_team", test_approval_team_is_agent_team},
        {"created_event_per_create", test_created_event_per_create},
        {"creation_failed_500", test_creation_failed_500},
        {NULL, NULL},
    };
    hp_it_set_default_env(dflt_env);
    return hp_it_main("create", tests, setup, NULL);
}
