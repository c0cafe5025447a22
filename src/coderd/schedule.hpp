#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.hpp"

namespace berth::coderd {

// A weekly autostart schedule in Coder's cron form: an optional `CRON_TZ=<zone> ` prefix and
// five fields `minute hour * * day-of-week` (lists, ranges, steps and day names allowed).
class WeeklySchedule {
 public:
  // Throws Error{invalid} with Coder's parser wording when the text is not such a schedule.
  static WeeklySchedule parse(std::string_view text);

  // The first occurrence strictly after `after`, evaluated in the schedule's zone (so daylight
  // saving changes move it in UTC), or nullopt if none within `within`.
  std::optional<TimePoint> next(TimePoint after,
                                std::chrono::hours within = std::chrono::hours(24 * 8)) const;

  // The day of the week (0 = Sunday) at `t` in the schedule's zone.
  int weekday_at(TimePoint t) const;

  const std::string& zone() const { return zone_; }

 private:
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<7> weekdays_;  // 0 = Sunday
  std::string zone_ = "UTC";
};

}  // namespace berth::coderd
