/*
 * api_stream: waiting for a human without holding anything but a thread.
 * Long-poll (GET …/result?wait=N), Server-Sent Events (Accept:
 * text/event-stream) and blocking creates (wait: block / sse) all come here.
 * The request gives its database connection back, registers a waiter, and
 * re-reads the approval by id after every wake — one read shared by the
 * waiters woken together; see docs/internals/waiters.md.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "hp_json.h"
#include "hp_approval_ops.h"
#include "hp_log.h"
#include "hp_mem.h"
#include "hp_store_approval.h"
#include "hp_store_inbox.h"
#include "hp_str.h"
#include "hp_time.h"

#define API_SSE_KEEPALIVE_MS 15000

bool api_wants_sse(hp_req *req)
{
    const char *a = mg_get_header(req->conn, "Accept");
    return a != NULL && strcasestr(a, "text/event-stream") != NULL;
}

static void api__sse_start(hp_req *req)
{
    struct mg_connection *conn = req->conn;

    api_response_start(req, 200);
    mg_response_header_add(conn, "Content-Type", "text/event-stream", -1);
    mg_response_header_add(conn, "Cache-Control", "no-store", -1);
    mg_response_header_add(conn, "X-Accel-Buffering", "no", -1);
    mg_response_header_add(conn, "Connection", "close", -1);
    mg_response_header_send(conn);
    /* The stream ends when the connection closes. */
    mg_disable_connection_keep_alive(conn);
}

/* Writes one event; false when the client is gone. */
static bool api__sse_event(hp_req *req, const char *event, json_object *data)
{
    const char *text = hp_json_text(data);
    size_t n = strlen(text);
    char head[64];

    (void)hp_fmt(head, sizeof(head), "event: %s\ndata: ", event);
    return mg_write(req->conn, head, strlen(head)) > 0 && mg_write(req->conn, text, n) > 0 &&
           mg_write(req->conn, "\n\n", 2) > 0;
}

static bool api__sse_raw(hp_req *req, const char *text)
{
    return mg_write(req->conn, text, strlen(text)) > 0;
}

void api_sse_begin(hp_req *req)
{
    api__sse_start(req);
}

bool api_sse_send(hp_req *req, const char *event, const char *id, json_object *data)
{
    char line[128];

    if (id != NULL) {
        (void)hp_fmt(line, sizeof(line), "id: %s\n", id);
        if (!api__sse_raw(req, line))
            return false;
    }
    return api__sse_event(req, event, data);
}

bool api_sse_raw(hp_req *req, const char *text)
{
    return api__sse_raw(req, text);
}

typedef struct api__read_ctx {
    hp_req *req;
    const char *approval_id;
} api__read_ctx;

/* The read a crowd of waiters shares: the approval's row as PostgreSQL
 * returned it (a PGresult is safe to read from many threads), NULL when the
 * read failed. */
static void *api__read(void *p)
{
    api__read_ctx *x = p;
    hp_req *req = x->req;
    hp_dbconn *c;
    PGresult *r = NULL;

    if (hp_db_acquire(req->app->db, &c, req->err, sizeof(req->err)) != HP_OK)
        return NULL;
    if (hp_store_approval_by_id_result(c, req->auth.team_id, x->approval_id, &r, req->err,
                                       sizeof(req->err)) != HP_OK)
        r = NULL;
    hp_db_release(req->app->db, c);
    return r;
}

static void api__pqclear(void *r)
{
    PQclear(r);
}

/* Re-reads the approval — one read shared by every waiter of the team
 * woken for it at the same time (hp_waiter_read) — into *pool (a pool of
 * the wait, replaced at each successful read so that a long stream's
 * re-reads do not pile up in the request). Each waiter decodes the shared
 * result into its own pool. A failure leaves *row as it was: the waiter
 * keeps waiting and tries again at the next wake (every waiter is woken
 * when a wake source reconnects). With now, the read begins after this
 * call (not only after the last wake). */
