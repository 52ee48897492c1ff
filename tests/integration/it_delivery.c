/*
 * holdpoint-delivery against real PostgreSQL and a C receiver on 127.0.0.1:
 * the exact request of seed 003 (headers in order, agent auth winning and
 * sent once, exact body) with both signatures, checked by the
 * `standardwebhooks` npm package and Node's crypto (tests/e2e); retries with
 * backoff and a stable webhook-id; failure after the last attempt with a
 * short error; redirects not followed; the SSRF rules at delivery time;
 * SIGKILL in the middle of a batch of 500 (every callback still arrives);
 * SIGTERM finishing in-flight sends and exiting 0; 100,000 queued jobs
 * drained by two workers, each webhook id once; and /healthz.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_workers.h"

#define WORKER "holdpoint-delivery"

/* Environment of every worker these tests start: local receivers allowed,
 * short delays so retries take well under a second. */
static const char *const base_env[] = {
    "HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1",  "HOLDPOINT_CALLBACK_BASE_DELAY_MS=100",
    "HOLDPOINT_CALLBACK_MAX_DELAY_MS=400", "HOLDPOINT_CALLBACK_TIMEOUT_MS=2000",
    "HOLDPOINT_CALLBACK_MAX_ATTEMPTS=3",   NULL};

static const char *url_of(const it_recv *r, const char *path)
{
    return hp_it_fmt("http://127.0.0.1:%d%s", r->port, path);
}

static const char *job_col(const char *job, const char *col)
{
    return hp_it_sql_str(hp_it_fmt("select %s::text from jobs where id = $1::bigint", col), job,
                         (const char *)NULL);
}

static const char *approval_col(const char *id, const char *col)
{
    return hp_it_sql_str(hp_it_fmt("select %s::text from approvals where id = $1::uuid", col), id,
                         (const char *)NULL);
}

/* Waits until job leaves 'queued'; returns its final state. */
static const char *wait_job_done(const char *job, long timeout_ms)
{
    double end = hp_it_now() + (double)timeout_ms / 1000.0;
    const char *st;
    while ((st = job_col(job, "state")) != NULL && strcmp(st, "queued") == 0 && hp_it_now() < end)
        hp_it_sleep_ms(25);
    return st;
}

/* ---- tests -------------------------------------------------------------- */

/* A body with characters that must survive byte for byte. */
static const char exact_body[] = "{\"request_id\":\"r-\\u00e9\",\"status\":\"selected_option\","
                                 "\"note\":\"caf\xc3\xa9 \xe2\x9c\x93 "
                                 "</x> \\\"q\\\" body-marker-q7\",\"n\":1.50}";

