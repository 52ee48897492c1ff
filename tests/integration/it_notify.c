/*
 * Channel notifications end to end: the API creates approvals, the real
 * holdpoint-delivery expands them and sends them to local receivers.
 *
 *  - ntfy, Slack and the team webhook: the exact request shapes (JSON
 *    fields, action buttons, Block Kit, Standard Webhooks signatures checked
 *    by the `standardwebhooks` package), the access token sent and never
 *    logged, decided events to the webhook only, per-channel counters on
 *    /metrics and the last success in `channel list`;
 *  - Web Push: subscriptions registered through the reviewer API with keys
 *    a local push service generated like a browser; each push's VAPID JWT
 *    verified and its body decrypted with `http_ece` (tests/e2e/
 *    channel_sinks.js); a 410 or a 404 removes the subscription;
 *  - email: an SMTP sink (`smtp-server`) requiring AUTH, parsed with
 *    `mailparser`: one link per option; STARTTLS and implicit TLS to
 *    servers whose certificate is verified with HOLDPOINT_OUTBOUND_CA_FILE;
 *    a wrong password is a failed, retried attempt recorded as the
 *    channel's last error; STARTTLS required against a server without it
 *    sends nothing;
 *  - routing to one channel, a team without channels queuing nothing, a
 *    loopback URL refused at send time, `channel test`, an approval closed
 *    before its notice went out asking nobody, and a seed 004 message sent
 *    through the channels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_workers.h"

#define WORKER "holdpoint-delivery"

static const char *sinks_file;  /* its JSON lines */
static json_object *sinks_info; /* its ready line */

static const char *const api_env[] = {"HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1", NULL};

/* The worker's environment: local receivers allowed, quick retries, links
 * pointing at the test API, a VAPID contact. */
static const char *const *worker_env(const char *extra)
{
    const char **e = hp_it_track(calloc(12, sizeof(char *)), free);
    int n = 0;
    e[n++] = "HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1";
    e[n++] = "HOLDPOINT_CALLBACK_BASE_DELAY_MS=100";
    e[n++] = "HOLDPOINT_CALLBACK_MAX_DELAY_MS=300";
    e[n++] = "HOLDPOINT_CALLBACK_TIMEOUT_MS=3000";
    e[n++] = "HOLDPOINT_CALLBACK_MAX_ATTEMPTS=3";
    e[n++] = "HOLDPOINT_VAPID_SUBJECT=mailto:ops@example.com";
    e[n++] = hp_it_fmt("HOLDPOINT_PUBLIC_URL=%s", hp_it_api_base(hp_it_api_default()));
    if (extra != NULL)
        e[n++] = extra;
    e[n] = NULL;
    return e;
}

/* `holdpoint admin channel ARGS --json` with the allow list (the
 * receivers are on 127.0.0.1); fatal on failure. */
static json_object *channel(const char *const *args)
{
    const char *full[40] = {"admin", "channel"};
    int n = 2;
    for (const char *const *a = args; *a != NULL; a++)
        full[n++] = *a;
    full[n++] = "--json";
    full[n] = NULL;
    setenv("HOLDPOINT_OUTBOUND_ALLOW", "127.0.0.1", 1);
    return hp_it_admin(full);
}

static const char *jstr(json_object *o, const char *path)
{
    json_object *v = hp_it_jget(o, path, NULL);
    return v != NULL ? json_object_get_string(v) : NULL;
}

static const char *add(const hp_it_team *t, const char *kind, const char *name,
                       const char *const *extra)
{
    const char *a[30] = {"add", "--team-id", t->team_id, "--kind", kind, "--name", name};
    int n = 7;
    for (const char *const *e = extra; e != NULL && *e != NULL; e++)
        a[n++] = *e;
    a[n] = NULL;
    json_object *o = channel(a);
    if (strcmp(kind, "webhook") == 0)
        return hp_it_fmt("%s %s", jstr(o, "channel_id"), jstr(o, "signing_secret"));
    return jstr(o, "channel_id");
}

static bool starts(const char *s, const char *prefix)
{
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *url_of(const it_recv *r, const char *path)
{
    return hp_it_fmt("http://127.0.0.1:%d%s", r->port, path);
}

/* The receiver's request to path, or NULL. */
static it_rreq *req_to(it_recv *r, const char *path)
{
    it_rreq *found = NULL;
    const char *line = hp_it_fmt("POST %s HTTP/1.1", path);
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n && found == NULL; i++)
        if (strncmp(r->reqs[i].head, line, strlen(line)) == 0)
            found = &r->reqs[i];
    pthread_mutex_unlock(&r->mu);
    return found;
}

