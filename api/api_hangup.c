/*
 * api_hangup: the hang-up watcher; see api_hangup.h.
 *
 * The lookup, for civetweb 1.15 (src/civetweb.c): mg_get_request_info()
 * returns &conn->request_info, which is followed by the response info, the
 * context and domain pointers, [an int when built with server statistics],
 * the SSL pointer, and `struct socket client` = {int sock; union usa lsa;
 * union usa rsa; ...}, where union usa is a sockaddr_in (16 bytes), or a
 * sockaddr_in6 (28 bytes) when built with IPv6. mg_check_feature() tells
 * which of these the running library has, so the offset is computed rather
 * than searched. The candidate is accepted only when getsockname() and
 * getpeername() of that descriptor equal lsa and rsa byte for byte (family,
 * port, address) and rsa equals the request's remote_addr and remote_port:
 * a layout that differs can only make the lookup miss, never pick another
 * connection's socket.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "api_hangup.h"
#include "hp_log.h"
#include "hp_mem.h"

#if CIVETWEB_VERSION_MAJOR != 1 || CIVETWEB_VERSION_MINOR != 15 || CIVETWEB_VERSION_PATCH != 0
#error "api_hangup.c reads civetweb 1.15's connection struct: verify the layout for this version"
#endif

/* mg_check_feature bits (civetweb.h). */
#define API__FEATURE_IPV6  8
#define API__FEATURE_STATS 256

struct api_hangup {
    api_hangup_fn fn;
    void *ctx;
    bool lookup_ok;     /* the running library is the verified one */
    size_t sock_offset; /* of client.sock after the response info */
    size_t usa_size;    /* sizeof(union usa) in that build */
    int epfd;
    int stopfd;
    pthread_t thread;
    bool started;
    _Atomic uint64_t misses;
};

api_hangup *api_hangup_new(api_hangup_fn fn, void *ctx)
{
    api_hangup *h = hp_xcalloc(1, sizeof(*h));
    const char *v = mg_version();

    h->fn = fn;
    h->ctx = ctx;
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    h->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    /* Two pointers (context, domain), the optional statistics int (padded
     * to 8), the SSL pointer. */
    h->sock_offset = 3 * sizeof(void *) + (mg_check_feature(API__FEATURE_STATS) ? 8 : 0);
    h->usa_size = mg_check_feature(API__FEATURE_IPV6) ? sizeof(struct sockaddr_in6)
                                                      : sizeof(struct sockaddr_in);
    h->lookup_ok = v != NULL && strcmp(v, CIVETWEB_VERSION) == 0;
    if (!h->lookup_ok)
        hp_log_warn("hang-up detection of long-polls is off: the civetweb library is not the "
                    "version this build was verified on",
                    "library", v, "verified", CIVETWEB_VERSION);
    return h;
}

/* True when the sockaddr at stored (civetweb's copy) equals got (from the
 * kernel): same family, port and address. */
static bool api__same_addr(const unsigned char *stored, size_t usa_size,
                           const struct sockaddr_storage *got)
{
    struct sockaddr_storage s;

    memset(&s, 0, sizeof(s));
    memcpy(&s, stored, usa_size);
    if (s.ss_family != got->ss_family)
        return false;
    if (got->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&s;
        const struct sockaddr_in *b = (const struct sockaddr_in *)got;
        return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
    }
    if (got->ss_family == AF_INET6 && usa_size >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&s;
        const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)got;
        return a->sin6_port == b->sin6_port &&
               memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
    }
    return false;
}

/* True when peer is the request's remote address and port as civetweb
 * reported them in the public request info. */
static bool api__is_remote(const struct mg_request_info *ri, const struct sockaddr_storage *peer)
{
    unsigned char want[sizeof(struct in6_addr)];

    if (peer->ss_family == AF_INET) {
        const struct sockaddr_in *p = (const struct sockaddr_in *)peer;
        return inet_pton(AF_INET, ri->remote_addr, want) == 1 &&
               memcmp(want, &p->sin_addr, sizeof(p->sin_addr)) == 0 &&
               ntohs(p->sin_port) == ri->remote_port;
    }
    if (peer->ss_family == AF_INET6) {
        const struct sockaddr_in6 *p = (const struct sockaddr_in6 *)peer;
        return inet_pton(AF_INET6, ri->remote_addr, want) == 1 &&
               memcmp(want, &p->sin6_addr, sizeof(p->sin6_addr)) == 0 &&
               ntohs(p->sin6_port) == ri->remote_port;
    }
    return false;
}

int api_hangup_fd(api_hangup *h, struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const unsigned char *sock;
    struct sockaddr_storage peer, local;
    socklen_t pl = sizeof(peer), ll = sizeof(local);
    int fd;

    if (!h->lookup_ok || ri == NULL)
        goto miss;
    sock = (const unsigned char *)ri + sizeof(struct mg_request_info) +
           sizeof(struct mg_response_info) + h->sock_offset;
    memcpy(&fd, sock, sizeof(fd));
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 ||
        getsockname(fd, (struct sockaddr *)&local, &ll) != 0)
        goto miss;
    /* lsa follows the int, aligned to 4 like the sockaddrs in it. */
    if (!api__same_addr(sock + sizeof(int), h->usa_size, &local) ||
        !api__same_addr(sock + sizeof(int) + h->usa_size, h->usa_size, &peer) ||
        !api__is_remote(ri, &peer) ||
        ntohs(((struct sockaddr_in *)&local)->sin_port) != (uint16_t)ri->server_port)
        goto miss;
    return fd;
miss:
    atomic_fetch_add(&h->misses, 1);
    return -1;
}

bool api_hangup_add(api_hangup *h, int fd, uint64_t tag)
{
    struct epoll_event ev = {.events = EPOLLRDHUP | EPOLLONESHOT, .data.u64 = tag};
    return epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void api_hangup_del(api_hangup *h, int fd)
{
    (void)epoll_ctl(h->epfd, EPOLL_CTL_DEL, fd, NULL);
}

uint64_t api_hangup_misses(api_hangup *h)
{
    return atomic_load(&h->misses);
}

/* The stop event is added with tag UINT64_MAX, which no socket uses (a tag
 * carries its descriptor in the low 32 bits). */
static void *api__watch_main(void *arg)
{
    api_hangup *h = arg;
    struct epoll_event evs[64];

    for (;;) {
        int n = epoll_wait(h->epfd, evs, 64, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return NULL;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 == UINT64_MAX)
                return NULL;
            h->fn(h->ctx, (int)(uint32_t)evs[i].data.u64, evs[i].data.u64);
        }
    }
}

hp_err api_hangup_start(api_hangup *h, char *err, size_t errcap)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};

    if (h->epfd < 0 || h->stopfd < 0 || epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->stopfd, &ev) != 0 ||
        pthread_create(&h->thread, NULL, api__watch_main, h) != 0) {
        hp_err_set(err, errcap, "could not start the hang-up watcher: %s", strerror(errno));
        return HP_ERR_INTERNAL;
    }
    h->started = true;
    return HP_OK;
}

void api_hangup_free(api_hangup *h)
{
    uint64_t one = 1;

    if (h == NULL)
        return;
    if (h->started) {
        if (write(h->stopfd, &one, sizeof(one)) < 0)
            hp_log_warn("could not signal the hang-up watcher");
        pthread_join(h->thread, NULL);
    }
    if (h->epfd >= 0)
        close(h->epfd);
    if (h->stopfd >= 0)
        close(h->stopfd);
    free(h);
}
