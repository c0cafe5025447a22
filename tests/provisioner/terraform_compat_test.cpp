// Compatibility with Coder's provisioner: each case is one of the templates under Coder's
// provisioner/terraform/testdata/resources/, rewritten from its `terraform show -json` plan
// (whose `configuration` section shows the resources and expressions), imported by the local
// provisioner, and compared with what the same template's Terraform state says. The JSON files
// are read at run time from the shared testdata directory, never copied into the repository.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "hcl/module.hpp"
#include "provisioner/local/coder_provider.hpp"
#include "provisioner/local/import_documents.hpp"
#include "provisioner/local/local_provisioner.hpp"
#include "support/temp_dir.hpp"

namespace berth::provisioner::local {
namespace {

namespace fs = std::filesystem;

fs::path testdata_dir() {
  return fs::path(BERTH_SHARED_DIR) / "testdata" / "terraform";
}

std::optional<json::value> read_case_file(const std::string& name, const std::string& kind) {
  auto path = testdata_dir() / name / (name + "." + kind + ".json");
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return json::parse(buffer.str());
}

// ---- reading Terraform state --------------------------------------------------------------

struct StateResource {
  std::string address, mode, type, name;
  json::object values;
  std::vector<std::string> depends_on;
  std::string label() const { return (mode == "data" ? "data." : "") + type + "." + name; }
};

// Child modules first, then the module's own resources: the order Coder reads them in.
void collect_state(const json::object& module, std::vector<StateResource>& out) {
  if (auto* children = module.if_contains("child_modules"))
    for (const auto& child : children->as_array()) collect_state(child.as_object(), out);
  if (auto* resources = module.if_contains("resources"))
    for (const auto& v : resources->as_array()) {
      const auto& r = v.as_object();
      StateResource s{std::string(r.at("address").as_string()),
                      std::string(r.at("mode").as_string()),
                      std::string(r.at("type").as_string()),
                      std::string(r.at("name").as_string()),
                      r.at("values").as_object(),
                      {}};
      if (auto* deps = r.if_contains("depends_on"))
        for (const auto& d : deps->as_array()) s.depends_on.emplace_back(d.as_string());
      out.push_back(std::move(s));
    }
}

std::vector<StateResource> state_resources(const json::value& state) {
  std::vector<StateResource> out;
  collect_state(state.at("values").at("root_module").as_object(), out);
  return out;
}

// Attribute readers that treat null as Terraform does: absent.
std::string text(const json::object& o, const char* key, std::string fallback = {}) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return fallback;
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_bool()) return v->get_bool() ? "true" : "false";
  if (v->is_int64()) return std::to_string(v->get_int64());
  return json::serialize(*v);
}
bool flag(const json::object& o, const char* key, bool fallback = false) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() ? v->get_bool() : fallback;
}
std::int64_t number(const json::object& o, const char* key, std::int64_t fallback = 0) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return fallback;
}
const json::object& block(const json::object& o, const char* key) {
  static const json::object kEmpty;
  auto* v = o.if_contains(key);
  if (v && v->is_array() && !v->get_array().empty()) return v->get_array()[0].as_object();
  return kEmpty;
}

bool is_host_label(const std::string& label) {
  return !label.starts_with("data.") &&
         (!label.starts_with("coder_") || label.starts_with("coder_external_agent."));
}
bool is_bookkeeping(const std::string& type) {
  return type == "coder_agent" || type == "coder_app" || type == "coder_script" ||
         type == "coder_metadata" || type == "coder_agent_instance";
}
// The coder_agent an app, script or env belongs to, by its dependency on it.
std::string agent_of(const StateResource& r) {
  for (const auto& d : r.depends_on)
    if (d.starts_with("coder_agent.")) return d.substr(std::string("coder_agent.").size());
  return {};
}

// ---- running Berth --------------------------------------------------------------------------

struct Imported {
  json::array parameters, presets, resources;
  bool has_ai_task = false;
  bool has_external_agent = false;
  hcl::ModuleResult start;  // the start transition's evaluation, for graph checks
};

Imported import_template(const std::string& main_tf) {
  testing::TempDir work;
  LocalProvisioner provisioner("http://127.0.0.1:3000", "berth", work.path().string());
  JobContext context{[](coderd::JobLogLine) {}, [] { return false; }};
  ImportRequest request{{{"main.tf", main_tf}}, {}};
  auto result = provisioner.import_template(request, context);
  Imported out;
  out.parameters = json::parse(result.parameters).as_array();
  out.presets = json::parse(result.presets).as_array();
  // Only the start transition: Coder's testdata is a start plan.
  auto resources = json::parse(result.resources);
  for (const auto& r : resources.as_array())
    if (r.at("workspace_transition") == "start") out.resources.push_back(r);
  out.has_ai_task = result.has_ai_task;

  BuildContext build;
  build.import = true;
  CoderProvider provider(build);
  hcl::ModuleOptions options;
  options.module_dir = work.path().string();
  out.start = hcl::evaluate_module(hcl::parse_module({{"main.tf", main_tf}}), provider, options);
  out.has_external_agent = has_external_agent(out.start);
  return out;
}

