// The workspace list as the store filters, authorizes, orders and pages it in SQL, compared
// with the rules applied one workspace at a time, on thousands of generated workspaces.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>

#include "coderd/fixtures.hpp"
#include "coderd/provisioner_jobs.hpp"
#include "coderd/rbac.hpp"
#include "coderd/workspaces.hpp"

namespace berth::coderd {
namespace {

using namespace std::chrono_literals;
using store::ListWorkspacesParams;

std::string lower(std::string v) {
  for (auto& c : v) c = char(std::tolower(static_cast<unsigned char>(c)));
  return v;
}

// What the rules need of one workspace, read back one row at a time.
struct Model {
  store::WorkspaceRow workspace;
  std::string owner_username;
  sdk::WorkspaceStatus status = sdk::WorkspaceStatus::pending;
  std::optional<store::WorkspaceBuildRow> latest;
  std::vector<store::BuildParameterRow> parameters;
  Uuid active_version_id;
};

struct Subject {
  std::string what;
  coderd::Subject subject;
};

class WorkspaceList : public ::testing::Test {
 protected:
  testing::Services s;
  std::mt19937 random{20261204};
  store::UserRow owner = s.make_owner();
  Uuid default_org = s.store.get_default_organization()->id;
  Uuid other_org = Uuid::random_v4();
  std::vector<store::UserRow> users;
  std::vector<store::TemplateRow> templates;
  std::map<Uuid, std::vector<Uuid>> versions;  // per template
  Uuid file_id = Uuid::random_v4();
  TimePoint t = testing::start_time();

  bool chance(int percent) { return int(random() % 100) < percent; }
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[random() % items.size()];
  }

  void SetUp() override {
    s.store.insert_organization({other_org, "other", "Other", "", "", false, t, t});
    s.store.insert_file({file_id, "hash", owner.id, t, "application/x-tar", "data"});
    users.push_back(owner);
    // Usernames in mixed case, so that ordering by lower(username) is tested.
    for (std::string name : {"alice", "Bob", "carol", "DAVE", "erin", "Frank", "grace"}) {
      store::UserRow u{Uuid::random_v4(),
                       lower(name) + "@example.com",
                       name,
                       "",
                       "",
                       t,
                       t,
                       "active",
                       {},
                       "password",
                       "",
                       t,
                       false};
      s.store.insert_user(u);
      users.push_back(u);
    }
    // alice is in the default org; Bob also admins the other one; carol is only in the other;
    // DAVE is a template admin; the rest are plain members of the default organization.
    auto member = [&](const store::UserRow& u, Uuid org, std::vector<std::string> roles) {
      s.store.insert_organization_member({org, u.id, std::move(roles), t, t});
    };
    for (std::size_t i = 1; i < users.size(); ++i)
      if (users[i].username != "carol") member(users[i], default_org, {});
    member(users[2], other_org, {"organization-admin"});
    member(users[3], other_org, {});
    s.store.update_user_roles_by_id(users[4].id, {"template-admin"}, t);
    for (int i = 0; i < 3; ++i) add_template(i == 2 ? other_org : default_org, i);
  }

  Uuid add_job(std::function<void(store::ProvisionerJobRow&)> shape = {}) {
    store::ProvisionerJobRow job;
    job.id = Uuid::random_v4();
    job.created_at = job.updated_at = t;
    job.organization_id = default_org;
    job.initiator_id = owner.id;
    job.provisioner = "terraform";
    job.storage_method = "file";
    job.type = "workspace_build";
    job.file_id = file_id;
    if (shape) shape(job);
    s.store.insert_provisioner_job(job);
    return job.id;
  }

