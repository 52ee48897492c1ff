/*
 * Create rate limit and monthly quota (docs/api.md "Rate limit", "Quota").
 *
 * Every API here runs with AGENT_CREATE_RATE_LIMIT_MAX=5 and a 4 s window.
 * The limit is checked with Redis (the default API and a replica) and
 * without it (two replicas counting in PostgreSQL), across replicas, with
 * Redis configured but down (PostgreSQL counts instead), per agent, by
 * EVALSHA (the script reloaded once after Redis forgets it), and with
 * the documented choice that invalid bodies do not count and idempotent
 * retries do. The quota answers 403 USAGE_APPROVAL_LIMIT, still lets an
 * idempotent repeat through, and holds under concurrent creates. The end of
 * a window is reached by moving the recorded creates into the past (a test
 * clock), not by sleeping through it.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hp_itest.h"

#define CREATE "/v1/approvals"
#define LIMIT  5
/* HP_IT_RUN_ALONE: the windows are timed, so this program runs without
 * neighbours slowing its requests down. */
#define WINDOW_MS 4000

static hp_it_api *redis_b;    /* replica of the default API (Redis) */
static hp_it_api *pg_a;       /* no Redis */
static hp_it_api *pg_b;       /* no Redis, replica of pg_a */
static hp_it_api *redis_down; /* Redis configured on a dead port */

static const char *body(const char *q)
{
    return hp_it_create_body(q, NULL);
}

/* Asserts a 429 rate_limited answer with Retry-After and retry_after_seconds. */
static void expect_limited(hp_it_resp *r, int line)
{
    if (!hp_it__error(r, 429, "rate_limited", __FILE__, (unsigned)line))
        return;
    const char *ra = hp_it_header(r, "Retry-After");
    long secs = ra ? strtol(ra, NULL, 10) : -1;
    hp_it__check(ra != NULL && secs >= 1 && secs <= WINDOW_MS / 1000, __FILE__, (unsigned)line,
                 false, "Retry-After must be whole seconds from 1 to %d, got %s", WINDOW_MS / 1000,
                 ra ? ra : "(none)");
    json_object *b = hp_it_jget(r->json, "retry_after_seconds", NULL);
    hp_it__check(b != NULL && json_object_is_type(b, json_type_int) &&
                     json_object_get_int64(b) == secs,
                 __FILE__, (unsigned)line, false,
                 "retry_after_seconds must equal Retry-After (%ld): %s", secs, r->body);
}

#define LIMITED(r) expect_limited((r), __LINE__)

static long long rows_of_agent(const char *agent_id)
{
    return hp_it_sql_int("select count(*) from approvals where agent_id = $1", agent_id, NULL);
}

/* The test clock: moves the agent's recorded creates an hour into the past,
 * in Redis (the sorted set's scores are milliseconds) or in PostgreSQL,
 * which is what waiting out the window would do, without the wait. */
static void age_window(const char *agent_id, bool redis)
{
    if (redis) {
        const char *cmd = hp_it_fmt(
            "redis-cli -u '%s' --no-raw EVAL \"local m = redis.call('ZRANGE', KEYS[1], 0, -1, "
            "'WITHSCORES') for i = 1, #m, 2 do redis.call('ZADD', KEYS[1], "
            "tonumber(m[i + 1]) - 3600000, m[i]) end return #m / 2\" 1 'hp:rl:create:%s' "
            ">/dev/null",
            hp_it_env("HOLDPOINT_REDIS_URL"), agent_id);
        IT_CHECK_FATAL(system(cmd) == 0, "redis-cli could not age the window");
    } else {
        IT_CHECK_FATAL(hp_it_sql_exec("update agent_rate_windows set hits = array(select h - "
                                      "interval '1 hour' from unnest(hits) h) "
                                      "where agent_id = $1",
                                      agent_id, NULL),
                       "could not age the window");
    }
}

/* LIMIT creates on a, then the next on b (or a) is 429; another agent is not
 * limited; after the window the first agent creates again. */
