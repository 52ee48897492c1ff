/*
 * cli_admin: `holdpoint admin <command>`, the single steps of setting up a
 * tenant: bootstrap (a team with its owner, an agent and a key in one go),
 * create-agent, create-key, regenerate-key, revoke-key, create-user and
 * set-quota (docs/cli.md).
 *
 * Every command is one row of a table and runs the same steps (hp__run):
 * parse its options, require the mandatory ones, read them into a spec and
 * run the model's checks (exit 2 on a usage error, before any configuration
 * or database is needed), load the configuration and connect, make one
 * hp_store_admin call, which does the work in one transaction, and print the
 * result once it is committed. Keys, tokens and webhook secrets appear in
 * that output and nowhere else: not in logs, not in error messages, and in
 * the database only as hashes or sealed text. Their buffers are wiped before
 * the command returns.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hp_admin.h"
#include "hp_pool.h"
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
    "  update-agent    --team-id ID --agent-id ID [--name NAME] [--timeout-seconds N]\n"
    "                  [--timeout-mode MODE] [--timeout-instruction TEXT]\n"
    "                  [--callback-auth-header NAME --callback-auth-value VALUE |\n"
    "                   --no-callback-auth]   (what is not given is kept)\n"
    "  create-key      --team-id ID [--agent-id ID] [--name NAME] [--test-mode]\n"
    "  regenerate-key  --key-id KEY     (the old key stops working at once)\n"
    "  revoke-key      --key-id KEY\n"
    "  create-user     --team-id ID --email EMAIL --password PW [--name NAME]\n"
    "                  [--role owner|admin|reviewer]   (default reviewer)\n"
    "  set-quota       --team-id ID (--approvals N | --unlimited)\n"
    "  channel         add | list | test | remove | route: notification channels\n"
    "                  (`holdpoint admin channel help` lists their options)\n"
    "\n"
    "MODE is expire_no_action (default) or expire_with_predefined_instruction, which\n"
    "needs --timeout-instruction. --timeout-seconds is 30 to 86400 (default 3600).\n"
    "KEY is a key's id, the API key itself, or its public prefix (hpk_ and 12\n"
    "characters); with --key-id - it is read from the first line of standard input,\n"
    "which keeps a key out of the process list and the shell history.\n"
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

/* Error context: the ids a command was given (never secrets: a key given
 * to --key-id shows as its public prefix, anything else not at all). */
static json_object *hp__ctx(const hp_cli_args *a)
{
    static const struct {
        int id;
        const char *field;
    } ids[] = {{HP_OPT_TEAM_ID, "team_id"}, {HP_OPT_AGENT_ID, "agent_id"}};
    json_object *ctx = json_object_new_object();
    const char *key = hp_cli_get(a, HP_OPT_KEY_ID);
    char prefix[HP_KEY_PREFIX_LEN + 1];

    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (hp_cli_has(a, ids[i].id))
            hp__set_str(ctx, ids[i].field, hp_cli_get(a, ids[i].id));
    if (key != NULL && (hp_uuid_valid(key) || hp_key_prefix_valid(HP_KEY_API, key)))
        hp__set_str(ctx, "key_id", key);
    else if (key != NULL && hp_key_parse(HP_KEY_API, key, prefix))
        hp__set_str(ctx, "key_prefix", prefix);
    return ctx;
}

/* What a command reads from its options and what its store call returns;
 * each command uses its own member. */
typedef union hp__spec {
    hp_admin_bootstrap_spec bootstrap;
    hp_admin_agent_spec agent;
    hp_admin_agent_patch agent_patch;
    hp_admin_user_spec user;
    long long quota;
    hp_admin_key_ref key_ref;
} hp__spec;

typedef union hp__out {
    hp_admin_bootstrap bootstrap;
    hp_admin_agent agent;
    json_object *agent_json; /* update-agent: the agent as changed */
    hp_admin_key key;
    hp_admin_user user;
} hp__out;

/* One admin command. prepare reads the parsed options into *s and runs the
 * model's checks: -1 to go on, else the exit status (after logging). call
 * does the work on the connection; render turns the committed result into
 * the output object (new reference). */
