/*
 * hp_render: seed 004's response renderers — an approval's outcome in the
 * exact JSON a coding agent's hook prints. Seven formats:
 *
 *   raw                              Holdpoint's own shape
 *   claude_code.pretooluse           hookSpecificOutput.permissionDecision allow/deny/ask
 *   claude_code.userpromptsubmit     {} to go on, or decision "block" + reason
 *   copilot_cli.pretooluse           permissionDecision allow/deny/ask
 *   copilot_cli.permissionrequest    behavior allow/deny (+ message), {} to ask
 *   codex.permission                 hookSpecificOutput.decision.behavior allow/deny
 *   cursor.beforeshellexecution      permission, user_message, agent_message
 *
 * Field names and sources: docs/integrations/. The outcome becomes a verdict
 * first (allow, deny or ask) and the verdict the agent's JSON; anything that
 * is not clearly an allow — an unknown decision key, a reply, a cancel, an
 * expiry without a default, a failure — is a deny, never a silent allow.
 * Pure; any thread.
 */
#ifndef HP_RENDER_H
#define HP_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/* The formats, NULL-terminated, "raw" first. */
extern const char *const hp_render_formats[];

/* True when format is one of hp_render_formats. */
bool hp_render_format_ok(const char *format);

typedef enum {
    HP_VERDICT_DENY = 0,
    HP_VERDICT_ALLOW,
    HP_VERDICT_ASK,
} hp_verdict;

/* "allow", "deny" or "ask". */
const char *hp_verdict_name(hp_verdict v);

/* An approval's outcome, as much as the renderers need. */
typedef struct hp_render_in {
    const char *status;       /* selected_option, custom_instruction, expired, cancelled, pending */
    const char *decision_key; /* the chosen option's value, or NULL */
    const char *decision_label; /* its label, or NULL */
    const char *custom_instruction;
    bool is_timeout_default;
    const char *decided_by; /* the deciding person's name, or NULL */
} hp_render_in;

/* The verdict of an outcome: a chosen key that names an allow ("allow",
 * "approve", "yes", …) allows, one that names an ask ("ask", "defer")
 * asks, every other outcome denies. Keys compare without case. */
hp_verdict hp_render_verdict(const hp_render_in *in);

/* The verdict of a bare decision key (the same word lists). */
hp_verdict hp_render_key_verdict(const char *key);

/* A short sentence for people and for the model: who decided what, the
 * reply, or why there was no decision. Writes at most cap bytes. */
void hp_render_reason(const hp_render_in *in, char *out, size_t cap);

/* The outcome in format (new reference), or NULL for an unknown format. */
json_object *hp_render(const char *format, const hp_render_in *in);

/* A verdict with a given reason in format (new reference), or NULL for an
 * unknown format: what the hook client prints when it must fall back (no
 * answer in time, a failure). */
json_object *hp_render_verdict_json(const char *format, hp_verdict v, const char *reason);

/* The exit status a hook command should end with after printing format's
 * JSON for v: 2 when Claude Code must block (a deny, or anything but an
 * allow for a prompt; Claude Code blocks on exit 2 even if its JSON were
 * lost), 0 otherwise (every agent reads the JSON on 0). */
int hp_render_exit_code(const char *format, hp_verdict v);

#endif
