/*
 * hp_approval_ops: the approval state transitions. Each runs in one
 * transaction on a borrowed connection so the state change, its audit event,
 * its outbox job and its wake notification commit or vanish together.
 *
 * Create is race-safe without locks of its own: the unique index on
 * (agent_id, request_id) decides between concurrent identical creates, and the
 * loser re-reads the winner's row. A decision locks the approval row, so of
 * concurrent decisions the first commits and the rest see a closed row.
 */
#include <stdlib.h>
#include <string.h>

#include "hp_approval.h"
#include "hp_approval_ops.h"
#include "hp_ask.h"
#include "hp_crypto.h"
#include "hp_fault.h"
#include "hp_inbox.h"
#include "hp_json.h"
#include "hp_mem.h"
#include "hp_store_approval.h"
#include "hp_store_fanout.h"
#include "hp_store_inbox.h"
#include "hp_store_notif.h"
#include "hp_str.h"

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

hp_err hp_approval_create(hp_dbconn *c, hp_pool *pool, const hp_approval_env *env,
                          const char *team_id, const char *agent_id, bool team_has_quota,
                          const hp_approval_input *plain, hp_create_result *out, char *err,
                          size_t errcap)
{
    hp_approval_input sealed;
    const hp_approval_input *in = &sealed;
    char uuid[HP_UUID_LEN + 1];
    const char *request_id = plain->request_id;
    bool found = false, allowed = true, inserted = false;
    hp_err rc;

    memset(out, 0, sizeof(*out));
    hp__seal_headers(pool, env, plain, &sealed);
    if (request_id == NULL) {
        hp_uuid_v4(uuid);
        request_id = uuid;
    } else {
        /* Cheap pre-check outside any transaction: most retries end here. */
        rc = hp__create_existing(c, pool, team_id, agent_id, in, out, &found, err, errcap);
        if (rc != HP_OK || found)
            return rc;
    }

    if (!team_has_quota) {
        rc = hp_store_approval_insert_all(c, pool, team_id, agent_id, request_id,
                                          in->request_id != NULL, in, env->notify_creates,
                                          &out->row, &inserted, err, errcap);
        if (rc != HP_OK)
            return rc == HP_ERR_UNAVAILABLE ? rc : HP_ERR_CREATE_FAILED;
        if (inserted)
            return HP_OK;
        return hp__create_lost_race(c, pool, team_id, agent_id, in, out, err, errcap);
    }

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
    rc = hp_store_approval_insert(c, pool, team_id, agent_id, request_id, in->request_id != NULL,
                                  in, &out->row, &inserted, err, errcap);
    if (rc != HP_OK)
        goto fail;
    if (!inserted) {
        hp_db_rollback(c); /* gives the quota unit back */
        return hp__create_lost_race(c, pool, team_id, agent_id, in, out, err, errcap);
    }
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
    return HP_OK;

fail:
    hp_db_rollback(c);
    return rc == HP_ERR_UNAVAILABLE ? rc : HP_ERR_CREATE_FAILED;
}

/* The action response a close records (seed 004), or false when it records
 * none: a chosen option (by a person, or as the timeout default) is a button
 * response whose decision_key is the option's value; a custom instruction is
 * a text reply. */
