/*
 * hp_store_jobs: the outbox SQL of holdpoint-delivery. Each function is one
 * statement with data-modifying CTEs, so a claim (lease + attempt count +
 * attempt row) or an outcome (job state + attempt row + approval delivery
 * fields + audit event) commits whole or not at all without an explicit
 * transaction. Outcome writes match on leased_by: a worker whose lease ran out
 * and was taken over can no longer change the job, only log its attempt.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hp_buf.h"
#include "hp_mem.h"
#include "hp_store_approval.h"
#include "hp_store_inbox.h"
#include "hp_store_jobs.h"
#include "hp_str.h"

hp_err hp_store_jobs_claim(hp_dbconn *c, hp_pool *pool, const char *worker, int limit, int lease_ms,
                           hp_job **jobs, int *n, char *err, size_t errcap)
{
    /* A job queued without a body (an expiry batch's callbacks and
     * project webhooks) brings the row its body is rendered from: the
     * closed approval, or the action response.
     *
     * The due jobs are read in jobs_claim_idx order and the scan stops at
     * the limit, whatever the queue's length. The planner's statistics lag
     * a burst of queued jobs (an expiry batch, a bulk import) until the
     * next autoanalyze; believing the queue small, it chose a bitmap scan
     * of the whole queue and a sort per claim — 38 ms per claim of 16 at a
     * backlog of 20000, growing with it. Bitmap scans are therefore off for
     * this one transaction (SET LOCAL; it holds through PgBouncer in
     * transaction mode too). */
    static const char sql[] =
        "with due as (select id from jobs where state = 'queued' and run_at <= now() "
        "  and (lease_until is null or lease_until <= now()) "
        "  order by run_at, id limit $1 for update skip locked), "
        "claimed as (update jobs j set attempts = j.attempts + 1, leased_by = $3, "
        "  lease_until = now() + $2::int * interval '1 millisecond', updated_at = now() "
        "  from due where j.id = due.id returning j.*), "
        "att as (insert into job_attempts (job_id, attempt, worker) "
        "  select id, attempts, $3 from claimed returning id, job_id) "
        "select k.id, k.team_id, k.approval_id, k.agent_id, k.url, k.headers::text, k.body, "
        "  k.webhook_id, k.attempts, k.max_attempts, g.callback_auth_header, "
        "  g.callback_auth_value_sealed, g.webhook_secret_sealed, att.id, k.kind, "
        "  k.channel_id, ch.kind, ch.config::text, ch.secret_sealed, k.subscription_id, "
        "  ps.p256dh, ps.auth_sealed, "
        "  k.only_pending and ap.status is distinct from 'pending', "
        "  " HP_STORE_APPROVAL_COLS ", g.name, " HP_STORE_INBOX_COLS " "
        "from claimed k join att on att.job_id = k.id left join agents g on g.id = k.agent_id "
        "left join channels ch on ch.id = k.channel_id "
        "left join push_subscriptions ps on ps.id = k.subscription_id "
        "left join approvals ap on k.only_pending and ap.id = k.approval_id "
        "left join approvals a on k.body is null and k.response_id is null "
        "  and a.id = k.approval_id "
        "left join action_responses r on k.body is null and r.id = k.response_id "
        "order by k.run_at, k.id";
    char lim[16], lease[16];
    const char *p[] = {lim, lease, worker};
    PGresult *r = NULL;
    hp_err rc;

    (void)hp_fmt(lim, sizeof(lim), "%d", limit);
    (void)hp_fmt(lease, sizeof(lease), "%d", lease_ms);
    rc = hp_db_exec_script(c, "begin; set local enable_bitmapscan = off", err, errcap);
    if (rc == HP_OK)
        rc = hp_db_exec(c, &r, sql, 3, p, err, errcap);
    rc = hp_db_finish(c, rc, err, errcap);
    if (rc != HP_OK) {
        PQclear(r);
        return rc;
    }
    *jobs = hp_db_keep_rows(pool, r, sizeof(**jobs), n);
    for (int i = 0; i < *n; i++) {
        hp_job *j = &(*jobs)[i];
        int k = 0;
        memset(j, 0, sizeof(*j));
        j->id = hp_db_val(r, i, k++);
        j->team_id = hp_db_val(r, i, k++);
        j->approval_id = hp_db_val(r, i, k++);
        j->agent_id = hp_db_val(r, i, k++);
        j->url = hp_db_val(r, i, k++);
        j->headers = hp_db_val(r, i, k++);
        j->body = hp_db_val(r, i, k++);
        j->webhook_id = hp_db_val(r, i, k++);
        j->attempt = (int)hp_db_ll(r, i, k++, 1);
        j->max_attempts = (int)hp_db_ll(r, i, k++, 1);
        j->auth_header = hp_db_val(r, i, k++);
        j->auth_value_sealed = hp_db_val(r, i, k++);
        j->secret_sealed = hp_db_val(r, i, k++);
        j->attempt_id = hp_db_val(r, i, k++);
        j->kind = hp_db_val(r, i, k++);
        j->channel_id = hp_db_val(r, i, k++);
        j->channel_kind = hp_db_val(r, i, k++);
        j->channel_config = hp_db_val(r, i, k++);
        j->channel_secret_sealed = hp_db_val(r, i, k++);
        j->subscription_id = hp_db_val(r, i, k++);
        j->sub_p256dh = hp_db_val(r, i, k++);
        j->sub_auth_sealed = hp_db_val(r, i, k++);
        j->approval_closed = hp_db_bool(r, i, k++);
        if (!PQgetisnull(r, i, k)) {
            j->approval = hp_pool_alloc(pool, sizeof(*j->approval));
            hp_store_approval_read(pool, r, i, k, j->approval);
        }
        k += HP_STORE_APPROVAL_NCOLS + 1;
        if (!PQgetisnull(r, i, k)) {
            j->response = hp_pool_alloc(pool, sizeof(*j->response));
            hp_store_inbox_read(NULL, r, i, k, j->response);
        }
    }
    return HP_OK;
}

