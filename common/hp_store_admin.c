/*
 * hp_store_admin: the SQL of the admin operations; see hp_store_admin.h for
 * the contracts and hp_admin.h for the model they apply.
 *
 * Each public function checks every input first (hp_admin_*_check), then
 * does the slow pure work (argon2, sealing) and only then opens its
 * transaction, so a transaction never waits on the CPU and a refused input
 * never reaches the database. Secrets live in the caller's out struct and in
 * short-lived locals that are wiped before they are freed; what reaches SQL
 * is a hash or a sealed text. This module does not log.
 */
#include <stdlib.h>
#include <string.h>

#include "hp_mem.h"
#include "hp_store_admin.h"
#include "hp_str.h"

/* A minted prefix that collides with an existing one is re-minted this many
 * times (12 random characters: a collision is already astronomically rare). */
#define HP__MINT_TRIES 3

/* ---- statements ---------------------------------------------------------- */

/* bytea input text "\x<64 hex>" for a SHA-256. */
static void hp__hash_param(const char *secret, char out[67])
{
    unsigned char h[32];

    hp_key_hash(secret, h);
    out[0] = '\\';
    out[1] = 'x';
    hp_hex_encode(h, sizeof(h), out + 2);
}

/* Locks the team row against deletion for the rest of the transaction. */
static hp_err hp__team_lock(hp_dbconn *c, const char *team_id, char *err, size_t errcap)
{
    const char *p[] = {team_id};
    bool found = false;
    hp_err rc = hp_db_exists(c, "select 1 from teams where id = $1 for key share", 1, p, &found,
                             err, errcap);

    if (rc == HP_OK && !found) {
        hp_err_set(err, errcap, "team not found");
        rc = HP_ERR_NOT_FOUND;
    }
    return rc;
}

static hp_err hp__team_insert(hp_dbconn *c, const char *name, long long quota,
                              char id[HP_UUID_LEN + 1], char *err, size_t errcap)
{
    char q[24];
    const char *p[] = {id, name, quota == HP_QUOTA_UNLIMITED ? NULL : q};

    (void)hp_fmt(q, sizeof(q), "%lld", quota);
    hp_uuid_v7(id);
    return hp_db_exec(c, NULL,
                      "insert into teams (id, name, approval_quota) values ($1, $2, $3::integer)",
                      3, p, err, errcap);
}

/* Inserts an API key or user token row with a freshly minted secret; the
 * insert skips a prefix collision and the loop mints again. */
static hp_err hp__mint_insert(hp_dbconn *c, hp_key_kind kind, const char *sql, int n,
                              const char **p, char secret[HP_KEY_LEN + 1],
                              char prefix[HP_KEY_PREFIX_LEN + 1], char *err, size_t errcap)
{
    char hash[67];
    hp_err rc;

    /* The caller leaves p[n-2] and p[n-1] for the prefix and the hash. */
    for (int i = 0; i < HP__MINT_TRIES; i++) {
        bool inserted = false;
        hp_key_mint(kind, secret, prefix);
        hp__hash_param(secret, hash);
        p[n - 2] = prefix;
        p[n - 1] = hash;
        rc = hp_db_exists(c, sql, n, p, &inserted, err, errcap);
        if (rc != HP_OK || inserted)
            return rc;
    }
    hp_err_set(err, errcap, "could not mint a unique key prefix");
    return HP_ERR_INTERNAL;
}

static hp_err hp__key_insert(hp_dbconn *c, const char *team_id, const char *agent_id,
                             const char *name, bool test_mode, hp_admin_key *out, char *err,
                             size_t errcap)
{
    static const char sql[] =
        "insert into api_keys (id, team_id, agent_id, name, test_mode, prefix, key_hash) "
        "values ($1, $2, $3, $4, $5::boolean, $6, $7::bytea) "
        "on conflict (prefix) do nothing returning id";
    const char *p[7];

    hp_uuid_v7(out->id);
    p[0] = out->id;
    p[1] = team_id;
    p[2] = agent_id;
    p[3] = name;
    p[4] = test_mode ? "true" : "false";
    hp_strlcpy(out->agent_id, agent_id ? agent_id : "", sizeof(out->agent_id));
    out->test_mode = test_mode;
    return hp__mint_insert(c, HP_KEY_API, sql, 7, p, out->secret, out->prefix, err, errcap);
}

