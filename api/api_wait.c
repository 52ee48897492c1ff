/*
 * api_wait: the waiter registry; see api_wait.h and docs/internals/waiters.md.
 *
 * Invariants: every field of a waiter and the tables are guarded by w->mu;
 * a waiter is in the id table and (when its socket was found) in the epoll
 * set from hp_waiter_begin until hp_waiter_end, and hp_waiter_end removes it
 * from epoll before the request handler returns, so the watcher never sees a
 * socket that civetweb has closed or reused.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "api_wait.h"
#include "hp_crypto.h"
#include "hp_db.h"
#include "hp_log.h"
#include "hp_mem.h"
#include "hp_str.h"
#include "hp_time.h"

#define HP_WAIT_BUCKETS 4096

struct hp_waiter {
    hp_waiters *reg;
    char key[HP_WAIT_KEY_MAX];
    pthread_cond_t cv;
    unsigned pending; /* wakes not yet reported */
    bool gone;        /* the client hung up */
    int fd;           /* the client socket, -1 when not found */
    unsigned bucket;
    hp_waiter *prev, *next;
};

struct hp_waiters {
    char *database_url;
    char *redis_url;
    int db_timeout_ms;
    int max_waiters;
    pthread_mutex_t mu;
    pthread_cond_t drained; /* signalled when count drops, for shutdown */
    hp_waiter *buckets[HP_WAIT_BUCKETS];
    hp_waiter **by_fd; /* the waiter watching each socket */
    int by_fd_len;
    int count;
    bool stopping;
    bool pg_ok, redis_ok;
    int epfd;
    int stopfd; /* eventfd: readable once the threads must exit */
    pthread_t pg_thread, redis_thread, watch_thread;
    bool started, redis_started;
};

/* ---- the registry ---------------------------------------------------------- */

static unsigned hp__hash(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % HP_WAIT_BUCKETS;
}

hp_waiters *hp_waiters_new(const char *database_url, const char *redis_url, int db_timeout_ms,
                           int max_waiters)
{
    hp_waiters *w = hp_xcalloc(1, sizeof(*w));
    pthread_condattr_t ca;
    struct rlimit rl;

    w->database_url = hp_xstrdup(database_url);
    w->redis_url = redis_url ? hp_xstrdup(redis_url) : NULL;
    w->db_timeout_ms = db_timeout_ms;
    w->max_waiters = max_waiters;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->drained, &ca);
    pthread_condattr_destroy(&ca);
    w->by_fd_len = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (rlim_t)w->by_fd_len)
        w->by_fd_len = (int)rl.rlim_cur;
    w->by_fd = hp_xcalloc((size_t)w->by_fd_len, sizeof(*w->by_fd));
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return w;
}

/* Marks every waiter (mu held) with a wake; used after a wake source
 * reconnects, since notifications sent while it was away are lost. */
static void hp__wake_all_locked(hp_waiters *w)
{
    for (int b = 0; b < HP_WAIT_BUCKETS; b++)
        for (hp_waiter *wt = w->buckets[b]; wt; wt = wt->next) {
            wt->pending++;
            pthread_cond_signal(&wt->cv);
        }
}

void hp_waiters_wake(hp_waiters *w, const char *msg)
{
    pthread_mutex_lock(&w->mu);
    while (*msg != '\0') {
        size_t n = strcspn(msg, " ");
        char key[HP_WAIT_KEY_MAX];

        if (n > 0 && n < sizeof(key)) {
            memcpy(key, msg, n);
            key[n] = '\0';
            for (hp_waiter *wt = w->buckets[hp__hash(key)]; wt; wt = wt->next)
                if (strcmp(wt->key, key) == 0) {
                    wt->pending++;
                    pthread_cond_signal(&wt->cv);
                }
        }
        msg += n;
        msg += strspn(msg, " ");
    }
    pthread_mutex_unlock(&w->mu);
}

int hp_waiters_count(hp_waiters *w)
{
    int n;
    pthread_mutex_lock(&w->mu);
    n = w->count;
    pthread_mutex_unlock(&w->mu);
    return n;
}

bool hp_waiters_pg_up(hp_waiters *w)
{
    bool up;
    pthread_mutex_lock(&w->mu);
    up = w->pg_ok;
    pthread_mutex_unlock(&w->mu);
    return up;
}

bool hp_waiters_redis_up(hp_waiters *w)
{
    bool up;
    pthread_mutex_lock(&w->mu);
    up = w->redis_ok;
    pthread_mutex_unlock(&w->mu);
    return up;
}

