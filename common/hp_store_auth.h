/*
 * hp_store_auth: the lookups behind authentication — an API key with the
 * agent it acts for, a user token with its user, and the team's agents.
 * Each is one indexed query (a key lookup may also read the approval the
 * request is about, in the same statement). The store caches nothing, so a
 * revoked key fails on the very next request on every replica; the API's
 * memory of keys for creates (hp_keymem.h) is checked again by each
 * create's insert.
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
    int default_timeout_seconds;
    const char *default_timeout_mode;
    const char *default_timeout_instruction;
    /* The team's count of changes to its agents' defaults (teams.agents_rev)
     * as of this lookup, which a create from memory is checked against. */
    int64_t team_agents_rev;
} hp_key_row;

/* One key lookup: the key with public prefix, the agent agent_id names (a
 * valid UUID, or NULL) joined as hp_key_row says and, when request_id is
 * not NULL, that agent's approval with this external id inside the key's
 * team (*row, row_found). The strings go into pool. The caller must check
 * the key (hash, revocation, agent) before using the row. */
typedef struct hp_key_query {
    const char *prefix, *agent_id, *request_id; /* in */
    hp_pool *pool;                              /* in */
    hp_key_row key;                             /* out, when found */
    bool found;                                 /* out: a key has this prefix */
    hp_approval_row row;                        /* out, when row_found */
    bool row_found;
} hp_key_query;

/* Runs the n lookups q[0..n) in one statement (either all or none of them
 * with a request_id) (one round trip, one
 * snapshot taken after every one of them was asked). Nothing is cached here, so
 * a key revoked a moment ago on another replica is refused. */
HP_MUSTCHECK hp_err hp_store_key_lookup(hp_dbconn *c, hp_key_query *const *q, int n, char *err,
                                        size_t errcap);

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
