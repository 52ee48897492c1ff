/*
 * hp_hook: what a coding agent's hook input becomes — the approval that asks
 * a person (seed 004's form of POST /v1/approvals) and the renderer its
 * answer is printed with. One function per agent reads the JSON the agent
 * writes to a hook's stdin (or POSTs to an HTTP hook):
 *
 *   claude-code  PreToolUse, UserPromptSubmit, PermissionRequest
 *   codex        PermissionRequest, PreToolUse
 *   cursor       beforeShellExecution, beforeMCPExecution
 *   copilot      preToolUse, permissionRequest (camelCase or PascalCase)
 *
 * Field names and sources: docs/integrations/. Used by `holdpoint hook` and
 * by POST /v1/hooks/claude-code. Pure; any thread.
 */
#ifndef HP_HOOK_H
#define HP_HOOK_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "hp_err.h"
#include "hp_render.h"

typedef enum {
    HP_HOOK_CLAUDE_CODE = 0,
    HP_HOOK_CODEX,
    HP_HOOK_CURSOR,
    HP_HOOK_COPILOT,
} hp_hook_agent;

/* "claude-code", "codex", "cursor" or "copilot" ("copilot-cli" too) into
 * *out; false for anything else. */
bool hp_hook_agent_parse(const char *name, hp_hook_agent *out);
/* The canonical name ("claude-code", …). */
const char *hp_hook_agent_name(hp_hook_agent a);
/* The event a hook of agent reads when its input names none: PreToolUse,
 * PermissionRequest, beforeShellExecution, preToolUse. */
const char *hp_hook_default_event(hp_hook_agent a);

/* Choices the caller makes about the approval. */
typedef struct hp_hook_opts {
    int timeout_seconds;   /* the approval's timeout (seed 004: 5..86400) */
    hp_verdict on_timeout; /* HP_VERDICT_DENY or HP_VERDICT_ASK: the decision marked default */
    const char *event;     /* the event when the input names none (Copilot's camelCase), or NULL */
    bool wait_block;       /* add "wait": "block" */
} hp_hook_opts;

/* What an input asks. Strings are borrowed from the input, except the built
 * title and message, which live in the body. */
typedef struct hp_hook_request {
    const char *event;  /* as the agent names it */
    const char *format; /* the renderer of the answer */
    json_object *body;  /* owned: the POST /v1/approvals body */
} hp_hook_request;

/* Reads input (the agent's hook JSON) and builds the approval: title and
 * message for the reviewer (the command in a code block, the tool's input,
 * the working directory), decisions allow and deny (plus ask when
 * opts->on_timeout is ask) with the opts->on_timeout one marked
 * is_default_on_timeout, event, tool_name, command, session_id, a request_id
 * when the agent gives a unique call id (Claude Code's tool_use_id), the
 * response_format, timeout_seconds and agent_name. HP_ERR_INVALID_PAYLOAD
 * with a reason when input is not an object or names an event this agent's
 * hook cannot gate. *out->body is a new reference (caller puts). */
HP_MUSTCHECK hp_err hp_hook_build(hp_hook_agent agent, json_object *input, const hp_hook_opts *opts,
                                  hp_hook_request *out, char *err, size_t errcap);

/* The renderer for agent's event (NULL when the event cannot be gated):
 * what a fallback prints when the input could not be read. */
const char *hp_hook_format(hp_hook_agent agent, const char *event);

#endif
