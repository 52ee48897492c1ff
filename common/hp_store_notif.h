/*
 * hp_store_notif: every SQL statement about seed 004's sessions
 * (agent_sessions) and messages. Each function is one statement on a
 * borrowed connection; rows are read into the caller's pool. Every query is
 * scoped by the agent (the seed 004 project) or, for reviewer reads, by the
 * team.
 */
#ifndef HP_STORE_NOTIF_H
#define HP_STORE_NOTIF_H

#include <stdbool.h>
#include <stdint.h>

#include "hp_db.h"
#include "hp_notif.h"
#include "hp_pool.h"
#include "hp_store_auth.h"

/* Inserts a message (unless the agent already used its client_event_id),
 * creating the named session implicitly, and with notify sends NOTIFY
 * hp_approval "team:<team_id>". *parent_ok false (nothing written) when
 * in->parent_id names no message or approval of the agent; *inserted false
 * when the client_event_id was taken (*out then untouched). */
HP_MUSTCHECK hp_err hp_store_notif_message_insert(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                                  const char *agent_id,
                                                  const hp_notif_message_input *in, bool notify,
                                                  hp_notif_message *out, bool *parent_ok,
                                                  bool *inserted, char *err, size_t errcap);

/* The message of agent_id with this client_event_id. */
HP_MUSTCHECK hp_err hp_store_notif_message_by_event(hp_dbconn *c, hp_pool *pool,
                                                    const char *agent_id,
                                                    const char *client_event_id,
                                                    hp_notif_message *out, bool *found, char *err,
                                                    size_t errcap);

/* Message id of team_id (and of agent_id when not NULL). */
HP_MUSTCHECK hp_err hp_store_notif_message_get(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                               const char *agent_id, const char *id,
                                               hp_notif_message *out, bool *found, char *err,
                                               size_t errcap);

/* A page of messages, newest first: the team's (agent_id NULL) or one
 * agent's, optionally of one session, strictly before the keyset cursor
 * (cursor_id NULL = first page). Reads limit + 1 rows into *rows. */
typedef struct hp_notif_message_filter {
    const char *team_id;
    const char *agent_id;
    const char *session_id;
    int64_t cursor_created_at;
    const char *cursor_id;
    int limit;
} hp_notif_message_filter;

HP_MUSTCHECK hp_err hp_store_notif_message_list(hp_dbconn *c, hp_pool *pool,
                                                const hp_notif_message_filter *f,
                                                hp_notif_message **rows, int *n, char *err,
                                                size_t errcap);

/* Creates or adopts a session (see hp_notif_session_create); id must be
 * set. *created false when it existed. */
HP_MUSTCHECK hp_err hp_store_notif_session_upsert(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                                  const char *agent_id,
                                                  const hp_notif_session_input *in,
                                                  hp_notif_session *out, bool *created, char *err,
                                                  size_t errcap);

/* Session id of agent_id with its counts (messages, approvals, pending
 * action responses). */
HP_MUSTCHECK hp_err hp_store_notif_session_get(hp_dbconn *c, hp_pool *pool, const char *agent_id,
                                               const char *id, hp_notif_session *out, bool *found,
                                               char *err, size_t errcap);

/* A page of the agent's sessions, newest first; status NULL = any. */
typedef struct hp_notif_session_filter {
    const char *agent_id;
    const char *status;
    int64_t cursor_created_at;
    const char *cursor_id;
    int limit;
} hp_notif_session_filter;

HP_MUSTCHECK hp_err hp_store_notif_session_list(hp_dbconn *c, hp_pool *pool,
                                                const hp_notif_session_filter *f,
                                                hp_notif_session **rows, int *n, char *err,
                                                size_t errcap);

/* Ends an active session; *changed false when it had already ended (then
 * *out is the session as it is) and *found false when there is none. */
HP_MUSTCHECK hp_err hp_store_notif_session_end(hp_dbconn *c, hp_pool *pool, const char *agent_id,
                                               const char *id, const char *status,
                                               const char *error, hp_notif_session *out,
                                               bool *found, bool *changed, char *err,
                                               size_t errcap);

/* The notifications of a session, oldest first (at most limit): its
 * messages and its approvals, as *n nodes in *nodes (an array in pool; the
 * strings live as long as pool). */
HP_MUSTCHECK hp_err hp_store_notif_session_nodes(hp_dbconn *c, hp_pool *pool, const char *agent_id,
                                                 const char *id, int limit, hp_notif_node **nodes,
                                                 int *n, char *err, size_t errcap);

/* A seed 004 project: one agent of the team. */
typedef struct hp_notif_project {
    const char *id;
    const char *name;
    int default_timeout_seconds;
    const char *default_timeout_mode;
    const char *default_timeout_instruction;
    const char *webhook_url; /* NULL when none */
} hp_notif_project;

/* The agent of team_id with this id (when id is not NULL) or else the
 * oldest one with this name. *found false when the team has none; an id
 * that is not a UUID finds nothing. */
HP_MUSTCHECK hp_err hp_store_notif_project(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                           const char *id, const char *name, hp_notif_project *out,
                                           bool *found, char *err, size_t errcap);

/* Creates session_id of agent_id implicitly unless it exists (an approval
 * created in a transaction names it). */
HP_MUSTCHECK hp_err hp_store_notif_session_touch(hp_dbconn *c, const char *team_id,
                                                 const char *agent_id, const char *session_id,
                                                 char *err, size_t errcap);

/* Sets (url) or clears (NULL) the webhook_url of agent_id of team_id and
 * reads the agent back into *out (hp_store_agent_read); *found false when
 * the team has no such agent. The caller checked the URL. */
HP_MUSTCHECK hp_err hp_store_notif_project_set_webhook(hp_dbconn *c, hp_pool *pool,
                                                       const char *team_id, const char *agent_id,
                                                       const char *url, hp_agent_row *out,
                                                       bool *found, char *err, size_t errcap);

#endif
