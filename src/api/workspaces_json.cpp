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
void apply_app_health(const coderd::AgentView& view, json::object& definition) {
  auto* apps = definition.if_contains("apps");
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

sdk::WorkspaceAgent workspace_agent(const coderd::AgentView& view, TimePoint now) {
  const auto& agent = view.agent;
  sdk::WorkspaceAgent out;
  out.definition = json::parse(agent.config).as_object();
  out.id = agent.id;
  out.name = agent.name;
  out.resource_id = agent.resource_id;
  out.created_at = agent.created_at;
  out.updated_at = agent.updated_at;
  out.status = agent_status(agent, now);
  out.lifecycle_state = agent.lifecycle_state;
  out.first_connected_at = agent.first_connected_at;
  out.last_connected_at = agent.last_connected_at;
  out.disconnected_at = agent.disconnected_at;
  out.started_at = agent.started_at;
  out.ready_at = agent.ready_at;
  out.version = agent.version;
  out.api_version = agent.api_version;
  out.expanded_directory = agent.expanded_directory;
  out.logs_length = agent.logs_length;
  out.logs_overflowed = agent.logs_overflowed;
  auto [healthy, reason] = agent_health(out.status, agent.lifecycle_state);
  out.health = {healthy, reason};
  if (view.stats && view.stats->latency_us) out.latency_ms = double(*view.stats->latency_us) / 1000;
  apply_app_health(view, out.definition);
  out.log_sources = log_sources_json(view, out.definition);
  return out;
}

json::value agent_json(const coderd::AgentView& view, TimePoint now) {
  return sdk::to_json(workspace_agent(view, now));
}

json::value agent_json(Deps& deps, const store::WorkspaceAgentRow& agent, TimePoint now) {
  return agent_json(coderd::load_agent_views(deps.store, {agent}).front(), now);
}

sdk::WorkspaceResource workspace_resource(const coderd::ResourceView& view, TimePoint now) {
  const auto& r = view.resource;
  sdk::WorkspaceResource out;
  out.id = r.id;
  out.created_at = r.created_at;
  out.job_id = r.job_id;
  out.workspace_transition = r.transition;
  out.type = r.type;
  out.name = r.name;
  out.hide = r.hide;
  out.icon = r.icon;
  for (const auto& a : view.agents) out.agents.push_back(workspace_agent(a, now));
  json::array metadata;
  for (const auto& m : r.metadata)
    metadata.push_back(
        json::object{{"key", m.key}, {"value", m.value}, {"sensitive", m.sensitive}});
  out.metadata = std::move(metadata);
  out.daily_cost = r.daily_cost;
  return out;
}

json::value resource_json(const coderd::ResourceView& view, TimePoint now) {
  return sdk::to_json(workspace_resource(view, now));
}

json::value resource_json(Deps& deps, const store::WorkspaceResourceRow& resource) {
  return resource_json(coderd::load_resource_views(deps.store, {resource}).front(),
                       deps.clock.now());
}

sdk::WorkspaceBuild workspace_build(Deps& deps, const coderd::BuildView& view,
                                    const store::WorkspaceRow& w,
                                    const std::optional<store::UserRow>& owner) {
  const auto& b = view.build;
  auto now = deps.clock.now();
  sdk::WorkspaceBuild out;
  out.id = b.id;
  out.created_at = b.created_at;
  out.updated_at = b.updated_at;
  out.workspace_id = w.id;
  out.workspace_name = w.name;
  out.workspace_owner_id = w.owner_id;
  out.workspace_owner_name = owner ? owner->username : "";
  out.workspace_owner_avatar_url = owner ? owner->avatar_url : "";
  out.template_version_id = b.template_version_id;
  out.template_version_name = view.version ? view.version->name : "";
  out.build_number = b.build_number;
  out.transition = b.transition;
  out.initiator_id = b.initiator_id;
  out.initiator_name = view.initiator ? view.initiator->username : "";
  if (view.job)
    out.job = provisioner_job(deps, *view.job, JobContext{w, view.version, view.version_template});
  out.reason = b.reason;
  for (const auto& r : view.resources) out.resources.push_back(workspace_resource(r, now));
  out.deadline = b.deadline;
  out.max_deadline = b.max_deadline;
  out.status = view.job ? coderd::build_status(b.transition, coderd::job_status(*view.job))
                        : sdk::WorkspaceStatus::failed;
  out.daily_cost = b.daily_cost;
  out.matched_provisioners = {1, 1, now};
  out.template_version_preset_id = b.template_version_preset_id;
  out.has_ai_task = b.has_ai_task;
  out.has_external_agent = b.has_external_agent;
  return out;
}

json::value build_json(Deps& deps, const coderd::BuildView& view, const store::WorkspaceRow& w,
                       const std::optional<store::UserRow>& owner) {
  return sdk::to_json(workspace_build(deps, view, w, owner));
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

sdk::Workspace workspace(Deps& deps, const coderd::WorkspaceView& view, const Uuid& viewer) {
  const auto& w = view.workspace;
  const auto& tmpl = view.template_;
  const auto& owner = view.owner;
  auto policy = tmpl ? tmpl->policy : coderd::TemplatePolicy{};
  sdk::Workspace out;
  out.id = w.id;
  out.created_at = w.created_at;
  out.updated_at = w.updated_at;
  out.owner_id = w.owner_id;
  out.owner_name = owner ? owner->username : "";
  out.owner_avatar_url = owner ? owner->avatar_url : "";
  out.organization_id = w.organization_id;
  out.organization_name = view.organization ? view.organization->name : "";
  out.template_id = w.template_id;
  out.template_name = tmpl ? tmpl->name : "";
  out.template_display_name = tmpl ? tmpl->display_name : "";
  out.template_icon = tmpl ? tmpl->icon : "";
  out.template_allow_user_cancel_workspace_jobs = policy.allow_user_cancel_workspace_jobs;
  if (tmpl) out.template_active_version_id = tmpl->active_version_id;
  out.template_require_active_version = policy.require_active_version;
  out.template_use_classic_parameter_flow = policy.use_classic_parameter_flow;
  if (view.latest_build) {
    out.latest_build = workspace_build(deps, *view.latest_build, w, owner);
    for (const auto& r : out.latest_build->resources)
      for (const auto& a : r.agents)
        if (!a.health.healthy) out.health.failing_agents.push_back(a.id);
  }
  out.health.healthy = out.health.failing_agents.empty();
  out.outdated = view.latest_build && tmpl &&
                 view.latest_build->build.template_version_id != tmpl->active_version_id;
  out.name = w.name;
  out.autostart_schedule = w.autostart_schedule;
  // With user autostop forbidden, the template's default TTL is what applies.
  if (!policy.allow_user_autostop) {
    if (policy.default_ttl_ms > 0) out.ttl_ms = policy.default_ttl_ms;
  } else {
    out.ttl_ms = w.ttl_ms;
  }
  out.last_used_at = w.last_used_at;
  out.deleting_at = w.deleting_at;
  out.dormant_at = w.dormant_at;
  out.automatic_updates = w.automatic_updates;
  out.favorite = w.favorite && viewer == w.owner_id;
  out.next_start_at = w.next_start_at;
  return out;
}

json::value workspace_json(Deps& deps, const coderd::WorkspaceView& view, const Uuid& viewer) {
  return sdk::to_json(workspace(deps, view, viewer));
}

json::value workspace_json(Deps& deps, const store::WorkspaceRow& w, const Uuid& viewer) {
  return workspace_json(deps, coderd::load_workspace_views(deps.store, {w}).front(), viewer);
}

}  // namespace berth::api
