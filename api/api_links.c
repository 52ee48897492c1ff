/*
 * api_links: deciding from a notification — signed decision links and Slack's
 * interactive buttons.
 *
 * Links (`/app/link/<token>`, hp_link). GET only ever shows a page: the
 * question, the context, who asks, and a form — one "Confirm" button for an
 * action link (bound to one option), every option (and the free-text
 * instruction when allowed) for a view link. Link scanners and previews that
 * follow the URL therefore see a page and decide nothing. A POST carrying the
 * token decides: from that form (application/x-www-form-urlencoded), or with
 * an empty body from an ntfy `http` action or the web app's service worker
 * (the action link's option). The decision records the channel and the
 * member the link was sent to (their name, or the channel's when it went to a
 * shared destination) in the audit trail. A tampered link answers 404, an
 * expired one 410, a used one (the approval is closed) 409 — each a plain
 * page, never a 500. Pages are static HTML (no script) under a strict CSP,
 * with no referrer (the token is in the URL) and no caching.
 *
 * Slack (`POST /v1/integrations/slack/interactions`). Slack posts a form
 * with `payload=<JSON>`; a button's value is an action link's token, which
 * names the channel whose signing secret must verify X-Slack-Signature
 * (HMAC-SHA256 of "v0:<timestamp>:<raw body>", compared in constant time)
 * with X-Slack-Request-Timestamp within five minutes. A good request decides
 * as the Slack user and queues, through the outbox, the replacement of the
 * message ("Approve — decided by @ana"); Slack gets its 200 at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "api.h"
#include "hp_buf.h"
#include "hp_channel_msg.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_link.h"
#include "hp_log.h"
#include "hp_markdown.h"
#include "hp_mem.h"
#include "hp_store_fanout.h"
#include "hp_str.h"
#include "hp_time.h"

/* Slack's replay window (seconds), as its documentation asks. */
#define API_SLACK_WINDOW 300

/* The request body as bytes (pool memory), bounded by
 * HOLDPOINT_MAX_BODY_BYTES; NULL after sending 413. */
static const char *api__body(hp_req *req, size_t *len)
{
    size_t max = (size_t)req->app->cfg->max_body_bytes;
    char chunk[4096];
    hp_buf b;
    int n;

    *len = 0;
    if (req->ri->content_length > (long long)max) {
        api_send_error(req, HP_ERR_PAYLOAD_TOO_LARGE, NULL, NULL);
        return NULL;
    }
    hp_buf_init(&b, max);
    while ((n = mg_read(req->conn, chunk, sizeof(chunk))) > 0) {
        if (hp_buf_append(&b, chunk, (size_t)n) != HP_OK) {
            hp_buf_free(&b);
            api_send_error(req, HP_ERR_PAYLOAD_TOO_LARGE, NULL, NULL);
            return NULL;
        }
    }
    *len = b.len;
    {
        char *s = hp_pool_strndup(req->pool, b.data != NULL ? b.data : "", b.len);
        hp_buf_free(&b);
        return s;
    }
}

/* A form field of body (decoded, pool memory), or NULL. */
static const char *api__field(hp_req *req, const char *body, size_t len, const char *name)
{
    size_t cap = len + 1;
    char *buf = hp_pool_alloc(req->pool, cap);
    int n = mg_get_var2(body, len, name, buf, cap, 0);
    return n >= 0 ? buf : NULL;
}

/* ---- pages ------------------------------------------------------------------- */

static void api__esc(hp_buf *b, const char *s)
{
    for (; s != NULL && *s; s++) {
        const char *rep = *s == '&'    ? "&amp;"
                          : *s == '<'  ? "&lt;"
                          : *s == '>'  ? "&gt;"
                          : *s == '"'  ? "&quot;"
                          : *s == '\'' ? "&#39;"
                                       : NULL;
        if (rep != NULL)
            (void)!hp_buf_puts(b, rep);
        else
            (void)!hp_buf_append(b, s, 1);
    }
}

