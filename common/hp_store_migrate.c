/*
 * hp_store_migrate: the SQL of `holdpoint migrate` — the advisory lock every
 * migrator takes, the schema_migrations ledger, and the one migration that is
 * code (sealing stored callback headers); see hp_store_migrate.h.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "hp_crypto.h"
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

/* One batch of plain headers of table (approvals.callback_headers, or
 * jobs.headers of callback jobs) after id `after`, sealed in place; *n
 * gets the rows of the batch and after its last id. */
static hp_err hp__seal_batch(hp_dbconn *c, bool jobs, const unsigned char *key, char *after,
                             size_t aftercap, int *n, char *err, size_t errcap)
{
    static const char *const sel[] = {
        "select id::text, callback_headers::text from approvals where id > $1::uuid "
        "and jsonb_typeof(callback_headers) = 'object' and callback_headers <> '{}'::jsonb "
        "order by id limit 500",
        "select id::text, headers::text from jobs where id > $1::bigint "
        "and kind in ('callback', 'ask_callback') "
        "and jsonb_typeof(headers) = 'object' and headers <> '{}'::jsonb order by id limit 500"};
    static const char *const upd[] = {
        "update approvals set callback_headers = to_jsonb($2::text) where id = $1::uuid",
        "update jobs set headers = to_jsonb($2::text) where id = $1::bigint"};
    const char *p[] = {after};
    PGresult *r = NULL;
    hp_err rc = hp_db_exec(c, &r, sel[jobs], 1, p, err, errcap);

    *n = 0;
    if (rc != HP_OK)
        return rc;
    *n = PQntuples(r);
    if (*n > 0 && key == NULL) {
        hp_err_set(err, errcap, "stored callback headers must be sealed: set HOLDPOINT_SECRET_KEY");
        PQclear(r);
        return HP_ERR_CONFIG;
    }
    for (int i = 0; rc == HP_OK && i < *n; i++) {
        const char *text = hp_db_val(r, i, 1);
        char *s = hp_secret_seal(key, text, strlen(text));
        const char *u[] = {hp_db_val(r, i, 0), s};
        rc = hp_db_exec(c, NULL, upd[jobs], 2, u, err, errcap);
        free(s);
    }
    if (*n > 0)
        hp_strlcpy(after, hp_db_val(r, *n - 1, 0), aftercap);
    /* The plain text of the headers is in the result's memory. */
    for (int i = 0; i < *n; i++)
        OPENSSL_cleanse(PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1));
    PQclear(r);
    return rc;
}

hp_err hp_store_migrate_seal_headers(hp_dbconn *c, const unsigned char *key, long long *sealed,
                                     char *err, size_t errcap)
{
    const char *p[] = {HP_MIGRATE_SEAL_HEADERS};
    hp_err rc = hp_db_begin(c, err, errcap);

    *sealed = 0;
    if (rc != HP_OK)
        return rc;
    for (int jobs = 0; rc == HP_OK && jobs < 2; jobs++) {
        char after[64];
        int n = 0;
        hp_strlcpy(after, jobs ? "0" : "00000000-0000-0000-0000-000000000000", sizeof(after));
        do {
            rc = hp__seal_batch(c, jobs != 0, key, after, sizeof(after), &n, err, errcap);
            *sealed += n;
        } while (rc == HP_OK && n > 0);
    }
    if (rc == HP_OK)
        rc = hp_db_exec(c, NULL, "insert into schema_migrations (name) values ($1)", 1, p, err,
                        errcap);
    return hp_db_finish(c, rc, err, errcap);
}
