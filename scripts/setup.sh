#!/usr/bin/env bash
# Installs every Debian package ipckit needs to build, test and benchmark, if any is missing.
# Idempotent and quiet when everything is present; uses sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev
  util-linux procps python3
)
# Extra packages a facility needs are listed, one per line, in scripts/packages.d/*.txt.
shopt -s nullglob
for f in "$(dirname "$0")"/packages.d/*.txt; do
  while read -r p; do [[ -n "$p" && "$p" != \#* ]] && packages+=("$p"); done < "$f"
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
