#!/usr/bin/env bash
# Benchmarks AI tasks: TASKS (200) concurrent tasks on one `berth server`, each a real workspace
# whose agent runs tests/support/scripted_ai.py under `berth agentapi`. Starts the server on a
# free loopback port with a fresh data directory (--log-level warn), then bench/tasks_bench.py
# creates the tasks, waits for all of them to be active and idle, and measures the server's CPU
# and memory (idle and under load) and the latency of POST .../send and GET .../logs. Stops the
# server (SIGTERM) and removes the data directory at the end.
#
# Environment: TASKS (200), BUILD_DIR (build), SKIP_BUILD=1 to use the binaries already in
# BUILD_DIR; the rest (CREATORS, WORKERS, ROUNDS, SETTLE, LOGS_SECONDS, DELAY, PORT_BASE,
# READY_TIMEOUT) is passed to bench/tasks_bench.py, see its header.
set -euo pipefail
cd "$(dirname "$0")/.."

export TASKS="${TASKS:-200}"
BUILD_DIR="${BUILD_DIR:-build}"
export BERTH_SOURCE="$PWD"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cmake --build "$BUILD_DIR" -j2 --target berth
fi
# Each task holds a few processes and descriptors (agent, agentapi, its PTY, the program).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

workdir="$(mktemp -d -t berth-bench-tasks.XXXXXX)"
server_pid=""
# Workspaces outlive the server by design; after a failed run, end every session (workspace
# process, its agent, agentapi and the program) that runs in this run's data directory.
stop_workspaces() {
  local pid cwd
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null)" || continue
    [[ "$cwd" == "$workdir"/* ]] || continue
    kill -TERM -- "-$(ps -o sid= -p "$pid" | tr -d ' ')" 2>/dev/null || true
  done
}
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  stop_workspaces
  rm -rf "$workdir"
}
trap cleanup EXIT

"./$BUILD_DIR/src/berth" server --dangerous-disable-rate-limits --http-address 127.0.0.1:0 --data-dir "$workdir/data" \
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
echo "server $base (pid $server_pid), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
python3 bench/tasks_bench.py "$base" "$server_pid" || status=$?
if [[ -s "$workdir/stderr" ]]; then
  echo "server stderr (last 5 lines):"
  tail -n 5 "$workdir/stderr"
fi
exit "$status"
