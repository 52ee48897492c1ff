/*
 * holdpoint-timeout: every time-driven transition: approval expiry, and the
 * reminder and escalation steps of agents that have them (a notify job per
 * step, queued at most once per step: docs/internals/notifications.md).
 *
 * The loop: expire every due approval in batches (one statement per batch:
 * the FOR UPDATE SKIP LOCKED claim, the close and every effect of it — audit
 * events, callback and webhook jobs, timeout defaults' action responses,
 * NOTIFY — set-based), publish the wake keys on Redis after it commits in
 * one pipeline, write the plan (the earliest pending deadline) to
 * expiry_schedule, and sleep in poll() on the LISTEN hp_expiry socket until
 * that deadline. A create with an earlier deadline NOTIFYs and wakes it.
 * There is no fixed polling interval; a long safety cap only guards against
 * a notification lost with a broken connection that poll() did not report.
 *
 * Any number of copies may run; the claim's SKIP LOCKED and status re-check
 * make double expiry impossible. Within one copy a backlog is claimed by two
 * threads at once, the same way (tmo_cycle). SIGTERM stops after the current batch
 * commits (or rolls back): the worker exits 0 within one batch's time. A lost
 * database is retried with backoff; see docs/internals/expiry.md.
 *
 * With HOLDPOINT_RETENTION_DAYS set it also removes closed approvals and
 * finished jobs past that age, a batch between expiry cycles (retention.h).
 *
 * With HOLDPOINT_METRICS_LISTEN set it serves /metrics: expiries and batches
 * counted after their commit, the lag of each expiry behind its deadline, the
 * number of overdue pending approvals (one count at scrape time), rows the
 * retention sweep removed, and the pool.
 */
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "hp_approval.h"
#include "hp_approval_ops.h"
#include "hp_config.h"
#include "hp_fault.h"
#include "hp_db.h"
#include "hp_httpd_mini.h"
#include "hp_log.h"
#include "hp_metrics.h"
#include "hp_pool.h"
#include "hp_redis.h"
#include "hp_store_approval.h"
#include "hp_store_expiry.h"
#include "hp_store_fanout.h"
#include "hp_str.h"
#include "hp_time.h"
#include "hp_wake.h"
#include "hp_worker.h"
#include "retention.h"

/* Approvals closed per transaction (and reminder steps taken per batch). */
#define TMO_BATCH HP_STORE_EXPIRE_BATCH
/* Longest sleep even when nothing is pending (a safety net, not a poll). */
#define TMO_SAFETY_SLEEP_MS (5 * 60 * 1000)
/* Pause before looking again at a due approval that another transaction
 * holds locked. */
#define TMO_LOCKED_RETRY_MS 20
/* How long the plan waits for racing creates to commit. */
#define TMO_SETTLE_MS 1000

typedef struct tmo_app {
    const hp_config *cfg;
    hp_db *db;
    hp_redis *redis;
    hp_approval_env env;
    char worker[96];
    int sigfd;
    PGconn *listen;
    bool db_down;
    hp_metrics *metrics; /* NULL without a metrics listener */
    tmo_retention *retention;
} tmo_app;

static void tmo_log_db_error(tmo_app *app, const char *msg, const char *err)
{
    /* One line per outage, not one per retry. */
    if (!app->db_down)
        hp_log_error(msg, "reason", err, "worker", app->worker);
    app->db_down = true;
}

/* The wake messages of a batch, published on Redis after the commit in one
 * pipeline: the keys of each closed approval, packed into messages of up to
 * TMO_WAKE_MSG_BYTES (waiters on other replicas; the transaction's NOTIFY
 * reaches them too). */
#define TMO_WAKE_MSG_BYTES 4000

static void tmo_publish(tmo_app *app, hp_pool *pool, const hp_expired *rows, int n)
{
    const char **msgs;
    char err[HP_ERRBUF], *cur = NULL;
    size_t used = 0;
    int m = 0;

    if (app->redis == NULL || n == 0)
        return;
    msgs = hp_pool_alloc(pool, sizeof(*msgs) * (size_t)n);
    for (int i = 0; i < n; i++) {
        char one[HP_WAKE_MSG_MAX];
        size_t len;
        hp_approval_wake_msg_agent(rows[i].id, rows[i].team_id, rows[i].agent_id, one, sizeof(one));
        len = strlen(one);
        if (cur == NULL || used + 1 + len >= TMO_WAKE_MSG_BYTES) {
            cur = hp_pool_alloc(pool, TMO_WAKE_MSG_BYTES);
            msgs[m++] = cur;
            used = 0;
        } else {
            cur[used++] = ' ';
        }
        memcpy(cur + used, one, len + 1);
        used += len;
    }
    if (hp_redis_publish_many(app->redis, HP_WAKE_REDIS_CHANNEL, msgs, m, err, sizeof(err)) !=
        HP_OK)
        /* Waiters also get NOTIFY hp_approval from the transaction. */
        hp_log_warn("could not publish expiries on redis", "reason", err, "worker", app->worker);
}

