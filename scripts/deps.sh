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

echo "deps.sh: installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
