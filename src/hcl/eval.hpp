#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/json.hpp"
#include "hcl/ast.hpp"
#include "hcl/functions.hpp"

namespace berth::hcl {

// What an expression can see while it is evaluated. Maps are owned by the caller.
struct EvalScope {
  const std::map<std::string, json::value>* variables = nullptr;  // var.*
  const std::map<std::string, json::value>* locals = nullptr;     // local.*
  // Keyed "data.TYPE.NAME" and "TYPE.NAME": an object, or a list of them with count.
  const std::map<std::string, json::value>* resources = nullptr;
  std::optional<std::int64_t> count_index;
  FunctionEnvironment functions;
  // Names bound by for expressions, dynamic blocks and templatefile(); innermost last.
  std::vector<std::pair<std::string, json::value>> bindings;
  // Inside templatefile(): only bindings are visible.
  bool in_template_file = false;
  std::vector<const json::value*> splat_items;
};

// Evaluates `e`; errors throw Error{invalid} prefixed with the failing node's position.
json::value evaluate(const Expression& e, EvalScope& scope);

}  // namespace berth::hcl
