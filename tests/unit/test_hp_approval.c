/*
 * Unit tests for the pure half of hp_approval: seed 003 validation with issue
 * paths, the timeout merge with agent defaults, the canonical idempotency
 * payload, and the result/metadata renders.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_approval.h"
#include "hp_json.h"
#include "hp_unit.h"

static const hp_agent_defaults dflt = {3600, "expire_no_action", NULL};

static json_object *parse(const char *text)
{
    json_object *v = NULL;
    char err[128];
    CU_ASSERT_FATAL(hp_json_parse(text, strlen(text), &v, err, sizeof(err)) == HP_OK);
    return v;
}

/* Validates text with d and returns the issues as canonical JSON text (caller
 * frees), or NULL when valid. *in is deinitialised. */
static char *issues_of(const char *text, const hp_agent_defaults *d)
{
    json_object *body = parse(text);
    hp_issues *is = hp_issues_new();
    hp_approval_input in;
    char *out = NULL;

    if (!hp_approval_parse_create(body, d, NULL, &in, is)) {
        json_object *j = hp_issues_json(is);
        out = hp_json_canonical(j);
        json_object_put(j);
    }
    hp_approval_input_deinit(&in);
    hp_issues_free(is);
    json_object_put(body);
    return out;
}

/* Asserts that text is refused with an issue at path (canonical JSON array
 * text) with the given code. */
static void expect_issue(const char *text, const char *path, const char *code)
{
    char *s = issues_of(text, &dflt);
    char want[256];
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    snprintf(want, sizeof(want), "\"path\":%s", path);
    if (strstr(s, want) == NULL || strstr(s, code) == NULL)
        fprintf(stderr, "\nissues: %s (wanted %s %s)\n", s, path, code);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, code));
    free(s);
}

static void expect_ok(const char *text)
{
    char *s = issues_of(text, &dflt);
    if (s)
        fprintf(stderr, "\nunexpected issues: %s\n", s);
    CU_ASSERT_PTR_NULL(s);
    free(s);
}

static char *repeat(const char *unit, int n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * (size_t)n + 1);
    for (int i = 0; i < n; i++)
        memcpy(s + u * (size_t)i, unit, u);
    s[u * (size_t)n] = '\0';
    return s;
}

#define OPTS "\"options\":[{\"label\":\"Approve\",\"value\":\"approve\"}]"

static void test_seed001_body(void)
{
    expect_ok("{\"question\":\"Deploy to production?\",\"context_markdown\":\"Build #123 passed "
              "CI.\",\"options\":[{\"label\":\"Approve\",\"value\":\"approve\"},{\"label\":"
              "\"Reject\",\"value\":\"reject\"}]}");
}

static void test_required_fields(void)
{
    expect_issue("{\"context_markdown\":\"\"," OPTS "}", "[\"question\"]", "invalid_type");
    expect_issue("{\"question\":\"q\"," OPTS "}", "[\"context_markdown\"]", "invalid_type");
    expect_issue("{\"question\":\"q\",\"context_markdown\":\"\"}", "[\"options\"]", "invalid_type");
    expect_issue("[1]", "[]", "invalid_type");
}

/* Checks a string field at its limit n and at n + 1. */
static void check_limit(const char *field, int n, const char *path)
{
    char body[8192];
    char *ok = repeat("a", n), *bad = repeat("a", n + 1);

    snprintf(body, sizeof(body),
             "{\"question\":\"q\",\"context_markdown\":\"c\"," OPTS ",\"%s\":\"%s\"}", field, ok);
    expect_ok(body);
    snprintf(body, sizeof(body),
             "{\"question\":\"q\",\"context_markdown\":\"c\"," OPTS ",\"%s\":\"%s\"}", field, bad);
    expect_issue(body, path, "too_big");
    free(ok);
    free(bad);
}

