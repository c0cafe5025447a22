#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "hcl/ast.hpp"

namespace berth::hcl {

// Count values above this are rejected: a template cannot ask for a million processes.
inline constexpr std::int64_t kMaxCount = 1000;

// One instance of a `data` or `resource` block, as planned by the provider.
struct ResourceInstance {
  std::string mode;  // "data" or "managed"
  std::string type;
  std::string name;
  std::optional<std::int64_t> index;  // set when the block has count
  json::value attributes;             // object
  Position position;
  // The declarations the block refers to directly (expressions and depends_on), sorted:
  // "coder_agent.main", "data.coder_parameter.region", "local.x", "var.y". These are the
  // block's edges in Terraform's dependency graph.
  std::vector<std::string> depends_on;

  // "type.name", "data.type.name", with "[index]" when the block has count.
  std::string address() const;
  // The address without the instance index: the node `terraform graph` draws.
  std::string label() const;
};

// Plans resources and data sources; implemented by the caller (the coder provider and the
// built-in local resources).
class Provider {
 public:
  virtual ~Provider() = default;
  // False for types it does not know; the evaluator then reports the block as unknown.
  virtual bool supports(const std::string& mode, const std::string& type) const = 0;
  // Given the configured attributes (nested blocks as arrays of objects under the block type,
  // null and absent attributes absent), returns every attribute including computed ones.
  // May throw berth::Error.
  virtual json::value plan(const std::string& mode, const std::string& type,
                           const std::string& name, std::optional<std::int64_t> index,
                           json::value config, const Position& position) = 0;
};

// What evaluating a module produced, in evaluation order.
struct ModuleResult {
  std::vector<ResourceInstance> resources;
  std::map<std::string, json::value> outputs;
  std::map<std::string, json::value> variables;  // resolved
  // Every declaration ("var.x", "local.x", "output.x", "data.T.N", "T.N") → the declarations
  // it refers to directly: Terraform's dependency graph before transitive reduction.
  std::map<std::string, std::vector<std::string>> dependencies;
};

struct ModuleOptions {
  std::map<std::string, json::value> variable_values;
  std::string module_dir;  // file() and templatefile() read below it; path.module is "."
  std::size_t max_file_bytes = 1 << 20;
};

// Evaluates the module's variables, locals, data sources, resources and outputs in dependency
// order. Errors throw Error{invalid, "<file>:<line>:<col>: <what>"}; a variable without value
// or default reports "variable \"x\" is required".
ModuleResult evaluate_module(const std::vector<File>& files, Provider& provider,
                             const ModuleOptions& options);

// Parses each file (name → contents), in name order.
std::vector<File> parse_module(const std::map<std::string, std::string>& tf_files);

}  // namespace berth::hcl
