/*
 * hp_store_fanout: notify jobs, their expansion and reminder/escalation
 * steps (see hp_store_fanout.h). The expansion's children, the notify job's
 * end and its attempt row commit together, which is what makes each
 * destination's job exist exactly once.
 */
#include <stdlib.h>
#include <string.h>

#include "hp_json.h"
#include "hp_mem.h"
#include "hp_store_fanout.h"
#include "hp_str.h"

/* Runs sql; on success *res lives as long as pool and *rows (of size
 * each, zeroed) is an array in pool with *n entries. */
static hp_err hp__rows(hp_dbconn *c, hp_pool *pool, const char *sql, int n, const char *const *p,
                       PGresult **res, size_t size, void **rows, int *nrows, char *err,
                       size_t errcap)
{
    hp_err rc = hp_db_exec(c, res, sql, n, p, err, errcap);

    *rows = NULL;
    *nrows = 0;
    if (rc != HP_OK)
        return rc;
    *rows = hp_db_keep_rows(pool, *res, size, nrows);
    return HP_OK;
}

hp_err hp_store_fanout_queue(hp_dbconn *c, const char *team_id, const char *agent_id,
                             const char *approval_id, const char *body_json, bool webhook_only,
                             bool *queued, char *err, size_t errcap)
{
    /* The existence probe uses channels_team_enabled_idx; a team without
     * channels pays one index probe and no NOTIFY. */
    static const char sql[] =
        "with j as (insert into jobs (team_id, kind, approval_id, agent_id, url, body, "
        "  webhook_id, max_attempts) select $1, 'notify', $3, $2, '', $4, "
        "  'ntf_' || gen_random_uuid(), " HP_STORE_FANOUT_NOTIFY_ATTEMPTS " where exists "
        "  (select 1 from channels ch where ch.team_id = $1 and ch.enabled and "
        "  (not $5::boolean or ch.kind = 'webhook')) "
        "  returning id) "
        "select count(*), (select count(*) from (select pg_notify('hp_jobs', '') from j) x) "
        "from j";
    const char *p[] = {team_id, agent_id, approval_id, body_json, webhook_only ? "t" : "f"};
    PGresult *r = NULL;
    hp_err rc;

    rc = hp_db_exec(c, &r, sql, 5, p, err, errcap);
    if (rc == HP_OK && queued != NULL)
        *queued = hp_db_ll(r, 0, 0, 0) > 0;
    PQclear(r);
    return rc;
}

/* ---- expansion --------------------------------------------------------------- */

hp_err hp_store_fanout_begin(hp_dbconn *c, const char *job_id, const char *worker, bool *held,
                             char *err, size_t errcap)
{
    const char *p[] = {job_id, worker};
    PGresult *r = NULL;
    hp_err rc;

    *held = false;
    rc = hp_db_begin(c, err, errcap);
    if (rc != HP_OK)
        return rc;
    rc = hp_db_exec(c, &r,
                    "select 1 from jobs where id = $1::bigint and leased_by = $2 and "
                    "state = 'queued' for update",
                    2, p, err, errcap);
    if (rc == HP_OK)
        *held = PQntuples(r) > 0;
    PQclear(r);
    if (rc != HP_OK || !*held)
        hp_db_rollback(c);
    return rc;
}

hp_err hp_store_fanout_channels(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                const char *agent_id, json_object *ids, bool webhook_only,
                                hp_fanout_channel **chans, int *n, char *err, size_t errcap)
{
    static const char sql[] = "select ch.id, ch.kind, ch.name, ch.config::text from channels ch "
                              "left join agent_notify s on s.agent_id = $2::uuid "
                              "where ch.team_id = $1 and ch.enabled "
                              "and case when $3::jsonb is not null then ch.id::text in "
                              "  (select jsonb_array_elements_text($3::jsonb)) "
                              "  else s.channel_ids is null or ch.id = any(s.channel_ids) end "
                              "and (not $4::boolean or ch.kind = 'webhook') "
                              "order by ch.created_at, ch.id";
    const char *p[] = {team_id, agent_id, ids != NULL ? hp_json_text(ids) : NULL,
                       webhook_only ? "t" : "f"};
    PGresult *r;
    void *rows;
    hp_err rc = hp__rows(c, pool, sql, 4, p, &r, sizeof(**chans), &rows, n, err, errcap);

    *chans = rows;

    for (int i = 0; rc == HP_OK && i < *n; i++) {
        hp_fanout_channel *x = &(*chans)[i];
        x->id = hp_db_val(r, i, 0);
        x->kind = hp_db_val(r, i, 1);
        x->name = hp_db_val(r, i, 2);
        x->config = hp_db_val(r, i, 3);
    }
    return rc;
}

