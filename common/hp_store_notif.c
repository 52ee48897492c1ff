/*
 * hp_store_notif: the SQL behind hp_notif_ops.c and the session and message
 * reads. Times travel as microseconds since the epoch. A NULL parameter
 * disables its condition, so each read is one statement for every filter
 * combination.
 */
#include <string.h>

#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_store_fanout.h"
#include "hp_store_notif.h"
#include "hp_str.h"

#define HP__US(col) "(extract(epoch from " col ") * 1000000)::bigint"
#define HP__TS(p)   "('epoch'::timestamptz + " p "::bigint * interval '1 microsecond')"

/* Message columns in hp__message_read order; "m" is messages. */
#define HP__MSG_COLS                                                                               \
    "m.id, m.team_id, m.agent_id, m.session_id, m.parent_id, m.type, m.title, m.message, "         \
    "m.buttons::text, m.allow_reply, m.client_event_id, m.agent_name, m.metadata::text, "          \
    "m.source, " HP__US("m.created_at") ", (select g.name from agents g where g.id = m.agent_id)"

/* Session columns in hp__session_read order; "s" is agent_sessions. */
#define HP__SES_COLS                                                                               \
    "s.id, s.team_id, s.agent_id, s.label, s.client, s.client_version, s.metadata::text, "         \
    "s.implicit, s.status, s.error, " HP__US("s.created_at") ", " HP__US(                          \
        "s.ended_at") ", (select g.name from agents g where g.id = s.agent_id)"

static void hp__jput(void *j)
{
    json_object_put(j);
}

static void hp__message_read(hp_pool *pool, const PGresult *r, int i, int k, hp_notif_message *m)
{
    const char *buttons;
    char err[64];

    memset(m, 0, sizeof(*m));
    m->id = hp_db_val(r, i, k++);
    m->team_id = hp_db_val(r, i, k++);
    m->agent_id = hp_db_val(r, i, k++);
    m->session_id = hp_db_val(r, i, k++);
    m->parent_id = hp_db_val(r, i, k++);
    m->type = hp_db_val(r, i, k++);
    m->title = hp_db_val(r, i, k++);
    m->message = hp_db_val(r, i, k++);
    buttons = hp_db_val(r, i, k++);
    if (buttons == NULL ||
        hp_json_parse(buttons, strlen(buttons), &m->buttons, err, sizeof(err)) != HP_OK)
        m->buttons = json_object_new_array();
    hp_pool_defer(pool, hp__jput, m->buttons);
    m->allow_reply = hp_db_bool(r, i, k++);
    m->client_event_id = hp_db_val(r, i, k++);
    m->agent_name = hp_db_val(r, i, k++);
    m->metadata = hp_db_val(r, i, k++);
    m->source = hp_db_val(r, i, k++);
    m->created_at = hp_db_ll(r, i, k++, -1);
    m->project = hp_db_val(r, i, k++);
}

static void hp__session_read(const PGresult *r, int i, hp_notif_session *s)
{
    int k = 0;

    memset(s, 0, sizeof(*s));
    s->id = hp_db_val(r, i, k++);
    s->team_id = hp_db_val(r, i, k++);
    s->agent_id = hp_db_val(r, i, k++);
    s->label = hp_db_val(r, i, k++);
    s->client = hp_db_val(r, i, k++);
    s->client_version = hp_db_val(r, i, k++);
    s->metadata = hp_db_val(r, i, k++);
    s->implicit = hp_db_bool(r, i, k++);
    s->status = hp_db_val(r, i, k++);
    s->error = hp_db_val(r, i, k++);
    s->created_at = hp_db_ll(r, i, k++, -1);
    s->ended_at = hp_db_ll(r, i, k++, -1);
    s->project = hp_db_val(r, i, k++);
    s->messages = s->approvals = s->responses_pending = -1;
}