static void test_delivered_first_try(void)
{
    it_agent a = it_agent_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    const char *ap = it_approval_insert(&a, "now() + interval '1 day'", url_of(r, "/hook?x=1"));
    const char *job = it_job_insert(
        &a, ap, url_of(r, "/hook?x=1"),
        "{\"X-Trace\":\"trace-1\",\"authorization\":\"Bearer caller-value\",\"X-Empty\":\"\"}",
        exact_body, 3);
    const char *changed = approval_col(ap, "updated_at");
    it_proc *w = it_proc_start(WORKER, "delivery", base_env);

    IT_CHECK(it_recv_wait(r, 1, 10000), "no request arrived");
    IT_CHECK_FATAL(strcmp(wait_job_done(job, 10000), "done") == 0, "job state %s",
                   job_col(job, "state"));
    /* The outcome leaves updated_at (the reviewers' change feed, which does
     * not show delivery fields) alone, so it can be a heap-only update in
     * the room the table's fillfactor keeps. */
    IT_CHECK(strcmp(approval_col(ap, "updated_at"), changed) == 0, "updated_at moved: %s -> %s",
             changed, approval_col(ap, "updated_at"));
    IT_CHECK(hp_it_sql_int("select count(*) from pg_class where relname = 'approvals' and "
                           "'fillfactor=85' = any(reloptions)",
                           (const char *)NULL) == 1,
             "approvals has no fillfactor of 85");
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker did not exit 0 on SIGTERM");
    IT_CHECK_FATAL(it_recv_count(r) == 1, "%d requests, wanted 1", it_recv_count(r));

    it_rreq *q = &r->reqs[0];
    IT_CHECK(strncmp(q->head, "POST /hook?x=1 HTTP/1.1\r\n", 25) == 0, "request line: %.40s",
             q->head);
    IT_CHECK(q->body_len == strlen(exact_body) && memcmp(q->body, exact_body, q->body_len) == 0,
             "body differs: %s", q->body);
    IT_CHECK(strcmp(it_rhdr(q, "Content-Type"), "application/json") == 0, "content-type");
    IT_CHECK(it_rhdr_count(q, "Content-Type") == 1, "one content-type");
    IT_CHECK(it_rhdr(q, "X-Trace") && strcmp(it_rhdr(q, "X-Trace"), "trace-1") == 0,
             "caller header X-Trace");
    /* The agent's auth header wins over the caller's and is sent once. */
    IT_CHECK(it_rhdr_count(q, "Authorization") == 1, "authorization sent %d times",
             it_rhdr_count(q, "Authorization"));
    IT_CHECK(strcmp(it_rhdr(q, "Authorization"), "Bearer it-cb-secret") == 0, "authorization is %s",
             it_rhdr(q, "Authorization"));
    /* Seed 003 order: Content-Type, caller headers, agent auth. */
    {
        const char *ct = strcasestr(q->head, "\r\ncontent-type:");
        const char *tr = strcasestr(q->head, "\r\nx-trace:");
        const char *au = strcasestr(q->head, "\r\nauthorization:");
        IT_CHECK(ct && tr && au && ct < tr && tr < au, "header order: %s", q->head);
    }
    IT_CHECK(strcmp(it_rhdr(q, "webhook-id"), job_col(job, "webhook_id")) == 0, "webhook-id");
    {
        const char *ts = it_rhdr(q, "webhook-timestamp");
        double now = hp_it_now();
        IT_CHECK(ts != NULL && strtod(ts, NULL) > now - 60 && strtod(ts, NULL) < now + 60,
                 "webhook-timestamp %s", ts ? ts : "(none)");
        IT_CHECK(it_rhdr(q, "X-Timestamp") && strcmp(it_rhdr(q, "X-Timestamp"), ts) == 0,
                 "X-Timestamp equals webhook-timestamp");
    }
    IT_CHECK(strncmp(it_rhdr(q, "webhook-signature"), "v1,", 3) == 0, "webhook-signature");
    IT_CHECK(strncmp(it_rhdr(q, "X-Signature-256"), "sha256=", 7) == 0 &&
                 strlen(it_rhdr(q, "X-Signature-256")) == 71,
             "X-Signature-256");
    IT_CHECK(it_rhdr(q, "X-Nonce") && strlen(it_rhdr(q, "X-Nonce")) >= 16, "X-Nonce");
    {
        const char *hs = it_rhdr(q, "X-Holdpoint-Signature");
        IT_CHECK(hs != NULL &&
                     strncmp(hs, hp_it_fmt("t=%s,v1=", it_rhdr(q, "X-Timestamp")),
                             strlen(hp_it_fmt("t=%s,v1=", it_rhdr(q, "X-Timestamp")))) == 0,
                 "X-Holdpoint-Signature %s", hs ? hs : "(none)");
    }

    IT_CHECK(strcmp(approval_col(ap, "result_delivery_status"), "delivered") == 0,
             "result_delivery_status");
    IT_CHECK(approval_col(ap, "result_delivery_error") == NULL, "result_delivery_error null");
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events where approval_id = $1::uuid "
                           "and kind = 'callback_delivered' and actor_type = 'system'",
                           ap, (const char *)NULL) == 1,
             "one callback_delivered event");
    IT_CHECK(hp_it_sql_int("select count(*) from job_attempts where job_id = $1::bigint and "
                           "http_status = 200 and finished_at is not null and error is null",
                           job, (const char *)NULL) == 1,
             "one attempt row with status 200");
    /* Logs never carry the body, the auth value or the secret. */
    IT_CHECK(it_proc_log_count(w, "it-cb-secret") == 0, "auth value logged");
    IT_CHECK(it_proc_log_count(w, "body-marker-q7") == 0, "body logged");
    IT_CHECK(it_proc_log_count(w, a.webhook_secret + 6) == 0, "secret logged");
    IT_CHECK(it_proc_log_count(w, "\"callback delivered\"") == 1, "delivery logged");

    /* An independent implementation verifies both signatures. */
    IT_CHECK(it_verify_signatures(r, NULL, a.webhook_secret) == 0, "signature verification failed");
}

