#include "coderd/users.hpp"

#include <gtest/gtest.h>

#include "coderd/fixtures.hpp"
#include "common/error.hpp"

namespace berth::coderd {
namespace {

using namespace std::chrono;

Error error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error";
  return Error{ErrorCode::internal, ""};
}

TEST(Users, FirstUserIsAnActiveOwnerInTheDefaultOrganization) {
  testing::Services s;
  auto owner = s.make_owner();
  EXPECT_EQ(owner.status, "active");
  EXPECT_EQ(owner.rbac_roles, std::vector<std::string>{"owner"});
  auto orgs = s.store.list_organizations_by_user_id(owner.id);
  ASSERT_EQ(orgs.size(), 1u);
  EXPECT_EQ(orgs[0].name, "coder");
  EXPECT_TRUE(orgs[0].is_default);
  auto again = error_of([&] { s.make_owner(); });
  EXPECT_EQ(again.code(), ErrorCode::conflict);
  EXPECT_EQ(again.message(), "The initial user has already been created.");
}

TEST(Users, FirstUserNeedsAStrongPasswordAndWritesNothingOtherwise) {
  testing::Services s;
  auto e = error_of([&] { s.users.create_first_user({"o@example.com", "o", "", "password"}); });
  EXPECT_EQ(e.code(), ErrorCode::invalid);
  EXPECT_EQ(e.message(), "Password is invalid");
  ASSERT_EQ(e.validations().size(), 1u);
  EXPECT_EQ(e.validations()[0].field, "password");
  EXPECT_EQ(s.store.count_users(), 0);
}

TEST(Users, CreateUserNeedsPermissionAndUniqueNames) {
  testing::Services s;
  auto owner = s.make_owner();
  auto member = s.make_member(owner, "mia");
  CreateUserParams p;
  p.email = "new@example.com";
  p.username = "newbie";
  p.password = "SomeStr0ng!Passw0rd";
  p.organization_ids = {Uuid{}};  // nil means the default organization
  auto denied = error_of([&] { s.users.create_user(s.api_keys.subject_for(member), p); });
  EXPECT_EQ(denied.code(), ErrorCode::forbidden);
  EXPECT_EQ(denied.message(), "You are not authorized to create users.");
  p.username = "MIA";
  auto dup = error_of([&] { s.users.create_user(s.api_keys.subject_for(owner), p); });
  EXPECT_EQ(dup.code(), ErrorCode::conflict);
  EXPECT_EQ(dup.message(), "User already exists.");
  p.username = "newbie";
  p.organization_ids = {};
  EXPECT_EQ(error_of([&] { s.users.create_user(s.api_keys.subject_for(owner), p); }).code(),
            ErrorCode::invalid);
  p.organization_ids = {Uuid::random_v4()};
  EXPECT_EQ(error_of([&] { s.users.create_user(s.api_keys.subject_for(owner), p); }).code(),
            ErrorCode::not_found);
  p.organization_ids = {Uuid{}};
  auto made = s.users.create_user(s.api_keys.subject_for(owner), p);
  EXPECT_EQ(s.store.list_organizations_by_user_id(made.id).at(0).is_default, true);
}

TEST(Users, LoginChecksPasswordAndStatus) {
  testing::Services s;
  auto owner = s.make_owner();
  auto bad = error_of([&] { s.users.login("owner@example.com", "wrong", ""); });
  EXPECT_EQ(bad.code(), ErrorCode::unauthenticated);
  EXPECT_EQ(bad.message(), "Incorrect email or password.");
  EXPECT_EQ(error_of([&] { s.users.login("nobody@example.com", "x", ""); }).message(),
            "Incorrect email or password.");
  auto key = s.users.login("OWNER@example.com", "SomeStr0ng!Passw0rd", "");
  EXPECT_EQ(key.row.lifetime_seconds, 24 * 3600);
  EXPECT_EQ(s.api_keys.authenticate(key.token, "")->user.id, owner.id);
  auto member = s.make_member(owner, "sam");
  s.store.update_user_status_by_id(member.id, "suspended", s.clock.now());
  EXPECT_EQ(
      error_of([&] { s.users.login("sam@example.com", "SomeStr0ng!Passw0rd", ""); }).message(),
      "Your account is suspended. Contact an admin to reactivate your account.");
}

TEST(Users, RolesChangeOnlyByPermittedOthers) {
  testing::Services s;
  auto owner = s.make_owner();
  auto member = s.make_member(owner, "rita");
  auto owner_subject = s.api_keys.subject_for(owner);
  EXPECT_EQ(error_of([&] { s.users.update_roles(owner_subject, owner, {}); }).message(),
            "You cannot change your own roles.");
  EXPECT_EQ(error_of([&] { s.users.update_roles(owner_subject, member, {"wizard"}); }).message(),
            "\"wizard\" is not a supported role");
  EXPECT_EQ(error_of([&] {
              s.users.update_roles(owner_subject, member, {"organization-admin"});
            }).message(),
            "Must only update site wide roles");
  auto updated = s.users.update_roles(owner_subject, member, {"template-admin", "member"});
  EXPECT_EQ(updated.rbac_roles, std::vector<std::string>{"template-admin"});
  EXPECT_EQ(s.store.get_user_by_id(member.id)->rbac_roles,
            std::vector<std::string>{"template-admin"});
  auto other = s.make_member(owner, "otto");
  // A template admin may read users but not hand out roles.
  auto e = error_of([&] {
    s.users.update_roles(s.api_keys.subject_for(*s.store.get_user_by_id(member.id)), other,
                         {"owner"});
  });
  EXPECT_EQ(e.code(), ErrorCode::forbidden);
}

TEST(Users, TokensHaveBoundedLifetimesAndUniqueNames) {
  testing::Services s;
  auto owner = s.make_owner();
  auto subject = s.api_keys.subject_for(owner);
  auto key = s.users.create_token(subject, owner, seconds(0), "ci", "");
  EXPECT_EQ(key.row.lifetime_seconds, 7 * 24 * 3600);
  EXPECT_EQ(key.row.login_type, "token");
  auto dup = error_of([&] { s.users.create_token(subject, owner, hours(1), "ci", ""); });
  EXPECT_EQ(dup.code(), ErrorCode::conflict);
  EXPECT_EQ(dup.message(), "A token with name \"ci\" already exists.");
  auto too_long = error_of([&] { s.users.create_token(subject, owner, hours(900000), "x", ""); });
  EXPECT_EQ(too_long.message(), "Failed to validate create API key request.");
  EXPECT_EQ(too_long.detail(), "lifetime must be less than 876600h0m0s");
  auto unnamed = s.users.create_token(subject, owner, hours(1), "", "");
  EXPECT_FALSE(unnamed.row.token_name.empty());
}

TEST(Users, MembersCannotMakeTokensForOthers) {
  testing::Services s;
  auto owner = s.make_owner();
  auto member = s.make_member(owner, "nina");
  auto e = error_of(
      [&] { s.users.create_token(s.api_keys.subject_for(member), owner, hours(1), "x", ""); });
  EXPECT_EQ(e.code(), ErrorCode::not_found);
  auto owners_key =
      s.users.create_token(s.api_keys.subject_for(owner), owner, hours(1), "mine", "");
  e = error_of(
      [&] { s.users.delete_api_key(s.api_keys.subject_for(member), owner, owners_key.row.id); });
  EXPECT_EQ(e.code(), ErrorCode::not_found);
  EXPECT_TRUE(s.store.get_api_key_by_id(owners_key.row.id));
}

}  // namespace
}  // namespace berth::coderd
