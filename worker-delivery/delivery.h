/*
 * holdpoint-delivery internals shared by its two files: main.c (the claim
 * loop, leases, shutdown) and delivery_send.c (one signed HTTP attempt on a
 * libcurl easy handle and the classification of its result).
 */
#ifndef DELIVERY_H
#define DELIVERY_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "hp_config.h"
#include "hp_pool.h"
#include "hp_store_jobs.h"
#include "hp_urlpolicy.h"

/* Response bytes read before the transfer is cut off (bodies are ignored). */
#define DLV_RESPONSE_CAP 4096

/* What an attempt came to, before retries are decided. */
typedef struct dlv_result {
    bool ok;         /* 2xx */
    bool permanent;  /* no point retrying (refused URL, unusable secret) */
    int http_status; /* 0 when there was no response */
    char error[128]; /* short and redacted; "" when ok */
} dlv_result;

/* One in-flight attempt. */
typedef struct dlv_slot {
    bool busy;
    hp_pool *pool; /* the job's strings; freed when the slot empties */
    hp_job job;
    CURL *easy;
    struct curl_slist *headers;
    struct curl_slist *resolve;
    size_t received;    /* response bytes seen */
    bool capped;        /* the response hit DLV_RESPONSE_CAP */
    int64_t started_ms; /* monotonic */
    char curl_err[CURL_ERROR_SIZE];
    const hp_urlpolicy *policy; /* for the connect-time address check */
    bool any_addr;              /* host allowed by name: every address is fine */
    bool in_prep;               /* owned by a prep thread until taken back */
    bool prep_ok;               /* set by the prep thread */
    dlv_result prep_res;
} dlv_slot;

/* Prepares slot->easy for slot->job: unseals the agent's secrets with
 * cfg->secret_key, checks and pins the URL with policy, signs, sets headers,
 * body and limits. false with *res filled when the attempt ends before any
 * request (refused URL, DNS failure, bad secret). Blocks on DNS. */
bool dlv_prepare(dlv_slot *slot, const hp_config *cfg, const hp_urlpolicy *policy, dlv_result *res);

/* Classifies a finished transfer (code from CURLMSG_DONE). */
void dlv_classify(dlv_slot *slot, CURLcode code, dlv_result *res);

/* Releases the handle, lists and pool of slot and marks it free. */
void dlv_slot_clear(dlv_slot *slot);

/* The prep threads (delivery_prep.c): dlv_prepare off the event loop. */
typedef struct dlv_prep dlv_prep;

/* Starts nthreads threads for at most cap slots at a time. */
dlv_prep *dlv_prep_start(int nthreads, int cap, const hp_config *cfg, const hp_urlpolicy *policy);
/* Readable when prepared slots are waiting to be taken. */
int dlv_prep_fd(const dlv_prep *p);
/* Hands s to a prep thread (s->in_prep until taken back). */
void dlv_prep_submit(dlv_prep *p, dlv_slot *s);
/* Takes back up to cap prepared slots into out (s->prep_ok, s->prep_res
 * tell the result); returns how many. Never blocks. */
int dlv_prep_take(dlv_prep *p, dlv_slot **out, int cap);
/* Asks the threads to finish and joins them until deadline_ms (monotonic);
 * false when one is still inside a DNS lookup. */
bool dlv_prep_stop(dlv_prep *p, int64_t deadline_ms);
void dlv_prep_free(dlv_prep *p);

#endif
