/*
 * Coding agents wait on a human: `holdpoint hook <agent>` end to end against
 * the running API — recorded stdin of each agent, a reviewer's allow or
 * deny, the timeout default at the approval's deadline — and its failures
 * (server down, a server that never answers, bad stdin, no key, a bad key,
 * a bad configuration), each ending in the default verdict in the agent's
 * format, never an allow and never past the timeout. `holdpoint hook
 * install` merging into existing settings files. POST /v1/hooks/claude-code,
 * Claude Code's HTTP hook: the decision as Claude Code reads it, and every
 * failure a 200 carrying the default verdict.
 *
 * No timeout worker runs here: the API closes a due approval itself.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "it_bg.h"

/* ---- samples ------------------------------------------------------------------- */

/* Claude Code's PreToolUse input for a Bash command, with a unique call id. */
static const char *claude_pre(const char *command)
{
    return hp_it_fmt("{\"session_id\":\"s-%s\",\"cwd\":\"/home/dev/app\",\"permission_mode\":"
                     "\"default\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Bash\","
                     "\"tool_input\":{\"command\":\"%s\"},\"tool_use_id\":\"toolu_%s\"}",
                     hp_it_unique(), hp_it_jesc(command), hp_it_unique());
}

static const char *claude_prompt(const char *prompt)
{
    return hp_it_fmt("{\"session_id\":\"s-%s\",\"cwd\":\"/home/dev/app\",\"hook_event_name\":"
                     "\"UserPromptSubmit\",\"prompt\":\"%s\"}",
                     hp_it_unique(), hp_it_jesc(prompt));
}

static const char *codex_perm(const char *command)
{
    return hp_it_fmt("{\"cwd\":\"/home/dev/svc\",\"hook_event_name\":\"PermissionRequest\","
                     "\"session_id\":\"c-%s\",\"tool_name\":\"Bash\",\"tool_input\":{\"command\":"
                     "\"%s\"},\"turn_id\":\"turn-1\"}",
                     hp_it_unique(), hp_it_jesc(command));
}

static const char *cursor_shell(const char *command)
{
    return hp_it_fmt("{\"hook_event_name\":\"beforeShellExecution\",\"conversation_id\":"
                     "\"conv-%s\",\"generation_id\":\"g-1\",\"workspace_roots\":[\"/w\"],"
                     "\"command\":\"%s\",\"cwd\":\"/w\"}",
                     hp_it_unique(), hp_it_jesc(command));
}

static const char *copilot_pre(const char *command)
{
    return hp_it_fmt("{\"sessionId\":\"p-%s\",\"timestamp\":1777248000123,\"cwd\":\"/r\","
                     "\"toolName\":\"bash\",\"toolArgs\":\"{\\\"command\\\":\\\"%s\\\"}\"}",
                     hp_it_unique(), hp_it_jesc(hp_it_jesc(command)));
}

/* ---- the hook binary ------------------------------------------------------------ */

/* The hook's environment: t's key against the default API, no file. */
static const char *const *hook_env(const hp_it_team *t, const char *const *extra)
{
    const char **e = hp_it_track(calloc(16, sizeof(char *)), free);
    int n = 0;

    /* The first of a name wins: the extras come first. */
    for (; extra != NULL && *extra != NULL && n < 11; extra++)
        e[n++] = *extra;
    e[n++] = hp_it_fmt("HOLDPOINT_URL=%s", hp_it_api_base(hp_it_api_default()));
    if (t != NULL) {
        e[n++] = hp_it_fmt("HOLDPOINT_API_KEY=%s", t->api_key);
        e[n++] = hp_it_fmt("HOLDPOINT_AGENT_ID=%s", t->agent_id);
    }
    e[n++] = "HOLDPOINT_HOOK_CONFIG=/nonexistent/hook.env";
    return e;
}

typedef struct hook_run {
    const char *const *args;
    const char *const *env;
    const char *input;
    int status;
    char *out, *err;
    json_object *json;
    double took;
    pthread_t tid;
} hook_run;

static void *hook__main(void *p)
{
    hook_run *h = p;
    double t0 = hp_it_now();
    h->json = hp_it_cli_input(h->args, h->env, h->input, &h->status, &h->out, &h->err);
    h->took = hp_it_now() - t0;
    return NULL;
}

