/*
 * hp_db: a bounded pool of libpq connections with reconnect, and the query
 * helpers every store module uses.
 *
 * A caller borrows a connection with hp_db_acquire and gives it back with
 * hp_db_release; the pool never holds more than its size. A dead dependency
 * never hangs a caller: connecting, waiting for a free connection and every
 * statement are bounded by the pool's timeout, and failures map to
 * HP_ERR_UNAVAILABLE so the API answers 503. The statement bound is kept by
 * the client (a cancel request at the deadline), not by session settings, so
 * the pool works the same through PgBouncer in transaction mode. A
 * connection found broken is reset on its next acquire. Thread-safe.
 */
#ifndef HP_DB_H
#define HP_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "hp_err.h"
#include "hp_metrics.h"
#include "hp_pool.h"

typedef struct hp_db hp_db;
typedef struct hp_dbconn hp_dbconn;

/* SQL text: the uuid column COL equal to the parameter P, for the team check
 * of a lookup by primary key. Written IS NOT DISTINCT FROM (the same as =
 * for a column that is never NULL) so that it is a filter, never an index
 * condition, and the row is found by its primary key whatever the planner's
 * statistics say. With plain =, a prepared statement's generic plan made
 * while a table was young (before its first ANALYZE) scanned the team's
 * rows in an index leading with the team, each lookup costing more than the
 * one before until the next ANALYZE replanned it. */
#define HP_DB_FILTER_UUID(col, p) col " is not distinct from " p "::uuid"

/* Longest statement name hp_db_stmt_name writes, with its NUL. */
#define HP_DB_STMT_NAME 36

/* The name a statement is prepared under: "hp_" and 32 hex digits of the
 * SHA-256 of its text, so equal names mean equal texts on any server
 * connection. Pure. */
void hp_db_stmt_name(const char *sql, char out[HP_DB_STMT_NAME]);

/* Creates a pool of at most size connections to url; connections are opened
 * lazily. timeout_ms bounds connect, the wait for a free connection and each
 * statement. Never fails for an unreachable server (that shows at acquire). */
hp_db *hp_db_new(const char *url, int size, int timeout_ms);
/* Closes every connection; all must have been released. NULL is fine. */
void hp_db_free(hp_db *db);

/* Sets whether the pool uses protocol-level prepared statements
 * (HOLDPOINT_DB_PREPARED_STATEMENTS; default "off"); call before the first
 * acquire. "auto": on when the pool's first connection reaches PostgreSQL
 * itself, off when it goes through a pooler (see hp_db_pooled); "on" also
 * behind PgBouncer >= 1.21 with max_prepared_statements. Returns false (and
 * changes nothing) for any other mode. With them on, hp_db_exec prepares each SQL text once per
 * connection and then only binds and executes it; store code does not
 * change. If a pooler turns out not to carry them (a prepared statement
 * missing or already present where this connection never made it), the
 * pool switches them off for good, logs a warning once, and runs the
 * statement unnamed when no transaction was open (inside one, that call
 * fails with HP_ERR_UNAVAILABLE and nothing committed). Thread-safe. */
bool hp_db_set_prepare(hp_db *db, const char *mode);

/* Borrows a connection, connecting or resetting it if needed. Blocks up to the
 * pool timeout. HP_ERR_UNAVAILABLE (reason in err) when the server cannot be
 * reached or no connection frees up in time. */
HP_MUSTCHECK hp_err hp_db_acquire(hp_db *db, hp_dbconn **out, char *err, size_t errcap);
/* Gives the connection back. A connection left inside a transaction or seen
 * broken is closed instead of reused. */
void hp_db_release(hp_db *db, hp_dbconn *c);

/* Number of connections currently borrowed (for /metrics and tests). */
int hp_db_in_use(hp_db *db);
/* Pool size. */
int hp_db_size(hp_db *db);

/* Registers the gauges holdpoint_db_pool_in_use, holdpoint_db_pool_size and
 * holdpoint_db_prepared_statements of db on m, read at every scrape. db must
 * outlive m's scrapes. */
void hp_db_metrics(hp_db *db, hp_metrics *m);

/* The underlying connection, for LISTEN and COPY users. */
PGconn *hp_dbconn_pg(hp_dbconn *c);

/* Runs sql with text parameters (NULL entries are SQL NULL). On success *res
 * (if res is not NULL) gets the result, which the caller PQclear()s; without
 * res the result is cleared here. Blocks up to the connection's statement
 * deadline (the pool timeout unless hp_dbconn_set_timeout changed it): past
 * it the statement is cancelled and the connection retired at release.
 * Errors: HP_ERR_UNAVAILABLE when the connection is lost or the statement
 * ran out of time, HP_ERR_CONFLICT on a unique violation (SQLSTATE 23505),
 * HP_ERR_INTERNAL otherwise (reason in err). */
