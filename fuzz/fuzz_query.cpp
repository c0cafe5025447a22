// The `q=` search parsers that need no server (the workspace, template and task searches look
// names up in the Store, so only their shared grammar, parse_search_terms, is reached), and the
// pagination parameters read from a request target built around the input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/query.hpp"
#include "common/error.hpp"
#include "common/time.hpp"
#include "http/request.hpp"

using namespace berth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string q(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& term : api::parse_search_terms(q, "Invalid workspace search query."))
      if (!term.has_key && !term.key.empty()) __builtin_trap();
  } catch (const Error&) {
  }
  try {
    api::parse_user_search(q);
  } catch (const Error&) {
  }
  if (auto t = parse_rfc3339(q)) parse_rfc3339(format_rfc3339(*t));
  // The input as the query string of a list request.
  http::Request request;
  request.target = "/api/v2/users?" + q;
  if (http::parse_target(request.target, request.path, request.query)) {
    try {
      api::parse_pagination(request);
    } catch (const Error&) {
    }
    for (const auto& q_value : request.query_values("q")) {
      try {
        api::parse_user_search(q_value);
      } catch (const Error&) {
      }
    }
  }
  return 0;
}
