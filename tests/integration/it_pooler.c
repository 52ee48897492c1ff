/*
 * Holdpoint behind PgBouncer in transaction mode (the one `make test`
 * starts, HP_POOLER_URL, with no ignore_startup_parameters): the default API
 * of this program reaches PostgreSQL through it, with
 * HOLDPOINT_DATABASE_DIRECT_URL set to the server itself.
 *
 * - the processes connect through the pooler at all (no startup parameter it
 *   refuses) and answer reads and writes;
 * - a statement stuck on a lock ends at HOLDPOINT_DB_TIMEOUT_MS with a 503
 *   and its server-side statement is cancelled (through the pooler and
 *   directly), so no backend is left waiting;
 * - `holdpoint migrate` refuses to take its session lock through the pooler
 *   and names HOLDPOINT_DATABASE_DIRECT_URL; with it set, two migrators at
 *   once apply every migration of a fresh database exactly once.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "hp_itest.h"

#ifndef HP_ITEST_SOURCE_DIR
#error "HP_ITEST_SOURCE_DIR must name the source tree"
#endif

/* HOLDPOINT_DB_TIMEOUT_MS of the APIs started here. */
#define IT_DB_TIMEOUT_MS 1500

static char pooled_url[512], direct_url[512];

/* "postgresql://postgres@127.0.0.1:PORT/db" for the pooler or the server. */
static const char *url_for(bool pooled, const char *db)
{
    return hp_it_fmt("postgresql://postgres@127.0.0.1:%s/%s",
                     hp_it_env(pooled ? "HP_POOLER_PORT" : "HP_PG_PORT"), db);
}

static const char *create(const hp_it_api *api, const hp_it_team *t, const char *q)
{
    hp_it_resp *r =
        hp_it_agent_on((hp_it_api *)api, t, "POST", "/v1/approvals", hp_it_create_body(q, NULL));
    IT_STATUS_FATAL(r, 200);
    json_object *id = hp_it_jget(r->json, "approval_id", NULL);
    IT_CHECK_FATAL(id != NULL, "create answered no approval_id: %s", r->body);
    return json_object_get_string(id);
}

static hp_it_resp *resolve(hp_it_api *api, const hp_it_team *t, const char *id)
{
    return hp_it_send(api, &(hp_it_req){
                               .method = "POST",
                               .path = hp_it_fmt("/v1/review/approvals/%s/resolve", id),
                               .headers = hp_it_user_headers(t, true),
                               .body = "{\"option_index\":0}",
                           });
}

static PGconn *connect_or_fail(const char *url)
{
    PGconn *pg = PQconnectdb(url);
    IT_CHECK_FATAL(PQstatus(pg) == CONNECTION_OK, "connect: %s", PQerrorMessage(pg));
    return pg;
}

