#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/json.hpp"
#include "sdk/websocket.hpp"

namespace berth::sdk {

// A raw HTTP answer.
struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  std::optional<std::string> header(const std::string& lower_name) const;
  // The body parsed as JSON (null when empty); throws Error{internal} when malformed.
  json::value json() const;
};

// A blocking HTTP/1.1 client for one Berth (or Coder) server, over one kept-alive connection;
// used by the CLI and by the tests. Not thread-safe: one per thread.
class Client {
 public:
  // `base_url` like http://127.0.0.1:3000 (no path).
  explicit Client(std::string base_url);
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  void set_session_token(std::string token) { token_ = std::move(token); }
  // How long request() waits on the server to take a request or to answer before giving up
  // with Error{unavailable}; zero (the default): as long as it takes.
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  const std::string& session_token() const { return token_; }

  // Sends one request with the session token header (if set) and returns what came back.
  HttpResponse request(const std::string& method, const std::string& target,
                       const std::string& body = {},
                       const std::vector<std::pair<std::string, std::string>>& headers = {});
  HttpResponse request_json(const std::string& method, const std::string& target,
                            const json::value& body);

  // Opens a WebSocket to `target` (on its own connection) and calls `on_message` for each
  // text message until the server closes the stream (returns true) or `on_message` returns
  // false (the client closes; returns false). Throws Error{unavailable} if the upgrade fails
  // or nothing arrives for `idle_timeout`.
  bool follow_websocket(const std::string& target,
                        const std::function<bool(const std::string&)>& on_message,
                        std::chrono::seconds idle_timeout = std::chrono::seconds(60));

  // Opens an interactive WebSocket to `target` (a terminal, a port stream) on its own
  // connection, with this client's session token.
  std::unique_ptr<WebSocket> open_websocket(const std::string& target) const;
  const std::string& host() const { return host_; }
  const std::string& port() const { return port_; }

 private:
  struct Connection;
  std::string host_;
  std::string port_;
  std::string token_;
  std::chrono::milliseconds timeout_{0};
  std::unique_ptr<Connection> connection_;
};

}  // namespace berth::sdk