static void test_string_limits(void)
{
    char body[8192];
    char *s;

    check_limit("request_id", 120, "[\"request_id\"]");
    check_limit("correlation_id", 120, "[\"correlation_id\"]");
    check_limit("notification_summary", 120, "[\"notification_summary\"]");
    /* question and context are the body's own fields: build them directly. */
    s = repeat("a", 500);
    snprintf(body, sizeof(body), "{\"question\":\"%s\",\"context_markdown\":\"\"," OPTS "}", s);
    expect_ok(body);
    free(s);
    s = repeat("a", 501);
    snprintf(body, sizeof(body), "{\"question\":\"%s\",\"context_markdown\":\"\"," OPTS "}", s);
    expect_issue(body, "[\"question\"]", "too_big");
    free(s);
    expect_issue("{\"question\":\"\",\"context_markdown\":\"\"," OPTS "}", "[\"question\"]",
                 "too_small");
    s = repeat("a", 2500);
    snprintf(body, sizeof(body), "{\"question\":\"q\",\"context_markdown\":\"%s\"," OPTS "}", s);
    expect_ok(body);
    free(s);
    s = repeat("a", 2501);
    snprintf(body, sizeof(body), "{\"question\":\"q\",\"context_markdown\":\"%s\"," OPTS "}", s);
    expect_issue(body, "[\"context_markdown\"]", "too_big");
    free(s);
}

static void test_code_points_counted(void)
{
    char body[4096];
    char *s = repeat("\xc3\xa9", 500); /* 500 x U+00E9, 1000 bytes */
    snprintf(body, sizeof(body), "{\"question\":\"%s\",\"context_markdown\":\"\"," OPTS "}", s);
    expect_ok(body);
    free(s);
}

static void test_options(void)
{
    char body[4096];
    char *s;

    expect_issue("{\"question\":\"q\",\"context_markdown\":\"\",\"options\":[]}", "[\"options\"]",
                 "too_small");
    expect_ok("{\"question\":\"q\",\"context_markdown\":\"\",\"options\":[{\"label\":\"a\","
              "\"value\":\"1\"},{\"label\":\"b\",\"value\":\"2\"},{\"label\":\"c\",\"value\":"
              "\"3\"},{\"label\":\"d\",\"value\":\"4\"}]}");
    expect_issue("{\"question\":\"q\",\"context_markdown\":\"\",\"options\":[{\"label\":\"a\","
                 "\"value\":\"1\"},{\"label\":\"b\",\"value\":\"2\"},{\"label\":\"c\",\"value\":"
                 "\"3\"},{\"label\":\"d\",\"value\":\"4\"},{\"label\":\"e\",\"value\":\"5\"}]}",
                 "[\"options\"]", "too_big");
    s = repeat("x", 121);
    snprintf(body, sizeof(body),
             "{\"question\":\"q\",\"context_markdown\":\"\",\"options\":[{\"label\":\"ok\","
             "\"value\":\"v\"},{\"label\":\"%s\",\"value\":\"v\"}]}",
             s);
    expect_issue(body, "[\"options\",1,\"label\"]", "too_big");
    free(s);
    s = repeat("x", 501);
    snprintf(body, sizeof(body),
             "{\"question\":\"q\",\"context_markdown\":\"\",\"options\":[{\"label\":\"l\","
             "\"value\":\"%s\"}]}",
             s);
    expect_issue(body, "[\"options\",0,\"value\"]", "too_big");
    free(s);
    expect_issue("{\"question\":\"q\",\"context_markdown\":\"\",\"options\":[{\"value\":\"v\"}]}",
                 "[\"options\",0,\"label\"]", "invalid_type");
}

