#pragma once

#include <CLI/CLI.hpp>

#include "agent/agent.hpp"
#include "agentapi/agentapi_command.hpp"

namespace berth {

// `berth agent` and `berth agentapi`, shared by the full binary and the statically linked agent
// that workspaces download.
void add_agent_command(CLI::App& app, agent::AgentOptions& options, int& exit_code);
void add_agentapi_command(CLI::App& app, agentapi::AgentapiOptions& options, int& exit_code);
// `berth stat cpu|mem|disk`: Coder's `coder stat`, for templates' metadata scripts.
void add_stat_command(CLI::App& app);

}  // namespace berth
