/*
 * Web app sign-in (docs/webapp.md "Sign-in and sessions"): a session cookie
 * that works wherever a user token does, the CSRF header every change made
 * with it needs, sign-out, absolute and idle expiry, a removed user's
 * session, password change (other sessions end), throttling of failed
 * sign-ins per account and per client address with 429 + Retry-After, the
 * Secure flag under an https public URL, and X-Forwarded-For believed only
 * from HOLDPOINT_TRUSTED_PROXIES.
 *
 * The API trusts X-Forwarded-For here, and every test signs in from an
 * address of its own, so the per-address counters of the tests (and of
 * other programs running beside this one) never meet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp_itest.h"

#define PASSWORD "it-password-1234"

typedef struct web {
    const char *cookie; /* "hp_session=..." */
    const char *csrf;
    const char *addr;
} web;

static const char *fresh_addr(void)
{
    static int n;
    return hp_it_fmt("198.51.100.%d", ++n);
}

static hp_it_resp *signin_raw(hp_it_api *api, const char *addr, const char *email,
                              const char *password)
{
    const char *h[] = {"Content-Type: application/json", hp_it_fmt("X-Forwarded-For: %s", addr),
                       NULL};
    return hp_it_http(api, "POST", "/v1/session", h,
                      hp_it_fmt("{\"email\":\"%s\",\"password\":\"%s\"}", hp_it_jesc(email),
                                hp_it_jesc(password)));
}

/* The cookie pair of a Set-Cookie header ("hp_session=..."). */
static const char *cookie_pair(hp_it_resp *r)
{
    const char *sc = hp_it_header(r, "Set-Cookie");
    IT_CHECK_FATAL(sc != NULL, "no Set-Cookie in %s", r->headers);
    return hp_it_fmt("%.*s", (int)strcspn(sc, ";"), sc);
}

static web signin_on(hp_it_api *api, const char *email, const char *password)
{
    web w = {.addr = fresh_addr()};
    hp_it_resp *r = signin_raw(api, w.addr, email, password);
    IT_STATUS_FATAL(r, 200);
    w.cookie = cookie_pair(r);
    json_object *c = hp_it_jget(r->json, "csrf_token", NULL);
    IT_CHECK_FATAL(c != NULL, "no csrf_token in %s", r->body);
    w.csrf = json_object_get_string(c);
    return w;
}

static web signin(const hp_it_team *t)
{
    return signin_on(NULL, t->email, PASSWORD);
}

/* A request with the session cookie; csrf adds the header. */
static hp_it_resp *as_web(const web *w, const char *method, const char *path, const char *body,
                          bool csrf)
{
    const char *h[5];
    int n = 0;
    h[n++] = hp_it_fmt("Cookie: %s", w->cookie);
    if (body != NULL)
        h[n++] = "Content-Type: application/json";
    if (csrf)
        h[n++] = hp_it_fmt("X-CSRF-Token: %s", w->csrf);
    h[n++] = hp_it_fmt("X-Forwarded-For: %s", w->addr);
    h[n] = NULL;
    return hp_it_http(NULL, method, path, h, body);
}

static const char *create_pending(const hp_it_team *t)
{
    hp_it_resp *r = hp_it_create_ok(t, "Deploy?", NULL);
    return json_object_get_string(hp_it_jget(r->json, "approval_id", NULL));
}

