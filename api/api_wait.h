/*
 * api_wait: the waiter registry of holdpoint-api. A request that waits for a
 * decision registers a waiter under a key — its approval id, or
 * "team:<team id>" for a view of the whole team — and sleeps on its own
 * condition variable, holding no database connection. Wake messages
 * (hp_approval_wake_msg_agent, hp_approval_created_wake_msg) name one or
 * more keys separated by spaces; they
 * arrive from the wake sources of hp_wake (PostgreSQL LISTEN hp_approval and
 * the Redis subscription hp:approval), and a client hanging up arrives from
 * the hang-up watcher (api_hangup). After a wake the waiter re-reads what it
 * waits for — one read shared by every waiter of the key woken at the same
 * time (hp_waiter_read) — so duplicate or reordered messages are harmless,
 * and a crowd on one approval costs one query. Long-polls go further: the
 * thread that read the decision writes every one's answer
 * (hp_waiter_answer_by, hp_waiter_answer_peers); when a wake
 * source goes down or comes back every waiter is woken to re-check, so no
 * wake-up is lost.
 *
 * Places are shared fairly: besides the process limit, each team and each
 * credential (API key, user) may hold only its share of the waiters at once,
 * so one tenant cannot take another's waits. See docs/internals/waiters.md.
 */
#ifndef HP_API_WAIT_H
#define HP_API_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include <civetweb.h>

#include "hp_approval.h"
#include "hp_approval_ops.h"
#include "hp_err.h"
#include "hp_redis.h"

typedef struct hp_waiters hp_waiters;
typedef struct hp_waiter hp_waiter;

typedef enum {
    HP_WAIT_WOKEN = 0, /* a notification (or a re-check) for this key */
    HP_WAIT_TIMEOUT,   /* the deadline passed */
    HP_WAIT_GONE,      /* the client hung up */
    HP_WAIT_SHUTDOWN,  /* the process is stopping */
    HP_WAIT_ANSWERED,  /* a peer sent the answer (hp_waiter_answer_by) */
} hp_wait_result;

typedef struct hp_waiters_config {
    const char *database_url; /* LISTEN hp_approval: PostgreSQL itself, not a pooler */
    const char *redis_url;    /* SUBSCRIBE hp:approval; NULL: PostgreSQL only */
    int db_timeout_ms;        /* connecting and each command of a wake source */
    int max_waiters;          /* waiters in the process at once */
    int team_waiters;         /* of which one team may hold */
    int holder_waiters;       /* of which one credential may hold */
    /* Answers waiters from the decided row a wake message carries after
     * its keys (row: from HP_WAKE_ROW_PREFIX on), before the keys are
     * woken; false when it cannot read the row (the keys' waiters then read
     * as after any wake). NULL: rows are ignored. */
    bool (*row_message)(hp_waiters *w, const char *row);
    /* The key of the seals of rows that come through Redis (hp_wake_key,
     * 32 bytes, copied); NULL: such rows are ignored and their keys woken. */
    const unsigned char *wake_key;
} hp_waiters_config;

/* Creates the registry (copies cfg). Starts nothing. */
hp_waiters *hp_waiters_new(const hp_waiters_config *cfg);
/* Starts the wake sources and the hang-up watcher. */
HP_MUSTCHECK hp_err hp_waiters_start(hp_waiters *w, char *err, size_t errcap);
/* Wakes every waiter with HP_WAIT_SHUTDOWN and refuses new ones; returns
 * when every waiter has left or after grace_ms. */
void hp_waiters_shutdown(hp_waiters *w, int grace_ms);
/* Stops the threads and frees the registry (after shutdown). */
void hp_waiters_free(hp_waiters *w);

/* Longest waiter key and owner id, terminator included. */
#define HP_WAIT_KEY_MAX 64

/* Whose share a waiter counts against: its team and the credential that
 * authenticated the request (an API key id, or a user id). Borrowed. */
typedef struct hp_waiter_owner {
    const char *team_id;
    const char *holder_id;
} hp_waiter_owner;

/* Takes a place for a waiter of owner and registers it under key (an
 * approval id or "team:<id>", shorter than HP_WAIT_KEY_MAX), or under no key
 * yet when key is NULL (a reservation made before the approval exists; see
 * hp_waiter_watch). With conn, the client's hanging up is watched (a
 * long-poll); an event stream passes NULL and notices by writing.
 * HP_ERR_UNAVAILABLE when the process is full, stopping, or has no working
 * wake source; HP_ERR_WAIT_SHARE when owner's team or credential already
 * holds its share, with *scope (when not NULL) set to "team" or "key". Any
 * request thread; never blocks. */
HP_MUSTCHECK hp_err hp_waiter_begin(hp_waiters *w, const hp_waiter_owner *owner, const char *key,
                                    struct mg_connection *conn, hp_waiter **out,
                                    const char **scope);
/* Registers wt under key (replacing its key, if any). Wakes for key sent
 * from now on reach wt; read what it waits for after this call. */
void hp_waiter_watch(hp_waiter *wt, const char *key);
/* Sleeps until a wake, the client leaving, shutdown, or deadline_ms
 * (monotonic). Each wake is reported once. */