static int reqs_to(it_recv *r, const char *path)
{
    const char *line = hp_it_fmt("POST %s HTTP/1.1", path);
    int n = 0;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n; i++)
        if (strncmp(r->reqs[i].head, line, strlen(line)) == 0)
            n++;
    pthread_mutex_unlock(&r->mu);
    return n;
}

static json_object *body_json(const it_rreq *q)
{
    return q != NULL ? hp_it_json(q->body) : NULL;
}

static void jput(void *o)
{
    json_object_put(o);
}

/* Lines of the sinks' file of type (and, when not NULL, whose text holds
 * needle), as a JSON array (harness-owned). */
static json_object *sink_lines(const char *type, const char *needle)
{
    json_object *arr = hp_it_track(json_object_new_array(), jput);
    FILE *f = fopen(sinks_file, "r");
    char *line = NULL;
    size_t cap = 0;

    while (f != NULL && getline(&line, &cap, f) > 0) {
        json_object *o = json_tokener_parse(line);
        if (o != NULL && jstr(o, "type") != NULL && strcmp(jstr(o, "type"), type) == 0 &&
            (needle == NULL || strstr(line, needle) != NULL))
            json_object_array_add(arr, o);
        else
            json_object_put(o);
    }
    free(line);
    if (f != NULL)
        fclose(f);
    return arr;
}

static json_object *sink_wait(const char *type, const char *needle, int n, long timeout_ms)
{
    double end = hp_it_now() + (double)timeout_ms / 1000.0;
    json_object *a;
    while ((int)json_object_array_length(a = sink_lines(type, needle)) < n && hp_it_now() < end)
        hp_it_sleep_ms(50);
    return a;
}

static const char *question_body(const char *q)
{
    return hp_it_fmt("{\"question\":\"%s\",\"context_markdown\":\"Release *notes* <b>x</b> & "
                     "more\",\"options\":[{\"label\":\"Approve\",\"value\":\"yes\"},"
                     "{\"label\":\"Deny\",\"value\":\"no\"}],\"timeout_seconds\":600}",
                     q);
}

static const char *create(const hp_it_team *t, const char *q)
{
    hp_it_resp *r = hp_it_agent(t, "POST", "/v1/approvals", question_body(q));
    IT_STATUS_FATAL(r, 200);
    return jstr(r->json, "approval_id");
}

/* ---- tests ----------------------------------------------------------------- */

