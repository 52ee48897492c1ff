#!/usr/bin/env bash
# Checks the deployment files without a Docker engine (ctest: deploy.compose).
#
#   tests/deploy/check.sh [BIN_DIR]     (default: $HP_BIN_DIR, else build/bin)
#
# 1. deploy/docker-compose.yml resolves with deploy/.env.example
#    (`docker-compose config`) into exactly the eight services (PgBouncer
#    under the optional profile "pooler"); the API and the workers have
#    no container_name and no host ports (so --scale works); nginx is the
#    published service, runs deploy/nginx/nginx.conf, and proxies to
#    holdpoint-api on HOLDPOINT_LISTEN's port; the API and both
#    workers have health checks on /healthz at the right listener, migrate is a
#    one-shot the others wait for, the Holdpoint services share one image, and
#    each process gets only variables it reads (per `holdpoint config-vars`)
#    and every variable it requires. Without the required variables compose
#    must refuse. .env.example documents every variable it sets, holds no
#    usable secret, and covers every ${VAR} the compose file uses.
# 2. deploy/Dockerfile: every binary it copies is an add_executable target;
#    the runtime stage installs, for every shared library the built binaries
#    load (objdump NEEDED -> ldconfig -> dpkg -S), the Debian package that
#    ships it, unless the package is part of every Debian base image (an
#    Essential package or a direct dependency of one, like libc6); the build stage installs the same -dev packages
#    as scripts/packages.txt; the image runs as a fixed non-root user and has
#    a HEALTHCHECK. .dockerignore keeps build trees, .run, node_modules, .git
#    out of the context.
# 3. the pooler: deploy/pgbouncer/pgbouncer.sh renders transaction pooling
#    without ignore_startup_parameters (and refuses to run without a
#    password); make test's pooler is rendered by it; its image is Debian's
#    pgbouncer as a non-root user with a health check; every Holdpoint
#    service can be given HOLDPOINT_DATABASE_DIRECT_URL.
#
# Every failed check is printed; the exit status is 1 when any failed (a
# missing tool is a failure, not a skip).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin_dir="${1:-${HP_BIN_DIR:-$root/build/bin}}"
compose="$root/deploy/docker-compose.yml"
envfile="$root/deploy/.env.example"
dockerfile="$root/deploy/Dockerfile"
binaries=(holdpoint-api holdpoint-timeout holdpoint-delivery holdpoint)

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
ok() {
    echo "ok: $*"
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for tool in docker-compose python3 objdump ldconfig dpkg dpkg-query; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        fail "$tool is not installed (scripts/packages.txt lists the packages; run scripts/deps.sh)"
    fi
done
if ! python3 -c 'import yaml' 2>/dev/null; then
    fail "python3-yaml is missing (a dependency of docker-compose)"
fi
for f in "$compose" "$envfile" "$dockerfile" "$root/.dockerignore"; do
    [ -f "$f" ] || fail "missing ${f#"$root"/}"
done
for b in "${binaries[@]}"; do
    [ -x "$bin_dir/$b" ] || fail "missing built binary $bin_dir/$b"
done
if [ "$failures" -gt 0 ]; then
    echo "deploy check: $failures failure(s) before the checks could run" >&2
    exit 1
fi

# ---- 1. the compose file ----------------------------------------------------

# A clean environment: the test run exports HOLDPOINT_* for its own services,
# and compose lets the shell override the env file.
compose_env=(env -i "PATH=$PATH" "HOME=${HOME:-/tmp}")

if "${compose_env[@]}" docker-compose -f "$compose" --env-file "$envfile" config \
    >"$tmp/config.yml" 2>"$tmp/config.err"; then
    ok "docker-compose config accepts deploy/docker-compose.yml with deploy/.env.example"
    # e.g. "WARNING: The X variable is not set. Defaulting to a blank string."
    if grep -qv '^$' "$tmp/config.err"; then
        fail "docker-compose config printed warnings: $(cat "$tmp/config.err")"
    fi
else
    fail "docker-compose config failed: $(cat "$tmp/config.err")"
fi

# Without the required variables compose must refuse instead of starting
# processes with empty secrets.
: >"$tmp/empty.env"
if "${compose_env[@]}" docker-compose -f "$compose" --env-file "$tmp/empty.env" config \
    >/dev/null 2>"$tmp/empty.err"; then
    fail "docker-compose config succeeds without HOLDPOINT_SECRET_KEY/HOLDPOINT_DATABASE_URL"
else
    ok "docker-compose refuses to run without the required variables"
fi
# compose stops at the first missing variable, so the others are checked in
# the source: every use of a required one must be ${VAR:?message}.
for v in HOLDPOINT_DATABASE_URL HOLDPOINT_SECRET_KEY POSTGRES_PASSWORD; do
    uses=$(grep -v '^[[:space:]]*#' "$compose" | grep -o "[$]{$v[^}]*}" | sort -u)
    if [ -z "$uses" ]; then
        fail "the compose file never uses \${$v}"
    elif grep -qv "^[$]{$v:?" <<<"$uses"; then
        fail "the compose file uses $v without :? (compose would start with it empty): $uses"
    fi
done

if ! (cd "$tmp" && env -i "PATH=$PATH" "$bin_dir/holdpoint" config-vars >"$tmp/vars.jsonl"); then
    fail "holdpoint config-vars failed"
fi

if [ -s "$tmp/config.yml" ]; then
    python3 - "$tmp/config.yml" "$tmp/vars.jsonl" "$compose" "$envfile" <<'PY' || failures=$((failures + 1))
import json
import re
import sys

import yaml

config_path, vars_path, compose_path, env_path = sys.argv[1:5]
cfg = yaml.safe_load(open(config_path))
services = cfg.get("services") or {}
problems = []


def bad(msg):
    problems.append(msg)


want = {"postgres", "redis", "migrate", "holdpoint-api", "holdpoint-timeout", "holdpoint-delivery",
        "pgbouncer", "nginx"}
if set(services) != want:
    bad("services are %s, want %s" % (sorted(services), sorted(want)))

holdpoint = ["migrate", "holdpoint-api", "holdpoint-timeout", "holdpoint-delivery"]
workers = ["holdpoint-timeout", "holdpoint-delivery"]
# Which process each service runs, and the listener its health check probes.
process = {"migrate": "holdpoint", "holdpoint-api": "holdpoint-api",
           "holdpoint-timeout": "holdpoint-timeout", "holdpoint-delivery": "holdpoint-delivery"}
listener = {"holdpoint-api": "HOLDPOINT_LISTEN", "holdpoint-timeout": "HOLDPOINT_METRICS_LISTEN",
            "holdpoint-delivery": "HOLDPOINT_METRICS_LISTEN"}


def env_of(svc):
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, None) for e in env)
    return {k: ("" if v is None else str(v)) for k, v in env.items()}


