#include "sdk/provisioner_daemons.hpp"

#include <boost/beast/core/detail/base64.hpp>

#include "sdk/json_fields.hpp"

namespace berth::sdk {

namespace {

namespace base64 = boost::beast::detail::base64;
namespace f = fields;

json::object string_map_json(const std::map<std::string, std::string>& map) {
  json::object out;
  for (const auto& [k, v] : map) out[k] = v;
  return out;
}

std::map<std::string, std::string> string_map(const json::object& o, std::string_view key) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : f::object(o, key))
    if (v.is_string()) out[std::string(k)] = std::string(v.get_string());
  return out;
}

std::vector<std::string> string_list(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  for (const auto& v : f::array(o, key))
    if (v.is_string()) out.emplace_back(v.get_string());
  return out;
}

json::value daemon_job_json(const std::optional<ProvisionerDaemonJob>& job) {
  if (!job) return nullptr;
  return json::object{{"id", job->id.to_string()},
                      {"status", to_string(job->status)},
                      {"template_name", job->template_name},
                      {"template_icon", job->template_icon},
                      {"template_display_name", job->template_display_name}};
}

std::optional<ProvisionerDaemonJob> daemon_job(const json::object& o, std::string_view key) {
  auto* v = f::find(o, key);
  if (!v || !v->is_object()) return std::nullopt;
  const auto& j = v->get_object();
  return ProvisionerDaemonJob{f::uuid(j, "id"),
                              f::enumeration(j, "status", ProvisionerJobStatus::pending),
                              f::string(j, "template_name"), f::string(j, "template_icon"),
                              f::string(j, "template_display_name")};
}

}  // namespace

json::value to_json(const ProvisionerKey& key) {
  return json::object{{"id", key.id.to_string()},
                      {"created_at", format_rfc3339(key.created_at)},
                      {"organization", key.organization.to_string()},
                      {"name", key.name},
                      {"tags", string_map_json(key.tags)}};
}

ProvisionerKey provisioner_key_from_json(const json::value& v) {
  const auto& o = v.as_object();
  return ProvisionerKey{f::uuid(o, "id"), f::time(o, "created_at"), f::uuid(o, "organization"),
                        f::string(o, "name"), string_map(o, "tags")};
}

json::value to_json(const ProvisionerDaemon& d) {
  return json::object{
      {"id", d.id.to_string()},
      {"organization_id", d.organization_id.to_string()},
      {"key_id", d.key_id ? json::value(d.key_id->to_string()) : json::value(nullptr)},
      {"key_name", d.key_name},
      {"created_at", format_rfc3339(d.created_at)},
      {"last_seen_at", json::time_or_null(d.last_seen_at)},
      {"name", d.name},
      {"version", d.version},
      {"api_version", d.api_version},
      {"provisioners", json::strings(d.provisioners)},
      {"tags", string_map_json(d.tags)},
      {"status", to_string(d.status)},
      {"current_job", daemon_job_json(d.current_job)},
      {"previous_job", daemon_job_json(d.previous_job)}};
}

ProvisionerDaemon provisioner_daemon_from_json(const json::value& v) {
  const auto& o = v.as_object();
  ProvisionerDaemon d;
  d.id = f::uuid(o, "id");
  d.organization_id = f::uuid(o, "organization_id");
  d.key_id = f::optional_uuid(o, "key_id");
  d.key_name = f::string(o, "key_name");
  d.created_at = f::time(o, "created_at");
  d.last_seen_at = f::optional_time(o, "last_seen_at");
  d.name = f::string(o, "name");
  d.version = f::string(o, "version");
  d.api_version = f::string(o, "api_version");
  d.provisioners = string_list(o, "provisioners");
  d.tags = string_map(o, "tags");
  d.status = f::enumeration(o, "status", ProvisionerDaemonStatus::offline);
  d.current_job = daemon_job(o, "current_job");
  d.previous_job = daemon_job(o, "previous_job");
  return d;
}

json::value to_json(const AcquireJobRequest& r) {
  return json::object{{"daemon_id", r.daemon_id.to_string()},
                      {"name", r.name},
                      {"version", r.version},
                      {"provisioners", json::strings(r.provisioners)},
                      {"wait_ms", r.wait_ms}};
}

json::value to_json(const AcquiredJob& job) {
  json::object out{{"id", job.id.to_string()},
                   {"type", job.type},
                   {"archive", base64_encode(job.archive)},
                   {"variable_values", string_map_json(job.variable_values)}};
  if (job.build) out["build"] = to_json(*job.build);
  return out;
}

AcquiredJob acquired_job_from_json(const json::value& v) {
  const auto& o = v.as_object();
  AcquiredJob job;
  job.id = f::uuid(o, "id");
  job.type = f::string(o, "type");
  job.archive = base64_decode(f::string(o, "archive"), "archive");
  job.variable_values = string_map(o, "variable_values");
  if (auto* build = f::find(o, "build"); build && build->is_object())
    job.build = build_request_from_json(*build);
  return job;
}

