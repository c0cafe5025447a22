#!/usr/bin/env bash
# Jobs through external provisioner daemons (issue #15): a server on PostgreSQL with no daemons
# of its own (`--provisioner-daemons 0`) and DAEMONS `berth provisionerd start` processes on one
# key, all on this machine. bench/provisionerd_bench.py queues JOBS template imports of a
# template with no resources from 8 clients and waits for every one: jobs/s from the first
# queued to the last done, and how many were lost (never taken) or stuck (never ended).
# PostgreSQL is a throwaway server (scripts/postgres-test-server.sh, fsync off as in the tests).
#
# Environment: JOBS (1000), DAEMONS (4), BUILD_DIR (build), SKIP_BUILD=1 to use the binaries
# already in BUILD_DIR, SQLITE=1 to run the server on SQLite instead.
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS="${JOBS:-1000}"
DAEMONS="${DAEMONS:-4}"
BUILD_DIR="${BUILD_DIR:-build}"
[[ "$BUILD_DIR" == /* ]] && bin="$BUILD_DIR" || bin="./$BUILD_DIR"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cmake --build "$BUILD_DIR" -j2 --target berth
fi

workdir="$(mktemp -d -t berth-bench-provisionerd.XXXXXX)"
chmod 755 "$workdir"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  [[ "${SQLITE:-0}" == 1 ]] || bash scripts/postgres-test-server.sh stop "$workdir/pg" || true
  rm -rf "$workdir"
}
trap cleanup EXIT

source bench/lib.sh

flags=(--data-dir "$workdir/server" --provisioner-daemons 0)
if [[ "${SQLITE:-0}" != 1 ]]; then
  bash scripts/postgres-test-server.sh start "$workdir/pg"
  admin_url="$(cat "$workdir/pg/url")"
  psql -q "$admin_url" -c "CREATE DATABASE bench"
  flags+=(--postgres-url "${admin_url%/*}/bench")
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"
[[ "${SQLITE:-0}" == 1 ]] && echo "store: SQLite" ||
  echo "store: PostgreSQL $(psql -At "$admin_url" -c 'SHOW server_version')"
echo "$JOBS template imports through $DAEMONS external daemons (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"

start_berth "$workdir" -- "${flags[@]}"
pids+=("$berth_pid")
read -r token key < <(python3 bench/provisionerd_bench.py key "$base")
for i in $(seq "$DAEMONS"); do
  "$bin/src/berth" provisionerd start --url "$base" --key "$key" --name "bench-$i" \
    --data-dir "$workdir/daemon-$i" --log-level warn 2>"$workdir/daemon-$i.log" &
  pids+=("$!")
done
status=0
python3 bench/provisionerd_bench.py run "$base" "$token" "$JOBS" || status=$?
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$DAEMONS"); do
  if [[ -s "$workdir/daemon-$i.log" ]]; then
    echo "--- daemon bench-$i warnings:"
    tail -5 "$workdir/daemon-$i.log"
  fi
done
exit "$status"
