/*
 * hp_store_auth: SQL for key, token and agent lookups; see hp_store_auth.h.
 */
#include <string.h>

#include "hp_json.h"
#include "hp_store_approval.h"
#include "hp_store_auth.h"

/* Copies a bytea column (hex output "\x...") of 32 bytes into out. */
static void hp__hash32(const PGresult *r, int row, int col, unsigned char out[32])
{
    const char *v = hp_db_val(r, row, col);
    memset(out, 0, 32);
    if (v == NULL || strncmp(v, "\\x", 2) != 0 || strlen(v) != 66)
        return;
    for (int i = 0; i < 32; i++) {
        unsigned int hi, lo;
        char a = v[2 + 2 * i], b = v[3 + 2 * i];
        hi = (unsigned)(a <= '9' ? a - '0' : a - 'a' + 10);
        lo = (unsigned)(b <= '9' ? b - '0' : b - 'a' + 10);
        out[i] = (unsigned char)((hi << 4) | lo);
    }
}

/* The key's columns, in hp__key_read order. */
#define HP__KEY_COLS                                                                               \
    "k.id, k.team_id, k.agent_id, k.test_mode, k.revoked_at is not null, k.key_hash, "             \
    "g.id, g.default_timeout_seconds, g.default_timeout_mode, g.default_timeout_instruction, "     \
    "t.approval_quota is not null, t.agents_rev"
#define HP__KEY_NCOLS 12

/* Reads the key columns of row i from col, copying the strings into pool so
 * that the result can be cleared at once (a waiting request keeps these for
 * minutes). */
static void hp__key_read(hp_pool *pool, const PGresult *r, int i, int col, hp_key_row *out)
{
    const char *v[HP__KEY_NCOLS];

    hp_db_row_copy(pool, r, i, col, HP__KEY_NCOLS, v);
    memset(out, 0, sizeof(*out));
    out->key_id = v[0];
    out->team_id = v[1];
    out->key_agent_id = v[2];
    out->test_mode = hp_db_bool(r, i, col + 3);
    out->revoked = hp_db_bool(r, i, col + 4);
    hp__hash32(r, i, col + 5, out->hash);
    out->agent_id = v[6];
    out->default_timeout_seconds = (int)hp_db_ll(r, i, col + 7, 0);
    out->default_timeout_mode = v[8];
    out->default_timeout_instruction = v[9];
    out->team_has_quota = hp_db_bool(r, i, col + 10);
    out->team_agents_rev = hp_db_ll(r, i, col + 11, 0);
}

#define HP__KEY_FROM                                                                               \
    "from api_keys k join teams t on t.id = k.team_id left join agents g "                         \
    "on g.team_id = k.team_id and g.id = coalesce(q.g, k.agent_id, "                               \
    "  (select d.id from agents d where d.team_id = k.team_id "                                    \
    "   order by d.created_at, d.id limit 1)) "
#define HP__KEY_LOOKUPS                                                                            \
    "select q.n, x.* from jsonb_to_recordset($1::jsonb) as q(n int, p text, g uuid, r text) "      \
    "cross join lateral (select " HP__KEY_COLS

