#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "hcl/ast.hpp"

namespace berth::hcl {

// A module directory holding more .tf files than this is refused.
inline constexpr std::size_t kMaxModuleFiles = 64;

// Where a module's files are, and what bounds the local sources it calls.
struct ModuleLocation {
  std::filesystem::path dir;  // canonical
  // Canonical: the template's root directory, or a registry module's own directory. Local
  // sources ("../x") may not leave it.
  std::filesystem::path package;
  std::string package_name;     // for errors: "the template directory", "registry module \"…\""
  std::string package_display;  // how positions name the package root: "", "registry.…/coder/"
  std::string display;          // prefix of its files' names in positions: "", "modules/app/"
};

// The root module: `module_dir` below `root_dir` (empty: module_dir; both empty: ".").
ModuleLocation root_module_location(const std::string& module_dir, const std::string& root_dir);

// Resolves the source of `module "name"` called from `caller`: "./x" and "../x" relative to
// the caller's directory and confined to its package; registry addresses
// ("registry.coder.com/coder/code-server/coder", "ns/name/system", optionally "//subdir")
// below `registry_dir`. Other sources (git::, github.com/…, s3::, URLs) and missing modules
// fail at `position` with a message naming the module, its source and how to provide it.
ModuleLocation resolve_module_source(const std::string& name, const std::string& source,
                                     const ModuleLocation& caller, const std::string& registry_dir,
                                     const Position& position);

// Reads and parses the module's .tf files in name order, each at most `max_file_bytes`, at most
// kMaxModuleFiles of them; positions name them `location.display` + file name.
std::vector<File> load_module_files(const std::string& name, const ModuleLocation& location,
                                    std::size_t max_file_bytes, const Position& position);

}  // namespace berth::hcl
