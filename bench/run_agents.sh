#!/usr/bin/env bash
# 1 000 simulated workspace agents on one server: starts a fresh `berth server` on a free
# loopback port with an empty data directory and runs berth_bench_agents against it (which
# creates the workspaces, connects the agents, and prints the server's RSS per connected agent
# and, with PROXY=1, app latency through the proxy versus direct). Then stops the server and
# removes the data directory.
#
# Environment: AGENTS (1000), PROXY (0; 1 adds --proxy), REQUESTS (500), BUILD_DIR (build),
# SKIP_BUILD=1 to use the binaries already in BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

AGENTS="${AGENTS:-1000}"
REQUESTS="${REQUESTS:-500}"
BUILD_DIR="${BUILD_DIR:-build}"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cmake --build "$BUILD_DIR" -j2 --target berth berth_bench_agents
fi

# Each agent is one socket on both sides; leave room for the server's own files.
ulimit -n "$(( $(ulimit -Hn) < 65536 ? $(ulimit -Hn) : 65536 ))" 2>/dev/null || true

workdir="$(mktemp -d -t berth-bench-agents.XXXXXX)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

"./$BUILD_DIR/src/berth" server --dangerous-disable-rate-limits --http-address 127.0.0.1:0 --data-dir "$workdir/data" \
  --log-level warn --max-connections $(( AGENTS * 2 + 1024 )) \
  >"$workdir/stdout" 2>"$workdir/stderr" &
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

echo "server $base (pid $server_pid), $AGENTS agents, load average $(cut -d' ' -f1-3 /proc/loadavg)"
args=(--url "$base" --server-pid "$server_pid" --agents "$AGENTS" --requests "$REQUESTS")
[[ "${PROXY:-0}" == 1 ]] && args+=(--proxy)
[[ "${NO_DELAY:-0}" == 1 ]] && args+=(--no-delay)
[[ "${QUICK_ACK:-0}" == 1 ]] && args+=(--quick-ack)
status=0
${BENCH_WRAPPER:-} "./$BUILD_DIR/bench/berth_bench_agents" "${args[@]}" || status=$?
if [[ -s "$workdir/stderr" ]]; then
  echo "server stderr (last 5 lines):"
  tail -n 5 "$workdir/stderr"
fi
exit "$status"