static bool hp__response_of(const hp_approval_row *row, const hp_decision *d, hp_inbox_record *rec)
{
    json_object *opt = NULL;
    bool expired = strcmp(row->status, "expired") == 0;

    memset(rec, 0, sizeof(*rec));
    rec->button_index = -1;
    rec->decided_at = -1;
    if (strcmp(row->status, "custom_instruction") == 0 && row->custom_instruction != NULL) {
        rec->kind = "reply";
        rec->action = "text_reply";
        rec->response_text = row->custom_instruction;
    } else if ((strcmp(row->status, "selected_option") == 0 || expired) &&
               row->selected_option_index >= 0 && row->options != NULL &&
               (size_t)row->selected_option_index < json_object_array_length(row->options)) {
        opt = json_object_array_get_idx(row->options, (size_t)row->selected_option_index);
        rec->kind = "button";
        rec->action = expired ? "timeout_default" : "button_pressed";
        rec->button_index = row->selected_option_index;
        rec->button_label = hp_json_str(opt, "label");
        rec->decision_key = hp_json_str(opt, "value");
        rec->is_timeout_default = expired;
    } else {
        return false;
    }
    rec->team_id = row->team_id;
    rec->agent_id = row->agent_id;
    rec->session_id = row->session_id;
    rec->notification_id = row->id;
    rec->approval_id = row->id;
    rec->notification_client_event_id = row->correlation_id;
    rec->user_id = row->resolved_by_user_id;
    rec->user_name = row->resolved_by_name;
    rec->notification_title = row->question;
    rec->notification_message = row->context_markdown;
    rec->decided_at = row->resolved_at;
    if (d != NULL) {
        rec->client_event_id = d->client_event_id;
        rec->device = d->device;
    }
    return true;
}

static hp_err hp__closed_effects(hp_dbconn *c, const hp_approval_env *env,
                                 const hp_approval_row *row, const char *kind,
                                 const char *actor_type, const char *actor_id, const hp_decision *d,
                                 char *err, size_t errcap)
{
    json_object *data = json_object_new_object();
    hp_inbox_record rec;
    hp_err rc;

    hp_json_set_str(data, "status", row->status);
    if (d != NULL && d->surface != NULL)
        hp_json_set_str(data, "surface", d->surface);
    if (row->selected_option_index >= 0)
        json_object_object_add(data, "selected_option_index",
                               json_object_new_int(row->selected_option_index));
    if (row->custom_instruction != NULL)
        json_object_object_add(data, "has_custom_instruction", json_object_new_boolean(1));
    if (row->is_timeout_default)
        json_object_object_add(data, "is_timeout_default", json_object_new_boolean(1));
    if (d != NULL && d->device != NULL)
        hp_json_set_str(data, "device", d->device);
    if (d != NULL && d->via != NULL) {
        hp_json_set_str(data, "via", d->via);
        if (d->channel_id != NULL)
            hp_json_set_str(data, "channel_id", d->channel_id);
    }
    rc = hp_store_event_add(c, row->id, row->team_id, kind, actor_type, actor_id,
                            hp_json_text(data), err, errcap);
    json_object_put(data);
    if (rc != HP_OK)
        return rc;
    if (row->callback_url != NULL) {
        /* An Ask API question calls back only with an answer, in seed 000's
         * shape; every other approval with seed 003's result on any close. */
        bool ask = hp_ask_is_question(row);
        json_object *body = ask ? hp_ask_callback_json(row) : hp_approval_result_json(row);
        if (body != NULL)
            rc = hp_store_job_add_callback(c, row, ask ? HP_ASK_CALLBACK_JOB : "callback",
                                           hp_json_text(body), env->callback_max_attempts, err,
                                           errcap);
        json_object_put(body);
        if (rc != HP_OK)
            return rc;
    }
    /* The team webhook hears of every close; the other channels ask, and
     * a closed approval has nothing left to ask. */
    {
        char body[64];
        (void)hp_fmt(body, sizeof(body), "{\"event\":\"%s\"}",
                     strcmp(kind, "resolved") == 0 ? "decided" : kind);
        rc = hp_store_fanout_queue(c, row->team_id, row->agent_id, row->id, body, true, NULL, err,
                                   errcap);
        if (rc != HP_OK)
            return rc;
    }
    if (hp__response_of(row, d, &rec)) {
        hp_inbox_env ienv = {.webhook_max_attempts = env->callback_max_attempts};
        hp_pool *pool = hp_pool_new();
        hp_inbox_response resp;
        /* The agent: wake below carries its key, in the same NOTIFY. */
        rc = hp_inbox_record_add(c, pool, &ienv, &rec, false, &resp, err, errcap);
        hp_pool_free(pool);
        if (rc != HP_OK)
            return rc;
    }
    {
        char msg[HP_WAKE_MSG_MAX];
        hp_approval_wake_msg_agent(row->id, row->team_id, row->agent_id, msg, sizeof(msg));
        return hp_store_notify_approval(c, msg, err, errcap);
    }
}

