/*
 * Unit tests for hp_config, through a fake environment passed as the getenv
 * callback: the table matches the documented variables, defaults and ranges
 * and every default loads; required variables are enforced per process;
 * every integer variable refuses each kind of bad value with a message that
 * names it and its range, and accepts its bounds; the secret key takes hex
 * and base64 forms of exactly 32 bytes and is never echoed; host:port,
 * URL and level variables are checked; empty values count as unset; and
 * variables a process does not read are ignored.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "hp_config.h"
#include "hp_log.h"
#include "hp_str.h"
#include "hp_unit.h"

#define HEX_KEY "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
/* The same 32 bytes in standard base64. */
#define B64_KEY "ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8="

#define MAXENV 16
static const char *env_names[MAXENV], *env_values[MAXENV];
static int env_n;

static const char *fake_getenv(const char *name, void *ctx)
{
    CU_ASSERT_PTR_EQUAL(ctx, &env_n);
    for (int i = 0; i < env_n; i++)
        if (strcmp(env_names[i], name) == 0)
            return env_values[i];
    return NULL;
}

static void env_reset(void)
{
    env_n = 0;
}

static void env_set(const char *name, const char *value)
{
    for (int i = 0; i < env_n; i++) {
        if (strcmp(env_names[i], name) == 0) {
            env_values[i] = value;
            return;
        }
    }
    CU_ASSERT_FATAL(env_n < MAXENV);
    env_names[env_n] = name;
    env_values[env_n] = value;
    env_n++;
}

/* A complete environment for every process. */
static void env_base(void)
{
    env_reset();
    env_set("HOLDPOINT_DATABASE_URL", "postgresql://hp:pw@127.0.0.1:5432/holdpoint");
    env_set("HOLDPOINT_SECRET_KEY", HEX_KEY);
}

static hp_config cfg;
static char err[HP_ERRBUF];

static hp_err load(hp_proc proc)
{
    memset(err, 0, sizeof(err));
    return hp_config_load(proc, fake_getenv, &env_n, &cfg, err, sizeof(err));
}

/* Loads with name=value set on top of the base environment and expects a
 * refusal whose message starts with the variable's name. */
static void expect_refused(hp_proc proc, const char *name, const char *value)
{
    hp_err rc;

    env_base();
    env_set(name, value);
    rc = load(proc);
    if (rc != HP_ERR_CONFIG || !hp_str_startswith(err, name))
        fprintf(stderr, "\n%s=\"%s\": rc %d, err \"%s\"\n", name, value, rc, err);
    CU_ASSERT_EQUAL(rc, HP_ERR_CONFIG);
    CU_ASSERT_TRUE(hp_str_startswith(err, name));
}

static void expect_ok(hp_proc proc, const char *name, const char *value)
{
    hp_err rc;

    env_base();
    env_set(name, value);
    rc = load(proc);
    if (rc != HP_OK)
        fprintf(stderr, "\n%s=\"%s\": refused: %s\n", name, value, err);
    CU_ASSERT_EQUAL(rc, HP_OK);
}

static const struct {
    const char *name, *dflt;
    long long min, max;
} documented[] = {
    {"HOLDPOINT_CALLBACK_BASE_DELAY_MS", "1000", 1, 3600000},
    {"HOLDPOINT_CALLBACK_MAX_DELAY_MS", "30000", 1, 86400000},
    {"HOLDPOINT_CALLBACK_MAX_ATTEMPTS", "3", 1, 100},
    {"HOLDPOINT_CALLBACK_TIMEOUT_MS", "10000", 100, 300000},
    {"HOLDPOINT_DELIVERY_CONCURRENCY", "16", 1, 1024},
    {"AGENT_CREATE_RATE_LIMIT_MAX", "60", 1, 1000000},
    {"AGENT_CREATE_RATE_LIMIT_WINDOW_MS", "60000", 1000, 86400000},
    {"HOLDPOINT_MAX_BODY_BYTES", "65536", 1024, 16777216},
    {"HOLDPOINT_MAX_WAIT_SECONDS", "300", 1, 3600},
    {"HOLDPOINT_DB_POOL_SIZE", "8", 1, 512},
    {"HOLDPOINT_DB_TIMEOUT_MS", "5000", 100, 600000},
    {"HOLDPOINT_RETENTION_DAYS", "0", 0, 36500},
    {"HOLDPOINT_API_THREADS", "4352", 17, 100000},
    {"HOLDPOINT_REQUEST_TIMEOUT_MS", "10000", 1000, 3600000},
    {"HOLDPOINT_KEEP_ALIVE_TIMEOUT_MS", "5000", 100, 3600000},
    {"HOLDPOINT_MAX_WAITERS", "4096", 1, 65536},
    {"HOLDPOINT_TEAM_WAITERS_PERCENT", "25", 1, 100},
    {"HOLDPOINT_KEY_WAITERS_PERCENT", "10", 1, 100},
};