json::value to_json(const ProvisionerJobLogLine& line) {
  return json::object{{"level", line.level},
                      {"stage", line.stage},
                      {"output", line.output},
                      {"source", line.source}};
}

ProvisionerJobLogLine job_log_line_from_json(const json::value& v) {
  const auto& o = v.as_object();
  return ProvisionerJobLogLine{f::string(o, "level"), f::string(o, "stage"), f::string(o, "output"),
                               f::string(o, "source")};
}

json::value to_json(const BuildRequest& r) {
  return json::object{{"variable_values", string_map_json(r.variable_values)},
                      {"parameter_values", string_map_json(r.parameter_values)},
                      {"transition", to_string(r.transition)},
                      {"state", base64_encode(r.state)},
                      {"previous_build_failed", r.previous_build_failed},
                      {"workspace_id", r.workspace_id},
                      {"workspace_name", r.workspace_name},
                      {"owner_id", r.owner_id},
                      {"owner_name", r.owner_name},
                      {"owner_email", r.owner_email},
                      {"owner_full_name", r.owner_full_name},
                      {"template_id", r.template_id},
                      {"template_name", r.template_name},
                      {"template_version", r.template_version},
                      {"task_id", r.task_id},
                      {"task_prompt", r.task_prompt}};
}

BuildRequest build_request_from_json(const json::value& v) {
  const auto& o = v.as_object();
  BuildRequest r;
  r.variable_values = string_map(o, "variable_values");
  r.parameter_values = string_map(o, "parameter_values");
  r.transition = f::enumeration(o, "transition", WorkspaceTransition::start);
  r.state = base64_decode(f::string(o, "state"), "build.state");
  r.previous_build_failed = f::boolean(o, "previous_build_failed");
  r.workspace_id = f::string(o, "workspace_id");
  r.workspace_name = f::string(o, "workspace_name");
  r.owner_id = f::string(o, "owner_id");
  r.owner_name = f::string(o, "owner_name");
  r.owner_email = f::string(o, "owner_email");
  r.owner_full_name = f::string(o, "owner_full_name");
  r.template_id = f::string(o, "template_id");
  r.template_name = f::string(o, "template_name");
  r.template_version = f::string(o, "template_version");
  r.task_id = f::string(o, "task_id");
  r.task_prompt = f::string(o, "task_prompt");
  return r;
}

json::value to_json(const BuildResponse& r) {
  return json::object{{"state", base64_encode(r.state)},     {"resources", r.resources},
                      {"tokens", string_map_json(r.tokens)}, {"has_ai_task", r.has_ai_task},
                      {"ai_task_app_id", r.ai_task_app_id},  {"daily_cost", r.daily_cost}};
}

BuildResponse build_response_from_json(const json::value& v) {
  const auto& o = v.as_object();
  BuildResponse r;
  r.state = base64_decode(f::string(o, "state"), "state");
  r.resources = f::array(o, "resources");
  r.tokens = string_map(o, "tokens");
  r.has_ai_task = f::boolean(o, "has_ai_task");
  r.ai_task_app_id = f::string(o, "ai_task_app_id");
  r.daily_cost = f::integer(o, "daily_cost");
  return r;
}

json::value to_json(const TemplateImportResult& r) {
  return json::object{{"readme", r.readme},
                      {"has_ai_task", r.has_ai_task},
                      {"has_external_agent", r.has_external_agent},
                      {"parameters", r.parameters},
                      {"variables", r.variables},
                      {"presets", r.presets},
                      {"resources", r.resources},
                      {"external_auth", r.external_auth}};
}

TemplateImportResult import_result_from_json(const json::value& v) {
  const auto& o = v.as_object();
  auto document = [&](std::string_view key) {
    auto text = f::string(o, key);
    return text.empty() ? std::string("[]") : text;
  };
  return TemplateImportResult{
      f::string(o, "readme"), f::boolean(o, "has_ai_task"), f::boolean(o, "has_external_agent"),
      document("parameters"), document("variables"),        document("presets"),
      document("resources"),  document("external_auth")};
}

std::string base64_encode(std::string_view bytes) {
  std::string out(base64::encoded_size(bytes.size()), '\0');
  out.resize(base64::encode(out.data(), bytes.data(), bytes.size()));
  return out;
}

std::string base64_decode(std::string_view text, std::string_view field) {
  std::string out(base64::decoded_size(text.size()), '\0');
  auto [written, read] = base64::decode(out.data(), text.data(), text.size());
  // Beast stops at the padding; anything else left over is not base64.
  auto rest = text.substr(read);
  if (rest.find_first_not_of('=') != std::string_view::npos || rest.size() > 2)
    throw Error{
        ErrorCode::invalid, "Validation failed.", {}, {{std::string(field), "must be base64"}}};
  out.resize(written);
  return out;
}

}  // namespace berth::sdk