/* Appends one element of a PostgreSQL array literal: NULL, or the text
 * double-quoted with backslash and quote escaped. */
static void hp__array_elem(hp_buf *b, bool first, const char *v)
{
    hp_err rc = hp_buf_puts(b, first ? "" : ",");

    if (v == NULL) {
        rc = rc == HP_OK ? hp_buf_puts(b, "NULL") : rc;
    } else {
        rc = rc == HP_OK ? hp_buf_puts(b, "\"") : rc;
        for (const char *p = v; rc == HP_OK && *p != '\0'; p++) {
            if (*p == '"' || *p == '\\')
                rc = hp_buf_append(b, "\\", 1);
            rc = rc == HP_OK ? hp_buf_append(b, p, 1) : rc;
        }
        rc = rc == HP_OK ? hp_buf_puts(b, "\"") : rc;
    }
    if (rc != HP_OK)
        abort(); /* the buffers are uncapped */
}

hp_err hp_store_jobs_finish(hp_dbconn *c, const char *worker, hp_job_result *rs, int n, char *err,
                            size_t errcap)
{
    /* $1..$7 are parallel arrays, one element per attempt (job id, attempt
     * id, outcome, HTTP status, error, duration, retry delay); $8 is the
     * worker. The job update matches on leased_by, and everything about the
     * approval or the channel reads from its RETURNING, so a worker that
     * lost its lease changes nothing but its attempt row. Outcomes: 0
     * delivered, 1 retry, 2 failed, 3 skipped. Approval fields and events
     * are for callbacks (not for notifications: notify and channel jobs);
     * channel jobs record their channel's (and subscription's) last success
     * or error instead — a 404 or 410 from a push service is left to
     * hp_store_fanout_push_gone, which removes the subscription.
     *
     * The approval's delivery fields are written without touching its
     * updated_at: they are not part of what the reviewers' change feed
     * sends, and no indexed column changing lets PostgreSQL write the new
     * version as a heap-only tuple (sql/011_approvals_fillfactor.sql).
     *
     * Each job and attempt row is found by its primary key, whatever the
     * queue's length and however stale the planner's statistics: unnest()
     * of the arrays is estimated at their real length, and the job update
     * names no state. leased_by is set only by a claim and cleared by every
     * change out of 'queued', so "leased_by = $8" alone means "still ours
     * and still queued"; naming state = 'queued' as well let the planner
     * answer from the partial claim index — a scan of the whole queue per
     * batch when its statistics said the queue was small. */
    static const char sql[] =
        "with r as (select * from unnest($1::bigint[], $2::bigint[], $3::int[], $4::int[], "
        "  $5::text[], $6::int[], $7::bigint[]) as r(job_id, attempt_id, outcome, http_status, "
        "  error, duration_ms, retry_ms)), "
        "j as (update jobs set state = case r.outcome when 0 then 'done' when 2 then 'failed' "
        "  when 3 then 'done' else 'queued' end, lease_until = null, leased_by = null, "
        "  last_error = r.error, "
        "  run_at = case when r.outcome = 1 then now() + r.retry_ms * interval '1 millisecond' "
        "  else jobs.run_at end, updated_at = now() "
        "  from r where jobs.id = r.job_id and jobs.leased_by = $8 "
        "  returning jobs.id, jobs.approval_id, jobs.team_id, jobs.attempts, jobs.kind, "
        "  jobs.channel_id, jobs.subscription_id, r.outcome, r.http_status, r.error), "
        "a as (update job_attempts set finished_at = now(), http_status = r.http_status, "
        "  error = r.error, duration_ms = r.duration_ms from r where job_attempts.id = "
        "  r.attempt_id), "
        "ap as (update approvals set result_delivery_status = case j.outcome when 0 then "
        "  'delivered' else 'failed' end, result_delivery_error = case j.outcome when 0 then "
        "  null else j.error end from j where approvals.id = j.approval_id "
        "  and j.channel_id is null and j.kind <> 'notify' and j.outcome in (0, 2)), "
        "ev as (insert into approval_events (approval_id, team_id, kind, actor_type, actor_id, "
        "  data) select j.approval_id, j.team_id, case j.outcome when 0 then "
        "  'callback_delivered' else 'callback_failed' end, 'system', $8, "
        "  jsonb_strip_nulls(jsonb_build_object('job_id', j.id, 'attempt', j.attempts, "
        "  'http_status', j.http_status, 'error', j.error)) "
        "  from j where j.approval_id is not null and j.channel_id is null "
        "  and j.kind <> 'notify' "
        "  and j.outcome in (0, 2)), "
        "ch as (update channels set last_success_at = case when j.outcome = 0 then now() else "
        "  channels.last_success_at end, last_error_at = case when j.outcome in (1, 2) then "
        "  now() else channels.last_error_at end, last_error = case when j.outcome in (1, 2) "
        "  then j.error else channels.last_error end from j "
        "  where channels.id = j.channel_id and j.outcome in (0, 1, 2)), "
        "ps as (update push_subscriptions set last_success_at = case when j.outcome = 0 then "
        "  now() else push_subscriptions.last_success_at end, last_error_at = case when "
        "  j.outcome in (1, 2) then now() else push_subscriptions.last_error_at end, "
        "  last_error = case when j.outcome in (1, 2) then j.error else "
        "  push_subscriptions.last_error end from j where push_subscriptions.id = "
        "  j.subscription_id and j.outcome in (0, 1, 2) "
        "  and coalesce(j.http_status, 0) not in (404, 410)) "
        "select id from j";
    hp_buf arr[7];
    const char *p[8];
    PGresult *r = NULL;
    hp_err rc;

    for (int k = 0; k < 7; k++) {
        hp_buf_init(&arr[k], SIZE_MAX);
        if (hp_buf_puts(&arr[k], "{") != HP_OK)
            abort();
    }
    for (int i = 0; i < n; i++) {
        char num[5][24];
        (void)hp_fmt(num[0], sizeof(num[0]), "%d", (int)rs[i].outcome);
        (void)hp_fmt(num[1], sizeof(num[1]), "%d", rs[i].http_status);
        (void)hp_fmt(num[2], sizeof(num[2]), "%d", rs[i].duration_ms);
        (void)hp_fmt(num[3], sizeof(num[3]), "%lld", (long long)rs[i].retry_ms);
        hp__array_elem(&arr[0], i == 0, rs[i].job->id);
        hp__array_elem(&arr[1], i == 0, rs[i].job->attempt_id);
        hp__array_elem(&arr[2], i == 0, num[0]);
        hp__array_elem(&arr[3], i == 0, rs[i].http_status > 0 ? num[1] : NULL);
        hp__array_elem(&arr[4], i == 0, rs[i].error);
        hp__array_elem(&arr[5], i == 0, num[2]);
        hp__array_elem(&arr[6], i == 0, num[3]);
        rs[i].lease_held = false;
    }
    for (int k = 0; k < 7; k++) {
        if (hp_buf_puts(&arr[k], "}") != HP_OK)
            abort();
        p[k] = arr[k].data;
    }
    p[7] = worker;
    rc = hp_db_exec(c, &r, sql, 8, p, err, errcap);
    for (int row = 0; rc == HP_OK && row < PQntuples(r); row++)
        for (int i = 0; i < n; i++)
            if (strcmp(rs[i].job->id, PQgetvalue(r, row, 0)) == 0)
                rs[i].lease_held = true;
    PQclear(r);
    for (int k = 0; k < 7; k++)
        hp_buf_free(&arr[k]);
    return rc;
}

