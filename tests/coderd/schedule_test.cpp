#include "coderd/schedule.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace berth::coderd {
namespace {

TimePoint at(const char* rfc3339) {
  return *parse_rfc3339(rfc3339);
}

// Found with fuzz/fuzz_schedule (UBSan): stepping past the last value of a field by a step near
// INT_MAX overflowed an int.
TEST(WeeklySchedule, AStepNearIntMaxTakesOnlyTheFirstValue) {
  auto s = WeeklySchedule::parse("1/2147483647 * * * *");
  EXPECT_EQ(s.time_of_day(), "00:01");
  EXPECT_EQ(s.next(at("2024-01-01T00:01:00Z")), at("2024-01-01T01:01:00Z"));
  // Only Monday (2024-01-01 is one) in the day-of-week field.
  auto monday = WeeklySchedule::parse("30 9 * * 1/2147483647");
  EXPECT_EQ(monday.next(at("2024-01-01T10:00:00Z")), at("2024-01-08T09:30:00Z"));
  EXPECT_THROW(WeeklySchedule::parse("1/2147483648 * * * *"), Error);
}

}  // namespace
}  // namespace berth::coderd
