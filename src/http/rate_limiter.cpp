#include "http/rate_limiter.hpp"

#include <algorithm>
#include <functional>

namespace berth::http {

RateLimiter::RateLimiter(const Clock& clock, std::int64_t limit, std::chrono::seconds window,
                         std::size_t max_keys)
    : clock_(clock),
      limit_(limit),
      window_(std::max(window, std::chrono::seconds(1))),
      max_keys_per_shard_(std::max<std::size_t>(max_keys / kShards, 1)) {}

RateLimiter::Decision RateLimiter::hit(std::string_view key) {
  using namespace std::chrono;
  auto now = duration_cast<microseconds>(clock_.now().time_since_epoch());
  auto window = duration_cast<microseconds>(window_);
  std::int64_t index = now.count() / window.count();
  auto into_window = now - microseconds(index * window.count());
  auto& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lock(shard.mutex);
  auto it = shard.counters.find(std::string(key));
  if (it == shard.counters.end()) {
    if (shard.counters.size() >= max_keys_per_shard_) make_room(shard, index);
    it = shard.counters.emplace(std::string(key), Counter{index, 0, 0}).first;
  }
  auto& c = it->second;
  if (c.window_index != index) {
    c.previous = c.window_index == index - 1 ? c.current : 0;
    c.current = 0;
    c.window_index = index;
  }
  // The part of the previous window the sliding window still covers.
  double weight = double((window - into_window).count()) / double(window.count());
  double rate = double(c.previous) * weight + double(c.current);
  Decision d;
  d.limit = limit_;
  d.reset = TimePoint(microseconds((index + 1) * window.count()));
  auto left = window - into_window;
  d.retry_after = std::max(seconds(1), duration_cast<seconds>(left + seconds(1) - microseconds(1)));
  if (rate + 1 > double(limit_)) {
    d.allowed = false;
    d.remaining = 0;
    return d;
  }
  ++c.current;
  d.remaining = std::max<std::int64_t>(0, limit_ - std::int64_t(rate) - 1);
  return d;
}

void RateLimiter::make_room(Shard& shard, std::int64_t window_index) {
  // Counters two windows old no longer weigh anything.
  std::erase_if(shard.counters,
                [&](const auto& entry) { return entry.second.window_index < window_index - 1; });
  // Still full: forget one (a key that floods the table gains at most one fresh window).
  if (shard.counters.size() >= max_keys_per_shard_) shard.counters.erase(shard.counters.begin());
}

std::size_t RateLimiter::size() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    n += shard.counters.size();
  }
  return n;
}

}  // namespace berth::http
