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
    /* The pool bounds every statement by its timeout; a migration (an index
     * build) may legitimately take longer, and waiting for another
     * migrator's lock is exactly what must not time out. */
    hp_dbconn_set_timeout(c, 0);
    /* The session lock is taken inside a transaction only so that the
     * server-side timeouts an operator may set as role defaults can be
     * lifted for this one wait (set_config(..., true) ends with the
     * transaction); the lock itself outlives the commit. */
    rc = hp_db_begin(c, err, errcap);
    if (rc != HP_OK)
        return rc;
    rc = hp_db_exec(c, NULL,
                    "select set_config('statement_timeout', '0', true), "
                    "set_config('lock_timeout', '0', true)",
                    0, NULL, err, errcap);
    if (rc == HP_OK)
        rc = hp_db_exec(c, NULL, "select pg_advisory_lock($1::bigint)", 1, p, err, errcap);
    rc = hp_db_finish(c, rc, err, errcap);
    if (rc != HP_OK)
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
    const char *p[] = {name};
    hp_err rc = hp_db_begin(c, err, errcap);

    if (rc != HP_OK)
        return rc;
    /* Settings for this transaction only (a session setting would outlive
     * it on a pooled server connection): a server-side statement_timeout or
     * lock_timeout an operator set as a role default must not cut an index
     * build or a lock wait short, and routine notices ("already exists,
     * skipping") are noise in a migrator's log. */
    rc = hp_db_exec(c, NULL,
                    "select set_config('statement_timeout', '0', true), "
                    "set_config('lock_timeout', '0', true), "
                    "set_config('client_min_messages', 'warning', true)",
                    0, NULL, err, errcap);
    if (rc == HP_OK) {
        rc = hp_db_exec_script(c, sql, err, errcap);
        if (rc == HP_ERR_CONFLICT) /* a failed migration, not a caller's conflict */
            rc = HP_ERR_INTERNAL;
        if (rc != HP_OK) {
            char why[HP_ERRBUF];
            hp_strlcpy(why, err, sizeof(why));
            hp_err_set(err, errcap, "migration failed: %s", why);
        }
    }
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
