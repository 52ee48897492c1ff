/*
 * holdpoint-delivery internals shared by its files: main.c (the transfer
 * loop, the database thread that claims ahead of free slots and records
 * ended attempts in batches, shutdown), delivery_send.c (one signed callback attempt on a
 * libcurl easy handle, the easy-handle set-up every sender shares, and the
 * classification of a result), delivery_prep.c (the prep threads),
 * delivery_fanout.c (expanding a "notify" job into channel jobs) and
 * delivery_channel.c (the channel senders: ntfy, Slack, team webhook, SMTP,
 * Web Push).
 */
#ifndef DELIVERY_H
#define DELIVERY_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "hp_config.h"
#include "hp_db.h"
#include "hp_pool.h"
#include "hp_store_jobs.h"
#include "hp_urlpolicy.h"
#include "hp_webhook.h"

/* Response bytes read before the transfer is cut off (bodies are ignored). */
#define DLV_RESPONSE_CAP 4096

/* What an attempt came to, before retries are decided. */
typedef struct dlv_result {
    bool ok;          /* 2xx */
    bool permanent;   /* no point retrying (refused URL, unusable secret) */
    bool skipped;     /* not sent and nothing to retry (its approval closed first) */
    bool gone;        /* a push service said the subscription is gone (404/410) */
    int http_status;  /* 0 when there was no response */
    char error[128];  /* short and redacted; "" when ok */
    int64_t ended_ms; /* monotonic, when the loop handed it over */
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
    bool recorded;             /* the prep thread ended and recorded the job itself */
    unsigned char *owned_body; /* a body built at send time (Web Push ciphertext) */
    struct curl_slist *rcpt;   /* SMTP recipients */
    size_t upload_at;          /* SMTP: bytes of the message handed to libcurl */
} dlv_slot;

/* Prepares slot->easy for slot->job: unseals the agent's secrets with
 * cfg->secret_key, checks and pins the URL with policy, signs, sets headers,
 * body and limits. false with *res filled when the attempt ends before any
 * request (refused URL, DNS failure, bad secret). Blocks on DNS. */
bool dlv_prepare(dlv_slot *slot, const hp_config *cfg, const hp_urlpolicy *policy, dlv_result *res);

/* Renders the body of a job queued without one (j->body NULL) into pool
 * from the row the claim brought: the closed approval's result (callback),
 * the Ask API's answer (ask_callback) or the action response's webhook
 * payload (project_webhook, with the time it was recorded and a nonce
 * derived from its id). Every attempt renders the same bytes, since those
 * rows no longer change. false when there is nothing to render it from. */
bool dlv_render_body(hp_pool *pool, hp_job *j);

/* Classifies a finished transfer (code from CURLMSG_DONE). */
void dlv_classify(dlv_slot *slot, CURLcode code, dlv_result *res);

/* Signs body for one attempt with the key of a "whsec_" secret: a new
 * nonce (into nonce) and timestamp, and every signature scheme of
 * docs/webhooks.md into *sig (webhook-id = webhook_id). */
void dlv_sign(const unsigned char *key, size_t keylen, const char *webhook_id, const char *body,
              hp_webhook_sig *sig, char nonce[33]);

/* Fills res as a failure before any request (msg: short, redacted). */
void dlv_fail(dlv_result *res, bool permanent, const char *msg);

/* hp_urlpolicy_resolve with the outcome as a failed result: false with res
 * filled when the URL is refused (permanent) or its host does not resolve. */
bool dlv_resolve(const hp_urlpolicy *policy, const char *url, hp_urlpolicy_target *t,
                 dlv_result *res);

/* Creates slot->easy for url over the checked target t: the addresses
 * pinned (CURLOPT_RESOLVE), only protocols allowed, no redirects, no
 * proxy, the connect and total timeouts, the response cap, the connect-time
 * address check, and a POST of body (len bytes; none when body is NULL).
 * Marks the attempt started. */
void dlv_easy_new(dlv_slot *slot, const hp_config *cfg, const hp_urlpolicy *policy,
                  const hp_urlpolicy_target *t, const char *url, const char *protocols,
                  const void *body, size_t len, const char *user_agent);

/* ---- notifications (delivery_fanout.c, delivery_channel.c) ---- */

/* What the notification code shares for the life of the process. */
typedef struct dlv_chctx {
    const hp_config *cfg;
    hp_db *db;
    const char *worker;
    unsigned char link_key[32]; /* decision links (hp_link_key) */
} dlv_chctx;

const dlv_chctx *dlv_channels_ctx(void);

/* Sets what the notification code needs for the life of the process: the
 * configuration (public URL, secret key, VAPID subject), the pool (the
 * expansion and the VAPID key read the database from prep threads) and the
 * worker's name (leases). */
void dlv_channels_init(const hp_config *cfg, hp_db *db, const char *worker);
void dlv_channels_deinit(void);

/* Expands the notify job in slot into channel jobs in one transaction and
 * records it (slot->recorded) — or, when the database fails, returns false
 * with a retryable result for the usual record. Always false (no transfer).
 * Blocks on the database; prep threads only. */
bool dlv_fanout(dlv_slot *slot, dlv_result *res);

/* dlv_prepare for a "channel.*" job: unseals the channel's secrets and
 * builds the request of its kind. false with res filled when the attempt
 * ends before a request (refused URL, closed approval: res->skipped). */
bool dlv_channel_prepare(dlv_slot *slot, const hp_config *cfg, const hp_urlpolicy *policy,
                         dlv_result *res);

/* The channel kinds' own reading of a finished transfer (SMTP replies, a
 * push service's 404/410); false when the generic one applies. */
bool dlv_channel_classify(dlv_slot *slot, CURLcode code, dlv_result *res);

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
