/*
 * cli_admin: `holdpoint admin <command>`, the single steps of setting up a
 * tenant: bootstrap (a team with its owner, an agent and a key in one go),
 * create-agent, create-key, regenerate-key, revoke-key, create-user and
 * set-quota (docs/cli.md).
 *
 * Each command parses its options and runs the store's checks on the values
 * (exit 2 on a usage error, before any configuration or database is
 * needed), then loads the configuration and connects, makes one
 * hp_store_admin call, which does the work in one transaction, and prints
 * the result once it is committed. Keys, tokens and webhook secrets appear in
 * that output and nowhere else: not in logs, not in error messages, and in
 * the database only as hashes or sealed text. Their buffers are wiped before
 * the command returns.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hp_store_admin.h"

/* Every command also takes --json and --help; this ends each table. */
#define HP__TAIL_OPTS                                                                              \
    {"json", no_argument, NULL, HP_OPT_JSON}, {"help", no_argument, NULL, HP_OPT_HELP},            \
    {                                                                                              \
        NULL, 0, NULL, 0                                                                           \
    }

static const char hp__admin_usage[] =
    "usage: holdpoint admin <command> [options] [--json]\n"
    "\n"
    "commands:\n"
    "  bootstrap       --team NAME --email EMAIL --password PW --agent NAME\n"
    "                  [--user-name NAME] [--test-mode] [--quota N]\n"
    "      a team, its owner (with a personal token), an agent and a team-scoped key\n"
    "  create-agent    --team-id ID --name NAME [--timeout-seconds N] [--timeout-mode MODE]\n"
    "                  [--timeout-instruction TEXT]\n"
    "                  [--callback-auth-header NAME --callback-auth-value VALUE]\n"
    "  create-key      --team-id ID [--agent-id ID] [--name NAME] [--test-mode]\n"
    "  regenerate-key  --key-id ID      (the old key stops working at once)\n"
    "  revoke-key      --key-id ID\n"
    "  create-user     --team-id ID --email EMAIL --password PW [--name NAME]\n"
    "                  [--role owner|admin|reviewer]   (default reviewer)\n"
    "  set-quota       --team-id ID (--approvals N | --unlimited)\n"
    "\n"
    "MODE is expire_no_action (default) or expire_with_predefined_instruction, which\n"
    "needs --timeout-instruction. --timeout-seconds is 30 to 86400 (default 3600).\n"
    "With --json a command prints one JSON object; otherwise `key: value` lines.\n"
    "Keys, tokens and webhook secrets are printed once and cannot be shown again.\n"
    "Reads HOLDPOINT_DATABASE_URL and HOLDPOINT_SECRET_KEY. Exit status: 0 ok,\n"
    "1 failure, 2 usage error.\n";

/* Wipes a secret-bearing struct before it goes out of scope. */
#define HP__WIPE(x) explicit_bzero(&(x), sizeof(x))

static void hp__set_str(json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, v != NULL ? json_object_new_string(v) : NULL);
}

/* Error context: the ids a command was given (never secrets). */
static json_object *hp__ctx(const hp_cli_args *a)
{
    static const struct {
        int id;
        const char *field;
    } ids[] = {
        {HP_OPT_TEAM_ID, "team_id"}, {HP_OPT_AGENT_ID, "agent_id"}, {HP_OPT_KEY_ID, "key_id"}};
    json_object *ctx = json_object_new_object();

    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (hp_cli_has(a, ids[i].id))
            hp__set_str(ctx, ids[i].field, hp_cli_get(a, ids[i].id));
    return ctx;
}

/* ---- bootstrap ---------------------------------------------------------- */

static const struct option hp__bootstrap_opts[] = {
    {"team", required_argument, NULL, HP_OPT_TEAM},
    {"email", required_argument, NULL, HP_OPT_EMAIL},
    {"password", required_argument, NULL, HP_OPT_PASSWORD},
    {"agent", required_argument, NULL, HP_OPT_AGENT},
    {"user-name", required_argument, NULL, HP_OPT_USER_NAME},
    {"test-mode", no_argument, NULL, HP_OPT_TEST_MODE},
    {"quota", required_argument, NULL, HP_OPT_QUOTA},
    HP__TAIL_OPTS,
};

