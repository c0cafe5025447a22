#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "store/pubsub.hpp"

namespace berth::coderd {

// Holds provisioner daemons' long polls (a daemon waiting for a job, or for its job to be
// canceled) without a thread each: one thread tries each poll again whenever one of its pubsub
// channels announces something, and a last time at its deadline.
class DaemonPolls {
 public:
  // The longest a daemon's request may wait (Coder's daemons poll about as often).
  static constexpr std::chrono::milliseconds kDefaultMaxWait{10000};

  DaemonPolls(store::Pubsub& pubsub, const Clock& clock,
              std::chrono::milliseconds max_wait = kDefaultMaxWait);
  ~DaemonPolls();
  DaemonPolls(const DaemonPolls&) = delete;
  DaemonPolls& operator=(const DaemonPolls&) = delete;

  // Why a poll is tried: the channels that spoke since its last try (none on its first);
  // `last` at its deadline; `stopping` (and `last`) when the server stops, when it should answer
  // without taking anything on (a job whose answer could no longer be delivered).
  struct Try {
    bool last = false;
    bool stopping = false;
    std::set<std::string> woken;
  };
  // What a poll does each time it may be answerable. Returns true once it answered: the poll
  // ends then, or after its last try. Runs on the poll thread, so it must not block for long;
  // what it throws is logged and ends the poll.
  using Attempt = std::function<bool(const Try&)>;

  // Tries `attempt` at once (on the poll thread), again after each message on one of
  // `channels`, and last when `wait` (at most max_wait) has passed.
  void add(std::vector<std::string> channels, std::chrono::milliseconds wait, Attempt attempt);
  std::chrono::milliseconds max_wait() const { return max_wait_; }
  // Gives every poll its last try (as stopping) and stops the thread; later polls get theirs at
  // once.
  void stop();

 private:
  struct Poll;
  void run();
  // On the poll thread: tries the polls that are due; drops the ended ones.
  void try_due(const std::set<std::string>& woken, bool stopping);
  void watch(const std::string& channel);
  void unwatch(const std::string& channel);

  store::Pubsub& pubsub_;
  const Clock& clock_;
  std::chrono::milliseconds max_wait_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Poll>> incoming_;  // guarded by mutex_
  std::set<std::string> woken_;                  // channels that spoke; guarded by mutex_
  bool stopping_ = false;                        // guarded by mutex_
  // The poll thread's own: the polls it holds and one subscription per channel they watch.
  std::vector<std::shared_ptr<Poll>> polls_;
  struct Watch {
    store::Pubsub::Subscription subscription;
    std::size_t polls = 0;
  };
  std::map<std::string, Watch> watches_;
  std::thread thread_;  // last: starts once the members it uses exist
};

}  // namespace berth::coderd