/* civetweb has no call that returns a connection's socket. The socket lives
 * in the connection struct shortly after the request and response info, so
 * look for an int there that is a socket whose peer and local ports are this
 * request's; the match is verified with getpeername/getsockname, so a layout
 * change can only make the search fail (the waiter then has no hang-up
 * detection and ends at its deadline), never pick a wrong socket. */
static int hp__conn_fd(struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const unsigned char *base = (const unsigned char *)ri + sizeof(struct mg_request_info) +
                                sizeof(struct mg_response_info);

    for (size_t off = 0; off < 96; off += sizeof(int)) {
        struct sockaddr_storage peer, local;
        socklen_t pl = sizeof(peer), ll = sizeof(local);
        int fd, pport, lport;

        memcpy(&fd, base + off, sizeof(fd));
        if (fd < 3 || fd > (1 << 22))
            continue;
        if (getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 ||
            getsockname(fd, (struct sockaddr *)&local, &ll) != 0)
            continue;
        if (peer.ss_family == AF_INET) {
            pport = ntohs(((struct sockaddr_in *)&peer)->sin_port);
            lport = ntohs(((struct sockaddr_in *)&local)->sin_port);
        } else if (peer.ss_family == AF_INET6) {
            pport = ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
            lport = ntohs(((struct sockaddr_in6 *)&local)->sin6_port);
        } else {
            continue;
        }
        if (pport == ri->remote_port && lport == ri->server_port)
            return fd;
    }
    return -1;
}

hp_err hp_waiter_begin(hp_waiters *w, const char *key, struct mg_connection *conn, hp_waiter **out)
{
    hp_waiter *wt;
    pthread_condattr_t ca;
    int fd = conn ? hp__conn_fd(conn) : -1;

    pthread_mutex_lock(&w->mu);
    if (w->stopping || w->count >= w->max_waiters || (!w->pg_ok && !w->redis_ok)) {
        pthread_mutex_unlock(&w->mu);
        return HP_ERR_UNAVAILABLE;
    }
    wt = hp_xcalloc(1, sizeof(*wt));
    wt->reg = w;
    hp_strlcpy(wt->key, key, sizeof(wt->key));
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wt->cv, &ca);
    pthread_condattr_destroy(&ca);
    wt->bucket = hp__hash(wt->key);
    wt->next = w->buckets[wt->bucket];
    if (wt->next)
        wt->next->prev = wt;
    w->buckets[wt->bucket] = wt;
    w->count++;
    wt->fd = -1;
    if (fd >= 0 && fd < w->by_fd_len && w->by_fd[fd] == NULL) {
        struct epoll_event ev = {.events = EPOLLRDHUP | EPOLLONESHOT, .data.fd = fd};
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
            wt->fd = fd;
            w->by_fd[fd] = wt;
        }
    }
    pthread_mutex_unlock(&w->mu);
    *out = wt;
    return HP_OK;
}

hp_wait_result hp_waiter_wait(hp_waiter *wt, int64_t deadline_ms)
{
    hp_waiters *w = wt->reg;
    hp_wait_result res;
    struct timespec ts;

    ts.tv_sec = (time_t)(deadline_ms / 1000);
    ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        if (w->stopping) {
            res = HP_WAIT_SHUTDOWN;
            break;
        }
        if (wt->gone) {
            res = HP_WAIT_GONE;
            break;
        }
        if (wt->pending > 0) {
            wt->pending = 0;
            res = HP_WAIT_WOKEN;
            break;
        }
        if (pthread_cond_timedwait(&wt->cv, &w->mu, &ts) == ETIMEDOUT && wt->pending == 0 &&
            !wt->gone && !w->stopping) {
            res = HP_WAIT_TIMEOUT;
            break;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return res;
}

void hp_waiter_end(hp_waiter *wt)
{
    hp_waiters *w;

    if (wt == NULL)
        return;
    w = wt->reg;
    pthread_mutex_lock(&w->mu);
    if (wt->fd >= 0) {
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, wt->fd, NULL);
        w->by_fd[wt->fd] = NULL;
    }
    if (wt->prev)
        wt->prev->next = wt->next;
    else
        w->buckets[wt->bucket] = wt->next;
    if (wt->next)
        wt->next->prev = wt->prev;
    w->count--;
    pthread_cond_broadcast(&w->drained);
    pthread_mutex_unlock(&w->mu);
    pthread_cond_destroy(&wt->cv);
    free(wt);
}

/* ---- wake sources ---------------------------------------------------------- */

