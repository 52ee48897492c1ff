/*
 * hp_httpd_mini: the small HTTP listener each worker runs on
 * HOLDPOINT_METRICS_LISTEN. It answers GET /healthz (200 while the process is
 * up), GET /metrics once hp_httpd_mini_metrics is called, and any other
 * path a worker registers with hp_httpd_mini_route. Built on civetweb with two threads; a worker
 * target that uses it links civetweb::civetweb. Handlers run on civetweb threads.
 */
#ifndef HP_HTTPD_MINI_H
#define HP_HTTPD_MINI_H

#include <stddef.h>

#include "hp_buf.h"
#include "hp_err.h"
#include "hp_metrics.h"

typedef struct hp_httpd_mini hp_httpd_mini;

/* Renders a GET answer into out (capped at 1 MiB) and sets *content_type to a
 * static string. Returns the HTTP status. Called on a civetweb thread, so it
 * must only read state that is safe to read concurrently. */
typedef int (*hp_httpd_mini_fn)(void *ctx, hp_buf *out, const char **content_type);

/* Starts listening on host:port (IPv6 hosts without brackets). *out is the
 * heap listener; HP_ERR_CONFIG with a reason when the address cannot be bound.
 * Call from main() before the worker threads start. */
HP_MUSTCHECK hp_err hp_httpd_mini_start(const char *host, int port, hp_httpd_mini **out, char *err,
                                        size_t errcap);

/* Serves GET path (matched exactly, without the query) with fn(ctx). path is
 * copied; at most 8 routes, more are ignored. Call from one thread (main());
 * requests running meanwhile see the route or a 404, never half of it. */
void hp_httpd_mini_route(hp_httpd_mini *h, const char *path, hp_httpd_mini_fn fn, void *ctx);

/* Serves GET /metrics from m (hp_metrics_render); m must outlive h. */
void hp_httpd_mini_metrics(hp_httpd_mini *h, hp_metrics *m);

/* Stops listening, waits for running handlers and frees h. NULL is fine. */
void hp_httpd_mini_stop(hp_httpd_mini *h);

#endif
