/*
 * hp_webhook: signatures, header assembly and the retry delay for outbound
 * requests. The two signatures cover the exact body bytes (jobs.body) that
 * are sent; Standard Webhooks signs "<id>.<ts>.<body>" and seed 004 signs
 * "<ts>.<nonce>.<body>", both with HMAC-SHA256 under the key decoded from the
 * agent's "whsec_" secret. The secret itself never leaves this process.
 */
#include <stdlib.h>
#include <string.h>

#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_mem.h"
#include "hp_str.h"
#include "hp_valid.h"
#include "hp_webhook.h"

hp_err hp_webhook_key(const char *secret, unsigned char *key, size_t *keylen)
{
    if (secret == NULL || !hp_str_startswith(secret, "whsec_"))
        return HP_ERR_INVALID_PAYLOAD;
    return hp_base64_decode(secret + 6, key, HP_WEBHOOK_KEY_MAX, keylen);
}

/* HMAC over the three parts a.b.body without building the message twice. */
static void hp__hmac3(const unsigned char *key, size_t keylen, const char *a, const char *b,
                      const char *body, size_t bodylen, unsigned char mac[32])
{
    size_t al = strlen(a), bl = strlen(b);
    size_t n = al + 1 + bl + 1 + bodylen;
    char *msg = hp_xmalloc(n + 1);

    memcpy(msg, a, al);
    msg[al] = '.';
    memcpy(msg + al + 1, b, bl);
    msg[al + 1 + bl] = '.';
    memcpy(msg + al + bl + 2, body, bodylen);
    hp_hmac_sha256(key, keylen, msg, n, mac);
    free(msg);
}

void hp_webhook_sign_std(const unsigned char *key, size_t keylen, const char *id, long long ts,
                         const char *body, size_t bodylen, char *out)
{
    unsigned char mac[32];
    char tss[24];
    char *b64;

    (void)hp_fmt(tss, sizeof(tss), "%lld", ts);
    hp__hmac3(key, keylen, id, tss, body, bodylen, mac);
    b64 = hp_base64_encode(mac, sizeof(mac));
    (void)hp_fmt(out, HP_WEBHOOK_SIG_STD_LEN + 1, "v1,%s", b64);
    free(b64);
}

void hp_webhook_sign_hex(const unsigned char *key, size_t keylen, long long ts, const char *nonce,
                         const char *body, size_t bodylen, char *out)
{
    unsigned char mac[32];
    char tss[24], hex[65];

    (void)hp_fmt(tss, sizeof(tss), "%lld", ts);
    hp__hmac3(key, keylen, tss, nonce, body, bodylen, mac);
    hp_hex_encode(mac, sizeof(mac), hex);
    (void)hp_fmt(out, HP_WEBHOOK_SIG_HEX_LEN + 1, "sha256=%s", hex);
}

void hp_webhook_sign_holdpoint(const unsigned char *key, size_t keylen, long long ts,
                               const char *body, size_t bodylen, char *out)
{
    unsigned char mac[32];
    char tss[24], hex[65];
    size_t tl;
    char *msg;

    (void)hp_fmt(tss, sizeof(tss), "%lld", ts);
    tl = strlen(tss);
    msg = hp_xmalloc(tl + 1 + bodylen + 1);
    memcpy(msg, tss, tl);
    msg[tl] = '.';
    memcpy(msg + tl + 1, body, bodylen);
    hp_hmac_sha256(key, keylen, msg, tl + 1 + bodylen, mac);
    free(msg);
    hp_hex_encode(mac, sizeof(mac), hex);
    (void)hp_fmt(out, HP_WEBHOOK_SIG_HP_LEN + 1, "t=%s,v1=%s", tss, hex);
}

/* Names the caller may not set: framing, and the headers we sign with. */
static const char *const hp__reserved[] = {
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "connection",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-timestamp",
    "x-nonce",
    "x-signature-256",
    "x-holdpoint-signature",
    "expect",
    NULL,
};

/* A header name the worker will send: an RFC 9110 token of sane length. */
static bool hp__token(const char *s)
{
    return s != NULL && strlen(s) <= 256 && hp_valid_http_token(s);
}

static bool hp__value_ok(const char *s)
{
    if (s == NULL || strlen(s) > 4096)
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
            return false;
    return true;
}

static struct curl_slist *hp__add(struct curl_slist *l, const char *name, const char *value)
{
    char *line = hp_xasprintf("%s: %s", name, value);
    struct curl_slist *n = curl_slist_append(l, line);

    free(line);
    if (n == NULL)
        abort(); /* out of memory, as hp_mem does */
    return n;
}

hp_err hp_webhook_headers(const char *headers_json, const char *auth_name, const char *auth_value,
                          const hp_webhook_sig *sig, struct curl_slist **out)
{
    struct curl_slist *l = NULL;
    json_object *h = NULL;
    char err[64], tss[24];
    bool auth = hp__token(auth_name) && hp__value_ok(auth_value);

    *out = NULL;
    if (headers_json != NULL &&
        (hp_json_parse(headers_json, strlen(headers_json), &h, err, sizeof(err)) != HP_OK ||
         !json_object_is_type(h, json_type_object))) {
        json_object_put(h);
        return HP_ERR_INVALID_PAYLOAD;
    }
    l = hp__add(l, "Content-Type", "application/json");
    if (h != NULL) {
        json_object_object_foreach(h, name, val)
        {
            bool skip = !json_object_is_type(val, json_type_string) || !hp__token(name) ||
                        !hp__value_ok(json_object_get_string(val));
            for (int i = 0; !skip && hp__reserved[i] != NULL; i++)
                skip = hp_streq_ci(name, hp__reserved[i]);
            if (!skip && auth && hp_streq_ci(name, auth_name))
                skip = true; /* the agent's value wins (seed 003) */
            if (!skip)
                l = hp__add(l, name, json_object_get_string(val));
        }
        json_object_put(h);
    }
    if (auth) {
        bool reserved = false;
        for (int i = 0; hp__reserved[i] != NULL; i++)
            reserved = reserved || hp_streq_ci(auth_name, hp__reserved[i]);
        if (!reserved)
            l = hp__add(l, auth_name, auth_value);
    }
    if (sig != NULL) {
        (void)hp_fmt(tss, sizeof(tss), "%lld", sig->ts);
        l = hp__add(l, "webhook-id", sig->id);
        l = hp__add(l, "webhook-timestamp", tss);
        l = hp__add(l, "webhook-signature", sig->std);
        l = hp__add(l, "X-Timestamp", tss);
        l = hp__add(l, "X-Nonce", sig->nonce);
        l = hp__add(l, "X-Signature-256", sig->hex);
        l = hp__add(l, "X-Holdpoint-Signature", sig->hp);
    }
    /* libcurl adds "Expect: 100-continue" to larger POSTs; a receiver that
     * does not answer it would stall us for a second. */
    l = curl_slist_append(l, "Expect:");
    if (l == NULL)
        abort();
    *out = l;
    return HP_OK;
}

int64_t hp_webhook_backoff_ms(int attempt, int base_ms, int max_ms, uint64_t r)
{
    int64_t d = base_ms > 0 ? base_ms : 0;
    int64_t half;

    if (attempt < 1)
        attempt = 1;
    /* Double until the cap; stop early so the shift never overflows. */
    for (int i = 1; i < attempt && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    if (d <= 0)
        return 0;
    half = d / 2;
    return (d - half) + (int64_t)(r % (uint64_t)(half + 1));
}
