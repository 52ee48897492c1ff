/*
 * hp_config: the one table of environment variables, and the loader it
 * drives. Each row gives a variable's name, type, default, range, the
 * processes that read it, whether those processes require it, and a line of
 * help; the same rows are exported through hp_config_vars so documentation
 * and tests check against the code rather than a copy. hp_config_load reads
 * only the rows of the calling process, treats an empty value as unset, and
 * refuses (never clamps) a bad value with a message naming the variable and
 * what it accepts, e.g. `HOLDPOINT_MAX_BODY_BYTES: must be an integer from
 * 1024 to 16777216 (got "abc")`. Defaults go through the same parser as the
 * environment, so a default outside its own range fails loudly in tests.
 * Values that may carry credentials (database and Redis URLs, the secret key)
 * are never copied into error text. main() loads once into a const struct;
 * nothing else calls getenv.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "hp_config.h"
#include "hp_crypto.h"
#include "hp_log.h"
#include "hp_str.h"

#define HP__ALL  (HP_PROC_API | HP_PROC_TIMEOUT | HP_PROC_DELIVERY | HP_PROC_CLI)
#define HP__API  HP_PROC_API
#define HP__TMO  HP_PROC_TIMEOUT
#define HP__DLV  HP_PROC_DELIVERY
#define HP__CLI  HP_PROC_CLI
#define HP__HOOK HP_PROC_HOOK

/* Extra checks for string-valued rows; each returns false and fills err. */
typedef bool (*hp__check_fn)(const char *name, const char *v, char *err, size_t errcap);

static bool hp__check_pg(const char *name, const char *v, char *err, size_t errcap);
static bool hp__check_redis(const char *name, const char *v, char *err, size_t errcap);
static bool hp__check_http(const char *name, const char *v, char *err, size_t errcap);
static bool hp__check_vapid_subject(const char *name, const char *v, char *err, size_t errcap);
static bool hp__check_prepare(const char *name, const char *v, char *err, size_t errcap);
static bool hp__check_uuid(const char *name, const char *v, char *err, size_t errcap);
static bool hp__check_hook_default(const char *name, const char *v, char *err, size_t errcap);
static bool hp__check_readable(const char *name, const char *v, char *err, size_t errcap);

/*
 * The table. X(name, type, default, min, max, procs, required, field, field2,
 * check, help): field is where the value goes; field2 is the second half of a
 * two-part value (a host:port's port, a key's "is set" flag), else field again.
 * HOLDPOINT_PUBLIC_URL has no static default: it is derived from
 * HOLDPOINT_LISTEN after the table is read.
 */
