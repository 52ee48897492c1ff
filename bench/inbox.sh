#!/usr/bin/env bash
# bench/inbox: the inbox's first page with 1,000 and with 100,000 pending
# approvals in the team (keyset pagination must keep it flat), and a page
# half-way down the 100,000, each beside GET /healthz of the same server in
# the same run. Rounds alternate the two sizes on two teams of one database.
# Own throwaway stack; traffic only to 127.0.0.1. Writes docs/performance.md.
#
#   bench/inbox.sh             (SAMPLES=500 ROUNDS=3 BUILD_DIR=build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
samples=${SAMPLES:-500}
rounds=${ROUNDS:-3}

bench_stack_start
big_team=$team big_agent=$agent big_token=$user_token
boot=$("$build/bin/holdpoint" admin bootstrap --team small --email "small-$$@example.com" \
    --password bench-password --agent small-agent --json)
small_team=$(bench_json_field "$boot" team_id)
small_agent=$(bench_json_field "$boot" agent_id)
small_token=$(bench_json_field "$boot" user_token)

# Approvals inserted directly (the create path is bench/create's), one a
# second apart so the order is the created order.
seed() { # TEAM AGENT COUNT
    "$HP_PG_BIN/psql" -q "$HOLDPOINT_DATABASE_URL" -v ON_ERROR_STOP=1 -c "
insert into approvals (id, team_id, agent_id, request_id, request_id_supplied, question,
    context_markdown, options, timeout_seconds, timeout_mode, expires_at, canonical_hash,
    session_id, metadata, created_at, updated_at)
select gen_random_uuid(), '$1', '$2', 'seed-' || g, true, 'Seeded question ' || g || '?',
    'Context of **' || g || '**.', '[{\"label\":\"Approve\",\"value\":\"a\"},{\"label\":\"Reject\",\"value\":\"r\"}]',
    86400, 'expire_no_action', now() + interval '1 day', sha256(g::text::bytea),
    'sess-' || (g % 50), '{\"tool_name\":\"Bash\"}', now() - make_interval(secs => $3 - g),
    now() - make_interval(secs => $3 - g)
from generate_series(1, $3) g;
analyze approvals;"
}
seed "$big_team" "$big_agent" 100000
seed "$small_team" "$small_agent" 1000

bench_start_api A HOLDPOINT_DB_POOL_SIZE=4
results=()
for r in $(seq "$rounds"); do
    results+=("$(node "$root/bench/inbox.mjs" "$A" "$small_token" "$samples" small)")
    results+=("$(DEEP_ITEMS=50000 node "$root/bench/inbox.mjs" "$A" "$big_token" "$samples" big)")
done
printf '%s\n' "${results[@]}"

# Medians over the rounds of each (label, case).
summary=$(printf '%s\n' "${results[@]}" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
  const rows = s.trim().split("\n").map(l => JSON.parse(l));
  const med = a => { const x = [...a].sort((p, q) => p - q); return x[Math.floor(x.length / 2)]; };
  const key = r => r.label + " " + r.case;
  const g = {};
  for (const r of rows) (g[key(r)] ||= []).push(r);
  const out = {};
  for (const [k, v] of Object.entries(g))
    out[k] = { p50: med(v.map(r => r.p50_ms)), p99: med(v.map(r => r.p99_ms)), all: v.map(r => r.p99_ms).join(" ") };
  process.stdout.write(JSON.stringify(out));
});')
get() { node -e 'const o=JSON.parse(process.argv[1]); process.stdout.write(String(o[process.argv[2]][process.argv[3]]))' "$summary" "$1" "$2"; }
ratio() { node -e 'process.stdout.write((Number(process.argv[1])/Number(process.argv[2])).toFixed(2))' "$1" "$2"; }

bench_write_section inbox "## Inbox (bench/inbox)

The inbox's first page (\`GET /v1/review/approvals?status=pending\`, 50
items, user token, one request at a time over a keep-alive connection) with
1,000 and with 100,000 pending approvals in the team, and a page half-way
down the 100,000 (its keyset cursor), beside \`GET /healthz\` of the same
server in the same run (the HTTP floor). The list is one indexed query
(\`approvals_team_pending_idx\`: team, created_at, id) that reads 51 rows
whatever the team's size or the page's depth.

| team | page | p50 ms | p99 ms | p99 ÷ /healthz p99 |
|---|---|---|---|---|
| 1,000 pending | /healthz (floor) | $(get "small healthz" p50) | $(get "small healthz" p99) | 1.00 |
| 1,000 pending | first | $(get "small first_page" p50) | $(get "small first_page" p99) | $(ratio "$(get "small first_page" p99)" "$(get "small healthz" p99)") |
| 100,000 pending | /healthz (floor) | $(get "big healthz" p50) | $(get "big healthz" p99) | 1.00 |
| 100,000 pending | first | $(get "big first_page" p50) | $(get "big first_page" p99) | $(ratio "$(get "big first_page" p99)" "$(get "big healthz" p99)") |
| 100,000 pending | after 50,000 | $(get "big deep_page" p50) | $(get "big deep_page" p99) | $(ratio "$(get "big deep_page" p99)" "$(get "big healthz" p99)") |

Medians of $rounds interleaved rounds of $samples requests (first-page p99 per
round: 1,000: $(get "small first_page" all); 100,000: $(get "big first_page" all)).
Measured $(date -u +%Y-%m-%d) on $(nproc) cores (load average $(cut -d' ' -f1 /proc/loadavg) at the end, the machine shared with other work), the
client, the API, PostgreSQL and Redis on the same machine. Reproduce:

\`\`\`
cmake -S . -B build && cmake --build build -j
bench/inbox.sh             # SAMPLES=500 ROUNDS=3
\`\`\`"
