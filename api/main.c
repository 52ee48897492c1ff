/*
 * holdpoint-api: the HTTP API process. main() reads the configuration once,
 * opens the PostgreSQL pool (and the Redis pool when configured), starts
 * civetweb with the route dispatcher, and waits for SIGTERM or SIGINT; then it
 * stops accepting, lets in-flight requests finish, and exits 0.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "hp_log.h"
#include "hp_str.h"

static const char *api__getenv(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

static int api__log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    size_t n = strcspn(message, "\n");
    char buf[512];
    (void)hp_fmt(buf, sizeof(buf), "%.*s", (int)n, message);
    hp_log_warn("http server message", "detail", buf, (const char *)NULL);
    return 1;
}

int main(void)
{
    static hp_config cfg;
    hp_app app;
    char err[HP_ERRBUF], ports[300], threads[16], timeout[16];
    struct mg_callbacks cb;
    struct mg_context *ctx;
    sigset_t stop_set;
    int sig = 0;

    hp_log_init("holdpoint-api", HP_LOG_INFO);
    if (hp_config_load(HP_PROC_API, api__getenv, NULL, &cfg, err, sizeof(err)) != HP_OK) {
        hp_log_error("invalid configuration", "detail", err, (const char *)NULL);
        return 2;
    }
    hp_log_init("holdpoint-api", (hp_log_level)cfg.log_level);

    memset(&app, 0, sizeof(app));
    app.cfg = &cfg;
    app.env.callback_max_attempts = cfg.callback_max_attempts;
    app.db = hp_db_new(cfg.database_url, cfg.db_pool_size, cfg.db_timeout_ms);
    if (cfg.redis_url != NULL) {
        app.redis = hp_redis_new(cfg.redis_url, cfg.db_pool_size, 500, err, sizeof(err));
        if (app.redis == NULL) {
            hp_log_error("invalid configuration", "variable", "HOLDPOINT_REDIS_URL", "detail",
                         err, (const char *)NULL);
            return 2;
        }
    }

    /* Block the stop signals before any thread starts so every civetweb
     * thread inherits the mask and only sigwait below receives them. */
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (strchr(cfg.listen_host, ':') != NULL)
        (void)hp_fmt(ports, sizeof(ports), "[%s]:%d", cfg.listen_host, cfg.listen_port);
    else
        (void)hp_fmt(ports, sizeof(ports), "%s:%d", cfg.listen_host, cfg.listen_port);
    (void)hp_fmt(threads, sizeof(threads), "%d", cfg.api_threads);
    (void)hp_fmt(timeout, sizeof(timeout), "%d", cfg.request_timeout_ms);
    const char *options[] = {"listening_ports",
                             ports,
                             "num_threads",
                             threads,
                             "request_timeout_ms",
                             timeout,
                             "enable_keep_alive",
                             "yes",
                             "keep_alive_timeout_ms",
                             "5000",
                             "decode_url",
                             "no",
                             "tcp_nodelay",
                             "1",
                             NULL};
    memset(&cb, 0, sizeof(cb));
    cb.log_message = api__log_message;
    mg_init_library(0);
    ctx = mg_start(&cb, &app, options);
    if (ctx == NULL) {
        hp_log_error("could not start the http server", "listen", ports, (const char *)NULL);
        return 1;
    }
    mg_set_request_handler(ctx, "/", api_dispatch, &app);
    {
        json_object *f = json_object_new_object();
        json_object_object_add(f, "listen", json_object_new_string(ports));
        json_object_object_add(f, "threads", json_object_new_int(cfg.api_threads));
        json_object_object_add(f, "redis", json_object_new_boolean(app.redis != NULL));
        hp_log_fields(HP_LOG_INFO, "listening", f);
        json_object_put(f);
    }

    sigwait(&stop_set, &sig);
    hp_log_info("stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", (const char *)NULL);
    mg_stop(ctx); /* stops accepting and joins the workers after their requests */
    mg_exit_library();
    hp_redis_free(app.redis);
    hp_db_free(app.db);
    hp_log_info("stopped", (const char *)NULL);
    return 0;
}