#define HP__CONFIG_TABLE(X)                                                                        \
    X("HOLDPOINT_DATABASE_URL", "url", NULL, 0, 0, HP__ALL, true, database_url, database_url,      \
      hp__check_pg, "PostgreSQL connection URL (postgres://...) or libpq conninfo string")         \
    X("HOLDPOINT_DATABASE_DIRECT_URL", "url", NULL, 0, 0, HP__ALL, false, database_direct_url,     \
      database_direct_url, hp__check_pg,                                                           \
      "URL of PostgreSQL itself, not a pooler, for LISTEN and migrations; default "                \
      "HOLDPOINT_DATABASE_URL")                                                                    \
    X("HOLDPOINT_SECRET_KEY", "key", NULL, 0, 0, HP__API | HP__DLV | HP__CLI, true, secret_key,    \
      has_secret_key, NULL,                                                                        \
      "32-byte key sealing stored secrets: 64 hex characters or standard base64")                  \
    X("HOLDPOINT_REDIS_URL", "url", NULL, 0, 0, HP__API | HP__TMO | HP__DLV, false, redis_url,     \
      redis_url, hp__check_redis, "redis://host:port/db for rate limits and fan-out; optional")    \
    X("HOLDPOINT_LISTEN", "hostport", "127.0.0.1:8080", 1, 65535, HP__API, false, listen_host,     \
      listen_port, NULL, "address the API listens on: host:port, IPv6 as [::1]:8080")              \
    X("HOLDPOINT_PUBLIC_URL", "url", NULL, 0, 0, HP__API | HP__DLV, false, public_url, public_url, \
      hp__check_http,                                                                              \
      "external base URL of the API and web app (links in notifications); default "                \
      "http://<HOLDPOINT_LISTEN>")                                                                 \
    X("HOLDPOINT_VAPID_SUBJECT", "url", NULL, 0, 0, HP__DLV, false, vapid_subject, vapid_subject,  \
      hp__check_vapid_subject,                                                                     \
      "contact for Web Push services (mailto: or https: URL); default HOLDPOINT_PUBLIC_URL")       \
    X("HOLDPOINT_METRICS_LISTEN", "hostport", NULL, 1, 65535, HP__TMO | HP__DLV, false,            \
      metrics_host, metrics_port, NULL, "host:port for the workers' /metrics; unset = off")        \
    X("HOLDPOINT_OUTBOUND_ALLOW", "string", "", 0, 0, HP__API | HP__DLV | HP__CLI, false,          \
      outbound_allow, outbound_allow, NULL,                                                        \
      "outbound destinations allowed besides public addresses; optional")                          \
    X("HOLDPOINT_OUTBOUND_CA_FILE", "string", NULL, 0, 0, HP__DLV, false, outbound_ca_file,        \
      outbound_ca_file, hp__check_readable,                                                        \
      "PEM bundle outbound TLS verifies servers against instead of the system's; optional")        \
    X("HOLDPOINT_LOG_LEVEL", "level", "info", 0, 3, HP__ALL, false, log_level, log_level, NULL,    \
      "minimum log level: debug, info, warn or error")                                             \
    X("HOLDPOINT_CALLBACK_BASE_DELAY_MS", "int", "1000", 1, 3600000, HP__DLV, false,               \
      callback_base_delay_ms, callback_base_delay_ms, NULL,                                        \
      "first callback retry delay; doubles per attempt")                                           \
    X("HOLDPOINT_CALLBACK_MAX_DELAY_MS", "int", "30000", 1, 86400000, HP__DLV, false,              \
      callback_max_delay_ms, callback_max_delay_ms, NULL, "longest callback retry delay")          \
    X("HOLDPOINT_CALLBACK_MAX_ATTEMPTS", "int", "3", 1, 100, HP__API | HP__TMO | HP__DLV, false,   \
      callback_max_attempts, callback_max_attempts, NULL, "callback attempts before giving up")    \
    X("HOLDPOINT_CALLBACK_TIMEOUT_MS", "int", "10000", 100, 300000, HP__DLV, false,                \
      callback_timeout_ms, callback_timeout_ms, NULL, "timeout of one callback request")           \
    X("HOLDPOINT_DELIVERY_CONCURRENCY", "int", "16", 1, 1024, HP__DLV, false,                      \
      delivery_concurrency, delivery_concurrency, NULL, "callbacks sent in parallel")              \
    X("AGENT_CREATE_RATE_LIMIT_MAX", "int", "60", 1, 1000000, HP__API, false, rate_limit_max,      \
      rate_limit_max, NULL, "approval creations per agent per window")                             \
    X("AGENT_CREATE_RATE_LIMIT_WINDOW_MS", "int", "60000", 1000, 86400000, HP__API, false,         \
      rate_limit_window_ms, rate_limit_window_ms, NULL, "length of the rate-limit window")         \
    X("HOLDPOINT_MAX_BODY_BYTES", "int", "65536", 1024, 16777216, HP__API, false, max_body_bytes,  \
      max_body_bytes, NULL, "largest request body accepted")                                       \
    X("HOLDPOINT_MAX_WAIT_SECONDS", "int", "300", 1, 3600, HP__API, false, max_wait_seconds,       \
      max_wait_seconds, NULL, "longest long-poll wait a client may ask for")                       \
    X("HOLDPOINT_DB_POOL_SIZE", "int", "8", 1, 512, HP__API, false, db_pool_size, db_pool_size,    \
      NULL, "PostgreSQL connections of the API's pool (holdpoint-timeout keeps 2, delivery 4)")    \
    X("HOLDPOINT_DB_PREPARED_STATEMENTS", "string", "auto", 0, 0, HP__API | HP__TMO | HP__DLV,     \
      false, db_prepared_statements, db_prepared_statements, hp__check_prepare,                    \
      "auto (on unless a pooler is in front), on (direct, or PgBouncer >= 1.21) or off")           \
    X("HOLDPOINT_DB_TIMEOUT_MS", "int", "5000", 100, 600000, HP__ALL, false, db_timeout_ms,        \
      db_timeout_ms, NULL, "bound on connecting, waiting for a pooled connection and statements")  \
    X("HOLDPOINT_RETENTION_DAYS", "int", "0", 0, 36500, HP__TMO, false, retention_days,            \
      retention_days, NULL,                                                                        \
      "days closed approvals and finished jobs are kept; 0 keeps them forever")                    \
    X("HOLDPOINT_API_THREADS", "int", "4352", 17, 100000, HP__API, false, api_threads,             \
      api_threads, NULL,                                                                           \
      "HTTP worker threads, created at start; at least HOLDPOINT_MAX_WAITERS + 16")                \
    X("HOLDPOINT_REQUEST_TIMEOUT_MS", "int", "10000", 1000, 3600000, HP__API, false,               \
      request_timeout_ms, request_timeout_ms, NULL,                                                \
      "deadline for a request's head and body (a wait that follows is not bound by it)")           \
    X("HOLDPOINT_KEEP_ALIVE_TIMEOUT_MS", "int", "5000", 100, 3600000, HP__API, false,              \
      keep_alive_timeout_ms, keep_alive_timeout_ms, NULL,                                          \
      "how long an idle keep-alive connection keeps its thread before it is closed")               \
    X("HOLDPOINT_MAX_WAITERS", "int", "4096", 1, 65536, HP__API, false, max_waiters, max_waiters,  \
      NULL, "requests that may wait for a decision at once in one API process")                    \
    X("HOLDPOINT_TEAM_WAITERS_PERCENT", "int", "25", 1, 100, HP__API, false, team_waiters_percent, \
      team_waiters_percent, NULL,                                                                  \
      "share of HOLDPOINT_MAX_WAITERS one team may hold at once (429 past it)")                    \
    X("HOLDPOINT_KEY_WAITERS_PERCENT", "int", "10", 1, 100, HP__API, false, key_waiters_percent,   \
      key_waiters_percent, NULL,                                                                   \
      "share of HOLDPOINT_MAX_WAITERS one API key or user may hold at once; at most the team's")   \
    X("HOLDPOINT_FAULTS", "string", "", 0, 0, HP__API | HP__TMO | HP__DLV, false, faults, faults,  \
      NULL,                                                                                        \
      "test builds only: fault points to arm, name=crash|error[@n],... (internals/faults.md)")     \
    X("HOLDPOINT_SSE_HEARTBEAT_SECONDS", "int", "30", 1, 300, HP__API, false,                      \
      sse_heartbeat_seconds, sse_heartbeat_seconds, NULL,                                          \
      "seconds between heartbeats of an action-response stream")                                   \
    X("HOLDPOINT_URL", "url", "http://127.0.0.1:8080", 0, 0, HP__HOOK, false, hook_url, hook_url,  \
      hp__check_http, "base URL of the Holdpoint API that `holdpoint hook` asks")                  \
    X("HOLDPOINT_API_KEY", "string", NULL, 0, 0, HP__HOOK, false, hook_api_key, hook_api_key,      \
      NULL, "API key `holdpoint hook` sends (Bearer); without it the hook denies")                 \
    X("HOLDPOINT_AGENT_ID", "string", NULL, 0, 0, HP__HOOK, false, hook_agent_id, hook_agent_id,   \
      hp__check_uuid, "agent a team key acts as (X-Agent-Id); optional")                           \
    X("HOLDPOINT_HOOK_TIMEOUT_SECONDS", "int", "55", 5, 3600, HP__HOOK, false,                     \
      hook_timeout_seconds, hook_timeout_seconds, NULL,                                            \
      "how long `holdpoint hook` waits for a person (the approval's timeout)")                     \
    X("HOLDPOINT_HOOK_DEFAULT", "string", "deny", 0, 0, HP__HOOK, false, hook_default,             \
      hook_default, hp__check_hook_default,                                                        \
      "what `holdpoint hook` answers without a decision or on a failure: deny or ask")             \
    X("HOLDPOINT_HOOK_CONFIG", "string", NULL, 0, 0, HP__HOOK, false, hook_config, hook_config,    \
      NULL,                                                                                        \
      "KEY=VALUE file `holdpoint hook` reads under the environment; default "                      \
      "~/.config/holdpoint/hook.env")                                                              \
    X("HOLDPOINT_SESSION_IDLE_SECONDS", "int", "43200", 60, 2592000, HP__API, false,               \
      session_idle_seconds, session_idle_seconds, NULL,                                            \
      "web app sign-in ends after this long without a request")                                    \
    X("HOLDPOINT_SESSION_MAX_SECONDS", "int", "604800", 300, 31536000, HP__API, false,             \
      session_max_seconds, session_max_seconds, NULL,                                              \
      "web app sign-in ends this long after it began, however active")                             \
    X("HOLDPOINT_SIGNIN_MAX_FAILURES", "int", "5", 1, 1000, HP__API, false, signin_max_failures,   \
      signin_max_failures, NULL, "failed sign-ins per account per window before 429")              \
    X("HOLDPOINT_SIGNIN_ADDR_MAX_FAILURES", "int", "50", 1, 100000, HP__API, false,                \
      signin_addr_max_failures, signin_addr_max_failures, NULL,                                    \
      "failed sign-ins per client address per window before 429")                                  \
    X("HOLDPOINT_SIGNIN_WINDOW_SECONDS", "int", "900", 10, 86400, HP__API, false,                  \
      signin_window_seconds, signin_window_seconds, NULL,                                          \
      "length of the sign-in throttling window")                                                   \
    X("HOLDPOINT_TRUST_FORWARDED_FOR", "int", "0", 0, 1, HP__API, false, trust_forwarded_for,      \
      trust_forwarded_for, NULL,                                                                   \
      "1: the client address is the last X-Forwarded-For entry (behind a proxy)")                  \
    X("HOLDPOINT_TRUSTED_PROXIES", "string", "127.0.0.1,::1", 0, 0, HP__API, false,                \
      trusted_proxies, trusted_proxies, NULL,                                                      \
      "IP addresses or CIDR ranges of the proxies whose X-Forwarded-For is believed")

