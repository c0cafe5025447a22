// Every Store backend must pass these: SQLite here, PostgreSQL in the `postgres.` variant of
// this suite (tests/support/test_store.hpp).
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "common/error.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace berth::store {
namespace {

using namespace std::chrono;

struct Backend {
  const char* name;
  std::function<std::unique_ptr<Store>(const testing::TempDir&)> open;
};

void PrintTo(const Backend& backend, std::ostream* os) {
  *os << backend.name;
}

const Backend kBackends[] = {
    {"store", [](const testing::TempDir& dir) { return testing::open_test_store(dir); }},
};

TimePoint at(int seconds) {
  return from_unix_micros(1'700'000'000'000'000LL + seconds * 1'000'000LL);
}

UserRow make_user(const std::string& username, std::vector<std::string> roles = {},
                  std::string status = "active") {
  return UserRow{Uuid::random_v4(), username + "@example.com", username,   "", "hash", at(0), at(0),
                 std::move(status), std::move(roles),          "password", "", at(0),  false};
}

OrganizationRow make_org(const std::string& name, bool is_default = false) {
  return OrganizationRow{Uuid::random_v4(), name, name, "", "", is_default, at(0), at(0)};
}

ApiKeyRow make_key(const Uuid& user, const std::string& id, const std::string& name = "") {
  return ApiKeyRow{id,       std::string(32, 'h'),
                   user,     at(0),
                   at(3600), at(0),
                   at(0),    name.empty() ? "password" : "token",
                   3600,     "127.0.0.1",
                   "all",    name};
}

class StoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { store_ = GetParam().open(dir_); }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformance, InsertsAndReadsUsersCaseInsensitively) {
  auto user = make_user("Alice", {"owner"});
  store_->insert_user(user);
  auto by_id = store_->get_user_by_id(user.id);
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->username, "Alice");
  EXPECT_EQ(by_id->rbac_roles, std::vector<std::string>{"owner"});
  EXPECT_EQ(by_id->created_at, at(0));
  EXPECT_TRUE(store_->get_user_by_username("alice"));
  EXPECT_TRUE(store_->get_user_by_email("ALICE@example.com"));
  EXPECT_FALSE(store_->get_user_by_id(Uuid::random_v4()));
  EXPECT_EQ(store_->count_users(), 1);
}

TEST_P(StoreConformance, RejectsDuplicateUsernamesAsConflict) {
  store_->insert_user(make_user("bob"));
  auto dup = make_user("BOB");
  dup.email = "other@example.com";
  try {
    store_->insert_user(dup);
    FAIL() << "duplicate accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
  }
}

TEST_P(StoreConformance, ListsUsersFilteredAndPagedByUsername) {
  for (auto name : {"carol", "alice", "bob", "dave"}) store_->insert_user(make_user(name));
  store_->insert_user(make_user("erin", {"template-admin"}, "suspended"));
  ListUsersParams all;
  auto page = store_->list_users(all);
  ASSERT_EQ(page.users.size(), 5u);
  EXPECT_EQ(page.users[0].username, "alice");
  EXPECT_EQ(page.count, 5);

  ListUsersParams limited;
  limited.limit = 2;
  limited.offset = 1;
  page = store_->list_users(limited);
  ASSERT_EQ(page.users.size(), 2u);
  EXPECT_EQ(page.users[0].username, "bob");
  EXPECT_EQ(page.count, 5);

  ListUsersParams after;
  after.after_id = store_->get_user_by_username("carol")->id;
  page = store_->list_users(after);
  ASSERT_EQ(page.users.size(), 2u);
  EXPECT_EQ(page.users[0].username, "dave");

  ListUsersParams by_status;
  by_status.statuses = {"suspended"};
  EXPECT_EQ(store_->list_users(by_status).count, 1);
  ListUsersParams by_role;
  by_role.rbac_roles = {"template-admin"};
  EXPECT_EQ(store_->list_users(by_role).users.at(0).username, "erin");
  ListUsersParams by_text;
  by_text.search = "AR";
  EXPECT_EQ(store_->list_users(by_text).users.at(0).username, "carol");
}

TEST_P(StoreConformance, UpdatesRolesStatusAndLastSeen) {
  auto user = make_user("frank");
  store_->insert_user(user);
  store_->update_user_roles_by_id(user.id, {"auditor", "user-admin"}, at(5));
  store_->update_user_status_by_id(user.id, "suspended", at(6));
  store_->update_user_last_seen_at_by_id(user.id, at(7));
  auto got = store_->get_user_by_id(user.id);
  EXPECT_EQ(got->rbac_roles, (std::vector<std::string>{"auditor", "user-admin"}));
  EXPECT_EQ(got->status, "suspended");
  EXPECT_EQ(got->updated_at, at(6));
  EXPECT_EQ(got->last_seen_at, at(7));
}

