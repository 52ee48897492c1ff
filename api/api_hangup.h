/*
 * api_hangup: notices that a client waiting for a decision has hung up, so
 * its waiter (and thread) is released at once instead of at its deadline.
 *
 * civetweb 1.15 has no call that returns a connection's socket, so
 * api_hangup_fd reads it from civetweb's connection struct at the offset of
 * the layout it was verified on, and accepts it only when the socket's local
 * and peer addresses (family, address and port) equal both the addresses
 * civetweb stored beside it and the request's own remote address and port.
 * The file does not build against another civetweb version; at run time a
 * library of another version or build turns the lookup off (logged once).
 * Every lookup that finds nothing counts as a miss on /metrics
 * (holdpoint_waiter_socket_misses_total): such a waiter has no hang-up
 * detection and ends at its deadline. Event streams do not use the lookup:
 * their periodic keep-alive writes fail once the client is gone.
 *
 * A watched socket is in an epoll set (EPOLLRDHUP, one-shot) read by one
 * thread, which reports each hang-up to the owner's callback with the tag
 * given at api_hangup_add. The owner removes a socket before civetweb may
 * close it and must ignore a report whose tag it no longer knows (an event
 * read just before the removal).
 */
#ifndef HP_API_HANGUP_H
#define HP_API_HANGUP_H

#include <stdbool.h>
#include <stdint.h>

#include <civetweb.h>

#include "hp_err.h"

typedef struct api_hangup api_hangup;

/* Called on the watcher thread for each socket that hung up, with the tag
 * it was added with. */
typedef void (*api_hangup_fn)(void *ctx, int fd, uint64_t tag);

/* Creates the watcher (no thread yet) and checks once whether the running
 * civetweb library is the verified one. */
api_hangup *api_hangup_new(api_hangup_fn fn, void *ctx);
/* Starts the watcher thread. */
HP_MUSTCHECK hp_err api_hangup_start(api_hangup *h, char *err, size_t errcap);
/* Stops the thread and frees h (every socket must have been removed). */
void api_hangup_free(api_hangup *h);

/* The socket of conn, or -1 (counted as a miss) when it cannot be found and
 * proven to be this connection's. Call on the connection's own thread
 * while the request runs. */
int api_hangup_fd(api_hangup *h, struct mg_connection *conn);
/* Watches fd; false when epoll refused it. */
bool api_hangup_add(api_hangup *h, int fd, uint64_t tag);
/* Stops watching fd; call before the request handler returns. */
void api_hangup_del(api_hangup *h, int fd);

/* Lookups that found no socket since start. Any thread. */
uint64_t api_hangup_misses(api_hangup *h);

#endif
