/*
 * hp_channel: settings checks per channel kind (see hp_channel.h for the
 * list). Each kind names its allowed settings; every value is type-checked,
 * bounded and, for destinations, run through the outbound URL policy, and the
 * result is split into the clear and the sealed half. Secrets are copied
 * only into the secret object, never into an error message.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "hp_channel.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_keys.h"
#include "hp_str.h"

static const char *const hp__kinds[] = {"webpush", "ntfy", "slack", "email", "webhook", NULL};

bool hp_channel_kind_ok(const char *kind)
{
    for (size_t i = 0; kind != NULL && hp__kinds[i] != NULL; i++)
        if (strcmp(kind, hp__kinds[i]) == 0)
            return true;
    return false;
}

bool hp_channel_email_ok(const char *s)
{
    const char *at;

    if (s == NULL || strlen(s) > HP_CHANNEL_EMAIL_MAX || (at = strchr(s, '@')) == NULL || at == s ||
        at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("<>,;\"()[]\\:", *p) != NULL)
            return false;
    return true;
}

bool hp_channel_smtp_check_url(const char *host, int port, char *out, size_t cap)
{
    bool v6 = strchr(host, ':') != NULL;
    return hp_fmt(out, cap, "http://%s%s%s:%d/", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

/* ---- setting readers -------------------------------------------------------- */

/* A string setting: absent is fine unless required; "" counts as absent. */
static hp_err hp__str(json_object *s, const char *key, bool required, size_t max, const char **out,
                      char *err, size_t errcap)
{
    json_object *v = NULL;
    const char *str;

    *out = NULL;
    if (!json_object_object_get_ex(s, key, &v) || v == NULL) {
        if (required) {
            hp_err_set(err, errcap, "%s: required", key);
            return HP_ERR_INVALID_PAYLOAD;
        }
        return HP_OK;
    }
    if (!json_object_is_type(v, json_type_string)) {
        hp_err_set(err, errcap, "%s: must be a string", key);
        return HP_ERR_INVALID_PAYLOAD;
    }
    str = json_object_get_string(v);
    if (str[0] == '\0') {
        if (required) {
            hp_err_set(err, errcap, "%s: required", key);
            return HP_ERR_INVALID_PAYLOAD;
        }
        return HP_OK;
    }
    if (strlen(str) > max || hp_utf8_len(str, strlen(str)) < 0) {
        hp_err_set(err, errcap, "%s: must be valid UTF-8 of at most %zu bytes", key, max);
        return HP_ERR_INVALID_PAYLOAD;
    }
    for (const unsigned char *p = (const unsigned char *)str; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            hp_err_set(err, errcap, "%s: must not contain control characters", key);
            return HP_ERR_INVALID_PAYLOAD;
        }
    *out = str;
    return HP_OK;
}

/* An integer setting (a JSON number or a decimal string) in [min, max]. */
static hp_err hp__int(json_object *s, const char *key, long long min, long long max, long long dflt,
                      long long *out, char *err, size_t errcap)
{
    json_object *v = NULL;
    long long x;

    *out = dflt;
    if (!json_object_object_get_ex(s, key, &v) || v == NULL)
        return HP_OK;
    if (json_object_is_type(v, json_type_int)) {
        x = json_object_get_int64(v);
    } else if (!json_object_is_type(v, json_type_string) ||
               !hp_parse_ll(json_object_get_string(v), min, max, &x)) {
        hp_err_set(err, errcap, "%s: must be an integer from %lld to %lld", key, min, max);
        return HP_ERR_INVALID_PAYLOAD;
    }
    if (x < min || x > max) {
        hp_err_set(err, errcap, "%s: must be an integer from %lld to %lld", key, min, max);
        return HP_ERR_INVALID_PAYLOAD;
    }
    *out = x;
    return HP_OK;
}

/* A list setting: a JSON array of strings, or one comma-separated string
 * (what a command-line flag gives). *out is a new array (never NULL). Each
 * item must pass ok (when not NULL). */
