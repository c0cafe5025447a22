#include "api/agent_rpc.hpp"

#include <spdlog/spdlog.h>

#include "api/workspace_agents_json.hpp"
#include "common/error.hpp"
#include "sdk/agent_protocol.hpp"

namespace berth::api {

namespace proto = sdk::agentproto;

namespace {

std::string str(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

std::optional<TimePoint> time_of(const json::object& o, const char* key) {
  auto text = str(o, key);
  return text.empty() ? std::nullopt : parse_rfc3339(text);
}

const json::array& array_of(const json::object& o, const char* key) {
  static const json::array kEmpty;
  auto* v = o.if_contains(key);
  return v && v->is_array() ? v->get_array() : kEmpty;
}

std::vector<coderd::AppHealthInput> read_app_healths(const json::object& params) {
  std::vector<coderd::AppHealthInput> out;
  for (const auto& u : array_of(params, "updates"))
    if (u.is_object()) out.push_back({str(u.get_object(), "id"), str(u.get_object(), "health")});
  return out;
}

std::vector<store::WorkspaceAgentMetadataRow> read_metadata(const json::object& params,
                                                            TimePoint now) {
  std::vector<store::WorkspaceAgentMetadataRow> out;
  for (const auto& m : array_of(params, "metadata"))
    if (m.is_object()) {
      const auto& o = m.get_object();
      out.push_back({{},
                     str(o, "key"),
                     str(o, "value"),
                     str(o, "error"),
                     time_of(o, "collected_at").value_or(now)});
    }
  return out;
}

store::WorkspaceAgentScriptTimingRow read_timing(const json::object& p, TimePoint now) {
  auto* code = p.if_contains("exit_code");
  return {{},
          str(p, "script_id"),
          str(p, "display_name"),
          time_of(p, "started_at").value_or(now),
          time_of(p, "ended_at").value_or(now),
          code && code->is_int64() ? code->get_int64() : 0,
          str(p, "stage"),
          str(p, "status")};
}

}  // namespace

AgentRpcSession::AgentRpcSession(Deps& deps, coderd::AgentIdentity identity)
    : deps_(deps), identity_(std::move(identity)) {}

void AgentRpcSession::on_open(std::shared_ptr<http::DuplexChannel> channel) {
  {
    std::lock_guard lock(mutex_);
    channel_ = std::move(channel);
  }
  deps_.agent_registry.add(identity_.agent.id, shared_from_this());
  deps_.agents.connected(identity_);
  spdlog::info("agent {} ({}) connected", identity_.agent.name, identity_.agent.id.to_string());
}

void AgentRpcSession::on_message(std::string text) {
  auto m = proto::parse_message(text);
  if (m.kind == proto::Message::Kind::invalid) {
    spdlog::warn("agent {}: bad frame: {}", identity_.agent.id.to_string(), m.error_message);
    return;
  }
  if (m.kind != proto::Message::Kind::request && m.kind != proto::Message::Kind::notification)
    return;  // answers to server requests and stream frames: nothing asks for them yet
  try {
    auto result = dispatch(m.method, m.params);
    if (m.kind == proto::Message::Kind::request)
      send(proto::encode_result(m.id, std::move(result)));
  } catch (const Error& e) {
    if (e.code() == ErrorCode::internal)
      spdlog::error("agent {}: {} failed: {} {}", identity_.agent.id.to_string(), m.method,
                    e.message(), e.detail());
    if (m.kind == proto::Message::Kind::request)
      send(proto::encode_error(m.id, to_string(e.code()), e.message(), e.detail()));
  }
}

void AgentRpcSession::on_close() {
  {
    std::lock_guard lock(mutex_);
    channel_.reset();
  }
  // A connection replaced by the agent's newer one must not mark the agent disconnected.
  if (!deps_.agent_registry.remove(identity_.agent.id, this)) return;
  try {
    deps_.agents.disconnected(identity_);
  } catch (const std::exception& e) {
    spdlog::warn("agent {}: recording the disconnect failed: {}", identity_.agent.id.to_string(),
                 e.what());
  }
  spdlog::info("agent {} disconnected", identity_.agent.id.to_string());
}

std::size_t AgentRpcSession::max_message_bytes() const {
  return proto::kMaxMessageBytes;
}

bool AgentRpcSession::send(std::string message) {
  std::lock_guard lock(mutex_);
  return channel_ && channel_->send(std::move(message));
}

void AgentRpcSession::close() {
  std::lock_guard lock(mutex_);
  if (channel_) channel_->close();
}

json::value AgentRpcSession::dispatch(const std::string& method, const json::object& p) {
  auto& agents = deps_.agents;
  auto now = deps_.clock.now();
  if (method == "heartbeat") {
    agents.heartbeat(identity_);
  } else if (method == "get_manifest") {
    return agent_manifest_json(deps_, identity_);
  } else if (method == "update_startup") {
    agents.update_startup(identity_, str(p, "version"), str(p, "api_version"),
                          str(p, "expanded_directory"));
  } else if (method == "update_lifecycle") {
    agents.update_lifecycle(identity_, str(p, "state"), time_of(p, "changed_at"));
  } else if (method == "batch_create_logs") {
    auto logs = array_of(p, "logs");
    if (!logs.empty())
      agents.create_logs(identity_, Uuid::parse(str(p, "log_source_id")), read_agent_logs(logs));
  } else if (method == "batch_update_app_healths") {
    agents.update_app_healths(identity_, read_app_healths(p));
  } else if (method == "batch_update_metadata") {
    agents.update_metadata(identity_, read_metadata(p, now));
  } else if (method == "script_completed") {
    agents.script_completed(identity_, read_timing(p, now));
  } else {
    throw Error{ErrorCode::not_found, "Unknown method.", "\"" + method + "\" is not a method."};
  }
  return json::object{};
}

}  // namespace berth::api
