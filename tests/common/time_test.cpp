#include "common/time.hpp"

#include <gtest/gtest.h>

namespace berth {
namespace {

using namespace std::chrono;

TEST(Rfc3339, FormatsUtcWithTrimmedMicroseconds) {
  TimePoint t = sys_days{2024y / 5 / 1} + 12h + 34min + 56s + 120000us;
  EXPECT_EQ(format_rfc3339(t), "2024-05-01T12:34:56.12Z");
  EXPECT_EQ(format_rfc3339(sys_days{2024y / 5 / 1} + 0us), "2024-05-01T00:00:00Z");
}

TEST(Rfc3339, ParsesOffsetsAndFractions) {
  auto t = parse_rfc3339("2024-05-01T14:34:56.123456789+02:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2024-05-01T12:34:56.123456Z");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("1970-01-01T00:00:00Z")), "1970-01-01T00:00:00Z");
}

TEST(Rfc3339, RejectsMalformedText) {
  for (const char* bad :
       {"", "2024-05-01", "2024-13-01T00:00:00Z", "2024-05-01T00:00:00", "2024-05-01T00:00:00.Z",
        "2024-05-01T25:00:00Z", "2024-05-01T00:00:00+0200", "2024-02-30T00:00:00Z",
        "2024-05-01T00:00:00Zjunk"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(Rfc3339, RoundTripsUnixMicros) {
  TimePoint t = from_unix_micros(1'700'000'000'123'456);
  EXPECT_EQ(to_unix_micros(*parse_rfc3339(format_rfc3339(t))), 1'700'000'000'123'456);
}

}  // namespace
}  // namespace berth
