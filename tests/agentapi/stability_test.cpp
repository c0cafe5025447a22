#include "agentapi/stability.hpp"

#include <gtest/gtest.h>

#include "common/clock.hpp"

namespace berth::agentapi {
namespace {

using std::chrono::milliseconds;

TEST(StabilityTracker, IsNotStableBeforeAnySnapshot) {
  ManualClock clock(TimePoint{});
  StabilityTracker tracker(milliseconds(1000));
  EXPECT_FALSE(tracker.stable(clock.steady_now()));
}

TEST(StabilityTracker, BecomesStableOnceUnchangedForTheWindow) {
  ManualClock clock(TimePoint{});
  StabilityTracker tracker(milliseconds(1000));
  EXPECT_TRUE(tracker.observe("a", clock.steady_now()));
  clock.advance(milliseconds(999));
  EXPECT_FALSE(tracker.observe("a", clock.steady_now()));
  EXPECT_FALSE(tracker.stable(clock.steady_now()));
  clock.advance(milliseconds(1));
  EXPECT_TRUE(tracker.stable(clock.steady_now()));
}

TEST(StabilityTracker, ChangeRestartsTheWindow) {
  ManualClock clock(TimePoint{});
  StabilityTracker tracker(milliseconds(1000));
  tracker.observe("a", clock.steady_now());
  clock.advance(milliseconds(1500));
  EXPECT_TRUE(tracker.stable(clock.steady_now()));
  EXPECT_TRUE(tracker.observe("b", clock.steady_now()));
  EXPECT_FALSE(tracker.stable(clock.steady_now()));
  clock.advance(milliseconds(1000));
  EXPECT_TRUE(tracker.stable(clock.steady_now()));
}

TEST(StabilityTracker, TouchRestartsTheWindowWithoutAChange) {
  ManualClock clock(TimePoint{});
  StabilityTracker tracker(milliseconds(500));
  tracker.observe("a", clock.steady_now());
  clock.advance(milliseconds(600));
  tracker.touch(clock.steady_now());
  EXPECT_FALSE(tracker.stable(clock.steady_now()));
  clock.advance(milliseconds(500));
  EXPECT_TRUE(tracker.stable(clock.steady_now()));
}

}  // namespace
}  // namespace berth::agentapi
