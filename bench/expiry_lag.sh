#!/usr/bin/env bash
# bench/expiry_lag: how late holdpoint-timeout closes approvals that come due
# at a steady rate. Each case inserts RATE × DUE_SECONDS pending approvals
# (the shape bench/expiry.sh uses: a callback URL, a marked default option,
# expire_with_predefined_instruction) whose deadlines are spread evenly over
# DUE_SECONDS starting LEAD_S seconds ahead, then starts the worker(s) and
# waits until none is pending. (The API cannot create 5,000 a second on this
# machine, so the rows are written beforehand with their future deadlines;
# the worker plans and sleeps as it does in production.) The lag of each
# approval is the commit time of the transaction that expired it
# (track_commit_timestamp) minus its expires_at: when its expiry became
# visible to everyone. Cases: each rate of RATES with 1 and 2 copies of the
# worker, alternating, ROUNDS times; the figures are medians over the rounds.
# The throughput ceiling of bench/expiry (the same rows written by a bare
# loop) is measured once at the end for scale. Starts its own throwaway
# PostgreSQL (durable) and Redis. Writes the result into docs/performance.md.
#
#   bench/expiry_lag.sh        (RATES="5000 2000" DUE_SECONDS=10 LEAD_S=10 ROUNDS=3)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
rates=${RATES:-5000 2000}
due_s=${DUE_SECONDS:-10}
lead=${LEAD_S:-10}
rounds=${ROUNDS:-3}

for b in holdpoint-timeout bench_expiry; do
    [ -x "$build/bin/$b" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
done
(cd "$root/bench/peer" && { [ -d node_modules/pg ] || npm ci --no-audit --no-fund >/dev/null; })
bench_stack_start
psql_q() { psql "$HOLDPOINT_DATABASE_URL" -qAtX -v ON_ERROR_STOP=1 "$@"; }
# Commit times are recorded from the restart on.
psql_q -c "alter system set track_commit_timestamp = on"
"$root/scripts/services.sh" pg-stop "$run" >/dev/null
"$root/scripts/services.sh" pg-start "$run" >/dev/null

insert_due() { # TAG N AT: N approvals, deadlines from AT (SQL) at $due_s/N apart
    bench_due_approvals "$2" "'$1-' || i" "$3 + make_interval(secs => (i - 1)::float8 * $due_s / $2)"
}
lag() { # TAG RATE K: runs K copies until none is pending; prints one JSON line
    local n=$(($2 * due_s))
    insert_due "$1" "$n" "now() + interval '$lead seconds'"
    # The rows must all be written before the first comes due.
    late=$(psql_q -c "select count(*) from approvals where request_id like '$1-%' and expires_at < now()")
    [ "$late" = 0 ] || { echo "the insert took longer than LEAD_S=$lead s; raise it" >&2; exit 1; }
    HOLDPOINT_LOG_LEVEL=warn WAIT_ZERO_LIMIT_S=$((lead + due_s + 120)) \
        node "$root/bench/peer/wait_zero.js" "$HOLDPOINT_DATABASE_URL" \
        "select count(*) from (select 1 from approvals where status = 'pending' limit 1) x" "$3" \
        "$build/bin/holdpoint-timeout" 2>>"$run/timeout-$3.log" >/dev/null
    psql_q -c "select json_build_object('case', '$2/$3', 'n', count(*),
        'expired', count(*) filter (where status = 'expired'),
        'p50_ms', round(percentile_cont(0.5) within group (order by l)::numeric, 1),
        'p99_ms', round(percentile_cont(0.99) within group (order by l)::numeric, 1),
        'max_ms', round(max(l)::numeric, 1))
        from (select status, extract(epoch from pg_xact_commit_timestamp(xmin) - expires_at) * 1000 as l
              from approvals where request_id like '$1-%') x"
}
rows="" total=0
for r in $(seq "$rounds"); do
    order="1 2"
    [ $((r % 2)) -eq 0 ] && order="2 1"
    for rate in $rates; do
        for k in $order; do
            rows+=$(lag "lag$r-$rate-$k" "$rate" "$k")$'\n'
            total=$((total + rate * due_s))
        done
    done