static void test_ntfy_slack_webhook_shapes(void)
{
    const hp_it_team *t = hp_it_team_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    const char *ntfy_args[] = {"--url",         url_of(r, "/"), "--topic",
                               "ops-approvals", "--token",      "tk_secret_ntfy_77",
                               "--tags",        "warning",      NULL};
    const char *slack_args[] = {"--webhook-url", url_of(r, "/slack/T1/B1/xyz"), NULL};
    const char *hook_args[] = {"--url", url_of(r, "/team-hook"), NULL};
    const char *ntfy = add(t, "ntfy", "Phones", ntfy_args);
    const char *slack = add(t, "slack", "Ops", slack_args);
    const char *hook = add(t, "webhook", "Hook", hook_args);
    const char *secret = strchr(hook, ' ') + 1;
    int mport = it_free_port();
    it_proc *w =
        it_proc_start(WORKER, "delivery-notify",
                      worker_env(hp_it_fmt("HOLDPOINT_METRICS_LISTEN=127.0.0.1:%d", mport)));
    const char *id = create(t, "Ship release 4.2?");
    const char *base = hp_it_api_base(hp_it_api_default());
    json_object *o;

    IT_CHECK_FATAL(it_recv_wait(r, 3, 15000), "3 requests wanted, got %d", it_recv_count(r));

    /* ntfy: JSON publishing to the server root. */
    it_rreq *q = req_to(r, "/");
    IT_CHECK_FATAL(q != NULL, "no ntfy request");
    IT_CHECK(strcmp(it_rhdr(q, "Authorization"), "Bearer tk_secret_ntfy_77") == 0, "ntfy token");
    IT_CHECK(strcmp(it_rhdr(q, "Content-Type"), "application/json") == 0, "ntfy content type");
    o = body_json(q);
    IT_JSTR(o, "topic", "ops-approvals");
    IT_JSTR(o, "title", "Ship release 4.2?");
    IT_CHECK(strstr(jstr(o, "message"), "Release *notes* <b>x</b> & more") != NULL,
             "ntfy message: %s", jstr(o, "message"));
    IT_JINT(o, "priority", 4);
    IT_JSTR(o, "tags.0", "warning");
    IT_CHECK(starts(jstr(o, "click"), hp_it_fmt("%s/app/link/", base)), "click %s",
             jstr(o, "click"));
    IT_CHECK(hp_it_jlen(hp_it_jget(o, "actions", NULL)) == 2, "2 actions");
    IT_JSTR(o, "actions.0.action", "http");
    IT_JSTR(o, "actions.0.label", "Approve");
    IT_JSTR(o, "actions.0.method", "POST");
    IT_JBOOL(o, "actions.0.clear", true);
    IT_JSTR(o, "actions.1.label", "Deny");
    IT_CHECK(strcmp(jstr(o, "actions.0.url"), jstr(o, "actions.1.url")) != 0 &&
                 strcmp(jstr(o, "actions.0.url"), jstr(o, "click")) != 0,
             "each action its own link");

    /* Slack: Block Kit with link buttons. */
    q = req_to(r, "/slack/T1/B1/xyz");
    IT_CHECK_FATAL(q != NULL, "no slack request");
    o = body_json(q);
    IT_JSTR(o, "text", "Ship release 4.2?");
    IT_JSTR(o, "blocks.0.type", "header");
    IT_JSTR(o, "blocks.0.text.type", "plain_text");
    IT_JSTR(o, "blocks.0.text.text", "Ship release 4.2?");
    IT_JSTR(o, "blocks.1.type", "section");
    IT_JSTR(o, "blocks.1.text.type", "mrkdwn");
    IT_JSTR(o, "blocks.1.text.text", "Release *notes* &lt;b&gt;x&lt;/b&gt; &amp; more");
    IT_JSTR(o, "blocks.2.type", "context");
    IT_JSTR(o, "blocks.3.type", "actions");
    IT_JSTR(o, "blocks.3.elements.0.text.text", "Approve");
    IT_JSTR(o, "blocks.3.elements.0.style", "primary");
    IT_CHECK(starts(jstr(o, "blocks.3.elements.0.url"), hp_it_fmt("%s/app/link/", base)),
             "slack button url");
    IT_JSTR(o, "blocks.3.elements.1.text.text", "Deny");
    IT_JSTR(o, "blocks.3.elements.2.text.text", "Open");
    IT_JMISSING(o, "blocks.3.elements.0.value");

    /* The team webhook: a signed approval.created event. */
    q = req_to(r, "/team-hook");
    IT_CHECK_FATAL(q != NULL, "no webhook request");
    o = body_json(q);
    IT_JSTR(o, "type", "approval.created");
    IT_JSTR(o, "data.approval_id", id);
    IT_JSTR(o, "data.status", "pending");
    IT_CHECK(starts(jstr(o, "data.decision_url"), hp_it_fmt("%s/app/link/", base)), "decision_url");
    IT_CHECK(it_rhdr(q, "webhook-id") != NULL && it_rhdr(q, "webhook-signature") != NULL,
             "standard webhooks headers");

    /* A decision: the webhook hears of it; ntfy and Slack are not asked
     * again. */
    IT_STATUS(hp_it_user(t, "POST", hp_it_fmt("/v1/review/approvals/%s/resolve", id),
                         "{\"option_index\":0}"),
              200);
    IT_CHECK(it_recv_wait(r, 4, 15000), "decided event not sent");
    hp_it_sleep_ms(300);
    IT_CHECK(reqs_to(r, "/team-hook") == 2 && reqs_to(r, "/") == 1 &&
                 reqs_to(r, "/slack/T1/B1/xyz") == 1,
             "requests after the decision: hook %d ntfy %d slack %d", reqs_to(r, "/team-hook"),
             reqs_to(r, "/"), reqs_to(r, "/slack/T1/B1/xyz"));
    pthread_mutex_lock(&r->mu);
    o = hp_it_json(r->reqs[r->n - 1].body);
    pthread_mutex_unlock(&r->mu);
    IT_JSTR(o, "type", "approval.decided");
    IT_JINT(o, "data.selected_option_index", 0);
    IT_JMISSING(o, "data.decision_url");
    IT_CHECK(it_verify_signatures(r, "/team-hook", secret) == 0,
             "signatures refused by the verifier");

    /* Operations: per-channel counters, and the last success in the list. */
    {
        const char *text = it_get_text(hp_it_fmt("http://127.0.0.1:%d/metrics", mport));
        IT_CHECK(text != NULL &&
                     strstr(text, hp_it_fmt("holdpoint_channel_sends_total{channel=\"%s\","
                                            "kind=\"ntfy\",outcome=\"sent\"} 1",
                                            ntfy)) != NULL,
                 "ntfy counter missing in /metrics");
        IT_CHECK(text != NULL &&
                     strstr(text, hp_it_fmt("holdpoint_channel_sends_total{channel=\"%s\","
                                            "kind=\"webhook\",outcome=\"sent\"} 2",
                                            hp_it_fmt("%.36s", hook))) != NULL,
                 "webhook counter missing in /metrics");
        IT_CHECK(text != NULL &&
                     strstr(text, hp_it_fmt("holdpoint_channel_send_duration_seconds_count{"
                                            "channel=\"%s\",kind=\"slack\"} 1",
                                            slack)) != NULL,
                 "slack latency missing in /metrics");
    }
    {
        const char *a[] = {"list", "--team-id", t->team_id, NULL};
        o = channel(a);
        IT_CHECK(jstr(o, "channels.0.last_success_at") != NULL, "last_success_at not set");
        IT_JNULL(o, "channels.0.last_error");
    }
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
    IT_CHECK(it_proc_log_count(w, "tk_secret_ntfy_77") == 0, "token logged");
    IT_CHECK(it_proc_log_count(w, secret + 6) == 0, "webhook secret logged");
    IT_CHECK(it_proc_log_count(w, "/slack/T1/B1/xyz") == 0, "slack url logged");
}

