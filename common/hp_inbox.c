/*
 * hp_inbox: the pure half of the action-response inbox — the item shape,
 * the project webhook payload, the acknowledgement body and redaction. The
 * writes are in hp_inbox_ops.c and the SQL in hp_store_inbox.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "hp_inbox.h"
#include "hp_json.h"
#include "hp_mem.h"
#include "hp_str.h"

static void hp__set_index(json_object *o, const char *key, int idx)
{
    json_object_object_add(o, key, idx >= 0 ? json_object_new_int(idx) : NULL);
}

json_object *hp_inbox_response_json(const hp_inbox_response *r)
{
    json_object *o = json_object_new_object();
    json_object *by = NULL;

    hp_json_set_str(o, "id", r->id);
    hp_json_set_str(o, "notification_id", r->notification_id);
    hp_json_set_str(o, "project_id", r->agent_id);
    hp_json_set_str(o, "session_id", r->session_id);
    hp_json_set_str(o, "approval_id", r->approval_id);
    hp_json_set_str(o, "parent_id", r->parent_id);
    hp_json_set_str(o, "kind", r->kind);
    hp_json_set_str(o, "action", r->action);
    hp__set_index(o, "button_index", r->button_index);
    hp_json_set_str(o, "button_label", r->button_label);
    hp_json_set_str(o, "decision_key", r->decision_key);
    hp_json_set_str(o, "response_text", r->response_text);
    json_object_object_add(o, "is_timeout_default", json_object_new_boolean(r->is_timeout_default));
    hp_json_set_str(o, "client_event_id", r->client_event_id);
    if (r->user_id != NULL) {
        by = json_object_new_object();
        hp_json_set_str(by, "user_id", r->user_id);
        hp_json_set_str(by, "name", r->user_name);
    }
    json_object_object_add(o, "decided_by", by);
    hp_json_set_str(o, "device", r->device);
    hp_json_set_str(o, "ack_status", r->ack_status);
    hp_json_set_str(o, "ack_error", r->ack_error);
    hp_json_set_time(o, "acked_at", r->acked_at);
    hp_json_set_time(o, "decided_at", r->decided_at);
    hp_json_set_time(o, "recorded_at", r->recorded_at);
    hp_json_set_str(o, "notification_title", r->notification_title);
    hp_json_set_str(o, "notification_message", r->notification_message);
    return o;
}

json_object *hp_inbox_webhook_body(const hp_inbox_record *rec, const char *id, long long ts,
                                   const char *nonce)
{
    json_object *o = json_object_new_object();

    hp_json_set_str(o, "id", id);
    hp_json_set_str(o, "project_id", rec->agent_id);
    hp_json_set_str(o, "notification_id", rec->notification_id);
    hp_json_set_str(o, "approval_id", rec->approval_id);
    hp_json_set_str(o, "session_id", rec->session_id);
    hp_json_set_str(o, "kind", rec->kind);
    hp_json_set_str(o, "action", rec->action);
    hp__set_index(o, "button_index", rec->button_index);
    hp_json_set_str(o, "button_label", rec->button_label);
    hp_json_set_str(o, "decision_key", rec->decision_key);
    hp_json_set_str(o, "response_text", rec->response_text);
    json_object_object_add(o, "is_timeout_default",
                           json_object_new_boolean(rec->is_timeout_default));
    hp_json_set_str(o, "client_event_id", rec->client_event_id);
    json_object_object_add(o, "timestamp", json_object_new_int64(ts));
    hp_json_set_str(o, "nonce", nonce);
    return o;
}

/* ---- acknowledgement ------------------------------------------------------- */

static const char *const hp__ack_statuses[] = {"processed", "ignored", "failed", NULL};

bool hp_inbox_ack_parse(json_object *body, const char **status, char *error_out, size_t cap,
                        hp_issues *is)
{
    hp_path root = hp_path_root();
    const char *error;
    int i;

    *status = "processed";
    if (cap > 0)
        error_out[0] = '\0';
    if (body == NULL)
        return true;
    if (!hp_valid_is_object(is, root, body)) {
        return false;
    }
    i = hp_valid_enum(is, root, body, "status", false, hp__ack_statuses);
    if (i >= 0)
        *status = hp__ack_statuses[i];
    error = hp_valid_str(is, root, body, "error",
                         (hp_str_rule){false, true, 1, HP_INBOX_ACK_ERROR_MAX});
    if (error != NULL && strcmp(*status, "failed") != 0)
        hp_issues_add(is, hp_path_key(root, "error"), "custom",
                      "error is kept only with status failed");
    else if (error != NULL)
        hp_inbox_redact(error, HP_INBOX_ACK_ERROR_KEEP, error_out, cap);
    return hp_issues_count(is) == 0;
}

