/*
 * hp_store_inbox: the SQL behind hp_inbox_ops.c, the inbox reads and the
 * decision path's response. Times travel as microseconds since the epoch; a
 * NULL parameter disables its condition, so the list is one statement for
 * every filter combination and keeps to the (agent_id, seq) indexes.
 */
#include <stdlib.h>
#include <string.h>

#include "hp_crypto.h"
#include "hp_mem.h"
#include "hp_store_inbox.h"
#include "hp_str.h"

#define HP__US(col) "(extract(epoch from " col ") * 1000000)::bigint"
#define HP__TS(p)   "('epoch'::timestamptz + " p "::bigint * interval '1 microsecond')"

/* Columns in hp_store_inbox_read order; "r" is action_responses. */
#define HP__COLS  HP_STORE_INBOX_COLS
#define HP__NCOLS HP_STORE_INBOX_NCOLS

void hp_store_inbox_read(hp_pool *pool, const PGresult *r, int i, int col, hp_inbox_response *x)
{
    const char *v[HP_STORE_INBOX_NCOLS];
    int k = 0;

    if (pool != NULL)
        hp_db_row_copy(pool, r, i, col, HP_STORE_INBOX_NCOLS, v);
    else
        for (int n = 0; n < HP_STORE_INBOX_NCOLS; n++)
            v[n] = hp_db_val(r, i, col + n);
    memset(x, 0, sizeof(*x));
    x->id = v[k++];
    x->team_id = v[k++];
    x->agent_id = v[k++];
    x->seq = hp_db_ll(r, i, col + k++, 0);
    x->session_id = v[k++];
    x->notification_id = v[k++];
    x->approval_id = v[k++];
    x->parent_id = v[k++];
    x->kind = v[k++];
    x->action = v[k++];
    x->button_index = (int)hp_db_ll(r, i, col + k++, -1);
    x->button_label = v[k++];
    x->decision_key = v[k++];
    x->response_text = v[k++];
    x->is_timeout_default = hp_db_bool(r, i, col + k++);
    x->client_event_id = v[k++];
    x->notification_client_event_id = v[k++];
    x->user_id = v[k++];
    x->user_name = v[k++];
    x->device = v[k++];
    x->notification_title = v[k++];
    x->notification_message = v[k++];
    x->ack_status = v[k++];
    x->ack_error = v[k++];
    x->acked_at = hp_db_ll(r, i, col + k++, -1);
    x->decided_at = hp_db_ll(r, i, col + k++, -1);
    x->recorded_at = hp_db_ll(r, i, col + k++, -1);
}

static void hp__read(const PGresult *r, int i, hp_inbox_response *x)
{
    hp_store_inbox_read(NULL, r, i, 0, x);
}

/* Runs a query of zero or one response row. */
static hp_err hp__one(hp_dbconn *c, hp_pool *pool, const char *sql, int n, const char *const *p,
                      hp_inbox_response *out, bool *found, char *err, size_t errcap)
{
    PGresult *r;
    hp_err rc = hp_db_exec(c, &r, sql, n, p, err, errcap);

    if (rc != HP_OK)
        return rc;
    hp_db_keep(pool, r);
    *found = PQntuples(r) > 0;
    if (*found)
        hp__read(r, 0, out);
    return HP_OK;
}

