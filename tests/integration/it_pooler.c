/*
 * Holdpoint behind PgBouncer in transaction mode (the one `make test`
 * starts, HP_POOLER_URL, with no ignore_startup_parameters): the default API
 * of this program reaches PostgreSQL through it, with
 * HOLDPOINT_DATABASE_DIRECT_URL set to the server itself.
 *
 * - the processes connect through the pooler at all (no startup parameter it
 *   refuses) and answer reads and writes;
 * - a decision on one replica releases a long-poll on another with Redis
 *   off, so the wake-up travels by NOTIFY to a LISTEN connection that must
 *   bypass the pooler (HOLDPOINT_DATABASE_DIRECT_URL); without the direct
 *   URL the process warns that its LISTEN goes through a pooler;
 * - a statement stuck on a lock ends at HOLDPOINT_DB_TIMEOUT_MS with a 503
 *   and its server-side statement is cancelled (through the pooler and
 *   directly), so no backend is left waiting;
 * - `holdpoint migrate` refuses to take its session lock through the pooler
 *   and names HOLDPOINT_DATABASE_DIRECT_URL; with it set, two migrators at
 *   once apply every migration of a fresh database exactly once;
 * - prepared statements: HOLDPOINT_DB_PREPARED_STATEMENTS=auto prepares on a
 *   direct connection and not through the pooler; forced on through
 *   PgBouncer 1.18 (which does not carry them) the API notices, switches
 *   them off and keeps answering correctly; a migration that changes a
 *   returned column's type does not break a prepared read.
 *
 * The stale-plan test alters the approvals table for a moment, so this
 * program runs alone (HP_IT_RUN_ALONE).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "hp_itest.h"
#include "it_bg.h"

#ifndef HP_ITEST_SOURCE_DIR
#error "HP_ITEST_SOURCE_DIR must name the source tree"
#endif

/* HOLDPOINT_DB_TIMEOUT_MS of the APIs started here. */
#define IT_DB_TIMEOUT_MS 1500

static char pooled_url[512], direct_url[512];
/* An API on the server itself (prepared statements auto, so on). */
static hp_it_api *direct_api;

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
    expect_deadline(direct_api, "direct");
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

/* Every migration this binary knows (the SQL files and the code steps):
 * make test migrated the shared database with it before any test ran. */
static int count_migrations(void)
{
    return (int)hp_it_sql_int("select count(*) from schema_migrations", NULL);
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
    IT_CHECK(PQresultStatus(r) == PGRES_TUPLES_OK &&
                 strtol(PQgetvalue(r, 0, 0), NULL, 10) == want &&
                 strtol(PQgetvalue(r, 0, 1), NULL, 10) == want,
             "schema_migrations of the fresh database: %s rows, want %d",
             PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) : PQerrorMessage(pg), want);
    PQclear(r);
    PQfinish(pg);
    IT_CHECK(hp_it_sql_exec(hp_it_fmt("drop database %s with (force)", db), NULL), "drop database");
}

/* ---- prepared statements --------------------------------------------------- */

/* The value of a sample line "name value" in the API's /metrics, or -1. */
static double gauge(hp_it_api *api, const char *name)
{
    hp_it_resp *r = hp_it_http(api, "GET", "/metrics", NULL, NULL);
    const char *want = hp_it_fmt("\n%s ", name);
    const char *p = r->status == 200 ? strstr(r->body, want) : NULL;
    return p ? strtod(p + strlen(want), NULL) : -1;
}

