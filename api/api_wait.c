/*
 * api_wait: the waiter registry; see api_wait.h and docs/internals/waiters.md.
 *
 * Invariants: every field of a waiter, the key table, the share counters,
 * the flights (reads shared by waiters) and by_fd are guarded by w->mu; a
 * shared value's reference count changes atomically. A waiter holds its place (count, its
 * team's and its holder's counter) from hp_waiter_begin to hp_waiter_end. A
 * waiter whose socket is watched is in by_fd under its descriptor with a tag
 * (generation << 32 | fd); hp_waiter_end removes the socket from the watcher
 * and by_fd before the request handler returns, so civetweb closes or reuses
 * the descriptor only after that, and a hang-up reported with a tag that
 * by_fd no longer holds (read by the watcher just before the removal) is
 * ignored rather than blamed on the descriptor's next user.
 *
 * A pass (hp_waiter_answer_peers) writes to the connections of the waiters
 * it claimed outside w->mu; a claimed waiter's thread does not leave
 * hp_waiter_wait (nor hp_waiter_end free it) until the claim ends. A waiter
 * is freed by its last reference: its own thread's, and its signaller's
 * while a chain of answered waiters is woken (see waiters.md).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>

#include "api_hangup.h"
#include "api_wait.h"
#include "hp_log.h"
#include "hp_mem.h"
#include "hp_str.h"
#include "hp_time.h"
#include "hp_wake.h"

#define HP_WAIT_BUCKETS 4096

/* How many waiters one owner (a team or a credential) holds. */
typedef struct hp__share {
    struct hp__share *next;
    int n;
    char id[HP_WAIT_KEY_MAX];
} hp__share;

struct hp_waiter {
    hp_waiters *reg;
    char key[HP_WAIT_KEY_MAX]; /* "" until watched */
    uint64_t seq;              /* w->seq at its last wake or registration */
    pthread_cond_t cv;
    unsigned pending; /* wakes not yet reported */
    bool gone;        /* the client hung up */
    int fd;           /* the watched client socket, -1 when none */
    uint64_t tag;
    unsigned bucket;
    hp_waiter *prev, *next;
    hp__share *team, *holder;
    /* Answering by a peer (hp_waiter_answer_by, hp_waiter_answer_peers). */
    hp_waiter_answer_fn answer;
    void (*memo_free)(void *);
    void *answer_ctx;
    bool waiting;  /* inside hp_waiter_wait */
    bool deferred; /* has a wake that a peer's pass (not its own thread) takes */
    bool claimed;  /* a peer's pass is writing its answer: the thread stays */
    bool answered; /* a peer sent its whole answer */
    bool released; /* its place was given back by that peer */
    int refs;      /* its thread's, and a pass's while it signals; atomic */
    /* The next waiter the same pass answered: woken by this one's thread
     * when it leaves, so the threads of a crowd wake one after another
     * rather than all at once (holding a reference to it). */
    hp_waiter *chain_next;
    struct hp__pass *help; /* a share of a pass for its thread to run */
};

/* A pass's claimed waiters and the read they are answered from. */
typedef struct hp__pass {
    hp_waiters *w;
    hp_shared *s;
    hp_shared *ref; /* a reference the pass puts when done, or NULL */
    hp_waiter **claimed;
    size_t n;
    bool split_first; /* handed whole to a waiter's thread, which splits it */
} hp__pass;

/* Crowds from this size are answered by two threads. */
#define HP__PASS_SPLIT 64

static void hp__pass_run(hp__pass *p);
static void hp__claim_locked(hp__pass *p, hp_waiter *o, size_t *cap);
static void hp__pass_go(hp_waiters *w, hp__pass *p);

/* A value read once for many waiters; refs changes atomically. */
struct hp_shared {
    void *value;
    void (*free_value)(void *);
    int refs;
    uint64_t began; /* w->seq when the read began */
};

/* The reads of one thing (what, within one team) that waiters need now:
 * while a read runs, waiters that need one begun after their wake wait for
 * it instead of reading again. Lives while users > 0. */