static void test_retry_then_delivered(void)
{
    static const int script[] = {500, 500, 200};
    it_agent a = it_agent_new();
    it_recv *r = it_recv_start(script, 3, 0);
    const char *ap = it_approval_insert(&a, "now() + interval '1 day'", url_of(r, "/cb"));
    const char *job = it_job_insert(&a, ap, url_of(r, "/cb"), NULL, "{\"a\":1}", 3);
    it_proc *w = it_proc_start(WORKER, "delivery", base_env);
    const char *wid;

    IT_CHECK_FATAL(strcmp(wait_job_done(job, 15000), "done") == 0, "job state %s",
                   job_col(job, "state"));
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
    IT_CHECK_FATAL(it_recv_count(r) == 3, "%d requests, wanted 3", it_recv_count(r));
    wid = it_rhdr(&r->reqs[0], "webhook-id");
    for (int i = 1; i < 3; i++) {
        IT_CHECK(strcmp(it_rhdr(&r->reqs[i], "webhook-id"), wid) == 0, "webhook-id changed");
        IT_CHECK(strcmp(it_rhdr(&r->reqs[i], "X-Nonce"), it_rhdr(&r->reqs[i - 1], "X-Nonce")) != 0,
                 "nonce reused across attempts");
    }
    IT_CHECK(strcmp(job_col(job, "attempts"), "3") == 0, "attempts %s", job_col(job, "attempts"));
    IT_CHECK(strcmp(approval_col(ap, "result_delivery_status"), "delivered") == 0,
             "delivered after retries");
    IT_CHECK(hp_it_sql_int("select count(*) from job_attempts where job_id = $1::bigint", job,
                           (const char *)NULL) == 3,
             "three attempt rows");
    IT_CHECK(hp_it_sql_int("select count(*) from job_attempts where job_id = $1::bigint and "
                           "http_status = 500 and error = 'http 500'",
                           job, (const char *)NULL) == 2,
             "two failed attempts recorded with 'http 500'");
    /* Backoff: the second and third attempts were spaced by the delay. */
    IT_CHECK(hp_it_sql_int("select count(*) from (select started_at - lag(finished_at) over "
                           "(order by attempt) as gap from job_attempts where job_id = $1::bigint)"
                           " g where gap >= interval '45 milliseconds'",
                           job, (const char *)NULL) == 2,
             "retries were not delayed");
    IT_CHECK(it_verify_signatures(r, NULL, a.webhook_secret) == 0, "signatures of retries");
}