static void test_timeout_rules(void)
{
    char body[512];

#define T(json)                                                                                    \
    (snprintf(body, sizeof(body),                                                                  \
              "{\"question\":\"q\",\"context_markdown\":\"\"," OPTS ",\"timeout\":%s}", json),     \
     body)
    expect_ok(T("{\"expires_in_seconds\":30}"));
    expect_ok(T("{\"expires_in_seconds\":86400}"));
    expect_ok(T("{\"expires_in_seconds\":30.0}"));
    expect_issue(T("{\"expires_in_seconds\":29}"), "[\"timeout\",\"expires_in_seconds\"]",
                 "too_small");
    expect_issue(T("{\"expires_in_seconds\":86401}"), "[\"timeout\",\"expires_in_seconds\"]",
                 "too_big");
    expect_issue(T("{\"expires_in_seconds\":30.5}"), "[\"timeout\",\"expires_in_seconds\"]",
                 "invalid_type");
    expect_issue(T("{\"expires_in_seconds\":\"30\"}"), "[\"timeout\",\"expires_in_seconds\"]",
                 "invalid_type");
    expect_issue(T("{\"mode\":\"never\"}"), "[\"timeout\",\"mode\"]", "invalid_enum_value");
    expect_issue(T("{\"mode\":\"expire_with_predefined_instruction\"}"),
                 "[\"timeout\",\"predefined_instruction\"]", "custom");
    expect_issue(T("{\"mode\":\"expire_with_predefined_instruction\",\"predefined_instruction\":"
                   "\"\"}"),
                 "[\"timeout\",\"predefined_instruction\"]", "custom");
    expect_ok(T("{\"mode\":\"expire_with_predefined_instruction\",\"predefined_instruction\":"
                "\"stop\"}"));
#undef T
    {
        char *s = repeat("i", 1001), *big = malloc(2000);
        snprintf(big, 2000,
                 "{\"question\":\"q\",\"context_markdown\":\"\"," OPTS
                 ",\"timeout\":{\"predefined_instruction\":\"%s\"}}",
                 s);
        expect_issue(big, "[\"timeout\",\"predefined_instruction\"]", "too_big");
        free(s);
        free(big);
    }
}

static void test_timeout_merge(void)
{
    const hp_agent_defaults d = {120, "expire_with_predefined_instruction", "stop now"};
    json_object *body;
    hp_issues *is = hp_issues_new();
    hp_approval_input in;

    /* Omitted timeout: all from the agent. */
    body = parse("{\"question\":\"q\",\"context_markdown\":\"\"," OPTS "}");
    CU_ASSERT_TRUE(hp_approval_parse_create(body, &d, NULL, &in, is));
    CU_ASSERT_EQUAL(in.timeout_seconds, 120);
    CU_ASSERT_STRING_EQUAL(in.timeout_mode, "expire_with_predefined_instruction");
    CU_ASSERT_STRING_EQUAL(in.predefined_instruction, "stop now");
    hp_approval_input_deinit(&in);
    json_object_put(body);

    /* Partial override: seconds only. */
    body = parse("{\"question\":\"q\",\"context_markdown\":\"\"," OPTS
                 ",\"timeout\":{\"expires_in_seconds\":45}}");
    CU_ASSERT_TRUE(hp_approval_parse_create(body, &d, NULL, &in, is));
    CU_ASSERT_EQUAL(in.timeout_seconds, 45);
    CU_ASSERT_STRING_EQUAL(in.predefined_instruction, "stop now");
    hp_approval_input_deinit(&in);
    json_object_put(body);

    /* Clearing the instruction while the merged mode needs one is refused. */
    body = parse("{\"question\":\"q\",\"context_markdown\":\"\"," OPTS
                 ",\"timeout\":{\"predefined_instruction\":null}}");
    CU_ASSERT_FALSE(hp_approval_parse_create(body, &d, NULL, &in, is));
    hp_approval_input_deinit(&in);
    json_object_put(body);
    hp_issues_free(is);
}

/* Defaults compared by value, an instruction NULL only equal to NULL. */
static void test_defaults_equal(void)
{
    char mode[] = "expire_with_predefined_instruction", instr[] = "stop now";
    const hp_agent_defaults d = {120, "expire_with_predefined_instruction", "stop now"};
    hp_agent_defaults e = {120, mode, instr};

    CU_ASSERT_TRUE(hp_agent_defaults_equal(&d, &e));
    CU_ASSERT_TRUE(hp_agent_defaults_equal(&dflt, &dflt));
    e.timeout_seconds = 121;
    CU_ASSERT_FALSE(hp_agent_defaults_equal(&d, &e));
    e.timeout_seconds = 120;
    e.timeout_instruction = NULL;
    CU_ASSERT_FALSE(hp_agent_defaults_equal(&d, &e));
    CU_ASSERT_FALSE(hp_agent_defaults_equal(&e, &d));
    e.timeout_instruction = "stop later";
    CU_ASSERT_FALSE(hp_agent_defaults_equal(&d, &e));
    e.timeout_instruction = instr;
    e.timeout_mode = "expire_no_action";
    CU_ASSERT_FALSE(hp_agent_defaults_equal(&d, &e));
}

