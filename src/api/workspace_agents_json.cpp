#include "api/workspace_agents_json.hpp"

#include <chrono>
#include <map>
#include <set>

#include "common/error.hpp"

namespace berth::api {

using std::chrono::duration_cast;
using std::chrono::seconds;

json::value agent_log_json(const store::WorkspaceAgentLogRow& log) {
  return json::object{{"id", log.id},
                      {"created_at", format_rfc3339(log.created_at)},
                      {"output", log.output},
                      {"level", log.level},
                      {"source_id", log.log_source_id.to_string()}};
}

namespace {

constexpr const char* kStatusSlugVariable = "CODER_MCP_APP_STATUS_SLUG";

// The task id and the slug of the coder_ai_task's app when `agent` serves it in the
// workspace's task; empty strings otherwise.
std::pair<std::string, std::string> task_app(Deps& deps, const store::WorkspaceAgentRow& agent,
                                             const json::object& config, const Uuid& workspace_id) {
  auto task = deps.store.get_task_by_workspace_id(workspace_id);
  if (!task) return {};
  auto app = deps.store.get_latest_task_workspace_app(task->id);
  if (!app || !app->app_id || app->agent_id != agent.id) return {};
  if (const auto* apps = config.if_contains("apps"); apps && apps->is_array())
    for (const auto& a : apps->as_array())
      if (a.is_object() && json::string_at(a.as_object(), "id") == *app->app_id)
        return {task->id.to_string(), json::string_at(a.as_object(), "slug")};
  return {};
}

}  // namespace

json::value agent_manifest_json(Deps& deps, const coderd::AgentIdentity& id) {
  auto agent = deps.store.get_workspace_agent_by_id(id.agent.id).value_or(id.agent);
  auto config = json::parse(agent.config).as_object();
  auto workspace = deps.store.get_workspace_by_id(id.workspace_id);
  auto owner = deps.store.get_user_by_id(id.owner_id);
  auto field = [&](const char* key, json::value fallback) {
    auto* v = config.if_contains(key);
    return v && !v->is_null() ? *v : fallback;
  };
  // The agent serving a task's app tells its scripts and apps that app's slug, under the
  // variable Coder's MCP server and `berth agentapi --status-slug` read: a template written
  // for Coder's agentapi module then reports working and idle with no Berth-specific flag.
  auto env = field("environment_variables", json::object{});
  if (auto [task_id, slug] = task_app(deps, agent, config, id.workspace_id);
      env.is_object() && !slug.empty()) {
    if (!env.as_object().contains(kStatusSlugVariable)) env.as_object()[kStatusSlugVariable] = slug;
    // Berth's own: `berth agentapi` posts the conversation for this task when it stops.
    env.as_object()["BERTH_TASK_ID"] = task_id;
  }
  return json::object{{"agent_id", agent.id.to_string()},
                      {"agent_name", agent.name},
                      {"workspace_id", id.workspace_id.to_string()},
                      {"workspace_name", workspace ? workspace->name : ""},
                      {"owner_name", owner ? owner->username : ""},
                      {"directory", field("directory", "")},
                      {"environment_variables", std::move(env)},
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

json::array agent_metadata_json(Deps& deps, const store::WorkspaceAgentRow& agent, TimePoint now) {
  // An item not collected yet shows Go's zero time, as Coder's row made at build time does;
  // its age counts from there (0001-01-01 is this many seconds before the Unix epoch).
  constexpr std::int64_t kZeroTimeBeforeEpoch = 62135596800;
  std::map<std::string, store::WorkspaceAgentMetadataRow> results;
  for (auto& r : deps.store.list_workspace_agent_metadata(agent.id)) results[r.key] = r;
  auto integer = [](const json::object& o, const char* key) {
    auto* v = o.if_contains(key);
    return v && v->is_int64() ? v->get_int64() : std::int64_t{0};
  };
  std::map<std::string, json::value> by_key;
  auto config = json::parse(agent.config);
  const auto* described =
      config.is_object() ? config.get_object().if_contains("metadata") : nullptr;
  if (described && described->is_array())
    for (const auto& item : described->get_array()) {
      if (!item.is_object()) continue;
      const auto& d = item.get_object();
      auto key = json::string_at(d, "key");
      json::object result{
          {"collected_at", "0001-01-01T00:00:00Z"},
          {"age", kZeroTimeBeforeEpoch + duration_cast<seconds>(now.time_since_epoch()).count()},
          {"value", ""},
          {"error", ""}};
      if (auto r = results.find(key); r != results.end()) {
        result["collected_at"] = format_rfc3339(r->second.collected_at);
        result["age"] = duration_cast<seconds>(now - r->second.collected_at).count();
        result["value"] = r->second.value;
        result["error"] = r->second.error;
      }
      by_key[key] = json::object{
          {"result", std::move(result)},
          {"description", json::object{{"display_name", json::string_at(d, "display_name")},
                                       {"key", key},
                                       {"script", json::string_at(d, "script")},
                                       {"interval", integer(d, "interval")},
                                       {"timeout", integer(d, "timeout")}}}};
    }
  json::array out;
  for (auto& [key, item] : by_key) out.push_back(std::move(item));
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
