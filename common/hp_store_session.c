/*
 * hp_store_session: SQL for sign-in, sessions and sign-in throttling; see
 * hp_store_session.h. Session secrets arrive as SHA-256 digests and travel
 * to PostgreSQL as hex.
 */
#include <string.h>

#include "hp_crypto.h"
#include "hp_store_session.h"
#include "hp_str.h"

#define HP__US(col) "(extract(epoch from " col ") * 1000000)::bigint"

/* Runs sql, keeps the result in pool, and tells whether it returned a row. */
static hp_err hp__one(hp_dbconn *c, hp_pool *pool, const char *sql, int n, const char *const *p,
                      PGresult **res, bool *found, char *err, size_t errcap)
{
    hp_err rc = hp_db_exec(c, res, sql, n, p, err, errcap);

    if (rc != HP_OK)
        return rc;
    hp_db_keep(pool, *res);
    *found = PQntuples(*res) > 0;
    return HP_OK;
}

#define HP__USER_COLS                                                                              \
    "u.id, u.team_id, t.name, u.email, u.name, u.role, u.password_hash "                           \
    "from users u join teams t on t.id = u.team_id "

static void hp__user_read(const PGresult *r, hp_user_row *out)
{
    out->user_id = hp_db_val(r, 0, 0);
    out->team_id = hp_db_val(r, 0, 1);
    out->team_name = hp_db_val(r, 0, 2);
    out->email = hp_db_val(r, 0, 3);
    out->name = hp_db_val(r, 0, 4);
    out->role = hp_db_val(r, 0, 5);
    out->password_hash = hp_db_val(r, 0, 6);
}

hp_err hp_store_user_by_email(hp_dbconn *c, hp_pool *pool, const char *email, hp_user_row *out,
                              bool *found, char *err, size_t errcap)
{
    static const char sql[] = "select " HP__USER_COLS "where lower(u.email) = lower($1)";
    const char *p[] = {email};
    PGresult *r;
    hp_err rc = hp__one(c, pool, sql, 1, p, &r, found, err, errcap);

    if (rc == HP_OK && *found)
        hp__user_read(r, out);
    return rc;
}

hp_err hp_store_user_get(hp_dbconn *c, hp_pool *pool, const char *team_id, const char *user_id,
                         hp_user_row *out, bool *found, char *err, size_t errcap)
{
    static const char sql[] = "select " HP__USER_COLS "where u.id = $1 and u.team_id = $2";
    const char *p[] = {user_id, team_id};
    PGresult *r;
    hp_err rc = hp__one(c, pool, sql, 2, p, &r, found, err, errcap);

    if (rc == HP_OK && *found)
        hp__user_read(r, out);
    return rc;
}

hp_err hp_store_session_create(hp_dbconn *c, const char *session_id, const char *user_id,
                               const char *team_id, const unsigned char secret_hash[32],
                               int max_seconds, const char *client_addr, int64_t *expires_at,
                               char *err, size_t errcap)
{
    static const char sql[] =
        "insert into user_sessions (id, user_id, team_id, secret_hash, expires_at, client_addr) "
        "values ($1, $2, $3, decode($4, 'hex'), now() + make_interval(secs => $5::int), $6) "
        "returning " HP__US("expires_at");
    char hex[65], secs[16];
    const char *p[] = {session_id, user_id, team_id, hex, secs, client_addr};
    PGresult *r = NULL;
    hp_err rc;

    hp_hex_encode(secret_hash, 32, hex);
    (void)hp_fmt(secs, sizeof(secs), "%d", max_seconds);
    rc = hp_db_exec(c, &r, sql, 6, p, err, errcap);
    if (rc == HP_OK)
        *expires_at = hp_db_ll(r, 0, 0, -1);
    PQclear(r);
    return rc;
}

