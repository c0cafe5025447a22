// Parses the input as one .tf file and evaluates it as a module, the way a template import
// does, with a provider that accepts every type and echoes its configuration. Evaluation is
// bounded by the budget evaluate_module already has (kMaxEvalValues, kMaxEvalBytes).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.hpp"
#include "hcl/module.hpp"
#include "hcl/parser.hpp"

namespace {

using namespace berth;

class EchoEverything : public hcl::Provider {
 public:
  bool supports(const std::string&, const std::string& type) const override {
    return type != "unknown_type";
  }
  json::value plan(const std::string& mode, const std::string& type, const std::string& name,
                   std::optional<std::int64_t> index, json::value config,
                   const hcl::Position&) override {
    json::object out = config.as_object();
    out["id"] = mode + "." + type + "." + name + (index ? std::to_string(*index) : "");
    // The computed attributes templates read most, as the coder provider sets them.
    if (type == "coder_workspace") {
      out["start_count"] = 1;
      out["name"] = "dev";
    }
    if (type == "coder_agent") out["init_script"] = "echo agent";
    if (type == "coder_parameter") {
      const json::value* d = out.if_contains("default");
      out["value"] = d ? *d : json::value("");
    }
    return out;
  }
};

// A module directory for file() and templatefile(), with one file in it; module calls to
// "./sub" find a small module there.
const std::string& module_dir() {
  static const std::string dir = [] {
    std::string templ = (std::filesystem::temp_directory_path() / "berth-fuzz-hcl-XXXXXX").string();
    if (!mkdtemp(templ.data())) std::abort();
    std::ofstream(templ + "/greeting.tftpl") << "hello ${name}%{ for x in list }${x}%{ endfor }\n";
    std::filesystem::create_directory(templ + "/sub");
    std::ofstream(templ + "/sub/main.tf")
        << "variable \"n\" {\n  default = 1\n}\noutput \"twice\" {\n  value = var.n * 2\n}\n";
    return templ;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string source(reinterpret_cast<const char*>(data), size);
  try {
    auto files = hcl::parse_module({{"main.tf", source}});
    EchoEverything provider;
    hcl::ModuleOptions options;
    options.module_dir = module_dir();
    options.variable_values["given"] = json::value("fuzz");
    auto result = hcl::evaluate_module(files, provider, options);
    // What the provisioner stores must be JSON that Berth can read back.
    auto check = [](const json::value& v) {
      try {
        json::parse(json::serialize(v));
      } catch (const Error&) {
        __builtin_trap();
      }
    };
    for (const auto& r : result.resources) check(r.attributes);
    for (const auto& [name, v] : result.outputs) check(v);
    for (const auto& [name, v] : result.variables) check(v);
    for (const auto& [name, v] : result.providers) check(v);
  } catch (const Error& e) {
    // Rejected input: what every bad template must get. BERTH_FUZZ_VERBOSE=1 shows why.
    static const bool verbose = std::getenv("BERTH_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "rejected: %s\n", e.message().c_str());
  }
  return 0;
}