/* Inserts a user (spec already checked, password already hashed) and a
 * personal token. */
static hp_err hp__user_insert(hp_dbconn *c, const char *team_id, const hp_admin_user_spec *u,
                              const char *role, const char *pw_hash, hp_admin_user *out, char *err,
                              size_t errcap)
{
    static const char tsql[] =
        "insert into user_tokens (id, user_id, team_id, prefix, token_hash) "
        "values ($1, $2, $3, $4, $5::bytea) on conflict (prefix) do nothing returning id";
    char token_id[HP_UUID_LEN + 1], prefix[HP_KEY_PREFIX_LEN + 1];
    char *local = NULL;
    const char *name = u->name;
    const char *tp[5];
    bool inserted = false;
    hp_err rc;

    if (name == NULL) {
        local = hp_xstrndup(u->email, strcspn(u->email, "@"));
        name = local;
    }
    hp_uuid_v7(out->id);
    {
        /* The unique index is on lower(email): a case variant is a conflict. */
        const char *p[] = {out->id, team_id, u->email, name, role, pw_hash};
        rc = hp_db_exists(c,
                          "insert into users (id, team_id, email, name, role, password_hash) "
                          "values ($1, $2, $3, $4, $5, $6) "
                          "on conflict ((lower(email))) do nothing returning id",
                          6, p, &inserted, err, errcap);
    }
    if (rc != HP_OK)
        goto out;
    if (!inserted) {
        hp_err_set(err, errcap, "a user with this email already exists");
        rc = HP_ERR_CONFLICT;
        goto out;
    }
    hp_uuid_v7(token_id);
    tp[0] = token_id;
    tp[1] = out->id;
    tp[2] = team_id;
    rc = hp__mint_insert(c, HP_KEY_USER, tsql, 5, tp, out->token, prefix, err, errcap);
out:
    free(local);
    return rc;
}

/* Inserts an agent (spec already checked) with the secrets hp_admin_agent_seal
 * made: only sealed text reaches SQL. */
static hp_err hp__agent_insert(hp_dbconn *c, const unsigned char key[32], const char *team_id,
                               const hp_admin_agent_spec *a, hp_admin_agent *out, char *err,
                               size_t errcap)
{
    static const char sql[] =
        "insert into agents (id, team_id, name, default_timeout_seconds, default_timeout_mode, "
        "default_timeout_instruction, callback_auth_header, callback_auth_value_sealed, "
        "webhook_secret_sealed) values ($1, $2, $3, $4::integer, $5, $6, $7, $8, $9)";
    hp_admin_agent_sealed s;
    char secs[16];
    hp_err rc = hp_admin_agent_seal(key, a, out, &s, err, errcap);

    if (rc != HP_OK)
        return rc;
    (void)hp_fmt(secs, sizeof(secs), "%d", a->timeout_seconds ? a->timeout_seconds : 3600);
    hp_uuid_v7(out->id);
    {
        const char *p[] = {out->id,
                           team_id,
                           a->name,
                           secs,
                           a->timeout_mode ? a->timeout_mode : HP_ADMIN_DEFAULT_TIMEOUT_MODE,
                           a->timeout_instruction,
                           a->callback_auth_header,
                           s.callback_auth_value,
                           s.webhook_secret};
        rc = hp_db_exec(c, NULL, sql, 9, p, err, errcap);
    }
    hp_admin_agent_sealed_deinit(&s);
    return rc;
}

/* ---- admin operations --------------------------------------------------- */

