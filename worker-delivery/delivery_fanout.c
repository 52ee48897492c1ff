/*
 * delivery_fanout: expands a "notify" job into one job per destination,
 * on a prep thread, in one transaction that also marks the notify job done
 * (see hp_store_fanout.h). Destinations:
 *
 *   created, reminder, message   the agent's routed channels (all by default)
 *   escalation                   the escalation's channels, and its members
 *                                through the team's first webpush channel
 *                                (their devices) and first email channel
 *                                (their address)
 *   decided, expired, cancelled  the routed team webhooks only
 *   test                         the channel under test
 *
 * and within a channel: every matching push subscription (webpush), every
 * recipient (email: the configured addresses, else every member), one
 * request otherwise. Each destination gets its own signed links (bound to the
 * approval, the channel and — when known — the member), rendered into the
 * kind's body by hp_channel_msg. An approval that closed before the
 * expansion gets no asks (the team webhook still hears of its events).
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "delivery.h"
#include "hp_approval.h"
#include "hp_channel.h"
#include "hp_channel_msg.h"
#include "hp_json.h"
#include "hp_link.h"
#include "hp_log.h"
#include "hp_markdown.h"
#include "hp_store_approval.h"
#include "hp_store_fanout.h"
#include "hp_str.h"
#include "hp_time.h"

/* One expansion. */
typedef struct dlv_fx {
    const dlv_chctx *ctx;
    const hp_job *job;
    hp_pool *pool;
    hp_dbconn *c;
    const char *event;
    bool ask;          /* created, reminder, escalation: links to decide, only while pending */
    bool has_approval; /* row is set */
    hp_approval_row row;
    hp_chmsg base; /* what every destination shares */
    const char *app_url;
    json_object *children;
    hp_fanout_member *members; /* read on first use */
    int nmembers;
    hp_fanout_sub *subs; /* read on first use */
    int nsubs;
    const char *empty_reason; /* why a channel had no destination */
    char err[HP_ERRBUF];
} dlv_fx;

/* ---- building blocks ------------------------------------------------------------ */

static hp_err dlv__members(dlv_fx *x)
{
    if (x->members != NULL)
        return HP_OK;
    return hp_store_fanout_members(x->c, x->pool, x->job->team_id, &x->members, &x->nmembers,
                                   x->err, sizeof(x->err));
}

static hp_err dlv__subs(dlv_fx *x)
{
    if (x->subs != NULL)
        return HP_OK;
    return hp_store_fanout_subscriptions(x->c, x->pool, x->job->team_id, &x->subs, &x->nsubs,
                                         x->err, sizeof(x->err));
}

/* The destination's message: the shared parts and links bound to channel
 * and user (either may be ""). */
static void dlv__message(dlv_fx *x, const char *channel_id, const char *user_id, hp_chmsg *m)
{
    const char *pub = x->ctx->cfg->public_url;
    hp_link l;

    *m = x->base;
    m->view_url = x->app_url;
    m->open_url = x->app_url;
    if (!x->has_approval)
        return;
    m->open_url = hp_pool_printf(x->pool, "%s/app/approvals/%s", pub, x->row.id);
    if (strcmp(x->row.status, "pending") != 0)
        return; /* nothing left to decide: no links */
    memset(&l, 0, sizeof(l));
    hp_strlcpy(l.approval_id, x->row.id, sizeof(l.approval_id));
    hp_strlcpy(l.channel_id, channel_id != NULL ? channel_id : "", sizeof(l.channel_id));
    hp_strlcpy(l.user_id, user_id != NULL ? user_id : "", sizeof(l.user_id));
    l.expires_at = x->row.expires_at / 1000000;
    for (int i = -1; i < m->noptions; i++) {
        char tok[HP_LINK_TOKEN_LEN + 1];
        l.option_index = i;
        if (hp_link_sign(x->ctx->link_key, &l, tok) != HP_OK)
            continue;
        if (i < 0) {
            m->view_url = hp_pool_printf(x->pool, "%s/app/link/%s", pub, tok);
        } else {
            m->action_tokens[i] = hp_pool_strdup(x->pool, tok);
            m->action_urls[i] = hp_pool_printf(x->pool, "%s/app/link/%s", pub, tok);
        }
    }
}