HP_MUSTCHECK hp_err hp_db_exec(hp_dbconn *c, PGresult **res, const char *sql, int nparams,
                               const char *const *params, char *err, size_t errcap);

/* Runs a text of several statements without parameters (the simple
 * protocol; a migration file), under the same deadline and error mapping as
 * hp_db_exec. Inside an open transaction they all commit or none. */
HP_MUSTCHECK hp_err hp_db_exec_script(hp_dbconn *c, const char *sql, char *err, size_t errcap);

/* Sets c's statement deadline until it is released (0 = none: migrations,
 * whose index builds may take long and whose lock wait is the point). The
 * next acquire starts again from the pool timeout. */
void hp_dbconn_set_timeout(hp_dbconn *c, int timeout_ms);

HP_MUSTCHECK hp_err hp_db_begin(hp_dbconn *c, char *err, size_t errcap);
HP_MUSTCHECK hp_err hp_db_commit(hp_dbconn *c, char *err, size_t errcap);
/* Rolls back if a transaction is open; never fails (a broken connection is
 * marked for reset). */
void hp_db_rollback(hp_dbconn *c);

/* Proves the connection works with a trivial statement: HP_OK, or
 * HP_ERR_UNAVAILABLE (reason in err). Bounded by the pool timeout. */
HP_MUSTCHECK hp_err hp_db_ping(hp_dbconn *c, char *err, size_t errcap);

/* The same on a connection outside the pool (a LISTEN connection): true
 * when it answers. Blocks until the server answers or the socket fails. */
bool hp_db_pg_alive(PGconn *pg);

/* A count for a metrics gauge, read at scrape time on a pooled connection
 * (any thread; the pool is thread-safe): count's result, or NaN when no
 * connection comes within the pool timeout or the statement fails. */
typedef hp_err (*hp_db_count_fn)(hp_dbconn *c, long long *n, char *err, size_t errcap);
double hp_db_gauge(hp_db *db, hp_db_count_fn count);

/* Ends the transaction: commits when rc is HP_OK, else (or when the commit
 * fails) rolls back. Returns the first error. */
HP_MUSTCHECK hp_err hp_db_finish(hp_dbconn *c, hp_err rc, char *err, size_t errcap);

/* Runs sql like hp_db_exec and sets *found to whether it returned a row. */
HP_MUSTCHECK hp_err hp_db_exists(hp_dbconn *c, const char *sql, int nparams,
                                 const char *const *params, bool *found, char *err, size_t errcap);

/* The SQLSTATE of the last failed statement on c ("" when none). */
const char *hp_dbconn_sqlstate(hp_dbconn *c);

/* Result helpers: the value at (row, col) or NULL for SQL NULL. */
const char *hp_db_val(const PGresult *r, int row, int col);
bool hp_db_bool(const PGresult *r, int row, int col);
long long hp_db_ll(const PGresult *r, int row, int col, long long dflt);
/* Copies the values of columns col..col+n-1 of row into one allocation of
 * pool; out[k] gets column col+k's text, or NULL for SQL NULL. Lets a
 * reader keep a row's strings and PQclear() the result at once instead of
 * holding it (several KiB) for the rest of a request. */
void hp_db_row_copy(hp_pool *pool, const PGresult *r, int row, int col, int n, const char **out);
/* Keeps r until pool is freed (then PQclear): rows read into pool may point
 * into it. */
void hp_db_keep(hp_pool *pool, PGresult *r);
/* An array from pool (zeroed) with room for r's rows — one at least — of
 * size bytes each; *n gets the number of rows. */
void *hp_db_rows(hp_pool *pool, const PGresult *r, size_t size, int *n);
/* hp_db_keep and hp_db_rows. */
void *hp_db_keep_rows(hp_pool *pool, PGresult *r, size_t size, int *n);

/* Connects outside the pool (LISTEN connections, the CLI); the pool's
 * connections are made here too. Messages the server sends on its own
 * (notices, the FATAL of a shutdown) become JSON log lines. Blocks up to
 * timeout_ms. The caller PQfinish()es *out. */
HP_MUSTCHECK hp_err hp_db_connect(const char *url, int timeout_ms, PGconn **out, char *err,
                                  size_t errcap);

/* Sets *pooled to whether pg reaches PostgreSQL through a connection pooler
 * rather than a server process of its own. A pooler such as PgBouncer hands
 * its clients cancel keys of its own, so the process id libpq learned at
 * startup differs from the one the server reports. One round trip, bounded
 * by timeout_ms; HP_ERR_UNAVAILABLE when it fails (close pg then). */
HP_MUSTCHECK hp_err hp_db_pooled(PGconn *pg, int timeout_ms, bool *pooled, char *err,
                                 size_t errcap);

#endif
