/*
 * hp_approval_ops: the approval state transitions. Each runs in one
 * transaction on a borrowed connection so the state change, its audit event,
 * its outbox job and its wake notification commit or vanish together.
 *
 * Create is race-safe without locks of its own: the unique index on
 * (agent_id, request_id) decides between concurrent identical creates, and the
 * loser re-reads the winner's row. A decision is one statement
 * (hp_store_approval_decide) that locks the approval row, so of concurrent
 * decisions the first commits and the rest see a closed row; its effects
 * are written by the same SQL as an expiry batch's.
 */
#include <stdlib.h>
#include <string.h>

#include "hp_approval.h"
#include "hp_approval_ops.h"
#include "hp_batch.h"
#include "hp_crypto.h"
#include "hp_fault.h"
#include "hp_json.h"
#include "hp_log.h"
#include "hp_mem.h"
#include "hp_ratelimit.h"
#include "hp_store_approval.h"
#include "hp_store_fanout.h"
#include "hp_store_notif.h"
#include "hp_str.h"
#include "hp_wake.h"

/* Looks up an existing approval for an idempotent create and fills *out. */
static hp_err hp__create_existing(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                  const char *agent_id, const hp_approval_input *in,
                                  hp_create_result *out, bool *found, char *err, size_t errcap)
{
    bool same = false;
    hp_err rc = hp_store_approval_by_request(c, pool, team_id, agent_id, in->request_id, in->hash,
                                             &out->row, found, &same, err, errcap);
    if (rc == HP_OK && *found) {
        out->idempotent = same;
        out->conflict = !same;
    }
    return rc;
}

/* A concurrent create with the same request_id committed first: answer as
 * its idempotent repeat (or conflict). */
static hp_err hp__create_lost_race(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                   const char *agent_id, const hp_approval_input *in,
                                   hp_create_result *out, char *err, size_t errcap)
{
    bool found = false;
    hp_err rc = hp__create_existing(c, pool, team_id, agent_id, in, out, &found, err, errcap);

    if (rc == HP_OK && !found) {
        hp_err_set(err, errcap, "approval vanished after a request_id conflict");
        rc = HP_ERR_CREATE_FAILED;
    }
    return rc;
}

void hp_approval_created_wake_msg(const char *team_id, char *out, size_t cap)
{
    (void)hp_fmt(out, cap, "team:%s", team_id);
}

void hp_approval_wake_msg_agent(const char *approval_id, const char *team_id, const char *agent_id,
                                char *out, size_t cap)
{
    (void)hp_fmt(out, cap, "%s team:%s agent:%s", approval_id, team_id, agent_id);
}

/* Per-approval callback headers often carry credentials (Authorization:
 * Bearer ...): they are stored sealed like agent-level secrets, in the
 * approval and in every outbox job copied from it. The input's canonical
 * hash, which idempotent repeats compare, was taken from the plain body. */
static void hp__seal_headers(hp_pool *pool, const hp_approval_env *env, const hp_approval_input *in,
                             hp_approval_input *sealed)
{
    *sealed = *in; /* a view: ownership stays with in */
    sealed->callback_headers_sealed = NULL;
    if (in->callback_headers != NULL && json_object_object_length(in->callback_headers) > 0) {
        const char *text = hp_json_text(in->callback_headers);
        char *s = hp_secret_seal(env->secret_key, text, strlen(text));
        hp_pool_defer(pool, free, s);
        sealed->callback_headers_sealed = s;
    }
}

/* A create handed to env->creates, and what became of it. */
typedef struct hp__create_job {
    hp_insert_query *q;
    hp_dbconn *c; /* the asking request's connection */
    int batched;  /* how many shared the statement */
    hp_err rc;
    char err[HP_ERRBUF];
} hp__create_job;

/* Publishes the wake message of each team of the n inserted creates, once
 * per team, in one pipeline; a failure is logged (live views then learn of
 * the creates at their next wake or refresh). */
static void hp__publish_created(const hp_approval_env *env, hp_insert_query *const *q, int n)
{
    char(*msg)[HP_WAKE_MSG_MAX];
    const char **msgs;
    char err[HP_ERRBUF];
    int m = 0;

    if (env->redis == NULL || n <= 0)
        return;
    msg = hp_xcalloc((size_t)n, sizeof(*msg));
    msgs = hp_xcalloc((size_t)n, sizeof(*msgs));
    for (int i = 0; i < n; i++) {
        bool seen = false;
        if (!q[i]->inserted)
            continue;
        hp_approval_created_wake_msg(q[i]->team_id, msg[m], sizeof(msg[m]));
        for (int k = 0; k < m && !seen; k++)
            seen = strcmp(msgs[k], msg[m]) == 0;
        if (!seen) {
            msgs[m] = msg[m];
            m++;
        }
    }
    if (hp_redis_publish_many(env->redis, HP_WAKE_REDIS_CHANNEL, msgs, m, err, sizeof(err)) !=
        HP_OK)
        hp_log_warn("could not publish a wakeup", "reason", err);
    free(msgs);
    free(msg);
}