typedef struct hp__flight {
    struct hp__flight *next;
    char what[HP_WAIT_KEY_MAX];
    const hp__share *team;
    int users;       /* waiters inside hp_waiter_read on it */
    bool running;    /* a read is under way */
    uint64_t began;  /* w->seq when the read of last began */
    hp_shared *last; /* the last successful read (a reference), or NULL */
    uint64_t failed; /* w->seq when the last failed read began, 0 none */
    pthread_cond_t done;
} hp__flight;

struct hp_waiters {
    hp_waiters_config cfg;
    char *database_url;
    char *redis_url;
    unsigned char wake_key[32]; /* cfg.wake_key points here when given */
    pthread_mutex_t mu;
    pthread_cond_t drained; /* signalled when count drops, for shutdown */
    hp_waiter *buckets[HP_WAIT_BUCKETS];
    hp__flight *flights[HP_WAIT_BUCKETS];
    uint64_t seq; /* counts wakes, registrations and reads begun: their order */
    hp__share *teams[HP_WAIT_BUCKETS];
    hp__share *holders[HP_WAIT_BUCKETS];
    hp_waiter **by_fd; /* the waiter watching each socket */
    int by_fd_len;
    uint32_t gen;
    int count;            /* places taken */
    int watching;         /* of which registered under a key */
    int deferred;         /* waiters left asleep for a pass */
    uint64_t by_decision; /* long-polls claimed by hp_waiters_answer; atomic */
    bool stopping;
    bool pg_ok, redis_ok;
    api_hangup *hangup;
    hp_wake_source *pg_source, *redis_source;
};

/* ---- the registry ---------------------------------------------------------- */

static unsigned hp__hash(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % HP_WAIT_BUCKETS;
}

/* The counter of id in table (mu held), created at zero when absent. */
static hp__share *hp__share_get(hp__share **table, const char *id)
{
    unsigned b = hp__hash(id);
    hp__share *s;

    for (s = table[b]; s != NULL; s = s->next)
        if (strcmp(s->id, id) == 0)
            return s;
    s = hp_xcalloc(1, sizeof(*s));
    hp_strlcpy(s->id, id, sizeof(s->id));
    s->next = table[b];
    table[b] = s;
    return s;
}

