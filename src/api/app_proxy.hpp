#pragma once

#include <string>
#include <string_view>

#include "api/deps.hpp"
#include "http/request.hpp"

namespace berth::api {

// True for a path-based app URL: `/@{user}/{workspace}[.{agent}]/apps/{slug}/...`.
bool is_app_path(std::string_view path);

// Serves a path-based app request: checks the app's share level against the caller, then
// hands the connection to the app's port inside the workspace through the agent's
// connection (HTTP and WebSocket alike, as a byte tunnel). Errors are Coder-shaped JSON.
http::Response proxy_app(Deps& deps, http::Request& request);

// Rewrites the head of an upstream HTTP response so the client does not reuse the tunnelled
// connection (`Connection: close`), except for a 101 upgrade; passes everything after it as
// is. Feed it the upstream's bytes in order.
class ResponseHeadFilter {
 public:
  static constexpr std::size_t kMaxHeadBytes = 64 * 1024;
  std::string feed(std::string bytes);

 private:
  std::string head_;
  bool done_ = false;
};

}  // namespace berth::api
