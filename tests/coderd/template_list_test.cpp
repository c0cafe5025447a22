// The template list as the store filters, authorizes and orders it in SQL, compared with the
// rules applied one template at a time (the handler's before #14), on generated templates.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "coderd/list_fixtures.hpp"
#include "coderd/templates.hpp"

namespace berth::coderd {
namespace {

using store::ListTemplatesParams;
using testing::lower;

bool contains_ci(const std::string& haystack, const std::string& needle) {
  return lower(haystack).find(lower(needle)) != std::string::npos;
}

class TemplateList : public ::testing::Test {
 protected:
  testing::Services s;
  testing::Population people{s};
  std::mt19937 random{20261205};
  TimePoint t = testing::start_time();
  Uuid file_id = Uuid::random_v4();
  std::vector<store::TemplateRow> templates;  // every one written, deleted ones too

  bool chance(int percent) { return int(random() % 100) < percent; }
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[random() % items.size()];
  }

  void SetUp() override {
    s.store.insert_file({file_id, "hash", people.owner.id, t, "application/x-tar", "data"});
  }

  Uuid add_version(Uuid org) {
    store::ProvisionerJobRow job;
    job.id = Uuid::random_v4();
    job.created_at = job.updated_at = t;
    job.organization_id = org;
    job.initiator_id = people.owner.id;
    job.provisioner = "terraform";
    job.storage_method = "file";
    job.type = "template_version_import";
    job.file_id = file_id;
    s.store.insert_provisioner_job(job);
    store::TemplateVersionRow v;
    v.id = Uuid::random_v4();
    v.organization_id = org;
    v.name = "v-" + v.id.to_string();
    v.job_id = job.id;
    v.created_by = people.owner.id;
    v.created_at = v.updated_at = t;
    v.has_ai_task = chance(30);
    v.has_external_agent = chance(30);
    s.store.insert_template_version(v);
    return v.id;
  }

  // Names in mixed case, some with LIKE's wildcards in them, so that neither the case nor
  // a literal % or _ in a search can match what the rules would not.
  void generate(int count) {
    const std::vector<std::string> stems = {"Docker", "docker-go", "k8s_pod", "K8S-POD", "py%env",
                                            "pyXenv", "Rust",      "a_b",     "aXb",     "Node!"};
    std::vector<TemplatePolicy> policies(4);
    policies[1].deprecation_message = "Use docker-go instead.";
    policies[3].default_ttl_ms = 3'600'000;
    policies[3].deprecation_message = "Old";
    std::vector<Uuid> orgs = {people.default_org, people.default_org, people.other_org,
                              people.third_org};
    for (int i = 0; i < count; ++i) {
      auto org = pick(orgs);
      // A template whose active version is missing matches no has-ai-task search.
      auto version = chance(5) ? Uuid::random_v4() : add_version(org);
      auto name = pick(stems) + "-" + std::to_string(i);
      if (chance(50)) name = lower(name);
      store::TemplateRow tmpl{
          Uuid::random_v4(),
          org,
          name,
          chance(30) ? "" : "Display " + pick(stems) + " " + std::to_string(i % 7),
          "",
          "",
          "terraform",
          version,
          pick(people.users).id,
          t + std::chrono::seconds(i),
          t,
          false,
          pick(policies)};
      s.store.insert_template(tmpl);
      if (chance(5)) {
        tmpl.deleted = true;
        s.store.update_template(tmpl);
      }
      templates.push_back(tmpl);
    }
  }

  // The rules as the handler applied them to each template before the list moved into SQL.
  bool matches(const ListTemplatesParams& p, const store::TemplateRow& t) {
    if (t.deleted) return false;
    if (p.organization_id && t.organization_id != *p.organization_id) return false;
    if (!p.exact_name.empty() && lower(t.name) != lower(p.exact_name)) return false;
    if (!p.exact_display_name.empty() && lower(t.display_name) != lower(p.exact_display_name))
      return false;
    if (!p.name_contains.empty() && !contains_ci(t.name, p.name_contains)) return false;
    if (!p.display_name_contains.empty() && !contains_ci(t.display_name, p.display_name_contains))
      return false;
    if (!p.ids.empty() && std::find(p.ids.begin(), p.ids.end(), t.id) == p.ids.end()) return false;
    if (p.created_by && t.created_by != *p.created_by) return false;
    if (p.deprecated && t.policy.deprecation_message.empty() == *p.deprecated) return false;
    if (p.has_ai_task || p.has_external_agent) {
      auto active = s.store.get_template_version_by_id(t.active_version_id);
      if (!active) return false;
      if (p.has_ai_task && active->has_ai_task != *p.has_ai_task) return false;
      if (p.has_external_agent && active->has_external_agent != *p.has_external_agent) return false;
    }
    return true;
  }

