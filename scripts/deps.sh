#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/packages.txt that are not
# installed yet. Fast when nothing is missing: one dpkg-query call, no apt.
# As root, missing packages are installed with apt-get (one `apt-get update`
# first); as another user, the missing ones are listed and the script exits 1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
list="$here/packages.txt"

mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | grep -v '^$')
if [ "${#wanted[@]}" -eq 0 ]; then
    exit 0
fi

# One line per package dpkg knows about: "name<TAB>status". Unknown packages
# print nothing on stdout (an error on stderr), so they count as missing.
declare -A installed=()
while IFS=$'\t' read -r name status; do
    if [ "$status" = "install ok installed" ]; then
        installed["$name"]=1
    fi
done < <(dpkg-query -W -f='${Package}\t${Status}\n' "${wanted[@]}" 2>/dev/null || true)

missing=()
for p in "${wanted[@]}"; do
    if [ -z "${installed[$p]:-}" ]; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

# A missing name may be provided by another installed package (NodeSource's
# nodejs provides npm and conflicts with Debian's npm package).
declare -A provided=()
while IFS=$'\t' read -r status provides; do
    [ "$status" = "install ok installed" ] || continue
    IFS=',' read -ra names <<<"$provides"
    for n in "${names[@]}"; do
        n="${n%%(*}"
        n="${n//[[:space:]]/}"
        [ -n "$n" ] && provided["$n"]=1
    done
done < <(dpkg-query -W -f='${Status}\t${Provides}\n' 2>/dev/null || true)
still=()
for p in "${missing[@]}"; do
    if [ -z "${provided[$p]:-}" ]; then
        still+=("$p")
    fi
done
missing=("${still[@]+"${still[@]}"}")
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
    echo "deps.sh: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

# Packages wanted only for a command-line tool whose postinst also starts,
# and enables at boot, a daemon: prometheus is here for promtool, but its
# postinst would run a Prometheus server on :9090 as a side effect, and
# pgbouncer's a system pooler on :6432 and nginx's a web server on :80 (the
# tests start their own). While
# apt-get runs, a temporary policy-rc.d (only when the machine has no policy
# of its own) refuses to start them; afterwards their boot links are
# disabled and a daemon that started anyway is stopped through its own init
# script or unit, never by process name.
tool_only=(prometheus pgbouncer nginx)
quiet=()
for p in "${missing[@]}"; do
    for t in "${tool_only[@]}"; do
        if [ "$p" = "$t" ]; then
            quiet+=("$p")
        fi
    done
done
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ "${#quiet[@]}" -gt 0 ] && [ ! -e "$policy" ]; then
    {
        echo '#!/bin/sh'
        echo '# Temporary, from holdpoint scripts/deps.sh: no daemons for tool-only packages.'
        echo 'for a in "$@"; do'
        echo "    case \"\$a\" in $(IFS='|'; echo "${quiet[*]}")) exit 101 ;; esac"
        echo 'done'
        echo 'exit 0'
    } >"$policy"
    chmod 755 "$policy"
    own_policy=1
    trap 'rm -f "$policy"' EXIT
fi

echo "deps.sh: installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

if [ "$own_policy" = 1 ]; then
    rm -f "$policy"
    trap - EXIT
fi
for s in "${quiet[@]+"${quiet[@]}"}"; do
    update-rc.d "$s" disable >/dev/null 2>&1 || true
    deb-systemd-helper disable "$s.service" >/dev/null 2>&1 || true
    if [ -d /run/systemd/system ]; then
        systemctl stop "$s.service" >/dev/null 2>&1 || true
    elif [ -x "/etc/init.d/$s" ]; then
        "/etc/init.d/$s" stop >/dev/null 2>&1 || true
    fi
done
