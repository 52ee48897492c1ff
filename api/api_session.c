/*
 * api_session: signing in and out of the web app, and changing one's
 * password (SPEC section 5, docs/webapp.md).
 *
 *   POST   /v1/session           email + password -> a session cookie
 *   GET    /v1/session           who is signed in, and the CSRF token
 *   DELETE /v1/session           sign out
 *   POST   /v1/session/password  change the password; other sessions end
 *
 * The cookie (hp_session) holds 43 random characters; the database holds
 * only their SHA-256. Failed sign-ins are counted per account and per client
 * address, and a key over its limit answers 429 with Retry-After before any
 * password is checked. A wrong email and a wrong password answer alike and
 * cost alike (an unknown email is checked against a fixed hash). Passwords
 * and secrets are never logged.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_log.h"
#include "hp_store_session.h"
#include "hp_str.h"

/* New passwords set from the app: at least this many characters. */
#define API_PASSWORD_MIN 8
#define API_PASSWORD_MAX 1024
#define API_EMAIL_MAX    254

/* An argon2id hash of a password nobody knows, so an unknown email costs
 * the same verification as a known one. */
static pthread_once_t api__dummy_once = PTHREAD_ONCE_INIT;
static char *api__dummy_hash;

static void api__dummy_init(void)
{
    char *pw = hp_random_token("", 32);
    api__dummy_hash = hp_password_hash(pw);
    free(pw);
}

static bool api__https(hp_req *req)
{
    return hp_str_startswith(req->app->cfg->public_url, "https://");
}

/* Set-Cookie for secret (NULL clears the cookie), in the pool. */
static const char *api__cookie(hp_req *req, const char *secret, int max_age)
{
    return hp_pool_printf(req->pool, "%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s",
                          API_SESSION_COOKIE, secret ? secret : "", secret ? max_age : 0,
                          api__https(req) ? "; Secure" : "");
}

/* {"user": {...}, "team": {...}, "csrf_token"?, "expires_at"?} */
static json_object *api__session_json(const hp_user_row *u, const char *csrf, int64_t expires_at)
{
    json_object *o = json_object_new_object(), *user = json_object_new_object();
    json_object *team = json_object_new_object();

    hp_json_set_str(user, "user_id", u->user_id);
    hp_json_set_str(user, "email", u->email);
    hp_json_set_str(user, "name", u->name);
    hp_json_set_str(user, "role", u->role);
    hp_json_set_str(team, "team_id", u->team_id);
    hp_json_set_str(team, "name", u->team_name);
    json_object_object_add(o, "user", user);
    json_object_object_add(o, "team", team);
    hp_json_set_str(o, "auth", csrf ? "session" : "token");
    if (csrf != NULL) {
        hp_json_set_str(o, "csrf_token", csrf);
        hp_json_set_time(o, "expires_at", expires_at);
    }
    return o;
}

/* Reads a required string member of at most max bytes; adds an issue. */
static const char *api__field(hp_issues *is, json_object *body, const char *key, size_t max)
{
    json_object *v = json_object_object_get(body, key);
    hp_path root = hp_path_root();

    if (v == NULL) {
        hp_issues_add(is, hp_path_key(root, key), "invalid_type", "Required");
        return NULL;
    }
    if (!json_object_is_type(v, json_type_string)) {
        hp_issues_add(is, hp_path_key(root, key), "invalid_type", "Expected string, received %s",
                      hp_valid_type_name(v));
        return NULL;
    }
    if (json_object_get_string_len(v) == 0 || (size_t)json_object_get_string_len(v) > max) {
        hp_issues_add(is, hp_path_key(root, key),
                      json_object_get_string_len(v) ? "too_big" : "too_small",
                      "must be 1 to %zu bytes", max);
        return NULL;
    }
    return json_object_get_string(v);
}

/* Sends 429 with Retry-After. */
static void api__throttled(hp_req *req, int retry_s)
{
    char ra[16];
    json_object *extra = json_object_new_object();

    (void)hp_fmt(ra, sizeof(ra), "%d", retry_s > 0 ? retry_s : 1);
    const char *h[] = {"Retry-After", ra, NULL};
    json_object_object_add(extra, "retry_after_seconds", json_object_new_int(retry_s));
    api_send_error_h(req, HP_ERR_RATE_LIMITED, "too many failed sign-ins; retry later", extra, h);
    json_object_put(extra);
}