/* A failure of the rate window's store as a create answers it: 503 for an
 * outage, else the create failed. */
static hp_err hp__count_failed(hp_err rc)
{
    return rc == HP_ERR_UNAVAILABLE ? rc : HP_ERR_CREATE_FAILED;
}

void hp_approval_create_batch_run(void *ctx, void **items, int n)
{
    const hp_approval_env *env = ctx;
    hp__create_job **jobs = (hp__create_job **)items, *lead = jobs[0];
    hp_insert_query **q = hp_xcalloc((size_t)n, sizeof(*q));
    char err[HP_ERRBUF];
    hp_err rc;

    for (int i = 0; i < n; i++)
        q[i] = jobs[i]->q;
    rc = hp_store_approval_insert_all(lead->c, q, n, env->notify_creates, err, sizeof(err));
    for (int i = 0; i < n; i++) {
        jobs[i]->rc = rc;
        jobs[i]->batched = n;
        if (rc != HP_OK)
            hp_strlcpy(jobs[i]->err, err, sizeof(jobs[i]->err));
    }
    if (rc == HP_OK)
        hp__publish_created(env, q, n);
    free(q);
}

/* Counts one create in its agent's window when env asks for it. */
static hp_err hp__count_one(hp_dbconn *c, const hp_approval_env *env, const char *agent_id,
                            hp_create_result *out, char *err, size_t errcap)
{
    hp_ratelimit_result rl;
    hp_err rc;

    if (env->rate_limit_max <= 0)
        return HP_OK;
    rc = hp_ratelimit_hit(env->redis, c, agent_id, env->rate_limit_max, env->rate_limit_window_ms,
                          &rl, err, errcap);
    if (rc == HP_OK && !rl.allowed) {
        out->retry_after_ms = rl.retry_after_ms;
        hp_err_set(err, errcap, "the agent's create rate window is full");
        return HP_ERR_RATE_LIMITED;
    }
    return rc == HP_OK ? rc : hp__count_failed(rc);
}

/* The one-statement create of q, counted in its rate window and shared
 * with concurrent creates through env->creates when the API has one. A
 * shared statement that fails fails for all of its creates (one
 * transaction), so each then tries alone: one create's bad row (its agent
 * deleted a moment ago) costs the others a retry, never their approval. */
static hp_err hp__insert_all(hp_dbconn *c, const hp_approval_env *env, hp_insert_query *q,
                             hp_create_result *out, char *err, size_t errcap)
{
    /* Each request counts its own create, on its own thread, before it
     * joins a batch, so a statement never waits for the rate limit's round
     * trip (docs/internals/batching.md). */
    hp__create_job job = {.q = q, .c = c};
    hp_err rc = hp__count_one(c, env, q->agent_id, out, err, errcap);

    if (rc != HP_OK)
        return rc;
    if (env->creates != NULL) {
        hp_batch_run(env->creates, &job);
        if (job.rc == HP_OK || job.batched <= 1 || job.rc == HP_ERR_UNAVAILABLE) {
            if (job.rc != HP_OK)
                hp_err_set(err, errcap, "%s", job.err);
            return job.rc;
        }
    }
    rc = hp_store_approval_insert_all(c, &q, 1, env->notify_creates, err, errcap);
    if (rc == HP_OK)
        hp__publish_created(env, &q, 1);
    return rc;
}

