/*
 * hp_store_migrate: the SQL of `holdpoint migrate`: the session advisory lock
 * every migrator takes and the schema_migrations ledger.
 */
#ifndef HP_STORE_MIGRATE_H
#define HP_STORE_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "hp_db.h"
#include "hp_err.h"

/* The session advisory lock every migrator takes ("Holdpoin" in ASCII). */
#define HP_MIGRATE_LOCK_KEY 0x486f6c64706f696eLL

/* Longest migration name kept by hp_store_migrate_current. */
#define HP_MIGRATION_NAME_MAX 128

/* The protocol: lock, then for each compiled-in migration in order ask
 * whether it is applied and apply it if not, then unlock. Because the lock is
 * a blocking session lock taken before schema_migrations is even created, any
 * number of concurrent migrators run one after another and each later one
 * finds nothing left to do. */

/* Lifts this session's statement and lock timeouts (migrations may run long
 * and the lock wait is the point), blocks until the session advisory lock
 * HP_MIGRATE_LOCK_KEY is held, and creates schema_migrations if it does not
 * exist. Blocks without bound while another migrator holds the lock. */
HP_MUSTCHECK hp_err hp_store_migrate_lock(hp_dbconn *c, char *err, size_t errcap);

/* Releases the advisory lock (closing the connection releases it too). */
HP_MUSTCHECK hp_err hp_store_migrate_unlock(hp_dbconn *c, char *err, size_t errcap);

/* Sets *applied to whether name is recorded in schema_migrations. Call with
 * the lock held. */
HP_MUSTCHECK hp_err hp_store_migrate_applied(hp_dbconn *c, const char *name, bool *applied,
                                             char *err, size_t errcap);

/* Runs the (multi-statement) sql text and records name, in one transaction;
 * on failure everything is rolled back and err carries the server's message.
 * Call with the lock held and no transaction open. */
HP_MUSTCHECK hp_err hp_store_migrate_apply(hp_dbconn *c, const char *name, const char *sql,
                                           char *err, size_t errcap);

/* The migration that seals the per-approval callback.headers stored in
 * plain text before they were sealed at create (approvals, and the outbox
 * jobs copied from them). It needs HOLDPOINT_SECRET_KEY, so it is code,
 * not a sql/ file, and is recorded in schema_migrations like one. */
#define HP_MIGRATE_SEAL_HEADERS "005_seal_callback_headers"

/* Applies HP_MIGRATE_SEAL_HEADERS in one transaction: every non-empty
 * plain headers object of approvals and of their callback jobs becomes the
 * JSON string of hp_secret_seal(key, its text); *sealed counts the rows.
 * key may be NULL when no key is configured: that succeeds only when there
 * is nothing to seal (HP_ERR_CONFIG otherwise). Call with the lock held. */
HP_MUSTCHECK hp_err hp_store_migrate_seal_headers(hp_dbconn *c, const unsigned char *key,
                                                  long long *sealed, char *err, size_t errcap);

/* Copies the greatest recorded migration name into out (cap bytes) and sets
 * *any; *any false (out "") when none is recorded. */
HP_MUSTCHECK hp_err hp_store_migrate_current(hp_dbconn *c, char *out, size_t cap, bool *any,
                                             char *err, size_t errcap);

#endif
