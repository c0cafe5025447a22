#include "hcl/module_source.hpp"

#include <algorithm>
#include <optional>

#include "hcl/functions.hpp"
#include "hcl/parser.hpp"

namespace berth::hcl {

namespace fs = std::filesystem;

namespace {

// Hosts that Terraform reads as Git shorthands rather than module registries.
const char* const kVcsHosts[] = {"github.com", "bitbucket.org", "gitlab.com"};

struct RegistryAddress {
  std::string package;  // host/namespace/name/system, or namespace/name/system
  std::string subdir;   // after "//", empty when absent
};

std::vector<std::string> split(const std::string& s, char separator) {
  std::vector<std::string> parts;
  std::size_t at = 0;
  for (std::size_t found; (found = s.find(separator, at)) != std::string::npos; at = found + 1)
    parts.push_back(s.substr(at, found - at));
  parts.push_back(s.substr(at));
  return parts;
}

// Registry names: letters, digits, '-' and '_', so that an address is also a safe relative
// path (no "..", no separators, no absolute parts).
bool is_name(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_';
  });
}

bool is_host(const std::string& s) {
  bool dotted = s.find('.') != std::string::npos;
  bool valid = std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == ':';
  });
  return dotted && valid && s.front() != '.' && s.find("..") == std::string::npos;
}

bool is_subdir(const std::string& s) {
  if (s.empty()) return false;
  for (const auto& part : split(s, '/'))
    if (part.empty() || part == "." || part == ".." ||
        !std::all_of(part.begin(), part.end(), [](unsigned char c) {
          return std::isalnum(c) || c == '-' || c == '_' || c == '.';
        }))
      return false;
  return true;
}

std::optional<RegistryAddress> parse_registry_address(const std::string& source) {
  if (source.find("::") != std::string::npos || source.find('?') != std::string::npos)
    return std::nullopt;
  RegistryAddress out{source, ""};
  if (auto at = source.find("//"); at != std::string::npos) {
    out.package = source.substr(0, at);
    out.subdir = source.substr(at + 2);
    if (!is_subdir(out.subdir)) return std::nullopt;
  }
  auto parts = split(out.package, '/');
  if (parts.size() == 4) {
    if (!is_host(parts[0])) return std::nullopt;
    for (const char* vcs : kVcsHosts)
      if (parts[0] == vcs) return std::nullopt;
    parts.erase(parts.begin());
  }
  if (parts.size() != 3) return std::nullopt;
  for (const auto& p : parts)
    if (!is_name(p)) return std::nullopt;
  return out;
}

bool is_below(const fs::path& base, const fs::path& path) {
  auto [b, p] = std::mismatch(base.begin(), base.end(), path.begin(), path.end());
  return b == base.end();
}

// How positions name files in `dir`, a directory of the package `in`.
std::string relative_display(const ModuleLocation& in, const fs::path& dir) {
  fs::path relative = dir.lexically_relative(in.package);
  if (relative.empty() || relative == ".") return in.package_display;
  return in.package_display + relative.generic_string() + "/";
}

[[noreturn]] void fail_module(const Position& position, const std::string& name,
                              const std::string& what) {
  fail_at(position, "module \"" + name + "\": " + what);
}

ModuleLocation resolve_local(const std::string& name, const std::string& source,
                             const ModuleLocation& caller, const Position& position) {
  std::error_code ec;
  fs::path dir = fs::canonical(caller.dir / source, ec);
  if (ec || !fs::is_directory(dir, ec))
    fail_module(position, name,
                "the module directory \"" + source + "\" does not exist in " + caller.package_name);
  // Compared after resolving symlinks, so that a link cannot lead out of the package.
  if (!is_below(caller.package, dir))
    fail_module(position, name, "source \"" + source + "\" leaves " + caller.package_name);
  ModuleLocation out = caller;
  out.dir = dir;
  out.display = relative_display(caller, dir);
  return out;
}