const json::object* find_by(const json::array& list, const char* key, const std::string& value) {
  for (const auto& v : list)
    if (v.as_object().at(key).as_string() == value) return &v.as_object();
  return nullptr;
}

// ---- comparisons --------------------------------------------------------------------------

// Every managed resource Coder lists is listed by Berth (same type and name, same number of
// instances), with the agents that depend on it. In these templates each host depends on its
// agents directly, so the state's depends_on names them.
void expect_resources(const std::vector<StateResource>& state, const Imported& berth) {
  std::multiset<std::string> want, got;
  for (const auto& r : state)
    if (r.mode == "managed" && !is_bookkeeping(r.type)) want.insert(r.label());
  for (const auto& r : berth.resources)
    got.insert(std::string(r.at("type").as_string()) + "." + std::string(r.at("name").as_string()));
  EXPECT_EQ(want, got);
  for (const auto& r : state) {
    if (r.mode != "managed" || is_bookkeeping(r.type)) continue;
    std::set<std::string> agents_want, agents_got;
    for (const auto& d : r.depends_on)
      if (d.starts_with("coder_agent.")) agents_want.insert(d.substr(12));
    for (const auto& b : berth.resources)
      if (b.at("type") == r.type.c_str() && b.at("name") == r.name.c_str())
        for (const auto& a : b.at("agents").as_array())
          agents_got.emplace(a.at("name").as_string());
    EXPECT_EQ(agents_want, agents_got) << "agents of " << r.label();
  }
}

const json::object* berth_agent(const Imported& berth, const std::string& name) {
  for (const auto& r : berth.resources)
    if (auto* a = find_by(r.at("agents").as_array(), "name", name)) return a;
  return nullptr;
}

void expect_agent(const StateResource& s, const json::object& a) {
  const auto& v = s.values;
  SCOPED_TRACE("agent " + s.name);
  EXPECT_EQ(a.at("operating_system"), text(v, "os").c_str());
  EXPECT_EQ(a.at("architecture"), text(v, "arch").c_str());
  EXPECT_EQ(a.at("directory"), text(v, "dir").c_str());
  EXPECT_EQ(a.at("troubleshooting_url"), text(v, "troubleshooting_url").c_str());
  EXPECT_EQ(a.at("connection_timeout_seconds").as_int64(), number(v, "connection_timeout"));
  EXPECT_EQ(a.at("order").as_int64(), number(v, "order"));
  EXPECT_EQ(a.at("startup_script_behavior"), text(v, "startup_script_behavior").c_str());
  json::object env;
  if (auto* e = v.if_contains("env"); e && e->is_object()) env = e->as_object();
  EXPECT_EQ(a.at("environment_variables").as_object(), env);
  const auto& display = block(v, "display_apps");
  std::set<std::string> apps_want, apps_got;
  // Coder reads these five (codersdk.DisplayApp); newer providers add keys it ignores.
  for (const char* key :
       {"vscode", "vscode_insiders", "web_terminal", "ssh_helper", "port_forwarding_helper"})
    if (flag(display, key)) apps_want.emplace(key);
  for (const auto& d : a.at("display_apps").as_array()) apps_got.emplace(d.as_string());
  EXPECT_EQ(apps_want, apps_got);
  json::array metadata;
  if (auto* m = v.if_contains("metadata"); m && m->is_array())
    for (const auto& item : m->as_array()) {
      const auto& i = item.as_object();
      metadata.push_back(json::object{{"key", text(i, "key")},
                                      {"display_name", text(i, "display_name")},
                                      {"script", text(i, "script")},
                                      {"interval", number(i, "interval")},
                                      {"timeout", number(i, "timeout")},
                                      {"order", number(i, "order")}});
    }
  EXPECT_EQ(a.at("metadata").as_array(), metadata);
  if (auto startup = text(v, "startup_script"); !startup.empty()) {
    EXPECT_NE(find_by(a.at("scripts").as_array(), "script", startup), nullptr);
  }
}

