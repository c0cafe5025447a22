#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "hcl/echo_provider.hpp"
#include "hcl/module.hpp"
#include "hcl/test_util.hpp"
#include "support/temp_dir.hpp"

namespace berth::hcl {
namespace {

namespace fs = std::filesystem;
using testing::EchoProvider;
using testing::error_of;

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << content;
}

// A template unpacked in a temporary directory, with the root module read from main.tf.
class Template {
 public:
  explicit Template(const std::string& main_tf) { write("main.tf", main_tf); }

  void write(const std::string& relative, const std::string& content) const {
    write_file(dir_.path() / relative, content);
  }
  const fs::path& root() const { return dir_.path(); }

  ModuleResult evaluate(Provider& provider, const std::string& registry_dir = "") const {
    std::ifstream in(dir_.path() / "main.tf");
    std::string main_tf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ModuleOptions options;
    options.module_dir = dir_.path().string();
    options.root_dir = dir_.path().string();
    options.registry_module_dir = registry_dir;
    return evaluate_module(parse_module({{"main.tf", main_tf}}), provider, options);
  }

 private:
  berth::testing::TempDir dir_;
};

constexpr const char* kAppModule = R"(variable "name" {
  type = string
}
variable "port" {
  type    = number
  default = "8080"
}
resource "null_resource" "app" {
  name = var.name
}
output "url" {
  value = "http://${null_resource.app.name}:${var.port}"
}
)";

