/*
 * holdpoint-delivery: sends every outbound request from the jobs outbox:
 * approval callbacks, and channel notifications (a "notify" job is expanded
 * into one job per destination on a prep thread, see delivery_fanout.c;
 * the senders are in delivery_channel.c).
 *
 * One thread runs one libcurl multi handle with up to
 * HOLDPOINT_DELIVERY_CONCURRENCY transfers and never waits for the database:
 * a claiming thread claims due jobs ahead of free slots (FOR UPDATE SKIP
 * LOCKED plus a lease longer than any attempt can take, up to one slot's
 * worth of jobs waiting) and renders the bodies of jobs queued without one;
 * a recording thread records ended attempts in batches, each thread on its
 * own connection. The loop moves ready jobs into free slots, starts their
 * signed requests, hands each ended attempt back, and sleeps in
 * curl_multi_poll() on the transfers, the ready pipe, the LISTEN hp_jobs
 * socket and the signal pipe. The claiming thread sleeps until the
 * next job becomes due (its run_at or an expired lease), a NOTIFY, or room
 * for a claim. There is no fixed polling interval.
 *
 * Ended attempts are recorded together in one statement (attempt rows, job
 * states, approval delivery fields, audit events) guarded by the lease.
 * Crash: the lease runs out and any copy sends the job again with the same
 * webhook-id (at-least-once). SIGTERM: claiming stops, in-flight transfers
 * finish (each is bounded by HOLDPOINT_CALLBACK_TIMEOUT_MS) and are
 * recorded; whatever is still running after that bound is aborted and its
 * lease released, as are the leases of claimed jobs that never got a slot;
 * exit 0. See docs/internals/delivery.md.
 *
 * With HOLDPOINT_METRICS_LISTEN set it serves /metrics: claims, and outcomes
 * counted once their record (under the lease) commits; attempt durations;
 * in-flight sends; the outbox depth (one count at scrape time) and the pool.
 */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "delivery.h"
#include "hp_config.h"
#include "hp_fault.h"
#include "hp_crypto.h"
#include "hp_db.h"
#include "hp_httpd_mini.h"
#include "hp_log.h"
#include "hp_metrics.h"
#include "hp_mem.h"
#include "hp_str.h"
#include "hp_time.h"
#include "hp_store_fanout.h"
#include "hp_wake.h"
#include "hp_webhook.h"
#include "hp_worker.h"

/* Attempts beyond max_attempts that a job may get when earlier attempts were
 * lost with their worker (SIGKILL mid-send): at-least-once wins over the
 * limit, but a job that kills every worker that touches it still stops. */
#define DLV_LOST_GRACE 2

/* A claimed job waiting for a free slot, with the pool its strings live in;
 * unrenderable when its body could not be rendered. */
typedef struct dlv_ready {
    hp_pool *pool;
    hp_job job;
    bool unrenderable;
} dlv_ready;

/* An attempt that ended, handed from the loop to the recording thread: the
 * whole slot (its job, pool and easy handle, no longer in the multi handle)
 * and how it ended. */
typedef struct dlv_ended {
    dlv_slot slot;
    dlv_result res;
} dlv_ended;

typedef struct dlv_app {
    const hp_config *cfg;
    hp_db *db;
    hp_urlpolicy *policy;
    CURLM *multi;
    dlv_slot *slots;
    int nslots;
    dlv_prep *prep;  /* threads that resolve, check and sign */
    dlv_slot **done; /* scratch: slots taken back from the prep threads */
    int busy;
    char worker[96];
    int sigfd;
    PGconn *listen;
    int lease_ms;
    int claim_min; /* free places that justify a claim */
    _Atomic bool db_down;
    bool stopping;
    hp_metrics *metrics; /* NULL without a metrics listener */
    /* Two database threads, so no statement ever blocks the loop's
     * transfers: one records ended attempts in batches (dlv_db_recorder),
     * the other claims jobs ahead of free slots (dlv_db_claimer). Everything
     * below is guarded by dmu; dcv wakes both (broadcast). */
    pthread_t record_thread, claim_thread;
    pthread_mutex_t dmu;
    pthread_cond_t dcv;
    dlv_ready *ready; /* claimed jobs waiting for a slot: a ring of nslots */
    int nready, ready_head;
    dlv_ended **ended; /* ended attempts waiting to be recorded */
    int nended, ended_cap;
    int64_t next_claim_ms; /* monotonic; INT64_MAX = only on a notification */
    unsigned wakes;        /* notifications (and retries) seen, to tell them from a claim's plan */
    bool listening;        /* the loop's LISTEN is up: claims may wait for NOTIFY */
    bool claiming;         /* false once stopping */
    bool db_quit;          /* the loop handed over everything: finish and exit */
    int ready_pipe[2];     /* the claiming thread wakes the loop: jobs are ready */
} dlv_app;

static void dlv_db_error(dlv_app *app, const char *msg, const char *err)
{
    if (!atomic_exchange(&app->db_down, true))
        hp_log_error(msg, "reason", err, "worker", app->worker);
}

static void dlv_db_ok(dlv_app *app)
{
    if (atomic_exchange(&app->db_down, false))
        hp_log_info("postgresql reachable again", "worker", app->worker);
}

