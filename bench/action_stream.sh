#!/usr/bin/env bash
# bench/action_stream: decision → action_response event on the
# action-response stream (GET /v1/action-responses/stream), on the replica
# that took the decision and across two replicas, beside what bench_wake
# measures in the same rounds: the raw PostgreSQL NOTIFY and Redis PUBLISH
# round trips and a long-poll released across the replicas. Rounds alternate
# the two programs. Own throwaway stack; traffic only to 127.0.0.1. Writes
# docs/performance.md.
#
#   bench/action_stream.sh     (SAMPLES=200 ROUNDS=3 BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
samples=${SAMPLES:-200}
rounds=${ROUNDS:-3}
[ -x "$build/bin/bench_wake" ] || { echo "build first: cmake --build $build" >&2; exit 1; }

bench_stack_start
bench_start_api A
bench_start_api B
results=()
for r in $(seq "$rounds"); do
    while IFS= read -r line; do results+=("$line"); done < <(
        "$build/bin/bench_wake" "$A" "$B" "$agent" "$key" "$user_token" \
            "$HOLDPOINT_DATABASE_URL" 127.0.0.1 "$HP_REDIS_PORT" "$samples")
    while IFS= read -r line; do results+=("$line"); done < <(
        node "$root/bench/action_stream.mjs" "$A" "$B" "$key" "$agent" "$user_token" "$samples")
done
printf '%s\n' "${results[@]}"

summary=$(printf '%s\n' "${results[@]}" | bench_medians)
get() { bench_get "$summary" "$1" "$2"; }
ratio() { bench_ratio "$1" "$2"; }
row() { # CASE LABEL
    printf '| %s | %s | %s | %s |' "$2" "$(get "$1" p50)" "$(get "$1" p99)" \
        "$(ratio "$(get "$1" p50)" "$(get cross p50)")"
}

bench_write_section action_stream "## Decision → action-response stream (bench/action_stream)

Time from sending a decision (\`POST /v1/review/approvals/:id/resolve\` to
replica A) until its \`action_response\` event arrives on an agent's
\`GET /v1/action-responses/stream\` held on replica B (across) or on A
(same), beside, in the same rounds, the raw wake transports and a long-poll
(\`GET …/result?wait=30\`) on B released by the same kind of decision — the
approvals' own wake path (bench_wake). The stream's path adds to the
long-poll's (decision transaction with its action response, NOTIFY and
Redis PUBLISH of \`agent:<id>\`, the waiter's wake) a read of the
responses after the stream's cursor and the SSE event; the clients differ
too (bench_wake is C and libcurl, the stream's client Node's fetch).

| case | p50 ms | p99 ms | p50 ÷ long-poll across p50 |
|---|---|---|---|
$(row notify 'raw PostgreSQL NOTIFY → LISTEN')
$(row redis 'raw Redis PUBLISH → SUBSCRIBE')
$(row cross 'long-poll on B released (ceiling)')
$(row sse_same 'stream on A (same replica)')
$(row sse_cross 'stream on B (across replicas)')

Medians of $rounds rounds of $samples decisions, the two programs alternating
(stream across p50/p99 per round: $(get sse_cross rounds); long-poll across:
$(get cross rounds)). Measured $(date -u +%Y-%m-%d) on $(nproc) cores (load average
$(cut -d' ' -f1 /proc/loadavg) at the end, the machine shared with other work), the clients,
both API replicas, PostgreSQL and Redis on the same machine. Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/action_stream.sh     # SAMPLES=200 ROUNDS=3
\`\`\`"
