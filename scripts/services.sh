#!/usr/bin/env bash
# Throwaway PostgreSQL, PgBouncer and Redis for `make run` and `make test`.
#
#   services.sh start DIR     initdb (first time) and start all three on free
#                             ports, create database "holdpoint", write DIR/env
#   services.sh stop DIR      stop both; safe to call twice or when not started
#   services.sh destroy DIR   stop, then remove DIR (and PostgreSQL's data)
#   services.sh pg-stop DIR   stop only PostgreSQL (outage tests)
#   services.sh pg-start DIR  start it again on the same port
#   services.sh redis-stop DIR / redis-start DIR   the same for Redis
#   services.sh pooler-stop DIR / pooler-start DIR the same for PgBouncer
#
# DIR/env holds `export` lines for HOLDPOINT_DATABASE_URL, HOLDPOINT_REDIS_URL,
# HOLDPOINT_SECRET_KEY (generated once per DIR and kept), HP_PG_BIN,
# HP_PG_DATA, HP_PG_PORT, HP_REDIS_PORT, HP_POOLER_URL and HP_POOLER_PORT.
# HOLDPOINT_DATABASE_URL leads to PostgreSQL itself; HP_POOLER_URL to the
# same database through PgBouncer in transaction mode (every database of the
# server is reachable through it, with the pooler's console as database
# "pgbouncer"). All servers listen on 127.0.0.1 only; PostgreSQL and PgBouncer
# trust every local connection, so never point this at anything but a scratch
# directory. HP_FAST_PG=1 turns off fsync,
# synchronous_commit and full_page_writes (tests only).
#
# As root, PostgreSQL runs as the "postgres" user (initdb refuses root); as
# any other user it runs as that user.
set -euo pipefail

die() {
    echo "services.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: services.sh start|stop|destroy|pg-stop|pg-start|redis-stop|redis-start|pooler-stop|pooler-start DIR" >&2
    exit 2
}

