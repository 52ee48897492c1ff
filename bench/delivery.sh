#!/usr/bin/env bash
# bench/delivery: callbacks delivered per second by holdpoint-delivery to a
# local keep-alive receiver (bench/delivery_receiver.js) from a backlog of N
# queued jobs, with 1 and then 2 workers; and, as a peer figure in the same
# run on the same PostgreSQL, graphile-worker working N jobs that each send
# the same signed POST to the same receiver with the same concurrency
# (bench/peer/graphile_post.js, installed with `npm ci`). Then, once, one
# worker over a backlog of BIG jobs, to show the rate holds as the queue
# grows. Each callback is a
# real signed POST: claim with lease, policy check, HMAC signatures, HTTP,
# and the outcome statement (job, attempt row, approval, audit event).
# Starts its own throwaway PostgreSQL (durable) and Redis; traffic stays on
# 127.0.0.1. Writes the result into docs/performance.md.
#
#   bench/delivery.sh          (JOBS=20000 BIG=100000 CONCURRENCY=16 ROUNDS=3 BUILD_DIR=build)
#
# The three cases run interleaved, ROUNDS times, and each figure is the median
# of its rounds, so a load spike on a shared machine hits all cases alike.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
jobs=${JOBS:-20000}
big=${BIG:-100000}
conc=${CONCURRENCY:-16}
rounds=${ROUNDS:-3}

[ -x "$build/bin/holdpoint-delivery" ] || { echo "build first" >&2; exit 1; }
(cd "$root/bench/peer" && { [ -d node_modules/graphile-worker ] || npm ci --no-audit --no-fund >/dev/null; })
bench_stack_start

node "$root/bench/delivery_receiver.js" >"$run/receiver.port" &
bench_pids+=($!)
for _ in $(seq 50); do [ -s "$run/receiver.port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$run/receiver.port")/callback"

poll_url="$HOLDPOINT_DATABASE_URL?options=-c%20enable_seqscan%3Doff%20-c%20enable_bitmapscan%3Doff"
psql_q() { psql "$HOLDPOINT_DATABASE_URL" -qAtX -v ON_ERROR_STOP=1 "$@"; }
body='{"request_id":"bench-delivery","status":"selected_option","selected_option_index":0,"selected_option_label":"Approve","selected_option_value":"approve","custom_instruction":null,"resolved_by":{"user_id":"00000000-0000-0000-0000-000000000000","name":"Bench"},"resolved_at":"2026-11-23T00:00:00.000Z"}'

# run_workers K [N]: queues N ($jobs) jobs, starts K workers, prints seconds
# until all done.
run_workers() {
    local k=$1 jobs=${2:-$jobs} secs
    # One resolved approval per job, as in production (each outcome updates
    # its own approval row).
    psql_q -c "with a as (insert into approvals (id, team_id, agent_id, request_id,
        request_id_supplied, question, context_markdown, options, timeout_seconds, timeout_mode,
        expires_at, canonical_hash, callback_url, callback_headers, status)
        select gen_random_uuid(), '$team', '$agent', 'bench-' || gen_random_uuid(), true, 'q',
        'c', '[]', 60, 'expire_no_action', now() + interval '1 day', '\\x00', '$url', '{}',
        'selected_option' from generate_series(1, $jobs) returning id)
        insert into jobs (team_id, kind, approval_id, agent_id, url, headers, body, webhook_id,
        max_attempts) select '$team', 'callback', a.id, '$agent', '$url',
        '{\"X-Bench\":\"1\"}', '$body', 'msg_' || gen_random_uuid(), 3 from a" >/dev/null
    # Timed from the workers' start (their start-up is included) to the last
    # job recorded (a claimed job stays 'queued' under its lease until its
    # outcome is recorded). The poll runs every 10 ms, so it must cost next
    # to nothing: the first entry of the partial queue index, walked in
    # order on its own connection (a count over the whole table took 16 ms
    # at 20000 jobs, most of a core taken from the workers; under the
    # statistics of the emptied table the planner would pick that scan).
    secs=$(WAIT_ZERO_LIMIT_S=900 HOLDPOINT_OUTBOUND_ALLOW=127.0.0.1 \
        HOLDPOINT_DELIVERY_CONCURRENCY=$conc HOLDPOINT_LOG_LEVEL=warn \
        node "$root/bench/peer/wait_zero.js" "$poll_url" \
        "select count(*) from (select 1 from jobs where state = 'queued' limit 1) q" "$k" \
        "$build/bin/holdpoint-delivery" 2>>"$run/delivery-$k.log")
    failed=$(psql_q -c "select count(*) from jobs where state <> 'done'")
    if [ "$failed" != 0 ]; then
        echo "$failed jobs not delivered; the commonest reasons:" >&2
        psql_q -c "select state, last_error, count(*) from jobs where state <> 'done'
            group by 1, 2 order by 3 desc limit 3" >&2
        exit 1
    fi
    psql_q -c "delete from jobs" >/dev/null
    psql_q -c "vacuum analyze jobs" >/dev/null
    echo "$secs"
}