TEST_P(StoreConformance, KeepsOrganizationsAndMemberships) {
  auto def = make_org("coder", true);
  auto other = make_org("Other");
  store_->insert_organization(def);
  store_->insert_organization(other);
  EXPECT_EQ(store_->get_default_organization()->id, def.id);
  EXPECT_EQ(store_->get_organization_by_name("other")->id, other.id);
  EXPECT_THROW(store_->insert_organization(make_org("CODER")), Error);
  auto user = make_user("gina");
  store_->insert_user(user);
  store_->insert_organization_member({other.id, user.id, {"organization-admin"}, at(1), at(1)});
  auto orgs = store_->list_organizations_by_user_id(user.id);
  ASSERT_EQ(orgs.size(), 1u);
  EXPECT_EQ(orgs[0].id, other.id);
  auto members = store_->list_organization_members_by_organization_id(other.id);
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].roles, std::vector<std::string>{"organization-admin"});
  EXPECT_EQ(store_->list_organizations().size(), 2u);
}

TEST_P(StoreConformance, StoresApiKeysWithUniqueTokenNames) {
  auto user = make_user("hank");
  store_->insert_user(user);
  store_->insert_api_key(make_key(user.id, "aaaaaaaaaa"));
  store_->insert_api_key(make_key(user.id, "bbbbbbbbbb", "ci"));
  EXPECT_THROW(store_->insert_api_key(make_key(user.id, "cccccccccc", "ci")), Error);
  auto key = store_->get_api_key_by_id("aaaaaaaaaa");
  ASSERT_TRUE(key);
  EXPECT_EQ(key->hashed_secret, std::string(32, 'h'));
  EXPECT_EQ(store_->get_api_key_by_name(user.id, "ci")->id, "bbbbbbbbbb");
  EXPECT_EQ(store_->list_api_keys_by_user_id_and_login_type(user.id, "token").size(), 1u);
  EXPECT_EQ(store_->list_api_keys_by_login_type("token").size(), 1u);
  store_->update_api_key_usage_by_id("aaaaaaaaaa", at(10), at(7200), "10.0.0.1");
  key = store_->get_api_key_by_id("aaaaaaaaaa");
  EXPECT_EQ(key->last_used, at(10));
  EXPECT_EQ(key->expires_at, at(7200));
  EXPECT_EQ(key->ip_address, "10.0.0.1");
  EXPECT_TRUE(store_->delete_api_key_by_id("aaaaaaaaaa"));
  EXPECT_FALSE(store_->delete_api_key_by_id("aaaaaaaaaa"));
  EXPECT_FALSE(store_->get_api_key_by_id("aaaaaaaaaa"));
}

TEST_P(StoreConformance, RollsBackAFailedTransactionWhole) {
  auto user = make_user("ivy");
  EXPECT_THROW(store_->in_tx([&](Store& tx) {
    tx.insert_user(user);
    tx.in_tx([&](Store& nested) { nested.upsert_site_config("k", "v"); });
    throw Error{ErrorCode::conflict, "boom"};
  }),
               Error);
  EXPECT_FALSE(store_->get_user_by_id(user.id));
  EXPECT_FALSE(store_->get_site_config("k"));
  store_->in_tx([&](Store& tx) { tx.insert_user(user); });
  EXPECT_TRUE(store_->get_user_by_id(user.id));
}

// What waits for a commit runs after it, once, with the change readable from another
// connection; a rollback drops it; outside a transaction it runs at once.
TEST_P(StoreConformance, RunsWhatWaitsForTheCommitAfterIt) {
  auto user = make_user("kim");
  std::vector<std::string> seen;
  store_->in_tx([&](Store& tx) {
    tx.insert_user(user);
    tx.in_tx([&](Store& nested) {
      nested.after_commit([&] {
        // Another thread reads through a reader connection: the last committed state.
        std::optional<UserRow> read;
        std::thread([&] { read = store_->get_user_by_id(user.id); }).join();
        seen.push_back(read ? "committed" : "not yet");
      });
    });
    EXPECT_TRUE(seen.empty());
  });
  EXPECT_EQ(seen, std::vector<std::string>{"committed"});

  EXPECT_THROW(store_->in_tx([&](Store& tx) {
    tx.after_commit([&] { seen.push_back("rolled back"); });
    throw Error{ErrorCode::conflict, "boom"};
  }),
               Error);
  store_->after_commit([&] { seen.push_back("at once"); });
  EXPECT_EQ(seen, (std::vector<std::string>{"committed", "at once"}));
}

