#include "common/clock.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace berth {
namespace {

using namespace std::chrono_literals;

TimePoint start_time() {
  return from_unix_micros(1'700'000'000'000'000LL);
}

// One thread waiting on a ManualClock until `deadline` or until poked.
class Sleeper {
 public:
  Sleeper(const ManualClock& clock, SteadyTime deadline)
      : thread_([this, &clock, deadline] {
          std::unique_lock lock(mutex_);
          result_ = clock.wait_until(lock, cv_, deadline, [this] { return poked_; });
          returned_ = true;
        }) {}
  ~Sleeper() {
    poke();
    thread_.join();
  }
  void poke() {
    {
      std::lock_guard lock(mutex_);
      poked_ = true;
    }
    cv_.notify_all();
  }
  // Waits for the thread to return from wait_until; its result.
  bool result() {
    thread_.join();
    thread_ = std::thread([] {});
    return result_;
  }
  bool returned() {
    std::lock_guard lock(mutex_);
    return returned_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool poked_ = false;
  bool returned_ = false;
  bool result_ = false;
  std::thread thread_;
};

TEST(ManualClock, AdvanceMovesWallAndSteadyTimeTogether) {
  ManualClock clock(start_time());
  auto steady = clock.steady_now();
  clock.advance(90s);
  EXPECT_EQ(clock.now(), start_time() + 90s);
  EXPECT_EQ(clock.steady_now(), steady + 90s);
  clock.set(start_time() + 100s);
  EXPECT_EQ(clock.steady_now(), steady + 100s);
  clock.set(start_time());  // wall time may go back; steady time never does
  EXPECT_EQ(clock.now(), start_time());
  EXPECT_EQ(clock.steady_now(), steady + 100s);
}

TEST(ManualClock, AWaiterWakesWhenAdvanceReachesItsDeadlineAndNotBefore) {
  ManualClock clock(start_time());
  auto deadline = clock.steady_now() + 10s;
  Sleeper sleeper(clock, deadline);
  ASSERT_TRUE(clock.await_waiter(deadline));
  clock.advance(10s - 1us);
  // advance() notifies only the waiters it made due: this one was not woken.
  EXPECT_FALSE(sleeper.returned());
  EXPECT_EQ(clock.waiters(), 1u);
  clock.advance(1us);
  EXPECT_FALSE(sleeper.result());  // the deadline came, not the predicate
  EXPECT_EQ(clock.waiters(), 0u);
}

TEST(ManualClock, SetForwardReachesADeadline) {
  ManualClock clock(start_time());
  auto deadline = clock.steady_now() + 1h;
  Sleeper sleeper(clock, deadline);
  ASSERT_TRUE(clock.await_waiter(deadline));
  clock.set(start_time() + 1h);
  EXPECT_FALSE(sleeper.result());
}

TEST(ManualClock, ThePredicateEndsTheWaitWithoutTimeMoving) {
  ManualClock clock(start_time());
  auto deadline = clock.steady_now() + 10s;
  Sleeper sleeper(clock, deadline);
  ASSERT_TRUE(clock.await_waiter(deadline));
  sleeper.poke();
  EXPECT_TRUE(sleeper.result());
  EXPECT_EQ(clock.now(), start_time());
}

TEST(ManualClock, ADeadlineAlreadyPastReturnsAtOnce) {
  ManualClock clock(start_time());
  std::mutex m;
  std::condition_variable cv;
  std::unique_lock lock(m);
  EXPECT_FALSE(clock.wait_until(lock, cv, clock.steady_now(), [] { return false; }));
  EXPECT_TRUE(clock.wait_for(lock, cv, 0s, [] { return true; }));
  EXPECT_TRUE(lock.owns_lock());
  EXPECT_EQ(clock.waiters(), 0u);
}

TEST(ManualClock, AwaitWaiterTimesOutWhenNobodyWaits) {
  ManualClock clock(start_time());
  EXPECT_FALSE(clock.await_waiter(clock.steady_now() + 1s, 1ms));
}

TEST(ManualClock, WaitersSharingAMutexAndConditionWakeOneDeadlineAtATime) {
  ManualClock clock(start_time());
  std::mutex m;
  std::condition_variable cv;
  std::condition_variable woke_cv;
  std::vector<int> woke;  // guarded by m
  std::vector<std::thread> threads;
  auto t0 = clock.steady_now();
  for (int i = 3; i >= 1; --i)
    threads.emplace_back([&, i] {
      std::unique_lock lock(m);
      EXPECT_FALSE(clock.wait_until(lock, cv, t0 + i * 1s, [] { return false; }));
      woke.push_back(i);
      woke_cv.notify_all();
    });
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(clock.await_waiter(t0 + i * 1s));
  for (int i = 1; i <= 3; ++i) {
    clock.advance(1s);
    std::unique_lock lock(m);
    ASSERT_TRUE(woke_cv.wait_for(lock, 20s, [&] { return woke.size() == std::size_t(i); }));
    EXPECT_EQ(woke.back(), i);
    EXPECT_EQ(clock.waiters(), std::size_t(3 - i));
  }
  for (auto& t : threads) t.join();
}

// Waiters whose mutex and condition variable live on their own stacks (so they go away as soon
// as the wait returns), some woken by time and some by a predicate, reading the clock while
// they hold their mutex, against several threads advancing at once. The advances stop at a
// fixed total, so a lost wake-up leaves its waiter hanging, and the round fails.
TEST(ManualClock, ConcurrentWaitersAndAdvancesNeitherDeadlockNorLoseWakeUps) {
  constexpr int kRounds = 2000;
  constexpr int kWaiters = 4;
  constexpr int kAdvancers = 2;
  constexpr int kStepsEach = 2;
  for (int round = 0; round < kRounds; ++round) {
    ManualClock clock(start_time());
    auto t0 = clock.steady_now();
    std::mutex done_mutex;
    std::condition_variable done_cv;
    int done = 0;
    std::atomic<bool> poke{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < kWaiters; ++i) {
      threads.emplace_back([&, i] {
        std::mutex m;
        std::condition_variable cv;
        std::unique_lock lock(m);
        // Odd waiters also accept a poke, which may come first; every deadline is reached.
        auto deadline = t0 + (1 + i % (kAdvancers * kStepsEach)) * 1ms;
        clock.wait_until(lock, cv, deadline, [&] {
          // Between its reading of the time and its wait, a waiter runs the predicate: a yield
          // here widens the window in which an advance() could otherwise be missed.
          (void)clock.now();
          std::this_thread::yield();
          return i % 2 == 1 && poke.load();
        });
        lock.unlock();
        {
          std::lock_guard g(done_mutex);
          ++done;
        }
        done_cv.notify_all();
      });
    }
    for (int a = 0; a < kAdvancers; ++a)
      threads.emplace_back([&] {
        for (int s = 0; s < kStepsEach; ++s) clock.advance(1ms);
      });
    // The poke needs no notification to be seen: the odd waiters' deadlines come anyway.
    threads.emplace_back([&] { poke = true; });
    std::unique_lock lock(done_mutex);
    bool all = done_cv.wait_for(lock, 20s, [&] { return done == kWaiters; });
    lock.unlock();
    if (!all) {
      ADD_FAILURE() << "round " << round << ": " << kWaiters - done
                    << " waiter(s) missed the wake-up";
      clock.advance(1h);  // a lost wake-up is released by the next advance
    }
    for (auto& t : threads) t.join();
    ASSERT_TRUE(all);
    EXPECT_EQ(clock.waiters(), 0u);
    EXPECT_EQ(clock.steady_now(), t0 + kAdvancers * kStepsEach * 1ms);
  }
}

}  // namespace
}  // namespace berth