static const hp_config_var hp__vars[] = {
#define HP__VAR_ROW(name, type, dflt, min, max, procs, req, f1, f2, check, help)                   \
    {name, type, dflt, min, max, procs, req, help},
    HP__CONFIG_TABLE(HP__VAR_ROW)
#undef HP__VAR_ROW
};

#define HP__FIELD_SIZE(f) sizeof(((hp_config *)0)->f)

/* Where each row's value goes; same order as hp__vars. */
static const struct {
    size_t off, size, off2;
    hp__check_fn check;
} hp__slots[] = {
#define HP__SLOT_ROW(name, type, dflt, min, max, procs, req, f1, f2, check, help)                  \
    {offsetof(hp_config, f1), HP__FIELD_SIZE(f1), offsetof(hp_config, f2), check},
    HP__CONFIG_TABLE(HP__SLOT_ROW)
#undef HP__SLOT_ROW
};

#define HP__NVARS (sizeof(hp__vars) / sizeof(hp__vars[0]))

/* Rules between two integer variables, checked after every row loaded:
 * a + margin <= b for the processes in procs (which read both). */
typedef struct hp__rule {
    unsigned procs;
    size_t a_off, b_off;
    int margin;
    const char *a, *b, *why;
} hp__rule;

#define HP__RULE(procs, fa, margin, fb, a, b, why)                                                 \
    {                                                                                              \
        procs, offsetof(hp_config, fa), offsetof(hp_config, fb), margin, a, b, why                 \
    }

