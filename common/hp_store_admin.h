/*
 * hp_store_admin: the SQL behind `holdpoint migrate` and `holdpoint admin`:
 * the schema_migrations ledger and its advisory lock, and the creation of
 * teams, users with their personal tokens, agents and API keys, key
 * regeneration and revocation, and the team quota.
 *
 * Every admin function validates its input before touching the database
 * (HP_ERR_INVALID_PAYLOAD with a reason that names the option, which the CLI
 * maps to exit status 2) and then runs in one transaction of its own, so it
 * must be called on a connection that is not inside a transaction. Secrets
 * come back to the caller exactly once, in fixed buffers of the out struct;
 * the database only ever holds hashes (keys, tokens, passwords) or values
 * sealed with the deployment's secret key (webhook secrets, callback auth
 * values). Nothing here logs. One connection per call; any thread.
 */
#ifndef HP_STORE_ADMIN_H
#define HP_STORE_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "hp_crypto.h"
#include "hp_db.h"
#include "hp_err.h"
#include "hp_keys.h"

/* The session advisory lock every migrator takes ("Holdpoin" in ASCII). */
#define HP_MIGRATE_LOCK_KEY 0x486f6c64706f696eLL

/* Room for "whsec_" + base64 of 32 bytes (50 characters) and a NUL. */
#define HP_WEBHOOK_SECRET_MAX 64

/* Longest migration name kept by hp_store_admin_migrate_current. */
#define HP_MIGRATION_NAME_MAX 128

/* Quota value meaning "no monthly limit" (SQL NULL). */
#define HP_QUOTA_UNLIMITED (-1LL)

/* ---- migrations ---------------------------------------------------------
 * The protocol: lock, then for each compiled-in migration in order ask
 * whether it is applied and apply it if not, then unlock. Because the lock is
 * a blocking session lock taken before schema_migrations is even created, any
 * number of concurrent migrators run one after another and each later one
 * finds nothing left to do. */

/* Lifts this session's statement and lock timeouts (migrations may run long
 * and the lock wait is the point), blocks until the session advisory lock
 * HP_MIGRATE_LOCK_KEY is held, and creates schema_migrations if it does not
 * exist. Blocks without bound while another migrator holds the lock. */
HP_MUSTCHECK hp_err hp_store_admin_migrate_lock(hp_dbconn *c, char *err, size_t errcap);

/* Releases the advisory lock (closing the connection releases it too). */
HP_MUSTCHECK hp_err hp_store_admin_migrate_unlock(hp_dbconn *c, char *err, size_t errcap);

/* Sets *applied to whether name is recorded in schema_migrations. Call with
 * the lock held. */
HP_MUSTCHECK hp_err hp_store_admin_migrate_applied(hp_dbconn *c, const char *name, bool *applied,
                                                   char *err, size_t errcap);

/* Runs the (multi-statement) sql text and records name, in one transaction;
 * on failure everything is rolled back and err carries the server's message.
 * Call with the lock held and no transaction open. */
HP_MUSTCHECK hp_err hp_store_admin_migrate_apply(hp_dbconn *c, const char *name, const char *sql,
                                                 char *err, size_t errcap);

/* Copies the greatest recorded migration name into out (cap bytes) and sets
 * *any; *any false (out "") when none is recorded. */
HP_MUSTCHECK hp_err hp_store_admin_migrate_current(hp_dbconn *c, char *out, size_t cap, bool *any,
                                                   char *err, size_t errcap);

/* ---- identities ---------------------------------------------------------- */

/* An API key as created or regenerated. secret is shown to the user once. */
typedef struct hp_admin_key {
    char id[HP_UUID_LEN + 1];
    char secret[HP_KEY_LEN + 1];
    char prefix[HP_KEY_PREFIX_LEN + 1];
    char agent_id[HP_UUID_LEN + 1]; /* "" for a team-scoped key */
    char replaces[HP_UUID_LEN + 1]; /* regenerate: the revoked key; else "" */
    bool test_mode;
} hp_admin_key;

/* A user as created, with a personal API token shown once. */
typedef struct hp_admin_user {
    char id[HP_UUID_LEN + 1];
    char token[HP_KEY_LEN + 1];
} hp_admin_user;

