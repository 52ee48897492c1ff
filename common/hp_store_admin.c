/*
 * hp_store_admin: validation and SQL for the CLI's migrate and admin
 * commands; see hp_store_admin.h for the contracts.
 *
 * Each public admin function checks every input first, then does the slow
 * pure work (argon2, sealing) and only then opens its transaction, so a
 * transaction never waits on the CPU and a refused input never reaches the
 * database. Secrets live in the caller's out struct and in short-lived
 * locals that are wiped before they are freed; what reaches SQL is a hash or
 * a sealed text. This module does not log.
 */
#include <stdlib.h>
#include <string.h>

#include "hp_approval.h"
#include "hp_mem.h"
#include "hp_store_admin.h"
#include "hp_str.h"

/* Limits not set by the schema: an email address (RFC 5321 path and local
 * part), a user name like a team's, a password, a callback auth header. */
#define HP__EMAIL_MAX        254
#define HP__EMAIL_LOCAL_MAX  64
#define HP__NAME_MAX         200
#define HP__PASSWORD_MAX     1024
#define HP__HEADER_NAME_MAX  256
#define HP__HEADER_VALUE_MAX 4096
/* A minted prefix that collides with an existing one is re-minted this many
 * times (12 random characters: a collision is already astronomically rare). */
#define HP__MINT_TRIES 3

static const char *const hp__roles[] = {"owner", "admin", "reviewer", NULL};
static const char *const hp__modes[] = {"expire_no_action", "expire_with_predefined_instruction",
                                        NULL};

/* Header names the delivery worker owns: letting an agent's auth header
 * replace one of these would break framing or forge the signature. */
static const char *const hp__reserved_headers[] = {
    "host",    "content-length", "content-type", "transfer-encoding", "connection",        "te",
    "trailer", "upgrade",        "webhook-id",   "webhook-timestamp", "webhook-signature", NULL};

/* ---- validation --------------------------------------------------------- */

static bool hp__in(const char *s, const char *const *set, bool ci)
{
    for (size_t i = 0; set[i] != NULL; i++)
        if (ci ? hp_streq_ci(s, set[i]) : strcmp(s, set[i]) == 0)
            return true;
    return false;
}

/* A required text option: valid UTF-8, 1..max code points, and no control
 * characters unless allow_newlines (then tab, CR and LF are fine). */
static hp_err hp__check_text(const char *opt, const char *s, size_t max, bool allow_newlines,
                             char *err, size_t errcap)
{
    long n;

    if (s == NULL || s[0] == '\0') {
        hp_err_set(err, errcap, "%s is required and must not be empty", opt);
        return HP_ERR_INVALID_PAYLOAD;
    }
    n = hp_utf8_len(s, strlen(s));
    if (n < 0) {
        hp_err_set(err, errcap, "%s must be valid UTF-8", opt);
        return HP_ERR_INVALID_PAYLOAD;
    }
    if ((size_t)n > max) {
        hp_err_set(err, errcap, "%s must be at most %zu characters (got %ld)", opt, max, n);
        return HP_ERR_INVALID_PAYLOAD;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (allow_newlines && (*p == '\t' || *p == '\n' || *p == '\r'))
            continue;
        if (*p < 0x20 || *p == 0x7f) {
            hp_err_set(err, errcap, "%s must not contain control characters", opt);
            return HP_ERR_INVALID_PAYLOAD;
        }
    }
    return HP_OK;
}

static hp_err hp__check_uuid(const char *opt, const char *s, char *err, size_t errcap)
{
    if (s == NULL || !hp_uuid_valid(s)) {
        hp_err_set(err, errcap, "%s must be a UUID", opt);
        return HP_ERR_INVALID_PAYLOAD;
    }
    return HP_OK;
}

/* The minimal shape local@domain: one '@', both sides non-empty, no spaces
 * or control characters. Deliverability is the mail system's business. */
static hp_err hp__check_email(const char *s, char *err, size_t errcap)
{
    const char *at;
    hp_err rc = hp__check_text("--email", s, HP__EMAIL_MAX, false, err, errcap);

    if (rc != HP_OK)
        return rc;
    at = strchr(s, '@');
    if (strlen(s) > HP__EMAIL_MAX || at == NULL || at == s || at[1] == '\0' ||
        strchr(at + 1, '@') != NULL || (size_t)(at - s) > HP__EMAIL_LOCAL_MAX ||
        strchr(s, ' ') != NULL) {
        hp_err_set(err, errcap,
                   "--email must look like local@domain (one '@', no spaces, at most %d bytes)",
                   HP__EMAIL_MAX);
        return HP_ERR_INVALID_PAYLOAD;
    }
    return HP_OK;
}

