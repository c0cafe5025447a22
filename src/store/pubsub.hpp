#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace berth::store {

// Change notifications between parts of the server (and, with PostgreSQL, between replicas).
// Messages are small (ids, not rows); subscribers re-read the Store, so every message, whatever
// it says, means "something changed: re-read". Callbacks run on the publisher's thread
// (MemoryPubsub) or on the pubsub's own thread (PostgresPubsub) and must only hand the message
// off (signal a queue), never block.
class Pubsub {
 public:
  using Listener = std::function<void(const std::string& message)>;

  // Delivered to every subscriber of every channel when messages may have been lost (the
  // PostgreSQL LISTEN connection dropped and was made again): re-read everything that the
  // subscription watches. Never published by Berth itself.
  static constexpr const char* kResync = "resync";

  // Unsubscribes when destroyed.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
    ~Subscription() {
      if (cancel_) cancel_();
    }
    Subscription(Subscription&& other) noexcept : cancel_(std::move(other.cancel_)) {
      other.cancel_ = nullptr;
    }
    Subscription& operator=(Subscription&& other) noexcept {
      if (this != &other) {
        if (cancel_) cancel_();
        cancel_ = std::move(other.cancel_);
        other.cancel_ = nullptr;
      }
      return *this;
    }
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

   private:
    std::function<void()> cancel_;
  };

  virtual ~Pubsub() = default;
  virtual void publish(const std::string& channel, const std::string& message) = 0;
  // Once this returns, every message published afterwards (on any replica) reaches
  // `listener`; subscribe before the first read of what the channel announces.
  virtual Subscription subscribe(const std::string& channel, Listener listener) = 0;
};

class Store;

// Publishes through another Pubsub once the publishing thread's open transaction commits
// (Store::after_commit), and not at all if it rolls back: a subscriber woken in this process,
// or on another replica, then finds the change when it reads. Subscribing is the inner one's.
class CommitOrderedPubsub final : public Pubsub {
 public:
  CommitOrderedPubsub(Pubsub& inner, Store& store) : inner_(inner), store_(store) {}
  void publish(const std::string& channel, const std::string& message) override;
  Subscription subscribe(const std::string& channel, Listener listener) override {
    return inner_.subscribe(channel, std::move(listener));
  }

 private:
  Pubsub& inner_;
  Store& store_;
};

// The in-process Pubsub, used with SQLite and in tests.
class MemoryPubsub final : public Pubsub {
 public:
  void publish(const std::string& channel, const std::string& message) override;
  Subscription subscribe(const std::string& channel, Listener listener) override;

 private:
  // One subscription; `alive` is cleared under `mutex` when it ends, so that once
  // unsubscribing returns, its listener is neither running nor will run again.
  struct Entry {
    std::recursive_mutex mutex;
    bool alive = true;
    Listener listener;
  };
  struct State {
    std::mutex mutex;
    std::multimap<std::string, std::pair<std::uint64_t, std::shared_ptr<Entry>>> listeners;
    std::uint64_t next_id = 0;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace berth::store