static void api__reread(hp_req *req, hp_waiter *wt, bool now, hp_pool **pool, hp_approval_row *row)
{
    api__read_ctx x = {req, row->id};
    hp_shared *s = hp_waiter_read(wt, row->id, now, api__read, api__pqclear, &x);
    const PGresult *r;
    hp_pool *next;

    hp_waiter_answer_peers(wt, row->id, s);
    if (s == NULL)
        return;
    r = hp_shared_value(s);
    if (PQntuples(r) == 0) {
        hp_shared_put(s);
        return;
    }
    next = hp_pool_new();
    /* The row's strings are copied into next: the shared result can go as
     * soon as it is decoded, not when the wait ends. */
    hp_store_approval_read(next, r, 0, 0, row);
    hp_shared_put(s);
    hp_pool_free(*pool);
    *pool = next;
}

static bool api__pending(const hp_approval_row *row)
{
    return strcmp(row->status, "pending") == 0;
}

/* What a pass answers long-polls with: the result body, rendered once. */
typedef struct api__peer_memo {
    bool decided;
    char *body;
} api__peer_memo;

static void api__peer_memo_free(void *p)
{
    api__peer_memo *m = p;
    free(m->body);
    free(m);
}

/* hp_waiter_answer_fn of a long-poll (ctx: its request): the same answer
 * api__answer would send on the waiter's own thread, once decided. */
static bool api__answer_peer(void *ctx, hp_shared *s, void **memo)
{
    api__peer_memo *m = *memo;

    if (m == NULL) {
        const PGresult *r = hp_shared_value(s);
        m = hp_xcalloc(1, sizeof(*m));
        *memo = m;
        if (PQntuples(r) > 0) {
            hp_pool *pool = hp_pool_new();
            hp_approval_row row;
            hp_store_approval_read(pool, r, 0, 0, &row);
            if (!api__pending(&row)) {
                json_object *o = hp_approval_result_json(&row);
                m->body = hp_xstrdup(hp_json_text(o));
                m->decided = true;
                json_object_put(o);
            }
            hp_pool_free(pool);
        }
    }
    if (!m->decided)
        return false;
    api_send_raw(ctx, 200, "application/json", m->body, strlen(m->body), NULL);
    return true;
}

void api_answer_decided(void *ctx, const char *team_id, const char *approval_id, PGresult *r)
{
    hp_shared *s = hp_shared_new(r, api__pqclear);

    hp_waiters_answer(ctx, team_id, approval_id, s);
    hp_shared_put(s);
}

bool api_wake_row(hp_waiters *w, const char *row)
{
    PGresult *r = hp_store_approval_row_msg(row);

    if (r == NULL)
        return false;
    api_answer_decided(w, PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 0), r);
    return true;
}

/* Sends the final answer of a wait: the result body (resolved or pending). */
static void api__answer(hp_req *req, const hp_approval_row *row, bool sse)
{
    json_object *o = hp_approval_result_json(row);

    if (sse)
        (void)api__sse_event(req, api__pending(row) ? "pending" : "decided", o);
    else
        api_send_json(req, 200, o);
    json_object_put(o);
}

static void api__end_reserved(void *p)
{
    hp_req *req = p;
    hp_waiter_end(req->waiter);
    req->waiter = NULL;
}

/* Takes a place for the request without a key yet (mu of the registry
 * only); on a refusal remembers its scope and counts it, sending nothing. */
static hp_err api__take(hp_req *req, const char *key, bool stream, hp_waiter **out)
{
    hp_waiter_owner owner = {req->auth.team_id,
                             req->auth.key_id != NULL ? req->auth.key_id : req->auth.user_id};
    const char *scope = "key";
    char labels[64];
    hp_err rc;

    if (owner.holder_id == NULL)
        owner.holder_id = owner.team_id;
    rc = hp_waiter_begin(req->app->waiters, &owner, key, stream ? NULL : req->conn, out, &scope);
    if (rc == HP_OK)
        return HP_OK;
    req->wait_refusal = rc == HP_ERR_WAIT_SHARE ? scope : NULL;
    (void)hp_fmt(labels, sizeof(labels), "reason=\"%s\"",
                 rc == HP_ERR_WAIT_SHARE ? scope : "unavailable");
    hp_metrics_add(req->app->metrics, "holdpoint_waits_refused_total", labels, 1);
    return rc;
}

