// The task list as the store filters, authorizes and orders it in SQL (the status too), and
// as Tasks::list loads it for all tasks at once, compared with the rules applied one task at a
// time (Tasks::view and Tasks::details), on generated tasks in every state.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "coderd/list_fixtures.hpp"
#include "coderd/provisioner_jobs.hpp"
#include "coderd/tasks.hpp"
#include "coderd/workspaces.hpp"
#include "store/pubsub.hpp"

namespace berth::coderd {
namespace {

using namespace std::chrono_literals;
using store::ListTasksParams;
using Transition = sdk::WorkspaceTransition;
using Lifecycle = sdk::WorkspaceAgentLifecycle;

const std::vector<std::string> kStatuses = {"pending", "initializing", "active",
                                            "paused",  "error",        "unknown"};

class TaskList : public ::testing::Test {
 protected:
  testing::Services s;
  testing::Population people{s};
  store::MemoryPubsub pubsub;
  JobQueue jobs{s.store, pubsub, s.clock};
  Workspaces workspaces{s.store, pubsub, jobs, s.clock};
  Tasks tasks{s.store, pubsub, workspaces, s.clock};
  std::mt19937 random{20261206};
  TimePoint t = testing::start_time();
  Uuid file_id = Uuid::random_v4();
  std::vector<store::TemplateRow> templates;
  std::map<Uuid, Uuid> versions;  // template → its version
  std::vector<Uuid> task_ids;     // every task written

  bool chance(int percent) { return int(random() % 100) < percent; }
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[random() % items.size()];
  }

  void SetUp() override {
    s.store.insert_file({file_id, "hash", people.owner.id, t, "application/x-tar", "data"});
    for (auto org : {people.default_org, people.default_org, people.other_org, people.third_org})
      add_template(org);
  }

  Uuid add_job(std::function<void(store::ProvisionerJobRow&)> shape = {}) {
    store::ProvisionerJobRow job;
    job.id = Uuid::random_v4();
    job.created_at = job.updated_at = t;
    job.organization_id = people.default_org;
    job.initiator_id = people.owner.id;
    job.provisioner = "terraform";
    job.storage_method = "file";
    job.type = "workspace_build";
    job.file_id = file_id;
    if (shape) shape(job);
    s.store.insert_provisioner_job(job);
    return job.id;
  }

  void add_template(Uuid org) {
    store::TemplateVersionRow version;
    version.id = Uuid::random_v4();
    version.organization_id = org;
    version.name = "v" + std::to_string(templates.size());
    version.job_id = add_job([](auto& j) { j.type = "template_version_import"; });
    version.created_by = people.owner.id;
    version.created_at = version.updated_at = t;
    version.has_ai_task = true;
    s.store.insert_template_version(version);
    store::TemplateRow tmpl{Uuid::random_v4(),
                            org,
                            "tasks" + std::to_string(templates.size()),
                            "Tasks",
                            "",
                            "/icon/tasks.svg",
                            "terraform",
                            version.id,
                            people.owner.id,
                            t,
                            t,
                            false,
                            {}};
    s.store.insert_template(tmpl);
    s.store.update_template_version_template_id(version.id, tmpl.id, t);
    templates.push_back(tmpl);
    versions[tmpl.id] = version.id;
  }

  // A job in any state (or one that succeeded), written whole or moved there after its build
  // exists.
  Uuid add_build_job(bool succeeded = false) {
    enum class State { pending, running, succeeded, failed, canceling, canceled };
    auto state = succeeded ? State::succeeded : State(random() % 6);
    bool later = chance(30) && state != State::running;
    auto id = add_job([&](store::ProvisionerJobRow& j) {
      if (later || state == State::pending) return;
      j.started_at = t;
      if (state == State::succeeded || state == State::failed || state == State::canceled)
        j.completed_at = t + 1s;
      if (state == State::failed) j.error = "boom";
      if (state == State::canceling || state == State::canceled) j.canceled_at = t;
    });
    if (!later) return id;
    if (state == State::succeeded) s.store.update_provisioner_job_completed_by_id(id, t, {}, "");
    if (state == State::failed) s.store.update_provisioner_job_completed_by_id(id, t, "boom", "");
    if (state == State::canceling) s.store.update_provisioner_job_canceled_by_id(id, t, false);
    if (state == State::canceled) s.store.update_provisioner_job_canceled_by_id(id, t, true);
    return id;
  }