static int hp__bootstrap(hp_cli_args *a, int argc, char **argv)
{
    static const int req[] = {HP_OPT_TEAM, HP_OPT_EMAIL, HP_OPT_PASSWORD, HP_OPT_AGENT, 0};
    hp_admin_bootstrap_spec spec = {.quota = HP_QUOTA_UNLIMITED};
    hp_admin_bootstrap out;
    hp_cli_env env;
    char err[HP_ERRBUF] = "";
    json_object *res;
    hp_err rc;
    int st;

    if ((st = hp_cli_parse(argc, argv, hp__bootstrap_opts, hp__admin_usage, a)) >= 0 ||
        (st = hp_cli_require(a, req)) >= 0 ||
        (st = hp_cli_int(a, HP_OPT_QUOTA, 0, 2147483647LL, &spec.quota)) >= 0)
        return st;
    spec.team_name = hp_cli_get(a, HP_OPT_TEAM);
    spec.user.email = hp_cli_get(a, HP_OPT_EMAIL);
    spec.user.password = hp_cli_get(a, HP_OPT_PASSWORD);
    spec.user.name = hp_cli_get(a, HP_OPT_USER_NAME);
    spec.user.role = "owner";
    spec.agent_name = hp_cli_get(a, HP_OPT_AGENT);
    spec.test_mode = hp_cli_has(a, HP_OPT_TEST_MODE);
    if ((rc = hp_store_admin_bootstrap_check(&spec, err, sizeof(err))) != HP_OK)
        return hp_cli_fail(a, rc, err, NULL);
    if ((st = hp_cli_env_open(&env, a, true)) >= 0)
        return st;
    rc = hp_store_admin_bootstrap(env.conn, env.cfg.secret_key, &spec, &out, err, sizeof(err));
    hp_cli_env_close(&env);
    if (rc != HP_OK)
        return hp_cli_fail(a, rc, err, NULL);
    res = json_object_new_object();
    hp__set_str(res, "team_id", out.team_id);
    hp__set_str(res, "user_id", out.user.id);
    hp__set_str(res, "user_token", out.user.token);
    hp__set_str(res, "agent_id", out.agent.id);
    hp__set_str(res, "api_key", out.key.secret);
    hp__set_str(res, "webhook_secret", out.agent.webhook_secret);
    HP__WIPE(out);
    return hp_cli_emit(a, res);
}

/* ---- create-agent ------------------------------------------------------- */

static const struct option hp__agent_opts[] = {
    {"team-id", required_argument, NULL, HP_OPT_TEAM_ID},
    {"name", required_argument, NULL, HP_OPT_NAME},
    {"timeout-seconds", required_argument, NULL, HP_OPT_TIMEOUT_SECONDS},
    {"timeout-mode", required_argument, NULL, HP_OPT_TIMEOUT_MODE},
    {"timeout-instruction", required_argument, NULL, HP_OPT_TIMEOUT_INSTRUCTION},
    {"callback-auth-header", required_argument, NULL, HP_OPT_CALLBACK_AUTH_HEADER},
    {"callback-auth-value", required_argument, NULL, HP_OPT_CALLBACK_AUTH_VALUE},
    HP__TAIL_OPTS,
};

