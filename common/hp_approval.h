/*
 * hp_approval: the approval model: pure functions that parse and validates a seed 003 create body,
 * merges the timeout with the agent's defaults, computes the canonical idempotency hash and renders
 * the wire shapes (create answer, metadata, result, review item). The state transitions that use
 * them are in hp_approval_ops.h.
 *
 * hp_approval_input and hp_approval_row are plain data records shared with
 * the store and the API; their strings are borrowed from the JSON body or the
 * PGresult they were read from.
 */
#ifndef HP_APPROVAL_H
#define HP_APPROVAL_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "hp_db.h"
#include "hp_err.h"
#include "hp_pool.h"
#include "hp_render.h"
#include "hp_urlpolicy.h"
#include "hp_valid.h"

/* Seed 003 limits. */
#define HP_APPROVAL_REQUEST_ID_MAX  120
#define HP_APPROVAL_CORRELATION_MAX 120
#define HP_APPROVAL_QUESTION_MAX    500
#define HP_APPROVAL_CONTEXT_MAX     2500
#define HP_APPROVAL_SUMMARY_MAX     120
#define HP_APPROVAL_OPTIONS_MAX     4
/* The most options any surface stores: the Ask API's select takes 6. */
#define HP_APPROVAL_STORED_OPTIONS_MAX 6
#define HP_APPROVAL_LABEL_MAX          120
#define HP_APPROVAL_VALUE_MAX          500
#define HP_APPROVAL_TIMEOUT_MIN        30
#define HP_APPROVAL_TIMEOUT_MAX        86400
#define HP_APPROVAL_INSTRUCTION_MAX    1000
#define HP_APPROVAL_CUSTOM_MAX         2500
#define HP_APPROVAL_ATTR_MAX           200
/* Seed 004's timeout_seconds may be shorter than seed 003's timeout (a hook
 * waits seconds, not minutes). */
#define HP_APPROVAL_TIMEOUT_004_MIN 5

/* An agent's timeout defaults (agents table). */
typedef struct hp_agent_defaults {
    int timeout_seconds;
    const char *timeout_mode;
    const char *timeout_instruction; /* NULL when unset */
} hp_agent_defaults;

/* Whether a and b are the same defaults (strings compared; NULL equals
 * only NULL). Pure. */
bool hp_agent_defaults_equal(const hp_agent_defaults *a, const hp_agent_defaults *b);

/* A validated create body with the merged timeout. */
typedef struct hp_approval_input {
    const char *request_id; /* NULL when the server must assign one */
    const char *correlation_id;
    const char *question;
    const char *context_markdown;
    const char *notification_summary;
    json_object *options; /* owned: [{label, value, is_default_on_timeout}] */
    int timeout_seconds;
    const char *timeout_mode;
    const char *predefined_instruction;
    const char *callback_url;
    json_object *callback_headers; /* owned, or NULL */
    /* hp_secret_seal of callback_headers' JSON text: set by
     * hp_approval_create on its own copy of the input (the store writes
     * only this, never the plain headers); NULL when there are none. */
    const char *callback_headers_sealed;
    bool allow_custom_instruction;
    const char *session_id;
    const char *agent_name;
    json_object *metadata;       /* owned, or NULL */
    const char *response_format; /* "raw" or a renderer of hp_render.h */
    /* "v1" when NULL (seed 003 body), "v1_decisions" (seed 004 body), "ask"
     * for the Ask API and MCP */
    const char *source;
    unsigned char hash[32]; /* SHA-256 of the canonical payload */
} hp_approval_input;

/* Validates body (a parsed JSON value) against seed 003 and merges the timeout
 * with d. A body with decisions and no options is seed 004's form: title →
 * question, message → context_markdown, decisions → options (value = key),
 * timeout_seconds (5..86400) → the merged timeout's seconds, and event,
 * tool_name and command → metadata; both options and decisions is an issue.
 * Either form may name a response_format (hp_render_formats). A callback URL must also pass
 * policy's outbound rules (seed 004's SSRF list; NULL checks only that it is an http(s) URL). Adds
 * every problem to is; returns true when is stays empty. Strings in *in are borrowed from body,
 * which must outlive *in. Pure. */
bool hp_approval_parse_create(json_object *body, const hp_agent_defaults *d,
                              const hp_urlpolicy *policy, hp_approval_input *in, hp_issues *is);
/* Releases what hp_approval_parse_create took a reference to. */
void hp_approval_input_deinit(hp_approval_input *in);

/* Canonical text of the idempotency payload: question, context_markdown,
 * options, merged timeout, callback url and headers. Heap string (caller
 * frees). The hash in the input is SHA-256 of exactly this text. */
char *hp_approval_canonical(const hp_approval_input *in);

/* True when url is an http or https URL with a host (libcurl's parser). */
bool hp_approval_url_ok(const char *url);

/* The checks every callback URL gets at create, whatever surface it came
 * from: an http(s) URL with a host, and policy's outbound rules (seed 004's
 * SSRF list; NULL skips them). Adds one issue at `at` and returns false when
 * url is refused. Pure. */
bool hp_approval_callback_url_check(const char *url, const hp_urlpolicy *policy, hp_issues *is,
                                    hp_path at);

/* One stored approval, as read by the store (times in µs since epoch, -1 for
 * NULL; selected_option_index -1 for NULL). */
typedef struct hp_approval_row {
    const char *id;
    const char *team_id;
    const char *agent_id;
    const char *request_id;
    const char *correlation_id;
    const char *question;
    const char *context_markdown;
    const char *notification_summary;
    json_object *options; /* owned by the pool the row was read into */
    int timeout_seconds;
    const char *timeout_mode;
    const char *predefined_instruction;
    int64_t expires_at;
    const char *callback_url;
    const char *callback_headers; /* stored JSON text: the sealed string, '{}' or NULL */
    bool allow_custom_instruction;
    const char *session_id;
    const char *agent_name;
    const char *metadata; /* JSON text or NULL */
    const char *status;
    int selected_option_index;
    const char *custom_instruction;
    bool is_timeout_default;
    const char *resolved_by_user_id;
    const char *resolved_by_name;
    int64_t resolved_at;
    const char *result_delivery_status;
    const char *result_delivery_error;
    int64_t created_at;
    const char *agent_display_name; /* agents.name */
    const char *source;             /* "v1", "v1_decisions" or "ask" */
    const char *response_format;    /* "raw" or a renderer */
} hp_approval_row;

/* True when the approval answers in seed 004's terms: made with the
 * decisions form, or naming a response_format other than raw. Its resolved
 * result then also carries notification_id, decision_key,
 * is_timeout_default, response_format and response_payload (the outcome in
 * that agent's hook JSON). Pure. */
bool hp_approval_is_004(const hp_approval_row *r);

/* The renderer's view of r's outcome (strings borrowed from r). Pure. */
void hp_approval_render_in(const hp_approval_row *r, hp_render_in *in);

/* The renders below return new json-c references (caller puts). Pure. */

/* GET …/result: exactly {request_id, status} while pending, else the
 * resolved shape (also the callback body). */
json_object *hp_approval_result_json(const hp_approval_row *r);
/* GET /v1/approvals/:requestId and list items. */
json_object *hp_approval_meta_json(const hp_approval_row *r);
/* Reviewer API item. */
json_object *hp_approval_review_json(const hp_approval_row *r);

#endif
