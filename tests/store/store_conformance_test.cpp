// Every Store backend must pass these; a backend joins by adding a factory to kBackends.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "common/error.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

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
    {"sqlite",
     [](const testing::TempDir& dir) {
       return std::make_unique<sqlite::SqliteStore>(dir.file("berth.db"));
     }},
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

TEST_P(StoreConformance, KeepsDataAcrossReopen) {
  auto user = make_user("jack");
  store_->insert_user(user);
  store_->upsert_site_config("deployment_id", "abc");
  store_.reset();
  store_ = GetParam().open(dir_);
  EXPECT_TRUE(store_->get_user_by_id(user.id));
  EXPECT_EQ(store_->get_site_config("deployment_id"), "abc");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::ValuesIn(kBackends),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace berth::store
