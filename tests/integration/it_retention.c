/*
 * Retention (HOLDPOINT_RETENTION_DAYS, swept by holdpoint-timeout) removes
 * only what is closed and older than the age:
 *
 * - closed approvals resolved before the cutoff go, with their events, jobs
 *   and attempts, including a backlog of more than two batches;
 * - a closed approval that still has an undelivered (queued) job stays, and
 *   so does its job, also when the job is the project webhook of the
 *   approval's inbox response; a pending approval stays however old; a
 *   closed approval younger than the age stays;
 * - a finished job of no approval older than the age goes with its attempts;
 *   a queued one stays however old, and a younger finished one stays;
 * - with the variable unset nothing is removed;
 * - an approval's events cannot be deleted on their own.
 *
 * Fixtures are written in SQL with backdated times; the worker acts on every
 * team's rows, so this program runs alone (it starts holdpoint-timeout).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "hp_itest.h"
#include "it_workers.h"

#define DAYS "30"

/* Inserts an approval of t with request_id rid: status, resolved and created
 * that many days ago (resolved NULL for pending), expiring in a day, with a
 * 'created' event. Returns its id. (The harness ends parameters at NULL, so
 * "" stands for SQL null.) */
static const char *approval(const hp_it_team *t, const char *rid, const char *status,
                            const char *resolved_days, const char *created_days)
{
    const char *id = hp_it_sql_str(
        "insert into approvals (id, team_id, agent_id, request_id, request_id_supplied, "
        "question, context_markdown, options, timeout_seconds, timeout_mode, expires_at, "
        "canonical_hash, status, resolved_at, created_at, updated_at) values (gen_random_uuid(), "
        "$1, $2, $3, true, 'Kept?', 'ctx', '[{\"label\":\"Yes\",\"value\":\"y\"}]', 60, "
        "'expire_no_action', now() + interval '1 day', '\\x00', $4, "
        "now() - nullif($5, '')::int * interval '1 day', now() - $6::int * interval '1 day', "
        "now()) "
        "returning id::text",
        t->team_id, t->agent_id, rid, status, resolved_days ? resolved_days : "", created_days,
        (const char *)NULL);
    IT_CHECK_FATAL(id != NULL, "insert approval %s", rid);
    IT_CHECK_FATAL(hp_it_sql_exec("insert into approval_events (approval_id, team_id, kind, "
                                  "actor_type) values ($1, $2, 'created', 'agent')",
                                  id, t->team_id, (const char *)NULL),
                   "insert event");
    return id;
}

/* Inserts attempt 1 of job id, finished that many days ago. */
static void attempt(const char *id, const char *days)
{
    IT_CHECK_FATAL(hp_it_sql_exec("insert into job_attempts (job_id, attempt, worker, started_at, "
                                  "finished_at, http_status) values ($1::bigint, 1, 'it', "
                                  "now() - $2::int * interval '1 day', "
                                  "now() - $2::int * interval '1 day', 200)",
                                  id, days, (const char *)NULL),
                   "insert attempt");
}

/* Inserts a callback job (of approval_id, or of none when NULL) in state,
 * last changed that many days ago, due in a day, with one attempt. Returns
 * its id. */
static const char *job(const hp_it_team *t, const char *approval_id, const char *state,
                       const char *days)
{
    const char *id = hp_it_sql_str(
        "insert into jobs (team_id, kind, approval_id, agent_id, url, body, webhook_id, "
        "max_attempts, state, run_at, attempts, updated_at, created_at) values ($1, 'callback', "
        "nullif($2, '')::uuid, $3, 'https://example.com/hook', '{}', 'msg_' || gen_random_uuid(), "
        "3, $4, "
        "now() + interval '1 day', 1, now() - $5::int * interval '1 day', "
        "now() - $5::int * interval '1 day') returning id::text",
        t->team_id, approval_id ? approval_id : "", t->agent_id, state, days, (const char *)NULL);
    IT_CHECK_FATAL(id != NULL, "insert job");
    attempt(id, days);
    return id;
}

