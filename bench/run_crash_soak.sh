#!/usr/bin/env bash
# Crash soak (issue #16): BUILDS (1000) workspace builds with the server SIGKILLed at random
# moments and restarted on the same data directory; then reports stuck jobs, lost rows, failed
# builds by reason, stray workspace processes, PRAGMA integrity_check and the server's RSS.
# Not part of CI. The driver is bench/crash_soak.py (Python stdlib); see its header for what a
# round does and how each figure is defined.
#
# Copies berth and berth-agent from BUILD_DIR into a temporary directory first, so that another
# build replacing them mid-run cannot change the binary between restarts. Exits non-zero unless
# stuck, lost and stray are 0 and the integrity check is ok.
#
# Environment: BUILDS (1000), SEED (random, printed; rerun with it to replay the same plan),
# BURST (12), POOL (24), KILL_MAX_MS (400), NO_KILL_PCT (15), SETTLE_TIMEOUT (120), DAEMONS (3),
# MAX_MINUTES (40), BUILD_DIR (build), SKIP_BUILD=1 to use the binaries already in BUILD_DIR,
# KEEP_DATA=1 to keep the data directory and server log (the path is printed).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${BUILD_DIR:-build}"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cmake --build "$BUILD_DIR" -j2 --target berth berth-agent
fi

workdir="$(mktemp -d -t berth-crash-soak.XXXXXX)"
# Workspace processes lead their own sessions and outlive the server by design: on any exit,
# kill the server, then every process whose environment or working directory places it under
# this run's data directory, with its process group and session, until none is left.
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "${driver_pid:-}" ]] && kill -0 "$driver_pid" 2>/dev/null; then
    kill -TERM "$driver_pid" 2>/dev/null || true
    wait "$driver_pid" 2>/dev/null || true
  fi
  if [[ -s "$workdir/server.pid" ]]; then
    local spid
    spid="$(cat "$workdir/server.pid")"
    if kill -0 "$spid" 2>/dev/null && [[ "$(readlink "/proc/$spid/exe" 2>/dev/null)" == "$workdir/bin/berth" ]]; then
      kill -KILL -- "-$spid" 2>/dev/null || kill -KILL "$spid" 2>/dev/null || true
    fi
  fi
  local round pid killed=0 found
  for round in $(seq 20); do
    found=0
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
      [[ "$pid" == "$$" ]] && continue
      if { readlink "/proc/$pid/cwd" | grep -q "^$workdir/" ||
        tr '\0' '\n' <"/proc/$pid/environ" | grep -q "^BERTH_WORKSPACE_DIR=$workdir/"; } 2>/dev/null; then
        found=1
        killed=$((killed + 1))
        kill -KILL -- "-$(ps -o sid= -p "$pid" | tr -d ' ')" 2>/dev/null || true
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done
    [[ "$found" == 0 ]] && break
    sleep 0.1
  done
  [[ "$killed" != 0 ]] && echo "cleanup: killed $killed leftover workspace process(es)" >&2
  if [[ "${KEEP_DATA:-0}" == 1 ]]; then
    echo "kept $workdir (data/, server.log)" >&2
  else
    rm -rf "$workdir"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$workdir/bin"
cp "$BUILD_DIR/src/berth" "$BUILD_DIR/src/berth-agent" "$workdir/bin/"
"$workdir/bin/berth" server --help >/dev/null  # a whole binary, not one mid-link

echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' (+ uncommitted changes in src/)')," \
  "binary built $(date -r "$BUILD_DIR/src/berth" '+%F %T'), $(nproc) CPUs," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/crash_soak.py "$workdir/bin/berth" "$workdir" &
driver_pid=$!
status=0
wait "$driver_pid" || status=$?
driver_pid=""
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ "$status" != 0 ]]; then
  echo "server log (warnings and errors, last 15 lines):"
  grep -v '^====' "$workdir/server.log" | tail -n 15 || true
fi
exit "$status"
