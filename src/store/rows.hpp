#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/time.hpp"
#include "common/uuid.hpp"

namespace berth::store {

// A user account.
struct UserRow {
  Uuid id;
  std::string email;
  std::string username;
  std::string name;
  std::string hashed_password;  // argon2id string; empty when login_type is not password
  TimePoint created_at;
  TimePoint updated_at;
  std::string status;                   // active | suspended | dormant
  std::vector<std::string> rbac_roles;  // site roles, without the implied `member`
  std::string login_type;               // password | none | github | oidc
  std::string avatar_url;
  TimePoint last_seen_at;
  bool deleted = false;
};

// An organization.
struct OrganizationRow {
  Uuid id;
  std::string name;
  std::string display_name;
  std::string description;
  std::string icon;
  bool is_default = false;
  TimePoint created_at;
  TimePoint updated_at;
};

// A user's membership of an organization, with the organization roles it grants.
struct OrganizationMemberRow {
  Uuid organization_id;
  Uuid user_id;
  std::vector<std::string> roles;
  TimePoint created_at;
  TimePoint updated_at;
};

// A session or API token; only a hash of its secret is kept.
struct ApiKeyRow {
  std::string id;
  std::string hashed_secret;  // SHA-256 of the secret, raw bytes
  Uuid user_id;
  TimePoint last_used;
  TimePoint expires_at;
  TimePoint created_at;
  TimePoint updated_at;
  std::string login_type;  // password | token | ...
  std::int64_t lifetime_seconds = 0;
  std::string ip_address;
  std::string scope;  // all | application_connect
  std::string token_name;
};

// Filters for listing users, as `GET /users?q=` expresses them.
struct ListUsersParams {
  std::string search;  // substring of username or email
  std::vector<std::string> statuses;
  std::vector<std::string> rbac_roles;  // any of
  std::vector<std::string> login_types;
  std::optional<Uuid> after_id;
  std::int64_t offset = 0;
  std::int64_t limit = 0;  // 0: no limit
};

// A page of users plus the number that matched before paging.
struct UserPage {
  std::vector<UserRow> users;
  std::int64_t count = 0;
};

}  // namespace berth::store