def command_of(svc):
    cmd = svc.get("command") or []
    return cmd.split() if isinstance(cmd, str) else [str(c) for c in cmd]


def healthcheck_test(svc):
    hc = svc.get("healthcheck") or {}
    if hc.get("disable"):
        return []
    test = hc.get("test") or []
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    return [] if not test or test[0] == "NONE" else [str(t) for t in test]


for name in ["holdpoint-api"] + workers:
    svc = services.get(name)
    if svc is None:
        continue
    if "container_name" in svc:
        bad("%s has container_name (blocks --scale)" % name)
    if svc.get("ports"):
        bad("%s publishes ports (blocks --scale; nginx is the published service)" % name)
    test = " ".join(healthcheck_test(svc))
    if not test:
        bad("%s has no health check" % name)
    elif "/healthz" not in test or listener[name] not in test:
        bad("%s health check does not probe /healthz on %s: %s" % (name, listener[name], test))
    if not env_of(svc).get(listener[name]):
        bad("%s does not set %s" % (name, listener[name]))

api = services.get("holdpoint-api") or {}
listen = env_of(api).get("HOLDPOINT_LISTEN", "")
m = re.search(r":(\d+)$", listen)
ngx = services.get("nginx") or {}
if not (ngx.get("ports") or []):
    bad("nginx publishes no port")
