#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace berth::http {

// The sending half of a bidirectional connection, handed to a DuplexSession when it opens.
// Thread-safe: any thread may send at any time; frames go out in order through one writer.
class DuplexChannel {
 public:
  virtual ~DuplexChannel() = default;
  // Queues one text frame (raw bytes on a tunnel); false if the connection is closed or its
  // send queue is over its bound (then the connection is closed: a peer that does not read
  // must not grow memory).
  virtual bool send(std::string text) = 0;
  // Queues one binary frame (raw bytes on a tunnel); same bound as send().
  virtual bool send_binary(std::string bytes) = 0;
  // Closes the connection (normal closure) once what is queued has been written; on_close
  // follows.
  virtual void close() = 0;
  // Bytes queued and not yet written.
  virtual std::size_t queued_bytes() const = 0;
  // Calls `fn` once (on the connection's writer) when fewer than `bytes` are queued: at once if
  // that is already so. Not called if the connection ends first.
  virtual void notify_when_below(std::size_t bytes, std::function<void()> fn) = 0;
};

// A bidirectional WebSocket (the agent RPC connection, a terminal) or a raw tunnel (an app
// request handed to the workspace): the server calls on_open once, then on_message or
// on_binary for each frame (each chunk read, on a tunnel) in order and never concurrently,
// then on_close exactly once. Sessions know nothing of sockets; Beast stays in server.cpp.
class DuplexSession {
 public:
  virtual ~DuplexSession() = default;
  virtual void on_open(std::shared_ptr<DuplexChannel> channel) = 0;
  virtual void on_message(std::string text) = 0;
  virtual void on_binary(std::string /*bytes*/) {}
  virtual void on_close() = 0;
  // While false the server stops reading from the peer (backpressure towards a slow target)
  // and asks again every few milliseconds; a session may use the call to make progress.
  virtual bool accepts_input() { return true; }
  // Frames larger than this end the connection.
  virtual std::size_t max_message_bytes() const { return 4 * 1024 * 1024; }
  // Bytes the send queue may hold before send() refuses and closes.
  virtual std::size_t max_queued_bytes() const { return 16 * 1024 * 1024; }
};

}  // namespace berth::http
