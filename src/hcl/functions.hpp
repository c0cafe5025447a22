#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "hcl/ast.hpp"
#include "hcl/budget.hpp"

namespace berth::hcl {

// What file() and friends may read: files under `module_dir`, up to `max_file_bytes` each;
// and the evaluation's budget, which functions that build large strings or lists charge first
// (without one, a single result may not exceed kMaxEvalBytes).
struct FunctionEnvironment {
  std::string module_dir;
  std::size_t max_file_bytes = 1 << 20;
  EvalBudget* budget = nullptr;
};

// True for the built-in functions call_function() implements (try, can and templatefile are
// handled by the evaluator, which must control how their arguments are evaluated).
bool is_builtin_function(const std::string& name);

// Calls a built-in function; errors throw Error{invalid} prefixed with `position`.
json::value call_function(const std::string& name, std::vector<json::value> args,
                          const Position& position, const FunctionEnvironment& environment);

// Reads `path` relative to the module directory, refusing absolute paths, paths that leave the
// directory (also through symlinks) and files larger than the limit.
std::string read_module_file(const std::string& path, const Position& position,
                             const FunctionEnvironment& environment);

}  // namespace berth::hcl