void expect_app(const StateResource& s, const json::object& agent) {
  const auto& v = s.values;
  auto slug = text(v, "slug", s.name);
  SCOPED_TRACE("app " + slug);
  const auto* app = find_by(agent.at("apps").as_array(), "slug", slug);
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->at("display_name"), text(v, "display_name", text(v, "name", slug)).c_str());
  EXPECT_EQ(app->at("url"), text(v, "url").c_str());
  EXPECT_EQ(app->at("command"), text(v, "command").c_str());
  EXPECT_EQ(app->at("icon"), text(v, "icon").c_str());
  EXPECT_EQ(app->at("sharing_level"), text(v, "share", "owner").c_str());
  EXPECT_EQ(app->at("subdomain").as_bool(), flag(v, "subdomain"));
  EXPECT_EQ(app->at("external").as_bool(), flag(v, "external"));
  EXPECT_EQ(app->at("group"), text(v, "group").c_str());
  EXPECT_EQ(app->at("hidden").as_bool(), flag(v, "hidden"));
  EXPECT_EQ(app->at("order").as_int64(), number(v, "order"));
  EXPECT_EQ(app->at("open_in"), text(v, "open_in", "slim-window").c_str());
  const auto& health = block(v, "healthcheck");
  EXPECT_EQ(app->at("healthcheck"), (json::object{{"url", text(health, "url")},
                                                  {"interval", number(health, "interval")},
                                                  {"threshold", number(health, "threshold")}}));
  EXPECT_EQ(app->at("health"), health.empty() ? "disabled" : "initializing");
}

void expect_script(const StateResource& s, const json::object& agent) {
  const auto& v = s.values;
  SCOPED_TRACE("script " + s.name);
  const auto* script = find_by(agent.at("scripts").as_array(), "script", text(v, "script"));
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(script->at("display_name"), text(v, "display_name").c_str());
  EXPECT_EQ(script->at("cron"), text(v, "cron").c_str());
  EXPECT_EQ(script->at("log_path"), text(v, "log_path").c_str());
  EXPECT_EQ(script->at("run_on_start").as_bool(), flag(v, "run_on_start"));
  EXPECT_EQ(script->at("run_on_stop").as_bool(), flag(v, "run_on_stop"));
  EXPECT_EQ(script->at("start_blocks_login").as_bool(), flag(v, "start_blocks_login"));
  EXPECT_EQ(script->at("timeout").as_int64(), number(v, "timeout"));
  // Coder creates one log source per script; the script names it.
  EXPECT_NE(find_by(agent.at("log_sources").as_array(), "id",
                    std::string(script->at("log_source_id").as_string())),
            nullptr);
}

// The coder_metadata's values land on the resource it depends on.
void expect_metadata(const StateResource& s, const Imported& berth) {
  const auto& v = s.values;
  std::string target;
  for (const auto& d : s.depends_on)
    if (is_host_label(d) && !d.starts_with("coder_")) target = d;
  SCOPED_TRACE("metadata " + s.name + " on " + target);
  const json::object* resource = nullptr;
  for (const auto& r : berth.resources)
    if (std::string(r.at("type").as_string()) + "." + std::string(r.at("name").as_string()) ==
        target)
      resource = &r.as_object();
  ASSERT_NE(resource, nullptr);
  EXPECT_EQ(resource->at("hide").as_bool(), flag(v, "hide"));
  EXPECT_EQ(resource->at("icon"), text(v, "icon").c_str());
  EXPECT_EQ(resource->at("daily_cost").as_int64(), number(v, "daily_cost"));
  json::array items;
  for (const auto& item : v.at("item").as_array()) {
    const auto& i = item.as_object();
    items.push_back(json::object{
        {"key", text(i, "key")}, {"value", text(i, "value")}, {"sensitive", flag(i, "sensitive")}});
  }
  EXPECT_EQ(resource->at("metadata").as_array(), items);
}

