/*
 * api_auth: the three ways a caller proves who it is (SPEC section 2).
 *
 *   agent:  X-Agent-Id + X-Api-Key, or the key alone as Authorization:
 *           Bearer <api key> or X-Api-Key. An agent-scoped key names its
 *           agent; a team-scoped key acts as the agent X-Agent-Id names, or
 *           without it as the team's default agent (its oldest), so the key
 *           `holdpoint admin bootstrap` prints works in every form
 *   team:   X-Api-Key alone (or any agent form), for team-level reads
 *   user:   Authorization: Bearer <user token>, for the reviewer API, or
 *           the web app's session cookie (hp_session); a change (any method
 *           but GET and HEAD) made with the cookie also needs the session's
 *           X-CSRF-Token, a change made with a token does not
 *
 * Keys are compared by SHA-256 in constant time after a lookup by public
 * prefix. A decision by user token (api_review_resolve) leaves the token to
 * its own statement, one round trip (api_auth_user_token_form): PostgreSQL
 * matches prefix and SHA-256 with =, which can reveal through timing no more
 * than how much of a hash an attacker's guess shares, and the hash of a
 * guessed secret cannot be steered; a removed member's token is refused by
 * that statement on every replica. A create may take the lookup's answer
 * from app->keymem instead (api_auth_agent_create): its insert checks the
 * key again, and any answer before that looks it up (api_auth_confirm).
 * Another team's agent is reported exactly like an unknown one. A session
 * cookie's secret is looked up by its SHA-256; its CSRF token is SHA-256 of
 * "hp-csrf:" and the secret, so it is derived, never stored, and reveals
 * nothing of the cookie.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "hp_batch.h"
#include "hp_crypto.h"
#include "hp_keymem.h"
#include "hp_keys.h"
#include "hp_mem.h"
#include "hp_store_auth.h"
#include "hp_store_session.h"
#include "hp_str.h"
#include "hp_time.h"

static const char *api__bearer(hp_req *req)
{
    const char *h = mg_get_header(req->conn, "Authorization");
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

static hp_err api__fail(hp_req *req, hp_err e, const char *message)
{
    api_send_error(req, e, message, NULL);
    return e;
}

/* A key lookup handed to app->key_batch, and what became of it. */
typedef struct api__key_job {
    hp_key_query q;
    hp_dbconn *c; /* the asking request's connection */
    hp_err rc;
    char err[HP_ERRBUF];
} api__key_job;

/* app->key_batch's work: every lookup asked while the previous statement
 * ran, in one statement on the leading request's connection, or on one
 * borrowed from the pool (ctx) for it when the leader holds none. */
void api_key_batch_run(void *ctx, void **items, int n)
{
    api__key_job *lead = items[0];
    hp_key_query **q = hp_xcalloc((size_t)n, sizeof(*q));
    hp_dbconn *c = lead->c;
    hp_err rc = HP_OK;

    for (int i = 0; i < n; i++)
        q[i] = &((api__key_job *)items[i])->q;
    if (c == NULL)
        rc = hp_db_acquire(ctx, &c, lead->err, sizeof(lead->err));
    if (rc == HP_OK)
        rc = hp_store_key_lookup(c, q, n, lead->err, sizeof(lead->err));
    if (c != NULL && lead->c == NULL)
        hp_db_release(ctx, c);
    for (int i = 0; i < n; i++) {
        api__key_job *j = items[i];
        j->rc = rc;
        if (rc != HP_OK && j != lead)
            hp_err_set(j->err, sizeof(j->err), "%s", lead->err);
    }
    free(q);
}

/* Fills req->auth from the checked key k: the agent it acts as (the named
 * one, the key's own, or for a team key alone the team's default). Sends
 * the 401 and returns its error when there is none and need_agent. */
static hp_err api__auth_fill(hp_req *req, const hp_key_row *k, const char *agent_hdr,
                             bool need_agent)
{
    req->auth.team_id = k->team_id;
    req->auth.key_id = k->key_id;
    req->auth.test_mode = k->test_mode;
    req->auth.team_has_quota = k->team_has_quota;
    req->auth.team_agents_rev = k->team_agents_rev;
    req->auth.key_agent_scoped = k->key_agent_id != NULL;
    if (agent_hdr == NULL && k->key_agent_id == NULL) {
        /* A team key alone: team-level reads need no agent; agent routes
         * act as the team's default agent (the lookup joined it). */
        if (!need_agent)
            return HP_OK;
        if (k->agent_id == NULL)
            return api__fail(req, HP_ERR_MISSING_AGENT_AUTH,
                             "the team has no agent for this key to act as");
    }
    if (k->agent_id == NULL ||
        (k->key_agent_id != NULL && strcmp(k->key_agent_id, k->agent_id) != 0))
        return api__fail(req, HP_ERR_INVALID_AGENT, "X-Agent-Id is not a known agent");
    req->auth.agent_id = k->agent_id;
    req->auth.defaults.timeout_seconds = k->default_timeout_seconds;
    req->auth.defaults.timeout_mode = k->default_timeout_mode;
    req->auth.defaults.timeout_instruction = k->default_timeout_instruction;
    return HP_OK;
}

