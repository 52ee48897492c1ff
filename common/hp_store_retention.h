/*
 * hp_store_retention: the SQL of the retention sweep (HOLDPOINT_RETENTION_DAYS,
 * run by holdpoint-timeout). It removes what is closed and older than the
 * retention age, and nothing else:
 *
 * - an approval that is no longer pending and was resolved before the
 *   cutoff, together with everything that hangs off it (its events, its
 *   jobs and their attempts, its inbox response, its notification steps),
 *   unless one of its jobs is still queued (undelivered);
 * - a job that belongs to no approval, is no longer queued and last changed
 *   before the cutoff, with its attempts.
 *
 * Pending approvals and queued jobs are never touched, whatever their age.
 * Each call is one batch in its own transaction; rows another transaction
 * holds are skipped (SKIP LOCKED), so any number of workers may sweep at
 * once. See docs/operations.md ("Retention"). holdpoint-timeout only.
 */
#ifndef HP_STORE_RETENTION_H
#define HP_STORE_RETENTION_H

#include <stddef.h>

#include "hp_db.h"
#include "hp_err.h"

/* Removes up to limit closed approvals resolved more than days ago (oldest
 * first) that have no queued job, with their dependent rows; *n gets how
 * many. The candidates are locked first and the queued-job check runs after
 * the locks are held, so a job queued for one of them meanwhile keeps it. No
 * transaction may be open on c. Blocks on the database. */
HP_MUSTCHECK hp_err hp_store_retention_approvals(hp_dbconn *c, int days, int limit, int *n,
                                                 char *err, size_t errcap);

/* Removes up to limit jobs of no approval that are done or failed and last
 * changed more than days ago (oldest first), with their attempts; *n gets
 * how many. Blocks on the database. */
HP_MUSTCHECK hp_err hp_store_retention_jobs(hp_dbconn *c, int days, int limit, int *n, char *err,
                                            size_t errcap);

#endif