static void test_callback_rules(void)
{
    expect_issue("{\"question\":\"q\",\"context_markdown\":\"\"," OPTS
                 ",\"callback\":{\"url\":\"not a url\"}}",
                 "[\"callback\",\"url\"]", "invalid_string");
    expect_issue("{\"question\":\"q\",\"context_markdown\":\"\"," OPTS
                 ",\"callback\":{\"url\":\"ftp://example.com/x\"}}",
                 "[\"callback\",\"url\"]", "invalid_string");
    expect_issue("{\"question\":\"q\",\"context_markdown\":\"\"," OPTS
                 ",\"callback\":{\"headers\":{}}}",
                 "[\"callback\",\"url\"]", "invalid_type");
    expect_issue("{\"question\":\"q\",\"context_markdown\":\"\"," OPTS
                 ",\"callback\":{\"url\":\"https://example.com/h\",\"headers\":{\"X-N\":1}}}",
                 "[\"callback\",\"headers\",\"X-N\"]", "invalid_type");
    expect_issue(
        "{\"question\":\"q\",\"context_markdown\":\"\"," OPTS
        ",\"callback\":{\"url\":\"https://example.com/h\",\"headers\":{\"Bad Name\":\"v\"}}}",
        "[\"callback\",\"headers\",\"Bad Name\"]", "custom");
    expect_ok("{\"question\":\"q\",\"context_markdown\":\"\"," OPTS
              ",\"callback\":{\"url\":\"https://example.com/h\",\"headers\":{\"X-Trace\":\"1\"}}}");
}

/* Seed 004's outbound rules apply to callback URLs at create. */
static void test_callback_ssrf(void)
{
    hp_urlpolicy *none = NULL, *lan = NULL;
    char err[128];
    static const char *const refused[] = {"http://localhost/cb",
                                          "http://127.0.0.1/cb",
                                          "http://10.1.2.3/cb",
                                          "http://[::1]/cb",
                                          "http://169.254.169.254/",
                                          "http://2130706433/",
                                          "http://printer.local/cb",
                                          "http://intranet/cb",
                                          "http://user:pw@example.com/",
                                          "http://host.docker.internal/",
                                          NULL};

    CU_ASSERT_FATAL(hp_urlpolicy_new(NULL, &none, err, sizeof(err)) == HP_OK);
    CU_ASSERT_FATAL(hp_urlpolicy_new("10.0.0.0/8", &lan, err, sizeof(err)) == HP_OK);
    for (int i = 0; refused[i]; i++) {
        char body[512];
        snprintf(body, sizeof(body),
                 "{\"question\":\"q\",\"context_markdown\":\"\"," OPTS
                 ",\"callback\":{\"url\":\"%s\"}}",
                 refused[i]);
        json_object *b = parse(body);
        hp_issues *is = hp_issues_new();
        hp_approval_input in;
        CU_ASSERT_FALSE(hp_approval_parse_create(b, &dflt, none, &in, is));
        json_object *j = hp_issues_json(is);
        char *text = hp_json_canonical(j);
        if (strstr(text, "[\"callback\",\"url\"]") == NULL)
            fprintf(stderr, "\n%s: %s\n", refused[i], text);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "[\"callback\",\"url\"]"));
        free(text);
        json_object_put(j);
        hp_approval_input_deinit(&in);
        hp_issues_free(is);
        json_object_put(b);
    }
    /* Allowed explicitly, a private address passes; a public host always does. */
    {
        json_object *b = parse("{\"question\":\"q\",\"context_markdown\":\"\"," OPTS
                               ",\"callback\":{\"url\":\"http://10.1.2.3/cb\"}}");
        hp_issues *is = hp_issues_new();
        hp_approval_input in;
        CU_ASSERT_TRUE(hp_approval_parse_create(b, &dflt, lan, &in, is));
        hp_approval_input_deinit(&in);
        hp_issues_free(is);
        json_object_put(b);
        b = parse("{\"question\":\"q\",\"context_markdown\":\"\"," OPTS
                  ",\"callback\":{\"url\":\"https://hooks.example.com/cb\"}}");
        is = hp_issues_new();
        CU_ASSERT_TRUE(hp_approval_parse_create(b, &dflt, none, &in, is));
        hp_approval_input_deinit(&in);
        hp_issues_free(is);
        json_object_put(b);
    }
    hp_urlpolicy_free(none);
    hp_urlpolicy_free(lan);
}

