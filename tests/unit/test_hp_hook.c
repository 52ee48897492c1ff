/*
 * Unit tests for hp_hook: recorded hook inputs of each agent
 * (tests/unit/golden/hook/<name>.in.json, shaped as each agent's documentation
 * shows them) against the approval body and renderer they become
 * (<name>.out.json); events a hook cannot gate; the ask default; limits on long
 * commands; agent names.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "golden.h"
#include "hp_hook.h"
#include "hp_str.h"
#include "hp_unit.h"

static json_object *read_input(const char *name)
{
    char path[1024], err[128];
    char *text;
    json_object *v = NULL;

    snprintf(path, sizeof(path), "%s/tests/unit/golden/hook/%s.in.json", HP_TEST_SOURCE_DIR, name);
    text = golden_read(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_FATAL(hp_json_parse(text, strlen(text), &v, err, sizeof(err)) == HP_OK);
    free(text);
    return v;
}

static void case_golden(const char *name, hp_hook_agent agent, const char *event)
{
    json_object *in = read_input(name), *got;
    hp_hook_opts opts = {
        .timeout_seconds = 120, .on_timeout = HP_VERDICT_DENY, .event = event, .wait_block = true};
    hp_hook_request req;
    char err[256], rel[256];

    CU_ASSERT_EQUAL_FATAL(hp_hook_build(agent, in, &opts, &req, err, sizeof(err)), HP_OK);
    got = json_object_new_object();
    json_object_object_add(got, "event", json_object_new_string(req.event));
    json_object_object_add(got, "format", json_object_new_string(req.format));
    json_object_object_add(got, "body", req.body);
    snprintf(rel, sizeof(rel), "hook/%s.out.json", name);
    golden_check(rel, got);
    json_object_put(got);
    json_object_put(in);
}

static void test_recorded_inputs(void)
{
    case_golden("claude-code-pretooluse-bash", HP_HOOK_CLAUDE_CODE, NULL);
    case_golden("claude-code-pretooluse-write", HP_HOOK_CLAUDE_CODE, NULL);
    case_golden("claude-code-userpromptsubmit", HP_HOOK_CLAUDE_CODE, NULL);
    case_golden("claude-code-permissionrequest", HP_HOOK_CLAUDE_CODE, NULL);
    case_golden("claude-code-pretooluse-backticks", HP_HOOK_CLAUDE_CODE, NULL);
    case_golden("codex-permissionrequest", HP_HOOK_CODEX, NULL);
    case_golden("cursor-beforeshellexecution", HP_HOOK_CURSOR, NULL);
    /* Copilot's camelCase input names no event: the command line does. */
    case_golden("copilot-pretooluse-camel", HP_HOOK_COPILOT, "preToolUse");
    case_golden("copilot-pretooluse-pascal", HP_HOOK_COPILOT, NULL);
    case_golden("copilot-permissionrequest-camel", HP_HOOK_COPILOT, "permissionRequest");
}

static json_object *parse(const char *text)
{
    json_object *v = NULL;
    char err[128];
    CU_ASSERT_FATAL(hp_json_parse(text, strlen(text), &v, err, sizeof(err)) == HP_OK);
    return v;
}

static void test_refusals(void)
{
    hp_hook_opts opts = {.timeout_seconds = 60, .on_timeout = HP_VERDICT_DENY};
    hp_hook_request req;
    char err[256];
    json_object *in = parse("{\"hook_event_name\":\"Stop\",\"session_id\":\"s\"}");

    CU_ASSERT_EQUAL(hp_hook_build(HP_HOOK_CLAUDE_CODE, in, &opts, &req, err, sizeof(err)),
                    HP_ERR_INVALID_PAYLOAD);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "Stop"));
    CU_ASSERT_PTR_NULL(req.body);
    json_object_put(in);
    in = parse("[1,2]");
    CU_ASSERT_EQUAL(hp_hook_build(HP_HOOK_CURSOR, in, &opts, &req, err, sizeof(err)),
                    HP_ERR_INVALID_PAYLOAD);
    json_object_put(in);
    CU_ASSERT_PTR_NULL(hp_hook_format(HP_HOOK_CURSOR, "afterFileEdit"));
    CU_ASSERT_PTR_NULL(hp_hook_format(HP_HOOK_CODEX, NULL));
    CU_ASSERT_STRING_EQUAL(hp_hook_format(HP_HOOK_COPILOT, "PermissionRequest"),
                           "copilot_cli.permissionrequest");
}

