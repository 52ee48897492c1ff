/*
 * cli_channel: `holdpoint admin channel <command>` — a team's notification
 * channels (add, list, test, remove) and an agent's routing, reminder and
 * escalation settings (route). See docs/channels.md.
 *
 * add turns its flags into the settings object the web settings page also
 * sends, and hp_channel_prepare checks it against the outbound rules
 * (HOLDPOINT_OUTBOUND_ALLOW) before the store seals the secret part. A
 * webhook channel's signing secret is printed once here and never again.
 * test queues a test message through holdpoint-delivery and waits (--wait
 * seconds, default 15) for its outcome, so an operator sees at once whether
 * the channel works and, if not, the recorded reason.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "hp_channel.h"
#include "hp_json.h"
#include "hp_pool.h"
#include "hp_store_channel.h"
#include "hp_str.h"
#include "hp_time.h"
#include "hp_urlpolicy.h"

#define HP__TAIL_OPTS                                                                              \
    {"json", no_argument, NULL, HP_OPT_JSON}, {"help", no_argument, NULL, HP_OPT_HELP},            \
    {                                                                                              \
        NULL, 0, NULL, 0                                                                           \
    }

static const char hp__channel_usage[] =
    "usage: holdpoint admin channel <command> [options] [--json]\n"
    "\n"
    "commands:\n"
    "  add     --team-id ID --kind KIND --name NAME [settings]\n"
    "      webpush  [--users ID,ID]            (default: every member's devices)\n"
    "      ntfy     --url SERVER --topic TOPIC [--token TOKEN] [--priority 1-5] [--tags a,b]\n"
    "      slack    --webhook-url URL [--signing-secret SECRET]   (interactive buttons)\n"
    "      email    --host HOST [--port 587] [--tls starttls|tls|none] [--username U\n"
    "               --password P] --from ADDRESS [--to A,B]   (default: every member)\n"
    "      webhook  --url URL    (prints the signing secret once)\n"
    "  list    --team-id ID\n"
    "  test    --channel-id ID [--wait SECONDS]   (default 15; 0 = do not wait)\n"
    "  remove  --channel-id ID [--team-id ID]\n"
    "  route   --agent-id ID [--channels all|ID,ID] [--remind-after DELAY]\n"
    "          [--escalate-after DELAY (--escalate-channels ID,ID | --escalate-users ID,ID)]\n"
    "      replaces the agent's settings (no option but --agent-id: show them). DELAY is\n"
    "      minutes (15), or 90s, 2h, 1d; off for none.\n"
    "\n"
    "Channel URLs and SMTP hosts must be public unless HOLDPOINT_OUTBOUND_ALLOW names\n"
    "them. Secrets (tokens, the Slack webhook URL and signing secret, SMTP password)\n"
    "are stored sealed and never printed. Exit status: 0 ok, 1 failure (including a\n"
    "failed test), 2 usage error.\n";

static json_object *hp__ctx(const hp_cli_args *a)
{
    json_object *ctx = json_object_new_object();
    if (hp_cli_has(a, HP_OPT_TEAM_ID))
        hp_json_set_str(ctx, "team_id", hp_cli_get(a, HP_OPT_TEAM_ID));
    if (hp_cli_has(a, HP_OPT_CHANNEL_ID))
        hp_json_set_str(ctx, "channel_id", hp_cli_get(a, HP_OPT_CHANNEL_ID));
    if (hp_cli_has(a, HP_OPT_AGENT_ID))
        hp_json_set_str(ctx, "agent_id", hp_cli_get(a, HP_OPT_AGENT_ID));
    return ctx;
}

static int hp__uuid_opt(const hp_cli_args *a, int id)
{
    if (hp_cli_has(a, id) && !hp_uuid_valid(hp_cli_get(a, id)))
        return hp_cli_usage_error(a->command, "%s must be a UUID", hp_cli_optname(id));
    return -1;
}

/* ---- add ------------------------------------------------------------------- */

