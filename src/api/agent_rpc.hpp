#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/deps.hpp"
#include "coderd/agents.hpp"
#include "http/duplex.hpp"

namespace berth::api {

class AgentRpcSession;

// One TCP stream the agent opened to a loopback port of its machine, relayed as stream
// frames over the agent's connection. Blocking and thread-safe; for threads other than the
// server's I/O threads. Data from the agent waits in a bounded queue: a reader that falls
// more than kMaxQueuedBytes behind loses the stream.
class AgentStream {
 public:
  static constexpr std::size_t kMaxQueuedBytes = 8 * 1024 * 1024;
  // What the agent may send on a TCP stream before this side acknowledges it (flow control).
  static constexpr std::size_t kWindowBytes = 1024 * 1024;

  // `acks`: the agent was given kWindowBytes and waits for acknowledgements of what it sends;
  // `acked`: it acknowledges what this side writes, and writable() keeps to the window.
  AgentStream(std::weak_ptr<AgentRpcSession> session, std::int64_t id, bool acks = false,
              bool acked = false);
  std::int64_t id() const { return id_; }
  // Sends bytes to the port; false once the stream or the connection is closed.
  bool write(std::string_view bytes);
  // The next bytes from the port, waiting up to `timeout`; nullopt when the stream closed
  // (closed() is then true) or the time ran out.
  std::optional<std::string> read(std::chrono::milliseconds timeout);
  bool closed() const;
  // Closes both directions; idempotent.
  void close();
  // Push mode instead of read(): from now on the agent's bytes go to `on_data` and its close
  // to `on_closed`, both on the agent connection's reader thread (never concurrently). Bytes
  // queued before this call are handed over first.
  // `on_writable` runs on each acknowledgement from the agent (the window may have reopened).
  void set_receiver(std::function<void(std::string)> on_data, std::function<void()> on_closed,
                    std::function<void()> on_writable = {});
  // False while the agent's connection has much unsent: a writer should hold back.
  bool writable() const;
  // In push mode: the receiver's client has taken `bytes` more, so the agent may send more.
  void acknowledge(std::size_t bytes);
  // The agent wrote `bytes` more of this side's data to the port (flow control).
  void acknowledged(std::size_t bytes);

  // For AgentRpcSession (its I/O thread):
  void deliver(std::string bytes);
  void remote_closed();

 private:
  std::weak_ptr<AgentRpcSession> session_;
  std::int64_t id_;
  bool acks_;
  bool acked_;
  std::atomic<std::size_t> unacked_out_{0};  // written and not yet taken by the port
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> chunks_;
  std::size_t queued_ = 0;
  bool closed_ = false;         // no more data will arrive
  bool sent_close_ = false;     // this side told the agent
  bool remote_closed_ = false;  // the agent closed it first
  std::function<void(std::string)> on_data_;
  std::function<void()> on_closed_;
  std::function<void()> on_writable_;
};

// The server's side of one agent's WebSocket (protocol in sdk/agent_protocol.hpp): answers
// the agent's requests through coderd::Agents, registers itself as the agent's live link,
// and marks the agent connected and then disconnected.
class AgentRpcSession final : public http::DuplexSession,
                              public coderd::AgentLink,
                              public std::enable_shared_from_this<AgentRpcSession> {
 public:
  AgentRpcSession(Deps& deps, coderd::AgentIdentity identity);

  // http::DuplexSession
  void on_open(std::shared_ptr<http::DuplexChannel> channel) override;
  void on_message(std::string text) override;
  void on_close() override;
  std::size_t max_message_bytes() const override;

  // coderd::AgentLink
  bool send(std::string message) override;
  void close() override;

  // Asks the agent to connect to 127.0.0.1:`port` and waits for its answer. Throws
  // Error{unavailable} when the agent refuses, is gone, or does not answer in time.
  std::shared_ptr<AgentStream> open_stream(int port, std::chrono::milliseconds timeout);
  // Sends `method` (open_stream, open_pty) with `params` plus a new stream number and returns
  // at once; `done` gets the stream, or null and the reason, on the connection's reader thread
  // (or at once when the agent is not connected).
  using StreamOpened = std::function<void(std::shared_ptr<AgentStream>, std::string error)>;
  void open_stream_async(const std::string& method, json::object params, StreamOpened done);
  // For AgentStream.
  void forget_stream(std::int64_t id);
  std::size_t queued_bytes() const;

 private:
  struct PendingCall {
    bool done = false;
    bool ok = false;
    std::string message;
    std::function<void(bool ok, const std::string& message)> on_done;  // async calls only
  };
  json::value dispatch(const std::string& method, const json::object& params);

  Deps& deps_;
  coderd::AgentIdentity identity_;
  mutable std::mutex mutex_;
  std::shared_ptr<http::DuplexChannel> channel_;
  bool closed_ = false;
  std::condition_variable cv_;
  std::int64_t next_request_id_ = 1;
  std::int64_t next_stream_id_ = 1;
  std::map<std::int64_t, std::shared_ptr<PendingCall>> calls_;
  std::map<std::int64_t, std::shared_ptr<AgentStream>> streams_;
};

}  // namespace berth::api
