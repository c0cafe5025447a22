#!/usr/bin/env bash
# Configures (once) and builds everything into build/ with Ninja on two jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
"./scripts/setup.sh"
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build -j "${BERTH_BUILD_JOBS:-2}"
