#!/usr/bin/env bash
# bench/waiters: how many concurrent long-polls one API process holds, its
# resident memory, and how many database connections they use (none), then a
# single decision releasing all of them (bench_waiters.c). Own throwaway
# stack; traffic only to 127.0.0.1. Writes docs/performance.md.
#
#   bench/waiters.sh           (WAITERS=10000 BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
n=${WAITERS:-10000}

ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((n + 200)) ] || { echo "open file limit too low for $n waiters" >&2; exit 1; }
bench_stack_start
bench_start_api A HOLDPOINT_API_THREADS=$((n + 100)) HOLDPOINT_MAX_WAITERS=$((n + 50)) \
    HOLDPOINT_DB_POOL_SIZE=16
out=$("$build/bin/bench_waiters" "$A" "$agent" "$key" "$user_token" "$A_PID" "$n")
echo "$out"
f() { bench_json_field "$out" "$1"; }
bench_write_section waiters "## Waiters (bench/waiters)

One \`holdpoint-api\` process (HOLDPOINT_API_THREADS=$((n + 100)),
HOLDPOINT_DB_POOL_SIZE=16) holding long-polls on one approval, arriving at
2,000/s; then one decision releases them all. The waiters woken by the
decision share one read of the approval per wake (docs/internals/waiters.md);
the release time runs from sending the decision to the last answer received.

| waiters requested | held at once | RSS before | RSS while held | threads | DB connections in use while held | answered with the decision | release of all (ms) |
|---|---|---|---|---|---|---|---|
| $n | $(f held) | $(( $(f rss_idle_kb) / 1024 )) MiB | $(( $(f rss_held_kb) / 1024 )) MiB | $(f threads) | $(f db_pool_in_use_while_held) | $(f answered_with_decision) | $(f drain_ms) |

One round (each holds $n connections and threads). Measured $(date -u +%Y-%m-%d) on
$(nproc) cores (load average $(cut -d" " -f1 /proc/loadavg) at the end, the machine shared
with other work), the client (libcurl multi, one thread) on the same machine.
Reproduce: \`bench/waiters.sh\` (WAITERS=$n)."
