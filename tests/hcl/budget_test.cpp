#include "hcl/budget.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "hcl/echo_provider.hpp"
#include "hcl/module.hpp"
#include "hcl/test_util.hpp"

namespace berth::hcl {
namespace {

using testing::EchoProvider;
using testing::error_of;
using testing::parse_expression;

// Evaluates `source` within a budget of `max_values` values and `max_bytes` bytes.
std::string error_within(const std::string& source, std::size_t max_values, std::size_t max_bytes) {
  EvalBudget budget;
  budget.max_values = max_values;
  budget.max_bytes = max_bytes;
  EvalScope scope;
  scope.functions.budget = &budget;
  return error_of([&] { evaluate(*parse_expression(source), scope); });
}

std::string module_error(const std::string& source) {
  EchoProvider provider;
  return error_of([&] { evaluate_module(parse_module({{"m.tf", source}}), provider, {}); });
}

TEST(HclBudget, NestedForExpressionsStopAtTheValueLimit) {
  EXPECT_EQ(error_within("[for a in range(100) : [for b in range(100) : [for c in range(100) : "
                         "c]]]",
                         10000, kMaxEvalBytes),
            "expr.tf:1:74: the evaluation exceeds 10000 values, the limit for one template");
  // The default limits stop the billion-element version too (its copies of range(1000) reach
  // the byte limit first), in well under a second.
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(module_error("locals {\n  x = [for a in range(1000) : [for b in range(1000) : [for c "
                         "in range(1000) : c]]]\n}\n"),
            "m.tf:2:65: the evaluation exceeds 256 MiB, the limit for one template");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST(HclBudget, CopiesOfALargeStringStopAtTheByteLimit) {
  // Each reference to local.big copies 10 MB; a hundred copies would be a gigabyte.
  EXPECT_EQ(module_error("locals {\n  ten = join(\"\", [for i in range(1000) : \"0123456789\"])\n"
                         "  big = join(\"\", [for i in range(1000) : local.ten])\n"
                         "  all = [for i in range(100) : local.big]\n}\n"),
            "m.tf:4:37: the evaluation exceeds 256 MiB, the limit for one template");
}

TEST(HclBudget, FunctionsChargeWhatTheyBuildBeforeBuildingIt) {
  std::string big = "join(\"\", [for i in range(1000) : \"0123456789\"])";
  // Column 5 is the call: the helper parses "x = " + the expression. Each result would be 10 MB
  // built from arguments of about 100 KB.
  EXPECT_EQ(error_within("join(" + big + ", range(1000))", 1000000, 1 << 20),
            "expr.tf:1:5: the evaluation exceeds 1 MiB, the limit for one template");
  EXPECT_EQ(error_within("replace(" + big + ", \"0\", " + big + ")", 1000000, 4 << 20),
            "expr.tf:1:5: the evaluation exceeds 4 MiB, the limit for one template");
  EXPECT_EQ(error_within("indent(4096, join(\"\\n\", range(1000)))", 1000000, 1 << 20),
            "expr.tf:1:5: the evaluation exceeds 1 MiB, the limit for one template");
  EXPECT_EQ(error_within("[for i in range(1000) : format(\"%4000s\", \"x\")]", 1000000, 1 << 20),
            "expr.tf:1:29: the evaluation exceeds 1 MiB, the limit for one template");
  EXPECT_EQ(error_within("split(\"\", " + big + ")", 1000000, 256 << 10),
            "expr.tf:1:5: the evaluation exceeds 262144 bytes, the limit for one template");
  EXPECT_EQ(error_within("jsonencode(" + big + ")", 1000000, 100000),
            "expr.tf:1:5: the evaluation exceeds 100000 bytes, the limit for one template");
}

TEST(HclBudget, TryAndCanDoNotSwallowAnExhaustedBudget) {
  std::string nested = "[for a in range(100) : [for b in range(100) : [for c in range(100) : c]]]";
  EXPECT_EQ(error_within("try(" + nested + ", \"fallback\")", 10000, kMaxEvalBytes),
            "expr.tf:1:71: the evaluation exceeds 10000 values, the limit for one template");
  EXPECT_EQ(error_within("can(" + nested + ")", 10000, kMaxEvalBytes),
            "expr.tf:1:71: the evaluation exceeds 10000 values, the limit for one template");
  // Ordinary errors still fall back.
  EXPECT_EQ(testing::eval_json("try(tonumber(\"x\"), \"fallback\")"), "\"fallback\"");
}

TEST(HclBudget, NestedDynamicBlocksStopOrSucceedWithinBounds) {
  // Five levels of a thousand instances each: 10^15 empty blocks if nothing stopped it.
  std::string deep = "resource \"null_resource\" \"n\" {\n";
  for (int i = 0; i < 5; ++i)
    deep += "dynamic \"d" + std::to_string(i) + "\" {\nfor_each = range(1000)\ncontent {\n";
  for (int i = 0; i < 5; ++i) deep += "}\n}\n";
  deep += "}\n";
  std::string error = module_error(deep);
  EXPECT_TRUE(error.starts_with("m.tf:")) << error;
  EXPECT_NE(error.find(": the evaluation exceeds 256 MiB"), std::string::npos) << error;

  // Forty levels of one instance each are fine.
  std::string narrow = "resource \"null_resource\" \"n\" {\n";
  for (int i = 0; i < 40; ++i) narrow += "dynamic \"d\" {\nfor_each = [1]\ncontent {\n";
  narrow += "leaf = d.value\n";
  for (int i = 0; i < 40; ++i) narrow += "}\n}\n";
  narrow += "}\n";
  EchoProvider provider;
  ModuleResult result = evaluate_module(parse_module({{"m.tf", narrow}}), provider, {});
  ASSERT_EQ(result.resources.size(), 1u);
  const json::value* v = &result.resources[0].attributes;
  for (int i = 0; i < 40; ++i) v = &v->at("d").at(0);
  EXPECT_EQ(v->at("leaf"), json::value(1));
}

TEST(HclBudget, RealisticTemplatesStayFarBelowTheLimits) {
  EvalBudget budget;
  EvalScope scope;
  scope.functions.budget = &budget;
  evaluate(*parse_expression("{ for k in range(200) : \"k${k}\" => upper(format(\"%05d\", k)) }"),
           scope);
  EXPECT_LT(budget.values, 2000u);
  EXPECT_LT(budget.bytes, 100000u);
}

TEST(HclBudget, LongSetsAreNotQuadratic) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(testing::eval_json("length(toset(flatten([for a in range(1000) : [for b in "
                               "range(100) : \"${a}-${b % 50}\"]])))"),
            "50000");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace berth::hcl
