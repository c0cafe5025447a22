#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/json.hpp"
#include "hcl/ast.hpp"
#include "hcl/functions.hpp"

namespace berth::hcl {

// each.key and each.value inside a block that sets for_each.
struct EachBinding {
  json::value key;  // a string
  json::value value;
};

// What an expression can see while it is evaluated. Maps are owned by the caller.
struct EvalScope {
  const std::map<std::string, json::value>* variables = nullptr;  // var.*
  const std::map<std::string, json::value>* locals = nullptr;     // local.*
  // Keyed "data.TYPE.NAME", "TYPE.NAME" and "module.NAME": an object, or a list of them with
  // count, or a map of them by key with for_each (a module's object holds its outputs).
  const std::map<std::string, json::value>* resources = nullptr;
  std::optional<std::int64_t> count_index;
  std::optional<EachBinding> each;
  // "var.x" and "local.y" that hold sets (see is_set_expression).
  const std::set<std::string>* set_valued = nullptr;
  // functions.budget is the evaluation's budget; evaluate() supplies one when it is null.
  FunctionEnvironment functions;
  // Names bound by for expressions, dynamic blocks and templatefile(); innermost last.
  std::vector<std::pair<std::string, json::value>> bindings;
  // Inside templatefile(): only bindings are visible.
  bool in_template_file = false;
  std::vector<const json::value*> splat_items;
};

// Whether `e` evaluates to a set, as far as the syntax shows: toset() and the set functions,
// variables and locals named in `set_valued`, and conditionals with such a branch. Sets are
// JSON arrays here; this is how `for k, v in a_set` binds k to the element, as Terraform does,
// rather than to an index.
bool is_set_expression(const Expression& e, const std::set<std::string>* set_valued);

// Evaluates `e`; errors throw Error{invalid} prefixed with the failing node's position,
// including running past the budget's limits.
json::value evaluate(const Expression& e, EvalScope& scope);

}  // namespace berth::hcl
