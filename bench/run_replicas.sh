#!/usr/bin/env bash
# Pubsub latency across replicas: how long after a build's state change is committed through
# replica A a workspace watcher on replica B sees it, beside a watcher on A itself (the
# baseline in the same run) and a single server on SQLite (the embedded default).
#
# A throwaway PostgreSQL (scripts/postgres-test-server.sh, fsync off as in the tests) with
# track_commit_timestamp on, so that the commit itself is timed; replica A runs the provisioner
# daemons, B none (`--provisioner-daemons 0`). bench/pubsub_latency.mjs creates the owner, a
# template with an agent but no process and one workspace, opens an SSE watch on A and one on
# B, then requests TRANSITIONS builds through A one after the other (stop, start, ...).
#
# Each measured run follows a warm-up of 10 builds. BACKGROUND_CONNECTIONS=N adds, during the
# measured run, berth_http_load with N connections against `GET /workspaces/{id}` on the
# replicas named in BACKGROUND_ON ("A B", or only "A" or "B" to see which side's load matters)
# and on the SQLite server, to see the latency on busy servers.
#
# Environment: TRANSITIONS (400), GAP_MS (20, pause between builds), BACKGROUND_CONNECTIONS (0),
# BACKGROUND_ON ("A B"),
# BUILD_DIR (build), SKIP_BUILD=1 to use the binaries already in BUILD_DIR, SKIP_SQLITE=1,
# KEEP_EVENTS=DIR to keep the per-event records (JSON lines).
set -euo pipefail
cd "$(dirname "$0")/.."

TRANSITIONS="${TRANSITIONS:-400}"
GAP_MS="${GAP_MS:-20}"
BACKGROUND_CONNECTIONS="${BACKGROUND_CONNECTIONS:-0}"
BACKGROUND_ON="${BACKGROUND_ON:-A B}"
BUILD_DIR="${BUILD_DIR:-build}"
[[ "$BUILD_DIR" == /* ]] && bin="$BUILD_DIR" || bin="./$BUILD_DIR"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cmake --build "$BUILD_DIR" -j2 --target berth berth_http_load
fi

workdir="$(mktemp -d -t berth-bench-replicas.XXXXXX)"
chmod 755 "$workdir"
pids=()
stop_servers() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_servers
  if [[ -n "${KEEP_EVENTS:-}" ]]; then mkdir -p "$KEEP_EVENTS" && cp "$workdir"/*.jsonl "$KEEP_EVENTS"/ 2>/dev/null || true; fi
  bash scripts/postgres-test-server.sh stop "$workdir/pg" || true
  rm -rf "$workdir"
}
trap cleanup EXIT

source bench/lib.sh

bash scripts/postgres-test-server.sh start "$workdir/pg"
admin_url="$(cat "$workdir/pg/url")"
# Commit timestamps need a restart to take effect; pg_ctl restart keeps the start's options.
psql -q "$admin_url" -c "ALTER SYSTEM SET track_commit_timestamp = on"
pg_bindir="${BERTH_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}"
as_postgres=()
[[ "$(id -u)" -eq 0 ]] && as_postgres=(runuser -u postgres --)
"${as_postgres[@]}" "$pg_bindir/pg_ctl" -D "$workdir/pg/data" -l "$workdir/pg/server.log" -w restart \
  >/dev/null
psql -q "$admin_url" -c "CREATE DATABASE bench"
pg_url="${admin_url%/*}/bench"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"
echo "PostgreSQL: $(psql -At "$admin_url" -c 'SHOW server_version'), node $(node --version)"
echo "$TRANSITIONS builds, ${GAP_MS} ms apart"

mkdir -p "$workdir"/{a,b,sqlite}{,-log}
start_berth "$workdir/a-log" -- --data-dir "$workdir/a" --postgres-url "$pg_url"
pids+=("$berth_pid"); url_a=$base
# B starts once A has migrated the database.
start_berth "$workdir/b-log" -- --data-dir "$workdir/b" --postgres-url "$pg_url" --provisioner-daemons 0
pids+=("$berth_pid"); url_b=$base

# measure NAME TRIGGER WATCHER=URL... [-- MORE OPTIONS]: a warm-up of 10 builds that also
# creates the owner and the workspace, the background load if asked for, then the measured run.
measure() {
  local name="$1" trigger="$2"
  shift 2
  local options=(--trigger "$trigger") targets=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do
    options+=(--watch "$1")
    # The SQLite server is loaded whatever BACKGROUND_ON says: it is the only one.
    [[ " $BACKGROUND_ON " == *" ${1%%=*} "* || "${1%%=*}" == S ]] && targets+=("${1#*=}")
    shift
  done
  [[ $# -gt 0 ]] && shift
  options+=("$@")
  node bench/pubsub_latency.mjs --setup "${options[@]}" --transitions 10 >/dev/null
  local loads=() token workspace_id url
  if [[ "$BACKGROUND_CONNECTIONS" -gt 0 ]]; then
    token="$(python3 bench/workspaces_api.py login "$trigger" owner@example.com 'SomeStr0ng!Passw0rd')"
    read -r workspace_id _ _ < <(python3 bench/workspaces_api.py ids "$trigger" "$token")
    for url in "${targets[@]}"; do
      "$bin/bench/berth_http_load" "$url/api/v2/workspaces/$workspace_id" -c "$BACKGROUND_CONNECTIONS" \
        -d 120s -H "Coder-Session-Token: $token" >/dev/null 2>&1 &
      loads+=($!)
    done
    sleep 2
    echo "background: $BACKGROUND_CONNECTIONS connections of GET /workspaces/{id} on ${targets[*]}"
  fi
  echo "=== $name (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  node bench/pubsub_latency.mjs "${options[@]}" --transitions "$TRANSITIONS" --gap-ms "$GAP_MS" \
    --events "$workdir/${name%%,*}.jsonl"
  if [[ ${#loads[@]} -gt 0 ]]; then
    # What one more reader waits on these servers now: a watcher's re-read is such a request.
    for url in "${targets[@]}"; do
      echo "one more GET /workspaces/{id} on $url meanwhile (req/s p50 p99): $(DURATION=5s \
        load "$url/api/v2/workspaces/$workspace_id" 1 "Coder-Session-Token: $token")"
    done
  fi
  local pid
  for pid in "${loads[@]}"; do kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done
}

measure "PostgreSQL, builds through A, watchers on A and B" "$url_a" "A=$url_a" "B=$url_b" -- \
  --postgres-url "$pg_url"
stop_servers

if [[ "${SKIP_SQLITE:-0}" != 1 ]]; then
  start_berth "$workdir/sqlite-log" -- --data-dir "$workdir/sqlite"
  pids+=("$berth_pid")
  measure "SQLite, one server, builds and watcher on it" "$base" "S=$base"
  stop_servers
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
