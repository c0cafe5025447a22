#!/usr/bin/env bash
# Installs what building and testing Berth needs, from Debian's packages. Idempotent: when
# every package is already installed it does nothing and touches no network.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  clang-14 libclang-rt-14-dev
  libboost1.81-dev libsqlite3-dev libssl-dev libsodium-dev libhowardhinnant-date-dev
  libarchive-dev libcli11-dev libspdlog-dev libfmt-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  tzdata bubblewrap python3
  libpq-dev postgresql
  podman runc busybox-static curl
  chromium
)

# Node.js and npm for the compatibility suite (compat/) and the dashboard: Debian's, unless
# the machine already has a node of its own.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
