/*
 * hp_batch: the combiner; see hp_batch.h.
 *
 * The queue, the running count and which slots a batch takes change under
 * the batch's one mutex. Each waiting thread sleeps on a mutex and
 * condition variable of its own slot, so a batch's end wakes exactly the
 * threads it served, and each of them runs on without taking the batch's
 * mutex (a wake under that mutex had every woken thread block on it once
 * more, behind the leader still waking the others). When items are still
 * queued, the oldest is woken to lead the next batch, under the batch's
 * mutex, which keeps that slot in the queue and so alive. A waiter's slot
 * lives on its stack: a served slot is touched by its leader only until
 * it is marked done, under the slot's own mutex.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "hp_batch.h"
#include "hp_mem.h"

enum { HP__QUEUED, HP__TAKEN };        /* hp__slot.state, under the batch's mutex */
enum { HP__NONE, HP__LEAD, HP__DONE }; /* hp__slot.wake, under the slot's mutex */

typedef struct hp__slot {
    struct hp__slot *next;
    void *item;
    int state;
    int wake; /* HP__DONE is final: it is never lowered */
    pthread_mutex_t mu;
    pthread_cond_t cv;
} hp__slot;

struct hp_batch {
    pthread_mutex_t mu;
    hp__slot *head, *tail;
    int running, max_running, max_items;
    hp_batch_fn fn;
    void *ctx;
    hp_batch_stats stats;
};

hp_batch *hp_batch_new(hp_batch_fn fn, void *ctx, int max_items, int max_running)
{
    hp_batch *b = hp_xcalloc(1, sizeof(*b));

    pthread_mutex_init(&b->mu, NULL);
    b->fn = fn;
    b->ctx = ctx;
    b->max_items = max_items < 1 ? 1 : max_items;
    b->max_running = max_running < 1 ? 1 : max_running;
    return b;
}

void hp_batch_free(hp_batch *b)
{
    if (b == NULL)
        return;
    pthread_mutex_destroy(&b->mu);
    free(b);
}

static void hp__unlink(hp_batch *b, hp__slot *s)
{
    hp__slot **pp = &b->head, *prev = NULL;

    while (*pp != s) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    *pp = s->next;
    if (b->tail == s)
        b->tail = prev;
    s->next = NULL;
}

/* Sets s's wake to w (never lowering it) and wakes its thread. */
static void hp__wake(hp__slot *s, int w)
{
    pthread_mutex_lock(&s->mu);
    if (w > s->wake)
        s->wake = w;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu); /* a done slot's thread may now return */
}

/* Leads one batch with s first; called with the mutex held, returns with
 * it released. */
static void hp__lead(hp_batch *b, hp__slot *s)
{
    hp__slot **taken = hp_xcalloc((size_t)b->max_items, sizeof(*taken));
    void **items = hp_xcalloc((size_t)b->max_items, sizeof(*items));
    int n = 0;

    hp__unlink(b, s);
    s->state = HP__TAKEN;
    taken[n] = s;
    items[n++] = s->item;
    while (n < b->max_items && b->head != NULL) {
        hp__slot *o = b->head;
        hp__unlink(b, o);
        o->state = HP__TAKEN;
        taken[n] = o;
        items[n++] = o->item;
    }
    b->running++;
    b->stats.calls++;
    b->stats.items += n;
    if (n > b->stats.largest)
        b->stats.largest = n;
    pthread_mutex_unlock(&b->mu);

    b->fn(b->ctx, items, n);

    pthread_mutex_lock(&b->mu);
    b->running--;
    if (b->head != NULL)
        hp__wake(b->head, HP__LEAD); /* its turn to lead */
    pthread_mutex_unlock(&b->mu);
    for (int i = 1; i < n; i++)
        hp__wake(taken[i], HP__DONE);
    free(taken);
    free(items);
}

void hp_batch_run(hp_batch *b, void *item)
{
    hp__slot s = {.item = item, .state = HP__QUEUED, .wake = HP__NONE};

    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    pthread_mutex_lock(&b->mu);
    if (b->tail != NULL)
        b->tail->next = &s;
    else
        b->head = &s;
    b->tail = &s;
    for (;;) {
        int w;
        if (s.state == HP__QUEUED && b->running < b->max_running) {
            hp__lead(b, &s);
            break;
        }
        pthread_mutex_unlock(&b->mu);
        pthread_mutex_lock(&s.mu);
        while (s.wake == HP__NONE)
            pthread_cond_wait(&s.cv, &s.mu);
        w = s.wake;
        if (w == HP__LEAD)
            s.wake = HP__NONE;
        pthread_mutex_unlock(&s.mu);
        if (w == HP__DONE)
            break;
        pthread_mutex_lock(&b->mu); /* woken to lead: try, unless taken meanwhile */
    }
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
}

void hp_batch_stats_get(hp_batch *b, hp_batch_stats *out)
{
    pthread_mutex_lock(&b->mu);
    *out = b->stats;
    pthread_mutex_unlock(&b->mu);
}
