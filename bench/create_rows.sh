#!/usr/bin/env bash
# bench/create_rows: does a create slow down as the approvals table grows?
# Two databases on one throwaway PostgreSQL (durable: fsync on), each with a
# team whose history bench/approvals_fill.sql writes (10,000 approvals in
# one, 1,000,000 in the other, mostly closed, with their audit events), and
# one holdpoint-api per database. bench_create runs the create load (CLIENTS
# keep-alive clients, SECONDS_RUN s) against each in turn, alternating
# (ABAB), ROUNDS times; the result is the median p99 of each and their ratio.
# Writes the result into docs/performance.md.
#
#   bench/create_rows.sh       (SMALL=10000 BIG=1000000 CLIENTS=16 SECONDS_RUN=10 ROUNDS=3)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
small=${SMALL:-10000}
big=${BIG:-1000000}
clients=${CLIENTS:-16}
secs=${SECONDS_RUN:-10}
rounds=${ROUNDS:-3}

[ -x "$bench_create_bin" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
bench_stack_start
psql_q() { psql "$1" -qAtX -v ON_ERROR_STOP=1 "${@:2}"; }
fill() { # URL TEAM AGENT N
    psql_q "$1" -v n="$4" -v team="$2" -v agent="$3" -f "$root/bench/approvals_fill.sql" >/dev/null
}
count() { psql_q "$1" -c "select count(*) from approvals"; }

small_url=$HOLDPOINT_DATABASE_URL
small_agent=$agent small_key=$key
big_url=${HOLDPOINT_DATABASE_URL%/*}/holdpoint_big
psql_q "$small_url" -c "create database holdpoint_big"
HOLDPOINT_DATABASE_URL=$big_url "$build/bin/holdpoint" migrate >/dev/null 2>&1
boot=$(HOLDPOINT_DATABASE_URL=$big_url "$build/bin/holdpoint" admin bootstrap --team bench-big \
    --email "bench-big-$$@example.com" --password bench-password --agent bench-agent --json)
big_team=$(bench_json_field "$boot" team_id)
big_agent=$(bench_json_field "$boot" agent_id)
big_key=$(bench_json_field "$boot" api_key)
t0=$(date +%s)
fill "$small_url" "$team" "$small_agent" "$small"
fill "$big_url" "$big_team" "$big_agent" "$big"
fill_s=$(($(date +%s) - t0))
small_start=$(count "$small_url")
big_start=$(count "$big_url")

bench_start_api SMALL_API HOLDPOINT_API_THREADS=64 HOLDPOINT_MAX_WAITERS=16 \
    HOLDPOINT_DB_POOL_SIZE="$clients"
bench_start_api BIG_API HOLDPOINT_API_THREADS=64 HOLDPOINT_MAX_WAITERS=16 \
    HOLDPOINT_DB_POOL_SIZE="$clients" HOLDPOINT_DATABASE_URL="$big_url"
load() { "$bench_create_bin" "$1" "$2" "$3" "$clients" "$4"; }
# Warm up (connections, prepared statements, the script cache).
load "$SMALL_API" "$small_agent" "$small_key" 3 >/dev/null
load "$BIG_API" "$big_agent" "$big_key" 3 >/dev/null

rows=""
for r in $(seq "$rounds"); do
    # Alternate which goes first, so neither always follows the other.
    order="small big"
    [ $((r % 2)) -eq 0 ] && order="big small"
    for which in $order; do
        if [ "$which" = small ]; then
            out=$(load "$SMALL_API" "$small_agent" "$small_key" "$secs")
        else
            out=$(load "$BIG_API" "$big_agent" "$big_key" "$secs")
        fi
        rows+=$(node -e 'const o = JSON.parse(process.argv[1]);
            process.stdout.write(JSON.stringify({case: process.argv[2], p50_ms: o.p50_ms,
              p99_ms: o.p99_ms, rate: o.rate}) + "\n")' "$out" "$which")$'\n'
    done
done
sum=$(printf '%s' "$rows" | bench_medians)
rates() { printf '%s' "$rows" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
  const v = s.trim().split("\n").map(l => JSON.parse(l)).filter(r => r.case === process.argv[1])
    .map(r => r.rate).sort((a, b) => a - b);
  process.stdout.write(v[Math.floor(v.length / 2)].toFixed(0));
});' "$1"; }
s50=$(bench_get "$sum" small p50) s99=$(bench_get "$sum" small p99)
b50=$(bench_get "$sum" big p50) b99=$(bench_get "$sum" big p99)
s_rounds=$(bench_get "$sum" small rounds) b_rounds=$(bench_get "$sum" big rounds)
ratio=$(node -e 'process.stdout.write((process.argv[1] / process.argv[2]).toFixed(3))' "$b99" "$s99")
small_end=$(count "$small_url")
big_end=$(count "$big_url")
echo "create_rows: p99 ${s99} ms at $small_start rows, ${b99} ms at $big_start rows (ratio $ratio)"

bench_write_section create_rows "## Create as the table grows (bench/create_rows)

\`POST /v1/approvals\` with $clients keep-alive clients (\`bench/bench_create\`,
closed loop, $secs s a round) against two \`holdpoint-api\` processes on one
durable PostgreSQL, each on its own database holding one team's history
(\`bench/approvals_fill.sql\`: approvals created over 30 days with
time-ordered ids, 98 % closed — selected, custom instruction, expired,
cancelled — and 2 % pending, each with its audit events; the
secondary indexes built after the load, then VACUUM ANALYZE). The two
run alternating (ABAB, the first of each round alternating too), so a
load spike on the shared machine hits both alike. Latency is libcurl's
total time of each answered request; the ratio is the p99 at the large
table over the p99 at the small one (goal: at most 1.2).

| approvals in the table | creates/s | p50 ms | p99 ms | p99 ÷ p99 at $small_start |
|---|---|---|---|---|
| $small_start (at the end $small_end) | $(rates small) | $s50 | $s99 | 1.00 |
| $big_start (at the end $big_end) | $(rates big) | $b50 | $b99 | $ratio |

Medians of $rounds rounds (p50/p99 ms per round: $small_start: $s_rounds;
$big_start: $b_rounds). The create's statement touches the table through
its indexes only (the unique \`(agent_id, request_id)\` check and the
index entries of the new row), so its cost grows with the depth of those
B-trees, not with the rows. Filling both databases took ${fill_s} s.
Measured $(date -u +%Y-%m-%d) on $(nproc) cores (load average $(cut -d" " -f1 /proc/loadavg) at the end, the
machine shared with other work), the load generator, both APIs,
PostgreSQL and Redis on the same machine. Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/create_rows.sh       # SMALL=10000 BIG=1000000 CLIENTS=16 SECONDS_RUN=10 ROUNDS=3
\`\`\`"
