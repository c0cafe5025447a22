#pragma once

#include "api/deps.hpp"
#include "http/push.hpp"

namespace berth::api {

// `GET /workspaces/{id}/watch` (SSE) and `/watch-ws` (WebSocket): a ping, the workspace, and
// the workspace again after every change announced on its pubsub channel. Never ends by
// itself; the client leaves.
class WorkspaceWatch final : public http::PushSource {
 public:
  enum class Framing { sse, websocket };
  WorkspaceWatch(Deps& deps, Uuid workspace_id, Uuid viewer, Framing framing);
  http::PushBatch next() override;

 private:
  std::string frame(const char* type, const json::value& data) const;

  Deps& deps_;
  Uuid workspace_id_;
  Uuid viewer_;
  Framing framing_;
  bool started_ = false;
  store::Pubsub::Subscription subscription_;
};

}  // namespace berth::api