void api_wait_refuse(hp_req *req, hp_err rc)
{
    const char *scope = req->wait_refusal;

    if (rc == HP_ERR_WAIT_SHARE && scope != NULL) {
        static const char *const h[] = {"Retry-After", "5", NULL};
        int team, holder;
        json_object *extra = json_object_new_object();

        hp_waiters_shares(req->app->waiters, &team, &holder);
        hp_json_set_str(extra, "scope", scope);
        json_object_object_add(extra, "limit",
                               json_object_new_int(strcmp(scope, "team") == 0 ? team : holder));
        json_object_object_add(extra, "retry_after_seconds", json_object_new_int(5));
        api_send_error_h(req, rc,
                         strcmp(scope, "team") == 0
                             ? "this team already holds its share of waiting requests on this "
                               "server; retry later"
                             : "this key already holds its share of waiting requests on this "
                               "server; retry later",
                         extra, h);
        json_object_put(extra);
        return;
    }
    api_send_error(req, HP_ERR_UNAVAILABLE, "cannot wait now; retry shortly", NULL);
}

hp_err api_waiter_begin(hp_req *req, const char *key, bool stream, hp_waiter **out)
{
    hp_err rc = api__take(req, key, stream, out);

    if (rc != HP_OK)
        api_wait_refuse(req, rc);
    return rc;
}

/* The request's reserved place, taken now when there is none; quiet. */
static hp_err api__reserve(hp_req *req, bool stream)
{
    hp_err rc;

    if (req->waiter != NULL)
        return HP_OK;
    rc = api__take(req, NULL, stream, &req->waiter);
    if (rc == HP_OK)
        hp_pool_defer(req->pool, api__end_reserved, req);
    return rc;
}

hp_err api_wait_reserve(hp_req *req, bool sse)
{
    hp_err rc = api__reserve(req, sse);

    if (rc != HP_OK)
        api_wait_refuse(req, rc);
    return rc;
}

hp_err api_wait_begin(hp_req *req, const hp_approval_row *row, int wait_s, api_waiting *w)
{
    hp_err rc = api__reserve(req, false);

    w->req = req;
    w->wt = NULL;
    w->pool = NULL;
    w->deadline_ms = hp_time_mono_ms() + (int64_t)wait_s * 1000;
    if (rc != HP_OK)
        return rc;
    api_db_put(req); /* hold nothing while a human decides */
    w->wt = req->waiter;
    hp_waiter_watch(w->wt, row->id);
    return HP_OK;
}
api_wait_outcome api_wait_decided(hp_req *req, api_waiting *w, hp_approval_row *row, int tick_ms,
                                  bool (*tick)(hp_req *req, void *ctx), void *ctx)
{
    hp_wait_result r;

    /* Registered first, read second: a decision committed between the
     * caller's read and the registration is seen here. */
    api__reread(req, w->wt, false, &w->pool, row);
    while (api__pending(row)) {
        int64_t now = hp_time_mono_ms();
        int64_t until = w->deadline_ms;

        if (now >= w->deadline_ms)
            return API_WAITED;
        if (tick != NULL && tick_ms > 0 && now + tick_ms < w->deadline_ms)
            until = now + tick_ms;
        r = hp_waiter_wait(w->wt, until);
        if (r == HP_WAIT_WOKEN)
            api__reread(req, w->wt, false, &w->pool, row);
        else if (r == HP_WAIT_ANSWERED)
            return API_WAIT_ANSWERED;
        else if (r == HP_WAIT_GONE)
            return API_WAIT_GONE;
        else if (r == HP_WAIT_SHUTDOWN)
            return API_WAIT_STOPPING;
        else if (until < w->deadline_ms && !tick(req, ctx))
            return API_WAIT_GONE; /* a stream's keep-alive write failed */
    }
    return API_WAITED;
}

