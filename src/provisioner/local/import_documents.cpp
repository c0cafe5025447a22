#include "provisioner/local/import_documents.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "common/error.hpp"
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

// Coder lists every managed resource as a WorkspaceResource except these, which describe
// agents and resources rather than being resources themselves (coder_env, coder_ai_task and
// coder_external_agent are listed).
bool is_bookkeeping(const std::string& type) {
  return type == "coder_agent" || type == "coder_app" || type == "coder_script" ||
         type == "coder_metadata" || type == "coder_agent_instance";
}

// Whether a graph node can host agents or carry metadata: a managed resource that has at least
// one instance, and not one of the coder provider's own (Coder never attaches its resources to
// each other), except coder_external_agent, which stands for a machine outside the template.
bool can_host(const std::string& label, const std::set<std::string>& instantiated) {
  if (!instantiated.contains(label)) return false;
  // A module's resources are labeled "module.NAME.TYPE.NAME": judge them by their own type.
  std::string_view local = label;
  while (local.starts_with("module.")) {
    auto dot = local.find('.', 7);
    if (dot == std::string_view::npos) return false;
    local.remove_prefix(dot + 1);
  }
  if (local.starts_with("data.")) return false;
  return !local.starts_with("coder_") || local.starts_with("coder_external_agent.");
}

// Terraform's dependency graph as `terraform graph` prints it, which Coder's provisioner reads:
// an edge from each declaration to each one it refers to, transitively reduced.
class DependencyGraph {
 public:
  explicit DependencyGraph(const std::map<std::string, std::vector<std::string>>& dependencies)
      : down_(dependencies) {
    reduce();
    for (const auto& [from, tos] : down_)
      for (const auto& to : tos) up_[to].push_back(from);
  }

  // The host nearest to `start`, walking towards dependents (`up`) or dependencies; ties go
  // to the lexically smallest label. This is how Coder places an agent (up) and a
  // coder_metadata (down).
  std::optional<std::string> nearest(const std::string& start, bool up,
                                     const std::set<std::string>& instantiated) const {
    const auto& edges = up ? up_ : down_;
    std::map<std::string, std::size_t> depth{{start, 0}};
    std::vector<std::string> frontier{start};
    for (std::size_t level = 0; !frontier.empty(); ++level) {
      std::vector<std::string> next, hosts;
      for (const auto& node : frontier) {
        auto it = edges.find(node);
        if (it == edges.end()) continue;
        for (const auto& n : it->second) {
          if (!depth.emplace(n, level + 1).second) continue;
          next.push_back(n);
          if (can_host(n, instantiated)) hosts.push_back(n);
        }
      }
      if (!hosts.empty()) return *std::min_element(hosts.begin(), hosts.end());
      frontier = std::move(next);
    }
    return std::nullopt;
  }

 private:
  // Everything `node` depends on, directly or not; memoized (the graph is acyclic: the
  // evaluator rejected cycles).
  const std::set<std::string>& descendants(const std::string& node) {
    if (auto it = descendants_.find(node); it != descendants_.end()) return it->second;
    std::set<std::string> out;
    if (auto it = down_.find(node); it != down_.end())
      for (const auto& d : it->second) {
        out.insert(d);
        const auto& below = descendants(d);
        out.insert(below.begin(), below.end());
      }
    return descendants_[node] = std::move(out);
  }

  // Drops an edge a → c when a also reaches c through another of its dependencies.
  void reduce() {
    for (const auto& [from, tos] : down_) descendants(from);
    for (auto& [from, tos] : down_) {
      std::vector<std::string> kept;
      for (const auto& to : tos) {
        bool implied = false;
        for (const auto& other : tos)
          if (other != to && descendants_[other].contains(to)) implied = true;
        if (!implied) kept.push_back(to);
      }
      tos = std::move(kept);
    }
  }

  std::map<std::string, std::set<std::string>> descendants_;
  std::map<std::string, std::vector<std::string>> down_;
  std::map<std::string, std::vector<std::string>> up_;
};

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

