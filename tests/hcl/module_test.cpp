#include "hcl/module.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "hcl/test_util.hpp"
#include "support/temp_dir.hpp"

namespace berth::hcl {
namespace {

using testing::error_of;

// Echoes the configuration back with an `id`, plus the computed attributes the coder
// provider would add; records the order of plan calls.
class EchoProvider : public Provider {
 public:
  bool supports(const std::string& mode, const std::string& type) const override {
    static const std::set<std::string> known = {
        "data.coder_workspace",   "data.coder_workspace_owner", "data.coder_parameter",
        "managed.coder_agent",    "managed.coder_app",          "managed.local_process",
        "managed.coder_metadata", "managed.null_resource"};
    return known.contains(mode + "." + type);
  }

  json::value plan(const std::string& mode, const std::string& type, const std::string& name,
                   std::optional<std::int64_t> index, json::value config,
                   const Position& position) override {
    std::string id = mode == "data" ? "data." : "";
    id.append(type).append(".").append(name);
    if (index) id.append("[").append(std::to_string(*index)).append("]");
    calls.push_back(id);
    configs[id] = config;
    positions[id] = position;
    json::object out = config.as_object();
    out["id"] = id;
    if (type == "coder_workspace") {
      out["start_count"] = start_count;
      out["name"] = "dev";
    }
    if (type == "coder_workspace_owner") out["name"] = "ann";
    if (type == "coder_parameter") {
      const json::value* d = out.if_contains("default");
      out["value"] = d ? *d : json::value("");
    }
    if (type == "coder_agent") {
      out["token"] = "token-" + name;
      out["init_script"] = "curl agent | sh";
    }
    return out;
  }