static const hp__rule hp__rules[] = {
    HP__RULE(HP__DLV, callback_base_delay_ms, 0, callback_max_delay_ms,
             "HOLDPOINT_CALLBACK_BASE_DELAY_MS", "HOLDPOINT_CALLBACK_MAX_DELAY_MS",
             "the first retry delay cannot be longer than the longest"),
    HP__RULE(HP__API, max_waiters, 16, api_threads, "HOLDPOINT_MAX_WAITERS",
             "HOLDPOINT_API_THREADS",
             "threads must remain to serve the decisions waiters wait for"),
    HP__RULE(HP__API, key_waiters_percent, 0, team_waiters_percent, "HOLDPOINT_KEY_WAITERS_PERCENT",
             "HOLDPOINT_TEAM_WAITERS_PERCENT",
             "a key belongs to one team, so its share cannot be larger"),
};

size_t hp_config_vars(const hp_config_var **vars)
{
    if (vars != NULL)
        *vars = hp__vars;
    return HP__NVARS;
}

/* ---- value checks ------------------------------------------------------------ */

static bool hp__check_pg(const char *name, const char *v, char *err, size_t errcap)
{
    if (hp_str_startswith(v, "postgres://") || hp_str_startswith(v, "postgresql://") ||
        strchr(v, '=') != NULL)
        return true;
    hp_err_set(err, errcap,
               "%s: must be a postgres:// or postgresql:// URL or a libpq connection string", name);
    return false;
}

