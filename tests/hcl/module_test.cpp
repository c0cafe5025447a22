#include "hcl/module.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "hcl/echo_provider.hpp"
#include "hcl/test_util.hpp"
#include "support/temp_dir.hpp"

namespace berth::hcl {
namespace {

using testing::EchoProvider;
using testing::error_of;

constexpr const char* kTemplate = R"(terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
  }
}

provider "coder" {
  url = "https://coder.example.com"
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
        ModuleErrorCase{"CountAndForEach",
                        "resource \"null_resource\" \"a\" {\n  count = 1\n  for_each = {}\n}\n",
                        "m.tf:3:3: count and for_each cannot be used together in one block"},
        ModuleErrorCase{"ForEachNumber", "resource \"null_resource\" \"a\" {\n  for_each = 3\n}\n",
                        "m.tf:2:3: for_each needs a map, or a set of strings, got number"},
        ModuleErrorCase{"ForEachNull", "resource \"null_resource\" \"a\" {\n  for_each = null\n}\n",
                        "m.tf:2:3: for_each must not be null"},
        ModuleErrorCase{"ForEachSetOfNumbers",
                        "resource \"null_resource\" \"a\" {\n  for_each = [1]\n}\n",
                        "m.tf:2:3: for_each needs a map, or a set of strings; got a set with a "
                        "number element"},
        ModuleErrorCase{"EachWithoutForEach",
                        "resource \"null_resource\" \"a\" {\n  x = each.key\n}\n",
                        "m.tf:2:7: each.key is only available in a block that sets for_each"},
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
        ModuleErrorCase{"ModuleWithoutSource", "module \"x\" {}\n",
                        "m.tf:1:1: module \"x\" needs a source"},
        ModuleErrorCase{
            "ModuleSourceNotLiteral",
            "variable \"v\" {\n  default = \"./x\"\n}\nmodule \"x\" {\n  source = var.v\n}\n",
            "m.tf:5:3: a module source must be a literal string"},
        ModuleErrorCase{"GitModuleSource",
                        "module \"x\" {\n  source = \"git::https://example.com/m.git\"\n}\n",
                        "m.tf:2:3: module \"x\": source \"git::https://example.com/m.git\" is not "
                        "supported: Berth reads local modules (\"./dir\", \"../dir\") and registry "
                        "modules whose files are in its module directory (berth server "
                        "--terraform-module-dir); copy the module into the template instead"},
        ModuleErrorCase{"GithubModuleSource",
                        "module \"x\" {\n  source = \"github.com/hashicorp/example\"\n}\n",
                        "m.tf:2:3: module \"x\": source \"github.com/hashicorp/example\" is not "
                        "supported: Berth reads local modules (\"./dir\", \"../dir\") and registry "
                        "modules whose files are in its module directory (berth server "
                        "--terraform-module-dir); copy the module into the template instead"},
        ModuleErrorCase{"UndeclaredModule", "output \"o\" {\n  value = module.nope.x\n}\n",
                        "m.tf:2:11: reference to undeclared module \"nope\""},
        ModuleErrorCase{"ProviderUndeclaredReference",
                        "provider \"docker\" {\n  host = var.nope\n}\n",
                        "m.tf:2:10: reference to undeclared input variable \"nope\""},
        ModuleErrorCase{"DuplicateLifecycle",
                        "resource \"null_resource\" \"a\" {\n  lifecycle {}\n  lifecycle {}\n}\n",
                        "m.tf:3:3: a block may have only one lifecycle block"},
        ModuleErrorCase{"IgnoreChangesNotNames",
                        "resource \"null_resource\" \"a\" {\n  lifecycle {\n    ignore_changes = "
                        "[upper(\"x\")]\n  }\n}\n",
                        "m.tf:3:23: ignore_changes must list attribute names, such as tags or "
                        "labels"},
        ModuleErrorCase{"PreventDestroyNotBool",
                        "resource \"null_resource\" \"a\" {\n  lifecycle {\n    prevent_destroy = "
                        "[]\n  }\n}\n",
                        "m.tf:3:5: prevent_destroy must be a bool, got list"},
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

TEST(HclModule, FilesThatAreNotUtf8AreReadOnlyAsBase64) {
  berth::testing::TempDir dir;
  std::ofstream(dir.file("logo.bin"), std::ios::binary) << "\x89PNG\xff\n";
  std::ofstream(dir.file("bad.tpl"), std::ios::binary) << "hi ${name}\n\xc3(\n";
  EchoProvider provider;
  ModuleOptions options;
  options.module_dir = dir.path().string();
  auto result = evaluate_module(
      parse_module({{"f.tf", "output \"b64\" { value = filebase64(\"logo.bin\") }\n"}}), provider,
      options);
  EXPECT_EQ(result.outputs["b64"], json::value("iVBOR/8K"));
  EXPECT_EQ(error_of([&] {
              evaluate_module(parse_module({{"f.tf", "locals {\n  x = file(\"logo.bin\")\n}\n"}}),
                              provider, options);
            }),
            "f.tf:2:7: invalid call to file(): contents of logo.bin are not valid UTF-8; use the "
            "filebase64 function to obtain the Base64 encoded contents");
  EXPECT_EQ(error_of([&] {
              evaluate_module(parse_module({{"f.tf",
                                             "locals {\n  x = templatefile(\"bad.tpl\", { name "
                                             "= \"a\" })\n}\n"}}),
                              provider, options);
            }),
            "bad.tpl:2:1: invalid UTF-8 (byte 0xC3): template files must be UTF-8 encoded");
}

TEST(HclModule, IgnoresTerraformBlocksEvenWithReferences) {
  EchoProvider provider;
  auto files = parse_module({{"p.tf", "terraform {\n  required_version = var.undeclared\n}\n"}});
  ModuleResult result = evaluate_module(files, provider, {});
  EXPECT_TRUE(result.resources.empty());
}

TEST(HclModule, ForEachOverAMapBindsEachKeyAndValue) {
  EchoProvider provider;
  auto files = parse_module({{"e.tf", R"(
resource "null_resource" "n" {
  for_each = { web = 8080, "db \"main\"" = 5432 }
  name     = "${each.key}:${each.value}"
}
output "web" { value = null_resource.n["web"].name }
output "keys" { value = keys(null_resource.n) }
output "names" { value = [for k, n in null_resource.n : n.name] }
)"}});
  ModuleResult result = evaluate_module(files, provider, {});
  ASSERT_EQ(result.resources.size(), 2u);
  // Instances are ordered by key, as Terraform orders them.
  EXPECT_EQ(result.resources[0].key, std::optional<std::string>("db \"main\""));
  EXPECT_EQ(result.resources[0].address(), R"(null_resource.n["db \"main\""])");
  EXPECT_EQ(result.resources[1].address(), R"(null_resource.n["web"])");
  EXPECT_EQ(result.resources[1].label(), "null_resource.n");
  EXPECT_FALSE(result.resources[1].index.has_value());
  EXPECT_EQ(result.resources[1].attributes.at("name"), json::value("web:8080"));
  EXPECT_EQ(result.outputs["web"], json::value("web:8080"));
  EXPECT_EQ(encode_json(result.outputs["keys"]), R"(["db \"main\"","web"])");
  EXPECT_EQ(encode_json(result.outputs["names"]), R"(["db \"main\":5432","web:8080"])");
}

