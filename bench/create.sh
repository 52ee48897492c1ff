#!/usr/bin/env bash
# bench/create: approvals created per second through the API (auth, validation,
# rate limit, insert, event, conditional NOTIFY) divided by the rate pgbench
# reaches running the same transaction (bench/create.pgbench) on the same
# database, with the same number of clients, in the same run. Starts its own
# throwaway PostgreSQL (durable: fsync on) and Redis, and sends traffic only to
# 127.0.0.1. Writes the result into docs/performance.md.
#
#   bench/create.sh            (CLIENTS=16 SECONDS_RUN=20 BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
clients=${CLIENTS:-16}
secs=${SECONDS_RUN:-20}

bench_stack_start
bench_start_api API HOLDPOINT_API_THREADS=64 HOLDPOINT_MAX_WAITERS=16 HOLDPOINT_DB_POOL_SIZE="$clients"
if [ -x "$build/bin/holdpoint-timeout" ]; then
    HOLDPOINT_LOG_LEVEL=warn "$build/bin/holdpoint-timeout" 2>"$run/timeout.log" &
    bench_pids+=($!)
fi

# Warm up, then measure the API.
"$build/bin/bench_create" "$API" "$agent" "$key" "$clients" 3 >/dev/null
out=$("$build/bin/bench_create" "$API" "$agent" "$key" "$clients" "$secs")
api_rate=$(bench_json_field "$out" rate)

# The same transaction straight into PostgreSQL.
pg_out=$(pgbench -n -c "$clients" -j 2 -T "$secs" -f "$root/bench/create.pgbench" \
    -D team="'$team'" -D agent="'$agent'" "$HOLDPOINT_DATABASE_URL" 2>&1)
pg_rate=$(printf '%s\n' "$pg_out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -n1)
ratio=$(node -e 'process.stdout.write((process.argv[1]/process.argv[2]).toFixed(2))' "$api_rate" "$pg_rate")
echo "api: $api_rate creates/s  pgbench: $pg_rate tps  ratio: $ratio"

bench_write_section create "## Create (bench/create)

Approvals created per second through \`POST /v1/approvals\` over HTTP (API key
lookup, validation, Redis sliding-window rate limit, then one statement that
inserts the approval and its \`created\` event and sends the conditional expiry
NOTIFY), divided by what \`pgbench\` reaches running that same statement
(\`bench/create.pgbench\`) against the same durable PostgreSQL with the same
number of clients, in the same run. The ratio is what the API costs on top of
its own database work.

| clients | seconds | API creates/s | pgbench tps (same transaction) | ratio |
|---|---|---|---|---|
| $clients | $secs | $api_rate | $pg_rate | $ratio |

Measured $(date -u +%Y-%m-%d) on $(nproc) cores, with the load generator, the
API, PostgreSQL and Redis sharing them. Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/create.sh            # CLIENTS=16 SECONDS_RUN=20
\`\`\`"