static void limit_case(hp_it_api *a, hp_it_api *b, bool redis)
{
    const hp_it_team *t = hp_it_team_new();
    hp_it_api *second = b ? b : a;
    double t_last = 0;

    for (int i = 0; i < LIMIT; i++) {
        /* With two replicas, alternate between them. */
        hp_it_api *api = (b != NULL && i % 2 == 1) ? b : a;
        hp_it_resp *r = hp_it_agent_on(api, t, "POST", CREATE, body(hp_it_fmt("Go %d?", i)));
        IT_STATUS_FATAL(r, 200);
        t_last = hp_it_now();
    }
    hp_it_resp *r = hp_it_agent_on(second, t, "POST", CREATE, body("One too many?"));
    double elapsed = hp_it_now() - t_last;
    LIMITED(r);
    IT_CHECK(elapsed < WINDOW_MS / 1000.0, "the test ran too slowly (%.1f s) to meet the window",
             elapsed);
    IT_CHECK(rows_of_agent(t->agent_id) == LIMIT, "a limited create wrote a row");
    /* Still limited on the other replica. */
    LIMITED(hp_it_agent_on(a, t, "POST", CREATE, body("Still too many?")));

    /* Windows are per agent. */
    const hp_it_team *t2 = hp_it_team_as(t, hp_it_agent_new(t, NULL), NULL);
    IT_STATUS(hp_it_agent_on(second, t2, "POST", CREATE, body("Other agent?")), 200);

    /* Where the window lives. */
    long long pg_rows = hp_it_sql_int("select count(*) from agent_rate_windows where agent_id = $1",
                                      t->agent_id, NULL);
    if (redis)
        IT_CHECK(pg_rows == 0, "with Redis the window must live in Redis, not PostgreSQL");
    else
        IT_CHECK(pg_rows == 1, "without Redis the window must be one PostgreSQL row per agent");

    /* After the window the agent creates again. */
    age_window(t->agent_id, redis);
    IT_STATUS(hp_it_agent_on(a, t, "POST", CREATE, body("Again?")), 200);
    IT_STATUS(hp_it_agent_on(second, t, "POST", CREATE, body("And again?")), 200);
}

static void test_rate_limit_redis(void)
{
    limit_case(hp_it_api_default(), NULL, true);
}

static void test_rate_limit_postgres(void)
{
    IT_CHECK_FATAL(pg_a != NULL, "API without Redis is not up");
    limit_case(pg_a, NULL, false);
}

static void test_rate_limit_redis_replicas(void)
{
    IT_CHECK_FATAL(redis_b != NULL, "Redis replica is not up");
    limit_case(hp_it_api_default(), redis_b, true);
}

static void test_rate_limit_postgres_replicas(void)
{
    IT_CHECK_FATAL(pg_a != NULL && pg_b != NULL, "replicas without Redis are not up");
    limit_case(pg_a, pg_b, false);
}

static void test_rate_limit_redis_down(void)
{
    IT_CHECK_FATAL(redis_down != NULL, "API with a dead Redis is not up");
    const hp_it_team *t = hp_it_team_new();
    for (int i = 0; i < LIMIT; i++) {
        hp_it_resp *r = hp_it_agent_on(redis_down, t, "POST", CREATE, body("Redis down?"));
        IT_STATUS_FATAL(r, 200);
        IT_CHECK(r->seconds < 5.0, "a create took %.1f s with Redis down", r->seconds);
    }
    LIMITED(hp_it_agent_on(redis_down, t, "POST", CREATE, body("Redis down, too many?")));
}

/* Calls of a Redis command so far (INFO commandstats), -1 on a failure. */
static long long redis_calls(const char *cmd)
{
    const char *sh = hp_it_fmt("redis-cli -u '%s' INFO commandstats | tr -d '\\r' | "
                               "sed -n 's/^cmdstat_%s:calls=\\([0-9]*\\),.*/\\1/p'",
                               hp_it_env("HOLDPOINT_REDIS_URL"), cmd);
    FILE *f = popen(sh, "r");
    long long n = 0;
    if (f == NULL)
        return -1;
    if (fscanf(f, "%lld", &n) != 1)
        n = 0; /* never called: no line */
    return pclose(f) == 0 ? n : -1;
}

/* The script travels by its SHA-1: every create sends EVALSHA, and only the
 * first one after Redis lost its script cache (SCRIPT FLUSH stands in for a
 * restart or a failover) sends the whole script with EVAL. The limit holds
 * across the reload. */
