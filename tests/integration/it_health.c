/*
 * Health, readiness and dependency failures: /healthz and /readyz (ready
 * with Redis reported degraded when it does not answer), an API whose database does not exist or
 * never answers (503 service_unavailable with Retry-After, quickly, never a hang), and a real
 * PostgreSQL outage in the middle of a run (503 during it, success after it: the pool reconnects).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hp_itest.h"

#ifndef HP_ITEST_SERVICES_SH
#error "HP_ITEST_SERVICES_SH must name scripts/services.sh"
#endif

/* A TCP listener that never accepts: connects succeed, nothing answers. */
static int blackhole_fd = -1;
static int blackhole_port;

static int open_blackhole(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);

    blackhole_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (blackhole_fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(blackhole_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(blackhole_fd, 128) != 0 ||
        getsockname(blackhole_fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    blackhole_port = ntohs(a.sin_port);
    return 0;
}

/* A port on which nothing listens (bound, then closed). */
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

static int services(const char *what)
{
    const char *cmd =
        hp_it_fmt("'%s' %s '%s' >&2", HP_ITEST_SERVICES_SH, what, hp_it_env("HP_RUN_DIR"));
    return system(cmd);
}

/* A child that restarts PostgreSQL if this program dies (crash, ctest
 * timeout) while PostgreSQL is down: it waits for a byte on a pipe and runs
 * pg-start when the pipe closes without one. */
static pid_t guard_pid = -1;
static int guard_fd = -1;

static void guard_start(void)
{
    int p[2];
    const char *cmd =
        hp_it_fmt("'%s' pg-start '%s' >&2", HP_ITEST_SERVICES_SH, hp_it_env("HP_RUN_DIR"));
    if (pipe(p) != 0)
        return;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        ssize_t n;
        close(p[1]);
        do {
            n = read(p[0], &c, 1);
        } while (n < 0 && errno == EINTR);
        if (n != 1)
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(0);
    }
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        return;
    }
    guard_pid = pid;
    guard_fd = p[1];
}

static void guard_end(void)
{
    if (guard_fd < 0)
        return;
    if (write(guard_fd, "x", 1) != 1)
        perror("it_health: guard");
    close(guard_fd);
    waitpid(guard_pid, NULL, 0);
    guard_fd = -1;
    guard_pid = -1;
}

static void test_healthz(void)
{
    hp_it_resp *r = hp_it_http(NULL, "GET", "/healthz", NULL, NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "ok");
    IT_CHECK(hp_it_header(r, "X-Request-Id") != NULL, "/healthz without X-Request-Id");
}

static void test_readyz_with_redis(void)
{
    hp_it_resp *r = hp_it_http(NULL, "GET", "/readyz", NULL, NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "ready");
    IT_JSTR(r->json, "database", "ok");
    IT_JSTR(r->json, "redis", "ok");
    IT_CHECK(hp_it_header(r, "X-Request-Id") != NULL, "/readyz without X-Request-Id");
}

static void test_readyz_without_redis(void)
{
    const char *env[] = {"HOLDPOINT_REDIS_URL", NULL};
    hp_it_api *api = hp_it_api_start("noredis", env);
    IT_CHECK_FATAL(api != NULL, "API without HOLDPOINT_REDIS_URL did not start");
    hp_it_resp *r = hp_it_http(api, "GET", "/readyz", NULL, NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "ready");
    IT_JSTR(r->json, "database", "ok");
    IT_JSTR(r->json, "redis", "disabled");
    IT_CHECK(hp_it_api_stop(api) == 0, "API without Redis did not exit cleanly on SIGTERM");
}

/* Redis configured but not answering (nothing listens on port 1): the
 * replica stays ready, says so in the body, and still creates and reads. */
static void test_readyz_redis_degraded(void)
{
    const char *env[] = {"HOLDPOINT_REDIS_URL=redis://127.0.0.1:1", NULL};
    hp_it_api *api = hp_it_api_start("redis-down", env);
    const hp_it_team *t = hp_it_team_new();
    IT_CHECK_FATAL(api != NULL, "API with an unreachable Redis did not start");
    hp_it_resp *r = hp_it_http(api, "GET", "/readyz", NULL, NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "ready");
    IT_JSTR(r->json, "database", "ok");
    IT_JSTR(r->json, "redis", "degraded");
    r = hp_it_agent_on(api, t, "POST", "/v1/approvals", hp_it_create_body("Redis down?", NULL));
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_api_stop(api) == 0, "API with Redis down did not exit cleanly on SIGTERM");
}

/* Requests against an API whose database cannot be used: each must answer
 * 503 service_unavailable with Retry-After within bound seconds. */
static void expect_unavailable(hp_it_api *api, const hp_it_team *t, double bound)
{
    hp_it_resp *r = hp_it_http(api, "GET", "/readyz", NULL, NULL);
    IT_STATUS(r, 503);
    IT_JSTR(r->json, "status", "unavailable");
    IT_JSTR(r->json, "database", "unavailable");
    IT_CHECK(r->seconds < bound, "/readyz took %.1f s", r->seconds);

    r = hp_it_agent_on(api, t, "POST", "/v1/approvals", hp_it_create_body("Down?", NULL));
    IT_ERROR(r, 503, "service_unavailable");
    const char *ra = hp_it_header(r, "Retry-After");
    IT_CHECK(ra != NULL && strtol(ra, NULL, 10) >= 1, "503 without a Retry-After of at least 1: %s",
             ra ? ra : "(none)");
    IT_CHECK(r->seconds < bound, "create against a dead database took %.1f s", r->seconds);

    r = hp_it_agent_on(api, t, "GET", "/v1/approvals/anything/result", NULL);
    IT_ERROR(r, 503, "service_unavailable");
    IT_CHECK(hp_it_header(r, "Retry-After") != NULL, "503 without Retry-After");
    IT_CHECK(r->seconds < bound, "result against a dead database took %.1f s", r->seconds);

    /* /healthz only says the process is up. */
    r = hp_it_http(api, "GET", "/healthz", NULL, NULL);
    IT_STATUS(r, 200);
}

