#pragma once

#include <functional>
#include <map>
#include <string>

#include "coderd/provisioner_jobs.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "store/rows.hpp"

namespace berth::provisioner {

// What a running job may do besides its work: log, and notice that it was canceled.
struct JobContext {
  std::function<void(coderd::JobLogLine)> log;
  std::function<bool()> canceled;
};

// A template version's source, unpacked, and the variable values its creator gave.
struct ImportRequest {
  std::map<std::string, std::string> files;  // path → contents
  std::map<std::string, std::string> variable_values;
};

// Everything a workspace build needs to know besides the template source.
struct BuildRequest {
  std::map<std::string, std::string> files;  // the template version's archive, unpacked
  std::map<std::string, std::string> variable_values;
  std::map<std::string, std::string> parameter_values;
  sdk::WorkspaceTransition transition = sdk::WorkspaceTransition::start;
  std::string state;  // what the previous build left (empty for the first)
  // The previous build did not succeed (failed, canceled, or interrupted by a crash): what it
  // created may be recorded nowhere, so the provisioner looks for leftovers.
  bool previous_build_failed = false;
  std::string workspace_id;
  std::string workspace_name;
  std::string workspace_dir;  // default home of the workspace's local resources
  std::string owner_id;
  std::string owner_name;
  std::string owner_email;
  std::string owner_full_name;
  std::string template_id;
  std::string template_name;
  std::string template_version;
  std::string task_id;  // set when the workspace belongs to an AI task
  std::string task_prompt;
};

// What a successful build produced.
struct BuildResponse {
  std::string state;
  json::array resources;                      // codersdk.WorkspaceResource documents
  std::map<std::string, std::string> tokens;  // agent id → agent token
  bool has_ai_task = false;
  std::string ai_task_app_id;  // the coder_app a coder_ai_task points at
  std::int64_t daily_cost = 0;
};

// A job failure with Coder's error code (e.g. REQUIRED_TEMPLATE_VARIABLES).
class JobFailure : public Error {
 public:
  JobFailure(std::string message, std::string error_code)
      : Error(ErrorCode::invalid, std::move(message)), error_code_(std::move(error_code)) {}
  const std::string& error_code() const { return error_code_; }

 private:
  std::string error_code_;
};

// Turns template sources into what Berth records: implemented by the built-in local
// provisioner (and later by one that runs real Terraform).
class Provisioner {
 public:
  virtual ~Provisioner() = default;
  // Parses and plans a template version: parameters, variables, presets, dry-run resources.
  virtual store::TemplateVersionImportResult import_template(const ImportRequest& request,
                                                             JobContext& context) = 0;
  // Plans and applies a start, stop or delete.
  virtual BuildResponse build_workspace(const BuildRequest& request, JobContext& context) = 0;
  // At start-up, before any build runs: stops what an interrupted build left in
  // `workspace_dir` that `state` (the workspace's latest build's) does not record; `log`
  // hears what was stopped.
  virtual void reconcile_workspace(const std::string& /*workspace_dir*/,
                                   const std::string& /*state*/,
                                   const std::function<void(const std::string&)>& /*log*/) {}
};

}  // namespace berth::provisioner
