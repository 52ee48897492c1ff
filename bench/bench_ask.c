/*
 * bench_ask: a closed-loop load generator for the three ways an agent asks:
 * seed 003's POST /v1/approvals, seed 000's POST /api/v1/server/ask with
 * wait: false, and MCP's tools/call ask_user with wait: false. N threads,
 * each with its own keep-alive libcurl handle (and, for MCP, its own
 * session, opened before the clock starts), send for a fixed time and count
 * the successful answers; prints one JSON line with the rate. Traffic goes
 * only to the base URL given (127.0.0.1 in bench/ask.sh).
 *
 *   bench_ask MODE BASE_URL AGENT_ID API_KEY CLIENTS SECONDS
 *   MODE: v1 | ask | mcp
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hp_str.h"
#include "hp_time.h"

typedef enum { BENCH_V1, BENCH_ASK, BENCH_MCP } bench_mode;

typedef struct bench_worker {
    pthread_t tid;
    bench_mode mode;
    const char *base, *agent, *key;
    int64_t start_ms, deadline_ms;
    pthread_barrier_t *ready, *go; /* set up; clock started */
    long ok, failed;
    char body[4096]; /* the last answer's first bytes (MCP checks isError) */
    size_t body_len;
    char session[128]; /* MCP: Mcp-Session-Id */
} bench_worker;

static size_t bench__body(char *p, size_t size, size_t n, void *ud)
{
    bench_worker *w = ud;
    size_t k = size * n, room = sizeof(w->body) - 1 - w->body_len;

    memcpy(w->body + w->body_len, p, k < room ? k : room);
    w->body_len += k < room ? k : room;
    w->body[w->body_len] = '\0';
    return k;
}

static size_t bench__header(char *p, size_t size, size_t n, void *ud)
{
    bench_worker *w = ud;
    size_t k = size * n;
    static const char name[] = "mcp-session-id:";

    if (k > sizeof(name) && strncasecmp(p, name, sizeof(name) - 1) == 0) {
        const char *v = p + sizeof(name) - 1;
        size_t len = k - (sizeof(name) - 1);
        while (len > 0 && (*v == ' '))
            v++, len--;
        while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n'))
            len--;
        if (len < sizeof(w->session)) {
            memcpy(w->session, v, len);
            w->session[len] = '\0';
        }
    }
    return k;
}

/* One POST; true on a 200. */
static bool bench__post(CURL *h, bench_worker *w, const char *body)
{
    long status = 0;

    w->body_len = 0;
    w->body[0] = '\0';
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    return curl_easy_perform(h) == CURLE_OK &&
           curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
           (status == 200 || status == 202);
}

static struct curl_slist *bench__headers(const bench_worker *w)
{
    struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
    char line[256];

    if (w->mode == BENCH_V1) {
        (void)hp_fmt(line, sizeof(line), "X-Agent-Id: %s", w->agent);
        hs = curl_slist_append(hs, line);
        (void)hp_fmt(line, sizeof(line), "X-Api-Key: %s", w->key);
    } else {
        (void)hp_fmt(line, sizeof(line), "Authorization: Bearer %s", w->key);
    }
    hs = curl_slist_append(hs, line);
    if (w->mode == BENCH_MCP) {
        hs = curl_slist_append(hs, "Accept: application/json, text/event-stream");
        if (w->session[0] != '\0') {
            (void)hp_fmt(line, sizeof(line), "Mcp-Session-Id: %s", w->session);
            hs = curl_slist_append(hs, line);
            hs = curl_slist_append(hs, "MCP-Protocol-Version: 2025-11-25");
        }
    }
    return hs;
}

