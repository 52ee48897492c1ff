/*
 * holdpoint: the command-line tool — `migrate` applies the SQL migrations
 * compiled into the binary, `admin` sets up teams, users, agents and keys
 * (docs/cli.md). This file only dispatches; the commands live in
 * cli_migrate.c and cli_admin.c, the shared plumbing in cli_common.c.
 *
 * The exit status is 0 on success, 1 on a failure and 2 on a usage error;
 * errors are JSON log lines on stderr and results go to stdout.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hp_config.h"
#include "hp_json.h"
#include "hp_log.h"

static const char hp__usage[] =
    "usage: holdpoint <command> [options]\n"
    "\n"
    "commands:\n"
    "  migrate            apply pending database migrations (safe to run concurrently)\n"
    "  admin bootstrap    create a team, its owner, an agent and a key\n"
    "  admin create-agent | create-key | regenerate-key | revoke-key | create-user |\n"
    "        set-quota    single set-up steps; `holdpoint admin help` lists their options\n"
    "  admin channel      notification channels and an agent's routing, reminders and\n"
    "                     escalation; `holdpoint admin channel help` lists the options\n"
    "  hook AGENT         a coding agent's hook: ask a person, print the decision JSON\n"
    "                     (claude-code, codex, cursor, copilot); `hook install AGENT`\n"
    "                     adds it to that agent's settings\n"
    "  config-vars        list every environment variable the processes read (JSON lines)\n"
    "  help               show this text\n"
    "\n"
    "Every command takes --json (print one JSON object instead of `key: value` lines)\n"
    "and --help. Reads HOLDPOINT_DATABASE_URL and HOLDPOINT_SECRET_KEY (64 hex digits\n"
    "or base64 of 32 bytes) from the environment. Keys, tokens and webhook secrets are\n"
    "printed once, on stdout, and never logged.\n"
    "Exit status: 0 ok, 1 failure, 2 usage error.\n";

/* Prints the configuration table of common/hp_config.c, one JSON object a
 * line; docs/operations.md is checked against it. Needs no environment. */
static int hp__config_vars(void)
{
    static const struct {
        unsigned bit;
        const char *name;
    } procs[] = {{HP_PROC_API, "holdpoint-api"},
                 {HP_PROC_TIMEOUT, "holdpoint-timeout"},
                 {HP_PROC_DELIVERY, "holdpoint-delivery"},
                 {HP_PROC_CLI, "holdpoint"},
                 {HP_PROC_HOOK, "holdpoint hook"}};
    const hp_config_var *vars;
    size_t n = hp_config_vars(&vars);

    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_new_object(), *used = json_object_new_array();
        hp_json_set_str(o, "name", vars[i].name);
        hp_json_set_str(o, "type", vars[i].type);
        hp_json_set_str(o, "default", vars[i].dflt);
        if (strcmp(vars[i].type, "int") == 0) {
            json_object_object_add(o, "min", json_object_new_int64(vars[i].min));
            json_object_object_add(o, "max", json_object_new_int64(vars[i].max));
        }
        for (size_t k = 0; k < sizeof(procs) / sizeof(procs[0]); k++)
            if (vars[i].procs & procs[k].bit)
                json_object_array_add(used, json_object_new_string(procs[k].name));
        json_object_object_add(o, "used_by", used);
        json_object_object_add(o, "required", json_object_new_boolean(vars[i].required));
        hp_json_set_str(o, "help", vars[i].help);
        puts(hp_json_text(o));
        json_object_put(o);
    }
    return HP_CLI_OK;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;

    /* The CLI logs only errors and the migrations it applies, so the level
     * is fixed; HOLDPOINT_LOG_LEVEL matters for the long-running processes. */
    hp_log_init("holdpoint", HP_LOG_INFO);
    if (cmd == NULL)
        return hp_cli_usage_error(NULL, "missing command");
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(hp__usage, stdout);
        return HP_CLI_OK;
    }
    if (strcmp(cmd, "migrate") == 0)
        return hp_cli_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "admin") == 0)
        return hp_cli_admin(argc - 1, argv + 1);
    if (strcmp(cmd, "config-vars") == 0)
        return hp__config_vars();
    if (strcmp(cmd, "hook") == 0)
        return hp_cli_hook(argc - 1, argv + 1);
    return hp_cli_word_error(NULL, "unknown command", cmd);
}