hp_wait_result hp_waiter_wait(hp_waiter *wt, int64_t deadline_ms);
/* A value read once for the waiters of one key (a counted reference). */
typedef struct hp_shared hp_shared;
/* Reads what the waiters of a key wait for; NULL when the read failed. */
typedef void *(*hp_shared_read_fn)(void *ctx);

/* What wt waits for — named by what (an approval id; shorter than
 * HP_WAIT_KEY_MAX), read by read(ctx) on some waiter's thread — from a read
 * that began after wt's last wake (or registration), or, with now, after
 * this call began, so that it sees what woke it. One read serves every
 * waiter of wt's team that needs the same what at the same time: 10,000
 * waiters woken by one decision cause one read, not 10,000. free_value frees what read returned
 * once the last reference is put. NULL when the read this waiter relied on failed (it may retry at
 * its next wake). The caller puts the reference it gets (hp_shared_put).
 * Blocks while a read runs. */
hp_shared *hp_waiter_read(hp_waiter *wt, const char *what, bool now, hp_shared_read_fn read,
                          void (*free_value)(void *), void *ctx);
/* The value read (read's return). */
void *hp_shared_value(hp_shared *s);
/* Puts a reference; the last one frees the value. NULL is fine. */
void hp_shared_put(void *s);

/* Answers a waiter from a read made for another (hp_waiter_answer_peers),
 * on that reader's thread: ctx is the waiter's own, memo one slot shared by
 * every call of the same pass (NULL at first; what the function keeps there
 * is freed with memo_free after the pass). Returns true when it has sent the
 * waiter's whole answer; false leaves the waiter waiting. */
typedef bool (*hp_waiter_answer_fn)(void *ctx, hp_shared *s, void **memo);

/* Lets peers answer wt with fn, from then on (call it on wt's thread,
 * outside hp_waiter_wait). A waiter answerable this way is not woken by a wake for
 * its key when another waiter of the key is: that one reads, and its pass
 * answers the rest. hp_waiter_wait then returns HP_WAIT_ANSWERED, with the
 * place already given back. */
void hp_waiter_answer_by(hp_waiter *wt, hp_waiter_answer_fn fn, void (*memo_free)(void *),
                         void *ctx);
/* The pass: after a read of what (s; NULL when it failed) by self's thread,
 * answers the waiters of the key and team left asleep for it, whose wake
 * came before the read began. 10,000 long-polls on one approval are
 * answered by one thread's writes, without 10,000 wake-ups first. */
void hp_waiter_answer_peers(hp_waiter *self, const char *what, hp_shared *s);

/* A shared value made here rather than read by a waiter (one reference,
 * the caller's): the decided approval, as its statement returned it or as
 * its NOTIFY carried it. */
hp_shared *hp_shared_new(void *value, void (*free_value)(void *));
/* Answers from s the waiters of this process registered under what (an
 * approval id) for team_id that peers may answer and that sleep in
 * hp_waiter_wait: the long-polls of a just-decided approval, answered from
 * the decision's own row (its statement's result, or the row its NOTIFY
 * carries) with no re-read. A small crowd is answered on the calling
 * thread, a large one by two of its own threads. A waiter the answer
 * function turns down is woken to read for itself; other waiters (streams)
 * are left to the decision's wake keys. */
void hp_waiters_answer(hp_waiters *w, const char *team_id, const char *what, hp_shared *s);
/* The waiters hp_waiters_answer has taken to answer so far. */
uint64_t hp_waiters_by_decision(hp_waiters *w);

/* Unregisters and frees the waiter, giving its place back. NULL is fine.
 * Call on the request's thread before the handler returns. */
void hp_waiter_end(hp_waiter *wt);

/* Wakes, in this process, the waiters of every key the wake message msg
 * names (keys separated by spaces). */
void hp_waiters_wake(hp_waiters *w, const char *msg);

/* Publishes the wake message of row, a closed approval (its id, its team
 * and its agent's inbox key), to every replica through Redis; a no-op when
 * redis is NULL. A failure is logged: NOTIFY travels with the close's
 * commit anyway. (A create's message is published by hp_approval_ops.) */
void hp_waiters_publish(hp_redis *redis, const hp_approval_row *row);

/* Publishes a wake message (keys separated by spaces, such as
 * "team:<id>" or "agent:<id>") to every replica through Redis; a no-op when
 * redis is NULL. A failure is logged. */
void hp_waiters_publish_msg(hp_redis *redis, const char *msg);

/* Waiters registered under a key now (the waiters gauge; places reserved
 * for a create that has not registered yet are not counted). */
int hp_waiters_count(hp_waiters *w);
/* The shares in force: per team and per credential. */
void hp_waiters_shares(hp_waiters *w, int *team, int *holder);
/* Long-polls whose socket could not be found for hang-up detection. */
uint64_t hp_waiters_socket_misses(hp_waiters *w);

/* Whether the PostgreSQL LISTEN and Redis subscriptions are up. */
bool hp_waiters_pg_up(hp_waiters *w);
bool hp_waiters_redis_up(hp_waiters *w);

#endif
