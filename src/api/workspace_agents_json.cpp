#include "api/workspace_agents_json.hpp"

#include <set>

#include "common/error.hpp"

namespace berth::api {

namespace {}  // namespace

json::value agent_log_json(const store::WorkspaceAgentLogRow& log) {
  return json::object{{"id", log.id},
                      {"created_at", format_rfc3339(log.created_at)},
                      {"output", log.output},
                      {"level", log.level},
                      {"source_id", log.log_source_id.to_string()}};
}

json::value agent_manifest_json(Deps& deps, const coderd::AgentIdentity& id) {
  auto agent = deps.store.get_workspace_agent_by_id(id.agent.id).value_or(id.agent);
  auto config = json::parse(agent.config).as_object();
  auto workspace = deps.store.get_workspace_by_id(id.workspace_id);
  auto owner = deps.store.get_user_by_id(id.owner_id);
  auto field = [&](const char* key, json::value fallback) {
    auto* v = config.if_contains(key);
    return v && !v->is_null() ? *v : fallback;
  };
  return json::object{{"agent_id", agent.id.to_string()},
                      {"agent_name", agent.name},
                      {"workspace_id", id.workspace_id.to_string()},
                      {"workspace_name", workspace ? workspace->name : ""},
                      {"owner_name", owner ? owner->username : ""},
                      {"directory", field("directory", "")},
                      {"environment_variables", field("environment_variables", json::object{})},
                      {"scripts", field("scripts", json::array{})},
                      {"apps", field("apps", json::array{})},
                      {"metadata", field("metadata", json::array{})},
                      {"log_sources", field("log_sources", json::array{})},
                      {"motd_file", field("motd_file", "")}};
}

std::vector<coderd::AgentLogInput> read_agent_logs(const json::array& logs) {
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
  if (logs.empty()) throw Error{ErrorCode::invalid, "No logs provided."};
  std::vector<coderd::AgentLogInput> out;
  for (const auto& item : logs) {
    if (!item.is_object())
      throw Error{ErrorCode::invalid, "Request body must be valid JSON.",
                  "logs entries must be objects"};
    const auto& o = item.get_object();
    coderd::AgentLogInput in{std::nullopt, json::string_at(o, "output"),
                             json::string_at(o, "level")};
    if (in.level.empty()) in.level = "info";
    if (!kLevels.contains(in.level)) throw Error{ErrorCode::invalid, "Invalid log level provided."};
    if (auto at = json::string_at(o, "created_at"); !at.empty()) in.created_at = parse_rfc3339(at);
    out.push_back(std::move(in));
  }
  return out;
}

json::array agent_script_timings_json(Deps& deps,
                                      const std::vector<store::WorkspaceAgentRow>& agents) {
  json::array out;
  for (const auto& a : agents)
    for (const auto& t : deps.store.list_workspace_agent_script_timings(a.id))
      out.push_back(json::object{{"started_at", format_rfc3339(t.started_at)},
                                 {"ended_at", format_rfc3339(t.ended_at)},
                                 {"exit_code", t.exit_code},
                                 {"stage", t.stage},
                                 {"status", t.status},
                                 {"display_name", t.display_name},
                                 {"workspace_agent_id", a.id.to_string()},
                                 {"workspace_agent_name", a.name}});
  return out;
}

}  // namespace berth::api