/* Values at the edge of a range that a rule between two variables refuses
 * with the other's default: the other variable set so the rule holds. */
static const struct {
    const char *name;
    bool at_max;
    const char *other, *other_value;
} companions[] = {
    {"HOLDPOINT_CALLBACK_BASE_DELAY_MS", true, "HOLDPOINT_CALLBACK_MAX_DELAY_MS", "86400000"},
    {"HOLDPOINT_CALLBACK_MAX_DELAY_MS", false, "HOLDPOINT_CALLBACK_BASE_DELAY_MS", "1"},
    {"HOLDPOINT_API_THREADS", false, "HOLDPOINT_MAX_WAITERS", "1"},
    {"HOLDPOINT_MAX_WAITERS", true, "HOLDPOINT_API_THREADS", "100000"},
    {"HOLDPOINT_KEY_WAITERS_PERCENT", true, "HOLDPOINT_TEAM_WAITERS_PERCENT", "100"},
    {"HOLDPOINT_TEAM_WAITERS_PERCENT", false, "HOLDPOINT_KEY_WAITERS_PERCENT", "1"},
};

/* Sets name=value, with the companion that keeps the rules when there is
 * one, and expects the load to succeed. */
static void expect_edge_ok(hp_proc proc, const char *name, const char *value, bool at_max);
#define NDOC (sizeof(documented) / sizeof(documented[0]))

static const hp_config_var *find_var(const char *name)
{
    const hp_config_var *vars;
    size_t n = hp_config_vars(&vars);
    for (size_t i = 0; i < n; i++)
        if (strcmp(vars[i].name, name) == 0)
            return &vars[i];
    return NULL;
}

/* The lowest process bit that reads v. */
static hp_proc proc_of(const hp_config_var *v)
{
    for (unsigned b = 1; b <= HP_PROC_CLI; b <<= 1)
        if (v->procs & b)
            return (hp_proc)b;
    return HP_PROC_API;
}

static void test_table(void)
{
    const hp_config_var *vars;
    size_t n = hp_config_vars(&vars);
    static const char *const types[] = {"string", "url", "int", "hostport", "key", "level", NULL};

    CU_ASSERT(n >= NDOC + 8);
    for (size_t i = 0; i < n; i++) {
        bool known = false;
        CU_ASSERT_PTR_NOT_NULL_FATAL(vars[i].name);
        CU_ASSERT_PTR_NOT_NULL(vars[i].help);
        CU_ASSERT(vars[i].help != NULL && strlen(vars[i].help) > 0);
        CU_ASSERT(vars[i].procs != 0);
        CU_ASSERT((vars[i].procs & ~31u) == 0);
        CU_ASSERT(vars[i].min <= vars[i].max);
        CU_ASSERT(!(vars[i].required && vars[i].dflt != NULL));
        for (int t = 0; types[t]; t++)
            known |= strcmp(vars[i].type, types[t]) == 0;
        CU_ASSERT_TRUE(known);
        for (size_t j = 0; j < i; j++)
            CU_ASSERT(strcmp(vars[i].name, vars[j].name) != 0);
    }
    for (size_t d = 0; d < NDOC; d++) {
        const hp_config_var *v = find_var(documented[d].name);
        CU_ASSERT_PTR_NOT_NULL_FATAL(v);
        CU_ASSERT_STRING_EQUAL(v->type, "int");
        CU_ASSERT_STRING_EQUAL(v->dflt, documented[d].dflt);
        CU_ASSERT_EQUAL(v->min, documented[d].min);
        CU_ASSERT_EQUAL(v->max, documented[d].max);
        CU_ASSERT_FALSE(v->required);
    }
    CU_ASSERT_TRUE(find_var("HOLDPOINT_DATABASE_URL")->required);
    CU_ASSERT_EQUAL(find_var("HOLDPOINT_DATABASE_URL")->procs, 15u);
    CU_ASSERT_TRUE(find_var("HOLDPOINT_SECRET_KEY")->required);
    CU_ASSERT_EQUAL(find_var("HOLDPOINT_SECRET_KEY")->procs,
                    (unsigned)(HP_PROC_API | HP_PROC_DELIVERY | HP_PROC_CLI));
    CU_ASSERT_STRING_EQUAL(find_var("HOLDPOINT_LISTEN")->dflt, "127.0.0.1:8080");
    CU_ASSERT_EQUAL(find_var("HOLDPOINT_LISTEN")->procs, (unsigned)HP_PROC_API);
    CU_ASSERT_STRING_EQUAL(find_var("HOLDPOINT_LOG_LEVEL")->dflt, "info");
    CU_ASSERT_PTR_NOT_NULL(find_var("HOLDPOINT_REDIS_URL"));
    CU_ASSERT_PTR_NOT_NULL(find_var("HOLDPOINT_PUBLIC_URL"));
    CU_ASSERT_PTR_NOT_NULL(find_var("HOLDPOINT_METRICS_LISTEN"));
    CU_ASSERT_PTR_NOT_NULL(find_var("HOLDPOINT_OUTBOUND_ALLOW"));
    CU_ASSERT_EQUAL(hp_config_vars(NULL), n);
}