hp_err hp_approval_create(hp_dbconn *c, hp_pool *pool, const hp_approval_env *env,
                          const char *team_id, const char *agent_id, bool team_has_quota,
                          const hp_key_memo *memo, const hp_approval_input *plain,
                          hp_create_result *out, char *err, size_t errcap)
{
    hp_approval_input sealed;
    const hp_approval_input *in = &sealed;
    char uuid[HP_UUID_LEN + 1];
    const char *request_id = plain->request_id;
    bool found = false, allowed = true;
    hp_err rc;

    memset(out, 0, sizeof(*out));
    if (memo != NULL && (plain->request_id != NULL || team_has_quota)) {
        /* Both would answer without the insert that checks the key. */
        hp_err_set(err, errcap, "a remembered key must be looked up for this create");
        return HP_ERR_INTERNAL;
    }
    hp__seal_headers(pool, env, plain, &sealed);
    if (request_id == NULL) {
        hp_uuid_v4(uuid);
        request_id = uuid;
    } else {
        /* Cheap pre-check outside any transaction: most retries end here,
         * counted in the rate window like any create. */
        rc = hp__create_existing(c, pool, team_id, agent_id, in, out, &found, err, errcap);
        if (rc == HP_OK && found)
            rc = hp__count_one(c, env, agent_id, out, err, errcap);
        if (rc != HP_OK || found)
            return rc;
    }

    hp_insert_query q = {.team_id = team_id,
                         .agent_id = agent_id,
                         .request_id = request_id,
                         .request_id_supplied = in->request_id != NULL,
                         .in = in,
                         .pool = pool,
                         .memo = memo};
    if (!team_has_quota) {
        rc = hp__insert_all(c, env, &q, out, err, errcap);
        if (rc != HP_OK)
            return rc == HP_ERR_UNAVAILABLE || rc == HP_ERR_RATE_LIMITED ? rc
                                                                         : HP_ERR_CREATE_FAILED;
        if (q.inserted) {
            out->row = q.row;
            return HP_OK;
        }
        if (memo != NULL) {
            /* Its request_id is new, so only the key's check left it out. */
            hp_err_set(err, errcap,
                       "the remembered API key was revoked, its team given a quota or an "
                       "agent's defaults changed");
            return HP_ERR_INVALID_API_KEY;
        }
        return hp__create_lost_race(c, pool, team_id, agent_id, in, out, err, errcap);
    }

    rc = hp__count_one(c, env, agent_id, out, err, errcap);
    if (rc != HP_OK)
        return rc;
    rc = hp_db_begin(c, err, errcap);
    if (rc != HP_OK)
        return rc;
    rc = hp_store_quota_take(c, team_id, &allowed, err, errcap);
    if (rc != HP_OK)
        goto fail;
    if (!allowed) {
        hp_db_rollback(c);
        return HP_ERR_USAGE_LIMIT;
    }
    rc = hp_store_approval_insert(c, &q, err, errcap);
    if (rc != HP_OK)
        goto fail;
    if (!q.inserted) {
        hp_db_rollback(c); /* gives the quota unit back */
        return hp__create_lost_race(c, pool, team_id, agent_id, in, out, err, errcap);
    }
    out->row = q.row;
    rc = hp_store_event_add(c, out->row.id, team_id, "created", "agent", agent_id, NULL, err,
                            errcap);
    if (rc != HP_OK)
        goto fail;
    if (in->session_id != NULL) {
        rc = hp_store_notif_session_touch(c, team_id, agent_id, in->session_id, err, errcap);
        if (rc != HP_OK)
            goto fail;
    }
    rc = hp_store_expiry_wake_for(c, out->row.id, err, errcap);
    if (rc != HP_OK)
        goto fail;
    rc = hp_store_fanout_queue(c, team_id, agent_id, out->row.id, "{\"event\":\"created\"}", false,
                               NULL, err, errcap);
    if (rc != HP_OK)
        goto fail;
    if (env->notify_creates) {
        char msg[HP_WAKE_MSG_MAX];
        hp_approval_created_wake_msg(team_id, msg, sizeof(msg));
        rc = hp_store_notify_approval(c, msg, err, errcap);
        if (rc != HP_OK)
            goto fail;
    }
    rc = hp_db_commit(c, err, errcap);
    if (rc != HP_OK)
        goto fail;
    {
        hp_insert_query *one = &q;
        hp__publish_created(env, &one, 1);
    }
    return HP_OK;

fail:
    hp_db_rollback(c);
    return rc == HP_ERR_UNAVAILABLE ? rc : HP_ERR_CREATE_FAILED;
}

/* The audit event's data of decision d: the new status, where it was made
 * and how (surface, device, link or Slack button and its channel), the
 * chosen option, whether a custom instruction came. New reference. */
static json_object *hp__event_data(const hp_decision *d, const char *status)
{
    json_object *data = json_object_new_object();

    hp_json_set_str(data, "status", status);
    if (d->surface != NULL)
        hp_json_set_str(data, "surface", d->surface);
    if (d->kind == HP_DECIDE_OPTION)
        json_object_object_add(data, "selected_option_index", json_object_new_int(d->option_index));
    if (d->kind == HP_DECIDE_CUSTOM && d->custom_instruction != NULL)
        json_object_object_add(data, "has_custom_instruction", json_object_new_boolean(1));
    if (d->device != NULL)
        hp_json_set_str(data, "device", d->device);
    if (d->via != NULL) {
        hp_json_set_str(data, "via", d->via);
        if (d->channel_id != NULL)
            hp_json_set_str(data, "channel_id", d->channel_id);
    }
    return data;
}

