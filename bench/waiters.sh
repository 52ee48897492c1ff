#!/usr/bin/env bash
# bench/waiters: how many concurrent long-polls one API process holds, its
# resident memory per held waiter, and how many database connections they use
# (none), then a single decision releasing all of them (bench_waiters.c). One
# API process per size, each started fresh; own throwaway stack; traffic only
# to 127.0.0.1. Writes docs/performance.md.
#
#   bench/waiters.sh           (SIZES="1000 5000 10000" BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
sizes=${SIZES:-1000 5000 10000}
max=0
for n in $sizes; do [ "$n" -gt "$max" ] && max=$n; done

ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((max + 300)) ] || { echo "open file limit too low for $max waiters" >&2; exit 1; }
bench_stack_start
rows=""
for n in $sizes; do
    # One key holds every waiter here, so the shares are lifted to 100 %;
    # up to the default HOLDPOINT_MAX_WAITERS (4,096) nothing else is set.
    settings="defaults"
    extra=(HOLDPOINT_TEAM_WAITERS_PERCENT=100 HOLDPOINT_KEY_WAITERS_PERCENT=100)
    if [ "$n" -gt 4096 ]; then
        extra+=(HOLDPOINT_API_THREADS=$((n + 256)) HOLDPOINT_MAX_WAITERS=$((n + 50)))
        settings="HOLDPOINT_API_THREADS=$((n + 256)), HOLDPOINT_MAX_WAITERS=$((n + 50))"
    fi
    bench_start_api A "${extra[@]}"
    out=$("$build/bin/bench_waiters" "$A" "$agent" "$key" "$user_token" "$A_PID" "$n")
    echo "$out"
    kill -TERM "$A_PID"
    wait "$A_PID" 2>/dev/null || true
    f() { bench_json_field "$out" "$1"; }
    idle=$(f rss_idle_kb)
    held_kb=$(f rss_held_kb)
    rows+="| $n | $settings | $(f held) | $((idle / 1024)) MiB | $((held_kb / 1024)) MiB | $(( (held_kb - idle) * 1024 / n / 1024 )).$(( (held_kb - idle) * 1024 / n % 1024 * 10 / 1024 )) KiB | $(f threads) | $(f db_pool_in_use_while_held) | $(f answered_with_decision) | $(f decision_ms) | $(f first_answer_ms) | $(f drain_ms) |
"
done
bench_write_section waiters "## Waiters (bench/waiters)

One fresh \`holdpoint-api\` process per row holding long-polls on one
approval, arriving at 2,000/s; then one decision releases them all. The
API's worker threads all exist from the start (\"RSS before\" includes them,
idle); \"per held waiter\" is (RSS while held − RSS before) ÷ waiters: what a
thread costs once it carries a request and sleeps in a wait. One key holds all
the waiters, so its shares are lifted (HOLDPOINT_TEAM_WAITERS_PERCENT=100,
HOLDPOINT_KEY_WAITERS_PERCENT=100); the other settings are the defaults up to
4,096 waiters. The decision is sent to the same process, which answers
them from the deciding statement's row without a read: two of the waiting
threads write every answer, and the others wake afterwards, one after
another, to finish (docs/internals/waiters.md, *Answered by the decision*).
The release time runs from sending the decision to the last whole answer
received; \"first\" is the first answer.

| waiters requested | settings | held at once | RSS before | RSS while held | per held waiter | threads | DB connections in use while held | answered with the decision | decision request (ms) | first answer (ms) | release of all (ms) |
|---|---|---|---|---|---|---|---|---|---|---|---|
${rows%$'\n'}

The most this machine holds in one process is bounded by its open files:
every waiter is a socket in the API and one in the client, and the hard
limit here is $(ulimit -Hn) (\`ulimit -Hn\`); threads are bounded by
kernel.pid_max ($(cat /proc/sys/kernel/pid_max), shared by every process on the machine).

One round per size. Measured $(date -u +%Y-%m-%d) on $(nproc) cores (load average
$(cut -d" " -f1 /proc/loadavg) at the end, the machine shared with other work), the client
(one thread: plain HTTP/1.1 on sockets watched with epoll, since libcurl's
multi interface spent 77 % of the CPU of a 10,000-waiter drain itself) on
the same machine. Reproduce: \`bench/waiters.sh\`
(SIZES=\"$sizes\")."
