/*
 * Waiting for a decision (issue: long-poll, block and SSE across replicas):
 * a long-poll on one replica released by a decision on another, with and
 * without Redis; a waiter that outlives a PostgreSQL restart; 1,000
 * long-polls held by an API with the default settings and released by
 * 1,000 decisions on the other replica; 2,000 long-polls on one approval
 * all answered with its decision (from the deciding statement's row, the
 * decision made on their replica); long-polls answered by a peer after a
 * read (decided on another replica) or from the decision's row (on theirs)
 * keep their connections; a row that comes through Redis is believed only
 * sealed with the replicas' key; SSE and blocking creates; a client that
 * hangs up frees its waiter; SIGTERM answers every waiter; the waiter limit
 * refuses with 503; and the create rate limit shared by two replicas under
 * concurrent load, through Redis and through PostgreSQL.
 *
 * Long-polls run in a background thread with their own libcurl multi handle
 * (bg_*), so the test thread can decide while they wait.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include "hp_itest.h"
#include "it_bg.h"

#ifndef HP_ITEST_SERVICES_SH
#error "HP_ITEST_SERVICES_SH must name scripts/services.sh"
#endif

static void services(const char *verb)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s %s %s >/dev/null", HP_ITEST_SERVICES_SH, verb,
             hp_it_env("HP_RUN_DIR"));
    IT_CHECK_FATAL(system(cmd) == 0, "services.sh %s failed", verb);
}

/* Creates an approval as t on api and returns {request_id, approval_id}. */
static void create_on(hp_it_api *api, const hp_it_team *t, const char **rid, const char **aid)
{
    hp_it_resp *r =
        hp_it_agent_on(api, t, "POST", "/v1/approvals", hp_it_create_body("wait for me", NULL));
    IT_STATUS_FATAL(r, 200);
    *rid = json_object_get_string(hp_it_jget(r->json, "request_id", NULL));
    *aid = json_object_get_string(hp_it_jget(r->json, "approval_id", NULL));
}

static const char *resolve_path(const char *aid)
{
    return hp_it_fmt("/v1/review/approvals/%s/resolve", aid);
}

/* Long-poll on `on`, decision on `decide`; asserts the waiter is released
 * with the decision well within a generous bound. */
static void release_across(hp_it_api *on, hp_it_api *decide, const hp_it_team *t)
{
    const char *rid, *aid;
    bg_batch *b = bg_new(1);
    double t0;

    create_on(decide, t, &rid, &aid);
    bg_set(b, 0, "GET", hp_it_fmt("%s/v1/approvals/%s/result?wait=30", hp_it_api_base(on), rid), t,
           false, NULL, NULL, 40000);
    bg_start(b);
    IT_CHECK_FATAL(hp_it_await_gauge(on, "holdpoint_waiters", 1, true, 10000), "waiter registered");
    double here = hp_it_gauge(on, "holdpoint_waits_answered_by_decision_total");
    t0 = hp_it_now();
    hp_it_resp *d = hp_it_send(decide, &(hp_it_req){.method = "POST",
                                                    .path = resolve_path(aid),
                                                    .headers = hp_it_user_headers(t, true),
                                                    .body = "{\"option_index\":0}"});
    IT_STATUS(d, 200);
    bg_join(b);
    IT_CHECK(b->calls[0].status == 200, "long-poll status %ld", b->calls[0].status);
    json_object *o = hp_it_json(b->calls[0].resp);
    IT_JSTR(o, "status", "selected_option");
    IT_JSTR(o, "request_id", rid);
    IT_CHECK(b->calls[0].done_at - t0 < 2.0, "released %.3f s after the decision",
             b->calls[0].done_at - t0);
    /* Answered from the decision's row (its statement's result on the
     * deciding replica, its NOTIFY on any), unless it was not yet asleep
     * when the decision came (registered, it may still be finishing its
     * first read) or the decider's Redis message (keys only) woke it to
     * read first: the crowd and peer tests below count the row's share. */
    double by = hp_it_gauge(on, "holdpoint_waits_answered_by_decision_total") - here;
    IT_CHECK(here >= 0 && by >= 0 && by <= 1, "answered from the decision's row %.0f times", by);
}

/* ---- tests ------------------------------------------------------------------ */

static hp_it_api *replica_b;

/* Waits up to ms for a notification on the LISTENing pg whose payload is
 * want, or with row, want followed by a row (" =" and the rest); returns
 * that payload (harness-owned), NULL when none came. */
static const char *await_notify_as(PGconn *pg, const char *want, bool row, int ms)
{
    for (double end = hp_it_now() + ms / 1000.0; hp_it_now() < end;) {
        struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};
        PGnotify *n;
        const char *hit = NULL;

        (void)poll(&p, 1, 100);
        if (!PQconsumeInput(pg))
            return NULL;
        while ((n = PQnotifies(pg)) != NULL) {
            size_t k = strlen(want);
            if (hit == NULL && strncmp(n->extra, want, k) == 0 &&
                (row ? strncmp(n->extra + k, " =", 2) == 0 : n->extra[k] == '\0'))
                hit = hp_it_fmt("%s", n->extra);
            PQfreemem(n);
        }
        if (hit)
            return hit;
    }
    return NULL;
}

static bool await_notify(PGconn *pg, const char *want, int ms)
{
    return await_notify_as(pg, want, false, ms) != NULL;
}

static PGconn *listen_approvals(void)
{
    PGconn *pg = PQconnectdb(hp_it_env("HOLDPOINT_DATABASE_URL"));
    PGresult *res;

    IT_CHECK_FATAL(PQstatus(pg) == CONNECTION_OK, "listen connection: %s", PQerrorMessage(pg));
    res = PQexec(pg, "LISTEN hp_approval");
    IT_CHECK_FATAL(PQresultStatus(res) == PGRES_COMMAND_OK, "LISTEN");
    PQclear(res);
    return pg;
}

/* A file's whole text (harness-owned; "" when unreadable). */
static const char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = hp_it_fmt("%*s", 65535, "");
    size_t n = f ? fread(buf, 1, 65535, f) : 0;

    if (f)
        fclose(f);
    buf[n] = '\0';
    return buf;
}

/* A new file under the run directory holding text; its path. */
static const char *write_text(const char *text)
{
    const char *path = hp_it_fmt("%s/wake-%s.txt", hp_it_env("HP_RUN_DIR"), hp_it_unique());
    FILE *f = fopen(path, "w");

    IT_CHECK_FATAL(f != NULL && fputs(text, f) >= 0 && fclose(f) == 0, "write %s", path);
    return path;
}

