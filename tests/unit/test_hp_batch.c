/*
 * Unit tests for hp_batch: a lone call runs at once on its own thread;
 * under concurrency every item runs exactly once, on a call led by one of
 * the waiting threads with the leader's item first, never more than
 * max_items per call nor more than max_running calls at once; items that
 * arrive while a call runs go together in a later one.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "hp_batch.h"
#include "hp_unit.h"

typedef struct item {
    pthread_t owner; /* the thread that handed it in */
    int runs;        /* times fn ran it */
    bool first;      /* it was items[0] of its call */
    bool on_owner;   /* fn ran on its owner's thread */
} item;

static atomic_int running, most_running, most_items, calls, leader_mismatch;
static int hold_ms; /* each call sleeps this long, so others queue */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void run_items(void *ctx, void **items, int n)
{
    int now = atomic_fetch_add(&running, 1) + 1;
    (void)ctx;
    for (int m = atomic_load(&most_running); now > m;)
        atomic_compare_exchange_weak(&most_running, &m, now);
    for (int m = atomic_load(&most_items); n > m;)
        atomic_compare_exchange_weak(&most_items, &m, n);
    atomic_fetch_add(&calls, 1);
    if (!pthread_equal(((item *)items[0])->owner, pthread_self()))
        atomic_fetch_add(&leader_mismatch, 1);
    if (hold_ms > 0)
        sleep_ms(hold_ms);
    for (int i = 0; i < n; i++) {
        item *it = items[i];
        it->runs++;
        it->first = i == 0;
        it->on_owner = pthread_equal(it->owner, pthread_self());
    }
    atomic_fetch_sub(&running, 1);
}

static void reset(int hold)
{
    atomic_store(&running, 0);
    atomic_store(&most_running, 0);
    atomic_store(&most_items, 0);
    atomic_store(&calls, 0);
    atomic_store(&leader_mismatch, 0);
    hold_ms = hold;
}

static void test_lone_call(void)
{
    hp_batch *b = hp_batch_new(run_items, NULL, 8, 1);
    item it = {.owner = pthread_self()};
    hp_batch_stats st;

    reset(0);
    hp_batch_run(b, &it);
    CU_ASSERT_EQUAL(it.runs, 1);
    CU_ASSERT_TRUE(it.first);
    CU_ASSERT_TRUE(it.on_owner);
    hp_batch_stats_get(b, &st);
    CU_ASSERT_EQUAL(st.calls, 1);
    CU_ASSERT_EQUAL(st.items, 1);
    CU_ASSERT_EQUAL(st.largest, 1);
    hp_batch_free(b);
    hp_batch_free(NULL);
}

enum { THREADS = 24 };

typedef struct worker {
    hp_batch *b;
    int rounds;
    item *its; /* rounds items */
} worker;

static void *worker_main(void *p)
{
    worker *w = p;
    for (int r = 0; r < w->rounds; r++) {
        w->its[r].owner = pthread_self();
        hp_batch_run(w->b, &w->its[r]);
    }
    return NULL;
}

/* THREADS threads each hand in rounds items; checks every invariant. */
static void run_crowd(int max_items, int max_running, int rounds, int hold)
{
    hp_batch *b = hp_batch_new(run_items, NULL, max_items, max_running);
    pthread_t th[THREADS];
    worker w[THREADS];
    item its[THREADS][64];
    hp_batch_stats st;
    int once = 0, leaders_first = 0;

    CU_ASSERT_FATAL(rounds <= 64);
    reset(hold);
    memset(its, 0, sizeof(its));
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.b = b, .rounds = rounds, .its = its[i]};
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < THREADS; i++)
        for (int r = 0; r < rounds; r++) {
            once += its[i][r].runs == 1;
            /* An item run on its own thread led that call, so it came first. */
            leaders_first += !its[i][r].on_owner || its[i][r].first;
        }
    CU_ASSERT_EQUAL(once, THREADS * rounds);
    CU_ASSERT_EQUAL(leaders_first, THREADS * rounds);
    CU_ASSERT_EQUAL(atomic_load(&leader_mismatch), 0);
    CU_ASSERT(atomic_load(&most_running) <= max_running);
    CU_ASSERT(atomic_load(&most_items) <= max_items);
    hp_batch_stats_get(b, &st);
    CU_ASSERT_EQUAL(st.items, THREADS * rounds);
    CU_ASSERT_EQUAL(st.calls, atomic_load(&calls));
    CU_ASSERT(st.largest <= max_items);
    hp_batch_free(b);
}

static void test_crowd_one_running(void)
{
    run_crowd(64, 1, 50, 0);
}

static void test_crowd_two_running_small_batches(void)
{
    run_crowd(3, 2, 50, 0);
}

/* Each call sleeps 50 ms: the 23 threads that arrive during the first call
 * (generous: thread start takes microseconds) go together in the next
 * ones, at most max_items at a time. */
static void test_items_queue_behind_a_running_call(void)
{
    hp_batch *b;
    hp_batch_stats st;

    run_crowd(64, 1, 1, 50);
    CU_ASSERT(atomic_load(&most_items) > 1);
    CU_ASSERT(atomic_load(&calls) < THREADS);
    run_crowd(4, 1, 1, 20);
    CU_ASSERT_EQUAL(atomic_load(&most_items), 4);
    b = hp_batch_new(run_items, NULL, 0, 0); /* clamped to 1 and 1 */
    item it = {.owner = pthread_self()};
    reset(0);
    hp_batch_run(b, &it);
    hp_batch_stats_get(b, &st);
    CU_ASSERT_EQUAL(st.largest, 1);
    hp_batch_free(b);
}

int main(void)
{
    static const hp_unit_test tests[] = {
        {"a lone call runs at once on its thread", test_lone_call},
        {"a crowd, one call at a time", test_crowd_one_running},
        {"a crowd, two calls of three at a time", test_crowd_two_running_small_batches},
        {"items queue behind a running call", test_items_queue_behind_a_running_call},
        {NULL, NULL},
    };
    return hp_unit_main("hp_batch", tests);
}