static int hp__create_agent(hp_cli_args *a, int argc, char **argv)
{
    static const int req[] = {HP_OPT_TEAM_ID, HP_OPT_NAME, 0};
    hp_admin_agent_spec spec = {0};
    hp_admin_agent out;
    hp_cli_env env;
    long long secs = 0;
    char err[HP_ERRBUF] = "";
    json_object *res;
    hp_err rc;
    int st;

    if ((st = hp_cli_parse(argc, argv, hp__agent_opts, hp__admin_usage, a)) >= 0 ||
        (st = hp_cli_require(a, req)) >= 0 ||
        (st = hp_cli_int(a, HP_OPT_TIMEOUT_SECONDS, 30, 86400, &secs)) >= 0)
        return st;
    spec.name = hp_cli_get(a, HP_OPT_NAME);
    spec.timeout_seconds = (int)secs;
    spec.timeout_mode = hp_cli_get(a, HP_OPT_TIMEOUT_MODE);
    spec.timeout_instruction = hp_cli_get(a, HP_OPT_TIMEOUT_INSTRUCTION);
    spec.callback_auth_header = hp_cli_get(a, HP_OPT_CALLBACK_AUTH_HEADER);
    spec.callback_auth_value = hp_cli_get(a, HP_OPT_CALLBACK_AUTH_VALUE);
    if ((rc = hp_store_admin_agent_check(hp_cli_get(a, HP_OPT_TEAM_ID), &spec, err, sizeof(err))) !=
        HP_OK)
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    if ((st = hp_cli_env_open(&env, a, true)) >= 0)
        return st;
    rc = hp_store_admin_agent_create(env.conn, env.cfg.secret_key, hp_cli_get(a, HP_OPT_TEAM_ID),
                                     &spec, &out, err, sizeof(err));
    hp_cli_env_close(&env);
    if (rc != HP_OK)
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    res = json_object_new_object();
    hp__set_str(res, "agent_id", out.id);
    hp__set_str(res, "webhook_secret", out.webhook_secret);
    HP__WIPE(out);
    return hp_cli_emit(a, res);
}

/* ---- create-key, regenerate-key, revoke-key ----------------------------- */

static const struct option hp__key_opts[] = {
    {"team-id", required_argument, NULL, HP_OPT_TEAM_ID},
    {"agent-id", required_argument, NULL, HP_OPT_AGENT_ID},
    {"name", required_argument, NULL, HP_OPT_NAME},
    {"test-mode", no_argument, NULL, HP_OPT_TEST_MODE},
    HP__TAIL_OPTS,
};

static int hp__create_key(hp_cli_args *a, int argc, char **argv)
{
    static const int req[] = {HP_OPT_TEAM_ID, 0};
    hp_admin_key out;
    hp_cli_env env;
    char err[HP_ERRBUF] = "";
    json_object *res;
    hp_err rc;
    int st;

    if ((st = hp_cli_parse(argc, argv, hp__key_opts, hp__admin_usage, a)) >= 0 ||
        (st = hp_cli_require(a, req)) >= 0)
        return st;
    if ((rc =
             hp_store_admin_key_check(hp_cli_get(a, HP_OPT_TEAM_ID), hp_cli_get(a, HP_OPT_AGENT_ID),
                                      hp_cli_get(a, HP_OPT_NAME), err, sizeof(err))) != HP_OK)
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    if ((st = hp_cli_env_open(&env, a, false)) >= 0)
        return st;
    rc = hp_store_admin_key_create(env.conn, hp_cli_get(a, HP_OPT_TEAM_ID),
                                   hp_cli_get(a, HP_OPT_AGENT_ID), hp_cli_get(a, HP_OPT_NAME),
                                   hp_cli_has(a, HP_OPT_TEST_MODE), &out, err, sizeof(err));
    hp_cli_env_close(&env);
    if (rc != HP_OK)
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    res = json_object_new_object();
    hp__set_str(res, "key_id", out.id);
    hp__set_str(res, "api_key", out.secret);
    hp__set_str(res, "prefix", out.prefix);
    hp__set_str(res, "agent_id", out.agent_id[0] != '\0' ? out.agent_id : NULL);
    json_object_object_add(res, "test_mode", json_object_new_boolean(out.test_mode));
    HP__WIPE(out);
    return hp_cli_emit(a, res);
}

static const struct option hp__key_id_opts[] = {
    {"key-id", required_argument, NULL, HP_OPT_KEY_ID},
    HP__TAIL_OPTS,
};