static void test_signin_cookie(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *addr = fresh_addr();
    hp_it_resp *r = signin_raw(NULL, addr, t->email, PASSWORD);

    IT_STATUS_FATAL(r, 200);
    const char *sc = hp_it_header(r, "Set-Cookie");
    IT_CHECK_FATAL(sc != NULL, "no Set-Cookie");
    IT_CHECK(strncmp(sc, "hp_session=", 11) == 0 && strlen(sc) > 11 + 40, "cookie: %s", sc);
    IT_CHECK(strstr(sc, "HttpOnly") && strstr(sc, "SameSite=Lax") && strstr(sc, "Path=/"),
             "cookie attributes: %s", sc);
    IT_CHECK(strstr(sc, "Secure") == NULL, "no Secure over http: %s", sc);
    IT_JSTR(r->json, "user.email", t->email);
    IT_JSTR(r->json, "user.role", "owner");
    IT_JSTR(r->json, "user.user_id", t->user_id);
    IT_JSTR(r->json, "team.team_id", t->team_id);
    IT_JSTR(r->json, "auth", "session");
    const char *csrf = json_object_get_string(hp_it_jget(r->json, "csrf_token", NULL));
    IT_CHECK(csrf && strlen(csrf) == 64, "csrf_token: %s", r->body);
    IT_CHECK(hp_it_time(json_object_get_string(hp_it_jget(r->json, "expires_at", NULL))) >
                 hp_it_now() + 3600,
             "expires_at in the future: %s", r->body);
    /* The secret is stored only as its hash. */
    const char *secret = cookie_pair(r) + strlen("hp_session=");
    IT_CHECK(hp_it_sql_int("select count(*) from user_sessions where user_id = $1 and "
                           "secret_hash = sha256(convert_to($2, 'UTF8'))",
                           t->user_id, secret, NULL) == 1,
             "one session row keyed by the secret's SHA-256");
    IT_CHECK(hp_it_sql_int("select count(*) from user_sessions where encode(secret_hash, "
                           "'escape') like '%' || $1 || '%'",
                           secret, NULL) == 0,
             "the secret itself is not stored");

    web w = {.cookie = cookie_pair(r), .csrf = csrf, .addr = addr};
    r = as_web(&w, "GET", "/v1/session", NULL, false);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "csrf_token", csrf);
    IT_JSTR(r->json, "team.name", t->team_name);
    /* The cookie works wherever a user token does. */
    const char *id = create_pending(t);
    r = as_web(&w, "GET", "/v1/review/approvals?status=pending", NULL, false);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "items.0.approval_id", id);
    /* A user token answers GET /v1/session too, without a CSRF token. */
    r = hp_it_user(t, "GET", "/v1/session", NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "auth", "token");
    IT_JMISSING(r->json, "csrf_token");
}

static void test_signin_refused(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *addr = fresh_addr();

    hp_it_resp *r = signin_raw(NULL, addr, t->email, "wrong-password");
    IT_ERROR(r, 401, "invalid_credentials");
    IT_CHECK(hp_it_header(r, "Set-Cookie") == NULL, "no cookie on a refusal");
    hp_it_resp *r2 =
        signin_raw(NULL, addr, hp_it_fmt("nobody-%s@example.test", hp_it_unique()), PASSWORD);
    IT_ERROR(r2, 401, "invalid_credentials");
    IT_JSTR(r2->json, "message", json_object_get_string(hp_it_jget(r->json, "message", NULL)));
    /* Email case does not matter. */
    char *upper = hp_it_fmt("%s", t->email);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    IT_STATUS(signin_raw(NULL, addr, upper, PASSWORD), 200);

    const char *h[] = {"Content-Type: application/json", NULL};
    r = hp_it_http(NULL, "POST", "/v1/session", h, "{\"email\":\"a@b.c\"}");
    IT_ISSUE(r, "[\"password\"]", "invalid_type");
    r = hp_it_http(NULL, "POST", "/v1/session", h, "[]");
    IT_ERROR(r, 400, "invalid_payload");
    r = hp_it_http(NULL, "GET", "/v1/session", NULL, NULL);
    IT_ERROR(r, 401, "invalid_user_token");
    const char *bad[] = {"Cookie: hp_session=not-a-real-session-secret-at-all", NULL};
    r = hp_it_http(NULL, "GET", "/v1/session", bad, NULL);
    IT_ERROR(r, 401, "invalid_session");
}

static void test_csrf(void)
{
    const hp_it_team *t = hp_it_team_new();
    web w = signin(t);
    const char *id = create_pending(t);
    const char *path = hp_it_fmt("/v1/review/approvals/%s/resolve", id);

    hp_it_resp *r = as_web(&w, "POST", path, "{\"option_index\":0}", false);
    IT_ERROR(r, 403, "csrf_failed");
    web wrong = w;
    wrong.csrf = hp_it_repeat("0", 64);
    r = as_web(&wrong, "POST", path, "{\"option_index\":0}", true);
    IT_ERROR(r, 403, "csrf_failed");
    /* Another session's token is not this one's. */
    web other = signin(t);
    wrong.csrf = other.csrf;
    r = as_web(&wrong, "POST", path, "{\"option_index\":0}", true);
    IT_ERROR(r, 403, "csrf_failed");
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where id = $1 and status = 'pending'",
                           id, NULL) == 1,
             "nothing changed without the CSRF token");
    r = as_web(&w, "DELETE", "/v1/session", NULL, false);
    IT_ERROR(r, 403, "csrf_failed");

    r = as_web(&w, "POST", path, "{\"option_index\":1}", true);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "selected_option");
    IT_JSTR(r->json, "resolved_by.user_id", t->user_id);
}

