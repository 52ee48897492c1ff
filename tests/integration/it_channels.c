/*
 * `holdpoint admin channel` against real PostgreSQL: each kind is added with
 * its settings split into clear config and a sealed secret (the database
 * never holds a token, password, Slack URL or signing secret in clear, and
 * list never prints one); a webhook channel's signing secret is printed once;
 * bad settings (private or loopback URLs unless HOLDPOINT_OUTBOUND_ALLOW
 * names them, unknown settings, bad topics, addresses and ports, duplicate
 * names) exit 2 or 1 with a reason and store nothing; an agent's routing,
 * reminder and escalation settings are set, shown, and refused when they name
 * another team's channels or members nobody can reach; removing a channel
 * drops it from every agent's lists; test queues a notify job.
 */
#include <stdlib.h>
#include <string.h>

#include "hp_itest.h"

/* Runs `holdpoint admin channel ARGS --json`; returns the status and sets
 * *out / *err. */
static int channel_cli(const char *const *args, json_object **out, char **err)
{
    const char *full[40];
    int n = 0, st = -1;
    char *so = NULL;

    full[n++] = "admin";
    full[n++] = "channel";
    for (const char *const *a = args; *a != NULL && n < 37; a++)
        full[n++] = *a;
    full[n++] = "--json";
    full[n] = NULL;
    *out = hp_it_cli(full, &st, &so, err);
    return st;
}

static const char *str(json_object *o, const char *path)
{
    json_object *v = hp_it_jget(o, path, NULL);
    return v != NULL ? json_object_get_string(v) : NULL;
}

static long long count_channels(const char *team)
{
    return hp_it_sql_int("select count(*) from channels where team_id = $1", team,
                         (const char *)NULL);
}