mounts = [v if isinstance(v, str) else "%s:%s" % (v.get("source"), v.get("target"))
          for v in ngx.get("volumes") or []]
conf_target = next((m_.split(":")[1] for m_ in mounts if "nginx/nginx.conf" in m_), None)
if conf_target is None:
    bad("nginx does not mount deploy/nginx/nginx.conf: %s" % mounts)
elif conf_target not in command_of(ngx):
    bad("nginx does not run the mounted configuration: %s" % command_of(ngx))
ngx_conf = open(compose_path.rsplit("/", 1)[0] + "/nginx/nginx.conf").read()
if m is None or ("server holdpoint-api:%s" % m.group(1)) not in ngx_conf:
    bad("deploy/nginx/nginx.conf does not proxy to holdpoint-api on HOLDPOINT_LISTEN's port (%r)"
        % listen)
if ((ngx.get("depends_on") or {}).get("holdpoint-api") or {}).get("condition") != "service_healthy":
    bad("nginx does not wait for a healthy holdpoint-api")
if not listen.startswith("0.0.0.0:") and not listen.startswith("[::]:"):
    bad("HOLDPOINT_LISTEN %r is not reachable from outside the container" % listen)

pg = " ".join(healthcheck_test(services.get("postgres") or {}))
if "pg_isready" not in pg:
    bad("postgres health check does not use pg_isready: %r" % pg)
if not any(str(v).split(":")[0] in (cfg.get("volumes") or {})
           for v in ((services.get("postgres") or {}).get("volumes") or [])
           if isinstance(v, str)) and not any(
               isinstance(v, dict) and v.get("type") == "volume"
               for v in (services.get("postgres") or {}).get("volumes") or []):
    bad("postgres data is not on a named volume")
if (services.get("postgres") or {}).get("image", "").split(":")[0:2] != ["postgres", "15"]:
    bad("postgres does not run the postgres:15 image")
rd = " ".join(healthcheck_test(services.get("redis") or {}))
if "redis-cli" not in rd or "ping" not in rd:
    bad("redis health check is not redis-cli ping: %r" % rd)
if not (services.get("redis") or {}).get("image", "").startswith("redis:7"):
    bad("redis does not run the redis:7 image")

mig = services.get("migrate") or {}
if command_of(mig)[:2] != ["holdpoint", "migrate"]:
    bad("migrate does not run `holdpoint migrate`: %s" % command_of(mig))
if str(mig.get("restart", "")) != "no":
    bad("migrate restarts (restart: %r), it must be a one-shot" % mig.get("restart"))
if ((mig.get("depends_on") or {}).get("postgres") or {}).get("condition") != "service_healthy":
    bad("migrate does not wait for postgres to be healthy")
for name in ["holdpoint-api"] + workers:
    dep = ((services.get(name) or {}).get("depends_on") or {}).get("migrate") or {}
    if dep.get("condition") != "service_completed_successfully":
        bad("%s does not wait for migrate to complete successfully" % name)

images = {(services.get(n) or {}).get("image") for n in holdpoint}
builds = {json.dumps((services.get(n) or {}).get("build"), sort_keys=True) for n in holdpoint}
if len(images) != 1 or None in images:
    bad("the Holdpoint services do not share one image name: %s" % images)
for b in builds:
    b = json.loads(b) if b != "null" else None
    if not b or b.get("dockerfile") != "deploy/Dockerfile":
        bad("a Holdpoint service does not build deploy/Dockerfile: %s" % b)
if len(builds) != 1:
    bad("the Holdpoint services build differently: %s" % builds)

# Each process gets the variables it reads and only those.
known = {}
for line in open(vars_path):
    v = json.loads(line)
    known[v["name"]] = v
if not known:
    bad("holdpoint config-vars listed no variables")
for name in holdpoint:
    svc = services.get(name)
    if svc is None:
        continue
    cmd = command_of(svc)
    proc = process[name]
    if not cmd or cmd[0] != proc:
        bad("%s runs %s, want %s" % (name, cmd, proc))
    env = env_of(svc)
    for k in env:
        if k not in known:
            bad("%s sets %s, which no process reads" % (name, k))
        elif proc not in known[k]["used_by"]:
            bad("%s sets %s, which %s does not read" % (name, k, proc))
    for k, v in known.items():
        if v["required"] and proc in v["used_by"] and not env.get(k):
            bad("%s lacks %s, which %s requires" % (name, k, proc))