/* The throttle keys of an account and of this client. */
static void api__keys(hp_req *req, const char *email, const char **account, const char **addr)
{
    char *lower = hp_pool_strdup(req->pool, email);

    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    *account = hp_pool_printf(req->pool, "email:%s", lower);
    *addr = hp_pool_printf(req->pool, "addr:%s", api_client_addr(req));
}

/* Checks the throttle; on a block (429) or a failure the response is sent
 * and false is returned. */
static bool api__not_blocked(hp_req *req, hp_dbconn *c, const char *account, const char *addr)
{
    const hp_config *cfg = req->app->cfg;
    int retry = 0;
    hp_err rc = hp_store_signin_blocked(c, account, cfg->signin_max_failures, addr,
                                        cfg->signin_addr_max_failures, cfg->signin_window_seconds,
                                        &retry, req->err, sizeof(req->err));

    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return false;
    }
    if (retry > 0) {
        hp_log_warn("sign-in throttled", "request_id", req->request_id, "client", addr);
        api__throttled(req, retry);
        return false;
    }
    return true;
}

/* Counts a failure; the answer is sent by the caller. */
static void api__count_failure(hp_req *req, hp_dbconn *c, const char *account, const char *addr)
{
    char err[HP_ERRBUF];

    if (hp_store_signin_failed(c, account, addr, req->app->cfg->signin_window_seconds, err,
                               sizeof(err)) != HP_OK)
        hp_log_warn("could not count a failed sign-in", "request_id", req->request_id, "reason",
                    err);
}

