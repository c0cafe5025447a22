#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "common/error.hpp"
#include "hcl/eval.hpp"
#include "hcl/parser.hpp"
#include "hcl/values.hpp"

namespace berth::hcl::testing {

// Parses `source` as the right-hand side of an attribute.
inline ExpressionPtr parse_expression(const std::string& source) {
  File f = parse("x = " + source + "\n", "expr.tf");
  return f.attributes.at(0).expression;
}

// Evaluates an expression with no variables, locals or resources in scope.
inline json::value eval(const std::string& source) {
  EvalScope scope;
  return evaluate(*parse_expression(source), scope);
}

// The result as Terraform's jsonencode() would write it, for compact comparisons.
inline std::string eval_json(const std::string& source) {
  return encode_json(eval(source));
}

// The message of the berth::Error `fn` throws, or "no error".
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid);
    return e.message();
  }
  return "no error";
}

}  // namespace berth::hcl::testing
