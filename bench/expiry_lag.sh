#!/usr/bin/env bash
# bench/expiry_lag: how late holdpoint-timeout closes approvals that come due
# at a steady RATE per second. Each case inserts RATE × DUE_SECONDS pending
# approvals (the shape bench/expiry.sh uses: a callback URL, a marked default
# option, expire_with_predefined_instruction) whose deadlines are spread
# evenly over DUE_SECONDS starting LEAD_S seconds ahead, then starts the
# worker(s) and waits until none is pending. (The API cannot create 5,000 a
# second on this machine, so the rows are written beforehand with their
# future deadlines; the worker plans and sleeps as it does in production.)
# The lag of each approval is the commit time of the transaction that
# expired it (track_commit_timestamp) minus its expires_at: when its expiry
# became visible to everyone. Cases: 1 and 2 copies of the worker,
# alternating, ROUNDS times; the figures are medians over the rounds.
# Starts its own throwaway PostgreSQL (durable) and Redis. Writes the result
# into docs/performance.md.
#
#   bench/expiry_lag.sh        (RATE=5000 DUE_SECONDS=10 LEAD_S=6 ROUNDS=3)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
rate=${RATE:-5000}
due_s=${DUE_SECONDS:-10}
lead=${LEAD_S:-6}
rounds=${ROUNDS:-3}
n=$((rate * due_s))

[ -x "$build/bin/holdpoint-timeout" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
(cd "$root/bench/peer" && { [ -d node_modules/pg ] || npm ci --no-audit --no-fund >/dev/null; })
bench_stack_start
psql_q() { psql "$HOLDPOINT_DATABASE_URL" -qAtX -v ON_ERROR_STOP=1 "$@"; }
# Commit times are recorded from the restart on.
psql_q -c "alter system set track_commit_timestamp = on"
"$root/scripts/services.sh" pg-stop "$run" >/dev/null
"$root/scripts/services.sh" pg-start "$run" >/dev/null

coming_due() { # TAG: n approvals due at $rate/s from $lead s ahead
    psql_q -c "insert into approvals (id, team_id, agent_id, request_id, request_id_supplied,
        question, context_markdown, options, timeout_seconds, timeout_mode, predefined_instruction,
        expires_at, canonical_hash, callback_url, callback_headers)
        select gen_random_uuid(), '$team', '$agent', '$1-' || i, true,
        'Deploy?', 'context', '[{\"label\":\"Yes\",\"value\":\"y\"},{\"label\":\"No\",\"value\":\"n\",\"is_default_on_timeout\":true}]',
        60, 'expire_with_predefined_instruction', 'stop',
        now() + make_interval(secs => $lead + (i - 1)::float8 / $rate),
        '\\x00', 'https://hooks.example.com/cb', '{\"X-Run\":\"1\"}'
        from generate_series(1, $n) as i" >/dev/null
    psql_q -c "vacuum analyze approvals" >/dev/null
    # The rows must all be written before the first comes due.
    late=$(psql_q -c "select count(*) from approvals where request_id like '$1-%' and expires_at < now()")
    [ "$late" = 0 ] || { echo "the insert took longer than LEAD_S=$lead s; raise it" >&2; exit 1; }
}
lag() { # TAG K: runs K copies until none is pending; prints one JSON line
    coming_due "$1"
    HOLDPOINT_LOG_LEVEL=warn WAIT_ZERO_LIMIT_S=$((lead + due_s + 120)) \
        node "$root/bench/peer/wait_zero.js" "$HOLDPOINT_DATABASE_URL" \
        "select count(*) from (select 1 from approvals where status = 'pending' limit 1) x" "$2" \
        "$build/bin/holdpoint-timeout" 2>>"$run/timeout-$2.log" >/dev/null
    psql_q -c "select json_build_object('case', '$2', 'n', count(*),
        'expired', count(*) filter (where status = 'expired'),
        'p50_ms', round(percentile_cont(0.5) within group (order by l)::numeric, 1),
        'p99_ms', round(percentile_cont(0.99) within group (order by l)::numeric, 1),
        'max_ms', round(max(l)::numeric, 1))
        from (select status, extract(epoch from pg_xact_commit_timestamp(xmin) - expires_at) * 1000 as l
              from approvals where request_id like '$1-%') x"
}
rows=""
for r in $(seq "$rounds"); do
    order="1 2"
    [ $((r % 2)) -eq 0 ] && order="2 1"
    for k in $order; do
        rows+=$(lag "lag$r-$k" "$k")$'\n'
    done
done
# Every approval expired, each exactly once.
bad=$(printf '%s' "$rows" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
  const b = s.trim().split("\n").map(l => JSON.parse(l)).filter(r => r.n !== r.expired || r.n !== Number(process.argv[1]));
  process.stdout.write(String(b.length));
});' "$n")
[ "$bad" = 0 ] || { echo "not every approval expired: $rows" >&2; exit 1; }
events=$(psql_q -c "select count(*) from approval_events where kind = 'expired'")
total=$((2 * n * rounds))
[ "$events" = "$total" ] || { echo "expected $total expired events, got $events" >&2; exit 1; }
sum=$(printf '%s' "$rows" | bench_medians)
maxes() { printf '%s' "$rows" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
  const v = s.trim().split("\n").map(l => JSON.parse(l)).filter(r => r.case === process.argv[1]).map(r => r.max_ms);
  process.stdout.write(v.join(", "));
});' "$1"; }
p1=$(bench_get "$sum" 1 p99) p2=$(bench_get "$sum" 2 p99)
echo "expiry_lag at $rate/s: p99 ${p1} ms one copy, ${p2} ms two copies"
rate_fmt=$(node -e 'process.stdout.write(Number(process.argv[1]).toLocaleString("en-US"))' "$rate")
n_fmt=$(node -e 'process.stdout.write(Number(process.argv[1]).toLocaleString("en-US"))' "$n")

bench_write_section expiry_lag "## Expiry lag (bench/expiry_lag)

How late \`holdpoint-timeout\` closes approvals that come due at a steady
$rate_fmt a second: $n_fmt pending approvals (each with a callback URL, a
marked default option and \`expire_with_predefined_instruction\`, as in
bench/expiry) whose deadlines are spread evenly over $due_s s, written
beforehand with their future deadlines (the API cannot create $rate_fmt a second
on this machine), then the worker(s) started: each plans, sleeps until the
first deadline and expires in batches of up to 200 as approvals come due.
An approval's lag is the commit time of the transaction that expired it
(\`track_commit_timestamp\`) minus its \`expires_at\`: the moment its expiry
became visible to waiters (the NOTIFY is sent at that commit). Goal: p99 at
most 1 s at 5,000 a second.

| worker copies | p50 ms | p99 ms | max ms |
|---|---|---|---|
| 1 | $(bench_get "$sum" 1 p50) | $p1 | $(maxes 1) |
| 2 | $(bench_get "$sum" 2 p50) | $p2 | $(maxes 2) |

Medians of $rounds rounds, the two cases alternating (p50/p99 per round: one
copy $(bench_get "$sum" 1 rounds); two copies $(bench_get "$sum" 2 rounds); the
max column lists every round's). Every approval was expired exactly once
($events \`expired\` events for $total approvals). Measured $(date -u +%Y-%m-%d) on
$(nproc) cores (load average $(cut -d" " -f1 /proc/loadavg) at the end, the machine shared
with other work), PostgreSQL (fsync on) and Redis on the same machine.
Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/expiry_lag.sh        # RATE=5000 DUE_SECONDS=10 LEAD_S=6 ROUNDS=3
\`\`\`"
