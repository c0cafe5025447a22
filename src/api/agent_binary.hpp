#pragma once

#include <memory>
#include <string>

namespace berth::api {

// The statically linked agent that workspaces download from /bin/berth-linux-amd64 (and
// Coder's /bin/coder-linux-amd64), read once at start.
struct AgentBinary {
  std::string contents;
  std::string sha256_hex;
};

// Reads the agent at `path`; nullptr (and a warning) when there is none, so that a server built
// without it still serves everything else and answers 404 for the download.
std::shared_ptr<const AgentBinary> load_agent_binary(const std::string& path);

}  // namespace berth::api
