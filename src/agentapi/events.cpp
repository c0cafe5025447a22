#include "agentapi/events.hpp"

#include <algorithm>
#include <utility>

#include "common/error.hpp"
#include "common/json.hpp"

namespace berth::agentapi {

namespace {

std::string sse(const char* name, const json::value& data) {
  // boost.json never emits raw newlines, so the data fits on one `data:` line.
  return std::string("event: ") + name + "\ndata: " + json::serialize(data) + "\n\n";
}

}  // namespace

void EventSubscriber::push(std::string event) {
  {
    std::lock_guard lock(mutex_);
    if (overflowed_) return;
    if (queue_.size() >= max_queued_) {
      overflowed_ = true;
      queue_.clear();
    } else {
      queue_.push_back(std::move(event));
    }
  }
  wake();
}

http::PushBatch EventSubscriber::next() {
  std::lock_guard lock(mutex_);
  http::PushBatch batch;
  batch.messages.assign(std::make_move_iterator(queue_.begin()),
                        std::make_move_iterator(queue_.end()));
  queue_.clear();
  batch.done = overflowed_;
  return batch;
}

std::shared_ptr<EventSubscriber> EventHub::subscribe(const std::vector<std::string>& replay) {
  std::lock_guard lock(mutex_);
  prune();
  if (subscribers_.size() >= max_subscribers_)
    throw Error{ErrorCode::unavailable, "Too many event subscribers; try again later."};
  // Room for the replay (the current state) on top of the live backlog bound.
  auto subscriber = std::make_shared<EventSubscriber>(max_queued_ + replay.size());
  for (const auto& event : replay) subscriber->push(event);
  subscribers_.push_back(subscriber);
  return subscriber;
}

void EventHub::publish(const std::string& event) {
  std::lock_guard lock(mutex_);
  prune();
  for (const auto& weak : subscribers_)
    if (auto subscriber = weak.lock()) subscriber->push(event);
}

void EventHub::prune() {
  std::erase_if(subscribers_, [](const auto& weak) { return weak.expired(); });
}

std::string message_update_event(const Message& message) {
  return sse("message_update", json::object{{"id", message.id},
                                            {"role", to_string(message.role)},
                                            {"message", message.content},
                                            {"time", format_rfc3339(message.time)}});
}

std::string status_change_event(Status status) {
  return sse("status_change",
             json::object{{"status", to_string(status)}, {"agent_type", "custom"}});
}

}  // namespace berth::agentapi
