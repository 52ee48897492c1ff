/*
 * Unit tests for hp_ask: seed 000 ask bodies mapped onto approvals (confirm,
 * select, input), every refusal the Ask API and MCP share (unknown type, 1
 * or 7 options, blank question, timeoutSeconds 0 or 56, callback URLs the
 * outbound rules refuse), and the answer, callback and poll-URL shapes for
 * each state of a question.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_ask.h"
#include "hp_json.h"
#include "hp_unit.h"

static json_object *parse(const char *text)
{
    json_object *v = NULL;
    char err[128];
    CU_ASSERT_FATAL(hp_json_parse(text, strlen(text), &v, err, sizeof(err)) == HP_OK);
    return v;
}

/* Parses text; returns the issues as canonical JSON (caller frees) or NULL
 * when valid, with *in filled (caller deinits) when in is not NULL. */
static char *ask_issues(const char *text, const hp_urlpolicy *policy, hp_ask_input *keep,
                        json_object **body_out)
{
    json_object *body = parse(text);
    hp_issues *is = hp_issues_new();
    hp_ask_input in;
    char *out = NULL;

    if (!hp_ask_parse(body, policy, false, 30, &in, is)) {
        json_object *j = hp_issues_json(is);
        out = hp_json_canonical(j);
        json_object_put(j);
    }
    hp_issues_free(is);
    if (keep != NULL) {
        *keep = in;
        *body_out = body;
    } else {
        hp_ask_input_deinit(&in);
        json_object_put(body);
    }
    return out;
}

static void expect_issue(const char *text, const char *path, const char *code)
{
    char *s = ask_issues(text, NULL, NULL, NULL);
    char want[256];

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    snprintf(want, sizeof(want), "\"path\":%s", path);
    if (strstr(s, want) == NULL || strstr(s, code) == NULL)
        fprintf(stderr, "\nissues: %s (wanted %s %s)\n", s, path, code);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, code));
    free(s);
}

static void test_confirm_default(void)
{
    hp_ask_input in;
    json_object *body;
    char *s = ask_issues("{\"question\":\"Send the campaign?\"}", NULL, &in, &body);

    CU_ASSERT_PTR_NULL_FATAL(s);
    CU_ASSERT_EQUAL(in.type, HP_ASK_CONFIRM);
    CU_ASSERT_FALSE(in.wait);
    CU_ASSERT_EQUAL(in.timeout_seconds, 30);
    CU_ASSERT_STRING_EQUAL(in.approval.question, "Send the campaign?");
    CU_ASSERT_STRING_EQUAL(in.approval.context_markdown, "");
    CU_ASSERT_STRING_EQUAL(in.approval.source, "ask");
    CU_ASSERT_EQUAL(in.approval.timeout_seconds, HP_ASK_OPEN_SECONDS);
    CU_ASSERT_STRING_EQUAL(in.approval.timeout_mode, "expire_no_action");
    CU_ASSERT_FALSE(in.approval.allow_custom_instruction);
    CU_ASSERT_PTR_NULL(in.approval.request_id);
    CU_ASSERT_STRING_EQUAL(hp_json_text(in.approval.options),
                           "[{\"label\":\"Yes\",\"value\":\"yes\",\"is_default_on_timeout\":false},"
                           "{\"label\":\"No\",\"value\":\"no\",\"is_default_on_timeout\":false}]");
    CU_ASSERT_STRING_EQUAL(hp_json_text(in.approval.metadata), "{\"ask_type\":\"confirm\"}");
    hp_ask_input_deinit(&in);
    json_object_put(body);
}

static void test_seed_example(void)
{
    hp_ask_input in;
    json_object *body;
    char *s = ask_issues("{\"question\":\"Approve sending the campaign to all 4,000 contacts?\","
                         "\"type\":\"confirm\",\"agentName\":\"Marketing agent\",\"wait\":true,"
                         "\"timeoutSeconds\":50,\"sessionId\":\"s-1\",\"context\":\"**bold**\","
                         "\"expiresInSeconds\":3600}",
                         NULL, &in, &body);

    CU_ASSERT_PTR_NULL_FATAL(s);
    CU_ASSERT_TRUE(in.wait);
    CU_ASSERT_EQUAL(in.timeout_seconds, 50);
    CU_ASSERT_STRING_EQUAL(in.approval.agent_name, "Marketing agent");
    CU_ASSERT_STRING_EQUAL(in.approval.session_id, "s-1");
    CU_ASSERT_STRING_EQUAL(in.approval.context_markdown, "**bold**");
    CU_ASSERT_EQUAL(in.approval.timeout_seconds, 3600);
    hp_ask_input_deinit(&in);
    json_object_put(body);
}