static void test_defaults(void)
{
    env_base();
    CU_ASSERT_EQUAL_FATAL(load(HP_PROC_API), HP_OK);
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_PTR_EQUAL(cfg.database_url, env_values[0]); /* points into the environment */
    CU_ASSERT_PTR_NULL(cfg.redis_url);
    CU_ASSERT_STRING_EQUAL(cfg.listen_host, "127.0.0.1");
    CU_ASSERT_EQUAL(cfg.listen_port, 8080);
    CU_ASSERT_STRING_EQUAL(cfg.public_url, "http://127.0.0.1:8080");
    CU_ASSERT_STRING_EQUAL(cfg.outbound_allow, "");
    CU_ASSERT_TRUE(cfg.has_secret_key);
    CU_ASSERT_EQUAL(cfg.secret_key[0], 0x00);
    CU_ASSERT_EQUAL(cfg.secret_key[1], 0x11);
    CU_ASSERT_EQUAL(cfg.secret_key[31], 0xff);
    CU_ASSERT_EQUAL(cfg.callback_base_delay_ms, 1000);
    CU_ASSERT_EQUAL(cfg.callback_max_delay_ms, 30000);
    CU_ASSERT_EQUAL(cfg.callback_max_attempts, 3);
    CU_ASSERT_EQUAL(cfg.callback_timeout_ms, 10000);
    CU_ASSERT_EQUAL(cfg.delivery_concurrency, 16);
    CU_ASSERT_EQUAL(cfg.rate_limit_max, 60);
    CU_ASSERT_EQUAL(cfg.rate_limit_window_ms, 60000);
    CU_ASSERT_EQUAL(cfg.max_body_bytes, 65536);
    CU_ASSERT_EQUAL(cfg.max_wait_seconds, 300);
    CU_ASSERT_STRING_EQUAL(cfg.metrics_host, "");
    CU_ASSERT_EQUAL(cfg.metrics_port, 0);
    CU_ASSERT_EQUAL(cfg.db_pool_size, 8);
    CU_ASSERT_EQUAL(cfg.db_timeout_ms, 5000);
    CU_ASSERT_EQUAL(cfg.api_threads, 4352);
    CU_ASSERT_EQUAL(cfg.max_waiters, 4096);
    CU_ASSERT_EQUAL(cfg.team_waiters_percent, 25);
    CU_ASSERT_EQUAL(cfg.key_waiters_percent, 10);
    CU_ASSERT_EQUAL(cfg.request_timeout_ms, 10000);
    CU_ASSERT_EQUAL(cfg.keep_alive_timeout_ms, 5000);
    CU_ASSERT_EQUAL(cfg.log_level, HP_LOG_INFO);

    /* Every process loads with the base environment, defaults filled in. */
    CU_ASSERT_EQUAL(load(HP_PROC_TIMEOUT), HP_OK);
    CU_ASSERT_EQUAL(cfg.max_body_bytes, 65536);
    CU_ASSERT_FALSE(cfg.has_secret_key); /* the timeout worker does not read it */
    CU_ASSERT_EQUAL(load(HP_PROC_DELIVERY), HP_OK);
    CU_ASSERT_TRUE(cfg.has_secret_key);
    CU_ASSERT_EQUAL(cfg.delivery_concurrency, 16);
    CU_ASSERT_EQUAL(load(HP_PROC_CLI), HP_OK);
}

