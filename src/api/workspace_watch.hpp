#pragma once

#include "api/deps.hpp"
#include "http/push.hpp"

namespace berth::api {

// How a watch stream frames its events: SSE (`event: <type>` and `data: <json>` lines) or
// one WebSocket text message `{"type","data"}` each (Coder's OneWayWebSocketEventSender).
enum class WatchFraming { sse, websocket };

// `GET /workspaces/{id}/watch` (SSE) and `/watch-ws` (WebSocket): a ping, the workspace, and
// the workspace again after every change announced on its pubsub channel. Never ends by
// itself; the client leaves.
class WorkspaceWatch final : public http::PushSource {
 public:
  using Framing = WatchFraming;
  WorkspaceWatch(Deps& deps, Uuid workspace_id, Uuid viewer, Framing framing);
  http::PushBatch next() override;

 private:
  Deps& deps_;
  Uuid workspace_id_;
  Uuid viewer_;
  Framing framing_;
  bool started_ = false;
  store::Pubsub::Subscription subscription_;
};

// `GET /workspaceagents/{id}/watch-metadata` (SSE) and `/watch-metadata-ws` (WebSocket): a
// ping, the agent's metadata (codersdk.WorkspaceAgentMetadata[]), and the metadata again
// whenever a result changed. Agents' reports announce themselves on the workspace's channel.
class AgentMetadataWatch final : public http::PushSource {
 public:
  AgentMetadataWatch(Deps& deps, Uuid agent_id, Uuid workspace_id, WatchFraming framing);
  http::PushBatch next() override;

 private:
  Deps& deps_;
  Uuid agent_id_;
  WatchFraming framing_;
  bool started_ = false;
  std::string last_sent_;  // the results last sent, without their ages
  store::Pubsub::Subscription subscription_;
};

}  // namespace berth::api