/* Registers the sinks' i-th browser-like subscription for t's user. */
static const char *subscribe(const hp_it_team *t, int i)
{
    json_object *sub = hp_it_jget(sinks_info, hp_it_fmt("subscriptions.%d", i), NULL);
    hp_it_resp *r =
        hp_it_user(t, "POST", "/v1/review/push-subscriptions", json_object_to_json_string(sub));
    IT_STATUS_FATAL(r, 201);
    return jstr(r->json, "subscription_id");
}

static void test_webpush(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *ch = add(t, "webpush", "Devices", NULL);
    const char *sub0 = subscribe(t, 0), *sub1 = subscribe(t, 1), *gone = subscribe(t, 3),
               *missing = subscribe(t, 4);
    const char *key, *q = hp_it_fmt("Restart the database %s?", hp_it_unique());
    it_proc *w;
    json_object *pushes, *p;
    hp_it_resp *r;

    (void)sub0;
    (void)sub1;
    r = hp_it_user(t, "GET", "/v1/review/push/key", NULL);
    IT_STATUS_FATAL(r, 200);
    key = jstr(r->json, "public_key");
    IT_CHECK(key != NULL && strlen(key) == 87, "vapid public key %s", key ? key : "(none)");
    /* Bad subscriptions are refused with the seed's issues. */
    IT_ISSUE(hp_it_user(t, "POST", "/v1/review/push-subscriptions",
                        "{\"endpoint\":\"http://10.0.0.1/push\",\"keys\":{\"p256dh\":\"x\","
                        "\"auth\":\"y\"}}"),
             "[\"endpoint\"]", "invalid_string");
    IT_ISSUE(hp_it_user(t, "POST", "/v1/review/push-subscriptions",
                        "{\"endpoint\":\"http://127.0.0.1:9/p\",\"keys\":{\"p256dh\":\"AAAA\","
                        "\"auth\":\"AAAAAAAAAAAAAAAAAAAAAA\"}}"),
             "[\"keys\"]", "custom");

    w = it_proc_start(WORKER, "delivery-push", worker_env(NULL));
    const char *id = create(t, q);
    pushes = sink_wait("push", q, 4, 15000);
    IT_CHECK_FATAL(json_object_array_length(pushes) == 4, "%zu pushes",
                   json_object_array_length(pushes));
    for (size_t i = 0; i < 4; i++) {
        p = json_object_array_get_idx(pushes, i);
        IT_JBOOL(p, "ok", true);
        IT_CHECK(hp_it_jlen(hp_it_jget(p, "errors", NULL)) == 0, "push errors: %s",
                 hp_it_jtext(hp_it_jget(p, "errors", NULL)));
        IT_JSTR(p, "payload.title", q);
        IT_JSTR(p, "payload.tag", id);
        IT_JSTR(p, "payload.url",
                hp_it_fmt("%s/app/approvals/%s", hp_it_api_base(hp_it_api_default()), id));
        IT_JSTR(p, "payload.actions.0.action", "opt0");
        IT_JSTR(p, "payload.actions.0.title", "Approve");
        IT_JSTR(p, "payload.actions.1.title", "Deny");
        IT_CHECK(starts(jstr(p, "payload.actions.0.url"),
                        hp_it_fmt("%s/app/link/", hp_it_api_base(hp_it_api_default()))),
                 "action url");
        IT_JSTR(p, "claims.sub", "mailto:ops@example.com");
        IT_JSTR(p, "claims.k", key);
        IT_JSTR(p, "headers.urgency", "high");
        IT_CHECK(jstr(p, "headers.topic") != NULL && strlen(jstr(p, "headers.topic")) == 32,
                 "topic");
    }
    /* The 410 and the 404 removed their subscriptions after one attempt;
     * the others stay. */
    IT_CHECK(it_sql_wait(0, 10000, "select count(*) from push_subscriptions where id = $1", gone) ==
                 0,
             "gone subscription kept");
    IT_CHECK(it_sql_wait(0, 10000, "select count(*) from push_subscriptions where id = $1",
                         missing) == 0,
             "missing subscription kept");
    IT_CHECK(hp_it_sql_int("select count(*) from push_subscriptions where user_id = $1", t->user_id,
                           (const char *)NULL) == 2,
             "live subscriptions removed");
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where channel_id = $1 and state = 'failed' "
                           "and attempts = 1 and last_error like 'http 410%'",
                           ch, (const char *)NULL) == 1,
             "410 job not failed at once");
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where channel_id = $1 and state = 'failed' "
                           "and attempts = 1 and last_error like 'http 404%'",
                           ch, (const char *)NULL) == 1,
             "404 job not failed at once");
    r = hp_it_user(t, "GET", "/v1/review/push-subscriptions", NULL);
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 2, "2 listed");
    IT_STATUS(hp_it_user(t, "DELETE", hp_it_fmt("/v1/review/push-subscriptions/%s", sub1), NULL),
              204);
    IT_ERROR(hp_it_user(t, "DELETE", hp_it_fmt("/v1/review/push-subscriptions/%s", sub1), NULL),
             404, "not_found");
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
}