/* `holdpoint hook <agent> [args…]` with input on stdin, in the background. */
static hook_run *hook_start(const char *agent, const char *const *args, const char *const *env,
                            const char *input)
{
    hook_run *h = hp_it_track(calloc(1, sizeof(*h)), free);
    const char **argv = hp_it_track(calloc(12, sizeof(char *)), free);
    int n = 0;

    argv[n++] = "hook";
    argv[n++] = agent;
    for (; args != NULL && *args != NULL && n < 11; args++)
        argv[n++] = *args;
    h->args = argv;
    h->env = env;
    h->input = input;
    pthread_create(&h->tid, NULL, hook__main, h);
    return h;
}

static hook_run *hook_join(hook_run *h)
{
    pthread_join(h->tid, NULL);
    IT_CHECK(h->json != NULL, "the hook printed JSON: status %d, out [%s], err [%s]", h->status,
             h->out, h->err);
    return h;
}

static hook_run *hook_run_now(const char *agent, const char *const *args, const char *const *env,
                              const char *input)
{
    return hook_join(hook_start(agent, args, env, input));
}

/* The pending approval of t made by client (metadata.client) about
 * command, waiting up to 15 s for the hook to store it. */
static const char *await_pending(const hp_it_team *t, const char *client, const char *command)
{
    for (double end = hp_it_now() + 15; hp_it_now() < end; hp_it_sleep_ms(20)) {
        char *id = hp_it_sql_str(
            "select id::text from approvals where team_id = $1 and status = 'pending' and "
            "metadata->>'client' = $2 and coalesce(metadata->>'command', context_markdown) like "
            "'%' || $3 || '%' order by created_at desc limit 1",
            t->team_id, client, command, NULL);
        if (id != NULL)
            return id;
    }
    IT_CHECK_FATAL(false, "no pending approval from %s about %s", client, command);
    return NULL;
}

/* The reviewer picks the decision with key. */
static void decide(const hp_it_team *t, const char *aid, const char *key)
{
    long long idx = hp_it_sql_int("select (o.i - 1)::int from approvals a, "
                                  "jsonb_array_elements(a.options) with ordinality o(v, i) "
                                  "where a.id = $1 and o.v->>'value' = $2",
                                  aid, key, NULL);
    hp_it_resp *r = hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", aid),
                               hp_it_fmt("{\"option_index\":%lld}", idx));
    IT_STATUS_FATAL(r, 200);
}

/* ---- the hook end to end -------------------------------------------------------- */

static void test_cli_each_agent(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *const *env = hook_env(t, NULL);
    hook_run *cc = hook_start("claude-code", NULL, env, claude_pre("npm publish"));
    hook_run *cx = hook_start("codex", NULL, env, codex_perm("git push origin main"));
    hook_run *cu = hook_start("cursor", NULL, env, cursor_shell("npm install left-pad"));
    hook_run *cp = hook_start("copilot", NULL, env, copilot_pre("terraform apply"));
    const char *a_cc = await_pending(t, "claude-code", "npm publish");
    const char *a_cx = await_pending(t, "codex", "git push origin main");
    const char *a_cu = await_pending(t, "cursor", "npm install left-pad");
    const char *a_cp = await_pending(t, "copilot", "terraform apply");

    /* The reviewer sees what the agent is about to do. */
    hp_it_resp *r = hp_it_user(t, "GET", hp_it_fmt("/v1/review/approvals/%s", a_cc), NULL);
    IT_JSTR(r->json, "question", "Run tool: Bash");
    IT_CHECK(strstr(hp_it_jtext(hp_it_jget(r->json, "context_markdown", NULL)),
                    "```sh\\nnpm publish\\n```") != NULL,
             "the command in a code block: %s", r->body);
    IT_JSTR(r->json, "agent_name", "Claude Code");
    IT_JSTR(r->json, "metadata.tool_name", "Bash");

    decide(t, a_cc, "allow");
    decide(t, a_cx, "deny");
    decide(t, a_cu, "allow");
    decide(t, a_cp, "deny");

    hook_join(cc);
    IT_CHECK(cc->status == 0, "claude-code allow exits 0: %d %s", cc->status, cc->err);
    IT_JSTR(cc->json, "hookSpecificOutput.hookEventName", "PreToolUse");
    IT_JSTR(cc->json, "hookSpecificOutput.permissionDecision", "allow");
    hook_join(cx);
    IT_CHECK(cx->status == 0, "codex exits 0: %d", cx->status);
    IT_JSTR(cx->json, "hookSpecificOutput.hookEventName", "PermissionRequest");
    IT_JSTR(cx->json, "hookSpecificOutput.decision.behavior", "deny");
    hook_join(cu);
    IT_CHECK(cu->status == 0, "cursor exits 0: %d", cu->status);
    IT_JSTR(cu->json, "permission", "allow");
    hook_join(cp);
    IT_CHECK(cp->status == 0, "copilot exits 0: %d", cp->status);
    IT_JSTR(cp->json, "permissionDecision", "deny");
    IT_CHECK(hp_it_jget(cp->json, "permissionDecisionReason", NULL) != NULL, "with a reason");

    /* The hook had the decision directly: every action response acked. */
    r = hp_it_agent(t, "GET", "/v1/action-responses", NULL);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 0, "auto-acked: %s", r->body);
}