/* An agent as created, with its webhook signing secret shown once. */
typedef struct hp_admin_agent {
    char id[HP_UUID_LEN + 1];
    char webhook_secret[HP_WEBHOOK_SECRET_MAX];
} hp_admin_agent;

/* What a new agent looks like; strings are borrowed. */
typedef struct hp_admin_agent_spec {
    const char *name;                 /* 1..200 code points */
    int timeout_seconds;              /* 30..86400; 0 means 3600 */
    const char *timeout_mode;         /* NULL means "expire_no_action" */
    const char *timeout_instruction;  /* 1..1000 code points; required with and only
                                         allowed with expire_with_predefined_instruction */
    const char *callback_auth_header; /* an HTTP token, or NULL; both or neither */
    const char *callback_auth_value;  /* no control characters; stored sealed */
} hp_admin_agent_spec;

/* What a new user looks like; strings are borrowed. */
typedef struct hp_admin_user_spec {
    const char *email;    /* local@domain, at most 254 bytes, stored as given */
    const char *name;     /* 1..200 code points; NULL means the email's local part */
    const char *role;     /* "owner", "admin" or "reviewer"; NULL means "reviewer" */
    const char *password; /* 1..1024 bytes; stored as an argon2id hash */
} hp_admin_user_spec;

typedef struct hp_admin_bootstrap_spec {
    const char *team_name;   /* 1..200 code points */
    long long quota;         /* 0..2147483647 or HP_QUOTA_UNLIMITED */
    hp_admin_user_spec user; /* role is forced to "owner" */
    const char *agent_name;  /* the agent gets the default timeout settings */
    bool test_mode;          /* of the team-scoped key */
} hp_admin_bootstrap_spec;

typedef struct hp_admin_bootstrap {
    char team_id[HP_UUID_LEN + 1];
    hp_admin_user user;
    hp_admin_agent agent;
    hp_admin_key key; /* team-scoped */
} hp_admin_bootstrap;

/* The checks each function below runs before it touches the database, for
 * callers that want to refuse bad input before connecting. Pure: they
 * return HP_OK or HP_ERR_INVALID_PAYLOAD with a reason naming the option. */
HP_MUSTCHECK hp_err hp_store_admin_bootstrap_check(const hp_admin_bootstrap_spec *spec, char *err,
                                                   size_t errcap);
HP_MUSTCHECK hp_err hp_store_admin_agent_check(const char *team_id, const hp_admin_agent_spec *spec,
                                               char *err, size_t errcap);
HP_MUSTCHECK hp_err hp_store_admin_key_check(const char *team_id, const char *agent_id,
                                             const char *name, char *err, size_t errcap);
HP_MUSTCHECK hp_err hp_store_admin_key_id_check(const char *key_id, char *err, size_t errcap);
HP_MUSTCHECK hp_err hp_store_admin_user_check(const char *team_id, const hp_admin_user_spec *spec,
                                              char *err, size_t errcap);
HP_MUSTCHECK hp_err hp_store_admin_quota_check(const char *team_id, long long quota, char *err,
                                               size_t errcap);

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

/* Creates an API key in team_id, scoped to agent_id when it is not NULL (the
 * agent must belong to the team), named name (NULL for none). Only its
 * prefix and SHA-256 are stored. HP_ERR_NOT_FOUND for an unknown team or an
 * agent outside the team. */
HP_MUSTCHECK hp_err hp_store_admin_key_create(hp_dbconn *c, const char *team_id,
                                              const char *agent_id, const char *name,
                                              bool test_mode, hp_admin_key *out, char *err,
                                              size_t errcap);

/* In one transaction revokes key_id (revoked_at = now(), replaced_by = the
 * new key) and creates a key with the same team, agent, name and test_mode.
 * The old key stops working at the commit. HP_ERR_NOT_FOUND when there is no
 * such key, HP_ERR_CONFLICT when it is already revoked. */
HP_MUSTCHECK hp_err hp_store_admin_key_regenerate(hp_dbconn *c, const char *key_id,
                                                  hp_admin_key *out, char *err, size_t errcap);

/* Revokes key_id (revoked_at = now()). Revoking a revoked key succeeds and
 * keeps the first revocation time. HP_ERR_NOT_FOUND when there is no such
 * key. */
HP_MUSTCHECK hp_err hp_store_admin_key_revoke(hp_dbconn *c, const char *key_id, char *err,
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