static void test_select_and_input(void)
{
    hp_ask_input in;
    json_object *body;
    char *s = ask_issues("{\"question\":\"Which region?\",\"type\":\"select\","
                         "\"options\":[\"eu\",\"us\",\"ap\",\"sa\",\"af\",\"oc\"]}",
                         NULL, &in, &body);

    CU_ASSERT_PTR_NULL_FATAL(s);
    CU_ASSERT_EQUAL(in.type, HP_ASK_SELECT);
    CU_ASSERT_EQUAL(json_object_array_length(in.approval.options), 6);
    CU_ASSERT_STRING_EQUAL(hp_json_str(json_object_array_get_idx(in.approval.options, 5), "value"),
                           "oc");
    CU_ASSERT_STRING_EQUAL(hp_json_str(json_object_array_get_idx(in.approval.options, 5), "label"),
                           "oc");
    CU_ASSERT_FALSE(in.approval.allow_custom_instruction);
    hp_ask_input_deinit(&in);
    json_object_put(body);

    s = ask_issues("{\"question\":\"Subject line?\",\"type\":\"input\",\"options\":[]}", NULL, &in,
                   &body);
    CU_ASSERT_PTR_NULL_FATAL(s);
    CU_ASSERT_EQUAL(in.type, HP_ASK_INPUT);
    CU_ASSERT_EQUAL(json_object_array_length(in.approval.options), 0);
    CU_ASSERT_TRUE(in.approval.allow_custom_instruction);
    CU_ASSERT_STRING_EQUAL(hp_json_text(in.approval.metadata), "{\"ask_type\":\"input\"}");
    hp_ask_input_deinit(&in);
    json_object_put(body);
}

static void test_refusals(void)
{
    expect_issue("{\"question\":\"q\",\"type\":\"choose\"}", "[\"type\"]", "invalid_enum_value");
    expect_issue("{\"question\":\"q\",\"type\":\"select\",\"options\":[\"a\"]}", "[\"options\"]",
                 "too_small");
    expect_issue("{\"question\":\"q\",\"type\":\"select\",\"options\":[\"a\",\"b\",\"c\",\"d\","
                 "\"e\",\"f\",\"g\"]}",
                 "[\"options\"]", "too_big");
    expect_issue("{\"question\":\"q\",\"type\":\"select\"}", "[\"options\"]", "invalid_type");
    expect_issue("{\"question\":\"q\",\"type\":\"select\",\"options\":[\"a\",\"a\"]}",
                 "[\"options\",1]", "custom");
    expect_issue("{\"question\":\"q\",\"type\":\"select\",\"options\":[\"a\",2]}",
                 "[\"options\",1]", "invalid_type");
    expect_issue("{\"question\":\"q\",\"type\":\"select\",\"options\":[\"a\",\"  \"]}",
                 "[\"options\",1]", "too_small");
    expect_issue("{\"question\":\"q\",\"options\":[\"a\",\"b\"]}", "[\"options\"]", "custom");
    expect_issue("{\"question\":\"\"}", "[\"question\"]", "too_small");
    expect_issue("{\"question\":\" \\n\\t \"}", "[\"question\"]", "too_small");
    expect_issue("{\"type\":\"confirm\"}", "[\"question\"]", "invalid_type");
    expect_issue("{\"question\":\"q\",\"timeoutSeconds\":0}", "[\"timeoutSeconds\"]", "too_small");
    expect_issue("{\"question\":\"q\",\"timeoutSeconds\":56}", "[\"timeoutSeconds\"]", "too_big");
    expect_issue("{\"question\":\"q\",\"timeoutSeconds\":\"30\"}", "[\"timeoutSeconds\"]",
                 "invalid_type");
    expect_issue("{\"question\":\"q\",\"wait\":\"yes\"}", "[\"wait\"]", "invalid_type");
    expect_issue("{\"question\":\"q\",\"expiresInSeconds\":29}", "[\"expiresInSeconds\"]",
                 "too_small");
    expect_issue("{\"question\":\"q\",\"callbackUrl\":\"ftp://example.com/x\"}",
                 "[\"callbackUrl\"]", "invalid_string");
    expect_issue("{\"question\":\"q\",\"agentName\":\"\"}", "[\"agentName\"]", "too_small");
    {
        char *long_q = malloc(600);
        memset(long_q, 'x', 599);
        long_q[599] = '\0';
        char *text = malloc(700);
        snprintf(text, 700, "{\"question\":\"%s\"}", long_q);
        expect_issue(text, "[\"question\"]", "too_big");
        free(text);
        free(long_q);
    }
    {
        char text[256];
        snprintf(text, sizeof(text),
                 "{\"question\":\"q\",\"type\":\"select\",\"options\":[\"a\","
                 "\"%0121d\"]}",
                 0);
        expect_issue(text, "[\"options\",1]", "too_big");
    }
    /* Not an object at all. */
    expect_issue("[1]", "[]", "invalid_type");
}