void expect_parameter(const json::object& v, const json::object& p) {
  SCOPED_TRACE("parameter " + text(v, "name"));
  EXPECT_EQ(p.at("type"), text(v, "type").c_str());
  EXPECT_EQ(p.at("default_value"), text(v, "default").c_str());
  EXPECT_EQ(p.at("description"), text(v, "description").c_str());
  EXPECT_EQ(p.at("display_name"), text(v, "display_name").c_str());
  EXPECT_EQ(p.at("icon"), text(v, "icon").c_str());
  EXPECT_EQ(p.at("mutable").as_bool(), flag(v, "mutable"));
  EXPECT_EQ(p.at("ephemeral").as_bool(), flag(v, "ephemeral"));
  EXPECT_EQ(p.at("required").as_bool(), !flag(v, "optional"));
  EXPECT_EQ(p.at("form_type"), text(v, "form_type").c_str());
  json::array options;
  if (auto* o = v.if_contains("option"); o && o->is_array())
    for (const auto& option : o->as_array()) {
      const auto& i = option.as_object();
      options.push_back(json::object{{"name", text(i, "name")},
                                     {"description", text(i, "description")},
                                     {"value", text(i, "value")},
                                     {"icon", text(i, "icon")}});
    }
  EXPECT_EQ(p.at("options").as_array(), options);
  const auto& validation = block(v, "validation");
  EXPECT_EQ(p.at("validation_regex"), text(validation, "regex").c_str());
  EXPECT_EQ(p.at("validation_error"), text(validation, "error").c_str());
  EXPECT_EQ(p.at("validation_monotonic"), text(validation, "monotonic").c_str());
  // Coder reports a bound unless the provider marks it disabled (not set in the template).
  for (auto [bound, disabled, wire] : {std::tuple{"min", "min_disabled", "validation_min"},
                                       std::tuple{"max", "max_disabled", "validation_max"}}) {
    if (validation.empty() || flag(validation, disabled, true)) {
      EXPECT_FALSE(p.contains(wire)) << wire;
    } else {
      ASSERT_TRUE(p.contains(wire)) << wire;
      EXPECT_EQ(p.at(wire).as_int64(), number(validation, bound)) << wire;
    }
  }
}

// Berth's ResourceInstance::depends_on, followed transitively to managed resources, is what
// Terraform records as each resource's dependencies in state.
void expect_dependencies(const std::vector<StateResource>& state, const hcl::ModuleResult& r) {
  for (const auto& s : state) {
    if (s.mode != "managed" || s.address.starts_with("module.")) continue;
    std::set<std::string> closure, want(s.depends_on.begin(), s.depends_on.end());
    std::vector<std::string> stack;
    for (const auto& instance : r.resources)
      if (instance.label() == s.label())
        stack.insert(stack.end(), instance.depends_on.begin(), instance.depends_on.end());
    while (!stack.empty()) {
      auto key = stack.back();
      stack.pop_back();
      if (!closure.insert(key).second) continue;
      if (auto it = r.dependencies.find(key); it != r.dependencies.end())
        stack.insert(stack.end(), it->second.begin(), it->second.end());
    }
    std::erase_if(closure, [](const std::string& k) {
      return k.starts_with("data.") || k.starts_with("var.") || k.starts_with("local.") ||
             k.starts_with("output.");
    });
    EXPECT_EQ(closure, want) << "dependencies of " << s.label();
  }
}

// Compares everything Coder would extract from the case's state with Berth's import of `tf`.
Imported check_case(const std::string& name, const std::string& tf) {
  auto state_json = read_case_file(name, "tfstate");
  auto plan_json = read_case_file(name, "tfplan");
  if (!state_json || !plan_json) return {};
  auto state = state_resources(*state_json);
  Imported berth = import_template(tf);

  expect_resources(state, berth);
  expect_dependencies(state, berth.start);
  for (const auto& s : state) {
    if (s.mode == "managed" && s.type == "coder_agent") {
      const auto* agent = berth_agent(berth, s.name);
      EXPECT_NE(agent, nullptr) << "agent " << s.name;
      if (agent) expect_agent(s, *agent);
    }
    if (s.mode == "managed" && (s.type == "coder_app" || s.type == "coder_script")) {
      const auto* agent = berth_agent(berth, agent_of(s));
      EXPECT_NE(agent, nullptr) << s.address;
      if (!agent) continue;
      if (s.type == "coder_app") expect_app(s, *agent);
      if (s.type == "coder_script") expect_script(s, *agent);
    }
    if (s.mode == "managed" && s.type == "coder_metadata") expect_metadata(s, berth);
  }
  // Apps and scripts: as many as the state has, none invented.
  std::size_t apps = 0, scripts = 0, state_apps = 0, state_scripts = 0;
  for (const auto& r : berth.resources)
    for (const auto& a : r.at("agents").as_array()) {
      apps += a.at("apps").as_array().size();
      scripts += a.at("scripts").as_array().size();
    }
  for (const auto& s : state) {
    state_apps += s.mode == "managed" && s.type == "coder_app";
    state_scripts += s.mode == "managed" && s.type == "coder_script";
    if (s.mode == "managed" && s.type == "coder_agent")
      state_scripts +=
          !text(s.values, "startup_script").empty() + !text(s.values, "shutdown_script").empty();
  }
  EXPECT_EQ(apps, state_apps);
  EXPECT_EQ(scripts, state_scripts);

  // Parameters, in Coder's order: child modules first, then each module's own, by address.
  std::vector<std::string> names_want, names_got;
  for (const auto& s : state)
    if (s.mode == "data" && s.type == "coder_parameter") {
      names_want.push_back(text(s.values, "name"));
      const auto* p = find_by(berth.parameters, "name", text(s.values, "name"));
      EXPECT_NE(p, nullptr) << s.address;
      if (p) expect_parameter(s.values, *p);
    }
  for (const auto& p : berth.parameters) names_got.emplace_back(p.at("name").as_string());
  EXPECT_EQ(names_want, names_got);

  std::size_t presets = 0;
  for (const auto& s : state) {
    if (s.mode != "data" || s.type != "coder_workspace_preset") continue;
    ++presets;
    const auto* p = find_by(berth.presets, "name", text(s.values, "name"));
    EXPECT_NE(p, nullptr) << s.address;
    if (!p) continue;
    json::array params;
    for (const auto& [k, v] : s.values.at("parameters").as_object())
      params.push_back(json::object{{"name", std::string(k)}, {"value", v}});
    EXPECT_EQ(p->at("parameters").as_array(), params);
    const auto& prebuilds = block(s.values, "prebuilds");
    if (prebuilds.empty()) {
      EXPECT_TRUE(p->at("desiredPrebuildInstances").is_null());
    } else {
      EXPECT_EQ(p->at("desiredPrebuildInstances").as_int64(), number(prebuilds, "instances"));
    }
  }
  EXPECT_EQ(berth.presets.size(), presets);

  bool ai_task = false, external_agent = false;
  for (const auto& s : state) {
    ai_task |= s.mode == "managed" && s.type == "coder_ai_task";
    external_agent |= s.mode == "managed" && s.type == "coder_external_agent";
  }
  EXPECT_EQ(berth.has_ai_task, ai_task);
  EXPECT_EQ(berth.has_external_agent, external_agent);
  return berth;
}