/* RFC 9110 token: 1*tchar. */
static bool hp__is_token(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";

    if (s[0] == '\0')
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        char ch = *p;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
            continue;
        if (strchr(extra, ch) == NULL)
            return false;
    }
    return true;
}

/* name_opt is the option that sets the user's name (--name, --user-name). */
static hp_err hp__check_user(const hp_admin_user_spec *u, const char *name_opt, char *err,
                             size_t errcap)
{
    hp_err rc = hp__check_email(u->email, err, errcap);

    if (rc != HP_OK)
        return rc;
    if (u->name != NULL &&
        (rc = hp__check_text(name_opt, u->name, HP__NAME_MAX, false, err, errcap)) != HP_OK)
        return rc;
    if (u->role != NULL && !hp__in(u->role, hp__roles, false)) {
        hp_err_set(err, errcap, "--role must be one of owner, admin, reviewer");
        return HP_ERR_INVALID_PAYLOAD;
    }
    if (u->password == NULL || u->password[0] == '\0') {
        hp_err_set(err, errcap, "--password is required and must not be empty");
        return HP_ERR_INVALID_PAYLOAD;
    }
    if (strlen(u->password) > HP__PASSWORD_MAX) {
        hp_err_set(err, errcap, "--password must be at most %d bytes", HP__PASSWORD_MAX);
        return HP_ERR_INVALID_PAYLOAD;
    }
    return HP_OK;
}

static hp_err hp__check_agent(const hp_admin_agent_spec *a, char *err, size_t errcap)
{
    bool predefined;
    hp_err rc = hp__check_text("--name", a->name, HP_APPROVAL_ATTR_MAX, false, err, errcap);

    if (rc != HP_OK)
        return rc;
    if (a->timeout_seconds != 0 && (a->timeout_seconds < HP_APPROVAL_TIMEOUT_MIN ||
                                    a->timeout_seconds > HP_APPROVAL_TIMEOUT_MAX)) {
        hp_err_set(err, errcap, "--timeout-seconds must be an integer from %d to %d",
                   HP_APPROVAL_TIMEOUT_MIN, HP_APPROVAL_TIMEOUT_MAX);
        return HP_ERR_INVALID_PAYLOAD;
    }
    if (a->timeout_mode != NULL && !hp__in(a->timeout_mode, hp__modes, false)) {
        hp_err_set(err, errcap,
                   "--timeout-mode must be expire_no_action or expire_with_predefined_instruction");
        return HP_ERR_INVALID_PAYLOAD;
    }
    predefined = a->timeout_mode != NULL && strcmp(a->timeout_mode, hp__modes[1]) == 0;
    if (predefined) {
        if (a->timeout_instruction == NULL || a->timeout_instruction[0] == '\0') {
            hp_err_set(err, errcap,
                       "--timeout-instruction is required (non-empty) with --timeout-mode "
                       "expire_with_predefined_instruction");
            return HP_ERR_INVALID_PAYLOAD;
        }
        rc = hp__check_text("--timeout-instruction", a->timeout_instruction,
                            HP_APPROVAL_INSTRUCTION_MAX, true, err, errcap);
        if (rc != HP_OK)
            return rc;
    } else if (a->timeout_instruction != NULL) {
        hp_err_set(err, errcap,
                   "--timeout-instruction is only allowed with --timeout-mode "
                   "expire_with_predefined_instruction");
        return HP_ERR_INVALID_PAYLOAD;
    }
    if ((a->callback_auth_header == NULL) != (a->callback_auth_value == NULL)) {
        hp_err_set(err, errcap,
                   "--callback-auth-header and --callback-auth-value must be given together");
        return HP_ERR_INVALID_PAYLOAD;
    }
    if (a->callback_auth_header != NULL) {
        if (!hp__is_token(a->callback_auth_header) ||
            strlen(a->callback_auth_header) > HP__HEADER_NAME_MAX) {
            hp_err_set(err, errcap,
                       "--callback-auth-header must be an HTTP header name (letters, digits "
                       "and !#$%%&'*+-.^_`|~, at most %d)",
                       HP__HEADER_NAME_MAX);
            return HP_ERR_INVALID_PAYLOAD;
        }
        if (hp__in(a->callback_auth_header, hp__reserved_headers, true)) {
            hp_err_set(err, errcap,
                       "--callback-auth-header must not be a header the delivery worker sets "
                       "(Host, Content-*, Transfer-Encoding, Connection, webhook-*)");
            return HP_ERR_INVALID_PAYLOAD;
        }
        /* Field values: visible ASCII, spaces, tabs and obs-text; never CR
         * or LF, which would let the value smuggle in headers. */
        if (a->callback_auth_value[0] == '\0' ||
            strlen(a->callback_auth_value) > HP__HEADER_VALUE_MAX) {
            hp_err_set(err, errcap, "--callback-auth-value must be 1 to %d bytes",
                       HP__HEADER_VALUE_MAX);
            return HP_ERR_INVALID_PAYLOAD;
        }
        for (const unsigned char *p = (const unsigned char *)a->callback_auth_value; *p != '\0';
             p++) {
            if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
                hp_err_set(err, errcap,
                           "--callback-auth-value must not contain control "
                           "characters");
                return HP_ERR_INVALID_PAYLOAD;
            }
        }
    }
    return HP_OK;
}

