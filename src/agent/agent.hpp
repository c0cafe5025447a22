#pragma once

#include <string>

namespace berth::agent {

// What `berth agent` is started with (from CODER_AGENT_URL / CODER_AGENT_TOKEN).
struct AgentOptions {
  std::string url;
  std::string token;
  std::string version;
  std::string log_level = "info";
  std::string pty_timeout = "5m";  // a terminal nobody is attached to is killed after this
};

// Runs the workspace agent until SIGTERM or SIGINT: connects, fetches the manifest, runs
// start scripts, checks app health, collects metadata; then shuts down (stop scripts,
// lifecycle off). Returns the exit code. Must be called before other threads start (it
// blocks the stop signals so that it alone receives them).
int run_agent(const AgentOptions& options);

}  // namespace berth::agent
