#pragma once

#include <chrono>
#include <string>

#include "common/json.hpp"
#include "sdk/client.hpp"
#include "sdk/workspaces.hpp"

namespace berth::cli {

// `workspace[.agent]` (or `owner/workspace[.agent]`) resolved to the agent to connect to:
// the named one, or the workspace's only agent. Throws a clear Error when the workspace is
// not running, has no such agent, or has several and none was named.
sdk::WorkspaceAgent resolve_running_agent(sdk::Client& client, const std::string& argument);

// Polls the agent until it is connected (and, if `ready`, its startup scripts are done);
// throws Error{unavailable} after `limit`, naming the state it was last in.
sdk::WorkspaceAgent wait_for_agent(sdk::Client& client, const std::string& agent_id, bool ready,
                                   std::chrono::seconds limit);

}  // namespace berth::cli