TEST_P(StoreConformance, KeepsDataAcrossReopen) {
  auto user = make_user("jack");
  store_->insert_user(user);
  store_->upsert_site_config("deployment_id", "abc");
  store_.reset();
  store_ = GetParam().open(dir_);
  EXPECT_TRUE(store_->get_user_by_id(user.id));
  EXPECT_EQ(store_->get_site_config("deployment_id"), "abc");
}

// Typed row fields kept as JSON documents in TEXT columns: what goes in comes back, with
// empty collections and text that JSON must escape.

// Quotes, backslashes, control characters, JSON and SQL punctuation, and non-ASCII text.
const std::string kAwkward = "a \"quoted\" \\back\\slash\n\ttab' -- ; {\"x\":[1]} é 日本 🚀";

class StoreConformanceTypedColumns : public StoreConformance {
 protected:
  void SetUp() override {
    StoreConformance::SetUp();
    owner_ = make_user("typed");
    store_->insert_user(owner_);
    org_ = make_org("typed-org", true);
    store_->insert_organization(org_);
    file_ = FileRow{
        Uuid::random_v4(), std::string(64, 'f'), owner_.id, at(0), "application/x-tar", "data"};
    store_->insert_file(file_);
  }

  ProvisionerJobRow make_job(ProvisionerJobInput input, std::map<std::string, std::string> tags,
                             int seconds = 0) {
    ProvisionerJobRow job;
    job.id = Uuid::random_v4();
    job.created_at = job.updated_at = at(seconds);
    job.organization_id = org_.id;
    job.initiator_id = owner_.id;
    job.provisioner = "terraform";
    job.storage_method = "file";
    job.type = input.workspace_build_id ? "workspace_build" : "template_version_import";
    job.file_id = file_.id;
    job.input = std::move(input);
    job.tags = std::move(tags);
    store_->insert_provisioner_job(job);
    return job;
  }

  TemplateVersionRow make_version(std::vector<VariableValue> values = {}) {
    TemplateVersionRow v;
    v.id = Uuid::random_v4();
    v.organization_id = org_.id;
    v.name = "v-" + v.id.to_string();
    v.job_id = make_job({v.id, std::nullopt, values}, {{"scope", "organization"}}).id;
    v.created_by = owner_.id;
    v.created_at = v.updated_at = at(1);
    v.user_variable_values = std::move(values);
    store_->insert_template_version(v);
    return v;
  }

  TemplateRow make_template(const std::string& name, TemplatePolicy policy) {
    TemplateRow t{Uuid::random_v4(), org_.id,           name,      "",    "",    "",
                  "terraform",       make_version().id, owner_.id, at(2), at(2), false,
                  std::move(policy)};
    store_->insert_template(t);
    return t;
  }

  WorkspaceResourceRow make_resource(const Uuid& job_id, std::vector<ResourceMetadataItem> items) {
    WorkspaceResourceRow r;
    r.id = Uuid::random_v4();
    r.created_at = at(3);
    r.job_id = job_id;
    r.type = "docker_container";
    r.name = "dev-" + r.id.to_string();
    r.metadata = std::move(items);
    store_->insert_workspace_resource(r);
    return r;
  }

  // Overwrites one stored document as an older version (or a person) may have left it.
  void store_text(const char* table, const char* column, const Uuid& id, const std::string& text) {
    std::string quoted;
    for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    std::string sql = "UPDATE ";
    sql.append(table).append(" SET ").append(column).append(" = '").append(quoted);
    sql.append("' WHERE id = '").append(id.to_string()).append("'");
    testing::exec_sql(dir_.path().string(), sql);
  }

  // Runs `read` and expects the internal error that names the unreadable column.
  template <typename Read>
  void expect_unreadable(const std::string& column, Read read) {
    try {
      read();
      ADD_FAILURE() << column << ": read without an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::internal) << column;
      EXPECT_NE(e.detail().find(column), std::string::npos) << e.detail();
    }
  }

  UserRow owner_;
  OrganizationRow org_;
  FileRow file_;
};

