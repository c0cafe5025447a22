#include "coderd/parameters.hpp"

#include <gtest/gtest.h>

#include <string>

namespace berth::coderd {
namespace {

std::string not_a_number(const std::string& value) {
  std::string out = "\"";
  out.append(value).append("\" is not a number");
  return out;
}

// Found while fuzzing (issue #16): the number check used std::regex, whose recursive matcher
// overflowed the stack, and crashed the server, on a value of some 50,000 digits.
TEST(ParameterValueProblem, ChecksLongNumbersWithoutRecursion) {
  json::object number{{"name", "cpus"}, {"type", "number"}};
  EXPECT_EQ(parameter_value_problem(number, "12.5", std::nullopt), std::nullopt);
  EXPECT_EQ(parameter_value_problem(number, "-3", std::nullopt), std::nullopt);
  for (const char* bad : {"1.", ".5", "-", "1e3", "0x10", "1 "})
    EXPECT_EQ(parameter_value_problem(number, bad, std::nullopt), not_a_number(bad));
  std::string digits(50000, '7');
  // Beyond a double's range: not a number (std::stod used to throw out_of_range here).
  EXPECT_EQ(parameter_value_problem(number, digits, std::nullopt), not_a_number(digits));
  std::string decimal = "1.";
  decimal.append(50000, '5');
  EXPECT_EQ(parameter_value_problem(number, decimal, std::nullopt), std::nullopt);
}

}  // namespace
}  // namespace berth::coderd