/* Wake message msg ("<keys> =<row>") in its Redis form, sealed with secret
 * by tests/e2e/sign.js (Node's crypto, no code shared with Holdpoint). */
static const char *node_seal(const char *secret, const char *msg)
{
    const char *in = write_text(msg), *out = hp_it_fmt("%s.sealed", in);
    int st = system(hp_it_fmt("node '%s/tests/e2e/sign.js' wake '%s' '%s' > '%s'",
                              HP_ITEST_SOURCE_DIR, secret, in, out));

    IT_CHECK_FATAL(st == 0, "sign.js wake failed");
    return read_text(out);
}

/* PUBLISH hp:approval msg, as anyone who reaches Redis can. */
static void redis_publish(const char *msg)
{
    int st = system(hp_it_fmt("redis-cli -u '%s' -x PUBLISH hp:approval < '%s' > /dev/null",
                              hp_it_env("HOLDPOINT_REDIS_URL"), write_text(msg)));
    IT_CHECK_FATAL(st == 0, "redis-cli PUBLISH failed");
}

/* s with every occurrence of from replaced by to (harness-owned). */
static const char *replace_all(const char *s, const char *from, const char *to)
{
    const char *out = "", *p;

    while ((p = strstr(s, from)) != NULL) {
        out = hp_it_fmt("%s%.*s%s", out, (int)(p - s), s, to);
        s = p + strlen(from);
    }
    return hp_it_fmt("%s%s", out, s);
}

/* Element k of the JSON array a, as a string (NULL when null). */
static const char *row_at(json_object *a, size_t k)
{
    return json_object_get_string(json_object_array_get_idx(a, k));
}