  void add_template(Uuid org, int index) {
    std::vector<Uuid> ids;
    for (int v = 0; v < 2; ++v) {
      store::TemplateVersionRow version;
      version.id = Uuid::random_v4();
      version.organization_id = org;
      version.name = "v" + std::to_string(index) + "-" + std::to_string(v);
      version.job_id = add_job([](auto& j) { j.type = "template_version_import"; });
      version.created_by = owner.id;
      version.created_at = version.updated_at = t;
      s.store.insert_template_version(version);
      ids.push_back(version.id);
    }
    store::TemplateRow tmpl{Uuid::random_v4(),
                            org,
                            "tmpl" + std::to_string(index),
                            "",
                            "",
                            "",
                            "terraform",
                            ids.back(),
                            owner.id,
                            t,
                            t,
                            false,
                            {}};
    s.store.insert_template(tmpl);
    for (const auto& id : ids) s.store.update_template_version_template_id(id, tmpl.id, t);
    templates.push_back(tmpl);
    versions[tmpl.id] = ids;
  }

  // A job in a random state, either written whole or moved there after its build exists
  // (the path real builds take, which the list's sort keys must follow).
  void add_build(const store::WorkspaceRow& w, std::int64_t number) {
    enum class State { pending, running, succeeded, failed, canceling, canceled };
    auto state = State(random() % 6);
    bool later = chance(50);
    auto job_id = add_job([&](store::ProvisionerJobRow& j) {
      if (later || state == State::pending) return;
      j.started_at = t;
      if (state == State::succeeded || state == State::failed || state == State::canceled)
        j.completed_at = t + 1s;
      if (state == State::failed) j.error = "boom";
      if (state == State::canceling || state == State::canceled) j.canceled_at = t;
    });
    store::WorkspaceBuildRow b;
    b.id = Uuid::random_v4();
    b.created_at = b.updated_at = t + std::chrono::seconds(number);
    b.workspace_id = w.id;
    b.template_version_id = pick(versions[w.template_id]);
    b.build_number = number;
    b.transition = pick(std::vector<sdk::WorkspaceTransition>{
        sdk::WorkspaceTransition::start, sdk::WorkspaceTransition::start,
        sdk::WorkspaceTransition::stop, sdk::WorkspaceTransition::delete_});
    b.initiator_id = w.owner_id;
    b.job_id = job_id;
    b.has_ai_task = chance(20);
    b.has_external_agent = chance(20);
    s.store.insert_workspace_build(b);
    std::vector<store::BuildParameterRow> parameters;
    if (chance(60)) parameters.push_back({"region", pick(std::vector<std::string>{"eu", "US"})});
    if (chance(30)) parameters.push_back({"Size", "large"});
    s.store.insert_build_parameters(b.id, parameters);
    if (!later) return;
    switch (state) {
      case State::pending:
      case State::running:  // started_at alone cannot change the list; leave it pending
        break;
      case State::succeeded:
        s.store.update_provisioner_job_completed_by_id(job_id, t, std::nullopt, "");
        break;
      case State::failed:
        s.store.update_provisioner_job_completed_by_id(job_id, t, "boom", "");
        break;
      case State::canceling:
        s.store.update_provisioner_job_canceled_by_id(job_id, t, false);
        break;
      case State::canceled:
        s.store.update_provisioner_job_canceled_by_id(job_id, t, true);
        break;
    }
  }

  void generate(int count) {
    for (int i = 0; i < count; ++i) {
      const auto& tmpl = pick(templates);
      store::WorkspaceRow w;
      w.id = Uuid::random_v4();
      w.created_at = w.updated_at = t + std::chrono::seconds(i);
      w.owner_id = pick(users).id;
      w.organization_id = tmpl.organization_id;
      w.template_id = tmpl.id;
      w.name = (chance(50) ? "WS-" : "ws-") + std::to_string(random() % 100000) + "-" +
               std::to_string(i);
      w.last_used_at = t;
      w.favorite = chance(10);
      if (chance(10)) w.dormant_at = t;
      s.store.insert_workspace(w);
      int builds = chance(5) ? 0 : 1 + int(random() % 3);
      for (int n = 1; n <= builds; ++n) add_build(w, n);
      if (chance(5)) {
        w.deleted = true;
        s.store.update_workspace(w);
      }
    }
  }

