/*
 * delivery_prep: a few threads that prepare attempts off the event loop.
 * Preparing an attempt resolves the callback host (getaddrinfo blocks, and a
 * slow resolver must not stall every other transfer), checks every address,
 * unseals the agent's secrets and signs. The loop submits a slot and gets it
 * back, ready or failed, through a queue whose pipe is one of the file
 * descriptors curl_multi_poll() waits on. A slot belongs to exactly one side
 * at a time: the loop never touches a submitted slot until it is taken back.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "delivery.h"
#include "hp_mem.h"
#include "hp_time.h"

struct dlv_prep {
    const hp_config *cfg;
    const hp_urlpolicy *policy;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    dlv_slot **todo, **done; /* rings / stacks of capacity cap */
    int cap, ntodo, todo_head, ndone;
    int pending; /* submitted and not yet taken back */
    int pipe[2];
    bool quit;
    int nthreads;
    pthread_t *threads;
};

static void *dlv__prep_main(void *arg)
{
    dlv_prep *p = arg;

    for (;;) {
        dlv_slot *s;
        char b = 1;

        pthread_mutex_lock(&p->mu);
        while (p->ntodo == 0 && !p->quit)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->ntodo == 0) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        s = p->todo[p->todo_head];
        p->todo_head = (p->todo_head + 1) % p->cap;
        p->ntodo--;
        pthread_mutex_unlock(&p->mu);

        s->prep_ok = dlv_prepare(s, p->cfg, p->policy, &s->prep_res);

        pthread_mutex_lock(&p->mu);
        p->done[p->ndone++] = s;
        pthread_mutex_unlock(&p->mu);
        (void)!write(p->pipe[1], &b, 1);
    }
}

dlv_prep *dlv_prep_start(int nthreads, int cap, const hp_config *cfg, const hp_urlpolicy *policy)
{
    dlv_prep *p = hp_xcalloc(1, sizeof(*p));

    if (pipe(p->pipe) != 0)
        abort(); /* out of descriptors at start-up: nothing sensible to do */
    for (int i = 0; i < 2; i++) {
        fcntl(p->pipe[i], F_SETFL, fcntl(p->pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(p->pipe[i], F_SETFD, FD_CLOEXEC);
    }
    p->cfg = cfg;
    p->policy = policy;
    p->cap = cap;
    p->todo = hp_xcalloc((size_t)cap, sizeof(*p->todo));
    p->done = hp_xcalloc((size_t)cap, sizeof(*p->done));
    p->threads = hp_xcalloc((size_t)nthreads, sizeof(*p->threads));
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&p->threads[i], NULL, dlv__prep_main, p) == 0)
            p->nthreads++;
    if (p->nthreads == 0)
        abort();
    return p;
}

int dlv_prep_fd(const dlv_prep *p)
{
    return p->pipe[0];
}

void dlv_prep_submit(dlv_prep *p, dlv_slot *s)
{
    pthread_mutex_lock(&p->mu);
    p->todo[(p->todo_head + p->ntodo) % p->cap] = s;
    p->ntodo++;
    p->pending++;
    s->in_prep = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

int dlv_prep_take(dlv_prep *p, dlv_slot **out, int cap)
{
    char buf[64];
    int n = 0;

    while (read(p->pipe[0], buf, sizeof(buf)) > 0)
        ;
    pthread_mutex_lock(&p->mu);
    while (p->ndone > 0 && n < cap) {
        out[n] = p->done[--p->ndone];
        out[n]->in_prep = false;
        n++;
    }
    p->pending -= n;
    pthread_mutex_unlock(&p->mu);
    return n;
}

bool dlv_prep_stop(dlv_prep *p, int64_t deadline_ms)
{
    bool all = true;

    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++) {
        int64_t left = deadline_ms - hp_time_mono_ms();
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (left < 0)
            left = 0;
        ts.tv_sec += left / 1000;
        ts.tv_nsec += (long)(left % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (pthread_timedjoin_np(p->threads[i], NULL, &ts) != 0)
            all = false; /* stuck in a DNS lookup: the process exit ends it */
    }
    return all;
}

void dlv_prep_free(dlv_prep *p)
{
    if (p == NULL)
        return;
    close(p->pipe[0]);
    close(p->pipe[1]);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p->done);
    free(p->todo);
    free(p);
}