static void *bench__run(void *arg)
{
    static const char v1_body[] =
        "{\"question\":\"Deploy to production?\",\"context_markdown\":\"Build #123 passed CI.\","
        "\"options\":[{\"label\":\"Approve\",\"value\":\"approve\"},"
        "{\"label\":\"Reject\",\"value\":\"reject\"}]}";
    static const char ask_body[] =
        "{\"question\":\"Deploy to production?\",\"type\":\"confirm\",\"agentName\":\"bench\","
        "\"wait\":false}";
    static const char mcp_init[] =
        "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
        "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"bench\",\"version\":\"1\"}}"
        "}";
    static const char mcp_initialized[] =
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";
    static const char mcp_call[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
        "\"ask_user\",\"arguments\":{\"question\":\"Deploy to production?\",\"type\":\"confirm\","
        "\"agentName\":\"bench\",\"wait\":false}}}";
    bench_worker *w = arg;
    CURL *h = curl_easy_init();
    struct curl_slist *hs = bench__headers(w);
    char url[512];
    const char *body = w->mode == BENCH_V1 ? v1_body : w->mode == BENCH_ASK ? ask_body : mcp_call;

    (void)hp_fmt(url, sizeof(url), "%s%s", w->base,
                 w->mode == BENCH_V1    ? "/v1/approvals"
                 : w->mode == BENCH_ASK ? "/api/v1/server/ask"
                                        : "/mcp");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, bench__body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, bench__header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, w);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    if (w->mode == BENCH_MCP) {
        /* The session is opened before the clock starts, as a client does
         * once per connection. */
        if (!bench__post(h, w, mcp_init) || w->session[0] == '\0') {
            fprintf(stderr, "bench_ask: initialize failed: %s\n", w->body);
            w->failed = 1000000;
        } else {
            curl_slist_free_all(hs);
            hs = bench__headers(w);
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
            if (!bench__post(h, w, mcp_initialized))
                w->failed++;
        }
    }
    pthread_barrier_wait(w->ready);
    pthread_barrier_wait(w->go);
    while (w->failed < 1000000 && hp_time_mono_ms() < w->deadline_ms) {
        bool ok = bench__post(h, w, body);
        if (ok && w->mode == BENCH_MCP)
            ok = strstr(w->body, "\"isError\":false") != NULL;
        if (ok)
            w->ok++;
        else
            w->failed++;
    }
    curl_easy_cleanup(h);
    curl_slist_free_all(hs);
    return NULL;
}

int main(int argc, char **argv)
{
    long long clients, seconds;
    bench_mode mode;
    bench_worker *ws;
    pthread_barrier_t ready, go;
    long ok = 0, failed = 0;
    int64_t start;

    if (argc != 7 || !hp_parse_ll(argv[5], 1, 1024, &clients) ||
        !hp_parse_ll(argv[6], 1, 600, &seconds) ||
        (strcmp(argv[1], "v1") != 0 && strcmp(argv[1], "ask") != 0 &&
         strcmp(argv[1], "mcp") != 0)) {
        fprintf(stderr, "usage: bench_ask v1|ask|mcp BASE_URL AGENT_ID API_KEY CLIENTS SECONDS\n");
        return 2;
    }
    mode = strcmp(argv[1], "v1") == 0    ? BENCH_V1
           : strcmp(argv[1], "ask") == 0 ? BENCH_ASK
                                         : BENCH_MCP;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ws = calloc((size_t)clients, sizeof(*ws));
    pthread_barrier_init(&ready, NULL, (unsigned)clients + 1);
    pthread_barrier_init(&go, NULL, (unsigned)clients + 1);
    for (long long i = 0; i < clients; i++) {
        ws[i].mode = mode;
        ws[i].base = argv[2];
        ws[i].agent = argv[3];
        ws[i].key = argv[4];
        ws[i].ready = &ready;
        ws[i].go = &go;
        ws[i].deadline_ms = INT64_MAX;
        pthread_create(&ws[i].tid, NULL, bench__run, &ws[i]);
    }
    /* Every worker is set up (MCP sessions open): start the clock, and let
     * them go with their deadline written. */
    pthread_barrier_wait(&ready);
    start = hp_time_mono_ms();
    for (long long i = 0; i < clients; i++)
        ws[i].deadline_ms = start + seconds * 1000;
    pthread_barrier_wait(&go);
    for (long long i = 0; i < clients; i++) {
        pthread_join(ws[i].tid, NULL);
        ok += ws[i].ok;
        failed += ws[i].failed;
    }
    double elapsed = (double)(hp_time_mono_ms() - start) / 1000.0;
    printf("{\"mode\":\"%s\",\"clients\":%lld,\"seconds\":%.2f,\"ok\":%ld,\"failed\":%ld,"
           "\"rate\":%.1f}\n",
           argv[1], clients, elapsed, ok, failed, (double)ok / elapsed);
    pthread_barrier_destroy(&ready);
    pthread_barrier_destroy(&go);
    free(ws);
    curl_global_cleanup();
    return failed > ok / 100 ? 1 : 0; /* more than 1% failures is a broken run */
}