static bool log_has(hp_it_api *api, const char *text)
{
    FILE *f = fopen(hp_it_api_log(api), "r");
    char line[8192];
    bool found = false;

    if (f == NULL)
        return false;
    while (!found && fgets(line, sizeof(line), f) != NULL)
        found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

/* A few reads and writes, so that the pool has statements to prepare. */
static void exercise(hp_it_api *api, const hp_it_team *t)
{
    const char *id = create(api, t, "Prepared or not?");
    hp_it_resp *r = hp_it_agent_on(api, t, "GET", "/v1/approvals", NULL);
    IT_STATUS(r, 200);
    IT_STATUS(resolve(api, t, id), 200);
}

/* auto: on where the connection is the server's own, off through the
 * pooler; both answer the same. */
static void test_prepared_auto(void)
{
    const hp_it_team *t = hp_it_team_new();

    exercise(direct_api, t);
    IT_CHECK(gauge(direct_api, "holdpoint_db_prepared_statements") > 0,
             "a direct API prepared no statement (gauge %g)",
             gauge(direct_api, "holdpoint_db_prepared_statements"));
    IT_CHECK(log_has(direct_api, "prepared statements on"), "no decision logged by the direct API");

    exercise(hp_it_api_default(), t);
    IT_CHECK(gauge(hp_it_api_default(), "holdpoint_db_prepared_statements") == 0,
             "the pooled API prepared statements (gauge %g)",
             gauge(hp_it_api_default(), "holdpoint_db_prepared_statements"));
    IT_CHECK(log_has(hp_it_api_default(), "reached through a pooler: prepared statements off"),
             "no decision logged by the pooled API");
}

/* Forced on through PgBouncer 1.18 in transaction mode, where a statement
 * prepared on one server connection is missing on the next: the API
 * answers every request correctly (a request inside a transaction may get
 * a clean 503 while it finds out), switches prepared statements off once
 * and for all, and answers everything afterwards. */
static void test_prepared_on_through_pooler(void)
{
    enum { N = 16, ROUNDS = 30 };
    const hp_it_team *t = hp_it_team_new();
    const char *env[] = {hp_it_fmt("HOLDPOINT_DATABASE_URL=%s", pooled_url),
                         hp_it_fmt("HOLDPOINT_DATABASE_DIRECT_URL=%s", direct_url),
                         "HOLDPOINT_DB_PREPARED_STATEMENTS=on",
                         "HOLDPOINT_DB_POOL_SIZE=8",
                         "AGENT_CREATE_RATE_LIMIT_MAX=1000000",
                         NULL};
    hp_it_api *api = hp_it_api_start("prepared-on", env);
    hp_it_req reqs[N];
    hp_it_resp *out[N];
    bool noticed = false;
    int made = 0;

    IT_CHECK_FATAL(api != NULL, "API with prepared statements on did not start");
    for (int round = 0; round < ROUNDS && !noticed; round++) {
        for (int i = 0; i < N; i++) {
            const char *rid = hp_it_fmt("on-%d-%d", round, i);
            reqs[i] = (hp_it_req){
                .method = i % 2 ? "POST" : "GET",
                .path = i % 2 ? "/v1/approvals" : "/v1/approvals?limit=5",
                .headers = hp_it_agent_headers(t, i % 2 != 0),
                .body = i % 2 ? hp_it_create_body(hp_it_fmt("Question %s?", rid),
                                                  hp_it_fmt("\"request_id\":\"%s\"", rid))
                              : NULL,
            };
        }
        hp_it_parallel(api, N, reqs, out);
        for (int i = 0; i < N; i++) {
            if (out[i]->status == 503)
                IT_ERROR(out[i], 503, "service_unavailable");
            else
                IT_STATUS(out[i], 200);
            if (i % 2 && out[i]->status == 200)
                made++;
        }
        noticed = log_has(api, "prepared statements do not survive the pooler");
    }
    IT_CHECK(noticed,
             "%d rounds of requests through PgBouncer 1.18 never showed a lost "
             "prepared statement",
             ROUNDS);
    IT_CHECK(gauge(api, "holdpoint_db_prepared_statements") == 0,
             "prepared statements still counted after the switch (gauge %g)",
             gauge(api, "holdpoint_db_prepared_statements"));

    /* Afterwards every request answers, and what was created reads back
     * as written. */
    for (int i = 0; i < N; i++)
        reqs[i] = (hp_it_req){.method = "GET",
                              .path = hp_it_fmt("/v1/approvals/on-0-%d", i | 1),
                              .headers = hp_it_agent_headers(t, false)};
    hp_it_parallel(api, N, reqs, out);
    for (int i = 0; i < N; i++) {
        if (out[i]->status == 404)
            continue; /* that create was one of the 503s */
        IT_STATUS(out[i], 200);
        IT_JSTR(out[i]->json, "question", hp_it_fmt("Question on-0-%d?", i | 1));
    }
    IT_CHECK(made > 0, "no create succeeded");
    exercise(api, t);
    IT_CHECK(hp_it_api_stop(api) == 0, "API with prepared statements on did not exit cleanly");
}

/* A rolling upgrade's migration changes the type of a column a prepared
 * statement returns ("cached plan must not change result type"): the read
 * still answers, on a fresh connection. */
static void test_prepared_stale_plan(void)
{
    const hp_it_team *t = hp_it_team_new();
    hp_it_resp *r = hp_it_agent_on(direct_api, t, "POST", "/v1/approvals",
                                   hp_it_create_body("Stale plan?", "\"request_id\":\"stale-1\""));
    IT_STATUS_FATAL(r, 200);
    for (int i = 0; i < 3; i++) /* prepared on the connections that serve it */
        IT_STATUS(hp_it_agent_on(direct_api, t, "GET", "/v1/approvals/stale-1", NULL), 200);

    IT_CHECK_FATAL(hp_it_sql_exec("alter table approvals alter column question type varchar", NULL),
                   "alter question to varchar");
    for (int i = 0; i < 3; i++) {
        r = hp_it_agent_on(direct_api, t, "GET", "/v1/approvals/stale-1", NULL);
        IT_STATUS(r, 200);
        IT_JSTR(r->json, "question", "Stale plan?");
    }
    IT_CHECK_FATAL(hp_it_sql_exec("alter table approvals alter column question type text", NULL),
                   "alter question back to text");
    for (int i = 0; i < 3; i++) {
        r = hp_it_agent_on(direct_api, t, "GET", "/v1/approvals/stale-1", NULL);
        IT_STATUS(r, 200);
        IT_JSTR(r->json, "question", "Stale plan?");
    }
}

/* ---- wake-ups across replicas ---------------------------------------------- */

/* Waits up to ms for the gauge name of api to reach want. */
static bool await_gauge(hp_it_api *api, const char *name, double want, long ms)
{
    for (long waited = 0; waited <= ms; waited += 50) {
        if (gauge(api, name) == want)
            return true;
        hp_it_sleep_ms(50);
    }
    return false;
}

/* Two replicas through the pooler without Redis: the only wake path is
 * NOTIFY to each replica's LISTEN connection, which the pooler would
 * swallow. A decision on one releases a long-poll on the other at once,
 * far sooner than the wait would end. */
static void test_waits_released_across_replicas(void)
{
    const char *env[] = {hp_it_fmt("HOLDPOINT_DATABASE_URL=%s", pooled_url),
                         hp_it_fmt("HOLDPOINT_DATABASE_DIRECT_URL=%s", direct_url),
                         "HOLDPOINT_REDIS_URL", NULL};
    hp_it_api *a = hp_it_api_start("pooled-a", env);
    hp_it_api *b = hp_it_api_start("pooled-b", env);
    const hp_it_team *t = hp_it_team_new();
    bg_batch *bg = bg_new(1);

    IT_CHECK_FATAL(a != NULL && b != NULL, "replicas started");
    IT_CHECK(await_gauge(a, "holdpoint_wake_postgresql_up", 1, 10000), "replica A listens");
    hp_it_resp *r = hp_it_agent_on(b, t, "POST", "/v1/approvals",
                                   hp_it_create_body("Across replicas?", "\"request_id\":\"x-1\""));
    IT_STATUS_FATAL(r, 200);
    const char *id = json_object_get_string(hp_it_jget(r->json, "approval_id", NULL));
    bg_set(bg, 0, "GET", hp_it_fmt("%s/v1/approvals/x-1/result?wait=30", hp_it_api_base(a)), t,
           false, NULL, NULL, 40000);
    bg_start(bg);
    IT_CHECK_FATAL(await_gauge(a, "holdpoint_waiters", 1, 10000), "the long-poll waits on A");
    IT_STATUS(resolve(b, t, id), 200);
    double t0 = hp_it_now();
    bg_join(bg);
    IT_CHECK(bg->calls[0].status == 200, "long-poll status %ld", bg->calls[0].status);
    IT_JSTR(hp_it_json(bg->calls[0].resp), "status", "selected_option");
    IT_CHECK(bg->calls[0].done_at - t0 < 5.0, "released %.1f s after the decision (wait=30)",
             bg->calls[0].done_at - t0);
    IT_CHECK(!log_has(a, "through a connection pooler"), "replica A warned about its LISTEN");
    IT_CHECK(hp_it_api_stop(a) == 0, "replica A exits 0");
    IT_CHECK(hp_it_api_stop(b) == 0, "replica B exits 0");
}

/* Without the direct URL the LISTEN connection goes through the pooler,
 * where notifications never arrive: the process says so. */
static void test_listen_through_pooler_warns(void)
{
    const char *env[] = {hp_it_fmt("HOLDPOINT_DATABASE_URL=%s", pooled_url),
                         "HOLDPOINT_DATABASE_DIRECT_URL", NULL};
    hp_it_api *api = hp_it_api_start("pooled-listen", env);
    bool warned = false;

    IT_CHECK_FATAL(api != NULL, "API started");
    for (int i = 0; i < 200 && !warned; i++) {
        warned = log_has(api, "through a connection pooler");
        if (!warned)
            hp_it_sleep_ms(50);
    }
    IT_CHECK(warned, "no warning that LISTEN goes through the pooler");
    IT_CHECK(hp_it_api_stop(api) == 0, "API exits 0");
}

static int setup(void)
{
    const char *env[] = {hp_it_fmt("HOLDPOINT_DATABASE_URL=%s", direct_url),
                         hp_it_fmt("HOLDPOINT_DB_TIMEOUT_MS=%d", IT_DB_TIMEOUT_MS), NULL};
    direct_api = hp_it_api_start("direct", env);
    return direct_api != NULL ? 0 : 1;
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
        {"prepared_auto", test_prepared_auto},
        {"prepared_on_through_pooler", test_prepared_on_through_pooler},
        {"prepared_stale_plan", test_prepared_stale_plan},
        {"waits_released_across_replicas", test_waits_released_across_replicas},
        {"listen_through_pooler_warns", test_listen_through_pooler_warns},
        {NULL, NULL},
    };

    (void)snprintf(pooled_url, sizeof(pooled_url), "%s", hp_it_env("HP_POOLER_URL"));
    (void)snprintf(direct_url, sizeof(direct_url), "%s", hp_it_env("HOLDPOINT_DATABASE_URL"));
    (void)snprintf(env_url, sizeof(env_url), "HOLDPOINT_DATABASE_URL=%s", pooled_url);
    (void)snprintf(env_direct, sizeof(env_direct), "HOLDPOINT_DATABASE_DIRECT_URL=%s", direct_url);
    (void)snprintf(env_timeout, sizeof(env_timeout), "HOLDPOINT_DB_TIMEOUT_MS=%d",
                   IT_DB_TIMEOUT_MS);
    hp_it_set_default_env(env);
    return hp_it_main("pooler", tests, setup, NULL);
}