static const char api__head[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<meta name=\"robots\" content=\"noindex\"><title>Holdpoint</title><style>"
    "body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1c1f24}"
    "main{max-width:40rem;margin:0 auto;padding:1.5rem 1rem}"
    "h1{font-size:1.4rem;line-height:1.3}.context{background:#fff;"
    "border:1px solid #d8dce2;border-radius:8px;padding:.8rem 1rem}"
    ".meta{color:#59616c;font-size:.9rem}form{margin:.6rem 0}"
    "button{font-size:1rem;padding:.7rem 1.2rem;border-radius:8px;border:1px solid #1f6feb;"
    "background:#1f6feb;color:#fff;cursor:pointer;min-width:8rem}"
    "button.secondary{background:#fff;color:#1f6feb}textarea{width:100%;min-height:5rem;"
    "font:inherit;box-sizing:border-box}.notice{font-size:1.1rem}</style></head><body><main>";

/* Sends a page: the security headers every link page carries. */
static void api__page(hp_req *req, int status, hp_buf *b)
{
    static const char *const h[] = {
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'",
        "Referrer-Policy",
        "no-referrer",
        "X-Robots-Tag",
        "noindex, nofollow",
        "X-Frame-Options",
        "DENY",
        "X-Content-Type-Options",
        "nosniff",
        NULL};
    (void)!hp_buf_puts(b, "</main></body></html>");
    api_send_raw(req, status, "text/html; charset=utf-8", b->data, b->len, h);
    hp_buf_free(b);
}

/* A page with a title and one sentence (errors and outcomes). */
static void api__notice(hp_req *req, int status, const char *title, const char *text)
{
    hp_buf b;

    hp_buf_init(&b, 1u << 20);
    (void)!hp_buf_puts(&b, api__head);
    (void)!hp_buf_puts(&b, "<h1>");
    api__esc(&b, title);
    (void)!hp_buf_puts(&b, "</h1><p class=\"notice\">");
    api__esc(&b, text);
    (void)!hp_buf_puts(&b, "</p>");
    api__page(req, status, &b);
}

static const char *api__label(const hp_approval_row *row, int i)
{
    json_object *o;
    if (row->options == NULL || i < 0 || (size_t)i >= json_object_array_length(row->options))
        return NULL;
    o = json_object_array_get_idx(row->options, (size_t)i);
    return hp_json_str(o, "label");
}

/* What a closed approval came to, in words (pool memory). */
static const char *api__outcome(hp_req *req, const hp_approval_row *row)
{
    const char *by = row->resolved_by_name;
    if (strcmp(row->status, "selected_option") == 0)
        return hp_pool_printf(req->pool, "%s%s%s", api__label(row, row->selected_option_index),
                              by ? " \xe2\x80\x94 decided by " : "", by ? by : "");
    if (strcmp(row->status, "custom_instruction") == 0)
        return hp_pool_printf(req->pool, "An instruction was given%s%s", by ? " by " : "",
                              by ? by : "");
    if (strcmp(row->status, "expired") == 0)
        return "It expired without a decision.";
    return "It was cancelled.";
}

/* The decision page of a link: the approval and a form, or its outcome. */
static void api__link_page(hp_req *req, const hp_approval_row *row, const hp_link *l)
{
    const char *who = row->agent_name != NULL ? row->agent_name : row->agent_display_name;
    char when[40];
    hp_buf b;

    hp_buf_init(&b, 1u << 20);
    (void)!hp_buf_puts(&b, api__head);
    (void)!hp_buf_puts(&b, "<h1>");
    api__esc(&b, row->question);
    (void)!hp_buf_puts(&b, "</h1>");
    if (row->context_markdown != NULL && row->context_markdown[0] != '\0') {
        char *html = hp_markdown_html(row->context_markdown, strlen(row->context_markdown));
        (void)!hp_buf_puts(&b, "<div class=\"context\">");
        (void)!hp_buf_puts(&b, html);
        (void)!hp_buf_puts(&b, "</div>");
        free(html);
    }
    hp_time_rfc3339(row->expires_at, when, sizeof(when));
    (void)!hp_buf_puts(&b, "<p class=\"meta\">");
    if (who != NULL) {
        (void)!hp_buf_puts(&b, "Asked by ");
        api__esc(&b, who);
        (void)!hp_buf_puts(&b, " \xc2\xb7 ");
    }
    (void)!hp_buf_printf(&b, "expires %s</p>", when);
    if (strcmp(row->status, "pending") != 0) {
        (void)!hp_buf_puts(&b, "<p class=\"notice\" id=\"outcome\">Already decided: ");
        api__esc(&b, api__outcome(req, row));
        (void)!hp_buf_puts(&b, "</p>");
        api__page(req, 200, &b);
        return;
    }
    if (l->option_index >= 0) {
        (void)!hp_buf_printf(&b,
                             "<form method=\"post\"><input type=\"hidden\" "
                             "name=\"option_index\" value=\"%d\"><button type=\"submit\">"
                             "Confirm: ",
                             l->option_index);
        api__esc(&b, api__label(row, l->option_index));
        (void)!hp_buf_puts(&b, "</button></form><p class=\"meta\">Nothing is decided until you "
                               "confirm.</p>");
        api__page(req, 200, &b);
        return;
    }
    for (int i = 0; row->options != NULL && (size_t)i < json_object_array_length(row->options);
         i++) {
        (void)!hp_buf_printf(&b,
                             "<form method=\"post\"><input type=\"hidden\" name=\"option_index\" "
                             "value=\"%d\"><button type=\"submit\"%s>",
                             i, i == 0 ? "" : " class=\"secondary\"");
        api__esc(&b, api__label(row, i));
        (void)!hp_buf_puts(&b, "</button></form>");
    }
    if (row->allow_custom_instruction)
        (void)!hp_buf_puts(&b,
                           "<form method=\"post\"><label for=\"ci\">Or tell the agent what "
                           "to do instead</label><textarea id=\"ci\" name=\"custom_instruction\""
                           " maxlength=\"2500\" required></textarea><button type=\"submit\" "
                           "class=\"secondary\">Send instruction</button></form>");
    api__page(req, 200, &b);
}

/* ---- the link's target ----------------------------------------------------------- */

typedef struct api__target {
    hp_link link;
    hp_approval_row row;
    const char *team_id;
    const char *channel_name; /* NULL when the channel is gone */
    const char *channel_kind;
    const char *user_name; /* NULL unless sent to a member of the team */
} api__target;

/* Reads the link's approval. On a refusal the page has been sent and false
 * is returned. */
static bool api__target_read(hp_req *req, const char *token, api__target *t, hp_dbconn **c)
{
    unsigned char key[32];
    hp_link_target lt;
    bool found = false;
    hp_err rc;

    memset(t, 0, sizeof(*t));
    hp_link_key(req->app->cfg->secret_key, key);
    rc = hp_link_parse(key, token, &t->link);
    OPENSSL_cleanse(key, sizeof(key));
    if (rc != HP_OK) {
        api__notice(req, 404, "This link is not valid",
                    "It may have been copied incompletely. Open the approval from Holdpoint "
                    "instead.");
        return false;
    }
    if (api_db(req, c) != HP_OK)
        return false;
    rc = hp_store_fanout_link_target(*c, req->pool, t->link.approval_id, t->link.channel_id,
                                     t->link.user_id, &lt, &found, req->err, sizeof(req->err));
    if (rc == HP_OK && found) {
        t->team_id = lt.team_id;
        t->channel_name = lt.channel_name;
        t->channel_kind = lt.channel_kind;
        t->user_name = lt.user_name;
        rc = hp_store_approval_by_id(*c, req->pool, t->team_id, t->link.approval_id, &t->row,
                                     &found, req->err, sizeof(req->err));
    }
    if (rc != HP_OK) {
        api__notice(req, 503, "Holdpoint is unavailable", "Please try again in a moment.");
        hp_log_warn("dependency unavailable", "request_id", req->request_id, "reason", req->err);
        return false;
    }
    if (!found) {
        api__notice(req, 404, "This link is not valid", "The approval it points to is gone.");
        return false;
    }
    return true;
}

void api_link_get(hp_req *req)
{
    api__target t;
    hp_dbconn *c = NULL;

    if (!api__target_read(req, req->param, &t, &c))
        return;
    if (strcmp(t.row.status, "pending") == 0 && t.link.expires_at <= time(NULL)) {
        api__notice(req, 410, "This link has expired", "The approval is past its deadline.");
        return;
    }
    api__link_page(req, &t.row, &t.link);
}

void api_link_post(hp_req *req)
{
    hp_decision d = {.option_index = -1, .actor_type = "user", .via = "link"};
    hp_approval_row out;
    api__target t;
    hp_dbconn *c = NULL;
    const char *body, *opt, *ci;
    size_t len = 0;
    long long idx = -1;
    hp_err rc;

    body = api__body(req, &len);
    if (body == NULL || !api__target_read(req, req->param, &t, &c))
        return;
    opt = len > 0 ? api__field(req, body, len, "option_index") : NULL;
    ci = len > 0 ? api__field(req, body, len, "custom_instruction") : NULL;
    if (strcmp(t.row.status, "pending") != 0) {
        api__notice(req, 409, "Already decided", api__outcome(req, &t.row));
        return;
    }
    if (t.link.expires_at <= time(NULL)) {
        api__notice(req, 410, "This link has expired", "The approval is past its deadline.");
        return;
    }
    if (opt != NULL && !hp_parse_ll(opt, 0, 254, &idx)) {
        api__notice(req, 400, "Choose an answer", "The answer sent is not one of the options.");
        return;
    }
    if (t.link.option_index >= 0) {
        /* An action link decides its own option and nothing else. */
        if ((opt != NULL && idx != t.link.option_index) || ci != NULL) {
            api__notice(req, 400, "Choose an answer", "This link confirms one answer only.");
            return;
        }
        idx = t.link.option_index;
    }
    if (idx >= 0) {
        d.kind = HP_DECIDE_OPTION;
        d.option_index = (int)idx;
    } else if (ci != NULL && ci[0] != '\0' && hp_utf8_len(ci, strlen(ci)) >= 0 &&
               hp_utf8_len(ci, strlen(ci)) <= HP_APPROVAL_CUSTOM_MAX) {
        d.kind = HP_DECIDE_CUSTOM;
        d.custom_instruction = ci;
    } else {
        api__notice(req, 400, "Choose an answer",
                    "Pick one of the options, or write an "
                    "instruction of at most 2500 characters.");
        return;
    }
    /* The reviewer: the member the link was sent to, else the channel. */
    if (t.user_name != NULL) {
        d.user_id = t.link.user_id;
        d.user_name = t.user_name;
        d.actor_id = t.link.user_id;
    } else {
        d.user_name = t.channel_name != NULL
                          ? hp_pool_printf(req->pool, "%s (%s)", t.channel_name, t.channel_kind)
                          : "decision link";
        d.actor_id = NULL;
    }
    d.channel_id = t.link.channel_id[0] != '\0' ? t.link.channel_id : NULL;
    rc = hp_approval_decide(c, req->pool, &req->app->env, t.team_id, t.link.approval_id, &d, &out,
                            req->err, sizeof(req->err));
    if (rc == HP_ERR_ALREADY_RESOLVED) {
        api__notice(req, 409, "Already decided", "Someone decided this approval first.");
        return;
    }
    if (rc == HP_ERR_INVALID_PAYLOAD) {
        api__notice(req, 400, "Choose an answer", req->err);
        return;
    }
    if (rc != HP_OK) {
        hp_log(rc == HP_ERR_UNAVAILABLE ? HP_LOG_WARN : HP_LOG_ERROR, "decision by link failed",
               "request_id", req->request_id, "reason", req->err);
        api__notice(req, rc == HP_ERR_UNAVAILABLE ? 503 : 500, "Not recorded",
                    "The decision could not be recorded; please try again.");
        return;
    }
    api__notice(req, 200, "Decision recorded", api__outcome(req, &out));
}

/* ---- Slack --------------------------------------------------------------------- */

/* Checks X-Slack-Signature over the raw body with the channel's signing
 * secret. */
static bool api__slack_verify(hp_req *req, const char *secret, const char *body, size_t len)
{
    const char *ts = mg_get_header(req->conn, "X-Slack-Request-Timestamp");
    const char *sig = mg_get_header(req->conn, "X-Slack-Signature");
    long long t = 0;
    unsigned char mac[32];
    char want[3 + 64 + 1], *base;
    bool ok;

    if (ts == NULL || sig == NULL || !hp_parse_ll(ts, 0, 0x7fffffffffffLL, &t) ||
        llabs((long long)time(NULL) - t) > API_SLACK_WINDOW || strlen(sig) != 3 + 64)
        return false;
    base = hp_xmalloc(len + strlen(ts) + 5);
    memcpy(base, "v0:", 3);
    memcpy(base + 3, ts, strlen(ts));
    base[3 + strlen(ts)] = ':';
    memcpy(base + 4 + strlen(ts), body, len);
    hp_hmac_sha256(secret, strlen(secret), base, len + strlen(ts) + 4, mac);
    free(base);
    memcpy(want, "v0=", 3);
    hp_hex_encode(mac, sizeof(mac), want + 3);
    ok = hp_ct_equal(want, sig, 3 + 64);
    OPENSSL_cleanse(mac, sizeof(mac));
    return ok;
}

void api_slack_interactions(hp_req *req)
{
    const char *body, *payload, *value = NULL, *aid = NULL, *response_url, *slack_user;
    json_object *p = NULL, *action;
    unsigned char key[32], *sec = NULL;
    size_t len = 0, seclen = 0;
    hp_link l;
    hp_channel_ref ch;
    bool ch_found = false;
    hp_dbconn *c;
    hp_decision d = {.kind = HP_DECIDE_OPTION, .actor_type = "user", .via = "slack"};
    hp_approval_row out;
    json_object *secrets = NULL;
    const char *outcome = NULL;
    char perr[128];
    bool verified = false, decided = false;
    hp_err rc;

    body = api__body(req, &len);
    if (body == NULL)
        return;
    payload = api__field(req, body, len, "payload");
    if (payload == NULL ||
        hp_json_parse(payload, strlen(payload), &p, perr, sizeof(perr)) != HP_OK) {
        hp_issues *is = hp_issues_new();
        hp_issues_add(is, hp_path_key(hp_path_root(), "payload"), "invalid_type",
                      "expected a form field payload holding JSON");
        api_send_issues(req, HP_ERR_INVALID_PAYLOAD, is);
        hp_issues_free(is);
        return;
    }
    action = json_object_array_get_idx(hp_json_arr(p, "actions"), 0);
    if (action != NULL) {
        aid = hp_json_str(action, "action_id");
        value = hp_json_str(action, "value");
    }
    /* Buttons that only open a link (and other interactions) carry nothing
     * to decide: acknowledged, nothing done. */
    if (aid == NULL || strncmp(aid, "hp_decide_", 10) != 0 || value == NULL) {
        json_object_put(p);
        api_send_empty(req, 200, NULL);
        return;
    }
    hp_link_key(req->app->cfg->secret_key, key);
    rc = hp_link_parse(key, value, &l);
    OPENSSL_cleanse(key, sizeof(key));
    if (rc != HP_OK || l.channel_id[0] == '\0' || l.option_index < 0) {
        json_object_put(p);
        api_send_error(req, HP_ERR_INVALID_SIGNATURE, "the button is not one Holdpoint signed",
                       NULL);
        return;
    }
    if (api_db(req, &c) != HP_OK)
        goto out;
    rc = hp_store_fanout_channel(c, req->pool, l.channel_id, &ch, &ch_found, req->err,
                                 sizeof(req->err));
    if (rc != HP_OK) {
        api_send_failure(req, rc, NULL);
        goto out;
    }
    if (ch_found && strcmp(ch.kind, "slack") == 0 && ch.secret_sealed != NULL &&
        hp_secret_open(req->app->cfg->secret_key, ch.secret_sealed, &sec, &seclen) == HP_OK &&
        hp_json_parse((const char *)sec, seclen, &secrets, perr, sizeof(perr)) == HP_OK &&
        hp_json_str(secrets, "signing_secret") != NULL)
        verified = api__slack_verify(req, hp_json_str(secrets, "signing_secret"), body, len);
    if (!verified) {
        hp_log_warn("slack interaction refused: bad or stale signature", "request_id",
                    req->request_id, "channel_id", l.channel_id);
        api_send_error(req, HP_ERR_INVALID_SIGNATURE, NULL, NULL);
        goto out;
    }
    slack_user = hp_json_str(hp_json_obj(p, "user"), "username");
    if (slack_user == NULL)
        slack_user = hp_json_str(hp_json_obj(p, "user"), "name");
    d.option_index = l.option_index;
    d.user_name = hp_pool_printf(req->pool, "@%s (Slack)", slack_user ? slack_user : "someone");
    d.actor_id = hp_pool_printf(req->pool, "slack:%s",
                                hp_json_str(hp_json_obj(p, "user"), "id")
                                    ? hp_json_str(hp_json_obj(p, "user"), "id")
                                    : "unknown");
    d.channel_id = l.channel_id;
    if (l.expires_at <= time(NULL)) {
        outcome = "This approval expired before the answer.";
    } else {
        rc = hp_approval_decide(c, req->pool, &req->app->env, ch.team_id, l.approval_id, &d, &out,
                                req->err, sizeof(req->err));
        if (rc == HP_OK) {
            decided = true;
            outcome = hp_pool_printf(req->pool, "*%s* \xe2\x80\x94 decided by %s",
                                     api__label(&out, out.selected_option_index), d.user_name);
        } else if (rc == HP_ERR_ALREADY_RESOLVED || rc == HP_ERR_NOT_FOUND) {
            outcome = "This approval was already decided.";
        } else {
            api_send_failure(req, rc, NULL);
            goto out;
        }
    }
    /* Replace the message through the outbox (Slack's response_url); the
     * decision above is already committed either way. */
    response_url = hp_json_str(p, "response_url");
    if (response_url != NULL) {
        char *msg = hp_chmsg_slack_decided(decided ? out.question : "Holdpoint", outcome);
        rc = hp_store_fanout_slack_update(c, ch.team_id, l.approval_id, l.channel_id, response_url,
                                          msg, req->app->env.callback_max_attempts, req->err,
                                          sizeof(req->err));
        free(msg);
        if (rc != HP_OK)
            hp_log_warn("could not queue the slack message update", "request_id", req->request_id,
                        "reason", req->err);
    }
    api_send_empty(req, 200, NULL);
out:
    if (sec != NULL) {
        OPENSSL_cleanse(sec, seclen);
        free(sec);
    }
    if (secrets != NULL) {
        const char *s = hp_json_str(secrets, "signing_secret");
        if (s != NULL)
            OPENSSL_cleanse((char *)s, strlen(s));
        json_object_put(secrets);
    }
    json_object_put(p);
}