static void test_signout(void)
{
    const hp_it_team *t = hp_it_team_new();
    web w = signin(t), other = signin(t);

    hp_it_resp *r = as_web(&w, "DELETE", "/v1/session", NULL, true);
    IT_STATUS(r, 204);
    const char *sc = hp_it_header(r, "Set-Cookie");
    IT_CHECK(sc && strstr(sc, "hp_session=;") && strstr(sc, "Max-Age=0"), "cleared: %s",
             sc ? sc : "(none)");
    r = as_web(&w, "GET", "/v1/session", NULL, false);
    IT_ERROR(r, 401, "invalid_session");
    r = as_web(&other, "GET", "/v1/session", NULL, false);
    IT_STATUS(r, 200);
    /* Sign-out is for sessions; a token cannot end one. */
    r = hp_it_user(t, "DELETE", "/v1/session", NULL);
    IT_ERROR(r, 401, "invalid_session");
}

static void test_expiry(void)
{
    const hp_it_team *t = hp_it_team_new();
    web a = signin(t), b = signin(t);

    IT_STATUS(as_web(&a, "GET", "/v1/session", NULL, false), 200);
    hp_it_sql_exec("update user_sessions set expires_at = now() - interval '1 second' "
                   "where secret_hash = sha256(convert_to($1, 'UTF8'))",
                   a.cookie + strlen("hp_session="), NULL);
    IT_ERROR(as_web(&a, "GET", "/v1/review/approvals", NULL, false), 401, "invalid_session");
    /* Idle: HOLDPOINT_SESSION_IDLE_SECONDS is 120 here. */
    hp_it_sql_exec("update user_sessions set last_seen_at = now() - interval '121 seconds' "
                   "where secret_hash = sha256(convert_to($1, 'UTF8'))",
                   b.cookie + strlen("hp_session="), NULL);
    IT_ERROR(as_web(&b, "GET", "/v1/session", NULL, false), 401, "invalid_session");
}

static void test_activity_extends_idle(void)
{
    const hp_it_team *t = hp_it_team_new();
    web w = signin(t);
    const char *secret = w.cookie + strlen("hp_session=");

    hp_it_sql_exec("update user_sessions set last_seen_at = now() - interval '100 seconds' "
                   "where secret_hash = sha256(convert_to($1, 'UTF8'))",
                   secret, NULL);
    IT_STATUS(as_web(&w, "GET", "/v1/session", NULL, false), 200);
    IT_CHECK(hp_it_sql_int("select count(*) from user_sessions where secret_hash = "
                           "sha256(convert_to($1, 'UTF8')) and last_seen_at > now() - interval "
                           "'30 seconds'",
                           secret, NULL) == 1,
             "a request refreshes last_seen_at");
}

static void test_removed_user(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *email = hp_it_fmt("rev-%s@example.test", hp_it_unique());
    const char *args[] = {"admin", "create-user", "--team-id",       t->team_id, "--email",
                          email,   "--password",  "reviewer-pass-1", "--json",   NULL};
    json_object *j = hp_it_admin(args);
    const char *uid = json_object_get_string(hp_it_jget(j, "user_id", NULL));
    web w = signin_on(NULL, email, "reviewer-pass-1");

    IT_STATUS(as_web(&w, "GET", "/v1/review/approvals", NULL, false), 200);
    hp_it_sql_exec("delete from users where id = $1", uid, NULL);
    IT_ERROR(as_web(&w, "GET", "/v1/review/approvals", NULL, false), 401, "invalid_session");
}

