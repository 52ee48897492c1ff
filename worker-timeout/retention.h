/*
 * retention: holdpoint-timeout's retention sweep. With
 * HOLDPOINT_RETENTION_DAYS set, the worker removes closed approvals and
 * finished jobs older than that many days (hp_store_retention says exactly
 * what), a batch at a time between its expiry cycles, so a large backlog
 * never delays an expiry by more than one batch. A sweep starts when the
 * worker starts and then every hour; it goes on batch after batch while
 * batches come back full. Main thread only.
 */
#ifndef TMO_RETENTION_H
#define TMO_RETENTION_H

#include <stdint.h>

#include "hp_db.h"
#include "hp_metrics.h"

typedef struct tmo_retention tmo_retention;

/* days 0 turns retention off (every call of tmo_retention_step then returns
 * -1). m (may be NULL) gets holdpoint_retention_deleted_total{table=...}.
 * worker labels the log lines. */
tmo_retention *tmo_retention_new(int days, hp_db *db, hp_metrics *m, const char *worker);
void tmo_retention_free(tmo_retention *r);

/* Runs one batch when a sweep is due. Returns the milliseconds until the
 * next batch is due: 0 when more is waiting, -1 when retention is off.
 * Failures are logged and retried a minute later. Blocks on the database. */
int64_t tmo_retention_step(tmo_retention *r);

#endif
