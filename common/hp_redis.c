/*
 * hp_redis: the request-path Redis pool. URLs are parsed with libcurl's URL
 * API; connections are opened with a timeout, authenticated and switched to
 * the right database, and dropped after any I/O error so the next call
 * reconnects.
 */
#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <curl/curl.h>

#include "hp_mem.h"
#include "hp_redis.h"
#include "hp_str.h"
#include "hp_time.h"

struct hp_redis {
    char host[256];
    int port;
    char password[256];
    int db;
    int timeout_ms;
    int size;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    redisContext **idle; /* stack of idle open connections */
    int nidle;
    int out;               /* connections handed out or being opened */
    int64_t down_until_ms; /* after a failed connect, fail fast until then */
};

hp_err hp_redis_parse_url(const char *url, char *host, size_t hostcap, int *port, char *password,
                          size_t pwcap, int *db, char *err, size_t errcap)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *h = NULL, *p = NULL, *pw = NULL, *path = NULL;
    hp_err rc = HP_ERR_CONFIG;
    long long v;

    if (u == NULL)
        return HP_ERR_NOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        strcmp(scheme, "redis") != 0 || curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
        hp_err_set(err, errcap, "redis url must look like redis://[:password@]host[:port][/db]");
        goto out;
    }
    *port = 6379;
    if (curl_url_get(u, CURLUPART_PORT, &p, 0) == CURLUE_OK && !hp_parse_ll(p, 1, 65535, &v)) {
        hp_err_set(err, errcap, "redis url has a bad port");
        goto out;
    } else if (p != NULL) {
        *port = (int)v;
    }
    password[0] = '\0';
    if (curl_url_get(u, CURLUPART_PASSWORD, &pw, CURLU_URLDECODE) == CURLUE_OK)
        hp_strlcpy(password, pw, pwcap);
    *db = 0;
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK && strcmp(path, "/") != 0 &&
        path[0] != '\0') {
        if (!hp_parse_ll(path + 1, 0, 1000, &v)) {
            hp_err_set(err, errcap, "redis url path must be a database number");
            goto out;
        }
        *db = (int)v;
    }
    /* Strip IPv6 brackets: hiredis wants the bare address. */
    if (h[0] == '[') {
        size_t n = strlen(h);
        h[n - 1] = '\0';
        hp_strlcpy(host, h + 1, hostcap);
    } else {
        hp_strlcpy(host, h, hostcap);
    }
    rc = HP_OK;
out:
    curl_free(scheme);
    curl_free(h);
    curl_free(p);
    curl_free(pw);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

hp_redis *hp_redis_new(const char *url, int size, int timeout_ms, char *err, size_t errcap)
{
    hp_redis *r = hp_xcalloc(1, sizeof(*r));

    if (hp_redis_parse_url(url, r->host, sizeof(r->host), &r->port, r->password,
                           sizeof(r->password), &r->db, err, errcap) != HP_OK) {
        free(r);
        return NULL;
    }
    r->timeout_ms = timeout_ms;
    r->size = size;
    r->idle = hp_xcalloc((size_t)size, sizeof(*r->idle));
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    return r;
}

void hp_redis_free(hp_redis *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->nidle; i++)
        redisFree(r->idle[i]);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r->idle);
    free(r);
}

static bool hp__simple_ok(redisContext *ctx, int argc, const char **argv)
{
    redisReply *rep = redisCommandArgv(ctx, argc, argv, NULL);
    bool ok = rep != NULL && rep->type != REDIS_REPLY_ERROR;
    if (rep)
        freeReplyObject(rep);
    return ok;
}

static redisContext *hp__open(hp_redis *r, char *err, size_t errcap)
{
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
    redisContext *ctx = redisConnectWithTimeout(r->host, r->port, tv);
    char dbs[16];

    if (ctx == NULL || ctx->err) {
        hp_err_set(err, errcap, "could not connect to redis: %s",
                   ctx ? ctx->errstr : "out of memory");
        if (ctx)
            redisFree(ctx);
        return NULL;
    }
    redisSetTimeout(ctx, tv);
    if (r->password[0] != '\0') {
        const char *a[] = {"AUTH", r->password};
        if (!hp__simple_ok(ctx, 2, a)) {
            hp_err_set(err, errcap, "could not authenticate to redis");
            redisFree(ctx);
            return NULL;
        }
    }
    if (r->db != 0) {
        (void)hp_fmt(dbs, sizeof(dbs), "%d", r->db);
        const char *a[] = {"SELECT", dbs};
        if (!hp__simple_ok(ctx, 2, a)) {
            hp_err_set(err, errcap, "could not select redis database %d", r->db);
            redisFree(ctx);
            return NULL;
        }
    }
    return ctx;
}

/* Takes an idle connection (or opens one); NULL with err set when Redis is
 * unreachable. Give it back with hp__put. */