static void test_cli_deny_and_prompt(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *const *env = hook_env(t, NULL);
    hook_run *pre = hook_start("claude-code", NULL, env, claude_pre("rm -rf /srv/data"));
    hook_run *prompt =
        hook_start("claude-code", (const char *[]){"--event", "UserPromptSubmit", NULL}, env,
                   claude_prompt("deploy to production now"));

    decide(t, await_pending(t, "claude-code", "rm -rf /srv/data"), "deny");
    decide(t, await_pending(t, "claude-code", "deploy to production now"), "deny");
    hook_join(pre);
    /* Claude Code blocks on exit 2 even if it could not read the JSON. */
    IT_CHECK(pre->status == 2, "a deny exits 2: %d", pre->status);
    IT_JSTR(pre->json, "hookSpecificOutput.permissionDecision", "deny");
    IT_CHECK(strstr(hp_it_jtext(pre->json), "deny") != NULL, "reason");
    hook_join(prompt);
    IT_CHECK(prompt->status == 2, "a blocked prompt exits 2: %d", prompt->status);
    IT_JSTR(prompt->json, "decision", "block");
}

static void test_cli_timeout_default(void)
{
    const hp_it_team *t = hp_it_team_new();
    hook_run *deny = hook_start("claude-code", (const char *[]){"--timeout", "5", NULL},
                                hook_env(t, NULL), claude_pre("make release"));
    hook_run *ask = hook_start("cursor", NULL,
                               hook_env(t, (const char *[]){"HOLDPOINT_HOOK_TIMEOUT_SECONDS=5",
                                                            "HOLDPOINT_HOOK_DEFAULT=ask", NULL}),
                               cursor_shell("make clean"));

    hook_join(deny);
    IT_CHECK(deny->took >= 4.0 && deny->took < 5 + 8, "answered at the deadline: %.2f s",
             deny->took);
    IT_CHECK(deny->status == 2, "the default deny exits 2: %d", deny->status);
    IT_JSTR(deny->json, "hookSpecificOutput.permissionDecision", "deny");
    hook_join(ask);
    IT_CHECK(ask->took < 5 + 8, "in time: %.2f s", ask->took);
    IT_CHECK(ask->status == 0, "ask exits 0: %d", ask->status);
    IT_JSTR(ask->json, "permission", "ask");
    /* Both approvals closed as expired with their marked default. */
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where team_id = $1 and status = "
                           "'expired' and is_timeout_default",
                           t->team_id, NULL) == 2,
             "two expired with the default");
}

/* A TCP port that accepts connections and never answers. */
static int silent_server(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    IT_CHECK_FATAL(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
                       listen(fd, 16) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0,
                   "a listening socket");
    *port = ntohs(a.sin_port);
    return fd;
}

