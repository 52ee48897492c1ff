# Shared by the bench/*.sh scripts (source it): a throwaway stack, API
# processes on free 127.0.0.1 ports, and writing a result section into
# docs/performance.md between <!-- bench:NAME --> markers.
#
# After bench_stack_start: $run (scratch dir), $build, $team, $agent, $key,
# $user_token, and the services' environment (HOLDPOINT_DATABASE_URL, ...).

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
bench_create_bin=$build/bin/bench_create
bench_pids=()

bench_cleanup() {
    for p in "${bench_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${run:-}" ] && "$root/scripts/services.sh" destroy "$run" >/dev/null 2>&1 || true
}

bench_json_field() { # JSON FIELD
    node -e 'const o=JSON.parse(process.argv[1]); process.stdout.write(String(o[process.argv[2]]))' "$1" "$2"
}

# The figures are meant for the build users run: an optimized one without
# sanitizers. A tree configured Debug (-O0) or with a sanitizer is refused.
bench_build_check() {
    local cache=$build/CMakeCache.txt type
    [ -f "$cache" ] || return 0
    type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$cache")
    case "$type" in
    Release | RelWithDebInfo | MinSizeRel) ;;
    *)
        echo "$build is configured ${type:-without a build type}; benchmarks need an optimized build:" >&2
        echo "  cmake -S . -B $build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build $build" >&2
        exit 1
        ;;
    esac
    if grep -Eq '^HP_(ASAN|UBSAN|TSAN):BOOL=ON' "$cache"; then
        echo "$build is built with a sanitizer; benchmarks need a build without one" >&2
        exit 1
    fi
}

bench_need_wrk() {
    command -v wrk >/dev/null || { echo "wrk is needed (Debian package wrk)" >&2; exit 1; }
}

bench_stack_start() {
    for b in holdpoint holdpoint-api; do
        [ -x "$build/bin/$b" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
    done
    bench_build_check
    run=$(mktemp -d /tmp/hp-bench.XXXXXX)
    trap bench_cleanup EXIT
    "$root/scripts/services.sh" start "$run" >/dev/null
    # shellcheck disable=SC1091
    . "$run/env"
    "$build/bin/holdpoint" migrate >/dev/null
    local boot
    boot=$("$build/bin/holdpoint" admin bootstrap --team bench --email "bench-$$@example.com" \
        --password bench-password --agent bench-agent --json)
    team=$(bench_json_field "$boot" team_id)
    agent=$(bench_json_field "$boot" agent_id)
    key=$(bench_json_field "$boot" api_key)
    user_token=$(bench_json_field "$boot" user_token)
}

# A port below the ephemeral range (32768 and up on Linux), where the
# outgoing connections of everything on the machine take their local ports.
bench_free_port() {
    local port=$(( 20000 + RANDOM % 12000 ))
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    echo "$port"
}

# bench_start_api VAR [ENV=VALUE ...]: starts an API on a free port, sets
# VAR to its base URL and VAR_PID to its pid, and waits for /healthz.
# A port taken between the probe and the bind: another port, up to 3 tries.
bench_start_api() {
    local var=$1 port pid try
    shift
    for try in 1 2 3; do
        port=$(bench_free_port)
        env HOLDPOINT_LISTEN="127.0.0.1:$port" HOLDPOINT_LOG_LEVEL=warn \
            AGENT_CREATE_RATE_LIMIT_MAX=1000000 AGENT_CREATE_RATE_LIMIT_WINDOW_MS=1000 "$@" \
            "$build/bin/holdpoint-api" 2>>"$run/api-$port.log" &
        pid=$!
        bench_pids+=("$pid")
        printf -v "$var" '%s' "http://127.0.0.1:$port"
        printf -v "${var}_PID" '%s' "$pid"
        for _ in $(seq 200); do
            curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && break # running, but not answering
        grep -q "cannot bind" "$run/api-$port.log" || break
    done
    echo "the API on port $port did not start:" >&2
    tail -n 5 "$run/api-$port.log" >&2
    exit 1
}

# bench_write_section NAME TEXT: replaces (or appends) the marked section.
bench_write_section() {
    local doc="$root/docs/performance.md"
    [ -f "$doc" ] || printf '# Performance\n' >"$doc"
    local section
    section=$(printf '<!-- bench:%s -->\n%s\n<!-- /bench:%s -->' "$1" "$2" "$1")
    node -e '
const fs = require("fs");
const [f, name, s] = process.argv.slice(1);
const t = fs.readFileSync(f, "utf8");
const re = new RegExp("<!-- bench:" + name + " -->[\\s\\S]*<!-- /bench:" + name + " -->");
fs.writeFileSync(f, re.test(t) ? t.replace(re, () => s) : t.replace(/\n*$/, "\n\n") + s + "\n");' \
        "$doc" "$1" "$section"
}

# bench_medians: reads JSON result lines ({"case", "p50_ms", "p99_ms"}, one
# per round) on stdin and prints one JSON object: per case the medians over
# the rounds ("p50", "p99") and each round's "p50/p99" ("rounds").
bench_medians() {
    node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
  const rows = s.trim().split("\n").map(l => JSON.parse(l));
  const med = a => { const x = [...a].sort((p, q) => p - q); return x[Math.floor(x.length / 2)]; };
  const g = {};
  for (const r of rows) (g[r.case] ||= []).push(r);
  const out = {};
  for (const [k, v] of Object.entries(g))
    out[k] = { p50: med(v.map(r => r.p50_ms)), p99: med(v.map(r => r.p99_ms)),
               rounds: v.map(r => r.p50_ms + "/" + r.p99_ms).join(", ") };
  process.stdout.write(JSON.stringify(out));
});'
}

