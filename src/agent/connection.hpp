#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/json.hpp"

namespace berth::agent {

class ReconnectingPtys;

// Where and how the agent reaches the server.
struct ConnectionOptions {
  std::string url;    // CODER_AGENT_URL, e.g. http://127.0.0.1:3000
  std::string token;  // CODER_AGENT_TOKEN
  std::string version;
  std::string expanded_directory;
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{5000};
  std::chrono::seconds heartbeat{15};
  // Serves the server's open_pty requests; null: they are refused.
  std::shared_ptr<ReconnectingPtys> terminals;
};

// The call could not complete: not connected, the connection dropped, or no answer in time.
class NotDelivered : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The server answered the call with an error.
class RpcError : public std::runtime_error {
 public:
  RpcError(std::string code, std::string message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

// The agent's one WebSocket to the server (protocol in sdk/agent_protocol.hpp), kept open:
// it reconnects with capped exponential backoff and jitter whenever it drops, sends
// update_startup first on every connect, and heartbeats. Beast and Asio stay in the .cpp;
// one I/O thread owns the socket, and call() is safe from any other thread.
class Connection {
 public:
  explicit Connection(ConnectionOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start();
  // Closes the socket and joins the I/O thread.
  void stop();
  // Sends a request and waits for its answer. Throws NotDelivered or RpcError.
  json::value call(const std::string& method, json::object params,
                   std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // The last measured round trip of a heartbeat (or update_startup) to the server.
  std::optional<double> round_trip_ms() const;
  // Waits until connected (true) or `timeout` passed.
  bool wait_connected(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace berth::agent
