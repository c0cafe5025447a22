#!/usr/bin/env bash
# Runs one of the dashboard's browser tests: a real `berth server` (serving the dashboard built
# next to it), Debian's Chromium driven by playwright-core. CTest runs each spec on its own.
# Usage: web/e2e/run.sh <berth binary> <spec.mjs> <screenshot dir>   (exit 77 = skipped)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
berth="$(realpath "${1:?usage: run.sh <berth binary> <spec> <screenshot dir>}")"
spec="${2:?spec}"
shots="${3:?screenshot dir}"
if [ ! -x /usr/bin/chromium ]; then
  echo "dashboard e2e: /usr/bin/chromium is not installed (apt-get install chromium); skipped"
  exit 77
fi
if [ ! -f "$(dirname "$berth")/dashboard/index.html" ]; then
  echo "dashboard e2e: no dashboard next to $berth (BERTH_DASHBOARD off?); skipped"
  exit 77
fi
# The server's data and its workspaces' processes live under one directory, so that whatever
# a failed run leaves behind is stopped.
work="$(mktemp -d -t berth-e2e.XXXXXX)"
cleanup() {
  bash "$here/../../scripts/stop-workspace-processes.sh" "$work"
  rm -rf "$work"
}
trap cleanup EXIT
export TMPDIR="$work"
mkdir -p "$shots"
shots="$(realpath "$shots")"
# playwright-core comes from the dashboard's own pinned packages (web/build.sh installed them).
cd "$here/.."
BERTH_BINARY="$berth" BERTH_E2E_SHOTS="$shots" BERTH_SOURCE_DIR="$(realpath ..)" \
  node --test --test-reporter=spec "e2e/$spec"
