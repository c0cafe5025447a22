#include "api/workspaces_json.hpp"

#include "api/jobs_json.hpp"
#include "coderd/provisioner_jobs.hpp"
#include "coderd/templates.hpp"
#include "coderd/workspace_views.hpp"
#include "coderd/workspaces.hpp"

namespace berth::api {

namespace {

using namespace std::chrono;

// An agent silent this long counts as disconnected (it heartbeats far more often).
constexpr auto kInactiveDisconnect = seconds(60);

std::int64_t connection_timeout_seconds(const json::object& config) {
  auto* v = config.if_contains("connection_timeout_seconds");
  return v && v->is_int64() ? v->get_int64() : 120;
}

using Status = sdk::WorkspaceAgentStatus;
using Lifecycle = sdk::WorkspaceAgentLifecycle;

std::pair<bool, std::string> agent_health(Status status, Lifecycle lifecycle) {
  if (status != Status::connected && lifecycle == Lifecycle::off)
    return {false, "agent is not running"};
  if (status == Status::connecting) return {false, "agent has not yet connected"};
  if (status == Status::timeout) return {false, "agent is taking too long to connect"};
  if (status == Status::disconnected) return {false, "agent has lost connection"};
  if (lifecycle == Lifecycle::start_error)
    return {false, "agent startup script exited with an error"};
  if (lifecycle == Lifecycle::shutting_down || lifecycle == Lifecycle::shutdown_timeout ||
      lifecycle == Lifecycle::shutdown_error || lifecycle == Lifecycle::off)
    return {false, "agent is shutting down"};
  return {true, ""};
}

}  // namespace

sdk::WorkspaceAgentStatus agent_status(const store::WorkspaceAgentRow& agent, TimePoint now) {
  if (!agent.first_connected_at) {
    auto timeout = connection_timeout_seconds(json::parse(agent.config).as_object());
    if (timeout > 0 && now - agent.created_at > seconds(timeout)) return Status::timeout;
    return Status::connecting;
  }
  if (agent.disconnected_at &&
      (!agent.last_connected_at || *agent.disconnected_at > *agent.last_connected_at))
    return Status::disconnected;
  if (agent.last_connected_at && now - *agent.last_connected_at > kInactiveDisconnect)
    return Status::disconnected;
  return Status::connected;
}

namespace {

// Overlays the reported health on the build's apps (initializing/disabled until reported).
void apply_app_health(const coderd::AgentView& view, json::object& out) {
  auto* apps = out.if_contains("apps");
  if (!apps || !apps->is_array() || view.app_health.empty()) return;
  for (auto& a : apps->get_array()) {
    auto& app = a.as_object();
    auto* id = app.if_contains("id");
    for (const auto& h : view.app_health)
      if (id && id->is_string() && id->get_string() == h.app_id) app["health"] = h.health;
  }
}

// The agent's log sources as stored (the build's, plus any the agent added).
json::array log_sources_json(const coderd::AgentView& view, const json::object& config) {
  json::array out;
  for (const auto& s : view.log_sources)
    out.push_back(json::object{{"workspace_agent_id", view.agent.id.to_string()},
                               {"id", s.id.to_string()},
                               {"created_at", format_rfc3339(s.created_at)},
                               {"display_name", s.display_name},
                               {"icon", s.icon}});
  if (!out.empty()) return out;
  // Never connected: the build's sources, dated like the agent.
  if (auto* sources = config.if_contains("log_sources"); sources && sources->is_array())
    for (auto s : sources->get_array()) {
      s.as_object()["created_at"] = format_rfc3339(view.agent.created_at);
      out.push_back(std::move(s));
    }
  return out;
}

}  // namespace

json::value agent_json(const coderd::AgentView& view, TimePoint now) {
  const auto& agent = view.agent;
  auto doc = json::parse(agent.config);
  auto& out = doc.as_object();
  auto status = agent_status(agent, now);
  auto [healthy, reason] = agent_health(status, agent.lifecycle_state);
  out["id"] = agent.id.to_string();
  out["name"] = agent.name;
  out["resource_id"] = agent.resource_id.to_string();
  out["created_at"] = format_rfc3339(agent.created_at);
  out["updated_at"] = format_rfc3339(agent.updated_at);
  out["status"] = sdk::to_string(status);
  out["lifecycle_state"] = sdk::to_string(agent.lifecycle_state);
  out["first_connected_at"] = json::time_or_null(agent.first_connected_at);
  out["last_connected_at"] = json::time_or_null(agent.last_connected_at);
  out["disconnected_at"] = json::time_or_null(agent.disconnected_at);
  out["started_at"] = json::time_or_null(agent.started_at);
  out["ready_at"] = json::time_or_null(agent.ready_at);
  out["version"] = agent.version;
  out["api_version"] = agent.api_version;
  out["expanded_directory"] = agent.expanded_directory;
  out["logs_length"] = agent.logs_length;
  out["logs_overflowed"] = agent.logs_overflowed;
  out["health"] = healthy ? json::object{{"healthy", true}}
                          : json::object{{"healthy", false}, {"reason", reason}};
  out["instance_id"] = "";
  out["parent_id"] = nullptr;
  // Berth has one relay, the server itself: the agent's heartbeat round trip to it.
  out["latency"] = json::object{};
  if (view.stats && view.stats->latency_us)
    out["latency"] = json::object{
        {"berth", json::object{{"preferred", true},
                               {"latency_ms", double(*view.stats->latency_us) / 1000}}}};
  apply_app_health(view, out);
  out["log_sources"] = log_sources_json(view, out);
  return doc;
}

json::value agent_json(Deps& deps, const store::WorkspaceAgentRow& agent, TimePoint now) {
  return agent_json(coderd::load_agent_views(deps.store, {agent}).front(), now);
}

json::value resource_json(const coderd::ResourceView& view, TimePoint now) {
  const auto& r = view.resource;
  json::array agents;
  for (const auto& a : view.agents) agents.push_back(agent_json(a, now));
  return json::object{{"id", r.id.to_string()},
                      {"created_at", format_rfc3339(r.created_at)},
                      {"job_id", r.job_id.to_string()},
                      {"workspace_transition", sdk::to_string(r.transition)},
                      {"type", r.type},
                      {"name", r.name},
                      {"hide", r.hide},
                      {"icon", r.icon},
                      {"agents", std::move(agents)},
                      {"metadata", json::parse(r.metadata)},
                      {"daily_cost", r.daily_cost}};
}

json::value resource_json(Deps& deps, const store::WorkspaceResourceRow& resource) {
  return resource_json(coderd::load_resource_views(deps.store, {resource}).front(),
                       deps.clock.now());
}

json::value build_json(Deps& deps, const coderd::BuildView& view, const store::WorkspaceRow& w,
                       const std::optional<store::UserRow>& owner) {
  const auto& b = view.build;
  auto now = deps.clock.now();
  json::array resources;
  for (const auto& r : view.resources) resources.push_back(resource_json(r, now));
  const auto& job = view.job;
  auto status = job ? coderd::build_status(b.transition, coderd::job_status(*job))
                    : sdk::WorkspaceStatus::failed;
  JobContext context{w, view.version, view.version_template};
  return json::object{
      {"id", b.id.to_string()},
      {"created_at", format_rfc3339(b.created_at)},
      {"updated_at", format_rfc3339(b.updated_at)},
      {"workspace_id", w.id.to_string()},
      {"workspace_name", w.name},
      {"workspace_owner_id", w.owner_id.to_string()},
      {"workspace_owner_name", owner ? owner->username : ""},
      {"workspace_owner_avatar_url", owner ? owner->avatar_url : ""},
      {"template_version_id", b.template_version_id.to_string()},
      {"template_version_name", view.version ? view.version->name : ""},
      {"build_number", b.build_number},
      {"transition", sdk::to_string(b.transition)},
      {"initiator_id", b.initiator_id.to_string()},
      {"initiator_name", view.initiator ? view.initiator->username : ""},
      {"job", job ? provisioner_job_json(deps, *job, context) : json::value(nullptr)},
      {"reason", b.reason},
      {"resources", std::move(resources)},
      {"deadline", json::time_or_null(b.deadline)},
      {"max_deadline", json::time_or_null(b.max_deadline)},
      {"status", sdk::to_string(status)},
      {"daily_cost", b.daily_cost},
      {"matched_provisioners",
       json::object{{"count", 1}, {"available", 1}, {"most_recently_seen", format_rfc3339(now)}}},
      {"template_version_preset_id", b.template_version_preset_id
                                         ? json::value(b.template_version_preset_id->to_string())
                                         : json::value(nullptr)},
      {"has_ai_task", b.has_ai_task},
      {"has_external_agent", b.has_external_agent}};
}

json::value build_json(Deps& deps, const store::WorkspaceBuildRow& b,
                       const store::WorkspaceRow& w) {
  std::optional<coderd::BuildView> view;
  std::optional<store::UserRow> owner;
  deps.store.in_read_tx([&](store::Store& tx) {
    view = coderd::load_build_views(tx, {b}).front();
    owner = tx.get_user_by_id(w.owner_id);
  });
  return build_json(deps, *view, w, owner);
}

json::value workspace_json(Deps& deps, const coderd::WorkspaceView& view, const Uuid& viewer) {
  const auto& w = view.workspace;
  const auto& tmpl = view.template_;
  auto policy = tmpl ? coderd::template_policy_from(tmpl->policy) : coderd::TemplatePolicy{};
  const auto& latest = view.latest_build;
  json::value build = latest ? build_json(deps, *latest, w, view.owner) : json::value(nullptr);
  json::array failing;
  if (build.is_object())
    for (const auto& r : build.as_object().at("resources").as_array())
      for (const auto& a : r.as_object().at("agents").as_array())
        if (!a.as_object().at("health").as_object().at("healthy").as_bool())
          failing.push_back(a.as_object().at("id"));
  bool healthy = failing.empty();
  // With user autostop forbidden, the template's default TTL is what applies.
  json::value ttl = nullptr;
  if (!policy.allow_user_autostop) {
    if (policy.default_ttl_ms > 0) ttl = policy.default_ttl_ms;
  } else if (w.ttl_ms) {
    ttl = *w.ttl_ms;
  }
  const auto& owner = view.owner;
  return json::object{
      {"id", w.id.to_string()},
      {"created_at", format_rfc3339(w.created_at)},
      {"updated_at", format_rfc3339(w.updated_at)},
      {"owner_id", w.owner_id.to_string()},
      {"owner_name", owner ? owner->username : ""},
      {"owner_avatar_url", owner ? owner->avatar_url : ""},
      {"organization_id", w.organization_id.to_string()},
      {"organization_name", view.organization ? view.organization->name : ""},
      {"template_id", w.template_id.to_string()},
      {"template_name", tmpl ? tmpl->name : ""},
      {"template_display_name", tmpl ? tmpl->display_name : ""},
      {"template_icon", tmpl ? tmpl->icon : ""},
      {"template_allow_user_cancel_workspace_jobs", policy.allow_user_cancel_workspace_jobs},
      {"template_active_version_id", tmpl ? tmpl->active_version_id.to_string() : ""},
      {"template_require_active_version", policy.require_active_version},
      {"template_use_classic_parameter_flow", policy.use_classic_parameter_flow},
      {"latest_build", std::move(build)},
      {"latest_app_status", nullptr},
      {"outdated", latest && tmpl && latest->build.template_version_id != tmpl->active_version_id},
      {"name", w.name},
      {"autostart_schedule",
       w.autostart_schedule ? json::value(*w.autostart_schedule) : json::value(nullptr)},
      {"ttl_ms", std::move(ttl)},
      {"last_used_at", format_rfc3339(w.last_used_at)},
      {"deleting_at", json::time_or_null(w.deleting_at)},
      {"dormant_at", json::time_or_null(w.dormant_at)},
      {"health", json::object{{"healthy", healthy}, {"failing_agents", std::move(failing)}}},
      {"automatic_updates", w.automatic_updates},
      {"allow_renames", true},
      {"favorite", w.favorite && viewer == w.owner_id},
      {"next_start_at", json::time_or_null(w.next_start_at)},
      {"is_prebuild", false},
      {"task_id", nullptr},
      {"shared_with", json::array{}}};
}

json::value workspace_json(Deps& deps, const store::WorkspaceRow& w, const Uuid& viewer) {
  return workspace_json(deps, coderd::load_workspace_views(deps.store, {w}).front(), viewer);
}

}  // namespace berth::api