static int hp__regenerate_key(hp_cli_args *a, int argc, char **argv)
{
    static const int req[] = {HP_OPT_KEY_ID, 0};
    hp_admin_key out;
    hp_cli_env env;
    char err[HP_ERRBUF] = "";
    json_object *res;
    hp_err rc;
    int st;

    if ((st = hp_cli_parse(argc, argv, hp__key_id_opts, hp__admin_usage, a)) >= 0 ||
        (st = hp_cli_require(a, req)) >= 0)
        return st;
    if ((rc = hp_store_admin_key_id_check(hp_cli_get(a, HP_OPT_KEY_ID), err, sizeof(err))) != HP_OK)
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    if ((st = hp_cli_env_open(&env, a, false)) >= 0)
        return st;
    rc = hp_store_admin_key_regenerate(env.conn, hp_cli_get(a, HP_OPT_KEY_ID), &out, err,
                                       sizeof(err));
    hp_cli_env_close(&env);
    if (rc != HP_OK)
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    res = json_object_new_object();
    hp__set_str(res, "key_id", out.id);
    hp__set_str(res, "api_key", out.secret);
    hp__set_str(res, "prefix", out.prefix);
    hp__set_str(res, "replaces", out.replaces);
    HP__WIPE(out);
    return hp_cli_emit(a, res);
}

static int hp__revoke_key(hp_cli_args *a, int argc, char **argv)
{
    static const int req[] = {HP_OPT_KEY_ID, 0};
    hp_cli_env env;
    char err[HP_ERRBUF] = "";
    json_object *res;
    hp_err rc;
    int st;

    if ((st = hp_cli_parse(argc, argv, hp__key_id_opts, hp__admin_usage, a)) >= 0 ||
        (st = hp_cli_require(a, req)) >= 0)
        return st;
    if ((rc = hp_store_admin_key_id_check(hp_cli_get(a, HP_OPT_KEY_ID), err, sizeof(err))) != HP_OK)
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    if ((st = hp_cli_env_open(&env, a, false)) >= 0)
        return st;
    rc = hp_store_admin_key_revoke(env.conn, hp_cli_get(a, HP_OPT_KEY_ID), err, sizeof(err));
    hp_cli_env_close(&env);
    if (rc != HP_OK)
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    res = json_object_new_object();
    hp__set_str(res, "key_id", hp_cli_get(a, HP_OPT_KEY_ID));
    json_object_object_add(res, "revoked", json_object_new_boolean(1));
    return hp_cli_emit(a, res);
}

/* ---- create-user -------------------------------------------------------- */

static const struct option hp__user_opts[] = {
    {"team-id", required_argument, NULL, HP_OPT_TEAM_ID},
    {"email", required_argument, NULL, HP_OPT_EMAIL},
    {"password", required_argument, NULL, HP_OPT_PASSWORD},
    {"name", required_argument, NULL, HP_OPT_NAME},
    {"role", required_argument, NULL, HP_OPT_ROLE},
    HP__TAIL_OPTS,
};

static int hp__create_user(hp_cli_args *a, int argc, char **argv)
{
    static const int req[] = {HP_OPT_TEAM_ID, HP_OPT_EMAIL, HP_OPT_PASSWORD, 0};
    hp_admin_user_spec spec;
    hp_admin_user out;
    hp_cli_env env;
    char err[HP_ERRBUF] = "";
    json_object *res;
    hp_err rc;
    int st;

    if ((st = hp_cli_parse(argc, argv, hp__user_opts, hp__admin_usage, a)) >= 0 ||
        (st = hp_cli_require(a, req)) >= 0)
        return st;
    spec.email = hp_cli_get(a, HP_OPT_EMAIL);
    spec.password = hp_cli_get(a, HP_OPT_PASSWORD);
    spec.name = hp_cli_get(a, HP_OPT_NAME);
    spec.role = hp_cli_get(a, HP_OPT_ROLE);
    if ((rc = hp_store_admin_user_check(hp_cli_get(a, HP_OPT_TEAM_ID), &spec, err, sizeof(err))) !=
        HP_OK)
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    if ((st = hp_cli_env_open(&env, a, false)) >= 0)
        return st;
    rc = hp_store_admin_user_create(env.conn, hp_cli_get(a, HP_OPT_TEAM_ID), &spec, &out, err,
                                    sizeof(err));
    hp_cli_env_close(&env);
    if (rc != HP_OK)
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    res = json_object_new_object();
    hp__set_str(res, "user_id", out.id);
    hp__set_str(res, "user_token", out.token);
    HP__WIPE(out);
    return hp_cli_emit(a, res);
}

