#include "sdk/workspaces.hpp"

#include <set>
#include <string_view>

#include "sdk/json_fields.hpp"

namespace berth::sdk {

namespace f = fields;

namespace {

json::value uuid_or_null(const std::optional<Uuid>& id) {
  return id ? json::value(id->to_string()) : json::value(nullptr);
}

json::value string_or_null(const std::optional<std::string>& s) {
  return s ? json::value(*s) : json::value(nullptr);
}

// codersdk.WorkspaceAgent's fields: the only keys of the definition that go on the wire. The
// build's other keys (metadata descriptions, order, motd_file) are Berth's own bookkeeping.
bool is_coder_agent_field(std::string_view key) {
  // clang-format off
  static const std::set<std::string_view> kFields = {
      "api_version", "apps", "architecture", "connection_timeout_seconds", "created_at",
      "directory", "disconnected_at", "display_apps", "environment_variables",
      "expanded_directory", "first_connected_at", "health", "id", "instance_id",
      "last_connected_at", "latency", "lifecycle_state", "log_sources", "logs_length",
      "logs_overflowed", "name", "operating_system", "parent_id", "ready_at", "resource_id",
      "scripts", "started_at", "startup_script_behavior", "status", "subsystems",
      "troubleshooting_url", "updated_at", "version"};
  // clang-format on
  return kFields.contains(key);
}

}  // namespace

json::value to_json(const WorkspaceAgent& a) {
  json::object out;
  for (const auto& field : a.definition)
    if (is_coder_agent_field(field.key())) out[field.key()] = field.value();
  // The template's env can carry secrets meant for the workspace alone; only the agent's own
  // manifest has the values. Coder's JSON would show them to every reader of the workspace:
  // Berth keeps the field (clients expect a map) but leaves it empty.
  if (out.contains("environment_variables")) out["environment_variables"] = json::object{};
  out["id"] = a.id.to_string();
  out["name"] = a.name;
  out["resource_id"] = a.resource_id.to_string();
  out["created_at"] = format_rfc3339(a.created_at);
  out["updated_at"] = format_rfc3339(a.updated_at);
  out["status"] = to_string(a.status);
  out["lifecycle_state"] = to_string(a.lifecycle_state);
  out["first_connected_at"] = json::time_or_null(a.first_connected_at);
  out["last_connected_at"] = json::time_or_null(a.last_connected_at);
  out["disconnected_at"] = json::time_or_null(a.disconnected_at);
  out["started_at"] = json::time_or_null(a.started_at);
  out["ready_at"] = json::time_or_null(a.ready_at);
  out["version"] = a.version;
  out["api_version"] = a.api_version;
  out["expanded_directory"] = a.expanded_directory;
  out["logs_length"] = a.logs_length;
  out["logs_overflowed"] = a.logs_overflowed;
  out["health"] = a.health.healthy ? json::object{{"healthy", true}}
                                   : json::object{{"healthy", false}, {"reason", a.health.reason}};
  out["instance_id"] = "";
  out["parent_id"] = nullptr;
  // Berth has one relay, the server itself.
  out["latency"] = json::object{};
  if (a.latency_ms)
    out["latency"] =
        json::object{{"berth", json::object{{"preferred", true}, {"latency_ms", *a.latency_ms}}}};
  out["log_sources"] = a.log_sources;
  return out;
}

json::value to_json(const WorkspaceResource& r) {
  json::array agents;
  for (const auto& a : r.agents) agents.push_back(to_json(a));
  return json::object{{"id", r.id.to_string()},
                      {"created_at", format_rfc3339(r.created_at)},
                      {"job_id", r.job_id.to_string()},
                      {"workspace_transition", to_string(r.workspace_transition)},
                      {"type", r.type},
                      {"name", r.name},
                      {"hide", r.hide},
                      {"icon", r.icon},
                      {"agents", std::move(agents)},
                      {"metadata", r.metadata},
                      {"daily_cost", r.daily_cost}};
}

json::value to_json(const WorkspaceBuild& b) {
  json::array resources;
  for (const auto& r : b.resources) resources.push_back(to_json(r));
  const auto& m = b.matched_provisioners;
  return json::object{
      {"id", b.id.to_string()},
      {"created_at", format_rfc3339(b.created_at)},
      {"updated_at", format_rfc3339(b.updated_at)},
      {"workspace_id", b.workspace_id.to_string()},
      {"workspace_name", b.workspace_name},
      {"workspace_owner_id", b.workspace_owner_id.to_string()},
      {"workspace_owner_name", b.workspace_owner_name},
      {"workspace_owner_avatar_url", b.workspace_owner_avatar_url},
      {"template_version_id", b.template_version_id.to_string()},
      {"template_version_name", b.template_version_name},
      {"build_number", b.build_number},
      {"transition", to_string(b.transition)},
      {"initiator_id", b.initiator_id.to_string()},
      {"initiator_name", b.initiator_name},
      {"job", b.job ? to_json(*b.job) : json::value(nullptr)},
      {"reason", b.reason},
      {"resources", std::move(resources)},
      {"deadline", json::time_or_null(b.deadline)},
      {"max_deadline", json::time_or_null(b.max_deadline)},
      {"status", to_string(b.status)},
      {"daily_cost", b.daily_cost},
      {"matched_provisioners",
       json::object{{"count", m.count},
                    {"available", m.available},
                    {"most_recently_seen", json::time_or_null(m.most_recently_seen)}}},
      {"template_version_preset_id", uuid_or_null(b.template_version_preset_id)},
      {"has_ai_task", b.has_ai_task},
      {"has_external_agent", b.has_external_agent}};
}

json::value to_json(const Workspace& w) {
  json::array failing;
  for (const auto& id : w.health.failing_agents) failing.emplace_back(id.to_string());
  return json::object{
      {"id", w.id.to_string()},
      {"created_at", format_rfc3339(w.created_at)},
      {"updated_at", format_rfc3339(w.updated_at)},
      {"owner_id", w.owner_id.to_string()},
      {"owner_name", w.owner_name},
      {"owner_avatar_url", w.owner_avatar_url},
      {"organization_id", w.organization_id.to_string()},
      {"organization_name", w.organization_name},
      {"template_id", w.template_id.to_string()},
      {"template_name", w.template_name},
      {"template_display_name", w.template_display_name},
      {"template_icon", w.template_icon},
      {"template_allow_user_cancel_workspace_jobs", w.template_allow_user_cancel_workspace_jobs},
      {"template_active_version_id",
       w.template_active_version_id ? w.template_active_version_id->to_string() : ""},
      {"template_require_active_version", w.template_require_active_version},
      {"template_use_classic_parameter_flow", w.template_use_classic_parameter_flow},
      {"latest_build", w.latest_build ? to_json(*w.latest_build) : json::value(nullptr)},
      {"latest_app_status", nullptr},
      {"outdated", w.outdated},
      {"name", w.name},
      {"autostart_schedule", string_or_null(w.autostart_schedule)},
      {"ttl_ms", w.ttl_ms ? json::value(*w.ttl_ms) : json::value(nullptr)},
      {"last_used_at", format_rfc3339(w.last_used_at)},
      {"deleting_at", json::time_or_null(w.deleting_at)},
      {"dormant_at", json::time_or_null(w.dormant_at)},
      {"health", json::object{{"healthy", w.health.healthy}, {"failing_agents", failing}}},
      {"automatic_updates", w.automatic_updates},
      {"allow_renames", w.allow_renames},
      {"favorite", w.favorite},
      {"next_start_at", json::time_or_null(w.next_start_at)},
      {"is_prebuild", w.is_prebuild},
      {"task_id", nullptr},
      {"shared_with", json::array{}}};
}

WorkspaceAgent workspace_agent_from_json(const json::value& v) {
  const auto& o = v.as_object();
  WorkspaceAgent a;
  a.definition = o;
  a.id = f::uuid(o, "id");
  a.name = f::string(o, "name");
  a.resource_id = f::uuid(o, "resource_id");
  a.created_at = f::time(o, "created_at");
  a.updated_at = f::time(o, "updated_at");
  a.status = f::enumeration(o, "status", WorkspaceAgentStatus::connecting);
  a.lifecycle_state = f::enumeration(o, "lifecycle_state", WorkspaceAgentLifecycle::created);
  a.first_connected_at = f::optional_time(o, "first_connected_at");
  a.last_connected_at = f::optional_time(o, "last_connected_at");
  a.disconnected_at = f::optional_time(o, "disconnected_at");
  a.started_at = f::optional_time(o, "started_at");
  a.ready_at = f::optional_time(o, "ready_at");
  a.version = f::string(o, "version");
  a.api_version = f::string(o, "api_version");
  a.expanded_directory = f::string(o, "expanded_directory");
  a.logs_length = f::integer(o, "logs_length");
  a.logs_overflowed = f::boolean(o, "logs_overflowed");
  const auto& health = f::object(o, "health");
  a.health.healthy = f::boolean(health, "healthy");
  a.health.reason = f::string(health, "reason");
  const auto& relay = f::object(f::object(o, "latency"), "berth");
  if (auto* ms = f::find(relay, "latency_ms"); ms && ms->is_number())
    a.latency_ms = ms->to_number<double>();
  a.log_sources = f::array(o, "log_sources");
  return a;
}

WorkspaceResource workspace_resource_from_json(const json::value& v) {
  const auto& o = v.as_object();
  WorkspaceResource r;
  r.id = f::uuid(o, "id");
  r.created_at = f::time(o, "created_at");
  r.job_id = f::uuid(o, "job_id");
  r.workspace_transition = f::enumeration(o, "workspace_transition", WorkspaceTransition::start);
  r.type = f::string(o, "type");
  r.name = f::string(o, "name");
  r.hide = f::boolean(o, "hide");
  r.icon = f::string(o, "icon");
  for (const auto& a : f::array(o, "agents"))
    if (a.is_object()) r.agents.push_back(workspace_agent_from_json(a));
  if (auto* m = f::find(o, "metadata")) r.metadata = *m;
  r.daily_cost = f::integer(o, "daily_cost");
  return r;
}

WorkspaceBuild workspace_build_from_json(const json::value& v) {
  const auto& o = v.as_object();
  WorkspaceBuild b;
  b.id = f::uuid(o, "id");
  b.created_at = f::time(o, "created_at");
  b.updated_at = f::time(o, "updated_at");
  b.workspace_id = f::uuid(o, "workspace_id");
  b.workspace_name = f::string(o, "workspace_name");
  b.workspace_owner_id = f::uuid(o, "workspace_owner_id");
  b.workspace_owner_name = f::string(o, "workspace_owner_name");
  b.workspace_owner_avatar_url = f::string(o, "workspace_owner_avatar_url");
  b.template_version_id = f::uuid(o, "template_version_id");
  b.template_version_name = f::string(o, "template_version_name");
  b.build_number = f::integer(o, "build_number");
  b.transition = f::enumeration(o, "transition", WorkspaceTransition::start);
  b.initiator_id = f::uuid(o, "initiator_id");
  b.initiator_name = f::string(o, "initiator_name");
  if (auto* job = f::find(o, "job"); job && job->is_object())
    b.job = provisioner_job_from_json(*job);
  b.reason = f::string(o, "reason");
  for (const auto& r : f::array(o, "resources"))
    if (r.is_object()) b.resources.push_back(workspace_resource_from_json(r));
  b.deadline = f::optional_time(o, "deadline");
  b.max_deadline = f::optional_time(o, "max_deadline");
  b.status = f::enumeration(o, "status", WorkspaceStatus::pending);
  b.daily_cost = f::integer(o, "daily_cost");
  const auto& m = f::object(o, "matched_provisioners");
  b.matched_provisioners = {f::integer(m, "count"), f::integer(m, "available"),
                            f::optional_time(m, "most_recently_seen")};
  b.template_version_preset_id = f::optional_uuid(o, "template_version_preset_id");
  b.has_ai_task = f::boolean(o, "has_ai_task");
  b.has_external_agent = f::boolean(o, "has_external_agent");
  return b;
}

Workspace workspace_from_json(const json::value& v) {
  const auto& o = v.as_object();
  Workspace w;
  w.id = f::uuid(o, "id");
  w.created_at = f::time(o, "created_at");
  w.updated_at = f::time(o, "updated_at");
  w.owner_id = f::uuid(o, "owner_id");
  w.owner_name = f::string(o, "owner_name");
  w.owner_avatar_url = f::string(o, "owner_avatar_url");
  w.organization_id = f::uuid(o, "organization_id");
  w.organization_name = f::string(o, "organization_name");
  w.template_id = f::uuid(o, "template_id");
  w.template_name = f::string(o, "template_name");
  w.template_display_name = f::string(o, "template_display_name");
  w.template_icon = f::string(o, "template_icon");
  w.template_allow_user_cancel_workspace_jobs =
      f::boolean(o, "template_allow_user_cancel_workspace_jobs");
  w.template_active_version_id = f::optional_uuid(o, "template_active_version_id");
  w.template_require_active_version = f::boolean(o, "template_require_active_version");
  w.template_use_classic_parameter_flow = f::boolean(o, "template_use_classic_parameter_flow");
  if (auto* build = f::find(o, "latest_build"); build && build->is_object())
    w.latest_build = workspace_build_from_json(*build);
  w.outdated = f::boolean(o, "outdated");
  w.name = f::string(o, "name");
  w.autostart_schedule = f::optional_string(o, "autostart_schedule");
  w.ttl_ms = f::optional_integer(o, "ttl_ms");
  w.last_used_at = f::time(o, "last_used_at");
  w.deleting_at = f::optional_time(o, "deleting_at");
  w.dormant_at = f::optional_time(o, "dormant_at");
  const auto& health = f::object(o, "health");
  w.health.healthy = f::boolean(health, "healthy");
  for (const auto& id : f::array(health, "failing_agents"))
    if (id.is_string())
      if (auto parsed = Uuid::parse(id.get_string())) w.health.failing_agents.push_back(*parsed);
  w.automatic_updates = f::string(o, "automatic_updates");
  w.allow_renames = f::boolean(o, "allow_renames");
  w.favorite = f::boolean(o, "favorite");
  w.next_start_at = f::optional_time(o, "next_start_at");
  w.is_prebuild = f::boolean(o, "is_prebuild");
  return w;
}

}  // namespace berth::sdk