TEST_P(StoreConformanceTypedColumns, ProvisionerJobsKeepTheirInputAndTags) {
  auto version_id = Uuid::random_v4();
  auto import = make_job({version_id, std::nullopt, {{"region", kAwkward}, {kAwkward, ""}}},
                         {{"scope", "organization"}, {"owner", ""}, {kAwkward, kAwkward}});
  auto build = make_job({std::nullopt, Uuid::random_v4(), {}}, {}, 1);
  auto bare = make_job({}, {}, 2);
  for (const auto* want : {&import, &build, &bare}) {
    auto got = store_->get_provisioner_job_by_id(want->id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->input, want->input);
    EXPECT_EQ(got->tags, want->tags);
  }
  auto listed = store_->list_provisioner_jobs_by_ids({import.id, build.id});
  ASSERT_EQ(listed.size(), 2u);
  for (const auto& job : listed)
    EXPECT_EQ(job.input, job.id == import.id ? import.input : build.input);
  // An import with no variables still says so, as imports always have.
  auto none = make_job({version_id, std::nullopt, {}}, {}, 3);
  EXPECT_EQ(store_->get_provisioner_job_by_id(none.id)->input, none.input);
}

TEST_P(StoreConformanceTypedColumns, AcquiringMatchesTagsWithAwkwardText) {
  auto tagged = make_job({std::nullopt, Uuid::random_v4(), {}}, {{"scope", kAwkward}});
  auto untagged = make_job({std::nullopt, Uuid::random_v4(), {}}, {}, 1);
  auto worker = Uuid::random_v4();
  // A worker without the tag takes only the untagged job; one with it (and more) the other.
  auto claim = [&](std::map<std::string, std::string> tags, int seconds) {
    return store_->acquire_provisioner_job(AcquireJobParams{.worker_id = worker,
                                                            .worker_name = "w",
                                                            .tags = std::move(tags),
                                                            .provisioners = {"terraform"},
                                                            .now = at(seconds)});
  };
  auto first = claim({{"scope", "organization"}}, 10);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->id, untagged.id);
  EXPECT_FALSE(claim({}, 10));
  auto second = claim({{"scope", kAwkward}, {"x", "y"}}, 11);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->id, tagged.id);
  EXPECT_EQ(second->tags, tagged.tags);
  EXPECT_EQ(second->input, tagged.input);
}

TEST_P(StoreConformanceTypedColumns, TemplatesKeepTheirPolicy) {
  TemplatePolicy policy;
  policy.default_ttl_ms = 7'200'000;
  policy.activity_bump_ms = 0;
  policy.autostop_days_of_week = {"monday", "friday"};
  policy.autostop_weeks = 2;
  policy.autostart_days_of_week = {};
  policy.allow_user_autostart = false;
  policy.allow_user_autostop = false;
  policy.allow_user_cancel_workspace_jobs = true;
  policy.require_active_version = true;
  policy.failure_ttl_ms = 1;
  policy.time_til_dormant_ms = 86'400'000;
  policy.time_til_dormant_autodelete_ms = 2 * 86'400'000LL;
  policy.deprecation_message = kAwkward;
  policy.max_port_share_level = "public";
  policy.use_classic_parameter_flow = true;
  auto custom = make_template("custom", policy);
  auto plain = make_template("plain", {});
  EXPECT_EQ(store_->get_template_by_id(custom.id)->policy, policy);
  EXPECT_EQ(store_->get_template_by_id(plain.id)->policy, TemplatePolicy{});

  // The list's deprecation filter reads the same document.
  ListTemplatesParams deprecated;
  deprecated.deprecated = true;
  auto listed = store_->list_templates(deprecated);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, custom.id);
  EXPECT_EQ(listed[0].policy, policy);

  custom.policy = TemplatePolicy{};
  custom.policy.autostop_days_of_week = {};
  store_->update_template(custom);
  EXPECT_EQ(store_->get_template_by_id(custom.id)->policy, custom.policy);
  EXPECT_TRUE(store_->list_templates(deprecated).empty());
}

TEST_P(StoreConformanceTypedColumns, TemplateVersionsKeepTheirVariableValues) {
  auto none = make_version();
  auto some = make_version({{"region", kAwkward}, {kAwkward, ""}, {"", "empty name"}});
  EXPECT_TRUE(store_->get_template_version_by_id(none.id)->user_variable_values.empty());
  EXPECT_EQ(store_->get_template_version_by_id(some.id)->user_variable_values,
            some.user_variable_values);
  EXPECT_EQ(store_->get_template_version_by_job_id(some.job_id)->user_variable_values,
            some.user_variable_values);
}

