#include "provisioner/local/import_documents.hpp"

#include <algorithm>

#include "common/uuid.hpp"

namespace berth::provisioner::local {

namespace {

const json::object kEmpty;

const json::object& attrs(const hcl::ResourceInstance& r) {
  return r.attributes.is_object() ? r.attributes.get_object() : kEmpty;
}

std::string str(const json::object& o, const char* key, std::string fallback = {}) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return fallback;
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_bool()) return v->get_bool() ? "true" : "false";
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_double()) return json::serialize(*v);
  return json::serialize(*v);
}

bool boolean(const json::object& o, const char* key, bool fallback = false) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() ? v->get_bool() : fallback;
}

std::int64_t integer(const json::object& o, const char* key, std::int64_t fallback = 0) {
  auto* v = o.if_contains(key);
  if (!v) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_double()) return std::int64_t(v->get_double());
  return fallback;
}

const json::object& first_block(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (v && v->is_array() && !v->get_array().empty() && v->get_array()[0].is_object())
    return v->get_array()[0].get_object();
  return kEmpty;
}

std::vector<const hcl::ResourceInstance*> of_type(const hcl::ModuleResult& result,
                                                  const std::string& mode,
                                                  const std::string& type) {
  std::vector<const hcl::ResourceInstance*> out;
  for (const auto& r : result.resources)
    if (r.mode == mode && r.type == type) out.push_back(&r);
  return out;
}

bool is_bookkeeping(const std::string& type) {
  return type == "coder_agent" || type == "coder_app" || type == "coder_script" ||
         type == "coder_metadata" || type == "coder_env" || type == "coder_ai_task" ||
         type == "coder_agent_instance";
}

json::value parameter_json(const json::object& p) {
  json::array options;
  if (auto* list = p.if_contains("option"); list && list->is_array())
    for (const auto& o : list->get_array())
      if (o.is_object())
        options.push_back(json::object{{"name", str(o.get_object(), "name")},
                                       {"description", str(o.get_object(), "description")},
                                       {"value", str(o.get_object(), "value")},
                                       {"icon", str(o.get_object(), "icon")}});
  const auto& v = first_block(p, "validation");
  json::object out{{"name", str(p, "name")},
                   {"display_name", str(p, "display_name")},
                   {"description", str(p, "description")},
                   {"description_plaintext", str(p, "description")},
                   {"type", str(p, "type", "string")},
                   {"form_type", str(p, "form_type")},
                   {"mutable", boolean(p, "mutable")},
                   {"default_value", str(p, "default")},
                   {"icon", str(p, "icon")},
                   {"options", std::move(options)},
                   {"validation_regex", str(v, "regex")},
                   {"validation_error", str(v, "error")},
                   {"validation_monotonic", str(v, "monotonic")},
                   {"required", !boolean(p, "optional")},
                   {"ephemeral", boolean(p, "ephemeral")}};
  if (v.contains("min") && !v.at("min").is_null()) out["validation_min"] = integer(v, "min");
  if (v.contains("max") && !v.at("max").is_null()) out["validation_max"] = integer(v, "max");
  return out;
}

json::value script_json(const json::object& s) {
  return json::object{{"id", str(s, "id")},
                      {"log_source_id", str(s, "id")},
                      {"display_name", str(s, "display_name")},
                      {"icon", str(s, "icon")},
                      {"script", str(s, "script")},
                      {"cron", str(s, "cron")},
                      {"run_on_start", boolean(s, "run_on_start")},
                      {"run_on_stop", boolean(s, "run_on_stop")},
                      {"start_blocks_login", boolean(s, "start_blocks_login")},
                      {"timeout", integer(s, "timeout")}};
}

json::value app_json(const json::object& a) {
  const auto& health = first_block(a, "healthcheck");
  json::object app{{"id", str(a, "id")},
                   {"slug", str(a, "slug")},
                   {"display_name", str(a, "display_name", str(a, "name"))},
                   {"url", str(a, "url")},
                   {"command", str(a, "command")},
                   {"icon", str(a, "icon")},
                   {"subdomain", boolean(a, "subdomain")},
                   {"sharing_level", str(a, "share", "owner")},
                   {"external", boolean(a, "external")},
                   {"group", str(a, "group")},
                   {"hidden", boolean(a, "hidden")},
                   {"open_in", str(a, "open_in", "slim-window")},
                   {"health", health.empty() ? "disabled" : "initializing"},
                   {"healthcheck", json::object{{"url", str(health, "url")},
                                                {"interval", integer(health, "interval")},
                                                {"threshold", integer(health, "threshold")}}}};
  return app;
}