static void test_add_each_kind_sealed(void)
{
    const hp_it_team *t = hp_it_team_new();
    json_object *o = NULL, *list;
    char *err = NULL;

    unsetenv("HOLDPOINT_OUTBOUND_ALLOW");
    {
        const char *a[] = {"add",
                           "--team-id",
                           t->team_id,
                           "--kind",
                           "ntfy",
                           "--name",
                           "Phones",
                           "--url",
                           "https://ntfy.example.com",
                           "--topic",
                           "hp-ops",
                           "--token",
                           "tk_ntfy_secret_1",
                           "--tags",
                           "warning,robot",
                           NULL};
        {
            int st_ = channel_cli(a, &o, &err);
            IT_CHECK_FATAL(st_ == 0, "ntfy add: %s", err);
        }
        IT_JSTR(o, "kind", "ntfy");
        IT_JSTR(o, "config.topic", "hp-ops");
        IT_JINT(o, "config.priority", 4);
        IT_JSTR(o, "config.tags.1", "robot");
        IT_JMISSING(o, "config.token");
    }
    {
        const char *a[] = {"add",
                           "--team-id",
                           t->team_id,
                           "--kind",
                           "slack",
                           "--name",
                           "Ops Slack",
                           "--webhook-url",
                           "https://hooks.slack.example.com/services/T0/B0/sk_slack_secret_2",
                           "--signing-secret",
                           "sign_slack_secret_3",
                           NULL};
        {
            int st_ = channel_cli(a, &o, &err);
            IT_CHECK_FATAL(st_ == 0, "slack add: %s", err);
        }
        IT_JBOOL(o, "config.interactive", true);
        IT_CHECK(strstr(hp_it_jtext(o), "sk_slack_secret_2") == NULL, "slack url printed");
    }
    {
        const char *a[] = {"add",
                           "--team-id",
                           t->team_id,
                           "--kind",
                           "email",
                           "--name",
                           "Mail",
                           "--host",
                           "smtp.example.com",
                           "--port",
                           "2525",
                           "--tls",
                           "none",
                           "--username",
                           "hp",
                           "--password",
                           "pw_smtp_secret_4",
                           "--from",
                           "hp@example.com",
                           "--to",
                           "a@example.com,b@example.com",
                           NULL};
        {
            int st_ = channel_cli(a, &o, &err);
            IT_CHECK_FATAL(st_ == 0, "email add: %s", err);
        }
        IT_JINT(o, "config.port", 2525);
        IT_JSTR(o, "config.tls", "none");
        IT_JSTR(o, "config.to.1", "b@example.com");
        IT_JMISSING(o, "config.password");
    }
    {
        const char *a[] = {"add",    "--team-id", t->team_id,
                           "--kind", "webhook",   "--name",
                           "Hooks",  "--url",     "https://hooks.example.com/hp",
                           NULL};
        {
            int st_ = channel_cli(a, &o, &err);
            IT_CHECK_FATAL(st_ == 0, "webhook add: %s", err);
        }
        IT_CHECK(str(o, "signing_secret") != NULL &&
                     strncmp(str(o, "signing_secret"), "whsec_", 6) == 0,
                 "webhook signing secret printed once: %s", hp_it_jtext(o));
    }
    const char *whsec = hp_it_fmt("%s", str(o, "signing_secret"));
    {
        const char *a[] = {"add",     "--team-id", t->team_id, "--kind",
                           "webpush", "--name",    "Push",     NULL};
        {
            int st_ = channel_cli(a, &o, &err);
            IT_CHECK_FATAL(st_ == 0, "webpush add: %s", err);
        }
    }
    IT_CHECK(count_channels(t->team_id) == 5, "5 channels stored");
    /* No secret in clear anywhere in the rows. */
    IT_CHECK(hp_it_sql_int("select count(*) from channels where team_id = $1 and "
                           "(config::text || coalesce(secret_sealed, '')) ~ "
                           "'tk_ntfy_secret_1|sk_slack_secret_2|sign_slack_secret_3|"
                           "pw_smtp_secret_4|whsec_'",
                           t->team_id, (const char *)NULL) == 0,
             "a secret is stored in clear");
    IT_CHECK(hp_it_sql_int("select count(*) from channels where team_id = $1 and "
                           "secret_sealed like 'v1.%' and kind in ('ntfy', 'slack', 'email', "
                           "'webhook')",
                           t->team_id, (const char *)NULL) == 4,
             "secrets sealed");
    {
        const char *a[] = {"list", "--team-id", t->team_id, NULL};
        {
            int st_ = channel_cli(a, &list, &err);
            IT_CHECK_FATAL(st_ == 0, "list: %s", err);
        }
        const char *text = hp_it_jtext(list);
        IT_CHECK(hp_it_jlen(hp_it_jget(list, "channels", NULL)) == 5, "5 listed");
        IT_JSTR(list, "channels.0.name", "Phones");
        IT_JBOOL(list, "channels.0.has_secret", true);
        IT_JBOOL(list, "channels.4.has_secret", false);
        IT_JNULL(list, "channels.0.last_error");
        IT_JNULL(list, "channels.0.last_success_at");
        IT_CHECK(strstr(text, "tk_ntfy_secret_1") == NULL && strstr(text, "pw_smtp") == NULL &&
                     strstr(text, "sk_slack") == NULL && strstr(text, whsec + 6) == NULL,
                 "list printed a secret");
    }
}

/* Each refused add exits with status want and stores nothing. */
static void refused(const hp_it_team *t, const char *const *a, int want, const char *reason)
{
    json_object *o = NULL;
    char *err = NULL;
    long long before = count_channels(t->team_id);
    int st = channel_cli(a, &o, &err);

    IT_CHECK(st == want, "%s: status %d (want %d): %s", reason, st, want, err);
    IT_CHECK(err != NULL && strstr(err, reason) != NULL, "reason \"%s\" not in: %s", reason, err);
    IT_CHECK(count_channels(t->team_id) == before, "%s: something was stored", reason);
}