static void test_other_team_404(void)
{
    const hp_it_team *a = hp_it_team_new(), *b = hp_it_team_new();
    const char *id = create_pending(b);
    web w = signin(a);

    IT_ERROR(as_web(&w, "GET", hp_it_fmt("/v1/review/approvals/%s", id), NULL, false), 404,
             "not_found");
    IT_ERROR(as_web(&w, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", id),
                    "{\"option_index\":0}", true),
             404, "not_found");
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where id = $1 and status = 'pending'",
                           id, NULL) == 1,
             "the other team's approval is untouched");
}

static void test_password_change(void)
{
    const hp_it_team *t = hp_it_team_new();
    web w = signin(t), other = signin(t);

    hp_it_resp *r =
        as_web(&w, "POST", "/v1/session/password",
               "{\"current_password\":\"wrong-one\",\"new_password\":\"new-pass-5678\"}", true);
    IT_ISSUE(r, "[\"current_password\"]", "custom");
    r = as_web(&w, "POST", "/v1/session/password",
               "{\"current_password\":\"" PASSWORD "\",\"new_password\":\"short\"}", true);
    IT_ISSUE(r, "[\"new_password\"]", "too_small");
    r = as_web(&w, "POST", "/v1/session/password",
               "{\"current_password\":\"" PASSWORD "\",\"new_password\":\"new-pass-5678\"}", false);
    IT_ERROR(r, 403, "csrf_failed");
    r = as_web(&w, "POST", "/v1/session/password",
               "{\"current_password\":\"" PASSWORD "\",\"new_password\":\"new-pass-5678\"}", true);
    IT_STATUS(r, 204);
    IT_STATUS(as_web(&w, "GET", "/v1/session", NULL, false), 200);
    IT_ERROR(as_web(&other, "GET", "/v1/session", NULL, false), 401, "invalid_session");
    IT_ERROR(signin_raw(NULL, fresh_addr(), t->email, PASSWORD), 401, "invalid_credentials");
    IT_STATUS(signin_raw(NULL, fresh_addr(), t->email, "new-pass-5678"), 200);
    /* A token cannot change a password: that needs the person, signed in. */
    r = hp_it_user(t, "POST", "/v1/session/password",
                   "{\"current_password\":\"new-pass-5678\",\"new_password\":\"another-999\"}");
    IT_ERROR(r, 401, "invalid_session");
}

static void test_throttle_account(void)
{
    const hp_it_team *t = hp_it_team_new(), *t2 = hp_it_team_new();
    const char *addr = fresh_addr();
    hp_it_resp *r;

    /* HOLDPOINT_SIGNIN_MAX_FAILURES is 3 here; each try from a new address
     * so only the account counter can block. */
    for (int i = 0; i < 3; i++)
        IT_ERROR(signin_raw(NULL, fresh_addr(), t->email, "wrong"), 401, "invalid_credentials");
    r = signin_raw(NULL, addr, t->email, PASSWORD);
    IT_ERROR(r, 429, "rate_limited");
    const char *ra = hp_it_header(r, "Retry-After");
    long secs = ra ? strtol(ra, NULL, 10) : -1;
    IT_CHECK(secs >= 1 && secs <= 600, "Retry-After: %s", ra ? ra : "(none)");
    IT_CHECK(hp_it_header(r, "Set-Cookie") == NULL, "no session while throttled");
    /* Another account from the same address still signs in. */
    IT_STATUS(signin_raw(NULL, addr, t2->email, PASSWORD), 200);
    /* The window ends: sign-in works again and a success clears the count. */
    hp_it_sql_exec("update signin_failures set window_start = now() - interval '601 seconds' "
                   "where key = 'email:' || lower($1)",
                   t->email, NULL);
    IT_STATUS(signin_raw(NULL, addr, t->email, PASSWORD), 200);
    IT_CHECK(hp_it_sql_int("select count(*) from signin_failures where key = 'email:' || lower($1)",
                           t->email, NULL) == 0,
             "a successful sign-in clears the account's failures");
}

