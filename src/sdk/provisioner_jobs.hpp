#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/json.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"
#include "sdk/workspace_enums.hpp"

namespace berth::sdk {

// codersdk.ProvisionerJobInput: what the job works on.
struct ProvisionerJobInput {
  std::optional<std::string> template_version_id;
  std::optional<std::string> workspace_build_id;
};

// codersdk.ProvisionerJobMetadata: names of what the job works on, for display.
struct ProvisionerJobMetadata {
  std::optional<Uuid> workspace_id;
  std::optional<std::string> workspace_name;
  std::optional<std::string> template_version_name;
  std::optional<Uuid> template_id;
  std::optional<std::string> template_name;
  std::optional<std::string> template_display_name;
  std::optional<std::string> template_icon;
};

// codersdk.ProvisionerJob. Optional fields are left out of the JSON when empty, as Go's
// omitempty does.
struct ProvisionerJob {
  Uuid id;
  TimePoint created_at;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> completed_at;
  std::optional<TimePoint> canceled_at;
  std::string error;
  std::string error_code;
  ProvisionerJobStatus status = ProvisionerJobStatus::pending;
  std::optional<Uuid> worker_id;
  std::string worker_name;
  Uuid file_id;
  json::object tags;  // string → string, sorted by key as Go writes a map
  std::int64_t queue_position = 0;
  std::int64_t queue_size = 0;
  Uuid organization_id;
  Uuid initiator_id;
  std::string type;  // template_version_import | workspace_build | template_version_dry_run
  bool logs_overflowed = false;
  ProvisionerJobInput input;
  ProvisionerJobMetadata metadata;
};

json::value to_json(const ProvisionerJob& job);
ProvisionerJob provisioner_job_from_json(const json::value& v);

}  // namespace berth::sdk
