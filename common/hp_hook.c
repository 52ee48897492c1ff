/*
 * hp_hook: from a coding agent's hook input to the approval that asks about
 * it; see hp_hook.h. The reviewer sees what the agent is about to do — the
 * command in a code block, or the tool's input as JSON, and where — and
 * answers Allow or Deny; the answer comes back rendered for that agent.
 */
#include <stdlib.h>
#include <string.h>

#include "hp_hook.h"
#include "hp_json.h"
#include "hp_mem.h"
#include "hp_str.h"

/* Room the reviewer's message and the command may take (code points). */
#define HP__MESSAGE_MAX 2500
#define HP__COMMAND_MAX 4000
#define HP__TOOL_MAX    200
#define HP__SESSION_MAX 200
#define HP__WHY_MAX     300

static const struct {
    const char *name;
    const char *display;
    const char *default_event;
} hp__agents[] = {
    [HP_HOOK_CLAUDE_CODE] = {"claude-code", "Claude Code", "PreToolUse"},
    [HP_HOOK_CODEX] = {"codex", "Codex", "PermissionRequest"},
    [HP_HOOK_CURSOR] = {"cursor", "Cursor", "beforeShellExecution"},
    [HP_HOOK_COPILOT] = {"copilot", "Copilot CLI", "preToolUse"},
};

bool hp_hook_agent_parse(const char *name, hp_hook_agent *out)
{
    if (name == NULL)
        return false;
    for (int i = 0; i < (int)(sizeof(hp__agents) / sizeof(hp__agents[0])); i++)
        if (strcmp(name, hp__agents[i].name) == 0) {
            *out = (hp_hook_agent)i;
            return true;
        }
    if (strcmp(name, "copilot-cli") == 0) {
        *out = HP_HOOK_COPILOT;
        return true;
    }
    return false;
}

const char *hp_hook_agent_name(hp_hook_agent a)
{
    return hp__agents[a].name;
}

const char *hp_hook_default_event(hp_hook_agent a)
{
    return hp__agents[a].default_event;
}

const char *hp_hook_format(hp_hook_agent agent, const char *event)
{
    if (event == NULL)
        return NULL;
    switch (agent) {
    case HP_HOOK_CLAUDE_CODE:
        if (strcmp(event, "PreToolUse") == 0)
            return "claude_code.pretooluse";
        if (strcmp(event, "UserPromptSubmit") == 0)
            return "claude_code.userpromptsubmit";
        /* Claude Code's PermissionRequest answer has Codex's shape. */
        if (strcmp(event, "PermissionRequest") == 0)
            return "codex.permission";
        return NULL;
    case HP_HOOK_CODEX:
        if (strcmp(event, "PermissionRequest") == 0)
            return "codex.permission";
        if (strcmp(event, "PreToolUse") == 0)
            return "claude_code.pretooluse";
        return NULL;
    case HP_HOOK_CURSOR:
        if (strcmp(event, "beforeShellExecution") == 0 || strcmp(event, "beforeMCPExecution") == 0)
            return "cursor.beforeshellexecution";
        return NULL;
    case HP_HOOK_COPILOT:
        if (hp_streq_ci(event, "preToolUse"))
            return "copilot_cli.pretooluse";
        if (hp_streq_ci(event, "permissionRequest"))
            return "copilot_cli.permissionrequest";
        return NULL;
    }
    return NULL;
}

/* ---- text ------------------------------------------------------------------ */

/* A copy of s of at most max code points, cut on a character boundary with
 * an ellipsis as the last one when it was longer (heap; caller frees). */
static char *hp__cut(const char *s, size_t max)
{
    size_t i = 0, cps = 0;

    if (max == 0)
        max = 1;
    if (hp_utf8_len(s, strlen(s)) <= (long)max)
        return hp_xstrdup(s);
    while (s[i] != '\0' && cps < max - 1) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        for (size_t k = 1; k < len; k++)
            if (s[i + k] == '\0')
                len = k;
        i += len;
        cps++;
    }
    return hp_xasprintf("%.*s…", (int)i, s);
}

/* A code fence longer than any run of backticks in s (CommonMark), so the
 * agent's text cannot end the block early. */