static void test_set_values(void)
{
    env_base();
    env_set("HOLDPOINT_MAX_BODY_BYTES", "1048576");
    env_set("HOLDPOINT_API_THREADS", "17");
    env_set("HOLDPOINT_MAX_WAITERS", "1");
    env_set("AGENT_CREATE_RATE_LIMIT_WINDOW_MS", "86400000");
    env_set("HOLDPOINT_LOG_LEVEL", "debug");
    env_set("HOLDPOINT_REDIS_URL", "redis://127.0.0.1:6379/0");
    env_set("HOLDPOINT_PUBLIC_URL", "https://approvals.example.com");
    env_set("HOLDPOINT_OUTBOUND_ALLOW", "10.0.0.0/8");
    CU_ASSERT_EQUAL_FATAL(load(HP_PROC_API), HP_OK);
    CU_ASSERT_EQUAL(cfg.max_body_bytes, 1048576);
    CU_ASSERT_EQUAL(cfg.api_threads, 17);
    CU_ASSERT_EQUAL(cfg.max_waiters, 1);
    CU_ASSERT_EQUAL(cfg.rate_limit_window_ms, 86400000);
    CU_ASSERT_EQUAL(cfg.log_level, HP_LOG_DEBUG);
    CU_ASSERT_STRING_EQUAL(cfg.redis_url, "redis://127.0.0.1:6379/0");
    CU_ASSERT_STRING_EQUAL(cfg.public_url, "https://approvals.example.com");
    CU_ASSERT_STRING_EQUAL(cfg.outbound_allow, "10.0.0.0/8");
    env_set("HOLDPOINT_LOG_LEVEL", "warn");
    CU_ASSERT_EQUAL(load(HP_PROC_API), HP_OK);
    CU_ASSERT_EQUAL(cfg.log_level, HP_LOG_WARN);
    env_set("HOLDPOINT_LOG_LEVEL", "error");
    CU_ASSERT_EQUAL(load(HP_PROC_API), HP_OK);
    CU_ASSERT_EQUAL(cfg.log_level, HP_LOG_ERROR);
}

static void test_required(void)
{
    static const hp_proc all[] = {HP_PROC_API, HP_PROC_TIMEOUT, HP_PROC_DELIVERY, HP_PROC_CLI};

    for (int i = 0; i < 4; i++) {
        env_reset();
        env_set("HOLDPOINT_SECRET_KEY", HEX_KEY);
        CU_ASSERT_EQUAL(load(all[i]), HP_ERR_CONFIG);
        CU_ASSERT_TRUE(hp_str_startswith(err, "HOLDPOINT_DATABASE_URL: "));
        env_set("HOLDPOINT_DATABASE_URL", ""); /* empty counts as unset */
        CU_ASSERT_EQUAL(load(all[i]), HP_ERR_CONFIG);
        CU_ASSERT_TRUE(hp_str_startswith(err, "HOLDPOINT_DATABASE_URL: "));
    }
    /* The secret key: API, delivery and CLI need it; the timeout worker not. */
    env_reset();
    env_set("HOLDPOINT_DATABASE_URL", "postgres://localhost/hp");
    CU_ASSERT_EQUAL(load(HP_PROC_API), HP_ERR_CONFIG);
    CU_ASSERT_TRUE(hp_str_startswith(err, "HOLDPOINT_SECRET_KEY: "));
    CU_ASSERT_EQUAL(load(HP_PROC_DELIVERY), HP_ERR_CONFIG);
    CU_ASSERT_TRUE(hp_str_startswith(err, "HOLDPOINT_SECRET_KEY: "));
    CU_ASSERT_EQUAL(load(HP_PROC_CLI), HP_ERR_CONFIG);
    CU_ASSERT_TRUE(hp_str_startswith(err, "HOLDPOINT_SECRET_KEY: "));
    CU_ASSERT_EQUAL(load(HP_PROC_TIMEOUT), HP_OK);
    env_set("HOLDPOINT_SECRET_KEY", "");
    CU_ASSERT_EQUAL(load(HP_PROC_API), HP_ERR_CONFIG);
    CU_ASSERT_TRUE(hp_str_startswith(err, "HOLDPOINT_SECRET_KEY: "));
}

static void test_int_message(void)
{
    expect_refused(HP_PROC_API, "HOLDPOINT_MAX_BODY_BYTES", "abc");
    CU_ASSERT_STRING_EQUAL(err, "HOLDPOINT_MAX_BODY_BYTES: must be an integer from 1024 to "
                                "16777216 (got \"abc\")");
    expect_refused(HP_PROC_DELIVERY, "HOLDPOINT_CALLBACK_MAX_ATTEMPTS", "101");
    CU_ASSERT_STRING_EQUAL(err, "HOLDPOINT_CALLBACK_MAX_ATTEMPTS: must be an integer from 1 to "
                                "100 (got \"101\")");
}

