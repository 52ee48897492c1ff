/*
 * hp_store_ratelimit: the SQL of the create rate limit's PostgreSQL window
 * (hp_ratelimit counts there when Redis is not configured or not reachable):
 * one row per agent holding the times of its recent creates.
 */
#ifndef HP_STORE_RATELIMIT_H
#define HP_STORE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "hp_db.h"
#include "hp_err.h"

/* Records one create for agent_id when fewer than max fall inside the last
 * window_ms: *allowed says whether it did; otherwise *retry_ms is how long
 * until the oldest leaves the window. The row is trimmed and appended under
 * its lock, so concurrent creates on every replica count exactly. Blocks on
 * the database. */
HP_MUSTCHECK hp_err hp_store_ratelimit_hit(hp_dbconn *c, const char *agent_id, int max,
                                           int window_ms, bool *allowed, long long *retry_ms,
                                           char *err, size_t errcap);

#endif