/* How api__auth_key uses the replica's memory of keys (app->keymem). */
typedef enum {
    API_KEYMEM_NONE,    /* neither asks nor remembers */
    API_KEYMEM_USE,     /* answers from it when it can, else looks up and remembers */
    API_KEYMEM_REFRESH, /* looks up, forgets the old entry, remembers the new */
} api_keymem_use;

/* Shared by the agent and team forms: checks the key, joins the agent (the
 * named one, or the key's own), and fills req->auth. need_agent makes a
 * missing agent an error. With request_id, the same statement also reads
 * that approval of the agent into *row (*row_found), used only once the key
 * checks out. */
static hp_err api__auth_key(hp_req *req, bool need_agent, const char *request_id,
                            hp_approval_row *row, bool *row_found, api_keymem_use mem)
{
    const char *agent_hdr = mg_get_header(req->conn, "X-Agent-Id");
    const char *key = mg_get_header(req->conn, "X-Api-Key");
    char prefix[HP_KEY_PREFIX_LEN + 1];
    unsigned char hash[32];
    api__key_job job;
    const hp_key_row *k = &job.q.key;
    hp_dbconn *c;
    hp_err rc;

    if (key == NULL || key[0] == '\0')
        key = api__bearer(req);
    if (agent_hdr != NULL && agent_hdr[0] == '\0')
        agent_hdr = NULL;
    if (key == NULL && req->err_style != API_ERR_FLAT)
        return api__fail(req, HP_ERR_MISSING_API_KEY, NULL); /* the Bearer surfaces */
    if (key == NULL)
        return api__fail(req, HP_ERR_MISSING_AGENT_AUTH,
                         need_agent ? "send X-Agent-Id and X-Api-Key, or a Bearer API key"
                                    : "send X-Api-Key or a Bearer API key");
    if (!hp_key_parse(HP_KEY_API, key, prefix))
        return api__fail(req, HP_ERR_INVALID_API_KEY, "the API key is not valid");
    if (agent_hdr != NULL && !hp_uuid_valid(agent_hdr))
        return api__fail(req, HP_ERR_INVALID_AGENT, "X-Agent-Id is not a known agent");
    hp_key_hash(key, hash);

    if (mem == API_KEYMEM_USE &&
        hp_keymem_get(req->app->keymem, prefix, agent_hdr, req->pool, &job.q.key,
                      hp_time_mono_ms()) &&
        hp_ct_equal(hash, k->hash, sizeof(hash))) {
        /* Confirmed by the create's own statement, or looked up before any
         * other answer (api_auth_confirm). */
        req->auth.key_unconfirmed = true;
        return api__auth_fill(req, k, agent_hdr, need_agent);
    }
    if (mem == API_KEYMEM_REFRESH)
        hp_keymem_forget(req->app->keymem, prefix, agent_hdr);

    /* A read of one approval needs no connection of its own: only the
     * request leading its batch borrows one, for the statement. Every other
     * route goes on with req->dbc. */
    c = req->dbc;
    if (request_id == NULL && (rc = api_db(req, &c)) != HP_OK)
        return rc;
    memset(&job, 0, sizeof(job));
    job.q.prefix = prefix;
    job.q.agent_id = agent_hdr;
    job.q.request_id = request_id;
    job.q.pool = req->pool;
    job.c = c;
    hp_batch_run(request_id != NULL ? req->app->key_row_batch : req->app->key_batch, &job);
    if (job.rc != HP_OK) {
        hp_err_set(req->err, sizeof(req->err), "%s", job.err);
        api_send_failure(req, job.rc, NULL);
        return job.rc;
    }
    if (!job.q.found || !hp_ct_equal(hash, k->hash, sizeof(hash)) || k->revoked)
        return api__fail(req, HP_ERR_INVALID_API_KEY, "the API key is not valid or was revoked");
    if (row != NULL) {
        *row_found = job.q.row_found;
        if (job.q.row_found)
            *row = job.q.row;
    }

    rc = api__auth_fill(req, k, agent_hdr, need_agent);
    /* Only what a create's statement checks again may change (revocation,
     * a quota, the agent's defaults), so only such keys are remembered
     * (hp_keymem.h). */
    if (rc == HP_OK && mem != API_KEYMEM_NONE && !k->team_has_quota)
        hp_keymem_put(req->app->keymem, prefix, agent_hdr, k, hp_time_mono_ms());
    return rc;
}

hp_err api_auth_agent(hp_req *req)
{
    return api__auth_key(req, true, NULL, NULL, NULL, API_KEYMEM_NONE);
}

hp_err api_auth_agent_create(hp_req *req)
{
    return api__auth_key(req, true, NULL, NULL, NULL, API_KEYMEM_USE);
}

hp_err api_auth_confirm(hp_req *req)
{
    if (!req->auth.key_unconfirmed)
        return HP_OK;
    req->auth.key_unconfirmed = false;
    return api__auth_key(req, true, NULL, NULL, NULL, API_KEYMEM_REFRESH);
}

