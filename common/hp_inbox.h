/*
 * hp_inbox: seed 004's action responses — a reviewer's button tap or text
 * reply on a message, and every decision or timeout default of an approval —
 * and the acknowledged inbox an agent reads them from.
 *
 * The first half is pure: the item shape, the project webhook payload, the
 * acknowledgement body and the redaction of handler errors. The second half
 * (hp_inbox_ops.c) records responses and acknowledges them; the SQL is in
 * hp_store_inbox.c.
 *
 * Order: each response takes the next number of its agent's sequence while
 * holding that counter's row lock until commit, so responses become visible
 * in sequence order. A reader that has seen number n never later finds a
 * committed response below n: the keyset cursor of the inbox (the id of the
 * last item read) and the Last-Event-ID of its stream lose nothing and repeat
 * nothing, whatever the timestamps.
 */
#ifndef HP_INBOX_H
#define HP_INBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "hp_db.h"
#include "hp_err.h"
#include "hp_pool.h"
#include "hp_valid.h"

/* Longest handler error kept on a "failed" acknowledgement, after
 * redaction, and the longest accepted in a request. */
#define HP_INBOX_ACK_ERROR_KEEP 200
#define HP_INBOX_ACK_ERROR_MAX  500

/* A response to record. Strings are borrowed. */
typedef struct hp_inbox_record {
    const char *team_id;
    const char *agent_id;
    const char *session_id;
    const char *notification_id; /* a message id or an approval id */
    const char *approval_id;     /* NULL for messages */
    const char *parent_id;
    const char *kind;   /* "button" or "reply" */
    const char *action; /* "button_pressed", "text_reply" or "timeout_default" */
    int button_index;   /* -1 for none */
    const char *button_label;
    const char *decision_key;
    const char *response_text;
    bool is_timeout_default;
    const char *client_event_id;
    const char *notification_client_event_id;
    const char *user_id;
    const char *user_name;
    const char *device;
    const char *notification_title;
    const char *notification_message;
    int64_t decided_at; /* µs; -1 = the transaction's time */
} hp_inbox_record;

/* A stored response (strings live in the pool it was read into). */
typedef struct hp_inbox_response {
    const char *id;
    const char *team_id;
    const char *agent_id;
    long long seq;
    const char *session_id;
    const char *notification_id;
    const char *approval_id;
    const char *parent_id;
    const char *kind;
    const char *action;
    int button_index; /* -1 for null */
    const char *button_label;
    const char *decision_key;
    const char *response_text;
    bool is_timeout_default;
    const char *client_event_id;
    const char *notification_client_event_id;
    const char *user_id;
    const char *user_name;
    const char *device;
    const char *notification_title;
    const char *notification_message;
    const char *ack_status;
    const char *ack_error;
    int64_t acked_at; /* µs, -1 for null */
    int64_t decided_at;
    int64_t recorded_at;
} hp_inbox_response;

/* The item shape of the inbox, its stream and POST /v1/actions: seed 004's
 * fields (id, notification_id, project_id, session_id, kind, action,
 * button_index, button_label, ack_status, recorded_at, notification_title,
 * notification_message) plus approval_id, parent_id, decision_key,
 * response_text, is_timeout_default, client_event_id, decided_by, device,
 * decided_at, ack_error and acked_at. New reference. Pure. */
json_object *hp_inbox_response_json(const hp_inbox_response *r);

/* The body POSTed to a project's webhook_url for response id (seed 004's
 * payload: notification_id, action, button_index, session_id, timestamp,
 * nonce, plus the response's other fields). ts is Unix seconds; nonce is
 * unique per response (the X-Nonce header is unique per attempt). New
 * reference. Pure. */
json_object *hp_inbox_webhook_body(const hp_inbox_record *rec, const char *id, long long ts,
                                   const char *nonce);

/* Validates an acknowledgement body (NULL = none): status processed
 * (default), ignored or failed; error (≤ 500 code points) only with failed.
 * *status is a static string; a given error is redacted into error_out
 * (HP_INBOX_ACK_ERROR_KEEP code points at most), "" when none. Returns true
 * when is stays empty. Pure. */
bool hp_inbox_ack_parse(json_object *body, const char **status, char *error_out, size_t cap,
                        hp_issues *is);

/* A handler error made safe to store and show: control characters become
 * spaces, anything shaped like a credential (hpk_/hpu_/whsec_/sk-/ghp_/xox?-
 * tokens, "Bearer x", long base64 or hex runs) becomes "[redacted]", and the
 * text is cut to max_cps code points (with "…"). out has cap bytes. Pure. */
void hp_inbox_redact(const char *in, size_t max_cps, char *out, size_t cap);

/* A page request over one agent's inbox. NULL strings and -1 times are not
 * applied. */
typedef struct hp_inbox_filter {
    const char *agent_id; /* required */
    const char *session_id;
    const char *notification_id;
    const char *parent_id;
    const char *kind;
    const char *client_event_id;
    const char *approval_id;
    const char *decision_key;
    int64_t after;         /* recorded_at >= (µs) */
    int64_t decided_after; /* decided_at >= (µs) */
    long long after_seq;   /* strictly after this sequence number; 0 = from the start */
    bool unacked_only;
    int limit; /* rows wanted; one more is read to detect a next page */
} hp_inbox_filter;

/* ---- writes (hp_inbox_ops.c) -------------------------------------------- */

/* Settings the writes need from the process configuration. */
typedef struct hp_inbox_env {
    int webhook_max_attempts;
} hp_inbox_env;

/* Records rec in the caller's transaction (or as its own statement): the
 * next number of the agent's sequence, the response, and — when the agent
 * has a webhook_url — the project webhook job (kind "project_webhook") with
 * its exact body, plus NOTIFY hp_jobs. With wake, NOTIFY hp_approval
 * "agent:<agent_id>" wakes the agent's inbox streams at commit. *out (pool)
 * is the stored response. HP_ERR_CONFLICT when the agent already recorded
 * rec->client_event_id (the statement failed; roll back, then read the
 * first with hp_store_inbox_by_event). */
HP_MUSTCHECK hp_err hp_inbox_record_add(hp_dbconn *c, hp_pool *pool, const hp_inbox_env *env,
                                        const hp_inbox_record *rec, bool wake,
                                        hp_inbox_response *out, char *err, size_t errcap);

/* Acknowledges response id of agent_id with status (and a redacted error
 * for "failed"). Idempotent once terminal: a response that already left
 * pending answers as it is with *changed false. HP_ERR_NOT_FOUND when the
 * agent has no such response. */
HP_MUSTCHECK hp_err hp_inbox_ack(hp_dbconn *c, hp_pool *pool, const char *agent_id, const char *id,
                                 const char *status, const char *error, hp_inbox_response *out,
                                 bool *changed, char *err, size_t errcap);

#endif