hp_err hp_store_inbox_insert(hp_dbconn *c, hp_pool *pool, const hp_inbox_record *rec,
                             const char *id, const char *webhook_body, const char *webhook_id,
                             int max_attempts, bool wake, hp_inbox_response *out, char *err,
                             size_t errcap)
{
    /* The counter's row lock is held until the caller's transaction ends,
     * so sequence numbers become visible in order (hp_inbox.h). The job
     * and NOTIFY CTEs are read by the final select, so they run. */
    static const char sql[] =
        "with s as (insert into inbox_counters as k (agent_id, seq) values ($3, 1) "
        "  on conflict (agent_id) do update set seq = k.seq + 1 returning seq), "
        "r as (insert into action_responses (id, team_id, agent_id, seq, session_id, "
        "  notification_id, approval_id, parent_id, kind, action, button_index, button_label, "
        "  decision_key, response_text, is_timeout_default, client_event_id, "
        "  notification_client_event_id, user_id, user_name, device, notification_title, "
        "  notification_message, decided_at) "
        "  select $1, $2, $3, s.seq, $4, $5, $6, $7, $8, $9, $10::int, $11, $12, $13, $14, $15, "
        "  $16, $17, $18, $19, $20, $21, coalesce(" HP__TS(
            "$22") ", now()) from s returning *), "
                   "j as (insert into jobs (team_id, kind, agent_id, url, body, webhook_id, "
                   "max_attempts) "
                   "  select r.team_id, 'project_webhook', r.agent_id, g.webhook_url, $23, $24, "
                   "$25 "
                   "  from r join agents g on g.id = r.agent_id where g.webhook_url is not null "
                   "  returning id), "
                   "n as (select pg_notify('hp_jobs', '') from j), "
                   "w as (select pg_notify('hp_approval', 'agent:' || $3::text) where "
                   "$26::boolean) "
                   "select " HP__COLS
                   ", (select count(*) from n) + (select count(*) from w) from r";
    char idx[16], at[24], attempts[16];
    const char *p[] = {id,
                       rec->team_id,
                       rec->agent_id,
                       rec->session_id,
                       rec->notification_id,
                       rec->approval_id,
                       rec->parent_id,
                       rec->kind,
                       rec->action,
                       rec->button_index >= 0 ? idx : NULL,
                       rec->button_label,
                       rec->decision_key,
                       rec->response_text,
                       rec->is_timeout_default ? "t" : "f",
                       rec->client_event_id,
                       rec->notification_client_event_id,
                       rec->user_id,
                       rec->user_name,
                       rec->device,
                       rec->notification_title ? rec->notification_title : "",
                       rec->notification_message ? rec->notification_message : "",
                       rec->decided_at >= 0 ? at : NULL,
                       webhook_body,
                       webhook_id,
                       attempts,
                       wake ? "t" : "f"};
    bool found = false;
    hp_err rc;

    (void)hp_fmt(idx, sizeof(idx), "%d", rec->button_index);
    (void)hp_fmt(at, sizeof(at), "%lld", (long long)rec->decided_at);
    (void)hp_fmt(attempts, sizeof(attempts), "%d", max_attempts);
    rc = hp__one(c, pool, sql, 26, p, out, &found, err, errcap);
    if (rc != HP_OK) {
        const char *state = hp_dbconn_sqlstate(c);
        if (state != NULL && strcmp(state, "23505") == 0) {
            hp_err_set(err, errcap, "client_event_id already recorded");
            return HP_ERR_CONFLICT;
        }
        return rc;
    }
    if (!found) {
        hp_err_set(err, errcap, "the response was not stored");
        return HP_ERR_INTERNAL;
    }
    return HP_OK;
}

static int hp__cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

hp_err hp_store_inbox_lock_agents(hp_dbconn *c, const char *const *agent_ids, int n, char *err,
                                  size_t errcap)
{
    static const char sql[] =
        "with ins as (insert into inbox_counters (agent_id, seq) "
        "  select a, 0 from unnest($1::uuid[]) with ordinality as u(a, o) order by o "
        "  on conflict (agent_id) do nothing) "
        "select 1 from inbox_counters where agent_id = any($1::uuid[]) order by agent_id "
        "for update";
    const char **sorted;
    char *arr;
    size_t len = 3;
    int m = 0;
    hp_err rc;

    if (n <= 0)
        return HP_OK;
    sorted = hp_xcalloc((size_t)n, sizeof(*sorted));
    memcpy(sorted, agent_ids, sizeof(*sorted) * (size_t)n);
    qsort(sorted, (size_t)n, sizeof(*sorted), hp__cmp);
    for (int i = 0; i < n; i++)
        len += strlen(sorted[i]) + 1;
    arr = hp_xmalloc(len);
    arr[0] = '{';
    arr[1] = '\0';
    for (int i = 0; i < n; i++) {
        size_t off;
        if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
            continue; /* once each */
        off = strlen(arr);
        (void)hp_fmt(arr + off, len - off, "%s%s", m++ ? "," : "", sorted[i]);
    }
    {
        size_t off = strlen(arr);
        (void)hp_fmt(arr + off, len - off, "}");
    }
    const char *p[] = {arr};
    rc = hp_db_exec(c, NULL, sql, 1, p, err, errcap);
    free(arr);
    free(sorted);
    return rc;
}

hp_err hp_store_inbox_get(hp_dbconn *c, hp_pool *pool, const char *agent_id, const char *id,
                          hp_inbox_response *out, bool *found, char *err, size_t errcap)
{
    static const char sql[] =
        "select " HP__COLS " from action_responses r where r.agent_id = $1 and r.id = $2";
    const char *p[] = {agent_id, id};

    *found = false;
    if (!hp_uuid_valid(id))
        return HP_OK;
    return hp__one(c, pool, sql, 2, p, out, found, err, errcap);
}

hp_err hp_store_inbox_by_event(hp_dbconn *c, hp_pool *pool, const char *agent_id,
                               const char *client_event_id, hp_inbox_response *out, bool *found,
                               char *err, size_t errcap)
{
    static const char sql[] = "select " HP__COLS " from action_responses r where r.agent_id = $1 "
                              "and r.client_event_id = $2";
    const char *p[] = {agent_id, client_event_id};
    return hp__one(c, pool, sql, 2, p, out, found, err, errcap);
}

