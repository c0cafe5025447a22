#include "api/workspace_watch.hpp"

#include "api/workspaces_json.hpp"
#include "coderd/workspaces.hpp"

namespace berth::api {

WorkspaceWatch::WorkspaceWatch(Deps& deps, Uuid workspace_id, Uuid viewer, Framing framing)
    : deps_(deps), workspace_id_(workspace_id), viewer_(viewer), framing_(framing) {
  subscription_ = deps.pubsub.subscribe(coderd::workspace_channel(workspace_id),
                                        [this](const std::string&) { wake(); });
}

std::string WorkspaceWatch::frame(const char* type, const json::value& data) const {
  if (framing_ == Framing::websocket)
    return json::serialize(json::object{{"type", type}, {"data", data}});
  std::string out = "event: " + std::string(type) + "\n";
  if (!data.is_null()) out += "data: " + json::serialize(data) + "\n";
  return out + "\n";
}

http::PushBatch WorkspaceWatch::next() {
  http::PushBatch batch;
  if (!started_) {
    started_ = true;
    batch.messages.push_back(frame("ping", nullptr));
  }
  auto workspace = deps_.store.get_workspace_by_id(workspace_id_);
  if (!workspace) {
    batch.messages.push_back(
        frame("error", json::object{{"message", "Internal error fetching workspace."}}));
    return batch;
  }
  batch.messages.push_back(frame("data", workspace_json(deps_, *workspace, viewer_)));
  return batch;
}

}  // namespace berth::api