static void api__pool_free(void *p)
{
    hp_pool_free(p);
}

void api_wait_end(api_waiting *w)
{
    if (w->wt != NULL && w->wt == w->req->waiter)
        api__end_reserved(w->req);
    w->wt = NULL;
    /* The row the caller holds may live in the last re-read's pool. */
    if (w->pool != NULL)
        hp_pool_defer(w->req->pool, api__pool_free, w->pool);
    w->pool = NULL;
}

static bool api__keepalive(hp_req *req, void *ctx)
{
    (void)ctx;
    return api__sse_raw(req, ": keep-alive\n\n");
}

void api_wait_and_answer(hp_req *req, const hp_approval_row *row, int wait_s, bool sse,
                         json_object *created_event)
{
    hp_approval_row cur = *row;
    api_waiting w;
    api_wait_outcome r;

    if (api__pending(&cur) && wait_s > 0 && api_wait_reserve(req, sse) != HP_OK)
        return; /* refused before a byte of the answer was sent */
    if (sse) {
        api__sse_start(req);
        if (created_event != NULL && !api__sse_event(req, "created", created_event))
            return;
    }
    if (!api__pending(&cur) || wait_s <= 0) {
        api__answer(req, &cur, sse);
        return;
    }
    if (api_wait_begin(req, &cur, wait_s, &w) != HP_OK)
        return; /* not reached: the place was reserved above */
    if (sse && created_event == NULL) {
        /* A result stream starts with the current state; a create stream
         * already said "created" (SPEC: created, then decided). */
        json_object *o = hp_approval_result_json(&cur);
        bool ok = api__sse_event(req, "pending", o);
        json_object_put(o);
        if (!ok) {
            api_wait_end(&w);
            return;
        }
    }
    /* A long-poll may be answered by the thread that read the decision for
     * all of them (hp_waiter_answer_peers). */
    if (!sse)
        hp_waiter_answer_by(w.wt, api__answer_peer, api__peer_memo_free, req);
    /* An event stream's keep-alive is also how it notices a client that
     * left: the write fails. */
    r = api_wait_decided(req, &w, &cur, sse ? API_SSE_KEEPALIVE_MS : 0, sse ? api__keepalive : NULL,
                         NULL);
    /* Give the place back before answering: the client may ask again at
     * once. */
    api_wait_end(&w);

    if (r == API_WAIT_ANSWERED)
        return; /* sent by a peer, in full */
    if (r == API_WAIT_GONE) {
        if (req->status == 0)
            req->status = 499; /* client closed the request; nothing to send */
    } else if (r == API_WAIT_STOPPING && api__pending(&cur)) {
        /* Stopping: the pending shape tells a long-poller to ask again (any
         * replica will do); an SSE client is told to reconnect. */
        if (sse)
            (void)api__sse_raw(req, "retry: 1000\n\n");
        else
            api__answer(req, &cur, false);
    } else if (sse && api__pending(&cur)) {
        (void)api__sse_raw(req, ": wait ended\n\n");
    } else {
        api__answer(req, &cur, sse);
    }
}

/* Closes cur as expired when its deadline has passed by the database's
 * clock (seed 004 waits answer at the deadline whatever the expiry
 * worker's lag). True when cur changed. A failure leaves cur pending: the
 * worker, or the next try, closes it. */
static bool api__expire_due(hp_req *req, api_waiting *w, hp_approval_row *cur)
{
    hp_dbconn *c;
    hp_approval_row out;
    bool expired = false;

    if (hp_db_acquire(req->app->db, &c, req->err, sizeof(req->err)) != HP_OK)
        return false;
    if (hp_approval_expire_if_due(c, req->pool, &req->app->env, req->auth.team_id, cur->id, &out,
                                  &expired, req->err, sizeof(req->err)) != HP_OK)
        hp_log_warn("could not expire a due approval", "approval_id", cur->id, "reason", req->err);
    hp_db_release(req->app->db, c);
    if (expired) {
        out.agent_display_name = cur->agent_display_name;
        *cur = out;
        hp_waiters_publish(req->app->redis, cur);
    } else {
        api__reread(req, w->wt, true, &w->pool,
                    cur); /* the worker, or a person, may have closed it */
    }
    return expired;
}