static void test_ask_default_and_limits(void)
{
    hp_hook_opts opts = {.timeout_seconds = 30, .on_timeout = HP_VERDICT_ASK};
    hp_hook_request req;
    char err[256];
    char *cmd = malloc(10001), *text, sid[202];
    json_object *in, *d;

    memset(cmd, 'x', 10000);
    cmd[10000] = '\0';
    memset(sid, 's', 201); /* one over the API's 200 */
    sid[201] = '\0';
    text = malloc(10400);
    snprintf(text, 10400,
             "{\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Bash\",\"tool_input\":"
             "{\"command\":\"%s\"},\"session_id\":\"%s\"}",
             cmd, sid);
    in = parse(text);
    CU_ASSERT_EQUAL_FATAL(hp_hook_build(HP_HOOK_CLAUDE_CODE, in, &opts, &req, err, sizeof(err)),
                          HP_OK);
    d = json_object_object_get(req.body, "decisions");
    CU_ASSERT_EQUAL(json_object_array_length(d), 3);
    CU_ASSERT_STRING_EQUAL(hp_json_str(json_object_array_get_idx(d, 2), "key"), "ask");
    CU_ASSERT_TRUE(json_object_get_boolean(
        json_object_object_get(json_object_array_get_idx(d, 2), "is_default_on_timeout")));
    CU_ASSERT_FALSE(json_object_get_boolean(
        json_object_object_get(json_object_array_get_idx(d, 1), "is_default_on_timeout")));
    /* Within seed 004's limits, whatever the agent sent. */
    CU_ASSERT(hp_utf8_len(hp_json_str(req.body, "message"),
                          strlen(hp_json_str(req.body, "message"))) <= 2500);
    CU_ASSERT(hp_utf8_len(hp_json_str(req.body, "command"),
                          strlen(hp_json_str(req.body, "command"))) <= 4000);
    /* A session id the API would refuse is left out. */
    CU_ASSERT_FALSE(json_object_object_get_ex(req.body, "session_id", NULL));
    CU_ASSERT_FALSE(json_object_object_get_ex(req.body, "wait", NULL));
    json_object_put(req.body);
    json_object_put(in);
    free(text);
    free(cmd);
}

static void test_agents(void)
{
    hp_hook_agent a;
    CU_ASSERT_TRUE(hp_hook_agent_parse("claude-code", &a) && a == HP_HOOK_CLAUDE_CODE);
    CU_ASSERT_TRUE(hp_hook_agent_parse("copilot-cli", &a) && a == HP_HOOK_COPILOT);
    CU_ASSERT_TRUE(hp_hook_agent_parse("codex", &a) && a == HP_HOOK_CODEX);
    CU_ASSERT_FALSE(hp_hook_agent_parse("claude", &a));
    CU_ASSERT_FALSE(hp_hook_agent_parse(NULL, &a));
    CU_ASSERT_STRING_EQUAL(hp_hook_agent_name(HP_HOOK_CURSOR), "cursor");
    CU_ASSERT_STRING_EQUAL(hp_hook_default_event(HP_HOOK_COPILOT), "preToolUse");
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"recorded inputs of every agent", test_recorded_inputs},
        {"events that cannot be gated", test_refusals},
        {"ask default and limits", test_ask_default_and_limits},
        {"agent names", test_agents},
        {NULL, NULL},
    };
    return hp_unit_main("hp_hook", tests);
}
