#!/usr/bin/env bash
# One throwaway PostgreSQL server that a whole test run shares (CTest's `postgres` fixture):
# `start <dir>` runs initdb in <dir> (as the `postgres` system user when run as root: initdb
# refuses root), starts it on a free loopback port and writes its URL to <dir>/url; `stop <dir>`
# stops it and removes <dir>. Tests create a database each (tests/support/test_store.cpp).
set -euo pipefail
action="${1:?usage: postgres-test-server.sh start|stop <dir>}"
dir="${2:?usage: postgres-test-server.sh start|stop <dir>}"
bindir="${BERTH_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}"
as_postgres=()
[ "$(id -u)" -eq 0 ] && as_postgres=(runuser -u postgres --)

case "$action" in
  start)
    [ -f "$dir/data/postmaster.pid" ] && "${as_postgres[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    "${as_postgres[@]}" "$bindir/initdb" -D "$dir/data" --no-locale -E UTF8 -A trust -U postgres \
      --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    for _ in 1 2 3 4 5; do
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      # fsync off: the cluster is thrown away with the run. Enough connections for tests in
      # parallel, each store holding a writer and a few readers.
      if "${as_postgres[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
          -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400" \
          start >/dev/null; then
        echo "postgres://postgres@127.0.0.1:$port/postgres" >"$dir/url"
        exit 0
      fi
    done
    tail -n 30 "$dir/server.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      "${as_postgres[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: postgres-test-server.sh start|stop <dir>" >&2
    exit 2
    ;;
esac