  std::int64_t start_count = 1;
  std::vector<std::string> calls;
  std::map<std::string, json::value> configs;
  std::map<std::string, Position> positions;
};

constexpr const char* kTemplate = R"(terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

provider "coder" {
  url = var.does_not_matter
}

variable "image" {
  type        = string
  default     = "ubuntu"
  description = "The base image"
}

variable "cpus" {
  type = number
  validation {
    condition     = var.cpus > 0
    error_message = "cpus must be positive"
  }
}

data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

data "coder_parameter" "region" {
  name         = "region"
  display_name = "Region"
  default      = "us"
  mutable      = true
  option {
    name  = "US"
    value = "us"
  }
  option {
    name  = "EU"
    value = "eu"
  }
}

# Declared before the agent it depends on: evaluation follows references, not file order.
resource "local_process" "dev" {
  count   = data.coder_workspace.me.start_count
  command = ["sh", "-c", coder_agent.main.init_script]
  env = {
    CODER_AGENT_TOKEN = coder_agent.main.token
    INDEX             = count.index
  }
  cpus       = var.cpus
  image      = var.image
  nothing    = null
  depends_on = [coder_agent.main]
  lifecycle {
    ignore_changes = all
  }
}

locals {
  username = data.coder_workspace_owner.me.name
  home     = "/home/${local.username}"
}

resource "coder_agent" "main" {
  arch = "amd64"
  os   = "linux"
  dir  = local.home
  startup_script = <<-EOT
    set -e
    echo "hello ${local.username} in ${data.coder_parameter.region.value}"
  EOT
  env = {
    REGION = data.coder_parameter.region.value
  }
  metadata {
    display_name = "CPU"
    key          = "cpu"
    script       = "top -bn1"
    interval     = 10
  }
  metadata {
    display_name = "Disk"
    key          = "disk"
    script       = "df -h"
    interval     = 60
  }
}

resource "coder_app" "code" {
  agent_id = coder_agent.main.id
  slug     = "code"
  url      = "http://localhost:8080/?folder=${local.home}"
  healthcheck {
    url = "http://localhost:8080/healthz"
  }
}

resource "coder_metadata" "process" {
  count       = data.coder_workspace.me.start_count
  resource_id = local_process.dev[count.index].id
  item {
    key   = "image"
    value = var.image
  }
}

output "agent_token" {
  value = coder_agent.main.token
}

output "process_ids" {
  value = local_process.dev[*].id
}
)";

ModuleOptions options_with(std::map<std::string, json::value> variables) {
  ModuleOptions options;
  options.variable_values = std::move(variables);
  return options;
}

std::vector<File> template_files() {
  return parse_module({{"main.tf", kTemplate}});
}

TEST(HclModule, EvaluatesCoderTemplateOnStart) {
  EchoProvider provider;
  ModuleResult result = evaluate_module(template_files(), provider, options_with({{"cpus", "4"}}));

  EXPECT_EQ(provider.calls,
            (std::vector<std::string>{"data.coder_workspace.me", "data.coder_workspace_owner.me",
                                      "data.coder_parameter.region", "coder_agent.main",
                                      "local_process.dev[0]", "coder_app.code",
                                      "coder_metadata.process[0]"}));
  ASSERT_EQ(result.resources.size(), 7u);
  const ResourceInstance& process = result.resources[4];
  EXPECT_EQ(process.mode, "managed");
  EXPECT_EQ(process.type, "local_process");
  EXPECT_EQ(process.name, "dev");
  EXPECT_EQ(process.index, std::optional<std::int64_t>(0));
  EXPECT_EQ(process.position.to_string(), "main.tf:46:1");
  EXPECT_FALSE(result.resources[3].index.has_value());

  // Meta-arguments and null attributes never reach the provider; numbers are converted.
  EXPECT_EQ(encode_json(provider.configs["local_process.dev[0]"]),
            R"({"command":["sh","-c","curl agent | sh"],"cpus":4,)"
            R"("env":{"CODER_AGENT_TOKEN":"token-main","INDEX":0},"image":"ubuntu"})");
  const json::value& agent = provider.configs["coder_agent.main"];
  EXPECT_EQ(agent.at("startup_script"), json::value("set -e\necho \"hello ann in us\"\n"));
  EXPECT_EQ(agent.at("dir"), json::value("/home/ann"));
  EXPECT_EQ(encode_json(agent.at("metadata")),
            R"([{"display_name":"CPU","interval":10,"key":"cpu","script":"top -bn1"},)"
            R"({"display_name":"Disk","interval":60,"key":"disk","script":"df -h"}])");
  EXPECT_EQ(provider.configs["data.coder_parameter.region"].at("option").as_array().size(), 2u);
  EXPECT_EQ(provider.configs["coder_app.code"].at("agent_id"), json::value("coder_agent.main"));
  EXPECT_EQ(provider.configs["coder_metadata.process[0]"].at("resource_id"),
            json::value("local_process.dev[0]"));

  EXPECT_EQ(result.outputs["agent_token"], json::value("token-main"));
  EXPECT_EQ(encode_json(result.outputs["process_ids"]), R"(["local_process.dev[0]"])");
  EXPECT_EQ(result.variables["cpus"], json::value(4));
  EXPECT_EQ(result.variables["image"], json::value("ubuntu"));
}

TEST(HclModule, StopHasNoComputeInstances) {
  EchoProvider provider;
  provider.start_count = 0;
  ModuleResult result = evaluate_module(template_files(), provider, options_with({{"cpus", 1}}));
  for (const auto& r : result.resources) EXPECT_NE(r.type, "local_process");
  EXPECT_EQ(result.resources.size(), 5u);
  EXPECT_EQ(encode_json(result.outputs["process_ids"]), "[]");
}

TEST(HclModule, MissingVariableIsRequired) {
  EchoProvider provider;
  EXPECT_EQ(error_of([&] { evaluate_module(template_files(), provider, ModuleOptions{}); }),
            "main.tf:19:1: variable \"cpus\" is required");
}

TEST(HclModule, VariableValidationAndTypeErrorsArePositioned) {
  EchoProvider provider;
  EXPECT_EQ(error_of([&] {
              evaluate_module(template_files(), provider, options_with({{"cpus", 0}}));
            }),
            "main.tf:21:3: invalid value for variable \"cpus\": cpus must be positive");
  EXPECT_EQ(error_of([&] {
              evaluate_module(template_files(), provider, options_with({{"cpus", "many"}}));
            }),
            "main.tf:20:10: invalid value for variable \"cpus\": a number is required, got string");
}

TEST(HclModule, ConvertsCollectionVariablesFromJsonStrings) {
  EchoProvider provider;
  auto files = parse_module({{"v.tf", R"(
variable "tags" { type = list(string) }
variable "limits" { type = map(number) }
variable "flag" { type = bool }
output "all" { value = [var.tags, var.limits, var.flag] }
)"}});
  ModuleResult result = evaluate_module(
      files, provider,
      options_with({{"tags", R"(["a", 1])"}, {"limits", R"({"cpu": "2"})"}, {"flag", "true"}}));
  EXPECT_EQ(encode_json(result.outputs["all"]), R"([["a","1"],{"cpu":2},true])");
}

struct ModuleErrorCase {
  std::string name;
  std::string source;
  std::string message;
};

class HclModuleError : public ::testing::TestWithParam<ModuleErrorCase> {};

TEST_P(HclModuleError, ReportsPositionedError) {
  EchoProvider provider;
  EXPECT_EQ(error_of([&] {
              evaluate_module(parse_module({{"m.tf", GetParam().source}}), provider, {});
            }),
            GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HclModuleError,
    ::testing::Values(
        ModuleErrorCase{"LocalsCycle", "locals {\n  a = local.b\n  b = local.a\n}\n",
                        "m.tf:2:3: dependency cycle: local.a -> local.b -> local.a"},
        ModuleErrorCase{"ResourceCycle",
                        "resource \"null_resource\" \"a\" {\n  x = null_resource.b.id\n}\n"
                        "resource \"null_resource\" \"b\" {\n  x = local.c\n}\n"
                        "locals {\n  c = null_resource.a.id\n}\n",
                        "m.tf:1:1: dependency cycle: null_resource.a -> null_resource.b -> "
                        "local.c -> null_resource.a"},
        ModuleErrorCase{"SelfReference",
                        "resource \"null_resource\" \"a\" {\n  x = null_resource.a.id\n}\n",
                        "m.tf:1:1: dependency cycle: null_resource.a -> null_resource.a"},
        ModuleErrorCase{"UnknownResourceType", "resource \"aws_instance\" \"x\" {}\n",
                        "m.tf:1:1: unknown resource type \"aws_instance\""},
        ModuleErrorCase{"UnknownDataSource", "\n\ndata \"aws_ami\" \"x\" {}\n",
                        "m.tf:3:1: unknown data source \"aws_ami\""},
        ModuleErrorCase{"UnsupportedAttribute",
                        "resource \"null_resource\" \"a\" {}\noutput \"o\" {\n  value = "
                        "null_resource.a.nope\n}\n",
                        "m.tf:3:26: unsupported attribute \"nope\""},
        ModuleErrorCase{"UndeclaredResource",
                        "output \"o\" {\n  value = coder_agent.main.token\n}\n",
                        "m.tf:2:11: reference to undeclared resource \"coder_agent.main\""},
        ModuleErrorCase{
            "UndeclaredDataSource", "output \"o\" { value = data.coder_workspace.me.name }\n",
            "m.tf:1:22: reference to undeclared data source \"data.coder_workspace.me\""},
        ModuleErrorCase{"UndeclaredVariable", "locals { a = var.nope }\n",
                        "m.tf:1:14: reference to undeclared input variable \"nope\""},
        ModuleErrorCase{"UndeclaredLocal", "locals { a = local.nope }\n",
                        "m.tf:1:14: reference to undeclared local value \"nope\""},
        ModuleErrorCase{"UnknownFunction", "locals {\n  a = 1\n  b = foo(local.a)\n}\n",
                        "m.tf:3:7: unknown function \"foo\""},
        ModuleErrorCase{"ForEach", "resource \"null_resource\" \"a\" {\n  for_each = {}\n}\n",
                        "m.tf:2:3: for_each is not supported; use count"},
        ModuleErrorCase{"NegativeCount", "resource \"null_resource\" \"a\" {\n  count = -1\n}\n",
                        "m.tf:2:3: count must be a whole number, 0 or more"},
        ModuleErrorCase{"HugeCount", "resource \"null_resource\" \"a\" {\n  count = 1e9\n}\n",
                        "m.tf:2:3: count must be at most 1000"},
        ModuleErrorCase{"CountIndexWithoutCount",
                        "resource \"null_resource\" \"a\" {\n  x = count.index\n}\n",
                        "m.tf:2:7: count.index is only available in a block that sets count"},
        ModuleErrorCase{"IndexOutOfRange",
                        "resource \"null_resource\" \"a\" {\n  count = 1\n}\n"
                        "output \"o\" { value = null_resource.a[1].id }\n",
                        "m.tf:4:37: invalid index 1 for a list of 1 elements"},
        ModuleErrorCase{"InterpolateNull", "locals { a = \"x${null}\" }\n",
                        "m.tf:1:18: cannot interpolate a null value into a string"},
        ModuleErrorCase{"InterpolateList", "locals { a = \"x${[1]}\" }\n",
                        "m.tf:1:18: cannot interpolate a list value into a string"},
        ModuleErrorCase{"ConditionNotBool", "locals { a = 1 ? 2 : 3 }\n",
                        "m.tf:1:14: the condition must be a bool, got number"},
        ModuleErrorCase{"AndNotBool", "locals { a = true && 1 }\n",
                        "m.tf:1:19: the operands of && must be a bool, got number"},
        ModuleErrorCase{"ArithmeticOnString", "locals { a = \"x\" * 2 }\n",
                        "m.tf:1:18: the * operator needs numbers, got string"},
        ModuleErrorCase{"DivisionByZero", "locals { a = 1 / 0 }\n", "m.tf:1:16: division by zero"},
        ModuleErrorCase{
            "DuplicateResource",
            "resource \"null_resource\" \"a\" {}\nresource \"null_resource\" \"a\" {}\n",
            "m.tf:2:1: duplicate declaration of null_resource.a"},
        ModuleErrorCase{"ModuleBlock", "module \"x\" {}\n",
                        "m.tf:1:1: module blocks are not supported"},
        ModuleErrorCase{"TopLevelAttribute", "a = 1\n",
                        "m.tf:1:1: unexpected attribute \"a\" at the top level"},
        ModuleErrorCase{"OutputWithoutValue", "output \"o\" {}\n",
                        "m.tf:1:1: output \"o\" needs a value"},
        ModuleErrorCase{"ExponentialString",
                        "locals {\n  a0 = \"xxxxxxxxxxxxxxxx\"\n" +
                            [] {
                              std::string s;
                              for (int i = 1; i <= 40; ++i)
                                s += "  a" + std::to_string(i) + " = \"${local.a" +
                                     std::to_string(i - 1) + "}${local.a" + std::to_string(i - 1) +
                                     "}\"\n";
                              return s;
                            }() +
                            "}\n",
                        "m.tf:23:3: the value of local.a21 is too large or too deeply nested"},
        ModuleErrorCase{"DeepNestingThroughLocals",
                        "locals {\n  d0 = 1\n" +
                            [] {
                              std::string s;
                              for (int i = 1; i <= 400; ++i)
                                s += "  d" + std::to_string(i) + " = [local.d" +
                                     std::to_string(i - 1) + "]\n";
                              return s;
                            }() +
                            "}\n",
                        "m.tf:259:3: the value of local.d257 is too large or too deeply nested"}),
    [](const auto& info) { return info.param.name; });

TEST(HclModule, ProviderErrorsPropagate) {
  class Failing : public EchoProvider {
   public:
    json::value plan(const std::string&, const std::string&, const std::string&,
                     std::optional<std::int64_t>, json::value, const Position& p) override {
      throw Error{ErrorCode::invalid, p.to_string() + ": agent is broken"};
    }
  } provider;
  EXPECT_EQ(error_of([&] {
              evaluate_module(parse_module({{"m.tf", "resource \"coder_agent\" \"a\" {}\n"}}),
                              provider, {});
            }),
            "m.tf:1:1: agent is broken");
}

TEST(HclModule, CountIndexesInstancesAndSplatsCollectThem) {
  EchoProvider provider;
  auto files = parse_module({{"a.tf", R"(
resource "null_resource" "n" {
  count = 3
  name  = "n-${count.index}"
}
output "names" { value = null_resource.n[*].name }
output "second" { value = null_resource.n[1].id }
output "count" { value = length(null_resource.n) }
output "for" { value = [for n in null_resource.n : upper(n.name) if n.name != "n-0"] }
)"}});
  ModuleResult result = evaluate_module(files, provider, {});
  EXPECT_EQ(encode_json(result.outputs["names"]), R"(["n-0","n-1","n-2"])");
  EXPECT_EQ(result.outputs["second"], json::value("null_resource.n[1]"));
  EXPECT_EQ(result.outputs["count"], json::value(3));
  EXPECT_EQ(encode_json(result.outputs["for"]), R"(["N-1","N-2"])");
}

TEST(HclModule, CountZeroCreatesNoInstancesButStillChecksTheType) {
  EchoProvider provider;
  auto files = parse_module({{"a.tf",
                              "resource \"null_resource\" \"n\" {\n  count = 0\n}\n"
                              "output \"o\" { value = null_resource.n }\n"}});
  ModuleResult result = evaluate_module(files, provider, {});
  EXPECT_TRUE(result.resources.empty());
  EXPECT_EQ(encode_json(result.outputs["o"]), "[]");
  EXPECT_EQ(error_of([&] {
              evaluate_module(parse_module({{"a.tf", "resource \"x_y\" \"n\" { count = 0 }\n"}}),
                              provider, {});
            }),
            "a.tf:1:1: unknown resource type \"x_y\"");
}

TEST(HclModule, LocalsSpanFilesAndBlocksInDependencyOrder) {
  EchoProvider provider;
  auto files = parse_module({{"a.tf", "locals { c = local.b * 2 }\n"},
                             {"b.tf",
                              "locals { b = local.a + 1 }\nlocals { a = 1 }\n"
                              "output \"c\" { value = local.c }\n"}});
  EXPECT_EQ(evaluate_module(files, provider, {}).outputs["c"], json::value(4));
}

TEST(HclModule, DynamicBlocksExpandIntoNestedBlockLists) {
  EchoProvider provider;
  auto files = parse_module({{"d.tf", R"(
data "coder_parameter" "size" {
  name = "size"
  dynamic "option" {
    for_each = { small = 1, large = 4 }
    content {
      name  = option.key
      value = option.value
    }
  }
  dynamic "extra" {
    for_each = ["x"]
    iterator = it
    content { v = "${it.key}:${it.value}" }
  }
}
)"}});
  evaluate_module(files, provider, {});
  EXPECT_EQ(encode_json(provider.configs["data.coder_parameter.size"]),
            R"({"extra":[{"v":"0:x"}],"name":"size",)"
            R"("option":[{"name":"large","value":4},{"name":"small","value":1}]})");
}

TEST(HclModule, ConditionalOnlyEvaluatesTheChosenBranch) {
  EchoProvider provider;
  provider.start_count = 0;
  auto files = parse_module({{"c.tf", R"(
data "coder_workspace" "me" {}
resource "coder_agent" "main" {
  count = data.coder_workspace.me.start_count
}
output "token" {
  value = data.coder_workspace.me.start_count > 0 ? coder_agent.main[0].token : ""
}
output "try" { value = try(coder_agent.main[0].token, "none") }
)"}});
  ModuleResult result = evaluate_module(files, provider, {});
  EXPECT_EQ(result.outputs["token"], json::value(""));
  EXPECT_EQ(result.outputs["try"], json::value("none"));
}

TEST(HclModule, PathAndFilesResolveAgainstModuleDir) {
  berth::testing::TempDir dir;
  std::ofstream(dir.file("init.sh")) << "#!/bin/sh\necho ${name}\n";
  EchoProvider provider;
  auto files = parse_module({{"f.tf", R"(
output "raw" { value = file("${path.module}/init.sh") }
output "rendered" { value = templatefile("init.sh", { name = "ann" }) }
output "escape" { value = can(file("../x")) }
)"}});
  ModuleOptions options;
  options.module_dir = dir.path().string();
  ModuleResult result = evaluate_module(files, provider, options);
  EXPECT_EQ(result.outputs["raw"], json::value("#!/bin/sh\necho ${name}\n"));
  EXPECT_EQ(result.outputs["rendered"], json::value("#!/bin/sh\necho ann\n"));
  EXPECT_EQ(result.outputs["escape"], json::value(false));
  EXPECT_EQ(error_of([&] {
              evaluate_module(parse_module({{"f.tf", "locals {\n  x = file(\"../x\")\n}\n"}}),
                              provider, options);
            }),
            "f.tf:2:7: cannot read \"../x\": the path leaves the module directory");
}

TEST(HclModule, IgnoresProviderAndTerraformBlocksEvenWithReferences) {
  EchoProvider provider;
  auto files = parse_module({{"p.tf",
                              "provider \"coder\" {\n  url = var.undeclared\n}\n"
                              "terraform {\n  required_version = \">= 1.0\"\n}\n"}});
  ModuleResult result = evaluate_module(files, provider, {});
  EXPECT_TRUE(result.resources.empty());
}

}  // namespace
}  // namespace berth::hcl
