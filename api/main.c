/*
 * holdpoint-api: the HTTP API process. main() reads the configuration once,
 * opens the PostgreSQL pool (and the Redis pool when configured), starts
 * civetweb with the route dispatcher, and waits for SIGTERM or SIGINT; then it
 * stops accepting, lets in-flight requests finish, and exits 0.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/resource.h>

#include "api.h"
#include "hp_fault.h"
#include "hp_log.h"
#include "hp_str.h"
#include "hp_time.h"
#include "hp_wake.h"

/* Worker threads civetweb could not create (it logs each and runs on with
 * the others). */
static _Atomic int api__thread_failures;

static int api__log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    size_t n = strcspn(message, "\n");
    char buf[512];

    if (strstr(message, "Cannot start worker thread") != NULL &&
        atomic_fetch_add(&api__thread_failures, 1) > 0)
        return 1; /* one line is enough; main reports the count */
    (void)hp_fmt(buf, sizeof(buf), "%.*s", (int)n, message);
    hp_log_warn("http server message", "reason", buf);
    return 1;
}

/* Each connection, waiting or not, holds a socket: raises the open-file
 * limit to the hard limit and checks that it covers every thread's socket
 * plus the pools and listeners. false (logged) when it cannot. */
static bool api__raise_limits(const hp_config *cfg)
{
    struct rlimit rl;
    long long need = (long long)cfg->api_threads + 2LL * cfg->db_pool_size + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return true;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            hp_log_warn("could not raise the open file limit");
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && (long long)rl.rlim_cur < need) {
        json_object *f = json_object_new_object();
        json_object_object_add(f, "variable", json_object_new_string("HOLDPOINT_API_THREADS"));
        json_object_object_add(f, "open_file_limit", json_object_new_int64((int64_t)rl.rlim_cur));
        json_object_object_add(f, "needed", json_object_new_int64(need));
        json_object_object_add(f, "reason",
                               json_object_new_string("the open file limit (ulimit -n) is below "
                                                      "one socket per HTTP thread plus the pools; "
                                                      "raise it or lower HOLDPOINT_API_THREADS"));
        hp_log_fields(HP_LOG_ERROR, "invalid configuration", f);
        json_object_put(f);
        return false;
    }
    return true;
}

/* percent of n, at least one. */
static int api__share(int n, int percent)
{
    long long v = (long long)n * percent / 100;
    return v < 1 ? 1 : (int)v;
}

/* Every request goes to the dispatcher from the first accepted connection:
 * begin_request is installed before the server listens, whereas a handler
 * set after mg_start would leave a moment in which civetweb answers 404
 * itself. */
static int api__begin_request(struct mg_connection *conn)
{
    return api_dispatch(conn, mg_get_user_data(mg_get_context(conn)));
}