static hp_err hp__list(json_object *s, const char *key, bool (*ok)(const char *), const char *what,
                       json_object **out, char *err, size_t errcap)
{
    json_object *v = NULL, *arr = json_object_new_array();

    *out = arr;
    if (!json_object_object_get_ex(s, key, &v) || v == NULL)
        return HP_OK;
    if (json_object_is_type(v, json_type_string)) {
        const char *p = json_object_get_string(v);
        while (*p != '\0') {
            size_t n = strcspn(p, ",");
            while (n > 0 && *p == ' ') {
                p++;
                n--;
            }
            size_t m = n;
            while (m > 0 && p[m - 1] == ' ')
                m--;
            if (m > 0)
                json_object_array_add(arr, json_object_new_string_len(p, (int)m));
            p += n;
            if (*p == ',')
                p++;
        }
    } else if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *it = json_object_array_get_idx(v, i);
            if (!json_object_is_type(it, json_type_string)) {
                hp_err_set(err, errcap, "%s: must be a list of strings", key);
                return HP_ERR_INVALID_PAYLOAD;
            }
            json_object_array_add(arr, json_object_get(it));
        }
    } else {
        hp_err_set(err, errcap, "%s: must be a list of strings", key);
        return HP_ERR_INVALID_PAYLOAD;
    }
    if (json_object_array_length(arr) > HP_CHANNEL_LIST_MAX) {
        hp_err_set(err, errcap, "%s: at most %d items", key, HP_CHANNEL_LIST_MAX);
        return HP_ERR_INVALID_PAYLOAD;
    }
    for (size_t i = 0; ok != NULL && i < json_object_array_length(arr); i++) {
        const char *it = json_object_get_string(json_object_array_get_idx(arr, i));
        if (!ok(it)) {
            /* Names the position, not the value: a list may hold addresses. */
            hp_err_set(err, errcap, "%s: item %zu is not %s", key, i + 1, what);
            return HP_ERR_INVALID_PAYLOAD;
        }
    }
    return HP_OK;
}

/* A destination URL: syntax and the outbound rules. */
static hp_err hp__url(const hp_urlpolicy *policy, const char *key, const char *url, char *err,
                      size_t errcap)
{
    char reason[HP_ERRBUF];

    if (!hp_str_startswith(url, "http://") && !hp_str_startswith(url, "https://")) {
        hp_err_set(err, errcap, "%s: must be an http:// or https:// URL", key);
        return HP_ERR_INVALID_PAYLOAD;
    }
    if (policy != NULL && hp_urlpolicy_check_url(policy, url, reason, sizeof(reason)) != HP_OK) {
        hp_err_set(err, errcap, "%s: %s", key, reason);
        return HP_ERR_INVALID_PAYLOAD;
    }
    if (policy == NULL && strlen(url) > HP_URLPOLICY_URL_MAX) {
        hp_err_set(err, errcap, "%s: longer than %d bytes", key, HP_URLPOLICY_URL_MAX);
        return HP_ERR_INVALID_PAYLOAD;
    }
    return HP_OK;
}

static bool hp__topic_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > HP_CHANNEL_TOPIC_MAX)
        return false;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') ||
              *t == '-' || *t == '_'))
            return false;
    return true;
}

static bool hp__tag_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 40)
        return false;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9') || *t == '_' || *t == '-' ||
              *t == '+'))
            return false;
    return true;
}

static bool hp__host_ok(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n > 253)
        return false;
    for (; *h; h++)
        if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') || (*h >= '0' && *h <= '9') ||
              *h == '-' || *h == '.' || *h == ':'))
            return false;
    return true;
}

/* Refuses settings the kind does not know (allowed: NULL-terminated). */
static hp_err hp__only(json_object *s, const char *kind, const char *const *allowed, char *err,
                       size_t errcap)
{
    json_object_object_foreach(s, k, v)
    {
        bool known = false;
        (void)v;
        for (size_t i = 0; allowed[i] != NULL && !known; i++)
            known = strcmp(k, allowed[i]) == 0;
        if (!known) {
            hp_err_set(err, errcap, "%.64s: not a setting of the %s kind", k, kind);
            return HP_ERR_INVALID_PAYLOAD;
        }
    }
    return HP_OK;
}

/* ---- kinds ------------------------------------------------------------------- */

