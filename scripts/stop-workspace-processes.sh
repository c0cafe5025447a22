#!/usr/bin/env bash
# Kills every process whose BERTH_WORKSPACE_DIR lies under <dir>: the agents and programs of
# the workspaces a test server started there. Usage: stop-workspace-processes.sh <dir>
set -uo pipefail
dir="${1:?usage: stop-workspace-processes.sh <dir>}"
for proc in /proc/[0-9]*; do
  if tr '\0' '\n' 2>/dev/null <"$proc/environ" | grep -q "^BERTH_WORKSPACE_DIR=$dir/"; then
    kill -KILL "${proc#/proc/}" 2>/dev/null || true
  fi
done
exit 0