static void test_throttle_address(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *addr = fresh_addr();

    /* HOLDPOINT_SIGNIN_ADDR_MAX_FAILURES is 5: five unknown accounts from one
     * address, then even a right password from there waits. */
    for (int i = 0; i < 5; i++)
        IT_ERROR(signin_raw(NULL, addr, hp_it_fmt("x%d-%s@example.test", i, hp_it_unique()), "pw"),
                 401, "invalid_credentials");
    hp_it_resp *r = signin_raw(NULL, addr, t->email, PASSWORD);
    IT_ERROR(r, 429, "rate_limited");
    IT_CHECK(hp_it_header(r, "Retry-After") != NULL, "Retry-After present");
    IT_STATUS(signin_raw(NULL, fresh_addr(), t->email, PASSWORD), 200);
}

static void test_secure_cookie(void)
{
    static const char *const env[] = {"HOLDPOINT_PUBLIC_URL=https://holdpoint.example.test",
                                      "HOLDPOINT_TRUST_FORWARDED_FOR=1", NULL};
    const hp_it_team *t = hp_it_team_new();
    hp_it_api *api = hp_it_api_start("https-public-url", env);

    IT_CHECK_FATAL(api != NULL, "second API started");
    hp_it_resp *r = signin_raw(api, fresh_addr(), t->email, PASSWORD);
    IT_STATUS(r, 200);
    const char *sc = hp_it_header(r, "Set-Cookie");
    IT_CHECK(sc && strstr(sc, "; Secure"), "Secure under https: %s", sc ? sc : "(none)");
    IT_CHECK(hp_it_api_stop(api) == 0, "API stopped cleanly");
}

/* The address a session records: X-Forwarded-For's from a trusted proxy
 * (the default API trusts 127.0.0.1), the peer's own from anyone else. */
static void test_forwarded_for_only_from_proxies(void)
{
    static const char *const env[] = {"HOLDPOINT_TRUST_FORWARDED_FOR=1",
                                      "HOLDPOINT_TRUSTED_PROXIES=192.0.2.0/24", NULL};
    const hp_it_team *t = hp_it_team_new();
    const char *sql = "select client_addr from user_sessions where user_id = $1::uuid "
                      "order by created_at desc, id desc limit 1";
    const char *forwarded = fresh_addr();
    hp_it_api *api = hp_it_api_start("untrusted-peer", env);

    IT_CHECK_FATAL(api != NULL, "second API started");
    IT_STATUS_FATAL(signin_raw(NULL, forwarded, t->email, PASSWORD), 200);
    const char *a = hp_it_sql_str(sql, t->user_id, NULL);
    IT_CHECK(a != NULL && strcmp(a, forwarded) == 0, "from a trusted proxy: %s", a ? a : "(null)");
    IT_STATUS_FATAL(signin_raw(api, fresh_addr(), t->email, PASSWORD), 200);
    a = hp_it_sql_str(sql, t->user_id, NULL);
    IT_CHECK(a != NULL && strcmp(a, "127.0.0.1") == 0, "from another peer: %s", a ? a : "(null)");
    IT_CHECK(hp_it_api_stop(api) == 0, "API stopped cleanly");
}

int main(void)
{
    static const char *const dflt_env[] = {
        "HOLDPOINT_TRUST_FORWARDED_FOR=1",      "HOLDPOINT_SIGNIN_MAX_FAILURES=3",
        "HOLDPOINT_SIGNIN_ADDR_MAX_FAILURES=5", "HOLDPOINT_SIGNIN_WINDOW_SECONDS=600",
        "HOLDPOINT_SESSION_IDLE_SECONDS=120",   NULL};
    static const hp_it_test tests[] = {
        {"signin_cookie", test_signin_cookie},
        {"signin_refused", test_signin_refused},
        {"csrf", test_csrf},
        {"signout", test_signout},
        {"expiry", test_expiry},
        {"activity_extends_idle", test_activity_extends_idle},
        {"removed_user", test_removed_user},
        {"other_team_404", test_other_team_404},
        {"password_change", test_password_change},
        {"throttle_account", test_throttle_account},
        {"throttle_address", test_throttle_address},
        {"secure_cookie", test_secure_cookie},
        {"forwarded_for_only_from_proxies", test_forwarded_for_only_from_proxies},
        {NULL, NULL},
    };
    hp_it_set_default_env(dflt_env);
    return hp_it_main("session", tests, NULL, NULL);
}