hp_err hp_store_admin_bootstrap(hp_dbconn *c, const unsigned char secret_key[32],
                                const hp_admin_bootstrap_spec *spec, hp_admin_bootstrap *out,
                                char *err, size_t errcap)
{
    hp_admin_agent_spec agent = {.name = spec->agent_name};
    char *pw_hash = NULL;
    hp_err rc;

    memset(out, 0, sizeof(*out));
    if ((rc = hp_admin_bootstrap_check(spec, err, errcap)) != HP_OK)
        return rc;
    if ((pw_hash = hp_admin_password_hash(spec->user.password, err, errcap)) == NULL)
        return HP_ERR_INTERNAL;

    rc = hp_db_begin(c, err, errcap);
    if (rc != HP_OK)
        goto out;
    rc = hp__team_insert(c, spec->team_name, spec->quota, out->team_id, err, errcap);
    if (rc == HP_OK)
        rc = hp__user_insert(c, out->team_id, &spec->user, "owner", pw_hash, &out->user, err,
                             errcap);
    if (rc == HP_OK)
        rc = hp__agent_insert(c, secret_key, out->team_id, &agent, &out->agent, err, errcap);
    if (rc == HP_OK)
        rc = hp__key_insert(c, out->team_id, NULL, "bootstrap", spec->test_mode, &out->key, err,
                            errcap);
    rc = hp_db_finish(c, rc, err, errcap);
out:
    if (rc != HP_OK)
        explicit_bzero(out, sizeof(*out));
    free(pw_hash);
    return rc;
}

hp_err hp_store_admin_agent_create(hp_dbconn *c, const unsigned char secret_key[32],
                                   const char *team_id, const hp_admin_agent_spec *spec,
                                   hp_admin_agent *out, char *err, size_t errcap)
{
    hp_err rc;

    memset(out, 0, sizeof(*out));
    if ((rc = hp_admin_agent_check(team_id, spec, err, errcap)) != HP_OK)
        return rc;
    rc = hp_db_begin(c, err, errcap);
    if (rc != HP_OK)
        return rc;
    rc = hp__team_lock(c, team_id, err, errcap);
    if (rc == HP_OK)
        rc = hp__agent_insert(c, secret_key, team_id, spec, out, err, errcap);
    rc = hp_db_finish(c, rc, err, errcap);
    if (rc != HP_OK)
        explicit_bzero(out, sizeof(*out));
    return rc;
}

hp_err hp_store_admin_agent_update(hp_dbconn *c, hp_pool *pool, const unsigned char secret_key[32],
                                   const char *team_id, const char *agent_id,
                                   const hp_admin_agent_patch *p, hp_agent_row *out, char *err,
                                   size_t errcap)
{
    static const char sql_get[] =
        "select name, default_timeout_seconds, default_timeout_mode, "
        "default_timeout_instruction from agents where id = $1 and team_id = $2 for no key update";
    static const char sql_set[] =
        "update agents set name = $9, default_timeout_seconds = $3::integer, "
        "default_timeout_mode = $4, "
        "default_timeout_instruction = $5, callback_auth_header = case when $6::boolean then $7 "
        "else callback_auth_header end, callback_auth_value_sealed = case when $6::boolean then "
        "$8 else callback_auth_value_sealed end where id = $1 and team_id = $2 "
        "returning " HP_STORE_AGENT_COLS;
    const char *ids[] = {agent_id, team_id};
    char *sealed = NULL;
    PGresult *r = NULL;
    hp_err rc;

    memset(out, 0, sizeof(*out));
    if (agent_id == NULL || !hp_uuid_valid(agent_id) || team_id == NULL ||
        !hp_uuid_valid(team_id)) {
        hp_err_set(err, errcap, "agent not found in this team");
        return HP_ERR_NOT_FOUND;
    }
    if (p->set_callback_auth && p->callback_auth_value != NULL)
        sealed = hp_secret_seal(secret_key, p->callback_auth_value, strlen(p->callback_auth_value));
    rc = hp_db_begin(c, err, errcap);
    if (rc == HP_OK)
        rc = hp_db_exec(c, &r, sql_get, 2, ids, err, errcap);
    if (rc == HP_OK && PQntuples(r) != 1) {
        hp_err_set(err, errcap, "agent not found in this team");
        rc = HP_ERR_NOT_FOUND;
    }
    if (rc == HP_OK) {
        const char *v[4];
        hp_admin_agent_spec cur = {0}, next;
        char secs[16];
        hp_db_row_copy(pool, r, 0, 0, 4, v);
        cur.name = v[0];
        cur.timeout_seconds = (int)hp_db_ll(r, 0, 1, 0);
        cur.timeout_mode = v[2];
        cur.timeout_instruction = v[3];
        PQclear(r);
        r = NULL;
        rc = hp_admin_agent_patch_apply(team_id, &cur, p, &next, err, errcap);
        if (rc == HP_OK) {
            const char *q[] = {agent_id,
                               team_id,
                               secs,
                               next.timeout_mode,
                               next.timeout_instruction,
                               p->set_callback_auth ? "t" : "f",
                               next.callback_auth_header,
                               sealed,
                               next.name};
            (void)hp_fmt(secs, sizeof(secs), "%d", next.timeout_seconds);
            rc = hp_db_exec(c, &r, sql_set, 9, q, err, errcap);
        }
        if (rc == HP_OK && PQntuples(r) == 1)
            hp_store_agent_read(pool, r, 0, out);
        /* Every replica's memory of the team's keys is refused by the next
         * create's insert (hp_keymem.h). */
        if (rc == HP_OK)
            rc = hp_db_exec(c, NULL, "update teams set agents_rev = agents_rev + 1 where id = $1",
                            1, &team_id, err, errcap);
    }
    PQclear(r);
    rc = hp_db_finish(c, rc, err, errcap);
    free(sealed);
    return rc;
}

