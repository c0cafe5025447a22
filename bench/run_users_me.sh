#!/usr/bin/env bash
# Benchmarks GET /api/v2/users/me: builds berth and berth_http_load, starts a fresh server on a
# free loopback port with an empty data directory, creates the first user, signs in, and drives
# 64 keep-alive connections at the endpoint for 10 s. Prints the load table and the server's
# RSS before and after, then stops the server and removes the data directory.
#
# Environment: CONNECTIONS (64), DURATION (10s), THREADS (1, client threads), BUILD_DIR (build),
# SKIP_BUILD=1 to use the binaries already in BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS="${CONNECTIONS:-64}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-1}"
BUILD_DIR="${BUILD_DIR:-build}"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cmake --build "$BUILD_DIR" -j2 --target berth berth_http_load
fi

workdir="$(mktemp -d -t berth-bench.XXXXXX)"
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

rss() {
  awk '/^VmRSS/ { rss = $2 } /^VmHWM/ { hwm = $2 }
       END { printf "VmRSS %d kB (%.1f MiB), VmHWM %d kB (%.1f MiB)\n", rss, rss / 1024, hwm, hwm / 1024 }' \
    "/proc/$server_pid/status"
}

email="bench@example.com"
password="SomeStr0ng!Passw0rd"
curl -fsS -o /dev/null -X POST "$base/api/v2/users/first" \
  -d "{\"email\":\"$email\",\"username\":\"bench\",\"password\":\"$password\"}"
token="$(curl -fsS -X POST "$base/api/v2/users/login" \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" | jq -r .session_token)"
[[ -n "$token" && "$token" != null ]] || { echo "login returned no session_token" >&2; exit 1; }
curl -fsS -o /dev/null -H "Coder-Session-Token: $token" "$base/api/v2/users/me"

echo "server $base (pid $server_pid), GET /api/v2/users/me"
echo "RSS before: $(rss)"
status=0
"./$BUILD_DIR/bench/berth_http_load" "$base/api/v2/users/me" -c "$CONNECTIONS" -d "$DURATION" \
  -t "$THREADS" -H "Coder-Session-Token: $token" || status=$?
echo "RSS after:  $(rss)"
if [[ -s "$workdir/stderr" ]]; then
  echo "server stderr (last 5 lines):"
  tail -n 5 "$workdir/stderr"
fi
exit "$status"
