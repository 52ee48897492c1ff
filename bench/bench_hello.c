/*
 * bench_hello: the ceiling bench/get.sh divides the API's read rate by — a
 * civetweb server with the API's own options (threads, keep-alive, no URL
 * decoding, TCP_NODELAY) whose one handler answers every request with a
 * small JSON body, touching no database. Runs until SIGTERM or SIGINT.
 *
 *   bench_hello PORT THREADS
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <civetweb.h>

#include "hp_str.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int hello(struct mg_connection *conn, void *ud)
{
    static const char body[] = "{\"request_id\":\"hello\",\"status\":\"pending\"}";

    (void)ud;
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "Connection: keep-alive\r\n\r\n%s",
              sizeof(body) - 1, body);
    return 200;
}

int main(int argc, char **argv)
{
    long long port, threads;
    char ports[32], nthreads[16];
    struct mg_context *ctx;

    if (argc != 3 || !hp_parse_ll(argv[1], 1, 65535, &port) ||
        !hp_parse_ll(argv[2], 1, 10000, &threads)) {
        fprintf(stderr, "usage: bench_hello PORT THREADS\n");
        return 2;
    }
    (void)hp_fmt(ports, sizeof(ports), "127.0.0.1:%lld", port);
    (void)hp_fmt(nthreads, sizeof(nthreads), "%lld", threads);
    const char *options[] = {"listening_ports",
                             ports,
                             "num_threads",
                             nthreads,
                             "enable_keep_alive",
                             "yes",
                             "keep_alive_timeout_ms",
                             "5000",
                             "decode_url",
                             "no",
                             "tcp_nodelay",
                             "1",
                             NULL};
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    mg_init_library(0);
    ctx = mg_start(NULL, NULL, options);
    if (ctx == NULL) {
        fprintf(stderr, "bench_hello: could not listen on %s\n", ports);
        return 1;
    }
    mg_set_request_handler(ctx, "/", hello, NULL);
    while (!stop)
        sleep(1); /* a signal ends the sleep early */
    mg_stop(ctx);
    mg_exit_library();
    return 0;
}
