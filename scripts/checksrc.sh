#!/usr/bin/env bash
# The house rules that a machine can check (docs/internals/testing.md), over the C
# sources of the product (api/, common/, worker-*/, cli/) and, where they
# apply, the tests and benchmarks. Prints each violation as file:line: rule
# and exits 1 when there is any.
#
#   banned      sprintf, vsprintf, strcpy, strcat, strtok, atoi, atol, gets
#               (use the bounded hp_ helpers)
#   getenv      only common/hp_config.c reads the environment
#   sql         SQL statements live in the store: common/hp_store_*.c and
#               common/hp_db.c (LISTEN/UNLISTEN are session commands, not
#               statements: the wake sources issue them where they run)
#   header      every .c and .h starts with a comment saying what it is
#   response    every response starts in api_response_start (api/api_http.c):
#               civetweb's own Date header is not thread-safe
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

product=$(git ls-files 'api/*.c' 'api/*.h' 'common/*.c' 'common/*.h' 'worker-*/*.c' \
    'worker-*/*.h' 'cli/*.c' 'cli/*.h')
all=$(git ls-files '*.c' '*.h')
bad=0

report() { # file:line: rule: text
    echo "$1"
    bad=1
}

# banned calls (word boundary: snprintf and hp_xasprintf are fine)
while IFS= read -r hit; do
    report "$hit: banned: use the bounded hp_ helpers"
done < <(grep -nE '(^|[^A-Za-z0-9_])(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)[[:space:]]*\(' \
    $all 2>/dev/null | grep -v '^\([^:]*\):[0-9]*:[[:space:]]*\(/\*\|\*\)' || true)

# getenv outside the configuration module
while IFS= read -r hit; do
    report "$hit: getenv: read configuration through common/hp_config.c"
done < <(grep -nE '(^|[^A-Za-z0-9_])getenv[[:space:]]*\(' $product | grep -v '^common/hp_config\.c:' ||
    true)

# SQL outside the store
while IFS= read -r hit; do
    report "$hit: sql: statements belong in common/hp_store_*.c"
done < <(grep -niE '"[[:space:]]*(select|insert[[:space:]]+into|update[[:space:]]+[a-z_]+[[:space:]]+(as[[:space:]]+[a-z_]+[[:space:]]+)?set|delete[[:space:]]+from|with[[:space:]]+[a-z_]+[[:space:]]+as[[:space:]]*\()[[:space:]]' \
    $product | grep -vE "^common/(hp_store_[a-z_]+\.[ch]|hp_db\.c):" || true)

# file header comment
for f in $all; do
    head -c 2 "$f" | grep -q '^/\*' || report "$f:1: header: start with a comment saying what the file does"
done

# responses start in api_response_start
while IFS= read -r hit; do
    report "$hit: response: start responses with api_response_start"
done < <(grep -n 'mg_response_header_start[[:space:]]*(' $product | grep -v '^api/api_http\.c:' ||
    true)

if [ "$bad" -ne 0 ]; then
    echo "checksrc: house rules broken (scripts/checksrc.sh lists the rules)" >&2
    exit 1
fi
echo "checksrc: ok ($(echo "$all" | wc -w) files)"
