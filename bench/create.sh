#!/usr/bin/env bash
# bench/create: approvals created per second through the API (auth, validation,
# rate limit, insert, event, conditional NOTIFY) divided by the rate pgbench
# reaches running the same transaction (bench/create.pgbench) on the same
# database, with the same number of clients, in the same run. Starts its own
# throwaway PostgreSQL (durable: fsync on) and Redis, and sends traffic only to
# 127.0.0.1. Writes the result table into docs/performance.md.
#
#   bench/create.sh            (CLIENTS=16 SECONDS_RUN=20 BUILD_DIR=build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
clients=${CLIENTS:-16}
secs=${SECONDS_RUN:-20}
build=${BUILD_DIR:-$root/build}
run=$(mktemp -d /tmp/hp-bench-create.XXXXXX)
pids=()

cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    "$root/scripts/services.sh" stop "$run" >/dev/null 2>&1 || true
    rm -rf "$run"
}
trap cleanup EXIT

[ -x "$build/bin/holdpoint-api" ] && [ -x "$build/bin/bench_create" ] || {
    echo "build first: cmake -S . -B build && cmake --build build" >&2
    exit 1
}
"$root/scripts/services.sh" start "$run" >/dev/null
# shellcheck disable=SC1091
. "$run/env"
"$build/bin/holdpoint" migrate >/dev/null
boot=$("$build/bin/holdpoint" admin bootstrap --team bench --email "bench-$$@example.com" \
    --password bench-password --agent bench-agent --json)
field() { node -e 'const o=JSON.parse(process.argv[1]); process.stdout.write(String(o[process.argv[2]]))' "$boot" "$1"; }
team=$(field team_id)
agent=$(field agent_id)
key=$(field api_key)

port=$(( 20000 + RANDOM % 20000 ))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
HOLDPOINT_LISTEN="127.0.0.1:$port" HOLDPOINT_API_THREADS=64 HOLDPOINT_DB_POOL_SIZE=$clients \
AGENT_CREATE_RATE_LIMIT_MAX=100000000 AGENT_CREATE_RATE_LIMIT_WINDOW_MS=1000 \
HOLDPOINT_LOG_LEVEL=warn "$build/bin/holdpoint-api" 2>"$run/api.log" &
pids+=($!)
if [ -x "$build/bin/holdpoint-timeout" ]; then
    HOLDPOINT_LOG_LEVEL=warn "$build/bin/holdpoint-timeout" 2>"$run/timeout.log" &
    pids+=($!)
fi
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

# Warm up, then measure the API.
"$build/bin/bench_create" "http://127.0.0.1:$port" "$agent" "$key" "$clients" 3 >/dev/null
api=$("$build/bin/bench_create" "http://127.0.0.1:$port" "$agent" "$key" "$clients" "$secs")
api_rate=$(node -e 'process.stdout.write(String(JSON.parse(process.argv[1]).rate))' "$api")

# The same transaction straight into PostgreSQL.
pg_out=$(pgbench -n -c "$clients" -j 2 -T "$secs" -f "$root/bench/create.pgbench" \
    -D team="$team" -D agent="$agent" "$HOLDPOINT_DATABASE_URL" 2>&1)
pg_rate=$(printf '%s\n' "$pg_out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -n1)
ratio=$(node -e 'process.stdout.write((process.argv[1]/process.argv[2]).toFixed(2))' "$api_rate" "$pg_rate")

echo "api: $api_rate creates/s  pgbench: $pg_rate tps  ratio: $ratio"

doc="$root/docs/performance.md"
[ -f "$doc" ] || printf '# Performance\n' >"$doc"
section=$(cat <<MD
<!-- bench:create -->
## Create (bench/create)

Approvals created per second through \`POST /v1/approvals\` (API key auth,
validation, Redis rate limit, quota statement, insert, \`created\` event,
conditional expiry NOTIFY), divided by what \`pgbench\` reaches running the same
transaction (\`bench/create.pgbench\`) against the same durable PostgreSQL with
the same number of clients, in the same run.

| clients | seconds | API creates/s | pgbench tps (same transaction) | ratio |
|---|---|---|---|---|
| $clients | $secs | $api_rate | $pg_rate | $ratio |

Measured $(date -u +%Y-%m-%d) on $(nproc) cores with the load generator, the
API, PostgreSQL and Redis on the same machine. Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/create.sh            # CLIENTS=16 SECONDS_RUN=20 by default
\`\`\`
<!-- /bench:create -->
MD
)
if grep -q '<!-- bench:create -->' "$doc"; then
    node -e '
const fs=require("fs"); const [f, s]=process.argv.slice(1);
const t=fs.readFileSync(f,"utf8");
fs.writeFileSync(f, t.replace(/<!-- bench:create -->[\s\S]*<!-- \/bench:create -->/, () => s));' "$doc" "$section"
else
    printf '\n%s\n' "$section" >>"$doc"
fi