static hp_err hp__ntfy(json_object *s, const hp_urlpolicy *policy, json_object *cfg,
                       json_object *sec, char *err, size_t errcap)
{
    static const char *const allowed[] = {"url", "topic", "token", "priority", "tags", NULL};
    const char *url, *topic, *token;
    long long prio;
    json_object *tags = NULL;
    hp_err rc;

    if ((rc = hp__only(s, "ntfy", allowed, err, errcap)) != HP_OK ||
        (rc = hp__str(s, "url", true, HP_URLPOLICY_URL_MAX, &url, err, errcap)) != HP_OK ||
        (rc = hp__url(policy, "url", url, err, errcap)) != HP_OK ||
        (rc = hp__str(s, "topic", true, 256, &topic, err, errcap)) != HP_OK ||
        (rc = hp__str(s, "token", false, 512, &token, err, errcap)) != HP_OK ||
        (rc = hp__int(s, "priority", 1, 5, 4, &prio, err, errcap)) != HP_OK ||
        (rc = hp__list(s, "tags", hp__tag_ok, "a tag (a-z, 0-9, _ - +)", &tags, err, errcap)) !=
            HP_OK) {
        json_object_put(tags);
        return rc;
    }
    if (!hp__topic_ok(topic)) {
        json_object_put(tags);
        hp_err_set(err, errcap, "topic: 1 to %d of A-Z a-z 0-9 _ -", HP_CHANNEL_TOPIC_MAX);
        return HP_ERR_INVALID_PAYLOAD;
    }
    hp_json_set_str(cfg, "url", url);
    hp_json_set_str(cfg, "topic", topic);
    json_object_object_add(cfg, "priority", json_object_new_int((int)prio));
    json_object_object_add(cfg, "tags", tags);
    if (token != NULL)
        hp_json_set_str(sec, "token", token);
    return HP_OK;
}

static hp_err hp__slack(json_object *s, const hp_urlpolicy *policy, json_object *cfg,
                        json_object *sec, char *err, size_t errcap)
{
    static const char *const allowed[] = {"webhook_url", "signing_secret", NULL};
    const char *url, *signing;
    hp_err rc;

    if ((rc = hp__only(s, "slack", allowed, err, errcap)) != HP_OK ||
        (rc = hp__str(s, "webhook_url", true, HP_URLPOLICY_URL_MAX, &url, err, errcap)) != HP_OK ||
        (rc = hp__str(s, "signing_secret", false, 256, &signing, err, errcap)) != HP_OK)
        return rc;
    /* The webhook URL is a credential (anyone holding it can post), so only
     * its rule is named on refusal and it is stored sealed. */
    if ((rc = hp__url(policy, "webhook_url", url, err, errcap)) != HP_OK)
        return rc;
    hp_json_set_str(sec, "webhook_url", url);
    if (signing != NULL)
        hp_json_set_str(sec, "signing_secret", signing);
    json_object_object_add(cfg, "interactive", json_object_new_boolean(signing != NULL));
    return HP_OK;
}

static hp_err hp__email(json_object *s, const hp_urlpolicy *policy, json_object *cfg,
                        json_object *sec, char *err, size_t errcap)
{
    static const char *const allowed[] = {"host",     "port", "tls", "username",
                                          "password", "from", "to",  NULL};
    const char *host, *tls, *user, *pass, *from;
    long long port;
    json_object *to = NULL;
    char url[320];
    hp_err rc;

    if ((rc = hp__only(s, "email", allowed, err, errcap)) != HP_OK ||
        (rc = hp__str(s, "host", true, 253, &host, err, errcap)) != HP_OK ||
        (rc = hp__int(s, "port", 1, 65535, 587, &port, err, errcap)) != HP_OK ||
        (rc = hp__str(s, "tls", false, 16, &tls, err, errcap)) != HP_OK ||
        (rc = hp__str(s, "username", false, 256, &user, err, errcap)) != HP_OK ||
        (rc = hp__str(s, "password", false, 1024, &pass, err, errcap)) != HP_OK ||
        (rc = hp__str(s, "from", true, HP_CHANNEL_EMAIL_MAX, &from, err, errcap)) != HP_OK ||
        (rc = hp__list(s, "to", hp_channel_email_ok, "a mail address", &to, err, errcap)) !=
            HP_OK) {
        json_object_put(to);
        return rc;
    }
    rc = HP_ERR_INVALID_PAYLOAD;
    if (!hp__host_ok(host)) {
        hp_err_set(err, errcap, "host: must be a host name or IP address");
        goto fail;
    }
    if (tls == NULL)
        tls = "starttls";
    if (strcmp(tls, "starttls") != 0 && strcmp(tls, "tls") != 0 && strcmp(tls, "none") != 0) {
        hp_err_set(err, errcap, "tls: must be starttls, tls or none");
        goto fail;
    }
    if (pass != NULL && user == NULL) {
        hp_err_set(err, errcap, "password: needs a username");
        goto fail;
    }
    if (!hp_channel_email_ok(from)) {
        hp_err_set(err, errcap, "from: must be a plain address like holdpoint@example.com");
        goto fail;
    }
    if (!hp_channel_smtp_check_url(host, (int)port, url, sizeof(url)) ||
        hp__url(policy, "host", url, err, errcap) != HP_OK)
        goto fail;
    hp_json_set_str(cfg, "host", host);
    json_object_object_add(cfg, "port", json_object_new_int((int)port));
    hp_json_set_str(cfg, "tls", tls);
    if (user != NULL)
        hp_json_set_str(cfg, "username", user);
    hp_json_set_str(cfg, "from", from);
    json_object_object_add(cfg, "to", to);
    if (pass != NULL)
        hp_json_set_str(sec, "password", pass);
    return HP_OK;
fail:
    json_object_put(to);
    return rc;
}

