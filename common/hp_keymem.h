/*
 * hp_keymem: a replica's memory of the API keys that recently created
 * approvals, so that a create can skip its key lookup (docs/internals/
 * batching.md, "Creates from a remembered key").
 *
 * An entry is the whole lookup answer (hp_key_row) for one key prefix and
 * X-Agent-Id, kept only for a key that checked out: found, not revoked, its
 * agent resolved, its team without a quota. Memory is never the authority:
 * the create's own statement checks the key again (not revoked, its team
 * still without a quota, no agent of its team given new timeout defaults
 * since: teams.agents_rev) and creates nothing when it fails, and the
 * caller then looks the key up as usual. What the memory holds besides that never changes for a
 * key (its team, test mode, hash and agent). The caller
 * still compares the presented key's hash with the remembered one.
 *
 * A fixed table of slots, each named by a hash of its prefix and agent
 * header; a new entry replaces whatever held its slot. Entries older than
 * the time to live are not answered. Thread-safe (one mutex).
 */
#ifndef HP_KEYMEM_H
#define HP_KEYMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "hp_pool.h"
#include "hp_store_auth.h"

typedef struct hp_keymem hp_keymem;

/* slots > 0, ttl_ms > 0; never NULL. */
hp_keymem *hp_keymem_new(int slots, int64_t ttl_ms);
void hp_keymem_free(hp_keymem *m);

/* Remembers k (its strings copied) for prefix and agent_hdr (NULL: none),
 * as of now_ms (a monotonic clock). */
void hp_keymem_put(hp_keymem *m, const char *prefix, const char *agent_hdr, const hp_key_row *k,
                   int64_t now_ms);

/* The remembered row for prefix and agent_hdr, no older than the time to
 * live at now_ms, into *out (strings copied into pool). */
bool hp_keymem_get(hp_keymem *m, const char *prefix, const char *agent_hdr, hp_pool *pool,
                   hp_key_row *out, int64_t now_ms);

/* Forgets the entry for prefix and agent_hdr, if any. */
void hp_keymem_forget(hp_keymem *m, const char *prefix, const char *agent_hdr);

/* Counts a create made with a remembered key: its insert confirmed the key
 * (so the create needed no lookup), or refused it. */
void hp_keymem_count(hp_keymem *m, bool confirmed);

typedef struct hp_keymem_stats {
    uint64_t hits;    /* creates whose insert confirmed a remembered key */
    uint64_t refused; /* creates whose insert refused it */
} hp_keymem_stats;

void hp_keymem_stats_get(hp_keymem *m, hp_keymem_stats *out);

#endif
