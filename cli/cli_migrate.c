/*
 * cli_migrate: `holdpoint migrate`, which applies the migrations compiled
 * into this binary (sql/NNN_*.sql, see hp_migrations.h) that the database
 * has not recorded yet.
 *
 * Every container may run it at start-up at the same time: each waits for
 * the session advisory lock, so they run one after another and only the
 * first finds work. The lock needs a session of its own, so migrate
 * connects to HOLDPOINT_DATABASE_DIRECT_URL (HOLDPOINT_DATABASE_URL when
 * unset) and refuses a URL that leads through a pooler. Each migration runs in its own transaction
 * together with its schema_migrations row, so a failed one leaves no trace and the next run retries
 * it. Migrations are forward-only; this never undoes one.
 *
 * One migration is code: 005_seal_callback_headers seals the callback
 * headers stored in plain text before creates sealed them, with
 * HOLDPOINT_SECRET_KEY (needed only when there is something to seal). It
 * runs after the sql/ files, once, recorded in the same ledger.
 */
#include <string.h>

#include "cli.h"
#include "hp_log.h"
#include "hp_migrations.h"
#include "hp_store_migrate.h"
#include "hp_str.h"

static const char hp__migrate_usage[] =
    "usage: holdpoint migrate [--json]\n"
    "\n"
    "Applies the pending sql/NNN_*.sql migrations compiled into this binary, each in\n"
    "its own transaction, under a PostgreSQL advisory lock (safe to run from every\n"
    "container at once). Prints the migrations applied by this run and the current one.\n";

static const struct option hp__migrate_opts[] = {
    {"json", no_argument, NULL, HP_OPT_JSON},
    {"help", no_argument, NULL, HP_OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Applies what is pending; names of the ones applied go into applied. */
static hp_err hp__migrate_run(hp_dbconn *c, const unsigned char *key, json_object *applied,
                              const char **failed, char *err, size_t errcap)
{
    bool sealed_done = false;
    long long sealed = 0;
    hp_err rc;

    for (size_t i = 0; i < hp_migrations_count; i++) {
        const hp_migration *m = &hp_migrations[i];
        bool done = false;
        rc = hp_store_migrate_applied(c, m->name, &done, err, errcap);

        if (rc == HP_OK && !done)
            rc = hp_store_migrate_apply(c, m->name, m->sql, err, errcap);
        if (rc != HP_OK) {
            *failed = m->name;
            return rc;
        }
        if (!done) {
            hp_log_info("applied migration", "migration", m->name);
            json_object_array_add(applied, json_object_new_string(m->name));
        }
    }
    rc = hp_store_migrate_applied(c, HP_MIGRATE_SEAL_HEADERS, &sealed_done, err, errcap);
    if (rc == HP_OK && !sealed_done)
        rc = hp_store_migrate_seal_headers(c, key, &sealed, err, errcap);
    if (rc != HP_OK) {
        *failed = HP_MIGRATE_SEAL_HEADERS;
        return rc;
    }
    if (!sealed_done) {
        char rows[24];
        (void)hp_fmt(rows, sizeof(rows), "%lld", sealed);
        hp_log_info("applied migration", "migration", HP_MIGRATE_SEAL_HEADERS, "rows_sealed", rows);
        json_object_array_add(applied, json_object_new_string(HP_MIGRATE_SEAL_HEADERS));
    }
    return HP_OK;
}

int hp_cli_migrate(int argc, char **argv)
{
    hp_cli_args a = {.command = "migrate"};
    hp_cli_env env;
    json_object *applied = NULL, *result, *ctx = NULL;
    const char *failed = NULL;
    char err[HP_ERRBUF] = "", current[HP_MIGRATION_NAME_MAX];
    bool any = false;
    hp_err rc;
    int st;

    if ((st = hp_cli_parse(argc, argv, hp__migrate_opts, hp__migrate_usage, &a)) >= 0)
        return st;
    if ((st = hp_cli_env_open_direct(&env, &a)) >= 0)
        return st;
    applied = json_object_new_array();
    rc = hp_store_migrate_lock(env.conn, err, sizeof(err));
    if (rc != HP_OK)
        goto fail;
    rc = hp__migrate_run(env.conn, env.cfg.has_secret_key ? env.cfg.secret_key : NULL, applied,
                         &failed, err, sizeof(err));
    if (rc == HP_OK)
        rc = hp_store_migrate_current(env.conn, current, sizeof(current), &any, err, sizeof(err));
    if (rc != HP_OK)
        goto fail;
    rc = hp_store_migrate_unlock(env.conn, err, sizeof(err));
    if (rc != HP_OK)
        goto fail;
    hp_cli_env_close(&env);

    if (any && hp_migrations_count > 0 &&
        strcmp(current, hp_migrations[hp_migrations_count - 1].name) > 0)
        hp_log_warn("database has migrations this binary does not know (binary older than "
                    "schema)",
                    "current", current);
    result = json_object_new_object();
    json_object_object_add(result, "applied", applied);
    json_object_object_add(result, "current", any ? json_object_new_string(current) : NULL);
    return hp_cli_emit(&a, result);

fail:
    /* Closing the connection also releases the advisory lock. */
    hp_cli_env_close(&env);
    json_object_put(applied);
    if (failed != NULL) {
        ctx = json_object_new_object();
        json_object_object_add(ctx, "migration", json_object_new_string(failed));
    }
    return hp_cli_fail(&a, rc, err, ctx);
}
