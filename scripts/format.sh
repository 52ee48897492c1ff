#!/usr/bin/env bash
# clang-format over the project's C sources (*.c, *.h), using .clang-format.
#
#   scripts/format.sh check   list mis-formatted files and exit 1 if any
#   scripts/format.sh fix     rewrite them in place
#
# Build trees, .run/, .git/ and node_modules/ are skipped.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mode="${1:-check}"
cf="${CLANG_FORMAT:-clang-format}"
command -v "$cf" >/dev/null || { echo "format.sh: $cf not found (run scripts/deps.sh)" >&2; exit 1; }

mapfile -d '' files < <(find . \( -path ./.git -o -path ./.run -o -path './build' -o -path './build-*' \
    -o -name node_modules \) -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)

case "$mode" in
check)
    # One run over every file is fast; only when it fails, find the culprits.
    if "$cf" --dry-run -Werror "${files[@]}" >/dev/null 2>&1; then
        echo "format.sh: ${#files[@]} files formatted"
        exit 0
    fi
    bad=()
    for f in "${files[@]}"; do
        if ! "$cf" --dry-run -Werror "$f" >/dev/null 2>&1; then
            bad+=("${f#./}")
        fi
    done
    if [ "${#bad[@]}" -gt 0 ]; then
        echo "format.sh: ${#bad[@]} file(s) not formatted (run scripts/format.sh fix or make format):" >&2
        printf '  %s\n' "${bad[@]}" >&2
        exit 1
    fi
    echo "format.sh: ${#files[@]} files formatted"
    ;;
fix)
    [ "${#files[@]}" -eq 0 ] || "$cf" -i "${files[@]}"
    ;;
*)
    echo "usage: format.sh check|fix" >&2
    exit 2
    ;;
esac
