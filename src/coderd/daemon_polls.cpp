#include "coderd/daemon_polls.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace berth::coderd {

struct DaemonPolls::Poll {
  std::vector<std::string> channels;
  SteadyTime deadline;
  Attempt attempt;
  bool fresh = true;  // not tried yet
};

namespace {

// Runs one try; an exception ends the poll (its response was, or will be, abandoned).
bool try_once(const DaemonPolls::Attempt& attempt, const DaemonPolls::Try& t) {
  try {
    return attempt(t);
  } catch (const std::exception& e) {
    spdlog::error("provisioner daemon poll: {}", e.what());
    return true;
  }
}

}  // namespace

DaemonPolls::DaemonPolls(store::Pubsub& pubsub, const Clock& clock,
                         std::chrono::milliseconds max_wait)
    : pubsub_(pubsub), clock_(clock), max_wait_(max_wait), thread_([this] { run(); }) {}

DaemonPolls::~DaemonPolls() {
  stop();
}

void DaemonPolls::add(std::vector<std::string> channels, std::chrono::milliseconds wait,
                      Attempt attempt) {
  auto poll = std::make_shared<Poll>();
  poll->channels = std::move(channels);
  poll->deadline = clock_.steady_now() + std::clamp(wait, std::chrono::milliseconds(0), max_wait_);
  poll->attempt = std::move(attempt);
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      incoming_.push_back(std::move(poll));
      cv_.notify_all();
      return;
    }
  }
  try_once(poll->attempt, Try{.last = true, .stopping = true, .woken = {}});
}

void DaemonPolls::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DaemonPolls::watch(const std::string& channel) {
  auto& w = watches_[channel];
  if (w.polls++ > 0) return;
  // Subscribed before the poll's first try, so that nothing announced after that try is missed.
  w.subscription = pubsub_.subscribe(channel, [this, channel](const std::string&) {
    {
      std::lock_guard lock(mutex_);
      woken_.insert(channel);
    }
    cv_.notify_all();
  });
}

void DaemonPolls::unwatch(const std::string& channel) {
  auto it = watches_.find(channel);
  if (it != watches_.end() && --it->second.polls == 0) watches_.erase(it);
}

void DaemonPolls::try_due(const std::set<std::string>& woken, bool stopping) {
  auto now = clock_.steady_now();
  std::erase_if(polls_, [&](const std::shared_ptr<Poll>& poll) {
    Try t{.last = stopping || poll->deadline <= now, .stopping = stopping, .woken = {}};
    for (const auto& channel : poll->channels)
      if (woken.contains(channel)) t.woken.insert(channel);
    if (!(std::exchange(poll->fresh, false) || !t.woken.empty() || t.last)) return false;
    bool ended = try_once(poll->attempt, t) || t.last;
    if (ended)
      for (const auto& channel : poll->channels) unwatch(channel);
    return ended;
  });
}

void DaemonPolls::run() {
  for (;;) {
    std::vector<std::shared_ptr<Poll>> incoming;
    std::set<std::string> woken;
    bool stopping;
    {
      std::unique_lock lock(mutex_);
      auto deadline = clock_.steady_now() + std::chrono::hours(1);
      for (const auto& poll : polls_) deadline = std::min(deadline, poll->deadline);
      clock_.wait_until(lock, cv_, deadline,
                        [&] { return stopping_ || !incoming_.empty() || !woken_.empty(); });
      incoming.swap(incoming_);
      woken.swap(woken_);
      stopping = stopping_;
    }
    for (auto& poll : incoming) {
      for (const auto& channel : poll->channels) watch(channel);
      polls_.push_back(std::move(poll));
    }
    try_due(woken, stopping);
    if (stopping) {
      watches_.clear();
      return;
    }
  }
}

}  // namespace berth::coderd