/* Acknowledges the decision's action response: the caller is given the
 * decision directly (seed 004's auto-ack). */
static void api__auto_ack(hp_req *req, const hp_approval_row *row)
{
    hp_dbconn *c;

    if (hp_db_acquire(req->app->db, &c, req->err, sizeof(req->err)) != HP_OK ||
        hp_store_inbox_ack_approval(c, row->id, req->err, sizeof(req->err)) != HP_OK)
        hp_log_warn("could not acknowledge the decision", "approval_id", row->id, "reason",
                    req->err);
    hp_db_release(req->app->db, c);
}

/* Waits for out to leave pending until spec's deadline, closing it itself
 * as expired at its own deadline when spec->expire_due. */
static api_wait_outcome api__wait_loop(hp_req *req, api_waiting *w, const api_wait_spec *spec,
                                       hp_approval_row *out)
{
    api_wait_outcome r = API_WAITED;
    int64_t retry_at = 0; /* not yet due by the database's clock: look again then */

    for (;;) {
        int64_t now = hp_time_mono_ms();
        /* The approval's own deadline on the monotonic clock. */
        int64_t due = now + (out->expires_at - hp_time_now_us()) / 1000;
        int64_t stop = spec->deadline_ms;

        if (due < retry_at)
            due = retry_at;
        if (spec->expire_due && due < stop)
            stop = due;
        w->deadline_ms = stop;
        r = api_wait_decided(req, w, out, spec->sse ? API_SSE_KEEPALIVE_MS : 0,
                             spec->sse ? api__keepalive : NULL, NULL);
        if (r != API_WAITED || !api__pending(out) || hp_time_mono_ms() >= spec->deadline_ms)
            break;
        if (api__expire_due(req, w, out) || !api__pending(out))
            break;
        retry_at = hp_time_mono_ms() + 100;
    }
    return r;
}

hp_err api_wait_until(hp_req *req, const hp_approval_row *row, const api_wait_spec *spec,
                      hp_approval_row *out, api_wait_outcome *outcome)
{
    api_waiting w;
    api_wait_outcome r = API_WAITED;

    *out = *row;
    *outcome = API_WAITED;
    if (api__pending(out) && hp_time_mono_ms() < spec->deadline_ms) {
        hp_err rc = api_wait_begin(req, out, 0, &w);
        if (rc != HP_OK)
            return rc;
        r = api__wait_loop(req, &w, spec, out);
        api_wait_end(&w);
    }
    *outcome = r;
    if (!api__pending(out) && spec->auto_ack && r != API_WAIT_GONE)
        api__auto_ack(req, out);
    return HP_OK;
}

void api_wait_run(hp_req *req, const hp_approval_row *row, const api_wait_spec *spec)
{
    hp_approval_row cur;
    api_wait_outcome r;

    if (api__pending(row) && hp_time_mono_ms() < spec->deadline_ms &&
        api_wait_reserve(req, spec->sse) != HP_OK)
        return; /* refused before a byte of the answer was sent */
    if (spec->sse) {
        api__sse_start(req);
        if (spec->first_event != NULL && !api__sse_event(req, spec->first_name, spec->first_event))
            return;
    }
    if (api_wait_until(req, row, spec, &cur, &r) != HP_OK)
        return; /* not reached: the place was reserved above */
    if (r == API_WAIT_GONE) {
        if (req->status == 0)
            req->status = 499; /* client closed the request; nothing to send */
        return;
    }
    if (api__pending(&cur)) {
        /* The cap came first (or the server is stopping): the pending shape
         * tells the caller to ask again; a stream is told to reconnect. */
        if (spec->sse)
            (void)api__sse_raw(req,
                               r == API_WAIT_STOPPING ? "retry: 1000\n\n" : ": wait ended\n\n");
        else
            api__answer(req, &cur, false);
        return;
    }
    api__answer(req, &cur, spec->sse);
}
