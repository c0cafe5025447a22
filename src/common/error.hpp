#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace berth {

// What went wrong, independent of any protocol; the HTTP layer maps it to a status.
enum class ErrorCode {
  invalid,
  unauthenticated,
  forbidden,
  not_found,
  conflict,
  not_ready,  // the thing exists but is not usable yet (Coder's 406 for importing versions)
  precondition_unmet,  // first undo what depends on it (Coder's 417, e.g. a user's workspaces)
  too_large,
  rate_limited,
  unavailable,
  internal,
};

// One field-specific complaint, as in Coder's `validations` array.
struct Validation {
  std::string field;
  std::string detail;
};

// The one exception type services, stores and parsers throw.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, std::string detail = {},
        std::vector<Validation> validations = {});

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& detail() const { return detail_; }
  const std::vector<Validation>& validations() const { return validations_; }

 private:
  ErrorCode code_;
  std::string message_;
  std::string detail_;
  std::vector<Validation> validations_;
};

// Coder's wording for a resource that is missing or that the caller may not read.
inline constexpr const char* kResourceNotFoundMessage =
    "Resource not found or you do not have access to this resource";

const char* to_string(ErrorCode code);

// The ErrorCode a server's HTTP error status stands for (the reverse of http::status_for), for
// clients of Berth's API; a status with no code of its own is `internal`.
ErrorCode error_code_for_status(int status);

}  // namespace berth
