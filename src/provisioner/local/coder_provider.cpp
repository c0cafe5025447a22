#include "provisioner/local/coder_provider.hpp"

#include <fmt/format.h>

#include <set>

#include "common/error.hpp"
#include "common/regex.hpp"
#include "common/uuid.hpp"
#include "provisioner/local/docker_resources.hpp"
#include "provisioner/local/external_program.hpp"
#include "provisioner/local/http_data_source.hpp"

namespace berth::provisioner::local {

namespace {

const std::set<std::string> kDataSources = {"coder_workspace",
                                            "coder_workspace_owner",
                                            "coder_parameter",
                                            "coder_provisioner",
                                            "coder_external_auth",
                                            "coder_workspace_preset",
                                            "coder_task",
                                            "coder_workspace_tags",
                                            "external",
                                            "http"};

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

// `-?[0-9]+(\.[0-9]+)?`, matched by hand: std::regex matches recursively and overflowed the
// stack on a value of some 50,000 digits.
bool is_number(const std::string& s) {
  std::size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
  auto digits = [&] {
    auto start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (!digits()) return false;
  if (i < s.size() && s[i] == '.' && (++i, !digits())) return false;
  return i == s.size();
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
      std::optional<Regex> compiled;
      try {
        compiled.emplace(regex);
      } catch (const Error&) {
        fail(position,
             fmt::format("parameter \"{}\": invalid validation regex \"{}\"", name, regex));
      }
      if (!compiled->search(value))
        fail(position, error.empty() ? fmt::format("parameter \"{}\": value \"{}\" does not "
                                                   "match \"{}\"",
                                                   name, value, regex)
                                     : error);
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

// The provider fills blank owner and workspace fields (a template import has none) with
// placeholders, so that expressions such as coalesce(full_name, name) still evaluate.
std::string or_default(const std::string& value, const char* fallback) {
  return value.empty() ? fallback : value;
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

std::string agent_init_script(const BuildContext& context, const std::string& os,
                              const std::string& arch) {
  if (os == "windows")
    return fmt::format("$env:CODER_AGENT_URL=\"{}\"\r\n& \"{}\" agent\r\n", context.access_url,
                       context.berth_binary);
  // A workspace on this host (berth_process) gets BERTH_AGENT_BINARY and runs the server's own
  // binary; anywhere else (a container, a VM) the script downloads the statically linked agent
  // from the server with curl, wget, busybox wget or bash's /dev/tcp, and checks its digest.
  return fmt::format(R"(#!/bin/sh
# Starts the Berth workspace agent; the token comes from CODER_AGENT_TOKEN.
export CODER_AGENT_URL='{url}'
if [ -n "${{BERTH_AGENT_BINARY:-}}" ] && [ -x "$BERTH_AGENT_BINARY" ]; then
  exec "$BERTH_AGENT_BINARY" agent
fi
BINARY_URL='{url}/bin/berth-{os}-{arch}'
EXPECTED_SHA256='{sha}'
BINARY_DIR=$(mktemp -d 2>/dev/null) || {{ BINARY_DIR=/tmp/berth.$$; mkdir -p "$BINARY_DIR"; }}
BINARY="$BINARY_DIR/berth"
fetch_with_bash() {{
  command -v bash >/dev/null 2>&1 || return 1
  bash -c 'u=${{1#http://}}; hp=${{u%%/*}}; p=/${{u#*/}}; h=${{hp%%:*}}; port=${{hp#*:}}
    [ "$port" = "$hp" ] && port=80
    exec 3<>"/dev/tcp/$h/$port" || exit 1
    printf "GET %s HTTP/1.0
Host: %s

" "$p" "$hp" >&3
    IFS= read -r status <&3; case "$status" in *" 200 "*) ;; *) exit 1;; esac
    while IFS= read -r line <&3; do [ "$line" = $'"'"'
'"'"' ] && break; done
    cat <&3 >"$2"' fetch "$1" "$2"
}}
while :; do
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL "$BINARY_URL" -o "$BINARY" && ok=1 || ok=
  elif command -v wget >/dev/null 2>&1; then
    wget -q "$BINARY_URL" -O "$BINARY" && ok=1 || ok=
  elif command -v busybox >/dev/null 2>&1; then
    busybox wget -q "$BINARY_URL" -O "$BINARY" && ok=1 || ok=
  else
    fetch_with_bash "$BINARY_URL" "$BINARY" && ok=1 || ok=
  fi
  if [ -n "$ok" ] && [ -n "$EXPECTED_SHA256" ] && command -v sha256sum >/dev/null 2>&1; then
    got=$(sha256sum "$BINARY" | cut -d ' ' -f 1)
    if [ "$got" != "$EXPECTED_SHA256" ]; then
      echo "berth: the agent from $BINARY_URL has digest $got, expected $EXPECTED_SHA256" >&2
      ok=
    fi
  fi
  [ -n "$ok" ] && break
  echo "berth: could not download the agent from $BINARY_URL; retrying in 5s" >&2
  sleep 5
done
chmod +x "$BINARY"
# Templates call it `coder` too (`coder stat cpu` in metadata scripts); the agent puts its own
# directory first on its scripts' PATH.
ln -sf berth "$BINARY_DIR/coder" 2>/dev/null || true
exec "$BINARY" agent
)",
                     fmt::arg("url", context.access_url), fmt::arg("os", os),
                     fmt::arg("arch", arch), fmt::arg("sha", context.agent_sha256));
}

CoderProvider::CoderProvider(BuildContext context) : context_(std::move(context)) {}

bool CoderProvider::supports(const std::string& mode, const std::string& type) const {
  if (mode == "data") return kDataSources.count(type) > 0;
  return kResources.count(type) > 0 || is_docker_resource(type);
}

json::value CoderProvider::plan(const std::string& mode, const std::string& type,
                                const std::string&, std::optional<std::int64_t>, json::value config,
                                const hcl::Position& position) {
  json::object attributes = config.is_object() ? config.get_object() : json::object{};
  if (mode == "data") return plan_data(type, std::move(attributes), position);
  if (type == "coder_agent") return plan_agent(std::move(attributes));
  if (is_docker_resource(type)) return plan_docker_resource(type, std::move(attributes));
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
  config["init_script"] = agent_init_script(context_, os, string_of(config, "arch", "amd64"));
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
  if (type == "external") return plan_external(std::move(config), context_.template_dir, position);
  if (type == "http") return plan_http(std::move(config), position);
  if (type == "coder_workspace") {
    return json::object{{"id", c.workspace_id.empty() ? id : c.workspace_id},
                        {"name", or_default(c.workspace_name, "default")},
                        {"transition", sdk::to_string(c.transition)},
                        {"start_count", c.transition == sdk::WorkspaceTransition::start ? 1 : 0},
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
                        {"name", or_default(c.owner_name, "default")},
                        {"full_name", or_default(c.owner_full_name, "default")},
                        {"email", or_default(c.owner_email, "default@example.com")},
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
