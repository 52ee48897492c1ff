/*
 * hp_store_session: the SQL behind the web app's sign-in — users looked up
 * by email, server-side sessions (only the SHA-256 of the cookie's secret is
 * stored), password changes, and the failed sign-in counters that throttle
 * guessing per account and per client address.
 *
 * Each function is one statement (its own transaction) on a borrowed
 * connection, or says otherwise. Rows are read into the caller's pool.
 * Nothing here logs, and no secret reaches SQL: the callers pass hashes.
 * Any thread.
 */
#ifndef HP_STORE_SESSION_H
#define HP_STORE_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "hp_db.h"
#include "hp_pool.h"

/* A user as the sign-in and the app see them. */
typedef struct hp_user_row {
    const char *user_id;
    const char *team_id;
    const char *team_name;
    const char *email;
    const char *name;
    const char *role;
    const char *password_hash; /* argon2id PHC string; NULL when none is set */
} hp_user_row;

/* Reads the user with this email (case-insensitive). *found false when
 * there is none. */
HP_MUSTCHECK hp_err hp_store_user_by_email(hp_dbconn *c, hp_pool *pool, const char *email,
                                           hp_user_row *out, bool *found, char *err, size_t errcap);

/* Reads user_id of team_id. *found false when there is none. */
HP_MUSTCHECK hp_err hp_store_user_get(hp_dbconn *c, hp_pool *pool, const char *team_id,
                                      const char *user_id, hp_user_row *out, bool *found, char *err,
                                      size_t errcap);

/* Stores a new session of user_id whose secret hashes to secret_hash, ending
 * max_seconds from now. *expires_at gets that time (µs). */
HP_MUSTCHECK hp_err hp_store_session_create(hp_dbconn *c, const char *session_id,
                                            const char *user_id, const char *team_id,
                                            const unsigned char secret_hash[32], int max_seconds,
                                            const char *client_addr, int64_t *expires_at, char *err,
                                            size_t errcap);

/* A live session and its user. */
typedef struct hp_session_row {
    const char *session_id;
    const char *user_id;
    const char *team_id;
    const char *name;
    const char *role;
    int64_t expires_at; /* µs */
} hp_session_row;

/* Finds the session whose secret hashes to secret_hash, unless it ended
 * (expires_at passed, or idle_seconds passed since its last request), and
 * records this request as its last one (at most once a minute, so a busy
 * page does not write on every call). *found false when there is no live
 * session — a deleted user's sessions are gone with the user. */
HP_MUSTCHECK hp_err hp_store_session_lookup(hp_dbconn *c, hp_pool *pool,
                                            const unsigned char secret_hash[32], int idle_seconds,
                                            hp_session_row *out, bool *found, char *err,
                                            size_t errcap);

/* Ends session_id (sign-out). Ending an ended session succeeds. */
HP_MUSTCHECK hp_err hp_store_session_delete(hp_dbconn *c, const char *session_id, char *err,
                                            size_t errcap);

/* Sets user_id's password hash and ends every other session of the user
 * (keep_session_id stays signed in; NULL ends all), in one statement. */
HP_MUSTCHECK hp_err hp_store_user_password_set(hp_dbconn *c, const char *user_id,
                                               const char *password_hash,
                                               const char *keep_session_id, char *err,
                                               size_t errcap);

/* Sign-in throttling. Keys are "email:<lower-case email>" and
 * "addr:<client address>"; each counts failures in a fixed window of
 * window_seconds. *retry_after_s gets the seconds until the later of the
 * windows that is over its limit ends (account_key over account_max or
 * addr_key over addr_max failures), 0 when sign-in may be tried. */
HP_MUSTCHECK hp_err hp_store_signin_blocked(hp_dbconn *c, const char *account_key, int account_max,
                                            const char *addr_key, int addr_max, int window_seconds,
                                            int *retry_after_s, char *err, size_t errcap);

/* Counts one failure against both keys (a key whose window has ended starts
 * a new one). */
HP_MUSTCHECK hp_err hp_store_signin_failed(hp_dbconn *c, const char *account_key,
                                           const char *addr_key, int window_seconds, char *err,
                                           size_t errcap);

/* Forgets the failures of key (after a successful sign-in to the account). */
HP_MUSTCHECK hp_err hp_store_signin_clear(hp_dbconn *c, const char *key, char *err, size_t errcap);

#endif
