#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/json.hpp"

namespace berth::docker {

// Where a Docker Engine (or Podman's Docker-compatible service) listens.
struct EngineAddress {
  enum class Kind { unix_socket, tcp };
  Kind kind = Kind::unix_socket;
  std::string path;       // unix: the socket's path
  std::string host;       // tcp
  std::string port;       // tcp
  std::string cert_path;  // tcp: a directory with ca.pem, cert.pem and key.pem; TLS when set
  std::string text;       // as given ("unix:///var/run/docker.sock"), for messages
};

// Parses `unix:///path` or `tcp://host:port` (the Docker CLI's DOCKER_HOST forms); throws
// Error{invalid} naming the value otherwise.
EngineAddress parse_engine_address(const std::string& host, const std::string& cert_path = {});

// DOCKER_HOST and DOCKER_CERT_PATH when set, else unix:///var/run/docker.sock.
EngineAddress default_engine_address();

// One answer of the Engine API.
struct EngineResponse {
  int status = 0;
  std::string body;
};

// Blocking HTTP/1.1 calls to the Engine API over a Unix socket, TCP, or TCP with TLS; one
// connection per call. Every failure names the address and the call.
class EngineClient {
 public:
  explicit EngineClient(EngineAddress address,
                        std::chrono::milliseconds timeout = std::chrono::seconds(120));
  ~EngineClient();
  EngineClient(const EngineClient&) = delete;
  EngineClient& operator=(const EngineClient&) = delete;

  // Sends one request (the target is prefixed with the API version) and returns the answer
  // whatever its status; throws Error{unavailable} when the engine cannot be reached or does
  // not answer in time, Error{too_large} past `max_body_bytes`.
  EngineResponse call(const std::string& method, const std::string& target,
                      const std::string& body = {},
                      const std::string& content_type = "application/json",
                      std::size_t max_body_bytes = 64 << 20);

  // call() that also turns a status of 400 or more into Error{unavailable} (not_found for 404,
  // conflict for 409) carrying the daemon's message.
  EngineResponse checked(const std::string& method, const std::string& target,
                         const std::string& body = {},
                         const std::string& content_type = "application/json");
  json::value get_json(const std::string& target);
  json::value post_json(const std::string& target, const json::value& body);

  const EngineAddress& address() const { return address_; }

 private:
  struct Tls;
  EngineAddress address_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Tls> tls_;
};

// The daemon's own message from an error body ({"message": "..."}), or the body itself.
std::string daemon_message(const std::string& body);

}  // namespace berth::docker