hp_err api_auth_agent_approval(hp_req *req, const char *request_id, hp_approval_row *row,
                               bool *found)
{
    *found = false;
    return api__auth_key(req, true, request_id, row, found, API_KEYMEM_NONE);
}

hp_err api_auth_team(hp_req *req)
{
    return api__auth_key(req, false, NULL, NULL, NULL, API_KEYMEM_NONE);
}

void api_session_csrf(const char *secret, char out[65])
{
    unsigned char h[32];
    char buf[128];

    (void)hp_fmt(buf, sizeof(buf), "hp-csrf:%s", secret);
    hp_sha256(buf, strlen(buf), h);
    hp_hex_encode(h, sizeof(h), out);
    explicit_bzero(buf, sizeof(buf));
}

/* The session secret from the Cookie header, or NULL. */
static const char *api__session_cookie(hp_req *req)
{
    const char *h = mg_get_header(req->conn, "Cookie");
    char buf[API_SESSION_SECRET_MAX + 1];
    int n;

    if (h == NULL)
        return NULL;
    n = mg_get_cookie(h, API_SESSION_COOKIE, buf, sizeof(buf));
    if (n <= 0)
        return NULL;
    return hp_pool_strdup(req->pool, buf);
}

static bool api__safe_method(hp_req *req)
{
    const char *m = req->ri->request_method;
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

/* Cookie form: a live session, and the CSRF header on a change. */
static hp_err api__auth_session(hp_req *req, const char *secret)
{
    unsigned char hash[32];
    hp_session_row s;
    hp_dbconn *c;
    bool found = false;
    hp_err rc;

    if (strlen(secret) < 16)
        return api__fail(req, HP_ERR_INVALID_SESSION, NULL);
    hp_sha256(secret, strlen(secret), hash);
    if ((rc = api_db(req, &c)) != HP_OK)
        return rc;
    rc = hp_store_session_lookup(c, req->pool, hash, req->app->cfg->session_idle_seconds, &s,
                                 &found, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return rc;
    }
    if (!found)
        return api__fail(req, HP_ERR_INVALID_SESSION, NULL);
    {
        char *csrf = hp_pool_alloc(req->pool, 65);
        api_session_csrf(secret, csrf);
        req->auth.csrf_token = csrf;
    }
    if (!api__safe_method(req)) {
        const char *got = mg_get_header(req->conn, "X-CSRF-Token");
        if (got == NULL || strlen(got) != 64 || !hp_ct_equal(got, req->auth.csrf_token, 64))
            return api__fail(req, HP_ERR_CSRF, NULL);
    }
    req->auth.team_id = s.team_id;
    req->auth.user_id = s.user_id;
    req->auth.user_name = s.name;
    req->auth.user_role = s.role;
    req->auth.session_id = s.session_id;
    req->auth.session_expires_at = s.expires_at;
    return HP_OK;
}

hp_err api_auth_session(hp_req *req)
{
    const char *secret = api__session_cookie(req);

    if (secret == NULL)
        return api__fail(req, HP_ERR_INVALID_SESSION, "sign in first: this needs a web session");
    return api__auth_session(req, secret);
}

hp_err api_auth_user_token_form(hp_req *req, char prefix[HP_KEY_PREFIX_LEN + 1],
                                unsigned char hash[32], bool *by_token)
{
    const char *tok = api__bearer(req);

    *by_token = false;
    if (tok == NULL)
        return HP_OK;
    if (!hp_key_parse(HP_KEY_USER, tok, prefix))
        return api__fail(req, HP_ERR_INVALID_USER_TOKEN, "the user token is not valid");
    hp_key_hash(tok, hash);
    *by_token = true;
    return HP_OK;
}

hp_err api_auth_user(hp_req *req)
{
    char prefix[HP_KEY_PREFIX_LEN + 1];
    unsigned char hash[32];
    hp_token_row t;
    hp_dbconn *c;
    bool found = false, by_token;
    hp_err rc = api_auth_user_token_form(req, prefix, hash, &by_token);

    if (rc != HP_OK)
        return rc;
    if (!by_token) {
        const char *secret = api__session_cookie(req);
        if (secret != NULL)
            return api__auth_session(req, secret);
        return api__fail(req, HP_ERR_INVALID_USER_TOKEN,
                         "send Authorization: Bearer <user token>, or sign in");
    }
    if ((rc = api_db(req, &c)) != HP_OK)
        return rc;
    rc = hp_store_token_lookup(c, req->pool, prefix, &t, &found, req->err, sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return rc;
    }
    if (!found || !hp_ct_equal(hash, t.hash, sizeof(hash)) || t.revoked)
        return api__fail(req, HP_ERR_INVALID_USER_TOKEN,
                         "the user token is not valid or was revoked");
    req->auth.team_id = t.team_id;
    req->auth.user_id = t.user_id;
    req->auth.user_name = t.name;
    req->auth.user_role = t.role;
    return HP_OK;
}