static void test_refused_settings(void)
{
    const hp_it_team *t = hp_it_team_new();

    unsetenv("HOLDPOINT_OUTBOUND_ALLOW");
    {
        const char *a[] = {"add",     "--team-id", t->team_id,
                           "--kind",  "ntfy",      "--name",
                           "n",       "--url",     "http://127.0.0.1:8080",
                           "--topic", "x",         NULL};
        refused(t, a, 2, "url: host is a loopback address");
    }
    {
        const char *a[] = {"add",    "--team-id", t->team_id,
                           "--kind", "webhook",   "--name",
                           "w",      "--url",     "http://10.1.2.3/hook",
                           NULL};
        refused(t, a, 2, "url: host is a private address");
    }
    {
        const char *a[] = {"add", "--team-id", t->team_id,     "--kind", "email",         "--name",
                           "e",   "--host",    "192.168.1.10", "--from", "a@example.com", NULL};
        refused(t, a, 2, "host: host is a private address");
    }
    {
        const char *a[] = {"add",     "--team-id",  t->team_id,
                           "--kind",  "ntfy",       "--name",
                           "n",       "--url",      "https://ntfy.example.com",
                           "--topic", "bad topic!", NULL};
        refused(t, a, 2, "topic:");
    }
    {
        const char *a[] = {
            "add", "--team-id", t->team_id,         "--kind", "email",          "--name",
            "e",   "--host",    "smtp.example.com", "--from", "not-an-address", NULL};
        refused(t, a, 2, "from:");
    }
    {
        const char *a[] = {"add",
                           "--team-id",
                           t->team_id,
                           "--kind",
                           "email",
                           "--name",
                           "e",
                           "--host",
                           "smtp.example.com",
                           "--from",
                           "a@example.com",
                           "--to",
                           "ok@example.com,bad<x>@example.com",
                           NULL};
        refused(t, a, 2, "to: item 2 is not a mail address");
    }
    {
        const char *a[] = {
            "add",    "--team-id",        t->team_id, "--kind",        "email",  "--name", "e",
            "--host", "smtp.example.com", "--from",   "a@example.com", "--port", "70000",  NULL};
        refused(t, a, 2, "port:");
    }
    {
        const char *a[] = {"add",
                           "--team-id",
                           t->team_id,
                           "--kind",
                           "slack",
                           "--name",
                           "s",
                           "--webhook-url",
                           "https://hooks.example.com/x",
                           "--topic",
                           "t",
                           NULL};
        refused(t, a, 2, "topic: not a setting of the slack kind");
    }
    {
        const char *a[] = {"add", "--team-id", t->team_id, "--kind", "pager", "--name", "p", NULL};
        refused(t, a, 2, "--kind must be one of");
    }
    {
        const char *a[] = {"add", "--team-id", t->team_id, "--kind", "slack", "--name", "s", NULL};
        refused(t, a, 2, "webhook_url: required");
    }
    {
        const char *a[] = {"add",    "--team-id", "00000000-0000-4000-8000-000000000000",
                           "--kind", "webpush",   "--name",
                           "p",      NULL};
        refused(t, a, 1, "no such team");
    }
    /* The allow list lets a private deployment name its own hosts. */
    setenv("HOLDPOINT_OUTBOUND_ALLOW", "127.0.0.1", 1);
    {
        const char *a[] = {"add",     "--team-id", t->team_id,
                           "--kind",  "ntfy",      "--name",
                           "Local",   "--url",     "http://127.0.0.1:8080",
                           "--topic", "x",         NULL};
        json_object *o = NULL;
        char *err = NULL;
        {
            int st_ = channel_cli(a, &o, &err);
            IT_CHECK(st_ == 0, "allowed loopback refused: %s", err);
        }
        const char *dup[] = {"add",     "--team-id", t->team_id, "--kind",
                             "webpush", "--name",    "LOCAL",    NULL};
        refused(t, dup, 1, "already has a channel named");
    }
    unsetenv("HOLDPOINT_OUTBOUND_ALLOW");
}

static const char *add_channel(const hp_it_team *t, const char *kind, const char *name,
                               const char *const *extra)
{
    const char *a[24] = {"add", "--team-id", t->team_id, "--kind", kind, "--name", name};
    int n = 7;
    json_object *o = NULL;
    char *err = NULL;

    for (const char *const *e = extra; e != NULL && *e != NULL; e++)
        a[n++] = *e;
    a[n] = NULL;
    {
        int st_ = channel_cli(a, &o, &err);
        IT_CHECK_FATAL(st_ == 0, "add %s: %s", kind, err);
    }
    return hp_it_fmt("%s", str(o, "channel_id"));
}

