/*
 * cli_common: option parsing, error reporting, output and the database
 * connection shared by the `holdpoint` subcommands (see cli.h).
 *
 * getopt_long's own messages are turned off so that every error, including
 * a mistyped option, reaches stderr as one JSON log line. Output goes only
 * to stdout and only after the work is committed; secrets pass through it
 * and nowhere else.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hp_json.h"
#include "hp_log.h"
#include "hp_str.h"

static const char *const hp__optnames[HP_OPT__COUNT] = {
    [HP_OPT_JSON - HP_OPT__FIRST] = "--json",
    [HP_OPT_HELP - HP_OPT__FIRST] = "--help",
    [HP_OPT_TEAM - HP_OPT__FIRST] = "--team",
    [HP_OPT_TEAM_ID - HP_OPT__FIRST] = "--team-id",
    [HP_OPT_EMAIL - HP_OPT__FIRST] = "--email",
    [HP_OPT_PASSWORD - HP_OPT__FIRST] = "--password",
    [HP_OPT_AGENT - HP_OPT__FIRST] = "--agent",
    [HP_OPT_AGENT_ID - HP_OPT__FIRST] = "--agent-id",
    [HP_OPT_USER_NAME - HP_OPT__FIRST] = "--user-name",
    [HP_OPT_NAME - HP_OPT__FIRST] = "--name",
    [HP_OPT_TEST_MODE - HP_OPT__FIRST] = "--test-mode",
    [HP_OPT_QUOTA - HP_OPT__FIRST] = "--quota",
    [HP_OPT_TIMEOUT_SECONDS - HP_OPT__FIRST] = "--timeout-seconds",
    [HP_OPT_TIMEOUT_MODE - HP_OPT__FIRST] = "--timeout-mode",
    [HP_OPT_TIMEOUT_INSTRUCTION - HP_OPT__FIRST] = "--timeout-instruction",
    [HP_OPT_CALLBACK_AUTH_HEADER - HP_OPT__FIRST] = "--callback-auth-header",
    [HP_OPT_CALLBACK_AUTH_VALUE - HP_OPT__FIRST] = "--callback-auth-value",
    [HP_OPT_KEY_ID - HP_OPT__FIRST] = "--key-id",
    [HP_OPT_ROLE - HP_OPT__FIRST] = "--role",
    [HP_OPT_APPROVALS - HP_OPT__FIRST] = "--approvals",
    [HP_OPT_UNLIMITED - HP_OPT__FIRST] = "--unlimited",
    [HP_OPT_KIND - HP_OPT__FIRST] = "--kind",
    [HP_OPT_CHANNEL_ID - HP_OPT__FIRST] = "--channel-id",
    [HP_OPT_URL - HP_OPT__FIRST] = "--url",
    [HP_OPT_TOPIC - HP_OPT__FIRST] = "--topic",
    [HP_OPT_TOKEN - HP_OPT__FIRST] = "--token",
    [HP_OPT_PRIORITY - HP_OPT__FIRST] = "--priority",
    [HP_OPT_TAGS - HP_OPT__FIRST] = "--tags",
    [HP_OPT_WEBHOOK_URL - HP_OPT__FIRST] = "--webhook-url",
    [HP_OPT_SIGNING_SECRET - HP_OPT__FIRST] = "--signing-secret",
    [HP_OPT_HOST - HP_OPT__FIRST] = "--host",
    [HP_OPT_PORT - HP_OPT__FIRST] = "--port",
    [HP_OPT_TLS - HP_OPT__FIRST] = "--tls",
    [HP_OPT_USERNAME - HP_OPT__FIRST] = "--username",
    [HP_OPT_FROM - HP_OPT__FIRST] = "--from",
    [HP_OPT_TO - HP_OPT__FIRST] = "--to",
    [HP_OPT_USERS - HP_OPT__FIRST] = "--users",
    [HP_OPT_CHANNELS - HP_OPT__FIRST] = "--channels",
    [HP_OPT_REMIND_AFTER - HP_OPT__FIRST] = "--remind-after",
    [HP_OPT_ESCALATE_AFTER - HP_OPT__FIRST] = "--escalate-after",
    [HP_OPT_ESCALATE_CHANNELS - HP_OPT__FIRST] = "--escalate-channels",
    [HP_OPT_ESCALATE_USERS - HP_OPT__FIRST] = "--escalate-users",
    [HP_OPT_WAIT - HP_OPT__FIRST] = "--wait",
    [HP_OPT_SETTINGS - HP_OPT__FIRST] = "--settings",
    [HP_OPT_PROJECT - HP_OPT__FIRST] = "--project",
    [HP_OPT_EVENT - HP_OPT__FIRST] = "--event",
    [HP_OPT_MATCHER - HP_OPT__FIRST] = "--matcher",
    [HP_OPT_TIMEOUT - HP_OPT__FIRST] = "--timeout",
    [HP_OPT_HTTP - HP_OPT__FIRST] = "--http",
};

const char *hp_cli_optname(int id)
{
    if (id < HP_OPT__FIRST || id >= HP_OPT__END)
        return "(unknown option)";
    return hp__optnames[id - HP_OPT__FIRST];
}

const char *hp_cli_get(const hp_cli_args *a, int id)
{
    if (id < HP_OPT__FIRST || id >= HP_OPT__END)
        return NULL;
    return a->val[id - HP_OPT__FIRST];
}

bool hp_cli_has(const hp_cli_args *a, int id)
{
    return hp_cli_get(a, id) != NULL;
}

int hp_cli_usage_error(const char *command, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    hp_log_error(msg, "command", command, "reason", "usage", "hint", "run `holdpoint help`");
    return HP_CLI_USAGE;
}

/* True when s is a plausible command or option word, safe to echo in a log
 * line: a mistyped option may carry a value, and values may be secrets. */
