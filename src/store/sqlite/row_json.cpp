#include "store/sqlite/row_json.hpp"

#include <optional>

#include "common/error.hpp"
#include "common/json.hpp"

namespace berth::store::sqlite {

namespace {

[[noreturn]] void bad_column(const char* column, std::string_view why) {
  std::string detail = "Unreadable JSON in the database column ";
  detail.append(column).append(": ").append(why);
  throw Error{ErrorCode::internal, "An internal server error occurred.", detail};
}

json::value parse_column(const std::string& text, const char* column) {
  try {
    return json::parse(text);
  } catch (const Error& e) {
    bad_column(column, e.detail());
  }
}

const json::object& object_column(const json::value& v, const char* column) {
  if (!v.is_object()) bad_column(column, "not an object");
  return v.get_object();
}

const json::array& array_column(const json::value& v, const char* column) {
  if (!v.is_array()) bad_column(column, "not an array");
  return v.get_array();
}

// A string member that must be one when present (null counts as absent).
std::optional<std::string> string_member(const json::object& o, std::string_view key,
                                         const char* column) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) bad_column(column, std::string(key) + " is not a string");
  return std::string(v->get_string());
}

std::optional<Uuid> uuid_member(const json::object& o, std::string_view key, const char* column) {
  auto text = string_member(o, key, column);
  if (!text) return std::nullopt;
  auto id = Uuid::parse(*text);
  if (!id) bad_column(column, std::string(key) + " is not a UUID");
  return id;
}

// The policy's lenient readers: a member that is missing or of another type is the default.
std::int64_t int_or(const json::object& o, const char* key, std::int64_t fallback) {
  auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->get_int64() : fallback;
}

bool bool_or(const json::object& o, const char* key, bool fallback) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() ? v->get_bool() : fallback;
}

std::string string_or(const json::object& o, const char* key, std::string fallback) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : fallback;
}

std::vector<std::string> strings_or(const json::object& o, const char* key,
                                    std::vector<std::string> fallback) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_array()) return fallback;
  std::vector<std::string> out;
  for (const auto& s : v->get_array())
    if (s.is_string()) out.emplace_back(s.get_string());
  return out;
}

json::array variable_values_array(const std::vector<VariableValue>& values) {
  json::array out;
  for (const auto& v : values) out.push_back(json::object{{"name", v.name}, {"value", v.value}});
  return out;
}

// Entries as the provisioner has always read them: one without a string name is skipped, a
// value that is not a string is empty.
std::vector<VariableValue> variable_values_of(const json::array& items, const char* column) {
  std::vector<VariableValue> out;
  for (const auto& item : items) {
    if (!item.is_object()) bad_column(column, "a variable value is not an object");
    const auto& o = item.get_object();
    auto* name = o.if_contains("name");
    if (!name || !name->is_string()) continue;
    out.push_back({std::string(name->get_string()), json::string_at(o, "value")});
  }
  return out;
}

}  // namespace

std::string job_input_json(const ProvisionerJobInput& input) {
  json::object out;
  if (input.template_version_id)
    out["template_version_id"] = input.template_version_id->to_string();
  // An import's input has always listed its variable values, even none.
  if (input.template_version_id || !input.user_variable_values.empty())
    out["user_variable_values"] = variable_values_array(input.user_variable_values);
  if (input.workspace_build_id) out["workspace_build_id"] = input.workspace_build_id->to_string();
  return json::serialize(out);
}

ProvisionerJobInput job_input_from_json(const std::string& text, const char* column) {
  auto v = parse_column(text, column);
  const auto& o = object_column(v, column);
  ProvisionerJobInput input;
  input.template_version_id = uuid_member(o, "template_version_id", column);
  input.workspace_build_id = uuid_member(o, "workspace_build_id", column);
  if (auto* values = o.if_contains("user_variable_values"); values && values->is_array())
    input.user_variable_values = variable_values_of(values->get_array(), column);
  return input;
}

std::string tags_json(const std::map<std::string, std::string>& tags) {
  json::object out;
  for (const auto& [k, v] : tags) out[k] = v;
  return json::serialize(out);
}

std::map<std::string, std::string> tags_from_json(const std::string& text, const char* column) {
  auto v = parse_column(text, column);
  std::map<std::string, std::string> out;
  for (const auto& [k, value] : object_column(v, column)) {
    if (!value.is_string()) {
      std::string why = "the value of tag ";
      why.append(k).append(" is not a string");
      bad_column(column, why);
    }
    out[std::string(k)] = std::string(value.get_string());
  }
  return out;
}