static void test_route(void)
{
    const hp_it_team *t = hp_it_team_new(), *other = hp_it_team_new();
    const char *ntfy_extra[] = {"--url", "https://ntfy.example.com", "--topic", "t", NULL};
    const char *hook_extra[] = {"--url", "https://hooks.example.com/x", NULL};
    const char *ntfy = add_channel(t, "ntfy", "n", ntfy_extra);
    const char *hook = add_channel(t, "webhook", "w", hook_extra);
    const char *foreign = add_channel(other, "webhook", "w", hook_extra);
    json_object *o = NULL;
    char *err = NULL;

    {
        const char *a[] = {"route", "--agent-id", t->agent_id, NULL};
        {
            int st_ = channel_cli(a, &o, &err);
            IT_CHECK_FATAL(st_ == 0, "show defaults: %s", err);
        }
        IT_JNULL(o, "channel_ids");
        IT_JNULL(o, "remind_after_seconds");
        IT_CHECK(hp_it_jlen(hp_it_jget(o, "escalate_user_ids", NULL)) == 0, "no users");
    }
    {
        /* Members need a webpush or email channel to be reached. */
        const char *a[] = {"route", "--agent-id",       t->agent_id, "--escalate-after",
                           "30m",   "--escalate-users", t->user_id,  NULL};
        {
            int st_ = channel_cli(a, &o, &err);
            IT_CHECK(st_ == 2, "unreachable member accepted");
        }
        IT_CHECK(err && strstr(err, "members cannot be reached"), "reason: %s", err);
    }
    {
        const char *a[] = {
            "route", "--agent-id", t->agent_id, "--channels", hp_it_fmt("%s,%s", ntfy, foreign),
            NULL};
        {
            int st_ = channel_cli(a, &o, &err);
            IT_CHECK(st_ == 2, "foreign channel accepted");
        }
        IT_CHECK(err && strstr(err, "not channels of the agent's team"), "reason: %s", err);
    }
    {
        const char *a[] = {"route",    "--agent-id", t->agent_id, "--escalate-users",
                           t->user_id, NULL};
        {
            int st_ = channel_cli(a, &o, &err);
            IT_CHECK(st_ == 2, "targets without a delay accepted");
        }
    }
    {
        const char *a[] = {"route", "--agent-id", t->agent_id, "--remind-after", "9d", NULL};
        {
            int st_ = channel_cli(a, &o, &err);
            IT_CHECK(st_ == 2, "9 days accepted");
        }
    }
    (void)add_channel(t, "webpush", "p", NULL);
    {
        const char *a[] = {"route",     "--agent-id",
                           t->agent_id, "--channels",
                           ntfy,        "--remind-after",
                           "90s",       "--escalate-after",
                           "2h",        "--escalate-channels",
                           hook,        "--escalate-users",
                           t->user_id,  NULL};
        {
            int st_ = channel_cli(a, &o, &err);
            IT_CHECK_FATAL(st_ == 0, "route: %s", err);
        }
        IT_JSTR(o, "channel_ids.0", ntfy);
        IT_JINT(o, "remind_after_seconds", 90);
        IT_JINT(o, "escalate_after_seconds", 7200);
        IT_JSTR(o, "escalate_channel_ids.0", hook);
        IT_JSTR(o, "escalate_user_ids.0", t->user_id);
    }
    {
        const char *a[] = {"remove", "--channel-id", hook, "--team-id", other->team_id, NULL};
        {
            int st_ = channel_cli(a, &o, &err);
            IT_CHECK(st_ == 1, "removed through another team");
        }
        const char *b[] = {"remove", "--channel-id", hook, NULL};
        {
            int st_ = channel_cli(b, &o, &err);
            IT_CHECK_FATAL(st_ == 0, "remove: %s", err);
        }
        const char *c[] = {"route", "--agent-id", t->agent_id, NULL};
        {
            int st_ = channel_cli(c, &o, &err);
            IT_CHECK_FATAL(st_ == 0, "show: %s", err);
        }
        IT_CHECK(hp_it_jlen(hp_it_jget(o, "escalate_channel_ids", NULL)) == 0,
                 "removed channel still an escalation target: %s", hp_it_jtext(o));
        IT_JSTR(o, "channel_ids.0", ntfy);
    }
}

static void test_test_queues_job(void)
{
    const hp_it_team *t = hp_it_team_new();
    const char *hook_extra[] = {"--url", "https://hooks.example.com/x", NULL};
    const char *hook = add_channel(t, "webhook", "w", hook_extra);
    json_object *o = NULL;
    char *err = NULL;
    const char *a[] = {"test", "--channel-id", hook, "--wait", "0", NULL};

    {
        int st_ = channel_cli(a, &o, &err);
        IT_CHECK_FATAL(st_ == 0, "test: %s", err);
    }
    IT_JSTR(o, "status", "queued");
    IT_CHECK(hp_it_sql_int("select count(*) from jobs where id = $1::bigint and kind = 'notify' "
                           "and channel_id = $2 and state = 'queued'",
                           str(o, "job_id"), hook, (const char *)NULL) == 1,
             "no queued notify job");
    (void)hp_it_sql_exec("delete from jobs where id = $1::bigint", str(o, "job_id"),
                         (const char *)NULL);
}