static void expect_edge_ok(hp_proc proc, const char *name, const char *value, bool at_max)
{
    for (size_t c = 0; c < sizeof(companions) / sizeof(companions[0]); c++) {
        if (strcmp(companions[c].name, name) == 0 && companions[c].at_max == at_max) {
            env_base();
            env_set(name, value);
            env_set(companions[c].other, companions[c].other_value);
            CU_ASSERT_EQUAL(load(proc), HP_OK);
            return;
        }
    }
    expect_ok(proc, name, value);
}

static void test_every_int_refused(void)
{
    static const char *const junk[] = {"abc",  "1.5",  "1e3", "0x10", " 100",
                                       "100 ", "+100", "10O", "--1",  "99999999999999999999",
                                       NULL};
    char below[32], above[32], lo[32], hi[32];

    for (size_t d = 0; d < NDOC; d++) {
        const hp_config_var *v = find_var(documented[d].name);
        hp_proc proc = proc_of(v);
        char want[96];

        CU_ASSERT_PTR_NOT_NULL_FATAL(v);
        snprintf(want, sizeof(want), "%s: must be an integer from %lld to %lld (got \"", v->name,
                 v->min, v->max);
        for (int j = 0; junk[j]; j++) {
            expect_refused(proc, v->name, junk[j]);
            CU_ASSERT_TRUE(hp_str_startswith(err, want));
        }
        snprintf(below, sizeof(below), "%lld", v->min - 1);
        snprintf(above, sizeof(above), "%lld", v->max + 1);
        snprintf(lo, sizeof(lo), "%lld", v->min);
        snprintf(hi, sizeof(hi), "%lld", v->max);
        expect_refused(proc, v->name, below);
        CU_ASSERT_TRUE(hp_str_startswith(err, want));
        expect_refused(proc, v->name, above);
        CU_ASSERT_TRUE(hp_str_startswith(err, want));
        expect_refused(proc, v->name, "-1");
        expect_edge_ok(proc, v->name, hi, true);
        expect_edge_ok(proc, v->name, lo, false);
        expect_ok(proc, v->name, ""); /* empty: the default */
    }
}

static void test_delay_order(void)
{
    env_base();
    env_set("HOLDPOINT_CALLBACK_BASE_DELAY_MS", "5000");
    env_set("HOLDPOINT_CALLBACK_MAX_DELAY_MS", "1000");
    CU_ASSERT_EQUAL(load(HP_PROC_DELIVERY), HP_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "HOLDPOINT_CALLBACK_BASE_DELAY_MS"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "HOLDPOINT_CALLBACK_MAX_DELAY_MS"));
    env_set("HOLDPOINT_CALLBACK_MAX_DELAY_MS", "5000");
    CU_ASSERT_EQUAL(load(HP_PROC_DELIVERY), HP_OK); /* equal is fine */
    CU_ASSERT_EQUAL(cfg.callback_base_delay_ms, 5000);
    CU_ASSERT_EQUAL(cfg.callback_max_delay_ms, 5000);
}

/* Rules between variables name both and say what would hold. */
static void test_rules(void)
{
    env_base();
    env_set("HOLDPOINT_MAX_WAITERS", "100");
    env_set("HOLDPOINT_API_THREADS", "115");
    CU_ASSERT_EQUAL(load(HP_PROC_API), HP_ERR_CONFIG);
    CU_ASSERT_STRING_EQUAL(err, "HOLDPOINT_API_THREADS: must be at least HOLDPOINT_MAX_WAITERS + "
                                "16 (got 115 and 100): threads must remain to serve the "
                                "decisions waiters wait for");
    env_set("HOLDPOINT_API_THREADS", "116");
    CU_ASSERT_EQUAL(load(HP_PROC_API), HP_OK);
    /* A process that reads neither variable does not check the rule. */
    env_set("HOLDPOINT_API_THREADS", "20");
    CU_ASSERT_EQUAL(load(HP_PROC_DELIVERY), HP_OK);

    env_base();
    env_set("HOLDPOINT_KEY_WAITERS_PERCENT", "30");
    CU_ASSERT_EQUAL(load(HP_PROC_API), HP_ERR_CONFIG);
    CU_ASSERT_TRUE(hp_str_startswith(err, "HOLDPOINT_KEY_WAITERS_PERCENT: must not exceed "
                                          "HOLDPOINT_TEAM_WAITERS_PERCENT (got 30 > 25)"));
    env_set("HOLDPOINT_TEAM_WAITERS_PERCENT", "30");
    CU_ASSERT_EQUAL(load(HP_PROC_API), HP_OK);
    CU_ASSERT_EQUAL(cfg.team_waiters_percent, 30);
    CU_ASSERT_EQUAL(cfg.key_waiters_percent, 30);
}

