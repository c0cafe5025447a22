#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "common/time.hpp"

namespace berth::agent {

// How one `sh -c` run ended.
struct ScriptResult {
  int exit_code = 0;
  std::string status;  // ok | exit_failure | timed_out (codersdk.AgentScriptTiming status)
  TimePoint started_at;
  TimePoint ended_at;
};

// One shell run: the script, its environment (complete: KEY=VALUE pairs) and working dir.
struct ScriptRun {
  std::string script;
  std::map<std::string, std::string> env;
  std::string dir;
  std::chrono::seconds timeout{0};  // 0 = none
};

// Runs `sh -c script` and calls `on_line` for each line of its stdout and stderr (merged) as
// it comes. The child stays in the agent's process group, so that stopping the workspace
// stops what scripts started too; on timeout it is killed. Background children that keep
// the output pipe open are not waited for past a short grace after the shell exits.
ScriptResult run_script(const ScriptRun& run, const std::function<void(std::string)>& on_line);

// This process's environment as a map.
std::map<std::string, std::string> current_environment();

}  // namespace berth::agent
