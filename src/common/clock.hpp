#pragma once

#include <chrono>
#include <mutex>

#include "common/time.hpp"

namespace berth {

// The source of time: injected everywhere so that tests control it.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall time, for timestamps users see.
  virtual TimePoint now() const = 0;
  // Monotonic time, for deadlines and durations.
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;
};

// The real clock.
class SystemClock final : public Clock {
 public:
  TimePoint now() const override;
  std::chrono::steady_clock::time_point steady_now() const override;
};

// A clock that moves only when a test advances it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start);
  TimePoint now() const override;
  std::chrono::steady_clock::time_point steady_now() const override;
  void advance(std::chrono::microseconds d);
  void set(TimePoint t);

 private:
  mutable std::mutex mutex_;
  TimePoint now_;
  std::chrono::steady_clock::time_point steady_;
};

}  // namespace berth