static void test_database_refused(void)
{
    const hp_it_team *t = hp_it_team_new();
    int port = dead_port();
    IT_CHECK_FATAL(port > 0, "no free port");
    const char *env[] = {
        hp_it_fmt("HOLDPOINT_DATABASE_URL=postgresql://postgres@127.0.0.1:%d/holdpoint", port),
        NULL};
    hp_it_api *api = hp_it_api_start("deaddb", env);
    IT_CHECK_FATAL(api != NULL, "API with an unreachable database must still start (/healthz)");
    expect_unavailable(api, t, 10.0);
    IT_CHECK(hp_it_api_stop(api) == 0, "API with a dead database did not exit cleanly");
}

static void test_database_never_answers(void)
{
    const hp_it_team *t = hp_it_team_new();
    IT_CHECK_FATAL(blackhole_fd >= 0, "no blackhole listener");
    const char *env[] = {
        hp_it_fmt("HOLDPOINT_DATABASE_URL=postgresql://postgres@127.0.0.1:%d/holdpoint",
                  blackhole_port),
        "HOLDPOINT_DB_TIMEOUT_MS=1000", NULL};
    hp_it_api *api = hp_it_api_start("blackholedb", env);
    IT_CHECK_FATAL(api != NULL, "API with a silent database must still start (/healthz)");
    /* HOLDPOINT_DB_TIMEOUT_MS=1000 bounds connect and pool waits. */
    expect_unavailable(api, t, 10.0);
    IT_CHECK(hp_it_api_stop(api) == 0, "API with a silent database did not exit cleanly");
}

/* The number of complete lines of the log at path that are not one JSON
 * object (what the server said on the restart must not leak in as text). */
static int unparsable_lines(const char *path, int *total)
{
    FILE *f = fopen(path, "r");
    char line[65536];
    int bad = 0;

    *total = 0;
    IT_CHECK_FATAL(f != NULL, "open %s", path);
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t n = strlen(line);
        json_object *o;
        if (n == 0 || line[n - 1] != '\n')
            continue; /* the line being written */
        (*total)++;
        o = json_tokener_parse(line);
        if (o == NULL || !json_object_is_type(o, json_type_object)) {
            bad++;
            fprintf(stderr, "\n  not a JSON log line: %s", line);
        }
        json_object_put(o);
    }
    fclose(f);
    return bad;
}

/* The default API loses PostgreSQL mid-run, then gets it back. No fatal
 * assertion between pg-stop and pg-start, and teardown restarts it anyway. */
static void test_outage_and_recovery(void)
{
    const hp_it_team *t = hp_it_team_new();
    hp_it_resp *c = hp_it_create_ok(t, "Before the outage?", "\"request_id\":\"outage-1\"");
    (void)c;

    guard_start();
    IT_CHECK_FATAL(services("pg-stop") == 0, "services.sh pg-stop failed");
    expect_unavailable(NULL, t, 10.0);
    /* The API keeps serving what needs no database. */
    hp_it_resp *r = hp_it_http(NULL, "GET", "/healthz", NULL, NULL);
    IT_STATUS(r, 200);
    int started = services("pg-start");
    guard_end();
    IT_CHECK_FATAL(started == 0, "services.sh pg-start failed");

    /* Every request after the restart succeeds: stale pooled connections are
     * replaced, not handed out. */
    for (int i = 0; i < 12; i++) {
        if (i % 3 == 0) {
            r = hp_it_agent(t, "GET", "/v1/approvals/outage-1/result", NULL);
            IT_STATUS(r, 200);
            IT_JSTR(r->json, "status", "pending");
        } else if (i % 3 == 1) {
            r = hp_it_agent(t, "POST", "/v1/approvals",
                            hp_it_create_body(hp_it_fmt("After the outage %d?", i), NULL));
            IT_STATUS(r, 200);
        } else {
            r = hp_it_http(NULL, "GET", "/readyz", NULL, NULL);
            IT_STATUS(r, 200);
            IT_JSTR(r->json, "database", "ok");
        }
    }
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where team_id = $1", t->team_id, NULL) ==
                 5,
             "want 5 approvals after the outage (1 before, 4 after)");
    /* The server's shutdown messages reached the pool and LISTEN connections
     * as notices; every line the API wrote is still one JSON object. */
    {
        int total = 0, bad = unparsable_lines(hp_it_api_log(hp_it_api_default()), &total);
        IT_CHECK(bad == 0, "%d of %d API log lines are not JSON", bad, total);
        IT_CHECK(total > 0, "the API log is empty");
    }
}

static int setup(void)
{
    return open_blackhole();
}

static int teardown(void)
{
    /* Whatever happened in the outage test, leave PostgreSQL running. */
    guard_end();
    int rc = services("pg-start");
    if (blackhole_fd >= 0)
        close(blackhole_fd);
    return rc == 0 ? 0 : 1;
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"healthz", test_healthz},
        {"readyz_with_redis", test_readyz_with_redis},
        {"readyz_without_redis", test_readyz_without_redis},
        {"readyz_redis_degraded", test_readyz_redis_degraded},
        {"database_refused_503", test_database_refused},
        {"database_never_answers_503", test_database_never_answers},
        {"outage_and_recovery", test_outage_and_recovery},
        {NULL, NULL},
    };
    return hp_it_main("health", tests, setup, teardown);
}
