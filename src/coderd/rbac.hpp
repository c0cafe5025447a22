#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/uuid.hpp"

namespace berth::coderd {

// The kinds of object permissions are granted on.
enum class Resource {
  user,
  organization,
  organization_member,
  api_key,
  assign_role,
  assign_org_role,
  template_,
  file,
  workspace,
  provisioner_job,
  provisioner_daemon,  // provisioner daemons and the keys they present
  audit_log,
  system,
};

// What a subject wants to do to an object.
enum class Action { create, read, update, delete_, read_personal, update_personal, use };

// Who is acting: a user with site roles and, per organization, organization roles.
// `member` and `organization-member` are always implied and need not be listed.
struct Subject {
  Uuid user_id;
  std::vector<std::string> site_roles;
  std::map<Uuid, std::vector<std::string>> organization_roles;  // every org the user is in
};

// What is acted on: its type, and the owner and organization it belongs to, if any.
struct Object {
  Resource type;
  std::optional<Uuid> owner_id;
  std::optional<Uuid> organization_id;
};

// A built-in role's name and the name people see.
struct RoleInfo {
  std::string_view name;
  std::string_view display_name;
  bool organization_scoped;
};

// Decides every permission question from one table of built-in roles.
bool authorize(const Subject& subject, Action action, const Object& object);

// The objects of one type a subject may act on, as a filter a query can apply: every object,
// or those it owns plus those in the listed organizations.
struct AuthorizedScope {
  bool everything = false;
  bool owned = false;
  std::vector<Uuid> organizations;
};

// Where authorize() allows `action` on objects of type `resource`, for lists filtered in the
// store: an object is allowed exactly when it falls in the scope.
AuthorizedScope authorized_scope(const Subject& subject, Action action, Resource resource);

// The built-in role called `name`, if there is one.
std::optional<RoleInfo> find_role(std::string_view name);

// Roles `subject` may grant or take away (site roles when `organization` is empty).
bool can_assign_role(const Subject& subject, std::string_view role);

}  // namespace berth::coderd