  std::vector<std::string> expected(const Subject& subject, const ListTemplatesParams& p) {
    std::vector<const store::TemplateRow*> rows;
    for (const auto& t : templates)
      if (authorize(subject, Action::read, template_object(t.organization_id)) && matches(p, t))
        rows.push_back(&t);
    std::sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) {
      return std::tuple(lower(a->name), a->id.to_string()) <
             std::tuple(lower(b->name), b->id.to_string());
    });
    std::vector<std::string> out;
    for (const auto* t : rows) out.push_back(t->id.to_string());
    return out;
  }

  std::vector<std::string> actual(const Subject& subject, ListTemplatesParams p) {
    auto scope = authorized_scope(subject, Action::read, Resource::template_);
    p.readable_all = scope.everything;
    p.readable_organization_ids = scope.organizations;
    std::vector<std::string> out;
    for (const auto& t : s.store.list_templates(p)) out.push_back(t.id.to_string());
    return out;
  }

  std::vector<std::pair<std::string, ListTemplatesParams>> filters() {
    std::vector<std::pair<std::string, ListTemplatesParams>> out;
    out.emplace_back("everything", ListTemplatesParams{});
    ListTemplatesParams p;
    p.organization_id = people.other_org;
    out.emplace_back("organization", p);
    p = {};
    p.exact_name = "DOCKER-3";  // whichever case it was written in
    for (const auto& t : templates)
      if (lower(t.name).rfind("docker-", 0) == 0 && !t.deleted) {
        p.exact_name = t.name;
        for (auto& c : p.exact_name) c = char(std::toupper(static_cast<unsigned char>(c)));
        break;
      }
    out.emplace_back("exact_name", p);
    p = {};
    p.exact_display_name = "display rust 3";
    out.emplace_back("exact_display_name", p);
    for (std::string needle : {"docker", "K8S_", "%", "_", "a_b", "py%", "!", "-1", "nothing"}) {
      p = {};
      p.name_contains = needle;
      out.emplace_back("name:" + needle, p);
    }
    p = {};
    p.display_name_contains = "PY%ENV";
    out.emplace_back("display_name:py%env", p);
    p = {};
    for (std::size_t i = 0; i < templates.size(); i += 7) p.ids.push_back(templates[i].id);
    out.emplace_back("ids", p);
    p = {};
    p.created_by = people.users[2].id;
    out.emplace_back("author", p);
    for (bool flag : {true, false}) {
      p = {};
      p.deprecated = flag;
      out.emplace_back(flag ? "deprecated" : "not deprecated", p);
      p = {};
      p.has_ai_task = flag;
      out.emplace_back(flag ? "ai task" : "no ai task", p);
      p = {};
      p.has_external_agent = flag;
      out.emplace_back(flag ? "external agent" : "no external agent", p);
    }
    p = {};
    p.organization_id = people.default_org;
    p.name_contains = "DOCKER";
    p.deprecated = false;
    p.has_ai_task = true;
    out.emplace_back("default org, docker, current, ai task", p);
    return out;
  }
};

TEST_F(TemplateList, FiltersAndAuthorizesInSqlExactlyAsTheRulesDo) {
  generate(600);
  int compared = 0;
  for (const auto& [who, subject] : people.subjects())
    for (const auto& [what, params] : filters()) {
      auto want = expected(subject, params);
      ASSERT_EQ(actual(subject, params), want) << who << ", " << what;
      compared += int(want.size());
    }
  EXPECT_GT(compared, 5000);  // the lists were not all empty
}

TEST_F(TemplateList, SeesUpdatesToPolicyNamesAndActiveVersion) {
  generate(40);
  auto subject = s.api_keys.subject_for(people.owner);
  for (auto& tmpl : templates) {
    if (tmpl.deleted) continue;
    tmpl.policy.deprecation_message = chance(50) ? "gone" : "";
    tmpl.name = "renamed-" + tmpl.id.to_string().substr(0, 8);
    tmpl.active_version_id = add_version(tmpl.organization_id);
    s.store.update_template(tmpl);
  }
  for (const auto& [what, params] : filters())
    ASSERT_EQ(actual(subject, params), expected(subject, params)) << what;
}

}  // namespace
}  // namespace berth::coderd