static void test_request_id_blank(void)
{
    json_object *body =
        parse("{\"request_id\":\"  \",\"question\":\"q\",\"context_markdown\":\"\"," OPTS "}");
    hp_issues *is = hp_issues_new();
    hp_approval_input in;

    CU_ASSERT_TRUE(hp_approval_parse_create(body, &dflt, NULL, &in, is));
    CU_ASSERT_PTR_NULL(in.request_id);
    hp_approval_input_deinit(&in);
    json_object_put(body);
    hp_issues_free(is);
}

/* Parses text with the default agent and returns its idempotency hash. */
static void hash_of(const char *text, unsigned char out[32])
{
    json_object *body = parse(text);
    hp_issues *is = hp_issues_new();
    hp_approval_input in;

    CU_ASSERT_FATAL(hp_approval_parse_create(body, &dflt, NULL, &in, is));
    memcpy(out, in.hash, 32);
    hp_approval_input_deinit(&in);
    hp_issues_free(is);
    json_object_put(body);
}

static void test_canonical_hash(void)
{
    unsigned char a[32], b[32];

    /* Key order and fields outside the canonical payload do not matter. */
    hash_of("{\"question\":\"q\",\"context_markdown\":\"c\"," OPTS ",\"correlation_id\":\"x\"}", a);
    hash_of("{\"correlation_id\":\"y\"," OPTS ",\"context_markdown\":\"c\",\"question\":\"q\","
            "\"notification_summary\":\"s\"}",
            b);
    CU_ASSERT_EQUAL(memcmp(a, b, 32), 0);
    /* The merged timeout counts: an explicit default equals an omitted one. */
    hash_of("{\"question\":\"q\",\"context_markdown\":\"c\"," OPTS
            ",\"timeout\":{\"expires_in_seconds\":3600}}",
            b);
    CU_ASSERT_EQUAL(memcmp(a, b, 32), 0);
    hash_of("{\"question\":\"q\",\"context_markdown\":\"c\"," OPTS
            ",\"timeout\":{\"expires_in_seconds\":3601}}",
            b);
    CU_ASSERT_NOT_EQUAL(memcmp(a, b, 32), 0);
    hash_of("{\"question\":\"Q\",\"context_markdown\":\"c\"," OPTS "}", b);
    CU_ASSERT_NOT_EQUAL(memcmp(a, b, 32), 0);
    hash_of("{\"question\":\"q\",\"context_markdown\":\"c\"," OPTS
            ",\"callback\":{\"url\":\"https://example.com/\"}}",
            b);
    CU_ASSERT_NOT_EQUAL(memcmp(a, b, 32), 0);
    {
        unsigned char h1[32], h2[32];
        hash_of("{\"question\":\"q\",\"context_markdown\":\"c\"," OPTS
                ",\"callback\":{\"url\":\"https://example.com/"
                "\",\"headers\":{\"A\":\"1\",\"B\":\"2\"}}}",
                h1);
        hash_of("{\"question\":\"q\",\"context_markdown\":\"c\"," OPTS
                ",\"callback\":{\"headers\":{\"B\":\"2\",\"A\":\"1\"},\"url\":\"https://"
                "example.com/\"}}",
                h2);
        CU_ASSERT_EQUAL(memcmp(h1, h2, 32), 0);
        hash_of("{\"question\":\"q\",\"context_markdown\":\"c\"," OPTS
                ",\"callback\":{\"url\":\"https://example.com/\",\"headers\":{\"A\":\"1\"}}}",
                h2);
        CU_ASSERT_NOT_EQUAL(memcmp(h1, h2, 32), 0);
    }
}

static hp_approval_row sample_row(json_object *opts)
{
    hp_approval_row r;
    memset(&r, 0, sizeof(r));
    r.id = "0193a000-0000-7000-8000-000000000001";
    r.team_id = "0193a000-0000-7000-8000-000000000002";
    r.agent_id = "0193a000-0000-7000-8000-000000000003";
    r.request_id = "deploy-1";
    r.question = "Deploy?";
    r.context_markdown = "";
    r.options = opts;
    r.timeout_mode = "expire_no_action";
    r.status = "pending";
    r.selected_option_index = -1;
    r.resolved_at = -1;
    r.created_at = 1763887049123000;
    r.expires_at = 1763890649123000;
    r.result_delivery_status = "pending";
    return r;
}