done
# Every approval expired, each exactly once.
bad=$(printf '%s' "$rows" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
  const b = s.trim().split("\n").map(l => JSON.parse(l))
    .filter(r => r.n !== r.expired || r.n !== Number(r.case.split("/")[0]) * Number(process.argv[1]));
  process.stdout.write(String(b.length));
});' "$due_s")
[ "$bad" = 0 ] || { echo "not every approval expired: $rows" >&2; exit 1; }
events=$(psql_q -c "select count(*) from approval_events where kind = 'expired'")
[ "$events" = "$total" ] || { echo "expected $total expired events, got $events" >&2; exit 1; }
# For scale: the rate at which the same rows can be written at all here.
insert_due ceiling 20000 "now() - interval '1 hour'"
ceiling=$(bench_json_field "$("$build/bin/bench_expiry" "$HOLDPOINT_DATABASE_URL" same)" rate)
ceiling=$(node -e 'process.stdout.write(Number(process.argv[1]).toFixed(0))' "$ceiling")
sum=$(printf '%s' "$rows" | bench_medians)
fmt() { node -e 'process.stdout.write(Number(process.argv[1]).toLocaleString("en-US"))' "$1"; }
maxes() { printf '%s' "$rows" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
  const v = s.trim().split("\n").map(l => JSON.parse(l)).filter(r => r.case === process.argv[1]).map(r => r.max_ms);
  process.stdout.write(v.join(", "));
});' "$1"; }
table="" per_round=""
for rate in $rates; do
    for k in 1 2; do
        c="$rate/$k"
        table+="| $(fmt "$rate") | $k | $(bench_get "$sum" "$c" p50) | $(bench_get "$sum" "$c" p99) | $(maxes "$c") |"$'\n'
        per_round+="$(fmt "$rate")/s with $k: $(bench_get "$sum" "$c" rounds); "
        echo "expiry_lag at $rate/s, worker copies $k: p99 $(bench_get "$sum" "$c" p99) ms"
    done
done
echo "expiry_lag: the same rows written by a bare loop: $ceiling/s"

bench_write_section expiry_lag "## Expiry lag (bench/expiry_lag)

How late \`holdpoint-timeout\` closes approvals that come due at a steady
rate: rate × $due_s pending approvals (each with a callback URL, a marked
default option and \`expire_with_predefined_instruction\`, as in
bench/expiry) whose deadlines are spread evenly over $due_s s, written
beforehand with their future deadlines (the API cannot create 5,000 a second
on this machine), then the worker(s) started: each plans, sleeps until the
first deadline and expires in batches of up to 200 as approvals come due.
An approval's lag is the commit time of the transaction that expired it
(\`track_commit_timestamp\`) minus its \`expires_at\`: the moment its expiry
became visible to waiters (the NOTIFY is sent at that commit). Goal: p99 at
most 1 s at 5,000 a second.

| due per second | worker copies | p50 ms | p99 ms | max ms (each round) |
|---|---|---|---|---|
${table}
For scale, in the same run: a bare loop writing the same rows with the same
statement shape, one batch after another on one connection (\`bench_expiry
same\`, the ceiling of bench/expiry), expired a 20,000 backlog at
$(fmt "$ceiling") a second: one connection writing batch after batch cannot keep up
with 5,000 a second. A copy of the worker claims a backlog with two
threads on two connections, each running its batch while the other's
commits (docs/internals/expiry.md), so one copy keeps up; two copies run
four.

Medians of $rounds rounds, the copies alternating (p50/p99 per round: ${per_round%; }).
Every approval was expired exactly once ($events \`expired\` events for $total
approvals). Measured $(date -u +%Y-%m-%d) on $(nproc) cores (load average $(cut -d" " -f1 /proc/loadavg) at the end,
the machine shared with other work), PostgreSQL (fsync on) and Redis on the
same machine. Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/expiry_lag.sh        # RATES=\"5000 2000\" DUE_SECONDS=10 LEAD_S=10 ROUNDS=3
\`\`\`"
