#pragma once

#include "common/error.hpp"
#include "common/json.hpp"
#include "http/request.hpp"

namespace berth::http {

// The HTTP status an ErrorCode stands for: the one table that decides the wire.
int status_for(ErrorCode code);

// A JSON response with `body` serialized the way Coder's httpapi.Write does.
Response json_response(int status, const json::value& body);

// An empty 204 No Content response.
Response no_content();

// Coder's error body {"message","detail","validations"} for an Error.
Response error_response(const Error& error);

// A whole HTTP/1.1 response as bytes, Coder's error body and `Connection: close`: what a raw
// tunnel writes when it cannot reach its target.
std::string raw_http_error(int status, const std::string& reason, const std::string& message,
                           const std::string& detail);

}  // namespace berth::http
