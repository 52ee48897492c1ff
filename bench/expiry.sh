#!/usr/bin/env bash
# bench/expiry: approvals expired per second by holdpoint-timeout (1 and 2
# copies) from a backlog of N due approvals, divided by the rate of a
# set-based statement that writes the same rows (bench/bench_expiry.c
# "same": one prepared statement per 200 approvals from a bare libpq loop
# that claims, closes with the default option, audits, queues the callback
# jobs, records the timeout default's action responses and notifies) on the
# same database in the same run; beside it, for reference, the bare claim
# ("bare": no default option, no action responses). Each approval has a
# callback URL and a default option, so every expiry also queues its
# callback job and records an action response. Starts its own throwaway
# PostgreSQL (durable) and Redis. Writes the result into docs/performance.md.
#
#   bench/expiry.sh            (APPROVALS=20000 ROUNDS=3 BUILD_DIR=build)
#
# The three cases run interleaved, ROUNDS times, and each figure is the median
# of its rounds, so a load spike on a shared machine hits all cases alike.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
n=${APPROVALS:-20000}
rounds=${ROUNDS:-3}

for b in holdpoint-timeout bench_expiry; do
    [ -x "$build/bin/$b" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
done
(cd "$root/bench/peer" && { [ -d node_modules/pg ] || npm ci --no-audit --no-fund >/dev/null; })
bench_stack_start

psql_q() { psql "$HOLDPOINT_DATABASE_URL" -qAtX -v ON_ERROR_STOP=1 "$@"; }
due() { # inserts $n due approvals
    bench_due_approvals "$n" "'bench-' || gen_random_uuid()" "now() - interval '1 second'"
}
# 0 or 1: polled every 10 ms while the workers run, so it must cost next to
# nothing (a count of the backlog would compete with the workers).
pending="select count(*) from (select 1 from approvals where status = 'pending'
    and expires_at <= now() limit 1) x"

workers() { # K: seconds for K copies to expire the backlog
    due
    HOLDPOINT_LOG_LEVEL=warn node "$root/bench/peer/wait_zero.js" "$HOLDPOINT_DATABASE_URL" \
        "$pending" "$1" "$build/bin/holdpoint-timeout" 2>>"$run/timeout-$1.log"
}
calc() { node -e "process.stdout.write(String($1))"; }
median() { bench_median "$@"; }
ceiling() { # MODE: seconds for bench_expiry MODE to expire the backlog
    due
    bench_json_field "$("$build/bin/bench_expiry" "$HOLDPOINT_DATABASE_URL" "$1")" seconds
}
raws=() bares=() s1s=() s2s=()
for _ in $(seq "$rounds"); do
    raws+=("$(ceiling same)")
    s1s+=("$(workers 1)")
    s2s+=("$(workers 2)")
    bares+=("$(ceiling bare)")
done
raw_s=$(median "${raws[@]}")
bare_s=$(median "${bares[@]}")
s1=$(median "${s1s[@]}")
s2=$(median "${s2s[@]}")
events=$(psql_q -c "select count(*) from approval_events where kind = 'expired'")
total=$((4 * n * rounds))
[ "$events" = "$total" ] || { echo "expected $total expired events, got $events" >&2; exit 1; }
responses=$(psql_q -c "select count(*) from action_responses")
[ "$responses" = $((3 * n * rounds)) ] || { echo "expected $((3 * n * rounds)) action responses, got $responses" >&2; exit 1; }
raw_r=$(calc "($n/$raw_s).toFixed(0)")
bare_r=$(calc "($n/$bare_s).toFixed(0)")
r1=$(calc "($n/$s1).toFixed(0)")
r2=$(calc "($n/$s2).toFixed(0)")
q1=$(calc "($raw_s/$s1).toFixed(2)")
q2=$(calc "($raw_s/$s2).toFixed(2)")
qb=$(calc "($raw_s/$bare_s).toFixed(2)")
echo "expiry: same rows set-based $raw_r/s; 1 worker $r1/s (ratio $q1); 2 workers $r2/s (ratio $q2); bare claim $bare_r/s"

bench_write_section expiry "## Expiry (bench/expiry)

Approvals expired per second by \`holdpoint-timeout\` from a backlog of $n due
approvals (each with a callback URL, a marked default option and
\`expire_with_predefined_instruction\`), timed from the workers' start to the
last one expired. Each batch of 200 is the full transition in one prepared
statement: the \`FOR UPDATE SKIP LOCKED\` claim, the close with the default
option, the \`expired\` audit events, the callback jobs, the timeout
defaults' action responses (numbered from the agent's inbox counter), the
checks for team webhook channels and project webhooks, \`NOTIFY
hp_approval\`; after it, one pipelined Redis \`PUBLISH\` and a log line per
expiry (at the level \`warn\` here, so not written). The ceiling is a
set-based statement that writes the same rows (\`bench/bench_expiry.c\`
\`same\`: per 200 approvals one prepared statement from a bare libpq loop
that claims, closes with the default option, inserts the events, the
callback jobs and the action responses and notifies, with no logging and no
Redis) on the same durable PostgreSQL in the same run. The bare claim
(\`bare\`: no default option and no action responses, what this table's
ceiling was before) is shown for reference: the timeout default's action
response — a row in a table with eleven indexes and three foreign keys — is
most of the difference between the two.

| case | approvals | seconds | expiries/s | ÷ ceiling |
|---|---|---|---|---|
| set-based statement writing the same rows (ceiling) | $n | $raw_s | $raw_r | 1.00 |
| holdpoint-timeout, 1 copy | $n | $s1 | $r1 | $q1 |
| holdpoint-timeout, 2 copies | $n | $s2 | $r2 | $q2 |
| bare claim without the action responses (reference) | $n | $bare_s | $bare_r | $qb |

Medians of $rounds interleaved rounds (seconds per round: ceiling ${raws[*]}; 1 copy
${s1s[*]}; 2 copies ${s2s[*]}; bare claim ${bares[*]}). Every approval was expired exactly once ($events
\`expired\` events for $total approvals). Measured $(date -u +%Y-%m-%d) on $(nproc) cores (load average $(cut -d" " -f1 /proc/loadavg) at the end, the machine shared with other work), PostgreSQL and
Redis on the same machine. Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/expiry.sh            # APPROVALS=20000 ROUNDS=3
\`\`\`"
