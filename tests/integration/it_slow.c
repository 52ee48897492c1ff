/*
 * Slow clients: a client that sends its request head or body too slowly is
 * cut off after HOLDPOINT_REQUEST_TIMEOUT_MS instead of holding a thread,
 * while a long-poll that the server itself holds open is not affected by
 * that timeout.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp_itest.h"

static hp_it_api *api;

/* Seconds until the server closes fd (reads and discards whatever it sends),
 * or -1 when it is still open after limit_s. */
static double seconds_until_closed(int fd, double limit_s)
{
    double t0 = hp_it_now();
    char buf[4096];

    while (hp_it_now() - t0 < limit_s) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) > 0) {
            ssize_t n = read(fd, buf, sizeof(buf));
            if (n <= 0)
                return hp_it_now() - t0;
        }
    }
    return -1;
}

static void test_slow_head(void)
{
    int fd = hp_it_dial(hp_it_api_port(api), NULL);
    IT_CHECK_FATAL(fd >= 0, "connected");
    /* Half a request head, then silence. */
    const char *part = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    IT_CHECK(write(fd, part, strlen(part)) == (ssize_t)strlen(part), "sent part of the head");
    double s = seconds_until_closed(fd, 15);
    IT_CHECK(s >= 0, "the server closed a connection whose head never completed");
    close(fd);
}

static void test_slow_body(void)
{
    const hp_it_team *t = hp_it_team_new();
    int fd = hp_it_dial(hp_it_api_port(api), NULL);
    char head[512];

    IT_CHECK_FATAL(fd >= 0, "connected");
    snprintf(head, sizeof(head),
             "POST /v1/approvals HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "X-Agent-Id: %s\r\nX-Api-Key: %s\r\nContent-Length: 200\r\n\r\n{\"question\":",
             t->agent_id, t->api_key);
    IT_CHECK(write(fd, head, strlen(head)) == (ssize_t)strlen(head), "sent the head");
    double s = seconds_until_closed(fd, 15);
    IT_CHECK(s >= 0, "the server gave up on a body that never arrived");
    close(fd);
    IT_CHECK(hp_it_sql_int("select count(*) from approvals where agent_id = $1::uuid", t->agent_id,
                           NULL) == 0,
             "nothing was created from the partial body");
}

static void test_longpoll_outlives_timeout(void)
{
    const hp_it_team *t = hp_it_team_new();
    hp_it_resp *c =
        hp_it_agent_on(api, t, "POST", "/v1/approvals", hp_it_create_body("still here?", NULL));
    IT_STATUS_FATAL(c, 200);
    const char *rid = json_object_get_string(hp_it_jget(c->json, "request_id", NULL));
    /* A 4 s wait is four times the request timeout: the server holds it. */
    hp_it_resp *r =
        hp_it_agent_on(api, t, "GET", hp_it_fmt("/v1/approvals/%s/result?wait=4", rid), NULL);
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "status", "pending");
    IT_CHECK(r->seconds >= 3.5, "the long-poll lasted %.1f s", r->seconds);
}

static int setup(void)
{
    static const char *const env[] = {"HOLDPOINT_REQUEST_TIMEOUT_MS=1000", NULL};
    api = hp_it_api_start("slow", env);
    return api ? 0 : 1;
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"a slow request head is cut off", test_slow_head},
        {"a slow request body is cut off", test_slow_body},
        {"a long-poll outlives the request timeout", test_longpoll_outlives_timeout},
        {NULL, NULL},
    };
    return hp_it_main("slow", tests, setup, NULL);
}