static bool hp__echoable(const char *s, size_t n)
{
    if (n == 0 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
            return false;
    return true;
}

int hp_cli_word_error(const char *command, const char *what, const char *word)
{
    size_t n = strcspn(word, "=");

    if (hp__echoable(word, n))
        return hp_cli_usage_error(command, "%s \"%.*s\"", what, (int)n, word);
    return hp_cli_usage_error(command, "%s", what);
}

int hp_cli_parse(int argc, char **argv, const struct option *opts, const char *usage,
                 hp_cli_args *a)
{
    int ch;

    memset(a->val, 0, sizeof(a->val));
    opterr = 0;
    optind = 1;
    /* Leading ':' makes a missing argument return ':' instead of '?'. */
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (ch == 'h' || ch == HP_OPT_HELP) {
            fputs(usage, stdout);
            return HP_CLI_OK;
        }
        if (ch == ':')
            return optopt >= HP_OPT__FIRST
                       ? hp_cli_usage_error(a->command, "%s needs a value", hp_cli_optname(optopt))
                       : hp_cli_word_error(a->command, "option needs a value", argv[optind - 1]);
        if (ch == '?') {
            if (optopt != 0 && optopt < HP_OPT__FIRST)
                return hp_cli_usage_error(a->command, "unknown option");
            return hp_cli_word_error(a->command, "unknown option", argv[optind - 1]);
        }
        if (ch < HP_OPT__FIRST || ch >= HP_OPT__END)
            return hp_cli_usage_error(a->command, "unknown option");
        if (a->val[ch - HP_OPT__FIRST] != NULL)
            return hp_cli_usage_error(a->command, "%s given more than once", hp_cli_optname(ch));
        a->val[ch - HP_OPT__FIRST] = optarg != NULL ? optarg : "";
    }
    /* The argument itself is not echoed: it may be part of a secret that
     * lost its quotes. */
    if (optind < argc)
        return hp_cli_usage_error(a->command,
                                  "unexpected argument (a value with spaces needs quotes)");
    return -1;
}

int hp_cli_require(const hp_cli_args *a, const int *ids)
{
    for (size_t i = 0; ids[i] != 0; i++)
        if (!hp_cli_has(a, ids[i]))
            return hp_cli_usage_error(a->command, "%s is required", hp_cli_optname(ids[i]));
    return -1;
}

int hp_cli_int(const hp_cli_args *a, int id, long long min, long long max, long long *out)
{
    const char *s = hp_cli_get(a, id);

    if (s == NULL)
        return -1;
    if (!hp_parse_ll(s, min, max, out))
        return hp_cli_usage_error(a->command, "%s must be an integer from %lld to %lld",
                                  hp_cli_optname(id), min, max);
    return -1;
}