/* Publishes app->busy; the loop thread owns it, scrapes read the copy. */
static void dlv_metrics_in_flight(dlv_app *app)
{
    if (app->metrics != NULL)
        hp_metrics_set(app->metrics, "holdpoint_jobs_in_flight", NULL, (double)app->busy);
}

/* Logs one attempt with its context (never the URL's query, headers or
 * body). */
static void dlv_log_attempt(dlv_app *app, const hp_job *j, hp_job_outcome o, const dlv_result *res,
                            int duration_ms, int64_t retry_ms)
{
    json_object *f = json_object_new_object();
    hp_log_level level = o == HP_JOB_DELIVERED ? HP_LOG_INFO
                         : o == HP_JOB_RETRY   ? HP_LOG_WARN
                                               : HP_LOG_ERROR;

    json_object_object_add(f, "job_id", json_object_new_string(j->id));
    if (j->approval_id != NULL)
        json_object_object_add(f, "approval_id", json_object_new_string(j->approval_id));
    json_object_object_add(f, "team_id", json_object_new_string(j->team_id));
    json_object_object_add(f, "webhook_id", json_object_new_string(j->webhook_id));
    json_object_object_add(f, "attempt", json_object_new_int(j->attempt));
    json_object_object_add(f, "max_attempts", json_object_new_int(j->max_attempts));
    if (res->http_status > 0)
        json_object_object_add(f, "http_status", json_object_new_int(res->http_status));
    if (res->error[0] != '\0')
        json_object_object_add(f, "reason", json_object_new_string(res->error));
    json_object_object_add(f, "duration_ms", json_object_new_int(duration_ms));
    if (o == HP_JOB_RETRY)
        json_object_object_add(f, "retry_in_ms", json_object_new_int64(retry_ms));
    json_object_object_add(f, "worker", json_object_new_string(app->worker));
    if (j->channel_id != NULL) {
        json_object_object_add(f, "channel_id", json_object_new_string(j->channel_id));
        json_object_object_add(f, "kind", json_object_new_string(j->kind));
        hp_log_fields(o == HP_JOB_SKIPPED ? HP_LOG_INFO : level,
                      o == HP_JOB_DELIVERED ? "notification sent"
                      : o == HP_JOB_SKIPPED ? "notification skipped"
                      : o == HP_JOB_RETRY   ? "notification attempt failed, will retry"
                                            : "notification failed",
                      f);
    } else {
        hp_log_fields(level,
                      o == HP_JOB_DELIVERED ? "callback delivered"
                      : o == HP_JOB_RETRY   ? "callback attempt failed, will retry"
                                            : "callback failed",
                      f);
    }
    json_object_put(f);
}

/* Per-channel counters and latency: labels name the channel and its kind. */
static void dlv_metrics_channel(dlv_app *app, const hp_job *j, hp_job_outcome o, int duration_ms,
                                bool started)
{
    char labels[160];
    static const char *const names[] = {"sent", "retried", "failed", "skipped"};

    if (app->metrics == NULL || j->channel_id == NULL || j->channel_kind == NULL)
        return;
    (void)hp_fmt(labels, sizeof(labels), "channel=\"%s\",kind=\"%s\",outcome=\"%s\"", j->channel_id,
                 j->channel_kind, names[o]);
    hp_metrics_add(app->metrics, "holdpoint_channel_sends_total", labels, 1);
    if (started) {
        (void)hp_fmt(labels, sizeof(labels), "channel=\"%s\",kind=\"%s\"", j->channel_id,
                     j->channel_kind);
        hp_metrics_observe(app->metrics, "holdpoint_channel_send_duration_seconds", labels,
                           (double)duration_ms / 1000.0);
    }
}

/* A debug line with a count and a duration (tuning the loop). */
static void dlv_debug_ms(const char *msg, int n, int64_t ms)
{
    json_object *f = json_object_new_object();
    json_object_object_add(f, "count", json_object_new_int(n));
    json_object_object_add(f, "ms", json_object_new_int64(ms));
    hp_log_fields(HP_LOG_DEBUG, msg, f);
    json_object_put(f);
}

/* ---- the database threads -------------------------------------------------- */

/* Decides the outcome of each ended attempt, records them all in one
 * statement (one commit, so one WAL flush, for however many attempts ended
 * together) and frees them. Database thread. */
