/*
 * api_review: the reviewer API of SPEC section 5 for headless reviewers,
 * integrations, tests and the web app (a session cookie works wherever a
 * user token does). The user's team scopes every query; the decision itself
 * is hp_approval_decide, where the first resolution wins.
 *
 * The live inbox (GET /v1/review/stream) is a Server-Sent Events stream
 * registered as a waiter under "team:<team id>", so the same wake-ups that
 * release waiting agents — creates, decisions, cancels and expiries, on any
 * replica — wake it. After each wake it reads the team's approvals changed
 * since its cursor and sends them; see docs/webapp.md "Live inbox".
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_markdown.h"
#include "hp_store_approval.h"
#include "hp_store_auth.h"
#include "hp_str.h"
#include "hp_time.h"

/* Pending counts above this are shown as "this many or more". */
#define API_PENDING_CAP 10000
/* Changes read per query; a larger burst is read in several. */
#define API_CHANGES_BATCH 200
/* Each read starts this far before the cursor: a transaction stamps
 * updated_at when it starts and may commit after a later one was read. */
#define API_CHANGES_OVERLAP_US 2000000LL
/* Rows remembered to skip repeats caused by the overlap. */
#define API_SEEN_MAX            512
#define API_STREAM_KEEPALIVE_MS 15000

void api_review_list(hp_req *req)
{
    hp_approval_filter f = {0};
    const char *v;
    hp_issues *is;

    if (api_auth_user(req) != HP_OK || !api_list_query(req, &f, "pending", true))
        return;
    is = hp_issues_new();
    if ((v = api_query(req, "agent_id")) != NULL) {
        if (!hp_uuid_valid(v))
            hp_issues_add(is, hp_path_key(hp_path_root(), "agent_id"), "invalid_string",
                          "Invalid uuid");
        f.agent_id = v;
    }
    if ((v = api_query(req, "q")) != NULL) {
        long n = hp_utf8_len(v, strlen(v));
        if (n < 1 || n > HP_APPROVAL_QUESTION_MAX)
            hp_issues_add(is, hp_path_key(hp_path_root(), "q"), "too_big",
                          "q must be 1 to %d characters", HP_APPROVAL_QUESTION_MAX);
        f.text = v;
    }
    if (hp_issues_count(is) > 0) {
        api_send_issues(req, HP_ERR_INVALID_QUERY, is);
        hp_issues_free(is);
        return;
    }
    hp_issues_free(is);
    f.team_id = req->auth.team_id;
    api_list_send(req, &f, hp_approval_review_json);
}

/* Authenticates the user and reads the team's approval named by the path;
 * on any failure the response has been sent and false is returned. */
static bool api__load(hp_req *req, hp_approval_row *row)
{
    hp_dbconn *c;
    bool found = false;
    hp_err rc;

    if (api_auth_user(req) != HP_OK)
        return false;
    if (!hp_uuid_valid(req->param)) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such approval", NULL);
        return false;
    }
    if (api_db(req, &c) != HP_OK)
        return false;
    rc = hp_store_approval_by_id(c, req->pool, req->auth.team_id, req->param, row, &found, req->err,
                                 sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return false;
    }
    if (!found) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such approval", NULL);
        return false;
    }
    return true;
}

void api_review_get(hp_req *req)
{
    hp_approval_row row;
    json_object *o;
    char *html;

    if (!api__load(req, &row))
        return;
    o = hp_approval_review_json(&row);
    /* The context as safe HTML for people (raw HTML dropped, only http,
     * https, mailto and relative links kept). */
    html = hp_markdown_html(row.context_markdown ? row.context_markdown : "",
                            row.context_markdown ? strlen(row.context_markdown) : 0);
    hp_json_set_str(o, "context_html", html);
    free(html);
    api_send_json(req, 200, o);
    json_object_put(o);
}

void api_review_audit(hp_req *req)
{
    hp_approval_row row;

    if (!api__load(req, &row))
        return;
    api_audit_send(req, &row);
}

