/*
 * hp_channel_msg: renderers of channel messages (see the header). Every
 * limit a service imposes is applied here by cutting text at a UTF-8
 * boundary with an ellipsis: ntfy's 4096-byte message, Slack's 150-character
 * header and 3000-character section, a Web Push record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hp_buf.h"
#include "hp_channel_msg.h"
#include "hp_crypto.h"
#include "hp_json.h"
#include "hp_mem.h"
#include "hp_str.h"
#include "hp_time.h"

/* Bound on any rendered message (inputs are bounded far below it). */
#define HP__CAP (1u << 20)

/* The buffer's text, "" when nothing was appended. Heap. */
static char *hp__steal(hp_buf *b)
{
    char *s = hp_buf_steal(b);
    return s != NULL ? s : hp_xstrdup("");
}

/* The first max bytes of s, cut back to a UTF-8 boundary, with "…" when
 * cut. Heap. */
static char *hp__clip(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0;
    char *out;

    if (n <= max)
        return hp_xstrdup(s != NULL ? s : "");
    if (max < 4)
        return hp_xstrdup("");
    n = max - 3;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    out = hp_xmalloc(n + 4);
    memcpy(out, s, n);
    memcpy(out + n, "\xe2\x80\xa6", 4);
    return out;
}

static const char *hp__prefix(const char *event)
{
    if (event != NULL && strcmp(event, "reminder") == 0)
        return "Reminder: ";
    if (event != NULL && strcmp(event, "escalation") == 0)
        return "Escalated: ";
    return "";
}

char *hp_chmsg_title(const hp_chmsg *m)
{
    return hp_xasprintf("%s%s", hp__prefix(m->event), m->title != NULL ? m->title : "");
}