static void dlv_record(dlv_app *app, dlv_ended **e, int n)
{
    hp_job_outcome *o = hp_xcalloc((size_t)n, sizeof(*o));
    int64_t *retry = hp_xcalloc((size_t)n, sizeof(*retry));
    int *duration = hp_xcalloc((size_t)n, sizeof(*duration));
    hp_job_result *rs = hp_xcalloc((size_t)n, sizeof(*rs));
    hp_dbconn *c = NULL;
    char err[HP_ERRBUF] = "";
    int64_t first_retry = INT64_MAX;
    hp_err rc;
    uint64_t r;

    for (int i = 0; i < n; i++) {
        const hp_job *j = &e[i]->slot.job;
        const dlv_result *res = &e[i]->res;
        duration[i] =
            e[i]->slot.started_ms > 0 ? (int)(e[i]->res.ended_ms - e[i]->slot.started_ms) : 0;
        if (res->ok) {
            o[i] = HP_JOB_DELIVERED;
        } else if (res->skipped) {
            o[i] = HP_JOB_SKIPPED;
        } else if (res->permanent || j->attempt >= j->max_attempts) {
            o[i] = HP_JOB_FAILED;
        } else {
            o[i] = HP_JOB_RETRY;
            hp_rand_bytes(&r, sizeof(r));
            retry[i] = hp_webhook_backoff_ms(j->attempt, app->cfg->callback_base_delay_ms,
                                             app->cfg->callback_max_delay_ms, r);
            if (retry[i] < first_retry)
                first_retry = retry[i];
        }
        dlv_log_attempt(app, j, o[i], res, duration[i], retry[i]);
    }

    int64_t t0 = hp_time_mono_ms();
    rc = hp_db_acquire(app->db, &c, err, sizeof(err));
    for (int i = 0; i < n; i++) {
        rs[i].job = &e[i]->slot.job;
        rs[i].outcome = o[i];
        rs[i].http_status = e[i]->res.http_status;
        rs[i].error = e[i]->res.ok ? NULL : e[i]->res.error;
        rs[i].duration_ms = duration[i];
        rs[i].retry_ms = retry[i];
    }
    if (rc == HP_OK)
        rc = hp_store_jobs_finish(c, app->worker, rs, n, err, sizeof(err));
    for (int i = 0; rc == HP_OK && i < n; i++)
        if (!rs[i].lease_held)
            hp_log_warn("lease was lost before the attempt was recorded", "job_id",
                        e[i]->slot.job.id, "worker", app->worker);
    /* Subscriptions a push service called gone are removed (a failed
     * removal is retried by the next attempt that hears 404 or 410). */
    for (int i = 0; rc == HP_OK && i < n; i++) {
        if (e[i]->res.gone && e[i]->slot.job.subscription_id != NULL) {
            const char *id = e[i]->slot.job.subscription_id;
            if (hp_store_fanout_push_gone(c, &id, 1, err, sizeof(err)) != HP_OK)
                hp_log_warn("could not remove an expired push subscription", "reason", err,
                            "worker", app->worker);
            else
                hp_log_info("removed an expired push subscription", "subscription_id", id,
                            "team_id", e[i]->slot.job.team_id);
        }
    }
    if (rc != HP_OK) {
        /* The leases will run out and the jobs are sent again:
         * at-least-once. */
        dlv_db_error(app, "could not record callback attempts", err);
    } else {
        dlv_db_ok(app);
    }
    for (int i = 0; app->metrics != NULL && i < n; i++) {
        if (e[i]->slot.started_ms > 0)
            hp_metrics_observe(app->metrics, "holdpoint_delivery_attempt_duration_seconds", NULL,
                               (double)duration[i] / 1000.0);
        /* Outcomes count only once recorded under our lease: an unrecorded
         * attempt is sent again and counted then. */
        if (rc != HP_OK || !rs[i].lease_held)
            continue;
        dlv_metrics_channel(app, &e[i]->slot.job, o[i], duration[i], e[i]->slot.started_ms > 0);
        if (o[i] == HP_JOB_SKIPPED)
            continue;
        hp_metrics_add(app->metrics,
                       o[i] == HP_JOB_DELIVERED ? "holdpoint_jobs_sent_total"
                       : o[i] == HP_JOB_RETRY   ? "holdpoint_jobs_retried_total"
                                                : "holdpoint_jobs_failed_total",
                       NULL, 1);
    }
    hp_db_release(app->db, c);
    dlv_debug_ms("recorded attempts", n, hp_time_mono_ms() - t0);

    if (first_retry != INT64_MAX) {
        int64_t at = hp_time_mono_ms() + first_retry;
        pthread_mutex_lock(&app->dmu);
        if (at < app->next_claim_ms)
            app->next_claim_ms = at;
        app->wakes++;
        pthread_cond_broadcast(&app->dcv); /* the claiming thread's plan */
        pthread_mutex_unlock(&app->dmu);
    }
    for (int i = 0; i < n; i++) {
        dlv_slot_clear(&e[i]->slot);
        free(e[i]);
    }
    free(rs);
    free(duration);
    free(retry);
    free(o);
}

/* A copy of src whose strings live in pool. */
static void dlv_job_copy(hp_pool *pool, hp_job *dst, const hp_job *src)
{
    const char **fields[] = {&dst->id,
                             &dst->team_id,
                             &dst->approval_id,
                             &dst->agent_id,
                             &dst->url,
                             &dst->headers,
                             &dst->body,
                             &dst->webhook_id,
                             &dst->auth_header,
                             &dst->auth_value_sealed,
                             &dst->secret_sealed,
                             &dst->attempt_id,
                             &dst->kind,
                             &dst->channel_id,
                             &dst->channel_kind,
                             &dst->channel_config,
                             &dst->channel_secret_sealed,
                             &dst->subscription_id,
                             &dst->sub_p256dh,
                             &dst->sub_auth_sealed};

    *dst = *src;
    dst->approval = NULL; /* rendered into body at the claim */
    dst->response = NULL;
    for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
        if (*fields[k] != NULL)
            *fields[k] = hp_pool_strdup(pool, *fields[k]);
}

