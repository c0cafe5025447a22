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

ErrorCode error_code_for_status(int status) {
  switch (status) {
    case 400:
      return ErrorCode::invalid;
    case 401:
      return ErrorCode::unauthenticated;
    case 403:
      return ErrorCode::forbidden;
    case 404:
      return ErrorCode::not_found;
    case 409:
      return ErrorCode::conflict;
    case 413:
      return ErrorCode::too_large;
    case 417:
      return ErrorCode::precondition_unmet;
    case 429:
      return ErrorCode::rate_limited;
    case 503:
      return ErrorCode::unavailable;
    default:
      return ErrorCode::internal;
  }
}

}  // namespace berth