static void test_email(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *port =
        hp_it_fmt("%d", (int)json_object_get_int(hp_it_jget(sinks_info, "smtp_port", NULL)));
    const char *ok_args[] = {"--host",     "127.0.0.1",
                             "--port",     port,
                             "--tls",      "none",
                             "--username", "hp-mailer",
                             "--password", "mail-pass-ok",
                             "--from",     "holdpoint@example.com",
                             "--to",       hp_it_fmt("%s,ops@example.com", t->email),
                             NULL};
    const char *bad_args[] = {"--host",     "127.0.0.1",    "--port",     port,
                              "--tls",      "none",         "--username", "hp-mailer",
                              "--password", "wrong-pass-9", "--from",     "holdpoint@example.com",
                              NULL};
    const char *tls_args[] = {"--host",     "127.0.0.1",    "--port",     port,
                              "--tls",      "starttls",     "--username", "hp-mailer",
                              "--password", "mail-pass-ok", "--from",     "holdpoint@example.com",
                              NULL};
    /* STARTTLS and implicit TLS against servers whose certificate the
     * worker verifies with HOLDPOINT_OUTBOUND_CA_FILE. */
    const char *secure_args[][15] = {
        {"--host", "127.0.0.1", "--port",
         hp_it_fmt("%d", (int)json_object_get_int(hp_it_jget(sinks_info, "starttls_port", NULL))),
         "--tls", "starttls", "--username", "hp-mailer", "--password", "mail-pass-ok", "--from",
         "holdpoint@example.com", "--to", "sec@example.com", NULL},
        {"--host", "127.0.0.1", "--port",
         hp_it_fmt("%d", (int)json_object_get_int(hp_it_jget(sinks_info, "tls_port", NULL))),
         "--tls", "tls", "--username", "hp-mailer", "--password", "mail-pass-ok", "--from",
         "holdpoint@example.com", "--to", "sec@example.com", NULL}};
    const char *good = add(t, "email", "Mail", ok_args);
    const char *bad = add(t, "email", "Mail wrong password", bad_args);
    const char *tls = add(t, "email", "Mail starttls", tls_args);
    const char *q = hp_it_fmt("Delete bucket %s?", hp_it_unique());
    it_proc *w = it_proc_start(
        WORKER, "delivery-mail",
        worker_env(hp_it_fmt("HOLDPOINT_OUTBOUND_CA_FILE=%s", jstr(sinks_info, "ca_file"))));
    json_object *mails, *m, *plain = hp_it_track(json_object_new_array(), jput);
    int secure = 0;

    (void)good;
    (void)add(t, "email", "Mail verified starttls", secure_args[0]);
    (void)add(t, "email", "Mail implicit tls", secure_args[1]);
    (void)create(t, q);
    mails = sink_wait("mail", q, 4, 15000);
    IT_CHECK_FATAL(json_object_array_length(mails) == 4, "%zu mails",
                   json_object_array_length(mails));
    for (size_t i = 0; i < 4; i++) {
        m = json_object_array_get_idx(mails, i);
        if (strcmp(jstr(m, "server"), "plain") == 0) {
            IT_JBOOL(m, "secure", false);
            json_object_array_add(plain, json_object_get(m));
            continue;
        }
        /* Over TLS, both ways, with the server's certificate verified. */
        secure |= strcmp(jstr(m, "server"), "starttls") == 0 ? 1 : 2;
        IT_JBOOL(m, "secure", true);
        IT_JSTR(m, "user", "hp-mailer");
        IT_JSTR(m, "envelope_to.0", "sec@example.com");
        IT_JSTR(m, "subject", hp_it_fmt("[Holdpoint] %s", q));
    }
    IT_CHECK(secure == 3, "mails over starttls and implicit tls: %d", secure);
    mails = plain;
    IT_CHECK_FATAL(json_object_array_length(mails) == 2, "%zu mails in clear",
                   json_object_array_length(mails));
    for (size_t i = 0; i < 2; i++) {
        m = json_object_array_get_idx(mails, i);
        IT_JSTR(m, "user", "hp-mailer");
        IT_JSTR(m, "subject", hp_it_fmt("[Holdpoint] %s", q));
        IT_CHECK(strstr(jstr(m, "from"), "holdpoint@example.com") != NULL, "from");
        IT_CHECK(strstr(jstr(m, "text"), "Approve: ") != NULL &&
                     strstr(jstr(m, "text"), "Deny: ") != NULL,
                 "text part: %s", jstr(m, "text"));
        /* The context is CommonMark rendered safely: emphasis kept, the
         * raw HTML dropped. */
        IT_CHECK(strstr(jstr(m, "html"), "<em>notes</em>") != NULL &&
                     strstr(jstr(m, "html"), "<b>x</b>") == NULL,
                 "context html: %s", jstr(m, "html"));
        IT_CHECK(hp_it_jlen(hp_it_jget(m, "links", NULL)) == 3, "3 links (2 options, view)");
        IT_CHECK(starts(jstr(m, "links.0"),
                        hp_it_fmt("%s/app/link/", hp_it_api_base(hp_it_api_default()))),
                 "link %s", jstr(m, "links.0"));
    }
    /* Each recipient gets links of their own. */
    IT_CHECK(strcmp(jstr(json_object_array_get_idx(mails, 0), "links.0"),
                    jstr(json_object_array_get_idx(mails, 1), "links.0")) != 0,
             "two recipients, same links");
    /* The wrong password: three failed attempts, the reason on the channel. */
    IT_CHECK(it_sql_wait(1, 15000,
                         "select count(*) from jobs where channel_id = $1 and state = 'failed' "
                         "and attempts = 3",
                         bad) == 1,
             "wrong password job not failed after 3 attempts");
    IT_CHECK(strcmp(hp_it_sql_str("select last_error from channels where id = $1", bad,
                                  (const char *)NULL),
                    "smtp: authentication failed") == 0,
             "last_error of the wrong password");
    IT_CHECK(it_sql_wait(1, 15000,
                         "select count(*) from jobs where channel_id = $1 and state = 'failed'",
                         tls) == 1,
             "starttls job not failed");
    IT_CHECK(strcmp(hp_it_sql_str("select last_error from channels where id = $1", tls,
                                  (const char *)NULL),
                    "smtp: the server does not offer STARTTLS") == 0,
             "last_error of starttls");
    IT_CHECK(json_object_array_length(sink_lines("mail", q)) == 4, "more mail than the good four");
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
    IT_CHECK(it_proc_log_count(w, "wrong-pass-9") == 0 && it_proc_log_count(w, "mail-pass-ok") == 0,
             "smtp password logged");
}