// One script of an agent; `log_sources` receives the log source its output goes to, as Coder
// creates one per script.
json::value script_json(const json::object& s, const std::string& agent_id,
                        json::array& log_sources) {
  auto log_source_id = Uuid::random_v4().to_string();
  log_sources.push_back(json::object{{"id", log_source_id},
                                     {"workspace_agent_id", agent_id},
                                     {"created_at", nullptr},
                                     {"display_name", str(s, "display_name")},
                                     {"icon", str(s, "icon")}});
  return json::object{{"id", str(s, "id", Uuid::random_v4().to_string())},
                      {"log_source_id", log_source_id},
                      {"log_path", str(s, "log_path")},
                      {"display_name", str(s, "display_name")},
                      {"icon", str(s, "icon")},
                      {"script", str(s, "script")},
                      {"cron", str(s, "cron")},
                      {"run_on_start", boolean(s, "run_on_start")},
                      {"run_on_stop", boolean(s, "run_on_stop")},
                      {"start_blocks_login", boolean(s, "start_blocks_login")},
                      {"timeout", integer(s, "timeout")}};
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

json::value app_json(const hcl::ResourceInstance& r) {
  const auto& a = attrs(r);
  const auto& health = first_block(a, "healthcheck");
  // Coder: the slug defaults to the resource name, the display name to the deprecated `name`,
  // then to the slug; unknown share and open_in values fall back to owner and slim-window.
  auto slug = str(a, "slug", r.name);
  auto display_name = str(a, "display_name", str(a, "name", slug));
  auto share = lower(str(a, "share", "owner"));
  if (share != "authenticated" && share != "public" && share != "organization") share = "owner";
  auto open_in = lower(str(a, "open_in"));
  if (open_in != "tab") open_in = "slim-window";
  return json::object{{"id", str(a, "id")},
                      {"slug", slug},
                      {"display_name", display_name.empty() ? slug : display_name},
                      {"url", str(a, "url")},
                      {"command", str(a, "command")},
                      {"icon", str(a, "icon")},
                      {"subdomain", boolean(a, "subdomain")},
                      {"subdomain_name", ""},
                      {"sharing_level", share},
                      {"external", boolean(a, "external")},
                      {"group", str(a, "group")},
                      {"hidden", boolean(a, "hidden")},
                      {"open_in", open_in},
                      {"order", integer(a, "order")},
                      {"tooltip", str(a, "tooltip")},
                      {"statuses", json::array{}},
                      {"health", health.empty() ? "disabled" : "initializing"},
                      {"healthcheck", json::object{{"url", str(health, "url")},
                                                   {"interval", integer(health, "interval")},
                                                   {"threshold", integer(health, "threshold")}}}};
}

// The deprecated startup_script and shutdown_script attributes become scripts, as in Coder.
void legacy_scripts(const json::object& a, const std::string& agent_id, json::array& scripts,
                    json::array& log_sources) {
  bool blocking = str(a, "startup_script_behavior", "non-blocking") == "blocking";
  if (auto script = str(a, "startup_script"); !script.empty())
    scripts.push_back(script_json(json::object{{"display_name", "Startup Script"},
                                               {"icon", "/emojis/25b6.png"},
                                               {"log_path", "coder-startup-script.log"},
                                               {"script", script},
                                               {"start_blocks_login", blocking},
                                               {"run_on_start", true}},
                                  agent_id, log_sources));
  if (auto script = str(a, "shutdown_script"); !script.empty())
    scripts.push_back(script_json(json::object{{"display_name", "Shutdown Script"},
                                               {"icon", "/emojis/25c0.png"},
                                               {"log_path", "coder-shutdown-script.log"},
                                               {"script", script},
                                               {"run_on_stop", true}},
                                  agent_id, log_sources));
}

// codersdk.WorkspaceAgentMetadataDescription[] plus `order`, from the agent's metadata blocks.
json::array agent_metadata_json(const json::object& a) {
  json::array out;
  if (auto* items = a.if_contains("metadata"); items && items->is_array())
    for (const auto& item : items->get_array())
      if (item.is_object()) {
        const auto& m = item.get_object();
        out.push_back(json::object{{"key", str(m, "key")},
                                   {"display_name", str(m, "display_name")},
                                   {"script", str(m, "script")},
                                   {"interval", integer(m, "interval")},
                                   {"timeout", integer(m, "timeout")},
                                   {"order", integer(m, "order")}});
      }
  return out;
}

// Coder attaches apps, scripts and env to the agent whose id their agent_id holds.
bool belongs_to(const hcl::ResourceInstance& r, const std::string& agent_id) {
  return !agent_id.empty() && str(attrs(r), "agent_id") == agent_id;
}

json::value agent_json(const hcl::ModuleResult& result, const hcl::ResourceInstance& agent) {
  const auto& a = attrs(agent);
  auto id = str(a, "id");
  json::array apps, scripts, log_sources;
  legacy_scripts(a, id, scripts, log_sources);
  for (auto* app : of_type(result, "managed", "coder_app"))
    if (belongs_to(*app, id)) apps.push_back(app_json(*app));
  for (auto* script : of_type(result, "managed", "coder_script"))
    if (belongs_to(*script, id)) scripts.push_back(script_json(attrs(*script), id, log_sources));
  json::object env;
  if (auto* e = a.if_contains("env"); e && e->is_object()) env = e->get_object();
  for (auto* extra : of_type(result, "managed", "coder_env"))
    if (belongs_to(*extra, id)) env[str(attrs(*extra), "name")] = str(attrs(*extra), "value");
  json::array display_apps;
  const auto& display = first_block(a, "display_apps");
  for (const char* key :
       {"vscode", "vscode_insiders", "web_terminal", "ssh_helper", "port_forwarding_helper"})
    if (boolean(display, key, std::string(key) != "vscode_insiders"))
      display_apps.emplace_back(key);
  // An instance id only applies to agents that authenticate by instance identity.
  std::string instance_id;
  if (str(a, "auth", "token") != "token")
    for (auto* instance : of_type(result, "managed", "coder_agent_instance"))
      if (belongs_to(*instance, id)) instance_id = str(attrs(*instance), "instance_id");
  auto behavior = str(a, "startup_script_behavior", "non-blocking");
  return json::object{
      {"id", id},
      {"name", agent.name},
      {"status", "connecting"},
      {"lifecycle_state", "created"},
      {"operating_system", str(a, "os", "linux")},
      {"architecture", str(a, "arch", "amd64")},
      {"directory", str(a, "dir")},
      {"environment_variables", std::move(env)},
      {"apps", std::move(apps)},
      {"scripts", std::move(scripts)},
      {"display_apps", std::move(display_apps)},
      {"metadata", agent_metadata_json(a)},
      {"order", integer(a, "order")},
      {"instance_id", instance_id},
      {"connection_timeout_seconds", integer(a, "connection_timeout", 120)},
      {"troubleshooting_url", str(a, "troubleshooting_url")},
      {"motd_file", str(a, "motd_file")},
      {"startup_script_behavior", behavior == "blocking" ? "blocking" : "non-blocking"},
      {"log_sources", std::move(log_sources)},
      {"logs_length", 0},
      {"logs_overflowed", false},
      {"health", json::object{{"healthy", false}, {"reason", "agent is not connected"}}},
      {"version", ""},
      {"api_version", ""},
      {"subsystems", json::array{}},
      {"created_at", nullptr},
      {"updated_at", nullptr}};
}

// What Coder's coder_metadata adds to the resource it is attached to.
struct ResourceMetadata {
  bool hide = false;
  std::string icon;
  std::int64_t daily_cost = 0;
  json::array items;
};

ResourceMetadata metadata_of(const json::object& meta) {
  ResourceMetadata out{boolean(meta, "hide"), str(meta, "icon"), integer(meta, "daily_cost"), {}};
  if (auto* items = meta.if_contains("item"); items && items->is_array())
    for (const auto& item : items->get_array())
      if (item.is_object())
        out.items.push_back(json::object{{"key", str(item.get_object(), "key")},
                                         {"value", str(item.get_object(), "value")},
                                         {"sensitive", boolean(item.get_object(), "sensitive")}});
  return out;
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

json::array resources_json(const hcl::ModuleResult& result, sdk::WorkspaceTransition transition) {
  std::set<std::string> instantiated;
  for (const auto& r : result.resources) instantiated.insert(r.label());
  DependencyGraph graph(result.dependencies);

  // Coder: each agent goes to the nearest resource that depends on it; every instance of that
  // resource's block lists it.
  std::map<std::string, json::array> agents_by_label;
  for (auto* agent : of_type(result, "managed", "coder_agent"))
    if (auto host = graph.nearest(agent->label(), true, instantiated))
      agents_by_label[*host].push_back(agent_json(result, *agent));

  // Coder: each coder_metadata describes the nearest resource it depends on, one per resource.
  std::map<std::string, ResourceMetadata> metadata_by_label;
  for (auto* m : of_type(result, "managed", "coder_metadata")) {
    auto target = graph.nearest(m->label(), false, instantiated);
    if (!target) continue;
    if (!metadata_by_label.emplace(*target, metadata_of(attrs(*m))).second)
      throw Error{ErrorCode::invalid, "duplicate metadata resource: " + *target};
  }

  json::array out;
  for (const auto& r : result.resources) {
    if (r.mode != "managed" || is_bookkeeping(r.type)) continue;
    auto label = r.label();
    ResourceMetadata meta;
    if (auto it = metadata_by_label.find(label); it != metadata_by_label.end()) meta = it->second;
    json::array agents;
    if (auto it = agents_by_label.find(label); it != agents_by_label.end()) agents = it->second;
    out.push_back(json::object{{"id", str(attrs(r), "id", Uuid::random_v4().to_string())},
                               {"created_at", nullptr},
                               {"job_id", ""},
                               {"workspace_transition", sdk::to_string(transition)},
                               {"type", r.type},
                               {"name", r.name},
                               {"hide", meta.hide},
                               {"icon", meta.icon},
                               {"agents", std::move(agents)},
                               {"metadata", std::move(meta.items)},
                               {"daily_cost", meta.daily_cost}});
  }
  return out;
}

bool has_ai_task(const hcl::ModuleResult& result) {
  return !of_type(result, "managed", "coder_ai_task").empty();
}

bool has_external_agent(const hcl::ModuleResult& result) {
  return !of_type(result, "managed", "coder_external_agent").empty();
}

}  // namespace berth::provisioner::local
