#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
"./scripts/build.sh"
cd build
# A test that fails is run once more before the run fails: tests that start real processes
# on a loaded 2-core machine can lose a race with the scheduler. A test that fails twice fails.
ctest --output-on-failure -j 2 --timeout 600 --repeat until-pass:2 "$@"
cd ..
# The libFuzzer harnesses (fuzz/, built with clang into build-fuzz/), a few seconds each.
"./scripts/fuzz.sh"
