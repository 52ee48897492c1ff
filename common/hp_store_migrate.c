/*
 * hp_store_migrate: the SQL of `holdpoint migrate` — the advisory lock every
 * migrator takes, and the schema_migrations ledger; see hp_store_migrate.h.
 */
#include <string.h>

#include "hp_store_migrate.h"
#include "hp_str.h"

hp_err hp_store_migrate_lock(hp_dbconn *c, char *err, size_t errcap)
{
    char key[24];
    const char *p[] = {key};
    hp_err rc;

    (void)hp_fmt(key, sizeof(key), "%lld", HP_MIGRATE_LOCK_KEY);
    /* The pool gives every connection short statement and lock timeouts; a
     * migration (an index build) may legitimately take longer, and waiting
     * for another migrator's lock is exactly what must not time out. Routine
     * notices ("already exists, skipping") are noise in a migrator's log. */
    if ((rc = hp_db_exec(c, NULL, "set statement_timeout = 0", 0, NULL, err, errcap)) != HP_OK ||
        (rc = hp_db_exec(c, NULL, "set client_min_messages = warning", 0, NULL, err, errcap)) !=
            HP_OK ||
        (rc = hp_db_exec(c, NULL, "set lock_timeout = 0", 0, NULL, err, errcap)) != HP_OK ||
        (rc = hp_db_exec(c, NULL, "select pg_advisory_lock($1::bigint)", 1, p, err, errcap)) !=
            HP_OK)
        return rc;
    /* Created under the lock: concurrent "create table if not exists" can
     * still collide in pg_type, so only the lock holder ever runs it. */
    return hp_db_exec(c, NULL,
                      "create table if not exists schema_migrations ("
                      "name text primary key, "
                      "applied_at timestamptz not null default now())",
                      0, NULL, err, errcap);
}

hp_err hp_store_migrate_unlock(hp_dbconn *c, char *err, size_t errcap)
{
    char key[24];
    const char *p[] = {key};

    (void)hp_fmt(key, sizeof(key), "%lld", HP_MIGRATE_LOCK_KEY);
    return hp_db_exec(c, NULL, "select pg_advisory_unlock($1::bigint)", 1, p, err, errcap);
}

hp_err hp_store_migrate_applied(hp_dbconn *c, const char *name, bool *applied, char *err,
                                size_t errcap)
{
    const char *p[] = {name};

    *applied = false;
    return hp_db_exists(c, "select 1 from schema_migrations where name = $1", 1, p, applied, err,
                        errcap);
}

hp_err hp_store_migrate_apply(hp_dbconn *c, const char *name, const char *sql, char *err,
                              size_t errcap)
{
    PGconn *pg = hp_dbconn_pg(c);
    const char *p[] = {name};
    PGresult *r;
    ExecStatusType st;
    hp_err rc = hp_db_begin(c, err, errcap);

    if (rc != HP_OK)
        return rc;
    /* PQexec (the simple protocol) because a migration file holds many
     * statements; inside the open transaction they all commit or none. */
    r = PQexec(pg, sql);
    st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        if (m == NULL)
            m = PQerrorMessage(pg);
        hp_err_set(err, errcap, "migration failed: database error %s: %.*s",
                   state ? state : "(none)", (int)strcspn(m, "\n"), m);
        rc = PQstatus(pg) == CONNECTION_OK ? HP_ERR_INTERNAL : HP_ERR_UNAVAILABLE;
    }
    PQclear(r);
    if (rc == HP_OK)
        rc = hp_db_exec(c, NULL, "insert into schema_migrations (name) values ($1)", 1, p, err,
                        errcap);
    return hp_db_finish(c, rc, err, errcap);
}

hp_err hp_store_migrate_current(hp_dbconn *c, char *out, size_t cap, bool *any, char *err,
                                size_t errcap)
{
    PGresult *r = NULL;
    hp_err rc = hp_db_exec(c, &r,
                           "select name from schema_migrations order by name collate \"C\" desc "
                           "limit 1",
                           0, NULL, err, errcap);

    *any = false;
    if (cap > 0)
        out[0] = '\0';
    if (rc == HP_OK && PQntuples(r) == 1) {
        *any = true;
        hp_strlcpy(out, hp_db_val(r, 0, 0), cap);
    }
    PQclear(r);
    return rc;
}