static void test_cli_failures(void)
{
    const hp_it_team *t = hp_it_team_new();
    long long before =
        hp_it_sql_int("select count(*) from approvals where team_id = $1", t->team_id, NULL);
    int port, fd = silent_server(&port);
    const char *hang_url = hp_it_fmt("HOLDPOINT_URL=http://127.0.0.1:%d", port);
    hook_run *h;

    /* Nobody listening: deny, at once. */
    h = hook_run_now("claude-code", NULL,
                     hook_env(t, (const char *[]){"HOLDPOINT_URL=http://127.0.0.1:1", NULL}),
                     claude_pre("ls"));
    IT_CHECK(h->status == 2 && h->took < 5, "server down: deny exit 2 at once: %d %.2f s",
             h->status, h->took);
    IT_JSTR(h->json, "hookSpecificOutput.permissionDecision", "deny");
    IT_CHECK(strstr(hp_it_jtext(h->json), "could not reach Holdpoint") != NULL, "why: %s",
             hp_it_jtext(h->json));
    /* Server down for Cursor and Copilot: their own deny shapes. */
    h = hook_run_now("cursor", NULL,
                     hook_env(t, (const char *[]){"HOLDPOINT_URL=http://127.0.0.1:1", NULL}),
                     cursor_shell("ls"));
    IT_JSTR(h->json, "permission", "deny");
    IT_CHECK(h->status == 0, "cursor reads the JSON on 0");
    h = hook_run_now("copilot", (const char *[]){"--event", "permissionRequest", NULL},
                     hook_env(t, (const char *[]){"HOLDPOINT_URL=http://127.0.0.1:1", NULL}),
                     copilot_pre("ls"));
    IT_JSTR(h->json, "behavior", "deny");
    /* A server that accepts and never answers: deny when the time is up,
     * never later than the timeout plus the margin. */
    h = hook_run_now("claude-code", (const char *[]){"--timeout", "5", NULL},
                     hook_env(t, (const char *[]){hang_url, NULL}), claude_pre("ls"));
    IT_CHECK(h->status == 2 && h->took >= 4.5 && h->took < 5 + 8 + 2,
             "a silent server: deny within the timeout: %d %.2f s", h->status, h->took);
    IT_JSTR(h->json, "hookSpecificOutput.permissionDecision", "deny");
    close(fd);
    /* Bad stdin: not JSON, not an object, an event the hook cannot gate. */
    h = hook_run_now("claude-code", NULL, hook_env(t, NULL), "{not json");
    IT_CHECK(h->status == 2, "bad stdin exits 2");
    IT_JSTR(h->json, "hookSpecificOutput.permissionDecision", "deny");
    h = hook_run_now("codex", NULL, hook_env(t, NULL), "[1,2]");
    IT_JSTR(h->json, "hookSpecificOutput.decision.behavior", "deny");
    h = hook_run_now("claude-code", NULL, hook_env(t, NULL),
                     "{\"hook_event_name\":\"PostToolUse\",\"tool_name\":\"Bash\"}");
    IT_CHECK(h->status == 2, "an event it cannot gate: exit 2");
    h = hook_run_now("claude-code", NULL, hook_env(t, NULL), "");
    IT_JSTR(h->json, "hookSpecificOutput.permissionDecision", "deny");
    /* No key, a revoked-looking key, a key of nobody. */
    h = hook_run_now("claude-code", NULL, hook_env(NULL, NULL), claude_pre("ls"));
    IT_JSTR(h->json, "hookSpecificOutput.permissionDecision", "deny");
    IT_CHECK(strstr(hp_it_jtext(h->json), "HOLDPOINT_API_KEY") != NULL, "says why");
    h = hook_run_now("claude-code", NULL,
                     hook_env(NULL, (const char *[]){"HOLDPOINT_API_KEY=hp_live_notakey", NULL}),
                     claude_pre("ls"));
    IT_JSTR(h->json, "hookSpecificOutput.permissionDecision", "deny");
    IT_CHECK(strstr(hp_it_jtext(h->json), "401") != NULL, "says 401: %s", hp_it_jtext(h->json));
    IT_CHECK(strstr(h->out, "hp_live_notakey") == NULL && strstr(h->err, "hp_live_notakey") == NULL,
             "the key is never printed");
    /* A bad configuration: allow is no default, and a bad option still
     * denies. */
    h = hook_run_now("claude-code", NULL,
                     hook_env(t, (const char *[]){"HOLDPOINT_HOOK_DEFAULT=allow", NULL}),
                     claude_pre("ls"));
    IT_JSTR(h->json, "hookSpecificOutput.permissionDecision", "deny");
    h = hook_run_now("claude-code", (const char *[]){"--timeout", "1", NULL}, hook_env(t, NULL),
                     claude_pre("ls"));
    IT_JSTR(h->json, "hookSpecificOutput.permissionDecision", "deny");
    IT_CHECK(h->status == 2, "exit 2");
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where team_id = $1", t->team_id, NULL) ==
                 before,
             "no failure made an approval");
}

