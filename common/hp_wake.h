/*
 * hp_wake: the wake sources of every process, in one place. A wake source is
 * a connection that tells a sleeping process that something changed:
 *
 * - a PostgreSQL LISTEN connection (channel hp_approval for the API's
 *   waiters, hp_jobs for holdpoint-delivery, hp_expiry for holdpoint-timeout),
 *   opened outside the pool because it lives as long as its process;
 * - a Redis subscription to hp:approval, and the PUBLISH that feeds it.
 *
 * The workers sleep in poll() on a LISTEN socket beside their other
 * descriptors, so they use the connection calls directly (hp_wake_listen,
 * hp_wake_drain). The API sleeps on nothing: hp_wake_source runs a thread
 * that keeps one source connected (reconnecting with backoff, proving an
 * idle connection every 30 s) and hands each message and each change of
 * state to the caller's sink. A wake message is keys separated by spaces
 * (hp_approval_wake_msg), a decision's followed by its row
 * (HP_WAKE_ROW_PREFIX); this module carries it and does not read it.
 */
#ifndef HP_WAKE_H
#define HP_WAKE_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "hp_err.h"
#include "hp_redis.h"

/* The NOTIFY channel and the Redis channel that carry approval wake
 * messages. */
#define HP_WAKE_PG_CHANNEL    "hp_approval"
#define HP_WAKE_REDIS_CHANNEL "hp:approval"

/* A decision's wake message is its keys, then a space and this prefix,
 * then the closed row (hp_store_approval_row_msg); the API's registry
 * hands the row to its row handler before it wakes the keys
 * (docs/internals/waiters.md). No key contains it. */
#define HP_WAKE_ROW_PREFIX "="

/* On Redis a row travels sealed: "<keys> ~<seal> =<row>", the seal being
 * the lower-case hex of HMAC-SHA256(hp_wake_key, "<keys> =<row>"). Whoever
 * reaches Redis can publish, so a subscriber acts on a row only when its
 * seal holds (a NOTIFY needs the database itself and is not sealed). */
#define HP_WAKE_SEAL_PREFIX "~"
#define HP_WAKE_SEAL_HEX    64

/* The key of the seals: HKDF-SHA256 of HOLDPOINT_SECRET_KEY's 32 bytes, no
 * salt, info "holdpoint wake messages v1". Pure. */
void hp_wake_key(const unsigned char secret_key[32], unsigned char key[32]);

/* The Redis form of wake message msg: msg itself when it carries no row,
 * else with its row sealed under key (see HP_WAKE_SEAL_PREFIX), or without
 * a key (NULL) its keys alone. Heap string (caller frees). Pure. */
char *hp_wake_seal(const unsigned char *key, const char *msg);

/* What a subscriber acts on for a Redis payload (heap string, caller
 * frees): the payload itself when it carries no row; "<keys> =<row>" when
 * the row's seal holds under key; the keys alone, with *forged set, when
 * the row has no seal, a malformed one or one that does not hold (or key is
 * NULL): its waiters then read for themselves, as after any wake. Pure. */
char *hp_wake_open(const unsigned char *key, const char *payload, bool *forged);

/* Called with each message's payload (borrowed for the call). */
typedef void (*hp_wake_msg_fn)(void *ctx, const char *payload);

/* Opens a connection to url outside any pool and runs LISTEN channel on it
 * (channel is a trusted identifier). *out is the connection, non-blocking;
 * the caller PQfinish()es it. url must lead to PostgreSQL itself
 * (HOLDPOINT_DATABASE_DIRECT_URL): when it goes through a pooler (see
 * hp_db_pooled) a warning is logged, since in transaction mode no
 * notification would arrive. HP_ERR_UNAVAILABLE with a reason when
 * PostgreSQL cannot be reached. Blocks up to timeout_ms. Any thread. */
HP_MUSTCHECK hp_err hp_wake_listen(const char *url, const char *channel, int timeout_ms,
                                   PGconn **out, char *err, size_t errcap);

/* Reads what arrived on a LISTEN connection and calls fn (may be NULL) with
 * each notification's payload; *count gets how many there were.
 * HP_ERR_UNAVAILABLE when the connection is broken (the caller closes it and
 * reconnects). Never blocks. */
HP_MUSTCHECK hp_err hp_wake_drain(PGconn *pg, hp_wake_msg_fn fn, void *ctx, int *count, char *err,
                                  size_t errcap);

/* Reconnect backoff: the delay after the n-th consecutive failure (n >= 1),
 * doubling from 100 ms up to 5 s. Pure. */
int hp_wake_backoff_ms(int n);

/* Publishes msg on the Redis channel hp:approval through the pool redis (a
 * batch goes through hp_redis_publish_many with HP_WAKE_REDIS_CHANNEL).
 * HP_ERR_UNAVAILABLE (reason in err) when Redis cannot be reached; the
 * caller logs it, since NOTIFY carries decisions anyway. Blocks up to the
 * pool's timeout. Thread-safe. */
HP_MUSTCHECK hp_err hp_wake_publish(hp_redis *redis, const char *msg, char *err, size_t errcap);

/* ---- a source kept connected by its own thread ------------------------ */

typedef enum { HP_WAKE_POSTGRESQL = 0, HP_WAKE_REDIS } hp_wake_kind;

/* Where a source delivers: message for each payload, state when the source
 * comes up or goes down (messages sent meanwhile are lost, so a listener
 * should re-check whatever it waits for on both). Both run on the source's
 * thread and must not block for long. */
typedef struct hp_wake_sink {
    hp_wake_msg_fn message;
    void (*state)(void *ctx, hp_wake_kind kind, bool up);
    void *ctx;
} hp_wake_sink;

typedef struct hp_wake_source hp_wake_source;

/* Starts a thread that keeps the source of kind connected: LISTEN
 * hp_approval on the PostgreSQL url, or SUBSCRIBE hp:approval on the Redis
 * url. timeout_ms bounds connecting and each command. The source starts
 * down; sink->state reports it up once connected. NULL (reason in err) only
 * when the thread cannot be created. */
hp_wake_source *hp_wake_source_start(hp_wake_kind kind, const char *url, int timeout_ms,
                                     const hp_wake_sink *sink, char *err, size_t errcap);

/* Stops the thread (interrupting a wait or a backoff at once; a connect in
 * progress finishes first), closes the connection and frees s. NULL is
 * fine. */
void hp_wake_source_stop(hp_wake_source *s);

/* "postgresql" or "redis", for logs and metrics. */
const char *hp_wake_kind_name(hp_wake_kind kind);

#endif
