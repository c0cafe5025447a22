#pragma once

// A test double for the server's end of the agent's WebSocket, shared by the agent tests.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "http/duplex.hpp"
#include "sdk/agent_protocol.hpp"

namespace berth::agent {

// Plays the server: records every frame the agent sends.
class FakeServerSession final : public http::DuplexSession {
  using Kind = sdk::agentproto::Message::Kind;

 public:
  void on_open(std::shared_ptr<http::DuplexChannel> channel) override {
    std::lock_guard lock(mutex_);
    channel_ = std::move(channel);
    cv_.notify_all();
  }
  void on_message(std::string text) override {
    std::lock_guard lock(mutex_);
    frames_.push_back(sdk::agentproto::parse_message(text));
    cv_.notify_all();
  }
  void on_close() override {}

  bool wait_open() {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return channel_ != nullptr; });
  }
  void send(std::string frame) {
    std::lock_guard lock(mutex_);
    channel_->send(std::move(frame));
  }
  // The next frame that is an answer to a server request or stream frame.
  std::optional<sdk::agentproto::Message> next(
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    for (;;) {
      while (!frames_.empty()) {
        auto m = std::move(frames_.front());
        frames_.pop_front();
        if (m.kind == Kind::response || m.kind == Kind::error || m.kind == Kind::stream) return m;
      }
      if (!cv_.wait_for(lock, timeout, [&] { return !frames_.empty(); })) return std::nullopt;
    }
  }
  // Stream bytes until the stream's close frame.
  std::string read_to_close(std::int64_t stream) {
    std::string out;
    while (auto m = next()) {
      if (m->kind != Kind::stream || m->stream != stream) continue;
      out += m->data;
      if (m->close) return out;
    }
    ADD_FAILURE() << "no close frame for stream " << stream;
    return out;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::shared_ptr<http::DuplexChannel> channel_;
  std::deque<sdk::agentproto::Message> frames_;
};

}  // namespace berth::agent
