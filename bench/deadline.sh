#!/usr/bin/env bash
# bench/deadline: what the client-kept statement deadline costs on the create
# path. Statements used to end at statement_timeout and lock_timeout sent as
# startup options (which PgBouncer refuses); since 0fd6b35 hp_db sends each
# statement asynchronously and waits for it in poll() against
# HOLDPOINT_DB_TIMEOUT_MS, cancelling it at the deadline. This builds the API
# of that commit and of its parent (git archive into a scratch directory,
# Release), runs both against one throwaway durable PostgreSQL migrated by
# the parent, and measures creates per second through POST /v1/approvals
# (bench_create of BUILD_DIR, CLIENTS clients) in ROUNDS interleaved rounds;
# each figure is the median of its rounds, the deadline's as a ratio to the
# startup options' measured in the same run. Traffic stays on 127.0.0.1.
# Writes the result into docs/performance.md.
#
#   bench/deadline.sh          (CLIENTS=16 SECONDS_RUN=10 ROUNDS=3 BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
clients=${CLIENTS:-16}
secs=${SECONDS_RUN:-10}
rounds=${ROUNDS:-3}
after=0fd6b35
before=$after^

[ -x "$bench_create_bin" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
src=$(mktemp -d /tmp/hp-deadline.XXXXXX)
trap 'rm -rf "$src"' EXIT
# build_rev REV DIR: the API and the CLI of REV, built in DIR.
build_rev() {
    mkdir -p "$2"
    git -C "$root" archive "$1" | tar -x -C "$2"
    cmake -S "$2" -B "$2/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$2/build" -j2 --target holdpoint-api holdpoint >/dev/null
}
build_rev "$before" "$src/before"
build_rev "$after" "$src/after"

build=$src/before/build
bench_stack_start
trap 'bench_cleanup; rm -rf "$src"' EXIT
common=(HOLDPOINT_DB_POOL_SIZE="$clients" HOLDPOINT_API_THREADS=64 HOLDPOINT_MAX_WAITERS=16)
bench_start_api OPTS "${common[@]}"
build=$src/after/build
bench_start_api DEADLINE "${common[@]}"

rate() { bench_create_rate "$1" "$clients" "$2"; }
for api in "$OPTS" "$DEADLINE"; do rate "$api" 3 >/dev/null; done # warm-up
opts=() dl=()
for ((i = 1; i <= rounds; i++)); do
    opts+=("$(rate "$OPTS" "$secs")")
    dl+=("$(rate "$DEADLINE" "$secs")")
    echo "round $i: startup options ${opts[-1]}  deadline ${dl[-1]}"
done
m_opts=$(bench_median "${opts[@]}")
m_dl=$(bench_median "${dl[@]}")
ratio=$(bench_ratio "$m_dl" "$m_opts")
echo "startup options $m_opts  deadline $m_dl  ratio $ratio"

bench_write_section deadline "## Statement deadline (bench/deadline)

Creates per second through \`POST /v1/approvals\` with $clients clients, by
the API of $(git -C "$root" rev-parse --short "$after") (statements end at a
deadline the client keeps: asynchronous send, \`poll()\`, a cancel request at
\`HOLDPOINT_DB_TIMEOUT_MS\`) and of its parent (statement and lock timeouts
sent as startup options, which PgBouncer refuses), against one durable
PostgreSQL directly, medians of $rounds interleaved rounds of ${secs} s.

| API | creates/s (median) | ratio | rounds |
|---|---|---|---|
| startup options (parent) | $m_opts | 1.00 | ${opts[*]} |
| client deadline | $m_dl | $ratio | ${dl[*]} |

Single rounds vary with other work on the shared machine; compare the
medians.

Measured $(date -u +%Y-%m-%d) on $(nproc) cores, with the load generator,
the APIs, PostgreSQL and Redis sharing them. Reproduce (builds both
revisions):

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/deadline.sh          # CLIENTS=16 SECONDS_RUN=10 ROUNDS=3 (this run: ROUNDS=$rounds)
\`\`\`"