# .env.example: every assignment is a variable some process reads or one
# the compose file substitutes, and every ${VAR} of the compose file is set
# there.
compose_text = open(compose_path).read()
compose_code = "\n".join(l for l in compose_text.splitlines() if not l.lstrip().startswith("#"))
substituted = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", compose_code))
compose_only = {"COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES"}
env_vars = {}
for n, line in enumerate(open(env_path), 1):
    s = line.strip()
    if not s or s.startswith("#"):
        continue
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)$", s)
    if m is None:
        bad(".env.example line %d is not NAME=value: %r" % (n, s))
        continue
    k, v = m.group(1), m.group(2)
    env_vars[k] = v
    if k not in known and k not in substituted and k not in compose_only:
        bad(".env.example sets %s, which neither a process nor the compose file uses" % k)
for k in sorted(substituted - set(env_vars)):
    bad("the compose file uses ${%s}, which .env.example does not document" % k)

# Each run of assignments (a paragraph) follows its comment.
block_has_comment = False
for n, line in enumerate(open(env_path), 1):
    s = line.strip()
    if not s:
        block_has_comment = False
    elif s.startswith("#"):
        block_has_comment = True
    elif not block_has_comment:
        bad(".env.example line %d (%s) has no comment above it" % (n, s.split("=")[0]))

key = env_vars.get("HOLDPOINT_SECRET_KEY", "")
if re.fullmatch(r"[0-9a-fA-F]{64}", key) or re.fullmatch(r"[A-Za-z0-9+/]{43}=", key):
    bad(".env.example holds a usable HOLDPOINT_SECRET_KEY; keep a placeholder")
if "openssl rand -hex 32" not in open(env_path).read():
    bad(".env.example does not say how to generate HOLDPOINT_SECRET_KEY (openssl rand -hex 32)")
if "holdpoint admin bootstrap" not in compose_text:
    bad("docker-compose.yml lacks the `holdpoint admin bootstrap` hint")

# The optional pooler: only with its profile, built from its own Dockerfile,
# after a healthy postgres, unpublished, health-checked, pointed at the
# postgres service; and every Holdpoint process can be given the direct URL
# that LISTEN and migrations need behind it.
pgb = services.get("pgbouncer") or {}
if pgb.get("profiles") != ["pooler"]:
    bad("pgbouncer is not optional (profiles %r, want ['pooler'])" % pgb.get("profiles"))
if (pgb.get("build") or {}).get("dockerfile") != "deploy/pgbouncer/Dockerfile":
    bad("pgbouncer does not build deploy/pgbouncer/Dockerfile: %s" % pgb.get("build"))
if pgb.get("ports"):
    bad("pgbouncer publishes ports; only the compose network needs it")
if ((pgb.get("depends_on") or {}).get("postgres") or {}).get("condition") != "service_healthy":
    bad("pgbouncer does not wait for postgres to be healthy")
if "pg_isready" not in " ".join(healthcheck_test(pgb)):
    bad("pgbouncer health check does not use pg_isready")
pgb_env = env_of(pgb)
if pgb_env.get("PGBOUNCER_UPSTREAM_HOST") != "postgres":
    bad("pgbouncer does not point at the postgres service: %r" % pgb_env.get("PGBOUNCER_UPSTREAM_HOST"))
if not pgb_env.get("PGBOUNCER_PASSWORD"):
    bad("pgbouncer gets no PGBOUNCER_PASSWORD")
for name in holdpoint:
    if "HOLDPOINT_DATABASE_DIRECT_URL" not in env_of(services.get(name) or {}):
        bad("%s cannot be given HOLDPOINT_DATABASE_DIRECT_URL" % name)

for p in problems:
    print("FAIL: compose: " + p, file=sys.stderr)
if problems:
    sys.exit(1)
print("ok: compose: seven services (the pooler optional), scaling, health checks, migrate, image, variables")
PY
fi

