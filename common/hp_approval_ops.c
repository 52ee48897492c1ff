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
#include <string.h>

#include "hp_approval.h"
#include "hp_approval_ops.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_store_approval.h"
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

void hp_approval_wake_msg(const char *approval_id, const char *team_id, char *out, size_t cap)
{
    (void)hp_fmt(out, cap, "%s team:%s", approval_id, team_id);
}

hp_err hp_approval_create(hp_dbconn *c, hp_pool *pool, const hp_approval_env *env,
                          const char *team_id, const char *agent_id, bool team_has_quota,
                          const hp_approval_input *in, hp_create_result *out, char *err,
                          size_t errcap)
{
    char uuid[HP_UUID_LEN + 1];
    const char *request_id = in->request_id;
    bool found = false, allowed = true, inserted = false;
    hp_err rc;

    memset(out, 0, sizeof(*out));
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
    rc = hp_store_expiry_wake_if_earlier(c, out->row.expires_at, err, errcap);
    if (rc != HP_OK)
        goto fail;
    if (env->notify_creates) {
        char msg[HP_WAKE_MSG_MAX];
        hp_approval_wake_msg(out->row.id, team_id, msg, sizeof(msg));
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

hp_err hp_approval_closed_effects(hp_dbconn *c, const hp_approval_env *env,
                                  const hp_approval_row *row, const char *kind,
                                  const char *actor_type, const char *actor_id, char *err,
                                  size_t errcap)
{
    json_object *data = json_object_new_object();
    hp_err rc;

    hp_json_set_str(data, "status", row->status);
    if (row->selected_option_index >= 0)
        json_object_object_add(data, "selected_option_index",
                               json_object_new_int(row->selected_option_index));
    if (row->custom_instruction != NULL)
        json_object_object_add(data, "has_custom_instruction", json_object_new_boolean(1));
    if (row->is_timeout_default)
        json_object_object_add(data, "is_timeout_default", json_object_new_boolean(1));
    rc = hp_store_event_add(c, row->id, row->team_id, kind, actor_type, actor_id,
                            hp_json_text(data), err, errcap);
    json_object_put(data);
    if (rc != HP_OK)
        return rc;
    if (row->callback_url != NULL) {
        json_object *body = hp_approval_result_json(row);
        rc = hp_store_job_add_callback(c, row, hp_json_text(body), env->callback_max_attempts, err,
                                       errcap);
        json_object_put(body);
        if (rc != HP_OK)
            return rc;
    }
    {
        char msg[HP_WAKE_MSG_MAX];
        hp_approval_wake_msg(row->id, row->team_id, msg, sizeof(msg));
        return hp_store_notify_approval(c, msg, err, errcap);
    }
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
    rc = hp_approval_closed_effects(c, env, out, kind, d->actor_type, d->actor_id, err, errcap);
    if (rc != HP_OK)
        goto fail;
    return hp_db_commit(c, err, errcap);

fail:
    hp_db_rollback(c);
    return rc;
}