hp_err hp_store_key_lookup(hp_dbconn *c, hp_key_query *const *q, int n, char *err, size_t errcap)
{
    /* The lookups travel as one JSON array (n: their position). Each is a
     * lateral subquery with a limit, so it stays a per-lookup index probe
     * whatever the planner guesses of the array's length. The approval is
     * joined on the agent the key resolves to, inside the key's team, so
     * whatever the caller learns from it is what the two-step read
     * (authenticate, then read by team and agent) would have told it.
     * Lookups without a request_id have a statement of their own: a plan
     * made while approvals was small could read the approval through the
     * agent's index of all its approvals, for every request, for the life
     * of the connection (docs/internals/batching.md). */
    static const char sql_keys[] =
        HP__KEY_LOOKUPS " " HP__KEY_FROM "where k.prefix = q.p limit 1) x";
    static const char sql_rows[] =
        HP__KEY_LOOKUPS ", " HP_STORE_APPROVAL_COLS ", g.name " HP__KEY_FROM
                        "left join approvals a on a.team_id = k.team_id and a.agent_id = g.id "
                        "and a.request_id = q.r where k.prefix = q.p limit 1) x";
    const bool rows = q[0]->request_id != NULL;
    json_object *arr = json_object_new_array_ext(n);
    const char *p[1];
    PGresult *r;
    hp_err rc;

    for (int i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "n", json_object_new_int(i));
        hp_json_set_str(o, "p", q[i]->prefix);
        hp_json_set_str(o, "g", q[i]->agent_id); /* null: none */
        hp_json_set_str(o, "r", q[i]->request_id);
        json_object_array_add(arr, o);
        q[i]->found = q[i]->row_found = false;
    }
    p[0] = hp_json_text(arr);
    rc = hp_db_exec(c, &r, rows ? sql_rows : sql_keys, 1, p, err, errcap);
    json_object_put(arr);
    if (rc != HP_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        long long k = hp_db_ll(r, i, 0, -1);
        if (k < 0 || k >= n)
            continue;
        q[k]->found = true;
        hp__key_read(q[k]->pool, r, i, 1, &q[k]->key);
        q[k]->row_found = rows && !PQgetisnull(r, i, 1 + HP__KEY_NCOLS);
        if (q[k]->row_found)
            hp_store_approval_read(q[k]->pool, r, i, 1 + HP__KEY_NCOLS, &q[k]->row);
    }
    PQclear(r); /* every string read is the pools' */
    return HP_OK;
}

hp_err hp_store_token_lookup(hp_dbconn *c, hp_pool *pool, const char *prefix, hp_token_row *out,
                             bool *found, char *err, size_t errcap)
{
    static const char sql[] = "select u.id, t.team_id, u.name, u.role, t.revoked_at is not null, "
                              "t.token_hash from user_tokens t join users u on u.id = t.user_id "
                              "where t.prefix = $1";
    const char *p[] = {prefix};
    PGresult *r;
    hp_err rc = hp_db_exec(c, &r, sql, 1, p, err, errcap);

    if (rc != HP_OK)
        return rc;
    *found = PQntuples(r) == 1;
    if (*found) {
        const char *v[4];
        hp_db_row_copy(pool, r, 0, 0, 4, v);
        out->user_id = v[0];
        out->team_id = v[1];
        out->name = v[2];
        out->role = v[3];
        out->revoked = hp_db_bool(r, 0, 4);
        hp__hash32(r, 0, 5, out->hash);
    }
    PQclear(r);
    return HP_OK;
}

void hp_store_agent_read(hp_pool *pool, const PGresult *r, int i, hp_agent_row *a)
{
    const char *v[8];

    hp_db_row_copy(pool, r, i, 0, 8, v);
    a->id = v[0];
    a->name = v[1];
    a->default_timeout_seconds = (int)hp_db_ll(r, i, 2, 0);
    a->default_timeout_mode = v[3];
    a->default_timeout_instruction = v[4];
    a->callback_auth_header = v[5];
    a->created_at = hp_db_ll(r, i, 6, -1);
    a->webhook_url = v[7];
}

hp_err hp_store_agents_list(hp_dbconn *c, hp_pool *pool, const char *team_id, const char *agent_id,
                            hp_agent_row **agents, int *n, char *err, size_t errcap)
{
    static const char sql[] = "select " HP_STORE_AGENT_COLS " from agents where team_id = $1 "
                              "and ($2::uuid is null or id = $2::uuid) order by created_at, id";
    const char *p[] = {team_id, agent_id};
    PGresult *r;
    hp_err rc = hp_db_exec(c, &r, sql, 2, p, err, errcap);

    *agents = NULL;
    *n = 0;
    if (rc != HP_OK)
        return rc;
    *agents = hp_db_rows(pool, r, sizeof(**agents), n);
    for (int i = 0; i < *n; i++)
        hp_store_agent_read(pool, r, i, &(*agents)[i]);
    PQclear(r); /* the rows' strings are the pool's */
    return HP_OK;
}