static void test_callback_policy(void)
{
    hp_urlpolicy *p = NULL;
    char err[256];
    char *s;

    CU_ASSERT_EQUAL_FATAL(hp_urlpolicy_new("", &p, err, sizeof(err)), HP_OK);
    s = ask_issues("{\"question\":\"q\",\"callbackUrl\":\"http://127.0.0.1:9/hook\"}", p, NULL,
                   NULL);
    CU_ASSERT_PTR_NOT_NULL(s);
    CU_ASSERT_PTR_NOT_NULL(s ? strstr(s, "callbackUrl") : NULL);
    free(s);
    s = ask_issues("{\"question\":\"q\",\"callbackUrl\":\"https://hooks.example.com/x\"}", p, NULL,
                   NULL);
    CU_ASSERT_PTR_NULL(s);
    free(s);
    hp_urlpolicy_free(p);
}

/* A stored question in a given state. */
static hp_approval_row row_of(const char *status, json_object *options)
{
    hp_approval_row r;

    memset(&r, 0, sizeof(r));
    r.id = "0190aaaa-0000-7000-8000-000000000001";
    r.request_id = "5f0c8d1e-1111-4222-8333-444455556666";
    r.status = status;
    r.options = options;
    r.selected_option_index = -1;
    r.resolved_at = -1;
    r.source = "ask";
    r.metadata = "{\"ask_type\":\"select\"}";
    return r;
}

static void test_states(void)
{
    json_object *opts = parse("[{\"label\":\"eu\",\"value\":\"eu\"},{\"label\":\"us\","
                              "\"value\":\"us\"}]");
    hp_approval_row r = row_of("pending", opts);
    json_object *o;

    CU_ASSERT_TRUE(hp_ask_is_question(&r));
    CU_ASSERT_STRING_EQUAL(hp_ask_type_of(&r), "select");
    o = hp_ask_state_json(&r, false, "http://h/p");
    CU_ASSERT_STRING_EQUAL(hp_json_text(o),
                           "{\"correlationId\":\"5f0c8d1e-1111-4222-8333-444455556666\","
                           "\"status\":\"pending\",\"answered\":false,\"pollUrl\":\"http://h/p\"}");
    json_object_put(o);
    o = hp_ask_state_json(&r, true, NULL);
    CU_ASSERT_STRING_EQUAL(hp_json_text(o),
                           "{\"correlationId\":\"5f0c8d1e-1111-4222-8333-444455556666\","
                           "\"status\":\"timeout\",\"answered\":false}");
    json_object_put(o);
    CU_ASSERT_PTR_NULL(hp_ask_callback_json(&r));
    CU_ASSERT_PTR_NULL(hp_ask_value(&r));

    /* Answered by an option. */
    r = row_of("selected_option", opts);
    r.selected_option_index = 1;
    r.resolved_at = 1795425052123000LL;
    CU_ASSERT_STRING_EQUAL(hp_ask_value(&r), "us");
    o = hp_ask_state_json(&r, true, "http://h/p");
    CU_ASSERT_STRING_EQUAL(hp_json_text(o),
                           "{\"correlationId\":\"5f0c8d1e-1111-4222-8333-444455556666\","
                           "\"status\":\"answered\",\"answered\":true,\"value\":\"us\","
                           "\"answeredAt\":\"2026-11-23T09:10:52.123Z\"}");
    json_object_put(o);
    o = hp_ask_callback_json(&r);
    CU_ASSERT_STRING_EQUAL(hp_json_text(o),
                           "{\"correlationId\":\"5f0c8d1e-1111-4222-8333-444455556666\","
                           "\"answer\":\"us\",\"answeredAt\":\"2026-11-23T09:10:52.123Z\"}");
    json_object_put(o);

    /* Answered with text. */
    r = row_of("custom_instruction", opts);
    r.custom_instruction = "Ship it Friday";
    r.resolved_at = 1795425052123000LL;
    CU_ASSERT_STRING_EQUAL(hp_ask_value(&r), "Ship it Friday");
    CU_ASSERT_STRING_EQUAL(hp_ask_status(&r), "answered");

    /* Closed without an answer: no value, no callback, no pollUrl. */
    r = row_of("expired", opts);
    r.resolved_at = 1795425052123000LL;
    o = hp_ask_state_json(&r, true, "http://h/p");
    CU_ASSERT_STRING_EQUAL(hp_json_text(o),
                           "{\"correlationId\":\"5f0c8d1e-1111-4222-8333-444455556666\","
                           "\"status\":\"expired\",\"answered\":false}");
    json_object_put(o);
    CU_ASSERT_PTR_NULL(hp_ask_callback_json(&r));
    r = row_of("cancelled", opts);
    CU_ASSERT_STRING_EQUAL(hp_ask_status(&r), "cancelled");
    CU_ASSERT_PTR_NULL(hp_ask_callback_json(&r));

    /* Not a question; unknown metadata falls back to confirm. */
    r.source = "v1";
    r.metadata = NULL;
    CU_ASSERT_FALSE(hp_ask_is_question(&r));
    CU_ASSERT_STRING_EQUAL(hp_ask_type_of(&r), "confirm");
    json_object_put(opts);
}

