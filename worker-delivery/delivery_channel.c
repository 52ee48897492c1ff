/*
 * delivery_channel: the senders of channel jobs. Each job's body was
 * rendered when its notify job was expanded; here the channel's secrets are
 * unsealed (into memory wiped after use), the destination is checked again
 * against the outbound rules at its resolved address and pinned, and the
 * request of the kind is built on a libcurl easy handle:
 *
 *   channel.ntfy          POST the JSON publish body to the server, with
 *                         "Authorization: Bearer <token>" when one is set
 *   channel.slack         POST Block Kit JSON to the (sealed) webhook URL
 *   channel.slack_update  POST the decided message to an interaction's
 *                         response_url
 *   channel.webhook       POST the event, signed with the channel's secret
 *                         (Standard Webhooks and seed 004 headers)
 *   channel.email         SMTP (STARTTLS required, implicit TLS, or plain)
 *                         with AUTH, one recipient per job
 *   channel.webpush       RFC 8030 POST of the RFC 8291 ciphertext with a
 *                         VAPID (RFC 8292) Authorization header
 *
 * A job whose approval closed before it was sent is skipped, not sent. The
 * VAPID key pair is read (created on first use) once per process.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "delivery.h"
#include "hp_channel.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_link.h"
#include "hp_store_channel.h"
#include "hp_str.h"
#include "hp_webhook.h"
#include "hp_webpush.h"

static dlv_chctx dlv__ctx;
static pthread_mutex_t dlv__vapid_mu = PTHREAD_MUTEX_INITIALIZER;
static hp_webpush_vapid *dlv__vapid;

void dlv_channels_init(const hp_config *cfg, hp_db *db, const char *worker)
{
    dlv__ctx.cfg = cfg;
    dlv__ctx.db = db;
    dlv__ctx.worker = worker;
    if (cfg->has_secret_key)
        hp_link_key(cfg->secret_key, dlv__ctx.link_key);
}

void dlv_channels_deinit(void)
{
    pthread_mutex_lock(&dlv__vapid_mu);
    hp_webpush_vapid_free(dlv__vapid);
    dlv__vapid = NULL;
    pthread_mutex_unlock(&dlv__vapid_mu);
    OPENSSL_cleanse(dlv__ctx.link_key, sizeof(dlv__ctx.link_key));
}

const dlv_chctx *dlv_channels_ctx(void)
{
    return &dlv__ctx;
}

/* The VAPID key pair, loaded once (and created on first use by any process). */
static const hp_webpush_vapid *dlv__vapid_get(char *err, size_t errcap)
{
    const hp_webpush_vapid *v;

    pthread_mutex_lock(&dlv__vapid_mu);
    if (dlv__vapid == NULL) {
        hp_pool *pool = hp_pool_new();
        hp_dbconn *c = NULL;
        const char *pub = NULL, *pem = NULL;
        if (hp_db_acquire(dlv__ctx.db, &c, err, errcap) == HP_OK &&
            hp_store_vapid_get(c, pool, dlv__ctx.cfg->secret_key, &pub, &pem, err, errcap) ==
                HP_OK &&
            hp_webpush_vapid_load(pem, &dlv__vapid) != HP_OK)
            hp_err_set(err, errcap, "the stored vapid key is not a p-256 key");
        hp_db_release(dlv__ctx.db, c);
        hp_pool_free(pool);
    }
    v = dlv__vapid;
    pthread_mutex_unlock(&dlv__vapid_mu);
    return v;
}

/* The channel's secrets as JSON (new reference), or an empty object when it
 * has none; NULL when they cannot be unsealed. */