static void check_key(const char *value, bool ok)
{
    env_base();
    env_set("HOLDPOINT_SECRET_KEY", value);
    if (ok) {
        CU_ASSERT_EQUAL_FATAL(load(HP_PROC_API), HP_OK);
        CU_ASSERT_TRUE(cfg.has_secret_key);
        CU_ASSERT_EQUAL(cfg.secret_key[0], 0x00);
        CU_ASSERT_EQUAL(cfg.secret_key[15], 0xff);
        CU_ASSERT_EQUAL(cfg.secret_key[16], 0x00);
        CU_ASSERT_EQUAL(cfg.secret_key[31], 0xff);
    } else {
        CU_ASSERT_EQUAL(load(HP_PROC_API), HP_ERR_CONFIG);
        CU_ASSERT_TRUE(hp_str_startswith(err, "HOLDPOINT_SECRET_KEY: "));
        CU_ASSERT_PTR_NULL(strstr(err, value)); /* never echoed */
    }
}

static void test_secret_key(void)
{
    check_key(HEX_KEY, true);
    check_key("00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF", true);
    check_key(B64_KEY, true);
    /* Wrong lengths and alphabets. */
    check_key("00112233445566778899aabbccddeeff00112233445566778899aabbccddeef", false);
    check_key("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0", false);
    check_key("00112233445566778899aabbccddeeff00112233445566778899aabbccddeegg", false);
    check_key("0x112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", false);
    check_key("ABEiM0RVZneImaq7zN3u_wARIjNEVWZ3iJmqu8zd7v8=", false); /* base64url */
    check_key("ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8", false);  /* no padding */
    check_key("ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7g==", false); /* 31 bytes */
    check_key("ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8A", false); /* 33 bytes */
    check_key("c2hvcnQ=", false);                                     /* 5 bytes */
    check_key("correct horse battery staple", false);
}

static void test_listen(void)
{
    static const char *const bad[] = {"8080",       ":8080",    "host:",      "host:0",
                                      "host:65536", "host:80x", "host:-1",    "::1:8080",
                                      "[::1]8080",  "[]:8080",  "[::1:8080",  "a b:80",
                                      "host:080 ",  "[::1]:",   "[zz::1]:80", NULL};

    env_base();
    env_set("HOLDPOINT_LISTEN", "0.0.0.0:9000");
    CU_ASSERT_EQUAL_FATAL(load(HP_PROC_API), HP_OK);
    CU_ASSERT_STRING_EQUAL(cfg.listen_host, "0.0.0.0");
    CU_ASSERT_EQUAL(cfg.listen_port, 9000);
    CU_ASSERT_STRING_EQUAL(cfg.public_url, "http://0.0.0.0:9000");

    env_set("HOLDPOINT_LISTEN", "[::1]:8080");
    CU_ASSERT_EQUAL_FATAL(load(HP_PROC_API), HP_OK);
    CU_ASSERT_STRING_EQUAL(cfg.listen_host, "::1");
    CU_ASSERT_EQUAL(cfg.listen_port, 8080);
    CU_ASSERT_STRING_EQUAL(cfg.public_url, "http://[::1]:8080");

    expect_ok(HP_PROC_API, "HOLDPOINT_LISTEN", "localhost:1");
    CU_ASSERT_EQUAL(cfg.listen_port, 1);
    expect_ok(HP_PROC_API, "HOLDPOINT_LISTEN", "api-1.internal:65535");
    CU_ASSERT_EQUAL(cfg.listen_port, 65535);
    for (int i = 0; bad[i]; i++) {
        expect_refused(HP_PROC_API, "HOLDPOINT_LISTEN", bad[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "1 to 65535"));
    }
    /* Only the API reads it. */
    expect_ok(HP_PROC_TIMEOUT, "HOLDPOINT_LISTEN", "garbage");
    CU_ASSERT_EQUAL(cfg.listen_port, 8080);
}

