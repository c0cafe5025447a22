// Tasks::list: the tasks the store selects, with their views and details loaded for all of them
// at once, one query per table, by the same rules as Tasks::view and Tasks::details.
#include <algorithm>
#include <map>
#include <utility>

#include "coderd/provisioner_jobs.hpp"
#include "coderd/tasks.hpp"

namespace berth::coderd {

namespace {

std::vector<Uuid> distinct(std::vector<Uuid> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// Rows by a key.
template <typename Key, typename Row, typename KeyOf>
std::map<Key, Row> by(std::vector<Row> rows, KeyOf key_of) {
  std::map<Key, Row> out;
  for (auto& row : rows) {
    auto key = key_of(row);
    out.emplace(std::move(key), std::move(row));
  }
  return out;
}

template <typename Key, typename Row>
std::optional<Row> find(const std::map<Key, Row>& rows, const Key& key) {
  auto it = rows.find(key);
  if (it == rows.end()) return std::nullopt;
  return it->second;
}

const std::vector<store::WorkspaceAppHealthRow> kNone;

// What the views and details of a list of tasks are made of, one read per table.
struct Loaded {
  std::map<Uuid, store::WorkspaceRow> workspaces;
  std::map<Uuid, store::TaskWorkspaceAppRow> apps;  // by task
  std::map<std::pair<Uuid, std::int64_t>, store::WorkspaceBuildRow> app_builds;
  std::map<Uuid, store::WorkspaceBuildRow> latest_builds;  // by workspace
  std::map<Uuid, store::ProvisionerJobRow> jobs;
  std::map<Uuid, store::WorkspaceAgentRow> agents;
  std::map<Uuid, std::vector<store::WorkspaceAppHealthRow>> reported;  // by agent
  std::map<Uuid, store::UserRow> owners;
  std::map<Uuid, store::TemplateRow> templates;
  std::map<Uuid, store::WorkspaceAppStatusRow> app_statuses;  // by workspace

  Loaded(store::Store& store, const std::vector<store::TaskRow>& tasks) {
    std::vector<Uuid> task_ids, workspace_ids, owner_ids;
    for (const auto& t : tasks) {
      task_ids.push_back(t.id);
      if (t.workspace_id) workspace_ids.push_back(*t.workspace_id);
      owner_ids.push_back(t.owner_id);
    }
    workspace_ids = distinct(std::move(workspace_ids));
    workspaces =
        by<Uuid>(store.list_workspaces_by_ids(workspace_ids), [](const auto& w) { return w.id; });
    apps = by<Uuid>(store.list_latest_task_workspace_apps(task_ids),
                    [](const auto& a) { return a.task_id; });
    app_builds = by<std::pair<Uuid, std::int64_t>>(
        store.list_latest_task_workspace_app_builds(task_ids),
        [](const auto& b) { return std::pair(b.workspace_id, b.build_number); });
    latest_builds = by<Uuid>(store.list_latest_workspace_builds(workspace_ids),
                             [](const auto& b) { return b.workspace_id; });
    std::vector<Uuid> job_ids, agent_ids, template_ids;
    for (const auto& [key, b] : app_builds) job_ids.push_back(b.job_id);
    for (const auto& [key, b] : latest_builds) job_ids.push_back(b.job_id);
    jobs = by<Uuid>(store.list_provisioner_jobs_by_ids(distinct(std::move(job_ids))),
                    [](const auto& j) { return j.id; });
    for (const auto& [key, a] : apps)
      if (a.agent_id) agent_ids.push_back(*a.agent_id);
    agent_ids = distinct(std::move(agent_ids));
    agents =
        by<Uuid>(store.list_workspace_agents_by_ids(agent_ids), [](const auto& a) { return a.id; });
    for (auto& h : store.list_workspace_app_health_by_agent_ids(agent_ids))
      reported[h.agent_id].push_back(std::move(h));
    owners = by<Uuid>(store.list_users_by_ids(distinct(std::move(owner_ids))),
                      [](const auto& u) { return u.id; });
    for (const auto& [key, w] : workspaces) template_ids.push_back(w.template_id);
    templates = by<Uuid>(store.list_templates_by_ids(distinct(std::move(template_ids))),
                         [](const auto& t) { return t.id; });
    app_statuses = by<Uuid>(store.list_latest_workspace_app_statuses(workspace_ids),
                            [](const auto& s) { return s.workspace_id; });
  }

  std::optional<sdk::ProvisionerJobStatus> job_status_of(
      const std::optional<store::WorkspaceBuildRow>& build) const {
    if (!build) return std::nullopt;
    auto job = find(jobs, build->job_id);
    if (!job) return std::nullopt;
    return job_status(*job);
  }

  // As Tasks::view reads it.
  TaskView view(const store::TaskRow& task) const {
    TaskView v;
    v.task = task;
    if (!task.workspace_id) return v;
    v.workspace = find(workspaces, *task.workspace_id);
    v.app = find(apps, task.id);
    if (v.app) v.build = find(app_builds, std::pair(*task.workspace_id, v.app->build_number));
    v.job_status = job_status_of(v.build);
    if (v.app && v.app->agent_id) v.agent = find(agents, *v.app->agent_id);
    auto health = v.agent ? reported.find(v.agent->id) : reported.end();
    derive_task_status(v, health == reported.end() ? kNone : health->second);
    return v;
  }

  // As Tasks::details reads it.
  TaskDetails details(const store::TaskRow& task) const {
    TaskDetails out;
    out.view = view(task);
    const auto& v = out.view;
    out.owner = find(owners, task.owner_id);
    if (v.workspace) {
      out.template_ = find(templates, v.workspace->template_id);
      auto latest = find(latest_builds, v.workspace->id);
      out.current_state =
          task_current_state(v, latest, job_status_of(latest), find(app_statuses, v.workspace->id));
    }
    return out;
  }
};

}  // namespace

std::vector<TaskDetails> Tasks::list(const store::ListTasksParams& params) {
  std::vector<TaskDetails> out;
  store_.in_read_tx([&](store::Store& tx) {
    auto tasks = tx.list_tasks(params);
    Loaded loaded(tx, tasks);
    for (const auto& task : tasks) out.push_back(loaded.details(task));
  });
  return out;
}

}  // namespace berth::coderd
