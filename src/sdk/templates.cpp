#include "sdk/templates.hpp"

#include "sdk/json_fields.hpp"
#include "sdk/workspace_enums.hpp"

namespace berth::sdk {

namespace {

std::vector<std::string> strings_of(const json::array& items) {
  std::vector<std::string> out;
  for (const auto& item : items)
    if (item.is_string()) out.emplace_back(item.get_string());
  return out;
}

}  // namespace

json::value to_json(const Template& t) {
  json::object stats;
  for (auto transition : all_values<WorkspaceTransition>())
    stats[to_string(transition)] = json::object{{"p50", nullptr}, {"p95", nullptr}};
  return json::object{
      {"id", t.id.to_string()},
      {"created_at", format_rfc3339(t.created_at)},
      {"updated_at", format_rfc3339(t.updated_at)},
      {"organization_id", t.organization_id.to_string()},
      {"organization_name", t.organization_name},
      {"organization_display_name", t.organization_display_name},
      {"organization_icon", t.organization_icon},
      {"name", t.name},
      {"display_name", t.display_name},
      {"provisioner", t.provisioner},
      {"active_version_id", t.active_version_id.to_string()},
      {"active_user_count", t.active_user_count},
      {"build_time_stats", std::move(stats)},
      {"description", t.description},
      {"deprecated", t.deprecated},
      {"deprecation_message", t.deprecation_message},
      {"icon", t.icon},
      {"default_ttl_ms", t.default_ttl_ms},
      {"activity_bump_ms", t.activity_bump_ms},
      {"autostop_requirement",
       json::object{{"days_of_week", json::strings(t.autostop_requirement.days_of_week)},
                    {"weeks", t.autostop_requirement.weeks}}},
      {"autostart_requirement",
       json::object{{"days_of_week", json::strings(t.autostart_days_of_week)}}},
      {"created_by_id", t.created_by_id.to_string()},
      {"created_by_name", t.created_by_name},
      {"allow_user_autostart", t.allow_user_autostart},
      {"allow_user_autostop", t.allow_user_autostop},
      {"allow_user_cancel_workspace_jobs", t.allow_user_cancel_workspace_jobs},
      {"failure_ttl_ms", t.failure_ttl_ms},
      {"time_til_dormant_ms", t.time_til_dormant_ms},
      {"time_til_dormant_autodelete_ms", t.time_til_dormant_autodelete_ms},
      {"require_active_version", t.require_active_version},
      {"max_port_share_level", t.max_port_share_level},
      {"cors_behavior", t.cors_behavior},
      {"deleted", t.deleted},
      {"time_til_autostop_notify_ms", t.time_til_autostop_notify_ms},
      {"use_classic_parameter_flow", t.use_classic_parameter_flow}};
}

Template template_from_json(const json::value& v) {
  namespace f = fields;
  const auto& o = v.as_object();
  Template t;
  t.id = f::uuid(o, "id");
  t.created_at = f::time(o, "created_at");
  t.updated_at = f::time(o, "updated_at");
  t.organization_id = f::uuid(o, "organization_id");
  t.organization_name = f::string(o, "organization_name");
  t.organization_display_name = f::string(o, "organization_display_name");
  t.organization_icon = f::string(o, "organization_icon");
  t.name = f::string(o, "name");
  t.display_name = f::string(o, "display_name");
  t.provisioner = f::string(o, "provisioner");
  t.active_version_id = f::uuid(o, "active_version_id");
  t.active_user_count = f::integer(o, "active_user_count");
  t.description = f::string(o, "description");
  t.deprecated = f::boolean(o, "deprecated");
  t.deprecation_message = f::string(o, "deprecation_message");
  t.icon = f::string(o, "icon");
  t.default_ttl_ms = f::integer(o, "default_ttl_ms");
  t.activity_bump_ms = f::integer(o, "activity_bump_ms");
  const auto& stop = f::object(o, "autostop_requirement");
  t.autostop_requirement.days_of_week = strings_of(f::array(stop, "days_of_week"));
  t.autostop_requirement.weeks = f::integer(stop, "weeks");
  t.autostart_days_of_week =
      strings_of(f::array(f::object(o, "autostart_requirement"), "days_of_week"));
  t.created_by_id = f::uuid(o, "created_by_id");
  t.created_by_name = f::string(o, "created_by_name");
  t.allow_user_autostart = f::boolean(o, "allow_user_autostart");
  t.allow_user_autostop = f::boolean(o, "allow_user_autostop");
  t.allow_user_cancel_workspace_jobs = f::boolean(o, "allow_user_cancel_workspace_jobs");
  t.failure_ttl_ms = f::integer(o, "failure_ttl_ms");
  t.time_til_dormant_ms = f::integer(o, "time_til_dormant_ms");
  t.time_til_dormant_autodelete_ms = f::integer(o, "time_til_dormant_autodelete_ms");
  t.require_active_version = f::boolean(o, "require_active_version");
  t.max_port_share_level = f::string(o, "max_port_share_level");
  t.cors_behavior = f::string(o, "cors_behavior");
  t.deleted = f::boolean(o, "deleted");
  t.time_til_autostop_notify_ms = f::integer(o, "time_til_autostop_notify_ms");
  t.use_classic_parameter_flow = f::boolean(o, "use_classic_parameter_flow");
  return t;
}

}  // namespace berth::sdk
