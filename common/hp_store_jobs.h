/*
 * hp_store_jobs: the SQL of holdpoint-delivery over the outbox (jobs) and the
 * attempt log (job_attempts). A claim leases due jobs to one worker with FOR
 * UPDATE SKIP LOCKED; while the lease holds no other worker claims them, and
 * when a worker dies the lease runs out and the job becomes claimable again
 * (at-least-once). Every outcome write is conditional on the caller still
 * holding the lease. See docs/internals/delivery.md. Statements commit on
 * their own (each is one atomic statement); holdpoint-delivery only.
 */
#ifndef HP_STORE_JOBS_H
#define HP_STORE_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "hp_approval.h"
#include "hp_db.h"
#include "hp_err.h"
#include "hp_inbox.h"
#include "hp_pool.h"

/* The channel delivery workers LISTEN on (jobs are queued with NOTIFY). */
#define HP_STORE_JOBS_CHANNEL "hp_jobs"

/* One claimed job. Strings live in the pool the job was claimed into. */
typedef struct hp_job {
    const char *id; /* jobs.id as text */
    const char *team_id;
    const char *approval_id; /* NULL for jobs not tied to an approval */
    const char *agent_id;
    const char *url;
    const char *headers;    /* the caller's callback.headers, JSON text or NULL */
    const char *body;       /* exact bytes to send and sign; NULL: render it from
                               approval or response (below) */
    const char *webhook_id; /* stable across retries */
    int attempt;            /* this attempt's number, from 1 */
    int max_attempts;
    const char *auth_header;       /* agents.callback_auth_header or NULL */
    const char *auth_value_sealed; /* agents.callback_auth_value_sealed or NULL */
    const char *secret_sealed;     /* agents.webhook_secret_sealed or NULL */
    const char *attempt_id;        /* job_attempts.id of this attempt */
    const char *kind;              /* jobs.kind: "callback", "notify", "channel.ntfy", ... */
    /* Channel jobs (kind "channel.*"); NULL otherwise. */
    const char *channel_id;
    const char *channel_kind;
    const char *channel_config;        /* channels.config, JSON text */
    const char *channel_secret_sealed; /* channels.secret_sealed */
    const char *subscription_id;       /* Web Push: the subscription sent to */
    const char *sub_p256dh;            /* its public key (base64url) */
    const char *sub_auth_sealed;       /* its auth secret, sealed */
    bool approval_closed;              /* the job is only for a pending approval, and it is not */
    /* For a job queued without a body, the row to render it from: the
     * closed approval (kinds "callback", "ask_callback") or the action
     * response (kind "project_webhook"); NULL otherwise. */
    hp_approval_row *approval;
    hp_inbox_response *response;
} hp_job;

/* Leases up to limit due jobs (state 'queued', run_at passed, no live lease)
 * to worker for lease_ms, counts the attempt, and logs it in job_attempts.
 * *jobs (pool memory) and *n get the claimed jobs. Blocks on the database. */
HP_MUSTCHECK hp_err hp_store_jobs_claim(hp_dbconn *c, hp_pool *pool, const char *worker, int limit,
                                        int lease_ms, hp_job **jobs, int *n, char *err,
                                        size_t errcap);

/* How an attempt ended. */
typedef enum {
    HP_JOB_DELIVERED = 0, /* 2xx: job done, approval 'delivered', callback_delivered event */
    HP_JOB_RETRY,         /* failed, attempts left: run again after retry_ms */
    HP_JOB_FAILED,        /* failed for good: approval 'failed', callback_failed event */
    HP_JOB_SKIPPED,       /* not sent, nothing to retry (its approval closed first): done */
} hp_job_outcome;

/* The end of one attempt, for hp_store_jobs_finish. */
typedef struct hp_job_result {
    const hp_job *job;
    hp_job_outcome outcome;
    int http_status;   /* 0 when there was no response */
    const char *error; /* short and redacted, NULL when delivered */
    int duration_ms;
    int64_t retry_ms; /* HP_JOB_RETRY: delay before the next attempt */
    bool lease_held;  /* out: false when another worker had taken the job over */
} hp_job_result;

/* Records the end of n attempts in ONE statement (one commit however many
 * attempts ended together): each attempt row, and — where worker still holds
 * the job's lease — the job's state (done, failed, or queued again at
 * now + retry_ms); for callbacks the approval's result_delivery_status/_error
 * and the callback_delivered/callback_failed audit event; for channel jobs
 * the channel's (and push subscription's) last success or last error. A job
 * taken over by another worker only gets its attempt row (lease_held false).
 * Blocks on the database. */
HP_MUSTCHECK hp_err hp_store_jobs_finish(hp_dbconn *c, const char *worker, hp_job_result *rs, int n,
                                         char *err, size_t errcap);

/* Gives back the leases of the jobs whose ids are listed (text ids), without
 * counting their attempts, so another worker sends them at once (shutdown).
 * Only leases still held by worker are released. */
HP_MUSTCHECK hp_err hp_store_jobs_release(hp_dbconn *c, const char *worker, const char *const *ids,
                                          int n, char *err, size_t errcap);

/* Milliseconds until the next queued job becomes claimable (its run_at, or
 * its lease expiry when leased) by the database clock: 0 when one is due now,
 * -1 when no job is queued. */
HP_MUSTCHECK hp_err hp_store_jobs_next_ms(hp_dbconn *c, int64_t *ms, char *err, size_t errcap);

/* Jobs waiting to be sent (state 'queued'), for the outbox-depth gauge. */
HP_MUSTCHECK hp_err hp_store_jobs_queued_count(hp_dbconn *c, long long *n, char *err,
                                               size_t errcap);

#endif