typedef struct hp__cmd {
    const char *name;          /* "create-key" */
    const char *command;       /* for logs: "admin create-key" */
    const struct option *opts; /* ends with HP__TAIL_OPTS */
    const int *required;       /* option ids, 0-terminated */
    bool need_secret;          /* HOLDPOINT_SECRET_KEY seals something */
    int (*prepare)(hp_cli_args *a, hp__spec *s);
    hp_err (*call)(hp_cli_env *env, const hp_cli_args *a, const hp__spec *s, hp__out *o, char *err,
                   size_t errcap);
    json_object *(*render)(const hp_cli_args *a, const hp__spec *s, const hp__out *o);
} hp__cmd;

/* Logs a failed check or call with the command's ids and returns the exit
 * status. */
static int hp__fail(hp_cli_args *a, hp_err rc, const char *err)
{
    return hp_cli_fail(a, rc, err, hp__ctx(a));
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
static const int hp__bootstrap_req[] = {HP_OPT_TEAM, HP_OPT_EMAIL, HP_OPT_PASSWORD, HP_OPT_AGENT,
                                        0};

static int hp__bootstrap_prepare(hp_cli_args *a, hp__spec *s)
{
    hp_admin_bootstrap_spec *b = &s->bootstrap;
    char err[HP_ERRBUF] = "";
    hp_err rc;
    int st;

    b->quota = HP_QUOTA_UNLIMITED;
    if ((st = hp_cli_int(a, HP_OPT_QUOTA, 0, 2147483647LL, &b->quota)) >= 0)
        return st;
    b->team_name = hp_cli_get(a, HP_OPT_TEAM);
    b->user.email = hp_cli_get(a, HP_OPT_EMAIL);
    b->user.password = hp_cli_get(a, HP_OPT_PASSWORD);
    b->user.name = hp_cli_get(a, HP_OPT_USER_NAME);
    b->user.role = "owner";
    b->agent_name = hp_cli_get(a, HP_OPT_AGENT);
    b->test_mode = hp_cli_has(a, HP_OPT_TEST_MODE);
    if ((rc = hp_admin_bootstrap_check(b, err, sizeof(err))) != HP_OK)
        return hp_cli_fail(a, rc, err, NULL);
    return -1;
}

static hp_err hp__bootstrap_call(hp_cli_env *env, const hp_cli_args *a, const hp__spec *s,
                                 hp__out *o, char *err, size_t errcap)
{
    (void)a;
    return hp_store_admin_bootstrap(env->conn, env->cfg.secret_key, &s->bootstrap, &o->bootstrap,
                                    err, errcap);
}

static json_object *hp__bootstrap_render(const hp_cli_args *a, const hp__spec *s, const hp__out *o)
{
    json_object *res = json_object_new_object();

    (void)a;
    (void)s;
    hp__set_str(res, "team_id", o->bootstrap.team_id);
    hp__set_str(res, "user_id", o->bootstrap.user.id);
    hp__set_str(res, "user_token", o->bootstrap.user.token);
    hp__set_str(res, "agent_id", o->bootstrap.agent.id);
    hp__set_str(res, "key_id", o->bootstrap.key.id);
    hp__set_str(res, "api_key", o->bootstrap.key.secret);
    hp__set_str(res, "webhook_secret", o->bootstrap.agent.webhook_secret);
    return res;
}

/* ---- create-agent ------------------------------------------------------- */

/* An agent's settings, as create-agent and update-agent take them. */
#define HP__AGENT_SETTING_OPTS                                                                     \
    {"team-id", required_argument, NULL, HP_OPT_TEAM_ID},                                          \
        {"name", required_argument, NULL, HP_OPT_NAME},                                            \
        {"timeout-seconds", required_argument, NULL, HP_OPT_TIMEOUT_SECONDS},                      \
        {"timeout-mode", required_argument, NULL, HP_OPT_TIMEOUT_MODE},                            \
        {"timeout-instruction", required_argument, NULL, HP_OPT_TIMEOUT_INSTRUCTION},              \
        {"callback-auth-header", required_argument, NULL, HP_OPT_CALLBACK_AUTH_HEADER},            \
    {                                                                                              \
        "callback-auth-value", required_argument, NULL, HP_OPT_CALLBACK_AUTH_VALUE                 \
    }

static const struct option hp__agent_opts[] = {
    HP__AGENT_SETTING_OPTS,
    HP__TAIL_OPTS,
};
static const int hp__agent_req[] = {HP_OPT_TEAM_ID, HP_OPT_NAME, 0};

/* The HP__AGENT_SETTING_OPTS given into g (absent ones NULL or 0): -1 to go
 * on, else the exit status. */
static int hp__agent_read(hp_cli_args *a, hp_admin_agent_spec *g)
{
    long long secs = 0;
    int st = hp_cli_int(a, HP_OPT_TIMEOUT_SECONDS, 30, 86400, &secs);

    if (st >= 0)
        return st;
    g->name = hp_cli_get(a, HP_OPT_NAME);
    g->timeout_seconds = (int)secs;
    g->timeout_mode = hp_cli_get(a, HP_OPT_TIMEOUT_MODE);
    g->timeout_instruction = hp_cli_get(a, HP_OPT_TIMEOUT_INSTRUCTION);
    g->callback_auth_header = hp_cli_get(a, HP_OPT_CALLBACK_AUTH_HEADER);
    g->callback_auth_value = hp_cli_get(a, HP_OPT_CALLBACK_AUTH_VALUE);
    return -1;
}

static int hp__agent_prepare(hp_cli_args *a, hp__spec *s)
{
    hp_admin_agent_spec *g = &s->agent;
    char err[HP_ERRBUF] = "";
    hp_err rc;
    int st;

    if ((st = hp__agent_read(a, g)) >= 0)
        return st;
    if ((rc = hp_admin_agent_check(hp_cli_get(a, HP_OPT_TEAM_ID), g, err, sizeof(err))) != HP_OK)
        return hp__fail(a, rc, err);
    return -1;
}

static hp_err hp__agent_call(hp_cli_env *env, const hp_cli_args *a, const hp__spec *s, hp__out *o,
                             char *err, size_t errcap)
{
    return hp_store_admin_agent_create(env->conn, env->cfg.secret_key,
                                       hp_cli_get(a, HP_OPT_TEAM_ID), &s->agent, &o->agent, err,
                                       errcap);
}

static json_object *hp__agent_render(const hp_cli_args *a, const hp__spec *s, const hp__out *o)
{
    json_object *res = json_object_new_object();

    (void)a;
    (void)s;
    hp__set_str(res, "agent_id", o->agent.id);
    hp__set_str(res, "webhook_secret", o->agent.webhook_secret);
    return res;
}

/* ---- update-agent ------------------------------------------------------- */

static const struct option hp__agent_update_opts[] = {
    HP__AGENT_SETTING_OPTS,
    {"agent-id", required_argument, NULL, HP_OPT_AGENT_ID},
    {"no-callback-auth", no_argument, NULL, HP_OPT_NO_CALLBACK_AUTH},
    HP__TAIL_OPTS,
};
static const int hp__agent_update_req[] = {HP_OPT_TEAM_ID, HP_OPT_AGENT_ID, 0};

/* The change as PATCH /v1/settings/agents/{id} takes it; the agent as
 * changed is checked against a new agent's rules by the store, which reads
 * the agent first. */
static int hp__agent_update_prepare(hp_cli_args *a, hp__spec *s)
{
    hp_admin_agent_patch *p = &s->agent_patch;
    hp_admin_agent_spec g = {0};
    bool header =
        hp_cli_has(a, HP_OPT_CALLBACK_AUTH_HEADER) || hp_cli_has(a, HP_OPT_CALLBACK_AUTH_VALUE);
    char err[HP_ERRBUF] = "";
    hp_err rc;
    int st;

    if ((st = hp__agent_read(a, &g)) >= 0)
        return st;
    if (header && hp_cli_has(a, HP_OPT_NO_CALLBACK_AUTH))
        return hp_cli_usage_error(a->command, "--no-callback-auth removes the header: give it "
                                              "without --callback-auth-header and -value");
    p->name = g.name;
    p->set_timeout_seconds = hp_cli_has(a, HP_OPT_TIMEOUT_SECONDS);
    p->timeout_seconds = g.timeout_seconds;
    p->timeout_mode = g.timeout_mode;
    p->set_timeout_instruction = hp_cli_has(a, HP_OPT_TIMEOUT_INSTRUCTION);
    p->timeout_instruction = g.timeout_instruction;
    p->set_callback_auth = header || hp_cli_has(a, HP_OPT_NO_CALLBACK_AUTH);
    p->callback_auth_header = g.callback_auth_header;
    p->callback_auth_value = g.callback_auth_value;
    if (p->name == NULL && !p->set_timeout_seconds && p->timeout_mode == NULL &&
        !p->set_timeout_instruction && !p->set_callback_auth)
        return hp_cli_usage_error(a->command, "nothing to change: give at least one of --name, "
                                              "--timeout-seconds, --timeout-mode, "
                                              "--timeout-instruction, --callback-auth-header "
                                              "and -value, --no-callback-auth");
    if ((rc = hp_admin_key_check(hp_cli_get(a, HP_OPT_TEAM_ID), hp_cli_get(a, HP_OPT_AGENT_ID),
                                 NULL, err, sizeof(err))) != HP_OK)
        return hp__fail(a, rc, err);
    return -1;
}

static hp_err hp__agent_update_call(hp_cli_env *env, const hp_cli_args *a, const hp__spec *s,
                                    hp__out *o, char *err, size_t errcap)
{
    hp_pool *pool = hp_pool_new();
    hp_agent_row row;
    hp_err rc = hp_store_admin_agent_update(
        env->conn, pool, env->cfg.secret_key, hp_cli_get(a, HP_OPT_TEAM_ID),
        hp_cli_get(a, HP_OPT_AGENT_ID), &s->agent_patch, &row, err, errcap);

    if (rc == HP_OK)
        o->agent_json = hp_admin_agent_json(&row);
    hp_pool_free(pool);
    return rc;
}

static json_object *hp__agent_update_render(const hp_cli_args *a, const hp__spec *s,
                                            const hp__out *o)
{
    (void)a;
    (void)s;
    return o->agent_json; /* made by the call for this render */
}

/* ---- create-key, regenerate-key, revoke-key ----------------------------- */

static const struct option hp__key_opts[] = {
    {"team-id", required_argument, NULL, HP_OPT_TEAM_ID},
    {"agent-id", required_argument, NULL, HP_OPT_AGENT_ID},
    {"name", required_argument, NULL, HP_OPT_NAME},
    {"test-mode", no_argument, NULL, HP_OPT_TEST_MODE},
    HP__TAIL_OPTS,
};
static const int hp__key_req[] = {HP_OPT_TEAM_ID, 0};

static int hp__key_prepare(hp_cli_args *a, hp__spec *s)
{
    char err[HP_ERRBUF] = "";
    hp_err rc = hp_admin_key_check(hp_cli_get(a, HP_OPT_TEAM_ID), hp_cli_get(a, HP_OPT_AGENT_ID),
                                   hp_cli_get(a, HP_OPT_NAME), err, sizeof(err));

    (void)s;
    return rc != HP_OK ? hp__fail(a, rc, err) : -1;
}

static hp_err hp__key_call(hp_cli_env *env, const hp_cli_args *a, const hp__spec *s, hp__out *o,
                           char *err, size_t errcap)
{
    (void)s;
    return hp_store_admin_key_create(env->conn, hp_cli_get(a, HP_OPT_TEAM_ID),
                                     hp_cli_get(a, HP_OPT_AGENT_ID), hp_cli_get(a, HP_OPT_NAME),
                                     hp_cli_has(a, HP_OPT_TEST_MODE), &o->key, err, errcap);
}

static json_object *hp__key_render(const hp_cli_args *a, const hp__spec *s, const hp__out *o)
{
    json_object *res = json_object_new_object();

    (void)a;
    (void)s;
    hp__set_str(res, "key_id", o->key.id);
    hp__set_str(res, "api_key", o->key.secret);
    hp__set_str(res, "prefix", o->key.prefix);
    hp__set_str(res, "agent_id", o->key.agent_id[0] != '\0' ? o->key.agent_id : NULL);
    json_object_object_add(res, "test_mode", json_object_new_boolean(o->key.test_mode));
    return res;
}

static const struct option hp__key_id_opts[] = {
    {"key-id", required_argument, NULL, HP_OPT_KEY_ID},
    HP__TAIL_OPTS,
};
static const int hp__key_id_req[] = {HP_OPT_KEY_ID, 0};

/* --key-id KEY, or "-": the first line of standard input (trailing white
 * space dropped), so a key stays out of argv. */
static int hp__key_id_prepare(hp_cli_args *a, hp__spec *s)
{
    const char *v = hp_cli_get(a, HP_OPT_KEY_ID);
    char err[HP_ERRBUF] = "", line[128] = "";
    hp_err rc;

    if (strcmp(v, "-") == 0) {
        size_t n;
        if (fgets(line, (int)sizeof(line), stdin) == NULL)
            line[0] = '\0';
        n = strlen(line);
        while (n > 0 && strchr(" \t\r\n", line[n - 1]) != NULL)
            line[--n] = '\0';
        v = line;
    }
    rc = hp_admin_key_ref_parse(v, &s->key_ref, err, sizeof(err));
    explicit_bzero(line, sizeof(line));
    return rc != HP_OK ? hp__fail(a, rc, err) : -1;
}

static hp_err hp__regenerate_call(hp_cli_env *env, const hp_cli_args *a, const hp__spec *s,
                                  hp__out *o, char *err, size_t errcap)
{
    (void)a;
    return hp_store_admin_key_regenerate(env->conn, &s->key_ref, &o->key, err, errcap);
}

static json_object *hp__regenerate_render(const hp_cli_args *a, const hp__spec *s, const hp__out *o)
{
    json_object *res = json_object_new_object();

    (void)a;
    (void)s;
    hp__set_str(res, "key_id", o->key.id);
    hp__set_str(res, "api_key", o->key.secret);
    hp__set_str(res, "prefix", o->key.prefix);
    hp__set_str(res, "replaces", o->key.replaces);
    return res;
}

static hp_err hp__revoke_call(hp_cli_env *env, const hp_cli_args *a, const hp__spec *s, hp__out *o,
                              char *err, size_t errcap)
{
    (void)a;
    return hp_store_admin_key_revoke(env->conn, &s->key_ref, o->key.id, err, errcap);
}

static json_object *hp__revoke_render(const hp_cli_args *a, const hp__spec *s, const hp__out *o)
{
    json_object *res = json_object_new_object();

    (void)a;
    (void)s;
    hp__set_str(res, "key_id", o->key.id);
    json_object_object_add(res, "revoked", json_object_new_boolean(1));
    return res;
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
static const int hp__user_req[] = {HP_OPT_TEAM_ID, HP_OPT_EMAIL, HP_OPT_PASSWORD, 0};

static int hp__user_prepare(hp_cli_args *a, hp__spec *s)
{
    hp_admin_user_spec *u = &s->user;
    char err[HP_ERRBUF] = "";
    hp_err rc;

    u->email = hp_cli_get(a, HP_OPT_EMAIL);
    u->password = hp_cli_get(a, HP_OPT_PASSWORD);
    u->name = hp_cli_get(a, HP_OPT_NAME);
    u->role = hp_cli_get(a, HP_OPT_ROLE);
    if ((rc = hp_admin_user_check(hp_cli_get(a, HP_OPT_TEAM_ID), u, err, sizeof(err))) != HP_OK)
        return hp__fail(a, rc, err);
    return -1;
}

static hp_err hp__user_call(hp_cli_env *env, const hp_cli_args *a, const hp__spec *s, hp__out *o,
                            char *err, size_t errcap)
{
    return hp_store_admin_user_create(env->conn, hp_cli_get(a, HP_OPT_TEAM_ID), &s->user, &o->user,
                                      err, errcap);
}

static json_object *hp__user_render(const hp_cli_args *a, const hp__spec *s, const hp__out *o)
{
    json_object *res = json_object_new_object();

    (void)a;
    (void)s;
    hp__set_str(res, "user_id", o->user.id);
    hp__set_str(res, "user_token", o->user.token);
    return res;
}

/* ---- set-quota ---------------------------------------------------------- */

static const struct option hp__quota_opts[] = {
    {"team-id", required_argument, NULL, HP_OPT_TEAM_ID},
    {"approvals", required_argument, NULL, HP_OPT_APPROVALS},
    {"unlimited", no_argument, NULL, HP_OPT_UNLIMITED},
    HP__TAIL_OPTS,
};
static const int hp__quota_req[] = {HP_OPT_TEAM_ID, 0};

static int hp__quota_prepare(hp_cli_args *a, hp__spec *s)
{
    char err[HP_ERRBUF] = "";
    hp_err rc;
    int st;

    s->quota = HP_QUOTA_UNLIMITED;
    if ((st = hp_cli_int(a, HP_OPT_APPROVALS, 0, 2147483647LL, &s->quota)) >= 0)
        return st;
    if (hp_cli_has(a, HP_OPT_APPROVALS) == hp_cli_has(a, HP_OPT_UNLIMITED))
        return hp_cli_usage_error(a->command, "give exactly one of --approvals N or --unlimited");
    if ((rc = hp_admin_quota_check(hp_cli_get(a, HP_OPT_TEAM_ID), s->quota, err, sizeof(err))) !=
        HP_OK)
        return hp__fail(a, rc, err);
    return -1;
}

static hp_err hp__quota_call(hp_cli_env *env, const hp_cli_args *a, const hp__spec *s, hp__out *o,
                             char *err, size_t errcap)
{
    (void)o;
    return hp_store_admin_quota_set(env->conn, hp_cli_get(a, HP_OPT_TEAM_ID), s->quota, err,
                                    errcap);
}

static json_object *hp__quota_render(const hp_cli_args *a, const hp__spec *s, const hp__out *o)
{
    json_object *res = json_object_new_object();

    (void)o;
    hp__set_str(res, "team_id", hp_cli_get(a, HP_OPT_TEAM_ID));
    json_object_object_add(res, "approval_quota",
                           s->quota == HP_QUOTA_UNLIMITED ? NULL : json_object_new_int64(s->quota));
    return res;
}

/* ---- the table and the steps every command runs -------------------------- */

static const hp__cmd hp__admin_cmds[] = {
    {"bootstrap", "admin bootstrap", hp__bootstrap_opts, hp__bootstrap_req, true,
     hp__bootstrap_prepare, hp__bootstrap_call, hp__bootstrap_render},
    {"create-agent", "admin create-agent", hp__agent_opts, hp__agent_req, true, hp__agent_prepare,
     hp__agent_call, hp__agent_render},
    {"update-agent", "admin update-agent", hp__agent_update_opts, hp__agent_update_req, true,
     hp__agent_update_prepare, hp__agent_update_call, hp__agent_update_render},
    {"create-key", "admin create-key", hp__key_opts, hp__key_req, false, hp__key_prepare,
     hp__key_call, hp__key_render},
    {"regenerate-key", "admin regenerate-key", hp__key_id_opts, hp__key_id_req, false,
     hp__key_id_prepare, hp__regenerate_call, hp__regenerate_render},
    {"revoke-key", "admin revoke-key", hp__key_id_opts, hp__key_id_req, false, hp__key_id_prepare,
     hp__revoke_call, hp__revoke_render},
    {"create-user", "admin create-user", hp__user_opts, hp__user_req, false, hp__user_prepare,
     hp__user_call, hp__user_render},
    {"set-quota", "admin set-quota", hp__quota_opts, hp__quota_req, false, hp__quota_prepare,
     hp__quota_call, hp__quota_render},
};

/* parse → require → prepare (spec and checks) → open → call → close → emit.
 * The out union holds the secrets to print; it is wiped before returning. */
static int hp__run(const hp__cmd *cmd, int argc, char **argv)
{
    hp_cli_args a = {.command = cmd->command};
    hp__spec spec;
    hp__out out;
    hp_cli_env env;
    char err[HP_ERRBUF] = "";
    json_object *res;
    hp_err rc;
    int st;

    memset(&spec, 0, sizeof(spec));
    memset(&out, 0, sizeof(out));
    if ((st = hp_cli_parse(argc, argv, cmd->opts, hp__admin_usage, &a)) >= 0 ||
        (st = hp_cli_require(&a, cmd->required)) >= 0 || (st = cmd->prepare(&a, &spec)) >= 0)
        return st;
    if ((st = hp_cli_env_open(&env, &a, cmd->need_secret)) >= 0)
        return st;
    rc = cmd->call(&env, &a, &spec, &out, err, sizeof(err));
    hp_cli_env_close(&env);
    if (rc != HP_OK) {
        HP__WIPE(out);
        return hp__fail(&a, rc, err);
    }
    res = cmd->render(&a, &spec, &out);
    HP__WIPE(out);
    return hp_cli_emit(&a, res);
}

int hp_cli_admin(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;

    if (sub == NULL)
        return hp_cli_usage_error("admin", "missing admin command");
    if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        fputs(hp__admin_usage, stdout);
        return HP_CLI_OK;
    }
    if (strcmp(sub, "channel") == 0)
        return hp_cli_admin_channel(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(hp__admin_cmds) / sizeof(hp__admin_cmds[0]); i++)
        if (strcmp(sub, hp__admin_cmds[i].name) == 0)
            return hp__run(&hp__admin_cmds[i], argc - 1, argv + 1);
    return hp_cli_word_error("admin", "unknown admin command", sub);
}