/* Inserts the inbox response of approval_id and its project webhook (a job
 * of no approval, rendered from the response at delivery, as decisions
 * queue it) in state, last changed that many days ago, with one attempt.
 * Returns the job's id. */
static const char *response_job(const hp_it_team *t, const char *approval_id, const char *state,
                                const char *days)
{
    const char *rid = hp_it_sql_str(
        "insert into action_responses (id, team_id, agent_id, seq, notification_id, approval_id, "
        "kind, action, notification_title, notification_message, decided_at) "
        "select gen_random_uuid(), $1::uuid, $2::uuid, coalesce(max(seq), 0) + 1, $3::uuid, "
        "$3::uuid, 'button', 'button_pressed', 'Kept?', 'ctx', now() - $4::int * interval '1 day' "
        "from action_responses where agent_id = $2 returning id::text",
        t->team_id, t->agent_id, approval_id, days, (const char *)NULL);
    IT_CHECK_FATAL(rid != NULL, "insert action response");
    const char *id = hp_it_sql_str(
        "insert into jobs (team_id, kind, agent_id, url, body, webhook_id, max_attempts, "
        "response_id, state, run_at, attempts, updated_at, created_at) values ($1, "
        "'project_webhook', $2, 'https://example.com/project', null, 'msg_' || $3::text, 3, "
        "$3::text::uuid, $4, now() + interval '1 day', 1, now() - $5::int * interval '1 day', "
        "now() - $5::int * interval '1 day') returning id::text",
        t->team_id, t->agent_id, rid, state, days, (const char *)NULL);
    IT_CHECK_FATAL(id != NULL, "insert project webhook job");
    attempt(id, days);
    return id;
}

static long long responses_of(const char *approval_id)
{
    return hp_it_sql_int("select count(*) from action_responses where approval_id = $1::uuid",
                         approval_id, (const char *)NULL);
}

static long long count(const char *sql, const char *p)
{
    return hp_it_sql_int(sql, p, (const char *)NULL);
}

static bool approval_kept(const char *id)
{
    return count("select count(*) from approvals where id = $1::uuid", id) == 1 &&
           count("select count(*) from approval_events where approval_id = $1::uuid", id) == 1;
}

static bool approval_gone(const char *id)
{
    return count("select count(*) from approvals where id = $1::uuid", id) == 0 &&
           count("select count(*) from approval_events where approval_id = $1::uuid", id) == 0;
}

static bool job_kept(const char *id)
{
    return count("select count(*) from jobs where id = $1::bigint", id) == 1 &&
           count("select count(*) from job_attempts where job_id = $1::bigint", id) == 1;
}

static bool job_gone(const char *id)
{
    return count("select count(*) from jobs where id = $1::bigint", id) == 0 &&
           count("select count(*) from job_attempts where job_id = $1::bigint", id) == 0;
}

static it_proc *start_worker(const char *label, const char *const *extra, int *port)
{
    *port = it_free_port();
    const char *env[] = {hp_it_fmt("HOLDPOINT_METRICS_LISTEN=127.0.0.1:%d", *port),
                         "HOLDPOINT_LOG_LEVEL=debug", extra ? extra[0] : NULL, NULL};
    it_proc *w = it_proc_start("holdpoint-timeout", label, env);
    IT_CHECK_FATAL(it_get_until_200(hp_it_fmt("http://127.0.0.1:%d/healthz", *port), 10000) == 200,
                   "holdpoint-timeout did not come up");
    return w;
}

/* Waits until the worker's log holds needle (up to 20 s). */
static bool wait_log(it_proc *w, const char *needle)
{
    for (int i = 0; i < 400; i++) {
        if (it_proc_log_count(w, needle) > 0)
            return true;
        hp_it_sleep_ms(50);
    }
    it_proc_dump(w);
    return false;
}

