#include "cli/workspace_agent.hpp"

#include <thread>
#include <vector>

#include "cli/api.hpp"
#include "common/error.hpp"

namespace berth::cli {

json::object resolve_running_agent(sdk::Client& client, const std::string& argument) {
  std::string workspace = argument;
  std::string agent_name;
  auto slash = argument.find('/');
  if (auto dot = argument.find('.', slash == std::string::npos ? 0 : slash);
      dot != std::string::npos) {
    workspace = argument.substr(0, dot);
    agent_name = argument.substr(dot + 1);
  }
  auto ws = resolve_workspace(client, workspace);
  const auto& build = obj(ws, "latest_build");
  if (str(build, "transition") != "start" || str(build, "status") != "running")
    throw Error{ErrorCode::invalid,
                "Workspace \"" + workspace + "\" is not running (" + str(build, "status") + ").",
                "Start it with 'berth start " + workspace + "'."};
  std::vector<json::object> agents;
  for (const auto& r : build.at("resources").as_array())
    for (const auto& a : r.as_object().at("agents").as_array()) agents.push_back(a.as_object());
  if (agents.empty())
    throw Error{ErrorCode::not_found, "Workspace \"" + workspace + "\" has no agent."};
  if (agent_name.empty()) {
    if (agents.size() == 1) return agents.front();
    std::string names;
    for (const auto& a : agents) names += (names.empty() ? "" : ", ") + str(a, "name");
    throw Error{ErrorCode::invalid, "Workspace \"" + workspace + "\" has several agents.",
                "Name one as " + workspace + ".<agent>: " + names + "."};
  }
  for (const auto& a : agents)
    if (str(a, "name") == agent_name) return a;
  throw Error{ErrorCode::not_found,
              "Workspace \"" + workspace + "\" has no agent \"" + agent_name + "\"."};
}

json::object wait_for_agent(sdk::Client& client, const std::string& agent_id, bool ready,
                            std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto agent = get_json(client, "/api/v2/workspaceagents/" + agent_id).as_object();
    auto status = str(agent, "status");
    auto lifecycle = str(agent, "lifecycle_state");
    bool started = lifecycle != "created" && lifecycle != "starting";
    if (status == "connected" && (!ready || started)) return agent;
    if (std::chrono::steady_clock::now() >= deadline)
      throw Error{ErrorCode::unavailable, "The workspace agent is not ready.",
                  "It is " + status + " and " + lifecycle + "."};
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace berth::cli
