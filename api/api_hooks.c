/*
 * api_hooks: POST /v1/hooks/claude-code, the URL a Claude Code `type:
 * "http"` hook calls, so no local binary is needed. The body is the hook
 * input exactly as Claude Code sends it (PreToolUse, UserPromptSubmit or
 * PermissionRequest); the handler asks a person with the approval
 * `holdpoint hook claude-code` would make (hp_hook_build), holds the request
 * until the decision or the approval's deadline, and answers 200 with the
 * decision JSON Claude Code reads.
 *
 * Claude Code treats a non-2xx answer, a connection failure or its own
 * timeout as a non-blocking error and lets the tool run. So this route never
 * answers an error status: bad input, a bad key, an overloaded server —
 * every failure is a 200 carrying the default verdict (deny, or ask with
 * ?default=ask) in the event's format, the reason in the JSON, and the
 * error code in the X-Holdpoint-Error header. The approval's timeout is kept
 * inside the server's wait cap so the answer always comes in time (the
 * hook's own `timeout` must be longer; see docs/integrations/claude-code.md).
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "hp_approval.h"
#include "hp_approval_ops.h"
#include "hp_hook.h"
#include "hp_json.h"
#include "hp_log.h"
#include "hp_str.h"
#include "hp_time.h"

/* The approval's timeout when the URL names none, and how far inside the
 * server's wait cap (HOLDPOINT_MAX_WAIT_SECONDS) it is kept. */
#define HOOK_DEFAULT_TIMEOUT_S 55
#define HOOK_CAP_MARGIN_S      3
/* Extra wait after the approval's deadline for the close (the timeout
 * default) to be in. */
#define HOOK_GRACE_MS 2000

/* What every answer needs: the renderer and the verdict of a failure. */
typedef struct hook_answer {
    const char *format; /* NULL until the event is known */
    hp_verdict fallback;
    char timeout_hdr[16];
} hook_answer;

static void hook__send(hp_req *req, const hook_answer *a, json_object *doc, const char *error)
{
    const char *h[] = {"X-Holdpoint-Timeout-Seconds", a->timeout_hdr,
                       error ? "X-Holdpoint-Error" : NULL, error, NULL};

    api_send_json_h(req, 200, doc, a->timeout_hdr[0] ? h : h + 2);
}

/* The default verdict with why. Without a known event the answer is the
 * top-level {"decision": "block", "reason"} every Claude Code event with
 * decision control reads (PreToolUse reads it as a deny). */
static void hook__fail(hp_req *req, const hook_answer *a, hp_err e, const char *why)
{
    char text[HP_ERRBUF + 64];
    const char *format = a->format ? a->format : "claude_code.userpromptsubmit";
    hp_verdict v = a->format ? a->fallback : HP_VERDICT_DENY;
    json_object *doc;

    (void)hp_fmt(text, sizeof(text), "Holdpoint: %s; %s by default", why,
                 v == HP_VERDICT_ASK ? "asking" : "denied");
    hp_log_info("claude code hook fell back to its default", "error", hp_err_wire(e), "reason", why,
                "verdict", hp_verdict_name(v));
    doc = hp_render_verdict_json(format, v, text);
    hook__send(req, a, doc, hp_err_wire(e));
    json_object_put(doc);
}

/* A failure a lower layer captured (api_send_error_h with capture_errors). */
static void hook__fail_captured(hp_req *req, const hook_answer *a)
{
    hook__fail(req, a, req->captured != HP_OK ? req->captured : HP_ERR_INTERNAL,
               req->captured_msg[0] ? req->captured_msg : "the approval could not be made");
}

/* timeout_seconds (5..3600) and default (deny|ask) from the query string;
 * false with why when one is bad. */
static bool hook__query(hp_req *req, hook_answer *a, int *timeout_s, char *why, size_t cap)
{
    const char *t = api_query(req, "timeout_seconds"), *d = api_query(req, "default");
    long long v = HOOK_DEFAULT_TIMEOUT_S;
    int max = req->app->cfg->max_wait_seconds - HOOK_CAP_MARGIN_S;

    if (d != NULL && strcmp(d, "ask") == 0)
        a->fallback = HP_VERDICT_ASK;
    else if (d != NULL && strcmp(d, "deny") != 0) {
        (void)hp_fmt(why, cap, "default must be deny or ask");
        return false;
    }
    if (t != NULL && !hp_parse_ll(t, 5, 3600, &v)) {
        (void)hp_fmt(why, cap, "timeout_seconds must be a whole number from 5 to 3600");
        return false;
    }
    /* The answer must come before the server's wait cap ends. */
    if (max < 5)
        max = 5;
    *timeout_s = v < max ? (int)v : max;
    (void)hp_fmt(a->timeout_hdr, sizeof(a->timeout_hdr), "%d", *timeout_s);
    return true;
}

/* A team key without X-Agent-Id may name its project in the query string
 * (project_id or project), as in a body. False when the answer was
 * captured (404). */
