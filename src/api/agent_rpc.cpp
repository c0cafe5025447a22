#include "api/agent_rpc.hpp"

#include <spdlog/spdlog.h>

#include "api/workspace_agents_json.hpp"
#include "common/error.hpp"
#include "sdk/agent_protocol.hpp"

namespace berth::api {

namespace proto = sdk::agentproto;

namespace {

std::optional<TimePoint> time_of(const json::object& o, const char* key) {
  auto text = json::string_at(o, key);
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
    if (u.is_object())
      out.push_back(
          {json::string_at(u.get_object(), "id"), json::string_at(u.get_object(), "health")});
  return out;
}

std::vector<store::WorkspaceAgentMetadataRow> read_metadata(const json::object& params,
                                                            TimePoint now) {
  std::vector<store::WorkspaceAgentMetadataRow> out;
  for (const auto& m : array_of(params, "metadata"))
    if (m.is_object()) {
      const auto& o = m.get_object();
      out.push_back({{},
                     json::string_at(o, "key"),
                     json::string_at(o, "value"),
                     json::string_at(o, "error"),
                     time_of(o, "collected_at").value_or(now)});
    }
  return out;
}

store::WorkspaceAgentScriptTimingRow read_timing(const json::object& p, TimePoint now) {
  auto* code = p.if_contains("exit_code");
  return {{},
          json::string_at(p, "script_id"),
          json::string_at(p, "display_name"),
          time_of(p, "started_at").value_or(now),
          time_of(p, "ended_at").value_or(now),
          code && code->is_int64() ? code->get_int64() : 0,
          json::string_at(p, "stage"),
          json::string_at(p, "status")};
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
  // Other replicas relay requests for this agent here.
  if (deps_.replicas)
    deps_.store.upsert_agent_connection(identity_.agent.id, deps_.replicas->id(),
                                        deps_.clock.now());
  deps_.agents.connected(identity_);
  spdlog::info("agent {} ({}) connected", identity_.agent.name, identity_.agent.id.to_string());
}

void AgentRpcSession::on_message(std::string text) {
  auto m = proto::parse_message(text);
  if (m.kind == proto::Message::Kind::invalid) {
    spdlog::warn("agent {}: bad frame: {}", identity_.agent.id.to_string(), m.error_message);
    return;
  }
  if (m.kind == proto::Message::Kind::stream) {
    std::shared_ptr<AgentStream> stream;
    {
      std::lock_guard lock(mutex_);
      auto it = streams_.find(m.stream);
      if (it != streams_.end()) stream = it->second;
    }
    if (!stream) {
      if (!m.close) send(proto::encode_stream_close(m.stream));  // one this side forgot
      return;
    }
    if (m.ack > 0) stream->acknowledged(static_cast<std::size_t>(m.ack));
    if (!m.data.empty()) stream->deliver(m.data);
    if (m.close) stream->remote_closed();
    return;
  }
  if (m.kind == proto::Message::Kind::response || m.kind == proto::Message::Kind::error) {
    std::shared_ptr<PendingCall> call;
    {
      std::lock_guard lock(mutex_);
      auto it = calls_.find(m.id);
      if (it == calls_.end()) return;
      call = it->second;
      call->done = true;
      call->ok = m.kind == proto::Message::Kind::response;
      call->message = m.error_message;
      calls_.erase(it);
      cv_.notify_all();
    }
    if (call->on_done) call->on_done(call->ok, call->message);
    return;
  }
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
  std::map<std::int64_t, std::shared_ptr<AgentStream>> streams;
  std::map<std::int64_t, std::shared_ptr<PendingCall>> calls;
  {
    std::lock_guard lock(mutex_);
    channel_.reset();
    closed_ = true;
    for (auto& [id, call] : calls_) {
      call->done = true;
      call->message = "the agent disconnected";
    }
    calls.swap(calls_);
    streams.swap(streams_);
    cv_.notify_all();
  }
  for (auto& [id, call] : calls)
    if (call->on_done) call->on_done(false, call->message);
  for (auto& [id, stream] : streams) stream->remote_closed();
  // A connection replaced by the agent's newer one must not mark the agent disconnected.
  if (!deps_.agent_registry.remove(identity_.agent.id, this)) return;
  try {
    // Nor one the agent has since replaced with a connection to another replica.
    if (deps_.replicas &&
        !deps_.store.delete_agent_connection(identity_.agent.id, deps_.replicas->id()))
      return;
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

std::shared_ptr<AgentStream> AgentRpcSession::open_stream(int port,
                                                          std::chrono::milliseconds timeout) {
  auto call = std::make_shared<PendingCall>();
  std::shared_ptr<AgentStream> stream;
  std::int64_t request_id;
  {
    std::lock_guard lock(mutex_);
    if (closed_ || !channel_) throw Error{ErrorCode::unavailable, "The agent is not connected."};
    request_id = next_request_id_++;
    stream = std::make_shared<AgentStream>(weak_from_this(), next_stream_id_++, true, true);
    streams_[stream->id()] = stream;  // before the request: data may follow the answer at once
    calls_[request_id] = call;
  }
  auto fail = [&](const std::string& why) -> std::shared_ptr<AgentStream> {
    {
      std::lock_guard lock(mutex_);
      calls_.erase(request_id);
      streams_.erase(stream->id());
    }
    throw Error{ErrorCode::unavailable, "Failed to open a stream to the agent.", why};
  };
  if (!send(proto::encode_request(
          request_id, "open_stream",
          json::object{
              {"stream", stream->id()}, {"port", port}, {"window", AgentStream::kWindowBytes}})))
    return fail("the agent is not connected");
  {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return call->done; })) {
      lock.unlock();
      return fail("the agent did not answer in time");
    }
  }
  if (!call->ok) return fail(call->message);
  return stream;
}

void AgentRpcSession::open_stream_async(const std::string& method, json::object params,
                                        StreamOpened done) {
  auto call = std::make_shared<PendingCall>();
  std::shared_ptr<AgentStream> stream;
  std::int64_t request_id;
  {
    std::lock_guard lock(mutex_);
    if (closed_ || !channel_) {
      done(nullptr, "the agent is not connected");
      return;
    }
    request_id = next_request_id_++;
    // Both directions of a TCP stream are flow-controlled; a terminal's output is (its input,
    // typed by a person, is small and not acknowledged).
    bool tcp = method == "open_stream";
    stream = std::make_shared<AgentStream>(weak_from_this(), next_stream_id_++, true, tcp);
    params["window"] = AgentStream::kWindowBytes;
    streams_[stream->id()] = stream;  // before the request: data may follow the answer at once
    call->on_done = [this, stream, done](bool ok, const std::string& message) {
      if (ok) return done(stream, "");
      forget_stream(stream->id());
      done(nullptr, message.empty() ? "the agent refused the stream" : message);
    };
    calls_[request_id] = call;
  }
  params["stream"] = stream->id();
  if (!send(proto::encode_request(request_id, method, std::move(params)))) {
    {
      std::lock_guard lock(mutex_);
      if (!calls_.erase(request_id)) return;  // on_close already answered it
    }
    call->on_done(false, "the agent is not connected");
  }
}

void AgentRpcSession::forget_stream(std::int64_t id) {
  std::lock_guard lock(mutex_);
  streams_.erase(id);
}

std::size_t AgentRpcSession::queued_bytes() const {
  std::lock_guard lock(mutex_);
  return channel_ ? channel_->queued_bytes() : 0;
}

AgentStream::AgentStream(std::weak_ptr<AgentRpcSession> session, std::int64_t id, bool acks,
                         bool acked)
    : session_(std::move(session)), id_(id), acks_(acks), acked_(acked) {}

void AgentStream::acknowledge(std::size_t bytes) {
  if (!acks_ || bytes == 0) return;
  {
    std::lock_guard lock(mutex_);
    if (sent_close_) return;
  }
  if (auto session = session_.lock())
    session->send(proto::encode_stream_ack(id_, static_cast<std::int64_t>(bytes)));
}

bool AgentStream::write(std::string_view bytes) {
  constexpr std::size_t kChunk = 64 * 1024;
  {
    std::lock_guard lock(mutex_);
    if (sent_close_) return false;
  }
  auto session = session_.lock();
  if (!session) return false;
  unacked_out_ += bytes.size();
  for (std::size_t at = 0; at < bytes.size(); at += kChunk)
    if (!session->send(proto::encode_stream_data(id_, bytes.substr(at, kChunk)))) return false;
  return true;
}

std::optional<std::string> AgentStream::read(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout, [&] { return !chunks_.empty() || closed_; });
  if (chunks_.empty()) return std::nullopt;
  auto out = std::move(chunks_.front());
  chunks_.pop_front();
  queued_ -= out.size();
  lock.unlock();
  acknowledge(out.size());
  return out;
}

