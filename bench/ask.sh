#!/usr/bin/env bash
# bench/ask: what the compatibility surfaces cost. In one run, against one
# API: seed 000's POST /api/v1/server/ask (wait: false) beside seed 003's
# POST /v1/approvals — the same approval insert underneath — in pairs back to
# back, alternating which goes first, three rounds; the ratio of the medians
# is the Ask API's cost (target: at least 0.90). Then MCP's tools/call
# ask_user (wait: false, one open session per client) the same way, beside
# the same /v1 ceiling. Starts its own throwaway PostgreSQL (durable) and
# Redis; traffic goes only to 127.0.0.1. Writes the result into
# docs/performance.md.
#
#   bench/ask.sh            (CLIENTS=16 SECONDS_RUN=10 BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
clients=${CLIENTS:-16}
secs=${SECONDS_RUN:-10}

bench_stack_start
bench_start_api API HOLDPOINT_API_THREADS=64 HOLDPOINT_MAX_WAITERS=16 HOLDPOINT_DB_POOL_SIZE="$clients"

rate() { # MODE
    local out
    out=$("$build/bin/bench_ask" "$1" "$API" "$agent" "$key" "$clients" "$secs")
    bench_json_field "$out" rate
}
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }

# Warm up every path.
for m in v1 ask mcp; do "$build/bin/bench_ask" "$m" "$API" "$agent" "$key" "$clients" 2 >/dev/null; done

load_before=$(cut -d' ' -f1 /proc/loadavg)
v1=() ask=() mcp=()
for round in 1 2 3; do
    if [ $((round % 2)) -eq 1 ]; then
        v1+=("$(rate v1)"); ask+=("$(rate ask)"); mcp+=("$(rate mcp)")
    else
        mcp+=("$(rate mcp)"); ask+=("$(rate ask)"); v1+=("$(rate v1)")
    fi
    echo "round $round: v1 ${v1[-1]}/s  ask ${ask[-1]}/s  mcp ${mcp[-1]}/s"
done
v1_med=$(median3 "${v1[@]}")
ask_med=$(median3 "${ask[@]}")
mcp_med=$(median3 "${mcp[@]}")
ratio() { node -e 'process.stdout.write((process.argv[1]/process.argv[2]).toFixed(2))' "$1" "$2"; }
ask_ratio=$(ratio "$ask_med" "$v1_med")
mcp_ratio=$(ratio "$mcp_med" "$v1_med")
load_after=$(cut -d' ' -f1 /proc/loadavg)
echo "median: v1 $v1_med/s  ask $ask_med/s ($ask_ratio)  mcp $mcp_med/s ($mcp_ratio)"

bench_write_section ask "## Ask API and MCP (bench/ask)

What the compatibility surfaces cost on top of the approval store. Each
surface creates the same approval (one insert, its event, the conditional
expiry NOTIFY) for the bootstrap key; the load generator (\`bench/bench_ask.c\`,
$clients keep-alive clients) runs each for ${secs} s, the three back to back
with the order alternating, three rounds, against one API; the table shows
the medians and their ratio to \`POST /v1/approvals\` in the same run.

| surface | request | round 1 | round 2 | round 3 | median /s | ratio to /v1 |
|---|---|---|---|---|---|---|
| seed 003 | \`POST /v1/approvals\` (X-Agent-Id + X-Api-Key) | ${v1[0]} | ${v1[1]} | ${v1[2]} | $v1_med | 1.00 |
| seed 000 | \`POST /api/v1/server/ask\`, \`wait: false\` (Bearer) | ${ask[0]} | ${ask[1]} | ${ask[2]} | $ask_med | $ask_ratio |
| MCP | \`tools/call ask_user\`, \`wait: false\` (open session) | ${mcp[0]} | ${mcp[1]} | ${mcp[2]} | $mcp_med | $mcp_ratio |

The Ask API's target is a ratio of at least 0.90 (the compatibility layer
costing under 10 %). `POST /v1/approvals` answers the whole approval where
an ask answers three members, so the Ask API can come out ahead. An MCP call
also reads its session (one indexed query) and renders a larger JSON-RPC
result.

Measured $(date -u +%Y-%m-%d) on $(nproc) cores, with the load generator, the
API, PostgreSQL and Redis sharing them (1-minute load average $load_before
before the rounds, $load_after after: the absolute rates move with whatever
else runs on the machine; the ratios, taken pair by pair in one run, are the
result). Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/ask.sh            # CLIENTS=16 SECONDS_RUN=10
\`\`\`"