void api_review_agents(hp_req *req)
{
    hp_agent_row *agents;
    json_object *items;
    hp_dbconn *c;
    int n;
    hp_err rc;

    if (api_auth_user(req) != HP_OK || api_db(req, &c) != HP_OK)
        return;
    rc = hp_store_agents_list(c, req->pool, req->auth.team_id, NULL, &agents, &n, req->err,
                              sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    items = json_object_new_array();
    for (int i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        hp_json_set_str(o, "agent_id", agents[i].id);
        hp_json_set_str(o, "name", agents[i].name);
        json_object_array_add(items, o);
    }
    api_send_items(req, items);
}

/* ---- the live inbox ------------------------------------------------------- */

typedef struct api_seen {
    char key[HP_UUID_LEN + 24]; /* "<approval id> <status>" */
    int64_t at;
} api_seen;

typedef struct api_stream {
    hp_req *req;
    int64_t cursor; /* µs: every change before it was sent */
    api_seen *seen; /* ring of recently sent rows */
    int nseen;
    int next;
} api_stream;

static bool api__seen(api_stream *s, const char *key, int64_t at)
{
    for (int i = 0; i < s->nseen; i++)
        if (s->seen[i].at == at && strcmp(s->seen[i].key, key) == 0)
            return true;
    hp_strlcpy(s->seen[s->next].key, key, sizeof(s->seen[s->next].key));
    s->seen[s->next].at = at;
    s->next = (s->next + 1) % API_SEEN_MAX;
    if (s->nseen < API_SEEN_MAX)
        s->nseen++;
    return false;
}

/* Sends the count event, carrying the cursor as the event id (a browser
 * reconnects with it in Last-Event-ID). */
static bool api__send_count(api_stream *s, const char *event, int count)
{
    char id[40];
    json_object *o = json_object_new_object();
    bool ok;

    json_object_object_add(o, "pending_count", json_object_new_int(count));
    json_object_object_add(o, "pending_more", json_object_new_boolean(count >= API_PENDING_CAP));
    (void)hp_fmt(id, sizeof(id), "%lld", (long long)s->cursor);
    ok = api_sse_send(s->req, event, id, o);
    json_object_put(o);
    return ok;
}

/* Reads and sends what changed since the cursor, then the pending count.
 * A database failure sends nothing: the next wake (or the reconnect after
 * the stream ends) tries again from the same cursor. Returns false when the
 * client is gone. */
static bool api__send_changes(api_stream *s)
{
    hp_req *req = s->req;
    hp_pool *pool = hp_pool_new();
    hp_dbconn *c = NULL;
    bool ok = true;
    int count = 0;
    int64_t now = 0, from = s->cursor - API_CHANGES_OVERLAP_US;

    if (hp_db_acquire(req->app->db, &c, req->err, sizeof(req->err)) != HP_OK)
        goto out;
    while (ok) {
        hp_approval_row *rows;
        int64_t *at;
        int n = 0;
        if (hp_store_approval_changes(c, pool, req->auth.team_id, from, API_CHANGES_BATCH, &rows,
                                      &at, &n, req->err, sizeof(req->err)) != HP_OK)
            goto out;
        for (int i = 0; i < n && ok; i++) {
            char key[sizeof(((api_seen *)0)->key)];
            (void)hp_fmt(key, sizeof(key), "%s %s", rows[i].id, rows[i].status);
            if (at[i] > s->cursor)
                s->cursor = at[i];
            if (api__seen(s, key, at[i]))
                continue;
            json_object *o = hp_approval_review_json(&rows[i]);
            ok = api_sse_send(req, "approval", NULL, o);
            json_object_put(o);
        }
        /* A full batch: read on from its last change (repeats of equal
         * times are skipped as seen); a batch that cannot advance ends. */
        if (n < API_CHANGES_BATCH || at[n - 1] <= from)
            break;
        from = at[n - 1];
    }
    if (ok && hp_store_pending_count(c, req->auth.team_id, API_PENDING_CAP, &count, &now, req->err,
                                     sizeof(req->err)) == HP_OK)
        ok = api__send_count(s, "count", count);
out:
    if (c != NULL)
        hp_db_release(req->app->db, c);
    hp_pool_free(pool);
    return ok;
}

void api_review_stream(hp_req *req)
{
    api_stream s = {.req = req};
    char key[HP_WAIT_KEY_MAX];
    const char *last = mg_get_header(req->conn, "Last-Event-ID");
    long long since = -1;
    int count = 0;
    int64_t now = 0, deadline;
    hp_waiter *wt = NULL;
    hp_wait_result r = HP_WAIT_TIMEOUT;
    hp_dbconn *c;
    hp_err rc;

    if (api_auth_user(req) != HP_OK)
        return;
    if (last == NULL || !hp_parse_ll(last, 0, 0x7fffffffffffffffLL, &since)) {
        const char *q = api_query(req, "since");
        if (q != NULL && !hp_parse_ll(q, 0, 0x7fffffffffffffffLL, &since)) {
            hp_issues *is = hp_issues_new();
            hp_issues_add(is, hp_path_key(hp_path_root(), "since"), "invalid_type",
                          "since must be a cursor from an earlier event id");
            api_send_issues(req, HP_ERR_INVALID_QUERY, is);
            hp_issues_free(is);
            return;
        }
    }
    if (api_db(req, &c) != HP_OK)
        return;
    rc = hp_store_pending_count(c, req->auth.team_id, API_PENDING_CAP, &count, &now, req->err,
                                sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        return;
    }
    api_db_put(req);
    (void)hp_fmt(key, sizeof(key), "team:%s", req->auth.team_id);
    if (api_waiter_begin(req, key, true, &wt) != HP_OK)
        return; /* refused: 429 or 503 sent */
    s.seen = calloc(API_SEEN_MAX, sizeof(*s.seen));
    if (s.seen == NULL) {
        hp_waiter_end(wt);
        api_send_failure(req, HP_ERR_NOMEM, NULL);
        return;
    }
    /* Registered first, read second (as every waiter): a change committed
     * after the count's read is either in the catch-up below or wakes us.
     * The catch-up may repeat changes of the last moments; the page applies
     * each approval by id, so a repeat is harmless. */
    s.cursor = since >= 0 ? since : now;
    api_sse_begin(req);
    if (!api_sse_raw(req, "retry: 2000\n\n") || !api__send_count(&s, "ready", count) ||
        !api__send_changes(&s))
        goto done;
    /* A stream lasts as long as the longest wait; the browser then
     * reconnects with Last-Event-ID, which rebalances streams across
     * replicas and bounds how long one holds a thread. */
    deadline = hp_time_mono_ms() + (int64_t)req->app->cfg->max_wait_seconds * 1000;
    for (;;) {
        int64_t t = hp_time_mono_ms();
        if (t >= deadline)
            break;
        r = hp_waiter_wait(wt, t + API_STREAM_KEEPALIVE_MS < deadline ? t + API_STREAM_KEEPALIVE_MS
                                                                      : deadline);
        if (r == HP_WAIT_WOKEN) {
            if (!api__send_changes(&s))
                break;
        } else if (r == HP_WAIT_TIMEOUT) {
            if (!api_sse_raw(req, ": keep-alive\n\n"))
                break;
        } else {
            break; /* gone or shutdown */
        }
    }
    if (r == HP_WAIT_SHUTDOWN)
        (void)api_sse_raw(req, "retry: 500\n\n");
done:
    hp_waiter_end(wt);
    free(s.seen);
}

void api_review_resolve(hp_req *req)
{
    hp_decision d = {.option_index = -1, .actor_type = "user"};
    hp_approval_row out;
    hp_issues *is;
    json_object *body, *o;
    hp_path root = hp_path_root();
    int64_t idx = -1;
    bool has_idx = false;
    char prefix[HP_KEY_PREFIX_LEN + 1];
    unsigned char hash[32];
    bool by_token = false;
    hp_dbconn *c;
    hp_err rc;

    /* A user token is checked by the decision's own statement (one round
     * trip); a web session as on every other route. */
    rc = api_auth_user_token_form(req, prefix, hash, &by_token);
    if (rc != HP_OK || (!by_token && api_auth_user(req) != HP_OK) ||
        api_read_json(req, true, &body) != HP_OK)
        return;
    is = hp_issues_new();
    if (hp_valid_is_object(is, root, body)) {
        (void)hp_valid_int(is, root, body, "option_index", false, 0,
                           HP_APPROVAL_STORED_OPTIONS_MAX - 1, &idx, &has_idx);
        d.custom_instruction = hp_valid_str(is, root, body, "custom_instruction",
                                            (hp_str_rule){false, true, 1, HP_APPROVAL_CUSTOM_MAX});
        if (hp_issues_count(is) == 0 && has_idx == (d.custom_instruction != NULL))
            hp_issues_add(is, root, "custom",
                          "send exactly one of option_index and custom_instruction");
    }
    if (hp_issues_count(is) > 0) {
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        goto out;
    }
    if (!hp_uuid_valid(req->param)) {
        api_send_error(req, HP_ERR_NOT_FOUND, "no such approval", NULL);
        goto out;
    }
    if (api_db(req, &c) != HP_OK)
        goto out;
    d.kind = has_idx ? HP_DECIDE_OPTION : HP_DECIDE_CUSTOM;
    d.option_index = (int)idx;
    if (by_token) {
        d.token_prefix = prefix;
        d.token_hash = hash;
    } else {
        d.user_id = req->auth.user_id;
        d.user_name = req->auth.user_name;
        d.actor_id = req->auth.user_id;
    }
    d.surface = req->auth.session_id != NULL ? "web" : "api";
    rc = hp_approval_decide(c, req->pool, &req->app->env, req->auth.team_id, req->param, &d, &out,
                            req->err, sizeof(req->err));
    if (rc == HP_ERR_INVALID_USER_TOKEN) {
        api_send_error(req, rc, "the user token is not valid or was revoked", NULL);
        goto out;
    }
    if (rc == HP_OK && by_token)
        req->auth.team_id = out.team_id;
    if (rc == HP_ERR_INVALID_PAYLOAD) {
        hp_issues_add(is, hp_path_key(root, has_idx ? "option_index" : "custom_instruction"),
                      has_idx ? "too_big" : "custom", "%s", req->err);
        api_send_issues(req, rc, is);
        goto out;
    }
    if (rc == HP_ERR_ALREADY_RESOLVED || rc == HP_ERR_NOT_FOUND) {
        api_send_error(req, rc,
                       rc == HP_ERR_NOT_FOUND ? "no such approval"
                                              : "the approval was already resolved",
                       NULL);
        goto out;
    }
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    o = hp_approval_result_json(&out);
    api_send_json(req, 200, o);
    json_object_put(o);
out:
    hp_issues_free(is);
}
