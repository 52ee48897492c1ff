/*
 * cli_hook_install: `holdpoint hook install <agent>` adds the Holdpoint hook
 * to that agent's settings file and leaves everything else in it alone:
 *
 *   claude-code  ~/.claude/settings.json (--project: ./.claude/settings.json)
 *                hooks.<Event>[] = {matcher, hooks: [{type: command, command, timeout}]}
 *                or, with --http URL, {type: http, url, timeout, headers, allowedEnvVars}
 *   codex        ~/.codex/hooks.json (--project: ./.codex/hooks.json)
 *                hooks.<Event>[] = {matcher?, hooks: [{type: command, command, timeout}]}
 *   cursor       ~/.cursor/hooks.json (--project: ./.cursor/hooks.json)
 *                {version: 1, hooks.<event>[] = {command}}
 *   copilot      ./.github/hooks/holdpoint.json (the repository's hooks)
 *                {version: 1, hooks.<event>[] = {type: command, bash, timeoutSec}}
 *
 * The file is read as JSON (a missing file is an empty object; one that is
 * not a JSON object is refused and left untouched), the entry is added — or
 * an earlier Holdpoint entry for the same agent and event replaced — and the
 * file is written whole to a temporary name and renamed over, so a crash
 * never leaves half a file. Running it twice changes nothing. The agent's
 * hook timeout is the hook's own plus a margin, so the hook always answers
 * first.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "hp_hook.h"
#include "hp_json.h"
#include "hp_mem.h"
#include "hp_str.h"

/* Seconds the agent waits beyond the hook's own timeout: the hook's margin
 * (8 s for the server's timeout default) and slack. */
#define INSTALL_AGENT_MARGIN 30

static const char install__usage[] =
    "usage: holdpoint hook install <agent> [--settings PATH] [--project] [--event EVENT]\n"
    "                              [--matcher PATTERN] [--timeout SECONDS] [--http URL] [--json]\n"
    "\n"
    "Adds the Holdpoint hook to the agent's settings, keeping every other entry:\n"
    "  claude-code  ~/.claude/settings.json   (--project: .claude/settings.json)\n"
    "  codex        ~/.codex/hooks.json       (--project: .codex/hooks.json)\n"
    "  cursor       ~/.cursor/hooks.json      (--project: .cursor/hooks.json)\n"
    "  copilot      .github/hooks/holdpoint.json\n"
    "--event       the hook event (default: PreToolUse, PermissionRequest,\n"
    "              beforeShellExecution, preToolUse)\n"
    "--matcher     which tools (Claude Code and Codex; Claude Code's default: Bash)\n"
    "--timeout     seconds to wait for a person, 5 to 3600 (default 55)\n"
    "--http URL    Claude Code only: an http hook calling URL (Holdpoint's\n"
    "              /v1/hooks/claude-code) instead of a local command\n";