static bool hp__check_redis(const char *name, const char *v, char *err, size_t errcap)
{
    if (hp_str_startswith(v, "redis://") && v[8] != '\0')
        return true;
    hp_err_set(err, errcap, "%s: must be a redis:// URL", name);
    return false;
}

static bool hp__check_http(const char *name, const char *v, char *err, size_t errcap)
{
    if ((hp_str_startswith(v, "http://") && v[7] != '\0') ||
        (hp_str_startswith(v, "https://") && v[8] != '\0'))
        return true;
    hp_err_set(err, errcap, "%s: must be an http:// or https:// URL (got \"%.80s\")", name, v);
    return false;
}

/* RFC 8292 section 2.1: a mailto: or https: URI a push service can use to
 * reach the operator. */
static bool hp__check_vapid_subject(const char *name, const char *v, char *err, size_t errcap)
{
    if ((hp_str_startswith(v, "mailto:") && strchr(v, '@') != NULL) ||
        (hp_str_startswith(v, "https://") && v[8] != '\0'))
        return true;
    hp_err_set(err, errcap, "%s: must be a mailto: address or an https:// URL (got \"%.80s\")",
               name, v);
    return false;
}

static bool hp__check_prepare(const char *name, const char *v, char *err, size_t errcap)
{
    if (strcmp(v, "auto") == 0 || strcmp(v, "on") == 0 || strcmp(v, "off") == 0)
        return true;
    hp_err_set(err, errcap, "%s: must be one of auto, on, off (got \"%.80s\")", name, v);
    return false;
}

static bool hp__check_uuid(const char *name, const char *v, char *err, size_t errcap)
{
    if (hp_uuid_valid(v))
        return true;
    hp_err_set(err, errcap, "%s: must be a UUID (got \"%.80s\")", name, v);
    return false;
}

static bool hp__check_readable(const char *name, const char *v, char *err, size_t errcap)
{
    FILE *f = fopen(v, "r");

    if (f != NULL) {
        fclose(f);
        return true;
    }
    hp_err_set(err, errcap, "%s: cannot read the file \"%.200s\"", name, v);
    return false;
}

