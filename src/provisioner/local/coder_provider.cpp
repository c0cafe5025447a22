#include "provisioner/local/coder_provider.hpp"

#include <fmt/format.h>

#include <regex>
#include <set>

#include "common/error.hpp"
#include "common/uuid.hpp"

namespace berth::provisioner::local {

namespace {

const std::set<std::string> kDataSources = {
    "coder_workspace",     "coder_workspace_owner",  "coder_parameter", "coder_provisioner",
    "coder_external_auth", "coder_workspace_preset", "coder_task",      "coder_workspace_tags"};

const std::set<std::string> kResources = {
    "coder_agent",   "coder_app",     "coder_script",         "coder_metadata",
    "coder_env",     "coder_ai_task", "coder_agent_instance", "coder_external_agent",
    "berth_process", "null_resource", "terraform_data"};

[[noreturn]] void fail(const hcl::Position& position, const std::string& what) {
  throw Error{ErrorCode::invalid, position.to_string() + ": " + what};
}

std::string string_of(const json::object& o, const char* key, std::string fallback = {}) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return fallback;
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_bool()) return v->get_bool() ? "true" : "false";
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_double()) return fmt::format("{}", v->get_double());
  return json::serialize(*v);
}

bool is_number(const std::string& s) {
  static const std::regex kNumber(R"(^-?[0-9]+(\.[0-9]+)?$)");
  return std::regex_match(s, kNumber);
}

// Checks a parameter's value against its type, options and validation blocks, as the provider
// does at plan time; the message names the parameter.
void validate_parameter_value(const json::object& p, const std::string& value,
                              const hcl::Position& position) {
  auto name = string_of(p, "name");
  auto type = string_of(p, "type", "string");
  if (type == "number" && !value.empty() && !is_number(value))
    fail(position, fmt::format("parameter \"{}\": value \"{}\" is not a number", name, value));
  if (type == "bool" && !value.empty() && value != "true" && value != "false")
    fail(position, fmt::format("parameter \"{}\": value \"{}\" is not a boolean", name, value));
  if (auto* options = p.if_contains("option");
      options && options->is_array() && !options->get_array().empty() && !value.empty()) {
    bool found = false;
    for (const auto& o : options->get_array())
      if (o.is_object() && string_of(o.get_object(), "value") == value) found = true;
    if (!found && type != "list(string)")
      fail(position,
           fmt::format("parameter \"{}\": value \"{}\" is not one of its options", name, value));
  }
  auto* validations = p.if_contains("validation");
  if (!validations || !validations->is_array()) return;
  for (const auto& v : validations->get_array()) {
    if (!v.is_object() || value.empty()) continue;
    const auto& rule = v.get_object();
    auto error = string_of(rule, "error");
    if (auto regex = string_of(rule, "regex"); !regex.empty()) {
      try {
        if (!std::regex_search(value, std::regex(regex, std::regex::ECMAScript)))
          fail(position, error.empty() ? fmt::format("parameter \"{}\": value \"{}\" does not "
                                                     "match \"{}\"",
                                                     name, value, regex)
                                       : error);
      } catch (const std::regex_error&) {
        fail(position,
             fmt::format("parameter \"{}\": invalid validation regex \"{}\"", name, regex));
      }
    }
    if (type == "number" && is_number(value)) {
      double n = std::stod(value);
      if (auto* min = rule.if_contains("min");
          min && min->is_number() && n < min->to_number<double>())
        fail(position, fmt::format("parameter \"{}\": value {} is less than the minimum {}", name,
                                   value, min->to_number<double>()));
      if (auto* max = rule.if_contains("max");
          max && max->is_number() && n > max->to_number<double>())
        fail(position, fmt::format("parameter \"{}\": value {} is more than the maximum {}", name,
                                   value, max->to_number<double>()));
    }
  }
}

// The form_type the provider computes when the template leaves it out.
std::string default_form_type(const json::object& p, const std::string& type) {
  auto* options = p.if_contains("option");
  bool has_options = options && options->is_array() && !options->get_array().empty();
  if (type == "list(string)") return has_options ? "multi-select" : "tag-select";
  if (has_options) return "radio";
  if (type == "bool") return "checkbox";
  return "input";
}

}  // namespace

std::string agent_init_script(const BuildContext& context, const std::string& os) {
  if (os == "windows")
    return fmt::format("$env:CODER_AGENT_URL=\"{}\"\r\n& \"{}\" agent\r\n", context.access_url,
                       context.berth_binary);
  return fmt::format(
      "#!/bin/sh\n# Starts the Berth workspace agent; the token comes from CODER_AGENT_TOKEN.\n"
      "export CODER_AGENT_URL='{}'\nexec '{}' agent\n",
      context.access_url, context.berth_binary);
}

CoderProvider::CoderProvider(BuildContext context) : context_(std::move(context)) {}

bool CoderProvider::supports(const std::string& mode, const std::string& type) const {
  return mode == "data" ? kDataSources.count(type) > 0 : kResources.count(type) > 0;
}