hp_err hp_store_fanout_members(hp_dbconn *c, hp_pool *pool, const char *team_id,
                               hp_fanout_member **members, int *n, char *err, size_t errcap)
{
    static const char sql[] =
        "select id, name, email from users where team_id = $1 order by created_at, id";
    const char *p[] = {team_id};
    PGresult *r;
    void *rows;
    hp_err rc = hp__rows(c, pool, sql, 1, p, &r, sizeof(**members), &rows, n, err, errcap);

    *members = rows;

    for (int i = 0; rc == HP_OK && i < *n; i++) {
        hp_fanout_member *x = &(*members)[i];
        x->id = hp_db_val(r, i, 0);
        x->name = hp_db_val(r, i, 1);
        x->email = hp_db_val(r, i, 2);
    }
    return rc;
}

hp_err hp_store_fanout_subscriptions(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                     hp_fanout_sub **subs, int *n, char *err, size_t errcap)
{
    static const char sql[] = "select id, user_id, endpoint from push_subscriptions "
                              "where team_id = $1 order by created_at, id";
    const char *p[] = {team_id};
    PGresult *r;
    void *rows;
    hp_err rc = hp__rows(c, pool, sql, 1, p, &r, sizeof(**subs), &rows, n, err, errcap);

    *subs = rows;

    for (int i = 0; rc == HP_OK && i < *n; i++) {
        hp_fanout_sub *x = &(*subs)[i];
        x->id = hp_db_val(r, i, 0);
        x->user_id = hp_db_val(r, i, 1);
        x->endpoint = hp_db_val(r, i, 2);
    }
    return rc;
}

hp_err hp_store_fanout_message(hp_dbconn *c, hp_pool *pool, const char *team_id,
                               const char *message_id, hp_fanout_message *m, bool *found, char *err,
                               size_t errcap)
{
    static const char sql[] =
        "select m.title, m.message, coalesce(m.agent_name, g.name) from messages m "
        "join agents g on g.id = m.agent_id where m.id = $1 and " HP_DB_FILTER_UUID("m.team_id",
                                                                                    "$2");
    const char *p[] = {message_id, team_id};
    const char *v[3];
    PGresult *r;
    hp_err rc = hp_db_exec(c, &r, sql, 2, p, err, errcap);

    memset(m, 0, sizeof(*m));
    *found = false;
    if (rc != HP_OK)
        return rc;
    *found = PQntuples(r) > 0;
    if (*found) {
        hp_db_row_copy(pool, r, 0, 0, 3, v);
        m->title = v[0];
        m->message = v[1];
        m->agent_name = v[2];
    }
    PQclear(r);
    return HP_OK;
}