static void test_routing_and_no_channels(void)
{
    const hp_it_team *t = hp_it_team_new(), *bare = hp_it_team_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    const char *a1[] = {"--url", url_of(r, "/a"), NULL};
    const char *a2[] = {"--url", url_of(r, "/b"), NULL};
    const char *first = add(t, "webhook", "A", a1);
    const char *route[] = {
        "route", "--agent-id", t->agent_id, "--channels", hp_it_fmt("%.36s", first), NULL};
    it_proc *w;

    (void)add(t, "webhook", "B", a2);
    (void)channel(route);
    w = it_proc_start(WORKER, "delivery-route", worker_env(NULL));
    (void)create(t, "Routed?");
    (void)create(bare, "Nobody listens?");
    IT_CHECK(it_recv_wait(r, 1, 10000), "routed channel got nothing");
    hp_it_sleep_ms(500);
    IT_CHECK(reqs_to(r, "/a") == 1 && reqs_to(r, "/b") == 0, "a %d b %d", reqs_to(r, "/a"),
             reqs_to(r, "/b"));
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where team_id = $1", bare->team_id,
                           (const char *)NULL) == 0,
             "a team without channels queued jobs");
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
}

static void test_ssrf_at_send_and_test_command(void)
{
    const hp_it_team *t = hp_it_team_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    const char *args[] = {"--url", url_of(r, "/ntfy"), "--topic", "t", NULL};
    const char *ch = add(t, "ntfy", "Local", args);
    const char *strict[] = {"HOLDPOINT_OUTBOUND_ALLOW=", NULL};
    it_proc *w = it_proc_start(WORKER, "delivery-strict", worker_env(strict[0]));
    json_object *o;
    int st = -1;
    char *out = NULL, *err = NULL;

    /* Allowed when configured, refused at send time by a worker whose
     * rules do not allow it: nothing is sent. */
    (void)create(t, "Refused?");
    IT_CHECK(it_sql_wait(1, 10000,
                         "select count(*) from jobs where channel_id = $1 and state = 'failed'",
                         ch) == 1,
             "loopback job not failed");
    IT_CHECK(strstr(hp_it_sql_str("select last_error from channels where id = $1", ch,
                                  (const char *)NULL),
                    "url refused: host is a loopback address") != NULL,
             "reason");
    IT_CHECK(it_recv_count(r) == 0, "a refused request reached the receiver");
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");

    /* channel test: sent and reported, through a worker that allows it. */
    w = it_proc_start(WORKER, "delivery-test", worker_env(NULL));
    {
        const char *a[] = {"admin", "channel", "test", "--channel-id", ch, "--wait",
                           "20",    "--json",  NULL};
        o = hp_it_cli(a, &st, &out, &err);
    }
    IT_CHECK(st == 0, "channel test status %d: %s", st, err);
    IT_JSTR(o, "status", "sent");
    IT_CHECK(it_recv_wait(r, 1, 5000), "no test message");
    IT_JSTR(body_json(req_to(r, "/ntfy")), "title", "Holdpoint test message");
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
}

