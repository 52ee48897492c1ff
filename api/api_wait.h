/*
 * api_wait: the waiter registry of holdpoint-api. A request that waits for a
 * decision registers a waiter under a key — its approval id, or
 * "team:<team id>" for a view of the whole team — and sleeps on its own
 * condition variable, holding no database connection. Wake messages
 * (hp_approval_wake_msg_agent, hp_approval_created_wake_msg) name one or
 * more keys separated by spaces. Three threads wake waiters: a PostgreSQL
 * LISTEN connection (channel hp_approval), a Redis subscription (channel
 * hp:approval, when configured), and an epoll watcher
 * that notices a waiting client hang up. After a wake the waiter re-reads the
 * approval, so duplicate or reordered notifications are harmless; after a
 * lost wake connection every waiter is woken to re-check, so no wake-up is
 * lost. See docs/internals/waiters.md.
 */
#ifndef HP_API_WAIT_H
#define HP_API_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include <civetweb.h>

#include "hp_approval.h"
#include "hp_approval_ops.h"
#include "hp_err.h"
#include "hp_redis.h"

typedef struct hp_waiters hp_waiters;
typedef struct hp_waiter hp_waiter;

typedef enum {
    HP_WAIT_WOKEN = 0, /* a notification (or a re-check) for this approval */
    HP_WAIT_TIMEOUT,   /* the deadline passed */
    HP_WAIT_GONE,      /* the client hung up */
    HP_WAIT_SHUTDOWN,  /* the process is stopping */
} hp_wait_result;

/* Creates the registry: at most max_waiters at once. Starts nothing. */
hp_waiters *hp_waiters_new(const char *database_url, const char *redis_url, int db_timeout_ms,
                           int max_waiters);
/* Starts the LISTEN, SUBSCRIBE and disconnect-watcher threads. */
HP_MUSTCHECK hp_err hp_waiters_start(hp_waiters *w, char *err, size_t errcap);
/* Wakes every waiter with HP_WAIT_SHUTDOWN and refuses new ones; returns
 * when every waiter has left or after grace_ms. */
void hp_waiters_shutdown(hp_waiters *w, int grace_ms);
/* Stops the threads and frees the registry (after shutdown). */
void hp_waiters_free(hp_waiters *w);

/* Longest waiter key, terminator included. */
#define HP_WAIT_KEY_MAX 64

/* Registers a waiter under key (an approval id or "team:<id>", shorter than
 * HP_WAIT_KEY_MAX) on the connection's socket.
 * HP_ERR_UNAVAILABLE when the registry is full, stopping, or has no working
 * wake source (PostgreSQL LISTEN and Redis both down). */
HP_MUSTCHECK hp_err hp_waiter_begin(hp_waiters *w, const char *key, struct mg_connection *conn,
                                    hp_waiter **out);
/* Sleeps until a wake, the client leaving, shutdown, or deadline_ms
 * (monotonic). Each wake is reported once. */
hp_wait_result hp_waiter_wait(hp_waiter *wt, int64_t deadline_ms);
/* Unregisters and frees the waiter. */
void hp_waiter_end(hp_waiter *wt);

/* Wakes, in this process, the waiters of every key the wake message msg
 * names (keys separated by spaces). */
void hp_waiters_wake(hp_waiters *w, const char *msg);

/* Publishes the wake message of row (its approval and its team, and for a
 * closed approval its agent's inbox key) to every replica through Redis; a
 * no-op when redis is NULL. NOTIFY already travels with a decision's
 * commit. */
void hp_waiters_publish(hp_redis *redis, const hp_approval_row *row);

/* Publishes a wake message (keys separated by spaces, such as
 * "team:<id>" or "agent:<id>") to every replica through Redis; a no-op when
 * redis is NULL. */
void hp_waiters_publish_msg(hp_redis *redis, const char *msg);

/* Waiters currently held (the waiters gauge). */
int hp_waiters_count(hp_waiters *w);

/* Whether the PostgreSQL LISTEN and Redis subscriptions are up. */
bool hp_waiters_pg_up(hp_waiters *w);
bool hp_waiters_redis_up(hp_waiters *w);

#endif