static const struct option install__opts[] = {
    {"settings", required_argument, NULL, HP_OPT_SETTINGS},
    {"project", no_argument, NULL, HP_OPT_PROJECT},
    {"event", required_argument, NULL, HP_OPT_EVENT},
    {"matcher", required_argument, NULL, HP_OPT_MATCHER},
    {"timeout", required_argument, NULL, HP_OPT_TIMEOUT},
    {"http", required_argument, NULL, HP_OPT_HTTP},
    {"json", no_argument, NULL, HP_OPT_JSON},
    {"help", no_argument, NULL, HP_OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* The settings file for agent (heap). The user's home comes from HOME, as
 * every one of these agents finds its own settings. */
static char *install__path(hp_hook_agent agent, const hp_cli_args *a)
{
    static const char *const rel[] = {[HP_HOOK_CLAUDE_CODE] = ".claude/settings.json",
                                      [HP_HOOK_CODEX] = ".codex/hooks.json",
                                      [HP_HOOK_CURSOR] = ".cursor/hooks.json",
                                      [HP_HOOK_COPILOT] = ".github/hooks/holdpoint.json"};
    const char *home = hp_config_env("HOME");

    if (hp_cli_has(a, HP_OPT_SETTINGS))
        return hp_xstrdup(hp_cli_get(a, HP_OPT_SETTINGS));
    if (hp_cli_has(a, HP_OPT_PROJECT) || agent == HP_HOOK_COPILOT || home == NULL || home[0] != '/')
        return hp_xstrdup(rel[agent]);
    return hp_xasprintf("%s/%s", home, rel[agent]);
}

/* This program's absolute path, quoted for a shell when it needs it (heap). */
static char *install__self(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

    if (n <= 0)
        return hp_xstrdup("holdpoint");
    buf[n] = '\0';
    if (strpbrk(buf, " \t'\"$`\\") != NULL) {
        if (strchr(buf, '\'') != NULL)
            return hp_xstrdup("holdpoint"); /* unquotable here: rely on PATH */
        return hp_xasprintf("'%s'", buf);
    }
    return hp_xstrdup(buf);
}

/* Reads path as a JSON object (a new empty one when the file does not
 * exist). NULL with err set when it exists but is not a JSON object. */
static json_object *install__read(const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    char *text;
    long n;
    json_object *doc = NULL;
    char perr[128];

    if (f == NULL) {
        if (errno == ENOENT)
            return json_object_new_object();
        hp_err_set(err, errcap, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = hp_xmalloc((size_t)(n > 0 ? n : 0) + 1);
    n = (long)fread(text, 1, (size_t)(n > 0 ? n : 0), f);
    fclose(f);
    text[n] = '\0';
    if (n == 0 || strspn(text, " \t\r\n") == (size_t)n) {
        free(text);
        return json_object_new_object();
    }
    if (hp_json_parse(text, (size_t)n, &doc, perr, sizeof(perr)) != HP_OK ||
        !json_object_is_type(doc, json_type_object)) {
        hp_err_set(err, errcap, "%s is not a JSON object; left unchanged", path);
        json_object_put(doc);
        doc = NULL;
    }
    free(text);
    return doc;
}

/* mkdir -p of path's directory. */
static bool install__mkdirs(const char *path)
{
    char *dir = hp_xstrdup(path), *slash = strrchr(dir, '/');
    bool ok = true;

    if (slash != NULL) {
        *slash = '\0';
        for (char *p = dir + 1; ok && *p; p++) {
            if (*p != '/')
                continue;
            *p = '\0';
            ok = mkdir(dir, 0755) == 0 || errno == EEXIST;
            *p = '/';
        }
        if (ok && dir[0] != '\0')
            ok = mkdir(dir, 0755) == 0 || errno == EEXIST;
    }
    free(dir);
    return ok;
}

/* Writes doc to path through a temporary file and a rename, keeping the
 * mode of an existing file. */
static bool install__write(const char *path, json_object *doc, char *err, size_t errcap)
{
    char *tmp = hp_xasprintf("%s.tmp.%ld", path, (long)getpid());
    struct stat st;
    mode_t mode = stat(path, &st) == 0 ? st.st_mode & 07777 : 0644;
    FILE *f;
    bool ok;

    if (!install__mkdirs(path)) {
        hp_err_set(err, errcap, "cannot create the directory of %s: %s", path, strerror(errno));
        free(tmp);
        return false;
    }
    f = fopen(tmp, "wb");
    ok = f != NULL;
    if (ok) {
        ok = fputs(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
                                                           JSON_C_TO_STRING_SPACED |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE),
                   f) >= 0 &&
             fputc('\n', f) != EOF;
        ok = fclose(f) == 0 && ok;
    }
    ok = ok && chmod(tmp, mode) == 0 && rename(tmp, path) == 0;
    if (!ok) {
        hp_err_set(err, errcap, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return ok;
}

/* The member key of o as an array, created when missing; NULL when it holds
 * something else. */
static json_object *install__array(json_object *o, const char *key)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) || v == NULL) {
        v = json_object_new_array();
        json_object_object_add(o, key, v);
    }
    return json_object_is_type(v, json_type_array) ? v : NULL;
}

/* The member key of o as an object, created when missing. */
static json_object *install__object(json_object *o, const char *key)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) || v == NULL) {
        v = json_object_new_object();
        json_object_object_add(o, key, v);
    }
    return json_object_is_type(v, json_type_object) ? v : NULL;
}

