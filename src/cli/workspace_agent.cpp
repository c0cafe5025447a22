#include "cli/workspace_agent.hpp"

#include <thread>
#include <vector>

#include "cli/api.hpp"
#include "common/error.hpp"
#include "sdk/workspaces.hpp"

namespace berth::cli {

sdk::WorkspaceAgent resolve_running_agent(sdk::Client& client, const std::string& argument) {
  std::string workspace = argument;
  std::string agent_name;
  auto slash = argument.find('/');
  if (auto dot = argument.find('.', slash == std::string::npos ? 0 : slash);
      dot != std::string::npos) {
    workspace = argument.substr(0, dot);
    agent_name = argument.substr(dot + 1);
  }
  auto ws = sdk::workspace_from_json(resolve_workspace(client, workspace));
  auto build = ws.latest_build.value_or(sdk::WorkspaceBuild{});
  if (!ws.latest_build || build.transition != sdk::WorkspaceTransition::start ||
      build.status != sdk::WorkspaceStatus::running) {
    std::string message = "Workspace \"" + workspace;
    message.append("\" is not running (")
        .append(ws.latest_build ? sdk::to_string(build.status) : "")
        .append(").");
    throw Error{ErrorCode::invalid, message, "Start it with 'berth start " + workspace + "'."};
  }
  std::vector<sdk::WorkspaceAgent> agents;
  for (const auto& r : build.resources)
    for (const auto& a : r.agents) agents.push_back(a);
  if (agents.empty())
    throw Error{ErrorCode::not_found, "Workspace \"" + workspace + "\" has no agent."};
  if (agent_name.empty()) {
    if (agents.size() == 1) return agents.front();
    std::string names;
    for (const auto& a : agents) names += (names.empty() ? "" : ", ") + a.name;
    throw Error{ErrorCode::invalid, "Workspace \"" + workspace + "\" has several agents.",
                "Name one as " + workspace + ".<agent>: " + names + "."};
  }
  for (const auto& a : agents)
    if (a.name == agent_name) return a;
  throw Error{ErrorCode::not_found,
              "Workspace \"" + workspace + "\" has no agent \"" + agent_name + "\"."};
}

sdk::WorkspaceAgent wait_for_agent(sdk::Client& client, const std::string& agent_id, bool ready,
                                   std::chrono::seconds limit) {
  using Lifecycle = sdk::WorkspaceAgentLifecycle;
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto agent =
        sdk::workspace_agent_from_json(get_json(client, "/api/v2/workspaceagents/" + agent_id));
    bool started =
        agent.lifecycle_state != Lifecycle::created && agent.lifecycle_state != Lifecycle::starting;
    if (agent.status == sdk::WorkspaceAgentStatus::connected && (!ready || started)) return agent;
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string detail = "It is ";
      detail.append(sdk::to_string(agent.status))
          .append(" and ")
          .append(sdk::to_string(agent.lifecycle_state))
          .append(".");
      throw Error{ErrorCode::unavailable, "The workspace agent is not ready.", detail};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace berth::cli