static bool hp__check_hook_default(const char *name, const char *v, char *err, size_t errcap)
{
    /* Never allow: a hook that cannot ask must not let the action through. */
    if (strcmp(v, "deny") == 0 || strcmp(v, "ask") == 0)
        return true;
    hp_err_set(err, errcap, "%s: must be deny or ask (got \"%.80s\")", name, v);
    return false;
}

static bool hp__host_char(char c, bool v6)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.')
        return true;
    if (v6)
        return c == ':';
    return (c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z') || c == '-' || c == '_';
}

/* Parses "host:port" or "[v6]:port" into host (brackets removed) and port. */
static bool hp__parse_hostport(const char *v, long long pmin, long long pmax, char *host,
                               size_t hostcap, int *port)
{
    const char *h = v, *colon;
    size_t hlen;
    bool v6 = false;
    long long p;

    if (*v == '[') {
        const char *close = strchr(v, ']');
        if (close == NULL || close[1] != ':')
            return false;
        h = v + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
        v6 = true;
    } else {
        colon = strrchr(v, ':');
        if (colon == NULL)
            return false;
        hlen = (size_t)(colon - v);
    }
    if (hlen == 0 || hlen >= hostcap)
        return false;
    for (size_t i = 0; i < hlen; i++)
        if (!hp__host_char(h[i], v6))
            return false; /* an unbracketed ':' lands here too */
    if (!hp_parse_ll(colon + 1, pmin, pmax, &p))
        return false;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int)p;
    return true;
}

/* 64 hex characters, or base64 of exactly 32 bytes. */
static bool hp__parse_key(const char *v, unsigned char key[32])
{
    size_t len = strlen(v), n = 0;

    if (len == 64) {
        for (size_t i = 0; i < 32; i++) {
            int hi = OPENSSL_hexchar2int((unsigned char)v[2 * i]),
                lo = OPENSSL_hexchar2int((unsigned char)v[2 * i + 1]);
            if (hi < 0 || lo < 0)
                break;
            key[i] = (unsigned char)(hi << 4 | lo);
            n++;
        }
        if (n == 32)
            return true;
    }
    if (len == 44 && hp_base64_decode(v, key, 32, &n) == HP_OK && n == 32)
        return true;
    memset(key, 0, 32);
    return false;
}

/* ---- loading --------------------------------------------------------------- */

