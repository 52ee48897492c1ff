#!/usr/bin/env bash
# bench/action_inbox: GET /v1/action-responses pages with 1,000,000 action
# responses in one project — the first unacknowledged page (the default), the
# first page of all, a page half-way down (its cursor), and one session's
# first page — beside the same statement run by pgbench on the same database
# (bench/action_inbox.pgbench, the SQL ceiling) and GET /healthz (the HTTP
# floor), alternating in rounds. Own throwaway stack; traffic only to
# 127.0.0.1. Writes docs/performance.md.
#
#   bench/action_inbox.sh      (SAMPLES=500 ROUNDS=3 RESPONSES=1000000 BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
samples=${SAMPLES:-500}
rounds=${ROUNDS:-3}
total=${RESPONSES:-1000000}

bench_stack_start
# Responses inserted directly (the write path is the decision's): 100
# sessions, every 100th still pending, the rest processed, 10 ms apart,
# each answering a message with its own client_event_id.
"$HP_PG_BIN/psql" -q "$HOLDPOINT_DATABASE_URL" -v ON_ERROR_STOP=1 -c "
insert into action_responses (id, team_id, agent_id, seq, session_id, notification_id, kind,
    action, button_index, button_label, notification_client_event_id, user_name, device,
    notification_title, notification_message, ack_status, acked_at, decided_at, recorded_at)
select gen_random_uuid(), '$team', '$agent', g, 'run-' || (g % 100), gen_random_uuid(), 'button',
    'button_pressed', g % 2, case when g % 2 = 0 then 'Yes' else 'No' end, 'msg-' || g,
    'Bench Reviewer', 'web',
    'Deploy build ' || g || '?', 'Build **' || g || '** passed CI.',
    case when g % 100 = 0 then 'pending' else 'processed' end,
    case when g % 100 = 0 then null else now() end,
    now() - make_interval(secs => ($total - g) / 100.0), now() - make_interval(secs => ($total - g) / 100.0)
from generate_series(1, $total) g;
insert into inbox_counters (agent_id, seq) values ('$agent', $total);
analyze action_responses;"
half=$((total / 2))
sql1() { "$HP_PG_BIN/psql" -qtA "$HOLDPOINT_DATABASE_URL" -c "$1"; }
deep=$(sql1 "select id from action_responses where agent_id = '$agent' and seq = $half")
# The last 50 responses: recorded at or after this (RFC 3339, and µs).
after=$(sql1 "select to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') from action_responses where agent_id = '$agent' and seq = $((total - 49))")
after_us=$(sql1 "select (extract(epoch from recorded_at) * 1000000)::bigint from action_responses where agent_id = '$agent' and seq = $((total - 49))")

bench_start_api A HOLDPOINT_DB_POOL_SIZE=4
# The statement with the filters as literals (pgbench cannot pass NULL),
# and the pending variant; agent and after_seq stay parameters.
variant() { # OUT PENDING [SED EXPRESSION...]
    local out=$1 pending=$2
    shift 2
    sed -e "s/:session/null/g" "$@" "$root/bench/action_inbox.pgbench" >"$out"
    [ "$pending" = pending ] && sed -i "s/ order by r.seq limit 51;/ and r.ack_status = 'pending' order by r.seq limit 51;/" "$out"
    return 0
}
variant "$run/q_first_unacked.sql" pending
variant "$run/q_first_all.sql" all
variant "$run/q_session_all.sql" all -e "s/:session/'run-7'/g"
variant "$run/q_client_event.sql" all -e "s/null::text is null or r.client_event_id = null or r.notification_client_event_id = null/'msg-$half'::text is null or r.client_event_id = 'msg-$half' or r.notification_client_event_id = 'msg-$half'/"
variant "$run/q_after.sql" all -e "s/null::bigint is null or r.recorded_at >= ('epoch'::timestamptz + null::bigint/${after_us}::bigint is null or r.recorded_at >= ('epoch'::timestamptz + ${after_us}::bigint/"