class TerraformCompat : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::is_directory(testdata_dir()))
      GTEST_SKIP() << "no Terraform testdata at " << testdata_dir().string();
  }
};

constexpr const char* kProviders = R"(
terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = ">= 2.0.0"
    }
  }
}
)";

std::string tf(const std::string& body) {
  return kProviders + body;
}

TEST_F(TerraformCompat, DisplayApps) {
  check_case("display-apps", tf(R"(
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  display_apps {
    vscode                 = false
    vscode_insiders        = true
    web_terminal           = true
    port_forwarding_helper = false
    ssh_helper             = false
  }
}

resource "null_resource" "dev" {
  depends_on = [coder_agent.main]
}
)"));
}

TEST_F(TerraformCompat, MultipleAgentsMultipleApps) {
  check_case("multiple-agents-multiple-apps", tf(R"(
resource "coder_agent" "dev1" {
  os   = "linux"
  arch = "amd64"
}

resource "coder_agent" "dev2" {
  os   = "linux"
  arch = "amd64"
}

resource "coder_app" "app1" {
  agent_id = coder_agent.dev1.id
  slug     = "app1"
}

resource "coder_app" "app2" {
  agent_id  = coder_agent.dev1.id
  slug      = "app2"
  subdomain = true
  healthcheck {
    url       = "http://localhost:13337/healthz"
    interval  = 5
    threshold = 6
  }
}

resource "coder_app" "app3" {
  agent_id  = coder_agent.dev2.id
  slug      = "app3"
  subdomain = false
}

resource "null_resource" "dev1" {
  depends_on = [coder_agent.dev1]
}

resource "null_resource" "dev2" {
  depends_on = [coder_agent.dev2]
}
)"));
}

TEST_F(TerraformCompat, MultipleAgentsMultipleScripts) {
  check_case("multiple-agents-multiple-scripts", tf(R"(
resource "coder_agent" "dev1" {
  os   = "linux"
  arch = "amd64"
}

resource "coder_agent" "dev2" {
  os   = "linux"
  arch = "amd64"
}

resource "coder_script" "script1" {
  agent_id     = coder_agent.dev1.id
  display_name = "Foobar Script 1"
  script       = "echo foobar 1"
  run_on_start = true
}

resource "coder_script" "script2" {
  agent_id     = coder_agent.dev1.id
  display_name = "Foobar Script 2"
  script       = "echo foobar 2"
  run_on_start = true
}

resource "coder_script" "script3" {
  agent_id     = coder_agent.dev2.id
  display_name = "Foobar Script 3"
  script       = "echo foobar 3"
  run_on_start = true
}

resource "null_resource" "dev1" {
  depends_on = [coder_agent.dev1]
}

resource "null_resource" "dev2" {
  depends_on = [coder_agent.dev2]
}
)"));
}

TEST_F(TerraformCompat, ResourceMetadata) {
  auto berth = check_case("resource-metadata", tf(R"(
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  metadata {
    key          = "process_count"
    display_name = "Process Count"
    script       = "ps -ef | wc -l"
    interval     = 5
    timeout      = 1
    order        = 7
  }
}

resource "null_resource" "about" {
  depends_on = [coder_agent.main]
}

resource "coder_metadata" "about_info" {
  resource_id = null_resource.about.id
  hide        = true
  icon        = "/icon/server.svg"
  daily_cost  = 29
  item {
    key   = "hello"
    value = "world"
  }
  item {
    key = "null"
  }
  item {
    key   = "empty"
    value = ""
  }
  item {
    key       = "secret"
    value     = "squirrel"
    sensitive = true
  }
}
)"));
  ASSERT_EQ(berth.resources.size(), 1u);
  EXPECT_EQ(berth.resources[0].at("name"), "about");
}

TEST_F(TerraformCompat, InstanceId) {
  auto berth = check_case("instance-id", tf(R"(
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  auth = "google-instance-identity"
}

resource "null_resource" "main" {
  depends_on = [coder_agent.main]
}

resource "coder_agent_instance" "main" {
  agent_id    = coder_agent.main.id
  instance_id = "example"
}
)"));
  const auto* agent = berth_agent(berth, "main");
  ASSERT_NE(agent, nullptr);
  EXPECT_EQ(agent->at("instance_id"), "example");
}

// The original iterates a map with for_each (`for_each = local.apps_map`, slug = each.key,
// display_name = each.value.name). Berth's evaluator rejects for_each (a limitation its own
// tests pin), so this equivalent uses count over the map's sorted keys, which produces the
// same two apps in the same order.
TEST_F(TerraformCompat, MappedAppsWithCountEquivalent) {
  check_case("mapped-apps", tf(R"(
locals {
  apps_map = {
    "app1" = { name = "app1" }
    "app2" = { name = "app2" }
  }
  app_keys = sort(keys(local.apps_map))
}

resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
}

resource "coder_app" "apps" {
  count        = length(local.app_keys)
  agent_id     = coder_agent.dev.id
  slug         = local.app_keys[count.index]
  display_name = local.apps_map[local.app_keys[count.index]].name
}

resource "null_resource" "dev" {
  depends_on = [coder_agent.dev]
}
)"));
}

// The parameters Coder's rich-parameters and presets cases declare in a module and its child
// module (`module "this_is_external_module" { source = "./external-module" }`). Berth does not
// evaluate module blocks, so they are inlined, before the root module's own, which keeps
// Coder's order (child modules first).
constexpr const char* kModuleParameters = R"(
data "coder_parameter" "child_first_parameter_from_module" {
  name        = "First parameter from child module"
  type        = "string"
  description = "First parameter from child module"
  mutable     = true
  default     = "abcdef"
}

data "coder_parameter" "child_second_parameter_from_module" {
  name        = "Second parameter from child module"
  type        = "string"
  description = "Second parameter from child module"
  mutable     = true
  default     = "ghijkl"
}

data "coder_parameter" "first_parameter_from_module" {
  name        = "First parameter from module"
  type        = "string"
  description = "First parameter from module"
  mutable     = true
  default     = "abcdef"
}

data "coder_parameter" "second_parameter_from_module" {
  name        = "Second parameter from module"
  type        = "string"
  description = "Second parameter from module"
  mutable     = true
  default     = "ghijkl"
}
)";

constexpr const char* kWindowsAgentOnNullResource = R"(
resource "coder_agent" "dev" {
  os   = "windows"
  arch = "arm64"
}

resource "null_resource" "dev" {
  depends_on = [coder_agent.dev]
}
)";