int hp_cli_fail(const hp_cli_args *a, hp_err rc, const char *msg, json_object *ctx)
{
    json_object *f = ctx != NULL ? ctx : json_object_new_object();

    json_object_object_add(f, "command", json_object_new_string(a->command));
    /* Exit status 2 reads "usage" whether getopt or the store refused it. */
    json_object_object_add(
        f, "code",
        json_object_new_string(rc == HP_ERR_INVALID_PAYLOAD ? "usage" : hp_err_wire(rc)));
    hp_log_fields(HP_LOG_ERROR, msg, f);
    json_object_put(f);
    return rc == HP_ERR_INVALID_PAYLOAD ? HP_CLI_USAGE : HP_CLI_FAIL;
}

/* One value of a `key: value` line. */
static void hp__emit_value(FILE *out, json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        fputs("null", out);
        break;
    case json_type_string:
        fputs(json_object_get_string(v), out);
        break;
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            if (i > 0)
                fputc(',', out);
            hp__emit_value(out, json_object_array_get_idx(v, i));
        }
        break;
    default:
        fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), out);
        break;
    }
}

int hp_cli_emit(const hp_cli_args *a, json_object *result)
{
    int failed;

    if (hp_cli_has(a, HP_OPT_JSON)) {
        fputs(hp_json_text(result), stdout);
        fputc('\n', stdout);
    } else {
        json_object_object_foreach(result, key, val)
        {
            fprintf(stdout, "%s: ", key);
            hp__emit_value(stdout, val);
            fputc('\n', stdout);
        }
    }
    failed = fflush(stdout) != 0 || ferror(stdout);
    json_object_put(result);
    if (failed)
        return hp_cli_fail(a, HP_ERR_INTERNAL, "could not write the result to stdout", NULL);
    return HP_CLI_OK;
}

/* Loads the configuration and connects to url_of(cfg). */
static int hp__env_open(hp_cli_env *env, const hp_cli_args *a, bool need_secret, bool direct)
{
    char err[HP_ERRBUF] = "";
    const char *url;
    hp_err rc;

    memset(env, 0, sizeof(*env));
    rc = hp_config_load(HP_PROC_CLI, NULL, NULL, &env->cfg, err, sizeof(err));
    if (rc != HP_OK)
        return hp_cli_fail(a, rc, err, NULL);
    if (need_secret && !env->cfg.has_secret_key)
        return hp_cli_fail(a, HP_ERR_CONFIG,
                           "HOLDPOINT_SECRET_KEY is required: it seals the secrets stored "
                           "in the database",
                           NULL);
    /* A pool of one gives the store its hp_db_exec helpers and error
     * mapping; connecting is bounded by HOLDPOINT_DB_TIMEOUT_MS. */
    url = direct ? env->cfg.database_direct_url : env->cfg.database_url;
    env->db = hp_db_new(url, 1, env->cfg.db_timeout_ms);
    rc = hp_db_acquire(env->db, &env->conn, err, sizeof(err));
    if (rc == HP_OK && direct) {
        bool pooled = false;
        rc = hp_db_pooled(hp_dbconn_pg(env->conn), env->cfg.db_timeout_ms, &pooled, err,
                          sizeof(err));
        if (rc == HP_OK && pooled) {
            rc = HP_ERR_CONFIG;
            hp_err_set(err, sizeof(err),
                       "%s reaches PostgreSQL through a connection pooler, where a session "
                       "advisory lock is not safe: set HOLDPOINT_DATABASE_DIRECT_URL to a URL "
                       "of the PostgreSQL server itself",
                       env->cfg.database_direct_url == env->cfg.database_url
                           ? "HOLDPOINT_DATABASE_URL (HOLDPOINT_DATABASE_DIRECT_URL is unset)"
                           : "HOLDPOINT_DATABASE_DIRECT_URL");
        }
    }
    if (rc != HP_OK) {
        hp_cli_env_close(env);
        return hp_cli_fail(a, rc, err, NULL);
    }
    return -1;
}

int hp_cli_env_open(hp_cli_env *env, const hp_cli_args *a, bool need_secret)
{
    return hp__env_open(env, a, need_secret, false);
}

int hp_cli_env_open_direct(hp_cli_env *env, const hp_cli_args *a)
{
    return hp__env_open(env, a, false, true);
}

void hp_cli_env_close(hp_cli_env *env)
{
    if (env->conn != NULL)
        hp_db_release(env->db, env->conn);
    hp_db_free(env->db);
    env->conn = NULL;
    env->db = NULL;
}
