#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.hpp"

namespace berth::coderd {

// A weekly autostart schedule in Coder's cron form: an optional `CRON_TZ=<zone> ` prefix and
// five fields `minute hour * * day-of-week` (lists, ranges, steps and day names allowed).
class WeeklySchedule {
 public:
  // Throws Error{invalid} with Coder's parser wording when the text is not such a schedule.
  static WeeklySchedule parse(std::string_view text);

  // A quiet-hours schedule: daily (`* * *` for day-of-month, month and day-of-week) at a
  // single time of day. Throws Error{invalid} with the reason.
  static WeeklySchedule parse_daily(std::string_view text);

  // The first occurrence strictly after `after`, evaluated in the schedule's zone (so daylight
  // saving changes move it in UTC), or nullopt if none within `within`.
  std::optional<TimePoint> next(TimePoint after,
                                std::chrono::hours within = std::chrono::hours(24 * 8)) const;

  // The day of the week (0 = Sunday) at `t` in the schedule's zone.
  int weekday_at(TimePoint t) const;

  const std::string& zone() const { return zone_; }
  // "HH:MM" of the first time of day the schedule fires.
  std::string time_of_day() const;

 private:
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<7> weekdays_;  // 0 = Sunday
  std::string zone_ = "UTC";
};

// Coder's default quiet hours (what every user of its open-source build gets): midnight UTC.
inline constexpr const char* kDefaultQuietHoursSchedule = "CRON_TZ=UTC 0 0 * * *";

// Weeks of an autostop requirement are counted from this Monday (2023-01-02), in the quiet
// hours' zone; "every N weeks" means weeks whose number is a multiple of N.
inline constexpr int kAutostopRequirementMaxWeeks = 16;

// The latest a build completed at `now` may run under a template's autostop requirement
// (`days`: weekday names, `weeks`: 1..16) and its owner's quiet hours, by Coder's rule: the
// first quiet-hours start on a required day (of a required week), skipping today's when it
// is less than 2 hours away, and at least an hour after `now`. nullopt without required days.
std::optional<TimePoint> autostop_requirement_deadline(const WeeklySchedule& quiet_hours,
                                                       const std::vector<std::string>& days,
                                                       std::int64_t weeks, TimePoint now);

}  // namespace berth::coderd
