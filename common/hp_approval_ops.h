/*
 * hp_approval_ops: the approval state transitions — create, decide, cancel,
 * with the effects every close shares with the expiry worker. Each runs in one
 * transaction on a borrowed connection, so the state change, its audit event,
 * its outbox job and its wake notification commit or vanish together; the
 * SQL lives in hp_store_approval.c. Also the wake message that tells waiters
 * of a change. Blocking (database); any thread with its own connection.
 */
#ifndef HP_APPROVAL_OPS_H
#define HP_APPROVAL_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include "hp_approval.h"
#include "hp_batch.h"
#include "hp_db.h"
#include "hp_err.h"
#include "hp_inbox.h"
#include "hp_pool.h"
#include "hp_redis.h"
#include "hp_store_approval.h"

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
    /* Or the user whose live user token has this prefix and SHA-256
     * (hp_key_hash), checked by the decision's own statement; then the
     * team_id given to hp_approval_decide, user_id, user_name and actor_id
     * are NULL, and a token that is unknown, wrong or revoked gives
     * HP_ERR_INVALID_USER_TOKEN with nothing written. */
    const char *token_prefix;
    const unsigned char *token_hash;
    const char *actor_type; /* "user", "agent" or "system" */
    const char *actor_id;
    /* For the action response the decision records (seed 004): the
     * caller's idempotency key and the deciding device, or NULL. */
    const char *client_event_id;
    const char *device;
    const char *surface; /* where it was made ("web", "api"), kept in the audit
                            event; NULL for none */
    /* Where the decision came from when not the web app or the API: a
     * notification channel's signed link or Slack button. Recorded in the
     * audit event; NULL otherwise. */
    const char *via;        /* "link", "slack" */
    const char *channel_id; /* the channel the link or button was sent through */
    /* When not NULL: filled with the action response the decision recorded
     * (seed 004; strings in the pool), or zeroed (id NULL) when none. */
    hp_inbox_response *response;
} hp_decision;

/* Outcome of a create. */
typedef struct hp_create_result {
    hp_approval_row row; /* the new or the existing approval */
    bool idempotent;     /* matched an existing equivalent approval */
    bool conflict;       /* same request_id, different payload (row = existing) */
    long retry_after_ms; /* HP_ERR_RATE_LIMITED: until the window has room */
} hp_create_result;

/* Settings the transitions need from the process configuration. */
typedef struct hp_approval_env {
    int callback_max_attempts;
    /* Send NOTIFY hp_approval for creates too, so live inboxes on every
     * replica hear of new approvals. Set when Redis is not configured; with
     * Redis the API publishes creates there instead, keeping the global
     * NOTIFY lock off the create path. */
    bool notify_creates;
    /* HOLDPOINT_SECRET_KEY (32 bytes): a create seals callback.headers
     * with it (only the delivery worker opens them). */
    const unsigned char *secret_key;
    /* When set (the API), the creates of concurrent requests for teams
     * without a quota share one statement and one commit
     * (hp_approval_create_batch_run); NULL creates each alone. */
    hp_batch *creates;
    /* When rate_limit_max > 0, every create (an idempotent repeat too) is
     * first counted in its agent's window (hp_ratelimit: in Redis when
     * redis is set, else PostgreSQL) and refused past it with
     * HP_ERR_RATE_LIMITED, writing nothing. Each request counts its own,
     * before it joins a shared statement. */
    int rate_limit_max, rate_limit_window_ms;
    /* When set, a create's wake message is published there after its
     * commit (once per team for the creates of one shared statement), and
     * a decision's, its row sealed with wake_key (hp_wake_seal; without
     * wake_key, its keys alone). */
    hp_redis *redis;
    const unsigned char *wake_key;
    /* When set, called by hp_approval_decide once a decision committed,
     * with the deciding statement's result (row 0: the closed approval, as
     * a read by id returns it; decided_fn's to PQclear): the API answers
     * its own long-polls of the approval from it. */
    void (*decided_fn)(void *ctx, const char *team_id, const char *approval_id, PGresult *r);
    void *decided_ctx;
} hp_approval_env;

/* The work of hp_approval_env.creates (hp_batch_fn; ctx that env). */
void hp_approval_create_batch_run(void *ctx, void **items, int n);

/* Longest wake message, terminator included. */
#define HP_WAKE_MSG_MAX 160

