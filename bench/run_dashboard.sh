#!/usr/bin/env bash
# The dashboard's weight and speed in Debian's Chromium (bench/dashboard_bench.mjs): on a data
# directory seeded with N workspaces, all the owner's, the first load of /workspaces (cold
# cache: compressed JavaScript, CSS and HTML transferred; time until the list's rows are on
# screen), the same with a warm cache, and a workspace's page, each beside the same browser
# loading a one-line page from the same server (the floor no dashboard can beat).
#
# Environment: WORKSPACES (1000), RUNS (5), BUILD_DIR (build), SKIP_BUILD=1 to use the binaries
# already in BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKSPACES="${WORKSPACES:-1000}"
BUILD_DIR="${BUILD_DIR:-build}"
bin="./$BUILD_DIR"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cmake --build "$BUILD_DIR" -j2 --target berth berth_bench_seed
fi

workdir="$(mktemp -d -t berth-bench-dashboard.XXXXXX)"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$workdir"
}
trap cleanup EXIT

"$bin/bench/berth_bench_seed" --data-dir "$workdir/data" --workspaces "$WORKSPACES" --members 0 \
  >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"
echo "chromium: $(chromium --version 2>/dev/null | head -1)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
source bench/lib.sh
start_berth "$workdir" -- --data-dir "$workdir/data"
pid=$berth_pid
grep -q "View the Web UI" "$workdir/stdout" || { echo "berth serves no dashboard" >&2; exit 1; }
RUNS="${RUNS:-5}" node bench/dashboard_bench.mjs "$base" owner@example.com 'SomeStr0ng!Passw0rd'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