# ---- 2. the Dockerfile ------------------------------------------------------

# Instructions with their continuation lines joined, comments dropped.
sed -e '/^[[:space:]]*#/d' "$dockerfile" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' >"$tmp/Dockerfile.joined"

stages=$(grep -ci '^FROM ' "$tmp/Dockerfile.joined")
if [ "$stages" -lt 2 ]; then
    fail "deploy/Dockerfile is not multi-stage ($stages FROM)"
fi
if ! grep -Eq '^ARG DEBIAN_IMAGE=debian:bookworm' "$tmp/Dockerfile.joined" &&
    ! grep -Eiq '^FROM debian:bookworm' "$tmp/Dockerfile.joined"; then
    fail "deploy/Dockerfile does not build on Debian 12 (bookworm)"
fi
# The runtime stage is everything after the last FROM.
last_from=$(grep -ni '^FROM ' "$tmp/Dockerfile.joined" | tail -n1 | cut -d: -f1)
first_from=$(grep -ni '^FROM ' "$tmp/Dockerfile.joined" | head -n1 | cut -d: -f1)
tail -n +"$last_from" "$tmp/Dockerfile.joined" >"$tmp/runtime"
sed -n "${first_from},$((last_from - 1))p" "$tmp/Dockerfile.joined" >"$tmp/build"

# Package names after `apt-get install` up to the end of that command.
apt_packages() {
    grep -Eo 'apt-get install[^&;|]*' "$1" | sed -e 's/apt-get install//' | tr ' \t' '\n\n' |
        grep -v '^-' | grep -v '^$' | sort -u
}
apt_packages "$tmp/runtime" >"$tmp/runtime.pkgs"
apt_packages "$tmp/build" >"$tmp/build.pkgs"
if [ ! -s "$tmp/runtime.pkgs" ]; then
    fail "the runtime stage installs no packages"
fi

# Build stage: the same -dev packages as scripts/packages.txt, those only
# tests need excepted (CUnit; the libFuzzer runtime).
sed -e 's/#.*//' -e 's/[[:space:]]//g' "$root/scripts/packages.txt" | grep -- '-dev$' |
    grep -v '^libcunit\|^libclang-rt-' | sort -u >"$tmp/dev.wanted"
while read -r p; do
    grep -qx -- "$p" "$tmp/build.pkgs" || fail "the build stage does not install $p (scripts/packages.txt has it)"
done <"$tmp/dev.wanted"
while read -r p; do
    case "$p" in *-dev) grep -qx -- "$p" "$tmp/dev.wanted" ||
        fail "the build stage installs $p, which scripts/packages.txt lacks" ;; esac
done <"$tmp/build.pkgs"
grep -q -- '-DHP_TESTING=OFF' "$tmp/build" || fail "the build stage does not configure -DHP_TESTING=OFF"

# COPY --from=<build stage> sources: each is a CMake executable target.
grep -Eo 'add_executable\([[:space:]]*[A-Za-z0-9_.-]+' "$root"/*/CMakeLists.txt |
    sed -e 's/.*add_executable([[:space:]]*//' | sort -u >"$tmp/targets"
grep -Ei '^COPY[[:space:]]+--from=' "$tmp/runtime" | awk '{for (i = 3; i < NF; i++) print $i}' |
    xargs -rn1 basename | sort -u >"$tmp/copied"
while read -r b; do
    grep -qx -- "$b" "$tmp/targets" || fail "the Dockerfile copies $b, which is no add_executable target"
done <"$tmp/copied"
for b in "${binaries[@]}"; do
    grep -qx -- "$b" "$tmp/copied" || fail "the Dockerfile does not copy $b into the image"
    grep -Eq "^COPY[[:space:]]+--from=[^ ]+[[:space:]]+[^ ]*/$b[[:space:]]+/usr/local/bin(/$b|/)?$" \
        "$tmp/runtime" || fail "the Dockerfile does not put $b in /usr/local/bin"
done

