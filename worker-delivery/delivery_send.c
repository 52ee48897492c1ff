/*
 * delivery_send: one callback attempt. The request is exactly seed 003's —
 * POST, Content-Type: application/json, the caller's headers, the agent's
 * auth header (winning) — plus the two signature schemes, over the exact
 * jobs.body bytes. The URL is checked again here against the resolved
 * addresses and the connection is pinned to them (CURLOPT_RESOLVE), with
 * redirects off, http/https only and no proxy, so what was checked is what is
 * connected to. Secrets are unsealed into memory that is wiped after use and
 * never logged — the caller's callback.headers too, which are stored sealed
 * (a JSON string holding hp_secret_seal of the headers' JSON object); error
 * strings are fixed phrases or an HTTP status.
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "delivery.h"
#include "hp_approval.h"
#include "hp_ask.h"
#include "hp_crypto.h"
#include "hp_inbox.h"
#include "hp_json.h"
#include "hp_str.h"
#include "hp_time.h"
#include "hp_webhook.h"

static size_t dlv__on_body(char *data, size_t size, size_t n, void *ud)
{
    dlv_slot *s = ud;
    size_t len = size * n;

    (void)data;
    s->received += len;
    if (s->received > DLV_RESPONSE_CAP) {
        /* Enough: the status is known and the body is never used. Returning
         * a short count aborts the transfer (CURLE_WRITE_ERROR). */
        s->capped = true;
        return 0;
    }
    return len;
}

/* Defence in depth: whatever address libcurl is about to connect to (the
 * pinned ones, normally) is checked again; a refused one fails the attempt
 * before any byte is sent. */
static curl_socket_t dlv__open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    dlv_slot *s = ud;
    char reason[HP_ERRBUF];

    (void)purpose;
    if (!s->any_addr &&
        hp_urlpolicy_check_addr(s->policy, &a->addr, reason, sizeof(reason)) != HP_OK)
        return CURL_SOCKET_BAD;
    return socket(a->family, a->socktype, a->protocol);
}

static void dlv__wipe_free(unsigned char *p, size_t n)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, n);
    free(p);
}

/* The stored callback headers as JSON object text: *opened (to wipe) when
 * they are sealed, else NULL and the stored text serves as it is (no
 * headers, or a plain object written before sealing). False when sealed
 * headers cannot be opened with this key. */
static bool dlv__headers_open(const hp_config *cfg, const char *stored, unsigned char **opened,
                              size_t *len)
{
    json_object *s = NULL;
    char err[64];
    bool ok;

    *opened = NULL;
    *len = 0;
    if (stored == NULL || stored[0] != '"')
        return true;
    ok = hp_json_parse(stored, strlen(stored), &s, err, sizeof(err)) == HP_OK &&
         json_object_is_type(s, json_type_string) && cfg->has_secret_key &&
         hp_secret_open(cfg->secret_key, json_object_get_string(s), opened, len) == HP_OK;
    json_object_put(s);
    return ok;
}

void dlv_fail(dlv_result *res, bool permanent, const char *msg)
{
    res->ok = false;
    res->permanent = permanent;
    res->http_status = 0;
    hp_strlcpy(res->error, msg, sizeof(res->error));
}

bool dlv_resolve(const hp_urlpolicy *policy, const char *url, hp_urlpolicy_target *t,
                 dlv_result *res)
{
    char reason[HP_ERRBUF], msg[128];
    hp_err rc = hp_urlpolicy_resolve(policy, url, t, reason, sizeof(reason));

    if (rc == HP_OK)
        return true;
    /* The reason names a rule or a DNS failure, never the URL. */
    (void)hp_fmt(msg, sizeof(msg), "%s: %s", rc == HP_ERR_UNAVAILABLE ? "dns" : "url refused",
                 reason);
    dlv_fail(res, rc != HP_ERR_UNAVAILABLE, msg);
    return false;
}