static char *hp__json_out(json_object *o)
{
    char *s = hp_xstrdup(
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return s;
}

static void hp__set_own(json_object *o, const char *key, char *heap)
{
    json_object_object_add(o, key, json_object_new_string(heap));
    free(heap);
}

/* "Asked by <agent> · expires <time>" (heap); "" when neither is known. */
static char *hp__attribution(const hp_chmsg *m)
{
    char when[40] = "";

    if (m->expires_at > 0)
        hp_time_rfc3339(m->expires_at * 1000000, when, sizeof(when));
    if (m->agent_name != NULL && when[0] != '\0')
        return hp_xasprintf("Asked by %s \xc2\xb7 expires %s", m->agent_name, when);
    if (m->agent_name != NULL)
        return hp_xasprintf("From %s", m->agent_name);
    if (when[0] != '\0')
        return hp_xasprintf("Expires %s", when);
    return hp_xstrdup("");
}

/* ---- ntfy --------------------------------------------------------------------- */

char *hp_chmsg_ntfy(const hp_chmsg *m, const char *topic, int priority, json_object *tags)
{
    json_object *o = json_object_new_object(), *actions = json_object_new_array();
    char *attr = hp__attribution(m), *body, *text;

    hp_json_set_str(o, "topic", topic);
    {
        char *t = hp_chmsg_title(m);
        json_object_object_add(o, "title", json_object_new_string(t));
        free(t);
    }
    text = hp__clip(m->text, 3500);
    body = attr[0] != '\0' ? hp_xasprintf("%s%s%s", text, text[0] ? "\n\n" : "", attr)
                           : hp_xstrdup(text[0] ? text : (m->title ? m->title : ""));
    hp__set_own(o, "message", body);
    free(text);
    free(attr);
    json_object_object_add(o, "priority", json_object_new_int(priority));
    if (tags != NULL && json_object_array_length(tags) > 0)
        json_object_object_add(o, "tags", json_object_get(tags));
    if (m->view_url != NULL)
        hp_json_set_str(o, "click", m->view_url);
    /* ntfy shows at most three actions. */
    for (int i = 0; i < m->noptions && i < 3; i++) {
        json_object *a;
        if (m->action_urls[i] == NULL)
            continue;
        a = json_object_new_object();
        hp_json_set_str(a, "action", "http");
        hp_json_set_str(a, "label", m->labels[i]);
        hp_json_set_str(a, "url", m->action_urls[i]);
        hp_json_set_str(a, "method", "POST");
        json_object_object_add(a, "clear", json_object_new_boolean(1));
        json_object_array_add(actions, a);
    }
    if (json_object_array_length(actions) > 0)
        json_object_object_add(o, "actions", actions);
    else
        json_object_put(actions);
    return hp__json_out(o);
}

/* ---- Slack ---------------------------------------------------------------------- */

/* Slack's three control characters in text objects: & < >. Heap. */
static char *hp__slack_escape(const char *s)
{
    hp_buf b;

    hp_buf_init(&b, HP__CAP);
    for (; s != NULL && *s; s++) {
        const char *rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
        if (rep != NULL)
            (void)!hp_buf_puts(&b, rep);
        else
            (void)!hp_buf_append(&b, s, 1);
    }
    return hp__steal(&b);
}

static json_object *hp__text(const char *type, const char *text)
{
    json_object *t = json_object_new_object();
    hp_json_set_str(t, "type", type);
    hp_json_set_str(t, "text", text);
    if (strcmp(type, "plain_text") == 0)
        json_object_object_add(t, "emoji", json_object_new_boolean(1));
    return t;
}

char *hp_chmsg_slack(const hp_chmsg *m, bool interactive)
{
    json_object *o = json_object_new_object(), *blocks = json_object_new_array(), *b, *els;
    char *title = hp_chmsg_title(m), *clipped, *esc, *attr;

    hp_json_set_str(o, "text", title); /* notifications and clients without blocks */
    clipped = hp__clip(title, 150);
    b = json_object_new_object();
    hp_json_set_str(b, "type", "header");
    json_object_object_add(b, "text", hp__text("plain_text", clipped));
    json_object_array_add(blocks, b);
    free(clipped);
    if (m->text != NULL && m->text[0] != '\0') {
        esc = hp__slack_escape(m->text);
        clipped = hp__clip(esc, 2900);
        b = json_object_new_object();
        hp_json_set_str(b, "type", "section");
        json_object_object_add(b, "text", hp__text("mrkdwn", clipped));
        json_object_array_add(blocks, b);
        free(clipped);
        free(esc);
    }
    attr = hp__attribution(m);
    if (attr[0] != '\0') {
        esc = hp__slack_escape(attr);
        b = json_object_new_object();
        hp_json_set_str(b, "type", "context");
        els = json_object_new_array();
        json_object_array_add(els, hp__text("mrkdwn", esc));
        json_object_object_add(b, "elements", els);
        json_object_array_add(blocks, b);
        free(esc);
    }
    free(attr);
    els = json_object_new_array();
    for (int i = 0; i < m->noptions; i++) {
        json_object *btn = json_object_new_object();
        char *label = hp__clip(m->labels[i], 75), aid[32];
        hp_json_set_str(btn, "type", "button");
        json_object_object_add(btn, "text", hp__text("plain_text", label));
        free(label);
        (void)hp_fmt(aid, sizeof(aid), interactive ? "hp_decide_%d" : "hp_link_%d", i);
        hp_json_set_str(btn, "action_id", aid);
        if (interactive && m->action_tokens[i] != NULL)
            hp_json_set_str(btn, "value", m->action_tokens[i]);
        else if (m->action_urls[i] != NULL)
            hp_json_set_str(btn, "url", m->action_urls[i]);
        else {
            json_object_put(btn);
            continue;
        }
        if (i == 0)
            hp_json_set_str(btn, "style", "primary");
        json_object_array_add(els, btn);
    }
    if (m->view_url != NULL) {
        json_object *btn = json_object_new_object();
        hp_json_set_str(btn, "type", "button");
        json_object_object_add(btn, "text", hp__text("plain_text", "Open"));
        hp_json_set_str(btn, "action_id", "hp_open");
        hp_json_set_str(btn, "url", m->view_url);
        json_object_array_add(els, btn);
    }
    if (json_object_array_length(els) > 0) {
        b = json_object_new_object();
        hp_json_set_str(b, "type", "actions");
        hp_json_set_str(b, "block_id", m->approval_id != NULL ? "hp_decide" : "hp_open");
        json_object_object_add(b, "elements", els);
        json_object_array_add(blocks, b);
    } else {
        json_object_put(els);
    }
    json_object_object_add(o, "blocks", blocks);
    free(title);
    return hp__json_out(o);
}

char *hp_chmsg_slack_decided(const char *title, const char *outcome)
{
    json_object *o = json_object_new_object(), *blocks = json_object_new_array(), *b;
    char *t = hp__clip(title, 150), *esc = hp__slack_escape(outcome);

    json_object_object_add(o, "replace_original", json_object_new_boolean(1));
    hp_json_set_str(o, "text", title);
    b = json_object_new_object();
    hp_json_set_str(b, "type", "header");
    json_object_object_add(b, "text", hp__text("plain_text", t));
    json_object_array_add(blocks, b);
    b = json_object_new_object();
    hp_json_set_str(b, "type", "section");
    json_object_object_add(b, "text", hp__text("mrkdwn", esc));
    json_object_array_add(blocks, b);
    json_object_object_add(o, "blocks", blocks);
    free(t);
    free(esc);
    return hp__json_out(o);
}

/* ---- Web Push --------------------------------------------------------------------- */

char *hp_chmsg_push(const hp_chmsg *m)
{
    json_object *o = json_object_new_object(), *actions = json_object_new_array();
    char *title = hp_chmsg_title(m);

    hp__set_own(o, "title", hp__clip(title, 200));
    free(title);
    hp__set_own(o, "body", hp__clip(m->text != NULL && m->text[0] ? m->text : "", 600));
    hp_json_set_str(o, "event", m->event);
    if (m->approval_id != NULL) {
        hp_json_set_str(o, "tag", m->approval_id);
        hp_json_set_str(o, "approval_id", m->approval_id);
    }
    if (m->open_url != NULL)
        hp_json_set_str(o, "url", m->open_url);
    /* The first two options: what a lock screen shows as Approve / Deny. */
    for (int i = 0; i < m->noptions && i < 2; i++) {
        json_object *a;
        char name[8];
        if (m->action_urls[i] == NULL)
            continue;
        a = json_object_new_object();
        (void)hp_fmt(name, sizeof(name), "opt%d", i);
        hp_json_set_str(a, "action", name);
        hp__set_own(a, "title", hp__clip(m->labels[i], 60));
        hp_json_set_str(a, "url", m->action_urls[i]);
        json_object_array_add(actions, a);
    }
    json_object_object_add(o, "actions", actions);
    return hp__json_out(o);
}

/* ---- e-mail --------------------------------------------------------------------------- */

static bool hp__ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80 || (unsigned char)*s < 0x20)
            return false;
    return true;
}

