#include "common/clock.hpp"

#include <algorithm>

namespace berth {

TimePoint SystemClock::now() const {
  return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

std::chrono::steady_clock::time_point SystemClock::steady_now() const {
  return std::chrono::steady_clock::now();
}

bool SystemClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             SteadyTime deadline, const std::function<bool()>& done) const {
  return cv.wait_until(lock, deadline, done);
}

// One thread inside ManualClock::wait_until. `pins` counts the advance() calls that are about
// to notify through it: the waiter may not leave (and take its mutex and cv away) before they
// are done.
struct ManualClock::Waiter {
  std::mutex* mutex;
  std::condition_variable* cv;
  SteadyTime deadline;
  int pins = 0;
};

ManualClock::ManualClock(TimePoint start) : now_(start), steady_() {}

TimePoint ManualClock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

std::chrono::steady_clock::time_point ManualClock::steady_now() const {
  std::lock_guard lock(mutex_);
  return steady_;
}

// Lock order: a waiter's own mutex, then mutex_. advance() therefore never holds mutex_ while
// it takes a waiter's mutex; pins keep the waiter in place in between.
bool ManualClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             SteadyTime deadline, const std::function<bool()>& done) const {
  Waiter self{lock.mutex(), &cv, deadline};
  for (;;) {
    {
      std::lock_guard guard(mutex_);
      waiters_.push_back(&self);
    }
    changed_.notify_all();
    // advance() moves time under mutex_, then takes our mutex to notify: it cannot slip in
    // between this reading of the time and the wait, which releases our mutex.
    bool result;
    for (;;) {
      bool due = steady_now() >= deadline;
      if ((result = done()) || due) break;
      cv.wait(lock);
    }
    std::unique_lock guard(mutex_);
    if (self.pins == 0) {
      std::erase(waiters_, &self);
      guard.unlock();
      changed_.notify_all();
      return result;
    }
    // An advance() is on its way to notify us and needs our mutex to do it.
    guard.unlock();
    lock.unlock();
    guard.lock();
    changed_.wait(guard, [&] { return self.pins == 0; });
    std::erase(waiters_, &self);
    guard.unlock();
    changed_.notify_all();
    lock.lock();
    if (done()) return true;
    if (steady_now() >= deadline) return false;
  }
}

void ManualClock::advance(std::chrono::microseconds d) {
  std::unique_lock guard(mutex_);
  now_ += d;
  steady_ += d;
  wake_due(guard);
}

void ManualClock::set(TimePoint t) {
  std::unique_lock guard(mutex_);
  if (t > now_) steady_ += t - now_;
  now_ = t;
  wake_due(guard);
}

void ManualClock::wake_due(std::unique_lock<std::mutex>& guard) {
  std::vector<Waiter*> due;
  for (auto* w : waiters_)
    if (w->deadline <= steady_) {
      ++w->pins;
      due.push_back(w);
    }
  guard.unlock();
  if (due.empty()) return;
  for (auto* w : due) {
    std::lock_guard lock(*w->mutex);
    w->cv->notify_all();
  }
  guard.lock();
  for (auto* w : due) --w->pins;
  guard.unlock();
  changed_.notify_all();
}

bool ManualClock::await_waiter(SteadyTime deadline, std::chrono::milliseconds limit) const {
  std::unique_lock guard(mutex_);
  return changed_.wait_for(guard, limit, [&] {
    return std::any_of(waiters_.begin(), waiters_.end(),
                       [&](const Waiter* w) { return w->deadline == deadline; });
  });
}

std::size_t ManualClock::waiters() const {
  std::lock_guard guard(mutex_);
  return waiters_.size();
}

}  // namespace berth