# bench_get SUMMARY CASE FIELD: a field of bench_medians' output.
bench_get() {
    node -e 'const o=JSON.parse(process.argv[1]); process.stdout.write(String(o[process.argv[2]][process.argv[3]]))' "$@"
}

# bench_ratio A B: A ÷ B to two decimals.
bench_ratio() {
    node -e 'process.stdout.write((Number(process.argv[1])/Number(process.argv[2])).toFixed(2))' "$1" "$2"
}

# bench_median N...: the median of the numbers given.
bench_median() {
    printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

# bench_create_rate BASE_URL CLIENTS SECONDS: creates per second that
# bench_create (of BUILD_DIR) reaches against the API at BASE_URL.
bench_create_rate() {
    "$bench_create_bin" "$1" "$agent" "$key" "$2" "$3" | sed -n 's/.*"rate":\([0-9.]*\).*/\1/p'
}

# bench_due_approvals N REQUEST_ID EXPIRES_AT: inserts N pending approvals
# of $agent in the shape the expiry benchmarks use (seed 003, a callback URL,
# a marked default option, expire_with_predefined_instruction), then VACUUM
# ANALYZE. REQUEST_ID and EXPIRES_AT are SQL expressions of i (1..N).
bench_due_approvals() {
    psql "$HOLDPOINT_DATABASE_URL" -qAtX -v ON_ERROR_STOP=1 -c "insert into approvals (id,
        team_id, agent_id, request_id, request_id_supplied, question, context_markdown, options,
        timeout_seconds, timeout_mode, predefined_instruction, expires_at, canonical_hash,
        callback_url, callback_headers)
        select gen_random_uuid(), '$team', '$agent', $2, true,
        'Deploy?', 'context', '[{\"label\":\"Yes\",\"value\":\"y\"},{\"label\":\"No\",\"value\":\"n\",\"is_default_on_timeout\":true}]',
        60, 'expire_with_predefined_instruction', 'stop', $3,
        '\\x00', 'https://hooks.example.com/cb', '{\"X-Run\":\"1\"}'
        from generate_series(1, $1) as i" -c "vacuum analyze approvals" >/dev/null
}