static void test_rate_limit_evalsha(void)
{
    const hp_it_team *t = hp_it_team_new();
    IT_CHECK_FATAL(system(hp_it_fmt("redis-cli -u '%s' SCRIPT FLUSH >/dev/null",
                                    hp_it_env("HOLDPOINT_REDIS_URL"))) == 0,
                   "redis-cli SCRIPT FLUSH failed");
    long long sha0 = redis_calls("evalsha"), eval0 = redis_calls("eval");
    IT_CHECK_FATAL(sha0 >= 0 && eval0 >= 0, "could not read INFO commandstats");
    for (int i = 0; i < LIMIT; i++)
        IT_STATUS_FATAL(hp_it_agent(t, "POST", CREATE, body(hp_it_fmt("Sha %d?", i))), 200);
    LIMITED(hp_it_agent(t, "POST", CREATE, body("Sha, too many?")));
    long long sha = redis_calls("evalsha") - sha0, eval = redis_calls("eval") - eval0;
    IT_CHECK(sha == LIMIT + 1, "expected %d EVALSHA calls, Redis counted %lld", LIMIT + 1, sha);
    IT_CHECK(eval == 1, "expected one EVAL (the reload after the flush), Redis counted %lld", eval);
}

/* as[0] is t; as[1..n) are new agents of t's team. */
static void agents_of(const hp_it_team *t, int n, const hp_it_team **as)
{
    as[0] = t;
    for (int i = 1; i < n; i++)
        as[i] = hp_it_team_as(t, hp_it_agent_new(t, NULL), NULL);
}

/* n creates at once on api (NULL: the default one): create i is agent
 * as[i % agents] asking "<prefix> <i>?". The answers go to out. */
static void creates_at_once(hp_it_api *api, const hp_it_team *const *as, int agents, int n,
                            const char *prefix, hp_it_resp **out)
{
    hp_it_req *reqs = calloc((size_t)n, sizeof(*reqs));

    IT_CHECK_FATAL(reqs != NULL, "out of memory");
    for (int i = 0; i < n; i++) {
        reqs[i].method = "POST";
        reqs[i].path = CREATE;
        reqs[i].headers = hp_it_agent_headers(as[i % agents], true);
        reqs[i].body = body(hp_it_fmt("%s %d?", prefix, i));
    }
    hp_it_parallel(api, n, reqs, out);
    free(reqs);
}

/* One burst on api: EACH creates at once for each of AGENTS new agents.
 * Exactly LIMIT of each agent's are created, the others are refused with
 * 429 and write nothing. True when some statement served more than one
 * create (the db batch counters of /metrics). */
static bool burst_case(hp_it_api *api)
{
    enum { AGENTS = 8, EACH = 8, N = AGENTS * EACH };
    const hp_it_team *t[AGENTS];
    hp_it_resp *out[N];
    int ok[AGENTS] = {0}, limited[AGENTS] = {0};
    double stmts = hp_it_gauge(api, "holdpoint_db_batch_statements_total");
    double served = hp_it_gauge(api, "holdpoint_db_batch_requests_total");

    IT_CHECK_FATAL(stmts >= 0 && served >= 0, "the batch counters are on /metrics");
    agents_of(hp_it_team_new(), AGENTS, t);
    creates_at_once(api, t, AGENTS, N, "Together", out);
    for (int i = 0; i < N; i++) {
        if (out[i]->status == 200) {
            ok[i % AGENTS]++;
        } else {
            limited[i % AGENTS]++;
            LIMITED(out[i]);
        }
    }
    for (int a = 0; a < AGENTS; a++) {
        IT_CHECK(ok[a] == LIMIT && limited[a] == EACH - LIMIT,
                 "agent %d: want %d created and %d refused of %d at once, got %d and %d", a, LIMIT,
                 EACH - LIMIT, EACH, ok[a], limited[a]);
        IT_CHECK(rows_of_agent(t[a]->agent_id) == LIMIT, "agent %d: want %d rows, got %lld", a,
                 LIMIT, rows_of_agent(t[a]->agent_id));
    }
    return hp_it_gauge(api, "holdpoint_db_batch_requests_total") - served >
           hp_it_gauge(api, "holdpoint_db_batch_statements_total") - stmts;
}

/* Concurrent creates are counted exactly, however they share statements;
 * each request counts its own before it joins one: with Redis (the first
 * burst right after Redis forgot the script, so concurrent hits are refused
 * NOSCRIPT and sent again with EVAL), with Redis down and without Redis
 * (both counted in PostgreSQL). Bursts repeat until a statement served more
 * than one create. */