static void test_always_500_fails(void)
{
    static const int script[] = {500};
    it_agent a = it_agent_new();
    it_recv *r = it_recv_start(script, 1, 0);
    const char *ap = it_approval_insert(&a, "now() + interval '1 day'", url_of(r, "/cb"));
    const char *job = it_job_insert(&a, ap, url_of(r, "/cb"), NULL, "{\"a\":2}", 3);
    it_proc *w = it_proc_start(WORKER, "delivery", base_env);

    IT_CHECK_FATAL(strcmp(wait_job_done(job, 15000), "failed") == 0, "job state %s",
                   job_col(job, "state"));
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
    IT_CHECK(it_recv_count(r) == 3, "%d requests, wanted 3", it_recv_count(r));
    IT_CHECK(strcmp(approval_col(ap, "result_delivery_status"), "failed") == 0, "failed");
    IT_CHECK(strcmp(approval_col(ap, "result_delivery_error"), "http 500") == 0,
             "result_delivery_error %s", approval_col(ap, "result_delivery_error"));
    IT_CHECK(hp_it_sql_int("select count(*) from approval_events where approval_id = $1::uuid "
                           "and kind = 'callback_failed'",
                           ap, (const char *)NULL) == 1,
             "one callback_failed event");
}

static void test_redirect_not_followed(void)
{
    static const int script[] = {302};
    it_agent a = it_agent_new();
    it_recv *r = it_recv_start(script, 1, 0);
    const char *ap = it_approval_insert(&a, "now() + interval '1 day'", url_of(r, "/cb"));
    const char *job = it_job_insert(&a, ap, url_of(r, "/cb"), NULL, "{}", 1);
    it_proc *w = it_proc_start(WORKER, "delivery", base_env);

    IT_CHECK_FATAL(strcmp(wait_job_done(job, 10000), "failed") == 0, "job state");
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
    /* The Location pointed at 127.0.0.1:1; only the one request was made. */
    IT_CHECK(it_recv_count(r) == 1, "%d requests", it_recv_count(r));
    IT_CHECK(strncmp(approval_col(ap, "result_delivery_error"), "http 302", 8) == 0, "error %s",
             approval_col(ap, "result_delivery_error"));
}

static void test_ssrf_refused_at_delivery(void)
{
    it_agent a = it_agent_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    /* No allow list: loopback by address, by name, and disguised. */
    const char *const env[] = {"HOLDPOINT_OUTBOUND_ALLOW=", "HOLDPOINT_CALLBACK_TIMEOUT_MS=2000",
                               NULL};
    const char *urls[] = {url_of(r, "/cb"), hp_it_fmt("http://localhost:%d/cb", r->port),
                          hp_it_fmt("http://2130706433:%d/cb", r->port),
                          hp_it_fmt("http://[::ffff:127.0.0.1]:%d/cb", r->port),
                          hp_it_fmt("http://host.docker.internal:%d/cb", r->port)};
    const char *jobs[5], *aps[5];
    it_proc *w;

    for (int i = 0; i < 5; i++) {
        aps[i] = it_approval_insert(&a, "now() + interval '1 day'", urls[i]);
        jobs[i] = it_job_insert(&a, aps[i], urls[i], NULL, "{}", 3);
    }
    w = it_proc_start(WORKER, "delivery", env);
    for (int i = 0; i < 5; i++) {
        const char *st = wait_job_done(jobs[i], 10000);
        const char *e = approval_col(aps[i], "result_delivery_error");
        IT_CHECK(st && strcmp(st, "failed") == 0, "%s: state %s", urls[i], st ? st : "?");
        IT_CHECK(e && strncmp(e, "url refused", 11) == 0, "%s: error %s", urls[i],
                 e ? e : "(null)");
        /* Refused is final: one attempt, no retries. */
        IT_CHECK(strcmp(job_col(jobs[i], "attempts"), "1") == 0, "%s: attempts", urls[i]);
    }
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
    hp_it_sleep_ms(200);
    IT_CHECK(it_recv_count(r) == 0, "%d requests reached the receiver", it_recv_count(r));
}

