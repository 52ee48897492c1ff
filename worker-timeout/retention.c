/*
 * retention: the sweep's schedule, batches, counters and log lines; the SQL
 * is hp_store_retention's. See retention.h.
 */
#include <stdbool.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "hp_log.h"
#include "hp_mem.h"
#include "hp_store_retention.h"
#include "hp_time.h"
#include "retention.h"

/* Rows removed per batch (one transaction each). */
#define RET_BATCH 500
/* Between sweeps, and after a failed batch. */
#define RET_INTERVAL_MS (60 * 60 * 1000)
#define RET_RETRY_MS    (60 * 1000)

struct tmo_retention {
    int days;
    hp_db *db;
    hp_metrics *metrics;
    const char *worker;
    int64_t next_ms; /* monotonic time the next batch is due */
    /* The sweep in progress: what it removed so far and when it began. */
    long long approvals, jobs;
    int64_t started_ms;
    bool sweeping;
};

tmo_retention *tmo_retention_new(int days, hp_db *db, hp_metrics *m, const char *worker)
{
    tmo_retention *r = hp_xcalloc(1, sizeof(*r));

    r->days = days;
    r->db = db;
    r->metrics = m;
    r->worker = worker;
    r->next_ms = hp_time_mono_ms();
    if (m != NULL) {
        hp_metrics_family(m, "holdpoint_retention_deleted_total", HP_METRIC_COUNTER,
                          "Rows removed by the retention sweep (closed approvals with their "
                          "history; finished jobs of no approval).",
                          NULL, 0);
        hp_metrics_add(m, "holdpoint_retention_deleted_total", "table=\"approvals\"", 0);
        hp_metrics_add(m, "holdpoint_retention_deleted_total", "table=\"jobs\"", 0);
    }
    if (days > 0) {
        json_object *f = json_object_new_object();
        json_object_object_add(f, "retention_days", json_object_new_int(days));
        json_object_object_add(f, "worker", json_object_new_string(worker));
        hp_log_fields(HP_LOG_INFO, "retention on: closed approvals and finished jobs are removed",
                      f);
        json_object_put(f);
    }
    return r;
}

void tmo_retention_free(tmo_retention *r)
{
    free(r);
}

static void ret_sweep_done(tmo_retention *r)
{
    if (r->approvals + r->jobs > 0) {
        json_object *f = json_object_new_object();
        json_object_object_add(f, "approvals", json_object_new_int64(r->approvals));
        json_object_object_add(f, "jobs", json_object_new_int64(r->jobs));
        json_object_object_add(f, "retention_days", json_object_new_int(r->days));
        json_object_object_add(f, "ms", json_object_new_int64(hp_time_mono_ms() - r->started_ms));
        json_object_object_add(f, "worker", json_object_new_string(r->worker));
        hp_log_fields(HP_LOG_INFO, "retention sweep removed closed rows", f);
        json_object_put(f);
    }
    r->sweeping = false;
}

int64_t tmo_retention_step(tmo_retention *r)
{
    char err[HP_ERRBUF];
    hp_dbconn *c = NULL;
    int na = 0, nj = 0;
    int64_t now = hp_time_mono_ms();
    hp_err rc;

    if (r->days <= 0)
        return -1;
    if (now < r->next_ms)
        return r->next_ms - now;
    if (!r->sweeping) {
        r->sweeping = true;
        r->approvals = r->jobs = 0;
        r->started_ms = now;
    }
    rc = hp_db_acquire(r->db, &c, err, sizeof(err));
    if (rc == HP_OK)
        rc = hp_store_retention_approvals(c, r->days, RET_BATCH, &na, err, sizeof(err));
    if (rc == HP_OK)
        rc = hp_store_retention_jobs(c, r->days, RET_BATCH, &nj, err, sizeof(err));
    hp_db_release(r->db, c);
    r->approvals += na;
    r->jobs += nj;
    if (r->metrics != NULL) {
        hp_metrics_add(r->metrics, "holdpoint_retention_deleted_total", "table=\"approvals\"",
                       (double)na);
        hp_metrics_add(r->metrics, "holdpoint_retention_deleted_total", "table=\"jobs\"",
                       (double)nj);
    }
    if (rc != HP_OK) {
        hp_log_warn("retention batch failed, retrying in a minute", "reason", err, "worker",
                    r->worker);
        ret_sweep_done(r);
        r->next_ms = now + RET_RETRY_MS;
        return RET_RETRY_MS;
    }
    if (na == RET_BATCH || nj == RET_BATCH) {
        r->next_ms = now; /* more waits: the next batch after the next expiry cycle */
        return 0;
    }
    ret_sweep_done(r);
    r->next_ms = now + RET_INTERVAL_MS;
    return RET_INTERVAL_MS;
}