/* Claims up to room due jobs, renders the bodies of those queued without
 * one, and puts them in the ready ring for the loop. Database thread. */
static void dlv_db_claim(dlv_app *app, int room)
{
    hp_pool *pool = hp_pool_new();
    hp_dbconn *c = NULL;
    hp_job *jobs = NULL;
    int n = 0;
    int64_t next = -1, t0 = hp_time_mono_ms(), next_claim;
    char err[HP_ERRBUF];
    unsigned wakes;

    pthread_mutex_lock(&app->dmu);
    wakes = app->wakes;
    pthread_mutex_unlock(&app->dmu);

    if (hp_db_acquire(app->db, &c, err, sizeof(err)) != HP_OK ||
        hp_store_jobs_claim(c, pool, app->worker, room, app->lease_ms, &jobs, &n, err,
                            sizeof(err)) != HP_OK) {
        dlv_db_error(app, "could not claim jobs", err);
        hp_db_release(app->db, c);
        hp_pool_free(pool);
        pthread_mutex_lock(&app->dmu);
        app->next_claim_ms = hp_time_mono_ms() + 1000;
        pthread_mutex_unlock(&app->dmu);
        return;
    }
    /* Claimed and leased, nothing sent: a crash here must lose nothing (the
     * leases run out and the jobs are claimed again). */
    if (n > 0 && HP_FAULT("delivery.after_claim")) {
        dlv_db_error(app, "could not use the claimed jobs", "fault point delivery.after_claim");
        hp_db_release(app->db, c);
        hp_pool_free(pool);
        pthread_mutex_lock(&app->dmu);
        app->next_claim_ms = hp_time_mono_ms() + 1000;
        pthread_mutex_unlock(&app->dmu);
        return;
    }
    /* All asked for: more may be due; claim again as soon as there is room.
     * Otherwise sleep until the next job becomes claimable. */
    if (n < room && hp_store_jobs_next_ms(c, &next, err, sizeof(err)) != HP_OK)
        next = 1000;
    dlv_db_ok(app);
    hp_db_release(app->db, c);
    dlv_debug_ms("claimed jobs", n, hp_time_mono_ms() - t0);
    if (app->metrics != NULL && n > 0)
        hp_metrics_add(app->metrics, "holdpoint_jobs_claimed_total", NULL, (double)n);
    next_claim = n == room ? hp_time_mono_ms() : next < 0 ? INT64_MAX : hp_time_mono_ms() + next;

    pthread_mutex_lock(&app->dmu);
    for (int i = 0; i < n; i++) {
        /* Each job keeps its own pool: copy the strings out of the claim. */
        dlv_ready *q = &app->ready[(app->ready_head + app->nready) % app->nslots];
        q->unrenderable = !dlv_render_body(pool, &jobs[i]);
        q->pool = hp_pool_new();
        dlv_job_copy(q->pool, &q->job, &jobs[i]);
        app->nready++;
    }
    /* A notification (or a retry) that came during the claim keeps its
     * earlier time; otherwise the claim's own plan stands. */
    if (app->wakes == wakes || next_claim < app->next_claim_ms)
        app->next_claim_ms = next_claim;
    pthread_mutex_unlock(&app->dmu);
    if (n > 0) {
        char b = 1;
        (void)!write(app->ready_pipe[1], &b, 1);
    }
    hp_pool_free(pool);
}

/* Gives the leases of the claimed jobs that never got a slot back, so
 * another worker sends them at once (shutdown). Database thread. */
static void dlv_db_release_ready(dlv_app *app)
{
    const char **ids;
    hp_dbconn *c = NULL;
    char err[HP_ERRBUF];

    if (app->nready == 0)
        return;
    ids = hp_xcalloc((size_t)app->nready, sizeof(*ids));
    for (int i = 0; i < app->nready; i++)
        ids[i] = app->ready[(app->ready_head + i) % app->nslots].job.id;
    if (hp_db_acquire(app->db, &c, err, sizeof(err)) != HP_OK ||
        hp_store_jobs_release(c, app->worker, ids, app->nready, err, sizeof(err)) != HP_OK)
        hp_log_warn("could not release claimed jobs at shutdown; their leases will expire",
                    "reason", err, "worker", app->worker);
    hp_db_release(app->db, c);
    for (int i = 0; i < app->nready; i++)
        hp_pool_free(app->ready[(app->ready_head + i) % app->nslots].pool);
    app->nready = 0;
    free(ids);
}

/* The recording thread: records ended attempts as soon as there are any,
 * in one batch per wake-up, and at the end everything handed over. */
