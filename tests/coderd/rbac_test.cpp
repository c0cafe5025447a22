#include "coderd/rbac.hpp"

#include <gtest/gtest.h>

namespace berth::coderd {
namespace {

const Uuid kOrg = *Uuid::parse("11111111-1111-4111-8111-111111111111");
const Uuid kOtherOrg = *Uuid::parse("22222222-2222-4222-8222-222222222222");
const Uuid kAlice = *Uuid::parse("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa");
const Uuid kBob = *Uuid::parse("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb");

Subject subject(const Uuid& id, std::vector<std::string> site,
                std::vector<std::string> org_roles = {}) {
  return Subject{id, std::move(site), {{kOrg, std::move(org_roles)}}};
}

struct Case {
  const char* name;
  Subject who;
  Action action;
  Object what;
  bool allowed;
};

TEST(Authorize, FollowsTheRoleTable) {
  Object alice_user{Resource::user, kAlice, std::nullopt};
  Object bob_user{Resource::user, kBob, std::nullopt};
  Object any_user{Resource::user, std::nullopt, std::nullopt};
  Object org{Resource::organization, std::nullopt, kOrg};
  Object other_org{Resource::organization, std::nullopt, kOtherOrg};
  Object bob_key{Resource::api_key, kBob, std::nullopt};
  Object org_template{Resource::template_, std::nullopt, kOrg};
  Object other_template{Resource::template_, std::nullopt, kOtherOrg};
  Object members{Resource::organization_member, std::nullopt, kOrg};
  const Case cases[] = {
      {"owner reads anyone", subject(kAlice, {"owner"}), Action::read, bob_user, true},
      {"owner creates users", subject(kAlice, {"owner"}), Action::create, any_user, true},
      {"member reads self", subject(kBob, {}), Action::read, bob_user, true},
      {"member cannot read others", subject(kBob, {}), Action::read, alice_user, false},
      {"member cannot update own user row", subject(kBob, {}), Action::update, bob_user, false},
      {"member cannot create users", subject(kBob, {}), Action::create, any_user, false},
      {"member manages own keys", subject(kBob, {}), Action::delete_, bob_key, true},
      {"member cannot touch others' keys", subject(kAlice, {}), Action::read, bob_key, false},
      {"member reads own org", subject(kBob, {}), Action::read, org, true},
      {"member cannot read other org", subject(kBob, {}), Action::read, other_org, false},
      {"member reads org members", subject(kBob, {}), Action::read, members, true},
      {"member uses org templates", subject(kBob, {}), Action::use, org_template, true},
      {"member cannot edit templates", subject(kBob, {}), Action::update, org_template, false},
      {"member cannot see other org templates", subject(kBob, {}), Action::read, other_template,
       false},
      {"template admin edits any template", subject(kBob, {"template-admin"}), Action::update,
       other_template, true},
      {"template admin reads users", subject(kBob, {"template-admin"}), Action::read, alice_user,
       true},
      {"template admin cannot create users", subject(kBob, {"template-admin"}), Action::create,
       any_user, false},
      {"user admin creates users", subject(kBob, {"user-admin"}), Action::create, any_user, true},
      {"auditor reads users", subject(kBob, {"auditor"}), Action::read, alice_user, true},
      {"auditor cannot create users", subject(kBob, {"auditor"}), Action::create, any_user, false},
      {"org admin edits org templates", subject(kBob, {}, {"organization-admin"}), Action::update,
       org_template, true},
      {"org admin cannot edit other org", subject(kBob, {}, {"organization-admin"}), Action::update,
       other_template, false},
      {"unknown roles grant nothing", subject(kBob, {"wizard"}), Action::read, alice_user, false},
  };
  for (const auto& c : cases) EXPECT_EQ(authorize(c.who, c.action, c.what), c.allowed) << c.name;
}

TEST(Roles, KnowsBuiltInNamesAndDisplayNames) {
  EXPECT_EQ(find_role("template-admin")->display_name, "Template Admin");
  EXPECT_EQ(find_role("owner")->display_name, "Owner");
  EXPECT_TRUE(find_role("organization-admin")->organization_scoped);
  EXPECT_FALSE(find_role("owner")->organization_scoped);
  EXPECT_FALSE(find_role("root"));
}

TEST(Roles, OnlyOwnersAssignPowerfulRoles) {
  EXPECT_TRUE(can_assign_role(subject(kAlice, {"owner"}), "owner"));
  EXPECT_TRUE(can_assign_role(subject(kAlice, {"user-admin"}), "member"));
  EXPECT_FALSE(can_assign_role(subject(kAlice, {"user-admin"}), "owner"));
  EXPECT_FALSE(can_assign_role(subject(kAlice, {"user-admin"}), "template-admin"));
  EXPECT_FALSE(can_assign_role(subject(kAlice, {}), "auditor"));
}

}  // namespace
}  // namespace berth::coderd
