/*
 * Fault points (docs/internals/faults.md), each armed in a real process
 * through HOLDPOINT_FAULTS, and what must hold afterwards:
 * - decide.after_commit: an API killed right after a decision committed (one
 *   statement) leaves it made once with its event, job and action response;
 *   another replica refuses a second decision.
 * - expiry.after_commit: a timeout worker killed right after a batch
 *   committed (one statement) leaves each approval expired once, with one
 *   event and one callback job; the next worker does none of it again.
 * - delivery.after_claim: a delivery worker killed right after claiming
 *   sends nothing; once the leases run out the jobs are delivered once each.
 * - delivery.after_send: a worker killed after a response came back but
 *   before it was recorded; the next worker sends those jobs again with the
 *   same webhook-id (at-least-once) and every job ends delivered.
 * And a receiver that never answers in time is retried like a 500.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_workers.h"

#define SIGKILLED 137 /* 128 + SIGKILL: what a crash fault point looks like */

static const char *url_of(const it_recv *r)
{
    return hp_it_fmt("http://127.0.0.1:%d/cb", r->port);
}

static long long count_of(const char *sql, const char *p1)
{
    return hp_it_sql_int(sql, p1, (const char *)NULL);
}

static long long events(const char *approval_id, const char *kind)
{
    return hp_it_sql_int("select count(*) from approval_events where approval_id = $1::uuid "
                         "and kind = $2",
                         approval_id, kind, (const char *)NULL);
}

static long long jobs_of(const char *approval_id)
{
    return count_of("select count(*) from jobs where approval_id = $1::uuid and kind = 'callback'",
                    approval_id);
}

/* Creates an approval with a callback as t on api; returns its id. */
static const char *create_on(hp_it_api *api, const hp_it_team *t)
{
    hp_it_resp *r = hp_it_agent_on(
        api, t, "POST", "/v1/approvals",
        hp_it_create_body("Fault?", "\"callback\":{\"url\":\"http://127.0.0.1:9/cb\"}"));
    IT_STATUS_FATAL(r, 200);
    return json_object_get_string(hp_it_jget(r->json, "approval_id", NULL));
}

static const char *resolve_path(const char *aid)
{
    return hp_it_fmt("/v1/review/approvals/%s/resolve", aid);
}

static hp_it_resp *resolve_on(hp_it_api *api, const hp_it_team *t, const char *aid)
{
    return hp_it_send(api, &(hp_it_req){.method = "POST",
                                        .path = resolve_path(aid),
                                        .headers = hp_it_user_headers(t, true),
                                        .body = "{\"option_index\":0}"});
}

/* A decision is one statement, so it has no moment before its commit: the
 * API killed right after the commit, before its Redis publish and its
 * answer, leaves the decision made once with every effect, and another
 * replica refuses a second one. */
static void test_decide_crash(void)
{
    static const char *const env[] = {"HOLDPOINT_FAULTS=decide.after_commit=crash",
                                      "HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", NULL};
    hp_it_api *api = hp_it_api_start("faults-decide-crash", env);
    const hp_it_team *t = hp_it_team_new();
    const char *aid;
    hp_it_resp *r;

    IT_CHECK_FATAL(api != NULL, "API started");
    aid = create_on(api, t);
    r = resolve_on(api, t, aid);
    IT_CHECK(r->status == 0, "the crashing API answered %ld", r->status);
    IT_CHECK(hp_it_api_stop(api) == SIGKILLED, "the API did not die at the fault point");
    IT_CHECK(count_of("select count(*) from approvals where id = $1::uuid "
                      "and status = 'selected_option' and selected_option_index = 0",
                      aid) == 1,
             "the committed decision was lost");
    IT_CHECK(events(aid, "resolved") == 1, "resolved events after the crash");
    IT_CHECK(jobs_of(aid) == 1, "callback jobs after the crash");
    IT_CHECK(count_of("select count(*) from action_responses where approval_id = $1::uuid", aid) ==
                 1,
             "action responses after the crash");
    /* Another replica sees the decision and makes no second one. */
    IT_ERROR(resolve_on(NULL, t, aid), 409, "already_resolved");
    r = hp_it_send(NULL, &(hp_it_req){.method = "GET",
                                      .path = hp_it_fmt("/v1/review/approvals/%s", aid),
                                      .headers = hp_it_user_headers(t, false)});
    IT_STATUS(r, 200);
    IT_CHECK(strcmp(hp_it_jtext(hp_it_jget(r->json, "status", NULL)), "\"selected_option\"") == 0,
             "the other replica's result is %s, not the decision", hp_it_jtext(r->json));
    IT_CHECK(events(aid, "resolved") == 1, "resolved events after the second attempt");
    IT_CHECK(jobs_of(aid) == 1, "callback jobs after the second attempt");
}

