#include "http/error_response.hpp"

namespace berth::http {

int status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid:
      return 400;
    case ErrorCode::unauthenticated:
      return 401;
    case ErrorCode::forbidden:
      return 403;
    case ErrorCode::not_found:
      return 404;
    case ErrorCode::conflict:
      return 409;
    case ErrorCode::not_ready:
      return 406;
    case ErrorCode::precondition_unmet:
      return 417;
    case ErrorCode::too_large:
      return 413;
    case ErrorCode::rate_limited:
      return 429;
    case ErrorCode::unavailable:
      return 503;
    case ErrorCode::internal:
      return 500;
  }
  return 500;
}

Response json_response(int status, const json::value& body) {
  Response r;
  r.status = status;
  r.set_header("Content-Type", "application/json; charset=utf-8");
  r.body = json::serialize(body);
  r.body += '\n';  // Go's json.Encoder ends every document with a newline
  return r;
}

Response no_content() {
  Response r;
  r.status = 204;
  return r;
}

Response error_response(const Error& error) {
  json::object body;
  body["message"] = error.message();
  if (!error.detail().empty()) body["detail"] = error.detail();
  if (!error.validations().empty()) {
    json::array validations;
    for (const auto& v : error.validations())
      validations.push_back(json::object{{"field", v.field}, {"detail", v.detail}});
    body["validations"] = std::move(validations);
  }
  return json_response(status_for(error.code()), body);
}

std::string raw_http_error(int status, const std::string& reason, const std::string& message,
                           const std::string& detail) {
  auto body = json::serialize(json::object{{"message", message}, {"detail", detail}});
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
  out.append("Content-Type: application/json\r\nConnection: close\r\nContent-Length: ");
  out.append(std::to_string(body.size())).append("\r\n\r\n").append(body);
  return out;
}

}  // namespace berth::http