[ $# -eq 2 ] || usage
cmd="$1"
mkdir -p "$2"
DIR="$(cd "$2" && pwd)"

# Newest installed PostgreSQL major version, unless HP_PG_BIN says otherwise.
pg_bin() {
    if [ -n "${HP_PG_BIN:-}" ] && [ -x "$HP_PG_BIN/pg_ctl" ]; then
        echo "$HP_PG_BIN"
        return
    fi
    local best="" v
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/pg_ctl" ] || continue
        v="$(basename "$(dirname "$d")")"
        if [ -z "$best" ] || [ "${v%%.*}" -gt "$(basename "$(dirname "$best")" | cut -d. -f1)" ]; then
            best="$d"
        fi
    done
    [ -n "$best" ] || die "no PostgreSQL server found under /usr/lib/postgresql (run scripts/deps.sh)"
    echo "$best"
}

PGBIN="$(pg_bin)"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGDATA="$DIR/pg"
REDIS_PID="$DIR/redis.pid"
REDIS_LOG="$DIR/redis.log"
STATE="$DIR/ports"

# Runs a command as the PostgreSQL owner.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_busy() {
    # A listener on any address, or anything answering on 127.0.0.1.
    if [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; then
        return 0
    fi
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    return 1
}

# Prints a free TCP port from a random start in 20000–59999, skipping $1.
free_port() {
    local skip="${1:-0}" p i
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    for ((i = 0; i < 2000; i++)); do
        if [ "$p" != "$skip" ] && ! port_busy "$p"; then
            echo "$p"
            return 0
        fi
        p=$((p + 1))
        [ "$p" -lt 60000 ] || p=20000
    done
    die "no free TCP port found"
}

state_get() {
    [ -f "$STATE" ] || return 0
    sed -n "s/^$1=//p" "$STATE"
}

state_set() {
    local tmp="$STATE.tmp"
    { [ -f "$STATE" ] && grep -v "^$1=" "$STATE" || true; echo "$1=$2"; } >"$tmp"
    mv "$tmp" "$STATE"
}

# The data directory as PostgreSQL sees it (DIR/pg, or its target in /tmp).
pg_data() {
    local real
    real="$(state_get pgreal)"
    if [ -n "$real" ]; then
        echo "$real/pg"
    else
        echo "$PGDATA"
    fi
}

# PostgreSQL's log sits in DIR, or beside the data when that lives in /tmp.
pg_log() {
    local real
    real="$(state_get pgreal)"
    if [ -n "$real" ]; then
        echo "$real/pg.log"
    else
        echo "$DIR/pg.log"
    fi
}

secret_key() {
    local f="$DIR/secret_key"
    if [ ! -s "$f" ]; then
        (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$f.tmp" && mv "$f.tmp" "$f")
    fi
    cat "$f"
}

# The socket directory lives in DIR when the path is short enough for a unix
# socket name (108 bytes) and PostgreSQL can reach it, else in a private
# directory under /tmp.
sock_dir() {
    local s
    s="$(state_get sockdir)"
    if [ -n "$s" ] && [ -d "$s" ]; then
        echo "$s"
        return
    fi
    if [ ${#DIR} -lt 80 ] && { [ "$(id -u)" -ne 0 ] || runuser -u postgres -- test -x "$DIR"; }; then
        s="$DIR/sock"
        mkdir -p "$s"
    else
        s="$(mktemp -d /tmp/hp-pgsock.XXXXXX)"
    fi
    [ "$(id -u)" -ne 0 ] || chown postgres "$s"
    state_set sockdir "$s"
    echo "$s"
}

pg_running() {
    [ -f "$PGDATA/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" status -D "$(pg_data)" >/dev/null 2>&1
}

pg_init() {
    [ -f "$PGDATA/PG_VERSION" ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || die "user postgres does not exist (install postgresql)"
        # The data directory must be reachable by postgres through DIR's
        # parents; when it is not (e.g. a checkout under /root), keep the data
        # in /tmp and link it from DIR.
        if ! runuser -u postgres -- test -x "$DIR"; then
            local real
            real="$(mktemp -d /tmp/hp-pgdata.XXXXXX)"
            chown postgres "$real"
            rm -rf "$PGDATA"
            ln -s "$real/pg" "$PGDATA"
            mkdir -p "$real/pg"
            chown postgres "$real/pg"
            state_set pgreal "$real"
            ln -sf "$real/pg.log" "$DIR/pg.log"
        else
            mkdir -p "$PGDATA"
            chown postgres "$PGDATA"
        fi
    else
        mkdir -p "$PGDATA"
    fi
    chmod 700 "$PGDATA"
    as_pg "$PGBIN/initdb" -D "$(pg_data)" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        >"$DIR/initdb.log" 2>&1 || {
        cat "$DIR/initdb.log" >&2
        die "initdb failed"
    }
    echo "include_if_exists = 'holdpoint.conf'" | as_pg tee -a "$(pg_data)/postgresql.conf" >/dev/null
}

pg_write_conf() {
    local port="$1" sock="$2"
    {
        echo "# written by scripts/services.sh on every start"
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = '$sock'"
        echo "max_connections = 300"
        echo "shared_buffers = 64MB"
        echo "log_min_messages = warning"
        echo "log_min_error_statement = panic"
        if [ "${HP_FAST_PG:-0}" = "1" ]; then
            echo "fsync = off"
            echo "synchronous_commit = off"
            echo "full_page_writes = off"
        fi
    } | as_pg tee "$(pg_data)/holdpoint.conf" >/dev/null
}

pg_start_on() {
    local port="$1"
    local log
    log="$(pg_log)"
    pg_write_conf "$port" "$(sock_dir)"
    if [ ! -e "$log" ]; then
        touch "$log"
        [ "$(id -u)" -ne 0 ] || chown postgres "$log"
    fi
    as_pg "$PGBIN/pg_ctl" start -D "$(pg_data)" -l "$log" -w -t 60 >/dev/null 2>&1
}

pg_start() {
    local port tries
    pg_init
    if pg_running; then
        return 0
    fi
    port="$(state_get pgport)"
    if [ -n "$port" ] && ! port_busy "$port"; then
        pg_start_on "$port" && { state_set pgport "$port"; return 0; }
    fi
    # A fresh port; retry when another process takes it between check and bind.
    for tries in 1 2 3 4 5; do
        port="$(free_port "$(state_get redisport)")"
        if pg_start_on "$port"; then
            state_set pgport "$port"
            return 0
        fi
    done
    tail -n 20 "$(pg_log)" >&2 || true
    die "could not start PostgreSQL (see $(pg_log))"
}

pg_create_db() {
    local port
    port="$(state_get pgport)"
    if [ "$("$PGBIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc \
        "select 1 from pg_database where datname = 'holdpoint'")" != "1" ]; then
        "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres holdpoint
    fi
}

pg_stop() {
    if pg_running; then
        as_pg "$PGBIN/pg_ctl" stop -D "$(pg_data)" -m fast -w -t 60 >/dev/null
    fi
}

redis_running() {
    local pid
    [ -f "$REDIS_PID" ] || return 1
    pid="$(cat "$REDIS_PID" 2>/dev/null || true)"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
        grep -q redis "/proc/$pid/comm" 2>/dev/null
}

redis_start_on() {
    local port="$1" i
    rm -f "$REDIS_PID"
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize yes --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" --dir "$DIR" \
        >/dev/null 2>&1 || return 1
    for ((i = 0; i < 100; i++)); do
        if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = "PONG" ] && redis_running; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

redis_start() {
    local port tries
    redis_running && return 0
    port="$(state_get redisport)"
    if [ -n "$port" ] && ! port_busy "$port"; then
        redis_start_on "$port" && return 0
    fi
    for tries in 1 2 3 4 5; do
        port="$(free_port "$(state_get pgport)")"
        if redis_start_on "$port"; then
            state_set redisport "$port"
            return 0
        fi
    done
    tail -n 20 "$REDIS_LOG" >&2 || true
    die "could not start Redis (see $REDIS_LOG)"
}

redis_stop() {
    local pid port i
    redis_running || { rm -f "$REDIS_PID"; return 0; }
    pid="$(cat "$REDIS_PID")"
    port="$(state_get redisport)"
    redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$REDIS_PID"; return 0; }
        sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$REDIS_PID"
}

# ---- PgBouncer ------------------------------------------------------------
# Transaction pooling in front of the server with the configuration deploy/
# ships (deploy/pgbouncer/pgbouncer.sh): no ignore_startup_parameters, so a
# client sending a startup parameter the pooler does not know (such as
# "options") is refused as it would be in production. Runs as the PostgreSQL owner (PgBouncer refuses root) with its
# files in DIR/pgbouncer (or, when the PostgreSQL owner cannot reach DIR, in
# a private directory under /tmp; DIR/pgbouncer.log points at its log).

pgb_dir() {
    local d
    d="$(state_get pgbdir)"
    if [ -n "$d" ] && [ -d "$d" ]; then
        echo "$d"
        return
    fi
    if [ "$(id -u)" -ne 0 ] || runuser -u postgres -- test -x "$DIR"; then
        d="$DIR/pgbouncer"
        mkdir -p "$d"
    else
        d="$(mktemp -d /tmp/hp-pgbouncer.XXXXXX)"
    fi
    [ "$(id -u)" -ne 0 ] || chown postgres "$d"
    state_set pgbdir "$d"
    echo "$d"
}

pgb_running() {
    local pid
    PGB_DIR="$(pgb_dir)"
    [ -f "$PGB_DIR/pgbouncer.pid" ] || return 1
    pid="$(cat "$PGB_DIR/pgbouncer.pid" 2>/dev/null || true)"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q pgbouncer "/proc/$pid/comm" 2>/dev/null
}

pgb_start_on() {
    local port="$1" pgport i
    pgport="$(state_get pgport)"
    command -v pgbouncer >/dev/null 2>&1 || die "pgbouncer is not installed (run scripts/deps.sh)"
    PGB_DIR="$(pgb_dir)"
    [ -e "$DIR/pgbouncer.log" ] || ln -sf "$PGB_DIR/pgbouncer.log" "$DIR/pgbouncer.log"
    # The deploy's configuration (deploy/pgbouncer/pgbouncer.sh), on a
    # local port, trusting local connections like the server behind it.
    PGBOUNCER_UPSTREAM_HOST=127.0.0.1 PGBOUNCER_UPSTREAM_PORT="$pgport" \
        PGBOUNCER_LISTEN_ADDR=127.0.0.1 PGBOUNCER_LISTEN_PORT="$port" \
        PGBOUNCER_USER=postgres PGBOUNCER_AUTH_TYPE=trust PGBOUNCER_MAX_CLIENT_CONN=900 \
        PGBOUNCER_LOGFILE="$PGB_DIR/pgbouncer.log" PGBOUNCER_PIDFILE="$PGB_DIR/pgbouncer.pid" \
        "$ROOT/deploy/pgbouncer/pgbouncer.sh" render "$PGB_DIR"
    [ "$(id -u)" -ne 0 ] || chown postgres "$PGB_DIR/pgbouncer.ini" "$PGB_DIR/userlist.txt"
    rm -f "$PGB_DIR/pgbouncer.pid"
    as_pg pgbouncer -q -d "$PGB_DIR/pgbouncer.ini" >/dev/null 2>&1 || return 1
    for ((i = 0; i < 100; i++)); do
        if pgb_running && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

pgb_start() {
    local port tries
    pgb_running && return 0
    port="$(state_get pgbport)"
    if [ -n "$port" ] && ! port_busy "$port"; then
        pgb_start_on "$port" && return 0
    fi
    for tries in 1 2 3 4 5; do
        port="$(free_port "$(state_get pgport)")"
        if pgb_start_on "$port"; then
            state_set pgbport "$port"
            return 0
        fi
    done
    tail -n 20 "$(pgb_dir)/pgbouncer.log" >&2 || true
    die "could not start PgBouncer (see $(pgb_dir)/pgbouncer.log)"
}

pgb_stop() {
    local pid i
    PGB_DIR="$(pgb_dir)"
    pgb_running || { rm -f "$PGB_DIR/pgbouncer.pid"; return 0; }
    pid="$(cat "$PGB_DIR/pgbouncer.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$PGB_DIR/pgbouncer.pid"; return 0; }
        sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$PGB_DIR/pgbouncer.pid"
}

write_env() {
    local pgport redisport pgbport key tmp="$DIR/env.tmp"
    pgport="$(state_get pgport)"
    redisport="$(state_get redisport)"
    pgbport="$(state_get pgbport)"
    key="$(secret_key)"
    {
        echo "export HOLDPOINT_DATABASE_URL=postgresql://postgres@127.0.0.1:$pgport/holdpoint"
        echo "export HOLDPOINT_REDIS_URL=redis://127.0.0.1:$redisport"
        echo "export HOLDPOINT_SECRET_KEY=$key"
        echo "export HP_PG_BIN=$PGBIN"
        echo "export HP_PG_DATA=$(pg_data)"
        echo "export HP_PG_PORT=$pgport"
        echo "export HP_REDIS_PORT=$redisport"
        echo "export HP_POOLER_URL=postgresql://postgres@127.0.0.1:$pgbport/holdpoint"
        echo "export HP_POOLER_PORT=$pgbport"
    } >"$tmp"
    chmod 600 "$tmp"
    mv "$tmp" "$DIR/env"
}

case "$cmd" in
start)
    if [ "$(id -u)" -eq 0 ]; then
        # postgres needs to reach DIR to write its log there.
        chmod 755 "$DIR"
    fi
    pg_start
    pg_create_db
    pgb_start
    redis_start
    write_env
    ;;
stop)
    redis_stop
    pgb_stop
    pg_stop
    ;;
destroy)
    redis_stop
    pgb_stop
    pg_stop
    real="$(state_get pgreal)"
    sock="$(state_get sockdir)"
    pgbdir="$(state_get pgbdir)"
    [ -n "$real" ] && rm -rf "$real"
    case "$pgbdir" in /tmp/hp-pgbouncer.*) rm -rf "$pgbdir" ;; esac
    case "$sock" in /tmp/hp-pgsock.*) rm -rf "$sock" ;; esac
    rm -rf "$DIR"
    ;;
pg-stop)
    pg_stop
    ;;
pg-start)
    [ -f "$PGDATA/PG_VERSION" ] || die "no PostgreSQL data in $PGDATA (run start first)"
    pg_running && exit 0
    port="$(state_get pgport)"
    [ -n "$port" ] || die "no PostgreSQL port recorded in $STATE"
    pg_start_on "$port" || { tail -n 20 "$(pg_log)" >&2; die "could not restart PostgreSQL on port $port"; }
    ;;
redis-stop)
    redis_stop
    ;;
redis-start)
    redis_running && exit 0
    port="$(state_get redisport)"
    [ -n "$port" ] || die "no Redis port recorded in $STATE"
    redis_start_on "$port" || { tail -n 20 "$REDIS_LOG" >&2; die "could not restart Redis on port $port"; }
    ;;
pooler-stop)
    pgb_stop
    ;;
pooler-start)
    pgb_running && exit 0
    port="$(state_get pgbport)"
    [ -n "$port" ] || die "no PgBouncer port recorded in $STATE"
    pgb_start_on "$port" || { tail -n 20 "$(pgb_dir)/pgbouncer.log" >&2; die "could not restart PgBouncer on port $port"; }
    ;;
*)
    usage
    ;;
esac
