#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

#include "common/time.hpp"

namespace berth {

using SteadyTime = std::chrono::steady_clock::time_point;

// The source of time: injected everywhere so that tests control it.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall time, for timestamps users see.
  virtual TimePoint now() const = 0;
  // Monotonic time, for deadlines and durations.
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;
  // Waits on `cv` until `done()` holds or this clock's steady time reaches `deadline`; `lock`
  // holds cv's mutex on entry and on return. Returns done(): false means the deadline came.
  // Whoever makes done() true notifies `cv`, as with any condition variable.
  virtual bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          SteadyTime deadline, const std::function<bool()>& done) const = 0;
  // The same, `d` of steady time from now.
  bool wait_for(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                std::chrono::steady_clock::duration d, const std::function<bool()>& done) const {
    return wait_until(lock, cv, steady_now() + d, done);
  }
};

// The real clock.
class SystemClock final : public Clock {
 public:
  TimePoint now() const override;
  std::chrono::steady_clock::time_point steady_now() const override;
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  SteadyTime deadline, const std::function<bool()>& done) const override;
};

// A clock that moves only when a test advances it; a wait on it ends when advance() or set()
// reaches its deadline. Never call advance() or set() holding a mutex that a waiter waits with.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start);
  TimePoint now() const override;
  std::chrono::steady_clock::time_point steady_now() const override;
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  SteadyTime deadline, const std::function<bool()>& done) const override;
  // Moves wall and steady time forward, then wakes the waiters whose deadline that reached.
  void advance(std::chrono::microseconds d);
  // Sets wall time; steady time follows forward moves only.
  void set(TimePoint t);

  // Blocks, for at most `limit` of real time, until some thread waits on this clock for
  // exactly `deadline`: from then on, an advance() to it wakes that thread. False on timeout.
  bool await_waiter(SteadyTime deadline,
                    std::chrono::milliseconds limit = std::chrono::seconds(20)) const;
  // How many threads wait on this clock now.
  std::size_t waiters() const;

 private:
  struct Waiter;
  // With mutex_ held on entry, released on return: notifies the waiters whose deadline came.
  void wake_due(std::unique_lock<std::mutex>& guard);

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;  // a waiter came, left or was released by advance()
  TimePoint now_;
  SteadyTime steady_;
  mutable std::vector<Waiter*> waiters_;
};

}  // namespace berth