  // The agent a build made, in any lifecycle, its definition naming the task's app "app-a"
  // (twice: the later wins) with or without the health the definition starts it with.
  Uuid add_agent(const Uuid& job_id, bool ready = false) {
    store::WorkspaceResourceRow resource;
    resource.id = Uuid::random_v4();
    resource.created_at = t;
    resource.job_id = job_id;
    resource.type = "docker_container";
    resource.name = "dev";
    s.store.insert_workspace_resource(resource);
    const std::vector<std::string> configs = {
        R"({"apps":[{"id":"app-a","health":"initializing"},{"id":"app-b"}]})",
        R"({"apps":[{"id":"app-a","health":"disabled"}]})",
        R"({"apps":[{"id":"app-a"}]})",
        R"({"apps":[{"id":"app-b","health":"healthy"}]})",
        R"({"apps":[]})",
        R"({"apps":[{"id":"app-a","health":"unhealthy"},{"id":"app-a","health":"healthy"}]})",
        R"({})"};
    store::WorkspaceAgentRow agent;
    agent.id = Uuid::random_v4();
    agent.created_at = agent.updated_at = t;
    agent.resource_id = resource.id;
    agent.name = "main";
    agent.auth_token_hash = agent.id.to_string();
    agent.config = pick(configs);
    auto lifecycles = sdk::all_values<Lifecycle>();
    agent.lifecycle_state = ready ? Lifecycle::ready : lifecycles[random() % lifecycles.size()];
    agent.deleted = chance(5);
    s.store.insert_workspace_agent(agent);
    if (chance(50))
      s.store.upsert_workspace_app_health(
          {agent.id, pick(std::vector<std::string>{"app-a", "app-a", "app-b"}),
           pick(std::vector<std::string>{"healthy", "unhealthy", "initializing", "disabled",
                                         "weird"}),
           t});
    return agent.id;
  }

  void generate(int count) {
    for (int i = 0; i < count; ++i) {
      const auto& tmpl = pick(templates);
      const auto& owner = pick(people.users);
      store::TaskRow task{Uuid::random_v4(),
                          tmpl.organization_id,
                          owner.id,
                          "task-" + std::to_string(i),
                          "Task " + std::to_string(i),
                          std::nullopt,
                          versions[tmpl.id],
                          "Fix the bug",
                          t + std::chrono::seconds(random() % 200),  // ties, ordered by id
                          std::nullopt};
      s.store.insert_task(task);
      task_ids.push_back(task.id);
      if (chance(5)) continue;  // never got a workspace: not listed
      store::WorkspaceRow w;
      w.id = Uuid::random_v4();
      w.created_at = w.updated_at = t + std::chrono::seconds(i);
      // Mostly the task's owner; sometimes another, so that the workspace's owner decides.
      w.owner_id = chance(90) ? owner.id : pick(people.users).id;
      w.organization_id = tmpl.organization_id;
      w.template_id = tmpl.id;
      w.name = task.name;
      w.last_used_at = t;
      s.store.insert_workspace(w);
      s.store.update_task_workspace_id(task.id, w.id);
      int builds = chance(10) ? 0 : 1 + int(random() % 3);
      std::optional<Uuid> some_agent;
      // Most tasks end up active in real life; those that do here are made so on purpose.
      bool working = chance(15);
      for (int n = 1; n <= builds; ++n) {
        bool last_working = working && n == builds;
        store::WorkspaceBuildRow b;
        b.id = Uuid::random_v4();
        b.created_at = b.updated_at = t + std::chrono::seconds(10 * n);
        b.workspace_id = w.id;
        b.template_version_id = versions[tmpl.id];
        b.build_number = n;
        b.transition = pick(std::vector<Transition>{Transition::start, Transition::start,
                                                    Transition::stop, Transition::delete_});
        if (last_working) b.transition = Transition::start;
        b.initiator_id = w.owner_id;
        b.job_id = add_build_job(last_working);
        s.store.insert_workspace_build(b);
        // The task's app row of this build: mostly written, sometimes with its agent and app.
        if (last_working || chance(85)) {
          store::TaskWorkspaceAppRow app{task.id, n, std::nullopt, std::nullopt};
          if (last_working || chance(70))
            some_agent = app.agent_id = add_agent(b.job_id, last_working);
          if (last_working || chance(80)) app.app_id = "app-a";
          s.store.upsert_task_workspace_app(app);
        }
      }
      // An app row for a build that never came.
      if (chance(3)) s.store.upsert_task_workspace_app({task.id, builds + 1, {}, {}});
      for (int k = some_agent ? int(random() % 3) : 0; k > 0; --k)
        s.store.insert_workspace_app_status(
            {Uuid::random_v4(), t + std::chrono::seconds(random() % 40), *some_agent, w.id, "app-a",
             pick(std::vector<std::string>{"working", "idle", "complete", "failure"}),
             "step " + std::to_string(k), ""});
      if (chance(5)) {
        w.deleted = true;  // listed all the same, as before
        s.store.update_workspace(w);
      }
      if (chance(5)) s.store.delete_task(task.id, t);
    }
  }

