/*
 * it_bg: requests that run in a background thread with their own libcurl
 * multi handle, so a test can decide while they wait (long-polls, blocking
 * asks, waiting tool calls). Header-only because the harness builds each
 * it_*.c as its own program. A batch is freed when the test ends; its
 * responses are recorded for the contract check like hp_it_send's.
 */
#ifndef IT_BG_H
#define IT_BG_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hp_itest.h"

/* ---- background requests ------------------------------------------------ */

typedef struct bg_call {
    char url[512];
    const char *method;
    struct curl_slist *headers;
    char *body;      /* request body or NULL */
    long timeout_ms; /* client-side limit */
    /* results */
    long status;
    char *resp; /* response body (malloc) */
    size_t resp_len;
    char *hdrs; /* response header block (malloc) */
    size_t hdrs_len;
    double done_at; /* hp_it_now() when the transfer ended */
} bg_call;

typedef struct bg_batch {
    bg_call *calls;
    int n;
    pthread_t tid;
} bg_batch;

static inline size_t bg__sink(char *p, size_t size, size_t n, void *ud)
{
    bg_call *c = ud;
    size_t k = size * n;
    char *grown = realloc(c->resp, c->resp_len + k + 1);
    if (grown == NULL)
        return 0;
    c->resp = grown;
    memcpy(c->resp + c->resp_len, p, k);
    c->resp_len += k;
    c->resp[c->resp_len] = '\0';
    return k;
}

static inline size_t bg__header(char *p, size_t size, size_t n, void *ud)
{
    bg_call *c = ud;
    size_t k = size * n;
    char *grown = realloc(c->hdrs, c->hdrs_len + k + 1);
    if (grown == NULL)
        return 0;
    c->hdrs = grown;
    memcpy(c->hdrs + c->hdrs_len, p, k);
    c->hdrs_len += k;
    c->hdrs[c->hdrs_len] = '\0';
    return k;
}

/* Hands a finished call to the harness's response recorder (the contract
 * check validates every recorded response against docs/openapi.yaml). */
static inline void bg__record(CURL *h, const bg_call *c)
{
    const char *ctype = NULL, *p = c->url;
    char path[512];

    for (int slashes = 0; *p && slashes < 3; p++)
        slashes += *p == '/';
    snprintf(path, sizeof(path), "/%.*s", (int)strcspn(p, "?"), p);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
    hp_it_record(c->method, path, c->status, ctype, c->hdrs ? c->hdrs : "", c->resp ? c->resp : "",
                 c->resp_len);
}

static inline void *bg__main(void *arg)
{
    bg_batch *b = arg;
    CURLM *m = curl_multi_init();
    CURL **h = calloc((size_t)b->n, sizeof(*h));
    int running = 0, left = b->n;

    for (int i = 0; i < b->n; i++) {
        bg_call *c = &b->calls[i];
        h[i] = curl_easy_init();
        curl_easy_setopt(h[i], CURLOPT_URL, c->url);
        curl_easy_setopt(h[i], CURLOPT_CUSTOMREQUEST, c->method);
        curl_easy_setopt(h[i], CURLOPT_HTTPHEADER, c->headers);
        if (c->body)
            curl_easy_setopt(h[i], CURLOPT_POSTFIELDS, c->body);
        curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, bg__sink);
        curl_easy_setopt(h[i], CURLOPT_WRITEDATA, c);
        curl_easy_setopt(h[i], CURLOPT_HEADERFUNCTION, bg__header);
        curl_easy_setopt(h[i], CURLOPT_HEADERDATA, c);
        curl_easy_setopt(h[i], CURLOPT_TIMEOUT_MS, c->timeout_ms);
        curl_easy_setopt(h[i], CURLOPT_PRIVATE, c);
        curl_multi_add_handle(m, h[i]);
    }
    while (left > 0) {
        CURLMsg *msg;
        int q;
        curl_multi_perform(m, &running);
        while ((msg = curl_multi_info_read(m, &q)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            bg_call *c;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            if (msg->data.result == CURLE_OK) {
                curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &c->status);
                bg__record(msg->easy_handle, c);
            }
            c->done_at = hp_it_now();
            left--;
        }
        if (left > 0)
            curl_multi_poll(m, NULL, 0, 50, NULL);
    }
    for (int i = 0; i < b->n; i++) {
        curl_multi_remove_handle(m, h[i]);
        curl_easy_cleanup(h[i]);
    }
    free(h);
    curl_multi_cleanup(m);
    return NULL;
}

static inline void bg__free(void *p)
{
    bg_batch *b = p;
    for (int i = 0; i < b->n; i++) {
        curl_slist_free_all(b->calls[i].headers);
        free(b->calls[i].resp);
        free(b->calls[i].hdrs);
        free(b->calls[i].body);
    }
    free(b->calls);
    free(b);
}

static inline bg_batch *bg_new(int n)
{
    bg_batch *b = calloc(1, sizeof(*b));
    b->calls = calloc((size_t)n, sizeof(*b->calls));
    b->n = n;
    hp_it_track(b, bg__free);
    return b;
}

/* Sets call i: method, full URL, the agent headers of t (plus extra, may be
 * NULL), body (copied) and a client timeout. */
static inline void bg_set(bg_batch *b, int i, const char *method, const char *url,
                          const hp_it_team *t, bool user, const char *extra, const char *body,
                          long timeout_ms)
{
    bg_call *c = &b->calls[i];
    const char *const *hs =
        user ? hp_it_user_headers(t, body != NULL) : hp_it_agent_headers(t, body != NULL);
    snprintf(c->url, sizeof(c->url), "%s", url);
    c->method = method;
    for (; *hs; hs++)
        c->headers = curl_slist_append(c->headers, *hs);
    if (extra)
        c->headers = curl_slist_append(c->headers, extra);
    c->body = body ? strdup(body) : NULL;
    c->timeout_ms = timeout_ms;
}

static inline void bg_start(bg_batch *b)
{
    pthread_create(&b->tid, NULL, bg__main, b);
}

static inline void bg_join(bg_batch *b)
{
    pthread_join(b->tid, NULL);
}

/* Sets call i like bg_set but with exactly the headers hs (NULL-terminated;
 * Content-Type is the caller's business). */
static inline void bg_set_headers(bg_batch *b, int i, const char *method, const char *url,
                                  const char *const *hs, const char *body, long timeout_ms)
{
    bg_call *c = &b->calls[i];
    snprintf(c->url, sizeof(c->url), "%s", url);
    c->method = method;
    for (; hs != NULL && *hs; hs++)
        c->headers = curl_slist_append(c->headers, *hs);
    c->body = body ? strdup(body) : NULL;
    c->timeout_ms = timeout_ms;
}

/* The first column of sql (one text parameter p1) once it has a row: polls
 * every 25 ms for up to timeout_ms while a background request gets going;
 * NULL when it never does. */
static inline const char *bg_await_sql(const char *sql, const char *p1, long timeout_ms)
{
    double end = hp_it_now() + (double)timeout_ms / 1000.0;
    const char *v;

    while ((v = hp_it_sql_str(sql, p1, (const char *)NULL)) == NULL && hp_it_now() < end)
        hp_it_sleep_ms(25);
    return v;
}

#endif