static void test_rate_limit_concurrent(void)
{
    hp_it_api *apis[] = {hp_it_api_default(), redis_down, pg_a};
    const char *names[] = {"redis", "redis down", "postgres"};

    IT_CHECK_FATAL(redis_down != NULL && pg_a != NULL, "the APIs are not up");
    for (size_t k = 0; k < sizeof(apis) / sizeof(apis[0]); k++) {
        bool shared = false;
        for (int burst = 0; burst < 5 && !shared; burst++) {
            if (k == 0 && burst == 0)
                IT_CHECK_FATAL(system(hp_it_fmt("redis-cli -u '%s' SCRIPT FLUSH >/dev/null",
                                                hp_it_env("HOLDPOINT_REDIS_URL"))) == 0,
                               "redis-cli SCRIPT FLUSH failed");
            shared = burst_case(apis[k]);
        }
        IT_CHECK(shared, "%s: no statement served more than one create in 5 bursts", names[k]);
    }
}

static void test_invalid_bodies_do_not_count(void)
{
    const hp_it_team *t = hp_it_team_new();
    for (int i = 0; i < LIMIT - 1; i++)
        IT_STATUS_FATAL(hp_it_agent(t, "POST", CREATE, body("Valid?")), 200);
    for (int i = 0; i < 3; i++)
        IT_ISSUE(hp_it_agent(t, "POST", CREATE, "{\"question\":\"\"}"), "[\"question\"]",
                 "too_small");
    IT_STATUS(hp_it_agent(t, "POST", CREATE, body("Fifth valid?")), 200);
    LIMITED(hp_it_agent(t, "POST", CREATE, body("Sixth?")));
}

static void test_idempotent_retries_count(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *b = hp_it_create_body("Retry?", "\"request_id\":\"retry-1\"");
    hp_it_resp *r = hp_it_agent(t, "POST", CREATE, b);
    IT_STATUS_FATAL(r, 200);
    for (int i = 1; i < LIMIT; i++) {
        r = hp_it_agent(t, "POST", CREATE, b);
        IT_STATUS(r, 200);
        IT_JBOOL(r->json, "idempotent", true);
    }
    LIMITED(hp_it_agent(t, "POST", CREATE, b));
}

static void expect_quota(hp_it_resp *r, int line)
{
    if (!hp_it__error(r, 403, "USAGE_APPROVAL_LIMIT", __FILE__, (unsigned)line))
        return;
    hp_it__jstr(r->json, "code", "USAGE_APPROVAL_LIMIT", __FILE__, (unsigned)line);
    hp_it__jbool(r->json, "over_limit", true, __FILE__, (unsigned)line);
}

static json_object *set_quota(const hp_it_team *t, const char *n)
{
    if (n == NULL) {
        const char *args[] = {"admin",       "set-quota", "--team-id", t->team_id,
                              "--unlimited", "--json",    NULL};
        return hp_it_admin(args);
    }
    const char *args[] = {"admin",       "set-quota", "--team-id", t->team_id,
                          "--approvals", n,           "--json",    NULL};
    return hp_it_admin(args);
}

static void test_quota(void)
{
    const hp_it_team *t = hp_it_team_new();
    json_object *q = set_quota(t, "3");
    IT_JSTR(q, "team_id", t->team_id);
    IT_JINT(q, "approval_quota", 3);

    /* Spread over agents so the rate limit stays out of the way; the quota
     * is the team's, across replicas. */
    const hp_it_team *a1 = t;
    const hp_it_team *a2 = hp_it_team_as(t, hp_it_agent_new(t, NULL), NULL);
    const hp_it_team *a3 = hp_it_team_as(t, hp_it_agent_new(t, NULL), NULL);
    IT_STATUS_FATAL(
        hp_it_agent(a1, "POST", CREATE, hp_it_create_body("Q1?", "\"request_id\":\"q-1\"")), 200);
    IT_STATUS_FATAL(hp_it_agent(a1, "POST", CREATE, body("Q2?")), 200);
    IT_CHECK_FATAL(pg_a != NULL, "API without Redis is not up");
    IT_STATUS_FATAL(hp_it_agent_on(pg_a, a2, "POST", CREATE, body("Q3?")), 200);

    expect_quota(hp_it_agent(a2, "POST", CREATE, body("Q4?")), __LINE__);
    expect_quota(hp_it_agent_on(pg_a, a3, "POST", CREATE, body("Q4 elsewhere?")), __LINE__);
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where team_id = $1", t->team_id, NULL) ==
                 3,
             "an over-quota create wrote a row");

    /* An idempotent repeat of an existing approval still succeeds. */
    hp_it_resp *r =
        hp_it_agent(a1, "POST", CREATE, hp_it_create_body("Q1?", "\"request_id\":\"q-1\""));
    IT_STATUS(r, 200);
    IT_JBOOL(r->json, "idempotent", true);

    /* Lifting the quota lets creates through again. */
    q = set_quota(t, NULL);
    IT_JNULL(q, "approval_quota");
    IT_STATUS(hp_it_agent(a3, "POST", CREATE, body("Q5?")), 200);

    /* Another team is not affected. */
    const hp_it_team *other = hp_it_team_new();
    IT_STATUS(hp_it_agent(other, "POST", CREATE, body("Other team?")), 200);
}

