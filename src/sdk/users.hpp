#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"

namespace berth::sdk {

// codersdk.SlimRole
struct SlimRole {
  std::string name;
  std::string display_name;
  std::string organization_id;
};

// codersdk.User
struct User {
  Uuid id;
  std::string username;
  std::string email;
  std::string name;
  std::string avatar_url;
  TimePoint created_at;
  TimePoint updated_at;
  TimePoint last_seen_at;
  std::string status;
  std::string login_type;
  std::string theme_preference;
  std::vector<Uuid> organization_ids;
  std::vector<SlimRole> roles;
};

// codersdk.Organization
struct Organization {
  Uuid id;
  std::string name;
  std::string display_name;
  std::string description;
  std::string icon;
  bool is_default = false;
  TimePoint created_at;
  TimePoint updated_at;
};

// codersdk.OrganizationMemberWithUserData
struct OrganizationMember {
  Uuid organization_id;
  Uuid user_id;
  std::string username;
  std::string name;
  std::string email;
  std::string avatar_url;
  std::vector<SlimRole> roles;
  std::vector<SlimRole> global_roles;
  TimePoint created_at;
  TimePoint updated_at;
  std::string status;      // the user's: active, dormant or suspended
  std::string login_type;  // the user's
};

// codersdk.APIKey (with the owner's name when listed, as APIKeyWithOwner)
struct ApiKey {
  std::string id;
  Uuid user_id;
  std::optional<std::string> username;
  TimePoint last_used;
  TimePoint expires_at;
  TimePoint created_at;
  TimePoint updated_at;
  std::string login_type;
  std::string scope;
  std::string token_name;
  std::int64_t lifetime_seconds = 0;
};

json::value to_json(const SlimRole& role);
json::value to_json(const User& user);
json::value to_json(const Organization& org);
json::value to_json(const OrganizationMember& member);
json::value to_json(const ApiKey& key);

User user_from_json(const json::value& v);
Organization organization_from_json(const json::value& v);

}  // namespace berth::sdk