static redisContext *hp__take(hp_redis *r, char *err, size_t errcap)
{
    redisContext *ctx = NULL;

    pthread_mutex_lock(&r->mu);
    if (r->nidle == 0 && hp_time_mono_ms() < r->down_until_ms) {
        /* A connect failed moments ago: answer at once instead of making
         * every request wait for its own connect timeout. */
        pthread_mutex_unlock(&r->mu);
        hp_err_set(err, errcap, "redis is unreachable (retrying shortly)");
        return NULL;
    }
    while (r->nidle == 0 && r->out >= r->size)
        pthread_cond_wait(&r->cv, &r->mu);
    if (r->nidle > 0)
        ctx = r->idle[--r->nidle];
    r->out++;
    pthread_mutex_unlock(&r->mu);

    if (ctx == NULL) {
        ctx = hp__open(r, err, errcap);
        if (ctx == NULL) {
            pthread_mutex_lock(&r->mu);
            r->down_until_ms = hp_time_mono_ms() + 1000;
            r->out--;
            pthread_cond_signal(&r->cv);
            pthread_mutex_unlock(&r->mu);
        }
    }
    return ctx;
}

/* Gives back a connection from hp__take; broken ones are closed. */
static void hp__put(hp_redis *r, redisContext *ctx, bool broken)
{
    if (ctx != NULL && broken) {
        redisFree(ctx);
        ctx = NULL;
    }
    pthread_mutex_lock(&r->mu);
    r->out--;
    if (ctx != NULL)
        r->idle[r->nidle++] = ctx;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

hp_err hp_redis_pipeline(hp_redis *r, hp_redis_cmdv *cmds, int n)
{
    char err[HP_ERRBUF];
    redisContext *ctx;
    bool broken;

    if (n <= 0)
        return HP_OK;
    ctx = hp__take(r, err, sizeof(err));
    broken = ctx == NULL;

    /* Every command goes into the output buffer first; the first read
     * flushes them all. */
    for (int i = 0; i < n && !broken; i++) {
        if (redisAppendCommandArgv(ctx, cmds[i].argc, cmds[i].argv, cmds[i].argvlen) != REDIS_OK) {
            hp_err_set(err, sizeof(err), "redis pipeline failed: %s", ctx->errstr);
            broken = true;
        }
    }
    for (int i = 0; i < n; i++) {
        redisReply *rep = NULL;

        cmds[i].reply = NULL;
        if (!broken && (redisGetReply(ctx, (void **)&rep) != REDIS_OK || rep == NULL)) {
            hp_err_set(err, sizeof(err), "redis pipeline failed: %s", ctx->errstr);
            broken = true;
        }
        if (broken) {
            cmds[i].rc = HP_ERR_UNAVAILABLE;
            hp_strlcpy(cmds[i].err, err, sizeof(cmds[i].err));
        } else if (rep->type == REDIS_REPLY_ERROR) {
            hp_err_set(cmds[i].err, sizeof(cmds[i].err), "redis error: %.*s", (int)rep->len,
                       rep->str);
            cmds[i].rc = HP_ERR_INTERNAL;
            freeReplyObject(rep);
        } else {
            cmds[i].rc = HP_OK;
            cmds[i].reply = rep;
        }
    }
    if (ctx != NULL)
        hp__put(r, ctx, broken);
    return broken ? HP_ERR_UNAVAILABLE : HP_OK;
}

hp_err hp_redis_cmd(hp_redis *r, redisReply **reply, int argc, const char **argv,
                    const size_t *argvlen, char *err, size_t errcap)
{
    hp_redis_cmdv cmd = {.argc = argc, .argv = argv, .argvlen = argvlen};

    *reply = NULL;
    if (hp_redis_pipeline(r, &cmd, 1) != HP_OK || cmd.rc != HP_OK) {
        hp_strlcpy(err, cmd.err, errcap);
        return cmd.rc;
    }
    *reply = cmd.reply;
    return HP_OK;
}

hp_err hp_redis_publish_many(hp_redis *r, const char *channel, const char *const *msgs, int n,
                             char *err, size_t errcap)
{
    hp_redis_cmdv *cmds = hp_xcalloc(n > 0 ? (size_t)n : 1, sizeof(*cmds));
    const char **argv = hp_xcalloc(n > 0 ? (size_t)n * 3 : 1, sizeof(*argv));
    hp_err rc, first = HP_OK;

    for (int i = 0; i < n; i++) {
        argv[3 * i] = "PUBLISH";
        argv[3 * i + 1] = channel;
        argv[3 * i + 2] = msgs[i];
        cmds[i].argc = 3;
        cmds[i].argv = argv + 3 * i;
    }
    rc = hp_redis_pipeline(r, cmds, n);
    for (int i = 0; i < n; i++) {
        if (cmds[i].rc != HP_OK && first == HP_OK) {
            first = cmds[i].rc;
            hp_strlcpy(err, cmds[i].err, errcap);
        }
        if (cmds[i].reply != NULL)
            freeReplyObject(cmds[i].reply);
    }
    free(argv);
    free(cmds);
    return rc != HP_OK ? rc : first;
}
