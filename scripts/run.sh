#!/usr/bin/env bash
# `make run`: starts PostgreSQL and Redis under .run/, migrates, bootstraps a
# demo team the first time (kept in .run/demo.json), prints how to call the
# API, then runs holdpoint-api, holdpoint-timeout and holdpoint-delivery in the
# foreground. Ctrl-C (or SIGTERM) stops the three, then the services.
#
# HOLDPOINT_LISTEN picks the API address (default 127.0.0.1:8080, or a free
# port when 8080 is taken).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bin="$root/build/bin"
run_dir="$root/.run"

[ -x "$bin/holdpoint" ] && [ -x "$bin/holdpoint-api" ] ||
    { echo "run.sh: build/bin/holdpoint and holdpoint-api are missing (run make build)" >&2; exit 1; }

port_busy() {
    [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# Prints the value of a flat JSON object's string field (our own CLI output:
# no escapes in ids, keys or tokens).
json_field() {
    sed -n "s/.*\"$2\"[[:space:]]*:[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" "$1" | head -n 1
}

scripts/services.sh start "$run_dir"
# shellcheck disable=SC1091
source "$run_dir/env"

pids=()
stopping=0
stop_all() {
    stopping=1
    local p
    for p in "${pids[@]+"${pids[@]}"}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_all
    local p
    for p in "${pids[@]+"${pids[@]}"}"; do
        wait "$p" 2>/dev/null || true
    done
    scripts/services.sh stop "$run_dir" || true
    exit "$rc"
}
trap cleanup EXIT
trap 'stop_all' INT TERM

"$bin/holdpoint" migrate

if [ -z "${HOLDPOINT_LISTEN:-}" ]; then
    port=8080
    while port_busy "$port"; do
        port=$((port + 1))
    done
    export HOLDPOINT_LISTEN="127.0.0.1:$port"
fi
base_url="http://$HOLDPOINT_LISTEN"
export HOLDPOINT_PUBLIC_URL="${HOLDPOINT_PUBLIC_URL:-$base_url}"

demo="$run_dir/demo.json"
if [ -s "$demo" ]; then
    team_id="$(json_field "$demo" team_id)"
    known="$("$HP_PG_BIN/psql" "$HOLDPOINT_DATABASE_URL" -Atqc \
        "select count(*) from teams where id::text = '$team_id'" 2>/dev/null || echo 0)"
    [ "$known" = "1" ] || rm -f "$demo"
fi
if [ ! -s "$demo" ]; then
    password="$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
    out="$("$bin/holdpoint" admin bootstrap --team demo --email demo@example.com \
        --password "$password" --agent demo-agent --user-name "Demo Reviewer" --json)" || {
        echo "run.sh: bootstrap failed; to start over with an empty database: make distclean" >&2
        exit 1
    }
    (umask 077 && printf '%s\n' "${out%\}},\"email\":\"demo@example.com\",\"password\":\"$password\"}" >"$demo")
fi

cat <<EOF

==============================================================================
 Holdpoint is starting (data in .run/, Ctrl-C to stop).

 Agent credentials (paste into a shell; the seed 001 curl examples then work):

export BASE_URL="$base_url"
export AGENT_ID="$(json_field "$demo" agent_id)"
export API_KEY="$(json_field "$demo" api_key)"

 The same key alone works as Authorization: Bearer (the Ask API at
 \$BASE_URL/api/v1/server, the MCP server at \$BASE_URL/mcp):

export HOLDPOINT_URL="$base_url"
export HOLDPOINT_API_KEY="\$API_KEY"

 Web app:  $base_url/app   (sign in as the demo reviewer)
   email     $(json_field "$demo" email)
   password  $(json_field "$demo" password)

export USER_TOKEN="$(json_field "$demo" user_token)"

 Decide with:
   curl -sS "\$BASE_URL/v1/review/approvals?status=pending" -H "Authorization: Bearer \$USER_TOKEN"
==============================================================================

EOF

"$bin/holdpoint-api" &
pids+=($!)
for w in holdpoint-timeout holdpoint-delivery; do
    if [ -x "$bin/$w" ]; then
        "$bin/$w" &
        pids+=($!)
    else
        echo "run.sh: $w not built yet; running without it" >&2
    fi
done

# Wait until every process has exited; when one exits on its own, stop the
# others too.
rc=0
while :; do
    alive=()
    for p in "${pids[@]}"; do
        if kill -0 "$p" 2>/dev/null; then
            alive+=("$p")
        fi
    done
    [ "${#alive[@]}" -gt 0 ] || break
    st=0
    wait -n "${alive[@]}" 2>/dev/null || st=$?
    # Once we are stopping (Ctrl-C or SIGTERM: the trap set $stopping and
    # interrupted wait), exit statuses are expected; before that, any
    # process ending is unexpected and one ending badly fails the run.
    if [ "$stopping" -eq 0 ] && [ "$st" -ne 0 ] && [ "$st" -ne 127 ]; then
        rc=$st
        echo "run.sh: a process exited with status $st; stopping the others" >&2
    fi
    [ "$stopping" -eq 1 ] || stop_all
done
exit "$rc"