int main(void)
{
    static hp_config cfg;
    hp_app app;
    char err[HP_ERRBUF], ports[300], threads[16], timeout[16], idle[16], backlog[16];
    struct mg_callbacks cb;
    struct mg_context *ctx;
    sigset_t stop_set;
    int sig = 0;

    hp_log_init("holdpoint-api", HP_LOG_INFO);
    if (hp_config_load(HP_PROC_API, NULL, NULL, &cfg, err, sizeof(err)) != HP_OK) {
        hp_log_error("invalid configuration", "reason", err);
        return 2;
    }
    hp_log_init("holdpoint-api", (hp_log_level)cfg.log_level);
    if (hp_fault_init(cfg.faults, err, sizeof(err)) != HP_OK) {
        hp_log_error("invalid configuration", "reason", err);
        return 2;
    }

    if (!api__raise_limits(&cfg))
        return 2;

    memset(&app, 0, sizeof(app));
    app.cfg = &cfg;
    app.env.callback_max_attempts = cfg.callback_max_attempts;
    app.env.notify_creates = cfg.redis_url == NULL;
    app.env.secret_key = cfg.secret_key;
    hp_wake_key(cfg.secret_key, app.wake_key);
    app.env.wake_key = app.wake_key;
    app.env.rate_limit_max = cfg.rate_limit_max;
    app.env.rate_limit_window_ms = cfg.rate_limit_window_ms;
    if (hp_urlpolicy_new(cfg.outbound_allow, &app.urlpolicy, err, sizeof(err)) != HP_OK) {
        hp_log_error("invalid configuration", "variable", "HOLDPOINT_OUTBOUND_ALLOW", "reason",
                     err);
        return 2;
    }
    if (hp_urlpolicy_new(cfg.trusted_proxies, &app.trusted_proxies, err, sizeof(err)) != HP_OK) {
        hp_log_error("invalid configuration", "variable", "HOLDPOINT_TRUSTED_PROXIES", "reason",
                     err);
        return 2;
    }
    app.db = hp_db_new(cfg.database_url, cfg.db_pool_size, cfg.db_timeout_ms);
    (void)hp_db_set_prepare(app.db, cfg.db_prepared_statements);
    /* Key lookups and creates of concurrent requests share statements
     * (docs/internals/batching.md), up to 64 per statement, one statement
     * of each kind at a time: the others queue and go together in the next.
     * A lookup takes no lock. A create waits only for a transaction that
     * inserts the same (agent_id, request_id) and has not committed: every
     * such writer here is one statement or a short transaction, and
     * HOLDPOINT_DB_TIMEOUT_MS bounds any other. */
    app.key_batch = hp_batch_new(api_key_batch_run, app.db, 64, 1);
    app.key_row_batch = hp_batch_new(api_key_batch_run, app.db, 64, 1);
    app.keymem = hp_keymem_new(API_KEYMEM_SLOTS, API_KEYMEM_TTL_MS);
    app.env.creates = hp_batch_new(hp_approval_create_batch_run, &app.env, 64, 1);
    if (cfg.redis_url != NULL) {
        app.redis = hp_redis_new(cfg.redis_url, cfg.db_pool_size, 500, err, sizeof(err));
        if (app.redis == NULL) {
            hp_log_error("invalid configuration", "variable", "HOLDPOINT_REDIS_URL", "reason", err);
            return 2;
        }
        app.env.redis = app.redis;
    }

    /* Block the stop signals before any thread starts (the wake sources,
     * the hang-up watcher, civetweb's) so every thread inherits the mask and
     * only sigwait below receives them: a second SIGTERM must not kill the
     * process while it drains. */
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
    signal(SIGPIPE, SIG_IGN);

    app.metrics = hp_metrics_new();
    {
        hp_waiters_config wc = {
            .database_url = cfg.database_direct_url, /* LISTEN needs a session */
            .redis_url = cfg.redis_url,
            .db_timeout_ms = cfg.db_timeout_ms,
            .max_waiters = cfg.max_waiters,
            .team_waiters = api__share(cfg.max_waiters, cfg.team_waiters_percent),
            .holder_waiters = api__share(cfg.max_waiters, cfg.key_waiters_percent),
            .row_message = api_wake_row,
            .wake_key = app.wake_key,
        };
        app.waiters = hp_waiters_new(&wc);
    }
    /* A decision made here answers this process's long-polls of it from
     * its own statement's row (docs/internals/waiters.md). */
    app.env.decided_fn = api_answer_decided;
    app.env.decided_ctx = app.waiters;
    api_metrics_init(&app);
    if (hp_waiters_start(app.waiters, err, sizeof(err)) != HP_OK) {
        hp_log_error("could not start the waiter registry", "reason", err);
        return 1;
    }

    if (strchr(cfg.listen_host, ':') != NULL)
        (void)hp_fmt(ports, sizeof(ports), "[%s]:%d", cfg.listen_host, cfg.listen_port);
    else
        (void)hp_fmt(ports, sizeof(ports), "%s:%d", cfg.listen_host, cfg.listen_port);
    (void)hp_fmt(threads, sizeof(threads), "%d", cfg.api_threads);
    /* Let a burst of arriving waiters queue in the kernel, not be dropped. */
    (void)hp_fmt(backlog, sizeof(backlog), "%d", cfg.api_threads > 256 ? cfg.api_threads : 256);
    /* Idle and slow connections give their thread back in seconds: the
     * head (and body) has a deadline of its own, and so has the idle time
     * between requests on a kept-alive connection. */
    (void)hp_fmt(timeout, sizeof(timeout), "%d", cfg.request_timeout_ms);
    (void)hp_fmt(idle, sizeof(idle), "%d", cfg.keep_alive_timeout_ms);
    const char *options[] = {"listening_ports",
                             ports,
                             "num_threads",
                             threads,
                             "listen_backlog",
                             backlog,
                             "request_timeout_ms",
                             timeout,
                             "enable_keep_alive",
                             "yes",
                             "keep_alive_timeout_ms",
                             idle,
                             "decode_url",
                             "no",
                             "tcp_nodelay",
                             "1",
                             NULL};
    memset(&cb, 0, sizeof(cb));
    cb.log_message = api__log_message;
    cb.begin_request = api__begin_request;
    mg_init_library(0);
    ctx = mg_start(&cb, &app, options);
    if (ctx == NULL) {
        hp_log_error("could not start the http server", "listen", ports);
        return 1;
    }
    if (atomic_load(&api__thread_failures) > 0) {
        json_object *f = json_object_new_object();
        json_object_object_add(f, "variable", json_object_new_string("HOLDPOINT_API_THREADS"));
        json_object_object_add(f, "threads", json_object_new_int(cfg.api_threads));
        json_object_object_add(f, "not_created",
                               json_object_new_int(atomic_load(&api__thread_failures)));
        json_object_object_add(
            f, "reason",
            json_object_new_string("the system refused threads (ulimit -u, kernel.threads-max, "
                                   "kernel.pid_max or the container's pids limit); lower "
                                   "HOLDPOINT_API_THREADS or raise the limit"));
        hp_log_fields(HP_LOG_ERROR, "could not create every http thread", f);
        json_object_put(f);
        mg_stop(ctx);
        return 1;
    }
    {
        int team, holder;
        json_object *f = json_object_new_object();
        hp_waiters_shares(app.waiters, &team, &holder);
        json_object_object_add(f, "listen", json_object_new_string(ports));
        json_object_object_add(f, "threads", json_object_new_int(cfg.api_threads));
        json_object_object_add(f, "max_waiters", json_object_new_int(cfg.max_waiters));
        json_object_object_add(f, "team_waiters", json_object_new_int(team));
        json_object_object_add(f, "key_waiters", json_object_new_int(holder));
        json_object_object_add(f, "redis", json_object_new_boolean(app.redis != NULL));
        hp_log_fields(HP_LOG_INFO, "listening", f);
        json_object_put(f);
    }

    sigwait(&stop_set, &sig);
    hp_log_info("stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
    /* New requests get 503 from now on; every waiter is answered; then the
     * requests still running finish writing (civetweb's stop aborts writes in
     * progress, so it must come last) and the server stops. */
    atomic_store(&app.draining, 1);
    hp_waiters_shutdown(app.waiters, 5000);
    for (int i = 0; i < 1000 && atomic_load(&app.inflight) > 0; i++)
        hp_time_sleep_ms(10, NULL);
    if (atomic_load(&app.inflight) > 0)
        hp_log_warn("stopping with requests still running");
    mg_stop(ctx);
    hp_waiters_free(app.waiters);
    hp_batch_free(app.key_batch);
    hp_batch_free(app.key_row_batch);
    hp_keymem_free(app.keymem);
    hp_batch_free(app.env.creates);
    hp_metrics_free(app.metrics);
    hp_urlpolicy_free(app.urlpolicy);
    hp_urlpolicy_free(app.trusted_proxies);
    mg_exit_library();
    hp_redis_free(app.redis);
    hp_db_free(app.db);
    hp_log_info("stopped");
    return 0;
}
