/*
 * Availability under a busy tenant (docs/internals/waiters.md "Fair shares",
 * "Finding the client's socket"): a team and a key hold at most their share
 * of the waiters, past it a wait is refused with 429 wait_share_exceeded
 * (and a blocking create creates nothing), while another team's long-poll
 * still waits and is released by its decision; long-polls whose client
 * hangs up are freed through the socket lookup, which never misses here,
 * and event streams are freed by their keep-alive writes without a lookup.
 * Hostile input: ambiguous framing (two Content-Length values, or one beside
 * Transfer-Encoding) and a NUL in any JSON string or key answer 400 and
 * create nothing. Idle and slow connections: 300 idle and 300 slowloris
 * sockets against 400 threads do not stop another client's health check
 * and create for longer than the head deadline, and are closed by it;
 * through Debian's nginx started with deploy/nginx/nginx.conf, 2,000 idle
 * sockets from 127.0.0.1 do not stop a client on 127.0.0.2, and what nginx
 * answers itself (framing, sizes, its rate limit, no replica) carries the
 * API's error body, and one address past its requests in progress gets 429
 * while another is served. Secrets at rest: callback.headers are
 * sealed in `approvals` and `jobs` (read with SQL) yet arrive at the receiver, and the migration
 * seals rows stored in plain text before.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hp_itest.h"
#include "it_bg.h"
#include "it_workers.h"

/* Shares of the API below: 40 waiters, 25 % = 10 per team, 10 % = 4 per
 * key. */
#define TEAM_SHARE 10
#define KEY_SHARE  4

static hp_it_api *shares;

/* Creates an approval as t on api; returns its request id, and its approval
 * id in *aid. */
static const char *create_on(hp_it_api *api, const hp_it_team *t, const char **aid)
{
    hp_it_resp *r =
        hp_it_agent_on(api, t, "POST", "/v1/approvals", hp_it_create_body("hold on", NULL));
    IT_STATUS_FATAL(r, 200);
    *aid = json_object_get_string(hp_it_jget(r->json, "approval_id", NULL));
    return json_object_get_string(hp_it_jget(r->json, "request_id", NULL));
}

static const char *result_url(hp_it_api *api, const char *rid, int wait_s)
{
    return hp_it_fmt("%s/v1/approvals/%s/result?wait=%d", hp_it_api_base(api), rid, wait_s);
}

/* Asserts a 429 wait_share_exceeded with Retry-After, scope and limit. */
static void expect_share_refusal(hp_it_resp *r, const char *scope, int limit)
{
    IT_ERROR(r, 429, "wait_share_exceeded");
    IT_CHECK(hp_it_header(r, "Retry-After") != NULL, "Retry-After on the refusal");
    IT_JSTR(r->json, "scope", scope);
    IT_JINT(r->json, "limit", limit);
    IT_CHECK(hp_it_jget(r->json, "retry_after_seconds", NULL) != NULL, "retry_after_seconds: %s",
             r->body);
}

static long long refused(hp_it_api *api, const char *reason)
{
    hp_it_resp *r = hp_it_http(api, "GET", "/metrics", NULL, NULL);
    const char *key = hp_it_fmt("\nholdpoint_waits_refused_total{reason=\"%s\"} ", reason);
    const char *p = strstr(r->body, key);
    return p ? strtoll(p + strlen(key), NULL, 10) : 0;
}