static void test_metrics_listen(void)
{
    env_base();
    CU_ASSERT_EQUAL(load(HP_PROC_TIMEOUT), HP_OK);
    CU_ASSERT_STRING_EQUAL(cfg.metrics_host, "");
    CU_ASSERT_EQUAL(cfg.metrics_port, 0);
    expect_ok(HP_PROC_TIMEOUT, "HOLDPOINT_METRICS_LISTEN", "127.0.0.1:9100");
    CU_ASSERT_STRING_EQUAL(cfg.metrics_host, "127.0.0.1");
    CU_ASSERT_EQUAL(cfg.metrics_port, 9100);
    expect_ok(HP_PROC_DELIVERY, "HOLDPOINT_METRICS_LISTEN", "[::]:9101");
    CU_ASSERT_STRING_EQUAL(cfg.metrics_host, "::");
    CU_ASSERT_EQUAL(cfg.metrics_port, 9101);
    expect_ok(HP_PROC_TIMEOUT, "HOLDPOINT_METRICS_LISTEN", "");
    CU_ASSERT_EQUAL(cfg.metrics_port, 0);
    expect_refused(HP_PROC_TIMEOUT, "HOLDPOINT_METRICS_LISTEN", "9100");
    expect_refused(HP_PROC_DELIVERY, "HOLDPOINT_METRICS_LISTEN", "host:99999");
}

static void test_urls(void)
{
    expect_ok(HP_PROC_API, "HOLDPOINT_DATABASE_URL", "postgres://u@h/db");
    expect_ok(HP_PROC_API, "HOLDPOINT_DATABASE_URL", "host=/var/run/postgresql dbname=hp");
    expect_refused(HP_PROC_API, "HOLDPOINT_DATABASE_URL", "mysql://root:hunter2@db/x");
    CU_ASSERT_PTR_NULL(strstr(err, "hunter2")); /* credentials never echoed */

    /* The direct URL (LISTEN, migrations) falls back to the main one and is
     * checked like it. */
    expect_ok(HP_PROC_CLI, "HOLDPOINT_DATABASE_DIRECT_URL", "");
    CU_ASSERT_PTR_EQUAL(cfg.database_direct_url, cfg.database_url);
    expect_ok(HP_PROC_TIMEOUT, "HOLDPOINT_DATABASE_DIRECT_URL", "postgres://u@pg:5432/db");
    CU_ASSERT_STRING_EQUAL(cfg.database_direct_url, "postgres://u@pg:5432/db");
    CU_ASSERT_STRING_EQUAL(cfg.database_url, env_values[0]);
    expect_refused(HP_PROC_API, "HOLDPOINT_DATABASE_DIRECT_URL", "pg:5432/hunter2");
    CU_ASSERT_TRUE(hp_str_startswith(err, "HOLDPOINT_DATABASE_DIRECT_URL: "));
    CU_ASSERT_PTR_NULL(strstr(err, "hunter2"));

    expect_ok(HP_PROC_API, "HOLDPOINT_REDIS_URL", "redis://:pw@cache:6379/1");
    expect_refused(HP_PROC_API, "HOLDPOINT_REDIS_URL", "http://:hunter2@cache:6379");
    CU_ASSERT_PTR_NULL(strstr(err, "hunter2"));
    expect_refused(HP_PROC_API, "HOLDPOINT_REDIS_URL", "redis://");
    expect_refused(HP_PROC_TIMEOUT, "HOLDPOINT_REDIS_URL", "localhost:6379");
    expect_ok(HP_PROC_API, "HOLDPOINT_REDIS_URL", "");
    CU_ASSERT_PTR_NULL(cfg.redis_url);

    expect_ok(HP_PROC_API, "HOLDPOINT_PUBLIC_URL", "http://localhost:8080");
    CU_ASSERT_STRING_EQUAL(cfg.public_url, "http://localhost:8080");
    expect_refused(HP_PROC_API, "HOLDPOINT_PUBLIC_URL", "ftp://example.com");
    expect_refused(HP_PROC_API, "HOLDPOINT_PUBLIC_URL", "example.com");
    expect_refused(HP_PROC_API, "HOLDPOINT_PUBLIC_URL", "https://");
}

static void test_prepared_statements(void)
{
    expect_ok(HP_PROC_API, "HOLDPOINT_DB_PREPARED_STATEMENTS", "");
    CU_ASSERT_STRING_EQUAL(cfg.db_prepared_statements, "auto");
    expect_ok(HP_PROC_TIMEOUT, "HOLDPOINT_DB_PREPARED_STATEMENTS", "off");
    CU_ASSERT_STRING_EQUAL(cfg.db_prepared_statements, "off");
    expect_ok(HP_PROC_DELIVERY, "HOLDPOINT_DB_PREPARED_STATEMENTS", "on");
    CU_ASSERT_STRING_EQUAL(cfg.db_prepared_statements, "on");
    expect_refused(HP_PROC_API, "HOLDPOINT_DB_PREPARED_STATEMENTS", "yes");
    CU_ASSERT_STRING_EQUAL(err, "HOLDPOINT_DB_PREPARED_STATEMENTS: must be one of auto, on, off "
                                "(got \"yes\")");
}

