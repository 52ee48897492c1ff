/*
 * bench_waiters: opens N concurrent long-polls (GET …/result?wait=W) against
 * one API process, then reports how many were held at once (the API's
 * holdpoint_waiters gauge), the API's resident memory, and how many
 * PostgreSQL connections the process had open while they waited. Finally
 * resolves the approval and measures the time from sending the decision
 * until every long-poll has its whole answer, checking each is the
 * decision. Traffic goes only to the base URL (127.0.0.1).
 *
 * The long-polls are plain HTTP/1.1 requests on sockets watched with epoll:
 * libcurl's multi interface spends time per transfer on every call, and with
 * 10,000 transfers it was the client, not the server, that set the drain
 * time (77 % of the CPU during the drain in a perf profile). The create,
 * the decision and the metrics reads use libcurl.
 *
 *   bench_waiters BASE_URL AGENT_ID API_KEY USER_TOKEN API_PID N
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "hp_buf.h"
#include "hp_str.h"
#include "hp_time.h"

typedef struct bench_poll {
    int fd;
    hp_buf in; /* the response as it arrives */
    bool done; /* head and Content-Length bytes of body read */
} bench_poll;

static size_t bench__sink(char *p, size_t size, size_t n, void *ud)
{
    hp_buf *b = ud;
    if (hp_buf_append(b, p, size * n) != HP_OK)
        return 0;
    return size * n;
}

/* One blocking request; returns the status and fills out (may be NULL). */
static long bench__request(const char *url, const char *method, struct curl_slist *hs,
                           const char *body, hp_buf *out)
{
    CURL *h = curl_easy_init();
    long status = 0;
    hp_buf tmp;

    hp_buf_init(&tmp, 1 << 20);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, bench__sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out ? out : &tmp);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    hp_buf_free(&tmp);
    return status;
}

static double bench__gauge(const char *base, const char *name)
{
    char url[512];
    hp_buf b;
    double v = -1;

    hp_buf_init(&b, 4 << 20);
    (void)hp_fmt(url, sizeof(url), "%s/metrics", base);
    if (bench__request(url, "GET", NULL, NULL, &b) == 200 && b.data) {
        char key[128];
        (void)hp_fmt(key, sizeof(key), "\n%s ", name);
        const char *p = strstr(b.data, key);
        if (p)
            v = strtod(p + strlen(key), NULL);
    }
    hp_buf_free(&b);
    return v;
}

static long bench__rss_kb(long pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    (void)hp_fmt(path, sizeof(path), "/proc/%ld/status", pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

/* Number of threads of the process. */
static long bench__threads(long pid)
{
    char path[64], line[256];
    long n = -1;
    FILE *f;

    (void)hp_fmt(path, sizeof(path), "/proc/%ld/status", pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "Threads:", 8) == 0)
            n = strtol(line + 8, NULL, 10);
    fclose(f);
    return n;
}

/* The loopback address and port of base ("http://127.0.0.1:PORT"). */
static bool bench__addr(const char *base, struct sockaddr_in *sa, char *hostport, size_t cap)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    bool ok = false;

    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        long long p;
        ok = inet_pton(AF_INET, host, &sa->sin_addr) == 1 && hp_parse_ll(port, 1, 65535, &p);
        sa->sin_port = htons((uint16_t)(ok ? p : 0));
        (void)hp_fmt(hostport, cap, "%s:%s", host, port);
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return ok;
}

/* Connects, sends the request and leaves the socket non-blocking; -1 on
 * failure. */