static const struct option hp__add_opts[] = {
    {"team-id", required_argument, NULL, HP_OPT_TEAM_ID},
    {"kind", required_argument, NULL, HP_OPT_KIND},
    {"name", required_argument, NULL, HP_OPT_NAME},
    {"url", required_argument, NULL, HP_OPT_URL},
    {"topic", required_argument, NULL, HP_OPT_TOPIC},
    {"token", required_argument, NULL, HP_OPT_TOKEN},
    {"priority", required_argument, NULL, HP_OPT_PRIORITY},
    {"tags", required_argument, NULL, HP_OPT_TAGS},
    {"webhook-url", required_argument, NULL, HP_OPT_WEBHOOK_URL},
    {"signing-secret", required_argument, NULL, HP_OPT_SIGNING_SECRET},
    {"host", required_argument, NULL, HP_OPT_HOST},
    {"port", required_argument, NULL, HP_OPT_PORT},
    {"tls", required_argument, NULL, HP_OPT_TLS},
    {"username", required_argument, NULL, HP_OPT_USERNAME},
    {"password", required_argument, NULL, HP_OPT_PASSWORD},
    {"from", required_argument, NULL, HP_OPT_FROM},
    {"to", required_argument, NULL, HP_OPT_TO},
    {"users", required_argument, NULL, HP_OPT_USERS},
    HP__TAIL_OPTS,
};

/* Flag -> settings key; the kind's checks refuse keys it does not take. */
static const struct {
    int id;
    const char *key;
} hp__settings[] = {
    {HP_OPT_URL, "url"},
    {HP_OPT_TOPIC, "topic"},
    {HP_OPT_TOKEN, "token"},
    {HP_OPT_PRIORITY, "priority"},
    {HP_OPT_TAGS, "tags"},
    {HP_OPT_WEBHOOK_URL, "webhook_url"},
    {HP_OPT_SIGNING_SECRET, "signing_secret"},
    {HP_OPT_HOST, "host"},
    {HP_OPT_PORT, "port"},
    {HP_OPT_TLS, "tls"},
    {HP_OPT_USERNAME, "username"},
    {HP_OPT_PASSWORD, "password"},
    {HP_OPT_FROM, "from"},
    {HP_OPT_TO, "to"},
    {HP_OPT_USERS, "users"},
};

static int hp__add(hp_cli_args *a, int argc, char **argv)
{
    static const int req[] = {HP_OPT_TEAM_ID, HP_OPT_KIND, HP_OPT_NAME, 0};
    json_object *settings = NULL, *config = NULL, *secret = NULL, *res = NULL;
    char *shown = NULL, err[HP_ERRBUF] = "", id[HP_UUID_LEN + 1];
    const char *name;
    hp_urlpolicy *policy = NULL;
    hp_cli_env env;
    long n;
    hp_err rc;
    int st;

    if ((st = hp_cli_parse(argc, argv, hp__add_opts, hp__channel_usage, a)) >= 0 ||
        (st = hp_cli_require(a, req)) >= 0 || (st = hp__uuid_opt(a, HP_OPT_TEAM_ID)) >= 0)
        return st;
    name = hp_cli_get(a, HP_OPT_NAME);
    n = hp_utf8_len(name, strlen(name));
    if (n < 1 || n > HP_CHANNEL_NAME_MAX)
        return hp_cli_usage_error(a->command, "--name must be 1 to %d characters",
                                  HP_CHANNEL_NAME_MAX);
    if (!hp_channel_kind_ok(hp_cli_get(a, HP_OPT_KIND)))
        return hp_cli_usage_error(a->command,
                                  "--kind must be one of webpush, ntfy, slack, email, webhook");
    settings = json_object_new_object();
    for (size_t i = 0; i < sizeof(hp__settings) / sizeof(hp__settings[0]); i++)
        if (hp_cli_has(a, hp__settings[i].id))
            hp_json_set_str(settings, hp__settings[i].key, hp_cli_get(a, hp__settings[i].id));
    if ((st = hp_cli_env_open(&env, a, true)) >= 0) {
        json_object_put(settings);
        return st;
    }
    rc = hp_urlpolicy_new(env.cfg.outbound_allow, &policy, err, sizeof(err));
    if (rc == HP_OK)
        rc = hp_channel_prepare(hp_cli_get(a, HP_OPT_KIND), settings, policy, &config, &secret,
                                &shown, err, sizeof(err));
    if (rc == HP_OK)
        rc = hp_store_channel_add(env.conn, env.cfg.secret_key, hp_cli_get(a, HP_OPT_TEAM_ID),
                                  hp_cli_get(a, HP_OPT_KIND), name, config, secret, id, err,
                                  sizeof(err));
    hp_cli_env_close(&env);
    hp_urlpolicy_free(policy);
    json_object_put(settings);
    json_object_put(secret);
    if (rc == HP_OK) {
        res = json_object_new_object();
        hp_json_set_str(res, "channel_id", id);
        hp_json_set_str(res, "kind", hp_cli_get(a, HP_OPT_KIND));
        hp_json_set_str(res, "name", name);
        json_object_object_add(res, "config", json_object_get(config));
        if (shown != NULL)
            hp_json_set_str(res, "signing_secret", shown);
    }
    json_object_put(config);
    if (shown != NULL) {
        OPENSSL_cleanse(shown, strlen(shown));
        free(shown);
    }
    if (rc != HP_OK)
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    return hp_cli_emit(a, res);
}