TEST(HclModule, ForEachOverASetOfStringsUsesTheStringAsKeyAndValue) {
  EchoProvider provider;
  auto files = parse_module({{"e.tf", R"(
variable "ides" {
  type    = set(string)
  default = ["PY", "GO", "PY"]
}
data "coder_parameter" "p" {
  for_each = var.ides
  name     = lower(each.key)
  default  = each.value
}
resource "coder_app" "ide" {
  for_each = toset(["GO", "PY"])
  slug     = "app-${data.coder_parameter.p[each.key].name}"
}
output "slugs" { value = [for a in coder_app.ide : a.slug] }
)"}});
  ModuleResult result = evaluate_module(files, provider, {});
  ASSERT_EQ(result.resources.size(), 4u);
  EXPECT_EQ(result.resources[0].address(), R"(data.coder_parameter.p["GO"])");
  EXPECT_EQ(result.resources[1].address(), R"(data.coder_parameter.p["PY"])");
  EXPECT_EQ(result.resources[1].attributes.at("default"), json::value("PY"));
  EXPECT_EQ(encode_json(result.outputs["slugs"]), R"(["app-go","app-py"])");
  EXPECT_EQ(encode_json(result.variables["ides"]), R"(["GO","PY"])");
}

TEST(HclModule, ForEachOfAHundredThousandKeysFailsCleanly) {
  EchoProvider provider;
  auto files = parse_module({{"big.tf", R"(
locals {
  keys = flatten([for a in range(1000) : [for b in range(100) : "${a}-${b}"]])
}
resource "null_resource" "n" {
  for_each = { for k in local.keys : k => k }
}
resource "null_resource" "s" {
  for_each = toset(local.keys)
}
)"}});
  EXPECT_EQ(error_of([&] { evaluate_module(files, provider, {}); }),
            "big.tf:6:3: for_each must have at most 1000 elements, got 100000");
  EXPECT_TRUE(provider.calls.empty());
}

TEST(HclModule, PreconditionFailsWithItsErrorMessage) {
  EchoProvider provider;
  provider.external_status = "unreachable";
  auto files = parse_module({{"p.tf", R"(
data "external" "check" {}
resource "null_resource" "n" {
  count = 2
  lifecycle {
    precondition {
      condition     = count.index < 5
      error_message = "never shown"
    }
    precondition {
      condition     = data.external.check.result.status == "ok"
      error_message = "Docker is ${data.external.check.result.status} (instance ${count.index})."
    }
  }
}
)"}});
  EXPECT_EQ(error_of([&] { evaluate_module(files, provider, {}); }),
            "p.tf:11:7: precondition failed: Docker is unreachable (instance 0).");
  // The precondition runs before the instance is planned.
  EXPECT_EQ(provider.calls, std::vector<std::string>{"data.external.check"});
  provider.external_status = "ok";
  ModuleResult result = evaluate_module(files, provider, {});
  EXPECT_EQ(result.resources.size(), 3u);
  // A precondition's references are dependencies, as in Terraform's graph.
  EXPECT_EQ(result.dependencies["null_resource.n"],
            std::vector<std::string>{"data.external.check"});
}

TEST(HclModule, LifecycleSettingsAreExposedAndNeverPlanned) {
  EchoProvider provider;
  auto files = parse_module({{"l.tf", R"(
resource "null_resource" "all" {
  lifecycle {
    ignore_changes  = all
    prevent_destroy = true
    postcondition {
      condition     = self.id == "checked only after apply"
      error_message = "ignored"
    }
  }
}
resource "null_resource" "some" {
  name = "x"
  lifecycle {
    ignore_changes        = [name, labels[0], tags["team"], "env"]
    create_before_destroy = true
  }
}
)"}});
  ModuleResult result = evaluate_module(files, provider, {});
  ASSERT_EQ(result.resources.size(), 2u);
  EXPECT_TRUE(result.resources[0].ignore_all_changes);
  EXPECT_TRUE(result.resources[0].prevent_destroy);
  EXPECT_TRUE(result.resources[0].ignore_changes.empty());
  EXPECT_FALSE(result.resources[1].ignore_all_changes);
  EXPECT_FALSE(result.resources[1].prevent_destroy);
  EXPECT_EQ(result.resources[1].ignore_changes,
            (std::vector<std::string>{"name", "labels[0]", R"(tags["team"])", "env"}));
  EXPECT_EQ(encode_json(provider.configs["null_resource.some"]), R"({"name":"x"})");
  // Names listed in ignore_changes are not references.
  EXPECT_TRUE(result.dependencies["null_resource.some"].empty());
}

TEST(HclModule, ProviderBlocksAreEvaluatedForTheCaller) {
  EchoProvider provider;
  auto files = parse_module({{"p.tf", R"(
variable "docker_socket" {
  default = ""
  type    = string
}
locals {
  remote = "tcp://remote:2375"
}
provider "docker" {
  host = var.docker_socket != "" ? var.docker_socket : null
  registry_auth {
    address = "ghcr.io"
  }
}
provider "docker" {
  alias   = "remote"
  host    = local.remote
  version = "~> 3.0"
}
provider "coder" {}
)"}});
  ModuleResult result = evaluate_module(files, provider, {});
  EXPECT_TRUE(result.resources.empty());
  EXPECT_EQ(encode_json(result.providers["docker"]),
            R"({"registry_auth":[{"address":"ghcr.io"}]})");
  EXPECT_EQ(encode_json(result.providers["docker.remote"]), R"({"host":"tcp://remote:2375"})");
  EXPECT_EQ(encode_json(result.providers["coder"]), "{}");
  EXPECT_EQ(result.dependencies["provider.docker"], std::vector<std::string>{"var.docker_socket"});
  EXPECT_EQ(result.dependencies["provider.docker.remote"],
            std::vector<std::string>{"local.remote"});

  result =
      evaluate_module(files, provider, options_with({{"docker_socket", "unix:///run/d.sock"}}));
  EXPECT_EQ(result.providers["docker"].at("host"), json::value("unix:///run/d.sock"));
}

TEST(HclModule, IteratingASetBindsTheElementAsItsKey) {
  EchoProvider provider;
  auto files = parse_module({{"s.tf", R"(
variable "s" {
  type    = set(string)
  default = ["b", "a", "b"]
}
variable "l" {
  type    = list(string)
  default = ["b", "a"]
}
locals {
  t = length(var.l) > 0 ? toset(var.l) : toset([])
}
data "coder_parameter" "p" {
  name = "p"
  dynamic "option" {
    for_each = var.s
    content { name = option.key }
  }
}
output "set" { value = { for k, v in var.s : k => v } }
output "local" { value = [for k, v in local.t : k] }
output "list" { value = [for k, v in var.l : k] }
output "call" { value = "%{for k, v in toset(["x"])}${k}%{endfor}" }
)"}});
  ModuleResult result = evaluate_module(files, provider, {});
  EXPECT_EQ(encode_json(result.outputs["set"]), R"({"a":"a","b":"b"})");
  EXPECT_EQ(encode_json(result.outputs["local"]), R"(["a","b"])");
  EXPECT_EQ(encode_json(result.outputs["list"]), "[0,1]");
  EXPECT_EQ(result.outputs["call"], json::value("x"));
  EXPECT_EQ(encode_json(provider.configs["data.coder_parameter.p"].at("option")),
            R"([{"name":"a"},{"name":"b"}])");
}

}  // namespace
}  // namespace berth::hcl
