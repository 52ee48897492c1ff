/*
 * hp_wake: LISTEN connections, the Redis subscription and publish, and the
 * thread that keeps a source connected; see hp_wake.h.
 *
 * A source thread owns its connection; the only state it shares is the stop
 * event, written once by hp_wake_source_stop. Every wait of the thread
 * (on the connection, on the idle timer, in the reconnect backoff) also
 * waits on the stop event, so stopping never waits for a timer. An idle
 * connection is proved every 30 s (SELECT 1, or a PING on the subscribed
 * Redis connection), so a connection that died without the kernel noticing
 * is replaced within that time.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/eventfd.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "hp_crypto.h"
#include "hp_db.h"
#include "hp_log.h"
#include "hp_mem.h"
#include "hp_str.h"
#include "hp_wake.h"

/* Idle time after which a source proves its connection. */
#define HP__WAKE_IDLE_MS 30000

hp_err hp_wake_listen(const char *url, const char *channel, int timeout_ms, PGconn **out, char *err,
                      size_t errcap)
{
    PGconn *pg = NULL;
    PGresult *r;
    char sql[96];
    hp_err rc = hp_db_connect(url, timeout_ms, &pg, err, errcap);

    if (rc != HP_OK)
        return rc;
    (void)hp_fmt(sql, sizeof(sql), "LISTEN %s", channel);
    r = PQexec(pg, sql);
    if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
        const char *m = PQerrorMessage(pg);
        hp_err_set(err, errcap, "could not listen on %s: %.*s", channel, (int)strcspn(m, "\n"), m);
        PQclear(r);
        PQfinish(pg);
        return HP_ERR_UNAVAILABLE;
    }
    PQclear(r);
    /* Through a transaction-mode pooler LISTEN "succeeds" on some server
     * connection that is handed to another client right after, and no
     * notification ever comes back; nothing else would tell. */
    bool pooled = false;
    rc = hp_db_pooled(pg, timeout_ms, &pooled, err, errcap);
    if (rc != HP_OK) {
        PQfinish(pg);
        return rc;
    }
    if (pooled)
        hp_log_warn("the LISTEN connection goes through a connection pooler, where "
                    "notifications never arrive in transaction mode: set "
                    "HOLDPOINT_DATABASE_DIRECT_URL to PostgreSQL itself",
                    "channel", channel);
    PQsetnonblocking(pg, 1);
    *out = pg;
    return HP_OK;
}

hp_err hp_wake_drain(PGconn *pg, hp_wake_msg_fn fn, void *ctx, int *count, char *err, size_t errcap)
{
    PGnotify *n;

    *count = 0;
    if (PQconsumeInput(pg) == 0 || PQstatus(pg) != CONNECTION_OK) {
        const char *m = PQerrorMessage(pg);
        hp_err_set(err, errcap, "lost the listen connection: %.*s", (int)strcspn(m, "\n"), m);
        return HP_ERR_UNAVAILABLE;
    }
    while ((n = PQnotifies(pg)) != NULL) {
        (*count)++;
        if (fn != NULL && n->extra[0] != '\0')
            fn(ctx, n->extra);
        PQfreemem(n);
    }
    return HP_OK;
}

void hp_wake_key(const unsigned char secret_key[32], unsigned char key[32])
{
    static const char info[] = "holdpoint wake messages v1";
    hp_hkdf_sha256(NULL, 0, secret_key, 32, info, sizeof(info) - 1, key, 32);
}

/* Where the row of a wake message starts (its space), or NULL. No key
 * contains the prefix. */
static const char *hp__wake_row(const char *msg)
{
    return strstr(msg, " " HP_WAKE_ROW_PREFIX);
}

/* The seal of "<keys> =<row>" given as its two parts, hex into out. */
static void hp__wake_mac(const unsigned char key[32], const char *keys, size_t klen,
                         const char *row, char out[HP_WAKE_SEAL_HEX + 1])
{
    size_t rlen = strlen(row);
    char *m = hp_xmalloc(klen + rlen + 1);
    unsigned char mac[32];

    memcpy(m, keys, klen);
    memcpy(m + klen, row, rlen + 1);
    hp_hmac_sha256(key, 32, m, klen + rlen, mac);
    hp_hex_encode(mac, sizeof(mac), out);
    free(m);
}

char *hp_wake_seal(const unsigned char *key, const char *msg)
{
    const char *row = hp__wake_row(msg);
    char mac[HP_WAKE_SEAL_HEX + 1];
    size_t klen;

    if (row == NULL)
        return hp_xstrdup(msg);
    klen = (size_t)(row - msg);
    if (key == NULL)
        return hp_xasprintf("%.*s", (int)klen, msg);
    hp__wake_mac(key, msg, klen, row, mac);
    return hp_xasprintf("%.*s " HP_WAKE_SEAL_PREFIX "%s%s", (int)klen, msg, mac, row);
}