static void hp__fence(const char *s, char *out, size_t cap)
{
    size_t run = 0, longest = 0, n;

    for (; *s; s++) {
        run = *s == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    n = longest + 1 > 3 ? longest + 1 : 3;
    if (n >= cap)
        n = cap - 1;
    memset(out, '`', n);
    out[n] = '\0';
}

/* The agent's own one-line account of a command (tool_input.description),
 * as a quote line: newlines become spaces, at most HP__WHY_MAX code points.
 * Heap; "" without one. */
static char *hp__why(const char *why)
{
    char *cut, *line;

    if (why == NULL || why[0] == '\0')
        return hp_xstrdup("");
    cut = hp__cut(why, HP__WHY_MAX);
    for (char *p = cut; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    line = hp_xasprintf("> %s\n\n", cut);
    free(cut);
    return line;
}

/* The reviewer's message: who asks, for what (with the agent's own account
 * of it, when given), the text in a code block and the working directory,
 * within the seed 004 message limit. Heap. */
static char *hp__message(const char *agent, const char *event, const char *tool, const char *why,
                         const char *lang, const char *text, const char *cwd)
{
    char fence[64];
    char *cut, *head, *tail, *msg, *quote = hp__why(why);
    long budget;

    head = tool != NULL ? hp_xasprintf("**%s** · %s · `%s`\n\n%s", agent, event, tool, quote)
                        : hp_xasprintf("**%s** · %s\n\n%s", agent, event, quote);
    free(quote);
    tail = cwd != NULL ? hp_xasprintf("\n\nWorking directory: `%s`", cwd) : hp_xstrdup("");
    hp__fence(text, fence, sizeof(fence));
    /* What is left for the text after the frame (counted in bytes, which
     * bounds the code points from above). */
    budget = HP__MESSAGE_MAX - (long)strlen(head) - (long)strlen(tail) - 2 * (long)strlen(fence) -
             (long)strlen(lang) - 8;
    cut = hp__cut(text, budget > 64 ? (size_t)budget : 64);
    msg = hp_xasprintf("%s%s%s\n%s\n%s%s", head, fence, lang, cut, fence, tail);
    free(cut);
    free(head);
    free(tail);
    if (hp_utf8_len(msg, strlen(msg)) > HP__MESSAGE_MAX) { /* a very long cwd or tool name */
        char *shorter = hp__cut(msg, HP__MESSAGE_MAX);
        free(msg);
        msg = shorter;
    }
    return msg;
}

/* ---- building the body --------------------------------------------------------- */

static void hp__set_cut(json_object *o, const char *key, const char *s, size_t max)
{
    char *c;
    if (s == NULL)
        return;
    c = hp__cut(s, max);
    hp_json_set_str(o, key, c);
    free(c);
}

static json_object *hp__decision(const char *key, const char *label, bool dflt)
{
    json_object *d = json_object_new_object();
    hp_json_set_str(d, "key", key);
    hp_json_set_str(d, "label", label);
    json_object_object_add(d, "is_default_on_timeout", json_object_new_boolean(dflt));
    return d;
}

/* A session id the API accepts (1..200 printable characters), or NULL. */
static const char *hp__session(const char *s)
{
    long n;
    if (s == NULL)
        return NULL;
    n = hp_utf8_len(s, strlen(s));
    if (n < 1 || n > HP__SESSION_MAX)
        return NULL;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return NULL;
    return s;
}

/* The first string member among keys (snake_case and camelCase spellings). */
static const char *hp__str2(json_object *in, const char *a, const char *b)
{
    const char *v = hp_json_str(in, a);
    return v != NULL ? v : (b != NULL ? hp_json_str(in, b) : NULL);
}

hp_err hp_hook_build(hp_hook_agent agent, json_object *input, const hp_hook_opts *opts,
                     hp_hook_request *out, char *err, size_t errcap)
{
    const char *display = hp__agents[agent].display;
    const char *event, *tool = NULL, *command = NULL, *session, *cwd, *text, *lang = "";
    const char *why = NULL; /* the agent's description of a command */
    json_object *args = NULL, *body, *decisions, *meta;
    char *title, *message, *args_text = NULL, *why_text = NULL;
    bool prompt = false;

    memset(out, 0, sizeof(*out));
    if (!json_object_is_type(input, json_type_object)) {
        hp_err_set(err, errcap, "the hook input is not a JSON object");
        return HP_ERR_INVALID_PAYLOAD;
    }
    event = hp_json_str(input, "hook_event_name");
    if (event == NULL)
        event = opts->event != NULL ? opts->event : hp__agents[agent].default_event;
    out->format = hp_hook_format(agent, event);
    if (out->format == NULL) {
        hp_err_set(err, errcap, "%s hooks of event %.64s cannot be gated", display, event);
        return HP_ERR_INVALID_PAYLOAD;
    }
    out->event = event;
    cwd = hp_json_str(input, "cwd");
    switch (agent) {
    case HP_HOOK_CLAUDE_CODE:
    case HP_HOOK_CODEX:
        session = hp_json_str(input, "session_id");
        tool = hp_json_str(input, "tool_name");
        args = hp_json_obj(input, "tool_input");
        command = args ? hp_json_str(args, "command") : NULL;
        prompt = strcmp(event, "UserPromptSubmit") == 0;
        break;
    case HP_HOOK_CURSOR:
        session = hp_json_str(input, "conversation_id");
        if (strcmp(event, "beforeShellExecution") == 0) {
            tool = "Shell";
            command = hp_json_str(input, "command");
        } else {
            tool = hp_json_str(input, "tool_name");
            args = json_object_object_get(input, "tool_input");
        }
        break;
    case HP_HOOK_COPILOT:
    default:
        session = hp__str2(input, "session_id", "sessionId");
        tool = hp__str2(input, "tool_name", "toolName");
        args = json_object_object_get(input, "tool_input");
        if (args == NULL)
            args = json_object_object_get(input, "toolArgs");
        if (json_object_is_type(args, json_type_string)) {
            /* toolArgs may be the arguments as a JSON string. */
            json_object *parsed = NULL;
            char perr[32];
            const char *s = json_object_get_string(args);
            if (hp_json_parse(s, strlen(s), &parsed, perr, sizeof(perr)) == HP_OK &&
                json_object_is_type(parsed, json_type_object)) {
                const char *c = hp_json_str(parsed, "command");
                const char *d = hp_json_str(parsed, "description");
                if (c != NULL && d != NULL)
                    why = why_text = hp_xstrdup(d);
                args_text = hp_xstrdup(c != NULL ? c
                                                 : json_object_to_json_string_ext(
                                                       parsed, JSON_C_TO_STRING_PRETTY |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
                if (c != NULL)
                    command = args_text;
            } else {
                args_text = hp_xstrdup(s);
            }
            json_object_put(parsed);
            args = NULL;
        } else if (json_object_is_type(args, json_type_object)) {
            command = hp_json_str(args, "command");
        }
        break;
    }

    /* What the reviewer reads. */
    if (prompt) {
        text = hp_json_str(input, "prompt");
        text = text ? text : "";
        title = hp_xasprintf("%s prompt", display);
    } else if (command != NULL) {
        text = command;
        lang = "sh";
        title = hp_xasprintf("Run tool: %s", tool ? tool : "shell");
    } else {
        if (args_text == NULL && args != NULL)
            args_text = hp_xstrdup(json_object_to_json_string_ext(
                args, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        text = args_text ? args_text : "{}";
        lang = "json";
        title = hp_xasprintf("Run tool: %s", tool ? tool : "unknown");
    }
    if (why == NULL && command != NULL && json_object_is_type(args, json_type_object))
        why = hp_json_str(args, "description");
    message = hp__message(display, event, prompt ? NULL : tool, command != NULL ? why : NULL, lang,
                          text, cwd);

    body = json_object_new_object();
    hp__set_cut(body, "title", title, 500);
    hp_json_set_str(body, "message", message);
    decisions = json_object_new_array();
    json_object_array_add(decisions, hp__decision("allow", "Allow", false));
    json_object_array_add(decisions,
                          hp__decision("deny", "Deny", opts->on_timeout != HP_VERDICT_ASK));
    if (opts->on_timeout == HP_VERDICT_ASK)
        json_object_array_add(decisions, hp__decision("ask", "Ask at the terminal", true));
    json_object_object_add(body, "decisions", decisions);
    hp_json_set_str(body, "event", event);
    hp__set_cut(body, "tool_name", prompt ? NULL : tool, HP__TOOL_MAX);
    hp__set_cut(body, "command", prompt ? NULL : command, HP__COMMAND_MAX);
    if (hp__session(session) != NULL)
        hp_json_set_str(body, "session_id", session);
    if (agent == HP_HOOK_CLAUDE_CODE) {
        /* One tool call, one approval: a retried hook finds the first. */
        const char *use = hp_json_str(input, "tool_use_id");
        if (use != NULL && strlen(use) <= 100) {
            char *rid = hp_xasprintf("claude-code:%s", use);
            hp_json_set_str(body, "request_id", rid);
            free(rid);
        }
    }
    hp_json_set_str(body, "response_format", out->format);
    json_object_object_add(body, "timeout_seconds", json_object_new_int(opts->timeout_seconds));
    hp_json_set_str(body, "agent_name", display);
    meta = json_object_new_object();
    hp_json_set_str(meta, "client", hp__agents[agent].name);
    if (cwd != NULL)
        hp__set_cut(meta, "cwd", cwd, 1000);
    json_object_object_add(body, "metadata", meta);
    if (opts->wait_block)
        hp_json_set_str(body, "wait", "block");
    out->body = body;
    free(title);
    free(message);
    free(args_text);
    free(why_text);
    return HP_OK;
}
