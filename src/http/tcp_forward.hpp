#pragma once

#include <memory>
#include <string>

#include "http/duplex.hpp"

namespace berth::http {

// The threads on which the server's own outbound connections run (relays to other
// replicas): one event loop, so that a relayed stream costs a socket, not a thread.
class OutboundIo {
 public:
  OutboundIo();
  ~OutboundIo();  // stops the loop; connections still open are closed
  OutboundIo(const OutboundIo&) = delete;
  OutboundIo& operator=(const OutboundIo&) = delete;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Where a forward goes and what it says first.
struct TcpForwardTarget {
  std::string host;
  std::string port;
  std::string preamble;  // written before the client's own bytes (a request head and body)
  // Written to the client instead when the target cannot be reached (a whole HTTP response).
  std::string failure_reply;
};

// A raw tunnel (Response::tunnel) to a TCP peer: connects, writes the preamble, then copies
// bytes both ways until either side closes. Backpressure both ways: the client is not read
// while the peer is slow to take bytes, and the peer is not read while the client is.
std::shared_ptr<DuplexSession> make_tcp_forward(OutboundIo& io, TcpForwardTarget target);

}  // namespace berth::http
