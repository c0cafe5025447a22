#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.hpp"

namespace berth::http {

// Counts requests per key (a user or an address, and an endpoint) in a sliding window: the
// previous fixed window's count, weighted by how much of it the sliding window still covers,
// plus the current one's, as go-chi/httprate (Coder's limiter) does. Memory is bounded: at
// most `max_keys` counters, stale ones dropped first.
class RateLimiter {
 public:
  // What one request was told.
  struct Decision {
    bool allowed = true;
    std::int64_t limit = 0;
    std::int64_t remaining = 0;        // requests left in the window after this one
    TimePoint reset;                   // when the current fixed window ends
    std::chrono::seconds retry_after;  // when refused: how long to wait, at least 1 s
  };

  RateLimiter(const Clock& clock, std::int64_t limit, std::chrono::seconds window,
              std::size_t max_keys = 100'000);

  // Counts a request for `key` unless that would exceed the limit.
  Decision hit(std::string_view key);

  std::int64_t limit() const { return limit_; }
  std::chrono::seconds window() const { return window_; }
  // Counters held now (for tests of the bound).
  std::size_t size() const;

 private:
  struct Counter {
    std::int64_t window_index = 0;
    std::int64_t current = 0;
    std::int64_t previous = 0;
  };
  // Keys are spread over shards so that concurrent requests rarely share a mutex.
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Counter> counters;
  };
  static constexpr std::size_t kShards = 16;

  void make_room(Shard& shard, std::int64_t window_index);

  const Clock& clock_;
  std::int64_t limit_;
  std::chrono::seconds window_;
  std::size_t max_keys_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace berth::http
