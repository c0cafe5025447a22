#include "common/error.hpp"

namespace berth {

Error::Error(ErrorCode code, std::string message, std::string detail,
             std::vector<Validation> validations)
    : std::runtime_error(message),
      code_(code),
      message_(std::move(message)),
      detail_(std::move(detail)),
      validations_(std::move(validations)) {}

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid:
      return "invalid";
    case ErrorCode::unauthenticated:
      return "unauthenticated";
    case ErrorCode::forbidden:
      return "forbidden";
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::conflict:
      return "conflict";
    case ErrorCode::not_ready:
      return "not_ready";
    case ErrorCode::precondition_unmet:
      return "precondition_unmet";
    case ErrorCode::too_large:
      return "too_large";
    case ErrorCode::rate_limited:
      return "rate_limited";
    case ErrorCode::unavailable:
      return "unavailable";
    case ErrorCode::internal:
      return "internal";
  }
  return "internal";
}

}  // namespace berth