static json_object *dlv__secrets(const hp_job *j)
{
    unsigned char *plain = NULL;
    size_t n = 0;
    json_object *o = NULL;
    char err[64];

    if (j->channel_secret_sealed == NULL)
        return json_object_new_object();
    if (!dlv__ctx.cfg->has_secret_key ||
        hp_secret_open(dlv__ctx.cfg->secret_key, j->channel_secret_sealed, &plain, &n) != HP_OK)
        return NULL;
    if (hp_json_parse((const char *)plain, n, &o, err, sizeof(err)) != HP_OK ||
        !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    OPENSSL_cleanse(plain, n);
    free(plain);
    return o;
}

/* Frees a secrets object, wiping its strings. */
static void dlv__secrets_free(json_object *o)
{
    if (o == NULL)
        return;
    json_object_object_foreach(o, k, v)
    {
        (void)k;
        if (json_object_is_type(v, json_type_string)) {
            char *s = (char *)json_object_get_string(v);
            OPENSSL_cleanse(s, strlen(s));
        }
    }
    json_object_put(o);
}

static struct curl_slist *dlv__header(struct curl_slist *l, const char *name, const char *value)
{
    char line[1024];
    struct curl_slist *n;

    if (!hp_fmt(line, sizeof(line), "%s: %s", name, value))
        line[0] = '\0';
    n = curl_slist_append(l, line);
    OPENSSL_cleanse(line, sizeof(line));
    if (n == NULL)
        abort();
    return n;
}

/* A JSON POST to url: ntfy, Slack and Slack updates. bearer (may be NULL)
 * becomes the Authorization header. */
static bool dlv__json_post(dlv_slot *slot, const hp_config *cfg, const hp_urlpolicy *policy,
                           const char *url, const char *bearer, dlv_result *res)
{
    hp_urlpolicy_target t;

    if (url == NULL || url[0] == '\0') {
        dlv_fail(res, true, "channel url unavailable");
        return false;
    }
    if (!dlv_resolve(policy, url, &t, res))
        return false;
    slot->headers = dlv__header(NULL, "Content-Type", "application/json");
    if (bearer != NULL) {
        char value[600];
        (void)hp_fmt(value, sizeof(value), "Bearer %s", bearer);
        slot->headers = dlv__header(slot->headers, "Authorization", value);
        OPENSSL_cleanse(value, sizeof(value));
    }
    dlv_easy_new(slot, cfg, policy, &t, url, "http,https", slot->job.body, strlen(slot->job.body),
                 "Holdpoint/1");
    curl_easy_setopt(slot->easy, CURLOPT_HTTPHEADER, slot->headers);
    return true;
}

/* The team webhook: the event signed like a callback, with the channel's
 * own secret. */
static bool dlv__webhook(dlv_slot *slot, const hp_config *cfg, const hp_urlpolicy *policy,
                         json_object *sec, dlv_result *res)
{
    const hp_job *j = &slot->job;
    const char *secret = hp_json_str(sec, "secret");
    unsigned char key[HP_WEBHOOK_KEY_MAX];
    size_t keylen = 0;
    char nonce[33];
    hp_webhook_sig sig;
    hp_urlpolicy_target t;
    bool ok = false;

    if (secret == NULL || hp_webhook_key(secret, key, &keylen) != HP_OK) {
        dlv_fail(res, true, "signing secret unavailable");
        goto out;
    }
    if (!dlv_resolve(policy, j->url, &t, res))
        goto out;
    dlv_sign(key, keylen, j->webhook_id, j->body, &sig, nonce);
    if (hp_webhook_headers(NULL, NULL, NULL, &sig, &slot->headers) != HP_OK) {
        dlv_fail(res, true, "webhook headers");
        goto out;
    }
    dlv_easy_new(slot, cfg, policy, &t, j->url, "http,https", j->body, strlen(j->body),
                 "Holdpoint-Webhook/1");
    curl_easy_setopt(slot->easy, CURLOPT_HTTPHEADER, slot->headers);
    ok = true;
out:
    OPENSSL_cleanse(key, sizeof(key));
    return ok;
}

/* SMTP upload: hands libcurl the stored message. */
static size_t dlv__mail_read(char *buf, size_t size, size_t n, void *ud)
{
    dlv_slot *s = ud;
    size_t len = strlen(s->job.body), left = len - s->upload_at, want = size * n;

    if (want > left)
        want = left;
    memcpy(buf, s->job.body + s->upload_at, want);
    s->upload_at += want;
    return want;
}

static bool dlv__email(dlv_slot *slot, const hp_config *cfg, const hp_urlpolicy *policy,
                       json_object *conf, json_object *sec, dlv_result *res)
{
    const hp_job *j = &slot->job;
    const char *host = hp_json_str(conf, "host"), *tls = hp_json_str(conf, "tls");
    const char *user = hp_json_str(conf, "username"), *from = hp_json_str(conf, "from");
    const char *pass = hp_json_str(sec, "password");
    const char *to = j->url != NULL && hp_str_startswith(j->url, "mailto:") ? j->url + 7 : NULL;
    int64_t port = 0;
    char check[320], url[320], addr[HP_CHANNEL_EMAIL_MAX + 3];
    hp_urlpolicy_target t;
    bool v6;

    if (host == NULL || from == NULL || tls == NULL || !hp_json_int(conf, "port", &port) ||
        to == NULL || !hp_channel_email_ok(to) || !hp_channel_email_ok(from) ||
        !hp_channel_smtp_check_url(host, (int)port, check, sizeof(check))) {
        dlv_fail(res, true, "email settings unusable");
        return false;
    }
    if (!dlv_resolve(policy, check, &t, res))
        return false;
    v6 = strchr(host, ':') != NULL;
    (void)hp_fmt(url, sizeof(url), "%s://%s%s%s:%d", strcmp(tls, "tls") == 0 ? "smtps" : "smtp",
                 v6 ? "[" : "", host, v6 ? "]" : "", (int)port);
    dlv_easy_new(slot, cfg, policy, &t, url, "smtp,smtps", NULL, 0, "Holdpoint/1");
    /* STARTTLS is required, never opportunistic: a server that does not
     * offer it gets nothing rather than the message in clear. */
    /* A fresh connection per message, closed after it: a connection opened
     * for another channel (other credentials, another TLS requirement) is
     * never reused for this one. */
    curl_easy_setopt(slot->easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(slot->easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(slot->easy, CURLOPT_USE_SSL,
                     strcmp(tls, "none") == 0 ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
    (void)hp_fmt(addr, sizeof(addr), "<%s>", from);
    curl_easy_setopt(slot->easy, CURLOPT_MAIL_FROM, addr);
    (void)hp_fmt(addr, sizeof(addr), "<%s>", to);
    slot->rcpt = curl_slist_append(NULL, addr);
    if (slot->rcpt == NULL)
        abort();
    curl_easy_setopt(slot->easy, CURLOPT_MAIL_RCPT, slot->rcpt);
    if (user != NULL) {
        curl_easy_setopt(slot->easy, CURLOPT_USERNAME, user);
        curl_easy_setopt(slot->easy, CURLOPT_PASSWORD, pass != NULL ? pass : "");
    }
    curl_easy_setopt(slot->easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(slot->easy, CURLOPT_READFUNCTION, dlv__mail_read);
    curl_easy_setopt(slot->easy, CURLOPT_READDATA, slot);
    curl_easy_setopt(slot->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)strlen(j->body));
    return true;
}

static bool dlv__webpush(dlv_slot *slot, const hp_config *cfg, const hp_urlpolicy *policy,
                         dlv_result *res)
{
    const hp_job *j = &slot->job;
    const hp_webpush_vapid *v;
    unsigned char *auth = NULL;
    size_t authlen = 0, bodylen = 0;
    char *authz = NULL, err[HP_ERRBUF] = "";
    json_object *h = NULL;
    const char *ttl = "86400", *topic = NULL;
    hp_urlpolicy_target t;
    bool ok = false;

    if (j->sub_p256dh == NULL || j->sub_auth_sealed == NULL) {
        dlv_fail(res, true, "subscription removed");
        return false;
    }
    if (!dlv_resolve(policy, j->url, &t, res))
        return false;
    v = dlv__vapid_get(err, sizeof(err));
    if (v == NULL) {
        dlv_fail(res, false, "vapid key unavailable");
        return false;
    }
    if (hp_secret_open(cfg->secret_key, j->sub_auth_sealed, &auth, &authlen) != HP_OK) {
        dlv_fail(res, true, "subscription secret unavailable");
        return false;
    }
    if (hp_webpush_encrypt(j->sub_p256dh, (const char *)auth, j->body, strlen(j->body),
                           &slot->owned_body, &bodylen) != HP_OK) {
        dlv_fail(res, true, "subscription keys unusable");
        goto out;
    }
    if (hp_webpush_vapid_header(v, j->url,
                                cfg->vapid_subject != NULL ? cfg->vapid_subject : cfg->public_url,
                                (int64_t)time(NULL) + 12 * 3600, &authz) != HP_OK) {
        dlv_fail(res, true, "endpoint is not an http(s) url");
        goto out;
    }
    if (j->headers != NULL &&
        hp_json_parse(j->headers, strlen(j->headers), &h, err, sizeof(err)) == HP_OK) {
        if (hp_json_str(h, "TTL") != NULL)
            ttl = hp_json_str(h, "TTL");
        topic = hp_json_str(h, "Topic");
    }
    slot->headers = dlv__header(NULL, "Content-Type", "application/octet-stream");
    slot->headers = dlv__header(slot->headers, "Content-Encoding", "aes128gcm");
    slot->headers = dlv__header(slot->headers, "TTL", ttl);
    slot->headers = dlv__header(slot->headers, "Urgency", "high");
    if (topic != NULL)
        slot->headers = dlv__header(slot->headers, "Topic", topic);
    slot->headers = dlv__header(slot->headers, "Authorization", authz);
    dlv_easy_new(slot, cfg, policy, &t, j->url, "http,https", slot->owned_body, bodylen,
                 "Holdpoint/1");
    curl_easy_setopt(slot->easy, CURLOPT_HTTPHEADER, slot->headers);
    ok = true;
out:
    json_object_put(h);
    free(authz);
    if (auth != NULL) {
        OPENSSL_cleanse(auth, authlen);
        free(auth);
    }
    return ok;
}

bool dlv_channel_prepare(dlv_slot *slot, const hp_config *cfg, const hp_urlpolicy *policy,
                         dlv_result *res)
{
    const hp_job *j = &slot->job;
    json_object *sec = NULL, *conf = NULL;
    char err[64];
    bool ok = false;

    if (j->approval_closed) {
        res->skipped = true;
        hp_strlcpy(res->error, "skipped: the approval is no longer pending", sizeof(res->error));
        return false;
    }
    if (j->channel_id == NULL) {
        dlv_fail(res, true, "channel removed");
        return false;
    }
    if (strcmp(j->kind, "channel.webpush") == 0)
        return dlv__webpush(slot, cfg, policy, res);
    sec = dlv__secrets(j);
    if (sec == NULL) {
        dlv_fail(res, true, "channel secrets unavailable");
        return false;
    }
    if (j->channel_config == NULL || hp_json_parse(j->channel_config, strlen(j->channel_config),
                                                   &conf, err, sizeof(err)) != HP_OK) {
        dlv_fail(res, true, "channel settings unusable");
        goto out;
    }
    if (strcmp(j->kind, "channel.ntfy") == 0)
        ok = dlv__json_post(slot, cfg, policy, j->url, hp_json_str(sec, "token"), res);
    else if (strcmp(j->kind, "channel.slack") == 0)
        ok = dlv__json_post(slot, cfg, policy, hp_json_str(sec, "webhook_url"), NULL, res);
    else if (strcmp(j->kind, "channel.slack_update") == 0)
        ok = dlv__json_post(slot, cfg, policy, j->url, NULL, res);
    else if (strcmp(j->kind, "channel.webhook") == 0)
        ok = dlv__webhook(slot, cfg, policy, sec, res);
    else if (strcmp(j->kind, "channel.email") == 0)
        ok = dlv__email(slot, cfg, policy, conf, sec, res);
    else
        dlv_fail(res, true, "unknown channel job kind");
out:
    json_object_put(conf);
    dlv__secrets_free(sec);
    return ok;
}

bool dlv_channel_classify(dlv_slot *slot, CURLcode code, dlv_result *res)
{
    long status = 0;

    if (slot->job.kind == NULL || strcmp(slot->job.kind, "channel.email") != 0)
        return false;
    curl_easy_getinfo(slot->easy, CURLINFO_RESPONSE_CODE, &status);
    res->http_status = 0; /* an SMTP reply code is not an HTTP status */
    switch (code) {
    case CURLE_OK:
        res->ok = true;
        return true;
    case CURLE_LOGIN_DENIED:
        hp_strlcpy(res->error, "smtp: authentication failed", sizeof(res->error));
        return true;
    case CURLE_USE_SSL_FAILED:
        hp_strlcpy(res->error, "smtp: the server does not offer STARTTLS", sizeof(res->error));
        return true;
    case CURLE_COULDNT_CONNECT:
        hp_strlcpy(res->error, "smtp: could not connect", sizeof(res->error));
        return true;
    case CURLE_OPERATION_TIMEDOUT:
        hp_strlcpy(res->error, "smtp: timeout", sizeof(res->error));
        return true;
    default:
        if (status >= 400)
            (void)hp_fmt(res->error, sizeof(res->error), "smtp: %ld reply", status);
        else
            (void)hp_fmt(res->error, sizeof(res->error), "smtp: %s", curl_easy_strerror(code));
        return true;
    }
}
