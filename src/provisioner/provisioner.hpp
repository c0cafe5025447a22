#pragma once

#include <functional>
#include <map>
#include <string>

#include "coderd/provisioner_jobs.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "sdk/provisioner_daemons.hpp"
#include "store/rows.hpp"

namespace berth::provisioner {

// What a running job may do besides its work: log, and notice that it was canceled.
struct JobContext {
  std::function<void(coderd::JobLogLine)> log;
  std::function<bool()> canceled;
};

// What the provisioner is given and gives back: the daemon protocol's own types, since an
// external daemon receives them over the API.
using ImportRequest = sdk::ImportRequest;
using BuildRequest = sdk::BuildRequest;
using BuildResponse = sdk::BuildResponse;

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
