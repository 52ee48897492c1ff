/*
 * hp_store_fanout: the SQL that turns events into channel notifications.
 *
 * Producers queue one cheap "notify" job per event, in the transaction (or
 * statement) of the event itself, and only when the team has a channel that
 * could want it: an approval created, a message sent, an approval closed
 * (team webhooks only), a reminder or escalation step, a channel test.
 * holdpoint-delivery later expands a notify job into one job per
 * destination ("channel.ntfy", "channel.webpush", ...) and marks it done in
 * the same transaction, so a destination gets its job exactly once however
 * often the expansion is retried. Reminder and escalation steps are claimed
 * by holdpoint-timeout with a primary key per (approval, step), so each
 * happens at most once however many workers race. See docs/internals/
 * notifications.md.
 */
#ifndef HP_STORE_FANOUT_H
#define HP_STORE_FANOUT_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "hp_db.h"
#include "hp_err.h"
#include "hp_pool.h"

/* Attempts a notify job gets: its expansion only talks to the database. The
 * channel jobs it becomes get the delivery worker's
 * HOLDPOINT_CALLBACK_MAX_ATTEMPTS. A string, for SQL text. */
#define HP_STORE_FANOUT_NOTIFY_ATTEMPTS "5"

/* Queues a notify job for event ("created", "message", "decided",
 * "expired", "cancelled") of approval_id (or of a message: body_json names
 * it) when team_id has an enabled channel — any kind, or only webhook
 * channels when webhook_only — and wakes delivery workers. body_json is the
 * job's body ({"event": ...}). Runs in the caller's transaction (or alone).
 * *queued tells whether a job was written (may be NULL). */
HP_MUSTCHECK hp_err hp_store_fanout_queue(hp_dbconn *c, const char *team_id, const char *agent_id,
                                          const char *approval_id, const char *body_json,
                                          bool webhook_only, bool *queued, char *err,
                                          size_t errcap);

/* The earliest reminder or escalation time of an approval of the agent in
 * CTE or table "a" (an SQL expression, NULL when the agent has none): the
 * create statement and the expiry plan compare it with the timeout worker's
 * planned wake, so a step falls due on time without polling. */
#define HP_STORE_FANOUT_FIRST_STEP_SQL                                                             \
    "(select a.created_at + make_interval(secs => least(n.remind_after_seconds, "                  \
    "n.escalate_after_seconds)) from agent_notify n where n.agent_id = a.agent_id)"

/* ---- expansion (holdpoint-delivery) ------------------------------------- */

/* Opens the expansion's transaction and locks the notify job job_id if
 * worker still holds its lease; *held false (and nothing open) otherwise. */
HP_MUSTCHECK hp_err hp_store_fanout_begin(hp_dbconn *c, const char *job_id, const char *worker,
                                          bool *held, char *err, size_t errcap);

/* The rows an expansion reads (strings live as long as the reader's pool). */
typedef struct hp_fanout_channel {
    const char *id;
    const char *kind;
    const char *name;
    const char *config; /* JSON text */
} hp_fanout_channel;

typedef struct hp_fanout_member {
    const char *id;
    const char *name;
    const char *email;
} hp_fanout_member;

typedef struct hp_fanout_sub {
    const char *id;
    const char *user_id;
    const char *endpoint;
} hp_fanout_sub;

typedef struct hp_fanout_message {
    const char *title;
    const char *message;
    const char *agent_name; /* the message's, else its agent's name */
} hp_fanout_message;

/* The enabled channels of team_id an event goes to, oldest first: ids (a
 * JSON array of channel ids) when not NULL, else the routing of agent_id
 * (every channel when it has none); webhook channels only when
 * webhook_only. *n rows in *chans (an array in pool). */
HP_MUSTCHECK hp_err hp_store_fanout_channels(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                             const char *agent_id, json_object *ids,
                                             bool webhook_only, hp_fanout_channel **chans, int *n,
                                             char *err, size_t errcap);

/* The team's members and Web Push subscriptions, oldest first, as *n rows
 * (arrays in pool). */
HP_MUSTCHECK hp_err hp_store_fanout_members(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                            hp_fanout_member **members, int *n, char *err,
                                            size_t errcap);
HP_MUSTCHECK hp_err hp_store_fanout_subscriptions(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                                  hp_fanout_sub **subs, int *n, char *err,
                                                  size_t errcap);

/* A message of team_id into *m; *found false when it is gone. */
HP_MUSTCHECK hp_err hp_store_fanout_message(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                            const char *message_id, hp_fanout_message *m,
                                            bool *found, char *err, size_t errcap);