hp_err hp_approval_closed_effects(hp_dbconn *c, const hp_approval_env *env,
                                  const hp_approval_row *row, const char *kind,
                                  const char *actor_type, const char *actor_id, char *err,
                                  size_t errcap)
{
    return hp__closed_effects(c, env, row, kind, actor_type, actor_id, NULL, err, errcap);
}

hp_err hp_approval_decide(hp_dbconn *c, hp_pool *pool, const hp_approval_env *env,
                          const char *team_id, const char *approval_id, const hp_decision *d,
                          hp_approval_row *out, char *err, size_t errcap)
{
    hp_approval_row cur;
    bool found = false, updated = false;
    const char *status = "cancelled", *kind = "cancelled";
    int idx = -1;
    hp_err rc;

    rc = hp_db_begin(c, err, errcap);
    if (rc != HP_OK)
        return rc;
    rc = hp_store_approval_by_id(c, pool, team_id, approval_id, true, &cur, &found, err, errcap);
    if (rc != HP_OK)
        goto fail;
    if (!found) {
        rc = HP_ERR_NOT_FOUND;
        goto fail;
    }
    if (strcmp(cur.status, "pending") != 0) {
        hp_err_set(err, errcap, "approval is already %s", cur.status);
        rc = HP_ERR_ALREADY_RESOLVED;
        goto fail;
    }
    if (d->kind == HP_DECIDE_OPTION) {
        size_t n = cur.options ? json_object_array_length(cur.options) : 0;
        if (d->option_index < 0 || (size_t)d->option_index >= n) {
            hp_err_set(err, errcap, "option_index must be from 0 to %zu", n ? n - 1 : 0);
            rc = HP_ERR_INVALID_PAYLOAD;
            goto fail;
        }
        status = "selected_option";
        kind = "resolved";
        idx = d->option_index;
    } else if (d->kind == HP_DECIDE_CUSTOM) {
        if (!cur.allow_custom_instruction) {
            hp_err_set(err, errcap, "this approval does not accept a custom instruction");
            rc = HP_ERR_INVALID_PAYLOAD;
            goto fail;
        }
        status = "custom_instruction";
        kind = "resolved";
    }
    rc = hp_store_approval_close(c, pool, approval_id, status, idx,
                                 d->kind == HP_DECIDE_CUSTOM ? d->custom_instruction : NULL, false,
                                 d->user_id, d->user_name, out, &updated, err, errcap);
    if (rc != HP_OK)
        goto fail;
    if (!updated) { /* cannot happen under the row lock; kept for safety */
        rc = HP_ERR_ALREADY_RESOLVED;
        goto fail;
    }
    out->agent_display_name = cur.agent_display_name;
    rc = hp__closed_effects(c, env, out, kind, d->actor_type, d->actor_id, d, err, errcap);
    if (rc != HP_OK)
        goto fail;
    if (HP_FAULT("decide.before_commit")) {
        hp_err_set(err, errcap, "fault point decide.before_commit");
        rc = HP_ERR_INTERNAL;
        goto fail;
    }
    return hp_db_commit(c, err, errcap);

fail:
    hp_db_rollback(c);
    return rc;
}

hp_err hp_approval_expire_if_due(hp_dbconn *c, hp_pool *pool, const hp_approval_env *env,
                                 const char *team_id, const char *approval_id, hp_approval_row *out,
                                 bool *expired, char *err, size_t errcap)
{
    *expired = false;
    return hp_store_approval_expire_one(c, pool, team_id, approval_id, "holdpoint-api",
                                        env->callback_max_attempts, out, expired, err, errcap);
}
