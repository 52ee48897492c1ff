#!/bin/sh
# PgBouncer in transaction mode in front of PostgreSQL, configured from the
# environment. The image of deploy/pgbouncer/Dockerfile runs it (`run`), and
# scripts/services.sh renders its test pooler with it (`render`), so
# `make test` runs Holdpoint through this very configuration.
#
#   pgbouncer.sh render DIR   write DIR/pgbouncer.ini and DIR/userlist.txt
#   pgbouncer.sh run          render into $PGBOUNCER_DIR (default
#                             /tmp/pgbouncer) and exec pgbouncer there
#
# Environment (default):
#   PGBOUNCER_UPSTREAM_HOST (postgres), PGBOUNCER_UPSTREAM_PORT (5432)
#   PGBOUNCER_DATABASE (*)      the database clients may name; * = any
#   PGBOUNCER_LISTEN_ADDR (0.0.0.0), PGBOUNCER_LISTEN_PORT (6432)
#   PGBOUNCER_USER (holdpoint), PGBOUNCER_PASSWORD (required unless
#                               PGBOUNCER_AUTH_TYPE=trust): the role clients
#                               log in as, which the pooler also uses upstream
#   PGBOUNCER_AUTH_TYPE (scram-sha-256; trust only for a throwaway server)
#   PGBOUNCER_POOL_SIZE (20)    server connections per database and user
#   PGBOUNCER_MAX_CLIENT_CONN (1000)
#   PGBOUNCER_LOGFILE, PGBOUNCER_PIDFILE (unset: log to stderr, no pid file)
#
# What Holdpoint needs from it (docs/operations.md): pool_mode = transaction,
# and nothing else special. No ignore_startup_parameters: Holdpoint sends no
# startup parameter a pooler refuses. PgBouncer 1.18 (Debian 12) cannot carry
# protocol-level prepared statements between server connections; Holdpoint
# notices the pooler and does without them (HOLDPOINT_DB_PREPARED_STATEMENTS).
# LISTEN and migrations bypass the pooler (HOLDPOINT_DATABASE_DIRECT_URL).
set -eu

render() {
    dir="$1"
    user="${PGBOUNCER_USER:-holdpoint}"
    auth="${PGBOUNCER_AUTH_TYPE:-scram-sha-256}"
    if [ "$auth" != "trust" ] && [ -z "${PGBOUNCER_PASSWORD:-}" ]; then
        echo "pgbouncer.sh: PGBOUNCER_PASSWORD is required (auth_type $auth)" >&2
        exit 2
    fi
    mkdir -p "$dir"
    umask 077
    # userlist.txt: "user" "password", with double quotes doubled.
    printf '"%s" "%s"\n' "$(printf '%s' "$user" | sed 's/"/""/g')" \
        "$(printf '%s' "${PGBOUNCER_PASSWORD:-}" | sed 's/"/""/g')" >"$dir/userlist.txt"
    {
        echo ";; written by deploy/pgbouncer/pgbouncer.sh from its environment"
        echo "[databases]"
        echo "${PGBOUNCER_DATABASE:-*} = host=${PGBOUNCER_UPSTREAM_HOST:-postgres} port=${PGBOUNCER_UPSTREAM_PORT:-5432}"
        echo
        echo "[pgbouncer]"
        echo "listen_addr = ${PGBOUNCER_LISTEN_ADDR:-0.0.0.0}"
        echo "listen_port = ${PGBOUNCER_LISTEN_PORT:-6432}"
        echo "unix_socket_dir ="
        echo "auth_type = $auth"
        echo "auth_file = $dir/userlist.txt"
        # SHOW POOLS / SHOW SERVERS on the console database "pgbouncer".
        echo "admin_users = $user"
        echo "stats_users = $user"
        # A server connection serves one transaction, then the next client.
        echo "pool_mode = transaction"
        echo "default_pool_size = ${PGBOUNCER_POOL_SIZE:-20}"
        echo "max_client_conn = ${PGBOUNCER_MAX_CLIENT_CONN:-1000}"
        # Holdpoint bounds every statement itself (HOLDPOINT_DB_TIMEOUT_MS)
        # and cancels it; this only bounds a client that waits for a server
        # connection when the pool is exhausted.
        echo "query_wait_timeout = 30"
        echo "log_connections = 0"
        echo "log_disconnections = 0"
        if [ -n "${PGBOUNCER_LOGFILE:-}" ]; then
            echo "logfile = $PGBOUNCER_LOGFILE"
        fi
        if [ -n "${PGBOUNCER_PIDFILE:-}" ]; then
            echo "pidfile = $PGBOUNCER_PIDFILE"
        fi
    } >"$dir/pgbouncer.ini"
    chmod 600 "$dir/pgbouncer.ini"
}

case "${1:-run}" in
render)
    [ $# -eq 2 ] || { echo "usage: pgbouncer.sh render DIR" >&2; exit 2; }
    render "$2"
    ;;
run)
    dir="${PGBOUNCER_DIR:-/tmp/pgbouncer}"
    render "$dir"
    exec pgbouncer "$dir/pgbouncer.ini"
    ;;
*)
    echo "usage: pgbouncer.sh render DIR | run" >&2
    exit 2
    ;;
esac