static bool same(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* The wake message names the approval and its team ("<id> team:<team>"),
 * and for a close also the agent ("… agent:<agent>"): creates send it by
 * NOTIFY when the API has no Redis and by Redis PUBLISH when it has;
 * decisions send it by NOTIFY and Redis, and their NOTIFY carries the
 * closed row after the keys (" =" and a JSON array of its columns, the
 * callback's URL and headers left out). */
static void test_wake_message(void)
{
    /* Without Redis; callbacks to loopback allowed, for one with a
     * callback URL and headers (a job no worker of this suite sends). */
    static const char *const no_redis[] = {"HOLDPOINT_REDIS_URL",
                                           "HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", NULL};
    const hp_it_team *t = hp_it_team_new();
    const char *out;
    PGconn *pg = listen_approvals();
    hp_it_api *solo;
    const char *rid, *aid, *msg, *row;
    bool published = false;

    solo = hp_it_api_start("wait-noredis", no_redis);
    IT_CHECK_FATAL(solo != NULL, "API without Redis");
    create_on(solo, t, &rid, &aid);
    msg = hp_it_fmt("team:%s", t->team_id);
    IT_CHECK(await_notify(pg, msg, 5000), "NOTIFY \"%s\" on a create without Redis", msg);
    hp_it_resp *c = hp_it_agent_on(
        solo, t, "POST", "/v1/approvals",
        hp_it_create_body("wait for me", "\"callback\":{\"url\":\"http://127.0.0.1:9/cb\","
                                         "\"headers\":{\"X-Callback-Token\":\"tok-9\"}}"));
    IT_STATUS_FATAL(c, 200);
    aid = json_object_get_string(hp_it_jget(c->json, "approval_id", NULL));
    IT_CHECK(hp_it_api_stop(solo) == 0, "API without Redis exit status");

    out = hp_it_redis_subscribe("hp:approval", 8);
    create_on(hp_it_api_default(), t, &rid, &msg);
    msg = hp_it_fmt("%s team:%s", aid, t->team_id);
    IT_STATUS(hp_it_user(t, "POST", resolve_path(aid), "{\"option_index\": 0}"), 200);
    /* A close also names the agent, whose inbox streams it wakes. */
    const char *keys = hp_it_fmt("%s agent:%s", msg, t->agent_id);
    row = await_notify_as(pg, keys, true, 5000);
    IT_CHECK_FATAL(row != NULL, "NOTIFY \"%s\" and the row on a decision", keys);
    json_object *a = hp_it_json(row + strlen(keys) + 2);
    IT_CHECK_FATAL(json_object_is_type(a, json_type_array), "a JSON array: %s", row);
    /* The approval's columns and the agent's name: the id, team and
     * agent whose keys it wakes, the status; no callback URL nor headers. */
    IT_CHECK(json_object_array_length(a) == 32, "32 values: %s", row);
    IT_CHECK(same(row_at(a, 0), aid) && same(row_at(a, 1), t->team_id) &&
                 same(row_at(a, 2), t->agent_id),
             "id, team, agent: %s", row);
    IT_CHECK(same(row_at(a, 19), "selected_option"), "status: %s", row);
    IT_CHECK(row_at(a, 13) == NULL && row_at(a, 14) == NULL && !strstr(row, "127.0.0.1:9"),
             "no callback URL nor headers: %s", row);
    /* The subscriber sees the create's publish ("team:…" alone: no request
     * can wait on an approval before it exists) and the decision's. */
    for (double end = hp_it_now() + 6; !published && hp_it_now() < end; hp_it_sleep_ms(50))
        published = hp_it_file_count(out, hp_it_fmt("team:%s", t->team_id)) >= 2;
    IT_CHECK(published, "Redis messages for the create and the decision of %s", aid);
    IT_CHECK(hp_it_file_count(out, aid) == 1, "only the decision's message names %s", aid);
    /* The decision's Redis message is its NOTIFY with the row sealed: the
     * seal Node computes from the NOTIFY and the secret key is in it. */
    const char *sealed = node_seal(hp_it_env("HOLDPOINT_SECRET_KEY"), row);
    const char *seal = strstr(sealed, " ~");
    IT_CHECK_FATAL(seal != NULL && strlen(seal) > 66, "sign.js wrote %s", sealed);
    seal = hp_it_fmt("%s ~%.64s =[", keys, seal + 2);
    IT_CHECK(hp_it_file_count(out, seal) == 1, "the Redis message of %s carries \"%s\"", aid, seal);
    PQfinish(pg);
}

/* Of a replica that hears no NOTIFY (its LISTEN connection goes through the
 * transaction-mode pooler), long-polls are answered by the row of the
 * decision's Redis message, when its seal holds; an unsealed row, one
 * sealed under another key, or a genuine seal moved onto another row only
 * wakes them to read. */
static void test_row_through_redis(void)
{
    const char *const deaf[] = {
        hp_it_fmt("HOLDPOINT_DATABASE_DIRECT_URL=%s", hp_it_env("HP_POOLER_URL")), NULL};
    const char *secret = hp_it_env("HOLDPOINT_SECRET_KEY");
    const char *by = "holdpoint_waits_answered_by_decision_total";
    const hp_it_team *t = hp_it_team_new();
    hp_it_api *c = hp_it_api_start("wait-redis-rows", deaf);
    PGconn *pg = listen_approvals();
    const char *rid, *aid, *rid2, *aid2, *msg, *forged, *poll;
    bg_batch *b = bg_new(1);
    double n0;

    IT_CHECK_FATAL(c != NULL, "replica started");
    create_on(hp_it_api_default(), t, &rid, &aid);
    bg_set(b, 0, "GET", hp_it_fmt("%s/v1/approvals/%s/result?wait=30", hp_it_api_base(c), rid), t,
           false, NULL, NULL, 40000);
    bg_start(b);
    IT_CHECK_FATAL(hp_it_await_gauge(c, "holdpoint_waiters", 1, false, 10000), "waiting");
    n0 = hp_it_gauge(c, by);
    IT_STATUS(hp_it_user(t, "POST", resolve_path(aid), "{\"option_index\":0}"), 200);
    bg_join(b);
    IT_CHECK(b->calls[0].status == 200 && b->calls[0].resp &&
                 strstr(b->calls[0].resp, "\"selected_option\""),
             "the long-poll got the decision: %ld %s", b->calls[0].status, b->calls[0].resp);
    IT_CHECK(hp_it_gauge(c, by) == n0 + 1, "answered from the Redis message's row (%g, was %g)",
             hp_it_gauge(c, by), n0);

    /* The same decision, made to read as one of a pending approval. */
    msg = await_notify_as(pg, hp_it_fmt("%s team:%s agent:%s", aid, t->team_id, t->agent_id), true,
                          5000);
    IT_CHECK_FATAL(msg != NULL, "the decision's NOTIFY");
    create_on(hp_it_api_default(), t, &rid2, &aid2);
    forged = replace_all(replace_all(msg, aid, aid2), rid, rid2);
    poll = hp_it_fmt("%s/v1/approvals/%s/result?wait=3", hp_it_api_base(c), rid2);
    b = bg_new(1);
    bg_set(b, 0, "GET", poll, t, false, NULL, NULL, 20000);
    bg_start(b);
    IT_CHECK_FATAL(hp_it_await_gauge(c, "holdpoint_waiters", 1, false, 10000), "waiting");
    n0 = hp_it_gauge(c, by);
    redis_publish(forged);
    redis_publish(
        node_seal("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", forged));
    const char *genuine = strstr(node_seal(secret, msg), " ~");
    const char *moved = strstr(forged, " =");
    IT_CHECK_FATAL(genuine && moved, "seal and row");
    redis_publish(hp_it_fmt("%.*s%.66s%s", (int)(moved - forged), forged, genuine, moved));
    bg_join(b);
    IT_CHECK(b->calls[0].status == 200 && b->calls[0].resp &&
                 strstr(b->calls[0].resp, "\"pending\"") &&
                 !strstr(b->calls[0].resp, "selected_option"),
             "the forged rows were not believed: %ld %s", b->calls[0].status, b->calls[0].resp);
    IT_CHECK(hp_it_gauge(c, by) == n0, "no long-poll answered from a forged row");
    IT_CHECK(strcmp(hp_it_sql_str("select status from approvals where id = $1::uuid", aid2, NULL),
                    "pending") == 0,
             "%s still pending", aid2);

    /* Sealed with the replicas' key, the same row is believed: the seal,
     * not the channel, is what a replica trusts. */
    b = bg_new(1);
    bg_set(b, 0, "GET", hp_it_fmt("%s/v1/approvals/%s/result?wait=30", hp_it_api_base(c), rid2), t,
           false, NULL, NULL, 40000);
    bg_start(b);
    IT_CHECK_FATAL(hp_it_await_gauge(c, "holdpoint_waiters", 1, false, 10000), "waiting");
    redis_publish(node_seal(secret, forged));
    bg_join(b);
    IT_CHECK(b->calls[0].status == 200 && b->calls[0].resp &&
                 strstr(b->calls[0].resp, "\"selected_option\""),
             "the sealed row answered: %ld %s", b->calls[0].status, b->calls[0].resp);
    IT_CHECK(hp_it_gauge(c, by) == n0 + 1, "answered from the sealed row");
    IT_CHECK(hp_it_api_stop(c) == 0, "replica exits 0");
    PQfinish(pg);
}

/* A row the 8,000-byte NOTIFY cannot carry (500 three-byte characters of
 * question, 2,500 of context): the decision succeeds all the same and its
 * NOTIFY is the keys message, and a long-poll on another replica is
 * answered after a wake and a read. */
static void test_row_too_big(void)
{
    const hp_it_team *t = hp_it_team_new();
    PGconn *pg = listen_approvals();
    hp_it_api *on[2] = {hp_it_api_default(), replica_b};
    const char *euro = "\xe2\x82\xac"; /* U+20AC: three bytes */
    double here[2];
    bg_batch *b = bg_new(2);
    hp_it_resp *c = hp_it_agent(
        t, "POST", "/v1/approvals",
        hp_it_fmt(
            "{\"question\":\"%s\",\"context_markdown\":\"%s\",\"options\":[{\"label\":"
            "\"Approve\",\"value\":\"approve\"},{\"label\":\"Reject\",\"value\":\"reject\"}]}",
            hp_it_repeat(euro, 500), hp_it_repeat(euro, 2500)));
    IT_STATUS_FATAL(c, 200);
    const char *rid = json_object_get_string(hp_it_jget(c->json, "request_id", NULL));
    const char *aid = json_object_get_string(hp_it_jget(c->json, "approval_id", NULL));
    for (int i = 0; i < 2; i++) {
        bg_set(b, i, "GET",
               hp_it_fmt("%s/v1/approvals/%s/result?wait=30", hp_it_api_base(on[i]), rid), t, false,
               NULL, NULL, 40000);
    }
    bg_start(b);
    for (int i = 0; i < 2; i++) {
        IT_CHECK_FATAL(hp_it_await_gauge(on[i], "holdpoint_waiters", 1, true, 10000),
                       "waiter %d registered", i);
        here[i] = hp_it_gauge(on[i], "holdpoint_waits_answered_by_decision_total");
    }
    IT_STATUS(hp_it_user(t, "POST", resolve_path(aid), "{\"option_index\": 1}"), 200);
    IT_CHECK(await_notify(pg, hp_it_fmt("%s team:%s agent:%s", aid, t->team_id, t->agent_id), 5000),
             "the keys message for a row too big to carry");
    bg_join(b);
    for (int i = 0; i < 2; i++) {
        json_object *o = b->calls[i].status == 200 ? hp_it_json(b->calls[i].resp) : NULL;
        IT_CHECK(
            o != NULL &&
                same(json_object_get_string(hp_it_jget(o, "status", NULL)), "selected_option") &&
                same(json_object_get_string(hp_it_jget(o, "selected_option_value", NULL)),
                     "reject"),
            "long-poll %d answered with the decision: %ld", i, b->calls[i].status);
        /* On the deciding replica its statement's row races with the
         * keys NOTIFY (which wakes the long-poll to read); elsewhere only
         * a read can answer it. */
        double by = hp_it_gauge(on[i], "holdpoint_waits_answered_by_decision_total") - here[i];
        IT_CHECK(i == 0 ? by >= 0 && by <= 1 : by == 0,
                 "replica %d: %.0f answered from the decision's row", i, by);
    }
    PQfinish(pg);
}

static void test_cross_replica(void)
{
    const hp_it_team *t = hp_it_team_new();
    release_across(hp_it_api_default(), replica_b, t);
    release_across(replica_b, hp_it_api_default(), t);
    release_across(hp_it_api_default(), hp_it_api_default(), t);
}

static void test_cross_replica_redis_stopped(void)
{
    const hp_it_team *t = hp_it_team_new();

    services("redis-stop");
    bool down =
        hp_it_await_gauge(hp_it_api_default(), "holdpoint_wake_redis_up", 0, false, 10000) &&
        hp_it_await_gauge(replica_b, "holdpoint_wake_redis_up", 0, false, 10000);
    IT_CHECK(down, "both replicas saw Redis go away");
    if (down)
        release_across(hp_it_api_default(), replica_b, t);
    services("redis-start");
    IT_CHECK(hp_it_await_gauge(hp_it_api_default(), "holdpoint_wake_redis_up", 1, false, 15000),
             "replica A resubscribed");
    IT_CHECK(hp_it_await_gauge(replica_b, "holdpoint_wake_redis_up", 1, false, 15000),
             "replica B resubscribed");
}

static void test_survives_pg_restart(void)
{
    /* Without Redis the only wake path is LISTEN, which must come back. */
    static const char *const env[] = {"HOLDPOINT_REDIS_URL", NULL};
    hp_it_api *a = hp_it_api_start("wait-nopg-a", env);
    hp_it_api *b = hp_it_api_start("wait-nopg-b", env);
    const hp_it_team *t = hp_it_team_new();
    const char *rid, *aid;
    bg_batch *bg = bg_new(1);

    IT_CHECK_FATAL(a && b, "replicas started");
    create_on(b, t, &rid, &aid);
    bg_set(bg, 0, "GET", hp_it_fmt("%s/v1/approvals/%s/result?wait=60", hp_it_api_base(a), rid), t,
           false, NULL, NULL, 70000);
    bg_start(bg);
    IT_CHECK(hp_it_await_gauge(a, "holdpoint_waiters", 1, true, 10000), "waiter registered");
    services("pg-stop");
    IT_CHECK(hp_it_await_gauge(a, "holdpoint_wake_postgresql_up", 0, false, 40000),
             "replica A noticed the lost LISTEN connection");
    services("pg-start");
    IT_CHECK(hp_it_await_gauge(a, "holdpoint_wake_postgresql_up", 1, false, 30000),
             "replica A listens again");
    IT_CHECK(hp_it_await_gauge(a, "holdpoint_waiters", 1, true, 1000),
             "the waiter is still waiting");
    /* The pool reconnects on its own; retry the decision until it does. */
    hp_it_resp *d = NULL;
    for (int i = 0; i < 50; i++) {
        d = hp_it_send(b, &(hp_it_req){.method = "POST",
                                       .path = resolve_path(aid),
                                       .headers = hp_it_user_headers(t, true),
                                       .body = "{\"option_index\":0}"});
        if (d->status == 200)
            break;
        hp_it_sleep_ms(200);
    }
    IT_STATUS(d, 200);
    double t0 = hp_it_now();
    bg_join(bg);
    IT_CHECK(bg->calls[0].status == 200, "long-poll status %ld", bg->calls[0].status);
    IT_JSTR(hp_it_json(bg->calls[0].resp), "status", "selected_option");
    IT_CHECK(bg->calls[0].done_at - t0 < 2.0, "released %.3f s after the decision",
             bg->calls[0].done_at - t0);
    IT_CHECK(hp_it_api_stop(a) == 0, "replica A exits 0");
    IT_CHECK(hp_it_api_stop(b) == 0, "replica B exits 0");
}

static void test_thousand_longpolls(void)
{
    /* With the product's defaults (4,096 waiters, a team 25 % of them, a key
     * 10 %), from four agents of one team. The ThreadSanitizer pass
     * (HP_IT_LIGHT=1) runs the same protocol with 100 waiters on a small
     * pool: TSan makes each of thousands of threads slow to start. */
    enum { AGENTS = 4 };
    const bool light = getenv("HP_IT_LIGHT") != NULL;
    const int N = light ? 100 : 1000;
    const char *const env[] = {
        light ? "HOLDPOINT_API_THREADS=200" : "HOLDPOINT_API_THREADS",
        light ? "HOLDPOINT_MAX_WAITERS=150" : "HOLDPOINT_MAX_WAITERS",
        light ? "HOLDPOINT_TEAM_WAITERS_PERCENT=100" : "HOLDPOINT_TEAM_WAITERS_PERCENT",
        light ? "HOLDPOINT_KEY_WAITERS_PERCENT=100" : "HOLDPOINT_KEY_WAITERS_PERCENT",
        "HOLDPOINT_DB_POOL_SIZE=16",
        "HOLDPOINT_DB_TIMEOUT_MS=30000",
        "AGENT_CREATE_RATE_LIMIT_MAX=100000",
        NULL};
    hp_it_api *a = hp_it_api_start("wait-1000", env);
    const hp_it_team *t = hp_it_team_new(), *agents[AGENTS];
    const char **aids = hp_it_track(calloc((size_t)N, sizeof(*aids)), free);
    bg_batch *polls = bg_new(N);
    int released = 0;

    IT_CHECK_FATAL(a != NULL, "API started");
    agents[0] = t;
    for (int g = 1; g < AGENTS; g++)
        agents[g] = hp_it_team_agent(t);
    /* The approvals are created 100 at a time through the API, each agent
     * waiting on its own. */
    for (int i = 0; i < N; i += 100) {
        bg_batch *create = bg_new(100);
        for (int k = 0; k < 100; k++)
            bg_set(create, k, "POST", hp_it_fmt("%s/v1/approvals", hp_it_api_base(a)),
                   agents[(i + k) % AGENTS], false, NULL, hp_it_create_body("one of many", NULL),
                   60000);
        bg_start(create);
        bg_join(create);
        for (int k = 0; k < 100; k++) {
            json_object *o = hp_it_json(create->calls[k].resp);
            IT_CHECK_FATAL(create->calls[k].status == 200, "create %d: %ld", i + k,
                           create->calls[k].status);
            aids[i + k] = json_object_get_string(hp_it_jget(o, "approval_id", NULL));
            bg_set(polls, i + k, "GET",
                   hp_it_fmt("%s/v1/approvals/%s/result?wait=120", hp_it_api_base(a),
                             json_object_get_string(hp_it_jget(o, "request_id", NULL))),
                   agents[(i + k) % AGENTS], false, NULL, NULL, 150000);
        }
    }
    bg_start(polls);
    IT_CHECK_FATAL(hp_it_await_gauge(a, "holdpoint_waiters", N, true, 60000), "all %d waiting", N);
    {
        hp_it_resp *m = hp_it_http(a, "GET", "/metrics", NULL, NULL);
        IT_CHECK(m->status == 200 && strstr(m->body, "\nholdpoint_waits_refused_total{") == NULL,
                 "no wait was refused");
    }
    /* The last waiters to register may still be in the re-read that follows
     * registration (one query each); once that is over none holds a
     * connection while it waits. */
    IT_CHECK(hp_it_await_gauge(a, "holdpoint_db_pool_in_use", 0, false, 10000),
             "waiters hold no database connection");
    /* 1,000 decisions on the other replica, 50 at a time. */
    for (int i = 0; i < N; i += 50) {
        bg_batch *decide = bg_new(50);
        for (int k = 0; k < 50; k++)
            bg_set(decide, k, "POST",
                   hp_it_fmt("%s%s", hp_it_api_base(replica_b), resolve_path(aids[i + k])), t, true,
                   NULL, "{\"option_index\":0}", 60000);
        bg_start(decide);
        bg_join(decide);
    }
    bg_join(polls);
    for (int i = 0; i < N; i++)
        if (polls->calls[i].status == 200 && polls->calls[i].resp &&
            strstr(polls->calls[i].resp, "\"selected_option\"") != NULL)
            released++;
    IT_CHECK(released == N, "%d of %d long-polls answered with their decision", released, N);
    IT_CHECK(hp_it_await_gauge(a, "holdpoint_waiters", 0, false, 10000), "no waiter left hanging");
    IT_CHECK(hp_it_api_stop(a) == 0, "API exits 0");
}

static void test_crowd_on_one(void)
{
    /* Every waiter woken by the decision needs the approval's new state;
     * they share one read of it per wake instead of a read each. The
     * waiters arrive 500 at a time (each arrival's own first read takes a
     * pooled connection). 2,000 here, where the sanitizers make each thread
     * slow; bench/waiters.sh holds 10,000 on one approval in a release
     * build and fails unless every one is answered with the decision. The
     * ThreadSanitizer pass (HP_IT_LIGHT=1) runs it with 100 waiters. */
    const bool light = getenv("HP_IT_LIGHT") != NULL;
    const int N = light ? 100 : 2000, B = 500;
    const char *const env[] = {hp_it_fmt("HOLDPOINT_API_THREADS=%d", N + 100),
                               hp_it_fmt("HOLDPOINT_MAX_WAITERS=%d", N + 50),
                               "HOLDPOINT_DB_POOL_SIZE=16",
                               "HOLDPOINT_DB_TIMEOUT_MS=30000",
                               "HOLDPOINT_TEAM_WAITERS_PERCENT=100",
                               "HOLDPOINT_KEY_WAITERS_PERCENT=100",
                               NULL};
    hp_it_api *a = hp_it_api_start("wait-on-one", env);
    const hp_it_team *t = hp_it_team_new();
    const char *rid, *aid;
    bg_batch **polls = hp_it_track(calloc((size_t)(N + B - 1) / B, sizeof(*polls)), free);
    int answered = 0, batches = 0, started = 0;
    bool all = true;
    double t0, last = 0;

    IT_CHECK_FATAL(a != NULL, "API with %d threads started", N + 100);
    create_on(a, t, &rid, &aid);
    const char *url = hp_it_fmt("%s/v1/approvals/%s/result?wait=170", hp_it_api_base(a), rid);
    while (started < N && all) {
        int n = N - started < B ? N - started : B;
        bg_batch *b = polls[batches++] = bg_new(n);
        for (int i = 0; i < n; i++)
            bg_set(b, i, "GET", url, t, false, NULL, NULL, 180000);
        bg_start(b);
        started += n;
        all = hp_it_await_gauge(a, "holdpoint_waiters", started, true, 60000);
    }
    IT_CHECK(all, "all %d waiting", N);
    IT_CHECK(hp_it_await_gauge(a, "holdpoint_db_pool_in_use", 0, false, 10000),
             "waiters hold no database connection");
    /* Decided even after a failure above: it releases the started batches. */
    double here = hp_it_gauge(a, "holdpoint_waits_answered_by_decision_total");
    t0 = hp_it_now();
    IT_STATUS(hp_it_send(a, &(hp_it_req){.method = "POST",
                                         .path = resolve_path(aid),
                                         .headers = hp_it_user_headers(t, true),
                                         .body = "{\"option_index\":0}"}),
              200);
    for (int k = 0; k < batches; k++) {
        bg_batch *b = polls[k];
        bg_join(b);
        for (int i = 0; i < b->n; i++) {
            json_object *o = b->calls[i].status == 200 ? hp_it_json(b->calls[i].resp) : NULL;
            const char *st = o ? json_object_get_string(hp_it_jget(o, "status", NULL)) : NULL;
            const char *v =
                o ? json_object_get_string(hp_it_jget(o, "selected_option_value", NULL)) : NULL;
            if (st && strcmp(st, "selected_option") == 0 && v && strcmp(v, "approve") == 0)
                answered++;
            if (b->calls[i].done_at > last)
                last = b->calls[i].done_at;
        }
    }
    IT_CHECK(answered == N, "%d of %d waiters answered with the decision", answered, N);
    /* Decided on their replica: the decision's row answers them (two of
     * their threads writing), with no read: its statement's result or its
     * NOTIFY, which carries the row too, whichever comes first. A waiter
     * registered but not yet asleep (still leaving its first read: the
     * gauges above cannot tell) is woken and reads for itself; on a busy
     * machine a few dozen of 2,000 have been. Most must come from the row. */
    double by = hp_it_gauge(a, "holdpoint_waits_answered_by_decision_total") - here;
    IT_CHECK(by > N / 2 && by <= N, "%.0f of %d answered from the decision's row", by, N);
    fprintf(stderr, "\n  %.0f of %d answered from the decision's row\n", by, N);
    fprintf(stderr, "\n  %d waiters on one approval answered %.0f ms after the decision was sent\n",
            N, (last - t0) * 1000);
    IT_CHECK(hp_it_await_gauge(a, "holdpoint_waiters", 0, false, 10000), "no waiter left hanging");
    IT_CHECK(hp_it_api_stop(a) == 0, "API exits 0");
}

/* ---- long-polls answered by a peer ---------------------------------------- */

/* request sent on fd, or on a new connection to api when fd is -1; the
 * connection, or -1 on failure. */
static int raw_send(hp_it_api *api, int fd, const char *request)
{
    if (fd < 0)
        fd = hp_it_dial(hp_it_api_port(api), NULL);
    if (fd >= 0 && write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads one whole response (head and Content-Length bytes of body) from fd
 * within limit seconds; returns it (harness-owned), "" when none came. */
static const char *raw_response(int fd, double limit)
{
    char buf[16384];
    size_t used = 0;

    for (double end = hp_it_now() + limit; used < sizeof(buf) - 1 && hp_it_now() < end;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 200) <= 0)
            continue;
        ssize_t n = read(fd, buf + used, sizeof(buf) - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        buf[used] = '\0';
        const char *head_end = strstr(buf, "\r\n\r\n");
        const char *cl = strcasestr(buf, "\r\nContent-Length:");
        if (head_end && cl && cl < head_end &&
            (long)(used - (size_t)(head_end + 4 - buf)) >= strtol(cl + 17, NULL, 10))
            break;
    }
    buf[used] = '\0';
    return hp_it_fmt("%s", buf);
}

/* The long-polls of test_answered_by_peer on a, decided on decide (a
 * itself, or another replica b). */
static void peer_case(hp_it_api *a, hp_it_api *decide)
{
    /* Long-polls on one approval are answered by the thread that read the
     * decision for all of them; their own threads wake afterwards, one
     * after another, to finish. Each connection must then serve its next
     * request, clients that hung up meanwhile must not disturb the rest,
     * and an event stream on the same approval (not answered that way)
     * still gets the decision. */
    const int N = 80, GONE = 6; /* 74 left for the pass: two threads answer them */
    const hp_it_team *t = hp_it_team_new();
    const char *rid, *aid;
    int fds[80], answered = 0, reused = 0, same_body = 0;
    bg_batch *sse = bg_new(1);

    create_on(a, t, &rid, &aid);
    const char *head = hp_it_fmt("Host: 127.0.0.1\r\nX-Agent-Id: %s\r\nX-Api-Key: %s\r\n\r\n",
                                 t->agent_id, t->api_key);
    const char *poll_req =
        hp_it_fmt("GET /v1/approvals/%s/result?wait=60 HTTP/1.1\r\n%s", rid, head);
    const char *get_req = hp_it_fmt("GET /v1/approvals/%s/result HTTP/1.1\r\n%s", rid, head);
    bg_set(sse, 0, "GET", hp_it_fmt("%s/v1/approvals/%s/result?wait=60", hp_it_api_base(a), rid), t,
           false, "Accept: text/event-stream", NULL, 70000);
    bg_start(sse);
    for (int i = 0; i < N; i++)
        fds[i] = raw_send(a, -1, poll_req);
    IT_CHECK(hp_it_await_gauge(a, "holdpoint_waiters", N + 1, true, 20000), "%d waiting", N + 1);
    for (int i = 0; i < GONE; i++) { /* these clients hang up before the decision */
        close(fds[i]);
        fds[i] = -1;
    }
    IT_CHECK(hp_it_await_gauge(a, "holdpoint_waiters", N + 1 - GONE, false, 20000),
             "the hung-up clients' waiters are gone");
    double here = hp_it_gauge(a, "holdpoint_waits_answered_by_decision_total");
    IT_STATUS(hp_it_send(decide, &(hp_it_req){.method = "POST",
                                              .path = resolve_path(aid),
                                              .headers = hp_it_user_headers(t, true),
                                              .body = "{\"option_index\":0}"}),
              200);
    for (int i = GONE; i < N; i++) {
        const char *r = raw_response(fds[i], 20);
        if (strncmp(r, "HTTP/1.1 200", 12) == 0 && strstr(r, "\"selected_option\"") &&
            strstr(r, "Connection: keep-alive"))
            answered++;
        const char *again = raw_send(a, fds[i], get_req) >= 0 ? raw_response(fds[i], 20) : "";
        if (strncmp(again, "HTTP/1.1 200", 12) == 0 && strstr(again, "\"selected_option\""))
            reused++;
        /* The answer made from the decision's row is the one a read gives. */
        const char *b1 = strstr(r, "\r\n\r\n"), *b2 = strstr(again, "\r\n\r\n");
        if (b1 && b2 && strcmp(b1, b2) == 0)
            same_body++;
        close(fds[i]);
    }
    IT_CHECK(same_body == N - GONE, "%d of %d answers the same as a read's", same_body, N - GONE);
    IT_CHECK(answered == N - GONE, "%d of %d long-polls answered with the decision", answered,
             N - GONE);
    IT_CHECK(reused == N - GONE, "%d of %d connections served their next request", reused,
             N - GONE);
    bg_join(sse);
    IT_CHECK(sse->calls[0].resp && strstr(sse->calls[0].resp, "event: decided"),
             "the event stream on the same approval got the decision");
    IT_CHECK(hp_it_await_gauge(a, "holdpoint_waiters", 0, false, 10000), "no waiter left");
    /* From the decision's row, decided here (its result or its NOTIFY)
     * or elsewhere (its NOTIFY: a has no Redis to wake it first), but for
     * any not yet asleep (see test_crowd_on_one). */
    double by = hp_it_gauge(a, "holdpoint_waits_answered_by_decision_total") - here;
    IT_CHECK(by > (N - GONE) / 2 && by <= N - GONE,
             "%.0f of %d answered from the decision's row, decided %s", by, N - GONE,
             decide == a ? "here" : "on another replica");
}

static void test_answered_by_peer(void)
{
    /* Decided on either replica, the decision's row answers the
     * long-polls, written by two of their threads. a has no Redis, so no
     * keys-only message can wake them to read before the row comes. */
    const char *const env[] = {"HOLDPOINT_TEAM_WAITERS_PERCENT=100",
                               "HOLDPOINT_KEY_WAITERS_PERCENT=100", NULL};
    const char *const env_a[] = {"HOLDPOINT_TEAM_WAITERS_PERCENT=100",
                                 "HOLDPOINT_KEY_WAITERS_PERCENT=100", "HOLDPOINT_REDIS_URL", NULL};
    hp_it_api *a = hp_it_api_start("answered-by-peer", env_a);
    hp_it_api *b = hp_it_api_start("answered-by-peer-b", env);

    IT_CHECK_FATAL(a != NULL && b != NULL, "APIs started");
    peer_case(a, b);
    peer_case(a, a);
    IT_CHECK(hp_it_api_stop(a) == 0, "API exits 0");
    IT_CHECK(hp_it_api_stop(b) == 0, "replica exits 0");
}

static void test_sse_and_block(void)
{
    const hp_it_team *t = hp_it_team_new();
    hp_it_api *a = hp_it_api_default();
    const char *rid, *aid;
    bg_batch *b = bg_new(3);

    /* GET …/result as an event stream. */
    create_on(a, t, &rid, &aid);
    bg_set(b, 0, "GET", hp_it_fmt("%s/v1/approvals/%s/result", hp_it_api_base(a), rid), t, false,
           "Accept: text/event-stream", NULL, 30000);
    /* POST /v1/approvals with wait: sse and wait: block. */
    bg_set(b, 1, "POST", hp_it_fmt("%s/v1/approvals", hp_it_api_base(a)), t, false, NULL,
           hp_it_create_body("sse create", "\"request_id\":\"sse-1\",\"wait\":\"sse\""), 30000);
    bg_set(b, 2, "POST", hp_it_fmt("%s/v1/approvals", hp_it_api_base(a)), t, false, NULL,
           hp_it_create_body(
               "block create",
               "\"request_id\":\"block-1\",\"wait\":\"block\",\"wait_timeout_seconds\":25"),
           30000);
    bg_start(b);
    IT_CHECK_FATAL(hp_it_await_gauge(a, "holdpoint_waiters", 3, true, 10000), "three waiting");
    const char *aid_sse = hp_it_sql_str("select id::text from approvals where request_id = 'sse-1' "
                                        "and agent_id = $1::uuid",
                                        t->agent_id, NULL);
    const char *aid_block = hp_it_sql_str("select id::text from approvals where request_id = "
                                          "'block-1' and agent_id = $1::uuid",
                                          t->agent_id, NULL);
    IT_STATUS(hp_it_user(t, "POST", resolve_path(aid), "{\"option_index\":0}"), 200);
    IT_STATUS(hp_it_user(t, "POST", resolve_path(aid_sse), "{\"custom_instruction\":\"go\"}"), 200);
    IT_STATUS(hp_it_user(t, "POST", resolve_path(aid_block), "{\"option_index\":0}"), 200);
    bg_join(b);

    const char *s0 = b->calls[0].resp ? b->calls[0].resp : "";
    IT_CHECK(b->calls[0].status == 200, "SSE status %ld", b->calls[0].status);
    IT_CHECK(strstr(s0, "event: pending\ndata: {\"request_id\"") != NULL, "pending event: %s", s0);
    IT_CHECK(strstr(s0, "event: decided\ndata: ") != NULL &&
                 strstr(s0, "\"status\":\"selected_option\"") != NULL,
             "decided event: %s", s0);
    const char *s1 = b->calls[1].resp ? b->calls[1].resp : "";
    const char *created = strstr(s1, "event: created\ndata: ");
    const char *decided = strstr(s1, "event: decided\ndata: ");
    IT_CHECK(created != NULL && decided != NULL && created < decided, "created then decided: %s",
             s1);
    IT_CHECK(strstr(s1, "\"custom_instruction\":\"go\"") != NULL, "decision in the stream: %s", s1);
    json_object *blk = hp_it_json(b->calls[2].resp);
    IT_CHECK(b->calls[2].status == 200, "block status %ld", b->calls[2].status);
    IT_JSTR(blk, "status", "selected_option");
    IT_JSTR(blk, "request_id", "block-1");

    /* A block that times out answers the pending shape. */
    hp_it_resp *r =
        hp_it_agent(t, "POST", "/v1/approvals",
                    hp_it_create_body("nobody", "\"wait\":\"block\",\"wait_timeout_seconds\":1"));
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "pending");
    IT_CHECK(hp_it_jlen(r->json) == 2, "pending shape: %s", r->body);
    /* Bad wait values are refused. */
    IT_ISSUE(
        hp_it_agent(t, "POST", "/v1/approvals", hp_it_create_body("x", "\"wait\":\"forever\"")),
        "[\"wait\"]", "invalid_enum_value");
    IT_ISSUE(hp_it_agent(t, "POST", "/v1/approvals",
                         hp_it_create_body("x", "\"wait\":\"block\",\"wait_timeout_seconds\":301")),
             "[\"wait_timeout_seconds\"]", "too_big");
    IT_ERROR(hp_it_agent(t, "GET", hp_it_fmt("/v1/approvals/%s/result?wait=abc", rid), NULL), 400,
             "invalid_query");
}

static void test_disconnect_frees_waiter(void)
{
    const hp_it_team *t = hp_it_team_new();
    hp_it_api *a = hp_it_api_default();
    const char *rid, *aid;
    bg_batch *b = bg_new(1);

    IT_CHECK_FATAL(hp_it_await_gauge(a, "holdpoint_waiters", 0, false, 10000), "no waiters before");
    create_on(a, t, &rid, &aid);
    /* The client gives up after 1.5 s of a 60 s wait. */
    bg_set(b, 0, "GET", hp_it_fmt("%s/v1/approvals/%s/result?wait=60", hp_it_api_base(a), rid), t,
           false, NULL, NULL, 1500);
    bg_start(b);
    IT_CHECK(hp_it_await_gauge(a, "holdpoint_waiters", 1, false, 5000), "waiting");
    bg_join(b);
    IT_CHECK(b->calls[0].status == 0, "the client timed out");
    IT_CHECK(hp_it_await_gauge(a, "holdpoint_waiters", 0, false, 3000),
             "the waiter was freed when the client left");
}

static void test_sigterm_answers_waiters(void)
{
    hp_it_api *a = hp_it_api_start("wait-sigterm", NULL);
    const hp_it_team *t = hp_it_team_new();
    bg_batch *b = bg_new(5);

    IT_CHECK_FATAL(a != NULL, "API started");
    for (int i = 0; i < 5; i++) {
        const char *rid, *aid;
        create_on(a, t, &rid, &aid);
        /* Four long-polls and one event stream. */
        bg_set(b, i, "GET",
               hp_it_fmt("%s/v1/approvals/%s/result%s", hp_it_api_base(a), rid,
                         i < 4 ? "?wait=60" : ""),
               t, false, i < 4 ? NULL : "Accept: text/event-stream", NULL, 70000);
    }
    bg_start(b);
    IT_CHECK_FATAL(hp_it_await_gauge(a, "holdpoint_waiters", 5, true, 10000), "five waiting");
    double t0 = hp_it_now();
    IT_CHECK(hp_it_api_stop(a) == 0, "API exits 0 on SIGTERM");
    bg_join(b);
    for (int i = 0; i < 4; i++) {
        IT_CHECK(b->calls[i].status == 200, "waiter %d answered %ld", i, b->calls[i].status);
        IT_JSTR(hp_it_json(b->calls[i].resp), "status", "pending");
    }
    IT_CHECK(b->calls[4].resp && strstr(b->calls[4].resp, "retry: ") != NULL,
             "the SSE client is told to reconnect: %s", b->calls[4].resp);
    IT_CHECK(hp_it_now() - t0 < 15.0, "stopped in %.1f s", hp_it_now() - t0);
}

static void test_waiter_limit(void)
{
    static const char *const env[] = {"HOLDPOINT_MAX_WAITERS=2",
                                      "HOLDPOINT_TEAM_WAITERS_PERCENT=100",
                                      "HOLDPOINT_KEY_WAITERS_PERCENT=100", NULL};
    hp_it_api *a = hp_it_api_start("wait-limit", env);
    const hp_it_team *t = hp_it_team_new();
    bg_batch *b = bg_new(2);
    const char *rid = NULL, *aid;

    IT_CHECK_FATAL(a != NULL, "API started");
    for (int i = 0; i < 2; i++) {
        create_on(a, t, &rid, &aid);
        bg_set(b, i, "GET", hp_it_fmt("%s/v1/approvals/%s/result?wait=5", hp_it_api_base(a), rid),
               t, false, NULL, NULL, 20000);
    }
    bg_start(b);
    IT_CHECK_FATAL(hp_it_await_gauge(a, "holdpoint_waiters", 2, false, 10000), "two waiting");
    hp_it_resp *r =
        hp_it_agent_on(a, t, "GET", hp_it_fmt("/v1/approvals/%s/result?wait=5", rid), NULL);
    IT_ERROR(r, 503, "service_unavailable");
    IT_CHECK(hp_it_header(r, "Retry-After") != NULL, "Retry-After on the refusal");
    bg_join(b);
    IT_CHECK(hp_it_api_stop(a) == 0, "API exits 0");
}

/* Creates from two replicas at once against one shared window. */
static void shared_limit(const char *const *env, const char *label)
{
    enum { PER = 15, LIMIT = 10 };
    hp_it_api *a = hp_it_api_start(hp_it_fmt("limit-a-%s", label), env);
    hp_it_api *b = hp_it_api_start(hp_it_fmt("limit-b-%s", label), env);
    const hp_it_team *t = hp_it_team_new();
    bg_batch *bg = bg_new(2 * PER);
    int ok = 0, limited = 0;

    IT_CHECK_FATAL(a && b, "replicas started");
    for (int i = 0; i < 2 * PER; i++)
        bg_set(bg, i, "POST", hp_it_fmt("%s/v1/approvals", hp_it_api_base(i % 2 ? a : b)), t, false,
               NULL, hp_it_create_body("burst", NULL), 30000);
    bg_start(bg);
    bg_join(bg);
    for (int i = 0; i < 2 * PER; i++) {
        ok += bg->calls[i].status == 200;
        limited += bg->calls[i].status == 429;
    }
    IT_CHECK(ok == LIMIT && limited == 2 * PER - LIMIT,
             "%s: %d created and %d limited of %d (limit %d)", label, ok, limited, 2 * PER, LIMIT);
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where agent_id = $1::uuid", t->agent_id,
                           NULL) == LIMIT,
             "%s: %d rows", label, LIMIT);
    IT_CHECK(hp_it_api_stop(a) == 0 && hp_it_api_stop(b) == 0, "replicas exit 0");
}