/* Appends the base64 of data in 76-character lines. */
static void hp__b64_lines(hp_buf *b, const char *data)
{
    char *enc = hp_base64_encode(data, strlen(data));
    size_t n = strlen(enc);

    for (size_t i = 0; i < n; i += 76) {
        (void)!hp_buf_append(b, enc + i, n - i < 76 ? n - i : 76);
        (void)!hp_buf_puts(b, "\r\n");
    }
    free(enc);
}

static void hp__html_escape(hp_buf *b, const char *s)
{
    for (; s != NULL && *s; s++) {
        switch (*s) {
        case '&':
            (void)!hp_buf_puts(b, "&amp;");
            break;
        case '<':
            (void)!hp_buf_puts(b, "&lt;");
            break;
        case '>':
            (void)!hp_buf_puts(b, "&gt;");
            break;
        case '"':
            (void)!hp_buf_puts(b, "&quot;");
            break;
        case '\'':
            (void)!hp_buf_puts(b, "&#39;");
            break;
        default:
            (void)!hp_buf_append(b, s, 1);
        }
    }
}

/* An RFC 2047 encoded word for a header value, or the value when it is plain
 * ASCII. Long values are cut (subjects need not be whole). Heap. */
static char *hp__header_text(const char *s)
{
    char *clip = hp__clip(s, 180), *enc, *out;

    for (char *p = clip; *p; p++)
        if (*p == '\r' || *p == '\n' || *p == '\t')
            *p = ' ';
    if (hp__ascii(clip))
        return clip;
    enc = hp_base64_encode(clip, strlen(clip));
    out = hp_xasprintf("=?UTF-8?B?%s?=", enc);
    free(enc);
    free(clip);
    return out;
}

