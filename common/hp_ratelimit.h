/*
 * hp_ratelimit: the per-agent sliding-window create limit of seed 003
 * (AGENT_CREATE_RATE_LIMIT_MAX per AGENT_CREATE_RATE_LIMIT_WINDOW_MS). The
 * window lives in Redis when configured (a sorted set, trimmed and appended by
 * one Lua script using Redis's own clock, sent by its SHA-1 with EVALSHA and
 * reloaded with EVAL only when Redis answers NOSCRIPT) and in PostgreSQL otherwise (one
 * row per agent, trimmed and appended under its row lock), so every API
 * replica shares it. When Redis is configured but unreachable, PostgreSQL
 * counts instead. Blocks on the store; thread-safe.
 */
#ifndef HP_RATELIMIT_H
#define HP_RATELIMIT_H

#include <stdbool.h>

#include "hp_db.h"
#include "hp_err.h"
#include "hp_redis.h"

typedef struct hp_ratelimit_result {
    bool allowed;
    long retry_after_ms; /* when !allowed: until the oldest hit leaves the window */
    bool used_redis;
} hp_ratelimit_result;

/* Records one create attempt for agent_id if the window has room. redis may
 * be NULL. Errors only when the fallback store fails too. */
HP_MUSTCHECK hp_err hp_ratelimit_hit(hp_redis *redis, hp_dbconn *c, const char *agent_id, int max,
                                     int window_ms, hp_ratelimit_result *out, char *err,
                                     size_t errcap);

#endif