/* Runs sql and keeps the result with the pool. */
static hp_err hp__run(hp_dbconn *c, hp_pool *pool, const char *sql, int n, const char *const *p,
                      PGresult **r, char *err, size_t errcap)
{
    hp_err rc = hp_db_exec(c, r, sql, n, p, err, errcap);
    if (rc == HP_OK)
        hp_db_keep(pool, *r);
    return rc;
}

hp_err hp_store_notif_message_insert(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                     const char *agent_id, const hp_notif_message_input *in,
                                     bool notify, hp_notif_message *out, bool *parent_ok,
                                     bool *inserted, char *err, size_t errcap)
{
    /* p has one row when the parent (if any) is a notification of this
     * agent; everything else selects from it, so a bad parent writes
     * nothing. The final select always returns one row. */
    static const char sql[] =
        "with p as (select 1 where $5::uuid is null "
        "  or exists (select 1 from messages x where x.id = $5::uuid and x.agent_id = $2) "
        "  or exists (select 1 from approvals x where x.id = $5::uuid and x.agent_id = $2)), "
        "s as (insert into agent_sessions (agent_id, id, team_id, implicit) "
        "  select $2, $4, $3, true from p where $4::text is not null "
        "  on conflict (agent_id, id) do nothing), "
        "m as (insert into messages (id, agent_id, team_id, session_id, parent_id, type, title, "
        "  message, buttons, allow_reply, client_event_id, agent_name, metadata, source) "
        "  select $1, $2, $3, $4, $5::uuid, $6, $7, $8, $9::jsonb, $10, $11, $12, $13::jsonb, $14 "
        "  from p on conflict (agent_id, client_event_id) where client_event_id is not null "
        "  do nothing returning *), "
        "n as (select pg_notify('hp_approval', 'team:' || $3::text) from m where $15::boolean), "
        /* The channels' notify job, for teams with a channel only. */
        "nj as (insert into jobs (team_id, kind, agent_id, url, body, webhook_id, max_attempts) "
        "  select m.team_id, 'notify', m.agent_id, '', jsonb_build_object('event', 'message', "
        "  'message_id', m.id)::text, 'ntf_' || gen_random_uuid(), "
        "  " HP_STORE_FANOUT_NOTIFY_ATTEMPTS " from m where exists (select 1 from channels ch "
        "  where ch.team_id = m.team_id and ch.enabled) returning id), "
        "nn as (select pg_notify('hp_jobs', '') from (select 1 from nj limit 1) x) "
        "select (select count(*) from p), (select count(*) from n) + (select count(*) from nn), "
        "" HP__MSG_COLS " from (select 1) one left join m on true";
    char id[HP_UUID_LEN + 1];
    const char *p[] = {id,
                       agent_id,
                       team_id,
                       in->session_id,
                       in->parent_id,
                       in->type,
                       in->title,
                       in->message,
                       hp_json_text(in->buttons),
                       in->allow_reply ? "t" : "f",
                       in->client_event_id,
                       in->agent_name,
                       in->metadata ? hp_json_text(in->metadata) : NULL,
                       in->source ? in->source : "v1",
                       notify ? "t" : "f"};
    PGresult *r;
    hp_err rc;

    hp_uuid_v7(id);
    rc = hp__run(c, pool, sql, 15, p, &r, err, errcap);
    if (rc != HP_OK)
        return rc;
    *parent_ok = hp_db_ll(r, 0, 0, 0) > 0;
    *inserted = hp_db_val(r, 0, 2) != NULL;
    if (*inserted)
        hp__message_read(pool, r, 0, 2, out);
    return HP_OK;
}

hp_err hp_store_notif_message_by_event(hp_dbconn *c, hp_pool *pool, const char *agent_id,
                                       const char *client_event_id, hp_notif_message *out,
                                       bool *found, char *err, size_t errcap)
{
    static const char sql[] =
        "select " HP__MSG_COLS " from messages m where m.agent_id = $1 and m.client_event_id = $2";
    const char *p[] = {agent_id, client_event_id};
    PGresult *r;
    hp_err rc = hp__run(c, pool, sql, 2, p, &r, err, errcap);

    if (rc != HP_OK)
        return rc;
    *found = PQntuples(r) > 0;
    if (*found)
        hp__message_read(pool, r, 0, 0, out);
    return HP_OK;
}

