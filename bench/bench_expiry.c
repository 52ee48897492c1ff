/*
 * bench_expiry: the ceilings bench/expiry.sh divides holdpoint-timeout's rate
 * by. Each drains every due pending approval with ONE prepared statement per
 * batch of 200 from a bare libpq loop (no logging, no Redis, no per-row work
 * outside the statement):
 *
 *   same  writes the rows the worker writes for the bench's approvals: the
 *         FOR UPDATE SKIP LOCKED claim, the close with the default option
 *         (the first option marked is_default_on_timeout), the "expired"
 *         audit events with the same data, the callback jobs, the timeout
 *         default's action responses numbered from the agent's inbox
 *         counter, and one NOTIFY hp_approval per approval. It does not look
 *         for team webhook channels or project webhooks (the bench has
 *         none, so the worker writes no rows for them either).
 *   bare  the claim, the close without a default option, the audit events
 *         and the callback jobs, and the NOTIFY: no action responses.
 *
 * Prints {"expired": N, "seconds": S, "rate": R}.
 *
 *   bench_expiry DATABASE_URL [same|bare]      (same by default)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "hp_crypto.h"
#include "hp_str.h"
#include "hp_time.h"

#define BATCH 200

static const char bare_sql[] =
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
    "select count(*), (select count(*) from nt) from x where $1::uuid[] is not null";

/* $1: v7 ids for the action responses, in batch order (as the worker
 * passes them). */
static const char same_sql[] =
    "with due as (select d.id, (select (o.ord - 1)::int from jsonb_array_elements(d.options) "
    "with ordinality as o(v, ord) where o.v->'is_default_on_timeout' = 'true'::jsonb "
    "order by o.ord limit 1) as idx from approvals d where d.status = 'pending' "
    "and d.expires_at <= now() order by d.expires_at limit 200 for update skip locked), "
    "x as (update approvals a set status = 'expired', selected_option_index = due.idx, "
    "is_timeout_default = due.idx is not null, resolved_at = now(), updated_at = now() "
    "from due where a.id = due.id and a.status = 'pending' returning a.*), "
    "ev as (insert into approval_events (approval_id, team_id, kind, actor_type, actor_id, "
    "data) select x.id, x.team_id, 'expired', 'system', 'bench', jsonb_build_object('status', "
    "'expired', 'selected_option_index', x.selected_option_index, 'is_timeout_default', true) "
    "from x), "
    "jb as (insert into jobs (team_id, kind, approval_id, agent_id, url, headers, body, "
    "webhook_id, max_attempts) select x.team_id, 'callback', x.id, x.agent_id, "
    "x.callback_url, x.callback_headers, null, 'msg_' || gen_random_uuid(), 3 from x "
    "where x.callback_url is not null), "
    "rs as (select x.*, x.options -> x.selected_option_index as opt, "
    "row_number() over (order by x.id) as g, "
    "row_number() over (partition by x.agent_id order by x.id) as n, "
    "count(*) over (partition by x.agent_id) as cnt from x "
    "where x.selected_option_index is not null), "
    "ctr as (insert into inbox_counters as k (agent_id, seq) select rs.agent_id, max(rs.cnt) "
    "from rs group by rs.agent_id on conflict (agent_id) do update "
    "set seq = k.seq + excluded.seq returning k.agent_id, k.seq), "
    "ar as (insert into action_responses (id, team_id, agent_id, seq, session_id, "
    "notification_id, approval_id, kind, action, button_index, button_label, decision_key, "
    "is_timeout_default, notification_client_event_id, notification_title, "
    "notification_message, decided_at) select ($1::uuid[])[rs.g], rs.team_id, rs.agent_id, "
    "ctr.seq - rs.cnt + rs.n, rs.session_id, rs.id, rs.id, 'button', 'timeout_default', "
    "rs.selected_option_index, rs.opt->>'label', rs.opt->>'value', true, rs.correlation_id, "
    "rs.question, rs.context_markdown, rs.resolved_at from rs join ctr using (agent_id)), "
    "nt as (select pg_notify('hp_approval', x.id::text) from x) "
    "select count(*), (select count(*) from nt) from x";

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

/* BATCH v7 ids as a uuid[] literal. */
static void ids_v7(char *out)
{
    char *p = out;
    *p++ = '{';
    for (int i = 0; i < BATCH; i++) {
        if (i > 0)
            *p++ = ',';
        hp_uuid_v7(p);
        p += HP_UUID_LEN;
    }
    *p++ = '}';
    *p = '\0';
}

int main(int argc, char **argv)
{
    static char ids[BATCH * (HP_UUID_LEN + 1) + 3];
    const char *mode = argc > 2 ? argv[2] : "same";
    long long total = 0;
    int64_t t0;
    PGconn *pg;
    PGresult *r;

    if (argc < 2 || argc > 3 || (strcmp(mode, "same") != 0 && strcmp(mode, "bare") != 0)) {
        fprintf(stderr, "usage: bench_expiry DATABASE_URL [same|bare]\n");
        return 2;
    }
    pg = PQconnectdb(argv[1]);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "bench_expiry: %s", PQerrorMessage(pg));
        return 1;
    }
    r = PQprepare(pg, "batch", strcmp(mode, "same") == 0 ? same_sql : bare_sql, 1, NULL);
    if (!ok(pg, r))
        return 1;
    PQclear(r);
    t0 = hp_time_mono_ms();
    for (;;) {
        const char *p[] = {ids};
        long long n;
        ids_v7(ids);
        r = PQexecPrepared(pg, "batch", 1, p, NULL, NULL, 0);
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