/* Queues one destination. body and headers are consumed. */
static void dlv__child(dlv_fx *x, const char *kind, const char *channel_id, const char *sub_id,
                       const char *url, json_object *headers, char *body)
{
    json_object *o = json_object_new_object();

    hp_json_set_str(o, "kind", kind);
    hp_json_set_str(o, "channel_id", channel_id);
    hp_json_set_str(o, "subscription_id", sub_id);
    hp_json_set_str(o, "url", url != NULL ? url : "");
    json_object_object_add(o, "headers", headers);
    hp_json_set_str(o, "body", body);
    json_object_object_add(o, "only_pending",
                           json_object_new_boolean(x->ask && strcmp(kind, "channel.webhook") != 0));
    json_object_array_add(x->children, o);
    free(body);
}

/* ---- the kinds ---------------------------------------------------------------------- */

static void dlv__ntfy(dlv_fx *x, const char *channel_id, json_object *conf)
{
    hp_chmsg m;
    int64_t prio = 4;

    dlv__message(x, channel_id, "", &m);
    (void)hp_json_int(conf, "priority", &prio);
    dlv__child(x, "channel.ntfy", channel_id, NULL, hp_json_str(conf, "url"), NULL,
               hp_chmsg_ntfy(&m, hp_json_str(conf, "topic"), (int)prio, hp_json_arr(conf, "tags")));
}

static void dlv__slack(dlv_fx *x, const char *channel_id, json_object *conf)
{
    hp_chmsg m;

    dlv__message(x, channel_id, "", &m);
    dlv__child(
        x, "channel.slack", channel_id, NULL, "", NULL,
        hp_chmsg_slack(&m, json_object_get_boolean(json_object_object_get(conf, "interactive"))));
}

static void dlv__webhook(dlv_fx *x, const char *channel_id, json_object *conf)
{
    static const struct {
        const char *event, *type;
    } types[] = {{"created", "approval.created"},
                 {"decided", "approval.decided"},
                 {"expired", "approval.expired"},
                 {"cancelled", "approval.cancelled"},
                 {"escalation", "approval.escalated"},
                 {"message", "message.created"},
                 {"test", "channel.test"}};
    const char *type = NULL;
    json_object *data;
    hp_chmsg m;

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]) && type == NULL; i++)
        if (strcmp(types[i].event, x->event) == 0)
            type = types[i].type;
    if (type == NULL)
        return; /* reminders are for people */
    if (x->has_approval) {
        data = hp_approval_review_json(&x->row);
        dlv__message(x, channel_id, "", &m);
        if (strcmp(x->row.status, "pending") == 0)
            hp_json_set_str(data, "decision_url", m.view_url);
    } else {
        data = json_object_new_object();
        if (strcmp(x->event, "message") == 0) {
            json_object *body = NULL;
            char err[64];
            if (hp_json_parse(x->job->body, strlen(x->job->body), &body, err, sizeof(err)) == HP_OK)
                hp_json_set_str(data, "message_id", hp_json_str(body, "message_id"));
            json_object_put(body);
            hp_json_set_str(data, "agent_id", x->job->agent_id);
        }
        hp_json_set_str(data, "title", x->base.title);
        hp_json_set_str(data, "message", x->base.text);
        hp_json_set_str(data, "agent_name", x->base.agent_name);
    }
    dlv__child(x, "channel.webhook", channel_id, NULL, hp_json_str(conf, "url"), NULL,
               hp_chmsg_event(type, hp_time_now_us(), data));
    json_object_put(data);
}

/* The member whose address is email (case-insensitive), or NULL. */
static const char *dlv__user_by_email(dlv_fx *x, const char *email)
{
    for (int i = 0; i < x->nmembers; i++)
        if (hp_streq_ci(x->members[i].email, email))
            return x->members[i].id;
    return NULL;
}

