#include "coderd/users.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "coderd/names.hpp"
#include "coderd/passwords.hpp"
#include "common/crypto.hpp"
#include "common/error.hpp"

namespace berth::coderd {

namespace {

void require_password_strength(const std::string& password) {
  if (auto problem = password_problem(password))
    throw Error{ErrorCode::invalid, "Password is invalid", {}, {{"password", *problem}}};
}

// Token names are shown in listings and used in URLs: keep them short and printable.
std::optional<std::string> token_name_problem(const std::string& name) {
  if (name.size() > 64) return "must be <= 64 characters";
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f || c == '/') return "must not contain '/' or control characters";
  return std::nullopt;
}

// Coder's httpapi.Forbidden body.
[[noreturn]] void forbidden() {
  throw Error{ErrorCode::forbidden, "Forbidden.",
              "You don't have permission to view this content. If you believe this is a "
              "mistake, please contact your administrator or try signing in with different "
              "credentials."};
}

}  // namespace

Object user_object(const store::UserRow& user) {
  return Object{Resource::user, user.id, std::nullopt};
}

void require_visible(const Subject& subject, Action action, const Object& object) {
  if (!authorize(subject, action, object))
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
}

Users::Users(store::Store& store, const Clock& clock, ApiKeys& api_keys)
    : store_(store), clock_(clock), api_keys_(api_keys) {}

store::UserRow Users::insert_user(store::Store& tx, const CreateUserParams& params,
                                  std::vector<std::string> roles) {
  auto now = clock_.now();
  store::UserRow user{Uuid::random_v4(),
                      params.email,
                      params.username,
                      params.name,
                      params.login_type == "password" ? hash_password(params.password) : "",
                      now,
                      now,
                      params.status,
                      std::move(roles),
                      params.login_type,
                      "",
                      now,
                      false};
  tx.insert_user(user);
  // A new user has no sessions yet, so nothing cached needs dropping; a later change to a
  // member's organizations must call api_keys_.user_changed().
  for (const auto& org : params.organization_ids)
    tx.insert_organization_member(store::OrganizationMemberRow{org, user.id, {}, now, now});
  return user;
}

store::UserRow Users::create_first_user(const FirstUserParams& params) {
  store::UserRow user;
  store_.in_tx([&](store::Store& tx) {
    if (tx.count_users() > 0)
      throw Error{ErrorCode::conflict, "The initial user has already been created."};
    require_password_strength(params.password);
    auto org = tx.get_default_organization();
    if (!org) throw Error{ErrorCode::internal, "The default organization is missing."};
    CreateUserParams create{params.email, params.username, params.name, params.password,
                            "password",   "active",        {org->id}};
    user = insert_user(tx, create, {"owner"});
  });
  return user;
}

store::UserRow Users::create_user(const Subject& actor, const CreateUserParams& params) {
  if (!authorize(actor, Action::create, Object{Resource::user, std::nullopt, std::nullopt}))
    throw Error{ErrorCode::forbidden, "You are not authorized to create users."};
  const auto& t = params.login_type;
  if (t != "password" && t != "none" && t != "github" && t != "oidc")
    throw Error{ErrorCode::invalid,
                fmt::format("Unsupported login type \"{}\" for manually creating new users.", t)};
  if (t != "password" && !params.password.empty())
    throw Error{ErrorCode::invalid,
                fmt::format("Password cannot be set for non-password (\"{}\") authentication.", t)};
  if (params.organization_ids.empty())
    throw Error{ErrorCode::invalid,
                "No organization specified to place the user as a member of. It is required to "
                "specify at least one organization id to place the user in.",
                "required at least 1 value for the array 'organization_ids'",
                {{"organization_ids", "Missing values, this cannot be empty"}}};
  store::UserRow user;
  store_.in_tx([&](store::Store& tx) {
    if (tx.get_user_by_username(params.username) || tx.get_user_by_email(params.email))
      throw Error{ErrorCode::conflict, "User already exists."};
    CreateUserParams resolved = params;
    for (auto& org_id : resolved.organization_ids) {
      if (org_id.is_nil()) org_id = tx.get_default_organization()->id;
      if (!tx.get_organization_by_id(org_id))
        throw Error{ErrorCode::not_found,
                    fmt::format("Organization does not exist with the provided id \"{}\".",
                                org_id.to_string())};
    }
    std::sort(resolved.organization_ids.begin(), resolved.organization_ids.end());
    resolved.organization_ids.erase(
        std::unique(resolved.organization_ids.begin(), resolved.organization_ids.end()),
        resolved.organization_ids.end());
    if (t == "password") require_password_strength(params.password);
    user = insert_user(tx, resolved, {});
  });
  return user;
}

NewApiKey Users::login(const std::string& email, const std::string& password,
                       const std::string& ip_address) {
  auto user = store_.get_user_by_email(email);
  // Hash even when the user is unknown, so that timing does not reveal which e-mails exist.
  static const std::string kDummyHash = hash_password("not a real password");
  bool ok = verify_password(password, user ? user->hashed_password : kDummyHash);
  if (!user || !ok) throw Error{ErrorCode::unauthenticated, "Incorrect email or password."};
  if (user->login_type != "password")
    throw Error{ErrorCode::forbidden,
                fmt::format("Incorrect login type, attempting to use \"password\" but user is of "
                            "login type \"{}\"",
                            user->login_type)};
  if (user->status == "dormant") {
    store_.update_user_status_by_id(user->id, "active", clock_.now());
    api_keys_.user_changed(user->id);
    user->status = "active";
  }
  if (user->status != "active")
    throw Error{ErrorCode::unauthenticated,
                fmt::format("Your account is {}. Contact an admin to reactivate your account.",
                            user->status)};
  return api_keys_.create(user->id, "password", api_keys_.policy().session_duration, "",
                          ip_address);
}

