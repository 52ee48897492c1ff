/*
 * hp_ratelimit: sliding windows in Redis or PostgreSQL; see hp_ratelimit.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "hp_crypto.h"
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

/* The script's answer rep into out; rep is freed. */
static hp_err hp__hit_reply(redisReply *rep, hp_ratelimit_result *out, char *err, size_t errcap)
{
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
    hp__hit h;
    redisReply *rep = NULL;
    hp_err rc = HP_ERR_UNAVAILABLE;

    memset(out, 0, sizeof(*out));
    hp__hit_init(&h, agent_id, max, window_ms);
    if (redis != NULL) {
        rc = hp_redis_cmd(redis, &rep, 7, h.argv, NULL, err, errcap);
        /* Not in this server's script cache (a restart, a failover, SCRIPT
         * FLUSH): EVAL runs it and caches it for the next EVALSHA. */
        if (rc == HP_ERR_INTERNAL && strstr(err, "NOSCRIPT") != NULL) {
            h.argv[0] = "EVAL";
            h.argv[1] = hp__lua;
            rc = hp_redis_cmd(redis, &rep, 7, h.argv, NULL, err, errcap);
        }
        if (rc == HP_OK)
            rc = hp__hit_reply(rep, out, err, errcap);
    }
    /* Redis not configured, unreachable, or failing the hit: PostgreSQL
     * counts it instead. */
    if (rc != HP_OK)
        rc = hp__pg_hit(c, agent_id, max, window_ms, out, err, errcap);
    return rc;
}
