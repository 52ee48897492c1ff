#!/bin/sh
# Runs an integration program the way operators run Holdpoint behind
# PgBouncer in transaction mode (ctest: pooled.it_*): every process the
# program starts (APIs, workers, the CLI) gets HOLDPOINT_DATABASE_URL of the
# pooler `make test` runs (HP_POOLER_URL, from scripts/services.sh) and
# HOLDPOINT_DATABASE_DIRECT_URL of PostgreSQL itself for LISTEN and
# migrations. The harness's own SQL keeps the direct URL.
#
#   tests/integration/pooled.sh PROGRAM [ARGS...]
set -eu
: "${HP_POOLER_URL:?HP_POOLER_URL is not set (run the tests with make test)}"
: "${HOLDPOINT_DATABASE_URL:?HOLDPOINT_DATABASE_URL is not set (run the tests with make test)}"
export HOLDPOINT_DATABASE_DIRECT_URL="$HOLDPOINT_DATABASE_URL"
# The second pass checks behaviour through the pooler, not volume: tests
# that move large volumes use their light size (HP_IT_POOLED).
export HP_IT_POOLED=1
export HOLDPOINT_DATABASE_URL="$HP_POOLER_URL"
exec "$@"