static void test_quota_from_bootstrap(void)
{
    const char *extra[] = {"--quota", "1", NULL};
    const hp_it_team *t = hp_it_team_new_args(extra);
    IT_STATUS(hp_it_agent(t, "POST", CREATE, body("Only one?")), 200);
    expect_quota(hp_it_agent(t, "POST", CREATE, body("Second?")), __LINE__);
}

static void test_quota_concurrent(void)
{
    enum { AGENTS = 3, PER = 2, N = AGENTS * PER };
    const hp_it_team *t = hp_it_team_new();
    set_quota(t, "3");
    const hp_it_team *as[AGENTS];
    hp_it_resp *out[N];
    agents_of(t, AGENTS, as);
    creates_at_once(NULL, as, AGENTS, N, "Race", out);
    int ok = 0, over = 0;
    for (int i = 0; i < N; i++) {
        if (out[i]->status == 200) {
            ok++;
        } else if (out[i]->status == 403) {
            over++;
            expect_quota(out[i], __LINE__);
        } else {
            IT_CHECK(false, "unexpected answer %ld: %s", out[i]->status, out[i]->body);
        }
    }
    IT_CHECK(ok == 3 && over == N - 3, "quota 3 under %d concurrent creates: %d ok, %d over", N, ok,
             over);
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where team_id = $1", t->team_id, NULL) ==
                 3,
             "want exactly 3 rows under quota 3");
}

static int dead_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static const char *const limit_env[] = {
    "AGENT_CREATE_RATE_LIMIT_MAX=5",
    "AGENT_CREATE_RATE_LIMIT_WINDOW_MS=4000",
    NULL,
};

static int setup(void)
{
    const char *no_redis[] = {limit_env[0], limit_env[1], "HOLDPOINT_REDIS_URL", NULL};
    const char *dead[] = {limit_env[0], limit_env[1],
                          hp_it_fmt("HOLDPOINT_REDIS_URL=redis://127.0.0.1:%d", dead_port()), NULL};
    redis_b = hp_it_api_start("redis-b", limit_env);
    pg_a = hp_it_api_start("pg-a", no_redis);
    pg_b = hp_it_api_start("pg-b", no_redis);
    redis_down = hp_it_api_start("redis-down", dead);
    return redis_b && pg_a && pg_b && redis_down ? 0 : 1;
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"rate_limit_redis", test_rate_limit_redis},
        {"rate_limit_postgres", test_rate_limit_postgres},
        {"rate_limit_redis_replicas", test_rate_limit_redis_replicas},
        {"rate_limit_postgres_replicas", test_rate_limit_postgres_replicas},
        {"rate_limit_redis_down_falls_back", test_rate_limit_redis_down},
        {"rate_limit_evalsha", test_rate_limit_evalsha},
        {"rate_limit_concurrent", test_rate_limit_concurrent},
        {"invalid_bodies_do_not_count", test_invalid_bodies_do_not_count},
        {"idempotent_retries_count", test_idempotent_retries_count},
        {"quota", test_quota},
        {"quota_from_bootstrap", test_quota_from_bootstrap},
        {"quota_concurrent", test_quota_concurrent},
        {NULL, NULL},
    };
    hp_it_set_default_env(limit_env);
    return hp_it_main("limits", tests, setup, NULL);
}
