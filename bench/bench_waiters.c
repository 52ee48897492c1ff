/*
 * bench_waiters: opens N concurrent long-polls (GET …/result?wait=W) against
 * one API process with the libcurl multi interface, then reports how many
 * were held at once (the API's holdpoint_waiters gauge), the API's resident
 * memory, and how many PostgreSQL connections the process had open while
 * they waited. Finally resolves the approval and checks every long-poll was
 * answered with the decision. Traffic goes only to the base URL (127.0.0.1).
 *
 *   bench_waiters BASE_URL AGENT_ID API_KEY USER_TOKEN API_PID N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "hp_buf.h"
#include "hp_str.h"
#include "hp_time.h"

typedef struct bench_poll {
    CURL *h;
    hp_buf body;
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

int main(int argc, char **argv)
{
    long long n, pid;
    char url[512], h1[160], h2[160], h3[200];
    struct curl_slist *agent = NULL, *user = NULL;
    hp_buf b;
    bench_poll *polls;
    CURLM *multi;
    int running = 0;
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

    multi = curl_multi_init();
    polls = calloc((size_t)n, sizeof(*polls));
    (void)hp_fmt(url, sizeof(url), "%s/v1/approvals/%s/result?wait=120", argv[1], request_id);
    for (long long i = 0; i < n; i++) {
        polls[i].h = curl_easy_init();
        hp_buf_init(&polls[i].body, 1 << 14);
        curl_easy_setopt(polls[i].h, CURLOPT_URL, url);
        curl_easy_setopt(polls[i].h, CURLOPT_HTTPHEADER, agent);
        curl_easy_setopt(polls[i].h, CURLOPT_WRITEFUNCTION, bench__sink);
        curl_easy_setopt(polls[i].h, CURLOPT_WRITEDATA, &polls[i].body);
        curl_easy_setopt(polls[i].h, CURLOPT_TIMEOUT, 180L);
        curl_easy_setopt(polls[i].h, CURLOPT_PRIVATE, &polls[i]);
    }
    /* Waiters arrive at 2,000/s (as they would accumulate in real use), and
     * the transfers run until the API reports them all waiting (or 120 s). */
    int64_t until = hp_time_mono_ms() + 120000, next_check = 0;
    long long added = 0;
    while (hp_time_mono_ms() < until) {
        for (int k = 0; k < 200 && added < n; k++, added++)
            curl_multi_add_handle(multi, polls[added].h);
        curl_multi_perform(multi, &running);
        curl_multi_poll(multi, NULL, 0, 100, NULL);
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
    while (running > 0 && hp_time_mono_ms() - t0 < 120000) {
        curl_multi_perform(multi, &running);
        curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    int64_t drain_ms = hp_time_mono_ms() - t0;
    for (long long i = 0; i < n; i++) {
        if (polls[i].body.data && strstr(polls[i].body.data, "\"selected_option\""))
            decided++;
        else
            other++;
        if (i < added)
            curl_multi_remove_handle(multi, polls[i].h);
        curl_easy_cleanup(polls[i].h);
        hp_buf_free(&polls[i].body);
    }
    printf("{\"requested\":%lld,\"held\":%.0f,\"rss_idle_kb\":%ld,\"rss_held_kb\":%ld,"
           "\"threads\":%ld,\"db_pool_in_use_while_held\":%.0f,\"resolve_status\":%ld,"
           "\"answered_with_decision\":%d,\"other\":%d,\"drain_ms\":%lld}\n",
           n, held, rss_idle, rss_held, threads, pool_in_use, st, decided, other,
           (long long)drain_ms);
    free(polls);
    curl_multi_cleanup(multi);
    curl_slist_free_all(agent);
    curl_slist_free_all(user);
    curl_global_cleanup();
    return (held >= (double)n && decided == n) ? 0 : 1;
}
