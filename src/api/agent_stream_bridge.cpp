#include "api/agent_stream_bridge.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string_view>
#include <utility>

namespace berth::api {

AgentStreamBridge::AgentStreamBridge(std::shared_ptr<AgentRpcSession> agent, BridgeOptions options)
    : agent_(std::move(agent)), options_(std::move(options)) {
  pending_ = std::move(options_.preamble);  // goes first, under the same flow control
}

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
  {
    std::lock_guard lock(mutex_);
    channel = channel_;
    if (client_gone_) {
      if (stream) stream->close();
      return;
    }
    if (stream) stream_ = stream;
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
      },
      [weak] {
        if (auto self = weak.lock()) self->flush();
      });
  flush();
}

void AgentStreamBridge::flush() {
  constexpr std::size_t kChunk = 64 * 1024;
  std::lock_guard lock(mutex_);  // held while writing: writes only queue, and keep their order
  if (!stream_) return;
  while (sent_ < pending_.size() && stream_->writable()) {
    auto n = std::min(kChunk, pending_.size() - sent_);
    if (!stream_->write(std::string_view(pending_).substr(sent_, n))) {
      if (channel_) channel_->close();
      return;
    }
    sent_ += n;
  }
  if (sent_ == pending_.size() || sent_ > pending_.size() / 2) {
    pending_.erase(0, sent_);
    sent_ = 0;
  }
}

void AgentStreamBridge::to_client(std::string bytes) {
  auto taken = bytes.size();
  if (options_.transform_output) bytes = options_.transform_output(std::move(bytes));
  std::shared_ptr<http::DuplexChannel> channel;
  {
    std::lock_guard lock(mutex_);
    channel = channel_;
  }
  if (!channel) return;
  bool sent = bytes.empty() || (options_.binary_frames ? channel->send_binary(std::move(bytes))
                                                       : channel->send(std::move(bytes)));
  if (!sent) {  // the client does not keep up (the channel closed itself) or has gone
    std::lock_guard lock(mutex_);
    if (stream_) stream_->close();
    return;
  }
  acknowledge_taken(taken);
}

void AgentStreamBridge::acknowledge_taken(std::size_t bytes) {
  std::shared_ptr<http::DuplexChannel> channel;
  std::shared_ptr<AgentStream> stream;
  std::size_t ack = 0;
  bool wait = false;
  {
    std::lock_guard lock(mutex_);
    owed_ += bytes;
    channel = channel_;
    stream = stream_;
    if (!channel || !stream) return;
    if (channel->queued_bytes() < kClientLowWater) {
      ack = std::exchange(owed_, 0);
    } else if (!awaiting_drain_) {
      awaiting_drain_ = true;
      wait = true;
    }
  }
  if (ack) stream->acknowledge(ack);
  if (wait) {
    std::weak_ptr<AgentStreamBridge> weak = weak_from_this();
    channel->notify_when_below(kClientLowWater, [weak] {
      if (auto self = weak.lock()) self->client_drained();
    });
  }
}

void AgentStreamBridge::client_drained() {
  std::shared_ptr<AgentStream> stream;
  std::size_t ack = 0;
  {
    std::lock_guard lock(mutex_);
    awaiting_drain_ = false;
    stream = stream_;
    ack = std::exchange(owed_, 0);
  }
  if (stream) stream->acknowledge(ack);
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
  {
    std::lock_guard lock(mutex_);
    pending_.append(bytes);  // accepts_input() keeps this near kMaxPendingBytes
  }
  flush();
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

bool AgentStreamBridge::accepts_input() {
  flush();  // what waits may go now if the agent's connection drained meanwhile
  std::lock_guard lock(mutex_);
  return pending_.size() - sent_ < kMaxPendingBytes;
}

}  // namespace berth::api
