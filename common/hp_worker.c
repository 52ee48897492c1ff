/*
 * hp_worker: the signal self-pipe and small helpers for the background
 * workers (a worker id, a poll() on two descriptors and the pipe). The
 * signal handler only stores the signal number and writes one byte (both
 * async-signal-safe); everything else happens in the worker loop when poll()
 * reports the pipe readable. The LISTEN connections the workers sleep on are
 * hp_wake's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "hp_crypto.h"
#include "hp_str.h"
#include "hp_worker.h"

static int hp__pipe[2] = {-1, -1};
/* The stop signal: set by the handler, read by every thread that checks
 * for a stop (a lock-free atomic, so safe in a handler). */
static atomic_int hp__signal;

static void hp__on_signal(int sig)
{
    int saved = errno;
    char b = 1;

    atomic_store(&hp__signal, sig);
    if (hp__pipe[1] >= 0)
        (void)!write(hp__pipe[1], &b, 1);
    errno = saved;
}

int hp_worker_signals_init(void)
{
    struct sigaction sa;

    if (pipe(hp__pipe) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(hp__pipe[i], F_SETFL, fcntl(hp__pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(hp__pipe[i], F_SETFD, FD_CLOEXEC);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = hp__on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return hp__pipe[0];
}

bool hp_worker_stop_requested(void)
{
    char buf[16];

    while (hp__pipe[0] >= 0 && read(hp__pipe[0], buf, sizeof(buf)) > 0)
        ;
    return atomic_load(&hp__signal) != 0;
}

const char *hp_worker_stop_signal(void)
{
    int sig = atomic_load(&hp__signal);
    return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : NULL;
}

void hp_worker_id(char *out, size_t cap)
{
    char host[64];
    unsigned char r[4];
    char hex[9];

    if (gethostname(host, sizeof(host)) != 0)
        hp_strlcpy(host, "worker", sizeof(host));
    host[sizeof(host) - 1] = '\0';
    hp_rand_bytes(r, sizeof(r));
    hp_hex_encode(r, sizeof(r), hex);
    (void)hp_fmt(out, cap, "%s-%ld-%s", host, (long)getpid(), hex);
}

int hp_worker_wait(int fd_a, int fd_b, int64_t timeout_ms)
{
    struct pollfd p[2];
    int n = 0, ia = -1, ib = -1, rc, mask = 0;

    if (fd_a >= 0) {
        p[n].fd = fd_a;
        p[n].events = POLLIN;
        ia = n++;
    }
    if (fd_b >= 0) {
        p[n].fd = fd_b;
        p[n].events = POLLIN;
        ib = n++;
    }
    if (timeout_ms > 0x7fffffff)
        timeout_ms = 0x7fffffff;
    rc = poll(p, (nfds_t)n, timeout_ms < 0 ? -1 : (int)timeout_ms);
    if (rc <= 0)
        return 0;
    if (ia >= 0 && (p[ia].revents & (POLLIN | POLLHUP | POLLERR)))
        mask |= 1;
    if (ib >= 0 && (p[ib].revents & (POLLIN | POLLHUP | POLLERR)))
        mask |= 2;
    return mask;
}