TEST(HclModuleCall, LocalModuleTakesInputsAndExposesOutputsPerCountInstance) {
  Template t(R"(
locals {
  prefix = "app"
}
module "app" {
  count  = 2
  source = "./modules/app"
  name   = "${local.prefix}${count.index}"
}
output "urls" {
  value = module.app[*].url
}
)");
  t.write("modules/app/main.tf", kAppModule);
  EchoProvider provider;
  ModuleResult result = t.evaluate(provider);
  ASSERT_EQ(result.resources.size(), 2u);
  const ResourceInstance& second = result.resources[1];
  EXPECT_EQ(second.module, "module.app[1]");
  EXPECT_EQ(second.address(), "module.app[1].null_resource.app");
  EXPECT_EQ(second.label(), "module.app.null_resource.app");
  EXPECT_EQ(second.position.to_string(), "modules/app/main.tf:8:1");
  EXPECT_EQ(second.depends_on, std::vector<std::string>{"module.app.var.name"});
  EXPECT_EQ(second.attributes.at("name"), json::value("app1"));
  EXPECT_EQ(encode_json(result.outputs["urls"]), R"(["http://app0:8080","http://app1:8080"])");
  // The module is one node of the caller's graph, with its own nodes under its label.
  EXPECT_EQ(result.dependencies["module.app"],
            (std::vector<std::string>{"local.prefix", "module.app.output.url"}));
  EXPECT_EQ(result.dependencies["module.app.var.name"], std::vector<std::string>{"local.prefix"});
  EXPECT_EQ(result.dependencies["module.app.output.url"],
            (std::vector<std::string>{"module.app.null_resource.app", "module.app.var.port"}));
  EXPECT_EQ(result.dependencies["output.urls"], std::vector<std::string>{"module.app"});
  // Count 0: no instances, an empty list of outputs, and the child's files still checked.
  t.write("main.tf", R"(
module "app" {
  count  = 0
  source = "./modules/app"
  name   = "x"
}
output "urls" { value = module.app[*].url }
)");
  result = t.evaluate(provider);
  EXPECT_TRUE(result.resources.empty());
  EXPECT_EQ(encode_json(result.outputs["urls"]), "[]");
}

TEST(HclModuleCall, ForEachModuleIsAMapOfOutputs) {
  Template t(R"(
module "app" {
  for_each = { web = 80, api = 81 }
  source   = "./modules/app"
  name     = each.key
  port     = each.value
}
output "web" { value = module.app["web"].url }
)");
  t.write("modules/app/main.tf", kAppModule);
  EchoProvider provider;
  ModuleResult result = t.evaluate(provider);
  ASSERT_EQ(result.resources.size(), 2u);
  EXPECT_EQ(result.resources[0].address(), R"(module.app["api"].null_resource.app)");
  EXPECT_EQ(result.resources[0].label(), "module.app.null_resource.app");
  EXPECT_EQ(result.outputs["web"], json::value("http://web:80"));
}

TEST(HclModuleCall, NestedModulesReadFilesRelativeToTheirOwnDirectory) {
  Template t(R"(
module "a" {
  source = "./modules/a"
}
output "greeting" { value = module.a.greeting }
)");
  t.write("modules/a/main.tf", R"(
module "b" {
  source  = "../b"
  version = "1.2.3"
  who     = "a"
}
output "greeting" { value = module.b.greeting }
)");
  t.write("modules/b/b.tf", R"(
variable "who" {}
resource "null_resource" "n" {
  text = templatefile("${path.module}/hello.tpl", { who = var.who })
}
output "greeting" { value = trimspace(null_resource.n.text) }
)");
  t.write("modules/b/hello.tpl", "hello ${who}\n");
  EchoProvider provider;
  ModuleResult result = t.evaluate(provider);
  ASSERT_EQ(result.resources.size(), 1u);
  EXPECT_EQ(result.resources[0].address(), "module.a.module.b.null_resource.n");
  EXPECT_EQ(result.resources[0].depends_on, std::vector<std::string>{"module.a.module.b.var.who"});
  EXPECT_EQ(result.outputs["greeting"], json::value("hello a"));
  EXPECT_TRUE(result.dependencies.contains("module.a.module.b.null_resource.n"));
}

TEST(HclModuleCall, ModuleCyclesFailCleanly) {
  Template self(R"(
module "self" {
  source = "./"
}
)");
  EchoProvider provider;
  EXPECT_EQ(error_of([&] { self.evaluate(provider); }),
            "main.tf:3:3: module \"self\": module cycle: the root module is already being "
            "evaluated by a caller of this module");

  Template parent(R"(
module "child" {
  source = "./child"
}
)");
  parent.write("child/main.tf", "module \"up\" {\n  source = \"../\"\n}\n");
  EXPECT_EQ(error_of([&] { parent.evaluate(provider); }),
            "child/main.tf:2:3: module \"up\": module cycle: the root module is already being "
            "evaluated by a caller of this module");
  parent.write("child/main.tf", "module \"down\" {\n  source = \"./grandchild\"\n}\n");
  parent.write("child/grandchild/main.tf", "module \"up\" {\n  source = \"../\"\n}\n");
  EXPECT_EQ(error_of([&] { parent.evaluate(provider); }),
            "child/grandchild/main.tf:2:3: module \"up\": module cycle: child/ is already being "
            "evaluated by a caller of this module");
}

TEST(HclModuleCall, NestingIsBounded) {
  Template t("module \"m\" {\n  source = \"./m\"\n}\n");
  std::string dir = "m";
  for (std::size_t depth = 1; depth <= kMaxModuleDepth + 1; ++depth) {
    t.write(dir + "/main.tf", "module \"m\" {\n  source = \"./m\"\n}\n");
    dir += "/m";
  }
  t.write(dir + "/main.tf", "output \"o\" { value = 1 }\n");
  EchoProvider provider;
  std::string inner;
  for (std::size_t depth = 1; depth <= kMaxModuleDepth; ++depth) inner += "m/";
  EXPECT_EQ(error_of([&] { t.evaluate(provider); }),
            inner + "main.tf:2:3: module \"m\": modules nest more than 16 deep");
}

TEST(HclModuleCall, ModulesWithCountCallingModulesWithCountAreBounded) {
  Template t("module \"a\" {\n  count  = 1000\n  source = \"./a\"\n}\n");
  t.write("a/main.tf", "module \"b\" {\n  count  = 1000\n  source = \"./b\"\n}\n");
  t.write("a/b/main.tf", "output \"o\" { value = 1 }\n");
  EchoProvider provider;
  EXPECT_EQ(error_of([&] { t.evaluate(provider); }),
            "a/main.tf:1:1: the evaluation exceeds 10000000 values, the limit for one template");
}

TEST(HclModuleCall, LocalSourcesStayInsideTheTemplate) {
  berth::testing::TempDir outside;
  write_file(outside.path() / "main.tf", "output \"o\" { value = 1 }\n");
  Template t("module \"x\" {\n  source = \"../" + outside.path().filename().string() + "\"\n}\n");
  EchoProvider provider;
  EXPECT_EQ(error_of([&] { t.evaluate(provider); }), "main.tf:2:3: module \"x\": source \"../" +
                                                         outside.path().filename().string() +
                                                         "\" leaves the template directory");

  fs::create_directory_symlink(outside.path(), t.root() / "linked");
  t.write("main.tf", "module \"x\" {\n  source = \"./linked\"\n}\n");
  EXPECT_EQ(error_of([&] { t.evaluate(provider); }),
            "main.tf:2:3: module \"x\": source \"./linked\" leaves the template directory");

  t.write("main.tf", "module \"x\" {\n  source = \"./missing\"\n}\n");
  EXPECT_EQ(error_of([&] { t.evaluate(provider); }),
            "main.tf:2:3: module \"x\": the module directory \"./missing\" does not exist in the "
            "template directory");

  t.write("empty/README.md", "no terraform here");
  t.write("main.tf", "module \"x\" {\n  source = \"./empty\"\n}\n");
  EXPECT_EQ(error_of([&] { t.evaluate(provider); }),
            "main.tf:2:3: module \"x\": no .tf files in empty/");
}

TEST(HclModuleCall, RegistryModulesAreReadFromTheModuleDirectory) {
  berth::testing::TempDir registry;
  write_file(registry.path() / "registry.coder.com/coder/code-server/coder/main.tf", R"(
variable "agent_id" { type = string }
variable "order" {
  type    = number
  default = null
}
resource "coder_script" "code-server" {
  agent_id = var.agent_id
  script   = file("${path.module}/run.sh")
}
resource "coder_app" "code-server" {
  agent_id = var.agent_id
  slug     = "code-server"
  order    = var.order
}
output "url" { value = "http://localhost:13337" }
)");
  write_file(registry.path() / "registry.coder.com/coder/code-server/coder/run.sh", "echo run\n");
  Template t(R"(
resource "coder_agent" "main" {}
module "code-server" {
  count    = 1
  source   = "registry.coder.com/coder/code-server/coder"
  version  = "~> 1.0"
  agent_id = coder_agent.main.id
}
output "url" { value = module.code-server[0].url }
)");
  EchoProvider provider;
  ModuleResult result = t.evaluate(provider, registry.path().string());
  ASSERT_EQ(result.resources.size(), 3u);
  EXPECT_EQ(result.resources[1].address(), "module.code-server[0].coder_script.code-server");
  EXPECT_EQ(result.resources[1].attributes.at("script"), json::value("echo run\n"));
  EXPECT_EQ(result.resources[1].position.to_string(),
            "registry.coder.com/coder/code-server/coder/main.tf:7:1");
  EXPECT_EQ(result.resources[2].attributes.at("agent_id"), json::value("coder_agent.main"));
  EXPECT_FALSE(result.resources[2].attributes.as_object().contains("order"));
  EXPECT_EQ(result.outputs["url"], json::value("http://localhost:13337"));
  EXPECT_EQ(result.dependencies["module.code-server.var.agent_id"],
            std::vector<std::string>{"coder_agent.main"});
}

TEST(HclModuleCall, MissingRegistryModulesSayHowToProvideThem) {
  Template t(R"(
module "code-server" {
  source = "registry.coder.com/coder/code-server/coder"
}
)");
  EchoProvider provider;
  berth::testing::TempDir registry;
  EXPECT_EQ(error_of([&] { t.evaluate(provider, registry.path().string()); }),
            "main.tf:3:3: module \"code-server\": registry module "
            "\"registry.coder.com/coder/code-server/coder\" is not available; put its files in " +
                registry.path().string() +
                "/registry.coder.com/coder/code-server/coder (berth server "
                "--terraform-module-dir)");
  EXPECT_EQ(error_of([&] { t.evaluate(provider); }),
            "main.tf:3:3: module \"code-server\": registry module "
            "\"registry.coder.com/coder/code-server/coder\" is not available; no module "
            "directory is configured: start berth server with --terraform-module-dir DIR and put "
            "the module's files in DIR/registry.coder.com/coder/code-server/coder");
}

TEST(HclModuleCall, InputsMustMatchTheModuleVariables) {
  Template t(R"(
module "app" {
  source  = "./modules/app"
  name    = "x"
  tooltip = "not an input"
}
)");
  t.write("modules/app/main.tf", kAppModule);
  EchoProvider provider;
  EXPECT_EQ(error_of([&] { t.evaluate(provider); }),
            "main.tf:5:3: module \"app\" has no variable \"tooltip\"; an argument of a module "
            "block must be one of its inputs");
  t.write("main.tf", "module \"app\" {\n  source = \"./modules/app\"\n}\n");
  EXPECT_EQ(error_of([&] { t.evaluate(provider); }),
            "main.tf:1:1: module \"app\": the input \"name\" is required");
  t.write("main.tf", "module \"app\" {\n  source = \"./modules/app\"\n  name = [1]\n}\n");
  EXPECT_EQ(error_of([&] { t.evaluate(provider); }),
            "modules/app/main.tf:2:10: invalid value for variable \"name\": a string is "
            "required, got list");
}

TEST(HclModuleCall, ErrorsInsideAModuleNameItsFile) {
  Template t("module \"app\" {\n  source = \"./app\"\n}\n");
  t.write("app/main.tf", "output \"o\" {\n  value = var.nope\n}\n");
  EchoProvider provider;
  EXPECT_EQ(error_of([&] { t.evaluate(provider); }),
            "app/main.tf:2:11: reference to undeclared input variable \"nope\"");
  t.write("app/main.tf", "output \"o\" {\n  value = \n}\n");
  EXPECT_NE(error_of([&] { t.evaluate(provider); }).find("app/main.tf:"), std::string::npos);
}

// Coder's Docker template, as its quick start ships it.
constexpr const char* kDockerTemplate = R"(terraform {
  required_providers {
    coder    = { source = "coder/coder" }
    docker   = { source = "kreuzwerker/docker" }
    external = { source = "hashicorp/external" }
  }
}
locals {
  username = data.coder_workspace_owner.me.name
  docker_socket_path = (
    var.docker_socket != ""
    ? replace(var.docker_socket, "unix://", "")
    : "/var/run/docker.sock"
  )
}
variable "docker_socket" {
  default     = ""
  description = "(Optional) Docker socket URI"
  type        = string
}
provider "docker" {
  host = var.docker_socket != "" ? var.docker_socket : null
}
data "external" "docker_check" {
  program = ["sh", "-c", <<-EOT
    if [ -S "${local.docker_socket_path}" ] && \
       curl -sf --unix-socket "${local.docker_socket_path}" \
            http://localhost/_ping >/dev/null 2>&1; then
      echo '{"status":"ok"}'
    else
      echo '{"status":"unreachable"}'
    fi
  EOT
  ]
}
data "coder_provisioner" "me" {}
data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}
resource "coder_agent" "main" {
  arch           = data.coder_provisioner.me.arch
  os             = "linux"
  startup_script = "echo started"
  env = {
    GIT_AUTHOR_NAME = coalesce(data.coder_workspace_owner.me.full_name, data.coder_workspace_owner.me.name)
  }
  metadata {
    display_name = "CPU Usage"
    key          = "0_cpu_usage"
    script       = "coder stat cpu"
    interval     = 10
    timeout      = 1
  }
}
module "code-server" {
  count    = data.coder_workspace.me.start_count
  source   = "registry.coder.com/coder/code-server/coder"
  version  = "~> 1.0"
  agent_id = coder_agent.main.id
  order    = 1
}
module "jetbrains" {
  count      = data.coder_workspace.me.start_count
  source     = "registry.coder.com/coder/jetbrains/coder"
  version    = "~> 1.1"
  agent_id   = coder_agent.main.id
  agent_name = "main"
  folder     = "/home/coder"
  tooltip    = "JetBrains IDEs"
}
resource "docker_volume" "home_volume" {
  name = "coder-${data.coder_workspace.me.id}-home"
  lifecycle {
    ignore_changes = all
    precondition {
      condition     = data.external.docker_check.result.status == "ok"
      error_message = "Could not reach Docker at ${local.docker_socket_path}."
    }
  }
  labels {
    label = "coder.owner"
    value = data.coder_workspace_owner.me.name
  }
}
resource "docker_container" "workspace" {
  count      = data.coder_workspace.me.start_count
  image      = "codercom/enterprise-base:ubuntu"
  name       = "coder-${data.coder_workspace_owner.me.name}-${lower(data.coder_workspace.me.name)}"
  hostname   = data.coder_workspace.me.name
  entrypoint = ["sh", "-c", replace(coder_agent.main.init_script, "/localhost|127\\.0\\.0\\.1/", "host.docker.internal")]
  env        = ["CODER_AGENT_TOKEN=${coder_agent.main.token}"]
  host {
    host = "host.docker.internal"
    ip   = "host-gateway"
  }
  volumes {
    container_path = "/home/coder"
    volume_name    = docker_volume.home_volume.name
    read_only      = false
  }
  labels {
    label = "coder.owner"
    value = data.coder_workspace_owner.me.name
  }
}
)";