hp_err hp_store_notif_message_get(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                  const char *agent_id, const char *id, hp_notif_message *out,
                                  bool *found, char *err, size_t errcap)
{
    static const char sql[] =
        "select " HP__MSG_COLS " from messages m where m.id = $1 and " HP_DB_FILTER_UUID(
            "m.team_id", "$2") " and ($3::uuid is null or m.agent_id = $3::uuid)";
    const char *p[] = {id, team_id, agent_id};
    PGresult *r;
    hp_err rc;

    *found = false;
    if (!hp_uuid_valid(id))
        return HP_OK;
    rc = hp__run(c, pool, sql, 3, p, &r, err, errcap);
    if (rc != HP_OK)
        return rc;
    *found = PQntuples(r) > 0;
    if (*found)
        hp__message_read(pool, r, 0, 0, out);
    return HP_OK;
}

hp_err hp_store_notif_message_list(hp_dbconn *c, hp_pool *pool, const hp_notif_message_filter *f,
                                   hp_notif_message **rows, int *n, char *err, size_t errcap)
{
    static const char sql[] = "select " HP__MSG_COLS " from messages m where m.team_id = $1 "
                              "and ($2::uuid is null or m.agent_id = $2::uuid) "
                              "and ($3::text is null or m.session_id = $3) "
                              "and ($4::bigint is null or (m.created_at, m.id) < (" HP__TS(
                                  "$4") ", $5::uuid)) "
                                        "order by m.created_at desc, m.id desc limit $6";
    char cur[24], lim[16];
    const char *p[] = {f->team_id,   f->agent_id, f->session_id, f->cursor_id ? cur : NULL,
                       f->cursor_id, lim};
    PGresult *r;
    hp_err rc;

    (void)hp_fmt(cur, sizeof(cur), "%lld", (long long)f->cursor_created_at);
    (void)hp_fmt(lim, sizeof(lim), "%d", f->limit + 1);
    rc = hp__run(c, pool, sql, 6, p, &r, err, errcap);
    if (rc != HP_OK)
        return rc;
    *rows = hp_db_rows(pool, r, sizeof(**rows), n);
    for (int i = 0; i < *n; i++)
        hp__message_read(pool, r, i, 0, &(*rows)[i]);
    return HP_OK;
}

hp_err hp_store_notif_session_upsert(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                     const char *agent_id, const hp_notif_session_input *in,
                                     hp_notif_session *out, bool *created, char *err, size_t errcap)
{
    /* xmax = 0 only on a row this statement inserted. */
    static const char sql[] =
        "insert into agent_sessions as s (agent_id, id, team_id, label, client, client_version, "
        "metadata, implicit) values ($1, $2, $3, $4, $5, $6, $7::jsonb, false) "
        "on conflict (agent_id, id) do update set label = coalesce(excluded.label, s.label), "
        "client = coalesce(excluded.client, s.client), "
        "client_version = coalesce(excluded.client_version, s.client_version), "
        "metadata = coalesce(excluded.metadata, s.metadata), implicit = false "
        "returning " HP__SES_COLS ", s.xmax = 0";
    const char *p[] = {agent_id,
                       in->id,
                       team_id,
                       in->label,
                       in->client,
                       in->client_version,
                       in->metadata ? hp_json_text(in->metadata) : NULL};
    PGresult *r;
    hp_err rc = hp__run(c, pool, sql, 7, p, &r, err, errcap);

    if (rc != HP_OK)
        return rc;
    hp__session_read(r, 0, out);
    *created = hp_db_bool(r, 0, 13);
    return HP_OK;
}

