#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/time.hpp"
#include "common/uuid.hpp"
#include "sdk/workspace_enums.hpp"

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
  std::string name;  // substring of the full name
  std::optional<TimePoint> created_after, created_before;
  std::optional<TimePoint> last_seen_after, last_seen_before;
  bool match_none = false;  // a filter nothing in Berth can match (service accounts, GitHub ids)
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

// A template variable's value given to an import (codersdk.VariableValue).
struct VariableValue {
  std::string name;
  std::string value;
  bool operator==(const VariableValue&) const = default;
};

// What a provisioner job works on (its `input` column): an import names the version it fills
// in and the variable values it was given (possibly none); a build names its workspace build.
struct ProvisionerJobInput {
  std::optional<Uuid> template_version_id;
  std::optional<Uuid> workspace_build_id;
  std::vector<VariableValue> user_variable_values;  // an import's; stored only for imports
  bool operator==(const ProvisionerJobInput&) const = default;
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
  ProvisionerJobInput input;
  std::map<std::string, std::string> tags;  // all of them must be among a daemon's to run it
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

// A template's scheduling and permission settings (the `policy` column). Fields a stored
// document lacks (or holds with another type) read as these defaults.
struct TemplatePolicy {
  std::int64_t default_ttl_ms = 0;
  std::int64_t activity_bump_ms = 3'600'000;
  std::vector<std::string> autostop_days_of_week;
  std::int64_t autostop_weeks = 1;
  std::vector<std::string> autostart_days_of_week = {"monday", "tuesday",  "wednesday", "thursday",
                                                     "friday", "saturday", "sunday"};
  bool allow_user_autostart = true;
  bool allow_user_autostop = true;
  bool allow_user_cancel_workspace_jobs = false;
  bool require_active_version = false;
  std::int64_t failure_ttl_ms = 0;
  std::int64_t time_til_dormant_ms = 0;
  std::int64_t time_til_dormant_autodelete_ms = 0;
  std::string deprecation_message;
  std::string max_port_share_level = "owner";
  bool use_classic_parameter_flow = false;
  bool operator==(const TemplatePolicy&) const = default;
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
  TemplatePolicy policy;
};

// Filters for listing live templates (the `q=` grammar, already resolved to ids); empty ones
// match everything. Names compare ASCII case-insensitively.
struct ListTemplatesParams {
  std::optional<Uuid> organization_id;
  std::string exact_name;
  std::string exact_display_name;
  std::string name_contains;
  std::string display_name_contains;
  std::vector<Uuid> ids;  // any of; empty = all
  std::optional<Uuid> created_by;
  std::optional<bool> deprecated;  // whether the policy has a deprecation message
  // Of the active version; a template whose active version is missing matches neither value.
  std::optional<bool> has_ai_task;
  std::optional<bool> has_external_agent;
  // The caller's read authorization, applied in the query: every template, or those in
  // `readable_organization_ids` (templates have no owner).
  bool readable_all = true;
  std::vector<Uuid> readable_organization_ids;
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
  std::vector<VariableValue> user_variable_values;  // what the import was given
  // Pass-through documents, written by the import job: codersdk-shaped JSON arrays
  // (TemplateVersionParameter, TemplateVersionVariable, Preset, WorkspaceResource,
  // TemplateVersionExternalAuth) that the API serves as they are.
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

namespace berth::store {

// A workspace: a named environment of one owner, made from a template.
struct WorkspaceRow {
  Uuid id;
  TimePoint created_at;
  TimePoint updated_at;
  Uuid owner_id;
  Uuid organization_id;
  Uuid template_id;
  bool deleted = false;
  std::string name;
  std::optional<std::string> autostart_schedule;
  std::optional<std::int64_t> ttl_ms;
  TimePoint last_used_at;
  std::optional<TimePoint> dormant_at;
  std::optional<TimePoint> deleting_at;
  std::string automatic_updates = "never";
  bool favorite = false;
  std::optional<TimePoint> next_start_at;
};

// One start, stop or delete of a workspace, run by a provisioner job.
struct WorkspaceBuildRow {
  Uuid id;
  TimePoint created_at;
  TimePoint updated_at;
  Uuid workspace_id;
  Uuid template_version_id;
  std::int64_t build_number = 0;
  sdk::WorkspaceTransition transition = sdk::WorkspaceTransition::start;
  Uuid initiator_id;
  std::string provisioner_state;  // opaque bytes the provisioner gave back
  Uuid job_id;
  std::optional<TimePoint> deadline;
  std::optional<TimePoint> max_deadline;
  std::string reason = "initiator";
  std::int64_t daily_cost = 0;
  std::optional<Uuid> template_version_preset_id;
  bool has_ai_task = false;
  bool has_external_agent = false;
};

// A rich parameter value a build used.
struct BuildParameterRow {
  std::string name;
  std::string value;
};

// One coder_metadata item shown on a resource (codersdk.WorkspaceResourceMetadata).
struct ResourceMetadataItem {
  std::string key;
  std::string value;
  bool sensitive = false;
  bool operator==(const ResourceMetadataItem&) const = default;
};

// Something a build created (a process, a container, a VM...).
struct WorkspaceResourceRow {
  Uuid id;
  TimePoint created_at;
  Uuid job_id;
  sdk::WorkspaceTransition transition = sdk::WorkspaceTransition::start;
  std::string type;
  std::string name;
  bool hide = false;
  std::string icon;
  std::int64_t daily_cost = 0;
  std::vector<ResourceMetadataItem> metadata;
};

// An agent a build defined; `config` holds its static definition (os, dir, env, apps,
// scripts, display apps) as codersdk-shaped JSON. Pass-through document: the provisioner writes
// it in codersdk.WorkspaceAgent's shape and the API serves its fields as they are; the few
// fields the rules read are picked out where needed.
struct WorkspaceAgentRow {
  Uuid id;
  TimePoint created_at;
  TimePoint updated_at;
  Uuid resource_id;
  std::string name;
  std::string auth_token_hash;  // hex SHA-256 of the agent token
  std::string config;
  std::optional<TimePoint> first_connected_at;
  std::optional<TimePoint> last_connected_at;
  std::optional<TimePoint> disconnected_at;
  sdk::WorkspaceAgentLifecycle lifecycle_state = sdk::WorkspaceAgentLifecycle::created;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ready_at;
  std::string version;
  std::string api_version;
  std::string expanded_directory;
  std::int64_t logs_length = 0;
  bool logs_overflowed = false;
  bool deleted = false;
};

// The latest stats an agent reported: agentsdk.Stats as JSON, and the round trip of its
// heartbeat to the server.
struct WorkspaceAgentStatsRow {
  Uuid agent_id;
  TimePoint updated_at;
  std::string stats = "{}";
  std::optional<std::int64_t> latency_us;
};

// One line an agent logged (its scripts' output, or anything sent to PATCH /me/logs).
struct WorkspaceAgentLogRow {
  std::int64_t id = 0;  // increasing; `after` pages by it
  Uuid agent_id;
  TimePoint created_at;
  std::string output;
  std::string level = "info";  // trace | debug | info | warn | error
  Uuid log_source_id;
};

// Where an agent's log lines come from (a script, or "External").
struct WorkspaceAgentLogSourceRow {
  Uuid id;
  Uuid agent_id;
  TimePoint created_at;
  std::string display_name;
  std::string icon;
};

// The latest health of one app with a healthcheck: initializing | healthy | unhealthy.
struct WorkspaceAppHealthRow {
  Uuid agent_id;
  std::string app_id;
  std::string health;
  TimePoint updated_at;
};

// The latest value of one agent metadata item.
struct WorkspaceAgentMetadataRow {
  Uuid agent_id;
  std::string key;
  std::string value;
  std::string error;
  TimePoint collected_at;
};

// One run of an agent script: codersdk.AgentScriptTiming.
struct WorkspaceAgentScriptTimingRow {
  Uuid agent_id;
  std::string script_id;
  std::string display_name;
  TimePoint started_at;
  TimePoint ended_at;
  std::int64_t exit_code = 0;
  std::string stage;   // start | stop | cron
  std::string status;  // ok | exit_failure | timed_out | pipes_left_open
};

// A build parameter a listed workspace's latest build must have (names and values compare
// ASCII case-insensitively); without a value, any value matches.
struct BuildParameterMatch {
  std::string name;
  std::optional<std::string> value;
};

// Filters for listing workspaces (the `q=` grammar, already resolved to ids); empty ones
// match everything.
struct ListWorkspacesParams {
  std::optional<Uuid> owner_id;
  std::string name_contains;
  std::optional<std::string> exact_name;
  std::vector<Uuid> template_ids;  // any of; empty = all
  bool filter_templates = false;   // template given but matched none → empty result
  std::vector<Uuid> ids;
  std::optional<Uuid> organization_id;
  std::optional<bool> dormant;
  std::optional<TimePoint> last_used_after;
  std::optional<TimePoint> last_used_before;
  // The caller's read authorization, applied in the query: every workspace, or those owned
  // by `readable_owner_id` plus those in `readable_organization_ids`.
  bool readable_all = true;
  std::optional<Uuid> readable_owner_id;
  std::vector<Uuid> readable_organization_ids;
  // Filters on the latest build; those marked "needs a build" exclude workspaces without one.
  std::optional<sdk::WorkspaceStatus> status;
  std::optional<bool> outdated;  // the latest build is not of the active version
  std::optional<bool> has_ai_task;
  std::optional<bool> has_external_agent;       // needs a build
  std::vector<BuildParameterMatch> parameters;  // all of these; needs a build
};

}  // namespace berth::store

namespace berth::store {

// An AI task: a prompt worked on by an AI agent in a workspace made for it.
struct TaskRow {
  Uuid id;
  Uuid organization_id;
  Uuid owner_id;
  std::string name;
  std::string display_name;
  std::optional<Uuid> workspace_id;
  Uuid template_version_id;
  std::string prompt;
  TimePoint created_at;
  std::optional<TimePoint> deleted_at;
};

// Filters for listing live tasks (the `q=` grammar, already resolved to ids); empty ones
// match everything. Only tasks whose workspace exists (deleted or not) are listed.
struct ListTasksParams {
  std::optional<Uuid> owner_id;
  std::optional<Uuid> organization_id;
  // The task's status as coderd::Tasks::view derives it: pending, initializing, active,
  // paused, error or unknown.
  std::optional<std::string> status;
  // The caller's read authorization on the task's workspace, applied in the query: every
  // workspace, or those owned by `readable_owner_id` plus those in `readable_organization_ids`.
  bool readable_all = true;
  std::optional<Uuid> readable_owner_id;
  std::vector<Uuid> readable_organization_ids;
};

// Which agent and app (the coder_ai_task's) serve a task in one build of its workspace.
struct TaskWorkspaceAppRow {
  Uuid task_id;
  std::int64_t build_number = 0;
  std::optional<Uuid> agent_id;
  std::optional<std::string> app_id;
};

// The last conversation an agent uploaded for a task (agentapi's messages JSON).
struct TaskSnapshotRow {
  Uuid task_id;
  std::string log_snapshot;
  TimePoint created_at;
};

// A state an app reported (working, idle, complete, failure) with its message.
struct WorkspaceAppStatusRow {
  Uuid id;
  TimePoint created_at;
  Uuid agent_id;
  Uuid workspace_id;
  std::string app_id;
  std::string state;
  std::string message;
  std::string uri;
};

}  // namespace berth::store

namespace berth::store {

// A workspace with what listing sorts and filters by, read in one query: its owner's name and
// its latest build's transition, job timestamps and versions.
struct WorkspaceSummary {
  WorkspaceRow workspace;
  std::string owner_username;
  std::optional<sdk::WorkspaceTransition> latest_transition;  // none without a build
  std::optional<TimePoint> job_started_at;
  std::optional<TimePoint> job_completed_at;
  std::optional<TimePoint> job_canceled_at;
  std::optional<std::string> job_error;
  bool has_ai_task = false;
  std::optional<Uuid> latest_version_id;
  Uuid active_version_id;
};

// One audited action: who did what to which resource, from where, and how it ended.
struct AuditLogRow {
  Uuid id;
  TimePoint time;
  std::optional<Uuid> user_id;  // none when the caller was not signed in (a failed login)
  std::optional<Uuid> organization_id;
  std::string ip;
  std::string user_agent;
  std::string resource_type;  // Coder's ResourceType: user, workspace, template, ...
  std::optional<Uuid> resource_id;
  std::string resource_target;  // the resource's name
  std::string action;           // Coder's AuditAction: create, write, delete, start, ...
  std::int64_t status_code = 0;
  // Pass-through document: Coder's free-form `additional_fields` (a JSON object whose keys
  // depend on the resource type), served as written.
  std::string additional_fields = "{}";
  Uuid request_id;
};

// Filters of GET /audit (its `q=`, resolved to ids); empty ones match everything.
struct ListAuditLogsParams {
  std::optional<std::string> resource_type;
  std::optional<Uuid> resource_id;
  std::optional<std::string> action;
  std::optional<Uuid> user_id;
  std::optional<Uuid> organization_id;
  std::optional<TimePoint> time_from;  // inclusive
  std::optional<TimePoint> time_to;    // exclusive
  // The caller's read authorization: everything, or the listed organizations only.
  bool readable_all = true;
  std::vector<Uuid> readable_organization_ids;
};

// One `berth server` process on the database (Coder's replica), kept alive by its heartbeat.
// Every member has a default, so that a row is filled by name (designated initializers).
struct ReplicaRow {
  Uuid id{};
  std::string hostname{};
  std::string relay_address{};  // where the other replicas reach this one
  std::int64_t region_id = 0;
  std::string version{};
  TimePoint started_at{};
  TimePoint updated_at{};                 // its last heartbeat
  std::optional<TimePoint> stopped_at{};  // set when it shut down cleanly
  std::string error{};                    // what it last found wrong; empty when healthy
  std::int64_t database_latency_us = 0;
};

// A provisioner key: the secret external provisioner daemons of one organization present; the
// daemons it lets in carry its tags. Only a hash of the secret is kept.
struct ProvisionerKeyRow {
  Uuid id{};
  TimePoint created_at{};
  Uuid organization_id{};
  std::string name{};           // unique in the organization, lower case
  std::string hashed_secret{};  // SHA-256 of the secret, lower-case hex
  std::map<std::string, std::string> tags{};
};

// A provisioner daemon as last heard from (Coder's provisioner_daemons): written each time it
// asks for a job or heartbeats one.
struct ProvisionerDaemonRow {
  Uuid id{};
  TimePoint created_at{};
  std::optional<Uuid> organization_id{};  // none: built in, serving every organization
  std::string name{};
  std::optional<Uuid> key_id{};  // the provisioner key it presented; none: built in
  std::map<std::string, std::string> tags{};
  std::vector<std::string> provisioners{};
  std::string version{};
  std::string api_version{};
  TimePoint last_seen_at{};
  std::optional<Uuid> current_job_id{};   // the job it acquired last, until that job ends
  std::optional<Uuid> previous_job_id{};  // the job it ran before
};

// Who claims a job (acquire_provisioner_job).
struct AcquireJobParams {
  Uuid worker_id{};
  std::string worker_name{};
  std::optional<Uuid> organization_id{};  // none: jobs of every organization (built-in daemons)
  std::map<std::string, std::string> tags{};
  std::vector<std::string> provisioners{};
  TimePoint now{};
};

}  // namespace berth::store