TEST_F(TerraformCompat, RichParameters) {
  check_case("rich-parameters",
             tf(std::string(kModuleParameters) + kWindowsAgentOnNullResource + R"(
data "coder_parameter" "example" {
  name = "Example"
  type = "string"
  option {
    name  = "First Option"
    value = "first"
  }
  option {
    name  = "Second Option"
    value = "second"
  }
}

data "coder_parameter" "number_example" {
  name    = "number_example"
  type    = "number"
  default = 4
}

data "coder_parameter" "number_example_max_zero" {
  name    = "number_example_max_zero"
  type    = "number"
  default = -2
  validation {
    min = -3
    max = 0
  }
}

data "coder_parameter" "number_example_min_max" {
  name    = "number_example_min_max"
  type    = "number"
  default = 4
  validation {
    min = 3
    max = 6
  }
}

data "coder_parameter" "number_example_min_zero" {
  name    = "number_example_min_zero"
  type    = "number"
  default = 4
  validation {
    min = 0
    max = 6
  }
}

data "coder_parameter" "sample" {
  name        = "Sample"
  type        = "string"
  description = "blah blah"
  default     = "ok"
}
)"));
}

TEST_F(TerraformCompat, RichParametersValidation) {
  check_case("rich-parameters-validation", tf(std::string(kWindowsAgentOnNullResource) + R"(
data "coder_parameter" "number_example" {
  name      = "number_example"
  type      = "number"
  default   = 4
  mutable   = true
  ephemeral = true
}

data "coder_parameter" "number_example_max" {
  name    = "number_example_max"
  type    = "number"
  default = 4
  validation {
    max = 6
  }
}

data "coder_parameter" "number_example_max_zero" {
  name    = "number_example_max_zero"
  type    = "number"
  default = -3
  validation {
    max = 0
  }
}

data "coder_parameter" "number_example_min" {
  name    = "number_example_min"
  type    = "number"
  default = 4
  validation {
    min = 3
  }
}

data "coder_parameter" "number_example_min_max" {
  name    = "number_example_min_max"
  type    = "number"
  default = 4
  validation {
    min = 3
    max = 6
  }
}

data "coder_parameter" "number_example_min_zero" {
  name    = "number_example_min_zero"
  type    = "number"
  default = 4
  validation {
    min = 0
  }
}
)"));
}

TEST_F(TerraformCompat, Presets) {
  check_case("presets", tf(std::string(kModuleParameters) + kWindowsAgentOnNullResource + R"(
data "coder_parameter" "sample" {
  name        = "Sample"
  type        = "string"
  description = "blah blah"
  default     = "ok"
}

data "coder_workspace_preset" "MyFirstProject" {
  name = "My First Project"
  parameters = {
    (data.coder_parameter.sample.name) = "A1B2C3"
  }
  prebuilds {
    instances = 4
    expiration_policy {
      ttl = 86400
    }
    scheduling {
      timezone = "America/Los_Angeles"
      schedule {
        cron      = "* 8-18 * * 1-5"
        instances = 3
      }
      schedule {
        cron      = "* 8-14 * * 6"
        instances = 1
      }
    }
  }
}
)"));
}

constexpr const char* kWorkspaceData = R"(
data "coder_provisioner" "me" {}
data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}
)";

// The ai-tasks cases: has_ai_task, and the app the task names (app_id, or the deprecated
// sidebar_app { id }, which the provider copies into app_id).
void expect_ai_task_apps(const Imported& berth, const std::map<std::string, std::string>& want) {
  std::map<std::string, std::string> got;
  for (const auto& r : berth.start.resources)
    if (r.type == "coder_ai_task")
      got[r.address()] = std::string(r.attributes.at("app_id").as_string());
  EXPECT_EQ(got, want);
}

TEST_F(TerraformCompat, AiTasksApp) {
  auto berth = check_case("ai-tasks-app", tf(std::string(kWorkspaceData) + R"(
resource "coder_ai_task" "a" {
  count  = 1
  app_id = "5ece4674-dd35-4f16-88c8-82e40e72e2fd"
}
)"));
  expect_ai_task_apps(berth, {{"coder_ai_task.a[0]", "5ece4674-dd35-4f16-88c8-82e40e72e2fd"}});
}

TEST_F(TerraformCompat, AiTasksSidebar) {
  auto berth = check_case("ai-tasks-sidebar", tf(std::string(kWorkspaceData) + R"(
resource "coder_ai_task" "a" {
  count = 1
  sidebar_app {
    id = "5ece4674-dd35-4f16-88c8-82e40e72e2fd"
  }
}
)"));
  expect_ai_task_apps(berth, {{"coder_ai_task.a[0]", "5ece4674-dd35-4f16-88c8-82e40e72e2fd"}});
}

TEST_F(TerraformCompat, AiTasksMultiple) {
  auto berth = check_case("ai-tasks-multiple", tf(std::string(kWorkspaceData) + R"(
resource "coder_ai_task" "a" {
  count = 1
  sidebar_app {
    id = "5ece4674-dd35-4f16-88c8-82e40e72e2fd"
  }
}

resource "coder_ai_task" "b" {
  count  = 1
  app_id = "5ece4674-dd35-4f16-88c8-82e40e72e2fd"
}
)"));
  expect_ai_task_apps(berth, {{"coder_ai_task.a[0]", "5ece4674-dd35-4f16-88c8-82e40e72e2fd"},
                              {"coder_ai_task.b[0]", "5ece4674-dd35-4f16-88c8-82e40e72e2fd"}});
}

// The plan links the external agent through `token = coder_agent.dev1.token`, the (newer)
// state through `agent_id`, holding the same value; either way it depends on the agent, which
// is what places the agent on it.
TEST_F(TerraformCompat, ExternalAgents) {
  check_case("external-agents", tf(std::string(kWorkspaceData) + R"(
resource "coder_agent" "dev1" {
  os   = "linux"
  arch = "amd64"
}

resource "coder_external_agent" "dev1" {
  agent_id = coder_agent.dev1.token
}
)"));
}

// ---- Coder's placement rules beyond the recorded cases ------------------------------------

Imported import_only(const std::string& body) {
  return import_template(tf(body));
}

std::map<std::string, std::vector<std::string>> agents_by_resource(const Imported& berth) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& r : berth.resources) {
    auto& names =
        out[std::string(r.at("type").as_string()) + "." + std::string(r.at("name").as_string())];
    for (const auto& a : r.at("agents").as_array()) names.emplace_back(a.at("name").as_string());
  }
  return out;
}

TEST(CoderPlacement, AgentGoesToTheNearestDependentResource) {
  // Coder's chaining-resources case: b depends on the agent, a only on b.
  auto berth = import_only(R"(
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}
resource "null_resource" "b" {
  depends_on = [coder_agent.main]
}
resource "null_resource" "a" {
  depends_on = [null_resource.b]
}
)");
  using V = std::vector<std::string>;
  EXPECT_EQ(agents_by_resource(berth),
            (std::map<std::string, V>{{"null_resource.a", V{}}, {"null_resource.b", V{"main"}}}));
}

TEST(CoderPlacement, TiesGoToTheSmallestAddress) {
  // Coder's conflicting-resources case.
  auto berth = import_only(R"(
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}
resource "null_resource" "second" {
  depends_on = [coder_agent.main]
}
resource "null_resource" "first" {
  depends_on = [coder_agent.main]
}
)");
  using V = std::vector<std::string>;
  EXPECT_EQ(agents_by_resource(berth), (std::map<std::string, V>{{"null_resource.first", V{"main"}},
                                                                 {"null_resource.second", V{}}}));
}

TEST(CoderPlacement, ReferencesThroughLocalsAndTransitiveReductionCount) {
  // `outer` refers to the agent directly and through `inner`; in Terraform's reduced graph
  // only the path through `inner` remains, so `inner` is nearer. The token reaches `inner`
  // through a local value, which is a node of its own but still a dependency.
  auto berth = import_only(R"(
locals {
  token = coder_agent.main.token
}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}
resource "terraform_data" "inner" {
  input = local.token
}
resource "null_resource" "outer" {
  triggers = {
    token = coder_agent.main.token
    inner = terraform_data.inner.id
  }
}
)");
  using V = std::vector<std::string>;
  EXPECT_EQ(agents_by_resource(berth),
            (std::map<std::string, V>{{"null_resource.outer", V{}},
                                      {"terraform_data.inner", V{"main"}}}));
}

