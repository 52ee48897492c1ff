/*
 * bench_expiry: the ceiling bench/expiry.sh divides holdpoint-timeout's rate
 * by — a set-based claim: per batch of 200 ONE statement that claims the due
 * pending approvals with FOR UPDATE SKIP LOCKED, closes them, inserts their
 * audit events and callback jobs and sends one NOTIFY hp_approval per
 * approval, and nothing else: no default option, no action responses, no
 * team webhook check, no Redis, no logging. Prints {"expired": N, "seconds":
 * S, "rate": R}.
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
    static const char batch[] =
        "with due as (select id from approvals where status = 'pending' and expires_at <= now() "
        "order by expires_at limit 200 for update skip locked), "
        "x as (update approvals a set status = 'expired', is_timeout_default = false, "
        "resolved_at = now(), updated_at = now() from due where a.id = due.id and "
        "a.status = 'pending' returning a.*), "
        "ev as (insert into approval_events (approval_id, team_id, kind, actor_type, actor_id, "
        "data) select x.id, x.team_id, 'expired', 'system', 'bench', "
        "'{\"status\":\"expired\"}'::jsonb from x), "
        "jb as (insert into jobs (team_id, kind, approval_id, agent_id, url, headers, body, "
        "webhook_id, max_attempts) select x.team_id, 'callback', x.id, x.agent_id, "
        "x.callback_url, x.callback_headers, null, 'msg_' || gen_random_uuid(), 3 from x "
        "where x.callback_url is not null), "
        "nt as (select pg_notify('hp_approval', x.id::text) from x) "
        "select count(*), (select count(*) from nt) from x";
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
        PGresult *r = PQexec(pg, batch);
        long long n;
        if (!ok(pg, r))
            return 1;
        if (!hp_parse_ll(PQgetvalue(r, 0, 0), 0, BATCH, &n)) {
            fprintf(stderr, "bench_expiry: unexpected count %s\n", PQgetvalue(r, 0, 0));
            return 1;
        }
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