/* The wake message of a create: "team:<team_id>" alone. Nobody can be
 * waiting on the new approval yet, and naming it would wake the requests
 * that start waiting on it a moment later for nothing. Pure. */
void hp_approval_created_wake_msg(const char *team_id, char *out, size_t cap);

/* Wake messages are the payload of NOTIFY hp_approval and of the Redis
 * hp:approval message: the keys of the waiters a change concerns, separated
 * by one space; the waiter registry wakes every key a message names.
 *
 * The wake message of a close of approval_id: the approval id (requests
 * waiting on it), "team:<team_id>" (the team's live views) and
 * "agent:<agent_id>" (the agent's action-response streams: a decision or
 * timeout default is recorded in its inbox). Pure. */
void hp_approval_wake_msg_agent(const char *approval_id, const char *team_id, const char *agent_id,
                                char *out, size_t cap);

/* Creates an approval for agent_id of team_id atomically: quota check
 * (team_usage, only when team_has_quota), insert (race-safe on (agent_id,
 * request_id)), the "created" event, and a wake for the expiry worker when
 * this deadline is earlier than its planned one, and NOTIFY hp_approval with
 * the wake message when env->notify_creates. Without a quota all of it is
 * one statement; with one, a transaction holding the team's usage row.
 * Idempotent repeats and conflicts are reported in *out, not as errors.
 * Errors: HP_ERR_USAGE_LIMIT, HP_ERR_UNAVAILABLE, HP_ERR_CREATE_FAILED.
 *
 * memo is NULL, or the API key the caller authenticated with from its
 * memory (hp_keymem.h), for a create without a request_id of a team it
 * remembers without a quota: the insert then checks that the key is still
 * not revoked, the team still without a quota and no agent's defaults
 * changed since, and when not creates nothing and returns
 * HP_ERR_INVALID_API_KEY (the create was counted in its rate window).
 * Blocks on the database. */
HP_MUSTCHECK hp_err hp_approval_create(hp_dbconn *c, hp_pool *pool, const hp_approval_env *env,
                                       const char *team_id, const char *agent_id,
                                       bool team_has_quota, const hp_key_memo *memo,
                                       const hp_approval_input *in, hp_create_result *out,
                                       char *err, size_t errcap);

/* Applies d to approval_id of team_id if it is still pending: first decision
 * wins (HP_ERR_ALREADY_RESOLVED otherwise). HP_ERR_INVALID_PAYLOAD with a
 * reason for an option index out of range or a custom instruction that is not
 * allowed; HP_ERR_NOT_FOUND when no such approval in the team;
 * HP_ERR_CONFLICT when the agent already recorded d->client_event_id. On
 * success *out is the updated row (in pool). ONE statement, one round trip,
 * its own transaction (call it outside BEGIN; hp_store_approval_decide):
 * the close and every effect of it — the audit event (kind "resolved" or
 * "cancelled", with actor and decision data), the callback job when the
 * approval has a callback URL (seed 003's result; for an Ask API question
 * only when answered, as HP_ASK_CALLBACK_JOB), the team webhooks' notify
 * job, the action response of a chosen option or custom instruction (seed
 * 004's inbox, with its project webhook job) and the NOTIFY that wakes
 * waiters (hp_approval_wake_msg_agent) — the same effects an expiry batch
 * writes, by the same SQL. The caller publishes the wake on Redis. */
HP_MUSTCHECK hp_err hp_approval_decide(hp_dbconn *c, hp_pool *pool, const hp_approval_env *env,
                                       const char *team_id, const char *approval_id,
                                       const hp_decision *d, hp_approval_row *out, char *err,
                                       size_t errcap);

/* Expires approval_id of team_id now if it is still pending and its
 * deadline has passed, exactly as the expiry worker would (the same claim,
 * the same effects; the audit actor is "holdpoint-api"), so a request that
 * waits for the decision can answer at the deadline whatever the worker's
 * lag. *expired false (nothing changed) when it was not due or no longer
 * pending. One statement (hp_store_approval_expire_one), its own
 * transaction; blocks on the database. */
HP_MUSTCHECK hp_err hp_approval_expire_if_due(hp_dbconn *c, hp_pool *pool,
                                              const hp_approval_env *env, const char *team_id,
                                              const char *approval_id, hp_approval_row *out,
                                              bool *expired, char *err, size_t errcap);

#endif