/* Expires one batch in one statement; *n gets how many were closed. */
static hp_err tmo_batch(tmo_app *app, hp_dbconn *c, int *n, char *err, size_t errcap)
{
    hp_pool *pool = hp_pool_new();
    hp_expired *rows = NULL;
    hp_err rc;

    *n = 0;
    rc = hp_store_approval_expire_due(c, pool, app->worker, app->env.callback_max_attempts, &rows,
                                      n, err, errcap);
    if (rc != HP_OK) {
        *n = 0;
        goto out;
    }
    /* The batch is committed (one statement), nothing published or logged:
     * a crash here must leave each approval expired once, with its NOTIFY
     * already sent by the commit. */
    if (*n > 0)
        (void)HP_FAULT("expiry.after_commit");
    for (int i = 0; i < *n; i++)
        hp_log_info("approval expired", "approval_id", rows[i].id, "team_id", rows[i].team_id,
                    "timeout_mode", rows[i].timeout_mode);
    tmo_publish(app, pool, rows, *n);
    if (app->metrics != NULL && *n > 0) {
        int64_t now_us = hp_time_now_us();
        hp_metrics_add(app->metrics, "holdpoint_approvals_expired_total", NULL, (double)*n);
        hp_metrics_add(app->metrics, "holdpoint_expiry_batches_total", NULL, 1);
        for (int i = 0; i < *n; i++) {
            double lag = (double)(now_us - rows[i].expires_at) / 1e6;
            hp_metrics_observe(app->metrics, "holdpoint_expiry_lag_seconds", NULL,
                               lag < 0 ? 0 : lag);
        }
    }
out:
    hp_pool_free(pool);
    return rc;
}

/* Takes one batch of due reminder and escalation steps (each at most once
 * however many workers race: see hp_store_fanout_steps_due). */
static hp_err tmo_steps(tmo_app *app, hp_dbconn *c, int *n, char *err, size_t errcap)
{
    hp_err rc = hp_store_fanout_steps_due(c, TMO_BATCH, n, err, errcap);
    if (rc == HP_OK && *n > 0) {
        json_object *f = json_object_new_object();
        json_object_object_add(f, "count", json_object_new_int(*n));
        json_object_object_add(f, "worker", json_object_new_string(app->worker));
        hp_log_fields(HP_LOG_INFO, "reminders and escalations queued", f);
        json_object_put(f);
        if (app->metrics != NULL)
            hp_metrics_add(app->metrics, "holdpoint_notify_steps_total", NULL, (double)*n);
    }
    return rc;
}

/* Expires batches on c (one of a backlog's two claim threads) until one
 * closes nothing or a stop is asked; *total grows by what was closed. */
static hp_err tmo_expire_all(tmo_app *app, hp_dbconn *c, int *total, char *err, size_t errcap)
{
    int n = TMO_BATCH;
    hp_err rc = HP_OK;

    while (n > 0 && !hp_worker_stop_requested()) {
        rc = tmo_batch(app, c, &n, err, errcap);
        if (rc != HP_OK)
            break;
        *total += n;
    }
    return rc;
}

/* The second claimer of a backlog, on a connection of its own. */
typedef struct tmo_drain {
    tmo_app *app;
    int total;
    hp_err rc;
    char err[HP_ERRBUF];
} tmo_drain;

static void *tmo_drain_main(void *p)
{
    tmo_drain *d = p;
    hp_dbconn *c = NULL;

    d->rc = hp_db_acquire(d->app->db, &c, d->err, sizeof(d->err));
    if (d->rc != HP_OK)
        return NULL;
    d->rc = tmo_expire_all(d->app, c, &d->total, d->err, sizeof(d->err));
    hp_db_release(d->app->db, c);
    return NULL;
}

/* Expires everything due, takes due reminder and escalation steps, then
 * plans. *sleep_ms gets how long to sleep. When the first batch comes back
 * full (a backlog), a second thread claims batches beside this one on its
 * own connection, and both go on while their claims find anything: while
 * one statement runs, the other batch's work outside it (the round trip,
 * the Redis publishes, the logs) is done, and one worker writes about as
 * fast as two. A short batch does not end them, since the other's locked
 * rows can make a claim short while more keep coming due. SKIP LOCKED keeps
 * their claims apart, as between two workers. */
