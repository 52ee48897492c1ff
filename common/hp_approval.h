/*
 * hp_approval: the approval model. The pure part (this header's first half)
 * parses and validates a seed 003 create body, merges the timeout with the
 * agent's defaults, computes the canonical idempotency hash and renders the
 * wire shapes (create answer, metadata, result, review item). The second half
 * runs the state transitions — create, resolve, cancel, expire — each in one
 * transaction that also writes the audit event and, when a callback is set,
 * the outbox job; the SQL lives in hp_store_approval.c.
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
#include "hp_urlpolicy.h"
#include "hp_valid.h"

/* Seed 003 limits. */
#define HP_APPROVAL_REQUEST_ID_MAX  120
#define HP_APPROVAL_CORRELATION_MAX 120
#define HP_APPROVAL_QUESTION_MAX    500
#define HP_APPROVAL_CONTEXT_MAX     2500
#define HP_APPROVAL_SUMMARY_MAX     120
#define HP_APPROVAL_OPTIONS_MAX     4
#define HP_APPROVAL_LABEL_MAX       120
#define HP_APPROVAL_VALUE_MAX       500
#define HP_APPROVAL_TIMEOUT_MIN     30
#define HP_APPROVAL_TIMEOUT_MAX     86400
#define HP_APPROVAL_INSTRUCTION_MAX 1000
#define HP_APPROVAL_CUSTOM_MAX      2500
#define HP_APPROVAL_ATTR_MAX        200

/* An agent's timeout defaults (agents table). */
typedef struct hp_agent_defaults {
    int timeout_seconds;
    const char *timeout_mode;
    const char *timeout_instruction; /* NULL when unset */
} hp_agent_defaults;

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
    bool allow_custom_instruction;
    const char *session_id;
    const char *agent_name;
    json_object *metadata;  /* owned, or NULL */
    unsigned char hash[32]; /* SHA-256 of the canonical payload */
} hp_approval_input;

/* Validates body (a parsed JSON value) against seed 003 and merges the timeout
 * with d. A callback URL must also pass policy's outbound rules (seed 004's
 * SSRF list; NULL checks only that it is an http(s) URL). Adds every problem
 * to is; returns true when is stays empty. Strings in *in are borrowed from
 * body, which must outlive *in. Pure. */
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
    const char *callback_headers; /* JSON text or NULL */
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
} hp_approval_row;

/* The renders below return new json-c references (caller puts). Pure. */

/* GET …/result: exactly {request_id, status} while pending, else the
 * resolved shape (also the callback body). */
json_object *hp_approval_result_json(const hp_approval_row *r);
/* GET /v1/approvals/:requestId and list items. */
json_object *hp_approval_meta_json(const hp_approval_row *r);
/* Reviewer API item. */
json_object *hp_approval_review_json(const hp_approval_row *r);

/* A decision by a human (or the cancel/expiry that closes an approval). */
typedef enum {
    HP_DECIDE_OPTION = 0,
    HP_DECIDE_CUSTOM,
    HP_DECIDE_CANCEL,
} hp_decide_kind;

typedef struct hp_decision {
    hp_decide_kind kind;
    int option_index;               /* HP_DECIDE_OPTION */
    const char *custom_instruction; /* HP_DECIDE_CUSTOM */
    const char *user_id;            /* deciding user, or NULL */
    const char *user_name;
    const char *actor_type; /* "user", "agent" or "system" */
    const char *actor_id;
} hp_decision;

/* Outcome of a create. */
typedef struct hp_create_result {
    hp_approval_row row; /* the new or the existing approval */
    bool idempotent;     /* matched an existing equivalent approval */
    bool conflict;       /* same request_id, different payload (row = existing) */
} hp_create_result;

/* Settings the transitions need from the process configuration. */
typedef struct hp_approval_env {
    int callback_max_attempts;
    /* Send NOTIFY hp_approval for creates too, so live inboxes on every
     * replica hear of new approvals. Set when Redis is not configured; with
     * Redis the API publishes creates there instead, keeping the global
     * NOTIFY lock off the create path. */
    bool notify_creates;
} hp_approval_env;

/* Longest wake message, terminator included. */
#define HP_WAKE_MSG_MAX 96

/* The wake message for a change to approval_id of team_id: the keys of the
 * waiters it concerns, separated by one space — the approval id (requests
 * waiting on that approval) and "team:<team_id>" (the team's live views).
 * It is the payload of NOTIFY hp_approval and of the Redis hp:approval
 * message; the waiter registry wakes every key it names. Pure. */
void hp_approval_wake_msg(const char *approval_id, const char *team_id, char *out, size_t cap);

/* Creates an approval for agent_id of team_id atomically: quota check
 * (team_usage, only when team_has_quota), insert (race-safe on (agent_id,
 * request_id)), the "created" event, and a wake for the expiry worker when
 * this deadline is earlier than its planned one, and NOTIFY hp_approval with
 * the wake message when env->notify_creates. Without a quota all of it is
 * one statement; with one, a transaction holding the team's usage row.
 * Idempotent repeats and conflicts are reported in *out, not as errors.
 * Errors: HP_ERR_USAGE_LIMIT, HP_ERR_UNAVAILABLE, HP_ERR_CREATE_FAILED.
 * Blocks on the database. */
HP_MUSTCHECK hp_err hp_approval_create(hp_dbconn *c, hp_pool *pool, const hp_approval_env *env,
                                       const char *team_id, const char *agent_id,
                                       bool team_has_quota, const hp_approval_input *in,
                                       hp_create_result *out, char *err, size_t errcap);

/* Applies d to approval_id of team_id if it is still pending: first decision
 * wins (HP_ERR_ALREADY_RESOLVED otherwise). HP_ERR_INVALID_PAYLOAD with a
 * reason for an option index out of range or a custom instruction that is not
 * allowed; HP_ERR_NOT_FOUND when no such approval in the team. On success *out
 * is the updated row (in pool). Writes the event, the callback job and the
 * wake notification in the same transaction. */
HP_MUSTCHECK hp_err hp_approval_decide(hp_dbconn *c, hp_pool *pool, const hp_approval_env *env,
                                       const char *team_id, const char *approval_id,
                                       const hp_decision *d, hp_approval_row *out, char *err,
                                       size_t errcap);

/* Writes what every close must write in its transaction: the audit event
 * (kind "resolved", "cancelled" or "expired", with actor and decision data),
 * the callback job when the approval has a callback URL (body = the result
 * JSON of row) and the NOTIFY that wakes waiters. Used by hp_approval_decide
 * and by the expiry worker. */
HP_MUSTCHECK hp_err hp_approval_closed_effects(hp_dbconn *c, const hp_approval_env *env,
                                               const hp_approval_row *row, const char *kind,
                                               const char *actor_type, const char *actor_id,
                                               char *err, size_t errcap);

#endif
