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

// Count values and for_each sizes above this are rejected: a template cannot ask for a million
// processes.
inline constexpr std::int64_t kMaxCount = 1000;
// Module calls nest at most this deep (the root module is depth 0).
inline constexpr std::size_t kMaxModuleDepth = 16;

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
  // block's edges in Terraform's dependency graph. Inside a module they carry the module's
  // label: "module.code-server.var.agent_id".
  std::vector<std::string> depends_on;
  std::optional<std::string> key;  // each.key, set when the block has for_each
  // The module instance that declared it, empty in the root module: "module.code-server[0]",
  // "module.a.module.b", "module.apps[\"web\"]".
  std::string module;
  // lifecycle { prevent_destroy = true }: the caller must refuse to destroy the instance.
  bool prevent_destroy = false;
  // lifecycle { ignore_changes = all }: once created, the instance is never updated in place.
  bool ignore_all_changes = false;
  // lifecycle { ignore_changes = [a, b.c] }: attribute paths whose changes the caller ignores.
  std::vector<std::string> ignore_changes;

  // "type.name", "data.type.name", with "[index]" for count or "[\"key\"]" for for_each, after
  // the module path when there is one: "module.code-server[0].coder_app.code-server".
  std::string address() const;
  // The address without instance indexes or keys (the module path's included): the node
  // `terraform graph` draws, e.g. "module.code-server.coder_app.code-server".
  std::string label() const;
};

// Plans resources and data sources; implemented by the caller (the coder provider and the
// built-in local resources). Instances of a for_each block are planned with no index; a
// module's resources go to the same provider.
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
  // Every declaration ("var.x", "local.x", "output.x", "data.T.N", "T.N", "module.M",
  // "provider.P") → the declarations it refers to directly: Terraform's dependency graph before
  // transitive reduction. A module's own declarations appear under its label
  // ("module.M.var.x", "module.M.T.N"); its input variables depend on what their expressions
  // refer to in the caller, and "module.M" on its outputs and on what its arguments refer to.
  std::map<std::string, std::vector<std::string>> dependencies;
  // The root module's provider blocks by name ("docker", or "docker.ALIAS" for an aliased one)
  // → their evaluated arguments and nested blocks (as the provider would see them: null
  // arguments left out, blocks as lists of objects), for the caller to configure providers.
  std::map<std::string, json::value> providers;
};

struct ModuleOptions {
  ModuleOptions() = default;
  // The positional form callers used before root_dir and registry_module_dir existed.
  ModuleOptions(std::map<std::string, json::value> variable_values, std::string module_dir,
                std::size_t max_file_bytes = 1 << 20);

  std::map<std::string, json::value> variable_values;
  std::string module_dir;  // file() and templatefile() read below it; path.module is "."
  std::size_t max_file_bytes = 1 << 20;  // for file(), and for each .tf file of a module
  // The directory the template was unpacked into: local module sources ("./x", "../x") must
  // stay below it, also through symlinks. Empty means module_dir.
  std::string root_dir;
  // Where registry modules are found: a source such as
  // "registry.coder.com/coder/code-server/coder" reads the .tf files of
  // <registry_module_dir>/registry.coder.com/coder/code-server/coder (every version constraint
  // is served by that one directory). Empty: registry modules are not available.
  std::string registry_module_dir;
};

// Evaluates the module's variables, locals, providers, data sources, resources, module calls
// and outputs in dependency order; the module calls' resources are appended to the result with
// their module path. Errors throw Error{invalid, "<file>:<line>:<col>: <what>"}; a variable
// without value or default reports "variable \"x\" is required". The whole evaluation shares
// one EvalBudget (kMaxEvalValues, kMaxEvalBytes).
ModuleResult evaluate_module(const std::vector<File>& files, Provider& provider,
                             const ModuleOptions& options);

// Parses each file (name → contents), in name order.
std::vector<File> parse_module(const std::map<std::string, std::string>& tf_files);

}  // namespace berth::hcl