char *hp_wake_open(const unsigned char *key, const char *payload, bool *forged)
{
    const char *row = hp__wake_row(payload);
    /* " ~" and the hex, just before the row. */
    const size_t seal = 2 + HP_WAKE_SEAL_HEX;
    char want[HP_WAKE_SEAL_HEX + 1];
    size_t at;
    bool sealed;

    *forged = false;
    if (row == NULL)
        return hp_xstrdup(payload);
    at = (size_t)(row - payload);
    sealed =
        at > seal && payload[at - seal] == ' ' && payload[at - seal + 1] == HP_WAKE_SEAL_PREFIX[0];
    if (key != NULL && sealed) {
        hp__wake_mac(key, payload, at - seal, row, want);
        if (hp_ct_equal(want, payload + at - HP_WAKE_SEAL_HEX, HP_WAKE_SEAL_HEX))
            return hp_xasprintf("%.*s%s", (int)(at - seal), payload, row);
    }
    *forged = true;
    return hp_xasprintf("%.*s", (int)(sealed ? at - seal : at), payload);
}

int hp_wake_backoff_ms(int n)
{
    int ms = 100;

    for (int i = 1; i < n && ms < 5000; i++)
        ms *= 2;
    return ms > 5000 ? 5000 : ms;
}

hp_err hp_wake_publish(hp_redis *redis, const char *msg, char *err, size_t errcap)
{
    return hp_redis_publish_many(redis, HP_WAKE_REDIS_CHANNEL, &msg, 1, err, errcap);
}

const char *hp_wake_kind_name(hp_wake_kind kind)
{
    return kind == HP_WAKE_REDIS ? "redis" : "postgresql";
}

/* ---- source threads -------------------------------------------------------- */

struct hp_wake_source {
    hp_wake_kind kind;
    char *url;
    int timeout_ms;
    hp_wake_sink sink;
    int stopfd; /* eventfd: readable once the thread must exit */
    pthread_t thread;
};

/* Waits up to ms for fd (may be -1) or the stop event. Returns 1 when fd is
 * readable, 0 on timeout, -1 when stopping (or poll failed for good). */
