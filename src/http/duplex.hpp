#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace berth::http {

// The sending half of a bidirectional WebSocket, handed to a DuplexSession when it opens.
// Thread-safe: any thread may send at any time; frames go out in order through one writer.
class DuplexChannel {
 public:
  virtual ~DuplexChannel() = default;
  // Queues one text frame; false if the connection is closed or its send queue is over its
  // bound (then the connection is closed: a peer that does not read must not grow memory).
  virtual bool send(std::string text) = 0;
  // Closes the connection (normal closure); on_close follows.
  virtual void close() = 0;
};

// A bidirectional WebSocket (the agent RPC connection): the server calls on_open once, then
// on_message for each text frame in order (never concurrently), then on_close exactly once.
// Sessions know nothing of sockets; Beast stays in server.cpp.
class DuplexSession {
 public:
  virtual ~DuplexSession() = default;
  virtual void on_open(std::shared_ptr<DuplexChannel> channel) = 0;
  virtual void on_message(std::string text) = 0;
  virtual void on_close() = 0;
  // Frames larger than this end the connection.
  virtual std::size_t max_message_bytes() const { return 4 * 1024 * 1024; }
  // Bytes the send queue may hold before send() refuses and closes.
  virtual std::size_t max_queued_bytes() const { return 16 * 1024 * 1024; }
};

}  // namespace berth::http
