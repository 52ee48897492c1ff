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

#include "hp_db.h"
#include "hp_pool.h"

/* Columns: id, name, default_timeout_seconds, default_timeout_mode,
 * default_timeout_instruction, callback_auth_header, created_at (µs);
 * oldest first. */
HP_MUSTCHECK hp_err hp_store_team_agents(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                         PGresult **res, char *err, size_t errcap);

/* Columns: id, name, prefix, agent_id, test_mode, created_at (µs),
 * revoked_at (µs or NULL); live keys first, then newest first. */
HP_MUSTCHECK hp_err hp_store_team_keys(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                       PGresult **res, char *err, size_t errcap);

/* *found: key_id is a key of team_id (keys never move between teams, so a
 * yes stays true for the key's life). */
HP_MUSTCHECK hp_err hp_store_team_key_owned(hp_dbconn *c, const char *team_id, const char *key_id,
                                            bool *found, char *err, size_t errcap);

/* Columns: id, email, name, role, created_at (µs); oldest first. */
HP_MUSTCHECK hp_err hp_store_team_members(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                          PGresult **res, char *err, size_t errcap);

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