ModuleLocation resolve_registry(const std::string& name, const std::string& source,
                                const RegistryAddress& address, const std::string& registry_dir,
                                const Position& position) {
  std::string missing = "registry module \"" + source + "\" is not available; ";
  if (registry_dir.empty())
    fail_module(position, name,
                missing +
                    "no module directory is configured: start berth server with "
                    "--terraform-module-dir DIR and put the module's files in DIR/" +
                    address.package);
  std::string expected = (fs::path(registry_dir) / address.package).string();
  std::string how = "put its files in " + expected + " (berth server --terraform-module-dir)";
  std::error_code ec;
  fs::path base = fs::canonical(registry_dir, ec);
  if (ec) fail_module(position, name, missing + how);
  fs::path package = fs::canonical(base / address.package, ec);
  if (ec || !fs::is_directory(package, ec)) fail_module(position, name, missing + how);
  if (!is_below(base, package))
    fail_module(position, name,
                "registry module \"" + source + "\" leads out of the module directory " +
                    registry_dir + " through a symlink");
  ModuleLocation out;
  out.package = package;
  out.package_name = "registry module \"" + address.package + "\"";
  out.package_display = address.package + "/";
  out.display = out.package_display;
  out.dir = package;
  if (!address.subdir.empty()) {
    fs::path dir = fs::canonical(package / address.subdir, ec);
    if (ec || !fs::is_directory(dir, ec) || !is_below(package, dir))
      fail_module(position, name,
                  "registry module \"" + address.package + "\" has no directory \"" +
                      address.subdir + "\"");
    out.dir = dir;
    out.display = relative_display(out, dir);
  }
  return out;
}

}  // namespace

ModuleLocation root_module_location(const std::string& module_dir, const std::string& root_dir) {
  std::error_code ec;
  std::string dir = module_dir.empty() ? "." : module_dir;
  ModuleLocation out;
  out.dir = fs::weakly_canonical(dir, ec);
  out.package = root_dir.empty() ? out.dir : fs::weakly_canonical(root_dir, ec);
  out.package_name = "the template directory";
  out.package_display = "";
  out.display = relative_display(out, out.dir);
  return out;
}

ModuleLocation resolve_module_source(const std::string& name, const std::string& source,
                                     const ModuleLocation& caller, const std::string& registry_dir,
                                     const Position& position) {
  if (source.starts_with("./") || source.starts_with("../"))
    return resolve_local(name, source, caller, position);
  if (auto address = parse_registry_address(source))
    return resolve_registry(name, source, *address, registry_dir, position);
  fail_module(position, name,
              "source \"" + source +
                  "\" is not supported: Berth reads local modules (\"./dir\", \"../dir\") "
                  "and registry modules whose files are in its module directory (berth server "
                  "--terraform-module-dir); copy the module into the template instead");
}

std::vector<File> load_module_files(const std::string& name, const ModuleLocation& location,
                                    std::size_t max_file_bytes, const Position& position) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(location.dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string file = it->path().filename().string();
    // Terraform skips editor backups and hidden files.
    if (!file.ends_with(".tf") || file.starts_with(".") || file.starts_with("#") ||
        file.starts_with("~") || !it->is_regular_file(ec))
      continue;
    if (names.size() == kMaxModuleFiles)
      fail_module(position, name,
                  "more than " + std::to_string(kMaxModuleFiles) + " .tf files in " +
                      (location.display.empty() ? "its directory" : location.display));
    names.push_back(file);
  }
  if (ec) fail_module(position, name, "cannot list " + location.display + ": " + ec.message());
  if (names.empty())
    fail_module(
        position, name,
        "no .tf files in " + (location.display.empty() ? "its directory" : location.display));
  std::sort(names.begin(), names.end());
  FunctionEnvironment environment{location.dir.string(), max_file_bytes, nullptr};
  std::vector<File> files;
  for (const auto& file : names)
    files.push_back(parse(read_module_file(file, position, environment), location.display + file));
  return files;
}

}  // namespace berth::hcl
