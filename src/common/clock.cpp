#include "common/clock.hpp"

namespace berth {

TimePoint SystemClock::now() const {
  return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

std::chrono::steady_clock::time_point SystemClock::steady_now() const {
  return std::chrono::steady_clock::now();
}

ManualClock::ManualClock(TimePoint start) : now_(start), steady_() {}

TimePoint ManualClock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

std::chrono::steady_clock::time_point ManualClock::steady_now() const {
  std::lock_guard lock(mutex_);
  return steady_;
}

void ManualClock::advance(std::chrono::microseconds d) {
  std::lock_guard lock(mutex_);
  now_ += d;
  steady_ += d;
}

void ManualClock::set(TimePoint t) {
  std::lock_guard lock(mutex_);
  if (t > now_) steady_ += t - now_;
  now_ = t;
}

}  // namespace berth
