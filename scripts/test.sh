#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
"./scripts/build.sh"
cd build
ctest --output-on-failure -j 2 --timeout 600 "$@"