/* ---- redaction ---------------------------------------------------------------- */

static bool hp__sep(unsigned char c)
{
    return c <= ' ' || c == 0x7f || strchr("\"'`,;()[]{}<>", c) != NULL;
}

static bool hp__istarts(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && strncasecmp(s, prefix, k) == 0;
}

/* A word that is itself a credential. */
static bool hp__secret_word(const char *w, size_t n)
{
    static const char *const prefixes[] = {
        "hpk_", "hpu_",        "whsec_", "sk-",   "sk_",   "ghp_",  "gho_", "ghs_",
        "ghu_", "github_pat_", "xoxb-",  "xoxp-", "xoxa-", "xoxs-", "AKIA", NULL};
    bool digit = false, alpha = false;

    for (int i = 0; prefixes[i]; i++)
        if (n >= strlen(prefixes[i]) + 8 && strncmp(w, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    if (n < 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        if (isdigit(c))
            digit = true;
        else if (isalpha(c))
            alpha = true;
        else if (strchr("+/=_-.", c) == NULL)
            return false;
    }
    return digit && alpha;
}

/* The length of "name=" or "name:" when name says the value is secret. */
static size_t hp__secret_key_len(const char *w, size_t n)
{
    static const char *const names[] = {"password", "passwd", "secret",  "token",
                                        "api_key",  "apikey", "api-key", "authorization",
                                        "auth",     "key",    NULL};
    for (size_t i = 0; i < n; i++) {
        if (w[i] != '=' && w[i] != ':')
            continue;
        for (int k = 0; names[k]; k++) {
            size_t m = strlen(names[k]);
            if (i >= m && strncasecmp(w + i - m, names[k], m) == 0 && i + 1 < n)
                return i + 1;
        }
        return 0;
    }
    return 0;
}

/* Appends n bytes to out (sized by the caller for the worst case). */
static void hp__put(char *out, size_t *len, const void *src, size_t n)
{
    memcpy(out + *len, src, n);
    *len += n;
}

void hp_inbox_redact(const char *in, size_t max_cps, char *out, size_t cap)
{
    /* Each input byte grows at most into "[redacted]" plus its separator. */
    char *w = hp_xmalloc(strlen(in) * 11 + 16);
    size_t wl = 0, cps = 0, i = 0;
    const char *p = in;
    bool after_scheme = false;

    if (cap == 0) {
        free(w);
        return;
    }
    while (*p) {
        if (hp__sep((unsigned char)*p)) {
            char c = (unsigned char)*p < ' ' || *p == 0x7f ? ' ' : *p;
            hp__put(w, &wl, &c, 1);
            p++;
            continue;
        }
        size_t n = 0, keylen;
        while (p[n] && !hp__sep((unsigned char)p[n]))
            n++;
        keylen = hp__secret_key_len(p, n);
        if (after_scheme || hp__secret_word(p, n)) {
            hp__put(w, &wl, "[redacted]", 10);
        } else if (keylen > 0) {
            hp__put(w, &wl, p, keylen);
            hp__put(w, &wl, "[redacted]", 10);
        } else {
            hp__put(w, &wl, p, n);
        }
        after_scheme =
            (n == 6 && hp__istarts(p, n, "bearer")) || (n == 5 && hp__istarts(p, n, "basic"));
        p += n;
    }
    w[wl] = '\0';
    /* Cut at max_cps code points (and to fit cap), on a character
     * boundary, marking the cut with an ellipsis. */
    while (w[i] != '\0') {
        size_t len = 1;
        unsigned char c = (unsigned char)w[i];
        if (c >= 0xf0)
            len = 4;
        else if (c >= 0xe0)
            len = 3;
        else if (c >= 0xc0)
            len = 2;
        if (cps == max_cps || i + len + 4 > cap)
            break;
        i += len;
        cps++;
    }
    memcpy(out, w, i);
    if (w[i] != '\0' && i + 4 <= cap) {
        memcpy(out + i, "\xe2\x80\xa6", 3);
        i += 3;
    }
    out[i] = '\0';
    free(w);
}