// Coder associates an agent with the resource that uses it; here "uses" means the resource's
// evaluated attributes contain the agent's token, id or init script.
bool references_agent(const json::object& resource, const json::object& agent) {
  auto text = json::serialize(resource);
  for (const char* key : {"token", "id", "init_script"}) {
    auto needle = str(agent, key);
    if (needle.empty()) continue;
    auto quoted = json::serialize(json::value(needle));  // escaped as it appears in `text`
    if (text.find(quoted.substr(1, quoted.size() - 2)) != std::string::npos) return true;
  }
  return false;
}

json::value agent_json(const hcl::ModuleResult& result, const json::object& a,
                       const std::string& name) {
  auto id = str(a, "id");
  json::array apps, scripts;
  for (auto* app : of_type(result, "managed", "coder_app"))
    if (str(attrs(*app), "agent_id") == id) apps.push_back(app_json(attrs(*app)));
  for (auto* script : of_type(result, "managed", "coder_script"))
    if (str(attrs(*script), "agent_id") == id) scripts.push_back(script_json(attrs(*script)));
  json::object env;
  if (auto* e = a.if_contains("env"); e && e->is_object()) env = e->get_object();
  for (auto* extra : of_type(result, "managed", "coder_env"))
    if (str(attrs(*extra), "agent_id") == id)
      env[str(attrs(*extra), "name")] = str(attrs(*extra), "value");
  json::array display_apps;
  const auto& display = first_block(a, "display_apps");
  for (auto [key, wire] : {std::pair{"vscode", "vscode"},
                           {"vscode_insiders", "vscode_insiders"},
                           {"web_terminal", "web_terminal"},
                           {"ssh_helper", "ssh_helper"},
                           {"port_forwarding_helper", "port_forwarding_helper"}})
    if (boolean(display, key, std::string(key) != "vscode_insiders"))
      display_apps.emplace_back(wire);
  return json::object{
      {"id", id},
      {"name", name},
      {"status", "connecting"},
      {"lifecycle_state", "created"},
      {"operating_system", str(a, "os", "linux")},
      {"architecture", str(a, "arch", "amd64")},
      {"directory", str(a, "dir")},
      {"environment_variables", std::move(env)},
      {"apps", std::move(apps)},
      {"scripts", std::move(scripts)},
      {"display_apps", std::move(display_apps)},
      {"connection_timeout_seconds", integer(a, "connection_timeout", 120)},
      {"troubleshooting_url", str(a, "troubleshooting_url")},
      {"startup_script_behavior", "non-blocking"},
      {"log_sources", json::array{}},
      {"logs_length", 0},
      {"logs_overflowed", false},
      {"health", json::object{{"healthy", false}, {"reason", "agent is not connected"}}},
      {"version", ""},
      {"api_version", ""},
      {"subsystems", json::array{}},
      {"created_at", nullptr},
      {"updated_at", nullptr}};
}

}  // namespace

json::array parameters_json(const hcl::ModuleResult& result) {
  std::vector<std::pair<std::int64_t, json::value>> ordered;
  for (auto* p : of_type(result, "data", "coder_parameter"))
    ordered.emplace_back(integer(attrs(*p), "order"), parameter_json(attrs(*p)));
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  json::array out;
  for (auto& [order, p] : ordered) out.push_back(std::move(p));
  return out;
}

json::array presets_json(const hcl::ModuleResult& result) {
  json::array out;
  for (auto* p : of_type(result, "data", "coder_workspace_preset")) {
    const auto& a = attrs(*p);
    json::array params;
    if (auto* m = a.if_contains("parameters"); m && m->is_object())
      for (const auto& [k, v] : m->get_object())
        params.push_back(json::object{
            {"name", std::string(k)},
            {"value", v.is_string() ? std::string(v.get_string()) : json::serialize(v)}});
    const auto& prebuilds = first_block(a, "prebuilds");
    out.push_back(json::object{
        {"id", str(a, "id")},
        {"name", str(a, "name")},
        {"parameters", std::move(params)},
        {"default", boolean(a, "default")},
        {"description", str(a, "description")},
        {"icon", str(a, "icon")},
        {"desiredPrebuildInstances",
         prebuilds.empty() ? json::value(nullptr) : json::value(integer(prebuilds, "instances"))}});
  }
  return out;
}

