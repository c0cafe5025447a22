#pragma once

#include <string>
#include <vector>

namespace berth::agentapi {

// `berth agentapi` flags.
struct AgentapiOptions {
  int port = 3284;  // agentapi's default; 0 picks a free one
  std::string initial_prompt;
  std::string status_slug;  // with CODER_AGENT_URL and CODER_AGENT_TOKEN: report app status
  int stable_after_ms = 1000;
  int term_width = 80;
  int term_height = 1000;
  std::string log_level = "info";
  std::vector<std::string> command;  // the program and its arguments
};

// Runs the program and serves agentapi's HTTP API until the program exits (returns its exit
// code) or SIGINT/SIGTERM arrives (ends the program, returns 0).
int run_agentapi(const AgentapiOptions& options);

}  // namespace berth::agentapi
