/*
 * hp_store_channel: the SQL of channel configuration — a team's channels
 * (secrets sealed with HOLDPOINT_SECRET_KEY), an agent's routing, reminder
 * and escalation settings (agent_notify), the members' Web Push
 * subscriptions and the installation's VAPID key pair. Used by `holdpoint
 * admin channel`, the API (settings, subscriptions, the VAPID public key) and
 * holdpoint-delivery (the VAPID private key). Each function is one statement
 * or one transaction of its own on a borrowed connection outside any
 * transaction; nothing here logs.
 */
#ifndef HP_STORE_CHANNEL_H
#define HP_STORE_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "hp_crypto.h"
#include "hp_db.h"
#include "hp_err.h"
#include "hp_pool.h"

/* Adds a channel to team_id: config (clear) and secret (sealed with key;
 * NULL for none) as hp_channel_prepare made them. id gets the new id.
 * HP_ERR_NOT_FOUND for an unknown team, HP_ERR_CONFLICT when the team has a
 * channel of that name (case-insensitive). */
HP_MUSTCHECK hp_err hp_store_channel_add(hp_dbconn *c, const unsigned char key[32],
                                         const char *team_id, const char *kind, const char *name,
                                         json_object *config, json_object *secret,
                                         char id[HP_UUID_LEN + 1], char *err, size_t errcap);

/* The team's channels, oldest first. Columns: id, kind, name, config::text,
 * has_secret (bool), enabled (bool), last_success_at (µs or null),
 * last_error_at (µs or null), last_error, created_at (µs). Cleared with the
 * pool. */
HP_MUSTCHECK hp_err hp_store_channel_list(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                          PGresult **res, char *err, size_t errcap);

/* The rows of hp_store_channel_list as a JSON array (new reference) of
 * {channel_id, kind, name, config, has_secret, enabled, last_success_at,
 * last_error_at, last_error, created_at} — what the CLI and the settings
 * API print; never a secret. */
json_object *hp_store_channel_list_json(const PGresult *r);

/* Removes channel_id (of team_id when not NULL), its queued jobs with it,
 * and drops it from every agent's routing and escalation lists, in one
 * transaction. HP_ERR_NOT_FOUND when there is no such channel. */
HP_MUSTCHECK hp_err hp_store_channel_remove(hp_dbconn *c, const char *team_id,
                                            const char *channel_id, char *err, size_t errcap);

/* Queues a test message for channel_id (of team_id when not NULL): a
 * "notify" job that holdpoint-delivery expands into the channel's message.
 * job_id (24 bytes) gets the job's id; *team (pool memory) the channel's
 * team. HP_ERR_NOT_FOUND when there is no such channel. */
HP_MUSTCHECK hp_err hp_store_channel_test(hp_dbconn *c, const char *team_id, const char *channel_id,
                                          char job_id[24], char *err, size_t errcap);

/* The outcome of a test queued by hp_store_channel_test: *done false while
 * its jobs are queued; then *ok and the channel's last error (pool memory,
 * NULL when it succeeded). */
HP_MUSTCHECK hp_err hp_store_channel_test_state(hp_dbconn *c, hp_pool *pool, const char *job_id,
                                                bool *done, bool *ok, const char **error, char *err,
                                                size_t errcap);

/* An agent's notification settings. */
typedef struct hp_agent_notify_spec {
    json_object *channel_ids;          /* array of channel ids, or NULL = every channel */
    int remind_after_seconds;          /* 0 = no reminder */
    int escalate_after_seconds;        /* 0 = no escalation */
    json_object *escalate_channel_ids; /* array (may be empty) */
    json_object *escalate_user_ids;    /* array (may be empty) */
} hp_agent_notify_spec;

/* Replaces agent_id's settings (an agent of team_id, when it is not NULL). Every channel and user
 * must belong to the agent's team; an escalation needs a target and a delay (and the other way
 * round); a member escalated to must be reachable — the team needs an
 * enabled webpush or email channel. HP_ERR_NOT_FOUND for an unknown agent,
 * HP_ERR_INVALID_PAYLOAD with a reason otherwise. */
HP_MUSTCHECK hp_err hp_store_agent_notify_set(hp_dbconn *c, const char *team_id,
                                              const char *agent_id,
                                              const hp_agent_notify_spec *spec, char *err,
                                              size_t errcap);

/* An agent's settings as JSON text (pool memory) {agent_id, channel_ids (null
 * = all), remind_after_seconds, escalate_after_seconds, escalate_channel_ids,
 * escalate_user_ids}; the defaults when none are stored. HP_ERR_NOT_FOUND for
 * an unknown agent (or one outside team_id, when it is not NULL). */
HP_MUSTCHECK hp_err hp_store_agent_notify_get(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                              const char *agent_id, const char **json, char *err,
                                              size_t errcap);

/* Stores (or replaces, by endpoint) a Web Push subscription of user_id in
 * team_id; auth is sealed with key. id gets the subscription's id. */
HP_MUSTCHECK hp_err hp_store_push_subscribe(hp_dbconn *c, const unsigned char key[32],
                                            const char *team_id, const char *user_id,
                                            const char *endpoint, const char *p256dh,
                                            const char *auth, const char *user_agent,
                                            char id[HP_UUID_LEN + 1], char *err, size_t errcap);

/* Removes subscription id of user_id. HP_ERR_NOT_FOUND when the user has no
 * such subscription. */
HP_MUSTCHECK hp_err hp_store_push_unsubscribe(hp_dbconn *c, const char *user_id, const char *id,
                                              char *err, size_t errcap);

/* One Web Push subscription of a user (strings in the reader's pool). */
typedef struct hp_push_sub {
    const char *id;
    const char *endpoint;
    const char *user_agent;  /* or NULL */
    int64_t created_at;      /* µs */
    int64_t last_success_at; /* µs, -1 for never */
    const char *last_error;  /* or NULL */
} hp_push_sub;

/* The user's subscriptions, newest first, as *n rows in *subs (an array in
 * pool; the strings live as long as pool). */
HP_MUSTCHECK hp_err hp_store_push_list(hp_dbconn *c, hp_pool *pool, const char *user_id,
                                       hp_push_sub **subs, int *n, char *err, size_t errcap);

/* The installation's VAPID key pair, created on first use (any process may
 * race to create it: one insert wins, everyone reads the winner). *public_b64
 * and *private_pem (pool memory; NULL when private_pem is NULL) get its
 * halves, the private one unsealed with key. HP_ERR_INTERNAL when the stored
 * key cannot be unsealed (HOLDPOINT_SECRET_KEY changed). */
HP_MUSTCHECK hp_err hp_store_vapid_get(hp_dbconn *c, hp_pool *pool, const unsigned char key[32],
                                       const char **public_b64, const char **private_pem, char *err,
                                       size_t errcap);

#endif