static void test_send_parse(void)
{
    json_object *body = parse("{\"title\":\"Backfill finished\",\"body\":\"12,400 rows\","
                              "\"agentName\":\"Ops\",\"sessionId\":\"s1\"}");
    hp_issues *is = hp_issues_new();
    hp_notif_message_input in;

    CU_ASSERT_TRUE(hp_ask_send_parse(body, &in, is));
    CU_ASSERT_STRING_EQUAL(in.title, "Backfill finished");
    CU_ASSERT_STRING_EQUAL(in.message, "12,400 rows");
    CU_ASSERT_STRING_EQUAL(in.agent_name, "Ops");
    CU_ASSERT_STRING_EQUAL(in.session_id, "s1");
    CU_ASSERT_STRING_EQUAL(in.source, "ask");
    CU_ASSERT_STRING_EQUAL(in.type, "info");
    CU_ASSERT_EQUAL(json_object_array_length(in.buttons), 0);
    hp_notif_message_input_deinit(&in);
    json_object_put(body);

    static const char *const bad[] = {"{}",
                                      "{\"title\":\"\"}",
                                      "{\"title\":\"  \"}",
                                      "{\"title\":\"t\",\"body\":1}",
                                      "{\"title\":\"t\",\"sessionId\":\"a\\nb\"}",
                                      "[]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hp_issues *bis = hp_issues_new();
        body = parse(bad[i]);
        CU_ASSERT_FALSE(hp_ask_send_parse(body, &in, bis));
        CU_ASSERT_TRUE(hp_issues_count(bis) > 0);
        hp_notif_message_input_deinit(&in);
        json_object_put(body);
        hp_issues_free(bis);
    }
    hp_issues_free(is);
}

static void test_poll_url(void)
{
    char *u = hp_ask_poll_url("https://hp.example.com/", "abc-123");
    CU_ASSERT_STRING_EQUAL(u, "https://hp.example.com/api/v1/server/ask/abc-123");
    free(u);
    u = hp_ask_poll_url("http://127.0.0.1:8080", "a/b c");
    CU_ASSERT_STRING_EQUAL(u, "http://127.0.0.1:8080/api/v1/server/ask/a%2Fb%20c");
    free(u);
    u = hp_ask_poll_url("https://example.com/base//", "x");
    CU_ASSERT_STRING_EQUAL(u, "https://example.com/base/api/v1/server/ask/x");
    free(u);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"confirm is the default type", test_confirm_default},
        {"the seed 000 example body", test_seed_example},
        {"select and input", test_select_and_input},
        {"bad input is refused with paths", test_refusals},
        {"callback URLs obey the outbound rules", test_callback_policy},
        {"answer and callback shapes per state", test_states},
        {"send bodies", test_send_parse},
        {"poll URL", test_poll_url},
        {NULL, NULL},
    };
    return hp_unit_main("hp_ask", tests);
}