static bool pg_ok(PGconn *pg, const char *sql, const char *param)
{
    const char *p[] = {param};
    PGresult *r = PQexecParams(pg, sql, param ? 1 : 0, NULL, p, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    IT_CHECK(ok, "%s: %s", sql, PQerrorMessage(pg));
    PQclear(r);
    return ok;
}

/* ---- tests ----------------------------------------------------------------- */

/* Every process the suite starts connects through the pooler: the API's pool
 * (readiness, a create, a read, a decision) and the CLI's admin commands. */
static void test_through_the_pooler(void)
{
    const hp_it_team *t = hp_it_team_new();
    hp_it_resp *r = hp_it_http(NULL, "GET", "/readyz", NULL, NULL);
    IT_STATUS(r, 200);
    r = hp_it_create_ok(t, "Through the pooler?", "\"request_id\":\"pooled-1\"");
    json_object *id = hp_it_jget(r->json, "approval_id", NULL);
    IT_CHECK_FATAL(id != NULL, "create answered no approval_id: %s", r->body);
    r = hp_it_agent(t, "GET", "/v1/approvals/pooled-1", NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "pending");
    IT_STATUS(resolve(NULL, t, json_object_get_string(id)), 200);
    r = hp_it_agent(t, "GET", "/v1/approvals/pooled-1", NULL);
    IT_JSTR(r->json, "status", "selected_option");

    const char *env[] = {hp_it_fmt("HOLDPOINT_DATABASE_URL=%s", pooled_url), NULL};
    const char *args[] = {"admin",      "bootstrap",
                          "--team",     hp_it_unique(),
                          "--email",    hp_it_fmt("pooled-%s@example.com", hp_it_unique()),
                          "--password", "a long enough password",
                          "--agent",    "pooled-bot",
                          "--json",     NULL};
    int st;
    char *err;
    json_object *j = hp_it_cli_env(args, env, &st, NULL, &err);
    IT_CHECK(st == 0, "admin bootstrap through the pooler exited %d: %s", st, err);
    IT_CHECK(hp_it_jget(j, "team_id", NULL) != NULL, "bootstrap printed no team_id");
}

/* A decision blocked by a row lock another session holds: the API answers
 * 503 within its statement deadline, and the blocked statement does not stay
 * behind on the server (the cancel request reached it). */
static void expect_deadline(hp_it_api *api, const char *label)
{
    const hp_it_team *t = hp_it_team_new();
    const char *id = create(api, t, "Blocked by a lock?");
    PGconn *locker = connect_or_fail(direct_url);
    char pid[16];

    (void)snprintf(pid, sizeof(pid), "%d", PQbackendPID(locker));
    if (!pg_ok(locker, "begin", NULL) ||
        !pg_ok(locker, "select 1 from approvals where id = $1::uuid for update", id)) {
        PQfinish(locker);
        return;
    }
    double t0 = hp_it_now();
    hp_it_resp *r = resolve(api, t, id);
    double took = hp_it_now() - t0;
    IT_ERROR(r, 503, "service_unavailable");
    IT_CHECK(took < 10.0, "%s: the blocked decision took %.1f s (deadline %d ms)", label, took,
             IT_DB_TIMEOUT_MS);

    long long waiting = -1;
    for (int i = 0; i < 100 && waiting != 0; i++) {
        waiting = hp_it_sql_int("select count(*) from pg_stat_activity "
                                "where $1::int = any(pg_blocking_pids(pid))",
                                pid, NULL);
        if (waiting != 0)
            hp_it_sleep_ms(50);
    }
    IT_CHECK(waiting == 0, "%s: %lld statement(s) still wait for the lock after the 503", label,
             waiting);
    pg_ok(locker, "commit", NULL);
    PQfinish(locker);

    /* Nothing was decided, and the pool serves the next request. */
    r = resolve(api, t, id);
    IT_STATUS(r, 200);
}

static void test_statement_deadline_pooled(void)
{
    expect_deadline(hp_it_api_default(), "through the pooler");
}

static void test_statement_deadline_direct(void)
{
    const char *env[] = {hp_it_fmt("HOLDPOINT_DATABASE_URL=%s", direct_url),
                         hp_it_fmt("HOLDPOINT_DB_TIMEOUT_MS=%d", IT_DB_TIMEOUT_MS), NULL};
    hp_it_api *api = hp_it_api_start("direct", env);
    IT_CHECK_FATAL(api != NULL, "direct API did not start");
    expect_deadline(api, "direct");
    IT_CHECK(hp_it_api_stop(api) == 0, "direct API did not exit cleanly");
}

/* The advisory lock needs a session: through the pooler migrate refuses and
 * says what to set; with the direct URL it works. */
static void test_migrate_needs_direct_url(void)
{
    const char *args[] = {"migrate", "--json", NULL};
    const char *no_direct[] = {hp_it_fmt("HOLDPOINT_DATABASE_URL=%s", pooled_url),
                               "HOLDPOINT_DATABASE_DIRECT_URL", NULL};
    const char *pooled_direct[] = {hp_it_fmt("HOLDPOINT_DATABASE_URL=%s", pooled_url),
                                   hp_it_fmt("HOLDPOINT_DATABASE_DIRECT_URL=%s", pooled_url), NULL};
    const char *good[] = {hp_it_fmt("HOLDPOINT_DATABASE_URL=%s", pooled_url),
                          hp_it_fmt("HOLDPOINT_DATABASE_DIRECT_URL=%s", direct_url), NULL};
    int st;
    char *out, *err;

    hp_it_cli_env(args, no_direct, &st, &out, &err);
    IT_CHECK(st == 1, "migrate through the pooler: want exit 1, got %d", st);
    IT_CHECK(strstr(err, "HOLDPOINT_DATABASE_URL (HOLDPOINT_DATABASE_DIRECT_URL is unset)") &&
                 strstr(err, "pooler"),
             "the refusal does not name the variables: %s", err);
    IT_CHECK(out[0] == '\0', "a refused migrate printed %s", out);

    hp_it_cli_env(args, pooled_direct, &st, &out, &err);
    IT_CHECK(st == 1, "migrate with a pooled direct URL: want exit 1, got %d", st);
    IT_CHECK(strstr(err, "HOLDPOINT_DATABASE_DIRECT_URL reaches PostgreSQL through a") != NULL,
             "the refusal does not name HOLDPOINT_DATABASE_DIRECT_URL: %s", err);

    json_object *j = hp_it_cli_env(args, good, &st, NULL, &err);
    IT_CHECK(st == 0, "migrate with the direct URL exited %d: %s", st, err);
    json_object *applied = hp_it_jget(j, "applied", NULL);
    IT_CHECK(applied != NULL && json_object_array_length(applied) == 0,
             "a repeated migrate applied %s", hp_it_jtext(j));
}

typedef struct {
    const char *const *env;
    json_object *j;
    int status;
    char *err;
} mig_run;

static void *run_migrate(void *arg)
{
    mig_run *m = arg;
    const char *args[] = {"migrate", "--json", NULL};
    m->j = hp_it_cli_env(args, m->env, &m->status, NULL, &m->err);
    return NULL;
}

static int count_migrations(void)
{
    DIR *d = opendir(HP_ITEST_SOURCE_DIR "/sql");
    struct dirent *e;
    int n = 0;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0 && e->d_name[0] >= '0' &&
            e->d_name[0] <= '9')
            n++;
    }
    closedir(d);
    return n;
}

