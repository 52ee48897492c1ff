/*
 * hp_ratelimit: sliding windows in Redis or PostgreSQL; see hp_ratelimit.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hp_crypto.h"
#include "hp_mem.h"
#include "hp_ratelimit.h"
#include "hp_store_ratelimit.h"
#include "hp_str.h"

/* KEYS[1] window key; ARGV[1] window ms, ARGV[2] max, ARGV[3] unique member.
 * Returns {1, 0} when recorded, {0, ms until a slot frees} otherwise. */
static const char hp__lua[] =
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "
    "local window = tonumber(ARGV[1]) "
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window) "
    "if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then "
    "  redis.call('ZADD', KEYS[1], now, ARGV[3]) "
    "  redis.call('PEXPIRE', KEYS[1], window) "
    "  return {1, 0} "
    "end "
    "local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES') "
    "return {0, tonumber(oldest[2]) + window - now}";

/* The script's SHA-1 (hex), which Redis names it by: EVALSHA sends these 40
 * characters instead of the whole script on every create. */
static char hp__lua_sha[41];
static pthread_once_t hp__lua_once = PTHREAD_ONCE_INIT;

static void hp__lua_sha_init(void)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (EVP_Digest(hp__lua, strlen(hp__lua), d, &n, EVP_sha1(), NULL) != 1 || n != 20)
        abort();
    hp_hex_encode(d, 20, hp__lua_sha);
}

/* A hit's EVALSHA (or EVAL) in its own buffers. */
typedef struct hp__hit {
    char key[80], win[16], mx[16], member[HP_UUID_LEN + 1];
    const char *argv[7];
} hp__hit;

static void hp__hit_init(hp__hit *h, const char *agent_id, int max, int window_ms)
{
    (void)hp_fmt(h->key, sizeof(h->key), "hp:rl:create:%s", agent_id);
    (void)hp_fmt(h->win, sizeof(h->win), "%d", window_ms);
    (void)hp_fmt(h->mx, sizeof(h->mx), "%d", max);
    hp_uuid_v4(h->member);
    pthread_once(&hp__lua_once, hp__lua_sha_init);
    h->argv[0] = "EVALSHA";
    h->argv[1] = hp__lua_sha;
    h->argv[2] = "1";
    h->argv[3] = h->key;
    h->argv[4] = h->win;
    h->argv[5] = h->mx;
    h->argv[6] = h->member;
}

/* The script's answer in cmd into out; the reply is freed. */
static hp_err hp__hit_reply(hp_redis_cmdv *cmd, hp_ratelimit_result *out, char *err, size_t errcap)
{
    redisReply *rep = cmd->reply;

    cmd->reply = NULL;
    if (cmd->rc != HP_OK) {
        hp_strlcpy(err, cmd->err, errcap);
        return cmd->rc;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        freeReplyObject(rep);
        hp_err_set(err, errcap, "unexpected reply from the rate limit script");
        return HP_ERR_INTERNAL;
    }
    out->allowed = rep->element[0]->integer == 1;
    out->retry_after_ms = (long)rep->element[1]->integer;
    out->used_redis = true;
    freeReplyObject(rep);
    return HP_OK;
}

static hp_err hp__pg_hit(hp_dbconn *c, const char *agent_id, int max, int window_ms,
                         hp_ratelimit_result *out, char *err, size_t errcap)
{
    long long retry_ms = 0;
    hp_err rc =
        hp_store_ratelimit_hit(c, agent_id, max, window_ms, &out->allowed, &retry_ms, err, errcap);

    out->retry_after_ms = (long)retry_ms;
    out->used_redis = false;
    return rc;
}

hp_err hp_ratelimit_hit(hp_redis *redis, hp_dbconn *c, const char *agent_id, int max, int window_ms,
                        hp_ratelimit_result *out, char *err, size_t errcap)
{
    hp_err rc;

    hp_ratelimit_hit_many(redis, c, &agent_id, 1, max, window_ms, out, &rc, err, errcap);
    return rc;
}

void hp_ratelimit_hit_many(hp_redis *redis, hp_dbconn *c, const char *const *agent_ids, int n,
                           int max, int window_ms, hp_ratelimit_result *out, hp_err *rc, char *err,
                           size_t errcap)
{
    size_t cap = n > 0 ? (size_t)n : 1;
    hp__hit *hits = hp_xcalloc(cap, sizeof(*hits));
    hp_redis_cmdv *cmds = hp_xcalloc(cap, sizeof(*cmds));
    int *idx = hp_xcalloc(cap, sizeof(*idx)), again = 0;

    memset(out, 0, (size_t)n * sizeof(*out));
    for (int i = 0; i < n; i++) {
        hp__hit_init(&hits[i], agent_ids[i], max, window_ms);
        cmds[i].argc = 7;
        cmds[i].argv = hits[i].argv;
        rc[i] = HP_ERR_UNAVAILABLE;
    }
    if (redis != NULL) {
        /* When the pipeline broke, the hits answered before the break stand
         * (Redis counted them); the others are counted below instead. */
        hp_err all = hp_redis_pipeline(redis, cmds, n);

        (void)all;
        /* Not in this server's script cache (a restart, a failover, SCRIPT
         * FLUSH): EVAL runs it and caches it for the next EVALSHA. Only the
         * hits refused for that go again, in their order. */
        for (int i = 0; i < n; i++) {
            if (cmds[i].rc == HP_ERR_INTERNAL && strstr(cmds[i].err, "NOSCRIPT") != NULL) {
                hits[i].argv[0] = "EVAL";
                hits[i].argv[1] = hp__lua;
                idx[again] = i;
                cmds[again++] = cmds[i]; /* again <= i: that entry is done */
            } else {
                rc[i] = hp__hit_reply(&cmds[i], &out[i], err, errcap);
            }
        }
        all = hp_redis_pipeline(redis, cmds, again);
        for (int k = 0; k < again; k++)
            rc[idx[k]] = hp__hit_reply(&cmds[k], &out[idx[k]], err, errcap);
    }
    /* Redis not configured, unreachable, or failing a hit: PostgreSQL
     * counts that hit instead. */
    for (int i = 0; i < n; i++) {
        if (rc[i] != HP_OK)
            rc[i] = hp__pg_hit(c, agent_ids[i], max, window_ms, &out[i], err, errcap);
    }
    for (int i = 0; i < n; i++)
        if (cmds[i].reply != NULL)
            freeReplyObject(cmds[i].reply);
    free(idx);
    free(cmds);
    free(hits);
}
