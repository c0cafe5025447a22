#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "sdk/client.hpp"

// Rich parameter values for the builds `start`, `restart` and `update` make, with Coder's
// flags and environment variables (cli/parameter.go): --parameter, --rich-parameter-file,
// --parameter-default, --build-option / --ephemeral-parameter, --build-options /
// --prompt-ephemeral-parameters and --always-prompt.
namespace berth::cli {

struct ParameterFlags {
  std::vector<std::string> parameters;     // name=value
  std::string parameter_file;              // `name: value` lines
  std::vector<std::string> defaults;       // name=value, offered when asking
  std::vector<std::string> build_options;  // name=value for ephemeral parameters
  bool prompt_build_options = false;
  bool always_prompt = false;
};

// Adds the flags above (and their CODER_* variables) to `command`.
void add_parameter_flags(CLI::App* command, ParameterFlags& flags);

// `name: value` lines of a rich parameter file into `values` (blank lines and `#` comments
// skipped, YAML quotes removed); Error{invalid} naming the file and line otherwise.
void read_parameter_file(const std::string& path, std::map<std::string, std::string>& values);

// The rich_parameter_values of a start build on template version `version_id`, after the
// build `last_build_id` (empty for none): the values given or asked for. The server keeps
// every other value from the last build. A required parameter new to the version is asked
// for on a terminal and named in an Error{invalid} otherwise; an unknown name is an error.
json::array start_parameter_values(sdk::Client& client, const std::string& version_id,
                                   const std::string& last_build_id, const ParameterFlags& flags);

}  // namespace berth::cli