/* Sleeps ms unless the stop event fires; returns true when stopping. */
static bool hp__pause(hp_waiters *w, int ms)
{
    struct pollfd p = {.fd = w->stopfd, .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

static void hp__set_source(hp_waiters *w, bool *flag, bool ok)
{
    pthread_mutex_lock(&w->mu);
    *flag = ok;
    /* Up or down, every waiter re-checks: a notification may have been lost
     * while the source was away. */
    hp__wake_all_locked(w);
    pthread_mutex_unlock(&w->mu);
}

static void *hp__pg_main(void *arg)
{
    hp_waiters *w = arg;
    int backoff = 100;

    while (!hp__pause(w, 0)) {
        PGconn *pg = NULL;
        PGresult *r;
        char err[HP_ERRBUF];

        if (hp_db_connect(w->database_url, w->db_timeout_ms, &pg, err, sizeof(err)) != HP_OK) {
            hp_log_warn("could not listen for wakeups", "source", "postgresql", "reason", err);
            if (hp__pause(w, backoff))
                break;
            backoff = backoff < 5000 ? backoff * 2 : 5000;
            continue;
        }
        r = PQexec(pg, "LISTEN hp_approval");
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            PQclear(r);
            PQfinish(pg);
            if (hp__pause(w, backoff))
                break;
            continue;
        }
        PQclear(r);
        backoff = 100;
        hp__set_source(w, &w->pg_ok, true);
        hp_log_info("listening for wakeups", "source", "postgresql");
        for (;;) {
            struct pollfd p[2] = {{.fd = PQsocket(pg), .events = POLLIN},
                                  {.fd = w->stopfd, .events = POLLIN}};
            PGnotify *n;
            int rc = poll(p, 2, 30000);

            if (rc < 0 && errno != EINTR)
                break;
            if (p[1].revents)
                goto done;
            if (rc == 0) {
                /* Idle for 30 s: prove the connection still works. */
                r = PQexec(pg, "SELECT 1");
                bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
                PQclear(r);
                if (!ok)
                    break;
            }
            if (!PQconsumeInput(pg))
                break;
            while ((n = PQnotifies(pg)) != NULL) {
                if (n->extra[0] != '\0')
                    hp_waiters_wake(w, n->extra);
                PQfreemem(n);
            }
        }
        hp_log_warn("lost the wakeup connection", "source", "postgresql");
        hp__set_source(w, &w->pg_ok, false);
        PQfinish(pg);
        continue;
    done:
        PQfinish(pg);
        break;
    }
    return NULL;
}

static redisContext *hp__redis_subscribe(hp_waiters *w, char *err, size_t errcap)
{
    char host[256], pw[256];
    int port, db;
    struct timeval tv = {w->db_timeout_ms / 1000, (w->db_timeout_ms % 1000) * 1000};
    redisContext *c;
    redisReply *rep;

    if (hp_redis_parse_url(w->redis_url, host, sizeof(host), &port, pw, sizeof(pw), &db, err,
                           errcap) != HP_OK)
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
        rep = redisCommand(c, "AUTH %s", pw);
        bool ok = rep && rep->type != REDIS_REPLY_ERROR;
        if (rep)
            freeReplyObject(rep);
        if (!ok) {
            hp_err_set(err, errcap, "could not authenticate to redis");
            redisFree(c);
            return NULL;
        }
    }
    rep = redisCommand(c, "SUBSCRIBE hp:approval");
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

static void *hp__redis_main(void *arg)
{
    hp_waiters *w = arg;
    int backoff = 100;

    while (!hp__pause(w, 0)) {
        char err[HP_ERRBUF];
        redisContext *c = hp__redis_subscribe(w, err, sizeof(err));

        if (c == NULL) {
            hp_log_warn("could not listen for wakeups", "source", "redis", "reason", err);
            if (hp__pause(w, backoff))
                break;
            backoff = backoff < 5000 ? backoff * 2 : 5000;
            continue;
        }
        backoff = 100;
        hp__set_source(w, &w->redis_ok, true);
        hp_log_info("listening for wakeups", "source", "redis");
        for (;;) {
            struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN},
                                  {.fd = w->stopfd, .events = POLLIN}};
            void *reply = NULL;
            int rc = poll(p, 2, 30000);

            if (rc < 0 && errno != EINTR)
                break;
            if (p[1].revents) {
                redisFree(c);
                return NULL;
            }
            if (rc == 0) {
                /* Idle: a PING on a subscribed connection proves it lives. */
                if (redisAppendCommand(c, "PING") != REDIS_OK)
                    break;
                int done = 0;
                if (redisBufferWrite(c, &done) != REDIS_OK)
                    break;
                continue;
            }
            if (redisBufferRead(c) != REDIS_OK)
                break;
            while (redisGetReplyFromReader(c, &reply) == REDIS_OK && reply != NULL) {
                redisReply *m = reply;
                if (m->type == REDIS_REPLY_ARRAY && m->elements == 3 &&
                    m->element[0]->type == REDIS_REPLY_STRING &&
                    strcmp(m->element[0]->str, "message") == 0 &&
                    m->element[2]->type == REDIS_REPLY_STRING)
                    hp_waiters_wake(w, m->element[2]->str);
                freeReplyObject(reply);
                reply = NULL;
            }
        }
        hp_log_warn("lost the wakeup connection", "source", "redis");
        hp__set_source(w, &w->redis_ok, false);
        redisFree(c);
    }
    return NULL;
}