hp_err hp_store_fanout_finish(hp_dbconn *c, const char *job_id, const char *attempt_id,
                              json_object *children, int max_attempts, bool failed,
                              const char *error, const char *test_channel_id, int duration_ms,
                              char *err, size_t errcap)
{
    static const char sql[] =
        "with k as (select * from jobs where id = $1::bigint), "
        "ins as (insert into jobs (team_id, kind, approval_id, agent_id, channel_id, "
        "  subscription_id, url, headers, body, webhook_id, max_attempts, only_pending, "
        "  parent_id) select k.team_id, x.kind, k.approval_id, k.agent_id, x.channel_id, "
        "  x.subscription_id, x.url, x.headers, x.body, 'msg_' || gen_random_uuid(), "
        "  $8::int, coalesce(x.only_pending, false), k.id from k, "
        "  jsonb_to_recordset($2::jsonb) as x(kind text, channel_id uuid, subscription_id uuid, "
        "  url text, headers jsonb, body text, only_pending boolean) returning id), "
        "j as (update jobs set state = case when $4::boolean then 'failed' else 'done' end, "
        "  lease_until = null, leased_by = null, last_error = $5, updated_at = now() "
        "  where id = $1::bigint), "
        "a as (update job_attempts set finished_at = now(), error = $5, duration_ms = $7::int "
        "  where id = $3::bigint), "
        "ch as (update channels set last_error = $5, last_error_at = now() "
        "  where id = $6::uuid and $4::boolean), "
        "n as (select pg_notify('hp_jobs', '') from (select 1 from ins limit 1) x) "
        "select (select count(*) from ins), (select count(*) from n)";
    char dur[16], ma[16];
    const char *p[] = {job_id, hp_json_text(children), attempt_id, failed ? "t" : "f",
                       error,  test_channel_id,        dur,        ma};
    hp_err rc;

    (void)hp_fmt(dur, sizeof(dur), "%d", duration_ms);
    (void)hp_fmt(ma, sizeof(ma), "%d", max_attempts);
    rc = hp_db_exec(c, NULL, sql, 8, p, err, errcap);
    if (rc == HP_OK)
        rc = hp_db_commit(c, err, errcap);
    if (rc != HP_OK)
        hp_db_rollback(c);
    return rc;
}

hp_err hp_store_fanout_push_gone(hp_dbconn *c, const char *const *ids, int n, char *err,
                                 size_t errcap)
{
    json_object *arr = json_object_new_array();
    hp_err rc;

    for (int i = 0; i < n; i++)
        json_object_array_add(arr, json_object_new_string(ids[i]));
    const char *p[] = {hp_json_text(arr)};
    rc = hp_db_exec(c, NULL,
                    "delete from push_subscriptions where id::text in "
                    "(select jsonb_array_elements_text($1::jsonb))",
                    1, p, err, errcap);
    json_object_put(arr);
    return rc;
}

hp_err hp_store_fanout_slack_update(hp_dbconn *c, const char *team_id, const char *approval_id,
                                    const char *channel_id, const char *response_url,
                                    const char *body, int max_attempts, char *err, size_t errcap)
{
    static const char sql[] =
        "with j as (insert into jobs (team_id, kind, approval_id, channel_id, url, body, "
        "  webhook_id, max_attempts) values ($1, 'channel.slack_update', $2, $3, $4, $5, "
        "  'msg_' || gen_random_uuid(), $6::int) returning id) "
        "select pg_notify('hp_jobs', '') from j";
    char ma[16];
    const char *p[] = {team_id, approval_id, channel_id, response_url, body, ma};

    (void)hp_fmt(ma, sizeof(ma), "%d", max_attempts);
    return hp_db_exec(c, NULL, sql, 6, p, err, errcap);
}

/* ---- deciding from a notification -------------------------------------------------- */

hp_err hp_store_fanout_link_target(hp_dbconn *c, hp_pool *pool, const char *approval_id,
                                   const char *channel_id, const char *user_id, hp_link_target *t,
                                   bool *found, char *err, size_t errcap)
{
    static const char sql[] =
        "select a.team_id, ch.name, ch.kind, u.name from approvals a "
        "left join channels ch on ch.id = nullif($2, '')::uuid and ch.team_id = a.team_id "
        "left join users u on u.id = nullif($3, '')::uuid and u.team_id = a.team_id "
        "where a.id = $1";
    const char *p[] = {approval_id, channel_id, user_id};
    const char *v[4];
    PGresult *r;
    hp_err rc = hp_db_exec(c, &r, sql, 3, p, err, errcap);

    memset(t, 0, sizeof(*t));
    *found = false;
    if (rc != HP_OK)
        return rc;
    *found = PQntuples(r) > 0;
    if (*found) {
        hp_db_row_copy(pool, r, 0, 0, 4, v);
        t->team_id = v[0];
        t->channel_name = v[1];
        t->channel_kind = v[2];
        t->user_name = v[3];
    }
    PQclear(r);
    return HP_OK;
}