  std::vector<Model> models() {
    std::vector<Model> out;
    for (const auto& w : s.store.list_workspaces({})) {
      Model m;
      m.workspace = w;
      m.owner_username = s.store.get_user_by_id(w.owner_id)->username;
      m.active_version_id = s.store.get_template_by_id(w.template_id)->active_version_id;
      m.latest = s.store.get_latest_workspace_build(w.id);
      if (m.latest) {
        m.status = build_status(m.latest->transition,
                                job_status(*s.store.get_provisioner_job_by_id(m.latest->job_id)));
        m.parameters = s.store.list_build_parameters(m.latest->id);
      }
      out.push_back(std::move(m));
    }
    return out;
  }

  static bool matches(const ListWorkspacesParams& p, const Model& m) {
    const auto& w = m.workspace;
    if (p.owner_id && w.owner_id != *p.owner_id) return false;
    if (!p.name_contains.empty() && lower(w.name).find(lower(p.name_contains)) == std::string::npos)
      return false;
    if (p.filter_templates && std::find(p.template_ids.begin(), p.template_ids.end(),
                                        w.template_id) == p.template_ids.end())
      return false;
    if (p.organization_id && w.organization_id != *p.organization_id) return false;
    if (p.dormant && *p.dormant && !w.dormant_at) return false;
    if (p.status && m.status != *p.status) return false;
    bool outdated = m.latest && m.latest->template_version_id != m.active_version_id;
    if (p.outdated && outdated != *p.outdated) return false;
    if (p.has_ai_task && (m.latest && m.latest->has_ai_task) != *p.has_ai_task) return false;
    if (p.has_external_agent &&
        (!m.latest || m.latest->has_external_agent != *p.has_external_agent))
      return false;
    if (!p.parameters.empty() && !m.latest) return false;
    for (const auto& want : p.parameters)
      if (std::none_of(m.parameters.begin(), m.parameters.end(), [&](const auto& have) {
            return lower(have.name) == lower(want.name) &&
                   (!want.value || lower(have.value) == lower(*want.value));
          }))
        return false;
    return true;
  }

  // The page by the rules: authorize each workspace, filter, sort in Coder's order, page.
  static std::pair<std::vector<std::string>, std::int64_t> expected(const std::vector<Model>& all,
                                                                    const coderd::Subject& subject,
                                                                    const ListWorkspacesParams& p,
                                                                    std::int64_t limit,
                                                                    std::int64_t offset) {
    std::vector<const Model*> rows;
    for (const auto& m : all)
      if (authorize(subject, Action::read, workspace_object(m.workspace)) && matches(p, m))
        rows.push_back(&m);
    auto viewer = subject.user_id;
    std::sort(rows.begin(), rows.end(), [&](const Model* a, const Model* b) {
      auto key = [&](const Model* m) {
        bool favorite = m->workspace.favorite && m->workspace.owner_id == viewer;
        return std::tuple(!favorite, m->status != sdk::WorkspaceStatus::running,
                          lower(m->owner_username), lower(m->workspace.name),
                          m->workspace.id.to_string());
      };
      return key(a) < key(b);
    });
    std::vector<std::string> page;
    for (std::int64_t i = offset; i < std::int64_t(rows.size()); ++i) {
      if (limit > 0 && std::int64_t(page.size()) >= limit) break;
      page.push_back(rows[i]->workspace.id.to_string());
    }
    return {page, std::int64_t(rows.size())};
  }

  std::pair<std::vector<std::string>, std::int64_t> actual(const coderd::Subject& subject,
                                                           ListWorkspacesParams p,
                                                           std::int64_t limit,
                                                           std::int64_t offset) {
    auto scope = authorized_scope(subject, Action::read, Resource::workspace);
    p.readable_all = scope.everything;
    if (scope.owned) p.readable_owner_id = subject.user_id;
    p.readable_organization_ids = scope.organizations;
    std::vector<std::string> page;
    for (const auto& summary :
         s.store.list_workspace_summaries_page(p, subject.user_id, limit, offset))
      page.push_back(summary.workspace.id.to_string());
    return {page, s.store.count_workspaces(p)};
  }

  std::vector<Subject> subjects() {
    std::vector<Subject> out;
    for (const auto& u : users) {
      auto user = *s.store.get_user_by_id(u.id);
      out.push_back({user.username, s.api_keys.subject_for(user)});
    }
    return out;
  }