static void test_cli_config_file(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *dir = hp_it_fmt("%s/hook-%s", hp_it_env("HP_RUN_DIR"), hp_it_unique());
    const char *path = hp_it_fmt("%s/hook.env", dir);
    FILE *f;

    IT_CHECK_FATAL(mkdir(dir, 0700) == 0, "mkdir %s", dir);
    f = fopen(path, "w");
    IT_CHECK_FATAL(f != NULL, "write %s", path);
    fprintf(f,
            "# Holdpoint hook\nHOLDPOINT_URL=%s\nexport HOLDPOINT_API_KEY=\"%s\"\n"
            "HOLDPOINT_AGENT_ID=%s\nHOLDPOINT_HOOK_TIMEOUT_SECONDS=5\n",
            hp_it_api_base(hp_it_api_default()), t->api_key, t->agent_id);
    fclose(f);
    chmod(path, 0600);
    /* Only the file says where and who; the environment wins over it. */
    hook_run *h =
        hook_start("claude-code", NULL,
                   (const char *[]){hp_it_fmt("HOLDPOINT_HOOK_CONFIG=%s", path), "HOLDPOINT_URL",
                                    "HOLDPOINT_API_KEY", "HOLDPOINT_HOOK_DEFAULT=ask", NULL},
                   claude_pre("cargo publish"));
    decide(t, await_pending(t, "claude-code", "cargo publish"), "allow");
    hook_join(h);
    IT_JSTR(h->json, "hookSpecificOutput.permissionDecision", "allow");
    /* Ask was the configured default: an ask decision is offered. */
    IT_CHECK(hp_it_sql_int("select count(*) from approvals a, jsonb_array_elements(a.options) o "
                           "where a.team_id = $1 and o->>'value' = 'ask'",
                           t->team_id, NULL) == 1,
             "the ask decision offered");
}

/* ---- hook install ----------------------------------------------------------------- */

static json_object *read_json_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char buf[65536];
    size_t n;

    IT_CHECK_FATAL(f != NULL, "read %s", path);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return hp_it_json(buf);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    IT_CHECK_FATAL(f != NULL, "write %s", path);
    fputs(text, f);
    fclose(f);
}

