#!/usr/bin/env bash
# bench/inbox_live: a decision on replica A → the inbox of a browser
# (headless Chromium) connected to replica B updated, beside the same
# decision releasing a long-poll waiting on B, from the same decision in the
# same run. Own throwaway stack; traffic only to 127.0.0.1. Writes
# docs/performance.md.
#
#   bench/inbox_live.sh        (SAMPLES=50 ROUNDS=3 BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
samples=${SAMPLES:-50}
rounds=${ROUNDS:-3}
[ -d "$root/tests/e2e/node_modules/playwright-core" ] ||
    npm ci --prefix "$root/tests/e2e" --no-audit --no-fund --loglevel=error >/dev/null

bench_stack_start
email="bench-$$@example.com"
bench_start_api A
bench_start_api B
results=()
for r in $(seq "$rounds"); do
    results+=("$(node "$root/bench/inbox_live.mjs" "$A" "$B" "$email" bench-password "$agent" "$key" \
        "$user_token" "$samples")")
done
printf '%s\n' "${results[@]}"
summary=$(printf '%s\n' "${results[@]}" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
  const rows = s.trim().split("\n").map(l => JSON.parse(l));
  const med = a => { const x = [...a].sort((p, q) => p - q); return x[Math.floor(x.length / 2)]; };
  const out = {};
  for (const c of ["browser", "longpoll"]) {
    const v = rows.filter(r => r.case === c);
    out[c] = { p50: med(v.map(r => r.p50_ms)), p99: med(v.map(r => r.p99_ms)), all: v.map(r => r.p50_ms + "/" + r.p99_ms).join(", ") };
  }
  process.stdout.write(JSON.stringify(out));
});')
get() { node -e 'const o=JSON.parse(process.argv[1]); process.stdout.write(String(o[process.argv[2]][process.argv[3]]))' "$summary" "$1" "$2"; }
ratio() { node -e 'process.stdout.write((Number(process.argv[1])/Math.max(1,Number(process.argv[2]))).toFixed(2))' "$1" "$2"; }

bench_write_section inbox_live "## Live inbox across replicas (bench/inbox_live)

Time from sending a decision (\`POST /v1/review/approvals/:id/resolve\`) to
replica A until the inbox in a browser (headless Chromium) connected to
replica B shows it — the approval leaves the list — beside the time the same
decision takes to release a long-poll (\`GET …/result?wait=30\`) waiting on
replica B. The browser path adds to the long-poll's (decision transaction,
NOTIFY/PUBLISH, waiter wake) the stream's read of the team's changes, the
SSE event, and the page's update; the browser stamps the moment the item
leaves the DOM (MutationObserver).

| case | p50 ms | p99 ms | p50 ÷ long-poll p50 |
|---|---|---|---|
| long-poll on B released (ceiling) | $(get longpoll p50) | $(get longpoll p99) | 1.00 |
| browser inbox on B updated | $(get browser p50) | $(get browser p99) | $(ratio "$(get browser p50)" "$(get longpoll p50)") |

Medians of $rounds rounds of $samples decisions (browser p50/p99 per round:
$(get browser all); long-poll: $(get longpoll all)). Measured $(date -u +%Y-%m-%d) on
$(nproc) cores (load average $(cut -d' ' -f1 /proc/loadavg) at the end, the machine shared with other work), the
browser, both API replicas, PostgreSQL and Redis on the same machine.
Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/inbox_live.sh        # SAMPLES=50 ROUNDS=3
\`\`\`"