  std::vector<std::pair<std::string, ListWorkspacesParams>> filters() {
    std::vector<std::pair<std::string, ListWorkspacesParams>> out;
    out.emplace_back("everything", ListWorkspacesParams{});
    ListWorkspacesParams p;
    p.owner_id = users[1].id;
    out.emplace_back("owner", p);
    p = {};
    p.name_contains = "Ws-1";
    out.emplace_back("name", p);
    for (auto status : sdk::all_values<sdk::WorkspaceStatus>()) {
      p = {};
      p.status = status;
      std::string name = "status:";
      name.append(sdk::to_string(status));
      out.emplace_back(name, p);
    }
    for (bool flag : {true, false}) {
      p = {};
      p.outdated = flag;
      out.emplace_back(flag ? "outdated" : "current", p);
      p = {};
      p.has_ai_task = flag;
      out.emplace_back(flag ? "ai task" : "no ai task", p);
      p = {};
      p.has_external_agent = flag;
      out.emplace_back(flag ? "external agent" : "no external agent", p);
    }
    p = {};
    p.parameters = {{"REGION", "us"}};
    out.emplace_back("param region=us", p);
    p = {};
    p.parameters = {{"region", std::nullopt}, {"size", "LARGE"}};
    out.emplace_back("params region, size=large", p);
    p = {};
    p.dormant = true;
    out.emplace_back("dormant", p);
    p = {};
    p.filter_templates = true;
    p.template_ids = {templates[0].id, templates[2].id};
    out.emplace_back("templates", p);
    p = {};
    p.organization_id = other_org;
    p.status = sdk::WorkspaceStatus::running;
    out.emplace_back("other org, running", p);
    return out;
  }
};

TEST_F(WorkspaceList, PagesInSqlExactlyAsTheRulesDo) {
  generate(3000);
  auto all = models();
  ASSERT_GT(all.size(), 2500u);
  int compared = 0;
  for (const auto& [who, subject] : subjects())
    for (const auto& [what, params] : filters())
      for (auto [limit, offset] : std::vector<std::pair<std::int64_t, std::int64_t>>{
               {25, 0}, {25, 50}, {7, 3}, {10, 400}, {0, 0}}) {
        auto want = expected(all, subject, params, limit, offset);
        auto got = actual(subject, params, limit, offset);
        ASSERT_EQ(got.second, want.second) << who << ", " << what;
        ASSERT_EQ(got.first, want.first)
            << who << ", " << what << ", limit " << limit << " offset " << offset;
        compared += int(want.first.size());
      }
  EXPECT_GT(compared, 10000);  // the pages were not all empty
}

TEST_F(WorkspaceList, FollowsBuildsAndJobsAfterTheyAreWritten) {
  generate(50);
  auto subject = s.api_keys.subject_for(owner);
  // Every workspace starts again and its job succeeds: all of them are running, in order.
  for (const auto& w : s.store.list_workspaces({})) {
    auto latest = s.store.get_latest_workspace_build(w.id);
    auto number = latest ? latest->build_number + 1 : 1;
    auto job_id = add_job();
    store::WorkspaceBuildRow b;
    b.id = Uuid::random_v4();
    b.created_at = b.updated_at = t;
    b.workspace_id = w.id;
    b.template_version_id = versions[w.template_id].back();
    b.build_number = number;
    b.transition = sdk::WorkspaceTransition::start;
    b.initiator_id = owner.id;
    b.job_id = job_id;
    s.store.insert_workspace_build(b);
    ListWorkspacesParams running;
    running.status = sdk::WorkspaceStatus::running;
    auto before = actual(subject, running, 0, 0).second;
    s.store.update_provisioner_job_completed_by_id(job_id, t, std::nullopt, "");
    ASSERT_EQ(actual(subject, running, 0, 0).second, before + 1) << w.name;
  }
  auto all = models();
  EXPECT_EQ(actual(subject, {}, 0, 0), expected(all, subject, {}, 0, 0));
}

}  // namespace
}  // namespace berth::coderd