static void test_install(void)
{
    const char *home = hp_it_fmt("%s/home-%s", hp_it_env("HP_RUN_DIR"), hp_it_unique());
    const char *env[] = {hp_it_fmt("HOME=%s", home), NULL};
    const char *claude = hp_it_fmt("%s/.claude/settings.json", home);
    json_object *j, *doc;
    int st;

    IT_CHECK_FATAL(mkdir(home, 0700) == 0 && mkdir(hp_it_fmt("%s/.claude", home), 0700) == 0,
                   "mkdir");
    /* Someone's settings with other hooks and other keys. */
    write_file(
        claude,
        "{\"model\":\"opus\",\"hooks\":{\"PreToolUse\":[{\"matcher\":\"Bash\",\"hooks\":"
        "[{\"type\":\"command\",\"command\":\"/usr/local/bin/lint-bash\"}]}],"
        "\"Stop\":[{\"hooks\":[{\"type\":\"command\",\"command\":\"notify-send done\"}]}]}}");
    j = hp_it_cli_env(
        (const char *[]){"hook", "install", "claude-code", "--timeout", "120", "--json", NULL}, env,
        &st, NULL, NULL);
    IT_CHECK_FATAL(st == 0 && j != NULL, "install: %d", st);
    IT_JBOOL(j, "changed", true);
    doc = read_json_file(claude);
    IT_JSTR(doc, "model", "opus");
    IT_JSTR(doc, "hooks.Stop.0.hooks.0.command", "notify-send done");
    IT_JSTR(doc, "hooks.PreToolUse.0.matcher", "Bash");
    IT_JSTR(doc, "hooks.PreToolUse.0.hooks.0.command", "/usr/local/bin/lint-bash");
    IT_CHECK(hp_it_jlen(hp_it_jget(doc, "hooks.PreToolUse.0.hooks", NULL)) == 1,
             "their group untouched");
    /* Ours: a group of its own, for Bash. */
    IT_JSTR(doc, "hooks.PreToolUse.1.matcher", "Bash");
    IT_JSTR(doc, "hooks.PreToolUse.1.hooks.0.type", "command");
    IT_CHECK(strstr(hp_it_jtext(hp_it_jget(doc, "hooks.PreToolUse.1.hooks.0.command", NULL)),
                    "hook claude-code --event PreToolUse --timeout 120") != NULL,
             "our command: %s", hp_it_jtext(doc));
    /* The agent waits longer than the hook. */
    IT_CHECK(json_object_get_int(hp_it_jget(doc, "hooks.PreToolUse.1.hooks.0.timeout", NULL)) > 120,
             "the agent's timeout is longer");
    /* Again: nothing changes. */
    j = hp_it_cli_env(
        (const char *[]){"hook", "install", "claude-code", "--timeout", "120", "--json", NULL}, env,
        &st, NULL, NULL);
    IT_JBOOL(j, "changed", false);
    IT_CHECK(hp_it_jlen(hp_it_jget(read_json_file(claude), "hooks.PreToolUse", NULL)) == 2,
             "not added twice");
    /* Another timeout replaces ours. */
    j = hp_it_cli_env((const char *[]){"hook", "install", "claude-code", "--json", NULL}, env, &st,
                      NULL, NULL);
    IT_JBOOL(j, "changed", true);
    doc = read_json_file(claude);
    IT_CHECK(hp_it_jlen(hp_it_jget(doc, "hooks.PreToolUse", NULL)) == 2, "replaced in place");
    IT_CHECK(strstr(hp_it_jtext(hp_it_jget(doc, "hooks.PreToolUse.1.hooks.0.command", NULL)),
                    "--timeout 55") != NULL,
             "the new timeout");
    /* The HTTP form, for the prompt. */
    j = hp_it_cli_env(
        (const char *[]){"hook", "install", "claude-code", "--event", "UserPromptSubmit", "--http",
                         "https://holdpoint.example.com/v1/hooks/claude-code", "--json", NULL},
        env, &st, NULL, NULL);
    IT_CHECK_FATAL(st == 0, "install --http");
    doc = read_json_file(claude);
    IT_JSTR(doc, "hooks.UserPromptSubmit.0.hooks.0.type", "http");
    IT_JSTR(doc, "hooks.UserPromptSubmit.0.hooks.0.url",
            "https://holdpoint.example.com/v1/hooks/claude-code?timeout_seconds=55");
    IT_JSTR(doc, "hooks.UserPromptSubmit.0.hooks.0.headers.Authorization",
            "Bearer $HOLDPOINT_API_KEY");
    IT_JSTR(doc, "hooks.UserPromptSubmit.0.hooks.0.allowedEnvVars.0", "HOLDPOINT_API_KEY");
    IT_JMISSING(doc, "hooks.UserPromptSubmit.0.matcher");
    IT_JSTR(doc, "hooks.Stop.0.hooks.0.command", "notify-send done");
    /* The other agents' files, made from nothing. */
    j = hp_it_cli_env((const char *[]){"hook", "install", "codex", "--json", NULL}, env, &st, NULL,
                      NULL);
    IT_CHECK(st == 0, "codex");
    doc = read_json_file(hp_it_fmt("%s/.codex/hooks.json", home));
    IT_JSTR(doc, "hooks.PermissionRequest.0.hooks.0.type", "command");
    j = hp_it_cli_env((const char *[]){"hook", "install", "cursor", "--json", NULL}, env, &st, NULL,
                      NULL);
    IT_CHECK(st == 0, "cursor");
    doc = read_json_file(hp_it_fmt("%s/.cursor/hooks.json", home));
    IT_JINT(doc, "version", 1);
    IT_CHECK(strstr(hp_it_jtext(hp_it_jget(doc, "hooks.beforeShellExecution.0.command", NULL)),
                    "hook cursor --event beforeShellExecution") != NULL,
             "cursor's command");
    const char *cop = hp_it_fmt("%s/copilot.json", home);
    j = hp_it_cli_env(
        (const char *[]){"hook", "install", "copilot", "--settings", cop, "--json", NULL}, env, &st,
        NULL, NULL);
    IT_CHECK(st == 0, "copilot");
    doc = read_json_file(cop);
    IT_JINT(doc, "version", 1);
    IT_JSTR(doc, "hooks.preToolUse.0.type", "command");
    IT_CHECK(json_object_get_int(hp_it_jget(doc, "hooks.preToolUse.0.timeoutSec", NULL)) > 55,
             "copilot's timeout is longer than the hook's");
    /* A file that is not JSON is left alone. */
    const char *broken = hp_it_fmt("%s/broken.json", home);
    write_file(broken, "{\"hooks\": [oops");
    (void)hp_it_cli_env(
        (const char *[]){"hook", "install", "claude-code", "--settings", broken, "--json", NULL},
        env, &st, NULL, NULL);
    IT_CHECK(st != 0, "a broken file fails");
    {
        FILE *f = fopen(broken, "r");
        char buf[64] = "";
        IT_CHECK_FATAL(f != NULL, "still there");
        IT_CHECK(fgets(buf, sizeof(buf), f) != NULL && strcmp(buf, "{\"hooks\": [oops") == 0,
                 "unchanged: %s", buf);
        fclose(f);
    }
}