static hp_err hp__check_quota(const char *opt, long long quota, char *err, size_t errcap)
{
    if (quota != HP_QUOTA_UNLIMITED && (quota < 0 || quota > 2147483647LL)) {
        hp_err_set(err, errcap, "%s must be an integer from 0 to 2147483647", opt);
        return HP_ERR_INVALID_PAYLOAD;
    }
    return HP_OK;
}

/* ---- public checks ------------------------------------------------------ */

hp_err hp_store_admin_bootstrap_check(const hp_admin_bootstrap_spec *spec, char *err, size_t errcap)
{
    hp_err rc;

    if ((rc = hp__check_text("--team", spec->team_name, HP_APPROVAL_ATTR_MAX, false, err,
                             errcap)) != HP_OK ||
        (rc = hp__check_quota("--quota", spec->quota, err, errcap)) != HP_OK ||
        (rc = hp__check_user(&spec->user, "--user-name", err, errcap)) != HP_OK)
        return rc;
    if (spec->user.role != NULL && strcmp(spec->user.role, "owner") != 0) {
        hp_err_set(err, errcap, "the bootstrap user is always an owner");
        return HP_ERR_INVALID_PAYLOAD;
    }
    return hp__check_text("--agent", spec->agent_name, HP_APPROVAL_ATTR_MAX, false, err, errcap);
}

hp_err hp_store_admin_agent_check(const char *team_id, const hp_admin_agent_spec *spec, char *err,
                                  size_t errcap)
{
    hp_err rc = hp__check_uuid("--team-id", team_id, err, errcap);

    return rc != HP_OK ? rc : hp__check_agent(spec, err, errcap);
}

hp_err hp_store_admin_key_check(const char *team_id, const char *agent_id, const char *name,
                                char *err, size_t errcap)
{
    hp_err rc = hp__check_uuid("--team-id", team_id, err, errcap);

    if (rc == HP_OK && agent_id != NULL)
        rc = hp__check_uuid("--agent-id", agent_id, err, errcap);
    if (rc == HP_OK && name != NULL)
        rc = hp__check_text("--name", name, HP__NAME_MAX, false, err, errcap);
    return rc;
}

hp_err hp_store_admin_key_id_check(const char *key_id, char *err, size_t errcap)
{
    return hp__check_uuid("--key-id", key_id, err, errcap);
}

hp_err hp_store_admin_user_check(const char *team_id, const hp_admin_user_spec *spec, char *err,
                                 size_t errcap)
{
    hp_err rc = hp__check_uuid("--team-id", team_id, err, errcap);

    return rc != HP_OK ? rc : hp__check_user(spec, "--name", err, errcap);
}

hp_err hp_store_admin_quota_check(const char *team_id, long long quota, char *err, size_t errcap)
{
    hp_err rc = hp__check_uuid("--team-id", team_id, err, errcap);

    return rc != HP_OK ? rc : hp__check_quota("--approvals", quota, err, errcap);
}

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