static void test_sweep(void)
{
    const hp_it_team *t = hp_it_team_new();
    /* Closed past the age: removed, with history, jobs and attempts. */
    const char *old_closed = approval(t, "old-closed", "selected_option", "40", "41");
    const char *old_closed_job = job(t, old_closed, "done", "40");
    const char *old_expired = approval(t, "old-expired", "expired", "45", "46");
    /* Kept: undelivered, pending, younger than the age. */
    const char *undelivered = approval(t, "old-undelivered", "selected_option", "40", "41");
    const char *undelivered_job = job(t, undelivered, "queued", "40");
    const char *pending = approval(t, "old-pending", "pending", NULL, "400");
    const char *young = approval(t, "young-closed", "cancelled", "10", "11");
    const char *young_job = job(t, young, "failed", "10");
    /* Closed past the age, with an inbox response whose project webhook is
     * still queued (kept) or was delivered (removed with it). */
    const char *resp_queued = approval(t, "old-response-queued", "selected_option", "40", "41");
    const char *resp_queued_job = response_job(t, resp_queued, "queued", "40");
    const char *resp_done = approval(t, "old-response-done", "selected_option", "40", "41");
    const char *resp_done_job = response_job(t, resp_done, "done", "40");
    /* Jobs of no approval. */
    const char *free_done = job(t, NULL, "done", "40");
    const char *free_failed = job(t, NULL, "failed", "35");
    const char *free_queued = job(t, NULL, "queued", "40");
    const char *free_young = job(t, NULL, "failed", "10");
    /* A backlog of more than two batches. */
    IT_CHECK_FATAL(
        hp_it_sql_exec(
            "insert into approvals (id, team_id, agent_id, request_id, request_id_supplied, "
            "question, context_markdown, options, timeout_seconds, timeout_mode, expires_at, "
            "canonical_hash, status, resolved_at, created_at) select gen_random_uuid(), $1, $2, "
            "'bulk-' || g, true, 'q?', 'ctx', '[{\"label\":\"Yes\",\"value\":\"y\"}]', 60, "
            "'expire_no_action', now() - interval '50 days', '\\x00', 'expired', "
            "now() - interval '50 days', now() - interval '51 days' "
            "from generate_series(1, 1100) g",
            t->team_id, t->agent_id, (const char *)NULL),
        "insert the backlog");
    const char *bulk = "select count(*) from approvals where team_id = $1::uuid and "
                       "request_id like 'bulk-%'";

    /* Without HOLDPOINT_RETENTION_DAYS nothing is removed: the first
     * cycle (which would run a sweep) ends and everything is still there. */
    int port;
    it_proc *w = start_worker("retention-off", NULL, &port);
    IT_CHECK(wait_log(w, "sleeping until the next deadline"), "the worker did not sleep");
    IT_CHECK(it_proc_log_count(w, "retention on") == 0, "retention on without the variable");
    IT_CHECK(approval_kept(old_closed) && job_kept(old_closed_job) && job_kept(free_done),
             "rows removed with retention off");
    IT_CHECK(count(bulk, t->team_id) == 1100, "backlog touched with retention off");
    IT_CHECK(it_proc_stop(w, 10000) == 0, "holdpoint-timeout did not exit cleanly");

    const char *days[] = {"HOLDPOINT_RETENTION_DAYS=" DAYS};
    w = start_worker("retention", days, &port);
    IT_CHECK(wait_log(w, "retention sweep removed closed rows"), "no sweep finished");
    IT_CHECK(it_proc_log_count(w, "retention sweep removed closed rows") == 1,
             "the backlog took more than one sweep (batches must continue)");

    IT_CHECK(approval_gone(old_closed), "closed approval past the age kept");
    IT_CHECK(job_gone(old_closed_job), "its finished job (or attempt) kept");
    IT_CHECK(approval_gone(old_expired), "expired approval past the age kept");
    IT_CHECK(count(bulk, t->team_id) == 0, "%lld of the backlog left", count(bulk, t->team_id));

    IT_CHECK(approval_kept(undelivered), "closed approval with a queued job removed");
    IT_CHECK(job_kept(undelivered_job), "undelivered job removed");
    IT_CHECK(approval_kept(pending), "pending approval removed");
    IT_CHECK(count("select count(*) from approvals where id = $1::uuid and status = 'pending'",
                   pending) == 1,
             "pending approval changed");
    IT_CHECK(approval_kept(young), "closed approval younger than the age removed");
    IT_CHECK(job_kept(young_job), "job of a kept approval removed");
    IT_CHECK(approval_kept(resp_queued) && responses_of(resp_queued) == 1,
             "closed approval whose response's project webhook is queued removed");
    IT_CHECK(job_kept(resp_queued_job), "queued project webhook removed");
    IT_CHECK(approval_gone(resp_done) && responses_of(resp_done) == 0,
             "closed approval with a delivered project webhook kept");
    IT_CHECK(job_gone(resp_done_job), "delivered project webhook of a removed approval kept");

    IT_CHECK(job_gone(free_done), "finished job of no approval past the age kept");
    IT_CHECK(job_gone(free_failed), "failed job of no approval past the age kept");
    IT_CHECK(job_kept(free_queued), "queued job of no approval removed");
    IT_CHECK(job_kept(free_young), "finished job younger than the age removed");

    const char *m = it_get_text(hp_it_fmt("http://127.0.0.1:%d/metrics", port));
    const char *a = m ? strstr(m, "holdpoint_retention_deleted_total{table=\"approvals\"} ") : NULL;
    const char *j = m ? strstr(m, "holdpoint_retention_deleted_total{table=\"jobs\"} ") : NULL;
    IT_CHECK(a != NULL && atof(strchr(a, ' ') + 1) >= 1103,
             "holdpoint_retention_deleted_total for approvals below 1103: %s", a ? a : "(none)");
    IT_CHECK(j != NULL && atof(strchr(j, ' ') + 1) >= 2,
             "holdpoint_retention_deleted_total for jobs below 2: %s", j ? j : "(none)");
    IT_CHECK(it_proc_stop(w, 10000) == 0, "holdpoint-timeout did not exit cleanly");

    /* The test's leftovers would otherwise reach later workers. */
    IT_CHECK(
        hp_it_sql_exec("delete from jobs where team_id = $1::uuid", t->team_id, (const char *)NULL),
        "cleanup jobs");
    IT_CHECK(hp_it_sql_exec("delete from approvals where team_id = $1::uuid", t->team_id,
                            (const char *)NULL),
             "cleanup approvals");
}

