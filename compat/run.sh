#!/usr/bin/env bash
# Drives a real `berth server` with a TypeScript client generated, at test time, from Coder's
# published API description, and decodes every response with it (see README.md here).
# Usage: compat/run.sh <berth binary> [<swagger.json>]   (CTest runs it; exit 77 = skipped)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
berth="$(realpath "${1:?usage: run.sh <berth binary> [<swagger.json>]}")"
swagger="${2:-$here/../../shared/coder-api/swagger.json}"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "compat: node and npm are not installed (apt-get install nodejs npm); skipped"
  exit 77
fi
if [ ! -f "$swagger" ]; then
  echo "compat: Coder's API description $swagger is not there; skipped"
  exit 77
fi
cd "$here"
# The session's server keeps its data under TMPDIR; the agents its workspaces started carry
# BERTH_WORKSPACE_DIR below it, so that they can all be stopped when the run ends.
work="$(mktemp -d -t berth-compat-run.XXXXXX)"
cleanup() {
  bash "$here/../scripts/stop-workspace-processes.sh" "$work"
  rm -rf "$work"
}
trap cleanup EXIT
export TMPDIR="$work"
# One run at a time: they share node_modules and the generated client.
exec 9>"$here/.run.lock"
flock 9
# The pinned tools (package-lock.json), installed once per lock file.
if ! cmp -s package-lock.json node_modules/.berth-installed 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.berth-installed
fi
mkdir -p generated
node prepare.mjs "$swagger" generated/openapi.json
npx --no-install openapi-typescript generated/openapi.json -o generated/schema.d.ts >/dev/null
npx --no-install tsc -p .
node dist/src/session.js "$berth" "$here/.." generated/openapi.json