/* The decision's wake message on Redis too, its row sealed (hp_wake_seal):
 * whichever of NOTIFY and Redis reaches a replica first answers its
 * long-polls from the row. Without a key, the keys alone. */
static void hp__publish_decided(const hp_approval_env *env, const char *msg)
{
    char err[HP_ERRBUF], *m;

    if (env->redis == NULL || msg == NULL)
        return;
    m = hp_wake_seal(env->wake_key, msg);
    if (hp_wake_publish(env->redis, m, err, sizeof(err)) != HP_OK)
        hp_log_warn("could not publish a wakeup", "reason", err);
    free(m);
}

hp_err hp_approval_decide(hp_dbconn *c, hp_pool *pool, const hp_approval_env *env,
                          const char *team_id, const char *approval_id, const hp_decision *d,
                          hp_approval_row *out, char *err, size_t errcap)
{
    hp_store_decide sd = {.approval_id = approval_id,
                          .team_id = team_id,
                          .kind = HP_STORE_DECIDE_CANCEL,
                          .option_index = -1,
                          .status = "cancelled",
                          .event_kind = "cancelled",
                          .actor_type = d->actor_type,
                          .actor_id = d->actor_id,
                          .max_attempts = env->callback_max_attempts,
                          .client_event_id = d->client_event_id,
                          .device = d->device,
                          .keep_result = env->decided_fn != NULL,
                          .response = d->response};
    hp_store_decided res;
    json_object *data;
    hp_err rc;

    if (d->kind == HP_DECIDE_OPTION) {
        sd.kind = HP_STORE_DECIDE_OPTION;
        sd.option_index = d->option_index; /* out of range: refused by the statement */
        sd.status = "selected_option";
        sd.event_kind = "resolved";
    } else if (d->kind == HP_DECIDE_CUSTOM) {
        sd.kind = HP_STORE_DECIDE_CUSTOM;
        sd.custom_instruction = d->custom_instruction;
        sd.status = "custom_instruction";
        sd.event_kind = "resolved";
    }
    sd.user_id = d->user_id;
    sd.user_name = d->user_name;
    sd.token_prefix = d->token_prefix;
    sd.token_hash = d->token_hash;
    data = hp__event_data(d, sd.status);
    sd.event_data = hp_json_text(data);
    rc = hp_store_approval_decide(c, pool, &sd, out, &res, err, errcap);
    json_object_put(data);
    if (rc != HP_OK)
        return rc;
    if (res.token_refused)
        return HP_ERR_INVALID_USER_TOKEN;
    if (!res.found)
        return HP_ERR_NOT_FOUND;
    switch (res.refusal) {
    case HP_STORE_DECIDED:
        break;
    case HP_STORE_DECIDE_CLOSED:
        hp_err_set(err, errcap, "approval is already %s", res.status);
        return HP_ERR_ALREADY_RESOLVED;
    case HP_STORE_DECIDE_BAD_OPTION:
        hp_err_set(err, errcap, "option_index must be from 0 to %d",
                   res.options > 0 ? res.options - 1 : 0);
        return HP_ERR_INVALID_PAYLOAD;
    case HP_STORE_DECIDE_NO_CUSTOM:
        hp_err_set(err, errcap, "this approval does not accept a custom instruction");
        return HP_ERR_INVALID_PAYLOAD;
    }
    /* Committed with every effect, its NOTIFY sent; the answer is the
     * caller's. A crash here must lose none of it. */
    (void)HP_FAULT("decide.after_commit");
    if (res.result != NULL)
        env->decided_fn(env->decided_ctx, out->team_id, approval_id, res.result);
    hp__publish_decided(env, res.wake_msg);
    return HP_OK;
}

hp_err hp_approval_expire_if_due(hp_dbconn *c, hp_pool *pool, const hp_approval_env *env,
                                 const char *team_id, const char *approval_id, hp_approval_row *out,
                                 bool *expired, char *err, size_t errcap)
{
    *expired = false;
    return hp_store_approval_expire_one(c, pool, team_id, approval_id, "holdpoint-api",
                                        env->callback_max_attempts, out, expired, err, errcap);
}