static hp_err tmo_cycle(tmo_app *app, int64_t *sleep_ms, char *err, size_t errcap)
{
    hp_dbconn *c = NULL;
    int64_t delay = -1;
    bool settled = true;
    int n = 0, total = 0;
    tmo_drain drain = {.app = app};
    pthread_t helper;
    bool helped = false;
    hp_err rc;

    rc = hp_db_acquire(app->db, &c, err, errcap);
    if (rc != HP_OK)
        return rc;
    rc = tmo_batch(app, c, &n, err, errcap);
    if (rc != HP_OK)
        goto out;
    total += n;
    if (n == TMO_BATCH) {
        helped = pthread_create(&helper, NULL, tmo_drain_main, &drain) == 0;
        rc = tmo_expire_all(app, c, &total, err, errcap);
        if (helped) {
            pthread_join(helper, NULL);
            total += drain.total;
            if (rc == HP_OK && drain.rc != HP_OK) {
                rc = drain.rc;
                hp_err_set(err, errcap, "%s", drain.err);
            }
        }
        if (rc != HP_OK)
            goto out;
    }
    n = TMO_BATCH;
    while (n == TMO_BATCH && !hp_worker_stop_requested()) {
        rc = tmo_steps(app, c, &n, err, errcap);
        if (rc != HP_OK)
            goto out;
        total += n;
    }
    if (hp_worker_stop_requested())
        goto out;
    rc = hp_store_expiry_plan(c, TMO_SETTLE_MS, &delay, &settled, err, errcap);
    if (rc != HP_OK)
        goto out;
    if (delay < 0 || delay > TMO_SAFETY_SLEEP_MS)
        delay = TMO_SAFETY_SLEEP_MS;
    /* Due but not claimable (row-locked by a decision in progress or by
     * another worker's batch): do not spin while the lock is held. */
    if (delay == 0 && total == 0)
        delay = TMO_LOCKED_RETRY_MS;
    /* A create was still open after the settle wait: look again soon. */
    if (!settled && delay > 1000)
        delay = 1000;
    *sleep_ms = delay;
out:
    hp_db_release(app->db, c);
    return rc;
}

static int tmo_run(tmo_app *app)
{
    char err[HP_ERRBUF];
    int failures = 0;

    while (!hp_worker_stop_requested()) {
        int64_t sleep_ms = 0;
        int count, ready;
        hp_err rc;

        if (app->listen == NULL) {
            rc = hp_wake_listen(app->cfg->database_direct_url, HP_STORE_EXPIRY_CHANNEL,
                                app->cfg->db_timeout_ms, &app->listen, err, sizeof(err));
            if (rc != HP_OK) {
                tmo_log_db_error(app, "could not reach postgresql, retrying", err);
                (void)hp_worker_wait(app->sigfd, -1, hp_wake_backoff_ms(++failures));
                continue;
            }
        }
        /* LISTEN is in place before the cycle, so a create that commits
         * during the cycle wakes the sleep that follows. */
        rc = tmo_cycle(app, &sleep_ms, err, sizeof(err));
        if (rc != HP_OK) {
            tmo_log_db_error(app, "expiry cycle failed, retrying", err);
            PQfinish(app->listen);
            app->listen = NULL;
            (void)hp_worker_wait(app->sigfd, -1, hp_wake_backoff_ms(++failures));
            continue;
        }
        if (app->db_down)
            hp_log_info("postgresql reachable again", "worker", app->worker);
        app->db_down = false;
        failures = 0;
        if (hp_worker_stop_requested())
            break;
        {
            /* A retention batch between expiry cycles, when one is due. */
            int64_t next = tmo_retention_step(app->retention);
            if (next >= 0 && next < sleep_ms)
                sleep_ms = next;
        }
        {
            json_object *f = json_object_new_object();
            json_object_object_add(f, "worker", json_object_new_string(app->worker));
            json_object_object_add(f, "sleep_ms", json_object_new_int64(sleep_ms));
            hp_log_fields(HP_LOG_DEBUG, "sleeping until the next deadline", f);
            json_object_put(f);
        }
        ready = hp_worker_wait(PQsocket(app->listen), app->sigfd, sleep_ms);
        if (ready & 1) {
            if (hp_wake_drain(app->listen, NULL, NULL, &count, err, sizeof(err)) != HP_OK) {
                tmo_log_db_error(app, "lost the listen connection, reconnecting", err);
                PQfinish(app->listen);
                app->listen = NULL;
            }
        }
    }
    return 0;
}