static void test_ca_file(void)
{
    expect_ok(HP_PROC_DELIVERY, "HOLDPOINT_OUTBOUND_CA_FILE", "");
    CU_ASSERT_PTR_NULL(cfg.outbound_ca_file);
    /* Any readable file (its PEM is read by the TLS library at a send). */
    expect_ok(HP_PROC_DELIVERY, "HOLDPOINT_OUTBOUND_CA_FILE", "/dev/null");
    CU_ASSERT_STRING_EQUAL(cfg.outbound_ca_file, "/dev/null");
    expect_refused(HP_PROC_DELIVERY, "HOLDPOINT_OUTBOUND_CA_FILE", "/nonexistent/ca.pem");
    CU_ASSERT_STRING_EQUAL(
        err, "HOLDPOINT_OUTBOUND_CA_FILE: cannot read the file \"/nonexistent/ca.pem\"");
}

static void test_log_level(void)
{
    expect_refused(HP_PROC_API, "HOLDPOINT_LOG_LEVEL", "verbose");
    CU_ASSERT_STRING_EQUAL(err, "HOLDPOINT_LOG_LEVEL: must be one of debug, info, warn, error "
                                "(got \"verbose\")");
    expect_refused(HP_PROC_CLI, "HOLDPOINT_LOG_LEVEL", "INFO");
    expect_ok(HP_PROC_CLI, "HOLDPOINT_LOG_LEVEL", "");
    CU_ASSERT_EQUAL(cfg.log_level, HP_LOG_INFO);
}

static void test_unused_ignored(void)
{
    /* A shared environment file may set variables for other processes. */
    env_base();
    env_set("HOLDPOINT_MAX_BODY_BYTES", "bogus");
    env_set("HOLDPOINT_API_THREADS", "0");
    CU_ASSERT_EQUAL(load(HP_PROC_DELIVERY), HP_OK);
    CU_ASSERT_EQUAL(cfg.max_body_bytes, 65536);
    CU_ASSERT_EQUAL(load(HP_PROC_API), HP_ERR_CONFIG);
    env_base();
    env_set("HOLDPOINT_DELIVERY_CONCURRENCY", "0");
    CU_ASSERT_EQUAL(load(HP_PROC_API), HP_OK);
    CU_ASSERT_EQUAL(load(HP_PROC_DELIVERY), HP_ERR_CONFIG);
    CU_ASSERT_TRUE(hp_str_startswith(err, "HOLDPOINT_DELIVERY_CONCURRENCY: "));
}

static void test_real_getenv(void)
{
    setenv("HOLDPOINT_DATABASE_URL", "postgres://from-env/db", 1);
    setenv("HOLDPOINT_SECRET_KEY", B64_KEY, 1);
    setenv("HOLDPOINT_DB_POOL_SIZE", "3", 1);
    CU_ASSERT_EQUAL(hp_config_load(HP_PROC_API, NULL, NULL, &cfg, err, sizeof(err)), HP_OK);
    CU_ASSERT_STRING_EQUAL(cfg.database_url, "postgres://from-env/db");
    CU_ASSERT_EQUAL(cfg.db_pool_size, 3);
    setenv("HOLDPOINT_DB_POOL_SIZE", "513", 1);
    CU_ASSERT_EQUAL(hp_config_load(HP_PROC_API, NULL, NULL, &cfg, err, sizeof(err)), HP_ERR_CONFIG);
    CU_ASSERT_STRING_EQUAL(err, "HOLDPOINT_DB_POOL_SIZE: must be an integer from 1 to 512 (got "
                                "\"513\")");
    unsetenv("HOLDPOINT_DATABASE_URL");
    unsetenv("HOLDPOINT_SECRET_KEY");
    unsetenv("HOLDPOINT_DB_POOL_SIZE");
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"table", test_table},
        {"defaults", test_defaults},
        {"set values", test_set_values},
        {"required per process", test_required},
        {"integer message", test_int_message},
        {"every integer refused", test_every_int_refused},
        {"delay order", test_delay_order},
        {"rules between variables", test_rules},
        {"secret key", test_secret_key},
        {"listen", test_listen},
        {"metrics listen", test_metrics_listen},
        {"urls", test_urls},
        {"prepared statements", test_prepared_statements},
        {"outbound ca file", test_ca_file},
        {"log level", test_log_level},
        {"unused variables ignored", test_unused_ignored},
        {"real getenv", test_real_getenv},
        {NULL, NULL},
    };
    return hp_unit_main("hp_config", tests);
}
