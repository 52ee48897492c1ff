/*
 * hp_render: seed 004's response renderers; see hp_render.h. Each format is
 * one small function from a verdict and a reason to the agent's JSON, so a
 * decision and a fallback render through the same code.
 */
#include <string.h>

#include "hp_json.h"
#include "hp_render.h"
#include "hp_str.h"

const char *const hp_render_formats[] = {"raw",
                                         "claude_code.pretooluse",
                                         "claude_code.userpromptsubmit",
                                         "copilot_cli.pretooluse",
                                         "copilot_cli.permissionrequest",
                                         "codex.permission",
                                         "cursor.beforeshellexecution",
                                         NULL};

bool hp_render_format_ok(const char *format)
{
    for (int i = 0; format != NULL && hp_render_formats[i]; i++)
        if (strcmp(format, hp_render_formats[i]) == 0)
            return true;
    return false;
}

const char *hp_verdict_name(hp_verdict v)
{
    return v == HP_VERDICT_ALLOW ? "allow" : v == HP_VERDICT_ASK ? "ask" : "deny";
}

static bool hp__in_list(const char *key, const char *const *words)
{
    for (int i = 0; words[i]; i++)
        if (hp_streq_ci(key, words[i]))
            return true;
    return false;
}

hp_verdict hp_render_key_verdict(const char *key)
{
    static const char *const allow[] = {
        "allow",     "allowed",    "approve",    "approved", "yes",          "y",
        "ok",        "accept",     "accepted",   "proceed",  "continue",     "confirm",
        "confirmed", "allow_once", "allow-once", "always",   "allow_always", "allow-always",
        "run",       "go",         NULL};
    static const char *const ask[] = {"ask", "defer", "ask_user", "ask-user", "local", NULL};

    if (key == NULL)
        return HP_VERDICT_DENY;
    if (hp__in_list(key, allow))
        return HP_VERDICT_ALLOW;
    if (hp__in_list(key, ask))
        return HP_VERDICT_ASK;
    return HP_VERDICT_DENY; /* deny, reject, no, block … and anything unknown */
}

hp_verdict hp_render_verdict(const hp_render_in *in)
{
    bool chosen = in->status != NULL && (strcmp(in->status, "selected_option") == 0 ||
                                         strcmp(in->status, "expired") == 0);
    if (!chosen || in->decision_key == NULL)
        return HP_VERDICT_DENY;
    return hp_render_key_verdict(in->decision_key);
}

void hp_render_reason(const hp_render_in *in, char *out, size_t cap)
{
    const char *st = in->status ? in->status : "pending";
    const char *by = in->decided_by;
    const char *label = in->decision_label ? in->decision_label : in->decision_key;

    if (strcmp(st, "custom_instruction") == 0) {
        (void)hp_fmt(out, cap, "%s replied via Holdpoint: %s", by ? by : "The reviewer",
                     in->custom_instruction ? in->custom_instruction : "");
    } else if (strcmp(st, "expired") == 0 && label != NULL) {
        (void)hp_fmt(out, cap, "No decision in time via Holdpoint; the default \"%s\" applies",
                     label);
    } else if (strcmp(st, "expired") == 0) {
        (void)hp_fmt(out, cap, "No decision in time via Holdpoint");
    } else if (strcmp(st, "cancelled") == 0) {
        (void)hp_fmt(out, cap, "The approval was cancelled");
    } else if (strcmp(st, "selected_option") == 0) {
        hp_verdict v = hp_render_verdict(in);
        const char *verb = v == HP_VERDICT_ALLOW ? "Approved"
                           : v == HP_VERDICT_ASK ? "Deferred"
                                                 : "Denied";
        if (by != NULL)
            (void)hp_fmt(out, cap, "%s by %s via Holdpoint (\"%s\")", verb, by, label ? label : "");
        else
            (void)hp_fmt(out, cap, "%s via Holdpoint (\"%s\")", verb, label ? label : "");
    } else {
        (void)hp_fmt(out, cap, "No decision yet via Holdpoint");
    }
}

/* ---- the formats ------------------------------------------------------------ */

static json_object *hp__claude_pretooluse(hp_verdict v, const char *reason)
{
    json_object *o = json_object_new_object(), *h = json_object_new_object();

    hp_json_set_str(h, "hookEventName", "PreToolUse");
    hp_json_set_str(h, "permissionDecision", hp_verdict_name(v));
    hp_json_set_str(h, "permissionDecisionReason", reason);
    json_object_object_add(o, "hookSpecificOutput", h);
    return o;
}