static void test_fair_shares(void)
{
    const hp_it_team *a1 = hp_it_team_new();
    const hp_it_team *a2 = hp_it_team_agent(a1), *a3 = hp_it_team_agent(a1);
    const hp_it_team *b = hp_it_team_new();
    const char *aid1, *aid2, *aid3, *aidb;
    const char *rid1 = create_on(shares, a1, &aid1), *rid2 = create_on(shares, a2, &aid2);
    const char *rid3 = create_on(shares, a3, &aid3), *ridb = create_on(shares, b, &aidb);
    bg_batch *held = bg_new(TEAM_SHARE), *other = bg_new(1);
    long long key0 = refused(shares, "key"), team0 = refused(shares, "team");

    /* Team A fills its share: a full key share for a1 and a2, two for a3. */
    for (int i = 0; i < TEAM_SHARE; i++) {
        const hp_it_team *t = i < KEY_SHARE ? a1 : i < 2 * KEY_SHARE ? a2 : a3;
        const char *rid = i < KEY_SHARE ? rid1 : i < 2 * KEY_SHARE ? rid2 : rid3;
        bg_set(held, i, "GET", result_url(shares, rid, 60), t, false, NULL, NULL, 70000);
    }
    bg_start(held);
    IT_CHECK_FATAL(hp_it_await_gauge(shares, "holdpoint_waiters", TEAM_SHARE, false, 10000),
                   "team A holds its share");

    /* One more from a1: its key's share is used. */
    expect_share_refusal(
        hp_it_agent_on(shares, a1, "GET", hp_it_fmt("/v1/approvals/%s/result?wait=5", rid1), NULL),
        "key", KEY_SHARE);
    /* a3 has keys to spare, but the team's share is used. */
    expect_share_refusal(
        hp_it_agent_on(shares, a3, "GET", hp_it_fmt("/v1/approvals/%s/result?wait=5", rid3), NULL),
        "team", TEAM_SHARE);
    /* So is a blocking create, and it creates nothing. */
    long long before = hp_it_sql_int("select count(*) from approvals where agent_id = $1::uuid",
                                     a3->agent_id, NULL);
    expect_share_refusal(
        hp_it_agent_on(shares, a3, "POST", "/v1/approvals",
                       hp_it_create_body("refused", "\"wait\":\"block\",\"request_id\":\"r-blk\"")),
        "team", TEAM_SHARE);
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where agent_id = $1::uuid", a3->agent_id,
                           NULL) == before,
             "the refused blocking create created nothing");
    /* An event stream is refused the same way, before any event. */
    const char *sse[] = {hp_it_fmt("X-Agent-Id: %s", a3->agent_id),
                         hp_it_fmt("X-Api-Key: %s", a3->api_key), "Accept: text/event-stream",
                         NULL};
    expect_share_refusal(
        hp_it_send(shares, &(hp_it_req){.method = "GET",
                                        .path = hp_it_fmt("/v1/approvals/%s/result", rid3),
                                        .headers = sse}),
        "team", TEAM_SHARE);
    /* A short wait (wait=0) is no wait: it answers at once. */
    IT_STATUS(hp_it_agent_on(shares, a3, "GET", hp_it_fmt("/v1/approvals/%s/result", rid3), NULL),
              200);

    /* Team B is not affected: its long-poll waits and gets its decision. */
    bg_set(other, 0, "GET", result_url(shares, ridb, 60), b, false, NULL, NULL, 70000);
    bg_start(other);
    IT_CHECK_FATAL(hp_it_await_gauge(shares, "holdpoint_waiters", TEAM_SHARE + 1, false, 10000),
                   "team B waits beside team A's full share");
    double t0 = hp_it_now();
    IT_STATUS(
        hp_it_send(shares, &(hp_it_req){.method = "POST",
                                        .path = hp_it_fmt("/v1/review/approvals/%s/resolve", aidb),
                                        .headers = hp_it_user_headers(b, true),
                                        .body = "{\"option_index\":0}"}),
        200);
    bg_join(other);
    IT_CHECK(other->calls[0].status == 200, "team B's long-poll: %ld", other->calls[0].status);
    IT_JSTR(hp_it_json(other->calls[0].resp), "status", "selected_option");
    IT_CHECK(other->calls[0].done_at - t0 < 2.0, "released %.2f s after the decision",
             other->calls[0].done_at - t0);
    IT_CHECK(refused(shares, "key") == key0 + 1, "one refusal counted for the key");
    IT_CHECK(refused(shares, "team") == team0 + 3, "three refusals counted for the team");

    /* Team A's decisions release its waiters and give the places back. */
    const char *aids[] = {aid1, aid2, aid3};
    for (int i = 0; i < 3; i++)
        IT_STATUS(hp_it_send(shares, &(hp_it_req){.method = "POST",
                                                  .path = hp_it_fmt(
                                                      "/v1/review/approvals/%s/resolve", aids[i]),
                                                  .headers = hp_it_user_headers(a1, true),
                                                  .body = "{\"option_index\":0}"}),
                  200);
    bg_join(held);
    for (int i = 0; i < TEAM_SHARE; i++)
        IT_CHECK(held->calls[i].status == 200 && held->calls[i].resp &&
                     strstr(held->calls[i].resp, "\"selected_option\"") != NULL,
                 "team A waiter %d: %ld %s", i, held->calls[i].status,
                 held->calls[i].resp ? held->calls[i].resp : "");
    IT_CHECK(hp_it_await_gauge(shares, "holdpoint_waiters", 0, false, 5000), "every place back");
    const char *rid4 = create_on(shares, a1, &aid1);
    hp_it_resp *again =
        hp_it_agent_on(shares, a1, "GET", hp_it_fmt("/v1/approvals/%s/result?wait=1", rid4), NULL);
    IT_STATUS(again, 200);
    IT_JSTR(again->json, "status", "pending");
}

static void test_hangups(void)
{
    hp_it_api *api = hp_it_api_default();
    const hp_it_team *t = hp_it_team_new();
    const char *aid, *rid = create_on(api, t, &aid);
    bg_batch *polls = bg_new(3), *stream = bg_new(1);
    double misses = hp_it_gauge(api, "holdpoint_waiter_socket_misses_total");

    IT_CHECK_FATAL(misses >= 0, "the misses counter is on /metrics");
    IT_CHECK_FATAL(hp_it_await_gauge(api, "holdpoint_waiters", 0, false, 10000), "idle at start");
    /* An event stream whose client leaves after 2 s: it has no socket lookup
     * and is freed by its next keep-alive write (every 15 s). */
    bg_set(stream, 0, "GET", hp_it_fmt("%s/v1/approvals/%s/result", hp_it_api_base(api), rid), t,
           false, "Accept: text/event-stream", NULL, 2000);
    bg_start(stream);
    /* Three long-polls whose client gives up after 1.5 s of a 60 s wait. */
    for (int i = 0; i < 3; i++)
        bg_set(polls, i, "GET", result_url(api, rid, 60), t, false, NULL, NULL, 1500);
    bg_start(polls);
    IT_CHECK(hp_it_await_gauge(api, "holdpoint_waiters", 4, false, 5000), "four waiting");
    bg_join(polls);
    for (int i = 0; i < 3; i++)
        IT_CHECK(polls->calls[i].status == 0, "long-poll %d: the client timed out", i);
    IT_CHECK(hp_it_await_gauge(api, "holdpoint_waiters", 1, false, 3000),
             "the long-polls' waiters were freed when their clients left");
    IT_CHECK(hp_it_gauge(api, "holdpoint_waiter_socket_misses_total") == misses,
             "every long-poll's socket was found");
    bg_join(stream);
    IT_CHECK(hp_it_await_gauge(api, "holdpoint_waiters", 0, false, 45000),
             "the stream's waiter was freed by a keep-alive write");
    IT_CHECK(hp_it_gauge(api, "holdpoint_waiter_socket_misses_total") == misses,
             "an event stream needs no socket lookup");
}

