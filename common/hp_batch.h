/*
 * hp_batch: runs the same kind of work for many threads at once (a
 * combiner, as in group commit). A thread hands its work item to
 * hp_batch_run and gets it back done. If fewer than max_running batches are
 * running, the thread leads: it takes its own item and up to max_items - 1
 * queued ones, runs them all with one call of fn, and wakes their threads.
 * Otherwise it waits, and whichever batch ends first hands the next turn to
 * the oldest waiting item. So a lone call runs at once, alone, and under load
 * one database statement serves every request that arrived while the
 * previous one ran.
 *
 * fn runs on the leader's thread, with the leader's item first; it must set
 * every item's own result (the items' memory belongs to their waiting
 * threads until hp_batch_run returns to them). Thread-safe.
 */
#ifndef HP_BATCH_H
#define HP_BATCH_H

typedef struct hp_batch hp_batch;

/* Runs items[0..n) (n >= 1) together; items[0] is the leader's. */
typedef void (*hp_batch_fn)(void *ctx, void **items, int n);

/* max_items >= 1 items per call of fn, max_running >= 1 calls at once. */
hp_batch *hp_batch_new(hp_batch_fn fn, void *ctx, int max_items, int max_running);
/* NULL is fine; no call may be running. */
void hp_batch_free(hp_batch *b);
/* Returns once fn has run with item (on this thread or another). */
void hp_batch_run(hp_batch *b, void *item);

typedef struct hp_batch_stats {
    long long calls; /* calls of fn */
    long long items; /* items they ran */
    int largest;     /* the most items in one call */
} hp_batch_stats;

void hp_batch_stats_get(hp_batch *b, hp_batch_stats *out);

#endif