/* ---- POST /v1/hooks/claude-code --------------------------------------------------- */

static const char *hook_url(const char *query)
{
    return hp_it_fmt("%s/v1/hooks/claude-code%s", hp_it_api_base(hp_it_api_default()),
                     query ? query : "");
}

/* Claude Code's HTTP hook headers: the key as a Bearer token. */
static const char *const *bearer(const char *key)
{
    const char **h = hp_it_track(calloc(3, sizeof(char *)), free);
    h[0] = hp_it_fmt("Authorization: Bearer %s", key);
    h[1] = "Content-Type: application/json";
    return h;
}

static void test_http_decided(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *pre = claude_pre("docker system prune -af");
    bg_batch *b = bg_new(2);
    hp_it_resp *r;

    bg_set(b, 0, "POST", hook_url(NULL), t, false, NULL, pre, 30000);
    bg_set(b, 1, "POST", hook_url("?timeout_seconds=120"), t, false, NULL,
           claude_prompt("push the hotfix"), 30000);
    bg_start(b);
    decide(t, await_pending(t, "claude-code", "docker system prune -af"), "allow");
    decide(t, await_pending(t, "claude-code", "push the hotfix"), "deny");
    bg_join(b);
    IT_CHECK_FATAL(b->calls[0].status == 200, "200: %ld %s", b->calls[0].status, b->calls[0].resp);
    json_object *j = hp_it_json(b->calls[0].resp);
    IT_JSTR(j, "hookSpecificOutput.hookEventName", "PreToolUse");
    IT_JSTR(j, "hookSpecificOutput.permissionDecision", "allow");
    IT_CHECK(strstr(b->calls[0].hdrs, "X-Holdpoint-Error") == NULL, "no error header");
    IT_CHECK(strstr(b->calls[0].hdrs, "X-Holdpoint-Timeout-Seconds: 55") != NULL, "%s",
             b->calls[0].hdrs);
    j = hp_it_json(b->calls[1].resp);
    IT_JSTR(j, "decision", "block");
    IT_CHECK(hp_it_jget(j, "reason", NULL) != NULL, "reason");
    IT_CHECK(strstr(b->calls[1].hdrs, "X-Holdpoint-Timeout-Seconds: 120") != NULL, "%s",
             b->calls[1].hdrs);
    /* Claude Code sending the same tool call again gets the same answer at
     * once (the request_id is the tool_use_id). */
    r = hp_it_http(NULL, "POST", "/v1/hooks/claude-code", hp_it_agent_headers(t, true), pre);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "hookSpecificOutput.permissionDecision", "allow");
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where team_id = $1", t->team_id, NULL) ==
                 2,
             "one approval per tool call");
}

