#!/usr/bin/env bash
# Benchmarks the workspace read endpoints with many workspaces in the database, and the build
# pipeline's own overhead. For each N in COUNTS: seeds a fresh data directory with N workspaces
# (berth_bench_seed), starts `berth server` on it (free loopback port, --log-level warn), signs
# in as the seeded owner, and drives berth_http_load at
#   GET /api/v2/workspaces?limit=25
#   GET /api/v2/workspaces/{id}
#   GET /api/v2/workspacebuilds/{id}
# then times BUILDS sequential stop/start builds of a template with no resources, from the POST
# to the job's `succeeded` (bench/workspaces_api.py pipeline). Stops the server (SIGTERM) and
# removes the data directory after each N. The load average is printed before each measurement.
#
# Environment: COUNTS ("1000 10000"), CONNECTIONS (64), DURATION (10s), THREADS (1), BUILDS (20),
# POLL_MS (2), BUILD_DIR (build), SKIP_BUILD=1 to use the binaries already in BUILD_DIR,
# SKIP_PIPELINE=1 to skip the build timing.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNTS="${COUNTS:-1000 10000}"
CONNECTIONS="${CONNECTIONS:-64}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-1}"
BUILDS="${BUILDS:-20}"
BUILD_DIR="${BUILD_DIR:-build}"
export POLL_MS="${POLL_MS:-2}"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cmake --build "$BUILD_DIR" -j2 --target berth berth_http_load berth_bench_seed
fi

api="bench/workspaces_api.py"
workdir="$(mktemp -d -t berth-bench-ws.XXXXXX)"
server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
cleanup() {
  stop_server
  rm -rf "$workdir"
}
trap cleanup EXIT

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

status=0
for n in $COUNTS; do
  data="$workdir/data-$n"
  echo "=== N = $n workspaces"
  "./$BUILD_DIR/bench/berth_bench_seed" --data-dir "$data" --workspaces "$n"

  : >"$workdir/stdout"
  "./$BUILD_DIR/src/berth" server --dangerous-disable-rate-limits --http-address 127.0.0.1:0 --data-dir "$data" \
    --log-level warn >"$workdir/stdout" 2>"$workdir/stderr" &
  server_pid=$!
  base=""
  for _ in $(seq 100); do
    base="$(sed -n 's/^Started HTTP listener at \(http:\/\/[^ ]*\).*$/\1/p' "$workdir/stdout")"
    [[ -n "$base" ]] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "berth exited before listening:" >&2
      cat "$workdir/stderr" >&2
      exit 1
    fi
    sleep 0.1
  done
  [[ -n "$base" ]] || { echo "berth did not start listening within 10 s" >&2; exit 1; }

  token="$(python3 "$api" login "$base" owner@example.com 'SomeStr0ng!Passw0rd')"
  read -r workspace_id build_id count < <(python3 "$api" ids "$base" "$token")
  echo "server $base (pid $server_pid); GET /workspaces count=$count;" \
    "workspace $workspace_id, build $build_id"

  # The list also runs on one connection: its unloaded latency. The 60 s per-request timeout
  # (the most berth_http_load allows) leaves room for a slow list behind 63 others.
  for run in "$CONNECTIONS /api/v2/workspaces?limit=25" "1 /api/v2/workspaces?limit=25" \
    "$CONNECTIONS /api/v2/workspaces/$workspace_id" \
    "$CONNECTIONS /api/v2/workspacebuilds/$build_id"; do
    read -r connections path <<<"$run"
    echo
    echo "--- N=$n GET $path, $connections connection(s) (load average before: $(loadavg))"
    "./$BUILD_DIR/bench/berth_http_load" "$base$path" -c "$connections" -d "$DURATION" \
      -t "$THREADS" --timeout 60 -H "Coder-Session-Token: $token" || status=$?
  done

  if [[ "${SKIP_PIPELINE:-0}" != 1 ]]; then
    echo
    echo "--- N=$n build pipeline (load average before: $(loadavg))"
    python3 "$api" pipeline "$base" "$token" "$BUILDS" || status=$?
  fi
  echo "load average after N=$n: $(loadavg)"
  stop_server
  if [[ -s "$workdir/stderr" ]]; then
    echo "server stderr (last 5 lines):"
    tail -n 5 "$workdir/stderr"
  fi
  rm -rf "$data"
  echo
done
exit "$status"