/* Pending approvals past their deadline, counted on a pooled connection at
 * scrape time; NaN when no connection comes within the pool timeout. Runs on a
 * civetweb thread (the pool is thread-safe). */
static double tmo_overdue(void *ctx)
{
    return hp_db_gauge(((tmo_app *)ctx)->db, hp_store_expiry_due_count);
}

static void tmo_metrics_init(tmo_app *app)
{
    static const double lag_buckets[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
    hp_metrics *m = hp_metrics_new();

    hp_metrics_family(m, "holdpoint_approvals_expired_total", HP_METRIC_COUNTER,
                      "Approvals closed as expired by this worker.", NULL, 0);
    hp_metrics_family(m, "holdpoint_notify_steps_total", HP_METRIC_COUNTER,
                      "Reminder and escalation steps taken by this worker.", NULL, 0);
    hp_metrics_add(m, "holdpoint_notify_steps_total", NULL, 0);
    hp_metrics_family(m, "holdpoint_expiry_batches_total", HP_METRIC_COUNTER,
                      "Committed expiry transactions that closed at least one approval.", NULL, 0);
    /* Exposed as 0 from the start. */
    hp_metrics_add(m, "holdpoint_approvals_expired_total", NULL, 0);
    hp_metrics_add(m, "holdpoint_expiry_batches_total", NULL, 0);
    hp_metrics_family(m, "holdpoint_expiry_lag_seconds", HP_METRIC_HISTOGRAM,
                      "Time from an approval's deadline to its expiry.", lag_buckets,
                      sizeof(lag_buckets) / sizeof(lag_buckets[0]));
    hp_metrics_gauge_fn(m, "holdpoint_expiry_overdue",
                        "Pending approvals past their deadline (NaN when the database is "
                        "unreachable).",
                        tmo_overdue, app);
    hp_db_metrics(app->db, m);
    app->metrics = m;
}

int main(void)
{
    static hp_config cfg;
    tmo_app app;
    hp_httpd_mini *httpd = NULL;
    char err[HP_ERRBUF];
    int rc;

    hp_log_init("holdpoint-timeout", HP_LOG_INFO);
    if (hp_config_load(HP_PROC_TIMEOUT, NULL, NULL, &cfg, err, sizeof(err)) != HP_OK) {
        hp_log_error("bad configuration", "reason", err);
        return 2;
    }
    hp_log_init("holdpoint-timeout", (hp_log_level)cfg.log_level);
    if (hp_fault_init(cfg.faults, err, sizeof(err)) != HP_OK) {
        hp_log_error("bad configuration", "reason", err);
        return 2;
    }
    memset(&app, 0, sizeof(app));
    app.cfg = &cfg;
    app.env.callback_max_attempts = cfg.callback_max_attempts;
    hp_worker_id(app.worker, sizeof(app.worker));
    app.sigfd = hp_worker_signals_init();
    if (app.sigfd < 0) {
        hp_log_error("could not set up signal handling");
        return 1;
    }
    if (cfg.redis_url != NULL) {
        app.redis = hp_redis_new(cfg.redis_url, 2, cfg.db_timeout_ms, err, sizeof(err));
        if (app.redis == NULL) {
            hp_log_error("bad configuration", "reason", err);
            return 2;
        }
    }
    if (cfg.metrics_port > 0) {
        if (hp_httpd_mini_start(cfg.metrics_host, cfg.metrics_port, &httpd, err, sizeof(err)) !=
            HP_OK) {
            hp_log_error("could not start the metrics listener", "reason", err);
            hp_redis_free(app.redis);
            return 1;
        }
    }
    app.db = hp_db_new(cfg.database_url, 3, cfg.db_timeout_ms); /* cycle, its helper, scrapes */
    (void)hp_db_set_prepare(app.db, cfg.db_prepared_statements);
    /* Registered before the loop; the gauges read app.db, which outlives
     * the listener. */
    if (httpd != NULL)
        tmo_metrics_init(&app);
    app.retention = tmo_retention_new(cfg.retention_days, app.db, app.metrics, app.worker);
    if (httpd != NULL)
        hp_httpd_mini_metrics(httpd, app.metrics);
    hp_log_info("started", "worker", app.worker);

    rc = tmo_run(&app);

    hp_log_info("stopping", "signal", hp_worker_stop_signal(), "worker", app.worker);
    if (app.listen != NULL)
        PQfinish(app.listen);
    hp_httpd_mini_stop(httpd);
    tmo_retention_free(app.retention);
    hp_metrics_free(app.metrics);
    hp_db_free(app.db);
    hp_redis_free(app.redis);
    hp_log_info("stopped", "worker", app.worker);
    return rc;
}