static void *dlv_db_recorder(void *arg)
{
    dlv_app *app = arg;

    for (;;) {
        dlv_ended **ended = NULL;
        int nended = 0;
        bool quit;

        pthread_mutex_lock(&app->dmu);
        while (app->nended == 0 && !app->db_quit)
            pthread_cond_wait(&app->dcv, &app->dmu);
        if (app->nended > 0) {
            ended = hp_xcalloc((size_t)app->nended, sizeof(*ended));
            memcpy(ended, app->ended, sizeof(*ended) * (size_t)app->nended);
            nended = app->nended;
            app->nended = 0;
        }
        quit = app->db_quit;
        pthread_mutex_unlock(&app->dmu);

        if (nended > 0)
            dlv_record(app, ended, nended);
        free(ended);
        if (quit && nended == 0)
            return NULL;
    }
}

/* The claiming thread: claims while the ready ring has room for at least
 * claim_min jobs (so one claim serves several), ahead of the slots freeing
 * up; at the end gives back the leases of jobs that never got a slot. It
 * runs beside the recording thread, each on its own connection, so a
 * claim's round trip overlaps a record's. A job that ended keeps its lease
 * until its record commits, so no claim can take it again meanwhile. */
static void *dlv_db_claimer(void *arg)
{
    dlv_app *app = arg;

    for (;;) {
        int room;

        pthread_mutex_lock(&app->dmu);
        for (;;) {
            int64_t now = hp_time_mono_ms();
            room = app->nslots - app->nready;
            bool may_claim = app->claiming && app->listening && room >= app->claim_min;
            if (app->db_quit || (may_claim && now >= app->next_claim_ms))
                break;
            if (may_claim && app->next_claim_ms != INT64_MAX) {
                struct timespec ts;
                int64_t wait = app->next_claim_ms - now;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_sec += wait / 1000;
                ts.tv_nsec += (wait % 1000) * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&app->dcv, &app->dmu, &ts);
            } else {
                pthread_cond_wait(&app->dcv, &app->dmu);
            }
        }
        if (app->db_quit) {
            dlv_db_release_ready(app);
            pthread_mutex_unlock(&app->dmu);
            return NULL;
        }
        pthread_mutex_unlock(&app->dmu);
        dlv_db_claim(app, room);
    }
}

/* ---- the loop ---------------------------------------------------------------- */

/* Hands an ended attempt (or one that never started) to the recording thread
 * and frees its slot at once. */
static void dlv_handoff(dlv_app *app, dlv_slot *s, const dlv_result *res)
{
    dlv_ended *e = hp_xcalloc(1, sizeof(*e));

    if (s->easy != NULL)
        curl_multi_remove_handle(app->multi, s->easy);
    e->slot = *s;
    e->res = *res;
    e->res.ended_ms = hp_time_mono_ms();
    memset(s, 0, sizeof(*s));
    app->busy--;
    pthread_mutex_lock(&app->dmu);
    if (app->nended == app->ended_cap) {
        app->ended_cap *= 2;
        app->ended = hp_xrealloc(app->ended, sizeof(*app->ended) * (size_t)app->ended_cap);
    }
    app->ended[app->nended++] = e;
    pthread_cond_broadcast(&app->dcv);
    pthread_mutex_unlock(&app->dmu);
}

/* Moves ready jobs into free slots and hands them to the prep threads. */
static void dlv_take_ready(dlv_app *app)
{
    char buf[64];
    bool took = false;

    while (read(app->ready_pipe[0], buf, sizeof(buf)) > 0)
        ;
    for (;;) {
        dlv_slot *s = NULL;
        dlv_ready q;
        dlv_result res;

        if (app->stopping || app->busy >= app->nslots)
            break;
        pthread_mutex_lock(&app->dmu);
        if (app->nready == 0) {
            pthread_mutex_unlock(&app->dmu);
            break;
        }
        q = app->ready[app->ready_head];
        app->ready_head = (app->ready_head + 1) % app->nslots;
        app->nready--;
        pthread_mutex_unlock(&app->dmu);
        took = true;

        for (int k = 0; k < app->nslots && s == NULL; k++)
            if (!app->slots[k].busy)
                s = &app->slots[k];
        s->busy = true;
        s->pool = q.pool;
        s->job = q.job;
        app->busy++;

        memset(&res, 0, sizeof(res));
        if (s->job.attempt > s->job.max_attempts + DLV_LOST_GRACE) {
            res.permanent = true;
            hp_strlcpy(res.error, "attempts exhausted (workers lost)", sizeof(res.error));
            dlv_handoff(app, s, &res);
            continue;
        }
        if (q.unrenderable) {
            res.permanent = true;
            hp_strlcpy(res.error, "nothing to send (its approval or response is gone)",
                       sizeof(res.error));
            dlv_handoff(app, s, &res);
            continue;
        }
        dlv_prep_submit(app->prep, s);
    }
    if (took) {
        /* Room in the ring: the claiming thread may claim ahead again. */
        pthread_mutex_lock(&app->dmu);
        pthread_cond_broadcast(&app->dcv);
        pthread_mutex_unlock(&app->dmu);
    }
    dlv_metrics_in_flight(app);
}

/* Prepared attempts: start the ready ones, hand over the ones that ended
 * before a request (refused URL, DNS failure, unusable secret). */