static hp_err hp__webhook(json_object *s, const hp_urlpolicy *policy, json_object *cfg,
                          json_object *sec, char **shown_once, char *err, size_t errcap)
{
    static const char *const allowed[] = {"url", NULL};
    const char *url;
    hp_err rc;

    if ((rc = hp__only(s, "webhook", allowed, err, errcap)) != HP_OK ||
        (rc = hp__str(s, "url", true, HP_URLPOLICY_URL_MAX, &url, err, errcap)) != HP_OK ||
        (rc = hp__url(policy, "url", url, err, errcap)) != HP_OK)
        return rc;
    hp_json_set_str(cfg, "url", url);
    *shown_once = hp_key_webhook_secret_new();
    hp_json_set_str(sec, "secret", *shown_once);
    return HP_OK;
}

static hp_err hp__webpush(json_object *s, json_object *cfg, char *err, size_t errcap)
{
    static const char *const allowed[] = {"users", NULL};
    json_object *users = NULL;
    hp_err rc;

    if ((rc = hp__only(s, "webpush", allowed, err, errcap)) != HP_OK ||
        (rc = hp__list(s, "users", hp_uuid_valid, "a user id", &users, err, errcap)) != HP_OK) {
        json_object_put(users);
        return rc;
    }
    json_object_object_add(cfg, "users", users);
    return HP_OK;
}

hp_err hp_channel_prepare(const char *kind, json_object *settings, const hp_urlpolicy *policy,
                          json_object **config, json_object **secret, char **shown_once, char *err,
                          size_t errcap)
{
    json_object *cfg = json_object_new_object(), *sec = json_object_new_object();
    hp_err rc;

    *config = NULL;
    *secret = NULL;
    *shown_once = NULL;
    if (!hp_channel_kind_ok(kind)) {
        hp_err_set(err, errcap, "kind: must be one of webpush, ntfy, slack, email, webhook");
        rc = HP_ERR_INVALID_PAYLOAD;
    } else if (settings == NULL || !json_object_is_type(settings, json_type_object)) {
        hp_err_set(err, errcap, "settings: must be an object");
        rc = HP_ERR_INVALID_PAYLOAD;
    } else if (strcmp(kind, "ntfy") == 0) {
        rc = hp__ntfy(settings, policy, cfg, sec, err, errcap);
    } else if (strcmp(kind, "slack") == 0) {
        rc = hp__slack(settings, policy, cfg, sec, err, errcap);
    } else if (strcmp(kind, "email") == 0) {
        rc = hp__email(settings, policy, cfg, sec, err, errcap);
    } else if (strcmp(kind, "webhook") == 0) {
        rc = hp__webhook(settings, policy, cfg, sec, shown_once, err, errcap);
    } else {
        rc = hp__webpush(settings, cfg, err, errcap);
    }
    if (rc != HP_OK) {
        json_object_put(cfg);
        json_object_put(sec);
        if (*shown_once != NULL) {
            OPENSSL_cleanse(*shown_once, strlen(*shown_once));
            free(*shown_once);
            *shown_once = NULL;
        }
        return rc;
    }
    *config = cfg;
    if (json_object_object_length(sec) > 0)
        *secret = sec;
    else
        json_object_put(sec);
    return HP_OK;
}

bool hp_channel_delay_parse(const char *s, int *seconds)
{
    char num[16];
    size_t n;
    long long v, mult = 60;

    if (s == NULL)
        return false;
    if (strcmp(s, "off") == 0 || strcmp(s, "0") == 0) {
        *seconds = 0;
        return true;
    }
    n = strlen(s);
    if (n == 0 || n >= sizeof(num))
        return false;
    memcpy(num, s, n + 1);
    switch (num[n - 1]) {
    case 's':
        mult = 1;
        num[--n] = '\0';
        break;
    case 'm':
        mult = 60;
        num[--n] = '\0';
        break;
    case 'h':
        mult = 3600;
        num[--n] = '\0';
        break;
    case 'd':
        mult = 86400;
        num[--n] = '\0';
        break;
    default:
        break;
    }
    if (!hp_parse_ll(num, 1, 604800, &v) || v * mult > 604800)
        return false;
    *seconds = (int)(v * mult);
    return true;
}