char *hp_chmsg_email(const hp_chmsg *m, const char *context_html, const char *from, const char *to,
                     int64_t now)
{
    hp_buf text, html, msg;
    char *title = hp_chmsg_title(m), *subject, *subj_full, *attr = hp__attribution(m);
    char date[64], boundary[40], mid[HP_UUID_LEN + 1], rnd[17];
    unsigned char raw[8];
    const char *domain = strchr(from, '@');
    struct tm tm;
    time_t t = (time_t)now;

    /* Plain text. */
    hp_buf_init(&text, HP__CAP);
    (void)!hp_buf_printf(&text, "%s\n\n", title);
    if (m->text != NULL && m->text[0] != '\0')
        (void)!hp_buf_printf(&text, "%s\n\n", m->text);
    if (attr[0] != '\0')
        (void)!hp_buf_printf(&text, "%s\n\n", attr);
    for (int i = 0; i < m->noptions; i++)
        if (m->action_urls[i] != NULL)
            (void)!hp_buf_printf(&text, "%s: %s\n", m->labels[i], m->action_urls[i]);
    if (m->view_url != NULL)
        (void)!hp_buf_printf(&text, "\nOpen the decision page: %s\n", m->view_url);
    if (m->noptions > 0)
        (void)!hp_buf_puts(&text, "\nA link opens a page where you confirm; nothing is decided "
                                  "until you do.\n");

    /* HTML. */
    hp_buf_init(&html, HP__CAP);
    (void)!hp_buf_puts(&html, "<!doctype html><html><head><meta charset=\"utf-8\"><title>");
    hp__html_escape(&html, title);
    (void)!hp_buf_puts(&html,
                       "</title></head><body style=\"font-family:sans-serif;max-width:40em\">"
                       "<h2>");
    hp__html_escape(&html, title);
    (void)!hp_buf_puts(&html, "</h2>");
    if (context_html != NULL && context_html[0] != '\0') {
        (void)!hp_buf_puts(&html, "<div class=\"context\">");
        (void)!hp_buf_puts(&html, context_html);
        (void)!hp_buf_puts(&html, "</div>");
    }
    if (attr[0] != '\0') {
        (void)!hp_buf_puts(&html, "<p style=\"color:#555\">");
        hp__html_escape(&html, attr);
        (void)!hp_buf_puts(&html, "</p>");
    }
    if (m->noptions > 0)
        (void)!hp_buf_puts(&html, "<p>");
    for (int i = 0; i < m->noptions; i++) {
        if (m->action_urls[i] == NULL)
            continue;
        (void)!hp_buf_puts(&html, "<a class=\"option\" style=\"display:inline-block;margin:0 .5em "
                                  ".5em 0;padding:.6em 1.2em;border-radius:6px;background:#1f6feb;"
                                  "color:#fff;text-decoration:none\" href=\"");
        hp__html_escape(&html, m->action_urls[i]);
        (void)!hp_buf_puts(&html, "\">");
        hp__html_escape(&html, m->labels[i]);
        (void)!hp_buf_puts(&html, "</a>");
    }
    if (m->noptions > 0)
        (void)!hp_buf_puts(&html, "</p>");
    if (m->view_url != NULL) {
        (void)!hp_buf_puts(&html, "<p><a class=\"view\" href=\"");
        hp__html_escape(&html, m->view_url);
        (void)!hp_buf_puts(&html, "\">Open the decision page</a></p>");
    }
    if (m->noptions > 0)
        (void)!hp_buf_puts(&html, "<p style=\"color:#555;font-size:small\">A link opens a page "
                                  "where you confirm; nothing is decided until you do.</p>");
    (void)!hp_buf_puts(&html, "</body></html>");

    /* Headers and the two parts. */
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    hp_rand_bytes(raw, sizeof(raw));
    hp_hex_encode(raw, sizeof(raw), rnd);
    (void)hp_fmt(boundary, sizeof(boundary), "hp-%s", rnd);
    hp_uuid_v4(mid);
    subj_full = hp_xasprintf("[Holdpoint] %s", title);
    subject = hp__header_text(subj_full);
    hp_buf_init(&msg, HP__CAP);
    (void)!hp_buf_printf(&msg,
                         "From: Holdpoint <%s>\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
                         "Message-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
                         "Auto-Submitted: auto-generated\r\n"
                         "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
                         from, to, subject, date, mid, domain != NULL ? domain + 1 : "holdpoint",
                         boundary);
    (void)!hp_buf_printf(&msg,
                         "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: base64\r\n\r\n",
                         boundary);
    hp__b64_lines(&msg, text.data != NULL ? text.data : "");
    (void)!hp_buf_printf(&msg,
                         "--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: base64\r\n\r\n",
                         boundary);
    hp__b64_lines(&msg, html.data != NULL ? html.data : "");
    (void)!hp_buf_printf(&msg, "--%s--\r\n", boundary);
    hp_buf_free(&text);
    hp_buf_free(&html);
    free(subject);
    free(subj_full);
    free(title);
    free(attr);
    return hp__steal(&msg);
}

/* ---- team webhook ------------------------------------------------------------------------ */

char *hp_chmsg_event(const char *type, int64_t now_us, json_object *data)
{
    json_object *o = json_object_new_object();
    char ts[40];

    hp_time_rfc3339(now_us, ts, sizeof(ts));
    hp_json_set_str(o, "type", type);
    hp_json_set_str(o, "timestamp", ts);
    json_object_object_add(o, "data", json_object_get(data));
    return hp__json_out(o);
}
