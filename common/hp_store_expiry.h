/*
 * hp_store_expiry: the SQL of the expiry worker's wake protocol (the claim
 * itself is hp_store_approval_expire_due). The worker publishes when it next
 * plans to wake in expiry_schedule.next_wake_at; a create whose deadline is
 * earlier sends NOTIFY hp_expiry (hp_store_expiry_wake_for), so the
 * worker can sleep until its deadline without polling. See
 * docs/internals/expiry.md. Statements run outside transactions on a
 * borrowed connection; holdpoint-timeout only.
 */
#ifndef HP_STORE_EXPIRY_H
#define HP_STORE_EXPIRY_H

#include <stdint.h>

#include "hp_db.h"
#include "hp_err.h"

/* The channel the worker LISTENs on. */
#define HP_STORE_EXPIRY_CHANNEL "hp_expiry"

/* Sets next_wake_at to the earliest deadline of any pending approval, or
 * the earliest reminder or escalation step when that comes first
 * ('infinity' when none), and commits. *delay_ms gets the time from now until
 * that deadline by the database clock (0 when already due, -1 when nothing is
 * pending). Then waits, up to wait_ms, for every transaction that was open
 * when the plan committed: a create that read the previous plan before this
 * one committed (and so did not NOTIFY) is then visible, and the plan is
 * recomputed until it no longer moves earlier. *settled is false when such a
 * transaction was still open after wait_ms (the caller should then sleep
 * briefly rather than until the deadline). Blocks on the database. */
HP_MUSTCHECK hp_err hp_store_expiry_plan(hp_dbconn *c, int wait_ms, int64_t *delay_ms,
                                         bool *settled, char *err, size_t errcap);

/* Number of pending approvals already due (for logs, tests and metrics). */
HP_MUSTCHECK hp_err hp_store_expiry_due_count(hp_dbconn *c, long long *n, char *err, size_t errcap);

#endif