hp_err hp_store_jobs_release(hp_dbconn *c, const char *worker, const char *const *ids, int n,
                             char *err, size_t errcap)
{
    static const char sql[] =
        "with j as (update jobs set lease_until = null, leased_by = null, "
        "  attempts = greatest(attempts - 1, 0), updated_at = now() "
        "  where id = any($1::bigint[]) and leased_by = $2 and state = 'queued' returning id) "
        "update job_attempts set finished_at = now(), error = 'released at shutdown' "
        "where job_id in (select id from j) and worker = $2 and finished_at is null";
    char *arr;
    size_t len = 3;
    hp_err rc;

    if (n <= 0)
        return HP_OK;
    for (int i = 0; i < n; i++)
        len += strlen(ids[i]) + 1;
    arr = hp_xmalloc(len);
    arr[0] = '{';
    arr[1] = '\0';
    for (int i = 0; i < n; i++) {
        size_t off = strlen(arr);
        (void)hp_fmt(arr + off, len - off, "%s%s", i ? "," : "", ids[i]);
    }
    {
        size_t off = strlen(arr);
        (void)hp_fmt(arr + off, len - off, "}");
    }
    const char *p[] = {arr, worker};
    rc = hp_db_exec(c, NULL, sql, 2, p, err, errcap);
    free(arr);
    return rc;
}