static void test_limit_across_replicas(void)
{
    static const char *const with_redis[] = {"AGENT_CREATE_RATE_LIMIT_MAX=10",
                                             "AGENT_CREATE_RATE_LIMIT_WINDOW_MS=600000", NULL};
    static const char *const with_pg[] = {"AGENT_CREATE_RATE_LIMIT_MAX=10",
                                          "AGENT_CREATE_RATE_LIMIT_WINDOW_MS=600000",
                                          "HOLDPOINT_REDIS_URL", NULL};
    shared_limit(with_redis, "redis");
    shared_limit(with_pg, "postgresql");
}

static int setup(void)
{
    replica_b = hp_it_api_start("wait-b", NULL);
    return replica_b ? 0 : 1;
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"wake messages name the approval, its team and agent", test_wake_message},
        {"long-poll released across replicas", test_cross_replica},
        {"a row too big for NOTIFY is read instead", test_row_too_big},
        {"a row through Redis counts only sealed", test_row_through_redis},
        {"released across replicas with Redis stopped", test_cross_replica_redis_stopped},
        {"a waiter survives a PostgreSQL restart", test_survives_pg_restart},
        {"1,000 long-polls with the defaults, released from the other replica",
         test_thousand_longpolls},
        {"2,000 long-polls on one approval all answered", test_crowd_on_one},
        {"long-polls answered by a peer keep their connections", test_answered_by_peer},
        {"SSE and blocking creates", test_sse_and_block},
        {"a client that leaves frees its waiter", test_disconnect_frees_waiter},
        {"SIGTERM answers every waiter", test_sigterm_answers_waiters},
        {"the waiter limit refuses with 503", test_waiter_limit},
        {"the create limit holds across replicas", test_limit_across_replicas},
        {NULL, NULL},
    };
    return hp_it_main("wait", tests, setup, NULL);
}