void dlv_easy_new(dlv_slot *slot, const hp_config *cfg, const hp_urlpolicy *policy,
                  const hp_urlpolicy_target *t, const char *url, const char *protocols,
                  const void *body, size_t len, const char *user_agent)
{
    long connect_ms = cfg->callback_timeout_ms / 2 < 1000
                          ? (cfg->callback_timeout_ms < 1000 ? cfg->callback_timeout_ms : 1000)
                          : cfg->callback_timeout_ms / 2;

    if (!t->literal) {
        slot->resolve = curl_slist_append(NULL, t->resolve);
        if (slot->resolve == NULL)
            abort();
    }
    slot->easy = curl_easy_init();
    if (slot->easy == NULL)
        abort();
    curl_easy_setopt(slot->easy, CURLOPT_URL, url);
    curl_easy_setopt(slot->easy, CURLOPT_PROTOCOLS_STR, protocols);
    curl_easy_setopt(slot->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(slot->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(slot->easy, CURLOPT_PROXY, "");
    curl_easy_setopt(slot->easy, CURLOPT_NOSIGNAL, 1L);
    /* A private CA's servers (an internal SMTP relay or ntfy): verified
     * against the operator's bundle alone. */
    if (cfg->outbound_ca_file != NULL) {
        curl_easy_setopt(slot->easy, CURLOPT_CAINFO, cfg->outbound_ca_file);
        curl_easy_setopt(slot->easy, CURLOPT_CAPATH, NULL);
    }
    if (slot->resolve != NULL)
        curl_easy_setopt(slot->easy, CURLOPT_RESOLVE, slot->resolve);
    if (body != NULL) {
        curl_easy_setopt(slot->easy, CURLOPT_POST, 1L);
        curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(slot->easy, CURLOPT_USERAGENT, user_agent);
    curl_easy_setopt(slot->easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(slot->easy, CURLOPT_TIMEOUT_MS, (long)cfg->callback_timeout_ms);
    curl_easy_setopt(slot->easy, CURLOPT_WRITEFUNCTION, dlv__on_body);
    curl_easy_setopt(slot->easy, CURLOPT_WRITEDATA, slot);
    curl_easy_setopt(slot->easy, CURLOPT_ERRORBUFFER, slot->curl_err);
    curl_easy_setopt(slot->easy, CURLOPT_PRIVATE, slot);
    slot->policy = policy;
    slot->any_addr = t->name_allowed;
    curl_easy_setopt(slot->easy, CURLOPT_OPENSOCKETFUNCTION, dlv__open_socket);
    curl_easy_setopt(slot->easy, CURLOPT_OPENSOCKETDATA, slot);
    slot->started_ms = hp_time_mono_ms();
}

void dlv_sign(const unsigned char *key, size_t keylen, const char *webhook_id, const char *body,
              hp_webhook_sig *sig, char nonce[33])
{
    unsigned char raw[16];

    hp_rand_bytes(raw, sizeof(raw));
    hp_hex_encode(raw, sizeof(raw), nonce);
    sig->id = webhook_id;
    sig->ts = (long long)time(NULL);
    sig->nonce = nonce;
    hp_webhook_sign_std(key, keylen, sig->id, sig->ts, body, strlen(body), sig->std);
    hp_webhook_sign_hex(key, keylen, sig->ts, sig->nonce, body, strlen(body), sig->hex);
    hp_webhook_sign_holdpoint(key, keylen, sig->ts, body, strlen(body), sig->hp);
}

bool dlv_prepare(dlv_slot *slot, const hp_config *cfg, const hp_urlpolicy *policy, dlv_result *res)
{
    const hp_job *j = &slot->job;
    hp_urlpolicy_target t;
    hp_webhook_sig sig;
    unsigned char key[HP_WEBHOOK_KEY_MAX];
    unsigned char *secret = NULL, *auth = NULL, *headers = NULL;
    size_t keylen = 0, secretlen = 0, authlen = 0, headerslen = 0;
    char nonce[33];
    bool ok = false;

    memset(res, 0, sizeof(*res));
    /* Notifications: a "notify" job is expanded into channel jobs, which
     * have senders of their own. */
    if (j->kind != NULL && strcmp(j->kind, "notify") == 0)
        return dlv_fanout(slot, res);
    if (j->kind != NULL && strncmp(j->kind, "channel.", 8) == 0)
        return dlv_channel_prepare(slot, cfg, policy, res);
    if (!dlv_resolve(policy, j->url, &t, res))
        return false;
    if (j->secret_sealed == NULL || !cfg->has_secret_key ||
        hp_secret_open(cfg->secret_key, j->secret_sealed, &secret, &secretlen) != HP_OK ||
        hp_webhook_key((const char *)secret, key, &keylen) != HP_OK) {
        dlv_fail(res, true, "signing secret unavailable");
        goto out;
    }
    if (j->auth_header != NULL &&
        (j->auth_value_sealed == NULL ||
         hp_secret_open(cfg->secret_key, j->auth_value_sealed, &auth, &authlen) != HP_OK)) {
        dlv_fail(res, true, "callback auth value unavailable");
        goto out;
    }

    if (!dlv__headers_open(cfg, j->headers, &headers, &headerslen)) {
        dlv_fail(res, true, "callback headers unavailable");
        goto out;
    }

    dlv_sign(key, keylen, j->webhook_id, j->body, &sig, nonce);
    if (hp_webhook_headers(headers != NULL ? (const char *)headers : j->headers, j->auth_header,
                           (const char *)auth, &sig, &slot->headers) != HP_OK) {
        dlv_fail(res, true, "stored callback headers are invalid");
        goto out;
    }
    dlv_easy_new(slot, cfg, policy, &t, j->url, "http,https", j->body, strlen(j->body),
                 "Holdpoint-Webhook/1");
    curl_easy_setopt(slot->easy, CURLOPT_HTTPHEADER, slot->headers);
    ok = true;

out:
    dlv__wipe_free(secret, secretlen);
    dlv__wipe_free(auth, authlen);
    dlv__wipe_free(headers, headerslen);
    OPENSSL_cleanse(key, sizeof(key));
    return ok;
}

void dlv_classify(dlv_slot *slot, CURLcode code, dlv_result *res)
{
    long status = 0;
    double connect_s = 0;

    memset(res, 0, sizeof(*res));
    if (dlv_channel_classify(slot, code, res))
        return;
    curl_easy_getinfo(slot->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(slot->easy, CURLINFO_CONNECT_TIME, &connect_s);
    /* A response cut off at our cap still has its status. */
    if ((code == CURLE_OK || (code == CURLE_WRITE_ERROR && slot->capped)) && status > 0) {
        res->http_status = (int)status;
        if (status >= 200 && status < 300) {
            res->ok = true;
            return;
        }
        /* A push service's 404 or 410: the subscription is gone for good
         * (RFC 8030 section 7.3); it is removed, not retried. */
        if (slot->job.kind != NULL && strcmp(slot->job.kind, "channel.webpush") == 0 &&
            (status == 404 || status == 410)) {
            res->gone = true;
            res->permanent = true;
            (void)hp_fmt(res->error, sizeof(res->error), "http %ld (subscription expired)", status);
            return;
        }
        if (status >= 300 && status < 400)
            (void)hp_fmt(res->error, sizeof(res->error), "http %ld (redirects are not followed)",
                         status);
        else
            (void)hp_fmt(res->error, sizeof(res->error), "http %ld", status);
        return;
    }
    res->http_status = status > 0 ? (int)status : 0;
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        hp_strlcpy(res->error, connect_s > 0 ? "timeout" : "connect timeout", sizeof(res->error));
        break;
    case CURLE_COULDNT_CONNECT:
        hp_strlcpy(res->error, "could not connect", sizeof(res->error));
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        hp_strlcpy(res->error, "dns: could not resolve host", sizeof(res->error));
        break;
    case CURLE_GOT_NOTHING:
        hp_strlcpy(res->error, "empty reply", sizeof(res->error));
        break;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
        hp_strlcpy(res->error, "connection reset", sizeof(res->error));
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        hp_strlcpy(res->error, "tls error", sizeof(res->error));
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        hp_strlcpy(res->error, "unsupported protocol", sizeof(res->error));
        res->permanent = true;
        break;
    default:
        /* curl's fixed description of the code; never the error buffer,
         * which can quote the server. */
        (void)hp_fmt(res->error, sizeof(res->error), "transfer failed: %s",
                     curl_easy_strerror(code));
        break;
    }
}

void dlv_slot_clear(dlv_slot *slot)
{
    if (slot->easy != NULL)
        curl_easy_cleanup(slot->easy);
    curl_slist_free_all(slot->headers);
    curl_slist_free_all(slot->resolve);
    curl_slist_free_all(slot->rcpt);
    free(slot->owned_body);
    hp_pool_free(slot->pool);
    memset(slot, 0, sizeof(*slot));
}

bool dlv_render_body(hp_pool *pool, hp_job *j)
{
    json_object *o = NULL;

    if (j->body != NULL)
        return true;
    if (j->approval != NULL && strcmp(j->kind, HP_ASK_CALLBACK_JOB) == 0) {
        o = hp_ask_callback_json(j->approval);
    } else if (j->approval != NULL) {
        o = hp_approval_result_json(j->approval);
    } else if (j->response != NULL) {
        const hp_inbox_response *x = j->response;
        hp_inbox_record rec = {.team_id = x->team_id,
                               .agent_id = x->agent_id,
                               .session_id = x->session_id,
                               .notification_id = x->notification_id,
                               .approval_id = x->approval_id,
                               .kind = x->kind,
                               .action = x->action,
                               .button_index = x->button_index,
                               .button_label = x->button_label,
                               .decision_key = x->decision_key,
                               .response_text = x->response_text,
                               .is_timeout_default = x->is_timeout_default,
                               .client_event_id = x->client_event_id};
        unsigned char d[32];
        char nonce[33], seed[HP_UUID_LEN + 16];
        /* The same on every attempt: the time it was recorded, and a nonce
         * derived from its id (unique per response, like a random one). */
        (void)hp_fmt(seed, sizeof(seed), "hp-nonce:%s", x->id);
        hp_sha256(seed, strlen(seed), d);
        hp_hex_encode(d, 16, nonce);
        o = hp_inbox_webhook_body(&rec, x->id, (long long)(x->recorded_at / 1000000), nonce);
    }
    if (o == NULL)
        return false;
    j->body = hp_pool_strdup(pool, hp_json_text(o));
    json_object_put(o);
    return true;
}