/* ---- list ------------------------------------------------------------------ */

static const struct option hp__list_opts[] = {
    {"team-id", required_argument, NULL, HP_OPT_TEAM_ID},
    HP__TAIL_OPTS,
};

static int hp__list(hp_cli_args *a, int argc, char **argv)
{
    static const int req[] = {HP_OPT_TEAM_ID, 0};
    hp_pool *pool;
    PGresult *r = NULL;
    hp_cli_env env;
    json_object *res, *items;
    char err[HP_ERRBUF] = "";
    hp_err rc;
    int st;

    if ((st = hp_cli_parse(argc, argv, hp__list_opts, hp__channel_usage, a)) >= 0 ||
        (st = hp_cli_require(a, req)) >= 0 || (st = hp__uuid_opt(a, HP_OPT_TEAM_ID)) >= 0)
        return st;
    if ((st = hp_cli_env_open(&env, a, false)) >= 0)
        return st;
    pool = hp_pool_new();
    rc = hp_store_channel_list(env.conn, pool, hp_cli_get(a, HP_OPT_TEAM_ID), &r, err, sizeof(err));
    hp_cli_env_close(&env);
    if (rc != HP_OK) {
        hp_pool_free(pool);
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    }
    res = json_object_new_object();
    hp_json_set_str(res, "team_id", hp_cli_get(a, HP_OPT_TEAM_ID));
    items = hp_store_channel_list_json(r);
    json_object_object_add(res, "channels", items);
    hp_pool_free(pool);
    return hp_cli_emit(a, res);
}

/* ---- test ------------------------------------------------------------------ */

static const struct option hp__test_opts[] = {
    {"channel-id", required_argument, NULL, HP_OPT_CHANNEL_ID},
    {"team-id", required_argument, NULL, HP_OPT_TEAM_ID},
    {"wait", required_argument, NULL, HP_OPT_WAIT},
    HP__TAIL_OPTS,
};

static int hp__test(hp_cli_args *a, int argc, char **argv)
{
    static const int req[] = {HP_OPT_CHANNEL_ID, 0};
    long long wait_s = 15;
    hp_pool *pool;
    hp_cli_env env;
    char err[HP_ERRBUF] = "", job[24] = "";
    const char *status = "queued", *error = NULL;
    json_object *res;
    bool done = false, ok = false;
    int64_t until;
    hp_err rc;
    int st;

    if ((st = hp_cli_parse(argc, argv, hp__test_opts, hp__channel_usage, a)) >= 0 ||
        (st = hp_cli_require(a, req)) >= 0 || (st = hp__uuid_opt(a, HP_OPT_CHANNEL_ID)) >= 0 ||
        (st = hp__uuid_opt(a, HP_OPT_TEAM_ID)) >= 0 ||
        (st = hp_cli_int(a, HP_OPT_WAIT, 0, 600, &wait_s)) >= 0)
        return st;
    if ((st = hp_cli_env_open(&env, a, false)) >= 0)
        return st;
    pool = hp_pool_new();
    rc = hp_store_channel_test(env.conn, hp_cli_get(a, HP_OPT_TEAM_ID),
                               hp_cli_get(a, HP_OPT_CHANNEL_ID), job, err, sizeof(err));
    /* Waiting polls the job's state every 100 ms: a short-lived command
     * watching one row, not a service loop. */
    until = hp_time_mono_ms() + wait_s * 1000;
    while (rc == HP_OK && wait_s > 0) {
        rc = hp_store_channel_test_state(env.conn, pool, job, &done, &ok, &error, err, sizeof(err));
        if (rc != HP_OK || done || hp_time_mono_ms() >= until)
            break;
        hp_time_sleep_ms(100, NULL);
    }
    hp_cli_env_close(&env);
    if (rc != HP_OK) {
        hp_pool_free(pool);
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    }
    if (done)
        status = ok ? "sent" : "failed";
    res = json_object_new_object();
    hp_json_set_str(res, "channel_id", hp_cli_get(a, HP_OPT_CHANNEL_ID));
    hp_json_set_str(res, "job_id", job);
    hp_json_set_str(res, "status", status);
    json_object_object_add(res, "error", error != NULL ? json_object_new_string(error) : NULL);
    hp_pool_free(pool);
    st = hp_cli_emit(a, res);
    if (st != HP_CLI_OK)
        return st;
    if (done && !ok)
        return hp_cli_fail(a, HP_ERR_UNAVAILABLE, "the test message could not be sent", hp__ctx(a));
    if (!done && wait_s > 0)
        return hp_cli_fail(a, HP_ERR_UNAVAILABLE,
                           "the test message was not sent in time: is holdpoint-delivery running?",
                           hp__ctx(a));
    return HP_CLI_OK;
}

