#!/usr/bin/env bash
# bench/pooler: Holdpoint behind PgBouncer in transaction mode beside direct
# connections, on one throwaway durable PostgreSQL with the PgBouncer that
# scripts/services.sh runs (deploy/pgbouncer/pgbouncer.sh, pool size 20).
#
# 1. Creates per second through POST /v1/approvals (bench_create, CLIENTS
#    clients) against three APIs: direct with prepared statements off, direct
#    with them on, and through the pooler (where they are off). The cases run
#    interleaved, ROUNDS times; each figure is the median of its rounds and
#    is given as a ratio to direct-off measured in the same run.
# 2. PostgreSQL server connections with 8 API replicas (HOLDPOINT_DB_POOL_SIZE
#    8 each) and 4 workers (2 holdpoint-timeout, 2 holdpoint-delivery)
#    running, all direct and then all through the pooler: the peak while
#    every replica takes creates (FLEET_CLIENTS clients each, default 8: as
#    many as its pool holds) and the count at rest afterwards, from
#    pg_stat_activity.
#
# Traffic stays on 127.0.0.1. Writes the result into docs/performance.md.
#
#   bench/pooler.sh            (CLIENTS=16 FLEET_CLIENTS=8 SECONDS_RUN=10 ROUNDS=3 BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
clients=${CLIENTS:-16}
fleet_clients=${FLEET_CLIENTS:-8}
secs=${SECONDS_RUN:-10}
rounds=${ROUNDS:-3}

