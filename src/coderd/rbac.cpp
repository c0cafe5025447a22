#include "coderd/rbac.hpp"

#include <algorithm>
#include <array>

namespace berth::coderd {

namespace {

// A permission: a resource (or any, when empty) and an action (or any, when empty).
struct Permission {
  std::optional<Resource> resource;
  std::optional<Action> action;
};

constexpr Permission kAll{std::nullopt, std::nullopt};
constexpr Permission allow(Resource r, Action a) {
  return Permission{r, a};
}
constexpr Permission allow_any(Resource r) {
  return Permission{r, std::nullopt};
}

// Where a role's permissions apply: anywhere (site), in the subject's organization (org),
// or on objects the subject owns (user).
struct RoleDefinition {
  RoleInfo info;
  std::vector<Permission> site;
  std::vector<Permission> org;
  std::vector<Permission> user;
};

const std::vector<RoleDefinition>& roles() {
  using R = Resource;
  using A = Action;
  // Owners of an object may do anything to what they own, except edit their own user row
  // beyond personal fields or their own memberships: that is for admins (as in Coder).
  static const std::vector<Permission> owned = {allow_any(R::api_key),
                                                allow_any(R::workspace),
                                                allow_any(R::file),
                                                allow(R::user, A::read),
                                                allow(R::user, A::read_personal),
                                                allow(R::user, A::update_personal),
                                                allow(R::provisioner_job, A::read)};
  static const std::vector<RoleDefinition> table = {
      {{"owner", "Owner", false}, {kAll}, {}, {}},
      {{"member", "Member", false}, {allow(R::assign_role, A::read)}, {}, owned},
      {{"template-admin", "Template Admin", false},
       {allow_any(R::template_), allow_any(R::file), allow(R::workspace, A::read),
        allow(R::user, A::read), allow(R::organization, A::read),
        allow(R::organization_member, A::read), allow_any(R::provisioner_job),
        allow_any(R::provisioner_daemon)},
       {},
       {}},
      {{"user-admin", "User Admin", false},
       {allow_any(R::user), allow_any(R::organization_member), allow_any(R::assign_role),
        allow_any(R::assign_org_role), allow(R::organization, A::read)},
       {},
       {}},
      {{"auditor", "Auditor", false},
       {allow(R::audit_log, A::read), allow(R::user, A::read), allow(R::template_, A::read),
        allow(R::organization, A::read), allow(R::organization_member, A::read)},
       {},
       {}},
      {{"organization-admin", "Organization Admin", true}, {}, {kAll}, {}},
      {{"organization-member", "", true},
       {},
       {allow(R::organization, A::read), allow(R::organization_member, A::read),
        allow(R::template_, A::read), allow(R::template_, A::use), allow(R::file, A::read)},
       {}},
      {{"organization-template-admin", "Organization Template Admin", true},
       {},
       {allow_any(R::template_), allow_any(R::file), allow(R::workspace, A::read),
        allow(R::organization_member, A::read), allow_any(R::provisioner_job),
        allow_any(R::provisioner_daemon)},
       {}},
      {{"organization-user-admin", "Organization User Admin", true},
       {},
       {allow_any(R::organization_member), allow_any(R::assign_org_role)},
       {}},
      {{"organization-auditor", "Organization Auditor", true},
       {},
       {allow(R::audit_log, A::read), allow(R::template_, A::read),
        allow(R::organization_member, A::read)},
       {}},
  };
  return table;
}

const RoleDefinition* definition(std::string_view name) {
  for (const auto& role : roles())
    if (role.info.name == name) return &role;
  return nullptr;
}

bool grants(const std::vector<Permission>& permissions, Action action, Resource resource) {
  return std::any_of(permissions.begin(), permissions.end(), [&](const Permission& p) {
    return (!p.resource || *p.resource == resource) && (!p.action || *p.action == action);
  });
}

std::vector<const RoleDefinition*> site_roles_of(const Subject& subject) {
  std::vector<const RoleDefinition*> out = {definition("member")};
  for (const auto& name : subject.site_roles)
    if (auto d = definition(name)) out.push_back(d);
  return out;
}

}  // namespace

bool authorize(const Subject& subject, Action action, const Object& object) {
  auto site = site_roles_of(subject);
  for (auto role : site)
    if (grants(role->site, action, object.type)) return true;
  if (object.owner_id && *object.owner_id == subject.user_id) {
    for (auto role : site)
      if (grants(role->user, action, object.type)) return true;
  }
  if (object.organization_id) {
    auto it = subject.organization_roles.find(*object.organization_id);
    if (it != subject.organization_roles.end()) {
      std::vector<const RoleDefinition*> org = {definition("organization-member")};
      for (const auto& name : it->second)
        if (auto d = definition(name)) org.push_back(d);
      for (auto role : org)
        if (grants(role->org, action, object.type)) return true;
    }
  }
  return false;
}

AuthorizedScope authorized_scope(const Subject& subject, Action action, Resource resource) {
  AuthorizedScope scope;
  auto site = site_roles_of(subject);
  for (auto role : site) {
    scope.everything = scope.everything || grants(role->site, action, resource);
    scope.owned = scope.owned || grants(role->user, action, resource);
  }
  if (scope.everything) return scope;
  for (const auto& [organization, names] : subject.organization_roles) {
    std::vector<const RoleDefinition*> org = {definition("organization-member")};
    for (const auto& name : names)
      if (auto d = definition(name)) org.push_back(d);
    if (std::any_of(org.begin(), org.end(),
                    [&](auto role) { return grants(role->org, action, resource); }))
      scope.organizations.push_back(organization);
  }
  return scope;
}

std::optional<RoleInfo> find_role(std::string_view name) {
  if (auto d = definition(name)) return d->info;
  return std::nullopt;
}

bool can_assign_role(const Subject& subject, std::string_view role) {
  auto has = [&](std::string_view name) {
    return std::find(subject.site_roles.begin(), subject.site_roles.end(), name) !=
           subject.site_roles.end();
  };
  if (has("owner")) return true;
  // User admins hand out only the roles that grant no more than their own.
  if (has("user-admin")) return role == "member" || role == "organization-member";
  return false;
}

}  // namespace berth::coderd