static hp_err dlv__email(dlv_fx *x, const char *channel_id, json_object *conf,
                         const char *only_user)
{
    json_object *to = hp_json_arr(conf, "to");
    const char *from = hp_json_str(conf, "from");
    char *html = hp_markdown_html(x->base.text != NULL ? x->base.text : "",
                                  x->base.text != NULL ? strlen(x->base.text) : 0);
    int64_t now = hp_time_now_us() / 1000000;
    hp_err rc = dlv__members(x);
    int sent = 0;

    if (rc != HP_OK || from == NULL) {
        free(html);
        return rc;
    }
    for (int i = 0; i < x->nmembers; i++) {
        const char *uid = x->members[i].id, *addr = x->members[i].email;
        bool listed = to == NULL || json_object_array_length(to) == 0;
        hp_chmsg m;
        /* Configured addresses are handled below; members only when none
         * are configured, or when escalating to this member. */
        if (only_user != NULL)
            listed = strcmp(uid, only_user) == 0;
        if (!listed || addr == NULL || !hp_channel_email_ok(addr))
            continue;
        dlv__message(x, channel_id, uid, &m);
        dlv__child(x, "channel.email", channel_id, NULL, hp_pool_printf(x->pool, "mailto:%s", addr),
                   NULL, hp_chmsg_email(&m, html, from, addr, now));
        sent++;
    }
    for (size_t k = 0; only_user == NULL && to != NULL && k < json_object_array_length(to); k++) {
        const char *addr = json_object_get_string(json_object_array_get_idx(to, k));
        hp_chmsg m;
        if (!hp_channel_email_ok(addr))
            continue;
        dlv__message(x, channel_id, dlv__user_by_email(x, addr), &m);
        dlv__child(x, "channel.email", channel_id, NULL, hp_pool_printf(x->pool, "mailto:%s", addr),
                   NULL, hp_chmsg_email(&m, html, from, addr, now));
        sent++;
    }
    if (sent == 0)
        x->empty_reason = "no recipients with an address";
    free(html);
    return HP_OK;
}