std::string policy_json(const TemplatePolicy& p) {
  return json::serialize(
      json::object{{"default_ttl_ms", p.default_ttl_ms},
                   {"activity_bump_ms", p.activity_bump_ms},
                   {"autostop_days_of_week", json::strings(p.autostop_days_of_week)},
                   {"autostop_weeks", p.autostop_weeks},
                   {"autostart_days_of_week", json::strings(p.autostart_days_of_week)},
                   {"allow_user_autostart", p.allow_user_autostart},
                   {"allow_user_autostop", p.allow_user_autostop},
                   {"allow_user_cancel_workspace_jobs", p.allow_user_cancel_workspace_jobs},
                   {"require_active_version", p.require_active_version},
                   {"failure_ttl_ms", p.failure_ttl_ms},
                   {"time_til_dormant_ms", p.time_til_dormant_ms},
                   {"time_til_dormant_autodelete_ms", p.time_til_dormant_autodelete_ms},
                   {"deprecation_message", p.deprecation_message},
                   {"max_port_share_level", p.max_port_share_level},
                   {"use_classic_parameter_flow", p.use_classic_parameter_flow}});
}

TemplatePolicy policy_from_json(const std::string& text, const char* column) {
  auto v = parse_column(text, column);
  const auto& o = object_column(v, column);
  const TemplatePolicy d;
  TemplatePolicy p;
  p.default_ttl_ms = int_or(o, "default_ttl_ms", d.default_ttl_ms);
  p.activity_bump_ms = int_or(o, "activity_bump_ms", d.activity_bump_ms);
  p.autostop_days_of_week = strings_or(o, "autostop_days_of_week", d.autostop_days_of_week);
  p.autostop_weeks = int_or(o, "autostop_weeks", d.autostop_weeks);
  p.autostart_days_of_week = strings_or(o, "autostart_days_of_week", d.autostart_days_of_week);
  p.allow_user_autostart = bool_or(o, "allow_user_autostart", d.allow_user_autostart);
  p.allow_user_autostop = bool_or(o, "allow_user_autostop", d.allow_user_autostop);
  p.allow_user_cancel_workspace_jobs =
      bool_or(o, "allow_user_cancel_workspace_jobs", d.allow_user_cancel_workspace_jobs);
  p.require_active_version = bool_or(o, "require_active_version", d.require_active_version);
  p.failure_ttl_ms = int_or(o, "failure_ttl_ms", d.failure_ttl_ms);
  p.time_til_dormant_ms = int_or(o, "time_til_dormant_ms", d.time_til_dormant_ms);
  p.time_til_dormant_autodelete_ms =
      int_or(o, "time_til_dormant_autodelete_ms", d.time_til_dormant_autodelete_ms);
  p.deprecation_message = string_or(o, "deprecation_message", d.deprecation_message);
  p.max_port_share_level = string_or(o, "max_port_share_level", d.max_port_share_level);
  p.use_classic_parameter_flow =
      bool_or(o, "use_classic_parameter_flow", d.use_classic_parameter_flow);
  return p;
}

std::string variable_values_json(const std::vector<VariableValue>& values) {
  return json::serialize(variable_values_array(values));
}

std::vector<VariableValue> variable_values_from_json(const std::string& text, const char* column) {
  auto v = parse_column(text, column);
  return variable_values_of(array_column(v, column), column);
}

std::string resource_metadata_json(const std::vector<ResourceMetadataItem>& items) {
  json::array out;
  for (const auto& item : items)
    out.push_back(
        json::object{{"key", item.key}, {"value", item.value}, {"sensitive", item.sensitive}});
  return json::serialize(out);
}

std::vector<ResourceMetadataItem> resource_metadata_from_json(const std::string& text,
                                                              const char* column) {
  auto v = parse_column(text, column);
  std::vector<ResourceMetadataItem> out;
  for (const auto& item : array_column(v, column)) {
    if (!item.is_object()) bad_column(column, "an item is not an object");
    const auto& o = item.get_object();
    ResourceMetadataItem m;
    m.key = string_member(o, "key", column).value_or("");
    m.value = string_member(o, "value", column).value_or("");
    if (auto* s = o.if_contains("sensitive"); s && !s->is_null()) {
      if (!s->is_bool()) bad_column(column, "sensitive is not a boolean");
      m.sensitive = s->get_bool();
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace berth::store::sqlite
