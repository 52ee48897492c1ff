/*
 * bench_create: a closed-loop load generator for POST /v1/approvals. N
 * threads, each with its own keep-alive libcurl handle, create approvals for
 * a fixed time and count 200 answers; prints one JSON line with the rate.
 * Traffic goes only to the base URL given (127.0.0.1 in bench/create.sh).
 *
 *   bench_create BASE_URL AGENT_ID API_KEY CLIENTS SECONDS
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hp_str.h"
#include "hp_time.h"

typedef struct bench_worker {
    pthread_t tid;
    const char *url;
    struct curl_slist *headers;
    int64_t deadline_ms;
    long ok;
    long failed;
} bench_worker;

static size_t bench__discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static void *bench__run(void *arg)
{
    bench_worker *w = arg;
    CURL *h = curl_easy_init();
    static const char body[] =
        "{\"question\":\"Deploy to production?\",\"context_markdown\":\"Build #123 passed CI.\","
        "\"options\":[{\"label\":\"Approve\",\"value\":\"approve\"},"
        "{\"label\":\"Reject\",\"value\":\"reject\"}]}";

    curl_easy_setopt(h, CURLOPT_URL, w->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, w->headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, bench__discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    while (hp_time_mono_ms() < w->deadline_ms) {
        long status = 0;
        if (curl_easy_perform(h) == CURLE_OK &&
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200)
            w->ok++;
        else
            w->failed++;
    }
    curl_easy_cleanup(h);
    return NULL;
}

int main(int argc, char **argv)
{
    long long clients, seconds;
    char url[512], agent[128], key[128];
    struct curl_slist *hs = NULL;
    bench_worker *ws;
    long ok = 0, failed = 0;
    int64_t start;

    if (argc != 6 || !hp_parse_ll(argv[4], 1, 1024, &clients) ||
        !hp_parse_ll(argv[5], 1, 600, &seconds)) {
        fprintf(stderr, "usage: bench_create BASE_URL AGENT_ID API_KEY CLIENTS SECONDS\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    (void)hp_fmt(url, sizeof(url), "%s/v1/approvals", argv[1]);
    (void)hp_fmt(agent, sizeof(agent), "X-Agent-Id: %s", argv[2]);
    (void)hp_fmt(key, sizeof(key), "X-Api-Key: %s", argv[3]);
    hs = curl_slist_append(hs, "Content-Type: application/json");
    hs = curl_slist_append(hs, agent);
    hs = curl_slist_append(hs, key);
    ws = calloc((size_t)clients, sizeof(*ws));
    start = hp_time_mono_ms();
    for (long long i = 0; i < clients; i++) {
        ws[i].url = url;
        ws[i].headers = hs;
        ws[i].deadline_ms = start + seconds * 1000;
        pthread_create(&ws[i].tid, NULL, bench__run, &ws[i]);
    }
    for (long long i = 0; i < clients; i++) {
        pthread_join(ws[i].tid, NULL);
        ok += ws[i].ok;
        failed += ws[i].failed;
    }
    double elapsed = (double)(hp_time_mono_ms() - start) / 1000.0;
    printf("{\"clients\":%lld,\"seconds\":%.2f,\"created\":%ld,\"failed\":%ld,\"rate\":%.1f}\n",
           clients, elapsed, ok, failed, (double)ok / elapsed);
    free(ws);
    curl_slist_free_all(hs);
    curl_global_cleanup();
    return failed > ok / 100 ? 1 : 0; /* more than 1% failures is a broken run */
}
