/*
 * hp_keymem: remembered key lookups; see hp_keymem.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hp_keymem.h"
#include "hp_mem.h"

typedef struct hp__entry {
    bool used;
    char *prefix, *agent_hdr; /* agent_hdr "" for none */
    int64_t at_ms;
    hp_key_row k; /* its strings are the entry's */
} hp__entry;

struct hp_keymem {
    pthread_mutex_t mu;
    hp__entry *slots;
    int n;
    int64_t ttl_ms;
    hp_keymem_stats stats;
};

hp_keymem *hp_keymem_new(int slots, int64_t ttl_ms)
{
    hp_keymem *m = hp_xcalloc(1, sizeof(*m));

    pthread_mutex_init(&m->mu, NULL);
    m->n = slots > 0 ? slots : 1;
    m->slots = hp_xcalloc((size_t)m->n, sizeof(*m->slots));
    m->ttl_ms = ttl_ms;
    return m;
}

/* The string fields of k (any may be NULL), so that an entry's copies are
 * made, handed out and freed by one list. */
#define HP__NSTRS 6
static void hp__strs(hp_key_row *k, const char **f[HP__NSTRS])
{
    f[0] = &k->key_id;
    f[1] = &k->team_id;
    f[2] = &k->key_agent_id;
    f[3] = &k->agent_id;
    f[4] = &k->default_timeout_mode;
    f[5] = &k->default_timeout_instruction;
}

static void hp__clear(hp__entry *e)
{
    const char **f[HP__NSTRS];

    hp__strs(&e->k, f);
    for (int i = 0; i < HP__NSTRS; i++)
        free((char *)*f[i]);
    free(e->prefix);
    free(e->agent_hdr);
    memset(e, 0, sizeof(*e));
}

void hp_keymem_free(hp_keymem *m)
{
    if (m == NULL)
        return;
    for (int i = 0; i < m->n; i++)
        hp__clear(&m->slots[i]);
    free(m->slots);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* The slot of prefix and agent_hdr (FNV-1a over both). */
static hp__entry *hp__slot(hp_keymem *m, const char *prefix, const char *agent_hdr)
{
    uint32_t h = 2166136261u;
    const char *parts[] = {prefix, "\n", agent_hdr};

    for (size_t p = 0; p < sizeof(parts) / sizeof(parts[0]); p++)
        for (const unsigned char *s = (const unsigned char *)parts[p]; *s; s++)
            h = (h ^ *s) * 16777619u;
    return &m->slots[h % (uint32_t)m->n];
}

static bool hp__same(const hp__entry *e, const char *prefix, const char *agent_hdr)
{
    return e->used && strcmp(e->prefix, prefix) == 0 && strcmp(e->agent_hdr, agent_hdr) == 0;
}

void hp_keymem_put(hp_keymem *m, const char *prefix, const char *agent_hdr, const hp_key_row *k,
                   int64_t now_ms)
{
    hp__entry fresh = {.used = true, .at_ms = now_ms, .k = *k};
    const char **f[HP__NSTRS];
    hp__entry *e;

    agent_hdr = agent_hdr != NULL ? agent_hdr : "";
    /* Copied before the lock, freed after it. */
    fresh.prefix = hp_xstrdup(prefix);
    fresh.agent_hdr = hp_xstrdup(agent_hdr);
    hp__strs(&fresh.k, f);
    for (int i = 0; i < HP__NSTRS; i++)
        *f[i] = *f[i] != NULL ? hp_xstrdup(*f[i]) : NULL;
    pthread_mutex_lock(&m->mu);
    e = hp__slot(m, prefix, agent_hdr);
    {
        hp__entry old = *e;
        *e = fresh;
        fresh = old;
    }
    pthread_mutex_unlock(&m->mu);
    hp__clear(&fresh);
}

bool hp_keymem_get(hp_keymem *m, const char *prefix, const char *agent_hdr, hp_pool *pool,
                   hp_key_row *out, int64_t now_ms)
{
    hp__entry *e;
    bool ok;

    agent_hdr = agent_hdr != NULL ? agent_hdr : "";
    pthread_mutex_lock(&m->mu);
    e = hp__slot(m, prefix, agent_hdr);
    ok = hp__same(e, prefix, agent_hdr) && now_ms - e->at_ms < m->ttl_ms && now_ms >= e->at_ms;
    if (ok) {
        const char **f[HP__NSTRS];
        *out = e->k;
        hp__strs(out, f);
        for (int k = 0; k < HP__NSTRS; k++)
            *f[k] = *f[k] != NULL ? hp_pool_strdup(pool, *f[k]) : NULL;
    }
    pthread_mutex_unlock(&m->mu);
    return ok;
}

void hp_keymem_forget(hp_keymem *m, const char *prefix, const char *agent_hdr)
{
    hp__entry old = {0};
    hp__entry *e;

    agent_hdr = agent_hdr != NULL ? agent_hdr : "";
    pthread_mutex_lock(&m->mu);
    e = hp__slot(m, prefix, agent_hdr);
    if (hp__same(e, prefix, agent_hdr)) {
        old = *e;
        memset(e, 0, sizeof(*e));
    }
    pthread_mutex_unlock(&m->mu);
    hp__clear(&old);
}

void hp_keymem_count(hp_keymem *m, bool confirmed)
{
    pthread_mutex_lock(&m->mu);
    if (confirmed)
        m->stats.hits++;
    else
        m->stats.refused++;
    pthread_mutex_unlock(&m->mu);
}

void hp_keymem_stats_get(hp_keymem *m, hp_keymem_stats *out)
{
    pthread_mutex_lock(&m->mu);
    *out = m->stats;
    pthread_mutex_unlock(&m->mu);
}
