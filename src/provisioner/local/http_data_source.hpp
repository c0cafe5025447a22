#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "hcl/ast.hpp"

namespace berth::provisioner::local {

// What an HTTP request answered.
struct FetchedResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// One HTTP/1.1 request to an http:// or https:// URL (certificates checked against the system's
// store), bounded in time and size. Throws Error{invalid} for a bad URL, Error{unavailable} when
// the host cannot be reached or does not answer in time, Error{too_large} past `max_body`.
FetchedResponse fetch_url(const std::string& method, const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body, std::chrono::milliseconds timeout,
                          std::size_t max_body);

// The hashicorp/http provider's `http` data source: requests `url` (`method`, `request_headers`,
// `request_body`, `request_timeout_ms`) while planning and exposes `status_code`,
// `response_body`, `response_headers` and `body`. Like the provider (v3), a non-2xx answer is
// not an error; an unreachable URL is, positioned at the block.
json::value plan_http(json::object config, const hcl::Position& position);

}  // namespace berth::provisioner::local
