#!/usr/bin/env bash
# bench/get: GET /v1/approvals/{request_id}/result per second and its p99 at
# 64 keep-alive connections (wrk), divided by what a civetweb hello server
# with the API's options (bench_hello: no database) reaches under the same
# load, in the same run. Each read is the whole path: the API key checked
# inside the statement that reads the approval (one round trip, a prepared
# statement), rendering, the response. The two run back to back, alternating
# (ABAB), ROUNDS times; figures are medians. Each round also runs the read's
# own statement with pgbench -M prepared at the API's pool size
# (bench/get.pgbench): what the database alone serves, a ceiling the hello
# server does not show. Own throwaway stack; traffic only to 127.0.0.1.
# Writes docs/performance.md.
#
#   bench/get.sh               (CONNECTIONS=64 SECONDS_RUN=10 ROUNDS=3 BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
conns=${CONNECTIONS:-64}
secs=${SECONDS_RUN:-10}
rounds=${ROUNDS:-3}

bench_need_wrk
[ -x "$build/bin/bench_hello" ] || { echo "build first" >&2; exit 1; }
bench_stack_start
bench_start_api API HOLDPOINT_API_THREADS="$conns" HOLDPOINT_MAX_WAITERS=16 HOLDPOINT_DB_POOL_SIZE=16
command -v pgbench >/dev/null || { echo "pgbench is needed (Debian package postgresql-contrib)" >&2; exit 1; }
hello_port=$(bench_free_port)
"$build/bin/bench_hello" "$hello_port" "$conns" &
bench_pids+=($!)
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$hello_port/" >/dev/null 2>&1 && break; sleep 0.1; done

curl -fsS -X POST "$API/v1/approvals" -H "Content-Type: application/json" \
    -H "X-Agent-Id: $agent" -H "X-Api-Key: $key" \
    -d '{"request_id":"bench-get","question":"Deploy?","context_markdown":"Build #1.","options":[{"label":"Yes","value":"y"},{"label":"No","value":"n"}]}' >/dev/null
path=/v1/approvals/bench-get/result
curl -fsS "$API$path" -H "X-Agent-Id: $agent" -H "X-Api-Key: $key" | grep -q pending

# wrk_run URL [HEADER...]: prints "requests_per_second p99_ms".
wrk_run() {
    local url=$1 out
    shift
    local hs=()
    for h in "$@"; do hs+=(-H "$h"); done
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "${hs[@]}" "$url")
    node -e '
const t = process.argv[1];
const rps = Number((t.match(/Requests\/sec:\s+([\d.]+)/) || [])[1]);
const m = t.match(/\s99%\s+([\d.]+)(us|ms|s)\b/);
const p99 = m ? Number(m[1]) * ({us: 0.001, ms: 1, s: 1000})[m[2]] : NaN;
const bad = /Non-2xx or 3xx responses: (\d+)/.exec(t);
if (bad) { console.error(t); process.exit(1); }
process.stdout.write(rps.toFixed(0) + " " + p99.toFixed(2) + "\n");' "$out"
}
median() { bench_median "$@"; }

# Warm both up (prepared statements, connections).
wrk -t2 -c"$conns" -d2s -H "X-Agent-Id: $agent" -H "X-Api-Key: $key" "$API$path" >/dev/null
wrk -t2 -c"$conns" -d2s "http://127.0.0.1:$hello_port/" >/dev/null
pool=16
prefix=${key:0:16}
api_r=() api_p=() hello_r=() hello_p=() pg_r=()
for _ in $(seq "$rounds"); do
    read -r r p < <(wrk_run "$API$path" "X-Agent-Id: $agent" "X-Api-Key: $key")
    api_r+=("$r") api_p+=("$p")
    read -r r p < <(wrk_run "http://127.0.0.1:$hello_port/")
    hello_r+=("$r") hello_p+=("$p")
    pg_out=$(pgbench -n -M prepared -c "$pool" -j 2 -T "$secs" -f "$root/bench/get.pgbench" \
        -D prefix="$prefix" -D agent="$agent" -D rid=bench-get "$HOLDPOINT_DATABASE_URL" 2>&1)
    pg_r+=("$(printf '%s\n' "$pg_out" | sed -n 's/^tps = \([0-9]*\).*/\1/p' | head -n1)")
done
ar=$(median "${api_r[@]}") ap=$(median "${api_p[@]}")
hr=$(median "${hello_r[@]}") hp=$(median "${hello_p[@]}")
pr=$(median "${pg_r[@]}")
ratio=$(node -e 'process.stdout.write((process.argv[1]/process.argv[2]).toFixed(3))' "$ar" "$hr")
ratio_pg=$(node -e 'process.stdout.write((process.argv[1]/process.argv[2]).toFixed(3))' "$ar" "$pr")
pg_of_hello=$(node -e 'process.stdout.write((process.argv[1]/process.argv[2]).toFixed(3))' "$pr" "$hr")
if node -e 'process.exit(Number(process.argv[1]) < 0.25 ? 0 : 1)' "$pg_of_hello"; then
    pg_note="The database alone serves the read's one statement at $pg_of_hello× the
hello server's rate on this machine, so no read that goes to PostgreSQL can
reach 0.25× the hello server here while PostgreSQL shares the two cores with
the API and wrk; the API ÷ pgbench ratio is the part the API itself controls."
else
    pg_note="The database alone serves the read's one statement at $pg_of_hello× the
hello server's rate on this machine: the rest of the gap is the API's own."
fi
echo "get: api $ar/s p99 ${ap} ms; hello $hr/s p99 ${hp} ms; ratio $ratio; pgbench $pr tps (ratio $ratio_pg)"

bench_write_section get "## Read (bench/get)

\`GET /v1/approvals/{request_id}/result\` at $conns keep-alive connections
(wrk, 2 threads, ${secs} s a round) against one \`holdpoint-api\`
(HOLDPOINT_API_THREADS=$conns, HOLDPOINT_DB_POOL_SIZE=16), beside the
ceiling: a civetweb server with the API's options answering a fixed JSON
body (\`bench/bench_hello.c\`, no database) under the same load. Each read
is the whole path — the key checked inside the prepared statement that reads
the approval (one round trip, shared by the reads that arrive together:
docs/internals/batching.md), rendering, the response.

| case | requests/s | p99 ms |
|---|---|---|
| holdpoint-api, GET …/result | $ar | $ap |
| civetweb hello server (ceiling) | $hr | $hp |
| ratio | $ratio | |
| \`pgbench -M prepared\`, the read's own statement, $pool clients | $pr | |
| API ÷ that statement alone | $ratio_pg | |

$pg_note

Medians of $rounds rounds run back to back, alternating (requests/s per round:
API ${api_r[*]}; hello ${hello_r[*]}; pgbench ${pg_r[*]}). Measured $(date -u +%Y-%m-%d) on $(nproc)
cores (load average $(cut -d" " -f1 /proc/loadavg) at the end, the machine
shared with other work), wrk, the API, PostgreSQL and Redis on the same
machine. Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/get.sh               # CONNECTIONS=64 SECONDS_RUN=10 ROUNDS=3
\`\`\`"
