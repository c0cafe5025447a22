#include "http/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace berth::http {
namespace {

using namespace std::chrono_literals;

// Starts exactly at a window boundary, so that offsets into windows are exact.
TimePoint window_start() {
  return from_unix_micros(1'700'000'040'000'000LL);  // a multiple of 60 s
}

int allowed(RateLimiter& limiter, const std::string& key, int tries) {
  int n = 0;
  for (int i = 0; i < tries; ++i) n += limiter.hit(key).allowed ? 1 : 0;
  return n;
}

TEST(RateLimiter, AllowsTheLimitInAWindowThenRefusesUntilItEnds) {
  ManualClock clock(window_start());
  RateLimiter limiter(clock, 5, 60s);
  for (int i = 0; i < 5; ++i) {
    auto d = limiter.hit("user");
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 4 - i);
    EXPECT_EQ(d.limit, 5);
  }
  clock.advance(20s);
  auto refused = limiter.hit("user");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after, 40s);
  EXPECT_EQ(refused.reset, window_start() + 60s);
  // Another key has its own count.
  EXPECT_TRUE(limiter.hit("other").allowed);
}

TEST(RateLimiter, WeighsThePreviousWindowByHowMuchOfItIsStillCovered) {
  ManualClock clock(window_start());
  RateLimiter limiter(clock, 10, 60s);
  EXPECT_EQ(allowed(limiter, "k", 10), 10);
  // Half-way into the next window, half of the previous 10 still count.
  clock.advance(90s);
  EXPECT_EQ(allowed(limiter, "k", 10), 5);
  // Two windows on, nothing of the first counts and 5 of the second's weigh nothing either.
  clock.advance(90s);
  EXPECT_EQ(allowed(limiter, "k", 20), 10);
}

TEST(RateLimiter, RetryAfterIsAtLeastOneSecond) {
  ManualClock clock(window_start());
  RateLimiter limiter(clock, 1, 60s);
  EXPECT_TRUE(limiter.hit("k").allowed);
  clock.advance(59s + 999ms);
  EXPECT_EQ(limiter.hit("k").retry_after, 1s);
}

TEST(RateLimiter, KeepsAtMostMaxKeysCounters) {
  ManualClock clock(window_start());
  RateLimiter limiter(clock, 100, 60s, 32);
  for (int i = 0; i < 5000; ++i) limiter.hit("key-" + std::to_string(i));
  EXPECT_LE(limiter.size(), 32u);
  // Stale counters go first: two windows later only fresh keys remain.
  clock.advance(180s);
  for (int i = 0; i < 16; ++i) limiter.hit("fresh-" + std::to_string(i));
  EXPECT_LE(limiter.size(), 32u);
}

TEST(RateLimiter, CountsExactlyUnderConcurrentHits) {
  ManualClock clock(window_start());
  RateLimiter limiter(clock, 1000, 60s);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i)
        if (limiter.hit("shared").allowed) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1000);
}

}  // namespace
}  // namespace berth::http