bool AgentStream::closed() const {
  std::lock_guard lock(mutex_);
  return closed_ && chunks_.empty();
}

void AgentStream::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    chunks_.clear();
    queued_ = 0;
    if (sent_close_) return;
    sent_close_ = true;
    cv_.notify_all();
  }
  if (auto session = session_.lock()) {
    session->send(proto::encode_stream_close(id_));
    session->forget_stream(id_);
  }
}

void AgentStream::set_receiver(std::function<void(std::string)> on_data,
                               std::function<void()> on_closed, std::function<void()> on_writable) {
  std::deque<std::string> queued;
  bool closed;
  {
    std::lock_guard lock(mutex_);
    on_data_ = std::move(on_data);
    on_closed_ = std::move(on_closed);
    on_writable_ = std::move(on_writable);
    queued.swap(chunks_);
    queued_ = 0;
    closed = remote_closed_;
  }
  for (auto& chunk : queued) on_data_(std::move(chunk));
  if (closed) on_closed_();
}

bool AgentStream::writable() const {
  constexpr std::size_t kHighWater = 4 * 1024 * 1024;
  if (acked_ && unacked_out_ >= kWindowBytes) return false;
  auto session = session_.lock();
  return session && session->queued_bytes() < kHighWater;
}

void AgentStream::acknowledged(std::size_t bytes) {
  auto before = unacked_out_.load();
  while (!unacked_out_.compare_exchange_weak(before, before - std::min(before, bytes))) {
  }
  std::function<void()> on_writable;
  {
    std::lock_guard lock(mutex_);
    on_writable = on_writable_;
  }
  if (on_writable) on_writable();
}

