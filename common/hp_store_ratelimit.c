/*
 * hp_store_ratelimit: the PostgreSQL window of the create rate limit; see
 * hp_store_ratelimit.h.
 */
#include "hp_store_ratelimit.h"
#include "hp_str.h"

hp_err hp_store_ratelimit_hit(hp_dbconn *c, const char *agent_id, int max, int window_ms,
                              bool *allowed, long long *retry_ms, char *err, size_t errcap)
{
    static const char ensure[] =
        "insert into agent_rate_windows (agent_id) values ($1) on conflict do nothing";
    /* Under the row lock: keep the hits still inside the window, append now()
     * when there is room, and report the wait until the oldest one leaves. */
    static const char hit[] =
        "update agent_rate_windows w set hits = case when cardinality(s.kept) < $3 "
        "  then s.kept || clock_timestamp() else s.kept end "
        "from (select array(select h from unnest(hits) h "
        "        where h > clock_timestamp() - $2::int * interval '1 millisecond' order by h) kept "
        "      from agent_rate_windows where agent_id = $1 for update) s "
        "where w.agent_id = $1 "
        "returning cardinality(s.kept) < $3, "
        "  coalesce(ceil(extract(epoch from (s.kept[1] + $2::int * interval '1 millisecond' "
        "           - clock_timestamp())) * 1000), 0)::bigint";
    char win[16], mx[16];
    const char *p1[] = {agent_id};
    const char *p3[] = {agent_id, win, mx};
    PGresult *r;
    hp_err rc;

    (void)hp_fmt(win, sizeof(win), "%d", window_ms);
    (void)hp_fmt(mx, sizeof(mx), "%d", max);
    rc = hp_db_exec(c, NULL, ensure, 1, p1, err, errcap);
    if (rc != HP_OK)
        return rc;
    rc = hp_db_exec(c, &r, hit, 3, p3, err, errcap);
    if (rc != HP_OK)
        return rc;
    if (PQntuples(r) != 1) {
        PQclear(r);
        hp_err_set(err, errcap, "rate limit row missing");
        return HP_ERR_INTERNAL;
    }
    *allowed = hp_db_bool(r, 0, 0);
    *retry_ms = hp_db_ll(r, 0, 1, 0);
    PQclear(r);
    return HP_OK;
}