pg_case() { # NAME FILE AFTER_SEQ
    rm -f "$run"/pgb.*
    (cd "$run" && pgbench -n -M prepared -c 1 -t "$samples" -f "$2" -D agent="$agent" \
        -D after_seq="$3" --log --log-prefix="$run/pgb" "$HOLDPOINT_DATABASE_URL" >/dev/null 2>&1)
    cat "$run"/pgb.* | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
  const xs = s.trim().split("\n").map(l => Number(l.split(" ")[2]) / 1000).sort((a, b) => a - b);
  const pct = p => xs[Math.min(xs.length - 1, Math.ceil(p / 100 * xs.length) - 1)];
  console.log(JSON.stringify({ case: "sql_" + process.argv[1], p50_ms: +pct(50).toFixed(2), p99_ms: +pct(99).toFixed(2), samples: xs.length }));
});' "$1"
}

results=()
for r in $(seq "$rounds"); do
    while IFS= read -r line; do results+=("$line"); done < <(
        DEEP_CURSOR=$deep SESSION=run-7 CLIENT_EVENT=msg-$half AFTER=$after node "$root/bench/action_inbox.mjs" "$A" "$key" "$agent" "$samples")
    results+=("$(pg_case first_unacked "$run/q_first_unacked.sql" 0)")
    results+=("$(pg_case first_all "$run/q_first_all.sql" 0)")
    results+=("$(pg_case deep_all "$run/q_first_all.sql" $((total / 2)))")
    results+=("$(pg_case session_all "$run/q_session_all.sql" 0)")
    results+=("$(pg_case client_event "$run/q_client_event.sql" 0)")
    results+=("$(pg_case after "$run/q_after.sql" 0)")
done
printf '%s\n' "${results[@]}"

summary=$(printf '%s\n' "${results[@]}" | bench_medians)
get() { bench_get "$summary" "$1" "$2"; }
ratio() { bench_ratio "$1" "$2"; }
num() { node -e 'process.stdout.write(Number(process.argv[1]).toLocaleString("en-US"))' "$1"; }
row() { # CASE LABEL
    printf '| %s | %s | %s | %s | %s | %s |' "$2" "$(get "$1" p50)" "$(get "$1" p99)" \
        "$(get "sql_$1" p50)" "$(get "sql_$1" p99)" "$(ratio "$(get "$1" p99)" "$(get "sql_$1" p99)")"
}

bench_write_section action_inbox "## Action-response inbox (bench/action_inbox)

Pages of \`GET /v1/action-responses\` (50 items, API key, one request at a
time over a keep-alive connection) with $(num "$total") action responses in the
project (100 sessions; every 100th still unacknowledged), beside the same
statement run by \`pgbench -M prepared\` on the same database
(\`bench/action_inbox.pgbench\`: the SQL ceiling) and \`GET /healthz\` (the
HTTP floor: $(get healthz p50) ms p50, $(get healthz p99) ms p99). Each page is one
indexed read of at most 51 rows — the partial pending index for the default
\`unacked_only=true\`, the \`(agent_id, seq)\` key otherwise, an index per
filter (\`sql/007_sessions_messages_filters.sql\`) for the selective ones — whatever the
project's size or the page's depth; the API adds the key's lookup (and, with
a cursor, the cursor's sequence number).

| page | API p50 ms | API p99 ms | SQL p50 ms | SQL p99 ms | API p99 ÷ SQL p99 |
|---|---|---|---|---|---|
$(row first_unacked 'first, unacknowledged only (default)')
$(row first_all 'first, all (`unacked_only=false`)')
$(row deep_all "after $(num "$half") (\`cursor\`)")
$(row session_all "one session's first (\`session_id\`)")
$(row client_event "one response by \`client_event_id\`")
$(row after "the last 50 (\`after\`)")

Medians of $rounds rounds of $samples requests, API and SQL alternating (API p50/p99 of
the default page per round: $(get first_unacked rounds)). Measured $(date -u +%Y-%m-%d) on $(nproc) cores
(load average $(cut -d' ' -f1 /proc/loadavg) at the end, the machine shared with other work), the client,
the API, PostgreSQL and Redis on the same machine. Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/action_inbox.sh      # SAMPLES=500 ROUNDS=3 RESPONSES=1000000
\`\`\`"