  // Every live task as the rules see it, one at a time.
  std::vector<TaskView> views() {
    std::vector<TaskView> out;
    for (const auto& task : all_tasks()) out.push_back(tasks.view(task));
    return out;
  }

  // Every live task, read one at a time (the list under test is not the source).
  std::vector<store::TaskRow> all_tasks() {
    std::vector<store::TaskRow> out;
    for (const auto& id : task_ids)
      if (auto task = s.store.get_task_by_id(id)) out.push_back(*task);
    return out;
  }

  std::vector<std::string> expected(const std::vector<TaskView>& all, const Subject& subject,
                                    const ListTasksParams& p) {
    std::vector<const TaskView*> rows;
    for (const auto& v : all) {
      if (!v.workspace) continue;
      if (!authorize(subject, Action::read, workspace_object(*v.workspace))) continue;
      if (p.owner_id && v.task.owner_id != *p.owner_id) continue;
      if (p.organization_id && v.task.organization_id != *p.organization_id) continue;
      if (p.status && v.status != *p.status) continue;
      rows.push_back(&v);
    }
    std::sort(rows.begin(), rows.end(), [](const TaskView* a, const TaskView* b) {
      if (a->task.created_at != b->task.created_at) return a->task.created_at > b->task.created_at;
      return a->task.id.to_string() < b->task.id.to_string();
    });
    std::vector<std::string> out;
    for (const auto* v : rows) out.push_back(v->task.id.to_string());
    return out;
  }

  static ListTasksParams authorized(const Subject& subject, ListTasksParams p) {
    auto scope = authorized_scope(subject, Action::read, Resource::workspace);
    p.readable_all = scope.everything;
    if (scope.owned) p.readable_owner_id = subject.user_id;
    p.readable_organization_ids = scope.organizations;
    return p;
  }

  std::vector<std::string> actual(const Subject& subject, const ListTasksParams& p) {
    std::vector<std::string> out;
    for (const auto& task : s.store.list_tasks(authorized(subject, p)))
      out.push_back(task.id.to_string());
    return out;
  }

  std::vector<std::pair<std::string, ListTasksParams>> filters() {
    std::vector<std::pair<std::string, ListTasksParams>> out;
    out.emplace_back("everything", ListTasksParams{});
    ListTasksParams p;
    p.owner_id = people.users[1].id;
    out.emplace_back("owner", p);
    p = {};
    p.organization_id = people.other_org;
    out.emplace_back("organization", p);
    for (const auto& status : kStatuses) {
      p = {};
      p.status = status;
      out.emplace_back("status:" + status, p);
    }
    p = {};
    p.owner_id = people.owner.id;
    p.organization_id = people.default_org;
    p.status = "paused";
    out.emplace_back("owner, organization, paused", p);
    return out;
  }