static bool hook__project(hp_req *req)
{
    const char *hdr = mg_get_header(req->conn, "X-Agent-Id");
    bool selected = false;

    if (req->auth.key_agent_scoped || (hdr != NULL && hdr[0] != '\0') ||
        (api_query(req, "project_id") == NULL && api_query(req, "project") == NULL))
        return true;
    req->auth.agent_id = NULL;
    return api_project_select(req, NULL, &selected) == HP_OK && selected;
}

/* Withdraws an approval nobody will hear the answer to (the server is
 * stopping mid-wait), so no reviewer decides it in vain. */
static void hook__withdraw(hp_req *req, const hp_approval_row *row)
{
    hp_decision d = {.kind = HP_DECIDE_CANCEL,
                     .option_index = -1,
                     .actor_type = "agent",
                     .actor_id = req->auth.agent_id,
                     .surface = "hook"};
    hp_approval_row out;
    hp_dbconn *c;

    /* Decided meanwhile, or the database gone: nothing left to withdraw
     * or nothing to do about it; the hook answers either way. */
    if (api_db(req, &c) == HP_OK &&
        hp_approval_decide(c, req->pool, &req->app->env, req->auth.team_id, row->id, &d, &out,
                           req->err, sizeof(req->err)) != HP_OK)
        hp_log_debug("the approval was not withdrawn", "reason", req->err);
}

void api_hooks_claude_code(hp_req *req)
{
    hook_answer a = {.fallback = HP_VERDICT_DENY};
    hp_hook_request hr = {0};
    hp_approval_input in;
    hp_create_result res;
    hp_approval_row end;
    hp_render_in rin;
    hp_issues *is = NULL;
    api_wait_outcome outcome;
    json_object *body = NULL, *doc;
    char why[HP_ERRBUF];
    int timeout_s = HOOK_DEFAULT_TIMEOUT_S;
    bool parsed = false;

    req->capture_errors = true;
    memset(&in, 0, sizeof(in));
    if (api_read_json(req, true, &body) != HP_OK) {
        hook__fail_captured(req, &a);
        return;
    }
    /* Claude Code always names the event; the answer's shape follows it. */
    a.format = hp_hook_format(HP_HOOK_CLAUDE_CODE, hp_json_str(body, "hook_event_name"));
    if (a.format == NULL) {
        hook__fail(req, &a, HP_ERR_INVALID_PAYLOAD,
                   "hook_event_name must be PreToolUse, UserPromptSubmit or PermissionRequest");
        return;
    }
    if (!hook__query(req, &a, &timeout_s, why, sizeof(why))) {
        hook__fail(req, &a, HP_ERR_INVALID_QUERY, why);
        return;
    }
    if (api_auth_agent(req) != HP_OK || !hook__project(req)) {
        hook__fail_captured(req, &a);
        return;
    }
    {
        hp_hook_opts opts = {.timeout_seconds = timeout_s, .on_timeout = a.fallback};
        if (hp_hook_build(HP_HOOK_CLAUDE_CODE, body, &opts, &hr, why, sizeof(why)) != HP_OK) {
            hook__fail(req, &a, HP_ERR_INVALID_PAYLOAD, why);
            return;
        }
    }
    is = hp_issues_new();
    parsed = hp_approval_parse_create(hr.body, &req->auth.defaults, req->app->urlpolicy, &in, is);
    if (!parsed) {
        hook__fail(req, &a, HP_ERR_INVALID_PAYLOAD, "the hook input could not be read");
        goto out;
    }
    if (!api_approval_create(req, &in, NULL, &res)) {
        hook__fail_captured(req, &a);
        goto out;
    }
    if (res.conflict) {
        hook__fail(req, &a, HP_ERR_IDEMPOTENCY_CONFLICT,
                   "this tool call was already asked about with different input");
        goto out;
    }
    {
        int64_t left_ms = (res.row.expires_at - hp_time_now_us()) / 1000 + HOOK_GRACE_MS;
        int64_t cap_ms = (int64_t)req->app->cfg->max_wait_seconds * 1000;
        api_wait_spec spec = {.deadline_ms =
                                  hp_time_mono_ms() +
                                  (left_ms < cap_ms ? (left_ms > 0 ? left_ms : 0) : cap_ms),
                              .expire_due = true,
                              .auto_ack = true};
        if (api_wait_until(req, &res.row, &spec, &end, &outcome) != HP_OK) {
            hook__withdraw(req, &res.row);
            hook__fail(req, &a, HP_ERR_UNAVAILABLE, "the server is too busy to wait");
            goto out;
        }
    }
    if (outcome == API_WAIT_GONE) {
        if (req->status == 0)
            req->status = 499; /* Claude Code gave up; nothing to send */
        goto out;
    }
    if (strcmp(end.status, "pending") == 0) {
        hook__withdraw(req, &end);
        hook__fail(req, &a, HP_ERR_UNAVAILABLE, "the server stopped before a decision");
        goto out;
    }
    hp_approval_render_in(&end, &rin);
    doc = hp_render(hr.format, &rin);
    hook__send(req, &a, doc, NULL);
    json_object_put(doc);
out:
    hp_approval_input_deinit(&in);
    hp_issues_free(is);
    json_object_put(hr.body);
}