static json_object *hp__claude_userpromptsubmit(hp_verdict v, const char *reason)
{
    json_object *o = json_object_new_object();

    /* The only decision is "block"; omitting it lets the prompt through.
     * There is no ask for a prompt: anything but an allow blocks. */
    if (v != HP_VERDICT_ALLOW) {
        hp_json_set_str(o, "decision", "block");
        hp_json_set_str(o, "reason", reason);
    }
    return o;
}

static json_object *hp__copilot_pretooluse(hp_verdict v, const char *reason)
{
    json_object *o = json_object_new_object();

    hp_json_set_str(o, "permissionDecision", hp_verdict_name(v));
    hp_json_set_str(o, "permissionDecisionReason", reason);
    return o;
}

static json_object *hp__copilot_permissionrequest(hp_verdict v, const char *reason)
{
    json_object *o = json_object_new_object();

    /* {} falls through to Copilot's own permission prompt: that is ask. */
    if (v == HP_VERDICT_ASK)
        return o;
    hp_json_set_str(o, "behavior", hp_verdict_name(v));
    if (v == HP_VERDICT_DENY)
        hp_json_set_str(o, "message", reason);
    return o;
}

static json_object *hp__codex_permission(hp_verdict v, const char *reason)
{
    json_object *o = json_object_new_object(), *h, *d;

    /* No verdict lets Codex show its own approval prompt: that is ask. */
    if (v == HP_VERDICT_ASK)
        return o;
    h = json_object_new_object();
    d = json_object_new_object();
    hp_json_set_str(h, "hookEventName", "PermissionRequest");
    hp_json_set_str(d, "behavior", hp_verdict_name(v));
    if (v == HP_VERDICT_DENY)
        hp_json_set_str(d, "message", reason);
    json_object_object_add(h, "decision", d);
    json_object_object_add(o, "hookSpecificOutput", h);
    return o;
}

static json_object *hp__cursor_shell(hp_verdict v, const char *reason)
{
    json_object *o = json_object_new_object();

    hp_json_set_str(o, "permission", hp_verdict_name(v));
    hp_json_set_str(o, "user_message", reason);
    hp_json_set_str(o, "agent_message", reason);
    return o;
}

json_object *hp_render_verdict_json(const char *format, hp_verdict v, const char *reason)
{
    static const struct {
        const char *name;
        json_object *(*fn)(hp_verdict, const char *);
    } table[] = {
        {"claude_code.pretooluse", hp__claude_pretooluse},
        {"claude_code.userpromptsubmit", hp__claude_userpromptsubmit},
        {"copilot_cli.pretooluse", hp__copilot_pretooluse},
        {"copilot_cli.permissionrequest", hp__copilot_permissionrequest},
        {"codex.permission", hp__codex_permission},
        {"cursor.beforeshellexecution", hp__cursor_shell},
    };

    if (format == NULL)
        return NULL;
    if (strcmp(format, "raw") == 0) {
        json_object *o = json_object_new_object();
        hp_json_set_str(o, "verdict", hp_verdict_name(v));
        hp_json_set_str(o, "reason", reason);
        return o;
    }
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(format, table[i].name) == 0)
            return table[i].fn(v, reason);
    return NULL;
}

json_object *hp_render(const char *format, const hp_render_in *in)
{
    char reason[600];
    hp_verdict v = hp_render_verdict(in);
    json_object *o;

    hp_render_reason(in, reason, sizeof(reason));
    o = hp_render_verdict_json(format, v, reason);
    if (o != NULL && strcmp(format, "raw") == 0) {
        /* raw also carries the outcome itself. */
        hp_json_set_str(o, "status", in->status);
        hp_json_set_str(o, "decision_key", in->decision_key);
        hp_json_set_str(o, "decision_label", in->decision_label);
        hp_json_set_str(o, "response_text", in->custom_instruction);
        json_object_object_add(o, "is_timeout_default",
                               json_object_new_boolean(in->is_timeout_default));
    }
    return o;
}

int hp_render_exit_code(const char *format, hp_verdict v)
{
    if (format != NULL && hp_str_startswith(format, "claude_code.") && v != HP_VERDICT_ALLOW &&
        !(v == HP_VERDICT_ASK && strcmp(format, "claude_code.pretooluse") == 0))
        return 2;
    return 0;
}