median() { bench_median "$@"; }
s1s=() s2s=() ps=()
for _ in $(seq "$rounds"); do
    s1s+=("$(run_workers 1)")
    s2s+=("$(run_workers 2)")
    peer=$(node "$root/bench/peer/graphile_post.js" "$HOLDPOINT_DATABASE_URL" "$jobs" "$conc" \
        "$url" "$body" 2>>"$run/peer.log" | tail -n 1)
    ps+=("$(bench_json_field "$peer" seconds)")
done
big_s=$(run_workers 1 "$big")
big_r=$(node -e 'process.stdout.write((process.argv[1]/process.argv[2]).toFixed(0))' "$big" "$big_s")
s1=$(median "${s1s[@]}")
s2=$(median "${s2s[@]}")
psec=$(median "${ps[@]}")
r1=$(node -e 'process.stdout.write((process.argv[1]/process.argv[2]).toFixed(0))' "$jobs" "$s1")
r2=$(node -e 'process.stdout.write((process.argv[1]/process.argv[2]).toFixed(0))' "$jobs" "$s2")
pr=$(node -e 'process.stdout.write((process.argv[1]/process.argv[2]).toFixed(0))' "$jobs" "$psec")
q1=$(node -e 'process.stdout.write((process.argv[2]/process.argv[1]).toFixed(2))' "$s1" "$psec")
q2=$(node -e 'process.stdout.write((process.argv[2]/process.argv[1]).toFixed(2))' "$s2" "$psec")
echo "delivery: 1 worker $r1/s (${s1}s), 2 workers $r2/s (${s2}s); graphile-worker POST $pr/s; 1 worker over $big: $big_r/s"

bench_write_section delivery "## Delivery (bench/delivery)

Signed callbacks delivered per second by \`holdpoint-delivery\` from a backlog
of $jobs queued jobs to a local keep-alive receiver (Node \`http\`, answers
204), with HOLDPOINT_DELIVERY_CONCURRENCY=$conc per worker. Each callback is
the full path: lease claim (\`FOR UPDATE SKIP LOCKED\`), URL policy check
with resolution and pinning, unsealing the agent secret, both HMAC-SHA256
signatures, the HTTP POST, and the batched outcome statement (job state,
attempt row, approval delivery status, \`callback_delivered\` event). The peer
figure is graphile-worker 0.16 working the same number of jobs that each
send the same body as a signed POST (Standard Webhooks HMAC-SHA256) to the
same receiver over keep-alive connections, with the same concurrency on the
same database in the same run (\`bench/peer/graphile_post.js\`).

| case | jobs | seconds | per second | ÷ peer |
|---|---|---|---|---|
| holdpoint-delivery, 1 worker | $jobs | $s1 | $r1 | $q1 |
| holdpoint-delivery, 2 workers | $jobs | $s2 | $r2 | $q2 |
| graphile-worker, the same signed POST (peer) | $jobs | $(printf %.3f "$psec") | $pr | 1.00 |
| holdpoint-delivery, 1 worker, backlog of $big | $big | $big_s | $big_r | |

Medians of $rounds interleaved rounds (seconds per round: 1 worker ${s1s[*]};
2 workers ${s2s[*]}; graphile-worker ${ps[*]}); the $big backlog ran once,
after them.

Measured $(date -u +%Y-%m-%d) on $(nproc) cores (load average $(cut -d" " -f1 /proc/loadavg) at the end, the machine shared with other work), with PostgreSQL (fsync on),
the receiver and the workers sharing them. Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/delivery.sh          # JOBS=20000 BIG=100000 CONCURRENCY=16 ROUNDS=3
\`\`\`"