static void test_http_timeout(void)
{
    const hp_it_team *t = hp_it_team_new();
    bg_batch *b = bg_new(2);
    double t0 = hp_it_now();

    bg_set_headers(b, 0, "POST", hook_url("?timeout_seconds=5"), bearer(t->api_key),
                   claude_pre("kubectl delete ns prod"), 30000);
    bg_set_headers(b, 1, "POST", hook_url("?timeout_seconds=5&default=ask"), bearer(t->api_key),
                   claude_pre("kubectl drain node-1"), 30000);
    bg_start(b);
    bg_join(b);
    for (int i = 0; i < 2; i++)
        IT_CHECK_FATAL(b->calls[i].status == 200 && b->calls[i].done_at - t0 >= 4.0 &&
                           b->calls[i].done_at - t0 < 12.0,
                       "answered at the deadline: %ld %.2f s", b->calls[i].status,
                       b->calls[i].done_at - t0);
    IT_JSTR(hp_it_json(b->calls[0].resp), "hookSpecificOutput.permissionDecision", "deny");
    IT_JSTR(hp_it_json(b->calls[1].resp), "hookSpecificOutput.permissionDecision", "ask");
}

static const char *err_header(const hp_it_resp *r)
{
    const char *h = hp_it_header(r, "X-Holdpoint-Error");
    return h ? h : "";
}

static void test_http_failures(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *const *ok = bearer(t->api_key);
    long long before =
        hp_it_sql_int("select count(*) from approvals where team_id = $1", t->team_id, NULL);
    hp_it_resp *r;

    /* A bad key, no key: still 200, a deny, and why. */
    r = hp_it_http(NULL, "POST", "/v1/hooks/claude-code", bearer("hp_live_wrong"),
                   claude_pre("ls"));
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "hookSpecificOutput.permissionDecision", "deny");
    IT_CHECK(hp_it_header(r, "X-Holdpoint-Error") != NULL &&
                 strstr(err_header(r), "invalid_api_key") != NULL,
             "the error header");
    r = hp_it_http(NULL, "POST", "/v1/hooks/claude-code",
                   (const char *[]){"Content-Type: application/json", NULL},
                   claude_prompt("hello"));
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "decision", "block");
    /* Bad JSON, no event, an event it cannot gate: the generic block. */
    r = hp_it_http(NULL, "POST", "/v1/hooks/claude-code", ok, "{nope");
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "decision", "block");
    IT_CHECK(strstr(err_header(r), "invalid_payload") != NULL, "code");
    r = hp_it_http(NULL, "POST", "/v1/hooks/claude-code", ok, "{\"tool_name\":\"Bash\"}");
    IT_JSTR(r->json, "decision", "block");
    r = hp_it_http(NULL, "POST", "/v1/hooks/claude-code", ok,
                   "{\"hook_event_name\":\"Stop\",\"session_id\":\"x\"}");
    IT_JSTR(r->json, "decision", "block");
    /* A bad query: deny in the event's shape. */
    r = hp_it_http(NULL, "POST", "/v1/hooks/claude-code?timeout_seconds=4", ok, claude_pre("ls"));
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "hookSpecificOutput.permissionDecision", "deny");
    IT_CHECK(strstr(err_header(r), "invalid_query") != NULL, "code");
    r = hp_it_http(NULL, "POST", "/v1/hooks/claude-code?default=allow", ok, claude_pre("ls"));
    IT_JSTR(r->json, "hookSpecificOutput.permissionDecision", "deny");
    /* Another team's project: deny. */
    r = hp_it_http(NULL, "POST", "/v1/hooks/claude-code?project=nope-nope", ok, claude_pre("ls"));
    IT_JSTR(r->json, "hookSpecificOutput.permissionDecision", "deny");
    IT_CHECK(strstr(err_header(r), "not_found") != NULL, "code");
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where team_id = $1", t->team_id, NULL) ==
                 before,
             "no failure made an approval");
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"cli_each_agent", test_cli_each_agent},
        {"cli_deny_and_prompt", test_cli_deny_and_prompt},
        {"cli_timeout_default", test_cli_timeout_default},
        {"cli_failures", test_cli_failures},
        {"cli_config_file", test_cli_config_file},
        {"install", test_install},
        {"http_decided", test_http_decided},
        {"http_timeout", test_http_timeout},
        {"http_failures", test_http_failures},
        {NULL, NULL},
    };
    return hp_it_main("hook", tests, NULL, NULL);
}
