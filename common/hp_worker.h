/*
 * hp_worker: the plumbing both background workers share — a self-pipe that
 * turns SIGTERM/SIGINT into a readable file descriptor (so a worker sleeping
 * in poll() or curl_multi_poll() wakes at once), a wait on two descriptors,
 * and the worker's id for leases and logs. Their LISTEN connections and the
 * reconnect backoff are hp_wake's. Process-wide state; call from the
 * worker's main thread only.
 */
#ifndef HP_WORKER_H
#define HP_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hp_err.h"

/* Installs handlers for SIGTERM and SIGINT that write to a pipe, ignores
 * SIGPIPE, and returns the pipe's read end (non-blocking), or -1 when the pipe
 * cannot be made. Call once, before any thread starts. */
int hp_worker_signals_init(void);
/* True once SIGTERM or SIGINT arrived; drains the pipe. */
bool hp_worker_stop_requested(void);
/* The name of the signal that asked to stop ("SIGTERM"/"SIGINT"), or NULL. */
const char *hp_worker_stop_signal(void);

/* Writes "<host>-<pid>-<8 hex>" into out (cap >= 96): the value of
 * jobs.leased_by and the "worker" log field. */
void hp_worker_id(char *out, size_t cap);

/* Waits up to timeout_ms (-1 = no limit) for fd_a or fd_b (either may be -1)
 * to become readable. Returns a bitmask: 1 = fd_a, 2 = fd_b, 0 = timeout. */
int hp_worker_wait(int fd_a, int fd_b, int64_t timeout_ms);

#endif
