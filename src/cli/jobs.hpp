#pragma once

#include <string>

#include "common/json.hpp"
#include "sdk/client.hpp"
#include "sdk/workspaces.hpp"

// Long waits: follow a provisioner job's logs live, then report how it ended.
namespace berth::cli {

// Streams a template version's import logs to stdout until the job ends; returns the final
// version, or throws Error with the job's error (e.g. the positioned HCL error) on failure.
json::object wait_for_template_version(sdk::Client& client, const std::string& version_id);

// The same for a workspace build; returns the final build.
sdk::WorkspaceBuild wait_for_build(sdk::Client& client, const std::string& build_id);

// Prints one log message of the API (`{"stage":…, "output":…}`) as `follow` shows it.
class LogPrinter {
 public:
  void print(const json::object& log);

 private:
  std::string stage_;
};

}  // namespace berth::cli
