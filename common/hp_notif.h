/*
 * hp_notif: seed 004's sessions and messages (notifications shown to the
 * team's reviewers, with up to four buttons and an optional text reply).
 * The first half is pure: validation of the create bodies and the wire
 * shapes. The second half (hp_notif_ops.c) runs the writes — a message send
 * with its implicit session, an explicit session create, a session end —
 * each one statement; the SQL lives in hp_store_notif.c.
 *
 * A seed 004 "project" is a Holdpoint agent. Sessions are keyed by the
 * agent and the caller's id (Claude Code's session_id, a Codex or Cursor
 * conversation id) or a server UUID. An approval is its own notification:
 * its notification_id is its approval id, and it has no message row.
 *
 * The Ask API (POST /send) and MCP (send_notification, list_sessions) use the
 * same functions: hp_notif_message_send with source "ask", and the session
 * reads of hp_store_notif.h.
 */
#ifndef HP_NOTIF_H
#define HP_NOTIF_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "hp_db.h"
#include "hp_err.h"
#include "hp_pool.h"
#include "hp_valid.h"

#define HP_NOTIF_TITLE_MAX       500
#define HP_NOTIF_MESSAGE_MAX     2500
#define HP_NOTIF_BUTTONS_MAX     4
#define HP_NOTIF_BUTTON_MAX      120
#define HP_NOTIF_TYPE_MAX        32
#define HP_NOTIF_SESSION_ID_MAX  200
#define HP_NOTIF_EVENT_ID_MAX    120
#define HP_NOTIF_LABEL_MAX       200
#define HP_NOTIF_CLIENT_MAX      100
#define HP_NOTIF_SESSION_ERR_MAX 500

/* A validated message. Strings are borrowed from the parsed body. */
typedef struct hp_notif_message_input {
    const char *type;  /* a short lower-case word; "info" when absent */
    const char *title; /* 1..500 */
    const char *message;
    json_object *buttons; /* owned: array of 0..4 label strings */
    bool allow_reply;
    const char *session_id;      /* NULL = none */
    const char *parent_id;       /* a notification UUID, or NULL */
    const char *client_event_id; /* idempotency and correlation, or NULL */
    const char *agent_name;      /* attribution shown to humans, or NULL */
    json_object *metadata;       /* owned object, or NULL */
    const char *source;          /* "v1" (default) or "ask" */
} hp_notif_message_input;

/* Validates a POST /v1/messages body: type, title, message, buttons (0..4
 * labels of 1..120 code points), allow_reply, session_id, parent_id,
 * client_event_id, agent_name, metadata. Adds every problem to is; returns
 * true when there is none. Pure; strings in *in are borrowed from body. */
bool hp_notif_message_parse(json_object *body, hp_notif_message_input *in, hp_issues *is);
void hp_notif_message_input_deinit(hp_notif_message_input *in);

/* A stored message (strings live in the pool it was read into). */
typedef struct hp_notif_message {
    const char *id;
    const char *team_id;
    const char *agent_id;
    const char *session_id;
    const char *parent_id;
    const char *type;
    const char *title;
    const char *message;
    json_object *buttons; /* owned by the pool */
    bool allow_reply;
    const char *client_event_id;
    const char *agent_name;
    const char *metadata; /* JSON text or NULL */
    const char *source;
    int64_t created_at;  /* µs */
    const char *project; /* agents.name */
} hp_notif_message;

/* The wire shape of a message (POST /v1/messages, the reviewer reads). New
 * reference. Pure. */
json_object *hp_notif_message_json(const hp_notif_message *m);

/* A validated session create body (seed 004: project, label, agent,
 * agent_version, metadata; plus an optional session_id to adopt). */
typedef struct hp_notif_session_input {
    const char *id; /* NULL = assign a UUID */
    const char *label;
    const char *client; /* seed 004 "agent" */
    const char *client_version;
    json_object *metadata; /* owned, or NULL */
} hp_notif_session_input;

bool hp_notif_session_parse(json_object *body, hp_notif_session_input *in, hp_issues *is);
void hp_notif_session_input_deinit(hp_notif_session_input *in);

typedef struct hp_notif_session {
    const char *id;
    const char *team_id;
    const char *agent_id;
    const char *label;
    const char *client;
    const char *client_version;
    const char *metadata; /* JSON text or NULL */
    bool implicit;
    const char *status; /* active, completed, error */
    const char *error;
    int64_t created_at;
    int64_t ended_at; /* -1 while active */
    const char *project;
    /* Counts, filled by hp_store_notif_session_get only (else -1). */
    long long messages, approvals, responses_pending;
} hp_notif_session;

/* The wire shape of a session. New reference. Pure. */
json_object *hp_notif_session_json(const hp_notif_session *s);

/* True when s is a well-formed session id (1..200 code points, no control
 * characters). Pure. */
bool hp_notif_session_id_ok(const char *s);

/* One notification of a session tree: a message or an approval. */
typedef struct hp_notif_node {
    const char *kind; /* "message" or "approval" */
    const char *id;
    const char *parent_id; /* NULL for a root */
    const char *type;
    const char *title;
    const char *status; /* approvals only */
    int64_t created_at;
    long long responses; /* action responses recorded on it */
} hp_notif_node;

/* The parent/child tree of nodes (oldest first, as the store reads them):
 * a node nests under its parent when the parent came before it in nodes,
 * otherwise it is a root. Returns a new array of root nodes, each
 * {notification_id, kind, type, title, status, parent_id, created_at,
 * response_count, children: [...]}. Pure; O(n^2) for the few hundred nodes
 * of a session. */
json_object *hp_notif_tree_json(const hp_notif_node *nodes, int n);

/* ---- writes (hp_notif_ops.c) ------------------------------------------- */

/* Stores a message for agent_id of team_id: creates its session implicitly
 * when it names one that does not exist, and NOTIFY hp_approval
 * "team:<team_id>" when notify (no Redis: live reviewer views hear of it that
 * way; with Redis the caller publishes after). A repeat with a
 * client_event_id already used by this agent answers the first message with
 * *idempotent true. HP_ERR_NOT_FOUND when parent_id names no notification
 * of this agent. One statement; blocks on the database. */
HP_MUSTCHECK hp_err hp_notif_message_send(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                          const char *agent_id, const hp_notif_message_input *in,
                                          bool notify, hp_notif_message *out, bool *idempotent,
                                          char *err, size_t errcap);

/* Creates a session explicitly; with in->id of an existing session of the
 * agent, answers it with *created false (an implicit one becomes explicit
 * and takes the given label, client and metadata). */
HP_MUSTCHECK hp_err hp_notif_session_create(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                            const char *agent_id, const hp_notif_session_input *in,
                                            hp_notif_session *out, bool *created, char *err,
                                            size_t errcap);

/* Ends an active session with status "completed" or "error" (error: a short
 * text, NULL otherwise). Ending is final: a session that already ended is
 * answered as it is with *changed false. HP_ERR_NOT_FOUND when the agent has
 * no such session. */
HP_MUSTCHECK hp_err hp_notif_session_end(hp_dbconn *c, hp_pool *pool, const char *agent_id,
                                         const char *session_id, const char *status,
                                         const char *error, hp_notif_session *out, bool *changed,
                                         char *err, size_t errcap);

#endif
