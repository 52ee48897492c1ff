/*
 * hp_redis: a small pool of hiredis connections with connect and command
 * timeouts, for request-path commands (rate limits, publishes). A broken
 * connection is dropped and reopened on next use; a Redis outage costs a
 * caller at most the timeout and shows as HP_ERR_UNAVAILABLE, so callers can
 * fall back to PostgreSQL. Thread-safe. Subscriptions are not done here.
 */
#ifndef HP_REDIS_H
#define HP_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "hp_err.h"

typedef struct hp_redis hp_redis;

/* Parses url ("redis://[:password@]host[:port][/db]") and returns a pool of at
 * most size connections, opened lazily; NULL with a reason in err when the
 * URL is malformed. */
hp_redis *hp_redis_new(const char *url, int size, int timeout_ms, char *err, size_t errcap);
void hp_redis_free(hp_redis *r);

/* Runs one command (argv form). On success *reply is the reply, which the
 * caller frees with freeReplyObject; a Redis error reply is returned as
 * HP_ERR_INTERNAL. HP_ERR_UNAVAILABLE when Redis cannot be reached in time. */
HP_MUSTCHECK hp_err hp_redis_cmd(hp_redis *r, redisReply **reply, int argc, const char **argv,
                                 const size_t *argvlen, char *err, size_t errcap);

/* One command of hp_redis_pipeline: argv in, the outcome out. */
typedef struct hp_redis_cmdv {
    int argc;
    const char **argv;
    const size_t *argvlen; /* NULL: argv are C strings */
    redisReply *reply;     /* out, HP_OK only; the caller frees it */
    hp_err rc;             /* out, as hp_redis_cmd's */
    char err[HP_ERRBUF];   /* out, when rc is not HP_OK */
} hp_redis_cmdv;

/* Runs the n commands in one pipeline on one connection: one round trip
 * however many, replies in order, each command's outcome in its entry (an
 * error reply fails that command alone). Returns HP_OK when every command
 * got a reply, HP_ERR_UNAVAILABLE when Redis could not be reached in time
 * (every command without a reply has that rc). */
HP_MUSTCHECK hp_err hp_redis_pipeline(hp_redis *r, hp_redis_cmdv *cmds, int n);

/* PUBLISHes the n messages msgs on channel in one pipeline: one round trip
 * however many. HP_ERR_UNAVAILABLE when Redis cannot be reached in time (some
 * may have been published), HP_ERR_INTERNAL on an error reply. */
HP_MUSTCHECK hp_err hp_redis_publish_many(hp_redis *r, const char *channel, const char *const *msgs,
                                          int n, char *err, size_t errcap);

/* Host, port, password and db of a URL, for callers that open their own
 * connection (subscribers). Strings are copied into the caller's buffers. */
HP_MUSTCHECK hp_err hp_redis_parse_url(const char *url, char *host, size_t hostcap, int *port,
                                       char *password, size_t pwcap, int *db, char *err,
                                       size_t errcap);

#endif
