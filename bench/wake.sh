#!/usr/bin/env bash
# bench/wake: decision → waiting request released, p50/p99, on the same API
# replica and across two replicas, beside the raw PostgreSQL NOTIFY and Redis
# pub/sub round trips measured in the same run (bench_wake.c). Own throwaway
# stack; traffic only to 127.0.0.1. Writes docs/performance.md.
#
#   bench/wake.sh              (SAMPLES=200 BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
samples=${SAMPLES:-200}

bench_stack_start
bench_start_api A
bench_start_api B
out=$("$build/bin/bench_wake" "$A" "$B" "$agent" "$key" "$user_token" \
    "$HOLDPOINT_DATABASE_URL" 127.0.0.1 "$HP_REDIS_PORT" "$samples")
echo "$out"
row() { # CASE LABEL
    local line
    line=$(printf '%s\n' "$out" | grep "\"case\":\"$1\"")
    printf '| %s | %s | %s | %s |\n' "$2" "$(bench_json_field "$line" p50_ms)" \
        "$(bench_json_field "$line" p99_ms)" "$(bench_json_field "$line" samples)"
}
bench_write_section wake "## Wake (bench/wake)

Time from sending a decision (\`POST /v1/review/approvals/:id/resolve\`) to the
first byte of the answer of a long-poll (\`GET …/result?wait=30\`) waiting for
it, beside the raw transports measured in the same run. The API path includes
the resolve transaction, the NOTIFY/PUBLISH, the waiter's re-read of the
approval and the HTTP answer.

| case | p50 ms | p99 ms | samples |
|---|---|---|---|
$(row notify 'raw PostgreSQL NOTIFY → LISTEN')
$(row redis 'raw Redis PUBLISH → SUBSCRIBE')
$(row same 'API, same replica')
$(row cross 'API, across two replicas')

Measured $(date -u +%Y-%m-%d) on $(nproc) cores. Reproduce: \`bench/wake.sh\` (SAMPLES=$samples)."