// Stand-ins for the registry modules: the same inputs, a fraction of the resources.
void write_registry_modules(const fs::path& registry) {
  write_file(registry / "registry.coder.com/coder/code-server/coder/main.tf", R"(
variable "agent_id" { type = string }
variable "order" {
  type    = number
  default = null
}
variable "port" { default = 13337 }
resource "coder_script" "code-server" {
  agent_id     = var.agent_id
  run_on_start = true
  script       = templatefile("${path.module}/run.sh", { PORT = var.port })
  lifecycle {
    precondition {
      condition     = var.port > 0
      error_message = "port must be positive"
    }
  }
}
resource "coder_app" "code-server" {
  agent_id = var.agent_id
  slug     = "code-server"
  url      = "http://localhost:${var.port}/"
  order    = var.order
}
)");
  write_file(registry / "registry.coder.com/coder/code-server/coder/run.sh",
             "code-server --bind-addr 127.0.0.1:${PORT}\n");
  write_file(registry / "registry.coder.com/coder/jetbrains/coder/main.tf", R"(
variable "agent_id" { type = string }
variable "agent_name" { default = null }
variable "folder" {
  type = string
  validation {
    condition     = can(regex("^(?:/[^/]+)+/?$", var.folder))
    error_message = "The folder must be a full path."
  }
}
variable "tooltip" { default = null }
variable "default" {
  type    = set(string)
  default = ["PY", "GO"]
}
data "coder_workspace" "me" {}
resource "coder_app" "jetbrains" {
  for_each = var.default
  agent_id = var.agent_id
  slug     = "jetbrains-${lower(each.key)}"
  url      = "jetbrains://gateway/coder?workspace=${data.coder_workspace.me.name}&folder=${var.folder}&ide_product_code=${each.key}"
  tooltip  = var.tooltip
}
)");
}

