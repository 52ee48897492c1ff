/*
 * bench_expiry: the "raw SQL claim loop of the same shape" that bench/expiry.sh
 * divides holdpoint-timeout's rate by. It expires every due pending approval
 * with the statements the worker runs — per batch of 200 one transaction with
 * the FOR UPDATE SKIP LOCKED claim-and-update, then per approval the audit
 * event insert, the callback job insert and NOTIFY hp_approval — but with
 * nothing else: no row decoding into the model, no result JSON rendering, no
 * logging, no Redis. Prints {"expired": N, "seconds": S, "rate": R}.
 *
 *   bench_expiry DATABASE_URL
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "hp_str.h"
#include "hp_time.h"

#define BATCH 200

static int ok(PGconn *pg, PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fprintf(stderr, "bench_expiry: %s", PQerrorMessage(pg));
        PQclear(r);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    static const char claim[] =
        "with due as (select id from approvals where status = 'pending' and expires_at <= now() "
        "order by expires_at limit 200 for update skip locked) "
        "update approvals a set status = 'expired', is_timeout_default = false, "
        "resolved_at = now(), updated_at = now() from due where a.id = due.id and "
        "a.status = 'pending' returning a.id, a.team_id, a.agent_id, a.callback_url, "
        "a.callback_headers::text, a.request_id";
    static const char event[] =
        "insert into approval_events (approval_id, team_id, kind, actor_type, actor_id, data) "
        "values ($1, $2, 'expired', 'system', 'bench', '{\"status\":\"expired\"}'::jsonb)";
    static const char job[] =
        "insert into jobs (team_id, kind, approval_id, agent_id, url, headers, body, "
        "webhook_id, max_attempts) values ($1, 'callback', $2, $3, $4, $5::jsonb, $6, "
        "'msg_' || gen_random_uuid(), 3)";
    long long total = 0;
    int64_t t0;
    PGconn *pg;

    if (argc != 2) {
        fprintf(stderr, "usage: bench_expiry DATABASE_URL\n");
        return 2;
    }
    pg = PQconnectdb(argv[1]);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "bench_expiry: %s", PQerrorMessage(pg));
        return 1;
    }
    t0 = hp_time_mono_ms();
    for (;;) {
        PGresult *r = PQexec(pg, "begin");
        int n;
        if (!ok(pg, r))
            return 1;
        PQclear(r);
        r = PQexec(pg, claim);
        if (!ok(pg, r))
            return 1;
        n = PQntuples(r);
        for (int i = 0; i < n; i++) {
            char body[256];
            const char *id = PQgetvalue(r, i, 0), *team = PQgetvalue(r, i, 1);
            const char *ep[] = {id, team};
            PGresult *x = PQexecParams(pg, event, 2, NULL, ep, NULL, NULL, 0);
            if (!ok(pg, x))
                return 1;
            PQclear(x);
            if (!PQgetisnull(r, i, 3)) {
                (void)hp_fmt(
                    body, sizeof(body),
                    "{\"request_id\":\"%s\",\"approval_id\":\"%s\",\"status\":\"expired\"}",
                    PQgetvalue(r, i, 5), id);
                const char *jp[] = {
                    team, id, PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), body};
                x = PQexecParams(pg, job, 6, NULL, jp, NULL, NULL, 0);
                if (!ok(pg, x))
                    return 1;
                PQclear(x);
            }
            const char *np[] = {id};
            x = PQexecParams(pg, "select pg_notify('hp_approval', $1)", 1, NULL, np, NULL, NULL, 0);
            if (!ok(pg, x))
                return 1;
            PQclear(x);
        }
        PQclear(r);
        r = PQexec(pg, "commit");
        if (!ok(pg, r))
            return 1;
        PQclear(r);
        total += n;
        if (n < BATCH)
            break;
    }
    {
        double secs = (double)(hp_time_mono_ms() - t0) / 1000.0;
        printf("{\"expired\": %lld, \"seconds\": %.3f, \"rate\": %.1f}\n", total, secs,
               secs > 0 ? (double)total / secs : 0.0);
    }
    PQfinish(pg);
    return 0;
}