hp_err hp_store_notif_session_get(hp_dbconn *c, hp_pool *pool, const char *agent_id, const char *id,
                                  hp_notif_session *out, bool *found, char *err, size_t errcap)
{
    static const char sql[] =
        "select " HP__SES_COLS ", "
        "(select count(*) from messages m where m.agent_id = s.agent_id and m.session_id = s.id), "
        "(select count(*) from approvals a where a.agent_id = s.agent_id and a.session_id = s.id), "
        "(select count(*) from action_responses x where x.agent_id = s.agent_id "
        " and x.session_id = s.id and x.ack_status = 'pending') "
        "from agent_sessions s where s.agent_id = $1 and s.id = $2";
    const char *p[] = {agent_id, id};
    PGresult *r;
    hp_err rc = hp__run(c, pool, sql, 2, p, &r, err, errcap);

    if (rc != HP_OK)
        return rc;
    *found = PQntuples(r) > 0;
    if (*found) {
        hp__session_read(r, 0, out);
        out->messages = hp_db_ll(r, 0, 13, 0);
        out->approvals = hp_db_ll(r, 0, 14, 0);
        out->responses_pending = hp_db_ll(r, 0, 15, 0);
    }
    return HP_OK;
}

hp_err hp_store_notif_session_list(hp_dbconn *c, hp_pool *pool, const hp_notif_session_filter *f,
                                   hp_notif_session **rows, int *n, char *err, size_t errcap)
{
    static const char sql[] = "select " HP__SES_COLS " from agent_sessions s where s.agent_id = $1 "
                              "and ($2::text is null or s.status = $2) "
                              "and ($3::bigint is null or (s.created_at, s.id) < (" HP__TS(
                                  "$3") ", $4::text)) "
                                        "order by s.created_at desc, s.id desc limit $5";
    char cur[24], lim[16];
    const char *p[] = {f->agent_id, f->status, f->cursor_id ? cur : NULL, f->cursor_id, lim};
    PGresult *r;
    hp_err rc;

    (void)hp_fmt(cur, sizeof(cur), "%lld", (long long)f->cursor_created_at);
    (void)hp_fmt(lim, sizeof(lim), "%d", f->limit + 1);
    rc = hp__run(c, pool, sql, 5, p, &r, err, errcap);
    if (rc != HP_OK)
        return rc;
    *rows = hp_db_rows(pool, r, sizeof(**rows), n);
    for (int i = 0; i < *n; i++)
        hp__session_read(r, i, &(*rows)[i]);
    return HP_OK;
}

hp_err hp_store_notif_session_end(hp_dbconn *c, hp_pool *pool, const char *agent_id, const char *id,
                                  const char *status, const char *error, hp_notif_session *out,
                                  bool *found, bool *changed, char *err, size_t errcap)
{
    /* The update touches only an active session; the union reads the row
     * as it is when the update did nothing. */
    static const char sql[] =
        "with u as (update agent_sessions s set status = $3, error = $4, ended_at = now() "
        "  where s.agent_id = $1 and s.id = $2 and s.status = 'active' returning " HP__SES_COLS
        ") select *, true from u union all select " HP__SES_COLS
        ", false from agent_sessions s where s.agent_id = $1 and s.id = $2 "
        "and not exists (select 1 from u)";
    const char *p[] = {agent_id, id, status, error};
    PGresult *r;
    hp_err rc = hp__run(c, pool, sql, 4, p, &r, err, errcap);

    if (rc != HP_OK)
        return rc;
    *found = PQntuples(r) > 0;
    *changed = *found && hp_db_bool(r, 0, 13);
    if (*found)
        hp__session_read(r, 0, out);
    return HP_OK;
}