  // What a task's JSON is made of, for comparing the list's details with the single read's.
  static std::string describe(const TaskDetails& d) {
    const auto& v = d.view;
    json::object o{
        {"task", v.task.id.to_string()},
        {"workspace", v.workspace ? v.workspace->id.to_string() : ""},
        {"workspace_updated", v.workspace ? to_unix_micros(v.workspace->updated_at) : 0},
        {"app", v.app ? std::to_string(v.app->build_number) + "/" +
                            (v.app->agent_id ? v.app->agent_id->to_string() : "") + "/" +
                            v.app->app_id.value_or("-")
                      : ""},
        {"build", v.build ? v.build->id.to_string() : ""},
        {"job", v.job_status ? std::string(sdk::to_string(*v.job_status)) : ""},
        {"agent", v.agent ? v.agent->id.to_string() : ""},
        {"lifecycle", v.agent ? std::string(sdk::to_string(v.agent->lifecycle_state)) : ""},
        {"app_health", v.app_health},
        {"status", v.status},
        {"owner", d.owner ? d.owner->username + " " + d.owner->avatar_url : ""},
        {"template", d.template_ ? d.template_->id.to_string() + " " + d.template_->name : ""},
        {"current_state", d.current_state}};
    return json::serialize(o);
  }
};

TEST_F(TaskList, FiltersAuthorizesAndDerivesStatusInSqlExactlyAsTheRulesDo) {
  generate(1500);
  auto all = views();
  ASSERT_GT(all.size(), 1200u);
  // Every status occurs, so that each filter is tested on rows it must find.
  for (const auto& status : kStatuses)
    EXPECT_GT(std::count_if(all.begin(), all.end(),
                            [&](const TaskView& v) { return v.status == status; }),
              20)
        << status;
  int compared = 0;
  for (const auto& [who, subject] : people.subjects())
    for (const auto& [what, params] : filters()) {
      auto want = expected(all, subject, params);
      ASSERT_EQ(actual(subject, params), want) << who << ", " << what;
      compared += int(want.size());
    }
  EXPECT_GT(compared, 8000);  // the lists were not all empty
}

TEST_F(TaskList, LoadsEveryTasksDetailsAsTheSingleReadDoes) {
  generate(400);
  for (const auto& [who, subject] : people.subjects()) {
    for (const auto& [what, params] : filters()) {
      auto listed = tasks.list(authorized(subject, params));
      std::vector<std::string> got, want;
      for (const auto& d : listed) {
        got.push_back(describe(d));
        want.push_back(describe(tasks.details(tasks.view(d.view.task))));
      }
      ASSERT_EQ(got, want) << who << ", " << what;
    }
  }
}

TEST_F(TaskList, FollowsBuildsJobsAgentsAndHealthAfterTheyAreWritten) {
  generate(60);
  auto subject = s.api_keys.subject_for(people.owner);
  auto check = [&](const std::string& when) {
    auto all = views();
    for (const auto& [what, params] : filters())
      ASSERT_EQ(actual(subject, params), expected(all, subject, params)) << when << ", " << what;
  };
  check("generated");
  // Every task's workspace starts again: pending, then running, then done with a ready agent
  // whose app turns healthy.
  for (auto task : all_tasks()) {
    if (!task.workspace_id) continue;
    auto latest = s.store.get_latest_workspace_build(*task.workspace_id);
    auto number = latest ? latest->build_number + 1 : 1;
    auto job_id = add_job();
    store::WorkspaceBuildRow b;
    b.id = Uuid::random_v4();
    b.created_at = b.updated_at = t + 1h;
    b.workspace_id = *task.workspace_id;
    b.template_version_id = task.template_version_id;
    b.build_number = number;
    b.transition = Transition::start;
    b.initiator_id = people.owner.id;
    b.job_id = job_id;
    s.store.insert_workspace_build(b);
    s.store.upsert_task_workspace_app({task.id, number, std::nullopt, std::nullopt});
  }
  check("new builds pending");
  for (auto task : all_tasks()) {
    auto app = s.store.get_latest_task_workspace_app(task.id);
    if (!app || !task.workspace_id) continue;
    auto build = s.store.get_workspace_build_by_number(*task.workspace_id, app->build_number);
    if (!build) continue;
    s.store.update_provisioner_job_completed_by_id(build->job_id, t + 1h, std::nullopt, "");
    auto agent_id = add_agent(build->job_id);
    s.store.update_workspace_agent_lifecycle_by_id(agent_id, Lifecycle::ready, t, t, t);
    s.store.upsert_task_workspace_app({task.id, app->build_number, agent_id, "app-a"});
    s.store.upsert_workspace_app_health({agent_id, "app-a", "healthy", t});
  }
  check("agents ready, apps healthy");
  ListTasksParams active;
  active.status = "active";
  EXPECT_GT(actual(subject, active).size(), 40u);
}

}  // namespace
}  // namespace berth::coderd