hp_err hp_store_jobs_next_ms(hp_dbconn *c, int64_t *ms, char *err, size_t errcap)
{
    /* A queued job becomes claimable at the later of its run_at and its
     * lease expiry. Unleased jobs come from jobs_claim_idx in run_at order;
     * leased ones (only what is in flight) from jobs_lease_idx. */
    /* Careful: greatest() and least() ignore NULLs, so "nothing queued" must
     * be tested explicitly (-1), not left to greatest(0, NULL) = 0, which
     * would make an idle worker claim in a tight loop. */
    static const char sql[] =
        "select case when t is null then -1 else greatest(0, ceil(extract(epoch from "
        "t - clock_timestamp()) * 1000))::bigint end from (select least("
        "(select min(run_at) from jobs where state = 'queued' and lease_until is null), "
        "(select min(greatest(run_at, lease_until)) from jobs where state = 'queued' "
        "and lease_until is not null)) as t) s";
    PGresult *r;
    hp_err rc = hp_db_exec(c, &r, sql, 0, NULL, err, errcap);

    if (rc != HP_OK)
        return rc;
    *ms = hp_db_ll(r, 0, 0, -1);
    PQclear(r);
    return HP_OK;
}

hp_err hp_store_jobs_queued_count(hp_dbconn *c, long long *n, char *err, size_t errcap)
{
    PGresult *r;
    hp_err rc =
        hp_db_exec(c, &r, "select count(*) from jobs where state = 'queued'", 0, NULL, err, errcap);
    if (rc != HP_OK)
        return rc;
    *n = hp_db_ll(r, 0, 0, 0);
    PQclear(r);
    return HP_OK;
}
