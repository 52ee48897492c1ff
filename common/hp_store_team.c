/*
 * hp_store_team: SQL for the settings pages' reads and member changes; see
 * hp_store_team.h.
 */
#include <string.h>

#include "hp_store_team.h"
#include "hp_str.h"

#define HP__US(col) "(extract(epoch from " col ") * 1000000)::bigint"

/* Runs a team's list statement; its rows are copied into pool by the
 * caller, the result cleared by it. */
static hp_err hp__list(hp_dbconn *c, const char *sql, const char *team_id, PGresult **r, char *err,
                       size_t errcap)
{
    const char *p[] = {team_id};

    return hp_db_exec(c, r, sql, 1, p, err, errcap);
}

hp_err hp_store_team_keys(hp_dbconn *c, hp_pool *pool, const char *team_id, hp_team_key **keys,
                          int *n, char *err, size_t errcap)
{
    static const char sql[] =
        "select id, name, prefix, agent_id, test_mode, " HP__US("created_at") ", " HP__US(
            "revoked_at") " from api_keys where team_id = $1 "
                          "order by revoked_at is not null, created_at desc, id desc";
    PGresult *r;
    hp_err rc = hp__list(c, sql, team_id, &r, err, errcap);

    *keys = NULL;
    *n = 0;
    if (rc != HP_OK)
        return rc;
    *keys = hp_db_rows(pool, r, sizeof(**keys), n);
    for (int i = 0; i < *n; i++) {
        hp_team_key *k = &(*keys)[i];
        const char *v[4];
        hp_db_row_copy(pool, r, i, 0, 4, v);
        k->id = v[0];
        k->name = v[1];
        k->prefix = v[2];
        k->agent_id = v[3];
        k->test_mode = hp_db_bool(r, i, 4);
        k->created_at = hp_db_ll(r, i, 5, -1);
        k->revoked_at = hp_db_ll(r, i, 6, -1);
    }
    PQclear(r);
    return HP_OK;
}

hp_err hp_store_team_key_owned(hp_dbconn *c, const char *team_id, const char *key_id, bool *found,
                               char *err, size_t errcap)
{
    const char *p[] = {key_id, team_id};
    PGresult *r = NULL;
    hp_err rc = hp_db_exec(c, &r, "select 1 from api_keys where id = $1 and team_id = $2", 2, p,
                           err, errcap);

    if (rc == HP_OK)
        *found = PQntuples(r) > 0;
    PQclear(r);
    return rc;
}

hp_err hp_store_team_members(hp_dbconn *c, hp_pool *pool, const char *team_id,
                             hp_member_row **members, int *n, char *err, size_t errcap)
{
    static const char sql[] = "select id, email, name, role, " HP__US(
        "created_at") " from users where team_id = $1 order by created_at, id";
    PGresult *r;
    hp_err rc = hp__list(c, sql, team_id, &r, err, errcap);

    *members = NULL;
    *n = 0;
    if (rc != HP_OK)
        return rc;
    *members = hp_db_rows(pool, r, sizeof(**members), n);
    for (int i = 0; i < *n; i++) {
        hp_member_row *m = &(*members)[i];
        const char *v[4];
        hp_db_row_copy(pool, r, i, 0, 4, v);
        m->id = v[0];
        m->email = v[1];
        m->name = v[2];
        m->role = v[3];
        m->created_at = hp_db_ll(r, i, 4, -1);
    }
    PQclear(r);
    return HP_OK;
}

hp_err hp_store_team_member_change(hp_dbconn *c, const char *team_id, const char *user_id,
                                   hp_member_op op, const char *role, const char *actor_role,
                                   char *err, size_t errcap)
{
    const char *p[] = {team_id, user_id, role};
    PGresult *r = NULL;
    bool actor_owner = strcmp(actor_role, "owner") == 0;
    bool was_owner, stays_owner;
    long long owners;
    hp_err rc = hp_db_begin(c, err, errcap);

    if (rc != HP_OK)
        return rc;
    /* The team row lock serialises member changes of one team, so two
     * owners demoting each other cannot leave it with none. */
    rc = hp_db_exec(c, &r,
                    "select u.role, (select count(*) from users o where o.team_id = $1 "
                    "and o.role = 'owner') from teams t join users u on u.team_id = t.id "
                    "and u.id = $2 where t.id = $1 for update of t",
                    2, p, err, errcap);
    if (rc != HP_OK)
        goto fail;
    if (PQntuples(r) == 0) {
        hp_err_set(err, errcap, "no such member");
        rc = HP_ERR_NOT_FOUND;
        goto fail;
    }
    was_owner = strcmp(hp_db_val(r, 0, 0), "owner") == 0;
    owners = hp_db_ll(r, 0, 1, 0);
    stays_owner = op == HP_MEMBER_SET_ROLE && strcmp(role, "owner") == 0;
    if (!actor_owner && (was_owner || stays_owner)) {
        hp_err_set(err, errcap, "only an owner may make, change or remove an owner");
        rc = HP_ERR_FORBIDDEN;
        goto fail;
    }
    if (was_owner && !stays_owner && owners <= 1) {
        hp_err_set(err, errcap, "a team keeps at least one owner");
        rc = HP_ERR_CONFLICT;
        goto fail;
    }
    if (op == HP_MEMBER_SET_ROLE)
        rc = hp_db_exec(c, NULL, "update users set role = $3 where team_id = $1 and id = $2", 3, p,
                        err, errcap);
    else
        rc = hp_db_exec(c, NULL, "delete from users where team_id = $1 and id = $2", 2, p, err,
                        errcap);
    if (rc != HP_OK)
        goto fail;
    PQclear(r);
    return hp_db_commit(c, err, errcap);
fail:
    PQclear(r);
    hp_db_rollback(c);
    return rc;
}

hp_err hp_store_team_quota(hp_dbconn *c, const char *team_id, long long *quota, long long *used,
                           char *err, size_t errcap)
{
    static const char sql[] =
        "select t.approval_quota, (select count(*) from approvals a where a.team_id = t.id "
        "and a.created_at >= date_trunc('month', now() at time zone 'utc') at time zone 'utc') "
        "from teams t where t.id = $1";
    const char *p[] = {team_id};
    PGresult *r = NULL;
    hp_err rc = hp_db_exec(c, &r, sql, 1, p, err, errcap);

    if (rc == HP_OK && PQntuples(r) == 0) {
        hp_err_set(err, errcap, "team not found");
        rc = HP_ERR_NOT_FOUND;
    } else if (rc == HP_OK) {
        *quota = hp_db_ll(r, 0, 0, -1);
        *used = hp_db_ll(r, 0, 1, 0);
    }
    PQclear(r);
    return rc;
}