static void dlv_take_prepared(dlv_app *app)
{
    int n = dlv_prep_take(app->prep, app->done, app->nslots);

    for (int i = 0; i < n; i++) {
        dlv_slot *s = app->done[i];
        /* An expanded notify job was recorded by its own transaction. */
        if (s->recorded) {
            dlv_slot_clear(s);
            app->busy--;
            continue;
        }
        /* Started even while stopping: the transfer is bounded by the
         * callback timeout, and the stop deadline releases what is left. */
        if (s->prep_ok)
            curl_multi_add_handle(app->multi, s->easy);
        else
            dlv_handoff(app, s, &s->prep_res);
    }
    dlv_metrics_in_flight(app);
}

/* Finished transfers, handed to the recording thread. */
static void dlv_reap(dlv_app *app)
{
    CURLMsg *m;
    int left;
    bool sent = false;

    while ((m = curl_multi_info_read(app->multi, &left)) != NULL) {
        dlv_slot *s = NULL;
        dlv_result res;
        if (m->msg != CURLMSG_DONE)
            continue;
        /* Sent, outcome not recorded yet: a crash here must end in the same
         * webhook-id being sent again (at-least-once), never in a lost job. */
        if (!sent)
            (void)HP_FAULT("delivery.after_send");
        sent = true;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        dlv_classify(s, m->data.result, &res);
        dlv_handoff(app, s, &res);
    }
    dlv_metrics_in_flight(app);
}

/* Shutdown after the grace period: aborts what still runs and gives the
 * leases back so another worker sends those jobs at once. */
static void dlv_abort_inflight(dlv_app *app)
{
    const char **ids = hp_xcalloc((size_t)app->nslots, sizeof(*ids));
    hp_dbconn *c = NULL;
    char err[HP_ERRBUF];
    int n = 0;

    for (int i = 0; i < app->nslots; i++)
        if (app->slots[i].busy)
            ids[n++] = app->slots[i].job.id;
    if (n > 0) {
        if (hp_db_acquire(app->db, &c, err, sizeof(err)) != HP_OK ||
            hp_store_jobs_release(c, app->worker, ids, n, err, sizeof(err)) != HP_OK)
            hp_log_warn("could not release leases at shutdown; they will expire", "reason", err,
                        "worker", app->worker);
        else
            hp_log_info("released unfinished jobs at shutdown", "worker", app->worker);
        hp_db_release(app->db, c);
    }
    for (int i = 0; i < app->nslots; i++)
        if (app->slots[i].busy && !app->slots[i].in_prep) {
            curl_multi_remove_handle(app->multi, app->slots[i].easy);
            dlv_slot_clear(&app->slots[i]);
            app->busy--;
        }
    dlv_metrics_in_flight(app);
    free(ids);
}

static int dlv_run(dlv_app *app)
{
    char err[HP_ERRBUF];
    int failures = 0, running = 0;
    int64_t stop_deadline = 0;

    for (;;) {
        struct curl_waitfd extra[4];
        int nextra = 0, numfds = 0, count;
        int64_t now = hp_time_mono_ms(), timeout;

        if (!app->stopping && hp_worker_stop_requested()) {
            app->stopping = true;
            stop_deadline = now + app->cfg->callback_timeout_ms + 2000;
            pthread_mutex_lock(&app->dmu);
            app->claiming = false;
            pthread_mutex_unlock(&app->dmu);
            json_object *f = json_object_new_object();
            json_object_object_add(f, "signal", json_object_new_string(hp_worker_stop_signal()));
            json_object_object_add(f, "in_flight", json_object_new_int(app->busy));
            json_object_object_add(f, "worker", json_object_new_string(app->worker));
            hp_log_fields(HP_LOG_INFO, "stopping: no new claims, finishing in-flight sends", f);
            json_object_put(f);
        }
        if (app->stopping) {
            if (app->busy == 0)
                break;
            if (now >= stop_deadline) {
                dlv_abort_inflight(app);
                break;
            }
        }
        if (!app->stopping && app->listen == NULL) {
            if (hp_wake_listen(app->cfg->database_direct_url, HP_STORE_JOBS_CHANNEL,
                               app->cfg->db_timeout_ms, &app->listen, err, sizeof(err)) != HP_OK) {
                dlv_db_error(app, "could not reach postgresql, retrying", err);
                if (app->busy == 0) {
                    (void)hp_worker_wait(app->sigfd, -1, hp_wake_backoff_ms(++failures));
                    continue;
                }
            } else {
                failures = 0;
                /* Notifications were missed meanwhile: claim now. */
                pthread_mutex_lock(&app->dmu);
                app->listening = true;
                app->next_claim_ms = now;
                app->wakes++;
                pthread_cond_broadcast(&app->dcv);
                pthread_mutex_unlock(&app->dmu);
            }
        }
        dlv_take_ready(app);

        now = hp_time_mono_ms();
        if (app->stopping)
            timeout = stop_deadline - now;
        else if (app->listen == NULL)
            timeout = hp_wake_backoff_ms(failures + 1);
        else
            timeout = 60000; /* woken by a transfer, ready jobs, a NOTIFY or a signal */
        if (timeout < 0)
            timeout = 0;
        if (timeout > 60000)
            timeout = 60000;

        extra[nextra].fd = app->sigfd;
        extra[nextra].events = CURL_WAIT_POLLIN;
        extra[nextra++].revents = 0;
        extra[nextra].fd = dlv_prep_fd(app->prep);
        extra[nextra].events = CURL_WAIT_POLLIN;
        extra[nextra++].revents = 0;
        extra[nextra].fd = app->ready_pipe[0];
        extra[nextra].events = CURL_WAIT_POLLIN;
        extra[nextra++].revents = 0;
        if (app->listen != NULL) {
            extra[nextra].fd = PQsocket(app->listen);
            extra[nextra].events = CURL_WAIT_POLLIN;
            extra[nextra++].revents = 0;
        }
        curl_multi_poll(app->multi, extra, (unsigned)nextra, (int)timeout, &numfds);
        dlv_take_prepared(app);
        curl_multi_perform(app->multi, &running);
        dlv_reap(app);
        if (nextra > 3 && extra[3].revents != 0) {
            if (hp_wake_drain(app->listen, NULL, NULL, &count, err, sizeof(err)) != HP_OK) {
                dlv_db_error(app, "lost the listen connection, reconnecting", err);
                PQfinish(app->listen);
                app->listen = NULL;
                pthread_mutex_lock(&app->dmu);
                app->listening = false;
                pthread_mutex_unlock(&app->dmu);
            } else if (count > 0) {
                pthread_mutex_lock(&app->dmu);
                app->next_claim_ms = hp_time_mono_ms();
                app->wakes++;
                pthread_cond_broadcast(&app->dcv);
                pthread_mutex_unlock(&app->dmu);
            }
        }
    }
    /* Everything ended was handed over: the recording thread records it,
     * the claiming thread gives back the leases of jobs that never got a
     * slot, and both exit. */
    pthread_mutex_lock(&app->dmu);
    app->db_quit = true;
    pthread_cond_broadcast(&app->dcv);
    pthread_mutex_unlock(&app->dmu);
    pthread_join(app->record_thread, NULL);
    pthread_join(app->claim_thread, NULL);
    return 0;
}