const char *hp_config_env(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

static const char *hp__real_getenv(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

/* Parses one row's value (from the environment, or the default when v is
 * NULL) into out. */
static hp_err hp__load_row(size_t i, const char *v, hp_config *out, char *err, size_t errcap)
{
    const hp_config_var *r = &hp__vars[i];
    char *base = (char *)out, *f1 = base + hp__slots[i].off, *f2 = base + hp__slots[i].off2;
    long long x;

    if (v == NULL)
        v = r->dflt;
    if (strcmp(r->type, "url") == 0 || strcmp(r->type, "string") == 0) {
        if (v != NULL && hp__slots[i].check != NULL && !hp__slots[i].check(r->name, v, err, errcap))
            return HP_ERR_CONFIG;
        memcpy(f1, &v, sizeof(v));
    } else if (strcmp(r->type, "int") == 0) {
        if (!hp_parse_ll(v, r->min, r->max, &x)) {
            hp_err_set(err, errcap, "%s: must be an integer from %lld to %lld (got \"%.80s\")",
                       r->name, r->min, r->max, v);
            return HP_ERR_CONFIG;
        }
        if (hp__slots[i].size == sizeof(int)) {
            int iv = (int)x;
            memcpy(f1, &iv, sizeof(iv));
        } else {
            long lv = (long)x;
            memcpy(f1, &lv, sizeof(lv));
        }
    } else if (strcmp(r->type, "hostport") == 0) {
        int port = 0;
        if (v == NULL) { /* optional and unset: off */
            f1[0] = '\0';
        } else if (!hp__parse_hostport(v, r->min, r->max, f1, hp__slots[i].size, &port)) {
            hp_err_set(err, errcap,
                       "%s: must be host:port with a port from %lld to %lld, IPv6 in brackets "
                       "(got \"%.80s\")",
                       r->name, r->min, r->max, v);
            return HP_ERR_CONFIG;
        }
        memcpy(f2, &port, sizeof(port));
    } else if (strcmp(r->type, "key") == 0) {
        bool has = false;
        if (v != NULL) {
            if (!hp__parse_key(v, (unsigned char *)f1)) {
                hp_err_set(err, errcap,
                           "%s: must be 32 bytes given as 64 hex characters or standard base64",
                           r->name);
                return HP_ERR_CONFIG;
            }
            has = true;
        }
        memcpy(f2, &has, sizeof(has));
    } else if (strcmp(r->type, "level") == 0) {
        int lv = hp_log_level_parse(v);
        if (lv < 0) {
            hp_err_set(err, errcap, "%s: must be one of debug, info, warn, error (got \"%.80s\")",
                       r->name, v);
            return HP_ERR_CONFIG;
        }
        memcpy(f1, &lv, sizeof(lv));
    } else {
        hp_err_set(err, errcap, "%s: unknown type %s in the configuration table", r->name, r->type);
        return HP_ERR_CONFIG;
    }
    return HP_OK;
}

hp_err hp_config_load(hp_proc proc, hp_config_getenv_fn get, void *ctx, hp_config *out, char *err,
                      size_t errcap)
{
    hp_err rc;

    if (get == NULL)
        get = hp__real_getenv;
    memset(out, 0, sizeof(*out));
    hp_err_set(err, errcap, "%s", "");
    for (size_t i = 0; i < HP__NVARS; i++) {
        const hp_config_var *r = &hp__vars[i];
        bool used = (r->procs & (unsigned)proc) != 0;
        const char *v = used ? get(r->name, ctx) : NULL;

        if (v != NULL && v[0] == '\0')
            v = NULL;
        if (v == NULL && used && r->required) {
            hp_err_set(err, errcap, "%s: required but not set (%s)", r->name, r->help);
            return HP_ERR_CONFIG;
        }
        rc = hp__load_row(i, v, out, err, errcap);
        if (rc != HP_OK)
            return rc;
    }
    for (size_t i = 0; i < sizeof(hp__rules) / sizeof(hp__rules[0]); i++) {
        const hp__rule *r = &hp__rules[i];
        int a, b;

        if ((r->procs & (unsigned)proc) == 0)
            continue;
        memcpy(&a, (const char *)out + r->a_off, sizeof(a));
        memcpy(&b, (const char *)out + r->b_off, sizeof(b));
        if ((long long)a + r->margin > (long long)b) {
            if (r->margin > 0)
                hp_err_set(err, errcap, "%s: must be at least %s + %d (got %d and %d): %s", r->b,
                           r->a, r->margin, b, a, r->why);
            else
                hp_err_set(err, errcap, "%s: must not exceed %s (got %d > %d): %s", r->a, r->b, a,
                           b, r->why);
            return HP_ERR_CONFIG;
        }
    }
    if (out->database_direct_url == NULL)
        out->database_direct_url = out->database_url;
    if (out->public_url == NULL) {
        bool v6 = strchr(out->listen_host, ':') != NULL;
        if (!hp_fmt(out->public_url_buf, sizeof(out->public_url_buf), "http://%s%s%s:%d",
                    v6 ? "[" : "", out->listen_host, v6 ? "]" : "", out->listen_port)) {
            hp_err_set(err, errcap, "HOLDPOINT_PUBLIC_URL: default from HOLDPOINT_LISTEN too long");
            return HP_ERR_CONFIG;
        }
        out->public_url = out->public_url_buf;
    }
    return HP_OK;
}