/* An expiry reaches the team webhook as approval.expired. */
static void test_expired_event(void)
{
    const hp_it_team *t = hp_it_team_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    const char *h[] = {"--url", url_of(r, "/hook"), NULL};
    const char *id;
    it_proc *w, *tmo;
    json_object *o = NULL;

    (void)add(t, "webhook", "H", h);
    id = create(t, "Expires soon?");
    (void)hp_it_sql_exec("update approvals set expires_at = now() where id = $1", id,
                         (const char *)NULL);
    w = it_proc_start(WORKER, "delivery-expired", worker_env(NULL));
    tmo = it_proc_start("holdpoint-timeout", "timeout-expired", worker_env(NULL));
    IT_CHECK(it_recv_wait(r, 2, 15000), "expired event not sent (%d requests)", it_recv_count(r));
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n && o == NULL; i++) {
        json_object *x = hp_it_json(r->reqs[i].body);
        if (jstr(x, "type") != NULL && strcmp(jstr(x, "type"), "approval.expired") == 0)
            o = x;
    }
    pthread_mutex_unlock(&r->mu);
    IT_CHECK_FATAL(o != NULL, "no approval.expired event");
    IT_JSTR(o, "data.approval_id", id);
    IT_JSTR(o, "data.status", "expired");
    IT_CHECK(it_proc_stop(tmo, 15000) == 0 && it_proc_stop(w, 15000) == 0, "workers exit status");
}

/* A seed 004 message goes through the channels too. */
static void test_message(void)
{
    const hp_it_team *t = hp_it_team_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    const char *n[] = {"--url", url_of(r, "/ntfy"), "--topic", "t", NULL};
    const char *h[] = {"--url", url_of(r, "/hook"), NULL};
    const char *mid;
    it_proc *w;
    json_object *o;
    hp_it_resp *res;

    (void)add(t, "ntfy", "N", n);
    (void)add(t, "webhook", "H", h);
    w = it_proc_start(WORKER, "delivery-message", worker_env(NULL));
    res = hp_it_agent(t, "POST", "/v1/messages",
                      "{\"title\":\"Backfill finished\",\"message\":\"12,400 rows\"}");
    IT_CHECK_FATAL(res->status == 200 || res->status == 201 || res->status == 202,
                   "message status %ld: %s", res->status, res->body);
    mid = jstr(res->json, "notification_id");
    IT_CHECK(it_recv_wait(r, 2, 10000), "message not sent to both channels");
    o = body_json(req_to(r, "/ntfy"));
    IT_JSTR(o, "title", "Backfill finished");
    IT_CHECK(jstr(o, "message") != NULL && strstr(jstr(o, "message"), "12,400 rows") != NULL,
             "ntfy message text");
    IT_JMISSING(o, "actions");
    o = body_json(req_to(r, "/hook"));
    IT_JSTR(o, "type", "message.created");
    IT_JSTR(o, "data.title", "Backfill finished");
    if (mid != NULL)
        IT_JSTR(o, "data.message_id", mid);
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
}