/* True when handler h is one of ours: its command runs `… hook <agent>
 * --event <event>`, or it calls the hook URL — so switching between the
 * command and the http form replaces, never asks twice. */
static bool install__ours(json_object *h, const char *needle)
{
    const char *cmd = hp_json_str(h, "command");
    const char *bash = hp_json_str(h, "bash");
    const char *url = hp_json_str(h, "url");

    return (cmd && strstr(cmd, needle)) || (bash && strstr(bash, needle)) ||
           (url && strstr(url, "/v1/hooks/claude-code"));
}

/* Puts handler into arr (a list of handlers, or with grouped, of matcher
 * groups holding handlers): replaces our earlier one, else appends. *changed
 * false when an equal one is there already. */
static void install__merge(json_object *arr, bool grouped, const char *matcher,
                           json_object *handler, const char *needle, bool *changed)
{
    char *want = hp_json_canonical(handler);

    *changed = true;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *g = json_object_array_get_idx(arr, i);
        json_object *hs = grouped ? json_object_object_get(g, "hooks") : NULL;
        size_t n =
            grouped ? (json_object_is_type(hs, json_type_array) ? json_object_array_length(hs) : 0)
                    : 1;
        for (size_t k = 0; k < n; k++) {
            json_object *h = grouped ? json_object_array_get_idx(hs, k) : g;
            char *have;
            if (!json_object_is_type(h, json_type_object) || !install__ours(h, needle))
                continue;
            have = hp_json_canonical(h);
            *changed =
                strcmp(have, want) != 0 || (grouped && matcher != NULL &&
                                            (hp_json_str(g, "matcher") == NULL ||
                                             strcmp(hp_json_str(g, "matcher"), matcher) != 0));
            free(have);
            if (*changed) {
                if (grouped) {
                    json_object_array_put_idx(hs, k, json_object_get(handler));
                    if (matcher != NULL)
                        json_object_object_add(g, "matcher", json_object_new_string(matcher));
                } else {
                    json_object_array_put_idx(arr, i, json_object_get(handler));
                }
            }
            free(want);
            return;
        }
    }
    if (grouped) {
        json_object *g = json_object_new_object(), *hs = json_object_new_array();
        if (matcher != NULL)
            json_object_object_add(g, "matcher", json_object_new_string(matcher));
        json_object_array_add(hs, json_object_get(handler));
        json_object_object_add(g, "hooks", hs);
        json_object_array_add(arr, g);
    } else {
        json_object_array_add(arr, json_object_get(handler));
    }
    free(want);
}