void AgentStream::deliver(std::string bytes) {
  if (on_data_) {  // push mode; set_receiver ran on this same reader thread or before it
    bool closed;
    {
      std::lock_guard lock(mutex_);
      closed = closed_;
    }
    if (!closed) on_data_(std::move(bytes));
    return;
  }
  bool overflow = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    if (queued_ + bytes.size() > kMaxQueuedBytes) {
      overflow = true;
    } else {
      queued_ += bytes.size();
      chunks_.push_back(std::move(bytes));
    }
    cv_.notify_all();
  }
  if (overflow) close();
}

void AgentStream::remote_closed() {
  bool forget = false;
  std::function<void()> on_closed;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    remote_closed_ = !sent_close_;
    // The agent already closed its end: no close frame back, just forget the stream.
    forget = !sent_close_;
    sent_close_ = true;
    if (forget) on_closed = on_closed_;
    cv_.notify_all();
  }
  if (auto session = session_.lock(); session && forget) session->forget_stream(id_);
  if (on_closed) on_closed();
}

json::value AgentRpcSession::dispatch(const std::string& method, const json::object& p) {
  auto& agents = deps_.agents;
  auto now = deps_.clock.now();
  if (method == "heartbeat") {
    agents.heartbeat(identity_);
  } else if (method == "get_manifest") {
    return agent_manifest_json(deps_, identity_);
  } else if (method == "update_startup") {
    agents.update_startup(identity_, json::string_at(p, "version"),
                          json::string_at(p, "api_version"),
                          json::string_at(p, "expanded_directory"));
  } else if (method == "update_lifecycle") {
    agents.update_lifecycle(identity_, json::string_at(p, "state"), time_of(p, "changed_at"));
  } else if (method == "batch_create_logs") {
    auto logs = array_of(p, "logs");
    if (!logs.empty())
      agents.create_logs(identity_, Uuid::parse(json::string_at(p, "log_source_id")),
                         read_agent_logs(logs));
  } else if (method == "batch_update_app_healths") {
    agents.update_app_healths(identity_, read_app_healths(p));
  } else if (method == "batch_update_metadata") {
    agents.update_metadata(identity_, read_metadata(p, now));
  } else if (method == "script_completed") {
    agents.script_completed(identity_, read_timing(p, now));
  } else if (method == "update_stats") {
    agents.update_stats(identity_, coderd::read_agent_stats(p));
    return json::object{{"report_interval_ms", agents.stats_interval().count()}};
  } else {
    throw Error{ErrorCode::not_found, "Unknown method.", "\"" + method + "\" is not a method."};
  }
  return json::object{};
}

}  // namespace berth::api