static void test_sigkill_mid_batch(void)
{
    enum { N = 500 };
    it_agent a = it_agent_new();
    it_recv *r = it_recv_start(NULL, 0, 15);
    const char *ap = it_approval_insert(&a, "now() + interval '1 day'", url_of(r, "/cb"));
    const char *const env[] = {
        "HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", "HOLDPOINT_CALLBACK_TIMEOUT_MS=1000",
        "HOLDPOINT_CALLBACK_BASE_DELAY_MS=100", "HOLDPOINT_DELIVERY_CONCURRENCY=8", NULL};
    it_proc *w1, *w2;
    int got, missing;

    /* 500 jobs; the approval id is shared, each job has its own webhook-id. */
    IT_CHECK_FATAL(
        hp_it_sql_exec("insert into jobs (team_id, kind, approval_id, agent_id, url, body, "
                       "webhook_id, max_attempts) select $1, 'callback', $2, $3, $4, "
                       "'{\"n\":' || g || '}', 'msg_kill_' || g || '_' || $5, 3 "
                       "from generate_series(1, 500) g",
                       a.team->team_id, ap, a.agent_id, url_of(r, "/cb"), hp_it_unique(),
                       (const char *)NULL),
        "insert jobs");
    w1 = it_proc_start(WORKER, "delivery-kill", env);
    IT_CHECK_FATAL(it_recv_wait(r, 60, 20000), "first worker did not start sending");
    it_proc_kill(w1);
    got = it_recv_count(r);
    IT_CHECK(got < N, "the batch was finished before the kill (%d)", got);
    /* The restarted worker takes over once the killed worker's leases (2 x
     * timeout + 5 s) run out. */
    w2 = it_proc_start(WORKER, "delivery-restart", env);
    IT_CHECK(it_sql_wait(0, 60000,
                         "select count(*) from jobs where team_id = $1::uuid and state <> 'done'",
                         a.team->team_id) == 0,
             "jobs left undelivered");
    IT_CHECK(it_proc_stop(w2, 15000) == 0, "restarted worker exit status");
    /* Every webhook-id arrived at least once. */
    {
        json_object *seen = json_object_new_object();
        pthread_mutex_lock(&r->mu);
        for (int i = 0; i < r->n; i++) {
            const char *id = it_rhdr(&r->reqs[i], "webhook-id");
            if (id != NULL)
                json_object_object_add(seen, id, NULL);
        }
        got = r->n;
        pthread_mutex_unlock(&r->mu);
        missing = N - json_object_object_length(seen);
        json_object_put(seen);
    }
    IT_CHECK(missing == 0, "%d callbacks never arrived (%d requests in all)", missing, got);
    fprintf(stderr, "\n  sigkill: %d requests for %d callbacks (%d duplicates)\n", got, N, got - N);
}

static void test_sigterm_finishes_in_flight(void)
{
    it_agent a = it_agent_new();
    it_recv *r = it_recv_start(NULL, 0, 800);
    const char *ap = it_approval_insert(&a, "now() + interval '1 day'", url_of(r, "/cb"));
    const char *jobs[4];
    it_proc *w;
    double t0;
    int st;

    for (int i = 0; i < 4; i++)
        jobs[i] = it_job_insert(&a, ap, url_of(r, "/cb"), NULL, "{}", 3);
    w = it_proc_start(WORKER, "delivery-term", base_env);
    /* Wait until the sends are in flight: four connections open at the
     * receiver, which holds each request 800 ms. (A claimed job that has
     * not started yet is given back at SIGTERM instead.) */
    {
        double end = hp_it_now() + 10;
        int active = 0;
        while (active < 4 && hp_it_now() < end) {
            pthread_mutex_lock(&r->mu);
            active = r->active;
            pthread_mutex_unlock(&r->mu);
            if (active < 4)
                hp_it_sleep_ms(10);
        }
        IT_CHECK_FATAL(active == 4, "sends did not start (%d in flight)", active);
    }
    t0 = hp_it_now();
    st = it_proc_stop(w, 15000);
    IT_CHECK(st == 0, "exit status %d after SIGTERM", st);
    IT_CHECK(hp_it_now() - t0 < 2 + 2.0 + 1.0, "shutdown took %.1f s", hp_it_now() - t0);
    for (int i = 0; i < 4; i++)
        IT_CHECK(strcmp(job_col(jobs[i], "state"), "done") == 0, "in-flight job %d not finished",
                 i);
    IT_CHECK(it_proc_log_count(w, "\"stopped\"") == 1, "no stopped line");
}

