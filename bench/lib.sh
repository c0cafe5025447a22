# Shared by the bench scripts (sourced, not run): the load tool and starting `berth server`.
# Expects $bin (the build directory) and, for load, $DURATION.

# load URL CONNECTIONS [header] -> "req/s p50 p99"
load() {
  local args=("$1" -c "$2" -d "$DURATION" --timeout 60)
  [[ $# -ge 3 ]] && args+=(-H "$3")
  "$bin/bench/berth_http_load" "${args[@]}" | awk '/^ *[0-9]/ {print $4, $5, $7}'
}

# start_berth OUTDIR [PREFIX...] -- [SERVER FLAGS...]: starts `[PREFIX...] berth server` in the
# background (rate limits off, warnings only), its output in OUTDIR/stdout and OUTDIR/stderr;
# sets berth_pid and base (its URL) once it listens, or exits.
start_berth() {
  local out="$1"
  shift
  local prefix=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do prefix+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  : >"$out/stdout"
  "${prefix[@]}" "$bin/src/berth" server --dangerous-disable-rate-limits --http-address 127.0.0.1:0 \
    --log-level warn "$@" >"$out/stdout" 2>"$out/stderr" &
  berth_pid=$!
  base=""
  for _ in $(seq 100); do
    base="$(sed -n 's/^Started HTTP listener at \(http:\/\/[^ ]*\).*$/\1/p' "$out/stdout")"
    [[ -n "$base" ]] && return 0
    sleep 0.1
  done
  echo "berth did not start" >&2
  cat "$out/stderr" >&2
  exit 1
}