store::UserRow Users::update_roles(const Subject& actor, const store::UserRow& user,
                                   std::vector<std::string> roles) {
  require_visible(actor, Action::read, user_object(user));
  if (actor.user_id == user.id)
    throw Error{ErrorCode::invalid, "You cannot change your own roles."};
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  std::erase(roles, "member");
  for (const auto& role : roles) {
    auto info = find_role(role);
    if (!info) throw Error{ErrorCode::invalid, fmt::format("\"{}\" is not a supported role", role)};
    if (info->organization_scoped)
      throw Error{ErrorCode::invalid, "Must only update site wide roles"};
  }
  // Both the roles granted and the roles taken away must be the actor's to assign.
  std::vector<std::string> changed;
  std::set_symmetric_difference(roles.begin(), roles.end(), user.rbac_roles.begin(),
                                user.rbac_roles.end(), std::back_inserter(changed));
  if (!authorize(actor, Action::update, Object{Resource::assign_role, std::nullopt, std::nullopt}))
    forbidden();
  for (const auto& role : changed)
    if (!can_assign_role(actor, role))
      throw Error{ErrorCode::invalid, fmt::format("not authorized to assign role \"{}\"", role)};
  auto now = clock_.now();
  store_.update_user_roles_by_id(user.id, roles, now);
  api_keys_.user_changed(user.id);
  store::UserRow updated = user;
  updated.rbac_roles = roles;
  updated.updated_at = now;
  return updated;
}

store::UserRow Users::update_status(const Subject& actor, const store::UserRow& user,
                                    const std::string& status) {
  // Coder's guards against locking everyone out come before the permission check.
  if (status == "suspended") {
    if (actor.user_id == user.id) throw Error{ErrorCode::invalid, "You cannot suspend yourself."};
    if (std::find(user.rbac_roles.begin(), user.rbac_roles.end(), "owner") != user.rbac_roles.end())
      throw Error{ErrorCode::invalid,
                  "You cannot suspend a user with the \"owner\" role. You must remove the role "
                  "first."};
  }
  if (!authorize(actor, Action::update, user_object(user))) forbidden();
  auto now = clock_.now();
  store_.update_user_status_by_id(user.id, status, now);
  api_keys_.user_changed(user.id);
  store::UserRow updated = user;
  updated.status = status;
  updated.updated_at = now;
  return updated;
}

void Users::delete_user(const Subject& actor, const store::UserRow& user) {
  if (actor.user_id == user.id) throw Error{ErrorCode::forbidden, "You cannot delete yourself!"};
  // Permission before the workspace check, so that nobody learns whether others own any.
  if (!authorize(actor, Action::delete_, user_object(user))) forbidden();
  store::ListWorkspacesParams owned;
  owned.owner_id = user.id;
  if (store_.count_workspaces(owned) > 0)
    throw Error{ErrorCode::precondition_unmet,
                "You cannot delete a user that has workspaces. Delete their workspaces and try "
                "again!"};
  store_.update_user_deleted_by_id(user.id, clock_.now());
  api_keys_.user_changed(user.id);
}

NewApiKey Users::create_token(const Subject& actor, const store::UserRow& user,
                              std::chrono::seconds lifetime, std::string token_name,
                              const std::string& ip_address) {
  require_visible(actor, Action::read, user_object(user));
  if (!authorize(actor, Action::create, Object{Resource::api_key, user.id, std::nullopt}))
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  const auto& policy = api_keys_.policy();
  if (lifetime.count() < 0)
    throw Error{ErrorCode::invalid, "Failed to validate create API key request.",
                "lifetime must be positive number greater than 0"};
  if (lifetime.count() == 0) lifetime = policy.default_token_lifetime;
  if (lifetime > policy.max_token_lifetime)
    throw Error{ErrorCode::invalid, "Failed to validate create API key request.",
                fmt::format("lifetime must be less than {}h0m0s",
                            policy.max_token_lifetime.count() / 3600)};
  if (token_name.empty()) token_name = random_name();
  if (auto problem = token_name_problem(token_name))
    throw Error{ErrorCode::invalid, "Validation failed.", {}, {{"token_name", *problem}}};
  NewApiKey key;
  store_.in_tx([&](store::Store& tx) {
    if (tx.get_api_key_by_name(user.id, token_name))
      throw Error{ErrorCode::conflict,
                  fmt::format("A token with name \"{}\" already exists.", token_name),
                  {},
                  {{"name", "This value is already in use and should be unique."}}};
    key = api_keys_.create(user.id, "token", lifetime, token_name, ip_address);
  });
  return key;
}

NewApiKey Users::create_session_key(const Subject& actor, const store::UserRow& user,
                                    const std::string& ip_address) {
  require_visible(actor, Action::read, user_object(user));
  if (!authorize(actor, Action::create, Object{Resource::api_key, user.id, std::nullopt}))
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  return api_keys_.create(user.id, "password", api_keys_.policy().default_token_lifetime, "",
                          ip_address);
}

void Users::delete_api_key(const Subject& actor, const store::UserRow& user,
                           const std::string& key_id) {
  auto key = store_.get_api_key_by_id(key_id);
  if (!key || key->user_id != user.id ||
      !authorize(actor, Action::delete_, Object{Resource::api_key, user.id, std::nullopt}))
    throw Error{ErrorCode::not_found, kResourceNotFoundMessage};
  api_keys_.revoke(key_id);
}

}  // namespace berth::coderd
