#pragma once

// Users in several roles and organizations, for the tests that compare a list filtered and
// authorized in SQL with the rules applied one row at a time.

#include <random>
#include <string>
#include <vector>

#include "coderd/fixtures.hpp"
#include "coderd/rbac.hpp"

namespace berth::coderd::testing {

inline std::string lower(std::string v) {
  for (auto& c : v) c = char(std::tolower(static_cast<unsigned char>(c)));
  return v;
}

// A caller of a list: who it is and its roles.
struct ListSubject {
  std::string what;
  Subject subject;
};

// The deployment's owner and, beside the default organization, two more ("other" and
// "third"), with users whose site and organization roles cover every built-in role.
struct Population {
  Services& s;
  TimePoint t = start_time();
  store::UserRow owner;
  Uuid default_org;
  Uuid other_org = Uuid::random_v4();
  Uuid third_org = Uuid::random_v4();
  std::vector<store::UserRow> users;  // the owner first

  explicit Population(Services& services) : s(services) {
    owner = s.make_owner();
    default_org = s.store.get_default_organization()->id;
    s.store.insert_organization({other_org, "other", "Other", "", "", false, t, t});
    s.store.insert_organization({third_org, "third", "Third", "", "", false, t, t});
    users.push_back(owner);
    // Mixed-case usernames; each line: site roles, then memberships with their roles.
    add("alice", {}, {{default_org, {}}});
    add("Bob", {}, {{default_org, {}}, {other_org, {"organization-admin"}}});
    add("carol", {}, {{other_org, {}}});
    add("DAVE", {"template-admin"}, {{default_org, {}}});
    add("erin", {"auditor"}, {{default_org, {}}});
    add("Frank", {"user-admin"}, {{third_org, {}}});
    add("grace", {}, {{default_org, {}}, {third_org, {"organization-template-admin"}}});
    add("heidi", {}, {{other_org, {"organization-auditor"}}});
    add("ivan", {}, {});  // in no organization
  }

  void add(const std::string& name, std::vector<std::string> site_roles,
           std::vector<std::pair<Uuid, std::vector<std::string>>> memberships) {
    store::UserRow u{Uuid::random_v4(), lower(name) + "@example.com", name,       "", "", t,    t,
                     "active",          std::move(site_roles),        "password", "", t,  false};
    s.store.insert_user(u);
    for (auto& [org, roles] : memberships)
      s.store.insert_organization_member({org, u.id, std::move(roles), t, t});
    users.push_back(u);
  }

  std::vector<ListSubject> subjects() {
    std::vector<ListSubject> out;
    for (const auto& u : users) {
      auto user = *s.store.get_user_by_id(u.id);
      out.push_back({user.username, s.api_keys.subject_for(user)});
    }
    return out;
  }
};

}  // namespace berth::coderd::testing
