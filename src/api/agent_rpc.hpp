#pragma once

#include <memory>
#include <mutex>

#include "api/deps.hpp"
#include "coderd/agents.hpp"
#include "http/duplex.hpp"

namespace berth::api {

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

 private:
  json::value dispatch(const std::string& method, const json::object& params);

  Deps& deps_;
  coderd::AgentIdentity identity_;
  std::mutex mutex_;
  std::shared_ptr<http::DuplexChannel> channel_;
};

}  // namespace berth::api