/* Jobs waiting in the outbox (state 'queued', due or not), counted on a
 * pooled connection at scrape time; NaN when no connection comes within the
 * pool timeout. Runs on a civetweb thread (the pool is thread-safe). */
static double dlv_outbox_depth(void *ctx)
{
    return hp_db_gauge(((dlv_app *)ctx)->db, hp_store_jobs_queued_count);
}

static void dlv_metrics_init(dlv_app *app)
{
    static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    static const char *const counters[][2] = {
        {"holdpoint_jobs_claimed_total", "Jobs claimed from the outbox (one per attempt)."},
        {"holdpoint_jobs_sent_total", "Callback attempts answered 2xx and recorded."},
        {"holdpoint_jobs_failed_total", "Jobs given up for good (final failure)."},
        {"holdpoint_jobs_retried_total", "Failed attempts with a retry scheduled."},
    };
    hp_metrics *m = hp_metrics_new();

    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        hp_metrics_family(m, counters[i][0], HP_METRIC_COUNTER, counters[i][1], NULL, 0);
        hp_metrics_add(m, counters[i][0], NULL, 0); /* exposed as 0 from the start */
    }
    hp_metrics_family(m, "holdpoint_delivery_attempt_duration_seconds", HP_METRIC_HISTOGRAM,
                      "Time from the start of a callback request to its end.", buckets,
                      sizeof(buckets) / sizeof(buckets[0]));
    hp_metrics_family(m, "holdpoint_channel_sends_total", HP_METRIC_COUNTER,
                      "Notification attempts recorded, by channel, kind and outcome (sent, "
                      "retried, failed, skipped).",
                      NULL, 0);
    hp_metrics_family(m, "holdpoint_channel_send_duration_seconds", HP_METRIC_HISTOGRAM,
                      "Time from the start of a notification request to its end, by channel.",
                      buckets, sizeof(buckets) / sizeof(buckets[0]));
    hp_metrics_family(m, "holdpoint_jobs_in_flight", HP_METRIC_GAUGE,
                      "Claimed jobs not yet recorded (being prepared or sent).", NULL, 0);
    hp_metrics_set(m, "holdpoint_jobs_in_flight", NULL, 0);
    hp_metrics_gauge_fn(m, "holdpoint_outbox_depth",
                        "Jobs in state queued (NaN when the database is unreachable).",
                        dlv_outbox_depth, app);
    hp_db_metrics(app->db, m);
    app->metrics = m;
}

