/*
 * hp_admin: the model of a tenant's identities — teams, users, agents and
 * API keys as the admin commands (and the settings pages) create them: the
 * specs, the checks on them, and the pure work done before a transaction
 * opens (argon2id password hashes, new webhook secrets, sealing with the
 * deployment's key). The SQL is in hp_store_admin.c. Pure; any thread.
 */
#ifndef HP_ADMIN_H
#define HP_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "hp_crypto.h"
#include "hp_err.h"
#include "hp_keys.h"
#include "hp_store_auth.h"

/* Room for "whsec_" + base64 of 32 bytes (50 characters) and a NUL. */
#define HP_WEBHOOK_SECRET_MAX 64

/* Quota value meaning "no monthly limit" (SQL NULL). */
#define HP_QUOTA_UNLIMITED (-1LL)

/* An agent's timeout mode when none is given. */
#define HP_ADMIN_DEFAULT_TIMEOUT_MODE "expire_no_action"

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

/* A change to an existing agent (PATCH /v1/settings/agents/{id}): its
 * name, timeout defaults and callback auth header. A member not set is
 * kept; strings are borrowed. */
typedef struct hp_admin_agent_patch {
    const char *name; /* NULL: kept */
    bool set_timeout_seconds;
    int timeout_seconds;
    const char *timeout_mode; /* NULL: kept */
    bool set_timeout_instruction;
    const char *timeout_instruction; /* NULL with set_timeout_instruction: none */
    /* The header's name and value are replaced together; both NULL removes
     * the header. */
    bool set_callback_auth;
    const char *callback_auth_header, *callback_auth_value;
} hp_admin_agent_patch;

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

/* The checks every admin operation runs before it touches the database, for
 * callers that want to refuse bad input before connecting. Pure: they
 * return HP_OK or HP_ERR_INVALID_PAYLOAD with a reason naming the option. */
HP_MUSTCHECK hp_err hp_admin_bootstrap_check(const hp_admin_bootstrap_spec *spec, char *err,
                                             size_t errcap);
HP_MUSTCHECK hp_err hp_admin_agent_check(const char *team_id, const hp_admin_agent_spec *spec,
                                         char *err, size_t errcap);
/* The agent cur (its name and timeout defaults; its callback fields are
 * not read) changed by p, as *out, checked as hp_admin_agent_check checks a
 * new agent. The callback fields of *out are p's when it sets them, else
 * NULL (the stored header stays). A mode changed to expire_no_action drops
 * the instruction unless p sets one (which is then refused). Strings of *out
 * are borrowed from cur and p. Pure. */
/* The agent a as the settings list it (GET and PATCH
 * /v1/settings/agents, holdpoint admin update-agent): agent_id, name, its
 * timeout defaults, created_at and the callback auth header's name (never
 * its value). New reference. */
json_object *hp_admin_agent_json(const hp_agent_row *a);
HP_MUSTCHECK hp_err hp_admin_agent_patch_apply(const char *team_id, const hp_admin_agent_spec *cur,
                                               const hp_admin_agent_patch *p,
                                               hp_admin_agent_spec *out, char *err, size_t errcap);
HP_MUSTCHECK hp_err hp_admin_key_check(const char *team_id, const char *agent_id, const char *name,
                                       char *err, size_t errcap);
/* A key as an operator names it (--key-id): its id, the API key itself, or
 * its public prefix. A whole key is identified by its prefix and must also
 * match the stored hash, so a mistyped secret names no key. */
typedef struct hp_admin_key_ref {
    char id[HP_UUID_LEN + 1];           /* "" unless named by id */
    char prefix[HP_KEY_PREFIX_LEN + 1]; /* "" when named by id */
    unsigned char hash[32];             /* SHA-256 of the key, when has_hash */
    bool has_hash;
} hp_admin_key_ref;

/* Reads s into *out; HP_ERR_INVALID_PAYLOAD when it is none of the three
 * forms (the reason never quotes s, which may be a mistyped key). */
HP_MUSTCHECK hp_err hp_admin_key_ref_parse(const char *s, hp_admin_key_ref *out, char *err,
                                           size_t errcap);
HP_MUSTCHECK hp_err hp_admin_user_check(const char *team_id, const hp_admin_user_spec *spec,
                                        char *err, size_t errcap);
HP_MUSTCHECK hp_err hp_admin_quota_check(const char *team_id, long long quota, char *err,
                                         size_t errcap);

/* An argon2id PHC string for password (caller frees), or NULL with a reason
 * in err. Slow on purpose (tens of ms). */
char *hp_admin_password_hash(const char *password, char *err, size_t errcap);

/* What an agent's row stores of its secrets: sealed text only. */
typedef struct hp_admin_agent_sealed {
    char *webhook_secret;      /* sealed "whsec_..." */
    char *callback_auth_value; /* sealed, or NULL when a has none */
} hp_admin_agent_sealed;

/* Makes a new webhook secret for an agent of spec a (into out->webhook_secret,
 * shown once) and seals it and a's callback auth value with key into *s;
 * release *s with hp_admin_agent_sealed_deinit. */
HP_MUSTCHECK hp_err hp_admin_agent_seal(const unsigned char key[32], const hp_admin_agent_spec *a,
                                        hp_admin_agent *out, hp_admin_agent_sealed *s, char *err,
                                        size_t errcap);
void hp_admin_agent_sealed_deinit(hp_admin_agent_sealed *s);

#endif
