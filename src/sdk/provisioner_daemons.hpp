#pragma once

// Provisioner keys and daemons as Coder's API shows them (codersdk.ProvisionerKey,
// codersdk.ProvisionerDaemon), and Berth's own protocol between a server and its external
// provisioner daemons (`berth provisionerd start`): what a daemon is handed with a job and what
// it sends back. Coder's daemons speak dRPC over a WebSocket instead; Berth's is JSON over HTTP.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "sdk/workspace_enums.hpp"

namespace berth::sdk {

// The header that carries a provisioner key (Coder's name for it).
inline constexpr const char* kProvisionerKeyHeader = "Coder-Provisioner-Daemon-Key";
// The version of Berth's daemon protocol, reported as a daemon's api_version.
inline constexpr const char* kProvisionerDaemonApiVersion = "1.0";

// codersdk.ProvisionerKey: a key as listed (never its secret).
struct ProvisionerKey {
  Uuid id;
  TimePoint created_at;
  Uuid organization;
  std::string name;
  std::map<std::string, std::string> tags;
};
json::value to_json(const ProvisionerKey& key);
ProvisionerKey provisioner_key_from_json(const json::value& v);

// codersdk.ProvisionerDaemonStatus.
enum class ProvisionerDaemonStatus { offline, idle, busy };
template <>
struct EnumNames<ProvisionerDaemonStatus> {
  static constexpr std::array<std::string_view, 3> values{"offline", "idle", "busy"};
};

// codersdk.ProvisionerDaemonJob: what a daemon runs (or ran last).
struct ProvisionerDaemonJob {
  Uuid id;
  ProvisionerJobStatus status = ProvisionerJobStatus::pending;
  std::string template_name;
  std::string template_icon;
  std::string template_display_name;
};

// codersdk.ProvisionerDaemon.
struct ProvisionerDaemon {
  Uuid id;
  Uuid organization_id;
  std::optional<Uuid> key_id;
  std::string key_name;
  TimePoint created_at;
  std::optional<TimePoint> last_seen_at;
  std::string name;
  std::string version;
  std::string api_version;
  std::vector<std::string> provisioners;
  std::map<std::string, std::string> tags;
  ProvisionerDaemonStatus status = ProvisionerDaemonStatus::offline;
  std::optional<ProvisionerDaemonJob> current_job;
  std::optional<ProvisionerDaemonJob> previous_job;
};
json::value to_json(const ProvisionerDaemon& daemon);
ProvisionerDaemon provisioner_daemon_from_json(const json::value& v);

// A template version's source, unpacked, and the variable values its creator gave.
struct ImportRequest {
  std::map<std::string, std::string> files;  // path → contents
  std::map<std::string, std::string> variable_values;
};

// Everything a workspace build needs to know besides the template source.
struct BuildRequest {
  std::map<std::string, std::string> files;  // the template version's archive, unpacked
  std::map<std::string, std::string> variable_values;
  std::map<std::string, std::string> parameter_values;
  WorkspaceTransition transition = WorkspaceTransition::start;
  std::string state;  // what the previous build left (empty for the first)
  // The previous build did not succeed (failed, canceled, or interrupted by a crash): what it
  // created may be recorded nowhere, so the provisioner looks for leftovers.
  bool previous_build_failed = false;
  std::string workspace_id;
  std::string workspace_name;
  std::string workspace_dir;  // default home of the workspace's local resources
  std::string owner_id;
  std::string owner_name;
  std::string owner_email;
  std::string owner_full_name;
  std::string template_id;
  std::string template_name;
  std::string template_version;
  std::string task_id;  // set when the workspace belongs to an AI task
  std::string task_prompt;
};

// What a successful build produced.
struct BuildResponse {
  std::string state;
  json::array resources;                      // codersdk.WorkspaceResource documents
  std::map<std::string, std::string> tokens;  // agent id → agent token
  bool has_ai_task = false;
  std::string ai_task_app_id;  // the coder_app a coder_ai_task points at
  std::int64_t daily_cost = 0;
};

// What a successful import found: its documents are JSON texts, as the version stores them.
struct TemplateImportResult {
  std::string readme;
  bool has_ai_task = false;
  bool has_external_agent = false;
  std::string parameters = "[]";
  std::string variables = "[]";
  std::string presets = "[]";
  std::string resources = "[]";
  std::string external_auth = "[]";
};

// One line a job logged.
struct ProvisionerJobLogLine {
  std::string level = "info";
  std::string stage;
  std::string output;
  std::string source = "provisioner";
};

// POST /provisionerdaemons/jobs/acquire: who asks, and how long it may wait for a job.
struct AcquireJobRequest {
  Uuid daemon_id;
  std::string name;
  std::string version;
  std::vector<std::string> provisioners = {"terraform"};
  std::int64_t wait_ms = 0;
};

// A job a daemon acquired, with everything it needs to run it: the template archive and the
// variable values, and for a build the rest of its BuildRequest (without files, which the
// archive holds, and workspace_dir, which is the daemon's own).
struct AcquiredJob {
  Uuid id;
  std::string type;     // template_version_import | workspace_build | ...
  std::string archive;  // the template version's tar file (base64 on the wire)
  std::map<std::string, std::string> variable_values;
  std::optional<BuildRequest> build;
};

json::value to_json(const AcquireJobRequest& request);
json::value to_json(const AcquiredJob& job);
AcquiredJob acquired_job_from_json(const json::value& v);
json::value to_json(const ProvisionerJobLogLine& line);
ProvisionerJobLogLine job_log_line_from_json(const json::value& v);
json::value to_json(const BuildRequest& request);  // without files and workspace_dir
BuildRequest build_request_from_json(const json::value& v);
json::value to_json(const BuildResponse& response);
BuildResponse build_response_from_json(const json::value& v);
json::value to_json(const TemplateImportResult& result);
TemplateImportResult import_result_from_json(const json::value& v);

// Bytes as base64 and back; decoding throws Error{invalid} naming `field` on bad input.
std::string base64_encode(std::string_view bytes);
std::string base64_decode(std::string_view text, std::string_view field);

}  // namespace berth::sdk