json::value CoderProvider::plan(const std::string& mode, const std::string& type,
                                const std::string&, std::optional<std::int64_t>, json::value config,
                                const hcl::Position& position) {
  json::object attributes = config.is_object() ? config.get_object() : json::object{};
  if (mode == "data") return plan_data(type, std::move(attributes), position);
  if (type == "coder_agent") return plan_agent(std::move(attributes));
  if (!attributes.contains("id")) attributes["id"] = Uuid::random_v4().to_string();
  if (type == "terraform_data") {
    // The hashicorp/terraform provider's no-op resource: `output` mirrors `input`.
    if (auto* input = attributes.if_contains("input")) attributes["output"] = *input;
  } else if (type == "coder_ai_task") {
    plan_ai_task(attributes);
  }
  return attributes;
}

void CoderProvider::plan_ai_task(json::object& config) const {
  // The provider copies the deprecated sidebar_app { id } into app_id.
  if (!config.contains("app_id"))
    if (auto* sidebar = config.if_contains("sidebar_app"); sidebar && sidebar->is_array() &&
                                                           !sidebar->get_array().empty() &&
                                                           sidebar->get_array()[0].is_object())
      if (auto* id = sidebar->get_array()[0].get_object().if_contains("id")) config["app_id"] = *id;
  config["prompt"] = context_.task_prompt;
  config["enabled"] = !context_.task_id.empty();
}

json::value CoderProvider::plan_agent(json::object config) {
  auto os = string_of(config, "os", "linux");
  config["id"] = Uuid::random_v4().to_string();
  config["token"] = Uuid::random_v4().to_string();
  config["init_script"] = agent_init_script(context_, os);
  if (!config.contains("arch")) config["arch"] = "amd64";
  if (!config.contains("os")) config["os"] = "linux";
  if (!config.contains("auth")) config["auth"] = "token";
  if (!config.contains("connection_timeout")) config["connection_timeout"] = 120;
  if (!config.contains("startup_script_behavior"))
    config["startup_script_behavior"] = "non-blocking";
  return config;
}

json::value CoderProvider::plan_parameter(json::object config, const hcl::Position& position) {
  auto name = string_of(config, "name");
  if (name.empty()) fail(position, "coder_parameter needs a \"name\"");
  auto type = string_of(config, "type", "string");
  if (type != "string" && type != "number" && type != "bool" && type != "list(string)")
    fail(position, fmt::format("parameter \"{}\": type \"{}\" is not one of string, number, bool, "
                               "list(string)",
                               name, type));
  config["type"] = type;
  bool has_default = config.contains("default") && !config.at("default").is_null();
  std::string fallback = has_default ? string_of(config, "default") : "";
  if (has_default) {
    config["default"] = fallback;
    validate_parameter_value(config, fallback, position);
  }
  std::string value = fallback;
  if (!context_.import) {
    auto it = context_.parameter_values.find(name);
    if (it != context_.parameter_values.end()) value = it->second;
    validate_parameter_value(config, value, position);
  }
  config["value"] = value;
  config["optional"] = has_default;
  if (!config.contains("form_type")) config["form_type"] = default_form_type(config, type);
  if (!config.contains("mutable")) config["mutable"] = false;
  if (!config.contains("ephemeral")) config["ephemeral"] = false;
  config["id"] = Uuid::random_v4().to_string();
  return config;
}

json::value CoderProvider::plan_data(const std::string& type, json::object config,
                                     const hcl::Position& position) {
  const auto& c = context_;
  auto id = Uuid::random_v4().to_string();
  if (type == "coder_parameter") return plan_parameter(std::move(config), position);
  if (type == "coder_workspace") {
    return json::object{{"id", c.workspace_id.empty() ? id : c.workspace_id},
                        {"name", c.workspace_name},
                        {"transition", c.transition},
                        {"start_count", c.transition == "start" ? 1 : 0},
                        {"access_url", c.access_url},
                        {"access_port", 0},
                        {"owner", c.owner_name},
                        {"owner_id", c.owner_id},
                        {"owner_email", c.owner_email},
                        {"owner_name", c.owner_full_name},
                        {"template_id", c.template_id},
                        {"template_name", c.template_name},
                        {"template_version", c.template_version},
                        {"is_prebuild", false},
                        {"prebuild_count", 0}};
  }
  if (type == "coder_workspace_owner") {
    return json::object{{"id", c.owner_id.empty() ? id : c.owner_id},
                        {"name", c.owner_name},
                        {"full_name", c.owner_full_name},
                        {"email", c.owner_email},
                        {"session_token", c.owner_session_token},
                        {"groups", json::array{}},
                        {"rbac_roles", json::array{}},
                        {"oidc_access_token", ""},
                        {"ssh_public_key", ""},
                        {"ssh_private_key", ""},
                        {"login_type", "password"}};
  }
  if (type == "coder_provisioner")
    return json::object{{"id", id}, {"arch", "amd64"}, {"os", "linux"}};
  if (type == "coder_task")
    return json::object{
        {"id", c.task_id}, {"prompt", c.task_prompt}, {"enabled", !c.task_id.empty()}};
  if (type == "coder_external_auth") {
    config["access_token"] = "";
    config["id"] = string_of(config, "id", id);
    return config;
  }
  config["id"] = id;  // coder_workspace_preset, coder_workspace_tags
  return config;
}

}  // namespace berth::provisioner::local
