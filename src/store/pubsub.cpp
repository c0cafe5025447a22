#include "store/pubsub.hpp"

#include <vector>

#include "store/store.hpp"

namespace berth::store {

void MemoryPubsub::publish(const std::string& channel, const std::string& message) {
  std::vector<std::shared_ptr<Entry>> targets;
  {
    std::lock_guard lock(state_->mutex);
    auto [begin, end] = state_->listeners.equal_range(channel);
    for (auto it = begin; it != end; ++it) targets.push_back(it->second.second);
  }
  // Called outside the lock, so that a listener may subscribe or unsubscribe.
  for (const auto& entry : targets) {
    std::lock_guard lock(entry->mutex);
    if (entry->alive) entry->listener(message);
  }
}

Pubsub::Subscription MemoryPubsub::subscribe(const std::string& channel, Listener listener) {
  std::uint64_t id;
  {
    std::lock_guard lock(state_->mutex);
    id = state_->next_id++;
    auto entry = std::make_shared<Entry>();
    entry->listener = std::move(listener);
    state_->listeners.emplace(channel, std::make_pair(id, std::move(entry)));
  }
  std::weak_ptr<State> weak = state_;
  return Subscription([weak, channel, id] {
    auto state = weak.lock();
    if (!state) return;
    std::shared_ptr<Entry> entry;
    {
      std::lock_guard lock(state->mutex);
      auto [begin, end] = state->listeners.equal_range(channel);
      for (auto it = begin; it != end; ++it) {
        if (it->second.first == id) {
          entry = it->second.second;
          state->listeners.erase(it);
          break;
        }
      }
    }
    if (!entry) return;
    std::lock_guard lock(entry->mutex);  // waits for a call in progress
    entry->alive = false;
  });
}

void CommitOrderedPubsub::publish(const std::string& channel, const std::string& message) {
  store_.after_commit([this, channel, message] { inner_.publish(channel, message); });
}

}  // namespace berth::store
