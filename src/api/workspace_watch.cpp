#include "api/workspace_watch.hpp"

#include "api/workspace_agents_json.hpp"
#include "api/workspaces_json.hpp"
#include "coderd/workspaces.hpp"

namespace berth::api {

namespace {

std::string frame(WatchFraming framing, const char* type, const json::value& data) {
  if (framing == WatchFraming::websocket)
    return json::serialize(json::object{{"type", type}, {"data", data}});
  std::string out = "event: " + std::string(type) + "\n";
  if (!data.is_null()) out += "data: " + json::serialize(data) + "\n";
  return out + "\n";
}

}  // namespace

WorkspaceWatch::WorkspaceWatch(Deps& deps, Uuid workspace_id, Uuid viewer, Framing framing)
    : deps_(deps), workspace_id_(workspace_id), viewer_(viewer), framing_(framing) {
  subscription_ = deps.pubsub.subscribe(coderd::workspace_channel(workspace_id),
                                        [this](const std::string&) { wake(); });
}

http::PushBatch WorkspaceWatch::next() {
  http::PushBatch batch;
  if (!started_) {
    started_ = true;
    batch.messages.push_back(frame(framing_, "ping", nullptr));
  }
  auto workspace = deps_.store.get_workspace_by_id(workspace_id_);
  if (!workspace) {
    batch.messages.push_back(
        frame(framing_, "error", json::object{{"message", "Internal error fetching workspace."}}));
    return batch;
  }
  batch.messages.push_back(frame(framing_, "data", workspace_json(deps_, *workspace, viewer_)));
  return batch;
}

AgentMetadataWatch::AgentMetadataWatch(Deps& deps, Uuid agent_id, Uuid workspace_id,
                                       WatchFraming framing)
    : deps_(deps), agent_id_(agent_id), framing_(framing) {
  subscription_ = deps.pubsub.subscribe(coderd::workspace_channel(workspace_id),
                                        [this](const std::string&) { wake(); });
}

http::PushBatch AgentMetadataWatch::next() {
  http::PushBatch batch;
  if (!started_) {
    started_ = true;
    batch.messages.push_back(frame(framing_, "ping", nullptr));
  }
  auto agent = deps_.store.get_workspace_agent_by_id(agent_id_);
  if (!agent) {
    batch.messages.push_back(frame(
        framing_, "error", json::object{{"message", "Internal error fetching workspace agent."}}));
    batch.done = true;
    return batch;
  }
  auto metadata = agent_metadata_json(deps_, *agent, deps_.clock.now());
  // The workspace's channel also carries every other change of the workspace: send only
  // when a result is new (the ages alone move with the clock).
  json::array results;
  for (const auto& item : metadata) {
    auto result = item.as_object().at("result").as_object();
    result.erase("age");
    results.push_back(std::move(result));
  }
  auto fingerprint = json::serialize(results);
  if (fingerprint == last_sent_) return batch;  // never on the first call: "" is no array
  last_sent_ = std::move(fingerprint);
  batch.messages.push_back(frame(framing_, "data", metadata));
  return batch;
}

}  // namespace berth::api