TEST_P(StoreConformanceTypedColumns, WorkspaceResourcesKeepTheirMetadata) {
  auto job = make_job({std::nullopt, Uuid::random_v4(), {}}, {});
  std::vector<ResourceMetadataItem> items = {
      {"image", "ubuntu:22.04", false}, {kAwkward, kAwkward, true}, {"", "", false}};
  auto with = make_resource(job.id, items);
  auto without = make_resource(job.id, {});
  EXPECT_EQ(store_->get_workspace_resource_by_id(with.id)->metadata, items);
  EXPECT_TRUE(store_->get_workspace_resource_by_id(without.id)->metadata.empty());
  auto listed = store_->list_workspace_resources_by_job_id(job.id);
  ASSERT_EQ(listed.size(), 2u);
  for (const auto& r : listed) EXPECT_EQ(r.metadata, r.id == with.id ? items : without.metadata);
  EXPECT_EQ(store_->list_workspace_resources_by_job_ids({job.id}).size(), 2u);
}

// Documents written before the fields were typed (partial, or with members of another type)
// read back as the code that parsed them then read them.
TEST_P(StoreConformanceTypedColumns, ReadsDocumentsAsEarlierVersionsWroteThem) {
  auto version_id = Uuid::random_v4();
  auto job = make_job({}, {});
  store_text("provisioner_jobs", "input", job.id,
             R"({"template_version_id":")" + version_id.to_string() +
                 R"(","user_variable_values":[{"name":"a","value":5},{"value":"x"},)"
                 R"({"name":"b","value":"it's"}]})");
  store_text("provisioner_jobs", "tags", job.id, R"({"scope":"organization","owner":""})");
  auto got = store_->get_provisioner_job_by_id(job.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->input.template_version_id, version_id);
  EXPECT_EQ(got->input.workspace_build_id, std::nullopt);
  EXPECT_EQ(got->input.user_variable_values,
            (std::vector<VariableValue>{{"a", ""}, {"b", "it's"}}));
  EXPECT_EQ(got->tags,
            (std::map<std::string, std::string>{{"owner", ""}, {"scope", "organization"}}));

  auto tmpl = make_template("old", {});
  store_text("templates", "policy", tmpl.id,
             R"({"deprecation_message":7,"default_ttl_ms":3600000,"autostop_weeks":"2"})");
  TemplatePolicy expected;
  expected.default_ttl_ms = 3'600'000;
  EXPECT_EQ(store_->get_template_by_id(tmpl.id)->policy, expected);
  store_text("templates", "policy", tmpl.id, "{}");
  EXPECT_EQ(store_->get_template_by_id(tmpl.id)->policy, TemplatePolicy{});
}

TEST_P(StoreConformanceTypedColumns, UnreadableDocumentsAreInternalErrorsNamingTheColumn) {
  auto job = make_job({}, {});
  store_text("provisioner_jobs", "tags", job.id, "not json");
  expect_unreadable("provisioner_jobs.tags", [&] { store_->get_provisioner_job_by_id(job.id); });
  store_text("provisioner_jobs", "tags", job.id, R"({"scope":1})");
  expect_unreadable("provisioner_jobs.tags",
                    [&] { store_->list_provisioner_jobs_by_ids({job.id}); });
  store_text("provisioner_jobs", "tags", job.id, "{}");
  store_text("provisioner_jobs", "input", job.id, R"({"workspace_build_id":"nope"})");
  expect_unreadable("provisioner_jobs.input", [&] { store_->get_provisioner_job_by_id(job.id); });
  store_text("provisioner_jobs", "input", job.id, "[]");
  expect_unreadable("provisioner_jobs.input", [&] { store_->get_provisioner_job_by_id(job.id); });

  auto tmpl = make_template("broken", {});
  store_text("templates", "policy", tmpl.id, "[]");
  expect_unreadable("templates.policy", [&] { store_->get_template_by_id(tmpl.id); });

  auto version = make_version();
  store_text("template_versions", "user_variable_values", version.id, R"({"name":"a"})");
  expect_unreadable("template_versions.user_variable_values",
                    [&] { store_->get_template_version_by_id(version.id); });

  auto resource = make_resource(job.id, {});
  store_text("workspace_resources", "metadata", resource.id, R"([{"key":"k","sensitive":"yes"}])");
  expect_unreadable("workspace_resources.metadata",
                    [&] { store_->get_workspace_resource_by_id(resource.id); });
  store_text("workspace_resources", "metadata", resource.id, "[");
  expect_unreadable("workspace_resources.metadata",
                    [&] { store_->list_workspace_resources_by_job_id(job.id); });
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformanceTypedColumns, ::testing::ValuesIn(kBackends),
                         [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::ValuesIn(kBackends),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace berth::store