/* A fresh database migrated by two processes at once, both configured the
 * pooled way: every migration is applied once, by one of them. */
static void test_migrate_fresh_concurrently(void)
{
    const char *db = hp_it_fmt("hp_pooler_%d", (int)getpid());
    const char *env[] = {hp_it_fmt("HOLDPOINT_DATABASE_URL=%s", url_for(true, db)),
                         hp_it_fmt("HOLDPOINT_DATABASE_DIRECT_URL=%s", url_for(false, db)), NULL};
    mig_run runs[2] = {{.env = env}, {.env = env}};
    pthread_t th[2];
    int want = count_migrations(), applied = 0;

    IT_CHECK_FATAL(hp_it_sql_exec(hp_it_fmt("create database %s", db), NULL), "create database");
    for (int i = 0; i < 2; i++)
        IT_CHECK_FATAL(pthread_create(&th[i], NULL, run_migrate, &runs[i]) == 0, "thread");
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        json_object *a = hp_it_jget(runs[i].j, "applied", NULL);
        IT_CHECK(runs[i].status == 0, "migrator %d exited %d: %s", i, runs[i].status, runs[i].err);
        if (a != NULL && json_object_is_type(a, json_type_array))
            applied += (int)json_object_array_length(a);
    }
    IT_CHECK(want > 0 && applied == want, "the two migrators applied %d migrations, want %d",
             applied, want);

    PGconn *pg = connect_or_fail(url_for(false, db));
    PGresult *r = PQexec(pg, "select count(*), count(distinct name) from schema_migrations");
    IT_CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && atoi(PQgetvalue(r, 0, 0)) == want &&
                 atoi(PQgetvalue(r, 0, 1)) == want,
             "schema_migrations of the fresh database: %s rows, want %d",
             PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : PQerrorMessage(pg), want);
    PQclear(r);
    PQfinish(pg);
    IT_CHECK(hp_it_sql_exec(hp_it_fmt("drop database %s with (force)", db), NULL), "drop database");
}

int main(void)
{
    static char env_url[600], env_direct[600], env_timeout[64];
    static const char *env[] = {env_url, env_direct, env_timeout, NULL};
    static const hp_it_test tests[] = {
        {"through_the_pooler", test_through_the_pooler},
        {"statement_deadline_pooled", test_statement_deadline_pooled},
        {"statement_deadline_direct", test_statement_deadline_direct},
        {"migrate_needs_direct_url", test_migrate_needs_direct_url},
        {"migrate_fresh_concurrently", test_migrate_fresh_concurrently},
        {NULL, NULL},
    };

    (void)snprintf(pooled_url, sizeof(pooled_url), "%s", hp_it_env("HP_POOLER_URL"));
    (void)snprintf(direct_url, sizeof(direct_url), "%s", hp_it_env("HOLDPOINT_DATABASE_URL"));
    (void)snprintf(env_url, sizeof(env_url), "HOLDPOINT_DATABASE_URL=%s", pooled_url);
    (void)snprintf(env_direct, sizeof(env_direct), "HOLDPOINT_DATABASE_DIRECT_URL=%s", direct_url);
    (void)snprintf(env_timeout, sizeof(env_timeout), "HOLDPOINT_DB_TIMEOUT_MS=%d",
                   IT_DB_TIMEOUT_MS);
    hp_it_set_default_env(env);
    return hp_it_main("pooler", tests, NULL, NULL);
}