/* Ends the expansion of notify job job_id (attempt attempt_id) and commits:
 * inserts children (a JSON array of {kind, channel_id, subscription_id, url,
 * headers, body, only_pending}) as queued jobs of the notify job's team,
 * approval and agent with max_attempts and parent_id = job_id; marks the
 * notify job done (failed when failed, with error as its last error, and
 * the channel test_channel_id's last error when not NULL); wakes delivery
 * workers when anything was queued. Rolls back on error. */
HP_MUSTCHECK hp_err hp_store_fanout_finish(hp_dbconn *c, const char *job_id, const char *attempt_id,
                                           json_object *children, int max_attempts, bool failed,
                                           const char *error, const char *test_channel_id,
                                           int duration_ms, char *err, size_t errcap);

/* Removes the push subscriptions a push service answered 404 or 410 for
 * (ids: n text ids). */
HP_MUSTCHECK hp_err hp_store_fanout_push_gone(hp_dbconn *c, const char *const *ids, int n,
                                              char *err, size_t errcap);

/* Queues a "channel.slack_update" job that replaces a Slack message once
 * decided: POST body to the interaction's response_url, for channel_id of
 * team_id and approval_id. */
HP_MUSTCHECK hp_err hp_store_fanout_slack_update(hp_dbconn *c, const char *team_id,
                                                 const char *approval_id, const char *channel_id,
                                                 const char *response_url, const char *body,
                                                 int max_attempts, char *err, size_t errcap);

/* ---- deciding from a notification (holdpoint-api) ------------------------ */

/* What a decision link points at (strings in the reader's pool). */
typedef struct hp_link_target {
    const char *team_id;      /* the approval's team */
    const char *channel_name; /* NULL unless the channel belongs to that team */
    const char *channel_kind;
    const char *user_name; /* NULL unless the user belongs to that team */
} hp_link_target;

/* Reads what a decision link for approval_id, sent through channel_id to
 * user_id (either may be ""), points at into *t; *found false when the
 * approval is gone. */
HP_MUSTCHECK hp_err hp_store_fanout_link_target(hp_dbconn *c, hp_pool *pool,
                                                const char *approval_id, const char *channel_id,
                                                const char *user_id, hp_link_target *t, bool *found,
                                                char *err, size_t errcap);

/* A channel as a decision from it needs it (strings in the reader's pool). */
typedef struct hp_channel_ref {
    const char *id;
    const char *team_id;
    const char *kind;
    const char *name;
    const char *secret_sealed; /* or NULL */
} hp_channel_ref;

/* Reads channel channel_id into *ch; *found false when there is none. */
HP_MUSTCHECK hp_err hp_store_fanout_channel(hp_dbconn *c, hp_pool *pool, const char *channel_id,
                                            hp_channel_ref *ch, bool *found, char *err,
                                            size_t errcap);

/* ---- reminder and escalation steps (holdpoint-timeout) ------------------- */

/* Pending approvals of agents with a step delay, one row per step not yet
 * taken (id, team_id, agent_id, step, escalate_channel_ids,
 * escalate_user_ids, due_at, created_at). A step past the approval's
 * deadline never falls due. */
#define HP_STORE_FANOUT_STEPS_SQL                                                                  \
    "select a.id, a.team_id, a.agent_id, st.step, s.escalate_channel_ids, "                        \
    "  s.escalate_user_ids, a.created_at + make_interval(secs => st.secs) as due_at, "             \
    "  a.created_at from agent_notify s "                                                          \
    "join approvals a on a.agent_id = s.agent_id and a.status = 'pending' "                        \
    "cross join lateral (values ('remind', s.remind_after_seconds), "                              \
    "  ('escalate', s.escalate_after_seconds)) as st(step, secs) "                                 \
    "where st.secs is not null and a.created_at + make_interval(secs => st.secs) < a.expires_at "  \
    "and not exists (select 1 from approval_notify_steps d where d.approval_id = a.id "            \
    "  and d.step = st.step) "

/* Claims up to limit due steps (a pending approval whose agent has a
 * reminder or escalation delay that has passed since it was created, and
 * which has not taken that step) and, in the same statement, records each
 * step (approval_notify_steps: the primary key makes a racing worker's
 * insert do nothing), queues its notify job ({"event": "reminder"} or
 * {"event": "escalation", "channel_ids": [...], "user_ids": [...]}),
 * writes the "reminded" / "escalated" audit event and wakes delivery
 * workers. *n gets the number of steps taken. One statement: its own
 * transaction. */
HP_MUSTCHECK hp_err hp_store_fanout_steps_due(hp_dbconn *c, int limit, int *n, char *err,
                                              size_t errcap);

/* Milliseconds until the next step falls due by the database clock (0 when
 * one is due, -1 when none is planned). */
HP_MUSTCHECK hp_err hp_store_fanout_steps_next_ms(hp_dbconn *c, int64_t *ms, char *err,
                                                  size_t errcap);

#endif
