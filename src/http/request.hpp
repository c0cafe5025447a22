#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::http {

// One HTTP request, decoded and fully read: what handlers see instead of Beast's types.
struct Request {
  std::string method;                                        // upper case: GET, POST, ...
  std::string target;                                        // as sent: path plus query
  std::string path;                                          // percent-decoded path
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;
  std::map<std::string, std::string> params;  // path template captures, set by the router

  std::optional<std::string_view> header(std::string_view lower_name) const;
  // Every value given for `name`, in order.
  std::vector<std::string> query_values(std::string_view name) const;
  std::optional<std::string> cookie(std::string_view name) const;
  const std::string& param(const std::string& name) const;
  // True for a WebSocket upgrade request (GET with Upgrade: websocket).
  bool is_websocket_upgrade() const;
};

class PushSource;
class DuplexSession;
class DeferredResponse;

// A complete response, or (with `websocket` set) an upgrade to a WebSocket that streams what
// the source pushes.
struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::shared_ptr<PushSource> websocket;
  // Server-Sent Events: each message is written as is (already `event: ...\ndata: ...\n\n`);
  // an `event: ping` goes out whenever the stream has been quiet for the ping interval.
  std::shared_ptr<PushSource> event_stream;
  // A bidirectional WebSocket: the upgrade is accepted and `duplex` gets the frames.
  std::shared_ptr<DuplexSession> duplex;
  // A raw tunnel: nothing is written for this response; the connection's bytes go to and
  // come from the session (a reverse proxy writes the upstream's own response).
  std::shared_ptr<DuplexSession> tunnel;
  // A response that comes later (DeferredResponse): the connection waits for it without a
  // thread. Headers set here (a middleware's) are added to it unless it sets them itself.
  std::shared_ptr<DeferredResponse> deferred;

  void set_header(std::string name, std::string value);
};

// For a proxy that writes a request again: true for a header that belongs to one connection
// (RFC 9110 §7.6.1), and for content-length, which the proxy writes itself.
bool is_hop_by_hop_header(std::string_view lower_name);
// Ends a request head such a proxy writes: the connection (a WebSocket upgrade, or closed after
// the response), the body's content-length when it has one or the method takes one, the blank
// line and the body.
void append_forwarded_request_end(std::string& out, const Request& request);

// Splits a request target into a decoded path and query pairs; false if it is malformed.
bool parse_target(std::string_view target, std::string& path,
                  std::vector<std::pair<std::string, std::string>>& query);

}  // namespace berth::http