int hp_cli_hook_install(int argc, char **argv)
{
    hp_cli_args a = {.command = "hook install"};
    const char *agent_arg, *event, *matcher;
    long long timeout = 55;
    hp_hook_agent agent;
    json_object *doc = NULL, *hooks, *arr, *handler, *res;
    char *path = NULL, *self = NULL, *command = NULL, *needle = NULL;
    char err[HP_ERRBUF];
    bool changed = false, grouped;
    int st;

    /* The agent comes first: `holdpoint hook install claude-code --project`. */
    agent_arg = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    if (agent_arg != NULL) {
        argv[1] = argv[0];
        argc--;
        argv++;
    }
    if ((st = hp_cli_parse(argc, argv, install__opts, install__usage, &a)) >= 0)
        return st;
    if (agent_arg == NULL)
        return hp_cli_usage_error(a.command, "name the agent: claude-code, codex, cursor, copilot");
    if (!hp_hook_agent_parse(agent_arg, &agent))
        return hp_cli_word_error(a.command, "unknown agent", agent_arg);
    if ((st = hp_cli_int(&a, HP_OPT_TIMEOUT, 5, 3600, &timeout)) >= 0)
        return st;
    event =
        hp_cli_has(&a, HP_OPT_EVENT) ? hp_cli_get(&a, HP_OPT_EVENT) : hp_hook_default_event(agent);
    if (hp_hook_format(agent, event) == NULL)
        return hp_cli_word_error(a.command, "this agent's hook cannot gate event", event);
    if (hp_cli_has(&a, HP_OPT_HTTP) && agent != HP_HOOK_CLAUDE_CODE)
        return hp_cli_usage_error(a.command, "--http is for claude-code only");
    if (hp_cli_has(&a, HP_OPT_HTTP) && !hp_str_startswith(hp_cli_get(&a, HP_OPT_HTTP), "http"))
        return hp_cli_usage_error(a.command, "--http needs an http:// or https:// URL");
    matcher = hp_cli_get(&a, HP_OPT_MATCHER);
    if (matcher == NULL && agent == HP_HOOK_CLAUDE_CODE && strcmp(event, "UserPromptSubmit") != 0)
        matcher = "Bash";

    path = install__path(agent, &a);
    doc = install__read(path, err, sizeof(err));
    if (doc == NULL) {
        st = hp_cli_fail(&a, HP_ERR_INTERNAL, err, NULL);
        goto out;
    }
    self = install__self();
    command = hp_xasprintf("%s hook %s --event %s --timeout %lld", self, hp_hook_agent_name(agent),
                           event, timeout);
    needle = hp_xasprintf(" hook %s --event %s ", hp_hook_agent_name(agent), event);
    handler = json_object_new_object();
    switch (agent) {
    case HP_HOOK_CLAUDE_CODE:
    case HP_HOOK_CODEX:
        if (hp_cli_has(&a, HP_OPT_HTTP)) {
            const char *url = hp_cli_get(&a, HP_OPT_HTTP);
            json_object *h = json_object_new_object(), *env = json_object_new_array();
            char *full = strstr(url, "timeout_seconds=") != NULL
                             ? hp_xstrdup(url)
                             : hp_xasprintf("%s%stimeout_seconds=%lld", url,
                                            strchr(url, '?') ? "&" : "?", timeout);
            hp_json_set_str(handler, "type", "http");
            hp_json_set_str(handler, "url", full);
            hp_json_set_str(h, "Authorization", "Bearer $HOLDPOINT_API_KEY");
            json_object_object_add(handler, "headers", h);
            json_object_array_add(env, json_object_new_string("HOLDPOINT_API_KEY"));
            json_object_object_add(handler, "allowedEnvVars", env);
            free(full);
        } else {
            hp_json_set_str(handler, "type", "command");
            hp_json_set_str(handler, "command", command);
        }
        json_object_object_add(handler, "timeout",
                               json_object_new_int((int)timeout + INSTALL_AGENT_MARGIN));
        grouped = true;
        break;
    case HP_HOOK_CURSOR:
        hp_json_set_str(handler, "command", command);
        grouped = false;
        break;
    case HP_HOOK_COPILOT:
    default:
        hp_json_set_str(handler, "type", "command");
        hp_json_set_str(handler, "bash", command);
        json_object_object_add(handler, "timeoutSec",
                               json_object_new_int((int)timeout + INSTALL_AGENT_MARGIN));
        grouped = false;
        break;
    }
    if (agent == HP_HOOK_CURSOR || agent == HP_HOOK_COPILOT) {
        if (!json_object_object_get_ex(doc, "version", NULL))
            json_object_object_add(doc, "version", json_object_new_int(1));
    }
    hooks = install__object(doc, "hooks");
    arr = hooks ? install__array(hooks, event) : NULL;
    if (arr == NULL) {
        hp_err_set(err, sizeof(err), "%s: hooks.%s is not what the agent expects; left unchanged",
                   path, event);
        json_object_put(handler);
        st = hp_cli_fail(&a, HP_ERR_INTERNAL, err, NULL);
        goto out;
    }
    install__merge(arr, grouped, grouped ? matcher : NULL, handler, needle, &changed);
    if (changed && !install__write(path, doc, err, sizeof(err))) {
        json_object_put(handler);
        st = hp_cli_fail(&a, HP_ERR_INTERNAL, err, NULL);
        goto out;
    }
    res = json_object_new_object();
    hp_json_set_str(res, "agent", hp_hook_agent_name(agent));
    hp_json_set_str(res, "settings", path);
    hp_json_set_str(res, "event", event);
    json_object_object_add(res, "entry", handler);
    json_object_object_add(res, "changed", json_object_new_boolean(changed));
    st = hp_cli_emit(&a, res);
out:
    json_object_put(doc);
    free(needle);
    free(command);
    free(self);
    free(path);
    return st;
}
