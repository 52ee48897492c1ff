/*
 * cli: what the `holdpoint` subcommands share — exit statuses, option
 * parsing on top of getopt_long, the configuration and the one database
 * connection, error reporting (one JSON log line on stderr) and output
 * (one JSON object, or `key: value` lines, on stdout). Only cli/ includes
 * this header.
 */
#ifndef HP_CLI_H
#define HP_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include <json-c/json.h>

#include "hp_config.h"
#include "hp_db.h"
#include "hp_err.h"

/* Exit statuses (docs/cli.md). */
#define HP_CLI_OK    0
#define HP_CLI_FAIL  1
#define HP_CLI_USAGE 2

/* Option ids: getopt_long returns them as `val`; values land in
 * hp_cli_args.val[id - HP_OPT__FIRST]. Each command lists the ones it takes. */
enum {
    HP_OPT__FIRST = 256,
    HP_OPT_JSON = HP_OPT__FIRST,
    HP_OPT_HELP,
    HP_OPT_TEAM,
    HP_OPT_TEAM_ID,
    HP_OPT_EMAIL,
    HP_OPT_PASSWORD,
    HP_OPT_AGENT,
    HP_OPT_AGENT_ID,
    HP_OPT_USER_NAME,
    HP_OPT_NAME,
    HP_OPT_TEST_MODE,
    HP_OPT_QUOTA,
    HP_OPT_TIMEOUT_SECONDS,
    HP_OPT_TIMEOUT_MODE,
    HP_OPT_TIMEOUT_INSTRUCTION,
    HP_OPT_CALLBACK_AUTH_HEADER,
    HP_OPT_CALLBACK_AUTH_VALUE,
    HP_OPT_NO_CALLBACK_AUTH,
    HP_OPT_KEY_ID,
    HP_OPT_ROLE,
    HP_OPT_APPROVALS,
    HP_OPT_UNLIMITED,
    /* admin channel (cli_channel.c) */
    HP_OPT_KIND,
    HP_OPT_CHANNEL_ID,
    HP_OPT_URL,
    HP_OPT_TOPIC,
    HP_OPT_TOKEN,
    HP_OPT_PRIORITY,
    HP_OPT_TAGS,
    HP_OPT_WEBHOOK_URL,
    HP_OPT_SIGNING_SECRET,
    HP_OPT_HOST,
    HP_OPT_PORT,
    HP_OPT_TLS,
    HP_OPT_USERNAME,
    HP_OPT_FROM,
    HP_OPT_TO,
    HP_OPT_USERS,
    HP_OPT_CHANNELS,
    HP_OPT_REMIND_AFTER,
    HP_OPT_ESCALATE_AFTER,
    HP_OPT_ESCALATE_CHANNELS,
    HP_OPT_ESCALATE_USERS,
    HP_OPT_WAIT,
    /* hook install (cli_hook_install.c) */
    HP_OPT_SETTINGS,
    HP_OPT_PROJECT,
    HP_OPT_EVENT,
    HP_OPT_MATCHER,
    HP_OPT_TIMEOUT,
    HP_OPT_HTTP,
    HP_OPT__END
};
#define HP_OPT__COUNT (HP_OPT__END - HP_OPT__FIRST)

/* A parsed command line. val[i] is the option's argument (borrowed from
 * argv), or "" for a flag that was given, or NULL when absent. */
typedef struct hp_cli_args {
    const char *command; /* "migrate", "admin create-key", ... for logs */
    const char *val[HP_OPT__COUNT];
} hp_cli_args;

/* Parses argv[1..argc) (argv[0] is the subcommand's name) against opts (a
 * getopt_long table ending in a zero row; every row's val is an HP_OPT_ id).
 * Returns -1 when the command should run, otherwise the exit status to
 * return at once: HP_CLI_OK after printing usage for --help, HP_CLI_USAGE
 * after logging an unknown, repeated or argument-less option, or a stray
 * argument. Call once per process (getopt keeps global state). */
int hp_cli_parse(int argc, char **argv, const struct option *opts, const char *usage,
                 hp_cli_args *a);

/* The value of option id, or NULL when it was not given. */
const char *hp_cli_get(const hp_cli_args *a, int id);
/* True when option id was given. */
bool hp_cli_has(const hp_cli_args *a, int id);

/* Logs "<option> is required" and returns HP_CLI_USAGE when any of the ids
 * (terminated by 0) is absent; -1 when all are present. */
int hp_cli_require(const hp_cli_args *a, const int *ids);

/* Parses option id as an integer in [min, max] into *out. Returns -1 on
 * success (or when absent, leaving *out alone), HP_CLI_USAGE after logging
 * otherwise. */
int hp_cli_int(const hp_cli_args *a, int id, long long min, long long max, long long *out);

/* The long name of option id ("--team-id"). */
const char *hp_cli_optname(int id);

/* Logs one error line — msg, the command, the wire code of rc ("usage" for
 * HP_ERR_INVALID_PAYLOAD) and the fields of ctx (consumed, may be NULL) — and
 * returns the exit status for rc: HP_CLI_USAGE for HP_ERR_INVALID_PAYLOAD,
 * else HP_CLI_FAIL. */
int hp_cli_fail(const hp_cli_args *a, hp_err rc, const char *msg, json_object *ctx);

/* Logs a usage error ("error": "usage") and returns HP_CLI_USAGE. */
int hp_cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Logs the usage error `what "word"`, echoing word (up to any '=') only when
 * it is a short lower-case word, since a mistyped argument may hold a
 * secret. Returns HP_CLI_USAGE. */
int hp_cli_word_error(const char *command, const char *what, const char *word);

/* Prints result (consumed) on stdout: one JSON object when json, otherwise
 * `key: value` lines (arrays joined with ",", null as "null"). Returns
 * HP_CLI_OK, or HP_CLI_FAIL after logging when stdout cannot be written. */
int hp_cli_emit(const hp_cli_args *a, json_object *result);

/* The configuration and one database connection for a command. */
typedef struct hp_cli_env {
    hp_config cfg;
    hp_db *db;
    hp_dbconn *conn;
} hp_cli_env;

/* Loads the configuration (requiring HOLDPOINT_SECRET_KEY when need_secret)
 * and connects. Returns -1 when ready, otherwise the exit status after
 * logging. Blocks up to HOLDPOINT_DB_TIMEOUT_MS. */
int hp_cli_env_open(hp_cli_env *env, const hp_cli_args *a, bool need_secret);
/* The same on HOLDPOINT_DATABASE_DIRECT_URL (HOLDPOINT_DATABASE_URL when
 * unset), for commands that need a session of their own (migrate's advisory
 * lock); fails (exit status 1, naming the variable) when that URL leads
 * through a pooler. */
int hp_cli_env_open_direct(hp_cli_env *env, const hp_cli_args *a);
/* Gives back the connection and closes it. */
void hp_cli_env_close(hp_cli_env *env);

/* The subcommands: argv[0] is "migrate" or "admin". */
int hp_cli_migrate(int argc, char **argv);
int hp_cli_admin(int argc, char **argv);
/* `holdpoint hook <agent>` (cli_hook.c) and `holdpoint hook install <agent>`
 * (cli_hook_install.c); argv[0] is "hook", respectively "install". */
int hp_cli_hook(int argc, char **argv);
int hp_cli_hook_install(int argc, char **argv);
/* `holdpoint admin channel <add|list|test|remove|route>`: argv[0] is
 * "channel" (cli_channel.c). */
int hp_cli_admin_channel(int argc, char **argv);

#endif