# Every shared library the binaries load comes from a runtime package (or
# from the base image). Sanitizer runtimes only appear in ASan/UBSan test
# builds; the image builds without them.
: >"$tmp/needed"
for b in "${binaries[@]}"; do
    objdump -p "$bin_dir/$b" | awk '$1 == "NEEDED" {print $2}' >>"$tmp/needed"
done
sort -u -o "$tmp/needed" "$tmp/needed"
[ -s "$tmp/needed" ] || fail "objdump found no NEEDED libraries in $bin_dir"
arch="$(dpkg --print-architecture)"
# The base system: Essential packages and what they depend on directly
# (libc6 is pre-depended by all of them), so debian:bookworm-slim has it.
dpkg-query -W -f='${Essential}\t${Package}\t${Pre-Depends}, ${Depends}\n' 2>/dev/null |
    awk -F'\t' '$1 == "yes" {print $2; n = split($3, d, ","); for (i = 1; i <= n; i++) print d[i]}' |
    sed -e 's/([^)]*)//g' -e 's/|.*//' -e 's/:any//' -e 's/[[:space:]]//g' | grep -v '^$' |
    sort -u >"$tmp/base.pkgs"
owner_of() { # path -> package that ships it (merged /usr: try both spellings)
    local p="$1" c out
    for c in "$p" "$(readlink -f "$p")"; do
        for c in "$c" "${c#/usr}" "/usr${c}"; do
            out=$(dpkg -S "$c" 2>/dev/null | head -n1) || continue
            [ -n "$out" ] && { echo "${out%%:*}"; return 0; }
        done
    done
    return 1
}
while read -r lib; do
    case "$lib" in libasan.so.* | libubsan.so.* | libtsan.so.* | liblsan.so.*) continue ;; esac
    path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
    if [ -z "$path" ]; then
        fail "$lib (needed by the binaries) is not known to ldconfig"
        continue
    fi
    pkg=$(owner_of "$path") || {
        fail "no Debian package ships $path ($lib)"
        continue
    }
    pkg="${pkg%%:"$arch"}"
    if grep -qx -- "$pkg" "$tmp/runtime.pkgs"; then
        ok "$lib <- $pkg (installed by the runtime stage)"
    elif grep -qx -- "$pkg" "$tmp/base.pkgs"; then
        ok "$lib <- $pkg (in every Debian base image)"
    else
        fail "the runtime stage does not install $pkg, which ships $lib"
    fi
done <"$tmp/needed"
# Each runtime package is a real Debian 12 package (this machine, Debian 12,
# has them installed: the -dev packages depend on them).
while read -r p; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
        fail "runtime package $p is not a package installed on this Debian machine"
    case "$p" in *-dev) fail "the runtime stage installs $p" ;; esac
done <"$tmp/runtime.pkgs"
for p in ca-certificates curl; do
    grep -qx "$p" "$tmp/runtime.pkgs" || fail "the runtime stage does not install $p"
done

# A fixed non-root user before the command, and a health check.
user_line=$(grep -Ei '^USER[[:space:]]' "$tmp/runtime" | tail -n1 | awk '{print $2}')
case "${user_line%%:*}" in
    "" | root | 0) fail "the runtime stage runs as root (USER ${user_line:-unset})" ;;
esac
if ! grep -Eq 'useradd .*--uid [0-9]+' "$tmp/runtime"; then
    fail "the runtime user has no fixed uid"
fi
cmd_line=$(grep -Eni '^(CMD|ENTRYPOINT)[[:space:]]' "$tmp/runtime" | tail -n1 | cut -d: -f1)
user_at=$(grep -Eni '^USER[[:space:]]' "$tmp/runtime" | tail -n1 | cut -d: -f1)
if [ -n "$cmd_line" ] && { [ -z "$user_at" ] || [ "$user_at" -gt "$cmd_line" ]; }; then
    fail "CMD/ENTRYPOINT comes before USER"
fi
grep -Eq '^HEALTHCHECK .*/healthz' "$tmp/runtime" || fail "the runtime stage has no HEALTHCHECK on /healthz"
grep -q 'HOLDPOINT_LISTEN' <(grep -E '^HEALTHCHECK' "$tmp/runtime") ||
    fail "the image's HEALTHCHECK does not follow HOLDPOINT_LISTEN"