/* Frees s when it counts nobody (mu held). */
static void hp__share_drop_idle(hp__share **table, hp__share *s)
{
    if (s->n > 0)
        return;
    for (hp__share **p = &table[hp__hash(s->id)]; *p != NULL; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    free(s);
}

/* Gives one place back to s (mu held). */
static void hp__share_put(hp__share **table, hp__share *s)
{
    s->n--;
    hp__share_drop_idle(table, s);
}

/* Ends o's wait for a pass (mu held). */
static void hp__undefer(hp_waiters *w, hp_waiter *o)
{
    if (o->deferred) {
        o->deferred = false;
        w->deferred--;
    }
}

/* Marks every waiter (mu held) with a wake: used when a wake source goes down
 * or comes back, since notifications sent meanwhile are lost. */
static void hp__wake_all_locked(hp_waiters *w)
{
    uint64_t seq = ++w->seq;

    for (int b = 0; b < HP_WAIT_BUCKETS; b++)
        for (hp_waiter *wt = w->buckets[b]; wt; wt = wt->next) {
            wt->seq = seq;
            wt->pending++;
            hp__undefer(w, wt);
            pthread_cond_signal(&wt->cv);
        }
}

/* Whether a waiter of key sleeps where a decision's row can answer it
 * (what hp_waiters_answer claims, whatever its team). */
static bool hp__answerable(hp_waiters *w, const char *key)
{
    bool any = false;

    pthread_mutex_lock(&w->mu);
    for (hp_waiter *o = w->buckets[hp__hash(key)]; o != NULL && !any; o = o->next)
        any = o->answer != NULL && o->waiting && !o->claimed && !o->answered &&
              strcmp(o->key, key) == 0;
    pthread_mutex_unlock(&w->mu);
    return any;
}

static void hp__on_message(void *ctx, const char *payload)
{
    hp_waiters *w = ctx;
    const char *row = strstr(payload, " " HP_WAKE_ROW_PREFIX);
    char keys[HP_WAKE_MSG_MAX], id[HP_WAIT_KEY_MAX];
    size_t n;

    if (row == NULL || (size_t)(row - payload) >= sizeof(keys)) {
        hp_waiters_wake(w, payload);
        return;
    }
    /* A decision's keys and its row: the long-polls are answered from the
     * row, then the keys wake the rest (streams, inboxes), skipping the
     * long-polls just claimed. The row is read only when one of its
     * approval's long-polls sleeps here: on most replicas none does, and
     * the second of a decision's two messages finds them answered. */
    memcpy(keys, payload, (size_t)(row - payload));
    keys[row - payload] = '\0';
    n = strcspn(keys, " "); /* the approval's key comes first */
    n = n < sizeof(id) ? n : sizeof(id) - 1;
    memcpy(id, keys, n);
    id[n] = '\0';
    if (w->cfg.row_message != NULL && hp__answerable(w, id) && !w->cfg.row_message(w, row + 1))
        hp_log_warn("a wake message's row could not be read; its waiters read it");
    hp_waiters_wake(w, keys);
}

/* A Redis message: a row counts only with a seal that holds. */
static void hp__on_redis_message(void *ctx, const char *payload)
{
    hp_waiters *w = ctx;
    bool forged;
    char *m = hp_wake_open(w->cfg.wake_key, payload, &forged);

    if (forged)
        hp_log_warn("a Redis wake message carried a row without a valid seal; its waiters read "
                    "(HOLDPOINT_SECRET_KEY differs between replicas, or someone else publishes "
                    "on hp:approval)");
    hp__on_message(w, m);
    free(m);
}

static void hp__on_state(void *ctx, hp_wake_kind kind, bool up)
{
    hp_waiters *w = ctx;

    pthread_mutex_lock(&w->mu);
    if (kind == HP_WAKE_POSTGRESQL)
        w->pg_ok = up;
    else
        w->redis_ok = up;
    hp__wake_all_locked(w);
    pthread_mutex_unlock(&w->mu);
}

static void hp__on_hangup(void *ctx, int fd, uint64_t tag)
{
    hp_waiters *w = ctx;

    pthread_mutex_lock(&w->mu);
    if (fd >= 0 && fd < w->by_fd_len && w->by_fd[fd] != NULL && w->by_fd[fd]->tag == tag) {
        w->by_fd[fd]->gone = true;
        pthread_cond_signal(&w->by_fd[fd]->cv);
    }
    pthread_mutex_unlock(&w->mu);
}

hp_waiters *hp_waiters_new(const hp_waiters_config *cfg)
{
    hp_waiters *w = hp_xcalloc(1, sizeof(*w));
    pthread_condattr_t ca;
    struct rlimit rl;

    w->cfg = *cfg;
    w->database_url = hp_xstrdup(cfg->database_url);
    w->redis_url = cfg->redis_url ? hp_xstrdup(cfg->redis_url) : NULL;
    w->cfg.database_url = w->database_url;
    w->cfg.redis_url = w->redis_url;
    if (cfg->wake_key != NULL) {
        memcpy(w->wake_key, cfg->wake_key, sizeof(w->wake_key));
        w->cfg.wake_key = w->wake_key;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->drained, &ca);
    pthread_condattr_destroy(&ca);
    w->by_fd_len = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        w->by_fd_len = (int)(rl.rlim_cur < (1u << 22) ? rl.rlim_cur : (1u << 22));
    w->by_fd = hp_xcalloc((size_t)w->by_fd_len, sizeof(*w->by_fd));
    w->hangup = api_hangup_new(hp__on_hangup, w);
    return w;
}

void hp_waiters_wake(hp_waiters *w, const char *msg)
{
    uint64_t seq;

    pthread_mutex_lock(&w->mu);
    seq = ++w->seq;
    while (*msg != '\0') {
        size_t n = strcspn(msg, " ");
        char key[HP_WAIT_KEY_MAX];

        if (n > 0 && n < sizeof(key)) {
            bool leader = false;
            memcpy(key, msg, n);
            key[n] = '\0';
            /* Of the waiters a peer may answer, one is woken to read; the
             * rest are left asleep for its pass (hp_waiter_answer_peers), so
             * a crowd on one approval costs one thread's wake-up, not one
             * per waiter. */
            for (hp_waiter *wt = w->buckets[hp__hash(key)]; wt; wt = wt->next)
                if (strcmp(wt->key, key) == 0) {
                    wt->seq = seq;
                    wt->pending++;
                    /* A pass is answering it: the pass wakes it when done
                     * (to read for itself if unanswered). Signalling now
                     * would wake a crowd only to sleep again. */
                    if (wt->claimed)
                        continue;
                    if (wt->answer != NULL && wt->waiting && leader) {
                        if (!wt->deferred)
                            w->deferred++;
                        wt->deferred = true;
                        continue;
                    }
                    leader = leader || wt->answer != NULL;
                    hp__undefer(w, wt);
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
    n = w->watching;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void hp_waiters_shares(hp_waiters *w, int *team, int *holder)
{
    *team = w->cfg.team_waiters;
    *holder = w->cfg.holder_waiters;
}

uint64_t hp_waiters_by_decision(hp_waiters *w)
{
    return __atomic_load_n(&w->by_decision, __ATOMIC_RELAXED);
}

uint64_t hp_waiters_socket_misses(hp_waiters *w)
{
    return api_hangup_misses(w->hangup);
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

/* Links wt into the key table under key (mu held). */
static void hp__link(hp_waiters *w, hp_waiter *wt, const char *key)
{
    hp_strlcpy(wt->key, key, sizeof(wt->key));
    wt->seq = ++w->seq;
    wt->bucket = hp__hash(wt->key);
    wt->prev = NULL;
    wt->next = w->buckets[wt->bucket];
    if (wt->next)
        wt->next->prev = wt;
    w->buckets[wt->bucket] = wt;
    w->watching++;
}

/* Unlinks wt from the key table, if linked (mu held). */
static void hp__unlink(hp_waiters *w, hp_waiter *wt)
{
    if (wt->key[0] == '\0')
        return;
    hp__undefer(w, wt);
    if (wt->prev)
        wt->prev->next = wt->next;
    else
        w->buckets[wt->bucket] = wt->next;
    if (wt->next)
        wt->next->prev = wt->prev;
    wt->prev = wt->next = NULL;
    wt->key[0] = '\0';
    w->watching--;
}

hp_err hp_waiter_begin(hp_waiters *w, const hp_waiter_owner *owner, const char *key,
                       struct mg_connection *conn, hp_waiter **out, const char **scope)
{
    hp_waiter *wt;
    hp__share *team, *holder;
    pthread_condattr_t ca;
    int fd = conn ? api_hangup_fd(w->hangup, conn) : -1;

    *out = NULL;
    pthread_mutex_lock(&w->mu);
    if (w->stopping || w->count >= w->cfg.max_waiters || (!w->pg_ok && !w->redis_ok)) {
        pthread_mutex_unlock(&w->mu);
        return HP_ERR_UNAVAILABLE;
    }
    team = hp__share_get(w->teams, owner->team_id);
    holder = hp__share_get(w->holders, owner->holder_id);
    if (team->n >= w->cfg.team_waiters || holder->n >= w->cfg.holder_waiters) {
        /* The narrower share names the refusal when both are used. */
        if (scope != NULL)
            *scope = holder->n >= w->cfg.holder_waiters ? "key" : "team";
        /* Counters at zero were made for this check: drop them again. */
        hp__share_drop_idle(w->teams, team);
        hp__share_drop_idle(w->holders, holder);
        pthread_mutex_unlock(&w->mu);
        return HP_ERR_WAIT_SHARE;
    }
    team->n++;
    holder->n++;
    wt = hp_xcalloc(1, sizeof(*wt));
    wt->reg = w;
    wt->refs = 1;
    wt->team = team;
    wt->holder = holder;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wt->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (key != NULL)
        hp__link(w, wt, key);
    w->count++;
    wt->fd = -1;
    if (fd >= 0 && fd < w->by_fd_len && w->by_fd[fd] == NULL) {
        uint64_t tag = (uint64_t)++w->gen << 32 | (uint32_t)fd;
        if (api_hangup_add(w->hangup, fd, tag)) {
            wt->fd = fd;
            wt->tag = tag;
            w->by_fd[fd] = wt;
        }
    }
    pthread_mutex_unlock(&w->mu);
    *out = wt;
    return HP_OK;
}

void hp_waiter_watch(hp_waiter *wt, const char *key)
{
    hp_waiters *w = wt->reg;

    pthread_mutex_lock(&w->mu);
    hp__unlink(w, wt);
    hp__link(w, wt, key);
    pthread_mutex_unlock(&w->mu);
}

/* Wakes the waiters of wt's key and team left asleep for a pass (mu held). */
static void hp__wake_deferred_locked(hp_waiters *w, const hp_waiter *wt)
{
    if (wt->key[0] == '\0' || w->deferred == 0)
        return;
    for (hp_waiter *o = w->buckets[wt->bucket]; o; o = o->next)
        if (o->deferred && o->team == wt->team && strcmp(o->key, wt->key) == 0) {
            hp__undefer(w, o);
            pthread_cond_signal(&o->cv);
        }
}

/* Drops a reference to wt; the last one frees it. */
static void hp__waiter_unref(hp_waiter *wt)
{
    if (__atomic_sub_fetch(&wt->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        pthread_cond_destroy(&wt->cv);
        free(wt);
    }
}

/* Gives wt's place back: unwatches its socket and unregisters it (mu held). */
static void hp__release_locked(hp_waiters *w, hp_waiter *wt)
{
    if (wt->released)
        return;
    wt->released = true;
    hp__undefer(w, wt);
    if (wt->pending > 0)
        hp__wake_deferred_locked(w, wt);
    if (wt->fd >= 0) {
        api_hangup_del(w->hangup, wt->fd);
        w->by_fd[wt->fd] = NULL;
        wt->fd = -1;
    }
    hp__unlink(w, wt);
    hp__share_put(w->teams, wt->team);
    hp__share_put(w->holders, wt->holder);
    w->count--;
    pthread_cond_broadcast(&w->drained);
}

hp_wait_result hp_waiter_wait(hp_waiter *wt, int64_t deadline_ms)
{
    hp_waiters *w = wt->reg;
    hp_wait_result res;
    hp_waiter *next = NULL;
    struct timespec ts;

    ts.tv_sec = (time_t)(deadline_ms / 1000);
    ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
    /* A waiting thread sleeps for minutes: the stack pages its request
     * touched below this frame go back to the system meanwhile. */
    hp_mem_stack_trim();
    pthread_mutex_lock(&w->mu);
    wt->waiting = true;
    for (;;) {
        if (wt->help != NULL) { /* a share of a pass: its own answer among them */
            hp__pass *h = wt->help;
            wt->help = NULL;
            if (h->split_first) {
                h->split_first = false;
                hp__pass_go(w, h); /* unlocks */
            } else {
                pthread_mutex_unlock(&w->mu);
                hp__pass_run(h);
            }
            pthread_mutex_lock(&w->mu);
            continue;
        }
        if (wt->answered) {
            res = HP_WAIT_ANSWERED;
            next = wt->chain_next;
            wt->chain_next = NULL;
            break;
        }
        if (wt->claimed) { /* a peer is writing the answer: wait for it */
            pthread_cond_wait(&wt->cv, &w->mu);
            continue;
        }
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
            hp__undefer(w, wt);
            res = HP_WAIT_WOKEN;
            break;
        }
        if (pthread_cond_timedwait(&wt->cv, &w->mu, &ts) == ETIMEDOUT && wt->pending == 0 &&
            !wt->gone && !w->stopping && !wt->claimed && !wt->answered) {
            res = HP_WAIT_TIMEOUT;
            break;
        }
    }
    wt->waiting = false;
    /* Woken to read for its peers but leaving without reading: the peers
     * left asleep for its pass read for themselves. */
    bool was_deferred = wt->deferred;
    hp__undefer(w, wt);
    if (res != HP_WAIT_WOKEN && wt->pending > 0 && !was_deferred)
        hp__wake_deferred_locked(w, wt);
    pthread_mutex_unlock(&w->mu);
    if (next != NULL) {
        pthread_cond_signal(&next->cv);
        hp__waiter_unref(next);
    }
    return res;
}

/* The flight of what in team, created idle when absent (mu held). */
static hp__flight *hp__flight_get(hp_waiters *w, const hp__share *team, const char *what)
{
    unsigned b = hp__hash(what);
    hp__flight *f;

    for (f = w->flights[b]; f != NULL; f = f->next)
        if (f->team == team && strcmp(f->what, what) == 0)
            return f;
    f = hp_xcalloc(1, sizeof(*f));
    hp_strlcpy(f->what, what, sizeof(f->what));
    f->team = team;
    pthread_cond_init(&f->done, NULL);
    f->next = w->flights[b];
    w->flights[b] = f;
    return f;
}

/* Frees f, its last user gone (mu held). */
static void hp__flight_drop(hp_waiters *w, hp__flight *f)
{
    for (hp__flight **p = &w->flights[hp__hash(f->what)]; *p != NULL; p = &(*p)->next)
        if (*p == f) {
            *p = f->next;
            break;
        }
    hp_shared_put(f->last);
    pthread_cond_destroy(&f->done);
    free(f);
}

void *hp_shared_value(hp_shared *s)
{
    return s->value;
}

void hp_shared_put(void *p)
{
    hp_shared *s = p;

    if (s != NULL && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        s->free_value(s->value);
        free(s);
    }
}

hp_shared *hp_waiter_read(hp_waiter *wt, const char *what, bool now, hp_shared_read_fn read,
                          void (*free_value)(void *), void *ctx)
{
    hp_waiters *w = wt->reg;
    hp_shared *s = NULL;
    hp__flight *f;
    uint64_t need;

    pthread_mutex_lock(&w->mu);
    need = now ? ++w->seq : wt->seq;
    f = hp__flight_get(w, wt->team, what);
    f->users++;
    for (;;) {
        if (f->last != NULL && f->began > need) {
            s = f->last; /* begun after this waiter's wake: it saw the change */
            __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
            break;
        }
        if (f->failed > need)
            break; /* the read this waiter relied on failed; retry at the next wake */
        if (f->running) {
            pthread_cond_wait(&f->done, &w->mu);
            continue;
        }
        uint64_t began = ++w->seq;
        f->running = true;
        pthread_mutex_unlock(&w->mu);
        void *v = read(ctx);
        if (v != NULL) {
            s = hp_xcalloc(1, sizeof(*s));
            s->value = v;
            s->free_value = free_value;
            s->refs = 2; /* the caller's and the flight's */
            s->began = began;
        }
        pthread_mutex_lock(&w->mu);
        f->running = false;
        if (s != NULL) {
            hp_shared_put(f->last);
            f->last = s;
            f->began = began;
        } else {
            f->failed = began;
        }
        pthread_cond_broadcast(&f->done);
        break;
    }
    if (--f->users == 0)
        hp__flight_drop(w, f);
    pthread_mutex_unlock(&w->mu);
    return s;
}

void hp_waiter_answer_by(hp_waiter *wt, hp_waiter_answer_fn fn, void (*memo_free)(void *),
                         void *ctx)
{
    hp_waiters *w = wt->reg;

    /* Outside hp_waiter_wait no pass claims or defers wt; the lock orders
     * these fields for the wakes and passes that read them. */
    pthread_mutex_lock(&w->mu);
    wt->answer = fn;
    wt->memo_free = memo_free;
    wt->answer_ctx = ctx;
    pthread_mutex_unlock(&w->mu);
}

/* Answers the claimed waiters of a pass (without mu), then ends their
 * claims and wakes them (see hp_waiter_answer_peers). Frees p and puts
 * p->ref, a reference to the read of its own when it has one. */
static void hp__pass_run(hp__pass *p)
{
    hp_waiters *w = p->w;
    bool *ok = hp_xcalloc(p->n, sizeof(*ok));
    void *memo = NULL;
    void (*memo_free)(void *) = NULL;

    /* Outside the lock: the claimed waiters' threads stay in hp_waiter_wait
     * (and their requests untouched) until the claim ends. */
    for (size_t i = 0; i < p->n; i++) {
        ok[i] = p->claimed[i]->answer(p->claimed[i]->answer_ctx, p->s, &memo);
        if (p->claimed[i]->memo_free != NULL)
            memo_free = p->claimed[i]->memo_free;
    }
    /* The answered threads only have to finish their requests now: they
     * are woken in a chain (each wakes the next as it leaves), since 10,000
     * threads made runnable at once would take the processors from
     * everything else, the answers' readers included. Signals go out after
     * the unlock; the references keep the conditions alive. */
    size_t wake = 0;
    hp_waiter *first = NULL, **tail = &first;
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < p->n; i++) {
        hp_waiter *o = p->claimed[i];
        o->claimed = false;
        if (ok[i]) {
            o->answered = true;
            o->pending = 0;
            hp__release_locked(w, o); /* the client may ask again at once */
            __atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
            *tail = o;
            tail = &o->chain_next;
        } else if (o->seq >= p->s->began) { /* woken again since: reads for itself */
            __atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
            p->claimed[wake++] = o;
        } else {
            o->pending = 0; /* the read saw what woke it: nothing to do */
        }
    }
    pthread_mutex_unlock(&w->mu);
    if (first != NULL)
        p->claimed[wake++] = first;
    for (size_t i = 0; i < wake; i++) {
        pthread_cond_signal(&p->claimed[i]->cv);
        hp__waiter_unref(p->claimed[i]);
    }
    if (memo != NULL && memo_free != NULL)
        memo_free(memo);
    hp_shared_put(p->ref);
    free(ok);
    free(p->claimed);
    free(p);
}

void hp_waiter_answer_peers(hp_waiter *self, const char *what, hp_shared *s)
{
    hp_waiters *w = self->reg;
    hp__pass *p = hp_xcalloc(1, sizeof(*p));
    size_t cap = 0;

    p->w = w;
    p->s = s;
    pthread_mutex_lock(&w->mu);
    for (hp_waiter *o = w->deferred > 0 ? w->buckets[hp__hash(what)] : NULL; o; o = o->next) {
        if (!o->deferred || o == self || o->team != self->team || strcmp(o->key, what) != 0)
            continue;
        hp__undefer(w, o);
        /* Claimed even when its last wake came after the read began (the
         * same decision's second wake source, say): the answer function
         * answers only from a decided approval, which no later wake can
         * change; otherwise the waiter reads for itself below. */
        if (s == NULL || !o->waiting || o->claimed || o->answered) {
            /* No read to give it: it reads for itself. */
            pthread_cond_signal(&o->cv);
            continue;
        }
        hp__claim_locked(p, o, &cap);
    }
    hp__pass_go(w, p);
}

/* Claims o for pass p (mu held): its thread stays in hp_waiter_wait until
 * the pass has answered it. */
static void hp__claim_locked(hp__pass *p, hp_waiter *o, size_t *cap)
{
    if (p->n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        p->claimed = hp_xrealloc(p->claimed, *cap * sizeof(*p->claimed));
    }
    o->claimed = true;
    p->claimed[p->n++] = o;
}

/* Hands pass h to the thread of its first claimed waiter, asleep in
 * hp_waiter_wait, which runs it (mu held); h keeps a reference to its
 * value until done. */
static void hp__hand_off_locked(hp__pass *h)
{
    h->ref = h->s;
    __atomic_add_fetch(&h->s->refs, 1, __ATOMIC_RELAXED);
    h->claimed[0]->help = h;
    pthread_cond_signal(&h->claimed[0]->cv);
}

/* Runs pass p with its claims made (mu held on entry, released here). */
static void hp__pass_go(hp_waiters *w, hp__pass *p)
{
    /* A large crowd is answered by two threads: the second half goes to
     * the thread of its first waiter, asleep in hp_waiter_wait, so both
     * processors write answers (each answer is mostly a send() whose
     * loopback or network work runs on the writing thread). */
    if (p->n >= HP__PASS_SPLIT) {
        hp__pass *h = hp_xcalloc(1, sizeof(*h));
        size_t half = p->n / 2;
        h->w = w;
        h->s = p->s;
        h->n = p->n - half;
        h->claimed = hp_xcalloc(h->n, sizeof(*h->claimed));
        memcpy(h->claimed, p->claimed + half, h->n * sizeof(*h->claimed));
        p->n = half;
        hp__hand_off_locked(h);
    }
    pthread_mutex_unlock(&w->mu);
    if (p->n == 0) {
        free(p->claimed);
        free(p);
        return;
    }
    hp__pass_run(p);
}

hp_shared *hp_shared_new(void *value, void (*free_value)(void *))
{
    hp_shared *s = hp_xcalloc(1, sizeof(*s));

    s->value = value;
    s->free_value = free_value;
    s->refs = 1;
    /* No read of a flight: began 0 is before every wake, so a waiter the
     * pass cannot answer is woken to read for itself (hp__pass_run). */
    s->began = 0;
    return s;
}

void hp_waiters_answer(hp_waiters *w, const char *team_id, const char *what, hp_shared *s)
{
    hp__pass *p = hp_xcalloc(1, sizeof(*p));
    size_t cap = 0;

    p->w = w;
    p->s = s;
    pthread_mutex_lock(&w->mu);
    for (hp_waiter *o = w->buckets[hp__hash(what)]; o; o = o->next) {
        if (o->answer == NULL || !o->waiting || o->claimed || o->answered ||
            strcmp(o->key, what) != 0 || strcmp(o->team->id, team_id) != 0)
            continue;
        /* Deferred or not, and even when a wake of the same decision has
         * just signalled it to read: the answer function answers only from
         * a decided approval, which no later wake can change. */
        hp__undefer(w, o);
        hp__claim_locked(p, o, &cap);
    }
    __atomic_add_fetch(&w->by_decision, p->n, __ATOMIC_RELAXED);
    if (p->n >= HP__PASS_SPLIT) {
        /* A crowd is answered by two of its own threads, as after a read,
         * so the caller (a request deciding) is not held up writing it. */
        p->split_first = true;
        hp__hand_off_locked(p);
        pthread_mutex_unlock(&w->mu);
        return;
    }
    hp__pass_go(w, p);
}

void hp_waiter_end(hp_waiter *wt)
{
    hp_waiters *w;

    if (wt == NULL)
        return;
    w = wt->reg;
    pthread_mutex_lock(&w->mu);
    while (wt->claimed)
        pthread_cond_wait(&wt->cv, &w->mu);
    hp__release_locked(w, wt);
    pthread_mutex_unlock(&w->mu);
    hp__waiter_unref(wt);
}

hp_err hp_waiters_start(hp_waiters *w, char *err, size_t errcap)
{
    hp_wake_sink sink = {.message = hp__on_message, .state = hp__on_state, .ctx = w};
    hp_wake_sink redis_sink = {.message = hp__on_redis_message, .state = hp__on_state, .ctx = w};

    if (api_hangup_start(w->hangup, err, errcap) != HP_OK)
        return HP_ERR_INTERNAL;
    w->pg_source = hp_wake_source_start(HP_WAKE_POSTGRESQL, w->database_url, w->cfg.db_timeout_ms,
                                        &sink, err, errcap);
    if (w->pg_source == NULL)
        return HP_ERR_INTERNAL;
    if (w->redis_url != NULL) {
        w->redis_source = hp_wake_source_start(HP_WAKE_REDIS, w->redis_url, w->cfg.db_timeout_ms,
                                               &redis_sink, err, errcap);
        if (w->redis_source == NULL)
            return HP_ERR_INTERNAL;
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
    if (w == NULL)
        return;
    hp_wake_source_stop(w->redis_source);
    hp_wake_source_stop(w->pg_source);
    api_hangup_free(w->hangup);
    for (int b = 0; b < HP_WAIT_BUCKETS; b++) {
        /* Only counters of waiters that never ended are left (none after a
         * clean shutdown). */
        for (hp__share *s = w->teams[b], *n; s != NULL; s = n) {
            n = s->next;
            free(s);
        }
        for (hp__share *s = w->holders[b], *n; s != NULL; s = n) {
            n = s->next;
            free(s);
        }
    }
    pthread_cond_destroy(&w->drained);
    pthread_mutex_destroy(&w->mu);
    free(w->by_fd);
    free(w->database_url);
    free(w->redis_url);
    free(w);
}

void hp_waiters_publish_msg(hp_redis *redis, const char *msg)
{
    char err[HP_ERRBUF];

    if (redis != NULL && hp_wake_publish(redis, msg, err, sizeof(err)) != HP_OK)
        hp_log_warn("could not publish a wakeup", "reason", err);
}

void hp_waiters_publish(hp_redis *redis, const hp_approval_row *row)
{
    char msg[HP_WAKE_MSG_MAX];

    if (redis == NULL)
        return;
    /* A close also wakes the agent's inbox streams (its decision or timeout
     * default was recorded there). Creates publish from hp_approval_ops. */
    hp_approval_wake_msg_agent(row->id, row->team_id, row->agent_id, msg, sizeof(msg));
    hp_waiters_publish_msg(redis, msg);
}
