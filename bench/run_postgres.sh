#!/usr/bin/env bash
# Berth on PostgreSQL beside Berth on SQLite, in the same run with the same load tool: both
# seeded with N workspaces (berth_bench_seed), PostgreSQL a throwaway server on this machine
# (scripts/postgres-test-server.sh, fsync off as in the tests), each server on its own in turn.
# Prints each figure for both backends and PostgreSQL's share of SQLite's throughput.
#
# Environment: WORKSPACES (10000), CONNECTIONS (64), DURATION (8s), BUILD_DIR (build),
# SKIP_BUILD=1 to use the binaries already in BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKSPACES="${WORKSPACES:-10000}"
CONNECTIONS="${CONNECTIONS:-64}"
DURATION="${DURATION:-8s}"
BUILD_DIR="${BUILD_DIR:-build}"
bin="./$BUILD_DIR"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cmake --build "$BUILD_DIR" -j2 --target berth berth_http_load berth_bench_seed
fi

workdir="$(mktemp -d -t berth-bench-postgres.XXXXXX)"
chmod 755 "$workdir"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  bash scripts/postgres-test-server.sh stop "$workdir/pg" || true
  rm -rf "$workdir"
}
trap cleanup EXIT

source bench/lib.sh

bash scripts/postgres-test-server.sh start "$workdir/pg"
admin_url="$(cat "$workdir/pg/url")"
psql -q "$admin_url" -c "CREATE DATABASE bench"
pg_url="${admin_url%/*}/bench"
"$bin/bench/berth_bench_seed" --data-dir "$workdir/sqlite" --workspaces "$WORKSPACES" >/dev/null
"$bin/bench/berth_bench_seed" --data-dir "$workdir/pg-seed" --postgres-url "$pg_url" \
  --workspaces "$WORKSPACES" >/dev/null

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"
echo "PostgreSQL: $(psql -At "$admin_url" -c 'SHOW server_version')"
echo "$WORKSPACES workspaces, $CONNECTIONS connections, $DURATION each"
declare -A results
for backend in sqlite postgres; do
  flags=(--data-dir "$workdir/$backend-data")
  if [[ "$backend" == sqlite ]]; then
    cp -r "$workdir/sqlite" "$workdir/$backend-data"
  else
    mkdir -p "$workdir/$backend-data"
    flags+=(--postgres-url "$pg_url")
  fi
  echo "=== $backend (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  start_berth "$workdir" -- "${flags[@]}"
  pid=$berth_pid
  token="$(python3 bench/workspaces_api.py login "$base" owner@example.com 'SomeStr0ng!Passw0rd')"
  read -r workspace_id _build_id _count < <(python3 bench/workspaces_api.py ids "$base" "$token")
  auth="Coder-Session-Token: $token"
  results[$backend,me]="$(load "$base/api/v2/users/me" "$CONNECTIONS" "$auth")"
  results[$backend,page1]="$(load "$base/api/v2/workspaces?limit=25" 1 "$auth")"
  results[$backend,page64]="$(load "$base/api/v2/workspaces?limit=25" "$CONNECTIONS" "$auth")"
  results[$backend,one]="$(load "$base/api/v2/workspaces/$workspace_id" "$CONNECTIONS" "$auth")"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done
printf '%-40s %28s %28s %10s\n' "request" "SQLite req/s (p50/p99 ms)" "PostgreSQL req/s (p50/p99)" "PG/SQLite"
for key in me page1 page64 one; do
  case $key in
    me) name="GET /users/me, signed in" ;;
    page1) name="GET /workspaces?limit=25, 1 connection" ;;
    page64) name="GET /workspaces?limit=25, $CONNECTIONS conn." ;;
    one) name="GET /workspaces/{id}" ;;
  esac
  read -r s_rps s_p50 s_p99 <<<"${results[sqlite,$key]}"
  read -r p_rps p_p50 p_p99 <<<"${results[postgres,$key]}"
  printf '%-40s %12s (%5s/%6s) %12s (%5s/%6s) %9s\n' "$name" "$s_rps" "$s_p50" "$s_p99" \
    "$p_rps" "$p_p50" "$p_p99" "$(awk -v a="$p_rps" -v b="$s_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }')"
done
