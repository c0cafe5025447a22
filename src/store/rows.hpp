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

namespace berth::store {

// An uploaded archive (a template's source), content-addressed per uploader.
struct FileRow {
  Uuid id;
  std::string hash;  // hex SHA-256 of data
  Uuid created_by;
  TimePoint created_at;
  std::string mimetype;
  std::string data;
};

// A unit of provisioner work: importing a template version or running a workspace build.
struct ProvisionerJobRow {
  Uuid id;
  TimePoint created_at;
  TimePoint updated_at;  // doubles as the heartbeat while running
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> canceled_at;
  std::optional<TimePoint> completed_at;
  std::optional<std::string> error;
  std::string error_code;
  Uuid organization_id;
  Uuid initiator_id;
  std::string provisioner;     // terraform
  std::string storage_method;  // file
  std::string type;  // template_version_import | workspace_build | template_version_dry_run
  Uuid file_id;
  std::string input;  // JSON object
  std::string tags;   // JSON object of string → string
  std::optional<Uuid> worker_id;
  std::string worker_name;
  std::int64_t logs_length = 0;
  bool logs_overflowed = false;
};

// One line a job logged.
struct ProvisionerJobLogRow {
  std::int64_t id = 0;  // global and increasing across jobs
  Uuid job_id;
  TimePoint created_at;
  std::string source;  // provisioner_daemon | provisioner
  std::string level;   // trace | debug | info | warn | error
  std::string stage;
  std::string output;
};

// A template: a name in an organization pointing at its active version, plus policy.
struct TemplateRow {
  Uuid id;
  Uuid organization_id;
  std::string name;
  std::string display_name;
  std::string description;
  std::string icon;
  std::string provisioner;
  Uuid active_version_id;
  Uuid created_by;
  TimePoint created_at;
  TimePoint updated_at;
  bool deleted = false;
  std::string policy;  // JSON object: scheduling and permission settings
};

// One version of a template's source and what its import found in it.
struct TemplateVersionRow {
  Uuid id;
  std::optional<Uuid> template_id;
  Uuid organization_id;
  std::string name;
  std::string message;
  std::string readme;
  Uuid job_id;
  Uuid created_by;
  TimePoint created_at;
  TimePoint updated_at;
  bool archived = false;
  bool has_ai_task = false;
  bool has_external_agent = false;
  std::string user_variable_values = "[]";  // JSON documents, written by the import job
  std::string parameters = "[]";
  std::string variables = "[]";
  std::string presets = "[]";
  std::string resources = "[]";
  std::string external_auth = "[]";
};

// What a finished import writes onto its template version.
struct TemplateVersionImportResult {
  std::string readme;
  bool has_ai_task = false;
  bool has_external_agent = false;
  std::string parameters = "[]";
  std::string variables = "[]";
  std::string presets = "[]";
  std::string resources = "[]";
  std::string external_auth = "[]";
};

}  // namespace berth::store