/* Runs sql and sets *found to whether it returned a row. */
static hp_err hp__exists(hp_dbconn *c, const char *sql, int n, const char *const *p, bool *found,
                         char *err, size_t errcap)
{
    PGresult *r = NULL;
    hp_err rc = hp_db_exec(c, &r, sql, n, p, err, errcap);

    if (rc == HP_OK)
        *found = PQntuples(r) > 0;
    PQclear(r);
    return rc;
}

/* Locks the team row against deletion for the rest of the transaction. */
static hp_err hp__team_lock(hp_dbconn *c, const char *team_id, char *err, size_t errcap)
{
    const char *p[] = {team_id};
    bool found = false;
    hp_err rc =
        hp__exists(c, "select 1 from teams where id = $1 for key share", 1, p, &found, err, errcap);

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
        rc = hp__exists(c, sql, n, p, &inserted, err, errcap);
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
        rc = hp__exists(c,
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

/* Inserts an agent (spec already checked) with a new webhook secret; the
 * secret and the callback auth value are sealed before they leave here. */
static hp_err hp__agent_insert(hp_dbconn *c, const unsigned char key[32], const char *team_id,
                               const hp_admin_agent_spec *a, hp_admin_agent *out, char *err,
                               size_t errcap)
{
    static const char sql[] =
        "insert into agents (id, team_id, name, default_timeout_seconds, default_timeout_mode, "
        "default_timeout_instruction, callback_auth_header, callback_auth_value_sealed, "
        "webhook_secret_sealed) values ($1, $2, $3, $4::integer, $5, $6, $7, $8, $9)";
    char *whsec = hp_key_webhook_secret_new();
    size_t whlen = strlen(whsec);
    char *wh_sealed = NULL, *auth_sealed = NULL;
    char secs[16];
    hp_err rc;

    if (whlen >= sizeof(out->webhook_secret)) {
        hp_err_set(err, errcap, "webhook secret longer than expected");
        rc = HP_ERR_INTERNAL;
        goto out;
    }
    memcpy(out->webhook_secret, whsec, whlen + 1);
    wh_sealed = hp_secret_seal(key, whsec, whlen);
    if (a->callback_auth_value != NULL)
        auth_sealed = hp_secret_seal(key, a->callback_auth_value, strlen(a->callback_auth_value));
    (void)hp_fmt(secs, sizeof(secs), "%d", a->timeout_seconds ? a->timeout_seconds : 3600);
    hp_uuid_v7(out->id);
    {
        const char *p[] = {out->id,
                           team_id,
                           a->name,
                           secs,
                           a->timeout_mode ? a->timeout_mode : hp__modes[0],
                           a->timeout_instruction,
                           a->callback_auth_header,
                           auth_sealed,
                           wh_sealed};
        rc = hp_db_exec(c, NULL, sql, 9, p, err, errcap);
    }
out:
    free(auth_sealed);
    free(wh_sealed);
    explicit_bzero(whsec, whlen);
    free(whsec);
    return rc;
}

/* Commits, or rolls back when rc already failed; returns the first error. */
static hp_err hp__finish(hp_dbconn *c, hp_err rc, char *err, size_t errcap)
{
    if (rc == HP_OK)
        rc = hp_db_commit(c, err, errcap);
    if (rc != HP_OK)
        hp_db_rollback(c);
    return rc;
}

static char *hp__hash_password(const char *password, char *err, size_t errcap)
{
    char *h = hp_password_hash(password);
    if (h == NULL)
        hp_err_set(err, errcap, "could not hash the password");
    return h;
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
    if ((rc = hp_store_admin_bootstrap_check(spec, err, errcap)) != HP_OK)
        return rc;
    if ((pw_hash = hp__hash_password(spec->user.password, err, errcap)) == NULL)
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
    rc = hp__finish(c, rc, err, errcap);
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
    if ((rc = hp_store_admin_agent_check(team_id, spec, err, errcap)) != HP_OK)
        return rc;
    rc = hp_db_begin(c, err, errcap);
    if (rc != HP_OK)
        return rc;
    rc = hp__team_lock(c, team_id, err, errcap);
    if (rc == HP_OK)
        rc = hp__agent_insert(c, secret_key, team_id, spec, out, err, errcap);
    rc = hp__finish(c, rc, err, errcap);
    if (rc != HP_OK)
        explicit_bzero(out, sizeof(*out));
    return rc;
}

hp_err hp_store_admin_key_create(hp_dbconn *c, const char *team_id, const char *agent_id,
                                 const char *name, bool test_mode, hp_admin_key *out, char *err,
                                 size_t errcap)
{
    hp_err rc;

    memset(out, 0, sizeof(*out));
    if ((rc = hp_store_admin_key_check(team_id, agent_id, name, err, errcap)) != HP_OK)
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
        rc = hp__exists(c, "select 1 from agents where id = $1 and team_id = $2 for key share", 2,
                        p, &found, err, errcap);
        if (rc == HP_OK && !found) {
            hp_err_set(err, errcap, "agent not found in this team");
            rc = HP_ERR_NOT_FOUND;
        }
    }
    if (rc == HP_OK)
        rc = hp__key_insert(c, team_id, agent_id, name, test_mode, out, err, errcap);
    rc = hp__finish(c, rc, err, errcap);
    if (rc != HP_OK)
        explicit_bzero(out, sizeof(*out));
    return rc;
}

hp_err hp_store_admin_key_regenerate(hp_dbconn *c, const char *key_id, hp_admin_key *out, char *err,
                                     size_t errcap)
{
    const char *p[] = {key_id, NULL};
    PGresult *r = NULL;
    hp_err rc;

    memset(out, 0, sizeof(*out));
    if ((rc = hp_store_admin_key_id_check(key_id, err, errcap)) != HP_OK)
        return rc;
    rc = hp_db_begin(c, err, errcap);
    if (rc != HP_OK)
        return rc;
    /* FOR UPDATE: two regenerations of one key serialise, and the second
     * sees the key revoked instead of forking it into two live keys. */
    rc = hp_db_exec(c, &r,
                    "select team_id, agent_id, name, test_mode, revoked_at is not null "
                    "from api_keys where id = $1 for update",
                    1, p, err, errcap);
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
    hp_strlcpy(out->replaces, key_id, sizeof(out->replaces));
    p[1] = out->id;
    rc = hp_db_exec(c, NULL,
                    "update api_keys set revoked_at = now(), replaced_by = $2 where id = $1", 2, p,
                    err, errcap);
done:
    PQclear(r);
    rc = hp__finish(c, rc, err, errcap);
    if (rc != HP_OK)
        explicit_bzero(out, sizeof(*out));
    return rc;
}

hp_err hp_store_admin_key_revoke(hp_dbconn *c, const char *key_id, char *err, size_t errcap)
{
    const char *p[] = {key_id};
    bool found = false;
    hp_err rc;

    if ((rc = hp_store_admin_key_id_check(key_id, err, errcap)) != HP_OK)
        return rc;
    /* One statement, so its own transaction; a second revoke keeps the
     * first time. */
    rc = hp__exists(c,
                    "update api_keys set revoked_at = coalesce(revoked_at, now()) "
                    "where id = $1 returning id",
                    1, p, &found, err, errcap);
    if (rc == HP_OK && !found) {
        hp_err_set(err, errcap, "key not found");
        rc = HP_ERR_NOT_FOUND;
    }
    return rc;
}

hp_err hp_store_admin_user_create(hp_dbconn *c, const char *team_id, const hp_admin_user_spec *spec,
                                  hp_admin_user *out, char *err, size_t errcap)
{
    char *pw_hash = NULL;
    hp_err rc;

    memset(out, 0, sizeof(*out));
    if ((rc = hp_store_admin_user_check(team_id, spec, err, errcap)) != HP_OK)
        return rc;
    if ((pw_hash = hp__hash_password(spec->password, err, errcap)) == NULL)
        return HP_ERR_INTERNAL;
    rc = hp_db_begin(c, err, errcap);
    if (rc != HP_OK)
        goto out;
    rc = hp__team_lock(c, team_id, err, errcap);
    if (rc == HP_OK)
        rc = hp__user_insert(c, team_id, spec, spec->role ? spec->role : "reviewer", pw_hash, out,
                             err, errcap);
    rc = hp__finish(c, rc, err, errcap);
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

    if ((rc = hp_store_admin_quota_check(team_id, quota, err, errcap)) != HP_OK)
        return rc;
    (void)hp_fmt(q, sizeof(q), "%lld", quota);
    /* Dropping this month's counter makes the next create recount the
     * month's approvals, including those made while the team had no quota
     * (unlimited teams are not counted on the create path). */
    rc = hp__exists(c,
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

/* ---- migrations --------------------------------------------------------- */

hp_err hp_store_admin_migrate_lock(hp_dbconn *c, char *err, size_t errcap)
{
    char key[24];
    const char *p[] = {key};
    hp_err rc;

    (void)hp_fmt(key, sizeof(key), "%lld", HP_MIGRATE_LOCK_KEY);
    /* The pool gives every connection short statement and lock timeouts; a
     * migration (an index build) may legitimately take longer, and waiting
     * for another migrator's lock is exactly what must not time out. Routine
     * notices ("already exists, skipping") are noise in a migrator's log. */
    if ((rc = hp_db_exec(c, NULL, "set statement_timeout = 0", 0, NULL, err, errcap)) != HP_OK ||
        (rc = hp_db_exec(c, NULL, "set client_min_messages = warning", 0, NULL, err, errcap)) !=
            HP_OK ||
        (rc = hp_db_exec(c, NULL, "set lock_timeout = 0", 0, NULL, err, errcap)) != HP_OK ||
        (rc = hp_db_exec(c, NULL, "select pg_advisory_lock($1::bigint)", 1, p, err, errcap)) !=
            HP_OK)
        return rc;
    /* Created under the lock: concurrent "create table if not exists" can
     * still collide in pg_type, so only the lock holder ever runs it. */
    return hp_db_exec(c, NULL,
                      "create table if not exists schema_migrations ("
                      "name text primary key, "
                      "applied_at timestamptz not null default now())",
                      0, NULL, err, errcap);
}

hp_err hp_store_admin_migrate_unlock(hp_dbconn *c, char *err, size_t errcap)
{
    char key[24];
    const char *p[] = {key};

    (void)hp_fmt(key, sizeof(key), "%lld", HP_MIGRATE_LOCK_KEY);
    return hp_db_exec(c, NULL, "select pg_advisory_unlock($1::bigint)", 1, p, err, errcap);
}

hp_err hp_store_admin_migrate_applied(hp_dbconn *c, const char *name, bool *applied, char *err,
                                      size_t errcap)
{
    const char *p[] = {name};

    *applied = false;
    return hp__exists(c, "select 1 from schema_migrations where name = $1", 1, p, applied, err,
                      errcap);
}

hp_err hp_store_admin_migrate_apply(hp_dbconn *c, const char *name, const char *sql, char *err,
                                    size_t errcap)
{
    PGconn *pg = hp_dbconn_pg(c);
    const char *p[] = {name};
    PGresult *r;
    ExecStatusType st;
    hp_err rc = hp_db_begin(c, err, errcap);

    if (rc != HP_OK)
        return rc;
    /* PQexec (the simple protocol) because a migration file holds many
     * statements; inside the open transaction they all commit or none. */
    r = PQexec(pg, sql);
    st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        if (m == NULL)
            m = PQerrorMessage(pg);
        hp_err_set(err, errcap, "migration failed: database error %s: %.*s",
                   state ? state : "(none)", (int)strcspn(m, "\n"), m);
        rc = PQstatus(pg) == CONNECTION_OK ? HP_ERR_INTERNAL : HP_ERR_UNAVAILABLE;
    }
    PQclear(r);
    if (rc == HP_OK)
        rc = hp_db_exec(c, NULL, "insert into schema_migrations (name) values ($1)", 1, p, err,
                        errcap);
    return hp__finish(c, rc, err, errcap);
}

hp_err hp_store_admin_migrate_current(hp_dbconn *c, char *out, size_t cap, bool *any, char *err,
                                      size_t errcap)
{
    PGresult *r = NULL;
    hp_err rc = hp_db_exec(c, &r,
                           "select name from schema_migrations order by name collate \"C\" desc "
                           "limit 1",
                           0, NULL, err, errcap);

    *any = false;
    if (cap > 0)
        out[0] = '\0';
    if (rc == HP_OK && PQntuples(r) == 1) {
        *any = true;
        hp_strlcpy(out, hp_db_val(r, 0, 0), cap);
    }
    PQclear(r);
    return rc;
}