/* The web app's JSON routes for the same settings (owners and admins). */
static void test_settings_api(void)
{
    const hp_it_team *t = hp_it_team_new(), *other = hp_it_team_new();
    const char *rev_email = hp_it_fmt("rev-%s@example.test", hp_it_unique());
    const char *ra[] = {"admin",   "create-user", "--team-id",  t->team_id,
                        "--email", rev_email,     "--password", "reviewer-pw-1",
                        "--role",  "reviewer",    "--json",     NULL};
    hp_it_team reviewer = *t;
    hp_it_resp *r;
    const char *ch, *hook;

    reviewer.user_token = str(hp_it_admin(ra), "user_token");
    /* Refused: a private URL (the rule named), an unknown kind, a
     * duplicate name; nothing stored. */
    r = hp_it_user(t, "POST", "/v1/settings/channels",
                   "{\"kind\":\"webhook\",\"name\":\"W\",\"settings\":{\"url\":"
                   "\"http://192.168.0.5/x\"}}");
    IT_ISSUE(r, "[\"settings\"]", "custom");
    IT_CHECK(strstr(r->body, "url: host is a private address") != NULL, "reason: %s", r->body);
    IT_ISSUE(hp_it_user(t, "POST", "/v1/settings/channels", "{\"kind\":\"pager\",\"name\":\"P\"}"),
             "[\"kind\"]", "invalid_enum_value");
    IT_CHECK(count_channels(t->team_id) == 0, "a refused channel was stored");

    r = hp_it_user(t, "POST", "/v1/settings/channels",
                   "{\"kind\":\"ntfy\",\"name\":\"Phones\",\"settings\":{\"url\":"
                   "\"https://ntfy.example.com\",\"topic\":\"ops\",\"token\":\"tk_web_9\"}}");
    IT_STATUS_FATAL(r, 201);
    ch = str(r->json, "channel_id");
    IT_JSTR(r->json, "config.topic", "ops");
    IT_CHECK(strstr(r->body, "tk_web_9") == NULL, "token echoed");
    r = hp_it_user(t, "POST", "/v1/settings/channels",
                   "{\"kind\":\"webhook\",\"name\":\"Hook\",\"settings\":{\"url\":"
                   "\"https://hooks.example.com/h\"}}");
    IT_STATUS_FATAL(r, 201);
    hook = str(r->json, "channel_id");
    IT_CHECK(str(r->json, "signing_secret") != NULL, "signing secret shown once");
    IT_ISSUE(hp_it_user(t, "POST", "/v1/settings/channels",
                        "{\"kind\":\"webpush\",\"name\":\"phones\"}"),
             "[\"name\"]", "custom");
    r = hp_it_user(t, "GET", "/v1/settings/channels", NULL);
    IT_STATUS(r, 200);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "items", NULL)) == 2, "2 channels listed");
    IT_JSTR(r->json, "items.0.name", "Phones");
    IT_JBOOL(r->json, "items.0.has_secret", true);
    IT_CHECK(strstr(r->body, "tk_web_9") == NULL && strstr(r->body, "whsec_") == NULL,
             "a secret listed");

    /* Test: queued for the delivery worker. */
    r = hp_it_user(t, "POST", hp_it_fmt("/v1/settings/channels/%s/test", ch), NULL);
    IT_STATUS(r, 202);
    IT_JSTR(r->json, "status", "queued");
    (void)hp_it_sql_exec("delete from jobs where id = $1::bigint", str(r->json, "job_id"),
                         (const char *)NULL);

    /* An agent's settings: replaced, read back, checked. */
    r = hp_it_user(t, "PUT", hp_it_fmt("/v1/settings/agents/%s/notifications", t->agent_id),
                   hp_it_fmt("{\"channel_ids\":[\"%s\"],\"remind_after_seconds\":600,"
                             "\"escalate_after_seconds\":1800,\"escalate_channel_ids\":[\"%s\"],"
                             "\"escalate_user_ids\":[]}",
                             ch, hook));
    IT_STATUS(r, 200);
    IT_JSTR(r->json, "channel_ids.0", ch);
    IT_JINT(r->json, "remind_after_seconds", 600);
    r = hp_it_user(t, "GET", hp_it_fmt("/v1/settings/agents/%s/notifications", t->agent_id), NULL);
    IT_STATUS(r, 200);
    IT_JINT(r->json, "escalate_after_seconds", 1800);
    IT_JSTR(r->json, "escalate_channel_ids.0", hook);
    /* A member with no way to reach them, another team's agent: refused. */
    IT_ISSUE(hp_it_user(t, "PUT", hp_it_fmt("/v1/settings/agents/%s/notifications", t->agent_id),
                        hp_it_fmt("{\"escalate_after_seconds\":60,\"escalate_user_ids\":[\"%s\"]}",
                                  t->user_id)),
             "[]", "custom");
    IT_ERROR(hp_it_user(t, "GET",
                        hp_it_fmt("/v1/settings/agents/%s/notifications", other->agent_id), NULL),
             404, "not_found");
    IT_ERROR(hp_it_user(t, "PUT",
                        hp_it_fmt("/v1/settings/agents/%s/notifications", other->agent_id), "{}"),
             404, "not_found");
    /* Reviewers do not see the settings at all. */
    IT_ERROR(hp_it_user(&reviewer, "GET", "/v1/settings/channels", NULL), 404, "not_found");
    /* Another team cannot remove or test the channel. */
    IT_ERROR(hp_it_user(other, "DELETE", hp_it_fmt("/v1/settings/channels/%s", ch), NULL), 404,
             "not_found");
    IT_ERROR(hp_it_user(other, "POST", hp_it_fmt("/v1/settings/channels/%s/test", ch), NULL), 404,
             "not_found");
    IT_STATUS(hp_it_user(t, "DELETE", hp_it_fmt("/v1/settings/channels/%s", ch), NULL), 204);
    IT_ERROR(hp_it_user(t, "DELETE", hp_it_fmt("/v1/settings/channels/%s", ch), NULL), 404,
             "not_found");
    r = hp_it_user(t, "GET", hp_it_fmt("/v1/settings/agents/%s/notifications", t->agent_id), NULL);
    IT_CHECK(hp_it_jlen(hp_it_jget(r->json, "channel_ids", NULL)) == 0, "removed channel routed");
}

