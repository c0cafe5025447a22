#include "coderd/workspace_views.hpp"

#include <algorithm>
#include <map>

namespace berth::coderd {

namespace {

// The distinct values of `key` over `items`, for one *_by_ids read.
template <typename T, typename Key>
std::vector<Uuid> distinct(const std::vector<T>& items, Key key) {
  std::vector<Uuid> out;
  for (const auto& item : items)
    if (auto id = key(item)) out.push_back(*id);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Rows by their id.
template <typename Row, typename Key>
std::map<Uuid, Row> by(std::vector<Row> rows, Key key) {
  std::map<Uuid, Row> out;
  for (auto& row : rows) {
    auto k = key(row);
    out.emplace(k, std::move(row));
  }
  return out;
}

// Rows grouped by a key, keeping their order within each group.
template <typename Row, typename Key>
std::map<Uuid, std::vector<Row>> grouped(std::vector<Row> rows, Key key) {
  std::map<Uuid, std::vector<Row>> out;
  for (auto& row : rows) {
    auto k = key(row);
    out[k].push_back(std::move(row));
  }
  return out;
}

template <typename Row>
std::optional<Row> find(const std::map<Uuid, Row>& rows, const Uuid& id) {
  auto it = rows.find(id);
  if (it == rows.end()) return std::nullopt;
  return it->second;
}

template <typename Row>
std::vector<Row> take(std::map<Uuid, std::vector<Row>>& groups, const Uuid& id) {
  auto it = groups.find(id);
  if (it == groups.end()) return {};
  return std::move(it->second);
}

std::vector<AgentView> agent_views(store::Store& store,
                                   std::vector<store::WorkspaceAgentRow> agents) {
  auto ids = distinct(agents, [](const auto& a) { return std::optional(a.id); });
  auto stats = by(store.list_workspace_agent_stats_by_agent_ids(ids),
                  [](const auto& s) { return s.agent_id; });
  auto health = grouped(store.list_workspace_app_health_by_agent_ids(ids),
                        [](const auto& h) { return h.agent_id; });
  auto sources = grouped(store.list_workspace_agent_log_sources_by_agent_ids(ids),
                         [](const auto& s) { return s.agent_id; });
  std::vector<AgentView> out;
  for (auto& agent : agents) {
    auto id = agent.id;
    out.push_back({std::move(agent), find(stats, id), take(health, id), take(sources, id)});
  }
  return out;
}

std::vector<ResourceView> resource_views(store::Store& store,
                                         std::vector<store::WorkspaceResourceRow> resources) {
  auto ids = distinct(resources, [](const auto& r) { return std::optional(r.id); });
  std::vector<store::WorkspaceAgentRow> live;
  for (auto& agent : store.list_workspace_agents_by_resource_ids(ids))
    if (!agent.deleted) live.push_back(std::move(agent));
  auto agents = grouped(agent_views(store, std::move(live)),
                        [](const AgentView& a) { return a.agent.resource_id; });
  std::vector<ResourceView> out;
  for (auto& resource : resources) {
    auto id = resource.id;
    out.push_back({std::move(resource), take(agents, id)});
  }
  return out;
}

std::vector<BuildView> build_views(store::Store& store,
                                   std::vector<store::WorkspaceBuildRow> builds) {
  auto jobs = by(store.list_provisioner_jobs_by_ids(
                     distinct(builds, [](const auto& b) { return std::optional(b.job_id); })),
                 [](const auto& j) { return j.id; });
  auto versions =
      by(store.list_template_versions_by_ids(
             distinct(builds, [](const auto& b) { return std::optional(b.template_version_id); })),
         [](const auto& v) { return v.id; });
  std::vector<store::TemplateVersionRow> version_rows;
  for (const auto& [id, v] : versions) version_rows.push_back(v);
  auto templates = by(store.list_templates_by_ids(
                          distinct(version_rows, [](const auto& v) { return v.template_id; })),
                      [](const auto& t) { return t.id; });
  auto initiators = by(store.list_users_by_ids(distinct(
                           builds, [](const auto& b) { return std::optional(b.initiator_id); })),
                       [](const auto& u) { return u.id; });
  auto job_ids = distinct(builds, [](const auto& b) { return std::optional(b.job_id); });
  auto resources =
      grouped(resource_views(store, store.list_workspace_resources_by_job_ids(job_ids)),
              [](const ResourceView& r) { return r.resource.job_id; });
  std::vector<BuildView> out;
  for (auto& build : builds) {
    BuildView view;
    view.job = find(jobs, build.job_id);
    view.version = find(versions, build.template_version_id);
    if (view.version && view.version->template_id)
      view.version_template = find(templates, *view.version->template_id);
    view.initiator = find(initiators, build.initiator_id);
    // Two builds never share a job, so each job's resources are taken once.
    view.resources = take(resources, build.job_id);
    view.build = std::move(build);
    out.push_back(std::move(view));
  }
  return out;
}

std::vector<WorkspaceView> workspace_views(store::Store& store,
                                           std::vector<store::WorkspaceRow> workspaces) {
  auto ids = distinct(workspaces, [](const auto& w) { return std::optional(w.id); });
  auto templates = by(store.list_templates_by_ids(distinct(
                          workspaces, [](const auto& w) { return std::optional(w.template_id); })),
                      [](const auto& t) { return t.id; });
  auto owners = by(store.list_users_by_ids(distinct(
                       workspaces, [](const auto& w) { return std::optional(w.owner_id); })),
                   [](const auto& u) { return u.id; });
  auto organizations = by(store.list_organizations(), [](const auto& o) { return o.id; });
  auto builds = by(build_views(store, store.list_latest_workspace_builds(ids)),
                   [](const BuildView& b) { return b.build.workspace_id; });
  std::vector<WorkspaceView> out;
  for (auto& workspace : workspaces) {
    WorkspaceView view;
    view.template_ = find(templates, workspace.template_id);
    view.owner = find(owners, workspace.owner_id);
    view.organization = find(organizations, workspace.organization_id);
    view.latest_build = find(builds, workspace.id);
    view.workspace = std::move(workspace);
    out.push_back(std::move(view));
  }
  return out;
}

// Runs `load` in one read transaction: one snapshot, one transaction start.
template <typename Result, typename Load>
Result in_snapshot(store::Store& store, Load load) {
  Result out;
  store.in_read_tx([&](store::Store& tx) { out = load(tx); });
  return out;
}

}  // namespace

std::vector<WorkspaceView> load_workspace_views(store::Store& store,
                                                std::vector<store::WorkspaceRow> workspaces) {
  return in_snapshot<std::vector<WorkspaceView>>(
      store, [&](store::Store& tx) { return workspace_views(tx, std::move(workspaces)); });
}

std::vector<BuildView> load_build_views(store::Store& store,
                                        std::vector<store::WorkspaceBuildRow> builds) {
  return in_snapshot<std::vector<BuildView>>(
      store, [&](store::Store& tx) { return build_views(tx, std::move(builds)); });
}

std::vector<ResourceView> load_resource_views(store::Store& store,
                                              std::vector<store::WorkspaceResourceRow> resources) {
  return in_snapshot<std::vector<ResourceView>>(
      store, [&](store::Store& tx) { return resource_views(tx, std::move(resources)); });
}

std::vector<AgentView> load_agent_views(store::Store& store,
                                        std::vector<store::WorkspaceAgentRow> agents) {
  return in_snapshot<std::vector<AgentView>>(
      store, [&](store::Store& tx) { return agent_views(tx, std::move(agents)); });
}

}  // namespace berth::coderd
