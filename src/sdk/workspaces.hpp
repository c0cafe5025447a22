#pragma once

// Wire types of the workspace family (codersdk/workspaces.go, workspacebuilds.go,
// workspaceresources.go, workspaceagents.go): rendered by api/, parsed by cli/.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "sdk/provisioner_jobs.hpp"
#include "sdk/workspace_enums.hpp"

namespace berth::sdk {

// codersdk.WorkspaceAgentHealth
struct WorkspaceAgentHealth {
  bool healthy = false;
  std::string reason;  // why not, when not
};

// codersdk.WorkspaceAgent. What the build defined (architecture, operating_system, directory,
// environment_variables, apps, scripts, display_apps, connection_timeout_seconds, ...) stays
// the JSON object `definition`, whose keys of Coder's WorkspaceAgent come first on the wire in
// the order the build wrote them (environment_variables always empty: the values are for the
// agent's manifest only); the typed fields below are written over it. Parsing keeps the whole
// object there.
struct WorkspaceAgent {
  json::object definition;
  Uuid id;
  std::string name;
  Uuid resource_id;
  TimePoint created_at;
  TimePoint updated_at;
  WorkspaceAgentStatus status = WorkspaceAgentStatus::connecting;
  WorkspaceAgentLifecycle lifecycle_state = WorkspaceAgentLifecycle::created;
  std::optional<TimePoint> first_connected_at;
  std::optional<TimePoint> last_connected_at;
  std::optional<TimePoint> disconnected_at;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ready_at;
  std::string version;
  std::string api_version;
  std::string expanded_directory;
  std::int64_t logs_length = 0;
  bool logs_overflowed = false;
  WorkspaceAgentHealth health;
  std::optional<double> latency_ms;  // the heartbeat's round trip to the server, when measured
  json::array log_sources;           // codersdk.WorkspaceAgentLogSource[]
};

// codersdk.WorkspaceResource
struct WorkspaceResource {
  Uuid id;
  TimePoint created_at;
  Uuid job_id;
  WorkspaceTransition workspace_transition = WorkspaceTransition::start;
  std::string type;
  std::string name;
  bool hide = false;
  std::string icon;
  std::vector<WorkspaceAgent> agents;
  json::value metadata = json::array{};  // codersdk.WorkspaceResourceMetadata[] as stored
  std::int64_t daily_cost = 0;
};

// codersdk.MatchedProvisioners
struct MatchedProvisioners {
  std::int64_t count = 0;
  std::int64_t available = 0;
  std::optional<TimePoint> most_recently_seen;
};

// codersdk.WorkspaceBuild
struct WorkspaceBuild {
  Uuid id;
  TimePoint created_at;
  TimePoint updated_at;
  Uuid workspace_id;
  std::string workspace_name;
  Uuid workspace_owner_id;
  std::string workspace_owner_name;
  std::string workspace_owner_avatar_url;
  Uuid template_version_id;
  std::string template_version_name;
  std::int64_t build_number = 0;
  WorkspaceTransition transition = WorkspaceTransition::start;
  Uuid initiator_id;
  std::string initiator_name;
  std::optional<ProvisionerJob> job;
  std::string reason;
  std::vector<WorkspaceResource> resources;
  std::optional<TimePoint> deadline;
  std::optional<TimePoint> max_deadline;
  WorkspaceStatus status = WorkspaceStatus::pending;
  std::int64_t daily_cost = 0;
  MatchedProvisioners matched_provisioners;
  std::optional<Uuid> template_version_preset_id;
  bool has_ai_task = false;
  bool has_external_agent = false;
};

// codersdk.WorkspaceHealth
struct WorkspaceHealth {
  bool healthy = true;
  std::vector<Uuid> failing_agents;
};

// codersdk.Workspace
struct Workspace {
  Uuid id;
  TimePoint created_at;
  TimePoint updated_at;
  Uuid owner_id;
  std::string owner_name;
  std::string owner_avatar_url;
  Uuid organization_id;
  std::string organization_name;
  Uuid template_id;
  std::string template_name;
  std::string template_display_name;
  std::string template_icon;
  bool template_allow_user_cancel_workspace_jobs = false;
  std::optional<Uuid> template_active_version_id;  // "" on the wire when the template is gone
  bool template_require_active_version = false;
  bool template_use_classic_parameter_flow = false;
  std::optional<WorkspaceBuild> latest_build;
  bool outdated = false;
  std::string name;
  std::optional<std::string> autostart_schedule;
  std::optional<std::int64_t> ttl_ms;
  TimePoint last_used_at;
  std::optional<TimePoint> deleting_at;
  std::optional<TimePoint> dormant_at;
  WorkspaceHealth health;
  std::string automatic_updates = "never";
  bool allow_renames = true;
  bool favorite = false;
  std::optional<TimePoint> next_start_at;
  bool is_prebuild = false;
};

json::value to_json(const WorkspaceAgent& agent);
json::value to_json(const WorkspaceResource& resource);
json::value to_json(const WorkspaceBuild& build);
json::value to_json(const Workspace& workspace);

WorkspaceAgent workspace_agent_from_json(const json::value& v);
WorkspaceResource workspace_resource_from_json(const json::value& v);
WorkspaceBuild workspace_build_from_json(const json::value& v);
Workspace workspace_from_json(const json::value& v);

}  // namespace berth::sdk