static int bench__open(const struct sockaddr_in *sa, const char *request)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    size_t len = strlen(request), off = 0;

    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0) {
        close(fd);
        return -1;
    }
    while (off < len) {
        ssize_t w = send(fd, request + off, len - off, MSG_NOSIGNAL);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Reads what has arrived; true once the whole response is in (or the
 * server closed the connection). */
static bool bench__read(bench_poll *p)
{
    char chunk[4096];

    for (;;) {
        ssize_t r = recv(p->fd, chunk, sizeof(chunk), 0);
        if (r > 0) {
            if (hp_buf_append(&p->in, chunk, (size_t)r) != HP_OK)
                return true;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        return true; /* closed or failed: whatever arrived is the answer */
    }
    const char *end = p->in.data ? strstr(p->in.data, "\r\n\r\n") : NULL;
    const char *cl = p->in.data ? strcasestr(p->in.data, "\r\nContent-Length:") : NULL;
    if (end == NULL || cl == NULL || cl > end)
        return false;
    long long want = strtoll(cl + 17, NULL, 10);
    return (long long)(p->in.len - (size_t)(end + 4 - p->in.data)) >= want;
}

int main(int argc, char **argv)
{
    long long n, pid;
    char url[512], h1[160], h2[160], h3[200];
    struct curl_slist *agent = NULL, *user = NULL;
    hp_buf b;
    bench_poll *polls;
    double held = 0;
    long rss_idle, rss_held, threads;
    char request_id[64], approval_id[64];
    int decided = 0, other = 0;

    if (argc != 7 || !hp_parse_ll(argv[5], 1, 1 << 30, &pid) ||
        !hp_parse_ll(argv[6], 1, 100000, &n)) {
        fprintf(stderr, "usage: bench_waiters BASE AGENT_ID API_KEY USER_TOKEN API_PID N\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    (void)hp_fmt(h1, sizeof(h1), "X-Agent-Id: %s", argv[2]);
    (void)hp_fmt(h2, sizeof(h2), "X-Api-Key: %s", argv[3]);
    (void)hp_fmt(h3, sizeof(h3), "Authorization: Bearer %s", argv[4]);
    agent = curl_slist_append(agent, "Content-Type: application/json");
    agent = curl_slist_append(agent, h1);
    agent = curl_slist_append(agent, h2);
    user = curl_slist_append(user, "Content-Type: application/json");
    user = curl_slist_append(user, h3);

    /* One approval that every long-poll waits on. */
    hp_buf_init(&b, 1 << 16);
    (void)hp_fmt(url, sizeof(url), "%s/v1/approvals", argv[1]);
    if (bench__request(url, "POST", agent,
                       "{\"question\":\"hold\",\"context_markdown\":\"\",\"options\":[{\"label\":"
                       "\"ok\",\"value\":\"ok\"}]}",
                       &b) != 200) {
        fprintf(stderr, "create failed\n");
        return 1;
    }
    json_object *o = json_tokener_parse(b.data);
    hp_strlcpy(request_id, json_object_get_string(json_object_object_get(o, "request_id")),
               sizeof(request_id));
    hp_strlcpy(approval_id, json_object_get_string(json_object_object_get(o, "approval_id")),
               sizeof(approval_id));
    json_object_put(o);
    hp_buf_free(&b);
    rss_idle = bench__rss_kb((long)pid);

    struct sockaddr_in sa;
    char hostport[128], request[1024];
    if (!bench__addr(argv[1], &sa, hostport, sizeof(hostport))) {
        fprintf(stderr, "the base URL must be http://<IPv4 address>:<port>\n");
        return 2;
    }
    (void)hp_fmt(request, sizeof(request),
                 "GET /v1/approvals/%s/result?wait=120 HTTP/1.1\r\nHost: %s\r\n%s\r\n%s\r\n\r\n",
                 request_id, hostport, h1, h2);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    polls = calloc((size_t)n, sizeof(*polls));
    /* Waiters arrive at 2,000/s (as they would accumulate in real use),
     * until the API reports them all waiting (or 120 s). */
    int64_t until = hp_time_mono_ms() + 120000, next_check = 0;
    long long added = 0, open_fail = 0;
    while (hp_time_mono_ms() < until) {
        int64_t batch_end = hp_time_mono_ms() + 100;
        for (int k = 0; k < 200 && added < n; k++, added++) {
            bench_poll *p = &polls[added];
            hp_buf_init(&p->in, 1 << 14);
            p->fd = bench__open(&sa, request);
            for (int t = 0; p->fd < 0 && t < 3; t++) { /* a full backlog, say */
                (void)usleep(50000);
                p->fd = bench__open(&sa, request);
            }
            if (p->fd < 0) {
                open_fail++;
                p->done = true;
                continue;
            }
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = p};
            (void)epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &ev);
        }
        int64_t left = batch_end - hp_time_mono_ms();
        if (left > 0)
            (void)usleep((useconds_t)left * 1000);
        if (hp_time_mono_ms() >= next_check) {
            held = bench__gauge(argv[1], "holdpoint_waiters");
            if (held >= (double)n)
                break;
            next_check = hp_time_mono_ms() + 500;
        }
    }
    rss_held = bench__rss_kb((long)pid);
    threads = bench__threads((long)pid);
    double pool_in_use = bench__gauge(argv[1], "holdpoint_db_pool_in_use");

    /* Decide: every waiter must come back with the decision. */
    (void)hp_fmt(url, sizeof(url), "%s/v1/review/approvals/%s/resolve", argv[1], approval_id);
    int64_t t0 = hp_time_mono_ms();
    long st = bench__request(url, "POST", user, "{\"option_index\":0}", NULL);
    int64_t decided_ms = hp_time_mono_ms() - t0, first_ms = -1;
    long long answered = open_fail;
    struct epoll_event evs[256];
    while (answered < n && hp_time_mono_ms() - t0 < 120000) {
        int k = epoll_wait(ep, evs, 256, 100);
        for (int i = 0; i < k; i++) {
            bench_poll *p = evs[i].data.ptr;
            if (!p->done && bench__read(p)) {
                p->done = true;
                answered++;
                if (first_ms < 0)
                    first_ms = hp_time_mono_ms() - t0;
                (void)epoll_ctl(ep, EPOLL_CTL_DEL, p->fd, NULL);
            }
        }
    }
    int64_t drain_ms = hp_time_mono_ms() - t0;
    for (long long i = 0; i < n; i++) {
        if (polls[i].in.data && strstr(polls[i].in.data, "\"selected_option\""))
            decided++;
        else if (other++ == 0)
            fprintf(stderr, "a long-poll was not answered with the decision: %.300s\n",
                    polls[i].in.data ? polls[i].in.data : "(nothing)");
        if (i < added && polls[i].fd >= 0)
            close(polls[i].fd);
        hp_buf_free(&polls[i].in);
    }
    printf("{\"requested\":%lld,\"held\":%.0f,\"rss_idle_kb\":%ld,\"rss_held_kb\":%ld,"
           "\"threads\":%ld,\"db_pool_in_use_while_held\":%.0f,\"resolve_status\":%ld,"
           "\"answered_with_decision\":%d,\"other\":%d,\"not_opened\":%lld,\"decision_ms\":%lld,"
           "\"first_answer_ms\":%lld,\"drain_ms\":%lld}\n",
           n, held, rss_idle, rss_held, threads, pool_in_use, st, decided, other, open_fail,
           (long long)decided_ms, (long long)first_ms, (long long)drain_ms);
    free(polls);
    close(ep);
    curl_slist_free_all(agent);
    curl_slist_free_all(user);
    curl_global_cleanup();
    return (held >= (double)n && decided == n) ? 0 : 1;
}
