#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>

#include "coderd/agents.hpp"
#include "coderd/tasks.hpp"

namespace berth::api {

// Reaches a workspace app through its agent's connection: the agent opens a TCP stream to
// the app's loopback port and a minimal HTTP/1.1 exchange (Connection: close) runs over it.
// Only http://localhost:<port> and http://127.0.0.1:<port> URLs are served.
//
// No thread waits for an answer: the stream opens asynchronously, the agent's frames are
// taken as they come on its connection's thread, and one timer thread ends the exchanges that
// run past their deadline. At most `max_in_flight` exchanges run at once (each holds a stream
// on an agent and up to kMaxResponseBytes); more are refused as unreachable.
class AgentAppHttpClient final : public coderd::AppHttpClient {
 public:
  static constexpr std::size_t kMaxResponseBytes = 4 * 1024 * 1024;
  static constexpr std::size_t kMaxInFlight = 4096;

  explicit AgentAppHttpClient(coderd::AgentRegistry& registry,
                              std::size_t max_in_flight = kMaxInFlight,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Pending exchanges are dropped: their callbacks never run. Destroy after the server.
  ~AgentAppHttpClient() override;
  AgentAppHttpClient(const AgentAppHttpClient&) = delete;
  AgentAppHttpClient& operator=(const AgentAppHttpClient&) = delete;

  std::shared_ptr<coderd::AppHttpCall> start(const Uuid& agent_id, const std::string& method,
                                             const std::string& url, const std::string& body,
                                             Done done) override;

  // Exchanges under way now.
  std::size_t in_flight() const { return *in_flight_; }

  class Deadlines;  // the timer thread (agent_app_http.cpp)

 private:
  coderd::AgentRegistry& registry_;
  std::size_t max_in_flight_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<std::atomic<std::size_t>> in_flight_;
  std::unique_ptr<Deadlines> deadlines_;
};

// Parses a complete HTTP/1.1 response (status line, headers, body by Content-Length,
// chunked, or to the end). Throws std::runtime_error when it is malformed or incomplete.
coderd::AppHttpResponse parse_http_response(const std::string& raw);

}  // namespace berth::api