/* A backlog of 100,000 queued callbacks drained by two workers at once:
 * each job ends done with exactly one successful attempt, and each webhook
 * id reached the receiver. The ThreadSanitizer pass (HP_IT_LIGHT=1) and the
 * pass through PgBouncer (HP_IT_POOLED=1) run the same with 5,000. */
static void test_two_workers_drain_100k(void)
{
    long n = getenv("HP_IT_LIGHT") != NULL || getenv("HP_IT_POOLED") != NULL ? 5000 : 100000;
    it_agent a = it_agent_new();
    it_recv *r = it_recv_start_keep_alive();
    const char *const env[] = {
        "HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", "HOLDPOINT_CALLBACK_TIMEOUT_MS=10000",
        "HOLDPOINT_DELIVERY_CONCURRENCY=32", "HOLDPOINT_LOG_LEVEL=warn", NULL};
    double t0;

    IT_CHECK_FATAL(hp_it_sql_exec("insert into jobs (team_id, kind, agent_id, url, headers, body, "
                                  "webhook_id, max_attempts) select $1::uuid, 'callback', "
                                  "$2::uuid, $3, '{}', '{\"n\":' || g || '}', 'msg_drain_' || g, "
                                  "3 from generate_series(1, $4::int) g",
                                  a.team->team_id, a.agent_id, url_of(r, "/drain"),
                                  hp_it_fmt("%ld", n), (const char *)NULL),
                   "queueing the backlog");
    t0 = hp_it_now();
    it_proc *w1 = it_proc_start(WORKER, "delivery-drain-a", env);
    it_proc *w2 = it_proc_start(WORKER, "delivery-drain-b", env);
    IT_CHECK(it_sql_wait(0, 600000,
                         "select count(*) from jobs where team_id = $1::uuid and state = 'queued'",
                         a.team->team_id) == 0,
             "the backlog was not drained");
    fprintf(stderr, "\n  %ld jobs drained by 2 workers in %.1f s (%d requests)\n", n,
            hp_it_now() - t0, it_recv_count(r));
    IT_CHECK(it_proc_stop(w1, 15000) == 0, "worker a exit status");
    IT_CHECK(it_proc_stop(w2, 15000) == 0, "worker b exit status");
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where team_id = $1::uuid and state = 'done'",
                           a.team->team_id, (const char *)NULL) == n,
             "not every job is done");
    IT_CHECK(hp_it_sql_int("select count(*) from (select j.webhook_id from jobs j join "
                           "job_attempts t on t.job_id = j.id where j.team_id = $1::uuid and "
                           "t.http_status between 200 and 299 group by j.webhook_id "
                           "having count(*) = 1) s",
                           a.team->team_id, (const char *)NULL) == n,
             "not every webhook id has exactly one successful attempt");
    {
        /* Every webhook id arrived (a duplicate would only be a retry). */
        char *seen = calloc((size_t)n + 1, 1);
        long distinct = 0;
        pthread_mutex_lock(&r->mu);
        for (int i = 0; i < r->n; i++) {
            const char *h = strstr(r->reqs[i].head, "msg_drain_");
            long k = h != NULL ? strtol(h + 10, NULL, 10) : 0;
            if (k >= 1 && k <= n && !seen[k]++)
                distinct++;
        }
        pthread_mutex_unlock(&r->mu);
        free(seen);
        IT_CHECK(distinct == n, "%ld of %ld webhook ids reached the receiver", distinct, n);
    }
    IT_CHECK(hp_it_sql_exec("delete from jobs where team_id = $1::uuid", a.team->team_id,
                            (const char *)NULL),
             "cleanup");
}

