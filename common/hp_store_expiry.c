/*
 * hp_store_expiry: the expiry worker's plan. The earliest pending deadline
 * comes from approvals_pending_expiry_idx (a partial index on expires_at), so
 * planning costs one index probe however many approvals are pending. Delays
 * are computed by the database clock, so worker hosts with skewed clocks still
 * wake on time. The settle wait closes the race described in
 * docs/internals/expiry.md: a create that compared its deadline with the old
 * plan while this plan was being written.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hp_store_expiry.h"
#include "hp_store_fanout.h"
#include "hp_str.h"
#include "hp_time.h"

hp_err hp_store_expiry_plan(hp_dbconn *c, int wait_ms, int64_t *delay_ms, bool *settled, char *err,
                            size_t errcap)
{
    /* The plan is the earliest deadline or reminder/escalation step. */
    static const char plan_sql[] =
        "update expiry_schedule set next_wake_at = coalesce(least("
        "(select min(expires_at) from approvals where status = 'pending'), "
        "(select min(due_at) from (" HP_STORE_FANOUT_STEPS_SQL ") steps)), 'infinity') "
        "returning case when next_wake_at = 'infinity' then -1 else greatest(0, ceil("
        "extract(epoch from next_wake_at - clock_timestamp()) * 1000))::bigint end, "
        "(extract(epoch from next_wake_at) * 1000000)::text";
    static const char open_sql[] = "select count(*) from pg_snapshot_xip($1::pg_snapshot) as x "
                                   "where pg_xact_status(x) = 'in progress'";
    char prev[64] = "";
    hp_err rc;

    *settled = true;
    for (int round = 0; round < 4; round++) {
        PGresult *r;
        char snap[1024];
        int64_t until = hp_time_mono_ms() + wait_ms;

        rc = hp_db_exec(c, &r, plan_sql, 0, NULL, err, errcap);
        if (rc != HP_OK)
            return rc;
        *delay_ms = hp_db_ll(r, 0, 0, -1);
        /* Unchanged plan: nothing earlier became visible while we waited. */
        if (round > 0 && strcmp(prev, PQgetvalue(r, 0, 1)) == 0) {
            PQclear(r);
            return HP_OK;
        }
        hp_strlcpy(prev, PQgetvalue(r, 0, 1), sizeof(prev));
        PQclear(r);

        /* The snapshot taken after the plan committed lists the writers that
         * were still open; the creates that raced with the plan are among
         * them. */
        rc = hp_db_exec(c, &r, "select pg_current_snapshot()::text", 0, NULL, err, errcap);
        if (rc != HP_OK)
            return rc;
        hp_strlcpy(snap, PQgetvalue(r, 0, 0), sizeof(snap));
        PQclear(r);
        if (strchr(snap, ',') == NULL && snap[strlen(snap) - 1] == ':')
            return HP_OK; /* "xmin:xmax:" — nobody else was writing */
        for (;;) {
            const char *p[] = {snap};
            long long open;
            rc = hp_db_exec(c, &r, open_sql, 1, p, err, errcap);
            if (rc != HP_OK)
                return rc;
            open = hp_db_ll(r, 0, 0, 0);
            PQclear(r);
            if (open == 0)
                break;
            if (hp_time_mono_ms() >= until) {
                *settled = false;
                return HP_OK;
            }
            hp_time_sleep_ms(5, NULL);
        }
    }
    return HP_OK;
}

hp_err hp_store_expiry_due_count(hp_dbconn *c, long long *n, char *err, size_t errcap)
{
    PGresult *r;
    hp_err rc = hp_db_exec(c, &r,
                           "select count(*) from approvals where status = 'pending' "
                           "and expires_at <= now()",
                           0, NULL, err, errcap);
    if (rc != HP_OK)
        return rc;
    *n = hp_db_ll(r, 0, 0, 0);
    PQclear(r);
    return HP_OK;
}
