/*
 * bench_create: a closed-loop load generator for POST /v1/approvals. N
 * threads, each with its own keep-alive libcurl handle, create approvals for
 * a fixed time and count 200 answers; prints one JSON line with the rate and
 * the latency of the 200 answers (p50, p99, max in milliseconds: libcurl's
 * total time of each request on its open connection).
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
    double *ms; /* latency of each 200 answer */
    size_t n_ms, cap_ms;
} bench_worker;

static int bench__cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

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
        curl_off_t us = 0;
        if (curl_easy_perform(h) == CURLE_OK &&
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200) {
            if (w->n_ms == w->cap_ms) {
                w->cap_ms = w->cap_ms ? w->cap_ms * 2 : 4096;
                w->ms = realloc(w->ms, w->cap_ms * sizeof(*w->ms));
                if (w->ms == NULL)
                    abort();
            }
            (void)curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &us);
            w->ms[w->n_ms++] = (double)us / 1000.0;
            w->ok++;
        } else {
            w->failed++;
        }
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
    double *all, p50 = 0, p99 = 0, max = 0;
    size_t n_all = 0;
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
    all = malloc(sizeof(*all) * (size_t)(ok > 0 ? ok : 1));
    if (all == NULL)
        abort();
    for (long long i = 0; i < clients; i++) {
        memcpy(all + n_all, ws[i].ms, ws[i].n_ms * sizeof(*all));
        n_all += ws[i].n_ms;
        free(ws[i].ms);
    }
    if (n_all > 0) {
        qsort(all, n_all, sizeof(*all), bench__cmp);
        p50 = all[(n_all - 1) / 2];
        p99 = all[(size_t)((double)(n_all - 1) * 0.99)];
        max = all[n_all - 1];
    }
    printf("{\"clients\":%lld,\"seconds\":%.2f,\"created\":%ld,\"failed\":%ld,\"rate\":%.1f,"
           "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f}\n",
           clients, elapsed, ok, failed, (double)ok / elapsed, p50, p99, max);
    free(all);
    free(ws);
    curl_slist_free_all(hs);
    curl_global_cleanup();
    return failed > ok / 100 ? 1 : 0; /* more than 1% failures is a broken run */
}
