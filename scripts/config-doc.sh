#!/usr/bin/env bash
# Writes (fix) or checks (check) the configuration reference in
# docs/operations.md, between <!-- config:begin --> and <!-- config:end -->,
# from `holdpoint config-vars` — the table in common/hp_config.c that every
# process reads. `check` fails when the document and the code differ.
#
#   scripts/config-doc.sh check|fix [PATH_TO_HOLDPOINT]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-check}"
bin="${2:-$root/build/bin/holdpoint}"
doc="$root/docs/operations.md"

table=$("$bin" config-vars | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
  const rows = s.trim().split("\n").map(l => JSON.parse(l));
  const out = ["| variable | default | range | read by | meaning |", "|---|---|---|---|---|"];
  for (const v of rows) {
    const dflt = v.required ? "**required**" : (v.default === null || v.default === "" ? "unset" : "`" + v.default + "`");
    const range = v.type === "int" ? `${v.min}–${v.max}` : v.type;
    out.push(`| \`${v.name}\` | ${dflt} | ${range} | ${v.used_by.join(", ")} | ${v.help} |`);
  }
  process.stdout.write(out.join("\n"));
});')

node -e '
const fs = require("fs");
const [doc, table, mode] = process.argv.slice(1);
const text = fs.readFileSync(doc, "utf8");
const re = /<!-- config:begin -->[\s\S]*<!-- config:end -->/;
if (!re.test(text)) { console.error("config-doc: markers missing in " + doc); process.exit(1); }
const want = "<!-- config:begin -->\n" + table + "\n<!-- config:end -->";
const have = text.match(re)[0];
if (mode === "fix") { fs.writeFileSync(doc, text.replace(re, () => want)); process.exit(0); }
if (have !== want) {
  console.error("config-doc: docs/operations.md does not match the variables in common/hp_config.c;");
  console.error("run scripts/config-doc.sh fix. Expected:\n" + want);
  process.exit(1);
}
console.log("config-doc: docs/operations.md lists every variable");' "$doc" "$table" "$mode"
