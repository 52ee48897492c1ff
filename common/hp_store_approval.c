/*
 * hp_store_approval: the SQL behind hp_approval_ops.c and the API's reads.
 * Every query is scoped by team (and agent where the resource is the agent's).
 * Times travel as microseconds since the epoch so C never parses timestamps.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hp_ask.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_pool.h"
#include "hp_store_approval.h"
#include "hp_store_fanout.h"
#include "hp_store_inbox.h"
#include "hp_str.h"
#include "hp_wake.h"

#define HP__US(col) "(extract(epoch from " col ") * 1000000)::bigint"

/* The columns of hp_approval_row, in hp_store_approval_read order. */
#define HP__COLS  HP_STORE_APPROVAL_COLS
#define HP__NCOLS HP_STORE_APPROVAL_NCOLS
/* The team check of a lookup by id (HP_DB_FILTER_UUID). */
#define HP__TEAM_IS(p) HP_DB_FILTER_UUID("a.team_id", p)
#define HP__SELECT                                                                                 \
    "select " HP__COLS ", g.name from approvals a join agents g on g.id = a.agent_id "

static void hp__jput(void *j)
{
    json_object_put(j);
}

void hp_store_approval_read(hp_pool *pool, const PGresult *r, int i, int col, hp_approval_row *row)
{
    /* The strings are copied into the pool (one allocation), so the caller
     * may PQclear r as soon as it has read what else it needs. */
    const char *v[HP__NCOLS + 1];
    int n = PQnfields(r) > col + HP__NCOLS ? HP__NCOLS + 1 : HP__NCOLS, k = 0;
    char err[64];

    hp_db_row_copy(pool, r, i, col, n, v);
    memset(row, 0, sizeof(*row));
    row->id = v[k++];
    row->team_id = v[k++];
    row->agent_id = v[k++];
    row->request_id = v[k++];
    row->correlation_id = v[k++];
    row->question = v[k++];
    row->context_markdown = v[k++];
    row->notification_summary = v[k++];
    if (v[k] == NULL || hp_json_parse(v[k], strlen(v[k]), &row->options, err, sizeof(err)) != HP_OK)
        row->options = json_object_new_array();
    k++;
    hp_pool_defer(pool, hp__jput, row->options);
    row->timeout_seconds = (int)hp_db_ll(r, i, col + k++, 0);
    row->timeout_mode = v[k++];
    row->predefined_instruction = v[k++];
    row->expires_at = hp_db_ll(r, i, col + k++, -1);
    row->callback_url = v[k++];
    row->callback_headers = v[k++];
    row->allow_custom_instruction = hp_db_bool(r, i, col + k++);
    row->session_id = v[k++];
    row->agent_name = v[k++];
    row->metadata = v[k++];
    row->status = v[k++];
    row->selected_option_index = (int)hp_db_ll(r, i, col + k++, -1);
    row->custom_instruction = v[k++];
    row->is_timeout_default = hp_db_bool(r, i, col + k++);
    row->resolved_by_user_id = v[k++];
    row->resolved_by_name = v[k++];
    row->resolved_at = hp_db_ll(r, i, col + k++, -1);
    row->result_delivery_status = v[k++];
    row->result_delivery_error = v[k++];
    row->created_at = hp_db_ll(r, i, col + k++, -1);
    row->source = v[k++];
    row->response_format = v[k++];
    if (n > HP__NCOLS)
        row->agent_display_name = v[HP__NCOLS];
}

/* Fills row from result row i (the columns from 0). */
static void hp__row_read(hp_pool *pool, const PGresult *r, int i, hp_approval_row *row)
{
    hp_store_approval_read(pool, r, i, 0, row);
}

/* Runs a query expected to return zero or one approval row. */
static hp_err hp__one(hp_dbconn *c, hp_pool *pool, const char *sql, int n,
                      const char *const *params, hp_approval_row *row, bool *found, char *err,
                      size_t errcap)
{
    PGresult *r;
    hp_err rc = hp_db_exec(c, &r, sql, n, params, err, errcap);

    if (rc != HP_OK)
        return rc;
    *found = PQntuples(r) > 0;
    if (*found)
        hp__row_read(pool, r, 0, row);
    PQclear(r); /* the row's strings are the pool's */
    return HP_OK;
}

hp_err hp_store_approval_by_request(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                    const char *agent_id, const char *request_id,
                                    const unsigned char *hash, hp_approval_row *row, bool *found,
                                    bool *same_hash, char *err, size_t errcap)
{
    static const char sql[] =
        HP__SELECT "where a.team_id = $1 and a.agent_id = $2 and a.request_id = $3";
    static const char sql_hash[] =
        "select " HP__COLS ", g.name, a.canonical_hash = decode($4, 'hex') "
        "from approvals a join agents g on g.id = a.agent_id "
        "where a.team_id = $1 and a.agent_id = $2 and a.request_id = $3";
    char hex[65];
    PGresult *r;
    hp_err rc;

    if (hash == NULL) {
        const char *p[] = {team_id, agent_id, request_id};
        return hp__one(c, pool, sql, 3, p, row, found, err, errcap);
    }
    hp_hex_encode(hash, 32, hex);
    const char *p[] = {team_id, agent_id, request_id, hex};
    rc = hp_db_exec(c, &r, sql_hash, 4, p, err, errcap);
    if (rc != HP_OK)
        return rc;
    *found = PQntuples(r) > 0;
    if (*found) {
        hp__row_read(pool, r, 0, row);
        *same_hash = hp_db_bool(r, 0, HP__NCOLS + 1);
    }
    PQclear(r); /* the row's strings are the pool's */
    return HP_OK;
}

hp_err hp_store_approval_by_id(hp_dbconn *c, hp_pool *pool, const char *team_id,
                               const char *approval_id, hp_approval_row *row, bool *found,
                               char *err, size_t errcap)
{
    static const char sql[] = HP__SELECT "where a.id = $1 and " HP__TEAM_IS("$2");
    const char *p[] = {approval_id, team_id};

    return hp__one(c, pool, sql, 2, p, row, found, err, errcap);
}

hp_err hp_store_approval_by_id_result(hp_dbconn *c, const char *team_id, const char *approval_id,
                                      PGresult **out, char *err, size_t errcap)
{
    static const char sql[] = HP__SELECT "where a.id = $1 and " HP__TEAM_IS("$2");
    const char *p[] = {approval_id, team_id};

    return hp_db_exec(c, out, sql, 2, p, err, errcap);
}