grep -Eiq '^COPY[[:space:]]+[^-].*sql' "$tmp/runtime" &&
    fail "the runtime stage copies SQL files; migrations are compiled into holdpoint"

# ---- 3. the pooler ----------------------------------------------------------

# Its configuration as the image renders it from the compose environment:
# transaction pooling, no ignore_startup_parameters, SCRAM, the compose
# database; without a password it refuses to start.
pgb_script="$root/deploy/pgbouncer/pgbouncer.sh"
pgb_dockerfile="$root/deploy/pgbouncer/Dockerfile"
if env -i "PATH=$PATH" PGBOUNCER_PASSWORD='se"cret' PGBOUNCER_DATABASE=holdpoint \
    sh "$pgb_script" render "$tmp/pgb" 2>"$tmp/pgb.err"; then
    ini="$tmp/pgb/pgbouncer.ini"
    grep -qx 'pool_mode = transaction' "$ini" || fail "the pooler does not pool by transaction"
    grep -q 'ignore_startup_parameters' "$ini" &&
        fail "the pooler ignores startup parameters (Holdpoint must not need it)"
    grep -qx 'auth_type = scram-sha-256' "$ini" || fail "the pooler does not authenticate with SCRAM"
    grep -qx 'holdpoint = host=postgres port=5432' "$ini" ||
        fail "the pooler does not route database holdpoint to postgres:5432"
    grep -qx '"holdpoint" "se""cret"' "$tmp/pgb/userlist.txt" ||
        fail "the pooler's userlist does not hold the quoted password"
    [ "$(stat -c %a "$tmp/pgb/userlist.txt")" = 600 ] || fail "the pooler's userlist is readable by others"
else
    fail "deploy/pgbouncer/pgbouncer.sh render failed: $(cat "$tmp/pgb.err")"
fi
if env -i "PATH=$PATH" sh "$pgb_script" render "$tmp/pgb-nopw" 2>/dev/null; then
    fail "the pooler renders a configuration without PGBOUNCER_PASSWORD"
fi
grep -q 'deploy/pgbouncer/pgbouncer.sh" render' "$root/scripts/services.sh" ||
    fail "make test's pooler is not rendered by deploy/pgbouncer/pgbouncer.sh"
if [ -f "$pgb_dockerfile" ]; then
    # Instructions with their continuation lines joined, comments dropped.
    sed -e '/^[[:space:]]*#/d' "$pgb_dockerfile" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' \
        >"$tmp/pgb.Dockerfile"
    pgb_dockerfile="$tmp/pgb.Dockerfile"
    grep -Eq '^ARG DEBIAN_IMAGE=debian:bookworm' "$pgb_dockerfile" ||
        fail "deploy/pgbouncer/Dockerfile does not build on Debian 12 (bookworm)"
    grep -Eq 'apt-get install .* pgbouncer( |$)' "$pgb_dockerfile" ||
        fail "deploy/pgbouncer/Dockerfile does not install Debian's pgbouncer"
    grep -Eq '^COPY deploy/pgbouncer/pgbouncer.sh ' "$pgb_dockerfile" ||
        fail "deploy/pgbouncer/Dockerfile does not copy pgbouncer.sh"
    case "$(grep -E '^USER ' "$pgb_dockerfile" | tail -n1 | awk '{print $2}')" in
        "" | root | 0) fail "the pooler image runs as root" ;;
    esac
    grep -Eq '^HEALTHCHECK .*pg_isready' "$pgb_dockerfile" || fail "the pooler image has no HEALTHCHECK"
else
    fail "missing deploy/pgbouncer/Dockerfile"
fi
pgb_dockerfile="$root/deploy/pgbouncer/Dockerfile"

# .dockerignore
for pat in build 'build-*' .run .git '**/node_modules'; do
    sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$root/.dockerignore" | grep -qxF -- "$pat" ||
        fail ".dockerignore does not exclude $pat"
done

if [ "$failures" -gt 0 ]; then
    echo "deploy check: $failures failure(s)" >&2
    exit 1
fi
echo "deploy check: all passed"