hp_err hp_store_fanout_channel(hp_dbconn *c, hp_pool *pool, const char *channel_id,
                               hp_channel_ref *ch, bool *found, char *err, size_t errcap)
{
    const char *p[] = {channel_id};
    const char *v[5];
    PGresult *r;
    hp_err rc = hp_db_exec(
        c, &r, "select id, team_id, kind, name, secret_sealed from channels where id = $1", 1, p,
        err, errcap);

    memset(ch, 0, sizeof(*ch));
    *found = false;
    if (rc != HP_OK)
        return rc;
    *found = PQntuples(r) > 0;
    if (*found) {
        hp_db_row_copy(pool, r, 0, 0, 5, v);
        ch->id = v[0];
        ch->team_id = v[1];
        ch->kind = v[2];
        ch->name = v[3];
        ch->secret_sealed = v[4];
    }
    PQclear(r);
    return HP_OK;
}

/* ---- steps ---------------------------------------------------------------------- */

#define HP__STEPS HP_STORE_FANOUT_STEPS_SQL

hp_err hp_store_fanout_steps_due(hp_dbconn *c, int limit, int *n, char *err, size_t errcap)
{
    static const char sql[] =
        "with due as (select * from (" HP__STEPS ") x where due_at <= now() "
        "  order by due_at limit $1::int), "
        "ins as (insert into approval_notify_steps (approval_id, step, team_id) "
        "  select id, step, team_id from due on conflict do nothing "
        "  returning approval_id, step), "
        "d2 as (select due.* from due join ins on ins.approval_id = due.id "
        "  and ins.step = due.step), "
        "j as (insert into jobs (team_id, kind, approval_id, agent_id, url, body, webhook_id, "
        "  max_attempts) select team_id, 'notify', id, agent_id, '', case step when 'remind' "
        "  then '{\"event\":\"reminder\"}' else jsonb_build_object('event', 'escalation', "
        "  'channel_ids', to_jsonb(escalate_channel_ids), 'user_ids', "
        "  to_jsonb(escalate_user_ids))::text end, 'ntf_' || "
        "gen_random_uuid(), " HP_STORE_FANOUT_NOTIFY_ATTEMPTS " "
        "  from d2 returning id), "
        "ev as (insert into approval_events (approval_id, team_id, kind, actor_type, actor_id, "
        "  data) select id, team_id, case step when 'remind' then 'reminded' else 'escalated' "
        "  end, 'system', 'holdpoint-timeout', case step when 'remind' then '{}'::jsonb else "
        "  jsonb_build_object('channel_ids', to_jsonb(escalate_channel_ids), 'user_ids', "
        "  to_jsonb(escalate_user_ids)) end from d2), "
        "nt as (select pg_notify('hp_jobs', '') from (select 1 from j limit 1) x) "
        "select (select count(*) from d2), (select count(*) from nt)";
    char lim[16];
    const char *p[] = {lim};
    PGresult *r = NULL;
    hp_err rc;

    (void)hp_fmt(lim, sizeof(lim), "%d", limit);
    rc = hp_db_exec(c, &r, sql, 1, p, err, errcap);
    *n = rc == HP_OK ? (int)hp_db_ll(r, 0, 0, 0) : 0;
    PQclear(r);
    return rc;
}

hp_err hp_store_fanout_steps_next_ms(hp_dbconn *c, int64_t *ms, char *err, size_t errcap)
{
    static const char sql[] =
        "select case when t is null then -1 else greatest(0, ceil(extract(epoch from "
        "t - clock_timestamp()) * 1000))::bigint end from (select min(due_at) as t from "
        "(" HP__STEPS ") x) y";
    PGresult *r = NULL;
    hp_err rc = hp_db_exec(c, &r, sql, 0, NULL, err, errcap);

    if (rc == HP_OK)
        *ms = hp_db_ll(r, 0, 0, -1);
    PQclear(r);
    return rc;
}