hp_err hp_store_admin_key_create(hp_dbconn *c, const char *team_id, const char *agent_id,
                                 const char *name, bool test_mode, hp_admin_key *out, char *err,
                                 size_t errcap)
{
    hp_err rc;

    memset(out, 0, sizeof(*out));
    if ((rc = hp_admin_key_check(team_id, agent_id, name, err, errcap)) != HP_OK)
        return rc;
    rc = hp_db_begin(c, err, errcap);
    if (rc != HP_OK)
        return rc;
    rc = hp__team_lock(c, team_id, err, errcap);
    if (rc == HP_OK && agent_id != NULL) {
        /* An agent-scoped key must stay inside its team: a key of team A
         * acting for team B's agent would break isolation. */
        const char *p[] = {agent_id, team_id};
        bool found = false;
        rc = hp_db_exists(c, "select 1 from agents where id = $1 and team_id = $2 for key share", 2,
                          p, &found, err, errcap);
        if (rc == HP_OK && !found) {
            hp_err_set(err, errcap, "agent not found in this team");
            rc = HP_ERR_NOT_FOUND;
        }
    }
    if (rc == HP_OK)
        rc = hp__key_insert(c, team_id, agent_id, name, test_mode, out, err, errcap);
    rc = hp_db_finish(c, rc, err, errcap);
    if (rc != HP_OK)
        explicit_bzero(out, sizeof(*out));
    return rc;
}

/* The condition that picks the key of a hp_admin_key_ref bound as $1 (id),
 * $2 (prefix) and $3 (hash, bytea input text). */
#define HP__KEY_REF_WHERE                                                                          \
    "(($1::uuid is not null and id = $1::uuid) or "                                                \
    "(prefix = $2 and ($3::bytea is null or key_hash = $3::bytea)))"

/* The three parameters of HP__KEY_REF_WHERE for ref; hash is the buffer of
 * the bytea text. */
static void hp__key_ref_params(const hp_admin_key_ref *ref, char hash[67], const char *p[3])
{
    hash[0] = '\\';
    hash[1] = 'x';
    hp_hex_encode(ref->hash, sizeof(ref->hash), hash + 2);
    p[0] = ref->id[0] != '\0' ? ref->id : NULL;
    p[1] = ref->prefix[0] != '\0' ? ref->prefix : NULL;
    p[2] = ref->has_hash ? hash : NULL;
}