TEST(HclModuleCall, CodersDockerTemplateEvaluates) {
  Template t(kDockerTemplate);
  berth::testing::TempDir registry;
  write_registry_modules(registry.path());
  EchoProvider provider;
  provider.init_script = "curl -fsSL http://127.0.0.1:3000/bin/agent | sh";
  ModuleResult result = t.evaluate(provider, registry.path().string());

  std::vector<std::string> addresses;
  for (const auto& r : result.resources) addresses.push_back(r.address());
  EXPECT_EQ(addresses, (std::vector<std::string>{
                           "data.external.docker_check",
                           "data.coder_provisioner.me",
                           "data.coder_workspace.me",
                           "data.coder_workspace_owner.me",
                           "coder_agent.main",
                           "module.code-server[0].coder_script.code-server",
                           "module.code-server[0].coder_app.code-server",
                           R"(module.jetbrains[0].data.coder_workspace.me)",
                           R"(module.jetbrains[0].coder_app.jetbrains["GO"])",
                           R"(module.jetbrains[0].coder_app.jetbrains["PY"])",
                           "docker_volume.home_volume",
                           "docker_container.workspace[0]",
                       }));
  // The provider block is for the caller; a null host means the provider's default.
  EXPECT_EQ(encode_json(result.providers["docker"]), "{}");
  const json::value& check = result.resources[0].attributes;
  EXPECT_NE(check.at("program").at(2).as_string().find("-S \"/var/run/docker.sock\""),
            std::string::npos);

  const ResourceInstance& volume = result.resources[10];
  EXPECT_TRUE(volume.ignore_all_changes);
  EXPECT_EQ(volume.depends_on,
            (std::vector<std::string>{"data.coder_workspace.me", "data.coder_workspace_owner.me",
                                      "data.external.docker_check", "local.docker_socket_path"}));
  const json::value& container = result.resources[11].attributes;
  EXPECT_EQ(encode_json(container.at("entrypoint")),
            R"(["sh","-c","curl -fsSL http://host.docker.internal:3000/bin/agent | sh"])");
  EXPECT_EQ(container.at("name"), json::value("coder-ann-dev"));
  EXPECT_EQ(volume.attributes.at("name"), json::value("coder-data.coder_workspace.me-home"));
  EXPECT_EQ(encode_json(container.at("volumes")),
            R"([{"container_path":"/home/coder","read_only":false,)"
            R"("volume_name":"coder-data.coder_workspace.me-home"}])");

  const json::value& script = result.resources[5].attributes;
  EXPECT_EQ(script.at("agent_id"), json::value("coder_agent.main"));
  EXPECT_EQ(script.at("script"), json::value("code-server --bind-addr 127.0.0.1:13337\n"));
  EXPECT_EQ(result.resources[6].attributes.at("order"), json::value(1));
  EXPECT_EQ(result.resources[8].attributes.at("tooltip"), json::value("JetBrains IDEs"));
  EXPECT_EQ(result.dependencies["module.code-server.var.agent_id"],
            std::vector<std::string>{"coder_agent.main"});
  EXPECT_EQ(result.dependencies["module.code-server"],
            (std::vector<std::string>{"coder_agent.main", "data.coder_workspace.me"}));

  // Stop: the modules and the container have no instances; the volume stays.
  provider.start_count = 0;
  result = t.evaluate(provider, registry.path().string());
  addresses.clear();
  for (const auto& r : result.resources) addresses.push_back(r.address());
  EXPECT_EQ(addresses,
            (std::vector<std::string>{"data.external.docker_check", "data.coder_provisioner.me",
                                      "data.coder_workspace.me", "data.coder_workspace_owner.me",
                                      "coder_agent.main", "docker_volume.home_volume"}));

  // An unreachable engine stops the build at the volume's precondition, before the volume.
  provider.external_status = "unreachable";
  EXPECT_EQ(error_of([&] { t.evaluate(provider, registry.path().string()); }),
            "main.tf:75:7: precondition failed: Could not reach Docker at /var/run/docker.sock.");
}

}  // namespace
}  // namespace berth::hcl
