#include <gtest/gtest.h>

#include "hcl/echo_provider.hpp"
#include "hcl/module.hpp"
#include "hcl/test_util.hpp"
#include "hcl/values.hpp"

namespace berth::hcl {
namespace {

using testing::error_of;

std::string module_error(const std::string& source) {
  testing::EchoProvider provider;
  return error_of([&] { evaluate_module(parse_module({{"m.tf", source}}), provider, {}); });
}

// Found by fuzz/fuzz_hcl: a double that overflowed to infinity was stored in resources and
// outputs, and Boost.JSON writes it as `Infinity`, which is not JSON: the template version's
// stored state could not be read back.
TEST(HclNumbers, OverflowToInfinityIsAnErrorAtItsPosition) {
  EXPECT_EQ(module_error("output \"x\" {\n  value = 1e300 * 1e300\n}\n"),
            "m.tf:2:17: number out of range");
  EXPECT_EQ(module_error("output \"x\" {\n  value = [1, -pow(10, 400)]\n}\n"),
            "m.tf:2:16: number out of range");
  EXPECT_EQ(module_error("locals {\n  x = jsondecode(\"{\\\"a\\\":[1e400]}\")\n}\n"),
            "m.tf:2:7: invalid call to jsondecode(): invalid JSON: a number is out of range");
  EXPECT_EQ(
      module_error("variable \"v\" {\n  type    = list(number)\n  default = \"[1e400]\"\n}\n"),
      "m.tf:2:13: invalid value for variable \"v\": a list is required, got string");
  // The largest finite doubles still work.
  EXPECT_EQ(testing::eval("1e300 * 1e8").as_double(), 1e308);
}

TEST(HclNumbers, HasNonFiniteNumberLooksInsideCollections) {
  EXPECT_FALSE(has_non_finite_number(json::value(1.5)));
  EXPECT_TRUE(has_non_finite_number(json::value(HUGE_VAL)));
  json::array nested{json::object{{"a", json::array{1, -HUGE_VAL}}}};
  EXPECT_TRUE(has_non_finite_number(nested));
}

}  // namespace
}  // namespace berth::hcl