hp_err hp_store_inbox_seq_of(hp_dbconn *c, const char *agent_id, const char *id, long long *seq,
                             bool *found, char *err, size_t errcap)
{
    static const char sql[] = "select seq from action_responses where agent_id = $1 and id = $2";
    const char *p[] = {agent_id, id};
    PGresult *r;
    hp_err rc;

    *found = false;
    if (!hp_uuid_valid(id))
        return HP_OK;
    rc = hp_db_exec(c, &r, sql, 2, p, err, errcap);
    if (rc != HP_OK)
        return rc;
    *found = PQntuples(r) > 0;
    if (*found)
        *seq = hp_db_ll(r, 0, 0, 0);
    PQclear(r);
    return HP_OK;
}

hp_err hp_store_inbox_list(hp_dbconn *c, hp_pool *pool, const hp_inbox_filter *f,
                           hp_inbox_response **rows, int *n, char *err, size_t errcap)
{
    /* The pending filter is written out twice so each statement matches
     * one index: the partial pending index or the full sequence index. */
#define HP__WHERE                                                                                  \
    "where r.agent_id = $1 and r.seq > $2 "                                                        \
    "and ($3::text is null or r.session_id = $3) "                                                 \
    "and ($4::uuid is null or r.notification_id = $4::uuid) "                                      \
    "and ($5::uuid is null or r.parent_id = $5::uuid) "                                            \
    "and ($6::text is null or r.kind = $6) "                                                       \
    "and ($7::text is null or r.client_event_id = $7 or r.notification_client_event_id = $7) "     \
    "and ($8::uuid is null or r.approval_id = $8::uuid) "                                          \
    "and ($9::text is null or r.decision_key = $9 or r.action = $9 or r.button_label = $9) "       \
    "and ($10::bigint is null or r.recorded_at >= " HP__TS(                                        \
        "$10") ") "                                                                                \
               "and ($11::bigint is null or r.decided_at >= " HP__TS("$11") ") "
    static const char sql_pending[] = "select " HP__COLS " from action_responses r " HP__WHERE
                                      "and r.ack_status = 'pending' order by r.seq limit $12";
    static const char sql_all[] =
        "select " HP__COLS " from action_responses r " HP__WHERE "order by r.seq limit $12";
#undef HP__WHERE
    char after_seq[24], after[24], decided[24], lim[16];
    const char *p[] = {f->agent_id,
                       after_seq,
                       f->session_id,
                       f->notification_id,
                       f->parent_id,
                       f->kind,
                       f->client_event_id,
                       f->approval_id,
                       f->decision_key,
                       f->after >= 0 ? after : NULL,
                       f->decided_after >= 0 ? decided : NULL,
                       lim};
    PGresult *r;
    hp_err rc;

    (void)hp_fmt(after_seq, sizeof(after_seq), "%lld", f->after_seq);
    (void)hp_fmt(after, sizeof(after), "%lld", (long long)f->after);
    (void)hp_fmt(decided, sizeof(decided), "%lld", (long long)f->decided_after);
    (void)hp_fmt(lim, sizeof(lim), "%d", f->limit + 1);
    rc = hp_db_exec(c, &r, f->unacked_only ? sql_pending : sql_all, 12, p, err, errcap);
    if (rc != HP_OK)
        return rc;
    *rows = hp_db_keep_rows(pool, r, sizeof(**rows), n);
    for (int i = 0; i < *n; i++)
        hp__read(r, i, &(*rows)[i]);
    return HP_OK;
}

hp_err hp_store_inbox_ack(hp_dbconn *c, hp_pool *pool, const char *agent_id, const char *id,
                          const char *status, const char *error, hp_inbox_response *out,
                          bool *found, bool *changed, char *err, size_t errcap)
{
    static const char sql[] =
        "with u as (update action_responses r set ack_status = $3, ack_error = $4, "
        "  acked_at = now() where r.agent_id = $1 and r.id = $2 and r.ack_status = 'pending' "
        "  returning " HP__COLS ") "
        "select *, true from u union all select " HP__COLS ", false from action_responses r "
        "where r.agent_id = $1 and r.id = $2 and not exists (select 1 from u)";
    const char *p[] = {agent_id, id, status, error};
    PGresult *r;
    hp_err rc;

    *found = *changed = false;
    if (!hp_uuid_valid(id))
        return HP_OK;
    rc = hp_db_exec(c, &r, sql, 4, p, err, errcap);
    if (rc != HP_OK)
        return rc;
    hp_db_keep(pool, r);
    *found = PQntuples(r) > 0;
    if (*found) {
        hp__read(r, 0, out);
        *changed = hp_db_bool(r, 0, HP__NCOLS);
    }
    return HP_OK;
}

hp_err hp_store_inbox_ack_approval(hp_dbconn *c, const char *approval_id, char *err, size_t errcap)
{
    static const char sql[] = "update action_responses set ack_status = 'processed', "
                              "acked_at = now() where approval_id = $1 and ack_status = 'pending'";
    const char *p[] = {approval_id};
    return hp_db_exec(c, NULL, sql, 1, p, err, errcap);
}
