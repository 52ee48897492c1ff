/*
 * hp_store_admin: the SQL behind `holdpoint admin` (and the settings pages):
 * the creation of teams, users with their personal tokens, agents and API
 * keys, key regeneration and revocation, and the team quota.
 *
 * Every function runs the model's checks on its input before touching the
 * database (HP_ERR_INVALID_PAYLOAD with a reason that names the option, which
 * the CLI maps to exit status 2) and then runs in one transaction of its own,
 * so it must be called on a connection that is not inside a transaction.
 * Secrets come back to the caller exactly once, in fixed buffers of the out
 * struct; the database only ever holds hashes (keys, tokens, passwords) or
 * values sealed with the deployment's secret key (webhook secrets, callback
 * auth values). Nothing here logs. One connection per call; any thread.
 */
#ifndef HP_STORE_ADMIN_H
#define HP_STORE_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "hp_admin.h"
#include "hp_db.h"
#include "hp_err.h"
#include "hp_pool.h"
#include "hp_store_auth.h"

/* Creates a team, its owner with a personal token, an agent and a
 * team-scoped API key, all in one transaction. secret_key seals the webhook
 * secret. HP_ERR_CONFLICT when the email is taken. Blocks on the database
 * and on argon2 (tens of ms). */
HP_MUSTCHECK hp_err hp_store_admin_bootstrap(hp_dbconn *c, const unsigned char secret_key[32],
                                             const hp_admin_bootstrap_spec *spec,
                                             hp_admin_bootstrap *out, char *err, size_t errcap);

/* Creates an agent in team_id; its webhook secret and callback auth value are
 * stored sealed with secret_key. HP_ERR_NOT_FOUND when the team does not
 * exist. */
HP_MUSTCHECK hp_err hp_store_admin_agent_create(hp_dbconn *c, const unsigned char secret_key[32],
                                                const char *team_id,
                                                const hp_admin_agent_spec *spec,
                                                hp_admin_agent *out, char *err, size_t errcap);

/* Changes agent_id of team_id by p (hp_admin_agent_patch_apply, checked
 * against the row as it is, locked), a new callback auth value sealed with
 * secret_key, and answers the row as it now is in *out (strings in pool).
 * HP_ERR_NOT_FOUND when team_id has no such agent; HP_ERR_INVALID_PAYLOAD
 * with the model's reason when the changed agent would not be valid. The
 * next create from any replica uses the new defaults (hp_keymem.h). */
HP_MUSTCHECK hp_err hp_store_admin_agent_update(hp_dbconn *c, hp_pool *pool,
                                                const unsigned char secret_key[32],
                                                const char *team_id, const char *agent_id,
                                                const hp_admin_agent_patch *p, hp_agent_row *out,
                                                char *err, size_t errcap);

/* Creates an API key in team_id, scoped to agent_id when it is not NULL (the
 * agent must belong to the team), named name (NULL for none). Only its
 * prefix and SHA-256 are stored. HP_ERR_NOT_FOUND for an unknown team or an
 * agent outside the team. */
HP_MUSTCHECK hp_err hp_store_admin_key_create(hp_dbconn *c, const char *team_id,
                                              const char *agent_id, const char *name,
                                              bool test_mode, hp_admin_key *out, char *err,
                                              size_t errcap);

/* In one transaction revokes the key ref names (revoked_at = now(),
 * replaced_by = the new key) and creates a key with the same team, agent,
 * name and test_mode; out->replaces gets the old key's id. The old key stops
 * working at the commit. HP_ERR_NOT_FOUND when no key matches (a whole key
 * must also match its stored hash), HP_ERR_CONFLICT when it is already
 * revoked. */
HP_MUSTCHECK hp_err hp_store_admin_key_regenerate(hp_dbconn *c, const hp_admin_key_ref *ref,
                                                  hp_admin_key *out, char *err, size_t errcap);

/* Revokes the key ref names (revoked_at = now()) and copies its id into
 * key_id. Revoking a revoked key succeeds and keeps the first revocation
 * time. HP_ERR_NOT_FOUND when no key matches. */
HP_MUSTCHECK hp_err hp_store_admin_key_revoke(hp_dbconn *c, const hp_admin_key_ref *ref,
                                              char key_id[HP_UUID_LEN + 1], char *err,
                                              size_t errcap);

/* Creates a user in team_id with a personal token. HP_ERR_NOT_FOUND for an
 * unknown team, HP_ERR_CONFLICT when the email is taken (case-insensitive).
 * Blocks on argon2 (tens of ms). */
HP_MUSTCHECK hp_err hp_store_admin_user_create(hp_dbconn *c, const char *team_id,
                                               const hp_admin_user_spec *spec, hp_admin_user *out,
                                               char *err, size_t errcap);

/* Sets the team's monthly approval quota (0..2147483647, or
 * HP_QUOTA_UNLIMITED). HP_ERR_NOT_FOUND for an unknown team. */
HP_MUSTCHECK hp_err hp_store_admin_quota_set(hp_dbconn *c, const char *team_id, long long quota,
                                             char *err, size_t errcap);

#endif