TEST(CoderPlacement, CountedHostsAllListTheAgent) {
  auto berth = import_only(R"(
data "coder_workspace" "me" {}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  startup_script = "echo hi"
  startup_script_behavior = "blocking"
}
resource "null_resource" "dev" {
  count = data.coder_workspace.me.start_count * 2
  triggers = {
    init = coder_agent.main.init_script
  }
}
)");
  ASSERT_EQ(berth.resources.size(), 2u);
  for (const auto& r : berth.resources) {
    ASSERT_EQ(r.at("agents").as_array().size(), 1u);
    const auto& agent = r.at("agents").as_array()[0].as_object();
    const auto& scripts = agent.at("scripts").as_array();
    ASSERT_EQ(scripts.size(), 1u);
    EXPECT_EQ(scripts[0].at("display_name"), "Startup Script");
    EXPECT_EQ(scripts[0].at("log_path"), "coder-startup-script.log");
    EXPECT_TRUE(scripts[0].at("start_blocks_login").as_bool());
    EXPECT_EQ(agent.at("log_sources").as_array().size(), 1u);
  }
}

TEST(CoderPlacement, MetadataGoesToTheResourceItDependsOnAndOnlyOnce) {
  auto berth = import_only(R"(
resource "null_resource" "a" {}
resource "null_resource" "b" {}
resource "coder_metadata" "a" {
  resource_id = null_resource.a.id
  item {
    key   = "k"
    value = "v"
  }
}
)");
  for (const auto& r : berth.resources)
    EXPECT_EQ(r.at("metadata").as_array().size(), r.at("name") == "a" ? 1u : 0u);
  EXPECT_THROW(import_only(R"(
resource "null_resource" "a" {}
resource "coder_metadata" "one" {
  resource_id = null_resource.a.id
}
resource "coder_metadata" "two" {
  resource_id = null_resource.a.id
}
)"),
               Error);
}

}  // namespace
}  // namespace berth::provisioner::local
