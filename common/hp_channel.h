/*
 * hp_channel: the notification channel model — the five kinds, the settings
 * each takes and their checks, and the split of those settings into what is
 * stored in clear (channels.config) and what is sealed
 * (channels.secret_sealed). The CLI (`holdpoint admin channel add`) and the
 * web settings page both hand a JSON object of settings to
 * hp_channel_prepare; the store seals the secret part. URLs and the SMTP host
 * obey the outbound rules (seed 004's SSRF list) when configured, and the
 * delivery worker checks them again before each send.
 *
 * Settings by kind (strings unless noted; * = required, (s) = secret):
 *   webpush  users (array of member ids; default every member's devices)
 *   ntfy     url* (server, http/https), topic* ([A-Za-z0-9_-], 1-64),
 *            token (s) (access token), priority (1-5, default 4), tags (array)
 *   slack    webhook_url* (s) (incoming webhook), signing_secret (s)
 *            (turns on interactive buttons)
 *   email    host*, port (1-65535, default 587), tls ("starttls" default,
 *            "tls" = implicit, "none"), username, password (s), from*,
 *            to (array of addresses; default every member's address)
 *   webhook  url* — the signing secret "whsec_..." is generated
 * Pure; any thread; nothing logs.
 */
#ifndef HP_CHANNEL_H
#define HP_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "hp_err.h"
#include "hp_urlpolicy.h"

/* Longest channel name (code points), topic, address. */
#define HP_CHANNEL_NAME_MAX  200
#define HP_CHANNEL_TOPIC_MAX 64
#define HP_CHANNEL_EMAIL_MAX 254
#define HP_CHANNEL_LIST_MAX  50

/* True for "webpush", "ntfy", "slack", "email" and "webhook". */
bool hp_channel_kind_ok(const char *kind);

/* Checks settings (a JSON object, borrowed) for kind and splits them:
 * *config (new reference) gets the settings stored in clear, *secret (new
 * reference, or NULL when the kind has none) the ones stored sealed. A
 * webhook channel's secret gets a new signing secret, which *shown_once
 * (heap, caller frees and wipes; NULL for other kinds) also returns for the
 * caller to print once. Unknown settings are refused, so a typo never
 * silently drops a value. HP_ERR_INVALID_PAYLOAD with a reason naming the
 * setting ("url: host is a private address") otherwise. policy may be NULL
 * (then only the URL syntax is checked). */
HP_MUSTCHECK hp_err hp_channel_prepare(const char *kind, json_object *settings,
                                       const hp_urlpolicy *policy, json_object **config,
                                       json_object **secret, char **shown_once, char *err,
                                       size_t errcap);

/* The URL the delivery worker checks for an SMTP host and port, so the same
 * outbound rules apply to mail: "http://<host>:<port>/" (IPv6 in brackets),
 * into out. False when it does not fit. */
bool hp_channel_smtp_check_url(const char *host, int port, char *out, size_t cap);

/* True when s is a plain mail address usable in a header and an SMTP
 * envelope: local@domain, printable ASCII, no spaces, angle brackets,
 * commas, semicolons or quotes, at most HP_CHANNEL_EMAIL_MAX bytes. */
bool hp_channel_email_ok(const char *s);

/* Parses a reminder or escalation delay: "off" or "0" (0: no step), a
 * number of minutes ("15"), or a number with a unit s, m, h or d ("90s",
 * "2h"), from 1 second to 7 days. False when s is none of these. */
bool hp_channel_delay_parse(const char *s, int *seconds);

#endif