hp_err hp_store_notif_session_nodes(hp_dbconn *c, hp_pool *pool, const char *agent_id,
                                    const char *id, int limit, hp_notif_node **nodes, int *n,
                                    char *err, size_t errcap)
{
    static const char sql[] =
        "select * from ("
        "select 'message' as kind, m.id, m.parent_id, m.type, m.title, null::text as "
        "status, " HP__US(
            "m.created_at") " as us, "
                            "(select count(*) from action_responses x where x.notification_id = "
                            "m.id) "
                            "from messages m where m.agent_id = $1 and m.session_id = $2 "
                            "union all "
                            "select 'approval', a.id, null::uuid, 'approval', a.question, "
                            "a.status, " HP__US(
                                "a.created_at") ", "
                                                "(select count(*) from action_responses x where "
                                                "x.notification_id = a.id) "
                                                "from approvals a where a.agent_id = $1 and "
                                                "a.session_id = $2"
                                                ") t order by us, id limit $3";
    char lim[16];
    const char *p[] = {agent_id, id, lim};
    PGresult *r;
    hp_err rc;

    *nodes = NULL;
    *n = 0;
    (void)hp_fmt(lim, sizeof(lim), "%d", limit);
    rc = hp__run(c, pool, sql, 3, p, &r, err, errcap);
    if (rc != HP_OK)
        return rc;
    *nodes = hp_db_rows(pool, r, sizeof(**nodes), n);
    for (int i = 0; i < *n; i++) {
        hp_notif_node *x = &(*nodes)[i];
        x->kind = hp_db_val(r, i, 0);
        x->id = hp_db_val(r, i, 1);
        x->parent_id = hp_db_val(r, i, 2);
        x->type = hp_db_val(r, i, 3);
        x->title = hp_db_val(r, i, 4);
        x->status = hp_db_val(r, i, 5);
        x->created_at = hp_db_ll(r, i, 6, -1);
        x->responses = hp_db_ll(r, i, 7, 0);
    }
    return HP_OK;
}

hp_err hp_store_notif_project(hp_dbconn *c, hp_pool *pool, const char *team_id, const char *id,
                              const char *name, hp_notif_project *out, bool *found, char *err,
                              size_t errcap)
{
    static const char sql[] =
        "select id, name, default_timeout_seconds, default_timeout_mode, "
        "default_timeout_instruction, webhook_url from agents where team_id = $1 "
        "and (case when $2::uuid is not null then id = $2::uuid else name = $3 end) "
        "order by created_at, id limit 1";
    const char *p[] = {team_id, id, id != NULL ? NULL : name};
    PGresult *r;
    hp_err rc;

    *found = false;
    if ((id != NULL && !hp_uuid_valid(id)) || (id == NULL && name == NULL))
        return HP_OK;
    rc = hp__run(c, pool, sql, 3, p, &r, err, errcap);
    if (rc != HP_OK)
        return rc;
    *found = PQntuples(r) > 0;
    if (*found) {
        out->id = hp_db_val(r, 0, 0);
        out->name = hp_db_val(r, 0, 1);
        out->default_timeout_seconds = (int)hp_db_ll(r, 0, 2, 3600);
        out->default_timeout_mode = hp_db_val(r, 0, 3);
        out->default_timeout_instruction = hp_db_val(r, 0, 4);
        out->webhook_url = hp_db_val(r, 0, 5);
    }
    return HP_OK;
}

hp_err hp_store_notif_session_touch(hp_dbconn *c, const char *team_id, const char *agent_id,
                                    const char *session_id, char *err, size_t errcap)
{
    static const char sql[] = "insert into agent_sessions (agent_id, id, team_id, implicit) "
                              "values ($1, $2, $3, true) on conflict (agent_id, id) do nothing";
    const char *p[] = {agent_id, session_id, team_id};
    return hp_db_exec(c, NULL, sql, 3, p, err, errcap);
}

hp_err hp_store_notif_project_set_webhook(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                          const char *agent_id, const char *url, hp_agent_row *out,
                                          bool *found, char *err, size_t errcap)
{
    static const char sql[] = "update agents set webhook_url = $3 where team_id = $1 and id = $2 "
                              "returning " HP_STORE_AGENT_COLS;
    const char *p[] = {team_id, agent_id, url};
    PGresult *r;
    hp_err rc;

    *found = false;
    if (!hp_uuid_valid(agent_id))
        return HP_OK;
    rc = hp_db_exec(c, &r, sql, 3, p, err, errcap);
    if (rc != HP_OK)
        return rc;
    *found = PQntuples(r) > 0;
    if (*found)
        hp_store_agent_read(pool, r, 0, out);
    PQclear(r);
    return HP_OK;
}