static void test_expiry_crash(void)
{
    enum { N = 20 };
    it_agent a = it_agent_new();
    const char *const crash_env[] = {"HOLDPOINT_FAULTS=expiry.after_commit=crash", NULL};
    const char *const env[] = {NULL};
    const char *pending = "select count(*) from approvals where team_id = $1::uuid and status = "
                          "'pending'";
    const char *expired = "select count(*) from approval_events where team_id = $1::uuid and "
                          "kind = 'expired'";
    const char *jobs = "select count(*) from jobs where team_id = $1::uuid and kind = 'callback'";
    it_proc *w;

    /* Due a day ago: older than anything other suites left, so the first
     * batch (oldest deadline first) holds them. */
    for (int i = 0; i < N; i++)
        (void)it_approval_insert(&a, "now() - interval '1 day'", "http://127.0.0.1:9/cb");
    w = it_proc_start("holdpoint-timeout", "timeout-fault", crash_env);
    IT_CHECK(it_proc_wait(w, 20000) == SIGKILLED, "the timeout worker did not die at the fault");
    /* The batch committed before the crash: expired once, with its effects. */
    IT_CHECK(count_of(pending, a.team->team_id) == 0, "the committed batch is still pending");
    IT_CHECK(count_of(expired, a.team->team_id) == N, "expired events: want one per approval");
    IT_CHECK(count_of(jobs, a.team->team_id) == N, "callback jobs: want one per approval");
    /* The next worker finds nothing of it left to do: once it has expired
     * one more approval (so it has run), the counts grew by that one only. */
    w = it_proc_start("holdpoint-timeout", "timeout-after-fault", env);
    (void)it_approval_insert(&a, "now() - interval '1 second'", "http://127.0.0.1:9/cb");
    IT_CHECK(it_sql_wait(0, 20000, pending, a.team->team_id) == 0,
             "the next worker did not expire the new approval");
    IT_CHECK(it_proc_stop(w, 10000) == 0, "worker exit status");
    IT_CHECK(count_of(expired, a.team->team_id) == N + 1, "an approval expired twice");
    IT_CHECK(count_of(jobs, a.team->team_id) == N + 1, "a callback was queued twice");
}

/* Queues n callback jobs of a to r, due a day ago so that a worker's first
 * claim (oldest first) takes them before anything other suites left;
 * returns the job ids. */
static const char **queue_jobs(const it_agent *a, it_recv *r, int n)
{
    const char *ap = it_approval_insert(a, "now() + interval '1 day'", url_of(r));
    const char **ids = hp_it_track(calloc((size_t)n, sizeof(*ids)), free);
    for (int i = 0; i < n; i++)
        ids[i] = it_job_insert(a, ap, url_of(r), NULL, hp_it_fmt("{\"n\":%d}", i), 3);
    IT_CHECK_FATAL(hp_it_sql_exec("update jobs set run_at = now() - interval '1 day' "
                                  "where team_id = $1::uuid",
                                  a->team->team_id, (const char *)NULL),
                   "could not backdate the jobs");
    return ids;
}

/* How many requests r received with this webhook-id. */
static int received(it_recv *r, const char *webhook_id)
{
    int k = 0;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n; i++) {
        const char *id = it_rhdr(&r->reqs[i], "webhook-id");
        k += id != NULL && strcmp(id, webhook_id) == 0;
    }
    pthread_mutex_unlock(&r->mu);
    return k;
}

static void test_delivery_after_claim(void)
{
    enum { N = 5 };
    it_agent a = it_agent_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    const char **jobs = queue_jobs(&a, r, N);
    /* A 500 ms callback timeout makes the lease 6 s. */
    const char *const crash_env[] = {"HOLDPOINT_FAULTS=delivery.after_claim=crash",
                                     "HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1",
                                     "HOLDPOINT_CALLBACK_TIMEOUT_MS=500", NULL};
    const char *const env[] = {"HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1",
                               "HOLDPOINT_CALLBACK_TIMEOUT_MS=500", NULL};
    it_proc *w = it_proc_start("holdpoint-delivery", "delivery-claim-fault", crash_env);

    IT_CHECK(it_proc_wait(w, 20000) == SIGKILLED, "the delivery worker did not die at the fault");
    IT_CHECK(it_recv_count(r) == 0, "%d requests were sent before the fault", it_recv_count(r));
    IT_CHECK(count_of("select count(*) from jobs where team_id = $1::uuid and lease_until is not "
                      "null",
                      a.team->team_id) == N,
             "the claim did not lease the jobs");
    w = it_proc_start("holdpoint-delivery", "delivery-after-claim-fault", env);
    IT_CHECK(it_sql_wait(0, 30000,
                         "select count(*) from jobs where team_id = $1::uuid and state <> 'done'",
                         a.team->team_id) == 0,
             "jobs left undelivered after the leases ran out");
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
    for (int i = 0; i < N; i++) {
        const char *wid = hp_it_sql_str("select webhook_id from jobs where id = $1::bigint",
                                        jobs[i], (const char *)NULL);
        IT_CHECK(wid != NULL && received(r, wid) == 1, "job %s: received %d times, want once",
                 jobs[i], wid ? received(r, wid) : -1);
    }
}

