#!/usr/bin/env bash
# `make test`: builds an ASan+UBSan tree in build-test/, starts a throwaway
# PostgreSQL and Redis in .run/test-<pid> on spare ports, migrates, and runs
# every ctest suite (unit and integration) against them. The services and the
# directory are always removed. Exits non-zero on any failure, including a
# failure to start the services (tests are never reported as skipped).
#
# Arguments go to ctest, so a few suites can be run the same way (the fuzz
# targets then run only with FUZZ=1):
#   scripts/test.sh -R 'it_wait|test_hp_json'
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHP_ASAN=ON -DHP_UBSAN=ON -DHP_WERROR=ON -DHP_TESTING=ON
cmake --build build-test -j"$jobs"
# tests/contract (ctest contract.*) and tests/e2e (the real JavaScript clients
# the integration programs run): node_modules from the committed locks, when
# they changed, before any test runs (so no two tests install at once).
for dir in tests/contract tests/e2e; do
    if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.holdpoint-lock"; then
        npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
        cp "$dir/package-lock.json" "$dir/node_modules/.holdpoint-lock"
    fi
done

mkdir -p .run
run_dir="$root/.run/test-$$"
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    scripts/services.sh destroy "$run_dir" || true
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

HP_FAST_PG=1 scripts/services.sh start "$run_dir"
# shellcheck disable=SC1091
source "$run_dir/env"

export HP_BIN_DIR="$root/build-test/bin"
export HP_RUN_DIR="$run_dir"
export HP_IT_RECORD="$run_dir/responses.jsonl" # every response, for ctest contract.openapi
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
if [ -f "$root/tests/lsan.supp" ]; then
    export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
fi

"$HP_BIN_DIR/holdpoint" migrate

rc=0
# Most integration programs wait on I/O, so run twice as many as cores.
ctest --test-dir build-test --output-on-failure -j"$((jobs * 2))" "$@" || rc=$?

full=0
[ "$#" -eq 0 ] && full=1

# ThreadSanitizer (build-tsan/): the suites whose processes share state
# between threads — the API's waiters, its shared statements and memory of
# keys (creates and lookups at once), the delivery worker, the expiry
# worker — once more with TSan binaries, in a full run (TSAN=1 or 0 to
# choose).
if [ "${TSAN:-$full}" = "1" ]; then
    tsan_suites=(it_wait it_delivery it_expiry it_create it_auth)
    cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHP_TSAN=ON -DHP_WERROR=ON \
        -DHP_TESTING=ON >/dev/null
    cmake --build build-tsan -j"$jobs" --target holdpoint-api holdpoint-timeout \
        holdpoint-delivery holdpoint "${tsan_suites[@]}" >/dev/null
    (
        # HP_IT_LIGHT: the thousand-waiter test runs with a hundred.
        export HP_BIN_DIR="$root/build-tsan/bin" HP_IT_LIGHT=1
        export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
        unset HP_IT_RECORD
        ctest --test-dir build-tsan --output-on-failure -j"$jobs" \
            -R "^integration\.($(IFS='|'; echo "${tsan_suites[*]}"))\$"
    ) || rc=1
fi

# libFuzzer targets (tests/fuzz): a short run of each over its seed corpus,
# in a full run (FUZZ=1 or FUZZ=0 to choose).
if [ "${FUZZ:-$full}" = "1" ]; then
    FUZZ_SECONDS="${FUZZ_SECONDS:-10}" JOBS="$jobs" scripts/fuzz.sh || rc=1
fi

if [ "$rc" -ne 0 ]; then
    # Keep the logs of the processes the tests started (API, workers, the
    # services) for a look after the run directory is gone.
    rm -rf build-test/test-logs
    mkdir -p build-test/test-logs
    cp "$run_dir"/*.log build-test/test-logs/ 2>/dev/null || true
    echo "make test: logs kept in build-test/test-logs/" >&2
fi

if [ "${FORMAT_CHECK:-1}" = "1" ]; then
    scripts/format.sh check || rc=1
    scripts/checksrc.sh || rc=1
fi
if [ "$rc" -ne 0 ]; then
    echo "make test: FAILED" >&2
else
    echo "make test: all passed"
fi
exit "$rc"
