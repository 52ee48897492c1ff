/*
 * hp_store_auth: the lookups behind authentication — an API key with the
 * agent it acts for, a user token with its user, and the team's agents.
 * Each is one indexed query (a key lookup may also read the approval the
 * request is about, in the same statement); nothing is cached, so a revoked
 * key fails on the very next request on every replica.
 */
#ifndef HP_STORE_AUTH_H
#define HP_STORE_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "hp_approval.h"
#include "hp_db.h"
#include "hp_pool.h"

typedef struct hp_key_row {
    const char *key_id;
    const char *team_id;
    const char *key_agent_id; /* NULL for a team-scoped key */
    bool test_mode;
    bool revoked;
    bool team_has_quota;
    unsigned char hash[32];
    /* The agent named by agent_id, else the key's own agent, else (a
     * team-scoped key used without X-Agent-Id) the team's default agent —
     * its oldest, by created_at then id — when it exists in the key's team;
     * agent_id NULL otherwise. */
    const char *agent_id;
    const char *agent_name;
    int default_timeout_seconds;
    const char *default_timeout_mode;
    const char *default_timeout_instruction;
} hp_key_row;

/* Looks up the key with this public prefix; agent_id (a valid UUID or NULL)
 * selects the agent to join. *found false when no key has the prefix. */
HP_MUSTCHECK hp_err hp_store_key_lookup(hp_dbconn *c, hp_pool *pool, const char *prefix,
                                        const char *agent_id, hp_key_row *out, bool *found,
                                        char *err, size_t errcap);

/* hp_store_key_lookup and, in the same statement (one round trip), the
 * approval with external id request_id of the agent the key resolves to,
 * inside the key's team: *row_found tells whether there is one. The caller
 * must check the key (hash, revocation, agent) before using *row. Nothing is
 * cached, so a key revoked a moment ago on another replica is refused. */
HP_MUSTCHECK hp_err hp_store_key_lookup_approval(hp_dbconn *c, hp_pool *pool, const char *prefix,
                                                 const char *agent_id, const char *request_id,
                                                 hp_key_row *out, bool *found, hp_approval_row *row,
                                                 bool *row_found, char *err, size_t errcap);

typedef struct hp_token_row {
    const char *user_id;
    const char *team_id;
    const char *name;
    const char *role;
    bool revoked;
    unsigned char hash[32];
} hp_token_row;

HP_MUSTCHECK hp_err hp_store_token_lookup(hp_dbconn *c, hp_pool *pool, const char *prefix,
                                          hp_token_row *out, bool *found, char *err, size_t errcap);

/* One agent as the API and the settings show it (strings in the reader's
 * pool). */
typedef struct hp_agent_row {
    const char *id;
    const char *name;
    int default_timeout_seconds;
    const char *default_timeout_mode;
    const char *default_timeout_instruction; /* or NULL */
    const char *callback_auth_header;        /* the header's name (never its value), or NULL */
    int64_t created_at;                      /* µs */
    const char *webhook_url;                 /* seed 004's project webhook, or NULL */
} hp_agent_row;

/* The columns hp_store_agent_read reads, for statements of other store
 * modules that return an agent. */
#define HP_STORE_AGENT_COLS                                                                        \
    "id, name, default_timeout_seconds, default_timeout_mode, default_timeout_instruction, "       \
    "callback_auth_header, (extract(epoch from created_at) * 1000000)::bigint, webhook_url"

/* The typed reader of HP_STORE_AGENT_COLS: fills *a from row i of r (the
 * strings copied into pool, so r may be cleared at once). */
void hp_store_agent_read(hp_pool *pool, const PGresult *r, int i, hp_agent_row *a);

/* The team's agents (only agent_id when it is not NULL), oldest first, as
 * *n rows in *agents (an array in pool). */
HP_MUSTCHECK hp_err hp_store_agents_list(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                         const char *agent_id, hp_agent_row **agents, int *n,
                                         char *err, size_t errcap);

#endif