static void test_closed_before_sent(void)
{
    const hp_it_team *t = hp_it_team_new();
    it_recv *r = it_recv_start(NULL, 0, 0);
    const char *n[] = {"--url", url_of(r, "/ntfy"), "--topic", "t", NULL};
    const char *h[] = {"--url", url_of(r, "/hook"), NULL};
    const char *id;
    it_proc *w;

    (void)add(t, "ntfy", "N", n);
    (void)add(t, "webhook", "H", h);
    id = create(t, "Cancelled first?");
    IT_STATUS(hp_it_agent(t, "POST",
                          hp_it_fmt("/v1/approvals/%s/cancel",
                                    hp_it_sql_str("select request_id from approvals where id = $1",
                                                  id, (const char *)NULL)),
                          NULL),
              200);
    w = it_proc_start(WORKER, "delivery-closed", worker_env(NULL));
    IT_CHECK(it_recv_wait(r, 2, 10000), "webhook events missing");
    hp_it_sleep_ms(500);
    IT_CHECK(reqs_to(r, "/ntfy") == 0, "a cancelled approval was asked on ntfy");
    IT_CHECK(reqs_to(r, "/hook") == 2, "webhook got %d events", reqs_to(r, "/hook"));
    IT_CHECK(it_proc_stop(w, 15000) == 0, "worker exit status");
}

/* Starts tests/e2e/channel_sinks.js for the whole program and reads its
 * ready line (ports and browser-like subscriptions). */
static pid_t sinks_pid;

static int setup(void)
{
    char *line = NULL;
    size_t cap = 0;
    FILE *f;
    const char *ready = hp_it_fmt("%s/sinks-%d.ready", hp_it_env("HP_RUN_DIR"), (int)getpid());

    if (it_schema_ready() != 0 || it_e2e_ready("it_notify") != 0)
        return 1;
    sinks_file = hp_it_fmt("%s/sinks-%d.jsonl", hp_it_env("HP_RUN_DIR"), (int)getpid());
    sinks_pid = fork();
    if (sinks_pid == 0) {
        int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fd, 1);
        execlp("node", "node", hp_it_fmt("%s/tests/e2e/channel_sinks.js", it_repo_root()),
               sinks_file, "hp-mailer", "mail-pass-ok", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 300 && sinks_info == NULL; i++) {
        hp_it_sleep_ms(50);
        f = fopen(ready, "r");
        if (f != NULL && getline(&line, &cap, f) > 0)
            sinks_info = json_tokener_parse(line);
        if (f != NULL)
            fclose(f);
    }
    free(line);
    if (sinks_info == NULL) {
        fprintf(stderr, "it_notify: tests/e2e/channel_sinks.js did not start\n");
        return 1;
    }
    return 0;
}

static int teardown(void)
{
    int st;
    if (sinks_pid > 0) {
        kill(sinks_pid, SIGTERM);
        waitpid(sinks_pid, &st, 0);
    }
    json_object_put(sinks_info);
    return it_jobs_cleanup();
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"ntfy, slack, webhook: shapes, decided event, metrics, list",
         test_ntfy_slack_webhook_shapes},
        {"web push: vapid verified, payload decrypted, 410 and 404 remove", test_webpush},
        {"email: parsed, links; starttls, implicit tls; wrong password, no starttls fail",
         test_email},
        {"routing to one channel; a team without channels queues nothing",
         test_routing_and_no_channels},
        {"loopback refused at send time; channel test", test_ssrf_at_send_and_test_command},
        {"an approval closed before its notice asks nobody", test_closed_before_sent},
        {"a seed 004 message goes through the channels", test_message},
        {"an expiry reaches the team webhook", test_expired_event},
        {NULL, NULL}};
    hp_it_set_default_env(api_env);
    return hp_it_main("it_notify", tests, setup, teardown);
}