int main(void)
{
    static hp_config cfg;
    dlv_app app;
    hp_httpd_mini *httpd = NULL;
    char err[HP_ERRBUF];
    int rc = 1;

    hp_log_init("holdpoint-delivery", HP_LOG_INFO);
    if (hp_config_load(HP_PROC_DELIVERY, NULL, NULL, &cfg, err, sizeof(err)) != HP_OK) {
        hp_log_error("bad configuration", "reason", err);
        return 2;
    }
    hp_log_init("holdpoint-delivery", (hp_log_level)cfg.log_level);
    if (hp_fault_init(cfg.faults, err, sizeof(err)) != HP_OK) {
        hp_log_error("bad configuration", "reason", err);
        return 2;
    }
    memset(&app, 0, sizeof(app));
    app.cfg = &cfg;
    if (hp_urlpolicy_new(cfg.outbound_allow, &app.policy, err, sizeof(err)) != HP_OK) {
        hp_log_error("bad configuration", "reason", err);
        return 2;
    }
    /* The lease outlives the slowest attempt (DNS, connect, the whole
     * transfer) plus the time to record it, so a live worker never loses a
     * job it is sending. */
    app.lease_ms = cfg.callback_timeout_ms * 2 + 5000;
    app.nslots = cfg.delivery_concurrency;
    app.claim_min = app.nslots / 4 > 0 ? app.nslots / 4 : 1;
    hp_worker_id(app.worker, sizeof(app.worker));
    app.sigfd = hp_worker_signals_init();
    if (app.sigfd < 0) {
        hp_log_error("could not set up signal handling");
        goto out_policy;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        hp_log_error("could not initialise libcurl");
        goto out_policy;
    }
    if (cfg.metrics_port > 0 && hp_httpd_mini_start(cfg.metrics_host, cfg.metrics_port, &httpd, err,
                                                    sizeof(err)) != HP_OK) {
        hp_log_error("could not start the metrics listener", "reason", err);
        goto out_curl;
    }
    app.multi = curl_multi_init();
    if (app.multi == NULL)
        abort();
    curl_multi_setopt(app.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)app.nslots);
    /* Idle keep-alive connections kept for reuse. libcurl's default is four
     * per easy handle currently added, and each attempt's handle is removed
     * when it ends, so with few transfers in flight the cache shrank and
     * closed connections that the next jobs to the same receiver had to
     * open again. */
    curl_multi_setopt(app.multi, CURLMOPT_MAXCONNECTS, (long)app.nslots);
    app.slots = hp_xcalloc((size_t)app.nslots, sizeof(*app.slots));
    app.done = hp_xcalloc((size_t)app.nslots, sizeof(*app.done));
    app.ready = hp_xcalloc((size_t)app.nslots, sizeof(*app.ready));
    app.ended_cap = app.nslots * 2;
    app.ended = hp_xcalloc((size_t)app.ended_cap, sizeof(*app.ended));
    app.claiming = true;
    app.next_claim_ms = hp_time_mono_ms();
    {
        pthread_condattr_t ca;
        pthread_mutex_init(&app.dmu, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&app.dcv, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (pipe(app.ready_pipe) != 0)
        abort(); /* out of descriptors at start-up */
    for (int i = 0; i < 2; i++) {
        fcntl(app.ready_pipe[i], F_SETFL, fcntl(app.ready_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(app.ready_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    /* Two for the loop's claims and records, two for prep threads that
     * expand notifications and read the VAPID key. */
    app.db = hp_db_new(cfg.database_url, 4, cfg.db_timeout_ms);
    (void)hp_db_set_prepare(app.db, cfg.db_prepared_statements);
    dlv_channels_init(&cfg, app.db, app.worker);
    if (httpd != NULL) {
        /* Registered before the loop; the gauges read app.db, which outlives
         * the listener. */
        dlv_metrics_init(&app);
        hp_httpd_mini_metrics(httpd, app.metrics);
    }
    app.prep = dlv_prep_start(app.nslots < 4 ? app.nslots : 4, app.nslots, &cfg, app.policy);
    if (pthread_create(&app.record_thread, NULL, dlv_db_recorder, &app) != 0 ||
        pthread_create(&app.claim_thread, NULL, dlv_db_claimer, &app) != 0)
        abort();
    {
        json_object *f = json_object_new_object();
        json_object_object_add(f, "worker", json_object_new_string(app.worker));
        json_object_object_add(f, "concurrency", json_object_new_int(app.nslots));
        json_object_object_add(f, "lease_ms", json_object_new_int(app.lease_ms));
        hp_log_fields(HP_LOG_INFO, "started", f);
        json_object_put(f);
    }

    rc = dlv_run(&app);

    /* Slots still with a prep thread had their leases released; wait a
     * little for the threads (a DNS lookup cannot be interrupted). */
    if (dlv_prep_stop(app.prep, hp_time_mono_ms() + 2000)) {
        int n = dlv_prep_take(app.prep, app.done, app.nslots);
        for (int i = 0; i < n; i++)
            dlv_slot_clear(app.done[i]);
        dlv_prep_free(app.prep);
    }
    if (app.listen != NULL)
        PQfinish(app.listen);
    hp_httpd_mini_stop(httpd);
    hp_metrics_free(app.metrics);
    dlv_channels_deinit();
    hp_db_free(app.db);
    close(app.ready_pipe[0]);
    close(app.ready_pipe[1]);
    pthread_cond_destroy(&app.dcv);
    pthread_mutex_destroy(&app.dmu);
    free(app.ended);
    free(app.ready);
    free(app.done);
    free(app.slots);
    curl_multi_cleanup(app.multi);
    hp_log_info("stopped", "worker", app.worker);
out_curl:
    curl_global_cleanup();
out_policy:
    hp_urlpolicy_free(app.policy);
    return rc;
}