/* ---- remove ---------------------------------------------------------------- */

static int hp__remove(hp_cli_args *a, int argc, char **argv)
{
    static const int req[] = {HP_OPT_CHANNEL_ID, 0};
    hp_cli_env env;
    char err[HP_ERRBUF] = "";
    json_object *res;
    hp_err rc;
    int st;

    if ((st = hp_cli_parse(argc, argv, hp__test_opts, hp__channel_usage, a)) >= 0 ||
        (st = hp_cli_require(a, req)) >= 0 || (st = hp__uuid_opt(a, HP_OPT_CHANNEL_ID)) >= 0 ||
        (st = hp__uuid_opt(a, HP_OPT_TEAM_ID)) >= 0)
        return st;
    if (hp_cli_has(a, HP_OPT_WAIT))
        return hp_cli_usage_error(a->command, "--wait is for channel test");
    if ((st = hp_cli_env_open(&env, a, false)) >= 0)
        return st;
    rc = hp_store_channel_remove(env.conn, hp_cli_get(a, HP_OPT_TEAM_ID),
                                 hp_cli_get(a, HP_OPT_CHANNEL_ID), err, sizeof(err));
    hp_cli_env_close(&env);
    if (rc != HP_OK)
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    res = json_object_new_object();
    hp_json_set_str(res, "channel_id", hp_cli_get(a, HP_OPT_CHANNEL_ID));
    json_object_object_add(res, "removed", json_object_new_boolean(1));
    return hp_cli_emit(a, res);
}

/* ---- route ----------------------------------------------------------------- */

static const struct option hp__route_opts[] = {
    {"agent-id", required_argument, NULL, HP_OPT_AGENT_ID},
    {"channels", required_argument, NULL, HP_OPT_CHANNELS},
    {"remind-after", required_argument, NULL, HP_OPT_REMIND_AFTER},
    {"escalate-after", required_argument, NULL, HP_OPT_ESCALATE_AFTER},
    {"escalate-channels", required_argument, NULL, HP_OPT_ESCALATE_CHANNELS},
    {"escalate-users", required_argument, NULL, HP_OPT_ESCALATE_USERS},
    HP__TAIL_OPTS,
};

/* A comma-separated list of UUIDs as a JSON array (NULL after a usage
 * error, which *st then holds). */
static json_object *hp__ids(const hp_cli_args *a, int id, int *st)
{
    json_object *arr = json_object_new_array();
    const char *p = hp_cli_get(a, id);

    while (p != NULL && *p != '\0') {
        size_t n = strcspn(p, ",");
        char one[HP_UUID_LEN + 1];
        if (n != HP_UUID_LEN) {
            json_object_put(arr);
            *st = hp_cli_usage_error(a->command, "%s must be a comma-separated list of UUIDs",
                                     hp_cli_optname(id));
            return NULL;
        }
        memcpy(one, p, n);
        one[n] = '\0';
        if (!hp_uuid_valid(one)) {
            json_object_put(arr);
            *st = hp_cli_usage_error(a->command, "%s must be a comma-separated list of UUIDs",
                                     hp_cli_optname(id));
            return NULL;
        }
        json_object_array_add(arr, json_object_new_string(one));
        p += n;
        if (*p == ',')
            p++;
    }
    return arr;
}