static void test_delivery_after_send(void)
{
    enum { N = 5 };
    it_agent a = it_agent_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    const char **jobs = queue_jobs(&a, r, N);
    const char *const crash_env[] = {"HOLDPOINT_FAULTS=delivery.after_send=crash",
                                     "HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1",
                                     "HOLDPOINT_CALLBACK_TIMEOUT_MS=500", NULL};
    const char *const env[] = {"HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1",
                               "HOLDPOINT_CALLBACK_TIMEOUT_MS=500", NULL};
    it_proc *w = it_proc_start("holdpoint-delivery", "delivery-send-fault", crash_env);
    const char *first[N];
    int before, again = 0;

    IT_CHECK(it_proc_wait(w, 20000) == SIGKILLED, "the delivery worker did not die at the fault");
    before = it_recv_count(r);
    IT_CHECK_FATAL(before >= 1, "nothing was sent before the fault");
    /* What reached the receiver before the crash was never recorded. */
    IT_CHECK(count_of("select count(*) from jobs where team_id = $1::uuid and state = 'done'",
                      a.team->team_id) == 0,
             "an outcome was recorded before the fault");
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < before && i < N; i++)
        first[i] = hp_it_fmt("%s", it_rhdr(&r->reqs[i], "webhook-id"));
    pthread_mutex_unlock(&r->mu);
    w = it_proc_start("holdpoint-delivery", "delivery-after-send-fault", env);
    IT_CHECK(it_sql_wait(0, 30000,
                         "select count(*) from jobs where team_id = $1::uuid and state <> 'done'",
                         a.team->team_id) == 0,
             "jobs left undelivered after the crash");
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
    /* At least once, with a stable id: the ones sent before the crash came
     * again under the same webhook-id, and every job arrived. */
    for (int i = 0; i < before && i < N; i++)
        again += received(r, first[i]) >= 2;
    IT_CHECK(again == (before < N ? before : N), "%d of %d sent-before-the-crash came again", again,
             before);
    for (int i = 0; i < N; i++) {
        const char *wid = hp_it_sql_str("select webhook_id from jobs where id = $1::bigint",
                                        jobs[i], (const char *)NULL);
        IT_CHECK(wid != NULL && received(r, wid) >= 1, "job %s never arrived", jobs[i]);
    }
}

static void test_receiver_timeout_retried(void)
{
    it_agent a = it_agent_new();
    it_recv *r = it_recv_start(NULL, 0, 1500); /* answers after 1.5 s */
    const char **jobs = queue_jobs(&a, r, 1);
    const char *const env[] = {
        "HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", "HOLDPOINT_CALLBACK_TIMEOUT_MS=300",
        "HOLDPOINT_CALLBACK_BASE_DELAY_MS=100", "HOLDPOINT_CALLBACK_MAX_DELAY_MS=200", NULL};
    it_proc *w = it_proc_start("holdpoint-delivery", "delivery-timeouts", env);
    const char *wid = hp_it_sql_str("select webhook_id from jobs where id = $1::bigint", jobs[0],
                                    (const char *)NULL);

    IT_CHECK(it_sql_wait(0, 30000,
                         "select count(*) from jobs where id = $1::bigint and state = 'queued'",
                         jobs[0]) == 0,
             "the job is still queued");
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
    /* Like a 500: every attempt made (3), each recorded as failed, then the
     * job gives up; the receiver saw the same webhook-id each time. */
    IT_CHECK(count_of("select count(*) from job_attempts where job_id = $1::bigint and "
                      "finished_at is not null and http_status is null and error is not null",
                      jobs[0]) == 3,
             "want three timed-out attempts");
    IT_CHECK(count_of("select count(*) from jobs where id = $1::bigint and state = 'failed' and "
                      "attempts = 3",
                      jobs[0]) == 1,
             "the job did not end failed after three attempts");
    IT_CHECK(it_recv_wait(r, 3, 5000) && received(r, wid) == 3,
             "the receiver saw %d tries of %s, want 3", received(r, wid), wid);
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"decide.after_commit: a crash loses no decision, makes none twice", test_decide_crash},
        {"expiry.after_commit: a crash expires nothing twice", test_expiry_crash},
        {"delivery.after_claim: a crash loses no job", test_delivery_after_claim},
        {"delivery.after_send: a crash resends with the same id", test_delivery_after_send},
        {"a receiver that times out is retried like a 500", test_receiver_timeout_retried},
        {NULL, NULL},
    };
    if (it_schema_ready() != 0)
        return 1;
    return hp_it_main("faults", tests, NULL, NULL);
}