hp_err hp_store_admin_key_regenerate(hp_dbconn *c, const hp_admin_key_ref *ref, hp_admin_key *out,
                                     char *err, size_t errcap)
{
    const char *p[3];
    char hash[67];
    PGresult *r = NULL;
    hp_err rc;

    memset(out, 0, sizeof(*out));
    hp__key_ref_params(ref, hash, p);
    rc = hp_db_begin(c, err, errcap);
    if (rc != HP_OK)
        return rc;
    /* FOR UPDATE: two regenerations of one key serialise, and the second
     * sees the key revoked instead of forking it into two live keys. */
    rc = hp_db_exec(c, &r,
                    "select team_id, agent_id, name, test_mode, revoked_at is not null, id::text "
                    "from api_keys where " HP__KEY_REF_WHERE " for update",
                    3, p, err, errcap);
    if (rc != HP_OK)
        goto done;
    if (PQntuples(r) == 0) {
        hp_err_set(err, errcap, "key not found");
        rc = HP_ERR_NOT_FOUND;
        goto done;
    }
    if (hp_db_bool(r, 0, 4)) {
        hp_err_set(err, errcap, "key is already revoked");
        rc = HP_ERR_CONFLICT;
        goto done;
    }
    rc = hp__key_insert(c, hp_db_val(r, 0, 0), hp_db_val(r, 0, 1), hp_db_val(r, 0, 2),
                        hp_db_bool(r, 0, 3), out, err, errcap);
    if (rc != HP_OK)
        goto done;
    hp_strlcpy(out->replaces, hp_db_val(r, 0, 5), sizeof(out->replaces));
    {
        const char *up[] = {out->replaces, out->id};
        rc = hp_db_exec(c, NULL,
                        "update api_keys set revoked_at = now(), replaced_by = $2 where id = $1", 2,
                        up, err, errcap);
    }
done:
    PQclear(r);
    rc = hp_db_finish(c, rc, err, errcap);
    if (rc != HP_OK)
        explicit_bzero(out, sizeof(*out));
    return rc;
}

hp_err hp_store_admin_key_revoke(hp_dbconn *c, const hp_admin_key_ref *ref,
                                 char key_id[HP_UUID_LEN + 1], char *err, size_t errcap)
{
    const char *p[3];
    char hash[67];
    PGresult *r = NULL;
    hp_err rc;

    key_id[0] = '\0';
    hp__key_ref_params(ref, hash, p);
    /* One statement, so its own transaction; a second revoke keeps the
     * first time. */
    rc = hp_db_exec(c, &r,
                    "update api_keys set revoked_at = coalesce(revoked_at, now()) "
                    "where " HP__KEY_REF_WHERE " returning id::text",
                    3, p, err, errcap);
    if (rc == HP_OK && PQntuples(r) == 0) {
        hp_err_set(err, errcap, "key not found");
        rc = HP_ERR_NOT_FOUND;
    } else if (rc == HP_OK) {
        hp_strlcpy(key_id, hp_db_val(r, 0, 0), HP_UUID_LEN + 1);
    }
    PQclear(r);
    return rc;
}

hp_err hp_store_admin_user_create(hp_dbconn *c, const char *team_id, const hp_admin_user_spec *spec,
                                  hp_admin_user *out, char *err, size_t errcap)
{
    char *pw_hash = NULL;
    hp_err rc;

    memset(out, 0, sizeof(*out));
    if ((rc = hp_admin_user_check(team_id, spec, err, errcap)) != HP_OK)
        return rc;
    if ((pw_hash = hp_admin_password_hash(spec->password, err, errcap)) == NULL)
        return HP_ERR_INTERNAL;
    rc = hp_db_begin(c, err, errcap);
    if (rc != HP_OK)
        goto out;
    rc = hp__team_lock(c, team_id, err, errcap);
    if (rc == HP_OK)
        rc = hp__user_insert(c, team_id, spec, spec->role ? spec->role : "reviewer", pw_hash, out,
                             err, errcap);
    rc = hp_db_finish(c, rc, err, errcap);
out:
    if (rc != HP_OK)
        explicit_bzero(out, sizeof(*out));
    free(pw_hash);
    return rc;
}

hp_err hp_store_admin_quota_set(hp_dbconn *c, const char *team_id, long long quota, char *err,
                                size_t errcap)
{
    char q[24];
    const char *p[] = {team_id, quota == HP_QUOTA_UNLIMITED ? NULL : q};
    bool found = false;
    hp_err rc;

    if ((rc = hp_admin_quota_check(team_id, quota, err, errcap)) != HP_OK)
        return rc;
    (void)hp_fmt(q, sizeof(q), "%lld", quota);
    /* Dropping this month's counter makes the next create recount the
     * month's approvals, including those made while the team had no quota
     * (unlimited teams are not counted on the create path). */
    rc = hp_db_exists(c,
                      "with d as (delete from team_usage where team_id = $1 and period = "
                      "date_trunc('month', now() at time zone 'utc')::date) "
                      "update teams set approval_quota = $2::integer where id = $1 returning id",
                      2, p, &found, err, errcap);
    if (rc == HP_OK && !found) {
        hp_err_set(err, errcap, "team not found");
        rc = HP_ERR_NOT_FOUND;
    }
    return rc;
}
