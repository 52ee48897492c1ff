#!/usr/bin/env bash
# bench/notify: channel notifications.
#
#  1. Throughput: NOTIFICATIONS approvals are created through the API for a
#     team with one ntfy channel while no delivery worker runs (each create
#     queues its notify job in the same statement); then one
#     holdpoint-delivery worker starts and the time until every notification
#     has been sent to a local keep-alive receiver is measured — expansion
#     (routing, signed links, the ntfy body) and sending (lease, URL policy,
#     unsealing the token, the POST, the outcome statement). The ceiling, in
#     the same round against the same receiver: a Node client POSTing the
#     same number of JSON bodies with the same concurrency and nothing else.
#  2. Latency: a Web Push channel and one subscription pointing at the local
#     receiver; approvals created one at a time while a worker idles; each
#     sample is the time from sending the create to the push request arriving
#     (the API's create statement, NOTIFY hp_jobs, the expansion, RFC 8291
#     encryption, the VAPID JWT, the POST). The create round trip alone is
#     reported beside it.
#
# Starts its own throwaway PostgreSQL (durable) and Redis; traffic stays on
# 127.0.0.1. Writes the result into docs/performance.md.
#
#   bench/notify.sh            (NOTIFICATIONS=1000 CONCURRENCY=16 ROUNDS=3 SAMPLES=200 BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
n=${NOTIFICATIONS:-1000}
conc=${CONCURRENCY:-16}
rounds=${ROUNDS:-3}
samples=${SAMPLES:-200}
js="$root/bench/notify_bench.js"

[ -x "$build/bin/holdpoint-delivery" ] || { echo "build first" >&2; exit 1; }
(cd "$root/bench/peer" && { [ -d node_modules/pg ] || npm ci --no-audit --no-fund >/dev/null; })
bench_stack_start
bench_start_api API HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1

node "$js" receiver >"$run/receiver.log" 2>"$run/receiver.port" &
bench_pids+=($!)
for _ in $(seq 50); do [ -s "$run/receiver.port" ] && break; sleep 0.1; done
port=$(cat "$run/receiver.port")

psql_q() { psql "$HOLDPOINT_DATABASE_URL" -qAtX -v ON_ERROR_STOP=1 "$@"; }
channel_add() { # KIND NAME ARGS...
    HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1 "$build/bin/holdpoint" admin channel add --team-id "$team" \
        --kind "$1" --name "$2" "${@:3}" --json | node -e \
        'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).channel_id))'
}
export HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1 HOLDPOINT_PUBLIC_URL=$API HOLDPOINT_LOG_LEVEL=warn
export HOLDPOINT_DELIVERY_CONCURRENCY=$conc

ntfy=$(channel_add ntfy bench --url "http://127.0.0.1:$port/" --topic bench --token tk_bench)

# One round: the ceiling, then the worker. Prints "raw_seconds worker_seconds".
round() {
    local raw secs sent
    raw=$(node "$js" raw "http://127.0.0.1:$port/" "$n" "$conc")
    node "$js" create "$API" "$agent" "$key" "$n" "$conc" >/dev/null
    secs=$(node "$root/bench/peer/wait_zero.js" "$HOLDPOINT_DATABASE_URL" \
        "select count(*) from jobs where state = 'queued'" 1 "$build/bin/holdpoint-delivery" \
        2>>"$run/delivery.log")
    sent=$(psql_q -c "select count(*) from jobs where kind = 'channel.ntfy' and state = 'done'")
    [ "$sent" = "$n" ] || { echo "$sent of $n notifications sent" >&2; exit 1; }
    psql_q -c "delete from jobs; delete from approvals" >/dev/null
    psql_q -c "vacuum analyze jobs" -c "vacuum analyze approvals" >/dev/null
    echo "$(bench_json_field "$raw" seconds) $secs"
}

median() { node -e 'const a=process.argv.slice(1).map(Number).sort((x,y)=>x-y); process.stdout.write(String(a[(a.length-1)>>1]))' "$@"; }
raws=() secs=()
for _ in $(seq "$rounds"); do
    read -r r s < <(round)
    raws+=("$r")
    secs+=("$s")
done
rs=$(median "${raws[@]}")
ws=$(median "${secs[@]}")
rate() { node -e 'process.stdout.write((process.argv[1]/process.argv[2]).toFixed(0))' "$n" "$1"; }
rr=$(rate "$rs")
wr=$(rate "$ws")
ratio=$(node -e 'process.stdout.write((process.argv[1]/process.argv[2]).toFixed(2))' "$wr" "$rr")
echo "notify: 1 worker $wr/s (${ws}s); raw HTTP ceiling $rr/s; ratio $ratio"

# Latency: Web Push to one subscription.
"$build/bin/holdpoint" admin channel remove --channel-id "$ntfy" >/dev/null
channel_add webpush devices >/dev/null
node "$js" subscribe "$API" "$user_token" "http://127.0.0.1:$port/push"
"$build/bin/holdpoint-delivery" 2>>"$run/delivery.log" &
dpid=$!
bench_pids+=($dpid)
sleep 1
lat=$(node "$js" latency "$API" "$agent" "$key" "$samples" "$run/receiver.log")
kill -TERM "$dpid"
p50=$(bench_json_field "$lat" p50_ms)
p99=$(bench_json_field "$lat" p99_ms)
c50=$(bench_json_field "$lat" create_p50_ms)
c99=$(bench_json_field "$lat" create_p99_ms)
echo "notify: created -> push p50 ${p50} ms p99 ${p99} ms (create alone p50 $c50 p99 $c99)"

bench_write_section notify "## Notifications (bench/notify)

Notifications sent per second by **one** \`holdpoint-delivery\` worker
(HOLDPOINT_DELIVERY_CONCURRENCY=$conc) to a local keep-alive receiver: $n
approvals are created through the API for a team with one ntfy channel while
no worker runs, then the worker starts and drains them — each one expanded
(routing, a signed view link and one per option, the ntfy JSON) and sent
(lease, URL policy with resolution and pinning, the unsealed access token,
the POST, the one-statement outcome with the channel's last success). The
ceiling is a Node client POSTing the same number of JSON bodies to the same
receiver with the same concurrency, in the same round.

| case | notifications | seconds | per second |
|---|---|---|---|
| raw HTTP POSTs (ceiling) | $n | $(printf %.3f "$rs") | $rr |
| holdpoint-delivery, 1 worker, ntfy | $n | $ws | $wr |
| ratio (worker / ceiling) | | | $ratio |

Medians of $rounds rounds, each running the ceiling then the worker (seconds
per round: ceiling ${raws[*]}; worker ${secs[*]}).

Created → push request latency, Web Push to one subscription: the time from
sending \`POST /v1/approvals\` to the push service receiving the encrypted,
VAPID-signed request, with the worker idle beforehand ($samples approvals
one after another): the create statement queues the notify job with
\`NOTIFY hp_jobs\`, the worker claims and expands it, claims the push job,
encrypts (RFC 8291) and signs (RFC 8292) and POSTs.

| | p50 ms | p99 ms |
|---|---|---|
| created → push request | $p50 | $p99 |
| the create round trip alone (reference) | $c50 | $c99 |

Measured $(date -u +%Y-%m-%d) on $(nproc) cores (load average $(cut -d" " -f1 /proc/loadavg) at the end, the machine shared with other work), with PostgreSQL (fsync on),
Redis, the API, the receiver and the worker sharing them. Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/notify.sh            # NOTIFICATIONS=1000 CONCURRENCY=16 ROUNDS=3 SAMPLES=200
\`\`\`"
