#!/usr/bin/env bash
# Builds the libFuzzer harnesses of fuzz/ with clang (ASan and UBSan) into build-fuzz/ and runs
# each on its seed corpus for a few seconds. Exits non-zero on any crash, leak, timeout or
# out-of-memory. Longer runs: bench/README.md, "Fuzzing".
#   scripts/fuzz.sh              all harnesses, 5 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh hcl json
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-5}"
harnesses=("$@")
((${#harnesses[@]})) || harnesses=(hcl json tar query schedule http)

if [ ! -f build-fuzz/build.ninja ]; then
  cmake -S fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C build-fuzz -j "${FUZZ_JOBS:-2}" >/dev/null

# New inputs found during the run go to a scratch corpus; the seeds in fuzz/corpus stay as they
# are. A crash leaves its input in build-fuzz/artifacts/ and the run fails.
mkdir -p build-fuzz/artifacts
status=0
for h in "${harnesses[@]}"; do
  scratch="build-fuzz/corpus/$h"
  mkdir -p "$scratch"
  log="build-fuzz/fuzz_$h.log"
  dict=()
  [ -f "fuzz/$h.dict" ] && dict=(-dict="fuzz/$h.dict")
  if build-fuzz/fuzz_"$h" "$scratch" "fuzz/corpus/$h" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -timeout=60 -artifact_prefix="build-fuzz/artifacts/$h-" \
    -print_final_stats=1 "${dict[@]}" >"$log" 2>&1; then
    echo "fuzz $h: $(grep -o 'number_of_executed_units: [0-9]*' "$log" | cut -d' ' -f2) runs, no crash"
  else
    echo "fuzz $h: FAILED (log: $log)" >&2
    grep -E 'ERROR|SUMMARY|Test unit written' "$log" >&2 || tail -20 "$log" >&2
    status=1
  fi
done
exit $status
