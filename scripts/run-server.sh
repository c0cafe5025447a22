#!/usr/bin/env bash
# Installs what is missing, builds, and starts `berth server` on its embedded defaults
# (http://127.0.0.1:3000, SQLite under ~/.local/share/berth). Extra arguments go to the server.
set -euo pipefail
cd "$(dirname "$0")/.."
"./scripts/build.sh"
exec ./build/src/berth server "$@"