static void *hp__watch_main(void *arg)
{
    hp_waiters *w = arg;
    struct epoll_event evs[64];

    for (;;) {
        int n = epoll_wait(w->epfd, evs, 64, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        pthread_mutex_lock(&w->mu);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == w->stopfd) {
                pthread_mutex_unlock(&w->mu);
                return NULL;
            }
            if (fd >= 0 && fd < w->by_fd_len && w->by_fd[fd] != NULL) {
                w->by_fd[fd]->gone = true;
                pthread_cond_signal(&w->by_fd[fd]->cv);
            }
        }
        pthread_mutex_unlock(&w->mu);
    }
    return NULL;
}

hp_err hp_waiters_start(hp_waiters *w, char *err, size_t errcap)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = w->stopfd};

    if (w->epfd < 0 || w->stopfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->stopfd, &ev) != 0) {
        hp_err_set(err, errcap, "could not set up the waiter watcher: %s", strerror(errno));
        return HP_ERR_INTERNAL;
    }
    if (pthread_create(&w->watch_thread, NULL, hp__watch_main, w) != 0 ||
        pthread_create(&w->pg_thread, NULL, hp__pg_main, w) != 0) {
        hp_err_set(err, errcap, "could not start the waiter threads");
        return HP_ERR_INTERNAL;
    }
    w->started = true;
    if (w->redis_url != NULL) {
        if (pthread_create(&w->redis_thread, NULL, hp__redis_main, w) != 0) {
            hp_err_set(err, errcap, "could not start the redis subscriber");
            return HP_ERR_INTERNAL;
        }
        w->redis_started = true;
    }
    return HP_OK;
}

void hp_waiters_shutdown(hp_waiters *w, int grace_ms)
{
    struct timespec ts;
    int64_t deadline = hp_time_mono_ms() + grace_ms;

    ts.tv_sec = (time_t)(deadline / 1000);
    ts.tv_nsec = (long)(deadline % 1000) * 1000000L;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    for (int b = 0; b < HP_WAIT_BUCKETS; b++)
        for (hp_waiter *wt = w->buckets[b]; wt; wt = wt->next)
            pthread_cond_signal(&wt->cv);
    while (w->count > 0)
        if (pthread_cond_timedwait(&w->drained, &w->mu, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&w->mu);
}

void hp_waiters_free(hp_waiters *w)
{
    uint64_t one = 1;

    if (w == NULL)
        return;
    if (w->started) {
        if (write(w->stopfd, &one, sizeof(one)) < 0)
            hp_log_warn("could not signal the waiter threads");
        pthread_join(w->watch_thread, NULL);
        pthread_join(w->pg_thread, NULL);
        if (w->redis_started)
            pthread_join(w->redis_thread, NULL);
    }
    close(w->epfd);
    close(w->stopfd);
    pthread_cond_destroy(&w->drained);
    pthread_mutex_destroy(&w->mu);
    free(w->by_fd);
    free(w->database_url);
    free(w->redis_url);
    free(w);
}

void hp_waiters_publish_msg(hp_redis *redis, const char *msg)
{
    redisReply *rep = NULL;
    char err[HP_ERRBUF];
    const char *argv[] = {"PUBLISH", "hp:approval", msg};

    if (redis == NULL)
        return;
    if (hp_redis_cmd(redis, &rep, 3, argv, NULL, err, sizeof(err)) != HP_OK)
        hp_log_warn("could not publish a wakeup", "reason", err);
    if (rep)
        freeReplyObject(rep);
}

void hp_waiters_publish(hp_redis *redis, const hp_approval_row *row)
{
    char msg[HP_WAKE_MSG_MAX];

    if (redis == NULL)
        return;
    /* A create wakes the team's views only; a close also wakes the agent's
     * inbox streams (its decision or timeout default was recorded there). */
    if (strcmp(row->status, "pending") == 0)
        hp_approval_created_wake_msg(row->team_id, msg, sizeof(msg));
    else
        hp_approval_wake_msg_agent(row->id, row->team_id, row->agent_id, msg, sizeof(msg));
    hp_waiters_publish_msg(redis, msg);
}
