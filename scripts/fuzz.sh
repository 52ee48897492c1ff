#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) in
# build-fuzz/ and runs each for a short while over a scratch copy of its seed
# corpus (tests/fuzz/corpus/<name>/, which stays as committed). Exits non-zero
# when a target crashes, leaks, trips a sanitizer or fails to build; the
# crashing input is kept in build-fuzz/crashes/.
#
#   scripts/fuzz.sh              every target, FUZZ_SECONDS each (default 10)
#   scripts/fuzz.sh create_body  one target
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
secs="${FUZZ_SECONDS:-10}"
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
build=build-fuzz

CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHP_FUZZ=ON \
    -DHP_ASAN=ON -DHP_UBSAN=ON -DHP_WERROR=ON >/dev/null
if [ $# -gt 0 ]; then
    names=("$@")
else
    names=()
    for f in tests/fuzz/fuzz_*.c; do
        n="$(basename "$f" .c)"
        names+=("${n#fuzz_}")
    done
fi
targets=()
for n in "${names[@]}"; do
    targets+=("fuzz_$n")
done
cmake --build "$build" -j"$jobs" --target "${targets[@]}" >/dev/null

mkdir -p "$build/crashes"
rc=0
for n in "${names[@]}"; do
    work="$(mktemp -d "$build/corpus-$n.XXXXXX")"
    cp -r "tests/fuzz/corpus/$n/." "$work/"
    if "$build/bin/fuzz_$n" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=8192 \
        -timeout=10 -print_final_stats=1 -artifact_prefix="$build/crashes/$n-" "$work" \
        >"$build/fuzz-$n.log" 2>&1; then
        runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/fuzz-$n.log")"
        echo "fuzz $n: ok (${runs:-?} inputs in ${secs} s)"
    else
        rc=1
        echo "fuzz $n: FAILED (log: $build/fuzz-$n.log)" >&2
        tail -n 40 "$build/fuzz-$n.log" >&2
    fi
    rm -rf "$work"
done
exit "$rc"
