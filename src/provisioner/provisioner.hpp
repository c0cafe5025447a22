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
};

}  // namespace berth::provisioner
