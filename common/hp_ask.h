/*
 * hp_ask: the model of seed 000's "ask a human" surface, shared by the Ask
 * API (/api/v1/server) and the MCP tools. A question is an approval with
 * source "ask" in the one store, mapped so the reviewer inbox, the Reviewer
 * API and the decide path (first decision wins) serve it unchanged:
 *
 *   confirm  options [Yes → "yes", No → "no"], no free text
 *   select   its 2..6 options (label = value = the option), no free text
 *   input    no options; the answer is the reviewer's free text (a custom
 *            instruction)
 *
 * The correlation id is the approval's request_id (a server-assigned UUID),
 * so the question is also GET /v1/approvals/<correlationId> for its agent.
 * agentName and sessionId become the approval's agent_name and session_id,
 * the attribution reviewers see; the type is kept in metadata.ask_type.
 *
 * This module validates an ask body into an hp_approval_input and renders
 * the seed 000 shapes (the answer object, the callback body, the poll URL).
 * A send (POST /send, send_notification) is a seed 004 message with source
 * "ask", stored and shown to reviewers like any notification. Pure; any
 * thread.
 */
#ifndef HP_ASK_H
#define HP_ASK_H

#include <stdbool.h>

#include <json-c/json.h>

#include "hp_approval.h"
#include "hp_notif.h"
#include "hp_urlpolicy.h"
#include "hp_valid.h"

#define HP_ASK_OPTIONS_MIN  2
#define HP_ASK_OPTIONS_MAX  HP_APPROVAL_STORED_OPTIONS_MAX
#define HP_ASK_OPTION_MAX   120 /* code points: an option is also its button label */
#define HP_ASK_WAIT_MAX     55  /* seconds a wait may block (seed 000) */
#define HP_ASK_OPEN_SECONDS 600 /* how long a question stays open by default */

/* The outbox job kind of an answered question's callback. */
#define HP_ASK_CALLBACK_JOB "ask_callback"

/* The path of the Ask API under the public URL. */
#define HP_ASK_BASE_PATH "/api/v1/server"

typedef enum { HP_ASK_CONFIRM = 0, HP_ASK_SELECT, HP_ASK_INPUT } hp_ask_type;

/* A validated ask. */
typedef struct hp_ask_input {
    hp_approval_input approval; /* what is stored; owns its options and metadata */
    hp_ask_type type;
    bool wait;           /* block until answered or timeout_seconds */
    int timeout_seconds; /* 1..HP_ASK_WAIT_MAX */
} hp_ask_input;

/* Validates a seed 000 ask body — question (1..500, not blank), type
 * (confirm | select | input, default confirm), options (select: 2..6
 * distinct strings of 1..120 code points; the other types take none),
 * context (optional Markdown shown to the reviewer, 0..2500), agentName and
 * sessionId (1..200), callbackUrl (an http(s) URL that passes policy's
 * outbound rules; NULL policy skips them), wait (boolean), timeoutSeconds
 * (1..55) and expiresInSeconds (30..86400, default 600) — into *in, with
 * default_wait and default_timeout for the absent members. Every problem goes
 * to is (paths in the body's camelCase names); returns true when there is
 * none. Strings in *in are borrowed from body. Pure. */
bool hp_ask_parse(json_object *body, const hp_urlpolicy *policy, bool default_wait,
                  int default_timeout, hp_ask_input *in, hp_issues *is);
void hp_ask_input_deinit(hp_ask_input *in);

/* The name of a type ("confirm", ...). */
const char *hp_ask_type_name(hp_ask_type t);

/* True when the stored approval was asked through this surface. */
bool hp_ask_is_question(const hp_approval_row *r);

/* The seed 000 status of a stored question: "pending", "answered",
 * "expired" or "cancelled". */
const char *hp_ask_status(const hp_approval_row *r);

/* The answer: the chosen option's value, or the reviewer's text; NULL unless
 * answered. Borrowed from r. */
const char *hp_ask_value(const hp_approval_row *r);

/* The question's type from its metadata ("confirm" when unknown). */
const char *hp_ask_type_of(const hp_approval_row *r);

/* The answer object of POST /ask, GET /ask/:id and the MCP tools:
 * {correlationId, status, answered, value (answered only), answeredAt
 * (answered only), pollUrl (while open, when poll_url is not NULL)}. With
 * timed_out a question still pending reports status "timeout" (a blocking
 * ask whose wait ran out). New reference. */
json_object *hp_ask_state_json(const hp_approval_row *r, bool timed_out, const char *poll_url);

/* The body POSTed to callbackUrl when the question is answered:
 * {correlationId, answer, answeredAt}; NULL when r is not answered. New
 * reference. */
json_object *hp_ask_callback_json(const hp_approval_row *r);

/* Validates a seed 000 send body — title (1..500, not blank), body
 * (0..2500, default ""), agentName and sessionId (1..200) — into a message
 * of type "info" from source "ask" without buttons, the notification the
 * reviewers see (hp_notif.h stores it). Every problem goes to is; returns
 * true when there is none. Strings are borrowed from body; deinit *in with
 * hp_notif_message_input_deinit. Pure. */
bool hp_ask_send_parse(json_object *body, hp_notif_message_input *in, hp_issues *is);

/* The answer to a send: {id, createdAt}. New reference. */
json_object *hp_ask_sent_json(const hp_notif_message *m);

/* The absolute poll URL of a question: public_url (a trailing '/' is
 * dropped) + HP_ASK_BASE_PATH "/ask/" + the percent-encoded id. Heap string;
 * the caller frees. */
char *hp_ask_poll_url(const char *public_url, const char *correlation_id);

#endif
