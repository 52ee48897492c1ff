/*
 * hp_channel_msg: what each channel kind sends — the ntfy JSON publish body,
 * the Slack Block Kit message, the Web Push payload, the e-mail (MIME,
 * plain text and HTML), and the team webhook's event — from one description
 * of the notification and its signed links. Rendered once when a "notify"
 * job is expanded; the delivery worker stores the result as the channel
 * job's exact body. Pure; no I/O; any thread. Text from agents is escaped
 * for each format (JSON by json-c, Slack mrkdwn, HTML), never interpreted.
 */
#ifndef HP_CHANNEL_MSG_H
#define HP_CHANNEL_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#define HP_CHMSG_OPTIONS_MAX 4

/* One notification to render. Strings are borrowed. */
typedef struct hp_chmsg {
    const char *event;      /* "created", "reminder", "escalation", "message", "test" */
    const char *title;      /* the question, a message title, or the test line */
    const char *text;       /* Markdown context or message body; may be "" */
    const char *agent_name; /* who asks; may be NULL */
    const char *approval_id;
    int noptions;
    const char *labels[HP_CHMSG_OPTIONS_MAX];
    const char *action_urls[HP_CHMSG_OPTIONS_MAX];   /* signed links that decide on POST */
    const char *action_tokens[HP_CHMSG_OPTIONS_MAX]; /* the same links' tokens */
    const char *view_url; /* the signed view link, or the app's page; may be NULL */
    const char *open_url; /* Web Push: what tapping the notification opens */
    int64_t expires_at;   /* Unix seconds; 0 when none */
} hp_chmsg;

/* The title with the event's prefix ("Reminder: ", "Escalated: "), heap. */
char *hp_chmsg_title(const hp_chmsg *m);

/* ntfy's JSON publishing body: topic, title, message, priority, tags, click
 * (the view link) and up to three `http` actions that POST the option links.
 * Heap JSON text. */
char *hp_chmsg_ntfy(const hp_chmsg *m, const char *topic, int priority, json_object *tags);

/* A Slack incoming-webhook message: fallback text and Block Kit blocks
 * (header, the context as mrkdwn, an attribution line, and buttons). Without
 * interactive the buttons open the signed links; with it they carry the link
 * tokens as values (action_id "hp_decide_<i>") for Slack to post back.
 * Heap JSON text. */
char *hp_chmsg_slack(const hp_chmsg *m, bool interactive);

/* The message that replaces a Slack message once decided: the title and
 * outcome (e.g. "Approved by @ana"), no buttons. Heap JSON text with
 * replace_original true. */
char *hp_chmsg_slack_decided(const char *title, const char *outcome);

/* The Web Push payload the service worker reads: title, body (the context,
 * shortened), tag (the approval id, so a reminder replaces its first
 * notice), url (open_url) and up to two actions {action, title, url}.
 * Heap JSON text, small enough for one encrypted record. */
char *hp_chmsg_push(const hp_chmsg *m);

/* A complete RFC 5322 message with CRLF line ends: From, To, Subject
 * (RFC 2047 encoded when not ASCII), Date (now, Unix seconds), Message-ID,
 * and a multipart/alternative body — text/plain and text/html (the context
 * as context_html, which must already be safe HTML), both base64 — with the
 * question, the context, one link per option and the view link. from and to
 * must be plain addresses (hp_channel_email_ok). Heap. */
char *hp_chmsg_email(const hp_chmsg *m, const char *context_html, const char *from, const char *to,
                     int64_t now);

/* A team webhook event in the Standard Webhooks shape: {"type", "timestamp"
 * (RFC 3339 of now_us), "data"} with data borrowed (a reference is taken).
 * Heap JSON text. */
char *hp_chmsg_event(const char *type, int64_t now_us, json_object *data);

#endif