PGresult *hp_store_approval_row_msg(const char *msg)
{
    PGresAttDesc att[HP__NCOLS + 1];
    json_object *a = NULL;
    PGresult *r = NULL;
    size_t pre = strlen(HP_WAKE_ROW_PREFIX);
    char err[64];
    bool ok;

    if (strncmp(msg, HP_WAKE_ROW_PREFIX, pre) != 0 ||
        hp_json_parse(msg + pre, strlen(msg + pre), &a, err, sizeof(err)) != HP_OK)
        return NULL;
    ok = json_object_is_type(a, json_type_array) &&
         json_object_array_length(a) == (size_t)HP__NCOLS + 1;
    /* The id, team and agent every consumer keys on. */
    for (size_t k = 0; ok && k < 3; k++)
        ok = json_object_is_type(json_object_array_get_idx(a, k), json_type_string);
    if (ok) {
        memset(att, 0, sizeof(att));
        for (int k = 0; k <= HP__NCOLS; k++) {
            att[k].name = "";
            att[k].typid = 25; /* text: the readers parse every column from its text */
            att[k].typlen = -1;
            att[k].atttypmod = -1;
        }
        r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
        ok = r != NULL && PQsetResultAttrs(r, HP__NCOLS + 1, att);
    }
    /* Each value back to the text PostgreSQL would have sent for it. */
    for (int k = 0; ok && k <= HP__NCOLS; k++) {
        json_object *v = json_object_array_get_idx(a, (size_t)k);
        char num[32];
        switch (json_object_get_type(v)) {
        case json_type_null:
            ok = PQsetvalue(r, 0, k, NULL, -1);
            break;
        case json_type_boolean:
            ok = PQsetvalue(r, 0, k, json_object_get_boolean(v) ? "t" : "f", 1);
            break;
        case json_type_int:
            (void)hp_fmt(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
            ok = PQsetvalue(r, 0, k, num, (int)strlen(num));
            break;
        case json_type_string:
            ok = PQsetvalue(r, 0, k, (char *)json_object_get_string(v),
                            json_object_get_string_len(v));
            break;
        default:
            ok = false;
        }
    }
    json_object_put(a);
    if (!ok) {
        PQclear(r);
        return NULL;
    }
    return r;
}

hp_err hp_store_quota_take(hp_dbconn *c, const char *team_id, bool *allowed, char *err,
                           size_t errcap)
{
    /* One statement: no row for teams without a quota; otherwise this month's
     * counter goes up by one under its row lock, and the caller rolls back
     * when the new count is over the quota. A month's first create seeds the
     * counter from the approvals already made that month. */
    static const char sql[] =
        "with t as (select approval_quota as q from teams where id = $1), "
        "m as (select date_trunc('month', now() at time zone 'utc')::date as period) "
        "insert into team_usage as u (team_id, period, approvals) "
        "select $1, m.period, 1 + (select count(*) from approvals a where a.team_id = $1 "
        "  and a.created_at >= m.period::timestamp at time zone 'utc') from t, m "
        "where t.q is not null "
        "on conflict (team_id, period) do update set approvals = u.approvals + 1 "
        "returning u.approvals <= (select q from t)";
    const char *p[] = {team_id};
    PGresult *r;
    hp_err rc = hp_db_exec(c, &r, sql, 1, p, err, errcap);

    if (rc != HP_OK)
        return rc;
    *allowed = PQntuples(r) == 0 || hp_db_bool(r, 0, 0);
    PQclear(r);
    return HP_OK;
}

/* The INSERT shared by both create paths. The approvals travel as one JSON
 * array ($1, hp__insert_json); callback_headers holds the sealed headers as
 * a JSON string, or {} when a callback has none; the outbox copies the value
 * as it is. A row with a key_id (a create authenticated from the API's
 * memory of its key) is inserted only while that key of its team is not
 * revoked, the team has no quota and its agents' defaults are as remembered
 * (teams.agents_rev; hp_insert_query). */
#define HP__INSERT                                                                                 \
    "insert into approvals as a (id, team_id, agent_id, request_id, request_id_supplied, "         \
    "correlation_id, question, context_markdown, notification_summary, options, "                  \
    "timeout_seconds, timeout_mode, predefined_instruction, expires_at, callback_url, "            \
    "callback_headers, canonical_hash, allow_custom_instruction, session_id, agent_name, "         \
    "metadata, source, response_format) "                                                          \
    "select r.id, r.team_id, r.agent_id, r.request_id, r.request_id_supplied, r.correlation_id, "  \
    "r.question, r.context_markdown, r.notification_summary, r.options, r.timeout_seconds, "       \
    "r.timeout_mode, r.predefined_instruction, now() + make_interval(secs => r.timeout_seconds), " \
    "r.callback_url, coalesce(to_jsonb(r.callback_headers), "                                      \
    "case when r.callback_url is not null then '{}'::jsonb end), decode(r.canonical_hash, "        \
    "'hex'), "                                                                                     \
    "r.allow_custom_instruction, r.session_id, r.agent_name, r.metadata, r.source, "               \
    "r.response_format from jsonb_to_recordset($1::jsonb) as r(id uuid, team_id uuid, "            \
    "agent_id uuid, request_id text, request_id_supplied boolean, correlation_id text, "           \
    "question text, context_markdown text, notification_summary text, options jsonb, "             \
    "timeout_seconds int, timeout_mode text, predefined_instruction text, callback_url text, "     \
    "callback_headers text, canonical_hash text, allow_custom_instruction boolean, "               \
    "session_id text, agent_name text, metadata jsonb, source text, response_format text, "        \
    "key_id uuid, key_agents_rev bigint) where r.key_id is null or exists (select 1 "              \
    "from api_keys k join teams t on t.id = k.team_id where k.id = r.key_id "                      \
    "and k.team_id = r.team_id and k.revoked_at is null and t.approval_quota is null "             \
    "and t.agents_rev = r.key_agents_rev) "                                                        \
    "on conflict (agent_id, request_id) do nothing returning "

/* A key of o: a string literal, added once, so json-c neither copies nor
 * looks it up. A NULL value is left out, which jsonb_to_recordset reads as
 * NULL: the array is smaller to build, send and parse. */
static void hp__put(json_object *o, const char *key, json_object *v)
{
    if (v != NULL)
        json_object_object_add_ex(o, key, v,
                                  JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT);
}

static void hp__put_str(json_object *o, const char *key, const char *v)
{
    if (v != NULL)
        hp__put(o, key, json_object_new_string(v));
}

/* q[0..n) as HP__INSERT's $1, giving each its new id. New reference. */
static json_object *hp__insert_json(hp_insert_query *const *q, int n)
{
    json_object *arr = json_object_new_array_ext(n);

    for (int i = 0; i < n; i++) {
        const hp_approval_input *in = q[i]->in;
        json_object *o = json_object_new_object();
        char hex[65];

        hp_uuid_v7(q[i]->id);
        q[i]->inserted = false;
        hp_hex_encode(in->hash, 32, hex);
        hp__put_str(o, "id", q[i]->id);
        hp__put_str(o, "team_id", q[i]->team_id);
        hp__put_str(o, "agent_id", q[i]->agent_id);
        hp__put_str(o, "request_id", q[i]->request_id);
        hp__put(o, "request_id_supplied", json_object_new_boolean(q[i]->request_id_supplied));
        hp__put_str(o, "correlation_id", in->correlation_id);
        hp__put_str(o, "question", in->question);
        hp__put_str(o, "context_markdown", in->context_markdown);
        hp__put_str(o, "notification_summary", in->notification_summary);
        hp__put(o, "options", json_object_get(in->options));
        hp__put(o, "timeout_seconds", json_object_new_int(in->timeout_seconds));
        hp__put_str(o, "timeout_mode", in->timeout_mode);
        hp__put_str(o, "predefined_instruction", in->predefined_instruction);
        hp__put_str(o, "callback_url", in->callback_url);
        hp__put_str(o, "callback_headers", in->callback_headers_sealed);
        hp__put_str(o, "canonical_hash", hex);
        hp__put(o, "allow_custom_instruction",
                json_object_new_boolean(in->allow_custom_instruction));
        hp__put_str(o, "session_id", in->session_id);
        hp__put_str(o, "agent_name", in->agent_name);
        hp__put(o, "metadata", json_object_get(in->metadata));
        hp__put_str(o, "source", in->source ? in->source : "v1");
        hp__put_str(o, "response_format", in->response_format ? in->response_format : "raw");
        if (q[i]->memo != NULL) {
            hp__put_str(o, "key_id", q[i]->memo->key_id);
            hp__put(o, "key_agents_rev", json_object_new_int64(q[i]->memo->team_agents_rev));
        }
        json_object_array_add(arr, o);
    }
    return arr;
}

/* Runs an insert of q[0..n) whose rows come back as HP__COLS (and, after
 * them, anything), giving each inserted one its row. */
static hp_err hp__insert_run(hp_dbconn *c, const char *sql, int nparams, const char **p,
                             hp_insert_query *const *q, int n, char *err, size_t errcap)
{
    json_object *arr = hp__insert_json(q, n);
    PGresult *r;
    hp_err rc;

    p[0] = hp_json_text(arr);
    rc = hp_db_exec(c, &r, sql, nparams, p, err, errcap);
    json_object_put(arr);
    if (rc != HP_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *id = hp_db_val(r, i, 0);
        for (int k = 0; id != NULL && k < n; k++) {
            if (!q[k]->inserted && strcasecmp(q[k]->id, id) == 0) {
                q[k]->inserted = true;
                hp_store_approval_read(q[k]->pool, r, i, 0, &q[k]->row);
                break;
            }
        }
    }
    PQclear(r); /* the rows' strings are the pools' */
    return HP_OK;
}

hp_err hp_store_approval_insert(hp_dbconn *c, hp_insert_query *q, char *err, size_t errcap)
{
    static const char sql[] = HP__INSERT HP__COLS;
    const char *p[1];

    return hp__insert_run(c, sql, 1, p, &q, 1, err, errcap);
}

hp_err hp_store_approval_insert_all(hp_dbconn *c, hp_insert_query *const *q, int n, bool notify,
                                    char *err, size_t errcap)
{
    /* One statement, so one round trip and its own transaction: the
     * inserts; the "created" event of each inserted row only; the expiry
     * wake when the earliest deadline (or earlier reminder step) is earlier
     * than the worker's plan, one comparison with the one-row schedule, so
     * the plan's cost does not grow with the batch (a cost past
     * jit_above_cost had each execution compile itself, ~1 s); the implicit
     * session (seed 004) when an approval names one; the waiters' wake
     * message; and the channels' notify job — for teams with a channel only,
     * so a team without one pays an index probe and no NOTIFY hp_jobs. The
     * select CTEs run because the final query reads them; data-modifying
     * ones always run. A NOTIFY repeated in one transaction is sent once.
     * $2 is the notify flag. */
    static const char sql[] =
        "with a as (" HP__INSERT "*), "
        "e as (insert into approval_events (approval_id, team_id, kind, actor_type, actor_id) "
        "      select a.id, a.team_id, 'created', 'agent', a.agent_id::text from a), "
        "ss as (insert into agent_sessions (agent_id, id, team_id, implicit) "
        "      select a.agent_id, a.session_id, a.team_id, true from a "
        "      where a.session_id is not null on conflict (agent_id, id) do nothing), "
        "w as (select pg_notify('hp_expiry', '') from expiry_schedule s "
        "      where s.next_wake_at is null or s.next_wake_at > (select min(least(a.expires_at, "
        "      " HP_STORE_FANOUT_FIRST_STEP_SQL ")) from a)), "
        "n as (select pg_notify('hp_approval', 'team:' || a.team_id::text) "
        "      from a where $2::boolean), "
        "nj as (insert into jobs (team_id, kind, approval_id, agent_id, url, body, webhook_id, "
        "      max_attempts) select a.team_id, 'notify', a.id, a.agent_id, '', "
        "      '{\"event\":\"created\"}', 'ntf_' || "
        "gen_random_uuid(), " HP_STORE_FANOUT_NOTIFY_ATTEMPTS " from a "
        "      where exists (select 1 from channels ch where ch.team_id = a.team_id "
        "      and ch.enabled) returning id), "
        "nn as (select pg_notify('hp_jobs', '') from (select 1 from nj limit 1) x) "
        "select " HP__COLS ", null::text, (select count(*) from w) + (select count(*) from n) "
        "  + (select count(*) from nn) from a";
    const char *p[2] = {NULL, notify ? "t" : "f"};

    return hp__insert_run(c, sql, 2, p, q, n, err, errcap);
}

hp_err hp_store_expiry_wake_for(hp_dbconn *c, const char *approval_id, char *err, size_t errcap)
{
    static const char sql[] =
        "select pg_notify('hp_expiry', '') from expiry_schedule s, approvals a "
        "where a.id = $1 and (s.next_wake_at is null or s.next_wake_at > least(a.expires_at, "
        "" HP_STORE_FANOUT_FIRST_STEP_SQL "))";
    const char *p[] = {approval_id};

    return hp_db_exec(c, NULL, sql, 1, p, err, errcap);
}

hp_err hp_store_event_add(hp_dbconn *c, const char *approval_id, const char *team_id,
                          const char *kind, const char *actor_type, const char *actor_id,
                          const char *data_json, char *err, size_t errcap)
{
    static const char sql[] = "insert into approval_events (approval_id, team_id, kind, "
                              "actor_type, actor_id, data) values ($1, $2, $3, $4, $5, $6::jsonb)";
    const char *p[] = {approval_id, team_id,  kind,
                       actor_type,  actor_id, data_json ? data_json : "{}"};

    return hp_db_exec(c, NULL, sql, 6, p, err, errcap);
}

hp_err hp_store_notify_approval(hp_dbconn *c, const char *msg, char *err, size_t errcap)
{
    const char *p[] = {msg};
    return hp_db_exec(c, NULL, "select pg_notify('hp_approval', $1)", 1, p, err, errcap);
}

hp_err hp_store_approval_list(hp_dbconn *c, hp_pool *pool, const hp_approval_filter *f,
                              hp_approval_row **rows, int *n, char *err, size_t errcap)
{
    /* One statement for every filter combination: a NULL parameter disables
     * its condition. The keyset condition matches the (created_at desc, id
     * desc) indexes. */
    static const char sql[] = HP__SELECT
        "where a.team_id = $1 "
        "and ($2::uuid is null or a.agent_id = $2::uuid) "
        "and ($3::text is null or a.status = $3) "
        "and ($4::text is null or a.session_id = $4) "
        "and ($5::bigint is null or a.created_at > ('epoch'::timestamptz + $5::bigint * interval "
        "'1 microsecond')) "
        "and ($6::bigint is null or a.created_at < ('epoch'::timestamptz + $6::bigint * interval "
        "'1 microsecond')) "
        "and ($7::bigint is null or (a.created_at, a.id) < "
        "     (('epoch'::timestamptz + $7::bigint * interval '1 microsecond'), $8::uuid)) "
        "and ($10::text is null or a.question ilike '%' || $10 || '%') "
        "order by a.created_at desc, a.id desc limit $9";
    char after[24], before[24], cur[24], lim[16];
    char *like = NULL;
    PGresult *r;
    hp_err rc;

    if (f->text != NULL) {
        /* ILIKE's wildcards and its escape character match themselves. */
        size_t k = 0;
        like = hp_pool_alloc(pool, strlen(f->text) * 2 + 1);
        for (const char *t = f->text; *t; t++) {
            if (*t == '%' || *t == '_' || *t == '\\')
                like[k++] = '\\';
            like[k++] = *t;
        }
        like[k] = '\0';
    }

    (void)hp_fmt(after, sizeof(after), "%lld", (long long)f->created_after);
    (void)hp_fmt(before, sizeof(before), "%lld", (long long)f->created_before);
    (void)hp_fmt(cur, sizeof(cur), "%lld", (long long)f->cursor_created_at);
    (void)hp_fmt(lim, sizeof(lim), "%d", f->limit + 1);
    const char *p[] = {f->team_id,
                       f->agent_id,
                       f->status,
                       f->session_id,
                       f->created_after >= 0 ? after : NULL,
                       f->created_before >= 0 ? before : NULL,
                       f->cursor_id ? cur : NULL,
                       f->cursor_id,
                       lim,
                       like};
    rc = hp_db_exec(c, &r, sql, 10, p, err, errcap);
    if (rc != HP_OK)
        return rc;
    *rows = hp_db_keep_rows(pool, r, sizeof(**rows), n);
    for (int i = 0; i < *n; i++)
        hp__row_read(pool, r, i, &(*rows)[i]);
    return HP_OK;
}

hp_err hp_store_approval_changes(hp_dbconn *c, hp_pool *pool, const char *team_id, int64_t since,
                                 int limit, hp_approval_row **rows, int64_t **changed_at, int *n,
                                 char *err, size_t errcap)
{
    static const char sql[] = "select " HP__COLS ", g.name, " HP__US(
        "a.updated_at") " from approvals a join agents g on g.id = a.agent_id "
                        "where a.team_id = $1 and a.updated_at >= ('epoch'::timestamptz + "
                        "$2::bigint * interval '1 microsecond') "
                        "order by a.updated_at, a.id limit $3";
    char us[24], lim[16];
    const char *p[] = {team_id, us, lim};
    PGresult *r;
    hp_err rc;

    (void)hp_fmt(us, sizeof(us), "%lld", (long long)since);
    (void)hp_fmt(lim, sizeof(lim), "%d", limit);
    rc = hp_db_exec(c, &r, sql, 3, p, err, errcap);
    if (rc != HP_OK)
        return rc;
    *rows = hp_db_keep_rows(pool, r, sizeof(**rows), n);
    *changed_at = hp_pool_alloc(pool, sizeof(**changed_at) * (size_t)(*n > 0 ? *n : 1));
    for (int i = 0; i < *n; i++) {
        hp__row_read(pool, r, i, &(*rows)[i]);
        (*changed_at)[i] = hp_db_ll(r, i, HP__NCOLS + 1, 0);
    }
    return HP_OK;
}

hp_err hp_store_pending_count(hp_dbconn *c, const char *team_id, int cap, int *count, int64_t *now,
                              char *err, size_t errcap)
{
    static const char sql[] =
        "select count(*), " HP__US("now()") " from (select 1 from approvals where team_id = $1 "
                                            "and status = 'pending' limit $2) p";
    char lim[16];
    const char *p[] = {team_id, lim};
    PGresult *r = NULL;
    hp_err rc;

    (void)hp_fmt(lim, sizeof(lim), "%d", cap);
    rc = hp_db_exec(c, &r, sql, 2, p, err, errcap);
    if (rc == HP_OK) {
        *count = (int)hp_db_ll(r, 0, 0, 0);
        *now = hp_db_ll(r, 0, 1, 0);
    }
    PQclear(r);
    return rc;
}

hp_err hp_store_event_list(hp_dbconn *c, hp_pool *pool, const char *approval_id, hp_event **events,
                           int *n, char *err, size_t errcap)
{
    /* The actor's name as it is now: a user or agent of the same team. */
    static const char sql[] =
        "select e.id, e.kind, e.actor_type, e.actor_id, e.data::text, " HP__US(
            "e.created_at") ", coalesce(u.name, g.name) from approval_events e "
                            "left join users u on e.actor_type = 'user' and u.team_id = e.team_id "
                            "and u.id::text = e.actor_id "
                            "left join agents g on e.actor_type = 'agent' and g.team_id = "
                            "e.team_id "
                            "and g.id::text = e.actor_id "
                            "where e.approval_id = $1 order by e.id";
    const char *p[] = {approval_id};
    PGresult *r;
    hp_err rc = hp_db_exec(c, &r, sql, 1, p, err, errcap);

    *events = NULL;
    *n = 0;
    if (rc != HP_OK)
        return rc;
    *events = hp_db_keep_rows(pool, r, sizeof(**events), n);
    for (int i = 0; i < *n; i++) {
        hp_event *e = &(*events)[i];
        e->id = hp_db_ll(r, i, 0, 0);
        e->kind = hp_db_val(r, i, 1);
        e->actor_type = hp_db_val(r, i, 2);
        e->actor_id = hp_db_val(r, i, 3);
        e->data = hp_db_val(r, i, 4);
        e->created_at = hp_db_ll(r, i, 5, -1);
        e->actor_name = hp_db_val(r, i, 6);
    }
    return HP_OK;
}

/* The effects every close writes, as CTEs over the closed rows "x" (any
 * number of them; the approvals table's columns), shared by the expiry
 * statements and the decision: the callback jobs (body null:
 * holdpoint-delivery renders the closed row's result; an Ask API question
 * calls back only when answered, as an "ask_callback" job), the team
 * webhooks' notify jobs ({"event": "decided", "cancelled" or "expired"}),
 * the action response of each chosen option, custom instruction or timeout
 * default (seed 004) with its per-agent sequence number (counters taken in
 * agent order, so concurrent closes cannot deadlock) and its project
 * webhook job (body null: rendered from the response) and NOTIFY hp_jobs
 * once; the wake ("wk", NOTIFY hp_approval) follows in the caller's tail.
 * ATT is the jobs' max attempts, RID the id of action response
 * number rs.g (1-based, in approval id order), CEV and DEV its
 * client_event_id and device (SQL expressions). The audit events are the
 * caller's ("ev"): their actor and data differ. Two literals: C99
 * guarantees string literals of 4095 bytes only, so the statements are
 * joined once at first use. */
#define HP__EFFECTS_JOBS_SQL(att)                                                                  \
    "cb as (insert into jobs (team_id, kind, approval_id, agent_id, url, headers, body, "          \
    "  webhook_id, max_attempts) select x.team_id, case when x.source = 'ask' "                    \
    "  then '" HP_ASK_CALLBACK_JOB "' else 'callback' end, x.id, x.agent_id, x.callback_url, "     \
    "  x.callback_headers, null, 'msg_' || gen_random_uuid(), " att " from x "                     \
    "  where x.callback_url is not null and (x.source <> 'ask' "                                   \
    "  or x.status in ('selected_option', 'custom_instruction')) returning id), "                  \
    "nt as (insert into jobs (team_id, kind, approval_id, agent_id, url, body, webhook_id, "       \
    "  max_attempts) select x.team_id, 'notify', x.id, x.agent_id, '', "                           \
    "  '{\"event\":\"' || case x.status when 'expired' then 'expired' when 'cancelled' "           \
    "  then 'cancelled' else 'decided' end || '\"}', "                                             \
    "  'ntf_' || gen_random_uuid(), " HP_STORE_FANOUT_NOTIFY_ATTEMPTS " from x where exists "      \
    "  (select 1 from channels ch where ch.team_id = x.team_id and ch.enabled "                    \
    "  and ch.kind = 'webhook') returning id), "
#define HP__EFFECTS_RESPONSES_SQL(att, rid, cev, dev)                                              \
    "rs as (select x.*, x.options -> x.selected_option_index as opt, "                             \
    "  row_number() over (order by x.id) as g, "                                                   \
    "  row_number() over (partition by x.agent_id order by x.id) as n, "                           \
    "  count(*) over (partition by x.agent_id) as cnt from x "                                     \
    "  where case when x.status = 'custom_instruction' then x.custom_instruction is not null "     \
    "  when x.status in ('selected_option', 'expired') then x.selected_option_index "              \
    "  < case when jsonb_typeof(x.options) = 'array' then jsonb_array_length(x.options) end "      \
    "  else false end), "                                                                          \
    "ctr as (insert into inbox_counters as k (agent_id, seq) select rs.agent_id, max(rs.cnt) "     \
    "  from rs group by rs.agent_id order by rs.agent_id on conflict (agent_id) do update "        \
    "  set seq = k.seq + excluded.seq returning k.agent_id, k.seq), "                              \
    "ar as (insert into action_responses (id, team_id, agent_id, seq, session_id, "                \
    "  notification_id, approval_id, kind, action, button_index, button_label, decision_key, "     \
    "  response_text, is_timeout_default, client_event_id, notification_client_event_id, "         \
    "  user_id, user_name, device, notification_title, notification_message, decided_at) "         \
    "  select " rid ", rs.team_id, rs.agent_id, ctr.seq - rs.cnt + rs.n, rs.session_id, rs.id, "   \
    "  rs.id, case when rs.status = 'custom_instruction' then 'reply' else 'button' end, "         \
    "  case rs.status when 'custom_instruction' then 'text_reply' when 'expired' "                 \
    "  then 'timeout_default' else 'button_pressed' end, rs.selected_option_index, "               \
    "  case when jsonb_typeof(rs.opt->'label') = 'string' then rs.opt->>'label' end, "             \
    "  case when jsonb_typeof(rs.opt->'value') = 'string' then rs.opt->>'value' end, "             \
    "  case when rs.status = 'custom_instruction' then rs.custom_instruction end, "                \
    "  rs.status = 'expired', " cev ", rs.correlation_id, rs.resolved_by_user_id, "                \
    "  rs.resolved_by_name, " dev ", rs.question, rs.context_markdown, rs.resolved_at "            \
    "  from rs join ctr on ctr.agent_id = rs.agent_id returning *), "                              \
    "pw as (insert into jobs (team_id, kind, agent_id, url, body, webhook_id, max_attempts, "      \
    "  response_id) select ar.team_id, 'project_webhook', ar.agent_id, g.webhook_url, null, "      \
    "  'msg_' || ar.id, " att ", ar.id from ar join agents g on g.id = ar.agent_id "               \
    "  where g.webhook_url is not null returning id), "                                            \
    "nj as (select pg_notify('hp_jobs', '') from (select 1 from cb union all select 1 from nt "    \
    "  union all select 1 from pw limit 1) y), "

/* The wake of the expiry statements ("wk"): NOTIFY hp_approval with the
 * keys of the closes (approval ids, then "team:" keys, then "agent:" keys),
 * each key once, up to 60 keys a message. */
#define HP__WAKE_KEYS_SQL                                                                          \
    "wk as (select pg_notify('hp_approval', string_agg(k.key, ' ' order by k.o, k.key)) "          \
    "  from (select v.key, v.o, (row_number() over (order by v.o, v.key) - 1) / 60 as chunk "      \
    "  from (select u.key, min(u.o) as o from x, unnest(array[x.id::text, "                        \
    "  'team:' || x.team_id, 'agent:' || x.agent_id]) with ordinality as u(key, o) "               \
    "  group by u.key) v) k group by k.chunk) "

/* The longest wake message a decision's NOTIFY carries with its row:
 * PostgreSQL refuses payloads of 8,000 bytes and more. */
#define HP__ROW_MSG_MAX "7990"

/* The wake of a decision ("wk"): one NOTIFY hp_approval with the keys
 * message ("<id> team:<team> agent:<agent>") followed by the closed row
 * itself (a space, HP_WAKE_ROW_PREFIX, then a JSON array of the HP__COLS
 * values and the agent's name; see hp_store_approval_row_msg), so the API
 * replicas answer its long-polls without reading it again; a reader of
 * keys alone finds the keys first and no key among the rest. The
 * callback's URL and headers (elements 13 and 14), which no answer shows,
 * travel as null. A message the 8,000-byte NOTIFY limit cannot carry is
 * sent as the keys alone, and the waiters read the row. */
#define HP__WAKE_ROW_SQL                                                                           \
    "wk as (select n.msg, pg_notify('hp_approval', n.msg) from (select case when "                 \
    "  octet_length(m.k) + octet_length(m.j) < " HP__ROW_MSG_MAX                                   \
    " then m.k || ' " HP_WAKE_ROW_PREFIX "' || m.j else m.k end as msg from (select "              \
    "  jsonb_set(jsonb_set(json_build_array(" HP__COLS ", c.gname)::jsonb, '{13}', 'null'), "      \
    "  '{14}', 'null')::text as j, a.id || ' team:' || a.team_id || ' agent:' || a.agent_id as k " \
    "  from x as a, chk c) m) n) "

/* The expiry of every due row WHERE picks, with every effect of the close,
 * as ONE statement (its own transaction): the claim (the default option
 * computed in it: the first option marked is_default_on_timeout, else for
 * seed 004 decisions the first decision), the close (status = 'pending'
 * re-checked under the row lock), the "expired" audit events, then the
 * effects above. $1 the audit actor, $2 max attempts of the jobs, $3 ids
 * (uuid[]) for the action responses in batch order. */
#define HP__EXPIRE_SQL(where)                                                                      \
    "with due as (select d.id, coalesce("                                                          \
    "  (select (o.ord - 1)::int from jsonb_array_elements(d.options) with ordinality "             \
    "   as o(v, ord) where jsonb_typeof(o.v) = 'object' "                                          \
    "   and o.v->'is_default_on_timeout' = 'true'::jsonb order by o.ord limit 1), "                \
    "  case when d.source = 'v1_decisions' and jsonb_array_length(d.options) > 0 "                 \
    "       then 0 end) as idx "                                                                   \
    " from approvals d where d.status = 'pending' and d.expires_at <= now() " where                \
    " for update skip locked), "                                                                   \
    "x as (update approvals as a set status = 'expired', selected_option_index = due.idx, "        \
    "  is_timeout_default = due.idx is not null, resolved_at = now(), updated_at = now() "         \
    "  from due where a.id = due.id and a.status = 'pending' returning a.*), "                     \
    "ev as (insert into approval_events (approval_id, team_id, kind, actor_type, actor_id, data) " \
    "  select x.id, x.team_id, 'expired', 'system', $1, jsonb_build_object('status', x.status) "   \
    "  || case when x.selected_option_index is not null then jsonb_build_object("                  \
    "  'selected_option_index', x.selected_option_index, 'is_timeout_default', true) "             \
    "  else '{}'::jsonb end from x order by x.id), " HP__EFFECTS_JOBS_SQL("$2::int")

#define HP__EXPIRE_RESPONSES                                                                       \
    HP__EFFECTS_RESPONSES_SQL("$2::int", "($3::uuid[])[rs.g]", "null", "null")

/* The expiry statement's tail: RET, the select list over the closed rows
 * "a". */
#define HP__EXPIRE_TAIL(ret)                                                                       \
    HP__WAKE_KEYS_SQL "select " ret                                                                \
                      ", (select count(*) from nj) + (select count(*) from wk) from x as a"

/* A decision as ONE statement (its own transaction): with $17 and $18
 * (a user token's prefix and SHA-256), the deciding user read from its live
 * token ("tok"; none matching: nothing else happens, and the tail says so),
 * whose team then scopes the approval and whose id and name are recorded;
 * then the approval and its agent's name read under the row lock ("cur":
 * FOR UPDATE waits for a concurrent decision and then sees its outcome, so
 * of concurrent decisions the first wins and the others read the status it
 * left), the refusal if any ("closed", "option" for an index out of range,
 * "custom" when custom instructions are not allowed), the close (the status
 * re-checked against the one read under the lock, 'pending' when there is no
 * refusal: a join condition rather than a constant, so that the partial
 * indexes on pending rows, whose dead entries grow with every decision until
 * VACUUM, never look cheaper than the primary key), its audit event, then the
 * effects above. $1 approval id, $2 team id (NULL with a token), $3
 * "option", "custom" or "cancel", $4 option index, $5 custom instruction, $6
 * and $7 the deciding user's id and name (NULL: the token's), $8 the new
 * status, $9 the event kind, $10 and $11 the actor's type and id (NULL: the
 * token's user), $12 the event data (JSON), $13 the jobs' max attempts, $14
 * the action response's id, $15 its client_event_id, $16 its device, $17 and
 * $18 the token's prefix and hash (bytea text), or NULL. */
#define HP__DECIDE_TEAM_IS HP__TEAM_IS("coalesce($2::uuid, (select tok.team_id from tok))")
#define HP__DECIDE_SQL                                                                             \
    "with tok as (select u.id as uid, t.team_id, u.name from user_tokens t "                       \
    "  join users u on u.id = t.user_id where t.prefix = $17 "                                     \
    "  and t.token_hash = $18::bytea and t.revoked_at is null), "                                  \
    "cur as (select a.id, a.status, a.options, a.allow_custom_instruction, g.name as gname "       \
    "  from approvals a join agents g on g.id = a.agent_id where a.id = $1 "                       \
    "and " HP__DECIDE_TEAM_IS " for update of a), "                                                \
    "chk as (select cur.*, case when cur.status <> 'pending' then 'closed' "                       \
    "  when $3 = 'option' and ($4::int is null or $4::int < 0 or $4::int >= cur.nopts) "           \
    "  then 'option' when $3 = 'custom' and not cur.allow_custom_instruction then 'custom' "       \
    "  end as refusal from (select cur.*, case when jsonb_typeof(cur.options) = 'array' "          \
    "  then jsonb_array_length(cur.options) else 0 end as nopts from cur) cur), "                  \
    "x as (update approvals as a set status = $8, selected_option_index = $4::int, "               \
    "  custom_instruction = $5, is_timeout_default = false, "                                      \
    "  resolved_by_user_id = coalesce($6::uuid, (select tok.uid from tok)), "                      \
    "  resolved_by_name = coalesce($7, (select tok.name from tok)), resolved_at = now(), "         \
    "  updated_at = now() from chk where a.id = $1 and chk.id = a.id "                             \
    "  and chk.refusal is null and a.status = chk.status returning a.*), "                         \
    "ev as (insert into approval_events (approval_id, team_id, kind, actor_type, actor_id, data) " \
    "  select x.id, x.team_id, $9, $10, coalesce($11, (select tok.uid::text from tok)), "          \
    "  $12::jsonb from x), " HP__EFFECTS_JOBS_SQL("$13::int")

#define HP__DECIDE_RESPONSES HP__EFFECTS_RESPONSES_SQL("$13::int", "$14::uuid", "$15", "$16")

/* The decision's tail, always one row: the closed row (nulls when nothing
 * closed), the agent's name, the refusal, the status under the lock (NULL
 * when the team has no such approval), the number of options, the count of
 * NOTIFYs sent, the action response recorded (nulls when none; at most one:
 * one approval closes), how many live user tokens matched, then the wake
 * message its NOTIFY carried (NULL when nothing closed). */
#define HP__DECIDE_TAIL                                                                            \
    HP__WAKE_ROW_SQL "select " HP__COLS ", c.gname, c.refusal, c.status, c.nopts, "                \
                     "(select count(*) from nj) + (select count(*) from wk), " HP_STORE_INBOX_COLS \
                     ", (select count(*) from tok), (select wk.msg from wk) from (select) z "      \
                     "left join chk c on true "                                                    \
                     "left join x as a on true left join ar as r on true"

/* Where the decision's action response starts in its tail, and the columns
 * after it: how many live user tokens matched, the wake message. */
#define HP__DECIDE_RESPONSE_COL (HP__NCOLS + 5)
#define HP__DECIDE_TOKEN_COL    (HP__DECIDE_RESPONSE_COL + HP_STORE_INBOX_NCOLS)
#define HP__DECIDE_WAKE_COL     (HP__DECIDE_TOKEN_COL + 1)

/* The batch size as text for the statement: a literal limit, not a
 * parameter, so the prepared statement's generic plan (the claim's index
 * scan with a known row count) is as cheap as a custom one and PostgreSQL
 * stops planning it on every execution. */
#define HP__EXPIRE_TEXT(n)    #n
#define HP__EXPIRE_NUM(n)     HP__EXPIRE_TEXT(n)
#define HP__EXPIRE_BATCH_TEXT HP__EXPIRE_NUM(HP_STORE_EXPIRE_BATCH)

static char hp__expire_due_sql[8192], hp__expire_one_sql[8192], hp__decide_sql[12288];
static pthread_once_t hp__expire_once = PTHREAD_ONCE_INIT;

static void hp__expire_sql_init(void)
{
    static const char due_head[] =
        HP__EXPIRE_SQL("order by d.expires_at limit " HP__EXPIRE_BATCH_TEXT);
    static const char due_tail[] =
        HP__EXPIRE_TAIL("a.id, a.team_id, a.agent_id, " HP__US("a.expires_at") ", a.timeout_mode");
    static const char one_head[] = HP__EXPIRE_SQL("and d.id = $4 and d.team_id = $5 limit 1");
    static const char one_tail[] = HP__EXPIRE_TAIL(HP__COLS ", null::text");
    static const char expire_responses[] = HP__EXPIRE_RESPONSES;
    static const char decide_head[] = HP__DECIDE_SQL;
    static const char decide_responses[] = HP__DECIDE_RESPONSES;
    static const char decide_tail[] = HP__DECIDE_TAIL;

    if (!hp_fmt(hp__expire_due_sql, sizeof(hp__expire_due_sql), "%s%s%s", due_head,
                expire_responses, due_tail) ||
        !hp_fmt(hp__expire_one_sql, sizeof(hp__expire_one_sql), "%s%s%s", one_head,
                expire_responses, one_tail) ||
        !hp_fmt(hp__decide_sql, sizeof(hp__decide_sql), "%s%s%s", decide_head, decide_responses,
                decide_tail))
        abort(); /* the buffers are sized for the texts above */
}

/* v7 ids for the action responses a batch of n may record, as a uuid[]
 * literal in pool. */
static const char *hp__ids_v7(hp_pool *pool, int n)
{
    char *s = hp_pool_alloc(pool, (size_t)n * (HP_UUID_LEN + 1) + 3), *p = s;

    *p++ = '{';
    for (int i = 0; i < n; i++) {
        if (i > 0)
            *p++ = ',';
        hp_uuid_v7(p);
        p += HP_UUID_LEN;
    }
    *p++ = '}';
    *p = '\0';
    return s;
}

hp_err hp_store_approval_expire_due(hp_dbconn *c, hp_pool *pool, const char *actor,
                                    int max_attempts, hp_expired **rows, int *n, char *err,
                                    size_t errcap)
{
    char att[16];
    const char *p[] = {actor, att, hp__ids_v7(pool, HP_STORE_EXPIRE_BATCH)};
    PGresult *r;
    hp_err rc;

    (void)hp_fmt(att, sizeof(att), "%d", max_attempts);
    pthread_once(&hp__expire_once, hp__expire_sql_init);
    rc = hp_db_exec(c, &r, hp__expire_due_sql, 3, p, err, errcap);
    if (rc != HP_OK)
        return rc;
    *rows = hp_db_keep_rows(pool, r, sizeof(**rows), n);
    for (int i = 0; i < *n; i++) {
        hp_expired *e = &(*rows)[i];
        e->id = hp_db_val(r, i, 0);
        e->team_id = hp_db_val(r, i, 1);
        e->agent_id = hp_db_val(r, i, 2);
        e->expires_at = hp_db_ll(r, i, 3, -1);
        e->timeout_mode = hp_db_val(r, i, 4);
    }
    return HP_OK;
}

hp_err hp_store_approval_expire_one(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                    const char *approval_id, const char *actor, int max_attempts,
                                    hp_approval_row *row, bool *expired, char *err, size_t errcap)
{
    char att[16];
    const char *p[] = {actor, att, hp__ids_v7(pool, 1), approval_id, team_id};

    (void)hp_fmt(att, sizeof(att), "%d", max_attempts);
    pthread_once(&hp__expire_once, hp__expire_sql_init);
    return hp__one(c, pool, hp__expire_one_sql, 5, p, row, expired, err, errcap);
}

hp_err hp_store_approval_decide(hp_dbconn *c, hp_pool *pool, const hp_store_decide *d,
                                hp_approval_row *row, hp_store_decided *out, char *err,
                                size_t errcap)
{
    static const char *const kinds[] = {"option", "custom", "cancel"};
    char idx[16], att[16], rid[HP_UUID_LEN + 1], hash[2 + 64 + 1] = "\\x";
    const char *p[] = {d->approval_id,
                       d->team_id,
                       kinds[d->kind],
                       d->option_index >= 0 ? idx : NULL,
                       d->custom_instruction,
                       d->user_id,
                       d->user_name,
                       d->status,
                       d->event_kind,
                       d->actor_type,
                       d->actor_id,
                       d->event_data ? d->event_data : "{}",
                       att,
                       rid,
                       d->client_event_id,
                       d->device,
                       d->token_prefix,
                       d->token_prefix != NULL ? hash : NULL};
    PGresult *r;
    hp_err rc;

    memset(out, 0, sizeof(*out));
    if (d->response != NULL)
        memset(d->response, 0, sizeof(*d->response));
    (void)hp_fmt(idx, sizeof(idx), "%d", d->option_index);
    (void)hp_fmt(att, sizeof(att), "%d", d->max_attempts);
    hp_uuid_v7(rid);
    if (d->token_prefix != NULL)
        hp_hex_encode(d->token_hash, 32, hash + 2);
    pthread_once(&hp__expire_once, hp__expire_sql_init);
    rc = hp_db_exec(c, &r, hp__decide_sql, 18, p, err, errcap);
    if (rc == HP_ERR_CONFLICT) {
        /* The only unique key a decision can meet: the agent's
         * action_responses (agent_id, client_event_id). */
        hp_err_set(err, errcap, "client_event_id already recorded");
        return rc;
    }
    if (rc != HP_OK)
        return rc;
    /* One row always; no status under the lock: no such approval. */
    out->token_refused = d->token_prefix != NULL && PQntuples(r) == 1 &&
                         hp_db_ll(r, 0, HP__DECIDE_TOKEN_COL, 0) == 0;
    out->found = PQntuples(r) == 1 && !out->token_refused && !PQgetisnull(r, 0, HP__NCOLS + 2);
    if (out->found) {
        const char *refusal = hp_db_val(r, 0, HP__NCOLS + 1);
        out->options = (int)hp_db_ll(r, 0, HP__NCOLS + 3, 0);
        if (refusal != NULL) {
            out->refusal = strcmp(refusal, "option") == 0   ? HP_STORE_DECIDE_BAD_OPTION
                           : strcmp(refusal, "custom") == 0 ? HP_STORE_DECIDE_NO_CUSTOM
                                                            : HP_STORE_DECIDE_CLOSED;
            out->status = hp_pool_strdup(pool, hp_db_val(r, 0, HP__NCOLS + 2));
        } else if (hp_db_val(r, 0, 0) == NULL) {
            out->refusal = HP_STORE_DECIDE_CLOSED; /* not reached under the row lock */
            out->status = "closed";
        } else {
            hp_store_approval_read(pool, r, 0, 0, row);
            out->status = row->status;
            const char *wake = hp_db_val(r, 0, HP__DECIDE_WAKE_COL);
            out->wake_msg = wake != NULL ? hp_pool_strdup(pool, wake) : NULL;
            if (d->response != NULL && !PQgetisnull(r, 0, HP__DECIDE_RESPONSE_COL))
                hp_store_inbox_read(pool, r, 0, HP__DECIDE_RESPONSE_COL, d->response);
            if (d->keep_result) {
                out->result = r;
                return HP_OK;
            }
        }
    }
    PQclear(r); /* the row's strings are the pool's */
    return HP_OK;
}
