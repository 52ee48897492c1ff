#!/usr/bin/env bash
# bench/get: GET /v1/approvals/{request_id}/result per second and its p99 at
# 64 keep-alive connections (wrk), divided by what a civetweb hello server
# with the API's options (bench_hello: no database) reaches under the same
# load, in the same run. Each read is the whole path: the API key checked
# inside the statement that reads the approval (one round trip, a prepared
# statement), rendering, the response. The two run back to back, alternating
# (ABAB), ROUNDS times; figures are medians. Own throwaway stack; traffic
# only to 127.0.0.1. Writes docs/performance.md.
#
#   bench/get.sh               (CONNECTIONS=64 SECONDS_RUN=10 ROUNDS=3 BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
conns=${CONNECTIONS:-64}
secs=${SECONDS_RUN:-10}
rounds=${ROUNDS:-3}

command -v wrk >/dev/null || { echo "wrk is needed (Debian package wrk)" >&2; exit 1; }
[ -x "$build/bin/bench_hello" ] || { echo "build first" >&2; exit 1; }
bench_stack_start
bench_start_api API HOLDPOINT_API_THREADS="$conns" HOLDPOINT_MAX_WAITERS=16 HOLDPOINT_DB_POOL_SIZE=16
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
api_r=() api_p=() hello_r=() hello_p=()
for _ in $(seq "$rounds"); do
    read -r r p < <(wrk_run "$API$path" "X-Agent-Id: $agent" "X-Api-Key: $key")
    api_r+=("$r") api_p+=("$p")
    read -r r p < <(wrk_run "http://127.0.0.1:$hello_port/")
    hello_r+=("$r") hello_p+=("$p")
done
ar=$(median "${api_r[@]}") ap=$(median "${api_p[@]}")
hr=$(median "${hello_r[@]}") hp=$(median "${hello_p[@]}")
ratio=$(node -e 'process.stdout.write((process.argv[1]/process.argv[2]).toFixed(3))' "$ar" "$hr")
echo "get: api $ar/s p99 ${ap} ms; hello $hr/s p99 ${hp} ms; ratio $ratio"

bench_write_section get "## Read (bench/get)

\`GET /v1/approvals/{request_id}/result\` at $conns keep-alive connections
(wrk, 2 threads, ${secs} s a round) against one \`holdpoint-api\`
(HOLDPOINT_API_THREADS=$conns, HOLDPOINT_DB_POOL_SIZE=16), beside the
ceiling: a civetweb server with the API's options answering a fixed JSON
body (\`bench/bench_hello.c\`, no database) under the same load. Each read
is the whole path — the key checked inside the prepared statement that reads
the approval (one round trip), rendering, the response.

| case | requests/s | p99 ms |
|---|---|---|
| holdpoint-api, GET …/result | $ar | $ap |
| civetweb hello server (ceiling) | $hr | $hp |
| ratio | $ratio | |

Medians of $rounds rounds run back to back, alternating (requests/s per round:
API ${api_r[*]}; hello ${hello_r[*]}). Measured $(date -u +%Y-%m-%d) on $(nproc)
cores (load average $(cut -d" " -f1 /proc/loadavg) at the end, the machine
shared with other work), wrk, the API, PostgreSQL and Redis on the same
machine. Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/get.sh               # CONNECTIONS=64 SECONDS_RUN=10 ROUNDS=3
\`\`\`"
