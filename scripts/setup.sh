#!/usr/bin/env bash
# Installs the Debian packages ipckit needs, if any is missing. Idempotent and quiet when
# everything is present; uses sudo when not root.
#   scripts/setup.sh          everything: build, test, package, fuzz, tidy (make test, CI)
#   scripts/setup.sh bench    only what building and running `ipckit bench` needs (make bench):
#                             the lists bench, cli and nats, not clang, lintian or pybind11, so a
#                             first `make bench` on a fresh machine downloads less
set -euo pipefail
scope=${1:-all}

packages=(
  build-essential cmake ninja-build pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev
  util-linux procps python3
)
# Extra packages a facility needs are listed, one per line, in scripts/packages.d/*.txt.
shopt -s nullglob
lists=("$(dirname "$0")"/packages.d/*.txt)
if [[ $scope == bench ]]; then
  lists=("$(dirname "$0")"/packages.d/{bench,cli,nats}.txt)
fi
for f in "${lists[@]}"; do
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
