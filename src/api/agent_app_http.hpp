#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>

#include "coderd/agents.hpp"
#include "coderd/tasks.hpp"

namespace berth::api {

// Reaches a workspace app through its agent's connection: the agent opens a TCP stream to
// the app's loopback port and a minimal HTTP/1.1 exchange (Connection: close) runs over it.
// Only http://localhost:<port> and http://127.0.0.1:<port> URLs are served.
//
// request() blocks the calling handler thread while the agent's frames are read by the
// server's I/O threads, which also run handlers: at most `max_in_flight` requests wait at
// once, and more are refused as unavailable, so they can never starve the readers.
class AgentAppHttpClient final : public coderd::AppHttpClient {
 public:
  static constexpr std::size_t kMaxResponseBytes = 4 * 1024 * 1024;

  explicit AgentAppHttpClient(coderd::AgentRegistry& registry, unsigned max_in_flight = 2,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : registry_(registry), max_in_flight_(max_in_flight ? max_in_flight : 1), timeout_(timeout) {}

  coderd::AppHttpResponse request(const Uuid& agent_id, const std::string& method,
                                  const std::string& url, const std::string& body) override;

 private:
  coderd::AppHttpResponse exchange(const Uuid& agent_id, const std::string& method,
                                   const std::string& url, const std::string& body);

  coderd::AgentRegistry& registry_;
  unsigned max_in_flight_;
  std::chrono::milliseconds timeout_;
  std::atomic<unsigned> in_flight_{0};
};

// Parses a complete HTTP/1.1 response (status line, headers, body by Content-Length,
// chunked, or to the end). Throws std::runtime_error when it is malformed or incomplete.
coderd::AppHttpResponse parse_http_response(const std::string& raw);

}  // namespace berth::api