void api_session_create(hp_req *req)
{
    const hp_config *cfg = req->app->cfg;
    json_object *body, *o;
    hp_issues *is;
    const char *email = NULL, *password = NULL, *account, *addr;
    char *secret = NULL;
    char session_id[HP_UUID_LEN + 1], csrf[65];
    unsigned char hash[32];
    hp_user_row u;
    hp_dbconn *c;
    bool found = false, ok;
    int64_t expires_at = -1;
    hp_err rc;

    if (api_read_json(req, true, &body) != HP_OK)
        return;
    is = hp_issues_new();
    if (hp_valid_is_object(is, hp_path_root(), body)) {
        email = api__field(is, body, "email", API_EMAIL_MAX);
        password = api__field(is, body, "password", API_PASSWORD_MAX);
    }
    if (hp_issues_count(is) > 0) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        goto out;
    }
    api__keys(req, email, &account, &addr);
    if (api_db(req, &c) != HP_OK || !api__not_blocked(req, c, account, addr))
        goto out;
    rc = hp_store_user_by_email(c, req->pool, email, &u, &found, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    /* argon2 takes tens of milliseconds: hold no connection meanwhile. */
    api_db_put(req);
    pthread_once(&api__dummy_once, api__dummy_init);
    if (found && u.password_hash != NULL) {
        ok = hp_password_verify(u.password_hash, password);
    } else {
        if (api__dummy_hash != NULL)
            (void)hp_password_verify(api__dummy_hash, password);
        ok = false;
    }
    if (api_db(req, &c) != HP_OK)
        goto out;
    if (!ok) {
        api__count_failure(req, c, account, addr);
        hp_log_info("sign-in refused", "request_id", req->request_id, "client", addr);
        api_send_error(req, HP_ERR_INVALID_CREDENTIALS, NULL, NULL);
        goto out;
    }
    secret = hp_random_token("", 43);
    hp_sha256(secret, strlen(secret), hash);
    hp_uuid_v7(session_id);
    rc =
        hp_store_session_create(c, session_id, u.user_id, u.team_id, hash, cfg->session_max_seconds,
                                api_client_addr(req), &expires_at, req->err, sizeof(req->err));
    if (rc == HP_OK)
        rc = hp_store_signin_clear(c, account, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    req->auth.team_id = u.team_id;
    hp_log_info("signed in", "request_id", req->request_id, "user_id", u.user_id, "team_id",
                u.team_id);
    api_session_csrf(secret, csrf);
    o = api__session_json(&u, csrf, expires_at);
    {
        const char *h[] = {"Set-Cookie", api__cookie(req, secret, cfg->session_max_seconds), NULL};
        api_send_json_h(req, 200, o, h);
    }
    json_object_put(o);
out:
    if (secret != NULL) {
        explicit_bzero(secret, strlen(secret));
        free(secret);
    }
    hp_issues_free(is);
}

void api_session_get(hp_req *req)
{
    hp_user_row u;
    hp_dbconn *c;
    bool found = false;
    json_object *o;
    hp_err rc;

    if (api_auth_user(req) != HP_OK || api_db(req, &c) != HP_OK)
        return;
    rc = hp_store_user_get(c, req->pool, req->auth.team_id, req->auth.user_id, &u, &found, req->err,
                           sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    if (!found) { /* removed between the two reads */
        api_send_error(req, HP_ERR_INVALID_SESSION, NULL, NULL);
        return;
    }
    o = api__session_json(&u, req->auth.csrf_token, req->auth.session_expires_at);
    api_send_json(req, 200, o);
    json_object_put(o);
}

void api_session_delete(hp_req *req)
{
    hp_err rc;

    if (api_auth_session(req) != HP_OK)
        return;
    rc = hp_store_session_delete(req->dbc, req->auth.session_id, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    const char *h[] = {"Set-Cookie", api__cookie(req, NULL, 0), NULL};
    api_send_empty(req, 204, h);
}

void api_session_password(hp_req *req)
{
    json_object *body;
    hp_issues *is;
    const char *cur = NULL, *next = NULL, *account, *addr;
    char *hash = NULL;
    hp_user_row u;
    hp_dbconn *c;
    bool found = false;
    hp_err rc;

    if (api_auth_session(req) != HP_OK || api_read_json(req, true, &body) != HP_OK)
        return;
    is = hp_issues_new();
    if (hp_valid_is_object(is, hp_path_root(), body)) {
        cur = api__field(is, body, "current_password", API_PASSWORD_MAX);
        next = api__field(is, body, "new_password", API_PASSWORD_MAX);
        if (next != NULL && hp_utf8_len(next, strlen(next)) < API_PASSWORD_MIN)
            hp_issues_add(is, hp_path_key(hp_path_root(), "new_password"), "too_small",
                          "the new password must have at least %d characters", API_PASSWORD_MIN);
    }
    if (hp_issues_count(is) > 0) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        goto out;
    }
    c = req->dbc;
    rc = hp_store_user_get(c, req->pool, req->auth.team_id, req->auth.user_id, &u, &found, req->err,
                           sizeof(req->err));
    if (rc != HP_OK || !found) {
        api_send_failure(req, rc != HP_OK ? rc : HP_ERR_INVALID_SESSION, NULL);
        goto out;
    }
    /* A stolen session must not be a way to guess the password: wrong
     * current passwords count against the account like failed sign-ins. */
    api__keys(req, u.email, &account, &addr);
    if (!api__not_blocked(req, c, account, addr))
        goto out;
    api_db_put(req);
    if (u.password_hash == NULL || !hp_password_verify(u.password_hash, cur)) {
        if (api_db(req, &c) == HP_OK) {
            api__count_failure(req, c, account, addr);
            hp_issues_add(is, hp_path_key(hp_path_root(), "current_password"), "custom",
                          "the current password is not correct");
            api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        }
        goto out;
    }
    hash = hp_password_hash(next);
    if (hash == NULL) {
        hp_err_set(req->err, sizeof(req->err), "could not hash the password");
        api_send_failure(req, HP_ERR_INTERNAL, NULL);
        goto out;
    }
    if (api_db(req, &c) != HP_OK)
        goto out;
    rc = hp_store_user_password_set(c, u.user_id, hash, req->auth.session_id, req->err,
                                    sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    hp_log_info("password changed", "request_id", req->request_id, "user_id", u.user_id);
    api_send_empty(req, 204, NULL);
out:
    free(hash);
    hp_issues_free(is);
}
