#include "api/agent_stream_bridge.hpp"

#include <spdlog/spdlog.h>

namespace berth::api {

AgentStreamBridge::AgentStreamBridge(std::shared_ptr<AgentRpcSession> agent, BridgeOptions options)
    : agent_(std::move(agent)), options_(std::move(options)) {}

void AgentStreamBridge::on_open(std::shared_ptr<http::DuplexChannel> channel) {
  {
    std::lock_guard lock(mutex_);
    channel_ = std::move(channel);
  }
  std::weak_ptr<AgentStreamBridge> weak = weak_from_this();
  agent_->open_stream_async(options_.method, options_.params,
                            [weak](std::shared_ptr<AgentStream> stream, std::string error) {
                              if (auto self = weak.lock())
                                self->opened(std::move(stream), error);
                              else if (stream)
                                stream->close();
                            });
}

void AgentStreamBridge::opened(std::shared_ptr<AgentStream> stream, const std::string& error) {
  std::shared_ptr<http::DuplexChannel> channel;
  std::string pending;
  {
    std::lock_guard lock(mutex_);
    channel = channel_;
    if (client_gone_) {
      if (stream) stream->close();
      return;
    }
    if (stream) {
      stream_ = stream;
      pending.swap(pending_);
    }
  }
  if (!stream) {
    spdlog::info("agent stream ({}) not opened: {}", options_.method, error);
    if (options_.failure_reply) channel->send_binary(options_.failure_reply(error));
    channel->close();
    return;
  }
  std::weak_ptr<AgentStreamBridge> weak = weak_from_this();
  stream->set_receiver(
      [weak](std::string bytes) {
        if (auto self = weak.lock()) self->to_client(std::move(bytes));
      },
      [weak] {
        if (auto self = weak.lock()) self->agent_closed();
      });
  if (!options_.preamble.empty()) stream->write(options_.preamble);
  if (!pending.empty()) stream->write(pending);
}

void AgentStreamBridge::to_client(std::string bytes) {
  if (options_.transform_output) bytes = options_.transform_output(std::move(bytes));
  if (bytes.empty()) return;
  std::shared_ptr<http::DuplexChannel> channel;
  {
    std::lock_guard lock(mutex_);
    channel = channel_;
  }
  if (!channel) return;
  bool sent = options_.binary_frames ? channel->send_binary(std::move(bytes))
                                     : channel->send(std::move(bytes));
  if (!sent) {  // the client does not keep up (the channel closed itself) or has gone
    std::lock_guard lock(mutex_);
    if (stream_) stream_->close();
  }
}

void AgentStreamBridge::agent_closed() {
  std::shared_ptr<http::DuplexChannel> channel;
  {
    std::lock_guard lock(mutex_);
    channel = channel_;
  }
  if (channel) channel->close();
}

void AgentStreamBridge::on_message(std::string text) {
  on_binary(std::move(text));
}

void AgentStreamBridge::on_binary(std::string bytes) {
  std::shared_ptr<AgentStream> stream;
  {
    std::lock_guard lock(mutex_);
    stream = stream_;
    if (!stream) {
      pending_.append(bytes);  // accepts_input() keeps this under kMaxPendingBytes + a chunk
      return;
    }
  }
  if (!stream->write(bytes)) {
    std::lock_guard lock(mutex_);
    if (channel_) channel_->close();
  }
}

void AgentStreamBridge::on_close() {
  std::shared_ptr<AgentStream> stream;
  {
    std::lock_guard lock(mutex_);
    client_gone_ = true;
    stream.swap(stream_);
    channel_.reset();
  }
  if (stream) stream->close();
}

bool AgentStreamBridge::accepts_input() const {
  std::lock_guard lock(mutex_);
  if (!stream_) return pending_.size() < kMaxPendingBytes;
  return stream_->writable();
}

}  // namespace berth::api