hp_err hp_store_session_lookup(hp_dbconn *c, hp_pool *pool, const unsigned char secret_hash[32],
                               int idle_seconds, hp_session_row *out, bool *found, char *err,
                               size_t errcap)
{
    /* One round trip: the read, and the last-seen update when the last one
     * is more than a minute old. */
    static const char sql[] =
        "with s as (select s.id, s.user_id, s.team_id, u.name, u.role, " HP__US(
            "s.expires_at") ", s.last_seen_at "
                            "  from user_sessions s join users u on u.id = s.user_id "
                            "  where s.secret_hash = decode($1, 'hex') and s.expires_at > now() "
                            "  and s.last_seen_at > now() - make_interval(secs => $2::int)), "
                            "t as (update user_sessions set last_seen_at = now() "
                            "  where id = (select id from s) "
                            "  and last_seen_at < now() - interval '60 seconds') "
                            "select id, user_id, team_id, name, role, expires_at_us from s "
                            "  as s(id, user_id, team_id, name, role, expires_at_us, seen)";
    char hex[65], idle[16];
    const char *p[] = {hex, idle};
    PGresult *r;
    hp_err rc;

    hp_hex_encode(secret_hash, 32, hex);
    (void)hp_fmt(idle, sizeof(idle), "%d", idle_seconds);
    rc = hp__one(c, pool, sql, 2, p, &r, found, err, errcap);
    if (rc != HP_OK || !*found)
        return rc;
    out->session_id = hp_db_val(r, 0, 0);
    out->user_id = hp_db_val(r, 0, 1);
    out->team_id = hp_db_val(r, 0, 2);
    out->name = hp_db_val(r, 0, 3);
    out->role = hp_db_val(r, 0, 4);
    out->expires_at = hp_db_ll(r, 0, 5, -1);
    return HP_OK;
}

hp_err hp_store_session_delete(hp_dbconn *c, const char *session_id, char *err, size_t errcap)
{
    const char *p[] = {session_id};
    return hp_db_exec(c, NULL, "delete from user_sessions where id = $1", 1, p, err, errcap);
}

hp_err hp_store_user_password_set(hp_dbconn *c, const char *user_id, const char *password_hash,
                                  const char *keep_session_id, char *err, size_t errcap)
{
    static const char sql[] = "with d as (delete from user_sessions where user_id = $1 "
                              "  and ($3::uuid is null or id <> $3::uuid)) "
                              "update users set password_hash = $2 where id = $1";
    const char *p[] = {user_id, password_hash, keep_session_id};

    return hp_db_exec(c, NULL, sql, 3, p, err, errcap);
}

hp_err hp_store_signin_blocked(hp_dbconn *c, const char *account_key, int account_max,
                               const char *addr_key, int addr_max, int window_seconds,
                               int *retry_after_s, char *err, size_t errcap)
{
    static const char sql[] =
        "select coalesce(ceil(max(extract(epoch from "
        "  (window_start + make_interval(secs => $5::int) - now())))), 0)::int "
        "from signin_failures where window_start > now() - make_interval(secs => $5::int) "
        "and ((key = $1 and failures >= $2::int) or (key = $3 and failures >= $4::int))";
    char amax[16], dmax[16], win[16];
    const char *p[] = {account_key, amax, addr_key, dmax, win};
    PGresult *r = NULL;
    hp_err rc;

    (void)hp_fmt(amax, sizeof(amax), "%d", account_max);
    (void)hp_fmt(dmax, sizeof(dmax), "%d", addr_max);
    (void)hp_fmt(win, sizeof(win), "%d", window_seconds);
    rc = hp_db_exec(c, &r, sql, 5, p, err, errcap);
    if (rc == HP_OK)
        *retry_after_s = (int)hp_db_ll(r, 0, 0, 0);
    PQclear(r);
    return rc;
}

hp_err hp_store_signin_failed(hp_dbconn *c, const char *account_key, const char *addr_key,
                              int window_seconds, char *err, size_t errcap)
{
    static const char sql[] =
        "insert into signin_failures as f (key, failures, window_start) "
        "select k, 1, now() from (values ($1::text), ($2::text)) as v(k) "
        "on conflict (key) do update set "
        "failures = case when f.window_start <= now() - make_interval(secs => $3::int) "
        "  then 1 else f.failures + 1 end, "
        "window_start = case when f.window_start <= now() - make_interval(secs => $3::int) "
        "  then now() else f.window_start end";
    char win[16];
    const char *p[] = {account_key, addr_key, win};

    (void)hp_fmt(win, sizeof(win), "%d", window_seconds);
    return hp_db_exec(c, NULL, sql, 3, p, err, errcap);
}

hp_err hp_store_signin_clear(hp_dbconn *c, const char *key, char *err, size_t errcap)
{
    const char *p[] = {key};
    return hp_db_exec(c, NULL, "delete from signin_failures where key = $1", 1, p, err, errcap);
}