static void test_render_result(void)
{
    json_object *opts = parse("[{\"label\":\"Approve\",\"value\":\"approve\","
                              "\"is_default_on_timeout\":false}]");
    hp_approval_row r = sample_row(opts);
    json_object *o;
    char *s;

    o = hp_approval_result_json(&r);
    s = hp_json_canonical(o);
    CU_ASSERT_STRING_EQUAL(s, "{\"request_id\":\"deploy-1\",\"status\":\"pending\"}");
    free(s);
    json_object_put(o);

    r.status = "selected_option";
    r.selected_option_index = 0;
    r.resolved_by_user_id = "0193a000-0000-7000-8000-000000000009";
    r.resolved_by_name = "Ada";
    r.resolved_at = 1763887100000000;
    o = hp_approval_result_json(&r);
    CU_ASSERT_STRING_EQUAL(hp_json_str(o, "selected_option_label"), "Approve");
    CU_ASSERT_STRING_EQUAL(hp_json_str(o, "selected_option_value"), "approve");
    CU_ASSERT_STRING_EQUAL(hp_json_str(hp_json_obj(o, "resolved_by"), "name"), "Ada");
    CU_ASSERT_STRING_EQUAL(hp_json_str(o, "resolved_at"), "2025-11-23T08:38:20.000Z");
    CU_ASSERT_FALSE(hp_json_has(o, "timeout_mode"));
    json_object_put(o);

    r.status = "expired";
    r.selected_option_index = -1;
    r.resolved_by_user_id = NULL;
    r.timeout_mode = "expire_with_predefined_instruction";
    r.predefined_instruction = "roll back";
    o = hp_approval_result_json(&r);
    CU_ASSERT_STRING_EQUAL(hp_json_str(o, "predefined_instruction"), "roll back");
    CU_ASSERT_TRUE(hp_json_has(o, "resolved_by"));
    CU_ASSERT_PTR_NULL(json_object_object_get(o, "resolved_by"));
    CU_ASSERT_FALSE(json_object_get_boolean(json_object_object_get(o, "is_timeout_default")));
    json_object_put(o);
    json_object_put(opts);
}

/* Seed 004's form: the mapping onto the one store, its own rules, and
 * response_format on both forms. */
