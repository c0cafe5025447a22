#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/time.hpp"
#include "common/uuid.hpp"

namespace berth::sdk {

// codersdk.TemplateAutostopRequirement: the days a template's workspaces must stop.
struct TemplateAutostopRequirement {
  std::vector<std::string> days_of_week;
  std::int64_t weeks = 1;
};

// codersdk.Template. Build time statistics are not kept: each transition's p50 and p95 are null.
struct Template {
  Uuid id;
  TimePoint created_at;
  TimePoint updated_at;
  Uuid organization_id;
  std::string organization_name;
  std::string organization_display_name;
  std::string organization_icon;
  std::string name;
  std::string display_name;
  std::string provisioner;
  Uuid active_version_id;
  std::int64_t active_user_count = 0;
  std::string description;
  bool deprecated = false;
  std::string deprecation_message;
  std::string icon;
  std::int64_t default_ttl_ms = 0;
  std::int64_t activity_bump_ms = 0;
  TemplateAutostopRequirement autostop_requirement;
  std::vector<std::string> autostart_days_of_week;  // autostart_requirement.days_of_week
  Uuid created_by_id;
  std::string created_by_name;
  bool allow_user_autostart = false;
  bool allow_user_autostop = false;
  bool allow_user_cancel_workspace_jobs = false;
  std::int64_t failure_ttl_ms = 0;
  std::int64_t time_til_dormant_ms = 0;
  std::int64_t time_til_dormant_autodelete_ms = 0;
  bool require_active_version = false;
  std::string max_port_share_level;
  std::string cors_behavior = "simple";
  bool deleted = false;
  std::int64_t time_til_autostop_notify_ms = 0;
  bool use_classic_parameter_flow = false;
};

json::value to_json(const Template& t);
Template template_from_json(const json::value& v);

}  // namespace berth::sdk
