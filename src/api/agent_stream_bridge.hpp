#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "api/agent_rpc.hpp"
#include "common/json.hpp"
#include "http/duplex.hpp"

namespace berth::api {

// What an AgentStreamBridge asks the agent for and how it talks to the client.
struct BridgeOptions {
  std::string method = "open_stream";  // or open_pty
  json::object params;                 // the stream number is added
  std::string preamble;                // written to the agent's stream first (a proxied request)
  bool binary_frames = true;           // how output goes to the client (tunnels ignore it)
  // Sent to the client (then closed) when the agent cannot open the stream: on a tunnel a raw
  // HTTP response; empty means just close.
  std::function<std::string(const std::string& why)> failure_reply;
  // Rewrites the agent's bytes on their way to the client (stateful; e.g. a response head).
  std::function<std::string(std::string)> transform_output;
};

// Joins a client connection (a WebSocket, or a raw tunnel for the app proxy) to a stream the
// agent opens inside the workspace: bytes flow both ways through the agent's one connection
// until either end closes. Never blocks a thread: the stream opens asynchronously, and what
// the client sends before that waits in a bounded buffer.
class AgentStreamBridge final : public http::DuplexSession,
                                public std::enable_shared_from_this<AgentStreamBridge> {
 public:
  static constexpr std::size_t kMaxPendingBytes = 1024 * 1024;
  // The agent gets more credit once the client's send queue is below this.
  static constexpr std::size_t kClientLowWater = 256 * 1024;

  AgentStreamBridge(std::shared_ptr<AgentRpcSession> agent, BridgeOptions options);

  void on_open(std::shared_ptr<http::DuplexChannel> channel) override;
  void on_message(std::string text) override;
  void on_binary(std::string bytes) override;
  void on_close() override;
  bool accepts_input() override;

 private:
  void opened(std::shared_ptr<AgentStream> stream, const std::string& error);
  void to_client(std::string bytes);
  void agent_closed();
  // Acknowledges what the client's send queue has taken, or waits until it drains.
  void acknowledge_taken(std::size_t bytes);
  void client_drained();
  // Writes what the client sent (the preamble first) as far as the agent's window allows.
  void flush();

  std::shared_ptr<AgentRpcSession> agent_;
  BridgeOptions options_;
  mutable std::mutex mutex_;
  std::shared_ptr<http::DuplexChannel> channel_;
  std::shared_ptr<AgentStream> stream_;
  std::string pending_;   // bytes for the agent not yet written (the preamble, the client's)
  std::size_t sent_ = 0;  // of pending_, already written
  bool client_gone_ = false;
  std::size_t owed_ = 0;  // agent bytes given to the client and not yet acknowledged
  bool awaiting_drain_ = false;
};

}  // namespace berth::api
