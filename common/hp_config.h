/*
 * hp_config: the one table of environment variables every process reads.
 *
 * main() calls hp_config_load once; nothing else calls getenv. A bad value is
 * refused (never clamped): the load fails naming the variable and its range.
 * The table is also what docs/operations.md is checked against.
 */
#ifndef HP_CONFIG_H
#define HP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "hp_err.h"

/* Which process is loading; variables list the processes that read them. */
typedef enum {
    HP_PROC_API = 1,
    HP_PROC_TIMEOUT = 2,
    HP_PROC_DELIVERY = 4,
    HP_PROC_CLI = 8,
    HP_PROC_HOOK = 16, /* `holdpoint hook`: a client of the API, no database */
} hp_proc;

typedef struct hp_config {
    const char *database_url;        /* HOLDPOINT_DATABASE_URL, required */
    const char *database_direct_url; /* HOLDPOINT_DATABASE_DIRECT_URL, default database_url */
    const char *redis_url;           /* HOLDPOINT_REDIS_URL, NULL when unset */
    char listen_host[256];           /* HOLDPOINT_LISTEN host part */
    int listen_port;                 /* HOLDPOINT_LISTEN port part */
    const char *public_url;          /* HOLDPOINT_PUBLIC_URL, default http://<listen> */
    const char *vapid_subject;       /* HOLDPOINT_VAPID_SUBJECT, NULL = public_url */
    const char *outbound_allow;      /* HOLDPOINT_OUTBOUND_ALLOW, "" when unset */
    const char *outbound_ca_file;    /* HOLDPOINT_OUTBOUND_CA_FILE, NULL = the system's CAs */
    unsigned char secret_key[32];    /* HOLDPOINT_SECRET_KEY (base64 or hex of 32 bytes) */
    bool has_secret_key;
    int callback_base_delay_ms;         /* HOLDPOINT_CALLBACK_BASE_DELAY_MS 1000 */
    int callback_max_delay_ms;          /* HOLDPOINT_CALLBACK_MAX_DELAY_MS 30000 */
    int callback_max_attempts;          /* HOLDPOINT_CALLBACK_MAX_ATTEMPTS 3 */
    int callback_timeout_ms;            /* HOLDPOINT_CALLBACK_TIMEOUT_MS 10000 */
    int delivery_concurrency;           /* HOLDPOINT_DELIVERY_CONCURRENCY 16 */
    int rate_limit_max;                 /* AGENT_CREATE_RATE_LIMIT_MAX 60 */
    int rate_limit_window_ms;           /* AGENT_CREATE_RATE_LIMIT_WINDOW_MS 60000 */
    long max_body_bytes;                /* HOLDPOINT_MAX_BODY_BYTES 65536 */
    int max_wait_seconds;               /* HOLDPOINT_MAX_WAIT_SECONDS 300 */
    char metrics_host[256];             /* HOLDPOINT_METRICS_LISTEN host ("" = off) */
    int metrics_port;                   /* HOLDPOINT_METRICS_LISTEN port (0 = off) */
    int db_pool_size;                   /* HOLDPOINT_DB_POOL_SIZE 8 */
    const char *db_prepared_statements; /* HOLDPOINT_DB_PREPARED_STATEMENTS auto|on|off */
    int retention_days;                 /* HOLDPOINT_RETENTION_DAYS 0 (off) */
    int db_timeout_ms;            /* HOLDPOINT_DB_TIMEOUT_MS 5000: connect, pool wait, statements */
    int api_threads;              /* HOLDPOINT_API_THREADS 4352 */
    int request_timeout_ms;       /* HOLDPOINT_REQUEST_TIMEOUT_MS 10000: head and body */
    const char *trusted_proxies;  /* HOLDPOINT_TRUSTED_PROXIES: whose X-Forwarded-For counts */
    int keep_alive_timeout_ms;    /* HOLDPOINT_KEEP_ALIVE_TIMEOUT_MS 5000: idle connection */
    int log_level;                /* HOLDPOINT_LOG_LEVEL info (hp_log_level) */
    int max_waiters;              /* HOLDPOINT_MAX_WAITERS 4096 */
    int team_waiters_percent;     /* HOLDPOINT_TEAM_WAITERS_PERCENT 25 */
    int key_waiters_percent;      /* HOLDPOINT_KEY_WAITERS_PERCENT 10 */
    int sse_heartbeat_seconds;    /* HOLDPOINT_SSE_HEARTBEAT_SECONDS 30 */
    const char *faults;           /* HOLDPOINT_FAULTS, "" when unset (test builds only) */
    int session_idle_seconds;     /* HOLDPOINT_SESSION_IDLE_SECONDS 43200 */
    int session_max_seconds;      /* HOLDPOINT_SESSION_MAX_SECONDS 604800 */
    int signin_max_failures;      /* HOLDPOINT_SIGNIN_MAX_FAILURES 5 (per account) */
    int signin_addr_max_failures; /* HOLDPOINT_SIGNIN_ADDR_MAX_FAILURES 50 */
    int signin_window_seconds;    /* HOLDPOINT_SIGNIN_WINDOW_SECONDS 900 */
    int trust_forwarded_for;      /* HOLDPOINT_TRUST_FORWARDED_FOR 0 */
    char public_url_buf[288];     /* holds the derived default public_url, which then
                                     points here: pass the struct by pointer, don't copy */
    /* `holdpoint hook` (a client: environment first, then its config file) */
    const char *hook_url;      /* HOLDPOINT_URL http://127.0.0.1:8080 */
    const char *hook_api_key;  /* HOLDPOINT_API_KEY, NULL when unset */
    const char *hook_agent_id; /* HOLDPOINT_AGENT_ID, NULL when unset */
    int hook_timeout_seconds;  /* HOLDPOINT_HOOK_TIMEOUT_SECONDS 55 */
    const char *hook_default;  /* HOLDPOINT_HOOK_DEFAULT deny */
    const char *hook_config;   /* HOLDPOINT_HOOK_CONFIG, NULL = ~/.config/holdpoint/hook.env */
} hp_config;

