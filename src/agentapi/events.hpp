#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agentapi/conversation.hpp"
#include "http/push.hpp"

namespace berth::agentapi {

// One `GET /events` client: a bounded queue of formatted SSE events. A client that falls
// behind by more than its queue is disconnected (it reconnects and gets a fresh replay)
// rather than growing memory.
class EventSubscriber final : public http::PushSource {
 public:
  explicit EventSubscriber(std::size_t max_queued) : max_queued_(max_queued) {}
  void push(std::string event);
  http::PushBatch next() override;

 private:
  std::mutex mutex_;
  std::deque<std::string> queue_;
  std::size_t max_queued_;
  bool overflowed_ = false;
};

// Fans events out to the subscribers that are still connected.
class EventHub {
 public:
  EventHub(std::size_t max_subscribers, std::size_t max_queued)
      : max_subscribers_(max_subscribers), max_queued_(max_queued) {}

  // A new subscriber that first receives `replay`; throws Error{unavailable} when full.
  std::shared_ptr<EventSubscriber> subscribe(const std::vector<std::string>& replay);
  void publish(const std::string& event);

 private:
  void prune();

  std::mutex mutex_;
  std::vector<std::weak_ptr<EventSubscriber>> subscribers_;
  std::size_t max_subscribers_;
  std::size_t max_queued_;
};

// SSE text for agentapi's events.
std::string message_update_event(const Message& message);
std::string status_change_event(Status status);

}  // namespace berth::agentapi
