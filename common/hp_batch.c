/*
 * hp_batch: the combiner; see hp_batch.h.
 *
 * Each waiting thread sleeps on its own condition variable, so a batch's end
 * wakes exactly the threads it served plus, when items are still queued, the
 * oldest of them to lead the next batch. Every change of state happens under
 * the one mutex; a waiter's slot lives on its stack and is touched by others
 * only under that mutex and only until it is marked done.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "hp_batch.h"
#include "hp_mem.h"

enum { HP__QUEUED, HP__TAKEN, HP__DONE };

typedef struct hp__slot {
    struct hp__slot *next;
    void *item;
    int state;
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

/* Leads one batch with s first; called and returns with the mutex held. */
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
    for (int i = 0; i < n; i++) {
        taken[i]->state = HP__DONE;
        if (i > 0)
            pthread_cond_signal(&taken[i]->cv);
    }
    if (b->head != NULL)
        pthread_cond_signal(&b->head->cv); /* its turn to lead */
    free(taken);
    free(items);
}

void hp_batch_run(hp_batch *b, void *item)
{
    hp__slot s = {.item = item, .state = HP__QUEUED};

    pthread_cond_init(&s.cv, NULL);
    pthread_mutex_lock(&b->mu);
    if (b->tail != NULL)
        b->tail->next = &s;
    else
        b->head = &s;
    b->tail = &s;
    while (s.state != HP__DONE) {
        if (s.state == HP__QUEUED && b->running < b->max_running)
            hp__lead(b, &s);
        else
            pthread_cond_wait(&s.cv, &b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    pthread_cond_destroy(&s.cv);
}

void hp_batch_stats_get(hp_batch *b, hp_batch_stats *out)
{
    pthread_mutex_lock(&b->mu);
    *out = b->stats;
    pthread_mutex_unlock(&b->mu);
}
