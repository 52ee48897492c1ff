/*
 * hp_webhook: the pure parts of an outbound signed request — the signing
 * key from a "whsec_" secret, the two signature schemes (Standard Webhooks
 * and seed 004's X-Signature-256), the header list in seed 003's order with
 * the agent's auth header winning, and the retry delay (exponential backoff
 * with equal jitter). No I/O, no logging; any thread. The sending itself is
 * holdpoint-delivery's. Receivers' side: docs/webhooks.md.
 */
#ifndef HP_WEBHOOK_H
#define HP_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "hp_err.h"

#define HP_WEBHOOK_KEY_MAX 64
/* "v1," + base64 of 32 bytes */
#define HP_WEBHOOK_SIG_STD_LEN (3 + 44)
/* "sha256=" + 64 hex */
#define HP_WEBHOOK_SIG_HEX_LEN (7 + 64)
/* "t=" + up to 20 digits + ",v1=" + 64 hex */
#define HP_WEBHOOK_SIG_HP_LEN (2 + 20 + 4 + 64)

/* Decodes the key of a secret "whsec_<base64>" (the part after the prefix,
 * base64-decoded) into key (HP_WEBHOOK_KEY_MAX bytes), *keylen its length.
 * HP_ERR_INVALID_PAYLOAD when the prefix or the base64 is wrong. */
HP_MUSTCHECK hp_err hp_webhook_key(const char *secret, unsigned char *key, size_t *keylen);

/* Standard Webhooks: "v1," + base64(HMAC-SHA256(key, "<id>.<ts>.<body>")) into
 * out (HP_WEBHOOK_SIG_STD_LEN + 1 bytes). */
void hp_webhook_sign_std(const unsigned char *key, size_t keylen, const char *id, long long ts,
                         const char *body, size_t bodylen, char *out);

/* Seed 004: "sha256=" + hex(HMAC-SHA256(key, "<ts>.<nonce>.<body>")) into out
 * (HP_WEBHOOK_SIG_HEX_LEN + 1 bytes). */
void hp_webhook_sign_hex(const unsigned char *key, size_t keylen, long long ts, const char *nonce,
                         const char *body, size_t bodylen, char *out);

/* X-Holdpoint-Signature, the one-header form seed 000 receivers expect:
 * "t=<ts>,v1=" + hex(HMAC-SHA256(key, "<ts>.<body>")) into out
 * (HP_WEBHOOK_SIG_HP_LEN + 1 bytes). */
void hp_webhook_sign_holdpoint(const unsigned char *key, size_t keylen, long long ts,
                               const char *body, size_t bodylen, char *out);

/* The signature headers of one attempt. */
typedef struct hp_webhook_sig {
    const char *id;    /* webhook-id (stable across retries) */
    long long ts;      /* Unix seconds */
    const char *nonce; /* unique per attempt */
    char std[HP_WEBHOOK_SIG_STD_LEN + 1];
    char hex[HP_WEBHOOK_SIG_HEX_LEN + 1];
    char hp[HP_WEBHOOK_SIG_HP_LEN + 1];
} hp_webhook_sig;

/* Builds the request headers in seed 003's order: Content-Type:
 * application/json, then the caller's headers (headers_json: a JSON object of
 * strings, or NULL), then the agent's auth header (auth_name/auth_value, both
 * NULL when unset). A caller header whose name matches the auth header
 * (case-insensitively) is dropped so the agent value is sent once and wins;
 * caller headers that would override Content-Type, Host, Content-Length,
 * Transfer-Encoding or the signature headers are dropped too, and so are
 * names or values that are not valid header text. sig (may be NULL) adds the
 * six signature headers last (Standard Webhooks, seed 004, then
 * X-Holdpoint-Signature). *out is a new list the caller frees with
 * curl_slist_free_all. HP_ERR_INVALID_PAYLOAD when headers_json is not an
 * object. */
HP_MUSTCHECK hp_err hp_webhook_headers(const char *headers_json, const char *auth_name,
                                       const char *auth_value, const hp_webhook_sig *sig,
                                       struct curl_slist **out);

/* The delay before the attempt after failed attempt number `attempt` (1 =
 * the first attempt failed): exponential backoff with equal jitter,
 * d = min(max_ms, base_ms * 2^(attempt-1)), delay = ceil(d/2) + r mod (floor(d/2) + 1),
 * where r is a random 64-bit value supplied by the caller (so the function is
 * pure and testable). Always in [d/2, d]; never overflows. */
int64_t hp_webhook_backoff_ms(int attempt, int base_ms, int max_ms, uint64_t r);

#endif