/* ---- raw HTTP ------------------------------------------------------------ */

/* Sends the request bytes as they are, from the address from (NULL: any),
 * and reads the answer until the server closes (at most 10 s); returns it
 * (harness-owned), "" on failure. */
static const char *raw_exchange_from(int port, const char *from, const char *request)
{
    char buf[16384];
    size_t used = 0;
    int fd = hp_it_dial(port, from);

    if (fd < 0 || write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
        if (fd >= 0)
            close(fd);
        return "";
    }
    for (double end = hp_it_now() + 10; used < sizeof(buf) - 1 && hp_it_now() < end;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t n;
        if (poll(&pfd, 1, 200) <= 0)
            continue;
        n = read(fd, buf + used, sizeof(buf) - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    buf[used] = '\0';
    return hp_it_fmt("%s", buf);
}

/* A health check that asks the server to close the connection after it. */
#define HEALTHZ_CLOSE "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

static const char *raw_exchange(int port, const char *request)
{
    return raw_exchange_from(port, NULL, request);
}

/* ---- idle and slow connections --------------------------------------------- */

/* Seconds until the peer closes fd, reading what it sends; -1 when it is
 * still open after limit seconds from start. */
static double closed_after(int fd, double start, double limit)
{
    char b[512];
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        double left = start + limit - hp_it_now();
        if (left <= 0)
            return -1;
        if (poll(&pfd, 1, (int)(left * 1000) + 1) > 0) {
            ssize_t n = recv(fd, b, sizeof(b), 0);
            if (n <= 0)
                return hp_it_now() - start;
        }
    }
}

#define IDLE 300
#define SLOW 300

static void test_idle_and_slow_sockets(void)
{
    /* Fewer threads (400) than hostile sockets (600), so only the head
     * deadline (HOLDPOINT_REQUEST_TIMEOUT_MS, 10 s by default) gives the
     * threads back. */
    static const char *const env[] = {"HOLDPOINT_API_THREADS=400", "HOLDPOINT_MAX_WAITERS=300",
                                      NULL};
    hp_it_api *api = hp_it_api_start("hostile", env);
    const hp_it_team *t = hp_it_team_new();
    int fds[IDLE + SLOW], open_fds = 0;
    bg_batch *probe = bg_new(2);

    IT_CHECK_FATAL(api != NULL, "API started");
    double t0 = hp_it_now();
    for (int i = 0; i < IDLE + SLOW; i++) {
        fds[i] = hp_it_dial(hp_it_api_port(api), NULL);
        if (fds[i] >= 0)
            open_fds++;
        /* Slowloris: a request head that never ends. */
        if (i >= IDLE && fds[i] >= 0 &&
            send(fds[i], "GET /healthz HTTP/1.1\r\n", 24, MSG_NOSIGNAL) != 24) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
    IT_CHECK_FATAL(open_fds == IDLE + SLOW, "%d of %d sockets connected", open_fds, IDLE + SLOW);
    /* Another client, meanwhile: a health check and a create. */
    bg_set_headers(probe, 0, "GET", hp_it_fmt("%s/healthz", hp_it_api_base(api)), NULL, NULL,
                   30000);
    bg_set(probe, 1, "POST", hp_it_fmt("%s/v1/approvals", hp_it_api_base(api)), t, false, NULL,
           hp_it_create_body("under attack", NULL), 30000);
    double p0 = hp_it_now();
    bg_start(probe);
    /* The slow ones send a header line a second, as long as they may. */
    for (int s = 0; s < 14; s++) {
        for (int i = IDLE; i < IDLE + SLOW; i++)
            if (fds[i] >= 0)
                (void)send(fds[i], "X-Slow: 1\r\n", 11, MSG_NOSIGNAL);
        hp_it_sleep_ms(1000);
    }
    bg_join(probe);
    for (int k = 0; k < 2; k++) {
        IT_CHECK(probe->calls[k].status == 200, "probe %d: %ld", k, probe->calls[k].status);
        IT_CHECK(probe->calls[k].done_at - p0 < 10.0 + 5.0,
                 "probe %d answered %.1f s after it was sent (head deadline 10 s)", k,
                 probe->calls[k].done_at - p0);
    }
    /* Every hostile socket was closed by the server about the deadline. */
    int closed = 0;
    double worst = 0;
    for (int i = 0; i < IDLE + SLOW; i++) {
        double d = closed_after(fds[i], t0, 10.0 + 10.0);
        if (d >= 0) {
            closed++;
            worst = d > worst ? d : worst;
        }
        close(fds[i]);
    }
    IT_CHECK(closed == IDLE + SLOW, "%d of %d idle and slow sockets closed (last after %.1f s)",
             closed, IDLE + SLOW, worst);
    IT_CHECK(hp_it_api_stop(api) == 0, "API stopped cleanly");
}

/* ---- hostile input ------------------------------------------------------- */

static long long approvals_of(const hp_it_team *t)
{
    return hp_it_sql_int("select count(*) from approvals where agent_id = $1::uuid", t->agent_id,
                         NULL);
}

static void test_ambiguous_framing(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *body = hp_it_create_body("framed", NULL);
    const char *head = hp_it_fmt("POST /v1/approvals HTTP/1.1\r\nHost: holdpoint\r\n"
                                 "X-Agent-Id: %s\r\nX-Api-Key: %s\r\n"
                                 "Content-Type: application/json\r\n",
                                 t->agent_id, t->api_key);
    const char *cases[] = {
        /* Two lengths: which one ends the body? */
        hp_it_fmt("%sContent-Length: %zu\r\nContent-Length: %zu\r\n\r\n%s", head, strlen(body),
                  strlen(body) - 1, body),
        /* A length and chunks: civetweb would take the chunks, a proxy the
         * length. */
        hp_it_fmt(
            "%sContent-Length: %zu\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n",
            head, strlen(body), strlen(body), body),
        hp_it_fmt("%sTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n",
                  head, strlen(body), body),
    };
    long long before = approvals_of(t);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *a = raw_exchange(hp_it_api_port(shares), cases[i]);
        IT_CHECK(strncmp(a, "HTTP/1.1 400 ", 13) == 0, "case %zu: %.60s", i, a);
        IT_CHECK(strstr(a, "\"invalid_request\"") != NULL, "case %zu: code in %s", i, a);
        IT_CHECK(strcasestr(a, "\r\nConnection: close\r\n") != NULL, "case %zu: closed: %s", i, a);
    }
    IT_CHECK(approvals_of(t) == before, "an ambiguous request created nothing");
    /* The same request framed one way is created. */
    const char *ok = raw_exchange(hp_it_api_port(shares),
                                  hp_it_fmt("%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                                            head, strlen(body), body));
    IT_CHECK(strncmp(ok, "HTTP/1.1 200 ", 13) == 0, "a well-framed create: %.60s", ok);
    IT_CHECK(approvals_of(t) == before + 1, "the well-framed create was stored");
}

static void test_nul_in_json(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *extras[] = {
        "\"metadata\":{\"k\":\"a\\u0000b\"}",
        "\"metadata\":{\"k\\u0000ey\":\"v\"}",
        "\"metadata\":{\"deep\":[{\"x\":\"\\u0000\"}]}",
        "\"callback\":{\"url\":\"http://127.0.0.1:9/cb\",\"headers\":{\"X-T\":\"a\\u0000\"}}",
        "\"callback\":{\"url\":\"http://127.0.0.1:9/cb\",\"headers\":{\"X-\\u0000T\":\"a\"}}",
    };
    long long before = approvals_of(t);

    for (size_t i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
        hp_it_resp *r =
            hp_it_agent_on(shares, t, "POST", "/v1/approvals", hp_it_create_body("nul", extras[i]));
        IT_ERROR(r, 400, "invalid_payload");
    }
    /* The question itself. */
    IT_ERROR(hp_it_agent_on(shares, t, "POST", "/v1/approvals",
                            "{\"question\":\"a\\u0000b\",\"context_markdown\":\"c\","
                            "\"options\":[{\"label\":\"A\",\"value\":\"a\"}]}"),
             400, "invalid_payload");
    IT_CHECK(approvals_of(t) == before, "no NUL request created anything");
}

/* ---- secrets at rest -------------------------------------------------------- */

#define HEADER_SECRET "hdr-secret-7f3a9c"

static long long plain_rows(void)
{
    return hp_it_sql_int("select (select count(*) from approvals where callback_headers::text "
                         "like '%" HEADER_SECRET "%') + (select count(*) from jobs where "
                         "headers::text like '%" HEADER_SECRET "%')",
                         NULL);
}

static void test_callback_headers_sealed(void)
{
    it_agent a = it_agent_new();
    const hp_it_team *t = hp_it_team_as(
        a.team, a.agent_id,
        json_object_get_string(hp_it_jget(
            hp_it_admin((const char *[]){"admin", "create-key", "--team-id", a.team->team_id,
                                         "--agent-id", a.agent_id, "--json", NULL}),
            "api_key", NULL)));
    it_recv *rv = it_recv_start(NULL, 0, 0);
    const char *url = hp_it_fmt("http://127.0.0.1:%d/cb", rv->port);
    const char *body = hp_it_create_body(
        "sealed?", hp_it_fmt("\"request_id\":\"sealed-1\",\"callback\":{\"url\":\"%s\","
                             "\"headers\":{\"X-Callback-Token\":\"" HEADER_SECRET "-api\"}}",
                             url));
    hp_it_resp *r = hp_it_agent_on(shares, t, "POST", "/v1/approvals", body);
    IT_STATUS_FATAL(r, 200);
    const char *aid = json_object_get_string(hp_it_jget(r->json, "approval_id", NULL));
    const char *stored = hp_it_sql_str("select callback_headers #>> '{}' from approvals where id = "
                                       "$1::uuid and jsonb_typeof(callback_headers) = 'string'",
                                       aid, NULL);
    IT_CHECK(stored != NULL && strncmp(stored, "v1.", 3) == 0, "stored sealed: %s",
             stored ? stored : "(not a string)");
    IT_CHECK(plain_rows() == 0, "the secret is nowhere in approvals");
    /* Idempotency still compares the plain body (each seal differs): the
     * same create again is a repeat, not a conflict. */
    hp_it_resp *again = hp_it_agent_on(shares, t, "POST", "/v1/approvals", body);
    IT_STATUS(again, 200);
    IT_CHECK(json_object_get_boolean(hp_it_jget(again->json, "idempotent", NULL)), "a repeat: %s",
             again->body);
    IT_JSTR(again->json, "approval_id", aid);

    /* A row stored in plain text before sealing, and its queued job. */
    const char *old = it_approval_insert(&a, "now() + interval '1 day'", url);
    const char *plain = "{\"X-Callback-Token\":\"" HEADER_SECRET "-old\"}";
    IT_CHECK_FATAL(hp_it_sql_exec("update approvals set callback_headers = $2::jsonb where id = "
                                  "$1::uuid",
                                  old, plain, NULL),
                   "plain headers stored");
    const char *job = it_job_insert(&a, old, url, plain, "{\"old\":true}", 3);
    IT_CHECK(plain_rows() == 2, "two plain rows before the migration");
    IT_CHECK_FATAL(hp_it_sql_exec("delete from schema_migrations where name = "
                                  "'005_seal_callback_headers'",
                                  NULL),
                   "the migration forgotten");
    int st;
    char *err;
    json_object *m = hp_it_cli((const char *[]){"migrate", "--json", NULL}, &st, NULL, &err);
    IT_CHECK_FATAL(st == 0 && m != NULL, "migrate: %d %s", st, err);
    IT_CHECK(strstr(hp_it_jtext(hp_it_jget(m, "applied", NULL)), "005_seal_callback_headers"),
             "applied: %s", hp_it_jtext(m));
    IT_CHECK(plain_rows() == 0, "the migration sealed the plain rows");
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where id = $1::bigint and "
                           "jsonb_typeof(headers) = 'string'",
                           job, NULL) == 1,
             "the queued job's headers are sealed");

    /* The decision queues a callback job; the worker opens both. */
    IT_STATUS(
        hp_it_send(shares, &(hp_it_req){.method = "POST",
                                        .path = hp_it_fmt("/v1/review/approvals/%s/resolve", aid),
                                        .headers = hp_it_user_headers(t, true),
                                        .body = "{\"option_index\":0}"}),
        200);
    IT_CHECK(plain_rows() == 0, "the secret is nowhere in jobs");
    it_proc *w = it_proc_start("holdpoint-delivery", "sealed",
                               (const char *const[]){"HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", NULL});
    IT_CHECK(it_recv_wait(rv, 2, 15000), "both callbacks arrived: %d", it_recv_count(rv));
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit");
    int got = 0;
    for (int i = 0; i < it_recv_count(rv); i++) {
        const char *v = it_rhdr(&rv->reqs[i], "X-Callback-Token");
        if (v != NULL &&
            (strcmp(v, HEADER_SECRET "-api") == 0 || strcmp(v, HEADER_SECRET "-old") == 0))
            got++;
    }
    IT_CHECK(got == 2, "the receiver got both headers in clear (%d)", got);
}

/* ---- nginx in front ------------------------------------------------------ */

/* Starts Debian's nginx with deploy/nginx/nginx.conf rendered for local
 * ports: listening on 127.0.0.1:*port, proxying to 127.0.0.1:upstream, and
 * with conn_limit requests in progress per address instead of the shipped
 * limit when conn_limit > 0. When healthy, waits until /healthz answers 200
 * through it. Returns its pid. */
static pid_t nginx_start_to(int upstream, bool healthy, int conn_limit, int *port)
{
    /* In the run directory, which make test removes with the services. */
    char *dir = hp_it_fmt("%s/nginx.XXXXXX", hp_it_env("HP_RUN_DIR"));
    const char *src = hp_it_fmt("%s/deploy/nginx/nginx.conf", it_repo_root());
    FILE *in = fopen(src, "r");
    char *conf = NULL;
    size_t cap = 0;
    ssize_t n;
    pid_t pid;

    IT_CHECK_FATAL(in != NULL && mkdtemp(dir) != NULL, "read %s", src);
    chmod(dir, 0755); /* nginx's workers may run as another user */
    n = getdelim(&conf, &cap, '\0', in);
    fclose(in);
    IT_CHECK_FATAL(n > 0 && strstr(conf, "server holdpoint-api:8080") &&
                       strstr(conf, "listen 8080"),
                   "the deploy configuration names its upstream and port");
    *port = it_free_port();
    const char *a = strstr(conf, "server holdpoint-api:8080"), *l = strstr(conf, "listen 8080");
    const char *text =
        hp_it_fmt("%.*sserver 127.0.0.1:%d%.*slisten 127.0.0.1:%d%s", (int)(a - conf), conf,
                  upstream, (int)(l - a - strlen("server holdpoint-api:8080")),
                  a + strlen("server holdpoint-api:8080"), *port, l + strlen("listen 8080"));
    free(conf);
    IT_CHECK_FATAL(a < l, "upstream before server");
    if (conn_limit > 0) {
        const char *lc = strstr(text, "limit_conn holdpoint_conn 512;");
        IT_CHECK_FATAL(lc != NULL, "the deploy configuration limits requests per address");
        text = hp_it_fmt("%.*slimit_conn holdpoint_conn %d;%s", (int)(lc - text), text, conn_limit,
                         lc + strlen("limit_conn holdpoint_conn 512;"));
    }
    const char *path = hp_it_fmt("%s/nginx.conf", dir);
    FILE *out = fopen(path, "w");
    IT_CHECK_FATAL(out != NULL && fputs(text, out) >= 0 && fclose(out) == 0, "write %s", path);
    pid = fork();
    if (pid == 0) {
        const char *bin = access("/usr/sbin/nginx", X_OK) == 0 ? "/usr/sbin/nginx" : "nginx";
        execlp(bin, "nginx", "-p", dir, "-c", path, "-g", "daemon off;", (char *)NULL);
        _exit(127);
    }
    IT_CHECK_FATAL(pid > 0, "fork nginx");
    if (healthy)
        IT_CHECK_FATAL(it_get_until_200(hp_it_fmt("http://127.0.0.1:%d/healthz", *port), 10000) ==
                           200,
                       "nginx answers /healthz through the API");
    else
        for (int i = 0; i < 100; i++) {
            int fd = hp_it_dial(*port, NULL);
            if (fd >= 0) {
                close(fd);
                break;
            }
            hp_it_sleep_ms(100);
        }
    return pid;
}

static pid_t nginx_start(hp_it_api *api, int *port)
{
    return nginx_start_to(hp_it_api_port(api), true, 0, port);
}

static void nginx_stop(pid_t ngx)
{
    kill(ngx, SIGTERM);
    IT_CHECK(waitpid(ngx, NULL, 0) == ngx, "nginx stopped");
}

#define NGINX_IDLE 2000

static void test_nginx_idle_sockets(void)
{
    int port, fds[NGINX_IDLE], opened = 0;
    const hp_it_team *t = hp_it_team_new();
    pid_t ngx = nginx_start(shares, &port);
    const char *body = hp_it_create_body("through nginx", NULL);

    /* 2,000 idle sockets from 127.0.0.1: 25 times the API's 80 threads. */
    for (int i = 0; i < NGINX_IDLE; i++)
        if ((fds[i] = hp_it_dial(port, "127.0.0.1")) >= 0)
            opened++;
    IT_CHECK(opened == NGINX_IDLE, "%d of %d idle sockets open", opened, NGINX_IDLE);
    /* A client on 127.0.0.2: a health check, a create and a long-poll. */
    double t0 = hp_it_now();
    const char *h = raw_exchange_from(port, "127.0.0.2", HEALTHZ_CLOSE);
    IT_CHECK(strncmp(h, "HTTP/1.1 200 ", 13) == 0, "healthz through nginx: %.60s", h);
    const char *c = raw_exchange_from(
        port, "127.0.0.2",
        hp_it_fmt("POST /v1/approvals HTTP/1.1\r\nHost: x\r\nX-Agent-Id: %s\r\nX-Api-Key: %s\r\n"
                  "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                  "Connection: close\r\n\r\n%s",
                  t->agent_id, t->api_key, strlen(body), body));
    IT_CHECK(strncmp(c, "HTTP/1.1 200 ", 13) == 0, "create through nginx: %.80s", c);
    IT_CHECK(hp_it_now() - t0 < 5.0, "answered in %.1f s beside 2,000 idle sockets",
             hp_it_now() - t0);
    /* Ambiguous framing never reaches the API as two requests: nginx
     * refuses it first (400) or passes one request the API refuses. */
    const char *f = raw_exchange_from(
        port, "127.0.0.2",
        "POST /v1/approvals HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n"
        "\r\n{}{}");
    IT_CHECK(strncmp(f, "HTTP/1.1 400 ", 13) == 0, "two lengths through nginx: %.60s", f);
    for (int i = 0; i < NGINX_IDLE; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    nginx_stop(ngx);
}

/* Checks that the raw HTTP response resp has status and a JSON body in the
 * API's error shape with error code and a request id like the API's (req_
 * and 32 hex digits, also in X-Request-Id). */
static void nginx_error_like_api(const char *resp, const char *status, const char *code)
{
    const char *body = strstr(resp, "\r\n\r\n");
    json_object *o = body ? hp_it_json(body + 4) : NULL;
    json_object *rid = o ? hp_it_jget(o, "request_id", NULL) : NULL;

    IT_CHECK(strncmp(resp, status, strlen(status)) == 0, "want %s, got %.60s", status, resp);
    IT_CHECK(strstr(resp, "Content-Type: application/json\r\n") != NULL, "%s is JSON: %.200s",
             status, resp);
    if (!IT_CHECK(o != NULL, "%s body is JSON: %.300s", status, resp))
        return;
    IT_JSTR(o, "error", code);
    IT_CHECK(json_object_is_type(hp_it_jget(o, "message", NULL), json_type_string),
             "%s has a message", status);
    IT_CHECK(rid != NULL && strlen(json_object_get_string(rid)) == 36 &&
                 strncmp(json_object_get_string(rid), "req_", 4) == 0,
             "%s has a request_id like the API's: %s", status, hp_it_jtext(o));
    if (rid != NULL)
        IT_CHECK(strstr(resp, hp_it_fmt("\r\nX-Request-Id: %s\r\n", json_object_get_string(rid))) !=
                     NULL,
                 "%s sends its request_id in X-Request-Id too: %.300s", status, resp);
}

/* What nginx answers itself carries the API's error body; what the API
 * answers passes through untouched. */
static void test_nginx_errors_are_the_apis(void)
{
    const hp_it_team *t = hp_it_team_new();
    int port, dead_port;
    pid_t ngx = nginx_start(shares, &port);

    /* Framing nginx refuses, a header over its buffers, a body over its
     * cap, a path only nginx knows. */
    nginx_error_like_api(raw_exchange_from(port, "127.0.0.2",
                                           "POST /v1/approvals HTTP/1.1\r\nHost: x\r\n"
                                           "Content-Length: 4\r\nContent-Length: 5\r\n\r\n{}{}"),
                         "HTTP/1.1 400 ", "invalid_request");
    nginx_error_like_api(raw_exchange_from(port, "127.0.0.2", "GARBAGE\r\n\r\n"), "HTTP/1.1 400 ",
                         "invalid_request");
    nginx_error_like_api(
        raw_exchange_from(port, "127.0.0.2",
                          hp_it_fmt("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n",
                                    hp_it_repeat("a", 20000))),
        "HTTP/1.1 400 ", "invalid_request");
    nginx_error_like_api(raw_exchange_from(port, "127.0.0.2",
                                           "POST /v1/approvals HTTP/1.1\r\nHost: x\r\n"
                                           "Content-Type: application/json\r\n"
                                           "Content-Length: 2000000\r\nConnection: close\r\n\r\n"),
                         "HTTP/1.1 413 ", "payload_too_large");
    nginx_error_like_api(raw_exchange_from(port, "127.0.0.2",
                                           "GET /.holdpoint-error/429 HTTP/1.1\r\nHost: x\r\n"
                                           "Connection: close\r\n\r\n"),
                         "HTTP/1.1 404 ", "not_found");

    /* The API's own error, with the request id the client sent, passes
     * through untouched. */
    const char *e =
        raw_exchange_from(port, "127.0.0.2",
                          hp_it_fmt("POST /v1/approvals HTTP/1.1\r\nHost: x\r\nX-Agent-Id: %s\r\n"
                                    "X-Api-Key: hp_wrong\r\nX-Request-Id: through-nginx-1\r\n"
                                    "Content-Type: application/json\r\nContent-Length: 2\r\n"
                                    "Connection: close\r\n\r\n{}",
                                    t->agent_id));
    const char *eb = strstr(e, "\r\n\r\n");
    json_object *eo = eb ? hp_it_json(eb + 4) : NULL;
    IT_CHECK(strncmp(e, "HTTP/1.1 401 ", 13) == 0 && eo != NULL, "the API's 401: %.300s", e);
    if (eo != NULL) {
        IT_JSTR(eo, "error", "invalid_api_key");
        IT_JSTR(eo, "request_id", "through-nginx-1");
    }

    /* The per-address request rate (100/s, a burst of 400): one address
     * past it gets 429 with Retry-After; another is still served. */
    const char *limited = NULL;
    int sent = 0;
    for (; sent < 5000 && limited == NULL; sent++) {
        const char *r = raw_exchange_from(port, "127.0.0.3", HEALTHZ_CLOSE);
        if (strncmp(r, "HTTP/1.1 429 ", 13) == 0)
            limited = r;
        else
            IT_CHECK_FATAL(strncmp(r, "HTTP/1.1 200 ", 13) == 0, "healthz %d: %.60s", sent, r);
    }
    IT_CHECK_FATAL(limited != NULL, "no 429 from 127.0.0.3 in %d requests", sent);
    IT_CHECK(sent > 400, "the burst of 400 was served first (429 at request %d)", sent);
    nginx_error_like_api(limited, "HTTP/1.1 429 ", "rate_limited");
    IT_CHECK(strstr(limited, "\r\nRetry-After: 1\r\n") != NULL, "429 has Retry-After: %.300s",
             limited);
    IT_CHECK(strstr(limited, "\"retry_after_seconds\":1") != NULL,
             "429 has retry_after_seconds like the API's: %.300s", limited);
    const char *other = raw_exchange_from(port, "127.0.0.4", HEALTHZ_CLOSE);
    IT_CHECK(strncmp(other, "HTTP/1.1 200 ", 13) == 0, "another address is served: %.60s", other);
    nginx_stop(ngx);

    /* No replica reachable: 503, not nginx's 502. */
    dead_port = it_free_port();
    ngx = nginx_start_to(dead_port, false, 0, &port);
    const char *u = raw_exchange_from(
        port, "127.0.0.2", "GET /v1/approvals HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    nginx_error_like_api(u, "HTTP/1.1 503 ", "service_unavailable");
    IT_CHECK(strstr(u, "\r\nRetry-After: 1\r\n") != NULL, "503 has Retry-After: %.300s", u);
    nginx_stop(ngx);
}

#define NGINX_CONNS 8

/* Requests in progress per address (limit_conn, rendered at 8 instead of
 * 512): one address holding 8 gets 429 for the next; another address is
 * served. A request whose body nginx is still reading is in progress. */
static void test_nginx_requests_in_progress(void)
{
    int port, fds[NGINX_CONNS];
    pid_t ngx = nginx_start_to(hp_it_api_port(shares), true, NGINX_CONNS, &port);
    const char *held = "POST /v1/approvals HTTP/1.1\r\nHost: x\r\n"
                       "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{";

    for (int i = 0; i < NGINX_CONNS; i++)
        fds[i] = -1;
    /* nginx counts each held request once it has read its head, in either
     * of its workers: a probe may slip in before the last of them and push
     * that one out (it gets the 429 and is closed). So until a probe gets
     * 429: every held request nginx has answered is sent again, then the
     * next probe. */
    const char *r = "";
    for (int i = 0; i < 50 && strncmp(r, "HTTP/1.1 429 ", 13) != 0; i++) {
        for (int k = 0; k < NGINX_CONNS; k++) {
            struct pollfd pfd = {.fd = fds[k], .events = POLLIN};
            if (fds[k] >= 0 && poll(&pfd, 1, 0) == 0)
                continue; /* still in progress */
            if (fds[k] >= 0)
                close(fds[k]);
            fds[k] = hp_it_dial(port, "127.0.0.5");
            IT_CHECK_FATAL(fds[k] >= 0 &&
                               write(fds[k], held, strlen(held)) == (ssize_t)strlen(held),
                           "request %d in progress", k);
        }
        hp_it_sleep_ms(100);
        r = raw_exchange_from(port, "127.0.0.5", HEALTHZ_CLOSE);
    }
    nginx_error_like_api(r, "HTTP/1.1 429 ", "rate_limited");
    const char *other = raw_exchange_from(port, "127.0.0.6", HEALTHZ_CLOSE);
    IT_CHECK(strncmp(other, "HTTP/1.1 200 ", 13) == 0, "another address is served: %.60s", other);
    /* One held request ends: the address is served again. */
    close(fds[0]);
    fds[0] = -1;
    r = "";
    for (int i = 0; i < 50 && strncmp(r, "HTTP/1.1 200 ", 13) != 0; i++) {
        r = raw_exchange_from(port, "127.0.0.5", HEALTHZ_CLOSE);
        if (strncmp(r, "HTTP/1.1 200 ", 13) != 0)
            hp_it_sleep_ms(100);
    }
    IT_CHECK(strncmp(r, "HTTP/1.1 200 ", 13) == 0, "served again after one ended: %.60s", r);
    for (int i = 0; i < NGINX_CONNS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    nginx_stop(ngx);
}

static int setup(void)
{
    /* The hostile tests open thousands of sockets (2,000 idle ones to
     * nginx): the soft open-file limit goes up to the hard one. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &nofile);
    }
    static const char *const env[] = {
        "HOLDPOINT_MAX_WAITERS=40",           "HOLDPOINT_API_THREADS=80",
        "HOLDPOINT_TEAM_WAITERS_PERCENT=25",  "HOLDPOINT_KEY_WAITERS_PERCENT=10",
        "HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", NULL};
    shares = hp_it_api_start("shares", env);
    return shares ? 0 : 1;
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"a team and a key hold at most their share of waiters", test_fair_shares},
        {"clients that hang up free their waiters", test_hangups},
        {"ambiguous framing answers 400 and creates nothing", test_ambiguous_framing},
        {"a NUL in a JSON string or key answers 400", test_nul_in_json},
        {"callback headers are sealed at rest yet arrive", test_callback_headers_sealed},
        {"300 idle and 300 slowloris sockets do not stop another client",
         test_idle_and_slow_sockets},
        {"through nginx, 2,000 idle sockets from one address do not stop another",
         test_nginx_idle_sockets},
        {"through nginx, what nginx answers itself carries the API's error body",
         test_nginx_errors_are_the_apis},
        {"through nginx, one address past its requests in progress gets 429",
         test_nginx_requests_in_progress},
        {NULL, NULL},
    };
    return hp_it_main("avail", tests, setup, NULL);
}