static int hp__wait(hp_wake_source *s, int fd, int ms)
{
    struct pollfd p[2] = {{.fd = s->stopfd, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
    int rc;

    do
        rc = poll(p, fd >= 0 ? 2 : 1, ms);
    while (rc < 0 && errno == EINTR);
    if (rc < 0 || p[0].revents != 0)
        return -1;
    return rc > 0 ? 1 : 0;
}

static void hp__set_state(hp_wake_source *s, bool up)
{
    if (up)
        hp_log_info("listening for wakeups", "source", hp_wake_kind_name(s->kind));
    else
        hp_log_warn("lost the wakeup connection", "source", hp_wake_kind_name(s->kind));
    if (s->sink.state != NULL)
        s->sink.state(s->sink.ctx, s->kind, up);
}

/* Runs one PostgreSQL connection until it breaks (false) or the source
 * stops (true). */
static bool hp__pg_session(hp_wake_source *s, PGconn *pg)
{
    char err[HP_ERRBUF];
    int count;

    for (;;) {
        int ready = hp__wait(s, PQsocket(pg), HP__WAKE_IDLE_MS);
        if (ready < 0)
            return true;
        if (ready == 0) {
            /* Idle for a while: prove the connection still works. */
            if (!hp_db_pg_alive(pg))
                return false;
        }
        if (hp_wake_drain(pg, s->sink.message, s->sink.ctx, &count, err, sizeof(err)) != HP_OK)
            return false;
    }
}

static redisContext *hp__redis_subscribe(hp_wake_source *s, char *err, size_t errcap)
{
    char host[256], pw[256];
    int port, db;
    struct timeval tv = {s->timeout_ms / 1000, (s->timeout_ms % 1000) * 1000};
    redisContext *c;
    redisReply *rep;

    if (hp_redis_parse_url(s->url, host, sizeof(host), &port, pw, sizeof(pw), &db, err, errcap) !=
        HP_OK)
        return NULL;
    c = redisConnectWithTimeout(host, port, tv);
    if (c == NULL || c->err) {
        hp_err_set(err, errcap, "could not connect to redis: %s", c ? c->errstr : "no memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    if (pw[0] != '\0') {
        const char *a[] = {"AUTH", pw};
        rep = redisCommandArgv(c, 2, a, NULL);
        bool ok = rep && rep->type != REDIS_REPLY_ERROR;
        if (rep)
            freeReplyObject(rep);
        if (!ok) {
            hp_err_set(err, errcap, "could not authenticate to redis");
            redisFree(c);
            return NULL;
        }
    }
    /* Pub/sub channels span every database: no SELECT. */
    rep = redisCommand(c, "SUBSCRIBE %s", HP_WAKE_REDIS_CHANNEL);
    if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
        hp_err_set(err, errcap, "could not subscribe: %s", c->errstr);
        if (rep)
            freeReplyObject(rep);
        redisFree(c);
        return NULL;
    }
    freeReplyObject(rep);
    return c;
}

/* Runs one Redis subscription until it breaks (false) or the source stops
 * (true). */
static bool hp__redis_session(hp_wake_source *s, redisContext *c)
{
    for (;;) {
        void *reply = NULL;
        int ready = hp__wait(s, c->fd, HP__WAKE_IDLE_MS);

        if (ready < 0)
            return true;
        if (ready == 0) {
            /* Idle: a PING on a subscribed connection proves it lives; its
             * answer arrives as an ordinary reply. */
            int done = 0;
            if (redisAppendCommand(c, "PING") != REDIS_OK || redisBufferWrite(c, &done) != REDIS_OK)
                return false;
            continue;
        }
        if (redisBufferRead(c) != REDIS_OK)
            return false;
        while (redisGetReplyFromReader(c, &reply) == REDIS_OK && reply != NULL) {
            redisReply *m = reply;
            if (m->type == REDIS_REPLY_ARRAY && m->elements == 3 &&
                m->element[0]->type == REDIS_REPLY_STRING &&
                strcmp(m->element[0]->str, "message") == 0 &&
                m->element[2]->type == REDIS_REPLY_STRING && s->sink.message != NULL)
                s->sink.message(s->sink.ctx, m->element[2]->str);
            freeReplyObject(reply);
            reply = NULL;
        }
    }
}

static void *hp__source_main(void *arg)
{
    hp_wake_source *s = arg;
    int failures = 0;

    for (;;) {
        char err[HP_ERRBUF] = "";
        bool stopped;

        if (s->kind == HP_WAKE_POSTGRESQL) {
            PGconn *pg = NULL;
            if (hp_wake_listen(s->url, HP_WAKE_PG_CHANNEL, s->timeout_ms, &pg, err, sizeof(err)) ==
                HP_OK) {
                failures = 0;
                hp__set_state(s, true);
                stopped = hp__pg_session(s, pg);
                PQfinish(pg);
                if (stopped)
                    return NULL;
                hp__set_state(s, false);
                continue;
            }
        } else {
            redisContext *c = hp__redis_subscribe(s, err, sizeof(err));
            if (c != NULL) {
                failures = 0;
                hp__set_state(s, true);
                stopped = hp__redis_session(s, c);
                redisFree(c);
                if (stopped)
                    return NULL;
                hp__set_state(s, false);
                continue;
            }
        }
        if (failures == 0)
            hp_log_warn("could not listen for wakeups, retrying", "source",
                        hp_wake_kind_name(s->kind), "reason", err);
        if (hp__wait(s, -1, hp_wake_backoff_ms(++failures)) < 0)
            return NULL;
    }
}

hp_wake_source *hp_wake_source_start(hp_wake_kind kind, const char *url, int timeout_ms,
                                     const hp_wake_sink *sink, char *err, size_t errcap)
{
    hp_wake_source *s = hp_xcalloc(1, sizeof(*s));

    s->kind = kind;
    s->url = hp_xstrdup(url);
    s->timeout_ms = timeout_ms;
    s->sink = *sink;
    s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->stopfd < 0 || pthread_create(&s->thread, NULL, hp__source_main, s) != 0) {
        hp_err_set(err, errcap, "could not start the %s wakeup thread", hp_wake_kind_name(kind));
        if (s->stopfd >= 0)
            close(s->stopfd);
        free(s->url);
        free(s);
        return NULL;
    }
    return s;
}

void hp_wake_source_stop(hp_wake_source *s)
{
    uint64_t one = 1;

    if (s == NULL)
        return;
    if (write(s->stopfd, &one, sizeof(one)) < 0)
        hp_log_warn("could not signal a wakeup thread", "source", hp_wake_kind_name(s->kind));
    pthread_join(s->thread, NULL);
    close(s->stopfd);
    free(s->url);
    free(s);
}
