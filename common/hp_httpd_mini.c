/*
 * hp_httpd_mini: a civetweb listener with a fixed /healthz and a short list of
 * GET routes. It never touches the database: /healthz says only that the
 * process is up and serving (readiness with dependencies is /readyz on the
 * API). Routes are kept in a fixed table so no lock is needed: they are
 * registered by main() before the worker loop starts. civetweb gives a request
 * to the first handler whose pattern matches, and the catch-all "/" is
 * registered at start, so registered routes are looked up from that handler:
 * a slot is filled before the count that publishes it is raised.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>

#include "hp_httpd_mini.h"
#include "hp_mem.h"
#include "hp_str.h"

#define HP__ROUTES_MAX 8
#define HP__BODY_CAP   (1024 * 1024)

typedef struct hp__route {
    hp_httpd_mini *h;
    char *path;
    hp_httpd_mini_fn fn;
    void *ctx;
} hp__route;

struct hp_httpd_mini {
    struct mg_context *mg;
    hp__route routes[HP__ROUTES_MAX];
    atomic_int nroutes; /* slots below it are filled and never change */
};

static void hp__send(struct mg_connection *conn, int status, const char *type, const char *body,
                     size_t len)
{
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
              status, mg_get_response_code_text(conn, status), type, len);
    mg_write(conn, body, len);
}

static int hp__healthz(struct mg_connection *conn, void *cb)
{
    static const char ok[] = "{\"status\":\"ok\"}\n";
    const struct mg_request_info *ri = mg_get_request_info(conn);

    (void)cb;
    if (strcmp(ri->request_method, "GET") != 0 && strcmp(ri->request_method, "HEAD") != 0) {
        hp__send(conn, 405, "text/plain", "method not allowed\n", 19);
        return 405;
    }
    hp__send(conn, 200, "application/json", ok, sizeof(ok) - 1);
    return 200;
}

static int hp__route_handler(struct mg_connection *conn, hp__route *r)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *type = "text/plain; version=0.0.4";
    hp_buf out;
    int status;

    if (strcmp(ri->request_method, "GET") != 0) {
        hp__send(conn, 405, "text/plain", "method not allowed\n", 19);
        return 405;
    }
    hp_buf_init(&out, HP__BODY_CAP);
    status = r->fn(r->ctx, &out, &type);
    hp__send(conn, status, type, out.data ? out.data : "", out.len);
    hp_buf_free(&out);
    return status;
}

static int hp__dispatch(struct mg_connection *conn, void *cb)
{
    hp_httpd_mini *h = cb;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    int n = atomic_load_explicit(&h->nroutes, memory_order_acquire);

    for (int i = 0; i < n; i++)
        if (ri->local_uri != NULL && strcmp(ri->local_uri, h->routes[i].path) == 0)
            return hp__route_handler(conn, &h->routes[i]);
    hp__send(conn, 404, "text/plain", "not found\n", 10);
    return 404;
}

static int hp__quiet(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    (void)message;
    return 1; /* civetweb's own messages are not JSON; drop them */
}

hp_err hp_httpd_mini_start(const char *host, int port, hp_httpd_mini **out, char *err,
                           size_t errcap)
{
    hp_httpd_mini *h;
    struct mg_callbacks cb;
    char ports[300];

    if (strchr(host, ':') != NULL)
        (void)hp_fmt(ports, sizeof(ports), "[%s]:%d", host, port);
    else
        (void)hp_fmt(ports, sizeof(ports), "%s:%d", host, port);
    const char *options[] = {
        "listening_ports",   ports, "num_threads", "2", "request_timeout_ms", "5000",
        "enable_keep_alive", "no",  NULL};
    memset(&cb, 0, sizeof(cb));
    cb.log_message = hp__quiet;
    mg_init_library(0);
    h = hp_xcalloc(1, sizeof(*h));
    h->mg = mg_start(&cb, h, options);
    if (h->mg == NULL) {
        hp_err_set(err, errcap, "could not listen on %s", ports);
        free(h);
        mg_exit_library();
        return HP_ERR_CONFIG;
    }
    mg_set_request_handler(h->mg, "/healthz$", hp__healthz, NULL);
    mg_set_request_handler(h->mg, "/", hp__dispatch, h);
    *out = h;
    return HP_OK;
}

void hp_httpd_mini_route(hp_httpd_mini *h, const char *path, hp_httpd_mini_fn fn, void *ctx)
{
    hp__route *r;
    int n;

    if (h == NULL)
        return;
    n = atomic_load_explicit(&h->nroutes, memory_order_relaxed);
    if (n >= HP__ROUTES_MAX)
        return;
    r = &h->routes[n];
    r->h = h;
    r->path = hp_xstrdup(path);
    r->fn = fn;
    r->ctx = ctx;
    atomic_store_explicit(&h->nroutes, n + 1, memory_order_release);
}

void hp_httpd_mini_stop(hp_httpd_mini *h)
{
    if (h == NULL)
        return;
    mg_stop(h->mg);
    mg_exit_library();
    for (int i = 0; i < atomic_load(&h->nroutes); i++)
        free(h->routes[i].path);
    free(h);
}

static int hp__metrics_page(void *ctx, hp_buf *out, const char **content_type)
{
    char *text = hp_metrics_render(ctx);
    hp_err rc = hp_buf_append(out, text, strlen(text));

    free(text);
    *content_type = HP_METRICS_CONTENT_TYPE;
    return rc == HP_OK ? 200 : 500;
}

void hp_httpd_mini_metrics(hp_httpd_mini *h, hp_metrics *m)
{
    hp_httpd_mini_route(h, "/metrics", hp__metrics_page, m);
}