static void test_healthz(void)
{
    int port = it_free_port();
    const char *listen_env = hp_it_fmt("HOLDPOINT_METRICS_LISTEN=127.0.0.1:%d", port);
    const char *const env[] = {"HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", listen_env, NULL};
    it_proc *w = it_proc_start(WORKER, "delivery-health", env);
    long code = it_get_until_200(hp_it_fmt("http://127.0.0.1:%d/healthz", port), 10000);

    IT_CHECK(code == 200, "GET /healthz answered %ld", code);
    /* Idle means asleep: no claim loop spinning on an empty queue. */
    {
        long t0, t1;
        (void)hp_it_sql_exec("delete from jobs where state = 'queued'", (const char *)NULL);
        hp_it_sleep_ms(1000);
        t0 = it_proc_cpu_ticks(w);
        hp_it_sleep_ms(2000);
        t1 = it_proc_cpu_ticks(w);
        IT_CHECK(t0 >= 0 && t1 - t0 <= 10, "idle worker used %ld ticks of CPU in 2 s", t1 - t0);
    }
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
}

static void test_postgres_restart(void)
{
    it_agent a = it_agent_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    const char *svc = HP_ITEST_SERVICES_SH, *run = hp_it_env("HP_RUN_DIR");
    it_proc *w = it_proc_start(WORKER, "delivery-pg", base_env);
    const char *ap, *job;

    hp_it_sleep_ms(500);
    IT_CHECK_FATAL(system(hp_it_fmt("'%s' pg-stop '%s' >/dev/null 2>&1", svc, run)) == 0,
                   "pg-stop");
    hp_it_sleep_ms(1500);
    IT_CHECK_FATAL(system(hp_it_fmt("'%s' pg-start '%s' >/dev/null 2>&1", svc, run)) == 0,
                   "pg-start");
    ap = it_approval_insert(&a, "now() + interval '1 day'", url_of(r, "/after-restart"));
    job = it_job_insert(&a, ap, url_of(r, "/after-restart"), NULL, "{}", 3);
    (void)hp_it_sql_exec("select pg_notify('hp_jobs', '')", (const char *)NULL);
    IT_CHECK(strcmp(wait_job_done(job, 20000), "done") == 0, "not delivered after the restart");
    IT_CHECK(it_recv_count(r) == 1, "%d requests", it_recv_count(r));
    IT_CHECK(it_proc_log_count(w, "postgresql reachable again") >= 1, "no recovery logged");
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
}

static int setup(void)
{
    if (it_schema_ready() != 0)
        return 1;
    return it_e2e_ready("it_delivery");
}

static int teardown(void)
{
    return it_jobs_cleanup();
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"delivered on first try: headers, exact body, signatures", test_delivered_first_try},
        {"500, 500, 200: three attempts, same webhook-id, delivered", test_retry_then_delivered},
        {"always 500: failed with a short error", test_always_500_fails},
        {"3xx is a failure, redirects not followed", test_redirect_not_followed},
        {"ssrf: loopback refused at delivery, nothing sent", test_ssrf_refused_at_delivery},
        {"sigkill mid-batch of 500: every callback arrives", test_sigkill_mid_batch},
        {"sigterm finishes in-flight sends and exits 0", test_sigterm_finishes_in_flight},
        {"100,000 jobs drained by two workers: each webhook id once", test_two_workers_drain_100k},
        {"healthz on HOLDPOINT_METRICS_LISTEN", test_healthz},
        {"postgresql restart: reconnects and delivers", test_postgres_restart},
        {NULL, NULL}};
    return hp_it_main("it_delivery", tests, setup, teardown);
}
