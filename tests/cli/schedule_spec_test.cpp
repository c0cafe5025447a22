// The schedule and duration forms `create --start-at`, `schedule start|stop|extend` accept.
#include "cli/schedule_spec.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace berth::cli {
namespace {

TEST(ParseStartAt, TurnsHumanFormsIntoCronTz) {
  struct Case {
    const char* text;
    const char* cron;
  } cases[] = {
      {"Mon-Fri 09:00 Europe/Berlin", "CRON_TZ=Europe/Berlin 0 9 * * Mon-Fri"},
      {"09:30 Mon-Fri Europe/Dublin", "CRON_TZ=Europe/Dublin 30 9 * * Mon-Fri"},
      {"9:30PM Sat,Sun UTC", "CRON_TZ=UTC 30 21 * * Sat,Sun"},
      {"12am UTC", "CRON_TZ=UTC 0 0 * * *"},
      {"CRON_TZ=Europe/Berlin 0 9 * * 1-5", "CRON_TZ=Europe/Berlin 0 9 * * 1-5"},
      {"manual", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_start_at(c.text), c.cron) << c.text;
}

TEST(ParseStartAt, RejectsWhatIsNotASchedule) {
  for (const char* text : {"", "Mon-Fri", "25:00 UTC", "09:00 10:00", "09:00 Someday"})
    EXPECT_THROW(parse_start_at(text), Error) << text;
}

TEST(ParseDuration, ReadsGoStyleDurations) {
  using namespace std::chrono;
  EXPECT_EQ(parse_duration("8h"), hours(8));
  EXPECT_EQ(parse_duration("1h30m"), minutes(90));
  EXPECT_EQ(parse_duration("45s"), seconds(45));
  EXPECT_EQ(parse_duration("2d"), hours(48));
  for (const char* text : {"", "8", "h", "8x", "0h"})
    EXPECT_THROW(parse_duration(text), Error) << text;
}

TEST(DescribeSchedule, PrintsTimeDaysAndZone) {
  EXPECT_EQ(describe_schedule("CRON_TZ=Europe/Berlin 0 9 * * Mon-Fri"),
            "09:00 Mon-Fri (Europe/Berlin)");
  EXPECT_EQ(describe_schedule(""), "-");
}

}  // namespace
}  // namespace berth::cli