static void test_form004(void)
{
    json_object *body =
        parse("{\"project\":\"p\",\"session_id\":\"s1\",\"title\":\"Run tool: Bash\","
              "\"message\":\"rm -rf node_modules\",\"event\":\"PreToolUse\",\"tool_name\":"
              "\"Bash\",\"command\":\"rm -rf node_modules\",\"metadata\":{\"repo\":\"x\"},"
              "\"decisions\":[{\"key\":\"allow\",\"label\":\"Allow\"},{\"key\":\"deny\","
              "\"label\":\"Deny\",\"is_default_on_timeout\":true}],\"timeout_seconds\":300,"
              "\"response_format\":\"claude_code.pretooluse\",\"wait\":\"block\"}");
    hp_issues *is = hp_issues_new();
    hp_approval_input in;
    char *issues;

    CU_ASSERT_TRUE_FATAL(hp_approval_parse_create(body, &dflt, NULL, &in, is));
    CU_ASSERT_STRING_EQUAL(in.question, "Run tool: Bash");
    CU_ASSERT_STRING_EQUAL(in.context_markdown, "rm -rf node_modules");
    CU_ASSERT_STRING_EQUAL(in.source, "v1_decisions");
    CU_ASSERT_STRING_EQUAL(in.response_format, "claude_code.pretooluse");
    CU_ASSERT_EQUAL(in.timeout_seconds, 300);
    CU_ASSERT_STRING_EQUAL(in.timeout_mode, "expire_no_action");
    CU_ASSERT_STRING_EQUAL(hp_json_text(in.options),
                           "[{\"label\":\"Allow\",\"value\":\"allow\",\"is_default_on_timeout\":"
                           "false},{\"label\":\"Deny\",\"value\":\"deny\","
                           "\"is_default_on_timeout\":true}]");
    CU_ASSERT_STRING_EQUAL(hp_json_text(in.metadata),
                           "{\"repo\":\"x\",\"event\":\"PreToolUse\",\"tool_name\":\"Bash\","
                           "\"command\":\"rm -rf node_modules\"}");
    /* A renderer is part of the idempotency payload; raw is not. */
    {
        hp_approval_input raw = in;
        raw.response_format = "raw";
        char *c1 = hp_approval_canonical(&in), *c2 = hp_approval_canonical(&raw);
        CU_ASSERT_PTR_NOT_NULL(strstr(c1, "\"response_format\":\"claude_code.pretooluse\""));
        CU_ASSERT_PTR_NULL(strstr(c2, "response_format"));
        free(c1);
        free(c2);
    }
    hp_approval_input_deinit(&in);
    json_object_put(body);
    hp_issues_free(is);

    /* The defaults: message empty, the agent's seconds, raw. */
    body = parse("{\"title\":\"t\",\"decisions\":[{\"key\":\"a\",\"label\":\"A\"}]}");
    is = hp_issues_new();
    CU_ASSERT_TRUE(hp_approval_parse_create(body, &dflt, NULL, &in, is));
    CU_ASSERT_STRING_EQUAL(in.context_markdown, "");
    CU_ASSERT_EQUAL(in.timeout_seconds, 3600);
    CU_ASSERT_STRING_EQUAL(in.response_format, "raw");
    CU_ASSERT_PTR_NULL(in.metadata);
    hp_approval_input_deinit(&in);
    json_object_put(body);
    hp_issues_free(is);

    /* Its own rules. */
    issues = issues_of("{\"title\":\"t\",\"decisions\":[{\"key\":\"a\",\"label\":\"A\"}],"
                       "\"options\":[{\"label\":\"A\",\"value\":\"a\"}],\"question\":\"q\","
                       "\"context_markdown\":\"\"}",
                       &dflt);
    CU_ASSERT_PTR_NOT_NULL(issues && strstr(issues, "\"path\":[\"decisions\"]"));
    free(issues);
    issues = issues_of("{\"title\":\"t\",\"decisions\":[{\"key\":\"a\",\"label\":\"A\"},"
                       "{\"key\":\"a\",\"label\":\"B\"}],\"timeout_seconds\":4}",
                       &dflt);
    CU_ASSERT_PTR_NOT_NULL(issues && strstr(issues, "\"path\":[\"decisions\",1,\"key\"]"));
    CU_ASSERT_PTR_NOT_NULL(issues && strstr(issues, "\"path\":[\"timeout_seconds\"]"));
    free(issues);
    issues = issues_of("{\"title\":\"t\",\"decisions\":[{\"label\":\"A\"}],"
                       "\"response_format\":\"claude\"}",
                       &dflt);
    CU_ASSERT_PTR_NOT_NULL(issues && strstr(issues, "\"path\":[\"decisions\",0,\"key\"]"));
    CU_ASSERT_PTR_NOT_NULL(issues && strstr(issues, "invalid_enum_value"));
    free(issues);
    /* Seed 003's form takes response_format too. */
    issues = issues_of("{\"question\":\"q\",\"context_markdown\":\"c\"," OPTS
                       ",\"response_format\":\"codex.permission\"}",
                       &dflt);
    CU_ASSERT_PTR_NULL(issues);
    free(issues);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"seed 001 body is valid", test_seed001_body},
        {"required fields", test_required_fields},
        {"string limits at N and N+1", test_string_limits},
        {"lengths count code points", test_code_points_counted},
        {"options", test_options},
        {"timeout rules", test_timeout_rules},
        {"timeout merge with agent defaults", test_timeout_merge},
        {"agent defaults compared by value", test_defaults_equal},
        {"callback rules", test_callback_rules},
        {"blank request_id is assigned", test_request_id_blank},
        {"callback URLs obey the outbound rules", test_callback_ssrf},
        {"canonical hash", test_canonical_hash},
        {"result render", test_render_result},
        {"seed 004 form", test_form004},
        {NULL, NULL},
    };
    return hp_unit_main("hp_approval", tests);
}