for b in bench_create holdpoint-timeout holdpoint-delivery; do
    [ -x "$build/bin/$b" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
done
bench_stack_start
direct=$HOLDPOINT_DATABASE_URL
pooled=$HP_POOLER_URL
console="postgresql://postgres@127.0.0.1:$HP_POOLER_PORT/pgbouncer"
behind=(HOLDPOINT_DATABASE_URL="$pooled" HOLDPOINT_DATABASE_DIRECT_URL="$direct")

# Client connections of the holdpoint database, other than this query's.
server_conns() {
    psql "$direct" -qAtX -c "select count(*) from pg_stat_activity where datname = 'holdpoint'
        and backend_type = 'client backend' and pid <> pg_backend_pid()"
}
# Closes the pooler's server connections, so each case starts from none.
pooler_reset() {
    psql "$console" -qAtX -c "KILL holdpoint" >/dev/null 2>&1 || true
    psql "$console" -qAtX -c "RESUME holdpoint" >/dev/null 2>&1 || true
}
stop_pids() {
    local p
    for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

# ---- 1. creates per second --------------------------------------------------

common=(HOLDPOINT_DB_POOL_SIZE="$clients" HOLDPOINT_API_THREADS=64 HOLDPOINT_MAX_WAITERS=16)
bench_start_api OFF "${common[@]}" HOLDPOINT_DB_PREPARED_STATEMENTS=off
bench_start_api ON "${common[@]}" HOLDPOINT_DB_PREPARED_STATEMENTS=on
bench_start_api POOLED "${common[@]}" "${behind[@]}"
HOLDPOINT_LOG_LEVEL=warn "$build/bin/holdpoint-timeout" 2>"$run/timeout.log" &
tmo=$!
bench_pids+=("$tmo")

rate() { bench_create_rate "$1" "$clients" "$2"; }
for api in "$OFF" "$ON" "$POOLED"; do rate "$api" 3 >/dev/null; done # warm-up
off=() on=() pool=()
for ((i = 1; i <= rounds; i++)); do
    off+=("$(rate "$OFF" "$secs")")
    on+=("$(rate "$ON" "$secs")")
    pool+=("$(rate "$POOLED" "$secs")")
    echo "round $i: direct/off ${off[-1]}  direct/on ${on[-1]}  pooled ${pool[-1]}"
done
m_off=$(bench_median "${off[@]}")
m_on=$(bench_median "${on[@]}")
m_pool=$(bench_median "${pool[@]}")
stop_pids "$OFF_PID" "$ON_PID" "$POOLED_PID" "$tmo"

# ---- 2. server connections --------------------------------------------------

# fleet MODE: 8 APIs and 4 workers, direct or pooled, under load; sets
# f_peak, f_rest and f_rate (creates per second of all replicas).
fleet() {
    local mode=$1 env=() pids=() apis=() loads=() i n
    if [ "$mode" = pooled ]; then env=("${behind[@]}"); fi
    pooler_reset
    for ((i = 0; i < 8; i++)); do
        bench_start_api API "${env[@]}" HOLDPOINT_DB_POOL_SIZE=8 HOLDPOINT_API_THREADS=64 \
            HOLDPOINT_MAX_WAITERS=16
        apis+=("$API")
        pids+=("$API_PID")
    done
    for w in holdpoint-timeout holdpoint-timeout holdpoint-delivery holdpoint-delivery; do
        env "${env[@]}" HOLDPOINT_LOG_LEVEL=warn "$build/bin/$w" 2>>"$run/$w-$mode.log" &
        pids+=($!)
        bench_pids+=($!)
    done
    sleep 1
    for ((i = 0; i < 8; i++)); do
        "$bench_create_bin" "${apis[$i]}" "$agent" "$key" "$fleet_clients" "$secs" \
            >"$run/fleet-$mode-$i.json" &
        loads+=($!)
    done
    f_peak=0
    while kill -0 "${loads[0]}" 2>/dev/null; do
        n=$(server_conns)
        if [ "$n" -gt "$f_peak" ]; then f_peak=$n; fi
        sleep 0.2
    done
    for p in "${loads[@]}"; do wait "$p" || true; done
    f_rate=$(sed -n 's/.*"rate":\([0-9.]*\).*/\1/p' "$run"/fleet-"$mode"-*.json |
        awk '{t += $1} END {printf "%.1f", t}')
    sleep 2
    f_rest=$(server_conns)
    stop_pids "${pids[@]}"
}
fleet direct
d_peak=$f_peak d_rest=$f_rest d_rate=$f_rate
fleet pooled
p_peak=$f_peak p_rest=$f_rest p_rate=$f_rate
echo "direct: peak $d_peak at rest $d_rest ($d_rate creates/s); pooled: peak $p_peak at rest $p_rest ($p_rate creates/s)"

bench_write_section pooler "## Behind PgBouncer (bench/pooler)

Holdpoint in front of one durable PostgreSQL, directly and through PgBouncer
1.18 in transaction mode (the configuration \`deploy/pgbouncer/pgbouncer.sh\`
renders, pool size 20).

**Creates per second** through \`POST /v1/approvals\` with $clients clients,
medians of $rounds interleaved rounds of ${secs} s, each as a ratio to the direct
API with prepared statements off measured in the same run. Statements end at
a deadline the client keeps (a cancel request at HOLDPOINT_DB_TIMEOUT_MS), not
at startup options, in every case.

| API | creates/s (median) | ratio | rounds |
|---|---|---|---|
| direct, prepared statements off | $m_off | 1.00 | ${off[*]} |
| direct, prepared statements on (\`auto\` on a direct connection) | $m_on | $(bench_ratio "$m_on" "$m_off") | ${on[*]} |
| through PgBouncer (\`auto\`: off) | $m_pool | $(bench_ratio "$m_pool" "$m_off") | ${pool[*]} |

**PostgreSQL server connections** (\`pg_stat_activity\`, client backends of
the database) with 8 API replicas (HOLDPOINT_DB_POOL_SIZE=8) and 4 workers
(2 holdpoint-timeout, 2 holdpoint-delivery), while every replica takes
creates from $fleet_clients clients for ${secs} s, and 2 s after the load stops.
A pool opens connections as it needs them and keeps them, so the count at
rest is the count the load left. Directly, each replica holds its pool plus
one LISTEN connection and each worker its own; through the pooler the count
is PgBouncer's server pool (at most 20) plus one direct LISTEN connection per
process (12), whatever the number of replicas.

| connections | peak under load | at rest | creates/s (all replicas) |
|---|---|---|---|
| direct | $d_peak | $d_rest | $d_rate |
| through PgBouncer | $p_peak | $p_rest | $p_rate |

The last column is one run of each fleet ($((8 * fleet_clients)) load
threads and 12 processes on the same cores), not interleaved rounds: read it
as a check that the fleet kept working, and the first table for the price of
the pooler. There, most of the gap between the direct API and the pooled one
is prepared statements, which PgBouncer 1.18 cannot carry (\`auto\` turns them
off through it); the pooler's own hop costs the difference between the first
and the last row.

Measured $(date -u +%Y-%m-%d) on $(nproc) cores, with the load generators,
the processes, PgBouncer, PostgreSQL and Redis sharing them. Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/pooler.sh            # CLIENTS=16 FLEET_CLIENTS=8 SECONDS_RUN=10 ROUNDS=3
\`\`\`"
