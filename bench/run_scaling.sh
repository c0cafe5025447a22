#!/usr/bin/env bash
# Berth's request path against a bare Beast server (berth_bench_baseline, the ceiling), in the
# same run with the same load tool, with each server pinned to 1 and then 2 cores (taskset), so
# that scaling shows on this machine. For each core set: the baseline's fixed JSON, then Berth
# on a data directory seeded with N workspaces (berth_bench_seed): GET /users/me with a session
# token, the same without one (401 before any lookup), GET /workspaces?limit=25 on 1 and on
# CONNECTIONS connections, and GET /workspaces/{id}. Prints each figure with its ratio to the
# baseline on the same cores. The load tool is not pinned: on a 2-core machine it shares the
# cores with a 2-core server, which the figures include.
#
# Environment: WORKSPACES (10000), CONNECTIONS (64), DURATION (8s), CORE_SETS ("0 0,1"),
# BUILD_DIR (build), SKIP_BUILD=1 to use the binaries already in BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKSPACES="${WORKSPACES:-10000}"
CONNECTIONS="${CONNECTIONS:-64}"
DURATION="${DURATION:-8s}"
CORE_SETS="${CORE_SETS:-0 0,1}"
BUILD_DIR="${BUILD_DIR:-build}"
bin="./$BUILD_DIR"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cmake --build "$BUILD_DIR" -j2 --target berth berth_http_load berth_bench_baseline \
    berth_bench_seed
fi

workdir="$(mktemp -d -t berth-bench-scaling.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$workdir"
}
trap cleanup EXIT
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
source bench/lib.sh

row() {  # name result baseline_rps
  read -r rps p50 p99 <<<"$2"
  printf '%-44s %10s req/s  p50 %7s ms  p99 %7s ms  %6s of baseline\n' "$1" "$rps" "$p50" "$p99" \
    "$(awk -v a="$rps" -v b="$3" 'BEGIN { printf "%.1f%%", 100 * a / b }')"
}

"$bin/bench/berth_bench_seed" --data-dir "$workdir/seed" --workspaces "$WORKSPACES" >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"
for cores in $CORE_SETS; do
  ncores=$(($(tr -cd ',' <<<"$cores" | wc -c) + 1))
  echo
  echo "=== server on cores $cores ($ncores), $CONNECTIONS connections, $DURATION each (load average: $(loadavg))"
  taskset -c "$cores" "$bin/bench/berth_bench_baseline" --threads "$ncores" >"$workdir/baseline.out" &
  pids+=($!)
  for _ in $(seq 50); do [[ -s "$workdir/baseline.out" ]] && break; sleep 0.1; done
  baseline_url="$(head -1 "$workdir/baseline.out")"
  base_result="$(load "$baseline_url/" "$CONNECTIONS")"
  base_rps="$(cut -d' ' -f1 <<<"$base_result")"
  row "bare Beast, fixed JSON (the ceiling)" "$base_result" "$base_rps"
  kill -TERM "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'

  rm -rf "$workdir/data" && cp -r "$workdir/seed" "$workdir/data"
  start_berth "$workdir" taskset -c "$cores" -- --data-dir "$workdir/data"
  pids+=("$berth_pid")
  token="$(python3 bench/workspaces_api.py login "$base" owner@example.com 'SomeStr0ng!Passw0rd')"
  read -r workspace_id _build_id _count < <(python3 bench/workspaces_api.py ids "$base" "$token")
  auth="Coder-Session-Token: $token"
  row "GET /users/me, signed in" "$(load "$base/api/v2/users/me" "$CONNECTIONS" "$auth")" "$base_rps"
  row "GET /users/me, no token (401)" "$(load "$base/api/v2/users/me" "$CONNECTIONS")" "$base_rps"
  row "GET /workspaces?limit=25, 1 connection" \
    "$(load "$base/api/v2/workspaces?limit=25" 1 "$auth")" "$base_rps"
  row "GET /workspaces?limit=25, $CONNECTIONS connections" \
    "$(load "$base/api/v2/workspaces?limit=25" "$CONNECTIONS" "$auth")" "$base_rps"
  row "GET /workspaces/{id}" \
    "$(load "$base/api/v2/workspaces/$workspace_id" "$CONNECTIONS" "$auth")" "$base_rps"
  echo "berth RSS after: $(grep VmRSS /proc/"${pids[-1]}"/status | awk '{print $2, $3}')"
  kill -TERM "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'
done
