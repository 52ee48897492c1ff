/*
 * hp_store_retention: the retention sweep's two batches; see
 * hp_store_retention.h for what they remove and why that is safe.
 */
#include "hp_store_retention.h"
#include "hp_str.h"

hp_err hp_store_retention_approvals(hp_dbconn *c, int days, int limit, int *n, char *err,
                                    size_t errcap)
{
    char d[16], l[16];
    const char *p[] = {d, l};
    PGresult *r = NULL;
    hp_err rc;

    *n = 0;
    (void)hp_fmt(d, sizeof(d), "%d", days);
    (void)hp_fmt(l, sizeof(l), "%d", limit);
    rc = hp_db_begin(c, err, errcap);
    if (rc != HP_OK)
        return rc;
    /* First lock the candidates (a closed approval still takes delivery
     * status updates; those wait, or are skipped here). */
    rc = hp_db_exec(c, &r,
                    "select coalesce(array_agg(id), '{}')::text from ("
                    "  select id from approvals"
                    "  where status <> 'pending'"
                    "    and resolved_at < now() - $1::int * interval '1 day'"
                    "  order by resolved_at limit $2::int"
                    "  for update skip locked) doomed",
                    2, p, err, errcap);
    if (rc == HP_OK) {
        /* Then, in a statement that sees everything committed before the
         * locks were taken, keep any that gained an undelivered job (its
         * own, or the project webhook of its action response, which is
         * rendered from the response at delivery). A job
         * inserted later waits for the lock and then finds its approval
         * gone. The cascade removes events, jobs, attempts, inbox responses
         * and notification steps. */
        const char *q[] = {hp_db_val(r, 0, 0)};
        PGresult *del = NULL;
        rc = hp_db_exec(c, &del,
                        "with gone as (delete from approvals a where a.id = any($1::uuid[])"
                        "  and not exists (select 1 from jobs j"
                        "    where j.approval_id = a.id and j.state = 'queued')"
                        "  and not exists (select 1 from action_responses r join jobs j"
                        "    on j.response_id = r.id where r.approval_id = a.id"
                        "    and j.state = 'queued')"
                        "  returning 1) select count(*) from gone",
                        1, q, err, errcap);
        if (rc == HP_OK)
            *n = (int)hp_db_ll(del, 0, 0, 0);
        PQclear(del);
    }
    PQclear(r);
    rc = hp_db_finish(c, rc, err, errcap);
    if (rc != HP_OK)
        *n = 0;
    return rc;
}

hp_err hp_store_retention_jobs(hp_dbconn *c, int days, int limit, int *n, char *err, size_t errcap)
{
    char d[16], l[16];
    const char *p[] = {d, l};
    PGresult *r = NULL;
    hp_err rc;

    *n = 0;
    (void)hp_fmt(d, sizeof(d), "%d", days);
    (void)hp_fmt(l, sizeof(l), "%d", limit);
    /* One statement: a job requeued meanwhile fails the state condition
     * when its lock is taken, and is left alone. */
    rc = hp_db_exec(c, &r,
                    "with gone as (delete from jobs where id in ("
                    "  select id from jobs"
                    "  where approval_id is null and state <> 'queued'"
                    "    and updated_at < now() - $1::int * interval '1 day'"
                    "  order by updated_at limit $2::int"
                    "  for update skip locked) returning 1)"
                    " select count(*) from gone",
                    2, p, err, errcap);
    if (rc == HP_OK)
        *n = (int)hp_db_ll(r, 0, 0, 0);
    PQclear(r);
    return rc;
}
