#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "http/router.hpp"

namespace berth::http {

// Bounds on what one client may send or hold; every number here comes from outside.
struct ServerLimits {
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_body_bytes = 10 * 1024 * 1024;  // Coder's upload limit for template archives
  std::chrono::seconds read_timeout{30};          // to read one request once it has started
  std::chrono::seconds idle_timeout{120};         // between requests on a kept-alive connection
  std::size_t max_connections = 4096;
  std::size_t max_streams = 1024;           // open WebSocket streams (log follow, watch)
  std::chrono::seconds shutdown_grace{15};  // in-flight requests get this long to finish
};

// Called once per request after the response is written, for the access log.
using AccessLog = std::function<void(const Request&, int status, std::size_t bytes,
                                     std::chrono::microseconds elapsed)>;

// The HTTP/1.1 listener and its connections (Beast and Asio live only in server.cpp).
class Server {
 public:
  Server(Handler handler, ServerLimits limits, AccessLog access_log, unsigned threads);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds `host:port` (port 0 picks a free one) and returns the bound address.
  std::string listen(const std::string& address);
  // Serves until stop() or, if `stop_on_signals`, SIGINT/SIGTERM; then drains and returns.
  void run(bool stop_on_signals);
  // Stops accepting, lets in-flight requests finish, closes idle connections. Thread-safe.
  void stop();
  // Called once when shutdown begins (a signal or stop()), before the listener closes; set it
  // before run().
  void on_stop(std::function<void()> fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::http
