#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace berth::sdk {

// A client WebSocket for interactive streams (a terminal, a forwarded port): one background
// I/O thread reads into a queue and writes in order, so one thread may read() while another
// send()s. Messages are whole frames, text or binary.
class WebSocket {
 public:
  // Connects to ws://host:port`target` with the session token (if any) and upgrades; throws
  // Error{unavailable} with the server's answer when the upgrade fails.
  static std::unique_ptr<WebSocket> connect(const std::string& host, const std::string& port,
                                            const std::string& target, const std::string& token);
  ~WebSocket();
  WebSocket(const WebSocket&) = delete;
  WebSocket& operator=(const WebSocket&) = delete;

  // Queues one message; false once the connection has closed.
  bool send(std::string bytes, bool binary = true);
  // The next message, waiting up to `timeout`; nullopt on timeout or once closed (closed()
  // tells which).
  std::optional<std::string> read(std::chrono::milliseconds timeout);
  bool closed() const;
  // Sends a normal close and stops the I/O thread; idempotent.
  void close();

 private:
  struct Impl;
  explicit WebSocket(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace berth::sdk
