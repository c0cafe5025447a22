#!/usr/bin/env bash
# Builds the dashboard into <outdir> (CMake's `dashboard` target runs it): installs the pinned
# packages (package-lock.json) when they changed, type-checks, then bundles with esbuild.
# Usage: web/build.sh <outdir>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh <outdir>}"
mkdir -p "$(dirname "$out")"
out="$(realpath "$out")"  # before the cd below
cd "$here"
# One build at a time: they share node_modules.
exec 9>"$here/.build.lock"
flock 9
if ! cmp -s package-lock.json node_modules/.berth-installed 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.berth-installed
fi
npx --no-install tsc -p . --noEmit
node build.mjs "$out"