static int hp__route(hp_cli_args *a, int argc, char **argv)
{
    static const int req[] = {HP_OPT_AGENT_ID, 0};
    hp_agent_notify_spec spec = {0};
    hp_cli_env env;
    hp_pool *pool;
    const char *json = NULL;
    char err[HP_ERRBUF] = "";
    json_object *res = NULL;
    bool show;
    hp_err rc = HP_OK;
    int st = -1;

    if ((st = hp_cli_parse(argc, argv, hp__route_opts, hp__channel_usage, a)) >= 0 ||
        (st = hp_cli_require(a, req)) >= 0 || (st = hp__uuid_opt(a, HP_OPT_AGENT_ID)) >= 0)
        return st;
    show = !hp_cli_has(a, HP_OPT_CHANNELS) && !hp_cli_has(a, HP_OPT_REMIND_AFTER) &&
           !hp_cli_has(a, HP_OPT_ESCALATE_AFTER) && !hp_cli_has(a, HP_OPT_ESCALATE_CHANNELS) &&
           !hp_cli_has(a, HP_OPT_ESCALATE_USERS);
    if (hp_cli_has(a, HP_OPT_REMIND_AFTER) &&
        !hp_channel_delay_parse(hp_cli_get(a, HP_OPT_REMIND_AFTER), &spec.remind_after_seconds))
        return hp_cli_usage_error(a->command, "--remind-after must be minutes, or a number with "
                                              "s, m, h or d, up to 7 days; or off");
    if (hp_cli_has(a, HP_OPT_ESCALATE_AFTER) &&
        !hp_channel_delay_parse(hp_cli_get(a, HP_OPT_ESCALATE_AFTER), &spec.escalate_after_seconds))
        return hp_cli_usage_error(a->command, "--escalate-after must be minutes, or a number "
                                              "with s, m, h or d, up to 7 days; or off");
    if (hp_cli_has(a, HP_OPT_CHANNELS) && strcmp(hp_cli_get(a, HP_OPT_CHANNELS), "all") != 0 &&
        (spec.channel_ids = hp__ids(a, HP_OPT_CHANNELS, &st)) == NULL)
        return st;
    if ((spec.escalate_channel_ids = hp__ids(a, HP_OPT_ESCALATE_CHANNELS, &st)) == NULL ||
        (spec.escalate_user_ids = hp__ids(a, HP_OPT_ESCALATE_USERS, &st)) == NULL) {
        json_object_put(spec.channel_ids);
        json_object_put(spec.escalate_channel_ids);
        return st;
    }
    if ((st = hp_cli_env_open(&env, a, false)) < 0) {
        pool = hp_pool_new();
        if (!show)
            rc = hp_store_agent_notify_set(env.conn, NULL, hp_cli_get(a, HP_OPT_AGENT_ID), &spec,
                                           err, sizeof(err));
        if (rc == HP_OK)
            rc = hp_store_agent_notify_get(env.conn, pool, NULL, hp_cli_get(a, HP_OPT_AGENT_ID),
                                           &json, err, sizeof(err));
        hp_cli_env_close(&env);
        if (rc == HP_OK && hp_json_parse(json, strlen(json), &res, err, sizeof(err)) != HP_OK)
            rc = HP_ERR_INTERNAL;
        hp_pool_free(pool);
    }
    json_object_put(spec.channel_ids);
    json_object_put(spec.escalate_channel_ids);
    json_object_put(spec.escalate_user_ids);
    if (st >= 0)
        return st;
    if (rc != HP_OK)
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    return hp_cli_emit(a, res);
}

/* ---- dispatch -------------------------------------------------------------- */

static const struct {
    const char *name;
    const char *command;
    int (*run)(hp_cli_args *a, int argc, char **argv);
} hp__cmds[] = {
    {"add", "admin channel add", hp__add},       {"list", "admin channel list", hp__list},
    {"test", "admin channel test", hp__test},    {"remove", "admin channel remove", hp__remove},
    {"route", "admin channel route", hp__route},
};

int hp_cli_admin_channel(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;

    if (sub == NULL)
        return hp_cli_usage_error("admin channel", "missing channel command");
    if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        fputs(hp__channel_usage, stdout);
        return HP_CLI_OK;
    }
    for (size_t i = 0; i < sizeof(hp__cmds) / sizeof(hp__cmds[0]); i++) {
        if (strcmp(sub, hp__cmds[i].name) == 0) {
            hp_cli_args a = {.command = hp__cmds[i].command};
            return hp__cmds[i].run(&a, argc - 1, argv + 1);
        }
    }
    return hp_cli_word_error("admin channel", "unknown channel command", sub);
}