/* The installable web app: its manifest and service worker. */
static void test_pwa_files(void)
{
    hp_it_resp *r = hp_it_http(NULL, "GET", "/app/manifest.webmanifest", NULL, NULL);
    const char *icon;

    IT_STATUS_FATAL(r, 200);
    IT_CHECK(strcmp(hp_it_header(r, "Content-Type"), "application/manifest+json") == 0, "type");
    IT_JSTR(r->json, "start_url", "/app");
    IT_JSTR(r->json, "display", "standalone");
    IT_JSTR(r->json, "icons.1.sizes", "512x512");
    icon = str(r->json, "icons.0.src");
    r = hp_it_http(NULL, "GET", icon, NULL, NULL);
    IT_STATUS(r, 200);
    IT_CHECK(strcmp(hp_it_header(r, "Content-Type"), "image/png") == 0 && r->body_len > 100 &&
                 memcmp(r->body, "\x89PNG", 4) == 0,
             "icon is a png");
    r = hp_it_http(NULL, "GET", "/app/sw.js", NULL, NULL);
    IT_STATUS(r, 200);
    IT_CHECK(strncmp(hp_it_header(r, "Content-Type"), "text/javascript", 15) == 0, "sw type");
    IT_CHECK(strstr(r->body, "addEventListener('push'") != NULL &&
                 strstr(r->body, "notificationclick") != NULL,
             "sw handles push and clicks");
    r = hp_it_http(NULL, "GET", "/app", NULL, NULL);
    IT_CHECK(strstr(r->body, "rel=\"manifest\" href=\"/app/manifest.webmanifest\"") != NULL,
             "the shell links the manifest");
}

int main(void)
{
    static const hp_it_test tests[] = {
        {"add each kind: config in clear, secrets sealed, list", test_add_each_kind_sealed},
        {"refused settings exit with a reason and store nothing", test_refused_settings},
        {"route: routing, reminders, escalation; checks; remove", test_route},
        {"test queues a notify job", test_test_queues_job},
        {"settings api: channels and agent notifications", test_settings_api},
        {"pwa: manifest, icons, service worker", test_pwa_files},
        {NULL, NULL}};
    return hp_it_main("it_channels", tests, NULL, NULL);
}