static bool dlv__in_list(json_object *arr, const char *s)
{
    for (size_t i = 0; arr != NULL && i < json_object_array_length(arr); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
            return true;
    return false;
}

static hp_err dlv__webpush(dlv_fx *x, const char *channel_id, json_object *conf,
                           const char *only_user)
{
    json_object *users = hp_json_arr(conf, "users");
    bool all = users == NULL || json_object_array_length(users) == 0;
    int64_t ttl = 86400;
    char topic[33] = "";
    hp_err rc = dlv__subs(x);
    int sent = 0;

    if (rc != HP_OK)
        return rc;
    if (x->has_approval) {
        ttl = (x->row.expires_at - hp_time_now_us()) / 1000000;
        if (ttl < 60)
            ttl = 60;
        /* A reminder replaces its first notice on the device: the Topic is
         * the approval id's 32 hex digits. */
        size_t n = 0;
        for (const char *p = x->row.id; *p != '\0' && n < 32; p++)
            if (*p != '-')
                topic[n++] = *p;
        topic[n] = '\0';
    }
    for (int i = 0; i < x->nsubs; i++) {
        const char *sid = x->subs[i].id, *uid = x->subs[i].user_id;
        json_object *h;
        hp_chmsg m;
        if (only_user != NULL ? strcmp(uid, only_user) != 0 : !all && !dlv__in_list(users, uid))
            continue;
        dlv__message(x, channel_id, uid, &m);
        h = json_object_new_object();
        json_object_object_add(
            h, "TTL", json_object_new_string(hp_pool_printf(x->pool, "%lld", (long long)ttl)));
        if (topic[0] != '\0')
            hp_json_set_str(h, "Topic", topic);
        dlv__child(x, "channel.webpush", channel_id, sid, x->subs[i].endpoint, h,
                   hp_chmsg_push(&m));
        sent++;
    }
    if (sent == 0)
        x->empty_reason = "no member has enabled notifications on a device";
    return HP_OK;
}

/* The destinations of one channel. */
static hp_err dlv__channel(dlv_fx *x, const hp_fanout_channel *ch, const char *only_user)
{
    const char *id = ch->id, *kind = ch->kind, *cfg = ch->config;
    json_object *conf = NULL;
    hp_err rc = HP_OK;
    char err[64];

    if (cfg == NULL || hp_json_parse(cfg, strlen(cfg), &conf, err, sizeof(err)) != HP_OK)
        return HP_OK; /* not expected: the settings were checked when stored */
    if (strcmp(x->event, "test") == 0) {
        x->base.text = hp_pool_printf(x->pool,
                                      "If you can read this, Holdpoint reaches you through "
                                      "the %s channel \"%s\".",
                                      kind, ch->name);
    }
    if (strcmp(kind, "webhook") == 0)
        dlv__webhook(x, id, conf);
    else if (strcmp(x->event, "decided") == 0 || strcmp(x->event, "expired") == 0 ||
             strcmp(x->event, "cancelled") == 0)
        ; /* asks only; never reached (the query keeps webhooks only) */
    else if (strcmp(kind, "ntfy") == 0)
        dlv__ntfy(x, id, conf);
    else if (strcmp(kind, "slack") == 0)
        dlv__slack(x, id, conf);
    else if (strcmp(kind, "email") == 0)
        rc = dlv__email(x, id, conf, only_user);
    else if (strcmp(kind, "webpush") == 0)
        rc = dlv__webpush(x, id, conf, only_user);
    json_object_put(conf);
    return rc;
}

/* Escalation to members: each through the team's first webpush channel
 * and its first email channel. */
static hp_err dlv__escalate_members(dlv_fx *x, json_object *users)
{
    hp_fanout_channel *all = NULL;
    hp_err rc;
    int n = 0, push = -1, mail = -1;

    if (users == NULL || json_object_array_length(users) == 0)
        return HP_OK;
    rc = hp_store_fanout_channels(x->c, x->pool, x->job->team_id, NULL, NULL, false, &all, &n,
                                  x->err, sizeof(x->err));
    if (rc != HP_OK)
        return rc;
    for (int i = 0; i < n; i++) {
        if (push < 0 && strcmp(all[i].kind, "webpush") == 0)
            push = i;
        if (mail < 0 && strcmp(all[i].kind, "email") == 0)
            mail = i;
    }
    for (size_t u = 0; u < json_object_array_length(users); u++) {
        const char *uid = json_object_get_string(json_object_array_get_idx(users, u));
        if (push >= 0 && (rc = dlv__channel(x, &all[push], uid)) != HP_OK)
            return rc;
        if (mail >= 0 && (rc = dlv__channel(x, &all[mail], uid)) != HP_OK)
            return rc;
    }
    return HP_OK;
}

/* Fills x->base from the approval (or message, or test). false with
 * *skip_reason when there is nothing to send. */
static hp_err dlv__subject(dlv_fx *x, json_object *body, const char **skip_reason)
{
    bool found = false;
    hp_err rc;

    x->app_url = hp_pool_printf(x->pool, "%s/app", x->ctx->cfg->public_url);
    x->base.event = x->event;
    if (strcmp(x->event, "test") == 0) {
        x->base.title = "Holdpoint test message";
        x->base.text = "";
        return HP_OK;
    }
    if (strcmp(x->event, "message") == 0) {
        hp_fanout_message m;
        rc =
            hp_store_fanout_message(x->c, x->pool, x->job->team_id, hp_json_str(body, "message_id"),
                                    &m, &found, x->err, sizeof(x->err));
        if (rc != HP_OK)
            return rc;
        if (!found) {
            *skip_reason = "the message is gone";
            return HP_OK;
        }
        x->base.title = m.title;
        x->base.text = m.message;
        x->base.agent_name = m.agent_name;
        return HP_OK;
    }
    if (x->job->approval_id == NULL) {
        *skip_reason = "no approval";
        return HP_OK;
    }
    rc = hp_store_approval_by_id(x->c, x->pool, x->job->team_id, x->job->approval_id, &x->row,
                                 &found, x->err, sizeof(x->err));
    if (rc != HP_OK)
        return rc;
    if (!found) {
        *skip_reason = "the approval is gone";
        return HP_OK;
    }
    x->has_approval = true;
    x->base.title = x->row.question;
    x->base.text = x->row.context_markdown;
    x->base.agent_name = x->row.agent_name != NULL ? x->row.agent_name : x->row.agent_display_name;
    x->base.approval_id = x->row.id;
    x->base.expires_at = x->row.expires_at / 1000000;
    for (size_t i = 0; x->row.options != NULL && i < json_object_array_length(x->row.options) &&
                       i < HP_CHMSG_OPTIONS_MAX;
         i++) {
        const char *label = hp_json_str(json_object_array_get_idx(x->row.options, i), "label");
        x->base.labels[i] = label != NULL ? label : "";
        x->base.noptions = (int)i + 1;
    }
    return HP_OK;
}

bool dlv_fanout(dlv_slot *slot, dlv_result *res)
{
    const dlv_chctx *ctx = dlv_channels_ctx();
    const hp_job *j = &slot->job;
    dlv_fx x;
    json_object *body = NULL, *ids = NULL;
    const char *skip = NULL, *test_channel = NULL, *error = NULL;
    hp_fanout_channel *chans = NULL;
    int nchans = 0;
    bool held = false, failed = false, webhook_only;
    int64_t t0 = hp_time_mono_ms();
    hp_err rc;

    memset(&x, 0, sizeof(x));
    x.ctx = ctx;
    x.job = j;
    x.pool = slot->pool;
    if (hp_json_parse(j->body, strlen(j->body), &body, x.err, sizeof(x.err)) != HP_OK ||
        (x.event = hp_json_str(body, "event")) == NULL) {
        json_object_put(body);
        dlv_fail(res, true, "notify job body unusable");
        return false;
    }
    x.ask = strcmp(x.event, "created") == 0 || strcmp(x.event, "reminder") == 0 ||
            strcmp(x.event, "escalation") == 0;
    webhook_only = strcmp(x.event, "decided") == 0 || strcmp(x.event, "expired") == 0 ||
                   strcmp(x.event, "cancelled") == 0;
    if (strcmp(x.event, "test") == 0) {
        test_channel = j->channel_id;
        ids = json_object_new_array();
        json_object_array_add(ids, json_object_new_string(j->channel_id ? j->channel_id : ""));
    } else if (strcmp(x.event, "escalation") == 0) {
        ids = json_object_get(hp_json_arr(body, "channel_ids"));
        if (ids == NULL)
            ids = json_object_new_array();
    }
    x.children = json_object_new_array();

    rc = hp_db_acquire(ctx->db, &x.c, x.err, sizeof(x.err));
    if (rc == HP_OK)
        rc = hp_store_fanout_begin(x.c, j->id, ctx->worker, &held, x.err, sizeof(x.err));
    if (rc != HP_OK || !held)
        goto out;
    rc = dlv__subject(&x, body, &skip);
    /* An approval that closed before its notice went out asks nobody; the
     * team webhook still hears of the event. */
    if (rc == HP_OK && skip == NULL && x.ask && x.has_approval &&
        strcmp(x.row.status, "pending") != 0)
        webhook_only = true;
    if (rc == HP_OK && skip == NULL)
        rc = hp_store_fanout_channels(x.c, x.pool, j->team_id, j->agent_id, ids, webhook_only,
                                      &chans, &nchans, x.err, sizeof(x.err));
    for (int i = 0; rc == HP_OK && skip == NULL && i < nchans; i++)
        rc = dlv__channel(&x, &chans[i], NULL);
    if (rc == HP_OK && skip == NULL && !webhook_only && strcmp(x.event, "escalation") == 0)
        rc = dlv__escalate_members(&x, hp_json_arr(body, "user_ids"));
    if (rc != HP_OK) {
        hp_db_rollback(x.c);
        goto out;
    }
    if (skip != NULL) {
        error = hp_pool_printf(x.pool, "skipped: %s", skip);
    } else if (test_channel != NULL && json_object_array_length(x.children) == 0) {
        failed = true;
        error = x.empty_reason != NULL ? x.empty_reason : "no destination";
    }
    rc = hp_store_fanout_finish(
        x.c, j->id, j->attempt_id, x.children, ctx->cfg->callback_max_attempts, failed, error,
        failed ? test_channel : NULL, (int)(hp_time_mono_ms() - t0), x.err, sizeof(x.err));
    if (rc == HP_OK) {
        json_object *f = json_object_new_object();
        hp_json_set_str(f, "job_id", j->id);
        hp_json_set_str(f, "team_id", j->team_id);
        if (j->approval_id != NULL)
            hp_json_set_str(f, "approval_id", j->approval_id);
        hp_json_set_str(f, "event", x.event);
        json_object_object_add(f, "destinations",
                               json_object_new_int((int)json_object_array_length(x.children)));
        if (error != NULL)
            hp_json_set_str(f, "reason", error);
        hp_json_set_str(f, "worker", ctx->worker);
        hp_log_fields(failed ? HP_LOG_WARN : HP_LOG_INFO, "notification expanded", f);
        json_object_put(f);
    }

out:
    if (x.c != NULL)
        hp_db_release(ctx->db, x.c);
    json_object_put(x.children);
    json_object_put(ids);
    json_object_put(body);
    if (rc != HP_OK) {
        /* The transaction rolled back and the lease is still ours: the
         * usual record schedules a retry. The reason stays in the log. */
        hp_log_warn("could not expand a notification", "job_id", j->id, "reason", x.err, "worker",
                    ctx->worker);
        dlv_fail(res, false, "database unavailable");
        return false;
    }
    slot->recorded = true; /* done, failed, or another worker holds it now */
    return false;
}
