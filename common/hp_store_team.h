/*
 * hp_store_team: what the settings pages read and change about a team
 * beyond creating things (which is hp_store_admin's, shared with the CLI):
 * the lists of agents, API keys and members, a member's role, removing a
 * member, and the quota with this month's use. Every statement is scoped
 * by team; a row of another team is "not found". Rows are read into the
 * caller's pool. Nothing here logs. Any thread.
 */
#ifndef HP_STORE_TEAM_H
#define HP_STORE_TEAM_H

#include <stdbool.h>
#include <stdint.h>

#include "hp_db.h"
#include "hp_pool.h"

/* One API key of a team (strings in the reader's pool; never the secret). */
typedef struct hp_team_key {
    const char *id;
    const char *name;
    const char *prefix;
    const char *agent_id; /* the agent it is scoped to, or NULL */
    bool test_mode;
    int64_t created_at; /* µs */
    int64_t revoked_at; /* µs, -1 while live */
} hp_team_key;

/* The team's keys, live keys first, then newest first, as *n rows in
 * *keys (an array in pool). (Its agents: hp_store_agents_list.) */
HP_MUSTCHECK hp_err hp_store_team_keys(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                       hp_team_key **keys, int *n, char *err, size_t errcap);

/* *found: key_id is a key of team_id (keys never move between teams, so a
 * yes stays true for the key's life). */
HP_MUSTCHECK hp_err hp_store_team_key_owned(hp_dbconn *c, const char *team_id, const char *key_id,
                                            bool *found, char *err, size_t errcap);

/* One member of a team (strings in the reader's pool). */
typedef struct hp_member_row {
    const char *id;
    const char *email;
    const char *name;
    const char *role;
    int64_t created_at; /* µs */
} hp_member_row;

/* The team's members, oldest first, as *n rows in *members (an array in
 * pool). */
HP_MUSTCHECK hp_err hp_store_team_members(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                          hp_member_row **members, int *n, char *err,
                                          size_t errcap);

/* Who may change whom: actor_role is the role of the user making the change. */
typedef enum {
    HP_MEMBER_SET_ROLE = 0,
    HP_MEMBER_REMOVE,
} hp_member_op;

/* Sets user_id's role (HP_MEMBER_SET_ROLE, role one of owner, admin,
 * reviewer) or removes the user with their tokens and sessions
 * (HP_MEMBER_REMOVE, role NULL), in one transaction that locks the team so
 * concurrent changes cannot remove its last owner. Rules: only an owner may
 * make an owner or change or remove one; a team keeps at least one owner.
 * HP_ERR_NOT_FOUND when user_id is not in team_id, HP_ERR_FORBIDDEN (reason
 * in err) when actor_role may not, HP_ERR_CONFLICT (reason in err) for the
 * last owner. Must be called outside a transaction. */
HP_MUSTCHECK hp_err hp_store_team_member_change(hp_dbconn *c, const char *team_id,
                                                const char *user_id, hp_member_op op,
                                                const char *role, const char *actor_role, char *err,
                                                size_t errcap);

/* The team's monthly quota (*quota -1 when unlimited) and the approvals
 * created this month (UTC). */
HP_MUSTCHECK hp_err hp_store_team_quota(hp_dbconn *c, const char *team_id, long long *quota,
                                        long long *used, char *err, size_t errcap);

#endif