json::array external_auth_json(const hcl::ModuleResult& result) {
  json::array out;
  for (auto* p : of_type(result, "data", "coder_external_auth")) {
    const auto& a = attrs(*p);
    out.push_back(json::object{{"id", str(a, "id")},
                               {"type", str(a, "id")},
                               {"display_name", str(a, "id")},
                               {"display_icon", ""},
                               {"authenticate_url", ""},
                               {"authenticated", false},
                               {"optional", boolean(a, "optional")}});
  }
  return out;
}

json::array variables_json(const std::vector<hcl::File>& files, const hcl::ModuleResult& result,
                           const std::map<std::string, std::string>& provided) {
  json::array out;
  for (const auto& file : files)
    for (const auto& block : file.blocks) {
      if (block.type != "variable" || block.labels.empty()) continue;
      const auto& name = block.labels[0];
      std::string type = "string";
      if (auto* t = block.attribute("type");
          t && t->expression->kind == hcl::ExpressionKind::variable)
        type = t->expression->name;
      bool has_default = block.attribute("default") != nullptr;
      bool sensitive = false;
      if (auto* s = block.attribute("sensitive"); s && s->expression->value.is_bool())
        sensitive = s->expression->value.get_bool();
      std::string description;
      if (auto* d = block.attribute("description"); d && d->expression->value.is_string())
        description = std::string(d->expression->value.get_string());
      auto resolved = result.variables.find(name);
      std::string value;
      if (auto it = provided.find(name); it != provided.end())
        value = it->second;
      else if (resolved != result.variables.end())
        value = resolved->second.is_string() ? std::string(resolved->second.get_string())
                                             : json::serialize(resolved->second);
      std::string default_value;
      if (has_default && resolved != result.variables.end() && !provided.count(name))
        default_value = value;
      out.push_back(json::object{{"name", name},
                                 {"description", description},
                                 {"type", type},
                                 {"value", sensitive ? "" : value},
                                 {"default_value", sensitive ? "" : default_value},
                                 {"required", !has_default},
                                 {"sensitive", sensitive}});
    }
  return out;
}

json::array resources_json(const hcl::ModuleResult& result, const std::string& transition) {
  json::array out;
  auto agents = of_type(result, "managed", "coder_agent");
  for (const auto& r : result.resources) {
    if (r.mode != "managed" || is_bookkeeping(r.type)) continue;
    const auto& a = attrs(r);
    auto id = str(a, "id", Uuid::random_v4().to_string());
    json::array agent_list, metadata;
    for (auto* agent : agents)
      if (references_agent(a, attrs(*agent)))
        agent_list.push_back(agent_json(result, attrs(*agent), agent->name));
    bool hide = false;
    std::string icon;
    std::int64_t cost = 0;
    for (auto* m : of_type(result, "managed", "coder_metadata")) {
      const auto& meta = attrs(*m);
      if (str(meta, "resource_id") != id) continue;
      hide = boolean(meta, "hide");
      icon = str(meta, "icon");
      cost = integer(meta, "daily_cost");
      if (auto* items = meta.if_contains("item"); items && items->is_array())
        for (const auto& item : items->get_array())
          if (item.is_object())
            metadata.push_back(
                json::object{{"key", str(item.get_object(), "key")},
                             {"value", str(item.get_object(), "value")},
                             {"sensitive", boolean(item.get_object(), "sensitive")}});
    }
    out.push_back(json::object{{"id", id},
                               {"created_at", nullptr},
                               {"job_id", ""},
                               {"workspace_transition", transition},
                               {"type", r.type},
                               {"name", r.name},
                               {"hide", hide},
                               {"icon", icon},
                               {"agents", std::move(agent_list)},
                               {"metadata", std::move(metadata)},
                               {"daily_cost", cost}});
  }
  return out;
}

bool has_ai_task(const hcl::ModuleResult& result) {
  return !of_type(result, "managed", "coder_ai_task").empty();
}

}  // namespace berth::provisioner::local