/* ---- set-quota ---------------------------------------------------------- */

static const struct option hp__quota_opts[] = {
    {"team-id", required_argument, NULL, HP_OPT_TEAM_ID},
    {"approvals", required_argument, NULL, HP_OPT_APPROVALS},
    {"unlimited", no_argument, NULL, HP_OPT_UNLIMITED},
    HP__TAIL_OPTS,
};

static int hp__set_quota(hp_cli_args *a, int argc, char **argv)
{
    static const int req[] = {HP_OPT_TEAM_ID, 0};
    long long quota = HP_QUOTA_UNLIMITED;
    hp_cli_env env;
    char err[HP_ERRBUF] = "";
    json_object *res;
    hp_err rc;
    int st;

    if ((st = hp_cli_parse(argc, argv, hp__quota_opts, hp__admin_usage, a)) >= 0 ||
        (st = hp_cli_require(a, req)) >= 0 ||
        (st = hp_cli_int(a, HP_OPT_APPROVALS, 0, 2147483647LL, &quota)) >= 0)
        return st;
    if (hp_cli_has(a, HP_OPT_APPROVALS) == hp_cli_has(a, HP_OPT_UNLIMITED))
        return hp_cli_usage_error(a->command, "give exactly one of --approvals N or --unlimited");
    if ((rc = hp_store_admin_quota_check(hp_cli_get(a, HP_OPT_TEAM_ID), quota, err, sizeof(err))) !=
        HP_OK)
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    if ((st = hp_cli_env_open(&env, a, false)) >= 0)
        return st;
    rc = hp_store_admin_quota_set(env.conn, hp_cli_get(a, HP_OPT_TEAM_ID), quota, err, sizeof(err));
    hp_cli_env_close(&env);
    if (rc != HP_OK)
        return hp_cli_fail(a, rc, err, hp__ctx(a));
    res = json_object_new_object();
    hp__set_str(res, "team_id", hp_cli_get(a, HP_OPT_TEAM_ID));
    json_object_object_add(res, "approval_quota",
                           quota == HP_QUOTA_UNLIMITED ? NULL : json_object_new_int64(quota));
    return hp_cli_emit(a, res);
}

/* ---- dispatch ----------------------------------------------------------- */

static const struct {
    const char *name;
    const char *command; /* for logs */
    int (*run)(hp_cli_args *a, int argc, char **argv);
} hp__admin_cmds[] = {
    {"bootstrap", "admin bootstrap", hp__bootstrap},
    {"create-agent", "admin create-agent", hp__create_agent},
    {"create-key", "admin create-key", hp__create_key},
    {"regenerate-key", "admin regenerate-key", hp__regenerate_key},
    {"revoke-key", "admin revoke-key", hp__revoke_key},
    {"create-user", "admin create-user", hp__create_user},
    {"set-quota", "admin set-quota", hp__set_quota},
};

int hp_cli_admin(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;

    if (sub == NULL)
        return hp_cli_usage_error("admin", "missing admin command");
    if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        fputs(hp__admin_usage, stdout);
        return HP_CLI_OK;
    }
    for (size_t i = 0; i < sizeof(hp__admin_cmds) / sizeof(hp__admin_cmds[0]); i++) {
        if (strcmp(sub, hp__admin_cmds[i].name) == 0) {
            hp_cli_args a = {.command = hp__admin_cmds[i].command};
            return hp__admin_cmds[i].run(&a, argc - 1, argv + 1);
        }
    }
    return hp_cli_word_error("admin", "unknown admin command", sub);
}
