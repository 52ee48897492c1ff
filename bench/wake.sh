#!/usr/bin/env bash
# bench/wake: decision → waiting request released, p50/p99, on the same API
# replica and across two replicas, beside the raw PostgreSQL NOTIFY and Redis
# pub/sub round trips measured in the same run (bench_wake.c runs the four
# cases one after another), ROUNDS times; each figure is the median of its
# rounds. Own throwaway stack; traffic only to 127.0.0.1.
# Writes docs/performance.md.
#
#   bench/wake.sh              (SAMPLES=200 ROUNDS=3 BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
samples=${SAMPLES:-200}
rounds=${ROUNDS:-3}

bench_stack_start
bench_start_api A
bench_start_api B
all=
for _ in $(seq "$rounds"); do
    out=$("$build/bin/bench_wake" "$A" "$B" "$agent" "$key" "$user_token" \
        "$HOLDPOINT_DATABASE_URL" 127.0.0.1 "$HP_REDIS_PORT" "$samples")
    echo "$out"
    all+="$(printf '%s\n' "$out" | grep '"case"')"$'\n'
done
sum=$(printf '%s' "$all" | bench_medians)
row() { # CASE LABEL
    printf '| %s | %s | %s | %s |\n' "$2" "$(bench_get "$sum" "$1" p50)" \
        "$(bench_get "$sum" "$1" p99)" "$(bench_get "$sum" "$1" rounds)"
}
over() { # CASE RAW: the case's p99 minus the raw transport's, ms
    node -e 'process.stdout.write((process.argv[1]-process.argv[2]).toFixed(2))' \
        "$(bench_get "$sum" "$1" p99)" "$(bench_get "$sum" "$2" p99)"
}
echo "wake: same +$(over same notify) ms over NOTIFY p99; across +$(over cross redis) ms over Redis p99;" \
    "after commit p99: same $(bench_get "$sum" same_after_commit p99) ms, across $(bench_get "$sum" cross_after_commit p99) ms"
bench_write_section wake "## Wake (bench/wake)

Time from sending a decision (\`POST /v1/review/approvals/:id/resolve\`) to the
first byte of the answer of a long-poll (\`GET …/result?wait=30\`) waiting for
it, beside the raw transports measured in the same run. The API path includes
the resolve transaction and the HTTP answer. On the same replica the
decision answers the long-poll from its own statement's row; across
replicas from the same row carried by its NOTIFY or its sealed Redis
message, whichever comes first (no re-read).

| case | p50 ms | p99 ms | per round (p50/p99) |
|---|---|---|---|
$(row notify 'raw PostgreSQL NOTIFY → LISTEN')
$(row redis 'raw Redis PUBLISH → SUBSCRIBE')
$(row same 'API, same replica')
$(row cross 'API, across two replicas')
$(row same_after_commit 'API, same replica, from the commit')
$(row cross_after_commit 'API, across replicas, from the commit')

\"From the commit\" is a second run of each case whose clock starts when the
decision's NOTIFY reaches a LISTEN connection of the benchmark's own — the
raw transport's delivery of the same commit — rather than when the decision
was sent, so it leaves out the decision's transaction and counts only what
the API adds to the raw wake (its wake source, reading the row from the
message, the answer); an answer that arrives before the benchmark's own
listener hears the commit counts 0 (on the same replica, often). The runs
from sending have no such listener: it would be one more process to wake at
every commit. Each run first makes 20 decisions it does not measure (a
fresh pooled connection plans the decision's statement anew for its first
few executions, about 1 ms each). Samples follow one another as in the raw
cases; after 10 ms of idling both get slower (raw NOTIFY p50 0.06 → 0.23–0.35
ms, p99 0.16 → 0.51 ms in a separate trial), as the processors of this
virtual machine halt and must be woken.

p99 over the raw transport: same replica +$(over same notify) ms (over NOTIFY),
across replicas +$(over cross redis) ms (over Redis PUBLISH). Medians of
$rounds rounds of $samples samples each. Measured $(date -u +%Y-%m-%d) on
$(nproc) cores (load average $(cut -d" " -f1 /proc/loadavg) at the end, the
machine shared with other work). Reproduce: \`bench/wake.sh\` (SAMPLES=$samples ROUNDS=$rounds)."
