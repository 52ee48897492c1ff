/*
 * hp_admin: the model of a tenant's identities — the checks on what the
 * admin commands and the settings pages are given, and the pure, slow work
 * done before a transaction opens (argon2id password hashes, new webhook
 * secrets, sealing). See hp_admin.h for the contracts. Nothing here touches
 * the database or logs.
 */
#include <stdlib.h>
#include <string.h>

#include "hp_admin.h"
#include "hp_approval.h"
#include "hp_json.h"
#include "hp_str.h"
#include "hp_valid.h"

/* Limits not set by the schema: an email address (RFC 5321 path and local
 * part), a user name like a team's, a password, a callback auth header. */
#define HP__EMAIL_MAX        254
#define HP__EMAIL_LOCAL_MAX  64
#define HP__NAME_MAX         200
#define HP__PASSWORD_MAX     1024
#define HP__HEADER_NAME_MAX  256
#define HP__HEADER_VALUE_MAX 4096

static const char *const hp__roles[] = {"owner", "admin", "reviewer", NULL};
static const char *const hp__modes[] = {HP_ADMIN_DEFAULT_TIMEOUT_MODE,
                                        "expire_with_predefined_instruction", NULL};

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
        if (!hp_valid_http_token(a->callback_auth_header) ||
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

hp_err hp_admin_bootstrap_check(const hp_admin_bootstrap_spec *spec, char *err, size_t errcap)
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

hp_err hp_admin_agent_check(const char *team_id, const hp_admin_agent_spec *spec, char *err,
                            size_t errcap)
{
    hp_err rc = hp__check_uuid("--team-id", team_id, err, errcap);

    return rc != HP_OK ? rc : hp__check_agent(spec, err, errcap);
}

json_object *hp_admin_agent_json(const hp_agent_row *a)
{
    json_object *o = json_object_new_object();

    hp_json_set_str(o, "agent_id", a->id);
    hp_json_set_str(o, "name", a->name);
    json_object_object_add(o, "default_timeout_seconds",
                           json_object_new_int(a->default_timeout_seconds));
    hp_json_set_str(o, "default_timeout_mode", a->default_timeout_mode);
    hp_json_set_str(o, "default_timeout_instruction", a->default_timeout_instruction);
    hp_json_set_time(o, "created_at", a->created_at);
    hp_json_set_str(o, "callback_auth_header", a->callback_auth_header);
    return o;
}

hp_err hp_admin_agent_patch_apply(const char *team_id, const hp_admin_agent_spec *cur,
                                  const hp_admin_agent_patch *p, hp_admin_agent_spec *out,
                                  char *err, size_t errcap)
{
    *out = *cur;
    out->callback_auth_header = out->callback_auth_value = NULL;
    if (p->name != NULL)
        out->name = p->name;
    if (p->set_timeout_seconds)
        out->timeout_seconds = p->timeout_seconds;
    if (p->timeout_mode != NULL) {
        out->timeout_mode = p->timeout_mode;
        if (strcmp(p->timeout_mode, hp__modes[1]) != 0 && !p->set_timeout_instruction)
            out->timeout_instruction = NULL;
    }
    if (p->set_timeout_instruction)
        out->timeout_instruction = p->timeout_instruction;
    if (p->set_callback_auth) {
        out->callback_auth_header = p->callback_auth_header;
        out->callback_auth_value = p->callback_auth_value;
    }
    return hp_admin_agent_check(team_id, out, err, errcap);
}

hp_err hp_admin_key_check(const char *team_id, const char *agent_id, const char *name, char *err,
                          size_t errcap)
{
    hp_err rc = hp__check_uuid("--team-id", team_id, err, errcap);

    if (rc == HP_OK && agent_id != NULL)
        rc = hp__check_uuid("--agent-id", agent_id, err, errcap);
    if (rc == HP_OK && name != NULL)
        rc = hp__check_text("--name", name, HP__NAME_MAX, false, err, errcap);
    return rc;
}

hp_err hp_admin_key_ref_parse(const char *s, hp_admin_key_ref *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof(*out));
    if (s != NULL && hp_uuid_valid(s)) {
        hp_strlcpy(out->id, s, sizeof(out->id));
        return HP_OK;
    }
    if (hp_key_parse(HP_KEY_API, s, out->prefix)) {
        hp_key_hash(s, out->hash);
        out->has_hash = true;
        return HP_OK;
    }
    if (hp_key_prefix_valid(HP_KEY_API, s)) {
        hp_strlcpy(out->prefix, s, sizeof(out->prefix));
        return HP_OK;
    }
    hp_err_set(err, errcap,
               "--key-id must be a key id (UUID), an API key (hpk_...) or its public prefix "
               "(hpk_ and 12 letters or digits)");
    return HP_ERR_INVALID_PAYLOAD;
}

hp_err hp_admin_user_check(const char *team_id, const hp_admin_user_spec *spec, char *err,
                           size_t errcap)
{
    hp_err rc = hp__check_uuid("--team-id", team_id, err, errcap);

    return rc != HP_OK ? rc : hp__check_user(spec, "--name", err, errcap);
}

hp_err hp_admin_quota_check(const char *team_id, long long quota, char *err, size_t errcap)
{
    hp_err rc = hp__check_uuid("--team-id", team_id, err, errcap);

    return rc != HP_OK ? rc : hp__check_quota("--approvals", quota, err, errcap);
}

/* ---- secrets -------------------------------------------------------------- */

char *hp_admin_password_hash(const char *password, char *err, size_t errcap)
{
    char *h = hp_password_hash(password);
    if (h == NULL)
        hp_err_set(err, errcap, "could not hash the password");
    return h;
}

hp_err hp_admin_agent_seal(const unsigned char key[32], const hp_admin_agent_spec *a,
                           hp_admin_agent *out, hp_admin_agent_sealed *s, char *err, size_t errcap)
{
    char *whsec = hp_key_webhook_secret_new();
    size_t whlen = strlen(whsec);
    hp_err rc = HP_OK;

    memset(s, 0, sizeof(*s));
    if (whlen >= sizeof(out->webhook_secret)) {
        hp_err_set(err, errcap, "webhook secret longer than expected");
        rc = HP_ERR_INTERNAL;
        goto out;
    }
    memcpy(out->webhook_secret, whsec, whlen + 1);
    s->webhook_secret = hp_secret_seal(key, whsec, whlen);
    if (a->callback_auth_value != NULL)
        s->callback_auth_value =
            hp_secret_seal(key, a->callback_auth_value, strlen(a->callback_auth_value));
out:
    explicit_bzero(whsec, whlen);
    free(whsec);
    return rc;
}

void hp_admin_agent_sealed_deinit(hp_admin_agent_sealed *s)
{
    free(s->webhook_secret);
    free(s->callback_auth_value);
    memset(s, 0, sizeof(*s));
}
