#!/usr/bin/env bash
# Workspace start/stop through the Docker provider beside the same engine calls made directly
# and `podman run`/`podman rm` (bench/docker_bench.py). Needs podman, runc and busybox-static
# (scripts/setup.sh installs them). Environment: BUILDS (20), BUILD_DIR (build), SKIP_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cmake --build "$BUILD_DIR" -j2 --target berth berth-agent
fi
python3 bench/docker_bench.py "./$BUILD_DIR/src/berth" "${BUILDS:-20}"