/* The trail of an approval goes only with the approval. */
static void test_events_not_deleted_alone(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *id = approval(t, "trail", "selected_option", "1", "2");
    PGconn *pg = PQconnectdb(hp_it_env("HOLDPOINT_DATABASE_URL"));
    const char *p[] = {id};
    PGresult *r;

    IT_CHECK_FATAL(PQstatus(pg) == CONNECTION_OK, "connect: %s", PQerrorMessage(pg));
    r = PQexecParams(pg, "delete from approval_events where approval_id = $1::uuid", 1, NULL, p,
                     NULL, NULL, 0);
    IT_CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR &&
                 strstr(PQerrorMessage(pg), "removed only with their approval") != NULL,
             "deleting an approval's events alone was not refused: %s", PQerrorMessage(pg));
    PQclear(r);
    PQfinish(pg);
    IT_CHECK(approval_kept(id), "the events are gone");
    /* With the approval they go. */
    IT_CHECK(hp_it_sql_exec("delete from approvals where id = $1::uuid", id, (const char *)NULL),
             "delete the approval");
    IT_CHECK(approval_gone(id), "the events outlived their approval");
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"sweep", test_sweep},
        {"events_not_deleted_alone", test_events_not_deleted_alone},
        {NULL, NULL},
    };
    return hp_it_main("retention", tests, NULL, NULL);
}
