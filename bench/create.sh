#!/usr/bin/env bash
# bench/create: approvals created per second through the API (auth,
# validation, the EVALSHA rate limit, one prepared statement that inserts,
# audits and wakes), loaded by wrk (bench/create.lua), beside two figures from the same run, the same
# PostgreSQL and the same number of clients: pgbench -M prepared running the
# API's own statement (bench/create.pgbench) — the ceiling of the database
# work — and pg-boss `send` of the same payload (bench/peer, a job queue on
# PostgreSQL). The three run back to back, alternating, ROUNDS times; each
# figure is the median of its rounds. Starts its own throwaway PostgreSQL
# (durable: fsync on) and Redis, and sends traffic only to 127.0.0.1. Writes
# the result into docs/performance.md.
#
#   bench/create.sh            (CLIENTS=16 SECONDS_RUN=10 ROUNDS=5 BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
clients=${CLIENTS:-16}
secs=${SECONDS_RUN:-10}
rounds=${ROUNDS:-5}

(cd "$root/bench/peer" && { [ -d node_modules/pg-boss ] || npm ci --no-audit --no-fund >/dev/null; })
bench_stack_start
bench_start_api API HOLDPOINT_API_THREADS=64 HOLDPOINT_MAX_WAITERS=16 HOLDPOINT_DB_POOL_SIZE="$clients"
if [ -x "$build/bin/holdpoint-timeout" ]; then
    HOLDPOINT_LOG_LEVEL=warn "$build/bin/holdpoint-timeout" 2>"$run/timeout.log" &
    bench_pids+=($!)
fi
median() { bench_median "$@"; }
ratio() { bench_ratio "$1" "$2"; }

# The bench key's id, for the statement's check of a remembered key.
keyid=$(psql -Atq "$HOLDPOINT_DATABASE_URL" -c "select id from api_keys where team_id = '$team'")
# The API's load: wrk, one thread, $clients keep-alive connections
# (bench/create.lua). Each round's rate is its 2xx answers over wrk's run
# time; every answer must be a 2xx, and the approvals table must hold at
# least that many new rows of the bench agent (at most one per connection
# more: requests still in flight when wrk stops).
agent_rows() { psql -Atq "$HOLDPOINT_DATABASE_URL" -c "select count(*) from approvals where agent_id = '$agent'"; }
wrk_create() { # SECONDS: prints creates per second
    local out before after
    before=$(agent_rows)
    out=$(HP_BENCH_KEY=$key HP_BENCH_AGENT=$agent wrk -t1 -c"$clients" -d"${1}s" \
        -s "$root/bench/create.lua" "$API/v1/approvals" | tail -n 1)
    after=$(agent_rows)
    node -e '
const o = JSON.parse(process.argv[1]), rows = Number(process.argv[2]), extra = Number(process.argv[3]);
if (o.status_errors || o.socket_errors) { console.error("wrk: not every create answered 2xx", o); process.exit(1); }
if (rows < o.requests || rows > o.requests + extra) { console.error("wrk: " + o.requests + " creates answered, " + rows + " rows"); process.exit(1); }
process.stdout.write(String(o.requests / (o.duration_us / 1e6)) + "\n");' "$out" "$((after - before))" "$clients"
}
bench_need_wrk
# Warm up (connections, prepared statements, the script cache).
wrk_create 3 >/dev/null
apis=() pgs=() boss=()
for _ in $(seq "$rounds"); do
    apis+=("$(wrk_create "$secs")")
    pg_out=$(pgbench -n -M prepared -c "$clients" -j 2 -T "$secs" -f "$root/bench/create.pgbench" \
        -D team="$team" -D agent="$agent" -D keyid="$keyid" "$HOLDPOINT_DATABASE_URL" 2>&1)
    pgs+=("$(printf '%s\n' "$pg_out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -n1)")
    out=$(node "$root/bench/peer/pgboss_send.js" "$HOLDPOINT_DATABASE_URL" "$clients" "$secs" \
        2>>"$run/pgboss.log" | tail -n 1)
    boss+=("$(bench_json_field "$out" rate)")
done
# The ceiling's rows are real: its statement inserts only past the key check.
pg_rows=$(psql -Atq "$HOLDPOINT_DATABASE_URL" -c "select count(*) from approvals where canonical_hash = sha256('x')")
[ "$pg_rows" -gt 0 ] || { echo "pgbench inserted no rows (key check)" >&2; exit 1; }
api_rate=$(median "${apis[@]}")
pg_rate=$(median "${pgs[@]}")
boss_rate=$(median "${boss[@]}")
r_pg=$(ratio "$api_rate" "$pg_rate")
r_boss=$(ratio "$api_rate" "$boss_rate")
fmt() { node -e 'process.stdout.write(Number(process.argv[1]).toFixed(0))' "$1"; }
fmt_all() { node -e 'process.stdout.write(process.argv.slice(1).map(x => Number(x).toFixed(0)).join(" "))' "$@"; }
per_round=()
for i in "${!apis[@]}"; do per_round+=("$(ratio "${apis[$i]}" "${boss[$i]}")"); done
echo "create: api $api_rate/s; pgbench -M prepared $pg_rate tps (ratio $r_pg); pg-boss $boss_rate/s (ratio $r_boss)"

bench_write_section create "## Create (bench/create)

Approvals created per second through \`POST /v1/approvals\` over HTTP (API key
lookup, skipped after the first create of a key the replica remembers, whose
insert then checks the key again; validation, the Redis sliding-window rate limit by \`EVALSHA\`, then
one prepared statement that inserts the approval and its \`created\` event and
sends the conditional expiry NOTIFY, then the wake message for live views;
each request counts its own rate-limit hit, then the creates that arrive
together share the statement, whose leader publishes one wake per team:
docs/internals/batching.md), with $clients clients (wrk, one thread,
$clients keep-alive connections, \`bench/create.lua\`; a round's rate is its
answers over its run time, and the script checks that every answer was a
2xx and that the table holds that many new rows), beside two
figures from the same run on the same durable PostgreSQL with the same
number of clients: \`pgbench -M prepared\` running that statement for one row
(\`bench/create.pgbench\`: the ceiling of the database work), and pg-boss
10 \`send\` of the same payload (a job queue on PostgreSQL).

| case | per second | API ÷ it |
|---|---|---|
| holdpoint-api, POST /v1/approvals | $(fmt "$api_rate") | |
| pgbench -M prepared, the same statement (ceiling) | $(fmt "$pg_rate") | $r_pg |
| pg-boss \`send\` (peer) | $(fmt "$boss_rate") | $r_boss |

Medians of $rounds rounds of ${secs} s run back to back, alternating (per round:
API $(fmt_all "${apis[@]}"); pgbench $(fmt_all "${pgs[@]}"); pg-boss $(fmt_all "${boss[@]}");
API ÷ pg-boss ${per_round[*]}). Measured
$(date -u +%Y-%m-%d) on $(nproc) cores (load average $(cut -d" " -f1 /proc/loadavg)
at the end, the machine shared with other work), with the load generators,
the API, PostgreSQL and Redis sharing them. Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/create.sh            # CLIENTS=16 SECONDS_RUN=10 ROUNDS=5
\`\`\`"