/* One table row, for documentation and checks. */
typedef struct hp_config_var {
    const char *name;
    const char *type;   /* "string", "url", "int", "hostport", "key", "level" */
    const char *dflt;   /* NULL = required or unset */
    long long min, max; /* for "int" (and a "hostport" port) */
    unsigned procs;     /* hp_proc bits */
    bool required;      /* for the procs above */
    const char *help;
} hp_config_var;

typedef const char *(*hp_config_getenv_fn)(const char *name, void *ctx);

/* Reads every variable used by proc through get (getenv when get is NULL) into
 * *out; variables proc does not use get their defaults and are not read. An
 * empty value counts as unset. String fields point into the environment (or
 * ctx) and live as long as it does, except a derived public_url (see
 * public_url_buf) and table defaults (static). Values of URL and key
 * variables are never echoed in err (they may hold passwords). Call once
 * from main(), before threads start (getenv is not thread-safe). On a bad or
 * missing value returns HP_ERR_CONFIG and writes
 * "HOLDPOINT_X: must be an integer from 1 to 100 (got \"abc\")" into err. */
HP_MUSTCHECK hp_err hp_config_load(hp_proc proc, hp_config_getenv_fn get, void *ctx, hp_config *out,
                                   char *err, size_t errcap);

/* The environment's value of name, or NULL when unset or empty: the one way
 * into the environment besides hp_config_load, for a process that layers
 * its own file over the environment before loading (the hook client) and
 * for the home directory. Same rules as hp_config_load: main(), before
 * threads start. */
const char *hp_config_env(const char *name);

/* The table, for docs and tests: returns the number of rows and sets *vars. */
size_t hp_config_vars(const hp_config_var **vars);

#endif
